//! The supply chain: `cargo deny` (suite `deny` of `cargo xtask test`, offline), the advisory
//! check where the network allows (`cargo xtask deny --advisories`), and the SBOM of the phone
//! library (`cargo xtask sbom`).
//!
//! Owns: installing cargo-deny (crates.io, once), running its `licenses`, `bans` and `sources`
//! checks against `deny.toml` without network (one pass/fail per check kind), and writing a
//! CycloneDX 1.5 JSON SBOM from `cargo metadata`. Does not own the policy itself: `deny.toml`
//! does.
//!
//! The SBOM is made here rather than by cargo-cyclonedx: it needs nothing installed (a fresh
//! machine has the SBOM in seconds instead of after a crate build) and says exactly what the
//! phone library is built from: `citizen-ffi` with its default features, for the Android and
//! iOS targets, normal and build dependencies (SQLCipher's sources reach the library through a
//! build dependency; there is no OpenSSL: SQLCipher's crypto provider is Rust).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::{Value, json};

use crate::SuiteResult;
use crate::util::{self, Result, root, step, target_dir};

/// The checks that need no network. `advisories` needs the RustSec database from GitHub.
const OFFLINE_CHECKS: [&str; 3] = ["licenses", "bans", "sources"];
/// The cargo-deny this project runs; `--locked` builds it with its own lockfile.
const CARGO_DENY_VERSION: &str = "0.20.2";

/// The `deny` suite: each offline check kind passes or fails on its own.
pub fn deny() -> Result<SuiteResult> {
    ensure_cargo_deny()?;
    let mut suite = SuiteResult::new("deny");
    for check in OFFLINE_CHECKS {
        step(&format!("deny: cargo deny check {check} (offline)"));
        match util::run(deny_command().args([
            "--offline",
            "check",
            // The duplicate-crate warnings' dependency trees ran to hundreds of lines and pushed
            // the failures that matter out of CI's visible tail.
            "--hide-inclusion-graph",
            check,
        ])) {
            Ok(()) => suite.passed += 1,
            Err(error) => {
                println!("FAIL deny: {check}: {error}");
                suite.failed += 1;
                suite.failures.push(format!("{check}: {error}"));
            }
        }
    }
    Ok(suite)
}

/// `cargo xtask deny [--advisories]`: the offline suite, or the advisory check alone (fetches
/// the RustSec database: needs GitHub).
pub fn run_alone(args: &[String]) -> Result<()> {
    if args.iter().any(|a| a == "--advisories") {
        ensure_cargo_deny()?;
        step("deny: cargo deny check advisories (fetches the RustSec database)");
        return util::run(deny_command().args(["check", "advisories"]));
    }
    if let Some(other) = args.first() {
        return Err(format!("unknown argument {other} (only --advisories)").into());
    }
    let started = std::time::Instant::now();
    let suite = deny()?;
    println!("\n== deny ({} s)", started.elapsed().as_secs());
    println!("{}", suite.line());
    if suite.failed > 0 {
        return Err(format!("{} deny check(s) failed", suite.failed).into());
    }
    Ok(())
}

fn deny_command() -> Command {
    let mut command = util::cargo();
    command.arg("deny");
    command
}

/// Installs cargo-deny once; a second run only asks it for its version.
fn ensure_cargo_deny() -> Result<()> {
    let installed = Command::new("cargo-deny")
        .arg("--version")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned());
    if installed.is_some_and(|v| v.split_whitespace().nth(1) == Some(CARGO_DENY_VERSION)) {
        return Ok(());
    }
    step(&format!(
        "installing cargo-deny {CARGO_DENY_VERSION} (crates.io)"
    ));
    util::run(util::cargo().args([
        "install",
        "--locked",
        "cargo-deny",
        "--version",
        CARGO_DENY_VERSION,
    ]))
}

/// The targets the shipped library is built for: the AAR's ABIs and the xcframework's slices.
/// The SBOM lists what any of them depends on.
const PHONE_TARGETS: [&str; 6] = [
    "aarch64-linux-android",
    "armv7-linux-androideabi",
    "x86_64-linux-android",
    "aarch64-apple-ios",
    "aarch64-apple-ios-sim",
    "x86_64-apple-ios",
];

/// `cargo xtask sbom`: writes `target/sbom/citizen-ffi.cdx.json` and prints its path.
pub fn sbom() -> Result<()> {
    step("sbom: CycloneDX 1.5 JSON of citizen-ffi from cargo metadata");
    let mut command = util::cargo();
    command.args(["metadata", "--format-version", "1", "--locked"]);
    for target in PHONE_TARGETS {
        command.args(["--filter-platform", target]);
    }
    let metadata: Value = serde_json::from_str(&util::output(&mut command)?)?;
    let document = cyclonedx(&metadata)?;
    let dir = target_dir().join("sbom");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("citizen-ffi.cdx.json");
    std::fs::write(&path, serde_json::to_string_pretty(&document)?)?;
    let count = document["components"].as_array().map_or(0, Vec::len);
    println!("{count} components written to {}", path.display());
    Ok(())
}

