//! EU Digital COVID Certificates end to end: the sandbox's health signer mints an `HC1:` code,
//! the SDK's wallet verifies it against the trust list fetched over real HTTPS and keeps it in
//! the encrypted store, across a reopen; tampered codes and codes of a signer the list does not
//! name are refused and nothing is stored; removal; the officer's verifier checks the same code
//! offline.

use citizen_core::WalletError;
use citizen_core::dcc::{DccError, Entry, EntryKind};
use citizen_core::signed_qr::SignedQrError;
use citizen_e2e::*;
use citizen_sandbox::health::MintDccRequest;

fn request() -> MintDccRequest {
    MintDccRequest {
        family_name: Some("Trần".into()),
        given_name: Some("Thị Bình".into()),
        date_of_birth: Some("1985-03-04".into()),
        ..MintDccRequest::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wallet_keeps_a_verified_dcc_and_refuses_tampered_and_untrusted_ones() {
    let portal = start_portal("Health portal").await;
    let dir = tempfile::tempdir().unwrap();
    let text = portal.sandbox.mint_dcc(&request()).unwrap();
    assert!(text.starts_with("HC1:"));

    let citizen = open(anchored_config(&portal, dir.path())).await.unwrap();
    let wallet = citizen.wallet();
    // No trust list yet: nothing can be verified, nothing is stored.
    assert!(matches!(
        wallet.add_health_certificate(&text).await,
        Err(WalletError::NoTrustList)
    ));
    citizen.refresh_trust_list().await.unwrap();
    let summary = wallet.add_health_certificate(&text).await.unwrap();
    assert_eq!(summary.kind, EntryKind::Vaccination);
    assert_eq!(summary.issuer_country.as_deref(), Some("VN"));
    assert!(summary.expires_at > summary.issued_at);
    // Adding the same code again keeps one copy.
    assert_eq!(wallet.add_health_certificate(&text).await.unwrap(), summary);
    assert_eq!(
        wallet.health_certificates().await.unwrap(),
        vec![summary.clone()]
    );
    let debug = format!("{summary:?}");
    assert!(
        !debug.contains("TRAN") && !debug.contains("1985"),
        "{debug}"
    );

    // A changed character, or a code whose signer is not in this portal's list, is refused.
    let tampered = {
        let mut bytes = text.clone().into_bytes();
        let at = bytes.len() / 2;
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).unwrap()
    };
    assert!(matches!(
        wallet.add_health_certificate(&tampered).await,
        Err(WalletError::HealthCertificateRejected(_))
    ));
    let other_portal = start_portal("Another health portal").await;
    let foreign = other_portal.sandbox.mint_dcc(&request()).unwrap();
    assert!(matches!(
        wallet.add_health_certificate(&foreign).await,
        Err(WalletError::HealthCertificateRejected(DccError::SignedQr(
            SignedQrError::UnknownKey
        )))
    ));
    let expired = portal
        .sandbox
        .mint_dcc(&MintDccRequest {
            valid_for_secs: Some(-10),
            ..request()
        })
        .unwrap();
    assert!(matches!(
        wallet.add_health_certificate(&expired).await,
        Err(WalletError::HealthCertificateRejected(DccError::Expired))
    ));
    assert_eq!(wallet.health_certificates().await.unwrap().len(), 1);

    // The officer's verifier reads the same code offline.
    let checked = citizen.verifier().verify_health_certificate(&text).unwrap();
    assert_eq!(checked.certificate.name.family_standardised, "TRN");
    assert!(
        citizen
            .verifier()
            .verify_health_certificate(&foreign)
            .is_err()
    );

    // It survives a reopen (the trust list comes from the store), and the database file holds
    // neither the name nor the code in the clear.
    drop(wallet);
    drop(citizen);
    assert!(files_containing(dir.path(), "Trần").is_empty());
    assert!(files_containing(dir.path(), &text[..40]).is_empty());
    let citizen = open(anchored_config(&portal, dir.path())).await.unwrap();
    let wallet = citizen.wallet();
    assert_eq!(
        wallet.health_certificates().await.unwrap(),
        vec![summary.clone()]
    );
    let kept = wallet
        .health_certificate(&summary.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.text.expose(), &text);
    assert!(!format!("{kept:?}").contains("HC1:"));
    assert_eq!(kept.certificate.name.family.as_deref(), Some("Trần"));
    assert_eq!(kept.certificate.date_of_birth, "1985-03-04");
    assert!(matches!(
        kept.certificate.entries.as_slice(),
        [Entry::Vaccination(v)] if v.dose_number == 2 && v.country == "VN"
    ));

    assert!(wallet.remove_health_certificate(&summary.id).await.unwrap());
    assert!(!wallet.remove_health_certificate(&summary.id).await.unwrap());
    assert!(wallet.health_certificates().await.unwrap().is_empty());
    assert!(
        wallet
            .health_certificate(&summary.id)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trust_list_names_the_sandbox_health_signer_by_its_certificate() {
    let portal = start_portal("Health route portal").await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = open(anchored_config(&portal, dir.path())).await.unwrap();
    citizen.refresh_trust_list().await.unwrap();
    let list = citizen.trust_list().unwrap();
    assert_eq!(list.health_signers.len(), 1);
    assert_eq!(list.health_signers[0].country, "VN");
    // `POST /v1/test/dcc` over HTTPS, as a test outside the process mints one.
    let http = citizen_core::net::HttpClient::new(&trusting_config(&portal, dir.path())).unwrap();
    let minted: serde_json::Value = http
        .post_json("v1/test/dcc", &serde_json::json!({"given_name": "Lan"}))
        .await
        .unwrap();
    let text = minted["hc1"].as_str().unwrap();
    let verified = citizen.verifier().verify_health_certificate(text).unwrap();
    assert_eq!(
        verified.certificate.name.given_standardised.as_deref(),
        Some("LAN")
    );
    assert_eq!(
        verified.kid,
        list.health_signers[0].certificates[0].kid().to_vec()
    );
}
