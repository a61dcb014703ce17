//! SD-JWT interop with an independent implementation: the PyPI package `sd-jwt` 0.10.4 (the IETF
//! draft's reference implementation, over jwcrypto), driven through `interop/sd_jwt_python.py`.
//!
//! Both sides issue the same SD-JWT VC (ES256, `cnf.jwk`, disclosable claims at the top level,
//! nested in a disclosable object, array elements, and an array element holding a disclosable
//! claim of its own) from one claim specification, and present the same selection with a key
//! binding JWT:
//! - the wallet issues and presents, the package verifies (issuer key, key binding, `aud`,
//!   `nonce`), and the claims it prints must equal the expected ones exactly; it must also refuse
//!   that presentation for another nonce, so its key binding check is known to run;
//! - the package issues and presents, the wallet's verifier accepts it with exactly the expected
//!   claims, and refuses every tampered variant with the error of the rule it breaks (each variant
//!   breaks one rule: the rest, key binding JWT included, is made valid again with the real keys).
//!
//! Runs as its own binary (`harness = false`) and prints `sd-jwt-interop: N passed, N failed`.
//! The Python comes from `$CITIZEN_SDJWT_PYTHON` (set by `cargo xtask test` and `cargo xtask
//! interop`, which install the package into a venv), else from that venv in the target folder.
//! Without either, a plain `cargo test` reports the suite as skipped with the reason; under xtask
//! (`CITIZEN_SDJWT_INTEROP_REQUIRED=1`) that is a failure, as is a Python that cannot run the
//! package at the pinned version.

mod suite;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use citizen_core::jose::{EcPublicJwk, JwsError, SoftwareSigner, base64url, sign_compact};
use citizen_core::sdjwt::{
    ClaimPath, Disclosure, IssueOptions, KeyBindingParams, Limits, SD_JWT_VC_TYP, SdJwt,
    SdJwtError, VerifyOptions, digest, issue, verify,
};
use ring::rand::SecureRandom;
use serde_json::{Map, Value, json};
use suite::Report;

const SUITE: &str = "sd-jwt-interop";
/// The package version the suite is written against (xtask/src/tools.rs pins it).
const PACKAGE_VERSION: &str = "0.10.4";
const PYTHON_ENV: &str = "CITIZEN_SDJWT_PYTHON";
const REQUIRED_ENV: &str = "CITIZEN_SDJWT_INTEROP_REQUIRED";
/// The venv `cargo xtask` makes, relative to the target folder.
const VENV_PYTHON: &str = "tools/sdjwt-venv/bin/python";

const AUDIENCE: &str = "https://verifier.example.gov.vn";
const NONCE: &str = "n-0S6_WzA2Mj";
/// Marks in the claim specification, read by both sides: an object member `!sd:NAME` is the
/// disclosable claim NAME, an array element `{"!sd": VALUE}` a disclosable element.
const SD_KEY_PREFIX: &str = "!sd:";
const SD_ELEMENT: &str = "!sd";

