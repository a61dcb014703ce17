//! Ratio figures that hold on a noisy machine: two sides measured in interleaved pairs.
//!
//! Measuring one side fully and then the other (as Criterion does) lets background load, thermal
//! drift or a neighbour's build land on one side only, so the ratio moves between runs of the
//! same code. Here the two sides alternate instead: every pair is one run of A and one run of B,
//! back to back, and the order flips from pair to pair (A B, B A, A B, ...), so the run sequence
//! is A B B A A B B A ... A slow drift then raises the ratio of one pair as much as it lowers
//! the next, and a burst of load hits a pair or two, which the median ignores. The figure is the
//! median of the per-pair ratios A/B, reported with its interquartile range and min/max.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

/// The median of per-pair ratios A/B and how widely they spread.
#[derive(Debug, Clone)]
pub struct Ratio {
    pub median: f64,
    /// First and third quartiles of the per-pair ratios.
    pub q1: f64,
    pub q3: f64,
    pub min: f64,
    pub max: f64,
    /// Number of pairs measured (warm-up pairs not counted).
    pub pairs: usize,
    /// Median duration of one run of each side, for context.
    pub a_median: Duration,
    pub b_median: Duration,
    /// Median ratio of the pairs run A first over that of the pairs run B first: how much the
    /// order within a pair matters (1.0 = not at all). The alternation cancels it either way.
    pub order_effect: f64,
}

impl Ratio {
    /// The figure as the JSON object `cargo xtask bench` reads.
    pub fn to_json(&self, name: &str, a: &str, b: &str) -> Value {
        json!({
            "name": name,
            "value": self.median,
            "unit": "ratio",
            "q1": self.q1,
            "q3": self.q3,
            "min": self.min,
            "max": self.max,
            "pairs": self.pairs,
            "a": a,
            "b": b,
            "a_median_ms": self.a_median.as_secs_f64() * 1e3,
            "b_median_ms": self.b_median.as_secs_f64() * 1e3,
            "order_effect": self.order_effect,
        })
    }

    /// One line for humans: `1.267 (IQR 1.255-1.276, min 1.172, max 1.332, 100 pairs; A 20.51 ms,
    /// B 16.18 ms, order effect 0.991)`.
    pub fn summary(&self) -> String {
        format!(
            "{:.3} (IQR {:.3}-{:.3}, min {:.3}, max {:.3}, {} pairs; A {:.2} ms, B {:.2} ms, \
             order effect {:.3})",
            self.median,
            self.q1,
            self.q3,
            self.min,
            self.max,
            self.pairs,
            self.a_median.as_secs_f64() * 1e3,
            self.b_median.as_secs_f64() * 1e3,
            self.order_effect,
        )
    }
}

/// Measures the ratio A/B over `pairs` interleaved pairs, after `warmup` pairs that are run the
/// same way and discarded. Each closure performs one run and returns the time it measured, so it
/// can leave its set-up and tear-down out (see [`process_cpu_time`] for the clock to use and
/// [`cpu_timed`] for work without set-up).
pub fn measure_ratio(
    pairs: usize,
    warmup: usize,
    mut a: impl FnMut() -> Duration,
    mut b: impl FnMut() -> Duration,
) -> Ratio {
    assert!(pairs >= 2, "a ratio needs at least two pairs");
    let mut a_times = Vec::with_capacity(pairs);
    let mut b_times = Vec::with_capacity(pairs);
    let mut a_first = Vec::with_capacity(pairs / 2 + 1);
    let mut b_first = Vec::with_capacity(pairs / 2 + 1);
    for index in 0..warmup + pairs {
        let (ta, tb) = if index % 2 == 0 {
            let ta = a();
            (ta, b())
        } else {
            let tb = b();
            (a(), tb)
        };
        if index < warmup {
            continue;
        }
        let ratio = ta.as_secs_f64() / tb.as_secs_f64();
        if index % 2 == 0 {
            a_first.push(ratio);
        } else {
            b_first.push(ratio);
        }
        a_times.push(ta);
        b_times.push(tb);
    }
    let mut ratios: Vec<f64> = a_first.iter().chain(&b_first).copied().collect();
    sort(&mut ratios);
    sort(&mut a_first);
    sort(&mut b_first);
    a_times.sort();
    b_times.sort();
    Ratio {
        median: quantile(&ratios, 0.5),
        q1: quantile(&ratios, 0.25),
        q3: quantile(&ratios, 0.75),
        min: ratios[0],
        max: ratios[ratios.len() - 1],
        pairs,
        a_median: a_times[a_times.len() / 2],
        b_median: b_times[b_times.len() / 2],
        order_effect: quantile(&a_first, 0.5) / quantile(&b_first, 0.5),
    }
}

/// CPU time this process has used so far: user and system time of all its threads.
///
/// Ratio figures time runs with this rather than the wall clock: on a shared machine a run's wall
/// time depends on what else is scheduled (on 2 busy cores it can double), while its CPU time is
/// the work it did. It leaves out time spent waiting for the disk, which both sides of a store
/// ratio share, so a ratio of CPU times is, if anything, stricter than one of wall times.
pub fn process_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// A [`measure_ratio`] side for work that has no set-up to leave out: runs `work` once per call
/// and returns the process CPU time it took.
pub fn cpu_timed(mut work: impl FnMut()) -> impl FnMut() -> Duration {
    move || {
        let started = process_cpu_time();
        work();
        process_cpu_time() - started
    }
}

/// `$CITIZEN_BENCH_FIGURES`, else `bench-figures/` in the target directory the running bench was
/// built into (`<target>/release/deps/<bench>-<hash>`).
pub fn figures_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CITIZEN_BENCH_FIGURES") {
        return dir.into();
    }
    let exe = std::env::current_exe().expect("the bench knows its own path");
    exe.ancestors()
        .nth(3)
        .expect("the bench runs from <target>/<profile>/deps")
        .join("bench-figures")
}

/// Writes `figure` to `dir/<name>.json` (creating `dir`).
pub fn write_figure(dir: &Path, figure: &Value) -> std::io::Result<()> {
    let name = figure["name"].as_str().expect("a figure has a name");
    std::fs::create_dir_all(dir)?;
    let text = serde_json::to_string_pretty(figure).expect("a figure serialises");
    std::fs::write(dir.join(format!("{name}.json")), text)
}

fn sort(values: &mut [f64]) {
    values.sort_by(f64::total_cmp);
}

/// The `q` quantile of sorted `values`, interpolating linearly between neighbours.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let weight = position - below as f64;
    sorted[below] * (1.0 - weight) + sorted[above] * weight
}
