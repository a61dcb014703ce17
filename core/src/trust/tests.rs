//! The trust cache against a real store: loading, states, anchors that changed, origins. The
//! network half (`refresh` against a portal) is exercised end to end in `tests/trust_list.rs`.

use super::*;
use crate::config::{OriginPins, spki_pin};
use crate::jose::SoftwareSigner;
use crate::net::OriginTrust;
use crate::platform::SoftwareSealer;
use crate::trust_list::TrustedOrigin;

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;
const PORTAL: &str = "https://portal.example/";

struct Setup {
    _dir: tempfile::TempDir,
    store: Store,
    config: CitizenConfig,
    anchor: SoftwareSigner,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Arc::new(SoftwareSealer::in_dir(dir.path())))
        .await
        .unwrap();
    let anchor = SoftwareSigner::generate().unwrap();
    let mut config = CitizenConfig::new(dir.path(), PORTAL);
    config.portal_spki_pins = vec![spki_pin(b"portal")];
    config.origin_pins = vec![OriginPins {
        origin: "https://agency.example".into(),
        spki_pins: vec![spki_pin(b"agency")],
    }];
    config.trust_anchors = vec![TrustAnchor {
        kid: "anchor-1".into(),
        jwk: anchor.public_key().clone(),
    }];
    Setup {
        _dir: dir,
        store,
        config,
        anchor,
    }
}

fn list(sequence: u64, origins: Vec<TrustedOrigin>) -> TrustList {
    TrustList {
        iss: PORTAL.into(),
        iat: NOW - DAY,
        exp: NOW + 6 * DAY,
        sequence,
        max_age: DAY as u64,
        issuers: vec![],
        relying_parties: vec![],
        venue_signers: vec![],
        health_signers: vec![],
        origins,
    }
}

async fn cache_on_disk(store: &Store, jws: &str, etag: &str, fetched_at: &str) {
    let (jws, etag, fetched_at) = (jws.to_owned(), etag.to_owned(), fetched_at.to_owned());
    store
        .write(move |tx| {
            meta::set(tx, JWS_KEY, &jws)?;
            meta::set(tx, ETAG_KEY, &etag)?;
            meta::set(tx, FETCHED_AT_KEY, &fetched_at)
        })
        .await
        .unwrap();
}

async fn load(setup: &Setup, now: i64) -> (TrustCache, HttpClient) {
    let http = HttpClient::new(&setup.config).unwrap();
    let cache = TrustCache::load(&setup.store, &http, &setup.config, now)
        .await
        .unwrap();
    (cache, http)
}

#[test]
fn states_follow_max_age_and_exp() {
    let list = list(1, vec![]);
    let fetched = NOW - 10;
    assert_eq!(state_of(&list, fetched, NOW), TrustListState::Fresh);
    assert_eq!(
        state_of(&list, fetched, fetched + DAY - 1),
        TrustListState::Fresh
    );
    assert_eq!(
        state_of(&list, fetched, fetched + DAY),
        TrustListState::Stale
    );
    assert_eq!(
        state_of(&list, fetched, list.exp - 1),
        TrustListState::Stale
    );
    assert_eq!(state_of(&list, fetched, list.exp), TrustListState::Expired);
    // Expired wins even when just fetched; a huge max_age does not overflow.
    assert_eq!(state_of(&list, list.exp, list.exp), TrustListState::Expired);
    let mut forever = list.clone();
    forever.max_age = u64::MAX;
    assert_eq!(state_of(&forever, fetched, NOW), TrustListState::Fresh);
    let mut zero = list;
    zero.max_age = 0;
    assert_eq!(state_of(&zero, NOW, NOW), TrustListState::Stale);
}

