//! Device keys: P-256 keys that never leave the phone's secure hardware.
//!
//! Owns: the [`KeyStore`] contract the shells implement (Android Keystore with StrongBox where the
//! device has it, iOS Secure Enclave), the checks the core applies to what a platform returns
//! ([`DevicePublicKey`] is a valid point on P-256; [`normalize_p256_signature`] turns the DER the
//! platforms produce into the raw `r‖s` JOSE needs), and [`StoreKeyStore`], a software key store
//! whose keys live in the encrypted store, for desktop tools, tests and the demo. Does not own what
//! the keys sign (the wallet does) nor JOSE encoding and signature checks (`jose`, which the
//! checks here delegate to).

use std::sync::Arc;

use rusqlite::{OptionalExtension, params};
use zeroize::Zeroizing;

use super::PlatformError;
use crate::jose::{EcPublicJwk, JwsSigner, SoftwareSigner};
use crate::store::{Store, StoreError};

/// How a device key may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyPolicy {
    /// Every use needs the user's biometric or device credential (the platform prompts).
    pub user_authentication_required: bool,
}

/// P-256 signing keys held by the platform, each under an alias.
///
/// Contract: `generate_key` makes a new key under `alias` (failing if one exists) and returns its
/// public key as a SEC1 uncompressed point (65 bytes, `0x04‖x‖y`); `sign` computes ECDSA P-256 with
/// SHA-256 over `message` (the platform hashes) and returns the signature as DER or raw `r‖s`;
/// `delete_key` of a missing alias succeeds. Errors use [`PlatformError`]: `KeyUnavailable` for a
/// missing or invalidated key, `AuthenticationRequired` when the user must authenticate first.
/// Calls may block (a biometric prompt): the core never makes them on an async worker or the
/// store thread.
pub trait KeyStore: Send + Sync {
    fn generate_key(&self, alias: &str, policy: KeyPolicy) -> Result<Vec<u8>, PlatformError>;
    /// The public key of `alias`, or `None` when there is no such key.
    fn public_key(&self, alias: &str) -> Result<Option<Vec<u8>>, PlatformError>;
    fn sign(&self, alias: &str, message: &[u8]) -> Result<Vec<u8>, PlatformError>;
    fn delete_key(&self, alias: &str) -> Result<(), PlatformError>;
    /// Whether the key of `alias` lives in secure hardware (TEE, StrongBox, Secure Enclave).
    fn is_hardware_backed(&self, alias: &str) -> Result<bool, PlatformError>;
}

/// A P-256 public key as a platform returns it (SEC1 uncompressed, 65 bytes), checked to be a
/// point on the curve. A thin view of [`EcPublicJwk`], which does the checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePublicKey(EcPublicJwk);

impl DevicePublicKey {
    /// Accepts only an uncompressed point (what every platform returns for P-256) on the curve.
    pub fn from_sec1(bytes: &[u8]) -> Result<Self, PlatformError> {
        EcPublicJwk::from_sec1(bytes)
            .map(Self)
            .map_err(|_| malformed("the public key is not an uncompressed point on the curve"))
    }

    pub fn to_sec1(&self) -> Vec<u8> {
        self.0.to_sec1().to_vec()
    }

    /// The key as a JWK, as credentials and proofs carry it.
    pub fn jwk(&self) -> &EcPublicJwk {
        &self.0
    }

    /// The affine coordinates, as a JWK carries them.
    pub fn coordinates(&self) -> ([u8; 32], [u8; 32]) {
        (*self.0.x(), *self.0.y())
    }

    /// Whether `signature` (raw `r‖s`) is this key's ECDSA P-256/SHA-256 signature of `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        crate::jose::verify_es256(&self.0, message, signature)
    }
}

/// An ECDSA P-256 signature as a platform returns it (DER or raw `r‖s`) as the raw 64 bytes JOSE
/// uses; `None` for anything else. See [`crate::jose::signature_to_raw`], which does the work.
pub fn normalize_p256_signature(signature: &[u8]) -> Option<[u8; 64]> {
    crate::jose::signature_to_raw(signature).ok()
}

