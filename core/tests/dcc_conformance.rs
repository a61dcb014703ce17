//! EU DCC conformance: every case of the shared corpus (`../shared/conformance/dgc-testdata/`,
//! relative to the project root; the upstream eu-digital-green-certificates test data).
//!
//! Each case's `EXPECTEDRESULTS` flags are reproduced with the SDK's own code, the signer found
//! by key id from `TESTCTX.CERTIFICATE` through `dcc::SignerCertificate` (the code the trust list
//! uses), each step fed from the rawest form the case has (the QR text `PREFIX`, else the Base45, the
//! compressed bytes, the COSE message, the CBOR claims). "Upstream's harness" below is
//! dgc-testdata's `tests/test_ehealth_certs.py`.
//!
//! | flag | reproduced as |
//! |---|---|
//! | `EXPECTEDPICTUREDECODE` | the PNG in `2DCODE` (decoded by `png`, turned to 8-bit luma, alpha over white) read by `rqrr`: `true` iff its text equals `PREFIX`; `false` passes when it differs or does not decode (as upstream's harness) |
//! | `EXPECTEDUNPREFIX` | the text starts with `HC1:` |
//! | `EXPECTEDB45DECODE` | strict Base45 decoding succeeds |
//! | `EXPECTEDCOMPRESSION` | bounded zlib inflation succeeds |
//! | `EXPECTEDVERIFY` | the COSE_Sign1 verifies with the key whose key id it names (EU DCC kid rule) |
//! | `EXPECTEDDECODE` | the claims read as a CWT claim set with an `hcert` claim |
//! | `EXPECTEDEXPIRATIONCHECK` | `dcc::check_times` at `VALIDATIONCLOCK` (a clock without a zone is UTC); upstream's `test_expiration_check` also asks `not_before <= iat` and `exp <= not_after` of the signer certificate; `dcc::verify` asks validity at `iat` and now, not at `exp`: cases stating `true` where upstream's extra condition fails are listed on their own line |
//! | `EXPECTEDKEYUSAGE` | the signer certificate's extended key usage allows the kind of every non-empty `v`/`t`/`r` group of the hcert |
//! | `EXPECTEDVALIDJSON` | the case's `JSON` reads as a DCC with the SDK's typed reader (how often it also equals the signed `hcert` is printed: upstream has cases whose JSON is another person's) |
//! | `EXPECTEDSCHEMAVALIDATION` | `true`: the typed `HealthCertificate` reads it. `false` (upstream's harness asserts nothing for it): passes when the typed reader refuses it, or the structure upstream asserts for `true` does not hold (exactly one of `v`/`t`/`r`, with exactly one entry); where neither refuses it (value-set cases such as an unknown country or manufacturer code: the SDK ships no EU value sets) it is neither passed, failed nor skipped, but counted as "not asserted, as upstream's harness" on the informational line |
//! | `EXPECTEDENCODE` | (no test in upstream's harness) the case's `JSON` as CBOR (integers as integers) equals the signed `hcert` as values: maps unordered, tags 0/1 by content, RFC 3339 date-times as instants (`Z` = `+00:00`, as upstream's `_ordered` compares date texts) |
//! | `EXPECTEDVALIDOBJECT` | (no test in upstream's harness) the case's `JSON` reads with the typed `HealthCertificate` reader |
//!
//! Beside the flags, an end-to-end check per case (`END-TO-END`): `dcc::verify(PREFIX, signers,
//! VALIDATIONCLOCK)` with `signers` every distinct `TESTCTX.CERTIFICATE` of the corpus, as a trust
//! list holds them. The case's verification flags (`UNPREFIX`, `B45DECODE`, `COMPRESSION`,
//! `VERIFY`, `DECODE`, `EXPIRATIONCHECK`, `KEYUSAGE`, and `SCHEMAVALIDATION` where true) decide
//! the expectation: one false, and the code must be refused for a step a false flag names (or,
//! where the corpus holds the certificate that really signed it, refused with every signer and
//! refused for such a step with the case's own certificate); all true, and it must be accepted, or
//! refused only for a step the case states nothing about (counted on its own line: e.g. expired
//! at its clock in a case without `EXPECTEDEXPIRATIONCHECK`). A listed flag of the case makes it
//! a listed skip.
//!
//! A check whose input the case lacks (no `2DCODE`; no verification flag for the end-to-end
//! check) is not run, as upstream's harness skips it ("Test dataset does not contain ..."): they
//! are counted on an informational line before the suite line. The misspelt `EXPTECTEDEXPIRED` of
//! seven cases is read by no upstream test and not here. A check is skipped only where
//! `known_issues.csv` lists it (upstream test name, country, test set).
//!
//! Runs as its own binary (`harness = false`) and prints `dcc: N flag checks not applicable
//! ...; N ... not asserted ...`, then the suite line `dcc: N passed, N failed, N skipped`; exits
//! non-zero when a check fails.

