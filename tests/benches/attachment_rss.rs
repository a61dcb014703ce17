//! `attachment.rss_mb` (issue 9, target ≤ 16): how much this process's peak resident memory
//! grows while the SDK stores a 50 MB attachment from a file and uploads it.
//!
//! Set-up (not measured), in this process: the sandbox portal on loopback HTTPS, an activated
//! citizen with the catalogue synced, a bench procedure whose declaration accepts 64 MiB, a
//! filled draft, and the 50,000,000-byte PDF written to a file. The citizen is closed and the
//! bench runs itself again as a child process (`CITIZEN_RSS_CHILD`) that opens the same data
//! directory: only the SDK runs there, so the sandbox's memory is not in the figure. The child
//! resets its peak (`echo 5 > /proc/self/clear_refs` sets `VmHWM` to the current `VmRSS`), then
//! measures `add_attachment_file` (streamed into 256 KiB encrypted chunk rows); after `submit` it
//! resets the peak again and measures the drain (tus upload in 1 MiB `PATCH`es, then the
//! dossier) until the portal received it. Each phase's growth is its `VmHWM` minus `VmRSS` at its
//! reset; the figure is their sum, in MB of 10^6 bytes. Before measuring, the child files one
//! dossier with a 2 MB document (the SDK in use: store cache, connection, one upload done).
//!
//! `submit` itself is not in the figure: its PIN check is Argon2id with 19 MiB of memory
//! (`wallet::pin::HASH_PARAMS`), the same for every dossier whatever it attaches;
//! `storing_and_filing_mb` in the figure file shows the peak with it.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use citizen_core::dossier::{AttachmentRule, DeliveryState};
use citizen_e2e::dossier_kit::birth_registration;
use citizen_e2e::*;

use common::{bench_procedure, filled_draft, proc_status_bytes, reset_peak_rss, write_figure};

const ID_NUMBER: &str = "001090077711";
const FILE_BYTES: u64 = 50_000_000;
const WARM_BYTES: u64 = 2_000_000;

/// Writes a `len`-byte PDF (pseudo-random after its header, so nothing compresses) 1 MiB at a time.
fn write_pdf(path: &std::path::Path, len: u64) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let header = b"%PDF-1.7\n% attachment.rss_mb bench\n";
    file.write_all(header).unwrap();
    let mut written = header.len() as u64;
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut piece = vec![0u8; 1 << 20];
    while written < len {
        for byte in piece.iter_mut() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *byte = (state >> 24) as u8;
        }
        let take = (len - written).min(piece.len() as u64) as usize;
        file.write_all(&piece[..take]).unwrap();
        written += take as u64;
    }
    file.flush().unwrap();
}

/// What the parent hands the measured child (as JSON in a file).
#[derive(serde::Serialize, serde::Deserialize)]
struct Job {
    data_dir: std::path::PathBuf,
    base_url: String,
    ca_pem: String,
    spki_pin: String,
    anchor_kid: String,
    anchor_jwk: serde_json::Value,
    draft_id: i64,
    file: std::path::PathBuf,
    /// Filed first, unmeasured, when `CITIZEN_RSS_WARM` is set: a 2 MB document.
    warm_draft_id: i64,
    warm_file: std::path::PathBuf,
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    match std::env::var_os("CITIZEN_RSS_CHILD") {
        Some(job) => runtime.block_on(child(std::path::PathBuf::from(job))),
        None => runtime.block_on(parent()),
    }
}

async fn parent() {
    let portal = start_portal("Bench portal").await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = activated(&portal, dir.path(), ID_NUMBER).await;
    let dossiers = citizen.dossiers();
    dossiers.sync_catalogue().await.unwrap();
    let base = birth_registration(&dossiers).await;
    let declaration = AttachmentRule {
        kind: "to_khai".into(),
        label: "Tờ khai".into(),
        media_types: vec!["application/pdf".into()],
        max_bytes: 64 * 1024 * 1024,
        min_count: 1,
        max_count: 1,
    };
    let procedure = bench_procedure(&base, "BENCH-RSS-1", vec![declaration]);
    portal.sandbox.publish_procedure(&procedure).unwrap();
    dossiers.sync_catalogue().await.unwrap();
    let procedure = dossiers.procedure(&procedure.code).await.unwrap().unwrap();
    let draft = filled_draft(&dossiers, &procedure, ID_NUMBER).await;
    let warm_draft = filled_draft(&dossiers, &procedure, ID_NUMBER).await;
    drop(dossiers);
    drop(citizen);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let files = tempfile::tempdir().unwrap();
    let path = files.path().join("to_khai.pdf");
    write_pdf(&path, FILE_BYTES);
    let warm_path = files.path().join("warm.pdf");
    write_pdf(&warm_path, WARM_BYTES);

    let job = Job {
        data_dir: dir.path().to_path_buf(),
        base_url: portal.sandbox.base_url.clone(),
        ca_pem: portal.sandbox.ca_pem.clone(),
        spki_pin: portal.sandbox.spki_pin.clone(),
        anchor_kid: portal.sandbox.trust_anchor_kid.clone(),
        anchor_jwk: portal.sandbox.trust_anchor.to_value(),
        draft_id: draft.0,
        file: path,
        warm_draft_id: warm_draft.0,
        warm_file: warm_path,
    };
    let job_path = files.path().join("job.json");
    std::fs::write(&job_path, serde_json::to_vec(&job).unwrap()).unwrap();
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new(std::env::current_exe().unwrap())
            .env("CITIZEN_RSS_CHILD", &job_path)
            .env("CITIZEN_RSS_WARM", "1")
            .status()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(status.success(), "the measured child failed: {status}");
    let at_portal = portal.sandbox.dossiers().unwrap();
    assert!(
        at_portal
            .iter()
            .any(|d| d.manifest.attachments[0].size == FILE_BYTES)
    );
}

