//! The check-in capability's contract with the portal and the venue code's claim layout: the
//! types both sides use (the sandbox serves them from these very types), and nothing else.
//!
//! Owns: what a venue or counter code (`CK1:`) carries and how its claims are laid out in the
//! CWT; the JSON bodies of the exposure-notice, queue-ticket and share endpoints; the JWS payload
//! of an exposure notice. Does not own the signing and verifying (`signed_qr`, `jose`), the
//! diary (`checkin::diary`) nor the HTTP calls (`checkin` flows). `docs/portal-api.yaml` is the
//! written contract; `docs/checkins.md` explains it.
//!
//! ## Venue codes
//!
//! `CK1:` + Base45(zlib(COSE_Sign1(ES256, protected `kid`) over a CWT)), minted with
//! `signed_qr::encode(&VENUE_PROFILE, ..)`. The CWT's registered claims:
//!
//! | key | claim | meaning |
//! |---|---|---|
//! | 1 | `iss` | the agency id, which must be the `agency` of the venue signer owning `kid` |
//! | 4 | `exp` | end of validity (required) |
//! | 5 | `nbf` | start of validity (required) |
//! | 6 | `iat` | when the code was minted (required; the key must have been valid then) |
//! | 7 | `cti` | the code's id, 8 to 32 random bytes (required) |
//!
//! and one private claim, key [`VENUE_CLAIM`] (`-65537`, the first private-use integer key of
//! RFC 8392 §3.3), a CBOR map with text keys:
//!
//! | key | type | meaning |
//! |---|---|---|
//! | `"v"` | text, 1..=64 chars of `[A-Za-z0-9._-]` | venue id, unique within the agency |
//! | `"n"` | text, 1..=120 chars | display name |
//! | `"a"` | text, 0..=200 chars | address (may be empty) |
//! | `"k"` | unsigned: 0 venue, 1 service counter, 2 event | [`VenueKind`] |
//! | `"d"` | unsigned, 60..=86,400 | automatic check-out after this many seconds |
//!
//! Unknown keys inside the map are ignored (a newer minter may add some); a missing or mistyped
//! known key refuses the code.

use serde::{Deserialize, Serialize};

use crate::signed_qr::Profile;

/// The text form of venue and counter codes.
pub const VENUE_PROFILE: Profile = Profile::new("CK1:");
/// The private-use CWT claim key holding the venue map.
pub const VENUE_CLAIM: i64 = -65_537;

/// What kind of place a code stands at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VenueKind {
    Venue,
    /// A service counter: checking in also asks the agency for a queue ticket.
    ServiceCounter,
    Event,
}

impl VenueKind {
    /// The number a code carries under `"k"`.
    pub fn code(self) -> u8 {
        match self {
            VenueKind::Venue => 0,
            VenueKind::ServiceCounter => 1,
            VenueKind::Event => 2,
        }
    }

    pub fn from_code(code: u64) -> Option<Self> {
        match code {
            0 => Some(VenueKind::Venue),
            1 => Some(VenueKind::ServiceCounter),
            2 => Some(VenueKind::Event),
            _ => None,
        }
    }
}

/// `GET /v1/checkins/notices?since=<cursor>` (with `If-None-Match`): the exposure notices
/// published after `since` (all of the last 30 days without it). `304` when nothing changed.
/// Public: the request names no citizen and no venue, so the portal learns nothing about who
/// was where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticesPage {
    /// Compact JWS (ES256, `typ` [`NOTICE_JWS_TYP`]) each, signed by a venue signer key of the
    /// trust list; payload [`ExposureNotice`].
    pub notices: Vec<String>,
    /// Opaque; the next request's `since`.
    pub cursor: String,
    /// More notices wait past this page: ask again at once with the new cursor.
    #[serde(default)]
    pub more: bool,
}

/// The `typ` header of an exposure notice JWS.
pub const NOTICE_JWS_TYP: &str = "exposure-notice+jwt";
/// The most notices a page may hold; a longer page is refused.
pub const MAX_NOTICES_PER_PAGE: usize = 500;

/// The payload of one exposure notice: who was at `venue_id` between `from` and `until`
/// (Unix seconds) should read `message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExposureNotice {
    /// Unique per notice (the portal's id); a repeat is the same notice.
    pub id: String,
    /// Must be the `agency` of the venue signer whose key signed the notice.
    pub agency: String,
    pub venue_id: String,
    pub from: i64,
    pub until: i64,
    /// Shown to the citizen as is; at most 1,000 characters.
    pub message: String,
    pub iat: i64,
}

/// `POST /v1/checkins/tickets` with header `Idempotency-Key` (the check-in's id): asks the
/// counter's agency for a queue ticket. The same key gets the same ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRequest {
    pub agency: String,
    pub venue_id: String,
    /// The scanned code's `cti`, base64url: proves the citizen stood at the counter's code.
    pub code_id: String,
}

/// A queue ticket as the portal reports it: the answer to `POST /v1/checkins/tickets` and to
/// `GET /v1/checkins/tickets/{ticket_id}` (which the SDK polls until the ticket is called or
/// ends).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// Opaque, at most 64 characters of `[A-Za-z0-9_-]`.
    pub ticket_id: String,
    /// What the counter's screen shows, e.g. `A023`.
    pub number: String,
    /// People ahead in the queue; 0 once called.
    pub position: u32,
    pub state: TicketState,
    /// The counter to go to, once called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counter: Option<String>,
    /// Seconds the SDK should wait before asking again (the portal's pace), 1..=300.
    pub poll_after: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    Waiting,
    Called,
    /// Served, skipped or timed out: the ticket is over.
    Closed,
}

/// `POST /v1/checkins/shares`: diary entries the citizen chose to share with an agency (for
/// contact tracing), and nothing else. Made only by an explicit call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareRequest {
    /// The agency the citizen shares with; the portal refuses entries of other agencies' venues.
    pub agency: String,
    pub entries: Vec<SharedEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedEntry {
    pub venue_id: String,
    pub checked_in_at: i64,
    pub checked_out_at: Option<i64>,
}

/// The answer to a share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareReceipt {
    pub share_id: String,
    pub received: u32,
}

/// `POST /v1/test/venues` (sandbox only): mint a code, as `citizen-sandbox mint-venue` does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintVenueRequest {
    pub venue_id: String,
    pub name: String,
    #[serde(default)]
    pub address: String,
    pub kind: VenueKind,
    /// Seconds from now the code is valid for (default one year).
    #[serde(default)]
    pub valid_for: Option<i64>,
    /// Automatic check-out (default 4 hours).
    #[serde(default)]
    pub auto_checkout: Option<u32>,
}

/// The minted code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintedVenue {
    /// The `CK1:` text.
    pub code: String,
    pub agency: String,
    /// The key the code was signed with, as the agency's own tools know it: its key id and its
    /// public JWK (what `venue_code::verify_with_key` takes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer_kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer_jwk: Option<serde_json::Value>,
}

/// `POST /v1/test/notices` (sandbox only): publish a notice, as `citizen-sandbox notify` does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyRequest {
    pub venue_id: String,
    pub from: i64,
    pub until: i64,
    pub message: String,
}