mod suite;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use base64::Engine as _;
use citizen_core::dcc::{self, DccError, EntryKind, HealthCertificate, SignerCertificate};
use citizen_core::signed_qr::{
    self, CborValue, Claims, SignedQrError, VerifyOptions, VerifyingKey, sign1,
};
use serde_json::{Map, Value};
use suite::{Report, find_json};

/// The flags `dcc::verify` answers for as a whole (`EXPECTEDSCHEMAVALIDATION` only where true:
/// the SDK reads some schema-invalid certificates leniently).
const VERIFICATION_FLAGS: [&str; 8] = [
    "EXPECTEDUNPREFIX",
    "EXPECTEDB45DECODE",
    "EXPECTEDCOMPRESSION",
    "EXPECTEDVERIFY",
    "EXPECTEDDECODE",
    "EXPECTEDEXPIRATIONCHECK",
    "EXPECTEDKEYUSAGE",
    "EXPECTEDSCHEMAVALIDATION",
];

/// The name the end-to-end check is reported under.
const END_TO_END: &str = "END-TO-END";

#[derive(Default)]
struct Stats {
    verified: usize,
    json_compared: usize,
    json_equal: usize,
    /// Flag checks whose input the case lacks (upstream's harness skips them: "Test dataset
    /// does not contain ...").
    not_applicable: usize,
    /// `EXPECTEDSCHEMAVALIDATION` false that neither the typed reader nor the structural rule
    /// refuses (only the EU value sets would): not asserted, as upstream's harness.
    not_asserted: usize,
    /// Per flag: passed, failed, skipped.
    flags: BTreeMap<&'static str, [usize; 3]>,
    /// End-to-end checks of cases stating every verification flag true that `dcc::verify`
    /// refused only for a step the case states nothing about (e.g. expired at its clock when
    /// the case has no `EXPECTEDEXPIRATIONCHECK`).
    e2e_refused_unstated: usize,
    /// End-to-end checks of cases stating a flag false that every corpus signer refused for
    /// another step, and the case's own certificate for a stated one.
    e2e_other_signer: usize,
    /// Cases with `EXPECTEDEXPIRATIONCHECK` true whose signer certificate does not cover
    /// `iat..exp` (upstream asks it; `dcc::verify` asks validity at `iat` and now).
    signer_short_of_exp: Vec<String>,
}

/// What a case's checks share: the report, the known issues, the tallies and the trust list.
struct Run<'r> {
    report: &'r mut Report,
    known: &'r [KnownIssue],
    stats: &'r mut Stats,
    /// Every distinct `TESTCTX.CERTIFICATE` of the corpus, as a trust list would hold them.
    signers: &'r Vec<SignerCertificate>,
}

/// One entry of `known_issues.csv`.
struct KnownIssue {
    flag: &'static str,
    country: String,
    test_set: String,
}

fn main() -> ExitCode {
    let mut report = Report::new("dcc");
    let Some(root) = report.corpus("dgc-testdata") else {
        return report.finish();
    };
    let known = match known_issues(&root) {
        Ok(known) => known,
        Err(error) => {
            report.fail("known_issues.csv", "load", &error);
            return report.finish();
        }
    };
    let mut files = Vec::new();
    find_json(&root, &mut files);
    files.sort();
    // First every case, then every distinct signer certificate of the corpus (the trust list of
    // the end-to-end checks), then the checks.
    let mut cases = Vec::new();
    for file in &files {
        let id = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        match std::fs::read_to_string(file)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_str::<Value>(&text).map_err(|e| e.to_string()))
        {
            // Upstream keeps a few files that are not cases (a bare claim set): no test context.
            Ok(case) if case.get("TESTCTX").is_none() => {}
            Ok(case) => cases.push((id, case)),
            Err(error) => report.fail(&id, "load", &error),
        }
    }
    let mut signers: Vec<SignerCertificate> = Vec::new();
    for (_, case) in &cases {
        let Some(text) = case["TESTCTX"]["CERTIFICATE"].as_str() else {
            continue;
        };
        if let Ok(signer) = SignerCertificate::from_base64(text.trim())
            && !signers.contains(&signer)
        {
            signers.push(signer);
        }
    }
    let mut stats = Stats::default();
    for (id, case) in &cases {
        let mut run = Run {
            report: &mut report,
            known: &known,
            stats: &mut stats,
            signers: &signers,
        };
        if Case::new(id, case).run(&mut run) {
            stats.verified += 1;
        }
    }
    println!(
        "dcc conformance: {} cases in {} files, {} distinct signer certificates, {} checks",
        cases.len(),
        files.len(),
        signers.len(),
        report.passed + report.failed + report.skipped
    );
    println!(
        "dcc conformance: {} cases verified; the signed hcert equals the case's JSON in {} of {}",
        stats.verified, stats.json_equal, stats.json_compared
    );
    for (flag, [passed, failed, skipped]) in &stats.flags {
        println!("dcc conformance: {flag}: {passed} passed, {failed} failed, {skipped} skipped");
    }
    println!(
        "dcc conformance: end-to-end: {} passed with a refusal for a step the case states nothing about, \
         {} refused for another step because the corpus holds the key id's real signer",
        stats.e2e_refused_unstated, stats.e2e_other_signer
    );
    if !stats.signer_short_of_exp.is_empty() {
        println!(
            "dcc conformance: EXPECTEDEXPIRATIONCHECK true though the signer certificate does not cover iat..exp \
             (upstream's check would refuse; dcc::verify accepts): {}",
            stats.signer_short_of_exp.join(" ")
        );
    }
    if cases.is_empty() {
        report.fail("corpus", "load", "no case found");
    }
    // Informational, before the suite line; not itself a suite line (no `passed`/`failed`).
    println!(
        "dcc: {} flag checks not applicable (the case lacks their input, as upstream's harness skips them); \
         {} EXPECTEDSCHEMAVALIDATION=false not asserted, as upstream's harness (only the EU value sets refuse them)",
        stats.not_applicable, stats.not_asserted
    );
    report.finish()
}

