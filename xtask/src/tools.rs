//! Installs and finds the non-Rust tools the Kotlin, Swift and SD-JWT interop checks need,
//! idempotently.
//!
//! Owns: which versions of kotlinc, JNA, JUnit, tree-sitter, clang and the interop suite's Python
//! package (`sd-jwt`) the checks use, and how to get them on a fresh Debian 12 machine (apt, npm,
//! PyPI; nothing else is reachable) without a terminal (CI=true, no stdin). Does not own running
//! them: `kotlin.rs`, `swift.rs` and `rust_tests.rs` do.
//!
//! Every `ensure_*` function first looks, then installs only what is missing, so a second run is
//! silent and takes well under a second.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::util::{self, Result};

/// The kotlinc that the checks use. uniffi 0.32's generated Kotlin compiles with it, and the npm
/// package ships the runtime jars the generated code needs (kotlin-stdlib, kotlinx-coroutines).
const KOTLIN_VERSION: &str = "2.4.20";
const TREE_SITTER: &str = "tree-sitter==0.26.1";
const TREE_SITTER_SWIFT: &str = "tree-sitter-swift==0.7.4";
/// The SD-JWT interop suite's Python side: `sd-jwt` and everything it pulls in, pinned so that a
/// new release on PyPI cannot change what the suite tests against.
const SDJWT_PACKAGES: [&str; 7] = [
    "sd-jwt==0.10.4",
    "jwcrypto==1.6.1",
    "cryptography==50.0.2",
    "cffi==2.1.1",
    "pycparser==3.12",
    "PyYAML==6.0.4",
    "typing_extensions==4.16.0",
];
/// Debian's own jars. (Debian's kotlinx-coroutines is 1.0.1, too old for uniffi: it comes from
/// the npm package instead.)
const JNA_JAR: &str = "/usr/share/java/jna.jar";
const JUNIT_JAR: &str = "/usr/share/java/junit4.jar";
/// libhamcrest-java has shipped its jar under each of these names across Debian releases.
const HAMCREST_JARS: [&str; 3] = [
    "/usr/share/java/hamcrest-core.jar",
    "/usr/share/java/hamcrest.jar",
    "/usr/share/java/hamcrest-all.jar",
];

/// What compiling and running the Kotlin tests on the desktop JVM needs.
#[derive(Debug, Clone)]
pub struct JvmTools {
    pub kotlinc: PathBuf,
    pub java: PathBuf,
    /// jna, kotlinx-coroutines-core-jvm, kotlin-stdlib, junit4, hamcrest: the compile and run
    /// classpath besides the test jar itself.
    pub classpath: Vec<PathBuf>,
}

/// What the Swift syntax and header checks need.
#[derive(Debug, Clone)]
pub struct SwiftTools {
    /// A venv's python with tree-sitter and the Swift grammar installed.
    pub python: PathBuf,
    pub clang: PathBuf,
}

pub fn ensure_jvm_tools() -> Result<JvmTools> {
    let mut apt = Vec::new();
    if !util::have("javac") || !util::have("java") {
        apt.push("openjdk-17-jdk-headless");
    }
    if !Path::new(JNA_JAR).is_file() {
        apt.push("libjna-java");
    }
    if !Path::new(JUNIT_JAR).is_file() || hamcrest_jar().is_none() {
        apt.push("junit4");
    }
    if !util::have("npm") {
        apt.push("npm");
    }
    apt_install(&apt)?;

    let npm_prefix = util::target_dir().join("tools/npm");
    let compiler = npm_prefix.join("node_modules/kotlin-compiler");
    if installed_npm_version(&compiler).as_deref() != Some(KOTLIN_VERSION) {
        println!(
            "installing kotlin-compiler {KOTLIN_VERSION} (npm) into {}",
            npm_prefix.display()
        );
        std::fs::create_dir_all(&npm_prefix)?;
        run_quietly(
            Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--prefix"])
                .arg(&npm_prefix)
                .arg(format!("kotlin-compiler@{KOTLIN_VERSION}"))
                .stdin(Stdio::null()),
        )?;
    }

    let kotlinc = compiler.join("bin/kotlinc-jvm");
    let lib = compiler.join("lib");
    let classpath = vec![
        PathBuf::from(JNA_JAR),
        lib.join("kotlinx-coroutines-core-jvm.jar"),
        lib.join("kotlin-stdlib.jar"),
        PathBuf::from(JUNIT_JAR),
        hamcrest_jar().ok_or("junit4 is installed but no hamcrest jar was found")?,
    ];
    for path in std::iter::once(&kotlinc).chain(&classpath) {
        if !path.is_file() {
            return Err(
                format!("expected {} after installing the JVM tools", path.display()).into(),
            );
        }
    }
    Ok(JvmTools {
        kotlinc,
        java: which("java").ok_or("java is not on PATH")?,
        classpath,
    })
}

pub fn ensure_swift_tools() -> Result<SwiftTools> {
    if !util::have("clang") {
        apt_install(&["clang"])?;
    }
    let python = ensure_venv(
        "tools/venv",
        &[TREE_SITTER, TREE_SITTER_SWIFT],
        &["tree_sitter", "tree_sitter_swift"],
    )?;
    Ok(SwiftTools {
        python,
        clang: which("clang").ok_or("clang is not on PATH")?,
    })
}

