//! Resumable attachment uploads with the tus 1.0.0 core protocol and its `creation` extension
//! (<https://tus.io/protocols/resumable-upload>), so an agency can run an off-the-shelf tus
//! server.
//!
//! Owns: [`upload`] (create an upload, or resume the stored one after asking the server its
//! offset with `HEAD`, then send one chunk per `PATCH`), the `tus_uploads` table that remembers
//! each upload's URL and the last offset the server acknowledged (so a killed process resumes),
//! the checks on what the server says (its `Location` stays on the endpoint's origin, its
//! `Upload-Offset` never exceeds the length nor falls below what it acknowledged), and
//! [`TusError`]. Does not own where the bytes come from ([`UploadSource`]: the encrypted
//! attachment storage implements it), retries and backoff (a transient failure is returned typed,
//! with the server's `Retry-After`; the submission outbox decides when to call again), nor
//! transport (`net`).
//!
//! A cut loses at most the one chunk in flight: the stored offset moves after each acknowledged
//! `PATCH`, and a resumed upload starts from the server's `Upload-Offset`, which is at or after
//! it (servers such as tusd keep the part of a cut `PATCH` they read).
//!
//! Nothing here logs or returns a URL, a file name or a byte of content.

use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use url::Url;

use crate::net::{HttpClient, HttpMethod, HttpRequest, HttpResponse, NetError, Origin};
use crate::store::{Store, StoreError};

/// The tus protocol version this client speaks.
pub const TUS_VERSION: &str = "1.0.0";
/// The portal's tus creation endpoint, below its base URL.
pub const UPLOADS_PATH: &str = "v1/uploads";
/// The chunk one `PATCH` carries unless the caller chooses: what a cut can cost.
pub const DEFAULT_CHUNK_SIZE: usize = 1024 * 1024;
/// The smallest and largest chunk a caller may choose.
pub const MIN_CHUNK_SIZE: usize = 1024;
pub const MAX_CHUNK_SIZE: usize = 16 * 1024 * 1024;
/// The largest upload this client makes.
pub const MAX_UPLOAD_LENGTH: u64 = 1024 * 1024 * 1024;
/// The longest source key.
pub const MAX_SOURCE_KEY_LEN: usize = 256;
/// The largest `Upload-Metadata` header (keys and base64 values).
pub const MAX_METADATA_LEN: usize = 4 * 1024;
/// The longest `Location` accepted from a server.
pub const MAX_LOCATION_LEN: usize = 2 * 1024;
/// The body read from any tus answer (they are empty or tiny).
const MAX_ANSWER_BYTES: usize = 16 * 1024;
/// How many times one call re-reads the server's offset after a `409` without progress.
const MAX_CONFLICTS: u32 = 3;

/// A future reading part of an [`UploadSource`].
pub type SourceRead<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, TusError>> + Send + 'a>>;

/// Where the bytes of an upload come from. The attachment storage implements it over its
/// encrypted chunk rows (reading them with `Store::read`); [`MemorySource`] serves tests.
pub trait UploadSource: Send + Sync {
    /// The number of bytes to upload; constant for a given [`source_key`](Self::source_key).
    fn length(&self) -> u64;
    /// A stable key naming these exact bytes (e.g. the attachment's id and its SHA-256 in hex):
    /// an upload stored under it is resumed only for the same key and length. ASCII, at most
    /// [`MAX_SOURCE_KEY_LEN`] bytes. Not sent to the server.
    fn source_key(&self) -> String;
    /// The `Upload-Metadata` pairs to send at creation (e.g. `kind`, `media_type`, `sha256`).
    /// Never a file name or other personal data. Keys are ASCII without spaces or commas.
    fn metadata(&self) -> Vec<(String, String)>;
    /// Exactly `len` bytes starting at `offset` (the caller keeps `offset + len <= length()`).
    fn read_at(&self, offset: u64, len: usize) -> SourceRead<'_>;
}

/// An upload source held in memory, for tests and small payloads.
#[derive(Debug, Clone)]
pub struct MemorySource {
    key: String,
    bytes: std::sync::Arc<Vec<u8>>,
    metadata: Vec<(String, String)>,
}

