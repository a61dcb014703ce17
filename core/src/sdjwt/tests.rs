//! Issuance → presentation → verification, and the attacks a verifier must refuse.

use serde_json::{Map, Value, json};

use super::*;
use crate::jose::{JsonError, JwsError, JwsSigner, SoftwareSigner, base64url, sign_compact};

const NOW: i64 = 1_800_000_000;
const AUD: &str = "https://verifier.example.gov.vn";
const NONCE: &str = "n-0S6_WzA2Mj";

struct Parties {
    issuer: SoftwareSigner,
    holder: SoftwareSigner,
}

fn parties() -> Parties {
    Parties {
        issuer: SoftwareSigner::generate().unwrap(),
        holder: SoftwareSigner::generate().unwrap(),
    }
}

fn pid_claims() -> Map<String, Value> {
    let Value::Object(claims) = json!({
        "iss": "https://issuer.example.gov.vn",
        "iat": NOW - 86_400,
        "exp": NOW + 86_400 * 365,
        "vct": "urn:vn:pid:1",
        "given_name": "An",
        "family_name": "Nguyễn",
        "birthdate": "1990-02-01",
        "age_equal_or_over": {"18": true, "65": false},
        "nationalities": ["VN", "FR"],
        "address": {"locality": "Hà Nội", "street_address": "1 Tràng Tiền", "country": "VN"},
    }) else {
        unreachable!()
    };
    claims
}

fn pid_paths() -> Vec<ClaimPath> {
    vec![
        ClaimPath::claim("given_name"),
        ClaimPath::claim("family_name"),
        ClaimPath::claim("birthdate"),
        ClaimPath::claim("age_equal_or_over").key("18"),
        ClaimPath::claim("age_equal_or_over").key("65"),
        ClaimPath::claim("nationalities").all_elements(),
        ClaimPath::claim("address"),
        ClaimPath::claim("address").key("locality"),
        ClaimPath::claim("address").key("street_address"),
    ]
}

fn issue_pid(parties: &Parties, decoys: usize) -> IssuedSdJwt {
    let options = IssueOptions {
        disclosable: pid_paths(),
        holder_key: Some(parties.holder.public_key().clone()),
        typ: Some(SD_JWT_VC_TYP.into()),
        kid: Some("issuer-2026".into()),
        decoys_per_container: decoys,
    };
    issue(&pid_claims(), &options, &parties.issuer).unwrap()
}

fn options<'a>(parties: &'a Parties) -> VerifyOptions<'a> {
    VerifyOptions::new(parties.issuer.public_key(), NOW).sd_jwt_vc()
}

fn kb<'a>(parties: &'a Parties) -> KeyBindingParams<'a> {
    KeyBindingParams {
        audience: AUD,
        nonce: NONCE,
        issued_at: NOW - 5,
        signer: &parties.holder,
    }
}

fn parse(text: &str) -> SdJwt {
    SdJwt::parse(text, &Limits::default()).unwrap()
}

/// Signs `payload` as an issuer-signed JWT and appends `disclosures`: for issuers that are buggy
/// or malicious, which honest issuance cannot produce.
fn forge(issuer: &SoftwareSigner, payload: Value, disclosures: &[&Disclosure]) -> String {
    let mut header = Map::new();
    header.insert("typ".into(), json!(SD_JWT_VC_TYP));
    let mut text = sign_compact(&header, payload.to_string().as_bytes(), issuer).unwrap();
    text.push('~');
    for disclosure in disclosures {
        text.push_str(disclosure.encoded());
        text.push('~');
    }
    text
}

fn base_payload(parties: &Parties) -> Map<String, Value> {
    let Value::Object(payload) = json!({
        "iss": "https://issuer.example.gov.vn",
        "vct": "urn:vn:pid:1",
        "exp": NOW + 1000,
        "_sd_alg": "sha-256",
        "cnf": {"jwk": parties.holder.public_key().to_value()},
    }) else {
        unreachable!()
    };
    payload
}

fn expected_full_claims(parties: &Parties) -> Value {
    let mut claims = pid_claims();
    claims.insert(
        "cnf".into(),
        json!({"jwk": parties.holder.public_key().to_value()}),
    );
    Value::Object(claims)
}

#[test]
fn issued_sd_jwt_verifies_to_the_original_claims() {
    let parties = parties();
    let issued = issue_pid(&parties, 0);
    assert!(issued.sd_jwt.ends_with('~'));
    assert_eq!(issued.disclosures.len(), 10);
    let verified = verify(&issued.sd_jwt, &options(&parties)).unwrap();
    assert_eq!(verified.claims, expected_full_claims(&parties));
    assert_eq!(verified.key_binding, None);

    // Nothing disclosable is readable in the issuer-signed payload.
    let payload = parse(&issued.sd_jwt).issuer_jwt().claims().unwrap();
    let text = Value::Object(payload.clone()).to_string();
    for secret in ["Nguy", "1990", "Tràng", "\"FR\""] {
        assert!(!text.contains(secret), "{secret} visible in {text}");
    }
    assert_eq!(payload["_sd_alg"], json!("sha-256"));
    assert_eq!(payload["iss"], json!("https://issuer.example.gov.vn"));
    assert_eq!(
        payload["nationalities"].as_array().unwrap().len(),
        2,
        "array elements keep their places"
    );
    assert_eq!(
        parse(&issued.sd_jwt).issuer_jwt().header().kid(),
        Some("issuer-2026")
    );
}