#[tokio::test]
async fn a_cached_list_loads_offline_and_reports_its_state() {
    let setup = setup().await;
    let (empty, _) = load(&setup, NOW).await;
    assert_eq!(empty.state(NOW), TrustListState::Missing);
    assert!(matches!(empty.usable(NOW), Err(TrustError::Missing)));

    let published = list(3, vec![]);
    let jws = published.sign(&setup.anchor, "anchor-1").unwrap();
    cache_on_disk(&setup.store, &jws, "\"v3\"", &(NOW - 60).to_string()).await;
    let (cache, _) = load(&setup, NOW).await;
    assert_eq!(cache.state(NOW), TrustListState::Fresh);
    assert_eq!(*cache.list().unwrap(), published);
    assert_eq!(cache.snapshot().unwrap().etag.as_deref(), Some("\"v3\""));
    assert_eq!(cache.state(NOW - 60 + DAY), TrustListState::Stale);
    assert!(cache.usable(NOW - 60 + DAY).is_ok(), "a stale list is used");
    assert_eq!(cache.state(published.exp), TrustListState::Expired);
    assert!(matches!(
        cache.usable(published.exp),
        Err(TrustError::List(TrustListError::Expired))
    ));

    // Loaded after it expired: kept for reporting, unusable.
    let (late, _) = load(&setup, published.exp + 1).await;
    assert_eq!(late.state(published.exp + 1), TrustListState::Expired);
    assert!(!late.note_reported(TrustListState::Expired), "the baseline");
    assert!(late.note_reported(TrustListState::Fresh));

    // An unreadable fetch time counts as long ago: stale, never fresh.
    cache_on_disk(&setup.store, &jws, "", "yesterday").await;
    let (odd, _) = load(&setup, NOW).await;
    assert_eq!(odd.state(NOW), TrustListState::Stale);
    assert_eq!(odd.snapshot().unwrap().etag, None);
}

#[tokio::test]
async fn a_cached_list_that_no_longer_verifies_is_missing() {
    let mut setup = setup().await;
    let jws = list(3, vec![]).sign(&setup.anchor, "anchor-1").unwrap();
    cache_on_disk(&setup.store, &jws, "\"v3\"", &NOW.to_string()).await;

    // The app now ships another anchor only.
    let next = SoftwareSigner::generate().unwrap();
    setup.config.trust_anchors = vec![TrustAnchor {
        kid: "anchor-2".into(),
        jwk: next.public_key().clone(),
    }];
    let (cache, _) = load(&setup, NOW).await;
    assert_eq!(cache.state(NOW), TrustListState::Missing);
    // Same key id, other key: the signature fails.
    setup.config.trust_anchors[0].kid = "anchor-1".into();
    let (cache, _) = load(&setup, NOW).await;
    assert_eq!(cache.state(NOW), TrustListState::Missing);
    // No anchors at all.
    setup.config.trust_anchors.clear();
    let (cache, _) = load(&setup, NOW).await;
    assert_eq!(cache.state(NOW), TrustListState::Missing);
    assert!(!cache.has_anchors());
    // A tampered cache (the store is encrypted, but belt and braces) is not trusted either.
    setup.config.trust_anchors = vec![TrustAnchor {
        kid: "anchor-1".into(),
        jwk: setup.anchor.public_key().clone(),
    }];
    let mut parts: Vec<&str> = jws.split('.').collect();
    let forged = crate::jose::base64url::encode(b"{}");
    parts[1] = &forged;
    cache_on_disk(&setup.store, &parts.join("."), "", &NOW.to_string()).await;
    let (cache, _) = load(&setup, NOW).await;
    assert_eq!(cache.state(NOW), TrustListState::Missing);
}

#[tokio::test]
async fn listed_origins_are_reachable_but_configured_pins_win() {
    let setup = setup().await;
    let listed = TrustedOrigin {
        origin: "https://issuer.example".into(),
        spki_pins: vec![spki_pin(b"issuer")],
    };
    let hijack = |origin: &str| TrustedOrigin {
        origin: origin.into(),
        spki_pins: vec![spki_pin(b"attacker")],
    };
    let published = list(
        1,
        vec![
            listed,
            hijack("https://portal.example"),
            hijack("https://agency.example"),
        ],
    );
    let jws = published.sign(&setup.anchor, "anchor-1").unwrap();
    cache_on_disk(&setup.store, &jws, "", &NOW.to_string()).await;
    let (cache, http) = load(&setup, NOW).await;
    let issuer = Origin::parse("https://issuer.example").unwrap();
    let pins =
        |name: &[u8]| OriginTrust::Pinned(crate::config::parse_pins(&[spki_pin(name)]).unwrap());
    assert_eq!(http.trust_for(&issuer), pins(b"issuer"));
    assert_eq!(
        http.trust_for(&Origin::parse(PORTAL).unwrap()),
        pins(b"portal")
    );
    assert_eq!(
        http.trust_for(&Origin::parse("https://agency.example").unwrap()),
        pins(b"agency")
    );

    // A newer list without the origin takes it back.
    let next = list(2, vec![]);
    cache.apply_origins(&http, cache.list().as_deref(), &next);
    assert_eq!(http.trust_for(&issuer), OriginTrust::Refused);
    assert_eq!(
        http.trust_for(&Origin::parse(PORTAL).unwrap()),
        pins(b"portal")
    );
}

