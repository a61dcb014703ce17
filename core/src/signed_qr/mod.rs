//! Signed QR codes: `PREFIX:` + Base45 (RFC 9285) of zlib of a COSE_Sign1 (RFC 9052) with ES256
//! (or PS256, which EU DCC signers also use) over a CWT claim set (RFC 8392), the key id in the
//! protected header.
//!
//! Owns: [`encode`] (the sandbox and agency tools mint codes with it) and [`decode`], pure and
//! I/O-free so they can be fuzzed alone; the layers beneath them, each usable on its own: strict
//! Base45 ([`base45_decode`]), bounded CBOR well-formedness ([`cbor`]), COSE_Sign1 signing and
//! verification ([`sign1`]) and CWT claims with their time checks ([`cwt`]). The prefix is a
//! parameter ([`Profile`]) so other payloads of this shape (venue codes, EU DCC's `HC1:`) reuse
//! the same decoder. Does not own which keys to trust: the caller passes the key, or a
//! [`KeyLookup`] that finds it by key id (the trust list), and this module never takes a key from
//! the code itself. Does not own what the private claims mean (venue check-ins, DCC).
//!
//! Strict and total: the text, the decoded bytes, the inflated bytes (decompression stops at
//! [`MAX_COSE_BYTES`], so no zip bomb) and CBOR nesting ([`MAX_CBOR_DEPTH`]) are bounded before
//! the next step reads them; only ES256 and PS256 are accepted, and the key decides: an ES256 key
//! never verifies a PS256 message nor an RSA key an ES256 one
//! ([`SignedQrError::AlgorithmKeyMismatch`]); any `crit` header is refused; nothing may
//! follow the zlib stream or the CBOR item. Every failure is a typed [`SignedQrError`], never a
//! panic.

pub mod cbor;
pub mod cwt;
pub mod sign1;

use std::io::Write;

pub use cbor::CborError;
pub use ciborium::Value as CborValue;
pub use cwt::{ClaimKey, Claims, CwtError};
pub use sign1::{KidLocation, VerifiedSign1, VerifyOptions};

use crate::jose::{EcPublicJwk, JwsSigner, SignerError};

/// The longest text accepted (a QR code holds at most 4,296 alphanumeric characters).
pub const MAX_TEXT_CHARS: usize = 4_296;
/// The most bytes a COSE_Sign1 (or its claim set) may have, and so the most a payload may
/// inflate to: decompression stops past this, into a buffer allocated once at this size.
pub const MAX_COSE_BYTES: usize = 16 * 1024;
/// The deepest CBOR nesting accepted (arrays, maps and tags each count one). An EU DCC nests six
/// deep inside its claim set.
pub const MAX_CBOR_DEPTH: usize = 16;

/// Why a signed QR code could not be read, verified or written. The texts name what failed,
/// never the values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignedQrError {
    #[error("the text is longer than a QR code can be")]
    TooLong,
    #[error("the text does not start with the expected prefix")]
    WrongPrefix,
    #[error("the text is not valid Base45")]
    Base45,
    /// Damaged or truncated zlib data.
    #[error("the compressed data is damaged")]
    Compression,
    #[error("bytes follow the compressed data")]
    TrailingCompressedBytes,
    #[error("the signed data is larger than a signed QR code can carry")]
    TooLarge,
    #[error("the signed data is not bounded, well-formed CBOR: {0}")]
    Cbor(CborError),
    #[error("the signed data has a CBOR tag other than COSE_Sign1")]
    WrongTag,
    #[error("the signed data is not a COSE_Sign1 structure")]
    MalformedCose,
    #[error("a header parameter is in both the protected and the unprotected header")]
    HeaderInBothBuckets,
    #[error("the message has critical headers (`crit`), which this profile does not understand")]
    CriticalHeader,
    #[error("the message has no `alg` header")]
    MissingAlgorithm,
    #[error("the message's `alg` is neither ES256 nor PS256")]
    UnsupportedAlgorithm,
    /// The message's `alg` is not the algorithm of the key its key id names (an ES256 message
    /// and an RSA key, or a PS256 message and an EC key).
    #[error("the message's `alg` does not match the key's algorithm")]
    AlgorithmKeyMismatch,
    #[error("the key is not an RSA public key of 2048 to 8192 bits with an acceptable exponent")]
    UnsupportedKey,
    #[error("the message has no key id (`kid`)")]
    MissingKid,
    #[error("the key id (`kid`) is not in the protected header")]
    KidNotProtected,
    #[error("no key is known for the message's key id")]
    UnknownKey,
    #[error("the payload is detached")]
    DetachedPayload,
    #[error("the signature is not 64 bytes of ES256")]
    SignatureLength,
    #[error("the signature does not verify")]
    SignatureInvalid,
    #[error("the claims: {0}")]
    Claims(#[from] CwtError),
    #[error("the signer failed: {0}")]
    Signer(SignerError),
    #[error("the signer returned something that is not an ECDSA P-256 signature")]
    SignerOutput,
}

