//! The disclosure history: every issuance, presentation, deletion and PIN lockout, kept on the
//! phone for the citizen to read, export or delete.
//!
//! Owns: the `wallet_history` table and its queries: [`record`] (inside the caller's transaction,
//! so the record commits with what it records), [`page`] (newest first, keyset-paged, optionally
//! per credential), [`export_json`], [`delete`] and [`delete_all`]. A record says who the
//! counterparty was and which claims were disclosed, by name, never their values. Does not own
//! making the records (each wallet flow records its own) nor announcing them (the flow emits
//! `Event::HistoryRecorded` after its transaction commits).

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use crate::store::StoreError;

/// The most records one [`page`] returns.
pub const MAX_PAGE_SIZE: u32 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryKind {
    Issuance,
    Presentation,
    Deletion,
    PinLockout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryOutcome {
    Completed,
    /// The citizen said no.
    Declined,
    Failed,
}

/// Who was on the other side: a relying party, an officer's app, an issuer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counterparty {
    /// A stable identifier (client id, issuer URL, or a verifier's key id).
    pub id: String,
    /// What the citizen was shown (from the trust list).
    pub display_name: String,
}

/// A record to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecord {
    pub at: i64,
    pub kind: HistoryKind,
    pub outcome: HistoryOutcome,
    pub counterparty: Option<Counterparty>,
    pub credential_id: Option<String>,
    /// Claim names (`given_name`, `address.locality`, ...), never values.
    pub claims: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRecord {
    pub id: i64,
    pub at: i64,
    pub kind: HistoryKind,
    pub outcome: HistoryOutcome,
    pub counterparty: Option<Counterparty>,
    pub credential_id: Option<String>,
    pub claims: Vec<String>,
}

/// Where the next page starts: after this record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageCursor {
    pub at: i64,
    pub id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPage {
    pub records: Vec<HistoryRecord>,
    /// `None` on the last page.
    pub next: Option<PageCursor>,
}

/// Writes `new` inside the caller's transaction; returns its id.
pub fn record(tx: &Transaction<'_>, new: &NewRecord) -> Result<i64, StoreError> {
    let claims = serde_json::to_string(&new.claims).map_err(|_| StoreError::Corrupt)?;
    tx.execute(
        "INSERT INTO wallet_history (at, kind, outcome, counterparty_id, counterparty_name,
                                     credential_id, claims)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            new.at,
            to_code(&new.kind),
            to_code(&new.outcome),
            new.counterparty.as_ref().map(|c| c.id.as_str()),
            new.counterparty.as_ref().map(|c| c.display_name.as_str()),
            new.credential_id,
            claims,
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

/// When the citizen last completed a presentation to `counterparty_id`, if ever: the consent
/// screen's "shared with before".
pub fn last_shared_with(
    conn: &Connection,
    counterparty_id: &str,
) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT MAX(at) FROM wallet_history
             WHERE kind = 'presentation' AND outcome = 'completed' AND counterparty_id = ?1",
            [counterparty_id],
            |r| r.get::<_, Option<i64>>(0),
        )
        .optional()?
        .flatten())
}

/// Up to `size` records, newest first, starting after `after`; only those of `credential_id`
/// when given.
pub fn page(
    conn: &Connection,
    credential_id: Option<&str>,
    after: Option<PageCursor>,
    size: u32,
) -> Result<HistoryPage, StoreError> {
    let size = size.clamp(1, MAX_PAGE_SIZE);
    let (after_at, after_id) = after.map_or((i64::MAX, i64::MAX), |c| (c.at, c.id));
    let mut query = conn.prepare_cached(
        "SELECT id, at, kind, outcome, counterparty_id, counterparty_name, credential_id, claims
         FROM wallet_history
         WHERE (at, id) < (?1, ?2) AND (?3 IS NULL OR credential_id = ?3)
         ORDER BY at DESC, id DESC
         LIMIT ?4",
    )?;
    let mut records = query
        .query_map(
            params![after_at, after_id, credential_id, i64::from(size) + 1],
            read_record,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let next = if records.len() > size as usize {
        records.truncate(size as usize);
        records.last().map(|r| PageCursor { at: r.at, id: r.id })
    } else {
        None
    };
    Ok(HistoryPage { records, next })
}

/// Every record, oldest first, as a JSON array (for the citizen to keep or hand over).
pub fn export_json(conn: &Connection) -> Result<String, StoreError> {
    let mut query = conn.prepare(
        "SELECT id, at, kind, outcome, counterparty_id, counterparty_name, credential_id, claims
         FROM wallet_history ORDER BY at, id",
    )?;
    let records = query
        .query_map([], read_record)?
        .collect::<Result<Vec<_>, _>>()?;
    serde_json::to_string_pretty(&records).map_err(|_| StoreError::Corrupt)
}

/// Deletes one record; `false` if there was none.
pub fn delete(tx: &Transaction<'_>, id: i64) -> Result<bool, StoreError> {
    Ok(tx.execute("DELETE FROM wallet_history WHERE id = ?1", [id])? == 1)
}

/// Deletes every record; returns how many.
pub fn delete_all(tx: &Transaction<'_>) -> Result<usize, StoreError> {
    Ok(tx.execute("DELETE FROM wallet_history", [])?)
}

pub fn count(conn: &Connection) -> Result<u64, StoreError> {
    let count: Option<i64> = conn
        .query_row("SELECT count(*) FROM wallet_history", [], |r| r.get(0))
        .optional()?;
    Ok(count.unwrap_or(0).max(0) as u64)
}

fn read_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<HistoryRecord> {
    let bad = |column: usize| {
        rusqlite::Error::FromSqlConversionFailure(
            column,
            rusqlite::types::Type::Text,
            "unknown history code".into(),
        )
    };
    let counterparty = match (
        row.get::<_, Option<String>>(4)?,
        row.get::<_, Option<String>>(5)?,
    ) {
        (Some(id), Some(display_name)) => Some(Counterparty { id, display_name }),
        _ => None,
    };
    let claims: String = row.get(7)?;
    Ok(HistoryRecord {
        id: row.get(0)?,
        at: row.get(1)?,
        kind: from_code(&row.get::<_, String>(2)?).ok_or_else(|| bad(2))?,
        outcome: from_code(&row.get::<_, String>(3)?).ok_or_else(|| bad(3))?,
        counterparty,
        credential_id: row.get(6)?,
        claims: serde_json::from_str(&claims).map_err(|_| bad(7))?,
    })
}

/// The snake_case code serde gives a unit variant, as stored.
pub(crate) fn to_code<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(code)) => code,
        _ => String::new(),
    }
}

