//! Queries on the `meta` table: small facts about this installation as key/value pairs.
//!
//! Owns: reading and writing one value by key, inside a caller's read or transaction. Does not own
//! what the values mean (each caller names and encodes its own keys).

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

pub fn get(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

pub fn set(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO meta (key, value, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value,
                                         updated_at = excluded.updated_at",
        params![key, value, crate::unix_now()],
    )?;
    Ok(())
}
