//! JOSE building blocks for signed credentials: base64url, strict JSON, P-256 JWKs, JWS in
//! compact serialization with ES256, and JWE with ECDH-ES and AES-GCM ([`jwe`]).
//!
//! Owns: the encodings and checks every signed token the SDK reads or writes goes through
//! (`base64url` without padding, JSON that refuses repeated member names, [`EcPublicJwk`] and its
//! RFC 7638 thumbprint, [`Jws`] parsing and verification, [`sign_compact`]), the [`JwsSigner`]
//! trait that lets the device key in secure hardware sign, [`SoftwareSigner`], and turning the DER
//! signatures platforms return into the raw `r‖s` JOSE needs ([`signature_to_raw`]).
//! Does not own which keys to trust (the caller always passes the key: nothing here takes one
//! from a token), credential formats (`sdjwt`), or where keys live (`platform`). Pure and
//! I/O-free: every parser has a size bound, a typed error and no panic, so it can be fuzzed alone.
//! Only ES256 exists: `alg: none` and every other algorithm are refused.

pub mod base64url;
mod es256;
pub mod json;
pub mod jwe;
mod jwk;
mod jws;

pub use base64url::Base64UrlError;
pub use es256::{
    JwsSigner, SignatureFormatError, SignerError, SoftwareSigner, signature_to_raw,
    verify as verify_es256,
};
pub use json::JsonError;
pub use jwe::{ContentEncryption, EcdhPrivateKey, JweError};
pub use jwk::{EcPublicJwk, JwkError};
pub use jws::{Algorithm, Header, Jws, JwsError, JwsPart, sign_compact};

/// SHA-256 of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// Draws random 32-byte strings from the system RNG until `make` accepts one as a P-256 private
/// scalar (a random string is one except with probability ~2^-32), at most eight times. `Err` if
/// the RNG fails, `Ok(None)` if no draw was accepted. Each draw is wiped after use.
pub(crate) fn from_random_scalar<T>(
    mut make: impl FnMut(&[u8]) -> Option<T>,
) -> Result<Option<T>, ring::error::Unspecified> {
    use ring::rand::SecureRandom;
    let rng = ring::rand::SystemRandom::new();
    for _ in 0..8 {
        let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
        rng.fill(bytes.as_mut())?;
        if let Some(value) = make(bytes.as_ref()) {
            return Ok(Some(value));
        }
    }
    Ok(None)
}