fn main() -> ExitCode {
    let mut report = Report::new(SUITE);
    let python = match Python::find() {
        Ok(python) => python,
        Err(why) if std::env::var_os(REQUIRED_ENV).is_some_and(|v| v == "1") => {
            report.fail("setup", "python with sd-jwt", &why);
            return report.finish();
        }
        Err(why) => {
            report.skip(
                "setup",
                &format!("{why}; `cargo xtask interop` installs it and runs this suite"),
            );
            return report.finish();
        }
    };
    let versions = match python.check_version() {
        Ok(versions) => versions,
        Err(why) => {
            report.fail("setup", "sd-jwt version", &why);
            return report.finish();
        }
    };
    let keys = match Keys::generate() {
        Ok(keys) => keys,
        Err(why) => {
            report.fail("setup", "keys", &why);
            return report.finish();
        }
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64;
    let fixture = Fixture::new(now);

    wallet_to_package(&python, &keys, &fixture, &mut report);
    package_to_wallet(&python, &keys, &fixture, &mut report);
    println!(
        "sd-jwt interop: the wallet against {versions}: {} checks",
        report.passed + report.failed
    );
    report.finish()
}

// ---------------------------------------------------------------------------------------------
// What both sides issue and present

struct Fixture {
    now: i64,
    /// The claim specification, with `!sd` marks.
    spec: Value,
    /// The holder's selection, as claim paths (the wallet) ...
    selected_paths: Vec<ClaimPath>,
    /// ... and as the package's `claims_to_disclose`.
    selected_python: Value,
    /// Every disclosure, as the package's `claims_to_disclose`.
    everything_python: Value,
    /// The verified claims of the selection, without `cnf`.
    selected_claims: Value,
}

impl Fixture {
    fn new(now: i64) -> Self {
        let spec = json!({
            "iss": "https://issuer.example.gov.vn",
            "vct": "urn:citizen:pid:1",
            "iat": now,
            "exp": now + 3600,
            "!sd:given_name": "An",
            "!sd:family_name": "Nguyễn",
            "!sd:birthdate": "1990-05-17",
            "!sd:address": {
                "!sd:street_address": "12 Lý Thường Kiệt",
                "!sd:locality": "Hà Nội",
                "country": "VN",
            },
            "nationalities": [{"!sd": "VN"}, {"!sd": "FR"}],
            "age_equal_or_over": {"!sd:18": true, "!sd:65": false},
            "degrees": [{"!sd": {"type": "Bachelor", "!sd:university": "VNU"}}],
        });
        let selected_paths = vec![
            ClaimPath::claim("given_name"),
            ClaimPath::claim("address").key("locality"),
            ClaimPath::claim("nationalities").index(1),
            ClaimPath::claim("age_equal_or_over").key("18"),
            ClaimPath::claim("degrees").index(0).key("type"),
        ];
        let selected_python = json!({
            "given_name": true,
            "address": {"locality": true},
            "nationalities": [false, true],
            "age_equal_or_over": {"18": true},
            "degrees": [{"type": true}],
        });
        let everything_python = json!({
            "given_name": true,
            "family_name": true,
            "birthdate": true,
            "address": {"street_address": true, "locality": true},
            "nationalities": [true, true],
            "age_equal_or_over": {"18": true, "65": true},
            "degrees": [{"university": true}],
        });
        let selected_claims = json!({
            "iss": "https://issuer.example.gov.vn",
            "vct": "urn:citizen:pid:1",
            "iat": now,
            "exp": now + 3600,
            "given_name": "An",
            "address": {"locality": "Hà Nội", "country": "VN"},
            "nationalities": ["FR"],
            "age_equal_or_over": {"18": true},
            "degrees": [{"type": "Bachelor"}],
        });
        Self {
            now,
            spec,
            selected_paths,
            selected_python,
            everything_python,
            selected_claims,
        }
    }

    /// The claims of the specification with every disclosure made, plus `cnf` for `holder`.
    fn all_claims(&self, holder: &EcPublicJwk) -> Value {
        let (mut claims, _) = unmarked(&self.spec);
        claims["cnf"] = json!({"jwk": holder.to_value()});
        claims
    }

    fn selected_claims(&self, holder: &EcPublicJwk) -> Value {
        let mut claims = self.selected_claims.clone();
        claims["cnf"] = json!({"jwk": holder.to_value()});
        claims
    }

    /// The wallet's verifier for an SD-JWT VC presented to [`AUDIENCE`] with [`NONCE`].
    fn options<'a>(&self, issuer: &'a EcPublicJwk) -> VerifyOptions<'a> {
        VerifyOptions::new(issuer, self.now)
            .sd_jwt_vc()
            .require_key_binding(AUDIENCE, NONCE)
    }
}

