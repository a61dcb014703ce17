//! Token Status List (IETF OAuth "Token Status List"): the compressed bitstring in which an
//! issuer publishes whether each of its credentials is valid, revoked or suspended.
//!
//! Owns: the `status_list` object (`bits` and `lst`, the base64url of zlib-compressed bytes) in
//! both directions: [`StatusList::decode`] and [`StatusList::status`] for wallets and verifiers,
//! [`StatusList::new`], [`StatusList::set`] and [`StatusList::encode`] for an issuer (the
//! sandbox), and the `statuslist+jwt` token around it ([`StatusListToken::sign`] for an issuer,
//! [`StatusListToken::verify`] for a wallet: `typ`, the issuer key named by `kid`, `sub` equal to
//! the URI the credential referenced, `exp`, and the `ttl` for caching), plus the `status` claim a
//! credential carries ([`StatusClaim`]). Pure and I/O-free. Bounded before decoding and before
//! decompression; every failure is a typed [`StatusListError`]. Does not own which issuer keys to
//! trust (the caller's `key_lookup`) nor fetching and caching the token.
//!
//! Layout (as the draft specifies): entry `i` occupies `bits` bits starting at bit `i * bits`,
//! counted from the least significant bit of the first byte.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::jose::{EcPublicJwk, Jws, JwsError, JwsSigner, sign_compact};

/// The most entries a list may hold (the draft recommends lists of at least 16k entries for
/// herd privacy; 2^24 entries of 8 bits is 16 MiB, the cap on the inflated size below).
pub const MAX_INFLATED_BYTES: usize = 16 * 1024 * 1024;
/// The longest `lst` text accepted before decoding.
pub const MAX_LST_CHARS: usize = 4 * 1024 * 1024;

/// The longest status list token accepted before decoding: room for the longest `lst` in
/// base64url once more, plus the other claims and the header.
pub const MAX_TOKEN_LEN: usize = MAX_LST_CHARS / 3 * 4 + 64 * 1024;
/// The JWS `typ` of a status list token.
pub const STATUS_LIST_JWT_TYP: &str = "statuslist+jwt";
/// How far the issuer's and the verifier's clocks may disagree about `iat` and `exp`, in seconds.
pub const CLOCK_SKEW_SECS: i64 = 60;

/// The registered status values.
pub const VALID: u8 = 0;
pub const INVALID: u8 = 1;
pub const SUSPENDED: u8 = 2;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusListError {
    #[error("bits must be 1, 2, 4 or 8")]
    Bits,
    #[error("the list is larger than this SDK accepts")]
    TooLarge,
    #[error("lst is not base64url")]
    Base64,
    #[error("lst is not valid zlib data")]
    Compression,
    #[error("index {index} is beyond the list's {size} entries")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("the value does not fit in the list's bits")]
    ValueTooWide,
    #[error("the status list token is {len} bytes, more than the {max}-byte limit")]
    TokenTooLarge { len: usize, max: usize },
    #[error("the status list token is refused: {0}")]
    Token(JwsError),
    #[error("the status list token has no `kid`")]
    MissingKid,
    #[error("the status list token's `kid` names no key of its issuer")]
    UnknownKey,
    #[error("the status list token lacks the claim `{0}` or it has the wrong type")]
    Claim(&'static str),
    #[error("the status list token is for another list (`sub` differs from the referenced URI)")]
    SubjectMismatch,
    #[error("the status list token has expired")]
    Expired,
    #[error("the status list token was issued in the future")]
    IssuedInFuture,
    #[error("signing the status list token failed: {0}")]
    Signing(JwsError),
}

/// The JSON object as it appears in a status list token's `status_list` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncodedStatusList {
    pub bits: u8,
    pub lst: String,
}

/// A decoded list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: u8,
    bytes: Vec<u8>,
}

impl StatusList {
    /// An all-`VALID` list of at least `size` entries.
    pub fn new(bits: u8, size: u64) -> Result<Self, StatusListError> {
        check_bits(bits)?;
        let length = size
            .checked_mul(u64::from(bits))
            .map(|b| b.div_ceil(8))
            .filter(|length| *length <= MAX_INFLATED_BYTES as u64)
            .ok_or(StatusListError::TooLarge)?;
        Ok(Self {
            bits,
            bytes: vec![0; length as usize],
        })
    }

