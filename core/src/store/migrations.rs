//! Forward-only schema migrations, versioned by `PRAGMA user_version`.
//!
//! Owns: the ordered list of migrations (one `.sql` file each, beside this module) and the runner
//! that brings a database from any older version to the newest. Does not own opening or keying the
//! database (see `store`). A migration, once released, is never edited: add a new file instead.

use rusqlite::Connection;

use super::StoreError;

/// One schema step: applying `sql` to a database at `version - 1` gives `version`.
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! migration {
    ($version:expr, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("migrations/", $name, ".sql")),
        }
    };
}

/// Every migration, oldest first. Versions are contiguous from 1.
pub const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_meta"),
    migration!(2, "0002_outbox"),
    migration!(3, "0003_outbox_leases"),
    migration!(4, "0004_device_keys"),
    migration!(5, "0005_wallet_pin"),
    migration!(6, "0006_wallet_history"),
    migration!(7, "0007_wallet_credentials"),
    migration!(8, "0008_wallet_remote_requests"),
    migration!(9, "0009_checkin_diary"),
    migration!(10, "0010_health_certificates"),
    migration!(11, "0011_dossier_catalogue"),
    migration!(12, "0012_checkin_venues"),
    migration!(13, "0013_dossier_drafts"),
    migration!(14, "0014_tus_uploads"),
    migration!(15, "0015_dossier_submissions"),
    migration!(16, "0016_dossier_tracking"),
];

/// The schema version this build writes.
pub fn latest_version() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

pub(crate) fn current_version(conn: &Connection) -> Result<u32, StoreError> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

/// Brings the database to [`latest_version`]; returns the version it was at before.
pub(crate) fn migrate(conn: &mut Connection) -> Result<u32, StoreError> {
    migrate_to(conn, MIGRATIONS, latest_version())
}

/// Applies each pending migration of `migrations` up to `target`, each in its own transaction, so
/// a crash leaves the database at the last version that fully applied.
///
/// Foreign keys are off while migrations run, because rebuilding a table (SQLite's way to change
/// a constraint) would otherwise cascade or fail half-way; instead each migration must leave
/// `PRAGMA foreign_key_check` empty before it commits. They are switched back on afterwards,
/// whatever happened.
pub(crate) fn migrate_to(
    conn: &mut Connection,
    migrations: &[Migration],
    target: u32,
) -> Result<u32, StoreError> {
    let found = current_version(conn)?;
    let supported = migrations.last().map_or(0, |m| m.version);
    if found > supported {
        // A newer app wrote this database (the user downgraded). Refuse rather than guess.
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    if found >= target {
        return Ok(found);
    }
    conn.pragma_update(None, "foreign_keys", false)?;
    let applied = apply_pending(conn, migrations, found, target);
    let restored = conn.pragma_update(None, "foreign_keys", true);
    applied?;
    restored?;
    Ok(found)
}

fn apply_pending(
    conn: &mut Connection,
    migrations: &[Migration],
    found: u32,
    target: u32,
) -> Result<(), StoreError> {
    for migration in migrations
        .iter()
        .filter(|m| m.version > found && m.version <= target)
    {
        let failed = |source| StoreError::Migration {
            version: migration.version,
            source,
        };
        let tx = conn.transaction().map_err(failed)?;
        tx.execute_batch(migration.sql).map_err(failed)?;
        let violations = foreign_key_violations(&tx).map_err(failed)?;
        if violations > 0 {
            // Dropping the transaction rolls the migration back.
            return Err(StoreError::MigrationForeignKeys {
                version: migration.version,
                violations,
            });
        }
        tx.pragma_update(None, "user_version", migration.version)
            .map_err(failed)?;
        tx.commit().map_err(failed)?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applied migration"
        );
    }
    Ok(())
}

