//! The wallet: the citizen's identity on this phone.
//!
//! Owns: [`Wallet`], the handle an app gets from `Citizen::wallet()`, and everything behind it:
//! the wallet's state ([`WalletState`], derived from the store on every read so it survives
//! restarts), activation and PID issuance over OpenID4VCI ([`activation`]), the stored credentials
//! ([`credentials`]), the device key ([`device_key`]), the PIN ([`pin`]) and the disclosure
//! history ([`history`]).
//! Does not own the formats (`jose`, `sdjwt`, `openid4vci`, `id1`, `qr`: I/O-free and usable on
//! their own), the platform's key store (`platform::KeyStore`) nor the trust list (`trust`), which
//! it consults.
//!
//! The states: `NotActivated` (no usable credential) → `Active` ⇄ `Locked` (a PIN lockout is
//! running) → `Blocked` (too many wrong PINs: only a new activation helps).

pub mod activation;
pub mod credentials;
pub mod device_key;
mod error;
pub mod health;
pub mod history;
pub mod pin;
pub mod presentation;
pub mod remote;

use std::sync::Arc;

use rusqlite::Connection;

pub use error::{CredentialCheck, WalletError};

use crate::credential_status;
use crate::events::{Event, EventBus};
use crate::jose::EcPublicJwk;
use crate::net::HttpClient;
use crate::platform::KeyStore;
use crate::store::{Store, StoreError};
use history::{HistoryKind, HistoryOutcome, HistoryPage, NewRecord, PageCursor};

/// Where the citizen's wallet stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalletState {
    /// No usable credential (never activated, reset, or activation waits for a PIN).
    NotActivated,
    Active,
    /// Too many wrong PINs: nothing that needs the PIN works until `until` (Unix seconds).
    Locked {
        until: i64,
    },
    /// Too many wrong PINs in a row: the wallet must be activated again.
    Blocked,
}

/// The wallet's state at `now`, from the store.
pub fn state(conn: &Connection, now: i64) -> Result<WalletState, StoreError> {
    if !credentials::any_usable(conn)? {
        return Ok(WalletState::NotActivated);
    }
    Ok(match pin::state(conn, now)? {
        pin::PinState::NotSet => WalletState::NotActivated,
        pin::PinState::Ready { .. } => WalletState::Active,
        pin::PinState::LockedUntil(until) => WalletState::Locked { until },
        pin::PinState::Blocked => WalletState::Blocked,
    })
}

/// A credential's status from the cached status list; `Unknown` when it names none.
pub(crate) fn status_of(
    conn: &Connection,
    trust: &dyn IssuerTrust,
    credential: &credentials::StoredCredential,
    now: i64,
) -> Result<credential_status::StatusAnswer, StoreError> {
    match (&credential.status_uri, credential.status_idx) {
        (Some(uri), Some(idx)) => {
            credential_status::lookup(conn, trust, &credential.issuer, uri, idx, now)
        }
        _ => Ok(credential_status::StatusAnswer {
            status: credential_status::CredentialStatus::Unknown,
            checked_at: None,
            stale: false,
        }),
    }
}

/// `bytes` random bytes as base64url: nonces and handles the wallet makes.
pub(crate) fn random_token(bytes: usize) -> Result<String, WalletError> {
    use ring::rand::SecureRandom;
    let mut buffer = vec![0u8; bytes];
    ring::rand::SystemRandom::new()
        .fill(&mut buffer)
        .map_err(|_| WalletError::Pin(pin::PinError::Randomness))?;
    Ok(crate::jose::base64url::encode(buffer))
}