async fn child(job: std::path::PathBuf) {
    let job: Job = serde_json::from_slice(&std::fs::read(job).unwrap()).unwrap();
    let mut config = citizen_core::CitizenConfig::new(&job.data_dir, &job.base_url);
    config.trusted_roots_pem = vec![job.ca_pem];
    config.portal_spki_pins = vec![job.spki_pin];
    config.trust_anchors = vec![citizen_core::trust_list::TrustAnchor {
        kid: job.anchor_kid,
        jwk: citizen_core::jose::EcPublicJwk::from_value(&job.anchor_jwk).unwrap(),
    }];
    let platform = software_platform(&job.data_dir).with_software_key_store();
    let citizen = citizen_core::Citizen::open(config, platform).await.unwrap();
    let dossiers = citizen.dossiers();
    let draft = citizen_core::dossier::DraftId(job.draft_id);
    let path = job.file;
    let warm = std::env::var_os("CITIZEN_RSS_WARM").is_some();
    if warm {
        // The SDK in use before: the store's page cache filled, the connection open, one
        // upload done.
        let draft = citizen_core::dossier::DraftId(job.warm_draft_id);
        dossiers
            .add_attachment_file(draft, "to_khai", &job.warm_file)
            .await
            .unwrap();
        dossiers.submit(draft, PIN).await.unwrap();
        dossiers
            .send_queued(Duration::from_secs(60), true)
            .await
            .unwrap();
        dossiers
            .search("dang ky", Default::default(), 0, 50)
            .await
            .unwrap();
    }

    assert!(
        reset_peak_rss(),
        "/proc/self/clear_refs is not writable here"
    );
    let baseline = proc_status_bytes("VmRSS");
    if std::env::var_os("CITIZEN_RSS_TRACE").is_some() {
        std::thread::spawn(|| {
            loop {
                eprintln!("rss {:.1} MB", proc_status_bytes("VmRSS") as f64 / 1e6);
                std::thread::sleep(Duration::from_millis(25));
            }
        });
    }
    let started = Instant::now();
    let info = dossiers
        .add_attachment_file(draft, "to_khai", &path)
        .await
        .unwrap();
    assert_eq!(info.size, FILE_BYTES);
    let after_store = proc_status_bytes("VmHWM");
    let stored_s = started.elapsed().as_secs_f64();
    // Filing checks the PIN (Argon2id, 19 MiB) and signs: not storing nor uploading, and the
    // same for any dossier; its peak is reported beside the figure.
    let filed = dossiers.submit(draft, PIN).await.unwrap();
    let after_submit = proc_status_bytes("VmHWM");
    assert!(reset_peak_rss());
    let before_upload = proc_status_bytes("VmRSS");
    let upload_started = Instant::now();
    dossiers
        .send_queued(Duration::from_secs(300), true)
        .await
        .unwrap();
    let uploaded_s = upload_started.elapsed().as_secs_f64();
    let after_upload = proc_status_bytes("VmHWM");
    let submission = dossiers.submission(filed.id).await.unwrap().unwrap();
    assert_eq!(submission.state, DeliveryState::Received, "{submission:?}");

    let mb = |bytes: u64| bytes as f64 / 1e6;
    let storing = after_store.saturating_sub(baseline);
    let uploading = after_upload.saturating_sub(before_upload);
    let with_pin_check = after_submit.saturating_sub(baseline);
    // The two phases' growths added: memory the store phase left behind and the upload reused
    // would otherwise be counted once.
    let growth = storing + uploading;
    println!(
        "peak RSS growth {:.1} MB: storing {:.1} MB (RSS {:.1} -> peak {:.1} MB, {stored_s:.1} s), \
         uploading {:.1} MB (RSS {:.1} -> peak {:.1} MB, {uploaded_s:.1} s); storing then filing \
         (PIN check) {:.1} MB",
        mb(growth),
        mb(storing),
        mb(baseline),
        mb(after_store),
        mb(uploading),
        mb(before_upload),
        mb(after_upload),
        mb(with_pin_check),
    );
    write_figure(
        "attachment.rss_mb",
        serde_json::json!({
            "value": mb(growth),
            "unit": "MB (10^6 bytes)",
            "growth_mib": growth as f64 / (1u64 << 20) as f64,
            "storing_mb": mb(storing),
            "uploading_mb": mb(uploading),
            "storing_and_filing_mb": mb(with_pin_check),
            "baseline_rss_mb": mb(baseline),
            "file_bytes": FILE_BYTES,
            "warmed": warm,
            "stored_s": stored_s,
            "uploaded_s": uploaded_s,
        }),
    );
}
