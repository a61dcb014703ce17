//! Store tests against the real SQLCipher library and real files. The crash tests re-run this test
//! binary as a child process and kill it (or let it abort at a named step) mid-rotation.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::*;
use crate::platform::{PlatformError, SoftwareSealer};
use crate::secret::SecretBytes;

fn sealer(dir: &Path) -> Arc<dyn SecretSealer> {
    Arc::new(SoftwareSealer::in_dir(dir))
}

/// Every file in `dir` with its bytes, to prove a failed open changed nothing.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            (
                entry.file_name().to_string_lossy().into_owned(),
                fs::read(entry.path()).unwrap(),
            )
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn open(dir: &Path) -> Store {
    Store::open_blocking(dir, sealer(dir)).unwrap()
}

fn fill_rows(store: &Store, rows: usize) {
    store
        .write_blocking(move |tx| {
            for i in 0..rows {
                tx.execute(
                    "INSERT INTO meta (key, value, updated_at) VALUES (?1, ?2, 0)",
                    rusqlite::params![format!("row-{i}"), "x".repeat(1000)],
                )?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
}

fn query<T: rusqlite::types::FromSql + Send + 'static>(store: &Store, sql: &'static str) -> T {
    store
        .read_blocking(move |c| Ok::<_, StoreError>(c.query_row(sql, [], |r| r.get(0))?))
        .unwrap()
}

fn row_count(store: &Store) -> i64 {
    query(store, "SELECT count(*) FROM meta WHERE key LIKE 'row-%'")
}

fn integrity_ok(store: &Store) -> bool {
    query::<String>(store, "PRAGMA integrity_check") == "ok"
}

fn meta_get(store: &Store, key: &'static str) -> Option<String> {
    store.read_blocking(move |c| meta::get(c, key)).unwrap()
}

fn meta_set(store: &Store, key: &'static str, value: &'static str) {
    store
        .write_blocking(move |tx| meta::set(tx, key, value))
        .unwrap()
}

#[test]
fn a_fresh_store_is_created_encrypted_and_reopens_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    assert_eq!(store.schema_version(), migrations::latest_version());
    assert!(!store.key_hardware_backed(), "the software sealer says so");
    meta_set(&store, "greeting", "xin chào PLAINTEXT-MARKER");
    store
        .read_blocking(|c| {
            Ok::<_, StoreError>(c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?)
        })
        .unwrap();
    assert_eq!(query::<String>(&store, "PRAGMA journal_mode"), "wal");
    assert_eq!(query::<i64>(&store, "PRAGMA foreign_keys"), 1);
    assert_eq!(query::<i64>(&store, "PRAGMA secure_delete"), 1);
    assert_eq!(
        query::<String>(&store, "PRAGMA cipher_memory_security"),
        "1"
    );
    drop(store);

    let db = fs::read(dir.path().join("citizen.db")).unwrap();
    assert!(!contains(&db, b"PLAINTEXT-MARKER"));
    assert!(
        !db.starts_with(b"SQLite format 3"),
        "the header must be encrypted too"
    );

    let reopened = open(dir.path());
    assert_eq!(
        meta_get(&reopened, "greeting").as_deref(),
        Some("xin chào PLAINTEXT-MARKER")
    );
}

#[test]
fn a_wrong_key_is_a_typed_error_and_leaves_files_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    fill_rows(&store, 10);
    drop(store);

    // Replace the sealed key with a valid sealed value of another random key.
    let other = sealer(dir.path())
        .seal(&SecretBytes::new(vec![0x42; 32]))
        .unwrap();
    keys::write_sealed(&StorePaths::new(dir.path()).key, &other).unwrap();
    let before = snapshot(dir.path());

    let error = Store::open_blocking(dir.path(), sealer(dir.path())).unwrap_err();
    assert!(matches!(error, StoreError::KeyRejected), "{error:?}");
    assert_eq!(snapshot(dir.path()), before);
    // Twice, to be sure the first failure did not leave anything that changes the second.
    let error = Store::open_blocking(dir.path(), sealer(dir.path())).unwrap_err();
    assert!(matches!(error, StoreError::KeyRejected), "{error:?}");
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn a_missing_key_file_is_a_typed_error_and_no_new_database_is_made() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    fs::remove_file(StorePaths::new(dir.path()).key).unwrap();
    let before = snapshot(dir.path());
    let error = Store::open_blocking(dir.path(), sealer(dir.path())).unwrap_err();
    assert!(matches!(error, StoreError::KeyMissing), "{error:?}");
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn a_key_that_will_not_unseal_is_a_typed_error_and_leaves_files_untouched() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    // The platform lost its sealing key (e.g. the lock screen was removed).
    fs::remove_file(dir.path().join("software-sealer.key")).unwrap();
    let before = snapshot(dir.path());
    let error = Store::open_blocking(dir.path(), sealer(dir.path())).unwrap_err();
    assert!(
        matches!(error, StoreError::Unseal(PlatformError::KeyUnavailable)),
        "{error:?}"
    );
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn a_damaged_key_file_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    fs::write(StorePaths::new(dir.path()).key, b"not a key file").unwrap();
    let before = snapshot(dir.path());
    let error = Store::open_blocking(dir.path(), sealer(dir.path())).unwrap_err();
    assert!(matches!(error, StoreError::KeyFileCorrupt), "{error:?}");
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn corrupt_database_files_are_typed_errors_and_left_untouched() {
    for damage in ["garbage", "truncated", "plain-sqlite"] {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        fill_rows(&store, 50);
        drop(store);
        let db_path = StorePaths::new(dir.path()).db;
        match damage {
            "garbage" => fs::write(&db_path, vec![0xA5; 8192]).unwrap(),
            "truncated" => {
                let bytes = fs::read(&db_path).unwrap();
                fs::write(&db_path, &bytes[..100]).unwrap();
            }
            _ => {
                fs::remove_file(&db_path).unwrap();
                let plain = Connection::open(&db_path).unwrap();
                plain.execute_batch("CREATE TABLE t (x);").unwrap();
            }
        }
        let before = snapshot(dir.path());
        let error = Store::open_blocking(dir.path(), sealer(dir.path())).unwrap_err();
        assert!(
            matches!(error, StoreError::KeyRejected | StoreError::Corrupt),
            "{damage}: {error:?}"
        );
        assert_eq!(snapshot(dir.path()), before, "{damage}");
    }
}

#[test]
fn wipe_removes_every_file_and_the_sealing_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    fill_rows(&store, 5);
    store.wipe_blocking().unwrap();
    assert!(
        snapshot(dir.path()).is_empty(),
        "{:?}",
        snapshot(dir.path()).keys()
    );
    assert!(matches!(
        store.read_blocking(|c| meta::get(c, "x")),
        Err(StoreError::Closed)
    ));
    assert!(matches!(
        store.rotate_key_blocking(),
        Err(StoreError::Closed)
    ));
    assert!(
        snapshot(dir.path()).is_empty(),
        "a closed store asks the platform for nothing"
    );

    // After a wipe the directory opens as a brand-new, empty store.
    let fresh = open(dir.path());
    assert_eq!(row_count(&fresh), 0);
}

