//! QR check-ins, the portal's side: the sandbox agency that mints venue and counter codes,
//! publishes exposure notices, runs counter queues and receives shared diary entries.
//!
//! Owns: the sandbox agency ([`AGENCY_ID`], [`AGENCY_NAME`]; its keys are
//! `keys::KeyRole::VenueSigner`, which `trust` publishes in `venue_signers`); minting codes
//! ([`mint_venue`], `POST /v1/test/venues`, `citizen-sandbox mint-venue`) and remembering which
//! venues and code ids it minted, so queues know their counters; exposure notices ([`notify`],
//! `POST /v1/test/notices`, `citizen-sandbox notify`; `GET /v1/checkins/notices` pages them by
//! an opaque cursor with a strong `ETag`); counter queues (`POST /v1/checkins/tickets` with
//! `Idempotency-Key`, `GET /v1/checkins/tickets/{ticket_id}`) that call one ticket every
//! [`DEFAULT_SECONDS_PER_CALL`] seconds, or what `POST /v1/test/queues/pace` sets; and the diary
//! entries citizens share (`POST /v1/checkins/shares`, `GET /v1/test/shares`).
//!
//! Does not own the bodies and the code's claim layout (`citizen_core::checkin::wire`, served
//! as they are), the signed QR format (`citizen_core::signed_qr`), the keys (`keys`) nor the
//! trust list (`trust`). Never logs what a citizen shared or which ticket they hold.

use std::ops::RangeInclusive;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use citizen_core::checkin::venue_code::{self, VenueCode, VenueCodeError};
use citizen_core::checkin::wire::{
    ExposureNotice, MAX_NOTICES_PER_PAGE, MintVenueRequest, MintedVenue, NOTICE_JWS_TYP,
    NoticesPage, NotifyRequest, ShareReceipt, ShareRequest, SharedEntry, Ticket, TicketRequest,
    TicketState, VenueKind,
};
use citizen_core::jose::{base64url, sign_compact};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::keys::{self, KeyRole};
use crate::state::{PortalState, now};

/// The sandbox agency's id: the `iss` of its codes, the `agency` of its notices, tickets and
/// shares, and of its venue signer in the trust list.
pub const AGENCY_ID: &str = "sandbox-agency";
/// The agency's display name in the trust list.
pub const AGENCY_NAME: &str = "Trung tâm Phục vụ hành chính công thử nghiệm";
/// How long a code is valid unless the request says otherwise: one year.
pub const DEFAULT_VALID_FOR_SECS: i64 = 365 * 24 * 60 * 60;
/// The validity a request may ask: a minute to ten years.
pub const VALID_FOR_SECS: RangeInclusive<i64> = 60..=10 * 365 * 24 * 60 * 60;
/// Automatic check-out unless the request says otherwise: four hours.
pub const DEFAULT_AUTO_CHECKOUT_SECS: u32 = 4 * 60 * 60;
/// The automatic check-out a code may carry (`"d"`).
pub const AUTO_CHECKOUT_SECS: RangeInclusive<u32> = 60..=86_400;
/// Bytes of a code's random `cti`.
pub const CODE_ID_BYTES: usize = 16;
/// The `cti` lengths a code may have (and a ticket request's `code_id` may decode to).
const CODE_ID_LEN: RangeInclusive<usize> = 8..=32;
/// The notices a first request (no `since`) gets: those published in the last 30 days.
pub const NOTICE_WINDOW_SECS: i64 = 30 * 24 * 60 * 60;
/// The longest notice message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 1_000;
/// A counter calls one ticket this often (seconds) unless a test sets another pace.
pub const DEFAULT_SECONDS_PER_CALL: u32 = 20;
/// The paces a test may set.
pub const SECONDS_PER_CALL: RangeInclusive<u32> = 1..=3_600;
/// A called ticket is closed (served) this many calls' time after it was called.
pub const CALLED_FOR_CALLS: i64 = 6;
/// The most entries one share may hold.
pub const MAX_SHARED_ENTRIES: usize = 1_000;
/// Counter desks a queue calls tickets to, in turn (`Quầy 1`, `Quầy 2`, ...).
const COUNTER_DESKS: i64 = 3;
/// The longest `Idempotency-Key`.
const MAX_IDEMPOTENCY_KEY_CHARS: usize = 128;

/// Why a check-in request was refused. The texts name fields, never values.
#[derive(Debug, thiserror::Error)]
pub enum CheckinError {
    /// `400 invalid_field`.
    #[error("the field `{0}` is missing or malformed")]
    Invalid(&'static str),
    /// `404 unknown_agency`: not the sandbox agency.
    #[error("unknown agency")]
    UnknownAgency,
    /// `404 unknown_venue`: the agency never minted a code for this venue.
    #[error("unknown venue")]
    UnknownVenue,
    /// `422 unknown_venue`: a shared entry names a venue the agency never minted.
    #[error("a shared entry names a venue the agency does not know")]
    ForeignVenue,
    /// `422 not_a_counter`: tickets are only for service counters.
    #[error("the venue is not a service counter")]
    NotACounter,
    /// `422 unknown_code`: the code id is not one of the venue's codes.
    #[error("the code id is not one of the venue's codes")]
    UnknownCode,
    /// `422 code_not_valid`: the code is expired or not valid yet.
    #[error("the venue's code is not valid now")]
    CodeNotValid,
    /// `422 idempotency_key_reused`: the key was used for a ticket at another venue or code.
    #[error("the idempotency key was used for another request")]
    IdempotencyKeyReused,
    /// `404 unknown_ticket`.
    #[error("unknown ticket")]
    UnknownTicket,
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("signing: {0}")]
    Signing(String),
}

