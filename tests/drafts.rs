//! Dossier drafts end to end: the catalogue synced from the real sandbox over HTTPS, a draft for
//! a birth registration pre-filled from the wallet's PID (only the approved claims), the rest
//! filled in, validated, a 5 MB attachment streamed from a file, the `Citizen` restarted, and
//! everything found intact, with no field value or document text in plaintext on disk.

use std::collections::BTreeMap;

use citizen_core::dossier::attachment::CHUNK_SIZE;
use citizen_core::dossier::{AttachmentError, CatalogueFilter, DossierError, FormField, Procedure};
use citizen_e2e::*;

const ID_NUMBER: &str = "001090077777";
/// Values whose plaintext must never reach the disk.
const CHILD_NAME: &str = "Trần Thị Bé Marker";
const DOCUMENT_MARKER: &str = "CITIZEN-DOCUMENT-PLAINTEXT-MARKER";

fn filler(field: &FormField) -> String {
    dossier_kit::filler(field, CHILD_NAME, ID_NUMBER)
}

fn pdf(len: usize) -> Vec<u8> {
    dossier_kit::pdf(len, DOCUMENT_MARKER)
}

fn content_for(procedure: &Procedure, kind: &str) -> Vec<u8> {
    dossier_kit::content_for(procedure, kind, DOCUMENT_MARKER)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_with_a_5_mb_attachment_survives_a_restart() {
    let portal = start_portal("Drafts portal").await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = activated(&portal, dir.path(), ID_NUMBER).await;
    let dossiers = citizen.dossiers();
    dossiers.sync_catalogue().await.unwrap();

    // A birth registration whose declaration form takes a 5 MB PDF (its rule allows 5, 10 or
    // 20 MiB).
    let page = dossiers
        .search("dang ky khai sinh", CatalogueFilter::default(), 0, 50)
        .await
        .unwrap();
    let mut chosen = None;
    for hit in &page.hits {
        let procedure = dossiers.procedure(&hit.code).await.unwrap().unwrap();
        if procedure.form.iter().any(|f| f.id == "ho_ten_tre")
            && procedure.attachments.iter().any(|r| r.kind == "to_khai")
        {
            chosen = Some(procedure);
            break;
        }
    }
    let procedure = chosen.expect("a birth registration in the first page");
    let draft = dossiers.create_draft(&procedure.code).await.unwrap();
    assert_eq!(draft.procedure_version, procedure.version);

    // Pre-fill: the requester's fields are offered from the PID; the citizen approves three.
    let offers = dossiers.prefill_candidates(draft.id).await.unwrap();
    let offered: BTreeMap<&str, &str> = offers
        .iter()
        .map(|o| (o.field.as_str(), o.claim.as_str()))
        .collect();
    assert_eq!(offered.get("ho_ten"), Some(&"full_name"));
    assert_eq!(offered.get("so_dinh_danh"), Some(&"id_number"));
    assert_eq!(offered.get("ngay_sinh"), Some(&"birth_date"));
    assert!(!offered.contains_key("ho_ten_tre") && !offered.contains_key("gioi_tinh"));
    let filled = dossiers
        .apply_prefill(
            draft.id,
            &["full_name".into(), "id_number".into(), "birth_date".into()],
        )
        .await
        .unwrap();
    assert_eq!(filled.values["ho_ten"], "Nguyễn Văn An");
    assert_eq!(filled.values["so_dinh_danh"], ID_NUMBER);
    assert_eq!(filled.values["ngay_sinh"], "1990-05-17");
    assert!(!filled.values.contains_key("dia_chi"), "not approved");

    // The rest by hand, one change at a time; then validation lists only the attachments.
    for field in &procedure.form {
        if !filled.values.contains_key(&field.id) {
            dossiers
                .set_field(draft.id, &field.id, &filler(field))
                .await
                .unwrap();
        }
    }
    let errors = dossiers.validate_draft(draft.id).await.unwrap();
    assert!(!errors.is_empty());
    assert!(
        errors
            .iter()
            .all(|e| e.code.as_str() == "attachment_missing"),
        "{errors:?}"
    );
    // A bad value is caught with its field and code.
    dossiers
        .set_field(draft.id, "so_dien_thoai", "0112345678")
        .await
        .unwrap();
    let errors = dossiers.validate_draft(draft.id).await.unwrap();
    assert!(errors.iter().any(|e| e.field == "so_dien_thoai"
        && e.code.as_str() == "invalid_phone"
        && e.message_key == "dossier.field.invalid_phone"));
    dossiers
        .set_field(draft.id, "so_dien_thoai", "0912345678")
        .await
        .unwrap();

    // The 5 MB declaration from a file, streamed; the other required documents from bytes.
    let big = pdf(5_000_000);
    let path = dir.path().join("to_khai.pdf");
    std::fs::write(&path, &big).unwrap();
    let declaration = dossiers
        .add_attachment_file(draft.id, "to_khai", &path)
        .await
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(declaration.size, 5_000_000);
    assert_eq!(declaration.media_type, "application/pdf");
    assert_eq!(
        declaration.chunk_count as usize,
        5_000_000usize.div_ceil(CHUNK_SIZE)
    );
    // A second declaration is one too many.
    match dossiers
        .add_attachment_bytes(draft.id, "to_khai", pdf(1_000))
        .await
    {
        Err(DossierError::Attachment(AttachmentError::TooMany { max_count: 1 })) => {}
        other => panic!("{other:?}"),
    }
    for rule in &procedure.attachments {
        if rule.min_count > 0 && rule.kind != "to_khai" {
            dossiers
                .add_attachment_bytes(draft.id, &rule.kind, content_for(&procedure, &rule.kind))
                .await
                .unwrap();
        }
    }
    assert_eq!(dossiers.validate_draft(draft.id).await.unwrap(), vec![]);
    let before = dossiers.draft(draft.id).await.unwrap().unwrap();
    let attachments_before = dossiers.attachments(draft.id).await.unwrap();

    // Restart.
    drop(dossiers);
    drop(citizen);
    let citizen = open_wallet(&portal, dir.path()).await;
    let dossiers = citizen.dossiers();
    assert_eq!(dossiers.draft(draft.id).await.unwrap().unwrap(), before);
    assert_eq!(
        dossiers.attachments(draft.id).await.unwrap(),
        attachments_before
    );
    assert_eq!(dossiers.validate_draft(draft.id).await.unwrap(), vec![]);
    let summaries = dossiers.drafts().await.unwrap();
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0].procedure_code, procedure.code);
    let mut read_back = Vec::with_capacity(big.len());
    for seq in 0..declaration.chunk_count {
        read_back.extend(
            dossiers
                .attachment_chunk(declaration.id, seq)
                .await
                .unwrap(),
        );
    }
    assert!(
        read_back == big,
        "the 5 MB attachment reads back byte for byte"
    );

    // Nothing in plaintext on disk: not a typed value, not a pre-filled one, not the document.
    for needle in [CHILD_NAME, "Nguyễn Văn An", ID_NUMBER, DOCUMENT_MARKER] {
        assert_eq!(
            files_containing(dir.path(), needle),
            Vec::<String>::new(),
            "{needle}"
        );
    }

    // Deleting the draft deletes its attachments.
    assert!(dossiers.delete_draft(draft.id).await.unwrap());
    assert!(dossiers.attachments(draft.id).await.unwrap().is_empty());
    assert!(matches!(
        dossiers.attachment_chunk(declaration.id, 0).await,
        Err(DossierError::AttachmentNotFound)
    ));
}
