//! Pre-fill tests: the mapping (pure) and `Dossiers::prefill_candidates` / `apply_prefill` on a
//! real store holding a PID issued like the sandbox issues it.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::dossier::test_support::*;
use crate::dossier::{DossierError, wire::SelectOption};
use crate::jose::SoftwareSigner;
use crate::openid4vci::{PID_VCT, pid_claims as pid};
use crate::sdjwt::{self, ClaimPath, IssueOptions};
use crate::wallet::credentials::{self, StoredCredential};

const NOW: i64 = 1_795_694_400;

fn pid_sd_jwt() -> String {
    let signer = SoftwareSigner::generate().unwrap();
    let payload = json!({
        "iss": "https://issuer.example", "iat": NOW - 10, "exp": NOW + 3600, "vct": PID_VCT,
        "full_name": "Nguyễn Văn An", "birth_date": "1990-05-17", "sex": "male",
        "nationality": "VN", "id_number": "001090012345", "place_of_origin": "Hà Nội",
        "place_of_residence": "Phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh",
        "issue_date": "2026-01-01", "expiry_date": "2027-01-01",
    });
    let payload = payload.as_object().unwrap().clone();
    sdjwt::issue(
        &payload,
        &IssueOptions {
            // Everything but the nationality is selectively disclosable: both places are read.
            disclosable: pid::ALL
                .iter()
                .filter(|c| payload.contains_key(**c) && **c != pid::NATIONALITY)
                .map(|c| ClaimPath::claim(c))
                .collect(),
            holder_key: None,
            typ: Some(sdjwt::SD_JWT_VC_TYP.into()),
            kid: Some("k1".into()),
            decoys_per_container: 2,
        },
        &signer,
    )
    .unwrap()
    .sd_jwt
}

fn claims() -> BTreeMap<String, String> {
    pid_claims(&pid_sd_jwt()).unwrap()
}

#[test]
fn claims_come_from_disclosures_and_the_payload() {
    let claims = claims();
    assert_eq!(claims[pid::FULL_NAME], "Nguyễn Văn An");
    assert_eq!(claims[pid::ID_NUMBER], "001090012345");
    assert_eq!(claims[pid::NATIONALITY], "VN");
    assert_eq!(claims[pid::SEX], "male");
    assert!(!claims.contains_key("issue_date") && !claims.contains_key("vct"));
    assert_eq!(pid_claims("not an sd-jwt"), None);
}

#[test]
fn the_requesters_fields_are_offered_and_nothing_else() {
    let procedure = form_procedure("1.1");
    let offers = candidates(&procedure, &claims(), &BTreeMap::new(), NOW);
    let pairs: Vec<(&str, &str)> = offers
        .iter()
        .map(|o| (o.claim.as_str(), o.field.as_str()))
        .collect();
    // `gioi_tinh` may be another person's (a child's): not mapped by id.
    assert_eq!(
        pairs,
        vec![
            (pid::FULL_NAME, "ho_ten"),
            (pid::ID_NUMBER, "so_dinh_danh"),
            (pid::BIRTH_DATE, "ngay_sinh"),
            (pid::PLACE_OF_RESIDENCE, "dia_chi"),
        ]
    );
    assert!(offers.iter().all(|o| !o.replaces));
    let debug = format!("{offers:?}");
    assert!(
        !debug.contains("Nguyễn") && !debug.contains("00109"),
        "{debug}"
    );

    // Already equal: not offered; different: offered as a replacement.
    let current = BTreeMap::from([
        ("ho_ten".to_owned(), "Nguyễn Văn An".to_owned()),
        ("ngay_sinh".to_owned(), "1991-01-01".to_owned()),
    ]);
    let offers = candidates(&procedure, &claims(), &current, NOW);
    assert!(!offers.iter().any(|o| o.field == "ho_ten"));
    assert!(offers.iter().any(|o| o.field == "ngay_sinh" && o.replaces));
}

#[test]
fn selects_take_an_option_and_kinds_are_a_narrow_fallback() {
    let mut procedure = form_procedure("1.1");
    procedure.form[6].id = "gioi_tinh_nguoi_yeu_cau".into();
    procedure.form.push(FormField {
        id: "quoc_tich_nguoi_yeu_cau".into(),
        options: vec![SelectOption {
            value: "vn".into(),
            label: "Việt Nam".into(),
        }],
        ..procedure.form[6].clone()
    });
    // The one id-number field under another id still gets the ID number by its kind.
    procedure.form[1].id = "so_giay_to".into();
    let offers = candidates(&procedure, &claims(), &BTreeMap::new(), NOW);
    let find = |field: &str| {
        offers
            .iter()
            .find(|o| o.field == field)
            .map(|o| o.value.as_str())
    };
    assert_eq!(find("gioi_tinh_nguoi_yeu_cau"), Some("nam"));
    assert_eq!(find("quoc_tich_nguoi_yeu_cau"), Some("vn"));
    assert_eq!(find("so_giay_to"), Some("001090012345"));

    // Two id-number fields ("old card number" beside it): neither by kind.
    procedure.form.push(FormField {
        id: "so_the_cu".into(),
        ..procedure.form[1].clone()
    });
    let offers = candidates(&procedure, &claims(), &BTreeMap::new(), NOW);
    assert!(!offers.iter().any(|o| o.claim == pid::ID_NUMBER));
}

#[tokio::test]
async fn only_approved_claims_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path()).await;
    seed(&store, vec![form_procedure("1.000100")]).await;
    let dossiers = dossiers(dir.path(), &store);
    let draft = dossiers.create_draft("1.000100").await.unwrap();

    assert!(matches!(
        dossiers.prefill_candidates(draft.id).await,
        Err(DossierError::NoIdentityCredential)
    ));
    let sd_jwt = pid_sd_jwt();
    store
        .write(move |tx| {
            credentials::insert(
                tx,
                &StoredCredential {
                    id: "c1".into(),
                    vct: PID_VCT.into(),
                    issuer: "https://issuer.example".into(),
                    issuer_kid: "k1".into(),
                    key_alias: "alias".into(),
                    sd_jwt,
                    issued_at: NOW,
                    expires_at: None,
                    status_uri: None,
                    status_idx: None,
                    pin_pending: false,
                    stored_at: NOW,
                },
            )
        })
        .await
        .unwrap();

    let offers = dossiers.prefill_candidates(draft.id).await.unwrap();
    assert_eq!(offers.len(), 4);
    assert!(
        dossiers
            .draft(draft.id)
            .await
            .unwrap()
            .unwrap()
            .values
            .is_empty()
    );

    // A claim not offered refuses the whole call.
    match dossiers
        .apply_prefill(draft.id, &[pid::FULL_NAME.into(), pid::SEX.into()])
        .await
    {
        Err(DossierError::ClaimNotOffered(claim)) => assert_eq!(claim, pid::SEX),
        other => panic!("{other:?}"),
    }
    assert!(
        dossiers
            .draft(draft.id)
            .await
            .unwrap()
            .unwrap()
            .values
            .is_empty()
    );

    let filled = dossiers
        .apply_prefill(draft.id, &[pid::FULL_NAME.into(), pid::ID_NUMBER.into()])
        .await
        .unwrap();
    assert_eq!(filled.values.len(), 2);
    assert_eq!(filled.values["ho_ten"], "Nguyễn Văn An");
    assert_eq!(filled.values["so_dinh_danh"], "001090012345");
    let left: Vec<String> = dossiers
        .prefill_candidates(draft.id)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.claim)
        .collect();
    assert_eq!(left, vec![pid::BIRTH_DATE, pid::PLACE_OF_RESIDENCE]);
}