#[test]
fn wipe_files_works_when_the_store_cannot_be_opened() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    fs::remove_file(dir.path().join("software-sealer.key")).unwrap();
    assert!(Store::open_blocking(dir.path(), sealer(dir.path())).is_err());
    Store::wipe_files(dir.path(), sealer(dir.path()).as_ref()).unwrap();
    assert!(snapshot(dir.path()).is_empty());
    Store::open_blocking(dir.path(), sealer(dir.path())).unwrap();
}

#[test]
fn rotation_keeps_data_and_retires_the_old_key() {
    let dir = tempfile::tempdir().unwrap();
    let paths = StorePaths::new(dir.path());
    let store = open(dir.path());
    fill_rows(&store, 200);
    let old_sealed_key = fs::read(&paths.key).unwrap();

    store.rotate_key_blocking().unwrap();
    store.rotate_key_blocking().unwrap();
    assert_eq!(row_count(&store), 200);
    assert!(!paths.next_key.exists());
    assert_eq!(query::<String>(&store, "PRAGMA journal_mode"), "wal");
    drop(store);
    assert_ne!(fs::read(&paths.key).unwrap(), old_sealed_key);

    let reopened = open(dir.path());
    assert_eq!(row_count(&reopened), 200);
    assert!(integrity_ok(&reopened));
    drop(reopened);

    // The old key no longer opens the database.
    fs::write(&paths.key, &old_sealed_key).unwrap();
    assert!(matches!(
        Store::open_blocking(dir.path(), sealer(dir.path())),
        Err(StoreError::KeyRejected)
    ));
}

