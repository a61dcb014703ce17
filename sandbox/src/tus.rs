//! The sandbox's tus 1.0.0 server (core protocol and the `creation` extension,
//! <https://tus.io/protocols/resumable-upload>), where the SDK uploads attachments, with fault
//! knobs for tests: connections cut in the middle of a `PATCH` body, latency, and a hostile or
//! broken server's answers.
//!
//! Owns: `OPTIONS`/`POST /v1/uploads`, `HEAD`/`PATCH /v1/uploads/{id}`, one temporary file per
//! upload (in a temporary directory made on first use and removed with the sandbox; uploads do
//! not survive a sandbox restart), the count of `PATCH` body bytes each upload received (to
//! measure what a client sent again), and [`TusFaults`]. Does not own what an upload is for (the
//! submission that references it).

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use http_body_util::BodyExt;

use crate::state::PortalState;

/// The protocol version served.
pub const TUS_VERSION: &str = "1.0.0";
/// The largest upload accepted (`Tus-Max-Size`).
pub const MAX_SIZE: u64 = 64 * 1024 * 1024;
/// The largest `Upload-Metadata` header accepted.
const MAX_METADATA_LEN: usize = 4 * 1024;
/// The most uploads kept at once.
const MAX_UPLOADS: usize = 10_000;

/// Fault knobs of the tus server ([`RunningSandbox::set_tus_faults`](crate::RunningSandbox)).
#[derive(Debug, Clone, Default)]
pub struct TusFaults {
    /// Cut the connection of a `PATCH` once this many bytes of its body were read, without
    /// answering. `None`: never cut.
    pub drop_after_bytes: Option<u64>,
    /// Let this many `PATCH`es (counted from when the knobs were set) through before cutting.
    pub skip_patches: u32,
    /// Cut one `PATCH` only, then disarm; otherwise cut each later `PATCH` with
    /// `drop_probability`.
    pub once: bool,
    /// With `once` false: the chance (0.0 to 1.0) that a `PATCH` is cut.
    pub drop_probability: f64,
    /// Keep the bytes read before a cut, as tusd does (a client's `HEAD` then reports them);
    /// otherwise the offset stays where the cut `PATCH` began.
    pub keep_partial: bool,
    /// Waited before answering every tus request.
    pub latency: Duration,
    /// Answers a hostile or broken server would give.
    pub misbehaviour: Option<TusMisbehaviour>,
    /// Answer this many `PATCH`es (after `skip_patches`) with `fail_status` instead of taking
    /// them (e.g. `503`, `429`), with `Retry-After: retry_after_secs` when set.
    pub fail_patches: u32,
    pub fail_status: u16,
    pub retry_after_secs: Option<u64>,
}

/// What a hostile or broken tus server does, for the SDK's attack tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TusMisbehaviour {
    /// The creation answer's `Location` is on another origin.
    ForeignLocation,
    /// `PATCH` answers report an `Upload-Offset` one byte beyond the upload's length.
    OffsetBeyondLength,
    /// `HEAD` answers report offset 0 whatever was received.
    OffsetBackwards,
}

/// What the sandbox knows of one upload, for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadInfo {
    pub id: String,
    pub length: u64,
    pub offset: u64,
    /// Every byte of every `PATCH` body read for it, including those of cut or refused
    /// `PATCH`es: `patch_bytes - length` is what the client sent more than once.
    pub patch_bytes: u64,
    /// The `Upload-Metadata` pairs, decoded.
    pub metadata: Vec<(String, String)>,
    /// The SHA-256 (hex) of the stored bytes once the upload is complete.
    pub sha256: Option<String>,
}

/// The tus server's state, shared by the handlers and the test hooks. Cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct TusState {
    inner: Arc<TusInner>,
}

#[derive(Default)]
struct TusInner {
    dir: OnceLock<Option<tempfile::TempDir>>,
    uploads: Mutex<HashMap<String, Arc<Upload>>>,
    faults: Mutex<TusFaults>,
    /// `PATCH`es seen since the knobs were set.
    patches: AtomicU64,
    /// A `once` cut happened.
    fired: AtomicBool,
    /// `PATCH`es answered with `fail_status` since the knobs were set.
    failed: AtomicU64,
}

