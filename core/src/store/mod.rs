//! The encrypted offline store: one SQLCipher database whose random key is sealed by the platform.
//!
//! Owns: opening (choosing and verifying the key, connection settings, migrations), the one
//! database thread every query runs on, the advisory lock that keeps one `Store` per data
//! directory, key rotation that survives a crash or a failure at any step, and wiping. Does not own
//! what the tables mean to a capability (each capability keeps its own queries and runs them
//! through [`Store::read`] / [`Store::write`]) nor how the platform seals the key
//! (`platform::SecretSealer`).
//!
//! Files in the data directory: `citizen.db` (+ `-wal`, `-shm`), `citizen.db.key` (the sealed data
//! key), `citizen.lock` (the advisory lock) and, only while a rotation is unresolved,
//! `citizen.db.key.next`. The store never deletes or recreates a database it cannot open: every
//! failure to open is a typed error and leaves the files exactly as they were. Only
//! [`Store::wipe`] / [`Store::wipe_files`] remove data.
//!
//! Access rules (see docs/ARCHITECTURE.md): all SQL runs on the store's own thread, never on an
//! async worker; a closure handed to `read`/`write` does database work only (no network, no
//! platform calls, no events), so no foreign callback ever runs while the database is busy.

mod cipher;
mod keys;
mod lock;
pub mod meta;
pub mod migrations;
pub mod settings;
mod thread;

use std::path::Path;
use std::sync::{Arc, Once};

use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction};

pub use keys::StorePaths;
use keys::{DataKey, promote_next, read_sealed, remove_if_present, write_sealed};
use lock::DirLock;
use thread::StoreThread;

use crate::platform::{PlatformError, SecretSealer, sync_dir};

/// Why the store could not do what was asked. No variant carries personal data or SQL text.
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
    /// SQLCipher refused a `PRAGMA key`/`rekey` statement. Its own message is not kept: it could
    /// quote the statement, which holds the key.
    #[error("SQLCipher refused the key statement")]
    KeyStatementFailed,
    #[error("the database file is damaged")]
    Corrupt,
    #[error("the database has schema version {found}, newer than this SDK's {supported}")]
    SchemaTooNew { found: u32, supported: u32 },
    #[error("migration to schema version {version} failed: {source}")]
    Migration {
        version: u32,
        source: rusqlite::Error,
    },
    #[error("migration to schema version {version} left {violations} foreign key violation(s)")]
    MigrationForeignKeys { version: u32, violations: usize },
    #[error("the system could not provide randomness")]
    Randomness,
    #[error("SQLite refused to change the journal mode")]
    JournalModeRefused,
    /// Another `Store` (in this process or another) has the data directory open.
    #[error("the data directory is in use by another open store")]
    InUse,
    /// A rotation left a new key whose state could not be established; rotating again could lose
    /// the key the database uses, so the store refuses until it is reopened.
    #[error("an earlier key rotation is unresolved; reopen the store to resolve it")]
    RotationUnresolved,
    /// The rekey committed but the database could not be read back with the new key. The new key
    /// is kept sealed beside the old one; reopening the store picks whichever the database uses.
    #[error("the database could not be verified after re-encryption")]
    RekeyUnverified,
    #[error("the store has been closed")]
    Closed,
    #[error("a store operation panicked")]
    Panicked,
    /// A store job called back into the store and would have waited for itself.
    #[error("a store operation called back into the store")]
    Reentrant,
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

/// An open, keyed, migrated database, served by one thread of its own.
///
/// Every query runs on that thread, one job at a time: the phone has one user and the work is
/// small, so a single connection beats a pool, and callers on async runtimes never block a worker.
pub struct Store {
    paths: StorePaths,
    sealer: Arc<dyn SecretSealer>,
    thread: StoreThread,
    schema_version: u32,
    key_hardware_backed: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("schema_version", &self.schema_version)
            .finish_non_exhaustive()
    }
}

/// What the store thread reports once it opened the database.
struct Opened {
    paths: StorePaths,
    schema_version: u32,
    key_hardware_backed: bool,
}