impl MemorySource {
    /// A source whose key is `key_prefix` followed by the bytes' SHA-256 in hex, with the
    /// metadata `sha256` (hex) and `media_type`.
    pub fn new(key_prefix: &str, media_type: &str, bytes: Vec<u8>) -> Self {
        let digest = hex(&crate::jose::sha256(&bytes));
        Self {
            key: format!("{key_prefix}{digest}"),
            metadata: vec![
                ("media_type".into(), media_type.into()),
                ("sha256".into(), digest),
            ],
            bytes: std::sync::Arc::new(bytes),
        }
    }

    /// The SHA-256 of the bytes in lower-case hex.
    pub fn sha256_hex(&self) -> String {
        hex(&crate::jose::sha256(&self.bytes))
    }
}

impl UploadSource for MemorySource {
    fn length(&self) -> u64 {
        self.bytes.len() as u64
    }
    fn source_key(&self) -> String {
        self.key.clone()
    }
    fn metadata(&self) -> Vec<(String, String)> {
        self.metadata.clone()
    }
    fn read_at(&self, offset: u64, len: usize) -> SourceRead<'_> {
        Box::pin(async move {
            let start = usize::try_from(offset).map_err(|_| TusError::Source("offset"))?;
            let end = start.checked_add(len).ok_or(TusError::Source("offset"))?;
            self.bytes
                .get(start..end)
                .map(<[u8]>::to_vec)
                .ok_or(TusError::Source("offset"))
        })
    }
}

/// A finished upload: the server's URL for it, and its length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedFile {
    /// The absolute upload URL (on the endpoint's origin).
    pub location: String,
    pub length: u64,
    /// Where this call started sending: 0 for a new upload, the server's offset for a resumed
    /// one, `length` when the stored upload was already complete.
    pub resumed_from: u64,
    /// Bytes this call sent in `PATCH` bodies (including a chunk a `409` made void).
    pub bytes_sent: u64,
}

/// Why an upload did not finish. Carries no URL, no file name and no content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TusError {
    /// Worth trying again later: the network failed (`status` is `None`), or the server answered
    /// `5xx` or `429`. `retry_after_secs` is the server's `Retry-After`, if it sent one. The
    /// stored offset is kept, so the next call resumes.
    #[error("the upload failed for now (HTTP status {status:?}); try again later")]
    Transient {
        status: Option<u16>,
        retry_after_secs: Option<u64>,
    },
    /// A transport failure a retry does not fix (a pin mismatch, an origin outside the policy).
    #[error(transparent)]
    Net(NetError),
    /// The server refused the upload with a client error (`413` too large, `412` another
    /// protocol version, `403`, ...).
    #[error("the server refused the upload with HTTP status {status}")]
    Refused { status: u16 },
    /// The server's `Location` is on another origin than the endpoint (or not https): refused,
    /// so no byte of the attachment goes there.
    #[error("the server named an upload URL on another origin")]
    ForeignLocation,
    /// The server broke the protocol; names what (`location`, `offset`, `upload_length`,
    /// `status`, `no_progress`, ...).
    #[error("the server broke the tus protocol: {0}")]
    Protocol(&'static str),
    /// The server's `Upload-Offset` is beyond the upload's length (or beyond what was sent).
    #[error("the server reported an offset beyond the upload's length")]
    OffsetBeyondLength,
    /// The server's `Upload-Offset` is below an offset it had already acknowledged: it lost
    /// data. The stored upload is kept; `forget` it to start over.
    #[error("the server reported an offset below one it had acknowledged")]
    OffsetWentBackwards,
    /// The caller's arguments or the source break a limit; names which.
    #[error("invalid upload argument: {0}")]
    InvalidArgument(&'static str),
    /// The source could not produce its bytes; names why.
    #[error("the upload source could not be read: {0}")]
    Source(&'static str),
    /// Another call is uploading the same source to the same store right now.
    #[error("this source is already being uploaded")]
    AlreadyUploading,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TusError {
    /// Worth calling [`upload`] again later (the stored offset is kept).
    pub fn is_transient(&self) -> bool {
        matches!(self, TusError::Transient { .. })
    }

    /// The server's `Retry-After` in seconds, for a transient failure that had one.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            TusError::Transient {
                retry_after_secs, ..
            } => *retry_after_secs,
            _ => None,
        }
    }
}

