//! VietQR: the NAPAS payment QR text (NAPAS "Quy định định dạng mã VietQR" v1.0, an EMVCo
//! merchant-presented QR), read strictly and written for a fee's payment request.
//!
//! Owns: [`parse`], which reads any scanned VietQR text into a [`VietQr`] or refuses it with a
//! typed [`VietQrError`] naming the field at fault (never its value); [`VietQr::encode`], which
//! writes a value back as text (canonical order, uppercase CRC) and checks it parses; and
//! [`payment_request`], the dynamic QR a citizen scans in a bank app to pay a dossier's fee (bank
//! BIN, account, amount in VND, the receipt code as the transfer's purpose). Pure and I/O-free.
//! Does not own drawing the code ([`crate::qr`], reached by [`VietQr::to_qr`]), which payment
//! requests exist, nor tracking whether a fee was paid.
//!
//! The format: data objects `ID LEN VALUE`, a two-digit id and a two-digit length from 01 to 99
//! that counts characters (not bytes); templates (26–51 merchant accounts, 62 additional data,
//! 64 and 80–99) hold data objects of their own, whose lengths must add up to their parent's
//! exactly. `00` (payload format, `01`) comes first and `63` (CRC-16/CCITT-FALSE, four hex
//! digits) last; the CRC runs over the UTF-8 bytes of everything before its four digits, `6304`
//! included. Every input is bounded ([`MAX_PAYLOAD_CHARS`]) before it is read.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::qr::{QrError, QrImage};

/// The longest payload read or written, in characters (EMVCo's limit for a merchant QR).
pub const MAX_PAYLOAD_CHARS: usize = 512;
/// The same bound in bytes, checked before anything is counted (a character is at most 4 bytes).
const MAX_PAYLOAD_BYTES: usize = 4 * MAX_PAYLOAD_CHARS;
/// The longest value of one data object, in characters.
const MAX_VALUE_CHARS: usize = 99;
/// NAPAS's globally unique identifier (its AID), sub-field 00 of field 38.
pub const NAPAS_GUID: &str = "A000000727";
/// The one transaction currency of a VietQR (ISO 4217 numeric for the Vietnamese đồng).
pub const CURRENCY_VND: &str = "704";
/// The one country code of a VietQR.
pub const COUNTRY_VN: &str = "VN";
/// The longest amount, in characters (field 54).
pub const MAX_AMOUNT_CHARS: usize = 13;
/// The longest consumer (account or card) number, in characters (field 38.01.01).
pub const MAX_ACCOUNT_CHARS: usize = 19;
/// The longest reference a payment request carries (an EMVCo additional-data sub-field).
pub const MAX_REFERENCE_CHARS: usize = 25;

const ID_PAYLOAD_FORMAT: u8 = 0;
const ID_INITIATION: u8 = 1;
const ID_NAPAS: u8 = 38;
const ID_MCC: u8 = 52;
const ID_CURRENCY: u8 = 53;
const ID_AMOUNT: u8 = 54;
const ID_COUNTRY: u8 = 58;
const ID_MERCHANT_NAME: u8 = 59;
const ID_MERCHANT_CITY: u8 = 60;
const ID_ADDITIONAL: u8 = 62;
const ID_CRC: u8 = 63;
/// The fields [`VietQr`] holds by name (or as the constants 704 and VN), never in `other`.
const TYPED_IDS: [u8; 11] = [
    ID_PAYLOAD_FORMAT,
    ID_INITIATION,
    ID_NAPAS,
    ID_MCC,
    ID_CURRENCY,
    ID_AMOUNT,
    ID_COUNTRY,
    ID_MERCHANT_NAME,
    ID_MERCHANT_CITY,
    ID_ADDITIONAL,
    ID_CRC,
];

/// Sub-fields of the additional data template (62).
pub const ADDITIONAL_BILL_NUMBER: u8 = 1;
pub const ADDITIONAL_REFERENCE_LABEL: u8 = 5;
pub const ADDITIONAL_PURPOSE: u8 = 8;

/// Why a VietQR text was refused or could not be written. `field` is a dotted path of ids
/// (`38.01.00` is the bank BIN); `within` is the template being read (`payload` at the top).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VietQrError {
    #[error("the payload is empty")]
    Empty,
    #[error("the payload is longer than {max} characters")]
    TooLong { max: usize },
    #[error("an id in {} is not two digits", scope(within))]
    BadId { within: String },
    #[error("field {field}: the length is not two digits from 01 to 99")]
    BadLength { field: String },
    #[error("field {field}: the length runs past the end of {}", scope(within))]
    Overrun { field: String, within: String },
    #[error("{} ends inside a data object's id or length", scope(within))]
    Truncated { within: String },
    #[error("field {field} appears twice")]
    Duplicate { field: String },
    #[error("the required field {field} is missing")]
    Missing { field: String },
    #[error("field {field} is not allowed here")]
    UnexpectedField { field: String },
    #[error("the payload format indicator (00) is not the first field")]
    PayloadFormatNotFirst,
    #[error("the payload format indicator (00) is not 01")]
    UnsupportedPayloadFormat,
    #[error("data follows the CRC (63), which must be the last field")]
    TrailingData,
    #[error("the CRC (63) is not four hexadecimal digits")]
    CrcFormat,
    #[error("the CRC (63) does not match the payload")]
    CrcMismatch,
    #[error("field {field} holds a control character")]
    ControlCharacter { field: String },
    #[error("field {field} must be {expected} characters long")]
    WrongLength { field: String, expected: usize },
    #[error("field {field} is longer than {max} characters")]
    FieldTooLong { field: String, max: usize },
    #[error("field {field} must hold digits only")]
    NotDigits { field: String },
    #[error("the point of initiation (01) is neither 11 (static) nor 12 (dynamic)")]
    InvalidInitiation,
    #[error("no merchant account information (02 to 51)")]
    NoMerchantAccount,
    #[error("field 38.00 is not the NAPAS GUID")]
    UnknownGuid,
    #[error("field 38.01.01 (account or card number) must be letters and digits only")]
    InvalidAccount,
    #[error("field 38.02 is neither QRIBFTTA (account) nor QRIBFTTC (card)")]
    UnknownServiceCode,
    #[error("the amount (54) is not digits (with at most a final '.')")]
    NonDigitAmount,
    #[error("the amount (54) is zero")]
    ZeroAmount,
    #[error("the transaction currency (53) is not 704 (VND)")]
    UnsupportedCurrency,
    #[error("the country code (58) is not VN")]
    UnsupportedCountry,
    #[error("the reference must be 1 to 25 printable ASCII characters")]
    InvalidReference,
    #[error("the payload does not fit in a QR code")]
    Qr(#[from] QrError),
}

