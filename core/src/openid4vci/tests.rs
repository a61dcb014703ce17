use serde_json::json;

use super::*;
use crate::jose::{SoftwareSigner, base64url};

const NOW: i64 = 1_800_000_000;
const ISSUER: &str = "https://127.0.0.1:8443/";
const ID: &str = "001090012345";

fn signer() -> SoftwareSigner {
    SoftwareSigner::generate().unwrap()
}

/// A JWS with any header and claims, signed by `signer` (whatever key the header names).
fn forged(signer: &SoftwareSigner, header: Value, claims: Value) -> String {
    let Value::Object(header) = header else {
        panic!("header must be an object")
    };
    sign_compact(&header, claims.to_string().as_bytes(), signer).unwrap()
}

/// `compact` with its header replaced, payload and signature kept.
fn with_header(compact: &str, header: Value) -> String {
    let mut parts: Vec<String> = compact.split('.').map(str::to_owned).collect();
    parts[0] = base64url::encode(header.to_string());
    parts.join(".")
}

// --- activation proof ------------------------------------------------------------------------

#[test]
fn an_activation_proof_verifies_and_names_the_device_key() {
    let device = signer();
    let proof = activation_proof(&device, device.public_key(), ID, NOW).unwrap();
    let jws = Jws::parse(&proof, MAX_PROOF_LEN).unwrap();
    assert_eq!(jws.header().typ(), Some(ACTIVATION_PROOF_TYP));
    assert_eq!(jws.header().params()["jwk"], device.public_key().to_value());

    let (key, claims) = verify_activation_proof(&proof, ID, NOW + 10, 300).unwrap();
    assert_eq!(&key, device.public_key());
    assert_eq!(claims.id_number, ID);
    assert_eq!(claims.iat, NOW);
    assert_eq!(claims.nonce, None);

    let request = ActivationRequest {
        id_number: ID.into(),
        device_key_proof: proof,
        attestation: Some("YXR0ZXN0".into()),
    };
    assert_eq!(request.verify_proof(NOW, 300).unwrap().0, key);
    let debug = format!("{request:?} {claims:?}");
    assert!(!debug.contains(ID) && !debug.contains("eyJ"), "{debug}");
}

#[test]
fn an_activation_proof_with_a_nonce_keeps_it() {
    let device = signer();
    let proof = forged(
        &device,
        json!({"typ": ACTIVATION_PROOF_TYP, "jwk": device.public_key().to_value()}),
        json!({"id_number": ID, "iat": NOW, "nonce": "n-1"}),
    );
    let (_, claims) = verify_activation_proof(&proof, ID, NOW, 300).unwrap();
    assert_eq!(claims.nonce.as_deref(), Some("n-1"));
}

#[test]
fn activation_proofs_are_refused_when_they_prove_nothing() {
    let device = signer();
    let attacker = signer();
    let header = |key: &SoftwareSigner| json!({"typ": ACTIVATION_PROOF_TYP, "jwk": key.public_key().to_value()});
    let good_claims = json!({"id_number": ID, "iat": NOW});
    let cases = [
        (
            "signed by another key than its jwk header",
            forged(&attacker, header(&device), good_claims.clone()),
            Openid4vciError::Jws(JwsError::BadSignature),
        ),
        (
            "another ID number",
            activation_proof(&device, device.public_key(), "001090099999", NOW).unwrap(),
            Openid4vciError::IdNumberMismatch,
        ),
        (
            "a key proof's typ",
            forged(
                &device,
                json!({"typ": PROOF_JWT_TYP, "jwk": device.public_key().to_value()}),
                good_claims.clone(),
            ),
            Openid4vciError::Jws(JwsError::TypMismatch),
        ),
        (
            "no typ",
            forged(
                &device,
                json!({"jwk": device.public_key().to_value()}),
                good_claims.clone(),
            ),
            Openid4vciError::Jws(JwsError::TypMismatch),
        ),
        (
            "no jwk",
            forged(
                &device,
                json!({"typ": ACTIVATION_PROOF_TYP}),
                good_claims.clone(),
            ),
            Openid4vciError::MissingJwk,
        ),
        (
            "stale",
            activation_proof(&device, device.public_key(), ID, NOW - 301).unwrap(),
            Openid4vciError::Stale,
        ),
        (
            "from the future",
            activation_proof(&device, device.public_key(), ID, NOW + 61).unwrap(),
            Openid4vciError::InFuture,
        ),
        (
            "no iat",
            forged(&device, header(&device), json!({"id_number": ID})),
            Openid4vciError::Claim("iat"),
        ),
        (
            "id_number not a string",
            forged(
                &device,
                header(&device),
                json!({"id_number": 1090012345, "iat": NOW}),
            ),
            Openid4vciError::Claim("id_number"),
        ),
    ];
    for (what, proof, expected) in cases {
        assert_eq!(
            verify_activation_proof(&proof, ID, NOW, 300).unwrap_err(),
            expected,
            "{what}"
        );
    }
}

