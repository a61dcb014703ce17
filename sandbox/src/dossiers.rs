//! Dossier intake: where a citizen's signed dossier arrives, exactly once.
//!
//! Owns: `POST /v1/dossiers` (a manifest signed by a device key the portal bound at activation,
//! with the tus uploads of its attachments; `Idempotency-Key` = the manifest's `jti`), the
//! `sandbox_dossiers` table, receipt codes, and what tests read back (`RunningSandbox::dossiers`).
//! Does not own uploads (`tus`), the catalogue it checks procedures against (`catalogue`),
//! faults (`faults`), nor what follows the receipt (`tracking`: the status token a receipt
//! carries, the status feed, supplement manifests, which this intake hands over after the
//! checks every manifest passes, and withdrawals).
//!
//! Idempotency follows the IETF `Idempotency-Key` draft: the first request with a key is
//! processed and its answer stored (`201`); a repeat with the same key and the same body gets the
//! stored answer again (`200`, `Idempotent-Replayed: true`) and changes nothing; the same key with
//! another body is `422 idempotency_key_reused`. The database's UNIQUE constraint, not a check
//! before the insert, is what makes two racing repeats one dossier.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::json;

use citizen_core::dossier::manifest::{
    self, MAX_SUBMIT_BODY_BYTES, Manifest, SubmitRequest, SubmitResponse, UploadRef,
};
use citizen_core::dossier::{FieldKind, Procedure};
use citizen_core::jose::EcPublicJwk;

use crate::state::PortalState;

pub(crate) fn create_tables(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS sandbox_dossiers (
             id INTEGER PRIMARY KEY,
             idempotency_key TEXT NOT NULL UNIQUE,
             request_sha256 BLOB NOT NULL,
             receipt_code TEXT NOT NULL UNIQUE,
             procedure_code TEXT NOT NULL,
             procedure_version INTEGER NOT NULL,
             id_number TEXT NOT NULL,
             manifest TEXT NOT NULL,
             uploads TEXT NOT NULL,
             status TEXT NOT NULL,
             received_at INTEGER NOT NULL
         );",
    )
}

pub(crate) fn routes() -> Router<PortalState> {
    Router::new()
        .route("/v1/dossiers", post(submit_handler))
        .route("/v1/test/dossiers", get(list_handler))
}

/// One received dossier as `GET /v1/test/dossiers` lists it: what a test checks delivery by,
/// never the form's values, the citizen's ID number or the attachments' digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DossierListing {
    pub idempotency_key: String,
    pub receipt_code: String,
    pub procedure_code: String,
    pub procedure_version: u64,
    pub attachments: usize,
    pub status: String,
    pub received_at: i64,
}

impl From<&ReceivedDossier> for DossierListing {
    fn from(dossier: &ReceivedDossier) -> Self {
        Self {
            idempotency_key: dossier.idempotency_key.clone(),
            receipt_code: dossier.receipt_code.clone(),
            procedure_code: dossier.procedure_code.clone(),
            procedure_version: dossier.procedure_version,
            attachments: dossier.manifest.attachments.len(),
            status: dossier.status.clone(),
            received_at: dossier.received_at,
        }
    }
}

/// `GET /v1/test/dossiers` (sandbox only): every dossier received, oldest first, without
/// personal data.
async fn list_handler(State(state): State<PortalState>) -> Response {
    match state.with_conn(received) {
        Ok(dossiers) => {
            let listed: Vec<DossierListing> = dossiers.iter().map(DossierListing::from).collect();
            Json(json!({ "dossiers": listed })).into_response()
        }
        Err(error) => IntakeError::Database(error).into_response(),
    }
}

/// A dossier as the portal holds it (for tests and the demo).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceivedDossier {
    pub idempotency_key: String,
    pub receipt_code: String,
    pub procedure_code: String,
    pub procedure_version: u64,
    pub id_number: String,
    /// The signed manifest's content.
    pub manifest: Manifest,
    /// The uploads the request named, as sent.
    pub uploads: Vec<UploadRef>,
    pub status: String,
    pub received_at: i64,
}

