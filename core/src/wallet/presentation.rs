//! In-person presentation: the identity QR an officer scans, valid for 60 seconds.
//!
//! Owns: choosing what to disclose (the claims asked for, else the smallest set that identifies a
//! person), refusing a credential its issuer revoked or suspended (from the cached status list),
//! building the SD-JWT presentation with a KB-JWT signed by the device key (`aud` and `nonce` from
//! the verifier's challenge in two-way mode; the in-person audience and a fresh nonce otherwise),
//! packing it as `ID1:` text, drawing the QR, and the history record. Does not own the formats
//! (`sdjwt`, `id1`, `qr`) nor verifying (the `verifier` module).

use super::credentials::{self, StoredCredential};
use super::device_key::DeviceKey;
use super::history::{Counterparty, HistoryKind, HistoryOutcome, NewRecord};
use super::{Wallet, WalletError};
use crate::credential_status::CredentialStatus;
use crate::id1::{self, Challenge};
use crate::openid4vci::{self, pid_claims};
use crate::qr::QrImage;
use crate::sdjwt::{ClaimPath, KeyBindingParams, Limits, SdJwt};

/// How long an identity QR is valid: as long as the national e-ID app's.
pub const QR_VALIDITY_SECS: i64 = 60;

/// Disclosed when neither the citizen nor the verifier chose: enough to tell who someone is, and
/// nothing more.
pub const DEFAULT_CLAIMS: &[&str] = &[pid_claims::FULL_NAME, pid_claims::ID_NUMBER];

/// What to present. Personal data (the PIN): `Debug` shows only the claim names.
#[derive(Clone, Default)]
pub struct IdentityQrRequest {
    pub pin: String,
    /// Claim names to disclose. Empty: the challenge's claims, else [`DEFAULT_CLAIMS`].
    pub claims: Vec<String>,
    /// The verifier's `IDC1:` challenge text, in two-way mode.
    pub challenge: Option<String>,
}

impl std::fmt::Debug for IdentityQrRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityQrRequest")
            .field("claims", &self.claims)
            .field("two_way", &self.challenge.is_some())
            .finish_non_exhaustive()
    }
}

/// A ready identity QR. `text` is personal data (it discloses the chosen claims).
#[derive(Clone, PartialEq, Eq)]
pub struct IdentityQr {
    /// `ID1:…`, what the QR encodes.
    pub text: String,
    pub qr: QrImage,
    /// Unix seconds after which a verifier refuses it.
    pub expires_at: i64,
    pub disclosed: Vec<String>,
}

impl std::fmt::Debug for IdentityQr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityQr")
            .field("chars", &self.text.len())
            .field("expires_at", &self.expires_at)
            .field("disclosed", &self.disclosed)
            .finish()
    }
}

pub(crate) async fn identity_qr(
    wallet: &Wallet,
    request: IdentityQrRequest,
) -> Result<IdentityQr, WalletError> {
    let challenge = request
        .challenge
        .as_deref()
        .map(Challenge::decode)
        .transpose()
        .map_err(|_| WalletError::InvalidInput("challenge"))?;
    let claims = choose_claims(&request.claims, challenge.as_ref())?;
    wallet.verify_pin(&request.pin).await?;

    let now = crate::unix_now();
    let trust = wallet.context().trust.clone();
    let (credential, status) = wallet
        .context()
        .store
        .read(move |conn| {
            let credential = credentials::usable_by_vct(conn, openid4vci::PID_VCT)?
                .ok_or(WalletError::NotActivated)?;
            let status = super::status_of(conn, &*trust, &credential, now)?.status;
            Ok::<_, WalletError>((credential, status))
        })
        .await?;
    let counterparty = challenge.as_ref().map(|c| Counterparty {
        id: c.audience.clone(),
        display_name: c.audience.clone(),
    });
    let refusal = match status {
        CredentialStatus::Revoked => Some(WalletError::Revoked),
        CredentialStatus::Suspended => Some(WalletError::Suspended),
        CredentialStatus::Valid | CredentialStatus::Unknown => None,
    };
    if let Some(refusal) = refusal {
        record(
            wallet,
            now,
            HistoryOutcome::Failed,
            counterparty,
            &credential,
            Vec::new(),
        )
        .await;
        return Err(refusal);
    }

    let keys = wallet.key_store()?;
    let (audience, nonce) = match &challenge {
        Some(challenge) => (challenge.audience.clone(), challenge.nonce.clone()),
        None => (id1::IN_PERSON_AUDIENCE.to_string(), one_way_nonce()?),
    };
    let sd_jwt = credential.sd_jwt.clone();
    let alias = credential.key_alias.clone();
    let chosen = claims.clone();
    let text = crate::blocking::run(move || {
        build(&keys, &alias, &sd_jwt, &chosen, &audience, &nonce, now)
    })
    .await?;
    let qr = QrImage::encode(&text).map_err(|_| WalletError::InvalidInput("claims"))?;
    record(
        wallet,
        now,
        HistoryOutcome::Completed,
        counterparty,
        &credential,
        claims.clone(),
    )
    .await;
    Ok(IdentityQr {
        text,
        qr,
        expires_at: now + QR_VALIDITY_SECS,
        disclosed: claims,
    })
}

