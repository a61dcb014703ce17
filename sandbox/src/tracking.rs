//! Dossier tracking: what happens to a filed dossier after its receipt, and how the phone hears
//! of it.
//!
//! Owns: the status feed (`GET /v1/dossiers/changes`, one bearer token per device key, `ETag` /
//! `304`), the clerk (a background task per running sandbox that moves each dossier one step per
//! pace, with the [`ClerkPolicy`] tests set through `POST /v1/test/clerk` or
//! `RunningSandbox::set_clerk`), supplement manifests (filed through `POST /v1/dossiers`; the
//! intake calls [`submit_supplement`]), withdrawals (`POST /v1/dossiers/withdrawals`) and the
//! fee a dossier owes (paid through `bank`). Everything is in the sandbox's SQLite: a restarted
//! sandbox continues where it stopped.
//!
//! The clerk's sequence, one change per step (`event` → `status`), each step one pace after the
//! one before:
//! `received` → received (at intake), `processing` → processing, then with
//! [`SupplementPolicy::Once`] and no request asked yet `supplement_requested` →
//! supplement_requested (waits for the supplement manifest; its intake records
//! `supplement_received` → processing), then (`reject`: `rejected` → rejected) `result_ready` →
//! result_ready, and when a fee is owed, in the same step, `fee_requested` → result_ready with
//! the fee (due) in the snapshot; it waits for the payment (`fee_paid` → result_ready, recorded
//! by the bank), then `completed` → completed. Without a fee `completed` follows `result_ready`
//! one pace later. A withdrawal request records `withdrawal_requested` (status unchanged) and
//! the clerk's next step for that dossier is `withdrawn` → withdrawn.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use citizen_core::dossier::manifest::{
    self, Manifest, SubmitRequest, SubmitResponse, WithdrawalBody, WithdrawalResponse,
};
use citizen_core::dossier::status_feed::{
    FeeNotice, FeeState, Payee, PaymentReceipt, PortalStatus, StatusChange, StatusFeedPage,
    SupplementItem, SupplementRequest,
};
use citizen_core::dossier::{Procedure, validate};
use citizen_core::jose::EcPublicJwk;

use crate::dossiers::{FinishedUpload, IntakeError};
use crate::state::PortalState;

/// The sandbox agency's collection account (VietinBank's BIN; a made-up account number).
pub const PAYEE_BANK_BIN: &str = "970415";
pub const PAYEE_ACCOUNT: &str = "113000006868";
pub const PAYEE_NAME: &str = "KHO BAC NHA NUOC";
/// The clerk's default pace: one step per dossier this often.
pub const DEFAULT_PACE_MS: u64 = 1_500;
/// The paces a test may set, in milliseconds.
pub const PACE_RANGE_MS: std::ops::RangeInclusive<u64> = 10..=600_000;
/// The most changes one feed page carries.
pub const PAGE_LIMIT: usize = 100;
/// How long a supplement request and a fee wait (seconds), as `due_at` says.
const DUE_SECS: i64 = 7 * 86_400;
/// A waiting dossier (for a supplement, a payment) is not due until something happens.
const WAITING: i64 = i64::MAX;

const SUPPLEMENT_REASON: &str = "Hồ sơ còn thiếu thành phần theo quy định. Đề nghị công dân bổ sung trước khi cơ quan tiếp tục giải quyết.";
const REJECT_REASON: &str =
    "Hồ sơ không đủ điều kiện giải quyết theo quy định của pháp luật hiện hành.";

/// Whether the clerk asks for a supplement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupplementPolicy {
    Never,
    /// One request per dossier: the procedure's first attachment kind, or its first field when
    /// it has no attachment rule.
    #[default]
    Once,
}

/// How the clerk handles dossiers. `POST /v1/test/clerk` takes any subset of its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClerkPolicy {
    /// One step per dossier this often (milliseconds, 10 to 600000).
    pub pace_ms: u64,
    pub supplement: SupplementPolicy,
    /// Reject every dossier after `processing` (with a Vietnamese reason).
    pub reject: bool,
    /// The fee asked instead of the procedure's fee table (`0`: no fee).
    pub fee_override: Option<u64>,
}

impl Default for ClerkPolicy {
    fn default() -> Self {
        Self {
            pace_ms: DEFAULT_PACE_MS,
            supplement: SupplementPolicy::Once,
            reject: false,
            fee_override: None,
        }
    }
}

impl ClerkPolicy {
    fn check(&self) -> Result<(), &'static str> {
        if !PACE_RANGE_MS.contains(&self.pace_ms) {
            return Err("pace_ms");
        }
        if self.fee_override.is_some_and(|fee| fee > 9_999_999_999_999) {
            return Err("fee_override");
        }
        Ok(())
    }
}

