//! The one HTTP client every capability uses to talk to portals, issuers and relying parties.
//!
//! Owns: TLS setup (rustls with the `ring` provider, the public web roots plus configured roots,
//! no platform verifier), the per-origin trust policy in force (which origins may be reached, with
//! which SPKI pins: see `policy`), one connection pool per origin whose verifier pins against the
//! validated path (see `pinning`), same-origin-only redirects, URLs that cannot leave the portal's
//! base, size limits on every response body, timeouts, and turning transport failures into
//! [`NetError`]. Does not own any endpoint's meaning: see `portal` for the HTTP contract.
//! There is no cleartext mode.

mod pinning;
pub mod policy;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::config::{CitizenConfig, ConfigError, parse_portal_url, parse_roots};
use pinning::{PinMismatch, PinningVerifier};
pub(crate) use policy::OriginTrust;
pub use policy::{Origin, TrustPolicy};

/// The largest body [`HttpClient::get_json`] and [`HttpClient::post_json`] accept. Portal answers
/// are small; a capability that downloads more (a catalogue, an attachment) says so with its own
/// limit in [`HttpRequest::max_body_bytes`].
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// How many same-origin redirects one request may follow.
const MAX_REDIRECTS: usize = 5;

/// Why a request did not produce a usable answer. Carries no URLs or bodies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    #[error("no certificate on the server's validated path matches a configured SPKI pin")]
    PinMismatch,
    #[error("the server's certificate is not trusted")]
    UntrustedCertificate,
    #[error("the TLS handshake failed")]
    Tls,
    #[error("the request timed out")]
    Timeout,
    #[error("the server could not be reached")]
    Unreachable,
    #[error("the server answered with HTTP status {status}")]
    Status { status: u16 },
    #[error("the server's answer could not be read")]
    InvalidResponse,
    /// The answer was larger than the request allowed; it was not read to the end.
    #[error("the server's answer is larger than the {limit}-byte limit")]
    ResponseTooLarge { limit: usize },
    /// The trust policy has no entry for this origin and the config is not a development setup.
    #[error("the origin is not in the trust policy")]
    OriginNotAllowed,
    /// The server redirected to another origin (or too often).
    #[error("the server redirected to another origin or too many times")]
    RedirectRefused,
    /// A path that would leave the portal's base URL (absolute, `//host`, `..`, ...).
    #[error("the request path is not a path below the portal's base URL")]
    InvalidPath,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
    /// tus asks an upload's offset with `HEAD`.
    Head,
    /// tus sends an upload's bytes with `PATCH`.
    Patch,
    Delete,
}

