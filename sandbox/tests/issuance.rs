//! The wallet activation and PID issuance flow against a running sandbox over real HTTPS, as a
//! wallet drives it (`docs/wallet-identity.md`): enrol → activation → metadata → token → nonce →
//! credential → status list, with the attacks the issuer must refuse.

use std::process::Command;

use citizen_core::jose::{EcPublicJwk, Jws, SoftwareSigner};
use citizen_core::openid4vci::{
    self, ActivationRequest, CredentialOffer, CredentialRequest, CredentialResponse,
    PID_CONFIGURATION_ID, PID_VCT, TokenRequest, TokenResponse, TxCodeInputMode, pid_claims,
};
use citizen_core::sdjwt::{VerifyOptions, verify};
use citizen_core::status_list::{INVALID, SUSPENDED, StatusListToken, VALID};
use citizen_sandbox::RunningSandbox;
use citizen_sandbox::enrollment::EnrollmentRequest;
use citizen_sandbox::issuer::CredentialStatus;
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use serde_json::{Value, json};

mod support;

use support::*;

/// The status of entry `idx` in the list at `uri`, verified with the issuer key, and its ETag.
async fn fetch_status(
    sandbox: &RunningSandbox,
    http: &reqwest::Client,
    uri: &str,
    idx: u64,
) -> (u8, String) {
    let response = http.get(uri).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[CONTENT_TYPE],
        "application/statuslist+jwt"
    );
    let etag = response.headers()[ETAG].to_str().unwrap().to_owned();
    let token = response.text().await.unwrap();
    let (kid, key) = sandbox.issuer_key().unwrap();
    let verified = StatusListToken::verify(
        &token,
        |candidate| (candidate == kid).then(|| key.clone()),
        uri,
        now(),
    )
    .unwrap();
    assert_eq!(verified.list.bits(), 2);
    assert!(verified.ttl.is_some());
    (verified.list.status(idx).unwrap(), etag)
}