impl From<NetError> for TusError {
    fn from(error: NetError) -> Self {
        match error {
            NetError::Status { status } => status_error(status, None),
            error if error.is_transient() => TusError::Transient {
                status: None,
                retry_after_secs: None,
            },
            error => TusError::Net(error),
        }
    }
}

impl From<rusqlite::Error> for TusError {
    fn from(error: rusqlite::Error) -> Self {
        TusError::Store(error.into())
    }
}

/// The error for an answer with an unexpected `status`.
fn status_error(status: u16, retry_after_secs: Option<u64>) -> TusError {
    if status >= 500 || status == 429 {
        TusError::Transient {
            status: Some(status),
            retry_after_secs,
        }
    } else if (400..500).contains(&status) {
        TusError::Refused { status }
    } else {
        TusError::Protocol("status")
    }
}

fn unexpected(response: &HttpResponse) -> TusError {
    status_error(
        response.status,
        response.retry_after_secs(SystemTime::now()),
    )
}

/// An upload remembered in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUpload {
    pub source_key: String,
    pub endpoint: String,
    pub upload_url: String,
    pub length: u64,
    pub acked_offset: u64,
    pub completed: bool,
}

/// The sources being uploaded in this process, by store directory and source key: two calls for
/// the same source would fight over its offset.
static IN_FLIGHT: std::sync::Mutex<Vec<(std::path::PathBuf, String)>> =
    std::sync::Mutex::new(Vec::new());

/// Marks a source as being uploaded until dropped.
struct InFlight((std::path::PathBuf, String));

impl InFlight {
    fn claim(store: &Store, key: &str) -> Result<Self, TusError> {
        let entry = (store.paths().dir.clone(), key.to_owned());
        let mut in_flight = IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner());
        if in_flight.contains(&entry) {
            return Err(TusError::AlreadyUploading);
        }
        in_flight.push(entry.clone());
        Ok(Self(entry))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut in_flight = IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner());
        in_flight.retain(|entry| *entry != self.0);
    }
}

