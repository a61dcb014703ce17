//! Validation tests: pure, on `test_support::form_procedure`.

use std::collections::BTreeMap;

use super::*;
use crate::dossier::test_support::{form_procedure, good_values};

/// 2026-11-26 12:00 UTC.
const NOW: i64 = 1_795_694_400;

fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut values: BTreeMap<String, String> = good_values().into_iter().collect();
    for (field, value) in pairs {
        values.insert((*field).into(), (*value).into());
    }
    values
}

fn one_pdf() -> BTreeMap<String, u32> {
    BTreeMap::from([("giay_chung_sinh".to_owned(), 1)])
}

fn codes(errors: &[FieldError]) -> Vec<(&str, &str)> {
    errors
        .iter()
        .map(|e| (e.field.as_str(), e.code.as_str()))
        .collect()
}

fn code_of(field: &str, value: &str) -> Option<&'static str> {
    let errors = validate(
        &form_procedure("1.1"),
        &values(&[(field, value)]),
        &one_pdf(),
        NOW,
    );
    assert!(errors.len() <= 1, "{errors:?}");
    errors.first().map(|e| {
        assert_eq!(e.field, field);
        assert_eq!(e.message_key, e.code.message_key());
        e.code.as_str()
    })
}

#[test]
fn a_complete_draft_passes() {
    assert_eq!(
        validate(&form_procedure("1.1"), &values(&[]), &one_pdf(), NOW),
        vec![]
    );
}

#[test]
fn an_empty_draft_lists_every_required_field_and_attachment() {
    let errors = validate(
        &form_procedure("1.1"),
        &BTreeMap::new(),
        &BTreeMap::new(),
        NOW,
    );
    assert_eq!(
        codes(&errors),
        vec![
            ("ho_ten", "required"),
            ("so_dinh_danh", "required"),
            ("ngay_sinh", "required"),
            ("so_dien_thoai", "required"),
            ("dia_chi", "required"),
            ("giay_chung_sinh", "attachment_missing"),
        ]
    );
    assert_eq!(errors[0].message_key, "dossier.field.required");
    assert_eq!(errors[5].message_key, "dossier.attachment.missing");
    // Blank is empty.
    assert_eq!(code_of("ho_ten", "   "), Some("required"));
}

#[test]
fn each_kind_has_its_code() {
    assert_eq!(code_of("ho_ten", "A"), Some("too_short"));
    assert_eq!(code_of("ho_ten", &"a".repeat(101)), Some("too_long"));
    assert_eq!(code_of("dia_chi", "HN"), Some("too_short"));
    assert_eq!(code_of("so_ban", "0"), Some("below_min"));
    assert_eq!(code_of("so_ban", "51"), Some("above_max"));
    assert_eq!(code_of("so_ban", "2.5"), Some("not_a_number"));
    assert_eq!(code_of("so_ban", "hai"), Some("not_a_number"));
    assert_eq!(
        code_of("so_ban", "99999999999999999999"),
        Some("not_a_number")
    );
    assert_eq!(code_of("ngay_sinh", "17/05/1990"), Some("invalid_date"));
    assert_eq!(code_of("ngay_sinh", "1990-02-30"), Some("invalid_date"));
    assert_eq!(code_of("ngay_sinh", "2000-02-29"), None);
    assert_eq!(code_of("ngay_sinh", "1900-02-29"), Some("invalid_date"));
    // Not in the future (max 0 days from today, in Vietnam), not 120 years ago.
    assert_eq!(code_of("ngay_sinh", "2026-11-26"), None);
    assert_eq!(code_of("ngay_sinh", "2026-11-27"), Some("above_max"));
    assert_eq!(code_of("ngay_sinh", "1901-01-01"), Some("below_min"));
    assert_eq!(code_of("gioi_tinh", "Nam"), Some("not_an_option"));
    assert_eq!(code_of("gioi_tinh", "nam"), None);
    assert_eq!(
        code_of("so_dinh_danh", "00109001234"),
        Some("invalid_id_number")
    );
    assert_eq!(
        code_of("so_dinh_danh", "00109001234a"),
        Some("invalid_id_number")
    );
    assert_eq!(
        code_of("so_dinh_danh", "999090012345"),
        Some("invalid_id_number")
    );
    assert_eq!(
        code_of("so_dien_thoai", "0212345678"),
        Some("invalid_phone")
    );
    assert_eq!(code_of("so_dien_thoai", "091234567"), Some("invalid_phone"));
    // A valid mobile number the procedure's own pattern does not take.
    assert_eq!(code_of("so_dien_thoai", "+84912345678"), Some("pattern"));
    assert_eq!(code_of("email", "binh@"), Some("invalid_email"));
    assert_eq!(
        code_of("email", "binh at example.vn"),
        Some("invalid_email")
    );
    assert_eq!(code_of("email", "binh@localhost"), Some("invalid_email"));
}

