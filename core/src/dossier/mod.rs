//! Dossiers: a citizen finds the administrative procedure they need, fills in a draft dossier
//! for it with attachments, files it, and follows it to its result.
//!
//! Owns: the [`Dossiers`] handle (`Citizen::dossiers()`); syncing the procedure catalogue from
//! the portal by delta ([`Dossiers::sync_catalogue`]: cursor + `ETag`, following `more`, each page
//! applied in one write transaction together with the cursor, bounded bodies); offline search
//! ([`Dossiers::search`]: folded Vietnamese, ranked, paged, filtered by agency and level); whole
//! records ([`Dossiers::procedure`]) and the agency list for filters; drafts ([`draft`]: made
//! from a stored procedure, each change one transaction), their validation ([`validate`], pure,
//! with [`pattern`] for the schema's regular expressions), pre-filling from the wallet's PID
//! ([`prefill`], only the claims the citizen approves) and attachments ([`attachment`]: streamed
//! into the store in chunks with SHA-256, type sniffed, checked against the procedure's rules).
//! Beside it: [`fold`] (pure folding of Vietnamese text), [`wire`] (the portal contract),
//! [`catalogue`] (the store queries), [`error`].
//!
//! Filed dossiers: the signed manifest ([`manifest`]), the submission outbox ([`submission`],
//! [`sender`]), resumable uploads ([`tus`]), what comes back from the portal ([`status_feed`]
//! pure, [`tracking`]), supplements ([`supplement`]), withdrawals ([`withdrawal`]) and fees
//! ([`fees`]). Does not own transport (`net`),
//! the store (`store`) nor VietQR (`vietqr`). `docs/dossiers.md` explains the design.

pub mod attachment;
pub mod catalogue;
pub mod draft;
pub mod error;
pub mod fees;
pub mod fold;
pub mod manifest;
pub mod pattern;
pub mod prefill;
pub mod sender;
pub mod status_feed;
pub mod submission;
mod submit;
pub mod supplement;
#[cfg(test)]
pub(crate) mod test_support;
pub mod tracking;
pub mod tus;
pub mod validate;
pub mod wire;
pub mod withdrawal;

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

pub use attachment::{AttachmentError, AttachmentId, AttachmentInfo};
pub use catalogue::{AgencySummary, CatalogueFilter, ProcedureSummary, SearchPage};
pub use draft::{Draft, DraftId, DraftState, DraftSummary};
pub use error::DossierError;
pub use fees::DossierFee;
pub use prefill::PrefillCandidate;
pub use sender::{DrainReport, SenderHold};
pub use status_feed::{FeeState, PaymentReceipt, PortalStatus, SupplementItem, SupplementRequest};
pub use submission::{DeliveryState, Submission, WithdrawalState};
pub use tracking::{StatusSync, TimelineEntry, TrackingStatus};
pub use validate::{FieldError, FieldErrorCode};
pub use wire::{Agency, AttachmentRule, Fee, FieldKind, FormField, Level, Procedure, SelectOption};

use crate::events::EventBus;
use crate::net::{HttpClient, HttpRequest, NetError};
use crate::outbox::RetryPolicy;
use crate::store::Store;
use crate::wallet::Wallet;
use wire::{CATALOGUE_PATH, CataloguePage, InvalidCatalogue, MAX_PAGE_BYTES, PAGE_LIMIT};

/// The most pages one sync follows; the rest waits for the next sync (which resumes from the
/// stored cursor). 7,000 procedures take 14 pages.
pub const MAX_PAGES_PER_SYNC: u32 = 200;

/// What one [`Dossiers::sync_catalogue`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatalogueSync {
    /// The portal answered `304`: nothing changed since the last complete sync.
    pub not_modified: bool,
    /// Pages fetched with a body.
    pub pages: u32,
    /// Procedures added or replaced by a newer version.
    pub updated: u32,
    /// Procedures deleted because the portal withdrew them.
    pub withdrawn: u32,
    /// Procedures stored afterwards.
    pub procedures: u64,
    /// The sync reached the end of the catalogue (`false`: it stopped at
    /// [`MAX_PAGES_PER_SYNC`]; the next sync resumes).
    pub complete: bool,
}