/// One request, to any origin the trust policy allows.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: HttpMethod,
    pub url: Url,
    /// Extra headers (`If-None-Match`, `Idempotency-Key`, ...). Never personal data.
    pub headers: Vec<(&'static str, String)>,
    /// A body with its content type.
    pub body: Option<(&'static str, Vec<u8>)>,
    pub max_body_bytes: usize,
}

impl HttpRequest {
    pub fn get(url: Url) -> Self {
        Self {
            method: HttpMethod::Get,
            url,
            headers: Vec::new(),
            body: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    pub fn post_json(url: Url, body: &impl Serialize) -> Result<Self, NetError> {
        let bytes = serde_json::to_vec(body).map_err(|_| NetError::InvalidResponse)?;
        Ok(Self {
            body: Some(("application/json", bytes)),
            method: HttpMethod::Post,
            ..Self::get(url)
        })
    }
}

/// An answer of any status, its body read up to the request's limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub etag: Option<String>,
    pub content_type: Option<String>,
    /// The headers a flow may need besides those above (`Location`, `Retry-After`,
    /// `Upload-Offset`, ...): see [`KEPT_HEADERS`]. Names are lower case.
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// The response headers [`HttpClient::fetch`] keeps in [`HttpResponse::headers`]. Only these:
/// a flow reads what it knows, and nothing else from a server's answer travels further.
pub const KEPT_HEADERS: &[&str] = &[
    "location",
    "retry-after",
    "tus-resumable",
    "tus-version",
    "tus-max-size",
    "upload-offset",
    "upload-length",
    "idempotency-key",
];

impl HttpResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The value of kept header `name` (lower case), if the server sent it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `Retry-After` in seconds from now, in either form RFC 9110 allows (delay seconds or an
    /// HTTP date), never negative; `None` when absent or unreadable.
    pub fn retry_after_secs(&self, now: std::time::SystemTime) -> Option<u64> {
        let value = self.header("retry-after")?.trim();
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(seconds);
        }
        let at = httpdate::parse_http_date(value).ok()?;
        Some(at.duration_since(now).map(|d| d.as_secs()).unwrap_or(0))
    }
}

/// The SDK's HTTPS client: the portal's base URL, the trust policy, and one pinned connection pool
/// per origin. Cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    base_url: Url,
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
    timeout: Duration,
    policy: RwLock<TrustPolicy>,
    clients: Mutex<HashMap<Origin, reqwest::Client>>,
}

impl HttpClient {
    pub fn new(config: &CitizenConfig) -> Result<Self, ConfigError> {
        let base_url = parse_portal_url(&config.portal_base_url)?;
        if config.request_timeout.is_zero() {
            return Err(ConfigError::InvalidTimeout);
        }
        let roots = parse_roots(&config.trusted_roots_pem)?;
        let policy = TrustPolicy::from_config(config)?;
        if policy.allows_unpinned() {
            tracing::warn!(
                "development setup (allow_unpinned): origins without pins are not pinned and any \
                 HTTPS origin may be reached; never ship this configuration"
            );
        }
        Ok(Self {
            inner: Arc::new(Inner {
                base_url,
                roots: Arc::new(roots),
                provider: Arc::new(rustls::crypto::ring::default_provider()),
                timeout: config.request_timeout,
                policy: RwLock::new(policy),
                clients: Mutex::new(HashMap::new()),
            }),
        })
    }

    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// The URL of `path` below the portal's base URL. Refuses anything that would resolve
    /// elsewhere: absolute URLs, `//host`, a leading `/`, `..` or `.` segments, backslashes.
    pub fn portal_url(&self, path: &str) -> Result<Url, NetError> {
        let (path_part, _query) = path.split_once('?').unwrap_or((path, ""));
        let escapes = path.is_empty()
            || path.starts_with('/')
            || path.contains('\\')
            || path.contains('#')
            || path_part.contains(':')
            || path_part.contains('%')
            || path_part.split('/').any(|s| s == ".." || s == ".")
            || path.chars().any(char::is_control);
        if escapes {
            return Err(NetError::InvalidPath);
        }
        let base = &self.inner.base_url;
        let url = base.join(path).map_err(|_| NetError::InvalidPath)?;
        // Belt and braces: whatever the parser made of it must still sit below the base.
        if Origin::of(&url) != Origin::of(base) || !url.path().starts_with(base.path()) {
            return Err(NetError::InvalidPath);
        }
        Ok(url)
    }

    /// Adds or replaces the pins of `origin` at run time (from a verified trust list). An empty
    /// list removes them. Connections made under the old pins are dropped.
    pub fn trust_origin(&self, origin: Origin, pins: Vec<[u8; 32]>) {
        self.inner
            .policy
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .set_pins(origin.clone(), pins);
        lock(&self.inner.clients).remove(&origin);
    }

    /// What the trust policy says about `origin` now.
    #[cfg(test)]
    pub(crate) fn trust_for(&self, origin: &Origin) -> OriginTrust {
        self.inner
            .policy
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .trust_for(origin)
    }

    /// GETs `path` below the portal base URL and decodes a JSON answer (2xx only).
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, NetError> {
        let request = HttpRequest::get(self.portal_url(path)?);
        decode_json(self.fetch(request).await?)
    }

    /// POSTs `body` as JSON to `path` below the portal base URL and decodes a JSON answer.
    pub async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, NetError> {
        let request = HttpRequest::post_json(self.portal_url(path)?, body)?;
        decode_json(self.fetch(request).await?)
    }

    /// Sends `request` to its origin under that origin's trust and returns the answer, whatever
    /// its status, with the body read up to `max_body_bytes`.
    pub async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, NetError> {
        let origin = Origin::of(&request.url).ok_or(NetError::OriginNotAllowed)?;
        let client = self.client_for(&origin)?;
        let mut builder = match request.method {
            HttpMethod::Get => client.get(request.url),
            HttpMethod::Post => client.post(request.url),
            HttpMethod::Head => client.head(request.url),
            HttpMethod::Patch => client.patch(request.url),
            HttpMethod::Delete => client.delete(request.url),
        };
        for (name, value) in request.headers {
            builder = builder.header(name, value);
        }
        if let Some((content_type, body)) = request.body {
            builder = builder.header("content-type", content_type).body(body);
        }
        let mut response = builder.send().await.map_err(classify)?;
        let limit = request.max_body_bytes;
        if response
            .content_length()
            .is_some_and(|length| length > limit as u64)
        {
            return Err(NetError::ResponseTooLarge { limit });
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let status = response.status().as_u16();
        let etag = header("etag");
        let content_type = header("content-type");
        let headers = KEPT_HEADERS
            .iter()
            .filter_map(|name| header(name).map(|value| (*name, value)))
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > limit {
                return Err(NetError::ResponseTooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status,
            etag,
            content_type,
            headers,
            body,
        })
    }

    /// The connection pool for `origin`, made on first use with a verifier bound to that origin's
    /// host and pins.
    fn client_for(&self, origin: &Origin) -> Result<reqwest::Client, NetError> {
        let trust = self
            .inner
            .policy
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .trust_for(origin);
        let pins = match trust {
            OriginTrust::Pinned(pins) => pins,
            OriginTrust::Unpinned => Vec::new(),
            OriginTrust::Refused => return Err(NetError::OriginNotAllowed),
        };
        let mut clients = lock(&self.inner.clients);
        if let Some(client) = clients.get(origin) {
            return Ok(client.clone());
        }
        let client = self.build_client(origin, pins).map_err(|_| NetError::Tls)?;
        clients.insert(origin.clone(), client.clone());
        Ok(client)
    }

    fn build_client(
        &self,
        origin: &Origin,
        pins: Vec<[u8; 32]>,
    ) -> Result<reqwest::Client, ConfigError> {
        let verifier = PinningVerifier::new(
            &self.inner.provider,
            self.inner.roots.clone(),
            origin.tls_host(),
            pins,
        );
        let mut tls = rustls::ClientConfig::builder_with_provider(self.inner.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|_| ConfigError::HttpClientSetup)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];

        reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .https_only(true)
            .redirect(same_origin_redirects())
            .timeout(self.inner.timeout)
            .connect_timeout(self.inner.timeout)
            .user_agent(concat!("citizen-sdk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| ConfigError::HttpClientSetup)
    }
}

fn decode_json<T: DeserializeOwned>(response: HttpResponse) -> Result<T, NetError> {
    if !response.is_success() {
        return Err(NetError::Status {
            status: response.status,
        });
    }
    serde_json::from_slice(&response.body).map_err(|_| NetError::InvalidResponse)
}

/// Marker error for a refused redirect, found again by [`classify`].
#[derive(Debug)]
struct RedirectRefused;

impl std::fmt::Display for RedirectRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("redirect refused")
    }
}

impl std::error::Error for RedirectRefused {}

/// Follows a redirect only to the same origin, and only a few times: pins and the trust policy are
/// per origin, and a redirect elsewhere would carry the request beyond what was decided for it.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .first()
            .and_then(Origin::of)
            .is_some_and(|first| Origin::of(attempt.url()) == Some(first));
        if same_origin && attempt.previous().len() <= MAX_REDIRECTS {
            attempt.follow()
        } else {
            attempt.error(RedirectRefused)
        }
    })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Maps a reqwest failure to what an app can act on, looking through the error's causes for the
