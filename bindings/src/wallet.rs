//! The wallet's FFI surface: the [`Wallet`] object (`citizen.wallet()`) and its records.
//!
//! Owns: shape only, like the rest of the bindings. Meaning lives on the core types
//! (`citizen_core::wallet`).

use std::sync::Arc;

use crate::error::CitizenError;
use crate::runtime;

/// See `citizen_core::WalletState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum WalletState {
    /// No usable credential: never activated, reset, or activation waits for a PIN.
    NotActivated,
    /// Activated: the credential can be presented.
    Active,
    /// Too many wrong PINs: wait until `until` (Unix seconds).
    Locked { until: i64 },
    /// Too many wrong PINs in a row: activate again.
    Blocked,
}

impl From<citizen_core::WalletState> for WalletState {
    fn from(state: citizen_core::WalletState) -> Self {
        match state {
            citizen_core::WalletState::NotActivated => WalletState::NotActivated,
            citizen_core::WalletState::Active => WalletState::Active,
            citizen_core::WalletState::Locked { until } => WalletState::Locked { until },
            citizen_core::WalletState::Blocked => WalletState::Blocked,
        }
    }
}

/// What the citizen enters to activate the wallet. See
/// `citizen_core::wallet::activation::ActivationRequest`.
#[derive(uniffi::Record)]
pub struct ActivationRequest {
    /// The 12-digit citizen identity card number.
    pub id_number: String,
    /// The activation code from the registration (`XXXX-XXXX`).
    pub activation_code: String,
    /// The six-digit PIN the citizen chose.
    pub pin: String,
    /// An opaque platform-attestation blob (Play Integrity, App Attest), passed to the issuer.
    #[uniffi(default = None)]
    pub attestation: Option<Vec<u8>>,
}

/// A stored credential, without its claim values.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CredentialSummary {
    /// The credential's identifier in the wallet.
    pub id: String,
    /// The credential type (`urn:eudi:pid:vn:1` for the PID).
    pub vct: String,
    /// The issuer (`iss`) of the credential.
    pub issuer: String,
    /// When it was issued (Unix seconds).
    pub issued_at: i64,
    /// When it expires (Unix seconds); `None` if it does not.
    pub expires_at: Option<i64>,
}

impl From<citizen_core::wallet::CredentialSummary> for CredentialSummary {
    fn from(summary: citizen_core::wallet::CredentialSummary) -> Self {
        Self {
            id: summary.id,
            vct: summary.vct,
            issuer: summary.issuer,
            issued_at: summary.issued_at,
            expires_at: summary.expires_at,
        }
    }
}

/// What kind of event a history record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum HistoryKind {
    /// A credential was issued to the wallet.
    Issuance,
    /// Claims were presented to a relying party or verifier.
    Presentation,
    /// A credential was deleted from the wallet.
    Deletion,
    /// Too many wrong PINs locked or blocked the wallet.
    PinLockout,
}

/// How a history event ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum HistoryOutcome {
    /// It went through.
    Completed,
    /// The citizen said no.
    Declined,
    /// It failed (network, verification, ...).
    Failed,
}

impl From<citizen_core::wallet::history::HistoryKind> for HistoryKind {
    fn from(kind: citizen_core::wallet::history::HistoryKind) -> Self {
        use citizen_core::wallet::history::HistoryKind as K;
        match kind {
            K::Issuance => HistoryKind::Issuance,
            K::Presentation => HistoryKind::Presentation,
            K::Deletion => HistoryKind::Deletion,
            K::PinLockout => HistoryKind::PinLockout,
        }
    }
}

impl From<citizen_core::wallet::history::HistoryOutcome> for HistoryOutcome {
    fn from(outcome: citizen_core::wallet::history::HistoryOutcome) -> Self {
        use citizen_core::wallet::history::HistoryOutcome as O;
        match outcome {
            O::Completed => HistoryOutcome::Completed,
            O::Declined => HistoryOutcome::Declined,
            O::Failed => HistoryOutcome::Failed,
        }
    }
}

/// One entry of the disclosure history: who, when, which claims (names only), how it ended.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HistoryRecord {
    /// The record's identifier, for `delete_history_record`.
    pub id: i64,
    /// When it happened (Unix seconds).
    pub at: i64,
    /// What happened.
    pub kind: HistoryKind,
    /// How it ended.
    pub outcome: HistoryOutcome,
    /// The other party's identifier (client id, issuer), when there was one.
    pub counterparty_id: Option<String>,
    /// The other party's name from the trust list, when known.
    pub counterparty_name: Option<String>,
    /// The credential involved, when one was.
    pub credential_id: Option<String>,
    /// The names of the disclosed claims (never their values).
    pub claims: Vec<String>,
}

/// Where the next page of history starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct HistoryCursor {
    /// The `at` of the last record of the previous page.
    pub at: i64,
    /// The `id` of the last record of the previous page.
    pub id: i64,
}