/// The dossier capability for one `Citizen`. Cheap to clone.
#[derive(Clone)]
pub struct Dossiers {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<Store>,
    http: HttpClient,
    events: Arc<EventBus>,
    /// Signs dossiers with the device key behind the PIN.
    wallet: Wallet,
    retry: RetryPolicy,
    /// One catalogue sync at a time, so two cannot interleave their cursors. Guards no data.
    sync_gate: tokio::sync::Mutex<()>,
    /// One status sync at a time, likewise.
    status_gate: tokio::sync::Mutex<()>,
    /// One outbox drain at a time (`sender`; held by a [`SenderHold`] too). Guards no data.
    send_gate: Arc<tokio::sync::Mutex<()>>,
    /// Wakes the background sender.
    wake: Arc<tokio::sync::Notify>,
    sender_task: std::sync::Mutex<Option<tokio::task::AbortHandle>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(task) = self
            .sender_task
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            task.abort();
        }
    }
}

impl std::fmt::Debug for Dossiers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dossiers").finish_non_exhaustive()
    }
}

impl Dossiers {
    pub(crate) fn new(
        store: Arc<Store>,
        http: HttpClient,
        events: Arc<EventBus>,
        wallet: Wallet,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                http,
                events,
                wallet,
                retry,
                sync_gate: tokio::sync::Mutex::new(()),
                status_gate: tokio::sync::Mutex::new(()),
                send_gate: Arc::new(tokio::sync::Mutex::new(())),
                wake: Arc::new(tokio::sync::Notify::new()),
                sender_task: std::sync::Mutex::new(None),
            }),
        }
    }

    /// Brings the stored catalogue up to date with the portal: asks for the changes since the
    /// stored cursor (with `If-None-Match` once a sync completed), applies each page in one
    /// transaction together with the new cursor, and follows `more`. A failure leaves every page
    /// applied before it in place and the cursor after the last of them, so the next sync
    /// resumes there; a page that is not valid is not applied at all.
    pub async fn sync_catalogue(&self) -> Result<CatalogueSync, DossierError> {
        let _one_at_a_time = self.inner.sync_gate.lock().await;
        let store = &self.inner.store;
        let (mut cursor, etag) = store.read(catalogue::sync_position).await?;
        let mut report = CatalogueSync::default();
        // The validator applies to the first request only: it names the revision the stored
        // catalogue was complete at.
        let mut validator = etag.filter(|_| cursor.is_some());
        let sent_validator = validator.is_some();
        loop {
            if report.pages >= MAX_PAGES_PER_SYNC {
                break;
            }
            let mut url = self.inner.http.portal_url(CATALOGUE_PATH)?;
            {
                let mut query = url.query_pairs_mut();
                if let Some(cursor) = &cursor {
                    query.append_pair("since", cursor);
                }
                query.append_pair("limit", &PAGE_LIMIT.to_string());
            }
            let mut request = HttpRequest::get(url);
            request.max_body_bytes = MAX_PAGE_BYTES;
            request.headers.push(("accept", "application/json".into()));
            if let Some(etag) = validator.take() {
                request.headers.push(("if-none-match", etag));
            }
            let response = self.inner.http.fetch(request).await?;
            match response.status {
                304 if report.pages == 0 && sent_validator => {
                    let now = crate::unix_now();
                    store
                        .write(move |tx| {
                            crate::store::meta::set(tx, catalogue::SYNCED_AT_KEY, &now.to_string())
                        })
                        .await?;
                    report.not_modified = true;
                    report.complete = true;
                    break;
                }
                304 => return Err(InvalidCatalogue("not_modified").into()),
                200 => {}
                status => return Err(NetError::Status { status }.into()),
            }
            let page: CataloguePage = serde_json::from_slice(&response.body)
                .map_err(|_| DossierError::InvalidCatalogue(InvalidCatalogue("json")))?;
            page.check()?;
            if page.more && cursor.as_deref() == Some(page.cursor.as_str()) {
                // `more` without progress would loop for ever.
                return Err(InvalidCatalogue("cursor").into());
            }
            let more = page.more;
            let new_cursor = page.cursor.clone();
            let etag = response.etag.filter(|_| !more);
            let now = crate::unix_now();
            let applied = store
                .write(move |tx| {
                    let applied = catalogue::apply(tx, &page.procedures)?;
                    catalogue::set_sync_position(
                        tx,
                        &page.cursor,
                        etag.as_deref(),
                        (!more).then_some(now),
                    )?;
                    Ok::<_, DossierError>(applied)
                })
                .await?;
            report.pages += 1;
            report.updated += applied.updated;
            report.withdrawn += applied.withdrawn;
            cursor = Some(new_cursor);
            if !more {
                report.complete = true;
                break;
            }
        }
        report.procedures = store.read(catalogue::count).await?;
        tracing::info!(
            pages = report.pages,
            updated = report.updated,
            withdrawn = report.withdrawn,
            not_modified = report.not_modified,
            "catalogue synced"
        );
        Ok(report)
    }

    /// Syncs the catalogue if it was synced before (what `Citizen::sync_now` calls): the first,
    /// full sync downloads every procedure and is the app's decision
    /// ([`Dossiers::sync_catalogue`]); after it, background work keeps the catalogue current.
    /// `None` when there is no catalogue to keep current.
    pub async fn refresh_catalogue(&self) -> Result<Option<CatalogueSync>, DossierError> {
        let (cursor, _) = self.inner.store.read(catalogue::sync_position).await?;
        match cursor {
            Some(_) => self.sync_catalogue().await.map(Some),
            None => Ok(None),
        }
    }

    /// Searches the stored catalogue offline: `query` in any spelling (with or without
    /// Vietnamese marks, `đ` or `d`, any case), ranked best first (see `catalogue`), narrowed by
    /// `filter`, `page` counting from 0 with `page_size` in 1..=100. An empty query lists the
    /// procedures that pass the filter by name.
    pub async fn search(
        &self,
        query: &str,
        filter: CatalogueFilter,
        page: u32,
        page_size: u32,
    ) -> Result<SearchPage, DossierError> {
        if page_size == 0 || page_size > catalogue::MAX_PAGE_SIZE {
            return Err(DossierError::InvalidArgument("page_size"));
        }
        if query.len() > 1_000 {
            return Err(DossierError::InvalidArgument("query"));
        }
        let query = query.to_owned();
        self.inner
            .store
            .read(move |conn| catalogue::search(conn, &query, &filter, page, page_size))
            .await
            .map_err(Into::into)
    }

    /// The whole record of procedure `code` (form schema, fees, attachments), if stored.
    pub async fn procedure(&self, code: &str) -> Result<Option<Procedure>, DossierError> {
        let code = code.to_owned();
        Ok(self
            .inner
            .store
            .read(move |conn| catalogue::procedure(conn, &code))
            .await?)
    }

    /// The agencies with procedures in the stored catalogue (at `level`, or all), for the search
    /// filter.
    pub async fn agencies(&self, level: Option<Level>) -> Result<Vec<AgencySummary>, DossierError> {
        Ok(self
            .inner
            .store
            .read(move |conn| catalogue::agencies(conn, level))
            .await?)
    }

    /// How many procedures are stored, and when the catalogue was last synced to its end.
    pub async fn catalogue_status(&self) -> Result<(u64, Option<i64>), DossierError> {
        Ok(self
            .inner
            .store
            .read(|conn| {
                Ok::<_, crate::store::StoreError>((
                    catalogue::count(conn)?,
                    catalogue::synced_at(conn)?,
                ))
            })
            .await?)
    }

    /// Deletes what a crash left of attachments being added (`Citizen::open` calls it once,
    /// before any add can be under way). Returns how many.
    pub async fn purge_incomplete_attachments(&self) -> Result<usize, DossierError> {
        Ok(self.inner.store.write(attachment::purge_incomplete).await?)
    }

    /// Makes an empty draft for procedure `code` of the stored catalogue; the draft keeps the
    /// procedure's record as it is now (its form is what validation checks).
    pub async fn create_draft(&self, procedure_code: &str) -> Result<Draft, DossierError> {
        let code = procedure_code.to_owned();
        let now = crate::unix_now();
        self.inner
            .store
            .write(move |tx| {
                let procedure =
                    catalogue::procedure(tx, &code)?.ok_or(DossierError::ProcedureNotFound)?;
                let id = draft::create(tx, &procedure, now)?;
                draft::get(tx, id)?.ok_or(DossierError::DraftNotFound)
            })
            .await
    }

    /// Draft `id`, if it exists.
    pub async fn draft(&self, id: DraftId) -> Result<Option<Draft>, DossierError> {
        Ok(self
            .inner
            .store
            .read(move |conn| draft::get(conn, id))
            .await?)
    }

    /// The procedure record draft `id` was made from (its form, attachment rules), if the draft
    /// exists.
    pub async fn draft_procedure(&self, id: DraftId) -> Result<Option<Procedure>, DossierError> {
        Ok(self
            .inner
            .store
            .read(move |conn| draft::procedure(conn, id))
            .await?)
    }

    /// Every draft, most recently changed first.
    pub async fn drafts(&self) -> Result<Vec<DraftSummary>, DossierError> {
        Ok(self.inner.store.read(draft::list).await?)
    }

    /// Sets field `field` of draft `id` to `value` (an empty value clears it), in one
    /// transaction. The value is not validated here ([`Dossiers::validate_draft`] does), so a
    /// half-typed value can be saved; the field must belong to the draft's procedure.
    pub async fn set_field(
        &self,
        id: DraftId,
        field: &str,
        value: &str,
    ) -> Result<Draft, DossierError> {
        self.set_fields(id, vec![(field.to_owned(), value.to_owned())])
            .await
    }

    /// [`Dossiers::set_field`] for several fields, all or none, in one transaction.
    pub async fn set_fields(
        &self,
        id: DraftId,
        values: Vec<(String, String)>,
    ) -> Result<Draft, DossierError> {
        if values.len() > wire::MAX_FIELDS {
            return Err(DossierError::InvalidArgument("values"));
        }
        let changes: Vec<(String, Option<String>)> = values
            .into_iter()
            .map(|(field, value)| (field, Some(value).filter(|v| !v.is_empty())))
            .collect();
        let now = crate::unix_now();
        self.inner
            .store
            .write(move |tx| draft::set_fields(tx, id, &changes, now))
            .await
    }

    /// Checks draft `id` against its procedure's form and attachment rules: every problem, by
    /// field (or attachment kind) and machine code; empty when it may be submitted.
    pub async fn validate_draft(&self, id: DraftId) -> Result<Vec<FieldError>, DossierError> {
        let now = crate::unix_now();
        let (draft, procedure, counts) = self
            .inner
            .store
            .read(move |conn| {
                let draft = draft::get(conn, id)?.ok_or(DossierError::DraftNotFound)?;
                let procedure = draft::procedure(conn, id)?.ok_or(DossierError::DraftNotFound)?;
                let counts = attachment::counts(conn, id)?;
                Ok::<_, DossierError>((draft, procedure, counts))
            })
            .await?;
        Ok(validate::validate(&procedure, &draft.values, &counts, now))
    }

    /// Deletes draft `id` with its attachments. `false` if there was no such draft. Refused
    /// (`DraftInFlight`) while a dossier filed from it has not reached the portal: the sender
    /// still reads its attachments. A received dossier keeps its record without the draft.
    pub async fn delete_draft(&self, id: DraftId) -> Result<bool, DossierError> {
        self.inner
            .store
            .write(move |tx| {
                if submission::unreceived_from_draft(tx, id.0)? {
                    return Err(DossierError::DraftInFlight);
                }
                submission::detach_draft(tx, id.0)?;
                Ok(draft::delete(tx, id)?)
            })
            .await
    }

    /// What the wallet's PID could fill in draft `id`: claim, field and the value the citizen
    /// is asked to approve (see [`prefill`] for the mapping). Nothing is changed.
    pub async fn prefill_candidates(
        &self,
        id: DraftId,
    ) -> Result<Vec<PrefillCandidate>, DossierError> {
        let now = crate::unix_now();
        self.inner
            .store
            .read(move |conn| prefill_offers(conn, id, now))
            .await
    }

    /// Fills draft `id` from the PID claims the citizen approved (by claim name, as
    /// [`Dossiers::prefill_candidates`] offered them), in one transaction; claims not approved
    /// are not touched. An approved claim that is not offered (any more) refuses the whole call
    /// with `ClaimNotOffered`.
    pub async fn apply_prefill(
        &self,
        id: DraftId,
        approved_claims: &[String],
    ) -> Result<Draft, DossierError> {
        let approved = approved_claims.to_vec();
        let now = crate::unix_now();
        self.inner
            .store
            .write(move |tx| {
                let offers = prefill_offers(tx, id, now)?;
                for claim in &approved {
                    if !offers.iter().any(|o| &o.claim == claim) {
                        return Err(DossierError::ClaimNotOffered(error::safe_name(claim)));
                    }
                }
                let changes: Vec<(String, Option<String>)> = offers
                    .into_iter()
                    .filter(|o| approved.contains(&o.claim))
                    .map(|o| (o.field, Some(o.value)))
                    .collect();
                draft::set_fields(tx, id, &changes, now)
            })
            .await
    }

    /// Adds the file at `path` to draft `id` as an attachment of `kind`: streamed into the
    /// store in chunks (never the whole file in memory), read on the blocking pool, its type
    /// sniffed from its first bytes and checked with its size and the count against the
    /// procedure's rule. Nothing of a refused file stays.
    pub async fn add_attachment_file(
        &self,
        draft_id: DraftId,
        kind: &str,
        path: &Path,
    ) -> Result<AttachmentInfo, DossierError> {
        let path = path.to_path_buf();
        let opened = crate::blocking::run(move || {
            let file = std::fs::File::open(&path)?;
            let metadata = file.metadata()?;
            if !metadata.is_file() {
                return Err(std::io::Error::from(std::io::ErrorKind::InvalidInput));
            }
            Ok((file, metadata.len()))
        })
        .await;
        let (file, size) = opened.map_err(io_error)?;
        self.add_attachment(draft_id, kind, Box::new(file), Some(size))
            .await
    }

    /// [`Dossiers::add_attachment_file`] for content already in memory.
    pub async fn add_attachment_bytes(
        &self,
        draft_id: DraftId,
        kind: &str,
        bytes: Vec<u8>,
    ) -> Result<AttachmentInfo, DossierError> {
        let size = bytes.len() as u64;
        self.add_attachment(
            draft_id,
            kind,
            Box::new(std::io::Cursor::new(bytes)),
            Some(size),
        )
        .await
    }

    /// Uploads `source` to the portal's tus endpoint ([`tus::UPLOADS_PATH`]) in chunks of
    /// [`tus::DEFAULT_CHUNK_SIZE`], resuming the upload stored for its key; `progress(sent,
    /// total)` reports each acknowledged chunk. See [`tus::upload`].
    pub async fn upload(
        &self,
        source: &dyn tus::UploadSource,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<tus::UploadedFile, tus::TusError> {
        self.upload_in_chunks(source, tus::DEFAULT_CHUNK_SIZE, progress)
            .await
    }

    /// [`Dossiers::upload`] with `chunk_size` bytes per `PATCH` (what one cut can cost), in
    /// [`tus::MIN_CHUNK_SIZE`]`..=`[`tus::MAX_CHUNK_SIZE`].
    pub async fn upload_in_chunks(
        &self,
        source: &dyn tus::UploadSource,
        chunk_size: usize,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<tus::UploadedFile, tus::TusError> {
        let endpoint = self
            .inner
            .http
            .portal_url(tus::UPLOADS_PATH)
            .map_err(tus::TusError::Net)?;
        tus::upload(
            &self.inner.http,
            &self.inner.store,
            source,
            &endpoint,
            chunk_size,
            progress,
        )
        .await
    }

    /// The attachments of draft `id`, oldest first.
    pub async fn attachments(&self, id: DraftId) -> Result<Vec<AttachmentInfo>, DossierError> {
        Ok(self
            .inner
            .store
            .read(move |conn| attachment::list(conn, id))
            .await?)
    }

    /// Chunk `seq` (from 0, up to `chunk_count - 1`, [`attachment::CHUNK_SIZE`] bytes but the
    /// last) of complete attachment `id`: how its content is read back (the uploader reads the
    /// same way). `AttachmentNotFound` past the end.
    pub async fn attachment_chunk(
        &self,
        id: AttachmentId,
        seq: u32,
    ) -> Result<Vec<u8>, DossierError> {
        self.inner
            .store
            .read(move |conn| attachment::read_chunk(conn, id, seq))
            .await
    }

    /// Removes attachment `id` from its draft. `false` if there was no such attachment.
    pub async fn remove_attachment(&self, id: AttachmentId) -> Result<bool, DossierError> {
        let now = crate::unix_now();
        self.inner
            .store
            .write(move |tx| attachment::delete(tx, id, now))
            .await
    }

    /// Streams `source` into the store on the blocking pool ([`stream_attachment`]).
    async fn add_attachment(
        &self,
        draft_id: DraftId,
        kind: &str,
        source: Box<dyn Read + Send>,
        declared_size: Option<u64>,
    ) -> Result<AttachmentInfo, DossierError> {
        let store = self.inner.store.clone();
        let kind = kind.to_owned();
        crate::blocking::run(move || {
            stream_attachment(&store, draft_id, &kind, source, declared_size)
        })
        .await
    }
}

/// The prefill offers for draft `id` from the wallet's usable PID.
fn prefill_offers(
    conn: &rusqlite::Connection,
    id: DraftId,
    now: i64,
) -> Result<Vec<PrefillCandidate>, DossierError> {
    let (draft, procedure) = draft::editable(conn, id)?;
    let credential = crate::wallet::credentials::usable_by_vct(conn, crate::openid4vci::PID_VCT)?
        .ok_or(DossierError::NoIdentityCredential)?;
    let claims =
        prefill::pid_claims(&credential.sd_jwt).ok_or(DossierError::NoIdentityCredential)?;
    Ok(prefill::candidates(&procedure, &claims, &draft.values, now))
}

/// Streams `source` into the store, on a thread where blocking is allowed (the blocking pool; never
/// an async worker nor the store thread): the first chunk with the checks
/// ([`attachment::begin`]), then [`attachment::CHUNKS_PER_TRANSACTION`] chunks per write, then
/// [`attachment::finish`]. Reading, hashing and waiting for the store all block this thread only.
/// (Written as plain blocking code rather than an async loop: the async state machine cost 18 KB
/// of the phone library.) On any failure the incomplete row is deleted; if the process dies
/// half-way, the row stays incomplete (invisible) until the next open purges it.
fn stream_attachment(
    store: &Store,
    draft_id: DraftId,
    kind: &str,
    source: Box<dyn Read + Send>,
    declared_size: Option<u64>,
) -> Result<AttachmentInfo, DossierError> {
    let mut reader = ChunkReader {
        source,
        hasher: ring::digest::Context::new(&ring::digest::SHA256),
        size: 0,
        eof: false,
    };
    let head = reader
        .read_chunks(1)
        .map_err(io_error)?
        .pop()
        .unwrap_or_default();
    let now = crate::unix_now();
    let kind = kind.to_owned();
    let id = store.write_blocking(move |tx| {
        attachment::begin(tx, draft_id, &kind, &head, declared_size, now)
    })?;
    let streamed = (|| {
        let max_bytes = store
            .read_blocking(move |conn| attachment::limits(conn, id))?
            .max_bytes;
        let mut seq = 1u32;
        while !reader.eof {
            let chunks = reader
                .read_chunks(attachment::CHUNKS_PER_TRANSACTION)
                .map_err(io_error)?;
            if reader.size > max_bytes {
                return Err(AttachmentError::TooLarge { max_bytes }.into());
            }
            if chunks.is_empty() {
                continue;
            }
            let first = seq;
            seq += u32::try_from(chunks.len()).unwrap_or(u32::MAX);
            store.write_blocking(move |tx| {
                let slices: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
                attachment::append(tx, id, first, &slices)
            })?;
        }
        let digest = reader.hasher.clone().finish();
        let mut sha256 = [0u8; 32];
        sha256.copy_from_slice(digest.as_ref());
        let size = reader.size;
        let now = crate::unix_now();
        store.write_blocking(move |tx| attachment::finish(tx, id, size, &sha256, seq, now))
    })();
    if streamed.is_err()
        && let Err(error) = store.write_blocking(move |tx| attachment::abort(tx, id))
    {
        tracing::warn!(%error, "a refused attachment could not be deleted; the next open will");
    }
    streamed
}

fn io_error(error: std::io::Error) -> DossierError {
    match error.kind() {
        std::io::ErrorKind::NotFound => AttachmentError::FileNotFound,
        kind => AttachmentError::Unreadable(kind),
    }
    .into()
}

/// A source read in [`attachment::CHUNK_SIZE`] chunks, hashed and counted as it is read.
struct ChunkReader {
    source: Box<dyn Read + Send>,
    hasher: ring::digest::Context,
    size: u64,
    eof: bool,
}

impl ChunkReader {
    /// Up to `count` full chunks (the last one of the source may be shorter); fewer at the end.
    fn read_chunks(&mut self, count: usize) -> std::io::Result<Vec<Vec<u8>>> {
        let mut chunks = Vec::with_capacity(count);
        while chunks.len() < count && !self.eof {
            let mut chunk = vec![0u8; attachment::CHUNK_SIZE];
            let mut filled = 0;
            while filled < chunk.len() {
                match self.source.read(&mut chunk[filled..]) {
                    Ok(0) => {
                        self.eof = true;
                        break;
                    }
                    Ok(read) => filled += read,
                    Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(error) => return Err(error),
                }
            }
            chunk.truncate(filled);
            if filled > 0 {
                self.hasher.update(&chunk);
                self.size += filled as u64;
                chunks.push(chunk);
            }
        }
        Ok(chunks)
    }
}

impl Dossiers {
    /// The upload stored for `source_key` (its offset, whether it completed), if any.
    pub async fn stored_upload(
        &self,
        source_key: &str,
    ) -> Result<Option<tus::StoredUpload>, tus::TusError> {
        tus::stored(&self.inner.store, source_key).await
    }

    /// Forgets the upload stored for `source_key`; returns whether there was one.
    pub async fn forget_upload(&self, source_key: &str) -> Result<bool, tus::TusError> {
        tus::forget(&self.inner.store, source_key).await
    }
}
