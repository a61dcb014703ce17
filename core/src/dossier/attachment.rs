//! Attachments of dossier drafts in the store: scanned documents, kept as chunks.
//!
//! Owns: the `dossier_attachments` and `dossier_attachment_chunks` tables (migration 13), media
//! type sniffing ([`sniff`]), the checks against the procedure's [`AttachmentRule`] (kind, type,
//! size, count), and the reader API the uploader uses ([`info`], [`list`], [`read_chunk`]).
//! Does not own reading files (`Dossiers::add_attachment_file` streams them off the async
//! workers and hands chunks here) nor uploading.
//!
//! ## Writing
//!
//! Content is stored in chunks of [`CHUNK_SIZE`] bytes (`seq` from 0), at most
//! [`CHUNKS_PER_TRANSACTION`] per write transaction, so a large file never sits in memory and no
//! transaction holds the store for long. [`begin`] inserts the attachment row with
//! `complete = 0`, [`append`] adds chunks, [`finish`] sets size, SHA-256 and `complete = 1` in
//! the last transaction. Every reader here sees complete rows only, and [`purge_incomplete`]
//! (run when the SDK opens) deletes what a crash left half-written. The media type is sniffed
//! from the first bytes, never taken from a file name or the caller; no file name is stored.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::draft::{self, DraftId};
use super::error::{DossierError, safe_name};
use super::wire::{AttachmentRule, Procedure};
use crate::store::StoreError;

/// The size of one stored chunk (the last one of an attachment may be shorter).
pub const CHUNK_SIZE: usize = 256 * 1024;
/// Chunks written per write transaction while streaming (1 MiB).
pub const CHUNKS_PER_TRANSACTION: usize = 4;

/// The media types [`sniff`] recognises.
pub const PDF: &str = "application/pdf";
pub const JPEG: &str = "image/jpeg";
pub const PNG: &str = "image/png";

/// An attachment's id in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttachmentId(pub i64);

/// A complete attachment, as the uploader and the app see it. Holds no content and no file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentInfo {
    pub id: AttachmentId,
    pub draft_id: DraftId,
    /// The procedure's attachment kind it was added as.
    pub kind: String,
    /// Sniffed from the content.
    pub media_type: String,
    pub size: u64,
    /// SHA-256 of the whole content.
    pub sha256: [u8; 32],
    /// How many chunks [`read_chunk`] serves, `seq` from 0.
    pub chunk_count: u32,
    pub created_at: i64,
}

/// Why an attachment was refused. Names a kind or a limit, never content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttachmentError {
    /// The draft's procedure asks for no attachment of this kind (shown only when it has the
    /// shape of a kind).
    #[error("the procedure takes no attachment of kind {0:?}")]
    UnknownKind(String),
    /// The content is not of a type the SDK recognises (PDF, JPEG, PNG).
    #[error("the content's type is not recognised")]
    UnrecognisedType,
    /// The content is of a type this kind of attachment does not accept.
    #[error("the content is {detected}, which this attachment kind does not accept")]
    TypeNotAllowed { detected: &'static str },
    /// The content is larger than the rule allows.
    #[error("the content is larger than the {max_bytes} bytes allowed")]
    TooLarge { max_bytes: u64 },
    /// The draft already has as many attachments of this kind as the rule allows.
    #[error("at most {max_count} attachment(s) of this kind")]
    TooMany { max_count: u32 },
    /// The content is empty.
    #[error("the content is empty")]
    Empty,
    /// No file at the path given.
    #[error("the file does not exist")]
    FileNotFound,
    /// The file could not be read.
    #[error("the file could not be read: {0}")]
    Unreadable(std::io::ErrorKind),
}

/// The media type of content starting with `head`, from its magic bytes.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"%PDF-") {
        Some(PDF)
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(JPEG)
    } else if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(PNG)
    } else {
        None
    }
}

/// The rule of `kind` in `procedure`.
pub fn rule<'p>(
    procedure: &'p Procedure,
    kind: &str,
) -> Result<&'p AttachmentRule, AttachmentError> {
    procedure
        .attachments
        .iter()
        .find(|r| r.kind == kind)
        .ok_or_else(|| AttachmentError::UnknownKind(safe_name(kind)))
}

/// Checks the first chunk of new content for `rule`: not empty, a recognised type the rule
/// accepts. Returns the media type.
pub fn check_head(rule: &AttachmentRule, head: &[u8]) -> Result<&'static str, AttachmentError> {
    if head.is_empty() {
        return Err(AttachmentError::Empty);
    }
    let detected = sniff(head).ok_or(AttachmentError::UnrecognisedType)?;
    if !rule
        .media_types
        .iter()
        .any(|t| t.eq_ignore_ascii_case(detected))
    {
        return Err(AttachmentError::TypeNotAllowed { detected });
    }
    Ok(detected)
}

