//! `verify` end to end with the test signer certificates, and what an attacker can put in an
//! `HC1:` code.

use std::io::Write;

use ciborium::Value;

use super::hcert::tests::vaccination_value;
use super::signer::{TEST_EC_SCALAR, test_certificate};
use super::*;
use crate::jose::SoftwareSigner;
use crate::signed_qr::{ClaimKey, Claims, MAX_TEXT_CHARS};

const ISSUED: i64 = 1_700_000_000;
const EXPIRES: i64 = 1_800_000_000;
pub(crate) const NOW: i64 = 1_750_000_000;

fn ec_signer() -> SoftwareSigner {
    let scalar: Vec<u8> = (0..64)
        .step_by(2)
        .map(|i| u8::from_str_radix(&TEST_EC_SCALAR[i..i + 2], 16).unwrap())
        .collect();
    SoftwareSigner::from_scalar(&scalar).unwrap()
}

fn claims_with(hcert: Value) -> Claims {
    let mut claims = Claims {
        iss: Some("VN".into()),
        iat: Some(ISSUED),
        exp: Some(EXPIRES),
        ..Claims::default()
    };
    claims.private.insert(
        ClaimKey::Int(hcert::HCERT_CLAIM),
        Value::Map(vec![(Value::Integer(1.into()), hcert)]),
    );
    claims
}

pub(crate) fn claims() -> Claims {
    claims_with(vaccination_value())
}

/// An `HC1:` code of `claims`, ES256 with the test key, under the key id of certificate `cert`.
pub(crate) fn mint(claims: &Claims, cert: &str) -> String {
    let kid = test_certificate(cert).kid().to_vec();
    signed_qr::encode(&PROFILE, claims, &kid, &ec_signer()).unwrap()
}

/// An `HC1:` code of `claims` signed with PS256 by the RSA test key, with `alg` and `kid` in the
/// protected header as given.
fn mint_rsa(claims: &Claims, alg: coset::iana::Algorithm, kid: &[u8]) -> String {
    use coset::{CoseSign1Builder, HeaderBuilder, TaggedCborSerializable};
    let pair = signed_qr::rsa_key_pair();
    let message = CoseSign1Builder::new()
        .protected(
            HeaderBuilder::new()
                .algorithm(alg)
                .key_id(kid.to_vec())
                .build(),
        )
        .payload(claims.to_cbor().unwrap())
        .create_signature(&[], |tbs| signed_qr::test_ps256_sign(&pair, tbs))
        .build();
    wrap(&message.to_tagged_vec().unwrap())
}

fn wrap(cose: &[u8]) -> String {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(cose).unwrap();
    format!(
        "HC1:{}",
        signed_qr::base45_encode(&encoder.finish().unwrap())
    )
}

fn trusted() -> Vec<SignerCertificate> {
    ["dsc-ec", "dsc-rsa", "dsc-ec-tests-only", "dsc-ec-expired"]
        .into_iter()
        .map(test_certificate)
        .collect()
}

#[test]
fn es256_and_ps256_codes_verify_and_debug_names_no_one() {
    let trusted = trusted();
    let verified = verify(&mint(&claims(), "dsc-ec"), &trusted, NOW).unwrap();
    assert_eq!(verified.kid, test_certificate("dsc-ec").kid());
    assert_eq!(verified.issuer.as_deref(), Some("VN"));
    assert_eq!((verified.issued_at, verified.expires_at), (ISSUED, EXPIRES));
    assert_eq!(verified.certificate.name.family_standardised, "NGUYEN");
    let debug = format!("{verified:?}");
    for personal in ["NGUYEN", "Văn", "1990", "SECRET"] {
        assert!(!debug.contains(personal), "{debug}");
    }
    let rsa_kid = test_certificate("dsc-rsa").kid().to_vec();
    let text = mint_rsa(&claims(), coset::iana::Algorithm::PS256, &rsa_kid);
    let verified = verify(&text, &trusted, NOW).unwrap();
    assert_eq!(verified.kid, rsa_kid);
}

#[test]
fn times_are_checked_against_the_code_and_the_signer_certificate() {
    let trusted = trusted();
    let text = mint(&claims(), "dsc-ec");
    assert!(verify(&text, &trusted, EXPIRES).is_ok());
    assert_eq!(verify(&text, &trusted, EXPIRES + 1), Err(DccError::Expired));
    assert_eq!(
        verify(&text, &trusted, ISSUED - CLOCK_SKEW_SECONDS - 1),
        Err(DccError::NotYetValid)
    );
    assert!(verify(&text, &trusted, ISSUED - CLOCK_SKEW_SECONDS).is_ok());
    // The expired signer certificate (2020–2021) did not cover the code's `iat`.
    let old = mint(&claims(), "dsc-ec-expired");
    assert_eq!(verify(&old, &trusted, NOW), Err(DccError::SignerNotValid));
    let mut no_exp = claims();
    no_exp.exp = None;
    assert_eq!(
        verify(&mint(&no_exp, "dsc-ec"), &trusted, NOW),
        Err(DccError::MissingClaim("exp"))
    );
    let mut no_iat = claims();
    no_iat.iat = None;
    assert_eq!(
        verify(&mint(&no_iat, "dsc-ec"), &trusted, NOW),
        Err(DccError::MissingClaim("iat"))
    );
}

