//! Sealing small secrets with a key held by the platform.
//!
//! Owns: the [`SecretSealer`] contract (wrap and unwrap small secrets with a key that never leaves
//! the platform's secure hardware) and [`SoftwareSealer`], a sealer for desktop tools and tests.
//! Does not own what is sealed or where it is kept: the store decides that.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

use super::{PlatformError, write_private_file};
use crate::secret::SecretBytes;

/// Seals and unseals small secrets (the database key) with a key held by the platform: an AES key
/// in the Android Keystore or one wrapped by the iOS Secure Enclave.
///
/// Contract: `unseal(seal(x)) == x`; sealing twice may give different bytes; after
/// `delete_key()` every earlier sealed value is unrecoverable and the next `seal` creates a new key.
pub trait SecretSealer: Send + Sync {
    fn seal(&self, plaintext: &SecretBytes) -> Result<Vec<u8>, PlatformError>;
    fn unseal(&self, sealed: &[u8]) -> Result<SecretBytes, PlatformError>;
    fn delete_key(&self) -> Result<(), PlatformError>;
    /// Whether the sealing key lives in secure hardware (a TEE, StrongBox, the Secure Enclave).
    /// Reported in `Status`; an app may refuse to hold credentials without it.
    fn is_hardware_backed(&self) -> bool;
}

/// A [`SecretSealer`] in software: AES-256-GCM with a key kept **in a plain file**.
///
/// **This is not hardware-backed and protects nothing against anyone who can read the file
/// system.** It exists so that desktop tools, the sandbox demo and tests can run the real store
/// code. Phones must use the Keystore / Secure Enclave sealers of the Kotlin and Swift shells.
pub struct SoftwareSealer {
    key_path: PathBuf,
    rng: SystemRandom,
}

const SOFTWARE_SEALER_VERSION: u8 = 1;
const SOFTWARE_SEALER_AAD: &[u8] = b"citizen-sdk software sealer v1";

impl SoftwareSealer {
    /// A sealer whose key lives at `key_path` (created on first `seal`, mode 0600 on Unix).
    pub fn new(key_path: impl Into<PathBuf>) -> Self {
        Self {
            key_path: key_path.into(),
            rng: SystemRandom::new(),
        }
    }

    /// The sealer the desktop tools use for a data directory: its key file sits beside the store.
    pub fn in_dir(dir: &Path) -> Self {
        Self::new(dir.join("software-sealer.key"))
    }

    fn load_key(&self) -> Result<Option<LessSafeKey>, PlatformError> {
        match fs::read(&self.key_path) {
            Ok(bytes) => {
                let bytes = SecretBytes::new(bytes);
                let unbound = UnboundKey::new(&AES_256_GCM, bytes.expose())
                    .map_err(|_| PlatformError::KeyUnavailable)?;
                Ok(Some(LessSafeKey::new(unbound)))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(PlatformError::Failure(format!(
                "reading the software sealer key: {}",
                e.kind()
            ))),
        }
    }

    fn create_key(&self) -> Result<LessSafeKey, PlatformError> {
        let mut bytes = vec![0u8; 32];
        self.rng
            .fill(&mut bytes)
            .map_err(|_| PlatformError::Failure("no system randomness".into()))?;
        let raw = SecretBytes::new(bytes);
        write_private_file(&self.key_path, raw.expose()).map_err(|e| {
            PlatformError::Failure(format!("writing the software sealer key: {}", e.kind()))
        })?;
        let unbound = UnboundKey::new(&AES_256_GCM, raw.expose())
            .map_err(|_| PlatformError::KeyUnavailable)?;
        Ok(LessSafeKey::new(unbound))
    }
}

impl SecretSealer for SoftwareSealer {
    fn seal(&self, plaintext: &SecretBytes) -> Result<Vec<u8>, PlatformError> {
        let key = match self.load_key()? {
            Some(key) => key,
            None => self.create_key()?,
        };
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| PlatformError::Failure("no system randomness".into()))?;
        let mut buffer = plaintext.expose().to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(SOFTWARE_SEALER_AAD),
            &mut buffer,
        )
        .map_err(|_| PlatformError::Failure("sealing failed".into()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + buffer.len());
        out.push(SOFTWARE_SEALER_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buffer);
        Ok(out)
    }

    fn unseal(&self, sealed: &[u8]) -> Result<SecretBytes, PlatformError> {
        let key = self.load_key()?.ok_or(PlatformError::KeyUnavailable)?;
        let (version, rest) = sealed
            .split_first()
            .ok_or_else(|| PlatformError::Failure("sealed value is empty".into()))?;
        if *version != SOFTWARE_SEALER_VERSION || rest.len() < NONCE_LEN {
            return Err(PlatformError::Failure(
                "sealed value has an unknown format".into(),
            ));
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| PlatformError::Failure("bad nonce".into()))?;
        let mut buffer = ciphertext.to_vec();
        let plain = key
            .open_in_place(nonce, Aad::from(SOFTWARE_SEALER_AAD), &mut buffer)
            // A tag mismatch means the sealed value was made under another key.
            .map_err(|_| PlatformError::KeyUnavailable)?;
        let secret = SecretBytes::new(plain.to_vec());
        zeroize::Zeroize::zeroize(&mut buffer);
        Ok(secret)
    }

    fn is_hardware_backed(&self) -> bool {
        false
    }

    fn delete_key(&self) -> Result<(), PlatformError> {
        match fs::remove_file(&self.key_path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(PlatformError::Failure(format!(
                "deleting the software sealer key: {}",
                e.kind()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_unseal_round_trips_and_delete_makes_it_unrecoverable() {
        let dir = tempfile::tempdir().unwrap();
        let sealer = SoftwareSealer::in_dir(dir.path());
        let secret = SecretBytes::new(vec![7u8; 32]);
        let sealed = sealer.seal(&secret).unwrap();
        assert_ne!(&sealed[1 + NONCE_LEN..1 + NONCE_LEN + 32], secret.expose());
        assert_eq!(sealer.unseal(&sealed).unwrap(), secret);

        sealer.delete_key().unwrap();
        assert_eq!(sealer.unseal(&sealed), Err(PlatformError::KeyUnavailable));
        // A new key is made on the next seal, and the old sealed value still does not open.
        let resealed = sealer.seal(&secret).unwrap();
        assert_eq!(sealer.unseal(&resealed).unwrap(), secret);
        assert_eq!(sealer.unseal(&sealed), Err(PlatformError::KeyUnavailable));
    }

    #[test]
    fn malformed_sealed_values_are_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let sealer = SoftwareSealer::in_dir(dir.path());
        sealer.seal(&SecretBytes::new(vec![1])).unwrap();
        assert!(matches!(sealer.unseal(&[]), Err(PlatformError::Failure(_))));
        assert!(matches!(
            sealer.unseal(&[9, 1, 2]),
            Err(PlatformError::Failure(_))
        ));
        let mut garbage = vec![SOFTWARE_SEALER_VERSION];
        garbage.extend_from_slice(&[0u8; 40]);
        assert_eq!(sealer.unseal(&garbage), Err(PlatformError::KeyUnavailable));
    }
}