fn foreign_key_violations(conn: &Connection) -> Result<usize, rusqlite::Error> {
    let mut check = conn.prepare("PRAGMA foreign_key_check")?;
    let mut rows = check.query([])?;
    let mut count = 0;
    while rows.next()?.is_some() {
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::SoftwareSealer;
    use crate::store::Store;
    use std::sync::Arc;

    fn schema(conn: &Connection) -> Vec<(String, String, String, Option<String>)> {
        let mut stmt = conn
            .prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn versions_are_contiguous_from_one() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version as usize, index + 1, "{}", migration.name);
            assert!(
                migration
                    .name
                    .starts_with(&format!("{:04}_", migration.version))
            );
        }
    }

    fn open(dir: &std::path::Path) -> Store {
        Store::open_blocking(dir, Arc::new(SoftwareSealer::in_dir(dir))).unwrap()
    }

    /// Builds a real encrypted store at every older version, upgrades it through `Store::open`,
    /// and checks the schema is exactly that of a fresh store and that older data survived.
    #[test]
    fn every_older_version_migrates_to_the_fresh_schema() {
        let fresh_dir = tempfile::tempdir().unwrap();
        let fresh = open(fresh_dir.path());
        let fresh_schema = fresh
            .read_blocking(|c| Ok::<_, StoreError>(schema(c)))
            .unwrap();
        assert!(fresh_schema.iter().any(|(_, name, _, _)| name == "outbox"));

        for old_version in 0..latest_version() {
            let dir = tempfile::tempdir().unwrap();
            let sealer = Arc::new(SoftwareSealer::in_dir(dir.path()));
            Store::create_at_version(dir.path(), sealer.clone(), old_version).unwrap();

            let upgraded = Store::open_blocking(dir.path(), sealer).unwrap();
            assert_eq!(upgraded.schema_version(), latest_version());
            let upgraded_schema = upgraded
                .read_blocking(|c| Ok::<_, StoreError>(schema(c)))
                .unwrap();
            assert_eq!(
                upgraded_schema, fresh_schema,
                "migrated from v{old_version}"
            );
            if old_version >= 1 {
                let kept = upgraded
                    .read_blocking(|c| crate::store::meta::get(c, "written_at_version"))
                    .unwrap();
                assert_eq!(kept.as_deref(), Some(old_version.to_string().as_str()));
            }
            let foreign_keys: i64 = upgraded
                .read_blocking(|c| {
                    Ok::<_, StoreError>(c.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?)
                })
                .unwrap();
            assert_eq!(foreign_keys, 1, "foreign keys are back on after migrating");
        }
    }

    /// Outbox rows written at schema v2 survive the table rebuild of v3 with their meaning.
    #[test]
    fn outbox_rows_survive_the_lease_migration() {
        let dir = tempfile::tempdir().unwrap();
        let sealer = Arc::new(SoftwareSealer::in_dir(dir.path()));
        Store::create_at_version(dir.path(), sealer.clone(), 2).unwrap();
        {
            let (_, conn, _) =
                crate::store::open_keyed_connection(dir.path(), sealer.as_ref()).unwrap();
            conn.execute_batch(
                "INSERT INTO outbox (idempotency_key, kind, payload, state, attempts, next_attempt_at, created_at)
                 VALUES ('a', 'k', x'01', 'queued', 0, 5, 1),
                        ('b', 'k', x'02', 'in_flight', 2, 5, 1),
                        ('c', 'k', x'03', 'failed', 9, 5, 1),
                        ('d', 'k', x'04', 'delivered', 1, 5, 1);",
            )
            .unwrap();
        }
        let store = Store::open_blocking(dir.path(), sealer).unwrap();
        let rows: Vec<(String, String, Option<String>)> = store
            .read_blocking(|c| {
                let mut q = c.prepare(
                    "SELECT idempotency_key, state, parked_reason FROM outbox ORDER BY idempotency_key",
                )?;
                let rows = q
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok::<_, StoreError>(rows)
            })
            .unwrap();
        assert_eq!(
            rows,
            vec![
                ("a".into(), "queued".into(), None),
                // A send interrupted by the upgrade is due again, not stranded.
                ("b".into(), "queued".into(), None),
                ("c".into(), "parked".into(), Some("unknown".into())),
                ("d".into(), "delivered".into(), None),
            ]
        );
    }

    /// Diary entries written at schema v11 (each repeating its venue) survive the venue table of
    /// v12 with their ids, venues, times, flags and tickets; entries at the same venue as the
    /// same code stated it share one venue row, a renamed venue gets a row of its own, and
    /// matches still find their entry and its venue's name.
    #[test]
    fn diary_entries_survive_the_venue_migration() {
        use crate::checkin::diary;
        use crate::checkin::wire::{TicketState, VenueKind};

        let dir = tempfile::tempdir().unwrap();
        let sealer = Arc::new(SoftwareSealer::in_dir(dir.path()));
        Store::create_at_version(dir.path(), sealer.clone(), 11).unwrap();
        {
            let (_, conn, _) =
                crate::store::open_keyed_connection(dir.path(), sealer.as_ref()).unwrap();
            conn.execute_batch(
                "INSERT INTO checkin_diary (id, agency, venue_id, venue_name, venue_address, kind,
                     code_id, checked_in_at, auto_checkout_at, checked_out_at, hidden, ticket_key)
                 VALUES (5, 'health-dept', 'clinic-7', 'Trạm y tế', '12 Lê Lợi', 'venue',
                         x'05', 1000, 4600, 2000, 0, 'k5'),
                        (9, 'health-dept', 'clinic-7', 'Trạm y tế phường 7', '12 Lê Lợi',
                         'venue', x'09', 3000, 6600, NULL, 1, 'k9'),
                        (12, 'health-dept', 'clinic-7', 'Trạm y tế', '12 Lê Lợi', 'venue',
                         x'0c', 5000, 8600, NULL, 0, 'k12');
                 INSERT INTO checkin_diary (id, agency, venue_id, venue_name, venue_address, kind,
                     code_id, checked_in_at, auto_checkout_at, ticket_key, ticket_id,
                     ticket_number, ticket_position, ticket_state, ticket_counter,
                     ticket_poll_after, ticket_updated_at)
                 VALUES (20, 'tax-office', 'desk-1', 'Chi cục thuế', '', 'service_counter',
                         x'14', 7000, 10600, 'k20', 't-1', 'A12', 3, 'waiting', NULL, 30, 7010);
                 INSERT INTO checkin_notices
                     (id, agency, venue_id, from_at, until_at, message, iat, received_at)
                 VALUES ('n-1', 'health-dept', 'clinic-7', 4000, 6000, 'Get tested.', 3990, 4100);
                 INSERT INTO checkin_matches (id, entry_id, notice_id, matched_at)
                 VALUES (1, 12, 'n-1', 5000);",
            )
            .unwrap();
        }
        let store = Store::open_blocking(dir.path(), sealer).unwrap();
        assert_eq!(store.schema_version(), latest_version());
        let now = 5500;
        let (entries, venues, matches) = store
            .read_blocking(move |c| {
                let entries = [5, 9, 12, 20]
                    .into_iter()
                    .map(|id| diary::entry(c, id, now).map(Option::unwrap))
                    .collect::<Result<Vec<_>, _>>()?;
                let venues: i64 =
                    c.query_row("SELECT count(*) FROM checkin_venues", [], |r| r.get(0))?;
                Ok::<_, StoreError>((entries, venues, diary::matches(c)?))
            })
            .unwrap();
        assert_eq!(venues, 3, "entries 5 and 12 share their venue's row");
        let [e5, e9, e12, e20] = &entries[..] else {
            unreachable!()
        };
        for (entry, name) in [
            (e5, "Trạm y tế"),
            (e9, "Trạm y tế phường 7"),
            (e12, "Trạm y tế"),
        ] {
            assert_eq!(
                (entry.agency.as_str(), entry.venue_id.as_str()),
                ("health-dept", "clinic-7")
            );
            assert_eq!(entry.venue_name, name, "entry {}", entry.id);
            assert_eq!(entry.venue_address, "12 Lê Lợi");
            assert_eq!(entry.kind, VenueKind::Venue);
        }
        assert_eq!(
            (e5.checked_in_at, e5.auto_checkout_at, e5.checked_out),
            (1000, 4600, Some(diary::CheckOut::Manual { at: 2000 }))
        );
        assert!(e9.hidden && !e12.hidden);
        assert!(e9.is_open() && e12.is_open());
        assert_eq!(
            (
                e20.agency.as_str(),
                e20.venue_id.as_str(),
                e20.venue_name.as_str()
            ),
            ("tax-office", "desk-1", "Chi cục thuế")
        );
        assert_eq!(e20.kind, VenueKind::ServiceCounter);
        let ticket = e20.ticket.as_ref().expect("the ticket survives");
        assert_eq!(
            (
                ticket.ticket_id.as_str(),
                ticket.number.as_str(),
                ticket.position,
                ticket.state,
                ticket.poll_after,
                ticket.updated_at
            ),
            ("t-1", "A12", 3, TicketState::Waiting, 30, 7010)
        );
        assert_eq!(matches.len(), 1);
        assert_eq!(
            (matches[0].entry_id, matches[0].venue_name.as_str()),
            (12, "Trạm y tế")
        );
    }

    /// A migration that leaves a dangling reference is rolled back, the version stays, and foreign
    /// keys are on again.
    #[test]
    fn a_migration_that_breaks_a_foreign_key_is_rolled_back() {
        const STEPS: &[Migration] = &[
            Migration {
                version: 1,
                name: "0001_parent_child",
                sql: "CREATE TABLE parent (id INTEGER PRIMARY KEY);
                      CREATE TABLE child (id INTEGER PRIMARY KEY,
                                          parent_id INTEGER NOT NULL REFERENCES parent (id));
                      INSERT INTO parent (id) VALUES (1);
                      INSERT INTO child (id, parent_id) VALUES (1, 1);",
            },
            Migration {
                version: 2,
                name: "0002_bad_rebuild",
                // Forgets to copy the parents while rebuilding their table.
                sql: "CREATE TABLE parent_new (id INTEGER PRIMARY KEY, name TEXT);
                      DROP TABLE parent;
                      ALTER TABLE parent_new RENAME TO parent;",
            },
        ];
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        migrate_to(&mut conn, STEPS, 1).unwrap();
        match migrate_to(&mut conn, STEPS, 2) {
            Err(StoreError::MigrationForeignKeys {
                version: 2,
                violations: 1,
            }) => {}
            other => panic!("expected a foreign key failure, got {other:?}"),
        }
        assert_eq!(current_version(&conn).unwrap(), 1);
        let parents: i64 = conn
            .query_row("SELECT count(*) FROM parent", [], |r| r.get(0))
            .unwrap();
        assert_eq!(parents, 1, "the rebuild was rolled back");
        let foreign_keys: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(foreign_keys, 1);
    }

    /// Drafts and complete attachments written at schema v13 (the version that made them)
    /// survive every later migration and read back through the dossier queries; an incomplete
    /// attachment stays invisible.
    #[test]
    fn dossier_drafts_survive_later_migrations() {
        use crate::dossier::{attachment, draft};
        let dir = tempfile::tempdir().unwrap();
        let sealer = Arc::new(SoftwareSealer::in_dir(dir.path()));
        Store::create_at_version(dir.path(), sealer.clone(), 13).unwrap();
        let record = serde_json::to_string(&crate::dossier::wire::sample("1.000100")).unwrap();
        {
            let (_, conn, _) =
                crate::store::open_keyed_connection(dir.path(), sealer.as_ref()).unwrap();
            conn.execute(
                "INSERT INTO dossier_drafts (id, procedure_code, procedure_version, procedure_name,
                     procedure, state, field_values, created_at, updated_at)
                 VALUES (7, '1.000100', 1, 'Đăng ký khai sinh', ?1, 'editing',
                         '{\"ho_ten_tre\":\"Nguyễn Văn Bé\"}', 10, 20)",
                [&record],
            )
            .unwrap();
            conn.execute_batch(
                "INSERT INTO dossier_attachments (id, draft_id, kind, media_type, size, sha256,
                     chunk_count, complete, created_at)
                 VALUES (3, 7, 'giay_chung_sinh', 'application/pdf', 6, zeroblob(32), 1, 1, 15),
                        (4, 7, 'giay_chung_sinh', 'application/pdf', 0, NULL, 0, 0, 16);
                 INSERT INTO dossier_attachment_chunks (attachment_id, seq, data)
                 VALUES (3, 0, x'255044462D31'), (4, 0, x'00');",
            )
            .unwrap();
        }
        let store = Store::open_blocking(dir.path(), sealer).unwrap();
        let (got, attachments, chunk) = store
            .read_blocking(|c| {
                Ok::<_, crate::dossier::DossierError>((
                    draft::get(c, draft::DraftId(7))?,
                    attachment::list(c, draft::DraftId(7))?,
                    attachment::read_chunk(c, attachment::AttachmentId(3), 0)?,
                ))
            })
            .unwrap();
        let got = got.unwrap();
        assert_eq!(got.procedure_code, "1.000100");
        assert_eq!(got.state, draft::DraftState::Editing);
        assert_eq!(got.values["ho_ten_tre"], "Nguyễn Văn Bé");
        assert_eq!(attachments.len(), 1);
        assert_eq!(attachments[0].size, 6);
        assert_eq!(chunk, b"%PDF-1");
    }

    /// Dossiers filed before tracking existed keep their delivery state and get the two
    /// timeline lines the phone knows of (filed, received).
    #[test]
    fn submissions_survive_the_tracking_migration_with_a_timeline() {
        use crate::dossier::{TrackingStatus, submission, tracking};
        let dir = tempfile::tempdir().unwrap();
        let sealer = Arc::new(SoftwareSealer::in_dir(dir.path()));
        Store::create_at_version(dir.path(), sealer.clone(), 15).unwrap();
        {
            let (_, conn, _) =
                crate::store::open_keyed_connection(dir.path(), sealer.as_ref()).unwrap();
            conn.execute_batch(
                "INSERT INTO dossier_submissions (id, dossier_id, outbox_id, procedure_code,
                     procedure_version, manifest, state, receipt_code, portal_status,
                     submitted_at, received_at, updated_at)
                 VALUES (4, 'AAAAAAAAAAAAAAAAAAAAAA', 1, '1.000100', 1, 'm', 'received',
                         'HS-2026-000004', 'received', 10, 20, 20),
                        (5, 'BBBBBBBBBBBBBBBBBBBBBB', 1, '1.000100', 1, 'm', 'queued',
                         NULL, NULL, 30, NULL, 30);",
            )
            .unwrap();
        }
        let store = Store::open_blocking(dir.path(), sealer).unwrap();
        let (received, queued, lines) = store
            .read_blocking(|c| {
                Ok::<_, StoreError>((
                    submission::get(c, 4)?.unwrap(),
                    submission::get(c, 5)?.unwrap(),
                    tracking::timeline(c, 4)?,
                ))
            })
            .unwrap();
        assert_eq!(received.status, TrackingStatus::Received);
        assert_eq!(received.receipt_code.as_deref(), Some("HS-2026-000004"));
        assert_eq!(queued.status, TrackingStatus::Queued);
        let steps: Vec<_> = lines.iter().map(|l| (l.event.as_str(), l.at)).collect();
        assert_eq!(steps, [("submitted", 10), ("received", 20)]);
    }

    #[test]
    fn a_newer_schema_is_refused_without_changes() {
        let dir = tempfile::tempdir().unwrap();
        let sealer = Arc::new(SoftwareSealer::in_dir(dir.path()));
        let store = Store::open_blocking(dir.path(), sealer.clone()).unwrap();
        store
            .read_blocking(|c| {
                Ok::<_, StoreError>(c.pragma_update(None, "user_version", latest_version() + 5)?)
            })
            .unwrap();
        drop(store);
        match Store::open_blocking(dir.path(), sealer) {
            Err(StoreError::SchemaTooNew { found, supported }) => {
                assert_eq!(found, latest_version() + 5);
                assert_eq!(supported, latest_version());
            }
            other => panic!("expected SchemaTooNew, got {:?}", other.err()),
        }
    }
}