// --- key proof -------------------------------------------------------------------------------

#[test]
fn a_key_proof_verifies_for_its_audience_and_nonce() {
    let device = signer();
    let proof = proof_jwt(&device, device.public_key(), ISSUER, "c-nonce-1", NOW).unwrap();
    let jws = Jws::parse(&proof, MAX_PROOF_LEN).unwrap();
    assert_eq!(jws.header().typ(), Some(PROOF_JWT_TYP));
    assert_eq!(jws.header().params()["alg"], json!("ES256"));
    assert_eq!(jws.header().params()["jwk"], device.public_key().to_value());
    let claims = jws.claims().unwrap();
    assert_eq!(claims["aud"], json!(ISSUER));
    assert_eq!(claims["nonce"], json!("c-nonce-1"));
    assert!(!claims.contains_key("iss"));

    let key = verify_proof_jwt(&proof, ISSUER, "c-nonce-1", NOW + 30, 60).unwrap();
    assert_eq!(&key, device.public_key());

    // An audience array that holds the issuer is fine too.
    let array_aud = forged(
        &device,
        json!({"typ": PROOF_JWT_TYP, "jwk": device.public_key().to_value()}),
        json!({"aud": ["https://other.example/", ISSUER], "iat": NOW, "nonce": "n"}),
    );
    verify_proof_jwt(&array_aud, ISSUER, "n", NOW, 60).unwrap();
}

