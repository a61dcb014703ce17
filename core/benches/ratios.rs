//! Ratio figures, each measured in interleaved A/B pairs (see `interleaved/mod.rs`) and written
//! as JSON to `target/bench-figures/<name>.json`, which `cargo xtask bench` reads:
//!
//! - `store.overhead`: the store workload on the real encrypted [`Store`] over the same workload
//!   on plain SQLite opened with the store's connection settings (WAL, `synchronous = FULL`,
//!   `secure_delete`, `foreign_keys`, and [`apply_performance_settings`]), so that it measures
//!   encryption, not tuning.
//! - `store.memory_security_cost`: the store workload with `PRAGMA cipher_memory_security = ON`
//!   over the same with it OFF. The setting is process-wide and cannot be switched off once on,
//!   so every run of this figure is a child process of this bench. The store switches it on at
//!   every open, so both sides run a connection opened the way the store opens one, without it.
//!   (Being process-wide, it is on for the plain side of `store.overhead` too, as in the app.)
//! - `crypto.verify_ratio`: one ES256 verification as the SDK does it ([`Jws::verify`] on a parsed
//!   JWS with an [`EcPublicJwk`], the call `sdjwt` makes for the issuer JWT and the KB-JWT) over
//!   `ring`'s P-256 verification of the same signature called directly. Target <= 1.5.
//! - `crypto.p256_verify_over_ring`: the `p256` crate's verification of the same signature over
//!   `ring`'s, for the record of which library the SDK verifies with (see `jose::es256`).
//!
//! The crypto runs verify the same ~1 KB JWS [`VERIFICATIONS_PER_RUN`] times each, so that a run
//! is milliseconds long; every side takes the public key as SEC1 bytes on every call (ring's
//! `UnparsedPublicKey` parses it inside `verify`, p256 parses it with `from_sec1_bytes`), and
//! every side asserts that the signature verified.
//!
//! The workload, the same on every side: create a table; insert 10k rows in one transaction;
//! 10k point reads by strided ids; one range scan. On the store the two writes are each a
//! `write_blocking` (an immediate transaction) and the reads one `read_blocking`; the plain side
//! runs the same statements in the same transactions. Each run gets a new database; opening it
//! and closing it are not timed. Runs are timed in process CPU time (see
//! `interleaved::process_cpu_time` for why).
//!
//! `cargo bench -p citizen-core --bench ratios -- --study` measures instead the candidate
//! connection settings whose figures `core/src/store/settings.rs` quotes (2-3 minutes). Run
//! without `--bench` (as `cargo test --all-targets` does), it only checks that every side runs.

mod interleaved;

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use citizen_core::jose::{EcPublicJwk, Jws, SoftwareSigner, sign_compact};
use citizen_core::store::settings::apply_performance_settings;
use citizen_core::{SoftwareSealer, Store, StoreError};
use interleaved::{Ratio, cpu_timed, measure_ratio, process_cpu_time};
use p256::ecdsa::signature::Verifier;
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior, params};

/// Rows the workload inserts and reads back (about 1.3 MB: 314 pages of 4 KiB).
const ROWS: i64 = 10_000;
/// Pairs per figure, and pairs run first and discarded. A `store.overhead` pair takes about
/// 45 ms of CPU, a `store.memory_security_cost` pair (two child processes) about 150 ms.
const OVERHEAD_PAIRS: usize = 100;
const MEMORY_SECURITY_PAIRS: usize = 30;
const WARMUP_PAIRS: usize = 4;

