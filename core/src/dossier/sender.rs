//! The dossier sender: drains the outbox's `dossier.submit` entries to the portal, exactly once.
//!
//! Owns: one drain ([`Dossiers::send_queued`]; one at a time per `Citizen`, two dossiers in
//! flight within it, and the store is one process's alone, so one sender per phone), the
//! per-entry steps (upload each attachment by tus unless its upload already finished, then
//! `POST v1/dossiers` with `Idempotency-Key`), deciding
//! what an answer means (received, try again later, or park), and the background task that
//! drains whenever work is queued, is due again, or the app says the network is back
//! ([`Dossiers::wake_sender`]). Does not own the outbox's states (`outbox`), the submission rows
//! (`submission`), nor the upload protocol (`tus`).
//!
//! Why exactly once holds: the submission and its outbox entry are written before anything is
//! sent; the entry is deleted (marked delivered) only in the transaction that stores the portal's
//! receipt; every attempt, after any failure or a kill at any point, carries the same
//! `Idempotency-Key`, and the portal answers a repeat with the first answer instead of filing a
//! second dossier. What is sent at most twice is a request, never a dossier.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::time::Instant;

use crate::events::Event;
use crate::net::{HttpMethod, HttpRequest, NetError};
use crate::outbox::{self, Lease};

use super::attachment::{self, AttachmentId};
use super::manifest::{
    self, SUBMIT_PATH, SubmitRequest, SubmitResponse, UploadRef, WITHDRAWAL_PATH, WithdrawalBody,
};
use super::submission::{self, DeliveryState, FileToSend, OUTBOX_KIND, WithdrawalState};
use super::tus::{self, TusError};
use super::withdrawal;
use super::{DossierError, Dossiers, Inner};

/// The outbox kinds this sender delivers: dossiers (and supplements, which are dossiers to the
/// outbox) and withdrawal requests.
const SENT_KINDS: [&str; 2] = [OUTBOX_KIND, withdrawal::OUTBOX_KIND];

/// How long a sender holds an entry. Long enough for a large upload; after a crash the lease is
/// released at the next open (`outbox::release_leases`), so it never delays a restart.
const LEASE_SECS: i64 = 15 * 60;
/// Attempts a drain keeps under way at once (each its own entry, lease and idempotency key).
/// Four keep the portal busy while the phone stores answers and leases the next entries
/// (measured in docs/dossiers.md: 0.71 with two, 0.78 with four before SQLCipher's `mlock`
/// went); each may hold one upload `PATCH` buffer (1 MiB), so 4 MiB at most.
const IN_FLIGHT: usize = 4;
/// The background sender looks at the outbox at least this often even when nothing wakes it.
const IDLE_RECHECK: Duration = Duration::from_secs(15 * 60);

/// What one drain did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Dossiers the portal received.
    pub delivered: u32,
    /// Attempts that failed transiently and were scheduled again.
    pub retried: u32,
    /// Dossiers the portal refused; they wait for the citizen.
    pub parked: u32,
    /// Submissions still queued afterwards.
    pub pending: u64,
    /// When the next of them is due (Unix seconds).
    pub next_due_at: Option<i64>,
}

/// While alive, no outbox drain runs ([`Dossiers::hold_sender`]).
#[must_use = "the sender is held only while the guard lives"]
pub struct SenderHold {
    _gate: tokio::sync::OwnedMutexGuard<()>,
}

impl std::fmt::Debug for SenderHold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SenderHold").finish_non_exhaustive()
    }
}

/// How one attempt of a drain ended.
enum Attempt {
    /// Its entry's new state (`None` when it had no submission any more), and the next due
    /// entry, leased in the transaction that stored this one's outcome.
    Done {
        state: Option<DeliveryState>,
        next: Option<Job>,
    },
    /// The drain's budget ran out first; the entry was handed back.
    OutOfTime,
}

/// A leased outbox entry with what sending it needs, read in the leasing transaction: one
/// store round trip per dossier (store the last outcome, lease the next, read it) instead of
/// three.
struct Job {
    lease: Lease,
    work: Work,
}