pub(crate) fn create_tables(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS sandbox_status_tokens (
             device TEXT PRIMARY KEY,
             token TEXT NOT NULL UNIQUE
         );
         CREATE TABLE IF NOT EXISTS sandbox_tracking (
             dossier_id TEXT PRIMARY KEY,
             device TEXT NOT NULL,
             receipt_code TEXT NOT NULL UNIQUE,
             procedure_code TEXT NOT NULL,
             procedure_version INTEGER NOT NULL,
             status TEXT NOT NULL,
             supplement TEXT,
             supplements_asked INTEGER NOT NULL DEFAULT 0,
             fee TEXT,
             withdrawal_requested INTEGER NOT NULL DEFAULT 0,
             due_ms INTEGER NOT NULL
         );
         CREATE INDEX IF NOT EXISTS sandbox_tracking_due ON sandbox_tracking (due_ms);
         CREATE TABLE IF NOT EXISTS sandbox_changes (
             seq INTEGER PRIMARY KEY AUTOINCREMENT,
             device TEXT NOT NULL,
             dossier_id TEXT NOT NULL,
             change TEXT NOT NULL
         );
         CREATE INDEX IF NOT EXISTS sandbox_changes_device ON sandbox_changes (device, seq);
         CREATE TABLE IF NOT EXISTS sandbox_supplements (
             id INTEGER PRIMARY KEY,
             idempotency_key TEXT NOT NULL UNIQUE,
             request_sha256 BLOB NOT NULL,
             dossier_id TEXT NOT NULL,
             request_id TEXT NOT NULL,
             manifest TEXT NOT NULL,
             uploads TEXT NOT NULL,
             received_at INTEGER NOT NULL,
             UNIQUE (dossier_id, request_id)
         );
         CREATE TABLE IF NOT EXISTS sandbox_withdrawals (
             idempotency_key TEXT PRIMARY KEY,
             request_sha256 BLOB NOT NULL,
             dossier_id TEXT NOT NULL,
             receipt_code TEXT NOT NULL,
             at INTEGER NOT NULL
         );
         CREATE TABLE IF NOT EXISTS sandbox_clerk (
             id INTEGER PRIMARY KEY CHECK (id = 1),
             policy TEXT NOT NULL
         );",
    )
}

pub(crate) fn routes() -> Router<PortalState> {
    Router::new()
        .route("/v1/dossiers/changes", get(changes_handler))
        .route("/v1/dossiers/withdrawals", post(withdrawal_handler))
        .route("/v1/test/clerk", post(clerk_handler))
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

// --- the clerk's policy ----------------------------------------------------------------------

/// The policy in force (the default until a test sets one).
pub fn policy(conn: &Connection) -> rusqlite::Result<ClerkPolicy> {
    let stored: Option<String> = conn
        .query_row("SELECT policy FROM sandbox_clerk WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(stored
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default())
}

/// Sets the policy; the clerk uses it from its next tick.
pub fn set_policy(conn: &Connection, policy: &ClerkPolicy) -> Result<(), ClerkPolicyError> {
    policy.check().map_err(ClerkPolicyError::Invalid)?;
    conn.execute(
        "INSERT INTO sandbox_clerk (id, policy) VALUES (1, ?1)
         ON CONFLICT (id) DO UPDATE SET policy = excluded.policy",
        [serde_json::to_string(policy).unwrap_or_default()],
    )?;
    // A new pace takes effect at once: no dossier waits longer than one new pace.
    conn.execute(
        "UPDATE sandbox_tracking SET due_ms = min(due_ms, ?1) WHERE due_ms != ?2",
        params![now_ms() + policy.pace_ms as i64, WAITING],
    )?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum ClerkPolicyError {
    #[error("the clerk policy's `{0}` is out of range or malformed")]
    Invalid(&'static str),
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
}

/// `POST /v1/test/clerk`: merges the members given into the policy in force; answers the
/// policy now in force.
async fn clerk_handler(State(state): State<PortalState>, body: axum::body::Bytes) -> Response {
    let result = state.with_conn(|conn| -> Result<ClerkPolicy, ClerkPolicyError> {
        let patch: serde_json::Value =
            serde_json::from_slice(&body).map_err(|_| ClerkPolicyError::Invalid("body"))?;
        let serde_json::Value::Object(patch) = patch else {
            return Err(ClerkPolicyError::Invalid("body"));
        };
        let mut merged = serde_json::to_value(policy(conn)?).unwrap_or_default();
        for (name, value) in patch {
            merged[name] = value;
        }
        let policy: ClerkPolicy =
            serde_json::from_value(merged).map_err(|_| ClerkPolicyError::Invalid("body"))?;
        set_policy(conn, &policy)?;
        Ok(policy)
    });
    match result {
        Ok(policy) => Json(policy).into_response(),
        Err(ClerkPolicyError::Invalid(field)) => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_field", "field": field })),
        )
            .into_response(),
        Err(error) => internal(&error),
    }
}

fn internal(error: &dyn std::fmt::Display) -> Response {
    tracing::error!(%error, "a tracking request failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({ "error": "internal" })),
    )
        .into_response()
}

// --- tokens ----------------------------------------------------------------------------------

/// The status token of the device key whose thumbprint is `device`, made on first use.
pub(crate) fn status_token(conn: &Connection, device: &str) -> rusqlite::Result<String> {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| rusqlite::Error::InvalidQuery)?;
    conn.execute(
        "INSERT INTO sandbox_status_tokens (device, token) VALUES (?1, ?2)
         ON CONFLICT (device) DO NOTHING",
        params![device, citizen_core::jose::base64url::encode(bytes)],
    )?;
    conn.query_row(
        "SELECT token FROM sandbox_status_tokens WHERE device = ?1",
        [device],
        |r| r.get(0),
    )
}

fn device_of_token(conn: &Connection, token: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT device FROM sandbox_status_tokens WHERE token = ?1",
        [token],
        |r| r.get(0),
    )
    .optional()
}

