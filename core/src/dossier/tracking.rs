//! Status tracking: a received dossier's progress at the agency, brought back to the phone.
//!
//! Owns: syncing the portal's status feed ([`Dossiers::sync_statuses`]: the bearer token the
//! portal gave with this device's receipts, cursor + `ETag`, following `more`, each page applied
//! in one transaction together with its cursor), applying a change (the dossier's status, the
//! agency's reason, the open supplement request, the fee; a timeline line per change, never
//! twice), the timeline ([`Dossiers::timeline`]), the `dossier_status_sync` and
//! `dossier_timeline` tables (migration 16) and the events of each change. Does not own the
//! feed's format (`status_feed`, pure), answering a supplement request (`supplement`),
//! withdrawing (`withdrawal`), nor drawing a fee's VietQR (`fees`).
//!
//! Why apply by `seq`: a change carries the dossier's whole tracking state after it, so the
//! newest applied change of a dossier is its state; a page fetched again (a cut after the portal
//! answered, a retried sync) finds its changes' timeline lines already there and its states no
//! newer than what is stored, and changes nothing.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::events::Event;
use crate::net::{HttpRequest, NetError};
use crate::store::StoreError;

use super::status_feed::{
    CHANGES_PATH, FeeNotice, FeeState, InvalidStatusFeed, MAX_PAGE_BYTES, PortalStatus,
    StatusChange, StatusFeedPage,
};
use super::{DossierError, Dossiers};

/// The most feed pages one sync follows; the rest waits for the next sync.
pub const MAX_PAGES_PER_SYNC: u32 = 50;

/// Where a filed dossier is, as the citizen sees it: on its way to the portal, or its status
/// there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackingStatus {
    /// Waiting in the outbox; the portal does not have it yet.
    Queued,
    /// The portal refused it; it waits for the citizen (retry or discard).
    Parked,
    Received,
    Processing,
    SupplementRequested,
    ResultReady,
    Completed,
    Rejected,
    Withdrawn,
}

impl TrackingStatus {
    pub(crate) fn from_portal(status: PortalStatus) -> Self {
        match status {
            PortalStatus::Received => Self::Received,
            PortalStatus::Processing => Self::Processing,
            PortalStatus::SupplementRequested => Self::SupplementRequested,
            PortalStatus::ResultReady => Self::ResultReady,
            PortalStatus::Completed => Self::Completed,
            PortalStatus::Rejected => Self::Rejected,
            PortalStatus::Withdrawn => Self::Withdrawn,
        }
    }

    /// Nothing follows: no supplement, no withdrawal, no more changes expected.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Rejected | Self::Withdrawn)
    }
}

/// One step of a dossier's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    /// Unix seconds.
    pub at: i64,
    /// What happened: the phone's own `submitted`, `received`, `supplement_sent`,
    /// `withdrawal_requested`, or a code of the portal's feed (`processing`, `fee_paid`, ...).
    pub event: String,
    /// The status after it, when it set one this SDK knows.
    pub status: Option<TrackingStatus>,
    /// The agency's explanation, when it gave one.
    pub reason: Option<String>,
    /// Reported by the portal's feed (`false`: recorded by the phone).
    pub from_portal: bool,
}

/// What one [`Dossiers::sync_statuses`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusSync {
    /// No portal has given this phone a status token yet (no dossier was received): nothing to
    /// ask for.
    pub no_token: bool,
    /// The portal answered `304`: nothing changed since the last sync.
    pub not_modified: bool,
    pub pages: u32,
    /// Changes applied (a change already stored, or of a dossier this phone does not have, is
    /// not counted).
    pub applied: u32,
    /// The sync reached the end of the feed.
    pub complete: bool,
}

/// The stored feed position (all `None` before the first receipt).
#[derive(Default)]
struct SyncPosition {
    token: Option<String>,
    cursor: Option<String>,
    etag: Option<String>,
    last_seq: Option<u64>,
}

fn position(conn: &Connection) -> Result<SyncPosition, StoreError> {
    Ok(conn
        .query_row(
            "SELECT token, cursor, etag, last_seq FROM dossier_status_sync WHERE id = 1",
            [],
            |r| {
                Ok(SyncPosition {
                    token: r.get(0)?,
                    cursor: r.get(1)?,
                    etag: r.get(2)?,
                    last_seq: r.get::<_, Option<i64>>(3)?.map(|s| s as u64),
                })
            },
        )
        .optional()?
        .unwrap_or_default())
}

