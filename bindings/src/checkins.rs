//! The check-in capability's FFI surface: the [`CheckIns`] object (`citizen.checkins()`) and its
//! records.
//!
//! Owns: shape only, like the rest of the bindings. Meaning lives on the core types
//! (`citizen_core::checkin`).

use std::sync::Arc;

use citizen_core::checkin as core;

use crate::error::CitizenError;
use crate::runtime;

/// What kind of place a code stands at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum VenueKind {
    /// A shop, an office, a clinic: a place.
    Venue,
    /// A service counter: checking in also asks for a queue ticket.
    ServiceCounter,
    /// An event.
    Event,
}

impl From<core::VenueKind> for VenueKind {
    fn from(kind: core::VenueKind) -> Self {
        match kind {
            core::VenueKind::Venue => VenueKind::Venue,
            core::VenueKind::ServiceCounter => VenueKind::ServiceCounter,
            core::VenueKind::Event => VenueKind::Event,
        }
    }
}

/// Where a queue ticket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TicketState {
    /// In the queue: `position` people ahead.
    Waiting,
    /// Called: go to the counter.
    Called,
    /// Served, skipped or timed out: the ticket is over.
    Closed,
}

impl From<core::TicketState> for TicketState {
    fn from(state: core::TicketState) -> Self {
        match state {
            core::TicketState::Waiting => TicketState::Waiting,
            core::TicketState::Called => TicketState::Called,
            core::TicketState::Closed => TicketState::Closed,
        }
    }
}

/// A counter's queue ticket as last reported by the agency.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Ticket {
    /// The agency's id of the ticket.
    pub ticket_id: String,
    /// What the counter's screen shows, e.g. `A023`.
    pub number: String,
    /// People ahead in the queue; 0 once called.
    pub position: u32,
    /// Waiting, called or closed.
    pub state: TicketState,
    /// The counter to go to, once called.
    pub counter: Option<String>,
    /// Seconds between two polls, as the agency asks.
    pub poll_after: u32,
    /// When the SDK last stored it (Unix seconds).
    pub updated_at: i64,
}

impl From<core::TicketInfo> for Ticket {
    fn from(ticket: core::TicketInfo) -> Self {
        Self {
            ticket_id: ticket.ticket_id,
            number: ticket.number,
            position: ticket.position,
            state: ticket.state.into(),
            counter: ticket.counter,
            poll_after: ticket.poll_after,
            updated_at: ticket.updated_at,
        }
    }
}

/// One entry of the citizen's check-in diary.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DiaryEntry {
    /// The entry's id, for `check_out`, `set_hidden`, `delete`, `share`.
    pub id: i64,
    /// The agency whose code it was.
    pub agency: String,
    /// The venue's id within the agency.
    pub venue_id: String,
    /// The venue's name, as the code carries it.
    pub venue_name: String,
    /// The venue's address (may be empty).
    pub venue_address: String,
    /// Venue, service counter or event.
    pub kind: VenueKind,
    /// When the citizen checked in (Unix seconds).
    pub checked_in_at: i64,
    /// When the entry checks out by itself unless the citizen does it first.
    pub auto_checkout_at: i64,
    /// When the citizen checked out (by hand, or automatically); `None` while checked in.
    pub checked_out_at: Option<i64>,
    /// `true` when the check-out was the automatic one.
    pub checked_out_automatically: bool,
    /// Hidden from the default list.
    pub hidden: bool,
    /// At a service counter, the queue ticket once it arrived.
    pub ticket: Option<Ticket>,
}

impl From<core::DiaryEntry> for DiaryEntry {
    fn from(entry: core::DiaryEntry) -> Self {
        Self {
            id: entry.id,
            agency: entry.agency,
            venue_id: entry.venue_id,
            venue_name: entry.venue_name,
            venue_address: entry.venue_address,
            kind: entry.kind.into(),
            checked_in_at: entry.checked_in_at,
            auto_checkout_at: entry.auto_checkout_at,
            checked_out_at: entry.checked_out.map(core::CheckOut::at),
            checked_out_automatically: matches!(
                entry.checked_out,
                Some(core::CheckOut::Automatic { .. })
            ),
            hidden: entry.hidden,
            ticket: entry.ticket.map(Into::into),
        }
    }
}

/// Where the next page of the diary starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct EntryCursor {
    /// The `checked_in_at` of the last entry of the previous page.
    pub checked_in_at: i64,
    /// The `id` of the last entry of the previous page.
    pub id: i64,
}

/// One page of the diary, newest first.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EntryPage {
    /// The entries of this page.
    pub entries: Vec<DiaryEntry>,
    /// `None` on the last page.
    pub next: Option<EntryCursor>,
}