const MEMORY_SECURITY_CHILD: &str = "--memory-security-child";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == MEMORY_SECURITY_CHILD) {
        memory_security_child(args.get(at + 1).is_some_and(|v| v == "on"));
    } else if args.iter().any(|a| a == "--study") {
        study::run();
    } else if args.iter().any(|a| a == "--bench") {
        figures();
    } else {
        // `cargo test --all-targets` runs benches without `--bench`: prove that every side still
        // runs, quickly and in a debug build, and write no figure.
        measure_ratio(2, 0, || store_run(100), || plain_run(&SMOKE));
        measure_ratio(2, 0, || keyed_run(&SMOKE), || plain_run(&SMOKE));
        let es256 = Es256::new();
        for side in [Es256::sdk, Es256::ring, Es256::p256] {
            es256.run(side, 1)();
        }
        println!("ratios: every side runs (`cargo bench` measures the figures)");
    }
}

/// The `cargo test` smoke run's tuning: the store's settings on a tiny workload.
const SMOKE: Tuning = Tuning {
    rows: 100,
    ..Tuning::STORE
};

fn figures() {
    let dir = interleaved::figures_dir();
    let es256 = Es256::new();
    // Each over ring's verification of the same signature, called directly.
    let crypto: [(&str, &str, Es256Side); 2] = [
        (
            "crypto.verify_ratio",
            "SDK ES256 verify (Jws::verify)",
            Es256::sdk,
        ),
        ("crypto.p256_verify_over_ring", "p256 verify", Es256::p256),
    ];
    for (name, label, side) in crypto {
        let ratio = measure_ratio(
            CRYPTO_PAIRS,
            WARMUP_PAIRS,
            es256.run(side, VERIFICATIONS_PER_RUN),
            es256.run(Es256::ring, VERIFICATIONS_PER_RUN),
        );
        let b = "ring P-256 verify";
        report_per_op(&dir, name, &ratio, label, b, VERIFICATIONS_PER_RUN);
    }

    let overhead = measure_ratio(
        OVERHEAD_PAIRS,
        WARMUP_PAIRS,
        || store_run(ROWS),
        || plain_run(&Tuning::STORE),
    );
    report(&dir, "store.overhead", &overhead, "store", "plain SQLite");

    let memory_security = measure_ratio(
        MEMORY_SECURITY_PAIRS,
        WARMUP_PAIRS,
        || memory_security_run(true),
        || memory_security_run(false),
    );
    report(
        &dir,
        "store.memory_security_cost",
        &memory_security,
        "cipher_memory_security ON",
        "cipher_memory_security OFF",
    );
}

fn report(dir: &Path, name: &str, ratio: &Ratio, a: &str, b: &str) {
    write(dir, name, ratio, ratio.to_json(name, a, b));
}

/// [`report`] for runs of `ops` operations each: adds `ops_per_run` and each side's median time
/// per operation (`a_per_op_us`, `b_per_op_us`).
fn report_per_op(dir: &Path, name: &str, ratio: &Ratio, a: &str, b: &str, ops: usize) {
    let mut figure = ratio.to_json(name, a, b);
    let per_op_us = |run: Duration| run.as_secs_f64() * 1e6 / ops as f64;
    figure["ops_per_run"] = ops.into();
    figure["a_per_op_us"] = per_op_us(ratio.a_median).into();
    figure["b_per_op_us"] = per_op_us(ratio.b_median).into();
    write(dir, name, ratio, figure);
}

fn write(dir: &Path, name: &str, ratio: &Ratio, mut figure: serde_json::Value) {
    println!("{name:<28} {}", ratio.summary());
    figure["clock"] = "process CPU time".into();
    interleaved::write_figure(dir, &figure)
        .unwrap_or_else(|e| panic!("writing {name} to {}: {e}", dir.display()));
}

// ---------------------------------------------------------------------------------------------
// ES256 verification

/// Verifications per timed run: a few milliseconds of CPU with ring (tens of microseconds each).
const VERIFICATIONS_PER_RUN: usize = 64;
const CRYPTO_PAIRS: usize = 100;

/// One way of verifying [`Es256`]'s signature; `true` when it verified.
type Es256Side = fn(&Es256) -> bool;

/// One signed JWS and its key, in the forms each side takes.
struct Es256 {
    jws: Jws,
    key: EcPublicJwk,
    sec1: [u8; 65],
}

