//! Catalogue store tests against the real encrypted store.

use std::sync::Arc;

use super::*;
use crate::dossier::wire::sample;
use crate::platform::SoftwareSealer;
use crate::store::Store;

fn store(dir: &std::path::Path) -> Store {
    Store::open_blocking(dir, Arc::new(SoftwareSealer::in_dir(dir))).unwrap()
}

fn procedure(code: &str, name: &str, agency: &str, level: Level) -> Procedure {
    let mut p = sample(code);
    p.name = name.into();
    p.description = format!("Thủ tục {name}.");
    p.keywords = vec![];
    p.agency = Agency {
        code: format!("AG-{agency}"),
        name: agency.into(),
    };
    p.level = level;
    p
}

fn seeded(dir: &std::path::Path) -> Store {
    let store = store(dir);
    let mut procedures = vec![
        procedure(
            "1.000001",
            "Đăng ký khai sinh có yếu tố nước ngoài",
            "UBND quận Ba Đình",
            Level::District,
        ),
        procedure(
            "1.000002",
            "Đăng ký lại khai sinh",
            "UBND phường Phúc Xá",
            Level::Commune,
        ),
        procedure(
            "1.000003",
            "Đăng ký khai sinh",
            "UBND phường Phúc Xá",
            Level::Commune,
        ),
        procedure(
            "1.000004",
            "Đăng ký kết hôn",
            "UBND phường Phúc Xá",
            Level::Commune,
        ),
        procedure(
            "1.000005",
            "Cấp bản sao trích lục khai sinh",
            "UBND phường Trúc Bạch",
            Level::Commune,
        ),
        procedure(
            "1.000006",
            "Đăng ký thường trú",
            "Công an phường Trúc Bạch",
            Level::Commune,
        ),
        procedure(
            "2.000001",
            "Cấp hộ chiếu phổ thông",
            "Cục Quản lý xuất nhập cảnh",
            Level::Central,
        ),
        procedure(
            "1.000007",
            "Đăng ký khai sinh",
            "UBND phường Trúc Bạch",
            Level::Commune,
        ),
    ];
    procedures[6].keywords = vec!["passport".into()];
    store
        .write_blocking(move |tx| apply(tx, &procedures))
        .unwrap();
    store
}

fn codes(page: &SearchPage) -> Vec<&str> {
    page.hits.iter().map(|h| h.code.as_str()).collect()
}

fn find(store: &Store, query: &str, filter: CatalogueFilter, page: u32, size: u32) -> SearchPage {
    let query = query.to_owned();
    store
        .read_blocking(move |c| search(c, &query, &filter, page, size))
        .unwrap()
}

#[test]
fn the_three_spellings_find_the_same_procedure_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(dir.path());
    let mut firsts = Vec::new();
    for query in [
        "dang ky khai sinh",
        "Đăng ký khai sinh",
        "đăng ky khai sinh",
        "DANG KY KHAI SINH",
    ] {
        let page = find(&store, query, CatalogueFilter::default(), 0, 10);
        // The exact name first (the lower code of the two agencies), then its variants.
        assert_eq!(
            codes(&page)[..4],
            ["1.000003", "1.000007", "1.000001", "1.000002"],
            "{query}"
        );
        firsts.push(page.hits[0].clone());
    }
    assert!(firsts.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(firsts[0].name, "Đăng ký khai sinh");
}

#[test]
fn the_last_word_matches_as_a_prefix_and_keywords_count() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(dir.path());
    let page = find(&store, "khai si", CatalogueFilter::default(), 0, 10);
    assert_eq!(page.total, 5);
    assert_eq!(page.hits[0].name, "Đăng ký khai sinh");
    let page = find(&store, "passport", CatalogueFilter::default(), 0, 10);
    assert_eq!(codes(&page), ["2.000001"]);
    let page = find(&store, "ho chieu", CatalogueFilter::default(), 0, 10);
    assert_eq!(codes(&page), ["2.000001"]);
    // By code.
    let page = find(&store, "1.000004", CatalogueFilter::default(), 0, 10);
    assert_eq!(page.hits[0].code, "1.000004");
    // Nothing.
    let page = find(&store, "xyzzy", CatalogueFilter::default(), 0, 10);
    assert_eq!((page.total, page.hits.len(), page.more), (0, 0, false));
    // Every known word must match; an unknown word (a typo) is left out.
    let page = find(&store, "ket hon", CatalogueFilter::default(), 0, 10);
    assert_eq!(codes(&page), ["1.000004"]);
    let page = find(
        &store,
        "dang ky khai sinh xyzzy",
        CatalogueFilter::default(),
        0,
        10,
    );
    assert_eq!(page.total, 4);
    assert_eq!(page.hits[0].code, "1.000003");
}

