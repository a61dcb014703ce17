//! The scripted citizen journey: `cargo run -p citizen-sandbox -- demo`.
//!
//! Owns: starting an embedded sandbox portal, driving the SDK's public Rust API through each
//! step a citizen's app would take, and printing what happened. Each issue that adds a capability
//! adds its steps here. Uses the software sealer (desktop only) and says so.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use citizen_core::checkin::wire::{MintVenueRequest, NotifyRequest};
use citizen_core::checkin::{CheckInError, TicketState, VenueKind};
use citizen_core::dossier::{
    CatalogueFilter, DeliveryState, DossierError, Dossiers, FeeState, FieldKind, FormField,
    Procedure, TrackingStatus,
};
use citizen_core::trust_list::TrustAnchor;
use citizen_core::verifier::IdentityQrError;
use citizen_core::wallet::activation::ActivationRequest;
use citizen_core::wallet::presentation::IdentityQrRequest;
use citizen_core::wallet::remote::DisclosureApproval;
use citizen_core::{
    Citizen, CitizenConfig, Event, EventListener, Platform, SoftwareSealer, Status, WalletError,
    WalletState,
};

use crate::enrollment::EnrollmentRequest;
use crate::{SandboxConfig, SandboxError};

#[derive(Debug, Default, Clone)]
pub struct DemoOptions {
    /// Keep the citizen's store here (for inspection); a temporary folder otherwise.
    pub data_dir: Option<PathBuf>,
}

