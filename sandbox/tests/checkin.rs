//! The sandbox's check-in side over real HTTPS: codes minted and verified with the venue key of
//! the served, anchor-verified trust list; exposure notices paged by cursor with `ETag`/`304`;
//! counter tickets that are idempotent and called over time; shares refused or received
//! exactly; and the `mint-venue` and `notify` commands acting on a running sandbox's data.

mod support;

use citizen_core::checkin::wire::{
    ExposureNotice, MintVenueRequest, MintedVenue, NOTICE_JWS_TYP, NoticesPage, NotifyRequest,
    ShareReceipt, ShareRequest, SharedEntry, Ticket, TicketState, VENUE_CLAIM, VENUE_PROFILE,
    VenueKind,
};
use citizen_core::jose::{Jws, base64url};
use citizen_core::signed_qr::{self, ClaimKey, SignedQr, VerifyingKey};
use citizen_core::trust_list::TrustList;
use citizen_sandbox::RunningSandbox;
use citizen_sandbox::checkin::{AGENCY_ID, AGENCY_NAME, ReceivedShare};
use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_NONE_MATCH};
use serde_json::{Value, json};
use support::*;

async fn trust_list(sandbox: &RunningSandbox) -> TrustList {
    let response = get(sandbox, "v1/trust-list").await;
    assert_eq!(response.status(), StatusCode::OK);
    TrustList::verify(
        &response.text().await.unwrap(),
        &[sandbox.trust_anchor_config()],
        now(),
    )
    .unwrap()
}

/// Decodes a code with the venue keys of the served trust list, as a phone would: the key its
/// `kid` names, valid at the code's `iat`, of a signer whose agency is the code's `iss`.
async fn verify_code(sandbox: &RunningSandbox, code: &str) -> SignedQr {
    let list = trust_list(sandbox).await;
    let lookup = |kid: &[u8]| {
        let kid = std::str::from_utf8(kid).ok()?;
        let signer = list
            .venue_signers
            .iter()
            .find(|s| s.keys.iter().any(|k| k.kid == kid))?;
        let key = signer.keys.iter().find(|k| k.kid == kid)?;
        Some(VerifyingKey::Es256(key.jwk.clone()))
    };
    let decoded = signed_qr::decode(&VENUE_PROFILE, code, &lookup).unwrap();
    let kid = std::str::from_utf8(&decoded.kid).unwrap();
    let (signer, _) = list.venue_key(kid, decoded.claims.iat.unwrap()).unwrap();
    assert_eq!(decoded.claims.iss.as_deref(), Some(signer.agency.as_str()));
    assert_eq!(signer.display_name, AGENCY_NAME);
    decoded
}

fn venue(venue_id: &str, kind: VenueKind) -> MintVenueRequest {
    MintVenueRequest {
        venue_id: venue_id.into(),
        name: "Bộ phận một cửa UBND phường Bến Thành".into(),
        address: "92 Nguyễn Trãi, Quận 1".into(),
        kind,
        valid_for: None,
        auto_checkout: None,
    }
}

