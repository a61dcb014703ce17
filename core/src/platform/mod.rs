//! Services the phone provides to the core, as traits the Kotlin and Swift shells implement.
//!
//! Owns: [`PlatformError`], the [`Platform`] bundle handed to [`crate::Citizen::open`], and the
//! file helpers the software services share. Each service has its own module: `sealer` (the
//! [`SecretSealer`] that guards the database key) and `key_store` (the [`KeyStore`] that holds the
//! device keys). Does not own what the services are used for: the store and the wallet decide.

mod key_store;
mod sealer;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

pub use key_store::{
    DevicePublicKey, KeyPolicy, KeyStore, StoreKeyStore, normalize_p256_signature,
};
pub use sealer::{SecretSealer, SoftwareSealer};

/// What a platform service reports when it fails. Messages come from the platform and carry no
/// personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlatformError {
    /// The sealing key is gone or permanently invalidated (for example the device lock screen was
    /// removed, or the app was restored onto another device). What it sealed cannot come back.
    #[error("the platform key is unavailable or was invalidated")]
    KeyUnavailable,
    /// The platform wants the user to authenticate before it will use the key.
    #[error("the platform requires user authentication")]
    AuthenticationRequired,
    /// The platform could not use the key just now (a keystore daemon restarting, the device still
    /// locked after boot, ...). Nothing is lost: try again later. Never a reason to wipe.
    #[error("the platform key is temporarily unavailable")]
    TemporarilyUnavailable,
    /// Anything else the platform reported.
    #[error("platform failure: {0}")]
    Failure(String),
}

/// The platform services the core needs.
///
/// Compatibility rule: this bundle grows with each capability (device keys for the wallet, ...).
/// Every service added after the first release is optional here (and has a default in the
/// bindings' `PlatformServices`), so adding one never breaks an existing app; a capability whose
/// service is missing reports that when it is used. Build it with [`Platform::new`] and the
/// `with_*` methods, never with a struct literal (it is `#[non_exhaustive]`).
#[derive(Clone)]
#[non_exhaustive]
pub struct Platform {
    pub sealer: Arc<dyn SecretSealer>,
    /// Device keys (the wallet's). Optional: an app without the wallet capability need not give
    /// one; the wallet reports its absence when it is used.
    pub key_store: Option<Arc<dyn KeyStore>>,
    /// Without a `key_store`, keep device keys in software, in the encrypted store
    /// ([`StoreKeyStore`]): desktop tools, tests and the demo. An explicit choice, so a phone build
    /// that forgot its key store fails loudly instead of silently keeping keys in software.
    pub software_key_store: bool,
}

impl Platform {
    pub fn new(sealer: Arc<dyn SecretSealer>) -> Self {
        Self {
            sealer,
            key_store: None,
            software_key_store: false,
        }
    }

    pub fn with_key_store(mut self, key_store: Arc<dyn KeyStore>) -> Self {
        self.key_store = Some(key_store);
        self
    }

    /// Device keys in software, in the store (see [`Platform::software_key_store`]).
    pub fn with_software_key_store(mut self) -> Self {
        self.software_key_store = true;
        self
    }
}

/// Writes a file readable only by its owner, through a temporary file and a rename so a crash
/// never leaves half a file behind.
pub(crate) fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    sync_dir(path)
}

/// Makes a rename or delete in `path`'s directory durable.
pub(crate) fn sync_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}