impl Es256 {
    fn new() -> Self {
        let signer = SoftwareSigner::from_scalar(&[7u8; 32]).expect("a valid scalar");
        // About the size of an SD-JWT VC's issuer-signed payload.
        let claims = serde_json::json!({
            "iss": "https://issuer.example.gov.vn",
            "vct": "urn:citizen:pid:1",
            "iat": 1_790_000_000,
            "exp": 1_790_086_400,
            "_sd": (0..20).map(|i| format!("{i:0>43}")).collect::<Vec<_>>(),
            "_sd_alg": "sha-256",
            "cnf": {"jwk": signer.public_key().to_value()},
        });
        let mut header = serde_json::Map::new();
        header.insert("typ".into(), "dc+sd-jwt".into());
        let compact = sign_compact(&header, claims.to_string().as_bytes(), &signer)
            .expect("a software key signs");
        let key = signer.public_key().clone();
        Self {
            jws: Jws::parse(&compact, 64 * 1024).expect("the JWS just made parses"),
            sec1: key.to_sec1(),
            key,
        }
    }

    /// As the SDK verifies: `Jws::verify` with the caller's key.
    fn sdk(&self) -> bool {
        self.jws.verify(&self.key).is_ok()
    }

    fn ring(&self) -> bool {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.sec1)
            .verify(self.jws.signing_input(), self.jws.signature())
            .is_ok()
    }

    fn p256(&self) -> bool {
        let Ok(key) = p256::ecdsa::VerifyingKey::from_sec1_bytes(&self.sec1) else {
            return false;
        };
        let Ok(signature) = p256::ecdsa::Signature::from_slice(self.jws.signature()) else {
            return false;
        };
        key.verify(self.jws.signing_input(), &signature).is_ok()
    }

    /// A [`measure_ratio`] side: `side` called `times` times, asserting every verification.
    fn run(&self, side: Es256Side, times: usize) -> impl FnMut() -> Duration + '_ {
        cpu_timed(move || {
            for _ in 0..times {
                assert!(black_box(side(black_box(self))), "the signature verifies");
            }
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The workload

/// How the workload prepares its statements. The store figure uses `Once`, as before.
#[derive(Clone, Copy)]
enum Statements {
    /// `prepare` once, run many times.
    Once,
    /// `prepare_cached` at every use (the statement cache's lookup each time).
    Cached,
    /// `execute` / `query_row` with the SQL text at every use (parsed each time).
    Reparsed,
}

const INSERT: &str = "INSERT INTO bench (id, name, payload) VALUES (?1, ?2, ?3)";
const POINT_READ: &str = "SELECT length(name) + length(payload) FROM bench WHERE id = ?1";

fn create_table(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE bench (id INTEGER PRIMARY KEY, name TEXT NOT NULL, payload BLOB NOT NULL);",
    )?;
    Ok(())
}

fn insert_rows(conn: &Connection, rows: i64, statements: Statements) -> Result<(), StoreError> {
    let row = |i: i64| (i, format!("citizen-{i}"), [i as u8; 100]);
    match statements {
        Statements::Once => {
            let mut insert = conn.prepare(INSERT)?;
            for i in 0..rows {
                let (id, name, payload) = row(i);
                insert.execute(params![id, name, payload])?;
            }
        }
        Statements::Cached => {
            for i in 0..rows {
                let (id, name, payload) = row(i);
                conn.prepare_cached(INSERT)?
                    .execute(params![id, name, payload])?;
            }
        }
        Statements::Reparsed => {
            for i in 0..rows {
                let (id, name, payload) = row(i);
                conn.execute(INSERT, params![id, name, payload])?;
            }
        }
    }
    Ok(())
}

fn read_rows(conn: &Connection, rows: i64, statements: Statements) -> Result<i64, StoreError> {
    // A stride through the table rather than sequential ids, like real look-ups.
    let id = |i: i64| (i * 7919) % rows;
    let length = |r: &rusqlite::Row<'_>| r.get::<_, i64>(0);
    let mut total = 0;
    match statements {
        Statements::Once => {
            let mut point = conn.prepare(POINT_READ)?;
            for i in 0..rows {
                total += point.query_row([id(i)], length)?;
            }
        }
        Statements::Cached => {
            for i in 0..rows {
                total += conn
                    .prepare_cached(POINT_READ)?
                    .query_row([id(i)], length)?;
            }
        }
        Statements::Reparsed => {
            for i in 0..rows {
                total += conn.query_row(POINT_READ, [id(i)], length)?;
            }
        }
    }
    let (from, to) = (rows / 5, rows * 4 / 5);
    total += conn.query_row(
        "SELECT sum(length(payload)) FROM bench WHERE id BETWEEN ?1 AND ?2",
        [from, to],
        length,
    )?;
    Ok(total)
}

/// One run on the real store: a new store in a new directory; the workload is timed.
fn store_run(rows: i64) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let sealer = Arc::new(SoftwareSealer::in_dir(dir.path()));
    let store = Store::open_blocking(dir.path(), sealer).unwrap();
    let started = process_cpu_time();
    store.write_blocking(|tx| create_table(tx)).unwrap();
    store
        .write_blocking(move |tx| insert_rows(tx, rows, Statements::Once))
        .unwrap();
    let total = store
        .read_blocking(move |conn| read_rows(conn, rows, Statements::Once))
        .unwrap();
    let spent = process_cpu_time() - started;
    black_box(total);
    // Dropping the store waits for its thread to close the database (a WAL checkpoint): after
    // the clock stopped and before the next run starts.
    drop(store);
    spent
}

