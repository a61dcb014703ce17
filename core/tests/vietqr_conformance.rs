//! VietQR conformance: every vector of the shared corpus
//! (`../shared/conformance/vietqr/vietqr-vectors.json`, relative to the project root), from the
//! NAPAS specification and from real bank and wallet apps.
//!
//! Each `valid: true` vector parses to its expected fields, re-encodes to a payload that parses to
//! the same value with a correct uppercase CRC-16/CCITT-FALSE, and (where it pays through NAPAS) a
//! payment request generated from its bank and account round-trips. Each `valid: false` vector is
//! refused with a typed error, and with `CrcMismatch` exactly when the vector says the CRC is
//! wrong. A `valid: null` vector is robustness input: reading it must not panic.
//!
//! Runs as its own binary (`harness = false`) and prints one line `vietqr: N passed, N failed`
//! (`, N skipped` when the corpus is missing); `cargo xtask test` reports it as a suite of its own.
//! Exits non-zero when a check fails.

mod suite;

use std::path::Path;
use std::process::ExitCode;

use citizen_core::vietqr::{
    self, COUNTRY_VN, CURRENCY_VND, Initiation, VietQr, VietQrError, crc16, payment_request,
};
use serde_json::{Map, Value};
use suite::Report;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("core/ has a parent: the project root");
    let file = root.join("../shared/conformance/vietqr/vietqr-vectors.json");
    let mut report = Report::new("vietqr");
    let Ok(text) = std::fs::read_to_string(&file) else {
        report.skip(
            "corpus",
            &format!(
                "the VietQR vector file {} is missing; nothing to check",
                file.display()
            ),
        );
        return report.finish();
    };
    let vectors: Vec<Value> = match serde_json::from_str(&text) {
        Ok(vectors) => vectors,
        Err(error) => {
            report.fail("corpus", "load", &error.to_string());
            return report.finish();
        }
    };
    if vectors.is_empty() {
        report.fail("corpus", "load", "the vector file holds no vector");
    }
    for (index, vector) in vectors.iter().enumerate() {
        let id = vector["id"]
            .as_str()
            .map_or_else(|| format!("#{index}"), str::to_string);
        let Some(payload) = vector["payload"].as_str() else {
            report.fail(&id, "load", "no payload");
            continue;
        };
        let empty = Map::new();
        let expect = vector["expect"].as_object().unwrap_or(&empty);
        match vector["valid"] {
            Value::Bool(true) => check_valid(&id, payload, expect, &mut report),
            Value::Bool(false) => check_invalid(&id, payload, expect, &mut report),
            _ => check_robust(&id, payload, &mut report),
        }
    }
    println!(
        "vietqr conformance: {} vectors, {} checks",
        vectors.len(),
        report.passed + report.failed
    );
    report.finish()
}

fn check_valid(id: &str, payload: &str, expect: &Map<String, Value>, report: &mut Report) {
    let qr = match vietqr::parse(payload) {
        Ok(qr) => qr,
        Err(error) => {
            report.fail(id, "parse", &format!("refused: {error} ({error:?})"));
            return;
        }
    };
    report.check(id, "expected fields", expected_fields(payload, &qr, expect));
    report.check(id, "re-encode round trip", round_trip(&qr));
    if let Some(napas) = &qr.napas {
        let reference = qr.purpose().filter(|p| p.is_ascii()).unwrap_or("HS-000123");
        let outcome = payment_request(
            &napas.bank_bin,
            &napas.account,
            qr.amount.unwrap_or(10_000),
            &reference.chars().take(25).collect::<String>(),
        )
        .map_err(|error| format!("payment_request refused: {error}"))
        .and_then(|request| round_trip(&request));
        report.check(id, "payment request round trip", outcome);
    }
}