struct Upload {
    length: u64,
    metadata: Vec<(String, String)>,
    path: PathBuf,
    offset: AtomicU64,
    patch_bytes: AtomicU64,
    /// One `PATCH` at a time per upload.
    writing: tokio::sync::Mutex<()>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl TusState {
    pub(crate) fn set_faults(&self, faults: TusFaults) {
        *lock(&self.inner.faults) = faults;
        self.inner.patches.store(0, Ordering::SeqCst);
        self.inner.fired.store(false, Ordering::SeqCst);
        self.inner.failed.store(0, Ordering::SeqCst);
    }

    /// Removes the upload at `location` and its file, as an expiry would; whether it existed.
    pub(crate) fn expire(&self, location: &str) -> bool {
        let Some(id) = location.rsplit('/').next() else {
            return false;
        };
        let removed = lock(&self.inner.uploads).remove(id);
        if let Some(upload) = &removed {
            let _ = std::fs::remove_file(&upload.path);
        }
        removed.is_some()
    }

    fn faults(&self) -> TusFaults {
        lock(&self.inner.faults).clone()
    }

    fn dir(&self) -> Option<&std::path::Path> {
        self.inner
            .dir
            .get_or_init(|| {
                tempfile::Builder::new()
                    .prefix("citizen-sandbox-tus")
                    .tempdir()
                    .ok()
            })
            .as_ref()
            .map(tempfile::TempDir::path)
    }

    fn get(&self, id: &str) -> Option<Arc<Upload>> {
        lock(&self.inner.uploads).get(id).cloned()
    }

    /// The upload whose location (absolute URL or path) is `location`.
    pub(crate) fn info(&self, location: &str) -> Option<UploadInfo> {
        let id = location.rsplit('/').next()?;
        let upload = self.get(id)?;
        let offset = upload.offset.load(Ordering::SeqCst);
        let sha256 = (offset == upload.length)
            .then(|| file_sha256(&upload.path).ok())
            .flatten();
        Some(UploadInfo {
            id: id.to_owned(),
            length: upload.length,
            offset,
            patch_bytes: upload.patch_bytes.load(Ordering::SeqCst),
            metadata: upload.metadata.clone(),
            sha256,
        })
    }

    /// Every upload, in no order.
    pub(crate) fn all(&self) -> Vec<UploadInfo> {
        let ids: Vec<String> = lock(&self.inner.uploads).keys().cloned().collect();
        ids.iter().filter_map(|id| self.info(id)).collect()
    }

    /// What to do with this `PATCH`, counting it: cut it after some bytes, or answer it with an
    /// error status.
    fn fault_for_patch(&self, faults: &TusFaults) -> PatchFault {
        let seen = self.inner.patches.fetch_add(1, Ordering::SeqCst);
        if seen < u64::from(faults.skip_patches) {
            return PatchFault::None;
        }
        if faults.fail_patches > 0
            && self.inner.failed.fetch_add(1, Ordering::SeqCst) < u64::from(faults.fail_patches)
        {
            return PatchFault::Fail;
        }
        match self.cut_after(faults) {
            Some(after) => PatchFault::Cut(after),
            None => PatchFault::None,
        }
    }

    fn cut_after(&self, faults: &TusFaults) -> Option<u64> {
        let after = faults.drop_after_bytes?;
        let cut = if faults.once {
            !self.inner.fired.swap(true, Ordering::SeqCst)
        } else {
            random_unit() < faults.drop_probability
        };
        cut.then_some(after)
    }
}

enum PatchFault {
    None,
    Cut(u64),
    Fail,
}

/// The SHA-256 (lowercase hex) of the file at `path`, read in 1 MiB pieces: a finished upload is
/// never held in memory whole (the SDK's memory bench runs the sandbox in its process).
fn file_sha256(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        context.update(&buffer[..read]);
    }
    Ok(context
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn random_unit() -> f64 {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 8];
    let _ = SystemRandom::new().fill(&mut bytes);
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

fn random_id() -> String {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 16];
    let _ = SystemRandom::new().fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn routes() -> Router<PortalState> {
    Router::new()
        .route("/v1/uploads", post(create).options(options))
        .route(
            "/v1/uploads/{id}",
            axum::routing::head(head_upload).patch(patch_upload),
        )
}

/// An answer with the headers every tus answer carries.
fn answer(status: StatusCode, headers: &[(&'static str, String)]) -> Response {
    let mut response = status.into_response();
    let map = response.headers_mut();
    map.insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
    map.insert("cache-control", HeaderValue::from_static("no-store"));
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(value) {
            map.insert(*name, value);
        }
    }
    response
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The `412` for a request that does not speak tus 1.0.0.
fn version_refusal(headers: &HeaderMap) -> Option<Response> {
    (header(headers, "tus-resumable") != Some(TUS_VERSION)).then(|| {
        answer(
            StatusCode::PRECONDITION_FAILED,
            &[("tus-version", TUS_VERSION.into())],
        )
    })
}

fn parse_number(value: Option<&str>) -> Option<u64> {
    let value = value?;
    if value.is_empty() || value.len() > 19 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// Parses `Upload-Metadata`: comma-separated `key[ base64(value)]`, keys unique and ASCII.
fn parse_metadata(value: &str) -> Option<Vec<(String, String)>> {
    if value.len() > MAX_METADATA_LEN {
        return None;
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    if value.trim().is_empty() {
        return Some(pairs);
    }
    for pair in value.split(',') {
        let mut parts = pair.trim().split(' ');
        let key = parts.next()?;
        let encoded = parts.next();
        if parts.next().is_some()
            || key.is_empty()
            || !key.bytes().all(|b| b.is_ascii_graphic())
            || pairs.iter().any(|(k, _)| k == key)
        {
            return None;
        }
        let decoded = match encoded {
            Some(encoded) => base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())?,
            None => String::new(),
        };
        pairs.push((key.to_owned(), decoded));
    }
    Some(pairs)
}

async fn delay(state: &PortalState) -> TusFaults {
    let faults = state.tus().faults();
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    faults
}

async fn options(State(state): State<PortalState>) -> Response {
    delay(&state).await;
    answer(
        StatusCode::NO_CONTENT,
        &[
            ("tus-version", TUS_VERSION.into()),
            ("tus-extension", "creation".into()),
            ("tus-max-size", MAX_SIZE.to_string()),
        ],
    )
}

async fn create(State(state): State<PortalState>, headers: HeaderMap) -> Response {
    let faults = delay(&state).await;
    if let Some(refused) = version_refusal(&headers) {
        return refused;
    }
    let Some(length) = parse_number(header(&headers, "upload-length")) else {
        // `Upload-Defer-Length` (creation-defer-length) is not offered.
        return answer(StatusCode::BAD_REQUEST, &[]);
    };
    if length > MAX_SIZE {
        return answer(StatusCode::PAYLOAD_TOO_LARGE, &[]);
    }
    let metadata = match headers.get("upload-metadata") {
        None => Vec::new(),
        Some(value) => match value.to_str().ok().and_then(parse_metadata) {
            Some(pairs) => pairs,
            None => return answer(StatusCode::BAD_REQUEST, &[]),
        },
    };
    let tus = state.tus();
    let Some(dir) = tus.dir() else {
        return answer(StatusCode::INTERNAL_SERVER_ERROR, &[]);
    };
    let id = random_id();
    let path = dir.join(&id);
    if std::fs::File::create(&path).is_err() {
        return answer(StatusCode::INTERNAL_SERVER_ERROR, &[]);
    }
    {
        let mut uploads = lock(&tus.inner.uploads);
        if uploads.len() >= MAX_UPLOADS {
            let _ = std::fs::remove_file(&path);
            return answer(StatusCode::SERVICE_UNAVAILABLE, &[]);
        }
        uploads.insert(
            id.clone(),
            Arc::new(Upload {
                length,
                metadata,
                path,
                offset: AtomicU64::new(0),
                patch_bytes: AtomicU64::new(0),
                writing: tokio::sync::Mutex::new(()),
            }),
        );
    }
    let location = match faults.misbehaviour {
        Some(TusMisbehaviour::ForeignLocation) => format!("https://uploads.evil.example/{id}"),
        _ => format!("/v1/uploads/{id}"),
    };
    answer(StatusCode::CREATED, &[("location", location)])
}

async fn head_upload(
    State(state): State<PortalState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let faults = delay(&state).await;
    if let Some(refused) = version_refusal(&headers) {
        return refused;
    }
    let Some(upload) = state.tus().get(&id) else {
        return answer(StatusCode::NOT_FOUND, &[]);
    };
    let offset = match faults.misbehaviour {
        Some(TusMisbehaviour::OffsetBackwards) => 0,
        _ => upload.offset.load(Ordering::SeqCst),
    };
    answer(
        StatusCode::OK,
        &[
            ("upload-offset", offset.to_string()),
            ("upload-length", upload.length.to_string()),
        ],
    )
}

async fn patch_upload(
    State(state): State<PortalState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let faults = delay(&state).await;
    if let Some(refused) = version_refusal(&headers) {
        return refused;
    }
    let tus = state.tus();
    let Some(upload) = tus.get(&id) else {
        return answer(StatusCode::NOT_FOUND, &[]);
    };
    if header(&headers, "content-type") != Some("application/offset+octet-stream") {
        return answer(StatusCode::UNSUPPORTED_MEDIA_TYPE, &[]);
    }
    let Some(claimed) = parse_number(header(&headers, "upload-offset")) else {
        return answer(StatusCode::BAD_REQUEST, &[]);
    };
    let _writing = upload.writing.lock().await;
    let start = upload.offset.load(Ordering::SeqCst);
    if claimed != start {
        return answer(StatusCode::CONFLICT, &[]);
    }
    let room = upload.length - start;
    if let Some(length) = parse_number(header(&headers, "content-length"))
        && length > room
    {
        return answer(StatusCode::PAYLOAD_TOO_LARGE, &[]);
    }
    let cut_after = match tus.fault_for_patch(&faults) {
        PatchFault::None => None,
        PatchFault::Cut(after) => Some(after),
        PatchFault::Fail => {
            // Read the body first (counted: the client sent it), as a busy server behind a proxy
            // would, so the client sees the answer rather than a broken pipe.
            let mut body = body;
            while let Some(Ok(frame)) = body.frame().await {
                if let Ok(data) = frame.into_data() {
                    upload
                        .patch_bytes
                        .fetch_add(data.len() as u64, Ordering::SeqCst);
                }
            }
            let status =
                StatusCode::from_u16(faults.fail_status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let retry_after: Vec<_> = faults
                .retry_after_secs
                .map(|secs| ("retry-after", secs.to_string()))
                .into_iter()
                .collect();
            return answer(status, &retry_after);
        }
    };

    // Read the body frame by frame into memory (one chunk), counting every byte read.
    let mut received: Vec<u8> = Vec::new();
    let mut body = body;
    let mut cut = false;
    let mut broken = false;
    loop {
        if let Some(after) = cut_after
            && received.len() as u64 >= after
        {
            cut = true;
            break;
        }
        match body.frame().await {
            None => break,
            Some(Err(_)) => {
                // The client went away; keep what arrived, like tusd.
                broken = true;
                break;
            }
            Some(Ok(frame)) => {
                if let Ok(mut data) = frame.into_data() {
                    // The cut falls exactly `after` bytes into the body: what follows in this
                    // frame counts as never received.
                    if let Some(after) = cut_after {
                        let wanted = after.saturating_sub(received.len() as u64);
                        if (data.len() as u64) > wanted {
                            data.truncate(wanted as usize);
                        }
                    }
                    upload
                        .patch_bytes
                        .fetch_add(data.len() as u64, Ordering::SeqCst);
                    if (received.len() + data.len()) as u64 > room {
                        return answer(StatusCode::PAYLOAD_TOO_LARGE, &[]);
                    }
                    received.extend_from_slice(&data);
                }
            }
        }
    }
    if cut_after.is_some() && !cut {
        // The body ended before the cut point: cut anyway, without answering.
        cut = true;
    }
    let keep = !cut || faults.keep_partial;
    if keep && !received.is_empty() {
        let written = std::fs::OpenOptions::new()
            .append(true)
            .open(&upload.path)
            .and_then(|mut file| file.write_all(&received));
        if written.is_err() {
            return answer(StatusCode::INTERNAL_SERVER_ERROR, &[]);
        }
        upload
            .offset
            .store(start + received.len() as u64, Ordering::SeqCst);
    }
    if cut {
        drop(_writing);
        tracing::info!("tus fault: cutting a PATCH connection");
        // Unwinds the connection's task without a panic message: hyper never answers and the
        // socket closes, as when a network drops in the middle of an upload.
        std::panic::resume_unwind(Box::new("tus fault: connection cut"));
    }
    if broken {
        return answer(StatusCode::BAD_REQUEST, &[]);
    }
    let offset = upload.offset.load(Ordering::SeqCst);
    let reported = match faults.misbehaviour {
        Some(TusMisbehaviour::OffsetBeyondLength) => upload.length + 1,
        _ => offset,
    };
    answer(
        StatusCode::NO_CONTENT,
        &[("upload-offset", reported.to_string())],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_parsed_strictly() {
        assert_eq!(
            parse_metadata("media_type aW1hZ2UvanBlZw==,empty,sha256 YWI=").unwrap(),
            vec![
                ("media_type".into(), "image/jpeg".into()),
                ("empty".into(), String::new()),
                ("sha256".into(), "ab".into()),
            ]
        );
        assert_eq!(parse_metadata("").unwrap(), vec![]);
        for bad in ["a b c", "a !!!", "a YQ==,a YQ==", "a,,b", "é YQ=="] {
            assert!(parse_metadata(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn numbers_are_plain_decimals() {
        assert_eq!(parse_number(Some("42")), Some(42));
        for bad in ["", "+1", "-1", "1 ", "0x1"] {
            assert_eq!(parse_number(Some(bad)), None, "{bad}");
        }
    }
}
