//! Runs the sandbox portal as a child process for the foreign-language tests.
//!
//! `citizen-sandbox serve --port 0 --data DIR --ready-file FILE` writes FILE (JSON: `base_url`,
//! `ca_pem_path`, `spki_pin`, `trust_anchor_kid`, `trust_anchor_jwk`) once it listens; this module
//! waits for it and kills the server on drop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::util::{self, Result};

/// Where the running sandbox is and how to trust it.
#[derive(Debug, Clone, Deserialize)]
pub struct SandboxInfo {
    pub base_url: String,
    pub ca_pem_path: PathBuf,
    pub spki_pin: String,
    /// The key apps configure as their trust anchor (it signs the trust list), JWK JSON.
    pub trust_anchor_kid: String,
    pub trust_anchor_jwk: String,
}

pub struct RunningSandbox {
    pub info: SandboxInfo,
    child: Child,
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start() -> Result<RunningSandbox> {
    util::step("start the sandbox portal");
    util::run(util::cargo().args(["build", "--quiet", "-p", "citizen-sandbox"]))?;
    let data_dir = util::target_dir().join("xtask-sandbox");
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir)?;
    let ready_file = data_dir.join("ready.json");
    let child = Command::new(util::target_dir().join("debug/citizen-sandbox"))
        .args(["serve", "--port", "0", "--data"])
        .arg(&data_dir)
        .arg("--ready-file")
        .arg(&ready_file)
        .stdout(Stdio::null())
        .spawn()?;
    let mut running = RunningSandbox {
        info: SandboxInfo {
            base_url: String::new(),
            ca_pem_path: PathBuf::new(),
            spki_pin: String::new(),
            trust_anchor_kid: String::new(),
            trust_anchor_jwk: String::new(),
        },
        child,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(json) = std::fs::read_to_string(&ready_file)
            && let Ok(info) = serde_json::from_str::<SandboxInfo>(&json)
        {
            println!("sandbox at {}", info.base_url);
            running.info = info;
            return Ok(running);
        }
        if let Some(status) = running.child.try_wait()? {
            return Err(format!("the sandbox exited early with {status}").into());
        }
        if Instant::now() > deadline {
            return Err("the sandbox did not become ready within 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
