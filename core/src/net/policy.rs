//! The per-origin trust policy: which HTTPS origins the SDK may talk to, and the SPKI pins each
//! must match.
//!
//! Owns: [`Origin`] (scheme, host and port, normalised) and [`TrustPolicy`] (origin → pins, plus
//! the explicit development switch `allow_unpinned`). Does not own checking a certificate against
//! the pins (`pinning`) nor where the pins come from (the app's config today; a verified trust list
//! can add origins at run time through [`crate::net::HttpClient::trust_origin`]).

use std::collections::HashMap;
use std::fmt;

use url::Url;

use crate::config::{CitizenConfig, ConfigError, parse_pins, parse_portal_url};

/// An HTTPS origin: `https://host:port`. Two URLs are the same origin exactly when these match,
/// which is the unit pins and redirects are judged by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    host: String,
    port: u16,
}

impl Origin {
    /// The origin of an `https` URL; `None` for any other scheme or a URL without a host.
    pub fn of(url: &Url) -> Option<Self> {
        if url.scheme() != "https" {
            return None;
        }
        Some(Self {
            // The url crate already lower-cases and IDNA-normalises DNS names.
            host: url.host_str()?.to_string(),
            port: url.port_or_known_default()?,
        })
    }

    /// Parses `https://host[:port]` (a trailing `/` is allowed; a path, query or credentials are
    /// not, since an origin has none).
    pub fn parse(raw: &str) -> Option<Self> {
        let url = Url::parse(raw).ok()?;
        let bare = url.path() == "/"
            && url.query().is_none()
            && url.fragment().is_none()
            && url.username().is_empty()
            && url.password().is_none();
        if !bare {
            return None;
        }
        Self::of(&url)
    }

    /// The host as rustls reports it in `ServerName` (IPv6 without brackets).
    pub(crate) fn tls_host(&self) -> &str {
        self.host.trim_matches(['[', ']'])
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "https://{}:{}", self.host, self.port)
    }
}

/// Which origins may be reached and with which pins.
#[derive(Debug, Clone)]
pub struct TrustPolicy {
    pins: HashMap<Origin, Vec<[u8; 32]>>,
    allow_unpinned: bool,
}

/// What the policy says about one origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OriginTrust {
    /// A certificate on the validated path must match one of these.
    Pinned(Vec<[u8; 32]>),
    /// Development setup: normal certificate validation only.
    Unpinned,
    /// Not allowed at all.
    Refused,
}

impl TrustPolicy {
    /// The policy a config describes: the portal's origin with its pins, plus every listed origin.
    pub fn from_config(config: &CitizenConfig) -> Result<Self, ConfigError> {
        let portal = parse_portal_url(&config.portal_base_url)?;
        let portal_origin = Origin::of(&portal).ok_or(ConfigError::InvalidPortalUrl)?;
        let portal_pins = parse_pins(&config.portal_spki_pins)
            .map_err(|index| ConfigError::InvalidPin { index })?;
        if portal_pins.is_empty() && !config.allow_unpinned {
            return Err(ConfigError::PortalPinsRequired);
        }
        let mut policy = Self {
            pins: HashMap::new(),
            allow_unpinned: config.allow_unpinned,
        };
        if !portal_pins.is_empty() {
            policy.pins.insert(portal_origin.clone(), portal_pins);
        }
        let mut seen = vec![portal_origin];
        for (index, entry) in config.origin_pins.iter().enumerate() {
            let origin =
                Origin::parse(&entry.origin).ok_or(ConfigError::InvalidOrigin { index })?;
            if seen.contains(&origin) {
                return Err(ConfigError::DuplicateOrigin { index });
            }
            let pins = parse_pins(&entry.spki_pins)
                .map_err(|pin| ConfigError::InvalidOriginPin { index, pin })?;
            if pins.is_empty() {
                if !config.allow_unpinned {
                    return Err(ConfigError::OriginPinsRequired { index });
                }
            } else {
                policy.pins.insert(origin.clone(), pins);
            }
            seen.push(origin);
        }
        Ok(policy)
    }

    pub fn allows_unpinned(&self) -> bool {
        self.allow_unpinned
    }

    pub(crate) fn trust_for(&self, origin: &Origin) -> OriginTrust {
        match self.pins.get(origin) {
            Some(pins) => OriginTrust::Pinned(pins.clone()),
            None if self.allow_unpinned => OriginTrust::Unpinned,
            None => OriginTrust::Refused,
        }
    }

