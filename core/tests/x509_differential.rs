//! The SDK's minimal X.509 reader (`src/x509.rs`, behind `dcc::SignerCertificate` and
//! `certificate_spki_pin`) against `x509-parser`, which the library used before (docs/size.md):
//! on every signer certificate of the EU DCC corpus (`../shared/conformance/dgc-testdata/`) both
//! must read the same key, validity, extended key usage and SubjectPublicKeyInfo; on each of them
//! with one bit changed, whatever the SDK accepts x509-parser must have accepted and read alike.

use std::path::Path;

use base64::Engine;
use citizen_core::dcc::{EntryKind, SignerCertificate, SignerCertificateError};
use citizen_core::jose::EcPublicJwk;
use citizen_core::signed_qr::{RsaPublicKey, VerifyingKey};
use x509_parser::public_key::PublicKey;

type Read = Result<(VerifyingKey, i64, i64, Vec<bool>), SignerCertificateError>;

const KINDS: [EntryKind; 3] = [EntryKind::Test, EntryKind::Vaccination, EntryKind::Recovery];

/// What `SignerCertificate::from_der` read with x509-parser (the code it had before).
fn with_x509_parser(der: &[u8]) -> Read {
    let (rest, certificate) =
        x509_parser::parse_x509_certificate(der).map_err(|_| SignerCertificateError::Malformed)?;
    if !rest.is_empty() {
        return Err(SignerCertificateError::Malformed);
    }
    let spki = certificate.public_key();
    let key = match spki
        .parsed()
        .map_err(|_| SignerCertificateError::UnsupportedKey)?
    {
        PublicKey::EC(point) => {
            let p256 = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|parameters| parameters.as_oid().ok())
                .is_some_and(|curve| curve == x509_parser::oid_registry::OID_EC_P256);
            if !p256 {
                return Err(SignerCertificateError::UnsupportedKey);
            }
            VerifyingKey::Es256(
                EcPublicJwk::from_sec1(point.data())
                    .map_err(|_| SignerCertificateError::UnsupportedKey)?,
            )
        }
        PublicKey::RSA(rsa) => VerifyingKey::Ps256(
            RsaPublicKey::new(rsa.modulus, rsa.exponent)
                .map_err(|_| SignerCertificateError::UnsupportedKey)?,
        ),
        _ => return Err(SignerCertificateError::UnsupportedKey),
    };
    let may_sign = match certificate.extended_key_usage() {
        Ok(Some(usage)) => {
            let usage = usage.value;
            let none = !(usage.any
                || usage.server_auth
                || usage.client_auth
                || usage.code_signing
                || usage.email_protection
                || usage.time_stamping
                || usage.ocsp_signing)
                && usage.other.is_empty();
            KINDS
                .iter()
                .map(|kind| {
                    let arc = match kind {
                        EntryKind::Test => "1",
                        EntryKind::Vaccination => "2",
                        _ => "3",
                    };
                    none || usage.other.iter().any(|oid| {
                        let id = oid.to_id_string();
                        id == format!("1.3.6.1.4.1.1847.2021.1.{arc}")
                            || id == format!("1.3.6.1.4.1.0.1847.2021.1.{arc}")
                    })
                })
                .collect()
        }
        Ok(None) => vec![true; 3],
        Err(_) => return Err(SignerCertificateError::Malformed),
    };
    Ok((
        key,
        certificate.validity().not_before.timestamp(),
        certificate.validity().not_after.timestamp(),
        may_sign,
    ))
}

fn with_the_sdk(der: &[u8]) -> Read {
    let certificate = SignerCertificate::from_der(der)?;
    let may_sign = KINDS
        .iter()
        .map(|kind| certificate.may_sign(*kind))
        .collect();
    Ok((
        certificate.key().clone(),
        certificate.not_before(),
        certificate.not_after(),
        may_sign,
    ))
}

fn spki_pin_with_x509_parser(der: &[u8]) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(citizen_core::spki_pin(
        parsed.tbs_certificate.subject_pki.raw,
    ))
}

/// The distinct `TESTCTX.CERTIFICATE`s of the corpus, as DER.
fn corpus_certificates() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/dgc-testdata");
    let mut found = Vec::new();
    let mut folders = vec![root];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "json")
                && let Ok(text) = std::fs::read_to_string(&path)
                && let Ok(case) = serde_json::from_str::<serde_json::Value>(&text)
                && let Some(certificate) = case["TESTCTX"]["CERTIFICATE"].as_str()
                && let Ok(der) =
                    base64::engine::general_purpose::STANDARD.decode(certificate.trim())
                && !found.contains(&der)
            {
                found.push(der);
            }
        }
    }
    found
}

#[test]
fn reads_every_corpus_certificate_as_x509_parser_did() {
    let certificates = corpus_certificates();
    if certificates.is_empty() {
        eprintln!("SKIP: no dgc-testdata corpus");
        return;
    }
    let mut accepted = 0;
    let mut mutants = 0;
    let mut stricter = 0;
    for der in &certificates {
        let expected = with_x509_parser(der);
        assert_eq!(with_the_sdk(der), expected, "certificate {der:02x?}");
        assert_eq!(
            citizen_core::certificate_spki_pin(der),
            spki_pin_with_x509_parser(der)
        );
        accepted += usize::from(expected.is_ok());
        // The SDK reads strict DER and refuses some one-bit mutants x509-parser accepted (an outer
        // tag that is not SEQUENCE, a time outside RFC 5280's two forms, ...): counted only.
        for index in 0..der.len() {
            for flip in [0x01, 0x80] {
                let mut damaged = der.clone();
                damaged[index] ^= flip;
                let ours = with_the_sdk(&damaged);
                let theirs = with_x509_parser(&damaged);
                if ours.is_ok() {
                    mutants += 1;
                    assert_eq!(ours, theirs, "byte {index} ^ {flip:#x} of {der:02x?}");
                } else if theirs.is_ok() {
                    stricter += 1;
                    if stricter <= 30 {
                        eprintln!("stricter: byte {index} ({:#04x}) ^ {flip:#x}", der[index]);
                    }
                }
            }
        }
    }
    eprintln!(
        "x509: {} corpus certificates, {accepted} accepted by both; one-bit mutants: {mutants} \
         accepted by the SDK and read alike by x509-parser, {stricter} refused by the SDK only",
        certificates.len()
    );
    assert!(accepted > 0);
}
