//! The Kotlin suite: the Android module's JUnit tests, run on the desktop JVM against the real
//! host library and the running sandbox portal.
//!
//! Owns: compiling the generated bindings, the Kotlin shell, the compile-only Android stubs and
//! the tests in ONE kotlinc call (its start-up alone costs ~10 s), running JUnit 4 with the sandbox
//! environment, and reading JUnit's verdict. Does not own the tests (they live in
//! `android/citizen-sdk/src/test/kotlin`, where Gradle runs them too) nor the tools (`tools.rs`).
//!
//! The Android stubs (`android/jvm-stubs`) exist only so the shell's Android-API code is compiled
//! here; they are never shipped and no test calls them.
//!
//! `cargo xtask kotlin [TestClass ...]` runs this suite alone (tools, bindings, sandbox, JUnit),
//! optionally only the named test classes: for work on the Android shell without the whole
//! `cargo xtask test`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::SuiteResult;
use crate::bindings::Bindings;
use crate::sandbox_proc::SandboxInfo;
use crate::tools::JvmTools;
use crate::util::{Result, root, step, target_dir};

/// `cargo xtask kotlin`: the Kotlin suite on its own, with its own sandbox portal. `only` names
/// test classes (simple names such as `StoreLifecycleTest`) to run; empty runs them all.
pub fn run_alone(only: &[String]) -> Result<()> {
    let tools = crate::tools::ensure_jvm_tools()?;
    let bindings = crate::bindings::generate()?;
    let sandbox = crate::sandbox_proc::start()?;
    let result = run_selected(&tools, &bindings, &sandbox.info, only);
    drop(sandbox);
    let result = result?;
    println!();
    println!("{}", result.line());
    if result.failed > 0 {
        return Err(format!("{} Kotlin test(s) failed", result.failed).into());
    }
    Ok(())
}

pub fn run_tests(
    tools: &JvmTools,
    bindings: &Bindings,
    sandbox: &SandboxInfo,
) -> Result<SuiteResult> {
    run_selected(tools, bindings, sandbox, &[])
}

