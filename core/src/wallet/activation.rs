//! Activation: a verified citizen becomes a wallet holding a PID.
//!
//! Owns the flow (see `docs/wallet-identity.md`): a new device key → `POST /v1/wallet/activations`
//! with the key's proof of possession → the credential offer → the issuer's metadata → the token
//! (pre-authorised code, the activation code as `tx_code`) → a nonce → the credential request with
//! an `openid4vci-proof+jwt` signed by the device key → the checks on the credential → storing it
//! with the PIN, in one transaction. Also the second half when the PIN turns out to be the birth
//! date (`complete`, reached by `Wallet::complete_activation`). Does not own the wire formats
//! (`openid4vci`, `sdjwt`) nor the trust list.
//!
//! Nothing is stored before every check passed; a failure after the device key was made deletes
//! that key again. Activation from `Blocked` replaces the old wallet in the same transaction that
//! stores the new credential, so a failed re-activation leaves the old (blocked) wallet as it was.

use serde_json::Value;
use url::Url;
use zeroize::Zeroizing;

use super::credentials::{self, Activation, StoredCredential};
use super::device_key::{self, DeviceKey};
use super::history::{self, Counterparty, HistoryKind, HistoryOutcome, NewRecord};
use super::pin::{self, BirthDate, PinError, WeakPin};
use super::{CredentialCheck, CredentialSummary, IssuerTrust, Wallet, WalletError, WalletState};
use crate::jose::EcPublicJwk;
use crate::net::{HttpClient, HttpMethod, HttpRequest, NetError};
use crate::openid4vci::{
    self, ActivationRequest as ActivationMessage, CredentialOffer, CredentialRequest,
    CredentialResponse, IssuerMetadata, NonceResponse, OAuthErrorResponse, TokenRequest,
    TokenResponse,
};
use crate::sdjwt::{Limits, SdJwt, VerifyOptions};

/// What the citizen enters to activate. Personal data: `Debug` shows none of it.
#[derive(Clone)]
pub struct ActivationRequest {
    /// The 12-digit citizen identity card number.
    pub id_number: String,
    /// The code from the registration (`XXXX-XXXX`; case, spaces and dashes do not matter).
    pub activation_code: String,
    /// The PIN the citizen chose (six digits, see `pin::check_strength`).
    pub pin: String,
    /// An opaque platform-attestation blob (Play Integrity, App Attest), passed to the issuer.
    pub attestation: Option<Vec<u8>>,
}

impl std::fmt::Debug for ActivationRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActivationRequest")
            .field("attestation_len", &self.attestation.as_ref().map(Vec::len))
            .finish_non_exhaustive()
    }
}

/// How long the issuer's answers may be. The credential is the largest: a PID with ten
/// disclosures is a few KiB; 256 KiB leaves room without inviting a memory attack.
const MAX_ISSUER_ANSWER: usize = 256 * 1024;