#[tokio::test]
async fn refresh_needs_anchors_and_keeps_the_list_when_offline() {
    let mut setup = setup().await;
    // Nothing listens on port 1: the portal is unreachable.
    setup.config.portal_base_url = "https://127.0.0.1:1/".into();
    let jws = list(3, vec![]).sign(&setup.anchor, "anchor-1").unwrap();
    cache_on_disk(&setup.store, &jws, "\"v3\"", &(NOW - 2 * DAY).to_string()).await;
    let (cache, http) = load(&setup, NOW).await;
    assert_eq!(cache.state(NOW), TrustListState::Stale);
    let error = cache.refresh(&http, &setup.store, NOW).await.unwrap_err();
    assert!(
        matches!(error, TrustError::Net(ref net) if net.is_transient()),
        "{error:?}"
    );
    assert_eq!(cache.state(NOW), TrustListState::Stale);
    assert_eq!(cache.list().unwrap().sequence, 3);

    setup.config.trust_anchors.clear();
    let (no_anchors, http) = load(&setup, NOW).await;
    assert!(matches!(
        no_anchors.refresh(&http, &setup.store, NOW).await,
        Err(TrustError::List(TrustListError::NoAnchors))
    ));
}

#[tokio::test]
async fn the_wallet_asks_the_cache_about_issuers() {
    let setup = setup().await;
    let (empty, _) = load(&setup, NOW).await;
    assert!(matches!(
        empty.issuer_key(PORTAL, "k", NOW),
        Err(WalletError::NoTrustList)
    ));
    assert!(!empty.may_issue(PORTAL, "urn:eudi:pid:vn:1"));

    let now = crate::unix_now();
    let issuer_key = SoftwareSigner::generate().unwrap();
    let mut published = list(1, vec![]);
    (published.iat, published.exp) = (now - 10, now + DAY);
    published.issuers = vec![crate::trust_list::TrustedIssuer {
        iss: PORTAL.into(),
        display_name: "Sandbox issuer".into(),
        vcts: vec!["urn:eudi:pid:vn:1".into()],
        keys: vec![crate::trust_list::TrustedKey {
            kid: "k".into(),
            jwk: issuer_key.public_key().clone(),
            not_before: Some(now - 100),
            not_after: None,
        }],
    }];
    let jws = published.sign(&setup.anchor, "anchor-1").unwrap();
    cache_on_disk(&setup.store, &jws, "", &now.to_string()).await;
    let (cache, _) = load(&setup, now).await;
    assert_eq!(
        cache.issuer_key(PORTAL, "k", now).unwrap(),
        *issuer_key.public_key()
    );
    assert!(matches!(
        cache.issuer_key(PORTAL, "k", now - 101),
        Err(WalletError::CredentialRejected(
            CredentialCheck::UntrustedIssuer
        ))
    ));
    assert!(matches!(
        cache.issuer_key("https://other.example/", "k", now),
        Err(WalletError::CredentialRejected(
            CredentialCheck::UntrustedIssuer
        ))
    ));
    assert!(cache.may_issue(PORTAL, "urn:eudi:pid:vn:1"));
    assert!(!cache.may_issue(PORTAL, "urn:eudi:pid:vn:2"));
    assert_eq!(cache.issuer_name(PORTAL).as_deref(), Some("Sandbox issuer"));

    // Expired: the keys no longer answer, the name still does (for the history).
    (published.iat, published.exp) = (now - 2 * DAY, now - 1);
    let jws = published.sign(&setup.anchor, "anchor-1").unwrap();
    cache_on_disk(&setup.store, &jws, "", &now.to_string()).await;
    let (expired, _) = load(&setup, now).await;
    assert!(matches!(
        expired.issuer_key(PORTAL, "k", now),
        Err(WalletError::NoTrustList)
    ));
    assert!(!expired.may_issue(PORTAL, "urn:eudi:pid:vn:1"));
    assert!(expired.issuer_name(PORTAL).is_some());
}