enum Work {
    Dossier {
        dossier_id: String,
        submission_id: i64,
        manifest: String,
        files: Vec<FileToSend>,
    },
    Withdrawal(withdrawal::WithdrawalToSend),
}

/// Leases the next due entry this sender delivers and reads what sending it needs. An entry
/// whose submission or request is gone (discarded while queued) is completed on the way.
fn lease_job(tx: &rusqlite::Transaction<'_>, now: i64) -> Result<Option<Job>, DossierError> {
    while let Some(lease) = outbox::lease_next(tx, now, LEASE_SECS, Some(&SENT_KINDS))? {
        let key = String::from_utf8_lossy(&lease.payload).into_owned();
        let work = if lease.kind == withdrawal::OUTBOX_KIND {
            withdrawal::to_send(tx, &key)?.map(Work::Withdrawal)
        } else {
            let id = submission::id_of(tx, &key)?;
            match id {
                Some(id) => submission::to_send(tx, id)?.map(|(manifest, files)| Work::Dossier {
                    dossier_id: key,
                    submission_id: id,
                    manifest,
                    files,
                }),
                None => None,
            }
        };
        match work {
            Some(work) => return Ok(Some(Job { lease, work })),
            None => outbox::complete(tx, &lease, now)?,
        }
    }
    Ok(None)
}

/// What one attempt came to.
enum Outcome {
    Received(SubmitResponse),
    /// Try again after the back-off, and not before `not_before` (a `Retry-After`).
    Retry {
        code: &'static str,
        not_before: Option<i64>,
    },
    Park(String),
}

impl Dossiers {
    /// Sends every queued dossier that is due, `IN_FLIGHT` at a time (each under its own
    /// lease and idempotency key, so exactly once holds for each as before), until none is due
    /// or `time_budget` runs out. With `wait_for_retries`, a dossier that failed transiently and
    /// falls due again within the budget is waited for and sent; without, the drain ends when
    /// nothing is due now (what background work and `Citizen::sync_now` want).
    pub async fn send_queued(
        &self,
        time_budget: Duration,
        wait_for_retries: bool,
    ) -> Result<DrainReport, DossierError> {
        let deadline = Instant::now() + time_budget;
        let _one_sender = self.inner.send_gate.lock().await;
        let mut report = DrainReport::default();
        // Up to `IN_FLIGHT` attempts at once, each under its own lease: the portal works on one
        // dossier while the phone records the last answer and leases the next.
        let mut in_flight: tokio::task::JoinSet<Result<Attempt, DossierError>> =
            tokio::task::JoinSet::new();
        let mut out_of_time = false;
        loop {
            // Fill the window.
            let mut nothing_due = false;
            while !out_of_time && in_flight.len() < IN_FLIGHT {
                let now = crate::unix_now();
                let job = self
                    .inner
                    .store
                    .write_replayable(move |tx| lease_job(tx, now))
                    .await;
                let job = match job {
                    Ok(Some(job)) => job,
                    Ok(None) => {
                        nothing_due = true;
                        break;
                    }
                    Err(error) => {
                        // Attempts under way finish (their leases are theirs to settle).
                        while in_flight.join_next().await.is_some() {}
                        return Err(error);
                    }
                };
                let dossiers = self.clone();
                in_flight.spawn(async move { dossiers.attempt(job, deadline).await });
            }
            let Some(joined) = in_flight.join_next().await else {
                if out_of_time || !nothing_due {
                    break;
                }
                // Nothing in flight and nothing due now.
                let now = crate::unix_now();
                let next = self.inner.store.read(next_due).await?;
                match next {
                    Some(at) if wait_for_retries => {
                        let wait = Duration::from_secs(at.saturating_sub(now).max(0) as u64);
                        if Instant::now() + wait >= deadline {
                            break;
                        }
                        tokio::time::sleep(wait.max(Duration::from_millis(50))).await;
                        continue;
                    }
                    _ => break,
                }
            };
            match joined {
                Ok(Ok(Attempt::Done { state, next })) => {
                    match state {
                        Some(DeliveryState::Received) => report.delivered += 1,
                        Some(DeliveryState::Parked) => report.parked += 1,
                        Some(DeliveryState::Queued) => report.retried += 1,
                        None => {}
                    }
                    if let Some(job) = next {
                        // Out of time by now, its attempt hands it back at once.
                        let dossiers = self.clone();
                        in_flight.spawn(async move { dossiers.attempt(job, deadline).await });
                    }
                }
                Ok(Ok(Attempt::OutOfTime)) => out_of_time = true,
                Ok(Err(error)) => {
                    // The store failed under us; the lease expires or is released at the next
                    // open, and the entry is sent again then.
                    while in_flight.join_next().await.is_some() {}
                    return Err(error);
                }
                Err(join) => {
                    while in_flight.join_next().await.is_some() {}
                    if join.is_panic() {
                        std::panic::resume_unwind(join.into_panic());
                    }
                    // Cancelled: only when the runtime shuts down.
                    break;
                }
            }
            if Instant::now() >= deadline {
                out_of_time = true;
            }
        }
        let (pending, next_due_at) = self
            .inner
            .store
            .read(|conn| {
                let pending: i64 = conn.query_row(
                    "SELECT (SELECT count(*) FROM dossier_submissions WHERE state = 'queued')
                          + (SELECT count(*) FROM dossier_withdrawals WHERE state = 'queued')",
                    [],
                    |r| r.get(0),
                )?;
                Ok::<_, crate::store::StoreError>((pending.max(0) as u64, next_due(conn)?))
            })
            .await?;
        report.pending = pending;
        report.next_due_at = next_due_at;
        if report.delivered + report.parked + report.retried > 0 {
            tracing::info!(
                delivered = report.delivered,
                retried = report.retried,
                parked = report.parked,
                pending = report.pending,
                "dossier outbox drained"
            );
        }
        Ok(report)
    }

