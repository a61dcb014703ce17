//! The trust list: the signed document (JWS, ES256, `typ: trust-list+jwt`) in which the portal
//! names every party the SDK may trust: credential issuers, relying parties, venue and health
//! certificate signers, and extra HTTPS origins with their pins.
//!
//! Owns: the model ([`TrustList`] and its entries, [`TrustedKey`] with its validity window),
//! verifying a list against the configured [`TrustAnchor`]s ([`TrustList::verify`]: size bound
//! before any parsing, `typ`, the header `kid` naming an anchor, the signature, strict member
//! checks, `exp`), signing one for the sandbox and agency tools ([`TrustList::sign`]), the lookups
//! verifiers use (`issuer_key`, `relying_party`, `venue_key`, each honouring key windows, and
//! `health_signer`, the EU DCC document signer certificate by its key id), and the order between two lists ([`TrustList::is_newer_than`], which refuses
//! rollback). Pure and I/O-free: every input gives a list or a typed [`TrustListError`], never a
//! panic, so it can be fuzzed alone. Does not own fetching, caching, staleness or installing the
//! list's origins in the HTTP client (the `trust` module), nor the formats whose signatures the
//! keys check (`sdjwt`, the check-in and health modules).
//!
//! The contract is `docs/wallet-identity.md`, section "Trust list". Unknown members are ignored
//! so the list can grow; a member this code knows must have the documented type, and entries that
//! lookups tell apart by name (issuers by `iss`, relying parties by `client_id`, keys by `kid`,
//! origins) may not be listed twice, so a lookup can never depend on which duplicate came first.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use crate::config::parse_pins;
use crate::dcc::SignerCertificate;
use crate::jose::{EcPublicJwk, JwkError, Jws, JwsError, JwsSigner, sign_compact};
use crate::net::Origin;

/// The largest trust list accepted, checked before anything is decoded. The national list names
/// tens of issuers and hundreds of relying parties; each entry is well under a kilobyte.
pub const MAX_TRUST_LIST_BYTES: usize = 512 * 1024;

/// The JWS `typ` of a trust list.
pub const TRUST_LIST_TYP: &str = "trust-list+jwt";
/// The longest registered purpose of a relying party, in characters: a consent screen's paragraph.
pub const MAX_PURPOSE_CHARS: usize = 500;

/// A key that may sign the trust list: configured by the app, never learnt from a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustAnchor {
    /// The `kid` a list's JWS header names this key by.
    pub kid: String,
    pub jwk: EcPublicJwk,
}

impl TrustAnchor {
    /// An anchor from its JWK as JSON text (what an app's configuration carries).
    pub fn from_jwk_json(kid: impl Into<String>, jwk_json: &str) -> Result<Self, JwkError> {
        Ok(Self {
            kid: kid.into(),
            jwk: EcPublicJwk::from_json(jwk_json.as_bytes())?,
        })
    }
}

/// A public key with the window in which signatures made with it count (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    pub kid: String,
    pub jwk: EcPublicJwk,
    /// Signatures made before this time do not count. `None`: no lower bound.
    pub not_before: Option<i64>,
    /// Signatures made at or after this time do not count (the key was retired). `None`: no
    /// upper bound.
    pub not_after: Option<i64>,
}

impl TrustedKey {
    /// Whether a signature made at `at` (a credential's or a QR code's `iat`) counts. The window
    /// is half-open, `[not_before, not_after)`, so at the moment of a rotation exactly one of the
    /// old and the new key is valid.
    pub fn valid_at(&self, at: i64) -> bool {
        self.not_before.is_none_or(|from| at >= from) && self.not_after.is_none_or(|to| at < to)
    }
}

/// A credential issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedIssuer {
    /// The issuer identifier, exactly as a credential's `iss` carries it.
    pub iss: String,
    pub display_name: String,
    /// The credential types (`vct`) it may issue.
    pub vcts: Vec<String>,
    pub keys: Vec<TrustedKey>,
}

impl TrustedIssuer {
    pub fn may_issue(&self, vct: &str) -> bool {
        self.vcts.iter().any(|v| v == vct)
    }
}

/// A relying party: a verifier that may ask the wallet for claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingParty {
    pub client_id: String,
    pub display_name: String,
    /// The claim names it may ask for; a request for anything else is refused.
    pub allowed_claims: Vec<String>,
    pub keys: Vec<TrustedKey>,
    /// Hosts its `request_uri` and `response_uri` may point to.
    pub response_uri_hosts: Vec<String>,
    /// Why it asks, as registered with the list's operator: the consent screen shows this text,
    /// which the relying party cannot change per request.
    pub purpose: Option<String>,
}

impl RelyingParty {
    pub fn may_request(&self, claim: &str) -> bool {
        self.allowed_claims.iter().any(|c| c == claim)
    }
}

/// A signer of venue and counter QR codes (the check-in capability).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueSigner {
    pub agency: String,
    pub display_name: String,
    pub keys: Vec<TrustedKey>,
}

/// A signer of health certificates: an EU DCC issuing country and its document signer
/// certificates (DSCs), each found by its key id (the first 8 bytes of the certificate's
/// SHA-256) and valid within the certificate's own validity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthSigner {
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub certificates: Vec<SignerCertificate>,
}

/// An HTTPS origin the SDK may reach once the list is verified, with its pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedOrigin {
    /// `https://host[:port]`, checked to be a bare origin.
    pub origin: String,
    /// `sha256/<base64>` pins, at least one, each checked.
    pub spki_pins: Vec<String>,
}