async fn post(sandbox: &RunningSandbox, path: &str, body: &Value) -> reqwest::Response {
    client(sandbox)
        .post(format!("{}{path}", sandbox.base_url))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn get(sandbox: &RunningSandbox, path: &str) -> reqwest::Response {
    client(sandbox)
        .get(format!("{}{path}", sandbox.base_url))
        .send()
        .await
        .unwrap()
}

async fn error_of(response: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    response.json().await.unwrap()
}

/// The code id (`cti`) of a code, base64url, as a phone sends it for a ticket.
fn code_id(decoded: &SignedQr) -> String {
    base64url::encode(decoded.claims.cti.as_ref().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minted_code_verifies_with_the_venue_key_of_the_served_trust_list() {
    let (sandbox, _data) = start().await;
    let request = MintVenueRequest {
        valid_for: Some(3_600),
        auto_checkout: Some(600),
        ..venue("ben-thanh.mot-cua", VenueKind::ServiceCounter)
    };
    let response = post(&sandbox, "v1/test/venues", &json!(request)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let minted: MintedVenue = response.json().await.unwrap();
    assert_eq!(minted.agency, AGENCY_ID);
    let decoded = verify_code(&sandbox, &minted.code).await;
    let claims = &decoded.claims;
    let iat = claims.iat.unwrap();
    assert!((now() - iat).abs() <= 5);
    assert_eq!((claims.nbf, claims.exp), (Some(iat), Some(iat + 3_600)));
    assert_eq!(claims.cti.as_ref().unwrap().len(), 16);
    let venue_claim = claims.private[&ClaimKey::Int(VENUE_CLAIM)].clone();
    let expected = signed_qr::CborValue::Map(vec![
        ("v".into(), "ben-thanh.mot-cua".into()),
        ("n".into(), request.name.as_str().into()),
        ("a".into(), request.address.as_str().into()),
        ("k".into(), 1.into()),
        ("d".into(), 600.into()),
    ]);
    assert_eq!(venue_claim, expected);

    // After a rotation new codes use the new key; the old code still verifies (its key is
    // listed as retired, with a window that holds its iat). Windows are half-open in whole
    // seconds: rotate in a later second than the minting.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let old_kid = String::from_utf8(decoded.kid.clone()).unwrap();
    let (new_kid, _) = sandbox.rotate_venue_key().unwrap();
    let keys = sandbox.venue_keys().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!((keys[0].0.as_str(), keys[0].2), (new_kid.as_str(), None));
    let newer = sandbox
        .mint_venue(&venue("quan-cafe", VenueKind::Venue))
        .unwrap();
    assert_eq!(
        verify_code(&sandbox, &newer.code).await.kid,
        new_kid.as_bytes()
    );
    assert_eq!(
        verify_code(&sandbox, &minted.code).await.kid,
        old_kid.as_bytes()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minting_refuses_malformed_requests_with_a_json_error() {
    let (sandbox, _data) = start().await;
    let good = json!(venue("v", VenueKind::Event));
    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        body
    };
    for (body, field) in [
        (with("venue_id", json!("có dấu")), "venue_id"),
        (with("name", json!("")), "name"),
        (with("address", json!("x".repeat(201))), "address"),
        (with("auto_checkout", json!(86_401)), "auto_checkout"),
        (with("valid_for", json!(-1)), "valid_for"),
        (with("kind", json!("shop")), "body"),
        (json!({"venue_id": "v"}), "body"),
    ] {
        let error = error_of(
            post(&sandbox, "v1/test/venues", &body).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(
            error,
            json!({"error": "invalid_field", "field": field}),
            "{body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_are_signed_paged_by_cursor_and_answer_304_when_unchanged() {
    let (sandbox, _data) = start().await;
    sandbox
        .mint_venue(&venue("cho-ben-thanh", VenueKind::Venue))
        .unwrap();
    let http = client(&sandbox);
    let url = format!("{}v1/checkins/notices", sandbox.base_url);
    let get = |since: Option<&str>, etag: Option<&str>| {
        let mut url = url::Url::parse(&url).unwrap();
        if let Some(since) = since {
            url.query_pairs_mut().append_pair("since", since);
        }
        let mut request = http.get(url);
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        request.send()
    };

    let empty = get(None, None).await.unwrap();
    assert_eq!(empty.status(), StatusCode::OK);
    let empty: NoticesPage = empty.json().await.unwrap();
    assert!(empty.notices.is_empty());

    let until = now();
    let first = sandbox
        .notify(&NotifyRequest {
            venue_id: "cho-ben-thanh".into(),
            from: until - 7_200,
            until,
            message: "Một ca bệnh đã có mặt tại chợ Bến Thành trong khung giờ này.".into(),
        })
        .unwrap();
    let response = post(
        &sandbox,
        "v1/test/notices",
        &json!({"venue_id": "cho-ben-thanh", "from": until - 60, "until": until, "message": "Lần 2"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let second: citizen_sandbox::checkin::PublishedNotice = response.json().await.unwrap();

    let response = get(None, None).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let etag = response.headers()[ETAG].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"'), "a strong ETag: {etag}");
    let page: NoticesPage = response.json().await.unwrap();
    assert_eq!(page.notices, vec![first.jws.clone(), second.jws.clone()]);
    assert!(!page.more);

    // Each notice verifies with the venue key the trust list names for its kid.
    let list = trust_list(&sandbox).await;
    for (jws, id) in page.notices.iter().zip([&first.id, &second.id]) {
        let jws = Jws::parse(jws, 64 * 1024).unwrap();
        assert_eq!(jws.header().typ(), Some(NOTICE_JWS_TYP));
        let notice: ExposureNotice = serde_json::from_slice(jws.payload()).unwrap();
        let (signer, key) = list
            .venue_key(jws.header().kid().unwrap(), notice.iat)
            .unwrap();
        jws.verify(key).unwrap();
        assert_eq!(notice.agency, signer.agency);
        assert_eq!(
            (&notice.id, notice.venue_id.as_str()),
            (id, "cho-ben-thanh")
        );
    }

    // Unchanged: 304 with the same ETag; after the cursor, nothing.
    let unchanged = get(None, Some(&etag)).await.unwrap();
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(unchanged.headers()[ETAG], etag.as_str());
    let next: NoticesPage = get(Some(&page.cursor), None)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(next.notices.is_empty());
    assert_eq!(next.cursor, page.cursor);

    // A new notice: the old ETag no longer matches, and the cursor gives only the new one.
    let third = sandbox
        .notify(&NotifyRequest {
            venue_id: "cho-ben-thanh".into(),
            from: until - 10,
            until,
            message: "Lần 3".into(),
        })
        .unwrap();
    assert_eq!(
        get(None, Some(&etag)).await.unwrap().status(),
        StatusCode::OK
    );
    let after: NoticesPage = get(Some(&page.cursor), None)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after.notices, vec![third.jws]);

    let bad = error_of(
        get(Some("not a cursor"), None).await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(bad["field"], "since");
    let unknown = post(
        &sandbox,
        "v1/test/notices",
        &json!({"venue_id": "nowhere", "from": 1, "until": 2, "message": "m"}),
    )
    .await;
    assert_eq!(
        error_of(unknown, StatusCode::NOT_FOUND).await["error"],
        "unknown_venue"
    );
}

async fn ask_ticket(
    sandbox: &RunningSandbox,
    key: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut request = client(sandbox)
        .post(format!("{}v1/checkins/tickets", sandbox.base_url))
        .json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    request.send().await.unwrap()
}

async fn poll_ticket(sandbox: &RunningSandbox, ticket_id: &str) -> Ticket {
    let response = get(sandbox, &format!("v1/checkins/tickets/{ticket_id}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counter_issues_tickets_once_per_key_and_calls_them_over_time() {
    let (sandbox, _data) = start().await;
    let pace = post(
        &sandbox,
        "v1/test/queues/pace",
        &json!({"seconds_per_call": 1}),
    )
    .await;
    assert_eq!(pace.status(), StatusCode::OK);
    let counter = sandbox
        .mint_venue(&venue("quay-3", VenueKind::ServiceCounter))
        .unwrap();
    let code = code_id(&verify_code(&sandbox, &counter.code).await);
    let body = json!({"agency": AGENCY_ID, "venue_id": "quay-3", "code_id": code});

    let missing = ask_ticket(&sandbox, None, &body).await;
    assert_eq!(
        error_of(missing, StatusCode::BAD_REQUEST).await["field"],
        "Idempotency-Key"
    );

    let response = ask_ticket(&sandbox, Some("checkin-1"), &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let first: Ticket = response.json().await.unwrap();
    let again: Ticket = ask_ticket(&sandbox, Some("checkin-1"), &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again.ticket_id, first.ticket_id);
    let second: Ticket = ask_ticket(&sandbox, Some("checkin-2"), &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (first.number.as_str(), second.number.as_str()),
        ("A001", "A002")
    );
    assert_ne!(second.ticket_id, first.ticket_id);
    assert_eq!(second.state, TicketState::Waiting);
    assert_eq!(second.counter, None);
    assert_eq!(second.poll_after, 1);
    assert!(second.ticket_id.len() <= 64);

    // Called within a few paces, then closed.
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let called = loop {
        let ticket = poll_ticket(&sandbox, &second.ticket_id).await;
        seen.push(ticket.state);
        if ticket.state != TicketState::Waiting || std::time::Instant::now() > deadline {
            break ticket;
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    };
    assert_eq!(called.state, TicketState::Called, "{seen:?}");
    assert_eq!(
        (called.position, called.counter.as_deref()),
        (0, Some("Quầy 2"))
    );
    let closed = loop {
        let ticket = poll_ticket(&sandbox, &second.ticket_id).await;
        if ticket.state != TicketState::Called || std::time::Instant::now() > deadline {
            break ticket;
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    };
    assert_eq!(closed.state, TicketState::Closed);

    // Refusals.
    sandbox
        .mint_venue(&venue("quan-an", VenueKind::Venue))
        .unwrap();
    let with = |key: &str, value: Value| {
        let mut changed = body.clone();
        changed[key] = value;
        changed
    };
    for (i, (body, status, error)) in [
        (
            with("code_id", json!("***")),
            StatusCode::BAD_REQUEST,
            "invalid_field",
        ),
        (
            with("venue_id", json!("nowhere")),
            StatusCode::NOT_FOUND,
            "unknown_venue",
        ),
        (
            with("agency", json!("other-agency")),
            StatusCode::NOT_FOUND,
            "unknown_agency",
        ),
        (
            with("venue_id", json!("quan-an")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_a_counter",
        ),
        (
            with("code_id", json!(base64url::encode([7u8; 16]))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_code",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let response = ask_ticket(&sandbox, Some(&format!("refused-{i}")), &body).await;
        assert_eq!(error_of(response, status).await["error"], error, "{body}");
    }
    let unknown = get(&sandbox, "v1/checkins/tickets/nope").await;
    assert_eq!(
        error_of(unknown, StatusCode::NOT_FOUND).await["error"],
        "unknown_ticket"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shares_are_validated_and_stored_exactly() {
    let (sandbox, _data) = start().await;
    sandbox
        .mint_venue(&venue("thu-vien", VenueKind::Venue))
        .unwrap();
    let entry = |venue_id: &str| SharedEntry {
        venue_id: venue_id.into(),
        checked_in_at: 1_795_000_000,
        checked_out_at: Some(1_795_003_600),
    };
    let share = |agency: &str, entries: Vec<SharedEntry>| {
        json!(ShareRequest {
            agency: agency.into(),
            entries,
        })
    };
    for (body, status, error) in [
        (
            share("other-agency", vec![entry("thu-vien")]),
            StatusCode::NOT_FOUND,
            "unknown_agency",
        ),
        (
            share(AGENCY_ID, vec![]),
            StatusCode::BAD_REQUEST,
            "invalid_field",
        ),
        (
            share(AGENCY_ID, vec![entry("thu-vien"); 1_001]),
            StatusCode::BAD_REQUEST,
            "invalid_field",
        ),
        (
            share(AGENCY_ID, vec![entry("nowhere")]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_venue",
        ),
    ] {
        let response = post(&sandbox, "v1/checkins/shares", &body).await;
        assert_eq!(error_of(response, status).await["error"], error);
    }
    assert!(sandbox.shares().unwrap().is_empty());

    let request = ShareRequest {
        agency: AGENCY_ID.into(),
        entries: vec![
            entry("thu-vien"),
            SharedEntry {
                checked_out_at: None,
                ..entry("thu-vien")
            },
        ],
    };
    let response = post(&sandbox, "v1/checkins/shares", &json!(request)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let receipt: ShareReceipt = response.json().await.unwrap();
    assert_eq!(receipt.received, 2);

    let response = get(&sandbox, "v1/test/shares").await;
    assert_eq!(response.status(), StatusCode::OK);
    let listed: Value = response.json().await.unwrap();
    let listed: Vec<ReceivedShare> = serde_json::from_value(listed["shares"].clone()).unwrap();
    assert_eq!(listed, sandbox.shares().unwrap());
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (&listed[0].share_id, &listed[0].request),
        (&receipt.share_id, &request)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mint_venue_and_notify_commands_act_on_a_running_sandbox() {
    let (sandbox, data) = start().await;
    let svg = data.path().join("quay.svg");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_citizen-sandbox"))
        .args(["mint-venue", "--venue-id", "quay-7", "--name", "Quầy số 7"])
        .args([
            "--kind",
            "counter",
            "--valid-days",
            "2",
            "--auto-checkout-minutes",
            "30",
        ])
        .arg("--svg")
        .arg(&svg)
        .arg("--data")
        .arg(data.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let code = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("code : "))
        .unwrap();
    assert!(text.contains('█'), "the QR is drawn in the terminal");
    // A printed code: drawn at High error correction, not the screen default.
    assert_eq!(
        std::fs::read_to_string(&svg).unwrap(),
        citizen_core::qr::render(code, citizen_core::qr::ErrorCorrection::High)
            .unwrap()
            .to_svg()
    );
    let decoded = verify_code(&sandbox, code).await;
    assert_eq!(
        decoded.claims.exp.unwrap() - decoded.claims.iat.unwrap(),
        2 * 86_400
    );

    // The running sandbox knows the counter at once.
    sandbox.set_queue_pace(5).unwrap();
    let body = json!({"agency": AGENCY_ID, "venue_id": "quay-7", "code_id": code_id(&decoded)});
    let ticket: Ticket = ask_ticket(&sandbox, Some("cli"), &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((ticket.number.as_str(), ticket.poll_after), ("A001", 5));

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_citizen-sandbox"))
        .args([
            "notify",
            "--venue-id",
            "quay-7",
            "--message",
            "Vui lòng theo dõi sức khỏe.",
        ])
        .args([
            "--from",
            "2026-11-20T08:30:00+07:00",
            "--until",
            "1795170000",
            "--data",
        ])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let page: NoticesPage = get(&sandbox, "v1/checkins/notices")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page.notices.len(), 1);
    let jws = Jws::parse(&page.notices[0], 64 * 1024).unwrap();
    let notice: ExposureNotice = serde_json::from_slice(jws.payload()).unwrap();
    assert_eq!((notice.from, notice.until), (1_795_138_200, 1_795_170_000));
    assert_eq!(notice.message, "Vui lòng theo dõi sức khỏe.");

    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_citizen-sandbox"))
        .args([
            "mint-venue",
            "--venue-id",
            "bad id",
            "--name",
            "x",
            "--data",
        ])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(!refused.status.success());
}
