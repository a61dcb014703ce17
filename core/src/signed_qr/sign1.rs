//! COSE_Sign1 (RFC 9052 §4.2) with ES256 (and PS256 for verification): signing, and strict
//! verification with a key the caller supplies; the key decides the algorithm. `coset` builds the structures and the Sig_structure; this file decides what is
//! acceptable.

use ciborium::Value;
use coset::iana::{self, EnumI64};
use coset::{
    AsCborValue, CoseSign1, CoseSign1Builder, HeaderBuilder, RegisteredLabelWithPrivate,
    TaggedCborSerializable,
};

use super::{KeyLookup, MAX_CBOR_DEPTH, MAX_COSE_BYTES, SignedQrError, VerifyingKey, cbor};
use crate::jose::{JwsSigner, signature_to_raw, verify_es256};

/// The CBOR tag of a COSE_Sign1 (RFC 9052 §2): optional on the wire.
const TAG_SIGN1: u64 = 18;
/// The CWT tag (RFC 8392 §6), allowed only around a tagged COSE_Sign1; no other tag is.
const TAG_CWT: u64 = 61;
/// An ES256 signature: raw `r‖s` (RFC 9053 §2.1), as in JOSE.
const ES256_SIGNATURE_BYTES: usize = 64;
/// Header labels (RFC 9052 §3.1).
const LABEL_ALG: i64 = 1;
const LABEL_CRIT: i64 = 2;
const LABEL_KID: i64 = 4;

/// Where the key id may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KidLocation {
    /// Only in the protected header, covered by the signature (what this SDK mints).
    Protected,
    /// In the protected header, or else in the unprotected one (RFC 9052 allows either; EU DCCs
    /// and the COSE examples use both), never in both.
    ProtectedOrUnprotected,
    /// As [`KidLocation::ProtectedOrUnprotected`], and a key id in both headers is allowed, the
    /// protected one chosen: the EU DCC rule (its test data has such codes that must verify),
    /// an exception to RFC 9052 §3's refusal of a label in both.
    ProtectedOverUnprotected,
    /// Not required: read from either header when there is one; without one the lookup is asked
    /// with none, which an explicit key answers and a lookup by kid does not (RFC 8392's
    /// examples carry no key id).
    Optional,
}

/// What verification may accept beyond the signature itself.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions<'a> {
    /// Application data bound into the signature (RFC 9052 §4.3); empty for QR codes.
    pub external_aad: &'a [u8],
    pub kid: KidLocation,
}

impl Default for VerifyOptions<'_> {
    fn default() -> Self {
        Self {
            external_aad: &[],
            kid: KidLocation::Protected,
        }
    }
}

/// A COSE_Sign1 whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSign1 {
    /// The key id the message named (`None` only under [`KidLocation::Optional`]).
    pub kid: Option<Vec<u8>>,
    /// The signed payload, not yet interpreted.
    pub payload: Vec<u8>,
}

/// A tagged COSE_Sign1 of `payload` with `alg` ES256 and `kid` in the protected header, signed
/// by `signer` (a DER or raw signature is normalised to the raw `r‖s` COSE requires).
pub fn sign(payload: &[u8], kid: &[u8], signer: &dyn JwsSigner) -> Result<Vec<u8>, SignedQrError> {
    if kid.is_empty() {
        return Err(SignedQrError::MissingKid);
    }
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::ES256)
        .key_id(kid.to_vec())
        .build();
    let message = CoseSign1Builder::new()
        .protected(protected)
        .payload(payload.to_vec())
        .try_create_signature(&[], |tbs| {
            let signature = signer.sign(tbs).map_err(SignedQrError::Signer)?;
            signature_to_raw(&signature)
                .map(|raw| raw.to_vec())
                .map_err(|_| SignedQrError::SignerOutput)
        })?
        .build();
    let bytes = message
        .to_tagged_vec()
        .map_err(|_| SignedQrError::MalformedCose)?;
    if bytes.len() > MAX_COSE_BYTES {
        return Err(SignedQrError::TooLarge);
    }
    Ok(bytes)
}