/// A verified trust list (or one being built for signing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustList {
    /// Who publishes it (the portal's base URL).
    pub iss: String,
    pub iat: i64,
    /// From this time on (Unix seconds) the list is expired and nothing verifies against it.
    pub exp: i64,
    /// Only grows from one list to the next.
    pub sequence: u64,
    /// Seconds after fetching after which the cached list is reported stale.
    pub max_age: u64,
    pub issuers: Vec<TrustedIssuer>,
    pub relying_parties: Vec<RelyingParty>,
    pub venue_signers: Vec<VenueSigner>,
    pub health_signers: Vec<HealthSigner>,
    pub origins: Vec<TrustedOrigin>,
}

/// Why a trust list, or a lookup in one, was refused. The texts name members, never values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustListError {
    #[error("no trust anchors are configured")]
    NoAnchors,
    #[error("the trust list is {len} bytes, more than the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    #[error("the trust list JWS is refused: {0}")]
    Jws(#[from] JwsError),
    #[error("the trust list's JWS header names no key (`kid`)")]
    MissingKid,
    #[error("the trust list is signed by a key that is not a configured trust anchor")]
    UnknownAnchor,
    #[error("the trust list lacks the member `{0}`")]
    MissingMember(&'static str),
    #[error("the trust list member `{0}` is not valid")]
    InvalidMember(&'static str),
    #[error("the trust list lists the same `{0}` twice")]
    Duplicate(&'static str),
    #[error("the trust list has expired")]
    Expired,
    /// The offered list is not newer than the one already verified: a replay of an old list.
    #[error(
        "the trust list (sequence {offered}) is older than the one in use (sequence {current})"
    )]
    Rollback { current: u64, offered: u64 },
    #[error("the issuer is not in the trust list")]
    UnknownIssuer,
    #[error("the key is not in the trust list")]
    UnknownKey,
    #[error("the key is in the trust list but not valid at the signing time")]
    KeyNotValidAt,
}

impl TrustList {
    /// Verifies `jws` against `anchors` and returns the list it carries, refusing an expired one
    /// (`now >= exp`). For a list fetched from the network.
    pub fn verify(jws: &str, anchors: &[TrustAnchor], now: i64) -> Result<Self, TrustListError> {
        let list = Self::verify_ignoring_expiry(jws, anchors)?;
        if list.is_expired(now) {
            return Err(TrustListError::Expired);
        }
        Ok(list)
    }

    /// [`TrustList::verify`] without the `exp` check: for reading back the cached list, whose
    /// expiry is reported as a state rather than making the list vanish.
    pub fn verify_ignoring_expiry(
        jws: &str,
        anchors: &[TrustAnchor],
    ) -> Result<Self, TrustListError> {
        if anchors.is_empty() {
            return Err(TrustListError::NoAnchors);
        }
        if jws.len() > MAX_TRUST_LIST_BYTES {
            return Err(TrustListError::TooLarge {
                len: jws.len(),
                max: MAX_TRUST_LIST_BYTES,
            });
        }
        let parsed = Jws::parse(jws, MAX_TRUST_LIST_BYTES)?;
        parsed.check_typ(TRUST_LIST_TYP)?;
        let kid = parsed.header().kid().ok_or(TrustListError::MissingKid)?;
        let anchor = anchors
            .iter()
            .find(|anchor| anchor.kid == kid)
            .ok_or(TrustListError::UnknownAnchor)?;
        parsed.verify(&anchor.jwk)?;
        Self::from_claims(&parsed.claims()?)
    }

    /// Signs the list as a compact JWS whose header names the anchor `kid`. Refuses a list that
    /// [`TrustList::verify`] would refuse (apart from its `exp`), so a publisher cannot ship one.
    pub fn sign(&self, signer: &dyn JwsSigner, kid: &str) -> Result<String, TrustListError> {
        let Value::Object(claims) = self.to_value() else {
            return Err(TrustListError::InvalidMember("payload"));
        };
        Self::from_claims(&claims)?;
        let mut header = Map::new();
        header.insert("typ".into(), json!(TRUST_LIST_TYP));
        header.insert("kid".into(), json!(kid));
        let payload = serde_json::to_vec(&claims).map_err(|_| JwsError::Malformed)?;
        Ok(sign_compact(&header, &payload, signer)?)
    }

    /// Whether `now` is at or past `exp`.
    pub fn is_expired(&self, now: i64) -> bool {
        now >= self.exp
    }

    /// Whether this list may replace `other`: a higher `sequence`, or the same `sequence` signed
    /// later (the publisher re-signed unchanged content to extend `exp`). Anything else is a
    /// replay of an older list.
    pub fn is_newer_than(&self, other: &TrustList) -> bool {
        (self.sequence, self.iat) > (other.sequence, other.iat)
    }

    pub fn issuer(&self, iss: &str) -> Option<&TrustedIssuer> {
        self.issuers.iter().find(|issuer| issuer.iss == iss)
    }

    /// The key `kid` of issuer `iss`, if it was valid at `at` (the credential's `iat`).
    pub fn issuer_key(
        &self,
        iss: &str,
        kid: &str,
        at: i64,
    ) -> Result<&EcPublicJwk, TrustListError> {
        let issuer = self.issuer(iss).ok_or(TrustListError::UnknownIssuer)?;
        key_valid_at(&issuer.keys, kid, at)
    }

    pub fn relying_party(&self, client_id: &str) -> Option<&RelyingParty> {
        self.relying_parties
            .iter()
            .find(|rp| rp.client_id == client_id)
    }

    /// The venue signer owning key `kid`, and the key if it was valid at `at` (the QR's `iat`).
    pub fn venue_key(
        &self,
        kid: &str,
        at: i64,
    ) -> Result<(&VenueSigner, &EcPublicJwk), TrustListError> {
        let signer = self
            .venue_signers
            .iter()
            .find(|signer| signer.keys.iter().any(|key| key.kid == kid))
            .ok_or(TrustListError::UnknownKey)?;
        Ok((signer, key_valid_at(&signer.keys, kid, at)?))
    }

    /// The health certificate signer with the document signer certificate whose key id is
    /// `kid`, and that certificate (whose validity the DCC check applies).
    pub fn health_signer(&self, kid: &[u8]) -> Option<(&HealthSigner, &SignerCertificate)> {
        self.health_signers.iter().find_map(|signer| {
            signer
                .certificates
                .iter()
                .find(|certificate| certificate.kid() == kid)
                .map(|certificate| (signer, certificate))
        })
    }

    /// The payload as JSON, members as `docs/wallet-identity.md` names them.
    pub fn to_value(&self) -> Value {
        json!({
            "iss": self.iss,
            "iat": self.iat,
            "exp": self.exp,
            "sequence": self.sequence,
            "max_age": self.max_age,
            "issuers": self.issuers.iter().map(|issuer| json!({
                "iss": issuer.iss,
                "display_name": issuer.display_name,
                "vcts": issuer.vcts,
                "keys": keys_value(&issuer.keys),
            })).collect::<Vec<_>>(),
            "relying_parties": self.relying_parties.iter().map(|rp| json!({
                "client_id": rp.client_id,
                "display_name": rp.display_name,
                "allowed_claims": rp.allowed_claims,
                "keys": keys_value(&rp.keys),
                "response_uri_hosts": rp.response_uri_hosts,
                "purpose": rp.purpose,
            })).collect::<Vec<_>>(),
            "venue_signers": self.venue_signers.iter().map(|signer| json!({
                "agency": signer.agency,
                "display_name": signer.display_name,
                "keys": keys_value(&signer.keys),
            })).collect::<Vec<_>>(),
            "health_signers": self.health_signers.iter().map(|signer| json!({
                "country": signer.country,
                "certificates": signer
                    .certificates
                    .iter()
                    .map(SignerCertificate::to_base64)
                    .collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "origins": self.origins.iter().map(|origin| json!({
                "origin": origin.origin,
                "spki_pins": origin.spki_pins,
            })).collect::<Vec<_>>(),
        })
    }

    fn from_claims(claims: &Map<String, Value>) -> Result<Self, TrustListError> {
        let list = TrustList {
            iss: identifier(claims, "iss", "iss")?,
            iat: time(claims, "iat", "iat")?.ok_or(TrustListError::MissingMember("iat"))?,
            exp: time(claims, "exp", "exp")?.ok_or(TrustListError::MissingMember("exp"))?,
            sequence: unsigned(claims, "sequence")?,
            max_age: unsigned(claims, "max_age")?,
            issuers: entries(claims, "issuers", issuer)?,
            relying_parties: entries(claims, "relying_parties", relying_party)?,
            venue_signers: entries(claims, "venue_signers", venue_signer)?,
            health_signers: entries(claims, "health_signers", health_signer)?,
            origins: entries(claims, "origins", origin)?,
        };
        if list.exp < list.iat {
            return Err(TrustListError::InvalidMember("exp"));
        }
        unique(list.issuers.iter().map(|i| i.iss.as_str()), "issuers[].iss")?;
        unique(
            list.relying_parties.iter().map(|rp| rp.client_id.as_str()),
            "relying_parties[].client_id",
        )?;
        // Venue and health keys are found by `kid` alone, across all signers (a health signer's
        // key id is its certificate's).
        unique(
            list.venue_signers
                .iter()
                .flat_map(|s| s.keys.iter().map(|k| k.kid.as_str())),
            "venue_signers[].keys[].kid",
        )?;
        unique(
            list.health_signers
                .iter()
                .flat_map(|s| s.certificates.iter().map(SignerCertificate::kid)),
            "health_signers[].certificates[]",
        )?;
        let origins: Vec<Origin> = list
            .origins
            .iter()
            .filter_map(|o| Origin::parse(&o.origin))
            .collect();
        let mut seen = HashSet::new();
        if !origins.iter().all(|origin| seen.insert(origin)) {
            return Err(TrustListError::Duplicate("origins[].origin"));
        }
        Ok(list)
    }
}

fn key_valid_at<'a>(
    keys: &'a [TrustedKey],
    kid: &str,
    at: i64,
) -> Result<&'a EcPublicJwk, TrustListError> {
    let key = keys
        .iter()
        .find(|key| key.kid == kid)
        .ok_or(TrustListError::UnknownKey)?;
    if !key.valid_at(at) {
        return Err(TrustListError::KeyNotValidAt);
    }
    Ok(&key.jwk)
}

fn keys_value(keys: &[TrustedKey]) -> Vec<Value> {
    keys.iter()
        .map(|key| {
            let mut entry = json!({"kid": key.kid, "jwk": key.jwk.to_value()});
            if let Some(not_before) = key.not_before {
                entry["not_before"] = json!(not_before);
            }
            if let Some(not_after) = key.not_after {
                entry["not_after"] = json!(not_after);
            }
            entry
        })
        .collect()
}

fn unique<T: Eq + std::hash::Hash>(
    names: impl Iterator<Item = T>,
    field: &'static str,
) -> Result<(), TrustListError> {
    let mut seen = HashSet::new();
    for name in names {
        if !seen.insert(name) {
            return Err(TrustListError::Duplicate(field));
        }
    }
    Ok(())
}

// Member readers. `name` is the member in its object, `field` its path in the list for errors
// (a static text: an error never carries a value from the list).

fn string(
    object: &Map<String, Value>,
    name: &str,
    field: &'static str,
) -> Result<String, TrustListError> {
    match object.get(name) {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(_) => Err(TrustListError::InvalidMember(field)),
        None => Err(TrustListError::MissingMember(field)),
    }
}

/// A string that names something: it may not be empty.
fn identifier(
    object: &Map<String, Value>,
    name: &str,
    field: &'static str,
) -> Result<String, TrustListError> {
    let text = string(object, name, field)?;
    if text.is_empty() {
        return Err(TrustListError::InvalidMember(field));
    }
    Ok(text)
}

fn strings(
    object: &Map<String, Value>,
    name: &str,
    field: &'static str,
    required: bool,
) -> Result<Vec<String>, TrustListError> {
    match object.get(name) {
        None if required => Err(TrustListError::MissingMember(field)),
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(text) => Ok(text.clone()),
                _ => Err(TrustListError::InvalidMember(field)),
            })
            .collect(),
        Some(_) => Err(TrustListError::InvalidMember(field)),
    }
}

