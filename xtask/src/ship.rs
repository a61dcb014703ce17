//! The shipping checks of `cargo xtask test` (also alone: `cargo xtask ship-checks`).
//!
//! Owns three suites:
//! - `android-16k`: the Android linker flags of `.cargo/config.toml`, applied to a host build of
//!   the `citizen-ffi` cdylib, give LOAD segments aligned to 16 KB (Google Play's rule for apps
//!   targeting Android 15+), and packed relocations (`--pack-dyn-relocs=android`, APS2; the
//!   host linker is rustc's own lld, which packs them for any ELF target). There is no NDK here,
//!   so the host build stands in for the Android ones: it proves the flags do what they say with
//!   a real linker. (That host library is only inspected, never loaded: glibc would not apply
//!   packed relocations.)
//! - `ios-privacy`: `ios/Sources/CitizenSDK/PrivacyInfo.xcprivacy` is a well-formed plist that
//!   declares no tracking and no collected data, and lists every required-reason API category
//!   whose symbols the host library imports (`nm -uD`; the proxy issue 10 allows, see
//!   [`REQUIRED_REASON_SYMBOLS`]).
//! - `ffi-docs`: every item `citizen-ffi` exports through uniffi carries a doc comment (uniffi
//!   copies it into the Kotlin and Swift bindings), read from `bindings/src/*.rs`.
//! - `r8-rules`: every class the generated Kotlin needs kept because JNA reaches it by
//!   reflection (Structures, Callbacks, `Native.register` objects; see `r8.rs`), and JNA's own
//!   classes, are kept with their members by `android/citizen-sdk/consumer-rules.pro`.
//!
//! Does not own the flags, the manifest or the rules themselves, only the checks on them.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::SuiteResult;
use crate::r8;
use crate::tools;
use crate::util::{self, Result, root, step, target_dir};

/// The page size Android 15+ devices may use; every LOAD segment must be aligned to it.
const PAGE_16K: u64 = 0x4000;
/// The Android targets of `.cargo/config.toml` that must carry the 16 KB flag.
pub(crate) const ANDROID_TARGETS: [&str; 4] = [
    "aarch64-linux-android",
    "armv7-linux-androideabi",
    "i686-linux-android",
    "x86_64-linux-android",
];
const MAX_PAGE_SIZE_FLAG: &str = "link-arg=-Wl,-z,max-page-size=16384";
/// Android's packed relocations (APS2), for API 23+ (docs/size.md).
pub(crate) const PACK_RELOCS_FLAG: &str = "link-arg=-Wl,--pack-dyn-relocs=android";
/// `DT_ANDROID_RELA`, the dynamic tag of APS2-packed relocations, as `readelf -d` prints it.
const DT_ANDROID_RELA: &str = "0x0000000060000011";

/// Runs the four suites, each independent of the others' failures. `kotlin_dir` holds the
/// generated Kotlin (`bindings::generate`).
pub fn run(kotlin_dir: &Path) -> Result<Vec<SuiteResult>> {
    tools::ensure_binutils()?;
    let host_library = build_16k_library()?;
    Ok(vec![
        android_16k(&host_library)?,
        ios_privacy(&host_library)?,
        ffi_docs()?,
        r8_rules(kotlin_dir)?,
    ])
}

/// `cargo xtask ship-checks`: the four suites alone, with their lines.
pub fn run_alone() -> Result<()> {
    let started = std::time::Instant::now();
    let generated = crate::bindings::generate()?;
    let suites = run(&generated.kotlin_dir)?;
    println!("\n== ship checks ({} s)", started.elapsed().as_secs());
    for suite in &suites {
        println!("{}", suite.line());
    }
    let failed: usize = suites.iter().map(|s| s.failed).sum();
    if failed > 0 {
        return Err(format!("{failed} ship check(s) failed").into());
    }
    Ok(())
}

