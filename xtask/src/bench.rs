//! `cargo xtask bench`: runs the benches of `citizen-core` and turns their results into the
//! figures the issues set targets for, printed and written to `target/bench-report.json` as
//! `[{name, value, unit, target, ok, ...}]` (`target`/`ok` are null for figures kept for context).
//!
//! Two sources:
//! - absolute timings from Criterion (`benches/store.rs`, `benches/identity.rs`,
//!   `benches/catalogue.rs`), read from `target/criterion/`, and plain figures benches
//!   write as `target/bench-figures/<name>.json` (`identity.qr_chars`,
//!   `catalogue.search_p95_ms`, `checkin.purge_100k_ms`);
//! - ratios from `benches/ratios.rs` and `benches/checkin.rs` (`checkin.scan_ratio`), measured
//!   in interleaved pairs and written as
//!   `target/bench-figures/<name>.json`. Their value is the median of the per-pair ratios; their
//!   report rows add the spread: `q1`, `q3` (interquartile range), `min`, `max`, `pairs`, the two
//!   sides `a`/`b`, each side's median run time (`a_median_ms`, `b_median_ms`) and the `clock`
//!   that timed them; figures whose runs repeat one operation add `ops_per_run` and each side's
//!   median time per operation (`a_per_op_us`, `b_per_op_us`).
//!
//! - `attachment.resend_chunks` from the end-to-end upload test (`tests/uploads.rs`), which writes
//!   it to the same directory.
//!
//! - `attachment.rss_mb`, `outbox.drain_ratio` (a lower bound: `FLOORS`) and
//!   `catalogue.sync_ms` from the sandbox benches of `citizen-e2e` (`tests/benches/`).
//!
//! Last, `lib.size_mb`: the stripped phone library's size from `size.rs` (its own LTO build).

use std::path::Path;

use serde_json::{Map, Value, json};

use crate::util::{self, Result};

struct Figure {
    name: &'static str,
    value: f64,
    unit: &'static str,
    /// Upper bound; `None` for context figures.
    target: Option<f64>,
    /// For ratios: the figure as `benches/ratios.rs` wrote it (spread, pairs, sides).
    ratio: Option<Map<String, Value>>,
}

/// Figures whose target is a lower bound (every other target is an upper bound).
const FLOORS: [&str; 1] = ["outbox.drain_ratio"];

/// The ratio figures `benches/ratios.rs` and `benches/checkin.rs` write, with their targets.
const RATIOS: [(&str, Option<f64>); 5] = [
    ("crypto.verify_ratio", Some(1.5)),
    ("crypto.p256_verify_over_ring", None),
    ("store.overhead", Some(1.10)),
    ("store.memory_security_cost", None),
    // Issue 8: scan-to-persisted check-in over one ring verification + one insert.
    ("checkin.scan_ratio", Some(2.0)),
];