/// The CycloneDX document: `citizen-ffi` as the metadata component, every package it depends
/// on (normal and build edges, any target) as a component, and the dependency graph.
fn cyclonedx(metadata: &Value) -> Result<Value> {
    let packages: BTreeMap<&str, &Value> = metadata["packages"]
        .as_array()
        .ok_or("cargo metadata has no packages")?
        .iter()
        .filter_map(|p| Some((p["id"].as_str()?, p)))
        .collect();
    let nodes: BTreeMap<&str, &Value> = metadata["resolve"]["nodes"]
        .as_array()
        .ok_or("cargo metadata has no resolve graph")?
        .iter()
        .filter_map(|n| Some((n["id"].as_str()?, n)))
        .collect();
    let root_id = packages
        .iter()
        .find(|(_, p)| p["name"] == "citizen-ffi")
        .map(|(id, _)| *id)
        .ok_or("no citizen-ffi package")?;

    // Everything reachable through normal and build edges, and the part reachable through
    // normal edges alone: what is linked into the library (`scope: required`). Build-only
    // packages are tools or source crates (`scope: excluded`).
    let reach = |with_build: bool| -> BTreeSet<&str> {
        let mut seen = BTreeSet::from([root_id]);
        let mut stack = vec![root_id];
        while let Some(id) = stack.pop() {
            for (dep, kinds) in deps_of(nodes.get(id).copied()) {
                let follow = kinds
                    .iter()
                    .any(|k| k.is_none() || (with_build && k.as_deref() == Some("build")));
                if follow && seen.insert(dep) {
                    stack.push(dep);
                }
            }
        }
        seen
    };
    let runtime = reach(false);
    let reachable = reach(true);
    // `sqlcipher-src` (like any `-src` crate) is a build dependency whose C sources are compiled
    // into the library: linked, like the normal dependencies.
    let linked = |id: &str| {
        runtime.contains(id)
            || packages[id]["name"]
                .as_str()
                .is_some_and(|n| n.ends_with("-src"))
    };

    let reference = |id: &str| -> String {
        let p = packages[id];
        format!(
            "pkg:cargo/{}@{}",
            p["name"].as_str().unwrap_or("?"),
            p["version"].as_str().unwrap_or("?")
        )
    };
    let component = |id: &str| -> Value {
        let p = packages[id];
        let mut c = json!({
            "type": "library",
            "bom-ref": reference(id),
            "name": p["name"],
            "version": p["version"],
            "purl": reference(id),
            "scope": if linked(id) { "required" } else { "excluded" },
        });
        if let Some(licence) = p["license"].as_str() {
            c["licenses"] = json!([{ "expression": licence.replace('/', " OR ") }]);
        }
        if let Some(description) = p["description"].as_str() {
            c["description"] = json!(description.trim());
        }
        if let Some(repository) = p["repository"].as_str() {
            c["externalReferences"] = json!([{ "type": "vcs", "url": repository }]);
        }
        if p["source"].is_null() {
            c["properties"] = json!([{ "name": "cdx:cargo:source", "value": "workspace" }]);
        }
        c
    };
    let components: Vec<Value> = reachable
        .iter()
        .filter(|id| **id != root_id)
        .map(|id| component(id))
        .collect();
    let dependencies: Vec<Value> = reachable
        .iter()
        .map(|id| {
            let mut on: Vec<String> = deps_of(nodes.get(id).copied())
                .into_iter()
                .filter(|(dep, kinds)| {
                    reachable.contains(dep) && kinds.iter().any(|k| k.as_deref() != Some("dev"))
                })
                .map(|(dep, _)| reference(dep))
                .collect();
            on.sort();
            on.dedup();
            json!({ "ref": reference(id), "dependsOn": on })
        })
        .collect();
    Ok(json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {
            "tools": [{ "vendor": "Citizen SDK", "name": "cargo xtask sbom" }],
            "component": component(root_id),
            "properties": [
                { "name": "cdx:cargo:features", "value": "default" },
                { "name": "cdx:cargo:lockfile", "value": root().join("Cargo.lock").display().to_string() },
            ],
        },
        "components": components,
        "dependencies": dependencies,
    }))
}

/// The dependencies of one resolve node with their kinds (`None` = normal, `Some("build")`,
/// `Some("dev")`), any target.
fn deps_of(node: Option<&Value>) -> Vec<(&str, Vec<Option<String>>)> {
    let Some(deps) = node.and_then(|n| n["deps"].as_array()) else {
        return Vec::new();
    };
    deps.iter()
        .filter_map(|dep| {
            let id = dep["pkg"].as_str()?;
            let kinds = dep["dep_kinds"]
                .as_array()
                .map(|kinds| {
                    kinds
                        .iter()
                        .map(|k| k["kind"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            Some((id, kinds))
        })
        .collect()
}