fn complete_of_kind(conn: &Connection, draft_id: DraftId, kind: &str) -> Result<u32, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM dossier_attachments
             WHERE draft_id = ?1 AND kind = ?2 AND complete = 1",
        )?
        .query_row(params![draft_id.0, kind], |r| r.get(0))?)
}

/// Starts an attachment of `kind` to draft `draft_id` whose content starts with `head` (the
/// first chunk, which is stored as `seq` 0): checks the draft is being edited, the kind, the
/// type and the count, and inserts an incomplete row. `declared_size`, when known (a file's
/// length), is checked against the rule before anything is stored.
pub fn begin(
    tx: &Transaction<'_>,
    draft_id: DraftId,
    kind: &str,
    head: &[u8],
    declared_size: Option<u64>,
    now: i64,
) -> Result<AttachmentId, DossierError> {
    let (_, procedure) = draft::editable(tx, draft_id)?;
    let rule = rule(&procedure, kind)?;
    let media_type = check_head(rule, head)?;
    if declared_size.is_some_and(|size| size > rule.max_bytes) || head.len() as u64 > rule.max_bytes
    {
        return Err(AttachmentError::TooLarge {
            max_bytes: rule.max_bytes,
        }
        .into());
    }
    if complete_of_kind(tx, draft_id, kind)? >= rule.max_count {
        return Err(AttachmentError::TooMany {
            max_count: rule.max_count,
        }
        .into());
    }
    tx.prepare_cached(
        "INSERT INTO dossier_attachments
             (draft_id, kind, media_type, size, sha256, chunk_count, complete, created_at)
         VALUES (?1, ?2, ?3, 0, NULL, 0, 0, ?4)",
    )?
    .execute(params![draft_id.0, kind, media_type, now])?;
    let id = AttachmentId(tx.last_insert_rowid());
    append(tx, id, 0, &[head])?;
    Ok(id)
}

/// Stores `chunks` of incomplete attachment `id` as `seq` `first_seq`, `first_seq + 1`, ...
pub fn append(
    tx: &Transaction<'_>,
    id: AttachmentId,
    first_seq: u32,
    chunks: &[&[u8]],
) -> Result<(), StoreError> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO dossier_attachment_chunks (attachment_id, seq, data) VALUES (?1, ?2, ?3)",
    )?;
    for (offset, chunk) in chunks.iter().enumerate() {
        insert.execute(params![id.0, i64::from(first_seq) + offset as i64, chunk])?;
    }
    Ok(())
}

/// The rule incomplete attachment `id` was started under (its `max_bytes` bounds the stream).
/// Fails with `AttachmentNotFound` if the row is gone (its draft was deleted meanwhile).
pub fn limits(conn: &Connection, id: AttachmentId) -> Result<AttachmentRule, DossierError> {
    let (draft_id, kind): (i64, String) = conn
        .prepare_cached("SELECT draft_id, kind FROM dossier_attachments WHERE id = ?1")?
        .query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or(DossierError::AttachmentNotFound)?;
    let procedure =
        draft::procedure(conn, DraftId(draft_id))?.ok_or(DossierError::DraftNotFound)?;
    Ok(rule(&procedure, &kind)?.clone())
}

/// Completes attachment `id`: its size, digest and chunk count, `complete = 1`. Checks the
/// count again (two adds may have raced) and the draft is still being edited; on a refusal the
/// caller deletes the row ([`abort`]).
pub fn finish(
    tx: &Transaction<'_>,
    id: AttachmentId,
    size: u64,
    sha256: &[u8; 32],
    chunk_count: u32,
    now: i64,
) -> Result<AttachmentInfo, DossierError> {
    let (draft_id, kind, media_type, created_at): (i64, String, String, i64) = tx
        .prepare_cached(
            "SELECT draft_id, kind, media_type, created_at FROM dossier_attachments
             WHERE id = ?1 AND complete = 0",
        )?
        .query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?
        .ok_or(DossierError::AttachmentNotFound)?;
    let draft_id = DraftId(draft_id);
    let (_, procedure) = draft::editable(tx, draft_id)?;
    let rule = rule(&procedure, &kind)?;
    if size > rule.max_bytes {
        return Err(AttachmentError::TooLarge {
            max_bytes: rule.max_bytes,
        }
        .into());
    }
    if complete_of_kind(tx, draft_id, &kind)? >= rule.max_count {
        return Err(AttachmentError::TooMany {
            max_count: rule.max_count,
        }
        .into());
    }
    tx.prepare_cached(
        "UPDATE dossier_attachments SET size = ?2, sha256 = ?3, chunk_count = ?4, complete = 1
         WHERE id = ?1",
    )?
    .execute(params![
        id.0,
        i64::try_from(size).unwrap_or(i64::MAX),
        &sha256[..],
        chunk_count
    ])?;
    draft::touch(tx, draft_id, now)?;
    Ok(AttachmentInfo {
        id,
        draft_id,
        kind,
        media_type,
        size,
        sha256: *sha256,
        chunk_count,
        created_at,
    })
}