    /// Holds every drain off (the background sender's and [`Dossiers::send_queued`], which
    /// waits) until the returned guard is dropped; waits for a drain under way to end first.
    /// For benchmarks and tests that queue work and then time its delivery from a known start;
    /// an app has no use for it. Nothing is lost while held: queued work waits in the outbox.
    pub async fn hold_sender(&self) -> SenderHold {
        SenderHold {
            _gate: self.inner.send_gate.clone().lock_owned().await,
        }
    }

    /// Tells the background sender to look at the outbox now (the network came back, the app
    /// came to the foreground). Cheap; safe to call often.
    pub fn wake_sender(&self) {
        self.inner.wake.notify_one();
    }

    /// One attempt at `job`, ended at `deadline`: out of time mid-send, the entry is handed back
    /// so the next drain starts it at once.
    async fn attempt(&self, job: Job, deadline: Instant) -> Result<Attempt, DossierError> {
        let lease = job.lease.clone();
        match tokio::time::timeout_at(deadline, self.send_job(job, deadline)).await {
            Ok(result) => result.map(|(state, next)| Attempt::Done { state, next }),
            Err(_) => {
                let now = crate::unix_now();
                let policy = self.inner.retry;
                self.inner
                    .store
                    .write(move |tx| {
                        outbox::retry_later(tx, &lease, now, "timeout", Some(now), &policy)
                    })
                    .await
                    .ok();
                Ok(Attempt::OutOfTime)
            }
        }
    }

    /// One attempt at `job`: its entry's new state, and (before `deadline`) the next due job.
    async fn send_job(
        &self,
        job: Job,
        deadline: Instant,
    ) -> Result<(Option<DeliveryState>, Option<Job>), DossierError> {
        let Job { lease, work } = job;
        let (dossier_id, submission_id, signed_manifest, files) = match work {
            Work::Withdrawal(to_send) => {
                return self.send_withdrawal(lease, to_send, deadline).await;
            }
            Work::Dossier {
                dossier_id,
                submission_id,
                manifest,
                files,
            } => (dossier_id, submission_id, manifest, files),
        };
        let outcome = match self.upload_files(submission_id, &files).await? {
            Ok(uploads) => {
                self.post_submission(&dossier_id, signed_manifest, uploads)
                    .await
            }
            Err(outcome) => outcome,
        };
        let upload_keys = files.iter().map(StoredAttachment::key_of).collect();
        let (state, next) = self
            .finish(lease, submission_id, outcome, upload_keys, deadline)
            .await?;
        Ok((Some(state), next))
    }