/// The specification without its marks, and the paths of the disclosable claims.
fn unmarked(spec: &Value) -> (Value, Vec<ClaimPath>) {
    fn walk(spec: &Value, path: &ClaimPath, paths: &mut Vec<ClaimPath>) -> Value {
        match spec {
            Value::Object(members) => {
                let mut out = Map::new();
                for (name, value) in members {
                    let (name, disclosable) = match name.strip_prefix(SD_KEY_PREFIX) {
                        Some(name) => (name, true),
                        None => (name.as_str(), false),
                    };
                    let path = path.clone().key(name);
                    if disclosable {
                        paths.push(path.clone());
                    }
                    out.insert(name.to_owned(), walk(value, &path, paths));
                }
                Value::Object(out)
            }
            Value::Array(elements) => {
                let mut out = Vec::new();
                for (index, element) in elements.iter().enumerate() {
                    let path = path.clone().index(index);
                    let marked = element.as_object().filter(|object| object.len() == 1);
                    match marked.and_then(|object| object.get(SD_ELEMENT)) {
                        Some(value) => {
                            paths.push(path.clone());
                            out.push(walk(value, &path, paths));
                        }
                        None => out.push(walk(element, &path, paths)),
                    }
                }
                Value::Array(out)
            }
            other => other.clone(),
        }
    }
    let mut paths = Vec::new();
    let claims = walk(spec, &ClaimPath::default(), &mut paths);
    (claims, paths)
}

// ---------------------------------------------------------------------------------------------
// The wallet issues and presents; the package verifies

fn wallet_to_package(python: &Python, keys: &Keys, fixture: &Fixture, report: &mut Report) {
    const CASE: &str = "wallet -> sd-jwt";
    let holder = keys.holder.signer.public_key();
    let (claims, disclosable) = unmarked(&fixture.spec);
    let options = IssueOptions {
        disclosable,
        holder_key: Some(holder.clone()),
        typ: Some(SD_JWT_VC_TYP.into()),
        kid: None,
        decoys_per_container: 2,
    };
    let Value::Object(claims) = claims else {
        unreachable!("the specification is an object")
    };
    let issued = match issue(&claims, &options, &keys.issuer.signer) {
        Ok(issued) => issued,
        Err(error) => return report.fail(CASE, "issue", &error.to_string()),
    };
    let sd_jwt = match SdJwt::parse(&issued.sd_jwt, &Limits::default()) {
        Ok(sd_jwt) => sd_jwt,
        Err(error) => return report.fail(CASE, "parse", &error.to_string()),
    };
    let key_binding = KeyBindingParams {
        audience: AUDIENCE,
        nonce: NONCE,
        issued_at: fixture.now,
        signer: &keys.holder.signer,
    };
    let every_path: Vec<ClaimPath> = claims.keys().map(|name| ClaimPath::claim(name)).collect();
    for (check, paths, expected) in [
        (
            "selected claims",
            &fixture.selected_paths,
            fixture.selected_claims(holder),
        ),
        ("every claim", &every_path, fixture.all_claims(holder)),
    ] {
        let presentation = match sd_jwt.present(paths, Some(&key_binding)) {
            Ok(presentation) => presentation,
            Err(error) => return report.fail(CASE, check, &format!("present: {error}")),
        };
        // The wallet's own verifier first: a mismatch below is then the package's doing.
        let options = fixture.options(keys.issuer.signer.public_key());
        let ours = wallet_accepts(&presentation, &options, &expected);
        report.check(CASE, &format!("{check}: wallet verifies"), ours);
        let theirs = python
            .verify(&presentation, &keys.issuer.public_jwk(), AUDIENCE, NONCE)
            .and_then(|claims| same_claims("sd-jwt", &claims, &expected));
        report.check(CASE, &format!("{check}: sd-jwt verifies"), theirs);
    }

    // The package's key binding check runs: another nonce or audience is refused.
    let presentation = match sd_jwt.present(&fixture.selected_paths, Some(&key_binding)) {
        Ok(presentation) => presentation,
        Err(error) => return report.fail(CASE, "present", &error.to_string()),
    };
    for (check, audience, nonce) in [
        ("sd-jwt refuses another nonce", AUDIENCE, "another-nonce"),
        (
            "sd-jwt refuses another audience",
            "https://other.example",
            NONCE,
        ),
    ] {
        let outcome = match python.verify(&presentation, &keys.issuer.public_jwk(), audience, nonce)
        {
            Ok(_) => Err("accepted".to_owned()),
            Err(error) if error.starts_with("refused: ") => Ok(()),
            Err(error) => Err(error),
        };
        report.check(CASE, check, outcome);
    }
}

// ---------------------------------------------------------------------------------------------
// The package issues and presents; the wallet verifies

