//! The phone of the crash test (`tests/dossier_crash.rs`): a process that files dossiers with
//! attachments until it has `target` of them, then sends them all, and exits 0. The test kills
//! it with SIGKILL at random points and starts it again; whatever it finds in its store is where
//! it goes on from, as an app restarted after a crash would.
//!
//! Each dossier's free-text fields carry [`marker`]`(n)` (n = how many were filed before it), so
//! the test can tell two dossiers filed for the same intent apart from two different ones.

use std::sync::Arc;
use std::time::Duration;

use citizen_core::dossier::{DeliveryState, DraftState};
use citizen_core::jose::EcPublicJwk;
use citizen_core::outbox::RetryPolicy;
use citizen_core::trust_list::TrustAnchor;
use citizen_core::{Citizen, CitizenConfig, Platform, SoftwareSealer};
use citizen_e2e::dossier_kit::{ChildConfig, birth_registration, marker, pdf, ready_draft};

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: dossier-crash-child <config.json>");
    let config: ChildConfig =
        serde_json::from_slice(&std::fs::read(path).expect("config readable")).expect("config");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let code = runtime.block_on(run(config));
    std::process::exit(code);
}

async fn run(config: ChildConfig) -> i32 {
    let mut sdk = CitizenConfig::new(&config.data_dir, &config.base_url);
    sdk.trusted_roots_pem = vec![config.ca_pem.clone()];
    sdk.portal_spki_pins = vec![config.spki_pin.clone()];
    sdk.trust_anchors = vec![TrustAnchor {
        kid: config.anchor_kid.clone(),
        jwk: EcPublicJwk::from_value(&config.anchor_jwk).expect("anchor"),
    }];
    sdk.outbox_retry = RetryPolicy {
        base: Duration::from_secs(1),
        cap: Duration::from_secs(2),
    };
    let platform =
        Platform::new(Arc::new(SoftwareSealer::in_dir(&config.data_dir))).with_software_key_store();
    let citizen = Citizen::open(sdk, platform).await.expect("open");
    let dossiers = citizen.dossiers();
    let procedure = birth_registration(&dossiers).await;

    loop {
        let filed = dossiers.submissions().await.expect("submissions").len();
        if filed >= config.target {
            break;
        }
        // A draft left half made by a kill is not a dossier: start it again.
        for draft in dossiers.drafts().await.expect("drafts") {
            if draft.state == DraftState::Editing {
                dossiers.delete_draft(draft.id).await.expect("delete draft");
            }
        }
        let text = marker(filed);
        let declaration = pdf(config.attachment_bytes, &text);
        let draft = ready_draft(&dossiers, &procedure, &text, &config.id_number, declaration).await;
        dossiers.submit(draft, &config.pin).await.expect("submit");
    }

    loop {
        dossiers
            .send_queued(Duration::from_secs(30), true)
            .await
            .expect("send");
        let submissions = dossiers.submissions().await.expect("submissions");
        if submissions.iter().any(|s| s.state == DeliveryState::Parked) {
            eprintln!("a dossier was parked");
            return 3;
        }
        if submissions
            .iter()
            .all(|s| s.state == DeliveryState::Received)
        {
            return 0;
        }
    }
}
