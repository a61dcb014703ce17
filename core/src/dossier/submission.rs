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
             procedure_version, manifest, submitted_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        params![
            dossier_id,
            outbox_id.0,
            draft_id,
            procedure_code,
            procedure_version as i64,
            manifest,
            now
        ],
    )?;
    let id = tx.last_insert_rowid();
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
    coalesce(o.attempts, 0), o.last_error";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Submission> {
    Ok(Submission {
        id: row.get(0)?,
        dossier_id: row.get(1)?,
        draft_id: row.get(2)?,
        procedure_code: row.get(3)?,
        procedure_version: row.get::<_, i64>(4)? as u64,
        state: DeliveryState::from_sql(&row.get::<_, String>(5)?),
        parked_reason: row.get(6)?,
        receipt_code: row.get(7)?,
        portal_status: row.get(8)?,
        submitted_at: row.get(9)?,
        received_at: row.get(10)?,
        attachments: row.get(11)?,
        attempts: row.get(12)?,
        last_error: row.get(13)?,
    })
}

/// Submission `id`, if it exists.
pub(crate) fn get(conn: &Connection, id: i64) -> Result<Option<Submission>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM dossier_submissions s LEFT JOIN outbox o ON o.id = s.outbox_id
         WHERE s.id = ?1"
    );
    Ok(conn.query_row(&sql, [id], from_row).optional()?)
}

/// The submission with dossier id `dossier_id` (what an outbox entry names).
pub(crate) fn by_dossier_id(
    conn: &Connection,
    dossier_id: &str,
) -> Result<Option<Submission>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM dossier_submissions s LEFT JOIN outbox o ON o.id = s.outbox_id
         WHERE s.dossier_id = ?1"
    );
    Ok(conn.query_row(&sql, [dossier_id], from_row).optional()?)
}

/// Every submission, newest first.
pub(crate) fn list(conn: &Connection) -> Result<Vec<Submission>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM dossier_submissions s LEFT JOIN outbox o ON o.id = s.outbox_id
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
    tx.execute(
        "UPDATE dossier_submissions SET state = 'received', parked_reason = NULL,
             receipt_code = ?2, portal_status = ?3, received_at = ?4, updated_at = ?5
         WHERE id = ?1",
        params![
            id,
            answer.receipt_code,
            answer.status,
            answer.received_at,
            now
        ],
    )?;
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