#[test]
fn key_proofs_are_refused_in_every_attacker_shape() {
    let device = signer();
    let attacker = signer();
    let jwk = device.public_key().to_value();
    let header = json!({"typ": PROOF_JWT_TYP, "jwk": jwk});
    let claims = json!({"aud": ISSUER, "iat": NOW, "nonce": "n"});
    let good = proof_jwt(&device, device.public_key(), ISSUER, "n", NOW).unwrap();
    let mut private_jwk = jwk.clone();
    private_jwk["d"] = json!("Ur2bNKuBPOrAaxsRnbSH6hIhmNTxSGXshDSUD1a1y7g");
    let mut no_nonce = claims.clone();
    no_nonce.as_object_mut().unwrap().remove("nonce");
    let cases = [
        (
            "signed by another key than its jwk header",
            forged(&attacker, header.clone(), claims.clone()),
            Openid4vciError::Jws(JwsError::BadSignature),
        ),
        (
            "wrong typ",
            forged(&device, json!({"typ": "JWT", "jwk": jwk}), claims.clone()),
            Openid4vciError::Jws(JwsError::TypMismatch),
        ),
        (
            "an activation proof's typ",
            forged(
                &device,
                json!({"typ": ACTIVATION_PROOF_TYP, "jwk": jwk}),
                claims.clone(),
            ),
            Openid4vciError::Jws(JwsError::TypMismatch),
        ),
        (
            "wrong aud",
            proof_jwt(
                &device,
                device.public_key(),
                "https://evil.example/",
                "n",
                NOW,
            )
            .unwrap(),
            Openid4vciError::AudienceMismatch,
        ),
        (
            "aud array without the issuer",
            forged(
                &device,
                header.clone(),
                json!({"aud": ["https://evil.example/"], "iat": NOW, "nonce": "n"}),
            ),
            Openid4vciError::AudienceMismatch,
        ),
        (
            "no aud",
            forged(&device, header.clone(), json!({"iat": NOW, "nonce": "n"})),
            Openid4vciError::Claim("aud"),
        ),
        (
            "wrong nonce",
            proof_jwt(&device, device.public_key(), ISSUER, "other", NOW).unwrap(),
            Openid4vciError::NonceMismatch,
        ),
        (
            "no nonce",
            forged(&device, header.clone(), no_nonce),
            Openid4vciError::Claim("nonce"),
        ),
        (
            "stale iat",
            proof_jwt(&device, device.public_key(), ISSUER, "n", NOW - 61).unwrap(),
            Openid4vciError::Stale,
        ),
        (
            "iat in the future",
            proof_jwt(&device, device.public_key(), ISSUER, "n", NOW + 61).unwrap(),
            Openid4vciError::InFuture,
        ),
        (
            "iat a string",
            forged(
                &device,
                header.clone(),
                json!({"aud": ISSUER, "iat": "1800000000", "nonce": "n"}),
            ),
            Openid4vciError::Claim("iat"),
        ),
        (
            "alg HS256",
            with_header(
                &good,
                json!({"alg": "HS256", "typ": PROOF_JWT_TYP, "jwk": jwk}),
            ),
            Openid4vciError::Jws(JwsError::UnsupportedAlgorithm),
        ),
        (
            "alg ES384",
            with_header(
                &good,
                json!({"alg": "ES384", "typ": PROOF_JWT_TYP, "jwk": jwk}),
            ),
            Openid4vciError::Jws(JwsError::UnsupportedAlgorithm),
        ),
        (
            "alg none",
            with_header(
                &good,
                json!({"alg": "none", "typ": PROOF_JWT_TYP, "jwk": jwk}),
            ),
            Openid4vciError::Jws(JwsError::AlgNone),
        ),
        (
            "a kid beside the jwk",
            forged(
                &device,
                json!({"typ": PROOF_JWT_TYP, "jwk": jwk, "kid": "k1"}),
                claims.clone(),
            ),
            Openid4vciError::AmbiguousKey,
        ),
        (
            "x5c instead of jwk",
            forged(
                &device,
                json!({"typ": PROOF_JWT_TYP, "x5c": ["MIIB"]}),
                claims.clone(),
            ),
            Openid4vciError::AmbiguousKey,
        ),
        (
            "private key material in the jwk",
            forged(
                &device,
                json!({"typ": PROOF_JWT_TYP, "jwk": private_jwk}),
                claims.clone(),
            ),
            Openid4vciError::Jwk(JwkError::PrivateKeyMaterial),
        ),
        (
            "a jwk that is not P-256",
            forged(
                &device,
                json!({"typ": PROOF_JWT_TYP, "jwk": {"kty": "OKP", "crv": "Ed25519", "x": "AA"}}),
                claims.clone(),
            ),
            Openid4vciError::Jwk(JwkError::UnsupportedKeyType),
        ),
    ];
    for (what, proof, expected) in cases {
        assert_eq!(
            verify_proof_jwt(&proof, ISSUER, "n", NOW, 60).unwrap_err(),
            expected,
            "{what}"
        );
    }
}