fn scope(within: &str) -> &str {
    if within.is_empty() {
        "the payload"
    } else {
        within
    }
}

/// The dotted path of field `id` inside `within` (`""` at the top).
fn path(within: &str, id: u8) -> String {
    if within.is_empty() {
        format!("{id:02}")
    } else {
        format!("{within}.{id:02}")
    }
}

/// Field 01: whether the code is for many payments or one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initiation {
    /// `11`: the code may be paid many times (a printed account QR).
    Static,
    /// `12`: the code is for one transaction (an amount and a reference).
    Dynamic,
}

impl Initiation {
    fn code(self) -> &'static str {
        match self {
            Self::Static => "11",
            Self::Dynamic => "12",
        }
    }
}

/// Field 38.02: what the NAPAS247 transfer goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceCode {
    /// `QRIBFTTA`: a bank account.
    Account,
    /// `QRIBFTTC`: a card.
    Card,
}

impl ServiceCode {
    pub fn code(self) -> &'static str {
        match self {
            Self::Account => "QRIBFTTA",
            Self::Card => "QRIBFTTC",
        }
    }
}

/// Field 38: the NAPAS consumer account the money goes to. A person's account number is
/// personal data: `Debug` shows only the bank.
#[derive(Clone, PartialEq, Eq)]
pub struct NapasAccount {
    /// 38.01.00: the bank's six-digit BIN (acquirer or beneficiary bank id), e.g. `970403`.
    pub bank_bin: String,
    /// 38.01.01: the account or card number (letters and digits, at most 19).
    pub account: String,
    /// 38.02: absent in some merchant QRs (the spec makes it conditional).
    pub service: Option<ServiceCode>,
}

/// A VietQR text, read. Currency (704) and country (VN) are the only ones accepted, so they are
/// not stored. A transfer QR names a person and their account: `Debug` shows which fields are
/// present, not what they hold.
#[derive(Clone, PartialEq, Eq)]
pub struct VietQr {
    /// 01.
    pub initiation: Initiation,
    /// 38, when the code pays through NAPAS247; other schemes' merchant accounts (e.g. VNPAY in
    /// 26) are kept in `other`.
    pub napas: Option<NapasAccount>,
    /// 52: the merchant category code (four digits).
    pub mcc: Option<String>,
    /// 54: in VND (no minor unit); never zero.
    pub amount: Option<u64>,
    /// 59.
    pub merchant_name: Option<String>,
    /// 60.
    pub merchant_city: Option<String>,
    /// 62's sub-fields by id (01 bill number, 05 reference label, 08 purpose, …); empty when 62
    /// is absent.
    pub additional: BTreeMap<u8, String>,
    /// Every other field by id, as its raw value: 02–51 other than 38 (checked to be well-formed
    /// templates from 26 on), 55–57, 61, 64–99 (templates 64 and 80–99 checked likewise).
    pub other: BTreeMap<u8, String>,
}

impl std::fmt::Debug for NapasAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NapasAccount")
            .field("bank_bin", &self.bank_bin)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for VietQr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VietQr")
            .field("initiation", &self.initiation)
            .field("napas", &self.napas)
            .field("mcc", &self.mcc)
            .field("amount", &self.amount)
            .field("merchant_name", &self.merchant_name.as_ref().map(|_| ".."))
            .field(
                "additional_ids",
                &self.additional.keys().collect::<Vec<_>>(),
            )
            .field("other_ids", &self.other.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl VietQr {
    /// 62.08, the purpose of the transaction (the transfer note a bank app shows and copies).
    pub fn purpose(&self) -> Option<&str> {
        self.additional.get(&ADDITIONAL_PURPOSE).map(String::as_str)
    }

    /// 62.01, the bill number.
    pub fn bill_number(&self) -> Option<&str> {
        self.additional
            .get(&ADDITIONAL_BILL_NUMBER)
            .map(String::as_str)
    }

    /// 62.05, the reference label.
    pub fn reference_label(&self) -> Option<&str> {
        self.additional
            .get(&ADDITIONAL_REFERENCE_LABEL)
            .map(String::as_str)
    }

    /// The text of this value: `00` first, the other fields in ascending id order (sub-fields
    /// too), the CRC last in uppercase hex. The text is parsed before it is returned, so whatever
    /// is returned reads back to this value; a value no reader would accept is refused with the
    /// reader's error.
    pub fn encode(&self) -> Result<String, VietQrError> {
        let mut fields: Vec<(u8, String)> = vec![(ID_INITIATION, self.initiation.code().into())];
        if let Some(napas) = &self.napas {
            fields.push((ID_NAPAS, encode_napas(napas)?));
        }
        if let Some(mcc) = &self.mcc {
            fields.push((ID_MCC, mcc.clone()));
        }
        fields.push((ID_CURRENCY, CURRENCY_VND.into()));
        if let Some(amount) = self.amount {
            fields.push((ID_AMOUNT, amount.to_string()));
        }
        fields.push((ID_COUNTRY, COUNTRY_VN.into()));
        if let Some(name) = &self.merchant_name {
            fields.push((ID_MERCHANT_NAME, name.clone()));
        }
        if let Some(city) = &self.merchant_city {
            fields.push((ID_MERCHANT_CITY, city.clone()));
        }
        if !self.additional.is_empty() {
            let mut value = String::new();
            for (&id, sub) in &self.additional {
                put(&mut value, "62", id, sub)?;
            }
            fields.push((ID_ADDITIONAL, value));
        }
        for (&id, value) in &self.other {
            // The fields this type holds by name cannot come in again through `other`.
            if TYPED_IDS.contains(&id) {
                return Err(VietQrError::UnexpectedField {
                    field: path("", id),
                });
            }
            fields.push((id, value.clone()));
        }
        fields.sort_by_key(|(id, _)| *id);
        if let Some(pair) = fields.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Err(VietQrError::Duplicate {
                field: path("", pair[0].0),
            });
        }
        let mut text = String::from("000201");
        for (id, value) in &fields {
            put(&mut text, "", *id, value)?;
        }
        text.push_str("6304");
        let crc = crc16(text.as_bytes());
        let _ = write!(text, "{crc:04X}");
        parse(&text)?;
        Ok(text)
    }

    /// The QR code of [`VietQr::encode`]'s text, for drawing as a matrix or SVG.
    pub fn to_qr(&self) -> Result<QrImage, VietQrError> {
        Ok(QrImage::encode(&self.encode()?)?)
    }
}

