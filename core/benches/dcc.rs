//! EU DCC verification time, summarised by `cargo xtask bench` as `dcc.verify_us`.
//!
//! - `dcc/verify`: `dcc::verify` of one `HC1:` code (text → Base45 → zlib → COSE_Sign1 signature
//!   with the signer certificate found by key id → CWT claims → typed `hcert` → time and key
//!   usage checks), cycling through every ES256 and PS256 case of the shared corpus
//!   (`../shared/conformance/dgc-testdata/`) that verifies at its own `iat`. Every case looks its
//!   signer up in one list of all distinct signer certificates of the corpus, as a trust list
//!   holds them (not a list of its own signer alone): the mean per iteration is the mean per
//!   certificate over the corpus, key id lookup included.

use std::hint::black_box;
use std::path::Path;

use citizen_core::dcc::{self, SignerCertificate};
use citizen_core::signed_qr::{self, VerifyingKey};
use criterion::{Criterion, criterion_group, criterion_main};

#[allow(dead_code)] // The bench uses only the folder walk of the suites' helper.
#[path = "../tests/suite/mod.rs"]
mod suite;

/// A case that verifies: its text, the time it is checked at, and whether its signer is PS256.
struct Case {
    text: String,
    at: i64,
    rsa: bool,
}

/// The corpus's cases (text, signer) and every distinct signer certificate.
fn load() -> (Vec<(String, SignerCertificate)>, Vec<SignerCertificate>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/dgc-testdata");
    let mut files = Vec::new();
    suite::find_json(&root, &mut files);
    files.sort();
    let cases: Vec<(String, SignerCertificate)> = files
        .iter()
        .filter_map(|file| {
            let case: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(file).ok()?).ok()?;
            let text = case["PREFIX"].as_str()?.to_string();
            let signer =
                SignerCertificate::from_base64(case["TESTCTX"]["CERTIFICATE"].as_str()?.trim())
                    .ok()?;
            Some((text, signer))
        })
        .collect();
    let mut signers: Vec<SignerCertificate> = Vec::new();
    for (_, signer) in &cases {
        if !signers.contains(signer) {
            signers.push(signer.clone());
        }
    }
    (cases, signers)
}

/// The cases that verify at their own `iat` with every corpus signer in the list.
fn corpus(signers: &Vec<SignerCertificate>, cases: &[(String, SignerCertificate)]) -> Vec<Case> {
    cases
        .iter()
        .filter_map(|(text, signer)| {
            let key = |kid: &[u8]| (kid == signer.kid()).then(|| signer.key().clone());
            let at = signed_qr::decode(&dcc::PROFILE, text, &key)
                .ok()?
                .claims
                .iat?;
            dcc::verify(text, signers, at).ok()?;
            Some(Case {
                text: text.clone(),
                at,
                rsa: matches!(signer.key(), VerifyingKey::Ps256(_)),
            })
        })
        .collect()
}

fn bench_dcc(c: &mut Criterion) {
    let (all, signers) = load();
    let cases = corpus(&signers, &all);
    if cases.is_empty() {
        eprintln!("dcc bench: the dgc-testdata corpus is missing or verifies nothing; no figure");
        return;
    }
    let rsa = cases.iter().filter(|case| case.rsa).count();
    eprintln!(
        "dcc bench: {} corpus certificates verify ({} ES256, {rsa} PS256), each looked up among {} signers",
        cases.len(),
        cases.len() - rsa,
        signers.len()
    );
    let mut group = c.benchmark_group("dcc");
    group.bench_function("verify", |b| {
        let mut next = 0;
        b.iter(|| {
            let case = &cases[next % cases.len()];
            next += 1;
            black_box(dcc::verify(black_box(&case.text), &signers, case.at))
        })
    });
    group.finish();
}

criterion_group!(benches, bench_dcc);
criterion_main!(benches);