    /// Uploads each file that has no finished upload yet and returns every file's location, or
    /// what the attempt comes to when an upload fails (a transient failure is retried as a whole
    /// later, and the tus offset kept in the store means only what the portal did not
    /// acknowledge is sent again).
    async fn upload_files(
        &self,
        submission_id: i64,
        files: &[FileToSend],
    ) -> Result<Result<Vec<UploadRef>, Outcome>, DossierError> {
        let total: u64 = files.iter().map(|f| f.size).sum();
        let mut done_before: u64 = files
            .iter()
            .filter(|f| f.location.is_some())
            .map(|f| f.size)
            .sum();
        let mut uploads = Vec::with_capacity(files.len());
        for file in files {
            let location = match &file.location {
                Some(location) => location.clone(),
                None => {
                    let source = StoredAttachment::new(self.inner.store.clone(), file);
                    let events = self.inner.events.clone();
                    let base = done_before;
                    let progress = move |acked: u64, _length: u64| {
                        events.emit(Event::DossierUploadProgress {
                            submission_id,
                            sent_bytes: base + acked,
                            total_bytes: total,
                        });
                    };
                    let uploaded = match self
                        .upload_in_chunks(&source, UPLOAD_CHUNK_SIZE, &progress)
                        .await
                    {
                        Ok(uploaded) => uploaded,
                        Err(error) => return self.upload_failed(&source, error).await.map(Err),
                    };
                    let position = file.position;
                    let stored = uploaded.location.clone();
                    self.inner
                        .store
                        .write(move |tx| {
                            submission::set_location(tx, submission_id, position, &stored)
                        })
                        .await?;
                    done_before += file.size;
                    uploaded.location
                }
            };
            uploads.push(UploadRef {
                sha256: file.sha256.clone(),
                location,
            });
        }
        Ok(Ok(uploads))
    }

    /// What a failed upload means for the attempt.
    async fn upload_failed(
        &self,
        source: &StoredAttachment,
        error: TusError,
    ) -> Result<Outcome, DossierError> {
        let now = crate::unix_now();
        Ok(match error {
            TusError::Transient {
                retry_after_secs, ..
            } => Outcome::Retry {
                code: "upload",
                not_before: retry_after_secs.map(|s| now + s.min(24 * 3600) as i64),
            },
            TusError::AlreadyUploading => Outcome::Retry {
                code: "upload",
                not_before: None,
            },
            TusError::Net(net) => net_outcome(&net),
            TusError::Store(store) => return Err(store.into()),
            TusError::Refused { status } => Outcome::Park(format!("upload_http_{status}")),
            TusError::Source(_) => Outcome::Park("attachment_unreadable".into()),
            other => {
                // The server broke the protocol (a foreign Location, an offset that lies): the
                // upload it holds is not trusted; a retry the citizen asks for starts afresh.
                tracing::warn!(error = %other, "an attachment upload was refused by the sender");
                tus::forget(&self.inner.store, &source.key)
                    .await
                    .map_err(|_| DossierError::Store(crate::store::StoreError::Corrupt))?;
                Outcome::Park("upload_protocol".into())
            }
        })
    }

