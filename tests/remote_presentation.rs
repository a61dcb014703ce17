//! Remote presentation end to end: the wallet answers the sandbox relying party's OpenID4VP
//! requests over real HTTPS, from the real SQLCipher store, and the relying party verifies what
//! arrived. Consent with a subset, encryption, declining, the PIN, and what the wallet must
//! refuse before the citizen ever sees a request.

use citizen_core::openid4vp::{AuthorizationLink, Openid4vpError};
use citizen_core::wallet::history::{HistoryKind, HistoryOutcome};
use citizen_core::wallet::pin::PinError;
use citizen_core::wallet::remote::DisclosureApproval;
use citizen_core::{Citizen, WalletError};
use citizen_e2e::*;
use citizen_sandbox::relying_party::{
    Misbehaviour, PresentationRequestCreated, PresentationRequestSpec,
};
use citizen_sandbox::trust::{SAMPLE_RP_CLIENT_ID, SAMPLE_RP_DISPLAY_NAME, SAMPLE_RP_PURPOSE};

const ID_NUMBER: &str = "001090012345";

fn rp_request(
    portal: &Portal,
    claims: &[&str],
    optional: &[&str],
    encrypted: bool,
) -> PresentationRequestCreated {
    portal
        .sandbox
        .rp_request(PresentationRequestSpec {
            claims: claims.iter().map(|c| c.to_string()).collect(),
            optional_claims: optional.iter().map(|c| c.to_string()).collect(),
            encrypted,
            ..Default::default()
        })
        .unwrap()
}

/// A fresh, validly signed request carrying the `nonce` and `state` of request `id`.
fn replay_of(portal: &Portal, id: &str) -> PresentationRequestCreated {
    portal
        .sandbox
        .rp_request(PresentationRequestSpec {
            claims: vec!["full_name".into()],
            replay_of: Some(id.into()),
            ..Default::default()
        })
        .unwrap()
}

/// What the relying party concluded of request `id` so far.
fn rp_state(portal: &Portal, id: &str) -> String {
    portal.sandbox.rp_result(id).unwrap().unwrap().state
}

fn approval(optional: &[&str]) -> DisclosureApproval {
    DisclosureApproval {
        pin: PIN.into(),
        optional_claims: optional.iter().map(|c| c.to_string()).collect(),
    }
}

