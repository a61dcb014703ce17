//! `citizen-ffi`: the uniffi surface of the Citizen SDK, for the Kotlin and Swift shells.
//!
//! Owns: FFI-shaped mirrors of the core's types, the foreign traits the shells implement
//! (`SecretSealer`, `LogSink`, `EventListener`), the one [`CitizenError`] apps act on, and the
//! tokio runtime async calls run on. Does not own behaviour: every function here converts its
//! arguments, calls `citizen-core`, and converts the answer back. Keep it that thin.

mod error;
mod platform;
mod runtime;
mod types;

use std::sync::{Arc, Mutex};

pub use error::{CitizenError, PlatformError};
pub use platform::{EventListener, LogSink, PlatformServices, SecretSealer};
pub use types::{CitizenConfig, Event, LogLevel, LogRecord, PortalContact, Status, WalletState};

uniffi::setup_scaffolding!();

/// The SDK's version, for support reports.
#[uniffi::export]
pub fn sdk_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Sends the SDK's log lines at `level` and above to `sink`. Call once at app start; calling
/// again replaces the sink and level.
#[uniffi::export]
pub fn init_logging(level: LogLevel, sink: Arc<dyn LogSink>) {
    citizen_core::init_logging(level.into(), Arc::new(platform::ForeignLogSink(sink)));
}

/// Deletes the store in `data_dir` and the platform's sealing key, without opening it. For the
/// recovery path when `Citizen.open` fails with `WrongKey` (the sealing key was invalidated).
#[uniffi::export]
pub fn wipe_data_dir(data_dir: String, platform: PlatformServices) -> Result<(), CitizenError> {
    let sealer = platform::ForeignSealer(platform.sealer);
    citizen_core::Store::wipe_files(std::path::Path::new(&data_dir), &sealer)
        .map_err(|e| citizen_core::Error::from(e).into())
}

/// The SDK for one citizen on one device. Open it once and keep it for the app's lifetime.
#[derive(uniffi::Object)]
pub struct Citizen {
    inner: Arc<citizen_core::Citizen>,
}

#[uniffi::export]
impl Citizen {
    /// Opens (or creates) the encrypted store in `config.data_dir`. Fast enough for the main
    /// thread on a fresh store; after an app update it may run migrations.
    #[uniffi::constructor]
    pub fn open(
        config: CitizenConfig,
        platform: PlatformServices,
    ) -> Result<Arc<Self>, CitizenError> {
        let platform = citizen_core::Platform {
            sealer: Arc::new(platform::ForeignSealer(platform.sealer)),
        };
        let inner = citizen_core::Citizen::open(config.try_into()?, platform)?;
        Ok(Arc::new(Self {
            inner: Arc::new(inner),
        }))
    }

    pub fn status(&self) -> Result<Status, CitizenError> {
        Ok(self.inner.status()?.into())
    }

    /// Contacts the portal over pinned TLS and records the contact.
    pub async fn ping_portal(&self) -> Result<PortalContact, CitizenError> {
        let inner = self.inner.clone();
        runtime::run(async move { inner.ping_portal().await })
            .await?
            .map(Into::into)
            .map_err(Into::into)
    }

    pub fn last_portal_contact(&self) -> Result<Option<PortalContact>, CitizenError> {
        Ok(self.inner.last_portal_contact()?.map(Into::into))
    }

    /// Delivers events to `listener` until the returned handle is cancelled or destroyed.
    pub fn subscribe(&self, listener: Arc<dyn EventListener>) -> Arc<SubscriptionHandle> {
        let subscription = self
            .inner
            .subscribe(Arc::new(platform::ForeignEventListener(listener)));
        Arc::new(SubscriptionHandle {
            subscription: Mutex::new(Some(subscription)),
        })
    }

    /// Re-encrypts the store under a new random key. Takes time proportional to the store's size.
    pub async fn rotate_store_key(&self) -> Result<(), CitizenError> {
        let inner = self.inner.clone();
        runtime::run_blocking(move || inner.rotate_store_key()).await??;
        Ok(())
    }

    /// Deletes everything stored and the sealing key. This object is unusable afterwards.
    pub async fn wipe(&self) -> Result<(), CitizenError> {
        let inner = self.inner.clone();
        runtime::run_blocking(move || inner.wipe()).await??;
        Ok(())
    }
}

/// Keeps an event listener registered. `cancel()` or destroying it stops delivery.
#[derive(uniffi::Object)]
pub struct SubscriptionHandle {
    subscription: Mutex<Option<citizen_core::Subscription>>,
}

#[uniffi::export]
impl SubscriptionHandle {
    pub fn cancel(&self) {
        let taken = self
            .subscription
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        drop(taken);
    }
}
