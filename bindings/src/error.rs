//! The errors that cross the FFI: one [`CitizenError`] for apps, one [`PlatformError`] for the
//! shells' platform services.
//!
//! Owns: the mapping from the core's detailed per-module errors to the kinds an app can act on,
//! and each kind's stable machine-readable code. Each kind's `detail` is for developers' logs, in
//! English, and carries no personal data (it comes from the core's error texts, which carry none).
//! The field is not called `message`: in Kotlin that would clash with `Throwable.message`
//! (uniffi-rs #1434).

use citizen_core::{ConfigError, NetError, StoreError};

/// What went wrong, by what the app should do about it.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum CitizenError {
    /// Offline, unreachable or timed out. Retry later; queued work is kept.
    #[error("network: {detail}")]
    Network { detail: String },
    /// The portal's certificate did not match the pinned keys. Do not retry on this network.
    #[error("pin mismatch: {detail}")]
    PinMismatch { detail: String },
    /// The TLS handshake failed or the certificate is not trusted.
    #[error("tls: {detail}")]
    Tls { detail: String },
    /// The portal answered with an error status.
    #[error("server ({status}): {detail}")]
    Server { status: u16, detail: String },
    /// An argument or setting is not acceptable. `field` names it, `code` says why.
    #[error("invalid input {field} ({code}): {detail}")]
    InvalidInput {
        field: String,
        code: String,
        detail: String,
    },
    #[error("not found: {detail}")]
    NotFound { detail: String },
    /// Too many failed attempts; wait or use the recovery path.
    #[error("locked: {detail}")]
    Locked { detail: String },
    /// The platform wants the user to authenticate (biometrics / device credential) first.
    #[error("authentication required: {detail}")]
    AuthenticationRequired { detail: String },
    /// The store cannot be decrypted with the key available (the sealing key was invalidated, the
    /// key file is missing or damaged). Nothing was changed; the app may offer `wipe_data_dir`.
    #[error("wrong key: {detail}")]
    WrongKey { detail: String },
    /// The store or the file system failed.
    #[error("storage: {detail}")]
    Storage { detail: String },
    /// A cryptographic or platform key operation failed.
    #[error("crypto: {detail}")]
    Crypto { detail: String },
    /// The portal or the stored data needs a newer SDK.
    #[error("unsupported: {detail}")]
    Unsupported { detail: String },
    #[error("cancelled: {detail}")]
    Cancelled { detail: String },
    /// A bug in the SDK. Report it.
    #[error("internal: {detail}")]
    Internal { detail: String },
}

#[uniffi::export]
impl CitizenError {
    /// A stable, machine-readable code for this kind of error (e.g. `pin_mismatch`). Codes are
    /// never renamed; new ones may be added.
    pub fn code(&self) -> String {
        match self {
            CitizenError::Network { .. } => "network",
            CitizenError::PinMismatch { .. } => "pin_mismatch",
            CitizenError::Tls { .. } => "tls",
            CitizenError::Server { .. } => "server",
            CitizenError::InvalidInput { .. } => "invalid_input",
            CitizenError::NotFound { .. } => "not_found",
            CitizenError::Locked { .. } => "locked",
            CitizenError::AuthenticationRequired { .. } => "authentication_required",
            CitizenError::WrongKey { .. } => "wrong_key",
            CitizenError::Storage { .. } => "storage",
            CitizenError::Crypto { .. } => "crypto",
            CitizenError::Unsupported { .. } => "unsupported",
            CitizenError::Cancelled { .. } => "cancelled",
            CitizenError::Internal { .. } => "internal",
        }
        .to_string()
    }
}

impl From<citizen_core::Error> for CitizenError {
    fn from(error: citizen_core::Error) -> Self {
        let detail = error.to_string();
        match error {
            citizen_core::Error::Config(ConfigError::HttpClientSetup) => {
                CitizenError::Internal { detail }
            }
            citizen_core::Error::Config(config) => {
                let (field, code) = config_field_and_code(&config);
                CitizenError::InvalidInput {
                    field,
                    code: code.into(),
                    detail,
                }
            }
            citizen_core::Error::Store(store) => from_store(store, detail),
            citizen_core::Error::Net(net) => from_net(net, detail),
            citizen_core::Error::UnsupportedPortalVersion { .. } => {
                CitizenError::Unsupported { detail }
            }
            _ => CitizenError::Internal { detail },
        }
    }
}

