//! The FFI of `citizen_core::vietqr`: reading any scanned VietQR and making a fee's payment code,
//! as free functions for apps and agency tools.
//!
//! Owns: shape only; the format's rules are in `citizen_core::vietqr`.

use crate::error::CitizenError;

/// A VietQR payment code, read. See `citizen_core::vietqr::VietQr`. A transfer QR names a
/// person and their account: `Debug` leaves those out.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct VietQrPayment {
    /// `true` for a one-time code (with an amount and a reference), `false` for a printed one.
    pub dynamic: bool,
    /// The receiving bank's six-digit BIN (NAPAS247 codes only).
    pub bank_bin: Option<String>,
    /// The receiving account or card number (NAPAS247 codes only).
    pub account: Option<String>,
    /// The amount in đồng, when the code fixes one.
    pub amount: Option<u64>,
    /// The transfer note (62.08), e.g. a dossier's receipt code.
    pub purpose: Option<String>,
    /// The merchant's name (59), when present.
    pub merchant_name: Option<String>,
    /// The merchant's city (60), when present.
    pub merchant_city: Option<String>,
}

impl std::fmt::Debug for VietQrPayment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VietQrPayment")
            .field("dynamic", &self.dynamic)
            .field("bank_bin", &self.bank_bin)
            .field("amount", &self.amount)
            .finish_non_exhaustive()
    }
}

/// Reads a scanned VietQR strictly (fields, lengths, CRC). A refusal is `InvalidInput` with
/// field `vietqr` and a code saying why (`crc_mismatch`, `malformed`, ...).
#[uniffi::export]
pub fn parse_vietqr(text: String) -> Result<VietQrPayment, CitizenError> {
    let parsed = citizen_core::vietqr::parse(text.trim()).map_err(refusal)?;
    Ok(VietQrPayment {
        dynamic: parsed.initiation == citizen_core::vietqr::Initiation::Dynamic,
        bank_bin: parsed.napas.as_ref().map(|n| n.bank_bin.clone()),
        account: parsed.napas.as_ref().map(|n| n.account.clone()),
        amount: parsed.amount,
        purpose: parsed.purpose().map(str::to_owned),
        merchant_name: parsed.merchant_name.clone(),
        merchant_city: parsed.merchant_city.clone(),
    })
}

/// The VietQR text of a payment of `amount` đồng to `account` at bank `bank_bin`, with
/// `reference` (1 to 25 printable ASCII characters, e.g. a receipt code) as the transfer note.
/// Draw it with any QR renderer, or scan it back with `parse_vietqr`.
#[uniffi::export]
pub fn vietqr_payment_request(
    bank_bin: String,
    account: String,
    amount: u64,
    reference: String,
) -> Result<String, CitizenError> {
    citizen_core::vietqr::payment_request(&bank_bin, &account, amount, &reference)
        .and_then(|code| code.encode())
        .map_err(refusal)
}

fn refusal(error: citizen_core::vietqr::VietQrError) -> CitizenError {
    use citizen_core::vietqr::VietQrError as E;
    let code = match &error {
        E::CrcMismatch | E::CrcFormat => "crc_mismatch",
        E::TooLong { .. } | E::FieldTooLong { .. } => "too_long",
        E::Missing { .. } | E::NoMerchantAccount => "missing_field",
        _ => "malformed",
    };
    CitizenError::InvalidInput {
        field: "vietqr".into(),
        code: code.into(),
        detail: error.to_string(),
    }
}
