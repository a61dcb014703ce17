//! What becomes of a filed dossier, end to end against the real sandbox over HTTPS: the clerk
//! moves it on, asks for a supplement which the citizen answers through the same outbox, the
//! result is ready with a fee whose VietQR the sandbox bank pays, and the phone sees it Completed
//! with the bank's receipt; a withdrawal signed behind the PIN; the status feed by delta; and
//! what an attacker tries (another device's feed, a payment that is not the fee's, a supplement
//! filed twice).

use std::time::Duration;

use citizen_core::dossier::{
    DossierError, Dossiers, FeeState, SupplementItem, TrackingStatus, WithdrawalState,
};
use citizen_core::{Citizen, Event};
use citizen_e2e::dossier_kit::{birth_registration, content_for, filler, pdf, ready_draft};
use citizen_e2e::*;
use citizen_sandbox::tracking::{ClerkPolicy, SupplementPolicy};

const MARKER: &str = "TRACKING-E2E-PLAINTEXT-MARKER";

/// A fast clerk: a step every 100 ms, one supplement request per dossier.
fn fast_clerk(portal: &Portal) {
    portal
        .sandbox
        .set_clerk(ClerkPolicy {
            pace_ms: 100,
            supplement: SupplementPolicy::Once,
            ..ClerkPolicy::default()
        })
        .unwrap();
}

/// A citizen with the catalogue synced and one dossier filed and received.
async fn filed(portal: &Portal, dir: &std::path::Path, id_number: &str) -> (Citizen, i64) {
    let citizen = activated(portal, dir, id_number).await;
    let dossiers = citizen.dossiers();
    dossiers.sync_catalogue().await.unwrap();
    let procedure = birth_registration(&dossiers).await;
    let draft = ready_draft(
        &dossiers,
        &procedure,
        MARKER,
        id_number,
        pdf(200_000, MARKER),
    )
    .await;
    let filed = dossiers.submit(draft, PIN).await.unwrap();
    dossiers
        .send_queued(Duration::from_secs(60), true)
        .await
        .unwrap();
    (citizen, filed.id)
}