/// Deletes incomplete attachment `id` and its chunks (a refused or failed add).
pub fn abort(tx: &Transaction<'_>, id: AttachmentId) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM dossier_attachments WHERE id = ?1 AND complete = 0")?
        .execute([id.0])?;
    Ok(())
}

/// Deletes every incomplete attachment (what a crash mid-add left) with its chunks. Returns
/// how many. Run when the SDK opens, before any add can be under way.
pub fn purge_incomplete(tx: &Transaction<'_>) -> Result<usize, StoreError> {
    Ok(tx.execute("DELETE FROM dossier_attachments WHERE complete = 0", [])?)
}

const INFO_COLUMNS: &str = "id, draft_id, kind, media_type, size, sha256, chunk_count, created_at";

fn read_info(row: &rusqlite::Row<'_>) -> rusqlite::Result<AttachmentInfo> {
    let digest: Vec<u8> = row.get(5)?;
    let mut sha256 = [0; 32];
    if digest.len() == 32 {
        sha256.copy_from_slice(&digest);
    }
    Ok(AttachmentInfo {
        id: AttachmentId(row.get(0)?),
        draft_id: DraftId(row.get(1)?),
        kind: row.get(2)?,
        media_type: row.get(3)?,
        size: u64::try_from(row.get::<_, i64>(4)?).unwrap_or(0),
        sha256,
        chunk_count: row.get(6)?,
        created_at: row.get(7)?,
    })
}

/// Complete attachment `id`, if it exists.
pub fn info(conn: &Connection, id: AttachmentId) -> Result<Option<AttachmentInfo>, StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {INFO_COLUMNS} FROM dossier_attachments WHERE id = ?1 AND complete = 1"
        ))?
        .query_row([id.0], read_info)
        .optional()?)
}

/// The complete attachments of draft `draft_id`, oldest first.
pub fn list(conn: &Connection, draft_id: DraftId) -> Result<Vec<AttachmentInfo>, StoreError> {
    let mut query = conn.prepare_cached(&format!(
        "SELECT {INFO_COLUMNS} FROM dossier_attachments
         WHERE draft_id = ?1 AND complete = 1 ORDER BY id"
    ))?;
    Ok(query
        .query_map([draft_id.0], read_info)?
        .collect::<Result<_, _>>()?)
}

/// How many complete attachments of each kind draft `draft_id` has.
pub fn counts(conn: &Connection, draft_id: DraftId) -> Result<BTreeMap<String, u32>, StoreError> {
    let mut query = conn.prepare_cached(
        "SELECT kind, count(*) FROM dossier_attachments
         WHERE draft_id = ?1 AND complete = 1 GROUP BY kind",
    )?;
    Ok(query
        .query_map([draft_id.0], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?)
}

/// Chunk `seq` (from 0) of complete attachment `id`. `AttachmentNotFound` if there is no such
/// complete attachment or chunk.
pub fn read_chunk(conn: &Connection, id: AttachmentId, seq: u32) -> Result<Vec<u8>, DossierError> {
    conn.prepare_cached(
        "SELECT c.data FROM dossier_attachment_chunks c
         JOIN dossier_attachments a ON a.id = c.attachment_id
         WHERE c.attachment_id = ?1 AND c.seq = ?2 AND a.complete = 1",
    )?
    .query_row(params![id.0, seq], |r| r.get(0))
    .optional()?
    .ok_or(DossierError::AttachmentNotFound)
}

/// Removes complete attachment `id` from its draft (which must be being edited). `false` if
/// there was no such attachment.
pub fn delete(tx: &Transaction<'_>, id: AttachmentId, now: i64) -> Result<bool, DossierError> {
    let Some(found) = info(tx, id)? else {
        return Ok(false);
    };
    draft::editable(tx, found.draft_id)?;
    tx.prepare_cached("DELETE FROM dossier_attachments WHERE id = ?1")?
        .execute([id.0])?;
    draft::touch(tx, found.draft_id, now)?;
    Ok(true)
}

#[cfg(test)]
mod tests;
