//! The `hcert` claim (CWT claim -260, its key 1): the EU DCC's content as typed values, per the
//! eu-dcc JSON schema (`ver`, `nam`, `dob` and one group of `v`, `t` or `r` entries).
//!
//! Pure and I/O-free: every CBOR value gives a [`HealthCertificate`] or a typed [`HcertError`]
//! naming the field, never a panic and never a value. Strings are kept as written (the value
//! sets — disease, vaccine, test codes — are codes the app maps to words); dates are checked to
//! be ISO 8601 dates where the schema says `date`. Unknown members are ignored, as the schema's
//! versions add them. No `Debug` here prints a name, a date or an identifier.

use ciborium::Value;

use crate::signed_qr::{ClaimKey, Claims};

/// The CWT claim key of `hcert`.
pub const HCERT_CLAIM: i64 = -260;
/// The key of the EU DCC inside `hcert`.
pub const HCERT_EU_DCC: i64 = 1;
/// The longest string field accepted (the schema's longest is 80 characters; some issuers
/// write longer names, which the schema's "truncate" rule allows readers to accept).
pub const MAX_FIELD_CHARS: usize = 256;
/// The largest dose number or count accepted.
pub const MAX_DOSES: u32 = 99;
/// The most entries accepted in one certificate.
pub const MAX_ENTRIES: usize = 16;

/// Why a claim set's `hcert` is not a readable EU DCC. Names the field, never its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HcertError {
    #[error("the claim set has no `hcert` (-260) claim with an EU DCC (key 1)")]
    Missing,
    #[error("`{0}` is missing")]
    MissingField(&'static str),
    #[error("`{0}` has the wrong type or form")]
    InvalidField(&'static str),
    #[error("`{0}` appears twice")]
    DuplicateField(&'static str),
    #[error("the certificate has no vaccination, test or recovery entry")]
    NoEntry,
    #[error("the certificate has more than one group of entries or too many entries")]
    TooManyEntries,
}

/// The kind of an entry, which a signer certificate's extended key usage may restrict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntryKind {
    Vaccination,
    Test,
    Recovery,
}

impl EntryKind {
    /// The stable lowercase name (`vaccination`, `test`, `recovery`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Vaccination => "vaccination",
            Self::Test => "test",
            Self::Recovery => "recovery",
        }
    }
}

/// An EU Digital COVID Certificate's content.
#[derive(Clone, PartialEq, Eq)]
pub struct HealthCertificate {
    /// The schema version (`ver`), e.g. `1.3.0`.
    pub version: String,
    pub name: PersonName,
    /// `dob`: `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or empty (unknown), as the schema allows.
    pub date_of_birth: String,
    pub entries: Vec<Entry>,
}

/// `nam`: the holder's name as printed and standardised (ICAO 9303 transliteration, `<` for
/// spaces).
#[derive(Clone, PartialEq, Eq)]
pub struct PersonName {
    /// `fn`.
    pub family: Option<String>,
    /// `fnt`: required by the schema.
    pub family_standardised: String,
    /// `gn`.
    pub given: Option<String>,
    /// `gnt`.
    pub given_standardised: Option<String>,
}

/// One entry.
#[derive(Clone, PartialEq, Eq)]
pub enum Entry {
    Vaccination(Vaccination),
    Test(TestResult),
    Recovery(Recovery),
}

impl Entry {
    pub fn kind(&self) -> EntryKind {
        match self {
            Self::Vaccination(_) => EntryKind::Vaccination,
            Self::Test(_) => EntryKind::Test,
            Self::Recovery(_) => EntryKind::Recovery,
        }
    }

    /// `ci`: the unique certificate identifier (UVCI).
    pub fn certificate_id(&self) -> &str {
        match self {
            Self::Vaccination(v) => &v.certificate_id,
            Self::Test(t) => &t.certificate_id,
            Self::Recovery(r) => &r.certificate_id,
        }
    }
}

/// A `v` entry.
#[derive(Clone, PartialEq, Eq)]
pub struct Vaccination {
    /// `tg`: disease or agent targeted (SNOMED CT, `840539006` = COVID-19).
    pub disease: String,
    /// `vp`: vaccine or prophylaxis.
    pub vaccine: String,
    /// `mp`: medicinal product.
    pub product: String,
    /// `ma`: marketing authorisation holder or manufacturer.
    pub manufacturer: String,
    /// `dn`: number in a series of doses.
    pub dose_number: u32,
    /// `sd`: the overall number of doses in the series.
    pub total_doses: u32,
    /// `dt`: date of vaccination, `YYYY-MM-DD`.
    pub date: String,
    /// `co`: country of vaccination (ISO 3166).
    pub country: String,
    /// `is`: certificate issuer.
    pub issuer: String,
    /// `ci`: unique certificate identifier.
    pub certificate_id: String,
}