/// What the wallet needs from the trust list: which keys an issuer signs with, what it may
/// issue, and which relying parties may ask for what. `trust::TrustCache` implements it; tests
/// may give a fixed answer.
pub trait IssuerTrust: Send + Sync {
    /// The key `kid` of issuer `iss`, if the trust list names it and it was valid at `at`.
    /// `Err(NoTrustList)` when no verified list is available at all.
    fn issuer_key(&self, iss: &str, kid: &str, at: i64) -> Result<EcPublicJwk, WalletError>;
    /// Whether issuer `iss` may issue credentials of type `vct`.
    fn may_issue(&self, iss: &str, vct: &str) -> bool;
    /// The issuer's display name, for the history.
    fn issuer_name(&self, iss: &str) -> Option<String>;
    /// The relying party registered as `client_id`, if any. `Err(NoTrustList)` when no
    /// verified list is available at all.
    fn relying_party(
        &self,
        client_id: &str,
    ) -> Result<Option<crate::trust_list::RelyingParty>, WalletError>;
    /// The EU DCC document signer certificate whose key id is `kid`, if the trust list names
    /// one. `Err(NoTrustList)` when no verified list is available at all. The default knows
    /// none (a test double that has no health signers).
    fn health_signer(
        &self,
        _kid: &[u8],
    ) -> Result<Option<crate::dcc::SignerCertificate>, WalletError> {
        Ok(None)
    }
}

/// What the wallet's handle shares with `Citizen`.
pub(crate) struct WalletContext {
    pub store: Arc<Store>,
    pub http: HttpClient,
    pub events: Arc<EventBus>,
    /// `None` when the app gave no key store and did not choose the software one.
    pub keys: Option<Arc<dyn KeyStore>>,
    pub trust: Arc<dyn IssuerTrust>,
    /// Remote presentation requests prepared and not yet answered.
    pub remote: remote::PendingDisclosures,
}

/// A summary of a stored credential: no claim values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialSummary {
    pub id: String,
    pub vct: String,
    pub issuer: String,
    pub issued_at: i64,
    pub expires_at: Option<i64>,
}

impl From<&credentials::StoredCredential> for CredentialSummary {
    fn from(stored: &credentials::StoredCredential) -> Self {
        Self {
            id: stored.id.clone(),
            vct: stored.vct.clone(),
            issuer: stored.issuer.clone(),
            issued_at: stored.issued_at,
            expires_at: stored.expires_at,
        }
    }
}

/// The wallet. Cheap to clone; every clone is the same wallet.
#[derive(Clone)]
pub struct Wallet {
    context: Arc<WalletContext>,
}

impl Wallet {
    pub(crate) fn new(context: WalletContext) -> Self {
        Self {
            context: Arc::new(context),
        }
    }

    pub async fn state(&self) -> Result<WalletState, WalletError> {
        let now = crate::unix_now();
        Ok(self
            .context
            .store
            .read(move |conn| state(conn, now))
            .await?)
    }

    /// Activates the wallet: registers a new device key with the issuer and receives the PID.
    /// See [`activation::ActivationRequest`].
    pub async fn activate(
        &self,
        request: activation::ActivationRequest,
    ) -> Result<CredentialSummary, WalletError> {
        activation::activate(self, request).await
    }

    /// Finishes an activation whose PIN was refused after issuance ([`WalletError::ChooseAnotherPin`]).
    pub async fn complete_activation(
        &self,
        new_pin: &str,
    ) -> Result<CredentialSummary, WalletError> {
        activation::complete(self, new_pin).await
    }

    /// The PID, if the wallet holds a usable one.
    pub async fn credential(&self) -> Result<Option<CredentialSummary>, WalletError> {
        Ok(self
            .stored_pid()
            .await?
            .as_ref()
            .map(CredentialSummary::from))
    }

    /// Builds the identity QR (after checking the PIN): see [`presentation`].
    pub async fn identity_qr(
        &self,
        request: presentation::IdentityQrRequest,
    ) -> Result<presentation::IdentityQr, WalletError> {
        presentation::identity_qr(self, request).await
    }

