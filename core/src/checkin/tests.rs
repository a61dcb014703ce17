//! The check-in flows and the diary against the real SQLCipher store, with a trust list holding
//! two agencies' venue signers. The portal is unreachable here (the network flows' offline
//! behaviour); their online half runs end to end against the sandbox.

use std::sync::Arc;

use super::venue_code::tests::{Agencies, agencies_at, code_at};
use super::*;
use crate::config::CitizenConfig;
use crate::events::EventListener;
use crate::jose::SoftwareSigner;
use crate::platform::SoftwareSealer;
use crate::store::meta;
use crate::trust_list::TrustAnchor;
use wire::ExposureNotice;

#[derive(Default)]
struct Recorder(Mutex<Vec<Event>>);

impl EventListener for Recorder {
    fn on_event(&self, event: Event) {
        self.0.lock().unwrap().push(event);
    }
}

impl Recorder {
    fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    checkins: CheckIns,
    agencies: Agencies,
    events: Arc<Recorder>,
    _subscription: crate::events::Subscription,
    now: i64,
}

/// A store, a trust list (cached as the trust cache loads it) and an unreachable portal.
async fn setup(retention_days: u32) -> Setup {
    let now = crate::unix_now();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        Store::open(dir.path(), Arc::new(SoftwareSealer::in_dir(dir.path())))
            .await
            .unwrap(),
    );
    let anchor = SoftwareSigner::generate().unwrap();
    let agencies = agencies_at(now);
    let jws = agencies.list.sign(&anchor, "anchor-1").unwrap();
    store
        .write(move |tx| {
            meta::set(tx, "trust_list.jws", &jws)?;
            meta::set(tx, "trust_list.fetched_at", &now.to_string())
        })
        .await
        .unwrap();
    // Port 9 on localhost: nothing listens, so every request is `Unreachable`.
    let mut config = CitizenConfig::new(dir.path(), "https://127.0.0.1:9/");
    config.allow_unpinned = true;
    config.request_timeout = Duration::from_secs(2);
    config.trust_anchors = vec![TrustAnchor {
        kid: "anchor-1".into(),
        jwk: anchor.public_key().clone(),
    }];
    let http = HttpClient::new(&config).unwrap();
    let trust = Arc::new(TrustCache::load(&store, &http, &config, now).await.unwrap());
    assert!(trust.usable(now).is_ok(), "the test trust list is in use");
    let bus = Arc::new(EventBus::default());
    let events = Arc::new(Recorder::default());
    let subscription = bus.subscribe(events.clone());
    let checkins = CheckIns::new(store.clone(), http, bus, trust, retention_days);
    Setup {
        _dir: dir,
        store,
        checkins,
        agencies,
        events,
        _subscription: subscription,
        now,
    }
}

fn mint(setup: &Setup, code: &VenueCode) -> String {
    venue_code::mint(code, "venue-health-1", &setup.agencies.health).unwrap()
}

#[tokio::test]
async fn a_check_in_is_verified_recorded_announced_and_deduplicated() {
    let s = setup(14).await;
    let code = code_at(VenueKind::Venue, s.now);
    let text = mint(&s, &code);
    let first = s.checkins.check_in(&text).await.unwrap();
    assert!(!first.duplicate);
    assert!(first.ticket.is_none(), "no ticket at a plain venue");
    let entry = &first.entry;
    assert_eq!(entry.venue_id, "clinic-7");
    assert_eq!(entry.venue_name, code.name);
    assert_eq!(entry.agency, "health-dept");
    assert_eq!(entry.auto_checkout_at, entry.checked_in_at + 4 * 3600);
    assert!(entry.is_open());
    assert_eq!(
        s.events.take(),
        vec![Event::CheckedIn { entry_id: entry.id }]
    );

    // The same code again while the entry is open: the same entry, no event.
    let again = s.checkins.check_in(&text).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.entry.id, entry.id);
    assert!(s.events.take().is_empty());
    let page = s.checkins.entries(None, 50, false).await.unwrap();
    assert_eq!(page.entries.len(), 1);

    // Another code of the same venue is another entry.
    let mut other = code.clone();
    other.code_id = vec![8; 16];
    let second = s.checkins.check_in(&mint(&s, &other)).await.unwrap();
    assert!(!second.duplicate);
    assert_ne!(second.entry.id, entry.id);

    // Checked out by hand: scanning the first code again starts a new entry.
    let out = s.checkins.check_out(entry.id).await.unwrap();
    assert!(matches!(out.checked_out, Some(CheckOut::Manual { .. })));
    let again = s.checkins.check_in(&text).await.unwrap();
    assert!(!again.duplicate);
    assert_ne!(again.entry.id, entry.id);
    // Checking out twice changes nothing and announces nothing more.
    s.events.take();
    let twice = s.checkins.check_out(entry.id).await.unwrap();
    assert_eq!(twice.checked_out, out.checked_out);
    assert!(s.events.take().is_empty());
    assert!(matches!(
        s.checkins.check_out(999_999).await,
        Err(CheckInError::NotFound)
    ));
}