/// One page of the disclosure history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HistoryPage {
    /// The records of this page.
    pub records: Vec<HistoryRecord>,
    /// `None` on the last page.
    pub next: Option<HistoryCursor>,
}

impl From<citizen_core::wallet::history::HistoryPage> for HistoryPage {
    fn from(page: citizen_core::wallet::history::HistoryPage) -> Self {
        Self {
            records: page
                .records
                .into_iter()
                .map(|r| {
                    let (counterparty_id, counterparty_name) = match r.counterparty {
                        Some(c) => (Some(c.id), Some(c.display_name)),
                        None => (None, None),
                    };
                    HistoryRecord {
                        id: r.id,
                        at: r.at,
                        kind: r.kind.into(),
                        outcome: r.outcome.into(),
                        counterparty_id,
                        counterparty_name,
                        credential_id: r.credential_id,
                        claims: r.claims,
                    }
                })
                .collect(),
            next: page.next.map(|c| HistoryCursor { at: c.at, id: c.id }),
        }
    }
}

/// The citizen's wallet: activation, the PID, the PIN and the disclosure history. Get it from
/// `citizen.wallet()`.
#[derive(uniffi::Object)]
pub struct Wallet {
    inner: citizen_core::Wallet,
}

impl Wallet {
    pub(crate) fn new(inner: citizen_core::Wallet) -> Arc<Self> {
        Arc::new(Self { inner })
    }

    /// Runs a wallet operation on the SDK runtime with its own handle to the wallet.
    pub(crate) async fn run<T, F>(
        &self,
        operation: impl FnOnce(citizen_core::Wallet) -> F,
    ) -> Result<T, CitizenError>
    where
        F: std::future::Future<Output = Result<T, citizen_core::WalletError>> + Send + 'static,
        T: Send + 'static,
    {
        let future = operation(self.inner.clone());
        Ok(runtime::run(future).await??)
    }
}

#[uniffi::export]
impl Wallet {
    /// The wallet's state: not activated, active, locked or blocked.
    pub async fn state(&self) -> Result<WalletState, CitizenError> {
        Ok(self.run(|w| async move { w.state().await }).await?.into())
    }

    /// Activates the wallet with the citizen's ID number, activation code and new PIN, and
    /// receives the PID. Needs the network and a verified trust list. If the PIN turns out to be
    /// the birth date on the credential, the credential is kept and the error's code is
    /// `choose_another_pin`: call `complete_activation` with another PIN.
    pub async fn activate(
        &self,
        request: ActivationRequest,
    ) -> Result<CredentialSummary, CitizenError> {
        let request = citizen_core::wallet::activation::ActivationRequest {
            id_number: request.id_number,
            activation_code: request.activation_code,
            pin: request.pin,
            attestation: request.attestation,
        };
        Ok(self
            .run(|w| async move { w.activate(request).await })
            .await?
            .into())
    }

    /// Finishes an activation whose PIN was refused after issuance.
    pub async fn complete_activation(
        &self,
        new_pin: String,
    ) -> Result<CredentialSummary, CitizenError> {
        Ok(self
            .run(|w| async move { w.complete_activation(&new_pin).await })
            .await?
            .into())
    }

    /// The PID's summary, if the wallet holds a usable one.
    pub async fn credential(&self) -> Result<Option<CredentialSummary>, CitizenError> {
        Ok(self
            .run(|w| async move { w.credential().await })
            .await?
            .map(Into::into))
    }

    /// Checks the PIN. Wrong PINs count towards the lockout.
    pub async fn verify_pin(&self, pin: String) -> Result<(), CitizenError> {
        self.run(|w| async move { w.verify_pin(&pin).await }).await
    }

    /// Changes the wallet PIN; the current PIN must be right (wrong tries count toward a lock).
    pub async fn change_pin(&self, current: String, new_pin: String) -> Result<(), CitizenError> {
        self.run(|w| async move { w.change_pin(&current, &new_pin).await })
            .await
    }

    /// Deletes the credential, the PIN and the device key; the history stays.
    pub async fn reset(&self) -> Result<(), CitizenError> {
        self.run(|w| async move { w.reset().await }).await
    }

    /// Up to `size` history records, newest first, after `after`; only those of
    /// `credential_id` when given.
    pub async fn history_page(
        &self,
        credential_id: Option<String>,
        after: Option<HistoryCursor>,
        size: u32,
    ) -> Result<HistoryPage, CitizenError> {
        let after = after.map(|c| citizen_core::wallet::history::PageCursor { at: c.at, id: c.id });
        Ok(self
            .run(|w| async move { w.history_page(credential_id, after, size).await })
            .await?
            .into())
    }