fn package_to_wallet(python: &Python, keys: &Keys, fixture: &Fixture, report: &mut Report) {
    const CASE: &str = "sd-jwt -> wallet";
    let holder = keys.holder.signer.public_key();
    let issuer = keys.issuer.signer.public_key();
    let options = fixture.options(issuer);

    // The credential as issued (every disclosure, no key binding), as a wallet stores it.
    let everything = match python.issue_and_present(keys, fixture, &fixture.everything_python) {
        Ok(outcome) => outcome,
        Err(error) => return report.fail(CASE, "issue (every claim)", &error),
    };
    let issued_options = VerifyOptions::new(issuer, fixture.now).sd_jwt_vc();
    let all_claims = fixture.all_claims(holder);
    report.check(
        CASE,
        "issued credential verifies",
        wallet_accepts(&everything.issued, &issued_options, &all_claims),
    );
    report.check(
        CASE,
        "every claim presented: verifies",
        wallet_accepts(&everything.presentation, &options, &all_claims),
    );

    let selected = match python.issue_and_present(keys, fixture, &fixture.selected_python) {
        Ok(outcome) => outcome,
        Err(error) => return report.fail(CASE, "issue (selected claims)", &error),
    };
    report.check(
        CASE,
        "selected claims presented: verifies",
        wallet_accepts(
            &selected.presentation,
            &options,
            &fixture.selected_claims(holder),
        ),
    );

    let parts = match Parts::split(&selected.presentation) {
        Ok(parts) => parts,
        Err(error) => return report.fail(CASE, "split", &error),
    };
    // A control: a KB-JWT made anew (as the variants below get theirs) over the untouched parts
    // is accepted, so what each variant is refused for is its one change.
    report.check(
        CASE,
        "control: key binding JWT made anew over the same presentation verifies",
        wallet_accepts(
            &parts.with_kb(&keys.holder.signer, fixture.now, None),
            &options,
            &fixture.selected_claims(holder),
        ),
    );
    let Some(given_name) = parts.disclosure_of("given_name") else {
        return report.fail(CASE, "split", "no disclosure of `given_name`");
    };
    for (attack, text, expected) in tampered(&parts, given_name, keys, fixture) {
        report.check(CASE, attack, wallet_refuses(&text, &options, expected));
    }
    // Options that do not fit the presentation.
    for (attack, options, expected) in [
        (
            "verified for another nonce",
            VerifyOptions::new(issuer, fixture.now)
                .sd_jwt_vc()
                .require_key_binding(AUDIENCE, "another-nonce"),
            SdJwtError::NonceMismatch,
        ),
        (
            "verified for another audience",
            VerifyOptions::new(issuer, fixture.now)
                .sd_jwt_vc()
                .require_key_binding("https://other.example", NONCE),
            SdJwtError::AudienceMismatch,
        ),
        (
            "verified with the holder key as the issuer's",
            fixture.options(holder),
            SdJwtError::IssuerJwt(JwsError::BadSignature),
        ),
        (
            "verified 20 minutes later (stale key binding)",
            VerifyOptions {
                now: fixture.now + 1200,
                ..fixture.options(issuer)
            },
            SdJwtError::KbStale,
        ),
    ] {
        report.check(
            CASE,
            attack,
            wallet_refuses(&selected.presentation, &options, expected),
        );
    }
}

/// The wallet's verifier accepts `text` with exactly the `expected` claims.
fn wallet_accepts(text: &str, options: &VerifyOptions<'_>, expected: &Value) -> Result<(), String> {
    let verified = verify(text, options).map_err(|error| format!("refused: {error}"))?;
    same_claims("the wallet's verifier", &verified.claims, expected)
}

/// The wallet's verifier refuses `text` with exactly the `expected` error.
fn wallet_refuses(
    text: &str,
    options: &VerifyOptions<'_>,
    expected: SdJwtError,
) -> Result<(), String> {
    match verify(text, options) {
        Ok(_) => Err(format!("accepted; expected {expected:?}")),
        Err(error) if error == expected => Ok(()),
        Err(error) => Err(format!("refused with {error:?}; expected {expected:?}")),
    }
}