/// `known_issues.csv`: `test_name,country,test_set,reason`, the upstream test names mapped to
/// the flags they check.
fn known_issues(root: &Path) -> Result<Vec<KnownIssue>, String> {
    let text = std::fs::read_to_string(root.join("known_issues.csv")).map_err(|e| e.to_string())?;
    let mut issues = Vec::new();
    for line in text.lines().skip(1).filter(|line| !line.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        let [test, country, test_set, ..] = fields.as_slice() else {
            return Err(format!("a line has too few fields: {line}"));
        };
        let flag = match *test {
            "test_cose_schema" => "EXPECTEDSCHEMAVALIDATION",
            "test_cose_json" | "test_cbor_json" => "EXPECTEDVALIDJSON",
            "test_verification_check" => "EXPECTEDVERIFY",
            "test_expiration_check" => "EXPECTEDEXPIRATIONCHECK",
            "test_expected_key_usage" => "EXPECTEDKEYUSAGE",
            other => return Err(format!("unknown upstream test {other}")),
        };
        issues.push(KnownIssue {
            flag,
            country: country.to_string(),
            test_set: test_set.to_string(),
        });
    }
    Ok(issues)
}

struct Case<'a> {
    id: &'a str,
    case: &'a Value,
    expected: Map<String, Value>,
}

/// The outcome of one step: `None` when the case lacks what the step needs.
type Step<T> = Option<Result<T, String>>;

impl<'a> Case<'a> {
    fn new(id: &'a str, case: &'a Value) -> Self {
        Self {
            id,
            case,
            expected: case["EXPECTEDRESULTS"]
                .as_object()
                .cloned()
                .unwrap_or_default(),
        }
    }