impl Store {
    /// Opens the store in `dir`, creating it (with a new random key) when the directory holds
    /// neither a database nor a key. The platform's sealer is called from the store's own thread,
    /// so awaiting this never blocks an async worker.
    pub async fn open(dir: &Path, sealer: Arc<dyn SecretSealer>) -> Result<Self, StoreError> {
        let (thread, opened) = StoreThread::spawn(open_job(dir, sealer.clone()))?;
        let opened = opened.await.map_err(|_| StoreError::Panicked)??;
        Ok(Self::from_parts(sealer, thread, opened))
    }

    /// [`Store::open`] for synchronous callers (tests, benchmarks, desktop tools). Blocks until
    /// the database is open; do not call it on an async worker thread.
    pub fn open_blocking(dir: &Path, sealer: Arc<dyn SecretSealer>) -> Result<Self, StoreError> {
        let (thread, opened) = StoreThread::spawn(open_job(dir, sealer.clone()))?;
        let opened = opened.blocking_recv().map_err(|_| StoreError::Panicked)??;
        Ok(Self::from_parts(sealer, thread, opened))
    }

    fn from_parts(sealer: Arc<dyn SecretSealer>, thread: StoreThread, opened: Opened) -> Self {
        tracing::debug!(schema_version = opened.schema_version, "store opened");
        Self {
            paths: opened.paths,
            sealer,
            thread,
            schema_version: opened.schema_version,
            key_hardware_backed: opened.key_hardware_backed,
        }
    }

    /// Removes every file of the store in `dir` and asks the platform to delete its sealing key.
    /// Works when the store cannot be opened (a lost key, a damaged file): that is what it is for.
    /// Refuses with [`StoreError::InUse`] while a `Store` has the directory open.
    pub fn wipe_files(dir: &Path, sealer: &dyn SecretSealer) -> Result<(), StoreError> {
        let lock = if dir.exists() {
            Some(DirLock::acquire(dir)?)
        } else {
            None
        };
        wipe_locked(&StorePaths::new(dir), sealer, lock)
    }

    /// Closes the store now, whoever else still holds it: queued jobs finish, the connection
    /// closes and the directory's lock is let go, so the directory can be opened again at once.
    /// Later calls on this store return [`StoreError::Closed`]. Blocks until then (as dropping
    /// the last handle does).
    pub fn close_blocking(&self) {
        drop(self.thread.close_blocking());
    }

    /// Closes the store and wipes it. Later calls on this store return [`StoreError::Closed`].
    pub async fn wipe(&self) -> Result<(), StoreError> {
        let lock = self.thread.close_async().await;
        let paths = self.paths.clone();
        let sealer = self.sealer.clone();
        // Deleting the sealing key is a platform call: keep it off async workers.
        crate::blocking::run(move || wipe_locked(&paths, sealer.as_ref(), lock)).await
    }

    /// [`Store::wipe`] for synchronous callers.
    pub fn wipe_blocking(&self) -> Result<(), StoreError> {
        let lock = self.thread.close_blocking();
        wipe_locked(&self.paths, self.sealer.as_ref(), lock)
    }

    pub fn paths(&self) -> &StorePaths {
        &self.paths
    }

    pub fn schema_version(&self) -> u32 {
        self.schema_version
    }

    /// Whether the platform says the key sealing this store's key lives in secure hardware.
    pub fn key_hardware_backed(&self) -> bool {
        self.key_hardware_backed
    }