#[test]
fn filters_by_agency_and_level() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(dir.path());
    let by_agency = CatalogueFilter {
        agency: Some("AG-UBND phường Trúc Bạch".into()),
        level: None,
    };
    let page = find(&store, "khai sinh", by_agency, 0, 10);
    assert_eq!(codes(&page), ["1.000007", "1.000005"]);
    let district = CatalogueFilter {
        agency: None,
        level: Some(Level::District),
    };
    let page = find(&store, "khai sinh", district.clone(), 0, 10);
    assert_eq!(codes(&page), ["1.000001"]);
    // An empty query lists what passes the filter, by name.
    let page = find(&store, "", district, 0, 10);
    assert_eq!(codes(&page), ["1.000001"]);
    let all = find(&store, "  ", CatalogueFilter::default(), 0, 100);
    assert_eq!(all.total, 8);

    let listed = store.read_blocking(|c| agencies(c, None)).unwrap();
    assert_eq!(listed.len(), 5);
    assert_eq!(listed[0].level, Level::Central);
    let phuc_xa = listed
        .iter()
        .find(|a| a.agency.name == "UBND phường Phúc Xá")
        .unwrap();
    assert_eq!(phuc_xa.procedures, 3);
    let communes = store
        .read_blocking(|c| agencies(c, Some(Level::Commune)))
        .unwrap();
    assert_eq!(communes.len(), 3);
}

#[test]
fn pages_cover_every_result_once_in_rank_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(dir.path());
    let whole = find(&store, "dang ky", CatalogueFilter::default(), 0, 100);
    assert_eq!(whole.total, 6);
    let mut paged = Vec::new();
    for page in 0.. {
        let part = find(&store, "dang ky", CatalogueFilter::default(), page, 4);
        assert_eq!(part.total, 6);
        assert_eq!(part.page, page);
        paged.extend(part.hits.clone());
        if !part.more {
            break;
        }
    }
    assert_eq!(paged, whole.hits);
    let past = find(&store, "dang ky", CatalogueFilter::default(), 9, 4);
    assert!(past.hits.is_empty());
    assert_eq!((past.total, past.more), (6, false));
}

#[test]
fn newer_versions_replace_older_ones_and_withdrawn_ones_go() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(dir.path());
    let mut renamed = procedure(
        "1.000004",
        "Đăng ký kết hôn lưu động",
        "UBND phường Phúc Xá",
        Level::Commune,
    );
    renamed.version = 2;
    let mut stale = procedure(
        "1.000006",
        "Tên cũ hơn",
        "Công an phường Trúc Bạch",
        Level::Commune,
    );
    stale.version = 0;
    let mut withdrawn = sample("1.000005");
    withdrawn.version = 2;
    withdrawn.withdrawn = true;
    let mut unknown_withdrawn = sample("9.999999");
    unknown_withdrawn.withdrawn = true;
    let applied = store
        .write_blocking(move |tx| apply(tx, &[renamed, stale, withdrawn, unknown_withdrawn]))
        .unwrap();
    assert_eq!(
        applied,
        Applied {
            updated: 1,
            withdrawn: 1
        }
    );
    let record = store
        .read_blocking(|c| procedure_of(c, "1.000004"))
        .unwrap();
    assert_eq!(record.name, "Đăng ký kết hôn lưu động");
    assert_eq!(record.version, 2);
    assert_eq!(
        find(&store, "luu dong", CatalogueFilter::default(), 0, 10).hits[0].code,
        "1.000004"
    );
    assert_eq!(
        store
            .read_blocking(|c| procedure_of(c, "1.000006"))
            .unwrap()
            .name,
        "Đăng ký thường trú"
    );
    assert!(
        store
            .read_blocking(|c| super::procedure(c, "1.000005"))
            .unwrap()
            .is_none()
    );
    assert!(
        !codes(&find(
            &store,
            "trich luc",
            CatalogueFilter::default(),
            0,
            10
        ))
        .contains(&"1.000005")
    );
    // No term is left behind by the replaced or the withdrawn record.
    let orphans: i64 = store
        .read_blocking(|c| {
            c.query_row(
                "SELECT count(*) FROM catalogue_terms t
                 WHERE NOT EXISTS (SELECT 1 FROM catalogue_procedures p WHERE p.id = t.procedure_id)
                    OR (t.term = 'trich')",
                [],
                |r| r.get(0),
            )
            .map_err(StoreError::from)
        })
        .unwrap();
    assert_eq!(orphans, 0);
    assert_eq!(store.read_blocking(count).unwrap(), 7);
}

#[test]
fn the_whole_record_comes_back_with_form_fees_and_attachments() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let mut original = sample("1.001193");
    original.fees = vec![wire_fee("Lệ phí", 8_000)];
    let stored = original.clone();
    store
        .write_blocking(move |tx| apply(tx, &[stored]))
        .unwrap();
    let back = store
        .read_blocking(|c| procedure_of(c, "1.001193"))
        .unwrap();
    assert_eq!(back, original);
    let hit = find(&store, "khai sinh", CatalogueFilter::default(), 0, 1);
    assert_eq!(hit.hits[0].total_fee, 8_000);
}

fn wire_fee(label: &str, amount: u64) -> crate::dossier::wire::Fee {
    crate::dossier::wire::Fee {
        label: label.into(),
        amount,
    }
}

fn procedure_of(conn: &Connection, code: &str) -> Result<Procedure, StoreError> {
    Ok(super::procedure(conn, code)?.expect("stored"))
}