/// What the journey left behind, for tests.
#[derive(Debug)]
pub struct DemoOutcome {
    pub citizen_data_dir: PathBuf,
    pub portal_name: String,
    pub status: Status,
    pub events: Vec<Event>,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("sandbox: {0}")]
    Sandbox(#[from] SandboxError),
    #[error("SDK: {0}")]
    Sdk(#[from] citizen_core::Error),
    #[error("wallet: {0}")]
    Wallet(#[from] WalletError),
    #[error("check-ins: {0}")]
    CheckIn(#[from] CheckInError),
    #[error("verifier: {0}")]
    Verifier(#[from] IdentityQrError),
    #[error("dossiers: {0}")]
    Dossier(#[from] DossierError),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("check failed: {0}")]
    Check(String),
}

/// Collects events and prints each as it arrives.
struct PrintingListener {
    seen: std::sync::Mutex<Vec<Event>>,
}

impl EventListener for PrintingListener {
    fn on_event(&self, event: Event) {
        let line = match &event {
            Event::PortalReachabilityChanged { reachable: true } => "portal reachable".to_string(),
            Event::PortalReachabilityChanged { reachable: false } => {
                "portal unreachable".to_string()
            }
            Event::StoreKeyRotated => "store key rotated".to_string(),
            Event::StatusChanged { status } => {
                format!("status changed ({} queued)", status.queued_work)
            }
            Event::WalletStateChanged { state } => format!("wallet state {state:?}"),
            Event::HistoryRecorded { kind, outcome, .. } => {
                format!("history: {kind:?} {outcome:?}")
            }
            Event::DossierDeliveryChanged {
                submission_id,
                state,
            } => format!("dossier #{submission_id} {state:?}"),
            Event::DossierUploadProgress {
                submission_id,
                sent_bytes,
                total_bytes,
            } => format!("dossier #{submission_id} uploaded {sent_bytes} of {total_bytes} bytes"),
            other => format!("{other:?}"),
        };
        println!("      event: {line}");
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event);
    }
}

/// The citizen the demo enrols (the sandbox's sample record).
const DEMO_ID_NUMBER: &str = "001090012345";
/// The start of the demo clinic's venue id (each run adds its own tag).
const CLINIC_VENUE_PREFIX: &str = "demo-clinic-";
/// The PIN the demo citizen chooses. A demo value: never print a real PIN.
const DEMO_PIN: &str = "802417";

/// Runs the journey, writing each step to `out`.
pub async fn run(options: DemoOptions, out: &mut dyn Write) -> Result<DemoOutcome, DemoError> {
    let portal_dir = tempfile::tempdir()?;
    let temporary_store;
    let citizen_dir = match options.data_dir {
        Some(dir) => dir,
        None => {
            temporary_store = tempfile::tempdir()?;
            temporary_store.path().to_path_buf()
        }
    };
    const STEPS: usize = 23;
    let mut step = 0;
    let mut next = || {
        step += 1;
        format!("[{step:>2}/{STEPS}]")
    };

    writeln!(
        out,
        "Citizen SDK demo: one citizen's journey against an embedded sandbox portal"
    )?;
    let sandbox = crate::start(SandboxConfig::loopback(portal_dir.path())).await?;
    // The agency's clerk takes a step every 300 ms instead of its default pace, so the demo's
    // dossier reaches its result in seconds.
    sandbox
        .set_clerk(crate::tracking::ClerkPolicy {
            pace_ms: 300,
            ..Default::default()
        })
        .map_err(DemoError::Sandbox)?;
    writeln!(
        out,
        "{} Sandbox portal listening at {}\n        CA {} · pin {}\n        trust anchor kid {}",
        next(),
        sandbox.base_url,
        sandbox.ca_pem_path.display(),
        sandbox.spki_pin,
        sandbox.trust_anchor_kid,
    )?;

    let existed = citizen_dir.join("citizen.db").exists();
    let citizen = open_sdk(&sandbox, &citizen_dir).await?;
    let opened = citizen.status().await?;
    writeln!(
        out,
        "{} Opened the {} encrypted store in {}\n        schema v{}; its key is sealed by the software sealer (desktop only, hardware-backed: {}); device keys in software too",
        next(),
        if existed { "existing" } else { "new" },
        citizen_dir.display(),
        opened.store_schema_version,
        opened.store_key_hardware_backed,
    )?;
    let listener = Arc::new(PrintingListener {
        seen: Default::default(),
    });
    let subscription = citizen.subscribe(listener.clone());

    writeln!(out, "{} Pinging the portal over pinned TLS", next())?;
    let contact = citizen.ping_portal().await?;
    writeln!(
        out,
        "        \"{}\" speaks API v{}; clock difference {} s",
        contact.portal_name,
        contact.api_version,
        contact.contacted_at - contact.server_time
    )?;

    let trust = citizen.refresh_trust_list().await?;
    writeln!(
        out,
        "{} Fetched the signed trust list and verified it against the configured trust anchor: {:?}",
        next(),
        trust,
    )?;

    let enrollment = sandbox
        .enroll(&EnrollmentRequest::sample(DEMO_ID_NUMBER))
        .map_err(DemoError::Sandbox)?;
    writeln!(
        out,
        "{} A registration at the police station (simulated) enrolled a citizen\n        ID number {DEMO_ID_NUMBER}, activation code {} (sample data)",
        next(),
        enrollment.activation_code,
    )?;

    let wallet = citizen.wallet();
    if wallet.state().await? != WalletState::NotActivated {
        // A kept store from an earlier run holds a credential from that run's sandbox.
        wallet.reset().await?;
    }
    let pid = wallet
        .activate(ActivationRequest {
            id_number: DEMO_ID_NUMBER.into(),
            activation_code: enrollment.activation_code,
            pin: DEMO_PIN.into(),
            attestation: None,
        })
        .await?;
    let state = wallet.state().await?;
    let status = wallet.refresh_status(true).await?;
    writeln!(
        out,
        "{} Activated the wallet over OpenID4VCI (pre-authorised code, the activation code as tx_code)\n        PID {} from {}, valid until {}; wallet {:?}; status list says {:?}",
        next(),
        pid.vct,
        pid.issuer,
        pid.expires_at.unwrap_or_default(),
        state,
        status.map(|s| s.status),
    )?;

    let qr = wallet
        .identity_qr(IdentityQrRequest {
            pin: DEMO_PIN.into(),
            claims: vec![
                "full_name".into(),
                "birth_date".into(),
                "age_over_18".into(),
            ],
            challenge: None,
        })
        .await?;
    writeln!(
        out,
        "{} Identity QR for an officer ({} characters, valid 60 s, discloses {:?}):",
        next(),
        qr.text.len(),
        qr.disclosed,
    )?;
    writeln!(out, "{}", qr.text)?;
    write!(out, "{}", qr.qr.to_terminal())?;

    // The officer's phone: its own SDK instance and store, the same trust anchor.
    let officer_dir = tempfile::tempdir()?;
    let officer = open_sdk(&sandbox, officer_dir.path()).await?;
    officer.refresh_trust_list().await?;
    let verifier = officer.verifier();
    let verified = verifier.verify_identity_qr(&qr.text, None).await?;
    writeln!(
        out,
        "{} The officer's app verified it: issuer \"{}\", status {:?}, claims {}",
        next(),
        verified.issuer_name,
        verified.status.status,
        serde_json::Value::Object(verified.claims.clone()),
    )?;

    // An agency website's login: the sandbox relying party shows a QR, the wallet answers it.
    let request = sandbox
        .rp_request(crate::relying_party::PresentationRequestSpec {
            claims: vec!["full_name".into()],
            optional_claims: vec!["birth_date".into(), "place_of_residence".into()],
            encrypted: true,
            ..Default::default()
        })
        .map_err(DemoError::Sandbox)?;
    let kind = citizen_core::scan::classify(&request.link);
    let consent = wallet.prepare_disclosure(&request.link).await?;
    let asked: Vec<String> = consent
        .claims
        .iter()
        .map(|c| {
            let need = if c.required { "required" } else { "optional" };
            format!("{} ({need})", c.name)
        })
        .collect();
    let receipt = wallet
        .approve_disclosure(
            &consent.request_id,
            DisclosureApproval {
                pin: DEMO_PIN.into(),
                optional_claims: vec!["birth_date".into()],
            },
        )
        .await?;
    let result = sandbox
        .rp_result(&request.id)
        .map_err(DemoError::Sandbox)?
        .ok_or_else(|| DemoError::Check("the relying party lost the request".into()))?;
    if result.state != "completed" || result.claims.contains_key("place_of_residence") {
        return Err(DemoError::Check(format!(
            "the relying party's result is {}, not exactly the approved claims",
            result.state
        )));
    }
    writeln!(
        out,
        "{} Remote login (OpenID4VP) to an agency website: its QR is {:?}\n        {}\n        consent: \"{}\" asks for {}; purpose \"{}\"\n        the citizen approved birth_date and left place_of_residence out; answer encrypted (direct_post.jwt): {}\n        the relying party verified {} (key binding {}, status {}); next: {}",
        next(),
        kind,
        request.link,
        consent.relying_party.display_name,
        asked.join(", "),
        consent.purpose.as_deref().unwrap_or("-"),
        consent.encrypted_response,
        serde_json::Value::Object(result.claims.clone()),
        result.key_binding,
        result.status.as_deref().unwrap_or("-"),
        receipt.redirect_uri.as_deref().unwrap_or("-"),
    )?;

    // Check-ins: the agency prints codes at a clinic's door and at a service counter. The venue
    // ids are this run's own: a kept store already holds an earlier run's visits, and the
    // exposure step below must match this run's visit, not one of those.
    let run_tag = crate::state::now();
    let clinic_id = format!("{CLINIC_VENUE_PREFIX}{run_tag}");
    let clinic = sandbox
        .mint_venue(&MintVenueRequest {
            venue_id: clinic_id.clone(),
            name: "Trạm Y tế Phường Bến Nghé".into(),
            address: "1 Nguyễn Huệ, Quận 1, TP. Hồ Chí Minh".into(),
            kind: VenueKind::Venue,
            valid_for: None,
            auto_checkout: Some(2 * 3_600),
        })
        .map_err(DemoError::Sandbox)?;
    let checkins = citizen.checkins();
    let at_clinic = checkins.check_in(&clinic.code).await?;
    let scanned_again = checkins.check_in(&clinic.code).await?;
    writeln!(
        out,
        "{} Checked in at a clinic's door code ({:?}, {} characters), verified offline against the trust list\n        \"{}\", automatic check-out after {} min; scanning it again made {} entry",
        next(),
        citizen_core::scan::classify(&clinic.code),
        clinic.code.len(),
        at_clinic.entry.venue_name,
        (at_clinic.entry.auto_checkout_at - at_clinic.entry.checked_in_at) / 60,
        if scanned_again.duplicate {
            "no second"
        } else {
            "a second"
        },
    )?;
    // Door codes are printed: drawn at the highest error correction, which survives scratches.
    let door = citizen_core::qr::render(&clinic.code, citizen_core::qr::ErrorCorrection::High)
        .map_err(|e| DemoError::Check(e.to_string()))?;
    write!(out, "{}", door.to_terminal())?;

    sandbox.set_queue_pace(1).map_err(DemoError::Sandbox)?;
    let counter = sandbox
        .mint_venue(&MintVenueRequest {
            venue_id: format!("demo-counter-3-{run_tag}"),
            name: "Bộ phận Một cửa UBND Quận 1, quầy hộ tịch".into(),
            address: String::new(),
            kind: VenueKind::ServiceCounter,
            valid_for: None,
            auto_checkout: None,
        })
        .map_err(DemoError::Sandbox)?;
    let at_counter = checkins.check_in(&counter.code).await?;
    let ticket = match at_counter.ticket {
        Some(Ok(ticket)) => ticket,
        other => {
            return Err(DemoError::Check(format!(
                "the counter gave no ticket: {other:?}"
            )));
        }
    };
    let waited = tokio::time::Instant::now();
    let called = loop {
        let now = checkins.entry(at_counter.entry.id).await?.ticket;
        match now {
            Some(ticket) if ticket.state != TicketState::Waiting => break ticket,
            _ if waited.elapsed() > std::time::Duration::from_secs(30) => {
                return Err(DemoError::Check("the queue never called the ticket".into()));
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(250)).await,
        }
    };
    writeln!(
        out,
        "{} Checked in at a service counter ({:?}): ticket {} with {} ahead; the queue called it after {:.1} s to {}",
        next(),
        citizen_core::scan::classify(&counter.code),
        ticket.number,
        ticket.position,
        waited.elapsed().as_secs_f64(),
        called.counter.as_deref().unwrap_or("-"),
    )?;

    let now = crate::state::now();
    sandbox
        .notify(&NotifyRequest {
            venue_id: clinic_id.clone(),
            from: now - 3_600,
            until: now + 3_600,
            message: "Một người đến trạm y tế trong khung giờ này có kết quả dương tính; hãy theo dõi sức khỏe trong 7 ngày.".into(),
        })
        .map_err(DemoError::Sandbox)?;
    let synced = checkins.sync_notices().await?;
    // This download must have made the match itself, for this run's clinic visit: an earlier
    // run's match kept in the store proves nothing about this one.
    if synced.new_matches == 0 {
        return Err(DemoError::Check(format!(
            "the notices download made no new match ({} new notice(s))",
            synced.new_notices
        )));
    }
    let matches = checkins.matches().await?;
    let matched = matches
        .iter()
        .find(|m| m.entry_id == at_clinic.entry.id && m.venue_id == clinic_id)
        .ok_or_else(|| {
            DemoError::Check("the published notice did not match this run's clinic visit".into())
        })?;
    writeln!(
        out,
        "{} The portal published an exposure notice; the phone downloaded {} notice(s) without naming any visit,\n        matched them against the diary on the phone ({} new match(es)), this run's clinic visit among them: \"{}\" at {}",
        next(),
        synced.new_notices,
        synced.new_matches,
        matched.message,
        matched.venue_name,
    )?;

    let dcc = sandbox
        .mint_dcc(&crate::health::MintDccRequest::default())
        .map_err(DemoError::Sandbox)?;
    let kept = wallet.add_health_certificate(&dcc).await?;
    writeln!(
        out,
        "{} An EU Digital COVID Certificate ({:?}, {} characters) verified against the trust list's DSC and kept in the wallet: {:?} from {}",
        next(),
        citizen_core::scan::classify(&dcc),
        dcc.len(),
        kept.kind,
        kept.issuer_country.as_deref().unwrap_or("-"),
    )?;

    // Dossiers: the citizen files a birth registration, typed without diacritics.
    let dossiers = citizen.dossiers();
    let synced = dossiers.sync_catalogue().await?;
    let query = "dang ky khai sinh";
    let found = dossiers
        .search(query, CatalogueFilter::default(), 0, 5)
        .await?;
    let procedure = birth_registration(&dossiers, query).await?;
    writeln!(
        out,
        "{} Synced the procedure catalogue ({} procedures, {} page(s) fetched) and searched it offline for \"{query}\" (no diacritics): {} match(es), best first:",
        next(),
        synced.procedures,
        synced.pages,
        found.total,
    )?;
    for hit in found.hits.iter().take(3) {
        writeln!(
            out,
            "        {} \"{}\" ({}, {:?}), fee {} đ",
            hit.code, hit.name, hit.agency.name, hit.level, hit.total_fee
        )?;
    }
    let draft = dossiers.create_draft(&procedure.code).await?;
    let offers = dossiers.prefill_candidates(draft.id).await?;
    let approved: Vec<String> = offers.iter().map(|o| o.claim.clone()).collect();
    let prefilled: Vec<String> = offers.iter().map(|o| o.field.clone()).collect();
    let filled = dossiers.apply_prefill(draft.id, &approved).await?;
    let rest: Vec<(String, String)> = procedure
        .form
        .iter()
        .filter(|f| !filled.values.contains_key(&f.id))
        .map(|f| (f.id.clone(), sample_value(f)))
        .collect();
    dossiers.set_fields(draft.id, rest.clone()).await?;
    let declaration = sample_pdf(320 * 1024);
    dossiers
        .add_attachment_bytes(draft.id, "to_khai", declaration)
        .await?;
    for rule in &procedure.attachments {
        if rule.min_count > 0 && rule.kind != "to_khai" {
            let bytes = if rule.media_types.iter().any(|t| t == "application/pdf") {
                sample_pdf(40 * 1024)
            } else {
                let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
                jpeg.resize(40 * 1024, 3);
                jpeg
            };
            dossiers
                .add_attachment_bytes(draft.id, &rule.kind, bytes)
                .await?;
        }
    }
    let attached = dossiers.attachments(draft.id).await?;
    let errors = dossiers.validate_draft(draft.id).await?;
    if !errors.is_empty() {
        let named: Vec<String> = errors
            .iter()
            .map(|e| format!("{} {:?}", e.field, e.code))
            .collect();
        return Err(DemoError::Check(format!(
            "the demo draft does not validate: {named:?}"
        )));
    }
    writeln!(
        out,
        "{} Drafted \"{}\" ({} v{}, {} working day(s)) on the phone:\n        the PID offered {} field(s) {:?} from claims {:?}; the citizen approved them all\n        the app filled the other {} field(s) (sample values) and attached {}\n        validated on the phone: no errors",
        next(),
        procedure.name,
        procedure.code,
        procedure.version,
        procedure.processing_days,
        prefilled.len(),
        prefilled,
        approved,
        rest.len(),
        attached
            .iter()
            .map(|a| format!("{} ({}, {} KB)", a.kind, a.media_type, a.size / 1024))
            .collect::<Vec<_>>()
            .join(", "),
    )?;

    // The phone loses the network right after the citizen taps "submit".
    sandbox
        .set_faults(crate::faults::Faults {
            error_rate: 1.0,
            ..Default::default()
        })
        .map_err(DemoError::Sandbox)?;
    let filed = dossiers.submit(draft.id, DEMO_PIN).await?;
    dossiers
        .send_queued(std::time::Duration::from_secs(3), true)
        .await?;
    let waiting = dossiers
        .submission(filed.id)
        .await?
        .ok_or_else(|| DemoError::Check("the filed dossier vanished".into()))?;
    if waiting.state != DeliveryState::Queued {
        return Err(DemoError::Check(format!(
            "offline, the dossier is {:?}, not queued",
            waiting.state
        )));
    }
    let offline_queue = citizen.status().await?.queued_work;
    sandbox
        .set_faults(crate::faults::Faults::default())
        .map_err(DemoError::Sandbox)?;
    let back = tokio::time::Instant::now();
    dossiers.wake_sender();
    let received = loop {
        let now = dossiers
            .submission(filed.id)
            .await?
            .ok_or_else(|| DemoError::Check("the filed dossier vanished".into()))?;
        match now.state {
            DeliveryState::Received => break now,
            DeliveryState::Parked => {
                return Err(DemoError::Check(format!(
                    "the portal refused the dossier: {:?}",
                    now.parked_reason
                )));
            }
            _ if back.elapsed() > std::time::Duration::from_secs(90) => {
                return Err(DemoError::Check("the dossier never arrived".into()));
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
        }
    };
    let at_portal: Vec<_> = sandbox
        .dossiers()
        .map_err(DemoError::Sandbox)?
        .into_iter()
        .filter(|d| d.idempotency_key == filed.dossier_id)
        .collect();
    if at_portal.len() != 1 {
        return Err(DemoError::Check(format!(
            "the portal holds {} dossiers with that key, not one",
            at_portal.len()
        )));
    }
    writeln!(
        out,
        "{} Submitted with the PIN: the manifest (form, {} attachment digest(s)) signed by the device key, dossier {} queued\n        offline (the portal answers 503): still {:?} after {} attempt(s), last error {:?}; {} queued item(s) in the status\n        back online: the sender was woken and its next retry (back-off with jitter) delivered it {:.1} s later\n        {:?}: receipt code {}, portal status {:?}, {} KB of attachments uploaded by tus; the portal holds exactly one dossier with that key",
        next(),
        filed.attachments,
        filed.dossier_id,
        waiting.state,
        waiting.attempts,
        waiting.last_error.as_deref().unwrap_or("-"),
        offline_queue,
        back.elapsed().as_secs_f64(),
        received.state,
        received.receipt_code.as_deref().unwrap_or("-"),
        received.portal_status.as_deref().unwrap_or("-"),
        attached.iter().map(|a| a.size).sum::<u64>() / 1024,
    )?;
    let receipt = received.receipt_code.clone().unwrap_or_default();

    // The agency works on it; its clerk needs one more document.
    let asked = until_status(&dossiers, filed.id, TrackingStatus::SupplementRequested).await?;
    let request = asked
        .supplement_request
        .clone()
        .ok_or_else(|| DemoError::Check("a supplement request without its items".into()))?;
    let supplement = dossiers.start_supplement(filed.id).await?;
    let form = dossiers
        .draft_procedure(supplement.id)
        .await?
        .ok_or_else(|| DemoError::Check("the supplement draft has no form".into()))?;
    let values: Vec<(String, String)> = form
        .form
        .iter()
        .map(|f| (f.id.clone(), sample_value(f)))
        .collect();
    dossiers.set_fields(supplement.id, values).await?;
    for rule in &form.attachments {
        dossiers
            .add_attachment_bytes(supplement.id, &rule.kind, sample_pdf(60 * 1024))
            .await?;
    }
    let supplement_filed = dossiers.submit(supplement.id, DEMO_PIN).await?;
    let processing = until_status(&dossiers, filed.id, TrackingStatus::ResultReady).await?;
    writeln!(
        out,
        "{} The agency's clerk took it up and asked for a supplement ({} item(s): {:?}); the status feed brought it:\n        the citizen answered in a supplement draft (only what was asked, each required), signed it with the PIN,\n        and the same outbox delivered it once under its own key ({}); the result is now {:?}",
        next(),
        request.items.len(),
        request
            .items
            .iter()
            .map(|item| match item {
                citizen_core::dossier::SupplementItem::Field { field_id, .. } =>
                    format!("field {field_id}"),
                citizen_core::dossier::SupplementItem::Attachment {
                    attachment_kind, ..
                } => format!("document {attachment_kind}"),
            })
            .collect::<Vec<_>>(),
        supplement_filed.dossier_id,
        processing.status,
    )?;

    // A fee is due before the result is handed over: its VietQR, paid at the sandbox bank.
    let fee = dossiers
        .fees(filed.id)
        .await?
        .into_iter()
        .find(|f| f.state == FeeState::Due)
        .ok_or_else(|| DemoError::Check("the result is ready but no fee is due".into()))?;
    let code = dossiers.fee_payment_code(filed.id, &fee.fee_id).await?;
    let text = code.encode().map_err(|e| DemoError::Check(e.to_string()))?;
    let scanned =
        citizen_core::vietqr::parse(&text).map_err(|e| DemoError::Check(e.to_string()))?;
    let drawn = citizen_core::qr::render(&text, citizen_core::qr::ErrorCorrection::Medium)
        .map_err(|e| DemoError::Check(e.to_string()))?;
    writeln!(
        out,
        "{} Fee due: {} đồng ({}), to bank {} for \"{}\", reference {}. Its VietQR ({} characters, {}x{} modules;\n        the strict parser reads back amount {:?} and note {:?}):",
        next(),
        fee.amount,
        fee.label,
        fee.bank_bin,
        fee.payee_name,
        fee.reference,
        text.len(),
        drawn.width,
        drawn.width,
        scanned.amount,
        scanned.purpose(),
    )?;
    writeln!(out, "{text}")?;
    write!(out, "{}", drawn.to_terminal())?;
    let payment = sandbox.pay(&text).map_err(DemoError::Sandbox)?;
    let completed = until_status(&dossiers, filed.id, TrackingStatus::Completed).await?;
    let paid = dossiers
        .fees(filed.id)
        .await?
        .into_iter()
        .find(|f| f.fee_id == fee.fee_id)
        .and_then(|f| f.payment)
        .ok_or_else(|| DemoError::Check("the portal never confirmed the payment".into()))?;
    let timeline = dossiers.timeline(filed.id).await?;
    writeln!(
        out,
        "{} The sandbox bank paid the code (transaction {}); the portal confirmed it in the status feed and the phone\n        keeps the receipt ({} đồng, transaction {}). Dossier {} is {:?}. Its timeline:",
        next(),
        payment.transaction_id,
        paid.amount,
        paid.transaction_id,
        receipt,
        completed.status,
    )?;
    for entry in &timeline {
        writeln!(
            out,
            "        {} {}{}",
            entry.at,
            entry.event,
            if entry.from_portal { " (portal)" } else { "" }
        )?;
    }
    drop(dossiers);

    sandbox.shutdown();
    let challenge = verifier
        .new_challenge("demo-officer:counter-1", vec!["full_name".into()])
        .map_err(citizen_core::Error::from)?;
    let answer = wallet
        .identity_qr(IdentityQrRequest {
            pin: DEMO_PIN.into(),
            claims: Vec::new(),
            challenge: Some(
                challenge
                    .encode()
                    .map_err(|e| DemoError::Check(e.to_string()))?,
            ),
        })
        .await?;
    let verified = verifier
        .verify_identity_qr(&answer.text, Some(challenge))
        .await?;
    writeln!(
        out,
        "{} Portal stopped. Two-way mode offline: the officer showed a challenge, the wallet answered,\n        and the officer verified it from cached lists (status checked at {:?}, stale: {}): {} claim(s)",
        next(),
        verified.status.checked_at,
        verified.status.stale,
        verified.claims.len(),
    )?;

    let history = wallet.history_page(None, None, 20).await?;
    writeln!(out, "{} The wallet's disclosure history:", next())?;
    for record in &history.records {
        writeln!(
            out,
            "        {:?} {:?} to {} of {:?}",
            record.kind,
            record.outcome,
            record
                .counterparty
                .as_ref()
                .map_or("an officer (one-way QR)", |c| c.display_name.as_str()),
            record.claims,
        )?;
    }

    let status = citizen.status().await?;
    writeln!(
        out,
        "{} Status: schema v{}, wallet {:?}, trust list {:?}, {} queued",
        next(),
        status.store_schema_version,
        status.wallet_state,
        status.trust_list,
        status.queued_work,
    )?;

    let sample = EnrollmentRequest::sample(DEMO_ID_NUMBER);
    for needle in [
        contact.portal_name.as_str(),
        sample.full_name.as_str(),
        DEMO_ID_NUMBER,
        "Trạm Y tế Phường Bến Nghé",
        CLINIC_VENUE_PREFIX,
    ] {
        let leaks = files_containing(&citizen_dir, needle.as_bytes())?;
        if !leaks.is_empty() {
            return Err(DemoError::Check(format!(
                "plaintext found in {leaks:?}: the store is not encrypted"
            )));
        }
    }
    writeln!(
        out,
        "{} Checked the store's files on disk: neither the portal name, the citizen's name or ID number nor the diary's venues are in plaintext",
        next()
    )?;

    drop(subscription);
    let events = std::mem::take(&mut *listener.seen.lock().unwrap_or_else(|p| p.into_inner()));
    writeln!(out, "Done.")?;
    Ok(DemoOutcome {
        citizen_data_dir: citizen_dir,
        portal_name: contact.portal_name,
        status,
        events,
    })
}

/// Syncs the status feed until filed dossier `id` is `status` (a minute at most), sending what
/// is queued meanwhile (a supplement).
async fn until_status(
    dossiers: &Dossiers,
    id: i64,
    status: TrackingStatus,
) -> Result<citizen_core::dossier::Submission, DemoError> {
    let started = tokio::time::Instant::now();
    loop {
        dossiers
            .send_queued(std::time::Duration::from_secs(10), false)
            .await?;
        dossiers.sync_statuses().await?;
        let now = dossiers
            .submission(id)
            .await?
            .ok_or_else(|| DemoError::Check("the filed dossier vanished".into()))?;
        if now.status == status {
            return Ok(now);
        }
        if started.elapsed() > std::time::Duration::from_secs(60) {
            return Err(DemoError::Check(format!(
                "the dossier is {:?}, never {status:?}",
                now.status
            )));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The first birth registration `query` finds whose form names the child and whose
/// declaration (`to_khai`) is a PDF.
async fn birth_registration(dossiers: &Dossiers, query: &str) -> Result<Procedure, DemoError> {
    let page = dossiers
        .search(query, CatalogueFilter::default(), 0, 20)
        .await?;
    for hit in &page.hits {
        if let Some(procedure) = dossiers.procedure(&hit.code).await?
            && procedure.form.iter().any(|f| f.id == "ho_ten_tre")
            && procedure.attachments.iter().any(|r| r.kind == "to_khai")
        {
            return Ok(procedure);
        }
    }
    Err(DemoError::Check(format!(
        "no birth registration among the hits for \"{query}\""
    )))
}

/// A sample value that passes `field`'s checks (the demo's made-up child and parents).
fn sample_value(field: &FormField) -> String {
    match field.kind {
        FieldKind::Text => "Nguyễn Minh Khang".into(),
        FieldKind::Address => "Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội".into(),
        FieldKind::Phone => "0912345678".into(),
        FieldKind::Email => "citizen@example.vn".into(),
        FieldKind::IdNumber => DEMO_ID_NUMBER.into(),
        FieldKind::Date => "2026-01-15".into(),
        FieldKind::Number => field.min.unwrap_or(1).max(1).to_string(),
        FieldKind::Select => field
            .options
            .first()
            .map(|o| o.value.clone())
            .unwrap_or_default(),
    }
}

/// A PDF-looking document of `len` bytes (a header, then pseudo-random bytes that do not
/// compress), standing in for a scanned declaration.
fn sample_pdf(len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n% Citizen SDK demo declaration\n".to_vec();
    let mut state: u32 = 0x5eed_1234 ^ len as u32;
    while bytes.len() < len {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        bytes.push((state >> 16) as u8);
    }
    bytes
}

/// An SDK instance trusting the sandbox: its CA, its pin, its trust anchor; device keys in
/// software (a desktop has no secure hardware).
async fn open_sdk(sandbox: &crate::RunningSandbox, dir: &Path) -> Result<Citizen, DemoError> {
    let mut config = CitizenConfig::new(dir, &sandbox.base_url);
    config.trusted_roots_pem = vec![sandbox.ca_pem.clone()];
    config.portal_spki_pins = vec![sandbox.spki_pin.clone()];
    config.trust_anchors = vec![TrustAnchor {
        kid: sandbox.trust_anchor_kid.clone(),
        jwk: sandbox.trust_anchor.clone(),
    }];
    let platform = Platform::new(Arc::new(SoftwareSealer::in_dir(dir))).with_software_key_store();
    Ok(Citizen::open(config, platform).await?)
}

/// The files directly in `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() {
            let bytes = std::fs::read(&path)?;
            if bytes.windows(needle.len()).any(|w| w == needle) {
                found.push(path);
            }
        }
    }
    Ok(found)
}
