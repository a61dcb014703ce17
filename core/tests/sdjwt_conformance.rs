//! SD-JWT conformance: every case of the shared corpus (`../shared/conformance/sd-jwt/`, relative
//! to the project root), verified with the keys and identifiers of the case's settings, plus
//! attacks generated from each case that must be refused with the right error.
//!
//! Runs as its own binary (`harness = false`) and prints one line `sd-jwt: N passed, N failed`
//! (`, N skipped` when cases were skipped, each with its reason); `cargo xtask test` reports it
//! as a suite of its own. Exits non-zero when a check fails.

mod suite;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use citizen_core::jose::{
    EcPublicJwk, JwsError, JwsSigner, SoftwareSigner, base64url, signature_to_raw,
};
use citizen_core::sdjwt::{Disclosure, KeyBinding, SdJwtError, VerifyOptions, digest, verify};
use serde_json::Value;
use suite::Report;
use yaml_rust2::{Yaml, YamlLoader};

const SKEW: i64 = 60;
const KB_MAX_AGE: i64 = 300;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("core/ has a parent: the project root");
    let corpus = root.join("../shared/conformance/sd-jwt");
    let mut report = Report::new("sd-jwt");
    if !corpus.is_dir() {
        report.skip(
            "corpus",
            &format!(
                "the SD-JWT corpus folder {} is missing; nothing to check",
                corpus.display()
            ),
        );
        return report.finish();
    }
    let mut cases = Vec::new();
    find_cases(&corpus, &mut cases);
    cases.sort();
    if cases.is_empty() {
        report.fail(
            "corpus",
            "no case",
            "no specification.yml under the corpus folder",
        );
    }
    for case in &cases {
        let name = case
            .strip_prefix(&corpus)
            .unwrap_or(case)
            .display()
            .to_string();
        match Case::load(case, &corpus) {
            Ok(Loaded::Compact(loaded)) => loaded.run(&name, &mut report),
            Ok(Loaded::Skip(reason)) => report.skip(&name, &reason),
            Err(error) => report.fail(&name, "load", &error),
        }
    }
    println!(
        "sd-jwt conformance: {} corpus cases, {} checks (each corpus presentation verified, plus attacks generated from it)",
        cases.len(),
        report.passed + report.failed
    );
    report.finish()
}

/// Folders holding a `specification.yml`: one case each.
fn find_cases(dir: &Path, cases: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.join("specification.yml").is_file() {
                cases.push(path.clone());
            }
            find_cases(&path, cases);
        }
    }
}

/// A key of the settings: public part, and the private scalar for re-signing attacks.
struct CaseKey {
    public: EcPublicJwk,
    signer: SoftwareSigner,
}

impl CaseKey {
    fn from_yaml(key: &Yaml, what: &str) -> Result<Self, String> {
        let member = |name: &str| {
            key[name]
                .as_str()
                .ok_or_else(|| format!("the {what} has no `{name}`"))
        };
        let jwk = serde_json::json!({
            "kty": member("kty")?, "crv": member("crv")?, "x": member("x")?, "y": member("y")?,
        });
        let public = EcPublicJwk::from_value(&jwk).map_err(|e| format!("{what}: {e}"))?;
        let d = base64url::decode(member("d")?).map_err(|e| format!("{what} d: {e}"))?;
        let signer = SoftwareSigner::from_scalar(&d).map_err(|e| format!("{what} d: {e}"))?;
        if signer.public_key() != &public {
            return Err(format!("the {what}'s `d` does not match its `x`/`y`"));
        }
        Ok(Self { public, signer })
    }
}

enum Loaded {
    Compact(Box<Case>),
    Skip(String),
}

struct Case {
    issuer: CaseKey,
    holder: CaseKey,
    audience: String,
    nonce: String,
    key_binding: bool,
    /// The issuer-signed JWT's `typ`: the case's own, else the reference implementation's.
    typ: String,
    presentation: String,
    expected: Value,
    now: i64,
}

