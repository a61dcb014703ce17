//! Dossier tracking over real HTTPS: the clerk's whole path (supplement, fee, payment,
//! completion) as the status feed reports it, the feed's token, ETag and paging, supplements and
//! withdrawals from the wrong device, and the bank refusing what a bank refuses.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use citizen_core::dossier::manifest::{
    self, AttachmentDigest, Manifest, ProcedureRef, SubmitRequest, SubmitResponse, SupplementRef,
    UploadRef, WithdrawalBody, WithdrawalRequest, WithdrawalResponse,
};
use citizen_core::dossier::status_feed::{
    FeeNotice, FeeState, PortalStatus, StatusChange, StatusFeedPage, SupplementItem,
};
use citizen_core::dossier::wire::{
    Agency, AttachmentRule, Fee, FieldKind, FormField, Level, Procedure,
};
use citizen_core::vietqr;
use citizen_sandbox::RunningSandbox;
use citizen_sandbox::enrollment::EnrollmentRequest;
use citizen_sandbox::tracking::{ClerkPolicy, SupplementPolicy};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::*;

const CODE: &str = "1.999001";
const FEE: u64 = 50_000;
const OTHER_ID: &str = "079099999999";

fn procedure() -> Procedure {
    let field = |id: &str, label: &str, required| FormField {
        id: id.into(),
        label: label.into(),
        kind: FieldKind::Text,
        required,
        pattern: None,
        min: None,
        max: Some(200),
        options: vec![],
    };
    Procedure {
        code: CODE.into(),
        version: 1,
        withdrawn: false,
        name: "Cấp bản sao trích lục hộ tịch".into(),
        description: "Thủ tục thử nghiệm của sandbox.".into(),
        keywords: vec![],
        agency: Agency {
            code: "000.01.01.H26".into(),
            name: "UBND phường Phúc Xá".into(),
        },
        level: Level::Commune,
        processing_days: 0,
        fees: vec![Fee {
            label: "Phí cấp bản sao".into(),
            amount: FEE,
        }],
        form: vec![
            field("ho_ten", "Họ, chữ đệm, tên", true),
            field("ghi_chu", "Ghi chú", false),
        ],
        attachments: vec![],
    }
}

fn dossier_id(n: u32) -> String {
    format!("DOSSIER-{n:014}")
}

fn manifest(jti: &str) -> Manifest {
    Manifest {
        jti: jti.into(),
        iat: now(),
        procedure: ProcedureRef {
            code: CODE.into(),
            version: 1,
        },
        form: BTreeMap::from([("ho_ten".to_string(), "Nguyễn Văn An".to_string())]),
        attachments: vec![],
        supplement: None,
    }
}

/// A sandbox with the test procedure published and a clerk at `policy`.
async fn sandbox_with(policy: ClerkPolicy) -> (RunningSandbox, tempfile::TempDir) {
    let (sandbox, data) = start().await;
    sandbox.publish_procedure(&procedure()).unwrap();
    sandbox.set_clerk(policy).unwrap();
    (sandbox, data)
}

async fn citizen(sandbox: &RunningSandbox, id_number: &str) -> Wallet {
    let code = sandbox
        .enroll(&EnrollmentRequest::sample(id_number))
        .unwrap()
        .activation_code;
    let wallet = Wallet::new(sandbox);
    wallet.obtain_pid(id_number, &code).await;
    wallet
}

