//! Absolute store timings, summarised by `cargo xtask bench` into `target/bench-report.json`.
//!
//! - `store/open`: unseal + open + key check + migration check of an existing store
//!   (`store.open_ms`).
//!
//! Ratios between two sides (`store.overhead`, ...) are measured in interleaved pairs by
//! `benches/ratios.rs`, not here: Criterion runs one side fully and then the other, so background
//! load lands on one side only.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use citizen_core::store::meta;
use citizen_core::{SoftwareSealer, Store};
use criterion::{Criterion, criterion_group, criterion_main};

fn bench_open(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let sealer = Arc::new(SoftwareSealer::in_dir(dir.path()));
    {
        let store = Store::open_blocking(dir.path(), sealer.clone()).unwrap();
        store
            .write_blocking(|tx| meta::set(tx, "seed", "an existing store"))
            .unwrap();
    }
    let mut group = c.benchmark_group("store");
    group.sample_size(50);
    group.bench_function("open", |b| {
        b.iter_custom(|iterations| {
            let mut spent = Duration::ZERO;
            for _ in 0..iterations {
                let started = Instant::now();
                let store = Store::open_blocking(dir.path(), sealer.clone()).unwrap();
                spent += started.elapsed();
                // Closing (a WAL checkpoint) is not part of opening.
                drop(black_box(store));
            }
            spent
        })
    });
    group.finish();
}

criterion_group!(benches, bench_open);
criterion_main!(benches);