fn run_selected(
    tools: &JvmTools,
    bindings: &Bindings,
    sandbox: &SandboxInfo,
    only: &[String],
) -> Result<SuiteResult> {
    let module = root().join("android/citizen-sdk");
    let tests_dir = module.join("src/test/kotlin");
    let mut sources = Vec::new();
    for dir in [
        bindings.kotlin_dir.clone(),
        module.join("src/main/kotlin"),
        root().join("android/jvm-stubs"),
        tests_dir.clone(),
    ] {
        collect_kotlin_files(&dir, &mut sources)?;
    }
    let mut test_classes = test_class_names(&tests_dir)?;
    if test_classes.is_empty() {
        return Err(format!("no *Test.kt files in {}", tests_dir.display()).into());
    }
    if !only.is_empty() {
        test_classes.retain(|class| {
            let simple = class.rsplit('.').next().unwrap_or(class);
            only.iter().any(|name| name == simple || name == class)
        });
        if test_classes.len() != only.len() {
            return Err(format!(
                "not every test class in {only:?} exists in {}",
                tests_dir.display()
            )
            .into());
        }
    }

    step(&format!(
        "Kotlin: compile {} files (kotlinc)",
        sources.len()
    ));
    let out_dir = target_dir().join("kotlin");
    std::fs::create_dir_all(&out_dir)?;
    let jar = out_dir.join("tests.jar");
    let _ = std::fs::remove_file(&jar);
    let started = Instant::now();
    let compiled = Command::new(&tools.kotlinc)
        .args(["-jvm-target", "17", "-cp"])
        .arg(join_paths(&tools.classpath)?)
        .arg("-d")
        .arg(&jar)
        .args(&sources)
        .output()
        .map_err(|e| format!("running kotlinc: {e}"))?;
    // Diagnostics (errors, and warnings in the shell or tests) go straight through.
    eprint!("{}", String::from_utf8_lossy(&compiled.stderr));
    if !compiled.status.success() || !jar.is_file() {
        let mut error = format!("kotlinc failed ({})", compiled.status);
        let exceptions = exceptions_with_message_field(&bindings.kotlin_dir)?;
        if !exceptions.is_empty() {
            error.push_str(&format!(
                ". Likely cause: {} declare a field named `message`, which uniffi 0.32 generates \
                 as a property clashing with Throwable.message; rename the field in bindings/src \
                 or in uniffi.toml (see docs/platforms.md, \"Error fields named `detail`, not `message`\")",
                exceptions.join(", ")
            ));
        }
        return Err(error.into());
    }
    println!("kotlinc took {:.1} s", started.elapsed().as_secs_f64());

    step(&format!("Kotlin: JUnit ({} classes)", test_classes.len()));
    let mut classpath = vec![jar];
    classpath.extend(tools.classpath.iter().cloned());
    let mut child = Command::new(&tools.java)
        .arg(format!("-Djna.library.path={}", bindings.lib_dir.display()))
        .arg("-cp")
        .arg(join_paths(&classpath)?)
        .arg("org.junit.runner.JUnitCore")
        .args(&test_classes)
        .env("CITIZEN_SANDBOX_URL", &sandbox.base_url)
        .env("CITIZEN_SANDBOX_CA", &sandbox.ca_pem_path)
        .env("CITIZEN_SANDBOX_PIN", &sandbox.spki_pin)
        .env(
            "CITIZEN_SANDBOX_TRUST_ANCHOR_KID",
            &sandbox.trust_anchor_kid,
        )
        .env(
            "CITIZEN_SANDBOX_TRUST_ANCHOR_JWK",
            &sandbox.trust_anchor_jwk,
        )
        // Tells the tests that a missing sandbox is a failure here, not a reason to skip.
        .env("CITIZEN_SANDBOX_REQUIRED", "1")
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running java: {e}"))?;
    let mut output = String::new();
    let stdout = child.stdout.take().ok_or("java has no stdout")?;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        println!("{line}");
        output.push_str(&line);
        output.push('\n');
    }
    let status = child.wait()?;
    let (passed, failed) = parse_junit_summary(&output).ok_or_else(|| {
        // No summary means the JVM died (a crash in native code, an OOM): not a test result.
        format!("JUnit printed no summary line (java exited with {status})")
    })?;
    Ok(SuiteResult {
        passed,
        failed,
        failures: junit_failures(&output),
        ..SuiteResult::new("kotlin")
    })
}

/// JUnit 4 lists each failure as `N) testName(ClassName)` followed by the exception's first
/// line; both are kept for the summary.
fn junit_failures(output: &str) -> Vec<String> {
    let lines: Vec<&str> = output.lines().collect();
    let mut failures = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some((number, test)) = line.split_once(") ") else {
            continue;
        };
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) || !test.ends_with(')')
        {
            continue;
        }
        let reason = lines.get(index + 1).copied().unwrap_or("").trim();
        failures.push(format!("{test}: {reason}"));
    }
    failures
}

/// Reads JUnit 4's closing line: `OK (N tests)` or `Tests run: N,  Failures: M`. Returns
/// (passed, failed).
fn parse_junit_summary(output: &str) -> Option<(usize, usize)> {
    let number = |text: &str| -> Option<usize> {
        text.trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    };
    for line in output.lines().rev() {
        if let Some(rest) = line.strip_prefix("OK (") {
            return Some((number(rest)?, 0));
        }
        if let Some(rest) = line.strip_prefix("Tests run:") {
            let run = number(rest)?;
            let failures = number(rest.split("Failures:").nth(1)?)?;
            return Some((run.checked_sub(failures)?, failures));
        }
    }
    None
}

