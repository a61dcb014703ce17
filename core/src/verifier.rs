//! Verifier mode: an officer's app checks a citizen's identity QR, offline; and a general SD-JWT
//! presentation verifier for agency developers.
//!
//! Owns: [`verify_identity_qr`] (pure: the `ID1:` text, the issuer's signature by a key the trust
//! list names, every disclosure, the KB-JWT by the credential's bound key, freshness of 60 s plus a
//! skew, audience and nonce of a challenge, the credential type, and the status the caller looks
//! up), [`Verifier`] (the same with the store's cached trust and status lists, a replay guard, and
//! challenges for two-way mode), and [`verify_presentation`] (any SD-JWT+KB against explicitly
//! given issuer keys). Does not own the formats (`id1`, `sdjwt`) nor fetching the lists.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use crate::credential_status::{self, CredentialStatus, StatusAnswer};
use crate::id1::{self, Challenge, Id1Error};
use crate::jose::EcPublicJwk;
use crate::net::HttpClient;
use crate::openid4vci::{self, pid_claims};
use crate::sdjwt::{self, KeyBinding, Limits, SdJwt, SdJwtError, VerifyOptions};
use crate::store::{Store, StoreError};
use crate::wallet::{IssuerTrust, WalletError};

/// The clock difference between the citizen's phone and the officer's that is tolerated.
pub const DEFAULT_CLOCK_SKEW_SECS: i64 = 30;

/// Why an identity QR was refused. Carries no claim values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityQrError {
    #[error("the text is not an identity QR: {0}")]
    Unreadable(Id1Error),
    #[error("no trust list is available to check the issuer")]
    NoTrustList,
    #[error("the credential's issuer or key is not in the trust list")]
    UntrustedIssuer,
    #[error("the credential is not a person-identification credential")]
    WrongType,
    #[error("the presentation has no key binding")]
    NoKeyBinding,
    #[error("the QR has expired or is dated in the future")]
    Expired,
    #[error("the QR was made for another verifier")]
    AudienceMismatch,
    #[error("the QR does not answer this verifier's challenge")]
    NonceMismatch,
    #[error("the QR was already scanned")]
    Replayed,
    #[error("the credential has been revoked")]
    Revoked,
    #[error("the credential is suspended")]
    Suspended,
    #[error("the presentation did not verify: {0}")]
    Invalid(SdJwtError),
    #[error(transparent)]
    Store(#[from] StoreErrorText),
}

/// A store failure while verifying, kept as text so the error stays `Clone` and comparable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StoreErrorText(String);

impl From<StoreError> for IdentityQrError {
    fn from(error: StoreError) -> Self {
        IdentityQrError::Store(StoreErrorText(error.to_string()))
    }
}

/// How to check an identity QR.
#[derive(Debug, Clone)]
pub struct IdentityQrOptions {
    /// The verifier's clock (Unix seconds).
    pub now: i64,
    pub clock_skew_secs: i64,
    /// The challenge this verifier showed (two-way mode); `None` for a one-way QR.
    pub challenge: Option<Challenge>,
}

impl IdentityQrOptions {
    pub fn new(now: i64) -> Self {
        Self {
            now,
            clock_skew_secs: DEFAULT_CLOCK_SKEW_SECS,
            challenge: None,
        }
    }
}

/// A verified identity. `claims` is personal data: `Debug` shows only the claim names.
#[derive(Clone, PartialEq)]
pub struct VerifiedIdentity {
    /// The disclosed PID claims, by name.
    pub claims: Map<String, Value>,
    pub issuer: String,
    /// The issuer's name from the trust list.
    pub issuer_name: String,
    /// When the citizen's phone made the QR (the KB-JWT's `iat`).
    pub presented_at: i64,
    /// The nonce the QR was bound to (a replay guard keeps it).
    pub nonce: String,
    /// The credential's status from the cached list (`Unknown` when none is cached).
    pub status: StatusAnswer,
}

impl std::fmt::Debug for VerifiedIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedIdentity")
            .field("claims", &self.claims.keys().collect::<Vec<_>>())
            .field("issuer", &self.issuer)
            .field("presented_at", &self.presented_at)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// Where a credential's status entry is, as the issuer-signed JWT says.
pub struct StatusReference<'a> {
    pub issuer: &'a str,
    pub uri: &'a str,
    pub idx: u64,
}