/// A key that verifies signed QR codes. The key decides the algorithm: a message whose `alg`
/// is not the key's is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyingKey {
    /// ECDSA P-256 with SHA-256 (COSE `alg` -7).
    Es256(EcPublicJwk),
    /// RSASSA-PSS with SHA-256, MGF1 SHA-256 and a 32-byte salt (COSE `alg` -37).
    Ps256(RsaPublicKey),
}

/// The smallest and largest RSA modulus accepted, in bits (what `ring`'s PSS verifier accepts).
pub const RSA_MODULUS_BITS: std::ops::RangeInclusive<usize> = 2048..=8192;

/// An RSA public key: modulus and public exponent as unsigned big-endian integers, without
/// leading zero bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct RsaPublicKey {
    n: Vec<u8>,
    e: Vec<u8>,
}

impl std::fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RsaPublicKey({} bits)", self.modulus_bits())
    }
}

impl RsaPublicKey {
    /// A key from its modulus and exponent (big-endian; leading zero bytes, as a DER INTEGER
    /// has them, are dropped). Refused: a modulus outside [`RSA_MODULUS_BITS`] or even, an
    /// exponent that is even, below 3 or over 33 bits.
    pub fn new(n: &[u8], e: &[u8]) -> Result<Self, SignedQrError> {
        let strip = |bytes: &[u8]| {
            let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
            bytes[start..].to_vec()
        };
        let key = Self {
            n: strip(n),
            e: strip(e),
        };
        let e_value = if key.e.len() <= 5 {
            key.e.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
        } else {
            u64::MAX
        };
        let odd = |bytes: &[u8]| bytes.last().is_some_and(|b| b & 1 == 1);
        if !RSA_MODULUS_BITS.contains(&key.modulus_bits())
            || !odd(&key.n)
            || !odd(&key.e)
            || !(3..(1 << 33)).contains(&e_value)
        {
            return Err(SignedQrError::UnsupportedKey);
        }
        Ok(key)
    }

    /// The modulus, big-endian, without leading zeros.
    pub fn modulus(&self) -> &[u8] {
        &self.n
    }

    /// The public exponent, big-endian, without leading zeros.
    pub fn exponent(&self) -> &[u8] {
        &self.e
    }

    /// The modulus length in bits.
    pub fn modulus_bits(&self) -> usize {
        self.n.first().map_or(0, |&top| {
            (self.n.len() - 1) * 8 + (8 - top.leading_zeros() as usize)
        })
    }

    /// Whether `signature` is an RSASSA-PSS SHA-256 signature of `message` by this key.
    pub fn verify_pss_sha256(&self, message: &[u8], signature: &[u8]) -> bool {
        ring::signature::RsaPublicKeyComponents {
            n: &self.n,
            e: &self.e,
        }
        .verify(
            &ring::signature::RSA_PSS_2048_8192_SHA256,
            message,
            signature,
        )
        .is_ok()
    }
}

/// Finds the key a message's key id names: the trust list, or a fixed key.
pub trait KeyLookup {
    /// The key for `kid` (`None` when the message names none and the options allow that), or
    /// `None` when it is unknown.
    fn key_for(&self, kid: Option<&[u8]>) -> Option<VerifyingKey>;
}

/// A key given explicitly: used whatever key id the message names.
impl KeyLookup for EcPublicJwk {
    fn key_for(&self, _kid: Option<&[u8]>) -> Option<VerifyingKey> {
        Some(VerifyingKey::Es256(self.clone()))
    }
}

/// A lookup by key id; a message without a key id finds nothing.
impl<F: Fn(&[u8]) -> Option<VerifyingKey>> KeyLookup for F {
    fn key_for(&self, kid: Option<&[u8]>) -> Option<VerifyingKey> {
        kid.and_then(self)
    }
}

/// The text form of one kind of signed QR code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// Starts every text, e.g. `CK1:` for venue codes, `HC1:` for EU DCCs.
    pub prefix: &'static str,
    /// Where a reader accepts the key id ([`encode`] always writes it protected).
    pub kid: KidLocation,
}

impl Profile {
    /// A profile of this SDK's own codes: the key id must be protected.
    pub const fn new(prefix: &'static str) -> Self {
        Self {
            prefix,
            kid: KidLocation::Protected,
        }
    }
}

/// A signed QR code whose signature verified. Its times are not checked here: call
/// [`Claims::check_time`] with the clock.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedQr {
    pub kid: Vec<u8>,
    pub claims: Claims,
}

/// Mints the text of a signed QR code: `claims` signed by `signer` (ES256) under `kid`.
/// Refuses a result longer than [`MAX_TEXT_CHARS`], which no reader would accept.
pub fn encode(
    profile: &Profile,
    claims: &Claims,
    kid: &[u8],
    signer: &dyn JwsSigner,
) -> Result<String, SignedQrError> {
    let payload = claims.to_cbor()?;
    let message = sign1::sign(&payload, kid, signer)?;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(&message)
        .map_err(|_| SignedQrError::Compression)?;
    let compressed = encoder.finish().map_err(|_| SignedQrError::Compression)?;
    let text = format!("{}{}", profile.prefix, base45_encode(&compressed));
    if text.len() > MAX_TEXT_CHARS {
        return Err(SignedQrError::TooLong);
    }
    Ok(text)
}