/// Verifies a COSE_Sign1 (tagged 18, tagged 18 inside the CWT tag 61, or untagged) with ES256
/// or PS256 and a key from `keys`, whose type must be the message's `alg`.
///
/// Refused, each with its own [`SignedQrError`]: more than [`MAX_COSE_BYTES`], CBOR that is not
/// one well-formed item nested at most [`MAX_CBOR_DEPTH`] deep (the protected header too), another
/// tag, a structure that is not a COSE_Sign1, a header label in both buckets, any `crit` header,
/// no `alg` or one other than ES256 and PS256, a key id missing or where `options` do not allow
/// it, a key id `keys` does not know, a key of the other algorithm
/// ([`SignedQrError::AlgorithmKeyMismatch`]), a detached payload, and a signature that is not 64
/// bytes (ES256) or does not verify.
pub fn verify(
    bytes: &[u8],
    options: &VerifyOptions<'_>,
    keys: &dyn KeyLookup,
) -> Result<VerifiedSign1, SignedQrError> {
    let value = untagged_sign1(bytes)?;
    let alg = check_headers(&value, options.kid == KidLocation::ProtectedOverUnprotected)?;
    let mut message =
        CoseSign1::from_cbor_value(value).map_err(|_| SignedQrError::MalformedCose)?;
    if message.protected.header.is_empty() {
        // An empty protected header may be sent as a zero-length string or as an empty map
        // (`h'a0'`); the Sig_structure always holds the zero-length string (RFC 9052 §3).
        message.protected.original_data = Some(Vec::new());
    }
    let protected = &message.protected.header;
    let unprotected = &message.unprotected;
    // Already checked on the raw maps; kept against any difference in how `coset` reads them.
    if !protected.crit.is_empty() || !unprotected.crit.is_empty() {
        return Err(SignedQrError::CriticalHeader);
    }
    if protected.alg.as_ref().or(unprotected.alg.as_ref())
        != Some(&RegisteredLabelWithPrivate::Assigned(alg))
    {
        return Err(SignedQrError::UnsupportedAlgorithm);
    }
    let kid = match (
        protected.key_id.is_empty(),
        unprotected.key_id.is_empty(),
        options.kid,
    ) {
        (false, _, _) => Some(protected.key_id.clone()),
        (true, false, KidLocation::Protected) => return Err(SignedQrError::KidNotProtected),
        (true, false, _) => Some(unprotected.key_id.clone()),
        (true, true, KidLocation::Optional) => None,
        (true, true, _) => return Err(SignedQrError::MissingKid),
    };
    let payload = message
        .payload
        .as_ref()
        .ok_or(SignedQrError::DetachedPayload)?;
    let key = keys
        .key_for(kid.as_deref())
        .ok_or(SignedQrError::UnknownKey)?;
    let tbs = message.tbs_data(options.external_aad);
    let valid = match (alg, &key) {
        (iana::Algorithm::ES256, VerifyingKey::Es256(key)) => {
            let signature: &[u8; ES256_SIGNATURE_BYTES] =
                message
                    .signature
                    .as_slice()
                    .try_into()
                    .map_err(|_| SignedQrError::SignatureLength)?;
            verify_es256(key, &tbs, signature)
        }
        (iana::Algorithm::PS256, VerifyingKey::Ps256(key)) => {
            key.verify_pss_sha256(&tbs, &message.signature)
        }
        _ => return Err(SignedQrError::AlgorithmKeyMismatch),
    };
    if !valid {
        return Err(SignedQrError::SignatureInvalid);
    }
    Ok(VerifiedSign1 {
        kid,
        payload: payload.clone(),
    })
}