    /// The whole history as JSON, for the citizen to keep.
    pub async fn export_history(&self) -> Result<String, CitizenError> {
        self.run(|w| async move { w.export_history().await }).await
    }

    /// Deletes one history record; `false` when there was none with that id.
    pub async fn delete_history_record(&self, id: i64) -> Result<bool, CitizenError> {
        self.run(|w| async move { w.delete_history_record(id).await })
            .await
    }

    /// Deletes every history record; returns how many.
    pub async fn delete_history(&self) -> Result<u64, CitizenError> {
        Ok(self
            .run(|w| async move { w.delete_history().await })
            .await? as u64)
    }
}

/// What to present in person. See `citizen_core::wallet::presentation::IdentityQrRequest`.
#[derive(uniffi::Record)]
pub struct IdentityQrRequest {
    /// The wallet PIN that authorises the presentation.
    pub pin: String,
    /// Claim names to disclose; empty: what the challenge asks, else the smallest set
    /// (`full_name`, `id_number`).
    #[uniffi(default = [])]
    pub claims: Vec<String>,
    /// The officer's `IDC1:` challenge text, in two-way mode.
    #[uniffi(default = None)]
    pub challenge: Option<String>,
}

/// An identity QR, valid until `expires_at`. `text` discloses the chosen claims: show it, never
/// log it.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct IdentityQr {
    /// `ID1:…`, what the QR encodes.
    pub text: String,
    /// The QR as a standalone SVG.
    pub svg: String,
    /// Modules per side.
    pub width: u32,
    /// `width * width` modules, row by row, `true` for dark: for drawing natively.
    pub modules: Vec<bool>,
    /// When the QR stops being accepted (Unix seconds).
    pub expires_at: i64,
    /// The names of the claims the QR discloses.
    pub disclosed: Vec<String>,
}

/// Personal data stays out of `Debug`: the text and the drawing disclose the chosen claims.
impl std::fmt::Debug for IdentityQr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityQr")
            .field("chars", &self.text.len())
            .field("width", &self.width)
            .field("expires_at", &self.expires_at)
            .field("disclosed", &self.disclosed)
            .finish_non_exhaustive()
    }
}

impl From<citizen_core::wallet::presentation::IdentityQr> for IdentityQr {
    fn from(qr: citizen_core::wallet::presentation::IdentityQr) -> Self {
        Self {
            svg: qr.qr.to_svg(),
            width: qr.qr.width as u32,
            modules: qr.qr.modules,
            text: qr.text,
            expires_at: qr.expires_at,
            disclosed: qr.disclosed,
        }
    }
}

/// See `citizen_core::credential_status::CredentialStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CredentialStatus {
    /// Neither revoked nor suspended on the issuer's status list.
    Valid,
    /// Revoked for good by the issuer.
    Revoked,
    /// Suspended by the issuer; may be reinstated.
    Suspended,
    /// No verified status list is cached.
    Unknown,
}

/// A credential's status and how fresh the list behind it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct StatusAnswer {
    /// The credential's status.
    pub status: CredentialStatus,
    /// When the list was fetched (Unix seconds); `None` with `Unknown`.
    pub checked_at: Option<i64>,
    /// The list is older than its `ttl` and could not be fetched again.
    pub stale: bool,
}

impl From<citizen_core::credential_status::StatusAnswer> for StatusAnswer {
    fn from(answer: citizen_core::credential_status::StatusAnswer) -> Self {
        use citizen_core::credential_status::CredentialStatus as S;
        Self {
            status: match answer.status {
                S::Valid => CredentialStatus::Valid,
                S::Revoked => CredentialStatus::Revoked,
                S::Suspended => CredentialStatus::Suspended,
                S::Unknown => CredentialStatus::Unknown,
            },
            checked_at: answer.checked_at,
            stale: answer.stale,
        }
    }
}

#[uniffi::export]
impl Wallet {
    /// Builds the in-person identity QR (checks the PIN first; a revoked or suspended credential
    /// is refused). Valid for 60 seconds.
    pub async fn identity_qr(
        &self,
        request: IdentityQrRequest,
    ) -> Result<IdentityQr, CitizenError> {
        let request = citizen_core::wallet::presentation::IdentityQrRequest {
            pin: request.pin,
            claims: request.claims,
            challenge: request.challenge,
        };
        Ok(self
            .run(|w| async move { w.identity_qr(request).await })
            .await?
            .into())
    }

    /// Fetches the PID's status list when due (or when `force`), and returns the PID's status;
    /// offline, the cached answer. `None` without a PID.
    pub async fn refresh_status(&self, force: bool) -> Result<Option<StatusAnswer>, CitizenError> {
        Ok(self
            .run(|w| async move { w.refresh_status(force).await })
            .await?
            .map(Into::into))
    }