/// A presentation in pieces: the issuer-signed JWT, the disclosures, the KB-JWT.
#[derive(Clone)]
struct Parts {
    jwt: String,
    disclosures: Vec<String>,
    kb_jwt: String,
}

impl Parts {
    fn split(presentation: &str) -> Result<Self, String> {
        let (presented, kb_jwt) = presentation
            .rsplit_once('~')
            .ok_or("the presentation has no `~`")?;
        let mut pieces = presented.split('~');
        let jwt = pieces.next().unwrap_or_default().to_owned();
        let disclosures: Vec<String> = pieces.map(str::to_owned).collect();
        if kb_jwt.is_empty() || disclosures.len() < 2 {
            return Err("expected a key binding JWT and several disclosures".into());
        }
        Ok(Self {
            jwt,
            disclosures,
            kb_jwt: kb_jwt.to_owned(),
        })
    }

    /// `<jwt>~<disclosure>~...~`: what `sd_hash` covers.
    fn presented(&self) -> String {
        let mut text = format!("{}~", self.jwt);
        for disclosure in &self.disclosures {
            text.push_str(disclosure);
            text.push('~');
        }
        text
    }

    /// With the original KB-JWT, whatever changed.
    fn with_original_kb(&self) -> String {
        self.presented() + &self.kb_jwt
    }

    /// With a KB-JWT made anew over these parts: valid unless `signer` is not the holder's or
    /// `sd_hash_over` names other text.
    fn with_kb(&self, signer: &SoftwareSigner, now: i64, sd_hash_over: Option<&str>) -> String {
        let presented = self.presented();
        let mut header = Map::new();
        header.insert("typ".into(), "kb+jwt".into());
        let claims = json!({
            "aud": AUDIENCE,
            "nonce": NONCE,
            "iat": now,
            "sd_hash": digest(sd_hash_over.unwrap_or(&presented)),
        });
        let kb = sign_compact(&header, claims.to_string().as_bytes(), signer)
            .expect("a software key signs");
        presented + &kb
    }

    /// The index of the disclosure of the claim `name`.
    fn disclosure_of(&self, name: &str) -> Option<usize> {
        self.disclosures.iter().position(|encoded| {
            Disclosure::parse(encoded).is_ok_and(|disclosure| disclosure.name() == Some(name))
        })
    }
}

/// The package's presentation with one rule broken each, and the error the wallet must give.
/// `given_name` is the index of that claim's disclosure, the one the variants tamper with.
fn tampered(
    parts: &Parts,
    given_name: usize,
    keys: &Keys,
    fixture: &Fixture,
) -> Vec<(&'static str, String, SdJwtError)> {
    let holder = &keys.holder.signer;
    let now = fixture.now;
    let mut attacks = Vec::new();

    // A disclosure's value changed (same salt and name): its digest is in no `_sd`.
    let mut altered = parts.clone();
    let original = Disclosure::parse(&parts.disclosures[given_name]).expect("it parsed before");
    let Value::Array(mut array) = serde_json::from_slice::<Value>(
        &base64url::decode(original.encoded()).expect("it decoded before"),
    )
    .expect("it parsed before") else {
        unreachable!("a property disclosure is an array")
    };
    array[2] = "Bình".into();
    altered.disclosures[given_name] = base64url::encode(Value::Array(array).to_string());
    attacks.push((
        "a disclosure's value altered",
        altered.with_kb(holder, now, None),
        SdJwtError::UnreferencedDisclosure,
    ));

    // The issuer-signed JWT re-signed by the issuer without one digest in `_sd`.
    let mut dropped = parts.clone();
    dropped.jwt = resign_without_digest(&parts.jwt, original.digest(), &keys.issuer.signer);
    attacks.push((
        "a digest dropped from `_sd` (issuer JWT re-signed)",
        dropped.with_kb(holder, now, None),
        SdJwtError::UnreferencedDisclosure,
    ));

    // A disclosure that no digest references, added by the holder.
    let mut added = parts.clone();
    let extra = Disclosure::new_property("family_name", "Trần".into()).expect("a disclosure");
    added.disclosures.push(extra.encoded().to_owned());
    attacks.push((
        "an unreferenced disclosure added",
        added.with_kb(holder, now, None),
        SdJwtError::UnreferencedDisclosure,
    ));

    // The same disclosure twice.
    let mut twice = parts.clone();
    twice
        .disclosures
        .push(parts.disclosures[given_name].clone());
    attacks.push((
        "a disclosure presented twice",
        twice.with_kb(holder, now, None),
        SdJwtError::DuplicateDisclosure,
    ));

    // A disclosure removed after the holder signed: `sd_hash` no longer matches.
    let mut removed = parts.clone();
    removed.disclosures.remove(given_name);
    attacks.push((
        "a disclosure removed after key binding",
        removed.with_original_kb(),
        SdJwtError::SdHashMismatch,
    ));
    attacks.push((
        "`sd_hash` over other text",
        parts.with_kb(holder, now, Some(&removed.presented())),
        SdJwtError::SdHashMismatch,
    ));

    // The KB-JWT signed by a key that is not the one in `cnf.jwk`.
    attacks.push((
        "key binding JWT signed with another key",
        parts.with_kb(&keys.other.signer, now, None),
        SdJwtError::KbJwt(JwsError::BadSignature),
    ));

    // No KB-JWT where one is required.
    attacks.push((
        "key binding JWT stripped",
        parts.presented(),
        SdJwtError::KeyBindingMissing,
    ));

    // One bit of the issuer's signature flipped.
    let mut flipped = parts.clone();
    flipped.jwt = flip_signature_bit(&parts.jwt);
    attacks.push((
        "a bit of the issuer signature flipped",
        flipped.with_kb(holder, now, None),
        SdJwtError::IssuerJwt(JwsError::BadSignature),
    ));
    attacks
}

