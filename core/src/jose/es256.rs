//! ES256 (ECDSA on P-256 with SHA-256): signature formats, verification, and signers.
//!
//! Verification uses `ring` (the core's crypto stack; about three times faster than `p256` here);
//! the software signer uses `p256`, which the design card names for keys and signing. A device key
//! in secure hardware signs through [`JwsSigner`] too, implemented over the platform's key store.

use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use zeroize::Zeroizing;

use super::jwk::EcPublicJwk;
use super::jws::Algorithm;

/// Why a signer could not sign. The texts are fixed: a platform's own message is never carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignerError {
    #[error("the signing key is not available")]
    KeyUnavailable,
    #[error("the user must authenticate before the key can sign")]
    AuthenticationRequired,
    #[error("the signer failed")]
    Failed,
}

/// A key that signs JWS: the device key (through the platform's key store) or a software key.
pub trait JwsSigner {
    /// The JWS `alg` this signer produces.
    fn algorithm(&self) -> Algorithm;

    /// The public key, as a verifier will see it in `cnf.jwk`.
    fn public_jwk(&self) -> Result<EcPublicJwk, SignerError>;

    /// Signs the JWS signing input (`BASE64URL(header) '.' BASE64URL(payload)`, hashed by the
    /// signer). Returns the ECDSA signature as DER or raw `r‖s`; [`sign_compact`] normalises it.
    ///
    /// [`sign_compact`]: super::jws::sign_compact
    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, SignerError>;
}

/// Why bytes are not an ECDSA P-256 signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureFormatError {
    #[error(
        "the signature is neither DER nor 64 raw bytes of ECDSA P-256, or a scalar is out of range"
    )]
    Malformed,
}

/// An ECDSA P-256 signature in DER (what Android's `Signature` and iOS's `SecKeyCreateSignature`
/// return) or raw `r‖s`, as the raw 64 bytes JOSE requires (RFC 7518 §3.4).
///
/// Exactly 64 bytes are read as raw `r‖s` (a DER signature that short would need both integers
/// to have lost six or more leading zero bytes, about one chance in 2^48); anything else must be
/// strict DER. Zero or out-of-range scalars are refused either way.
pub fn signature_to_raw(signature: &[u8]) -> Result<[u8; 64], SignatureFormatError> {
    let parsed = if signature.len() == 64 {
        Signature::from_slice(signature)
    } else {
        Signature::from_der(signature)
    }
    .map_err(|_| SignatureFormatError::Malformed)?;
    let mut raw = [0u8; 64];
    raw.copy_from_slice(&parsed.to_bytes());
    Ok(raw)
}

/// Whether `signature` (raw `r‖s`) is `key`'s ES256 signature of `message`.
pub fn verify(key: &EcPublicJwk, message: &[u8], signature: &[u8; 64]) -> bool {
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, key.to_sec1())
        .verify(message, signature)
        .is_ok()
}

/// An ES256 signer whose private key is in memory: for issuers in tests and tools, the sandbox,
/// and holders on desktops. Not hardware-backed. The key is wiped when dropped.
pub struct SoftwareSigner {
    key: SigningKey,
    public: EcPublicJwk,
}

impl std::fmt::Debug for SoftwareSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareSigner")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl SoftwareSigner {
    /// A new key from the system RNG.
    pub fn generate() -> Result<Self, SignerError> {
        super::from_random_scalar(|d| Self::from_scalar(d).ok())
            .map_err(|_| SignerError::KeyUnavailable)?
            .ok_or(SignerError::Failed)
    }

    /// A signer for the private scalar `d` (32 big-endian bytes, as a JWK's `d` decodes to).
    pub fn from_scalar(d: &[u8]) -> Result<Self, SignerError> {
        if d.len() != 32 {
            return Err(SignerError::KeyUnavailable);
        }
        let key = SigningKey::from_slice(d).map_err(|_| SignerError::KeyUnavailable)?;
        let point = key.verifying_key().to_sec1_point(false);
        let public =
            EcPublicJwk::from_sec1(point.as_bytes()).map_err(|_| SignerError::KeyUnavailable)?;
        Ok(Self { key, public })
    }

    pub fn public_key(&self) -> &EcPublicJwk {
        &self.public
    }

    /// The private scalar, for the one place that must keep it: the software key store, which
    /// persists it in the encrypted store. Wiped when dropped.
    pub(crate) fn secret_scalar(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.key.to_bytes().to_vec())
    }
}