fn read(dir: &Path, file: &str) -> Result<String, String> {
    std::fs::read_to_string(dir.join(file)).map_err(|e| format!("{file}: {e}"))
}

fn yaml(text: &str, file: &str) -> Result<Yaml, String> {
    YamlLoader::load_from_str(text)
        .map_err(|e| format!("{file}: {e}"))?
        .into_iter()
        .next()
        .ok_or_else(|| format!("{file} is empty"))
}

fn yaml_bool(value: &Yaml) -> Option<bool> {
    match value {
        Yaml::Boolean(b) => Some(*b),
        Yaml::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

impl Case {
    fn load(dir: &Path, corpus: &Path) -> Result<Loaded, String> {
        let spec = yaml(&read(dir, "specification.yml")?, "specification.yml")?;
        let format = spec["serialization_format"].as_str().unwrap_or("compact");
        if format != "compact" {
            return Ok(Loaded::Skip(format!(
                "`serialization_format: {format}` (JWS JSON serialization) is not implemented; \
                 the corpus also uses the reference implementation's pre-RFC layout (`disclosures` \
                 and `kb_jwt` at the top level, not in the unprotected `header`) and an `sd_hash` \
                 over the issuance JSON text, which a presentation does not carry"
            )));
        }
        // The group's settings (the nearest settings.yml up to the corpus root), overridden by
        // the case's `settings_override`.
        let mut settings_dir = dir.to_path_buf();
        let settings = loop {
            if settings_dir.join("settings.yml").is_file() {
                break yaml(&read(&settings_dir, "settings.yml")?, "settings.yml")?;
            }
            if settings_dir == corpus || !settings_dir.pop() {
                return Err("no settings.yml for this case".into());
            }
        };
        let key_settings = if spec["settings_override"]["key_settings"].is_badvalue() {
            &settings["key_settings"]
        } else {
            &spec["settings_override"]["key_settings"]
        };
        let issuer_key = if key_settings["issuer_key"].is_badvalue() {
            &key_settings["issuer_keys"][0]
        } else {
            &key_settings["issuer_key"]
        };
        let issuer = CaseKey::from_yaml(issuer_key, "issuer key")?;
        let holder = CaseKey::from_yaml(&key_settings["holder_key"], "holder key")?;
        let audience = settings["identifiers"]["verifier"]
            .as_str()
            .ok_or("settings.yml has no identifiers.verifier")?
            .to_owned();
        let nonce = settings["key_binding_nonce"]
            .as_str()
            .ok_or("settings.yml has no key_binding_nonce")?
            .to_owned();
        let key_binding = yaml_bool(&spec["key_binding"]).unwrap_or(false);
        let typ = spec["extra_header_parameters"]["typ"]
            .as_str()
            .unwrap_or("example+sd-jwt")
            .to_owned();

        let presentation = read(dir, "sd_jwt_presentation.txt")?.trim_end().to_owned();
        let expected: Value = serde_json::from_str(&read(dir, "verified_contents.json")?)
            .map_err(|e| format!("verified_contents.json: {e}"))?;
        // The verifier's clock: when the holder made the KB-JWT, else when the issuer issued.
        let now = if key_binding {
            let kb: Value = serde_json::from_str(&read(dir, "kb_jwt_payload.json")?)
                .map_err(|e| format!("kb_jwt_payload.json: {e}"))?;
            kb["iat"].as_i64().ok_or("kb_jwt_payload.json has no iat")?
        } else {
            settings["iat"].as_i64().ok_or("settings.yml has no iat")?
        };
        Ok(Loaded::Compact(Box::new(Case {
            issuer,
            holder,
            audience,
            nonce,
            key_binding,
            typ,
            presentation,
            expected,
            now,
        })))
    }

    fn options<'a>(&'a self, issuer_key: &'a EcPublicJwk) -> VerifyOptions<'a> {
        let mut options = VerifyOptions::new(issuer_key, self.now);
        if self.typ == "dc+sd-jwt" {
            options = options.sd_jwt_vc();
        } else {
            options.expected_typ = Some(&self.typ);
        }
        if self.key_binding {
            options = options.require_key_binding(&self.audience, &self.nonce);
        }
        options.clock_skew_secs = SKEW;
        options.kb_max_age_secs = KB_MAX_AGE;
        options
    }

    fn run(&self, name: &str, report: &mut Report) {
        report.check(name, "verify", self.check_verifies());
        let parts = match Parts::split(&self.presentation) {
            Ok(parts) => parts,
            Err(error) => return report.fail(name, "split", &error),
        };
        let options = self.options(&self.issuer.public);
        let expect = |text: &str, options: &VerifyOptions<'_>, expected: SdJwtError| match verify(
            text, options,
        ) {
            Err(error) if error == expected => Ok(()),
            Err(error) => Err(format!("refused with {error:?}, expected {expected:?}")),
            Ok(_) => Err(format!("accepted, expected {expected:?}")),
        };

        // The re-signing used by the attacks below reproduces an acceptable presentation.
        report.check(
            name,
            "re-signed with the settings' keys, unchanged",
            self.rebuild(&parts, |_| {}, &parts.disclosures, None)
                .and_then(|text| {
                    verify(&text, &options)
                        .map(drop)
                        .map_err(|e| format!("{e:?}"))
                }),
        );

        let mut signature_tampered = parts.clone();
        signature_tampered.jwt = tamper_signature(&parts.jwt);
        report.check(
            name,
            "tampered issuer signature",
            expect(
                &signature_tampered.join(),
                &options,
                SdJwtError::IssuerJwt(JwsError::BadSignature),
            ),
        );
        report.check(
            name,
            "another issuer's key",
            expect(
                &self.presentation,
                &self.options(&self.holder.public),
                SdJwtError::IssuerJwt(JwsError::BadSignature),
            ),
        );
        report.check(
            name,
            "wrong _sd_alg",
            self.rebuild(
                &parts,
                |payload| {
                    payload["_sd_alg"] = Value::from("sha-512");
                },
                &parts.disclosures,
                None,
            )
            .and_then(|text| expect(&text, &options, SdJwtError::UnsupportedSdAlg)),
        );
        let injected = Disclosure::new_property("injected_claim", Value::from("x"))
            .expect("system randomness");
        let mut with_injected = parts.disclosures.clone();
        with_injected.push(injected.encoded().to_owned());
        report.check(
            name,
            "unreferenced disclosure",
            self.rebuild(&parts, |_| {}, &with_injected, None)
                .and_then(|text| expect(&text, &options, SdJwtError::UnreferencedDisclosure)),
        );
        if let Some(first) = parts.disclosures.first() {
            let mut tampered = parts.disclosures.clone();
            tampered[0] = tamper_disclosure(first);
            report.check(
                name,
                "tampered disclosure",
                self.rebuild(&parts, |_| {}, &tampered, None)
                    .and_then(|text| expect(&text, &options, SdJwtError::UnreferencedDisclosure)),
            );
            let mut duplicated = parts.disclosures.clone();
            duplicated.push(first.clone());
            report.check(
                name,
                "duplicated disclosure",
                self.rebuild(&parts, |_| {}, &duplicated, None)
                    .and_then(|text| expect(&text, &options, SdJwtError::DuplicateDisclosure)),
            );
        }
        if self.key_binding {
            self.run_key_binding_attacks(name, &parts, &options, report, &expect);
        }
    }

    fn run_key_binding_attacks(
        &self,
        name: &str,
        parts: &Parts,
        options: &VerifyOptions<'_>,
        report: &mut Report,
        expect: &dyn Fn(&str, &VerifyOptions<'_>, SdJwtError) -> Result<(), String>,
    ) {
        let Some(kb) = &parts.kb else {
            return report.fail(
                name,
                "key binding",
                "the specification asks for key binding, the presentation has none",
            );
        };
        let iat = jwt_claims(kb)
            .ok()
            .and_then(|c| c["iat"].as_i64())
            .unwrap_or(self.now);

        report.check(
            name,
            "bad sd_hash",
            self.rebuild(
                parts,
                |_| {},
                &parts.disclosures,
                Some(&|kb: &mut Value| {
                    kb["sd_hash"] = Value::from(digest("another presentation~"));
                }),
            )
            .and_then(|text| expect(&text, options, SdJwtError::SdHashMismatch)),
        );
        // A disclosure whose removal leaves a valid presentation (not the parent of another
        // presented one), dropped after the KB-JWT was made.
        let droppable = (0..parts.disclosures.len()).find(|&index| {
            let mut fewer = parts.disclosures.clone();
            fewer.remove(index);
            self.rebuild(parts, |_| {}, &fewer, None)
                .is_ok_and(|text| verify(&text, options).is_ok())
        });
        if let Some(index) = droppable {
            let mut dropped = parts.clone();
            dropped.disclosures.remove(index);
            report.check(
                name,
                "disclosure dropped after key binding",
                expect(&dropped.join(), options, SdJwtError::SdHashMismatch),
            );
        }
        let mut later = options.clone();
        later.now = iat + KB_MAX_AGE + SKEW + 1;
        report.check(
            name,
            "stale iat (verifier clock later)",
            expect(&self.presentation, &later, SdJwtError::KbStale),
        );
        report.check(
            name,
            "stale iat (re-signed an hour old)",
            self.rebuild(
                parts,
                |_| {},
                &parts.disclosures,
                Some(&|kb: &mut Value| {
                    kb["iat"] = Value::from(iat - 3600);
                }),
            )
            .and_then(|text| expect(&text, options, SdJwtError::KbStale)),
        );
        let mut earlier = options.clone();
        earlier.now = iat - SKEW - 1;
        report.check(
            name,
            "iat in the future",
            expect(&self.presentation, &earlier, SdJwtError::KbInFuture),
        );
        let wrong_audience = self.options(&self.issuer.public);
        let wrong_audience = VerifyOptions {
            key_binding: KeyBinding::Required {
                audience: "https://attacker.example.org",
                nonce: &self.nonce,
            },
            ..wrong_audience
        };
        report.check(
            name,
            "wrong aud",
            expect(
                &self.presentation,
                &wrong_audience,
                SdJwtError::AudienceMismatch,
            ),
        );
        let wrong_nonce = VerifyOptions {
            key_binding: KeyBinding::Required {
                audience: &self.audience,
                nonce: "0987654321",
            },
            ..self.options(&self.issuer.public)
        };
        report.check(
            name,
            "wrong nonce",
            expect(&self.presentation, &wrong_nonce, SdJwtError::NonceMismatch),
        );
        let mut stripped = parts.clone();
        stripped.kb = None;
        report.check(
            name,
            "key binding JWT stripped",
            expect(&stripped.join(), options, SdJwtError::KeyBindingMissing),
        );
        let mut foreign = parts.clone();
        foreign.kb = Some(resign(kb, &self.issuer.signer, |_| {}).unwrap_or_default());
        report.check(
            name,
            "key binding JWT signed by another key",
            expect(
                &foreign.join(),
                options,
                SdJwtError::KbJwt(JwsError::BadSignature),
            ),
        );
    }

    fn check_verifies(&self) -> Result<(), String> {
        let verified = verify(&self.presentation, &self.options(&self.issuer.public))
            .map_err(|e| format!("refused: {e} ({e:?})"))?;
        if verified.claims != self.expected {
            return Err(format!(
                "claims differ from verified_contents.json:\n  got      {}\n  expected {}",
                verified.claims, self.expected
            ));
        }
        match (&verified.key_binding, self.key_binding) {
            (Some(kb), true) if kb.audience == self.audience && kb.nonce == self.nonce => Ok(()),
            (None, false) => Ok(()),
            (kb, _) => Err(format!("unexpected key binding outcome: {kb:?}")),
        }
    }

    /// The presentation with its issuer-signed payload changed by `edit_payload` (and re-signed
    /// with the issuer key), the given disclosures, and, when the case has key binding, a
    /// KB-JWT re-signed with the holder key over the new presentation (changed by `edit_kb`).
    fn rebuild(
        &self,
        parts: &Parts,
        edit_payload: impl FnOnce(&mut Value),
        disclosures: &[String],
        edit_kb: Option<&dyn Fn(&mut Value)>,
    ) -> Result<String, String> {
        let jwt = resign(&parts.jwt, &self.issuer.signer, edit_payload)?;
        let mut rebuilt = Parts {
            jwt,
            disclosures: disclosures.to_vec(),
            kb: None,
        };
        if let Some(kb) = &parts.kb {
            let sd_hash = digest(&rebuilt.join());
            rebuilt.kb = Some(resign(kb, &self.holder.signer, |claims| {
                claims["sd_hash"] = Value::from(sd_hash);
                if let Some(edit) = edit_kb {
                    edit(claims);
                }
            })?);
        }
        Ok(rebuilt.join())
    }
}

/// A compact presentation in pieces.
#[derive(Clone)]
struct Parts {
    jwt: String,
    disclosures: Vec<String>,
    kb: Option<String>,
}

impl Parts {
    fn split(text: &str) -> Result<Self, String> {
        let mut pieces: Vec<&str> = text.split('~').collect();
        if pieces.len() < 2 {
            return Err("no `~` in the presentation".into());
        }
        let kb = pieces.pop().filter(|kb| !kb.is_empty()).map(str::to_owned);
        Ok(Self {
            jwt: pieces[0].to_owned(),
            disclosures: pieces[1..].iter().map(|d| (*d).to_owned()).collect(),
            kb,
        })
    }

    fn join(&self) -> String {
        let mut text = self.jwt.clone();
        text.push('~');
        for disclosure in &self.disclosures {
            text.push_str(disclosure);
            text.push('~');
        }
        if let Some(kb) = &self.kb {
            text.push_str(kb);
        }
        text
    }
}

fn jwt_claims(jwt: &str) -> Result<Value, String> {
    let payload = jwt.split('.').nth(1).ok_or("not a JWT")?;
    let bytes = base64url::decode(payload).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

/// `jwt` with its payload changed by `edit`, its header kept byte for byte, signed by `signer`.
fn resign(
    jwt: &str,
    signer: &SoftwareSigner,
    edit: impl FnOnce(&mut Value),
) -> Result<String, String> {
    let header = jwt.split('.').next().ok_or("not a JWT")?;
    let mut claims = jwt_claims(jwt)?;
    edit(&mut claims);
    let signing_input = format!("{header}.{}", base64url::encode(claims.to_string()));
    let signature = signer
        .sign(signing_input.as_bytes())
        .map_err(|e| e.to_string())?;
    let raw = signature_to_raw(&signature).map_err(|e| e.to_string())?;
    Ok(format!("{signing_input}.{}", base64url::encode(raw)))
}

/// The JWT with the first character of its signature changed (still valid base64url).
fn tamper_signature(jwt: &str) -> String {
    let dot = jwt.rfind('.').unwrap_or(0);
    let mut bytes = jwt.as_bytes().to_vec();
    if let Some(byte) = bytes.get_mut(dot + 1) {
        *byte = if *byte == b'A' { b'B' } else { b'A' };
    }
    String::from_utf8(bytes).unwrap_or_default()
}

/// The disclosure with its value changed, salt and name kept, re-encoded.
fn tamper_disclosure(encoded: &str) -> String {
    let Ok(bytes) = base64url::decode(encoded) else {
        return format!("{encoded}A");
    };
    let Ok(Value::Array(mut array)) = serde_json::from_slice::<Value>(&bytes) else {
        return format!("{encoded}A");
    };
    let last = array.len() - 1;
    array[last] = match &array[last] {
        Value::String(s) => Value::from(format!("{s} (tampered)")),
        _ => serde_json::json!({"tampered": true}),
    };
    base64url::encode(Value::Array(array).to_string())
}