impl From<core::EntryPage> for EntryPage {
    fn from(page: core::EntryPage) -> Self {
        Self {
            entries: page.entries.into_iter().map(Into::into).collect(),
            next: page.next.map(|c| EntryCursor {
                checked_in_at: c.checked_in_at,
                id: c.id,
            }),
        }
    }
}

/// Why a counter's ticket could not be had at check-in (the entry is recorded anyway).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TicketError {
    /// `CitizenError.code()` of the failure, e.g. `network`.
    pub code: String,
    /// Worth calling `request_ticket` again later (offline, server trouble).
    pub retryable: bool,
    /// For developers' logs; no personal data.
    pub detail: String,
}

/// What a check-in did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CheckInResult {
    /// The diary entry (the existing one when `duplicate`).
    pub entry: DiaryEntry,
    /// The same code's entry was still open and is returned instead of a new one.
    pub duplicate: bool,
    /// At a service counter: the queue ticket, when it could be had.
    pub ticket: Option<Ticket>,
    /// At a service counter: why the ticket could not be had (retry with `request_ticket`).
    pub ticket_error: Option<TicketError>,
}

impl From<core::CheckInResult> for CheckInResult {
    fn from(result: core::CheckInResult) -> Self {
        let (ticket, ticket_error) = match result.ticket {
            None => (None, None),
            Some(Ok(ticket)) => (Some(ticket.into()), None),
            Some(Err(error)) => {
                let retryable = error.is_retryable();
                let error = CitizenError::from(error);
                let detail = error.to_string();
                (
                    None,
                    Some(TicketError {
                        code: error.code(),
                        retryable,
                        detail,
                    }),
                )
            }
        };
        Self {
            entry: result.entry.into(),
            duplicate: result.duplicate,
            ticket,
            ticket_error,
        }
    }
}

/// An exposure notice that matched a diary entry.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ExposureMatch {
    /// The match's id (as `Event.ExposureMatched` names it).
    pub id: i64,
    /// The diary entry it concerns.
    pub entry_id: i64,
    /// The notice's id.
    pub notice_id: String,
    /// The agency that published the notice.
    pub agency: String,
    /// The venue's id.
    pub venue_id: String,
    /// The venue's name, from the diary.
    pub venue_name: String,
    /// The start of the notice's window (Unix seconds). Not `from`: a keyword in Python.
    pub from_at: i64,
    /// The end of the notice's window (Unix seconds), exclusive.
    pub until_at: i64,
    /// The agency's message to show the citizen.
    pub message: String,
    /// When the SDK found the match (Unix seconds).
    pub matched_at: i64,
}

impl From<core::ExposureMatch> for ExposureMatch {
    fn from(m: core::ExposureMatch) -> Self {
        Self {
            id: m.id,
            entry_id: m.entry_id,
            notice_id: m.notice_id,
            agency: m.agency,
            venue_id: m.venue_id,
            venue_name: m.venue_name,
            from_at: m.from,
            until_at: m.until,
            message: m.message,
            matched_at: m.matched_at,
        }
    }
}

/// What one notices download did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct NoticesSync {
    /// Pages read (none when the portal said nothing changed).
    pub pages: u32,
    /// Notices verified and stored for the first time.
    pub new_notices: u32,
    /// Notices that did not verify and were skipped.
    pub refused_notices: u32,
    /// New matches against the diary.
    pub new_matches: u32,
    /// More pages wait: download again.
    pub more: bool,
}

impl From<core::NoticesSync> for NoticesSync {
    fn from(sync: core::NoticesSync) -> Self {
        Self {
            pages: sync.pages,
            new_notices: sync.new_notices,
            refused_notices: sync.refused_notices,
            new_matches: sync.new_matches,
            more: sync.more,
        }
    }
}

/// The agency's receipt for shared entries.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ShareReceipt {
    /// The agency's id of the share.
    pub share_id: String,
    /// How many entries it received.
    pub received: u32,
}

/// The citizen's check-ins: scan venue and counter codes, the private diary, exposure notices
/// and queue tickets. Get it from `citizen.checkins()`.
#[derive(uniffi::Object)]
pub struct CheckIns {
    inner: citizen_core::CheckIns,
}

impl CheckIns {
    pub(crate) fn new(inner: citizen_core::CheckIns) -> Arc<Self> {
        Arc::new(Self { inner })
    }

    /// Runs a check-in operation on the SDK runtime with its own handle.
    async fn run<T, F>(
        &self,
        operation: impl FnOnce(citizen_core::CheckIns) -> F,
    ) -> Result<T, CitizenError>
    where
        F: std::future::Future<Output = Result<T, citizen_core::CheckInError>> + Send + 'static,
        T: Send + 'static,
    {
        runtime::call(&self.inner, operation).await
    }
}