fn malformed(what: &str) -> PlatformError {
    PlatformError::Failure(what.to_string())
}

/// A [`KeyStore`] in software whose private keys are kept in the encrypted store (table
/// `device_keys`).
///
/// **Not hardware-backed** (and it says so): anyone who can open the store can use the keys. It
/// exists so desktop tools, the sandbox demo and tests run the real wallet code; phones use the
/// shells' Keystore / Secure Enclave key stores. It ignores [`KeyPolicy::user_authentication_required`]
/// since there is no one to prompt. Call it from a thread that may block, never from a store job.
pub struct StoreKeyStore {
    store: Arc<Store>,
}

impl StoreKeyStore {
    pub fn new(store: Arc<Store>) -> Self {
        Self { store }
    }

    fn secret(&self, alias: &str) -> Result<Option<Zeroizing<Vec<u8>>>, PlatformError> {
        let alias = alias.to_string();
        self.store
            .read_blocking(move |conn| {
                Ok::<_, StoreError>(
                    conn.query_row(
                        "SELECT secret_scalar FROM device_keys WHERE alias = ?1",
                        [alias],
                        |r| r.get::<_, Vec<u8>>(0),
                    )
                    .optional()?
                    .map(Zeroizing::new),
                )
            })
            .map_err(store_failure)
    }

    fn signer(&self, alias: &str) -> Result<Option<SoftwareSigner>, PlatformError> {
        match self.secret(alias)? {
            None => Ok(None),
            Some(secret) => SoftwareSigner::from_scalar(&secret)
                .map(Some)
                .map_err(|_| PlatformError::KeyUnavailable),
        }
    }
}

fn store_failure(error: StoreError) -> PlatformError {
    PlatformError::Failure(match error {
        StoreError::Closed => "the store is closed".into(),
        _ => "the software key store could not use the store".into(),
    })
}

impl KeyStore for StoreKeyStore {
    fn generate_key(&self, alias: &str, policy: KeyPolicy) -> Result<Vec<u8>, PlatformError> {
        let key = SoftwareSigner::generate()
            .map_err(|_| PlatformError::Failure("no key from the system randomness".into()))?;
        let public = key.public_key().to_sec1().to_vec();
        let scalar = key.secret_scalar();
        let alias = alias.to_string();
        let inserted = self
            .store
            .write_blocking(move |tx| {
                Ok::<_, StoreError>(tx.execute(
                    "INSERT INTO device_keys (alias, secret_scalar, user_authentication, created_at)
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (alias) DO NOTHING",
                    params![
                        alias,
                        scalar.as_slice(),
                        policy.user_authentication_required,
                        crate::unix_now()
                    ],
                )?)
            })
            .map_err(store_failure)?;
        if inserted == 0 {
            return Err(PlatformError::Failure(
                "a key with this alias exists".into(),
            ));
        }
        Ok(public)
    }

    fn public_key(&self, alias: &str) -> Result<Option<Vec<u8>>, PlatformError> {
        Ok(self
            .signer(alias)?
            .map(|signer| signer.public_key().to_sec1().to_vec()))
    }

    fn sign(&self, alias: &str, message: &[u8]) -> Result<Vec<u8>, PlatformError> {
        let signer = self.signer(alias)?.ok_or(PlatformError::KeyUnavailable)?;
        // Raw r||s; the core accepts that as well as the DER the platforms answer with.
        signer
            .sign(message)
            .map_err(|_| PlatformError::Failure("software signing failed".into()))
    }

    fn delete_key(&self, alias: &str) -> Result<(), PlatformError> {
        let alias = alias.to_string();
        self.store
            .write_blocking(move |tx| {
                Ok::<_, StoreError>(
                    tx.execute("DELETE FROM device_keys WHERE alias = ?1", [alias])
                        .map(drop)?,
                )
            })
            .map_err(store_failure)
    }