/// The payload of a COSE_Sign1, read without checking anything but its shape: for routing a
/// scan to the flow that will verify it (`scan::classify`), never for trusting what it says.
/// The same bounds as [`verify`] hold: size, well-formed CBOR, nesting, tags.
pub fn unverified_payload(bytes: &[u8]) -> Result<Vec<u8>, SignedQrError> {
    let Value::Array(parts) = untagged_sign1(bytes)? else {
        return Err(SignedQrError::MalformedCose);
    };
    match <[Value; 4]>::try_from(parts) {
        Ok(
            [
                Value::Bytes(_),
                Value::Map(_),
                Value::Bytes(payload),
                Value::Bytes(_),
            ],
        ) => Ok(payload),
        Ok([Value::Bytes(_), Value::Map(_), Value::Null, Value::Bytes(_)]) => {
            Err(SignedQrError::DetachedPayload)
        }
        _ => Err(SignedQrError::MalformedCose),
    }
}

/// One bounded, well-formed CBOR item, with the COSE_Sign1 tag (or the CWT tag around it)
/// taken off: the first step of [`verify`] and [`unverified_payload`] alike.
fn untagged_sign1(bytes: &[u8]) -> Result<Value, SignedQrError> {
    if bytes.len() > MAX_COSE_BYTES {
        return Err(SignedQrError::TooLarge);
    }
    cbor::check(bytes, MAX_CBOR_DEPTH).map_err(SignedQrError::Cbor)?;
    let value: Value = ciborium::from_reader(bytes).map_err(|_| SignedQrError::MalformedCose)?;
    Ok(match value {
        Value::Tag(TAG_SIGN1, inner) => *inner,
        Value::Tag(TAG_CWT, inner) => match *inner {
            Value::Tag(TAG_SIGN1, inner) => *inner,
            _ => return Err(SignedQrError::WrongTag),
        },
        Value::Tag(..) => return Err(SignedQrError::WrongTag),
        other => other,
    })
}

/// Checks the header maps before `coset` reads them, so each refusal has its own reason: the
/// protected header's bytes are bounded CBOR; no label is in both buckets (RFC 9052 §3: such a
/// message is malformed); no `crit` (2) at all, since this profile understands no extension
/// header; `alg` (1) is present and is ES256 or PS256, which it returns.
fn check_headers(value: &Value, kid_in_both: bool) -> Result<iana::Algorithm, SignedQrError> {
    let Value::Array(items) = value else {
        return Err(SignedQrError::MalformedCose);
    };
    let (Some(Value::Bytes(protected)), Some(Value::Map(unprotected))) =
        (items.first(), items.get(1))
    else {
        return Err(SignedQrError::MalformedCose);
    };
    let protected = if protected.is_empty() {
        Vec::new()
    } else {
        cbor::check(protected, MAX_CBOR_DEPTH).map_err(SignedQrError::Cbor)?;
        match ciborium::from_reader(protected.as_slice()) {
            Ok(Value::Map(map)) => map,
            _ => return Err(SignedQrError::MalformedCose),
        }
    };
    let label =
        |wanted: i64| move |(label, _): &&(Value, Value)| *label == Value::Integer(wanted.into());
    let kid = Value::Integer(LABEL_KID.into());
    if protected.iter().any(|(label, _)| {
        unprotected.iter().any(|(other, _)| other == label) && !(kid_in_both && *label == kid)
    }) {
        return Err(SignedQrError::HeaderInBothBuckets);
    }
    if protected
        .iter()
        .chain(unprotected)
        .any(|entry| label(LABEL_CRIT)(&entry))
    {
        return Err(SignedQrError::CriticalHeader);
    }
    match protected
        .iter()
        .chain(unprotected)
        .find(label(LABEL_ALG))
        .map(|(_, alg)| alg)
    {
        None => Err(SignedQrError::MissingAlgorithm),
        Some(Value::Integer(id)) => [iana::Algorithm::ES256, iana::Algorithm::PS256]
            .into_iter()
            .find(|alg| i128::from(*id) == i128::from(alg.to_i64()))
            .ok_or(SignedQrError::UnsupportedAlgorithm),
        Some(_) => Err(SignedQrError::UnsupportedAlgorithm),
    }
}

