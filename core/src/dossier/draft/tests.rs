//! Draft tests against the real encrypted store, through `Dossiers`.

use crate::dossier::test_support::*;
use crate::dossier::{DossierError, DraftId, DraftState};

#[tokio::test]
async fn a_draft_is_made_saved_listed_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path()).await;
    seed(&store, vec![form_procedure("1.000100")]).await;
    let dossiers = dossiers(dir.path(), &store);

    let draft = dossiers.create_draft("1.000100").await.unwrap();
    assert_eq!(draft.procedure_code, "1.000100");
    assert_eq!(draft.procedure_version, 1);
    assert_eq!(draft.state, DraftState::Editing);
    assert!(draft.values.is_empty());

    let changed = dossiers
        .set_field(draft.id, "ho_ten", "Nguyễn Thị Bình")
        .await
        .unwrap();
    assert_eq!(changed.values["ho_ten"], "Nguyễn Thị Bình");
    dossiers.set_fields(draft.id, good_values()).await.unwrap();
    // An empty value clears the field.
    let cleared = dossiers.set_field(draft.id, "email", "").await.unwrap();
    assert!(!cleared.values.contains_key("email"));

    let other = dossiers.create_draft("1.000100").await.unwrap();
    let list = dossiers.drafts().await.unwrap();
    assert_eq!(list.len(), 2);
    assert!(list.iter().any(|d| d.id == draft.id && d.filled == 7));
    assert_eq!(list[0].procedure_name, "Đăng ký khai sinh");

    // Debug shows which fields are filled, never their values.
    let debug = format!("{cleared:?} {list:?}");
    assert!(debug.contains("ho_ten") && !debug.contains("Bình") && !debug.contains("0012345"));

    drop(dossiers);
    drop(store);
    let store = open_store(dir.path()).await;
    let dossiers = crate::dossier::test_support::dossiers(dir.path(), &store);
    let back = dossiers.draft(draft.id).await.unwrap().unwrap();
    assert_eq!(back, cleared);
    assert_eq!(dossiers.drafts().await.unwrap().len(), 2);

    assert!(dossiers.delete_draft(other.id).await.unwrap());
    assert!(!dossiers.delete_draft(other.id).await.unwrap());
    assert!(dossiers.draft(other.id).await.unwrap().is_none());
    assert_eq!(dossiers.drafts().await.unwrap().len(), 1);
}

#[tokio::test]
async fn refusals_are_typed_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path()).await;
    let mut other = form_procedure("2.000200");
    other.form[0].id = "ten_doanh_nghiep".into();
    seed(&store, vec![form_procedure("1.000100"), other]).await;
    let dossiers = dossiers(dir.path(), &store);

    assert!(matches!(
        dossiers.create_draft("9.999999").await,
        Err(DossierError::ProcedureNotFound)
    ));
    let draft = dossiers.create_draft("1.000100").await.unwrap();
    dossiers.set_field(draft.id, "ho_ten", "An").await.unwrap();

    // A field of another procedure, an unknown field, all or none.
    match dossiers
        .set_fields(
            draft.id,
            vec![
                ("dia_chi".into(), "Hà Nội, Việt Nam".into()),
                ("ten_doanh_nghiep".into(), "Công ty".into()),
            ],
        )
        .await
    {
        Err(DossierError::UnknownField(field)) => assert_eq!(field, "ten_doanh_nghiep"),
        other => panic!("{other:?}"),
    }
    // A name that is not a field id is not echoed.
    match dossiers
        .set_field(draft.id, "Nguyễn Văn An 0912345678", "x")
        .await
    {
        Err(error @ DossierError::UnknownField(_)) => {
            assert!(!error.to_string().contains("0912345678"), "{error}")
        }
        other => panic!("{other:?}"),
    }
    let too_long = "a".repeat(crate::dossier::draft::MAX_VALUE_CHARS + 1);
    assert!(matches!(
        dossiers.set_field(draft.id, "ho_ten", &too_long).await,
        Err(DossierError::ValueTooLong(field)) if field == "ho_ten"
    ));
    let unchanged = dossiers.draft(draft.id).await.unwrap().unwrap();
    assert_eq!(unchanged.values.len(), 1);
    assert_eq!(unchanged.values["ho_ten"], "An");

    assert!(matches!(
        dossiers.set_field(DraftId(9_999), "ho_ten", "An").await,
        Err(DossierError::DraftNotFound)
    ));

    // A submitted draft is locked.
    execute(
        &store,
        format!(
            "UPDATE dossier_drafts SET state = 'submitted' WHERE id = {}",
            draft.id.0
        ),
    )
    .await;
    assert!(matches!(
        dossiers.set_field(draft.id, "ho_ten", "Bình").await,
        Err(DossierError::DraftLocked)
    ));
    assert_eq!(
        dossiers.draft(draft.id).await.unwrap().unwrap().state,
        DraftState::Submitted
    );
}

#[tokio::test]
async fn a_draft_keeps_the_form_it_was_made_from() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path()).await;
    seed(&store, vec![form_procedure("1.000100")]).await;
    let dossiers = dossiers(dir.path(), &store);
    let draft = dossiers.create_draft("1.000100").await.unwrap();

    // The catalogue withdraws the procedure: the draft still has its form.
    let mut withdrawn = form_procedure("1.000100");
    withdrawn.version = 2;
    withdrawn.withdrawn = true;
    seed(&store, vec![withdrawn]).await;
    assert!(dossiers.procedure("1.000100").await.unwrap().is_none());
    let procedure = dossiers.draft_procedure(draft.id).await.unwrap().unwrap();
    assert_eq!(procedure.form.len(), 8);
    dossiers.set_field(draft.id, "ho_ten", "An").await.unwrap();
    let errors = dossiers.validate_draft(draft.id).await.unwrap();
    assert!(errors.iter().any(|e| e.field == "so_dinh_danh"));
}