/// The dynamic VietQR that asks a bank app to pay `amount` VND to `account` at the bank
/// `bank_bin` (NAPAS247 to an account, `QRIBFTTA`), with `reference` (a dossier's receipt code)
/// as the purpose of the transaction (62.08), which the app copies into the transfer note.
/// `reference` is 1 to 25 printable ASCII characters: bank apps drop or mangle anything else in
/// transfer notes, and the note is how the payment is matched to the fee.
pub fn payment_request(
    bank_bin: &str,
    account: &str,
    amount: u64,
    reference: &str,
) -> Result<VietQr, VietQrError> {
    let reference_chars = reference.chars().count();
    if reference_chars == 0
        || reference_chars > MAX_REFERENCE_CHARS
        || !reference.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
    {
        return Err(VietQrError::InvalidReference);
    }
    if amount == 0 {
        return Err(VietQrError::ZeroAmount);
    }
    check_bin(bank_bin)?;
    check_account(account)?;
    let value = VietQr {
        initiation: Initiation::Dynamic,
        napas: Some(NapasAccount {
            bank_bin: bank_bin.into(),
            account: account.into(),
            service: Some(ServiceCode::Account),
        }),
        mcc: None,
        amount: Some(amount),
        merchant_name: None,
        merchant_city: None,
        additional: BTreeMap::from([(ADDITIONAL_PURPOSE, reference.to_string())]),
        other: BTreeMap::new(),
    };
    // Refuses what would not read back (an amount over 13 digits, …).
    value.encode()?;
    Ok(value)
}

/// CRC-16/CCITT-FALSE (polynomial 0x1021, initial value 0xFFFF, not reflected, no final XOR).
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// Reads a scanned VietQR text strictly: bounded, every length consistent with its parent's,
/// no id twice in one template, `00` = `01` first, the CRC last and matching (hex in either
/// case), nothing after it, then the fields' own rules (see [`VietQrError`]). A CRC mismatch is
/// reported before any field's content is judged.
pub fn parse(payload: &str) -> Result<VietQr, VietQrError> {
    if payload.is_empty() {
        return Err(VietQrError::Empty);
    }
    if payload.len() > MAX_PAYLOAD_BYTES || payload.chars().count() > MAX_PAYLOAD_CHARS {
        return Err(VietQrError::TooLong {
            max: MAX_PAYLOAD_CHARS,
        });
    }
    let fields = read_objects(payload, "", true)?;
    let Some(crc_field) = fields.last().filter(|f| f.id == ID_CRC) else {
        return Err(VietQrError::Missing {
            field: path("", ID_CRC),
        });
    };
    check_crc(payload, crc_field)?;
    let fields = &fields[..fields.len() - 1];
    match fields.first() {
        Some(first) if first.id == ID_PAYLOAD_FORMAT => {
            if first.value != "01" {
                return Err(VietQrError::UnsupportedPayloadFormat);
            }
        }
        _ if fields.iter().any(|f| f.id == ID_PAYLOAD_FORMAT) => {
            return Err(VietQrError::PayloadFormatNotFirst);
        }
        _ => {
            return Err(VietQrError::Missing {
                field: path("", ID_PAYLOAD_FORMAT),
            });
        }
    }
    let mut initiation = None;
    let mut napas = None;
    let mut mcc = None;
    let mut currency = false;
    let mut amount = None;
    let mut country = false;
    let mut merchant_name = None;
    let mut merchant_city = None;
    let mut additional = BTreeMap::new();
    let mut other = BTreeMap::new();
    let mut merchant_accounts = 0usize;
    for field in &fields[1..] {
        let name = path("", field.id);
        if field.value.chars().any(char::is_control) {
            return Err(VietQrError::ControlCharacter { field: name });
        }
        let value = field.value;
        match field.id {
            ID_INITIATION => {
                initiation = Some(match value {
                    "11" => Initiation::Static,
                    "12" => Initiation::Dynamic,
                    _ => return Err(VietQrError::InvalidInitiation),
                })
            }
            ID_NAPAS => {
                merchant_accounts += 1;
                napas = Some(parse_napas(value)?);
            }
            2..=25 => {
                merchant_accounts += 1;
                other.insert(field.id, value.to_string());
            }
            26..=51 => {
                merchant_accounts += 1;
                read_objects(value, &name, false)?;
                other.insert(field.id, value.to_string());
            }
            ID_MCC => {
                check_digits(value, &name, 4)?;
                mcc = Some(value.to_string());
            }
            ID_CURRENCY => {
                check_digits(value, &name, 3)?;
                if value != CURRENCY_VND {
                    return Err(VietQrError::UnsupportedCurrency);
                }
                currency = true;
            }
            ID_AMOUNT => amount = Some(parse_amount(value)?),
            ID_COUNTRY => {
                if value != COUNTRY_VN {
                    return Err(VietQrError::UnsupportedCountry);
                }
                country = true;
            }
            ID_MERCHANT_NAME => merchant_name = Some(value.to_string()),
            ID_MERCHANT_CITY => merchant_city = Some(value.to_string()),
            ID_ADDITIONAL => {
                for sub in read_objects(value, &name, false)? {
                    additional.insert(sub.id, sub.value.to_string());
                }
            }
            64 | 80..=99 => {
                read_objects(value, &name, false)?;
                other.insert(field.id, value.to_string());
            }
            _ => {
                other.insert(field.id, value.to_string());
            }
        }
    }
    let Some(initiation) = initiation else {
        return Err(VietQrError::Missing {
            field: path("", ID_INITIATION),
        });
    };
    if merchant_accounts == 0 {
        return Err(VietQrError::NoMerchantAccount);
    }
    for (present, id) in [(currency, ID_CURRENCY), (country, ID_COUNTRY)] {
        if !present {
            return Err(VietQrError::Missing {
                field: path("", id),
            });
        }
    }
    Ok(VietQr {
        initiation,
        napas,
        mcc,
        amount,
        merchant_name,
        merchant_city,
        additional,
        other,
    })
}

