//! The diary's store queries: the `checkin_diary`, `checkin_notices` and `checkin_matches`
//! tables (migration 0009), `checkin_venues` (migration 0012: each entry refers to its venue's
//! row instead of repeating the venue's name and address) and the notices cursor in `meta`.
//!
//! Owns: inserting an entry (with the dedupe rule), reading entries (paged, newest first, with
//! the automatic check-out computed at read time), check-out, hide, delete, export, the purge,
//! ticket fields, notices and matches. Every function runs inside a caller's `read`/`write`
//! closure; none does I/O besides the database. Does not own verifying codes or notices.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use super::notice::Visit;
use super::venue_code::{AUTO_CHECKOUT_RANGE, VenueCode};
use super::wire::{ExposureNotice, Ticket, TicketState, VenueKind};
use crate::store::{StoreError, meta};
use crate::wallet::history::{from_code, to_code};

/// The most entries one page returns.
pub const MAX_PAGE_SIZE: u32 = 200;

const CURSOR_KEY: &str = "checkin.notices.cursor";
const ETAG_KEY: &str = "checkin.notices.etag";

/// How a stay ended, computed when the entry is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum CheckOut {
    /// The citizen checked out by hand at `at`.
    Manual { at: i64 },
    /// The code's automatic check-out time `at` has passed.
    Automatic { at: i64 },
}

impl CheckOut {
    pub fn at(self) -> i64 {
        match self {
            CheckOut::Manual { at } | CheckOut::Automatic { at } => at,
        }
    }
}

/// A queue ticket as last reported, stored with its entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketInfo {
    pub ticket_id: String,
    pub number: String,
    pub position: u32,
    pub state: TicketState,
    pub counter: Option<String>,
    pub poll_after: u32,
    pub updated_at: i64,
}

/// One diary entry. Where and when the citizen was is personal data: `Debug` shows only the id,
/// the kind and the entry's state, so an app that logs a value leaks no visit.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiaryEntry {
    pub id: i64,
    pub agency: String,
    pub venue_id: String,
    pub venue_name: String,
    pub venue_address: String,
    pub kind: VenueKind,
    pub checked_in_at: i64,
    /// When the entry checks out by itself unless the citizen does it first.
    pub auto_checkout_at: i64,
    /// `None` while the citizen is still checked in.
    pub checked_out: Option<CheckOut>,
    pub hidden: bool,
    pub ticket: Option<TicketInfo>,
}

impl std::fmt::Debug for DiaryEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiaryEntry")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("open", &self.is_open())
            .field("hidden", &self.hidden)
            .field("has_ticket", &self.ticket.is_some())
            .finish_non_exhaustive()
    }
}

impl DiaryEntry {
    /// The end of the stay: the check-out by hand, or the automatic one.
    pub fn ends_at(&self) -> i64 {
        self.checked_out
            .map_or(self.auto_checkout_at, CheckOut::at)
            .min(self.auto_checkout_at)
    }

    pub fn is_open(&self) -> bool {
        self.checked_out.is_none()
    }
}

/// Where the next page starts: after this entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryCursor {
    pub checked_in_at: i64,
    pub id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPage {
    pub entries: Vec<DiaryEntry>,
    /// `None` on the last page.
    pub next: Option<EntryCursor>,
}

/// An entry's stay as the diary keeps it, and its ticket data for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TicketTarget {
    pub agency: String,
    pub venue_id: String,
    pub kind: VenueKind,
    pub code_id: Vec<u8>,
    pub ticket_key: String,
    pub ticket: Option<TicketInfo>,
}

/// A notice matched against a diary entry. `Debug` leaves out the venue, the window and the
/// message: together with the entry they say where the citizen was.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExposureMatch {
    pub id: i64,
    pub entry_id: i64,
    pub notice_id: String,
    pub agency: String,
    pub venue_id: String,
    pub venue_name: String,
    /// The notice's window.
    pub from: i64,
    pub until: i64,
    pub message: String,
    pub matched_at: i64,
}

