//! Verifier mode's FFI surface: the [`Verifier`] object (`citizen.verifier()`) for an officer's
//! app, and [`verify_sd_jwt_presentation`], the general verifier for agency developers.
//!
//! Owns: shape only. Meaning lives in `citizen_core::verifier`.

use std::sync::Arc;

use crate::error::CitizenError;
use crate::runtime;
use crate::wallet::StatusAnswer;

/// A challenge for two-way mode: show `text` as a QR; pass the whole challenge back to
/// `verify_identity_qr`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct IdentityChallenge {
    /// `IDC1:…`.
    pub text: String,
    /// The verifier's identifier the presentation must be bound to.
    pub audience: String,
    /// The fresh nonce the presentation must be bound to.
    pub nonce: String,
    /// The claim names the challenge asks for.
    pub claims: Vec<String>,
}

impl IdentityChallenge {
    fn from_core(challenge: citizen_core::id1::Challenge) -> Result<Self, CitizenError> {
        let text = challenge.encode().map_err(|e| CitizenError::InvalidInput {
            field: "challenge".into(),
            code: "too_long".into(),
            detail: e.to_string(),
        })?;
        Ok(Self {
            text,
            audience: challenge.audience,
            nonce: challenge.nonce,
            claims: challenge.claims,
        })
    }

    fn into_core(self) -> citizen_core::id1::Challenge {
        citizen_core::id1::Challenge {
            audience: self.audience,
            nonce: self.nonce,
            claims: self.claims,
        }
    }
}

/// A verified identity. `claims_json` is personal data: show it, never log it.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerifiedIdentity {
    /// The disclosed claims as a JSON object (`{"full_name": "…", "age_over_18": true, …}`).
    pub claims_json: String,
    /// The issuer (`iss`) of the presented credential.
    pub issuer: String,
    /// The issuer's name from the trust list.
    pub issuer_name: String,
    /// When the citizen's phone made the QR (Unix seconds).
    pub presented_at: i64,
    /// The credential's status from the cached status list.
    pub status: StatusAnswer,
}

/// Personal data stays out of `Debug`: only the issuer, the time and the status show.
impl std::fmt::Debug for VerifiedIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedIdentity")
            .field("issuer", &self.issuer)
            .field("presented_at", &self.presented_at)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// Verifier mode, for an officer's app. Get it from `citizen.verifier()`.
#[derive(uniffi::Object)]
pub struct Verifier {
    pub(crate) inner: Arc<citizen_core::verifier::Verifier>,
}

impl Verifier {
    pub(crate) fn new(inner: Arc<citizen_core::verifier::Verifier>) -> Arc<Self> {
        Arc::new(Self { inner })
    }
}

#[uniffi::export]
impl Verifier {
    /// A fresh challenge naming this verifier (`audience`) and the claims it asks for.
    pub fn new_challenge(
        &self,
        audience: String,
        claims: Vec<String>,
    ) -> Result<IdentityChallenge, CitizenError> {
        let challenge = self
            .inner
            .new_challenge(&audience, claims)
            .map_err(CitizenError::from)?;
        IdentityChallenge::from_core(challenge)
    }

    /// Checks a citizen's identity QR, offline (the cached trust and status lists; a status list
    /// that is due is fetched first when online). `challenge`: the one shown, in two-way mode.
    /// A refusal is `Untrusted` with a `code` saying why (`expired`, `revoked`, `replayed`, ...).
    pub async fn verify_identity_qr(
        &self,
        text: String,
        challenge: Option<IdentityChallenge>,
    ) -> Result<VerifiedIdentity, CitizenError> {
        let inner = self.inner.clone();
        let challenge = challenge.map(IdentityChallenge::into_core);
        let verified =
            runtime::run(async move { inner.verify_identity_qr(&text, challenge).await }).await??;
        Ok(VerifiedIdentity {
            claims_json: serde_json::Value::Object(verified.claims).to_string(),
            issuer: verified.issuer,
            issuer_name: verified.issuer_name,
            presented_at: verified.presented_at,
            status: verified.status.into(),
        })
    }
}

/// Verifies an SD-JWT+KB presentation (RFC 9901) against the issuer keys given (JWK JSON), for
/// the expected `audience` and `nonce`, with a KB-JWT at most `max_age_secs` old at `now` (Unix
/// seconds; 60 s of clock skew allowed). `sd_jwt_vc`: require `typ` `dc+sd-jwt` and a `vct`.
/// Returns the verified claims as a JSON object. Pure: no network, no store.
#[uniffi::export]
pub fn verify_sd_jwt_presentation(
    presentation: String,
    issuer_jwks: Vec<String>,
    audience: String,
    nonce: String,
    max_age_secs: i64,
    now: i64,
    sd_jwt_vc: bool,
) -> Result<String, CitizenError> {
    let keys = issuer_jwks
        .iter()
        .enumerate()
        .map(|(index, jwk)| {
            citizen_core::jose::EcPublicJwk::from_json(jwk.as_bytes()).map_err(|e| {
                CitizenError::InvalidInput {
                    field: format!("issuer_jwks[{index}]"),
                    code: "invalid_jwk".into(),
                    detail: e.to_string(),
                }
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let check = citizen_core::verifier::PresentationCheck {
        issuer_keys: &keys,
        audience: &audience,
        nonce: &nonce,
        max_age_secs,
        clock_skew_secs: 60,
        now,
        sd_jwt_vc,
    };
    let claims =
        citizen_core::verifier::verify_presentation(&presentation, &check).map_err(|error| {
            CitizenError::Untrusted {
                code: "invalid_presentation".into(),
                detail: error.to_string(),
            }
        })?;
    Ok(claims.to_string())
}