const CRASH_DIR: &str = "CITIZEN_TEST_STORE_DIR";

/// The page HMAC (SQLCipher 4: HMAC-SHA512 over each page's ciphertext, IV and page number,
/// computed by the Rust provider in `store::cipher`) catches a changed byte anywhere in a page:
/// in the ciphertext, in the IV, or in the MAC itself. The store reports an error for the read
/// that touches the page; it never returns the page's data decrypted wrongly.
#[test]
fn a_tampered_page_is_detected_not_read() {
    const PAGE: u64 = 4096;
    // Pages counted from the end of the file: the rows' pages, written last.
    for (from_end, offset, what) in [
        (1, 100, "ciphertext"),
        (2, PAGE - 80 + 3, "IV"),
        (3, PAGE - 64 + 10, "HMAC"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        fill_rows(&store, 60);
        drop(store);
        let db_path = StorePaths::new(dir.path()).db;
        let mut bytes = fs::read(&db_path).unwrap();
        assert!(bytes.len() as u64 > 8 * PAGE, "{} bytes", bytes.len());
        let pages = bytes.len() as u64 / PAGE;
        let at = ((pages - from_end) * PAGE + offset) as usize;
        bytes[at] ^= 0x01;
        fs::write(&db_path, &bytes).unwrap();

        // Page 1 is intact, so the store opens; reading the damaged page fails.
        let store = open(dir.path());
        let read = store.read_blocking(|c| {
            let mut statement = c.prepare("SELECT key, value FROM meta WHERE key LIKE 'row-%'")?;
            let rows = statement
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, StoreError>(rows.len())
        });
        let error = match read {
            Ok(rows) => panic!("{what}: read {rows} rows from a tampered page"),
            Err(error) => error,
        };
        let StoreError::Sqlite(error) = error else {
            panic!("{what}: {error:?}")
        };
        assert_eq!(
            error.sqlite_error_code(),
            Some(ErrorCode::DatabaseCorrupt),
            "{what}: {error:?}"
        );
        drop(store);
    }

    // A changed byte in page 1 cannot be told from a wrong key: the same typed error as one.
    let dir = tempfile::tempdir().unwrap();
    fill_rows(&open(dir.path()), 10);
    let db_path = StorePaths::new(dir.path()).db;
    let mut bytes = fs::read(&db_path).unwrap();
    bytes[200] ^= 0x80;
    fs::write(&db_path, &bytes).unwrap();
    let error = Store::open_blocking(dir.path(), sealer(dir.path())).unwrap_err();
    assert!(matches!(error, StoreError::KeyRejected), "{error:?}");
}

/// The store's SQLCipher runs the provider in `store::cipher`, not OpenSSL (which is not linked).
#[test]
fn sqlcipher_uses_the_rust_provider() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    assert_eq!(
        query::<String>(&store, "PRAGMA cipher_provider"),
        "citizen-rust"
    );
    assert_eq!(query::<String>(&store, "PRAGMA cipher"), "aes-256-cbc");
}

/// Child half of the crash tests: rotates the store key until it is killed or aborts at the step
/// named by `CITIZEN_TEST_CRASH_AT`. Does nothing when run as an ordinary test.
#[test]
#[ignore = "run as a child process by the crash tests"]
fn rotation_child() {
    let Ok(dir) = std::env::var(CRASH_DIR) else {
        return;
    };
    let dir = Path::new(&dir);
    let store = Store::open_blocking(dir, sealer(dir)).unwrap();
    loop {
        store.rotate_key_blocking().unwrap();
    }
}

fn spawn_rotation_child(dir: &Path, crash_at: Option<&str>) -> std::process::Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "store::tests::rotation_child",
            "--exact",
            "--ignored",
            "--test-threads=1",
        ])
        .env(CRASH_DIR, dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    match crash_at {
        Some(step) => command.env("CITIZEN_TEST_CRASH_AT", step),
        None => command.env_remove("CITIZEN_TEST_CRASH_AT"),
    };
    command.spawn().unwrap()
}

