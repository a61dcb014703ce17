//! The citizen journey end to end: the SDK's public API against the real sandbox over real HTTPS,
//! with the real SQLCipher store on disk.

use std::sync::Arc;

use citizen_core::{Event, WalletState};
use citizen_e2e::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journeys_data_is_stored_and_none_of_it_is_plaintext_on_disk() {
    // A marker that can only reach the disk through this journey (Vietnamese, to cover UTF-8).
    let marker = format!("Cổng dịch vụ công thử nghiệm {}", std::process::id());
    let portal = start_portal(&marker).await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = open(trusting_config(&portal, dir.path())).await.unwrap();
    let recorder = Arc::new(Recorder::default());
    let _subscription = citizen.subscribe(recorder.clone());

    let contact = citizen.ping_portal().await.unwrap();
    assert_eq!(contact.portal_name, marker);
    assert_eq!(contact.api_version, 1);
    assert!((contact.contacted_at - contact.server_time).abs() <= 5);

    // Stored: readable back through the API while open ...
    assert_eq!(
        citizen.last_portal_contact().await.unwrap(),
        Some(contact.clone())
    );
    let status = citizen.status().await.unwrap();
    assert_eq!(status.wallet_state, WalletState::NotActivated);
    assert_eq!(status.portal_reachable, Some(true));
    assert_eq!(status.last_portal_contact_at, Some(contact.contacted_at));
    assert_eq!(status.queued_work, 0);
    assert!(
        !status.store_key_hardware_backed,
        "the software sealer says so"
    );
    let sync = citizen
        .sync_now(std::time::Duration::from_secs(2))
        .await
        .unwrap();
    assert!(sync.completed);
    assert_eq!((sync.queued_work, sync.next_due_at), (0, None));

    // ... but on disk neither the database nor its WAL holds it in plaintext.
    let wal = dir.path().join("citizen.db-wal");
    assert!(
        wal.exists() && std::fs::metadata(&wal).unwrap().len() > 0,
        "the write should still sit in the WAL while the store is open"
    );
    assert_eq!(files_containing(dir.path(), &marker), Vec::<String>::new());
    assert_eq!(
        files_containing(dir.path(), "thử nghiệm"),
        Vec::<String>::new()
    );

    let events = recorder.events();
    assert_eq!(
        events.first(),
        Some(&Event::PortalReachabilityChanged { reachable: true })
    );
    assert!(events.iter().any(
        |e| matches!(e, Event::StatusChanged { status } if status.portal_reachable == Some(true))
    ));
    assert_eq!(portal.sandbox.requests_for("/v1/ping").unwrap(), 1);

    // After closing, the checkpointed database still has no plaintext, and a reopen reads it back.
    drop(citizen);
    assert_eq!(files_containing(dir.path(), &marker), Vec::<String>::new());
    let reopened = open(trusting_config(&portal, dir.path())).await.unwrap();
    assert_eq!(reopened.last_portal_contact().await.unwrap(), Some(contact));
    assert_eq!(reopened.status().await.unwrap().portal_reachable, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_journey_runs_and_keeps_its_store_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let options = citizen_sandbox::demo::DemoOptions {
        data_dir: Some(dir.path().to_path_buf()),
    };
    let mut first_output = Vec::new();
    let outcome = citizen_sandbox::demo::run(options.clone(), &mut first_output)
        .await
        .unwrap();
    let first_output = String::from_utf8(first_output).unwrap();
    assert!(
        first_output.contains("Opened the new encrypted store"),
        "{first_output}"
    );
    assert!(first_output.contains("Done."));
    assert_eq!(outcome.status.portal_reachable, Some(true));
    assert!(
        outcome
            .events
            .contains(&Event::PortalReachabilityChanged { reachable: true })
    );
    assert_eq!(
        files_containing(dir.path(), &outcome.portal_name),
        Vec::<String>::new()
    );

    // Run again on the kept store: it is reopened, not recreated.
    let mut second_output = Vec::new();
    citizen_sandbox::demo::run(options, &mut second_output)
        .await
        .unwrap();
    let second_output = String::from_utf8(second_output).unwrap();
    assert!(
        second_output.contains("Opened the existing encrypted store"),
        "{second_output}"
    );
    // Each run checks in, gets its counter ticket called and makes its own exposure match (the
    // second one too, on a store that already holds the first run's visits and match).
    for output in [&first_output, &second_output] {
        assert_checkin_steps(output);
    }
}

/// The demo's check-in steps ran: the venue check-in (deduplicated on a second scan), the
/// counter check-in whose ticket was called, and a new exposure match for this run's visit.
fn assert_checkin_steps(output: &str) {
    let line = |start: &str| {
        output
            .lines()
            .find(|l| l.contains(start))
            .unwrap_or_else(|| panic!("no line with {start:?} in:\n{output}"))
    };
    assert!(
        output.contains("Checked in at a clinic's door code (VenueCheckIn")
            && output.contains("scanning it again made no second entry"),
        "{output}"
    );
    let counter = line("Checked in at a service counter (CounterCheckIn): ticket ");
    assert!(counter.contains("the queue called it after"), "{counter}");
    let ticket = counter
        .split("ticket ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_default();
    assert!(
        ticket.len() == 4
            && ticket.starts_with('A')
            && ticket[1..].bytes().all(|b| b.is_ascii_digit()),
        "{counter}"
    );
    // This step's text spans two lines.
    let exposure = output
        .split_once("The portal published an exposure notice")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no exposure step in:\n{output}"));
    let new_matches: u32 = exposure
        .split(" new match(es))")
        .next()
        .and_then(|head| head.rsplit('(').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no match count in {exposure:?}"));
    assert!(new_matches >= 1, "{exposure}");
    assert!(
        exposure.contains("), this run's clinic visit among them: "),
        "{exposure}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_and_wipe_work_through_the_public_api() {
    let portal = start_portal("rotation portal").await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = open(trusting_config(&portal, dir.path())).await.unwrap();
    let recorder = Arc::new(Recorder::default());
    let subscription = citizen.subscribe(recorder.clone());
    let contact = citizen.ping_portal().await.unwrap();
    let sealed_key_before = std::fs::read(dir.path().join("citizen.db.key")).unwrap();

    citizen.rotate_store_key().await.unwrap();
    assert!(recorder.events().contains(&Event::StoreKeyRotated));
    assert_ne!(
        std::fs::read(dir.path().join("citizen.db.key")).unwrap(),
        sealed_key_before
    );
    drop(subscription);
    let seen = recorder.events().len();
    citizen.rotate_store_key().await.unwrap();
    assert_eq!(
        recorder.events().len(),
        seen,
        "no delivery after the subscription is dropped"
    );
    drop(citizen);

    let reopened = open(trusting_config(&portal, dir.path())).await.unwrap();
    assert_eq!(reopened.last_portal_contact().await.unwrap(), Some(contact));
    reopened.wipe().await.unwrap();
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    assert!(reopened.status().await.is_err());
}

/// Closing a `Citizen` frees its data directory at once, even while the app still holds its
/// capability objects (the Kotlin and Swift shells free those only when they are collected):
/// they answer `Closed` from then on, and the directory opens again straight away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_citizen_frees_its_data_dir_while_its_capability_objects_live_on() {
    let portal = start_portal("close portal").await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = open(trusting_config(&portal, dir.path())).await.unwrap();
    let checkins = citizen.checkins();
    let wallet = citizen.wallet();
    let dossiers = citizen.dossiers();
    checkins.entries(None, 10, true).await.unwrap();
    drop(citizen);

    let reopened = open(trusting_config(&portal, dir.path()))
        .await
        .expect("the directory is free as soon as the Citizen is dropped");
    assert!(matches!(
        checkins.entries(None, 10, true).await,
        Err(citizen_core::checkin::CheckInError::Store(
            citizen_core::StoreError::Closed
        ))
    ));
    assert!(wallet.state().await.is_err());
    assert!(dossiers.drafts().await.is_err());
    // The new Citizen's objects work, and the old ones never touch its store.
    assert!(reopened.checkins().entries(None, 10, true).await.is_ok());
    drop(reopened);
    citizen_core::Store::wipe_files(
        dir.path(),
        &citizen_core::SoftwareSealer::in_dir(dir.path()),
    )
    .expect("nothing holds the directory");
    drop((checkins, wallet, dossiers));
}
