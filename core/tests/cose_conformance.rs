//! COSE conformance: the COSE working group's examples (`../shared/conformance/cose/`, relative
//! to the project root) that are COSE_Sign1 with ES256, verified by `signed_qr::sign1` with the
//! key each example gives; the examples marked `fail` must be refused. A payload that verifies
//! must be the example's plaintext, and a CWT's must read as a claim set. From each example
//! that verifies, two attacks are derived: another key, and a changed signature, both refused.
//!
//! Everything else in the folder is skipped, each with its reason: COSE_Sign (signers in an
//! array), MAC, encryption, and COSE_Sign1 with another algorithm (ES384, ES512, EdDSA).
//!
//! Runs as its own binary (`harness = false`) and prints one line
//! `cose: N passed, N failed, N skipped`; `cargo xtask test` reports it as a suite of its own.
//! Exits non-zero when a check fails.

mod suite;

use std::path::Path;
use std::process::ExitCode;

use citizen_core::jose::{EcPublicJwk, SoftwareSigner};
use citizen_core::signed_qr::sign1::{self, KidLocation, VerifyOptions};
use citizen_core::signed_qr::{Claims, SignedQrError};
use serde_json::Value;
use suite::{Report, find_json};

fn main() -> ExitCode {
    let mut report = Report::new("cose");
    let Some(corpus) = report.corpus("cose") else {
        return report.finish();
    };
    let mut files = Vec::new();
    find_json(&corpus, &mut files);
    files.sort();
    if files.is_empty() {
        report.fail("corpus", "load", "no example file under the corpus folder");
    }
    let mut in_scope = 0;
    for file in &files {
        let name = file
            .strip_prefix(&corpus)
            .unwrap_or(file)
            .display()
            .to_string();
        match Example::load(file) {
            Ok(Loaded::Sign1(example)) => {
                in_scope += 1;
                example.run(&name, &mut report);
            }
            Ok(Loaded::Skip(reason)) => report.skip(&name, &reason),
            Err(error) => report.fail(&name, "load", &error),
        }
    }
    // A corpus whose examples are all skipped would pass while checking nothing.
    if !files.is_empty() && in_scope == 0 {
        report.fail(
            "corpus",
            "scope",
            "no ES256 COSE_Sign1 example in the corpus: nothing was checked",
        );
    }
    println!(
        "cose conformance: {} example files, {in_scope} ES256 COSE_Sign1 examples checked, {} checks",
        files.len(),
        report.passed + report.failed
    );
    report.finish()
}

enum Loaded {
    Sign1(Box<Example>),
    Skip(String),
}

/// An ES256 COSE_Sign1 example.
struct Example {
    key: EcPublicJwk,
    message: Vec<u8>,
    external_aad: Vec<u8>,
    plaintext: Vec<u8>,
    must_fail: bool,
    is_cwt: bool,
}