/// Connection settings for a bench-local connection. [`Tuning::STORE`] is what the store does.
#[derive(Clone, Copy)]
struct Tuning {
    label: &'static str,
    /// Whether [`apply_performance_settings`] runs (the store always runs it).
    performance_settings: bool,
    /// Statements run on both sides after the store's settings.
    extra: &'static str,
    /// Statements that fix the format of a new encrypted database: run after `PRAGMA key`,
    /// before its first access.
    cipher_format: &'static str,
    /// The same for the plain database (to give it the same page size).
    plain_format: &'static str,
    rows: i64,
    statements: Statements,
}

impl Tuning {
    const STORE: Tuning = Tuning {
        label: "store settings",
        performance_settings: true,
        extra: "",
        cipher_format: "",
        plain_format: "",
        rows: ROWS,
        statements: Statements::Once,
    };
}

/// The safety settings of the store (`store::configure`), then the tuning's.
fn configure(conn: &Connection, tuning: &Tuning) -> rusqlite::Result<()> {
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "wal", |r| r.get(0))?;
    assert!(mode.eq_ignore_ascii_case("wal"), "journal mode {mode}");
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA synchronous = FULL;
         PRAGMA busy_timeout = 5000;",
    )?;
    if tuning.performance_settings {
        apply_performance_settings(conn)?;
    }
    conn.execute_batch(tuning.extra)
}

const OPEN_FLAGS: OpenFlags = OpenFlags::SQLITE_OPEN_READ_WRITE
    .union(OpenFlags::SQLITE_OPEN_CREATE)
    .union(OpenFlags::SQLITE_OPEN_NO_MUTEX);

/// Plain SQLite (the same SQLCipher library, no key) opened like the store opens its database.
fn plain_connection(dir: &Path, tuning: &Tuning) -> Connection {
    let conn = Connection::open_with_flags(dir.join("plain.db"), OPEN_FLAGS).unwrap();
    conn.execute_batch(tuning.plain_format).unwrap();
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    })
    .unwrap();
    configure(&conn, tuning).unwrap();
    conn
}