/// Reads and verifies a signed QR code's text with a key from `keys`, and reads its claims.
pub fn decode(
    profile: &Profile,
    text: &str,
    keys: &dyn KeyLookup,
) -> Result<SignedQr, SignedQrError> {
    let verified = sign1::verify(
        &unwrap_text(profile, text)?,
        &VerifyOptions {
            external_aad: &[],
            kid: profile.kid,
        },
        keys,
    )?;
    let claims = Claims::from_cbor(&verified.payload)?;
    Ok(SignedQr {
        kid: verified.kid.unwrap_or_default(),
        claims,
    })
}

/// The claims of a code's text, read without verifying anything: its signature, key and times
/// are not looked at. Only for deciding which flow a scan goes to (`scan::classify`); the flow
/// then verifies with [`decode`]. Every layer keeps [`decode`]'s bounds.
pub fn unverified_claims(profile: &Profile, text: &str) -> Result<Claims, SignedQrError> {
    let payload = sign1::unverified_payload(&unwrap_text(profile, text)?)?;
    Ok(Claims::from_cbor(&payload)?)
}

/// The COSE bytes inside a text, before any verification: prefix, Base45, zlib, each bounded.
pub fn unwrap_text(profile: &Profile, text: &str) -> Result<Vec<u8>, SignedQrError> {
    if text.len() > MAX_TEXT_CHARS {
        return Err(SignedQrError::TooLong);
    }
    let body = text
        .strip_prefix(profile.prefix)
        .ok_or(SignedQrError::WrongPrefix)?;
    inflate(&base45_decode(body)?)
}

/// Base45 encoding (RFC 9285).
pub fn base45_encode(bytes: &[u8]) -> String {
    base45::encode(bytes)
}

/// Base45 decoding (RFC 9285) that refuses every string the RFC says to reject: characters
/// outside the alphabet, a dangling single character, and groups whose value is too large (a
/// triple over 65535, or a final pair over 255, which the `base45` crate truncates silently).
pub fn base45_decode(text: &str) -> Result<Vec<u8>, SignedQrError> {
    if text.len() % 3 == 2 {
        let pair = &text.as_bytes()[text.len() - 2..];
        let digit = |c: u8| BASE45_ALPHABET.iter().position(|&a| a == c);
        if let (Some(low), Some(high)) = (digit(pair[0]), digit(pair[1]))
            && low + 45 * high > 255
        {
            return Err(SignedQrError::Base45);
        }
    }
    base45::decode(text).map_err(|_| SignedQrError::Base45)
}

const BASE45_ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Inflates a zlib stream into at most [`MAX_COSE_BYTES`]: the output buffer is allocated once
/// one byte past that bound and never grows, so a stream that would inflate further is refused
/// as soon as it fills it.
fn inflate(compressed: &[u8]) -> Result<Vec<u8>, SignedQrError> {
    use flate2::{Decompress, FlushDecompress, Status};
    let mut inflater = Decompress::new(true);
    let mut out = Vec::with_capacity(MAX_COSE_BYTES + 1);
    loop {
        let progress = (inflater.total_in(), inflater.total_out());
        let rest = usize::try_from(progress.0)
            .ok()
            .and_then(|consumed| compressed.get(consumed..))
            .ok_or(SignedQrError::Compression)?;
        let status = inflater
            .decompress_vec(rest, &mut out, FlushDecompress::Finish)
            .map_err(|_| SignedQrError::Compression)?;
        if status == Status::StreamEnd {
            break;
        }
        if out.len() > MAX_COSE_BYTES {
            return Err(SignedQrError::TooLarge);
        }
        if progress == (inflater.total_in(), inflater.total_out()) {
            // Neither input read nor output written: the stream is cut short.
            return Err(SignedQrError::Compression);
        }
    }
    if out.len() > MAX_COSE_BYTES {
        return Err(SignedQrError::TooLarge);
    }
    if inflater.total_in() != compressed.len() as u64 {
        return Err(SignedQrError::TrailingCompressedBytes);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;

/// Bytes from hex, for the tests' CBOR examples.
#[cfg(test)]
fn test_hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// A fixed 2048-bit RSA key (PKCS#1 DER), for PS256 messages in tests: `ring` cannot generate
/// RSA keys.
#[cfg(test)]
pub(crate) fn rsa_key_pair() -> ring::rsa::KeyPair {
    use base64::Engine;
    let text: String = include_str!("testdata/rsa-2048.der.b64")
        .split_whitespace()
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap();
    ring::rsa::KeyPair::from_der(&der).unwrap()
}

/// A PS256 signature of `tbs` by `pair`, for tests.
#[cfg(test)]
pub(crate) fn test_ps256_sign(pair: &ring::rsa::KeyPair, tbs: &[u8]) -> Vec<u8> {
    let mut signature = vec![0u8; pair.public().modulus_len()];
    pair.sign(
        &ring::signature::RSA_PSS_SHA256,
        &ring::rand::SystemRandom::new(),
        tbs,
        &mut signature,
    )
    .unwrap();
    signature
}