/// An optional time in Unix seconds: a non-negative integer.
fn time(
    object: &Map<String, Value>,
    name: &str,
    field: &'static str,
) -> Result<Option<i64>, TrustListError> {
    match object.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_i64()
            .filter(|seconds| *seconds >= 0)
            .map(Some)
            .ok_or(TrustListError::InvalidMember(field)),
    }
}

fn unsigned(object: &Map<String, Value>, name: &'static str) -> Result<u64, TrustListError> {
    object
        .get(name)
        .ok_or(TrustListError::MissingMember(name))?
        .as_u64()
        .ok_or(TrustListError::InvalidMember(name))
}

/// An optional array of objects, each read by `read`.
fn entries<T>(
    claims: &Map<String, Value>,
    name: &'static str,
    read: fn(&Map<String, Value>) -> Result<T, TrustListError>,
) -> Result<Vec<T>, TrustListError> {
    match claims.get(name) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::Object(object) => read(object),
                _ => Err(TrustListError::InvalidMember(name)),
            })
            .collect(),
        Some(_) => Err(TrustListError::InvalidMember(name)),
    }
}

/// The `keys` member of an entry; `field` is its path (`issuers[].keys`, ...).
fn keys(
    object: &Map<String, Value>,
    field: &'static str,
    required: bool,
) -> Result<Vec<TrustedKey>, TrustListError> {
    let items = match object.get("keys") {
        None if required => return Err(TrustListError::MissingMember(field)),
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(TrustListError::InvalidMember(field)),
    };
    let keys = items
        .iter()
        .map(|item| {
            let Value::Object(entry) = item else {
                return Err(TrustListError::InvalidMember(field));
            };
            let key = TrustedKey {
                kid: identifier(entry, "kid", "keys[].kid")?,
                jwk: EcPublicJwk::from_value(
                    entry
                        .get("jwk")
                        .ok_or(TrustListError::MissingMember("keys[].jwk"))?,
                )
                .map_err(|_| TrustListError::InvalidMember("keys[].jwk"))?,
                not_before: time(entry, "not_before", "keys[].not_before")?,
                not_after: time(entry, "not_after", "keys[].not_after")?,
            };
            if let (Some(from), Some(to)) = (key.not_before, key.not_after)
                && to < from
            {
                return Err(TrustListError::InvalidMember("keys[].not_after"));
            }
            Ok(key)
        })
        .collect::<Result<Vec<_>, _>>()?;
    unique(keys.iter().map(|k| k.kid.as_str()), "keys[].kid")?;
    Ok(keys)
}