    /// Runs `query` on the store thread and returns its answer. For reads: use [`Store::write`]
    /// for anything that changes data, so it commits as one transaction.
    pub async fn read<R, E>(
        &self,
        query: impl FnOnce(&Connection) -> Result<R, E> + Send + 'static,
    ) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.thread
            .call_async(move |conn| query(conn))
            .await
            .map_err(E::from)?
    }

    /// Runs `change` in one immediate transaction on the store thread: committed when it returns
    /// `Ok`, rolled back when it returns `Err` or panics. A domain write and its outbox entry
    /// belong in the same `write`, so they commit together or not at all.
    pub async fn write<R, E>(
        &self,
        change: impl FnOnce(&Transaction<'_>) -> Result<R, E> + Send + 'static,
    ) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.thread
            .call_async(move |conn| in_transaction(conn, change))
            .await
            .map_err(E::from)?
    }

    /// [`Store::write`] for changes the portal gives back when they are lost: the outbox
    /// sender's leases (released at the next open anyway) and what a delivery attempt came to
    /// (a receipt, a retry time, a refusal; the attempt's idempotency key makes the portal
    /// answer a repeat with the same receipt). Committed with `synchronous = NORMAL`: no fsync
    /// of its own, so a power cut (not an app crash or kill: the commit is in the system's page
    /// cache) may lose it, never corrupt anything, and the next ordinary commit makes it durable
    /// with its own. Everything the citizen did (filing, a draft, a PIN attempt) goes through
    /// [`Store::write`], fsynced before it returns.
    pub async fn write_replayable<R, E>(
        &self,
        change: impl FnOnce(&Transaction<'_>) -> Result<R, E> + Send + 'static,
    ) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.thread
            .call_async(move |conn| {
                conn.execute_batch("PRAGMA synchronous = NORMAL")
                    .map_err(|e| E::from(e.into()))?;
                let result = in_transaction(conn, change);
                // Back to FULL before anything else runs on this connection; if that fails the
                // change is reported failed (it may have committed: its caller retries it, and
                // retrying it is what this kind of change allows).
                conn.execute_batch("PRAGMA synchronous = FULL")
                    .map_err(|e| E::from(e.into()))?;
                result
            })
            .await
            .map_err(E::from)?
    }

    /// [`Store::read`] for synchronous callers (tests, benchmarks). Not on an async worker.
    pub fn read_blocking<R, E>(
        &self,
        query: impl FnOnce(&Connection) -> Result<R, E> + Send + 'static,
    ) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.thread
            .call_blocking(move |conn| query(conn))
            .map_err(E::from)?
    }

    /// [`Store::write`] for synchronous callers (tests, benchmarks). Not on an async worker.
    pub fn write_blocking<R, E>(
        &self,
        change: impl FnOnce(&Transaction<'_>) -> Result<R, E> + Send + 'static,
    ) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.thread
            .call_blocking(move |conn| in_transaction(conn, change))
            .map_err(E::from)?
    }

    /// Re-encrypts the database under a new random key and seals that key.
    ///
    /// Crash safety: the new sealed key is written to `citizen.db.key.next` before the database
    /// changes; SQLCipher's rekey runs as one transaction in rollback-journal mode (its journal
    /// keeps the old pages under the old key); the new key file replaces the old one by an atomic
    /// rename only after the rekey committed and was verified. On open, the current key is tried
    /// first and the next key second, so after a kill at any point the database opens with one of
    /// the two. The next key file is deleted only when the database provably still opens with the
    /// old key; a leftover from an earlier failed rotation is resolved before a new one starts.
    pub async fn rotate_key(&self) -> Result<(), StoreError> {
        // Checked first so a wiped store does not ask the platform to seal a key for nothing.
        if self.thread.is_closed() {
            return Err(StoreError::Closed);
        }
        let paths = self.paths.clone();
        let sealer = self.sealer.clone();
        // Sealing and unsealing are platform calls: made before the store thread is involved.
        let prepared =
            crate::blocking::run(move || prepare_rotation(&paths, sealer.as_ref())).await?;
        let paths = self.paths.clone();
        self.thread
            .call_async(move |conn| rotate_on_connection(conn, &paths, prepared))
            .await?
    }

    /// [`Store::rotate_key`] for synchronous callers.
    pub fn rotate_key_blocking(&self) -> Result<(), StoreError> {
        if self.thread.is_closed() {
            return Err(StoreError::Closed);
        }
        let prepared = prepare_rotation(&self.paths, self.sealer.as_ref())?;
        let paths = self.paths.clone();
        self.thread
            .call_blocking(move |conn| rotate_on_connection(conn, &paths, prepared))?
    }

    /// Test support: a keyed store whose schema stops at `version`, with one meta row written at
    /// that version (when it has the table), to check that migrations keep data.
    #[cfg(test)]
    pub(crate) fn create_at_version(
        dir: &Path,
        sealer: Arc<dyn SecretSealer>,
        version: u32,
    ) -> Result<(), StoreError> {
        let _lock = DirLock::acquire(dir)?;
        let (_, mut conn, _) = open_keyed_connection(dir, sealer.as_ref())?;
        migrations::migrate_to(&mut conn, migrations::MIGRATIONS, version)?;
        if version >= 1 {
            conn.execute(
                "INSERT INTO meta (key, value, updated_at) VALUES ('written_at_version', ?1, 0)",
                [version.to_string()],
            )?;
        }
        Ok(())
    }
}

