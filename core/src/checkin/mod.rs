//! QR check-ins: venue and service-counter codes verified offline, the citizen's private diary,
//! exposure notices matched on the phone, and counter queue tickets.
//!
//! Owns: the contract with the portal ([`wire`]); the venue code's typed form, verification and
//! minting ([`venue_code`], pure); notice verification and matching ([`notice`], pure); the
//! diary's tables and queries ([`diary`]); the ticket calls ([`tickets`]); and [`CheckIns`], the
//! handle an app gets from `Citizen::checkins()`, with the flows: check in (verify offline →
//! record → event; a counter then asks for a ticket), check out, list, hide, delete, export,
//! purge past the retention period, download and match notices, share chosen entries, and watch
//! a ticket until it is called. Does not own the signed-QR codec (`signed_qr`), JWS (`jose`),
//! the trust list (`trust`, `trust_list`), HTTP (`net`) nor the store's mechanics (`store`).
//!
//! Privacy: the diary lives only in the encrypted store. What leaves the phone: nothing on a
//! check-in at a venue or event; at a counter, the ticket request (agency, venue id, the code's
//! id: what the counter's own code says, and a random idempotency key); the notices download,
//! which names no one and no venue; and, only through [`CheckIns::share`], the entries the
//! citizen chose. `docs/checkins.md` has the rules and the decisions.

pub mod diary;
mod error;
pub mod notice;
pub mod tickets;
pub mod venue_code;
pub mod wire;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

pub use diary::{CheckOut, DiaryEntry, EntryCursor, EntryPage, ExposureMatch, TicketInfo};
pub use error::CheckInError;
pub use notice::{NoticeError, NoticePageError};
pub use venue_code::{VenueCode, VenueCodeError, VerifiedVenueCode};
pub use wire::{TicketState, VenueKind};

use crate::events::{Event, EventBus};
use crate::net::{HttpClient, HttpRequest, NetError};
use crate::store::{Store, StoreError};
use crate::trust::TrustCache;
use wire::{NoticesPage, ShareReceipt, ShareRequest, SharedEntry, TicketRequest};

/// The portal path of exposure notices, below `portal_base_url`.
pub const NOTICES_PATH: &str = "v1/checkins/notices";
/// The portal path of shares, below `portal_base_url`.
pub const SHARES_PATH: &str = "v1/checkins/shares";
/// The most notice pages one sync follows (`more`); the rest waits for the next sync.
pub const MAX_NOTICE_PAGES_PER_SYNC: usize = 20;
/// The retention period when the config gives none.
pub const DEFAULT_RETENTION_DAYS: u32 = 14;
/// The most entries one share may carry.
pub const MAX_SHARED_ENTRIES: usize = 500;
/// The longest wait between two ticket polls after failures (seconds).
const MAX_POLL_BACKOFF: u64 = 300;

/// What a check-in did.
#[derive(Debug)]
pub struct CheckInResult {
    pub entry: DiaryEntry,
    /// `true`: the same code's entry was still open, and it is returned instead of a new one.
    pub duplicate: bool,
    /// At a service counter: the queue ticket, or why it could not be had (offline it is
    /// `Net`, retryable with [`CheckIns::request_ticket`]; the entry is recorded either way).
    /// `None` elsewhere.
    pub ticket: Option<Result<TicketInfo, CheckInError>>,
}

/// What one notices download did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoticesSync {
    /// Pages read (a `304` reads none).
    pub pages: u32,
    /// Notices verified and stored for the first time.
    pub new_notices: u32,
    /// Notices that did not verify and were skipped.
    pub refused_notices: u32,
    /// New matches against the diary (each also an `ExposureMatched` event).
    pub new_matches: u32,
    /// `true` when more pages wait than one sync follows.
    pub more: bool,
}

/// What the check-in handle shares with `Citizen`.
pub(crate) struct CheckInContext {
    pub store: Arc<Store>,
    pub http: HttpClient,
    pub events: Arc<EventBus>,
    pub trust: Arc<TrustCache>,
    pub retention_days: u32,
    /// One notices download at a time (the cursor must advance in order). Guards no data; no
    /// event is emitted while it is held.
    notices_gate: tokio::sync::Mutex<()>,
    /// The ticket watchers running, by entry id.
    watchers: Mutex<HashMap<i64, tokio::task::AbortHandle>>,
}