pub(crate) async fn activate(
    wallet: &Wallet,
    request: ActivationRequest,
) -> Result<CredentialSummary, WalletError> {
    let id_number = request.id_number.trim().to_string();
    if id_number.len() != 12 || !id_number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(WalletError::InvalidInput("id_number"));
    }
    let tx_code = Zeroizing::new(normalize_code(&request.activation_code)?);
    let new_pin = Zeroizing::new(request.pin.clone());
    // The birth date is only known after issuance; every other rule is checked before the
    // activation code is spent.
    pin::check_strength(&new_pin, None)?;
    match wallet.state().await? {
        WalletState::Active | WalletState::Locked { .. } => {
            return Err(WalletError::AlreadyActivated);
        }
        WalletState::NotActivated | WalletState::Blocked => {}
    }

    let keys = wallet.key_store()?;
    let device = crate::blocking::run(move || DeviceKey::generate(keys)).await?;
    let issued = issue(wallet, &device, &id_number, &tx_code, request.attestation).await;
    let issued = match issued {
        Ok(issued) => issued,
        Err(error) => {
            wallet
                .delete_device_keys(vec![device.alias().to_string()])
                .await;
            record_failure(wallet, &error).await;
            return Err(error);
        }
    };

    let birth_date = birth_date_of(&issued.credential.sd_jwt);
    let pin_accepted = match pin::check_strength(&new_pin, birth_date) {
        Ok(()) => Some(pin::hash_new(&new_pin).await?),
        Err(PinError::Weak(WeakPin::BirthDate)) => None,
        Err(other) => return Err(other.into()),
    };
    let weak_pin = pin_accepted.is_none();
    let now = crate::unix_now();
    let mut credential = issued.credential;
    credential.pin_pending = weak_pin;
    let summary = CredentialSummary::from(&credential);
    let activation = Activation {
        key_alias: device.alias().to_string(),
        credential_issuer: issued.issuer.id.clone(),
        activated_at: now,
    };
    let record = NewRecord {
        at: now,
        kind: HistoryKind::Issuance,
        outcome: HistoryOutcome::Completed,
        counterparty: Some(issued.issuer),
        credential_id: Some(credential.id.clone()),
        claims: openid4vci::pid_claims::ALL
            .iter()
            .map(|c| c.to_string())
            .collect(),
    };
    let (old_aliases, record_id) = wallet
        .context()
        .store
        .write(move |tx| {
            let old_aliases = forget_wallet(tx)?;
            credentials::set_activation(tx, &activation)?;
            credentials::insert(tx, &credential)?;
            if let Some(hashed) = &pin_accepted {
                pin::write_hash(tx, hashed)?;
            }
            let record_id = history::record(tx, &record)?;
            Ok::<_, WalletError>((old_aliases, record_id))
        })
        .await?;
    let new_alias = device.alias().to_string();
    wallet
        .delete_device_keys(
            old_aliases
                .into_iter()
                .filter(|a| *a != new_alias)
                .collect(),
        )
        .await;
    wallet.announce_record(record_id, HistoryKind::Issuance, HistoryOutcome::Completed);
    wallet.announce_state().await;
    tracing::info!(pin_pending = weak_pin, "the wallet was activated");
    if weak_pin {
        return Err(WalletError::ChooseAnotherPin(WeakPin::BirthDate));
    }
    Ok(summary)
}

/// Sets the PIN of an activation that issued its credential but refused the PIN first.
pub(crate) async fn complete(
    wallet: &Wallet,
    new_pin: &str,
) -> Result<CredentialSummary, WalletError> {
    let pending = wallet
        .context()
        .store
        .read(credentials::pin_pending)
        .await?
        .ok_or(WalletError::NoPendingActivation)?;
    pin::check_strength(new_pin, birth_date_of(&pending.sd_jwt))?;
    let hashed = pin::hash_new(new_pin).await?;
    let id = pending.id.clone();
    wallet
        .context()
        .store
        .write(move |tx| {
            pin::write_hash(tx, &hashed)?;
            credentials::clear_pin_pending(tx, &id)?;
            Ok::<_, WalletError>(())
        })
        .await?;
    wallet.announce_state().await;
    Ok(CredentialSummary::from(&pending))
}

/// Deletes the credentials, the activation and the PIN in `tx`; returns the device key aliases
/// that are no longer needed (delete them after the transaction commits).
pub(crate) fn forget_wallet(tx: &rusqlite::Transaction<'_>) -> Result<Vec<String>, WalletError> {
    let aliases = credentials::key_aliases(tx)?;
    credentials::delete_all(tx)?;
    pin::delete(tx)?;
    Ok(aliases)
}

/// The `birth_date` disclosed in a stored credential (all disclosures are kept), as the PIN rules
/// need it. `None` if absent or not `YYYY-MM-DD`.
pub(crate) fn birth_date_of(sd_jwt: &str) -> Option<BirthDate> {
    let parsed = SdJwt::parse(sd_jwt, &Limits::default()).ok()?;
    let value = parsed
        .disclosures()
        .iter()
        .find(|d| d.name() == Some(openid4vci::pid_claims::BIRTH_DATE))?
        .value()
        .as_str()?
        .to_string();
    parse_date(&value)
}