/// The first job of a store thread: take the directory lock, then open, key and migrate.
fn open_job(
    dir: &Path,
    sealer: Arc<dyn SecretSealer>,
) -> impl FnOnce() -> Result<(Connection, DirLock, Opened), StoreError> + Send + 'static {
    let dir = dir.to_path_buf();
    move || {
        std::fs::create_dir_all(&dir)
            .map_err(|e| StoreError::io("creating the data directory", e))?;
        let lock = DirLock::acquire(&dir)?;
        let (paths, mut conn, key_hardware_backed) = open_keyed_connection(&dir, sealer.as_ref())?;
        let previous = migrations::migrate(&mut conn)?;
        let schema_version = migrations::current_version(&conn)?;
        if previous != schema_version {
            tracing::info!(previous, schema_version, "store schema upgraded");
        }
        Ok((
            conn,
            lock,
            Opened {
                paths,
                schema_version,
                key_hardware_backed,
            },
        ))
    }
}

fn in_transaction<R, E>(
    conn: &mut Connection,
    change: impl FnOnce(&Transaction<'_>) -> Result<R, E>,
) -> Result<R, E>
where
    E: From<StoreError>,
{
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(|e| E::from(e.into()))?;
    let value = change(&tx)?;
    tx.commit().map_err(|e| E::from(e.into()))?;
    Ok(value)
}

fn wipe_locked(
    paths: &StorePaths,
    sealer: &dyn SecretSealer,
    lock: Option<DirLock>,
) -> Result<(), StoreError> {
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
    if let Some(lock) = lock {
        lock.remove()?;
    }
    tracing::info!("store wiped");
    Ok(())
}

/// Finds the right key for the database in `dir` (creating both when neither exists), opens it,
/// proves the key, and applies the connection settings. Touches no file on failure. Also reports
/// whether the sealer is hardware-backed, asked while the platform is being called anyway.
fn open_keyed_connection(
    dir: &Path,
    sealer: &dyn SecretSealer,
) -> Result<(StorePaths, Connection, bool), StoreError> {
    route_sqlite_logging_to_tracing();
    cipher::ensure_linked();
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
    Ok((paths, conn, sealer.is_hardware_backed()))
}

/// Tries the current key, then (after an interrupted rotation) the next one, and tidies the key
/// files to match whichever the database accepted. When neither works, the current key's failure
/// is the one reported: a transient failure to unseal it must not turn into the next key's
/// `KeyRejected`, which would make an app offer a wipe.
fn open_with_known_keys(
    paths: &StorePaths,
    sealer: &dyn SecretSealer,
    current: Option<Vec<u8>>,
    next: Option<Vec<u8>>,
    database_exists: bool,
) -> Result<Connection, StoreError> {
    let mut current_failure = None;
    if let Some(sealed) = current {
        let attempt = sealer
            .unseal(&sealed)
            .map_err(StoreError::Unseal)
            .and_then(DataKey::from_unsealed)
            .and_then(|key| connect(paths, &key, !database_exists));
        match attempt {
            Ok(conn) => {
                if next.is_some() {
                    // The rotation never committed: its key encrypts nothing.
                    tracing::info!("discarding the key of an interrupted rotation");
                    remove_if_present(&paths.next_key)?;
                }
                return Ok(conn);
            }
            Err(failure @ (StoreError::KeyRejected | StoreError::Unseal(_))) => {
                current_failure = Some(failure)
            }
            Err(other) => return Err(other),
        }
    }
    if let Some(sealed) = next {
        let attempt = sealer
            .unseal(&sealed)
            .map_err(StoreError::Unseal)
            .and_then(DataKey::from_unsealed)
            .and_then(|key| connect(paths, &key, false));
        match attempt {
            Ok(conn) => {
                // The rotation committed but its key file never replaced the old one.
                tracing::info!("completing an interrupted key rotation");
                promote_next(paths)?;
                return Ok(conn);
            }
            Err(next_failure) => return Err(current_failure.unwrap_or(next_failure)),
        }
    }
    Err(current_failure.unwrap_or(StoreError::KeyRejected))
}

/// Opens the database file with `key` and proves the key by reading the schema.
fn connect(paths: &StorePaths, key: &DataKey, create: bool) -> Result<Connection, StoreError> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(&paths.db, flags)?;
    // SQLCipher would otherwise print to stderr; its failures reach us as typed errors instead.
    // Memory security (process-wide, one-way, set before the key): freed SQLite buffers that held
    // decrypted pages or bound values are overwritten, for 2-3 % of the store's CPU time (see
    // `settings`, `store.memory_security_cost`).
    conn.execute_batch(
        "PRAGMA cipher_log_level = NONE;
         PRAGMA cipher_memory_security = ON;",
    )?;
    apply_key(&conn, key, "key")?;
    verify_key(&conn).map_err(classify_open_error)?;
    Ok(conn)
}

