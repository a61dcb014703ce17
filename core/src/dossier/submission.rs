//! Filed dossiers on the phone: the store queries of `dossier_submissions` and their files.
//!
//! Owns: writing a submission together with its outbox entry (one transaction, before anything
//! is sent: "write first"), reading submissions for the citizen, the upload locations learnt on
//! the way, and the two ends of delivery (received with a receipt, or parked with a reason).
//! Does not own sending (`sender`), the manifest's format (`manifest`) nor the outbox's states
//! (`outbox`), which decide when a submission is tried again.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::outbox::{self, NewEntry, OutboxError, OutboxId};
use crate::store::StoreError;

use super::manifest::SubmitResponse;
use super::status_feed::{PortalStatus, SupplementRequest};
use super::tracking::{self, TrackingStatus};

/// The outbox kind of a dossier submission.
pub const OUTBOX_KIND: &str = "dossier.submit";

/// Where a filed dossier is on its way to the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryState {
    /// Waiting in the outbox (or being sent): it will go out as soon as it can.
    Queued,
    /// The portal has it and gave a receipt code.
    Received,
    /// The portal refused it for a reason retrying cannot fix; it waits for the citizen.
    Parked,
}

impl DeliveryState {
    fn from_sql(text: &str) -> Self {
        match text {
            "received" => DeliveryState::Received,
            "parked" => DeliveryState::Parked,
            _ => DeliveryState::Queued,
        }
    }
}

/// Where a withdrawal request is on its way to the portal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WithdrawalState {
    /// Signed and waiting in the outbox.
    Queued,
    /// The portal accepted the request; the status feed reports `withdrawn` when the agency
    /// has acted on it.
    Sent,
    /// The portal refused it (a machine code such as `not_withdrawable`).
    Parked { reason: String },
}

/// A filed dossier as the citizen sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub id: i64,
    /// The dossier's id (the manifest's `jti`, the `Idempotency-Key`).
    pub dossier_id: String,
    /// The draft it was filed from, while that draft exists.
    pub draft_id: Option<i64>,
    pub procedure_code: String,
    pub procedure_version: u64,
    pub state: DeliveryState,
    /// Why the portal refused it (a machine code such as `validation_failed`), when parked.
    pub parked_reason: Option<String>,
    /// The portal's receipt code, once received.
    pub receipt_code: Option<String>,
    /// The portal's status of the dossier (`received`, ...), once received.
    pub portal_status: Option<String>,
    pub attachments: u32,
    pub submitted_at: i64,
    pub received_at: Option<i64>,
    /// Delivery attempts so far, and the last transient failure's code.
    pub attempts: u32,
    pub last_error: Option<String>,
    /// Where it is: on its way, or its status at the portal (from the status feed).
    pub status: TrackingStatus,
    /// The agency's explanation of the status (a rejection's reason, a clerk's note).
    pub status_reason: Option<String>,
    /// When the portal's status last changed.
    pub status_at: Option<i64>,
    /// The agency's open supplement request, until a supplement answering it is filed.
    pub supplement_request: Option<SupplementRequest>,
    /// The citizen's withdrawal request, once asked.
    pub withdrawal: Option<WithdrawalState>,
}

/// One attachment of a new submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    pub attachment_id: i64,
    /// base64url SHA-256, as in the manifest.
    pub sha256: String,
    pub size: u64,
}

/// One attachment as the sender sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileToSend {
    pub position: u32,
    pub attachment_id: i64,
    pub sha256: String,
    pub size: u64,
    /// The tus upload that holds it, once finished.
    pub location: Option<String>,
}

/// Writes a submission and queues it, in the caller's transaction. Returns its id.
#[allow(clippy::too_many_arguments)]
pub(crate) fn insert(
    tx: &Transaction<'_>,
    dossier_id: &str,
    draft_id: Option<i64>,
    procedure_code: &str,
    procedure_version: u64,
    manifest: &str,
    files: &[NewFile],
    supplement: Option<(i64, &str)>,
    now: i64,
) -> Result<i64, OutboxError> {
    let outbox_id = outbox::enqueue(
        tx,
        NewEntry {
            kind: OUTBOX_KIND,
            idempotency_key: dossier_id,
            payload: dossier_id.as_bytes(),
        },
        now,
    )?;
    tx.execute(
        "INSERT INTO dossier_submissions (dossier_id, outbox_id, draft_id, procedure_code,
             procedure_version, manifest, submitted_at, updated_at, supplement_of,
             supplement_request)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9)",
        params![
            dossier_id,
            outbox_id.0,
            draft_id,
            procedure_code,
            procedure_version as i64,
            manifest,
            now,
            supplement.map(|(of, _)| of),
            supplement.map(|(_, request)| request)
        ],
    )?;
    let id = tx.last_insert_rowid();
    match supplement {
        None => tracking::record(tx, id, "submitted", None, now)?,
        Some((of, _)) => tracking::record(tx, of, "supplement_filed", None, now)?,
    }
    let mut insert = tx.prepare_cached(
        "INSERT INTO dossier_submission_files (submission_id, position, attachment_id, sha256, size)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (position, file) in files.iter().enumerate() {
        insert.execute(params![
            id,
            position as i64,
            file.attachment_id,
            file.sha256,
            file.size as i64
        ])?;
    }
    Ok(id)
}