#[test]
fn patterns_apply_to_text_fields() {
    let mut procedure = form_procedure("1.1");
    procedure.form[0].pattern = Some("^[A-Z]{2}[0-9]{13}$".into());
    let errors = validate(
        &procedure,
        &values(&[("ho_ten", "DN12345")]),
        &one_pdf(),
        NOW,
    );
    assert_eq!(codes(&errors), vec![("ho_ten", "pattern")]);
    let errors = validate(
        &procedure,
        &values(&[("ho_ten", "DN1234567890123")]),
        &one_pdf(),
        NOW,
    );
    assert!(errors.is_empty(), "{errors:?}");
    // A pattern the matcher cannot read is left to the portal.
    procedure.form[0].pattern = Some(r"^\p{Lu}+$".into());
    let errors = validate(&procedure, &values(&[("ho_ten", "abc")]), &one_pdf(), NOW);
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn unknown_fields_and_attachment_counts() {
    let errors = validate(
        &form_procedure("1.1"),
        &values(&[("ten_doanh_nghiep", "Công ty")]),
        &BTreeMap::from([
            ("giay_chung_sinh".to_owned(), 2),
            ("anh".to_owned(), 1),
            ("ho_chieu".to_owned(), 1),
        ]),
        NOW,
    );
    assert_eq!(
        codes(&errors),
        vec![
            ("ten_doanh_nghiep", "unknown_field"),
            ("giay_chung_sinh", "attachment_too_many"),
            ("ho_chieu", "unknown_attachment_kind"),
        ]
    );
}

#[test]
fn errors_carry_no_values() {
    let errors = validate(
        &form_procedure("1.1"),
        &values(&[("so_dinh_danh", "00109001234"), ("email", "binh@")]),
        &one_pdf(),
        NOW,
    );
    let text = format!("{errors:?}");
    assert!(
        !text.contains("0010900") && !text.contains("binh"),
        "{text}"
    );
}

#[test]
fn vietnamese_formats() {
    for good in [
        "0912345678",
        "0312 345 678",
        "+84912345678",
        "84912345678",
        "098.765.4321",
    ] {
        assert!(is_vietnamese_mobile(good), "{good}");
    }
    for bad in ["0112345678", "+8491234567", "091234567a", "", "+1912345678"] {
        assert!(!is_vietnamese_mobile(bad), "{bad}");
    }
    assert!(is_citizen_id_number("001090012345"));
    assert!(is_citizen_id_number("096190012345"));
    assert!(!is_citizen_id_number("000090012345"));
    assert!(!is_citizen_id_number("097090012345"));
    assert!(is_email("nguyen.van.an+dvc@gov.vn"));
    assert!(is_email("an@bộ.việtnam"));
    assert!(!is_email("a@b@c.vn"));
    assert!(!is_email("a@-b.vn"));
    assert_eq!(parse_date("1970-01-01"), Some(0));
    assert_eq!(parse_date("2026-11-26"), Some(NOW / 86_400));
}
