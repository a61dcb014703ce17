//! `outbox.drain_ratio` (issue 9, target ≥ 0.8) and `catalogue.sync_ms` (context).
//!
//! The sandbox portal runs in this process on loopback HTTPS. Three citizens are activated and
//! sync the catalogue (the first citizen's first full sync is `catalogue.sync_ms`); the sandbox
//! publishes a bench procedure with the birth registration's form and no documents, so a dossier
//! is one signed manifest and one `POST /v1/dossiers`. With every citizen's sender held
//! (`Dossiers::hold_sender`), citizens A1 and A2 file N/2 dossiers each (queued, not sent) and
//! citizen B files N whose signed manifests are read back (`Dossiers::signed_manifest`); B's
//! citizen never sends them.
//!
//! Then, interleaved to cancel drift (B, A, B, A):
//! - side B: a plain `reqwest` client trusting the sandbox CA posts N/2 of B's dossiers one after
//!   another, each the same JSON (`SubmitRequest { manifest, uploads: [] }`) with its own
//!   `Idempotency-Key`, and checks every answer is `201`;
//! - side A: the held sender of A1 (then A2) is released and timed from that moment until
//!   `send_queued` returns with every one of its N/2 dossiers `Received`, whoever drained them
//!   (the background sender, woken by the submissions, usually takes the gate first).
//!
//! `drain_ratio` = throughput A / throughput B = (B's time) / (A's time). Filing is not timed.
//! N = `$CITIZEN_BENCH_DOSSIERS` (default 1,000).

mod common;

use std::time::{Duration, Instant};

use citizen_core::dossier::manifest::SubmitRequest;
use citizen_core::dossier::{DeliveryState, Dossiers};
use citizen_e2e::dossier_kit::birth_registration;
use citizen_e2e::*;

use common::{bench_procedure, filled_draft, write_figure};

const ID_NUMBERS: [&str; 3] = ["001090077701", "001090077702", "001090077703"];

