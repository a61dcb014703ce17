//! JWE (RFC 7516) in compact serialization with ECDH-ES direct key agreement (RFC 7518 §4.6) on
//! P-256 and AES-GCM (`A128GCM`, `A256GCM`): what OpenID4VP `direct_post.jwt` uses to encrypt a
//! wallet's response to the relying party's key.
//!
//! Owns: [`encrypt`] (a fresh ephemeral key per message, `epk` in the protected header, an empty
//! encrypted-key part), [`decrypt`] with a recipient's [`EcdhPrivateKey`], and the Concat KDF.
//! Does not own which key to encrypt to (the caller passes it, e.g. from the verifier's metadata)
//! or what the plaintext means. Pure and I/O-free apart from the system RNG; [`decrypt`] bounds
//! its input before parsing, reads the header with the strict JSON parser, and returns a typed
//! error for every input, never a panic.
//!
//! Refused on decryption: any `alg` but `ECDH-ES`, any `enc` but `A128GCM`/`A256GCM`, a `crit` or
//! `zip` header, a non-empty encrypted key, an `epk` that is not a P-256 point (invalid-curve
//! attacks: [`EcPublicJwk`] checks the point is on the curve before any scalar multiplication),
//! an IV that is not 96 bits and a tag that is not 128 bits. A wrong key and any tampering give
//! the same [`JweError::Decryption`].
//!
//! Crypto: `ring` for the ephemeral ECDH of [`encrypt`] (its `EphemeralPrivateKey` never leaves
//! the call), AES-GCM and SHA-256; `p256` (feature `ecdh`) for the static recipient key, which
//! `ring` cannot hold. The Concat KDF (NIST SP 800-56A §5.8.1, as RFC 7518 §4.6.2 profiles it) is
//! written here over `ring`'s SHA-256: it is one hash round for these key sizes, and a few lines
//! are less than a second hash stack (the `concat-kdf` crate brings RustCrypto's `digest`/`sha2`).

use p256::elliptic_curve::sec1::ToSec1Point;
use ring::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, Tag, UnboundKey};
use ring::agreement::{ECDH_P256, EphemeralPrivateKey, UnparsedPublicKey, agree_ephemeral};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::base64url;
use super::json::{self, JsonError};
use super::jwk::{EcPublicJwk, JwkError};

/// The only key management algorithm.
pub const ALG_ECDH_ES: &str = "ECDH-ES";

const IV_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// The content encryption algorithm (`enc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentEncryption {
    A128Gcm,
    A256Gcm,
}

impl ContentEncryption {
    /// The `enc` header value.
    pub fn name(self) -> &'static str {
        match self {
            Self::A128Gcm => "A128GCM",
            Self::A256Gcm => "A256GCM",
        }
    }

    /// The algorithm for an `enc` value, if it is one of the two supported.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "A128GCM" => Some(Self::A128Gcm),
            "A256GCM" => Some(Self::A256Gcm),
            _ => None,
        }
    }

    fn key_len(self) -> usize {
        match self {
            Self::A128Gcm => 16,
            Self::A256Gcm => 32,
        }
    }

    fn aead(self) -> &'static ring::aead::Algorithm {
        match self {
            Self::A128Gcm => &AES_128_GCM,
            Self::A256Gcm => &AES_256_GCM,
        }
    }
}