#[test]
fn decoys_hide_the_number_of_claims_and_change_nothing_verified() {
    let parties = parties();
    let issued = issue_pid(&parties, 3);
    let payload = parse(&issued.sd_jwt).issuer_jwt().claims().unwrap();
    // given_name, family_name, birthdate and address are disclosable at the top, plus 3 decoys.
    assert_eq!(payload["_sd"].as_array().unwrap().len(), 4 + 3);
    assert_eq!(
        payload["age_equal_or_over"]["_sd"]
            .as_array()
            .unwrap()
            .len(),
        2 + 3
    );
    assert_eq!(payload["nationalities"].as_array().unwrap().len(), 2 + 3);
    let verified = verify(&issued.sd_jwt, &options(&parties)).unwrap();
    assert_eq!(verified.claims, expected_full_claims(&parties));
    // Decoys do not shift what the holder sees: index 1 is still "FR".
    let presentation = parse(&issued.sd_jwt)
        .present(&[ClaimPath::claim("nationalities").index(1)], None)
        .unwrap();
    let verified = verify(&presentation, &options(&parties)).unwrap();
    assert_eq!(verified.claims["nationalities"], json!(["FR"]));
}

#[test]
fn presentation_discloses_only_the_chosen_claims_with_their_parents() {
    let parties = parties();
    let issued = issue_pid(&parties, 2);
    let sd_jwt = parse(&issued.sd_jwt);
    let presentation = sd_jwt
        .present(
            &[
                ClaimPath::claim("address").key("locality"),
                ClaimPath::claim("age_equal_or_over").key("18"),
                ClaimPath::claim("iss"),
            ],
            Some(&kb(&parties)),
        )
        .unwrap();
    // The address disclosure (the parent), locality, and age 18; not age 65 or street.
    assert_eq!(parse(&presentation).disclosures().len(), 3);
    let verified = verify(
        &presentation,
        &options(&parties).require_key_binding(AUD, NONCE),
    )
    .unwrap();
    assert_eq!(
        verified.claims,
        json!({
            "iss": "https://issuer.example.gov.vn",
            "iat": NOW - 86_400,
            "exp": NOW + 86_400 * 365,
            "vct": "urn:vn:pid:1",
            "cnf": {"jwk": parties.holder.public_key().to_value()},
            "address": {"locality": "Hà Nội", "country": "VN"},
            "age_equal_or_over": {"18": true},
            "nationalities": [],
        })
    );
    assert_eq!(
        verified.key_binding,
        Some(KeyBindingClaims {
            audience: AUD.into(),
            nonce: NONCE.into(),
            issued_at: NOW - 5,
        })
    );
}

#[test]
fn selecting_a_parent_discloses_everything_inside_it() {
    let parties = parties();
    let issued = issue_pid(&parties, 1);
    let presentation = parse(&issued.sd_jwt)
        .present(&[ClaimPath::claim("address")], None)
        .unwrap();
    let verified = verify(&presentation, &options(&parties)).unwrap();
    assert_eq!(verified.claims["address"], pid_claims()["address"]);
    assert_eq!(verified.claims.get("given_name"), None);
    // No paths at all: only the always-visible claims.
    let presentation = parse(&issued.sd_jwt).present(&[], None).unwrap();
    assert_eq!(parse(&presentation).disclosures().len(), 0);
    let verified = verify(&presentation, &options(&parties)).unwrap();
    assert_eq!(verified.claims.get("address"), None);
    assert_eq!(verified.claims["vct"], json!("urn:vn:pid:1"));
}

#[test]
fn recursive_array_disclosures() {
    let parties = parties();
    let Value::Object(claims) = json!({
        "iss": "https://issuer.example",
        "degrees": [
            {"type": "BSc", "year": 2010},
            {"type": "MSc", "year": 2012},
        ],
        "nested": [["a", "b"], ["c"]],
    }) else {
        unreachable!()
    };
    let options_issue = IssueOptions {
        disclosable: vec![
            ClaimPath::claim("degrees").all_elements(),
            ClaimPath::claim("degrees").all_elements().key("year"),
            ClaimPath::claim("nested").index(0),
            ClaimPath::claim("nested").index(0).index(1),
        ],
        holder_key: None,
        typ: None,
        kid: None,
        decoys_per_container: 1,
    };
    let issued = issue(&claims, &options_issue, &parties.issuer).unwrap();
    let verify_options = VerifyOptions::new(parties.issuer.public_key(), NOW);
    assert_eq!(
        verify(&issued.sd_jwt, &verify_options).unwrap().claims,
        Value::Object(claims.clone())
    );
    let presentation = parse(&issued.sd_jwt)
        .present(
            &[
                ClaimPath::claim("degrees").all_elements().key("type"),
                ClaimPath::claim("nested").index(0).index(1),
            ],
            None,
        )
        .unwrap();
    assert_eq!(
        verify(&presentation, &verify_options).unwrap().claims,
        json!({
            "iss": "https://issuer.example",
            "degrees": [{"type": "BSc"}, {"type": "MSc"}],
            "nested": [["a", "b"], ["c"]],
        })
    );
    let presentation = parse(&issued.sd_jwt)
        .present(&[ClaimPath::claim("nested").index(0).index(0)], None)
        .unwrap();
    assert_eq!(
        verify(&presentation, &verify_options).unwrap().claims["nested"],
        json!([["a"], ["c"]])
    );
}

