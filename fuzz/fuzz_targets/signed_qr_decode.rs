//! A signed QR code is whatever a camera read: decoding (prefix, Base45, zlib, CBOR, COSE_Sign1,
//! CWT claims) must return a value or a typed error for every input, never panic, and what
//! encodes must decode back to the same claims; the unverified read a scan is routed by agrees
//! with the verifier on every code that verifies. Each layer is also fed the raw input.
#![no_main]

use std::sync::OnceLock;

use citizen_core::jose::SoftwareSigner;
use citizen_core::signed_qr::sign1::{self, KidLocation, VerifyOptions};
use citizen_core::signed_qr::{
    self, CborValue, ClaimKey, Claims, Profile, VerifyingKey, base45_decode, base45_encode, cbor,
};
use libfuzzer_sys::fuzz_target;

const PROFILE: Profile = Profile::new("CK1:");

fn signer() -> &'static SoftwareSigner {
    static SIGNER: OnceLock<SoftwareSigner> = OnceLock::new();
    SIGNER.get_or_init(|| SoftwareSigner::from_scalar(&[0x42; 32]).expect("a valid scalar"))
}

fn lookup(kid: &[u8]) -> Option<VerifyingKey> {
    (kid == b"fuzz").then(|| VerifyingKey::Es256(signer().public_key().clone()))
}

fuzz_target!(|data: &[u8]| {
    let key = signer().public_key();

    // The reader, from the text down; a valid prefix most of the time.
    if let Ok(text) = std::str::from_utf8(data) {
        for candidate in [text.to_string(), format!("CK1:{text}")] {
            let verified = signed_qr::decode(&PROFILE, &candidate, key);
            let _ = signed_qr::decode(&PROFILE, &candidate, &lookup);
            // The unverified read (routing a scan) accepts everything that verifies, with the
            // same claims: it never knows less than the verifier.
            let unverified = signed_qr::unverified_claims(&PROFILE, &candidate);
            if let Ok(verified) = verified {
                assert_eq!(unverified.as_ref(), Ok(&verified.claims));
            }
        }
        if let Ok(bytes) = base45_decode(text) {
            assert_eq!(base45_encode(&bytes), text, "Base45 decoding is one to one");
        }
    }

    // Each layer on its own.
    let _ = cbor::check(data, signed_qr::MAX_CBOR_DEPTH);
    for kid in [
        KidLocation::Protected,
        KidLocation::ProtectedOverUnprotected,
        KidLocation::Optional,
    ] {
        let options = VerifyOptions {
            external_aad: &[],
            kid,
        };
        let _ = sign1::verify(data, &options, key);
    }
    if let Ok(claims) = Claims::from_cbor(data) {
        // What reads writes back, and that reads back the same (compared as bytes: a NaN in a
        // private claim is not equal to itself).
        if let Ok(bytes) = claims.to_cbor() {
            let again = Claims::from_cbor(&bytes).expect("written claims read back");
            assert_eq!(again.to_cbor().as_ref(), Ok(&bytes));
        }
    }

    // The writer: claims made from the input encode, then decode to the same claims. Signing
    // is slow next to the reader, so a quarter of the inputs.
    if !data.len().is_multiple_of(4) {
        return;
    }
    let (head, tail) = data.split_at(data.len().min(8));
    let mut claims = Claims {
        iss: Some(String::from_utf8_lossy(tail).into_owned()),
        exp: Some(i64::from_le_bytes({
            let mut word = [0u8; 8];
            word[..head.len()].copy_from_slice(head);
            word
        })),
        cti: Some(head.to_vec()),
        ..Claims::default()
    };
    claims
        .private
        .insert(ClaimKey::Int(-70_000), CborValue::Bytes(tail.to_vec()));
    if let Ok(text) = signed_qr::encode(&PROFILE, &claims, b"fuzz", signer()) {
        let decoded = signed_qr::decode(&PROFILE, &text, &lookup).expect("what encodes decodes");
        assert_eq!(decoded.claims, claims);
        assert_eq!(decoded.kid, b"fuzz");
    }
});
