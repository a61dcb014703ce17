//! Runs the Rust test suites (unit, end-to-end, doc tests, conformance) and counts their results.
//!
//! libtest's `test result: ...` lines are summed into the `rust` suite. A test binary of its own
//! (`harness = false`, such as the conformance suites) prints one `<suite>: N passed, N failed`
//! line (`, N skipped` optional) instead; each becomes a suite of its own in the summary, and is
//! not counted in `rust`.
//!
//! The SD-JWT interop binary (`core/tests/sdjwt_interop.rs`) gets the python of the venv that
//! holds the PyPI package `sd-jwt` (`tools::ensure_sdjwt_python`), and is told that a missing one
//! is a failure here, not a reason to skip. `cargo xtask interop` runs that binary alone.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::SuiteResult;
use crate::util::{self, Result};

/// Where the interop binary finds its Python, and whether it must.
const SDJWT_PYTHON_ENV: &str = "CITIZEN_SDJWT_PYTHON";
const SDJWT_REQUIRED_ENV: &str = "CITIZEN_SDJWT_INTEROP_REQUIRED";
/// Read by the conformance binaries' `Report::corpus` (core/tests/suite/mod.rs).
const CONFORMANCE_REQUIRED_ENV: &str = "CITIZEN_CONFORMANCE_REQUIRED";

/// The `rust` suite first, then one suite per conformance binary, in the order they ran.
/// `sdjwt_python` is the python the interop suite runs the `sd-jwt` package with.
pub fn run(sdjwt_python: &Path) -> Result<Vec<SuiteResult>> {
    util::step("cargo test");
    // --no-fail-fast: a failing suite must not hide the results of the binaries after it.
    let mut command = util::cargo();
    command.args(["test", "--all-targets", "--no-fail-fast"]);
    // A conformance suite whose corpus is missing fails here instead of skipping (core/tests/suite).
    command.env(CONFORMANCE_REQUIRED_ENV, "1");
    collect(with_sdjwt_python(&mut command, sdjwt_python))
}

/// `cargo xtask interop`: the SD-JWT interop suite alone, with its Python installed first.
pub fn run_interop_alone() -> Result<()> {
    let python = crate::tools::ensure_sdjwt_python()?;
    util::step("cargo test --test sdjwt_interop");
    let mut command = util::cargo();
    command.args(["test", "-p", "citizen-core", "--test", "sdjwt_interop"]);
    let suites = collect(with_sdjwt_python(&mut command, &python))?;
    let interop = suites
        .iter()
        .find(|suite| suite.name == "sd-jwt-interop")
        .ok_or("the interop binary printed no `sd-jwt-interop:` line")?;
    if interop.failed > 0 {
        return Err(format!("{} interop check(s) failed", interop.failed).into());
    }
    Ok(())
}

fn with_sdjwt_python<'c>(command: &'c mut Command, python: &Path) -> &'c mut Command {
    command
        .env(SDJWT_PYTHON_ENV, python)
        .env(SDJWT_REQUIRED_ENV, "1")
}

/// Runs `command` (a `cargo test`), echoing its output and counting its result lines.
fn collect(command: &mut Command) -> Result<Vec<SuiteResult>> {
    let mut child = command.stdout(Stdio::piped()).spawn()?;
    let mut rust = SuiteResult::new("rust");
    let mut own_suites: Vec<SuiteResult> = Vec::new();
    let mut saw_results = false;
    let stdout = child.stdout.take().ok_or("no stdout from cargo test")?;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        println!("{line}");
        if let Some(counts) = parse_result_line(&line) {
            saw_results = true;
            rust.passed += counts.0;
            rust.failed += counts.1;
            rust.skipped += counts.2;
        } else if let Some((name, counts)) = parse_suite_line(&line) {
            saw_results = true;
            match own_suites.iter_mut().find(|suite| suite.name == name) {
                Some(suite) => {
                    suite.passed += counts.0;
                    suite.failed += counts.1;
                    suite.skipped += counts.2;
                }
                None => own_suites.push(SuiteResult {
                    passed: counts.0,
                    failed: counts.1,
                    skipped: counts.2,
                    // Suite names live as long as the process; a handful of short strings.
                    ..SuiteResult::new(Box::leak(name.to_owned().into_boxed_str()))
                }),
            }
        } else if let Some(test) = line
            .strip_prefix("test ")
            .and_then(|rest| rest.strip_suffix(" ... FAILED"))
        {
            rust.failures.push(test.to_owned());
        } else if let Some(rest) = line.strip_prefix("FAIL ")
            && let Some((suite, _)) = rest.split_once(':')
            && !suite.contains(' ')
        {
            // A conformance suite's own failure line: `FAIL <suite>: <case>: <reason>`.
            rust.failures.push(line.clone());
        }
    }
    let status = child.wait()?;
    if !saw_results {
        return Err(format!("cargo test produced no results ({status})").into());
    }
    let failed = rust.failed + own_suites.iter().map(|s| s.failed).sum::<usize>();
    if !status.success() && failed == 0 {
        return Err(format!("cargo test failed ({status}) without a failing test").into());
    }
    let mut suites = vec![rust];
    suites.extend(own_suites);
    Ok(suites)
}