const COLUMNS: &str = "s.id, s.dossier_id, s.draft_id, s.procedure_code, s.procedure_version,
    s.state, s.parked_reason, s.receipt_code, s.portal_status, s.submitted_at, s.received_at,
    (SELECT count(*) FROM dossier_submission_files f WHERE f.submission_id = s.id),
    coalesce(o.attempts, 0), o.last_error, s.status_reason, s.status_at, s.open_request,
    (SELECT group_concat(x.supplement_request, ' ') FROM dossier_submissions x
     WHERE x.supplement_of = s.id AND x.state != 'parked'),
    w.state, w.parked_reason";

/// The tables [`COLUMNS`] reads.
const FROM: &str = "dossier_submissions s LEFT JOIN outbox o ON o.id = s.outbox_id
    LEFT JOIN dossier_withdrawals w ON w.submission_id = s.id";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Submission> {
    let state = DeliveryState::from_sql(&row.get::<_, String>(5)?);
    let portal_status: Option<String> = row.get(8)?;
    let status = match state {
        DeliveryState::Queued => TrackingStatus::Queued,
        DeliveryState::Parked => TrackingStatus::Parked,
        DeliveryState::Received => portal_status
            .as_deref()
            .and_then(PortalStatus::parse)
            .map_or(TrackingStatus::Received, TrackingStatus::from_portal),
    };
    // The open request, unless a supplement answering it was filed (and not refused).
    let answered: Option<String> = row.get(17)?;
    let supplement_request = row
        .get::<_, Option<String>>(16)?
        .and_then(|json| serde_json::from_str::<SupplementRequest>(&json).ok())
        .filter(|request| {
            !answered
                .as_deref()
                .is_some_and(|ids| ids.split(' ').any(|id| id == request.request_id))
        });
    let withdrawal = match row.get::<_, Option<String>>(18)?.as_deref() {
        None => None,
        Some("queued") => Some(WithdrawalState::Queued),
        Some("sent") => Some(WithdrawalState::Sent),
        Some(_) => Some(WithdrawalState::Parked {
            reason: row.get::<_, Option<String>>(19)?.unwrap_or_default(),
        }),
    };
    Ok(Submission {
        id: row.get(0)?,
        dossier_id: row.get(1)?,
        draft_id: row.get(2)?,
        procedure_code: row.get(3)?,
        procedure_version: row.get::<_, i64>(4)? as u64,
        state,
        parked_reason: row.get(6)?,
        receipt_code: row.get(7)?,
        portal_status,
        submitted_at: row.get(9)?,
        received_at: row.get(10)?,
        attachments: row.get(11)?,
        attempts: row.get(12)?,
        last_error: row.get(13)?,
        status,
        status_reason: row.get(14)?,
        status_at: row.get(15)?,
        supplement_request,
        withdrawal,
    })
}

/// Submission `id`, if it exists.
pub(crate) fn get(conn: &Connection, id: i64) -> Result<Option<Submission>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE s.id = ?1");
    Ok(conn.query_row(&sql, [id], from_row).optional()?)
}

/// The id of the submission with dossier id `dossier_id` (what an outbox entry names).
pub(crate) fn id_of(conn: &Connection, dossier_id: &str) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT id FROM dossier_submissions WHERE dossier_id = ?1")?
        .query_row([dossier_id], |r| r.get(0))
        .optional()?)
}

