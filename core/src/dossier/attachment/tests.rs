//! Attachment tests against the real encrypted store, through `Dossiers` and the reader API.

use std::io::Write;

use super::*;
use crate::dossier::test_support::*;
use crate::dossier::{AttachmentError, DossierError, Dossiers};
use crate::store::Store;

async fn setup(dir: &std::path::Path) -> (std::sync::Arc<Store>, Dossiers, DraftId) {
    let store = open_store(dir).await;
    seed(&store, vec![form_procedure("1.000100")]).await;
    let dossiers = dossiers(dir, &store);
    let draft = dossiers.create_draft("1.000100").await.unwrap();
    (store, dossiers, draft.id)
}

fn refusal(result: Result<AttachmentInfo, DossierError>) -> AttachmentError {
    match result {
        Err(DossierError::Attachment(error)) => error,
        other => panic!("expected an attachment refusal, got {other:?}"),
    }
}

async fn content(store: &Store, info: &AttachmentInfo) -> Vec<u8> {
    let id = info.id;
    let chunks = info.chunk_count;
    store
        .read(move |conn| {
            let mut all = Vec::new();
            for seq in 0..chunks {
                let chunk = read_chunk(conn, id, seq)?;
                assert!(chunk.len() <= CHUNK_SIZE);
                all.extend(chunk);
            }
            assert!(matches!(
                read_chunk(conn, id, chunks),
                Err(DossierError::AttachmentNotFound)
            ));
            Ok::<_, DossierError>(all)
        })
        .await
        .unwrap()
}

#[test]
fn types_are_sniffed_from_magic_bytes() {
    assert_eq!(sniff(b"%PDF-1.4 ..."), Some(PDF));
    assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some(JPEG));
    assert_eq!(sniff(&png(20)), Some(PNG));
    assert_eq!(sniff(b"GIF89a"), None);
    assert_eq!(sniff(b"<html>%PDF-"), None);
    assert_eq!(sniff(b""), None);
}

#[tokio::test]
async fn a_file_is_streamed_in_chunks_with_its_digest() {
    let dir = tempfile::tempdir().unwrap();
    let (store, dossiers, draft) = setup(dir.path()).await;
    let bytes = pdf(CHUNK_SIZE * 5 + 1_234);
    let path = dir.path().join("scan.pdf");
    std::fs::write(&path, &bytes).unwrap();

    let info = dossiers
        .add_attachment_file(draft, "giay_chung_sinh", &path)
        .await
        .unwrap();
    assert_eq!(info.draft_id, draft);
    assert_eq!(info.kind, "giay_chung_sinh");
    assert_eq!(info.media_type, PDF);
    assert_eq!(info.size, bytes.len() as u64);
    assert_eq!(info.chunk_count, 6);
    let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
    assert_eq!(&info.sha256[..], digest.as_ref());
    assert_eq!(content(&store, &info).await, bytes);

    let id = info.id;
    let read_back = store.read(move |c| attachment_info(c, id)).await.unwrap();
    assert_eq!(read_back, Some(info.clone()));
    assert_eq!(dossiers.attachments(draft).await.unwrap(), vec![info]);
}

fn attachment_info(
    conn: &rusqlite::Connection,
    id: AttachmentId,
) -> Result<Option<AttachmentInfo>, StoreError> {
    info(conn, id)
}

#[tokio::test]
async fn bytes_are_stored_too_and_counts_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (store, dossiers, draft) = setup(dir.path()).await;
    let first = dossiers
        .add_attachment_bytes(draft, "anh", png(1_000))
        .await
        .unwrap();
    assert_eq!(first.media_type, PNG);
    assert_eq!(first.chunk_count, 1);
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
    jpeg.resize(300_000, 1);
    let second = dossiers
        .add_attachment_bytes(draft, "anh", jpeg.clone())
        .await
        .unwrap();
    assert_eq!(second.media_type, JPEG);
    assert_eq!(content(&store, &second).await, jpeg);

    // A third is one too many, and leaves nothing behind.
    assert_eq!(
        refusal(dossiers.add_attachment_bytes(draft, "anh", png(10)).await),
        AttachmentError::TooMany { max_count: 2 }
    );
    assert_eq!(
        count(&store, "SELECT count(*) FROM dossier_attachments").await,
        2
    );

    // Removing one makes room again.
    assert!(dossiers.remove_attachment(first.id).await.unwrap());
    assert!(!dossiers.remove_attachment(first.id).await.unwrap());
    dossiers
        .add_attachment_bytes(draft, "anh", png(10))
        .await
        .unwrap();
    assert_eq!(dossiers.attachments(draft).await.unwrap().len(), 2);
}

