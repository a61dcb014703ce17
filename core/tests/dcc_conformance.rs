//! EU DCC conformance: every case of the shared corpus (`../shared/conformance/dgc-testdata/`,
//! relative to the project root; the upstream eu-digital-green-certificates test data).
//!
//! Each case's `EXPECTEDRESULTS` flags are reproduced with the SDK's own code, the signer found
//! by key id from `TESTCTX.CERTIFICATE` through `dcc::SignerCertificate` (the code the trust list
//! uses), each step fed from the rawest form the case has (the QR text `PREFIX`, else the Base45, the
//! compressed bytes, the COSE message, the CBOR claims):
//!
//! | flag | reproduced as |
//! |---|---|
//! | `EXPECTEDUNPREFIX` | the text starts with `HC1:` |
//! | `EXPECTEDB45DECODE` | strict Base45 decoding succeeds |
//! | `EXPECTEDCOMPRESSION` | bounded zlib inflation succeeds |
//! | `EXPECTEDVERIFY` | the COSE_Sign1 verifies with the key whose key id it names (EU DCC kid rule) |
//! | `EXPECTEDDECODE` | the claims read as a CWT claim set with an `hcert` claim |
//! | `EXPECTEDEXPIRATIONCHECK` | `dcc::check_times` at `VALIDATIONCLOCK` (a clock without a zone is UTC) |
//! | `EXPECTEDKEYUSAGE` | the signer certificate's extended key usage allows every entry's kind |
//! | `EXPECTEDVALIDJSON` | the case's `JSON` reads as a DCC with the SDK's typed reader (how often it also equals the signed `hcert` is printed: upstream has cases whose JSON is another person's) |
//! | `EXPECTEDSCHEMAVALIDATION` | `true`: the typed `HealthCertificate` reads it; `false` is not checked (the SDK reads certificates leniently where the schema's later versions differ) |
//!
//! `EXPECTEDPICTUREDECODE` (QR images), `EXPECTEDENCODE` (needs the signer's private key) and
//! `EXPECTEDVALIDOBJECT` are outside what the SDK does and are not counted, nor is the misspelt
//! `EXPTECTEDEXPIRED` of seven cases, which no upstream test reads. A check is skipped
//! only where `known_issues.csv` lists it (upstream test name, country, test set).
//!
//! Runs as its own binary (`harness = false`) and prints one line `dcc: N passed, N failed,
//! N skipped`; exits non-zero when a check fails.

mod suite;

use std::path::Path;
use std::process::ExitCode;

use citizen_core::dcc::{self, HealthCertificate, SignerCertificate};
use citizen_core::signed_qr::{self, CborValue, Claims, VerifyOptions, VerifyingKey};
use serde_json::{Map, Value};
use suite::{Report, find_json};