pub fn run() -> Result<()> {
    let figures_dir = util::target_dir().join("bench-figures");
    // A figure left over from an earlier run must not pass for this one.
    match std::fs::remove_dir_all(&figures_dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }

    util::step("cargo bench (citizen-core: store, identity, dcc, catalogue, checkin, ratios)");
    util::run(
        util::cargo()
            .args(["bench", "-p", "citizen-core"])
            .args(["--bench", "store", "--bench", "identity", "--bench", "dcc"])
            .args([
                "--bench",
                "catalogue",
                "--bench",
                "checkin",
                "--bench",
                "ratios",
            ])
            .env("CITIZEN_BENCH_FIGURES", &figures_dir),
    )?;

    // Issue 9's `attachment.resend_chunks`: a count, not a timing, so the end-to-end upload test
    // (sandbox over HTTPS, a cut mid-upload, a restart) measures it in its ordinary build.
    util::step("cargo test (citizen-e2e: uploads, for attachment.resend_chunks)");
    util::run(
        util::cargo()
            .args(["test", "-p", "citizen-e2e", "--test", "uploads"])
            .env("CITIZEN_BENCH_FIGURES", &figures_dir),
    )?;
    let resend_chunks = read_value(&figures_dir, "attachment.resend_chunks")?;

    // Issue 9's benches that need the sandbox portal (`tests/benches/`): plain binaries, each in
    // its own process (the memory figure must not inherit the other's heap).
    util::step("cargo bench (citizen-e2e: attachment_rss, dossier_drain)");
    util::run(
        util::cargo()
            .args(["bench", "-p", "citizen-e2e", "--bench", "attachment_rss"])
            .env("CITIZEN_BENCH_FIGURES", &figures_dir),
    )?;
    util::run(
        util::cargo()
            .args(["bench", "-p", "citizen-e2e", "--bench", "dossier_drain"])
            .env("CITIZEN_BENCH_FIGURES", &figures_dir),
    )?;
    let attachment_rss = read_value(&figures_dir, "attachment.rss_mb")?;
    let drain_ratio = read_value(&figures_dir, "outbox.drain_ratio")?;
    let catalogue_sync = read_value(&figures_dir, "catalogue.sync_ms")?;

    let criterion = util::target_dir().join("criterion");
    let open = mean_estimate_ns(&criterion, "store/open")?;
    let present = mean_estimate_ns(&criterion, "identity/present")?;
    let verify = mean_estimate_ns(&criterion, "identity/verify")?;
    let remote_prepare = mean_estimate_ns(&criterion, "remote/prepare")?;
    let remote_respond = mean_estimate_ns(&criterion, "remote/respond")?;
    let dcc_verify = mean_estimate_ns(&criterion, "dcc/verify")?;
    let qr_chars = read_value(&figures_dir, "identity.qr_chars")?;
    let catalogue_search = mean_estimate_ns(&criterion, "catalogue/search")?;
    let catalogue_p95 = read_value(&figures_dir, "catalogue.search_p95_ms")?;
    let purge_100k = read_value(&figures_dir, "checkin.purge_100k_ms")?;

    let mut figures = Vec::new();
    for (name, target) in RATIOS {
        figures.push(read_ratio(&figures_dir, name, target)?);
    }
    figures.push(Figure {
        name: "store.open_ms",
        value: open / 1e6,
        unit: "ms",
        target: Some(20.0),
        ratio: None,
    });
    figures.push(Figure {
        name: "identity.present_ms",
        value: present / 1e6,
        unit: "ms",
        target: Some(5.0),
        ratio: None,
    });
    figures.push(Figure {
        name: "identity.verify_ms",
        value: verify / 1e6,
        unit: "ms",
        target: Some(3.0),
        ratio: None,
    });
    figures.push(Figure {
        name: "remote.prepare_ms",
        value: remote_prepare / 1e6,
        unit: "ms",
        target: Some(5.0),
        ratio: None,
    });
    figures.push(Figure {
        name: "remote.respond_ms",
        value: remote_respond / 1e6,
        unit: "ms",
        target: Some(10.0),
        ratio: None,
    });
    // Mean time to verify one EU DCC, over the corpus's ES256 and PS256 certificates.
    figures.push(Figure {
        name: "dcc.verify_us",
        value: dcc_verify / 1e3,
        unit: "us",
        target: None,
        ratio: None,
    });
    // Issue 9's `catalog.search_p95_ms`: one ranked search over 7,000 procedures.
    figures.push(Figure {
        name: "catalogue.search_p95_ms",
        value: catalogue_p95,
        unit: "ms",
        target: Some(5.0),
        ratio: None,
    });
    figures.push(Figure {
        name: "catalogue.search_ms",
        value: catalogue_search / 1e6,
        unit: "ms",
        target: None,
        ratio: None,
    });
    // Issue 8: purging 100k expired diary entries (wall-clock median; the figure file has the
    // median in process CPU time beside it).
    figures.push(Figure {
        name: "checkin.purge_100k_ms",
        value: purge_100k,
        unit: "ms",
        target: Some(150.0),
        ratio: None,
    });
    // Chunks sent again after the connection was cut in the middle of an upload.
    figures.push(Figure {
        name: "attachment.resend_chunks",
        value: resend_chunks,
        unit: "chunks",
        target: Some(1.0),
        ratio: None,
    });
    // Peak RSS growth storing a 50 MB attachment from a file and uploading it (MB of 10^6 bytes).
    figures.push(Figure {
        name: "attachment.rss_mb",
        value: attachment_rss,
        unit: "MB",
        target: Some(16.0),
        ratio: None,
    });
    // SDK outbox throughput over a plain reqwest loop posting the same bodies: a floor (FLOORS).
    figures.push(Figure {
        name: "outbox.drain_ratio",
        value: drain_ratio,
        unit: "ratio",
        target: Some(0.8),
        ratio: None,
    });
    // The first full catalogue sync from the loopback sandbox.
    figures.push(Figure {
        name: "catalogue.sync_ms",
        value: catalogue_sync,
        unit: "ms",
        target: None,
        ratio: None,
    });
    figures.push(Figure {
        name: "identity.qr_chars",
        value: qr_chars,
        unit: "chars",
        target: Some(1200.0),
        ratio: None,
    });

    // The phone library's stripped size (`cargo xtask size`), after the benches.
    figures.push(Figure {
        name: "lib.size_mb",
        value: crate::size::measure()?.stripped_mb,
        unit: "MB",
        target: Some(crate::size::TARGET_MB),
        ratio: None,
    });

    println!("\n== bench summary");
    let mut report = Vec::new();
    let mut missed = Vec::new();
    for figure in &figures {
        let floor = FLOORS.contains(&figure.name);
        let ok = figure.target.map(|t| {
            if floor {
                figure.value >= t
            } else {
                figure.value <= t
            }
        });
        println!(
            "{:<28} {:>8.3} {:<6} target {:<8} {:<6} {}",
            figure.name,
            figure.value,
            figure.unit,
            figure.target.map_or("-".into(), |t| format!(
                "{} {t}",
                if floor { ">=" } else { "<=" }
            )),
            match ok {
                Some(true) => "ok",
                Some(false) => "MISSED",
                None => "",
            },
            figure.ratio.as_ref().map_or(String::new(), spread_text),
        );
        if ok == Some(false) {
            missed.push(figure.name);
        }
        let mut row = Map::new();
        if let Some(ratio) = &figure.ratio {
            row.extend(ratio.clone());
        }
        row.insert("name".into(), json!(figure.name));
        row.insert("value".into(), json!(figure.value));
        row.insert("unit".into(), json!(figure.unit));
        row.insert("target".into(), json!(figure.target));
        if figure.target.is_some() {
            row.insert(
                "target_is".into(),
                json!(if floor { "at_least" } else { "at_most" }),
            );
        }
        row.insert("ok".into(), json!(ok));
        report.push(Value::Object(row));
    }
    let path = util::target_dir().join("bench-report.json");
    std::fs::write(&path, serde_json::to_string_pretty(&Value::Array(report))?)?;
    println!("written to {}", path.display());
    if !missed.is_empty() {
        println!("targets missed: {}", missed.join(", "));
    }
    Ok(())
}

