//! Withdrawing a dossier: the citizen's signed request, queued like a dossier.
//!
//! Owns: [`Dossiers::withdraw`] (checks the dossier can be withdrawn, checks the PIN, signs a
//! [`WithdrawalRequest`] with the device key, queues it with its outbox entry in one
//! transaction), the `dossier_withdrawals` table (migration 16) and its two ends (sent, or parked
//! with the portal's reason). Does not own sending (`sender`, which posts it with its
//! `Idempotency-Key` under the same retry rules as a dossier), nor the `withdrawn` status itself,
//! which only the portal sets and the status feed brings (`tracking`).

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::outbox::{self, NewEntry, OutboxId};
use crate::store::StoreError;

use super::manifest::{self, MAX_WITHDRAWAL_REASON_CHARS, WithdrawalRequest};
use super::submission::{self, DeliveryState, Submission, WithdrawalState};
use super::tracking;
use super::{DossierError, Dossiers};

/// The outbox kind of a withdrawal request.
pub const OUTBOX_KIND: &str = "dossier.withdraw";

/// A withdrawal request as the sender sees it.
pub(crate) struct WithdrawalToSend {
    pub submission_id: i64,
    pub request: String,
}

/// The withdrawal request `request_id` (an outbox entry's payload), if it is still queued.
pub(crate) fn to_send(
    conn: &Connection,
    request_id: &str,
) -> Result<Option<WithdrawalToSend>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT submission_id, request FROM dossier_withdrawals
             WHERE request_id = ?1 AND state = 'queued'",
            [request_id],
            |r| {
                Ok(WithdrawalToSend {
                    submission_id: r.get(0)?,
                    request: r.get(1)?,
                })
            },
        )
        .optional()?)
}

/// The portal accepted the request of dossier `submission_id`.
pub(crate) fn mark_sent(
    tx: &Transaction<'_>,
    submission_id: i64,
    now: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE dossier_withdrawals SET state = 'sent', sent_at = ?2 WHERE submission_id = ?1",
        params![submission_id, now],
    )?;
    Ok(())
}

/// The portal refused the request of dossier `submission_id` for `reason` (a machine code).
pub(crate) fn mark_parked(
    tx: &Transaction<'_>,
    submission_id: i64,
    reason: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE dossier_withdrawals SET state = 'parked', parked_reason = ?2
         WHERE submission_id = ?1",
        params![submission_id, reason],
    )?;
    Ok(())
}

/// Whether dossier `submission` may be withdrawn now: the portal has it, its status is not
/// final, and no withdrawal is on its way (a refused one may be asked again).
fn withdrawable(conn: &Connection, submission: &Submission) -> Result<bool, StoreError> {
    let is_supplement: bool = conn.query_row(
        "SELECT supplement_of IS NOT NULL FROM dossier_submissions WHERE id = ?1",
        [submission.id],
        |r| r.get(0),
    )?;
    Ok(!is_supplement
        && submission.state == DeliveryState::Received
        && !submission.status.is_final()
        && matches!(
            submission.withdrawal,
            None | Some(WithdrawalState::Parked { .. })
        ))
}

/// Replaces a refused request of dossier `submission_id` (its row and outbox entry go).
fn forget_refused(tx: &Transaction<'_>, submission_id: i64) -> Result<(), DossierError> {
    let outbox_id: Option<i64> = tx
        .query_row(
            "SELECT outbox_id FROM dossier_withdrawals WHERE submission_id = ?1
                 AND state = 'parked'",
            [submission_id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(outbox_id) = outbox_id {
        outbox::discard(tx, OutboxId(outbox_id))?;
        tx.execute(
            "DELETE FROM dossier_withdrawals WHERE submission_id = ?1",
            [submission_id],
        )?;
    }
    Ok(())
}

impl Dossiers {
    /// Asks the portal to withdraw filed dossier `id`: checks it can be (received, status not
    /// final, no request on its way: else `NotWithdrawable`), checks `pin`, signs the request
    /// (with the citizen's `reason`, if any) with the device key and queues it, returning at
    /// once. The dossier's `withdrawal` follows the request (queued, sent, or refused with the
    /// portal's reason); its status becomes `Withdrawn` when the agency has acted on it.
    pub async fn withdraw(
        &self,
        id: i64,
        reason: Option<String>,
        pin: &str,
    ) -> Result<Submission, DossierError> {
        let reason = reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        if reason
            .as_ref()
            .is_some_and(|r| r.chars().count() > MAX_WITHDRAWAL_REASON_CHARS)
        {
            return Err(DossierError::InvalidArgument("reason"));
        }
        let dossier = self
            .inner
            .store
            .read(move |conn| {
                let dossier = submission::get(conn, id)?.ok_or(DossierError::UnknownSubmission)?;
                if !withdrawable(conn, &dossier)? {
                    return Err(DossierError::NotWithdrawable);
                }
                Ok(dossier)
            })
            .await?;
        let request = WithdrawalRequest {
            jti: super::submit::new_dossier_id()?,
            iat: crate::unix_now(),
            dossier_id: dossier.dossier_id,
            reason,
        };
        request.check()?;
        let to_sign = request.clone();
        let signed = self
            .sign_as_citizen(pin, move |device| {
                manifest::sign_withdrawal(&to_sign, device)
            })
            .await?;
        let now = crate::unix_now();
        let submission = self
            .inner
            .store
            .write(move |tx| {
                let dossier = submission::get(tx, id)?.ok_or(DossierError::UnknownSubmission)?;
                if !withdrawable(tx, &dossier)? {
                    return Err(DossierError::NotWithdrawable);
                }
                forget_refused(tx, id)?;
                let outbox_id = outbox::enqueue(
                    tx,
                    NewEntry {
                        kind: OUTBOX_KIND,
                        idempotency_key: &request.jti,
                        payload: request.jti.as_bytes(),
                    },
                    now,
                )?;
                tx.execute(
                    "INSERT INTO dossier_withdrawals (submission_id, request_id, outbox_id,
                         request, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![id, request.jti, outbox_id.0, signed, now],
                )?;
                tracking::record(tx, id, "withdrawal_requested", None, now)?;
                submission::get(tx, id)?.ok_or(DossierError::UnknownSubmission)
            })
            .await?;
        tracing::info!("dossier withdrawal queued");
        self.wake_sender();
        Ok(submission)
    }
}