#[tokio::test]
async fn refused_codes_leave_no_entry() {
    let s = setup(14).await;
    let good = code_at(VenueKind::Venue, s.now);
    let stranger = SoftwareSigner::generate().unwrap();
    let mut expired = good.clone();
    expired.not_before = s.now - 86_400 * 2;
    expired.issued_at = expired.not_before;
    expired.expires_at = s.now - 86_400;
    let cases = [
        (
            venue_code::mint(&good, "venue-evil-1", &stranger).unwrap(),
            VenueCodeError::UnknownKey,
        ),
        (
            venue_code::mint(&good, "venue-health-1", &stranger).unwrap(),
            VenueCodeError::BadSignature,
        ),
        (
            venue_code::mint(&good, "venue-transport-1", &s.agencies.transport).unwrap(),
            VenueCodeError::WrongAgency,
        ),
        // Replayed after its validity window.
        (mint(&s, &expired), VenueCodeError::Expired),
    ];
    for (text, expected) in cases {
        match s.checkins.check_in(&text).await {
            Err(CheckInError::Code(error)) => assert_eq!(error, expected),
            other => panic!("expected {expected:?}, got {other:?}"),
        }
    }
    // Tampered: a signature byte flipped inside an otherwise valid code.
    let text = mint(&s, &good);
    let mut tampered: Vec<char> = text.chars().collect();
    let last = tampered.len() - 3;
    tampered[last] = if tampered[last] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    assert!(matches!(
        s.checkins.check_in(&tampered).await,
        Err(CheckInError::Code(_))
    ));
    assert!(matches!(
        s.checkins.check_in("not a code").await,
        Err(CheckInError::Code(VenueCodeError::Unreadable(_)))
    ));
    let page = s.checkins.entries(None, 50, true).await.unwrap();
    assert!(page.entries.is_empty());
    assert!(s.events.take().is_empty());
}

#[tokio::test]
async fn automatic_check_out_is_computed_when_entries_are_read() {
    let s = setup(14).await;
    let code = code_at(VenueKind::Event, s.now);
    let entry_id = s
        .store
        .write(move |tx| diary::check_in(tx, &code, "key", 1_000))
        .await
        .unwrap()
        .entry
        .id;
    let at = |now: i64| {
        let store = s.store.clone();
        async move {
            store
                .read(move |c| diary::entry(c, entry_id, now))
                .await
                .unwrap()
                .unwrap()
        }
    };
    let auto = 1_000 + 4 * 3600;
    assert_eq!(at(auto - 1).await.checked_out, None);
    assert_eq!(
        at(auto).await.checked_out,
        Some(CheckOut::Automatic { at: auto })
    );
    // Past the automatic time a check-out by hand changes nothing.
    let changed = s
        .store
        .write(move |tx| diary::check_out(tx, entry_id, auto + 10))
        .await
        .unwrap()
        .unwrap();
    assert!(!changed.1);
    assert_eq!(
        changed.0.checked_out,
        Some(CheckOut::Automatic { at: auto })
    );
    // The dedupe window ends with the automatic check-out: the same code makes a new entry.
    let code = code_at(VenueKind::Event, s.now);
    let recorded = s
        .store
        .write(move |tx| diary::check_in(tx, &code, "key2", auto))
        .await
        .unwrap();
    assert!(recorded.new);
    let code = code_at(VenueKind::Event, s.now);
    let within = s
        .store
        .write(move |tx| diary::check_in(tx, &code, "key3", auto + 5))
        .await
        .unwrap();
    assert!(!within.new);
    assert_eq!(within.entry.id, recorded.entry.id);
}