    pub fn decode(encoded: &EncodedStatusList) -> Result<Self, StatusListError> {
        check_bits(encoded.bits)?;
        if encoded.lst.len() > MAX_LST_CHARS {
            return Err(StatusListError::TooLarge);
        }
        let compressed = URL_SAFE_NO_PAD
            .decode(&encoded.lst)
            .map_err(|_| StatusListError::Base64)?;
        let mut bytes = Vec::new();
        flate2::read::ZlibDecoder::new(compressed.as_slice())
            .take(MAX_INFLATED_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| StatusListError::Compression)?;
        if bytes.len() > MAX_INFLATED_BYTES {
            return Err(StatusListError::TooLarge);
        }
        Ok(Self {
            bits: encoded.bits,
            bytes,
        })
    }

    pub fn encode(&self) -> EncodedStatusList {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        // Writing to a Vec cannot fail.
        let compressed = encoder
            .write_all(&self.bytes)
            .and_then(|()| encoder.finish())
            .unwrap_or_default();
        EncodedStatusList {
            bits: self.bits,
            lst: URL_SAFE_NO_PAD.encode(compressed),
        }
    }

    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// How many entries the list holds.
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64 * 8 / u64::from(self.bits)
    }

    /// The status of entry `index`.
    pub fn status(&self, index: u64) -> Result<u8, StatusListError> {
        let (byte, shift) = self.position(index)?;
        Ok((self.bytes[byte] >> shift) & self.mask())
    }

    pub fn set(&mut self, index: u64, value: u8) -> Result<(), StatusListError> {
        if value > self.mask() {
            return Err(StatusListError::ValueTooWide);
        }
        let (byte, shift) = self.position(index)?;
        self.bytes[byte] = (self.bytes[byte] & !(self.mask() << shift)) | (value << shift);
        Ok(())
    }

    fn mask(&self) -> u8 {
        ((1u16 << self.bits) - 1) as u8
    }

    fn position(&self, index: u64) -> Result<(usize, u32), StatusListError> {
        let size = self.size();
        if index >= size {
            return Err(StatusListError::IndexOutOfRange { index, size });
        }
        let bit = index * u64::from(self.bits);
        Ok(((bit / 8) as usize, (bit % 8) as u32))
    }
}

/// The `status` claim of a referenced token (a credential): where its entry is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusClaim {
    pub status_list: StatusListReference,
}

/// An entry of a status list: index `idx` in the list at `uri`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusListReference {
    pub idx: u64,
    pub uri: String,
}

/// The `statuslist+jwt` token: a [`StatusList`] signed by its issuer.
#[derive(Debug, Clone, Copy)]
pub struct StatusListToken;

/// A verified status list token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedStatusList {
    pub list: StatusList,
    /// The list's URI (equal to the one the caller expected).
    pub sub: String,
    /// The `kid` of the key that verified it.
    pub kid: String,
    pub iat: i64,
    pub exp: Option<i64>,
    /// How long, in seconds, the list may be cached before fetching it again.
    pub ttl: Option<u64>,
}

impl StatusListToken {
    /// Signs `list` as a `statuslist+jwt`: header `{"alg":"ES256","typ":"statuslist+jwt","kid"}`,
    /// claims `sub` (the list's URI), `iat`, `exp` and `ttl` when given, `status_list {bits, lst}`.
    #[allow(clippy::too_many_arguments)]
    pub fn sign(
        signer: &dyn JwsSigner,
        kid: &str,
        sub: &str,
        iat: i64,
        exp: Option<i64>,
        ttl: Option<u64>,
        list: &StatusList,
    ) -> Result<String, StatusListError> {
        let mut header = Map::new();
        header.insert("typ".into(), Value::from(STATUS_LIST_JWT_TYP));
        header.insert("kid".into(), Value::from(kid));
        let encoded = list.encode();
        let mut status_list = Map::new();
        status_list.insert("bits".into(), Value::from(encoded.bits));
        status_list.insert("lst".into(), Value::from(encoded.lst));
        let mut claims = Map::new();
        claims.insert("sub".into(), Value::from(sub));
        claims.insert("iat".into(), Value::from(iat));
        if let Some(exp) = exp {
            claims.insert("exp".into(), Value::from(exp));
        }
        if let Some(ttl) = ttl {
            claims.insert("ttl".into(), Value::from(ttl));
        }
        claims.insert("status_list".into(), Value::Object(status_list));
        let payload = Value::Object(claims).to_string();
        sign_compact(&header, payload.as_bytes(), signer).map_err(StatusListError::Signing)
    }