// --- a dossier's tracking state --------------------------------------------------------------

#[derive(Debug, Clone)]
struct Tracking {
    dossier_id: String,
    device: String,
    receipt_code: String,
    procedure_code: String,
    procedure_version: u64,
    status: PortalStatus,
    supplement: Option<SupplementRequest>,
    supplements_asked: u32,
    fee: Option<FeeNotice>,
    withdrawal_requested: bool,
    due_ms: i64,
}

fn load(conn: &Connection, dossier_id: &str) -> rusqlite::Result<Option<Tracking>> {
    load_where(conn, "dossier_id", dossier_id)
}

fn load_where(conn: &Connection, column: &str, value: &str) -> rusqlite::Result<Option<Tracking>> {
    conn.query_row(
        &format!(
            "SELECT dossier_id, device, receipt_code, procedure_code, procedure_version, status,
                    supplement, supplements_asked, fee, withdrawal_requested, due_ms
             FROM sandbox_tracking WHERE {column} = ?1"
        ),
        [value],
        |r| {
            let status: String = r.get(5)?;
            let supplement: Option<String> = r.get(6)?;
            let fee: Option<String> = r.get(8)?;
            Ok(Tracking {
                dossier_id: r.get(0)?,
                device: r.get(1)?,
                receipt_code: r.get(2)?,
                procedure_code: r.get(3)?,
                procedure_version: r.get::<_, i64>(4)? as u64,
                status: PortalStatus::parse(&status).unwrap_or(PortalStatus::Received),
                supplement: supplement.and_then(|s| serde_json::from_str(&s).ok()),
                supplements_asked: r.get::<_, i64>(7)? as u32,
                fee: fee.and_then(|s| serde_json::from_str(&s).ok()),
                withdrawal_requested: r.get::<_, i64>(9)? != 0,
                due_ms: r.get(10)?,
            })
        },
    )
    .optional()
}

fn save(conn: &Connection, tracking: &Tracking) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE sandbox_tracking SET status = ?2, supplement = ?3, supplements_asked = ?4,
             fee = ?5, withdrawal_requested = ?6, due_ms = ?7
         WHERE dossier_id = ?1",
        params![
            tracking.dossier_id,
            tracking.status.as_str(),
            tracking
                .supplement
                .as_ref()
                .and_then(|s| serde_json::to_string(s).ok()),
            i64::from(tracking.supplements_asked),
            tracking
                .fee
                .as_ref()
                .and_then(|f| serde_json::to_string(f).ok()),
            i64::from(tracking.withdrawal_requested),
            tracking.due_ms,
        ],
    )?;
    // What `GET /v1/test/dossiers` lists.
    conn.execute(
        "UPDATE sandbox_dossiers SET status = ?2 WHERE idempotency_key = ?1",
        params![tracking.dossier_id, tracking.status.as_str()],
    )?;
    Ok(())
}

/// Appends one change of `tracking` (its whole state after `event`) to the feed; its `seq`.
fn record(
    conn: &Connection,
    tracking: &Tracking,
    event: &str,
    reason: Option<&str>,
    at: i64,
) -> rusqlite::Result<u64> {
    let change = StatusChange {
        seq: 0, // the row's seq, filled in when read
        dossier_id: tracking.dossier_id.clone(),
        receipt_code: tracking.receipt_code.clone(),
        event: event.into(),
        status: Some(tracking.status),
        at,
        reason: reason.map(str::to_owned),
        supplement: tracking
            .supplement
            .clone()
            .filter(|_| tracking.status == PortalStatus::SupplementRequested),
        fee: tracking.fee.clone(),
    };
    conn.execute(
        "INSERT INTO sandbox_changes (device, dossier_id, change) VALUES (?1, ?2, ?3)",
        params![
            tracking.device,
            tracking.dossier_id,
            serde_json::to_string(&change).unwrap_or_default()
        ],
    )?;
    Ok(conn.last_insert_rowid() as u64)
}

/// A new dossier is received (inside the intake's transaction): its tracking row, its first
/// change and its device's status token.
pub(crate) fn on_received(
    conn: &Connection,
    manifest: &Manifest,
    device: &EcPublicJwk,
    receipt_code: &str,
    now: i64,
) -> rusqlite::Result<String> {
    let pace = policy(conn)?.pace_ms as i64;
    let tracking = Tracking {
        dossier_id: manifest.jti.clone(),
        device: device.thumbprint(),
        receipt_code: receipt_code.into(),
        procedure_code: manifest.procedure.code.clone(),
        procedure_version: manifest.procedure.version,
        status: PortalStatus::Received,
        supplement: None,
        supplements_asked: 0,
        fee: None,
        withdrawal_requested: false,
        due_ms: now_ms() + pace,
    };
    conn.execute(
        "INSERT INTO sandbox_tracking (dossier_id, device, receipt_code, procedure_code,
             procedure_version, status, due_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            tracking.dossier_id,
            tracking.device,
            tracking.receipt_code,
            tracking.procedure_code,
            tracking.procedure_version as i64,
            tracking.status.as_str(),
            tracking.due_ms
        ],
    )?;
    record(conn, &tracking, "received", None, now)?;
    status_token(conn, &tracking.device)
}

