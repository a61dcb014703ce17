//! Shared set-up for the end-to-end tests: a real sandbox portal over real HTTPS on loopback, and
//! SDK configurations that trust it.

use std::path::Path;
use std::sync::{Arc, Mutex};

use citizen_core::trust_list::TrustAnchor;
use citizen_core::wallet::activation::ActivationRequest;
use citizen_core::{Citizen, CitizenConfig, Event, EventListener, Platform, SoftwareSealer};
use citizen_sandbox::enrollment::EnrollmentRequest;
use citizen_sandbox::{RunningSandbox, SandboxConfig};

pub mod dossier_kit;
pub mod tls_server;

pub struct Portal {
    pub sandbox: RunningSandbox,
    _data: tempfile::TempDir,
}

/// Starts a sandbox portal named `portal_name` on a free loopback port.
pub async fn start_portal(portal_name: &str) -> Portal {
    let data = tempfile::tempdir().unwrap();
    let mut config = SandboxConfig::loopback(data.path());
    config.portal_name = Some(portal_name.to_string());
    let sandbox = citizen_sandbox::start(config).await.unwrap();
    Portal {
        sandbox,
        _data: data,
    }
}

/// A configuration that trusts the sandbox's CA and pins its leaf key.
pub fn trusting_config(portal: &Portal, data_dir: &Path) -> CitizenConfig {
    let mut config = CitizenConfig::new(data_dir, &portal.sandbox.base_url);
    config.trusted_roots_pem = vec![portal.sandbox.ca_pem.clone()];
    config.portal_spki_pins = vec![portal.sandbox.spki_pin.clone()];
    config
}

/// [`trusting_config`] with the sandbox's trust anchor, so its trust list verifies.
pub fn anchored_config(portal: &Portal, data_dir: &Path) -> CitizenConfig {
    let mut config = trusting_config(portal, data_dir);
    config.trust_anchors = vec![portal.sandbox.trust_anchor_config()];
    config
}

/// A development-setup configuration (no pins) for tests whose portal is not a real server.
pub fn unpinned_config(data_dir: &Path, base_url: impl Into<String>) -> CitizenConfig {
    let mut config = CitizenConfig::new(data_dir, base_url);
    config.allow_unpinned = true;
    config
}

pub fn software_platform(data_dir: &Path) -> Platform {
    Platform::new(Arc::new(SoftwareSealer::in_dir(data_dir)))
}

pub async fn open(config: CitizenConfig) -> Result<Citizen, citizen_core::Error> {
    let platform = software_platform(&config.data_dir);
    Citizen::open(config, platform).await
}

/// Records every event it receives.
#[derive(Default)]
pub struct Recorder(Mutex<Vec<Event>>);

impl Recorder {
    pub fn events(&self) -> Vec<Event> {
        self.0.lock().unwrap().clone()
    }
}

impl EventListener for Recorder {
    fn on_event(&self, event: Event) {
        self.0.lock().unwrap().push(event);
    }
}

/// The names of files directly in `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    citizen_sandbox::demo::files_containing(dir, needle.as_bytes())
        .unwrap()
        .into_iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

// --- wallets ---------------------------------------------------------------------------------

/// The PIN the wallet tests choose.
pub const PIN: &str = "802417";

pub fn wallet_config(portal: &Portal, dir: &std::path::Path) -> CitizenConfig {
    let mut config = trusting_config(portal, dir);
    config.trust_anchors = vec![TrustAnchor {
        kid: portal.sandbox.trust_anchor_kid.clone(),
        jwk: portal.sandbox.trust_anchor.clone(),
    }];
    config
}

pub async fn open_wallet(portal: &Portal, dir: &std::path::Path) -> Citizen {
    let config = wallet_config(portal, dir);
    let platform = software_platform(dir).with_software_key_store();
    let citizen = Citizen::open(config, platform).await.unwrap();
    citizen.refresh_trust_list().await.unwrap();
    citizen
}

/// Enrols a citizen with `id_number` and activates a wallet for them.
pub async fn activated(portal: &Portal, dir: &std::path::Path, id_number: &str) -> Citizen {
    let enrollment = portal
        .sandbox
        .enroll(&EnrollmentRequest::sample(id_number))
        .unwrap();
    let citizen = open_wallet(portal, dir).await;
    citizen
        .wallet()
        .activate(ActivationRequest {
            id_number: id_number.into(),
            activation_code: enrollment.activation_code.to_lowercase(),
            pin: PIN.into(),
            attestation: Some(b"opaque attestation".to_vec()),
        })
        .await
        .unwrap();
    citizen
}