/// The unit variant whose snake_case code is `code`.
pub(crate) fn from_code<T: for<'de> Deserialize<'de>>(code: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(code.to_string())).ok()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::platform::SoftwareSealer;
    use crate::store::Store;

    fn store(dir: &std::path::Path) -> Store {
        Store::open_blocking(dir, Arc::new(SoftwareSealer::in_dir(dir))).unwrap()
    }

    fn presentation(at: i64, credential: &str) -> NewRecord {
        NewRecord {
            at,
            kind: HistoryKind::Presentation,
            outcome: HistoryOutcome::Completed,
            counterparty: Some(Counterparty {
                id: "officer-key-1".into(),
                display_name: "Công an phường Bến Nghé".into(),
            }),
            credential_id: Some(credential.into()),
            claims: vec!["given_name".into(), "birth_date".into()],
        }
    }

    #[test]
    fn pages_run_newest_first_without_gaps_or_repeats() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        store
            .write_blocking(|tx| {
                for i in 0..25 {
                    // Several records share a second: the id breaks the tie.
                    record(
                        tx,
                        &presentation(1_000 + i / 3, if i % 2 == 0 { "pid" } else { "other" }),
                    )?;
                }
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = store
                .read_blocking(move |c| page(c, None, cursor, 7))
                .unwrap();
            assert!(page.records.len() <= 7);
            seen.extend(page.records.iter().map(|r| (r.at, r.id)));
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(seen.len(), 25);
        let mut sorted = seen.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(seen, sorted, "newest first, each once");

        let pid_only = store
            .read_blocking(|c| page(c, Some("pid"), None, 100))
            .unwrap();
        assert_eq!(pid_only.records.len(), 13);
        assert!(pid_only.next.is_none());
        assert!(
            pid_only
                .records
                .iter()
                .all(|r| r.credential_id.as_deref() == Some("pid"))
        );
    }

    #[test]
    fn records_export_and_can_be_deleted_by_the_citizen() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let first = store
            .write_blocking(|tx| record(tx, &presentation(10, "pid")))
            .unwrap();
        store
            .write_blocking(|tx| {
                record(
                    tx,
                    &NewRecord {
                        at: 11,
                        kind: HistoryKind::PinLockout,
                        outcome: HistoryOutcome::Failed,
                        counterparty: None,
                        credential_id: None,
                        claims: vec![],
                    },
                )
            })
            .unwrap();
        let json = store.read_blocking(export_json).unwrap();
        let exported: Vec<HistoryRecord> = serde_json::from_str(&json).unwrap();
        assert_eq!(exported.len(), 2);
        assert_eq!(exported[0].kind, HistoryKind::Presentation);
        assert_eq!(exported[0].claims, vec!["given_name", "birth_date"]);
        assert_eq!(exported[1].kind, HistoryKind::PinLockout);
        assert!(json.contains("\"pin_lockout\""));

        assert!(store.write_blocking(move |tx| delete(tx, first)).unwrap());
        assert!(!store.write_blocking(move |tx| delete(tx, first)).unwrap());
        assert_eq!(store.read_blocking(count).unwrap(), 1);
        assert_eq!(store.write_blocking(delete_all).unwrap(), 1);
        assert_eq!(store.read_blocking(count).unwrap(), 0);
    }

    #[test]
    fn a_record_commits_with_the_transaction_that_makes_it_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let failed = store.write_blocking(|tx| {
            record(tx, &presentation(10, "pid"))?;
            Err::<(), _>(StoreError::Corrupt)
        });
        assert!(failed.is_err());
        assert_eq!(store.read_blocking(count).unwrap(), 0);
    }
}
