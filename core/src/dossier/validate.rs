//! Validating a draft against its procedure's schema: pure, I/O-free.
//!
//! Owns: [`validate`], the machine codes of [`FieldErrorCode`] and their message keys, and the
//! format checks of Vietnamese citizen ID numbers, mobile numbers and e-mail addresses. Does not
//! own reading the draft (`draft`) nor refusing an attachment as it is added (`attachment`,
//! which checks type and size); here attachments are checked for the rules' counts only.
//!
//! Errors name a field (or an attachment kind) and a code, never a value.

use std::collections::BTreeMap;

use super::pattern::Pattern;
use super::wire::{FieldKind, FormField, Procedure};

/// Why a field (or an attachment kind) does not pass. Codes are stable; new ones may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldErrorCode {
    Required,
    Pattern,
    TooShort,
    TooLong,
    BelowMin,
    AboveMax,
    NotANumber,
    InvalidDate,
    NotAnOption,
    InvalidIdNumber,
    InvalidPhone,
    InvalidEmail,
    UnknownField,
    /// Fewer attachments of a kind than its rule's `min_count`.
    AttachmentMissing,
    /// More attachments of a kind than its rule's `max_count`.
    AttachmentTooMany,
    /// An attachment of a kind the procedure does not ask for.
    UnknownAttachmentKind,
}

impl FieldErrorCode {
    /// The machine code, e.g. `required`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Pattern => "pattern",
            Self::TooShort => "too_short",
            Self::TooLong => "too_long",
            Self::BelowMin => "below_min",
            Self::AboveMax => "above_max",
            Self::NotANumber => "not_a_number",
            Self::InvalidDate => "invalid_date",
            Self::NotAnOption => "not_an_option",
            Self::InvalidIdNumber => "invalid_id_number",
            Self::InvalidPhone => "invalid_phone",
            Self::InvalidEmail => "invalid_email",
            Self::UnknownField => "unknown_field",
            Self::AttachmentMissing => "attachment_missing",
            Self::AttachmentTooMany => "attachment_too_many",
            Self::UnknownAttachmentKind => "unknown_attachment_kind",
        }
    }

    /// The key of the message an app shows, e.g. `dossier.field.required`.
    pub fn message_key(self) -> &'static str {
        match self {
            Self::Required => "dossier.field.required",
            Self::Pattern => "dossier.field.pattern",
            Self::TooShort => "dossier.field.too_short",
            Self::TooLong => "dossier.field.too_long",
            Self::BelowMin => "dossier.field.below_min",
            Self::AboveMax => "dossier.field.above_max",
            Self::NotANumber => "dossier.field.not_a_number",
            Self::InvalidDate => "dossier.field.invalid_date",
            Self::NotAnOption => "dossier.field.not_an_option",
            Self::InvalidIdNumber => "dossier.field.invalid_id_number",
            Self::InvalidPhone => "dossier.field.invalid_phone",
            Self::InvalidEmail => "dossier.field.invalid_email",
            Self::UnknownField => "dossier.field.unknown_field",
            Self::AttachmentMissing => "dossier.attachment.missing",
            Self::AttachmentTooMany => "dossier.attachment.too_many",
            Self::UnknownAttachmentKind => "dossier.attachment.unknown_kind",
        }
    }
}

/// One problem: which field (its id) or attachment kind, and why. No value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldError {
    /// The field id, or the attachment kind for the `Attachment*` codes.
    pub field: String,
    pub code: FieldErrorCode,
    /// `code.message_key()`.
    pub message_key: &'static str,
}

impl FieldError {
    fn new(field: &str, code: FieldErrorCode) -> Self {
        Self {
            field: field.to_owned(),
            code,
            message_key: code.message_key(),
        }
    }
}

/// Seconds east of UTC in which "today" is counted for date bounds: Vietnam (UTC+7).
pub const VIETNAM_UTC_OFFSET_SECS: i64 = 7 * 3600;

/// Validates `values` (field id -> value) and the attachments (kind -> how many) against
/// `procedure`, at `now` (Unix seconds; dates' `min`/`max` count days from today in Vietnam).
/// Returns every problem in form order (unknown fields, then attachments, after); empty when the
/// draft may be submitted.
pub fn validate(
    procedure: &Procedure,
    values: &BTreeMap<String, String>,
    attachments: &BTreeMap<String, u32>,
    now: i64,
) -> Vec<FieldError> {
    let today = (now + VIETNAM_UTC_OFFSET_SECS).div_euclid(86_400);
    let mut errors = Vec::new();
    for field in &procedure.form {
        match values.get(&field.id).map(|v| v.trim()) {
            None | Some("") => {
                if field.required {
                    errors.push(FieldError::new(&field.id, FieldErrorCode::Required));
                }
            }
            Some(value) => {
                if let Some(code) = check_field(field, value, today) {
                    errors.push(FieldError::new(&field.id, code));
                }
            }
        }
    }
    for id in values.keys() {
        if !procedure.form.iter().any(|f| &f.id == id) {
            errors.push(FieldError::new(id, FieldErrorCode::UnknownField));
        }
    }
    for rule in &procedure.attachments {
        let count = attachments.get(&rule.kind).copied().unwrap_or(0);
        if count < rule.min_count {
            errors.push(FieldError::new(
                &rule.kind,
                FieldErrorCode::AttachmentMissing,
            ));
        } else if count > rule.max_count {
            errors.push(FieldError::new(
                &rule.kind,
                FieldErrorCode::AttachmentTooMany,
            ));
        }
    }
    for (kind, count) in attachments {
        if *count > 0 && !procedure.attachments.iter().any(|r| &r.kind == kind) {
            errors.push(FieldError::new(kind, FieldErrorCode::UnknownAttachmentKind));
        }
    }
    errors
}