    fn text(&self, name: &str) -> Option<&'a str> {
        self.case.get(name).and_then(Value::as_str)
    }

    fn hex(&self, name: &str) -> Option<Vec<u8>> {
        let text = self.text(name)?;
        (0..text.len() / 2 * 2)
            .step_by(2)
            .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
            .collect()
    }

    /// Is this case's `flag` listed in `known_issues.csv`?
    fn known_issue(&self, flag: &str, known: &[KnownIssue]) -> bool {
        let path = Path::new(self.id);
        let country = path
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .unwrap_or_default();
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        known.iter().any(|issue| {
            issue.flag == flag
                && issue.country == country
                && (issue.test_set.is_empty() || issue.test_set == stem)
        })
    }

    fn expected(&self, flag: &str) -> Option<bool> {
        self.expected.get(flag).and_then(Value::as_bool)
    }

    /// Compares the step's outcome with `flag`'s expectation, when the case states one. A step
    /// that could not run (`None`: the case lacks its input) is counted as not applicable.
    fn expect<T>(&self, run: &mut Run<'_>, flag: &'static str, outcome: &Step<T>) {
        let Some(expected) = self.expected(flag) else {
            return;
        };
        let Some(outcome) = outcome else {
            run.stats.not_applicable += 1;
            return;
        };
        let outcome = match (expected, outcome) {
            (true, Ok(_)) | (false, Err(_)) => Ok(()),
            (true, Err(why)) => Err(format!("expected success: {why}")),
            (false, Ok(_)) => Err("expected a failure, but it succeeded".to_string()),
        };
        self.record(run, flag, &[flag], outcome);
    }

    /// Records one check named `check`: a listed skip when one of `flags` is listed for this
    /// case in `known_issues.csv`, else its outcome.
    fn record(
        &self,
        run: &mut Run<'_>,
        check: &'static str,
        flags: &[&str],
        outcome: Result<(), String>,
    ) {
        let tally = run.stats.flags.entry(check).or_default();
        if let Some(flag) = flags.iter().find(|flag| self.known_issue(flag, run.known)) {
            tally[2] += 1;
            run.report.skip(
                self.id,
                &format!(
                    "{check}: {flag} listed in known_issues.csv (upstream expectation is wrong)"
                ),
            );
            return;
        }
        tally[usize::from(outcome.is_err())] += 1;
        run.report.check(self.id, check, outcome);
    }

    /// Runs every applicable check; returns whether the case verified.
    fn run(&self, run: &mut Run<'_>) -> bool {
        let ctx = &self.case["TESTCTX"];
        let signer = ctx["CERTIFICATE"]
            .as_str()
            .map(|text| SignerCertificate::from_base64(text.trim()).map_err(|e| e.to_string()));
        let clock = ctx["VALIDATIONCLOCK"].as_str().map(parse_clock);
        let qr = self.text("PREFIX");

        // The picture: it must read as the text (upstream: decoded == PREFIX).
        let picture: Step<()> = match (self.text("2DCODE"), qr) {
            (Some(picture), Some(qr)) => Some(read_picture(picture).and_then(|text| {
                if text == qr {
                    Ok(())
                } else {
                    Err(format!(
                        "the picture reads as another text ({} characters; PREFIX has {})",
                        text.len(),
                        qr.len()
                    ))
                }
            })),
            _ => None,
        };
        self.expect(run, "EXPECTEDPICTUREDECODE", &picture);

        // The whole chain at once, as an app calls it.
        let own_signer = match &signer {
            Some(Ok(signer)) => Some(signer),
            _ => None,
        };
        self.end_to_end(run, qr, clock.as_ref(), own_signer);

        // The text and its layers.
        let unprefixed: Step<&str> = qr.map(|qr| {
            qr.strip_prefix(dcc::PROFILE.prefix)
                .ok_or_else(|| "no HC1: prefix".to_string())
        });
        self.expect(run, "EXPECTEDUNPREFIX", &unprefixed);
        let base45 = match &unprefixed {
            Some(Ok(body)) => Some(*body),
            Some(Err(_)) => None,
            None => self.text("BASE45"),
        };
        let compressed: Step<Vec<u8>> =
            base45.map(|body| signed_qr::base45_decode(body).map_err(|e| format!("{e:?}")));
        self.expect(run, "EXPECTEDB45DECODE", &compressed);
        let compressed_bytes = match &compressed {
            Some(Ok(bytes)) => Some(bytes.clone()),
            Some(Err(_)) => None,
            None => self.hex("COMPRESSED"),
        };
        let cose: Step<Vec<u8>> = compressed_bytes.map(|bytes| {
            let text = format!("HC1:{}", signed_qr::base45_encode(&bytes));
            signed_qr::unwrap_text(&dcc::PROFILE, &text).map_err(|e| format!("{e:?}"))
        });
        self.expect(run, "EXPECTEDCOMPRESSION", &cose);
        let cose_bytes = match &cose {
            Some(Ok(bytes)) => Some(bytes.clone()),
            Some(Err(_)) => None,
            None => self.hex("COSE"),
        };

        // The signature, with the key found by key id.
        let verified: Step<Vec<u8>> = match (&cose_bytes, &signer) {
            (Some(cose), Some(Ok(signer))) => {
                let lookup = |kid: &[u8]| -> Option<VerifyingKey> {
                    (kid == signer.kid()).then(|| signer.key().clone())
                };
                let options = VerifyOptions {
                    kid: dcc::PROFILE.kid,
                    ..VerifyOptions::default()
                };
                Some(
                    signed_qr::sign1::verify(cose, &options, &lookup)
                        .map(|v| v.payload)
                        .map_err(|e| format!("{e:?}")),
                )
            }
            (Some(_), Some(Err(error))) => Some(Err(format!("signer certificate: {error}"))),
            _ => None,
        };
        self.expect(run, "EXPECTEDVERIFY", &verified);

        // The case's JSON: readable by the typed reader (VALIDJSON, VALIDOBJECT).
        let json = self.case.get("JSON");
        let json_read: Step<HealthCertificate> = json.map(|json| {
            json_to_cbor(json)
                .ok_or_else(|| "not representable as CBOR".to_string())
                .and_then(|value| HealthCertificate::from_value(&value).map_err(|e| e.to_string()))
        });
        self.expect(run, "EXPECTEDVALIDJSON", &json_read);
        self.expect(run, "EXPECTEDVALIDOBJECT", &json_read);

        // The claims: from the verified payload, else unverified from the COSE or the CBOR.
        let payload = match &verified {
            Some(Ok(payload)) => Some(payload.clone()),
            _ => cose_bytes
                .as_deref()
                // Without checking the signature (the decoding checks of cases whose signature
                // is meant to fail), with the verifier's own bounds and structure rules.
                .and_then(|cose| sign1::unverified_payload(cose).ok())
                .or_else(|| self.hex("CBOR")),
        };
        // Decoding: the case's CBOR (upstream gives the claim set or only the certificate there,
        // and a broken one beside a good message) must be one bounded, well-formed CBOR item;
        // without it, the message's payload must read as a claim set with an `hcert`. The checks
        // after it read the payload first, the case's CBOR otherwise.
        let read = |payload: Vec<u8>| -> Result<(Claims, CborValue), String> {
            let claims = Claims::from_cbor(&payload).map_err(|e| format!("{e:?}"))?;
            let hcert = hcert_value(&claims).ok_or("no hcert claim with key 1")?;
            Ok((claims, hcert))
        };
        let cbor = self.hex("CBOR");
        let decodes: Step<()> = match (&cbor, &payload) {
            (Some(cbor), _) => Some(
                signed_qr::cbor::check(cbor, signed_qr::MAX_CBOR_DEPTH)
                    .map_err(|e| format!("{e:?}")),
            ),
            (None, Some(payload)) => Some(read(payload.clone()).map(|_| ())),
            (None, None) => None,
        };
        self.expect(run, "EXPECTEDDECODE", &decodes);
        let (claims, hcert) = match payload.or(cbor).map(read) {
            Some(Ok(decoded)) => decoded,
            // The checks below read the claims: without them they fail where success is
            // expected, or count as not applicable where the case has no claims at all.
            unreadable => {
                let why: Step<()> = match unreadable {
                    Some(Err(why)) => Some(Err(format!("the claims: {why}"))),
                    _ => None,
                };
                for flag in [
                    "EXPECTEDENCODE",
                    "EXPECTEDSCHEMAVALIDATION",
                    "EXPECTEDEXPIRATIONCHECK",
                    "EXPECTEDKEYUSAGE",
                ] {
                    self.expect(run, flag, &why);
                }
                return false;
            }
        };

        // ENCODE: the case's JSON, as CBOR, is the signed hcert (as values).
        let encode: Step<()> = json.map(|json| match json_to_cbor(json) {
            Some(ours) if same_value(&ours, &hcert) => Ok(()),
            Some(_) => Err(format!(
                "the JSON as CBOR differs from the signed hcert at {}",
                cbor_to_json(&hcert).map_or("(not JSON)".into(), |signed| first_difference(
                    json, &signed
                ))
            )),
            None => Err("the JSON is not representable as CBOR".into()),
        });
        self.expect(run, "EXPECTEDENCODE", &encode);

        let typed = HealthCertificate::from_value(&hcert).map_err(|e| e.to_string());
        match self.expected("EXPECTEDSCHEMAVALIDATION") {
            Some(true) => self.expect(run, "EXPECTEDSCHEMAVALIDATION", &Some(typed.clone())),
            Some(false) => {
                // Upstream asserts nothing here; the typed reader or the structure upstream
                // asserts for `true` refusing it counts as reproduced.
                let refused = match (&typed, &one_entry(&hcert)) {
                    (Err(why), _) | (Ok(_), Err(why)) => Some(why.clone()),
                    (Ok(_), Ok(_)) => None,
                };
                if let Some(why) = refused {
                    self.expect(run, "EXPECTEDSCHEMAVALIDATION", &Some(Err::<(), _>(why)));
                } else if self.known_issue("EXPECTEDSCHEMAVALIDATION", run.known) {
                    self.expect(run, "EXPECTEDSCHEMAVALIDATION", &Some(Ok(())));
                } else {
                    run.stats.not_asserted += 1;
                    println!(
                        "NOTE {}: EXPECTEDSCHEMAVALIDATION false is not asserted (as upstream's harness): \
                         the typed reader and the one-entry structure accept it",
                        self.id
                    );
                }
            }
            None => {}
        }
        if let Some(json) = json {
            // Not a flag: how often the signed certificate is the case's JSON (upstream has a
            // few cases whose JSON describes another person).
            run.stats.json_compared += 1;
            match cbor_to_json(&hcert) {
                Some(ours) if ours == *json => run.stats.json_equal += 1,
                ours => println!(
                    "NOTE {}: the signed hcert differs from the case's JSON at {}",
                    self.id,
                    ours.map_or("(not JSON)".into(), |ours| first_difference(&ours, json))
                ),
            }
        }
        // Times and key usage, with the signer and the clock of the case.
        let times: Step<()> = match (&signer, &clock) {
            (Some(Ok(signer)), Some(clock)) => Some(match (claims.iat, claims.exp, clock) {
                (_, None, _) => Err("no exp".to_string()),
                (iat, Some(exp), Ok(now)) => {
                    let iat = iat.unwrap_or(*now);
                    if self.expected("EXPECTEDEXPIRATIONCHECK") == Some(true)
                        && !(signer.valid_at(iat) && signer.valid_at(exp))
                    {
                        run.stats.signer_short_of_exp.push(format!(
                            "{} (signer {}..{}, iat {iat}, exp {exp})",
                            self.id,
                            signer.not_before(),
                            signer.not_after()
                        ));
                    }
                    dcc::check_times(iat, exp, signer, *now).map_err(|e| {
                        format!(
                            "{e} (iat {iat:?}, exp {exp}, clock {now}, signer {}..{})",
                            signer.not_before(),
                            signer.not_after()
                        )
                    })
                }
                (_, _, Err(error)) => Err(error.clone()),
            }),
            (Some(Err(error)), _) => Some(Err(format!("signer certificate: {error}"))),
            _ => None,
        };
        self.expect(run, "EXPECTEDEXPIRATIONCHECK", &times);
        // Key usage from the hcert's own groups (as upstream reads `v`/`t`/`r`), so that a
        // certificate the typed reader refuses is still checked.
        let usage: Step<()> = match &signer {
            Some(Ok(signer)) => Some(
                if kinds(&hcert).into_iter().all(|kind| signer.may_sign(kind)) {
                    Ok(())
                } else {
                    Err("the signer's extended key usage does not allow this kind".to_string())
                },
            ),
            Some(Err(error)) => Some(Err(format!("signer certificate: {error}"))),
            None => None,
        };
        self.expect(run, "EXPECTEDKEYUSAGE", &usage);
        matches!(verified, Some(Ok(_)))
    }

    /// `dcc::verify(PREFIX, every corpus signer, VALIDATIONCLOCK)`. A case stating a
    /// verification flag false must be refused for a step one of them names; a case stating
    /// them all true must be accepted, or refused only for a step it states nothing about
    /// (counted apart). Not applicable without `PREFIX`, a clock or any such flag.
    fn end_to_end(
        &self,
        run: &mut Run<'_>,
        qr: Option<&str>,
        clock: Option<&Result<i64, String>>,
        own_signer: Option<&SignerCertificate>,
    ) {
        let stated: Vec<(&str, bool)> = VERIFICATION_FLAGS
            .iter()
            .filter_map(|flag| Some((*flag, self.expected(flag)?)))
            // A schema-invalid certificate the SDK reads leniently is not a refusal.
            .filter(|(flag, value)| *value || *flag != "EXPECTEDSCHEMAVALIDATION")
            .collect();
        let (Some(qr), Some(clock), false) = (qr, clock, stated.is_empty()) else {
            run.stats.not_applicable += 1;
            return;
        };
        let now = match clock {
            Ok(now) => *now,
            Err(error) => {
                let flags: Vec<&str> = stated.iter().map(|(flag, _)| *flag).collect();
                return self.record(run, END_TO_END, &flags, Err(error.clone()));
            }
        };
        let outcome = dcc::verify(qr, run.signers, now);
        let flags: Vec<&str> = stated.iter().map(|(flag, _)| *flag).collect();
        let failing: Vec<&str> = stated
            .iter()
            .filter(|(_, value)| !value)
            .map(|(flag, _)| *flag)
            .collect();
        let result = match (&outcome, failing.is_empty()) {
            (Ok(_), true) => Ok(()),
            (Ok(_), false) => Err(format!("accepted, but the case expects {failing:?} false")),
            (Err(error), false) => {
                let for_failing =
                    |error: &DccError| error_flags(error).iter().any(|flag| failing.contains(flag));
                // The case's flags describe its own certificate; the corpus may also hold the
                // certificate that really signed it (PL's "signed with a recovery DSC"): then the
                // refusal for a stated step is what the case's own certificate gives.
                let own = own_signer.map(|own| dcc::verify(qr, &vec![own.clone()], now));
                if for_failing(error) {
                    Ok(())
                } else if let Some(Err(own_error)) = &own
                    && for_failing(own_error)
                {
                    run.stats.e2e_other_signer += 1;
                    println!(
                        "NOTE {}: {END_TO_END}: refused for {} with every corpus signer (another corpus \
                         certificate has its key id), for {} with its own certificate",
                        self.id,
                        error.code(),
                        own_error.code()
                    );
                    Ok(())
                } else {
                    Err(format!(
                        "refused ({}: {error}), but not for a step of {failing:?}",
                        error.code()
                    ))
                }
            }
            (Err(error), true) => {
                if error_flags(error).iter().any(|flag| flags.contains(flag)) {
                    Err(format!("expected acceptance: {}: {error}", error.code()))
                } else {
                    run.stats.e2e_refused_unstated += 1;
                    Ok(())
                }
            }
        };
        self.record(run, END_TO_END, &flags, result);
    }
}