/// Checks an identity QR. Pure: the trust list and the status lookup are the caller's.
pub fn verify_identity_qr(
    text: &str,
    trust: &dyn IssuerTrust,
    status: &dyn Fn(&StatusReference<'_>) -> Result<StatusAnswer, StoreError>,
    options: &IdentityQrOptions,
) -> Result<VerifiedIdentity, IdentityQrError> {
    let sd_jwt = id1::unpack(text.trim()).map_err(IdentityQrError::Unreadable)?;
    let parsed = SdJwt::parse(&sd_jwt, &Limits::default()).map_err(IdentityQrError::Invalid)?;
    let hint = parsed
        .unverified_key_hint()
        .ok_or(IdentityQrError::UntrustedIssuer)?;
    let iss = hint.iss.as_str();
    let issuer_key = match trust.issuer_key(iss, &hint.kid, hint.iat) {
        Ok(key) => key,
        Err(WalletError::NoTrustList) => return Err(IdentityQrError::NoTrustList),
        Err(_) => return Err(IdentityQrError::UntrustedIssuer),
    };

    let mut verify_options = VerifyOptions::new(&issuer_key, options.now).sd_jwt_vc();
    verify_options.clock_skew_secs = options.clock_skew_secs;
    verify_options.kb_max_age_secs = crate::wallet::presentation::QR_VALIDITY_SECS;
    if let Some(challenge) = &options.challenge {
        verify_options.key_binding = KeyBinding::Required {
            audience: &challenge.audience,
            nonce: &challenge.nonce,
        };
    }
    let verified = parsed
        .verify(&verify_options)
        .map_err(|error| match error {
            SdJwtError::KbStale | SdJwtError::KbInFuture => IdentityQrError::Expired,
            SdJwtError::AudienceMismatch => IdentityQrError::AudienceMismatch,
            SdJwtError::NonceMismatch => IdentityQrError::NonceMismatch,
            SdJwtError::KeyBindingMissing => IdentityQrError::NoKeyBinding,
            other => IdentityQrError::Invalid(other),
        })?;
    let key_binding = verified
        .key_binding
        .as_ref()
        .ok_or(IdentityQrError::NoKeyBinding)?;
    // A one-way QR must still have been made for in-person use, not for some website.
    if options.challenge.is_none() && key_binding.audience != id1::IN_PERSON_AUDIENCE {
        return Err(IdentityQrError::AudienceMismatch);
    }

    let claims = verified.claims.as_object().cloned().unwrap_or_default();
    let vct = claims.get("vct").and_then(Value::as_str).unwrap_or("");
    if vct != openid4vci::PID_VCT {
        return Err(IdentityQrError::WrongType);
    }
    if !trust.may_issue(iss, vct) {
        return Err(IdentityQrError::UntrustedIssuer);
    }
    let reference = claims
        .get("status")
        .and_then(|s| s.get("status_list"))
        .and_then(|list| Some((list.get("uri")?.as_str()?, list.get("idx")?.as_u64()?)));
    let status = match reference {
        Some((uri, idx)) => status(&StatusReference {
            issuer: iss,
            uri,
            idx,
        })?,
        None => StatusAnswer {
            status: CredentialStatus::Unknown,
            checked_at: None,
            stale: false,
        },
    };
    match status.status {
        CredentialStatus::Revoked => return Err(IdentityQrError::Revoked),
        CredentialStatus::Suspended => return Err(IdentityQrError::Suspended),
        CredentialStatus::Valid | CredentialStatus::Unknown => {}
    }
    let disclosed = claims
        .into_iter()
        .filter(|(name, _)| pid_claims::ALL.contains(&name.as_str()))
        .collect();
    Ok(VerifiedIdentity {
        claims: disclosed,
        issuer: iss.to_string(),
        issuer_name: trust.issuer_name(iss).unwrap_or_else(|| iss.to_string()),
        presented_at: key_binding.issued_at,
        nonce: key_binding.nonce.clone(),
        status,
    })
}

/// What a general presentation check needs: the issuer keys, and what the KB-JWT must say.
#[derive(Debug, Clone)]
pub struct PresentationCheck<'a> {
    /// The issuer keys to accept; the issuer-signed JWT must verify with one of them.
    pub issuer_keys: &'a [EcPublicJwk],
    pub audience: &'a str,
    pub nonce: &'a str,
    /// How old the KB-JWT may be, in seconds (plus the skew).
    pub max_age_secs: i64,
    pub clock_skew_secs: i64,
    pub now: i64,
    /// Require `typ` `dc+sd-jwt` and a `vct` (SD-JWT VC).
    pub sd_jwt_vc: bool,
}

/// Verifies an SD-JWT+KB presentation against explicitly given issuer keys (RFC 9901 §7.3):
/// returns the processed claims with the disclosed values in place.
pub fn verify_presentation(text: &str, check: &PresentationCheck<'_>) -> Result<Value, SdJwtError> {
    let parsed = SdJwt::parse(text.trim(), &Limits::default())?;
    let mut last_error = SdJwtError::IssuerJwt(crate::jose::JwsError::BadSignature);
    for key in check.issuer_keys {
        let mut options =
            VerifyOptions::new(key, check.now).require_key_binding(check.audience, check.nonce);
        if check.sd_jwt_vc {
            options = options.sd_jwt_vc();
        }
        options.kb_max_age_secs = check.max_age_secs;
        options.clock_skew_secs = check.clock_skew_secs;
        match parsed.verify(&options) {
            Ok(verified) => return Ok(verified.claims),
            // Only a signature failure means "try the next key"; anything else is the answer.
            Err(SdJwtError::IssuerJwt(crate::jose::JwsError::BadSignature)) => {}
            Err(error) => {
                last_error = error;
                break;
            }
        }
    }
    Err(last_error)
}

