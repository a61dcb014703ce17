//! Test helpers shared by the dossier modules' tests: a real encrypted store, a `Dossiers` on
//! it (its HTTP client points nowhere), and a procedure with a form of every kind.

use std::sync::Arc;

use super::wire::{AttachmentRule, FieldKind, FormField, Procedure, SelectOption, sample};
use super::{Dossiers, catalogue};
use crate::config::CitizenConfig;
use crate::events::EventBus;
use crate::jose::EcPublicJwk;
use crate::net::HttpClient;
use crate::outbox::RetryPolicy;
use crate::platform::SoftwareSealer;
use crate::store::{Store, StoreError};
use crate::wallet::{IssuerTrust, Wallet, WalletContext, WalletError};

pub(crate) async fn open_store(dir: &std::path::Path) -> Arc<Store> {
    Arc::new(
        Store::open(dir, Arc::new(SoftwareSealer::in_dir(dir)))
            .await
            .unwrap(),
    )
}

/// Trusts no issuer: the drafts' tests never verify a credential.
struct NoIssuers;

impl IssuerTrust for NoIssuers {
    fn issuer_key(&self, _: &str, _: &str, _: i64) -> Result<EcPublicJwk, WalletError> {
        Err(WalletError::NoTrustList)
    }
    fn may_issue(&self, _: &str, _: &str) -> bool {
        false
    }
    fn issuer_name(&self, _: &str) -> Option<String> {
        None
    }
    fn relying_party(
        &self,
        _: &str,
    ) -> Result<Option<crate::trust_list::RelyingParty>, WalletError> {
        Err(WalletError::NoTrustList)
    }
}

pub(crate) fn dossiers(dir: &std::path::Path, store: &Arc<Store>) -> Dossiers {
    let mut config = CitizenConfig::new(dir, "https://127.0.0.1:9/");
    config.allow_unpinned = true;
    let http = HttpClient::new(&config).unwrap();
    let events = Arc::new(EventBus::default());
    let wallet = Wallet::new(WalletContext {
        store: store.clone(),
        http: http.clone(),
        events: events.clone(),
        keys: None,
        trust: Arc::new(NoIssuers),
        remote: Default::default(),
    });
    Dossiers::new(store.clone(), http, events, wallet, RetryPolicy::default())
}

pub(crate) async fn seed(store: &Store, procedures: Vec<Procedure>) {
    store
        .write(move |tx| catalogue::apply(tx, &procedures).map(|_| ()))
        .await
        .unwrap();
}

fn field(id: &str, kind: FieldKind, required: bool) -> FormField {
    FormField {
        id: id.into(),
        label: format!("Nhãn {id}"),
        kind,
        required,
        pattern: None,
        min: None,
        max: None,
        options: vec![],
    }
}

/// `code` with a form of every kind and two attachment rules (one PDF required, 0 to 2 images).
pub(crate) fn form_procedure(code: &str) -> Procedure {
    let mut p = sample(code);
    p.form = vec![
        FormField {
            min: Some(2),
            max: Some(100),
            ..field("ho_ten", FieldKind::Text, true)
        },
        FormField {
            pattern: Some("^[0-9]{12}$".into()),
            ..field("so_dinh_danh", FieldKind::IdNumber, true)
        },
        FormField {
            min: Some(-365 * 120),
            max: Some(0),
            ..field("ngay_sinh", FieldKind::Date, true)
        },
        FormField {
            pattern: Some("^0[0-9]{9}$".into()),
            ..field("so_dien_thoai", FieldKind::Phone, true)
        },
        field("email", FieldKind::Email, false),
        FormField {
            min: Some(5),
            max: Some(300),
            ..field("dia_chi", FieldKind::Address, true)
        },
        FormField {
            options: vec![
                SelectOption {
                    value: "nam".into(),
                    label: "Nam".into(),
                },
                SelectOption {
                    value: "nu".into(),
                    label: "Nữ".into(),
                },
            ],
            ..field("gioi_tinh", FieldKind::Select, false)
        },
        FormField {
            min: Some(1),
            max: Some(50),
            ..field("so_ban", FieldKind::Number, false)
        },
    ];
    p.attachments = vec![
        AttachmentRule {
            kind: "giay_chung_sinh".into(),
            label: "Giấy chứng sinh".into(),
            media_types: vec!["application/pdf".into()],
            max_bytes: 6_000_000,
            min_count: 1,
            max_count: 1,
        },
        AttachmentRule {
            kind: "anh".into(),
            label: "Ảnh".into(),
            media_types: vec!["image/jpeg".into(), "image/png".into()],
            max_bytes: 1_000_000,
            min_count: 0,
            max_count: 2,
        },
    ];
    p.check().unwrap();
    p
}

/// Values that pass `form_procedure`'s form.
pub(crate) fn good_values() -> Vec<(String, String)> {
    [
        ("ho_ten", "Nguyễn Thị Bình"),
        ("so_dinh_danh", "001190012345"),
        ("ngay_sinh", "1990-05-17"),
        ("so_dien_thoai", "0912345678"),
        ("email", "binh@example.vn"),
        ("dia_chi", "Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội"),
        ("gioi_tinh", "nu"),
        ("so_ban", "2"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A minimal PDF of about `len` bytes.
pub(crate) fn pdf(len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    let mut i: u32 = 0;
    while bytes.len() < len {
        i = i.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        bytes.push((i >> 16) as u8);
    }
    bytes.truncate(len.max(9));
    bytes
}

pub(crate) fn png(len: usize) -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    bytes.resize(len.max(8), 7);
    bytes
}

pub(crate) async fn count(store: &Store, sql: &'static str) -> i64 {
    store
        .read(move |c| Ok::<_, StoreError>(c.query_row(sql, [], |r| r.get(0))?))
        .await
        .unwrap()
}

/// Runs one SQL statement as a test's back door (a crash's leftovers, a submitted state).
pub(crate) async fn execute(store: &Store, sql: String) {
    store
        .write(move |tx| Ok::<_, StoreError>(tx.execute_batch(&sql)?))
        .await
        .unwrap();
}