    /// Verifies a status list token: bounded by [`MAX_TOKEN_LEN`], `typ` `statuslist+jwt`, ES256
    /// with the key `key_lookup` returns for its `kid` (the issuer's keys, from the trust list),
    /// `sub` equal to `expected_sub` (the URI the credential referenced), `iat` not in the future
    /// and `exp`, when present, not passed (both with [`CLOCK_SKEW_SECS`] of leeway), and a
    /// decodable `status_list`.
    pub fn verify(
        jws: &str,
        key_lookup: impl Fn(&str) -> Option<EcPublicJwk>,
        expected_sub: &str,
        now: i64,
    ) -> Result<VerifiedStatusList, StatusListError> {
        if jws.len() > MAX_TOKEN_LEN {
            return Err(StatusListError::TokenTooLarge {
                len: jws.len(),
                max: MAX_TOKEN_LEN,
            });
        }
        let token = Jws::parse(jws, MAX_TOKEN_LEN).map_err(StatusListError::Token)?;
        token
            .check_typ(STATUS_LIST_JWT_TYP)
            .map_err(StatusListError::Token)?;
        let kid = token.header().kid().ok_or(StatusListError::MissingKid)?;
        let key = key_lookup(kid).ok_or(StatusListError::UnknownKey)?;
        token.verify(&key).map_err(StatusListError::Token)?;
        let claims = token.claims().map_err(StatusListError::Token)?;

        let sub = match claims.get("sub") {
            Some(Value::String(sub)) => sub,
            _ => return Err(StatusListError::Claim("sub")),
        };
        let iat = claims
            .get("iat")
            .and_then(Value::as_i64)
            .ok_or(StatusListError::Claim("iat"))?;
        let exp = match claims.get("exp") {
            None => None,
            Some(exp) => Some(exp.as_i64().ok_or(StatusListError::Claim("exp"))?),
        };
        let ttl = match claims.get("ttl") {
            None => None,
            Some(ttl) => Some(ttl.as_u64().ok_or(StatusListError::Claim("ttl"))?),
        };
        let encoded: EncodedStatusList = claims
            .get("status_list")
            .and_then(|value| serde_json::from_value(value.clone()).ok())
            .ok_or(StatusListError::Claim("status_list"))?;
        if sub != expected_sub {
            return Err(StatusListError::SubjectMismatch);
        }
        if iat > now.saturating_add(CLOCK_SKEW_SECS) {
            return Err(StatusListError::IssuedInFuture);
        }
        if exp.is_some_and(|exp| exp.saturating_add(CLOCK_SKEW_SECS) <= now) {
            return Err(StatusListError::Expired);
        }
        let list = StatusList::decode(&encoded)?;
        Ok(VerifiedStatusList {
            list,
            sub: sub.clone(),
            kid: kid.to_owned(),
            iat,
            exp,
            ttl,
        })
    }
}