async fn file(
    dossiers: &Dossiers,
    procedure_code: &str,
    id_number: &str,
    count: usize,
) -> Vec<i64> {
    let procedure = dossiers.procedure(procedure_code).await.unwrap().unwrap();
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        let draft = filled_draft(dossiers, &procedure, id_number).await;
        ids.push(dossiers.submit(draft, PIN).await.unwrap().id);
    }
    ids
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::var("CITIZEN_BENCH_DOSSIERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let half = n / 2;
    let portal = start_portal("Bench portal").await;
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();

    // The agency's clerk would step thousands of received dossiers through their statuses
    // while both sides are timed, on the same two cores: it waits ten minutes between steps.
    portal
        .sandbox
        .set_clerk(citizen_sandbox::tracking::ClerkPolicy {
            pace_ms: 600_000,
            ..Default::default()
        })
        .unwrap();

    // The first full catalogue sync (context figure), then the bench procedure.
    let a1 = activated(&portal, dirs[0].path(), ID_NUMBERS[0]).await;
    let started = Instant::now();
    let sync = a1.dossiers().sync_catalogue().await.unwrap();
    let sync_ms = started.elapsed().as_secs_f64() * 1e3;
    write_figure(
        "catalogue.sync_ms",
        serde_json::json!({
            "value": sync_ms,
            "unit": "ms",
            "procedures": portal.sandbox.catalogue_size().unwrap(),
            "sync": format!("{sync:?}"),
        }),
    );
    let base = birth_registration(&a1.dossiers()).await;
    let procedure = bench_procedure(&base, "BENCH-DRAIN-1", Vec::new());
    portal.sandbox.publish_procedure(&procedure).unwrap();
    a1.dossiers().sync_catalogue().await.unwrap();
    let a2 = activated(&portal, dirs[1].path(), ID_NUMBERS[1]).await;
    let b = activated(&portal, dirs[2].path(), ID_NUMBERS[2]).await;
    for citizen in [&a2, &b] {
        citizen.dossiers().sync_catalogue().await.unwrap();
    }

    // Filing (not timed in the figure).
    let holds = [
        a1.dossiers().hold_sender().await,
        a2.dossiers().hold_sender().await,
        b.dossiers().hold_sender().await,
    ];
    let started = Instant::now();
    let a1_ids = file(&a1.dossiers(), &procedure.code, ID_NUMBERS[0], half).await;
    let a2_ids = file(&a2.dossiers(), &procedure.code, ID_NUMBERS[1], half).await;
    let b_ids = file(&b.dossiers(), &procedure.code, ID_NUMBERS[2], 2 * half).await;
    let filing_s = started.elapsed().as_secs_f64();
    println!(
        "filed {} dossiers in {filing_s:.1} s ({:.1} ms each: draft, PIN check, signature, queue)",
        4 * half,
        filing_s * 1e3 / (4 * half) as f64
    );
    let mut b_bodies = Vec::with_capacity(b_ids.len());
    for id in &b_ids {
        let submission = b.dossiers().submission(*id).await.unwrap().unwrap();
        let manifest = b.dossiers().signed_manifest(*id).await.unwrap().unwrap();
        b_bodies.push((submission.dossier_id, manifest));
    }
    let [hold_a1, hold_a2, _hold_b] = holds;

    // The same crypto (ring) as the SDK's client.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(portal.sandbox.ca_pem.as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    let url = format!("{}v1/dossiers", portal.sandbox.base_url);
    // One request to open the plain client's connection, as the SDK's is (it activated and
    // synced): a replay of the first body is answered from the stored answer.
    let warm = |(key, manifest): &(String, String)| {
        let body = serde_json::to_vec(&SubmitRequest {
            manifest: manifest.clone(),
            uploads: Vec::new(),
        })
        .unwrap();
        http.post(&url)
            .header("idempotency-key", key.as_str())
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(body)
            .send()
    };

    let plain = async |bodies: &[(String, String)]| {
        let started = Instant::now();
        for (key, manifest) in bodies {
            let body = serde_json::to_vec(&SubmitRequest {
                manifest: manifest.clone(),
                uploads: Vec::new(),
            })
            .unwrap();
            let response = http
                .post(&url)
                .header("idempotency-key", key.as_str())
                .header("content-type", "application/json")
                .header("accept", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let answer = response.bytes().await.unwrap();
            assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
        }
        started.elapsed().as_secs_f64()
    };
    let sdk = async |citizen: &citizen_core::Citizen,
                     hold: citizen_core::dossier::SenderHold,
                     ids: &[i64]| {
        let dossiers = citizen.dossiers();
        let started = Instant::now();
        drop(hold);
        dossiers
            .send_queued(Duration::from_secs(600), true)
            .await
            .unwrap();
        let seconds = started.elapsed().as_secs_f64();
        let mut again = Vec::new();
        for id in ids {
            let submission = dossiers.submission(*id).await.unwrap().unwrap();
            assert_eq!(submission.state, DeliveryState::Received, "{submission:?}");
            if submission.attempts > 1 {
                again.push(submission.last_error.unwrap_or_default());
            }
        }
        if !again.is_empty() {
            println!(
                "{} dossiers needed more than one attempt: {again:?}",
                again.len()
            );
        }
        seconds
    };

    // The warm-up request files B's last dossier, which side B then leaves out.
    let last = b_bodies.pop().unwrap();
    assert_eq!(warm(&last).await.unwrap().status().as_u16(), 201);
    let (b_first, b_second) = b_bodies.split_at(half);
    let b1 = plain(b_first).await;
    let a1_s = sdk(&a1, hold_a1, &a1_ids).await;
    let b2 = plain(b_second).await;
    let a2_s = sdk(&a2, hold_a2, &a2_ids).await;
    let b_count = b_bodies.len();
    let a_count = a1_ids.len() + a2_ids.len();
    let b_per_s = b_count as f64 / (b1 + b2);
    let a_per_s = a_count as f64 / (a1_s + a2_s);
    let at_portal = portal.sandbox.dossiers().unwrap().len();
    assert_eq!(at_portal, a_count + b_count + 1, "the portal's dossiers");
    let ratio = a_per_s / b_per_s;
    println!(
        "SDK {a_per_s:.0} dossiers/s ({a1_s:.2} s + {a2_s:.2} s), plain reqwest {b_per_s:.0} \
         dossiers/s ({b1:.2} s + {b2:.2} s): drain ratio {ratio:.3}"
    );
    write_figure(
        "outbox.drain_ratio",
        serde_json::json!({
            "value": ratio,
            "unit": "ratio",
            "a": "SDK outbox drain",
            "b": "plain reqwest loop",
            "a_dossiers": a_count,
            "b_dossiers": b_count,
            "a_per_s": a_per_s,
            "b_per_s": b_per_s,
            "a_halves_s": [a1_s, a2_s],
            "b_halves_s": [b1, b2],
            "half_ratios": [b1 / a1_s * a1_ids.len() as f64 / b_first.len() as f64,
                            b2 / a2_s * a2_ids.len() as f64 / b_second.len() as f64],
            "filing_ms_each": filing_s * 1e3 / (4 * half) as f64,
        }),
    );
}
