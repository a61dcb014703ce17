//! QR check-ins end to end against the real sandbox over real HTTPS: codes the sandbox mints are
//! verified offline against the trust list it publishes, recorded in the encrypted diary, matched
//! against the notices it publishes, and a counter's queue calls the ticket over time. Also what
//! an attacker or a bad network does: a code of another portal's agency, a tampered code, a
//! code that outlived its key, an offline counter.
//!
//! The scripted-portal tests (`checkins_scripted.rs`) cover what the sandbox cannot be made to
//! send: forged notices inside a page, exact poll sequences.

use std::sync::Arc;
use std::time::Duration;

use citizen_core::checkin::wire::{MintVenueRequest, MintedVenue, NotifyRequest};
use citizen_core::checkin::{CheckInError, CheckOut, TicketState, VenueCodeError, VenueKind};
use citizen_core::scan::{ScannedKind, classify};
use citizen_core::{Citizen, Event, NetError, Subscription};
use citizen_e2e::*;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn mint(portal: &Portal, venue_id: &str, kind: VenueKind) -> MintedVenue {
    portal
        .sandbox
        .mint_venue(&MintVenueRequest {
            venue_id: venue_id.into(),
            name: "Phòng khám Đa khoa Quận 3".into(),
            address: "12 Lý Chính Thắng, Quận 3".into(),
            kind,
            valid_for: None,
            auto_checkout: Some(3_600),
        })
        .unwrap()
}

/// A citizen whose SDK holds the portal's trust list, with an event recorder (recording while
/// the returned subscription lives).
async fn citizen(portal: &Portal, dir: &std::path::Path) -> (Citizen, Arc<Recorder>, Subscription) {
    let citizen = open(anchored_config(portal, dir)).await.unwrap();
    citizen.refresh_trust_list().await.unwrap();
    let recorder = Arc::new(Recorder::default());
    let subscription = citizen.subscribe(recorder.clone());
    (citizen, recorder, subscription)
}