/// An encrypted connection opened exactly as the store opens one (`store::connect` and
/// `store::configure`), for the study's variants that the real store cannot be told to use.
fn keyed_connection(dir: &Path, tuning: &Tuning) -> Connection {
    let conn = Connection::open_with_flags(dir.join("keyed.db"), OPEN_FLAGS).unwrap();
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")
        .unwrap();
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "5a".repeat(32)))
        .unwrap();
    conn.execute_batch(tuning.cipher_format).unwrap();
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    })
    .unwrap();
    configure(&conn, tuning).unwrap();
    conn
}

fn in_transaction<R>(
    conn: &mut Connection,
    change: impl FnOnce(&Transaction<'_>) -> Result<R, StoreError>,
) -> R {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .unwrap();
    let value = change(&tx).unwrap();
    tx.commit().unwrap();
    value
}

/// The workload on a bench-local connection, in the same transactions as [`store_run`].
fn connection_run(mut conn: Connection, tuning: &Tuning) -> Duration {
    let (rows, statements) = (tuning.rows, tuning.statements);
    let started = process_cpu_time();
    in_transaction(&mut conn, |tx| create_table(tx));
    in_transaction(&mut conn, |tx| insert_rows(tx, rows, statements));
    let total = read_rows(&conn, rows, statements).unwrap();
    let spent = process_cpu_time() - started;
    black_box(total);
    drop(conn);
    spent
}

fn plain_run(tuning: &Tuning) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    connection_run(plain_connection(dir.path(), tuning), tuning)
}

fn keyed_run(tuning: &Tuning) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    connection_run(keyed_connection(dir.path(), tuning), tuning)
}

// ---------------------------------------------------------------------------------------------
// cipher_memory_security