/// `jwt` with `digest` taken out of its top-level `_sd`, signed again by `issuer` with the same
/// header.
fn resign_without_digest(jwt: &str, digest: &str, issuer: &SoftwareSigner) -> String {
    let mut pieces = jwt.split('.');
    let mut decode = || -> Map<String, Value> {
        let bytes = base64url::decode(pieces.next().expect("three parts")).expect("base64url");
        serde_json::from_slice(&bytes).expect("a JSON object")
    };
    let mut header = decode();
    let mut payload = decode();
    header.remove("alg");
    let sd = payload
        .get_mut("_sd")
        .and_then(Value::as_array_mut)
        .expect("a top-level `_sd`");
    let before = sd.len();
    sd.retain(|entry| entry.as_str() != Some(digest));
    assert_eq!(sd.len() + 1, before, "the digest was in `_sd`");
    sign_compact(
        &header,
        Value::Object(payload).to_string().as_bytes(),
        issuer,
    )
    .expect("a software key signs")
}

fn flip_signature_bit(jwt: &str) -> String {
    let (signing_input, signature) = jwt.rsplit_once('.').expect("three parts");
    let mut raw = base64url::decode(signature).expect("base64url");
    raw[17] ^= 0x01;
    format!("{signing_input}.{}", base64url::encode(raw))
}

