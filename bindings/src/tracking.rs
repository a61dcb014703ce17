//! What becomes of a filed dossier, on the FFI surface: its status at the portal, the timeline,
//! supplement requests, withdrawal, and fees paid by VietQR. Part of the [`Dossiers`] object.
//!
//! Owns: shape only. Meaning lives on the core types (`citizen_core::dossier::tracking`,
//! `status_feed`, `supplement`, `withdrawal`, `fees`).

use citizen_core::dossier;

use crate::dossiers::{Dossiers, Draft};
use crate::error::CitizenError;
use crate::qr::QrCodeImage;
use crate::runtime;
use crate::submissions::Submission;

/// See `citizen_core::dossier::TrackingStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TrackingStatus {
    /// Waiting in the outbox; the portal does not have it yet.
    Queued,
    /// The portal refused it; it waits for the citizen (`retry_submission`, `discard_submission`).
    Parked,
    /// The portal has it (receipt code).
    Received,
    /// A clerk is working on it.
    Processing,
    /// The agency needs more: `Submission.supplement_request` says what.
    SupplementRequested,
    /// The result is ready; a fee may be owed (`fees`).
    ResultReady,
    /// Done.
    Completed,
    /// Refused; `Submission.status_reason` says why.
    Rejected,
    /// Withdrawn at the citizen's request.
    Withdrawn,
}

impl From<dossier::TrackingStatus> for TrackingStatus {
    fn from(status: dossier::TrackingStatus) -> Self {
        use dossier::TrackingStatus as S;
        match status {
            S::Queued => Self::Queued,
            S::Parked => Self::Parked,
            S::Received => Self::Received,
            S::Processing => Self::Processing,
            S::SupplementRequested => Self::SupplementRequested,
            S::ResultReady => Self::ResultReady,
            S::Completed => Self::Completed,
            S::Rejected => Self::Rejected,
            S::Withdrawn => Self::Withdrawn,
        }
    }
}

/// See `citizen_core::dossier::WithdrawalState`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum WithdrawalState {
    /// Signed and waiting in the outbox.
    Queued,
    /// The portal accepted the request; the status becomes `Withdrawn` when the agency acts.
    Sent,
    /// The portal refused it (`not_withdrawable`, ...); `withdraw` may be asked again.
    Parked {
        /// The portal's machine code.
        reason: String,
    },
}

impl From<dossier::WithdrawalState> for WithdrawalState {
    fn from(state: dossier::WithdrawalState) -> Self {
        match state {
            dossier::WithdrawalState::Queued => Self::Queued,
            dossier::WithdrawalState::Sent => Self::Sent,
            dossier::WithdrawalState::Parked { reason } => Self::Parked { reason },
        }
    }
}

/// One thing a supplement request asks for.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SupplementItem {
    /// A form field, filled in again or for the first time.
    Field {
        /// The procedure's field id.
        field_id: String,
        /// What the agency calls it (Vietnamese).
        label: String,
    },
    /// A document of one attachment kind.
    Attachment {
        /// The procedure's attachment kind.
        attachment_kind: String,
        /// What the agency calls it (Vietnamese).
        label: String,
    },
}

/// An agency's open supplement request. See `citizen_core::dossier::SupplementRequest`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SupplementRequest {
    /// The portal's id of the request.
    pub request_id: String,
    /// Why the agency asks (Vietnamese).
    pub reason: String,
    /// What it asks for.
    pub items: Vec<SupplementItem>,
    /// Unix seconds when the agency stops waiting, if it said.
    pub due_at: Option<i64>,
}

impl From<dossier::SupplementRequest> for SupplementRequest {
    fn from(request: dossier::SupplementRequest) -> Self {
        Self {
            request_id: request.request_id,
            reason: request.reason,
            items: request
                .items
                .into_iter()
                .map(|item| match item {
                    dossier::SupplementItem::Field { field_id, label } => {
                        SupplementItem::Field { field_id, label }
                    }
                    dossier::SupplementItem::Attachment {
                        attachment_kind,
                        label,
                    } => SupplementItem::Attachment {
                        attachment_kind,
                        label,
                    },
                })
                .collect(),
            due_at: request.due_at,
        }
    }
}

/// One step of a dossier's timeline. See `citizen_core::dossier::TimelineEntry`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TimelineEntry {
    /// Unix seconds.
    pub at: i64,
    /// What happened: `submitted`, `received`, `processing`, `supplement_requested`,
    /// `supplement_filed`, `supplement_sent`, `fee_requested`, `fee_paid`, `result_ready`,
    /// `completed`, `rejected`, `withdrawal_requested`, `withdrawn`, or a newer portal's code.
    pub event: String,
    /// The status after it, when it set one.
    pub status: Option<TrackingStatus>,
    /// The agency's explanation, when it gave one.
    pub reason: Option<String>,
    /// Reported by the portal (`false`: recorded by the phone).
    pub from_portal: bool,
}

impl From<dossier::TimelineEntry> for TimelineEntry {
    fn from(entry: dossier::TimelineEntry) -> Self {
        Self {
            at: entry.at,
            event: entry.event,
            status: entry.status.map(Into::into),
            reason: entry.reason,
            from_portal: entry.from_portal,
        }
    }
}

/// What one `sync_statuses` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct StatusSync {
    /// No dossier was received yet, so there was nothing to ask for.
    pub no_token: bool,
    /// Nothing changed since the last sync.
    pub not_modified: bool,
    /// Changes applied.
    pub applied: u32,
    /// The sync reached the end of the feed.
    pub complete: bool,
}

impl From<dossier::StatusSync> for StatusSync {
    fn from(sync: dossier::StatusSync) -> Self {
        Self {
            no_token: sync.no_token,
            not_modified: sync.not_modified,
            applied: sync.applied,
            complete: sync.complete,
        }
    }
}