#[tokio::test]
async fn attacks_are_refused_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, dossiers, draft) = setup(dir.path()).await;

    // A file named .pdf that is a PNG: its bytes decide, and the rule takes PDF only.
    let liar = dir.path().join("certificate.pdf");
    std::fs::write(&liar, png(5_000)).unwrap();
    assert_eq!(
        refusal(
            dossiers
                .add_attachment_file(draft, "giay_chung_sinh", &liar)
                .await
        ),
        AttachmentError::TypeNotAllowed { detected: PNG }
    );
    // A file of no recognised type (HTML pretending to be a PDF later on).
    let html = dir.path().join("page.pdf");
    std::fs::write(&html, b"<html>%PDF-1.7</html>").unwrap();
    assert_eq!(
        refusal(
            dossiers
                .add_attachment_file(draft, "giay_chung_sinh", &html)
                .await
        ),
        AttachmentError::UnrecognisedType
    );
    // Oversize: the images take 1,000,000 bytes at most; known from the file's length...
    let big = dir.path().join("big.png");
    std::fs::write(&big, png(1_000_001)).unwrap();
    assert_eq!(
        refusal(dossiers.add_attachment_file(draft, "anh", &big).await),
        AttachmentError::TooLarge {
            max_bytes: 1_000_000
        }
    );
    // ... and from the content when the length lied (a file growing while it is read).
    let growing = Box::new(std::io::Cursor::new(png(4 * CHUNK_SIZE + 10)));
    assert_eq!(
        refusal(
            dossiers
                .add_attachment(draft, "anh", growing, Some(10))
                .await
        ),
        AttachmentError::TooLarge {
            max_bytes: 1_000_000
        }
    );
    // A path that does not exist, a directory, an empty file.
    assert_eq!(
        refusal(
            dossiers
                .add_attachment_file(draft, "anh", &dir.path().join("nope.png"))
                .await
        ),
        AttachmentError::FileNotFound
    );
    assert!(matches!(
        refusal(dossiers.add_attachment_file(draft, "anh", dir.path()).await),
        AttachmentError::Unreadable(_)
    ));
    let empty = dir.path().join("empty.png");
    std::fs::File::create(&empty).unwrap().flush().unwrap();
    assert_eq!(
        refusal(dossiers.add_attachment_file(draft, "anh", &empty).await),
        AttachmentError::Empty
    );
    // A kind the procedure does not ask for; the name is not echoed unless it is id-shaped.
    assert_eq!(
        refusal(
            dossiers
                .add_attachment_bytes(draft, "ho_chieu", pdf(100))
                .await
        ),
        AttachmentError::UnknownKind("ho_chieu".into())
    );
    assert_eq!(
        refusal(
            dossiers
                .add_attachment_bytes(draft, "Nguyễn Văn An.pdf", pdf(100))
                .await
        ),
        AttachmentError::UnknownKind("<not a field id>".into())
    );
    // A draft that does not exist.
    assert!(matches!(
        dossiers
            .add_attachment_bytes(DraftId(999), "anh", png(10))
            .await,
        Err(DossierError::DraftNotFound)
    ));

    assert_eq!(
        count(&store, "SELECT count(*) FROM dossier_attachments").await,
        0
    );
    assert_eq!(
        count(&store, "SELECT count(*) FROM dossier_attachment_chunks").await,
        0
    );
}

#[tokio::test]
async fn a_crash_mid_insert_leaves_nothing_visible_and_is_purged_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let (store, dossiers, draft) = setup(dir.path()).await;
    let kept = dossiers
        .add_attachment_bytes(draft, "giay_chung_sinh", pdf(600_000))
        .await
        .unwrap();
    // What a kill between `begin` and `finish` leaves: an incomplete row with some chunks.
    let head = png(CHUNK_SIZE);
    let half = store
        .write(move |tx| {
            let id = begin(tx, draft, "anh", &head, None, 1)?;
            append(tx, id, 1, &[&[1u8; 100][..]])?;
            Ok::<_, DossierError>(id)
        })
        .await
        .unwrap();
    assert_eq!(
        dossiers.attachments(draft).await.unwrap(),
        vec![kept.clone()]
    );
    assert!(store.read(move |c| info(c, half)).await.unwrap().is_none());
    assert!(matches!(
        store.read(move |c| read_chunk(c, half, 0)).await,
        Err(DossierError::AttachmentNotFound)
    ));
    assert!(!dossiers.remove_attachment(half).await.unwrap());
    let errors = dossiers.validate_draft(draft).await.unwrap();
    assert!(!errors.iter().any(|e| e.field == "anh"), "{errors:?}");

    // The next open deletes it with its chunks; the complete one stays whole.
    drop(dossiers);
    drop(store);
    let store = open_store(dir.path()).await;
    let dossiers = crate::dossier::test_support::dossiers(dir.path(), &store);
    assert_eq!(dossiers.purge_incomplete_attachments().await.unwrap(), 1);
    assert_eq!(
        count(&store, "SELECT count(*) FROM dossier_attachments").await,
        1
    );
    assert_eq!(
        count(&store, "SELECT count(*) FROM dossier_attachment_chunks").await,
        3
    );
    assert_eq!(dossiers.attachments(draft).await.unwrap(), vec![kept]);
}

#[tokio::test]
async fn deleting_a_draft_deletes_its_attachments_and_a_locked_draft_takes_none() {
    let dir = tempfile::tempdir().unwrap();
    let (store, dossiers, draft) = setup(dir.path()).await;
    let info = dossiers
        .add_attachment_bytes(draft, "giay_chung_sinh", pdf(CHUNK_SIZE + 1))
        .await
        .unwrap();
    let other = dossiers.create_draft("1.000100").await.unwrap().id;
    dossiers
        .add_attachment_bytes(other, "anh", png(10))
        .await
        .unwrap();
    execute(
        &store,
        format!(
            "UPDATE dossier_drafts SET state = 'submitted' WHERE id = {}",
            other.0
        ),
    )
    .await;
    assert!(matches!(
        dossiers.add_attachment_bytes(other, "anh", png(10)).await,
        Err(DossierError::DraftLocked)
    ));
    let locked = dossiers.attachments(other).await.unwrap()[0].id;
    assert!(matches!(
        dossiers.remove_attachment(locked).await,
        Err(DossierError::DraftLocked)
    ));

    assert!(dossiers.delete_draft(draft).await.unwrap());
    assert!(
        store
            .read(move |c| info_of(c, info.id))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        count(&store, "SELECT count(*) FROM dossier_attachments").await,
        1
    );
    assert_eq!(
        count(&store, "SELECT count(*) FROM dossier_attachment_chunks").await,
        1
    );
}

fn info_of(
    conn: &rusqlite::Connection,
    id: AttachmentId,
) -> Result<Option<AttachmentInfo>, StoreError> {
    info(conn, id)
}