impl std::fmt::Debug for ExposureMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExposureMatch")
            .field("id", &self.id)
            .field("entry_id", &self.entry_id)
            .field("notice_id", &self.notice_id)
            .finish_non_exhaustive()
    }
}

/// The columns [`read_entry`] reads, from [`ENTRY_FROM`].
const ENTRY_COLUMNS: &str = "d.id, v.agency, v.venue_id, v.name, v.address, v.kind,
     d.checked_in_at, d.auto_checkout_at, d.checked_out_at, d.hidden, d.ticket_id,
     d.ticket_number, d.ticket_position, d.ticket_state, d.ticket_counter, d.ticket_poll_after,
     d.ticket_updated_at";

/// An entry and its venue (`d` and `v`).
const ENTRY_FROM: &str = "checkin_diary d JOIN checkin_venues v ON v.id = d.venue";

/// The open entry of the code `code_id` at `now`, if any: not checked out by hand and before its
/// automatic check-out.
pub fn open_entry_of_code(
    conn: &Connection,
    code_id: &[u8],
    now: i64,
) -> Result<Option<DiaryEntry>, StoreError> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM}
         WHERE d.checked_in_at > ?3 AND d.code_id = ?1 AND d.auto_checkout_at > ?2
               AND d.checked_out_at IS NULL
         ORDER BY d.checked_in_at DESC, d.id DESC LIMIT 1"
    );
    // No entry stays open longer than the longest automatic check-out: the time index finds
    // the candidates.
    let oldest_open = now.saturating_sub(i64::from(*AUTO_CHECKOUT_RANGE.end()));
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![code_id, now, oldest_open], |r| read_entry(r, now))
        .optional()?)
}

/// What [`check_in`] recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub entry: DiaryEntry,
    /// `false`: the same code's open entry was returned (the dedupe rule).
    pub new: bool,
    /// Matches of the new entry against notices already stored (a window still running).
    pub match_ids: Vec<i64>,
}

/// Records a check-in at `now` with the dedupe rule: the open entry of the same code is returned
/// instead of a new one. A new entry is matched against the stored notices at once.
pub fn check_in(
    tx: &Transaction<'_>,
    code: &VenueCode,
    ticket_key: &str,
    now: i64,
) -> Result<Recorded, StoreError> {
    if let Some(existing) = open_entry_of_code(tx, &code.code_id, now)? {
        return Ok(Recorded {
            entry: existing,
            new: false,
            match_ids: Vec::new(),
        });
    }
    let venue = venue_row(tx, code)?;
    tx.prepare_cached(
        "INSERT INTO checkin_diary (venue, code_id, checked_in_at, auto_checkout_at, ticket_key)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        venue,
        code.code_id,
        now,
        now.saturating_add(i64::from(code.auto_checkout_secs)),
        ticket_key,
    ])?;
    let id = tx.last_insert_rowid();
    let entry = entry(tx, id, now)?.ok_or(StoreError::Corrupt)?;
    let notices = notices_at(tx, &entry.agency, &entry.venue_id)?;
    let visit = Visit {
        entry_id: entry.id,
        agency: entry.agency.clone(),
        venue_id: entry.venue_id.clone(),
        checked_in_at: entry.checked_in_at,
        checked_out_at: entry.ends_at(),
    };
    let match_ids = insert_matches(
        tx,
        &super::notice::match_visits(std::slice::from_ref(&visit), &notices),
        now,
    )?;
    Ok(Recorded {
        entry,
        new: true,
        match_ids,
    })
}