/// The officer's verifier: the store's trust and status lists, a replay guard, challenges.
pub struct Verifier {
    store: Arc<Store>,
    http: HttpClient,
    trust: Arc<dyn IssuerTrust>,
    /// Nonces of QRs accepted recently, with when they stop mattering (a QR older than that is
    /// refused as expired anyway).
    seen: Mutex<HashMap<String, i64>>,
}

impl Verifier {
    pub(crate) fn new(store: Arc<Store>, http: HttpClient, trust: Arc<dyn IssuerTrust>) -> Self {
        Self {
            store,
            http,
            trust,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Checks an EU DCC (`HC1:`) offline against the cached trust list's health signers at the
    /// current time (see `dcc::verify`). Pure apart from reading the trust list in memory.
    pub fn verify_health_certificate(
        &self,
        text: &str,
    ) -> Result<crate::dcc::VerifiedDcc, WalletError> {
        crate::wallet::health::verify_with(&*self.trust, text, crate::unix_now())
    }

    /// A challenge for two-way mode: show `challenge.encode()` as a QR, then pass the same
    /// challenge to [`Verifier::verify_identity_qr`].
    pub fn new_challenge(
        &self,
        audience: &str,
        claims: Vec<String>,
    ) -> Result<Challenge, WalletError> {
        Ok(Challenge {
            audience: audience.to_string(),
            nonce: crate::wallet::device_key::random_hex()?,
            claims,
        })
    }

    /// Checks an identity QR with the cached trust list and status lists. When online, a status
    /// list older than its `ttl` is fetched first; offline, the cached one answers (and says it is
    /// stale). A QR is accepted once: scanning it again within its life is `Replayed`.
    pub async fn verify_identity_qr(
        &self,
        text: &str,
        challenge: Option<Challenge>,
    ) -> Result<VerifiedIdentity, IdentityQrError> {
        let now = crate::unix_now();
        let mut options = IdentityQrOptions::new(now);
        options.challenge = challenge;
        // Verified twice on purpose: the first pass (status unknown) proves the QR genuine before
        // the network is touched, so a forged QR can never make the officer's phone fetch a URI
        // of its choosing; the second reads the status from the store after a due refresh. A
        // verification costs ~0.14 ms (`identity.verify_ms`), a fetch far more.
        let no_status = |_: &StatusReference<'_>| {
            Ok(StatusAnswer {
                status: CredentialStatus::Unknown,
                checked_at: None,
                stale: false,
            })
        };
        verify_identity_qr(text, &*self.trust, &no_status, &options)?;
        if let Some((issuer, uri)) = status_reference(text) {
            let refreshed = credential_status::refresh(
                &self.store,
                &self.http,
                &*self.trust,
                &issuer,
                &uri,
                now,
                false,
            )
            .await;
            if let Err(error) = refreshed {
                tracing::info!(%error, "the status list could not be refreshed; using the cache");
            }
        }
        let text_owned = text.to_string();
        let trust = self.trust.clone();
        let verified = self
            .store
            .read(move |conn| {
                let status = |reference: &StatusReference<'_>| {
                    credential_status::lookup(
                        conn,
                        &*trust,
                        reference.issuer,
                        reference.uri,
                        reference.idx,
                        now,
                    )
                };
                Ok::<_, IdentityQrError>(verify_identity_qr(
                    &text_owned,
                    &*trust,
                    &status,
                    &options,
                ))
            })
            .await??;
        self.remember(&verified.nonce, now)?;
        Ok(verified)
    }

    fn remember(&self, nonce: &str, now: i64) -> Result<(), IdentityQrError> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.retain(|_, until| *until > now);
        let until =
            now + crate::wallet::presentation::QR_VALIDITY_SECS + 2 * DEFAULT_CLOCK_SKEW_SECS;
        if seen.insert(nonce.to_string(), until).is_some() {
            return Err(IdentityQrError::Replayed);
        }
        Ok(())
    }
}

/// The issuer and status list URI a QR's credential names, read without verifying (the
/// verification that follows decides whether any of it counts).
fn status_reference(text: &str) -> Option<(String, String)> {
    let sd_jwt = id1::unpack(text.trim()).ok()?;
    let parsed = SdJwt::parse(&sd_jwt, &Limits::default()).ok()?;
    let claims = parsed.issuer_jwt().claims().ok()?;
    let iss = claims.get("iss")?.as_str()?.to_string();
    let uri = claims
        .get("status")?
        .get("status_list")?
        .get("uri")?
        .as_str()?
        .to_string();
    Some((iss, uri))
}

// Keep the re-export path short for callers of the general verifier.
pub use sdjwt::SdJwtError as PresentationError;
