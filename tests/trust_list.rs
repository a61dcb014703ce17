//! The trust list end to end: the sandbox publishes it over real HTTPS, the SDK fetches it
//! conditionally, verifies it against the configured anchor, caches it in the encrypted store,
//! reports its state, and keeps the old list when a new one does not verify.

use std::sync::Arc;
use std::time::Duration;

use citizen_core::{Error, Event, TrustError, TrustListError, TrustListState};
use citizen_e2e::*;

const PATH: &str = "/v1/trust-list";

fn unix_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn trust_events(recorder: &Recorder) -> Vec<TrustListState> {
    recorder
        .events()
        .into_iter()
        .filter_map(|event| match event {
            Event::TrustListChanged { state } => Some(state),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_is_fetched_once_then_revalidated_and_still_loads_offline() {
    let portal = start_portal("Trust list portal").await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = open(anchored_config(&portal, dir.path())).await.unwrap();
    let recorder = Arc::new(Recorder::default());
    let _subscription = citizen.subscribe(recorder.clone());
    assert_eq!(
        citizen.status().await.unwrap().trust_list,
        TrustListState::Missing
    );
    assert!(citizen.trust_list().is_none());

    assert_eq!(
        citizen.refresh_trust_list().await.unwrap(),
        TrustListState::Fresh
    );
    assert_eq!(portal.sandbox.responses_for(PATH, 200).unwrap(), 1);
    let list = citizen.trust_list().unwrap();
    let issuer = list.issuer(&portal.sandbox.base_url).unwrap();
    assert!(issuer.may_issue("urn:eudi:pid:vn:1"));
    assert_eq!(issuer.keys.len(), 1);
    let relying_party = list
        .relying_party(citizen_sandbox::trust::SAMPLE_RP_CLIENT_ID)
        .unwrap();
    assert!(!relying_party.keys.is_empty());
    assert_eq!(trust_events(&recorder), vec![TrustListState::Fresh]);

    // Again, and from sync_now: the ETag answers 304, the list stays, no new event.
    assert_eq!(
        citizen.refresh_trust_list().await.unwrap(),
        TrustListState::Fresh
    );
    let sync = citizen.sync_now(Duration::from_secs(10)).await.unwrap();
    assert!(sync.completed);
    assert_eq!(portal.sandbox.responses_for(PATH, 304).unwrap(), 2);
    assert_eq!(portal.sandbox.requests_for(PATH).unwrap(), 3);
    assert_eq!(citizen.trust_list().unwrap().sequence, list.sequence);
    assert_eq!(trust_events(&recorder), vec![TrustListState::Fresh]);
    let status = citizen.status().await.unwrap();
    assert_eq!(status.trust_list, TrustListState::Fresh);

    // Offline: the portal is gone, the cached list loads from the store and still verifies.
    drop(citizen);
    portal.sandbox.shutdown();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let offline = open(anchored_config(&portal, dir.path())).await.unwrap();
    assert_eq!(
        offline.status().await.unwrap().trust_list,
        TrustListState::Fresh
    );
    assert_eq!(*offline.trust_list().unwrap(), *list);
    let error = offline.refresh_trust_list().await.unwrap_err();
    assert!(
        matches!(error, Error::Net(ref net) if net.is_transient()),
        "{error:?}"
    );
    assert_eq!(*offline.trust_list().unwrap(), *list);
    // An offline refresh does not fail sync_now.
    assert!(offline.sync_now(Duration::from_secs(10)).await.is_ok());
    // And the list's content is in the encrypted store only.
    assert_eq!(
        files_containing(dir.path(), "rp.sandbox.example"),
        Vec::<String>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_list_is_reported_and_a_newer_one_replaces_it() {
    let portal = start_portal("Stale trust list portal").await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = open(anchored_config(&portal, dir.path())).await.unwrap();
    let recorder = Arc::new(Recorder::default());
    let _subscription = citizen.subscribe(recorder.clone());

    // A list that is stale as soon as it is fetched: still installed and used, but reported.
    portal.sandbox.set_trust_list_max_age(0).unwrap();
    assert_eq!(
        citizen.refresh_trust_list().await.unwrap(),
        TrustListState::Stale
    );
    let stale = citizen.trust_list().unwrap();
    assert_eq!(stale.max_age, 0);
    assert_eq!(
        citizen.status().await.unwrap().trust_list,
        TrustListState::Stale
    );
    assert_eq!(trust_events(&recorder), vec![TrustListState::Stale]);

    // The publisher changes the list: a higher sequence, fresh again.
    portal.sandbox.set_trust_list_max_age(3_600).unwrap();
    assert_eq!(
        citizen.refresh_trust_list().await.unwrap(),
        TrustListState::Fresh
    );
    let fresh = citizen.trust_list().unwrap();
    assert!(fresh.sequence > stale.sequence);
    assert_eq!(
        trust_events(&recorder),
        vec![TrustListState::Stale, TrustListState::Fresh]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_issuer_keys_and_lists_from_an_unknown_anchor() {
    let portal = start_portal("Rotating trust list portal").await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = open(anchored_config(&portal, dir.path())).await.unwrap();
    let base = portal.sandbox.base_url.clone();
    citizen.refresh_trust_list().await.unwrap();
    let before = citizen.trust_list().unwrap();
    let old_kid = before.issuer(&base).unwrap().keys[0].kid.clone();

    // Issuer key rotation: the new key verifies, the retired one only for what it signed before.
    // (Times are whole seconds: a key retired in the second it was made would be valid never.)
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (new_kid, _) = portal.sandbox.rotate_issuer_key().unwrap();
    assert_eq!(
        citizen.refresh_trust_list().await.unwrap(),
        TrustListState::Fresh
    );
    let rotated = citizen.trust_list().unwrap();
    assert!(rotated.sequence > before.sequence);
    let now = unix_seconds();
    assert!(rotated.issuer_key(&base, &new_kid, now).is_ok());
    let retired = rotated
        .issuer(&base)
        .unwrap()
        .keys
        .iter()
        .find(|key| key.kid == old_kid)
        .unwrap()
        .clone();
    let retired_at = retired.not_after.expect("the retired key has a not_after");
    assert!(retired_at <= now);
    assert_eq!(
        rotated.issuer_key(&base, &old_kid, now),
        Err(TrustListError::KeyNotValidAt)
    );
    assert!(rotated.issuer_key(&base, &old_kid, retired_at - 1).is_ok());

    // The portal now signs with an anchor this app does not have: refused, old list kept.
    let (new_anchor_kid, new_anchor_key) = portal.sandbox.rotate_trust_anchor().unwrap();
    let error = citizen.refresh_trust_list().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::TrustList(TrustError::List(TrustListError::UnknownAnchor))
        ),
        "{error:?}"
    );
    assert_eq!(*citizen.trust_list().unwrap(), *rotated);
    assert_eq!(
        citizen.status().await.unwrap().trust_list,
        TrustListState::Fresh
    );
    drop(citizen);
    let reopened = open(anchored_config(&portal, dir.path())).await.unwrap();
    assert_eq!(*reopened.trust_list().unwrap(), *rotated);
    drop(reopened);

    // An app update that ships only the new anchor: the cached list no longer verifies (missing)
    // until the new list is fetched.
    let mut config = anchored_config(&portal, dir.path());
    config.trust_anchors = vec![citizen_core::TrustAnchor {
        kid: new_anchor_kid,
        jwk: new_anchor_key,
    }];
    let updated = open(config).await.unwrap();
    assert_eq!(
        updated.status().await.unwrap().trust_list,
        TrustListState::Missing
    );
    assert_eq!(
        updated.refresh_trust_list().await.unwrap(),
        TrustListState::Fresh
    );
    assert!(updated.trust_list().unwrap().sequence > rotated.sequence);
}