/// Why a JWE could not be made or read. The texts never quote the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JweError {
    #[error("the JWE is longer than the limit")]
    TooLarge,
    #[error("the JWE does not have five dot-separated parts")]
    Malformed,
    #[error("the JWE's {0} is not base64url")]
    Base64(&'static str),
    #[error("the JWE header is not acceptable JSON: {0}")]
    Header(#[from] JsonError),
    #[error("the JWE header lacks `{0}` or it has the wrong type")]
    MissingHeader(&'static str),
    #[error("the JWE key management algorithm is not ECDH-ES")]
    UnsupportedAlgorithm,
    #[error("the JWE content encryption is not A128GCM or A256GCM")]
    UnsupportedEncryption,
    #[error("the JWE header names `{0}`, which is not supported")]
    UnsupportedHeader(&'static str),
    #[error("the extra header sets `{0}`, which the encryption sets itself")]
    ReservedHeader(&'static str),
    #[error("the JWE carries an encrypted key, which ECDH-ES direct agreement does not use")]
    EncryptedKeyPresent,
    #[error("the JWE's ephemeral key is not a P-256 public key: {0}")]
    InvalidEphemeralKey(JwkError),
    #[error("the JWE's `{0}` is not a base64url string")]
    InvalidPartyInfo(&'static str),
    #[error("the JWE's IV is not 96 bits")]
    InvalidIv,
    #[error("the JWE's authentication tag is not 128 bits")]
    InvalidTag,
    #[error("the JWE does not decrypt under this key")]
    Decryption,
    #[error("the random number generator or the key agreement failed")]
    Crypto,
}

/// A recipient's static P-256 key agreement key: the relying party's (or the sandbox's) private
/// key that JWEs are encrypted to. Wiped when dropped.
pub struct EcdhPrivateKey {
    secret: p256::SecretKey,
    public: EcPublicJwk,
}

impl std::fmt::Debug for EcdhPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcdhPrivateKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl EcdhPrivateKey {
    /// A new key from the system RNG.
    pub fn generate() -> Result<Self, JweError> {
        super::from_random_scalar(Self::from_scalar)
            .ok()
            .flatten()
            .ok_or(JweError::Crypto)
    }

    /// The key for the private scalar `d` (32 big-endian bytes, as a JWK's `d` decodes to);
    /// `None` unless it is in `1..n`.
    pub fn from_scalar(d: &[u8]) -> Option<Self> {
        if d.len() != 32 {
            return None;
        }
        let secret = p256::SecretKey::from_slice(d).ok()?;
        let point = secret.public_key().to_sec1_point(false);
        let public = EcPublicJwk::from_sec1(point.as_bytes()).ok()?;
        Some(Self { secret, public })
    }

    /// The private scalar, for storing the key. Wiped when dropped.
    pub fn to_scalar(&self) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&self.secret.to_bytes());
        out
    }

    /// The public key, to publish (e.g. in the verifier's `jwks`).
    pub fn public_jwk(&self) -> &EcPublicJwk {
        &self.public
    }

    /// The ECDH shared secret `Z` (the x-coordinate of `d·P`) with `peer`, a point already checked
    /// to be on P-256.
    fn agree(&self, peer: &EcPublicJwk) -> Result<Zeroizing<[u8; 32]>, JweError> {
        let peer =
            p256::PublicKey::from_sec1_bytes(&peer.to_sec1()).map_err(|_| JweError::Crypto)?;
        let shared = p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), peer.as_affine());
        let mut z = Zeroizing::new([0u8; 32]);
        z.copy_from_slice(shared.raw_secret_bytes());
        Ok(z)
    }
}

/// Encrypts `plaintext` to `recipient` with ECDH-ES and `enc`, in compact serialization.
///
/// The protected header holds `alg`, `enc`, `epk` (a fresh ephemeral key) and the members of
/// `extra_header` (e.g. `kid`, `apu`, `apv`); `apu`/`apv`, when given, must be base64url strings
/// and enter the Concat KDF. `extra_header` may not set `alg`, `enc`, `epk`, `crit` or `zip`.
pub fn encrypt(
    plaintext: &[u8],
    recipient: &EcPublicJwk,
    enc: ContentEncryption,
    extra_header: &Map<String, Value>,
) -> Result<String, JweError> {
    for reserved in ["alg", "enc", "epk", "crit", "zip"] {
        if extra_header.contains_key(reserved) {
            return Err(JweError::ReservedHeader(reserved));
        }
    }
    let apu = party_info(extra_header, "apu")?;
    let apv = party_info(extra_header, "apv")?;

    let rng = SystemRandom::new();
    let ephemeral =
        EphemeralPrivateKey::generate(&ECDH_P256, &rng).map_err(|_| JweError::Crypto)?;
    let epk_public = ephemeral
        .compute_public_key()
        .map_err(|_| JweError::Crypto)?;
    let epk = EcPublicJwk::from_sec1(epk_public.as_ref()).map_err(|_| JweError::Crypto)?;

    let mut header = Map::new();
    header.insert("alg".into(), Value::from(ALG_ECDH_ES));
    header.insert("enc".into(), Value::from(enc.name()));
    header.insert("epk".into(), epk.to_value());
    for (name, value) in extra_header {
        header.insert(name.clone(), value.clone());
    }
    let header_text = serde_json::to_vec(&Value::Object(header)).map_err(|_| JweError::Crypto)?;
    let protected = base64url::encode(header_text);

    let peer = UnparsedPublicKey::new(&ECDH_P256, recipient.to_sec1());
    let key = agree_ephemeral(ephemeral, &peer, |z| concat_kdf(z, enc, &apu, &apv))
        .map_err(|_| JweError::Crypto)?;

    let mut iv = [0u8; IV_LEN];
    rng.fill(&mut iv).map_err(|_| JweError::Crypto)?;
    let (ciphertext, tag) = seal(enc, &key, iv, protected.as_bytes(), plaintext)?;
    Ok(format!(
        "{protected}..{}.{}.{}",
        base64url::encode(iv),
        base64url::encode(ciphertext),
        base64url::encode(tag)
    ))
}

/// Decrypts a compact JWE made with ECDH-ES to `recipient`, returning its protected header and
/// the plaintext. Texts longer than `max_len` bytes are refused before anything is parsed.
pub fn decrypt(
    compact: &str,
    recipient: &EcdhPrivateKey,
    max_len: usize,
) -> Result<(Map<String, Value>, Vec<u8>), JweError> {
    if compact.len() > max_len {
        return Err(JweError::TooLarge);
    }
    let mut parts = compact.split('.');
    let (
        Some(protected),
        Some(encrypted_key),
        Some(iv_text),
        Some(ciphertext_text),
        Some(tag_text),
        None,
    ) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    )
    else {
        return Err(JweError::Malformed);
    };

    let header_bytes = base64url::decode(protected).map_err(|_| JweError::Base64("header"))?;
    let header = json::parse_object(&header_bytes)?;
    match header.get("alg") {
        Some(Value::String(alg)) if alg == ALG_ECDH_ES => {}
        Some(Value::String(_)) => return Err(JweError::UnsupportedAlgorithm),
        _ => return Err(JweError::MissingHeader("alg")),
    }
    let enc = match header.get("enc") {
        Some(Value::String(enc)) => {
            ContentEncryption::from_name(enc).ok_or(JweError::UnsupportedEncryption)?
        }
        _ => return Err(JweError::MissingHeader("enc")),
    };
    for unsupported in ["crit", "zip"] {
        if header.contains_key(unsupported) {
            return Err(JweError::UnsupportedHeader(unsupported));
        }
    }
    if !encrypted_key.is_empty() {
        return Err(JweError::EncryptedKeyPresent);
    }
    let epk = EcPublicJwk::from_value(header.get("epk").ok_or(JweError::MissingHeader("epk"))?)
        .map_err(JweError::InvalidEphemeralKey)?;
    let apu = party_info(&header, "apu")?;
    let apv = party_info(&header, "apv")?;

    let iv: [u8; IV_LEN] = fixed_len(iv_text, JweError::InvalidIv)?;
    let tag: [u8; TAG_LEN] = fixed_len(tag_text, JweError::InvalidTag)?;
    let mut buffer =
        base64url::decode(ciphertext_text).map_err(|_| JweError::Base64("ciphertext"))?;

    let z = recipient.agree(&epk)?;
    let key = concat_kdf(z.as_ref(), enc, &apu, &apv);
    let aead = UnboundKey::new(enc.aead(), &key[..enc.key_len()])
        .map(LessSafeKey::new)
        .map_err(|_| JweError::Crypto)?;
    buffer.extend_from_slice(&tag);
    let plaintext_len = aead
        .open_in_place(
            Nonce::assume_unique_for_key(iv),
            Aad::from(protected.as_bytes()),
            &mut buffer,
        )
        .map_err(|_| JweError::Decryption)?
        .len();
    buffer.truncate(plaintext_len);
    Ok((header, buffer))
}

