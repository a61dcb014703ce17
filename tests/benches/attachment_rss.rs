//! `attachment.rss_mb` (issue 9, target ≤ 16): how much this process's peak resident memory
//! grows while the SDK stores a 50 MB attachment from a file and uploads it.
//!
//! Set-up (not measured): the sandbox portal on loopback HTTPS in this process, an activated
//! citizen with the catalogue synced, a bench procedure whose declaration accepts 64 MiB, a
//! filled draft, and the 50,000,000-byte PDF written to a file. Then the peak is reset
//! (`echo 5 > /proc/self/clear_refs` sets `VmHWM` to the current `VmRSS`), and measured:
//! `add_attachment_file` (streamed into 256 KiB encrypted chunk rows), `submit`, and the drain
//! (tus upload in 1 MiB `PATCH`es, then the dossier) until the portal received it. The figure is
//! `VmHWM` afterwards minus `VmRSS` at the reset, in MB of 10^6 bytes.
//!
//! The sandbox's share is in the figure too (it runs here): it holds one `PATCH` body at a time
//! and hashes the finished upload in 1 MiB pieces, so the figure is an upper bound of the SDK's.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use citizen_core::dossier::{AttachmentRule, DeliveryState};
use citizen_e2e::dossier_kit::birth_registration;
use citizen_e2e::*;

use common::{bench_procedure, filled_draft, proc_status_bytes, reset_peak_rss, write_figure};

const ID_NUMBER: &str = "001090077711";
const FILE_BYTES: u64 = 50_000_000;

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

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
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
    let files = tempfile::tempdir().unwrap();
    let path = files.path().join("to_khai.pdf");
    write_pdf(&path, FILE_BYTES);

    assert!(
        reset_peak_rss(),
        "/proc/self/clear_refs is not writable here"
    );
    let baseline = proc_status_bytes("VmRSS");
    let hwm_after_reset = proc_status_bytes("VmHWM");
    let started = Instant::now();
    let info = dossiers
        .add_attachment_file(draft, "to_khai", &path)
        .await
        .unwrap();
    assert_eq!(info.size, FILE_BYTES);
    let after_store = proc_status_bytes("VmHWM");
    let stored_s = started.elapsed().as_secs_f64();
    let filed = dossiers.submit(draft, PIN).await.unwrap();
    dossiers
        .send_queued(Duration::from_secs(300), true)
        .await
        .unwrap();
    let elapsed_s = started.elapsed().as_secs_f64();
    let peak = proc_status_bytes("VmHWM");
    let submission = dossiers.submission(filed.id).await.unwrap().unwrap();
    assert_eq!(submission.state, DeliveryState::Received, "{submission:?}");
    let at_portal = portal.sandbox.dossiers().unwrap();
    assert_eq!(at_portal.len(), 1);
    assert_eq!(at_portal[0].manifest.attachments[0].size, FILE_BYTES);

    let mb = |bytes: u64| bytes as f64 / 1e6;
    let growth = peak.saturating_sub(baseline);
    println!(
        "peak RSS growth {:.1} MB (baseline RSS {:.1} MB, VmHWM right after the reset {:.1} MB, \
         after storing {:.1} MB, after the upload {:.1} MB); stored in {stored_s:.1} s, \
         stored and delivered in {elapsed_s:.1} s",
        mb(growth),
        mb(baseline),
        mb(hwm_after_reset),
        mb(after_store),
        mb(peak),
    );
    write_figure(
        "attachment.rss_mb",
        serde_json::json!({
            "value": mb(growth),
            "unit": "MB (10^6 bytes)",
            "growth_mib": growth as f64 / (1u64 << 20) as f64,
            "baseline_rss_mb": mb(baseline),
            "peak_after_store_mb": mb(after_store),
            "peak_mb": mb(peak),
            "file_bytes": FILE_BYTES,
            "stored_s": stored_s,
            "stored_and_delivered_s": elapsed_s,
        }),
    );
}