fn issuer(object: &Map<String, Value>) -> Result<TrustedIssuer, TrustListError> {
    Ok(TrustedIssuer {
        iss: identifier(object, "iss", "issuers[].iss")?,
        display_name: string(object, "display_name", "issuers[].display_name")?,
        vcts: strings(object, "vcts", "issuers[].vcts", true)?,
        keys: keys(object, "issuers[].keys", true)?,
    })
}

fn relying_party(object: &Map<String, Value>) -> Result<RelyingParty, TrustListError> {
    Ok(RelyingParty {
        client_id: identifier(object, "client_id", "relying_parties[].client_id")?,
        display_name: string(object, "display_name", "relying_parties[].display_name")?,
        allowed_claims: strings(
            object,
            "allowed_claims",
            "relying_parties[].allowed_claims",
            true,
        )?,
        keys: keys(object, "relying_parties[].keys", false)?,
        response_uri_hosts: strings(
            object,
            "response_uri_hosts",
            "relying_parties[].response_uri_hosts",
            false,
        )?,
        purpose: match object.get("purpose") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) if text.chars().count() <= MAX_PURPOSE_CHARS => {
                Some(text.clone())
            }
            Some(_) => return Err(TrustListError::InvalidMember("relying_parties[].purpose")),
        },
    })
}

fn venue_signer(object: &Map<String, Value>) -> Result<VenueSigner, TrustListError> {
    Ok(VenueSigner {
        agency: identifier(object, "agency", "venue_signers[].agency")?,
        display_name: string(object, "display_name", "venue_signers[].display_name")?,
        keys: keys(object, "venue_signers[].keys", true)?,
    })
}