/// One `store.memory_security_cost` run: a child process that runs the store workload once to
/// warm up and once timed, and reports the timed run's CPU time.
fn memory_security_run(on: bool) -> Duration {
    let exe = std::env::current_exe().expect("the bench knows its own path");
    let output = Command::new(exe)
        .args([MEMORY_SECURITY_CHILD, if on { "on" } else { "off" }])
        .output()
        .expect("the bench can start itself");
    assert!(
        output.status.success(),
        "memory security child failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let nanos: u64 = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("the child prints nanoseconds");
    Duration::from_nanos(nanos)
}

fn memory_security_child(on: bool) {
    // The pragma sets a process-wide switch (SQLCipher's allocator wrapper): any connection will
    // do, and it holds for the store opened next.
    let conn = Connection::open_in_memory().unwrap();
    if on {
        conn.execute_batch("PRAGMA cipher_memory_security = ON;")
            .unwrap();
    }
    let state: String = conn
        .query_row("PRAGMA cipher_memory_security", [], |r| r.get(0))
        .unwrap();
    assert_eq!(state, if on { "1" } else { "0" }, "cipher_memory_security");
    drop(conn);
    // The store itself now always switches it on, so the OFF side cannot use the real store:
    // both sides run the bench-local connection opened as the store opens one (1.008x the store).
    keyed_run(&Tuning::STORE);
    println!("{}", keyed_run(&Tuning::STORE).as_nanos());
}

// ---------------------------------------------------------------------------------------------
// The settings study

mod study {
    use super::*;

    const PAIRS: usize = 40;
    /// Runs of the larger workload take up to a second each.
    const LARGE_PAIRS: usize = 12;
    /// A workload of about 5 MB (1,255 pages), larger than SQLite's default 2 MB page cache.
    const LARGE_ROWS: i64 = 40_000;

    /// SQLite's defaults: the store's safety settings and nothing else.
    const DEFAULTS: Tuning = Tuning {
        label: "SQLite defaults (no performance settings)",
        performance_settings: false,
        ..Tuning::STORE
    };

    pub fn run() {
        println!("SQLCipher: {}", probe("cipher_version"));
        println!(
            "keyed connection defaults: cipher_memory_security={} cache_size={} temp_store={} \
             mmap_size={} cipher_page_size={} cipher_hmac_algorithm={}",
            probe("cipher_memory_security"),
            probe("cache_size"),
            probe("temp_store"),
            probe("mmap_size"),
            probe("cipher_page_size"),
            probe("cipher_hmac_algorithm"),
        );
        println!(
            "mmap on an encrypted database: {}",
            mmap_on_encrypted_database()
        );
        println!("\nA/B over {PAIRS} pairs (CPU time), A = encrypted, B = plain unless named:");

        let line = |label: &str, ratio: Ratio| println!("{label:<56} {}", ratio.summary());
        line(
            "real Store / bench-local keyed connection",
            measure_ratio(
                PAIRS,
                WARMUP_PAIRS,
                || store_run(ROWS),
                || keyed_run(&Tuning::STORE),
            ),
        );

        let variants = [
            DEFAULTS,
            Tuning {
                label: "+ cache_size = -500 (500 KiB)",
                extra: "PRAGMA cache_size = -500;",
                ..DEFAULTS
            },
            Tuning {
                label: "+ cache_size = -8192 (8 MiB)",
                extra: "PRAGMA cache_size = -8192;",
                ..DEFAULTS
            },
            Tuning {
                label: "+ temp_store = MEMORY",
                extra: "PRAGMA temp_store = MEMORY;",
                ..DEFAULTS
            },
            Tuning {
                label: "+ mmap_size = 256 MiB",
                extra: "PRAGMA mmap_size = 268435456;",
                ..DEFAULTS
            },
            Tuning {
                label: "+ locking_mode = EXCLUSIVE",
                extra: "PRAGMA locking_mode = EXCLUSIVE;",
                ..DEFAULTS
            },
            Tuning {
                label: "statements: prepare_cached at every use",
                statements: Statements::Cached,
                ..DEFAULTS
            },
            Tuning {
                label: "statements: parsed at every use",
                statements: Statements::Reparsed,
                ..DEFAULTS
            },
            Tuning {
                label: "new db: cipher_page_size = page_size = 8192",
                cipher_format: "PRAGMA cipher_page_size = 8192;",
                plain_format: "PRAGMA page_size = 8192;",
                ..DEFAULTS
            },
            Tuning {
                label: "new db: cipher_page_size = page_size = 16384",
                cipher_format: "PRAGMA cipher_page_size = 16384;",
                plain_format: "PRAGMA page_size = 16384;",
                ..DEFAULTS
            },
            Tuning {
                label: "new db: cipher_hmac_algorithm = HMAC_SHA256",
                cipher_format: "PRAGMA cipher_hmac_algorithm = HMAC_SHA256;",
                ..DEFAULTS
            },
            Tuning {
                label: "new db: HMAC_SHA256 and 16384-byte pages",
                cipher_format: "PRAGMA cipher_hmac_algorithm = HMAC_SHA256; \
                                PRAGMA cipher_page_size = 16384;",
                plain_format: "PRAGMA page_size = 16384;",
                ..DEFAULTS
            },
            Tuning {
                label: "new db: cipher_use_hmac = OFF (attribution only)",
                cipher_format: "PRAGMA cipher_use_hmac = OFF;",
                ..DEFAULTS
            },
            Tuning {
                label: "store settings (apply_performance_settings)",
                ..Tuning::STORE
            },
        ];
        for tuning in &variants {
            line(
                tuning.label,
                measure_ratio(
                    PAIRS,
                    WARMUP_PAIRS,
                    || keyed_run(tuning),
                    || plain_run(tuning),
                ),
            );
        }

        println!("\nAbsolute effects, A = with the setting, B = without (both sides as named):");
        let compare = |label: &str, sides: [(bool, &Tuning); 2]| {
            let run = |(keyed, tuning): (bool, &Tuning)| {
                if keyed {
                    keyed_run(tuning)
                } else {
                    plain_run(tuning)
                }
            };
            line(
                label,
                measure_ratio(PAIRS, WARMUP_PAIRS, || run(sides[0]), || run(sides[1])),
            );
        };
        let cached = Tuning {
            statements: Statements::Cached,
            ..DEFAULTS
        };
        let reparsed = Tuning {
            statements: Statements::Reparsed,
            ..DEFAULTS
        };
        let exclusive = Tuning {
            extra: "PRAGMA locking_mode = EXCLUSIVE;",
            ..DEFAULTS
        };
        compare(
            "encrypted: prepare_cached / parsed at every use",
            [(true, &cached), (true, &reparsed)],
        );
        compare(
            "encrypted: locking_mode EXCLUSIVE / NORMAL",
            [(true, &exclusive), (true, &DEFAULTS)],
        );
        compare(
            "encrypted: store settings / SQLite defaults",
            [(true, &Tuning::STORE), (true, &DEFAULTS)],
        );

        println!("\nA workload of {LARGE_ROWS} rows (about 5 MB), {LARGE_PAIRS} pairs:");
        let large = [
            Tuning {
                label: "SQLite defaults (cache 2000 KiB)",
                rows: LARGE_ROWS,
                ..DEFAULTS
            },
            Tuning {
                label: "+ cache_size = -4096 (4 MiB)",
                extra: "PRAGMA cache_size = -4096;",
                rows: LARGE_ROWS,
                ..DEFAULTS
            },
            Tuning {
                label: "store settings (apply_performance_settings)",
                rows: LARGE_ROWS,
                ..Tuning::STORE
            },
        ];
        for tuning in &large {
            line(
                tuning.label,
                measure_ratio(LARGE_PAIRS, 1, || keyed_run(tuning), || plain_run(tuning)),
            );
        }
        println!("\nmemory security (child processes), {MEMORY_SECURITY_PAIRS} pairs:");
        line(
            "store: cipher_memory_security ON / OFF",
            measure_ratio(
                MEMORY_SECURITY_PAIRS,
                WARMUP_PAIRS,
                || memory_security_run(true),
                || memory_security_run(false),
            ),
        );
    }

    /// A pragma's value on a new keyed connection opened like the store's.
    fn probe(pragma: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let conn = keyed_connection(dir.path(), &DEFAULTS);
        conn.query_row(&format!("PRAGMA {pragma}"), [], |r| {
            Ok(match r.get_ref(0)? {
                rusqlite::types::ValueRef::Integer(i) => i.to_string(),
                rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                other => format!("{other:?}"),
            })
        })
        .unwrap()
    }

    /// Whether SQLite maps the database file into memory when `mmap_size` allows it, seen in
    /// `/proc/self/maps` after reading an existing database. SQLCipher accepts and reports the
    /// setting on an encrypted database, but its pager never reads through a map while a codec
    /// is attached (`setGetterMethod` in sqlite3.c requires `xCodec == 0`).
    fn mmap_on_encrypted_database() -> String {
        let mapped = |keyed: bool| {
            let dir = tempfile::tempdir().unwrap();
            let open = |dir: &Path| {
                if keyed {
                    keyed_connection(dir, &DEFAULTS)
                } else {
                    plain_connection(dir, &DEFAULTS)
                }
            };
            let mut conn = open(dir.path());
            in_transaction(&mut conn, |tx| create_table(tx));
            in_transaction(&mut conn, |tx| insert_rows(tx, 1000, Statements::Once));
            drop(conn);
            let conn = open(dir.path());
            conn.execute_batch("PRAGMA mmap_size = 268435456;").unwrap();
            let reported: i64 = conn
                .query_row("PRAGMA mmap_size", [], |r| r.get(0))
                .unwrap();
            black_box(read_rows(&conn, 1000, Statements::Once).unwrap());
            let file = dir.path().join(if keyed { "keyed.db" } else { "plain.db" });
            let file = file.to_string_lossy();
            let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
            // Only the database file itself: the WAL index (`-shm`) is always mapped.
            let mapped = maps.lines().any(|line| line.ends_with(&*file));
            format!("reports mmap_size {reported}, file mapped: {mapped}")
        };
        format!("encrypted {}; plain {}", mapped(true), mapped(false))
    }
}
