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
    /// Seals `plaintext` with the hardware key (creating it on first use).
    fn seal(&self, plaintext: Vec<u8>) -> Result<Vec<u8>, PlatformError>;
    /// Unseals what `seal` returned.
    fn unseal(&self, sealed: Vec<u8>) -> Result<Vec<u8>, PlatformError>;
    /// Deletes the sealing key: every earlier sealed value becomes unrecoverable.
    fn delete_key(&self) -> Result<(), PlatformError>;
    /// Whether the sealing key lives in secure hardware (TEE / StrongBox / Secure Enclave).
    /// Report the truth: it is shown in `Status` and apps may refuse to hold credentials without.
    fn is_hardware_backed(&self) -> bool;
}

/// How a device key may be used; the mirror of `citizen_core::KeyPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct KeyPolicy {
    /// Every use of the key needs the user's biometric or device credential (the platform
    /// prompts).
    pub user_authentication_required: bool,
}

impl From<citizen_core::KeyPolicy> for KeyPolicy {
    fn from(policy: citizen_core::KeyPolicy) -> Self {
        Self {
            user_authentication_required: policy.user_authentication_required,
        }
    }
}

/// P-256 signing keys held by secure hardware, each under an alias: the wallet's device keys.
/// Android: the Android Keystore (StrongBox where the device has it, else the TEE). iOS: the
/// Secure Enclave. The contract is in `citizen_core::platform::KeyStore`:
///
/// - `generate_key` makes a new key under `alias` and fails if one exists; it returns the public
///   key as a SEC1 uncompressed point (65 bytes, `0x04 || x || y`).
/// - `public_key` returns that point, or null/nil when there is no key under `alias`.
/// - `sign` computes ECDSA P-256 with SHA-256 over `message` (the platform hashes) and returns the
///   signature as DER or raw `r || s`; the SDK normalises.
/// - `delete_key` of a missing alias succeeds.
/// - `is_hardware_backed` says whether the key lives in secure hardware. Report the truth.
///
/// Errors: `KeyUnavailable` for a missing or invalidated key, `AuthenticationRequired` when the
/// user must authenticate first, `TemporarilyUnavailable` for a passing condition, otherwise
/// `Failure` with a fixed ASCII text (no platform messages). Calls may block on a prompt; the SDK
/// makes them on its own worker threads, never on the app's.
#[uniffi::export(foreign)]
pub trait KeyStore: Send + Sync {
    /// Makes a new P-256 key under `alias`; returns its SEC1 uncompressed public key.
    fn generate_key(&self, alias: String, policy: KeyPolicy) -> Result<Vec<u8>, PlatformError>;
    /// The SEC1 public key of `alias`, or null/nil when there is none.
    fn public_key(&self, alias: String) -> Result<Option<Vec<u8>>, PlatformError>;
    /// Signs `message` with ECDSA P-256 / SHA-256 (DER or raw `r || s`).
    fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, PlatformError>;
    /// Deletes the key of `alias`; succeeds when there is none.
    fn delete_key(&self, alias: String) -> Result<(), PlatformError>;
    /// Whether the key of `alias` lives in secure hardware.
    fn is_hardware_backed(&self, alias: String) -> Result<bool, PlatformError>;
}

/// Receives the SDK's log lines (logcat, os_log, ...). Called from SDK threads.
#[uniffi::export(foreign)]
pub trait LogSink: Send + Sync {
    /// Receives one log line.
    fn log(&self, record: LogRecord);
}

/// Receives SDK events. Called from SDK threads; hand work to the UI thread yourself.
#[uniffi::export(foreign)]
pub trait EventListener: Send + Sync {
    /// Receives one event.
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
    /// Seals the store's key with secure hardware.
    pub sealer: Arc<dyn SecretSealer>,
    /// The wallet's device keys. Optional (added after the first release): an app without the
    /// wallet need not give one, and the wallet reports its absence when it is used.
    #[uniffi(default = None)]
    pub key_store: Option<Arc<dyn KeyStore>>,
    /// Without a `key_store`: keep device keys in software, in the encrypted store. For desktop
    /// tools and tests only; never on a phone (see `citizen_core::Platform::software_key_store`).
    #[uniffi(default = false)]
    pub use_software_key_store: bool,
}

impl PlatformServices {
    /// The core's platform bundle, with the shells' services behind the adapters below.
    pub(crate) fn into_core(self) -> citizen_core::Platform {
        let platform = citizen_core::Platform::new(Arc::new(ForeignSealer(self.sealer)));
        match (self.key_store, self.use_software_key_store) {
            (Some(key_store), _) => platform.with_key_store(Arc::new(ForeignKeyStore(key_store))),
            (None, true) => platform.with_software_key_store(),
            (None, false) => platform,
        }
    }
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

pub(crate) struct ForeignKeyStore(pub Arc<dyn KeyStore>);

impl citizen_core::KeyStore for ForeignKeyStore {
    fn generate_key(
        &self,
        alias: &str,
        policy: citizen_core::KeyPolicy,
    ) -> Result<Vec<u8>, citizen_core::PlatformError> {
        contained(|| self.0.generate_key(alias.to_string(), policy.into()))
    }

