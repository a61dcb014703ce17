//! The one HTTP client every capability uses to talk to portals.
//!
//! Owns: TLS setup (rustls with the `ring` provider, the public web roots plus configured roots,
//! no platform verifier), SPKI pinning of the portal host, timeouts, and turning transport failures
//! into [`NetError`]. Does not own any endpoint's meaning: see `portal` for the HTTP contract.
//! There is no cleartext mode.

mod pinning;

use std::sync::Arc;

use serde::de::DeserializeOwned;
use url::Url;

use crate::config::{CitizenConfig, ConfigError, parse_pins, parse_portal_url, parse_roots};
use pinning::{PinMismatch, PinningVerifier};

/// Why a request did not produce a usable answer. Carries no URLs or bodies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    #[error("the portal's certificate does not match any configured SPKI pin")]
    PinMismatch,
    #[error("the portal's certificate is not trusted")]
    UntrustedCertificate,
    #[error("the TLS handshake failed")]
    Tls,
    #[error("the request timed out")]
    Timeout,
    #[error("the portal could not be reached")]
    Unreachable,
    #[error("the portal answered with HTTP status {status}")]
    Status { status: u16 },
    #[error("the portal's answer could not be read")]
    InvalidResponse,
}

impl NetError {
    /// Worth trying again later (offline, timeouts, server trouble), as opposed to a problem a
    /// retry cannot fix (a pin mismatch, a client error).
    pub fn is_transient(&self) -> bool {
        match self {
            NetError::Timeout | NetError::Unreachable => true,
            NetError::Status { status } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

/// An HTTPS client bound to one portal base URL.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    base_url: Url,
}

impl HttpClient {
    pub fn new(config: &CitizenConfig) -> Result<Self, ConfigError> {
        let base_url = parse_portal_url(&config.portal_base_url)?;
        if config.request_timeout.is_zero() {
            return Err(ConfigError::InvalidTimeout);
        }
        let roots = parse_roots(&config.trusted_roots_pem)?;
        let pins = parse_pins(&config.portal_spki_pins)?;
        let host = base_url.host_str().ok_or(ConfigError::InvalidPortalUrl)?;
        if pins.is_empty() {
            tracing::warn!("portal SPKI pinning is off: no pins configured");
        }

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = PinningVerifier::new(provider.clone(), roots, host, pins)
            .map_err(|_| ConfigError::HttpClientSetup)?;
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|_| ConfigError::HttpClientSetup)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];

        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .https_only(true)
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout)
            .user_agent(concat!("citizen-sdk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| ConfigError::HttpClientSetup)?;
        Ok(Self { client, base_url })
    }

    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// GETs `path` (relative to the portal base URL) and decodes a JSON answer.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, NetError> {
        let url = self
            .base_url
            .join(path)
            .map_err(|_| NetError::InvalidResponse)?;
        let response = self.client.get(url).send().await.map_err(classify)?;
        let status = response.status();
        if !status.is_success() {
            return Err(NetError::Status {
                status: status.as_u16(),
            });
        }
        response.json::<T>().await.map_err(classify)
    }
}

/// Maps a reqwest failure to what an app can act on, looking through the error's causes for the
/// rustls verdict (a pin mismatch is reported by our verifier as a certificate error).
fn classify(error: reqwest::Error) -> NetError {
    if error.is_timeout() {
        return NetError::Timeout;
    }
    if error.is_decode() {
        return NetError::InvalidResponse;
    }
    if let Some(tls) = find_rustls_error(&error) {
        return match tls {
            rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other))
                if other.0.downcast_ref::<PinMismatch>().is_some() =>
            {
                NetError::PinMismatch
            }
            rustls::Error::InvalidCertificate(_) => NetError::UntrustedCertificate,
            _ => NetError::Tls,
        };
    }
    if let Some(status) = error.status() {
        return NetError::Status {
            status: status.as_u16(),
        };
    }
    if error.is_connect() || error.is_request() {
        return NetError::Unreachable;
    }
    NetError::InvalidResponse
}

fn find_rustls_error<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    let mut current: Option<&'a (dyn std::error::Error + 'static)> = Some(error);
    while let Some(err) = current {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        // `io::Error::source` skips the error it wraps, so look inside it explicitly.
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(tls) = find_rustls_error(inner)
        {
            return Some(tls);
        }
        current = err.source();
    }
    None
}
