//! An EU DCC is whatever a camera read: `dcc::verify` (text, signature by key id, claims, the
//! typed `hcert`, the time checks) must return a value or a typed error for every input, never
//! panic; the `hcert` reader (over any claim set the input is) and the signer-certificate
//! reader are also fed the raw input, and
//! a DCC minted around the input's bytes verifies back to the same certificate.
#![no_main]

use std::sync::OnceLock;

use citizen_core::dcc::{self, HealthCertificate, SignerCertificate};
use citizen_core::jose::SoftwareSigner;
use citizen_core::signed_qr::{self, CborValue, ClaimKey, Claims};
use libfuzzer_sys::fuzz_target;

/// A fixed document signer certificate (the core's EC test certificate) and its private key.
fn signers() -> &'static Vec<SignerCertificate> {
    static SIGNERS: OnceLock<Vec<SignerCertificate>> = OnceLock::new();
    SIGNERS.get_or_init(|| {
        vec![
            SignerCertificate::from_base64(
                include_str!("../../core/src/dcc/testdata/dsc-ec.b64").trim(),
            )
            .expect("the test certificate reads"),
        ]
    })
}

fn signer() -> &'static SoftwareSigner {
    static SIGNER: OnceLock<SoftwareSigner> = OnceLock::new();
    SIGNER.get_or_init(|| {
        let hex = "b5176e99383c0613775532af77b7dabe66a6ae1467b1458162e5aedaa4caefc7";
        let scalar: Vec<u8> = (0..64)
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect();
        SoftwareSigner::from_scalar(&scalar).expect("a valid scalar")
    })
}

const NOW: i64 = 1_750_000_000;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for candidate in [text.to_string(), format!("HC1:{text}")] {
            let _ = dcc::verify(&candidate, signers(), NOW);
        }
        let _ = SignerCertificate::from_base64(text);
    }
    let _ = SignerCertificate::from_der(data);
    if let Ok(claims) = Claims::from_cbor(data) {
        let _ = HealthCertificate::from_claims(&claims);
        for value in claims.private.values() {
            let _ = HealthCertificate::from_value(value);
        }
    }

    // The writer: an hcert whose strings come from the input, signed and verified back.
    if !data.len().is_multiple_of(4) {
        return;
    }
    let word = String::from_utf8_lossy(data).into_owned();
    let text = |value: &str| CborValue::Text(value.to_string());
    let entry = |key: &str, value: CborValue| (text(key), value);
    let hcert = CborValue::Map(vec![
        entry("ver", text("1.3.0")),
        entry(
            "nam",
            CborValue::Map(vec![entry("fnt", text(&word)), entry("gn", text(&word))]),
        ),
        entry("dob", text("1990")),
        entry(
            "t",
            CborValue::Array(vec![CborValue::Map(vec![
                entry("tg", text("840539006")),
                entry("tt", text("LP6464-4")),
                entry("sc", text("2021-06-01T10:00:00Z")),
                entry("tr", text("260415000")),
                entry("co", text("VN")),
                entry("is", text(&word)),
                entry("ci", text(&word)),
            ])]),
        ),
    ]);
    let mut claims = Claims {
        iss: Some("VN".into()),
        iat: Some(NOW - 60),
        exp: Some(NOW + 60),
        ..Claims::default()
    };
    claims.private.insert(
        ClaimKey::Int(dcc::hcert::HCERT_CLAIM),
        CborValue::Map(vec![(CborValue::Integer(1.into()), hcert.clone())]),
    );
    let kid = signers()[0].kid().to_vec();
    if let Ok(minted) = signed_qr::encode(&dcc::PROFILE, &claims, &kid, signer()) {
        match (
            dcc::verify(&minted, signers(), NOW),
            HealthCertificate::from_value(&hcert),
        ) {
            (Ok(verified), Ok(expected)) => assert_eq!(verified.certificate, expected),
            (Err(dcc::DccError::Hcert(_)), Err(_)) => {}
            (got, expected) => panic!("minted DCC: {got:?} against {expected:?}"),
        }
    }
});