/// The COSE algorithm identifier of ES256 (-7), for callers that write headers by hand.
pub fn es256_algorithm_id() -> i64 {
    iana::Algorithm::ES256.to_i64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::{EcPublicJwk, SoftwareSigner};

    fn signer() -> SoftwareSigner {
        SoftwareSigner::from_scalar(&[7u8; 32]).unwrap()
    }

    /// A message signed by `signer()` with the given headers (protected as CBOR bytes).
    fn forged(protected: Value, unprotected: Vec<(Value, Value)>, tag: Option<u64>) -> Vec<u8> {
        let mut protected_bytes = Vec::new();
        ciborium::into_writer(&protected, &mut protected_bytes).unwrap();
        let payload = b"payload".to_vec();
        let tbs = coset::sig_structure_data(
            coset::SignatureContext::CoseSign1,
            coset::ProtectedHeader {
                original_data: Some(protected_bytes.clone()),
                header: Default::default(),
            },
            None,
            &[],
            &payload,
        );
        let signature = signature_to_raw(&signer().sign(&tbs).unwrap()).unwrap();
        let array = Value::Array(vec![
            Value::Bytes(protected_bytes),
            Value::Map(unprotected),
            Value::Bytes(payload),
            Value::Bytes(signature.to_vec()),
        ]);
        let value = match tag {
            Some(tag) => Value::Tag(tag, Box::new(array)),
            None => array,
        };
        let mut out = Vec::new();
        ciborium::into_writer(&value, &mut out).unwrap();
        out
    }

    fn int(value: i64) -> Value {
        Value::Integer(value.into())
    }

    fn key() -> EcPublicJwk {
        signer().public_key().clone()
    }

    fn es256_kid() -> Value {
        Value::Map(vec![
            (int(1), int(-7)),
            (int(4), Value::Bytes(b"k1".to_vec())),
        ])
    }

    #[test]
    fn signs_and_verifies_with_the_kid_protected() {
        let bytes = sign(b"hello", b"k1", &signer()).unwrap();
        assert_eq!(bytes[0], 0xd2);
        let verified = verify(&bytes, &VerifyOptions::default(), &key()).unwrap();
        assert_eq!(verified.kid.as_deref(), Some(&b"k1"[..]));
        assert_eq!(verified.payload, b"hello");
        assert_eq!(es256_algorithm_id(), -7);
        assert_eq!(
            sign(b"hello", b"", &signer()),
            Err(SignedQrError::MissingKid)
        );
    }

    #[test]
    fn forged_helper_makes_messages_that_verify() {
        for tag in [Some(18), None] {
            let bytes = forged(es256_kid(), vec![], tag);
            assert!(verify(&bytes, &VerifyOptions::default(), &key()).is_ok());
        }
    }

    #[test]
    fn refuses_other_tags_algorithms_crit_and_misplaced_headers() {
        let options = VerifyOptions::default();
        let check = |bytes: Vec<u8>| verify(&bytes, &options, &key()).map(|_| ());
        assert_eq!(
            check(forged(es256_kid(), vec![], Some(998))),
            Err(SignedQrError::WrongTag)
        );
        for alg in [
            int(-35),
            int(-38),
            int(-8),
            int(-999),
            Value::Text("ES256".into()),
        ] {
            let protected = Value::Map(vec![(int(1), alg), (int(4), Value::Bytes(b"k1".to_vec()))]);
            assert_eq!(
                check(forged(protected, vec![], Some(18))),
                Err(SignedQrError::UnsupportedAlgorithm)
            );
        }
        // PS256 is understood, but an EC key never verifies it.
        let ps256 = Value::Map(vec![
            (int(1), int(-37)),
            (int(4), Value::Bytes(b"k1".to_vec())),
        ]);
        assert_eq!(
            check(forged(ps256, vec![], Some(18))),
            Err(SignedQrError::AlgorithmKeyMismatch)
        );
        let no_alg = Value::Map(vec![(int(4), Value::Bytes(b"k1".to_vec()))]);
        assert_eq!(
            check(forged(no_alg, vec![], Some(18))),
            Err(SignedQrError::MissingAlgorithm)
        );
        let crit = Value::Map(vec![
            (int(1), int(-7)),
            (int(2), Value::Array(vec![int(-70_000)])),
            (int(4), Value::Bytes(b"k1".to_vec())),
            (int(-70_000), Value::Bool(true)),
        ]);
        assert_eq!(
            check(forged(crit, vec![], Some(18))),
            Err(SignedQrError::CriticalHeader)
        );
        let unprotected_kid = Value::Map(vec![(int(1), int(-7))]);
        let kid_header = vec![(int(4), Value::Bytes(b"k1".to_vec()))];
        assert_eq!(
            check(forged(unprotected_kid.clone(), kid_header.clone(), None)),
            Err(SignedQrError::KidNotProtected)
        );
        let either = VerifyOptions {
            kid: KidLocation::ProtectedOrUnprotected,
            ..options
        };
        let bytes = forged(unprotected_kid.clone(), kid_header, None);
        assert!(verify(&bytes, &either, &key()).is_ok());
        assert_eq!(
            check(forged(unprotected_kid.clone(), vec![], None)),
            Err(SignedQrError::MissingKid)
        );
        let optional = VerifyOptions {
            kid: KidLocation::Optional,
            ..options
        };
        let bytes = forged(unprotected_kid, vec![], None);
        assert_eq!(verify(&bytes, &optional, &key()).unwrap().kid, None);
        let twice = vec![(int(1), int(-7))];
        assert_eq!(
            check(forged(es256_kid(), twice, None)),
            Err(SignedQrError::HeaderInBothBuckets)
        );
    }

    #[test]
    fn the_cwt_tag_is_allowed_only_around_a_tagged_sign1() {
        let options = VerifyOptions::default();
        let tagged = forged(es256_kid(), vec![], Some(18));
        let mut in_cwt = vec![0xd8, 0x3d];
        in_cwt.extend_from_slice(&tagged);
        assert!(verify(&in_cwt, &options, &key()).is_ok());
        let untagged = forged(es256_kid(), vec![], None);
        let mut cwt_only = vec![0xd8, 0x3d];
        cwt_only.extend_from_slice(&untagged);
        assert_eq!(
            verify(&cwt_only, &options, &key()),
            Err(SignedQrError::WrongTag)
        );
    }

    #[test]
    fn a_kid_in_both_headers_only_under_the_dcc_rule_and_the_protected_one_wins() {
        let other_kid = vec![(int(4), Value::Bytes(b"k2".to_vec()))];
        let bytes = forged(es256_kid(), other_kid, Some(18));
        for kid in [KidLocation::Protected, KidLocation::ProtectedOrUnprotected] {
            let options = VerifyOptions {
                kid,
                ..VerifyOptions::default()
            };
            assert_eq!(
                verify(&bytes, &options, &key()),
                Err(SignedQrError::HeaderInBothBuckets)
            );
        }
        let dcc = VerifyOptions {
            kid: KidLocation::ProtectedOverUnprotected,
            ..VerifyOptions::default()
        };
        let lookup = |kid: &[u8]| (kid == b"k1").then(|| VerifyingKey::Es256(key()));
        assert_eq!(
            verify(&bytes, &dcc, &lookup).unwrap().kid.as_deref(),
            Some(&b"k1"[..])
        );
        // Only the key id is exempt.
        let alg_twice = forged(es256_kid(), vec![(int(1), int(-7))], Some(18));
        assert_eq!(
            verify(&alg_twice, &dcc, &lookup),
            Err(SignedQrError::HeaderInBothBuckets)
        );
    }

    #[test]
    fn refuses_wrong_keys_unknown_kids_and_damaged_signatures() {
        let bytes = sign(b"hello", b"k1", &signer()).unwrap();
        let options = VerifyOptions::default();
        let other = SoftwareSigner::from_scalar(&[9u8; 32]).unwrap();
        assert_eq!(
            verify(&bytes, &options, other.public_key()),
            Err(SignedQrError::SignatureInvalid)
        );
        let lookup = |kid: &[u8]| (kid == b"k2").then(|| VerifyingKey::Es256(key()));
        assert_eq!(
            verify(&bytes, &options, &lookup),
            Err(SignedQrError::UnknownKey)
        );
        let lookup = |kid: &[u8]| (kid == b"k1").then(|| VerifyingKey::Es256(key()));
        assert!(verify(&bytes, &options, &lookup).is_ok());
        // Every single-byte change is refused, and none panics.
        for index in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[index] ^= 0x01;
            assert!(verify(&damaged, &options, &key()).is_err(), "byte {index}");
        }
        for len in 0..bytes.len() {
            assert!(verify(&bytes[..len], &options, &key()).is_err());
        }
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(
            verify(&trailing, &options, &key()),
            Err(SignedQrError::Cbor(cbor::CborError::TrailingBytes))
        );
        let aad = VerifyOptions {
            external_aad: b"context",
            ..options
        };
        assert_eq!(
            verify(&bytes, &aad, &key()),
            Err(SignedQrError::SignatureInvalid)
        );
    }

    #[test]
    fn refuses_detached_payloads_and_short_signatures() {
        let bytes = sign(b"hello", b"k1", &signer()).unwrap();
        let mut message = CoseSign1::from_tagged_slice(&bytes).unwrap();
        message.payload = None;
        let detached = message.clone().to_tagged_vec().unwrap();
        assert_eq!(
            verify(&detached, &VerifyOptions::default(), &key()),
            Err(SignedQrError::DetachedPayload)
        );
        message.payload = Some(b"hello".to_vec());
        message.signature.truncate(63);
        let short = message.to_tagged_vec().unwrap();
        assert_eq!(
            verify(&short, &VerifyOptions::default(), &key()),
            Err(SignedQrError::SignatureLength)
        );
    }

    #[test]
    fn an_empty_protected_header_is_signed_as_an_empty_string_however_it_is_sent() {
        let unprotected = vec![(int(1), int(-7)), (int(4), Value::Bytes(b"k1".to_vec()))];
        let optional = VerifyOptions {
            kid: KidLocation::ProtectedOrUnprotected,
            ..VerifyOptions::default()
        };
        // Signed over h'' and sent as h'' verifies; sent as h'a0' verifies too.
        let mut message = forged(Value::Map(vec![]), unprotected, None);
        let empty_signed = {
            let value: Value = ciborium::from_reader(message.as_slice()).unwrap();
            let mut parsed = CoseSign1::from_cbor_value(value).unwrap();
            parsed.protected.original_data = Some(Vec::new());
            let tbs = parsed.tbs_data(&[]);
            signature_to_raw(&signer().sign(&tbs).unwrap()).unwrap()
        };
        let at = message.len() - 64;
        message[at..].copy_from_slice(&empty_signed);
        assert_eq!(message[1..3], [0x41, 0xa0]);
        assert!(verify(&message, &optional, &key()).is_ok());
        // Signed over h'a0' itself: not what RFC 9052 signs, refused.
        let at_a0 = forged(Value::Map(vec![]), vec![(int(1), int(-7))], None);
        let optional = VerifyOptions {
            kid: KidLocation::Optional,
            ..optional
        };
        assert_eq!(
            verify(&at_a0, &optional, &key()),
            Err(SignedQrError::SignatureInvalid)
        );
    }

    #[test]
    fn refuses_oversized_and_deep_input() {
        let big = vec![0u8; MAX_COSE_BYTES + 1];
        assert_eq!(
            verify(&big, &VerifyOptions::default(), &key()),
            Err(SignedQrError::TooLarge)
        );
        let mut deep = vec![0x81u8; 100];
        deep.push(0);
        assert_eq!(
            verify(&deep, &VerifyOptions::default(), &key()),
            Err(SignedQrError::Cbor(cbor::CborError::TooDeep))
        );
    }
}