/// The generated exception classes (uniffi error enums) that have a variant field named
/// `message`: a known uniffi 0.32 bug makes such Kotlin fail to compile.
fn exceptions_with_message_field(generated_dir: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    collect_kotlin_files(generated_dir, &mut files)?;
    let mut found = Vec::new();
    for file in files {
        let source = std::fs::read_to_string(&file)?;
        let mut current: Option<&str> = None;
        for line in source.lines() {
            if let Some(rest) = line.strip_prefix("sealed class ") {
                current = rest
                    .split(|c: char| !c.is_alphanumeric() && c != '_')
                    .next()
                    .filter(|name| name.ends_with("Exception"));
            } else if line.starts_with('}') {
                current = None;
            } else if let Some(class) = current
                && line.trim_start().starts_with("val `message`:")
                && !found.iter().any(|f| f == class)
            {
                found.push(class.to_string());
            }
        }
    }
    Ok(found)
}

/// The fully qualified class name of every `*Test.kt` file below `dir` (its `package` line plus
/// the file name), which is how the Android unit-test folder is laid out.
fn test_class_names(dir: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    collect_kotlin_files(dir, &mut files)?;
    let mut names = Vec::new();
    for file in files {
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if !stem.ends_with("Test") {
            continue;
        }
        let source = std::fs::read_to_string(&file)?;
        let package = source
            .lines()
            .find_map(|line| line.trim().strip_prefix("package "))
            .map(str::trim);
        names.push(match package {
            Some(package) => format!("{package}.{stem}"),
            None => stem.to_string(),
        });
    }
    names.sort();
    Ok(names)
}

fn collect_kotlin_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            collect_kotlin_files(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "kt") {
            files.push(path);
        }
    }
    files.sort();
    Ok(())
}

fn join_paths(paths: &[PathBuf]) -> Result<std::ffi::OsString> {
    std::env::join_paths(paths)
        .map_err(|e| format!("a classpath entry holds the separator: {e}").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_summaries_are_read_from_the_last_matching_line() {
        assert_eq!(
            parse_junit_summary("JUnit version 4.13.2\n.....\nTime: 1.2\n\nOK (5 tests)\n"),
            Some((5, 0))
        );
        assert_eq!(
            parse_junit_summary("FAILURES!!!\nTests run: 7,  Failures: 2\n"),
            Some((5, 2))
        );
        assert_eq!(parse_junit_summary("Exception in thread \"main\"\n"), None);
    }

    #[test]
    fn junit_failures_are_named_with_their_reason() {
        let output = "Time: 3.1\nThere was 1 failure:\n\
                      1) journeyReachesReceived(uniffi.citizen.DossierSubmissionTest)\n\
                      java.lang.AssertionError: expected:<Received> but was:<Queued>\n\
                      \tat org.junit.Assert.fail(Assert.java:89)\n\nFAILURES!!!\n\
                      Tests run: 7,  Failures: 1\n";
        assert_eq!(
            junit_failures(output),
            vec![
                "journeyReachesReceived(uniffi.citizen.DossierSubmissionTest): \
                 java.lang.AssertionError: expected:<Received> but was:<Queued>"
                    .to_string()
            ]
        );
        assert!(junit_failures("OK (5 tests)\n").is_empty());
    }

    #[test]
    fn message_fields_are_found_only_inside_exception_classes() {
        let dir = std::env::temp_dir().join(format!("xtask-kotlin-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("b.kt"),
            "data class LogRecord (\n    val `message`: kotlin.String\n)\n\
             sealed class PlatformException: kotlin.Exception() {\n    class Failure(\n        \
             val `message`: kotlin.String\n    ) : PlatformException()\n}\n\
             sealed class OtherException: kotlin.Exception() {\n    class A(val `detail`: String)\n}\n",
        )
        .unwrap();
        let found = exceptions_with_message_field(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(found, vec!["PlatformException".to_string()]);
    }
}
