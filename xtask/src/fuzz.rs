//! Fuzzing the parsers with cargo-fuzz (libFuzzer): briefly in `cargo xtask test`, for long with
//! `cargo xtask fuzz [SECONDS]`.
//!
//! Owns: installing cargo-fuzz (from crates.io, once), building the targets in `fuzz/` (a
//! workspace of its own, so ordinary builds never compile them; the stable toolchain builds them
//! with `RUSTC_BOOTSTRAP=1`), running each for a time budget on its corpus plus the committed seeds
//! in `fuzz/seeds/<target>/` (and, for the SD-JWT targets, the shared conformance corpus, read
//! only), and counting the targets that survived. A crash leaves its input in
//! `fuzz/artifacts/<target>/`. Does not own the targets (`fuzz/fuzz_targets/`).

use std::process::Command;

use crate::SuiteResult;
use crate::util::{self, Result, root, step};

pub fn run(seconds_per_target: u64) -> Result<SuiteResult> {
    ensure_cargo_fuzz()?;
    step("fuzz: build the targets (cargo fuzz build)");
    util::run(fuzz_command().args(["build", "-O"]))?;
    let listed = util::output(fuzz_command().arg("list"))?;
    let targets: Vec<&str> = listed
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if targets.is_empty() {
        return Err("cargo fuzz list found no targets".into());
    }
    let mut suite = SuiteResult::new("fuzz");
    for target in targets {
        step(&format!("fuzz: {target} for {seconds_per_target} s"));
        let corpus = root().join("fuzz/corpus").join(target);
        let seeds = root().join("fuzz/seeds").join(target);
        std::fs::create_dir_all(&corpus)?;
        let mut command = fuzz_command();
        command.args(["run", "-O", target]).arg(&corpus);
        if seeds.is_dir() {
            command.arg(&seeds);
        }
        // The shared conformance corpora are read-only seeds (libFuzzer writes new inputs only
        // to the first directory), never copied into the project.
        if let Some(shared) = shared_seeds(target).filter(|dir| dir.is_dir()) {
            command.arg(shared);
        }
        command.args([
            "--",
            &format!("-max_total_time={seconds_per_target}"),
            "-rss_limit_mb=2048",
            "-print_final_stats=1",
        ]);
        match util::run(&mut command) {
            Ok(()) => suite.passed += 1,
            Err(error) => {
                eprintln!("fuzz target {target} failed: {error}");
                suite.failed += 1;
                suite.failures.push(format!("{target}: {error}"));
            }
        }
    }
    Ok(suite)
}

/// The folder of `../shared/conformance/` whose files make good starting inputs for `target`.
fn shared_seeds(target: &str) -> Option<std::path::PathBuf> {
    let folder = match target {
        "jose_parse" | "sdjwt_verify" => "sd-jwt",
        _ => return None,
    };
    Some(root().join("../shared/conformance").join(folder))
}

/// `cargo fuzz` in `fuzz/`, allowed to use the nightly-only sanitizer flags on stable.
fn fuzz_command() -> Command {
    let mut command = util::cargo();
    command
        .arg("fuzz")
        .current_dir(root().join("fuzz"))
        .env("RUSTC_BOOTSTRAP", "1");
    command
}

fn ensure_cargo_fuzz() -> Result<()> {
    if util::have("cargo-fuzz") {
        return Ok(());
    }
    step("installing cargo-fuzz (crates.io)");
    util::run(util::cargo().args(["install", "cargo-fuzz", "--locked"]))
}
