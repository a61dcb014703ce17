//! What an app tells the SDK when it opens it.
//!
//! Owns: [`CitizenConfig`] and its validation (HTTPS only, parsable roots, origins and pins, and
//! the rule that every origin is pinned unless the config says it is a development setup). Does
//! not own using the settings: `net` builds the HTTP client and its trust policy from them, `store`
//! uses the data directory.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use url::Url;

use crate::trust_list::TrustAnchor;

/// Settings for one SDK instance.
#[derive(Debug, Clone)]
pub struct CitizenConfig {
    /// Where the encrypted store lives. The app's private files directory on a phone.
    pub data_dir: PathBuf,
    /// The agency portal, e.g. `https://portal.example.gov.vn/`. Must be `https`.
    pub portal_base_url: String,
    /// Extra trusted root certificates (PEM), added to the public web roots. The sandbox's CA in
    /// tests; a government root CA in production if it is not in the public set.
    pub trusted_roots_pem: Vec<String>,
    /// SPKI pins for the portal's origin: `sha256/<base64 of the SHA-256 of the
    /// SubjectPublicKeyInfo>`. A connection succeeds when a certificate on the path that was
    /// validated (leaf, intermediates or trust anchor) matches a pin. Required unless
    /// [`allow_unpinned`](Self::allow_unpinned) is set.
    pub portal_spki_pins: Vec<String>,
    /// Other origins the SDK may talk to (credential issuers, relying parties, other agencies),
    /// each with its own pins. Requests to an origin that is neither the portal nor listed here are
    /// refused unless [`allow_unpinned`](Self::allow_unpinned) is set.
    pub origin_pins: Vec<OriginPins>,
    /// A development setup: origins without pins (the portal's included) are reached with normal
    /// certificate validation only, and any HTTPS origin may be reached. Never set it in a release
    /// build; the SDK logs a warning when it is on.
    pub allow_unpinned: bool,
    /// Limit for one HTTP request, connection included.
    pub request_timeout: Duration,
    /// The keys that may sign the trust list. Empty: the SDK fetches no trust list and trusts
    /// no issuer, relying party or signer beyond the configured origins. Give the next anchor
    /// here before the portal switches to it, so an anchor rotation needs no lock-step update.
    pub trust_anchors: Vec<TrustAnchor>,
    /// How many days check-in diary entries are kept before the core purges them (at open and
    /// at each `sync_now`). 1 to 365; 14 by default.
    pub checkin_retention_days: u32,
    /// How the outbox senders back off after a transient failure (2 s doubling to an hour, full
    /// jitter, by default). Tests shorten it; apps have no reason to.
    pub outbox_retry: crate::outbox::RetryPolicy,
}

/// The most days a check-in diary entry may be kept.
pub const MAX_CHECKIN_RETENTION_DAYS: u32 = 365;

/// The pins of one origin (`https://host[:port]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPins {
    pub origin: String,
    pub spki_pins: Vec<String>,
}

impl CitizenConfig {
    pub fn new(data_dir: impl Into<PathBuf>, portal_base_url: impl Into<String>) -> Self {
        Self {
            data_dir: data_dir.into(),
            portal_base_url: portal_base_url.into(),
            trusted_roots_pem: Vec::new(),
            portal_spki_pins: Vec::new(),
            origin_pins: Vec::new(),
            allow_unpinned: false,
            request_timeout: Duration::from_secs(30),
            trust_anchors: Vec::new(),
            checkin_retention_days: crate::checkin::DEFAULT_RETENTION_DAYS,
            outbox_retry: crate::outbox::RetryPolicy::default(),
        }
    }
}