    async fn post_submission(
        &self,
        dossier_id: &str,
        signed_manifest: String,
        uploads: Vec<UploadRef>,
    ) -> Outcome {
        let body = SubmitRequest {
            manifest: signed_manifest,
            uploads,
        };
        let request = match self
            .inner
            .http
            .portal_url(SUBMIT_PATH)
            .and_then(|url| HttpRequest::post_json(url, &body))
        {
            Ok(mut request) => {
                request
                    .headers
                    .push(("idempotency-key", dossier_id.to_owned()));
                request.headers.push(("accept", "application/json".into()));
                request.method = HttpMethod::Post;
                request
            }
            Err(error) => return net_outcome(&error),
        };
        match self.inner.http.fetch(request).await {
            Ok(response) => {
                let not_before = not_before(&response);
                match response.status {
                    200 | 201 => match serde_json::from_slice::<SubmitResponse>(&response.body)
                        .ok()
                        .filter(|answer| answer.check().is_ok())
                    {
                        Some(answer) => Outcome::Received(answer),
                        // The portal may well have it; a repeat gets the answer again.
                        None => Outcome::Retry {
                            code: "invalid_response",
                            not_before,
                        },
                    },
                    _ => refusal(&response, not_before),
                }
            }
            Err(error) => net_outcome(&error),
        }
    }

    /// One attempt at the withdrawal request under `lease`: `Received` when the portal accepted
    /// it. Before `deadline`, the next due job is leased with its outcome.
    async fn send_withdrawal(
        &self,
        lease: Lease,
        to_send: withdrawal::WithdrawalToSend,
        deadline: Instant,
    ) -> Result<(Option<DeliveryState>, Option<Job>), DossierError> {
        let request_id = String::from_utf8_lossy(&lease.payload).into_owned();
        let body = WithdrawalBody {
            request: to_send.request,
        };
        let outcome = match self
            .inner
            .http
            .portal_url(WITHDRAWAL_PATH)
            .and_then(|url| HttpRequest::post_json(url, &body))
        {
            Ok(mut request) => {
                request.headers.push(("idempotency-key", request_id));
                request.headers.push(("accept", "application/json".into()));
                match self.inner.http.fetch(request).await {
                    Ok(response) if (200..300).contains(&response.status) => Ok(()),
                    Ok(response) => Err(refusal(&response, not_before(&response))),
                    Err(error) => Err(net_outcome(&error)),
                }
            }
            Err(error) => Err(net_outcome(&error)),
        };
        let submission_id = to_send.submission_id;
        let now = crate::unix_now();
        let policy = self.inner.retry;
        let lease_next = Instant::now() < deadline;
        let (state, next) = self
            .inner
            .store
            .write_replayable(move |tx| {
                let state = match outcome {
                    Ok(()) => {
                        withdrawal::mark_sent(tx, submission_id, now)?;
                        outbox::complete(tx, &lease, now)?;
                        Some(WithdrawalState::Sent)
                    }
                    Err(Outcome::Park(reason)) => {
                        withdrawal::mark_parked(tx, submission_id, &reason)?;
                        outbox::park(tx, &lease, &reason, now)?;
                        Some(WithdrawalState::Parked { reason })
                    }
                    Err(Outcome::Retry { code, not_before }) => {
                        outbox::retry_later(tx, &lease, now, code, not_before, &policy)?;
                        None
                    }
                    // Only a dossier's answer is read as a receipt; never built here.
                    Err(Outcome::Received(_)) => None,
                };
                let next = if lease_next {
                    lease_job(tx, now)?
                } else {
                    None
                };
                Ok::<_, DossierError>((state, next))
            })
            .await?;
        let delivery = match &state {
            Some(WithdrawalState::Sent) => DeliveryState::Received,
            Some(_) => DeliveryState::Parked,
            None => DeliveryState::Queued,
        };
        if let Some(state) = state {
            self.inner.events.emit(Event::DossierWithdrawalChanged {
                submission_id,
                state,
            });
        }
        Ok((Some(delivery), next))
    }

