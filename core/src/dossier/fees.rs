//! Fees: what a dossier owes, the VietQR that pays it, and the bank's receipt once paid.
//!
//! Owns: reading the `dossier_fees` table (migration 16; written by the status feed, `tracking`)
//! for the citizen ([`Dossiers::fees`]) and turning a due fee's payment request into a VietQR
//! ([`Dossiers::fee_payment_code`]: EMVCo merchant-presented, NAPAS field 38 to the agency's
//! account, the amount, the receipt code as the transfer note, CRC-16/CCITT-FALSE; the text is
//! read back by the strict parser before it is returned). Does not own the VietQR format
//! (`crate::vietqr`), drawing it (`crate::qr`), nor whether a fee is paid: only the portal says
//! so, through the status feed, with the bank's transaction reference. The phone never marks a
//! fee paid itself: a bank app showing "success" is not the agency receiving the money.

use rusqlite::{Connection, OptionalExtension};

use crate::store::StoreError;
use crate::vietqr::{self, VietQr};

use super::status_feed::{FeeState, PaymentReceipt};
use super::{DossierError, Dossiers};

/// A fee of a filed dossier as the citizen sees it. The payee's account number is not here: it
/// is only ever needed inside the payment code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierFee {
    pub fee_id: String,
    pub submission_id: i64,
    /// What it is for (Vietnamese).
    pub label: String,
    /// In đồng.
    pub amount: u64,
    /// The transfer note that matches the payment to the fee: the dossier's receipt code.
    pub reference: String,
    /// Who is paid, as a bank app shows it, and their bank.
    pub payee_name: String,
    pub bank_bin: String,
    pub state: FeeState,
    pub due_at: Option<i64>,
    /// The bank's receipt, once the portal confirmed the payment.
    pub payment: Option<PaymentReceipt>,
}

const COLUMNS: &str = "fee_id, submission_id, label, amount, reference, payee_name, bank_bin,
    state, due_at, transaction_id, paid_amount, paid_at";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<DossierFee> {
    let transaction_id: Option<String> = row.get(9)?;
    let payment = match transaction_id {
        Some(transaction_id) => Some(PaymentReceipt {
            transaction_id,
            amount: row.get::<_, Option<i64>>(10)?.unwrap_or(0) as u64,
            paid_at: row.get::<_, Option<i64>>(11)?.unwrap_or(0),
        }),
        None => None,
    };
    Ok(DossierFee {
        fee_id: row.get(0)?,
        submission_id: row.get(1)?,
        label: row.get(2)?,
        amount: row.get::<_, i64>(3)? as u64,
        reference: row.get(4)?,
        payee_name: row.get(5)?,
        bank_bin: row.get(6)?,
        state: FeeState::parse(&row.get::<_, String>(7)?).unwrap_or(FeeState::Due),
        due_at: row.get(8)?,
        payment,
    })
}

/// The fees of submission `id`, in the order the portal asked for them.
pub(crate) fn of_submission(conn: &Connection, id: i64) -> Result<Vec<DossierFee>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM dossier_fees WHERE submission_id = ?1 ORDER BY updated_seq, fee_id"
    );
    let mut statement = conn.prepare(&sql)?;
    let rows = statement.query_map([id], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What a fee's VietQR is drawn from.
struct PaymentRequest {
    bank_bin: String,
    account: String,
    amount: u64,
    reference: String,
}

/// The payment request of fee `fee_id` of submission `submission_id`.
fn payment_request(
    conn: &Connection,
    submission_id: i64,
    fee_id: &str,
) -> Result<Option<PaymentRequest>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT bank_bin, account, amount, reference FROM dossier_fees
             WHERE submission_id = ?1 AND fee_id = ?2",
            rusqlite::params![submission_id, fee_id],
            |r| {
                Ok(PaymentRequest {
                    bank_bin: r.get(0)?,
                    account: r.get(1)?,
                    amount: r.get::<_, i64>(2)? as u64,
                    reference: r.get(3)?,
                })
            },
        )
        .optional()?)
}

impl Dossiers {
    /// The fees of filed dossier `id` (due and paid), as the status feed last reported them.
    pub async fn fees(&self, id: i64) -> Result<Vec<DossierFee>, DossierError> {
        Ok(self
            .inner
            .store
            .read(move |conn| of_submission(conn, id))
            .await?)
    }

    /// The VietQR that pays fee `fee_id` of filed dossier `id`: a one-time NAPAS247 transfer of
    /// exactly the fee to the agency's account with the receipt code as the transfer note. Its
    /// text (`encode`) is what the QR carries; draw it with `crate::qr`. Also for a paid fee (a
    /// receipt screen may show what was paid); `FeeNotFound` for an unknown one.
    pub async fn fee_payment_code(&self, id: i64, fee_id: &str) -> Result<VietQr, DossierError> {
        let fee_id = fee_id.to_owned();
        let request = self
            .inner
            .store
            .read(move |conn| payment_request(conn, id, &fee_id))
            .await?
            .ok_or(DossierError::FeeNotFound)?;
        Ok(vietqr::payment_request(
            &request.bank_bin,
            &request.account,
            request.amount,
            &request.reference,
        )?)
    }
}
