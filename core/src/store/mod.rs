//! The encrypted offline store: one SQLCipher database whose random key is sealed by the platform.
//!
//! Owns: opening (choosing and verifying the key, connection settings, migrations), key rotation
//! that survives a crash at any step, wiping, and the few typed accessors other modules use. Does
//! not own what the tables mean to a capability (each capability keeps its own queries) nor how
//! the platform seals the key (`platform::SecretSealer`).
//!
//! Files in the data directory: `citizen.db` (+ `-wal`, `-shm`), `citizen.db.key` (the sealed data
//! key) and, only while a rotation is under way, `citizen.db.key.next`. The store never deletes or
//! recreates a database it cannot open: every failure to open is a typed error and leaves the files
//! exactly as they were. Only [`Store::wipe`] / [`Store::wipe_files`] remove data.

mod keys;
pub mod migrations;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, Once};

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params};

pub use keys::StorePaths;
use keys::{DataKey, promote_next, read_sealed, remove_if_present, write_sealed};

use crate::platform::{PlatformError, SecretSealer, sync_dir};

/// Why the store could not do what was asked. No variant carries personal data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("file system error while {action}: {kind}")]
    Io {
        action: &'static str,
        kind: std::io::ErrorKind,
    },
    #[error("the database exists but its sealed key file is missing")]
    KeyMissing,
    #[error("the sealed key file is damaged or of an unknown format")]
    KeyFileCorrupt,
    #[error("the platform could not unseal the database key: {0}")]
    Unseal(PlatformError),
    #[error("the platform could not seal the database key: {0}")]
    Seal(PlatformError),
    #[error("the platform could not delete its sealing key: {0}")]
    DeleteSealingKey(PlatformError),
    #[error("the database did not accept its key (a wrong key or a damaged file)")]
    KeyRejected,
    #[error("the database file is damaged")]
    Corrupt,
    #[error("the database has schema version {found}, newer than this SDK's {supported}")]
    SchemaTooNew { found: u32, supported: u32 },
    #[error("migration to schema version {version} failed: {source}")]
    Migration {
        version: u32,
        source: rusqlite::Error,
    },
    #[error("the system could not provide randomness")]
    Randomness,
    #[error("SQLite refused to change the journal mode")]
    JournalModeRefused,
    #[error("the store has been closed")]
    Closed,
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl StoreError {
    pub(crate) fn io(action: &'static str, error: std::io::Error) -> Self {
        Self::Io {
            action,
            kind: error.kind(),
        }
    }
}

/// An open, keyed, migrated database. All access goes through one connection behind a mutex:
/// the phone has one user and the work is small, so simplicity wins over parallel readers.
pub struct Store {
    paths: StorePaths,
    sealer: Arc<dyn SecretSealer>,
    conn: Mutex<Option<Connection>>,
    schema_version: u32,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("schema_version", &self.schema_version)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the store in `dir`, creating it (with a new random key) when the directory holds
    /// neither a database nor a key.
    pub fn open(dir: &Path, sealer: Arc<dyn SecretSealer>) -> Result<Self, StoreError> {
        let (paths, mut conn) = open_keyed_connection(dir, sealer.as_ref())?;
        let previous = migrations::migrate(&mut conn)?;
        let schema_version = migrations::current_version(&conn)?;
        tracing::debug!(previous, schema_version, "store opened");
        Ok(Self {
            paths,
            sealer,
            conn: Mutex::new(Some(conn)),
            schema_version,
        })
    }

    /// Removes every file of the store in `dir` and asks the platform to delete its sealing key.
    /// Works when the store cannot be opened (a lost key, a damaged file): that is what it is for.
    pub fn wipe_files(dir: &Path, sealer: &dyn SecretSealer) -> Result<(), StoreError> {
        let paths = StorePaths::new(dir);
        // Database first, key last: a crash in between leaves a key without a database, which
        // opens as a fresh store, never a database without its key.
        for file in paths.database_files() {
            remove_if_present(&file)?;
        }
        remove_if_present(&paths.next_key)?;
        remove_if_present(&paths.key)?;
        if paths.dir.exists() {
            sync_dir(&paths.key).map_err(|e| StoreError::io("syncing the data directory", e))?;
        }
        sealer.delete_key().map_err(StoreError::DeleteSealingKey)?;
        tracing::info!("store wiped");
        Ok(())
    }