impl CheckinError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            CheckinError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid_field"),
            CheckinError::UnknownAgency => (StatusCode::NOT_FOUND, "unknown_agency"),
            CheckinError::UnknownVenue => (StatusCode::NOT_FOUND, "unknown_venue"),
            CheckinError::ForeignVenue => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_venue"),
            CheckinError::NotACounter => (StatusCode::UNPROCESSABLE_ENTITY, "not_a_counter"),
            CheckinError::UnknownCode => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_code"),
            CheckinError::CodeNotValid => (StatusCode::UNPROCESSABLE_ENTITY, "code_not_valid"),
            CheckinError::IdempotencyKeyReused => {
                (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
            }
            CheckinError::UnknownTicket => (StatusCode::NOT_FOUND, "unknown_ticket"),
            CheckinError::Database(_) | CheckinError::Signing(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }
}

impl IntoResponse for CheckinError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let body = match &self {
            CheckinError::Invalid(field) => json!({ "error": code, "field": field }),
            CheckinError::Database(_) | CheckinError::Signing(_) => {
                tracing::error!(error = %self, "a check-in request failed");
                json!({ "error": code })
            }
            _ => json!({ "error": code }),
        };
        (status, Json(body)).into_response()
    }
}

/// The answer of `POST /v1/test/notices`: the published notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedNotice {
    /// The notice's `id`.
    pub id: String,
    /// The compact JWS as `GET /v1/checkins/notices` serves it.
    pub jws: String,
}

/// One share as it arrived (`GET /v1/test/shares`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedShare {
    pub share_id: String,
    pub received_at: i64,
    /// The body exactly as the portal accepted it.
    pub request: ShareRequest,
}

/// The body of `POST /v1/test/queues/pace`, and its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuePace {
    pub seconds_per_call: u32,
}

pub(crate) fn create_tables(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS checkin_venues (
             venue_id TEXT PRIMARY KEY,
             agency TEXT NOT NULL,
             -- VenueKind::code()
             kind INTEGER NOT NULL,
             name TEXT NOT NULL,
             minted_at INTEGER NOT NULL
         );
         CREATE TABLE IF NOT EXISTS checkin_codes (
             cti BLOB PRIMARY KEY,
             venue_id TEXT NOT NULL REFERENCES checkin_venues (venue_id),
             nbf INTEGER NOT NULL,
             exp INTEGER NOT NULL
         );
         CREATE TABLE IF NOT EXISTS checkin_notices (
             seq INTEGER PRIMARY KEY AUTOINCREMENT,
             id TEXT NOT NULL UNIQUE,
             venue_id TEXT NOT NULL,
             jws TEXT NOT NULL,
             published_at INTEGER NOT NULL
         );
         CREATE TABLE IF NOT EXISTS checkin_tickets (
             ticket_id TEXT PRIMARY KEY,
             idempotency_key TEXT NOT NULL UNIQUE,
             venue_id TEXT NOT NULL,
             code_id TEXT NOT NULL,
             seq INTEGER NOT NULL,
             issued_at INTEGER NOT NULL,
             called_at INTEGER NOT NULL,
             closed_at INTEGER NOT NULL,
             pace INTEGER NOT NULL,
             UNIQUE (venue_id, seq)
         );
         -- The id of this database's notices feed, drawn once: see `notices_page`.
         CREATE TABLE IF NOT EXISTS checkin_feed (
             id INTEGER PRIMARY KEY CHECK (id = 1),
             feed TEXT NOT NULL
         );
         INSERT OR IGNORE INTO checkin_feed (id, feed) VALUES (1, lower(hex(randomblob(8))));
         CREATE TABLE IF NOT EXISTS checkin_settings (
             id INTEGER PRIMARY KEY CHECK (id = 1),
             seconds_per_call INTEGER NOT NULL
         );
         CREATE TABLE IF NOT EXISTS checkin_shares (
             share_id TEXT PRIMARY KEY,
             request TEXT NOT NULL,
             received_at INTEGER NOT NULL
         );",
    )
}

pub(crate) fn routes() -> Router<PortalState> {
    Router::new()
        .route("/v1/test/venues", post(mint_handler))
        .route("/v1/test/notices", post(notify_handler))
        .route("/v1/checkins/notices", get(notices_handler))
        .route("/v1/checkins/tickets", post(ticket_handler))
        .route(
            "/v1/checkins/tickets/{ticket_id}",
            get(ticket_status_handler),
        )
        .route("/v1/test/queues/pace", post(pace_handler))
        .route("/v1/checkins/shares", post(share_handler))
        .route("/v1/test/shares", get(shares_handler))
}

// --- minting ------------------------------------------------------------------------------------

