//! Transport security end to end: pinning against the validated path, the per-origin trust policy,
//! redirects, body limits, cleartext refusal, timeouts and unreachable portals, each against a real
//! TLS server on loopback. Several tests are an attacker's: they fail on a client that pins any
//! presented certificate, follows redirects, or reads unbounded bodies.

use std::sync::Arc;
use std::time::Duration;

use citizen_core::net::{HttpClient, HttpRequest, NetError as N};
use citizen_core::{CitizenConfig, ConfigError, Error, Event, NetError, OriginPins};
use citizen_e2e::tls_server::{Ca, TlsServer, http_response, ping_ok};
use citizen_e2e::*;

fn net_error(result: Result<citizen_core::PortalContact, Error>) -> NetError {
    match result {
        Err(Error::Net(error)) => error,
        other => panic!("expected a network error, got {other:?}"),
    }
}

/// A config for `server` that trusts `roots` and pins `pins`.
fn config_for(
    server: &TlsServer,
    dir: &std::path::Path,
    roots: &[&Ca],
    pins: &[&str],
) -> CitizenConfig {
    let mut config = CitizenConfig::new(dir, &server.base_url);
    config.trusted_roots_pem = roots.iter().map(|ca| ca.pem.clone()).collect();
    config.portal_spki_pins = pins.iter().map(|p| p.to_string()).collect();
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_pin_is_its_own_error_and_no_request_reaches_the_portal() {
    let portal = start_portal("pinned portal").await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = trusting_config(&portal, dir.path());
    config.portal_spki_pins = vec![citizen_core::spki_pin(b"a key the portal does not have")];
    let citizen = open(config).await.unwrap();

    let error = net_error(citizen.ping_portal().await);
    assert_eq!(error, NetError::PinMismatch);
    assert!(!error.is_transient());
    assert_eq!(portal.sandbox.requests_for("/v1/ping").unwrap(), 0);
    assert_eq!(citizen.last_portal_contact().await.unwrap(), None);
}

/// CVE-2016-2402 (OkHttp): the attacker holds a certificate for the portal's host from some CA the
/// phone trusts, and appends the pinned CA's public certificate as an unused extra. The chain
/// validates through the attacker's CA; a client that pins "any presented certificate" is fooled
/// by the extra. Pinning against the validated path is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_appended_pinned_certificate_that_is_not_on_the_validated_path_is_a_pin_mismatch() {
    let pinned_ca = Ca::root("the portal's real CA");
    let attacker_ca = Ca::root("a publicly trusted CA the attacker got a certificate from");
    let attacker_leaf = attacker_ca.leaf();
    let server = TlsServer::start(
        vec![attacker_leaf.der.clone(), pinned_ca.der.clone()],
        &attacker_leaf,
        ping_ok(),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(
        &server,
        dir.path(),
        &[&attacker_ca, &pinned_ca],
        &[&pinned_ca.pin],
    );
    let citizen = open(config).await.unwrap();

    assert_eq!(
        net_error(citizen.ping_portal().await),
        NetError::PinMismatch
    );
    assert_eq!(server.requests(), 0, "nothing was sent to the attacker");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_root_the_server_does_not_send_is_matched_as_the_trust_anchor() {
    let ca = Ca::root("root not sent");
    let leaf = ca.leaf();
    let server = TlsServer::start(vec![leaf.der.clone()], &leaf, ping_ok()).await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = open(config_for(&server, dir.path(), &[&ca], &[&ca.pin]))
        .await
        .unwrap();
    citizen.ping_portal().await.unwrap();
    assert_eq!(server.requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_leaf_and_a_pinned_intermediate_on_the_path_are_accepted() {
    let root = Ca::root("root");
    let intermediate = root.intermediate("issuing CA");
    let leaf = intermediate.leaf();
    let server = TlsServer::start(
        vec![leaf.der.clone(), intermediate.der.clone()],
        &leaf,
        ping_ok(),
    )
    .await;
    for pin in [&leaf.pin, &intermediate.pin, &root.pin] {
        let dir = tempfile::tempdir().unwrap();
        let citizen = open(config_for(&server, dir.path(), &[&root], &[pin]))
            .await
            .unwrap();
        citizen.ping_portal().await.unwrap();
    }
    // And a pin of a key that is not on the path is refused even though the chain is valid.
    let dir = tempfile::tempdir().unwrap();
    let stranger = Ca::root("unrelated");
    let citizen = open(config_for(&server, dir.path(), &[&root], &[&stranger.pin]))
        .await
        .unwrap();
    assert_eq!(
        net_error(citizen.ping_portal().await),
        NetError::PinMismatch
    );
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
    let citizen = open(config).await.unwrap();
    citizen.ping_portal().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_signed_by_an_untrusted_ca_is_refused_even_when_its_pin_matches() {
    let portal = start_portal("untrusted portal").await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = trusting_config(&portal, dir.path());
    config.trusted_roots_pem.clear();
    let citizen = open(config).await.unwrap();
    assert_eq!(
        net_error(citizen.ping_portal().await),
        NetError::UntrustedCertificate
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_another_origin_is_refused_and_never_followed() {
    let ca = Ca::root("redirect CA");
    let leaf = ca.leaf();
    let elsewhere = TlsServer::start(vec![leaf.der.clone()], &leaf, ping_ok()).await;
    let target = format!("{}v1/ping", elsewhere.base_url);
    let redirecting = TlsServer::start(
        vec![leaf.der.clone()],
        &leaf,
        Arc::new(move |_| http_response("302 Found", &[("location", &target)], b"")),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    // Both origins are even allowed and pinned: the redirect is refused for leaving the origin
    // the request was made to, not for lack of trust.
    let mut config = config_for(&redirecting, dir.path(), &[&ca], &[&ca.pin]);
    config.origin_pins = vec![OriginPins {
        origin: elsewhere.base_url.trim_end_matches('/').to_string(),
        spki_pins: vec![ca.pin.clone()],
    }];
    let citizen = open(config).await.unwrap();
    assert_eq!(
        net_error(citizen.ping_portal().await),
        NetError::RedirectRefused
    );
    assert_eq!(elsewhere.requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_same_origin_redirect_is_followed() {
    let ca = Ca::root("same-origin CA");
    let leaf = ca.leaf();
    let server = TlsServer::start(
        vec![leaf.der.clone()],
        &leaf,
        Arc::new(|request_line| {
            if request_line.starts_with("GET /v1/ping ") {
                http_response("307 Temporary Redirect", &[("location", "/v2/ping")], b"")
            } else {
                (ping_ok())(request_line)
            }
        }),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = open(config_for(&server, dir.path(), &[&ca], &[&ca.pin]))
        .await
        .unwrap();
    citizen.ping_portal().await.unwrap();
    assert_eq!(server.requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_are_refused_whether_announced_or_streamed() {
    let ca = Ca::root("big body CA");
    let leaf = ca.leaf();
    let announced = TlsServer::start(
        vec![leaf.der.clone()],
        &leaf,
        Arc::new(|_| {
            // Claims 64 MiB and sends a little: the client must not even start reading.
            b"HTTP/1.1 200 OK\r\ncontent-length: 67108864\r\nconnection: close\r\n\r\n{}".to_vec()
        }),
    )
    .await;
    let streamed = TlsServer::start(
        vec![leaf.der.clone()],
        &leaf,
        Arc::new(|_| {
            // No length, 3 MiB of body: only counting while reading catches it.
            let mut bytes = b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".to_vec();
            bytes.extend(std::iter::repeat_n(b' ', 3 * 1024 * 1024));
            bytes
        }),
    )
    .await;
    for server in [&announced, &streamed] {
        let dir = tempfile::tempdir().unwrap();
        let http = HttpClient::new(&config_for(server, dir.path(), &[&ca], &[&ca.pin])).unwrap();
        let url = http.portal_url("v1/ping").unwrap();
        let error = http.fetch(HttpRequest::get(url.clone())).await.unwrap_err();
        assert_eq!(
            error,
            N::ResponseTooLarge {
                limit: citizen_core::net::DEFAULT_MAX_BODY_BYTES
            }
        );
        // A caller that expects more says so, and gets it.
        let mut generous = HttpRequest::get(url);
        generous.max_body_bytes = 4 * 1024 * 1024;
        if std::ptr::eq(server, &streamed) {
            let response = http.fetch(generous).await.unwrap();
            assert_eq!(response.body.len(), 3 * 1024 * 1024);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn origins_outside_the_trust_policy_are_not_contacted() {
    let ca = Ca::root("policy CA");
    let leaf = ca.leaf();
    let portal = TlsServer::start(vec![leaf.der.clone()], &leaf, ping_ok()).await;
    let stranger = TlsServer::start(vec![leaf.der.clone()], &leaf, ping_ok()).await;
    let dir = tempfile::tempdir().unwrap();
    let http = HttpClient::new(&config_for(&portal, dir.path(), &[&ca], &[&ca.pin])).unwrap();
    let url = url::Url::parse(&format!("{}v1/ping", stranger.base_url)).unwrap();
    assert_eq!(
        http.fetch(HttpRequest::get(url)).await.unwrap_err(),
        N::OriginNotAllowed
    );
    assert_eq!(stranger.requests(), 0);
    // Paths cannot be used to get there either.
    assert_eq!(
        http.portal_url(&format!("//{}/v1/ping", stranger.addr))
            .unwrap_err(),
        N::InvalidPath
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinning_is_required_unless_the_config_says_development() {
    let dir = tempfile::tempdir().unwrap();
    let config = CitizenConfig::new(dir.path(), "https://portal.example/");
    match open(config).await {
        Err(Error::Config(ConfigError::PortalPinsRequired)) => {}
        other => panic!("expected PortalPinsRequired, got {:?}", other.err()),
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "refused before the disk was touched"
    );
    open(unpinned_config(dir.path(), "https://portal.example/"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleartext_urls_are_refused_before_anything_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let config = unpinned_config(dir.path(), "http://127.0.0.1:8080/");
    match open(config).await {
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
    let citizen = open(unpinned_config(
        dir.path(),
        format!("https://127.0.0.1:{port}/"),
    ))
    .await
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
    assert_eq!(
        citizen.status().await.unwrap().portal_reachable,
        Some(false)
    );
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
    let mut config = unpinned_config(dir.path(), format!("https://127.0.0.1:{port}/"));
    config.request_timeout = Duration::from_millis(300);
    let citizen = open(config).await.unwrap();
    assert_eq!(net_error(citizen.ping_portal().await), NetError::Timeout);
    silent.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_citizen_on_the_same_data_directory_is_refused_until_the_first_closes() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(unpinned_config(dir.path(), "https://portal.example/"))
        .await
        .unwrap();
    match open(unpinned_config(dir.path(), "https://portal.example/")).await {
        Err(Error::Store(citizen_core::StoreError::InUse)) => {}
        other => panic!("expected InUse, got {:?}", other.err()),
    }
    drop(first);
    open(unpinned_config(dir.path(), "https://portal.example/"))
        .await
        .unwrap();
}