#[tokio::test]
async fn the_citizen_can_hide_delete_page_and_export() {
    let s = setup(14).await;
    let mut ids = Vec::new();
    for i in 0..7u8 {
        let mut code = code_at(VenueKind::Venue, s.now);
        code.code_id = vec![i + 1; 16];
        code.venue_id = format!("venue-{i}");
        let at = 10_000 + i64::from(i / 2); // several share a second
        ids.push(
            s.store
                .write(move |tx| diary::check_in(tx, &code, "k", at))
                .await
                .unwrap()
                .entry
                .id,
        );
    }
    s.checkins.set_hidden(ids[0], true).await.unwrap();
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = s.checkins.entries(cursor, 2, false).await.unwrap();
        assert!(page.entries.len() <= 2);
        seen.extend(page.entries.iter().map(|e| e.id));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut expected: Vec<i64> = ids[1..].to_vec();
    expected.reverse();
    assert_eq!(seen, expected, "newest first, hidden left out, each once");
    let all = s.checkins.entries(None, 100, true).await.unwrap();
    assert_eq!(all.entries.len(), 7);
    assert!(all.entries.iter().any(|e| e.id == ids[0] && e.hidden));
    s.checkins.set_hidden(ids[0], false).await.unwrap();
    assert_eq!(
        s.checkins
            .entries(None, 100, false)
            .await
            .unwrap()
            .entries
            .len(),
        7
    );

    s.checkins.delete(ids[3]).await.unwrap();
    assert!(matches!(
        s.checkins.delete(ids[3]).await,
        Err(CheckInError::NotFound)
    ));
    assert!(matches!(
        s.checkins.set_hidden(ids[3], true).await,
        Err(CheckInError::NotFound)
    ));
    let json = s.checkins.export_json().await.unwrap();
    let exported: serde_json::Value = serde_json::from_str(&json).unwrap();
    let entries = exported["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 6);
    assert_eq!(entries[0]["venue_id"], "venue-0");
    assert_eq!(entries[0]["kind"], "venue");
    assert_eq!(entries[0]["venue_name"], "Trạm y tế phường 7");
    assert!(entries[0]["checked_out"]["by"] == "automatic");
    assert!(json.contains("exposure_matches"));
}

#[tokio::test]
async fn entries_past_the_retention_are_purged_with_their_matches() {
    let s = setup(3).await;
    let day = 86_400;
    let now = s.now;
    for (i, age_days) in [(1u8, 5), (2, 4), (3, 2), (4, 0)] {
        let mut code = code_at(VenueKind::Venue, now);
        code.code_id = vec![i; 16];
        let at = now - age_days * day;
        s.store
            .write(move |tx| diary::check_in(tx, &code, "k", at))
            .await
            .unwrap();
    }
    // A notice matching the oldest entry, and one still running.
    let old = ExposureNotice {
        id: "n-old".into(),
        agency: "health-dept".into(),
        venue_id: "clinic-7".into(),
        from: now - 5 * day - 60,
        until: now - 5 * day + 60,
        message: "old".into(),
        iat: now - 5 * day,
    };
    let recent = ExposureNotice {
        id: "n-recent".into(),
        from: now - 2 * day - 60,
        until: now - 2 * day + 60,
        message: "recent".into(),
        ..old.clone()
    };
    let matched = s
        .store
        .write(move |tx| diary::store_notices(tx, &[old, recent], now))
        .await
        .unwrap();
    assert_eq!(matched.match_ids.len(), 2);
    assert_eq!(matched.new_notices, 2);
    assert_eq!(s.checkins.retention_days(), 3);
    assert_eq!(s.checkins.purge_expired(now).await.unwrap(), 2);
    assert_eq!(s.checkins.purge_expired(now).await.unwrap(), 0);
    let left = s.checkins.entries(None, 100, true).await.unwrap();
    assert_eq!(left.entries.len(), 2);
    assert!(
        left.entries
            .iter()
            .all(|e| e.checked_in_at >= now - 3 * day)
    );
    let matches = s.checkins.matches().await.unwrap();
    assert_eq!(matches.len(), 1);
    assert_eq!(matches[0].notice_id, "n-recent");
    assert_eq!(matches[0].message, "recent");
    let notices: i64 = s
        .store
        .read(|c| {
            Ok::<_, StoreError>(
                c.query_row("SELECT count(*) FROM checkin_notices", [], |r| r.get(0))?,
            )
        })
        .await
        .unwrap();
    assert_eq!(
        notices, 1,
        "the notice whose window ended past retention went too"
    );
}

/// The steps SQLite plans for `sql`.
async fn query_plan(store: &Store, sql: &'static str) -> Vec<String> {
    store
        .read(move |c| {
            let mut q = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
            let rows = q
                .query_map([], |r| r.get::<_, String>(3))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, StoreError>(rows)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn the_purge_and_the_dedupe_use_the_time_index() {
    let s = setup(14).await;
    let purge = query_plan(
        &s.store,
        "DELETE FROM checkin_diary WHERE checked_in_at < 5",
    )
    .await;
    // The dedupe finds open entries through the same index, not by scanning the diary, and
    // each one's venue by its id.
    let dedupe = query_plan(
        &s.store,
        "SELECT d.id, v.name FROM checkin_diary d JOIN checkin_venues v ON v.id = d.venue
         WHERE d.checked_in_at > 5 AND d.code_id = x'01' AND d.auto_checkout_at > 6
               AND d.checked_out_at IS NULL
         ORDER BY d.checked_in_at DESC, d.id DESC LIMIT 1",
    )
    .await;
    for plan in [&purge, &dedupe] {
        assert!(
            plan.iter().any(|step| step.contains("checkin_diary_time")),
            "{plan:?}"
        );
    }
    assert!(
        dedupe
            .iter()
            .any(|step| step.contains("SEARCH v USING INTEGER PRIMARY KEY")),
        "{dedupe:?}"
    );
}

/// The venue names stored, oldest row first.
async fn venue_names(store: &Store) -> Vec<String> {
    store
        .read(|c| {
            let mut q = c.prepare("SELECT name FROM checkin_venues ORDER BY id")?;
            let names = q
                .query_map([], |r| r.get(0))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, StoreError>(names)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn a_venue_is_stored_once_and_goes_with_its_last_entry() {
    let s = setup(3).await;
    let day = 86_400;
    let now = s.now;
    // Three visits to clinic-7 under its first name (two of them past the retention), one after
    // it was renamed, one at another venue.
    let mut visits = Vec::new();
    for (i, age_days, venue_id, name) in [
        (1u8, 5, "clinic-7", "Trạm y tế"),
        (2, 4, "clinic-7", "Trạm y tế"),
        (3, 2, "clinic-7", "Trạm y tế"),
        (4, 1, "clinic-7", "Trạm y tế phường 7"),
        (5, 1, "clinic-9", "Phòng khám 9"),
    ] {
        let mut code = code_at(VenueKind::Venue, now);
        code.code_id = vec![i; 16];
        code.venue_id = venue_id.into();
        code.name = name.into();
        let at = now - age_days * day;
        let entry = s
            .store
            .write(move |tx| diary::check_in(tx, &code, "k", at))
            .await
            .unwrap()
            .entry;
        assert_eq!(
            (entry.venue_id.as_str(), entry.venue_name.as_str()),
            (venue_id, name)
        );
        visits.push(entry.id);
    }
    assert_eq!(
        venue_names(&s.store).await,
        ["Trạm y tế", "Trạm y tế phường 7", "Phòng khám 9"],
        "one row per venue as its codes state it"
    );

    // Deleting the only visit to clinic-9 deletes its venue; the renamed clinic keeps its row.
    s.checkins.delete(visits[4]).await.unwrap();
    assert_eq!(
        venue_names(&s.store).await,
        ["Trạm y tế", "Trạm y tế phường 7"]
    );
    // The purge takes the two oldest visits; their venue still has a visit within retention.
    assert_eq!(s.checkins.purge_expired(now).await.unwrap(), 2);
    assert_eq!(
        venue_names(&s.store).await,
        ["Trạm y tế", "Trạm y tế phường 7"]
    );
    // Two days later the last visit under the first name is purged, and the name with it.
    assert_eq!(s.checkins.purge_expired(now + 2 * day).await.unwrap(), 1);
    assert_eq!(venue_names(&s.store).await, ["Trạm y tế phường 7"]);
    let left = s.checkins.entries(None, 100, true).await.unwrap().entries;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].venue_name, "Trạm y tế phường 7");
    // A new visit under the first name stores it again.
    let mut code = code_at(VenueKind::Venue, now);
    code.code_id = vec![6; 16];
    code.name = "Trạm y tế".into();
    s.store
        .write(move |tx| diary::check_in(tx, &code, "k", now))
        .await
        .unwrap();
    assert_eq!(
        venue_names(&s.store).await,
        ["Trạm y tế phường 7", "Trạm y tế"]
    );
}

#[tokio::test]
async fn notices_stored_later_and_check_ins_after_a_notice_both_match() {
    let s = setup(14).await;
    let now = s.now;
    let code = code_at(VenueKind::Venue, now);
    let first = s.checkins.check_in(&mint(&s, &code)).await.unwrap().entry;
    s.events.take();
    // A notice covering the running stay.
    let notice = ExposureNotice {
        id: "n-1".into(),
        agency: "health-dept".into(),
        venue_id: "clinic-7".into(),
        from: now - 600,
        until: now + 3600,
        message: "Please get tested.".into(),
        iat: now - 10,
    };
    let stored = notice.clone();
    let ids = s
        .store
        .write(move |tx| diary::store_notices(tx, &[stored.clone(), stored], now))
        .await
        .unwrap();
    assert_eq!(ids.new_notices, 1, "a repeated notice is stored once");
    assert_eq!(ids.match_ids.len(), 1, "and matches once");
    // A check-in at the same venue after the notice arrived matches at once.
    let mut later = code.clone();
    later.code_id = vec![9; 16];
    let second = s.checkins.check_in(&mint(&s, &later)).await.unwrap().entry;
    let events = s.events.take();
    assert_eq!(
        events[0],
        Event::CheckedIn {
            entry_id: second.id
        }
    );
    assert!(matches!(events[1], Event::ExposureMatched { .. }));
    let matches = s.checkins.matches().await.unwrap();
    let mut entries: Vec<i64> = matches.iter().map(|m| m.entry_id).collect();
    entries.sort();
    assert_eq!(entries, vec![first.id, second.id]);
    // Deleting an entry takes its match with it.
    s.checkins.delete(first.id).await.unwrap();
    assert_eq!(s.checkins.matches().await.unwrap().len(), 1);
}

#[tokio::test]
async fn offline_a_counter_check_in_is_kept_and_its_ticket_is_retryable() {
    let s = setup(14).await;
    let code = code_at(VenueKind::ServiceCounter, s.now);
    let result = s.checkins.check_in(&mint(&s, &code)).await.unwrap();
    let error = result
        .ticket
        .expect("a counter asks for a ticket")
        .unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
    assert!(matches!(error, CheckInError::Net(NetError::Unreachable)));
    let entry = s.checkins.entry(result.entry.id).await.unwrap();
    assert!(entry.ticket.is_none());
    let retry = s.checkins.request_ticket(entry.id).await.unwrap_err();
    assert!(retry.is_retryable());
    // Refreshing a ticket the entry does not have is NotFound; a venue has no tickets.
    assert!(matches!(
        s.checkins.refresh_ticket(entry.id).await,
        Err(CheckInError::NotFound)
    ));
    let venue = code_at(VenueKind::Venue, s.now);
    let venue = VenueCode {
        code_id: vec![3; 16],
        ..venue
    };
    let plain = s.checkins.check_in(&mint(&s, &venue)).await.unwrap().entry;
    assert!(matches!(
        s.checkins.request_ticket(plain.id).await,
        Err(CheckInError::NotACounter)
    ));
    // Offline, notices and shares fail as network errors and change nothing.
    assert!(s.checkins.sync_notices().await.unwrap_err().is_retryable());
    assert!(
        s.checkins
            .share(vec![entry.id], "health-dept")
            .await
            .unwrap_err()
            .is_retryable()
    );
    assert!(matches!(
        s.checkins.share(vec![entry.id], "transport-dept").await,
        Err(CheckInError::InvalidInput("entry_ids"))
    ));
    assert!(matches!(
        s.checkins.share(vec![], "health-dept").await,
        Err(CheckInError::InvalidInput("entry_ids"))
    ));
}

#[tokio::test]
async fn tickets_are_stored_and_changes_announced() {
    let s = setup(14).await;
    let code = code_at(VenueKind::ServiceCounter, s.now);
    let now = s.now;
    let entry_id = s
        .store
        .write(move |tx| diary::check_in(tx, &code, "k", now))
        .await
        .unwrap()
        .entry
        .id;
    let ticket = wire::Ticket {
        ticket_id: "t-1".into(),
        number: "A023".into(),
        position: 3,
        state: TicketState::Waiting,
        counter: None,
        poll_after: 5,
    };
    let info = s
        .checkins
        .store_ticket(entry_id, ticket.clone())
        .await
        .unwrap();
    assert_eq!(info.number, "A023");
    // The same answer again is no change: no second event.
    s.checkins
        .store_ticket(entry_id, ticket.clone())
        .await
        .unwrap();
    let called = wire::Ticket {
        position: 0,
        state: TicketState::Called,
        counter: Some("Counter 4".into()),
        ..ticket
    };
    s.checkins.store_ticket(entry_id, called).await.unwrap();
    assert_eq!(
        s.events.take(),
        vec![
            Event::TicketUpdated {
                entry_id,
                number: "A023".into(),
                position: 3,
                state: TicketState::Waiting,
            },
            Event::TicketUpdated {
                entry_id,
                number: "A023".into(),
                position: 0,
                state: TicketState::Called,
            },
        ]
    );
    // A called ticket is final: refreshing returns it without asking the portal.
    let final_ticket = s.checkins.refresh_ticket(entry_id).await.unwrap();
    assert_eq!(final_ticket.state, TicketState::Called);
    assert_eq!(final_ticket.counter.as_deref(), Some("Counter 4"));
    // And a request for an entry that has its ticket returns it.
    assert_eq!(
        s.checkins.request_ticket(entry_id).await.unwrap().state,
        TicketState::Called
    );
}

#[tokio::test]
async fn without_a_trust_list_nothing_is_checked_in() {
    let s = setup(14).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        Store::open(dir.path(), Arc::new(SoftwareSealer::in_dir(dir.path())))
            .await
            .unwrap(),
    );
    let mut config = CitizenConfig::new(dir.path(), "https://127.0.0.1:9/");
    config.allow_unpinned = true;
    let http = HttpClient::new(&config).unwrap();
    let trust = Arc::new(
        TrustCache::load(&store, &http, &config, s.now)
            .await
            .unwrap(),
    );
    let bare = CheckIns::new(store, http, Arc::new(EventBus::default()), trust, 14);
    let text = mint(&s, &code_at(VenueKind::Venue, s.now));
    assert!(matches!(
        bare.check_in(&text).await,
        Err(CheckInError::NoTrustList)
    ));
    // A text that is no venue code is unreadable, trust list or not.
    assert!(matches!(
        bare.check_in("https://example.com/").await,
        Err(CheckInError::Code(VenueCodeError::Unreadable(_)))
    ));
    assert!(matches!(
        bare.sync_notices().await,
        Err(CheckInError::NoTrustList)
    ));
}

#[test]
fn debug_of_entries_and_matches_shows_no_venue_time_or_message() {
    use super::diary::{DiaryEntry, ExposureMatch};
    let entry = DiaryEntry {
        id: 7,
        agency: "sandbox-agency".into(),
        venue_id: "clinic-3".into(),
        venue_name: "Trạm Y tế".into(),
        venue_address: "1 Nguyễn Huệ".into(),
        kind: VenueKind::Venue,
        checked_in_at: 1_700_000_123,
        auto_checkout_at: 1_700_003_723,
        checked_out: None,
        hidden: false,
        ticket: None,
    };
    let matched = ExposureMatch {
        id: 1,
        entry_id: 7,
        notice_id: "n-1".into(),
        agency: "sandbox-agency".into(),
        venue_id: "clinic-3".into(),
        venue_name: "Trạm Y tế".into(),
        from: 1_700_000_000,
        until: 1_700_009_999,
        message: "hãy theo dõi sức khỏe".into(),
        matched_at: 1_700_010_000,
    };
    let printed = format!("{entry:?} {matched:?}");
    for secret in [
        "clinic-3",
        "Trạm",
        "Nguyễn",
        "1700000123",
        "1700009999",
        "sức khỏe",
    ] {
        assert!(!printed.contains(secret), "{secret} in {printed}");
    }
    assert!(printed.contains("DiaryEntry") && printed.contains("id: 7"));
}