/// Mints a venue or counter code of the sandbox agency, signed with its active venue key, and
/// remembers the venue (its kind) and the code's id.
pub fn mint_venue(
    conn: &Connection,
    request: &MintVenueRequest,
    now: i64,
) -> Result<MintedVenue, CheckinError> {
    check_venue_id(&request.venue_id).ok_or(CheckinError::Invalid("venue_id"))?;
    if !(1..=120).contains(&request.name.chars().count()) || request.name.trim().is_empty() {
        return Err(CheckinError::Invalid("name"));
    }
    if request.address.chars().count() > 200 {
        return Err(CheckinError::Invalid("address"));
    }
    let valid_for = request.valid_for.unwrap_or(DEFAULT_VALID_FOR_SECS);
    if !VALID_FOR_SECS.contains(&valid_for) {
        return Err(CheckinError::Invalid("valid_for"));
    }
    let auto_checkout = request.auto_checkout.unwrap_or(DEFAULT_AUTO_CHECKOUT_SECS);
    if !AUTO_CHECKOUT_SECS.contains(&auto_checkout) {
        return Err(CheckinError::Invalid("auto_checkout"));
    }
    let key = keys::active(conn, KeyRole::VenueSigner, now)?;
    let cti = random_bytes::<CODE_ID_BYTES>()?;
    let venue = VenueCode {
        agency: AGENCY_ID.into(),
        venue_id: request.venue_id.clone(),
        name: request.name.clone(),
        address: request.address.clone(),
        kind: request.kind,
        auto_checkout_secs: auto_checkout,
        not_before: now,
        expires_at: now + valid_for,
        issued_at: now,
        code_id: cti.to_vec(),
    };
    // The core's minter lays the claims out and checks every bound a reader applies; a request
    // that passed the checks above but not those is still the caller's field.
    let code = venue_code::mint(&venue, &key.kid, key.signer.as_ref()).map_err(|e| match e {
        VenueCodeError::Claim("n") => CheckinError::Invalid("name"),
        VenueCodeError::Claim("a") => CheckinError::Invalid("address"),
        VenueCodeError::Claim("v") => CheckinError::Invalid("venue_id"),
        other => CheckinError::Signing(other.to_string()),
    })?;
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "INSERT INTO checkin_venues (venue_id, agency, kind, name, minted_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (venue_id) DO UPDATE SET kind = excluded.kind, name = excluded.name,
             minted_at = excluded.minted_at",
        params![
            request.venue_id,
            AGENCY_ID,
            request.kind.code(),
            request.name,
            now
        ],
    )?;
    tx.execute(
        "INSERT INTO checkin_codes (cti, venue_id, nbf, exp) VALUES (?1, ?2, ?3, ?4)",
        params![cti.as_slice(), request.venue_id, now, now + valid_for],
    )?;
    tx.commit()?;
    tracing::info!(kind = ?request.kind, "venue code minted");
    Ok(MintedVenue {
        code,
        agency: AGENCY_ID.into(),
        signer_kid: Some(key.kid.clone()),
        signer_jwk: Some(key.signer.public_key().to_value()),
    })
}

/// 1 to 64 characters of `[A-Za-z0-9._-]`.
fn check_venue_id(venue_id: &str) -> Option<()> {
    let ok = (1..=64).contains(&venue_id.len())
        && venue_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    ok.then_some(())
}

/// The kind of a venue the agency minted a code for.
fn venue_kind(conn: &Connection, venue_id: &str) -> Result<Option<VenueKind>, CheckinError> {
    let code: Option<i64> = conn
        .query_row(
            "SELECT kind FROM checkin_venues WHERE venue_id = ?1 AND agency = ?2",
            params![venue_id, AGENCY_ID],
            |r| r.get(0),
        )
        .optional()?;
    Ok(code.and_then(|code| VenueKind::from_code(u64::try_from(code).ok()?)))
}

// --- exposure notices ---------------------------------------------------------------------------

/// Publishes an exposure notice for a venue the agency minted: an [`ExposureNotice`] with a
/// random id, signed with the active venue key, served from the next notices request on.
pub fn notify(
    conn: &Connection,
    request: &NotifyRequest,
    now: i64,
) -> Result<PublishedNotice, CheckinError> {
    check_venue_id(&request.venue_id).ok_or(CheckinError::Invalid("venue_id"))?;
    if request.from < 0 {
        return Err(CheckinError::Invalid("from"));
    }
    if request.until <= request.from {
        return Err(CheckinError::Invalid("until"));
    }
    let message_chars = request.message.chars().count();
    if !(1..=MAX_MESSAGE_CHARS).contains(&message_chars) || request.message.trim().is_empty() {
        return Err(CheckinError::Invalid("message"));
    }
    venue_kind(conn, &request.venue_id)?.ok_or(CheckinError::UnknownVenue)?;
    let key = keys::active(conn, KeyRole::VenueSigner, now)?;
    let notice = ExposureNotice {
        id: base64url::encode(random_bytes::<16>()?),
        agency: AGENCY_ID.into(),
        venue_id: request.venue_id.clone(),
        from: request.from,
        until: request.until,
        message: request.message.clone(),
        iat: now,
    };
    let mut header = serde_json::Map::new();
    header.insert("typ".into(), NOTICE_JWS_TYP.into());
    header.insert("kid".into(), key.kid.clone().into());
    let payload = serde_json::to_vec(&notice).map_err(|e| CheckinError::Signing(e.to_string()))?;
    let jws = sign_compact(&header, &payload, key.signer.as_ref())
        .map_err(|e| CheckinError::Signing(e.to_string()))?;
    conn.execute(
        "INSERT INTO checkin_notices (id, venue_id, jws, published_at) VALUES (?1, ?2, ?3, ?4)",
        params![notice.id, notice.venue_id, jws, now],
    )?;
    tracing::info!("exposure notice published");
    Ok(PublishedNotice { id: notice.id, jws })
}