    /// Closes the store and wipes it. Later calls on this store return [`StoreError::Closed`].
    pub fn wipe(&self) -> Result<(), StoreError> {
        let mut guard = self.lock();
        if let Some(conn) = guard.take() {
            conn.close().map_err(|(_, e)| StoreError::Sqlite(e))?;
        }
        Self::wipe_files(&self.paths.dir, self.sealer.as_ref())
    }

    pub fn paths(&self) -> &StorePaths {
        &self.paths
    }

    pub fn schema_version(&self) -> u32 {
        self.schema_version
    }

    /// Runs `f` on the connection. For the capability modules' own queries, and for tests and
    /// benchmarks that need raw SQL.
    pub fn with_connection<R>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<R, rusqlite::Error>,
    ) -> Result<R, StoreError> {
        let mut guard = self.lock();
        let conn = guard.as_mut().ok_or(StoreError::Closed)?;
        Ok(f(conn)?)
    }

    pub fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.with_connection(|c| {
            c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
        })
    }

    pub fn meta_set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.with_connection(|c| {
            c.execute(
                "INSERT INTO meta (key, value, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value,
                                                 updated_at = excluded.updated_at",
                params![key, value, crate::unix_now()],
            )
            .map(drop)
        })
    }

    /// Outbox entries not yet delivered or given up on.
    pub fn pending_outbox_count(&self) -> Result<u64, StoreError> {
        let count: i64 = self.with_connection(|c| {
            c.query_row(
                "SELECT count(*) FROM outbox WHERE state IN ('queued', 'in_flight')",
                [],
                |r| r.get(0),
            )
        })?;
        Ok(count.max(0) as u64)
    }

    /// Re-encrypts the database under a new random key and seals that key.
    ///
    /// Crash safety: the new sealed key is written to `citizen.db.key.next` before the database
    /// changes; SQLCipher's rekey runs as one transaction in rollback-journal mode (its journal keeps
    /// the old pages under the old key); the new key file replaces the old one by an atomic rename
    /// only after the rekey committed. On open, the current key is tried first and the next key
    /// second, so after a kill at any point the database opens with one of the two.
    pub fn rotate_key(&self) -> Result<(), StoreError> {
        let mut guard = self.lock();
        let conn = guard.as_mut().ok_or(StoreError::Closed)?;
        let new_key = DataKey::generate()?;
        let sealed = self
            .sealer
            .seal(new_key.secret())
            .map_err(StoreError::Seal)?;
        write_sealed(&self.paths.next_key, &sealed)?;
        crash_point("next-key-written");

        // WAL would put the re-encrypted pages beside old ones in two files; the rollback journal
        // keeps rekey a single atomic commit.
        set_journal_mode(conn, "delete")?;
        crash_point("journal-mode-delete");

        let rekeyed = conn
            .execute_batch(&new_key.pragma("rekey"))
            .and_then(|()| verify_key(conn));
        if let Err(error) = rekeyed {
            // SQLCipher rolled the rekey back: the database still uses the old key.
            tracing::warn!(%error, "key rotation failed; keeping the old key");
            remove_if_present(&self.paths.next_key)?;
            set_journal_mode(conn, "wal")?;
            return Err(error.into());
        }
        crash_point("rekeyed");

        promote_next(&self.paths)?;
        crash_point("key-promoted");
        set_journal_mode(conn, "wal")?;
        tracing::info!("store key rotated");
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Option<Connection>> {
        // A panic while holding the lock cannot leave the connection half-changed (SQLite rolls
        // back an open transaction), so a poisoned lock is safe to keep using.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Test support: a keyed store whose schema stops at `version`, with one meta row written at
    /// that version (when it has the table), to check that migrations keep data.
    #[cfg(test)]
    pub(crate) fn create_at_version(
        dir: &Path,
        sealer: Arc<dyn SecretSealer>,
        version: u32,
    ) -> Result<(), StoreError> {
        let (_, mut conn) = open_keyed_connection(dir, sealer.as_ref())?;
        migrations::migrate_to(&mut conn, version)?;
        if version >= 1 {
            conn.execute(
                "INSERT INTO meta (key, value, updated_at) VALUES ('written_at_version', ?1, 0)",
                [version.to_string()],
            )?;
        }
        Ok(())
    }
}

/// Finds the right key for the database in `dir` (creating both when neither exists), opens it,
/// proves the key, and applies the connection settings. Touches no file on failure.
fn open_keyed_connection(
    dir: &Path,
    sealer: &dyn SecretSealer,
) -> Result<(StorePaths, Connection), StoreError> {
    route_sqlite_logging_to_tracing();
    std::fs::create_dir_all(dir).map_err(|e| StoreError::io("creating the data directory", e))?;
    let paths = StorePaths::new(dir);
    let database_exists = paths.db.exists();
    let current = read_sealed(&paths.key)?;
    let next = read_sealed(&paths.next_key)?;

    let conn = match (current, next) {
        (None, None) if database_exists => return Err(StoreError::KeyMissing),
        (None, None) => {
            let key = DataKey::generate()?;
            let sealed = sealer.seal(key.secret()).map_err(StoreError::Seal)?;
            write_sealed(&paths.key, &sealed)?;
            tracing::info!("created a new store key");
            connect(&paths, &key, true)?
        }
        (current, next) => open_with_known_keys(&paths, sealer, current, next, database_exists)?,
    };
    configure(&conn)?;
    Ok((paths, conn))
}

/// Tries the current key, then (after an interrupted rotation) the next one, and tidies the key
/// files to match whichever the database accepted.
fn open_with_known_keys(
    paths: &StorePaths,
    sealer: &dyn SecretSealer,
    current: Option<Vec<u8>>,
    next: Option<Vec<u8>>,
    database_exists: bool,
) -> Result<Connection, StoreError> {
    let mut first_failure = None;
    if let Some(sealed) = current {
        match sealer.unseal(&sealed).map_err(StoreError::Unseal) {
            Ok(secret) => {
                match connect(paths, &DataKey::from_unsealed(secret)?, !database_exists) {
                    Ok(conn) => {
                        if next.is_some() {
                            // The rotation never committed: its key encrypts nothing.
                            tracing::info!("discarding the key of an interrupted rotation");
                            remove_if_present(&paths.next_key)?;
                        }
                        return Ok(conn);
                    }
                    Err(StoreError::KeyRejected) => first_failure = Some(StoreError::KeyRejected),
                    Err(other) => return Err(other),
                }
            }
            Err(failure) => first_failure = Some(failure),
        }
    }
    if let Some(sealed) = next {
        let secret = sealer.unseal(&sealed).map_err(StoreError::Unseal)?;
        let conn = connect(paths, &DataKey::from_unsealed(secret)?, false)?;
        // The rotation committed but was killed before its key file replaced the old one.
        tracing::info!("completing an interrupted key rotation");
        promote_next(paths)?;
        return Ok(conn);
    }
    Err(first_failure.unwrap_or(StoreError::KeyRejected))
}

/// Opens the database file with `key` and proves the key by reading the schema.
fn connect(paths: &StorePaths, key: &DataKey, create: bool) -> Result<Connection, StoreError> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(&paths.db, flags)?;
    // SQLCipher would otherwise print to stderr; its failures reach us as typed errors instead.
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
    conn.execute_batch(&key.pragma("key"))?;
    verify_key(&conn).map_err(classify_open_error)?;
    Ok(conn)
}