/// A `t` entry.
#[derive(Clone, PartialEq, Eq)]
pub struct TestResult {
    /// `tg`.
    pub disease: String,
    /// `tt`: type of test (LOINC).
    pub test_type: String,
    /// `nm`: NAA test name.
    pub name: Option<String>,
    /// `ma`: RAT test device identifier.
    pub device: Option<String>,
    /// `sc`: date and time of sample collection (ISO 8601).
    pub sample_collected: String,
    /// `dr`: date and time of the test result (schemas before 1.3).
    pub result_date: Option<String>,
    /// `tr`: the result (SNOMED CT, `260415000` = not detected).
    pub result: String,
    /// `tc`: testing centre or facility.
    pub centre: Option<String>,
    /// `co`.
    pub country: String,
    /// `is`.
    pub issuer: String,
    /// `ci`.
    pub certificate_id: String,
}

/// An `r` entry.
#[derive(Clone, PartialEq, Eq)]
pub struct Recovery {
    /// `tg`.
    pub disease: String,
    /// `fr`: date of the first positive NAA test, `YYYY-MM-DD`.
    pub first_positive: String,
    /// `co`.
    pub country: String,
    /// `is`.
    pub issuer: String,
    /// `df`: certificate valid from, `YYYY-MM-DD`.
    pub valid_from: String,
    /// `du`: certificate valid until, `YYYY-MM-DD`.
    pub valid_until: String,
    /// `ci`.
    pub certificate_id: String,
}

impl std::fmt::Debug for HealthCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthCertificate")
            .field("version", &self.version)
            .field("entries", &self.entries)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for PersonName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonName(..)")
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Vaccination(v) => v.fmt(f),
            Self::Test(t) => t.fmt(f),
            Self::Recovery(r) => r.fmt(f),
        }
    }
}

/// `Debug` of an entry type: its kind and disease only.
macro_rules! entry_debug {
    ($($type:ident),*) => {$(
        impl std::fmt::Debug for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($type))
                    .field("disease", &self.disease)
                    .finish_non_exhaustive()
            }
        }
    )*};
}

entry_debug!(Vaccination, TestResult, Recovery);

impl HealthCertificate {
    /// The EU DCC in a verified claim set (`-260` → `1`).
    pub fn from_claims(claims: &Claims) -> Result<Self, HcertError> {
        let Some(Value::Map(hcert)) = claims.private.get(&ClaimKey::Int(HCERT_CLAIM)) else {
            return Err(HcertError::Missing);
        };
        let dcc = hcert
            .iter()
            .find(|(key, _)| *key == Value::Integer(HCERT_EU_DCC.into()))
            .map(|(_, value)| value)
            .ok_or(HcertError::Missing)?;
        Self::from_value(dcc)
    }

