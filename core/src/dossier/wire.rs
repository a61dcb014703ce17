//! The dossier capability's contract with the portal: the types both sides use (the sandbox
//! serves them from these very types), their limits, and the checks a received page must pass.
//!
//! Owns: `GET /v1/catalogue/procedures` (the procedure catalogue by delta) and what a procedure
//! record holds. Does not own storing or searching them (`catalogue`) nor the HTTP calls
//! (`Dossiers::sync_catalogue`). `docs/portal-api.yaml` is the written contract;
//! `docs/dossiers.md` explains it.
//!
//! ## The catalogue by delta
//!
//! `GET /v1/catalogue/procedures?since=<cursor>&limit=<n>` answers a [`CataloguePage`]: the
//! procedures changed after `cursor` (all live procedures without `since`), oldest change first,
//! at most `limit` of them, a new `cursor`, and `more` when further changes wait. A changed
//! procedure comes as its whole record with a higher `version`; a removed one comes once more
//! with `withdrawn: true`. The answer carries an `ETag` naming the catalogue's revision; a request
//! whose `If-None-Match` names the current revision gets `304` with no body.

use serde::{Deserialize, Serialize};

/// The portal path of the catalogue, below `portal_base_url`.
pub const CATALOGUE_PATH: &str = "v1/catalogue/procedures";
/// The page size the SDK asks for.
pub const PAGE_LIMIT: u32 = 500;
/// The largest page size a portal must serve; a page with more procedures is refused.
pub const MAX_PAGE_LIMIT: u32 = 500;
/// The largest page body the SDK reads (500 procedures of a few KB each fit with room).
pub const MAX_PAGE_BYTES: usize = 8 * 1024 * 1024;
/// The longest cursor accepted (it is opaque, but it is stored and sent back).
pub const MAX_CURSOR_LEN: usize = 256;

/// Limits on one procedure record, checked by [`Procedure::check`].
pub const MAX_CODE_LEN: usize = 32;
pub const MAX_NAME_LEN: usize = 500;
pub const MAX_DESCRIPTION_LEN: usize = 8_000;
pub const MAX_KEYWORDS: usize = 32;
pub const MAX_KEYWORD_LEN: usize = 100;
pub const MAX_FIELDS: usize = 100;
pub const MAX_OPTIONS: usize = 300;
pub const MAX_FEES: usize = 20;
pub const MAX_ATTACHMENTS: usize = 30;
pub const MAX_LABEL_LEN: usize = 300;

/// One page of catalogue changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CataloguePage {
    pub procedures: Vec<Procedure>,
    /// Opaque; the next request's `since`. Printable ASCII, at most [`MAX_CURSOR_LEN`].
    pub cursor: String,
    /// More changes wait past this page: ask again at once with the new cursor.
    #[serde(default)]
    pub more: bool,
}

/// The administrative level of the agency that handles a procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// A ministry or national agency (Bộ, Bảo hiểm xã hội Việt Nam, ...).
    Central,
    /// A province or centrally-run city (Sở, Công an tỉnh, ...).
    Province,
    /// A district, town or provincial city (UBND quận/huyện/thị xã).
    District,
    /// A commune, ward or township (UBND xã/phường/thị trấn).
    Commune,
}

impl Level {
    pub const ALL: [Level; 4] = [
        Level::Central,
        Level::Province,
        Level::District,
        Level::Commune,
    ];

    /// The name used on the wire and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Central => "central",
            Level::Province => "province",
            Level::District => "district",
            Level::Commune => "commune",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|level| level.as_str() == text)
    }
}

/// The agency that receives a procedure's dossiers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Agency {
    /// Stable identifier, e.g. `000.00.01.H26`.
    pub code: String,
    /// Display name in Vietnamese, e.g. `Sở Tư pháp thành phố Hà Nội`.
    pub name: String,
}

/// One administrative procedure (thủ tục hành chính), as the portal publishes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Procedure {
    /// Unique in the catalogue, e.g. `1.001193`.
    pub code: String,
    /// Grows with every change; a record never replaces a newer one.
    pub version: u64,
    /// The procedure was removed from the catalogue: the SDK deletes it.
    #[serde(default)]
    pub withdrawn: bool,
    /// In Vietnamese, e.g. `Đăng ký khai sinh`.
    pub name: String,
    /// In Vietnamese; plain text.
    #[serde(default)]
    pub description: String,
    /// Other words citizens search it by (`giấy khai sinh`, `birth registration`).
    #[serde(default)]
    pub keywords: Vec<String>,
    pub agency: Agency,
    pub level: Level,
    /// Working days the agency takes; 0 means the same day.
    pub processing_days: u32,
    /// What the citizen pays; empty when the procedure is free.
    #[serde(default)]
    pub fees: Vec<Fee>,
    /// The form the citizen fills in.
    #[serde(default)]
    pub form: Vec<FormField>,
    /// The documents to attach.
    #[serde(default)]
    pub attachments: Vec<AttachmentRule>,
}