/// Uploads `source` to the tus creation endpoint `endpoint` in `PATCH`es of `chunk_size` bytes,
/// resuming the upload stored for the source's key when there is one (same endpoint and length),
/// and calls `progress(acknowledged, length)` when it knows the server's offset and after each
/// acknowledged chunk. Returns once the server acknowledged every byte; the stored row is then
/// marked complete (a later call returns the same upload after checking it with `HEAD`) until
/// [`forget`] removes it.
///
/// One upload of a given source (per store) at a time: a second concurrent call returns
/// [`TusError::AlreadyUploading`] at once.
pub async fn upload(
    http: &HttpClient,
    store: &Store,
    source: &dyn UploadSource,
    endpoint: &Url,
    chunk_size: usize,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> Result<UploadedFile, TusError> {
    let length = source.length();
    let key = source.source_key();
    check_arguments(&key, length, chunk_size, endpoint)?;
    let metadata = encode_metadata(&source.metadata())?;
    if Origin::of(endpoint).is_none() {
        return Err(TusError::InvalidArgument("endpoint"));
    }
    let _in_flight = InFlight::claim(store, &key)?;

    let stored = {
        let key = key.clone();
        store.read(move |conn| load(conn, &key)).await?
    };
    let resumable = stored.filter(|row| row.endpoint == endpoint.as_str() && row.length == length);
    let mut restarted = false;
    let (mut url, mut acked) = match resumable {
        Some(row) => {
            let url = Url::parse(&row.upload_url).map_err(|_| TusError::Protocol("location"))?;
            match head_offset(http, &url, length).await? {
                Some(offset) => {
                    check_resume_offset(offset, row.acked_offset, length)?;
                    (url, offset)
                }
                None => {
                    // 404 / 410: the server no longer has it (expired, or finished and cleaned
                    // up); start a new upload.
                    tracing::info!("stored upload is gone from the server; starting a new one");
                    restarted = true;
                    (
                        create(http, store, &key, endpoint, length, &metadata).await?,
                        0,
                    )
                }
            }
        }
        None => (
            create(http, store, &key, endpoint, length, &metadata).await?,
            0,
        ),
    };
    let resumed_from = acked;
    save_offset(store, &key, &url, acked, length).await?;
    progress(acked, length);

    let mut bytes_sent = 0u64;
    let mut conflicts = 0u32;
    while acked < length {
        let len = chunk_len(acked, length, chunk_size);
        let chunk = source.read_at(acked, len).await?;
        if chunk.len() != len {
            return Err(TusError::Source("short_read"));
        }
        let mut request = HttpRequest::get(url.clone());
        request.method = HttpMethod::Patch;
        request.max_body_bytes = MAX_ANSWER_BYTES;
        request.headers = vec![
            ("tus-resumable", TUS_VERSION.into()),
            ("upload-offset", acked.to_string()),
        ];
        request.body = Some(("application/offset+octet-stream", chunk));
        bytes_sent += len as u64;
        let response = http.fetch(request).await?;
        match response.status {
            200..=299 => {
                let offset = parse_offset(response.header("upload-offset"))?;
                check_patch_offset(offset, acked, len as u64, length)?;
                acked = offset;
                conflicts = 0;
                save_offset(store, &key, &url, acked, length).await?;
                progress(acked, length);
            }
            409 => {
                // The server's offset is not ours: ask it and continue from there.
                conflicts += 1;
                if conflicts > MAX_CONFLICTS {
                    return Err(TusError::Protocol("no_progress"));
                }
                match head_offset(http, &url, length).await? {
                    Some(offset) => {
                        check_resume_offset(offset, acked, length)?;
                        acked = offset;
                        save_offset(store, &key, &url, acked, length).await?;
                        progress(acked, length);
                    }
                    None => return Err(TusError::Protocol("upload_gone")),
                }
            }
            404 | 410 if !restarted => {
                tracing::info!("upload is gone from the server; starting a new one");
                restarted = true;
                url = create(http, store, &key, endpoint, length, &metadata).await?;
                acked = 0;
                progress(acked, length);
            }
            _ => return Err(unexpected(&response)),
        }
    }

    let done_key = key.clone();
    store
        .write(move |tx| mark_complete(tx, &done_key, crate::unix_now()))
        .await?;
    tracing::debug!(length, resumed_from, bytes_sent, "upload complete");
    Ok(UploadedFile {
        location: url.to_string(),
        length,
        resumed_from,
        bytes_sent,
    })
}

/// Forgets the upload stored for `source_key` (after the portal accepted what referenced it, or
/// to start over after [`TusError::OffsetWentBackwards`]). Returns whether there was one. The
/// server's copy is left to expire.
pub async fn forget(store: &Store, source_key: &str) -> Result<bool, TusError> {
    let key = source_key.to_owned();
    store.write(move |tx| delete(tx, &key)).await
}

/// The upload stored for `source_key`, if any.
pub async fn stored(store: &Store, source_key: &str) -> Result<Option<StoredUpload>, TusError> {
    let key = source_key.to_owned();
    store.read(move |conn| load(conn, &key)).await
}

fn check_arguments(
    key: &str,
    length: u64,
    chunk_size: usize,
    endpoint: &Url,
) -> Result<(), TusError> {
    if key.is_empty()
        || key.len() > MAX_SOURCE_KEY_LEN
        || !key.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(TusError::InvalidArgument("source_key"));
    }
    if length > MAX_UPLOAD_LENGTH {
        return Err(TusError::InvalidArgument("length"));
    }
    if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
        return Err(TusError::InvalidArgument("chunk_size"));
    }
    if endpoint.as_str().len() > MAX_LOCATION_LEN {
        return Err(TusError::InvalidArgument("endpoint"));
    }
    Ok(())
}

fn chunk_len(offset: u64, length: u64, chunk_size: usize) -> usize {
    // Bounded by `chunk_size`, so it fits a usize.
    (length - offset).min(chunk_size as u64) as usize
}

/// `POST`s the creation request and stores the new upload at offset 0; returns its URL.
async fn create(
    http: &HttpClient,
    store: &Store,
    key: &str,
    endpoint: &Url,
    length: u64,
    metadata: &str,
) -> Result<Url, TusError> {
    let mut request = HttpRequest::get(endpoint.clone());
    request.method = HttpMethod::Post;
    request.max_body_bytes = MAX_ANSWER_BYTES;
    request.headers = vec![
        ("tus-resumable", TUS_VERSION.into()),
        ("upload-length", length.to_string()),
    ];
    if !metadata.is_empty() {
        request
            .headers
            .push(("upload-metadata", metadata.to_owned()));
    }
    let response = http.fetch(request).await?;
    if response.status != 201 {
        return Err(unexpected(&response));
    }
    let location = response
        .header("location")
        .ok_or(TusError::Protocol("location"))?;
    let url = resolve_location(endpoint, location)?;
    let (key, endpoint_text, url_text) = (key.to_owned(), endpoint.to_string(), url.to_string());
    let now = crate::unix_now();
    store
        .write(move |tx| insert(tx, &key, &endpoint_text, &url_text, length, now))
        .await?;
    Ok(url)
}