    /// The EU DCC from its CBOR map (`ver`, `nam`, `dob`, `v`/`t`/`r`).
    pub fn from_value(value: &Value) -> Result<Self, HcertError> {
        let map = Fields::new(value, "hcert")?;
        let name = Fields::new(map.required("nam")?, "nam")?;
        let mut entries = Vec::new();
        let mut groups = 0;
        for (group, read) in [
            (
                "v",
                vaccination as fn(&Fields<'_>) -> Result<Entry, HcertError>,
            ),
            ("t", test),
            ("r", recovery),
        ] {
            let items = match map.optional(group) {
                None | Some(Value::Null) => continue,
                Some(Value::Array(items)) => items,
                Some(_) => return Err(HcertError::InvalidField(group)),
            };
            groups += 1;
            for item in items {
                entries.push(read(&Fields::new(item, group)?)?);
            }
        }
        if entries.is_empty() {
            return Err(HcertError::NoEntry);
        }
        if groups > 1 || entries.len() > MAX_ENTRIES {
            return Err(HcertError::TooManyEntries);
        }
        let date_of_birth = map.text("dob")?;
        if !is_date_of_birth(&date_of_birth) {
            return Err(HcertError::InvalidField("dob"));
        }
        Ok(Self {
            version: map.text("ver")?,
            name: PersonName {
                family: name.optional_text("fn")?,
                family_standardised: name.text("fnt")?,
                given: name.optional_text("gn")?,
                given_standardised: name.optional_text("gnt")?,
            },
            date_of_birth,
            entries,
        })
    }

    /// The kinds of its entries, each once.
    pub fn kinds(&self) -> Vec<EntryKind> {
        let mut kinds: Vec<EntryKind> = self.entries.iter().map(Entry::kind).collect();
        kinds.sort();
        kinds.dedup();
        kinds
    }
}

fn vaccination(fields: &Fields<'_>) -> Result<Entry, HcertError> {
    Ok(Entry::Vaccination(Vaccination {
        disease: fields.text("tg")?,
        vaccine: fields.text("vp")?,
        product: fields.text("mp")?,
        manufacturer: fields.text("ma")?,
        dose_number: fields.dose("dn")?,
        total_doses: fields.dose("sd")?,
        date: fields.date("dt")?,
        country: fields.text("co")?,
        issuer: fields.text("is")?,
        certificate_id: fields.text("ci")?,
    }))
}

fn test(fields: &Fields<'_>) -> Result<Entry, HcertError> {
    Ok(Entry::Test(TestResult {
        disease: fields.text("tg")?,
        test_type: fields.text("tt")?,
        name: fields.optional_text("nm")?,
        device: fields.optional_text("ma")?,
        sample_collected: fields.text("sc")?,
        result_date: fields.optional_text("dr")?,
        result: fields.text("tr")?,
        centre: fields.optional_text("tc")?,
        country: fields.text("co")?,
        issuer: fields.text("is")?,
        certificate_id: fields.text("ci")?,
    }))
}

fn recovery(fields: &Fields<'_>) -> Result<Entry, HcertError> {
    Ok(Entry::Recovery(Recovery {
        disease: fields.text("tg")?,
        first_positive: fields.date("fr")?,
        country: fields.text("co")?,
        issuer: fields.text("is")?,
        valid_from: fields.date("df")?,
        valid_until: fields.date("du")?,
        certificate_id: fields.text("ci")?,
    }))
}

/// The fields the schema types as `date-time`.
const DATE_TIME_FIELDS: [&str; 2] = ["sc", "dr"];

/// A CBOR map with text keys, each at most once.
struct Fields<'a> {
    entries: &'a [(Value, Value)],
}

impl<'a> Fields<'a> {
    fn new(value: &'a Value, name: &'static str) -> Result<Self, HcertError> {
        let Value::Map(entries) = value else {
            return Err(HcertError::InvalidField(name));
        };
        let mut seen = std::collections::BTreeSet::new();
        for (key, _) in entries {
            let Value::Text(key) = key else {
                return Err(HcertError::InvalidField(name));
            };
            if !seen.insert(key.as_str()) {
                return Err(HcertError::DuplicateField(name));
            }
        }
        Ok(Self { entries })
    }

    fn optional(&self, name: &str) -> Option<&'a Value> {
        self.entries
            .iter()
            .find(|(key, _)| matches!(key, Value::Text(key) if key == name))
            .map(|(_, value)| value)
    }

    fn required(&self, name: &'static str) -> Result<&'a Value, HcertError> {
        self.optional(name).ok_or(HcertError::MissingField(name))
    }

    fn optional_text(&self, name: &'static str) -> Result<Option<String>, HcertError> {
        let value = match self.optional(name) {
            // RFC 8949 tag 0 (a standard date-time string), which some issuers put on `sc`
            // and `dr`: the string is kept.
            Some(Value::Tag(0, inner)) if DATE_TIME_FIELDS.contains(&name) => Some(&**inner),
            other => other,
        };
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Text(text)) if text.chars().count() <= MAX_FIELD_CHARS => {
                Ok(Some(text.clone()))
            }
            Some(_) => Err(HcertError::InvalidField(name)),
        }
    }

    fn text(&self, name: &'static str) -> Result<String, HcertError> {
        self.optional_text(name)?
            .ok_or(HcertError::MissingField(name))
    }

    /// A `YYYY-MM-DD` date (a longer ISO 8601 date-time, which early issuers wrote, is accepted
    /// and kept as written when it starts with one).
    fn date(&self, name: &'static str) -> Result<String, HcertError> {
        let text = self.text(name)?;
        if !starts_with_full_date(&text) {
            return Err(HcertError::InvalidField(name));
        }
        Ok(text)
    }

    /// A dose count: an integer from 0 to [`MAX_DOSES`] (the schema says 1 to 9; issuers have
    /// signed 0, and the count is shown, not used to decide).
    fn dose(&self, name: &'static str) -> Result<u32, HcertError> {
        match self.required(name)? {
            Value::Integer(int) => u32::try_from(i128::from(*int))
                .ok()
                .filter(|count| *count <= MAX_DOSES)
                .ok_or(HcertError::InvalidField(name)),
            _ => Err(HcertError::InvalidField(name)),
        }
    }
}