/// rustls verdict (a pin mismatch is reported by our verifier as a certificate error).
fn classify(error: reqwest::Error) -> NetError {
    if error.is_timeout() {
        return NetError::Timeout;
    }
    if error.is_redirect() || find_cause::<RedirectRefused>(&error).is_some() {
        return NetError::RedirectRefused;
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

fn find_cause<'a, T: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut current: Option<&'a (dyn std::error::Error + 'static)> = Some(error);
    while let Some(err) = current {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        current = err.source();
    }
    None
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

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> HttpClient {
        let mut config = CitizenConfig::new("/tmp/unused", base);
        config.portal_spki_pins = vec![crate::config::spki_pin(b"portal")];
        HttpClient::new(&config).unwrap()
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_and_never_goes_negative() {
        let at = |value: &str| HttpResponse {
            status: 429,
            etag: None,
            content_type: None,
            headers: vec![("retry-after", value.to_owned())],
            body: Vec::new(),
        };
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(at("120").retry_after_secs(now), Some(120));
        // RFC 9110's example date, 3 s after `now`.
        assert_eq!(
            at("Wed, 21 Oct 2015 07:28:03 GMT").retry_after_secs(now),
            Some(3)
        );
        assert_eq!(
            at("Wed, 21 Oct 2015 07:27:00 GMT").retry_after_secs(now),
            Some(0)
        );
        assert_eq!(at("soon").retry_after_secs(now), None);
        assert_eq!(at("-5").retry_after_secs(now), None);
    }

    #[test]
    fn paths_cannot_leave_the_portal_base_url() {
        let http = client("https://portal.example/api/");
        assert_eq!(
            http.portal_url("v1/ping").unwrap().as_str(),
            "https://portal.example/api/v1/ping"
        );
        assert_eq!(
            http.portal_url("v1/items?q=a b").unwrap().as_str(),
            "https://portal.example/api/v1/items?q=a%20b"
        );
        for escape in [
            "https://evil.example/v1/ping",
            "//evil.example/v1/ping",
            "/v1/ping",
            "../v1/ping",
            "v1/../../x",
            "./v1",
            "v1/%2e%2e/x",
            "\\\\evil.example\\x",
            "v1\\..\\x",
            "javascript:alert(1)",
            "v1#frag",
            "",
            "v1/\nHost: evil",
        ] {
            assert_eq!(
                http.portal_url(escape).unwrap_err(),
                NetError::InvalidPath,
                "{escape:?}"
            );
        }
    }

    #[test]
    fn origins_outside_the_policy_are_refused_before_any_connection() {
        let http = client("https://portal.example/");
        let error = http
            .client_for(&Origin::parse("https://elsewhere.example").unwrap())
            .unwrap_err();
        assert_eq!(error, NetError::OriginNotAllowed);
        let issuer = Origin::parse("https://issuer.example").unwrap();
        http.trust_origin(issuer.clone(), vec![[7; 32]]);
        assert!(http.client_for(&issuer).is_ok());
        http.trust_origin(issuer.clone(), vec![]);
        assert_eq!(
            http.client_for(&issuer).unwrap_err(),
            NetError::OriginNotAllowed
        );
    }
}