/// `GET uri` with `If-None-Match: etag`: the status, after checking a 304 repeats the ETag.
async fn conditional_get(http: &reqwest::Client, uri: &str, etag: &str) -> StatusCode {
    let response = http
        .get(uri)
        .header(IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    if response.status() == StatusCode::NOT_MODIFIED {
        assert_eq!(response.headers()[ETAG], etag);
    }
    response.status()
}

fn status_reference(credential: &str, issuer_key: &EcPublicJwk) -> (String, u64) {
    let claims = verify(credential, &VerifyOptions::new(issuer_key, now()))
        .unwrap()
        .claims;
    let reference = &claims["status"]["status_list"];
    (
        reference["uri"].as_str().unwrap().to_owned(),
        reference["idx"].as_u64().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wallet_is_activated_and_issued_a_pid_that_can_be_revoked() {
    let (sandbox, _data) = start().await;
    let code = sandbox
        .enroll(&EnrollmentRequest::sample(ID))
        .unwrap()
        .activation_code;
    let wallet = Wallet::new(&sandbox);

    // Activation: a credential offer by value with an 8-character text transaction code.
    let offer = wallet.activate(ID).await;
    assert_eq!(offer.credential_issuer, sandbox.base_url);
    assert_eq!(offer.credential_configuration_ids, [PID_CONFIGURATION_ID]);
    let grant = offer.pre_authorized_grant().unwrap();
    let tx_code = grant.tx_code.as_ref().unwrap();
    assert_eq!(tx_code.length, Some(8));
    assert_eq!(tx_code.input_mode, Some(TxCodeInputMode::Text));

    // Metadata: the issuer is its own authorisation server.
    let metadata = wallet.metadata().await;
    assert_eq!(metadata.credential_issuer, sandbox.base_url);
    assert_eq!(
        metadata.token_endpoint,
        format!("{}token", sandbox.base_url)
    );
    let pid = &metadata.credential_configurations_supported[PID_CONFIGURATION_ID];
    assert_eq!(pid.format, "dc+sd-jwt");
    assert_eq!(pid.vct.as_deref(), Some(PID_VCT));

    // Token: a wrong activation code first.
    let wrong = wallet.token(&metadata, &offer, "AAAA-AAAA").await;
    assert_eq!(
        oauth_error(wrong, StatusCode::BAD_REQUEST).await,
        "invalid_grant"
    );
    let response = wallet.token(&metadata, &offer, &code).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    let token: TokenResponse = decode(response).await;
    assert_eq!(token.token_type, "Bearer");
    assert!(token.expires_in > 0 && token.expires_in <= 600);
    let again = wallet.token(&metadata, &offer, &code).await;
    assert_eq!(
        oauth_error(again, StatusCode::BAD_REQUEST).await,
        "invalid_grant"
    );

    // Credential: without a token, with a foreign key, then properly, then the nonce replayed.
    let nonce = wallet.nonce(&metadata).await;
    let anonymous = wallet
        .http
        .post(&metadata.credential_endpoint)
        .json(&CredentialRequest::pid("x.y.z".into()))
        .send()
        .await
        .unwrap();
    assert!(anonymous.headers().contains_key("www-authenticate"));
    assert_eq!(
        oauth_error(anonymous, StatusCode::UNAUTHORIZED).await,
        "invalid_token"
    );
    let stranger = SoftwareSigner::generate().unwrap();
    let foreign = wallet
        .credential(&metadata, &token.access_token, &stranger, &nonce)
        .await;
    assert_eq!(
        oauth_error(foreign, StatusCode::BAD_REQUEST).await,
        "invalid_proof"
    );
    let response = wallet
        .credential(&metadata, &token.access_token, &wallet.device, &nonce)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    let credential = decode::<CredentialResponse>(response).await.credentials[0]
        .credential
        .clone();
    let replayed = wallet
        .credential(&metadata, &token.access_token, &wallet.device, &nonce)
        .await;
    assert_eq!(
        oauth_error(replayed, StatusCode::BAD_REQUEST).await,
        "invalid_nonce"
    );
    let made_up = wallet
        .credential(&metadata, &token.access_token, &wallet.device, "made-up")
        .await;
    assert_eq!(
        oauth_error(made_up, StatusCode::BAD_REQUEST).await,
        "invalid_nonce"
    );

    // The PID: issuer signature with the issuer key named by `kid`, bound to the device key,
    // every personal claim selectively disclosable.
    let (kid, issuer_key) = sandbox.issuer_key().unwrap();
    let verified = verify(
        &credential,
        &VerifyOptions::new(&issuer_key, now()).sd_jwt_vc(),
    )
    .unwrap();
    let claims = verified.claims.as_object().unwrap();
    assert_eq!(claims["iss"], json!(sandbox.base_url));
    assert_eq!(claims["vct"], json!(PID_VCT));
    assert_eq!(
        EcPublicJwk::from_value(&claims["cnf"]["jwk"]).unwrap(),
        *wallet.device.public_key()
    );
    assert_eq!(claims["id_number"], json!(ID));
    assert_eq!(claims["full_name"], json!("Nguyễn Văn An"));
    assert_eq!(claims["age_over_18"], json!(true));
    assert!(claims["exp"].as_i64().unwrap() > now());
    let issuer_jwt = Jws::parse(credential.split('~').next().unwrap(), 1 << 20).unwrap();
    assert_eq!(issuer_jwt.header().kid(), Some(kid.as_str()));
    let visible = issuer_jwt.claims().unwrap();
    for name in pid_claims::ALL {
        assert!(claims.contains_key(name), "{name} missing");
        assert!(
            !visible.contains_key(name),
            "{name} not selectively disclosable"
        );
    }

    // Status: valid, then revoked through the test endpoint; ETags and 304 along the way.
    let (uri, idx) = status_reference(&credential, &issuer_key);
    assert_eq!(uri, sandbox.status_list_uri());
    let (status, etag) = fetch_status(&sandbox, &wallet.http, &uri, idx).await;
    assert_eq!(status, VALID);
    assert_eq!(
        conditional_get(&wallet.http, &uri, &etag).await,
        StatusCode::NOT_MODIFIED
    );

    let revoked = wallet
        .http
        .post(format!("{}v1/test/credential-status", sandbox.base_url))
        .json(&json!({"id_number": ID, "status": "revoked"}))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(
        revoked.json::<Value>().await.unwrap(),
        json!({"updated": 1})
    );
    assert_eq!(
        conditional_get(&wallet.http, &uri, &etag).await,
        StatusCode::OK,
        "a changed list is sent again"
    );
    let (status, revoked_etag) = fetch_status(&sandbox, &wallet.http, &uri, idx).await;
    assert_eq!(status, INVALID);
    assert_ne!(revoked_etag, etag);
    assert_eq!(
        conditional_get(&wallet.http, &uri, &revoked_etag).await,
        StatusCode::NOT_MODIFIED
    );

    assert_eq!(
        sandbox
            .set_credential_status(ID, CredentialStatus::Suspended)
            .unwrap(),
        1
    );
    assert_eq!(sandbox.set_credential_status(ID, "suspended").unwrap(), 1);
    assert!(sandbox.set_credential_status(ID, "lost").is_err());
    assert_eq!(
        fetch_status(&sandbox, &wallet.http, &uri, idx).await.0,
        SUSPENDED
    );
    let missing = wallet
        .http
        .get(format!("{}v1/status-lists/2", sandbox.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_number_not_enrolled_looks_the_same_until_the_token_step() {
    let (sandbox, _data) = start().await;
    sandbox.enroll(&EnrollmentRequest::sample(ID)).unwrap();
    let wallet = Wallet::new(&sandbox);
    let shape = |offer: &CredentialOffer| {
        let mut value = serde_json::to_value(offer).unwrap();
        value["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"] =
            json!("…");
        value
    };
    let enrolled = wallet.activate(ID).await;
    let stranger = wallet.activate("079099999999").await;
    assert_eq!(shape(&enrolled), shape(&stranger));
    let metadata = wallet.metadata().await;
    let refused = wallet.token(&metadata, &stranger, "ABCD-EFGH").await;
    assert_eq!(
        oauth_error(refused, StatusCode::BAD_REQUEST).await,
        "invalid_grant"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_oauth_errors() {
    let (sandbox, _data) = start().await;
    let wallet = Wallet::new(&sandbox);
    let http = &wallet.http;
    let base = &sandbox.base_url;

    // An activation proof made by another key than the one it names, and one for another ID.
    let stranger = SoftwareSigner::generate().unwrap();
    let forged = ActivationRequest {
        id_number: ID.into(),
        device_key_proof: openid4vci::activation_proof(
            &stranger,
            wallet.device.public_key(),
            ID,
            now(),
        )
        .unwrap(),
        attestation: None,
    };
    let other_id = ActivationRequest {
        device_key_proof: openid4vci::activation_proof(
            &wallet.device,
            wallet.device.public_key(),
            "079090001234",
            now(),
        )
        .unwrap(),
        ..forged.clone()
    };
    for request in [forged, other_id] {
        let response = http
            .post(format!("{base}v1/wallet/activations"))
            .json(&request)
            .send()
            .await
            .unwrap();
        assert_eq!(
            oauth_error(response, StatusCode::BAD_REQUEST).await,
            "invalid_request"
        );
    }

    let token = |body: &'static str, content_type: &'static str| {
        http.post(format!("{base}token"))
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
    };
    let form = TokenRequest::CONTENT_TYPE;
    let cases = [
        (
            "grant_type=authorization_code&code=x",
            form,
            "unsupported_grant_type",
        ),
        (
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code",
            form,
            "invalid_request",
        ),
        (
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code\
             &pre-authorized_code=a&pre-authorized_code=b",
            form,
            "invalid_request",
        ),
        (
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code\
             &pre-authorized_code=unknown&tx_code=ABCD-EFGH",
            form,
            "invalid_grant",
        ),
        (
            r#"{"grant_type":"x"}"#,
            "application/json",
            "invalid_request",
        ),
    ];
    for (body, content_type, expected) in cases {
        let response = token(body, content_type).await.unwrap();
        assert_eq!(
            oauth_error(response, StatusCode::BAD_REQUEST).await,
            expected,
            "{body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_revoke_command_reaches_a_running_sandbox() {
    let (sandbox, data) = start().await;
    let (wallet, credential) = enrolled_wallet_with_pid(&sandbox).await;
    let (_, issuer_key) = sandbox.issuer_key().unwrap();
    let (uri, idx) = status_reference(&credential, &issuer_key);

    let run = |extra: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_citizen-sandbox"))
            .args(["revoke", "--id-number", ID, "--data"])
            .arg(data.path())
            .args(extra)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    assert!(run(&[]).starts_with("1 credential(s) revoked"));
    assert_eq!(
        fetch_status(&sandbox, &wallet.http, &uri, idx).await.0,
        INVALID
    );
    assert!(run(&["--suspend"]).starts_with("1 credential(s) suspended"));
    assert_eq!(
        fetch_status(&sandbox, &wallet.http, &uri, idx).await.0,
        SUSPENDED
    );
    let output = run(&["--reinstate"]);
    assert!(output.starts_with("1 credential(s) reinstated"));
    assert!(
        !output.contains(ID),
        "no personal data in the output: {output}"
    );
    assert_eq!(
        fetch_status(&sandbox, &wallet.http, &uri, idx).await.0,
        VALID
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_key_rotation_new_lists_use_the_new_key_and_old_credentials_the_retired_one() {
    let (sandbox, _data) = start().await;
    let (wallet, credential) = enrolled_wallet_with_pid(&sandbox).await;
    let (old_kid, old_key) = sandbox.issuer_key().unwrap();
    let (uri, idx) = status_reference(&credential, &old_key);

    let (new_kid, _) = sandbox.rotate_issuer_key().unwrap();
    assert_ne!(new_kid, old_kid);
    assert_eq!(sandbox.issuer_key().unwrap().0, new_kid);
    let keys = sandbox.issuer_keys().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!((keys[0].0.as_str(), keys[0].2), (new_kid.as_str(), None));
    assert_eq!(keys[1].0, old_kid);
    assert!(keys[1].2.is_some());
    // The credential still verifies with the retired key; the list is now signed by the new one.
    status_reference(&credential, &keys[1].1);
    let response = wallet.http.get(&uri).send().await.unwrap();
    let token = response.text().await.unwrap();
    let jws = Jws::parse(&token, 1 << 20).unwrap();
    assert_eq!(jws.header().kid(), Some(new_kid.as_str()));
    assert_eq!(
        fetch_status(&sandbox, &wallet.http, &uri, idx).await.0,
        VALID
    );
}