fn digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// `YYYY-MM-DD` with a month 01–12 and a day 01–31.
fn is_full_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    matches!(parts.as_slice(), [y, m, d]
        if y.len() == 4 && digits(y) && m.len() == 2 && digits(m) && d.len() == 2 && digits(d)
            && (1..=12).contains(&m.parse::<u8>().unwrap_or(0))
            && (1..=31).contains(&d.parse::<u8>().unwrap_or(0)))
}

/// `dob`: empty, `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (a date-time after a full date is accepted,
/// as schema 1.0.0 allowed it).
fn is_date_of_birth(text: &str) -> bool {
    let year = |y: &str| y.len() == 4 && digits(y);
    let parts: Vec<&str> = text.split('-').collect();
    match parts.as_slice() {
        [""] => true,
        [y] => year(y),
        [y, m] => year(y) && m.len() == 2 && digits(m),
        _ => starts_with_full_date(text),
    }
}

/// A `YYYY-MM-DD` date, alone or followed by `T` and a time.
fn starts_with_full_date(text: &str) -> bool {
    is_full_date(text.get(..10).unwrap_or(""))
        && text
            .get(10..)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('T'))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn text(value: &str) -> Value {
        Value::Text(value.into())
    }

    fn map(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(key, value)| (text(key), value.clone()))
                .collect(),
        )
    }

    pub(crate) fn vaccination_value() -> Value {
        map(&[
            ("ver", text("1.3.0")),
            (
                "nam",
                map(&[
                    ("fn", text("Nguyễn")),
                    ("fnt", text("NGUYEN")),
                    ("gn", text("Văn An")),
                    ("gnt", text("VAN<AN")),
                ]),
            ),
            ("dob", text("1990-01-02")),
            (
                "v",
                Value::Array(vec![map(&[
                    ("tg", text("840539006")),
                    ("vp", text("1119349007")),
                    ("mp", text("EU/1/20/1528")),
                    ("ma", text("ORG-100030215")),
                    ("dn", Value::Integer(2.into())),
                    ("sd", Value::Integer(2.into())),
                    ("dt", text("2021-06-01")),
                    ("co", text("VN")),
                    ("is", text("Ministry of Health")),
                    ("ci", text("URN:UVCI:01:VN:SECRET#1")),
                ])]),
            ),
        ])
    }

    fn with(value: &Value, path: &[&str], new: Option<Value>) -> Value {
        let Value::Map(entries) = value else {
            panic!("not a map")
        };
        let mut entries = entries.clone();
        let index = entries.iter().position(|(key, _)| *key == text(path[0]));
        match (path.len(), index, new) {
            (1, Some(i), Some(new)) => entries[i].1 = new,
            (1, Some(i), None) => {
                entries.remove(i);
            }
            (1, None, Some(new)) => entries.push((text(path[0]), new)),
            (_, Some(i), new) => {
                let inner = match &entries[i].1 {
                    Value::Array(items) => Value::Array(vec![with(&items[0], &path[1..], new)]),
                    other => with(other, &path[1..], new),
                };
                entries[i].1 = inner;
            }
            _ => panic!("no such path"),
        }
        Value::Map(entries)
    }

    #[test]
    fn reads_a_vaccination_certificate_and_debug_names_no_one() {
        let dcc = HealthCertificate::from_value(&vaccination_value()).unwrap();
        assert_eq!(dcc.version, "1.3.0");
        assert_eq!(dcc.name.family_standardised, "NGUYEN");
        assert_eq!(dcc.name.given.as_deref(), Some("Văn An"));
        assert_eq!(dcc.date_of_birth, "1990-01-02");
        assert_eq!(dcc.kinds(), vec![EntryKind::Vaccination]);
        let Entry::Vaccination(v) = &dcc.entries[0] else {
            panic!("not a vaccination")
        };
        assert_eq!((v.dose_number, v.total_doses), (2, 2));
        assert_eq!(dcc.entries[0].certificate_id(), "URN:UVCI:01:VN:SECRET#1");
        let debug = format!("{dcc:?}");
        for personal in ["NGUYEN", "Nguyễn", "Văn", "1990", "SECRET", "2021-06-01"] {
            assert!(!debug.contains(personal), "{debug}");
        }
        assert!(debug.contains("Vaccination"), "{debug}");
    }

    #[test]
    fn reads_from_the_claim() {
        let mut claims = Claims::default();
        assert_eq!(
            HealthCertificate::from_claims(&claims),
            Err(HcertError::Missing)
        );
        claims.private.insert(
            ClaimKey::Int(HCERT_CLAIM),
            Value::Map(vec![(Value::Integer(1.into()), vaccination_value())]),
        );
        assert!(HealthCertificate::from_claims(&claims).is_ok());
        claims.private.insert(
            ClaimKey::Int(HCERT_CLAIM),
            Value::Map(vec![(Value::Integer(2.into()), vaccination_value())]),
        );
        assert_eq!(
            HealthCertificate::from_claims(&claims),
            Err(HcertError::Missing)
        );
    }

    #[test]
    fn wrong_types_and_missing_fields_are_typed_errors() {
        let base = vaccination_value();
        let int = |n: i64| Value::Integer(n.into());
        for (path, new, error) in [
            (&["ver"][..], None, HcertError::MissingField("ver")),
            (&["ver"][..], Some(int(1)), HcertError::InvalidField("ver")),
            (
                &["nam"][..],
                Some(text("x")),
                HcertError::InvalidField("nam"),
            ),
            (&["nam", "fnt"][..], None, HcertError::MissingField("fnt")),
            (
                &["nam", "gn"][..],
                Some(int(1)),
                HcertError::InvalidField("gn"),
            ),
            (
                &["dob"][..],
                Some(text("02/01/1990")),
                HcertError::InvalidField("dob"),
            ),
            (
                &["dob"][..],
                Some(Value::Bytes(vec![1])),
                HcertError::InvalidField("dob"),
            ),
            (&["v"][..], None, HcertError::NoEntry),
            (&["v"][..], Some(Value::Array(vec![])), HcertError::NoEntry),
            (&["v"][..], Some(text("x")), HcertError::InvalidField("v")),
            (
                &["v", "dn"][..],
                Some(text("2")),
                HcertError::InvalidField("dn"),
            ),
            (
                &["v", "dn"][..],
                Some(int(100)),
                HcertError::InvalidField("dn"),
            ),
            (
                &["v", "sd"][..],
                Some(int(-1)),
                HcertError::InvalidField("sd"),
            ),
            (
                &["v", "sd"][..],
                Some(Value::Float(2.0)),
                HcertError::InvalidField("sd"),
            ),
            (
                &["v", "dt"][..],
                Some(text("2021-13-01")),
                HcertError::InvalidField("dt"),
            ),
            (&["v", "ci"][..], None, HcertError::MissingField("ci")),
            (
                &["v", "ci"][..],
                Some(text(&"x".repeat(MAX_FIELD_CHARS + 1))),
                HcertError::InvalidField("ci"),
            ),
        ] {
            assert_eq!(
                HealthCertificate::from_value(&with(&base, path, new)),
                Err(error),
                "{path:?}"
            );
        }
        let two_groups = with(
            &base,
            &["r"],
            Some(Value::Array(vec![map(&[("tg", text("x"))])])),
        );
        assert!(HealthCertificate::from_value(&two_groups).is_err());
        let Value::Map(mut entries) = base.clone() else {
            unreachable!()
        };
        entries.push((text("ver"), text("1.0.0")));
        assert_eq!(
            HealthCertificate::from_value(&Value::Map(entries)),
            Err(HcertError::DuplicateField("hcert"))
        );
        assert_eq!(
            HealthCertificate::from_value(&Value::Array(vec![])),
            Err(HcertError::InvalidField("hcert"))
        );
        let Value::Map(mut entries) = base else {
            unreachable!()
        };
        entries.push((Value::Integer(1.into()), text("x")));
        assert_eq!(
            HealthCertificate::from_value(&Value::Map(entries)),
            Err(HcertError::InvalidField("hcert"))
        );
    }

    #[test]
    fn dates_of_birth_in_every_form_the_schema_allows() {
        for ok in ["", "1990", "1990-01", "1990-01-02", "1990-01-02T00:00:00"] {
            assert!(is_date_of_birth(ok), "{ok}");
        }
        for bad in [
            "90",
            "1990-1",
            "1990-01-2",
            "abcd",
            "1990-13-01",
            "1990-01-02-03",
        ] {
            assert!(!is_date_of_birth(bad), "{bad}");
        }
    }
}
