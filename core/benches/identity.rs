//! Identity QR timings and size, summarised by `cargo xtask bench` into `target/bench-report.json`.
//!
//! - `identity/present`: build the presentation of 4 claims of a PID (as the sandbox issues it:
//!   ten disclosable claims, `cnf`, status) with its KB-JWT signed in software, and pack it as
//!   `ID1:` text (`identity.present_ms`). The PIN check (Argon2id, deliberately slow) is not part
//!   of it: it guards the presentation, it is not the presentation.
//! - `identity/verify`: verify that text offline as an officer's app does: unpack, issuer
//!   signature by the trust list's key, disclosures, KB-JWT, freshness, type, status from a cached
//!   answer (`identity.verify_ms`).
//! - the text's length is written to `$CITIZEN_BENCH_FIGURES/identity.qr_chars.json`
//!   (`identity.qr_chars`).
//! - `remote/prepare`: from a fetched OpenID4VP request object to the consent screen's data:
//!   verify the object against the relying party, re-verify the stored PID, match the DCQL query
//!   (`remote.prepare_ms`).
//! - `remote/respond`: from the citizen's approval to the `direct_post.jwt` body: the SD-JWT
//!   presentation of 3 claims with its KB-JWT, the JSON, and the ECDH-ES/A256GCM JWE
//!   (`remote.respond_ms`). The PIN check and the HTTP post are not part of either.

use std::hint::black_box;

use citizen_core::credential_status::{CredentialStatus, StatusAnswer};
use citizen_core::dcql::DcqlQuery;
use citizen_core::id1;
use citizen_core::jose::jwe::EcdhPrivateKey;
use citizen_core::jose::{EcPublicJwk, SoftwareSigner};
use citizen_core::openid4vci::{PID_VCT, pid_claims};
use citizen_core::openid4vp::{
    AuthorizationLink, ContentEncryption, DirectPost, RequestObject, ResponseEncryption,
    ResponseMode, SELF_ISSUED_AUDIENCE,
};
use citizen_core::sdjwt::{self, ClaimPath, IssueOptions, KeyBindingParams, Limits, SdJwt};
use citizen_core::trust_list::{RelyingParty, TrustedKey};
use citizen_core::verifier::{IdentityQrOptions, verify_identity_qr};
use citizen_core::wallet::remote::{FetchedRequest, plan_disclosure, response_body};
use citizen_core::wallet::{IssuerTrust, WalletError};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

const ISSUER: &str = "https://portal.example.gov.vn/";
const KID: &str = "AeAQn1oTjoS";
const NOW: i64 = 1_795_650_000;
const PRESENTED: [&str; 4] = [
    pid_claims::FULL_NAME,
    pid_claims::BIRTH_DATE,
    pid_claims::ID_NUMBER,
    pid_claims::AGE_OVER_18,
];

struct FixedTrust(EcPublicJwk);

impl IssuerTrust for FixedTrust {
    fn issuer_key(&self, iss: &str, kid: &str, _: i64) -> Result<EcPublicJwk, WalletError> {
        if iss == ISSUER && kid == KID {
            Ok(self.0.clone())
        } else {
            Err(WalletError::NoTrustList)
        }
    }
    fn may_issue(&self, iss: &str, vct: &str) -> bool {
        iss == ISSUER && vct == PID_VCT
    }
    fn issuer_name(&self, _: &str) -> Option<String> {
        Some("Bench issuer".into())
    }
    fn relying_party(
        &self,
        _: &str,
    ) -> Result<Option<citizen_core::trust_list::RelyingParty>, WalletError> {
        Ok(None)
    }
}

/// A PID shaped like the sandbox issuer's, and the keys around it.
fn pid() -> (String, SoftwareSigner, SoftwareSigner) {
    let issuer = SoftwareSigner::generate().unwrap();
    let holder = SoftwareSigner::generate().unwrap();
    let payload = json!({
        "iss": ISSUER, "iat": NOW - 86_400, "exp": NOW + 365 * 86_400, "vct": PID_VCT,
        "status": {"status_list": {"idx": 40_928, "uri": format!("{ISSUER}v1/status-lists/1")}},
        "full_name": "Nguyễn Văn An", "birth_date": "1990-05-17", "sex": "male",
        "nationality": "VN", "id_number": "001090012345",
        "place_of_origin": "Xã Tam Hiệp, Huyện Thanh Trì, Hà Nội",
        "place_of_residence": "Phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh",
        "issue_date": "2025-11-25", "expiry_date": "2026-11-25", "age_over_18": true,
    });
    let issued = sdjwt::issue(
        payload.as_object().unwrap(),
        &IssueOptions {
            disclosable: pid_claims::ALL
                .iter()
                .map(|c| ClaimPath::claim(c))
                .collect(),
            holder_key: Some(holder.public_key().clone()),
            typ: Some(sdjwt::SD_JWT_VC_TYP.into()),
            kid: Some(KID.into()),
            decoys_per_container: 0,
        },
        &issuer,
    )
    .unwrap();
    (issued.sd_jwt, issuer, holder)
}

fn present(stored: &str, holder: &SoftwareSigner, nonce: &str) -> String {
    let parsed = SdJwt::parse(stored, &Limits::default()).unwrap();
    let paths: Vec<ClaimPath> = PRESENTED.iter().map(|c| ClaimPath::claim(c)).collect();
    let presentation = parsed
        .present(
            &paths,
            Some(&KeyBindingParams {
                audience: id1::IN_PERSON_AUDIENCE,
                nonce,
                issued_at: NOW,
                signer: holder,
            }),
        )
        .unwrap();
    id1::pack(&presentation).unwrap()
}

