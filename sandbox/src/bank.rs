//! The sandbox's bank: pays a dossier's fee from the VietQR a phone shows, the way a citizen's
//! bank app would (NAPAS 247 to the agency's collection account, the receipt code in the
//! transfer note).
//!
//! Owns: `POST /v1/bank/transfers` (`{"qr": "<VietQR text>"}`), `RunningSandbox::pay`, the
//! offline `citizen-sandbox pay`, and the `sandbox_bank_transfers` table. The VietQR is read by
//! the SDK's own strict parser (`citizen_core::vietqr::parse`); the fee it pays is the one whose
//! reference (the receipt code) is the transfer's purpose (62.08). Does not own the fee itself
//! (`tracking`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use citizen_core::dossier::status_feed::PaymentReceipt;
use citizen_core::vietqr::{self, VietQrError};

use crate::state::PortalState;
use crate::tracking::{PAYEE_ACCOUNT, PAYEE_BANK_BIN, PayRefusal};

/// The longest VietQR text the bank reads.
const MAX_QR_CHARS: usize = 1_024;

pub(crate) fn create_tables(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS sandbox_bank_transfers (
             transaction_id TEXT PRIMARY KEY,
             reference TEXT NOT NULL,
             amount INTEGER NOT NULL,
             paid_at INTEGER NOT NULL
         );",
    )
}

pub(crate) fn routes() -> Router<PortalState> {
    Router::new().route("/v1/bank/transfers", post(transfer_handler))
}

/// The body of `POST /v1/bank/transfers`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TransferRequest {
    qr: String,
}

/// A transfer the bank made: `201` of `POST /v1/bank/transfers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// `FT…`, the bank's transaction reference (what the fee's `payment.transaction_id` says).
    pub transaction_id: String,
    /// The transfer note: the fee's reference (the dossier's receipt code).
    pub reference: String,
    /// In đồng.
    pub amount: u64,
    pub paid_at: i64,
}