#[uniffi::export]
impl CheckIns {
    /// Verifies a scanned `CK1:` code offline, records it in the diary and announces it
    /// (`Event.CheckedIn`). Scanning the same code again while its entry is open returns that
    /// entry (`duplicate`). At a service counter a queue ticket is then asked for online.
    pub async fn check_in(&self, text: String) -> Result<CheckInResult, CitizenError> {
        Ok(self
            .run(|c| async move { c.check_in(&text).await })
            .await?
            .into())
    }

    /// Checks out of an entry now (an entry already checked out stays as it is).
    pub async fn check_out(&self, entry_id: i64) -> Result<DiaryEntry, CitizenError> {
        Ok(self
            .run(|c| async move { c.check_out(entry_id).await })
            .await?
            .into())
    }

    /// One diary entry.
    pub async fn entry(&self, entry_id: i64) -> Result<DiaryEntry, CitizenError> {
        Ok(self
            .run(|c| async move { c.entry(entry_id).await })
            .await?
            .into())
    }

    /// Up to `size` entries (at most 200), newest first, after `after`; hidden ones only when
    /// `include_hidden`.
    pub async fn entries(
        &self,
        after: Option<EntryCursor>,
        size: u32,
        include_hidden: bool,
    ) -> Result<EntryPage, CitizenError> {
        let after = after.map(|c| core::EntryCursor {
            checked_in_at: c.checked_in_at,
            id: c.id,
        });
        Ok(self
            .run(|c| async move { c.entries(after, size, include_hidden).await })
            .await?
            .into())
    }

    /// Hides an entry from the default list, or shows it again.
    pub async fn set_hidden(&self, entry_id: i64, hidden: bool) -> Result<(), CitizenError> {
        self.run(|c| async move { c.set_hidden(entry_id, hidden).await })
            .await
    }

    /// Deletes an entry and its exposure matches.
    pub async fn delete(&self, entry_id: i64) -> Result<(), CitizenError> {
        self.run(|c| async move { c.delete(entry_id).await }).await
    }

    /// The whole diary and the exposure matches as JSON, for the citizen to keep.
    pub async fn export_json(&self) -> Result<String, CitizenError> {
        self.run(|c| async move { c.export_json().await }).await
    }

    /// Purges the entries older than the retention period now; returns how many went. The SDK
    /// also does this at open and at each `sync_now`.
    pub async fn purge_expired(&self) -> Result<u64, CitizenError> {
        Ok(self
            .run(|c| async move { c.purge_expired_now().await })
            .await? as u64)
    }

    /// The retention period in days.
    pub fn retention_days(&self) -> u32 {
        self.inner.retention_days()
    }

    /// Downloads new exposure notices, verifies them and matches them against the diary on the
    /// phone (`Event.ExposureMatched` per new match). `sync_now` does this too.
    pub async fn sync_notices(&self) -> Result<NoticesSync, CitizenError> {
        Ok(self
            .run(|c| async move { c.sync_notices().await })
            .await?
            .into())
    }

