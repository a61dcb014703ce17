//! The store's SQLCipher (crypto provider in Rust, `store::cipher`) against a standard SQLCipher 4
//! linked with OpenSSL: PyPI `sqlcipher3-binary` 0.6.0 (SQLCipher 4.12.0 community, OpenSSL 3.5),
//! driven by `tests/sqlcipher/standard_sqlcipher.py`.
//!
//! - Databases the standard build wrote open here: the committed fixtures in `tests/sqlcipher/`
//!   (SQLCipher 4 defaults with a raw key, the store's mode, and with a passphrase, the PBKDF2
//!   path; SQLCipher 3's format with a passphrase, the SHA-1 compatibility path). The script's
//!   docstring has the exact commands that made them.
//! - Databases written here open in the standard build: a real [`Store`] (raw key, WAL, the
//!   store's settings), and a passphrase database in both formats.
//!
//! The second half needs the standard build at test time: a Python with `sqlcipher3` from
//! `$CITIZEN_SQLCIPHER_PYTHON`, else the venv `target/tools/sqlcipher-venv`, which the test
//! creates when it is missing (`python3 -m venv` + `pip install sqlcipher3-binary==0.6.0`; PyPI
//! is reachable from every machine of the project).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use citizen_core::store::meta;
use citizen_core::{SecretSealer, SoftwareSealer, Store, StoreError};
use rusqlite::Connection;
use serde_json::Value;

const PASSPHRASE: &str = "correct horse battery staple";
const PACKAGE: &str = "sqlcipher3-binary==0.6.0";
const FIXTURE_ROWS: i64 = 40;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sqlcipher")
}

/// `x'000102...1f'`, the fixtures' raw key.
fn fixture_raw_key() -> String {
    let hex: String = (0u8..32).map(|b| format!("{b:02x}")).collect();
    format!("x'{hex}'")
}

/// Opens `path` with `PRAGMA key`, as the store does (a raw key) or with a passphrase.
fn open_keyed(path: &Path, key: &str, compatibility: Option<u32>) -> Connection {
    let conn = Connection::open(path).unwrap();
    let statement = if key.starts_with("x'") {
        format!("PRAGMA key = \"{key}\";")
    } else {
        format!("PRAGMA key = '{key}';")
    };
    conn.execute_batch(&statement).unwrap();
    if let Some(version) = compatibility {
        conn.execute_batch(&format!("PRAGMA cipher_compatibility = {version};"))
            .unwrap();
    }
    conn
}