/// Asks the server the upload's offset: `Some(offset)`, or `None` when the upload is gone
/// (`404`, `410`).
async fn head_offset(http: &HttpClient, url: &Url, length: u64) -> Result<Option<u64>, TusError> {
    let mut request = HttpRequest::get(url.clone());
    request.method = HttpMethod::Head;
    request.max_body_bytes = MAX_ANSWER_BYTES;
    request.headers = vec![("tus-resumable", TUS_VERSION.into())];
    let response = http.fetch(request).await?;
    match response.status {
        200..=299 => {
            if let Some(server_length) = response.header("upload-length")
                && parse_offset(Some(server_length))? != length
            {
                return Err(TusError::Protocol("upload_length"));
            }
            Ok(Some(parse_offset(response.header("upload-offset"))?))
        }
        404 | 410 => Ok(None),
        _ => Err(unexpected(&response)),
    }
}

async fn save_offset(
    store: &Store,
    key: &str,
    url: &Url,
    offset: u64,
    length: u64,
) -> Result<(), TusError> {
    debug_assert!(offset <= length);
    let (key, url) = (key.to_owned(), url.to_string());
    store
        .write(move |tx| set_offset(tx, &key, &url, offset, crate::unix_now()))
        .await
}

// --- decisions (pure) ---------------------------------------------------------------------

/// Parses an `Upload-Offset` / `Upload-Length` value: decimal digits only, no sign, at most 19.
pub(crate) fn parse_offset(value: Option<&str>) -> Result<u64, TusError> {
    let value = value.ok_or(TusError::Protocol("offset"))?.trim();
    if value.is_empty() || value.len() > 19 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TusError::Protocol("offset"));
    }
    value.parse().map_err(|_| TusError::Protocol("offset"))
}

/// The offset a `PATCH` of `sent` bytes at `acked` may be answered with: more than `acked`
/// (progress; a server may take fewer bytes than sent), at most `acked + sent`, never beyond
/// `length`.
pub(crate) fn check_patch_offset(
    offset: u64,
    acked: u64,
    sent: u64,
    length: u64,
) -> Result<(), TusError> {
    if offset > length {
        return Err(TusError::OffsetBeyondLength);
    }
    if offset < acked {
        return Err(TusError::OffsetWentBackwards);
    }
    if offset > acked + sent {
        return Err(TusError::OffsetBeyondLength);
    }
    if offset == acked {
        return Err(TusError::Protocol("no_progress"));
    }
    Ok(())
}

/// The offset a `HEAD` may report for an upload whose last acknowledged offset is `acked`: at or
/// after it (the server may have kept part of a cut `PATCH`), never beyond `length`.
pub(crate) fn check_resume_offset(offset: u64, acked: u64, length: u64) -> Result<(), TusError> {
    if offset > length {
        return Err(TusError::OffsetBeyondLength);
    }
    if offset < acked {
        return Err(TusError::OffsetWentBackwards);
    }
    Ok(())
}

/// Resolves a creation answer's `Location` against the endpoint and keeps it only on the
/// endpoint's origin (https), without credentials or fragment.
pub(crate) fn resolve_location(endpoint: &Url, location: &str) -> Result<Url, TusError> {
    if location.is_empty()
        || location.len() > MAX_LOCATION_LEN
        || location.chars().any(char::is_control)
        || location.contains('\\')
    {
        return Err(TusError::Protocol("location"));
    }
    let url = endpoint
        .join(location)
        .map_err(|_| TusError::Protocol("location"))?;
    let same_origin = match (Origin::of(&url), Origin::of(endpoint)) {
        (Some(found), Some(expected)) => found == expected,
        _ => false,
    };
    if !same_origin {
        return Err(TusError::ForeignLocation);
    }
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err(TusError::Protocol("location"));
    }
    Ok(url)
}

