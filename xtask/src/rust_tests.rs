//! Runs the Rust test suites (unit, end-to-end, doc tests) and counts their results.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::SuiteResult;
use crate::util::{self, Result};

pub fn run() -> Result<SuiteResult> {
    util::step("cargo test");
    let mut child = util::cargo()
        .args(["test", "--all-targets"])
        .stdout(Stdio::piped())
        .spawn()?;
    let mut suite = SuiteResult {
        name: "rust",
        passed: 0,
        failed: 0,
        skipped: 0,
    };
    let mut saw_results = false;
    let stdout = child.stdout.take().ok_or("no stdout from cargo test")?;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        println!("{line}");
        if let Some(counts) = parse_result_line(&line) {
            saw_results = true;
            suite.passed += counts.0;
            suite.failed += counts.1;
            suite.skipped += counts.2;
        }
    }
    let status = child.wait()?;
    if !saw_results {
        return Err(format!("cargo test produced no results ({status})").into());
    }
    if !status.success() && suite.failed == 0 {
        return Err(format!("cargo test failed ({status}) without a failing test").into());
    }
    Ok(suite)
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

#[cfg(test)]
mod tests {
    use super::parse_result_line;

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
}