/// A setting the SDK cannot use. Says which one, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("the portal URL is not a valid absolute URL")]
    InvalidPortalUrl,
    #[error("the portal URL must use https; the SDK has no cleartext mode")]
    InsecurePortalUrl,
    #[error("trusted root certificate {index} is not a valid PEM certificate")]
    InvalidRootCertificate { index: usize },
    #[error("SPKI pin {index} is not of the form sha256/<base64 of 32 bytes>")]
    InvalidPin { index: usize },
    #[error("origin {index} is not an https origin (https://host[:port] with no path)")]
    InvalidOrigin { index: usize },
    #[error("SPKI pin {pin} of origin {index} is not of the form sha256/<base64 of 32 bytes>")]
    InvalidOriginPin { index: usize, pin: usize },
    #[error("origin {index} is listed twice")]
    DuplicateOrigin { index: usize },
    /// Pinning is required: give the portal's pins, or mark the config as a development setup.
    #[error("the portal has no SPKI pins and allow_unpinned is not set")]
    PortalPinsRequired,
    #[error("origin {index} has no SPKI pins and allow_unpinned is not set")]
    OriginPinsRequired { index: usize },
    /// The anchor's key id is empty, or its JWK is not a P-256 public key.
    #[error("trust anchor {index} is not a key id with a P-256 public JWK")]
    InvalidTrustAnchor { index: usize },
    #[error("trust anchor {index} has the key id of an earlier one")]
    DuplicateTrustAnchor { index: usize },
    #[error("the request timeout must be positive")]
    InvalidTimeout,
    #[error("the check-in retention must be 1 to 365 days")]
    InvalidCheckinRetention,
    /// Not the caller's fault: the TLS stack refused to build with valid settings.
    #[error("the HTTP client could not be set up")]
    HttpClientSetup,
}

/// Checks the trust anchors: each has a key id, and no two share one (a list names its signer by
/// key id alone, so two anchors under one id would make verification depend on their order).
/// The JWKs were checked when the anchors were made.
pub(crate) fn validate_trust_anchors(anchors: &[TrustAnchor]) -> Result<(), ConfigError> {
    for (index, anchor) in anchors.iter().enumerate() {
        if anchor.kid.is_empty() {
            return Err(ConfigError::InvalidTrustAnchor { index });
        }
        if anchors[..index].iter().any(|a| a.kid == anchor.kid) {
            return Err(ConfigError::DuplicateTrustAnchor { index });
        }
    }
    Ok(())
}

/// Checks the check-in retention period: 1 to [`MAX_CHECKIN_RETENTION_DAYS`] days.
pub(crate) fn validate_checkin_retention(days: u32) -> Result<(), ConfigError> {
    if (1..=MAX_CHECKIN_RETENTION_DAYS).contains(&days) {
        Ok(())
    } else {
        Err(ConfigError::InvalidCheckinRetention)
    }
}

/// The portal URL, checked and normalised to end with `/` so relative paths join under it.
pub(crate) fn parse_portal_url(raw: &str) -> Result<Url, ConfigError> {
    let mut url = Url::parse(raw).map_err(|_| ConfigError::InvalidPortalUrl)?;
    if url.scheme() != "https" {
        return Err(ConfigError::InsecurePortalUrl);
    }
    if url.host_str().is_none() || url.cannot_be_a_base() {
        return Err(ConfigError::InvalidPortalUrl);
    }
    // Credentials, a query or a fragment in the base would travel with every request or be
    // silently dropped by joins; neither is what anyone meant.
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(ConfigError::InvalidPortalUrl);
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// The roots a chain may end in: the public web roots plus the configured ones. Each configured
/// PEM must hold at least one certificate usable as a trust anchor.
pub(crate) fn parse_roots(pems: &[String]) -> Result<RootCertStore, ConfigError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for (index, pem) in pems.iter().enumerate() {
        let invalid = ConfigError::InvalidRootCertificate { index };
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|_| invalid.clone())?;
        if certs.is_empty() {
            return Err(invalid);
        }
        for cert in certs {
            roots.add(cert).map_err(|_| invalid.clone())?;
        }
    }
    Ok(roots)
}

/// Parses `sha256/<base64>` pins; the error names the index of the first bad one.
pub(crate) fn parse_pins(pins: &[String]) -> Result<Vec<[u8; 32]>, usize> {
    pins.iter()
        .enumerate()
        .map(|(index, pin)| {
            pin.strip_prefix("sha256/")
                .and_then(|b64| STANDARD.decode(b64).ok())
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .ok_or(index)
        })
        .collect()
}

