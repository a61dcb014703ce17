//! Dossiers: a citizen finds the administrative procedure they need and (in later increments)
//! files a dossier for it. This increment is the procedure catalogue only.
//!
//! Owns: the [`Dossiers`] handle (`Citizen::dossiers()`); syncing the procedure catalogue from
//! the portal by delta ([`Dossiers::sync_catalogue`]: cursor + `ETag`, following `more`, each page
//! applied in one write transaction together with the cursor, bounded bodies); offline search
//! ([`Dossiers::search`]: folded Vietnamese, ranked, paged, filtered by agency and level); whole
//! records ([`Dossiers::procedure`]) and the agency list for filters. Beside it: [`fold`] (pure
//! folding of Vietnamese text), [`wire`] (the portal contract), [`catalogue`] (the store
//! queries), [`error`].
//!
//! Does not own yet (issue 9, later increments): drafts and validation, attachments and tus
//! uploads (beyond the tus client in [`tus`]), the signed submission outbox, status tracking, fees. Does not own transport (`net`),
//! the store (`store`) nor VietQR (`vietqr`). `docs/dossiers.md` explains the design.

pub mod catalogue;
pub mod error;
pub mod fold;
pub mod manifest;
pub mod sender;
pub mod submission;
mod submit;
pub mod tus;
pub mod wire;

use std::sync::Arc;

pub use catalogue::{AgencySummary, CatalogueFilter, ProcedureSummary, SearchPage};
pub use error::DossierError;
pub use sender::DrainReport;
pub use submission::{DeliveryState, Submission};
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
    /// One outbox drain at a time (`sender`). Guards no data.
    send_gate: tokio::sync::Mutex<()>,
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
                send_gate: tokio::sync::Mutex::new(()),
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