/// The notices after the cursor `since` (of the last [`NOTICE_WINDOW_SECS`] without one), at
/// most [`MAX_NOTICES_PER_PAGE`], oldest first. An empty `since` is no `since`, and so is the
/// cursor of another feed (another sandbox's database, or one without a feed id): its numbers
/// say nothing about this feed's, and a phone kept across sandboxes (the demo's kept store)
/// would otherwise be told nothing is new until this feed's numbers passed the other's.
pub fn notices_page(
    conn: &Connection,
    since: Option<&str>,
    now: i64,
) -> Result<NoticesPage, CheckinError> {
    let feed = feed_id(conn)?;
    let since = match since.filter(|cursor| !cursor.is_empty()) {
        None => None,
        Some(cursor) => match parse_cursor(cursor).ok_or(CheckinError::Invalid("since"))? {
            (seq, Some(of)) if of == feed => Some(seq),
            _ => None,
        },
    };
    let (after, published_from) = match since {
        Some(after) => (after, i64::MIN),
        None => (0, now - NOTICE_WINDOW_SECS),
    };
    let mut statement = conn.prepare(
        "SELECT seq, jws FROM checkin_notices WHERE seq > ?1 AND published_at >= ?2
         ORDER BY seq LIMIT ?3",
    )?;
    let mut rows = statement
        .query_map(
            params![after, published_from, MAX_NOTICES_PER_PAGE as i64 + 1],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let more = rows.len() > MAX_NOTICES_PER_PAGE;
    rows.truncate(MAX_NOTICES_PER_PAGE);
    let last = match rows.last() {
        Some((seq, _)) => *seq,
        // Nothing new: a first request skips everything older than the window too.
        None if since.is_none() => conn.query_row(
            "SELECT COALESCE(MAX(seq), 0) FROM checkin_notices",
            [],
            |r| r.get(0),
        )?,
        None => after,
    };
    Ok(NoticesPage {
        notices: rows.into_iter().map(|(_, jws)| jws).collect(),
        cursor: cursor_for(&feed, last),
        more,
    })
}

/// This database's notices feed id (`checkin_feed`).
fn feed_id(conn: &Connection) -> Result<String, CheckinError> {
    Ok(
        conn.query_row("SELECT feed FROM checkin_feed WHERE id = 1", [], |r| {
            r.get(0)
        })?,
    )
}

/// The opaque form of a notice sequence number of feed `feed`.
fn cursor_for(feed: &str, seq: i64) -> String {
    base64url::encode(format!("n{seq}.{feed}"))
}

/// A cursor's sequence number and feed id (`None` in a cursor from before feeds had ids).
fn parse_cursor(cursor: &str) -> Option<(i64, Option<String>)> {
    let bytes = base64url::decode(cursor).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?.strip_prefix('n')?;
    let (digits, feed) = match text.split_once('.') {
        Some((digits, feed)) => (digits, Some(feed)),
        None => (text, None),
    };
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Some(feed) = feed
        && !((1..=32).contains(&feed.len()) && feed.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return None;
    }
    Some((digits.parse().ok()?, feed.map(str::to_owned)))
}

// --- queues -------------------------------------------------------------------------------------

/// Sets the pace of the queues for the tickets issued from now on.
pub fn set_pace(conn: &Connection, seconds_per_call: u32) -> Result<(), CheckinError> {
    if !SECONDS_PER_CALL.contains(&seconds_per_call) {
        return Err(CheckinError::Invalid("seconds_per_call"));
    }
    conn.execute(
        "INSERT INTO checkin_settings (id, seconds_per_call) VALUES (1, ?1)
         ON CONFLICT (id) DO UPDATE SET seconds_per_call = excluded.seconds_per_call",
        [seconds_per_call],
    )?;
    Ok(())
}

fn pace(conn: &Connection) -> rusqlite::Result<u32> {
    Ok(conn
        .query_row(
            "SELECT seconds_per_call FROM checkin_settings WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(DEFAULT_SECONDS_PER_CALL))
}

/// Issues a ticket at a service counter for the check-in `idempotency_key`, or gives the one
/// that key already has. Each counter calls its tickets in order, one per pace: a ticket is
/// called one pace after it was issued or after the ticket before it was called, whichever is
/// later, and closed [`CALLED_FOR_CALLS`] paces after that.
pub fn request_ticket(
    conn: &Connection,
    idempotency_key: &str,
    request: &TicketRequest,
    now: i64,
) -> Result<Ticket, CheckinError> {
    let key_ok = (1..=MAX_IDEMPOTENCY_KEY_CHARS).contains(&idempotency_key.len())
        && idempotency_key.bytes().all(|b| b.is_ascii_graphic());
    if !key_ok {
        return Err(CheckinError::Invalid("Idempotency-Key"));
    }
    if let Some(row) = ticket_row(conn, "idempotency_key", idempotency_key)? {
        if row.venue_id != request.venue_id || row.code_id != request.code_id {
            return Err(CheckinError::IdempotencyKeyReused);
        }
        return ticket_at(conn, &row, now);
    }
    let cti = base64url::decode(&request.code_id)
        .ok()
        .filter(|cti| CODE_ID_LEN.contains(&cti.len()))
        .ok_or(CheckinError::Invalid("code_id"))?;
    if request.agency != AGENCY_ID {
        return Err(CheckinError::UnknownAgency);
    }
    match venue_kind(conn, &request.venue_id)? {
        None => return Err(CheckinError::UnknownVenue),
        Some(VenueKind::ServiceCounter) => {}
        Some(_) => return Err(CheckinError::NotACounter),
    }
    let (nbf, exp) = conn
        .query_row(
            "SELECT nbf, exp FROM checkin_codes WHERE cti = ?1 AND venue_id = ?2",
            params![cti, request.venue_id],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
        )
        .optional()?
        .ok_or(CheckinError::UnknownCode)?;
    if now < nbf || now >= exp {
        return Err(CheckinError::CodeNotValid);
    }
    let pace = i64::from(pace(conn)?);
    let (last_seq, last_called): (i64, Option<i64>) = conn.query_row(
        "SELECT COALESCE(MAX(seq), 0), MAX(called_at) FROM checkin_tickets WHERE venue_id = ?1",
        [&request.venue_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let called_at = now.max(last_called.unwrap_or(now)) + pace;
    let row = TicketRow {
        ticket_id: base64url::encode(random_bytes::<16>()?),
        venue_id: request.venue_id.clone(),
        code_id: request.code_id.clone(),
        seq: last_seq + 1,
        called_at,
        closed_at: called_at + CALLED_FOR_CALLS * pace,
        pace,
    };
    conn.execute(
        "INSERT INTO checkin_tickets (ticket_id, idempotency_key, venue_id, code_id, seq,
             issued_at, called_at, closed_at, pace)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            row.ticket_id,
            idempotency_key,
            row.venue_id,
            row.code_id,
            row.seq,
            now,
            row.called_at,
            row.closed_at,
            row.pace
        ],
    )?;
    ticket_at(conn, &row, now)
}

/// A ticket as it stands at `now`.
pub fn ticket(conn: &Connection, ticket_id: &str, now: i64) -> Result<Ticket, CheckinError> {
    let row = ticket_row(conn, "ticket_id", ticket_id)?.ok_or(CheckinError::UnknownTicket)?;
    ticket_at(conn, &row, now)
}

struct TicketRow {
    ticket_id: String,
    venue_id: String,
    code_id: String,
    seq: i64,
    called_at: i64,
    closed_at: i64,
    pace: i64,
}

/// The ticket whose `column` (`ticket_id` or `idempotency_key`) is `value`.
fn ticket_row(conn: &Connection, column: &str, value: &str) -> rusqlite::Result<Option<TicketRow>> {
    debug_assert!(matches!(column, "ticket_id" | "idempotency_key"));
    conn.query_row(
        &format!(
            "SELECT ticket_id, venue_id, code_id, seq, called_at, closed_at, pace
             FROM checkin_tickets WHERE {column} = ?1"
        ),
        [value],
        |r| {
            Ok(TicketRow {
                ticket_id: r.get(0)?,
                venue_id: r.get(1)?,
                code_id: r.get(2)?,
                seq: r.get(3)?,
                called_at: r.get(4)?,
                closed_at: r.get(5)?,
                pace: r.get(6)?,
            })
        },
    )
    .optional()
}

fn ticket_at(conn: &Connection, row: &TicketRow, now: i64) -> Result<Ticket, CheckinError> {
    let state = if now >= row.closed_at {
        TicketState::Closed
    } else if now >= row.called_at {
        TicketState::Called
    } else {
        TicketState::Waiting
    };
    let position = if state == TicketState::Waiting {
        conn.query_row(
            "SELECT count(*) FROM checkin_tickets
             WHERE venue_id = ?1 AND seq < ?2 AND called_at > ?3",
            params![row.venue_id, row.seq, now],
            |r| r.get::<_, i64>(0),
        )?
    } else {
        0
    };
    Ok(Ticket {
        ticket_id: row.ticket_id.clone(),
        number: format!("A{:03}", row.seq),
        position: u32::try_from(position).unwrap_or(u32::MAX),
        state,
        counter: (state != TicketState::Waiting)
            .then(|| format!("Quầy {}", (row.seq - 1) % COUNTER_DESKS + 1)),
        poll_after: row.pace.clamp(1, 300) as u32,
    })
}

// --- shares -------------------------------------------------------------------------------------

/// Receives diary entries a citizen shares with the sandbox agency, all of its own venues.
pub fn receive_share(
    conn: &Connection,
    request: &ShareRequest,
    now: i64,
) -> Result<ShareReceipt, CheckinError> {
    if request.agency != AGENCY_ID {
        return Err(CheckinError::UnknownAgency);
    }
    if request.entries.is_empty() || request.entries.len() > MAX_SHARED_ENTRIES {
        return Err(CheckinError::Invalid("entries"));
    }
    for entry in &request.entries {
        check_entry(entry)?;
    }
    for entry in &request.entries {
        venue_kind(conn, &entry.venue_id)?.ok_or(CheckinError::ForeignVenue)?;
    }
    let share_id = base64url::encode(random_bytes::<16>()?);
    let body = serde_json::to_string(request).map_err(|e| CheckinError::Signing(e.to_string()))?;
    conn.execute(
        "INSERT INTO checkin_shares (share_id, request, received_at) VALUES (?1, ?2, ?3)",
        params![share_id, body, now],
    )?;
    tracing::info!(entries = request.entries.len(), "diary entries shared");
    Ok(ShareReceipt {
        share_id,
        received: request.entries.len() as u32,
    })
}

fn check_entry(entry: &SharedEntry) -> Result<(), CheckinError> {
    check_venue_id(&entry.venue_id).ok_or(CheckinError::Invalid("entries[].venue_id"))?;
    if entry.checked_in_at < 0 {
        return Err(CheckinError::Invalid("entries[].checked_in_at"));
    }
    if entry
        .checked_out_at
        .is_some_and(|out| out < entry.checked_in_at)
    {
        return Err(CheckinError::Invalid("entries[].checked_out_at"));
    }
    Ok(())
}

/// Every share received, in order of arrival.
pub fn shares(conn: &Connection) -> Result<Vec<ReceivedShare>, CheckinError> {
    let mut statement =
        conn.prepare("SELECT share_id, request, received_at FROM checkin_shares ORDER BY rowid")?;
    let rows = statement.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    let mut shares = Vec::new();
    for row in rows {
        let (share_id, request, received_at) = row?;
        let request = serde_json::from_str(&request)
            .map_err(|_| CheckinError::Signing("a stored share is unreadable".into()))?;
        shares.push(ReceivedShare {
            share_id,
            received_at,
            request,
        });
    }
    Ok(shares)
}

// --- helpers ------------------------------------------------------------------------------------

/// A time given as Unix seconds or as RFC 3339 (`2026-11-20T08:30:00Z`, `…+07:00`, fractions
/// ignored), for the command line.
pub fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    let date = crate::issuer::dates::Date::parse(text.get(..10)?)?;
    let rest = text.get(10..)?.strip_prefix(['T', 't', ' '])?;
    let number = |s: &str| -> Option<i64> {
        (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (hour, minute, second) = (
        number(rest.get(0..2)?)?,
        number(rest.get(3..5)?)?,
        number(rest.get(6..8)?)?,
    );
    if rest.get(2..3)? != ":" || rest.get(5..6)? != ":" || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut zone = &rest[8..];
    if let Some(fraction) = zone.strip_prefix('.') {
        zone = fraction.trim_start_matches(|c: char| c.is_ascii_digit());
        if zone.len() == fraction.len() {
            return None;
        }
    }
    let offset = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = match zone.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            if zone.len() != 6 || zone.get(3..4)? != ":" {
                return None;
            }
            let (hours, minutes) = (number(zone.get(1..3)?)?, number(zone.get(4..6)?)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            sign * (hours * 3600 + minutes * 60)
        }
    };
    Some(date.to_unix() + hour * 3600 + minute * 60 + second - offset)
}

fn random_bytes<const N: usize>() -> Result<[u8; N], CheckinError> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; N];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| CheckinError::Signing("no randomness".into()))?;
    Ok(bytes)
}