/// Exactly `N` bytes of base64url, its length checked before decoding; `error` otherwise.
fn fixed_len<const N: usize>(text: &str, error: JweError) -> Result<[u8; N], JweError> {
    if text.len() != (N * 4).div_ceil(3) {
        return Err(error);
    }
    base64url::decode(text)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(error)
}

/// `apu` or `apv` of a header, base64url-decoded; empty when absent.
fn party_info(header: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>, JweError> {
    match header.get(name) {
        None => Ok(Vec::new()),
        Some(Value::String(text)) => {
            base64url::decode(text).map_err(|_| JweError::InvalidPartyInfo(name))
        }
        Some(_) => Err(JweError::InvalidPartyInfo(name)),
    }
}

/// The Concat KDF of NIST SP 800-56A §5.8.1 with SHA-256, as RFC 7518 §4.6.2 uses it for direct
/// key agreement: `AlgorithmID` is the `enc` value, `PartyUInfo`/`PartyVInfo` are `apu`/`apv`
/// (each with a 32-bit big-endian length prefix), `SuppPubInfo` is the key length in bits and
/// `SuppPrivInfo` is empty. Returns 32 bytes of which the first `enc.key_len()` are the key.
fn concat_kdf(z: &[u8], enc: ContentEncryption, apu: &[u8], apv: &[u8]) -> Zeroizing<[u8; 32]> {
    // Both key lengths fit in one SHA-256 output, so one round (counter 1) is the whole KDF.
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    context.update(&1u32.to_be_bytes());
    context.update(z);
    for field in [enc.name().as_bytes(), apu, apv] {
        context.update(&prefix_len(field));
        context.update(field);
    }
    context.update(&((enc.key_len() * 8) as u32).to_be_bytes());
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(context.finish().as_ref());
    if enc.key_len() < 32 {
        key[enc.key_len()..].fill(0);
    }
    key
}

/// The 32-bit big-endian length of a Concat KDF field. Header fields come from a bounded text,
/// so they are far below 4 GiB; a longer one would saturate rather than wrap.
fn prefix_len(field: &[u8]) -> [u8; 4] {
    u32::try_from(field.len()).unwrap_or(u32::MAX).to_be_bytes()
}

/// AES-GCM encryption: the ciphertext and the tag.
fn seal(
    enc: ContentEncryption,
    key: &[u8; 32],
    iv: [u8; IV_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<(Vec<u8>, Tag), JweError> {
    let aead = UnboundKey::new(enc.aead(), &key[..enc.key_len()])
        .map(LessSafeKey::new)
        .map_err(|_| JweError::Crypto)?;
    let mut buffer = plaintext.to_vec();
    let tag = aead
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(aad),
            &mut buffer,
        )
        .map_err(|_| JweError::Crypto)?;
    Ok((buffer, tag))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MAX: usize = 64 * 1024;

    fn b64(text: &str) -> Vec<u8> {
        base64url::decode(text).unwrap()
    }

    fn key(d: &str) -> EcdhPrivateKey {
        EcdhPrivateKey::from_scalar(&b64(d)).unwrap()
    }

    fn headers(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    /// A compact JWE with the given protected header, encrypted key, IV, ciphertext and tag parts.
    fn assemble(parts: [&str; 5]) -> String {
        parts.join(".")
    }

    /// The five parts of a compact JWE.
    fn split(compact: &str) -> Vec<String> {
        compact.split('.').map(str::to_owned).collect()
    }

    #[test]
    fn round_trips_with_both_encryptions() {
        let recipient = EcdhPrivateKey::generate().unwrap();
        let extra = headers(json!({"kid": "rp-key-1", "apu": "QWxpY2U", "apv": "Qm9i"}));
        for enc in [ContentEncryption::A128Gcm, ContentEncryption::A256Gcm] {
            for plaintext in [
                &b""[..],
                b"x",
                br#"{"vp_token":{"pid":["eyJ..."]},"state":"s"}"#,
            ] {
                let compact = encrypt(plaintext, recipient.public_jwk(), enc, &extra).unwrap();
                let parts = split(&compact);
                assert_eq!(parts.len(), 5);
                assert!(parts[1].is_empty());
                let (header, decrypted) = decrypt(&compact, &recipient, MAX).unwrap();
                assert_eq!(decrypted, plaintext);
                assert_eq!(header["alg"], "ECDH-ES");
                assert_eq!(header["enc"], enc.name());
                assert_eq!(header["kid"], "rp-key-1");
                assert_eq!(header["apu"], "QWxpY2U");
                let epk = EcPublicJwk::from_value(&header["epk"]).unwrap();
                assert_ne!(&epk, recipient.public_jwk());
            }
        }
        // Without apu/apv as well, and each message has its own ephemeral key and IV.
        let [a, b] = [(); 2].map(|()| {
            encrypt(
                b"m",
                recipient.public_jwk(),
                ContentEncryption::A128Gcm,
                &Map::new(),
            )
            .unwrap()
        });
        assert_ne!(split(&a)[0], split(&b)[0]);
        assert_ne!(split(&a)[2], split(&b)[2]);
        assert_eq!(decrypt(&a, &recipient, MAX).unwrap().1, b"m");
    }

    #[test]
    fn private_key_round_trips_through_its_scalar() {
        let recipient = EcdhPrivateKey::generate().unwrap();
        let again = EcdhPrivateKey::from_scalar(recipient.to_scalar().as_ref()).unwrap();
        assert_eq!(again.public_jwk(), recipient.public_jwk());
        assert!(EcdhPrivateKey::from_scalar(&[0; 32]).is_none());
        assert!(EcdhPrivateKey::from_scalar(&[0xff; 32]).is_none());
        assert!(EcdhPrivateKey::from_scalar(&[1; 31]).is_none());
        assert!(!format!("{recipient:?}").contains(&base64url::encode(*recipient.to_scalar())));
    }

    // RFC 7518 Appendix C: Alice's ephemeral key, Bob's static key, apu "Alice", apv "Bob",
    // enc A128GCM.
    const ALICE_D: &str = "0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo";
    const ALICE_X: &str = "gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0";
    const ALICE_Y: &str = "SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps";
    const BOB_D: &str = "VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw";
    const BOB_X: &str = "weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ";
    const BOB_Y: &str = "e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck";
    const Z: [u8; 32] = [
        158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49, 110,
        163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196,
    ];

    fn alice_epk() -> Value {
        json!({"kty": "EC", "crv": "P-256", "x": ALICE_X, "y": ALICE_Y})
    }

    #[test]
    fn rfc_7518_appendix_c_key_agreement() {
        let alice = key(ALICE_D);
        let bob = key(BOB_D);
        assert_eq!(
            alice.public_jwk(),
            &EcPublicJwk::from_value(&alice_epk()).unwrap()
        );
        assert_eq!(
            bob.public_jwk(),
            &EcPublicJwk::from_value(&json!({"kty": "EC", "crv": "P-256", "x": BOB_X, "y": BOB_Y}))
                .unwrap()
        );
        assert_eq!(*alice.agree(bob.public_jwk()).unwrap(), Z);
        assert_eq!(*bob.agree(alice.public_jwk()).unwrap(), Z);
        let key = concat_kdf(&Z, ContentEncryption::A128Gcm, b"Alice", b"Bob");
        assert_eq!(
            &key[..16],
            [
                86, 170, 141, 234, 248, 35, 109, 32, 92, 34, 40, 205, 113, 167, 16, 26
            ]
        );
        assert_eq!(base64url::encode(&key[..16]), "VqqN6vgjbSBcIijNcacQGg");
    }

    /// The RFC 7518 Appendix C header, with the content encrypted under its derived key by hand.
    fn appendix_c_jwe(plaintext: &[u8]) -> String {
        let header = json!({
            "alg": "ECDH-ES", "enc": "A128GCM", "apu": "QWxpY2U", "apv": "Qm9i", "epk": alice_epk(),
        });
        let protected = base64url::encode(serde_json::to_vec(&header).unwrap());
        let key = concat_kdf(&Z, ContentEncryption::A128Gcm, b"Alice", b"Bob");
        let iv = [7u8; IV_LEN];
        let (ciphertext, tag) = seal(
            ContentEncryption::A128Gcm,
            &key,
            iv,
            protected.as_bytes(),
            plaintext,
        )
        .unwrap();
        assemble([
            &protected,
            "",
            &base64url::encode(iv),
            &base64url::encode(ciphertext),
            &base64url::encode(tag),
        ])
    }

    #[test]
    fn decrypts_a_jwe_made_from_the_appendix_c_keys() {
        let compact = appendix_c_jwe(b"Live long and prosper.");
        let (header, plaintext) = decrypt(&compact, &key(BOB_D), MAX).unwrap();
        assert_eq!(plaintext, b"Live long and prosper.");
        assert_eq!(header["apv"], "Qm9i");
        // Another recipient's key (Alice's own) does not decrypt it.
        assert_eq!(
            decrypt(&compact, &key(ALICE_D), MAX),
            Err(JweError::Decryption)
        );
    }

    /// Made by an independent implementation (PyPI `jwcrypto` 1.6.1) to the Appendix C recipient
    /// key: A256GCM with `kid`/`apu`/`apv`, and A128GCM without `apu`/`apv`.
    const JWCRYPTO_A256GCM: &str = "eyJhbGciOiJFQ0RILUVTIiwiYXB1IjoiUVd4cFkyVSIsImFwdiI6IlFtOWkiLCJlbmMiOiJBMjU2R0NNIiwiZXBrIjp7ImNydiI6IlAtMjU2Iiwia3R5IjoiRUMiLCJ4IjoiS1U3bnczTUxFeDFOUXNUb1NSTFUtdmRMX1M3U3RjMjRndk5VUEp6LTlIZyIsInkiOiJJUEtkeFRkZzk4cEsyOGpsX2NQVm80WlQxanN6YVRGLThfeVZIekxsWDd3In0sImtpZCI6InJwIn0..bP0YRunQoHPSUZOC.V_2Dk0etdZS9qa1H4_GJI3aVL0s.g5iezXE0I_2gzi5vo1Acig";
    const JWCRYPTO_A128GCM: &str = "eyJhbGciOiJFQ0RILUVTIiwiZW5jIjoiQTEyOEdDTSIsImVwayI6eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVDIiwieCI6IjRRQU9lSUZqdmhEUWZuU1FhSE8tbUxNLTBtZHhHaU5KektnUXFQcGpwaWMiLCJ5IjoiMUhWSWNCRXdDaFI0cFFmVFhqR1NHcjVFN1c0a0diUHJ0cUxIUjNicHpZRSJ9fQ..RTKaaPXxiMWD_h8L.OqHm-x_dW3qKX4qWSPwnkd-Jddw.mh2BG03ZNhXHpUWNKkmT3A";

    #[test]
    fn decrypts_jwes_made_by_jwcrypto() {
        let bob = key(BOB_D);
        let (header, plaintext) = decrypt(JWCRYPTO_A256GCM, &bob, MAX).unwrap();
        assert_eq!(plaintext, br#"{"state":"jwcrypto"}"#);
        assert_eq!(
            (&header["enc"], &header["kid"]),
            (&json!("A256GCM"), &json!("rp"))
        );
        let (header, plaintext) = decrypt(JWCRYPTO_A128GCM, &bob, MAX).unwrap();
        assert_eq!(plaintext, br#"{"state":"jwcrypto"}"#);
        assert_eq!(header["enc"], "A128GCM");
        assert_eq!(
            decrypt(JWCRYPTO_A128GCM, &key(ALICE_D), MAX),
            Err(JweError::Decryption)
        );
    }

    #[test]
    fn another_recipients_key_fails() {
        let (_, compact) = fresh(b"secret", ContentEncryption::A256Gcm);
        let other = EcdhPrivateKey::generate().unwrap();

        assert_eq!(decrypt(&compact, &other, MAX), Err(JweError::Decryption));
    }

    /// A new recipient key and a JWE of `plaintext` encrypted to it.
    fn fresh(plaintext: &[u8], enc: ContentEncryption) -> (EcdhPrivateKey, String) {
        let recipient = EcdhPrivateKey::generate().unwrap();
        let compact = encrypt(plaintext, recipient.public_jwk(), enc, &Map::new()).unwrap();
        (recipient, compact)
    }

    /// `compact` with one base64url part's decoded bytes changed by `change`.
    fn tamper(compact: &str, part: usize, change: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut parts = split(compact);
        let mut bytes = b64(&parts[part]);
        change(&mut bytes);
        parts[part] = base64url::encode(bytes);
        parts.join(".")
    }

    #[test]
    fn tampering_is_refused() {
        let recipient = EcdhPrivateKey::generate().unwrap();
        let extra = headers(json!({"kid": "k"}));
        let compact = encrypt(
            b"the presentation",
            recipient.public_jwk(),
            ContentEncryption::A128Gcm,
            &extra,
        )
        .unwrap();
        for part in [2, 3, 4] {
            let changed = tamper(&compact, part, |bytes| bytes[0] ^= 1);
            assert_eq!(
                decrypt(&changed, &recipient, MAX),
                Err(JweError::Decryption),
                "{part}"
            );
        }
        // A changed header member (still valid JSON) changes the AAD.
        let mut header: Value = serde_json::from_slice(&b64(&split(&compact)[0])).unwrap();
        header["kid"] = json!("l");
        let mut parts = split(&compact);
        parts[0] = base64url::encode(serde_json::to_vec(&header).unwrap());
        assert_eq!(
            decrypt(&parts.join("."), &recipient, MAX),
            Err(JweError::Decryption)
        );
        // A truncated ciphertext, and a different ephemeral key.
        let shorter = tamper(&compact, 3, |bytes| {
            bytes.pop();
        });
        assert_eq!(
            decrypt(&shorter, &recipient, MAX),
            Err(JweError::Decryption)
        );
        header["kid"] = json!("k");
        header["epk"] = EcdhPrivateKey::generate().unwrap().public_jwk().to_value();
        parts[0] = base64url::encode(serde_json::to_vec(&header).unwrap());
        assert_eq!(
            decrypt(&parts.join("."), &recipient, MAX),
            Err(JweError::Decryption)
        );
    }

    #[test]
    fn wrong_iv_and_tag_lengths_are_refused() {
        let (recipient, compact) = fresh(b"m", ContentEncryption::A128Gcm);

        let long_iv = tamper(&compact, 2, |iv| iv.push(0));
        assert_eq!(decrypt(&long_iv, &recipient, MAX), Err(JweError::InvalidIv));
        let short_iv = tamper(&compact, 2, |iv| iv.truncate(8));
        assert_eq!(
            decrypt(&short_iv, &recipient, MAX),
            Err(JweError::InvalidIv)
        );
        let short_tag = tamper(&compact, 4, |tag| tag.truncate(12));
        assert_eq!(
            decrypt(&short_tag, &recipient, MAX),
            Err(JweError::InvalidTag)
        );
        let long_tag = tamper(&compact, 4, |tag| tag.push(0));
        assert_eq!(
            decrypt(&long_tag, &recipient, MAX),
            Err(JweError::InvalidTag)
        );
        // The right length but not base64url.
        let mut parts = split(&compact);
        parts[2] = "================".into();
        assert_eq!(
            decrypt(&parts.join("."), &recipient, MAX),
            Err(JweError::InvalidIv)
        );
    }

    /// A JWE whose protected header is `header` (the rest is a well-formed A128GCM JWE).
    fn with_header(header: Value, encrypted_key: &str) -> String {
        let (_, compact) = fresh(b"m", ContentEncryption::A128Gcm);

        let mut parts = split(&compact);
        parts[0] = base64url::encode(serde_json::to_vec(&header).unwrap());
        parts[1] = encrypted_key.into();
        parts.join(".")
    }

    #[test]
    fn other_algorithms_and_headers_are_refused() {
        use JweError as E;
        let bob = key(BOB_D);
        let base = json!({"alg": "ECDH-ES", "enc": "A128GCM", "epk": alice_epk()});
        // (header member, its new value or `None` to remove it, encrypted key, expected error)
        let cases: [(&str, Option<Value>, &str, JweError); 14] = [
            (
                "alg",
                Some(json!("RSA-OAEP")),
                "AAAA",
                E::UnsupportedAlgorithm,
            ),
            ("alg", Some(json!("dir")), "", E::UnsupportedAlgorithm),
            (
                "alg",
                Some(json!("ECDH-ES+A128KW")),
                "AAAA",
                E::UnsupportedAlgorithm,
            ),
            ("alg", Some(json!("none")), "", E::UnsupportedAlgorithm),
            ("alg", Some(json!(1)), "", E::MissingHeader("alg")),
            (
                "enc",
                Some(json!("A128CBC-HS256")),
                "",
                E::UnsupportedEncryption,
            ),
            ("enc", Some(json!("a128gcm")), "", E::UnsupportedEncryption),
            ("enc", None, "", E::MissingHeader("enc")),
            (
                "crit",
                Some(json!(["exp"])),
                "",
                E::UnsupportedHeader("crit"),
            ),
            ("zip", Some(json!("DEF")), "", E::UnsupportedHeader("zip")),
            ("kid", Some(json!("k")), "AAAA", E::EncryptedKeyPresent),
            ("epk", None, "", E::MissingHeader("epk")),
            ("apu", Some(json!(5)), "", E::InvalidPartyInfo("apu")),
            ("apv", Some(json!("Qm9i=")), "", E::InvalidPartyInfo("apv")),
        ];
        for (member, value, encrypted_key, expected) in cases {
            let mut header = base.clone();
            let object = header.as_object_mut().unwrap();
            match value {
                Some(value) => object.insert(member.into(), value),
                None => object.remove(member),
            };
            let compact = with_header(header, encrypted_key);
            assert_eq!(decrypt(&compact, &bob, MAX), Err(expected), "{member}");
        }
        // Repeated header members are refused by the strict JSON parser.
        let mut parts = split(&with_header(base.clone(), ""));
        parts[0] =
            base64url::encode(br#"{"alg":"ECDH-ES","enc":"A128GCM","enc":"A256GCM","epk":{}}"#);
        assert_eq!(
            decrypt(&parts.join("."), &bob, MAX),
            Err(JweError::Header(JsonError::DuplicateMember))
        );
    }

    #[test]
    fn ephemeral_keys_off_the_curve_are_refused() {
        let bob = key(BOB_D);
        let base = json!({"alg": "ECDH-ES", "enc": "A128GCM", "epk": alice_epk()});
        let case = |epk: Value| {
            let mut header = base.clone();
            header["epk"] = epk;
            decrypt(&with_header(header, ""), &bob, MAX).unwrap_err()
        };
        // Alice's x with y changed: a point of another curve (y² = x³ - 3x + b' for some b'),
        // the classic invalid-curve attack.
        let mut off = alice_epk();
        let mut y = b64(ALICE_Y);
        y[31] ^= 1;
        off["y"] = json!(base64url::encode(&y));
        assert_eq!(
            case(off),
            JweError::InvalidEphemeralKey(JwkError::NotOnCurve)
        );
        let zero = json!({"kty": "EC", "crv": "P-256", "x": base64url::encode([0u8; 32]),
            "y": base64url::encode([0u8; 32])});
        assert_eq!(
            case(zero),
            JweError::InvalidEphemeralKey(JwkError::NotOnCurve)
        );
        let mut p384 = alice_epk();
        p384["crv"] = json!("P-384");
        assert_eq!(
            case(p384),
            JweError::InvalidEphemeralKey(JwkError::UnsupportedCurve)
        );
        let mut with_d = alice_epk();
        with_d["d"] = json!(ALICE_D);
        assert_eq!(
            case(with_d),
            JweError::InvalidEphemeralKey(JwkError::PrivateKeyMaterial)
        );
        assert_eq!(
            case(json!({"kty": "OKP", "crv": "X25519", "x": ALICE_X})),
            JweError::InvalidEphemeralKey(JwkError::UnsupportedKeyType)
        );
        assert_eq!(
            case(json!("epk")),
            JweError::InvalidEphemeralKey(JwkError::Json(JsonError::NotAnObject))
        );
    }

    #[test]
    fn encrypt_refuses_reserved_and_malformed_extra_headers() {
        let recipient = EcdhPrivateKey::generate().unwrap();
        let cases = ["alg", "enc", "epk", "crit", "zip"]
            .map(|name| (json!({ name: "x" }), JweError::ReservedHeader(name)));
        let malformed = (
            json!({"apu": "not base64!"}),
            JweError::InvalidPartyInfo("apu"),
        );
        for (extra, expected) in cases.into_iter().chain([malformed]) {
            let extra = headers(extra);
            let result = encrypt(
                b"m",
                recipient.public_jwk(),
                ContentEncryption::A128Gcm,
                &extra,
            );
            assert_eq!(result, Err(expected));
        }
    }

    #[test]
    fn oversized_and_malformed_input_is_refused() {
        let (recipient, compact) = fresh(&[0u8; 1000], ContentEncryption::A128Gcm);
        assert_eq!(decrypt(&compact, &recipient, 500), Err(JweError::TooLarge));
        assert!(decrypt(&compact, &recipient, compact.len()).is_ok());
        let huge = "a".repeat(10 * 1024 * 1024);
        assert_eq!(decrypt(&huge, &recipient, MAX), Err(JweError::TooLarge));
        for text in ["", "....", "a.b.c.d", "a.b.c.d.e.f", "......"] {
            assert!(decrypt(text, &recipient, MAX).is_err(), "{text}");
        }
        assert_eq!(
            decrypt("a.b.c.d", &recipient, MAX),
            Err(JweError::Malformed)
        );
        assert_eq!(
            decrypt("....", &recipient, MAX),
            Err(JweError::Header(JsonError::Syntax))
        );
        assert_eq!(decrypt("+.....", &recipient, MAX), Err(JweError::Malformed));
        assert_eq!(
            decrypt("+....", &recipient, MAX),
            Err(JweError::Base64("header"))
        );
        let mut parts = split(&compact);
        parts[3] = "!".into();
        assert_eq!(
            decrypt(&parts.join("."), &recipient, MAX),
            Err(JweError::Base64("ciphertext"))
        );
    }

    #[test]
    fn garbage_never_panics() {
        let recipient = key(BOB_D);
        let valid = appendix_c_jwe(b"payload");
        let alphabet = b"AZaz09-_.=+/ ~\x00";
        let mut x = 0x9e37_79b9u32;
        let mut next = move || {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            x >> 8
        };
        for round in 0..3000 {
            let mut text: Vec<u8> = if round % 2 == 0 {
                valid.as_bytes().to_vec()
            } else {
                (0..(next() % 120))
                    .map(|_| alphabet[next() as usize % alphabet.len()])
                    .collect()
            };
            for _ in 0..(next() % 4) {
                if text.is_empty() {
                    break;
                }
                let at = next() as usize % text.len();
                text[at] = alphabet[next() as usize % alphabet.len()];
            }
            let text = String::from_utf8_lossy(&text);
            let _ = decrypt(&text, &recipient, MAX);
        }
    }
}
