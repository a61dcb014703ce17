//! Pre-filling a draft from the wallet's person-identification credential (PID): pure, I/O-free.
//!
//! Owns: which form fields a PID claim may fill ([`claim_for`]), reading the PID's claims from
//! the stored SD-JWT ([`pid_claims()`]) and the list of offers for one procedure
//! ([`candidates`]). Does not own reading the credential from the store (`wallet::credentials`)
//! nor changing the draft (`draft::set_fields`, called by `Dossiers::apply_prefill` with only
//! the claims the citizen approved).
//!
//! ## Which field takes which claim
//!
//! The portal's form schema has no pre-fill hint (yet), so the mapping is the SDK's, by field
//! id, and deliberately narrow: a form often has fields about another person (the child of a
//! birth registration has its own `gioi_tinh`, `quoc_tich`, `noi_sinh`), so only ids that name
//! the requester's own data are mapped ([`FIELD_CLAIMS`]). One fallback by kind: when a form
//! has exactly one `id_number` field and no mapped id took the ID number, that field is offered
//! the PID's `id_number` (a form with two, like "old card number" beside "identity number",
//! gets none by kind). A claim is offered only when its value passes the field's own checks
//! (`validate::check_field`), so a select is offered only a value among its options (`sex`
//! `male`/`female` maps to `nam`/`nu`, a nationality code matches an option case-insensitively).
//! Nothing is written until the citizen approves claims by name (`Dossiers::apply_prefill`).
//!
//! Claims are read from the stored credential without verifying its signature again: it was
//! verified when it was stored and has not left the encrypted store since.

use std::collections::BTreeMap;

use serde_json::Value;

use super::validate;
use super::wire::{FieldKind, FormField, Procedure};
use crate::openid4vci::pid_claims;
use crate::sdjwt::{Limits, SdJwt};

/// Field ids (as the national portal's forms name them) and the PID claim each one takes.
pub const FIELD_CLAIMS: &[(&str, &str)] = &[
    ("ho_ten", pid_claims::FULL_NAME),
    ("ho_va_ten", pid_claims::FULL_NAME),
    ("ho_ten_nguoi_yeu_cau", pid_claims::FULL_NAME),
    ("ho_ten_nguoi_nop", pid_claims::FULL_NAME),
    ("full_name", pid_claims::FULL_NAME),
    ("so_dinh_danh", pid_claims::ID_NUMBER),
    ("so_dinh_danh_ca_nhan", pid_claims::ID_NUMBER),
    ("so_cccd", pid_claims::ID_NUMBER),
    ("so_can_cuoc", pid_claims::ID_NUMBER),
    ("id_number", pid_claims::ID_NUMBER),
    ("ngay_sinh", pid_claims::BIRTH_DATE),
    ("ngay_sinh_nguoi_yeu_cau", pid_claims::BIRTH_DATE),
    ("birth_date", pid_claims::BIRTH_DATE),
    ("gioi_tinh_nguoi_yeu_cau", pid_claims::SEX),
    ("sex", pid_claims::SEX),
    ("quoc_tich_nguoi_yeu_cau", pid_claims::NATIONALITY),
    ("nationality", pid_claims::NATIONALITY),
    ("dia_chi", pid_claims::PLACE_OF_RESIDENCE),
    ("noi_cu_tru", pid_claims::PLACE_OF_RESIDENCE),
    ("dia_chi_thuong_tru", pid_claims::PLACE_OF_RESIDENCE),
    ("place_of_residence", pid_claims::PLACE_OF_RESIDENCE),
    ("que_quan", pid_claims::PLACE_OF_ORIGIN),
    ("place_of_origin", pid_claims::PLACE_OF_ORIGIN),
];

/// The PID claims pre-filling reads.
const CLAIMS: &[&str] = &[
    pid_claims::FULL_NAME,
    pid_claims::ID_NUMBER,
    pid_claims::BIRTH_DATE,
    pid_claims::SEX,
    pid_claims::NATIONALITY,
    pid_claims::PLACE_OF_RESIDENCE,
    pid_claims::PLACE_OF_ORIGIN,
];

