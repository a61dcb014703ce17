//! The foreign traits the Kotlin and Swift shells implement, and their adapters to the core's
//! traits.
//!
//! Owns: the FFI shape of platform services (bytes as `Vec<u8>`, errors as [`PlatformError`]).
//! Does not own what they do: see `citizen_core::platform` for the contracts.

use std::sync::Arc;

use citizen_core::secret::SecretBytes;

use crate::error::PlatformError;
use crate::types::{Event, LogRecord};

/// Seals small secrets with a key held by secure hardware. Android: an AES-GCM key in the Android
/// Keystore. iOS: a Secure Enclave P-256 key used through ECIES. The contract is in
/// `citizen_core::platform::SecretSealer`.
#[uniffi::export(foreign)]
pub trait SecretSealer: Send + Sync {
    fn seal(&self, plaintext: Vec<u8>) -> Result<Vec<u8>, PlatformError>;
    fn unseal(&self, sealed: Vec<u8>) -> Result<Vec<u8>, PlatformError>;
    fn delete_key(&self) -> Result<(), PlatformError>;
    /// Whether the sealing key lives in secure hardware (TEE / StrongBox / Secure Enclave).
    /// Report the truth: it is shown in `Status` and apps may refuse to hold credentials without.
    fn is_hardware_backed(&self) -> bool;
}

/// Receives the SDK's log lines (logcat, os_log, ...). Called from SDK threads.
#[uniffi::export(foreign)]
pub trait LogSink: Send + Sync {
    fn log(&self, record: LogRecord);
}

/// Receives SDK events. Called from SDK threads; hand work to the UI thread yourself.
#[uniffi::export(foreign)]
pub trait EventListener: Send + Sync {
    fn on_event(&self, event: Event);
}

/// The platform services `Citizen.open` needs.
///
/// Compatibility rule: fields are only ever added, and every field added after the first release
/// is optional with a default (`#[uniffi(default = None)]`), so an app built against an older SDK
/// keeps compiling (Kotlin and Swift get default arguments). A capability whose service is
/// missing fails with a clear error when it is used, not at open.
#[derive(uniffi::Record)]
pub struct PlatformServices {
    pub sealer: Arc<dyn SecretSealer>,
}

pub(crate) struct ForeignSealer(pub Arc<dyn SecretSealer>);

impl citizen_core::SecretSealer for ForeignSealer {
    fn seal(&self, plaintext: &SecretBytes) -> Result<Vec<u8>, citizen_core::PlatformError> {
        Ok(self.0.seal(plaintext.expose().to_vec())?)
    }

    fn unseal(&self, sealed: &[u8]) -> Result<SecretBytes, citizen_core::PlatformError> {
        Ok(SecretBytes::new(self.0.unseal(sealed.to_vec())?))
    }

    fn delete_key(&self) -> Result<(), citizen_core::PlatformError> {
        Ok(self.0.delete_key()?)
    }

    fn is_hardware_backed(&self) -> bool {
        // A foreign exception here becomes a panic; "not known to be hardware-backed" is the
        // only safe answer then.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.0.is_hardware_backed()))
            .unwrap_or(false)
    }
}

pub(crate) struct ForeignLogSink(pub Arc<dyn LogSink>);

impl citizen_core::LogSink for ForeignLogSink {
    fn log(&self, record: citizen_core::LogRecord) {
        self.0.log(record.into());
    }
}

pub(crate) struct ForeignEventListener(pub Arc<dyn EventListener>);

impl citizen_core::EventListener for ForeignEventListener {
    fn on_event(&self, event: citizen_core::Event) {
        if let Some(event) = Event::from_core(event) {
            self.0.on_event(event);
        }
    }
}
