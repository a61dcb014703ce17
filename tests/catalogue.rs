//! The procedure catalogue end to end: the sandbox publishes its 7,000+ generated procedures over
//! real HTTPS, the SDK syncs them by delta (cursor + ETag) into the encrypted store, and searches
//! them offline in any Vietnamese spelling.

use citizen_core::dossier::wire::ReviseRequest;
use citizen_core::dossier::{CatalogueFilter, DossierError, Level, fold};
use citizen_e2e::*;

const PATH: &str = "/v1/catalogue/procedures";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_sync_then_search_then_deltas_and_withdrawals() {
    let portal = start_portal("Catalogue portal").await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = open(trusting_config(&portal, dir.path())).await.unwrap();
    let dossiers = citizen.dossiers();

    // Full sync.
    let started = std::time::Instant::now();
    let first = dossiers.sync_catalogue().await.unwrap();
    let published = portal.sandbox.catalogue_size().unwrap();
    println!(
        "catalogue: {} procedures in {} pages, {:?}",
        first.procedures,
        first.pages,
        started.elapsed()
    );
    assert!(published >= 7_000, "{published}");
    assert_eq!(first.procedures, published);
    assert_eq!(u64::from(first.updated), published);
    assert!(first.complete && !first.not_modified);
    assert_eq!(
        portal.sandbox.requests_for(PATH).unwrap(),
        u64::from(first.pages)
    );

    // The three spellings of the issue find the same procedure first, and it is the one named so.
    let mut firsts = Vec::new();
    for query in [
        "dang ky khai sinh",
        "Đăng ký khai sinh",
        "đăng ky khai sinh",
    ] {
        let page = dossiers
            .search(query, CatalogueFilter::default(), 0, 20)
            .await
            .unwrap();
        assert!(page.total > 100, "{query}: {}", page.total);
        firsts.push(page.hits[0].clone());
    }
    assert!(firsts.windows(2).all(|w| w[0] == w[1]), "{firsts:?}");
    assert_eq!(fold::fold(&firsts[0].name), "dang ky khai sinh");
    let record = dossiers.procedure(&firsts[0].code).await.unwrap().unwrap();
    assert!(!record.form.is_empty() && !record.attachments.is_empty());

    // Filters: an agency (the agency list offers it), a level.
    let agencies = dossiers.agencies(Some(Level::Commune)).await.unwrap();
    assert!(agencies.len() > 100);
    let agency = firsts[0].agency.code.clone();
    assert!(agencies.iter().any(|a| a.agency.code == agency));
    let at_agency = dossiers
        .search(
            "khai sinh",
            CatalogueFilter {
                agency: Some(agency.clone()),
                level: None,
            },
            0,
            50,
        )
        .await
        .unwrap();
    assert!(at_agency.total >= 3);
    assert!(at_agency.hits.iter().all(|h| h.agency.code == agency));
    let central = dossiers
        .search(
            "ho chieu",
            CatalogueFilter {
                agency: None,
                level: Some(Level::Central),
            },
            0,
            50,
        )
        .await
        .unwrap();
    assert!(central.total >= 1);
    assert!(central.hits.iter().all(|h| h.level == Level::Central));

    // Paging: pages follow each other without overlap, up to the total.
    let whole = dossiers
        .search("giay phep xay dung", CatalogueFilter::default(), 0, 100)
        .await
        .unwrap();
    let mut paged = Vec::new();
    for page in 0..5 {
        let part = dossiers
            .search("giay phep xay dung", CatalogueFilter::default(), page, 20)
            .await
            .unwrap();
        assert_eq!(part.total, whole.total);
        paged.extend(part.hits);
    }
    assert_eq!(paged, whole.hits);

    // Nothing new: one request, answered 304.
    let again = dossiers.sync_catalogue().await.unwrap();
    assert!(again.not_modified && again.complete);
    assert_eq!(again.pages, 0);
    assert_eq!(portal.sandbox.responses_for(PATH, 304).unwrap(), 1);

    // Changes, withdrawals and additions arrive as one small delta page.
    let revised = portal
        .sandbox
        .revise_catalogue(&ReviseRequest {
            changed: 5,
            withdrawn: 3,
            added: 2,
            broken_pages: 0,
        })
        .unwrap();
    let requests_before = portal.sandbox.requests_for(PATH).unwrap();
    let delta = dossiers.sync_catalogue().await.unwrap();
    assert_eq!(
        portal.sandbox.requests_for(PATH).unwrap(),
        requests_before + 1
    );
    assert_eq!((delta.pages, delta.updated, delta.withdrawn), (1, 7, 3));
    assert_eq!(delta.procedures, published - 3 + 2);
    for code in &revised.withdrawn {
        assert!(dossiers.procedure(code).await.unwrap().is_none(), "{code}");
        let found = dossiers
            .search(code, CatalogueFilter::default(), 0, 100)
            .await
            .unwrap();
        assert!(found.hits.iter().all(|h| &h.code != code));
    }
    for code in &revised.changed {
        let changed = dossiers.procedure(code).await.unwrap().unwrap();
        assert_eq!(changed.version, 2, "{code}");
    }
    let added = dossiers
        .search("tre em bi bo roi", CatalogueFilter::default(), 0, 5)
        .await
        .unwrap();
    assert_eq!(added.hits[0].code, revised.added[0]);

    // sync_now syncs it too (best effort): nothing new now.
    citizen
        .sync_now(std::time::Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(portal.sandbox.responses_for(PATH, 304).unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_answer_is_refused_and_nothing_stored_is_lost() {
    let portal = start_portal("Broken catalogue portal").await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = open(trusting_config(&portal, dir.path())).await.unwrap();
    let dossiers = citizen.dossiers();
    // Background work does not start the first, full download: the app does.
    citizen
        .sync_now(std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(portal.sandbox.requests_for(PATH).unwrap(), 0);
    let first = dossiers.sync_catalogue().await.unwrap();

    let revised = portal
        .sandbox
        .revise_catalogue(&ReviseRequest {
            changed: 2,
            broken_pages: 1,
            ..ReviseRequest::default()
        })
        .unwrap();
    let error = dossiers.sync_catalogue().await.unwrap_err();
    assert!(
        matches!(error, DossierError::InvalidCatalogue(_)),
        "{error:?}"
    );
    let (count, _) = dossiers.catalogue_status().await.unwrap();
    assert_eq!(count, first.procedures);
    for code in &revised.changed {
        assert_eq!(dossiers.procedure(code).await.unwrap().unwrap().version, 1);
    }
    let hit = dossiers
        .search("dang ky khai sinh", CatalogueFilter::default(), 0, 1)
        .await
        .unwrap();
    assert_eq!(hit.total, {
        let again = dossiers
            .search("Đăng ký khai sinh", CatalogueFilter::default(), 0, 1)
            .await
            .unwrap();
        again.total
    });

    // The next sync resumes from the stored cursor and gets the changes.
    let resumed = dossiers.sync_catalogue().await.unwrap();
    assert_eq!((resumed.pages, resumed.updated), (1, 2));
    for code in &revised.changed {
        assert_eq!(dossiers.procedure(code).await.unwrap().unwrap().version, 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_first_sync_resumes_where_it_stopped() {
    let portal = start_portal("Interrupted catalogue portal").await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = open(trusting_config(&portal, dir.path())).await.unwrap();
    let dossiers = citizen.dossiers();
    let published = portal.sandbox.catalogue_size().unwrap();

    // The app is killed (here: the task is aborted) once some pages are in.
    let syncing = {
        let dossiers = dossiers.clone();
        tokio::spawn(async move { dossiers.sync_catalogue().await })
    };
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let (count, _) = dossiers.catalogue_status().await.unwrap();
        if count > 0 || syncing.is_finished() {
            break;
        }
    }
    syncing.abort();
    let _ = syncing.await;
    // Store jobs run in order: this read sees every page that was applied, each whole.
    let (stored, synced_at) = dossiers.catalogue_status().await.unwrap();
    assert!(
        stored > 0 && stored % 500 == 0 || stored == published,
        "{stored}"
    );

    let requests_before = portal.sandbox.requests_for(PATH).unwrap();
    let resumed = dossiers.sync_catalogue().await.unwrap();
    assert!(resumed.complete);
    assert_eq!(resumed.procedures, published);
    if stored < published {
        assert!(synced_at.is_none(), "not complete before");
        // Only what was missing came again: no page twice.
        assert_eq!(u64::from(resumed.updated), published - stored);
        assert_eq!(u64::from(resumed.pages), (published - stored).div_ceil(500));
        // (The aborted task's last request may still reach the portal after the abort.)
        let requests = portal.sandbox.requests_for(PATH).unwrap() - requests_before;
        assert!(requests <= u64::from(resumed.pages) + 1);
    }
    let page = dossiers
        .search("dang ky khai sinh", CatalogueFilter::default(), 0, 1)
        .await
        .unwrap();
    assert_eq!(fold::fold(&page.hits[0].name), "dang ky khai sinh");
}