impl Drop for CheckInContext {
    fn drop(&mut self) {
        self.stop_watchers();
    }
}

impl CheckInContext {
    fn stop_watchers(&self) {
        let watchers: Vec<_> = lock(&self.watchers).drain().map(|(_, h)| h).collect();
        for watcher in watchers {
            watcher.abort();
        }
    }
}

/// The check-in capability. Cheap to clone; every clone is the same diary.
#[derive(Clone)]
pub struct CheckIns {
    context: Arc<CheckInContext>,
}

impl CheckIns {
    pub(crate) fn new(
        store: Arc<Store>,
        http: HttpClient,
        events: Arc<EventBus>,
        trust: Arc<TrustCache>,
        retention_days: u32,
    ) -> Self {
        Self {
            context: Arc::new(CheckInContext {
                store,
                http,
                events,
                trust,
                retention_days,
                notices_gate: tokio::sync::Mutex::new(()),
                watchers: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Stops every ticket watcher (the `Citizen` is going away).
    pub(crate) fn stop_watchers(&self) {
        self.context.stop_watchers();
    }

    /// Verifies a scanned `CK1:` text offline against the trust list, records it in the diary
    /// and announces it (`Event::CheckedIn`). A second scan of the same code while its entry is
    /// open returns that entry (`duplicate`), unchanged. At a service counter a queue ticket is
    /// then asked for online (see [`CheckInResult::ticket`]).
    pub async fn check_in(&self, text: &str) -> Result<CheckInResult, CheckInError> {
        let now = crate::unix_now();
        let Ok(list) = self.context.trust.usable(now) else {
            // A text that is no venue code at all says so, trust list or not.
            crate::signed_qr::unwrap_text(&wire::VENUE_PROFILE, text)
                .map_err(VenueCodeError::Unreadable)?;
            return Err(CheckInError::NoTrustList);
        };
        let verified = venue_code::verify(text, &list, now)?;
        let ticket_key = crate::wallet::random_token(16).map_err(|_| StoreError::Randomness)?;
        let code = verified.code;
        let recorded = self
            .context
            .store
            .write(move |tx| diary::check_in(tx, &code, &ticket_key, now))
            .await?;
        let entry = recorded.entry;
        if recorded.new {
            tracing::info!("checked in");
            self.emit(Event::CheckedIn { entry_id: entry.id });
            for match_id in recorded.match_ids {
                self.emit(Event::ExposureMatched { match_id });
            }
        }
        let ticket = match (entry.kind, &entry.ticket) {
            (VenueKind::ServiceCounter, Some(ticket)) => Some(Ok(ticket.clone())),
            (VenueKind::ServiceCounter, None) => Some(self.request_ticket(entry.id).await),
            _ => None,
        };
        let entry = match &ticket {
            Some(Ok(_)) => self.entry(entry.id).await.unwrap_or(entry),
            _ => entry,
        };
        Ok(CheckInResult {
            entry,
            duplicate: !recorded.new,
            ticket,
        })
    }

    /// Checks out of an entry by hand now. An entry already checked out (by hand or
    /// automatically) is returned as it is, with no event.
    pub async fn check_out(&self, entry_id: i64) -> Result<DiaryEntry, CheckInError> {
        let now = crate::unix_now();
        let (entry, changed) = self
            .context
            .store
            .write(move |tx| diary::check_out(tx, entry_id, now))
            .await?
            .ok_or(CheckInError::NotFound)?;
        if changed {
            self.emit(Event::CheckedOut { entry_id });
        }
        Ok(entry)
    }

    /// One entry, with its check-out computed now.
    pub async fn entry(&self, entry_id: i64) -> Result<DiaryEntry, CheckInError> {
        let now = crate::unix_now();
        self.context
            .store
            .read(move |conn| diary::entry(conn, entry_id, now))
            .await?
            .ok_or(CheckInError::NotFound)
    }

    /// Up to `size` entries (at most [`diary::MAX_PAGE_SIZE`]), newest first, after `after`;
    /// hidden entries only when `include_hidden`.
    pub async fn entries(
        &self,
        after: Option<EntryCursor>,
        size: u32,
        include_hidden: bool,
    ) -> Result<EntryPage, CheckInError> {
        let now = crate::unix_now();
        Ok(self
            .context
            .store
            .read(move |conn| diary::page(conn, after, size, include_hidden, now))
            .await?)
    }

    /// Hides an entry from the default list (or shows it again). A hidden entry is still the
    /// citizen's: it is exported, matched against notices and purged like any other.
    pub async fn set_hidden(&self, entry_id: i64, hidden: bool) -> Result<(), CheckInError> {
        let found = self
            .context
            .store
            .write(move |tx| diary::set_hidden(tx, entry_id, hidden))
            .await?;
        found.then_some(()).ok_or(CheckInError::NotFound)
    }

    /// Deletes an entry and its exposure matches, and stops watching its ticket.
    pub async fn delete(&self, entry_id: i64) -> Result<(), CheckInError> {
        let found = self
            .context
            .store
            .write(move |tx| diary::delete(tx, entry_id))
            .await?;
        if let Some(watcher) = lock(&self.context.watchers).remove(&entry_id) {
            watcher.abort();
        }
        found.then_some(()).ok_or(CheckInError::NotFound)
    }

    /// The whole diary (hidden entries included) and the exposure matches, as JSON: the
    /// citizen's own copy. The one place diary contents leave the SDK's API in bulk.
    pub async fn export_json(&self) -> Result<String, CheckInError> {
        let now = crate::unix_now();
        Ok(self
            .context
            .store
            .read(move |conn| diary::export_json(conn, now))
            .await?)
    }

    /// The retention period in days (`CitizenConfig::checkin_retention_days`).
    pub fn retention_days(&self) -> u32 {
        self.context.retention_days
    }

    /// Deletes the entries that checked in more than the retention period before `now` (with
    /// their matches) and the notices whose window ended before then. Runs at open and at each
    /// `sync_now`; returns how many entries went.
    pub async fn purge_expired(&self, now: i64) -> Result<usize, CheckInError> {
        let cutoff = now.saturating_sub(i64::from(self.context.retention_days) * 86_400);
        let purged = self
            .context
            .store
            .write(move |tx| diary::purge_before(tx, cutoff))
            .await?;
        if purged > 0 {
            tracing::info!(purged, "expired check-ins purged");
        }
        Ok(purged)
    }

    /// [`CheckIns::purge_expired`] at the phone's clock.
    pub async fn purge_expired_now(&self) -> Result<usize, CheckInError> {
        self.purge_expired(crate::unix_now()).await
    }

    /// Every exposure match, newest first.
    pub async fn matches(&self) -> Result<Vec<ExposureMatch>, CheckInError> {
        Ok(self.context.store.read(diary::matches).await?)
    }

    /// Downloads the exposure notices published since the last download (`If-None-Match` with
    /// the last answer's ETag, `since` with its cursor, following `more` up to
    /// [`MAX_NOTICE_PAGES_PER_SYNC`] pages), verifies each against the trust list (a notice that
    /// does not verify is skipped and counted), stores them and matches them against the diary on
    /// the phone. Each new match is announced (`Event::ExposureMatched`) once the work is done.
    pub async fn sync_notices(&self) -> Result<NoticesSync, CheckInError> {
        let mut match_ids = Vec::new();
        let result = self.download_notices(&mut match_ids).await;
        // Announced after the gate is released, including the pages stored before a failure.
        for match_id in match_ids {
            self.emit(Event::ExposureMatched { match_id });
        }
        result
    }

    async fn download_notices(
        &self,
        match_ids: &mut Vec<i64>,
    ) -> Result<NoticesSync, CheckInError> {
        let context = &self.context;
        let _one_at_a_time = context.notices_gate.lock().await;
        let now = crate::unix_now();
        let list = context
            .trust
            .usable(now)
            .map_err(|_| CheckInError::NoTrustList)?;
        let (mut cursor, etag) = context.store.read(diary::notices_cursor).await?;
        let mut report = NoticesSync::default();
        for page_index in 0..MAX_NOTICE_PAGES_PER_SYNC {
            let mut url = context.http.portal_url(NOTICES_PATH)?;
            if let Some(cursor) = &cursor {
                url.query_pairs_mut().append_pair("since", cursor);
            }
            let mut request = HttpRequest::get(url);
            request.max_body_bytes = notice::MAX_PAGE_BYTES;
            // The validator belongs to the answer that ended the last download; pages that
            // follow `more` within this one are asked for without it.
            if page_index == 0
                && let Some(etag) = &etag
            {
                request.headers.push(("if-none-match", etag.clone()));
            }
            let response = context.http.fetch(request).await?;
            match response.status {
                304 if page_index == 0 && etag.is_some() => break,
                200 => {}
                status => return Err(NetError::Status { status }.into()),
            }
            let page: NoticesPage = serde_json::from_slice(&response.body)
                .map_err(|_| CheckInError::InvalidAnswer("notices page"))?;
            let (notices, refused) = notice::verify_page(&page, &list, now)?;
            report.pages += 1;
            report.refused_notices += refused as u32;
            // An empty cursor (nothing published yet) keeps the one held.
            let next_cursor = Some(page.cursor.clone())
                .filter(|c| !c.is_empty())
                .or_else(|| cursor.clone());
            let stored_cursor = next_cursor.clone().unwrap_or_default();
            // An ETag is kept only from the last page: one kept mid-way could answer `304` while
            // pages still wait.
            let stored_etag = response.etag.filter(|_| !page.more);
            let stored = context
                .store
                .write(move |tx| {
                    let stored = diary::store_notices(tx, &notices, now)?;
                    diary::set_notices_cursor(tx, &stored_cursor, stored_etag.as_deref())?;
                    Ok::<_, StoreError>(stored)
                })
                .await?;
            report.new_notices += stored.new_notices as u32;
            report.new_matches += stored.match_ids.len() as u32;
            match_ids.extend(stored.match_ids);
            cursor = next_cursor;
            report.more = page.more;
            if !page.more {
                break;
            }
        }
        Ok(report)
    }

    /// Shares the chosen entries (venue, check-in and check-out times, nothing else) with
    /// `agency`: the one call through which diary data leaves the phone. Every entry must exist
    /// and be at one of that agency's venues; an id given twice is shared once.
    pub async fn share(
        &self,
        mut entry_ids: Vec<i64>,
        agency: &str,
    ) -> Result<ShareReceipt, CheckInError> {
        entry_ids.sort_unstable();
        entry_ids.dedup();
        if entry_ids.is_empty() || entry_ids.len() > MAX_SHARED_ENTRIES {
            return Err(CheckInError::InvalidInput("entry_ids"));
        }
        if !venue_code::is_identifier(agency, venue_code::MAX_VENUE_ID_CHARS) {
            return Err(CheckInError::InvalidInput("agency"));
        }
        let now = crate::unix_now();
        let entries = self
            .context
            .store
            .read(move |conn| {
                entry_ids
                    .iter()
                    .map(|id| diary::entry(conn, *id, now))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
        let mut shared = Vec::with_capacity(entries.len());
        for entry in entries {
            let entry = entry.ok_or(CheckInError::NotFound)?;
            if entry.agency != agency {
                return Err(CheckInError::InvalidInput("entry_ids"));
            }
            shared.push(SharedEntry {
                venue_id: entry.venue_id.clone(),
                checked_in_at: entry.checked_in_at,
                checked_out_at: entry.checked_out.map(CheckOut::at),
            });
        }
        let request = ShareRequest {
            agency: agency.to_owned(),
            entries: shared,
        };
        let receipt: ShareReceipt = self.context.http.post_json(SHARES_PATH, &request).await?;
        tracing::info!(
            entries = request.entries.len(),
            "check-ins shared with an agency"
        );
        Ok(receipt)
    }

    /// Asks the counter's agency for a queue ticket for a service-counter entry (online), stores
    /// it, announces it (`Event::TicketUpdated`) and watches it until it is called or closed. An
    /// entry that has its ticket already returns it. Offline the error is `Net` and retryable:
    /// call this again.
    pub async fn request_ticket(&self, entry_id: i64) -> Result<TicketInfo, CheckInError> {
        let now = crate::unix_now();
        let target = self
            .context
            .store
            .read(move |conn| diary::ticket_target(conn, entry_id, now))
            .await?
            .ok_or(CheckInError::NotFound)?;
        if target.kind != VenueKind::ServiceCounter {
            return Err(CheckInError::NotACounter);
        }
        if let Some(ticket) = target.ticket {
            return Ok(ticket);
        }
        let entry = self.entry(entry_id).await?;
        if !entry.is_open() {
            return Err(CheckInError::CheckedOut);
        }
        let request = TicketRequest {
            agency: target.agency,
            venue_id: target.venue_id,
            code_id: crate::jose::base64url::encode(&target.code_id),
        };
        let ticket = tickets::request(&self.context.http, &request, &target.ticket_key).await?;
        let info = self.store_ticket(entry_id, ticket).await?;
        if info.state == TicketState::Waiting {
            self.watch(entry_id, info.poll_after);
        }
        Ok(info)
    }

    /// Watches again the tickets still waiting (after a restart). Best effort.
    pub(crate) async fn resume_watchers(&self) {
        let now = crate::unix_now();
        match self
            .context
            .store
            .read(move |conn| diary::waiting_tickets(conn, now))
            .await
        {
            Ok(waiting) => {
                for (entry_id, poll_after) in waiting {
                    self.watch(entry_id, poll_after);
                }
            }
            Err(error) => tracing::warn!(%error, "waiting tickets could not be read"),
        }
    }

    /// Asks the portal for the ticket's state now, stores it and announces a change. For apps
    /// that poll themselves, and for tests; the watcher started by [`CheckIns::request_ticket`]
    /// calls it too.
    pub async fn refresh_ticket(&self, entry_id: i64) -> Result<TicketInfo, CheckInError> {
        let entry = self.entry(entry_id).await?;
        let ticket = entry.ticket.ok_or(CheckInError::NotFound)?;
        if ticket.state != TicketState::Waiting {
            return Ok(ticket);
        }
        let fresh = tickets::fetch(&self.context.http, &ticket.ticket_id).await?;
        self.store_ticket(entry_id, fresh).await
    }

    async fn store_ticket(
        &self,
        entry_id: i64,
        ticket: wire::Ticket,
    ) -> Result<TicketInfo, CheckInError> {
        let now = crate::unix_now();
        let (changed, entry) = self
            .context
            .store
            .write(move |tx| {
                let changed = diary::store_ticket(tx, entry_id, &ticket, now)?;
                Ok::<_, StoreError>((changed, diary::entry(tx, entry_id, now)?))
            })
            .await?;
        let info = entry.and_then(|e| e.ticket).ok_or(CheckInError::NotFound)?;
        if changed {
            self.emit(Event::TicketUpdated {
                entry_id,
                number: info.number.clone(),
                position: info.position,
                state: info.state,
            });
        }
        Ok(info)
    }

    /// Polls the ticket every `poll_after` seconds (the portal's pace; doubling up to five
    /// minutes after a transient failure) until it is called or closed, the entry is deleted, or
    /// the `Citizen` is dropped: the task holds only a weak reference between polls.
    fn watch(&self, entry_id: i64, first_wait: u32) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let weak: Weak<CheckInContext> = Arc::downgrade(&self.context);
        let task = runtime.spawn(async move {
            let mut wait = u64::from(first_wait.max(1));
            loop {
                tokio::time::sleep(Duration::from_secs(wait)).await;
                let Some(context) = weak.upgrade() else {
                    return;
                };
                let checkins = CheckIns { context };
                let polled = checkins.refresh_ticket(entry_id).await;
                drop(checkins);
                wait = match polled {
                    Ok(ticket) if ticket.state == TicketState::Waiting => {
                        u64::from(ticket.poll_after.max(1))
                    }
                    Err(error) if error.is_retryable() => (wait * 2).min(MAX_POLL_BACKOFF),
                    Ok(_) | Err(_) => return,
                };
            }
        });
        let previous = lock(&self.context.watchers).insert(entry_id, task.abort_handle());
        if let Some(previous) = previous {
            previous.abort();
        }
    }

    fn emit(&self, event: Event) {
        self.context.events.emit(event);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests;