/// Every change of `dossier_id`, oldest first, with its `seq` (what its device's feed shows of
/// it).
pub fn changes_of(conn: &Connection, dossier_id: &str) -> rusqlite::Result<Vec<StatusChange>> {
    let mut statement = conn.prepare_cached(
        "SELECT seq, change FROM sandbox_changes WHERE dossier_id = ?1 ORDER BY seq",
    )?;
    let rows = statement.query_map([dossier_id], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut changes = Vec::new();
    for row in rows {
        let (seq, text) = row?;
        if let Ok(mut change) = serde_json::from_str::<StatusChange>(&text) {
            change.seq = seq as u64;
            changes.push(change);
        }
    }
    Ok(changes)
}

/// The status token of the device that filed `dossier_id` (for a replayed answer).
pub(crate) fn token_of_dossier(
    conn: &Connection,
    dossier_id: &str,
) -> rusqlite::Result<Option<String>> {
    match load(conn, dossier_id)? {
        Some(tracking) => status_token(conn, &tracking.device).map(Some),
        None => Ok(None),
    }
}

fn procedure(conn: &Connection, code: &str) -> rusqlite::Result<Option<Procedure>> {
    let record: Option<String> = conn
        .query_row(
            "SELECT record FROM catalogue_procedures WHERE code = ?1",
            [code],
            |r| r.get(0),
        )
        .optional()?;
    Ok(record.and_then(|r| serde_json::from_str(&r).ok()))
}

// --- the clerk -------------------------------------------------------------------------------

/// The clerk of a running sandbox: ticks a few times per pace and moves every due dossier one
/// step. Aborted when the sandbox is dropped.
pub(crate) async fn run_clerk(state: PortalState) {
    loop {
        let pace = state
            .with_conn(policy)
            .map(|p| p.pace_ms)
            .unwrap_or(DEFAULT_PACE_MS);
        tokio::time::sleep(Duration::from_millis((pace / 4).clamp(5, 250))).await;
        if let Err(error) = state.with_conn(|conn| clerk_tick(conn, now_ms())) {
            tracing::warn!(%error, "the clerk's tick failed");
        }
    }
}

/// Moves every dossier due at `now_ms` one step; how many moved.
pub(crate) fn clerk_tick(conn: &Connection, now_ms: i64) -> rusqlite::Result<usize> {
    let policy = policy(conn)?;
    let due: Vec<String> = {
        let mut statement = conn.prepare_cached(
            "SELECT dossier_id FROM sandbox_tracking
             WHERE due_ms <= ?1 AND status NOT IN ('completed', 'rejected', 'withdrawn')
             ORDER BY due_ms, dossier_id",
        )?;
        statement
            .query_map([now_ms], |r| r.get(0))?
            .collect::<Result<_, _>>()?
    };
    let mut moved = 0;
    for dossier_id in due {
        let tx = conn.unchecked_transaction()?;
        if let Some(mut tracking) = load(&tx, &dossier_id)? {
            step(&tx, &policy, &mut tracking, now_ms)?;
            save(&tx, &tracking)?;
            moved += 1;
        }
        tx.commit()?;
    }
    Ok(moved)
}

/// One step of one dossier.
fn step(
    conn: &Connection,
    policy: &ClerkPolicy,
    tracking: &mut Tracking,
    now_ms: i64,
) -> rusqlite::Result<()> {
    let at = now_ms / 1_000;
    let next = now_ms + policy.pace_ms as i64;
    tracking.due_ms = next;
    if tracking.withdrawal_requested {
        tracking.status = PortalStatus::Withdrawn;
        tracking.supplement = None;
        record(conn, tracking, "withdrawn", None, at)?;
        return Ok(());
    }
    match tracking.status {
        PortalStatus::Received => {
            tracking.status = PortalStatus::Processing;
            record(conn, tracking, "processing", None, at)?;
        }
        PortalStatus::Processing => {
            let procedure = procedure(conn, &tracking.procedure_code)?;
            let items = procedure.as_ref().map(supplement_items).unwrap_or_default();
            if policy.reject {
                tracking.status = PortalStatus::Rejected;
                record(conn, tracking, "rejected", Some(REJECT_REASON), at)?;
            } else if policy.supplement == SupplementPolicy::Once
                && tracking.supplements_asked == 0
                && !items.is_empty()
            {
                tracking.supplements_asked += 1;
                tracking.status = PortalStatus::SupplementRequested;
                tracking.supplement = Some(SupplementRequest {
                    request_id: format!(
                        "SR-{}-{}",
                        tracking.receipt_code.trim_start_matches("HS-"),
                        tracking.supplements_asked
                    ),
                    reason: SUPPLEMENT_REASON.into(),
                    items,
                    due_at: Some(at + DUE_SECS),
                });
                tracking.due_ms = WAITING;
                record(conn, tracking, "supplement_requested", None, at)?;
            } else {
                tracking.status = PortalStatus::ResultReady;
                record(conn, tracking, "result_ready", None, at)?;
                let amount = policy.fee_override.unwrap_or_else(|| {
                    procedure
                        .as_ref()
                        .map(|p| p.fees.iter().map(|f| f.amount).sum())
                        .unwrap_or(0)
                });
                if amount > 0 {
                    let label = match procedure.as_ref().map(|p| p.fees.as_slice()) {
                        Some([only]) if policy.fee_override.is_none() => only.label.clone(),
                        _ => "Phí, lệ phí giải quyết thủ tục hành chính".to_string(),
                    };
                    tracking.fee = Some(FeeNotice {
                        fee_id: format!("FEE-{}", tracking.receipt_code.trim_start_matches("HS-")),
                        label,
                        amount,
                        payee: payee(),
                        reference: tracking.receipt_code.clone(),
                        state: FeeState::Due,
                        due_at: Some(at + DUE_SECS),
                        payment: None,
                    });
                    tracking.due_ms = WAITING;
                    record(conn, tracking, "fee_requested", None, at)?;
                }
            }
        }
        PortalStatus::ResultReady => {
            if tracking
                .fee
                .as_ref()
                .is_some_and(|fee| fee.state == FeeState::Due)
            {
                tracking.due_ms = WAITING;
            } else {
                tracking.status = PortalStatus::Completed;
                record(conn, tracking, "completed", None, at)?;
            }
        }
        // Waiting for the citizen; final statuses are never due.
        PortalStatus::SupplementRequested
        | PortalStatus::Completed
        | PortalStatus::Rejected
        | PortalStatus::Withdrawn => tracking.due_ms = WAITING,
    }
    Ok(())
}

/// What a supplement request asks for: the procedure's first attachment kind, or its first
/// field when it has no attachment rule.
fn supplement_items(procedure: &Procedure) -> Vec<SupplementItem> {
    if let Some(rule) = procedure.attachments.first() {
        return vec![SupplementItem::Attachment {
            attachment_kind: rule.kind.clone(),
            label: rule.label.clone(),
        }];
    }
    procedure
        .form
        .first()
        .map(|field| SupplementItem::Field {
            field_id: field.id.clone(),
            label: field.label.clone(),
        })
        .into_iter()
        .collect()
}

pub(crate) fn payee() -> Payee {
    Payee {
        bank_bin: PAYEE_BANK_BIN.into(),
        account: PAYEE_ACCOUNT.into(),
        name: PAYEE_NAME.into(),
    }
}

// --- supplements -----------------------------------------------------------------------------

/// The answer stored for a supplement filed under `key`, if one was, with this very body.
pub(crate) fn stored_supplement_answer(
    conn: &Connection,
    key: &str,
    digest: &[u8],
) -> Result<Option<SubmitResponse>, IntakeError> {
    let row = conn
        .query_row(
            "SELECT request_sha256, dossier_id, received_at FROM sandbox_supplements
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
    let Some((stored, dossier_id, received_at)) = row else {
        return Ok(None);
    };
    if stored != digest {
        return Err(IntakeError::IdempotencyKeyReused);
    }
    let tracking = load(conn, &dossier_id)?.ok_or(IntakeError::NoOpenRequest)?;
    Ok(Some(SubmitResponse {
        receipt_code: tracking.receipt_code,
        status: "supplement_received".into(),
        received_at,
        status_token: Some(status_token(conn, &tracking.device)?),
    }))
}

/// Files a supplement manifest (already verified, its key checked): it must come from the
/// device that filed the original, answer the original's open request, keep its procedure and
/// hold what the request asked for.
#[allow(clippy::too_many_arguments)]
pub(crate) fn submit_supplement(
    conn: &Connection,
    key: &str,
    digest: &[u8],
    request: &SubmitRequest,
    manifest: &Manifest,
    device: &EcPublicJwk,
    uploads: &dyn Fn(&str) -> Option<FinishedUpload>,
    now: i64,
) -> Result<(bool, SubmitResponse), IntakeError> {
    let reference = manifest
        .supplement
        .as_ref()
        .ok_or(IntakeError::Invalid("supplement"))?;
    let mut tracking = load(conn, &reference.dossier_id)?.ok_or(IntakeError::NoOpenRequest)?;
    if tracking.device != device.thumbprint() {
        return Err(IntakeError::NotYourDossier);
    }
    let open = tracking
        .supplement
        .clone()
        .filter(|_| tracking.status == PortalStatus::SupplementRequested)
        .filter(|open| open.request_id == reference.request_id)
        .ok_or(IntakeError::NoOpenRequest)?;
    if manifest.procedure.code != tracking.procedure_code
        || manifest.procedure.version != tracking.procedure_version
    {
        return Err(IntakeError::ProcedureMismatch);
    }
    let procedure =
        procedure(conn, &tracking.procedure_code)?.ok_or(IntakeError::UnknownProcedure)?;
    let problems = supplement_problems(&procedure, &open, manifest, now);
    if !problems.is_empty() {
        return Err(IntakeError::ValidationFailed(problems));
    }
    crate::dossiers::check_uploads(manifest, request, uploads)?;

    let tx = conn.unchecked_transaction()?;
    let inserted = tx.execute(
        "INSERT INTO sandbox_supplements (idempotency_key, request_sha256, dossier_id, request_id,
             manifest, uploads, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT DO NOTHING",
        params![
            key,
            digest,
            tracking.dossier_id,
            open.request_id,
            request.manifest,
            serde_json::to_string(&request.uploads).unwrap_or_default(),
            now
        ],
    )?;
    if inserted == 0 {
        drop(tx);
        // A racing repeat won, or another supplement answered this request first.
        return stored_supplement_answer(conn, key, digest)?
            .map(|answer| (false, answer))
            .ok_or(IntakeError::NoOpenRequest);
    }
    let pace = policy(&tx)?.pace_ms as i64;
    tracking.status = PortalStatus::Processing;
    tracking.supplement = None;
    tracking.due_ms = now_ms() + pace;
    save(&tx, &tracking)?;
    record(&tx, &tracking, "supplement_received", None, now)?;
    let token = status_token(&tx, &tracking.device)?;
    tx.commit()?;
    tracing::info!("supplement received");
    Ok((
        true,
        SubmitResponse {
            receipt_code: tracking.receipt_code,
            status: "supplement_received".into(),
            received_at: now,
            status_token: Some(token),
        },
    ))
}

/// What is wrong with a supplement's content, by field id or attachment kind (never values):
/// each requested field has a value and each requested attachment kind is present; every value
/// passes its field's rules (core's `check_field`, as the phone validated it); every attachment
/// is of a kind, media type and size the procedure accepts, no more of a kind than it allows;
/// nothing names a field or kind the procedure does not have.
fn supplement_problems(
    procedure: &Procedure,
    open: &SupplementRequest,
    manifest: &Manifest,
    now: i64,
) -> Vec<String> {
    let mut problems = Vec::new();
    for item in &open.items {
        match item {
            SupplementItem::Field { field_id, .. } => {
                if manifest
                    .form
                    .get(field_id)
                    .is_none_or(|value| value.trim().is_empty())
                {
                    problems.push(field_id.clone());
                }
            }
            SupplementItem::Attachment {
                attachment_kind, ..
            } => {
                if !manifest
                    .attachments
                    .iter()
                    .any(|a| &a.kind == attachment_kind)
                {
                    problems.push(attachment_kind.clone());
                }
            }
        }
    }
    let today = (now + validate::VIETNAM_UTC_OFFSET_SECS).div_euclid(86_400);
    for (name, value) in &manifest.form {
        match procedure.form.iter().find(|field| &field.id == name) {
            None => problems.push(name.clone()),
            Some(field) => {
                let value = value.trim();
                if !value.is_empty() && validate::check_field(field, value, today).is_some() {
                    problems.push(name.clone());
                }
            }
        }
    }
    for attachment in &manifest.attachments {
        let Some(rule) = procedure
            .attachments
            .iter()
            .find(|rule| rule.kind == attachment.kind)
        else {
            problems.push(attachment.kind.clone());
            continue;
        };
        let count = manifest
            .attachments
            .iter()
            .filter(|a| a.kind == attachment.kind)
            .count();
        if !rule.media_types.contains(&attachment.media_type)
            || attachment.size > rule.max_bytes
            || count > rule.max_count as usize
        {
            problems.push(attachment.kind.clone());
        }
    }
    problems.sort();
    problems.dedup();
    problems
}

// --- the status feed -------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct FeedQuery {
    since: Option<String>,
}

fn feed_error(status: StatusCode, code: &str) -> Response {
    (status, Json(json!({ "error": code }))).into_response()
}

/// The feed's `ETag` for a page whose cursor is `cursor`: a phone that stored that page asks
/// `since=cursor` with it and gets `304` while nothing came after.
fn etag(cursor: &str) -> String {
    format!("\"c{cursor}\"")
}

/// `GET /v1/dossiers/changes?since=<cursor>`.
async fn changes_handler(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Query(query): Query<FeedQuery>,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        // The scheme is case-insensitive (RFC 9110).
        .and_then(|v| {
            v.get(..7)
                .filter(|scheme| scheme.eq_ignore_ascii_case("bearer "))
                .and(v.get(7..))
        })
        .map(str::trim)
        .filter(|t| manifest::is_status_token(t));
    let Some(token) = token else {
        return unauthorized();
    };
    let since = match query.since.as_deref() {
        None | Some("") => 0,
        Some(text) => match text.parse::<u64>() {
            Ok(since) if since <= i64::MAX as u64 => since,
            _ => {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({ "error": "invalid_field", "field": "since" })),
                )
                    .into_response();
            }
        },
    };
    let result = state.with_conn(|conn| -> rusqlite::Result<Option<StatusFeedPage>> {
        let Some(device) = device_of_token(conn, token)? else {
            return Ok(None);
        };
        changes_page(conn, &device, since).map(Some)
    });
    let page = match result {
        Ok(Some(page)) => page,
        Ok(None) => return unauthorized(),
        Err(error) => return internal(&error),
    };
    let tag = etag(&page.cursor);
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == tag || t.trim() == "*")
        });
    let tag_value = HeaderValue::from_str(&tag).unwrap_or(HeaderValue::from_static("\"c0\""));
    let no_store = (header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if matches && page.changes.is_empty() {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        response.headers_mut().insert(header::ETAG, tag_value);
        response.headers_mut().insert(no_store.0, no_store.1);
        return response;
    }
    let mut response = Json(page).into_response();
    response.headers_mut().insert(header::ETAG, tag_value);
    response.headers_mut().insert(no_store.0, no_store.1);
    response
}

