//! `cargo xtask bindings`: builds the host library and generates the Kotlin and Swift bindings.
//!
//! Owns: where generated files go (all gitignored), and the check that uniffi really applied
//! `uniffi.toml` (uniffi 0.32 ignores old-style config keys with only a warning, which would give
//! a wrong package or module name that compiles and then breaks every app). Does not own what is
//! generated: that is `bindings/src` plus `uniffi.toml`.
//!
//! Outputs:
//! - Kotlin: `android/citizen-sdk/build/generated/uniffi/org/citizen/sdk/citizen_ffi.kt`, the
//!   folder the Gradle module adds as a source dir.
//! - Swift: `ios/Sources/CitizenSDK/Generated/CitizenSDK.swift`, part of the `CitizenSDK` target.
//! - C: `ios/Sources/CitizenSDKFFI/include/{CitizenSDKFFI.h, module.modulemap}`, the headers
//!   folder `ios/build-xcframework.sh` hands to `xcodebuild -create-xcframework`. The modulemap is
//!   renamed to `module.modulemap` because that is the only name clang, SwiftPM and xcframeworks
//!   find on their own in a headers folder.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{Result, cargo, root, run, step, target_dir};

/// Where `generate` put everything.
#[derive(Debug, Clone)]
pub struct Bindings {
    /// The folder holding the host `libcitizen_ffi` the bindings were generated from (for
    /// `-Djna.library.path`).
    pub lib_dir: PathBuf,
    /// The Kotlin source root (the package folders are below it).
    pub kotlin_dir: PathBuf,
    /// The folder holding the generated `CitizenSDK.swift`.
    pub swift_dir: PathBuf,
    pub header: PathBuf,
    pub modulemap: PathBuf,
}

const KOTLIN_PACKAGE: &str = "org.citizen.sdk";
const SWIFT_MODULE: &str = "CitizenSDK";
const FFI_MODULE: &str = "CitizenSDKFFI";

pub fn generate() -> Result<Bindings> {
    step("build the host library (citizen-ffi)");
    run(cargo().args(["build", "--quiet", "-p", "citizen-ffi"]))?;
    // A separate invocation on purpose: built together, cargo would unify uniffi's `cli` feature
    // (the generator's) into the library's uniffi as well.
    step("build uniffi-bindgen");
    run(cargo().args(["build", "--quiet", "-p", "uniffi-bindgen"]))?;

    let lib_dir = target_dir().join("debug");
    let library = lib_dir.join(format!(
        "{}citizen_ffi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    let bindgen = lib_dir.join(format!("uniffi-bindgen{}", std::env::consts::EXE_SUFFIX));

    step("generate Kotlin and Swift bindings");
    let kotlin_dir = root().join("android/citizen-sdk/build/generated/uniffi");
    let swift_dir = root().join("ios/Sources/CitizenSDK/Generated");
    let include_dir = root().join("ios/Sources/CitizenSDKFFI/include");
    for dir in [&kotlin_dir, &swift_dir, &include_dir] {
        // Start empty so a renamed or removed type never leaves a stale file behind.
        remove_dir_if_present(dir)?;
        std::fs::create_dir_all(dir)?;
    }
    for (language, out_dir) in [("kotlin", &kotlin_dir), ("swift", &swift_dir)] {
        run(Command::new(&bindgen)
            .current_dir(root())
            .args([
                "generate",
                "--config",
                "uniffi.toml",
                "--no-format",
                "--language",
                language,
            ])
            .arg("--out-dir")
            .arg(out_dir)
            .arg(&library))?;
    }

    let header = include_dir.join(format!("{FFI_MODULE}.h"));
    let modulemap = include_dir.join("module.modulemap");
    std::fs::rename(swift_dir.join(format!("{FFI_MODULE}.h")), &header).map_err(|e| {
        format!(
            "uniffi wrote no {FFI_MODULE}.h into {}: {e}",
            swift_dir.display()
        )
    })?;
    std::fs::rename(
        swift_dir.join(format!("{FFI_MODULE}.modulemap")),
        &modulemap,
    )
    .map_err(|e| {
        format!(
            "uniffi wrote no {FFI_MODULE}.modulemap into {}: {e}",
            swift_dir.display()
        )
    })?;

    let bindings = Bindings {
        lib_dir,
        kotlin_dir,
        swift_dir,
        header,
        modulemap,
    };
    verify_names(&bindings)?;
    println!(
        "Kotlin package {KOTLIN_PACKAGE}, Swift module {SWIFT_MODULE} (FFI module {FFI_MODULE})"
    );
    Ok(bindings)
}

/// Fails unless uniffi used the names in `uniffi.toml`.
fn verify_names(bindings: &Bindings) -> Result<()> {
    let package_path = KOTLIN_PACKAGE.replace('.', "/");
    let kotlin = bindings
        .kotlin_dir
        .join(&package_path)
        .join("citizen_ffi.kt");
    let source = std::fs::read_to_string(&kotlin).map_err(|e| {
        format!(
            "no Kotlin bindings at {} ({e}): uniffi did not apply package_name from uniffi.toml",
            kotlin.display()
        )
    })?;
    let declared = source
        .lines()
        .find_map(|line| line.trim().strip_prefix("package "));
    if declared.map(str::trim) != Some(KOTLIN_PACKAGE) {
        return Err(format!(
            "{} declares package {declared:?}, expected {KOTLIN_PACKAGE}",
            kotlin.display()
        )
        .into());
    }

    // uniffi names the Swift file after module_name, and imports the FFI module by ffi_module_name.
    let swift = bindings.swift_dir.join(format!("{SWIFT_MODULE}.swift"));
    let source = std::fs::read_to_string(&swift).map_err(|e| {
        format!(
            "no {} ({e}): uniffi did not apply module_name from uniffi.toml",
            swift.display()
        )
    })?;
    if !source
        .lines()
        .any(|line| line.trim() == format!("import {FFI_MODULE}"))
    {
        return Err(format!("{} does not import {FFI_MODULE}", swift.display()).into());
    }
    let modulemap = std::fs::read_to_string(&bindings.modulemap)?;
    if !modulemap.contains(&format!("module {FFI_MODULE} ")) {
        return Err(format!(
            "{} does not declare module {FFI_MODULE}",
            bindings.modulemap.display()
        )
        .into());
    }
    Ok(())
}

fn remove_dir_if_present(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("removing {}: {e}", dir.display()).into()),
    }
}
