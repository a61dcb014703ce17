//! The sandbox as an OpenID4VP relying party, over real HTTPS, with the test acting as a wallet
//! built from core's pure modules: the link, the request object fetched with
//! `request_uri_method=post` and verified against the relying party of the sandbox's signed trust
//! list, a PID presented with a key binding JWT for the client id and nonce, answered with
//! `direct_post` and `direct_post.jwt`; and the answers the relying party must refuse or fail.

mod support;

use citizen_core::jose::jwe;
use citizen_core::jose::{Jws, JwsError, base64url, sign_compact};
use citizen_core::openid4vp::{
    AuthorizationLink, AuthorizationResponse, ErrorResponse, MAX_REQUEST_OBJECT_LEN,
    Openid4vpError, RequestCheck, RequestObject, RequestUriMethod, ResponseMode, VpToken,
};
use citizen_core::sdjwt::{ClaimPath, Disclosure, KB_JWT_TYP, KeyBindingParams, Limits, SdJwt};
use citizen_core::trust_list::{RelyingParty, TrustList};
use citizen_sandbox::RunningSandbox;
use citizen_sandbox::relying_party::attacks::{
    ELSEWHERE_RESPONSE_URI, EXPIRED_AGO_SECS, FORBIDDEN_CLAIM,
};
use citizen_sandbox::relying_party::{
    Misbehaviour, PID_QUERY_ID, PresentationRequestCreated, PresentationResult,
};
use citizen_sandbox::trust::SAMPLE_RP_CLIENT_ID;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Map, Value, json};
use support::*;

const FORM: &str = "application/x-www-form-urlencoded";