fn assert_store_intact_after_crash(dir: &Path, rows: i64, context: &str) {
    let store =
        Store::open_blocking(dir, sealer(dir)).unwrap_or_else(|e| panic!("{context}: {e:?}"));
    assert_eq!(row_count(&store), rows, "{context}");
    assert!(integrity_ok(&store), "{context}");
    assert!(!StorePaths::new(dir).next_key.exists(), "{context}");
    // And it can rotate again afterwards.
    store.rotate_key_blocking().unwrap();
    assert_eq!(row_count(&store), rows, "{context}");
}

#[test]
fn a_crash_at_every_rotation_step_leaves_a_store_that_opens() {
    for step in [
        "next-key-written",
        "journal-mode-delete",
        "rekeyed",
        "key-promoted",
    ] {
        let dir = tempfile::tempdir().unwrap();
        fill_rows(
            &Store::open_blocking(dir.path(), sealer(dir.path())).unwrap(),
            300,
        );
        let status = spawn_rotation_child(dir.path(), Some(step)).wait().unwrap();
        assert!(!status.success(), "the child should have aborted at {step}");
        if step != "key-promoted" {
            assert!(StorePaths::new(dir.path()).next_key.exists(), "{step}");
        }
        assert_store_intact_after_crash(dir.path(), 300, step);
    }
}

#[test]
fn a_kill_at_random_moments_during_rotation_leaves_a_store_that_opens() {
    let dir = tempfile::tempdir().unwrap();
    // About 3 MB, so that a rekey takes long enough to be killed in the middle.
    fill_rows(
        &Store::open_blocking(dir.path(), sealer(dir.path())).unwrap(),
        3000,
    );
    let mut interrupted_rotations = 0;
    for (round, delay_ms) in [40u64, 90, 150, 220, 310, 420].into_iter().enumerate() {
        let mut child = spawn_rotation_child(dir.path(), None);
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap();
        child.wait().unwrap();
        if StorePaths::new(dir.path()).next_key.exists() {
            interrupted_rotations += 1;
        }
        assert_store_intact_after_crash(dir.path(), 3000, &format!("round {round}"));
    }
    eprintln!("killed mid-rotation (next key present) in {interrupted_rotations} of 6 rounds");
    // Without this the test would pass even if every kill landed between rotations, proving
    // nothing about a kill mid-rekey.
    assert!(
        interrupted_rotations > 0,
        "no kill landed mid-rotation; the test did not exercise recovery"
    );
}

#[test]
fn one_store_per_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path());
    assert!(matches!(
        Store::open_blocking(dir.path(), sealer(dir.path())),
        Err(StoreError::InUse)
    ));
    // Nor can the directory be wiped from under an open store.
    assert!(matches!(
        Store::wipe_files(dir.path(), sealer(dir.path()).as_ref()),
        Err(StoreError::InUse)
    ));
    meta_set(&first, "still", "here");
    drop(first);
    let second = open(dir.path());
    assert_eq!(meta_get(&second, "still").as_deref(), Some("here"));
}

#[test]
fn a_job_that_panics_is_contained_and_the_store_keeps_working() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let outcome = store.write_blocking::<(), StoreError>(|tx| {
        meta::set(tx, "half", "written")?;
        panic!("a bug in a capability's query");
    });
    assert!(matches!(outcome, Err(StoreError::Panicked)), "{outcome:?}");
    assert_eq!(
        meta_get(&store, "half"),
        None,
        "the transaction was rolled back"
    );
    meta_set(&store, "after", "ok");
    assert_eq!(meta_get(&store, "after").as_deref(), Some("ok"));
}

#[test]
fn async_callers_get_the_same_store() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = Store::open(dir.path(), sealer(dir.path())).await.unwrap();
        store.write(|tx| meta::set(tx, "k", "v")).await.unwrap();
        let thread = store
            .read(|_| Ok::<_, StoreError>(std::thread::current().name().map(str::to_owned)))
            .await
            .unwrap();
        assert_eq!(
            thread.as_deref(),
            Some("citizen-store"),
            "SQL runs on the store thread"
        );
        store.rotate_key().await.unwrap();
        assert_eq!(
            store.read(|c| meta::get(c, "k")).await.unwrap().as_deref(),
            Some("v")
        );
        store.wipe().await.unwrap();
    });
    assert!(snapshot(dir.path()).is_empty());
}

/// A sealer whose first `fail_unseals` unseal calls fail the way a busy platform does.
struct FlakySealer {
    inner: Arc<dyn SecretSealer>,
    fail_unseals: AtomicUsize,
}