impl JwsSigner for SoftwareSigner {
    fn algorithm(&self) -> Algorithm {
        Algorithm::Es256
    }

    fn public_jwk(&self) -> Result<EcPublicJwk, SignerError> {
        Ok(self.public.clone())
    }

    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, SignerError> {
        let signature: Signature = self.key.sign(signing_input);
        Ok(signature.to_bytes().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn software_signatures_verify_and_only_for_their_message_and_key() {
        let signer = SoftwareSigner::generate().unwrap();
        let other = SoftwareSigner::generate().unwrap();
        assert_ne!(signer.public_key(), other.public_key());
        let raw = signature_to_raw(&signer.sign(b"message").unwrap()).unwrap();
        assert!(verify(signer.public_key(), b"message", &raw));
        assert!(!verify(signer.public_key(), b"messagf", &raw));
        assert!(!verify(other.public_key(), b"message", &raw));
        let mut flipped = raw;
        flipped[10] ^= 1;
        assert!(!verify(signer.public_key(), b"message", &flipped));
    }

    #[test]
    fn der_and_raw_signatures_normalise_to_the_same_raw_bytes() {
        let signer = SoftwareSigner::from_scalar(&[7u8; 32]).unwrap();
        for message in [&b""[..], b"a", b"eyJhbGciOiJFUzI1NiJ9.e30"] {
            let signature: Signature = signer.key.sign(message);
            let der = signature.to_der();
            let from_der = signature_to_raw(der.as_bytes()).unwrap();
            let from_raw = signature_to_raw(&signature.to_bytes()).unwrap();
            assert_eq!(from_der, from_raw);
            assert!(verify(signer.public_key(), message, &from_der));
        }
    }

    #[test]
    fn refuses_malformed_signatures() {
        let signer = SoftwareSigner::from_scalar(&[7u8; 32]).unwrap();
        let signature: Signature = signer.key.sign(b"m");
        let der = signature.to_der().as_bytes().to_vec();
        // Zero scalars, wrong lengths, truncated or padded DER, trailing bytes.
        assert!(signature_to_raw(&[0u8; 64]).is_err());
        assert!(signature_to_raw(&[0xffu8; 64]).is_err());
        assert!(signature_to_raw(&[]).is_err());
        assert!(signature_to_raw(&[1u8; 63]).is_err());
        assert!(signature_to_raw(&[1u8; 65]).is_err());
        assert!(signature_to_raw(&der[..der.len() - 1]).is_err());
        let mut trailing = der.clone();
        trailing.push(0);
        assert!(signature_to_raw(&trailing).is_err());
        let mut wrong_tag = der.clone();
        wrong_tag[0] = 0x31;
        assert!(signature_to_raw(&wrong_tag).is_err());
        for len in 0..der.len() {
            let _ = signature_to_raw(&der[..len]);
        }
    }

    #[test]
    fn refuses_invalid_private_scalars() {
        assert_eq!(
            SoftwareSigner::from_scalar(&[0u8; 32]).unwrap_err(),
            SignerError::KeyUnavailable
        );
        assert!(SoftwareSigner::from_scalar(&[1u8; 31]).is_err());
        assert!(SoftwareSigner::from_scalar(&[0xffu8; 32]).is_err());
    }

    #[test]
    fn debug_shows_no_key_material() {
        let signer = SoftwareSigner::from_scalar(&[7u8; 32]).unwrap();
        let text = format!("{signer:?}");
        assert!(text.contains("thumbprint"));
        assert!(!text.contains("0707"));
    }
}