fn verify_key(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(drop)
}

fn classify_open_error(error: rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => StoreError::KeyRejected,
        Some(ErrorCode::DatabaseCorrupt) => StoreError::Corrupt,
        _ => StoreError::Sqlite(error),
    }
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    set_journal_mode(conn, "wal")?;
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA synchronous = FULL;
         PRAGMA busy_timeout = 5000;",
    )?;
    Ok(())
}

fn set_journal_mode(conn: &Connection, mode: &str) -> Result<(), StoreError> {
    let applied: String = conn.pragma_update_and_check(None, "journal_mode", mode, |r| r.get(0))?;
    if !applied.eq_ignore_ascii_case(mode) {
        return Err(StoreError::JournalModeRefused);
    }
    Ok(())
}

/// SQLite reports some problems only through its global log; send them to `tracing`.
fn route_sqlite_logging_to_tracing() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        fn log(code: std::os::raw::c_int, message: &str) {
            tracing::debug!(target: "citizen_core::sqlite", code, "{message}");
        }
        // SAFETY: called once, before this module opens any connection. If another part of the
        // process already initialised SQLite, the call fails harmlessly and logging stays off.
        if let Err(error) = unsafe { rusqlite::trace::config_log(Some(log)) } {
            tracing::debug!(%error, "SQLite log routing unavailable");
        }
    });
}

/// In the crash tests, a child process aborts here when told to, as if killed at that step.
#[cfg(test)]
fn crash_point(step: &str) {
    if std::env::var("CITIZEN_TEST_CRASH_AT").is_ok_and(|at| at == step) {
        std::process::abort();
    }
}
#[cfg(not(test))]
fn crash_point(_step: &str) {}

#[cfg(test)]
mod tests;