/// One line of a procedure's fee table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    /// What the fee is for, e.g. `Lệ phí đăng ký khai sinh quá hạn`.
    pub label: String,
    /// In đồng.
    pub amount: u64,
}

/// The kinds of form fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Number,
    /// `YYYY-MM-DD`.
    Date,
    /// One of `options`.
    Select,
    /// A 12-digit citizen identity number.
    IdNumber,
    Phone,
    Email,
    Address,
}

/// One field of a procedure's form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormField {
    /// Stable within the procedure, `[a-z0-9_]`.
    pub id: String,
    /// In Vietnamese.
    pub label: String,
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    /// A regular expression the whole value must match (text-like kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Number: the smallest value; text-like kinds: the fewest characters; date: the earliest
    /// day as days from today (negative in the past).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    /// Number: the largest value; text-like kinds: the most characters; date: the latest day as
    /// days from today (0 = not in the future).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// The choices of a `select` field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<SelectOption>,
}

/// One choice of a `select` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectOption {
    pub value: String,
    pub label: String,
}

/// A document to attach to a dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRule {
    /// Stable within the procedure, e.g. `giay_chung_sinh`.
    pub kind: String,
    /// In Vietnamese, e.g. `Giấy chứng sinh`.
    pub label: String,
    /// Accepted media types, e.g. `application/pdf`, `image/jpeg`.
    pub media_types: Vec<String>,
    /// The largest file accepted, in bytes.
    pub max_bytes: u64,
    /// How many files of this kind at least (0: optional).
    pub min_count: u32,
    /// How many at most (at least 1).
    pub max_count: u32,
}

/// Why a received page or procedure was refused. Names a member, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the catalogue page is not valid: {0}")]
pub struct InvalidCatalogue(pub &'static str);

fn check_text(
    text: &str,
    max: usize,
    allow_empty: bool,
    what: &'static str,
) -> Result<(), InvalidCatalogue> {
    if (!allow_empty && text.trim().is_empty())
        || text.chars().count() > max
        || text.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(InvalidCatalogue(what));
    }
    Ok(())
}

impl CataloguePage {
    /// Checks the page as a whole and each procedure in it.
    pub fn check(&self) -> Result<(), InvalidCatalogue> {
        if self.procedures.len() > MAX_PAGE_LIMIT as usize {
            return Err(InvalidCatalogue("procedures"));
        }
        if self.cursor.is_empty()
            || self.cursor.len() > MAX_CURSOR_LEN
            || !self.cursor.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(InvalidCatalogue("cursor"));
        }
        self.procedures.iter().try_for_each(Procedure::check)
    }
}

impl Procedure {
    /// Checks every member against its limits. A withdrawn record needs only its code.
    pub fn check(&self) -> Result<(), InvalidCatalogue> {
        if self.code.is_empty()
            || self.code.len() > MAX_CODE_LEN
            || !self
                .code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        {
            return Err(InvalidCatalogue("code"));
        }
        if self.withdrawn {
            return Ok(());
        }
        check_text(&self.name, MAX_NAME_LEN, false, "name")?;
        check_text(&self.description, MAX_DESCRIPTION_LEN, true, "description")?;
        if self.keywords.len() > MAX_KEYWORDS {
            return Err(InvalidCatalogue("keywords"));
        }
        for keyword in &self.keywords {
            check_text(keyword, MAX_KEYWORD_LEN, false, "keywords")?;
        }
        check_text(&self.agency.code, MAX_CODE_LEN, false, "agency.code")?;
        check_text(&self.agency.name, MAX_LABEL_LEN, false, "agency.name")?;
        if self.fees.len() > MAX_FEES {
            return Err(InvalidCatalogue("fees"));
        }
        for fee in &self.fees {
            check_text(&fee.label, MAX_LABEL_LEN, false, "fees.label")?;
        }
        if self.form.len() > MAX_FIELDS {
            return Err(InvalidCatalogue("form"));
        }
        for (index, field) in self.form.iter().enumerate() {
            if field.id.is_empty()
                || field.id.len() > 64
                || !field
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                || self.form[..index].iter().any(|other| other.id == field.id)
            {
                return Err(InvalidCatalogue("form.id"));
            }
            check_text(&field.label, MAX_LABEL_LEN, false, "form.label")?;
            if let Some(pattern) = &field.pattern {
                check_text(pattern, MAX_LABEL_LEN, false, "form.pattern")?;
            }
            if let (Some(min), Some(max)) = (field.min, field.max)
                && min > max
            {
                return Err(InvalidCatalogue("form.min"));
            }
            let select = field.kind == FieldKind::Select;
            if select == field.options.is_empty() || field.options.len() > MAX_OPTIONS {
                return Err(InvalidCatalogue("form.options"));
            }
            for option in &field.options {
                check_text(&option.value, MAX_LABEL_LEN, false, "form.options")?;
                check_text(&option.label, MAX_LABEL_LEN, false, "form.options")?;
            }
        }
        if self.attachments.len() > MAX_ATTACHMENTS {
            return Err(InvalidCatalogue("attachments"));
        }
        for rule in &self.attachments {
            check_text(&rule.kind, 64, false, "attachments.kind")?;
            check_text(&rule.label, MAX_LABEL_LEN, false, "attachments.label")?;
            if rule.media_types.is_empty()
                || rule.media_types.len() > 10
                || rule
                    .media_types
                    .iter()
                    .any(|t| !t.contains('/') || t.len() > 100)
            {
                return Err(InvalidCatalogue("attachments.media_types"));
            }
            if rule.max_bytes == 0 || rule.max_count == 0 || rule.min_count > rule.max_count {
                return Err(InvalidCatalogue("attachments.count"));
            }
        }
        Ok(())
    }