/// One named check: prints a FAIL line with the reason, counts into `suite` and names it in
/// the summary's "failing in" list (the FAIL line itself may be far above CI's visible tail).
fn check(suite: &mut SuiteResult, name: &str, outcome: std::result::Result<(), String>) {
    match outcome {
        Ok(()) => suite.passed += 1,
        Err(reason) => {
            suite.failed += 1;
            println!("FAIL {}: {name}: {reason}", suite.name);
            suite.failures.push(format!("{name}: {reason}"));
        }
    }
}

fn suite(name: &'static str) -> SuiteResult {
    SuiteResult::new(name)
}

/// The host cdylib linked with the Android 16 KB flags, in its own target dir
/// (`target/android-16k`) so the normal build keeps its fingerprints. Only the final link takes
/// the flags (`cargo rustc -- -C link-arg=...`). The dev profile without debug info keeps it
/// cheap: measured on 2 busy cores, a cold build 4 min 47 s (6 min 45 s with debug info), a
/// rebuild after a `citizen-ffi` change 0.9 s (45 s with debug info: linking 145 MB of DWARF),
/// nothing to do 0.5 s.
fn build_16k_library() -> Result<PathBuf> {
    step("build the host cdylib with the Android 16 KB link flags");
    let dir = target_dir().join("android-16k");
    let mut command = util::cargo();
    command
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        .args(["rustc", "--quiet", "-p", "citizen-ffi", "--lib"])
        .args(["--crate-type", "cdylib", "--target-dir"])
        .arg(&dir)
        .arg("--");
    for flag in android_flags()? {
        command.arg(flag);
    }
    util::run(&mut command)?;
    Ok(dir.join("debug").join(format!(
        "{}citizen_ffi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )))
}

/// The `rustflags` of `[target.aarch64-linux-android]` in `.cargo/config.toml`, the flags every
/// Android target shares (the `android-16k` suite checks that they agree). `cargo xtask size`
/// links the host measurement with them too.
pub(crate) fn android_flags() -> Result<Vec<String>> {
    let config = std::fs::read_to_string(root().join(".cargo/config.toml"))?;
    target_rustflags(&config, ANDROID_TARGETS[0]).ok_or_else(|| {
        format!(
            "no rustflags for {} in .cargo/config.toml",
            ANDROID_TARGETS[0]
        )
        .into()
    })
}

/// The `rustflags = [...]` array of `[target.TRIPLE]`, read as text (one-line array).
pub(crate) fn target_rustflags(config: &str, triple: &str) -> Option<Vec<String>> {
    let header = format!("[target.{triple}]");
    let mut lines = config
        .lines()
        .skip_while(|line| line.trim() != header)
        .skip(1);
    lines
        .by_ref()
        .take_while(|line| !line.trim_start().starts_with('['))
        .find_map(|line| line.trim().strip_prefix("rustflags"))
        .map(|rest| {
            // The quoted strings of the array: every other piece between quotes.
            rest.split('"')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect()
        })
}

fn android_16k(library: &Path) -> Result<SuiteResult> {
    step("android-16k: LOAD segment alignment");
    let mut result = suite("android-16k");
    let config = std::fs::read_to_string(root().join(".cargo/config.toml"))?;
    for triple in ANDROID_TARGETS {
        let flags = target_rustflags(&config, triple).unwrap_or_default();
        let has_flag = |wanted: &str| {
            flags
                .windows(2)
                .any(|w| w[0] == "-C" && w[1] == wanted)
                .then_some(())
                .ok_or_else(|| format!("rustflags are {flags:?}"))
        };
        check(
            &mut result,
            &format!("{triple} links with max-page-size=16384"),
            has_flag(MAX_PAGE_SIZE_FLAG),
        );
        check(
            &mut result,
            &format!("{triple} links with packed relocations"),
            has_flag(PACK_RELOCS_FLAG),
        );
    }
    let dynamic = util::output(Command::new("readelf").arg("-dW").arg(library))?;
    check(
        &mut result,
        "the library's relocations are packed (DT_ANDROID_RELA)",
        dynamic
            .lines()
            .any(|line| line.trim_start().starts_with(DT_ANDROID_RELA))
            .then_some(())
            .ok_or_else(|| "readelf -d shows no DT_ANDROID_RELA".to_string()),
    );
    let program = util::output(Command::new("readelf").arg("-lW").arg(library))?;
    let aligns = load_alignments(&program);
    check(
        &mut result,
        "the library has LOAD segments",
        (!aligns.is_empty())
            .then_some(())
            .ok_or_else(|| "readelf -lW shows no LOAD segment".to_string()),
    );
    for (index, align) in aligns.iter().enumerate() {
        check(
            &mut result,
            &format!("LOAD segment {index} aligned to 16 KB"),
            (*align >= PAGE_16K)
                .then_some(())
                .ok_or_else(|| format!("Align {align:#x} < {PAGE_16K:#x}")),
        );
    }
    Ok(result)
}

/// The Align column of every LOAD line of `readelf -lW`.
fn load_alignments(program_headers: &str) -> Vec<u64> {
    program_headers
        .lines()
        .filter(|line| line.trim_start().starts_with("LOAD "))
        .filter_map(|line| line.split_whitespace().last())
        .filter_map(|align| u64::from_str_radix(align.trim_start_matches("0x"), 16).ok())
        .collect()
}

/// Required-reason API categories (Apple, "Describing use of required reason API") and the
/// imported symbols that stand for them on the host build. The host is Linux/glibc, so the
/// glibc spellings (`stat64`, `statx`, `newfstatat`, ...) count as the Darwin calls they become
/// on iOS. `clock_gettime` counts as SystemBootTime because Rust's `Instant` (and so tokio's
/// timers) reads `CLOCK_UPTIME_RAW` through it on Apple platforms: time since boot.
const REQUIRED_REASON_SYMBOLS: [(&str, &[&str]); 3] = [
    (
        "NSPrivacyAccessedAPICategoryFileTimestamp",
        &[
            "stat",
            "stat64",
            "fstat",
            "fstat64",
            "lstat",
            "lstat64",
            "fstatat",
            "fstatat64",
            "newfstatat",
            "statx",
            "getattrlist",
            "getattrlistbulk",
            "fgetattrlist",
            "getattrlistat",
            "setattrlist",
            "setattrlistbulk",
        ],
    ),
    (
        "NSPrivacyAccessedAPICategoryDiskSpace",
        &[
            "statfs",
            "statfs64",
            "fstatfs",
            "fstatfs64",
            "statvfs",
            "statvfs64",
            "fstatvfs",
            "fstatvfs64",
        ],
    ),
    (
        "NSPrivacyAccessedAPICategorySystemBootTime",
        &[
            "mach_absolute_time",
            "clock_gettime",
            "clock_gettime_nsec_np",
        ],
    ),
];

const PRIVACY_MANIFEST: &str = "ios/Sources/CitizenSDK/PrivacyInfo.xcprivacy";

/// What Python's plistlib reads from the manifest, as one JSON object (or an error line).
const PLIST_TO_JSON: &str = r#"
import json, plistlib, sys
with open(sys.argv[1], "rb") as f:
    plist = plistlib.load(f)
print(json.dumps(plist))
"#;

fn ios_privacy(library: &Path) -> Result<SuiteResult> {
    step("ios-privacy: PrivacyInfo.xcprivacy against the library's imports");
    let mut result = suite("ios-privacy");
    let manifest = root().join(PRIVACY_MANIFEST);
    let parsed = Command::new("python3")
        .arg("-c")
        .arg(PLIST_TO_JSON)
        .arg(&manifest)
        .output()?;
    let plist: Option<serde_json::Value> = parsed
        .status
        .success()
        .then(|| serde_json::from_slice(&parsed.stdout).ok())
        .flatten();
    check(
        &mut result,
        "the manifest is a well-formed plist",
        plist.is_some().then_some(()).ok_or_else(|| {
            String::from_utf8_lossy(&parsed.stderr)
                .lines()
                .last()
                .unwrap_or("unreadable")
                .to_string()
        }),
    );
    let plist = plist.unwrap_or_default();
    check(
        &mut result,
        "NSPrivacyTracking is false",
        (plist["NSPrivacyTracking"] == false)
            .then_some(())
            .ok_or_else(|| format!("it is {}", plist["NSPrivacyTracking"])),
    );
    for key in ["NSPrivacyTrackingDomains", "NSPrivacyCollectedDataTypes"] {
        check(
            &mut result,
            &format!("{key} is an empty array"),
            (plist[key].as_array().is_some_and(Vec::is_empty))
                .then_some(())
                .ok_or_else(|| format!("it is {}", plist[key])),
        );
    }
    let declared: Vec<(String, usize)> = plist["NSPrivacyAccessedAPITypes"]
        .as_array()
        .map(|types| {
            types
                .iter()
                .map(|entry| {
                    let category = entry["NSPrivacyAccessedAPIType"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    let reasons = entry["NSPrivacyAccessedAPITypeReasons"]
                        .as_array()
                        .map_or(0, Vec::len);
                    (category, reasons)
                })
                .collect()
        })
        .unwrap_or_default();
    for (category, reasons) in &declared {
        check(
            &mut result,
            &format!("{category} gives a reason"),
            (*reasons > 0)
                .then_some(())
                .ok_or_else(|| "NSPrivacyAccessedAPITypeReasons is empty".to_string()),
        );
    }

    let imports = util::output(Command::new("nm").arg("-uD").arg(library))?;
    let imported: Vec<&str> = imports
        .lines()
        .filter_map(|line| line.split_whitespace().last())
        .map(|symbol| symbol.split('@').next().unwrap_or(symbol))
        .collect();
    for (category, symbols) in REQUIRED_REASON_SYMBOLS {
        let used: Vec<&str> = symbols
            .iter()
            .copied()
            .filter(|symbol| imported.contains(symbol))
            .collect();
        let listed = declared.iter().any(|(name, _)| name == category);
        if used.is_empty() {
            println!("  {category}: no symbol imported");
            continue;
        }
        println!("  {category}: imports {}", used.join(", "));
        check(
            &mut result,
            &format!("{category} is declared"),
            listed
                .then_some(())
                .ok_or_else(|| format!("the library imports {}", used.join(", "))),
        );
    }
    Ok(result)
}

const CONSUMER_RULES: &str = "android/citizen-sdk/consumer-rules.pro";

fn r8_rules(kotlin_dir: &Path) -> Result<SuiteResult> {
    step("r8-rules: consumer-rules.pro keeps what the generated Kotlin reaches by reflection");
    let mut result = suite("r8-rules");
    let rules = r8::rules(&std::fs::read_to_string(root().join(CONSUMER_RULES))?);
    for class in r8::JNA_CLASSES {
        check(
            &mut result,
            &format!("{class} (JNA, found by name from native code)"),
            r8::kept(&rules, class, &[]),
        );
    }
    let mut files = Vec::new();
    collect_kotlin(kotlin_dir, &mut files)?;
    files.sort();
    let mut needed = Vec::new();
    for file in &files {
        needed.extend(r8::needed_classes(&std::fs::read_to_string(file)?));
    }
    check(
        &mut result,
        "the generated Kotlin has classes JNA reflects on",
        (!needed.is_empty())
            .then_some(())
            .ok_or_else(|| format!("none found in {}", kotlin_dir.display())),
    );
    println!(
        "  {} generated classes reached by reflection, in {} file(s)",
        needed.len(),
        files.len()
    );
    for class in &needed {
        check(
            &mut result,
            &format!("{} ({})", class.name, class.why),
            r8::kept(&rules, &class.name, &class.supertypes),
        );
    }
    Ok(result)
}

/// Every `.kt` file below `dir`.
fn collect_kotlin(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_kotlin(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "kt") {
            files.push(path);
        }
    }
    Ok(())
}

/// The uniffi derives and attributes that export an item.
const EXPORTING: [&str; 5] = [
    "uniffi::export",
    "uniffi::Record",
    "uniffi::Object",
    "uniffi::Enum",
    "uniffi::Error",
];

fn ffi_docs() -> Result<SuiteResult> {
    step("ffi-docs: doc comments on every exported item of citizen-ffi");
    let mut result = suite("ffi-docs");
    let dir = root().join("bindings/src");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    files.retain(|path| path.extension().is_some_and(|ext| ext == "rs"));
    files.sort();
    for file in files {
        let source = std::fs::read_to_string(&file)?;
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        for item in exported_items(&source) {
            check(
                &mut result,
                &format!("{name}:{} {}", item.line, item.name),
                item.documented
                    .then_some(())
                    .ok_or_else(|| "no doc comment".to_string()),
            );
        }
    }
    Ok(result)
}

/// One exported item (or member of one) and whether a `///` comment precedes it.
#[derive(Debug, PartialEq)]
struct DocItem {
    name: String,
    line: usize,
    documented: bool,
}

/// What a run of attribute and doc lines said about the item that follows it.
#[derive(Default)]
struct Preamble {
    documented: bool,
    attributes: String,
    open_brackets: i32,
}

impl Preamble {
    /// Takes `line` into the preamble if it is a doc comment, an attribute or a comment.
    fn take(&mut self, line: &str) -> bool {
        if self.open_brackets > 0 {
            self.attributes.push_str(line);
            self.open_brackets += brackets(line);
            return true;
        }
        if line.starts_with("///") {
            self.documented = true;
            true
        } else if line.starts_with("#[") {
            self.attributes.push_str(line);
            self.open_brackets = brackets(line);
            true
        } else {
            line.starts_with("//")
        }
    }
}

fn brackets(line: &str) -> i32 {
    line.matches('[').count() as i32 - line.matches(']').count() as i32
}

fn braces(line: &str) -> i32 {
    line.matches('{').count() as i32 - line.matches('}').count() as i32
}

/// The identifier after `keyword ` in `line` (`pub struct Foo<..> {` gives `Foo`).
fn name_after<'a>(line: &'a str, keyword: &str) -> Option<&'a str> {
    let rest = line.split(keyword).nth(1)?;
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    Some(&rest[..end]).filter(|name| !name.is_empty())
}

/// Exported items of one source file, with their members: the fields of a Record, the variants
/// of an Enum or Error, the methods of an exported `impl` or foreign trait. Read as text: the
/// bindings' own style (one item per line, rustfmt) is what it relies on.
fn exported_items(source: &str) -> Vec<DocItem> {
    let lines: Vec<&str> = source.lines().collect();
    let mut items = Vec::new();
    let mut preamble = Preamble::default();
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index].trim();
        if preamble.take(line) {
            index += 1;
            continue;
        }
        let exported = EXPORTING.iter().any(|a| preamble.attributes.contains(a));
        let documented = preamble.documented;
        preamble = Preamble::default();
        let kind = ["struct ", "enum ", "trait ", "fn ", "impl "]
            .into_iter()
            .find(|keyword| line.contains(keyword) && !line.starts_with("use "));
        let (Some(kind), true) = (kind, exported) else {
            index += 1;
            continue;
        };
        let owner = match kind {
            "impl " => name_after(line, "impl ").unwrap_or("?").to_string(),
            _ => name_after(line, kind).unwrap_or("?").to_string(),
        };
        if kind != "impl " {
            items.push(DocItem {
                name: owner.clone(),
                line: index + 1,
                documented,
            });
        }
        if kind == "fn " || !line.ends_with('{') {
            // A function's body holds nothing exported; a unit struct has no body.
            index += 1;
            continue;
        }
        // The members, at depth 1 of the item's braces.
        let mut depth = braces(line);
        let mut member = Preamble::default();
        index += 1;
        while index < lines.len() && depth > 0 {
            let inner = lines[index].trim();
            if depth == 1 && !member.take(inner) {
                let name = match kind {
                    "struct " => inner
                        .strip_prefix("pub ")
                        .and_then(|rest| rest.split(':').next())
                        .filter(|_| inner.contains(':')),
                    "enum " => Some(
                        inner
                            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                            .next()
                            .unwrap_or_default(),
                    )
                    .filter(|name| name.starts_with(|c: char| c.is_ascii_uppercase())),
                    _ => name_after(inner, "fn ").filter(|_| {
                        inner.starts_with("fn ")
                            || inner.starts_with("pub fn ")
                            || inner.starts_with("async fn ")
                            || inner.starts_with("pub async fn ")
                    }),
                };
                if let Some(name) = name {
                    items.push(DocItem {
                        name: format!("{owner}.{}", name.trim()),
                        line: index + 1,
                        documented: member.documented,
                    });
                }
                member = Preamble::default();
            }
            if !inner.starts_with("//") {
                depth += braces(inner);
            }
            index += 1;
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_load_alignments_of_readelf() {
        let text = "  Type Offset VirtAddr PhysAddr FileSiz MemSiz Flg Align\n  \
            LOAD 0x000000 0x0 0x0 0x3ad2c4 0x3ad2c4 R   0x4000\n  \
            LOAD 0x3ad2c4 0x3ae2c4 0x3ae2c4 0x757c7c 0x757c7c R E 0x1000\n  \
            GNU_STACK 0x0 0x0 0x0 0x0 0x0 RW 0x10\n";
        assert_eq!(load_alignments(text), vec![0x4000, 0x1000]);
    }

    #[test]
    fn reads_a_targets_rustflags() {
        let config = "[alias]\nx = \"y\"\n\n[target.aarch64-linux-android]\n\
            rustflags = [\"-C\", \"link-arg=-Wl,-z,max-page-size=16384\"]\n";
        assert_eq!(
            target_rustflags(config, "aarch64-linux-android"),
            Some(vec![
                "-C".into(),
                "link-arg=-Wl,-z,max-page-size=16384".into()
            ])
        );
        assert_eq!(target_rustflags(config, "i686-linux-android"), None);
    }

    #[test]
    fn finds_undocumented_exports_and_members() {
        let source = "/// Doc.\n#[derive(Debug, uniffi::Record)]\npub struct A {\n    \
            /// Doc.\n    pub x: u8,\n    pub y: u8,\n}\n\n\
            #[derive(\n    Debug,\n    uniffi::Enum,\n)]\npub enum B {\n    \
            /// Doc.\n    #[error(\"x\")]\n    One { detail: String },\n    Two,\n}\n\n\
            struct Private {\n    pub z: u8,\n}\n\n\
            #[uniffi::export]\nimpl A {\n    /// Doc.\n    #[uniffi::constructor]\n    \
            pub fn new() -> Self {\n        if true { x() }\n    }\n\n    \
            pub async fn go(&self) {}\n}\n";
        let found: Vec<(String, bool)> = exported_items(source)
            .into_iter()
            .map(|item| (item.name, item.documented))
            .collect();
        let expected = [
            ("A", true),
            ("A.x", true),
            ("A.y", false),
            ("B", false),
            ("B.One", true),
            ("B.Two", false),
            ("A.new", true),
            ("A.go", false),
        ];
        let expected: Vec<(String, bool)> =
            expected.iter().map(|(n, d)| (n.to_string(), *d)).collect();
        assert_eq!(found, expected);
    }
}