#[test]
fn oversized_proofs_are_refused_before_decoding() {
    let huge = format!("{}.e30.{}", "A".repeat(MAX_PROOF_LEN), "A".repeat(86));
    let too_large = Openid4vciError::TooLarge {
        what: "proof",
        len: huge.len(),
        max: MAX_PROOF_LEN,
    };
    assert_eq!(
        verify_proof_jwt(&huge, ISSUER, "n", NOW, 60).unwrap_err(),
        too_large
    );
    assert_eq!(
        verify_activation_proof(&huge, ID, NOW, 60).unwrap_err(),
        too_large
    );
}

#[test]
fn mangled_proofs_never_panic_and_never_verify() {
    let device = signer();
    let proof = proof_jwt(&device, device.public_key(), ISSUER, "n", NOW).unwrap();
    let bytes = proof.as_bytes();
    for i in 0..bytes.len() {
        for replacement in [b'.', b'A', b'_', b'-', b'~'] {
            if bytes[i] == replacement {
                continue;
            }
            let mut mangled = bytes.to_vec();
            mangled[i] = replacement;
            let text = String::from_utf8(mangled).unwrap();
            // Base64url's last character may carry unused bits: only a changed decoding counts.
            if let Ok(key) = verify_proof_jwt(&text, ISSUER, "n", NOW, 60) {
                assert_eq!(&key, device.public_key());
            }
            let _ = verify_activation_proof(&text, ID, NOW, 60);
        }
        let _ = verify_proof_jwt(&proof[..i], ISSUER, "n", NOW, 60);
    }
}

// --- token request ---------------------------------------------------------------------------

#[test]
fn the_token_request_is_form_encoded_and_parsed_back() {
    let request = TokenRequest {
        pre_authorized_code: "SplxlOBeZQQYbYS6WxSbIA".into(),
        tx_code: Some("ABCD-EFGH".into()),
    };
    assert_eq!(
        request.to_form(),
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code\
         &pre-authorized_code=SplxlOBeZQQYbYS6WxSbIA&tx_code=ABCD-EFGH"
    );
    assert_eq!(
        TokenRequest::from_form(request.to_form().as_bytes()).unwrap(),
        request
    );

    // Everything that means something in a form survives the round trip.
    let awkward = TokenRequest {
        pre_authorized_code: "a+b c&d=e%f/g?h#ị".into(),
        tx_code: Some(" x ".into()),
    };
    let form = awkward.to_form();
    assert!(!form.contains(' ') && !form.contains('ị'), "{form}");
    assert_eq!(TokenRequest::from_form(form.as_bytes()).unwrap(), awkward);

    let without_tx_code = TokenRequest {
        pre_authorized_code: "c".into(),
        tx_code: None,
    };
    assert!(!without_tx_code.to_form().contains("tx_code"));
    assert_eq!(
        TokenRequest::from_form(without_tx_code.to_form().as_bytes()).unwrap(),
        without_tx_code
    );
    let debug = format!("{awkward:?}");
    assert!(!debug.contains("a+b") && !debug.contains(" x "), "{debug}");
}

