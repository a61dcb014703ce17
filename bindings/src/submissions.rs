//! Filed dossiers on the FFI surface: where each is on its way to the portal, and what the
//! citizen can do with one the portal has not received. Part of the [`Dossiers`] object.
//!
//! Owns: shape only. Meaning lives on the core types (`citizen_core::dossier::submission`,
//! `sender`).

use std::time::Duration;

use citizen_core::dossier;

use crate::dossiers::Dossiers;
use crate::error::CitizenError;
use crate::runtime;

/// See `citizen_core::dossier::DeliveryState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DeliveryState {
    /// Waiting in the outbox (or being sent); it goes out as soon as it can.
    Queued,
    /// The portal has it and gave a receipt code.
    Received,
    /// The portal refused it for a reason retrying cannot fix (`parked_reason`).
    Parked,
}

impl From<dossier::DeliveryState> for DeliveryState {
    fn from(state: dossier::DeliveryState) -> Self {
        match state {
            dossier::DeliveryState::Queued => DeliveryState::Queued,
            dossier::DeliveryState::Received => DeliveryState::Received,
            dossier::DeliveryState::Parked => DeliveryState::Parked,
        }
    }
}

/// A filed dossier. See `citizen_core::dossier::Submission`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Submission {
    /// The submission's id, for the other submission calls.
    pub id: i64,
    /// The dossier's id (also its `Idempotency-Key` at the portal).
    pub dossier_id: String,
    /// The draft it was filed from, while that draft exists.
    pub draft_id: Option<i64>,
    /// The procedure it was filed under.
    pub procedure_code: String,
    /// The version of the procedure the citizen filled in.
    pub procedure_version: u64,
    /// Where it is on its way to the portal.
    pub state: DeliveryState,
    /// A machine code (`validation_failed`, `unknown_device`, `http_403`, ...) when parked.
    pub parked_reason: Option<String>,
    /// The portal's receipt code, once received.
    pub receipt_code: Option<String>,
    /// The portal's status of the dossier (`received`, ...), once received.
    pub portal_status: Option<String>,
    /// How many documents it carries.
    pub attachments: u32,
    /// Unix seconds when the citizen signed it.
    pub submitted_at: i64,
    /// Unix seconds when the portal received it.
    pub received_at: Option<i64>,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// The last transient failure's code (`unreachable`, `server`, `throttled`, ...).
    pub last_error: Option<String>,
    /// Where it is: on its way, or its status at the portal (kept current by `sync_statuses`).
    pub status: crate::tracking::TrackingStatus,
    /// The agency's explanation of the status (a rejection's reason, a clerk's note).
    pub status_reason: Option<String>,
    /// Unix seconds when the portal's status last changed.
    pub status_at: Option<i64>,
    /// The agency's open supplement request, until a supplement answering it is filed
    /// (`start_supplement`).
    pub supplement_request: Option<crate::tracking::SupplementRequest>,
    /// The citizen's withdrawal request, once asked (`withdraw`).
    pub withdrawal: Option<crate::tracking::WithdrawalState>,
}

impl From<dossier::Submission> for Submission {
    fn from(s: dossier::Submission) -> Self {
        Self {
            id: s.id,
            dossier_id: s.dossier_id,
            draft_id: s.draft_id,
            procedure_code: s.procedure_code,
            procedure_version: s.procedure_version,
            state: s.state.into(),
            parked_reason: s.parked_reason,
            receipt_code: s.receipt_code,
            portal_status: s.portal_status,
            attachments: s.attachments,
            submitted_at: s.submitted_at,
            received_at: s.received_at,
            attempts: s.attempts,
            last_error: s.last_error,
            status: s.status.into(),
            status_reason: s.status_reason,
            status_at: s.status_at,
            supplement_request: s.supplement_request.map(Into::into),
            withdrawal: s.withdrawal.map(Into::into),
        }
    }
}

/// What one `send_queued` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct DrainReport {
    /// Dossiers the portal received.
    pub delivered: u32,
    /// Attempts that failed for now and were scheduled again.
    pub retried: u32,
    /// Dossiers the portal refused; they wait for the citizen.
    pub parked: u32,
    /// Dossiers still queued afterwards.
    pub pending: u64,
    /// When the next of them is due (Unix seconds): schedule background work for then.
    pub next_due_at: Option<i64>,
}

impl From<dossier::DrainReport> for DrainReport {
    fn from(r: dossier::DrainReport) -> Self {
        Self {
            delivered: r.delivered,
            retried: r.retried,
            parked: r.parked,
            pending: r.pending,
            next_due_at: r.next_due_at,
        }
    }
}

#[uniffi::export]
impl Dossiers {
    /// Files draft `draft_id`: validates it (`InvalidInput` with code `not_valid` when it does
    /// not pass: `validate_draft` lists why), checks `pin` (`WrongPin`, `Locked`), signs the
    /// dossier with the device key, locks the draft and queues it. Returns at once, also
    /// offline; `Event.DossierDeliveryChanged` follows it to the portal.
    pub async fn submit(&self, draft_id: i64, pin: String) -> Result<Submission, CitizenError> {
        let inner = self.core().clone();
        Ok(
            runtime::run(async move { inner.submit(dossier::DraftId(draft_id), &pin).await })
                .await??
                .into(),
        )
    }

    /// The manifest the citizen signed for filed dossier `id` (a compact JWS).
    pub async fn signed_manifest(&self, id: i64) -> Result<Option<String>, CitizenError> {
        let inner = self.core().clone();
        Ok(runtime::run(async move { inner.signed_manifest(id).await }).await??)
    }

    /// Filed dossier `id`, if it exists.
    pub async fn submission(&self, id: i64) -> Result<Option<Submission>, CitizenError> {
        let inner = self.core().clone();
        Ok(runtime::run(async move { inner.submission(id).await })
            .await??
            .map(Into::into))
    }

    /// Every filed dossier, newest first.
    pub async fn submissions(&self) -> Result<Vec<Submission>, CitizenError> {
        let inner = self.core().clone();
        Ok(runtime::run(async move { inner.submissions().await })
            .await??
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Puts a parked dossier back in the queue.
    pub async fn retry_submission(&self, id: i64) -> Result<(), CitizenError> {
        let inner = self.core().clone();
        Ok(runtime::run(async move { inner.retry_submission(id).await }).await??)
    }

    /// Deletes a dossier the portal never received; returns the draft it came from, if any.
    pub async fn discard_submission(&self, id: i64) -> Result<Option<i64>, CitizenError> {
        let inner = self.core().clone();
        Ok(runtime::run(async move { inner.discard_submission(id).await }).await??)
    }

    /// Sends queued dossiers now, within `time_budget_ms` (the background sender does this by
    /// itself; an app calls it from platform background work, see `Citizen.sync_now`).
    pub async fn send_queued(&self, time_budget_ms: u32) -> Result<DrainReport, CitizenError> {
        let inner = self.core().clone();
        let budget = Duration::from_millis(time_budget_ms.into());
        Ok(
            runtime::run(async move { inner.send_queued(budget, false).await })
                .await??
                .into(),
        )
    }

    /// The network is back (or the app came to the foreground): the sender looks at its queue
    /// now instead of at the next retry time.
    pub fn wake_sender(&self) {
        self.core().wake_sender();
    }
}
