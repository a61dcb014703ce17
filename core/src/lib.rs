//! `citizen-core`: the shared Rust core of the Citizen SDK.
//!
//! It owns every capability of the SDK (encrypted storage, networking to agency portals, events,
//! logging) as plain Rust with no FFI concerns. The `citizen-ffi` crate wraps it for Kotlin and
//! Swift; the `citizen-sandbox` demo and the end-to-end tests use it directly.
//!
//! Where to start reading: [`Citizen`] is the one object an app holds. It is opened with a
//! [`CitizenConfig`] and the [`Platform`] services the phone provides (the [`SecretSealer`] that
//! guards the database key, the [`KeyStore`] that holds the wallet's device keys). From it,
//! [`Citizen::wallet`] is the citizen's identity and [`Citizen::verifier`] an officer's checks.

mod blocking;
pub mod checkin;
pub mod citizen;
pub mod config;
pub mod credential_status;
pub mod dcc;
pub mod dcql;
pub mod dossier;
pub mod events;
pub mod id1;
pub mod jose;
pub mod logging;
pub mod net;
pub mod openid4vci;
pub mod openid4vp;
pub mod outbox;
pub mod platform;
pub mod portal;
pub mod qr;
pub mod scan;
pub mod sdjwt;
pub mod secret;
pub mod signed_qr;
pub mod status_list;
pub mod store;
pub mod trust;
pub mod trust_list;
pub mod verifier;
pub mod vietqr;
pub mod wallet;
mod x509;

pub use checkin::{CheckInError, CheckIns};
pub use citizen::{Citizen, Error, PortalContact, Status, SyncReport};
pub use config::{CitizenConfig, ConfigError, OriginPins, certificate_spki_pin, spki_pin};
pub use dossier::{DossierError, Dossiers};
pub use events::{Event, EventListener, Subscription};
pub use logging::{LogLevel, LogRecord, LogSink, init_logging};
pub use net::NetError;
pub use platform::{
    DevicePublicKey, KeyPolicy, KeyStore, Platform, PlatformError, SecretSealer, SoftwareSealer,
    StoreKeyStore,
};
pub use store::{Store, StoreError};
pub use trust::{TrustError, TrustListState};
pub use trust_list::{TrustAnchor, TrustList, TrustListError};
pub use wallet::{Wallet, WalletError, WalletState};

/// Seconds since the Unix epoch, the one clock the core stores.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