    /// Stores what the attempt came to and announces it.
    /// Before `deadline`, the next due job is leased in the same transaction.
    async fn finish(
        &self,
        lease: Lease,
        submission_id: i64,
        outcome: Outcome,
        upload_keys: Vec<String>,
        deadline: Instant,
    ) -> Result<(DeliveryState, Option<Job>), DossierError> {
        let now = crate::unix_now();
        let policy = self.inner.retry;
        let lease_next = Instant::now() < deadline;
        let (state, next) = self
            .inner
            .store
            .write_replayable(move |tx| {
                let state = match &outcome {
                    Outcome::Received(answer) => {
                        submission::mark_received(tx, submission_id, answer, now)?;
                        outbox::complete(tx, &lease, now)?;
                        DeliveryState::Received
                    }
                    Outcome::Retry { code, not_before } => {
                        outbox::retry_later(tx, &lease, now, code, *not_before, &policy)?;
                        DeliveryState::Queued
                    }
                    Outcome::Park(reason) => {
                        submission::mark_parked(tx, submission_id, reason, now)?;
                        outbox::park(tx, &lease, reason, now)?;
                        DeliveryState::Parked
                    }
                };
                let next = if lease_next {
                    lease_job(tx, now)?
                } else {
                    None
                };
                Ok::<_, DossierError>((state, next))
            })
            .await?;
        if state == DeliveryState::Received {
            // The portal has the files; their upload records are no longer needed.
            for key in upload_keys {
                if let Err(error) = tus::forget(&self.inner.store, &key).await {
                    tracing::info!(%error, "a finished upload record was not forgotten");
                }
            }
        }
        if state != DeliveryState::Queued {
            self.inner.events.emit(Event::DossierDeliveryChanged {
                submission_id,
                state,
            });
        }
        Ok((state, next))
    }

    /// Starts the background sender: it drains at once (work left by the last session), then
    /// whenever woken or when the next queued dossier falls due. It holds only a weak reference
    /// between drains, and stops when the `Citizen` is dropped.
    pub(crate) fn start_sender(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let wake = self.inner.wake.clone();
        let task = runtime.spawn(async move {
            loop {
                let Some(inner) = weak.upgrade() else {
                    return;
                };
                let dossiers = Dossiers { inner };
                let wait = match dossiers.send_queued(Duration::from_secs(300), false).await {
                    Ok(report) => report
                        .next_due_at
                        .map(|at| Duration::from_secs((at - crate::unix_now()).max(0) as u64))
                        .unwrap_or(IDLE_RECHECK)
                        .min(IDLE_RECHECK),
                    Err(error) => {
                        tracing::warn!(%error, "the dossier sender stopped a drain");
                        Duration::from_secs(30)
                    }
                };
                drop(dossiers);
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(wait.max(Duration::from_millis(200))) => {}
                }
            }
        });
        *lock(&self.inner.sender_task) = Some(task.abort_handle());
    }

    /// Releases sends a dead process left in flight (see `outbox::release_leases`). Only at open.
    pub(crate) async fn release_abandoned_sends(&self) -> Result<(), DossierError> {
        let now = crate::unix_now();
        let released = self
            .inner
            .store
            .write(move |tx| outbox::release_leases(tx, &SENT_KINDS, now))
            .await?;
        if released > 0 {
            tracing::info!(
                released,
                "dossier sends left in flight by the last session resume"
            );
        }
        Ok(())
    }

    /// Stops the background sender (the `Citizen` is going away).
    pub(crate) fn stop_sender(&self) {
        if let Some(task) = lock(&self.inner.sender_task).take() {
            task.abort();
        }
    }
}

/// Bytes per tus `PATCH`: four stored chunks. What one cut connection can cost again.
const UPLOAD_CHUNK_SIZE: usize = 4 * attachment::CHUNK_SIZE;

/// A stored attachment as the tus uploader reads it: chunk rows from the encrypted store, never
/// more than one `PATCH` in memory.
struct StoredAttachment {
    store: Arc<crate::store::Store>,
    attachment_id: AttachmentId,
    length: u64,
    sha256: String,
    key: String,
}

impl StoredAttachment {
    fn new(store: Arc<crate::store::Store>, file: &FileToSend) -> Self {
        Self {
            store,
            attachment_id: AttachmentId(file.attachment_id),
            length: file.size,
            sha256: file.sha256.clone(),
            key: Self::key_of(file),
        }
    }