#[test]
fn token_forms_follow_rfc_6749() {
    let grant = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code";
    // Unknown parameters are ignored, an empty one counts as absent, `+` is a space.
    let parsed = TokenRequest::from_form(
        format!("{grant}&client_id=x&pre-authorized_code=a+b&tx_code=&&").as_bytes(),
    )
    .unwrap();
    assert_eq!(parsed.pre_authorized_code, "a b");
    assert_eq!(parsed.tx_code, None);
    // Percent-encoded names count as the names they spell.
    let parsed =
        TokenRequest::from_form(format!("{grant}&pre%2Dauthorized_code=c&tx%5Fcode=t").as_bytes())
            .unwrap();
    assert_eq!(
        (
            parsed.pre_authorized_code.as_str(),
            parsed.tx_code.as_deref()
        ),
        ("c", Some("t"))
    );

    let cases: Vec<(String, Openid4vciError)> = vec![
        (
            format!("{grant}&pre-authorized_code=a&pre-authorized_code=b"),
            Openid4vciError::DuplicateParameter("pre-authorized_code"),
        ),
        (
            format!("{grant}&pre-authorized_code=a&tx_code=1&tx_code=2"),
            Openid4vciError::DuplicateParameter("tx_code"),
        ),
        (
            format!("{grant}&{grant}&pre-authorized_code=a"),
            Openid4vciError::DuplicateParameter("grant_type"),
        ),
        (
            format!("{grant}&tx_code=1"),
            Openid4vciError::MissingParameter("pre-authorized_code"),
        ),
        (
            format!("{grant}&pre-authorized_code="),
            Openid4vciError::MissingParameter("pre-authorized_code"),
        ),
        (
            "pre-authorized_code=a".into(),
            Openid4vciError::MissingParameter("grant_type"),
        ),
        (
            "grant_type=authorization_code&code=a".into(),
            Openid4vciError::UnsupportedGrantType,
        ),
        (
            format!("{grant}&pre-authorized_code=%zz"),
            Openid4vciError::FormEncoding,
        ),
        (
            format!("{grant}&pre-authorized_code=%4"),
            Openid4vciError::FormEncoding,
        ),
        (
            format!("{grant}&pre-authorized_code=%FF%FE"),
            Openid4vciError::FormEncoding,
        ),
    ];
    for (form, expected) in cases {
        assert_eq!(
            TokenRequest::from_form(form.as_bytes()).unwrap_err(),
            expected,
            "{form}"
        );
    }
    assert_eq!(
        TokenRequest::from_form(b"grant_type=\xff").unwrap_err(),
        Openid4vciError::FormEncoding
    );
    let huge = format!("{grant}&pre-authorized_code={}", "a".repeat(MAX_FORM_LEN));
    assert!(matches!(
        TokenRequest::from_form(huge.as_bytes()),
        Err(Openid4vciError::TooLarge { .. })
    ));
}

// --- JSON messages ---------------------------------------------------------------------------

#[test]
fn the_credential_offer_has_the_specified_shape() {
    let offer = CredentialOffer::pid(ISSUER, "code-1".into(), "The activation code");
    assert_eq!(
        serde_json::to_value(&offer).unwrap(),
        json!({
            "credential_issuer": ISSUER,
            "credential_configuration_ids": ["vn.gov.pid"],
            "grants": {
                "urn:ietf:params:oauth:grant-type:pre-authorized_code": {
                    "pre-authorized_code": "code-1",
                    "tx_code": {"length": 8, "input_mode": "text", "description": "The activation code"}
                }
            }
        })
    );
    let text = serde_json::to_vec(&offer).unwrap();
    let parsed: CredentialOffer = from_json(&text, MAX_MESSAGE_LEN).unwrap();
    assert_eq!(parsed, offer);
    let grant = parsed.pre_authorized_grant().unwrap();
    assert_eq!(grant.pre_authorized_code, "code-1");
    assert!(!format!("{parsed:?}").contains("code-1"));

    // A minimal offer from another issuer: tx_code without input_mode means numeric.
    let minimal: CredentialOffer = from_json(
        br#"{"credential_issuer":"https://i.example","credential_configuration_ids":["x"],
             "grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":
                       {"pre-authorized_code":"c","tx_code":{}},"authorization_code":{}}}"#,
        MAX_MESSAGE_LEN,
    )
    .unwrap();
    assert_eq!(
        minimal.pre_authorized_grant().unwrap().tx_code,
        Some(TxCode {
            length: None,
            input_mode: None,
            description: None
        })
    );
}

