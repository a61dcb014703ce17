//! The Swift suite: what can be checked of the iOS package without a Swift compiler.
//!
//! Owns: (1) a tree-sitter parse of every `.swift` file under `ios/` (generated, hand-written and
//! `Package.swift`), one test per file; (2) clang checks of the generated C header and of its
//! modulemap, one test each. Does not own the parser script (`ios/scripts/check_swift_syntax.py`)
//! nor the tools (`tools.rs`).
//!
//! Limits, said plainly: a parse finds syntax errors only. Types, names and API availability are
//! checked only by a real build on macOS (`ios/build-xcframework.sh`, then Xcode; see
//! docs/platforms.md).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::SuiteResult;
use crate::bindings::Bindings;
use crate::tools::SwiftTools;
use crate::util::{Result, root, step, target_dir};

pub fn check(tools: &SwiftTools, bindings: &Bindings) -> Result<SuiteResult> {
    let mut result = SuiteResult::new("swift");

    step("Swift: tree-sitter syntax check");
    let mut files = Vec::new();
    collect_swift_files(&root().join("ios"), &mut files)?;
    files.sort();
    let generated = bindings.swift_dir.join("CitizenSDK.swift");
    if !files.contains(&generated) {
        return Err(format!(
            "{} is missing: run the bindings step first",
            generated.display()
        )
        .into());
    }
    // Relative paths keep the report readable; the checker runs from the workspace root.
    let relative: Vec<&Path> = files
        .iter()
        .map(|file| file.strip_prefix(root()).unwrap_or(file))
        .collect();
    let out = Command::new(&tools.python)
        .current_dir(root())
        .arg("ios/scripts/check_swift_syntax.py")
        .args(&relative)
        .output()
        .map_err(|e| format!("running the Swift syntax checker: {e}"))?;
    let report = String::from_utf8_lossy(&out.stdout);
    print!("{report}");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    let (passed, failed) = count_verdicts(&report);
    if passed + failed != files.len() {
        // The checker crashed or skipped files: that is a broken suite, not a failed test.
        return Err(format!(
            "the Swift syntax checker reported {} of {} files ({})",
            passed + failed,
            files.len(),
            out.status
        )
        .into());
    }
    result.passed += passed;
    result.failed += failed;
    result.failures.extend(
        report
            .lines()
            .filter_map(|line| line.strip_prefix("FAIL "))
            .map(str::to_owned),
    );

    step("Swift: clang checks of the C header and modulemap");
    let work = target_dir().join("swift-check");
    std::fs::create_dir_all(&work)?;
    let include_dir = bindings
        .header
        .parent()
        .ok_or("the header has no parent folder")?;
    // Uses types and functions from the header so that a header that parses but declares nothing
    // useful still fails.
    let probe = "int main(void) {\n    RustBuffer buffer = {0};\n    (void)buffer;\n    \
                 (void)&uniffi_citizen_ffi_fn_func_sdk_version;\n    return 0;\n}\n";

    let header_c = work.join("header_check.c");
    std::fs::write(&header_c, format!("#include \"CitizenSDKFFI.h\"\n{probe}"))?;
    let header_ok = clang_passes(
        "the header compiles as C11 with -Wall -Werror",
        Command::new(&tools.clang)
            .args([
                "-fsyntax-only",
                "-std=c11",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-I",
            ])
            .arg(include_dir)
            .arg(&header_c),
    )?;

    // `@import` resolves the module through module.modulemap only, the way Swift will.
    let module_m = work.join("module_check.m");
    std::fs::write(&module_m, format!("@import CitizenSDKFFI;\n{probe}"))?;
    let module_ok = clang_passes(
        "module.modulemap defines module CitizenSDKFFI exporting the header",
        Command::new(&tools.clang)
            .args(["-fsyntax-only", "-fmodules", "-Werror"])
            .arg(format!(
                "-fmodule-map-file={}",
                bindings.modulemap.display()
            ))
            .arg(format!(
                "-fmodules-cache-path={}",
                work.join("module-cache").display()
            ))
            .arg(&module_m),
    )?;
    for (ok, what) in [
        (header_ok, "the C header compiles alone"),
        (module_ok, "module.modulemap exports the header"),
    ] {
        if ok {
            result.passed += 1;
        } else {
            result.failed += 1;
            result.failures.push(what.to_owned());
        }
    }
    Ok(result)
}

/// Counts the checker's `PASS <file>` and `FAIL <file>` lines.
fn count_verdicts(report: &str) -> (usize, usize) {
    let count = |prefix: &str| {
        report
            .lines()
            .filter(|line| line.starts_with(prefix))
            .count()
    };
    (count("PASS "), count("FAIL "))
}

fn clang_passes(what: &str, command: &mut Command) -> Result<bool> {
    let out = command
        .output()
        .map_err(|e| format!("running clang: {e}"))?;
    if out.status.success() {
        println!("PASS {what}");
        Ok(true)
    } else {
        println!("FAIL {what}");
        print!("{}", String::from_utf8_lossy(&out.stdout));
        print!("{}", String::from_utf8_lossy(&out.stderr));
        Ok(false)
    }
}

/// Every `.swift` file below `dir`, skipping build output (`build/`, `.build/`) and other hidden
/// folders (`.swiftpm/`).
fn collect_swift_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if path.is_dir() {
            if name != "build" && !name.starts_with('.') {
                collect_swift_files(&path, files)?;
            }
        } else if name.ends_with(".swift") {
            files.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_lines_are_counted_and_details_ignored() {
        let report = "PASS a.swift\nFAIL b.swift\n  b.swift:3:1: ERROR\nPASS c.swift\n";
        assert_eq!(count_verdicts(report), (2, 1));
    }
}
