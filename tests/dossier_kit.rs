//! Shared set-up for the dossier tests, the crash child and the dossier benches: a procedure
//! from the synced catalogue, values that pass its checks, documents of the right types, and a
//! draft ready to submit.

use citizen_core::dossier::{CatalogueFilter, Dossiers, DraftId, FieldKind, FormField, Procedure};

/// A value that passes `field`'s checks (`text` for free text, `id_number` for ID fields).
pub fn filler(field: &FormField, text: &str, id_number: &str) -> String {
    match field.kind {
        FieldKind::Text => text.into(),
        FieldKind::Address => "Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội".into(),
        FieldKind::Phone => "0912345678".into(),
        FieldKind::Email => "an.nguyen@example.vn".into(),
        FieldKind::IdNumber => id_number.into(),
        FieldKind::Date => "2026-01-15".into(),
        FieldKind::Number => field.min.unwrap_or(1).max(1).to_string(),
        FieldKind::Select => field.options[0].value.clone(),
    }
}

/// A PDF of `len` bytes with `marker` in it, the rest pseudo-random (so it does not compress).
pub fn pdf(len: usize, marker: &str) -> Vec<u8> {
    let mut bytes = format!("%PDF-1.7\n% {marker}\n").into_bytes();
    let mut state: u32 = len as u32 ^ marker.len() as u32;
    for b in marker.bytes() {
        state = state.wrapping_mul(31).wrapping_add(u32::from(b));
    }
    while bytes.len() < len {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        bytes.push((state >> 16) as u8);
    }
    bytes.truncate(len.max(16));
    bytes
}

/// A small document of a type `kind` allows.
pub fn content_for(procedure: &Procedure, kind: &str, marker: &str) -> Vec<u8> {
    let rule = procedure
        .attachments
        .iter()
        .find(|r| r.kind == kind)
        .unwrap();
    if rule.media_types.iter().any(|t| t == "application/pdf") {
        pdf(2_000, marker)
    } else {
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
        jpeg.resize(2_000, 3);
        jpeg
    }
}

/// A birth registration from the synced catalogue whose form has the child's name and whose
/// declaration (`to_khai`) is a PDF.
pub async fn birth_registration(dossiers: &Dossiers) -> Procedure {
    let page = dossiers
        .search("dang ky khai sinh", CatalogueFilter::default(), 0, 50)
        .await
        .unwrap();
    for hit in &page.hits {
        let procedure = dossiers.procedure(&hit.code).await.unwrap().unwrap();
        if procedure.form.iter().any(|f| f.id == "ho_ten_tre")
            && procedure.attachments.iter().any(|r| r.kind == "to_khai")
        {
            return procedure;
        }
    }
    panic!("no birth registration in the first page");
}

/// A draft of `procedure` with every field filled (free text = `text`) and every required
/// document attached, the declaration being `declaration`. Passes validation.
pub async fn ready_draft(
    dossiers: &Dossiers,
    procedure: &Procedure,
    text: &str,
    id_number: &str,
    declaration: Vec<u8>,
) -> DraftId {
    let draft = dossiers.create_draft(&procedure.code).await.unwrap();
    let values = procedure
        .form
        .iter()
        .map(|field| (field.id.clone(), filler(field, text, id_number)))
        .collect();
    dossiers.set_fields(draft.id, values).await.unwrap();
    dossiers
        .add_attachment_bytes(draft.id, "to_khai", declaration)
        .await
        .unwrap();
    for rule in &procedure.attachments {
        if rule.min_count > 0 && rule.kind != "to_khai" {
            dossiers
                .add_attachment_bytes(
                    draft.id,
                    &rule.kind,
                    content_for(procedure, &rule.kind, text),
                )
                .await
                .unwrap();
        }
    }
    let errors = dossiers.validate_draft(draft.id).await.unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    draft.id
}

// --- the crash test's child process (tests/dossier_crash_child.rs) ---

/// What the test tells the child.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ChildConfig {
    pub data_dir: std::path::PathBuf,
    pub base_url: String,
    pub ca_pem: String,
    pub spki_pin: String,
    pub anchor_kid: String,
    pub anchor_jwk: serde_json::Value,
    pub id_number: String,
    pub pin: String,
    pub target: usize,
    pub attachment_bytes: usize,
}

/// `Crash dossier` and `n` in letters (free-text fields may refuse digits).
pub fn marker(n: usize) -> String {
    let mut letters = String::new();
    let mut rest = n;
    loop {
        letters.insert(0, char::from(b'a' + (rest % 26) as u8));
        rest /= 26;
        if rest == 0 {
            break;
        }
    }
    format!("Crash dossier {letters}")
}