#[derive(Default)]
struct Stats {
    verified: usize,
    json_compared: usize,
    json_equal: usize,
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
    let mut cases = 0;
    let mut stats = Stats::default();
    for file in &files {
        let id = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        let case: Value = match std::fs::read_to_string(file)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_str(&text).map_err(|e| e.to_string()))
        {
            Ok(case) => case,
            Err(error) => {
                report.fail(&id, "load", &error);
                continue;
            }
        };
        // Upstream keeps a few files that are not cases (a bare claim set): no test context.
        if case.get("TESTCTX").is_none() {
            continue;
        }
        cases += 1;
        if Case::new(&id, &case).run(&mut report, &known, &mut stats) {
            stats.verified += 1;
        }
    }
    println!(
        "dcc conformance: {cases} cases in {} files, {} checks",
        files.len(),
        report.passed + report.failed + report.skipped
    );
    println!(
        "dcc conformance: {} cases verified; the signed hcert equals the case's JSON in {} of {}",
        stats.verified, stats.json_equal, stats.json_compared
    );
    if cases == 0 {
        report.fail("corpus", "load", "no case found");
    }
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

    /// Compares the step's outcome with `flag`'s expectation, when the case states one and the
    /// step could run. Returns whether it was checked.
    fn expect<T>(&self, report: &mut Report, known: &[KnownIssue], flag: &str, outcome: &Step<T>) {
        let Some(expected) = self.expected.get(flag).and_then(Value::as_bool) else {
            return;
        };
        let Some(outcome) = outcome else {
            return;
        };
        if self.known_issue(flag, known) {
            report.skip(
                self.id,
                &format!("{flag}: listed in known_issues.csv (upstream expectation is wrong)"),
            );
            return;
        }
        let outcome = match (expected, outcome) {
            (true, Ok(_)) | (false, Err(_)) => Ok(()),
            (true, Err(why)) => Err(format!("expected success: {why}")),
            (false, Ok(_)) => Err("expected a failure, but it succeeded".to_string()),
        };
        report.check(self.id, flag, outcome);
    }

    /// Runs every applicable check; returns whether the case verified.
    fn run(&self, report: &mut Report, known: &[KnownIssue], stats: &mut Stats) -> bool {
        let ctx = &self.case["TESTCTX"];
        let signer = ctx["CERTIFICATE"]
            .as_str()
            .map(|text| SignerCertificate::from_base64(text.trim()).map_err(|e| e.to_string()));
        let clock = ctx["VALIDATIONCLOCK"].as_str().map(parse_clock);

        // The text and its layers.
        let qr = self.text("PREFIX");
        let unprefixed: Step<&str> = qr.map(|qr| {
            qr.strip_prefix(dcc::PROFILE.prefix)
                .ok_or_else(|| "no HC1: prefix".to_string())
        });
        self.expect(report, known, "EXPECTEDUNPREFIX", &unprefixed);
        let base45 = match &unprefixed {
            Some(Ok(body)) => Some(*body),
            Some(Err(_)) => None,
            None => self.text("BASE45"),
        };
        let compressed: Step<Vec<u8>> =
            base45.map(|body| signed_qr::base45_decode(body).map_err(|e| format!("{e:?}")));
        self.expect(report, known, "EXPECTEDB45DECODE", &compressed);
        let compressed_bytes = match &compressed {
            Some(Ok(bytes)) => Some(bytes.clone()),
            Some(Err(_)) => None,
            None => self.hex("COMPRESSED"),
        };
        let cose: Step<Vec<u8>> = compressed_bytes.map(|bytes| {
            let text = format!("HC1:{}", signed_qr::base45_encode(&bytes));
            signed_qr::unwrap_text(&dcc::PROFILE, &text).map_err(|e| format!("{e:?}"))
        });
        self.expect(report, known, "EXPECTEDCOMPRESSION", &cose);
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
        self.expect(report, known, "EXPECTEDVERIFY", &verified);

        // The claims: from the verified payload, else unverified from the COSE or the CBOR.
        let payload = match &verified {
            Some(Ok(payload)) => Some(payload.clone()),
            _ => cose_bytes
                .as_deref()
                .and_then(unverified_payload)
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
        self.expect(report, known, "EXPECTEDDECODE", &decodes);
        let decoded = payload.or(cbor).map(read);
        let Some(Ok((claims, hcert))) = decoded else {
            return false;
        };
        let typed = HealthCertificate::from_value(&hcert).map_err(|e| e.to_string());
        if self.expected.get("EXPECTEDSCHEMAVALIDATION") == Some(&Value::Bool(true)) {
            self.expect(
                report,
                known,
                "EXPECTEDSCHEMAVALIDATION",
                &Some(typed.clone()),
            );
        }
        if let Some(json) = self.case.get("JSON") {
            let readable = json_to_cbor(json)
                .ok_or_else(|| "not representable as CBOR".to_string())
                .and_then(|value| HealthCertificate::from_value(&value).map_err(|e| e.to_string()));
            self.expect(report, known, "EXPECTEDVALIDJSON", &Some(readable));
            // Not a flag: how often the signed certificate is the case's JSON (upstream has a
            // few cases whose JSON describes another person).
            stats.json_compared += 1;
            match cbor_to_json(&hcert) {
                Some(ours) if ours == *json => stats.json_equal += 1,
                ours => println!(
                    "NOTE {}: the signed hcert differs from the case's JSON at {}",
                    self.id,
                    ours.map_or("(not JSON)".into(), |ours| first_difference(&ours, json))
                ),
            }
        }
        // Times and key usage, with the signer and the clock of the case.
        if let (Some(Ok(signer)), Some(clock)) = (&signer, &clock) {
            let times = match (claims.iat, claims.exp, clock) {
                (_, None, _) => Err("no exp".to_string()),
                (iat, Some(exp), Ok(now)) => {
                    dcc::check_times(iat.unwrap_or(*now), exp, signer, *now).map_err(|e| {
                        format!(
                            "{e} (iat {iat:?}, exp {exp}, clock {now}, signer {}..{})",
                            signer.not_before(),
                            signer.not_after()
                        )
                    })
                }
                (_, _, Err(error)) => Err(error.clone()),
            };
            self.expect(report, known, "EXPECTEDEXPIRATIONCHECK", &Some(times));
            if let Ok(typed) = &typed {
                let usage = if typed.kinds().into_iter().all(|kind| signer.may_sign(kind)) {
                    Ok(())
                } else {
                    Err("the signer's extended key usage does not allow this kind".to_string())
                };
                self.expect(report, known, "EXPECTEDKEYUSAGE", &Some(usage));
            }
        }
        matches!(verified, Some(Ok(_)))
    }
}

/// The payload of a COSE_Sign1 without checking its signature (for the decoding checks of cases
/// whose signature is meant to fail).
fn unverified_payload(cose: &[u8]) -> Option<Vec<u8>> {
    let value: CborValue = ciborium::from_reader(cose).ok()?;
    let mut value = value;
    while let CborValue::Tag(_, inner) = value {
        value = *inner;
    }
    match value {
        CborValue::Array(items) => match items.get(2) {
            Some(CborValue::Bytes(payload)) => Some(payload.clone()),
            _ => None,
        },
        _ => None,
    }
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

/// A JSON value as CBOR (integers as integers).
fn json_to_cbor(value: &Value) -> Option<CborValue> {
    Some(match value {
        Value::Null => CborValue::Null,
        Value::Bool(b) => CborValue::Bool(*b),
        Value::String(text) => CborValue::Text(text.clone()),
        Value::Number(number) => match number.as_i64() {
            Some(int) => CborValue::Integer(int.into()),
            None => CborValue::Float(number.as_f64()?),
        },
        Value::Array(items) => {
            CborValue::Array(items.iter().map(json_to_cbor).collect::<Option<_>>()?)
        }
        Value::Object(map) => CborValue::Map(
            map.iter()
                .map(|(key, value)| Some((CborValue::Text(key.clone()), json_to_cbor(value)?)))
                .collect::<Option<_>>()?,
        ),
    })
}