async fn presentations(citizen: &Citizen) -> Vec<(HistoryOutcome, Vec<String>, Option<String>)> {
    let page = citizen.wallet().history_page(None, None, 50).await.unwrap();
    page.records
        .into_iter()
        .filter(|r| r.kind == HistoryKind::Presentation)
        .map(|r| (r.outcome, r.claims, r.counterparty.map(|c| c.id)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relying_party_receives_exactly_what_the_citizen_approved() {
    let portal = start_portal("remote").await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = activated(&portal, dir.path(), ID_NUMBER).await;
    let wallet = citizen.wallet();

    // Plain direct_post: one required claim, one optional the citizen leaves out.
    let created = rp_request(&portal, &["full_name"], &["birth_date"], false);
    let consent = wallet.prepare_disclosure(&created.link).await.unwrap();
    assert_eq!(consent.relying_party.id, SAMPLE_RP_CLIENT_ID);
    assert_eq!(consent.relying_party.display_name, SAMPLE_RP_DISPLAY_NAME);
    assert_eq!(consent.purpose.as_deref(), Some(SAMPLE_RP_PURPOSE));
    assert_eq!(consent.last_shared_at, None);
    assert!(!consent.encrypted_response);
    let shown: Vec<(&str, bool)> = consent
        .claims
        .iter()
        .map(|c| (c.name.as_str(), c.required))
        .collect();
    assert_eq!(shown, [("full_name", true), ("birth_date", false)]);
    assert_eq!(consent.claims[0].value, "Nguyễn Văn An");
    // Nothing has reached the relying party yet.
    assert_eq!(rp_state(&portal, &created.id), "pending");

    let receipt = wallet
        .approve_disclosure(&consent.request_id, approval(&[]))
        .await
        .unwrap();
    assert_eq!(receipt.disclosed, ["full_name"]);
    let redirect = receipt
        .redirect_uri
        .expect("the sandbox answers a redirect");
    assert!(redirect.starts_with(&portal.sandbox.base_url), "{redirect}");
    let result = portal.sandbox.rp_result(&created.id).unwrap().unwrap();
    assert_eq!(result.state, "completed", "{:?}", result.error);
    assert_eq!(
        result.claims.keys().collect::<Vec<_>>(),
        ["full_name"],
        "only the approved claims arrive"
    );
    assert!(result.key_binding);
    assert_eq!(result.status.as_deref(), Some("valid"));

    // The handle is spent.
    assert!(matches!(
        wallet
            .approve_disclosure(&consent.request_id, approval(&[]))
            .await,
        Err(WalletError::UnknownDisclosure)
    ));

    // direct_post.jwt, with the optional claim approved; the relying party is known now.
    let created = rp_request(&portal, &["full_name"], &["birth_date", "id_number"], true);
    let consent = wallet.prepare_disclosure(&created.link).await.unwrap();
    assert!(consent.encrypted_response);
    assert_eq!(consent.claims.len(), 3);
    assert!(consent.last_shared_at.is_some());
    let receipt = wallet
        .approve_disclosure(&consent.request_id, approval(&["birth_date"]))
        .await
        .unwrap();
    assert_eq!(receipt.disclosed, ["full_name", "birth_date"]);
    let result = portal.sandbox.rp_result(&created.id).unwrap().unwrap();
    assert_eq!(result.state, "completed", "{:?}", result.error);
    let mut names: Vec<_> = result.claims.keys().cloned().collect();
    names.sort();
    assert_eq!(names, ["birth_date", "full_name"]);

    let rp = Some(SAMPLE_RP_CLIENT_ID.to_string());
    assert_eq!(
        presentations(&citizen).await,
        [
            (
                HistoryOutcome::Completed,
                vec!["full_name".to_string(), "birth_date".to_string()],
                rp.clone()
            ),
            (HistoryOutcome::Completed, vec!["full_name".to_string()], rp),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declining_a_wrong_pin_and_a_choice_not_offered() {
    let portal = start_portal("remote-decline").await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = activated(&portal, dir.path(), ID_NUMBER).await;
    let wallet = citizen.wallet();

    let created = rp_request(&portal, &["full_name", "age_over_18"], &[], false);
    let consent = wallet.prepare_disclosure(&created.link).await.unwrap();
    // A claim that is not optional in this request cannot be "chosen".
    assert!(matches!(
        wallet
            .approve_disclosure(&consent.request_id, approval(&["id_number"]))
            .await,
        Err(WalletError::ClaimChoiceNotOffered)
    ));
    // A wrong PIN sends nothing.
    let wrong = wallet
        .approve_disclosure(
            &consent.request_id,
            DisclosureApproval {
                pin: "000000".into(),
                optional_claims: vec![],
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(wrong, WalletError::Pin(PinError::Wrong { .. })),
        "{wrong:?}"
    );
    assert_eq!(rp_state(&portal, &created.id), "pending");

    wallet
        .decline_disclosure(&consent.request_id)
        .await
        .unwrap();
    let result = portal.sandbox.rp_result(&created.id).unwrap().unwrap();
    assert_eq!(result.state, "declined");
    assert_eq!(result.error.as_deref(), Some("access_denied"));
    assert!(result.claims.is_empty());
    assert!(matches!(
        wallet
            .approve_disclosure(&consent.request_id, approval(&[]))
            .await,
        Err(WalletError::UnknownDisclosure)
    ));
    assert_eq!(
        presentations(&citizen).await,
        [(
            HistoryOutcome::Declined,
            vec!["full_name".to_string(), "age_over_18".to_string()],
            Some(SAMPLE_RP_CLIENT_ID.to_string())
        )]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_the_trust_list_does_not_vouch_for_are_refused_before_fetching() {
    let portal = start_portal("remote-untrusted").await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = activated(&portal, dir.path(), ID_NUMBER).await;
    let wallet = citizen.wallet();
    let created = rp_request(&portal, &["full_name"], &[], false);
    let link = AuthorizationLink::parse(&created.link).unwrap();
    let fetches = || {
        portal
            .sandbox
            .requests_for(link.request_uri.path())
            .unwrap()
    };

    // A client the trust list does not name.
    let mut unknown = link.clone();
    unknown.client_id = "rp.unknown.example".into();
    assert!(matches!(
        wallet.prepare_disclosure(&unknown.to_uri()).await,
        Err(WalletError::UnknownRelyingParty)
    ));
    // A trusted client's name on a request hosted elsewhere.
    let mut elsewhere = link.clone();
    elsewhere
        .request_uri
        .set_host(Some("attacker.example"))
        .unwrap();
    assert!(matches!(
        wallet.prepare_disclosure(&elsewhere.to_uri()).await,
        Err(WalletError::RequestRefused(
            Openid4vpError::RequestUriNotAllowed
        ))
    ));
    // Not a request at all.
    assert!(matches!(
        wallet.prepare_disclosure("https://example.org/").await,
        Err(WalletError::RequestRefused(_))
    ));
    assert_eq!(fetches(), 0);
    assert!(presentations(&citizen).await.is_empty());
    // The genuine link is fetched, once.
    wallet.prepare_disclosure(&created.link).await.unwrap();
    assert_eq!(fetches(), 1);
}

/// The attacks of the issue, each served by the real sandbox over HTTPS: the wallet refuses the
/// request before the consent screen, sends nothing, and records nothing as shared.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malicious_requests_are_refused_and_nothing_is_sent() {
    let portal = start_portal("remote-attacks").await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = activated(&portal, dir.path(), ID_NUMBER).await;
    let wallet = citizen.wallet();
    let misbehaving = |misbehave| {
        portal
            .sandbox
            .rp_request(PresentationRequestSpec {
                claims: vec!["full_name".into()],
                misbehave: Some(misbehave),
                ..Default::default()
            })
            .unwrap()
    };
    type Expected = fn(&Openid4vpError) -> bool;
    let cases: [(Misbehaviour, Expected); 6] = [
        (Misbehaviour::ForeignKey, |e| {
            matches!(e, Openid4vpError::Jws(_))
        }),
        (Misbehaviour::ClaimNotAllowed, |e| {
            matches!(e, Openid4vpError::ClaimNotAllowed(_))
        }),
        (Misbehaviour::Expired, |e| {
            matches!(e, Openid4vpError::Expired)
        }),
        (Misbehaviour::ResponseUriElsewhere, |e| {
            matches!(e, Openid4vpError::ResponseUriNotAllowed)
        }),
        (Misbehaviour::Oversized, |e| {
            matches!(e, Openid4vpError::TooLarge { .. })
        }),
        (Misbehaviour::WrongWalletNonce, |e| {
            matches!(e, Openid4vpError::WalletNonceMismatch)
        }),
    ];
    for (misbehave, expected) in cases {
        let created = misbehaving(misbehave);
        match wallet.prepare_disclosure(&created.link).await {
            Err(WalletError::RequestRefused(refusal)) => {
                assert!(expected(&refusal), "{misbehave:?}: {refusal:?}")
            }
            other => panic!("{misbehave:?}: expected a refusal, got {other:?}"),
        }
        assert_eq!(rp_state(&portal, &created.id), "pending", "{misbehave:?}");
    }
    assert!(presentations(&citizen).await.is_empty());

    // A replay: a fresh, validly signed object with the nonce and state of a request the
    // citizen already answered.
    let original = rp_request(&portal, &["full_name"], &[], false);
    let consent = wallet.prepare_disclosure(&original.link).await.unwrap();
    wallet
        .approve_disclosure(&consent.request_id, approval(&[]))
        .await
        .unwrap();
    let replay = replay_of(&portal, &original.id);
    assert!(matches!(
        wallet.prepare_disclosure(&replay.link).await,
        Err(WalletError::RequestReplayed)
    ));
    assert_eq!(rp_state(&portal, &replay.id), "pending");
    // A declined request cannot be replayed either.
    let declined = rp_request(&portal, &["full_name"], &[], false);
    let consent = wallet.prepare_disclosure(&declined.link).await.unwrap();
    wallet
        .decline_disclosure(&consent.request_id)
        .await
        .unwrap();
    let replay = replay_of(&portal, &declined.id);
    assert!(matches!(
        wallet.prepare_disclosure(&replay.link).await,
        Err(WalletError::RequestReplayed)
    ));
    // Only the genuine answers are in the history.
    let outcomes: Vec<HistoryOutcome> = presentations(&citizen)
        .await
        .into_iter()
        .map(|(outcome, _, _)| outcome)
        .collect();
    assert_eq!(
        outcomes,
        [HistoryOutcome::Declined, HistoryOutcome::Completed]
    );
}

/// A relying party learns a revocation from the issuer's signed status list even when the
/// wallet's cached copy predates it; once the wallet has the new list, it refuses to present.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_reaches_the_relying_party_and_then_the_wallet() {
    let portal = start_portal("remote-revoked").await;
    let dir = tempfile::tempdir().unwrap();
    let citizen = activated(&portal, dir.path(), ID_NUMBER).await;
    let wallet = citizen.wallet();
    wallet.refresh_status(true).await.unwrap();
    portal
        .sandbox
        .set_credential_status(ID_NUMBER, "revoked")
        .unwrap();

    // The wallet's cached list still says valid: it presents, and the relying party sees the
    // revocation in the signed list.
    let created = rp_request(&portal, &["full_name"], &[], false);
    let consent = wallet.prepare_disclosure(&created.link).await.unwrap();
    wallet
        .approve_disclosure(&consent.request_id, approval(&[]))
        .await
        .unwrap();
    let result = portal.sandbox.rp_result(&created.id).unwrap().unwrap();
    assert_eq!(result.status.as_deref(), Some("revoked"));

    // With the new list the wallet refuses before the citizen is even asked.
    wallet.refresh_status(true).await.unwrap();
    let created = rp_request(&portal, &["full_name"], &[], false);
    assert!(matches!(
        wallet.prepare_disclosure(&created.link).await,
        Err(WalletError::Revoked)
    ));
    assert_eq!(rp_state(&portal, &created.id), "pending");
}
