//! Resumable attachment uploads end to end: the SDK's tus client against the sandbox's tus server
//! over real HTTPS, with the connection cut in the middle of a `PATCH`, a restart of the SDK in
//! between, and a hostile server's answers.
//!
//! Prints `attachment.resend_chunks: N` (chunks the client sent again after a cut; target ≤ 1),
//! and writes it to `$CITIZEN_BENCH_FIGURES/attachment.resend_chunks.json` for `cargo xtask
//! bench`.

use std::sync::Mutex;

use citizen_core::dossier::tus::{MemorySource, TusError, UploadSource};
use citizen_e2e::*;
use citizen_sandbox::tus::{TusFaults, TusMisbehaviour};

const CHUNK: usize = 256 * 1024;
const LENGTH: usize = 5 * 1024 * 1024;

/// `len` bytes that do not repeat with any short period.
fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Records what `progress` reported.
#[derive(Default)]
struct Progress(Mutex<Vec<(u64, u64)>>);

impl Progress {
    fn seen(&self) -> Vec<(u64, u64)> {
        self.0.lock().unwrap().clone()
    }
    fn callback(&self) -> impl Fn(u64, u64) + Send + Sync + '_ {
        |sent, total| self.0.lock().unwrap().push((sent, total))
    }
}

/// Writes `figure` to `$CITIZEN_BENCH_FIGURES/<name>.json` when `cargo xtask bench` asked for it.
fn write_figure(name: &str, figure: serde_json::Value) {
    if let Some(dir) = std::env::var_os("CITIZEN_BENCH_FIGURES") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        let text = serde_json::to_string_pretty(&figure).unwrap();
        std::fs::write(dir.join(format!("{name}.json")), text).unwrap();
    }
}