/// One data object as read: its id, its value, and (at the top) where its value starts.
struct Object<'a> {
    id: u8,
    value: &'a str,
    value_start: usize,
}

/// The data objects of `text`, the value of the template `within` (`""` for the whole payload).
/// Lengths count characters. At the top, reading stops after the CRC (63); anything after it is
/// [`VietQrError::TrailingData`].
fn read_objects<'a>(
    text: &'a str,
    within: &str,
    top: bool,
) -> Result<Vec<Object<'a>>, VietQrError> {
    let mut objects: Vec<Object<'a>> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let Some((head, tail)) = split_chars(rest, 4) else {
            return Err(VietQrError::Truncated {
                within: within.into(),
            });
        };
        let mut chars = head.chars();
        let mut digits = [0u8; 4];
        for digit in &mut digits {
            *digit = chars
                .next()
                .filter(char::is_ascii_digit)
                .map_or(u8::MAX, |c| c as u8 - b'0');
        }
        if digits[..2].contains(&u8::MAX) {
            return Err(VietQrError::BadId {
                within: within.into(),
            });
        }
        let id = digits[0] * 10 + digits[1];
        let field = path(within, id);
        if digits[2..].contains(&u8::MAX) {
            return Err(VietQrError::BadLength { field });
        }
        let len = usize::from(digits[2] * 10 + digits[3]);
        if len == 0 {
            return Err(VietQrError::BadLength { field });
        }
        let Some((value, after)) = split_chars(tail, len) else {
            return Err(VietQrError::Overrun {
                field,
                within: within.into(),
            });
        };
        if objects.iter().any(|o| o.id == id) {
            return Err(VietQrError::Duplicate { field });
        }
        objects.push(Object {
            id,
            value,
            value_start: text.len() - tail.len(),
        });
        rest = after;
        if top && id == ID_CRC {
            if !rest.is_empty() {
                return Err(VietQrError::TrailingData);
            }
            break;
        }
    }
    Ok(objects)
}

/// `s` split after its first `n` characters, or `None` when it has fewer.
fn split_chars(s: &str, n: usize) -> Option<(&str, &str)> {
    if n == 0 {
        return Some(("", s));
    }
    let (index, c) = s.char_indices().nth(n - 1)?;
    Some(s.split_at(index + c.len_utf8()))
}

fn check_crc(payload: &str, crc: &Object<'_>) -> Result<(), VietQrError> {
    if crc.value.chars().count() != 4 {
        return Err(VietQrError::WrongLength {
            field: path("", ID_CRC),
            expected: 4,
        });
    }
    if !crc.value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(VietQrError::CrcFormat);
    }
    let stated = u16::from_str_radix(crc.value, 16).map_err(|_| VietQrError::CrcFormat)?;
    let covered = payload
        .get(..crc.value_start)
        .ok_or(VietQrError::CrcFormat)?;
    if crc16(covered.as_bytes()) != stated {
        return Err(VietQrError::CrcMismatch);
    }
    Ok(())
}

fn check_digits(value: &str, field: &str, expected: usize) -> Result<(), VietQrError> {
    if value.chars().count() != expected {
        return Err(VietQrError::WrongLength {
            field: field.into(),
            expected,
        });
    }
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VietQrError::NotDigits {
            field: field.into(),
        });
    }
    Ok(())
}

fn check_bin(bin: &str) -> Result<(), VietQrError> {
    check_digits(bin, "38.01.00", 6)
}

fn check_account(account: &str) -> Result<(), VietQrError> {
    if account.chars().count() > MAX_ACCOUNT_CHARS {
        return Err(VietQrError::FieldTooLong {
            field: "38.01.01".into(),
            max: MAX_ACCOUNT_CHARS,
        });
    }
    if account.is_empty() || !account.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(VietQrError::InvalidAccount);
    }
    Ok(())
}

/// Field 54: digits, optionally ending with `.` (the spec allows "50000."; the đồng has no
/// minor unit, so no digits may follow it), at most 13 characters, not zero.
fn parse_amount(value: &str) -> Result<u64, VietQrError> {
    if value.chars().count() > MAX_AMOUNT_CHARS {
        return Err(VietQrError::FieldTooLong {
            field: path("", ID_AMOUNT),
            max: MAX_AMOUNT_CHARS,
        });
    }
    let digits = value.strip_suffix('.').unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VietQrError::NonDigitAmount);
    }
    let amount: u64 = digits.parse().map_err(|_| VietQrError::NonDigitAmount)?;
    if amount == 0 {
        return Err(VietQrError::ZeroAmount);
    }
    Ok(amount)
}