/// Why the bank refused a transfer. Texts name codes, never the account or the note.
#[derive(Debug, thiserror::Error)]
pub enum BankError {
    #[error("the QR is not a valid VietQR ({0})")]
    InvalidQr(&'static str),
    #[error("the QR does not pay the agency's collection account")]
    WrongPayee,
    #[error("no fee has this reference")]
    UnknownReference,
    #[error("the amount is not the fee's")]
    AmountMismatch,
    #[error("the fee is already paid")]
    AlreadyPaid,
    #[error("the dossier no longer takes a payment")]
    NotPayable,
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
}

impl IntoResponse for BankError {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            Self::InvalidQr(reason) => (
                StatusCode::BAD_REQUEST,
                json!({ "error": "invalid_qr", "reason": reason }),
            ),
            Self::WrongPayee => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "error": "wrong_payee" }),
            ),
            Self::UnknownReference => (
                StatusCode::NOT_FOUND,
                json!({ "error": "unknown_reference" }),
            ),
            Self::AmountMismatch => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "error": "amount_mismatch" }),
            ),
            Self::AlreadyPaid => (StatusCode::CONFLICT, json!({ "error": "already_paid" })),
            Self::NotPayable => (StatusCode::CONFLICT, json!({ "error": "not_payable" })),
            Self::Database(error) => {
                tracing::error!(%error, "a bank transfer failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({ "error": "internal" }),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}

/// The machine code of a VietQR refusal (`crc_mismatch`, `missing`, ...).
pub fn reason_code(error: &VietQrError) -> &'static str {
    match error {
        VietQrError::Empty => "empty",
        VietQrError::TooLong { .. } => "too_long",
        VietQrError::BadId { .. } => "bad_id",
        VietQrError::BadLength { .. } => "bad_length",
        VietQrError::Overrun { .. } => "overrun",
        VietQrError::Truncated { .. } => "truncated",
        VietQrError::Duplicate { .. } => "duplicate",
        VietQrError::Missing { .. } => "missing",
        VietQrError::UnexpectedField { .. } => "unexpected_field",
        VietQrError::PayloadFormatNotFirst => "payload_format_not_first",
        VietQrError::UnsupportedPayloadFormat => "unsupported_payload_format",
        VietQrError::TrailingData => "trailing_data",
        VietQrError::CrcFormat => "crc_format",
        VietQrError::CrcMismatch => "crc_mismatch",
        VietQrError::ControlCharacter { .. } => "control_character",
        VietQrError::WrongLength { .. } => "wrong_length",
        VietQrError::FieldTooLong { .. } => "field_too_long",
        VietQrError::NotDigits { .. } => "not_digits",
        VietQrError::InvalidInitiation => "invalid_initiation",
        VietQrError::NoMerchantAccount => "no_merchant_account",
        VietQrError::UnknownGuid => "unknown_guid",
        VietQrError::InvalidAccount => "invalid_account",
        VietQrError::UnknownServiceCode => "unknown_service_code",
        VietQrError::NonDigitAmount => "non_digit_amount",
        VietQrError::ZeroAmount => "zero_amount",
        VietQrError::UnsupportedCurrency => "unsupported_currency",
        VietQrError::UnsupportedCountry => "unsupported_country",
        VietQrError::InvalidReference => "invalid_reference",
        VietQrError::Qr(_) => "qr",
        _ => "invalid",
    }
}

/// Pays the fee `qr_text` asks for: the QR must read strictly, pay the agency's collection
/// account the fee's exact amount, and name a due fee's reference as its purpose.
pub fn pay(conn: &Connection, qr_text: &str, now: i64) -> Result<Transfer, BankError> {
    if qr_text.chars().count() > MAX_QR_CHARS {
        return Err(BankError::InvalidQr("too_long"));
    }
    let qr = vietqr::parse(qr_text).map_err(|e| BankError::InvalidQr(reason_code(&e)))?;
    let to_agency = qr
        .napas
        .as_ref()
        .is_some_and(|napas| napas.bank_bin == PAYEE_BANK_BIN && napas.account == PAYEE_ACCOUNT);
    if !to_agency {
        return Err(BankError::WrongPayee);
    }
    let reference = qr
        .purpose()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or(BankError::UnknownReference)?
        .to_owned();
    let tx = conn.unchecked_transaction()?;
    let transaction_id = transaction_id(&tx, now)?;
    let receipt = PaymentReceipt {
        transaction_id: transaction_id.clone(),
        amount: qr.amount.unwrap_or(0),
        paid_at: now,
    };
    match crate::tracking::pay_fee(&tx, &reference, qr.amount, &receipt)? {
        Ok(()) => {}
        Err(PayRefusal::UnknownReference) => return Err(BankError::UnknownReference),
        Err(PayRefusal::AlreadyPaid) => return Err(BankError::AlreadyPaid),
        Err(PayRefusal::AmountMismatch) => return Err(BankError::AmountMismatch),
        Err(PayRefusal::NotPayable) => return Err(BankError::NotPayable),
    }
    tx.execute(
        "INSERT INTO sandbox_bank_transfers (transaction_id, reference, amount, paid_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![transaction_id, reference, receipt.amount as i64, now],
    )?;
    tx.commit()?;
    tracing::info!("a fee was paid");
    Ok(Transfer {
        transaction_id,
        reference,
        amount: receipt.amount,
        paid_at: now,
    })
}

/// `FT` + the day (yyDDD-like, from `now`) + a running number: unique within the sandbox.
fn transaction_id(conn: &Connection, now: i64) -> rusqlite::Result<String> {
    let count: i64 = conn.query_row("SELECT count(*) FROM sandbox_bank_transfers", [], |r| {
        r.get(0)
    })?;
    Ok(format!("FT{}{:06}", now.div_euclid(86_400), count + 1))
}

async fn transfer_handler(State(state): State<PortalState>, body: axum::body::Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<TransferRequest>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_field", "field": "qr" })),
        )
            .into_response();
    };
    match state.with_conn(|conn| pay(conn, &request.qr, crate::state::now())) {
        Ok(transfer) => (StatusCode::CREATED, Json(transfer)).into_response(),
        Err(error) => error.into_response(),
    }
}