fn cut_once_after(chunks: u32, bytes: u64, keep_partial: bool) -> TusFaults {
    TusFaults {
        drop_after_bytes: Some(bytes),
        skip_patches: chunks,
        once: true,
        keep_partial,
        ..TusFaults::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_upload_resumes_after_a_restart_and_sends_at_most_one_chunk_again() {
    let portal = start_portal("Upload portal").await;
    let dir = tempfile::tempdir().unwrap();
    let source = MemorySource::new("attachment-1:", "application/pdf", bytes(LENGTH, 7));
    let key = source.source_key();

    // The server cuts the 6th PATCH after 100 kB of its body and forgets those bytes.
    portal
        .sandbox
        .set_tus_faults(cut_once_after(5, 100_000, false));
    let citizen = open(trusting_config(&portal, dir.path())).await.unwrap();
    let progress = Progress::default();
    let error = citizen
        .dossiers()
        .upload_in_chunks(&source, CHUNK, &progress.callback())
        .await
        .unwrap_err();
    assert!(
        matches!(error, TusError::Transient { status: None, .. }),
        "{error:?}"
    );
    let stored = citizen
        .dossiers()
        .stored_upload(&key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.acked_offset, 5 * CHUNK as u64);
    assert_eq!(stored.length, LENGTH as u64);
    assert!(!stored.completed);
    let first = progress.seen();
    assert_eq!(first.first(), Some(&(0, LENGTH as u64)));
    assert_eq!(first.last(), Some(&(5 * CHUNK as u64, LENGTH as u64)));

    // The process restarts: a new Citizen on the same store resumes from the stored upload.
    drop(citizen);
    let citizen = open(trusting_config(&portal, dir.path())).await.unwrap();
    let progress = Progress::default();
    let uploaded = citizen
        .dossiers()
        .upload_in_chunks(&source, CHUNK, &progress.callback())
        .await
        .unwrap();
    assert_eq!(uploaded.length, LENGTH as u64);
    assert_eq!(uploaded.resumed_from, 5 * CHUNK as u64);
    assert_eq!(uploaded.bytes_sent, (LENGTH - 5 * CHUNK) as u64);
    assert!(uploaded.location.starts_with(&portal.sandbox.base_url));
    let seen = progress.seen();
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "{seen:?}");
    assert_eq!(seen.last(), Some(&(LENGTH as u64, LENGTH as u64)));

    // The server holds exactly the source's bytes, and only the cut chunk came twice.
    let info = portal.sandbox.tus_upload(&uploaded.location).unwrap();
    assert_eq!(info.offset, LENGTH as u64);
    assert_eq!(info.sha256.as_deref(), Some(source.sha256_hex().as_str()));
    assert!(
        info.metadata
            .contains(&("sha256".into(), source.sha256_hex())),
        "{:?}",
        info.metadata
    );
    assert_eq!(portal.sandbox.tus_uploads().len(), 1);
    let resent = info.patch_bytes - LENGTH as u64;
    let resend_chunks = resent.div_ceil(CHUNK as u64);
    println!("attachment.resend_chunks: {resend_chunks}");
    println!("attachment.resend_bytes: {resent}");
    write_figure(
        "attachment.resend_chunks",
        serde_json::json!({
            "name": "attachment.resend_chunks",
            "value": resend_chunks,
            "unit": "chunks",
            "resent_bytes": resent,
            "chunk_bytes": CHUNK,
            "length": LENGTH,
        }),
    );
    assert!(resend_chunks <= 1, "{resent} bytes sent again");

    // Asked again, the completed upload is found (checked with HEAD), not sent again.
    let again = citizen
        .dossiers()
        .upload_in_chunks(&source, CHUNK, &|_, _| {})
        .await
        .unwrap();
    assert_eq!(again.location, uploaded.location);
    assert_eq!((again.bytes_sent, again.resumed_from), (0, LENGTH as u64));
    assert_eq!(portal.sandbox.tus_uploads().len(), 1);
    assert!(citizen.dossiers().forget_upload(&key).await.unwrap());
    assert!(
        citizen
            .dossiers()
            .stored_upload(&key)
            .await
            .unwrap()
            .is_none()
    );
    assert!(!citizen.dossiers().forget_upload(&key).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_the_server_kept_from_a_cut_patch_are_not_sent_again() {
    let portal = start_portal("Upload portal").await;
    let dir = tempfile::tempdir().unwrap();
    let source = MemorySource::new("attachment-2:", "image/jpeg", bytes(LENGTH, 11));
    portal
        .sandbox
        .set_tus_faults(cut_once_after(3, 100_000, true));
    let citizen = open(trusting_config(&portal, dir.path())).await.unwrap();
    let dossiers = citizen.dossiers();
    let error = dossiers
        .upload_in_chunks(&source, CHUNK, &|_, _| {})
        .await
        .unwrap_err();
    assert!(error.is_transient(), "{error:?}");

    let uploaded = dossiers
        .upload_in_chunks(&source, CHUNK, &|_, _| {})
        .await
        .unwrap();
    // Resumed from the server's offset inside the cut chunk, not from the chunk's start.
    assert_eq!(uploaded.resumed_from, 3 * CHUNK as u64 + 100_000);
    assert_eq!(uploaded.bytes_sent, LENGTH as u64 - uploaded.resumed_from);
    let info = portal.sandbox.tus_upload(&uploaded.location).unwrap();
    assert_eq!(info.sha256.as_deref(), Some(source.sha256_hex().as_str()));
    assert_eq!(info.patch_bytes, LENGTH as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cuts_at_random_still_deliver_the_exact_bytes() {
    let portal = start_portal("Upload portal").await;
    let dir = tempfile::tempdir().unwrap();
    let source = MemorySource::new("attachment-3:", "image/png", bytes(LENGTH / 2, 13));
    portal.sandbox.set_tus_faults(TusFaults {
        drop_after_bytes: Some(50_000),
        drop_probability: 0.3,
        keep_partial: true,
        ..TusFaults::default()
    });
    let citizen = open(trusting_config(&portal, dir.path())).await.unwrap();
    let dossiers = citizen.dossiers();
    let mut cuts = 0;
    let uploaded = loop {
        match dossiers.upload_in_chunks(&source, CHUNK, &|_, _| {}).await {
            Ok(uploaded) => break uploaded,
            Err(error) if error.is_transient() => cuts += 1,
            Err(error) => panic!("{error:?}"),
        }
        assert!(cuts < 100, "no progress");
    };
    let info = portal.sandbox.tus_upload(&uploaded.location).unwrap();
    assert_eq!(info.sha256.as_deref(), Some(source.sha256_hex().as_str()));
    // Every cut kept what it read: nothing was sent twice.
    assert_eq!(info.patch_bytes, (LENGTH / 2) as u64, "{cuts} cuts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_server_is_refused() {
    let portal = start_portal("Hostile upload portal").await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = open(trusting_config(&portal, dir.path())).await.unwrap();
    let dossiers = citizen.dossiers();
    let hostile = |misbehaviour| TusFaults {
        misbehaviour: Some(misbehaviour),
        ..TusFaults::default()
    };

    // A Location on another origin: no byte goes anywhere, nothing is stored.
    let source = MemorySource::new("attachment-4:", "image/png", bytes(3 * CHUNK, 17));
    portal
        .sandbox
        .set_tus_faults(hostile(TusMisbehaviour::ForeignLocation));
    let error = dossiers
        .upload_in_chunks(&source, CHUNK, &|_, _| {})
        .await
        .unwrap_err();
    assert!(matches!(error, TusError::ForeignLocation), "{error:?}");
    assert!(
        portal
            .sandbox
            .tus_uploads()
            .iter()
            .all(|u| u.patch_bytes == 0)
    );
    let key = source.source_key();
    assert!(dossiers.stored_upload(&key).await.unwrap().is_none());

    // An offset beyond the length.
    portal
        .sandbox
        .set_tus_faults(hostile(TusMisbehaviour::OffsetBeyondLength));
    let error = dossiers
        .upload_in_chunks(&source, CHUNK, &|_, _| {})
        .await
        .unwrap_err();
    assert!(matches!(error, TusError::OffsetBeyondLength), "{error:?}");
    assert_eq!(
        dossiers
            .stored_upload(&key)
            .await
            .unwrap()
            .unwrap()
            .acked_offset,
        0
    );
    assert!(dossiers.forget_upload(&key).await.unwrap());

    // An offset going back below what the server acknowledged: refused, the row kept.
    portal
        .sandbox
        .set_tus_faults(cut_once_after(2, 1_000, false));
    let error = dossiers
        .upload_in_chunks(&source, CHUNK, &|_, _| {})
        .await
        .unwrap_err();
    assert!(error.is_transient(), "{error:?}");
    portal
        .sandbox
        .set_tus_faults(hostile(TusMisbehaviour::OffsetBackwards));
    let error = dossiers
        .upload_in_chunks(&source, CHUNK, &|_, _| {})
        .await
        .unwrap_err();
    assert!(matches!(error, TusError::OffsetWentBackwards), "{error:?}");
    assert_eq!(
        dossiers
            .stored_upload(&key)
            .await
            .unwrap()
            .unwrap()
            .acked_offset,
        2 * CHUNK as u64
    );

    // Once the server behaves, forgetting the upload starts a new one that completes.
    portal.sandbox.set_tus_faults(TusFaults::default());
    assert!(dossiers.forget_upload(&key).await.unwrap());
    let uploaded = dossiers
        .upload_in_chunks(&source, CHUNK, &|_, _| {})
        .await
        .unwrap();
    let info = portal.sandbox.tus_upload(&uploaded.location).unwrap();
    assert_eq!(info.sha256.as_deref(), Some(source.sha256_hex().as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_trouble_is_transient_and_an_expired_upload_starts_again() {
    let portal = start_portal("Busy upload portal").await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = trusting_config(&portal, dir.path());
    config.request_timeout = std::time::Duration::from_millis(500);
    let citizen = open(config).await.unwrap();
    let dossiers = citizen.dossiers();
    let source = MemorySource::new("attachment-5:", "image/png", bytes(4 * CHUNK, 19));
    let key = source.source_key();

    // 429 with Retry-After on the second PATCH: transient, with the server's delay.
    portal.sandbox.set_tus_faults(TusFaults {
        skip_patches: 1,
        fail_patches: 1,
        fail_status: 429,
        retry_after_secs: Some(7),
        ..TusFaults::default()
    });
    let error = dossiers
        .upload_in_chunks(&source, CHUNK, &|_, _| {})
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            TusError::Transient {
                status: Some(429),
                retry_after_secs: Some(7)
            }
        ),
        "{error:?}"
    );
    // 503: transient too.
    portal.sandbox.set_tus_faults(TusFaults {
        fail_patches: 1,
        fail_status: 503,
        ..TusFaults::default()
    });
    let error = dossiers
        .upload_in_chunks(&source, CHUNK, &|_, _| {})
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            TusError::Transient {
                status: Some(503),
                ..
            }
        ),
        "{error:?}"
    );
    // A server slower than the request timeout: transient (a network failure).
    portal.sandbox.set_tus_faults(TusFaults {
        latency: std::time::Duration::from_millis(1_500),
        ..TusFaults::default()
    });
    let error = dossiers
        .upload_in_chunks(&source, CHUNK, &|_, _| {})
        .await
        .unwrap_err();
    assert!(
        matches!(error, TusError::Transient { status: None, .. }),
        "{error:?}"
    );
    let stored = dossiers.stored_upload(&key).await.unwrap().unwrap();
    assert_eq!(stored.acked_offset, CHUNK as u64);

    // The server expired the upload meanwhile: a new one starts from 0 and completes.
    portal.sandbox.set_tus_faults(TusFaults::default());
    assert!(portal.sandbox.expire_tus_upload(&stored.upload_url));
    let uploaded = dossiers
        .upload_in_chunks(&source, CHUNK, &|_, _| {})
        .await
        .unwrap();
    assert_eq!(uploaded.resumed_from, 0);
    assert_ne!(uploaded.location, stored.upload_url);
    let info = portal.sandbox.tus_upload(&uploaded.location).unwrap();
    assert_eq!(info.sha256.as_deref(), Some(source.sha256_hex().as_str()));
}

/// 50 MB through the SDK in 1 MiB chunks (the attachment size); prints the time taken.
/// Ignored by default: `cargo test -p citizen-e2e --test uploads -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn fifty_megabytes() {
    let portal = start_portal("Upload portal").await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = open(trusting_config(&portal, dir.path())).await.unwrap();
    let source = MemorySource::new("attachment-50:", "application/pdf", bytes(50 << 20, 23));
    let started = std::time::Instant::now();
    let uploaded = citizen
        .dossiers()
        .upload(&source, &|_, _| {})
        .await
        .unwrap();
    println!("50 MB uploaded in {:?}", started.elapsed());
    let info = portal.sandbox.tus_upload(&uploaded.location).unwrap();
    assert_eq!(info.sha256.as_deref(), Some(source.sha256_hex().as_str()));
}