fn config_field_and_code(error: &ConfigError) -> (String, &'static str) {
    match error {
        ConfigError::InvalidPortalUrl => ("portal_base_url".into(), "invalid_url"),
        ConfigError::InsecurePortalUrl => ("portal_base_url".into(), "not_https"),
        ConfigError::InvalidRootCertificate { index } => {
            (format!("trusted_roots_pem[{index}]"), "invalid_certificate")
        }
        ConfigError::InvalidPin { index } => (format!("portal_spki_pins[{index}]"), "invalid_pin"),
        ConfigError::InvalidTimeout => ("request_timeout_ms".into(), "out_of_range"),
        _ => ("config".into(), "invalid"),
    }
}

fn from_store(error: StoreError, detail: String) -> CitizenError {
    use citizen_core::PlatformError as P;
    match error {
        StoreError::KeyRejected
        | StoreError::KeyMissing
        | StoreError::KeyFileCorrupt
        | StoreError::Unseal(P::KeyUnavailable) => CitizenError::WrongKey { detail },
        StoreError::Unseal(P::AuthenticationRequired)
        | StoreError::Seal(P::AuthenticationRequired) => {
            CitizenError::AuthenticationRequired { detail }
        }
        StoreError::Unseal(_)
        | StoreError::Seal(_)
        | StoreError::DeleteSealingKey(_)
        | StoreError::Randomness => CitizenError::Crypto { detail },
        StoreError::SchemaTooNew { .. } => CitizenError::Unsupported { detail },
        _ => CitizenError::Storage { detail },
    }
}

fn from_net(error: NetError, detail: String) -> CitizenError {
    match error {
        NetError::PinMismatch => CitizenError::PinMismatch { detail },
        NetError::UntrustedCertificate | NetError::Tls => CitizenError::Tls { detail },
        NetError::Timeout | NetError::Unreachable => CitizenError::Network { detail },
        NetError::Status { status: 404 } => CitizenError::NotFound { detail },
        NetError::Status { status } => CitizenError::Server { status, detail },
        _ => CitizenError::Server { status: 0, detail },
    }
}

/// What a shell's platform service reports when it fails.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum PlatformError {
    /// The key is gone or permanently invalidated; what it sealed cannot come back.
    #[error("key unavailable")]
    KeyUnavailable,
    /// The user must authenticate before the key can be used.
    #[error("authentication required")]
    AuthenticationRequired,
    /// Anything else. `detail` must not contain personal data.
    #[error("platform failure: {detail}")]
    Failure { detail: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for PlatformError {
    fn from(_: uniffi::UnexpectedUniFFICallbackError) -> Self {
        // The reason is the foreign exception's text and stack trace, which may hold anything;
        // it must not travel on into error messages and logs.
        PlatformError::Failure {
            detail: "the platform service threw an unexpected exception".into(),
        }
    }
}

impl From<PlatformError> for citizen_core::PlatformError {
    fn from(error: PlatformError) -> Self {
        match error {
            PlatformError::KeyUnavailable => citizen_core::PlatformError::KeyUnavailable,
            PlatformError::AuthenticationRequired => {
                citizen_core::PlatformError::AuthenticationRequired
            }
            PlatformError::Failure { detail } => citizen_core::PlatformError::Failure(detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_map_to_actionable_kinds_with_stable_codes() {
        let cases: Vec<(citizen_core::Error, &str)> = vec![
            (NetError::PinMismatch.into(), "pin_mismatch"),
            (NetError::Unreachable.into(), "network"),
            (NetError::Status { status: 503 }.into(), "server"),
            (StoreError::KeyRejected.into(), "wrong_key"),
            (
                StoreError::Unseal(citizen_core::PlatformError::AuthenticationRequired).into(),
                "authentication_required",
            ),
            (StoreError::Corrupt.into(), "storage"),
            (ConfigError::InsecurePortalUrl.into(), "invalid_input"),
        ];
        for (core, code) in cases {
            assert_eq!(CitizenError::from(core).code(), code);
        }
        match CitizenError::from(citizen_core::Error::from(ConfigError::InvalidPin {
            index: 2,
        })) {
            CitizenError::InvalidInput { field, code, .. } => {
                assert_eq!(field, "portal_spki_pins[2]");
                assert_eq!(code, "invalid_pin");
            }
            other => panic!("{other:?}"),
        }
    }
}
