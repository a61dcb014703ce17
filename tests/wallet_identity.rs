//! Wallet identity end to end: activation over OpenID4VCI against the real sandbox issuer over real
//! HTTPS, the PID in the real SQLCipher store, the identity QR, and its offline verification by a
//! second SDK instance in verifier mode; lockout, revocation, and the attacks a verifier must stop.

use std::sync::{Arc, Mutex};

use citizen_core::credential_status::CredentialStatus;
use citizen_core::id1;
use citizen_core::verifier::IdentityQrError;
use citizen_core::wallet::activation::ActivationRequest;
use citizen_core::wallet::history::{HistoryKind, HistoryOutcome};
use citizen_core::wallet::presentation::IdentityQrRequest;
use citizen_core::{Citizen, Event, LogLevel, LogRecord, LogSink, WalletError, WalletState};
use citizen_e2e::*;
use citizen_sandbox::enrollment::EnrollmentRequest;

/// What the citizen enters, without an attestation blob.
fn request(
    id_number: impl Into<String>,
    code: impl Into<String>,
    pin: impl Into<String>,
) -> ActivationRequest {
    ActivationRequest {
        id_number: id_number.into(),
        activation_code: code.into(),
        pin: pin.into(),
        attestation: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_presentation_and_offline_verification() {
    let portal = start_portal("identity").await;
    let dir = tempfile::tempdir().unwrap();
    let sample = EnrollmentRequest::sample("001090012345");
    let enrollment = portal.sandbox.enroll(&sample).unwrap();

    let citizen = open_wallet(&portal, dir.path()).await;
    let recorder = Arc::new(Recorder::default());
    let _subscription = citizen.subscribe(recorder.clone());
    let wallet = citizen.wallet();
    assert_eq!(wallet.state().await.unwrap(), WalletState::NotActivated);

    // A wrong code is refused and costs nothing on the phone.
    let wrong = wallet
        .activate(request(sample.id_number.clone(), "AAAA-AAAA", PIN))
        .await
        .unwrap_err();
    assert!(
        matches!(wrong, WalletError::ActivationCodeRejected),
        "{wrong:?}"
    );
    assert_eq!(wallet.state().await.unwrap(), WalletState::NotActivated);

    let summary = wallet
        .activate(request(
            sample.id_number.clone(),
            enrollment.activation_code.clone(),
            PIN,
        ))
        .await
        .unwrap();
    assert_eq!(summary.vct, citizen_core::openid4vci::PID_VCT);
    assert_eq!(summary.issuer, portal.sandbox.base_url);
    assert_eq!(wallet.state().await.unwrap(), WalletState::Active);
    assert_eq!(
        citizen.status().await.unwrap().wallet_state,
        WalletState::Active
    );
    // The code is single use.
    assert!(matches!(
        wallet
            .activate(request(
                sample.id_number.clone(),
                enrollment.activation_code.clone(),
                PIN
            ))
            .await,
        Err(WalletError::AlreadyActivated)
    ));

    // The status list says valid.
    let status = wallet.refresh_status(true).await.unwrap().unwrap();
    assert_eq!(status.status, CredentialStatus::Valid);

    // The identity QR: the smallest set by default.
    let qr = wallet
        .identity_qr(IdentityQrRequest {
            pin: PIN.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(qr.text.starts_with(id1::PREFIX));
    assert_eq!(qr.disclosed, vec!["full_name", "id_number"]);
    assert_eq!(qr.qr.modules.len(), qr.qr.width * qr.qr.width);

    // An officer's phone: another SDK instance with its own store, the same trust anchor.
    let officer_dir = tempfile::tempdir().unwrap();
    let officer = open_wallet(&portal, officer_dir.path()).await;
    let verifier = officer.verifier();
    let verified = verifier.verify_identity_qr(&qr.text, None).await.unwrap();
    assert_eq!(verified.claims.len(), 2);
    assert_eq!(verified.claims["full_name"], sample.full_name.as_str());
    assert_eq!(verified.claims["id_number"], sample.id_number.as_str());
    assert_eq!(verified.issuer, portal.sandbox.base_url);
    assert_eq!(verified.status.status, CredentialStatus::Valid);
    // The same QR again is a replay.
    assert_eq!(
        verifier
            .verify_identity_qr(&qr.text, None)
            .await
            .unwrap_err(),
        IdentityQrError::Replayed
    );

    // Two-way: the officer's challenge binds audience and nonce, and asks for claims.
    let challenge = verifier
        .new_challenge(
            "officer:counter-7",
            vec!["birth_date".into(), "age_over_18".into()],
        )
        .unwrap();
    let answer = wallet
        .identity_qr(IdentityQrRequest {
            pin: PIN.into(),
            challenge: Some(challenge.encode().unwrap()),
            ..Default::default()
        })
        .await
        .unwrap();
    let other_challenge = verifier.new_challenge("officer:counter-7", vec![]).unwrap();
    assert_eq!(
        verifier
            .verify_identity_qr(&answer.text, Some(other_challenge))
            .await
            .unwrap_err(),
        IdentityQrError::NonceMismatch
    );
    let verified = verifier
        .verify_identity_qr(&answer.text, Some(challenge.clone()))
        .await
        .unwrap();
    assert_eq!(verified.claims["birth_date"], sample.birth_date.as_str());
    assert_eq!(verified.claims["age_over_18"], true);
    assert!(!verified.claims.contains_key("full_name"));

    // History: issuance (failed, then completed) and two presentations, names only.
    let page = wallet.history_page(None, None, 50).await.unwrap();
    let kinds: Vec<_> = page.records.iter().map(|r| (r.kind, r.outcome)).collect();
    assert_eq!(
        kinds,
        vec![
            (HistoryKind::Presentation, HistoryOutcome::Completed),
            (HistoryKind::Presentation, HistoryOutcome::Completed),
            (HistoryKind::Issuance, HistoryOutcome::Completed),
            (HistoryKind::Issuance, HistoryOutcome::Failed),
        ]
    );
    assert_eq!(
        page.records[0].counterparty.as_ref().unwrap().id,
        "officer:counter-7"
    );
    assert_eq!(page.records[0].claims, vec!["birth_date", "age_over_18"]);
    let export = wallet.export_history().await.unwrap();
    assert!(!export.contains(&sample.full_name));
    assert!(!export.contains(&sample.id_number));
    assert!(recorder.events().iter().any(|e| matches!(
        e,
        Event::WalletStateChanged {
            state: WalletState::Active
        }
    )));
    assert!(
        recorder
            .events()
            .iter()
            .filter(|e| matches!(e, Event::HistoryRecorded { .. }))
            .count()
            >= 3
    );

    // Nothing of the citizen is readable on disk.
    for needle in [sample.full_name.as_str(), sample.id_number.as_str()] {
        assert_eq!(files_containing(dir.path(), needle), Vec::<String>::new());
    }

    // The state survives a restart (every handle on the store is dropped first).
    drop((wallet, citizen, _subscription));
    let reopened = open_wallet(&portal, dir.path()).await;
    assert_eq!(
        reopened.wallet().state().await.unwrap(),
        WalletState::Active
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_credential_cannot_be_presented_and_verifiers_refuse_it() {
    let portal = start_portal("revocation").await;
    let dir = tempfile::tempdir().unwrap();
    let id_number = "079201000777";
    let citizen = activated(&portal, dir.path(), id_number).await;
    let wallet = citizen.wallet();
    let officer_dir = tempfile::tempdir().unwrap();
    let officer = open_wallet(&portal, officer_dir.path()).await;

    // A QR made while valid ...
    let qr = wallet
        .identity_qr(IdentityQrRequest {
            pin: PIN.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    // ... is refused once the issuer revokes the credential.
    portal
        .sandbox
        .set_credential_status(id_number, "revoked")
        .unwrap();
    assert_eq!(
        officer
            .verifier()
            .verify_identity_qr(&qr.text, None)
            .await
            .unwrap_err(),
        IdentityQrError::Revoked
    );
    let status = wallet.refresh_status(true).await.unwrap().unwrap();
    assert_eq!(status.status, CredentialStatus::Revoked);
    assert!(matches!(
        wallet
            .identity_qr(IdentityQrRequest {
                pin: PIN.into(),
                ..Default::default()
            })
            .await,
        Err(WalletError::Revoked)
    ));

    // Suspension is reported as such, and lifting it makes the credential usable again.
    portal
        .sandbox
        .set_credential_status(id_number, "suspended")
        .unwrap();
    let status = wallet.refresh_status(true).await.unwrap().unwrap();
    assert_eq!(status.status, CredentialStatus::Suspended);
    portal
        .sandbox
        .set_credential_status(id_number, "valid")
        .unwrap();
    let status = wallet.refresh_status(true).await.unwrap().unwrap();
    assert_eq!(status.status, CredentialStatus::Valid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_pins_lock_the_wallet_and_the_lockout_is_recorded_once() {
    let portal = start_portal("lockout").await;
    let dir = tempfile::tempdir().unwrap();
    let id_number = "001190000555";
    let citizen = activated(&portal, dir.path(), id_number).await;
    let wallet = citizen.wallet();
    for _ in 0..4 {
        assert!(matches!(
            wallet.verify_pin("135790").await,
            Err(WalletError::Pin(
                citizen_core::wallet::pin::PinError::Wrong { .. }
            ))
        ));
    }
    assert!(matches!(
        wallet.verify_pin("135790").await,
        Err(WalletError::Pin(
            citizen_core::wallet::pin::PinError::Locked { .. }
        ))
    ));
    assert!(matches!(
        wallet.state().await.unwrap(),
        WalletState::Locked { .. }
    ));
    // While locked, even the right PIN is refused and no QR is made.
    assert!(
        wallet
            .identity_qr(IdentityQrRequest {
                pin: PIN.into(),
                ..Default::default()
            })
            .await
            .is_err()
    );
    let lockouts = wallet
        .history_page(None, None, 50)
        .await
        .unwrap()
        .records
        .into_iter()
        .filter(|r| r.kind == HistoryKind::PinLockout)
        .count();
    assert_eq!(lockouts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_equal_to_the_birth_date_is_refused_after_issuance_without_losing_the_credential() {
    let portal = start_portal("birth-date-pin").await;
    let dir = tempfile::tempdir().unwrap();
    let sample = EnrollmentRequest::sample("001090067890"); // born 1990-05-17
    let enrollment = portal.sandbox.enroll(&sample).unwrap();
    let citizen = open_wallet(&portal, dir.path()).await;
    let wallet = citizen.wallet();
    let refused = wallet
        .activate(request(
            sample.id_number.clone(),
            enrollment.activation_code,
            "170590",
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, WalletError::ChooseAnotherPin(_)),
        "{refused:?}"
    );
    assert_eq!(wallet.state().await.unwrap(), WalletState::NotActivated);
    wallet.complete_activation(PIN).await.unwrap();
    assert_eq!(wallet.state().await.unwrap(), WalletState::Active);
}

/// The attacks a verifier must stop: a QR from a forged issuer key, a tampered disclosure, an
/// expired QR, a QR for a website, garbage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_tampered_and_stale_identity_qrs_are_refused() {
    use citizen_core::jose::SoftwareSigner;
    use citizen_core::sdjwt::{self, ClaimPath, IssueOptions, KeyBindingParams, Limits, SdJwt};
    use serde_json::json;

    let portal = start_portal("attacks").await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = activated(&portal, dir.path(), "001090099999").await;
    let officer_dir = tempfile::tempdir().unwrap();
    let officer = open_wallet(&portal, officer_dir.path()).await;
    let verifier = officer.verifier();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;

    // A forger's issuer key, claiming to be the sandbox issuer under a real-looking kid.
    let forger = SoftwareSigner::generate().unwrap();
    let holder = SoftwareSigner::generate().unwrap();
    let payload = json!({
        "iss": portal.sandbox.base_url, "iat": now, "exp": now + 3600,
        "vct": citizen_core::openid4vci::PID_VCT, "full_name": "Kẻ Giả Mạo",
    });
    let issued = sdjwt::issue(
        payload.as_object().unwrap(),
        &IssueOptions {
            disclosable: vec![ClaimPath::claim("full_name")],
            holder_key: Some(holder.public_key().clone()),
            typ: Some(sdjwt::SD_JWT_VC_TYP.into()),
            kid: Some(portal.sandbox.trust_anchor_kid.clone()),
            decoys_per_container: 0,
        },
        &forger,
    )
    .unwrap();
    let forged = SdJwt::parse(&issued.sd_jwt, &Limits::default())
        .unwrap()
        .present(
            &[ClaimPath::claim("full_name")],
            Some(&KeyBindingParams {
                audience: id1::IN_PERSON_AUDIENCE,
                nonce: "n",
                issued_at: now,
                signer: &holder,
            }),
        )
        .unwrap();
    assert_eq!(
        verifier
            .verify_identity_qr(&id1::pack(&forged).unwrap(), None)
            .await
            .unwrap_err(),
        IdentityQrError::UntrustedIssuer
    );

    // A genuine QR with one disclosure swapped for a forged one.
    let genuine = citizen
        .wallet()
        .identity_qr(IdentityQrRequest {
            pin: PIN.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let presentation = id1::unpack(&genuine.text).unwrap();
    let mut parts: Vec<&str> = presentation.split('~').collect();
    let fake = citizen_core::jose::base64url::encode(r#"["c2FsdA","full_name","Kẻ Giả Mạo"]"#);
    parts[1] = &fake;
    let tampered = id1::pack(&parts.join("~")).unwrap();
    assert!(matches!(
        verifier
            .verify_identity_qr(&tampered, None)
            .await
            .unwrap_err(),
        IdentityQrError::Invalid(_)
    ));

    // A QR older than 60 s (plus skew): made with the wallet's own key, dated back.
    let stale = citizen_core::verifier::verify_identity_qr(
        &genuine.text,
        &NoStatusTrust(&officer),
        &|_| unreachable!("refused before status"),
        &citizen_core::verifier::IdentityQrOptions::new(now + 120),
    );
    assert_eq!(stale.unwrap_err(), IdentityQrError::Expired);

    // Garbage never panics.
    for text in ["", "ID1:", "ID1:%%%%", "HC1:ABC", &"ID1:".repeat(2000)] {
        assert!(matches!(
            verifier.verify_identity_qr(text, None).await.unwrap_err(),
            IdentityQrError::Unreadable(_)
        ));
    }
}

/// The trust answers of an open `Citizen`, for calling the pure verifier directly.
struct NoStatusTrust<'a>(&'a Citizen);

impl citizen_core::wallet::IssuerTrust for NoStatusTrust<'_> {
    fn issuer_key(
        &self,
        iss: &str,
        kid: &str,
        at: i64,
    ) -> Result<citizen_core::jose::EcPublicJwk, WalletError> {
        self.0.issuer_trust().issuer_key(iss, kid, at)
    }
    fn may_issue(&self, iss: &str, vct: &str) -> bool {
        self.0.issuer_trust().may_issue(iss, vct)
    }
    fn issuer_name(&self, iss: &str) -> Option<String> {
        self.0.issuer_trust().issuer_name(iss)
    }
    fn relying_party(
        &self,
        client_id: &str,
    ) -> Result<Option<citizen_core::trust_list::RelyingParty>, WalletError> {
        self.0.issuer_trust().relying_party(client_id)
    }
}

/// Collects every log line.
#[derive(Default)]
struct LogRecorder(Mutex<Vec<String>>);

impl LogSink for LogRecorder {
    fn log(&self, record: LogRecord) {
        self.0
            .lock()
            .unwrap()
            .push(format!("{} {}", record.target, record.message));
    }
}

/// No personal data in logs, events or error texts: the whole journey at trace level, with a
/// recording sink, leaves none of the citizen's claim values in any of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journey_logs_no_personal_data() {
    let logs = Arc::new(LogRecorder::default());
    citizen_core::init_logging(LogLevel::Trace, logs.clone());
    let portal = start_portal("no-pii").await;
    let dir = tempfile::tempdir().unwrap();
    let mut sample = EnrollmentRequest::sample("001090054321");
    sample.full_name = "Trần Thị Bích Ngọc".into();
    sample.place_of_origin = "Xã Đông Sơn, Huyện Thủy Nguyên, Hải Phòng".into();
    let enrollment = portal.sandbox.enroll(&sample).unwrap();
    let citizen = open_wallet(&portal, dir.path()).await;
    let events = Arc::new(Recorder::default());
    let _subscription = citizen.subscribe(events.clone());
    let wallet = citizen.wallet();
    let mut errors = Vec::new();
    if let Err(e) = wallet
        .activate(request(sample.id_number.clone(), "AAAA-AAAA", PIN))
        .await
    {
        errors.push(format!("{e} {e:?}"));
    }
    wallet
        .activate(request(
            sample.id_number.clone(),
            enrollment.activation_code.clone(),
            PIN,
        ))
        .await
        .unwrap();
    if let Err(e) = wallet.verify_pin("999990").await {
        errors.push(format!("{e} {e:?}"));
    }
    let qr = wallet
        .identity_qr(IdentityQrRequest {
            pin: PIN.into(),
            claims: citizen_core::openid4vci::pid_claims::ALL
                .iter()
                .map(|c| c.to_string())
                .collect(),
            ..Default::default()
        })
        .await
        .unwrap();
    let officer_dir = tempfile::tempdir().unwrap();
    let officer = open_wallet(&portal, officer_dir.path()).await;
    let verified = officer
        .verifier()
        .verify_identity_qr(&qr.text, None)
        .await
        .unwrap();
    assert_eq!(
        verified.claims.len(),
        citizen_core::openid4vci::pid_claims::ALL.len()
    );
    if let Err(e) = officer.verifier().verify_identity_qr(&qr.text, None).await {
        errors.push(format!("{e} {e:?}"));
    }
    errors.push(format!("{verified:?} {qr:?}"));

    let logged = logs.0.lock().unwrap().join("\n");
    assert!(!logged.is_empty(), "trace logging recorded nothing");
    let events = format!("{:?}", events.events());
    let errors = errors.join("\n");
    for value in [
        sample.full_name.as_str(),
        sample.id_number.as_str(),
        sample.birth_date.as_str(),
        sample.place_of_origin.as_str(),
        sample.place_of_residence.as_str(),
        enrollment.activation_code.as_str(),
        PIN,
    ] {
        for (what, text) in [("logs", &logged), ("events", &events), ("errors", &errors)] {
            assert!(!text.contains(value), "{what} contain a personal value");
        }
    }
}

/// Device keys in memory, outside the store: what a phone's Keystore is to the SDK.
#[derive(Default)]
struct MemoryKeyStore(Mutex<std::collections::HashMap<String, citizen_core::jose::SoftwareSigner>>);

impl citizen_core::KeyStore for MemoryKeyStore {
    fn generate_key(
        &self,
        alias: &str,
        _: citizen_core::KeyPolicy,
    ) -> Result<Vec<u8>, citizen_core::PlatformError> {
        let signer = citizen_core::jose::SoftwareSigner::generate()
            .map_err(|_| citizen_core::PlatformError::KeyUnavailable)?;
        let public = signer.public_key().to_sec1().to_vec();
        self.0.lock().unwrap().insert(alias.into(), signer);
        Ok(public)
    }
    fn public_key(&self, alias: &str) -> Result<Option<Vec<u8>>, citizen_core::PlatformError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .get(alias)
            .map(|s| s.public_key().to_sec1().to_vec()))
    }
    fn sign(&self, alias: &str, message: &[u8]) -> Result<Vec<u8>, citizen_core::PlatformError> {
        use citizen_core::jose::JwsSigner;
        let keys = self.0.lock().unwrap();
        let signer = keys
            .get(alias)
            .ok_or(citizen_core::PlatformError::KeyUnavailable)?;
        signer
            .sign(message)
            .map_err(|_| citizen_core::PlatformError::KeyUnavailable)
    }
    fn delete_key(&self, alias: &str) -> Result<(), citizen_core::PlatformError> {
        self.0.lock().unwrap().remove(alias);
        Ok(())
    }
    fn is_hardware_backed(&self, _: &str) -> Result<bool, citizen_core::PlatformError> {
        Ok(false)
    }
}

/// A platform key store's device key goes with a reset and with a wipe; a declined challenge is a
/// history record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_keys_leave_the_platform_with_reset_and_wipe() {
    let portal = start_portal("device-keys").await;
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(MemoryKeyStore::default());
    let open_with_keys = || async {
        let platform = software_platform(dir.path()).with_key_store(keys.clone());
        let citizen = Citizen::open(wallet_config(&portal, dir.path()), platform)
            .await
            .unwrap();
        citizen.refresh_trust_list().await.unwrap();
        citizen
    };
    let activate = |citizen: &Citizen, id_number: &'static str| {
        let enrollment = portal
            .sandbox
            .enroll(&EnrollmentRequest::sample(id_number))
            .unwrap();
        let wallet = citizen.wallet();
        async move {
            wallet
                .activate(request(id_number, enrollment.activation_code, PIN))
                .await
                .unwrap()
        }
    };

    let citizen = open_with_keys().await;
    activate(&citizen, "001090077001").await;
    assert_eq!(keys.0.lock().unwrap().len(), 1);
    let wallet = citizen.wallet();
    let challenge = citizen
        .verifier()
        .new_challenge("officer:declined", vec!["birth_date".into()])
        .unwrap();
    wallet
        .decline_identity_challenge(&challenge.encode().unwrap())
        .await
        .unwrap();
    let newest = wallet.history_page(None, None, 1).await.unwrap().records;
    assert_eq!(
        (newest[0].kind, newest[0].outcome),
        (HistoryKind::Presentation, HistoryOutcome::Declined)
    );
    assert_eq!(newest[0].claims, vec!["birth_date"]);

    wallet.reset().await.unwrap();
    assert!(keys.0.lock().unwrap().is_empty(), "reset deletes the key");
    assert_eq!(wallet.state().await.unwrap(), WalletState::NotActivated);

    activate(&citizen, "001090077002").await;
    assert_eq!(keys.0.lock().unwrap().len(), 1);
    citizen.wipe().await.unwrap();
    assert!(keys.0.lock().unwrap().is_empty(), "wipe deletes the key");
}

/// Seconds since the epoch, as the SDK counts them.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The store of `dir` on its own, once the `Citizen` that had it is dropped (dropping closes it at
/// once).
async fn open_store_alone(dir: &std::path::Path) -> citizen_core::Store {
    citizen_core::Store::open(dir, Arc::new(citizen_core::SoftwareSealer::in_dir(dir)))
        .await
        .unwrap()
}

/// Moves a running PIN lockout into the past: the clock, not the escalation, is what a test cannot
/// wait for. The counter of wrong PINs is left as the SDK wrote it.
async fn end_lockout(dir: &std::path::Path) {
    let store = open_store_alone(dir).await;
    let moved = store
        .write(|tx| {
            Ok::<_, citizen_core::StoreError>(tx.execute(
                "UPDATE wallet_pin SET locked_until = ?1 WHERE id = 1 AND locked_until IS NOT NULL",
                [unix_now() - 1],
            )?)
        })
        .await
        .unwrap();
    assert_eq!(moved, 1, "a lockout was running");
}

/// What the store holds of a wallet: its activation, credentials, PIN row and the software key
/// store's device keys (the platform key store of these tests).
#[derive(Debug, Clone, PartialEq, Eq)]
struct StoredWallet {
    activation_key_alias: Option<String>,
    /// (id, key alias, the credential as issued)
    credentials: Vec<(String, String, String)>,
    /// (hash, failed attempts, locked until, blocked)
    pin: Option<(Vec<u8>, u32, Option<i64>, bool)>,
    device_keys: Vec<String>,
}

async fn stored_wallet(dir: &std::path::Path) -> StoredWallet {
    let store = open_store_alone(dir).await;
    store
        .read(|conn| {
            let activation_key_alias = conn
                .prepare("SELECT key_alias FROM wallet_activation")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<Vec<_>, _>>()?
                .pop();
            let credentials = conn
                .prepare("SELECT id, key_alias, sd_jwt FROM wallet_credentials ORDER BY id")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            let pin = conn
                .prepare("SELECT hash, failed_attempts, locked_until, blocked FROM wallet_pin")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<Result<Vec<_>, _>>()?
                .pop();
            let device_keys = conn
                .prepare("SELECT alias FROM device_keys ORDER BY alias")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, citizen_core::StoreError>(StoredWallet {
                activation_key_alias,
                credentials,
                pin,
                device_keys,
            })
        })
        .await
        .unwrap()
}

/// The (kind, outcome) of every history record, newest first.
async fn history_kinds(citizen: &Citizen) -> Vec<(HistoryKind, HistoryOutcome)> {
    citizen
        .wallet()
        .history_page(None, None, 50)
        .await
        .unwrap()
        .records
        .iter()
        .map(|r| (r.kind, r.outcome))
        .collect()
}

/// Eight wrong PINs in a row block the wallet through the SDK's own escalation (60 s, 5 min and 1 h
/// lockouts first; only the clock is moved, in the store, between them). Blocked, nothing that
/// needs the PIN works, not even the right PIN. A failed re-activation leaves the blocked wallet
/// exactly as it was; a new enrolment code re-activates it with a new credential bound to a new
/// device key, the old key gone and the PIN counter reset.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_wallet_comes_back_only_through_a_new_activation() {
    use citizen_core::wallet::pin::{FREE_ATTEMPTS, PinError};
    const WRONG_PIN: &str = "135790";
    const NEW_PIN: &str = "274913";

    let portal = start_portal("reactivation").await;
    let dir = tempfile::tempdir().unwrap();
    let sample = EnrollmentRequest::sample("001090031415");
    let id_number = sample.id_number.clone();
    let first = portal.sandbox.enroll(&sample).unwrap();
    let citizen = open_wallet(&portal, dir.path()).await;
    let old_summary = citizen
        .wallet()
        .activate(request(
            id_number.clone(),
            first.activation_code.clone(),
            PIN,
        ))
        .await
        .unwrap();
    let wallet = citizen.wallet();

    // Four wrong PINs count down; the fifth locks for a minute.
    for left in (1..FREE_ATTEMPTS).rev() {
        let wrong = wallet.verify_pin(WRONG_PIN).await.unwrap_err();
        assert!(
            matches!(wrong, WalletError::Pin(PinError::Wrong { attempts_before_lockout }) if attempts_before_lockout == left),
            "{wrong:?}"
        );
    }
    let mut lock_periods = Vec::new();
    let before = unix_now();
    match wallet.verify_pin(WRONG_PIN).await {
        Err(WalletError::Pin(PinError::Locked { until })) => lock_periods.push((before, until)),
        other => panic!("the fifth wrong PIN locks: {other:?}"),
    }
    assert!(matches!(
        wallet.state().await.unwrap(),
        WalletState::Locked { .. }
    ));
    drop((wallet, citizen));

    // Each wrong PIN after a lockout ran out locks longer: 5 minutes, then an hour.
    for _ in 0..2 {
        end_lockout(dir.path()).await;
        let citizen = open_wallet(&portal, dir.path()).await;
        let wallet = citizen.wallet();
        assert_eq!(wallet.state().await.unwrap(), WalletState::Active);
        let before = unix_now();
        match wallet.verify_pin(WRONG_PIN).await {
            Err(WalletError::Pin(PinError::Locked { until })) => lock_periods.push((before, until)),
            other => panic!("a wrong PIN right after a lockout locks again: {other:?}"),
        }
        assert!(matches!(
            wallet.state().await.unwrap(),
            WalletState::Locked { .. }
        ));
        // While locked, the right PIN is refused too.
        assert!(matches!(
            wallet.verify_pin(PIN).await,
            Err(WalletError::Pin(PinError::Locked { .. }))
        ));
    }
    let lengths: Vec<i64> = lock_periods
        .iter()
        .map(|(before, until)| until - before)
        .collect();
    for (length, expected) in lengths.iter().zip([60, 5 * 60, 60 * 60]) {
        assert!(
            (expected..=expected + 5).contains(length),
            "lockouts {lengths:?}"
        );
    }

    // The eighth wrong PIN in a row blocks.
    end_lockout(dir.path()).await;
    let citizen = open_wallet(&portal, dir.path()).await;
    let recorder = Arc::new(Recorder::default());
    let subscription = citizen.subscribe(recorder.clone());
    let wallet = citizen.wallet();
    assert!(matches!(
        wallet.verify_pin(WRONG_PIN).await,
        Err(WalletError::Pin(PinError::Blocked))
    ));
    assert_eq!(wallet.state().await.unwrap(), WalletState::Blocked);
    assert_eq!(
        citizen.status().await.unwrap().wallet_state,
        WalletState::Blocked
    );
    assert!(recorder.events().iter().any(|e| matches!(
        e,
        Event::WalletStateChanged {
            state: WalletState::Blocked
        }
    )));
    // Blocked: the right PIN fails, and no identity QR is made, one-way or two-way.
    assert!(matches!(
        wallet.verify_pin(PIN).await,
        Err(WalletError::Pin(PinError::Blocked))
    ));
    assert!(matches!(
        wallet
            .identity_qr(IdentityQrRequest {
                pin: PIN.into(),
                ..Default::default()
            })
            .await,
        Err(WalletError::Pin(PinError::Blocked))
    ));
    let challenge = citizen
        .verifier()
        .new_challenge("officer:blocked", vec!["birth_date".into()])
        .unwrap();
    assert!(matches!(
        wallet
            .identity_qr(IdentityQrRequest {
                pin: PIN.into(),
                challenge: Some(challenge.encode().unwrap()),
                ..Default::default()
            })
            .await,
        Err(WalletError::Pin(PinError::Blocked))
    ));
    assert!(matches!(
        wallet.change_pin(PIN, NEW_PIN).await,
        Err(WalletError::Pin(PinError::Blocked))
    ));
    // The credential is still there (only a new activation replaces it).
    assert_eq!(
        wallet.credential().await.unwrap(),
        Some(old_summary.clone())
    );
    // What the SDK records: one lockout record for each attempt that caused a lockout, the block
    // included (the same kind); refused attempts while locked or blocked add none.
    let history = history_kinds(&citizen).await;
    let lockout = (HistoryKind::PinLockout, HistoryOutcome::Failed);
    let issued = (HistoryKind::Issuance, HistoryOutcome::Completed);
    assert_eq!(history, vec![lockout, lockout, lockout, lockout, issued]);
    drop((wallet, subscription, citizen));

    let blocked = stored_wallet(dir.path()).await;
    let old_alias = blocked.activation_key_alias.clone().unwrap();
    assert_eq!(blocked.device_keys, vec![old_alias.clone()]);
    assert_eq!(blocked.credentials.len(), 1);
    assert_eq!(
        (
            blocked.credentials[0].0.as_str(),
            blocked.credentials[0].1.as_str()
        ),
        (old_summary.id.as_str(), old_alias.as_str())
    );
    let (_, failed, locked_until, is_blocked) = blocked.pin.clone().unwrap();
    assert_eq!((failed, is_blocked), (8, true));
    assert_eq!(locked_until, None);

    // A re-activation that fails (the used code, a wrong code) leaves the blocked wallet as it was.
    let citizen = open_wallet(&portal, dir.path()).await;
    let wallet = citizen.wallet();
    for code in [first.activation_code.as_str(), "AAAA-AAAA"] {
        let refused = wallet
            .activate(request(id_number.clone(), code, NEW_PIN))
            .await
            .unwrap_err();
        assert!(
            matches!(refused, WalletError::ActivationCodeRejected),
            "{refused:?}"
        );
        assert_eq!(wallet.state().await.unwrap(), WalletState::Blocked);
        assert_eq!(
            wallet.credential().await.unwrap(),
            Some(old_summary.clone())
        );
    }
    let failed_issuance = (HistoryKind::Issuance, HistoryOutcome::Failed);
    assert_eq!(
        history_kinds(&citizen).await[..3],
        [failed_issuance, failed_issuance, lockout]
    );
    drop((wallet, citizen));
    assert_eq!(stored_wallet(dir.path()).await, blocked);

    // A new enrolment code for the same citizen: a new credential on a new device key.
    let second = portal.sandbox.enroll(&sample).unwrap();
    let citizen = open_wallet(&portal, dir.path()).await;
    let wallet = citizen.wallet();
    let new_summary = wallet
        .activate(request(id_number.clone(), second.activation_code, NEW_PIN))
        .await
        .unwrap();
    assert_ne!(new_summary.id, old_summary.id);
    assert_eq!(wallet.state().await.unwrap(), WalletState::Active);
    assert_eq!(
        wallet.credential().await.unwrap(),
        Some(new_summary.clone())
    );
    // The counter starts over: a wrong PIN (the old one) has every attempt but itself left.
    let wrong = wallet.verify_pin(PIN).await.unwrap_err();
    assert!(
        matches!(wrong, WalletError::Pin(PinError::Wrong { attempts_before_lockout }) if attempts_before_lockout == FREE_ATTEMPTS - 1),
        "{wrong:?}"
    );
    // The new PIN makes an identity QR that the officer's verifier accepts.
    let qr = wallet
        .identity_qr(IdentityQrRequest {
            pin: NEW_PIN.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let officer_dir = tempfile::tempdir().unwrap();
    let officer = open_wallet(&portal, officer_dir.path()).await;
    let verified = officer
        .verifier()
        .verify_identity_qr(&qr.text, None)
        .await
        .unwrap();
    assert_eq!(verified.claims["id_number"], id_number.as_str());
    assert_eq!(verified.claims["full_name"], sample.full_name.as_str());
    assert_eq!(verified.issuer, portal.sandbox.base_url);
    assert_eq!(verified.status.status, CredentialStatus::Valid);
    assert_eq!(
        history_kinds(&citizen).await[..4],
        [
            (HistoryKind::Presentation, HistoryOutcome::Completed),
            issued,
            failed_issuance,
            failed_issuance
        ]
    );
    drop((wallet, citizen));

    let active = stored_wallet(dir.path()).await;
    let new_alias = active.activation_key_alias.clone().unwrap();
    assert_ne!(new_alias, old_alias);
    assert_eq!(
        active.device_keys,
        vec![new_alias.clone()],
        "the old key is gone"
    );
    assert_eq!(active.credentials.len(), 1);
    assert_eq!(
        (
            active.credentials[0].0.as_str(),
            active.credentials[0].1.as_str()
        ),
        (new_summary.id.as_str(), new_alias.as_str())
    );
    let (hash, failed, locked_until, is_blocked) = active.pin.unwrap();
    assert_eq!((failed, locked_until, is_blocked), (0, None, false));
    assert_ne!(hash, blocked.pin.unwrap().0, "the new PIN replaced the old");
}