/// Syncs statuses until dossier `id` is `status` (60 s at most).
async fn await_status(dossiers: &Dossiers, id: i64, status: TrackingStatus) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        dossiers
            .send_queued(Duration::from_secs(10), false)
            .await
            .unwrap();
        dossiers.sync_statuses().await.unwrap();
        let now = dossiers.submission(id).await.unwrap().unwrap();
        if now.status == status {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not {status:?} within 60 s: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Answers dossier `id`'s open supplement request with every item.
async fn answer_supplement(dossiers: &Dossiers, id: i64, id_number: &str) -> i64 {
    let draft = dossiers.start_supplement(id).await.unwrap();
    let form = dossiers.draft_procedure(draft.id).await.unwrap().unwrap();
    let values = form
        .form
        .iter()
        .map(|field| (field.id.clone(), filler(field, MARKER, id_number)))
        .collect();
    dossiers.set_fields(draft.id, values).await.unwrap();
    for rule in &form.attachments {
        dossiers
            .add_attachment_bytes(draft.id, &rule.kind, content_for(&form, &rule.kind, MARKER))
            .await
            .unwrap();
    }
    assert!(dossiers.validate_draft(draft.id).await.unwrap().is_empty());
    dossiers.submit(draft.id, PIN).await.unwrap().id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dossier_goes_through_a_supplement_and_a_fee_to_completed() {
    const ID_NUMBER: &str = "001090055501";
    let portal = start_portal("Tracking portal").await;
    fast_clerk(&portal);
    let dir = tempfile::tempdir().unwrap();
    let (citizen, id) = filed(&portal, dir.path(), ID_NUMBER).await;
    let recorder = std::sync::Arc::new(Recorder::default());
    let _subscription = citizen.subscribe(recorder.clone());
    let dossiers = citizen.dossiers();

    // The clerk asks for more.
    await_status(&dossiers, id, TrackingStatus::SupplementRequested).await;
    let asked = dossiers.submission(id).await.unwrap().unwrap();
    let request = asked.supplement_request.clone().unwrap();
    let receipt = asked.receipt_code.clone().unwrap();
    let supplement = dossiers.start_supplement(id).await.unwrap();
    assert_eq!(supplement.supplement_of, Some(id));
    let form = dossiers
        .draft_procedure(supplement.id)
        .await
        .unwrap()
        .unwrap();
    let asked_fields: Vec<_> = request
        .items
        .iter()
        .filter_map(|item| match item {
            SupplementItem::Field { field_id, .. } => Some(field_id.clone()),
            SupplementItem::Attachment { .. } => None,
        })
        .collect();
    assert_eq!(
        form.form.iter().map(|f| f.id.clone()).collect::<Vec<_>>(),
        asked_fields
    );
    assert!(
        !dossiers
            .validate_draft(supplement.id)
            .await
            .unwrap()
            .is_empty(),
        "an unanswered supplement does not validate"
    );
    let supplement_id = answer_supplement(&dossiers, id, ID_NUMBER).await;
    assert_eq!(
        dossiers
            .submission(id)
            .await
            .unwrap()
            .unwrap()
            .supplement_request,
        None,
        "answered"
    );
    // Filed once: a second supplement for the same request is refused on the phone.
    assert!(matches!(
        dossiers.start_supplement(id).await,
        Err(DossierError::NoOpenSupplementRequest)
    ));
    assert_eq!(dossiers.submissions().await.unwrap().len(), 1);

    // The result is ready with a fee: its VietQR, paid at the sandbox bank.
    await_status(&dossiers, id, TrackingStatus::ResultReady).await;
    let supplement_sent = dossiers.submission(supplement_id).await.unwrap().unwrap();
    assert_eq!(
        supplement_sent.receipt_code.as_deref(),
        Some(receipt.as_str())
    );
    let fees = dossiers.fees(id).await.unwrap();
    assert_eq!(fees.len(), 1, "{fees:?}");
    let fee = &fees[0];
    assert_eq!(fee.state, FeeState::Due);
    assert_eq!(fee.reference, receipt);
    let code = dossiers.fee_payment_code(id, &fee.fee_id).await.unwrap();
    let text = code.encode().unwrap();
    let scanned = citizen_core::vietqr::parse(&text).unwrap();
    assert_eq!(scanned.amount, Some(fee.amount));
    assert_eq!(scanned.purpose(), Some(receipt.as_str()));
    assert_eq!(scanned.napas.as_ref().unwrap().bank_bin, fee.bank_bin);

    // A transfer of the wrong amount, and a tampered code, pay nothing.
    let short = citizen_core::vietqr::payment_request(
        &fee.bank_bin,
        &scanned.napas.as_ref().unwrap().account,
        fee.amount - 1,
        &receipt,
    )
    .unwrap()
    .encode()
    .unwrap();
    assert!(portal.sandbox.pay(&short).is_err());
    let mut tampered = text.clone().into_bytes();
    let at = text.find(&receipt).unwrap();
    tampered[at] = b'X';
    assert!(
        portal
            .sandbox
            .pay(&String::from_utf8(tampered).unwrap())
            .is_err()
    );
    dossiers.sync_statuses().await.unwrap();
    assert_eq!(dossiers.fees(id).await.unwrap()[0].state, FeeState::Due);

    let transaction = portal.sandbox.pay(&text).unwrap();
    await_status(&dossiers, id, TrackingStatus::Completed).await;
    let paid = &dossiers.fees(id).await.unwrap()[0];
    assert_eq!(paid.state, FeeState::Paid);
    let receipt_of_payment = paid.payment.clone().unwrap();
    assert_eq!(
        receipt_of_payment.transaction_id,
        transaction.transaction_id
    );
    assert_eq!(receipt_of_payment.amount, fee.amount);

    // The timeline has every step once, in order.
    let steps: Vec<String> = dossiers
        .timeline(id)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.event)
        .collect();
    let position = |step: &str| {
        steps
            .iter()
            .position(|s| s == step)
            .unwrap_or_else(|| panic!("{step} not in {steps:?}"))
    };
    assert!(position("submitted") < position("received"));
    assert!(position("received") < position("supplement_requested"));
    assert!(position("supplement_requested") < position("supplement_sent"));
    assert!(position("supplement_sent") < position("fee_paid"));
    assert!(position("fee_paid") < position("completed"));
    assert_eq!(steps.iter().filter(|s| *s == "completed").count(), 1);

    // Every change announced; nothing new after that: the feed answers 304.
    let events = recorder.events();
    for status in [
        TrackingStatus::SupplementRequested,
        TrackingStatus::ResultReady,
        TrackingStatus::Completed,
    ] {
        assert!(
            events.iter().any(|e| matches!(e, Event::DossierStatusChanged { submission_id, status: s } if *submission_id == id && *s == status)),
            "{status:?} not announced: {events:?}"
        );
    }
    assert!(events.iter().any(|e| matches!(
        e,
        Event::DossierFeeChanged {
            state: FeeState::Paid,
            ..
        }
    )));
    let again = dossiers.sync_statuses().await.unwrap();
    assert!(again.not_modified, "{again:?}");

    // Completed: no withdrawal any more.
    assert!(matches!(
        dossiers.withdraw(id, None, PIN).await,
        Err(DossierError::NotWithdrawable)
    ));
    drop(dossiers);
    drop(citizen);
    assert!(files_containing(dir.path(), MARKER).is_empty());
    assert!(files_containing(dir.path(), &receipt).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawal_is_signed_queued_and_acted_on_by_the_agency() {
    const ID_NUMBER: &str = "001090055502";
    let portal = start_portal("Withdrawal portal").await;
    fast_clerk(&portal);
    let dir = tempfile::tempdir().unwrap();
    let citizen = activated(&portal, dir.path(), ID_NUMBER).await;
    let dossiers = citizen.dossiers();
    dossiers.sync_catalogue().await.unwrap();
    let procedure = birth_registration(&dossiers).await;
    let draft = ready_draft(
        &dossiers,
        &procedure,
        MARKER,
        ID_NUMBER,
        pdf(50_000, MARKER),
    )
    .await;

    // Not before the portal has it: offline, it waits queued and cannot be withdrawn.
    let _held = dossiers.hold_sender().await;
    let filed = dossiers.submit(draft, PIN).await.unwrap();
    assert!(matches!(
        dossiers.withdraw(filed.id, None, PIN).await,
        Err(DossierError::NotWithdrawable)
    ));
    drop(_held);
    await_status(&dossiers, filed.id, TrackingStatus::SupplementRequested).await;

    // A wrong PIN signs nothing.
    assert!(matches!(
        dossiers.withdraw(filed.id, None, "000000").await,
        Err(DossierError::Wallet(_))
    ));
    let asked = dossiers
        .withdraw(filed.id, Some("Nộp nhầm thủ tục".into()), PIN)
        .await
        .unwrap();
    assert_eq!(asked.withdrawal, Some(WithdrawalState::Queued));
    // One request at a time.
    assert!(matches!(
        dossiers.withdraw(filed.id, None, PIN).await,
        Err(DossierError::NotWithdrawable)
    ));
    await_status(&dossiers, filed.id, TrackingStatus::Withdrawn).await;
    let withdrawn = dossiers.submission(filed.id).await.unwrap().unwrap();
    assert_eq!(withdrawn.withdrawal, Some(WithdrawalState::Sent));
    assert!(withdrawn.supplement_request.is_none());
    let steps: Vec<String> = dossiers
        .timeline(filed.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert!(
        steps.contains(&"withdrawal_requested".to_string()),
        "{steps:?}"
    );
    assert!(steps.contains(&"withdrawn".to_string()), "{steps:?}");
    // Withdrawn is final: no supplement can be filed for the old request any more.
    assert!(matches!(
        dossiers.start_supplement(filed.id).await,
        Err(DossierError::NoOpenSupplementRequest)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_shows_a_device_only_its_own_dossiers() {
    let portal = start_portal("Feed portal").await;
    portal
        .sandbox
        .set_clerk(ClerkPolicy {
            pace_ms: 100,
            supplement: SupplementPolicy::Never,
            ..ClerkPolicy::default()
        })
        .unwrap();
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let (a, a_id) = filed(&portal, dir_a.path(), "001090055503").await;
    let (b, b_id) = filed(&portal, dir_b.path(), "001090055504").await;
    await_status(&a.dossiers(), a_id, TrackingStatus::ResultReady).await;
    await_status(&b.dossiers(), b_id, TrackingStatus::ResultReady).await;

    // Each phone's timeline holds its own dossier's changes only.
    let a_dossier = a.dossiers().submission(a_id).await.unwrap().unwrap();
    let b_dossier = b.dossiers().submission(b_id).await.unwrap().unwrap();
    assert_ne!(a_dossier.receipt_code, b_dossier.receipt_code);

    // Without a token, or with a made-up one, the feed answers 401.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(portal.sandbox.ca_pem.as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    let url = format!("{}v1/dossiers/changes", portal.sandbox.base_url);
    let none = http.get(&url).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let forged = http
        .get(&url)
        .bearer_auth("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
}