fn unauthorized() -> Response {
    let mut response = feed_error(StatusCode::UNAUTHORIZED, "invalid_token");
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    response
}

/// The changes of `device`'s dossiers after `since`, at most [`PAGE_LIMIT`].
pub(crate) fn changes_page(
    conn: &Connection,
    device: &str,
    since: u64,
) -> rusqlite::Result<StatusFeedPage> {
    let mut statement = conn.prepare_cached(
        "SELECT seq, change FROM sandbox_changes WHERE device = ?1 AND seq > ?2
         ORDER BY seq LIMIT ?3",
    )?;
    let rows = statement.query_map(
        params![device, since as i64, (PAGE_LIMIT + 1) as i64],
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
    )?;
    let mut changes = Vec::new();
    for row in rows {
        let (seq, text) = row?;
        if let Ok(mut change) = serde_json::from_str::<StatusChange>(&text) {
            change.seq = seq as u64;
            changes.push(change);
        }
    }
    let more = changes.len() > PAGE_LIMIT;
    changes.truncate(PAGE_LIMIT);
    let cursor = changes
        .last()
        .map_or(since, |change| change.seq)
        .to_string();
    Ok(StatusFeedPage {
        changes,
        cursor,
        more,
    })
}

// --- withdrawals -----------------------------------------------------------------------------

