//! Base45 (RFC 9285) conformance: the shared vectors (`../shared/conformance/base45/`, relative
//! to the project root) through `signed_qr`'s Base45: every pair of bytes and text round-trips
//! exactly both ways, and every input the RFC says to reject is refused.
//!
//! Runs as its own binary (`harness = false`) and prints one line `base45: N passed, N failed`;
//! `cargo xtask test` reports it as a suite of its own. Exits non-zero when a check fails.

mod suite;

use std::process::ExitCode;

use citizen_core::signed_qr::{base45_decode, base45_encode};
use serde_json::Value;
use suite::Report;

fn main() -> ExitCode {
    let mut report = Report::new("base45");
    let Some(file) = report.corpus("base45/rfc9285-vectors.json") else {
        return report.finish();
    };
    let Ok(vectors) = std::fs::read(&file) else {
        report.fail("corpus", "load", "the vector file is unreadable");
        return report.finish();
    };
    let vectors: Value = match serde_json::from_slice(&vectors) {
        Ok(Value::Object(vectors)) => Value::Object(vectors),
        _ => {
            report.fail("corpus", "load", "the vector file is not a JSON object");
            return report.finish();
        }
    };
    let mut cases = 0;
    for (group, entries) in vectors.as_object().into_iter().flatten() {
        let Value::Array(entries) = entries else {
            continue;
        };
        for (index, entry) in entries.iter().enumerate() {
            cases += 1;
            let name = format!("{group}[{index}]");
            match entry {
                // `[bytes, text]`: the bytes are written as a string whose characters are
                // the byte values (U+0000..U+00FF).
                Value::Array(pair) => match (pair.first(), pair.get(1)) {
                    (Some(Value::String(plain)), Some(Value::String(text))) => {
                        round_trip(&mut report, &name, plain, text)
                    }
                    _ => report.fail(&name, "load", "not a pair of strings"),
                },
                // `{ "input": text, "why": ... }`: must be refused.
                Value::Object(case) => match case.get("input") {
                    Some(Value::String(input)) => report.check(
                        &name,
                        "refused",
                        match base45_decode(input) {
                            Err(_) => Ok(()),
                            Ok(_) => Err(format!(
                                "{input:?} decoded; it must be refused ({})",
                                case.get("why").and_then(Value::as_str).unwrap_or("")
                            )),
                        },
                    ),
                    _ => report.fail(&name, "load", "no `input` string"),
                },
                _ => report.fail(&name, "load", "neither a pair nor a case object"),
            }
        }
    }
    if cases == 0 {
        report.fail("corpus", "load", "no vectors in the file");
    }
    println!(
        "base45 conformance: {cases} vectors from {}",
        file.display()
    );
    report.finish()
}

fn round_trip(report: &mut Report, name: &str, plain: &str, text: &str) {
    let bytes: Option<Vec<u8>> = plain.chars().map(|c| u8::try_from(c).ok()).collect();
    let Some(bytes) = bytes else {
        report.fail(
            name,
            "load",
            "a character of the plain side is not a byte value",
        );
        return;
    };
    let encoded = base45_encode(&bytes);
    report.check(
        name,
        "encode",
        if encoded == text {
            Ok(())
        } else {
            Err(format!("encoded to {encoded:?}, expected {text:?}"))
        },
    );
    report.check(
        name,
        "decode",
        match base45_decode(text) {
            Ok(decoded) if decoded == bytes => Ok(()),
            Ok(decoded) => Err(format!("decoded to {decoded:?}, expected {bytes:?}")),
            Err(error) => Err(format!("refused: {error}")),
        },
    );
}