/// The python of a venv holding the SD-JWT interop suite's independent implementation (PyPI
/// `sd-jwt`, the IETF draft's reference implementation) at [`SDJWT_PACKAGES`].
pub fn ensure_sdjwt_python() -> Result<PathBuf> {
    ensure_venv(
        "tools/sdjwt-venv",
        &SDJWT_PACKAGES,
        &["sd_jwt.issuer", "jwcrypto.jwk"],
    )
}

/// The python of the venv `dir` (below the target folder) with exactly the `pins`
/// (`name==version`) installed and the `modules` importable; made or remade only when it has not.
fn ensure_venv(dir: &str, pins: &[&str], modules: &[&str]) -> Result<PathBuf> {
    let venv = util::target_dir().join(dir);
    let python = venv.join("bin/python");
    if !venv_has(&python, pins, modules) {
        create_venv(&venv)?;
        println!(
            "installing {} (PyPI) into {}",
            pins.join(" "),
            venv.display()
        );
        run_quietly(
            Command::new(&python)
                .args(["-m", "pip", "install", "--disable-pip-version-check"])
                .args(pins)
                .stdin(Stdio::null()),
        )?;
        if !venv_has(&python, pins, modules) {
            return Err(format!(
                "{} was installed into {} but the venv still lacks a pinned version or cannot \
                 import {}",
                pins.join(" "),
                venv.display(),
                modules.join(", ")
            )
            .into());
        }
    }
    Ok(python)
}

/// `python3 -m venv`, recreating a half-made venv. Debian's system python3 can only make venvs
/// with the `python3-venv` package (without it, `-m venv` fails after creating a venv with no pip);
/// a pyenv or python.org python3 can always.
fn create_venv(venv: &Path) -> Result<()> {
    if !util::have("python3") {
        apt_install(&["python3", "python3-venv"])?;
    }
    let make = || {
        let _ = std::fs::remove_dir_all(venv);
        Command::new("python3")
            .args(["-m", "venv"])
            .arg(venv)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
            && venv.join("bin/pip").is_file()
    };
    println!("creating a Python venv at {}", venv.display());
    if make() {
        return Ok(());
    }
    apt_install(&["python3-venv"])?;
    if make() {
        return Ok(());
    }
    Err(format!(
        "`python3 -m venv {}` failed even with python3-venv installed",
        venv.display()
    )
    .into())
}

/// Whether `python` exists, has each of `pins` at its version and imports `modules`.
fn venv_has(python: &Path, pins: &[&str], modules: &[&str]) -> bool {
    const CHECK: &str = "import importlib, importlib.metadata as m, sys\n\
                         pins, modules = sys.argv[1].split(), sys.argv[2].split()\n\
                         for module in modules: importlib.import_module(module)\n\
                         sys.exit(any(m.version(n) != v for n, v in (p.split('==') for p in pins)))";
    python.is_file()
        && Command::new(python)
            .args(["-c", CHECK, &pins.join(" "), &modules.join(" ")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
}

/// The version in an installed npm package's package.json; None when absent or unreadable.
fn installed_npm_version(package_dir: &Path) -> Option<String> {
    let json = std::fs::read_to_string(package_dir.join("package.json")).ok()?;
    let value: serde_json::Value = serde_json::from_str(&json).ok()?;
    value.get("version")?.as_str().map(str::to_owned)
}

fn hamcrest_jar() -> Option<PathBuf> {
    HAMCREST_JARS
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
}

fn which(program: &str) -> Option<PathBuf> {
    let found =
        util::output(Command::new("sh").args(["-c", &format!("command -v {program}")])).ok()?;
    let path = found.trim();
    (!path.is_empty()).then(|| PathBuf::from(path))
}

/// `readelf`, `nm` (binutils) and `python3` for the shipping checks (`ship.rs`).
pub fn ensure_binutils() -> Result<()> {
    let mut apt = Vec::new();
    if !util::have("readelf") || !util::have("nm") {
        apt.push("binutils");
    }
    if !util::have("python3") {
        apt.push("python3");
    }
    apt_install(&apt)
}

/// `apt-get install -y` without questions; `apt-get update` runs once per xtask process, before
/// the first install, because a fresh machine's package lists are empty or stale.
fn apt_install(packages: &[&str]) -> Result<()> {
    static UPDATED: AtomicBool = AtomicBool::new(false);
    if packages.is_empty() {
        return Ok(());
    }
    if !util::have("apt-get") {
        return Err(format!(
            "please install {} (no apt-get on this machine)",
            packages.join(" ")
        )
        .into());
    }
    println!("installing apt packages: {}", packages.join(" "));
    if !UPDATED.swap(true, Ordering::SeqCst) {
        run_quietly(apt_command().arg("update"))?;
    }
    run_quietly(
        apt_command()
            .args(["install", "-y", "--no-install-recommends"])
            .args(packages),
    )
}

/// Runs an installer, showing its (long) output only when it fails.
fn run_quietly(command: &mut Command) -> Result<()> {
    let out = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    eprintln!("{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    Err(format!("{command:?} failed with {}", out.status).into())
}

/// apt-get as root, through `sudo -n` when this is not root (a developer's machine).
fn apt_command() -> Command {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0");
    let mut command = if is_root {
        Command::new("apt-get")
    } else {
        let mut sudo = Command::new("sudo");
        sudo.args(["-n", "apt-get"]);
        sudo
    };
    command
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null());
    command
}
