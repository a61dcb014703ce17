//! The check-in capability's online flows against a scripted HTTPS portal (tls_server): the
//! notices download (cursor, `more`, `304`, a forged notice skipped, matching and events), the
//! queue ticket (request, polling until called, events, the watcher stopping with the
//! `Citizen`), and an explicit share. The sandbox's own end-to-end tests come with its side.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use citizen_core::checkin::wire::{ExposureNotice, NoticesPage, ShareReceipt, Ticket};
use citizen_core::checkin::{TicketState, VenueCode, VenueKind, notice, venue_code};
use citizen_core::jose::SoftwareSigner;
use citizen_core::trust_list::{TrustAnchor, TrustList, TrustedKey, VenueSigner};
use citizen_core::{Citizen, Event, Subscription};
use citizen_e2e::tls_server::{Ca, Responder, TlsServer, http_response};
use citizen_e2e::*;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

struct Keys {
    anchor: SoftwareSigner,
    venue: SoftwareSigner,
}

fn trust_list_jws(keys: &Keys) -> String {
    let now = now();
    TrustList {
        iss: "https://portal.example/".into(),
        iat: now - 10,
        exp: now + 86_400,
        sequence: 1,
        max_age: 86_400,
        issuers: vec![],
        relying_parties: vec![],
        venue_signers: vec![VenueSigner {
            agency: "health-dept".into(),
            display_name: "Department of Health".into(),
            keys: vec![TrustedKey {
                kid: "venue-1".into(),
                jwk: keys.venue.public_key().clone(),
                not_before: None,
                not_after: None,
            }],
        }],
        health_signers: vec![],
        origins: vec![],
    }
    .sign(&keys.anchor, "anchor-1")
    .unwrap()
}

/// A `200` JSON answer.
macro_rules! json {
    ($value:expr) => {
        http_response(
            "200 OK",
            &[("content-type", "application/json")],
            &serde_json::to_vec(&$value).unwrap(),
        )
    };
}

fn code(kind: VenueKind, id: u8) -> VenueCode {
    let now = now();
    VenueCode {
        agency: "health-dept".into(),
        venue_id: "clinic-7".into(),
        name: "Clinic 7".into(),
        address: String::new(),
        kind,
        auto_checkout_secs: 3600,
        not_before: now - 60,
        expires_at: now + 86_400,
        issued_at: now - 60,
        code_id: vec![id; 16],
    }
}

/// A `Citizen` of `server` with its trust list fetched, and a recorder of its events.
async fn open_against(
    server: &TlsServer,
    ca: &Ca,
    keys: &Keys,
    dir: &std::path::Path,
) -> (Citizen, Arc<Recorder>, Subscription) {
    let mut config = citizen_core::CitizenConfig::new(dir, &server.base_url);
    config.trusted_roots_pem = vec![ca.pem.clone()];
    config.portal_spki_pins = vec![ca.pin.clone()];
    config.trust_anchors = vec![TrustAnchor {
        kid: "anchor-1".into(),
        jwk: keys.anchor.public_key().clone(),
    }];
    let citizen = open(config).await.unwrap();
    citizen.refresh_trust_list().await.unwrap();
    let recorder = Arc::new(Recorder::default());
    let subscription = citizen.subscribe(recorder.clone());
    (citizen, recorder, subscription)
}