/// The relying party as the sandbox's published, anchor-verified trust list names it.
async fn trusted_relying_party(sandbox: &RunningSandbox, http: &reqwest::Client) -> RelyingParty {
    let response = http
        .get(format!("{}v1/trust-list", sandbox.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let list = TrustList::verify(
        &response.text().await.unwrap(),
        &[sandbox.trust_anchor_config()],
        now(),
    )
    .unwrap();
    list.relying_party(SAMPLE_RP_CLIENT_ID).unwrap().clone()
}

async fn post_spec(sandbox: &RunningSandbox, spec: &Value) -> reqwest::Response {
    client(sandbox)
        .post(format!("{}v1/test/rp/requests", sandbox.base_url))
        .json(spec)
        .send()
        .await
        .unwrap()
}

async fn create_request(sandbox: &RunningSandbox, spec: Value) -> PresentationRequestCreated {
    let response = post_spec(sandbox, &spec).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

/// The `error_description` of a spec the sandbox refuses.
async fn refused_spec(sandbox: &RunningSandbox, spec: Value) -> String {
    let response = post_spec(sandbox, &spec).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{spec}");
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"], "invalid_request");
    error["error_description"].as_str().unwrap().to_owned()
}

async fn result(sandbox: &RunningSandbox, id: &str) -> PresentationResult {
    let response = client(sandbox)
        .get(format!("{}v1/test/rp/results/{id}", sandbox.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// The wallet's side up to the verified request object: parse the link, POST the request_uri
/// (with a `wallet_nonce`), verify the object against the trusted relying party.
async fn fetch_request(
    sandbox: &RunningSandbox,
    created: &PresentationRequestCreated,
) -> (RequestObject, Map<String, Value>) {
    let http = client(sandbox);
    let link = AuthorizationLink::parse(&created.link).unwrap();
    assert_eq!(link.client_id, SAMPLE_RP_CLIENT_ID);
    assert_eq!(link.request_uri_method, RequestUriMethod::Post);
    let response = http
        .post(link.request_uri.clone())
        .header(CONTENT_TYPE, FORM)
        .body("wallet_nonce=w-nonce-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[CONTENT_TYPE],
        "application/oauth-authz-req+jwt"
    );
    let compact = response.text().await.unwrap();
    let rp = trusted_relying_party(sandbox, &http).await;
    let check = RequestCheck {
        link: &link,
        relying_party: &rp,
        wallet_aud: None,
        now: now(),
        skew: 60,
        wallet_nonce: Some("w-nonce-123"),
    };
    let object = RequestObject::verify(&compact, &check).unwrap();
    // Expired: the same object checked a while after its `exp` is refused.
    let later = RequestCheck {
        now: object.exp + 120,
        ..check
    };
    assert!(matches!(
        RequestObject::verify(&compact, &later),
        Err(Openid4vpError::Expired)
    ));
    let claims = citizen_core::jose::Jws::parse(&compact, 64 * 1024)
        .unwrap()
        .claims()
        .unwrap();
    assert_eq!(claims["wallet_nonce"], "w-nonce-123");
    (object, claims)
}

/// A presentation of `names` from `credential`, bound to `audience` and `nonce`.
fn present(
    wallet: &Wallet,
    credential: &str,
    names: &[&str],
    audience: &str,
    nonce: &str,
) -> String {
    let sd_jwt = SdJwt::parse(credential, &Limits::default()).unwrap();
    let paths: Vec<ClaimPath> = names.iter().map(|n| ClaimPath::claim(n)).collect();
    sd_jwt
        .present(
            &paths,
            Some(&KeyBindingParams {
                audience,
                nonce,
                issued_at: now(),
                signer: &wallet.device,
            }),
        )
        .unwrap()
}

/// An honest presentation of `names` for the relying party's `object`.
fn present_to(wallet: &Wallet, credential: &str, names: &[&str], object: &RequestObject) -> String {
    present(wallet, credential, names, &object.client_id, &object.nonce)
}

/// The `direct_post` body answering `object` with `presentation`.
fn answer_form(object: &RequestObject, presentation: String) -> String {
    AuthorizationResponse {
        vp_token: vp_token(presentation),
        state: object.state.clone(),
    }
    .to_form()
}

fn vp_token(presentation: String) -> VpToken {
    VpToken::from([(PID_QUERY_ID.to_owned(), vec![presentation])])
}

async fn post_form(sandbox: &RunningSandbox, uri: &str, body: String) -> reqwest::Response {
    client(sandbox)
        .post(uri)
        .header(CONTENT_TYPE, FORM)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_post_answer_shows_exactly_the_presented_claims_and_cannot_be_replayed() {
    let (sandbox, _data) = start().await;
    let (wallet, credential) = enrolled_wallet_with_pid(&sandbox).await;
    let created = create_request(
        &sandbox,
        json!({"claims": ["full_name", "birth_date"], "optional_claims": ["id_number"]}),
    )
    .await;
    assert!(created.link.starts_with("openid4vp://"));
    assert!(!created.purpose.is_empty());
    assert_eq!(result(&sandbox, &created.id).await.state, "pending");

    let (object, _) = fetch_request(&sandbox, &created).await;
    assert_eq!(object.response_mode, ResponseMode::DirectPost);
    assert!(object.encryption.is_none());
    assert_eq!(object.response_uri.host_str(), Some("127.0.0.1"));
    let credential_query = &object.dcql_query.credentials[0];
    assert_eq!(credential_query.vct_values, vec!["urn:eudi:pid:vn:1"]);
    assert_eq!(credential_query.claims.len(), 3);
    assert!(credential_query.is_required(0) && credential_query.is_required(1));
    assert!(!credential_query.is_required(2));

    // The optional id_number is left out.
    let presentation = present_to(&wallet, &credential, &["full_name", "birth_date"], &object);
    let body = answer_form(&object, presentation);
    let response = post_form(&sandbox, object.response_uri.as_str(), body.clone()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    assert!(
        answer["redirect_uri"]
            .as_str()
            .unwrap()
            .contains("response_code=")
    );

    let outcome = result(&sandbox, &created.id).await;
    assert_eq!(outcome.state, "completed", "{outcome:?}");
    assert!(outcome.key_binding);
    assert_eq!(outcome.status.as_deref(), Some("valid"));
    let names: Vec<&str> = outcome.claims.keys().map(String::as_str).collect();
    assert_eq!(names, vec!["birth_date", "full_name"]);
    let sample = citizen_sandbox::enrollment::EnrollmentRequest::sample(ID);
    assert_eq!(outcome.claims["full_name"], sample.full_name.as_str());

    // The same answer again (a replay) is refused, and the outcome stays.
    let replay = post_form(&sandbox, object.response_uri.as_str(), body).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    let error: Value = replay.json().await.unwrap();
    assert_eq!(error["error"], "invalid_request");
    assert_eq!(result(&sandbox, &created.id).await, outcome);
    // An unknown state too.
    let unknown = ErrorResponse::access_denied("no-such-state").to_form();
    let response = post_form(&sandbox, object.response_uri.as_str(), unknown).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // An answered request's request_uri is gone.
    let response = post_form(
        &sandbox,
        AuthorizationLink::parse(&created.link)
            .unwrap()
            .request_uri
            .as_str(),
        String::new(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_direct_post_jwt_answer_is_decrypted_and_verified() {
    let (sandbox, _data) = start().await;
    let (wallet, credential) = enrolled_wallet_with_pid(&sandbox).await;
    let created = create_request(
        &sandbox,
        json!({"claims": ["age_over_18", "place_of_residence"], "encrypted": true}),
    )
    .await;
    let (object, _) = fetch_request(&sandbox, &created).await;
    assert_eq!(object.response_mode, ResponseMode::DirectPostJwt);
    let encryption = object.encryption.clone().unwrap();
    let presentation = present_to(
        &wallet,
        &credential,
        &["age_over_18", "place_of_residence"],
        &object,
    );
    let response = AuthorizationResponse {
        vp_token: vp_token(presentation),
        state: object.state.clone(),
    };

    // In the clear, to a request that asked for encryption: refused, still pending.
    let clear = post_form(&sandbox, object.response_uri.as_str(), response.to_form()).await;
    assert_eq!(clear.status(), StatusCode::BAD_REQUEST);
    assert_eq!(result(&sandbox, &created.id).await.state, "pending");

    let payload = json!({
        "vp_token": serde_json::from_str::<Value>(&response.vp_token_json()).unwrap(),
        "state": response.state,
    });
    let mut header = Map::new();
    if let Some(kid) = &encryption.kid {
        header.insert("kid".into(), json!(kid));
    }
    let jwe_text = jwe::encrypt(
        payload.to_string().as_bytes(),
        &encryption.jwk,
        encryption.enc_values[0],
        &header,
    )
    .unwrap();
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response", &jwe_text)
        .finish();
    let answer = post_form(&sandbox, object.response_uri.as_str(), body).await;
    assert_eq!(answer.status(), StatusCode::OK);

    let outcome = result(&sandbox, &created.id).await;
    assert_eq!(outcome.state, "completed", "{outcome:?}");
    assert!(outcome.key_binding);
    let names: Vec<&str> = outcome.claims.keys().map(String::as_str).collect();
    assert_eq!(names, vec!["age_over_18", "place_of_residence"]);
    assert_eq!(outcome.claims["age_over_18"], true);
}

/// A fresh request for full_name, fetched and verified: its request object.
async fn full_name_request(sandbox: &RunningSandbox) -> (String, RequestObject) {
    let created = create_request(sandbox, json!({"claims": ["full_name"]})).await;
    let (object, _) = fetch_request(sandbox, &created).await;
    (created.id, object)
}

async fn answer(
    sandbox: &RunningSandbox,
    object: &RequestObject,
    presentation: String,
) -> StatusCode {
    let body = answer_form(object, presentation);
    post_form(sandbox, object.response_uri.as_str(), body)
        .await
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_nonce_wrong_audience_tampered_disclosures_fail_and_a_refusal_is_declined() {
    let (sandbox, _data) = start().await;
    let (wallet, credential) = enrolled_wallet_with_pid(&sandbox).await;

    // Another nonce.
    let (id, object) = full_name_request(&sandbox).await;
    let presentation = present(
        &wallet,
        &credential,
        &["full_name"],
        &object.client_id,
        "other-nonce",
    );
    assert_eq!(
        answer(&sandbox, &object, presentation).await,
        StatusCode::BAD_REQUEST
    );
    let outcome = result(&sandbox, &id).await;
    assert_eq!(outcome.state, "failed");
    assert!(outcome.claims.is_empty() && !outcome.key_binding);
    assert!(outcome.error.is_some());

    // Another audience.
    let (id, object) = full_name_request(&sandbox).await;
    let presentation = present(
        &wallet,
        &credential,
        &["full_name"],
        "someone-else",
        &object.nonce,
    );
    assert_eq!(
        answer(&sandbox, &object, presentation).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(result(&sandbox, &id).await.state, "failed");

    // A disclosure replaced by one the issuer never signed, with a valid key binding JWT over it.
    let (id, object) = full_name_request(&sandbox).await;
    let honest = present_to(&wallet, &credential, &["full_name"], &object);
    let issuer_jwt = honest.split('~').next().unwrap();
    let forged = Disclosure::new_property("full_name", json!("Kẻ Mạo Danh")).unwrap();
    let sd_jwt = format!("{issuer_jwt}~{}~", forged.encoded());
    let sd_hash =
        base64url::encode(ring::digest::digest(&ring::digest::SHA256, sd_jwt.as_bytes()).as_ref());
    let mut kb_header = Map::new();
    kb_header.insert("typ".into(), json!(KB_JWT_TYP));
    let kb_claims =
        json!({"aud": object.client_id, "nonce": object.nonce, "iat": now(), "sd_hash": sd_hash});
    let kb = sign_compact(&kb_header, kb_claims.to_string().as_bytes(), &wallet.device).unwrap();
    assert_eq!(
        answer(&sandbox, &object, format!("{sd_jwt}{kb}")).await,
        StatusCode::BAD_REQUEST
    );
    let outcome = result(&sandbox, &id).await;
    assert_eq!(outcome.state, "failed");
    assert!(outcome.claims.is_empty());
    assert!(outcome.error.unwrap().contains("disclosure"));

    // The citizen declines.
    let (id, object) = full_name_request(&sandbox).await;
    let declined = ErrorResponse::access_denied(object.state.clone()).to_form();
    let response = post_form(&sandbox, object.response_uri.as_str(), declined).await;
    assert_eq!(response.status(), StatusCode::OK);
    let outcome = result(&sandbox, &id).await;
    assert_eq!(outcome.state, "declined");
    assert!(outcome.claims.is_empty());

    // A revoked PID still verifies, and the relying party sees its status.
    sandbox.set_credential_status(ID, "revoked").unwrap();
    let (id, object) = full_name_request(&sandbox).await;
    let presentation = present_to(&wallet, &credential, &["full_name"], &object);
    assert_eq!(
        answer(&sandbox, &object, presentation).await,
        StatusCode::OK
    );
    let outcome = result(&sandbox, &id).await;
    assert_eq!(outcome.state, "completed");
    assert_eq!(outcome.status.as_deref(), Some("revoked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_for_claims_the_relying_party_may_not_ask_are_refused() {
    let (sandbox, _data) = start().await;
    refused_spec(&sandbox, json!({"claims": ["sex"]})).await;
    let unknown = client(&sandbox)
        .post(format!("{}v1/rp/request-objects/nope", sandbox.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rp_request_command_makes_a_request_a_running_sandbox_serves() {
    let (sandbox, data) = start().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_citizen-sandbox"))
        .args([
            "rp-request",
            "--claims",
            "full_name,birth_date",
            "--encrypted",
        ])
        .args(["--base-url", &sandbox.base_url, "--data"])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let link = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("link    : "))
        .unwrap();
    let id = text
        .lines()
        .next()
        .unwrap()
        .strip_prefix("Presentation request ")
        .unwrap();
    // The QR is drawn with block characters.
    assert!(text.contains('█'));
    let created = PresentationRequestCreated {
        id: id.to_owned(),
        link: link.to_owned(),
        purpose: String::new(),
    };
    let (object, _) = fetch_request(&sandbox, &created).await;
    assert_eq!(object.response_mode, ResponseMode::DirectPostJwt);
    assert_eq!(object.dcql_query.credentials[0].claims.len(), 2);
    assert_eq!(result(&sandbox, id).await.state, "pending");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_subset_of_the_optional_claims_is_an_option_and_completes() {
    let (sandbox, _data) = start().await;
    let (wallet, credential) = enrolled_wallet_with_pid(&sandbox).await;
    let created = create_request(
        &sandbox,
        json!({"claims": ["full_name"], "optional_claims": ["birth_date", "id_number"]}),
    )
    .await;
    let (object, _) = fetch_request(&sandbox, &created).await;
    assert_eq!(
        object.dcql_query.credentials[0].claim_sets,
        vec![
            vec!["full_name", "birth_date", "id_number"],
            vec!["full_name", "birth_date"],
            vec!["full_name", "id_number"],
            vec!["full_name"],
        ]
    );
    // The citizen approves id_number but not birth_date.
    let presentation = present_to(&wallet, &credential, &["full_name", "id_number"], &object);
    assert_eq!(
        answer(&sandbox, &object, presentation).await,
        StatusCode::OK
    );
    let outcome = result(&sandbox, &created.id).await;
    assert_eq!(outcome.state, "completed", "{outcome:?}");
    let names: Vec<&str> = outcome.claims.keys().map(String::as_str).collect();
    assert_eq!(names, vec!["full_name", "id_number"]);

    // Five optional claims would need 32 options: refused.
    let five = json!({"optional_claims": ["full_name", "birth_date", "age_over_18", "id_number",
        "place_of_residence"]});
    let description = refused_spec(&sandbox, five).await;
    assert!(description.contains("at most 4 optional claims"));
}

const WALLET_NONCE: &str = "w-nonce-attack";

/// The compact request object of `created` as the wallet fetches it (POST with a
/// `wallet_nonce`), read whole whatever its size, and the check the wallet makes of it.
async fn fetch_compact(
    sandbox: &RunningSandbox,
    created: &PresentationRequestCreated,
) -> (AuthorizationLink, String) {
    let link = AuthorizationLink::parse(&created.link).unwrap();
    let response = post_form(
        sandbox,
        link.request_uri.as_str(),
        format!("wallet_nonce={WALLET_NONCE}"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[CONTENT_TYPE],
        "application/oauth-authz-req+jwt"
    );
    (link, response.text().await.unwrap())
}

fn wallet_check<'a>(link: &'a AuthorizationLink, rp: &'a RelyingParty) -> RequestCheck<'a> {
    RequestCheck {
        link,
        relying_party: rp,
        wallet_aud: None,
        now: now(),
        skew: 60,
        wallet_nonce: Some(WALLET_NONCE),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_misbehaving_request_object_is_refused_by_the_wallet_check_and_never_completes() {
    let (sandbox, _data) = start().await;
    let (wallet, credential) = enrolled_wallet_with_pid(&sandbox).await;
    let http = client(&sandbox);
    let rp = trusted_relying_party(&sandbox, &http).await;
    type Expected = fn(&Openid4vpError) -> bool;
    let cases: [(&str, Expected); 6] = [
        ("foreign_key", |e| {
            matches!(e, Openid4vpError::Jws(JwsError::BadSignature))
        }),
        (
            "claim_not_allowed",
            |e| matches!(e, Openid4vpError::ClaimNotAllowed(c) if c == FORBIDDEN_CLAIM),
        ),
        ("expired", |e| matches!(e, Openid4vpError::Expired)),
        ("response_uri_elsewhere", |e| {
            matches!(e, Openid4vpError::ResponseUriNotAllowed)
        }),
        (
            "oversized",
            |e| matches!(e, Openid4vpError::TooLarge { max, .. } if *max == MAX_REQUEST_OBJECT_LEN),
        ),
        ("wrong_wallet_nonce", |e| {
            matches!(e, Openid4vpError::WalletNonceMismatch)
        }),
    ];
    assert_eq!(cases.len(), Misbehaviour::ALL.len());
    for (name, expected) in cases {
        let created = create_request(
            &sandbox,
            json!({"claims": ["full_name"], "optional_claims": ["birth_date"],
                "misbehave": name}),
        )
        .await;
        let (link, compact) = fetch_compact(&sandbox, &created).await;
        // The link itself is honest: only the object is wrong.
        link.check_against(&rp).unwrap();
        let error = RequestObject::verify(&compact, &wallet_check(&link, &rp)).unwrap_err();
        assert!(expected(&error), "{name}: {error:?}");

        let jws = Jws::parse(&compact, 4 * MAX_REQUEST_OBJECT_LEN).unwrap();
        let claims = jws.claims().unwrap();
        assert_eq!(jws.header().kid(), Some(rp.keys[0].kid.as_str()), "{name}");
        match name {
            "foreign_key" => assert!(rp.keys.iter().all(|k| jws.verify(&k.jwk).is_err())),
            "oversized" => {
                assert!(compact.len() > MAX_REQUEST_OBJECT_LEN);
                assert!(
                    compact.len() < MAX_REQUEST_OBJECT_LEN + 1024,
                    "{}",
                    compact.len()
                );
                // Apart from its size, a well-signed object.
                assert!(rp.keys.iter().any(|k| jws.verify(&k.jwk).is_ok()));
            }
            "expired" => {
                let exp = claims["exp"].as_i64().unwrap();
                assert!(exp <= now() - EXPIRED_AGO_SECS + 5);
                assert!(claims["iat"].as_i64().unwrap() < exp);
            }
            "response_uri_elsewhere" => {
                assert_eq!(claims["response_uri"], ELSEWHERE_RESPONSE_URI)
            }
            "wrong_wallet_nonce" => {
                let echoed = claims["wallet_nonce"].as_str().unwrap();
                assert!(!echoed.is_empty() && echoed != WALLET_NONCE);
            }
            _ => assert_eq!(claims["wallet_nonce"], WALLET_NONCE),
        }

        // A wallet that answered anyway gets no completed result.
        let (nonce, state) = (
            claims["nonce"].as_str().unwrap(),
            claims["state"].as_str().unwrap(),
        );
        let presentation = present(
            &wallet,
            &credential,
            &["full_name"],
            SAMPLE_RP_CLIENT_ID,
            nonce,
        );
        let body = AuthorizationResponse {
            vp_token: vp_token(presentation),
            state: state.to_owned(),
        }
        .to_form();
        let response_uri = format!("{}v1/rp/responses", sandbox.base_url);
        let response = post_form(&sandbox, &response_uri, body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{name}");
        let outcome = result(&sandbox, &created.id).await;
        assert_eq!(outcome.state, "failed", "{name}");
        assert!(outcome.claims.is_empty());
        assert!(outcome.error.unwrap().contains(name));
    }

    // An unknown misbehaviour is refused.
    refused_spec(&sandbox, json!({"misbehave": "be_nice"})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_carries_the_nonce_and_state_of_an_answered_request_and_never_completes() {
    let (sandbox, _data) = start().await;
    let (wallet, credential) = enrolled_wallet_with_pid(&sandbox).await;
    let (original_id, original) = full_name_request(&sandbox).await;
    let presentation = present_to(&wallet, &credential, &["full_name"], &original);
    assert_eq!(
        answer(&sandbox, &original, presentation).await,
        StatusCode::OK
    );

    let replay = create_request(
        &sandbox,
        json!({"claims": ["full_name"], "replay_of": original_id}),
    )
    .await;
    assert_ne!(replay.id, original_id);
    // Well signed and fresh: only the wallet's memory of answered requests catches it.
    let (object, _) = fetch_request(&sandbox, &replay).await;
    assert_eq!(object.nonce, original.nonce);
    assert_eq!(object.state, original.state);
    assert!(object.exp > now());

    // Answering it reaches the original request, already answered.
    let presentation = present_to(&wallet, &credential, &["full_name"], &object);
    assert_eq!(
        answer(&sandbox, &object, presentation).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(result(&sandbox, &original_id).await.state, "completed");
    assert_eq!(result(&sandbox, &replay.id).await.state, "pending");

    // A replay of nothing, or a replay that also misbehaves, is refused.
    for spec in [
        json!({"replay_of": "no-such-request"}),
        json!({"replay_of": original_id, "misbehave": "expired"}),
    ] {
        refused_spec(&sandbox, spec).await;
    }
}