/// Waits until `recorder` has seen an event `wanted` accepts.
async fn wait_for(recorder: &Recorder, what: &str, wanted: impl Fn(&Event) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !recorder.events().iter().any(&wanted) {
        assert!(tokio::time::Instant::now() < deadline, "no event: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizens_check_ins_at_a_venue_and_a_counter_with_a_ticket_and_an_exposure_match() {
    let portal = start_portal("check-in journey").await;
    let dir = tempfile::tempdir().unwrap();
    let (citizen, recorder, _subscription) = citizen(&portal, dir.path()).await;
    let checkins = citizen.checkins();

    // A venue: recorded once, however often it is scanned within its window.
    let venue = mint(&portal, "clinic-3", VenueKind::Venue);
    assert_eq!(classify(&venue.code), ScannedKind::VenueCheckIn);
    let first = checkins.check_in(&venue.code).await.unwrap();
    assert!(!first.duplicate && first.ticket.is_none());
    assert_eq!(first.entry.venue_id, "clinic-3");
    assert_eq!(first.entry.agency, venue.agency);
    assert_eq!(
        first.entry.auto_checkout_at - first.entry.checked_in_at,
        3_600
    );
    let again = checkins.check_in(&venue.code).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.entry.id, first.entry.id);
    assert_eq!(
        checkins
            .entries(None, 50, false)
            .await
            .unwrap()
            .entries
            .len(),
        1
    );
    wait_for(
        &recorder,
        "checked in",
        |e| matches!(e, Event::CheckedIn { entry_id } if *entry_id == first.entry.id),
    )
    .await;

    // A counter: the queue calls the ticket over time, and each change arrives as an event.
    portal.sandbox.set_queue_pace(1).unwrap();
    let counter = mint(&portal, "counter-7", VenueKind::ServiceCounter);
    assert_eq!(classify(&counter.code), ScannedKind::CounterCheckIn);
    let at_counter = checkins.check_in(&counter.code).await.unwrap();
    let ticket = at_counter.ticket.expect("a counter asks").expect("online");
    assert!(ticket.number.starts_with('A'), "{}", ticket.number);
    let counter_entry = at_counter.entry.id;
    wait_for(&recorder, "ticket called", |e| {
        matches!(e, Event::TicketUpdated { entry_id, state: TicketState::Called, position: 0, .. }
            if *entry_id == counter_entry)
    })
    .await;
    let called = checkins.entry(counter_entry).await.unwrap().ticket.unwrap();
    assert_eq!(called.state, TicketState::Called);
    assert!(called.counter.is_some());

    // The portal publishes a notice for the venue; the phone downloads every notice and finds
    // the match itself. The download names no venue and no entry.
    let notices_before = portal.sandbox.requests_for("/v1/checkins/notices").unwrap();
    portal
        .sandbox
        .notify(&NotifyRequest {
            venue_id: "clinic-3".into(),
            from: now() - 600,
            until: now() + 600,
            message: "Bạn đã ở cùng địa điểm với một ca bệnh; hãy theo dõi sức khỏe.".into(),
        })
        .unwrap();
    portal
        .sandbox
        .notify(&NotifyRequest {
            venue_id: "counter-7".into(),
            from: now() - 7 * 86_400,
            until: now() - 6 * 86_400,
            message: "Before the citizen was there.".into(),
        })
        .unwrap();
    let synced = checkins.sync_notices().await.unwrap();
    assert_eq!(synced.new_notices, 2);
    assert_eq!(synced.refused_notices, 0);
    assert_eq!(synced.new_matches, 1, "only the overlapping visit matches");
    let matches = checkins.matches().await.unwrap();
    assert_eq!(matches.len(), 1);
    assert_eq!(matches[0].entry_id, first.entry.id);
    assert!(matches[0].message.contains("theo dõi sức khỏe"));
    wait_for(
        &recorder,
        "exposure matched",
        |e| matches!(e, Event::ExposureMatched { match_id } if *match_id == matches[0].id),
    )
    .await;
    assert!(portal.sandbox.requests_for("/v1/checkins/notices").unwrap() > notices_before);
    // Nothing new: downloading again adds nothing.
    let again = checkins.sync_notices().await.unwrap();
    assert_eq!((again.new_notices, again.new_matches), (0, 0));
    assert_eq!(checkins.matches().await.unwrap().len(), 1);

    // Nothing from the diary reached the portal so far; then the citizen shares one entry.
    assert!(portal.sandbox.shares().unwrap().is_empty());
    let receipt = checkins
        .share(vec![first.entry.id], &venue.agency)
        .await
        .unwrap();
    assert_eq!(receipt.received, 1);
    let shares = portal.sandbox.shares().unwrap();
    assert_eq!(shares.len(), 1);
    assert_eq!(shares[0].request.entries.len(), 1);
    assert_eq!(shares[0].request.entries[0].venue_id, "clinic-3");
    assert_eq!(
        shares[0].request.entries[0].checked_in_at,
        first.entry.checked_in_at
    );

    // Check-out by hand; hide, export, delete.
    let out = checkins.check_out(first.entry.id).await.unwrap();
    assert!(matches!(out.checked_out, Some(CheckOut::Manual { .. })));
    checkins.set_hidden(counter_entry, true).await.unwrap();
    assert_eq!(
        checkins
            .entries(None, 50, false)
            .await
            .unwrap()
            .entries
            .len(),
        1
    );
    assert_eq!(
        checkins
            .entries(None, 50, true)
            .await
            .unwrap()
            .entries
            .len(),
        2
    );
    let export: serde_json::Value =
        serde_json::from_str(&checkins.export_json().await.unwrap()).unwrap();
    let exported = export.to_string();
    assert!(exported.contains("clinic-3") && exported.contains("counter-7"));
    checkins.delete(counter_entry).await.unwrap();
    assert!(matches!(
        checkins.entry(counter_entry).await,
        Err(CheckInError::NotFound)
    ));

    // sync_now runs the purge and the notices download too.
    assert!(
        citizen
            .sync_now(Duration::from_secs(20))
            .await
            .unwrap()
            .completed
    );

    // The diary is in the encrypted store: no venue name or notice text on disk.
    drop(checkins);
    drop(citizen);
    for needle in ["Phòng khám", "clinic-3", "theo dõi sức khỏe"] {
        assert!(
            files_containing(dir.path(), needle).is_empty(),
            "{needle} in plaintext"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_the_trust_list_does_not_vouch_for_are_refused_and_nothing_is_recorded() {
    let portal = start_portal("check-in attacks").await;
    let elsewhere = start_portal("another portal").await;
    let dir = tempfile::tempdir().unwrap();
    let (citizen, _recorder, _subscription) = citizen(&portal, dir.path()).await;
    let checkins = citizen.checkins();

    // The same agency id, but signed by another portal's venue key: not in this trust list.
    let foreign = mint(&elsewhere, "clinic-3", VenueKind::Venue);
    assert!(matches!(
        checkins.check_in(&foreign.code).await,
        Err(CheckInError::Code(VenueCodeError::UnknownKey))
    ));

    // One character of the signed data changed (inside the Base45), and a truncated code.
    let good = mint(&portal, "clinic-3", VenueKind::Venue);
    let cut = &good.code[..good.code.len() - 6];
    assert!(matches!(
        checkins.check_in(cut).await,
        Err(CheckInError::Code(VenueCodeError::Unreadable(_)))
    ));
    let body = &good.code[4..];
    let mut tampered = None;
    for (index, c) in body.char_indices().skip(body.len() / 2) {
        let replacement = if c == '0' { '1' } else { '0' };
        let candidate = format!("CK1:{}{replacement}{}", &body[..index], &body[index + 1..]);
        if let Err(error) = checkins.check_in(&candidate).await {
            tampered = Some(error);
            break;
        }
    }
    assert!(
        matches!(tampered, Some(CheckInError::Code(_))),
        "{tampered:?}"
    );

    // A code made before a key rotation still verifies (its key was valid when it was minted);
    // a code of a key the trust list has not learnt yet does not, until the list is refreshed.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    portal.sandbox.rotate_venue_key().unwrap();
    let after_rotation = mint(&portal, "clinic-4", VenueKind::Venue);
    assert!(matches!(
        checkins.check_in(&after_rotation.code).await,
        Err(CheckInError::Code(VenueCodeError::UnknownKey))
    ));
    checkins.check_in(&good.code).await.unwrap();
    citizen.refresh_trust_list().await.unwrap();
    checkins.check_in(&after_rotation.code).await.unwrap();

    let page = checkins.entries(None, 50, true).await.unwrap();
    let venues: Vec<&str> = page.entries.iter().map(|e| e.venue_id.as_str()).collect();
    assert_eq!(venues.len(), 2, "{venues:?}");
    assert!(venues.contains(&"clinic-3") && venues.contains(&"clinic-4"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_a_counter_check_in_is_recorded_and_its_ticket_fails_as_retryable() {
    let portal = start_portal("offline counter").await;
    let dir = tempfile::tempdir().unwrap();
    let (citizen, _recorder, _subscription) = citizen(&portal, dir.path()).await;
    let checkins = citizen.checkins();
    let counter = mint(&portal, "counter-1", VenueKind::ServiceCounter);
    let venue = mint(&portal, "hall-1", VenueKind::Event);
    portal.sandbox.shutdown();
    tokio::time::sleep(Duration::from_millis(1_500)).await;

    // Verified offline against the cached list; the ticket needs the network.
    let result = checkins.check_in(&counter.code).await.unwrap();
    match result.ticket {
        Some(Err(error)) => {
            assert!(matches!(error, CheckInError::Net(_)), "{error:?}");
            assert!(error.is_retryable(), "{error:?}");
        }
        other => panic!("expected a network failure, got {other:?}"),
    }
    let again = checkins.request_ticket(result.entry.id).await.unwrap_err();
    assert!(matches!(again, CheckInError::Net(_)) && again.is_retryable());
    assert!(
        checkins
            .entry(result.entry.id)
            .await
            .unwrap()
            .ticket
            .is_none()
    );
    // A venue needs no network at all, and a notices download offline is a network error.
    assert!(
        checkins
            .check_in(&venue.code)
            .await
            .unwrap()
            .ticket
            .is_none()
    );
    assert!(matches!(
        checkins.sync_notices().await,
        Err(CheckInError::Net(NetError::Unreachable | NetError::Timeout))
    ));
    assert_eq!(
        checkins
            .entries(None, 10, false)
            .await
            .unwrap()
            .entries
            .len(),
        2
    );
    // Retention: past it, the core purges the entries itself.
    let purged = checkins
        .purge_expired(now() + i64::from(checkins.retention_days()) * 86_400 + 4_000)
        .await
        .unwrap();
    assert_eq!(purged, 2);
    assert!(
        checkins
            .entries(None, 10, true)
            .await
            .unwrap()
            .entries
            .is_empty()
    );
}

/// The retention promise is kept by the core, not left to the app: an entry past the retention
/// is gone once the SDK opens, and one that passes it while the SDK is open goes at the next
/// `sync_now` (which purges even when the portal cannot be reached). The entries are aged in the
/// store itself, closed, since the diary only records check-ins at the present time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_core_purges_the_diary_at_open_and_at_each_sync_without_the_app_asking() {
    let portal = start_portal("retention").await;
    let dir = tempfile::tempdir().unwrap();
    let venue = mint(&portal, "hall-2", VenueKind::Venue);
    let (citizen, _recorder, subscription) = citizen(&portal, dir.path()).await;
    let retention = i64::from(citizen.checkins().retention_days()) * 86_400;
    assert_eq!(retention, 14 * 86_400, "the default retention");
    citizen.checkins().check_in(&venue.code).await.unwrap();
    drop(subscription);
    drop(citizen);

    // Closed: the entry is aged one hour past the retention, and a second entry of the same
    // venue is put `MARGIN` seconds short of it.
    const MARGIN: i64 = 5;
    let store = open_store_when_released(dir.path()).await;
    store
        .write(move |tx| {
            let now = now();
            let aged = tx.execute(
                "UPDATE checkin_diary SET checked_in_at = ?1, auto_checkout_at = ?1 + 3600",
                [now - retention - 3_600],
            )?;
            assert_eq!(aged, 1);
            tx.execute(
                "INSERT INTO checkin_diary (venue, code_id, checked_in_at, auto_checkout_at,
                     ticket_key)
                 SELECT venue, X'0102030405060708', ?1, ?1 + 3600, 'retention-test'
                 FROM checkin_diary",
                [now - retention + MARGIN],
            )?;
            Ok::<_, citizen_core::StoreError>(())
        })
        .await
        .unwrap();
    drop(store);

    // Open: the entry past the retention is gone, the other is kept.
    let citizen = open(anchored_config(&portal, dir.path())).await.unwrap();
    let checkins = citizen.checkins();
    let kept = checkins.entries(None, 10, true).await.unwrap().entries;
    assert_eq!(kept.len(), 1, "purged at open");
    assert!(kept[0].checked_in_at > now() - retention);

    // Open, once the second entry has passed the retention too: `sync_now` purges it, with the
    // portal gone (the purge is local).
    portal.sandbox.shutdown();
    tokio::time::sleep(Duration::from_secs(MARGIN as u64 + 1)).await;
    let _ = citizen.sync_now(Duration::from_secs(10)).await;
    assert!(
        checkins
            .entries(None, 10, true)
            .await
            .unwrap()
            .entries
            .is_empty(),
        "purged at sync"
    );
}

/// The store of `dir` on its own, once the dropped `Citizen` has let go of its lock.
async fn open_store_when_released(dir: &std::path::Path) -> citizen_core::Store {
    let sealer = Arc::new(citizen_core::SoftwareSealer::in_dir(dir));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match citizen_core::Store::open(dir, sealer.clone()).await {
            Ok(store) => return store,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("the store stays locked: {error}"),
        }
    }
}

/// An agency's tool checks the codes it prints with its own key, without a trust list: the
/// sandbox, minting as the agency, says which key it signed with.
#[tokio::test]
async fn an_agency_tool_verifies_its_printed_code_with_its_own_key() {
    use citizen_core::checkin::venue_code;
    use citizen_core::jose::EcPublicJwk;
    let portal = start_portal("agency tool").await;
    let minted = mint(&portal, "door-1", VenueKind::Venue);
    let key =
        EcPublicJwk::from_value(minted.signer_jwk.as_ref().expect("the signer's key")).unwrap();
    assert!(minted.signer_kid.is_some());
    let code = venue_code::verify_with_key(&minted.code, &key, now()).unwrap();
    assert_eq!(
        (code.agency.as_str(), code.venue_id.as_str()),
        (minted.agency.as_str(), "door-1")
    );
    assert_eq!(code.kind, VenueKind::Venue);
    let stranger = citizen_core::jose::SoftwareSigner::generate().unwrap();
    assert_eq!(
        venue_code::verify_with_key(&minted.code, stranger.public_key(), now()),
        Err(VenueCodeError::BadSignature)
    );
}