/// The id of the `checkin_venues` row holding `code`'s venue as the code states it (agency, id,
/// name, address, kind), added if there is none yet.
fn venue_row(tx: &Transaction<'_>, code: &VenueCode) -> Result<i64, StoreError> {
    let venue = params![
        code.agency,
        code.venue_id,
        code.name,
        code.address,
        to_code(&code.kind)
    ];
    let found = tx
        .prepare_cached(
            "SELECT id FROM checkin_venues
             WHERE agency = ?1 AND venue_id = ?2 AND name = ?3 AND address = ?4 AND kind = ?5",
        )?
        .query_row(venue, |r| r.get(0))
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    tx.prepare_cached(
        "INSERT INTO checkin_venues (agency, venue_id, name, address, kind)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(venue)?;
    Ok(tx.last_insert_rowid())
}

/// Deletes the venue rows no entry refers to any more (after a purge or a deletion): a venue's
/// name and address must not outlive the visits. One pass over the diary that is left (the
/// entries within the retention) and one over the venues, whatever was deleted.
fn delete_unused_venues(tx: &Transaction<'_>) -> Result<usize, StoreError> {
    Ok(tx.execute(
        "DELETE FROM checkin_venues WHERE id NOT IN (SELECT venue FROM checkin_diary)",
        [],
    )?)
}

/// The stored notices of one venue.
fn notices_at(
    conn: &Connection,
    agency: &str,
    venue_id: &str,
) -> Result<Vec<ExposureNotice>, StoreError> {
    let rows = conn
        .prepare_cached(
            "SELECT id, agency, venue_id, from_at, until_at, message, iat FROM checkin_notices
             WHERE agency = ?1 AND venue_id = ?2",
        )?
        .query_map(params![agency, venue_id], |r| {
            Ok(ExposureNotice {
                id: r.get(0)?,
                agency: r.get(1)?,
                venue_id: r.get(2)?,
                from: r.get(3)?,
                until: r.get(4)?,
                message: r.get(5)?,
                iat: r.get(6)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Inserts `(entry_id, notice_id)` matches not stored yet; returns the new match ids.
fn insert_matches(
    tx: &Transaction<'_>,
    pairs: &[(i64, String)],
    now: i64,
) -> Result<Vec<i64>, StoreError> {
    let mut ids = Vec::new();
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO checkin_matches (entry_id, notice_id, matched_at)
         VALUES (?1, ?2, ?3)",
    )?;
    for (entry_id, notice_id) in pairs {
        if insert.execute(params![entry_id, notice_id, now])? == 1 {
            ids.push(tx.last_insert_rowid());
        }
    }
    Ok(ids)
}

pub fn entry(conn: &Connection, id: i64, now: i64) -> Result<Option<DiaryEntry>, StoreError> {
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE d.id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], |r| read_entry(r, now))
        .optional()?)
}

/// Checks out by hand at `now`. `None` when there is no such entry; an entry already checked out
/// (by hand, or automatically) is returned unchanged.
pub fn check_out(
    tx: &Transaction<'_>,
    id: i64,
    now: i64,
) -> Result<Option<(DiaryEntry, bool)>, StoreError> {
    let changed = tx.execute(
        "UPDATE checkin_diary SET checked_out_at = ?2
         WHERE id = ?1 AND checked_out_at IS NULL AND auto_checkout_at > ?2",
        params![id, now],
    )? == 1;
    Ok(entry(tx, id, now)?.map(|e| (e, changed)))
}

/// Up to `size` entries, newest first, after `after`; hidden ones only if `include_hidden`.
pub fn page(
    conn: &Connection,
    after: Option<EntryCursor>,
    size: u32,
    include_hidden: bool,
    now: i64,
) -> Result<EntryPage, StoreError> {
    let size = size.clamp(1, MAX_PAGE_SIZE);
    let (after_at, after_id) = after.map_or((i64::MAX, i64::MAX), |c| (c.checked_in_at, c.id));
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM}
         WHERE (d.checked_in_at, d.id) < (?1, ?2) AND (?3 OR d.hidden = 0)
         ORDER BY d.checked_in_at DESC, d.id DESC LIMIT ?4"
    );
    let mut entries = conn
        .prepare_cached(&sql)?
        .query_map(
            params![after_at, after_id, include_hidden, i64::from(size) + 1],
            |r| read_entry(r, now),
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let next = if entries.len() > size as usize {
        entries.truncate(size as usize);
        entries.last().map(|e| EntryCursor {
            checked_in_at: e.checked_in_at,
            id: e.id,
        })
    } else {
        None
    };
    Ok(EntryPage { entries, next })
}

/// Hides or shows an entry in the default list; `false` when there is none.
pub fn set_hidden(tx: &Transaction<'_>, id: i64, hidden: bool) -> Result<bool, StoreError> {
    Ok(tx.execute(
        "UPDATE checkin_diary SET hidden = ?2 WHERE id = ?1",
        params![id, hidden],
    )? == 1)
}

/// Deletes an entry and its matches, and its venue's row if no other entry refers to it;
/// `false` when there was none.
pub fn delete(tx: &Transaction<'_>, id: i64) -> Result<bool, StoreError> {
    tx.execute("DELETE FROM checkin_matches WHERE entry_id = ?1", [id])?;
    let deleted = tx.execute("DELETE FROM checkin_diary WHERE id = ?1", [id])? == 1;
    if deleted {
        delete_unused_venues(tx)?;
    }
    Ok(deleted)
}

/// The whole diary (hidden entries included) and the matches, oldest first, as JSON: the
/// citizen's own copy.
pub fn export_json(conn: &Connection, now: i64) -> Result<String, StoreError> {
    #[derive(Serialize)]
    struct Export {
        entries: Vec<DiaryEntry>,
        exposure_matches: Vec<ExposureMatch>,
        exported_at: i64,
    }
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} ORDER BY d.checked_in_at, d.id");
    let entries = conn
        .prepare(&sql)?
        .query_map([], |r| read_entry(r, now))?
        .collect::<Result<Vec<_>, _>>()?;
    let export = Export {
        entries,
        exposure_matches: matches(conn)?,
        exported_at: now,
    };
    serde_json::to_string_pretty(&export).map_err(|_| StoreError::Corrupt)
}