impl SecretSealer for FlakySealer {
    fn seal(&self, plaintext: &SecretBytes) -> Result<Vec<u8>, PlatformError> {
        self.inner.seal(plaintext)
    }
    fn unseal(&self, sealed: &[u8]) -> Result<SecretBytes, PlatformError> {
        let left = self.fail_unseals.load(Ordering::SeqCst);
        if left > 0 {
            self.fail_unseals.store(left - 1, Ordering::SeqCst);
            return Err(PlatformError::TemporarilyUnavailable);
        }
        self.inner.unseal(sealed)
    }
    fn delete_key(&self) -> Result<(), PlatformError> {
        self.inner.delete_key()
    }
    fn is_hardware_backed(&self) -> bool {
        false
    }
}

#[test]
fn a_transient_unseal_failure_is_reported_as_itself_not_as_the_next_keys_rejection() {
    let dir = tempfile::tempdir().unwrap();
    fill_rows(&open(dir.path()), 20);
    // A rotation that died after writing its key: the database still uses the current key.
    let status = spawn_rotation_child(dir.path(), Some("next-key-written"))
        .wait()
        .unwrap();
    assert!(!status.success());
    assert!(StorePaths::new(dir.path()).next_key.exists());
    let before = snapshot(dir.path());

    let flaky = Arc::new(FlakySealer {
        inner: sealer(dir.path()),
        fail_unseals: AtomicUsize::new(1),
    });
    let error = Store::open_blocking(dir.path(), flaky.clone()).unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Unseal(PlatformError::TemporarilyUnavailable)
        ),
        "{error:?}"
    );
    assert_eq!(
        snapshot(dir.path()),
        before,
        "a failed open changes nothing"
    );

    // Once the platform answers again the store opens with its data.
    let store = Store::open_blocking(dir.path(), flaky).unwrap();
    assert_eq!(row_count(&store), 20);
    assert!(!StorePaths::new(dir.path()).next_key.exists());
}

#[test]
fn a_rekey_that_committed_but_did_not_verify_keeps_the_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    fill_rows(&store, 50);
    inject_fault(dir.path(), "verify-after-rekey");
    assert!(matches!(
        store.rotate_key_blocking(),
        Err(StoreError::RekeyUnverified)
    ));
    // The database is under the new key now; its only sealed copy must still be there.
    assert!(StorePaths::new(dir.path()).next_key.exists());
    drop(store);
    let reopened = open(dir.path());
    assert_eq!(row_count(&reopened), 50);
    assert!(integrity_ok(&reopened));
    assert!(!StorePaths::new(dir.path()).next_key.exists(), "promoted");
}

#[test]
fn a_failed_rekey_statement_discards_the_new_key_only_once_the_old_one_is_proven() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    fill_rows(&store, 50);
    let sealed_before = fs::read(StorePaths::new(dir.path()).key).unwrap();
    inject_fault(dir.path(), "rekey-statement");
    assert!(matches!(
        store.rotate_key_blocking(),
        Err(StoreError::KeyStatementFailed)
    ));
    assert!(!StorePaths::new(dir.path()).next_key.exists());
    assert_eq!(
        fs::read(StorePaths::new(dir.path()).key).unwrap(),
        sealed_before
    );
    assert_eq!(row_count(&store), 50, "the open store keeps working");
    store.rotate_key_blocking().unwrap();
    drop(store);
    assert_eq!(row_count(&open(dir.path())), 50);
}

#[test]
fn a_leftover_next_key_is_resolved_before_the_next_rotation_overwrites_it() {
    let dir = tempfile::tempdir().unwrap();
    let paths = StorePaths::new(dir.path());
    let store = open(dir.path());
    fill_rows(&store, 50);

    // Rotation 1 commits its rekey but cannot rename its key file into place: the next key file
    // is now the only sealed copy of the key the database uses.
    inject_fault(dir.path(), "promote");
    assert!(store.rotate_key_blocking().is_err());
    let sealed_k1 = fs::read(&paths.next_key).unwrap();

    // Rotation 2 fails right after writing its own key file. Had it overwritten the leftover, the
    // database (still under key 1) could never be opened again.
    inject_fault(dir.path(), "next-key-written");
    assert!(store.rotate_key_blocking().is_err());
    assert_eq!(
        fs::read(&paths.key).unwrap(),
        sealed_k1,
        "the leftover was promoted first"
    );
    drop(store);

    let reopened = open(dir.path());
    assert_eq!(row_count(&reopened), 50);
    assert!(integrity_ok(&reopened));
    assert!(!paths.next_key.exists());
    reopened.rotate_key_blocking().unwrap();
    assert_eq!(row_count(&reopened), 50);
}

