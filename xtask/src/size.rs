//! `cargo xtask size`: the size of the phone library, the figure `lib.size_mb` of
//! `cargo xtask bench`, and which crates it is made of.
//!
//! Owns: building `citizen-ffi` as a cdylib for the host target with the `phone` profile (the
//! workspace `Cargo.toml`) and the `vendored-openssl` feature, as the Android and iOS builds
//! link it (OpenSSL built from source for SQLCipher, LTO fat); the stripped size in MB
//! (10^6 bytes); the per-crate table of docs/size.md, from the symbol sizes of the unstripped
//! library (`nm --print-size`) grouped by the crate that defines them. Does not own the profile
//! or the features themselves.
//!
//! The library is built unstripped (`CARGO_PROFILE_PHONE_STRIP=false`, so the symbols name their
//! crates) and a copy is stripped with binutils' `strip --strip-all` for the figure: what
//! `strip = true` in the profile gives.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::tools;
use crate::util::{self, Result, step, target_dir};

/// What `cargo xtask size` reports.
pub struct Size {
    /// The stripped library, in MB (10^6 bytes).
    pub stripped_mb: f64,
    /// Bytes of symbols per crate (or C library), largest first.
    pub crates: Vec<(String, u64)>,
    /// The stripped library's size not covered by any symbol: section headers, dynamic symbol
    /// table, unwind tables, string constants without their own symbol.
    pub unattributed: u64,
}

/// The stripped size of the phone library in MB.
pub fn measure() -> Result<Size> {
    tools::ensure_binutils()?;
    let library = build()?;
    let stripped = target_dir().join("phone").join(format!(
        "{}citizen_ffi.stripped{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    util::run(
        Command::new("strip")
            .arg("--strip-all")
            .arg(&library)
            .arg("-o")
            .arg(&stripped),
    )?;
    let stripped_bytes = std::fs::metadata(&stripped)?.len();
    let symbols = util::output(
        Command::new("nm")
            .args([
                "--print-size",
                "--size-sort",
                "--demangle",
                "--defined-only",
            ])
            .arg(&library),
    )?;
    let mut by_crate: BTreeMap<String, u64> = BTreeMap::new();
    for (name, size) in symbol_sizes(&symbols) {
        *by_crate.entry(crate_of(name).to_string()).or_default() += size;
    }
    let attributed: u64 = by_crate.values().sum();
    let mut crates: Vec<(String, u64)> = by_crate.into_iter().collect();
    crates.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(Size {
        stripped_mb: stripped_bytes as f64 / 1e6,
        crates,
        unattributed: stripped_bytes.saturating_sub(attributed),
    })
}

/// `cargo xtask size`: the figure and the largest crates.
pub fn run_alone() -> Result<()> {
    let size = measure()?;
    println!("\n== phone library (host target, profile `phone`, vendored OpenSSL)");
    println!(
        "lib.size_mb: {:.3} MB (target <= {TARGET_MB})",
        size.stripped_mb
    );
    println!("\n{:<28} {:>10}", "crate", "KB");
    for (name, bytes) in size.crates.iter().take(TOP_CRATES) {
        println!("{name:<28} {:>10.1}", *bytes as f64 / 1e3);
    }
    let rest: u64 = size.crates.iter().skip(TOP_CRATES).map(|c| c.1).sum();
    println!("{:<28} {:>10.1}", "(other crates)", rest as f64 / 1e3);
    println!(
        "{:<28} {:>10.1}",
        "(no symbol)",
        size.unattributed as f64 / 1e3
    );
    Ok(())
}

/// `lib.size_mb` must stay at or under this (issue 10).
pub const TARGET_MB: f64 = 6.0;
const TOP_CRATES: usize = 25;

/// Builds the unstripped phone library for the host and returns its path.
fn build() -> Result<PathBuf> {
    step("build citizen-ffi as a cdylib, profile `phone`, vendored OpenSSL");
    util::run(
        util::cargo()
            .env("CARGO_PROFILE_PHONE_STRIP", "false")
            .args(["rustc", "--quiet", "-p", "citizen-ffi", "--lib"])
            .args(["--profile", "phone", "--crate-type", "cdylib"])
            .args(["--features", "vendored-openssl"]),
    )?;
    Ok(library_in(&target_dir().join("phone")))
}

fn library_in(dir: &Path) -> PathBuf {
    dir.join(format!(
        "{}citizen_ffi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ))
}

/// `(name, size)` of every sized symbol of `nm --print-size` (`ADDR SIZE TYPE NAME`).
fn symbol_sizes(nm: &str) -> impl Iterator<Item = (&str, u64)> {
    nm.lines().filter_map(|line| {
        let mut fields = line.splitn(4, ' ');
        let (_addr, size, _kind, name) = (
            fields.next()?,
            fields.next()?,
            fields.next()?,
            fields.next()?,
        );
        Some((name, u64::from_str_radix(size, 16).ok()?))
    })
}

/// The crate (or C library) a demangled symbol belongs to: the first path segment of a Rust
/// symbol (`<tokio::x::Y as core::ops::Drop>::drop` is tokio's), known prefixes for C ones.
fn crate_of(symbol: &str) -> &str {
    let name = symbol.trim_start_matches(['<', '&', '*']);
    let name = name.strip_prefix("mut ").unwrap_or(name);
    let name = name.strip_prefix("dyn ").unwrap_or(name);
    if let Some((first, _)) = name.split_once("::")
        && !first.is_empty()
        && first.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return first;
    }
    if name.starts_with("sqlite3") || name.starts_with("sqlcipher") {
        "sqlcipher (C)"
    } else if name.starts_with("ring_core_") || name.starts_with("GFp") {
        "ring (C/asm)"
    } else if name.starts_with("uniffi_") || name.starts_with("ffi_citizen") {
        "citizen_ffi (exports)"
    } else if name.starts_with("_ZN") || name.starts_with("_R") {
        "(rust, undemangled)"
    } else {
        // OpenSSL's libcrypto makes up nearly all of the remaining C code.
        "openssl/libc (C)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_crate_of_a_symbol() {
        assert_eq!(crate_of("tokio::runtime::park::inner"), "tokio");
        assert_eq!(
            crate_of("<rustls::conn::Connection as core::ops::drop::Drop>::drop"),
            "rustls"
        );
        assert_eq!(
            crate_of("<&mut serde_json::de::Deserializer<R>>::x"),
            "serde_json"
        );
        assert_eq!(crate_of("sqlite3VdbeExec"), "sqlcipher (C)");
        assert_eq!(crate_of("EVP_EncryptInit"), "openssl/libc (C)");
    }

    #[test]
    fn reads_symbol_sizes() {
        let nm = "0000000000001000 0000000000000010 T foo::bar\n0000000000002000 W nosize\n";
        assert_eq!(symbol_sizes(nm).collect::<Vec<_>>(), vec![("foo::bar", 16)]);
    }
}