    /// Fetches the PID's status list when its cached copy is older than its `ttl` (or `force`),
    /// and returns the PID's status. Offline, the cached answer is returned, marked stale.
    pub async fn refresh_status(
        &self,
        force: bool,
    ) -> Result<Option<credential_status::StatusAnswer>, WalletError> {
        let Some(credential) = self.stored_pid().await? else {
            return Ok(None);
        };
        let (Some(uri), Some(_)) = (&credential.status_uri, credential.status_idx) else {
            return self.credential_status().await;
        };
        let context = &self.context;
        let refreshed = credential_status::refresh(
            &context.store,
            &context.http,
            &*context.trust,
            &credential.issuer,
            uri,
            crate::unix_now(),
            force,
        )
        .await;
        if let Err(error) = refreshed {
            // Offline or a bad list: the cached answer stands and says it is stale.
            tracing::info!(%error, "the status list could not be refreshed");
        }
        self.credential_status().await
    }

    /// The PID's status from the cached status list, offline.
    pub async fn credential_status(
        &self,
    ) -> Result<Option<credential_status::StatusAnswer>, WalletError> {
        let now = crate::unix_now();
        let trust = self.context.trust.clone();
        Ok(self
            .context
            .store
            .read(move |conn| {
                credentials::usable_by_vct(conn, crate::openid4vci::PID_VCT)?
                    .map(|pid| status_of(conn, &*trust, &pid, now))
                    .transpose()
            })
            .await?)
    }

    async fn stored_pid(&self) -> Result<Option<credentials::StoredCredential>, WalletError> {
        Ok(self
            .context
            .store
            .read(|conn| credentials::usable_by_vct(conn, crate::openid4vci::PID_VCT))
            .await?)
    }

    /// Checks the PIN. A lockout it causes is recorded in the history and announced.
    pub async fn verify_pin(&self, pin: &str) -> Result<(), WalletError> {
        let now = crate::unix_now();
        let before = self
            .context
            .store
            .read(move |conn| pin::state(conn, now))
            .await?;
        let result = pin::verify(&self.context.store, pin, now).await;
        // Only the attempt that causes a lockout is a history event; attempts refused while one
        // is running change nothing.
        let newly_locked = matches!(before, pin::PinState::Ready { .. })
            && matches!(
                &result,
                Err(pin::PinError::Locked { .. } | pin::PinError::Blocked)
            );
        if newly_locked {
            self.record(NewRecord {
                at: now,
                kind: HistoryKind::PinLockout,
                outcome: HistoryOutcome::Failed,
                counterparty: None,
                credential_id: None,
                claims: Vec::new(),
            })
            .await?;
            self.announce_state().await;
        }
        Ok(result?)
    }

    pub async fn change_pin(&self, current: &str, new: &str) -> Result<(), WalletError> {
        let birth_date = self.birth_date().await?;
        self.verify_pin(current).await?;
        pin::check_strength(new, birth_date)?;
        let hashed = pin::hash_new(new).await?;
        self.context
            .store
            .write(move |tx| pin::write_hash(tx, &hashed))
            .await?;
        Ok(())
    }

    /// Deletes the credentials, the PIN and the device key: the wallet is `NotActivated` again.
    /// The history stays (the citizen deletes it separately) and records the deletion.
    pub async fn reset(&self) -> Result<(), WalletError> {
        let now = crate::unix_now();
        let (aliases, record_ids) = self
            .context
            .store
            .write(move |tx| {
                let aliases = activation::forget_wallet(tx)?;
                let ids = history::record(
                    tx,
                    &NewRecord {
                        at: now,
                        kind: HistoryKind::Deletion,
                        outcome: HistoryOutcome::Completed,
                        counterparty: None,
                        credential_id: None,
                        claims: Vec::new(),
                    },
                )?;
                Ok::<_, WalletError>((aliases, ids))
            })
            .await?;
        self.delete_device_keys(aliases).await;
        self.announce_record(record_ids, HistoryKind::Deletion, HistoryOutcome::Completed);
        self.announce_state().await;
        Ok(())
    }