/// Why a submission was refused. Texts name fields, never values.
#[derive(Debug, thiserror::Error)]
pub(crate) enum IntakeError {
    #[error("the field `{0}` is missing or malformed")]
    Invalid(&'static str),
    #[error("the manifest does not verify: {0}")]
    Manifest(manifest::ManifestError),
    #[error("the manifest is not signed by a device key bound at activation")]
    UnknownDevice,
    #[error("the citizen's credential is revoked or suspended")]
    CredentialNotValid,
    #[error("the idempotency key does not name this manifest")]
    KeyMismatch,
    #[error("the idempotency key was used for another request")]
    IdempotencyKeyReused,
    #[error("the procedure is not in the catalogue at that version")]
    UnknownProcedure,
    #[error("the form does not satisfy the procedure")]
    ValidationFailed(Vec<String>),
    #[error("an attachment's upload is missing, unfinished or does not match its digest")]
    AttachmentMismatch,
    #[error("the dossier was filed by another device")]
    NotYourDossier,
    #[error("the dossier has no open supplement request with that id")]
    NoOpenRequest,
    #[error("a supplement must keep the original dossier's procedure and version")]
    ProcedureMismatch,
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
}

impl IntoResponse for IntakeError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            IntakeError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid_field"),
            IntakeError::Manifest(_) => (StatusCode::BAD_REQUEST, "invalid_manifest"),
            IntakeError::UnknownDevice => (StatusCode::FORBIDDEN, "unknown_device"),
            IntakeError::CredentialNotValid => (StatusCode::FORBIDDEN, "credential_not_valid"),
            IntakeError::KeyMismatch => (StatusCode::BAD_REQUEST, "idempotency_key_mismatch"),
            IntakeError::IdempotencyKeyReused => {
                (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
            }
            IntakeError::UnknownProcedure => {
                (StatusCode::UNPROCESSABLE_ENTITY, "unknown_procedure")
            }
            IntakeError::ValidationFailed(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            }
            IntakeError::AttachmentMismatch => {
                (StatusCode::UNPROCESSABLE_ENTITY, "attachment_mismatch")
            }
            IntakeError::NotYourDossier => (StatusCode::FORBIDDEN, "not_your_dossier"),
            // 422, not 409: a phone retries 409 (the idempotency draft's "still being processed").
            IntakeError::NoOpenRequest => (StatusCode::UNPROCESSABLE_ENTITY, "no_open_request"),
            IntakeError::ProcedureMismatch => {
                (StatusCode::UNPROCESSABLE_ENTITY, "procedure_mismatch")
            }
            IntakeError::Database(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        let body = match &self {
            IntakeError::Invalid(field) => json!({ "error": code, "field": field }),
            IntakeError::ValidationFailed(fields) => json!({ "error": code, "fields": fields }),
            IntakeError::Database(_) => {
                tracing::error!(error = %self, "a dossier submission failed");
                json!({ "error": code })
            }
            _ => json!({ "error": code }),
        };
        (status, Json(body)).into_response()
    }
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

async fn submit_handler(
    State(state): State<PortalState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let uploads = |location: &str| finished_upload(&state, location);
    let result =
        state.with_conn(|conn| submit(conn, key.as_deref(), &body, &uploads, crate::state::now()));
    match result {
        Ok((created, answer)) => {
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            let mut response = (status, Json(answer)).into_response();
            if !created {
                response.headers_mut().insert(
                    HeaderName::from_static("idempotent-replayed"),
                    HeaderValue::from_static("true"),
                );
            }
            response
        }
        Err(error) => error.into_response(),
    }
}

/// Files the dossier in `body` under `key`, or finds the one filed before under it. `true` when
/// this call filed it.
pub(crate) fn submit(
    conn: &Connection,
    key: Option<&str>,
    body: &[u8],
    uploads: &dyn Fn(&str) -> Option<FinishedUpload>,
    now: i64,
) -> Result<(bool, SubmitResponse), IntakeError> {
    let key = key
        .filter(|k| manifest::is_dossier_id(k))
        .ok_or(IntakeError::Invalid("Idempotency-Key"))?;
    if body.len() > MAX_SUBMIT_BODY_BYTES {
        return Err(IntakeError::Invalid("body"));
    }
    let digest = sha256(body);
    if let Some(previous) = stored_answer(conn, key, &digest)? {
        return Ok((false, previous));
    }
    if let Some(previous) = crate::tracking::stored_supplement_answer(conn, key, &digest)? {
        return Ok((false, previous));
    }
    let request: SubmitRequest =
        serde_json::from_slice(body).map_err(|_| IntakeError::Invalid("body"))?;
    let (manifest, device_key) =
        manifest::verify(&request.manifest).map_err(IntakeError::Manifest)?;
    if manifest.jti != key {
        return Err(IntakeError::KeyMismatch);
    }
    let (id_number, activation_id) =
        citizen_of(conn, &device_key)?.ok_or(IntakeError::UnknownDevice)?;
    if !credential_valid(conn, activation_id)? {
        return Err(IntakeError::CredentialNotValid);
    }
    if manifest.supplement.is_some() {
        return crate::tracking::submit_supplement(
            conn,
            key,
            &digest,
            &request,
            &manifest,
            &device_key,
            uploads,
            now,
        );
    }
    let procedure = procedure(conn, &manifest.procedure.code)?
        .filter(|p| !p.withdrawn && p.version >= manifest.procedure.version)
        .ok_or(IntakeError::UnknownProcedure)?;
    let missing = missing_fields(&procedure, &manifest);
    if !missing.is_empty() {
        return Err(IntakeError::ValidationFailed(missing));
    }
    check_uploads(&manifest, &request, uploads)?;

    let tx = conn.unchecked_transaction()?;
    let seq: i64 = tx.query_row(
        "SELECT coalesce(max(id), 0) + 1 FROM sandbox_dossiers",
        [],
        |r| r.get(0),
    )?;
    let receipt_code = format!("HS-{}-{:06}", year_of(now), seq);
    let inserted = tx.execute(
        "INSERT INTO sandbox_dossiers (idempotency_key, request_sha256, receipt_code,
             procedure_code, procedure_version, id_number, manifest, uploads, status, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'received', ?9)
         ON CONFLICT (idempotency_key) DO NOTHING",
        params![
            key,
            digest,
            receipt_code,
            manifest.procedure.code,
            manifest.procedure.version as i64,
            id_number,
            request.manifest,
            serde_json::to_string(&request.uploads).unwrap_or_default(),
            now
        ],
    )?;
    let status_token = if inserted == 0 {
        None
    } else {
        Some(crate::tracking::on_received(
            &tx,
            &manifest,
            &device_key,
            &receipt_code,
            now,
        )?)
    };
    tx.commit()?;
    if inserted == 0 {
        // Another request with this key won the race: answer as a repeat.
        return stored_answer(conn, key, &digest)?
            .map(|answer| (false, answer))
            .ok_or(IntakeError::IdempotencyKeyReused);
    }
    tracing::info!("dossier received");
    Ok((
        true,
        SubmitResponse {
            receipt_code,
            status: "received".into(),
            received_at: now,
            status_token,
        },
    ))
}

/// The answer given to the first request with `key`, if there was one with this very body.
fn stored_answer(
    conn: &Connection,
    key: &str,
    digest: &[u8],
) -> Result<Option<SubmitResponse>, IntakeError> {
    let row = conn
        .query_row(
            "SELECT request_sha256, receipt_code, received_at FROM sandbox_dossiers
             WHERE idempotency_key = ?1",
            [key],
            |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            },
        )
        .optional()?;
    match row {
        None => Ok(None),
        Some((stored, _, _)) if stored != digest => Err(IntakeError::IdempotencyKeyReused),
        Some((_, receipt_code, received_at)) => Ok(Some(SubmitResponse {
            receipt_code,
            // The first answer's status: what the dossier's status was when it was received.
            status: "received".into(),
            received_at,
            status_token: crate::tracking::token_of_dossier(conn, key)?,
        })),
    }
}