    /// The citizen declined an officer's `IDC1:` challenge: recorded in the history as a declined
    /// presentation to that verifier.
    pub async fn decline_identity_challenge(&self, challenge: String) -> Result<(), CitizenError> {
        self.run(|w| async move { w.decline_identity_challenge(&challenge).await })
            .await
    }

    /// The PID's status from the cached status list, offline.
    pub async fn credential_status(&self) -> Result<Option<StatusAnswer>, CitizenError> {
        Ok(self
            .run(|w| async move { w.credential_status().await })
            .await?
            .map(Into::into))
    }
}

/// One claim on the consent screen. `value_text` is personal data: show it, never log it.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct ConsentClaim {
    /// The claim's path as text (`full_name`, `place_of_residence.locality`): what
    /// `DisclosureApproval.optional_claims` names.
    pub name: String,
    /// Required by the request; an optional one the citizen may leave out.
    pub required: bool,
    /// What the wallet would send: a text value as it is, anything else as JSON.
    pub value_text: String,
}

impl std::fmt::Debug for ConsentClaim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsentClaim")
            .field("name", &self.name)
            .field("required", &self.required)
            .finish_non_exhaustive()
    }
}

/// What the consent screen of a remote presentation shows. See
/// `citizen_core::wallet::remote::DisclosureConsent`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DisclosureConsent {
    /// Pass it to `approve_disclosure` or `decline_disclosure`.
    pub request_id: String,
    /// The relying party's client id.
    pub relying_party_id: String,
    /// The relying party's name from the trust list.
    pub relying_party_name: String,
    /// The purpose it registered in the trust list.
    pub purpose: Option<String>,
    /// Required claims first, then optional ones.
    pub claims: Vec<ConsentClaim>,
    /// When the citizen last shared claims with this relying party (Unix seconds), if ever.
    pub last_shared_at: Option<i64>,
    /// The answer is encrypted to the relying party.
    pub encrypted_response: bool,
    /// After this (Unix seconds) the request can no longer be answered.
    pub expires_at: i64,
}

impl From<citizen_core::wallet::remote::DisclosureConsent> for DisclosureConsent {
    fn from(consent: citizen_core::wallet::remote::DisclosureConsent) -> Self {
        Self {
            request_id: consent.request_id,
            relying_party_id: consent.relying_party.id,
            relying_party_name: consent.relying_party.display_name,
            purpose: consent.purpose,
            claims: consent
                .claims
                .into_iter()
                .map(|claim| ConsentClaim {
                    name: claim.name,
                    required: claim.required,
                    value_text: match claim.value {
                        serde_json::Value::String(text) => text,
                        other => other.to_string(),
                    },
                })
                .collect(),
            last_shared_at: consent.last_shared_at,
            encrypted_response: consent.encrypted_response,
            expires_at: consent.expires_at,
        }
    }
}

/// The citizen's approval of a remote presentation.
#[derive(uniffi::Record)]
pub struct DisclosureApproval {
    /// The wallet PIN that authorises the presentation.
    pub pin: String,
    /// The optional claims (by `ConsentClaim.name`) the citizen agreed to share; required ones
    /// are always sent.
    #[uniffi(default = [])]
    pub optional_claims: Vec<String>,
}

/// How an approved presentation ended.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DisclosureReceipt {
    /// The names of the claims sent.
    pub disclosed: Vec<String>,
    /// Same-device flow: the `https` URI the relying party asks the app to open next.
    pub redirect_uri: Option<String>,
}

#[uniffi::export]
impl Wallet {
    /// Reads a scanned or opened `openid4vp://` request: fetches and verifies the relying
    /// party's signed request and returns what the consent screen shows. Sends nothing about the
    /// citizen.
    pub async fn prepare_disclosure(
        &self,
        link: String,
    ) -> Result<DisclosureConsent, CitizenError> {
        Ok(self
            .run(|w| async move { w.prepare_disclosure(&link).await })
            .await?
            .into())
    }

    /// Sends the required claims and the chosen optional ones to the relying party, after
    /// checking the PIN.
    pub async fn approve_disclosure(
        &self,
        request_id: String,
        approval: DisclosureApproval,
    ) -> Result<DisclosureReceipt, CitizenError> {
        let approval = citizen_core::wallet::remote::DisclosureApproval {
            pin: approval.pin,
            optional_claims: approval.optional_claims,
        };
        let receipt = self
            .run(|w| async move { w.approve_disclosure(&request_id, approval).await })
            .await?;
        Ok(DisclosureReceipt {
            disclosed: receipt.disclosed,
            redirect_uri: receipt.redirect_uri,
        })
    }

    /// The citizen declined: the relying party is told (`access_denied`) and the history
    /// records it.
    pub async fn decline_disclosure(&self, request_id: String) -> Result<(), CitizenError> {
        self.run(|w| async move { w.decline_disclosure(&request_id).await })
            .await
    }
}