    fn public_key(&self, alias: &str) -> Result<Option<Vec<u8>>, citizen_core::PlatformError> {
        contained(|| self.0.public_key(alias.to_string()))
    }

    fn sign(&self, alias: &str, message: &[u8]) -> Result<Vec<u8>, citizen_core::PlatformError> {
        contained(|| self.0.sign(alias.to_string(), message.to_vec()))
    }

    fn delete_key(&self, alias: &str) -> Result<(), citizen_core::PlatformError> {
        contained(|| self.0.delete_key(alias.to_string()))
    }

    fn is_hardware_backed(&self, alias: &str) -> Result<bool, citizen_core::PlatformError> {
        contained(|| self.0.is_hardware_backed(alias.to_string()))
    }
}

/// Runs a foreign key-store call. A foreign exception that is not a `PlatformError` already
/// arrives as `Failure` (see `From<UnexpectedUniFFICallbackError>`); a panic on the way (a foreign
/// answer uniffi could not read) is contained here and becomes a `Failure` with a fixed text, so
/// it reaches the wallet as a typed error, never as an unwinding thread.
fn contained<T>(
    call: impl FnOnce() -> Result<T, PlatformError>,
) -> Result<T, citizen_core::PlatformError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)) {
        Ok(answer) => Ok(answer?),
        Err(_) => Err(citizen_core::PlatformError::Failure(
            "the platform key store failed unexpectedly".into(),
        )),
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use citizen_core::KeyStore as _;

    use super::*;

    /// A shell's key store as the bindings see it, delegating to the core's software key store
    /// (keys in an encrypted store), so bytes make the whole trip: core → adapter → "foreign"
    /// implementation → core.
    struct ShellOverStoreKeys {
        inner: citizen_core::StoreKeyStore,
        policies: Mutex<Vec<KeyPolicy>>,
    }

    fn err(e: citizen_core::PlatformError) -> PlatformError {
        match e {
            citizen_core::PlatformError::KeyUnavailable => PlatformError::KeyUnavailable,
            other => PlatformError::Failure {
                detail: format!("{other}"),
            },
        }
    }

    impl KeyStore for ShellOverStoreKeys {
        fn generate_key(&self, alias: String, policy: KeyPolicy) -> Result<Vec<u8>, PlatformError> {
            self.policies.lock().unwrap().push(policy);
            let policy = citizen_core::KeyPolicy {
                user_authentication_required: policy.user_authentication_required,
            };
            self.inner.generate_key(&alias, policy).map_err(err)
        }

        fn public_key(&self, alias: String) -> Result<Option<Vec<u8>>, PlatformError> {
            self.inner.public_key(&alias).map_err(err)
        }

        fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, PlatformError> {
            self.inner.sign(&alias, &message).map_err(err)
        }

        fn delete_key(&self, alias: String) -> Result<(), PlatformError> {
            self.inner.delete_key(&alias).map_err(err)
        }

        fn is_hardware_backed(&self, alias: String) -> Result<bool, PlatformError> {
            self.inner.is_hardware_backed(&alias).map_err(err)
        }
    }

    /// A shell whose every call fails in a given way.
    enum Misbehaving {
        Fails(fn() -> PlatformError),
        Panics,
    }

    impl Misbehaving {
        fn answer<T>(&self) -> Result<T, PlatformError> {
            match self {
                Misbehaving::Fails(error) => Err(error()),
                Misbehaving::Panics => panic!("the foreign side answered something unreadable"),
            }
        }
    }

    impl KeyStore for Misbehaving {
        fn generate_key(&self, _: String, _: KeyPolicy) -> Result<Vec<u8>, PlatformError> {
            self.answer()
        }
        fn public_key(&self, _: String) -> Result<Option<Vec<u8>>, PlatformError> {
            self.answer()
        }
        fn sign(&self, _: String, _: Vec<u8>) -> Result<Vec<u8>, PlatformError> {
            self.answer()
        }
        fn delete_key(&self, _: String) -> Result<(), PlatformError> {
            self.answer()
        }
        fn is_hardware_backed(&self, _: String) -> Result<bool, PlatformError> {
            self.answer()
        }
    }

    struct NoSealer;

    impl SecretSealer for NoSealer {
        fn seal(&self, _: Vec<u8>) -> Result<Vec<u8>, PlatformError> {
            Err(PlatformError::KeyUnavailable)
        }
        fn unseal(&self, _: Vec<u8>) -> Result<Vec<u8>, PlatformError> {
            Err(PlatformError::KeyUnavailable)
        }
        fn delete_key(&self) -> Result<(), PlatformError> {
            Ok(())
        }
        fn is_hardware_backed(&self) -> bool {
            false
        }
    }

    #[test]
    fn a_shell_key_store_reaches_the_core_with_its_bytes_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let store = citizen_core::Store::open_blocking(
            dir.path(),
            Arc::new(citizen_core::SoftwareSealer::in_dir(dir.path())),
        )
        .unwrap();
        let shell = Arc::new(ShellOverStoreKeys {
            inner: citizen_core::StoreKeyStore::new(Arc::new(store)),
            policies: Mutex::new(Vec::new()),
        });
        let keys = ForeignKeyStore(shell.clone());
        let policy = citizen_core::KeyPolicy {
            user_authentication_required: true,
        };

        let public = keys.generate_key("wallet", policy).unwrap();
        assert_eq!(
            *shell.policies.lock().unwrap(),
            [KeyPolicy {
                user_authentication_required: true
            }]
        );
        let public = citizen_core::DevicePublicKey::from_sec1(&public).unwrap();
        assert_eq!(keys.public_key("wallet").unwrap(), Some(public.to_sec1()));
        assert_eq!(keys.public_key("other").unwrap(), None);

        let der = keys.sign("wallet", b"signing input").unwrap();
        let raw = citizen_core::platform::normalize_p256_signature(&der).unwrap();
        assert!(public.verifies(b"signing input", &raw));
        assert!(!keys.is_hardware_backed("wallet").unwrap());

        keys.delete_key("wallet").unwrap();
        keys.delete_key("wallet").unwrap();
        assert_eq!(
            keys.sign("wallet", b"x"),
            Err(citizen_core::PlatformError::KeyUnavailable)
        );
    }

    #[test]
    fn shell_errors_keep_their_kind_and_failure_texts_are_sanitised() {
        let kinds: [(fn() -> PlatformError, citizen_core::PlatformError); 3] = [
            (
                || PlatformError::AuthenticationRequired,
                citizen_core::PlatformError::AuthenticationRequired,
            ),
            (
                || PlatformError::TemporarilyUnavailable,
                citizen_core::PlatformError::TemporarilyUnavailable,
            ),
            (
                || PlatformError::KeyUnavailable,
                citizen_core::PlatformError::KeyUnavailable,
            ),
        ];
        for (shell, core) in kinds {
            let keys = ForeignKeyStore(Arc::new(Misbehaving::Fails(shell)));
            assert_eq!(keys.sign("k", b"m"), Err(core.clone()));
            assert_eq!(keys.is_hardware_backed("k"), Err(core));
        }

        let leaky = ForeignKeyStore(Arc::new(Misbehaving::Fails(|| PlatformError::Failure {
            detail: "key of citizen 001203004567".into(),
        })));
        match leaky.generate_key("k", citizen_core::KeyPolicy::default()) {
            Err(citizen_core::PlatformError::Failure(detail)) => {
                assert!(detail.contains("withheld"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_panic_in_a_shell_call_is_contained_as_a_failure() {
        let keys = ForeignKeyStore(Arc::new(Misbehaving::Panics));
        let is_failure = |r: Result<(), citizen_core::PlatformError>| {
            matches!(r, Err(citizen_core::PlatformError::Failure(_)))
        };
        assert!(is_failure(keys.is_hardware_backed("k").map(drop)));
        assert!(is_failure(keys.sign("k", b"m").map(drop)));
        assert!(is_failure(keys.public_key("k").map(drop)));
        assert!(is_failure(keys.delete_key("k")));
        assert!(is_failure(
            keys.generate_key("k", citizen_core::KeyPolicy::default())
                .map(drop)
        ));
    }

    #[test]
    fn the_key_store_is_optional_in_the_platform_bundle() {
        let without = PlatformServices {
            sealer: Arc::new(NoSealer),
            key_store: None,
            use_software_key_store: false,
        }
        .into_core();
        assert!(without.key_store.is_none());
        assert!(!without.software_key_store);

        let software = PlatformServices {
            sealer: Arc::new(NoSealer),
            key_store: None,
            use_software_key_store: true,
        }
        .into_core();
        assert!(software.key_store.is_none() && software.software_key_store);

        let with = PlatformServices {
            sealer: Arc::new(NoSealer),
            key_store: Some(Arc::new(Misbehaving::Fails(|| {
                PlatformError::KeyUnavailable
            }))),
            use_software_key_store: false,
        }
        .into_core();
        let keys = with.key_store.expect("the key store is passed on");
        assert_eq!(
            keys.delete_key("k"),
            Err(citizen_core::PlatformError::KeyUnavailable)
        );
    }
}