/// Deletes every entry that checked in before `cutoff` with its matches, the venues no entry is
/// left at, and the notices whose window ended before it. The diary goes in one DELETE over the
/// indexed `checked_in_at`. Returns how many entries went.
///
/// The matches go first, found from the matches side: a scan of `checkin_matches` looking up
/// each one's entry by its id, so it costs in proportion to the matches (few) rather than to the
/// expired entries. The `entry_id IN (SELECT id ... WHERE checked_in_at < ?1)` it replaces
/// listed every expired entry and probed the matches' index with each: about 50 ms of the
/// purge of 100k entries (`checkin.purge_100k_ms`).
pub fn purge_before(tx: &Transaction<'_>, cutoff: i64) -> Result<usize, StoreError> {
    tx.execute(
        "DELETE FROM checkin_matches
         WHERE (SELECT checked_in_at FROM checkin_diary WHERE id = entry_id) < ?1",
        [cutoff],
    )?;
    let purged = tx.execute(
        "DELETE FROM checkin_diary WHERE checked_in_at < ?1",
        [cutoff],
    )?;
    if purged > 0 {
        delete_unused_venues(tx)?;
    }
    tx.execute(
        "DELETE FROM checkin_matches
         WHERE notice_id IN (SELECT id FROM checkin_notices WHERE until_at < ?1)",
        [cutoff],
    )?;
    tx.execute("DELETE FROM checkin_notices WHERE until_at < ?1", [cutoff])?;
    Ok(purged)
}

/// The stored ticket data of an entry, for a ticket request.
pub(crate) fn ticket_target(
    conn: &Connection,
    id: i64,
    now: i64,
) -> Result<Option<TicketTarget>, StoreError> {
    let row = conn
        .query_row(
            "SELECT code_id, ticket_key FROM checkin_diary WHERE id = ?1",
            [id],
            |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?)),
        )
        .optional()?;
    let Some((code_id, ticket_key)) = row else {
        return Ok(None);
    };
    let entry = entry(conn, id, now)?.ok_or(StoreError::Corrupt)?;
    Ok(Some(TicketTarget {
        agency: entry.agency,
        venue_id: entry.venue_id,
        kind: entry.kind,
        code_id,
        ticket_key,
        ticket: entry.ticket,
    }))
}