/// The claims to disclose: the citizen's choice, else the verifier's, else the default; each one
/// a PID claim, no repeats.
fn choose_claims(
    asked: &[String],
    challenge: Option<&Challenge>,
) -> Result<Vec<String>, WalletError> {
    let chosen: Vec<String> = if !asked.is_empty() {
        asked.to_vec()
    } else if let Some(challenge) = challenge.filter(|c| !c.claims.is_empty()) {
        challenge.claims.clone()
    } else {
        DEFAULT_CLAIMS.iter().map(|c| c.to_string()).collect()
    };
    let mut unique = Vec::with_capacity(chosen.len());
    for claim in chosen {
        if !pid_claims::ALL.contains(&claim.as_str()) {
            return Err(WalletError::InvalidInput("claims"));
        }
        if !unique.contains(&claim) {
            unique.push(claim);
        }
    }
    Ok(unique)
}

/// Signs the presentation with the device key (blocking: the platform may prompt) and packs it.
fn build(
    keys: &std::sync::Arc<dyn crate::platform::KeyStore>,
    alias: &str,
    sd_jwt: &str,
    claims: &[String],
    audience: &str,
    nonce: &str,
    now: i64,
) -> Result<String, WalletError> {
    let device = DeviceKey::open(keys.clone(), alias)?;
    let parsed = SdJwt::parse(sd_jwt, &Limits::default())
        .map_err(|_| WalletError::Issuer("the stored credential no longer parses".into()))?;
    let paths: Vec<ClaimPath> = claims.iter().map(|c| ClaimPath::claim(c)).collect();
    let presentation = parsed
        .present(
            &paths,
            Some(&KeyBindingParams {
                audience,
                nonce,
                issued_at: now,
                signer: &device,
            }),
        )
        .map_err(|_| WalletError::InvalidInput("claims"))?;
    id1::pack(&presentation).map_err(|_| WalletError::InvalidInput("claims"))
}

/// A one-way QR's nonce: 96 random bits, as 16 base64url characters. It only has to be unique
/// among the QRs a verifier sees within a minute (its replay guard); a longer one would lengthen
/// every QR.
fn one_way_nonce() -> Result<String, WalletError> {
    super::random_token(12)
}

/// Records the presentation. Best effort: the QR is already made; a lost record is logged.
async fn record(
    wallet: &Wallet,
    at: i64,
    outcome: HistoryOutcome,
    counterparty: Option<Counterparty>,
    credential: &StoredCredential,
    claims: Vec<String>,
) {
    let record = NewRecord {
        at,
        kind: HistoryKind::Presentation,
        outcome,
        counterparty,
        credential_id: Some(credential.id.clone()),
        claims,
    };
    if let Err(error) = wallet.record(record).await {
        tracing::warn!(%error, "could not record a presentation");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_come_from_the_citizen_then_the_verifier_then_the_default() {
        let challenge = Challenge {
            audience: "officer".into(),
            nonce: "n".into(),
            claims: vec!["birth_date".into()],
        };
        assert_eq!(
            choose_claims(&["sex".into(), "sex".into()], Some(&challenge)).unwrap(),
            vec!["sex".to_string()]
        );
        assert_eq!(
            choose_claims(&[], Some(&challenge)).unwrap(),
            vec!["birth_date".to_string()]
        );
        assert_eq!(choose_claims(&[], None).unwrap(), DEFAULT_CLAIMS.to_vec());
        assert!(matches!(
            choose_claims(&["cnf".into()], None),
            Err(WalletError::InvalidInput("claims"))
        ));
    }
}