fn health_signer(object: &Map<String, Value>) -> Result<HealthSigner, TrustListError> {
    let country = identifier(object, "country", "health_signers[].country")?;
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(TrustListError::InvalidMember("health_signers[].country"));
    }
    let field = "health_signers[].certificates";
    let certificates = strings(object, "certificates", field, true)?
        .iter()
        .map(|text| {
            SignerCertificate::from_base64(text).map_err(|_| TrustListError::InvalidMember(field))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if certificates.is_empty() {
        return Err(TrustListError::InvalidMember(field));
    }
    Ok(HealthSigner {
        country,
        certificates,
    })
}

fn origin(object: &Map<String, Value>) -> Result<TrustedOrigin, TrustListError> {
    let origin = string(object, "origin", "origins[].origin")?;
    if Origin::parse(&origin).is_none() {
        return Err(TrustListError::InvalidMember("origins[].origin"));
    }
    let spki_pins = strings(object, "spki_pins", "origins[].spki_pins", true)?;
    // An origin without pins would be reachable on certificate validation alone: the list may
    // only widen the policy with pinned origins.
    if spki_pins.is_empty() || parse_pins(&spki_pins).is_err() {
        return Err(TrustListError::InvalidMember("origins[].spki_pins"));
    }
    Ok(TrustedOrigin { origin, spki_pins })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::{SoftwareSigner, base64url};

    const NOW: i64 = 1_800_000_000;
    const ISSUER: &str = "https://portal.example/";

    fn key(signer: &SoftwareSigner, kid: &str, window: (Option<i64>, Option<i64>)) -> TrustedKey {
        TrustedKey {
            kid: kid.into(),
            jwk: signer.public_key().clone(),
            not_before: window.0,
            not_after: window.1,
        }
    }

    struct Fixture {
        anchor_signer: SoftwareSigner,
        anchors: Vec<TrustAnchor>,
        old_issuer_key: SoftwareSigner,
        new_issuer_key: SoftwareSigner,
        list: TrustList,
    }

    fn fixture() -> Fixture {
        let anchor_signer = SoftwareSigner::generate().unwrap();
        let anchors = vec![TrustAnchor {
            kid: "anchor-1".into(),
            jwk: anchor_signer.public_key().clone(),
        }];
        let old_issuer_key = SoftwareSigner::generate().unwrap();
        let new_issuer_key = SoftwareSigner::generate().unwrap();
        let venue_key = SoftwareSigner::generate().unwrap();
        let rotated_at = NOW - 100;
        let list = TrustList {
            iss: ISSUER.into(),
            iat: NOW - 10,
            exp: NOW + 7 * 86_400,
            sequence: 7,
            max_age: 86_400,
            issuers: vec![TrustedIssuer {
                iss: ISSUER.into(),
                display_name: "Sandbox issuer".into(),
                vcts: vec!["urn:eudi:pid:vn:1".into()],
                keys: vec![
                    key(&new_issuer_key, "issuer-2", (Some(rotated_at), None)),
                    key(
                        &old_issuer_key,
                        "issuer-1",
                        (Some(NOW - 10_000), Some(rotated_at)),
                    ),
                ],
            }],
            relying_parties: vec![RelyingParty {
                client_id: "x509_san_dns:rp.example".into(),
                display_name: "A relying party".into(),
                allowed_claims: vec!["age_over_18".into()],
                keys: vec![],
                response_uri_hosts: vec!["rp.example".into()],
                purpose: None,
            }],
            venue_signers: vec![VenueSigner {
                agency: "health-dept".into(),
                display_name: "Department of Health".into(),
                keys: vec![key(&venue_key, "venue-1", (None, None))],
            }],
            health_signers: vec![HealthSigner {
                country: "VN".into(),
                certificates: vec![crate::dcc::signer::test_certificate("dsc-ec")],
            }],
            origins: vec![TrustedOrigin {
                origin: "https://issuer.example".into(),
                spki_pins: vec![crate::config::spki_pin(b"issuer")],
            }],
        };
        Fixture {
            anchor_signer,
            anchors,
            old_issuer_key,
            new_issuer_key,
            list,
        }
    }

    /// Signs an arbitrary payload as a trust list would be, so members can be broken at will.
    fn sign_payload(payload: &Value, signer: &SoftwareSigner, kid: &str) -> String {
        let mut header = Map::new();
        header.insert("typ".into(), json!(TRUST_LIST_TYP));
        header.insert("kid".into(), json!(kid));
        sign_compact(&header, &serde_json::to_vec(payload).unwrap(), signer).unwrap()
    }

    fn with_header(compact: &str, header: &Value) -> String {
        let mut parts: Vec<String> = compact.split('.').map(str::to_owned).collect();
        parts[0] = base64url::encode(serde_json::to_vec(header).unwrap());
        parts.join(".")
    }

    #[test]
    fn a_signed_list_verifies_and_reads_back_unchanged() {
        let f = fixture();
        let jws = f.list.sign(&f.anchor_signer, "anchor-1").unwrap();
        let verified = TrustList::verify(&jws, &f.anchors, NOW).unwrap();
        assert_eq!(verified, f.list);
        // A second anchor (the next one, shipped before the portal switches) changes nothing.
        let mut anchors = f.anchors.clone();
        anchors.insert(
            0,
            TrustAnchor {
                kid: "anchor-2".into(),
                jwk: SoftwareSigner::generate().unwrap().public_key().clone(),
            },
        );
        assert_eq!(TrustList::verify(&jws, &anchors, NOW).unwrap(), f.list);
    }

    #[test]
    fn key_rotation_new_keys_verify_and_retired_keys_stop() {
        let f = fixture();
        let list = &f.list;
        let rotated_at = NOW - 100;
        assert_eq!(
            list.issuer_key(ISSUER, "issuer-2", NOW).unwrap(),
            f.new_issuer_key.public_key()
        );
        // The retired key still verifies what it signed before its retirement ...
        assert_eq!(
            list.issuer_key(ISSUER, "issuer-1", rotated_at - 1).unwrap(),
            f.old_issuer_key.public_key()
        );
        // ... and nothing signed from then on; the new key nothing signed before it existed.
        for at in [rotated_at, NOW] {
            assert_eq!(
                list.issuer_key(ISSUER, "issuer-1", at),
                Err(TrustListError::KeyNotValidAt)
            );
        }
        assert_eq!(
            list.issuer_key(ISSUER, "issuer-2", rotated_at - 1),
            Err(TrustListError::KeyNotValidAt)
        );
        assert_eq!(
            list.issuer_key(ISSUER, "issuer-3", NOW),
            Err(TrustListError::UnknownKey)
        );
        assert_eq!(
            list.issuer_key("https://elsewhere.example/", "issuer-2", NOW),
            Err(TrustListError::UnknownIssuer)
        );
        // A key dropped from the list stops verifying everywhere.
        let mut next = list.clone();
        next.issuers[0].keys.truncate(1);
        assert_eq!(
            next.issuer_key(ISSUER, "issuer-1", rotated_at - 1),
            Err(TrustListError::UnknownKey)
        );
        assert!(list.issuer(ISSUER).unwrap().may_issue("urn:eudi:pid:vn:1"));
        assert!(!list.issuer(ISSUER).unwrap().may_issue("urn:eudi:pid:vn:2"));
    }

    #[test]
    fn relying_parties_venue_and_health_signers_are_found() {
        let f = fixture();
        let rp = f.list.relying_party("x509_san_dns:rp.example").unwrap();
        assert!(rp.may_request("age_over_18") && !rp.may_request("id_number"));
        assert!(f.list.relying_party("x509_san_dns:evil.example").is_none());
        let (venue, _) = f.list.venue_key("venue-1", NOW).unwrap();
        assert_eq!(venue.agency, "health-dept");
        let dsc = crate::dcc::signer::test_certificate("dsc-ec");
        let (health, certificate) = f.list.health_signer(dsc.kid()).unwrap();
        assert_eq!(health.country, "VN");
        assert_eq!(certificate, &dsc);
        assert!(f.list.health_signer(b"12345678").is_none());
        assert!(f.list.health_signer(&dsc.kid()[..7]).is_none());
    }

    #[test]
    fn a_list_signed_by_a_key_that_is_not_an_anchor_is_refused() {
        let f = fixture();
        let attacker = SoftwareSigner::generate().unwrap();
        // Under its own key id: no anchor has it.
        let own_kid = f.list.sign(&attacker, "attacker").unwrap();
        assert_eq!(
            TrustList::verify(&own_kid, &f.anchors, NOW),
            Err(TrustListError::UnknownAnchor)
        );
        // Under the anchor's key id: the anchor's key does not verify it.
        let anchor_kid = f.list.sign(&attacker, "anchor-1").unwrap();
        assert_eq!(
            TrustList::verify(&anchor_kid, &f.anchors, NOW),
            Err(TrustListError::Jws(JwsError::BadSignature))
        );
        // A key carried in the header is never used.
        let mut header = json!({"alg": "ES256", "typ": TRUST_LIST_TYP, "kid": "anchor-1"});
        header["jwk"] = attacker.public_key().to_value();
        assert_eq!(
            TrustList::verify(&with_header(&anchor_kid, &header), &f.anchors, NOW),
            Err(TrustListError::Jws(JwsError::BadSignature))
        );
        assert_eq!(
            TrustList::verify(&own_kid, &[], NOW),
            Err(TrustListError::NoAnchors)
        );
    }

    #[test]
    fn a_tampered_payload_is_refused() {
        let f = fixture();
        let jws = f.list.sign(&f.anchor_signer, "anchor-1").unwrap();
        let mut parts: Vec<String> = jws.split('.').map(str::to_owned).collect();
        let mut payload = f.list.to_value();
        let attacker = SoftwareSigner::generate().unwrap();
        payload["issuers"][0]["keys"][0]["jwk"] = attacker.public_key().to_value();
        parts[1] = base64url::encode(serde_json::to_vec(&payload).unwrap());
        assert_eq!(
            TrustList::verify(&parts.join("."), &f.anchors, NOW),
            Err(TrustListError::Jws(JwsError::BadSignature))
        );
    }

    #[test]
    fn unsigned_or_wrongly_typed_headers_are_refused() {
        let f = fixture();
        let jws = f.list.sign(&f.anchor_signer, "anchor-1").unwrap();
        for (header, expected) in [
            (
                json!({"alg": "none", "typ": TRUST_LIST_TYP, "kid": "anchor-1"}),
                TrustListError::Jws(JwsError::AlgNone),
            ),
            (
                json!({"alg": "HS256", "typ": TRUST_LIST_TYP, "kid": "anchor-1"}),
                TrustListError::Jws(JwsError::UnsupportedAlgorithm),
            ),
            (
                json!({"alg": "ES256", "typ": "JWT", "kid": "anchor-1"}),
                TrustListError::Jws(JwsError::TypMismatch),
            ),
            (
                json!({"alg": "ES256", "kid": "anchor-1"}),
                TrustListError::Jws(JwsError::TypMismatch),
            ),
            (
                json!({"alg": "ES256", "typ": TRUST_LIST_TYP}),
                TrustListError::MissingKid,
            ),
            (
                json!({"alg": "ES256", "typ": TRUST_LIST_TYP, "kid": 1}),
                TrustListError::MissingKid,
            ),
        ] {
            assert_eq!(
                TrustList::verify(&with_header(&jws, &header), &f.anchors, NOW),
                Err(expected),
                "{header}"
            );
        }
        // HS256 keyed with the anchor's public key, the classic confusion attack.
        let forged_input = format!(
            "{}.{}",
            base64url::encode(
                serde_json::to_vec(
                    &json!({"alg": "HS256", "typ": TRUST_LIST_TYP, "kid": "anchor-1"})
                )
                .unwrap()
            ),
            jws.split('.').nth(1).unwrap()
        );
        let mac = ring::hmac::sign(
            &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &f.anchors[0].jwk.to_sec1()),
            forged_input.as_bytes(),
        );
        let forged = format!("{forged_input}.{}", base64url::encode(mac.as_ref()));
        assert_eq!(
            TrustList::verify(&forged, &f.anchors, NOW),
            Err(TrustListError::Jws(JwsError::UnsupportedAlgorithm))
        );
    }

    #[test]
    fn an_expired_list_is_refused_but_reads_back_for_reporting() {
        let f = fixture();
        let jws = f.list.sign(&f.anchor_signer, "anchor-1").unwrap();
        assert_eq!(
            TrustList::verify(&jws, &f.anchors, f.list.exp),
            Err(TrustListError::Expired)
        );
        assert!(TrustList::verify(&jws, &f.anchors, f.list.exp - 1).is_ok());
        assert_eq!(
            TrustList::verify_ignoring_expiry(&jws, &f.anchors).unwrap(),
            f.list
        );
    }

    #[test]
    fn only_a_newer_list_may_replace_the_current_one() {
        let f = fixture();
        let current = &f.list;
        let mut lower = current.clone();
        lower.sequence -= 1;
        lower.iat += 1_000;
        assert!(!lower.is_newer_than(current), "rollback");
        assert!(current.is_newer_than(&lower));
        assert!(
            !current.is_newer_than(current),
            "the same list is not newer"
        );
        let mut resigned = current.clone();
        resigned.iat += 60;
        resigned.exp += 60;
        assert!(resigned.is_newer_than(current), "same content signed later");
        let mut next = current.clone();
        next.sequence += 1;
        next.iat -= 60;
        assert!(next.is_newer_than(current));
    }

    #[test]
    fn members_are_checked_strictly_and_unknown_ones_ignored() {
        let f = fixture();
        let good = f.list.to_value();
        let verify = |payload: &Value| {
            TrustList::verify(
                &sign_payload(payload, &f.anchor_signer, "anchor-1"),
                &f.anchors,
                NOW,
            )
        };
        let mut extended = good.clone();
        extended["future_member"] = json!({"anything": [1, 2]});
        extended["issuers"][0]["logo"] = json!("https://portal.example/logo.png");
        assert_eq!(verify(&extended).unwrap(), f.list);
        let mut minimal =
            json!({"iss": ISSUER, "iat": NOW, "exp": NOW + 1, "sequence": 0, "max_age": 0});
        assert!(verify(&minimal).unwrap().issuers.is_empty());
        minimal["issuers"] = json!([]);
        assert!(verify(&minimal).is_ok());

        type Breakage = (fn(&mut Value), TrustListError);
        let breakages: Vec<Breakage> = vec![
            (
                |v| {
                    v.as_object_mut().unwrap().remove("iss");
                },
                TrustListError::MissingMember("iss"),
            ),
            (
                |v| v["iss"] = json!(""),
                TrustListError::InvalidMember("iss"),
            ),
            (
                |v| v["iat"] = json!("1"),
                TrustListError::InvalidMember("iat"),
            ),
            (
                |v| v["exp"] = json!(-1),
                TrustListError::InvalidMember("exp"),
            ),
            (
                |v| v["exp"] = json!(1.5),
                TrustListError::InvalidMember("exp"),
            ),
            (
                |v| v["exp"] = v["iat"].as_i64().map(|t| t - 1).into(),
                TrustListError::InvalidMember("exp"),
            ),
            (
                |v| v["sequence"] = json!(-1),
                TrustListError::InvalidMember("sequence"),
            ),
            (
                |v| {
                    v.as_object_mut().unwrap().remove("max_age");
                },
                TrustListError::MissingMember("max_age"),
            ),
            (
                |v| v["issuers"] = json!({}),
                TrustListError::InvalidMember("issuers"),
            ),
            (
                |v| v["issuers"] = json!(["x"]),
                TrustListError::InvalidMember("issuers"),
            ),
            (
                |v| {
                    v["issuers"][0].as_object_mut().unwrap().remove("vcts");
                },
                TrustListError::MissingMember("issuers[].vcts"),
            ),
            (
                |v| v["issuers"][0]["vcts"] = json!([1]),
                TrustListError::InvalidMember("issuers[].vcts"),
            ),
            (
                |v| {
                    let copy = v["issuers"][0].clone();
                    v["issuers"].as_array_mut().unwrap().push(copy);
                },
                TrustListError::Duplicate("issuers[].iss"),
            ),
            (
                |v| v["issuers"][0]["keys"][1]["kid"] = json!("issuer-2"),
                TrustListError::Duplicate("keys[].kid"),
            ),
            (
                |v| v["issuers"][0]["keys"][0]["kid"] = json!(""),
                TrustListError::InvalidMember("keys[].kid"),
            ),
            (
                |v| v["issuers"][0]["keys"][0]["jwk"]["d"] = json!("AAAA"),
                TrustListError::InvalidMember("keys[].jwk"),
            ),
            (
                |v| v["issuers"][0]["keys"][0]["jwk"]["crv"] = json!("P-384"),
                TrustListError::InvalidMember("keys[].jwk"),
            ),
            (
                |v| {
                    v["issuers"][0]["keys"][0]
                        .as_object_mut()
                        .unwrap()
                        .remove("jwk");
                },
                TrustListError::MissingMember("keys[].jwk"),
            ),
            (
                |v| {
                    v["issuers"][0]["keys"][1]["not_after"] =
                        json!(v["issuers"][0]["keys"][1]["not_before"].as_i64().unwrap() - 1)
                },
                TrustListError::InvalidMember("keys[].not_after"),
            ),
            (
                |v| v["relying_parties"][0]["allowed_claims"] = json!("age_over_18"),
                TrustListError::InvalidMember("relying_parties[].allowed_claims"),
            ),
            (
                |v| {
                    let copy = v["relying_parties"][0].clone();
                    v["relying_parties"].as_array_mut().unwrap().push(copy);
                },
                TrustListError::Duplicate("relying_parties[].client_id"),
            ),
            (
                |v| {
                    let mut copy = v["venue_signers"][0].clone();
                    copy["agency"] = json!("police");
                    v["venue_signers"].as_array_mut().unwrap().push(copy);
                },
                TrustListError::Duplicate("venue_signers[].keys[].kid"),
            ),
            (
                |v| v["health_signers"][0]["country"] = json!("vn"),
                TrustListError::InvalidMember("health_signers[].country"),
            ),
            (
                |v| v["health_signers"][0]["certificates"] = json!([]),
                TrustListError::InvalidMember("health_signers[].certificates"),
            ),
            (
                |v| v["health_signers"][0]["certificates"] = json!(["AAAA"]),
                TrustListError::InvalidMember("health_signers[].certificates"),
            ),
            (
                |v| {
                    v["health_signers"][0]
                        .as_object_mut()
                        .unwrap()
                        .remove("certificates")
                        .map_or((), |_| ())
                },
                TrustListError::MissingMember("health_signers[].certificates"),
            ),
            (
                |v| {
                    let mut copy = v["health_signers"][0].clone();
                    copy["country"] = json!("FR");
                    v["health_signers"].as_array_mut().unwrap().push(copy);
                },
                TrustListError::Duplicate("health_signers[].certificates[]"),
            ),
            (
                |v| v["origins"][0]["origin"] = json!("http://issuer.example"),
                TrustListError::InvalidMember("origins[].origin"),
            ),
            (
                |v| v["origins"][0]["origin"] = json!("https://issuer.example/path"),
                TrustListError::InvalidMember("origins[].origin"),
            ),
            (
                |v| v["origins"][0]["spki_pins"] = json!([]),
                TrustListError::InvalidMember("origins[].spki_pins"),
            ),
            (
                |v| v["origins"][0]["spki_pins"] = json!(["sha1/AAAA"]),
                TrustListError::InvalidMember("origins[].spki_pins"),
            ),
            (
                |v| {
                    let mut copy = v["origins"][0].clone();
                    copy["origin"] = json!("https://ISSUER.example:443/");
                    v["origins"].as_array_mut().unwrap().push(copy);
                },
                TrustListError::Duplicate("origins[].origin"),
            ),
        ];
        for (index, (breakage, expected)) in breakages.into_iter().enumerate() {
            let mut payload = good.clone();
            breakage(&mut payload);
            assert_eq!(verify(&payload), Err(expected), "breakage {index}");
        }
    }

    #[test]
    fn huge_or_deeply_nested_lists_are_typed_errors() {
        let f = fixture();
        let huge = "A".repeat(MAX_TRUST_LIST_BYTES + 1);
        assert_eq!(
            TrustList::verify(&huge, &f.anchors, NOW),
            Err(TrustListError::TooLarge {
                len: MAX_TRUST_LIST_BYTES + 1,
                max: MAX_TRUST_LIST_BYTES
            })
        );
        // Signed by the real anchor, so only the parser stands in the way.
        let mut payload = f.list.to_value();
        payload["future_member"] = (0..100).fold(json!([]), |inner, _| json!([inner]));
        let signed = sign_payload(&payload, &f.anchor_signer, "anchor-1");
        assert_eq!(
            TrustList::verify(&signed, &f.anchors, NOW),
            Err(TrustListError::Jws(JwsError::Payload(
                crate::jose::JsonError::TooDeep
            )))
        );
        // Many entries within the size bound are fine, and quick.
        let mut many = f.list.clone();
        many.relying_parties = (0..2_000)
            .map(|i| RelyingParty {
                client_id: format!("rp-{i}"),
                display_name: String::new(),
                allowed_claims: vec!["age_over_18".into()],
                keys: vec![],
                response_uri_hosts: vec![],
                purpose: None,
            })
            .collect();
        let jws = many.sign(&f.anchor_signer, "anchor-1").unwrap();
        assert!(jws.len() < MAX_TRUST_LIST_BYTES);
        assert_eq!(TrustList::verify(&jws, &f.anchors, NOW).unwrap(), many);
    }

    #[test]
    fn signing_refuses_a_list_that_would_not_verify() {
        let f = fixture();
        let mut twice = f.list.clone();
        twice.issuers.push(twice.issuers[0].clone());
        assert_eq!(
            twice.sign(&f.anchor_signer, "anchor-1"),
            Err(TrustListError::Duplicate("issuers[].iss"))
        );
    }

    #[test]
    fn never_panics_on_mangled_lists_and_errors_quote_nothing() {
        let f = fixture();
        let jws = f.list.sign(&f.anchor_signer, "anchor-1").unwrap();
        let bytes = jws.as_bytes();
        for i in (0..bytes.len()).step_by(7) {
            for replacement in [b'.', b'A', b'_', b'~'] {
                let mut mangled = bytes.to_vec();
                mangled[i] = replacement;
                let text = String::from_utf8(mangled).unwrap();
                if let Err(error) = TrustList::verify(&text, &f.anchors, NOW) {
                    let message = error.to_string();
                    assert!(!message.contains("portal.example"), "{message}");
                } else {
                    assert_eq!(bytes[i], replacement);
                }
            }
            let _ = TrustList::verify(&jws[..i], &f.anchors, NOW);
        }
    }
}
