//! The wallet's device key as a JWS signer.
//!
//! Owns: [`DeviceKey`], which names a key in the platform [`KeyStore`] and signs through it, and
//! making a new one under a fresh alias. Does not own the key material (the platform does; it never
//! leaves secure hardware on a phone) nor the policy of when to sign (the wallet's flows ask for the
//! PIN first).
//!
//! Platform calls may block (a biometric prompt, a busy keystore daemon), so every method here is
//! blocking: callers run it through `blocking::run`, never on an async worker or the store thread.

use std::sync::Arc;

use crate::jose::{Algorithm, EcPublicJwk, JwsSigner, SignerError};
use crate::platform::{DevicePublicKey, KeyPolicy, KeyStore, PlatformError};

/// Aliases of wallet device keys start with this, so they can be told apart from other keys an app
/// keeps in the same key store.
pub const ALIAS_PREFIX: &str = "citizen.wallet.device.";

/// A device key: an alias in the platform key store and its checked public key.
#[derive(Clone)]
pub struct DeviceKey {
    keys: Arc<dyn KeyStore>,
    alias: String,
    public: EcPublicJwk,
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKey")
            .field("alias", &self.alias)
            .field("public", &self.public)
            .finish()
    }
}

impl DeviceKey {
    /// Makes a new key under a new random alias. The wallet signs with the PIN as its guard, so
    /// the platform is not asked to prompt for biometrics on every use.
    pub fn generate(keys: Arc<dyn KeyStore>) -> Result<Self, PlatformError> {
        let alias = format!("{ALIAS_PREFIX}{}", random_hex()?);
        let sec1 = keys.generate_key(&alias, KeyPolicy::default())?;
        let public = DevicePublicKey::from_sec1(&sec1)?.jwk().clone();
        Ok(Self {
            keys,
            alias,
            public,
        })
    }

    /// The key stored under `alias`; `KeyUnavailable` when the platform no longer has it (a
    /// restored backup on a new phone, a key invalidated by removing the screen lock).
    pub fn open(keys: Arc<dyn KeyStore>, alias: &str) -> Result<Self, PlatformError> {
        let sec1 = keys
            .public_key(alias)?
            .ok_or(PlatformError::KeyUnavailable)?;
        let public = DevicePublicKey::from_sec1(&sec1)?.jwk().clone();
        Ok(Self {
            keys,
            alias: alias.to_string(),
            public,
        })
    }

    pub fn alias(&self) -> &str {
        &self.alias
    }

    pub fn public_key(&self) -> &EcPublicJwk {
        &self.public
    }

    pub fn is_hardware_backed(&self) -> Result<bool, PlatformError> {
        self.keys.is_hardware_backed(&self.alias)
    }

    /// Deletes the key from the platform (a missing key is not an error).
    pub fn delete(&self) -> Result<(), PlatformError> {
        self.keys.delete_key(&self.alias)
    }
}

impl JwsSigner for DeviceKey {
    fn algorithm(&self) -> Algorithm {
        Algorithm::Es256
    }

    fn public_jwk(&self) -> Result<EcPublicJwk, SignerError> {
        Ok(self.public.clone())
    }

    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, SignerError> {
        self.keys
            .sign(&self.alias, signing_input)
            .map_err(|error| match error {
                PlatformError::KeyUnavailable => SignerError::KeyUnavailable,
                PlatformError::AuthenticationRequired => SignerError::AuthenticationRequired,
                _ => SignerError::Failed,
            })
    }
}

pub(crate) fn random_hex() -> Result<String, PlatformError> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| PlatformError::Failure("the system could not provide randomness".into()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