/// The flags whose step can refuse a code with `error`.
fn error_flags(error: &DccError) -> &'static [&'static str] {
    match error {
        DccError::SignedQr(SignedQrError::TooLong | SignedQrError::WrongPrefix) => {
            &["EXPECTEDUNPREFIX"]
        }
        DccError::SignedQr(SignedQrError::Base45) => &["EXPECTEDB45DECODE"],
        DccError::SignedQr(
            SignedQrError::Compression
            | SignedQrError::TrailingCompressedBytes
            | SignedQrError::TooLarge,
        ) => &["EXPECTEDCOMPRESSION"],
        DccError::SignedQr(
            SignedQrError::UnknownKey
            | SignedQrError::SignatureInvalid
            | SignedQrError::SignatureLength
            | SignedQrError::AlgorithmKeyMismatch,
        ) => &["EXPECTEDVERIFY"],
        DccError::SignedQr(SignedQrError::Claims(_)) | DccError::MissingClaim(_) => {
            &["EXPECTEDDECODE"]
        }
        // The COSE structure: upstream's verification and decoding steps both read it.
        DccError::SignedQr(_) => &["EXPECTEDVERIFY", "EXPECTEDDECODE"],
        DccError::Hcert(_) => &["EXPECTEDDECODE", "EXPECTEDSCHEMAVALIDATION"],
        DccError::Expired | DccError::NotYetValid | DccError::SignerNotValid => {
            &["EXPECTEDEXPIRATIONCHECK"]
        }
        DccError::KeyUsage => &["EXPECTEDKEYUSAGE"],
        _ => &[],
    }
}