#[derive(Debug, thiserror::Error)]
pub(crate) enum WithdrawalError {
    #[error("the field `{0}` is missing or malformed")]
    Invalid(&'static str),
    #[error("the withdrawal request does not verify")]
    Request,
    #[error("the idempotency key does not name this request")]
    KeyMismatch,
    #[error("the idempotency key was used for another request")]
    IdempotencyKeyReused,
    #[error("no such dossier")]
    UnknownDossier,
    #[error("the dossier was filed by another device")]
    NotYourDossier,
    #[error("the dossier's status is final")]
    NotWithdrawable,
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
}

impl IntoResponse for WithdrawalError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            Self::Invalid(field) => {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({ "error": "invalid_field", "field": field })),
                )
                    .into_response();
            }
            Self::Request => (StatusCode::BAD_REQUEST, "invalid_request"),
            Self::KeyMismatch => (StatusCode::BAD_REQUEST, "idempotency_key_mismatch"),
            Self::IdempotencyKeyReused => {
                (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
            }
            Self::UnknownDossier => (StatusCode::NOT_FOUND, "unknown_dossier"),
            Self::NotYourDossier => (StatusCode::FORBIDDEN, "not_your_dossier"),
            // 422, not 409: a phone retries 409 (the idempotency draft's "still being processed").
            Self::NotWithdrawable => (StatusCode::UNPROCESSABLE_ENTITY, "not_withdrawable"),
            Self::Database(error) => return internal(error),
        };
        feed_error(status, code)
    }
}