/// A JSON body, or `400 invalid_field` naming `body`.
fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, CheckinError> {
    serde_json::from_slice(body).map_err(|_| CheckinError::Invalid("body"))
}

// --- handlers -----------------------------------------------------------------------------------

/// Sandbox only: mint a code.
async fn mint_handler(State(state): State<PortalState>, body: Bytes) -> Response {
    let result = parse_body(&body)
        .and_then(|request| state.with_conn(|conn| mint_venue(conn, &request, now())));
    match result {
        Ok(minted) => (StatusCode::CREATED, Json(minted)).into_response(),
        Err(error) => error.into_response(),
    }
}

/// Sandbox only: publish a notice.
async fn notify_handler(State(state): State<PortalState>, body: Bytes) -> Response {
    let result =
        parse_body(&body).and_then(|request| state.with_conn(|conn| notify(conn, &request, now())));
    match result {
        Ok(published) => (StatusCode::CREATED, Json(published)).into_response(),
        Err(error) => error.into_response(),
    }
}

#[derive(Deserialize)]
struct NoticesQuery {
    since: Option<String>,
}

async fn notices_handler(
    State(state): State<PortalState>,
    Query(query): Query<NoticesQuery>,
    headers: HeaderMap,
) -> Response {
    let page = match state.with_conn(|conn| notices_page(conn, query.since.as_deref(), now())) {
        Ok(page) => page,
        Err(error) => return error.into_response(),
    };
    let body = match serde_json::to_vec(&page) {
        Ok(body) => body,
        Err(error) => return CheckinError::Signing(error.to_string()).into_response(),
    };
    let etag = crate::trust::strong_etag(&body);
    let etag_value = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\""));
    if crate::trust::not_modified(&headers, &etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response();
    }
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::ETAG, etag_value),
        ],
        body,
    )
        .into_response()
}