/// The structural part of the schema upstream asserts for `EXPECTEDSCHEMAVALIDATION` true:
/// exactly one of `v`, `t`, `r`, holding exactly one entry.
fn one_entry(hcert: &CborValue) -> Result<(), String> {
    let CborValue::Map(entries) = hcert else {
        return Err("the hcert is not a map".into());
    };
    let groups: Vec<&CborValue> = entries
        .iter()
        .filter(|(key, _)| matches!(key, CborValue::Text(key) if ["v", "t", "r"].contains(&key.as_str())))
        .map(|(_, value)| value)
        .collect();
    match groups.as_slice() {
        [CborValue::Array(items)] if items.len() == 1 => Ok(()),
        [CborValue::Array(items)] => Err(format!("{} entries, not exactly one", items.len())),
        [_] => Err("the entry group is not an array".into()),
        groups => Err(format!("{} of v/t/r, not exactly one", groups.len())),
    }
}

/// The kinds of the hcert's entry groups (`v`, `t`, `r`) that hold at least one entry.
fn kinds(hcert: &CborValue) -> Vec<EntryKind> {
    let CborValue::Map(entries) = hcert else {
        return Vec::new();
    };
    entries
        .iter()
        .filter(|(_, value)| !matches!(value, CborValue::Array(items) if items.is_empty()))
        .filter_map(|(key, _)| match key {
            CborValue::Text(key) if key == "v" => Some(EntryKind::Vaccination),
            CborValue::Text(key) if key == "t" => Some(EntryKind::Test),
            CborValue::Text(key) if key == "r" => Some(EntryKind::Recovery),
            _ => None,
        })
        .collect()
}