fn same_claims(who: &str, actual: &Value, expected: &Value) -> Result<(), String> {
    if actual == expected {
        Ok(())
    } else {
        Err(format!(
            "{who} gave other claims.\n  expected: {expected}\n  actual:   {actual}"
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Keys

struct Key {
    signer: SoftwareSigner,
    /// The private scalar, for the package's JWK.
    d: [u8; 32],
}

impl Key {
    fn generate() -> Result<Self, String> {
        let rng = ring::rand::SystemRandom::new();
        for _ in 0..8 {
            let mut d = [0u8; 32];
            rng.fill(&mut d).map_err(|_| "the system RNG failed")?;
            if let Ok(signer) = SoftwareSigner::from_scalar(&d) {
                return Ok(Self { signer, d });
            }
        }
        Err("no valid P-256 scalar in 8 tries".into())
    }

    fn public_jwk(&self) -> Value {
        self.signer.public_key().to_value()
    }

    fn private_jwk(&self) -> Value {
        let mut jwk = self.public_jwk();
        jwk["d"] = base64url::encode(self.d).into();
        jwk
    }
}

struct Keys {
    issuer: Key,
    holder: Key,
    /// Neither the issuer's nor the holder's.
    other: Key,
}

impl Keys {
    fn generate() -> Result<Self, String> {
        Ok(Self {
            issuer: Key::generate()?,
            holder: Key::generate()?,
            other: Key::generate()?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The Python side

struct Python {
    interpreter: PathBuf,
    script: PathBuf,
}

/// What the package issued and presented.
struct Issued {
    /// `<jwt>~<every disclosure>~`.
    issued: String,
    presentation: String,
}

impl Python {
    fn find() -> Result<Self, String> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/sd_jwt_python.py");
        let interpreter = match std::env::var_os(PYTHON_ENV) {
            Some(path) => PathBuf::from(path),
            None => {
                // <target>/<profile>/deps/sdjwt_interop-<hash>
                let exe = std::env::current_exe().map_err(|e| e.to_string())?;
                let venv = exe
                    .ancestors()
                    .nth(3)
                    .ok_or("the test binary is not in <target>/<profile>/deps")?
                    .join(VENV_PYTHON);
                if !venv.is_file() {
                    return Err(format!(
                        "no Python with the `sd-jwt` package: ${PYTHON_ENV} is not set and {} \
                         does not exist",
                        venv.display()
                    ));
                }
                venv
            }
        };
        Ok(Self {
            interpreter,
            script,
        })
    }

    /// `sd-jwt 0.10.4 (jwcrypto 1.6.1)`, if the package has the version the suite expects.
    fn check_version(&self) -> Result<String, String> {
        let versions = self.run("version", &json!({}))?;
        match versions["sd_jwt"].as_str() {
            Some(PACKAGE_VERSION) => Ok(format!(
                "sd-jwt {PACKAGE_VERSION} (jwcrypto {})",
                versions["jwcrypto"].as_str().unwrap_or("?")
            )),
            _ => Err(format!(
                "{} has {versions}, the suite needs sd-jwt {PACKAGE_VERSION}",
                self.interpreter.display()
            )),
        }
    }

    /// The package's verified claims; `Err("refused: ...")` when it refuses the presentation.
    fn verify(
        &self,
        presentation: &str,
        issuer_jwk: &Value,
        audience: &str,
        nonce: &str,
    ) -> Result<Value, String> {
        let answer = self.run(
            "verify",
            &json!({
                "presentation": presentation,
                "issuer_jwk": issuer_jwk,
                "aud": audience,
                "nonce": nonce,
            }),
        )?;
        match (answer.get("claims"), answer.get("error")) {
            (Some(claims), None) => Ok(claims.clone()),
            (None, Some(error)) => Err(format!("refused: {}", error.as_str().unwrap_or("?"))),
            _ => Err(format!("an answer of neither claims nor error: {answer}")),
        }
    }

    fn issue_and_present(
        &self,
        keys: &Keys,
        fixture: &Fixture,
        disclose: &Value,
    ) -> Result<Issued, String> {
        let answer = self.run(
            "issue-and-present",
            &json!({
                "claims": fixture.spec,
                "disclose": disclose,
                "issuer_jwk": keys.issuer.private_jwk(),
                "holder_jwk": keys.holder.private_jwk(),
                "aud": AUDIENCE,
                "nonce": NONCE,
                "typ": SD_JWT_VC_TYP,
                "decoys": true,
            }),
        )?;
        let text = |name: &str| {
            answer[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("no `{name}` in the answer: {answer}"))
        };
        Ok(Issued {
            issued: text("issued")?,
            presentation: text("presentation")?,
        })
    }

    /// Runs one command of the script with `request` on stdin; its stdout as JSON.
    fn run(&self, command: &str, request: &Value) -> Result<Value, String> {
        let mut child = Command::new(&self.interpreter)
            .arg(&self.script)
            .arg(command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("running {}: {e}", self.interpreter.display()))?;
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(request.to_string().as_bytes())
            .map_err(|e| format!("writing to the script: {e}"))?;
        let output = child
            .wait_with_output()
            .map_err(|e| format!("waiting for the script: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "`{command}` failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        serde_json::from_slice(&output.stdout).map_err(|e| {
            format!(
                "`{command}` printed no JSON ({e}): {}",
                String::from_utf8_lossy(&output.stdout)
            )
        })
    }
}