async fn start(respond: Responder) -> (Ca, TlsServer) {
    let ca = Ca::root("scripted portal CA");
    let leaf = ca.leaf();
    let server = TlsServer::start(vec![leaf.der.clone()], &leaf, respond).await;
    (ca, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_are_downloaded_page_by_page_verified_matched_and_announced() {
    let keys = Keys {
        anchor: SoftwareSigner::generate().unwrap(),
        venue: SoftwareSigner::generate().unwrap(),
    };
    let list = trust_list_jws(&keys);
    let now = now();
    let notice = |id: &str| ExposureNotice {
        id: id.into(),
        agency: "health-dept".into(),
        venue_id: "clinic-7".into(),
        from: now - 600,
        until: now + 600,
        message: "Please get tested.".into(),
        iat: now - 5,
    };
    let first = notice::sign_notice(&notice("n-1"), "venue-1", &keys.venue).unwrap();
    let forged = notice::sign_notice(
        &notice("n-forged"),
        "venue-1",
        &SoftwareSigner::generate().unwrap(),
    )
    .unwrap();
    let second = notice::sign_notice(&notice("n-2"), "venue-1", &keys.venue).unwrap();
    let requests = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = requests.clone();
    let (ca, server) = start(Arc::new(move |line: &str| {
        seen.lock().unwrap().push(line.to_string());
        let path = line.split(' ').nth(1).unwrap_or_default();
        match path {
            "/v1/trust-list" => http_response("200 OK", &[], list.as_bytes()),
            "/v1/checkins/notices" => json!(NoticesPage {
                notices: vec![first.clone(), forged.clone()],
                cursor: "c1".into(),
                more: true,
            }),
            "/v1/checkins/notices?since=c1" => http_response(
                "200 OK",
                &[("content-type", "application/json"), ("etag", "\"e2\"")],
                &serde_json::to_vec(&NoticesPage {
                    notices: vec![second.clone()],
                    cursor: "c2".into(),
                    more: false,
                })
                .unwrap(),
            ),
            "/v1/checkins/notices?since=c2" => http_response("304 Not Modified", &[], b""),
            _ => http_response("404 Not Found", &[], b""),
        }
    }))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (citizen, recorder, _subscription) = open_against(&server, &ca, &keys, dir.path()).await;
    let checkins = citizen.checkins();
    let text = venue_code::mint(&code(VenueKind::Venue, 1), "venue-1", &keys.venue).unwrap();
    let entry = checkins.check_in(&text).await.unwrap().entry;
    assert!(matches!(recorder.events()[..], [Event::CheckedIn { .. }]));

    let report = checkins.sync_notices().await.unwrap();
    assert_eq!(report.pages, 2);
    assert_eq!(report.new_notices, 2);
    assert_eq!(report.refused_notices, 1, "the forged notice is skipped");
    assert_eq!(report.new_matches, 2);
    assert!(!report.more);
    let matches = checkins.matches().await.unwrap();
    assert_eq!(matches.len(), 2);
    assert!(matches.iter().all(|m| m.entry_id == entry.id));
    let announced = recorder
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::ExposureMatched { .. }))
        .count();
    assert_eq!(announced, 2);

    // Next time the stored cursor is sent (with the ETag) and `304` changes nothing.
    let again = checkins.sync_notices().await.unwrap();
    assert_eq!(again.pages, 0);
    assert_eq!(checkins.matches().await.unwrap().len(), 2);
    let lines = requests.lock().unwrap().clone();
    let notice_lines: Vec<&String> = lines.iter().filter(|l| l.contains("notices")).collect();
    assert_eq!(notice_lines.len(), 3);
    assert!(notice_lines[2].contains("since=c2"));
    // The download named no entry, venue or citizen: only the cursor.
    assert!(lines.iter().all(|l| !l.contains("clinic-7")));

    // sync_now runs the same download (and the purge).
    let report = citizen.sync_now(Duration::from_secs(10)).await.unwrap();
    assert!(report.completed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counter_ticket_is_requested_polled_until_called_and_the_watcher_stops_with_the_citizen()
{
    let keys = Keys {
        anchor: SoftwareSigner::generate().unwrap(),
        venue: SoftwareSigner::generate().unwrap(),
    };
    let list = trust_list_jws(&keys);
    let polls = Arc::new(AtomicUsize::new(0));
    let counted = polls.clone();
    let ticket = |position: u32, state: TicketState| Ticket {
        ticket_id: "t-1".into(),
        number: "A023".into(),
        position,
        state,
        counter: (state == TicketState::Called).then(|| "Counter 4".to_string()),
        poll_after: 1,
    };
    let (ca, server) = start(Arc::new(move |line: &str| {
        let path = line.split(' ').nth(1).unwrap_or_default();
        match (line.split(' ').next().unwrap_or_default(), path) {
            (_, "/v1/trust-list") => http_response("200 OK", &[], list.as_bytes()),
            ("POST", "/v1/checkins/tickets") => json!(ticket(2, TicketState::Waiting)),
            ("GET", "/v1/checkins/tickets/t-1") => {
                match counted.fetch_add(1, Ordering::SeqCst) {
                    0 => json!(ticket(1, TicketState::Waiting)),
                    // The same answer again is no change: no event.
                    1 => json!(ticket(1, TicketState::Waiting)),
                    _ => json!(ticket(0, TicketState::Called)),
                }
            }
            ("POST", "/v1/checkins/shares") => json!(ShareReceipt {
                share_id: "s-1".into(),
                received: 1,
            }),
            _ => http_response("404 Not Found", &[], b""),
        }
    }))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (citizen, recorder, _subscription) = open_against(&server, &ca, &keys, dir.path()).await;
    let checkins = citizen.checkins();
    let text =
        venue_code::mint(&code(VenueKind::ServiceCounter, 2), "venue-1", &keys.venue).unwrap();
    let result = checkins.check_in(&text).await.unwrap();
    let ticket_now = result.ticket.unwrap().unwrap();
    assert_eq!(ticket_now.number, "A023");
    assert_eq!(ticket_now.position, 2);
    assert_eq!(result.entry.ticket.as_ref().unwrap().position, 2);
    let entry_id = result.entry.id;

    // The watcher polls every second until the ticket is called.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let called = recorder.events().iter().any(|e| {
            matches!(
                e,
                Event::TicketUpdated {
                    state: TicketState::Called,
                    ..
                }
            )
        });
        if called {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the ticket was never called"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let updates: Vec<(u32, TicketState)> = recorder
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::TicketUpdated {
                entry_id: id,
                position,
                state,
                ..
            } if id == entry_id => Some((position, state)),
            _ => None,
        })
        .collect();
    assert_eq!(
        updates,
        vec![
            (2, TicketState::Waiting),
            (1, TicketState::Waiting),
            (0, TicketState::Called)
        ]
    );
    let stored = checkins.entry(entry_id).await.unwrap().ticket.unwrap();
    assert_eq!(stored.counter.as_deref(), Some("Counter 4"));
    // Called is final: no more polls.
    let polled = polls.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(polls.load(Ordering::SeqCst), polled);

    // An explicit share, the one way diary data leaves the phone.
    let receipt = checkins.share(vec![entry_id], "health-dept").await.unwrap();
    assert_eq!(receipt.received, 1);

    // A second counter ticket whose watcher must stop once the Citizen is gone.
    drop(checkins);
    let text =
        venue_code::mint(&code(VenueKind::ServiceCounter, 3), "venue-1", &keys.venue).unwrap();
    let checkins = citizen.checkins();
    checkins.check_in(&text).await.unwrap();
    drop(checkins);
    drop(citizen);
    let after_drop = polls.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(polls.load(Ordering::SeqCst), after_drop);

    // Opened again, the SDK watches the waiting ticket again until it is called.
    let (citizen, recorder, _subscription) = open_against(&server, &ca, &keys, dir.path()).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !recorder.events().iter().any(|e| {
        matches!(e, Event::TicketUpdated { entry_id: id, state: TicketState::Called, .. }
            if *id != entry_id)
    }) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the waiting ticket was not watched after reopening"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(polls.load(Ordering::SeqCst) > after_drop);
    drop(citizen);
}
