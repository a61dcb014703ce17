//! Filing dossiers end to end against the real sandbox over HTTPS: a draft signed with the
//! device key behind the PIN, its attachment uploaded by tus, the dossier received exactly once
//! with a receipt; offline and throttled portals; a refusal parked and discarded; and what an
//! attacker sends the portal (another key, a tampered manifest, a reused idempotency key).

use std::time::Duration;

use citizen_core::dossier::manifest::{self, Manifest, SubmitRequest};
use citizen_core::dossier::{DeliveryState, DossierError, DraftState};
use citizen_core::jose::SoftwareSigner;
use citizen_core::wallet::WalletError;
use citizen_core::{Event, Subscription};
use citizen_e2e::dossier_kit::{birth_registration, pdf, ready_draft};
use citizen_e2e::*;
use citizen_sandbox::faults::Faults;

const ID_NUMBER: &str = "001090066666";
const MARKER: &str = "DOSSIER-E2E-PLAINTEXT-MARKER";

async fn send_all(citizen: &citizen_core::Citizen) -> citizen_core::dossier::DrainReport {
    citizen
        .dossiers()
        .send_queued(Duration::from_secs(60), true)
        .await
        .unwrap()
}

fn subscribe(citizen: &citizen_core::Citizen) -> (std::sync::Arc<Recorder>, Subscription) {
    let recorder = std::sync::Arc::new(Recorder::default());
    let subscription = citizen.subscribe(recorder.clone());
    (recorder, subscription)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dossier_reaches_the_portal_exactly_once_with_its_attachment() {
    let portal = start_portal("Dossier portal").await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = activated(&portal, dir.path(), ID_NUMBER).await;
    let (recorder, _subscription) = subscribe(&citizen);
    let dossiers = citizen.dossiers();
    dossiers.sync_catalogue().await.unwrap();
    let procedure = birth_registration(&dossiers).await;
    let declaration = pdf(3_000_000, MARKER);
    let draft = ready_draft(
        &dossiers,
        &procedure,
        MARKER,
        ID_NUMBER,
        declaration.clone(),
    )
    .await;

    // A wrong PIN signs nothing and queues nothing.
    match dossiers.submit(draft, "000000").await {
        Err(DossierError::Wallet(WalletError::Pin(_))) => {}
        other => panic!("{other:?}"),
    }
    assert!(dossiers.submissions().await.unwrap().is_empty());

    let filed = dossiers.submit(draft, PIN).await.unwrap();
    assert_eq!(filed.procedure_code, procedure.code);
    assert_eq!(filed.attachments as usize, procedure_documents(&procedure));
    // The draft is locked: what was signed cannot change.
    assert_eq!(
        dossiers.draft(draft).await.unwrap().unwrap().state,
        DraftState::Submitted
    );
    assert!(matches!(
        dossiers.set_field(draft, &procedure.form[0].id, "x").await,
        Err(DossierError::DraftLocked)
    ));
    assert!(matches!(
        dossiers.submit(draft, PIN).await,
        Err(DossierError::DraftLocked)
    ));

    send_all(&citizen).await;
    let received = dossiers.submission(filed.id).await.unwrap().unwrap();
    assert_eq!(received.state, DeliveryState::Received, "{received:?}");
    let receipt = received.receipt_code.clone().unwrap();
    assert!(receipt.starts_with("HS-"), "{receipt}");

    let at_portal = portal.sandbox.dossiers().unwrap();
    assert_eq!(at_portal.len(), 1);
    let dossier = &at_portal[0];
    assert_eq!(dossier.idempotency_key, filed.dossier_id);
    assert_eq!(dossier.receipt_code, receipt);
    assert_eq!(dossier.id_number, ID_NUMBER);
    assert_eq!(dossier.procedure_code, procedure.code);
    let signed_declaration = dossier
        .manifest
        .attachments
        .iter()
        .find(|a| a.kind == "to_khai")
        .unwrap();
    assert_eq!(signed_declaration.size, declaration.len() as u64);
    assert_eq!(
        signed_declaration.sha256,
        citizen_core::jose::base64url::encode(ring_sha256(&declaration))
    );

    // Progress arrived, ending at the whole size; the delivery events in order.
    let events = recorder.events();
    let total: u64 = dossiers
        .attachments(draft)
        .await
        .unwrap()
        .iter()
        .map(|a| a.size)
        .sum();
    let last_progress = events.iter().rev().find_map(|e| match e {
        Event::DossierUploadProgress {
            sent_bytes,
            total_bytes,
            ..
        } => Some((*sent_bytes, *total_bytes)),
        _ => None,
    });
    assert_eq!(last_progress, Some((total, total)));
    let states: Vec<DeliveryState> = events
        .iter()
        .filter_map(|e| match e {
            Event::DossierDeliveryChanged { state, .. } => Some(*state),
            _ => None,
        })
        .collect();
    assert_eq!(states, [DeliveryState::Queued, DeliveryState::Received]);

    // Sending again sends nothing; the portal still has one dossier.
    let again = send_all(&citizen).await;
    assert_eq!((again.delivered, again.pending), (0, 0));
    assert_eq!(portal.sandbox.dossiers().unwrap().len(), 1);
    // The draft cannot be... it can be deleted now; the record stays.
    assert!(dossiers.delete_draft(draft).await.unwrap());
    let kept = dossiers.submission(filed.id).await.unwrap().unwrap();
    assert_eq!((kept.draft_id, kept.receipt_code), (None, Some(receipt)));

    // Nothing of the form or the document is on disk in plaintext.
    drop(dossiers);
    drop(citizen);
    assert!(files_containing(dir.path(), MARKER).is_empty());
}

fn procedure_documents(procedure: &citizen_core::dossier::Procedure) -> usize {
    procedure
        .attachments
        .iter()
        .filter(|r| r.min_count > 0)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_and_throttled_the_dossier_waits_then_goes_once() {
    let portal = start_portal("Flaky dossier portal").await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = wallet_config(&portal, dir.path());
    config.outbox_retry = citizen_core::outbox::RetryPolicy {
        base: Duration::from_secs(1),
        cap: Duration::from_secs(2),
    };
    let citizen = activated(&portal, dir.path(), ID_NUMBER).await;
    let dossiers = citizen.dossiers();
    dossiers.sync_catalogue().await.unwrap();
    let procedure = birth_registration(&dossiers).await;
    let draft = ready_draft(
        &dossiers,
        &procedure,
        MARKER,
        ID_NUMBER,
        pdf(400_000, MARKER),
    )
    .await;
    drop(dossiers);
    drop(citizen);
    // Reopen with short retries (the default waits seconds to an hour).
    let citizen = citizen_core::Citizen::open(
        config,
        software_platform(dir.path()).with_software_key_store(),
    )
    .await
    .unwrap();
    let dossiers = citizen.dossiers();

    // The portal answers 503 to everything: filing still works, the dossier waits.
    portal
        .sandbox
        .set_faults(Faults {
            error_rate: 1.0,
            ..Faults::default()
        })
        .unwrap();
    let filed = dossiers.submit(draft, PIN).await.unwrap();
    let report = dossiers
        .send_queued(Duration::from_secs(3), true)
        .await
        .unwrap();
    assert_eq!(report.delivered, 0);
    assert!(report.retried >= 1, "{report:?}");
    let waiting = dossiers.submission(filed.id).await.unwrap().unwrap();
    assert_eq!(waiting.state, DeliveryState::Queued);
    assert!(waiting.attempts >= 1);
    // Attachments go first, so the upload is what failed.
    assert_eq!(waiting.last_error.as_deref(), Some("upload"));
    assert_eq!(citizen.status().await.unwrap().queued_work, 1);

    // Then it throttles with Retry-After: 2; the next attempt is not before that.
    portal
        .sandbox
        .set_faults(Faults {
            throttle_rate: 1.0,
            retry_after_secs: 2,
            ..Faults::default()
        })
        .unwrap();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let report = dossiers
        .send_queued(Duration::from_secs(4), false)
        .await
        .unwrap();
    if report.retried > 0 {
        let next = report.next_due_at.unwrap();
        assert!(
            next >= before + 2,
            "Retry-After is a floor: {next} vs {before}"
        );
    }

    // The portal recovers, but drops half of its answers after doing the work: the dossier
    // still arrives once.
    portal
        .sandbox
        .set_faults(Faults {
            drop_rate: 0.5,
            ..Faults::default()
        })
        .unwrap();
    let report = dossiers
        .send_queued(Duration::from_secs(60), true)
        .await
        .unwrap();
    assert_eq!(report.pending, 0, "{report:?}");
    let received = dossiers.submission(filed.id).await.unwrap().unwrap();
    assert_eq!(received.state, DeliveryState::Received);
    let at_portal = portal.sandbox.dossiers().unwrap();
    assert_eq!(at_portal.len(), 1);
    assert_eq!(at_portal[0].receipt_code, received.receipt_code.unwrap());
    assert_eq!(citizen.status().await.unwrap().queued_work, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_dossier_is_parked_and_can_be_discarded_to_fix_the_draft() {
    let portal = start_portal("Strict dossier portal").await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = activated(&portal, dir.path(), ID_NUMBER).await;
    let (recorder, _subscription) = subscribe(&citizen);
    let dossiers = citizen.dossiers();
    dossiers.sync_catalogue().await.unwrap();
    let procedure = birth_registration(&dossiers).await;
    let draft = ready_draft(
        &dossiers,
        &procedure,
        MARKER,
        ID_NUMBER,
        pdf(10_000, MARKER),
    )
    .await;

    // The citizen's identity is suspended at the portal: it refuses the dossier
    // (403 credential_not_valid), which no automatic retry can fix.
    portal
        .sandbox
        .set_credential_status(ID_NUMBER, "suspended")
        .unwrap();
    let filed = dossiers.submit(draft, PIN).await.unwrap();
    // The background sender may have taken it already; either way nothing stays pending.
    let report = send_all(&citizen).await;
    assert_eq!(report.pending, 0, "{report:?}");
    let parked = dossiers.submission(filed.id).await.unwrap().unwrap();
    assert_eq!(parked.state, DeliveryState::Parked);
    assert_eq!(
        parked.parked_reason.as_deref(),
        Some("credential_not_valid")
    );
    assert!(portal.sandbox.dossiers().unwrap().is_empty());
    assert!(recorder.events().iter().any(|e| matches!(
        e,
        Event::DossierDeliveryChanged {
            state: DeliveryState::Parked,
            ..
        }
    )));
    // Parked work is not pending work, and the draft cannot go while its dossier waits.
    assert_eq!(citizen.status().await.unwrap().queued_work, 0);
    assert!(matches!(
        dossiers.delete_draft(draft).await,
        Err(DossierError::DraftInFlight)
    ));

    // A retry asked for by the citizen is refused again while the suspension lasts.
    dossiers.retry_submission(filed.id).await.unwrap();
    send_all(&citizen).await;
    assert_eq!(
        dossiers.submission(filed.id).await.unwrap().unwrap().state,
        DeliveryState::Parked
    );

    // Discarding it reopens the draft for editing; filed again once the identity is valid, the
    // dossier goes through, under a new id.
    let reopened = dossiers.discard_submission(filed.id).await.unwrap();
    assert_eq!(reopened, Some(draft.0));
    assert!(dossiers.submission(filed.id).await.unwrap().is_none());
    assert_eq!(
        dossiers.draft(draft).await.unwrap().unwrap().state,
        DraftState::Editing
    );
    assert!(matches!(
        dossiers.discard_submission(filed.id).await,
        Err(DossierError::UnknownSubmission)
    ));
    portal
        .sandbox
        .set_credential_status(ID_NUMBER, "valid")
        .unwrap();
    let again = dossiers.submit(draft, PIN).await.unwrap();
    assert_ne!(again.dossier_id, filed.dossier_id);
    send_all(&citizen).await;
    assert_eq!(
        dossiers.submission(again.id).await.unwrap().unwrap().state,
        DeliveryState::Received
    );
    let at_portal = portal.sandbox.dossiers().unwrap();
    assert_eq!(at_portal.len(), 1);
    assert_eq!(at_portal[0].idempotency_key, again.dossier_id);
    // A received dossier cannot be discarded.
    assert!(matches!(
        dossiers.discard_submission(again.id).await,
        Err(DossierError::UnknownSubmission)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_refuses_forged_tampered_and_replayed_dossiers() {
    let portal = start_portal("Guarded dossier portal").await;
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
        pdf(10_000, MARKER),
    )
    .await;
    let filed = dossiers.submit(draft, PIN).await.unwrap();
    send_all(&citizen).await;
    let genuine = portal.sandbox.dossiers().unwrap().remove(0);

    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(portal.sandbox.ca_pem.as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    let url = format!("{}v1/dossiers", portal.sandbox.base_url);
    let post = |key: String, body: Vec<u8>| {
        let http = http.clone();
        let url = url.clone();
        async move {
            let response = http
                .post(&url)
                .header("idempotency-key", key)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.bytes().await.unwrap();
            (status, manifest::error_code(&body))
        }
    };

    // A manifest signed by a key no wallet was activated with.
    let stranger = SoftwareSigner::generate().unwrap();
    let mut forged = genuine.manifest.clone();
    forged.jti = "BBBBBBBBBBBBBBBBBBBBBB".into();
    let body = |manifest: String| {
        serde_json::to_vec(&SubmitRequest {
            manifest,
            uploads: vec![],
        })
        .unwrap()
    };
    let signed = manifest::sign(&forged, &stranger).unwrap();
    assert_eq!(
        post(forged.jti.clone(), body(signed)).await,
        (403, Some("unknown_device".into()))
    );

    // The citizen's manifest with one value changed (the signature no longer matches).
    let mut tampered: Manifest = genuine.manifest.clone();
    let first = tampered.form.keys().next().unwrap().clone();
    tampered.form.insert(first, "Kẻ Giả Mạo".into());
    let original = signed_manifest_of(&citizen, filed.id).await;
    let parts: Vec<&str> = original.split('.').collect();
    let payload = citizen_core::jose::base64url::encode(serde_json::to_vec(&tampered).unwrap());
    let spliced = format!("{}.{}.{}", parts[0], payload, parts[2]);
    assert_eq!(
        post(genuine.idempotency_key.clone(), body(spliced)).await,
        (422, Some("idempotency_key_reused".into())),
        "a reused key with another body is refused before anything else"
    );
    let other_key = "CCCCCCCCCCCCCCCCCCCCCC".to_string();
    let parts_body = format!("{}.{}.{}", parts[0], payload, parts[2]);
    assert_eq!(
        post(other_key.clone(), body(parts_body)).await,
        (400, Some("invalid_manifest".into()))
    );
    // The genuine manifest under another key: the key must be the manifest's own id.
    assert_eq!(
        post(other_key, body(original.clone())).await,
        (400, Some("idempotency_key_mismatch".into()))
    );
    // A replay of the genuine request, byte for byte, gets the first answer and files nothing.
    let replay = serde_json::to_vec(&SubmitRequest {
        manifest: original,
        uploads: genuine.uploads.clone(),
    })
    .unwrap();
    assert_eq!(
        post(genuine.idempotency_key.clone(), replay).await,
        (200, None)
    );
    assert_eq!(portal.sandbox.dossiers().unwrap().len(), 1);

    // What the JVM tests read back: one dossier, without personal data.
    let listing = http
        .get(format!("{}v1/test/dossiers", portal.sandbox.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(listing.status().as_u16(), 200);
    let text = listing.text().await.unwrap();
    assert!(
        !text.contains(ID_NUMBER) && !text.contains(MARKER),
        "{text}"
    );
    let listed: serde_json::Value = serde_json::from_str(&text).unwrap();
    let listed = listed["dossiers"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{text}");
    assert_eq!(
        listed[0]["idempotency_key"],
        genuine.idempotency_key.as_str()
    );
    assert_eq!(listed[0]["receipt_code"], genuine.receipt_code.as_str());
    assert_eq!(listed[0]["procedure_code"], procedure.code.as_str());
    assert_eq!(
        listed[0]["attachments"],
        genuine.manifest.attachments.len() as u64
    );
    // The sandbox clerk may have taken it up already (a step every 1.5 s).
    assert!(
        ["received", "processing"].contains(&listed[0]["status"].as_str().unwrap()),
        "{text}"
    );
}

/// The signed manifest the phone sent, as the portal stored it (the portal keeps the compact
/// form; the sandbox exposes the parsed one, so re-read it from the phone's side).
async fn signed_manifest_of(citizen: &citizen_core::Citizen, submission_id: i64) -> String {
    citizen
        .dossiers()
        .signed_manifest(submission_id)
        .await
        .unwrap()
        .unwrap()
}

fn ring_sha256(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

/// The fault test of issue 9: with 30 % of the portal's answers failing (15 % `503` before any
/// work, 15 % cut off after the work was done), every queued dossier arrives exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_thirty_percent_failures_every_dossier_arrives_exactly_once() {
    const DOSSIERS: usize = 12;
    let portal = start_portal("Faulty dossier portal").await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = wallet_config(&portal, dir.path());
    config.outbox_retry = citizen_core::outbox::RetryPolicy {
        base: Duration::from_secs(1),
        cap: Duration::from_secs(2),
    };
    {
        let citizen = activated(&portal, dir.path(), ID_NUMBER).await;
        citizen.dossiers().sync_catalogue().await.unwrap();
    }
    let citizen = citizen_core::Citizen::open(
        config,
        software_platform(dir.path()).with_software_key_store(),
    )
    .await
    .unwrap();
    let dossiers = citizen.dossiers();
    let procedure = birth_registration(&dossiers).await;
    portal
        .sandbox
        .set_faults(Faults {
            error_rate: 0.15,
            drop_rate: 0.15,
            ..Faults::default()
        })
        .unwrap();
    let mut filed = Vec::new();
    for n in 0..DOSSIERS {
        let text = citizen_e2e::dossier_kit::marker(n);
        let draft = ready_draft(
            &dossiers,
            &procedure,
            &text,
            ID_NUMBER,
            pdf(1_500_000, &text),
        )
        .await;
        filed.push(dossiers.submit(draft, PIN).await.unwrap());
    }
    let mut rounds = 0;
    loop {
        let report = dossiers
            .send_queued(Duration::from_secs(60), true)
            .await
            .unwrap();
        rounds += 1;
        if report.pending == 0 || rounds == 5 {
            break;
        }
    }
    let phone = dossiers.submissions().await.unwrap();
    let at_portal = portal.sandbox.dossiers().unwrap();
    let retried: u32 = phone.iter().map(|s| s.attempts.saturating_sub(1)).sum();
    println!(
        "fault test: {} dossiers, {} at the portal, {retried} retries",
        phone.len(),
        at_portal.len()
    );
    assert!(
        phone.iter().all(|s| s.state == DeliveryState::Received),
        "{phone:?}"
    );
    assert_eq!(at_portal.len(), DOSSIERS);
    for submission in &phone {
        let at = at_portal
            .iter()
            .filter(|d| d.idempotency_key == submission.dossier_id)
            .collect::<Vec<_>>();
        assert_eq!(at.len(), 1);
        assert_eq!(Some(&at[0].receipt_code), submission.receipt_code.as_ref());
    }
    // The faults really happened: requests failed and were sent again.
    assert!(
        portal.sandbox.responses_for("/v1/dossiers", 503).unwrap()
            + portal.sandbox.responses_for("/v1/uploads", 503).unwrap()
            > 0
    );
}