#[test]
fn presenting_a_missing_claim_or_with_another_key_is_refused() {
    let parties = parties();
    let sd_jwt = parse(&issue_pid(&parties, 0).sd_jwt);
    for path in [
        ClaimPath::claim("email"),
        ClaimPath::claim("address").key("postal_code"),
        ClaimPath::claim("nationalities").index(2),
        ClaimPath::claim("given_name").key("x"),
        ClaimPath::claim("address").index(0),
    ] {
        assert_eq!(
            sd_jwt.present(&[path], None),
            Err(SdJwtError::ClaimNotFound)
        );
    }
    let stranger = SoftwareSigner::generate().unwrap();
    let params = KeyBindingParams {
        signer: &stranger,
        ..kb(&parties)
    };
    assert_eq!(
        sd_jwt.present(&[ClaimPath::claim("given_name")], Some(&params)),
        Err(SdJwtError::HolderKeyMismatch)
    );
}

#[test]
fn issuance_refuses_reserved_names_and_bad_paths() {
    let parties = parties();
    let issue_with = |claims: Value, paths: Vec<ClaimPath>| {
        let Value::Object(claims) = claims else {
            unreachable!()
        };
        let options = IssueOptions {
            disclosable: paths,
            holder_key: Some(parties.holder.public_key().clone()),
            ..Default::default()
        };
        issue(&claims, &options, &parties.issuer).map(|_| ())
    };
    assert_eq!(
        issue_with(json!({"a": {"_sd": []}}), vec![]),
        Err(SdJwtError::ReservedClaimName)
    );
    assert_eq!(
        issue_with(json!({"a": [{"...": "x"}]}), vec![]),
        Err(SdJwtError::ReservedClaimName)
    );
    assert_eq!(
        issue_with(json!({"_sd_alg": "md5"}), vec![]),
        Err(SdJwtError::ReservedClaimName)
    );
    for reserved in ["iss", "exp", "nbf", "vct", "status", "cnf"] {
        assert_eq!(
            issue_with(
                json!({"iss": "x", "exp": 1, "nbf": 1, "vct": "v", "status": {}}),
                vec![ClaimPath::claim(reserved)]
            ),
            Err(SdJwtError::NotDisclosable),
            "{reserved}"
        );
    }
    assert_eq!(
        issue_with(
            json!({"status": {"idx": 1}}),
            vec![ClaimPath::claim("status").key("idx")]
        ),
        Err(SdJwtError::NotDisclosable)
    );
    assert!(matches!(
        issue_with(json!({"a": 1}), vec![ClaimPath::claim("b")]),
        Err(SdJwtError::PathMismatch(_))
    ));
    assert!(matches!(
        issue_with(json!({"a": 1}), vec![ClaimPath::claim("a").key("b")]),
        Err(SdJwtError::PathMismatch(_))
    ));
    assert!(matches!(
        issue_with(json!({"a": [1]}), vec![ClaimPath::claim("a").index(1)]),
        Err(SdJwtError::PathMismatch(_))
    ));
    assert!(matches!(
        issue_with(json!({"a": {}}), vec![ClaimPath::claim("a").index(0)]),
        Err(SdJwtError::PathMismatch(_))
    ));
    assert!(matches!(
        issue_with(json!({"a": 1}), vec![ClaimPath::default()]),
        Err(SdJwtError::PathMismatch(_))
    ));
    assert_eq!(
        issue_with(json!({"cnf": {"jwk": {}}}), vec![]),
        Err(SdJwtError::CnfConflict)
    );
    // Nesting a verifier would refuse is refused at issuance.
    let mut deep = json!("bottom");
    for _ in 0..1_000 {
        deep = json!([deep]);
    }
    assert_eq!(
        issue_with(json!({"deep": deep}), vec![]),
        Err(SdJwtError::TooDeep { max: 32 })
    );
}

// --- Attacks on the issuer-signed JWT ---------------------------------------------------------

#[test]
fn tampered_issuer_signature_is_refused() {
    let parties = parties();
    let issued = issue_pid(&parties, 0);
    let dot = issued.sd_jwt.rfind('.').unwrap();
    let mut bytes = issued.sd_jwt.into_bytes();
    bytes[dot + 5] = if bytes[dot + 5] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    assert_eq!(
        verify(&tampered, &options(&parties)).unwrap_err(),
        SdJwtError::IssuerJwt(JwsError::BadSignature)
    );
}