impl Example {
    fn load(file: &Path) -> Result<Loaded, String> {
        let text = std::fs::read(file).map_err(|e| format!("unreadable: {e}"))?;
        let json: Value = serde_json::from_slice(&text).map_err(|e| format!("not JSON: {e}"))?;
        let input = &json["input"];
        let Some(sign0) = input.get("sign0") else {
            let kind = ["sign", "mac", "mac0", "encrypted", "enveloped"]
                .into_iter()
                .find(|kind| input.get(kind).is_some())
                .unwrap_or("unknown");
            let what = match kind {
                "sign" => "COSE_Sign (signatures in an array of signers), not COSE_Sign1",
                "mac" | "mac0" => "a MAC structure, not a signature",
                "encrypted" | "enveloped" => "an encryption structure, not a signature",
                _ => "not a COSE structure this suite reads",
            };
            return Ok(Loaded::Skip(format!("{kind}: {what}")));
        };
        let alg = sign0["alg"].as_str().unwrap_or("none");
        if alg != "ES256" {
            return Ok(Loaded::Skip(format!(
                "sign0 with {alg}: only ES256 is in scope"
            )));
        }
        let key = &sign0["key"];
        let member = |name: &str| {
            key[name]
                .as_str()
                .ok_or_else(|| format!("the key has no `{name}`"))
        };
        if member("kty")? != "EC" || member("crv")? != "P-256" {
            return Ok(Loaded::Skip("ES256 with a key that is not EC P-256".into()));
        }
        // Coordinates in base64url (`x`, `y`) or, in the CWT examples, hex (`x_hex`, `y_hex`).
        let coordinate = |name: &str| -> Result<[u8; 32], String> {
            let bytes = match member(name) {
                Ok(text) => {
                    citizen_core::jose::base64url::decode(text).map_err(|e| e.to_string())?
                }
                Err(_) => decode_hex(member(&format!("{name}_hex"))?)?,
            };
            bytes
                .try_into()
                .map_err(|_| format!("the key's `{name}` is not 32 bytes"))
        };
        let key = EcPublicJwk::from_coordinates(coordinate("x")?, coordinate("y")?)
            .map_err(|e| format!("key: {e}"))?;
        let plaintext = match (input["plaintext"].as_str(), input["plaintext_hex"].as_str()) {
            (Some(text), _) => text.as_bytes().to_vec(),
            (None, Some(hex)) => decode_hex(hex)?,
            (None, None) => return Err("no plaintext".into()),
        };
        Ok(Loaded::Sign1(Box::new(Self {
            key,
            message: decode_hex(json["output"]["cbor"].as_str().ok_or("no output.cbor")?)?,
            external_aad: match sign0["external"].as_str() {
                Some(hex) => decode_hex(hex)?,
                None => Vec::new(),
            },
            plaintext,
            must_fail: json["fail"].as_bool().unwrap_or(false),
            is_cwt: input.get("plaintext_hex").is_some(),
        })))
    }

    fn run(&self, name: &str, report: &mut Report) {
        let options = VerifyOptions {
            external_aad: &self.external_aad,
            // The examples name their keys in either header, or not at all; the key is given.
            kid: KidLocation::Optional,
        };
        let outcome = sign1::verify(&self.message, &options, &self.key);
        if self.must_fail {
            report.check(
                name,
                "refused",
                match outcome {
                    Err(error) => {
                        println!("refused as expected {name}: {error}");
                        Ok(())
                    }
                    Ok(_) => Err("verified, but the example is marked to fail".into()),
                },
            );
            return;
        }
        let verified = match outcome {
            Ok(verified) => verified,
            Err(error) => {
                report.fail(name, "verify", &error.to_string());
                return;
            }
        };
        report.check(name, "verify", Ok(()));
        report.check(
            name,
            "payload",
            if verified.payload == self.plaintext {
                Ok(())
            } else {
                Err("the verified payload is not the example's plaintext".into())
            },
        );
        if self.is_cwt {
            report.check(
                name,
                "claims",
                Claims::from_cbor(&verified.payload)
                    .map_err(|e| e.to_string())
                    .and_then(|claims| match claims.iss {
                        Some(_) if claims.exp.is_some() => Ok(()),
                        _ => Err("the claim set lacks `iss` or `exp`".into()),
                    }),
            );
        }
        let other = SoftwareSigner::from_scalar(&[0x5a; 32]).expect("a valid scalar");
        report.check(
            name,
            "another key refused",
            expect_invalid(sign1::verify(&self.message, &options, other.public_key())),
        );
        // The signature is the message's last 64 bytes.
        let mut changed = self.message.clone();
        if let Some(last) = changed.last_mut() {
            *last ^= 0x01;
        }
        report.check(
            name,
            "a changed signature refused",
            expect_invalid(sign1::verify(&changed, &options, &self.key)),
        );
    }
}

fn expect_invalid<T>(outcome: Result<T, SignedQrError>) -> Result<(), String> {
    match outcome {
        Err(SignedQrError::SignatureInvalid) => Ok(()),
        Err(error) => Err(format!("refused for another reason: {error}")),
        Ok(_) => Err("verified".into()),
    }
}

fn decode_hex(text: &str) -> Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) {
        return Err("odd-length hex".into());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| "not hex".to_string())
        })
        .collect()
}