/// The pin string for a DER SubjectPublicKeyInfo, in the form [`CitizenConfig::portal_spki_pins`]
/// takes.
pub fn spki_pin(spki_der: &[u8]) -> String {
    format!("sha256/{}", STANDARD.encode(spki_sha256(spki_der)))
}

/// The pin of a DER X.509 certificate's public key; `None` if it does not parse.
pub fn certificate_spki_pin(certificate_der: &[u8]) -> Option<String> {
    Some(spki_pin(certificate_spki(certificate_der)?))
}

/// The SHA-256 of a DER SubjectPublicKeyInfo, as pins compare it.
pub(crate) fn spki_sha256(spki_der: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, spki_der);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

fn certificate_spki(certificate_der: &[u8]) -> Option<&[u8]> {
    let (parsed, _) = crate::x509::Certificate::parse(certificate_der).ok()?;
    Some(parsed.spki)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_https_base_urls_are_accepted() {
        assert_eq!(
            parse_portal_url("http://portal.example").unwrap_err(),
            ConfigError::InsecurePortalUrl
        );
        assert_eq!(
            parse_portal_url("not a url").unwrap_err(),
            ConfigError::InvalidPortalUrl
        );
        for odd in [
            "https://user:pw@portal.example/",
            "https://portal.example/?x=1",
            "https://portal.example/#f",
        ] {
            assert_eq!(
                parse_portal_url(odd).unwrap_err(),
                ConfigError::InvalidPortalUrl,
                "{odd}"
            );
        }
        let url = parse_portal_url("https://portal.example/api").unwrap();
        assert_eq!(url.as_str(), "https://portal.example/api/");
    }

    #[test]
    fn trust_anchors_need_distinct_key_ids() {
        let jwk = r#"{"kty":"EC","crv":"P-256","x":"b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ","y":"Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8"}"#;
        let anchor = |kid: &str| TrustAnchor::from_jwk_json(kid, jwk).unwrap();
        assert_eq!(validate_trust_anchors(&[]), Ok(()));
        assert_eq!(validate_trust_anchors(&[anchor("a"), anchor("b")]), Ok(()));
        assert_eq!(
            validate_trust_anchors(&[anchor("a"), anchor("b"), anchor("a")]),
            Err(ConfigError::DuplicateTrustAnchor { index: 2 })
        );
        assert_eq!(
            validate_trust_anchors(&[anchor("a"), anchor("")]),
            Err(ConfigError::InvalidTrustAnchor { index: 1 })
        );
        assert!(TrustAnchor::from_jwk_json("a", r#"{"kty":"EC"}"#).is_err());
    }

    #[test]
    fn checkin_retention_is_bounded() {
        let config = CitizenConfig::new("/tmp/x", "https://portal.example/");
        assert_eq!(config.checkin_retention_days, 14);
        assert_eq!(validate_checkin_retention(14), Ok(()));
        assert_eq!(validate_checkin_retention(1), Ok(()));
        assert_eq!(validate_checkin_retention(365), Ok(()));
        for bad in [0, 366, u32::MAX] {
            assert_eq!(
                validate_checkin_retention(bad),
                Err(ConfigError::InvalidCheckinRetention)
            );
        }
    }

    #[test]
    fn pins_and_roots_are_validated_by_index() {
        let good = spki_pin(b"spki");
        assert_eq!(parse_pins(std::slice::from_ref(&good)).unwrap().len(), 1);
        assert_eq!(parse_pins(&[good, "sha1/AAAA".into()]).unwrap_err(), 1);
        assert_eq!(parse_pins(&["sha256/AAAA".into()]).unwrap_err(), 0);
        assert_eq!(
            parse_roots(&["-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n".into()])
                .unwrap_err(),
            ConfigError::InvalidRootCertificate { index: 0 }
        );
        assert_eq!(
            parse_roots(&["".into()]).unwrap_err(),
            ConfigError::InvalidRootCertificate { index: 0 }
        );
    }
}
