//! Store tests against the real SQLCipher library and real files. The crash tests re-run this test
//! binary as a child process and kill it (or let it abort at a named step) mid-rotation.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::platform::SoftwareSealer;
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

fn fill_rows(store: &Store, rows: usize) {
    store
        .with_connection(|c| {
            let tx = c.transaction()?;
            for i in 0..rows {
                tx.execute(
                    "INSERT INTO meta (key, value, updated_at) VALUES (?1, ?2, 0)",
                    params![format!("row-{i}"), "x".repeat(1000)],
                )?;
            }
            tx.commit()
        })
        .unwrap();
}

fn row_count(store: &Store) -> i64 {
    store
        .with_connection(|c| {
            c.query_row(
                "SELECT count(*) FROM meta WHERE key LIKE 'row-%'",
                [],
                |r| r.get(0),
            )
        })
        .unwrap()
}

fn integrity_ok(store: &Store) -> bool {
    store
        .with_connection(|c| c.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0)))
        .unwrap()
        == "ok"
}

#[test]
fn a_fresh_store_is_created_encrypted_and_reopens_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), sealer(dir.path())).unwrap();
    assert_eq!(store.schema_version(), migrations::latest_version());
    store
        .meta_set("greeting", "xin chào PLAINTEXT-MARKER")
        .unwrap();
    store
        .with_connection(|c| c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);"))
        .unwrap();
    let journal_mode: String = store
        .with_connection(|c| c.query_row("PRAGMA journal_mode", [], |r| r.get(0)))
        .unwrap();
    assert_eq!(journal_mode, "wal");
    let foreign_keys: i64 = store
        .with_connection(|c| c.query_row("PRAGMA foreign_keys", [], |r| r.get(0)))
        .unwrap();
    assert_eq!(foreign_keys, 1);
    let secure_delete: i64 = store
        .with_connection(|c| c.query_row("PRAGMA secure_delete", [], |r| r.get(0)))
        .unwrap();
    assert_eq!(secure_delete, 1);
    drop(store);

    let db = fs::read(dir.path().join("citizen.db")).unwrap();
    assert!(!contains(&db, b"PLAINTEXT-MARKER"));
    assert!(
        !db.starts_with(b"SQLite format 3"),
        "the header must be encrypted too"
    );

    let reopened = Store::open(dir.path(), sealer(dir.path())).unwrap();
    assert_eq!(
        reopened.meta_get("greeting").unwrap().as_deref(),
        Some("xin chào PLAINTEXT-MARKER")
    );
}

#[test]
fn a_wrong_key_is_a_typed_error_and_leaves_files_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), sealer(dir.path())).unwrap();
    fill_rows(&store, 10);
    drop(store);

    // Replace the sealed key with a valid sealed value of another random key.
    let other = sealer(dir.path())
        .seal(&SecretBytes::new(vec![0x42; 32]))
        .unwrap();
    keys::write_sealed(&StorePaths::new(dir.path()).key, &other).unwrap();
    let before = snapshot(dir.path());

    let error = Store::open(dir.path(), sealer(dir.path())).unwrap_err();
    assert!(matches!(error, StoreError::KeyRejected), "{error:?}");
    assert_eq!(snapshot(dir.path()), before);
    // Twice, to be sure the first failure did not leave anything that changes the second.
    let error = Store::open(dir.path(), sealer(dir.path())).unwrap_err();
    assert!(matches!(error, StoreError::KeyRejected), "{error:?}");
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn a_missing_key_file_is_a_typed_error_and_no_new_database_is_made() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), sealer(dir.path())).unwrap());
    fs::remove_file(StorePaths::new(dir.path()).key).unwrap();
    let before = snapshot(dir.path());
    let error = Store::open(dir.path(), sealer(dir.path())).unwrap_err();
    assert!(matches!(error, StoreError::KeyMissing), "{error:?}");
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn a_key_that_will_not_unseal_is_a_typed_error_and_leaves_files_untouched() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), sealer(dir.path())).unwrap());
    // The platform lost its sealing key (e.g. the lock screen was removed).
    fs::remove_file(dir.path().join("software-sealer.key")).unwrap();
    let before = snapshot(dir.path());
    let error = Store::open(dir.path(), sealer(dir.path())).unwrap_err();
    assert!(
        matches!(error, StoreError::Unseal(PlatformError::KeyUnavailable)),
        "{error:?}"
    );
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn a_damaged_key_file_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), sealer(dir.path())).unwrap());
    fs::write(StorePaths::new(dir.path()).key, b"not a key file").unwrap();
    let before = snapshot(dir.path());
    let error = Store::open(dir.path(), sealer(dir.path())).unwrap_err();
    assert!(matches!(error, StoreError::KeyFileCorrupt), "{error:?}");
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn corrupt_database_files_are_typed_errors_and_left_untouched() {
    for damage in ["garbage", "truncated", "plain-sqlite"] {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), sealer(dir.path())).unwrap();
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
        let error = Store::open(dir.path(), sealer(dir.path())).unwrap_err();
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
    let store = Store::open(dir.path(), sealer(dir.path())).unwrap();
    fill_rows(&store, 5);
    store.wipe().unwrap();
    assert!(
        snapshot(dir.path()).is_empty(),
        "{:?}",
        snapshot(dir.path()).keys()
    );
    assert!(matches!(store.meta_get("x"), Err(StoreError::Closed)));
    assert!(matches!(store.rotate_key(), Err(StoreError::Closed)));

    // After a wipe the directory opens as a brand-new, empty store.
    let fresh = Store::open(dir.path(), sealer(dir.path())).unwrap();
    assert_eq!(row_count(&fresh), 0);
}