/// Equal as CBOR values: maps as unordered sets of entries (no duplicate keys), the rest
/// structurally; tags 0 and 1 (date-time, epoch time) are compared by their content, as the
/// JSON holds only the content.
fn same_value(a: &CborValue, b: &CborValue) -> bool {
    match (a, b) {
        (CborValue::Tag(0 | 1, a), b) | (b, CborValue::Tag(0 | 1, a)) => same_value(a, b),
        (CborValue::Map(a), CborValue::Map(b)) => {
            a.len() == b.len()
                && a.iter().all(|(key, value)| {
                    b.iter()
                        .filter(|(other, _)| other == key)
                        .map(|(_, other)| other)
                        .eq_by_value(value)
                })
        }
        (CborValue::Array(a), CborValue::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_value(a, b))
        }
        // RFC 3339 date-times (the schema's `date-time` fields, e.g. `sc`) denote an instant:
        // `...Z` and `...+00:00` are one value.
        (CborValue::Text(a), CborValue::Text(b)) => {
            a == b
                || (a.len() >= 20
                    && b.len() >= 20
                    && a.contains('T')
                    && b.contains('T')
                    && matches!((parse_clock(a), parse_clock(b)), (Ok(a), Ok(b)) if a == b))
        }
        _ => a == b,
    }
}

/// Exactly one value, equal to `value`.
trait EqByValue<'a> {
    fn eq_by_value(self, value: &CborValue) -> bool;
}

impl<'a, I: Iterator<Item = &'a CborValue>> EqByValue<'a> for I {
    fn eq_by_value(mut self, value: &CborValue) -> bool {
        matches!((self.next(), self.next()), (Some(only), None) if same_value(only, value))
    }
}

/// The text of the QR code in a base64 PNG: decoded to 8-bit luma (alpha composed over
/// white), then read by rqrr.
fn read_picture(base64: &str) -> Result<String, String> {
    let clean: String = base64.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(clean)
        .map_err(|e| format!("base64: {e}"))?;
    let (width, height, luma) = png_luma(&bytes)?;
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| luma[y * width + x]);
    let grids = image.detect_grids();
    let Some(grid) = grids.first() else {
        return Err(format!("no QR code found in the {width}x{height} picture"));
    };
    grid.decode()
        .map(|(_, text)| text)
        .map_err(|e| format!("the QR code does not decode: {e:?}"))
}