/// Field 38: GUID (00), beneficiary (01: BIN 00, account 01), service code (02); nothing else.
fn parse_napas(value: &str) -> Result<NapasAccount, VietQrError> {
    const WITHIN: &str = "38";
    let mut guid = None;
    let mut beneficiary = None;
    let mut service = None;
    for sub in read_objects(value, WITHIN, false)? {
        match sub.id {
            0 => guid = Some(sub.value),
            1 => beneficiary = Some(sub.value),
            2 => {
                service = Some(match sub.value {
                    "QRIBFTTA" => ServiceCode::Account,
                    "QRIBFTTC" => ServiceCode::Card,
                    _ => return Err(VietQrError::UnknownServiceCode),
                })
            }
            id => {
                return Err(VietQrError::UnexpectedField {
                    field: path(WITHIN, id),
                });
            }
        }
    }
    match guid {
        None => {
            return Err(VietQrError::Missing {
                field: path(WITHIN, 0),
            });
        }
        Some(guid) if guid != NAPAS_GUID => return Err(VietQrError::UnknownGuid),
        Some(_) => {}
    }
    let Some(beneficiary) = beneficiary else {
        return Err(VietQrError::Missing {
            field: path(WITHIN, 1),
        });
    };
    const BENEFICIARY: &str = "38.01";
    let mut bank_bin = None;
    let mut account = None;
    for sub in read_objects(beneficiary, BENEFICIARY, false)? {
        match sub.id {
            0 => bank_bin = Some(sub.value),
            1 => account = Some(sub.value),
            id => {
                return Err(VietQrError::UnexpectedField {
                    field: path(BENEFICIARY, id),
                });
            }
        }
    }
    let (Some(bank_bin), Some(account)) = (bank_bin, account) else {
        let missing = if bank_bin.is_none() { 0 } else { 1 };
        return Err(VietQrError::Missing {
            field: path(BENEFICIARY, missing),
        });
    };
    check_bin(bank_bin)?;
    check_account(account)?;
    Ok(NapasAccount {
        bank_bin: bank_bin.into(),
        account: account.into(),
        service,
    })
}

/// Field 38's value, sub-fields in ascending order.
fn encode_napas(napas: &NapasAccount) -> Result<String, VietQrError> {
    let mut beneficiary = String::new();
    put(&mut beneficiary, "38.01", 0, &napas.bank_bin)?;
    put(&mut beneficiary, "38.01", 1, &napas.account)?;
    let mut value = String::new();
    put(&mut value, "38", 0, NAPAS_GUID)?;
    put(&mut value, "38", 1, &beneficiary)?;
    if let Some(service) = napas.service {
        put(&mut value, "38", 2, service.code())?;
    }
    Ok(value)
}