/// Whether a fee is still owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FeeState {
    /// Owed: show `fee_payment_code`.
    Due,
    /// The portal confirmed the payment (`DossierFee.payment`).
    Paid,
}

impl From<dossier::FeeState> for FeeState {
    fn from(state: dossier::FeeState) -> Self {
        match state {
            dossier::FeeState::Due => Self::Due,
            dossier::FeeState::Paid => Self::Paid,
        }
    }
}

/// The bank's confirmation of a paid fee, as the portal relayed it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PaymentReceipt {
    /// The bank's transaction reference.
    pub transaction_id: String,
    /// In đồng.
    pub amount: u64,
    /// Unix seconds.
    pub paid_at: i64,
}

/// A fee of a filed dossier. See `citizen_core::dossier::DossierFee`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DossierFee {
    /// The portal's id of the fee (unique within its dossier), for `fee_payment_code`.
    pub fee_id: String,
    /// The filed dossier it belongs to.
    pub submission_id: i64,
    /// What it is for (Vietnamese).
    pub label: String,
    /// In đồng.
    pub amount: u64,
    /// The transfer note that matches the payment: the dossier's receipt code.
    pub reference: String,
    /// Who is paid (the agency's collection account), as a bank app shows it.
    pub payee_name: String,
    /// The payee's bank (six-digit BIN).
    pub bank_bin: String,
    /// Owed or paid.
    pub state: FeeState,
    /// Unix seconds by which it is due, if the agency said.
    pub due_at: Option<i64>,
    /// The bank's receipt, once paid.
    pub payment: Option<PaymentReceipt>,
}

impl From<dossier::DossierFee> for DossierFee {
    fn from(fee: dossier::DossierFee) -> Self {
        Self {
            fee_id: fee.fee_id,
            submission_id: fee.submission_id,
            label: fee.label,
            amount: fee.amount,
            reference: fee.reference,
            payee_name: fee.payee_name,
            bank_bin: fee.bank_bin,
            state: fee.state.into(),
            due_at: fee.due_at,
            payment: fee.payment.map(|p| PaymentReceipt {
                transaction_id: p.transaction_id,
                amount: p.amount,
                paid_at: p.paid_at,
            }),
        }
    }
}

/// The VietQR that pays a fee: its text (what any bank app scans) and the code drawn.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FeePaymentCode {
    /// The EMVCo / VietQR text (NAPAS field 38, amount, the receipt code as transfer note, CRC).
    pub text: String,
    /// The same text drawn as a QR code (error correction Medium).
    pub image: QrCodeImage,
}

#[uniffi::export]
impl Dossiers {
    /// Brings the status of the filed dossiers up to date from the portal (delta: only what
    /// changed since the last sync). Each new status and fee is announced
    /// (`Event.DossierStatusChanged`, `Event.DossierFeeChanged`). `Citizen.sync_now` calls it too.
    pub async fn sync_statuses(&self) -> Result<StatusSync, CitizenError> {
        let inner = self.core().clone();
        Ok(runtime::run(async move { inner.sync_statuses().await })
            .await??
            .into())
    }

    /// Every step of filed dossier `id`, oldest first.
    pub async fn timeline(&self, id: i64) -> Result<Vec<TimelineEntry>, CitizenError> {
        let inner = self.core().clone();
        Ok(runtime::run(async move { inner.timeline(id).await })
            .await??
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The draft that answers filed dossier `id`'s open supplement request (made on the first
    /// call; its form holds only what was asked, each item required). Fill it in and `submit`
    /// it with the PIN like any draft. `InvalidState` `no_open_supplement_request` when there
    /// is none.
    pub async fn start_supplement(&self, id: i64) -> Result<Draft, CitizenError> {
        let inner = self.core().clone();
        Ok(
            runtime::run(async move { inner.start_supplement(id).await })
                .await??
                .into(),
        )
    }

    /// Asks the portal to withdraw filed dossier `id`, signed with the PIN, with an optional
    /// `reason` (at most 500 characters). Returns at once; `Submission.withdrawal` follows the
    /// request and the status becomes `Withdrawn` when the agency acts. `InvalidState`
    /// `not_withdrawable` when the portal does not have it yet, its status is final, or a
    /// request is already on its way.
    pub async fn withdraw(
        &self,
        id: i64,
        reason: Option<String>,
        pin: String,
    ) -> Result<Submission, CitizenError> {
        let inner = self.core().clone();
        Ok(
            runtime::run(async move { inner.withdraw(id, reason, &pin).await })
                .await??
                .into(),
        )
    }

    /// The fees of filed dossier `id`, due and paid.
    pub async fn fees(&self, id: i64) -> Result<Vec<DossierFee>, CitizenError> {
        let inner = self.core().clone();
        Ok(runtime::run(async move { inner.fees(id).await })
            .await??
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The VietQR that pays fee `fee_id` of filed dossier `id` (exactly its amount, to the
    /// agency's account, with the receipt code as transfer note), as text and drawn. The fee is
    /// paid when the portal says so (`sync_statuses`), never because a bank app said "success".
    pub async fn fee_payment_code(
        &self,
        id: i64,
        fee_id: String,
    ) -> Result<FeePaymentCode, CitizenError> {
        let inner = self.core().clone();
        let code = runtime::run(async move { inner.fee_payment_code(id, &fee_id).await }).await??;
        let text = code
            .encode()
            .map_err(|error| CitizenError::from(dossier::DossierError::FeeQr(error)))?;
        let image = crate::qr::render_qr(text.clone(), crate::qr::QrErrorCorrection::Medium)?;
        Ok(FeePaymentCode { text, image })
    }
}