async fn withdrawal_handler(
    State(state): State<PortalState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match state.with_conn(|conn| withdraw(conn, key.as_deref(), &body, crate::state::now())) {
        Ok((created, answer)) => {
            if created {
                (StatusCode::ACCEPTED, Json(answer)).into_response()
            } else {
                let mut response = (StatusCode::OK, Json(answer)).into_response();
                response.headers_mut().insert(
                    HeaderName::from_static("idempotent-replayed"),
                    HeaderValue::from_static("true"),
                );
                response
            }
        }
        Err(error) => error.into_response(),
    }
}

/// Files a withdrawal request under `key`, or finds the one filed before under it. `true` when
/// this call filed it.
pub(crate) fn withdraw(
    conn: &Connection,
    key: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(bool, WithdrawalResponse), WithdrawalError> {
    let key = key
        .filter(|k| manifest::is_dossier_id(k))
        .ok_or(WithdrawalError::Invalid("Idempotency-Key"))?;
    if body.len() > manifest::MAX_MANIFEST_BYTES + 1_024 {
        return Err(WithdrawalError::Invalid("body"));
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, body)
        .as_ref()
        .to_vec();
    if let Some(answer) = stored_withdrawal(conn, key, &digest)? {
        return Ok((false, answer));
    }
    let body: WithdrawalBody =
        serde_json::from_slice(body).map_err(|_| WithdrawalError::Invalid("body"))?;
    let (request, device) =
        manifest::verify_withdrawal(&body.request).map_err(|_| WithdrawalError::Request)?;
    if request.jti != key {
        return Err(WithdrawalError::KeyMismatch);
    }
    let tx = conn.unchecked_transaction()?;
    let mut tracking = load(&tx, &request.dossier_id)?.ok_or(WithdrawalError::UnknownDossier)?;
    if tracking.device != device.thumbprint() {
        return Err(WithdrawalError::NotYourDossier);
    }
    if tracking.status.is_final() {
        return Err(WithdrawalError::NotWithdrawable);
    }
    let inserted = tx.execute(
        "INSERT INTO sandbox_withdrawals (idempotency_key, request_sha256, dossier_id,
             receipt_code, at)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
        params![key, digest, tracking.dossier_id, tracking.receipt_code, now],
    )?;
    if inserted == 0 {
        drop(tx);
        return stored_withdrawal(conn, key, &digest)?
            .map(|answer| (false, answer))
            .ok_or(WithdrawalError::IdempotencyKeyReused);
    }
    if !tracking.withdrawal_requested {
        let pace = policy(&tx)?.pace_ms as i64;
        tracking.withdrawal_requested = true;
        tracking.due_ms = tracking.due_ms.min(now_ms() + pace);
        save(&tx, &tracking)?;
        record(&tx, &tracking, "withdrawal_requested", None, now)?;
    }
    tx.commit()?;
    tracing::info!("withdrawal requested");
    Ok((
        true,
        WithdrawalResponse {
            receipt_code: tracking.receipt_code,
            status: "withdrawal_requested".into(),
        },
    ))
}

