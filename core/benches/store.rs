//! Store benchmarks, summarised by `cargo xtask bench` into `target/bench-report.json`.
//!
//! - `store/workload/{sqlcipher,sqlite}`: the same workload (10k inserts in one transaction, 10k
//!   point reads, a range scan) on the real encrypted store and on plain SQLite with the same
//!   connection settings, in the same run. Their ratio is `store.overhead`.
//! - `store/open`: unseal + open + key check + migration check of an existing store
//!   (`store.open_ms`).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use citizen_core::{SoftwareSealer, Store};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rusqlite::{Connection, params};

const ROWS: i64 = 10_000;

fn workload(conn: &mut Connection) -> i64 {
    conn.execute_batch(
        "CREATE TABLE bench (id INTEGER PRIMARY KEY, name TEXT NOT NULL, payload BLOB NOT NULL);",
    )
    .unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut insert = tx
            .prepare("INSERT INTO bench (id, name, payload) VALUES (?1, ?2, ?3)")
            .unwrap();
        for i in 0..ROWS {
            insert
                .execute(params![i, format!("citizen-{i}"), [i as u8; 100]])
                .unwrap();
        }
    }
    tx.commit().unwrap();

    let mut total = 0i64;
    let mut point = conn
        .prepare("SELECT length(name) + length(payload) FROM bench WHERE id = ?1")
        .unwrap();
    for i in 0..ROWS {
        // A stride through the table rather than sequential ids, like real look-ups.
        total += point
            .query_row([(i * 7919) % ROWS], |r| r.get::<_, i64>(0))
            .unwrap();
    }
    total += conn
        .query_row(
            "SELECT sum(length(payload)) FROM bench WHERE id BETWEEN 2000 AND 8000",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap();
    total
}

/// Plain SQLite with the store's connection settings.
fn plain_connection(dir: &std::path::Path) -> Connection {
    let conn = Connection::open(dir.join("plain.db")).unwrap();
    conn.pragma_update_and_check(None, "journal_mode", "wal", |r| r.get::<_, String>(0))
        .unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; PRAGMA synchronous = FULL;",
    )
    .unwrap();
    conn
}

fn bench_workload(c: &mut Criterion) {
    let mut group = c.benchmark_group("store/workload");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    group.bench_function("sqlcipher", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().unwrap();
                let store =
                    Store::open(dir.path(), Arc::new(SoftwareSealer::in_dir(dir.path()))).unwrap();
                (dir, store)
            },
            |(dir, store)| {
                black_box(store.with_connection(|c| Ok(workload(c))).unwrap());
                (dir, store)
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("sqlite", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().unwrap();
                let conn = plain_connection(dir.path());
                (dir, conn)
            },
            |(dir, mut conn)| {
                black_box(workload(&mut conn));
                (dir, conn)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn bench_open(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let sealer = Arc::new(SoftwareSealer::in_dir(dir.path()));
    {
        let store = Store::open(dir.path(), sealer.clone()).unwrap();
        store.meta_set("seed", "an existing store").unwrap();
    }
    let mut group = c.benchmark_group("store");
    group.sample_size(50);
    group.bench_function("open", |b| {
        b.iter_custom(|iterations| {
            let mut spent = Duration::ZERO;
            for _ in 0..iterations {
                let started = Instant::now();
                let store = Store::open(dir.path(), sealer.clone()).unwrap();
                spent += started.elapsed();
                // Closing (a WAL checkpoint) is not part of opening.
                drop(black_box(store));
            }
            spent
        })
    });
    group.finish();
}

criterion_group!(benches, bench_workload, bench_open);
criterion_main!(benches);