/// A ticket's id, number, position, state and counter as stored.
type TicketColumns = (
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

/// The open entries whose ticket is still waiting, with the portal's pace: the tickets to watch
/// again after a restart.
pub fn waiting_tickets(conn: &Connection, now: i64) -> Result<Vec<(i64, u32)>, StoreError> {
    let rows = conn
        .prepare(
            "SELECT id, ticket_poll_after FROM checkin_diary
             WHERE checked_in_at > ?2 AND ticket_state = 'waiting' AND checked_out_at IS NULL
                   AND auto_checkout_at > ?1",
        )?
        .query_map(
            params![
                now,
                now.saturating_sub(i64::from(*AUTO_CHECKOUT_RANGE.end()))
            ],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    u32::try_from(r.get::<_, i64>(1)?).unwrap_or(1),
                ))
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Stores the ticket as the portal reported it; `true` when anything the citizen sees changed.
/// `false` also when the entry is gone.
pub fn store_ticket(
    tx: &Transaction<'_>,
    id: i64,
    ticket: &Ticket,
    now: i64,
) -> Result<bool, StoreError> {
    let before: Option<TicketColumns> = tx
        .query_row(
            "SELECT ticket_id, ticket_number, ticket_position, ticket_state, ticket_counter
             FROM checkin_diary WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some(before) = before else {
        return Ok(false);
    };
    let after = (
        Some(ticket.ticket_id.clone()),
        Some(ticket.number.clone()),
        Some(i64::from(ticket.position)),
        Some(to_code(&ticket.state)),
        ticket.counter.clone(),
    );
    tx.execute(
        "UPDATE checkin_diary SET ticket_id = ?2, ticket_number = ?3, ticket_position = ?4,
             ticket_state = ?5, ticket_counter = ?6, ticket_poll_after = ?7, ticket_updated_at = ?8
         WHERE id = ?1",
        params![
            id,
            ticket.ticket_id,
            ticket.number,
            ticket.position,
            to_code(&ticket.state),
            ticket.counter,
            ticket.poll_after,
            now
        ],
    )?;
    Ok(before != after)
}

/// What [`store_notices`] stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredNotices {
    /// Notices stored for the first time.
    pub new_notices: usize,
    /// The ids of the new matches.
    pub match_ids: Vec<i64>,
}

/// Stores verified notices (a repeat of a stored id is ignored) and matches the new ones against
/// the diary.
pub fn store_notices(
    tx: &Transaction<'_>,
    notices: &[ExposureNotice],
    now: i64,
) -> Result<StoredNotices, StoreError> {
    let mut fresh = Vec::new();
    {
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO checkin_notices
                 (id, agency, venue_id, from_at, until_at, message, iat, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for notice in notices {
            if insert.execute(params![
                notice.id,
                notice.agency,
                notice.venue_id,
                notice.from,
                notice.until,
                notice.message,
                notice.iat,
                now
            ])? == 1
            {
                fresh.push(notice.clone());
            }
        }
    }
    let mut ids = Vec::new();
    for notice in &fresh {
        let visits = visits_at(tx, &notice.agency, &notice.venue_id, now)?;
        let pairs = super::notice::match_visits(&visits, std::slice::from_ref(notice));
        ids.extend(insert_matches(tx, &pairs, now)?);
    }
    Ok(StoredNotices {
        new_notices: fresh.len(),
        match_ids: ids,
    })
}

/// The stays at one venue, for matching.
fn visits_at(
    conn: &Connection,
    agency: &str,
    venue_id: &str,
    now: i64,
) -> Result<Vec<Visit>, StoreError> {
    let sql =
        format!("SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE v.agency = ?1 AND v.venue_id = ?2");
    let entries = conn
        .prepare_cached(&sql)?
        .query_map(params![agency, venue_id], |r| read_entry(r, now))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(entries
        .into_iter()
        .map(|e| Visit {
            entry_id: e.id,
            checked_out_at: e.ends_at(),
            agency: e.agency,
            venue_id: e.venue_id,
            checked_in_at: e.checked_in_at,
        })
        .collect())
}

/// Every match, newest first, with its notice and venue.
pub fn matches(conn: &Connection) -> Result<Vec<ExposureMatch>, StoreError> {
    let mut query = conn.prepare_cached(
        "SELECT m.id, m.entry_id, m.notice_id, n.agency, n.venue_id, v.name, n.from_at,
                n.until_at, n.message, m.matched_at
         FROM checkin_matches m
         JOIN checkin_notices n ON n.id = m.notice_id
         JOIN checkin_diary d ON d.id = m.entry_id
         JOIN checkin_venues v ON v.id = d.venue
         ORDER BY m.matched_at DESC, m.id DESC",
    )?;
    let rows = query
        .query_map([], |r| {
            Ok(ExposureMatch {
                id: r.get(0)?,
                entry_id: r.get(1)?,
                notice_id: r.get(2)?,
                agency: r.get(3)?,
                venue_id: r.get(4)?,
                venue_name: r.get(5)?,
                from: r.get(6)?,
                until: r.get(7)?,
                message: r.get(8)?,
                matched_at: r.get(9)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The notices cursor and ETag from the last download.
pub fn notices_cursor(conn: &Connection) -> Result<(Option<String>, Option<String>), StoreError> {
    let non_empty = |v: Option<String>| v.filter(|v| !v.is_empty());
    Ok((
        non_empty(meta::get(conn, CURSOR_KEY)?),
        non_empty(meta::get(conn, ETAG_KEY)?),
    ))
}

pub fn set_notices_cursor(
    tx: &Transaction<'_>,
    cursor: &str,
    etag: Option<&str>,
) -> Result<(), StoreError> {
    meta::set(tx, CURSOR_KEY, cursor)?;
    meta::set(tx, ETAG_KEY, etag.unwrap_or(""))
}

fn read_entry(row: &rusqlite::Row<'_>, now: i64) -> rusqlite::Result<DiaryEntry> {
    let bad = |column: usize| {
        rusqlite::Error::FromSqlConversionFailure(
            column,
            rusqlite::types::Type::Text,
            "unknown check-in code".into(),
        )
    };
    let auto_checkout_at: i64 = row.get(7)?;
    let manual: Option<i64> = row.get(8)?;
    let checked_out = match manual {
        Some(at) => Some(CheckOut::Manual { at }),
        None if now >= auto_checkout_at => Some(CheckOut::Automatic {
            at: auto_checkout_at,
        }),
        None => None,
    };
    let ticket = match (
        row.get::<_, Option<String>>(10)?,
        row.get::<_, Option<String>>(11)?,
        row.get::<_, Option<i64>>(12)?,
        row.get::<_, Option<String>>(13)?,
    ) {
        (Some(ticket_id), Some(number), Some(position), Some(state)) => Some(TicketInfo {
            ticket_id,
            number,
            position: u32::try_from(position).map_err(|_| bad(12))?,
            state: from_code(&state).ok_or_else(|| bad(13))?,
            counter: row.get(14)?,
            poll_after: row
                .get::<_, Option<i64>>(15)?
                .and_then(|p| u32::try_from(p).ok())
                .unwrap_or(0),
            updated_at: row.get::<_, Option<i64>>(16)?.unwrap_or(0),
        }),
        _ => None,
    };
    Ok(DiaryEntry {
        id: row.get(0)?,
        agency: row.get(1)?,
        venue_id: row.get(2)?,
        venue_name: row.get(3)?,
        venue_address: row.get(4)?,
        kind: from_code(&row.get::<_, String>(5)?).ok_or_else(|| bad(5))?,
        checked_in_at: row.get(6)?,
        auto_checkout_at,
        checked_out,
        hidden: row.get(9)?,
        ticket,
    })
}