fn check_bits(bits: u8) -> Result<(), StatusListError> {
    match bits {
        1 | 2 | 4 | 8 => Ok(()),
        _ => Err(StatusListError::Bits),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(bits: u8, lst: &str) -> EncodedStatusList {
        EncodedStatusList {
            bits,
            lst: lst.into(),
        }
    }

    /// The draft's own examples (section "Status List"): byte arrays `b9 a3` (1 bit) and
    /// `c9 44 f9` (2 bits), compressed.
    #[test]
    fn the_drafts_examples_decode_to_their_statuses() {
        let one_bit = StatusList::decode(&encoded(1, "eNrbuRgAAhcBXQ")).unwrap();
        let statuses: Vec<u8> = (0..16).map(|i| one_bit.status(i).unwrap()).collect();
        assert_eq!(statuses, [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]);

        let two_bits = StatusList::decode(&encoded(2, "eNo76fITAAPfAgc")).unwrap();
        let statuses: Vec<u8> = (0..12).map(|i| two_bits.status(i).unwrap()).collect();
        assert_eq!(statuses, [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]);
        assert_eq!(
            two_bits.status(12),
            Err(StatusListError::IndexOutOfRange {
                index: 12,
                size: 12
            })
        );
    }

    #[test]
    fn an_issuers_list_round_trips() {
        for bits in [1u8, 2, 4, 8] {
            let mut list = StatusList::new(bits, 20_000).unwrap();
            assert!(list.size() >= 20_000);
            list.set(7, INVALID).unwrap();
            list.set(19_999, 1).unwrap();
            if bits >= 2 {
                list.set(8, SUSPENDED).unwrap();
            } else {
                assert_eq!(list.set(8, SUSPENDED), Err(StatusListError::ValueTooWide));
            }
            let decoded = StatusList::decode(&list.encode()).unwrap();
            assert_eq!(decoded, list);
            assert_eq!(decoded.status(7).unwrap(), INVALID);
            assert_eq!(decoded.status(6).unwrap(), VALID);
            assert_eq!(decoded.status(19_999).unwrap(), 1);
            list.set(7, VALID).unwrap();
            assert_eq!(list.status(7).unwrap(), VALID, "suspension can be lifted");
        }
    }

    #[test]
    fn hostile_lists_are_typed_errors() {
        assert_eq!(
            StatusList::decode(&encoded(3, "eNrbuRgAAhcBXQ")),
            Err(StatusListError::Bits)
        );
        assert_eq!(
            StatusList::decode(&encoded(1, "not base64!")),
            Err(StatusListError::Base64)
        );
        assert_eq!(
            StatusList::decode(&encoded(1, "AAAA")),
            Err(StatusListError::Compression)
        );
        assert_eq!(StatusList::new(8, u64::MAX), Err(StatusListError::TooLarge));
        // A zip bomb: 17 MiB of zeros compresses to a few kilobytes.
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        encoder
            .write_all(&vec![0u8; MAX_INFLATED_BYTES + 1024 * 1024])
            .unwrap();
        let bomb = URL_SAFE_NO_PAD.encode(encoder.finish().unwrap());
        assert!(bomb.len() < 64 * 1024);
        assert_eq!(
            StatusList::decode(&encoded(1, &bomb)),
            Err(StatusListError::TooLarge)
        );
    }

    // --- the statuslist+jwt token ---------------------------------------------------------

    use crate::jose::{SoftwareSigner, base64url};
    use serde_json::json;

    const URI: &str = "https://127.0.0.1:8443/v1/status-lists/1";
    const NOW: i64 = 1_800_000_000;

    fn issuer_list() -> StatusList {
        let mut list = StatusList::new(2, 16 * 1024).unwrap();
        list.set(3, INVALID).unwrap();
        list.set(4, SUSPENDED).unwrap();
        list
    }

    fn lookup(signer: &SoftwareSigner) -> impl Fn(&str) -> Option<EcPublicJwk> + '_ {
        move |kid| (kid == "issuer-1").then(|| signer.public_key().clone())
    }

    fn token_with(signer: &SoftwareSigner, header: Value, claims: Value) -> String {
        let (Value::Object(header), payload) = (header, claims.to_string()) else {
            panic!("header must be an object");
        };
        sign_compact(&header, payload.as_bytes(), signer).unwrap()
    }

    #[test]
    fn a_signed_list_verifies_with_its_issuers_key() {
        let signer = SoftwareSigner::generate().unwrap();
        let list = issuer_list();
        let token = StatusListToken::sign(
            &signer,
            "issuer-1",
            URI,
            NOW,
            Some(NOW + 86_400),
            Some(300),
            &list,
        )
        .unwrap();
        let jws = Jws::parse(&token, MAX_TOKEN_LEN).unwrap();
        assert_eq!(jws.header().typ(), Some("statuslist+jwt"));
        assert_eq!(jws.header().kid(), Some("issuer-1"));
        let claims = jws.claims().unwrap();
        assert_eq!(claims["status_list"]["bits"], json!(2));

        let verified = StatusListToken::verify(&token, lookup(&signer), URI, NOW + 10).unwrap();
        assert_eq!(verified.list, list);
        assert_eq!(verified.list.status(3).unwrap(), INVALID);
        assert_eq!(verified.list.status(4).unwrap(), SUSPENDED);
        assert_eq!(verified.list.status(5).unwrap(), VALID);
        assert_eq!(verified.sub, URI);
        assert_eq!(verified.kid, "issuer-1");
        assert_eq!(
            (verified.iat, verified.exp, verified.ttl),
            (NOW, Some(NOW + 86_400), Some(300))
        );

        // `exp` and `ttl` are optional.
        let bare = StatusListToken::sign(&signer, "issuer-1", URI, NOW, None, None, &list).unwrap();
        let verified = StatusListToken::verify(&bare, lookup(&signer), URI, NOW + 10).unwrap();
        assert_eq!((verified.exp, verified.ttl), (None, None));
    }

    #[test]
    fn tampered_foreign_expired_and_misdirected_tokens_are_refused() {
        let signer = SoftwareSigner::generate().unwrap();
        let other = SoftwareSigner::generate().unwrap();
        let list = issuer_list();
        let good = StatusListToken::sign(
            &signer,
            "issuer-1",
            URI,
            NOW,
            Some(NOW + 3_600),
            None,
            &list,
        )
        .unwrap();

        // Revocations erased: the payload says "all valid" but keeps the old signature.
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        let clean = StatusList::new(2, 16 * 1024).unwrap().encode();
        parts[1] = base64url::encode(
            json!({"sub": URI, "iat": NOW, "exp": NOW + 3_600,
                   "status_list": {"bits": 2, "lst": clean.lst}})
            .to_string(),
        );
        let tampered = parts.join(".");
        let header = json!({"typ": "statuslist+jwt", "kid": "issuer-1"});
        let claims = |sub: &str| json!({"sub": sub, "iat": NOW, "status_list": {"bits": 2, "lst": list.encode().lst}});
        let cases = [
            (
                "tampered payload",
                tampered,
                StatusListError::Token(JwsError::BadSignature),
            ),
            (
                "signed by another key under the issuer's kid",
                StatusListToken::sign(&other, "issuer-1", URI, NOW, None, None, &list).unwrap(),
                StatusListError::Token(JwsError::BadSignature),
            ),
            (
                "another list's token",
                StatusListToken::sign(
                    &signer,
                    "issuer-1",
                    &format!("{URI}0"),
                    NOW,
                    None,
                    None,
                    &list,
                )
                .unwrap(),
                StatusListError::SubjectMismatch,
            ),
            (
                "unknown kid",
                StatusListToken::sign(&signer, "issuer-2", URI, NOW, None, None, &list).unwrap(),
                StatusListError::UnknownKey,
            ),
            (
                "no kid",
                token_with(&signer, json!({"typ": "statuslist+jwt"}), claims(URI)),
                StatusListError::MissingKid,
            ),
            (
                "wrong typ",
                token_with(
                    &signer,
                    json!({"typ": "JWT", "kid": "issuer-1"}),
                    claims(URI),
                ),
                StatusListError::Token(JwsError::TypMismatch),
            ),
            (
                "expired",
                StatusListToken::sign(
                    &signer,
                    "issuer-1",
                    URI,
                    NOW - 7_200,
                    Some(NOW - CLOCK_SKEW_SECS),
                    None,
                    &list,
                )
                .unwrap(),
                StatusListError::Expired,
            ),
            (
                "issued in the future",
                StatusListToken::sign(&signer, "issuer-1", URI, NOW + 3_600, None, None, &list)
                    .unwrap(),
                StatusListError::IssuedInFuture,
            ),
            (
                "no sub",
                token_with(
                    &signer,
                    header.clone(),
                    json!({"iat": NOW, "status_list": {"bits": 1, "lst": "eNrbuRgAAhcBXQ"}}),
                ),
                StatusListError::Claim("sub"),
            ),
            (
                "no status_list",
                token_with(&signer, header.clone(), json!({"sub": URI, "iat": NOW})),
                StatusListError::Claim("status_list"),
            ),
            (
                "negative ttl",
                token_with(
                    &signer,
                    header.clone(),
                    json!({"sub": URI, "iat": NOW, "ttl": -1,
                    "status_list": {"bits": 1, "lst": "eNrbuRgAAhcBXQ"}}),
                ),
                StatusListError::Claim("ttl"),
            ),
            (
                "bits 3",
                token_with(
                    &signer,
                    header.clone(),
                    json!({"sub": URI, "iat": NOW,
                    "status_list": {"bits": 3, "lst": "eNrbuRgAAhcBXQ"}}),
                ),
                StatusListError::Bits,
            ),
        ];
        for (what, token, expected) in cases {
            assert_eq!(
                StatusListToken::verify(&token, lookup(&signer), URI, NOW),
                Err(expected),
                "{what}"
            );
        }
        let huge = "A".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(
            StatusListToken::verify(&huge, lookup(&signer), URI, NOW),
            Err(StatusListError::TokenTooLarge {
                len: MAX_TOKEN_LEN + 1,
                max: MAX_TOKEN_LEN
            })
        );
    }

    #[test]
    fn the_status_claim_has_the_drafts_shape() {
        let claim = StatusClaim {
            status_list: StatusListReference {
                idx: 7,
                uri: URI.into(),
            },
        };
        assert_eq!(
            serde_json::to_value(&claim).unwrap(),
            json!({"status_list": {"idx": 7, "uri": URI}})
        );
    }
}
