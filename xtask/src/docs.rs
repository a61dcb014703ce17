//! `cargo xtask docs`: the rustdoc of `citizen-core` and `citizen-ffi`, with every rustdoc
//! warning an error (`RUSTDOCFLAGS=-D warnings`), so a broken intra-doc link fails the command.
//!
//! Owns only the command; the doc comments are the crates'. The pages land in `target/doc/`.

use crate::util::{self, Result, step, target_dir};

pub fn run() -> Result<()> {
    step("cargo doc --no-deps -p citizen-core -p citizen-ffi (RUSTDOCFLAGS=-D warnings)");
    util::run(util::cargo().env("RUSTDOCFLAGS", "-D warnings").args([
        "doc",
        "--no-deps",
        "-p",
        "citizen-core",
        "-p",
        "citizen-ffi",
    ]))?;
    println!(
        "documentation: {}",
        target_dir().join("doc/citizen_core/index.html").display()
    );
    Ok(())
}