    /// Adds or replaces the pins of `origin`. An empty list removes them (and so refuses the
    /// origin unless the policy allows unpinned origins).
    pub(crate) fn set_pins(&mut self, origin: Origin, pins: Vec<[u8; 32]>) {
        if pins.is_empty() {
            self.pins.remove(&origin);
        } else {
            self.pins.insert(origin, pins);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{OriginPins, spki_pin};

    #[test]
    fn origins_are_normalised_and_bare() {
        let a = Origin::parse("https://Portal.Example").unwrap();
        let b = Origin::parse("https://portal.example:443/").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "https://portal.example:443");
        assert_ne!(a, Origin::parse("https://portal.example:8443").unwrap());
        for bad in [
            "http://portal.example",
            "https://portal.example/api",
            "https://u@portal.example",
            "https://portal.example/?q",
            "portal.example",
        ] {
            assert!(Origin::parse(bad).is_none(), "{bad}");
        }
        let v6 = Origin::parse("https://[::1]:9000").unwrap();
        assert_eq!(v6.tls_host(), "::1");
    }

    #[test]
    fn pinning_is_required_unless_the_config_is_a_development_setup() {
        let mut config = CitizenConfig::new("/tmp/x", "https://portal.example/");
        assert_eq!(
            TrustPolicy::from_config(&config).unwrap_err(),
            ConfigError::PortalPinsRequired
        );
        config.portal_spki_pins = vec![spki_pin(b"portal")];
        config.origin_pins = vec![OriginPins {
            origin: "https://issuer.example".into(),
            spki_pins: vec![],
        }];
        assert_eq!(
            TrustPolicy::from_config(&config).unwrap_err(),
            ConfigError::OriginPinsRequired { index: 0 }
        );
        config.origin_pins[0].spki_pins = vec![spki_pin(b"issuer")];
        let policy = TrustPolicy::from_config(&config).unwrap();
        let portal = Origin::parse("https://portal.example").unwrap();
        let issuer = Origin::parse("https://issuer.example").unwrap();
        let stranger = Origin::parse("https://elsewhere.example").unwrap();
        assert!(matches!(policy.trust_for(&portal), OriginTrust::Pinned(p) if p.len() == 1));
        assert!(matches!(policy.trust_for(&issuer), OriginTrust::Pinned(_)));
        assert_eq!(policy.trust_for(&stranger), OriginTrust::Refused);

        config.allow_unpinned = true;
        config.portal_spki_pins.clear();
        let development = TrustPolicy::from_config(&config).unwrap();
        assert_eq!(development.trust_for(&portal), OriginTrust::Unpinned);
        assert_eq!(development.trust_for(&stranger), OriginTrust::Unpinned);
        // Pins that are given still apply in a development setup.
        assert!(matches!(
            development.trust_for(&issuer),
            OriginTrust::Pinned(_)
        ));
    }

    #[test]
    fn bad_origin_entries_are_named_by_index() {
        let mut config = CitizenConfig::new("/tmp/x", "https://portal.example/");
        config.allow_unpinned = true;
        config.origin_pins = vec![
            OriginPins {
                origin: "https://a.example".into(),
                spki_pins: vec![spki_pin(b"a")],
            },
            OriginPins {
                origin: "https://b.example/path".into(),
                spki_pins: vec![],
            },
        ];
        assert_eq!(
            TrustPolicy::from_config(&config).unwrap_err(),
            ConfigError::InvalidOrigin { index: 1 }
        );
        config.origin_pins[1].origin = "https://A.example:443".into();
        assert_eq!(
            TrustPolicy::from_config(&config).unwrap_err(),
            ConfigError::DuplicateOrigin { index: 1 }
        );
        config.origin_pins[1] = OriginPins {
            origin: "https://portal.example".into(),
            spki_pins: vec![],
        };
        assert_eq!(
            TrustPolicy::from_config(&config).unwrap_err(),
            ConfigError::DuplicateOrigin { index: 1 }
        );
        config.origin_pins[1] = OriginPins {
            origin: "https://c.example".into(),
            spki_pins: vec!["sha256/short".into()],
        };
        assert_eq!(
            TrustPolicy::from_config(&config).unwrap_err(),
            ConfigError::InvalidOriginPin { index: 1, pin: 0 }
        );
    }
}