/// The first problem of one non-empty (trimmed) value, if any.
pub fn check_field(field: &FormField, value: &str, today: i64) -> Option<FieldErrorCode> {
    use FieldErrorCode as E;
    match field.kind {
        FieldKind::Number => {
            let Some(number) = parse_integer(value) else {
                return Some(E::NotANumber);
            };
            if field.min.is_some_and(|min| number < min) {
                return Some(E::BelowMin);
            }
            if field.max.is_some_and(|max| number > max) {
                return Some(E::AboveMax);
            }
            None
        }
        FieldKind::Date => {
            let Some(day) = parse_date(value) else {
                return Some(E::InvalidDate);
            };
            if field.min.is_some_and(|min| day < today + min) {
                return Some(E::BelowMin);
            }
            if field.max.is_some_and(|max| day > today + max) {
                return Some(E::AboveMax);
            }
            None
        }
        FieldKind::Select => {
            (!field.options.iter().any(|o| o.value == value)).then_some(E::NotAnOption)
        }
        FieldKind::Text
        | FieldKind::Address
        | FieldKind::IdNumber
        | FieldKind::Phone
        | FieldKind::Email => {
            let kind_check = match field.kind {
                FieldKind::IdNumber if !is_citizen_id_number(value) => Some(E::InvalidIdNumber),
                FieldKind::Phone if !is_vietnamese_mobile(value) => Some(E::InvalidPhone),
                FieldKind::Email if !is_email(value) => Some(E::InvalidEmail),
                _ => None,
            };
            if kind_check.is_some() {
                return kind_check;
            }
            let length = i64::try_from(value.chars().count()).unwrap_or(i64::MAX);
            if field.min.is_some_and(|min| length < min) {
                return Some(E::TooShort);
            }
            if field.max.is_some_and(|max| length > max) {
                return Some(E::TooLong);
            }
            if let Some(pattern) = &field.pattern {
                // A pattern this matcher cannot read (or that runs out of steps) is not checked
                // on the phone; the portal checks it again (docs/dossiers.md).
                if let Ok(pattern) = Pattern::compile(pattern)
                    && pattern.matches(value) == Ok(false)
                {
                    return Some(E::Pattern);
                }
            }
            None
        }
    }
}

/// A whole number: an optional `-`, then 1 to 18 ASCII digits.
fn parse_integer(value: &str) -> Option<i64> {
    let digits = value.strip_prefix('-').unwrap_or(value);
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// `YYYY-MM-DD`, a real calendar day from 1900 to 2199, as days since 1970-01-01.
pub fn parse_date(value: &str) -> Option<i64> {
    let bytes = value.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = &value[range];
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    if !(1900..=2199).contains(&year) || !(1..=12).contains(&month) || day < 1 {
        return None;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day > days_in_month {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A Vietnamese citizen identity number (CCCD, 12 digits): a birth-registration province code
/// (001 to 096), a century-and-sex digit, two digits of the birth year, six random digits.
pub fn is_citizen_id_number(value: &str) -> bool {
    value.len() == 12
        && value.bytes().all(|b| b.is_ascii_digit())
        && (1..=96).contains(&value[..3].parse::<u32>().unwrap_or(0))
}

/// A Vietnamese mobile number: `0` or `+84`/`84`, then 9 digits starting with 3, 5, 7, 8 or 9
/// (the mobile prefixes since 2018). Spaces, dots and dashes between digits are ignored.
pub fn is_vietnamese_mobile(value: &str) -> bool {
    let compact: String = value
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-'))
        .collect();
    let national = if let Some(rest) = compact.strip_prefix("+84") {
        rest
    } else if let Some(rest) = compact.strip_prefix("84").filter(|r| r.len() == 9) {
        rest
    } else if let Some(rest) = compact.strip_prefix('0') {
        rest
    } else {
        return false;
    };
    national.len() == 9
        && national.bytes().all(|b| b.is_ascii_digit())
        && matches!(national.as_bytes()[0], b'3' | b'5' | b'7' | b'8' | b'9')
}

/// An e-mail address in the shape people type: `local@domain.tld`, no spaces, at most 254
/// characters, a local part of at most 64, a domain of letters, digits and hyphens in dotted
/// labels with at least two labels.
pub fn is_email(value: &str) -> bool {
    if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    if local.is_empty() || local.len() > 64 || local.contains('@') {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests;