    /// The fee table's total, in đồng; 0 for a free procedure.
    pub fn total_fee(&self) -> u64 {
        self.fees
            .iter()
            .map(|f| f.amount)
            .fold(0, u64::saturating_add)
    }
}

/// `POST /v1/test/catalogue/revise` (sandbox only): change, withdraw and add procedures, so a
/// delta sync has something to fetch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviseRequest {
    /// How many procedures get a new version (a new description and fee).
    #[serde(default)]
    pub changed: u32,
    /// How many are withdrawn.
    #[serde(default)]
    pub withdrawn: u32,
    /// How many new ones are published.
    #[serde(default)]
    pub added: u32,
    /// How many of the next catalogue answers are broken JSON (a fault for tests).
    #[serde(default)]
    pub broken_pages: u32,
}

/// What a revision did, by procedure code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revised {
    pub changed: Vec<String>,
    pub withdrawn: Vec<String>,
    pub added: Vec<String>,
}

/// A valid procedure for tests.
#[cfg(test)]
pub(crate) fn sample(code: &str) -> Procedure {
    Procedure {
        code: code.into(),
        version: 1,
        withdrawn: false,
        name: "Đăng ký khai sinh".into(),
        description: "Đăng ký khai sinh cho trẻ em sinh ra tại Việt Nam.".into(),
        keywords: vec!["giấy khai sinh".into()],
        agency: Agency {
            code: "000.01.01.H26".into(),
            name: "UBND phường Phúc Xá".into(),
        },
        level: Level::Commune,
        processing_days: 0,
        fees: vec![],
        form: vec![FormField {
            id: "ho_ten_tre".into(),
            label: "Họ, chữ đệm, tên".into(),
            kind: FieldKind::Text,
            required: true,
            pattern: None,
            min: Some(2),
            max: Some(100),
            options: vec![],
        }],
        attachments: vec![AttachmentRule {
            kind: "giay_chung_sinh".into(),
            label: "Giấy chứng sinh".into(),
            media_types: vec!["application/pdf".into()],
            max_bytes: 5_000_000,
            min_count: 1,
            max_count: 1,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_checks() {
        let procedure = sample("1.001193");
        let json = serde_json::to_string(&procedure).unwrap();
        assert!(json.contains("\"level\":\"commune\""));
        assert!(json.contains("\"kind\":\"text\""));
        let back: Procedure = serde_json::from_str(&json).unwrap();
        assert_eq!(back, procedure);
        procedure.check().unwrap();
    }

    #[test]
    fn refusals_name_the_member() {
        let mut bad = sample("1 001");
        assert_eq!(bad.check(), Err(InvalidCatalogue("code")));
        bad = sample("1.1");
        bad.name = " ".into();
        assert_eq!(bad.check(), Err(InvalidCatalogue("name")));
        bad = sample("1.1");
        bad.form[0].kind = FieldKind::Select;
        assert_eq!(bad.check(), Err(InvalidCatalogue("form.options")));
        bad = sample("1.1");
        bad.attachments[0].min_count = 2;
        assert_eq!(bad.check(), Err(InvalidCatalogue("attachments.count")));
        bad = sample("1.1");
        bad.form.push(bad.form[0].clone());
        assert_eq!(bad.check(), Err(InvalidCatalogue("form.id")));
        let page = CataloguePage {
            procedures: vec![],
            cursor: "a b".into(),
            more: false,
        };
        assert_eq!(page.check(), Err(InvalidCatalogue("cursor")));
    }

    #[test]
    fn a_withdrawn_record_needs_only_its_code() {
        let mut withdrawn = sample("1.2");
        withdrawn.withdrawn = true;
        withdrawn.name.clear();
        withdrawn.check().unwrap();
    }
}