#[test]
fn sqlite_log_lines_carry_no_sql_text_or_values() {
    use crate::logging::{LogLevel, LogRecord, LogSink, init_logging};
    #[derive(Default)]
    struct Collect(std::sync::Mutex<Vec<LogRecord>>);
    impl LogSink for Collect {
        fn log(&self, record: LogRecord) {
            self.0.lock().unwrap().push(record);
        }
    }
    let _serial = crate::logging::TEST_SINK_LOCK
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let sink = Arc::new(Collect::default());
    init_logging(LogLevel::Trace, sink.clone());
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    // A failing statement makes SQLite write to its global log, quoting the statement.
    let failed = store.read_blocking(|c| {
        Ok::<_, StoreError>(c.execute_batch("SELECT 'SECRET-VALUE-4711' FROM no_such_table;")?)
    });
    assert!(failed.is_err());
    let lines = sink.0.lock().unwrap().clone();
    let sqlite: Vec<_> = lines
        .iter()
        .filter(|r| r.target == "citizen_core::sqlite")
        .collect();
    assert!(
        !sqlite.is_empty(),
        "SQLite's log reached the sink: {lines:?}"
    );
    for line in &lines {
        assert!(!line.message.contains("SECRET-VALUE"), "{line:?}");
        assert!(!line.message.contains("no_such_table"), "{line:?}");
    }
}

#[test]
fn a_refused_key_statement_is_a_fixed_error_without_the_statement() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    // A read-only connection cannot rekey: SQLite refuses the statement that holds the key.
    let paths = StorePaths::new(dir.path());
    let secret = sealer(dir.path())
        .unseal(&keys::read_sealed(&paths.key).unwrap().unwrap())
        .unwrap();
    let key = DataKey::from_unsealed(secret).unwrap();
    let conn = Connection::open_with_flags(&paths.db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    apply_key(&conn, &key, "key").unwrap();
    verify_key(&conn).unwrap();
    let new_key = DataKey::generate().unwrap();
    let error = apply_key(&conn, &new_key, "rekey").unwrap_err();
    assert!(matches!(error, StoreError::KeyStatementFailed), "{error:?}");
    let printed = format!("{error} {error:?}");
    assert!(!printed.contains("x'"), "{printed}");
    assert!(!printed.to_lowercase().contains("pragma"), "{printed}");
}

#[test]
fn a_job_that_calls_back_into_the_store_fails_instead_of_deadlocking() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open(dir.path()));
    let inner = store.clone();
    let outcome = store
        .read_blocking(move |_| Ok::<_, StoreError>(inner.read_blocking(|c| meta::get(c, "k"))))
        .unwrap();
    assert!(matches!(outcome, Err(StoreError::Reentrant)), "{outcome:?}");
}

/// A replayable write commits like any write, and leaves the connection fsyncing every commit
/// again, even when its change fails.
#[tokio::test]
async fn a_replayable_write_commits_and_restores_full_durability() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), sealer(dir.path())).await.unwrap();
    let synchronous = |store: &Store| {
        store
            .read_blocking(|conn| {
                conn.query_row("PRAGMA synchronous", [], |r| r.get::<_, i64>(0))
                    .map_err(StoreError::from)
            })
            .unwrap()
    };
    const FULL: i64 = 2;
    assert_eq!(synchronous(&store), FULL);
    store
        .write_replayable(|tx| {
            crate::store::meta::set(tx, "replayable", "1")?;
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
    assert_eq!(synchronous(&store), FULL);
    let failed: Result<(), StoreError> = store
        .write_replayable(|tx| {
            crate::store::meta::set(tx, "replayable", "2")?;
            Err(StoreError::Corrupt)
        })
        .await;
    assert!(failed.is_err());
    assert_eq!(synchronous(&store), FULL);
    let kept = store
        .read_blocking(|conn| crate::store::meta::get(conn, "replayable"))
        .unwrap();
    assert_eq!(
        kept.as_deref(),
        Some("1"),
        "committed once, rolled back once"
    );
}