#[test]
fn wipe_files_works_when_the_store_cannot_be_opened() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), sealer(dir.path())).unwrap());
    fs::remove_file(dir.path().join("software-sealer.key")).unwrap();
    assert!(Store::open(dir.path(), sealer(dir.path())).is_err());
    Store::wipe_files(dir.path(), sealer(dir.path()).as_ref()).unwrap();
    assert!(snapshot(dir.path()).is_empty());
    Store::open(dir.path(), sealer(dir.path())).unwrap();
}

#[test]
fn rotation_keeps_data_and_retires_the_old_key() {
    let dir = tempfile::tempdir().unwrap();
    let paths = StorePaths::new(dir.path());
    let store = Store::open(dir.path(), sealer(dir.path())).unwrap();
    fill_rows(&store, 200);
    let old_sealed_key = fs::read(&paths.key).unwrap();

    store.rotate_key().unwrap();
    store.rotate_key().unwrap();
    assert_eq!(row_count(&store), 200);
    assert!(!paths.next_key.exists());
    let journal_mode: String = store
        .with_connection(|c| c.query_row("PRAGMA journal_mode", [], |r| r.get(0)))
        .unwrap();
    assert_eq!(journal_mode, "wal");
    drop(store);
    assert_ne!(fs::read(&paths.key).unwrap(), old_sealed_key);

    let reopened = Store::open(dir.path(), sealer(dir.path())).unwrap();
    assert_eq!(row_count(&reopened), 200);
    assert!(integrity_ok(&reopened));
    drop(reopened);

    // The old key no longer opens the database.
    fs::write(&paths.key, &old_sealed_key).unwrap();
    assert!(matches!(
        Store::open(dir.path(), sealer(dir.path())),
        Err(StoreError::KeyRejected)
    ));
}

const CRASH_DIR: &str = "CITIZEN_TEST_STORE_DIR";

/// Child half of the crash tests: rotates the store key until it is killed or aborts at the step
/// named by `CITIZEN_TEST_CRASH_AT`. Does nothing when run as an ordinary test.
#[test]
#[ignore = "run as a child process by the crash tests"]
fn rotation_child() {
    let Ok(dir) = std::env::var(CRASH_DIR) else {
        return;
    };
    let dir = Path::new(&dir);
    let store = Store::open(dir, sealer(dir)).unwrap();
    loop {
        store.rotate_key().unwrap();
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
    let store = Store::open(dir, sealer(dir)).unwrap_or_else(|e| panic!("{context}: {e:?}"));
    assert_eq!(row_count(&store), rows, "{context}");
    assert!(integrity_ok(&store), "{context}");
    assert!(!StorePaths::new(dir).next_key.exists(), "{context}");
    // And it can rotate again afterwards.
    store.rotate_key().unwrap();
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
        fill_rows(&Store::open(dir.path(), sealer(dir.path())).unwrap(), 300);
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
    fill_rows(&Store::open(dir.path(), sealer(dir.path())).unwrap(), 3000);
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
}