/// Keeps the status token a receipt carried (in the receipt's transaction). Another token than
/// the stored one is another feed (the portal was reset, or is another portal): its position
/// starts again from the beginning.
pub(crate) fn store_token(tx: &Transaction<'_>, token: &str) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO dossier_status_sync (id, token) VALUES (1, ?1)
         ON CONFLICT (id) DO UPDATE SET token = excluded.token,
             cursor = CASE WHEN token IS excluded.token THEN cursor END,
             etag = CASE WHEN token IS excluded.token THEN etag END,
             last_seq = CASE WHEN token IS excluded.token THEN last_seq END",
        [token],
    )?;
    Ok(())
}

/// Records one of the phone's own timeline steps.
pub(crate) fn record(
    tx: &Transaction<'_>,
    submission_id: i64,
    event: &str,
    status: Option<&str>,
    at: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO dossier_timeline (submission_id, event, status, at) VALUES (?1, ?2, ?3, ?4)",
        params![submission_id, event, status, at],
    )?;
    Ok(())
}

/// The timeline of submission `id`, oldest first.
pub(crate) fn timeline(conn: &Connection, id: i64) -> Result<Vec<TimelineEntry>, StoreError> {
    let mut statement = conn.prepare_cached(
        // Within one second, the order the phone learnt of the steps: a portal change is
        // stored when synced, before anything the citizen did in answer to it.
        "SELECT at, event, status, reason, seq FROM dossier_timeline WHERE submission_id = ?1
         ORDER BY at, id",
    )?;
    let rows = statement.query_map([id], |r| {
        Ok(TimelineEntry {
            at: r.get(0)?,
            event: r.get(1)?,
            status: r
                .get::<_, Option<String>>(2)?
                .as_deref()
                .and_then(PortalStatus::parse)
                .map(TrackingStatus::from_portal),
            reason: r.get(3)?,
            from_portal: r.get::<_, Option<i64>>(4)?.is_some(),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What applying a page changed, for the events sent after its transaction committed.
#[derive(Debug, Default)]
struct Applied {
    changes: u32,
    statuses: Vec<(i64, TrackingStatus)>,
    fees: Vec<(i64, String, FeeState)>,
}

/// Applies one page's changes and stores the new position, in the caller's transaction.
fn apply_page(
    tx: &Transaction<'_>,
    page: &StatusFeedPage,
    etag: Option<&str>,
    now: i64,
) -> Result<Applied, StoreError> {
    let mut applied = Applied::default();
    for change in &page.changes {
        apply_change(tx, change, &mut applied)?;
    }
    let last_seq = page.changes.last().map(|c| c.seq as i64);
    tx.execute(
        "INSERT INTO dossier_status_sync (id, cursor, etag, last_seq, synced_at)
             VALUES (1, ?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET cursor = excluded.cursor, etag = excluded.etag,
             last_seq = coalesce(excluded.last_seq, last_seq), synced_at = excluded.synced_at",
        params![page.cursor, etag, last_seq, now],
    )?;
    Ok(applied)
}

fn apply_change(
    tx: &Transaction<'_>,
    change: &StatusChange,
    applied: &mut Applied,
) -> Result<(), StoreError> {
    // Only dossiers (not their supplements) have a status; a dossier this phone does not have
    // (filed before a reinstall) is skipped. One the phone still has queued is applied all the
    // same: the portal has it (its receipt was lost on the way and comes with the next attempt),
    // and the cursor moves on.
    let found: Option<(i64, Option<i64>, Option<String>)> = tx
        .query_row(
            "SELECT id, status_seq, portal_status FROM dossier_submissions
             WHERE dossier_id = ?1 AND supplement_of IS NULL",
            [&change.dossier_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((id, status_seq, old_status)) = found else {
        return Ok(());
    };
    let seq = change.seq as i64;
    let inserted = tx.execute(
        "INSERT OR IGNORE INTO dossier_timeline (submission_id, seq, event, status, reason, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            id,
            seq,
            change.event,
            change.status.map(PortalStatus::as_str),
            change.reason,
            change.at
        ],
    )?;
    if inserted == 0 || status_seq.is_some_and(|stored| stored >= seq) {
        return Ok(());
    }
    applied.changes += 1;
    if let Some(status) = change.status {
        let open_request = change
            .supplement
            .as_ref()
            .and_then(|request| serde_json::to_string(request).ok());
        tx.execute(
            "UPDATE dossier_submissions SET portal_status = ?2, status_reason = ?3,
                 status_at = ?4, status_seq = ?5, open_request = ?6
             WHERE id = ?1",
            params![
                id,
                status.as_str(),
                change.reason,
                change.at,
                seq,
                open_request
            ],
        )?;
        if old_status.as_deref() != Some(status.as_str()) {
            applied
                .statuses
                .push((id, TrackingStatus::from_portal(status)));
        }
    }
    if let Some(fee) = &change.fee
        && let Some(state) = apply_fee(tx, id, fee, seq)?
    {
        applied.fees.push((id, fee.fee_id.clone(), state));
    }
    Ok(())
}

/// Stores a fee as of change `seq` unless a newer change wrote it. Returns its state when that
/// state is new (a fee asked for, or paid).
fn apply_fee(
    tx: &Transaction<'_>,
    submission_id: i64,
    fee: &FeeNotice,
    seq: i64,
) -> Result<Option<FeeState>, StoreError> {
    let stored: Option<(i64, String)> = tx
        .query_row(
            "SELECT updated_seq, state FROM dossier_fees WHERE submission_id = ?1 AND fee_id = ?2",
            params![submission_id, fee.fee_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if stored
        .as_ref()
        .is_some_and(|(updated_seq, _)| *updated_seq >= seq)
    {
        // An older snapshot.
        return Ok(None);
    }
    let payment = fee.payment.as_ref();
    tx.execute(
        "INSERT INTO dossier_fees (fee_id, submission_id, label, amount, bank_bin, account,
             payee_name, reference, state, due_at, transaction_id, paid_amount, paid_at,
             updated_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (submission_id, fee_id) DO UPDATE SET label = excluded.label, amount = excluded.amount,
             bank_bin = excluded.bank_bin, account = excluded.account,
             payee_name = excluded.payee_name, reference = excluded.reference,
             state = excluded.state, due_at = excluded.due_at,
             transaction_id = excluded.transaction_id, paid_amount = excluded.paid_amount,
             paid_at = excluded.paid_at, updated_seq = excluded.updated_seq",
        params![
            fee.fee_id,
            submission_id,
            fee.label,
            fee.amount as i64,
            fee.payee.bank_bin,
            fee.payee.account,
            fee.payee.name,
            fee.reference,
            fee.state.as_str(),
            fee.due_at,
            payment.map(|p| p.transaction_id.as_str()),
            payment.map(|p| p.amount as i64),
            payment.map(|p| p.paid_at),
            seq
        ],
    )?;
    let old_state = stored.and_then(|(_, state)| FeeState::parse(&state));
    Ok((old_state != Some(fee.state)).then_some(fee.state))
}

impl Dossiers {
    /// Brings the tracking state of this phone's dossiers up to date: asks the portal's status
    /// feed for the changes since the stored cursor (with `If-None-Match`), applies each page in
    /// one transaction with its cursor, follows `more`, then announces each new status and fee
    /// (`Event::DossierStatusChanged`, `Event::DossierFeeChanged`). Without a status token (no
    /// dossier received yet) it asks nothing. A failure keeps every page applied before it.
    pub async fn sync_statuses(&self) -> Result<StatusSync, DossierError> {
        let _one_at_a_time = self.inner.status_gate.lock().await;
        let store = &self.inner.store;
        let start = store.read(position).await?;
        let mut report = StatusSync::default();
        let Some(token) = start.token else {
            report.no_token = true;
            report.complete = true;
            return Ok(report);
        };
        let mut cursor = start.cursor;
        let mut last_seq = start.last_seq;
        let mut validator = start.etag.filter(|_| cursor.is_some());
        let sent_validator = validator.is_some();
        while report.pages < MAX_PAGES_PER_SYNC {
            let mut url = self.inner.http.portal_url(CHANGES_PATH)?;
            if let Some(cursor) = &cursor {
                url.query_pairs_mut().append_pair("since", cursor);
            }
            let mut request = HttpRequest::get(url);
            request.max_body_bytes = MAX_PAGE_BYTES;
            request.headers.push(("accept", "application/json".into()));
            request
                .headers
                .push(("authorization", format!("Bearer {token}")));
            if let Some(etag) = validator.take() {
                request.headers.push(("if-none-match", etag));
            }
            let response = self.inner.http.fetch(request).await?;
            match response.status {
                304 if report.pages == 0 && sent_validator => {
                    report.not_modified = true;
                    report.complete = true;
                    break;
                }
                304 => return Err(InvalidStatusFeed("not_modified").into()),
                200 => {}
                status => return Err(NetError::Status { status }.into()),
            }
            let page = StatusFeedPage::parse(&response.body, last_seq)?;
            if page.more && (page.changes.is_empty() || cursor.as_deref() == Some(&page.cursor)) {
                // `more` without progress would loop for ever.
                return Err(InvalidStatusFeed("cursor").into());
            }
            let more = page.more;
            let etag = response.etag.filter(|_| !more);
            let now = crate::unix_now();
            cursor = Some(page.cursor.clone());
            last_seq = page.changes.last().map(|c| c.seq).or(last_seq);
            let skipped = page.changes.iter().filter(|c| c.status.is_none()).count();
            if skipped > 0 {
                tracing::warn!(
                    skipped,
                    "status changes with a status this SDK does not know"
                );
            }
            let applied = store
                .write(move |tx| apply_page(tx, &page, etag.as_deref(), now))
                .await?;
            report.pages += 1;
            report.applied += applied.changes;
            for (submission_id, status) in applied.statuses {
                self.inner.events.emit(Event::DossierStatusChanged {
                    submission_id,
                    status,
                });
            }
            for (submission_id, fee_id, state) in applied.fees {
                self.inner.events.emit(Event::DossierFeeChanged {
                    submission_id,
                    fee_id,
                    state,
                });
            }
            if !more {
                report.complete = true;
                break;
            }
        }
        if report.applied > 0 {
            tracing::info!(
                pages = report.pages,
                applied = report.applied,
                "dossier statuses synced"
            );
        }
        Ok(report)
    }

    /// Every step of filed dossier `id` so far, oldest first: the phone's own (filed, received,
    /// a supplement sent, a withdrawal asked for) and the portal's.
    pub async fn timeline(&self, id: i64) -> Result<Vec<TimelineEntry>, DossierError> {
        Ok(self
            .inner
            .store
            .read(move |conn| timeline(conn, id))
            .await?)
    }
}

impl From<InvalidStatusFeed> for DossierError {
    fn from(error: InvalidStatusFeed) -> Self {
        DossierError::InvalidStatusFeed(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dossier::manifest::SubmitResponse;
    use crate::dossier::status_feed::SupplementItem;
    use crate::dossier::submission;
    use serde_json::json;

    const DOSSIER: &str = "AAAAAAAAAAAAAAAAAAAAAA";

    fn file(tx: &Transaction<'_>, dossier_id: &str, receive: bool) -> i64 {
        let id =
            submission::insert(tx, dossier_id, None, "1.000100", 1, "m", &[], None, 10).unwrap();
        if receive {
            let answer = SubmitResponse {
                receipt_code: "HS-2026-000001".into(),
                status: "received".into(),
                received_at: 20,
                status_token: Some("T".repeat(32)),
            };
            submission::mark_received(tx, id, &answer, 20).unwrap();
        }
        id
    }

    fn change(seq: u64, status: &str) -> serde_json::Value {
        json!({"seq": seq, "dossier_id": DOSSIER, "receipt_code": "HS-2026-000001",
               "event": status, "status": status, "at": 100 + seq})
    }

    fn page(changes: Vec<serde_json::Value>, cursor: &str) -> StatusFeedPage {
        let body = json!({"changes": changes, "cursor": cursor});
        StatusFeedPage::parse(&serde_json::to_vec(&body).unwrap(), None).unwrap()
    }

    fn fee(state: &str) -> serde_json::Value {
        let mut fee = json!({"fee_id": "FEE-1", "label": "Lệ phí", "amount": 8000,
            "payee": {"bank_bin": "970415", "account": "1234567890", "name": "KHO BAC"},
            "reference": "HS-2026-000001", "state": state});
        if state == "paid" {
            fee["payment"] = json!({"transaction_id": "FT1", "amount": 8000, "paid_at": 150});
        }
        fee
    }

    #[tokio::test]
    async fn changes_set_the_status_once_and_each_is_one_timeline_line() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::dossier::test_support::open_store(dir.path()).await;
        let mut asked = change(2, "supplement_requested");
        asked["supplement"] = json!({"request_id": "SR-1", "reason": "Thiếu giấy",
            "items": [{"kind": "attachment", "attachment_kind": "giay_chung_sinh", "label": "G"}]});
        let mut ready = change(4, "result_ready");
        ready["fee"] = fee("due");
        let first = page(vec![change(1, "processing"), asked], "2");
        let second = page(vec![change(3, "processing"), ready], "4");
        let (id, applied, again, token) = store
            .write_blocking(move |tx| {
                let id = file(tx, DOSSIER, true);
                let applied = apply_page(tx, &first, None, 1)?;
                let asked = submission::get(tx, id)?.unwrap();
                assert_eq!(asked.status, TrackingStatus::SupplementRequested);
                assert_eq!(
                    asked.supplement_request.unwrap().items[0],
                    SupplementItem::Attachment {
                        attachment_kind: "giay_chung_sinh".into(),
                        label: "G".into()
                    }
                );
                let applied_second = apply_page(tx, &second, Some("\"e4\""), 2)?;
                assert_eq!(
                    applied_second.fees,
                    vec![(id, "FEE-1".into(), FeeState::Due)]
                );
                // The same page again (a retried sync) changes nothing.
                let again = apply_page(tx, &second, Some("\"e4\""), 3)?;
                let token = position(tx)?.token;
                Ok::<_, StoreError>((id, applied, again, token))
            })
            .unwrap();
        assert_eq!(applied.changes, 2);
        assert_eq!(
            applied.statuses,
            vec![
                (id, TrackingStatus::Processing),
                (id, TrackingStatus::SupplementRequested)
            ]
        );
        assert_eq!(again.changes, 0);
        assert!(again.statuses.is_empty() && again.fees.is_empty());
        assert_eq!(token.as_deref(), Some("T".repeat(32).as_str()));
        let (now, lines, position) = store
            .read_blocking(move |conn| {
                Ok::<_, StoreError>((
                    submission::get(conn, id)?.unwrap(),
                    timeline(conn, id)?,
                    position(conn)?,
                ))
            })
            .unwrap();
        assert_eq!(now.status, TrackingStatus::ResultReady);
        assert_eq!(now.supplement_request, None);
        let events: Vec<_> = lines.iter().map(|l| l.event.as_str()).collect();
        assert_eq!(
            events,
            [
                "submitted",
                "received",
                "processing",
                "supplement_requested",
                "processing",
                "result_ready"
            ]
        );
        assert!(lines[2..].iter().all(|l| l.from_portal));
        assert_eq!(position.cursor.as_deref(), Some("4"));
        assert_eq!(position.etag.as_deref(), Some("\"e4\""));
        assert_eq!(position.last_seq, Some(4));
    }

    #[tokio::test]
    async fn an_older_fee_snapshot_never_undoes_a_payment_and_strangers_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::dossier::test_support::open_store(dir.path()).await;
        store
            .write_blocking(move |tx| {
                let id = file(tx, DOSSIER, true);
                let mut paid = change(5, "result_ready");
                paid["event"] = json!("fee_paid");
                paid["fee"] = fee("paid");
                apply_page(tx, &page(vec![paid], "5"), None, 1)?;
                // A change of seq 4 arriving late (another page) with the fee still due.
                let mut due = change(4, "result_ready");
                due["fee"] = fee("due");
                let applied = apply_page(tx, &page(vec![due], "5"), None, 2)?;
                assert!(applied.fees.is_empty());
                let fees = crate::dossier::fees::of_submission(tx, id)?;
                assert_eq!(fees[0].state, FeeState::Paid);
                assert_eq!(fees[0].payment.as_ref().unwrap().transaction_id, "FT1");
                // A dossier this phone never filed: nothing stored.
                let mut stranger = change(6, "completed");
                stranger["dossier_id"] = json!("BBBBBBBBBBBBBBBBBBBBBB");
                let applied = apply_page(tx, &page(vec![stranger], "6"), None, 3)?;
                assert_eq!(applied.changes, 0);
                let lines: i64 =
                    tx.query_row("SELECT count(*) FROM dossier_timeline", [], |r| r.get(0))?;
                assert_eq!(lines, 4, "submitted, received, the two changes");
                Ok::<_, StoreError>(())
            })
            .unwrap();
    }

    #[tokio::test]
    async fn a_status_learnt_before_the_receipt_is_kept_when_the_receipt_comes() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::dossier::test_support::open_store(dir.path()).await;
        store
            .write_blocking(move |tx| {
                let id = file(tx, DOSSIER, false);
                apply_page(tx, &page(vec![change(1, "processing")], "1"), None, 1)?;
                assert_eq!(
                    submission::get(tx, id)?.unwrap().status,
                    TrackingStatus::Queued,
                    "the phone has no receipt yet"
                );
                let answer = SubmitResponse {
                    receipt_code: "HS-2026-000001".into(),
                    status: "received".into(),
                    received_at: 20,
                    status_token: None,
                };
                submission::mark_received(tx, id, &answer, 30)?;
                assert_eq!(
                    submission::get(tx, id)?.unwrap().status,
                    TrackingStatus::Processing
                );
                Ok::<_, StoreError>(())
            })
            .unwrap();
    }
}
