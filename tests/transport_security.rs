//! Transport security end to end: pinning, trust, cleartext refusal, timeouts and unreachable
//! portals, each against a real server on loopback.

use std::sync::Arc;
use std::time::Duration;

use citizen_core::{ConfigError, Error, Event, NetError};
use citizen_e2e::*;

fn net_error(result: Result<citizen_core::PortalContact, Error>) -> NetError {
    match result {
        Err(Error::Net(error)) => error,
        other => panic!("expected a network error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_pin_is_its_own_error_and_no_request_reaches_the_portal() {
    let portal = start_portal("pinned portal").await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = trusting_config(&portal, dir.path());
    config.portal_spki_pins = vec![citizen_core::spki_pin(b"a key the portal does not have")];
    let citizen = open(config).unwrap();

    let error = net_error(citizen.ping_portal().await);
    assert_eq!(error, NetError::PinMismatch);
    assert!(!error.is_transient());
    assert_eq!(portal.sandbox.requests_for("/v1/ping").unwrap(), 0);
    assert_eq!(citizen.last_portal_contact().unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ca_key_pin_is_accepted_as_well_as_the_leaf_pin() {
    let portal = start_portal("ca pinned portal").await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = trusting_config(&portal, dir.path());
    config.portal_spki_pins = vec![
        citizen_core::spki_pin(b"a key the portal does not have"),
        portal.sandbox.ca_spki_pin.clone(),
    ];
    let citizen = open(config).unwrap();
    citizen.ping_portal().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_signed_by_an_untrusted_ca_is_refused_even_when_its_pin_matches() {
    let portal = start_portal("untrusted portal").await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = trusting_config(&portal, dir.path());
    config.trusted_roots_pem.clear();
    let citizen = open(config).unwrap();
    assert_eq!(
        net_error(citizen.ping_portal().await),
        NetError::UntrustedCertificate
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleartext_urls_are_refused_before_anything_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let config = citizen_core::CitizenConfig::new(dir.path(), "http://127.0.0.1:8080/");
    match open(config) {
        Err(Error::Config(ConfigError::InsecurePortalUrl)) => {}
        other => panic!("expected InsecurePortalUrl, got {:?}", other.err()),
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_portal_is_a_transient_error_and_an_event() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let citizen = open(citizen_core::CitizenConfig::new(
        dir.path(),
        format!("https://127.0.0.1:{port}/"),
    ))
    .unwrap();
    let recorder = Arc::new(Recorder::default());
    let _subscription = citizen.subscribe(recorder.clone());
    let error = net_error(citizen.ping_portal().await);
    assert_eq!(error, NetError::Unreachable);
    assert!(error.is_transient());
    assert_eq!(
        recorder.events(),
        vec![Event::PortalReachabilityChanged { reachable: false }]
    );
    assert_eq!(citizen.status().unwrap().portal_reachable, Some(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_that_never_answers_times_out() {
    // Accepts TCP connections and then says nothing, like a stalled middlebox.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let mut config =
        citizen_core::CitizenConfig::new(dir.path(), format!("https://127.0.0.1:{port}/"));
    config.request_timeout = Duration::from_millis(300);
    let citizen = open(config).unwrap();
    assert_eq!(net_error(citizen.ping_portal().await), NetError::Timeout);
    silent.abort();
}
