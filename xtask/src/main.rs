//! `cargo xtask`: every project chore as one command a fresh machine can run.
//!
//! - `cargo xtask test`: fmt check, clippy, Rust tests, Kotlin tests on the desktop JVM, Swift
//!   checks, a short fuzz run, the shipping checks and `deny`; one `NAME: N passed, N failed`
//!   line per suite, then a total.
//! - `cargo xtask bindings`: builds the host library and generates Kotlin and Swift.
//! - `cargo xtask bench`: ratio figures from interleaved runs (median and spread), Criterion for
//!   absolute timings; printed and written to `target/bench-report.json`.
//! - `cargo xtask fuzz [SECONDS]`: every fuzz target for SECONDS each (default 300).
//! - `cargo xtask interop`: the SD-JWT interop suite alone (the wallet against PyPI `sd-jwt`).
//! - `cargo xtask ship-checks`: the shipping checks alone (`android-16k`, `ios-privacy`,
//!   `ffi-docs`, `r8-rules`; also part of `test`).
//! - `cargo xtask size`: builds the phone library (profile `phone`) for the
//!   host and prints its stripped size and largest crates (`lib.size_mb` of `bench`).
//! - `cargo xtask soak [KILLS]`: the dossier crash test with KILLS SIGKILLs (default 1,000).
//! - `cargo xtask deny [--advisories]`: cargo-deny's licence, ban and source checks offline
//!   (suite `deny`, also part of `test`); with `--advisories`, the RustSec advisory check alone
//!   (needs GitHub).
//! - `cargo xtask sbom`: a CycloneDX 1.5 JSON SBOM of the phone library in `target/sbom/`.
//! - `cargo xtask docs`: the rustdoc of citizen-core and citizen-ffi, warnings as errors.
//! - `cargo xtask setup`: installs the tools the above need (apt, npm, PyPI), idempotently.
//!
//! Each module owns one chore; this file only dispatches and prints the summary.

mod bench;
mod bindings;
mod docs;
mod fuzz;
mod kotlin;
mod r8;
mod rust_tests;
mod sandbox_proc;
mod ship;
mod size;
mod soak;
mod supply;
mod swift;
mod tools;
mod util;

use std::process::ExitCode;

/// The outcome of one test suite, printed as `name: N passed, N failed[, N skipped]`.
#[derive(Debug, Clone)]
pub struct SuiteResult {
    pub name: &'static str,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// The failing tests' names (and, where the runner prints one, the first line of the
    /// reason), repeated in the summary so a failure is found without scrolling the whole log.
    pub failures: Vec<String>,
}

impl SuiteResult {
    /// A suite with nothing counted yet.
    pub fn new(name: &'static str) -> Self {
        SuiteResult {
            name,
            passed: 0,
            failed: 0,
            skipped: 0,
            failures: Vec::new(),
        }
    }

    pub fn line(&self) -> String {
        let mut line = format!(
            "{}: {} passed, {} failed",
            self.name, self.passed, self.failed
        );
        if self.skipped > 0 {
            line.push_str(&format!(", {} skipped", self.skipped));
        }
        line
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("bindings") => bindings::generate().map(|b| {
            println!("Kotlin: {}", b.kotlin_dir.display());
            println!("Swift:  {}", b.swift_dir.display());
        }),
        Some("bench") => bench::run(),
        Some("fuzz") => fuzz_for(args.get(1)),
        Some("kotlin") => kotlin::run_alone(&args[1..]),
        Some("interop") => rust_tests::run_interop_alone(),
        Some("ship-checks") => ship::run_alone(),
        Some("size") => size::run_alone(),
        Some("soak") => soak::run(args.get(1)),
        Some("deny") => supply::run_alone(&args[1..]),
        Some("sbom") => supply::sbom(),
        Some("docs") => docs::run(),
        Some("setup") => tools::ensure_jvm_tools()
            .and_then(|_| tools::ensure_swift_tools())
            .and_then(|_| tools::ensure_sdjwt_python())
            .map(drop),
        _ => {
            eprintln!(
                "usage: cargo xtask <test | kotlin [TestClass ...] | interop | ship-checks | size | soak [KILLS] | deny [--advisories] | sbom | docs | bindings | bench | fuzz [SECONDS] | setup>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error}");
            ExitCode::FAILURE
        }
    }
}

/// How long `cargo xtask test` fuzzes each target: enough to catch a shallow panic on every
/// commit; `cargo xtask fuzz` runs for long.
const FUZZ_SECONDS_IN_TEST: u64 = 15;

fn fuzz_for(seconds: Option<&String>) -> util::Result<()> {
    let seconds = match seconds {
        Some(text) => text
            .parse()
            .map_err(|_| format!("not a number of seconds: {text}"))?,
        None => 300,
    };
    let suite = fuzz::run(seconds)?;
    println!("{}", suite.line());
    if suite.failed > 0 {
        return Err(format!("{} fuzz target(s) failed", suite.failed).into());
    }
    Ok(())
}

fn test() -> util::Result<()> {
    let started = std::time::Instant::now();
    // Tools first, so a missing one fails in seconds rather than after the Rust build.
    let jvm = tools::ensure_jvm_tools()?;
    let swift_tools = tools::ensure_swift_tools()?;
    let sdjwt_python = tools::ensure_sdjwt_python()?;

    util::step("cargo fmt --check");
    util::run(util::cargo().args(["fmt", "--all", "--", "--check"]))?;
    util::step("cargo clippy -D warnings");
    // The default members: everything but the on-demand binding generator.
    util::run(util::cargo().args(["clippy", "--all-targets", "--", "-D", "warnings"]))?;

    // `rust`, then one suite per conformance binary (`sd-jwt`, `sd-jwt-interop`, ...).
    let mut suites = rust_tests::run(&sdjwt_python)?;
    let generated = bindings::generate()?;
    let sandbox = sandbox_proc::start()?;
    suites.push(kotlin::run_tests(&jvm, &generated, &sandbox.info)?);
    drop(sandbox);
    suites.push(swift::check(&swift_tools, &generated)?);
    suites.push(fuzz::run(FUZZ_SECONDS_IN_TEST)?);
    suites.extend(ship::run(&generated.kotlin_dir)?);
    suites.push(supply::deny()?);

    println!();
    println!("== summary ({} s)", started.elapsed().as_secs());
    for suite in &suites {
        println!("{}", suite.line());
    }
    for suite in suites.iter().filter(|suite| !suite.failures.is_empty()) {
        println!("failing in {}:", suite.name);
        for failure in &suite.failures {
            println!("  {failure}");
        }
    }
    let passed: usize = suites.iter().map(|s| s.passed).sum();
    let failed: usize = suites.iter().map(|s| s.failed).sum();
    println!("total: {passed} passed, {failed} failed");
    if failed > 0 {
        return Err(format!("{failed} test(s) failed").into());
    }
    Ok(())
}
