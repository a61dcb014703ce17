//! `cargo xtask size`: the size of the phone library, the figure `lib.size_mb` of
//! `cargo xtask bench`, and which crates it is made of.
//!
//! Owns: building `citizen-ffi` as a cdylib for the host target with the `phone` profile (the
//! workspace `Cargo.toml`), as the Android builds link it (SQLCipher compiled from source with
//! its crypto provider in Rust, no OpenSSL, LTO fat); the stripped size in MB (10^6 bytes); the
//! per-crate table of docs/size.md, from the symbol sizes of the unstripped library
//! (`nm --print-size`) grouped by the crate that defines them (Rust symbols by their first path
//! segment, C symbols by the static archive of SQLCipher that defines them). Does not own the
//! profile or the features themselves.
//!
//! The library is built unstripped (`CARGO_PROFILE_PHONE_STRIP=false`, so the symbols name their
//! crates) and a copy is stripped with binutils' `strip --strip-all` for the figure: what
//! `strip = true` in the profile gives.
//!
//! The final link takes the Android targets' linker flags from `.cargo/config.toml` (16 KB
//! pages, packed relocations), as `cargo xtask ship-checks` does: the host linker is rustc's own
//! lld, like the NDK's, so the relocations are packed exactly as on Android (a test below keeps
//! the four Android tables equal, so the aarch64 one stands for all).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::ship;
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
    let c_libraries = c_library_symbols()?;
    let mut by_crate: BTreeMap<String, u64> = BTreeMap::new();
    for (name, size) in symbol_sizes(&symbols) {
        // A local C symbol may carry a suffix (`table.12`); the archive lists it without.
        let base = name.split('.').next().unwrap_or(name);
        let owner = c_libraries
            .iter()
            .find(|(_, names)| names.contains(name) || names.contains(base))
            .map_or_else(|| crate_of(name), |(library, _)| *library);
        *by_crate.entry(owner.to_string()).or_default() += size;
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
    println!("\n== phone library (host target, profile `phone`)");
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

/// The C flags of the phone targets in `.cargo/config.toml` (`[env]` `CFLAGS_<target>`), given to
/// the host build so that its C code (SQLCipher, ring's C) is compiled as on phones.
const PHONE_CFLAGS: &str = "-Os";

/// `lib.size_mb` must stay at or under this (issue 10).
pub const TARGET_MB: f64 = 6.0;
const TOP_CRATES: usize = 25;

/// Builds the unstripped phone library for the host and returns its path: C flags of the phone
/// targets, and the Android linker flags for the final link only (`cargo rustc -- ...`; the
/// other crates keep their fingerprints).
fn build() -> Result<PathBuf> {
    step("build citizen-ffi as a cdylib, profile `phone`, Android link flags");
    let mut command = util::cargo();
    command
        .env("CARGO_PROFILE_PHONE_STRIP", "false")
        .env(host_cflags_variable(), PHONE_CFLAGS)
        .args(["rustc", "--quiet", "-p", "citizen-ffi", "--lib"])
        .args(["--profile", "phone", "--crate-type", "cdylib", "--"]);
    for flag in ship::android_flags()? {
        command.arg(flag);
    }
    util::run(&mut command)?;
    Ok(library_in(&target_dir().join("phone")))
}

/// `CFLAGS_<host triple>` (with `_` for `-`), the variable the `cc` crate reads for the host.
fn host_cflags_variable() -> String {
    let triple = util::output(Command::new("rustc").arg("-vV"))
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("host: "))
                .map(str::to_string)
        })
        .unwrap_or_else(|| "x86_64-unknown-linux-gnu".into());
    format!("CFLAGS_{}", triple.replace('-', "_"))
}

