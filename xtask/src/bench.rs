//! `cargo xtask bench`: runs the Criterion benches and turns their estimates into the figures the
//! issues set targets for, printed and written to `target/bench-report.json` as
//! `[{name, value, unit, target, ok}]` (`target`/`ok` are null for figures kept for context).

use std::path::Path;

use serde_json::{Value, json};

use crate::util::{self, Result};

struct Figure {
    name: &'static str,
    value: f64,
    unit: &'static str,
    /// Upper bound; `None` for context figures.
    target: Option<f64>,
}

pub fn run() -> Result<()> {
    util::step("cargo bench (citizen-core store)");
    util::run(util::cargo().args(["bench", "-p", "citizen-core", "--bench", "store"]))?;

    let criterion = util::target_dir().join("criterion");
    let mean_ns = |id: &str| mean_estimate_ns(&criterion, id);
    let sqlcipher = mean_ns("store/workload/sqlcipher")?;
    let sqlite = mean_ns("store/workload/sqlite")?;
    let open = mean_ns("store/open")?;

    let figures = [
        Figure {
            name: "store.overhead",
            value: sqlcipher / sqlite,
            unit: "ratio",
            target: Some(1.15),
        },
        Figure {
            name: "store.open_ms",
            value: open / 1e6,
            unit: "ms",
            target: Some(20.0),
        },
        Figure {
            name: "store.workload_sqlcipher_ms",
            value: sqlcipher / 1e6,
            unit: "ms",
            target: None,
        },
        Figure {
            name: "store.workload_sqlite_ms",
            value: sqlite / 1e6,
            unit: "ms",
            target: None,
        },
    ];

    println!("\n== bench summary");
    let mut report = Vec::new();
    let mut missed = Vec::new();
    for figure in &figures {
        let ok = figure.target.map(|t| figure.value <= t);
        println!(
            "{:<30} {:>10.3} {:<6} target {:<8} {}",
            figure.name,
            figure.value,
            figure.unit,
            figure.target.map_or("-".into(), |t| format!("<= {t}")),
            match ok {
                Some(true) => "ok",
                Some(false) => "MISSED",
                None => "",
            }
        );
        if ok == Some(false) {
            missed.push(figure.name);
        }
        report.push(json!({
            "name": figure.name,
            "value": figure.value,
            "unit": figure.unit,
            "target": figure.target,
            "ok": ok,
        }));
    }
    let path = util::target_dir().join("bench-report.json");
    std::fs::write(&path, serde_json::to_string_pretty(&Value::Array(report))?)?;
    println!("written to {}", path.display());
    if !missed.is_empty() {
        println!("targets missed: {}", missed.join(", "));
    }
    Ok(())
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