async fn ticket_handler(
    State(state): State<PortalState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(key) = headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok())
    else {
        return CheckinError::Invalid("Idempotency-Key").into_response();
    };
    let result = parse_body(&body)
        .and_then(|request| state.with_conn(|conn| request_ticket(conn, key, &request, now())));
    match result {
        Ok(ticket) => no_store(Json(ticket)),
        Err(error) => error.into_response(),
    }
}

async fn ticket_status_handler(
    State(state): State<PortalState>,
    Path(ticket_id): Path<String>,
) -> Response {
    match state.with_conn(|conn| ticket(conn, &ticket_id, now())) {
        Ok(ticket) => no_store(Json(ticket)),
        Err(error) => error.into_response(),
    }
}

/// Sandbox only: set the queues' pace.
async fn pace_handler(State(state): State<PortalState>, body: Bytes) -> Response {
    let result = parse_body::<QueuePace>(&body).and_then(|request| {
        state.with_conn(|conn| set_pace(conn, request.seconds_per_call))?;
        Ok(request)
    });
    match result {
        Ok(pace) => Json(pace).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn share_handler(State(state): State<PortalState>, body: Bytes) -> Response {
    let result = parse_body(&body)
        .and_then(|request| state.with_conn(|conn| receive_share(conn, &request, now())));
    match result {
        Ok(receipt) => no_store(Json(receipt)),
        Err(error) => error.into_response(),
    }
}

/// Sandbox only: what was shared.
async fn shares_handler(State(state): State<PortalState>) -> Response {
    match state.with_conn(shares) {
        Ok(shares) => Json(json!({ "shares": shares })).into_response(),
        Err(error) => error.into_response(),
    }
}

fn no_store(body: impl IntoResponse) -> Response {
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use citizen_core::checkin::wire::{VENUE_CLAIM, VENUE_PROFILE};
    use citizen_core::jose::Jws;
    use citizen_core::signed_qr::{self, CborValue, ClaimKey, Claims};

    const NOW: i64 = 1_800_000_000;

    fn conn() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        keys::create_tables(&conn).unwrap();
        create_tables(&conn).unwrap();
        conn
    }

    fn request(venue_id: &str, kind: VenueKind) -> MintVenueRequest {
        MintVenueRequest {
            venue_id: venue_id.into(),
            name: "UBND phường Bến Nghé".into(),
            address: "29 Lê Duẩn, Quận 1, TP. Hồ Chí Minh".into(),
            kind,
            valid_for: None,
            auto_checkout: None,
        }
    }

    fn venue_map(claims: &Claims) -> Vec<(String, CborValue)> {
        let Some(CborValue::Map(entries)) = claims.private.get(&ClaimKey::Int(VENUE_CLAIM)) else {
            panic!("no venue claim");
        };
        entries
            .iter()
            .map(|(k, v)| (k.as_text().unwrap().to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn a_minted_code_carries_the_contracts_claims_and_verifies_with_the_venue_key() {
        let conn = conn();
        let minted = mint_venue(&conn, &request("ub-ben-nghe", VenueKind::Venue), NOW).unwrap();
        assert_eq!(minted.agency, AGENCY_ID);
        assert!(minted.code.starts_with("CK1:"));
        let key = keys::active(&conn, KeyRole::VenueSigner, NOW).unwrap();
        let decoded = signed_qr::decode(&VENUE_PROFILE, &minted.code, key.public_key()).unwrap();
        assert_eq!(decoded.kid, key.kid.as_bytes());
        let claims = decoded.claims;
        assert_eq!(claims.iss.as_deref(), Some(AGENCY_ID));
        assert_eq!(
            (claims.nbf, claims.iat, claims.exp),
            (Some(NOW), Some(NOW), Some(NOW + DEFAULT_VALID_FOR_SECS))
        );
        assert_eq!(claims.cti.as_ref().unwrap().len(), CODE_ID_BYTES);
        let map = venue_map(&claims);
        let get = |k: &str| map.iter().find(|(key, _)| key == k).unwrap().1.clone();
        assert_eq!(get("v"), CborValue::Text("ub-ben-nghe".into()));
        assert_eq!(get("n"), CborValue::Text("UBND phường Bến Nghé".into()));
        assert_eq!(get("k"), CborValue::Integer(0.into()));
        assert_eq!(
            get("d"),
            CborValue::Integer(DEFAULT_AUTO_CHECKOUT_SECS.into())
        );
        // Two codes of one venue differ in their id.
        let again = mint_venue(&conn, &request("ub-ben-nghe", VenueKind::Venue), NOW).unwrap();
        assert_ne!(again.code, minted.code);
    }

    #[test]
    fn minting_refuses_what_the_contract_does_not_allow() {
        let conn = conn();
        type Change = fn(&mut MintVenueRequest);
        let cases: [(&str, Change); 7] = [
            ("venue_id", |r| r.venue_id = String::new()),
            ("venue_id", |r| r.venue_id = "a b".into()),
            ("venue_id", |r| r.venue_id = "x".repeat(65)),
            ("name", |r| r.name = "n".repeat(121)),
            ("address", |r| r.address = "a".repeat(201)),
            ("valid_for", |r| r.valid_for = Some(0)),
            ("auto_checkout", |r| r.auto_checkout = Some(59)),
        ];
        for (field, change) in cases {
            let mut request = request("v1", VenueKind::Venue);
            change(&mut request);
            match mint_venue(&conn, &request, NOW) {
                Err(CheckinError::Invalid(f)) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        // 120 characters of Vietnamese are fine (characters, not bytes).
        let mut long = request("v1", VenueKind::Venue);
        long.name = "Ệ".repeat(120);
        assert!(mint_venue(&conn, &long, NOW).is_ok());
    }

    #[test]
    fn notices_page_by_cursor_and_a_first_request_sees_thirty_days() {
        let conn = conn();
        mint_venue(&conn, &request("cafe", VenueKind::Venue), NOW).unwrap();
        let notify_at = |at: i64| {
            notify(
                &conn,
                &NotifyRequest {
                    venue_id: "cafe".into(),
                    from: at - 3_600,
                    until: at,
                    message: "Có ca nhiễm tại quán.".into(),
                },
                at,
            )
            .unwrap()
        };
        let old = notify_at(NOW - NOTICE_WINDOW_SECS - 1);
        let recent = notify_at(NOW - 10);
        let first = notices_page(&conn, None, NOW).unwrap();
        assert_eq!(first.notices, vec![recent.jws.clone()]);
        assert!(!first.more);
        // The JWS: typ, kid of the venue key, the notice as payload.
        let jws = Jws::parse(&first.notices[0], 64 * 1024).unwrap();
        let key = keys::active(&conn, KeyRole::VenueSigner, NOW).unwrap();
        assert_eq!(jws.header().typ(), Some(NOTICE_JWS_TYP));
        assert_eq!(jws.header().kid(), Some(key.kid.as_str()));
        jws.verify(key.public_key()).unwrap();
        let notice: ExposureNotice = serde_json::from_slice(jws.payload()).unwrap();
        assert_eq!(
            (notice.id.as_str(), notice.agency.as_str()),
            (recent.id.as_str(), AGENCY_ID)
        );
        // Nothing new after the cursor; the old one is only reachable from the beginning.
        assert_eq!(notices_page(&conn, Some(""), NOW).unwrap(), first);
        // Another feed's cursor (another sandbox's), however far on, and one without a feed id
        // are answered as a first request too.
        for foreign in [cursor_for("0123456789abcdef", 99), base64url::encode("n1")] {
            assert_eq!(notices_page(&conn, Some(&foreign), NOW).unwrap(), first);
        }
        let next = notices_page(&conn, Some(&first.cursor), NOW).unwrap();
        assert!(next.notices.is_empty());
        assert_eq!(next.cursor, first.cursor);
        let feed = feed_id(&conn).unwrap();
        assert_eq!(first.cursor, cursor_for(&feed, 2));
        let all = notices_page(&conn, Some(&cursor_for(&feed, 0)), NOW).unwrap();
        assert_eq!(all.notices, vec![old.jws, recent.jws]);
        // Pages of at most 500, with `more`.
        for _ in 0..MAX_NOTICES_PER_PAGE {
            notify_at(NOW);
        }
        let page = notices_page(&conn, Some(&first.cursor), NOW).unwrap();
        assert_eq!(
            (page.notices.len(), page.more),
            (MAX_NOTICES_PER_PAGE, false)
        );
        notify_at(NOW);
        let page = notices_page(&conn, Some(&first.cursor), NOW).unwrap();
        assert_eq!(
            (page.notices.len(), page.more),
            (MAX_NOTICES_PER_PAGE, true)
        );
        let rest = notices_page(&conn, Some(&page.cursor), NOW).unwrap();
        assert_eq!((rest.notices.len(), rest.more), (1, false));
        for bad in [
            "bj!y",
            "x",
            &base64url::encode("n-1"),
            &base64url::encode("n"),
            &base64url::encode("n1."),
            &base64url::encode("n1.not-hex"),
        ] {
            assert!(
                matches!(
                    notices_page(&conn, Some(bad), NOW),
                    Err(CheckinError::Invalid("since"))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn notices_need_a_known_venue_and_a_sensible_body() {
        let conn = conn();
        let body = |venue: &str, from, until, message: &str| NotifyRequest {
            venue_id: venue.into(),
            from,
            until,
            message: message.into(),
        };
        assert!(matches!(
            notify(&conn, &body("nowhere", 1, 2, "m"), NOW),
            Err(CheckinError::UnknownVenue)
        ));
        mint_venue(&conn, &request("cafe", VenueKind::Venue), NOW).unwrap();
        for (request, field) in [
            (body("cafe", 2, 2, "m"), "until"),
            (body("cafe", -1, 2, "m"), "from"),
            (body("cafe", 1, 2, ""), "message"),
            (body("cafe", 1, 2, &"m".repeat(1_001)), "message"),
        ] {
            match notify(&conn, &request, NOW) {
                Err(CheckinError::Invalid(f)) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_counter_calls_its_tickets_in_order_one_per_pace() {
        let conn = conn();
        set_pace(&conn, 10).unwrap();
        let minted = mint_venue(&conn, &request("quay", VenueKind::ServiceCounter), NOW).unwrap();
        let key = keys::active(&conn, KeyRole::VenueSigner, NOW).unwrap();
        let cti = signed_qr::decode(&VENUE_PROFILE, &minted.code, key.public_key())
            .unwrap()
            .claims
            .cti
            .unwrap();
        let ask = TicketRequest {
            agency: AGENCY_ID.into(),
            venue_id: "quay".into(),
            code_id: base64url::encode(&cti),
        };
        let first = request_ticket(&conn, "k1", &ask, NOW).unwrap();
        let second = request_ticket(&conn, "k2", &ask, NOW).unwrap();
        assert_eq!(
            (first.number.as_str(), second.number.as_str()),
            ("A001", "A002")
        );
        assert_eq!((first.position, second.position), (0, 1));
        assert_eq!(second.state, TicketState::Waiting);
        assert_eq!(second.poll_after, 10);
        // The same key, the same ticket.
        assert_eq!(request_ticket(&conn, "k2", &ask, NOW + 5).unwrap(), {
            let mut later = second.clone();
            later.position = 1;
            later
        });
        let at = |t: i64| ticket(&conn, &second.ticket_id, t).unwrap();
        assert_eq!(
            (at(NOW + 10).state, at(NOW + 10).position),
            (TicketState::Waiting, 0)
        );
        assert_eq!(at(NOW + 20).state, TicketState::Called);
        assert_eq!(at(NOW + 20).counter.as_deref(), Some("Quầy 2"));
        assert_eq!(at(NOW + 20 + 60).state, TicketState::Closed);

        let reused = TicketRequest {
            venue_id: "other".into(),
            ..ask.clone()
        };
        assert!(matches!(
            request_ticket(&conn, "k1", &reused, NOW),
            Err(CheckinError::IdempotencyKeyReused)
        ));
        mint_venue(&conn, &request("cafe", VenueKind::Venue), NOW).unwrap();
        let refusals = [
            (
                TicketRequest {
                    code_id: "!!".into(),
                    ..ask.clone()
                },
                400,
            ),
            (
                TicketRequest {
                    code_id: base64url::encode([1u8; 4]),
                    ..ask.clone()
                },
                400,
            ),
            (
                TicketRequest {
                    agency: "elsewhere".into(),
                    ..ask.clone()
                },
                404,
            ),
            (
                TicketRequest {
                    venue_id: "nowhere".into(),
                    ..ask.clone()
                },
                404,
            ),
            (
                TicketRequest {
                    venue_id: "cafe".into(),
                    ..ask.clone()
                },
                422,
            ),
            (
                TicketRequest {
                    code_id: base64url::encode([1u8; 16]),
                    ..ask.clone()
                },
                422,
            ),
        ];
        for (i, (request, status)) in refusals.into_iter().enumerate() {
            let error = request_ticket(&conn, &format!("r{i}"), &request, NOW).unwrap_err();
            assert_eq!(error.status_and_code().0.as_u16(), status, "{request:?}");
        }
        assert!(matches!(
            request_ticket(&conn, "", &ask, NOW),
            Err(CheckinError::Invalid("Idempotency-Key"))
        ));
        assert!(matches!(
            request_ticket(&conn, "late", &ask, NOW + DEFAULT_VALID_FOR_SECS),
            Err(CheckinError::CodeNotValid)
        ));
    }

    #[test]
    fn rfc3339_and_unix_times_parse() {
        assert_eq!(parse_time("1795400000"), Some(1_795_400_000));
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("2026-11-20T08:30:00Z"), Some(1_795_163_400));
        assert_eq!(parse_time("2026-11-20T15:30:00+07:00"), Some(1_795_163_400));
        assert_eq!(parse_time("2026-11-20T08:30:00.250Z"), Some(1_795_163_400));
        for bad in [
            "",
            "2026-11-20",
            "2026-11-20T25:00:00Z",
            "2026-11-20T08:30:00",
            "soon",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }
}