    /// The tus source key: the attachment and its digest, so a changed attachment never
    /// resumes another's upload.
    fn key_of(file: &FileToSend) -> String {
        format!("dossier-attachment:{}:{}", file.attachment_id, file.sha256)
    }
}

impl tus::UploadSource for StoredAttachment {
    fn length(&self) -> u64 {
        self.length
    }

    fn source_key(&self) -> String {
        self.key.clone()
    }

    fn metadata(&self) -> Vec<(String, String)> {
        vec![("sha256".into(), self.sha256.clone())]
    }

    fn read_at(&self, offset: u64, len: usize) -> tus::SourceRead<'_> {
        let store = self.store.clone();
        let id = self.attachment_id;
        Box::pin(async move {
            store
                .read(move |conn| read_range(conn, id, offset, len))
                .await
                .map_err(|_: DossierError| TusError::Source("attachment"))
        })
    }
}

/// `len` bytes of attachment `id` from `offset`, across chunk rows.
fn read_range(
    conn: &rusqlite::Connection,
    id: AttachmentId,
    offset: u64,
    len: usize,
) -> Result<Vec<u8>, DossierError> {
    let chunk = attachment::CHUNK_SIZE as u64;
    let mut out = Vec::with_capacity(len);
    let mut position = offset;
    while out.len() < len {
        let seq = u32::try_from(position / chunk).map_err(|_| DossierError::AttachmentNotFound)?;
        let data = attachment::read_chunk(conn, id, seq)?;
        let start = (position % chunk) as usize;
        if start >= data.len() {
            return Err(DossierError::AttachmentNotFound);
        }
        let take = (len - out.len()).min(data.len() - start);
        out.extend_from_slice(&data[start..start + take]);
        position += take as u64;
    }
    Ok(out)
}

/// When the next queued dossier falls due.
fn next_due(conn: &rusqlite::Connection) -> Result<Option<i64>, crate::store::StoreError> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row(
            "SELECT min(next_attempt_at) FROM outbox WHERE kind IN (?1, ?2) AND state = 'queued'",
            SENT_KINDS,
            |r| r.get::<_, Option<i64>>(0),
        )
        .optional()?
        .flatten())
}

/// The earliest retry time an answer's `Retry-After` sets (Unix seconds), capped at a day.
fn not_before(response: &crate::net::HttpResponse) -> Option<i64> {
    response
        .retry_after_secs(std::time::SystemTime::now())
        .map(|secs| crate::unix_now() + secs.min(24 * 3600) as i64)
}

/// What a portal's answer other than success means for an attempt: `408`, `409` (the same key
/// still being processed), `425`, `429` and `5xx` are tried again (not before `not_before`, a
/// `Retry-After`); any other status parks with the portal's error code.
fn refusal(response: &crate::net::HttpResponse, not_before: Option<i64>) -> Outcome {
    match response.status {
        408 | 409 | 425 | 429 | 500..=599 => Outcome::Retry {
            code: if response.status == 429 {
                "throttled"
            } else {
                "server"
            },
            not_before,
        },
        status => Outcome::Park(
            manifest::error_code(&response.body).unwrap_or_else(|| format!("http_{status}")),
        ),
    }
}

/// A transport failure: the request may or may not have reached the portal, so it is sent
/// again (the idempotency key makes that safe). Only a request the policy forbids can never
/// succeed without a new configuration; it parks.
fn net_outcome(error: &NetError) -> Outcome {
    match error {
        NetError::OriginNotAllowed | NetError::InvalidPath => Outcome::Park("not_allowed".into()),
        NetError::Timeout => Outcome::Retry {
            code: "timeout",
            not_before: None,
        },
        NetError::Unreachable => Outcome::Retry {
            code: "unreachable",
            not_before: None,
        },
        NetError::PinMismatch | NetError::UntrustedCertificate | NetError::Tls => Outcome::Retry {
            code: "tls",
            not_before: None,
        },
        _ => Outcome::Retry {
            code: "network",
            not_before: None,
        },
    }
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