fn library_in(dir: &Path) -> PathBuf {
    dir.join(format!(
        "{}citizen_ffi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ))
}

/// The C libraries built into the phone library, each with the names its static archive
/// defines: SQLCipher (built by libsqlite3-sys; its crypto is Rust, so no OpenSSL). Their
/// symbols are C names, so only the archives can tell them apart. The newest archive of each
/// wins (older build folders of other configurations may linger).
fn c_library_symbols() -> Result<Vec<(&'static str, HashSet<String>)>> {
    let build = target_dir().join("phone/build");
    let mut libraries = Vec::new();
    for (label, prefix, archive) in [("sqlcipher (C)", "libsqlite3-sys-", "out/libsqlcipher.a")] {
        let mut newest: Option<(std::time::SystemTime, PathBuf)> = None;
        for entry in std::fs::read_dir(&build)? {
            let dir = entry?.path();
            let named = dir
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix));
            let path = dir.join(archive);
            if let (true, Ok(meta)) = (named, std::fs::metadata(&path)) {
                let modified = meta.modified()?;
                if newest.as_ref().is_none_or(|(time, _)| modified > *time) {
                    newest = Some((modified, path));
                }
            }
        }
        let Some((_, path)) = newest else {
            return Err(format!("no {archive} below {}", build.display()).into());
        };
        let listed = util::output(Command::new("nm").arg("--defined-only").arg(&path))?;
        let names = listed
            .lines()
            .filter_map(|line| {
                let mut fields = line.split_whitespace();
                let (_, _, name) = (fields.next()?, fields.next()?, fields.next()?);
                Some(name.to_string())
            })
            .collect();
        libraries.push((label, names));
    }
    Ok(libraries)
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
    // ring prefixes its C and assembly symbols, except its P-256 table (151 KB), which keeps
    // OpenSSL's name.
    if name.starts_with("ring_core_") || name.starts_with("ecp_nistz256_") {
        "ring (C/asm)"
    } else if name.starts_with("uniffi_") || name.starts_with("ffi_citizen") {
        "citizen_ffi (exports)"
    } else if name.starts_with("_ZN") || name.starts_with("_R") {
        "(rust, undemangled)"
    } else {
        "(other C: libc glue, linker)"
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
        assert_eq!(crate_of("ring_core_0_17_14_bn_mul_mont"), "ring (C/asm)");
        assert_eq!(crate_of("ecp_nistz256_precomputed"), "ring (C/asm)");
        assert_eq!(
            crate_of("__do_global_dtors_aux"),
            "(other C: libc glue, linker)"
        );
    }

    #[test]
    fn phone_cflags_match_the_cargo_config() {
        let config = std::fs::read_to_string(crate::util::root().join(".cargo/config.toml"))
            .expect(".cargo/config.toml");
        let entries: Vec<&str> = config
            .lines()
            .filter(|line| line.starts_with("CFLAGS_"))
            .collect();
        assert!(
            entries.len() >= 4,
            "no CFLAGS_<phone target> in .cargo/config.toml"
        );
        for entry in entries {
            assert!(
                entry.ends_with(&format!("= \"{PHONE_CFLAGS}\"")),
                "{entry} differs from PHONE_CFLAGS ({PHONE_CFLAGS})"
            );
        }
    }

    #[test]
    fn android_link_flags_are_the_same_for_every_android_target() {
        // The measurement links with the aarch64 flags (`ship::android_flags`): they stand for
        // every Android target only while the four lists are equal.
        let config = std::fs::read_to_string(crate::util::root().join(".cargo/config.toml"))
            .expect(".cargo/config.toml");
        let measured = ship::target_rustflags(&config, ship::ANDROID_TARGETS[0])
            .expect("rustflags of the aarch64 Android target");
        assert!(
            measured
                .windows(2)
                .any(|w| w[0] == "-C" && w[1] == ship::PACK_RELOCS_FLAG),
            "the Android targets do not pack relocations: {measured:?}"
        );
        for triple in ship::ANDROID_TARGETS {
            assert_eq!(
                ship::target_rustflags(&config, triple).as_ref(),
                Some(&measured),
                "{triple}'s rustflags differ from the measured ones"
            );
        }
    }

    #[test]
    fn reads_symbol_sizes() {
        let nm = "0000000000001000 0000000000000010 T foo::bar\n0000000000002000 W nosize\n";
        assert_eq!(symbol_sizes(nm).collect::<Vec<_>>(), vec![("foo::bar", 16)]);
    }
}