fn parse_date(text: &str) -> Option<BirthDate> {
    let mut parts = text.split('-');
    let year = parts.next()?.parse().ok()?;
    let month = parts.next()?.parse().ok()?;
    let day = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    Some(BirthDate { year, month, day })
}

/// `ab12-cd34 ` → `AB12CD34`; anything else than 8 letters or digits is refused before it is sent.
fn normalize_code(code: &str) -> Result<String, WalletError> {
    let normalized: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let valid = normalized.len() == openid4vci::TX_CODE_LENGTH as usize
        && normalized.bytes().all(|b| b.is_ascii_alphanumeric());
    if !valid {
        return Err(WalletError::InvalidInput("activation_code"));
    }
    Ok(normalized)
}

/// What a successful issuance leaves: the checked credential (not yet stored) and its issuer.
struct Issued {
    credential: StoredCredential,
    issuer: Counterparty,
}

async fn issue(
    wallet: &Wallet,
    device: &DeviceKey,
    id_number: &str,
    tx_code: &str,
    attestation: Option<Vec<u8>>,
) -> Result<Issued, WalletError> {
    use base64::Engine;
    let http = &wallet.context().http;

    let proof = {
        let device = device.clone();
        let id_number = id_number.to_string();
        let jwk = device.public_key().clone();
        crate::blocking::run(move || {
            openid4vci::activation_proof(&device, &jwk, &id_number, crate::unix_now())
        })
        .await
        .map_err(protocol)?
    };
    let message = ActivationMessage {
        id_number: id_number.to_string(),
        device_key_proof: proof,
        attestation: attestation.map(|a| base64::engine::general_purpose::STANDARD.encode(a)),
    };
    let offer: CredentialOffer = send_json(
        http,
        HttpRequest::post_json(http.portal_url("v1/wallet/activations")?, &message)?,
    )
    .await?;
    let grant = offer
        .pre_authorized_grant()
        .ok_or_else(|| WalletError::Issuer("the offer has no pre-authorised code".into()))?
        .clone();
    if !offer
        .credential_configuration_ids
        .iter()
        .any(|id| id == openid4vci::PID_CONFIGURATION_ID)
    {
        return Err(WalletError::Issuer("the offer is not for the PID".into()));
    }
    // The portal names the issuer; the trust list decides whether the wallet talks to it.
    let trust = &wallet.context().trust;
    if !trust.may_issue(&offer.credential_issuer, openid4vci::PID_VCT) {
        return Err(WalletError::CredentialRejected(
            CredentialCheck::UntrustedIssuer,
        ));
    }
    let issuer = Counterparty {
        id: offer.credential_issuer.clone(),
        display_name: trust
            .issuer_name(&offer.credential_issuer)
            .unwrap_or_else(|| offer.credential_issuer.clone()),
    };

    let metadata: IssuerMetadata = send_json(
        http,
        HttpRequest::get(metadata_url(&offer.credential_issuer)?),
    )
    .await?;
    if metadata.credential_issuer != offer.credential_issuer {
        return Err(WalletError::Issuer(
            "the metadata names another issuer".into(),
        ));
    }
    let nonce_endpoint = metadata
        .nonce_endpoint
        .as_deref()
        .ok_or_else(|| WalletError::Issuer("the issuer has no nonce endpoint".into()))?;

    let token_request = TokenRequest {
        pre_authorized_code: grant.pre_authorized_code.clone(),
        tx_code: Some(tx_code.to_string()),
    };
    let mut request = HttpRequest::get(parse_url(&metadata.token_endpoint)?);
    request.method = HttpMethod::Post;
    request.body = Some((
        TokenRequest::CONTENT_TYPE,
        token_request.to_form().into_bytes(),
    ));
    let token: TokenResponse = match send_json(http, request).await {
        Err(WalletError::Issuer(code)) if code == openid4vci::error_codes::INVALID_GRANT => {
            return Err(WalletError::ActivationCodeRejected);
        }
        other => other?,
    };
    if !token.token_type.eq_ignore_ascii_case("bearer") {
        return Err(WalletError::Issuer(
            "the token is not a bearer token".into(),
        ));
    }

    let mut request = HttpRequest::get(parse_url(nonce_endpoint)?);
    request.method = HttpMethod::Post;
    let nonce: NonceResponse = send_json(http, request).await?;

    let proof = {
        let device = device.clone();
        let jwk = device.public_key().clone();
        let aud = metadata.credential_issuer.clone();
        let nonce = nonce.c_nonce.clone();
        crate::blocking::run(move || {
            openid4vci::proof_jwt(&device, &jwk, &aud, &nonce, crate::unix_now())
        })
        .await
        .map_err(protocol)?
    };
    let mut request = HttpRequest::post_json(
        parse_url(&metadata.credential_endpoint)?,
        &CredentialRequest::pid(proof),
    )?;
    request
        .headers
        .push(("authorization", format!("Bearer {}", token.access_token)));
    request.max_body_bytes = MAX_ISSUER_ANSWER;
    let response: CredentialResponse = send_json(http, request).await?;
    let [issued] = response.credentials.as_slice() else {
        return Err(WalletError::Issuer(
            "expected exactly one credential".into(),
        ));
    };
    let credential = check_credential(
        &*wallet.context().trust,
        &issued.credential,
        &offer.credential_issuer,
        device.public_key(),
        device.alias(),
        crate::unix_now(),
    )?;
    Ok(Issued { credential, issuer })
}