/// The `Upload-Metadata` value: `key base64(value)` pairs joined by commas.
pub(crate) fn encode_metadata(pairs: &[(String, String)]) -> Result<String, TusError> {
    let mut out = String::new();
    for (key, value) in pairs {
        let key_ok = !key.is_empty()
            && key.len() <= 64
            && key
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b',' && b != b' ');
        if !key_ok {
            return Err(TusError::InvalidArgument("metadata_key"));
        }
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(key);
        if !value.is_empty() {
            out.push(' ');
            out.push_str(&STANDARD.encode(value.as_bytes()));
        }
        if out.len() > MAX_METADATA_LEN {
            return Err(TusError::InvalidArgument("metadata"));
        }
    }
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// --- the table ------------------------------------------------------------------------------

fn load(conn: &Connection, key: &str) -> Result<Option<StoredUpload>, TusError> {
    let row = conn
        .query_row(
            "SELECT endpoint, upload_url, length, acked_offset, completed_at
             FROM tus_uploads WHERE source_key = ?1",
            [key],
            |r| {
                Ok(StoredUpload {
                    source_key: key.to_owned(),
                    endpoint: r.get(0)?,
                    upload_url: r.get(1)?,
                    length: r.get::<_, i64>(2)? as u64,
                    acked_offset: r.get::<_, i64>(3)? as u64,
                    completed: r.get::<_, Option<i64>>(4)?.is_some(),
                })
            },
        )
        .optional()?;
    Ok(row)
}

fn insert(
    tx: &Transaction<'_>,
    key: &str,
    endpoint: &str,
    url: &str,
    length: u64,
    now: i64,
) -> Result<(), TusError> {
    tx.execute(
        "INSERT INTO tus_uploads
             (source_key, endpoint, upload_url, length, acked_offset, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 0, ?5, ?5)
         ON CONFLICT (source_key) DO UPDATE SET
             endpoint = excluded.endpoint, upload_url = excluded.upload_url,
             length = excluded.length, acked_offset = 0, created_at = excluded.created_at,
             updated_at = excluded.updated_at, completed_at = NULL",
        params![key, endpoint, url, length as i64, now],
    )?;
    Ok(())
}

fn set_offset(
    tx: &Transaction<'_>,
    key: &str,
    url: &str,
    offset: u64,
    now: i64,
) -> Result<(), TusError> {
    tx.execute(
        "UPDATE tus_uploads SET acked_offset = ?3, updated_at = ?4
         WHERE source_key = ?1 AND upload_url = ?2",
        params![key, url, offset as i64, now],
    )?;
    Ok(())
}

fn mark_complete(tx: &Transaction<'_>, key: &str, now: i64) -> Result<(), TusError> {
    tx.execute(
        "UPDATE tus_uploads SET completed_at = ?2, updated_at = ?2 WHERE source_key = ?1",
        params![key, now],
    )?;
    Ok(())
}