#[test]
fn a_signer_restricted_to_tests_may_not_sign_a_vaccination() {
    let text = mint(&claims(), "dsc-ec-tests-only");
    assert_eq!(verify(&text, &trusted(), NOW), Err(DccError::KeyUsage));
    assert_eq!(DccError::KeyUsage.code(), "dcc_key_usage");
}

#[test]
fn unknown_signers_forgeries_and_alg_swaps_are_refused() {
    let trusted = trusted();
    // Signed by a key whose certificate is not trusted.
    let stranger = SoftwareSigner::from_scalar(&[5u8; 32]).unwrap();
    let unknown = signed_qr::encode(&PROFILE, &claims(), b"12345678", &stranger).unwrap();
    assert_eq!(
        verify(&unknown, &trusted, NOW),
        Err(DccError::SignedQr(SignedQrError::UnknownKey))
    );
    // A forger who names a trusted signer's key id (a kid collision, made or found) still needs
    // that signer's key.
    let ec_kid = test_certificate("dsc-ec").kid().to_vec();
    let forged = signed_qr::encode(&PROFILE, &claims(), &ec_kid, &stranger).unwrap();
    assert_eq!(
        verify(&forged, &trusted, NOW),
        Err(DccError::SignedQr(SignedQrError::SignatureInvalid))
    );
    // A PS256 header under an EC signer's key id, and ES256 under an RSA signer's.
    let swapped = mint_rsa(&claims(), coset::iana::Algorithm::PS256, &ec_kid);
    assert_eq!(
        verify(&swapped, &trusted, NOW),
        Err(DccError::SignedQr(SignedQrError::AlgorithmKeyMismatch))
    );
    let rsa_kid = test_certificate("dsc-rsa").kid().to_vec();
    let es256 = signed_qr::encode(&PROFILE, &claims(), &rsa_kid, &ec_signer()).unwrap();
    assert_eq!(
        verify(&es256, &trusted, NOW),
        Err(DccError::SignedQr(SignedQrError::AlgorithmKeyMismatch))
    );
    // Any change to the text is refused, and none panics.
    let text = mint(&claims(), "dsc-ec");
    let body = text.as_bytes();
    for index in 4..body.len() {
        let mut damaged = body.to_vec();
        damaged[index] = if damaged[index] == b'0' { b'1' } else { b'0' };
        let damaged = String::from_utf8(damaged).unwrap();
        if damaged != text {
            assert!(verify(&damaged, &trusted, NOW).is_err(), "{index}");
        }
    }
    assert_eq!(
        verify(&text.replacen("HC1:", "HC2:", 1), &trusted, NOW),
        Err(DccError::SignedQr(SignedQrError::WrongPrefix))
    );
}

#[test]
fn content_errors_are_typed() {
    let mut no_hcert = claims();
    no_hcert.private.clear();
    assert_eq!(
        verify(&mint(&no_hcert, "dsc-ec"), &trusted(), NOW),
        Err(DccError::Hcert(HcertError::Missing))
    );
    let bad = claims_with(Value::Text("not a map".into()));
    let error = verify(&mint(&bad, "dsc-ec"), &trusted(), NOW).unwrap_err();
    assert_eq!(error, DccError::Hcert(HcertError::InvalidField("hcert")));
    assert_eq!(error.code(), "dcc_content_invalid");
}

#[test]
fn oversized_and_zip_bomb_codes_are_refused_before_they_are_read() {
    let trusted = trusted();
    // A megabyte of zeros compresses to a QR-sized text that would inflate far past the bound.
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&vec![0u8; 1 << 20]).unwrap();
    let bomb = format!(
        "HC1:{}",
        signed_qr::base45_encode(&encoder.finish().unwrap())
    );
    assert!(bomb.len() <= MAX_TEXT_CHARS, "{}", bomb.len());
    assert_eq!(
        verify(&bomb, &trusted, NOW),
        Err(DccError::SignedQr(SignedQrError::TooLarge))
    );
    let long = format!("HC1:{}", "0".repeat(MAX_TEXT_CHARS));
    assert_eq!(
        verify(&long, &trusted, NOW),
        Err(DccError::SignedQr(SignedQrError::TooLong))
    );
}

#[test]
fn the_trust_list_finds_signers_by_certificate_key_id() {
    let list = crate::trust_list::TrustList {
        iss: "https://portal.example/".into(),
        iat: 0,
        exp: i64::MAX,
        sequence: 1,
        max_age: 60,
        issuers: vec![],
        relying_parties: vec![],
        venue_signers: vec![],
        health_signers: vec![crate::trust_list::HealthSigner {
            country: "VN".into(),
            certificates: vec![test_certificate("dsc-ec")],
        }],
        origins: vec![],
    };
    assert!(verify(&mint(&claims(), "dsc-ec"), &list, NOW).is_ok());
    let rsa_kid = test_certificate("dsc-rsa").kid().to_vec();
    let text = mint_rsa(&claims(), coset::iana::Algorithm::PS256, &rsa_kid);
    assert_eq!(
        verify(&text, &list, NOW),
        Err(DccError::SignedQr(SignedQrError::UnknownKey))
    );
}