async fn submit(wallet: &Wallet, manifest: &Manifest) -> (StatusCode, Value) {
    let signed = manifest::sign(manifest, &wallet.device).unwrap();
    let response = wallet
        .http
        .post(format!("{}v1/dossiers", wallet.base_url))
        .header("idempotency-key", &manifest.jti)
        .json(&SubmitRequest {
            manifest: signed,
            uploads: vec![],
        })
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

/// Files `manifest` and returns the receipt.
async fn file(wallet: &Wallet, manifest: &Manifest) -> SubmitResponse {
    let (status, body) = submit(wallet, manifest).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let receipt: SubmitResponse = serde_json::from_value(body).unwrap();
    receipt.check().unwrap();
    assert!(manifest::is_status_token(
        receipt.status_token.as_deref().unwrap()
    ));
    receipt
}

async fn feed(
    wallet: &Wallet,
    token: Option<&str>,
    since: &str,
    etag: Option<&str>,
) -> reqwest::Response {
    let mut request = wallet.http.get(format!(
        "{}v1/dossiers/changes?since={since}",
        wallet.base_url
    ));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(etag) = etag {
        request = request.header("if-none-match", etag);
    }
    request.send().await.unwrap()
}

/// Every change after `since`, page by page, each page checked as the SDK checks it; with the
/// last page's cursor and ETag.
async fn all_changes(
    wallet: &Wallet,
    token: &str,
    mut since: String,
) -> (Vec<StatusChange>, String, String) {
    let mut changes: Vec<StatusChange> = Vec::new();
    loop {
        let response = feed(wallet, Some(token), &since, None).await;
        assert_eq!(response.status(), StatusCode::OK);
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        let body = response.bytes().await.unwrap();
        let page =
            StatusFeedPage::parse(&body, changes.last().map(|c| c.seq)).expect("a valid page");
        assert!(page.changes.len() <= 100);
        since = page.cursor.clone();
        changes.extend(page.changes);
        if !page.more {
            return (changes, since, etag);
        }
    }
}

/// Polls the feed until `dossier`'s last change has `event`; every change so far.
async fn wait_for(wallet: &Wallet, token: &str, dossier: &str, event: &str) -> Vec<StatusChange> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (changes, _, _) = all_changes(wallet, token, "0".into()).await;
        let last = changes.iter().rev().find(|c| c.dossier_id == dossier);
        if last.is_some_and(|c| c.event == event) {
            return changes;
        }
        assert!(
            Instant::now() < deadline,
            "no `{event}` for {dossier}; changes: {:?}",
            changes.iter().map(|c| &c.event).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

async fn pay(sandbox: &RunningSandbox, qr: &str) -> (StatusCode, Value) {
    let response = client(sandbox)
        .post(format!("{}v1/bank/transfers", sandbox.base_url))
        .json(&json!({ "qr": qr }))
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

fn qr_for(fee: &FeeNotice, amount: u64) -> String {
    vietqr::payment_request(
        &fee.payee.bank_bin,
        &fee.payee.account,
        amount,
        &fee.reference,
    )
    .unwrap()
    .encode()
    .unwrap()
}

async fn withdraw(
    wallet: &Wallet,
    key: &str,
    request: &WithdrawalRequest,
) -> (StatusCode, Option<String>, Value) {
    let signed = manifest::sign_withdrawal(request, &wallet.device).unwrap();
    let response = wallet
        .http
        .post(format!("{}v1/dossiers/withdrawals", wallet.base_url))
        .header("idempotency-key", key)
        .json(&WithdrawalBody { request: signed })
        .send()
        .await
        .unwrap();
    let replayed = response
        .headers()
        .get("idempotent-replayed")
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status(), replayed, response.json().await.unwrap())
}

fn withdrawal(jti: &str, dossier: &str, reason: Option<&str>) -> WithdrawalRequest {
    WithdrawalRequest {
        jti: jti.into(),
        iat: now(),
        dossier_id: dossier.into(),
        reason: reason.map(str::to_owned),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clerk_asks_a_supplement_and_a_fee_and_completes_once_paid() {
    let (sandbox, _data) = sandbox_with(ClerkPolicy {
        pace_ms: 40,
        ..ClerkPolicy::default()
    })
    .await;
    let wallet = citizen(&sandbox, ID).await;
    let stranger = citizen(&sandbox, OTHER_ID).await;
    let original = manifest(&dossier_id(1));
    let receipt = file(&wallet, &original).await;
    let token = receipt.status_token.clone().unwrap();
    assert_eq!(receipt.status, "received");

    // The same request again: the stored answer, with the same token.
    let (status, body) = submit(&wallet, &original).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status_token"], token.as_str());
    assert_eq!(body["receipt_code"], receipt.receipt_code.as_str());

    let changes = wait_for(&wallet, &token, &original.jti, "supplement_requested").await;
    let asked = changes.last().unwrap().supplement.clone().unwrap();
    assert_eq!(
        asked.items,
        vec![SupplementItem::Field {
            field_id: "ho_ten".into(),
            label: "Họ, chữ đệm, tên".into()
        }]
    );
    assert!(asked.request_id.starts_with("SR-"));

    // The supplement: the wrong request id, another device, another procedure version, a form
    // without the field asked for; then the right one.
    let mut supplement = manifest(&dossier_id(2));
    supplement.form = BTreeMap::from([("ho_ten".to_string(), "Nguyễn Văn Bình".to_string())]);
    supplement.supplement = Some(SupplementRef {
        dossier_id: original.jti.clone(),
        request_id: "SR-0000".into(),
    });
    let (status, body) = submit(&wallet, &supplement).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("no_open_request"))
    );
    supplement.jti = dossier_id(3);
    supplement.supplement.as_mut().unwrap().request_id = asked.request_id.clone();
    let (status, body) = submit(&stranger, &supplement).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::FORBIDDEN, &json!("not_your_dossier"))
    );
    let mut wrong_version = supplement.clone();
    wrong_version.jti = dossier_id(4);
    wrong_version.procedure.version = 2;
    let (status, body) = submit(&wallet, &wrong_version).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let mut empty = supplement.clone();
    empty.jti = dossier_id(5);
    empty.form = BTreeMap::from([("ghi_chu".to_string(), "x".to_string())]);
    let (status, body) = submit(&wallet, &empty).await;
    assert_eq!(
        (status, &body["fields"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!(["ho_ten"]))
    );

    let (status, body) = submit(&wallet, &supplement).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let answer: SubmitResponse = serde_json::from_value(body).unwrap();
    assert_eq!(answer.receipt_code, receipt.receipt_code);
    assert_eq!(answer.status, "supplement_received");
    assert_eq!(answer.status_token.as_deref(), Some(token.as_str()));
    // Its replay is the same answer; the request is no longer open for another.
    let (status, _) = submit(&wallet, &supplement).await;
    assert_eq!(status, StatusCode::OK);
    let mut again = supplement.clone();
    again.jti = dossier_id(6);
    let (status, body) = submit(&wallet, &again).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("no_open_request"))
    );

    let changes = wait_for(&wallet, &token, &original.jti, "fee_requested").await;
    let fee = changes.last().unwrap().fee.clone().unwrap();
    assert_eq!(fee.amount, FEE);
    assert_eq!(fee.reference, receipt.receipt_code);
    assert_eq!(fee.state, FeeState::Due);
    assert_eq!(
        fee.payee.bank_bin,
        citizen_sandbox::tracking::PAYEE_BANK_BIN
    );

    // The bank: a tampered CRC, another amount, another payee; then the payment, then again.
    let good = qr_for(&fee, FEE);
    let mut tampered = good.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == '0' { '1' } else { '0' });
    let (status, body) = pay(&sandbox, &tampered).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "invalid_qr", "reason": "crc_mismatch"})
    );
    let (status, body) = pay(&sandbox, &qr_for(&fee, FEE - 1_000)).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("amount_mismatch"))
    );
    let elsewhere = vietqr::payment_request("970436", "0011004567890", FEE, &fee.reference)
        .unwrap()
        .encode()
        .unwrap();
    let (status, body) = pay(&sandbox, &elsewhere).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("wrong_payee"))
    );
    let stray = qr_for(
        &FeeNotice {
            reference: "HS-1999-000001".into(),
            ..fee.clone()
        },
        FEE,
    );
    let (status, body) = pay(&sandbox, &stray).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::NOT_FOUND, &json!("unknown_reference"))
    );
    let (status, body) = pay(&sandbox, &good).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let transaction = body["transaction_id"].as_str().unwrap().to_owned();
    assert!(transaction.starts_with("FT"));
    assert_eq!(body["amount"], FEE);
    let (status, body) = pay(&sandbox, &good).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::CONFLICT, &json!("already_paid"))
    );

    let changes = wait_for(&wallet, &token, &original.jti, "completed").await;
    let timeline: Vec<(&str, PortalStatus)> = changes
        .iter()
        .map(|c| (c.event.as_str(), c.status.unwrap()))
        .collect();
    use PortalStatus::*;
    assert_eq!(
        timeline,
        vec![
            ("received", Received),
            ("processing", Processing),
            ("supplement_requested", SupplementRequested),
            ("supplement_received", Processing),
            ("result_ready", ResultReady),
            ("fee_requested", ResultReady),
            ("fee_paid", ResultReady),
            ("completed", Completed),
        ]
    );
    let paid = changes.last().unwrap().fee.clone().unwrap();
    assert_eq!(paid.state, FeeState::Paid);
    assert_eq!(paid.payment.unwrap().transaction_id, transaction);

    // Nothing after the last page: 304 with its ETag; 200 from an older cursor.
    let (_, cursor, etag) = all_changes(&wallet, &token, "0".into()).await;
    let response = feed(&wallet, Some(&token), &cursor, Some(&etag)).await;
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    let response = feed(&wallet, Some(&token), "3", Some(&etag)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let (later, _, _) = all_changes(&wallet, &token, "3".into()).await;
    assert_eq!(later.len(), changes.len() - 3);

    // Another device's token sees none of it; no token or a made-up one is refused.
    let stranger_token = {
        let (status, body) = submit(&stranger, &manifest(&dossier_id(7))).await;
        assert_eq!(status, StatusCode::CREATED);
        body["status_token"].as_str().unwrap().to_owned()
    };
    assert_ne!(stranger_token, token);
    let (theirs, _, _) = all_changes(&stranger, &stranger_token, "0".into()).await;
    assert!(
        theirs.iter().all(|c| c.dossier_id == dossier_id(7)),
        "{theirs:?}"
    );
    for bad in [
        None,
        Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        Some("x"),
    ] {
        let response = feed(&wallet, bad, "0", None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, json!({"error": "invalid_token"}));
    }

    // A completed dossier cannot be withdrawn.
    let (status, _, body) = withdraw(
        &wallet,
        &dossier_id(8),
        &withdrawal(&dossier_id(8), &original.jti, None),
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("not_withdrawable"))
    );

    assert_eq!(sandbox.status_changes(&original.jti).unwrap(), changes);
    // What tests list shows the status.
    let listed = sandbox.dossiers().unwrap();
    assert_eq!(listed[0].status, "completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdrawals_come_from_the_filing_device_only_and_once() {
    // Slow enough that nothing moves before the withdrawal.
    let (sandbox, _data) = sandbox_with(ClerkPolicy {
        pace_ms: 60_000,
        ..ClerkPolicy::default()
    })
    .await;
    let wallet = citizen(&sandbox, ID).await;
    let stranger = citizen(&sandbox, OTHER_ID).await;
    let original = manifest(&dossier_id(1));
    let receipt = file(&wallet, &original).await;
    let token = receipt.status_token.unwrap();

    let request = withdrawal(&dossier_id(2), &original.jti, Some("Nộp nhầm thủ tục"));
    let (status, _, body) = withdraw(&stranger, &dossier_id(2), &request).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::FORBIDDEN, &json!("not_your_dossier"))
    );
    let (status, _, body) = withdraw(&wallet, &dossier_id(3), &request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let unknown = withdrawal(&dossier_id(4), &dossier_id(99), None);
    let (status, _, body) = withdraw(&wallet, &dossier_id(4), &unknown).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::NOT_FOUND, &json!("unknown_dossier"))
    );

    let (status, replayed, body) = withdraw(&wallet, &dossier_id(2), &request).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(replayed, None);
    let answer: WithdrawalResponse = serde_json::from_value(body).unwrap();
    assert_eq!(answer.receipt_code, receipt.receipt_code);
    assert_eq!(answer.status, "withdrawal_requested");
    // Another request under the same key is refused.
    let other = withdrawal(&dossier_id(2), &original.jti, Some("Lý do khác"));
    let (status, _, body) = withdraw(&wallet, &dossier_id(2), &other).await;
    assert_eq!(
        (status, &body["error"]),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!("idempotency_key_reused")
        )
    );

    let changes = wait_for(&wallet, &token, &original.jti, "withdrawal_requested").await;
    assert_eq!(changes.last().unwrap().status, Some(PortalStatus::Received));
    sandbox
        .set_clerk(ClerkPolicy {
            pace_ms: 30,
            ..ClerkPolicy::default()
        })
        .unwrap();
    let changes = wait_for(&wallet, &token, &original.jti, "withdrawn").await;
    let events: Vec<&str> = changes.iter().map(|c| c.event.as_str()).collect();
    assert_eq!(events, ["received", "withdrawal_requested", "withdrawn"]);
    assert_eq!(
        changes.last().unwrap().status,
        Some(PortalStatus::Withdrawn)
    );

    let later = withdrawal(&dossier_id(5), &original.jti, None);
    let (status, _, body) = withdraw(&wallet, &dossier_id(5), &later).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("not_withdrawable"))
    );
    assert_eq!(sandbox.dossiers().unwrap()[0].status, "withdrawn");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawal_replay_is_answered_from_the_first() {
    let (sandbox, _data) = sandbox_with(ClerkPolicy {
        pace_ms: 60_000,
        ..ClerkPolicy::default()
    })
    .await;
    let wallet = citizen(&sandbox, ID).await;
    let original = manifest(&dossier_id(1));
    file(&wallet, &original).await;
    let request = withdrawal(&dossier_id(2), &original.jti, None);
    let body = serde_json::to_string(&WithdrawalBody {
        request: manifest::sign_withdrawal(&request, &wallet.device).unwrap(),
    })
    .unwrap();
    let send = |key: &str| {
        wallet
            .http
            .post(format!("{}v1/dossiers/withdrawals", wallet.base_url))
            .header("idempotency-key", key.to_owned())
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
    };
    let first = send(&dossier_id(2)).await.unwrap();
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let second = send(&dossier_id(2)).await.unwrap();
    assert_eq!(second.status(), StatusCode::OK);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let second: WithdrawalResponse = second.json().await.unwrap();
    assert_eq!(second.status, "withdrawal_requested");
    // The key must be the request's own id.
    let other = send(&dossier_id(3)).await.unwrap();
    assert_eq!(other.status(), StatusCode::BAD_REQUEST);
    let missing = wallet
        .http
        .post(format!("{}v1/dossiers/withdrawals", wallet.base_url))
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_pages_a_hundred_changes_at_a_time() {
    let (sandbox, _data) = sandbox_with(ClerkPolicy {
        pace_ms: 10,
        supplement: SupplementPolicy::Never,
        fee_override: Some(0),
        ..ClerkPolicy::default()
    })
    .await;
    let wallet = citizen(&sandbox, ID).await;
    let mut token = String::new();
    let count = 30;
    for n in 0..count {
        token = file(&wallet, &manifest(&dossier_id(n)))
            .await
            .status_token
            .unwrap();
    }
    // Each: received, processing, result_ready, completed.
    for n in 0..count {
        wait_for(&wallet, &token, &dossier_id(n), "completed").await;
    }
    let first = feed(&wallet, Some(&token), "0", None).await;
    let first: StatusFeedPage = StatusFeedPage::parse(&first.bytes().await.unwrap(), None).unwrap();
    assert_eq!(first.changes.len(), 100);
    assert!(first.more);
    assert_eq!(first.cursor, first.changes.last().unwrap().seq.to_string());
    let second = feed(&wallet, Some(&token), &first.cursor, None).await;
    let second = StatusFeedPage::parse(
        &second.bytes().await.unwrap(),
        Some(first.changes.last().unwrap().seq),
    )
    .unwrap();
    assert_eq!(second.changes.len(), 4 * count as usize - 100);
    assert!(!second.more);
    // An empty page keeps the request's cursor.
    let empty = feed(&wallet, Some(&token), &second.cursor, None).await;
    let empty: StatusFeedPage = empty.json().await.unwrap();
    assert!(empty.changes.is_empty());
    assert_eq!(empty.cursor, second.cursor);
    let bad = feed(&wallet, Some(&token), "x", None).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_dossier_says_why_and_the_offline_bank_pays_a_fee() {
    let (sandbox, data) = sandbox_with(ClerkPolicy {
        pace_ms: 20,
        reject: true,
        ..ClerkPolicy::default()
    })
    .await;
    let wallet = citizen(&sandbox, ID).await;
    let rejected = manifest(&dossier_id(1));
    let token = file(&wallet, &rejected).await.status_token.unwrap();
    let changes = wait_for(&wallet, &token, &rejected.jti, "rejected").await;
    let last = changes.last().unwrap();
    assert_eq!(last.status, Some(PortalStatus::Rejected));
    assert!(!last.reason.as_deref().unwrap().is_empty());

    // Through `POST /v1/test/clerk`, partly: no rejection, no supplement, another fee.
    let response = client(&sandbox)
        .post(format!("{}v1/test/clerk", sandbox.base_url))
        .json(&json!({"reject": false, "supplement": "never", "fee_override": 12_000}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let policy: ClerkPolicy = response.json().await.unwrap();
    assert_eq!(policy.pace_ms, 20);
    assert_eq!(sandbox.clerk().unwrap(), policy);
    let response = client(&sandbox)
        .post(format!("{}v1/test/clerk", sandbox.base_url))
        .json(&json!({"pace_ms": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let paid = manifest(&dossier_id(2));
    file(&wallet, &paid).await;
    let changes = wait_for(&wallet, &token, &paid.jti, "fee_requested").await;
    let fee = changes.last().unwrap().fee.clone().unwrap();
    assert_eq!(fee.amount, 12_000);
    let transfer = citizen_sandbox::pay_offline(data.path(), &qr_for(&fee, 12_000)).unwrap();
    assert_eq!(transfer.reference, fee.reference);
    assert!(matches!(
        sandbox.pay(&qr_for(&fee, 12_000)),
        Err(citizen_sandbox::SandboxError::Bank(_))
    ));
    wait_for(&wallet, &token, &paid.jti, "completed").await;
}

/// Uploads `bytes` by tus (one `PATCH`); the absolute upload URL.
async fn upload(wallet: &Wallet, bytes: &[u8]) -> String {
    let created = wallet
        .http
        .post(format!("{}v1/uploads", wallet.base_url))
        .header("tus-resumable", "1.0.0")
        .header("upload-length", bytes.len().to_string())
        .header("upload-metadata", "media_type YXBwbGljYXRpb24vcGRm,kind")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let url = format!("{}{}", wallet.base_url.trim_end_matches('/'), location);
    let patched = wallet
        .http
        .patch(&url)
        .header("tus-resumable", "1.0.0")
        .header("upload-offset", "0")
        .header("content-type", "application/offset+octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), StatusCode::NO_CONTENT);
    url
}

async fn submit_with(
    wallet: &Wallet,
    manifest: &Manifest,
    uploads: Vec<UploadRef>,
) -> (StatusCode, Value) {
    let response = wallet
        .http
        .post(format!("{}v1/dossiers", wallet.base_url))
        .header("idempotency-key", &manifest.jti)
        .json(&SubmitRequest {
            manifest: manifest::sign(manifest, &wallet.device).unwrap(),
            uploads,
        })
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supplement_attaches_a_document_and_a_restarted_sandbox_continues() {
    let data = tempfile::tempdir().unwrap();
    let sandbox = citizen_sandbox::start(citizen_sandbox::SandboxConfig::loopback(data.path()))
        .await
        .unwrap();
    let mut with_document = procedure();
    with_document.attachments = vec![AttachmentRule {
        kind: "don_de_nghi".into(),
        label: "Đơn đề nghị".into(),
        media_types: vec!["application/pdf".into()],
        max_bytes: 100_000,
        min_count: 0,
        max_count: 1,
    }];
    sandbox.publish_procedure(&with_document).unwrap();
    sandbox
        .set_clerk(ClerkPolicy {
            pace_ms: 30,
            ..ClerkPolicy::default()
        })
        .unwrap();
    let wallet = citizen(&sandbox, ID).await;
    let original = manifest(&dossier_id(1));
    let token = file(&wallet, &original).await.status_token.unwrap();
    let changes = wait_for(&wallet, &token, &original.jti, "supplement_requested").await;
    let asked = changes.last().unwrap().supplement.clone().unwrap();
    assert_eq!(
        asked.items,
        vec![SupplementItem::Attachment {
            attachment_kind: "don_de_nghi".into(),
            label: "Đơn đề nghị".into()
        }]
    );

    let bytes = b"%PDF-1.4 don de nghi (sandbox test)".to_vec();
    let digest =
        citizen_core::jose::base64url::encode(ring::digest::digest(&ring::digest::SHA256, &bytes));
    let document = AttachmentDigest {
        kind: "don_de_nghi".into(),
        media_type: "application/pdf".into(),
        size: bytes.len() as u64,
        sha256: digest.clone(),
    };
    let mut supplement = manifest(&dossier_id(2));
    supplement.form.clear();
    supplement.supplement = Some(SupplementRef {
        dossier_id: original.jti.clone(),
        request_id: asked.request_id.clone(),
    });
    // Without the document; with a kind of file the procedure does not take; with a value
    // that breaks its field's rules (at most 200 characters).
    let (status, body) = submit_with(&wallet, &supplement, vec![]).await;
    assert_eq!(
        (status, &body["fields"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!(["don_de_nghi"]))
    );
    let location = upload(&wallet, &bytes).await;
    let uploads = vec![UploadRef {
        sha256: digest.clone(),
        location: location.clone(),
    }];
    let mut gif = supplement.clone();
    gif.jti = dossier_id(3);
    gif.attachments = vec![AttachmentDigest {
        media_type: "image/gif".into(),
        ..document.clone()
    }];
    let (status, body) = submit_with(&wallet, &gif, uploads.clone()).await;
    assert_eq!(
        (status, &body["fields"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!(["don_de_nghi"]))
    );
    let mut long = supplement.clone();
    long.jti = dossier_id(4);
    long.attachments = vec![document.clone()];
    long.form = BTreeMap::from([("ghi_chu".to_string(), "x".repeat(201))]);
    let (status, body) = submit_with(&wallet, &long, uploads.clone()).await;
    assert_eq!(
        (status, &body["fields"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!(["ghi_chu"]))
    );
    // The bytes must be the ones signed.
    let mut other_bytes = supplement.clone();
    other_bytes.jti = dossier_id(5);
    other_bytes.attachments = vec![AttachmentDigest {
        size: bytes.len() as u64 + 1,
        ..document.clone()
    }];
    let (status, body) = submit_with(&wallet, &other_bytes, uploads.clone()).await;
    assert_eq!(
        (status, &body["error"]),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!("attachment_mismatch")
        )
    );

    // The withdrawal endpoint has the dossier endpoints' faults.
    sandbox
        .set_faults(citizen_sandbox::faults::Faults {
            error_rate: 1.0,
            ..Default::default()
        })
        .unwrap();
    let (status, _, _) = withdraw(
        &wallet,
        &dossier_id(9),
        &withdrawal(&dossier_id(9), &original.jti, None),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    sandbox
        .set_faults(citizen_sandbox::faults::Faults::default())
        .unwrap();

    // The right one, then the sandbox stops before the clerk's next step.
    sandbox
        .set_clerk(ClerkPolicy {
            pace_ms: 600_000,
            ..ClerkPolicy::default()
        })
        .unwrap();
    supplement.attachments = vec![document];
    let (status, body) = submit_with(&wallet, &supplement, uploads).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "supplement_received");
    drop(sandbox);

    let sandbox = citizen_sandbox::start(citizen_sandbox::SandboxConfig::loopback(data.path()))
        .await
        .unwrap();
    sandbox
        .set_clerk(ClerkPolicy {
            pace_ms: 30,
            ..ClerkPolicy::default()
        })
        .unwrap();
    let wallet = Wallet {
        http: client(&sandbox),
        base_url: sandbox.base_url.clone(),
        device: wallet.device,
    };
    let changes = wait_for(&wallet, &token, &original.jti, "fee_requested").await;
    let events: Vec<&str> = changes.iter().map(|c| c.event.as_str()).collect();
    assert_eq!(
        events,
        [
            "received",
            "processing",
            "supplement_requested",
            "supplement_received",
            "result_ready",
            "fee_requested"
        ]
    );
    let fee = changes.last().unwrap().fee.clone().unwrap();
    sandbox.pay(&qr_for(&fee, FEE)).unwrap();
    wait_for(&wallet, &token, &original.jti, "completed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dossier_waiting_for_a_supplement_can_be_withdrawn() {
    let (sandbox, _data) = sandbox_with(ClerkPolicy {
        pace_ms: 30,
        ..ClerkPolicy::default()
    })
    .await;
    let wallet = citizen(&sandbox, ID).await;
    let original = manifest(&dossier_id(1));
    let token = file(&wallet, &original).await.status_token.unwrap();
    let changes = wait_for(&wallet, &token, &original.jti, "supplement_requested").await;
    let asked = changes.last().unwrap().supplement.clone().unwrap();
    let (status, _, _) = withdraw(
        &wallet,
        &dossier_id(2),
        &withdrawal(&dossier_id(2), &original.jti, None),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let changes = wait_for(&wallet, &token, &original.jti, "withdrawn").await;
    let requested = &changes[changes.len() - 2];
    assert_eq!(requested.event, "withdrawal_requested");
    assert_eq!(requested.status, Some(PortalStatus::SupplementRequested));
    assert_eq!(requested.supplement.as_ref(), Some(&asked));
    assert_eq!(changes.last().unwrap().supplement, None);

    let mut late = manifest(&dossier_id(3));
    late.supplement = Some(SupplementRef {
        dossier_id: original.jti.clone(),
        request_id: asked.request_id,
    });
    let (status, body) = submit(&wallet, &late).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("no_open_request"))
    );
}