fn provider(conn: &Connection) -> String {
    conn.query_row("PRAGMA cipher_provider", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn databases_written_by_standard_sqlcipher_open_here() {
    for (file, key, compatibility) in [
        ("v4-raw-key.db", fixture_raw_key(), None),
        ("v4-passphrase.db", PASSPHRASE.to_string(), None),
        ("v3-passphrase.db", PASSPHRASE.to_string(), Some(3)),
    ] {
        // A copy: opening may write (the WAL or journal files) and the fixture must stay as made.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(file);
        std::fs::copy(fixtures().join(file), &path).unwrap();
        let conn = open_keyed(&path, &key, compatibility);
        assert_eq!(provider(&conn), "citizen-rust", "{file}");
        let integrity: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(integrity, "ok", "{file}");
        let mut statement = conn.prepare("SELECT id, note FROM t ORDER BY id").unwrap();
        let rows: Vec<(i64, String)> = statement
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows.len() as i64, FIXTURE_ROWS, "{file}");
        for (i, (id, note)) in rows.iter().enumerate() {
            assert_eq!(*id, i as i64);
            assert_eq!(
                note,
                &format!("row {i} written by standard SQLCipher {}", "x".repeat(200))
            );
        }
        // The wrong key is refused, not read as garbage.
        let wrong = open_keyed(&path, "not the passphrase", compatibility);
        let error = wrong
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap_err();
        assert_eq!(
            error.sqlite_error_code(),
            Some(rusqlite::ErrorCode::NotADatabase),
            "{file}"
        );
    }
}

#[test]
fn databases_written_here_open_in_standard_sqlcipher() {
    let python = standard_python();

    // The real store: a raw key, WAL, the store's settings and migrations.
    let dir = tempfile::tempdir().unwrap();
    let sealer = Arc::new(SoftwareSealer::in_dir(dir.path()));
    let store = Store::open_blocking(dir.path(), sealer.clone()).unwrap();
    store
        .write_blocking(|tx| meta::set(tx, "greeting", "xin chào from the Rust provider"))
        .unwrap();
    store
        .read_blocking(|c| {
            assert_eq!(provider(c), "citizen-rust");
            Ok::<_, StoreError>(())
        })
        .unwrap();
    drop(store);
    let sealed = std::fs::read(dir.path().join("citizen.db.key")).unwrap();
    let key = sealer
        .unseal(sealed.strip_prefix(b"CZK1").unwrap())
        .unwrap();
    let hex: String = key.expose().iter().map(|b| format!("{b:02x}")).collect();
    let dumped = dump_with(
        &python,
        &dir.path().join("citizen.db"),
        &format!("x'{hex}'"),
        None,
        "SELECT key, value FROM meta WHERE key = 'greeting'",
    );
    assert_eq!(dumped["integrity"], "ok");
    assert_eq!(dumped["cipher_provider"], "openssl");
    assert_eq!(
        dumped["rows"],
        serde_json::json!([["greeting", "xin chào from the Rust provider"]])
    );

    // A passphrase (PBKDF2 here, PBKDF2 there), in SQLCipher 4's and SQLCipher 3's formats.
    for compatibility in [None, Some(3)] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("written-here.db");
        {
            let conn = open_keyed(&path, PASSPHRASE, compatibility);
            conn.execute_batch(
                "CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT NOT NULL);
                 WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 39)
                 INSERT INTO t SELECT i, 'row ' || i || ' ' || hex(zeroblob(100)) FROM n;",
            )
            .unwrap();
        }
        let dumped = dump_with(
            &python,
            &path,
            PASSPHRASE,
            compatibility,
            "SELECT id, note FROM t ORDER BY id",
        );
        assert_eq!(dumped["integrity"], "ok", "{compatibility:?}");
        let rows = dumped["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 40, "{compatibility:?}");
        assert_eq!(
            rows[39],
            serde_json::json!([39, format!("row 39 {}", "0".repeat(200))])
        );
    }
}

/// Runs the standard build's `dump` on `path` and returns its JSON.
fn dump_with(
    python: &Path,
    path: &Path,
    key: &str,
    compatibility: Option<u32>,
    query: &str,
) -> Value {
    let mut command = Command::new(python);
    command
        .arg(fixtures().join("standard_sqlcipher.py"))
        .arg("dump")
        .arg(path)
        .arg(key)
        .arg(compatibility.map_or(String::new(), |c| c.to_string()))
        .arg(query);
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "standard SQLCipher could not read {}: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let dumped: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        dumped["cipher_version"]
            .as_str()
            .is_some_and(|v| v.starts_with("4.")),
        "{dumped}"
    );
    dumped
}

/// A Python that imports `sqlcipher3`, installed into `target/tools/sqlcipher-venv` on first use.
fn standard_python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            if let Some(python) = std::env::var_os("CITIZEN_SQLCIPHER_PYTHON") {
                return PathBuf::from(python);
            }
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
            let venv = target.join("tools/sqlcipher-venv");
            let python = venv.join("bin/python");
            let imports = |python: &Path| {
                Command::new(python)
                    .args(["-c", "import sqlcipher3"])
                    .status()
                    .is_ok_and(|s| s.success())
            };
            if !imports(&python) {
                let made = Command::new("python3")
                    .args(["-m", "venv"])
                    .arg(&venv)
                    .status()
                    .expect("python3 -m venv");
                assert!(made.success(), "python3 -m venv failed");
                let installed = Command::new(venv.join("bin/pip"))
                    .args(["install", "--quiet", PACKAGE])
                    .status()
                    .expect("pip install");
                assert!(installed.success(), "pip install {PACKAGE} failed");
            }
            assert!(
                imports(&python),
                "{} cannot import sqlcipher3",
                python.display()
            );
            python
        })
        .clone()
}