fn check_invalid(id: &str, payload: &str, expect: &Map<String, Value>, report: &mut Report) {
    let outcome = match vietqr::parse(payload) {
        Ok(qr) => Err(format!("accepted: {qr:?}")),
        Err(error) => match expect.get("crc_ok").and_then(Value::as_bool) {
            Some(false) if error != VietQrError::CrcMismatch => {
                Err(format!("refused with {error:?}, expected CrcMismatch"))
            }
            Some(true) if error == VietQrError::CrcMismatch => {
                Err("refused for its CRC, which the vector says is correct".into())
            }
            Some(true) if !crc_matches(payload) => {
                Err("the vector says the CRC is correct but it does not match".into())
            }
            _ => Ok(()),
        },
    };
    report.check(id, "refused with a typed error", outcome);
}

/// Robustness input: any answer but a panic, and what parses round-trips.
fn check_robust(id: &str, payload: &str, report: &mut Report) {
    let outcome = match std::panic::catch_unwind(|| vietqr::parse(payload)) {
        Err(_) => Err("the parser panicked".to_string()),
        Ok(Ok(qr)) => round_trip(&qr),
        Ok(Err(_)) => Ok(()),
    };
    report.check(id, "no panic", outcome);
}

/// Whether the payload's last four characters are the CRC of everything before them.
fn crc_matches(payload: &str) -> bool {
    let Some(split) = payload.len().checked_sub(4) else {
        return false;
    };
    let (Some(body), Some(stated)) = (payload.get(..split), payload.get(split..)) else {
        return false;
    };
    u16::from_str_radix(stated, 16).is_ok_and(|stated| stated == crc16(body.as_bytes()))
}

fn expected_fields(payload: &str, qr: &VietQr, expect: &Map<String, Value>) -> Result<(), String> {
    let napas = qr.napas.as_ref();
    for (key, value) in expect {
        let Some(expected) = value.as_str() else {
            return Err(format!("expectation {key} is not a string"));
        };
        let actual: Option<String> = match key.as_str() {
            "point_of_initiation" => Some(
                match qr.initiation {
                    Initiation::Static => "static",
                    Initiation::Dynamic => "dynamic",
                }
                .into(),
            ),
            "bank_bin" => napas.map(|n| n.bank_bin.clone()),
            "account_or_card" => napas.map(|n| n.account.clone()),
            "service_code" => napas.and_then(|n| n.service).map(|s| s.code().into()),
            "currency" => Some(CURRENCY_VND.into()),
            "country" => Some(COUNTRY_VN.into()),
            "amount" => qr.amount.map(|a| a.to_string()),
            "mcc" => qr.mcc.clone(),
            "merchant_name" => qr.merchant_name.clone(),
            "merchant_city" => qr.merchant_city.clone(),
            "crc" => payload
                .get(payload.len().saturating_sub(4)..)
                .filter(|_| crc_matches(payload))
                .map(str::to_ascii_uppercase),
            sub if sub.len() == 2 && sub.bytes().all(|b| b.is_ascii_digit()) => sub
                .parse::<u8>()
                .ok()
                .and_then(|id| qr.additional.get(&id).cloned()),
            other => return Err(format!("unknown expectation {other}")),
        };
        if actual.as_deref() != Some(expected) {
            return Err(format!("{key}: expected {expected:?}, got {actual:?}"));
        }
    }
    Ok(())
}

/// Encodes `qr`, checks the text carries a correct uppercase CRC over its UTF-8 bytes, and parses
/// back to the same value.
fn round_trip(qr: &VietQr) -> Result<(), String> {
    let text = qr
        .encode()
        .map_err(|error| format!("encode refused: {error}"))?;
    let (body, crc) = text.split_at(text.len() - 4);
    if !body.ends_with("6304") || crc != format!("{:04X}", crc16(body.as_bytes())) {
        return Err(format!("encoded CRC is wrong: {text}"));
    }
    match vietqr::parse(&text) {
        Ok(again) if again == *qr => Ok(()),
        Ok(again) => Err(format!("re-encoded payload reads as {again:?}")),
        Err(error) => Err(format!("re-encoded payload refused: {error}")),
    }
}
