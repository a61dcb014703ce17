//! The scripted citizen journey: `cargo run -p citizen-sandbox -- demo`.
//!
//! Owns: starting an embedded sandbox portal, driving the SDK's public Rust API through each
//! step a citizen's app would take, and printing what happened. Each issue that adds a capability
//! adds its steps here. Uses the software sealer (desktop only) and says so.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use citizen_core::{
    Citizen, CitizenConfig, Event, EventListener, Platform, SoftwareSealer, Status, WalletState,
};

use crate::{SandboxConfig, SandboxError};

#[derive(Debug, Default, Clone)]
pub struct DemoOptions {
    /// Keep the citizen's store here (for inspection); a temporary folder otherwise.
    pub data_dir: Option<PathBuf>,
}

/// What the journey left behind, for tests.
#[derive(Debug)]
pub struct DemoOutcome {
    pub citizen_data_dir: PathBuf,
    pub portal_name: String,
    pub status: Status,
    pub events: Vec<Event>,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("sandbox: {0}")]
    Sandbox(#[from] SandboxError),
    #[error("SDK: {0}")]
    Sdk(#[from] citizen_core::Error),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("check failed: {0}")]
    Check(String),
}

/// Collects events and prints each as it arrives.
struct PrintingListener {
    seen: std::sync::Mutex<Vec<Event>>,
}

impl EventListener for PrintingListener {
    fn on_event(&self, event: Event) {
        let line = match &event {
            Event::PortalReachabilityChanged { reachable: true } => "portal reachable".to_string(),
            Event::PortalReachabilityChanged { reachable: false } => {
                "portal unreachable".to_string()
            }
            Event::StoreKeyRotated => "store key rotated".to_string(),
            Event::StatusChanged { status } => {
                format!("status changed ({} queued)", status.queued_work)
            }
            other => format!("{other:?}"),
        };
        println!("      event: {line}");
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event);
    }
}

/// Runs the journey, writing each step to `out`.
pub async fn run(options: DemoOptions, out: &mut dyn Write) -> Result<DemoOutcome, DemoError> {
    let portal_dir = tempfile::tempdir()?;
    let temporary_store;
    let citizen_dir = match options.data_dir {
        Some(dir) => dir,
        None => {
            temporary_store = tempfile::tempdir()?;
            temporary_store.path().to_path_buf()
        }
    };
    const STEPS: usize = 6;
    let mut step = 0;
    let mut next = || {
        step += 1;
        format!("[{step}/{STEPS}]")
    };

    writeln!(
        out,
        "Citizen SDK demo: one citizen's journey against an embedded sandbox portal"
    )?;
    let sandbox = crate::start(SandboxConfig::loopback(portal_dir.path())).await?;
    writeln!(
        out,
        "{} Sandbox portal listening at {}\n      CA {} · pin {}",
        next(),
        sandbox.base_url,
        sandbox.ca_pem_path.display(),
        sandbox.spki_pin
    )?;

    let existed = citizen_dir.join("citizen.db").exists();
    let mut config = CitizenConfig::new(&citizen_dir, &sandbox.base_url);
    config.trusted_roots_pem = vec![sandbox.ca_pem.clone()];
    config.portal_spki_pins = vec![sandbox.spki_pin.clone()];
    let platform = Platform::new(Arc::new(SoftwareSealer::in_dir(&citizen_dir)));
    let citizen = Citizen::open(config, platform).await?;
    let opened = citizen.status().await?;
    writeln!(
        out,
        "{} Opened the {} encrypted store in {}\n      schema v{}; its key is sealed by the software sealer (desktop only, hardware-backed: {})",
        next(),
        if existed { "existing" } else { "new" },
        citizen_dir.display(),
        opened.store_schema_version,
        opened.store_key_hardware_backed,
    )?;
    let listener = Arc::new(PrintingListener {
        seen: Default::default(),
    });
    let subscription = citizen.subscribe(listener.clone());

    writeln!(out, "{} Pinging the portal over pinned TLS", next())?;
    let contact = citizen.ping_portal().await?;
    writeln!(
        out,
        "      \"{}\" speaks API v{}; clock difference {} s",
        contact.portal_name,
        contact.api_version,
        contact.contacted_at - contact.server_time
    )?;

    let sync = citizen.sync_now(std::time::Duration::from_secs(5)).await?;
    writeln!(
        out,
        "{} Background sync: {} (nothing is queued yet; later steps queue submissions)",
        next(),
        if sync.completed {
            "completed"
        } else {
            "cut short"
        },
    )?;

    let status = citizen.status().await?;
    writeln!(
        out,
        "{} Status: schema v{}, wallet {}, {} queued, portal reachable: {}",
        next(),
        status.store_schema_version,
        match status.wallet_state {
            WalletState::NotActivated => "not activated",
            WalletState::Active => "active",
            WalletState::Locked { .. } => "locked",
            WalletState::Blocked => "blocked",
        },
        status.queued_work,
        status.portal_reachable.unwrap_or(false),
    )?;

    let leaks = files_containing(&citizen_dir, contact.portal_name.as_bytes())?;
    if !leaks.is_empty() {
        return Err(DemoError::Check(format!(
            "plaintext found in {leaks:?}: the store is not encrypted"
        )));
    }
    writeln!(
        out,
        "{} Checked the store's files on disk: none contains the stored portal name in plaintext",
        next()
    )?;

    drop(subscription);
    let events = std::mem::take(&mut *listener.seen.lock().unwrap_or_else(|p| p.into_inner()));
    sandbox.shutdown();
    writeln!(out, "Done.")?;
    Ok(DemoOutcome {
        citizen_data_dir: citizen_dir,
        portal_name: contact.portal_name,
        status,
        events,
    })
}

/// The files directly in `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() {
            let bytes = std::fs::read(&path)?;
            if bytes.windows(needle.len()).any(|w| w == needle) {
                found.push(path);
            }
        }
    }
    Ok(found)
}