#[test]
fn another_issuers_key_is_refused() {
    let parties = parties();
    let issued = issue_pid(&parties, 0);
    let options = VerifyOptions::new(parties.holder.public_key(), NOW).sd_jwt_vc();
    assert_eq!(
        verify(&issued.sd_jwt, &options).unwrap_err(),
        SdJwtError::IssuerJwt(JwsError::BadSignature)
    );
}

#[test]
fn alg_none_issuer_jwt_is_refused() {
    let parties = parties();
    let issued = issue_pid(&parties, 0);
    let jwt = issued.sd_jwt.split('~').next().unwrap();
    let payload = jwt.split('.').nth(1).unwrap();
    let unsigned = format!(
        "{}.{}.~",
        base64url::encode(r#"{"alg":"none","typ":"dc+sd-jwt"}"#),
        payload
    );
    assert_eq!(
        verify(&unsigned, &options(&parties)).unwrap_err(),
        SdJwtError::IssuerJwt(JwsError::AlgNone)
    );
}

#[test]
fn wrong_typ_and_missing_vct_are_refused_for_sd_jwt_vc() {
    let parties = parties();
    let options_issue = IssueOptions {
        typ: Some("example+sd-jwt".into()),
        ..Default::default()
    };
    let issued = issue(&pid_claims(), &options_issue, &parties.issuer).unwrap();
    assert_eq!(
        verify(&issued.sd_jwt, &options(&parties)).unwrap_err(),
        SdJwtError::IssuerJwt(JwsError::TypMismatch)
    );
    let mut claims = pid_claims();
    claims.remove("vct");
    let options_issue = IssueOptions {
        typ: Some(SD_JWT_VC_TYP.into()),
        ..Default::default()
    };
    let issued = issue(&claims, &options_issue, &parties.issuer).unwrap();
    assert_eq!(
        verify(&issued.sd_jwt, &options(&parties)).unwrap_err(),
        SdJwtError::MissingVct
    );
}

#[test]
fn expired_and_not_yet_valid_credentials_are_refused() {
    let parties = parties();
    let issued = issue_pid(&parties, 0);
    let mut later = options(&parties);
    later.now = NOW + 86_400 * 365 + 61;
    assert_eq!(
        verify(&issued.sd_jwt, &later).unwrap_err(),
        SdJwtError::Expired
    );
    later.now = NOW + 86_400 * 365 + 59; // within the skew
    assert!(verify(&issued.sd_jwt, &later).is_ok());

    let mut payload = base_payload(&parties);
    payload.insert("nbf".into(), json!(NOW + 3600));
    let early = forge(&parties.issuer, Value::Object(payload.clone()), &[]);
    assert_eq!(
        verify(&early, &options(&parties)).unwrap_err(),
        SdJwtError::NotYetValid
    );
    payload.insert("nbf".into(), json!("tomorrow"));
    let garbled = forge(&parties.issuer, Value::Object(payload), &[]);
    assert_eq!(
        verify(&garbled, &options(&parties)).unwrap_err(),
        SdJwtError::InvalidTimeClaim("nbf")
    );
}

// --- Attacks with disclosures ------------------------------------------------------------------

#[test]
fn tampered_disclosure_is_refused() {
    let parties = parties();
    let issued = issue_pid(&parties, 0);
    let birthdate = issued
        .disclosures
        .iter()
        .find(|d| d.name() == Some("birthdate"))
        .unwrap();
    let mut array: Value =
        serde_json::from_slice(&base64url::decode(birthdate.encoded()).unwrap()).unwrap();
    array[2] = json!("1970-01-01");
    let tampered = base64url::encode(array.to_string());
    let text = issued.sd_jwt.replace(birthdate.encoded(), &tampered);
    assert_eq!(
        verify(&text, &options(&parties)).unwrap_err(),
        SdJwtError::UnreferencedDisclosure
    );
}

#[test]
fn duplicated_disclosure_is_refused() {
    let parties = parties();
    let issued = issue_pid(&parties, 0);
    let text = format!("{}{}~", issued.sd_jwt, issued.disclosures[0].encoded());
    assert_eq!(
        verify(&text, &options(&parties)).unwrap_err(),
        SdJwtError::DuplicateDisclosure
    );
}

#[test]
fn disclosure_from_elsewhere_is_refused() {
    let parties = parties();
    let issued = issue_pid(&parties, 0);
    let foreign = Disclosure::new_property("is_minister", json!(true)).unwrap();
    let text = format!("{}{}~", issued.sd_jwt, foreign.encoded());
    assert_eq!(
        verify(&text, &options(&parties)).unwrap_err(),
        SdJwtError::UnreferencedDisclosure
    );
}

#[test]
fn disclosure_cannot_overwrite_an_existing_claim() {
    let parties = parties();
    // An issuer-signed plain `given_name` and a disclosure that claims the same name.
    let overwrite = Disclosure::new_property("given_name", json!("Mallory")).unwrap();
    let mut payload = base_payload(&parties);
    payload.insert("given_name".into(), json!("An"));
    payload.insert("_sd".into(), json!([overwrite.digest()]));
    let text = forge(&parties.issuer, Value::Object(payload), &[&overwrite]);
    assert_eq!(
        verify(&text, &options(&parties)).unwrap_err(),
        SdJwtError::ClaimNameCollision
    );
    // Two disclosures with the same name in one object.
    let first = Disclosure::new_property("age", json!(20)).unwrap();
    let second = Disclosure::new_property("age", json!(70)).unwrap();
    let mut payload = base_payload(&parties);
    payload.insert("_sd".into(), json!([first.digest(), second.digest()]));
    let text = forge(&parties.issuer, Value::Object(payload), &[&first, &second]);
    assert_eq!(
        verify(&text, &options(&parties)).unwrap_err(),
        SdJwtError::ClaimNameCollision
    );
}

#[test]
fn reserved_claims_may_not_be_disclosed() {
    let parties = parties();
    for name in ["iss", "exp", "cnf", "vct", "status", "nbf", "_sd_alg"] {
        let disclosure = Disclosure::new_property(name, json!("x")).unwrap();
        let mut payload = base_payload(&parties);
        payload.remove(name);
        payload.insert("_sd".into(), json!([disclosure.digest()]));
        let text = forge(&parties.issuer, Value::Object(payload), &[&disclosure]);
        assert_eq!(
            verify(&text, &options(&parties)).unwrap_err(),
            SdJwtError::ReservedClaimDisclosed,
            "{name}"
        );
    }
    // A disclosure named `_sd` or `...` is malformed in itself.
    for name in ["_sd", "..."] {
        let encoded = base64url::encode(json!(["c2FsdA", name, "x"]).to_string());
        let text = format!("{}{encoded}~", forge(&parties.issuer, json!({}), &[]));
        assert!(matches!(
            verify(&text, &options(&parties)).unwrap_err(),
            SdJwtError::Disclosure(DisclosureError::ReservedName)
        ));
    }
}

#[test]
fn sd_alg_must_be_sha_256_at_the_top_level() {
    let parties = parties();
    for alg in [json!("sha-512"), json!("SHA-256"), json!(256), json!(null)] {
        let mut payload = base_payload(&parties);
        payload.insert("_sd_alg".into(), alg.clone());
        let text = forge(&parties.issuer, Value::Object(payload), &[]);
        assert_eq!(
            verify(&text, &options(&parties)).unwrap_err(),
            SdJwtError::UnsupportedSdAlg,
            "{alg}"
        );
    }
    let mut payload = base_payload(&parties);
    payload.remove("_sd_alg");
    let text = forge(&parties.issuer, Value::Object(payload.clone()), &[]);
    assert!(
        verify(&text, &options(&parties)).is_ok(),
        "absent means sha-256"
    );
    payload.insert("address".into(), json!({"_sd_alg": "md5"}));
    let text = forge(&parties.issuer, Value::Object(payload), &[]);
    assert_eq!(
        verify(&text, &options(&parties)).unwrap_err(),
        SdJwtError::MisplacedSdAlg
    );
}

#[test]
fn malformed_digest_structures_are_refused() {
    let parties = parties();
    let element = Disclosure::new_element(json!("VN")).unwrap();
    let property = Disclosure::new_property("a", json!(1)).unwrap();
    let cases: Vec<(Value, Vec<&Disclosure>, SdJwtError)> = vec![
        (json!({"_sd": "abc"}), vec![], SdJwtError::InvalidDigests),
        (json!({"_sd": [1]}), vec![], SdJwtError::InvalidDigests),
        (
            json!({"x": [{"...": 1}]}),
            vec![],
            SdJwtError::InvalidDigests,
        ),
        (
            json!({"...": "abc"}),
            vec![],
            SdJwtError::MisplacedArrayDigest,
        ),
        (
            json!({"x": [{"...": element.digest(), "y": 1}]}),
            vec![&element],
            SdJwtError::MisplacedArrayDigest,
        ),
        (
            json!({"_sd": [element.digest()]}),
            vec![&element],
            SdJwtError::DisclosureKindMismatch,
        ),
        (
            json!({"x": [{"...": property.digest()}]}),
            vec![&property],
            SdJwtError::DisclosureKindMismatch,
        ),
        (
            json!({"_sd": [property.digest()], "x": {"_sd": [property.digest()]}}),
            vec![&property],
            SdJwtError::DuplicateDigest,
        ),
        // A repeated decoy is refused as well: every digest appears once.
        (
            json!({"_sd": ["decoy", "decoy"]}),
            vec![],
            SdJwtError::DuplicateDigest,
        ),
    ];
    for (extra, disclosures, expected) in cases {
        let mut payload = base_payload(&parties);
        for (name, value) in extra.as_object().unwrap() {
            payload.insert(name.clone(), value.clone());
        }
        let text = forge(&parties.issuer, Value::Object(payload), &disclosures);
        assert_eq!(
            verify(&text, &options(&parties)).unwrap_err(),
            expected,
            "{extra}"
        );
    }
}

#[test]
fn repeated_member_names_in_the_payload_are_refused() {
    let parties = parties();
    let payload = r#"{"iss":"a","vct":"v","given_name":"An","given_name":"Mallory"}"#;
    let mut header = Map::new();
    header.insert("typ".into(), json!(SD_JWT_VC_TYP));
    let text = format!(
        "{}~",
        sign_compact(&header, payload.as_bytes(), &parties.issuer).unwrap()
    );
    assert_eq!(
        verify(&text, &options(&parties)).unwrap_err(),
        SdJwtError::IssuerJwt(JwsError::Payload(JsonError::DuplicateMember))
    );
}

#[test]
fn disclosures_nested_past_the_depth_limit_are_refused() {
    let parties = parties();
    // Each disclosure's value holds the digest of the next: a chain deeper than max_depth.
    let mut disclosures = Vec::new();
    let mut inner = json!("bottom");
    for _ in 0..40 {
        let disclosure = Disclosure::new_property("n", inner).unwrap();
        inner = json!({"_sd": [disclosure.digest()]});
        disclosures.push(disclosure);
    }
    let mut payload = base_payload(&parties);
    payload.insert("chain".into(), inner);
    let refs: Vec<&Disclosure> = disclosures.iter().collect();
    let text = forge(&parties.issuer, Value::Object(payload), &refs);
    assert_eq!(
        verify(&text, &options(&parties)).unwrap_err(),
        SdJwtError::TooDeep { max: 32 }
    );
    // The holder's side is bounded too.
    assert_eq!(
        parse(&text).present(&[ClaimPath::claim("chain")], None),
        Err(SdJwtError::TooDeep { max: 32 })
    );
}

// --- Attacks on key binding --------------------------------------------------------------------

fn presented(parties: &Parties, params: &KeyBindingParams<'_>) -> String {
    parse(&issue_pid(parties, 0).sd_jwt)
        .present(
            &[
                ClaimPath::claim("given_name"),
                ClaimPath::claim("birthdate"),
            ],
            Some(params),
        )
        .unwrap()
}

#[test]
fn key_binding_checks() {
    let parties = parties();
    let text = presented(&parties, &kb(&parties));
    let required = options(&parties).require_key_binding(AUD, NONCE);
    assert!(verify(&text, &required).is_ok());

    assert_eq!(
        verify(
            &text,
            &options(&parties).require_key_binding("https://evil.example", NONCE)
        )
        .unwrap_err(),
        SdJwtError::AudienceMismatch
    );
    assert_eq!(
        verify(
            &text,
            &options(&parties).require_key_binding(AUD, "another-nonce")
        )
        .unwrap_err(),
        SdJwtError::NonceMismatch
    );
    let mut stale = required.clone();
    stale.now = NOW + 300 + 60 + 10;
    assert_eq!(verify(&text, &stale).unwrap_err(), SdJwtError::KbStale);
    let mut early = required.clone();
    early.now = NOW - 5 - 61;
    assert_eq!(verify(&text, &early).unwrap_err(), SdJwtError::KbInFuture);

    // Without the KB-JWT when one is required.
    let stripped = &text[..=text.rfind('~').unwrap()];
    assert_eq!(
        verify(stripped, &required).unwrap_err(),
        SdJwtError::KeyBindingMissing
    );
    // Not required: accepted without, and a present one is still checked.
    assert!(verify(stripped, &options(&parties)).is_ok());
    assert!(verify(&text, &options(&parties)).is_ok());
    assert_eq!(
        verify(&text, &stale.clone()).unwrap_err(),
        SdJwtError::KbStale
    );
}

#[test]
fn dropping_or_adding_a_disclosure_breaks_sd_hash() {
    let parties = parties();
    let text = presented(&parties, &kb(&parties));
    let sd_jwt = parse(&text);
    let kb_jwt = sd_jwt.key_binding_jwt().unwrap().as_str();
    let dropped = format!(
        "{}~{}~{}",
        sd_jwt.issuer_jwt().as_str(),
        sd_jwt.disclosures()[0].encoded(),
        kb_jwt
    );
    assert_eq!(
        verify(&dropped, &options(&parties).require_key_binding(AUD, NONCE)).unwrap_err(),
        SdJwtError::SdHashMismatch
    );
    // An extra disclosure from the holder's own credential, after the KB-JWT was made.
    let issued = issue_pid(&parties, 0);
    let full = parse(&issued.sd_jwt);
    let mut reordered: Vec<&str> = sd_jwt.disclosures().iter().map(|d| d.encoded()).collect();
    reordered.reverse();
    let swapped = format!(
        "{}~{}~{}",
        sd_jwt.issuer_jwt().as_str(),
        reordered.join("~"),
        kb_jwt
    );
    assert_eq!(
        verify(&swapped, &options(&parties).require_key_binding(AUD, NONCE)).unwrap_err(),
        SdJwtError::SdHashMismatch
    );
    assert!(full.disclosures().len() > sd_jwt.disclosures().len());
}

/// Re-signs a KB-JWT over `presented` with `claims` changed, by `signer`, with `header`.
fn kb_jwt(signer: &dyn JwsSigner, header: Value, claims: Value) -> String {
    let Value::Object(header) = header else {
        unreachable!()
    };
    sign_compact(&header, claims.to_string().as_bytes(), signer).unwrap()
}

#[test]
fn forged_key_binding_jwts_are_refused() {
    let parties = parties();
    let text = presented(&parties, &kb(&parties));
    let prefix = &text[..=text.rfind('~').unwrap()];
    let good_claims = json!({"aud": AUD, "nonce": NONCE, "iat": NOW, "sd_hash": digest(prefix)});
    let required = options(&parties).require_key_binding(AUD, NONCE);
    let stranger = SoftwareSigner::generate().unwrap();

    let cases: Vec<(String, SdJwtError)> = vec![
        (
            kb_jwt(&stranger, json!({"typ": "kb+jwt"}), good_claims.clone()),
            SdJwtError::KbJwt(JwsError::BadSignature),
        ),
        (
            kb_jwt(&parties.holder, json!({"typ": "JWT"}), good_claims.clone()),
            SdJwtError::KbJwt(JwsError::TypMismatch),
        ),
        (
            kb_jwt(&parties.holder, json!({}), good_claims.clone()),
            SdJwtError::KbJwt(JwsError::TypMismatch),
        ),
        (
            kb_jwt(
                &parties.holder,
                json!({"typ": "kb+jwt"}),
                json!({"aud": AUD, "nonce": NONCE, "iat": NOW, "sd_hash": "wrong"}),
            ),
            SdJwtError::SdHashMismatch,
        ),
        (
            kb_jwt(
                &parties.holder,
                json!({"typ": "kb+jwt"}),
                json!({"aud": AUD, "nonce": NONCE, "sd_hash": digest(prefix)}),
            ),
            SdJwtError::KbClaim("iat"),
        ),
        (
            kb_jwt(
                &parties.holder,
                json!({"typ": "kb+jwt"}),
                json!({"aud": [AUD], "nonce": NONCE, "iat": NOW, "sd_hash": digest(prefix)}),
            ),
            SdJwtError::KbClaim("aud"),
        ),
        (
            format!(
                "{}.{}.",
                base64url::encode(r#"{"alg":"none","typ":"kb+jwt"}"#),
                base64url::encode(good_claims.to_string())
            ),
            SdJwtError::KbJwt(JwsError::AlgNone),
        ),
    ];
    for (kb_jwt, expected) in cases {
        assert_eq!(
            verify(&format!("{prefix}{kb_jwt}"), &required).unwrap_err(),
            expected
        );
    }
    // The control: the same construction with the holder's key verifies.
    let good = kb_jwt(&parties.holder, json!({"typ": "kb+jwt"}), good_claims);
    assert!(verify(&format!("{prefix}{good}"), &required).is_ok());
}

#[test]
fn key_binding_needs_a_usable_holder_key() {
    let parties = parties();
    let mut payload = base_payload(&parties);
    payload.remove("cnf");
    let text = forge(&parties.issuer, Value::Object(payload.clone()), &[]);
    let claims = json!({"aud": AUD, "nonce": NONCE, "iat": NOW, "sd_hash": digest(&text)});
    let with_kb = format!(
        "{text}{}",
        kb_jwt(&parties.holder, json!({"typ": "kb+jwt"}), claims.clone())
    );
    assert_eq!(
        verify(&with_kb, &options(&parties).require_key_binding(AUD, NONCE)).unwrap_err(),
        SdJwtError::MissingHolderKey
    );
    payload.insert(
        "cnf".into(),
        json!({"jwk": {"kty": "RSA", "n": "x", "e": "AQAB"}}),
    );
    let text = forge(&parties.issuer, Value::Object(payload), &[]);
    let claims = json!({"aud": AUD, "nonce": NONCE, "iat": NOW, "sd_hash": digest(&text)});
    let with_kb = format!(
        "{text}{}",
        kb_jwt(&parties.holder, json!({"typ": "kb+jwt"}), claims)
    );
    assert_eq!(
        verify(&with_kb, &options(&parties).require_key_binding(AUD, NONCE)).unwrap_err(),
        SdJwtError::HolderKey(crate::jose::JwkError::UnsupportedKeyType)
    );
    // Without key binding, an unusable cnf is no obstacle (the corpus has an RSA one).
    assert!(verify(&text, &options(&parties)).is_ok());
}

// --- Bad input -----------------------------------------------------------------------------------

#[test]
fn oversized_inputs_are_refused_before_decoding() {
    let parties = parties();
    let issued = issue_pid(&parties, 0);
    let limits = Limits::default();

    let huge = format!("{}{}~", issued.sd_jwt, "A".repeat(limits.max_sd_jwt_len));
    assert!(matches!(
        SdJwt::parse(&huge, &limits),
        Err(SdJwtError::TooLarge { what: "SD-JWT", .. })
    ));
    let many = format!("{}{}", issued.sd_jwt, "QQ~".repeat(limits.max_disclosures));
    assert_eq!(
        SdJwt::parse(&many, &limits).unwrap_err(),
        SdJwtError::TooManyDisclosures {
            max: limits.max_disclosures
        }
    );
    let big_disclosure = format!(
        "{}{}~",
        issued.sd_jwt,
        "A".repeat(limits.max_disclosure_len + 1)
    );
    assert!(matches!(
        SdJwt::parse(&big_disclosure, &limits),
        Err(SdJwtError::TooLarge {
            what: "disclosure",
            ..
        })
    ));
    let big_kb = format!("{}{}", issued.sd_jwt, "A".repeat(limits.max_kb_jwt_len + 1));
    assert!(matches!(
        SdJwt::parse(&big_kb, &limits),
        Err(SdJwtError::TooLarge {
            what: "key binding JWT",
            ..
        })
    ));
    let big_jwt = format!("{}~", "A".repeat(limits.max_issuer_jwt_len + 1));
    assert!(matches!(
        SdJwt::parse(&big_jwt, &limits),
        Err(SdJwtError::TooLarge {
            what: "issuer-signed JWT",
            ..
        })
    ));
    let tight = Limits {
        max_disclosures: 2,
        ..limits
    };
    assert_eq!(
        SdJwt::parse(&issued.sd_jwt, &tight).unwrap_err(),
        SdJwtError::TooManyDisclosures { max: 2 }
    );
}

#[test]
fn malformed_texts_get_typed_errors() {
    let parties = parties();
    let issued = issue_pid(&parties, 0);
    let jwt = issued.sd_jwt.split('~').next().unwrap();
    let limits = Limits::default();
    assert_eq!(
        SdJwt::parse(jwt, &limits).unwrap_err(),
        SdJwtError::NotAnSdJwt
    );
    assert_eq!(
        SdJwt::parse(&format!("{jwt}~~"), &limits).unwrap_err(),
        SdJwtError::EmptyDisclosure
    );
    assert_eq!(
        SdJwt::parse("~", &limits).unwrap_err(),
        SdJwtError::IssuerJwt(JwsError::Malformed)
    );
    assert!(matches!(
        SdJwt::parse(&format!("{jwt}~!!~"), &limits).unwrap_err(),
        SdJwtError::Disclosure(DisclosureError::Encoding(_))
    ));
    assert!(matches!(
        SdJwt::parse(&format!("{jwt}~not.a.jwt"), &limits).unwrap_err(),
        SdJwtError::KbJwt(_)
    ));
}

#[test]
fn mangled_presentations_never_panic() {
    let parties = parties();
    let text = presented(&parties, &kb(&parties));
    let required = options(&parties).require_key_binding(AUD, NONCE);
    let bytes = text.as_bytes();
    let mut accepted = 0;
    // Every position, a few replacement bytes, and every prefix.
    for i in (0..bytes.len()).step_by(3) {
        for replacement in [b'~', b'.', b'A', b'-'] {
            if bytes[i] == replacement {
                continue;
            }
            let mut mangled = bytes.to_vec();
            mangled[i] = replacement;
            let mangled = String::from_utf8(mangled).unwrap();
            if verify(&mangled, &required).is_ok() {
                accepted += 1;
            }
        }
        let _ = verify(&text[..i], &required);
    }
    // Only changes base64url cannot see (the last character's unused bits are refused, so none).
    assert_eq!(accepted, 0);
}

#[test]
fn error_texts_carry_no_claim_values() {
    let parties = parties();
    let issued = issue_pid(&parties, 0);
    let birthdate = issued
        .disclosures
        .iter()
        .find(|d| d.name() == Some("birthdate"))
        .unwrap();
    let mut errors = Vec::new();
    let tampered = issued.sd_jwt.replace(
        birthdate.encoded(),
        &base64url::encode(r#"["s","birthdate","1990-02-01"]"#),
    );
    errors.push(verify(&tampered, &options(&parties)).unwrap_err());
    let overwrite = Disclosure::new_property("family_name", json!("Nguyễn")).unwrap();
    let mut payload = base_payload(&parties);
    payload.insert("family_name".into(), json!("Nguyễn"));
    payload.insert("_sd".into(), json!([overwrite.digest()]));
    errors.push(
        verify(
            &forge(&parties.issuer, Value::Object(payload), &[&overwrite]),
            &options(&parties),
        )
        .unwrap_err(),
    );
    errors.push(
        SdJwt::parse(
            &format!(
                "{}{}~",
                issued.sd_jwt,
                base64url::encode(r#"["s","family_name","Nguyễn"]"#)
            ),
            &Limits::default(),
        )
        .and_then(|sd_jwt| sd_jwt.verify(&options(&parties)))
        .unwrap_err(),
    );
    for error in errors {
        let text = format!("{error} {error:?}");
        for value in ["Nguy", "1990", "birthdate", "family_name"] {
            assert!(!text.contains(value), "{text}");
        }
    }
}