/// The citizen whose wallet holds `device_key` (an activation redeemed with it), and that
/// activation.
fn citizen_of(
    conn: &Connection,
    device_key: &EcPublicJwk,
) -> Result<Option<(String, i64)>, IntakeError> {
    let mut statement = conn.prepare_cached(
        "SELECT id_number, device_jwk, id FROM wallet_activations WHERE record IS NOT NULL",
    )?;
    let rows = statement.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        let (id_number, jwk, activation_id) = row?;
        if EcPublicJwk::from_json(jwk.as_bytes()).is_ok_and(|k| &k == device_key) {
            return Ok(Some((id_number, activation_id)));
        }
    }
    Ok(None)
}

/// Whether the newest credential issued for `activation_id` is valid (status 0): a revoked or
/// suspended identity files nothing.
fn credential_valid(conn: &Connection, activation_id: i64) -> Result<bool, IntakeError> {
    let status: Option<i64> = conn
        .query_row(
            "SELECT status FROM issued_credentials WHERE activation_id = ?1
             ORDER BY issued_at DESC LIMIT 1",
            [activation_id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(status == Some(0))
}

fn procedure(conn: &Connection, code: &str) -> Result<Option<Procedure>, IntakeError> {
    crate::catalogue::seed(conn)?; // on first use
    let record: Option<String> = conn
        .query_row(
            "SELECT record FROM catalogue_procedures WHERE code = ?1",
            [code],
            |r| r.get(0),
        )
        .optional()?;
    Ok(record.and_then(|r| serde_json::from_str(&r).ok()))
}

/// The portal's own check of the form: every required field has a value, and no value names a
/// field the procedure does not have. (The SDK validates fully before signing; a portal must not
/// trust that, but the sandbox checks only what tests need to see refused.)
fn missing_fields(procedure: &Procedure, manifest: &Manifest) -> Vec<String> {
    let mut problems: Vec<String> = procedure
        .form
        .iter()
        .filter(|field| field.required)
        .filter(|field| {
            manifest
                .form
                .get(&field.id)
                .is_none_or(|value| value.trim().is_empty())
        })
        .map(|field| field.id.clone())
        .collect();
    for name in manifest.form.keys() {
        if !procedure.form.iter().any(|field| &field.id == name) {
            problems.push(name.clone());
        }
    }
    // A select's value must be one of its options.
    for field in &procedure.form {
        if let (FieldKind::Select, Some(value)) = (&field.kind, manifest.form.get(&field.id))
            && !field.options.iter().any(|option| &option.value == value)
        {
            problems.push(field.id.clone());
        }
    }
    problems
}

/// Each attachment in the manifest must have a finished upload on this portal whose bytes hash
/// to the signed digest.
pub(crate) fn check_uploads(
    manifest: &Manifest,
    request: &SubmitRequest,
    uploads: &dyn Fn(&str) -> Option<FinishedUpload>,
) -> Result<(), IntakeError> {
    if request.uploads.len() != manifest.attachments.len() {
        return Err(IntakeError::AttachmentMismatch);
    }
    for attachment in &manifest.attachments {
        let upload = request
            .uploads
            .iter()
            .find(|u| u.sha256 == attachment.sha256)
            .ok_or(IntakeError::AttachmentMismatch)?;
        let finished = uploads(&upload.location).ok_or(IntakeError::AttachmentMismatch)?;
        let digest = citizen_core::jose::base64url::encode(finished.sha256);
        if digest != attachment.sha256 || finished.length != attachment.size {
            return Err(IntakeError::AttachmentMismatch);
        }
    }
    Ok(())
}

/// A finished upload's length and SHA-256.
pub(crate) struct FinishedUpload {
    sha256: [u8; 32],
    length: u64,
}

/// The finished tus upload at `location`, which must be an upload URL of this portal.
fn finished_upload(state: &PortalState, location: &str) -> Option<FinishedUpload> {
    let id = location
        .strip_prefix(state.base_url())?
        .strip_prefix("v1/uploads/")?;
    if id.is_empty() || id.contains(['/', '?', '#']) {
        return None;
    }
    let info = state.tus().info(id)?;
    if info.offset != info.length {
        return None;
    }
    let hex = info.sha256?;
    let mut sha256 = [0u8; 32];
    for (byte, pair) in sha256.iter_mut().zip(hex.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(FinishedUpload {
        sha256,
        length: info.length,
    })
}

fn year_of(now: i64) -> i64 {
    // Days to civil year (Howard Hinnant's algorithm), enough for a receipt's year.
    let days = now.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    yoe + era * 400 + i64::from(month <= 2)
}

/// Every dossier received, oldest first.
pub(crate) fn received(conn: &Connection) -> rusqlite::Result<Vec<ReceivedDossier>> {
    let mut statement = conn.prepare(
        "SELECT idempotency_key, receipt_code, procedure_code, procedure_version, id_number,
                manifest, status, received_at, uploads
         FROM sandbox_dossiers ORDER BY id",
    )?;
    let rows = statement.query_map([], |r| {
        let compact: String = r.get(5)?;
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, String>(4)?,
            compact,
            r.get::<_, String>(6)?,
            r.get::<_, i64>(7)?,
            r.get::<_, String>(8)?,
        ))
    })?;
    let mut dossiers = Vec::new();
    for row in rows {
        let (
            idempotency_key,
            receipt_code,
            procedure_code,
            version,
            id_number,
            compact,
            status,
            received_at,
            uploads,
        ) = row?;
        let Ok((manifest, _)) = manifest::verify(&compact) else {
            continue;
        };
        dossiers.push(ReceivedDossier {
            idempotency_key,
            receipt_code,
            procedure_code,
            procedure_version: version as u64,
            id_number,
            manifest,
            uploads: serde_json::from_str(&uploads).unwrap_or_default(),
            status,
            received_at,
        });
    }
    Ok(dossiers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_years_follow_the_calendar() {
        assert_eq!(year_of(0), 1970);
        assert_eq!(year_of(1_798_761_599), 2026); // 2026-12-31T23:59:59Z
        assert_eq!(year_of(1_798_761_600), 2027);
        assert_eq!(year_of(951_782_400), 2000); // 2000-02-29
    }
}
