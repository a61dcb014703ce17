//! The crash test of issue 9: a child process (`dossier-crash-child`) files dossiers with
//! attachments and sends them to the real sandbox over HTTPS; this test kills it with SIGKILL at
//! random points (while it opens the store, fills a draft, streams an attachment into the store,
//! signs, uploads, or waits for the portal's answer) and starts it again, until it was killed
//! `CITIZEN_CRASH_KILLS` times (50 by default; `cargo xtask soak` asks for 1,000). Then the child
//! runs to the end. The portal must hold each dossier the phone filed exactly once, and the
//! phone's records must match the portal's. Prints `kills=N lost=L duplicated=D`.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use citizen_core::dossier::DeliveryState;
use citizen_e2e::dossier_kit::ChildConfig;
use citizen_e2e::*;
use citizen_sandbox::faults::Faults;

const ID_NUMBER: &str = "001090055555";

/// A random delay before the kill: anywhere from during start-up to deep in the work.
fn kill_delay(state: &mut u64) -> Duration {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    Duration::from_millis(*state % 800)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_random_the_phone_files_each_dossier_exactly_once() {
    let kills_wanted: u32 = std::env::var("CITIZEN_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    // More than the child can file before the kills run out; the last run then only sends what
    // was filed (its target is 0).
    let target = kills_wanted as usize * 10 + 10;

    let portal = start_portal("Crash portal").await;
    let dir = tempfile::tempdir().unwrap();
    {
        // The phone's wallet and catalogue, made once, as a citizen would have before.
        let citizen = activated(&portal, dir.path(), ID_NUMBER).await;
        citizen.dossiers().sync_catalogue().await.unwrap();
    }
    // Requests take a little while, so kills also land mid-request.
    portal
        .sandbox
        .set_faults(Faults {
            latency_ms: 15,
            ..Faults::default()
        })
        .unwrap();
    let config = ChildConfig {
        data_dir: dir.path().to_path_buf(),
        base_url: portal.sandbox.base_url.clone(),
        ca_pem: portal.sandbox.ca_pem.clone(),
        spki_pin: portal.sandbox.spki_pin.clone(),
        anchor_kid: portal.sandbox.trust_anchor_kid.clone(),
        anchor_jwk: portal.sandbox.trust_anchor.to_value(),
        id_number: ID_NUMBER.into(),
        pin: PIN.into(),
        target,
        attachment_bytes: 300_000,
    };
    let config_path = dir.path().join("crash-child.json");
    std::fs::write(&config_path, serde_json::to_vec(&config).unwrap()).unwrap();
    let child_exe = env!("CARGO_BIN_EXE_dossier-crash-child");
    let spawn = || {
        Command::new(child_exe)
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap()
    };

    let mut kills = 0u32;
    let mut random = 0x9E37_79B9_7F4A_7C15u64 ^ u64::from(std::process::id());
    let started = Instant::now();
    while kills < kills_wanted {
        let mut child = spawn();
        tokio::time::sleep(kill_delay(&mut random)).await;
        match child.try_wait().unwrap() {
            Some(status) => panic!("the child stopped before it was killed: {status}"),
            None => {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                kills += 1;
            }
        }
    }
    // The last run files nothing more and sends everything.
    let last = ChildConfig {
        target: 0,
        ..config.clone()
    };
    std::fs::write(&config_path, serde_json::to_vec(&last).unwrap()).unwrap();
    let mut child = spawn();
    let deadline = Instant::now() + Duration::from_secs(600);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the last run did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "the last run failed: {status}");

    // The phone's records against the portal's.
    let citizen = open_wallet(&portal, dir.path()).await;
    let phone = citizen.dossiers().submissions().await.unwrap();
    let at_portal = portal.sandbox.dossiers().unwrap();
    let portal_by_key: BTreeMap<&str, &citizen_sandbox::dossiers::ReceivedDossier> = at_portal
        .iter()
        .map(|d| (d.idempotency_key.as_str(), d))
        .collect();
    let mut lost = 0usize;
    for submission in &phone {
        let matched = portal_by_key
            .get(submission.dossier_id.as_str())
            .is_some_and(|d| {
                submission.state == DeliveryState::Received
                    && submission.receipt_code.as_deref() == Some(d.receipt_code.as_str())
            });
        if !matched {
            lost += 1;
        }
    }
    // Two portal dossiers for one intent (the same marker), or one the phone does not know.
    let phone_keys: BTreeSet<&str> = phone.iter().map(|s| s.dossier_id.as_str()).collect();
    let intents: BTreeSet<String> = at_portal
        .iter()
        .filter_map(|d| d.manifest.form.get("ho_ten_tre").cloned())
        .collect();
    let unknown = at_portal
        .iter()
        .filter(|d| !phone_keys.contains(d.idempotency_key.as_str()))
        .count();
    let duplicated = (at_portal.len() - intents.len()) + unknown;
    // Straight to stdout, past the test harness's capture: CI logs show the line.
    let line = format!(
        "kills={kills} lost={lost} duplicated={duplicated} (dossiers={}, portal={}, {:.0} s)\n",
        phone.len(),
        at_portal.len(),
        started.elapsed().as_secs_f64()
    );
    std::io::Write::write_all(&mut std::io::stdout(), line.as_bytes()).unwrap();
    assert!(kills >= kills_wanted, "only {kills} kills");
    // The kills landed among real work: dossiers were filed between them.
    assert!(
        phone.len() >= kills_wanted as usize / 4,
        "{} dossiers",
        phone.len()
    );
    assert_eq!(lost, 0);
    assert_eq!(duplicated, 0);
    // Nothing is left to send.
    assert_eq!(citizen.status().await.unwrap().queued_work, 0);
}