/// `test result: ok. 3 passed; 1 failed; 2 ignored; ...` → (3, 1, 2).
fn parse_result_line(line: &str) -> Option<(usize, usize, usize)> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let words: Vec<&str> = rest.split([' ', ';']).filter(|w| !w.is_empty()).collect();
    // Each count is a number followed by its label: "23 passed", "0 failed", "1 ignored".
    let count = |label: &str| -> Option<usize> {
        words
            .windows(2)
            .find(|pair| pair[1] == label)
            .and_then(|pair| pair[0].parse().ok())
    };
    Some((
        count("passed")?,
        count("failed")?,
        count("ignored").unwrap_or(0),
    ))
}

/// `sd-jwt: 30 passed, 1 failed, 4 skipped` → ("sd-jwt", (30, 1, 4)). The whole line must have
/// exactly this shape (name of lowercase letters, digits, `-`, `_`, `.`), so that ordinary output
/// is never mistaken for a suite. `rust` and `total` are the summary's own names and refused.
fn parse_suite_line(line: &str) -> Option<(&str, (usize, usize, usize))> {
    let (name, counts) = line.split_once(": ")?;
    let valid_name = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric());
    if !valid_name || name == "rust" || name == "total" {
        return None;
    }
    let count = |part: &str, label: &str| -> Option<usize> {
        let number = part.strip_suffix(label)?.strip_suffix(' ')?;
        // Digits only: no sign, no spaces.
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        number.parse().ok()
    };
    let parts: Vec<&str> = counts.split(", ").collect();
    let (passed, failed, skipped) = match parts.as_slice() {
        [passed, failed] => (passed, failed, None),
        [passed, failed, skipped] => (passed, failed, Some(skipped)),
        _ => return None,
    };
    Some((
        name,
        (
            count(passed, "passed")?,
            count(failed, "failed")?,
            match skipped {
                Some(skipped) => count(skipped, "skipped")?,
                None => 0,
            },
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::{parse_result_line, parse_suite_line};

    #[test]
    fn parses_cargo_test_summaries() {
        assert_eq!(
            parse_result_line(
                "test result: ok. 23 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 2.00s"
            ),
            Some((23, 0, 1))
        );
        assert_eq!(
            parse_result_line("test result: FAILED. 5 passed; 1 failed; 0 ignored; 0 measured"),
            Some((5, 1, 0))
        );
        assert_eq!(parse_result_line("running 3 tests"), None);
    }

    #[test]
    fn parses_suite_lines_of_conformance_binaries() {
        assert_eq!(
            parse_suite_line("sd-jwt: 304 passed, 0 failed"),
            Some(("sd-jwt", (304, 0, 0)))
        );
        assert_eq!(
            parse_suite_line("sd-jwt: 300 passed, 2 failed, 4 skipped"),
            Some(("sd-jwt", (300, 2, 4)))
        );
        assert_eq!(
            parse_suite_line("dcc_v1.2: 1 passed, 0 failed"),
            Some(("dcc_v1.2", (1, 0, 0)))
        );
        // A libtest summary is not a suite line, and is not counted twice.
        assert_eq!(
            parse_suite_line("test result: ok. 23 passed; 0 failed; 1 ignored"),
            None
        );
    }

    #[test]
    fn ignores_lines_that_only_look_like_suite_lines() {
        for line in [
            "sd-jwt: 3 passed, 1 failed, 2 skipped, 1 ignored",
            "sd-jwt: 3 passed",
            "sd-jwt: three passed, 0 failed",
            "sd-jwt: -3 passed, 0 failed",
            "sd-jwt: 3 passed, 0 failed ",
            "sd-jwt: 3 failed, 0 passed",
            "SD-JWT: 3 passed, 0 failed",
            "FAIL simple: verify: 3 passed, 0 failed",
            "sd jwt: 3 passed, 0 failed",
            ": 3 passed, 0 failed",
            "-x: 3 passed, 0 failed",
            "rust: 3 passed, 0 failed",
            "total: 3 passed, 0 failed",
            "sd-jwt conformance: 35 corpus cases, 304 checks",
            // The DCC suite's informational line before its suite line.
            "dcc: 32 flag checks not applicable (the case lacks their input, as upstream's harness \
             skips them); 9 EXPECTEDSCHEMAVALIDATION=false not asserted, as upstream's harness \
             (only the EU value sets refuse them)",
            "   Compiling citizen-core v0.1.0",
        ] {
            assert_eq!(parse_suite_line(line), None, "{line}");
        }
    }
}