/// Every dossier (not their supplements), newest first.
pub(crate) fn list(conn: &Connection) -> Result<Vec<Submission>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE s.supplement_of IS NULL
         ORDER BY s.submitted_at DESC, s.id DESC"
    );
    let mut statement = conn.prepare(&sql)?;
    let rows = statement.query_map([], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The signed manifest and the files of submission `id`.
pub(crate) fn to_send(
    conn: &Connection,
    id: i64,
) -> Result<Option<(String, Vec<FileToSend>)>, StoreError> {
    let manifest: Option<String> = conn
        .query_row(
            "SELECT manifest FROM dossier_submissions WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(manifest) = manifest else {
        return Ok(None);
    };
    let mut statement = conn.prepare_cached(
        "SELECT position, attachment_id, sha256, size, location FROM dossier_submission_files
         WHERE submission_id = ?1 ORDER BY position",
    )?;
    let files = statement
        .query_map([id], |r| {
            Ok(FileToSend {
                position: r.get(0)?,
                attachment_id: r.get(1)?,
                sha256: r.get(2)?,
                size: r.get::<_, i64>(3)? as u64,
                location: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(Some((manifest, files)))
}

/// Remembers where the portal holds one file, so a restart does not upload it again.
pub(crate) fn set_location(
    tx: &Transaction<'_>,
    submission_id: i64,
    position: u32,
    location: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE dossier_submission_files SET location = ?3
         WHERE submission_id = ?1 AND position = ?2",
        params![submission_id, position, location],
    )?;
    Ok(())
}

/// The portal accepted submission `id`.
pub(crate) fn mark_received(
    tx: &Transaction<'_>,
    id: i64,
    answer: &SubmitResponse,
    now: i64,
) -> Result<(), StoreError> {
    // The status feed may have reported a newer status already (the receipt of an earlier
    // attempt was lost on the way): the receipt's status does not overwrite it.
    tx.execute(
        "UPDATE dossier_submissions SET state = 'received', parked_reason = NULL,
             receipt_code = ?2,
             portal_status = CASE WHEN status_seq IS NULL THEN ?3 ELSE portal_status END,
             received_at = ?4, updated_at = ?5
         WHERE id = ?1",
        params![
            id,
            answer.receipt_code,
            answer.status,
            answer.received_at,
            now
        ],
    )?;
    let supplement_of: Option<i64> = tx.query_row(
        "SELECT supplement_of FROM dossier_submissions WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?;
    match supplement_of {
        None => tracking::record(tx, id, "received", Some(&answer.status), answer.received_at)?,
        Some(of) => tracking::record(tx, of, "supplement_sent", None, now)?,
    }
    if let Some(token) = &answer.status_token {
        tracking::store_token(tx, token)?;
    }
    Ok(())
}

/// The portal refused submission `id` for `reason` (a machine code).
pub(crate) fn mark_parked(
    tx: &Transaction<'_>,
    id: i64,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE dossier_submissions SET state = 'parked', parked_reason = ?2, updated_at = ?3
         WHERE id = ?1 AND state != 'received'",
        params![id, reason, now],
    )?;
    Ok(())
}

/// Puts a parked submission back in the queue. `false` when it was not parked.
pub(crate) fn unpark(tx: &Transaction<'_>, id: i64, now: i64) -> Result<bool, OutboxError> {
    let outbox_id: Option<i64> = tx
        .query_row(
            "SELECT outbox_id FROM dossier_submissions WHERE id = ?1 AND state = 'parked'",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(outbox_id) = outbox_id else {
        return Ok(false);
    };
    if !outbox::unpark(tx, OutboxId(outbox_id), now)? {
        return Ok(false);
    }
    tx.execute(
        "UPDATE dossier_submissions SET state = 'queued', parked_reason = NULL, updated_at = ?2
         WHERE id = ?1",
        params![id, now],
    )?;
    Ok(true)
}

/// Deletes a submission the portal never received (queued or parked) with its outbox entry;
/// returns its draft id. `None` when it was received, is being sent, or does not exist.
pub(crate) fn discard(tx: &Transaction<'_>, id: i64) -> Result<Option<Option<i64>>, OutboxError> {
    let row: Option<(i64, Option<i64>)> = tx
        .query_row(
            "SELECT outbox_id, draft_id FROM dossier_submissions
             WHERE id = ?1 AND state != 'received'",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((outbox_id, draft_id)) = row else {
        return Ok(None);
    };
    if !outbox::discard(tx, OutboxId(outbox_id))? {
        return Ok(None);
    }
    tx.execute("DELETE FROM dossier_submissions WHERE id = ?1", [id])?;
    // The draft is the citizen's to fix and file again.
    if let Some(draft_id) = draft_id {
        tx.execute(
            "UPDATE dossier_drafts SET state = 'editing' WHERE id = ?1",
            [draft_id],
        )?;
    }
    Ok(Some(draft_id))
}

/// Whether a dossier filed from draft `draft_id` has not reached the portal yet.
pub(crate) fn unreceived_from_draft(conn: &Connection, draft_id: i64) -> Result<bool, StoreError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM dossier_submissions WHERE draft_id = ?1 AND state != 'received'",
            [draft_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Forgets draft `draft_id` in the submissions filed from it (the draft is being deleted).
pub(crate) fn detach_draft(tx: &Transaction<'_>, draft_id: i64) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE dossier_submissions SET draft_id = NULL WHERE draft_id = ?1",
        [draft_id],
    )?;
    Ok(())
}