/// A PNG as (width, height, 8-bit luma pixels by rows).
fn png_luma(bytes: &[u8]) -> Result<(usize, usize, Vec<u8>), String> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    // Palette and low bit depths to 8-bit samples, 16-bit samples to 8, tRNS to alpha.
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(|e| format!("png: {e}"))?;
    let mut buffer = vec![0; reader.output_buffer_size().ok_or("png: too large")?];
    let frame = reader
        .next_frame(&mut buffer)
        .map_err(|e| format!("png: {e}"))?;
    let (width, height) = (frame.width as usize, frame.height as usize);
    let pixels = &buffer[..frame.buffer_size()];
    let over_white = |luma: u32, alpha: u32| ((luma * alpha + 255 * (255 - alpha)) / 255) as u8;
    let to_luma =
        |r: u8, g: u8, b: u8| (u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114) / 1000;
    let samples = frame.color_type.samples();
    let line = frame.line_size;
    let mut luma = Vec::with_capacity(width * height);
    for row in pixels.chunks(line).take(height) {
        for pixel in row[..width * samples].chunks(samples) {
            luma.push(match *pixel {
                [l] => l,
                [l, a] => over_white(u32::from(l), u32::from(a)),
                [r, g, b] => to_luma(r, g, b) as u8,
                [r, g, b, a] => over_white(to_luma(r, g, b), u32::from(a)),
                _ => return Err("png: unexpected samples per pixel".into()),
            });
        }
    }
    Ok((width, height, luma))
}

fn hcert_value(claims: &Claims) -> Option<CborValue> {
    let CborValue::Map(hcert) = claims
        .private
        .get(&signed_qr::ClaimKey::Int(dcc::hcert::HCERT_CLAIM))?
    else {
        return None;
    };
    hcert
        .iter()
        .find(|(key, _)| *key == CborValue::Integer(1.into()))
        .map(|(_, value)| value.clone())
}

/// A CBOR value as JSON (text keys only; numbers as JSON numbers).
fn cbor_to_json(value: &CborValue) -> Option<Value> {
    Some(match value {
        CborValue::Null => Value::Null,
        CborValue::Bool(b) => Value::Bool(*b),
        CborValue::Text(text) => Value::String(text.clone()),
        CborValue::Integer(int) => {
            let int = i128::from(*int);
            Value::Number(i64::try_from(int).ok()?.into())
        }
        CborValue::Float(float) => {
            if float.fract() == 0.0 && float.abs() < 9.0e15 {
                Value::Number((*float as i64).into())
            } else {
                Value::Number(serde_json::Number::from_f64(*float)?)
            }
        }
        // Tag 0 (date-time text) and 1 (epoch time) on `sc`/`dr`: the JSON holds the value.
        CborValue::Tag(0 | 1, inner) => cbor_to_json(inner)?,
        CborValue::Array(items) => {
            Value::Array(items.iter().map(cbor_to_json).collect::<Option<_>>()?)
        }
        CborValue::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(key, value)| match key {
                    CborValue::Text(key) => Some((key.clone(), cbor_to_json(value)?)),
                    _ => None,
                })
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

/// `VALIDATIONCLOCK` as Unix seconds: `YYYY-MM-DDTHH:MM:SS`, an optional fraction (dropped),
/// then `Z`, `±HH:MM`, `±HHMM` or nothing (UTC).
fn parse_clock(text: &str) -> Result<i64, String> {
    let bad = || format!("unreadable clock {text}");
    let (date, time) = text.split_once('T').ok_or_else(bad)?;
    let number = |s: &str| s.parse::<i64>().map_err(|_| bad());
    let [year, month, day] = date.split('-').collect::<Vec<_>>()[..] else {
        return Err(bad());
    };
    let zone_at = time.find(['Z', '+', '-']).unwrap_or(time.len());
    let (clock, zone) = time.split_at(zone_at);
    let clock = clock.split('.').next().ok_or_else(bad)?;
    let [hour, minute, second] = clock.split(':').collect::<Vec<_>>()[..] else {
        return Err(bad());
    };
    let offset = match zone {
        "" | "Z" => 0,
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 {
                return Err(bad());
            }
            sign * (number(&digits[..2])? * 3600 + number(&digits[2..])? * 60)
        }
    };
    let days = days_from_civil(number(year)?, number(month)?, number(day)?);
    Ok(days * 86_400 + number(hour)? * 3600 + number(minute)? * 60 + number(second)? - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Where two JSON values first differ, as a path (test data only: no real person's values).
fn first_difference(ours: &Value, theirs: &Value) -> String {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            for key in a.keys().chain(b.keys()) {
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) if x == y => continue,
                    (Some(x), Some(y)) => return format!("{key}.{}", first_difference(x, y)),
                    (x, y) => return format!("{key}: ours {x:?}, theirs {y:?}"),
                }
            }
            "?".into()
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .position(|(x, y)| x != y)
            .map_or("?".into(), |i| {
                format!("[{i}].{}", first_difference(&a[i], &b[i]))
            }),
        _ => format!("ours {ours}, theirs {theirs}"),
    }
}

/// The CBOR value of a JSON value (integers as integers), as ciborium's serde bridge writes it.
fn json_to_cbor(value: &Value) -> Option<CborValue> {
    CborValue::serialized(value).ok()
}