/// The `value` of a plain figure a bench wrote to `dir/<name>.json`.
fn read_value(dir: &Path, name: &str) -> Result<f64> {
    let path = dir.join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("no figure {name} at {}: {e}", path.display()))?;
    let figure: Value = serde_json::from_str(&text)?;
    figure["value"]
        .as_f64()
        .ok_or_else(|| format!("no value in {}", path.display()).into())
}

/// A ratio figure from `dir/<name>.json`.
fn read_ratio(dir: &Path, name: &'static str, target: Option<f64>) -> Result<Figure> {
    let path = dir.join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("no figure {name} at {}: {e}", path.display()))?;
    let Value::Object(ratio) = serde_json::from_str(&text)? else {
        return Err(format!("{} is not a JSON object", path.display()).into());
    };
    let value = ratio
        .get("value")
        .and_then(Value::as_f64)
        .ok_or_else(|| format!("no value in {}", path.display()))?;
    Ok(Figure {
        name,
        value,
        unit: "ratio",
        target,
        ratio: Some(ratio),
    })
}

/// `median of 100 pairs, IQR 1.231-1.283, min 1.165, max 1.377 (store 21.7 ms / plain SQLite
/// 17.2 ms, process CPU time)`; per operation (`... 61.2 µs / ... 60.8 µs per op, ...`) when the
/// figure has `ops_per_run`.
fn spread_text(ratio: &Map<String, Value>) -> String {
    let number = |key: &str| ratio.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN);
    let text = |key: &str| ratio.get(key).and_then(Value::as_str).unwrap_or("?");
    let sides = if ratio.contains_key("ops_per_run") {
        format!(
            "{} {:.1} µs / {} {:.1} µs per op",
            text("a"),
            number("a_per_op_us"),
            text("b"),
            number("b_per_op_us"),
        )
    } else {
        format!(
            "{} {:.1} ms / {} {:.1} ms",
            text("a"),
            number("a_median_ms"),
            text("b"),
            number("b_median_ms"),
        )
    };
    format!(
        "median of {} pairs, IQR {:.3}-{:.3}, min {:.3}, max {:.3} ({sides}, {})",
        ratio.get("pairs").and_then(Value::as_u64).unwrap_or(0),
        number("q1"),
        number("q3"),
        number("min"),
        number("max"),
        text("clock"),
    )
}

/// The mean estimate (ns) of the benchmark whose `full_id` is `id`, from Criterion's output.
fn mean_estimate_ns(criterion: &Path, id: &str) -> Result<f64> {
    for group in std::fs::read_dir(criterion)? {
        let group = group?.path();
        let Ok(benches) = std::fs::read_dir(&group) else {
            continue;
        };
        for bench in benches {
            let new = bench?.path().join("new");
            let Ok(meta) = std::fs::read_to_string(new.join("benchmark.json")) else {
                continue;
            };
            let meta: Value = serde_json::from_str(&meta)?;
            if meta["full_id"] == id {
                let estimates: Value =
                    serde_json::from_str(&std::fs::read_to_string(new.join("estimates.json"))?)?;
                return estimates["mean"]["point_estimate"]
                    .as_f64()
                    .ok_or_else(|| format!("no mean estimate for {id}").into());
            }
        }
    }
    Err(format!("no Criterion result for {id} under {}", criterion.display()).into())
}