/// The checks before anything is stored: issuer signature by a key the trust list names for that
/// issuer, `vct`, validity, and `cnf.jwk` = this wallet's device key.
fn check_credential(
    trust: &dyn IssuerTrust,
    text: &str,
    expected_issuer: &str,
    device_key: &EcPublicJwk,
    key_alias: &str,
    now: i64,
) -> Result<StoredCredential, WalletError> {
    let reject = WalletError::CredentialRejected;
    let limits = Limits::default();
    let parsed = SdJwt::parse(text, &limits).map_err(|e| reject(CredentialCheck::Invalid(e)))?;
    if parsed.key_binding_jwt().is_some() {
        return Err(reject(CredentialCheck::UnexpectedKeyBinding));
    }
    // A credential without them cannot be checked against the trust list at all.
    let hint = parsed
        .unverified_key_hint()
        .ok_or(reject(CredentialCheck::MissingClaim("iss, kid or iat")))?;
    let (iss, kid, iat) = (hint.iss.as_str(), hint.kid.as_str(), hint.iat);
    if iss != expected_issuer {
        return Err(reject(CredentialCheck::IssuerMismatch));
    }
    let issuer_key = trust.issuer_key(iss, kid, iat)?;
    let verified = parsed
        .verify(&VerifyOptions::new(&issuer_key, now).sd_jwt_vc())
        .map_err(|e| reject(CredentialCheck::Invalid(e)))?;
    let claims = &verified.claims;
    let vct = claims.get("vct").and_then(Value::as_str).unwrap_or("");
    if vct != openid4vci::PID_VCT {
        return Err(reject(CredentialCheck::WrongType));
    }
    if !trust.may_issue(iss, vct) {
        return Err(reject(CredentialCheck::TypeNotAllowed));
    }
    if iat > now + 60 {
        return Err(reject(CredentialCheck::NotValidNow));
    }
    let expires_at = claims.get("exp").and_then(Value::as_i64);
    if expires_at.is_none() {
        return Err(reject(CredentialCheck::MissingClaim("exp")));
    }
    let bound = claims
        .get("cnf")
        .and_then(|cnf| cnf.get("jwk"))
        .and_then(|jwk| EcPublicJwk::from_value(jwk).ok());
    if bound.as_ref() != Some(device_key) {
        return Err(reject(CredentialCheck::NotBoundToDevice));
    }
    for claim in openid4vci::pid_claims::ALL {
        if claims.get(claim).is_none() {
            return Err(reject(CredentialCheck::MissingClaim(claim)));
        }
    }
    let status = claims.get("status").and_then(|s| s.get("status_list"));
    let status_uri = status
        .and_then(|s| s.get("uri"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let status_idx = status.and_then(|s| s.get("idx")).and_then(Value::as_u64);
    Ok(StoredCredential {
        id: device_key::random_hex()?,
        vct: vct.to_string(),
        issuer: iss.to_string(),
        issuer_kid: kid.to_string(),
        key_alias: key_alias.to_string(),
        sd_jwt: text.to_string(),
        issued_at: iat,
        expires_at,
        status_uri,
        status_idx,
        pin_pending: false,
        stored_at: now,
    })
}

/// `https://issuer.example/tenant` → `https://issuer.example/.well-known/openid-credential-issuer/tenant`
/// (OpenID4VCI 1.0 §12.2.2: the well-known segment goes between the host and the path).
fn metadata_url(credential_issuer: &str) -> Result<Url, WalletError> {
    let mut url = parse_url(credential_issuer)?;
    let path = url.path().trim_end_matches('/').to_string();
    url.set_path(&format!("/.well-known/openid-credential-issuer{path}"));
    Ok(url)
}

fn parse_url(text: &str) -> Result<Url, WalletError> {
    let url = Url::parse(text).map_err(|_| WalletError::Issuer("a URL is not valid".into()))?;
    if url.scheme() != "https" {
        return Err(WalletError::Issuer("a URL is not https".into()));
    }
    Ok(url)
}

/// Sends `request` and parses a JSON answer; an OAuth error answer becomes
/// `WalletError::Issuer(<error code>)` (a code from a fixed vocabulary, never free text).
async fn send_json<T: serde::de::DeserializeOwned>(
    http: &HttpClient,
    request: HttpRequest,
) -> Result<T, WalletError> {
    let response = http.fetch(request).await?;
    if response.is_success() {
        return openid4vci::from_json(&response.body, MAX_ISSUER_ANSWER).map_err(protocol);
    }
    if let Ok(error) =
        openid4vci::from_json::<OAuthErrorResponse>(&response.body, openid4vci::MAX_MESSAGE_LEN)
        && is_error_code(&error.error)
    {
        return Err(WalletError::Issuer(error.error));
    }
    Err(NetError::Status {
        status: response.status,
    }
    .into())
}

/// An OAuth error code as RFC 6749 §5.2 allows (`%x20-21 / %x23-5B / %x5D-7E`), short: it is
/// shown in error texts, so anything else is not carried.
fn is_error_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
}

fn protocol(error: openid4vci::Openid4vciError) -> WalletError {
    WalletError::Issuer(format!("{error}"))
}

/// A failed activation is a history record too (no claims: nothing was disclosed).
async fn record_failure(wallet: &Wallet, error: &WalletError) {
    tracing::info!(%error, "activation failed");
    let record = NewRecord {
        at: crate::unix_now(),
        kind: HistoryKind::Issuance,
        outcome: HistoryOutcome::Failed,
        counterparty: None,
        credential_id: None,
        claims: Vec::new(),
    };
    if let Err(error) = wallet.record(record).await {
        tracing::warn!(%error, "could not record the failed activation");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::SoftwareSigner;
    use crate::sdjwt::{self, ClaimPath, IssueOptions, KeyBindingParams};
    use serde_json::json;

    const ISSUER: &str = "https://issuer.example/";
    const KID: &str = "k1";
    const NOW: i64 = 1_800_000_000;

    /// Trusts one key of one issuer for the PID.
    struct OneIssuer(EcPublicJwk);

    impl IssuerTrust for OneIssuer {
        fn issuer_key(&self, iss: &str, kid: &str, _: i64) -> Result<EcPublicJwk, WalletError> {
            if iss == ISSUER && kid == KID {
                Ok(self.0.clone())
            } else {
                Err(WalletError::CredentialRejected(
                    CredentialCheck::UntrustedIssuer,
                ))
            }
        }
        fn may_issue(&self, iss: &str, vct: &str) -> bool {
            iss == ISSUER && vct == openid4vci::PID_VCT
        }
        fn issuer_name(&self, _: &str) -> Option<String> {
            None
        }
        fn relying_party(
            &self,
            _: &str,
        ) -> Result<Option<crate::trust_list::RelyingParty>, WalletError> {
            Ok(None)
        }
    }

    /// The PID's claims as the sandbox issues them (`cnf` comes from the holder key).
    fn pid_payload() -> serde_json::Map<String, Value> {
        let payload = json!({
            "iss": ISSUER, "iat": NOW - 10, "exp": NOW + 3600, "vct": openid4vci::PID_VCT,
            "full_name": "Nguyễn Văn An", "birth_date": "1990-05-17", "sex": "male",
            "nationality": "VN", "id_number": "001090012345", "place_of_origin": "Hà Nội",
            "place_of_residence": "Hồ Chí Minh", "issue_date": "2026-01-01",
            "expiry_date": "2027-01-01", "age_over_18": true,
        });
        payload.as_object().unwrap().clone()
    }

    fn issue_with(
        signer: &SoftwareSigner,
        kid: &str,
        holder: &EcPublicJwk,
        edit: impl FnOnce(&mut serde_json::Map<String, Value>),
    ) -> String {
        let mut payload = pid_payload();
        edit(&mut payload);
        sdjwt::issue(
            &payload,
            &IssueOptions {
                disclosable: openid4vci::pid_claims::ALL
                    .iter()
                    .filter(|c| payload.contains_key(**c))
                    .map(|c| ClaimPath::claim(c))
                    .collect(),
                holder_key: Some(holder.clone()),
                typ: Some(sdjwt::SD_JWT_VC_TYP.into()),
                kid: Some(kid.into()),
                decoys_per_container: 0,
            },
            signer,
        )
        .unwrap()
        .sd_jwt
    }

    fn check(
        trust: &OneIssuer,
        text: &str,
        device: &EcPublicJwk,
    ) -> Result<StoredCredential, WalletError> {
        check_credential(trust, text, ISSUER, device, "alias", NOW)
    }

    fn rejected(result: Result<StoredCredential, WalletError>) -> CredentialCheck {
        match result {
            Err(WalletError::CredentialRejected(why)) => why,
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    /// What a rogue or broken issuer could send; each is refused before anything is stored.
    #[test]
    fn credentials_that_fail_a_check_are_refused() {
        let issuer = SoftwareSigner::generate().unwrap();
        let device = SoftwareSigner::generate().unwrap();
        let other = SoftwareSigner::generate().unwrap();
        let trust = OneIssuer(issuer.public_key().clone());
        let device_key = device.public_key();

        let good = issue_with(&issuer, KID, device_key, |_| {});
        let stored = check(&trust, &good, device_key).unwrap();
        assert_eq!(
            (stored.issuer.as_str(), stored.issuer_kid.as_str()),
            (ISSUER, KID)
        );

        // Bound to someone else's key.
        let foreign = issue_with(&issuer, KID, other.public_key(), |_| {});
        assert_eq!(
            rejected(check(&trust, &foreign, device_key)),
            CredentialCheck::NotBoundToDevice
        );
        // Signed by a key the trust list does not name, under the trusted kid.
        let forged = issue_with(&other, KID, device_key, |_| {});
        assert!(matches!(
            rejected(check(&trust, &forged, device_key)),
            CredentialCheck::Invalid(_)
        ));
        // An unknown kid.
        let unknown = issue_with(&issuer, "k2", device_key, |_| {});
        assert_eq!(
            rejected(check(&trust, &unknown, device_key)),
            CredentialCheck::UntrustedIssuer
        );
        // Another issuer than the offer named.
        let elsewhere = issue_with(&issuer, KID, device_key, |p| {
            p.insert("iss".into(), json!("https://rogue.example/"));
        });
        assert_eq!(
            rejected(check(&trust, &elsewhere, device_key)),
            CredentialCheck::IssuerMismatch
        );
        // Another credential type.
        let other_type = issue_with(&issuer, KID, device_key, |p| {
            p.insert("vct".into(), json!("urn:example:diploma"));
        });
        assert_eq!(
            rejected(check(&trust, &other_type, device_key)),
            CredentialCheck::WrongType
        );
        // Expired, or issued in the future.
        let expired = issue_with(&issuer, KID, device_key, |p| {
            p.insert("exp".into(), json!(NOW - 3600));
        });
        assert!(matches!(
            rejected(check(&trust, &expired, device_key)),
            CredentialCheck::Invalid(_)
        ));
        let future = issue_with(&issuer, KID, device_key, |p| {
            p.insert("iat".into(), json!(NOW + 3600));
        });
        assert_eq!(
            rejected(check(&trust, &future, device_key)),
            CredentialCheck::NotValidNow
        );
        // A PID without one of its claims.
        let partial = issue_with(&issuer, KID, device_key, |p| {
            p.remove("birth_date");
        });
        assert_eq!(
            rejected(check(&trust, &partial, device_key)),
            CredentialCheck::MissingClaim("birth_date")
        );
        // A presentation (with key binding) instead of an issued credential.
        let presented = SdJwt::parse(&good, &Limits::default())
            .unwrap()
            .present(
                &[],
                Some(&KeyBindingParams {
                    audience: ISSUER,
                    nonce: "n",
                    issued_at: NOW,
                    signer: &device,
                }),
            )
            .unwrap();
        assert_eq!(
            rejected(check(&trust, &presented, device_key)),
            CredentialCheck::UnexpectedKeyBinding
        );
        // A tampered disclosure.
        let mut parts: Vec<&str> = good.split('~').collect();
        let fake = crate::jose::base64url::encode(r#"["c2FsdHNhbHRzYWx0","full_name","X"]"#);
        parts[1] = &fake;
        assert!(matches!(
            rejected(check(&trust, &parts.join("~"), device_key)),
            CredentialCheck::Invalid(_)
        ));
    }

    #[test]
    fn activation_codes_are_normalised_before_they_are_sent() {
        assert_eq!(normalize_code(" ab3c-d4e6 ").unwrap(), "AB3CD4E6");
        for bad in ["AB3C-D4E", "AB3C-D4E6F", "AB3C_D4E6", "ÄB3C-D4E6"] {
            assert!(
                matches!(
                    normalize_code(bad),
                    Err(WalletError::InvalidInput("activation_code"))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_metadata_url_puts_the_well_known_segment_after_the_host() {
        assert_eq!(
            metadata_url("https://issuer.example/").unwrap().as_str(),
            "https://issuer.example/.well-known/openid-credential-issuer"
        );
        assert_eq!(
            metadata_url("https://issuer.example:8443/tenant")
                .unwrap()
                .as_str(),
            "https://issuer.example:8443/.well-known/openid-credential-issuer/tenant"
        );
        assert!(metadata_url("http://issuer.example/").is_err());
    }

    #[test]
    fn birth_dates_parse_only_in_iso_form() {
        assert_eq!(
            parse_date("1990-05-17"),
            Some(BirthDate {
                year: 1990,
                month: 5,
                day: 17
            })
        );
        assert_eq!(parse_date("17/05/1990"), None);
        assert_eq!(parse_date("1990-05-17-1"), None);
    }
}