/// Appends the data object `id` (inside `within`) with `value`, whose length must be 1 to 99
/// characters.
fn put(out: &mut String, within: &str, id: u8, value: &str) -> Result<(), VietQrError> {
    if id > 99 {
        return Err(VietQrError::UnexpectedField {
            field: path(within, id),
        });
    }
    let len = value.chars().count();
    if len == 0 {
        return Err(VietQrError::BadLength {
            field: path(within, id),
        });
    }
    if len > MAX_VALUE_CHARS {
        return Err(VietQrError::FieldTooLong {
            field: path(within, id),
            max: MAX_VALUE_CHARS,
        });
    }
    let _ = write!(out, "{id:02}{len:02}{value}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_leaves_out_the_account_and_the_name() {
        let mut code = payment_request("970436", "0011001234567", 50_000, "H29-0001").unwrap();
        code.merchant_name = Some("NGUYEN VAN AN".into());
        let shown = format!("{code:?}");
        assert!(
            shown.contains("970436") && shown.contains("50000"),
            "{shown}"
        );
        assert!(
            !shown.contains("0011001234567") && !shown.contains("NGUYEN"),
            "{shown}"
        );
        assert!(!shown.contains("H29-0001"), "{shown}");
    }

    /// NAPAS v1.0 §6.1.3: a dynamic QR to an account with an amount, a bill number and a purpose.
    const NAPAS_DYNAMIC: &str = "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA530370454061800005802VN62340107NPS68690819thanh toan don hang63042E2E";

    /// A data object whose length is counted for it.
    fn tlv(id: u8, value: &str) -> String {
        format!("{id:02}{:02}{value}", value.chars().count())
    }

    /// `body` (everything before the CRC's digits, `6304` included) with its correct CRC.
    fn with_crc(body: &str) -> String {
        format!("{body}{:04X}", crc16(body.as_bytes()))
    }

    /// A payload around `fields` (the text between `00` and `63`) with a correct CRC.
    fn payload(fields: &str) -> String {
        with_crc(&format!("000201{fields}6304"))
    }

    /// Field 38 from its three sub-fields' values (the beneficiary given whole).
    fn field_38(guid: &str, beneficiary: &str, service: &str) -> String {
        tlv(
            38,
            &format!("{}{}{}", tlv(0, guid), tlv(1, beneficiary), tlv(2, service)),
        )
    }

    fn account_38() -> String {
        field_38(
            NAPAS_GUID,
            &format!("{}{}", tlv(0, "970403"), tlv(1, "0011012345678")),
            "QRIBFTTA",
        )
    }

    /// A static payload to [`account_38`] with `extra` fields after the required ones.
    fn static_with(extra: &str) -> String {
        payload(&format!("010211{}53037045802VN{extra}", account_38()))
    }

    #[test]
    fn crc16_ccitt_false_check_value() {
        assert_eq!(crc16(b"123456789"), 0x29B1);
        assert_eq!(crc16(b""), 0xFFFF);
    }

    #[test]
    fn parses_the_napas_dynamic_example() {
        let qr = parse(NAPAS_DYNAMIC).unwrap();
        assert_eq!(qr.initiation, Initiation::Dynamic);
        let napas = qr.napas.as_ref().unwrap();
        assert_eq!(napas.bank_bin, "970403");
        assert_eq!(napas.account, "0011012345678");
        assert_eq!(napas.service, Some(ServiceCode::Account));
        assert_eq!(qr.amount, Some(180_000));
        assert_eq!(qr.bill_number(), Some("NPS6869"));
        assert_eq!(qr.purpose(), Some("thanh toan don hang"));
        assert_eq!(qr.reference_label(), None);
        // Canonical already: it encodes to itself.
        assert_eq!(qr.encode().unwrap(), NAPAS_DYNAMIC);
    }

    #[test]
    fn lowercase_crc_is_accepted_and_uppercase_emitted() {
        let lower = NAPAS_DYNAMIC.replace("63042E2E", "63042e2e");
        let qr = parse(&lower).unwrap();
        assert_eq!(qr.encode().unwrap(), NAPAS_DYNAMIC);
    }

    #[test]
    fn payment_request_round_trips() {
        let qr = payment_request(
            "970415",
            "113366668888",
            250_000,
            "000.00.12.H29-240101-0001",
        )
        .unwrap();
        let text = qr.encode().unwrap();
        assert!(text.starts_with("000201010212"));
        let (body, crc) = text.split_at(text.len() - 4);
        assert!(body.ends_with("6304"));
        assert_eq!(crc, format!("{:04X}", crc16(body.as_bytes())));
        assert_eq!(parse(&text).unwrap(), qr);
        assert_eq!(qr.purpose(), Some("000.00.12.H29-240101-0001"));
        assert_eq!(qr.amount, Some(250_000));
        assert!(qr.to_qr().unwrap().width > 0);
    }

    #[test]
    fn payment_request_refuses_bad_inputs() {
        assert_eq!(
            payment_request("97041", "1", 1, "R").unwrap_err(),
            VietQrError::WrongLength {
                field: "38.01.00".into(),
                expected: 6
            }
        );
        assert_eq!(
            payment_request("970415", "12-34", 1, "R").unwrap_err(),
            VietQrError::InvalidAccount
        );
        assert_eq!(
            payment_request("970415", "1", 0, "R").unwrap_err(),
            VietQrError::ZeroAmount
        );
        for reference in ["", "Đóng phí", "a\nb", &"x".repeat(26)] {
            assert_eq!(
                payment_request("970415", "1", 1, reference).unwrap_err(),
                VietQrError::InvalidReference
            );
        }
        assert_eq!(
            payment_request("970415", "1", 10_000_000_000_000, "R").unwrap_err(),
            VietQrError::FieldTooLong {
                field: "54".into(),
                max: MAX_AMOUNT_CHARS
            }
        );
    }

    #[test]
    fn correct_looking_payload_with_wrong_crc() {
        let wrong = NAPAS_DYNAMIC.replace("63042E2E", "63042E2F");
        assert_eq!(parse(&wrong), Err(VietQrError::CrcMismatch));
        // One changed character of content, the CRC left as it was.
        let tampered = NAPAS_DYNAMIC.replace("5406180000", "5406980000");
        assert_eq!(parse(&tampered), Err(VietQrError::CrcMismatch));
        let not_hex = NAPAS_DYNAMIC.replace("63042E2E", "6304+E2E");
        assert_eq!(parse(&not_hex), Err(VietQrError::CrcFormat));
        let short = NAPAS_DYNAMIC.replace("63042E2E", "63032E2");
        assert_eq!(
            parse(&short),
            Err(VietQrError::WrongLength {
                field: "63".into(),
                expected: 4
            })
        );
    }

    #[test]
    fn length_pointing_past_the_end() {
        // The CRC claims 9 characters where 4 remain.
        let text = NAPAS_DYNAMIC.replace("63042E2E", "63092E2E");
        assert_eq!(
            parse(&text),
            Err(VietQrError::Overrun {
                field: "63".into(),
                within: String::new()
            })
        );
        // A field's length runs over everything after it.
        assert_eq!(
            parse("000201010212389912"),
            Err(VietQrError::Overrun {
                field: "38".into(),
                within: String::new()
            })
        );
        // Ends inside an id or a length.
        assert_eq!(
            parse("000"),
            Err(VietQrError::Truncated {
                within: String::new()
            })
        );
    }

    #[test]
    fn nested_lengths_inconsistent_with_the_parent() {
        // 38.01 declares 27 characters but its account says 12: one character is left over
        // (NAPAS §6.1.1 as printed).
        let beneficiary = format!("{}{}8", tlv(0, "970403"), tlv(1, "001101234567"));
        let text = static_with_38(&field_38(NAPAS_GUID, &beneficiary, "QRIBFTTA"));
        assert_eq!(
            parse(&text),
            Err(VietQrError::Truncated {
                within: "38.01".into()
            })
        );
        // The account's length runs past the end of 38.01.
        let beneficiary = format!("{}0114001101234567", tlv(0, "970403"));
        let text = static_with_38(&field_38(NAPAS_GUID, &beneficiary, "QRIBFTTA"));
        assert_eq!(
            parse(&text),
            Err(VietQrError::Overrun {
                field: "38.01.01".into(),
                within: "38.01".into()
            })
        );
        // 62.08 runs past the end of 62.
        let text = static_with(&tlv(62, "0820abc"));
        assert_eq!(
            parse(&text),
            Err(VietQrError::Overrun {
                field: "62.08".into(),
                within: "62".into()
            })
        );
        // Another scheme's template (26) must be well-formed too.
        let text = payload(&format!("010211{}53037045802VN", tlv(26, "0012X")));
        assert_eq!(
            parse(&text),
            Err(VietQrError::Overrun {
                field: "26.00".into(),
                within: "26".into()
            })
        );
    }

    /// A static payload with this field 38.
    fn static_with_38(field_38: &str) -> String {
        payload(&format!("010211{field_38}53037045802VN"))
    }

    #[test]
    fn lengths_count_characters_and_the_crc_covers_utf8_bytes() {
        // "Lê Anh Tú" is 9 characters, 11 bytes.
        let text = static_with("5909Lê Anh Tú");
        let qr = parse(&text).unwrap();
        assert_eq!(qr.merchant_name.as_deref(), Some("Lê Anh Tú"));
        assert_eq!(parse(&qr.encode().unwrap()).unwrap(), qr);
        // Counting bytes (11) swallows the start of the CRC field.
        assert!(parse(&static_with("5911Lê Anh Tú")).is_err());
        // A CRC computed over something other than the UTF-8 bytes is refused.
        let body = format!("000201010211{}53037045802VN5909Lê Anh Tú6304", account_38());
        let latin1: Vec<u8> = body.chars().map(|c| c as u32 as u8).collect();
        let wrong = format!("{body}{:04X}", crc16(&latin1));
        assert_eq!(parse(&wrong), Err(VietQrError::CrcMismatch));
        // A multi-byte character where an id or a length belongs.
        assert_eq!(
            parse(&static_with("é909abc")),
            Err(VietQrError::BadId {
                within: String::new()
            })
        );
        assert_eq!(
            parse(&static_with("59é9abc")),
            Err(VietQrError::BadLength { field: "59".into() })
        );
    }

    #[test]
    fn huge_inputs_are_bounded() {
        let huge = "0".repeat(10 * 1024 * 1024);
        assert_eq!(
            parse(&huge),
            Err(VietQrError::TooLong {
                max: MAX_PAYLOAD_CHARS
            })
        );
        // 513 characters, each of 1 byte.
        let text = format!("{}{}", NAPAS_DYNAMIC, "0".repeat(513 - NAPAS_DYNAMIC.len()));
        assert!(matches!(parse(&text), Err(VietQrError::TooLong { .. })));
        // Multi-byte characters: 400 characters under the character bound but 1,200 bytes are
        // fine to count; past the byte bound it is refused before counting.
        let text = "ế".repeat(MAX_PAYLOAD_BYTES);
        assert!(matches!(parse(&text), Err(VietQrError::TooLong { .. })));
    }

    #[test]
    fn typed_refusals() {
        let a38 = account_38();
        let beneficiary = format!("{}{}", tlv(0, "970403"), tlv(1, "0011012345678"));
        let cases: Vec<(String, VietQrError)> = vec![
            (String::new(), VietQrError::Empty),
            (
                static_with("010211"),
                VietQrError::Duplicate { field: "01".into() },
            ),
            (format!("{NAPAS_DYNAMIC}00"), VietQrError::TrailingData),
            (
                with_crc(&format!("010211000201{a38}53037045802VN6304")),
                VietQrError::PayloadFormatNotFirst,
            ),
            (
                with_crc(&format!("000202010211{a38}53037045802VN6304")),
                VietQrError::UnsupportedPayloadFormat,
            ),
            (
                with_crc(&format!("010211{a38}53037045802VN6304")),
                VietQrError::Missing { field: "00".into() },
            ),
            (
                payload(&format!("{a38}53037045802VN")),
                VietQrError::Missing { field: "01".into() },
            ),
            (
                payload(&format!("010210{a38}53037045802VN")),
                VietQrError::InvalidInitiation,
            ),
            (
                payload("01021153037045802VN"),
                VietQrError::NoMerchantAccount,
            ),
            (
                payload(&format!("010211{a38}5802VN")),
                VietQrError::Missing { field: "53".into() },
            ),
            (
                payload(&format!("010211{a38}5303704")),
                VietQrError::Missing { field: "58".into() },
            ),
            (
                payload(&format!("010211{a38}53038405802VN")),
                VietQrError::UnsupportedCurrency,
            ),
            (
                payload(&format!("010211{a38}53037A45802VN")),
                VietQrError::NotDigits { field: "53".into() },
            ),
            (
                payload(&format!("010211{a38}53037045802US")),
                VietQrError::UnsupportedCountry,
            ),
            (
                payload(&format!("010212{a38}5303704540512.505802VN")),
                VietQrError::NonDigitAmount,
            ),
            (
                payload(&format!("010212{a38}5303704540450 05802VN")),
                VietQrError::NonDigitAmount,
            ),
            (
                payload(&format!("010212{a38}53037045401.5802VN")),
                VietQrError::NonDigitAmount,
            ),
            (
                payload(&format!("010212{a38}5303704540105802VN")),
                VietQrError::ZeroAmount,
            ),
            (
                payload(&format!("010212{a38}53037045414123456789012345802VN")),
                VietQrError::FieldTooLong {
                    field: "54".into(),
                    max: MAX_AMOUNT_CHARS,
                },
            ),
            (
                static_with("5203581"),
                VietQrError::WrongLength {
                    field: "52".into(),
                    expected: 4,
                },
            ),
            (
                static_with_38(&field_38("A000000728", &beneficiary, "QRIBFTTA")),
                VietQrError::UnknownGuid,
            ),
            (
                static_with_38(&field_38(NAPAS_GUID, &beneficiary, "QRIBFTTX")),
                VietQrError::UnknownServiceCode,
            ),
            (
                static_with_38(&tlv(38, &tlv(1, &beneficiary))),
                VietQrError::Missing {
                    field: "38.00".into(),
                },
            ),
            (
                static_with_38(&tlv(38, &tlv(0, NAPAS_GUID))),
                VietQrError::Missing {
                    field: "38.01".into(),
                },
            ),
            (
                static_with_38(&tlv(
                    38,
                    &format!("{}{}", tlv(0, NAPAS_GUID), tlv(1, &tlv(1, "12345"))),
                )),
                VietQrError::Missing {
                    field: "38.01.00".into(),
                },
            ),
            (
                static_with_38(&tlv(
                    38,
                    &format!("{}{}", tlv(0, NAPAS_GUID), tlv(1, &tlv(0, "970403"))),
                )),
                VietQrError::Missing {
                    field: "38.01.01".into(),
                },
            ),
            (
                static_with_38(&field_38(
                    NAPAS_GUID,
                    &format!("{}{}", tlv(0, "97O403"), tlv(1, "1")),
                    "QRIBFTTA",
                )),
                VietQrError::NotDigits {
                    field: "38.01.00".into(),
                },
            ),
            (
                static_with_38(&field_38(
                    NAPAS_GUID,
                    &format!("{}{}", tlv(0, "970403"), tlv(1, "123-456")),
                    "QRIBFTTA",
                )),
                VietQrError::InvalidAccount,
            ),
            (
                static_with_38(&field_38(
                    NAPAS_GUID,
                    &format!("{}{}", tlv(0, "970403"), tlv(1, &"1".repeat(20))),
                    "QRIBFTTA",
                )),
                VietQrError::FieldTooLong {
                    field: "38.01.01".into(),
                    max: MAX_ACCOUNT_CHARS,
                },
            ),
            (
                static_with_38(&tlv(
                    38,
                    &format!(
                        "{}{}{}",
                        tlv(0, NAPAS_GUID),
                        tlv(1, &beneficiary),
                        tlv(99, "X")
                    ),
                )),
                VietQrError::UnexpectedField {
                    field: "38.99".into(),
                },
            ),
            (
                static_with_38(&tlv(
                    38,
                    &format!(
                        "{}{}{}",
                        tlv(0, NAPAS_GUID),
                        tlv(1, &beneficiary),
                        tlv(0, NAPAS_GUID)
                    ),
                )),
                VietQrError::Duplicate {
                    field: "38.00".into(),
                },
            ),
            (
                static_with("5903a\u{7}b"),
                VietQrError::ControlCharacter { field: "59".into() },
            ),
            (
                static_with("5900"),
                VietQrError::BadLength { field: "59".into() },
            ),
            (
                static_with("3x01a"),
                VietQrError::BadId {
                    within: String::new(),
                },
            ),
            (
                format!("000201010211{a38}53037045802VN"),
                VietQrError::Missing { field: "63".into() },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(&text), Err(expected), "{text}");
        }
    }

    #[test]
    fn other_schemes_and_extra_fields_are_kept() {
        // A VNPAY merchant (26) with a name, a city, 62 sub-fields, a tip indicator and an
        // unreserved template: read, and written back in canonical order.
        let vnpay = tlv(
            26,
            &format!("{}{}", tlv(0, "A000000775"), tlv(1, "0108799042")),
        );
        let text = payload(&format!(
            "010211{vnpay}52045977{}53037045802VN5909MYPHAMHER6005HANOI{}{}",
            tlv(55, "02"),
            tlv(
                62,
                &format!("{}{}", tlv(3, "MY PHAM HER"), tlv(7, "MPHER01"))
            ),
            tlv(81, &tlv(0, "abc")),
        ));
        let qr = parse(&text).unwrap();
        assert!(qr.napas.is_none());
        assert_eq!(qr.mcc.as_deref(), Some("5977"));
        assert_eq!(qr.merchant_city.as_deref(), Some("HANOI"));
        assert_eq!(qr.other.get(&55).map(String::as_str), Some("02"));
        assert!(qr.other.contains_key(&26));
        assert!(qr.other.contains_key(&81));
        assert_eq!(parse(&qr.encode().unwrap()).unwrap(), qr);
    }

    #[test]
    fn encode_refuses_what_would_not_read_back() {
        let mut qr = parse(NAPAS_DYNAMIC).unwrap();
        qr.other.insert(38, "x".into());
        assert_eq!(
            qr.encode(),
            Err(VietQrError::UnexpectedField { field: "38".into() })
        );
        let mut qr = parse(NAPAS_DYNAMIC).unwrap();
        qr.merchant_name = Some("n".repeat(100));
        assert_eq!(
            qr.encode(),
            Err(VietQrError::FieldTooLong {
                field: "59".into(),
                max: 99
            })
        );
        let mut qr = parse(NAPAS_DYNAMIC).unwrap();
        qr.merchant_city = Some(String::new());
        assert_eq!(
            qr.encode(),
            Err(VietQrError::BadLength { field: "60".into() })
        );
        let mut qr = parse(NAPAS_DYNAMIC).unwrap();
        qr.additional.insert(100, "x".into());
        assert_eq!(
            qr.encode(),
            Err(VietQrError::UnexpectedField {
                field: "62.100".into()
            })
        );
        let mut qr = parse(NAPAS_DYNAMIC).unwrap();
        qr.other.insert(30, "not a template".into());
        assert!(qr.encode().is_err());
    }

    #[test]
    fn trailing_dot_amount_is_the_same_amount() {
        let text = payload(&format!("010212{}5303704540650000.5802VN", account_38()));
        let qr = parse(&text).unwrap();
        assert_eq!(qr.amount, Some(50_000));
        assert_eq!(parse(&qr.encode().unwrap()).unwrap(), qr);
    }

    /// Texts whose CRC an independent implementation computed (a few lines of Python over the
    /// UTF-8 bytes); also the fuzz target's seeds.
    #[test]
    fn matches_an_independent_crc() {
        let utf8 = "00020101021138570010A00000072701270006970436011304510001234560208QRIBFTTA53037045802VN5910Sở Tư pháp6006Hà Nội630442DC";
        let qr = parse(utf8).unwrap();
        assert_eq!(qr.merchant_name.as_deref(), Some("Sở Tư pháp"));
        assert_eq!(qr.merchant_city.as_deref(), Some("Hà Nội"));
        assert_eq!(qr.encode().unwrap(), utf8);
        let request = payment_request(
            "970436",
            "0451000123456",
            75_000,
            "000.00.12.H29-240101-0001",
        )
        .unwrap();
        assert_eq!(
            request.encode().unwrap(),
            "00020101021238570010A00000072701270006970436011304510001234560208QRIBFTTA53037045405750005802VN62290825000.00.12.H29-240101-00016304B776"
        );
    }
}