/// Runs `PRAGMA key`/`rekey`. Any failure becomes a fixed error: SQLite's message could quote the
/// statement, which holds the key in hex.
fn apply_key(conn: &Connection, key: &DataKey, pragma: &str) -> Result<(), StoreError> {
    conn.execute_batch(&key.pragma(pragma))
        .map_err(|_| StoreError::KeyStatementFailed)
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
    settings::apply_performance_settings(conn)?;
    Ok(())
}

fn set_journal_mode(conn: &Connection, mode: &str) -> Result<(), StoreError> {
    let applied: String = conn.pragma_update_and_check(None, "journal_mode", mode, |r| r.get(0))?;
    if !applied.eq_ignore_ascii_case(mode) {
        return Err(StoreError::JournalModeRefused);
    }
    Ok(())
}

/// What a rotation needs from the platform, gathered before the store thread is involved.
struct PreparedRotation {
    new_key: DataKey,
    sealed_new_key: Vec<u8>,
    /// The key the key file says the database uses; `None` when it could not be unsealed now
    /// (then a failed rekey keeps the next key file, since nothing proves it is unneeded).
    current_key: Option<DataKey>,
    /// A next key left by an earlier rotation in this or another session, unsealed.
    leftover_next_key: Option<DataKey>,
}

fn prepare_rotation(
    paths: &StorePaths,
    sealer: &dyn SecretSealer,
) -> Result<PreparedRotation, StoreError> {
    let unseal = |sealed: Vec<u8>| {
        sealer
            .unseal(&sealed)
            .map_err(StoreError::Unseal)
            .and_then(DataKey::from_unsealed)
    };
    let leftover_next_key = match read_sealed(&paths.next_key)? {
        // Without it, the leftover cannot be judged: refuse rather than overwrite it.
        Some(sealed) => Some(unseal(sealed).map_err(|_| StoreError::RotationUnresolved)?),
        None => None,
    };
    let current_key = match read_sealed(&paths.key)? {
        Some(sealed) => unseal(sealed).ok(),
        None => None,
    };
    let new_key = DataKey::generate()?;
    let sealed_new_key = sealer.seal(new_key.secret()).map_err(StoreError::Seal)?;
    Ok(PreparedRotation {
        new_key,
        sealed_new_key,
        current_key,
        leftover_next_key,
    })
}

/// Whether the database file opens with `key`, tried on a second connection so the store's own
/// connection is left as it is.
fn database_opens_with(paths: &StorePaths, key: &DataKey) -> bool {
    connect(paths, key, false).is_ok()
}