    /// Every exposure match, newest first.
    pub async fn matches(&self) -> Result<Vec<ExposureMatch>, CitizenError> {
        Ok(self
            .run(|c| async move { c.matches().await })
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Shares the chosen entries (venue, check-in and check-out times) with `agency`: the only
    /// way diary data leaves the phone. Every entry must be at one of that agency's venues.
    pub async fn share(
        &self,
        entry_ids: Vec<i64>,
        agency: String,
    ) -> Result<ShareReceipt, CitizenError> {
        let receipt = self
            .run(|c| async move { c.share(entry_ids, &agency).await })
            .await?;
        Ok(ShareReceipt {
            share_id: receipt.share_id,
            received: receipt.received,
        })
    }

    /// Asks for a service-counter entry's queue ticket (again, after a `Network` failure),
    /// and watches it until it is called (`Event.TicketUpdated`).
    pub async fn request_ticket(&self, entry_id: i64) -> Result<Ticket, CitizenError> {
        Ok(self
            .run(|c| async move { c.request_ticket(entry_id).await })
            .await?
            .into())
    }

    /// Asks the agency for the ticket's state now (the SDK also polls by itself).
    pub async fn refresh_ticket(&self, entry_id: i64) -> Result<Ticket, CitizenError> {
        Ok(self
            .run(|c| async move { c.refresh_ticket(entry_id).await })
            .await?
            .into())
    }
}

/// What a venue or service-counter code (`CK1:`) says, once verified.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VenueCodeDetails {
    /// The agency that minted the code (its `iss`).
    pub agency: String,
    /// The venue's id within the agency.
    pub venue_id: String,
    /// The venue's display name.
    pub name: String,
    /// The venue's address (may be empty).
    pub address: String,
    /// Venue, service counter or event.
    pub kind: VenueKind,
    /// How long after a check-in the SDK checks the citizen out by itself (seconds).
    pub auto_checkout_secs: u32,
    /// When the code was minted (Unix seconds).
    pub issued_at: i64,
    /// The first second the code is valid (Unix seconds).
    pub not_before: i64,
    /// The first second the code is no longer valid (Unix seconds).
    pub expires_at: i64,
    /// The code's own id (`cti`), base64url: codes minted again for the same venue differ here.
    pub code_id: String,
}

impl From<core::VenueCode> for VenueCodeDetails {
    fn from(code: core::VenueCode) -> Self {
        Self {
            code_id: code.code_id_b64(),
            agency: code.agency,
            venue_id: code.venue_id,
            name: code.name,
            address: code.address,
            kind: code.kind.into(),
            auto_checkout_secs: code.auto_checkout_secs,
            issued_at: code.issued_at,
            not_before: code.not_before,
            expires_at: code.expires_at,
        }
    }
}

/// Verifies a venue or service-counter code (`CK1:`) with the venue-signing key given (a P-256
/// public JWK, JSON) instead of the trust list, at `now` (Unix seconds; 300 s of clock skew):
/// for agency tools checking the codes they print with their own key. The signature, every
/// claim bound and the validity period are checked; that the key speaks for the code's agency is
/// the caller's to know, since the caller chose the key (citizens' check-ins use the trust list:
/// `CheckIns.checkIn`). Refusals are `Untrusted` with the same codes as a check-in
/// (`venue_bad_signature`, `venue_code_expired`, ...), or `InvalidInput` for an unreadable text
/// or key. Pure: no network, no store.
#[uniffi::export]
pub fn verify_venue_code_with_key(
    text: String,
    signer_jwk: String,
    now: i64,
) -> Result<VenueCodeDetails, CitizenError> {
    let key = citizen_core::jose::EcPublicJwk::from_json(signer_jwk.as_bytes()).map_err(|e| {
        CitizenError::InvalidInput {
            field: "signer_jwk".into(),
            code: "invalid_jwk".into(),
            detail: e.to_string(),
        }
    })?;
    core::venue_code::verify_with_key(&text, &key, now)
        .map(Into::into)
        .map_err(|error| core::CheckInError::Code(error).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use citizen_core::jose::SoftwareSigner;

    #[test]
    fn an_agency_tool_verifies_its_code_with_its_own_key() {
        let signer = SoftwareSigner::generate().unwrap();
        let now = 1_800_000_000;
        let code = core::VenueCode {
            agency: "health-dept".into(),
            venue_id: "counter-3".into(),
            name: "Quầy 3".into(),
            address: String::new(),
            kind: core::VenueKind::ServiceCounter,
            auto_checkout_secs: 1_800,
            not_before: now - 60,
            expires_at: now + 86_400,
            issued_at: now - 60,
            code_id: vec![9; 16],
        };
        let text = core::venue_code::mint(&code, "venue-health-1", &signer).unwrap();
        let jwk = signer.public_key().to_value().to_string();
        let details = verify_venue_code_with_key(text.clone(), jwk.clone(), now).unwrap();
        assert_eq!(details, VenueCodeDetails::from(code));
        assert_eq!(details.kind, VenueKind::ServiceCounter);

        let other = SoftwareSigner::generate()
            .unwrap()
            .public_key()
            .to_value()
            .to_string();
        match verify_venue_code_with_key(text.clone(), other, now) {
            Err(CitizenError::Untrusted { code, .. }) => assert_eq!(code, "venue_bad_signature"),
            other => panic!("{other:?}"),
        }
        match verify_venue_code_with_key(text.clone(), jwk.clone(), now + 2 * 86_400) {
            Err(CitizenError::Untrusted { code, .. }) => assert_eq!(code, "venue_code_expired"),
            other => panic!("{other:?}"),
        }
        match verify_venue_code_with_key(text, "{\"kty\":\"RSA\"}".into(), now) {
            Err(CitizenError::InvalidInput { field, code, .. }) => {
                assert_eq!(
                    (field.as_str(), code.as_str()),
                    ("signer_jwk", "invalid_jwk")
                )
            }
            other => panic!("{other:?}"),
        }
        match verify_venue_code_with_key("CK1:%%".into(), jwk, now) {
            Err(CitizenError::InvalidInput { code, .. }) => assert_eq!(code, "unreadable"),
            other => panic!("{other:?}"),
        }
    }
}
