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
pub const MIGRATIONS: &[Migration] = &[migration!(1, "0001_meta"), migration!(2, "0002_outbox")];

/// The schema version this build writes.
pub fn latest_version() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

pub(crate) fn current_version(conn: &Connection) -> Result<u32, StoreError> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

/// Brings the database to [`latest_version`]; returns the version it was at before.
pub(crate) fn migrate(conn: &mut Connection) -> Result<u32, StoreError> {
    migrate_to(conn, latest_version())
}

/// Applies each pending migration up to `target` in its own transaction, so a crash leaves the
/// database at the last version that fully applied.
pub(crate) fn migrate_to(conn: &mut Connection, target: u32) -> Result<u32, StoreError> {
    let found = current_version(conn)?;
    let supported = latest_version();
    if found > supported {
        // A newer app wrote this database (the user downgraded). Refuse rather than guess.
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    for migration in MIGRATIONS
        .iter()
        .filter(|m| m.version > found && m.version <= target)
    {
        let failed = |source| StoreError::Migration {
            version: migration.version,
            source,
        };
        let tx = conn.transaction().map_err(failed)?;
        tx.execute_batch(migration.sql).map_err(failed)?;
        tx.pragma_update(None, "user_version", migration.version)
            .map_err(failed)?;
        tx.commit().map_err(failed)?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applied migration"
        );
    }
    Ok(found)
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

    /// Builds a real encrypted store at every older version, upgrades it through `Store::open`,
    /// and checks the schema is exactly that of a fresh store and that older data survived.
    #[test]
    fn every_older_version_migrates_to_the_fresh_schema() {
        let fresh_dir = tempfile::tempdir().unwrap();
        let fresh = Store::open(
            fresh_dir.path(),
            Arc::new(SoftwareSealer::in_dir(fresh_dir.path())),
        )
        .unwrap();
        let fresh_schema = fresh.with_connection(|c| Ok(schema(c))).unwrap();
        assert!(fresh_schema.iter().any(|(_, name, _, _)| name == "outbox"));

        for old_version in 0..latest_version() {
            let dir = tempfile::tempdir().unwrap();
            let sealer = Arc::new(SoftwareSealer::in_dir(dir.path()));
            Store::create_at_version(dir.path(), sealer.clone(), old_version).unwrap();

            let upgraded = Store::open(dir.path(), sealer).unwrap();
            assert_eq!(upgraded.schema_version(), latest_version());
            let upgraded_schema = upgraded.with_connection(|c| Ok(schema(c))).unwrap();
            assert_eq!(
                upgraded_schema, fresh_schema,
                "migrated from v{old_version}"
            );
            if old_version >= 1 {
                assert_eq!(
                    upgraded.meta_get("written_at_version").unwrap().as_deref(),
                    Some(old_version.to_string().as_str())
                );
            }
        }
    }

    #[test]
    fn a_newer_schema_is_refused_without_changes() {
        let dir = tempfile::tempdir().unwrap();
        let sealer = Arc::new(SoftwareSealer::in_dir(dir.path()));
        let store = Store::open(dir.path(), sealer.clone()).unwrap();
        store
            .with_connection(|c| c.pragma_update(None, "user_version", latest_version() + 5))
            .unwrap();
        drop(store);
        match Store::open(dir.path(), sealer) {
            Err(StoreError::SchemaTooNew { found, supported }) => {
                assert_eq!(found, latest_version() + 5);
                assert_eq!(supported, latest_version());
            }
            other => panic!("expected SchemaTooNew, got {:?}", other.err()),
        }
    }
}