fn rotate_on_connection(
    conn: &mut Connection,
    paths: &StorePaths,
    prepared: PreparedRotation,
) -> Result<(), StoreError> {
    let PreparedRotation {
        new_key,
        sealed_new_key,
        mut current_key,
        leftover_next_key,
    } = prepared;

    if let Some(leftover) = leftover_next_key {
        // An earlier rotation failed after writing its key. Overwriting that file could destroy the
        // only sealed copy of the key the database uses, so settle it first.
        if database_opens_with(paths, &leftover) {
            tracing::info!("promoting the key of an earlier rotation before rotating again");
            promote_next(paths)?;
            current_key = Some(leftover);
        } else if current_key
            .as_ref()
            .is_some_and(|key| database_opens_with(paths, key))
        {
            remove_if_present(&paths.next_key)?;
        } else {
            return Err(StoreError::RotationUnresolved);
        }
    }

    write_sealed(&paths.next_key, &sealed_new_key)?;
    fault_point(paths, "next-key-written")?;

    // WAL would put the re-encrypted pages beside old ones in two files; the rollback journal
    // keeps rekey a single atomic commit.
    set_journal_mode(conn, "delete")?;
    fault_point(paths, "journal-mode-delete")?;

    let rekeyed = if take_fault(paths, "rekey-statement") {
        Err(StoreError::KeyStatementFailed)
    } else {
        apply_key(conn, &new_key, "rekey")
    };
    if let Err(error) = rekeyed {
        // SQLCipher rolls a failed rekey back, so the old key should still be the one. Delete the
        // new key file only when a fresh connection proves it; otherwise the next open decides.
        let old_key_proven = current_key
            .as_ref()
            .is_some_and(|key| database_opens_with(paths, key));
        if old_key_proven {
            remove_if_present(&paths.next_key)?;
        }
        tracing::warn!(old_key_proven, "key rotation failed before it committed");
        set_journal_mode(conn, "wal")?;
        return Err(error);
    }
    let verified = if take_fault(paths, "verify-after-rekey") {
        Err(StoreError::RekeyUnverified)
    } else {
        verify_key(conn).map_err(|_| StoreError::RekeyUnverified)
    };
    if let Err(error) = verified {
        // The rekey committed: the next key file is now the only sealed copy of the key the
        // database uses. It stays; the next open tries it after the current one.
        tracing::warn!("the database could not be read back after the rekey");
        let _ = set_journal_mode(conn, "wal");
        return Err(error);
    }
    fault_point(paths, "rekeyed")?;

    if take_fault(paths, "promote") {
        return Err(StoreError::Io {
            action: "promoting the rotated key",
            kind: std::io::ErrorKind::Other,
        });
    }
    promote_next(paths)?;
    fault_point(paths, "key-promoted")?;
    set_journal_mode(conn, "wal")?;
    tracing::info!("store key rotated");
    Ok(())
}

/// SQLite reports some problems only through its global log. Its messages can quote SQL and the
/// values in it, so only the result code and SQLite's fixed text for that code are passed on.
fn route_sqlite_logging_to_tracing() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        fn log(code: std::os::raw::c_int, _message: &str) {
            let meaning = rusqlite::ffi::code_to_str(code);
            tracing::debug!(target: "citizen_core::sqlite", code, meaning, "SQLite log entry");
        }
        // SAFETY: called once, before this module opens any connection. If another part of the
        // process already initialised SQLite, the call fails harmlessly and logging stays off.
        if let Err(error) = unsafe { rusqlite::trace::config_log(Some(log)) } {
            tracing::debug!(%error, "SQLite log routing unavailable");
        }
    });
}

/// Crash and fault injection for the tests. `CITIZEN_TEST_CRASH_AT` makes a child process abort
/// at a named step, as if killed there; [`inject_fault`] makes one step of one directory's next
/// rotation fail.
#[cfg(test)]
fn fault_point(paths: &StorePaths, step: &str) -> Result<(), StoreError> {
    if std::env::var("CITIZEN_TEST_CRASH_AT").is_ok_and(|at| at == step) {
        std::process::abort();
    }
    if take_fault(paths, step) {
        return Err(StoreError::Io {
            action: "an injected fault",
            kind: std::io::ErrorKind::Other,
        });
    }
    Ok(())
}
#[cfg(not(test))]
fn fault_point(_paths: &StorePaths, _step: &str) -> Result<(), StoreError> {
    Ok(())
}

#[cfg(test)]
static FAULTS: std::sync::Mutex<Vec<(std::path::PathBuf, &'static str)>> =
    std::sync::Mutex::new(Vec::new());

/// Makes `step` fail once in the next rotation of the store in `dir`.
#[cfg(test)]
pub(crate) fn inject_fault(dir: &Path, step: &'static str) {
    FAULTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((dir.to_path_buf(), step));
}

#[cfg(test)]
fn take_fault(paths: &StorePaths, step: &str) -> bool {
    let mut faults = FAULTS.lock().unwrap_or_else(|p| p.into_inner());
    match faults
        .iter()
        .position(|(dir, s)| dir == &paths.dir && *s == step)
    {
        Some(index) => {
            faults.remove(index);
            true
        }
        None => false,
    }
}
#[cfg(not(test))]
fn take_fault(_paths: &StorePaths, _step: &str) -> bool {
    false
}

#[cfg(test)]
mod tests;