/// One offer: field `field` could take the value of PID claim `claim`. `value` is personal
/// data (shown to the citizen to approve): `Debug` leaves it out.
#[derive(Clone, PartialEq, Eq)]
pub struct PrefillCandidate {
    /// The PID claim's name, e.g. `full_name`; what `apply_prefill` takes.
    pub claim: String,
    /// The form field's id.
    pub field: String,
    /// The value the field would get (a select's option value).
    pub value: String,
    /// The field already has a different value, which pre-filling would replace.
    pub replaces: bool,
}

impl std::fmt::Debug for PrefillCandidate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrefillCandidate")
            .field("claim", &self.claim)
            .field("field", &self.field)
            .field("replaces", &self.replaces)
            .finish_non_exhaustive()
    }
}

/// The PID claim field `field` takes by its id, if any.
pub fn claim_for(field: &FormField) -> Option<&'static str> {
    FIELD_CLAIMS
        .iter()
        .find(|(id, _)| *id == field.id)
        .map(|(_, claim)| *claim)
}

/// The top-level string claims pre-filling reads, from a stored SD-JWT VC (the issuer-signed
/// payload and the disclosures; the signature is not checked again). `None` if it does not
/// parse.
pub fn pid_claims(sd_jwt: &str) -> Option<BTreeMap<String, String>> {
    let parsed = SdJwt::parse(sd_jwt, &Limits::default()).ok()?;
    let mut claims = BTreeMap::new();
    if let Ok(payload) = parsed.issuer_jwt().claims() {
        for name in CLAIMS {
            if let Some(Value::String(value)) = payload.get(*name) {
                claims.insert((*name).to_owned(), value.clone());
            }
        }
    }
    for disclosure in parsed.disclosures() {
        if let (Some(name), Value::String(value)) = (disclosure.name(), disclosure.value())
            && CLAIMS.contains(&name)
        {
            claims.insert(name.to_owned(), value.clone());
        }
    }
    Some(claims)
}

/// The value claim `claim` gives field `field`, if it passes the field's checks.
fn value_for(field: &FormField, claim: &str, value: &str, today: i64) -> Option<String> {
    let value = value.trim();
    let value = if field.kind == FieldKind::Select {
        let synonyms: &[&str] = match (claim, value) {
            (pid_claims::SEX, "male") => &["male", "nam"],
            (pid_claims::SEX, "female") => &["female", "nu"],
            _ => &[],
        };
        field
            .options
            .iter()
            .find(|o| o.value == value || o.value.eq_ignore_ascii_case(value))
            .or_else(|| {
                field
                    .options
                    .iter()
                    .find(|o| synonyms.iter().any(|s| o.value.eq_ignore_ascii_case(s)))
            })?
            .value
            .clone()
    } else {
        value.to_owned()
    };
    (!value.is_empty() && validate::check_field(field, &value, today).is_none()).then_some(value)
}

/// What the PID's `claims` could fill in `procedure`'s form, in form order, given the draft's
/// current `values`. `now` in Unix seconds (for date bounds). A field whose value already equals
/// the claim's is not offered.
pub fn candidates(
    procedure: &Procedure,
    claims: &BTreeMap<String, String>,
    values: &BTreeMap<String, String>,
    now: i64,
) -> Vec<PrefillCandidate> {
    let today = (now + validate::VIETNAM_UTC_OFFSET_SECS).div_euclid(86_400);
    let id_number_fields = procedure
        .form
        .iter()
        .filter(|f| f.kind == FieldKind::IdNumber)
        .count();
    let id_number_mapped = procedure
        .form
        .iter()
        .any(|f| claim_for(f) == Some(pid_claims::ID_NUMBER));
    let mut offers = Vec::new();
    for field in &procedure.form {
        let claim = claim_for(field).or_else(|| {
            (field.kind == FieldKind::IdNumber && id_number_fields == 1 && !id_number_mapped)
                .then_some(pid_claims::ID_NUMBER)
        });
        let Some(claim) = claim else { continue };
        let Some(value) = claims
            .get(claim)
            .and_then(|v| value_for(field, claim, v, today))
        else {
            continue;
        };
        let current = values.get(&field.id);
        if current == Some(&value) {
            continue;
        }
        offers.push(PrefillCandidate {
            claim: claim.to_owned(),
            field: field.id.clone(),
            value,
            replaces: current.is_some(),
        });
    }
    offers
}

#[cfg(test)]
mod tests;