fn delete(tx: &Transaction<'_>, key: &str) -> Result<bool, TusError> {
    Ok(tx.execute("DELETE FROM tus_uploads WHERE source_key = ?1", [key])? > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> Url {
        Url::parse("https://portal.example:8443/api/v1/uploads").unwrap()
    }

    #[test]
    fn locations_stay_on_the_endpoint_origin() {
        let e = endpoint();
        assert_eq!(
            resolve_location(&e, "/api/v1/uploads/abc")
                .unwrap()
                .as_str(),
            "https://portal.example:8443/api/v1/uploads/abc"
        );
        assert_eq!(
            resolve_location(&e, "uploads/abc").unwrap().as_str(),
            "https://portal.example:8443/api/v1/uploads/abc"
        );
        assert_eq!(
            resolve_location(&e, "https://portal.example:8443/x")
                .unwrap()
                .as_str(),
            "https://portal.example:8443/x"
        );
        for foreign in [
            "https://evil.example/api/v1/uploads/abc",
            "//evil.example/x",
            "https://portal.example/x",
            "http://portal.example:8443/x",
            "https://portal.example.evil.example:8443/x",
            "javascript:alert(1)",
            "data:text/plain,x",
        ] {
            assert!(
                matches!(
                    resolve_location(&e, foreign),
                    Err(TusError::ForeignLocation)
                ),
                "{foreign}"
            );
        }
        for broken in [
            "",
            "https://user:pw@portal.example:8443/x",
            "/x#frag",
            "/x\r\nSet-Cookie: a",
            "\\\\evil.example\\x",
        ] {
            assert!(
                matches!(resolve_location(&e, broken), Err(TusError::Protocol(_))),
                "{broken:?}"
            );
        }
        let long = format!("/{}", "a".repeat(MAX_LOCATION_LEN));
        assert!(resolve_location(&e, &long).is_err());
    }

    #[test]
    fn offsets_are_plain_decimals() {
        assert_eq!(parse_offset(Some("0")).unwrap(), 0);
        assert_eq!(parse_offset(Some("5242880")).unwrap(), 5_242_880);
        for bad in [
            None,
            Some(""),
            Some("+5"),
            Some("-1"),
            Some("1e3"),
            Some("0x10"),
            Some("99999999999999999999"),
        ] {
            assert!(parse_offset(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn patch_answers_must_make_progress_within_what_was_sent() {
        assert!(check_patch_offset(200, 100, 100, 1000).is_ok());
        assert!(check_patch_offset(150, 100, 100, 1000).is_ok());
        assert!(matches!(
            check_patch_offset(201, 100, 100, 1000),
            Err(TusError::OffsetBeyondLength)
        ));
        assert!(matches!(
            check_patch_offset(1001, 900, 200, 1000),
            Err(TusError::OffsetBeyondLength)
        ));
        assert!(matches!(
            check_patch_offset(50, 100, 100, 1000),
            Err(TusError::OffsetWentBackwards)
        ));
        assert!(matches!(
            check_patch_offset(100, 100, 100, 1000),
            Err(TusError::Protocol("no_progress"))
        ));
    }

    #[test]
    fn resumed_offsets_never_go_back_nor_past_the_length() {
        assert!(check_resume_offset(100, 100, 1000).is_ok());
        assert!(check_resume_offset(150, 100, 1000).is_ok());
        assert!(check_resume_offset(1000, 0, 1000).is_ok());
        assert!(matches!(
            check_resume_offset(99, 100, 1000),
            Err(TusError::OffsetWentBackwards)
        ));
        assert!(matches!(
            check_resume_offset(1001, 100, 1000),
            Err(TusError::OffsetBeyondLength)
        ));
    }

    #[test]
    fn metadata_is_base64_pairs_and_bounded() {
        let pairs = vec![
            ("media_type".to_string(), "image/jpeg".to_string()),
            ("empty".to_string(), String::new()),
            ("sha256".to_string(), "ab".to_string()),
        ];
        assert_eq!(
            encode_metadata(&pairs).unwrap(),
            "media_type aW1hZ2UvanBlZw==,empty,sha256 YWI="
        );
        for key in ["", "a b", "a,b", "é"] {
            assert!(
                encode_metadata(&[(key.into(), "v".into())]).is_err(),
                "{key}"
            );
        }
        let big = vec![("k".to_string(), "v".repeat(MAX_METADATA_LEN))];
        assert!(matches!(
            encode_metadata(&big),
            Err(TusError::InvalidArgument("metadata"))
        ));
    }

    #[test]
    fn statuses_map_to_transient_refused_or_protocol() {
        assert!(status_error(503, Some(7)).is_transient());
        assert_eq!(status_error(429, Some(7)).retry_after_secs(), Some(7));
        assert!(matches!(
            status_error(413, None),
            TusError::Refused { status: 413 }
        ));
        assert!(matches!(
            status_error(412, None),
            TusError::Refused { status: 412 }
        ));
        assert!(matches!(status_error(302, None), TusError::Protocol(_)));
        assert!(TusError::from(NetError::Unreachable).is_transient());
        assert!(TusError::from(NetError::Timeout).is_transient());
        assert!(TusError::from(NetError::Status { status: 502 }).is_transient());
        assert!(matches!(
            TusError::from(NetError::PinMismatch),
            TusError::Net(NetError::PinMismatch)
        ));
    }

    #[test]
    fn arguments_are_bounded() {
        let e = endpoint();
        assert!(check_arguments("k", 10, DEFAULT_CHUNK_SIZE, &e).is_ok());
        assert!(check_arguments("", 10, DEFAULT_CHUNK_SIZE, &e).is_err());
        assert!(check_arguments("a b", 10, DEFAULT_CHUNK_SIZE, &e).is_err());
        assert!(check_arguments(&"k".repeat(257), 10, DEFAULT_CHUNK_SIZE, &e).is_err());
        assert!(check_arguments("k", MAX_UPLOAD_LENGTH + 1, DEFAULT_CHUNK_SIZE, &e).is_err());
        assert!(check_arguments("k", 10, 10, &e).is_err());
        assert!(check_arguments("k", 10, MAX_CHUNK_SIZE + 1, &e).is_err());
        assert_eq!(chunk_len(0, 10, 4096), 10);
        assert_eq!(chunk_len(4096, 10_000, 4096), 4096);
        assert_eq!(chunk_len(8192, 10_000, 4096), 1808);
    }

    /// The sender spawns uploads on the runtime: the future must be `Send` (checked at compile
    /// time; never called).
    #[allow(dead_code)]
    fn the_upload_future_is_send(
        http: &HttpClient,
        store: &Store,
        source: &MemorySource,
        dossiers: &crate::dossier::Dossiers,
    ) {
        fn send<T: Send>(_: T) {}
        send(upload(
            http,
            store,
            source,
            &endpoint(),
            DEFAULT_CHUNK_SIZE,
            &|_, _| {},
        ));
        send(dossiers.upload(source, &|_, _| {}));
    }

    #[tokio::test]
    async fn memory_source_reads_exact_ranges() {
        let source = MemorySource::new("att-1:", "image/png", (0..=255).collect());
        assert_eq!(source.length(), 256);
        assert!(source.source_key().starts_with("att-1:"));
        assert_eq!(source.source_key().len(), "att-1:".len() + 64);
        assert_eq!(
            source.read_at(250, 6).await.unwrap(),
            vec![250, 251, 252, 253, 254, 255]
        );
        assert!(source.read_at(250, 7).await.is_err());
    }

    #[test]
    fn one_upload_per_source_and_store_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_blocking(
            dir.path(),
            std::sync::Arc::new(crate::platform::SoftwareSealer::in_dir(dir.path())),
        )
        .unwrap();
        let first = InFlight::claim(&store, "k").unwrap();
        assert!(matches!(
            InFlight::claim(&store, "k"),
            Err(TusError::AlreadyUploading)
        ));
        let other = InFlight::claim(&store, "other").unwrap();
        drop(first);
        let again = InFlight::claim(&store, "k").unwrap();
        drop((other, again));
    }

    #[test]
    fn the_table_keeps_one_row_per_source() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_blocking(
            dir.path(),
            std::sync::Arc::new(crate::platform::SoftwareSealer::in_dir(dir.path())),
        )
        .unwrap();
        store
            .write_blocking(|tx| insert(tx, "k", "https://p/e", "https://p/e/1", 100, 1))
            .unwrap();
        store
            .write_blocking(|tx| set_offset(tx, "k", "https://p/e/1", 40, 2))
            .unwrap();
        // An offset for another URL of the same key changes nothing.
        store
            .write_blocking(|tx| set_offset(tx, "k", "https://p/e/old", 90, 3))
            .unwrap();
        let row = store.read_blocking(|c| load(c, "k")).unwrap().unwrap();
        assert_eq!((row.acked_offset, row.completed), (40, false));
        // A new upload for the key replaces the row and starts at 0.
        store
            .write_blocking(|tx| insert(tx, "k", "https://p/e", "https://p/e/2", 100, 4))
            .unwrap();
        store
            .write_blocking(|tx| mark_complete(tx, "k", 5))
            .unwrap();
        let row = store.read_blocking(|c| load(c, "k")).unwrap().unwrap();
        assert_eq!(row.upload_url, "https://p/e/2");
        assert_eq!((row.acked_offset, row.completed), (0, true));
        // An offset beyond the length is refused by the table itself.
        assert!(
            store
                .write_blocking(|tx| set_offset(tx, "k", "https://p/e/2", 101, 6))
                .is_err()
        );
        assert!(store.write_blocking(|tx| delete(tx, "k")).unwrap());
        assert!(!store.write_blocking(|tx| delete(tx, "k")).unwrap());
        assert!(store.read_blocking(|c| load(c, "k")).unwrap().is_none());
    }
}
