//! The report of a test binary of its own (`harness = false`): one `FAIL <case>: <check>: <detail>`
//! line per failed check, one `SKIP <case>: <reason>` line per skipped case, and at the end the one
//! line `cargo xtask test` reads as a suite: `<name>: N passed, N failed[, N skipped]`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Every `.json` file below `dir`, recursively, appended to `files`.
#[allow(dead_code)] // Not every suite binary walks a folder of JSON files.
pub fn find_json(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            find_json(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "json") {
            files.push(path);
        }
    }
}

/// Set to `1` (by `cargo xtask test`), a missing corpus fails its suite instead of skipping it.
pub const CONFORMANCE_REQUIRED_ENV: &str = "CITIZEN_CONFORMANCE_REQUIRED";

pub struct Report {
    name: &'static str,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Report {
    /// A report for the suite `name` (lowercase letters, digits and `-`: see xtask's
    /// `parse_suite_line`).
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            passed: 0,
            failed: 0,
            skipped: 0,
        }
    }

    /// The path of `relative` under the shared corpus (`../shared/conformance/`, relative to the
    /// project root), or `None` when it is missing: a clear skip (the corpus README allows it on a
    /// machine without the corpus), or a failure when [`CONFORMANCE_REQUIRED_ENV`] is `1`, as
    /// `cargo xtask test` (CI) sets it, so that CI cannot pass without checking anything.
    #[allow(dead_code)] // Not every suite binary reads its corpus through this.
    pub fn corpus(&mut self, relative: &str) -> Option<PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("core/ has a parent: the project root");
        let path = root.join("../shared/conformance").join(relative);
        if path.exists() {
            return Some(path);
        }
        let missing = format!("{} is missing; nothing to check", path.display());
        if std::env::var(CONFORMANCE_REQUIRED_ENV).is_ok_and(|value| value == "1") {
            self.fail(
                "corpus",
                "load",
                &format!("{missing} ({CONFORMANCE_REQUIRED_ENV}=1)"),
            );
        } else {
            self.skip("corpus", &missing);
        }
        None
    }

    pub fn check(&mut self, case: &str, check: &str, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => self.passed += 1,
            Err(detail) => self.fail(case, check, &detail),
        }
    }

    pub fn fail(&mut self, case: &str, check: &str, detail: &str) {
        self.failed += 1;
        println!("FAIL {case}: {check}: {detail}");
    }

    pub fn skip(&mut self, case: &str, reason: &str) {
        self.skipped += 1;
        println!("SKIP {case}: {reason}");
    }

    /// Prints the suite line; a failure if any check failed.
    pub fn finish(&self) -> ExitCode {
        let mut line = format!(
            "{}: {} passed, {} failed",
            self.name, self.passed, self.failed
        );
        if self.skipped > 0 {
            line.push_str(&format!(", {} skipped", self.skipped));
        }
        println!("{line}");
        if self.failed > 0 {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        }
    }
}