#[test]
fn the_issuer_metadata_names_the_pid_configuration() {
    let metadata = IssuerMetadata::pid_issuer(ISSUER);
    let value = serde_json::to_value(&metadata).unwrap();
    assert_eq!(value["credential_issuer"], json!(ISSUER));
    assert_eq!(
        value["token_endpoint"],
        json!("https://127.0.0.1:8443/token")
    );
    assert_eq!(
        value["nonce_endpoint"],
        json!("https://127.0.0.1:8443/nonce")
    );
    assert_eq!(
        value["credential_endpoint"],
        json!("https://127.0.0.1:8443/credential")
    );
    let pid = &value["credential_configurations_supported"]["vn.gov.pid"];
    assert_eq!(pid["format"], json!("dc+sd-jwt"));
    assert_eq!(pid["vct"], json!(PID_VCT));
    assert_eq!(
        pid["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"],
        json!(["ES256"])
    );
    // Unknown members (display, authorization_servers, ...) are ignored when reading.
    let mut extended = value.clone();
    extended["display"] = json!([{"name": "Bộ Công an"}]);
    extended["credential_configurations_supported"]["vn.gov.pid"]["credential_metadata"] =
        json!({});
    let parsed: IssuerMetadata =
        from_json(extended.to_string().as_bytes(), MAX_MESSAGE_LEN).unwrap();
    assert_eq!(parsed, metadata);
}

#[test]
fn token_nonce_credential_and_error_messages_round_trip() {
    let token = TokenResponse {
        access_token: "secret-token".into(),
        token_type: "Bearer".into(),
        expires_in: 300,
    };
    assert_eq!(
        serde_json::to_value(&token).unwrap(),
        json!({"access_token": "secret-token", "token_type": "Bearer", "expires_in": 300})
    );
    assert!(!format!("{token:?}").contains("secret-token"));

    let request = CredentialRequest::pid("proof.jwt.here".into());
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({"credential_configuration_id": "vn.gov.pid", "proofs": {"jwt": ["proof.jwt.here"]}})
    );
    let response = CredentialResponse {
        credentials: vec![IssuedCredential {
            credential: "eyJ...~".into(),
        }],
    };
    assert_eq!(
        serde_json::to_value(&response).unwrap(),
        json!({"credentials": [{"credential": "eyJ...~"}]})
    );
    assert!(!format!("{response:?}").contains("eyJ"));
    assert_eq!(
        from_json::<NonceResponse>(br#"{"c_nonce":"n"}"#, MAX_MESSAGE_LEN).unwrap(),
        NonceResponse {
            c_nonce: "n".into()
        }
    );
    assert_eq!(
        serde_json::to_value(OAuthErrorResponse::new(error_codes::INVALID_GRANT, None)).unwrap(),
        json!({"error": "invalid_grant"})
    );
    assert_eq!(
        serde_json::to_value(OAuthErrorResponse::new(
            error_codes::INVALID_PROOF,
            Some("the proof is too old")
        ))
        .unwrap(),
        json!({"error": "invalid_proof", "error_description": "the proof is too old"})
    );
}

#[test]
fn json_messages_are_bounded_and_strict() {
    assert_eq!(
        from_json::<NonceResponse>(br#"{"c_nonce":"a","c_nonce":"b"}"#, MAX_MESSAGE_LEN),
        Err(Openid4vciError::Json(JsonError::DuplicateMember))
    );
    assert_eq!(
        from_json::<NonceResponse>(br#"{"nonce":"a"}"#, MAX_MESSAGE_LEN),
        Err(Openid4vciError::Shape)
    );
    assert_eq!(
        from_json::<NonceResponse>(b"{", MAX_MESSAGE_LEN),
        Err(Openid4vciError::Json(JsonError::Syntax))
    );
    let long = format!(r#"{{"c_nonce":"{}"}}"#, "a".repeat(100));
    assert!(matches!(
        from_json::<NonceResponse>(long.as_bytes(), 50),
        Err(Openid4vciError::TooLarge { max: 50, .. })
    ));
}

#[test]
fn the_pid_claim_names_are_the_documented_ones() {
    assert_eq!(
        pid_claims::ALL,
        [
            "full_name",
            "birth_date",
            "sex",
            "nationality",
            "id_number",
            "place_of_origin",
            "place_of_residence",
            "issue_date",
            "expiry_date",
            "age_over_18"
        ]
    );
}