    pub async fn history_page(
        &self,
        credential_id: Option<String>,
        after: Option<PageCursor>,
        size: u32,
    ) -> Result<HistoryPage, WalletError> {
        Ok(self
            .context
            .store
            .read(move |conn| history::page(conn, credential_id.as_deref(), after, size))
            .await?)
    }

    pub async fn export_history(&self) -> Result<String, WalletError> {
        Ok(self.context.store.read(history::export_json).await?)
    }

    /// Deletes one history record; `false` if there was none.
    pub async fn delete_history_record(&self, id: i64) -> Result<bool, WalletError> {
        Ok(self
            .context
            .store
            .write(move |tx| history::delete(tx, id))
            .await?)
    }

    pub async fn delete_history(&self) -> Result<usize, WalletError> {
        Ok(self.context.store.write(history::delete_all).await?)
    }

    pub(crate) fn context(&self) -> &WalletContext {
        &self.context
    }

    pub(crate) fn key_store(&self) -> Result<Arc<dyn KeyStore>, WalletError> {
        self.context.keys.clone().ok_or(WalletError::NoKeyStore)
    }

    /// The birth date on the stored PID, for the PIN rules.
    async fn birth_date(&self) -> Result<Option<pin::BirthDate>, WalletError> {
        let stored = self.stored_pid().await?;
        Ok(stored.and_then(|c| activation::birth_date_of(&c.sd_jwt)))
    }

    /// Writes one history record in its own transaction and announces it.
    pub(crate) async fn record(&self, record: NewRecord) -> Result<i64, WalletError> {
        let (kind, outcome) = (record.kind, record.outcome);
        let id = self
            .context
            .store
            .write(move |tx| history::record(tx, &record))
            .await?;
        self.announce_record(id, kind, outcome);
        Ok(id)
    }

    pub(crate) fn announce_record(&self, id: i64, kind: HistoryKind, outcome: HistoryOutcome) {
        self.context
            .events
            .emit(Event::HistoryRecorded { id, kind, outcome });
    }

    /// Emits the current state. Best effort: a store failure here must not fail the flow that
    /// already succeeded.
    pub(crate) async fn announce_state(&self) {
        match self.state().await {
            Ok(state) => self
                .context
                .events
                .emit(Event::WalletStateChanged { state }),
            Err(error) => tracing::warn!(%error, "could not read the wallet state"),
        }
    }

    /// The aliases of every device key the store refers to.
    pub(crate) async fn device_key_aliases(&self) -> Result<Vec<String>, WalletError> {
        Ok(self.context.store.read(credentials::key_aliases).await?)
    }

    /// The citizen declined an officer's challenge: recorded as a declined presentation to that
    /// verifier, with the claims it asked for.
    pub async fn decline_identity_challenge(&self, challenge: &str) -> Result<(), WalletError> {
        let challenge = crate::id1::Challenge::decode(challenge)
            .map_err(|_| WalletError::InvalidInput("challenge"))?;
        let credential_id = self.stored_pid().await?.map(|c| c.id);
        self.record(NewRecord {
            at: crate::unix_now(),
            kind: HistoryKind::Presentation,
            outcome: HistoryOutcome::Declined,
            counterparty: Some(history::Counterparty {
                id: challenge.audience.clone(),
                display_name: challenge.audience,
            }),
            credential_id,
            claims: challenge.claims,
        })
        .await?;
        Ok(())
    }

    /// Deletes device keys the store no longer refers to. Best effort: a key left behind signs
    /// nothing the wallet will ever send again.
    pub(crate) async fn delete_device_keys(&self, aliases: Vec<String>) {
        let Some(keys) = self.context.keys.clone() else {
            return;
        };
        crate::blocking::run(move || {
            for alias in aliases {
                if let Err(error) = keys.delete_key(&alias) {
                    tracing::warn!(%error, "could not delete an old device key");
                }
            }
        })
        .await;
    }
}