fn stored_withdrawal(
    conn: &Connection,
    key: &str,
    digest: &[u8],
) -> Result<Option<WithdrawalResponse>, WithdrawalError> {
    let row = conn
        .query_row(
            "SELECT request_sha256, receipt_code FROM sandbox_withdrawals
             WHERE idempotency_key = ?1",
            [key],
            |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?)),
        )
        .optional()?;
    match row {
        None => Ok(None),
        Some((stored, _)) if stored != digest => Err(WithdrawalError::IdempotencyKeyReused),
        Some((_, receipt_code)) => Ok(Some(WithdrawalResponse {
            receipt_code,
            status: "withdrawal_requested".into(),
        })),
    }
}

// --- fees ------------------------------------------------------------------------------------

/// Why a fee could not be marked paid.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PayRefusal {
    UnknownReference,
    AlreadyPaid,
    AmountMismatch,
    NotPayable,
}

/// Marks the fee whose reference is `reference` paid with `receipt` if `amount` is what it asks
/// (the bank's side is in `bank`); records `fee_paid` and makes the dossier due one pace later.
pub(crate) fn pay_fee(
    conn: &Connection,
    reference: &str,
    amount: Option<u64>,
    receipt: &PaymentReceipt,
) -> rusqlite::Result<Result<(), PayRefusal>> {
    let Some(mut tracking) = load_where(conn, "receipt_code", reference)? else {
        return Ok(Err(PayRefusal::UnknownReference));
    };
    let Some(fee) = tracking.fee.as_mut() else {
        return Ok(Err(PayRefusal::UnknownReference));
    };
    if fee.state == FeeState::Paid {
        return Ok(Err(PayRefusal::AlreadyPaid));
    }
    if amount != Some(fee.amount) {
        return Ok(Err(PayRefusal::AmountMismatch));
    }
    if tracking.status != PortalStatus::ResultReady || tracking.withdrawal_requested {
        return Ok(Err(PayRefusal::NotPayable));
    }
    fee.state = FeeState::Paid;
    fee.payment = Some(receipt.clone());
    let pace = policy(conn)?.pace_ms as i64;
    tracking.due_ms = now_ms() + pace;
    save(conn, &tracking)?;
    record(conn, &tracking, "fee_paid", None, receipt.paid_at)?;
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_policy_asks_once_at_a_pace_of_one_and_a_half_seconds() {
        let policy = ClerkPolicy::default();
        assert_eq!(policy.pace_ms, 1_500);
        assert_eq!(policy.supplement, SupplementPolicy::Once);
        assert!(!policy.reject);
        let partial: ClerkPolicy = serde_json::from_str(r#"{"pace_ms": 20}"#).unwrap();
        assert_eq!(partial.pace_ms, 20);
        assert!(
            ClerkPolicy {
                pace_ms: 0,
                ..policy
            }
            .check()
            .is_err()
        );
    }

    #[test]
    fn the_payee_passes_the_feeds_checks() {
        let fee = FeeNotice {
            fee_id: "FEE-2026-000001".into(),
            label: "Lệ phí".into(),
            amount: 8_000,
            payee: payee(),
            reference: "HS-2026-000001".into(),
            state: FeeState::Due,
            due_at: None,
            payment: None,
        };
        let page = StatusFeedPage {
            changes: vec![StatusChange {
                seq: 1,
                dossier_id: "AAAAAAAAAAAAAAAAAAAAAA".into(),
                receipt_code: "HS-2026-000001".into(),
                event: "fee_requested".into(),
                status: Some(PortalStatus::ResultReady),
                at: 1_790_000_000,
                reason: None,
                supplement: None,
                fee: Some(fee),
            }],
            cursor: "1".into(),
            more: false,
        };
        page.check(None).unwrap();
        assert!(
            citizen_core::vietqr::payment_request(
                PAYEE_BANK_BIN,
                PAYEE_ACCOUNT,
                8_000,
                "HS-2026-000001"
            )
            .is_ok()
        );
    }
}