    fn is_hardware_backed(&self, _alias: &str) -> Result<bool, PlatformError> {
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::SoftwareSealer;
    use p256::ecdsa::signature::Signer;
    use p256::ecdsa::{Signature, SigningKey};

    /// A fixed, valid P-256 key for the format tests.
    fn test_key() -> SigningKey {
        SigningKey::from_slice(&[0x42; 32]).unwrap()
    }

    fn key_store(dir: &std::path::Path) -> StoreKeyStore {
        let store = Store::open_blocking(dir, Arc::new(SoftwareSealer::in_dir(dir))).unwrap();
        StoreKeyStore::new(Arc::new(store))
    }

    #[test]
    fn keys_are_generated_kept_across_restarts_sign_and_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let keys = key_store(dir.path());
        let public = keys.generate_key("wallet", KeyPolicy::default()).unwrap();
        let public = DevicePublicKey::from_sec1(&public).unwrap();
        assert!(matches!(
            keys.generate_key("wallet", KeyPolicy::default()),
            Err(PlatformError::Failure(_))
        ));
        assert!(!keys.is_hardware_backed("wallet").unwrap());
        drop(keys);

        let keys = key_store(dir.path());
        assert_eq!(
            keys.public_key("wallet").unwrap(),
            Some(public.to_sec1()),
            "the key survived a restart"
        );
        let signature = keys.sign("wallet", b"signing input").unwrap();
        let raw = normalize_p256_signature(&signature).expect("DER from the store key");
        assert!(public.verifies(b"signing input", &raw));
        assert!(!public.verifies(b"other input", &raw));

        keys.delete_key("wallet").unwrap();
        keys.delete_key("wallet").unwrap();
        assert_eq!(keys.public_key("wallet").unwrap(), None);
        assert_eq!(
            keys.sign("wallet", b"x"),
            Err(PlatformError::KeyUnavailable)
        );
    }

    #[test]
    fn the_private_key_is_never_on_disk_in_plaintext() {
        let dir = tempfile::tempdir().unwrap();
        let keys = key_store(dir.path());
        keys.generate_key("wallet", KeyPolicy::default()).unwrap();
        let scalar = keys.secret("wallet").unwrap().unwrap();
        drop(keys);
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(!bytes.windows(32).any(|w| w == scalar.as_slice()));
        }
    }

    #[test]
    fn signatures_are_normalised_from_der_or_raw_and_junk_is_refused() {
        let key = test_key();
        let signature: Signature = key.sign(b"m");
        let raw: [u8; 64] = signature.to_bytes().into();
        assert_eq!(normalize_p256_signature(&raw), Some(raw));
        assert_eq!(
            normalize_p256_signature(signature.to_der().as_bytes()),
            Some(raw)
        );
        for junk in [
            &[][..],
            &[0u8; 64][..],
            &[0x30, 0x03, 0x02, 0x01, 0x00][..],
            &[0xffu8; 70][..],
            &raw[..63],
        ] {
            assert_eq!(normalize_p256_signature(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn public_keys_from_a_platform_are_checked() {
        use p256::elliptic_curve::sec1::ToSec1Point;
        let key = test_key();
        let public = p256::PublicKey::from(key.verifying_key());
        let good = public.to_sec1_point(false).as_bytes().to_vec();
        let parsed = DevicePublicKey::from_sec1(&good).unwrap();
        assert_eq!(parsed.to_sec1(), good);
        let (x, y) = parsed.coordinates();
        assert_eq!((&good[1..33], &good[33..]), (&x[..], &y[..]));

        let mut off_curve = good.clone();
        off_curve[64] ^= 1;
        let compressed = public.to_sec1_point(true).as_bytes().to_vec();
        for bad in [off_curve, compressed, vec![0x04; 65], Vec::new()] {
            assert!(DevicePublicKey::from_sec1(&bad).is_err(), "{bad:?}");
        }
    }
}