fn bench_identity(c: &mut Criterion) {
    let (stored, issuer, holder) = pid();
    let trust = FixedTrust(issuer.public_key().clone());
    let text = present(&stored, &holder, "n0nce-96-bits-xx");
    let valid = |_: &citizen_core::verifier::StatusReference<'_>| {
        Ok(StatusAnswer {
            status: CredentialStatus::Valid,
            checked_at: Some(NOW),
            stale: false,
        })
    };
    let options = IdentityQrOptions::new(NOW + 5);
    let verified = verify_identity_qr(&text, &trust, &valid, &options).unwrap();
    assert_eq!(verified.claims.len(), PRESENTED.len());

    if let Some(dir) = std::env::var_os("CITIZEN_BENCH_FIGURES") {
        std::fs::create_dir_all(&dir).unwrap();
        let figure = json!({ "value": text.len(), "claims": PRESENTED.len() });
        std::fs::write(
            std::path::Path::new(&dir).join("identity.qr_chars.json"),
            figure.to_string(),
        )
        .unwrap();
    }

    let mut group = c.benchmark_group("identity");
    group.bench_function("present", |b| {
        b.iter(|| black_box(present(black_box(&stored), &holder, "n0nce-96-bits-xx")))
    });
    group.bench_function("verify", |b| {
        b.iter(|| {
            black_box(verify_identity_qr(black_box(&text), &trust, &valid, &options).unwrap())
        })
    });
    group.finish();
}

/// A relying party, its request for 2 required and 2 optional claims with `direct_post.jwt`,
/// and the request object as the wallet fetched it.
fn remote_request(
    rp_signer: &SoftwareSigner,
) -> (RelyingParty, AuthorizationLink, String, EcdhPrivateKey) {
    let relying_party = RelyingParty {
        client_id: "rp.portal.example".into(),
        display_name: "Bench relying party".into(),
        allowed_claims: PRESENTED.map(String::from).to_vec(),
        keys: vec![TrustedKey {
            kid: "rp-1".into(),
            jwk: rp_signer.public_key().clone(),
            not_before: None,
            not_after: None,
        }],
        response_uri_hosts: vec!["rp.portal.example".into()],
        purpose: Some("Đăng nhập".into()),
    };
    let link = AuthorizationLink::parse(
        "openid4vp://?client_id=rp.portal.example&request_uri=\
         https%3A%2F%2Frp.portal.example%2Fr%2F1&request_uri_method=post",
    )
    .unwrap();
    let enc_key = EcdhPrivateKey::generate().unwrap();
    let claims: Vec<_> = PRESENTED
        .iter()
        .map(|c| json!({"id": c, "path": [c]}))
        .collect();
    let (required, optional) = PRESENTED.split_at(2);
    let all: Vec<&str> = PRESENTED.to_vec();
    let with_first: Vec<&str> = required.iter().chain(&optional[..1]).copied().collect();
    let with_second: Vec<&str> = required.iter().chain(&optional[1..]).copied().collect();
    let query = json!({"credentials": [{
        "id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": [PID_VCT]},
        "claims": claims, "claim_sets": [all, with_first, with_second, required],
    }]});
    let object = RequestObject {
        client_id: relying_party.client_id.clone(),
        response_mode: ResponseMode::DirectPostJwt,
        response_uri: url::Url::parse("https://rp.portal.example/responses").unwrap(),
        nonce: "n-0S6_WzA2Mj-bench".into(),
        state: "st-bench-0001".into(),
        iat: Some(NOW - 2),
        exp: NOW + 300,
        aud: Some(SELF_ISSUED_AUDIENCE.into()),
        dcql_query: DcqlQuery::from_value(&query).unwrap(),
        encryption: Some(ResponseEncryption {
            jwk: enc_key.public_jwk().clone(),
            kid: Some("enc-1".into()),
            enc_values: vec![ContentEncryption::A256Gcm],
        }),
        wallet_nonce: Some("wallet-nonce-bench".into()),
    };
    let signed = object.sign(rp_signer, "rp-1").unwrap();
    (relying_party, link, signed, enc_key)
}

fn bench_remote(c: &mut Criterion) {
    let (stored, issuer, holder) = pid();
    let rp_signer = SoftwareSigner::generate().unwrap();
    let (relying_party, link, request_object, enc_key) = remote_request(&rp_signer);
    let fetched = FetchedRequest {
        link: &link,
        relying_party: &relying_party,
        request_object: &request_object,
        wallet_nonce: Some("wallet-nonce-bench"),
    };
    let prepare = || plan_disclosure(&fetched, &stored, issuer.public_key(), NOW).unwrap();
    let plan = prepare();
    assert_eq!(plan.consent_claims().len(), PRESENTED.len());
    let chosen = vec![PRESENTED[2].to_string()];
    let respond = || response_body(&plan, &stored, &chosen, &holder, NOW).unwrap();
    let body = respond();
    assert_eq!(body.disclosed.len(), 3);
    assert!(DirectPost::from_encrypted_form(body.form.as_bytes(), &enc_key).is_ok());

    let mut group = c.benchmark_group("remote");
    group.bench_function("prepare", |b| b.iter(|| black_box(prepare())));
    group.bench_function("respond", |b| b.iter(|| black_box(respond().form)));
    group.finish();
}

criterion_group!(benches, bench_identity, bench_remote);
criterion_main!(benches);
