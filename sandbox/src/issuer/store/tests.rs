use std::collections::HashSet;

use citizen_core::jose::SoftwareSigner;
use citizen_core::sdjwt::{VerifyOptions, verify};
use citizen_core::status_list::{INVALID, SUSPENDED, VALID};

use super::*;
use crate::enrollment::{EnrollmentRequest, MAX_WRONG_CODES, enroll};

const ISSUER: &str = "https://127.0.0.1:8443/";
/// 2026-11-22T12:00:00Z.
const NOW: i64 = 1_795_348_800;
const ID: &str = "001090012345";

fn conn() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    enrollment::create_tables(&conn).unwrap();
    keys::create_tables(&conn).unwrap();
    create_tables(&conn).unwrap();
    conn
}

/// Enrols `request` and activates a fresh device for it: (activation code, pre-authorised code,
/// device).
fn enrolled_and_activated(
    conn: &Connection,
    request: &EnrollmentRequest,
) -> (String, String, SoftwareSigner) {
    let code = enroll(conn, request, NOW).unwrap().activation_code;
    let device = SoftwareSigner::generate().unwrap();
    let pre_authorized = create_activation(
        conn,
        &request.id_number,
        device.public_key(),
        Some("YXR0"),
        NOW,
    )
    .unwrap();
    (code, pre_authorized, device)
}

fn issued(conn: &Connection, request: &EnrollmentRequest) -> (String, SoftwareSigner) {
    let (code, pre_authorized, device) = enrolled_and_activated(conn, request);
    let token = exchange_code(conn, &pre_authorized, Some(&code), NOW).unwrap();
    let grant = authorize(conn, &token, NOW).unwrap().unwrap();
    (issue_pid(conn, &grant, ISSUER, NOW).unwrap(), device)
}

#[test]
fn the_activation_code_buys_one_access_token() {
    let conn = conn();
    let (code, pre_authorized, device) =
        enrolled_and_activated(&conn, &EnrollmentRequest::sample(ID));

    assert!(matches!(
        exchange_code(&conn, &pre_authorized, None, NOW),
        Err(TokenError::InvalidRequest(_))
    ));
    assert!(matches!(
        exchange_code(&conn, &pre_authorized, Some("AAAA-AAAA"), NOW),
        Err(TokenError::InvalidGrant)
    ));
    assert!(matches!(
        exchange_code(&conn, "not-a-code", Some(&code), NOW),
        Err(TokenError::InvalidGrant)
    ));
    let token = exchange_code(&conn, &pre_authorized, Some(&code), NOW + 1).unwrap();
    assert_eq!(token.len(), 43);

    let grant = authorize(&conn, &token, NOW + 2).unwrap().unwrap();
    assert_eq!(&grant.device_key, device.public_key());
    assert_eq!(grant.record, EnrollmentRequest::sample(ID));
    assert!(
        authorize(&conn, &token, NOW + 1 + ACCESS_TOKEN_TTL_SECS)
            .unwrap()
            .is_none()
    );
    assert!(authorize(&conn, "forged", NOW).unwrap().is_none());

    // Used: neither the pre-authorised code nor the activation code works again.
    assert!(matches!(
        exchange_code(&conn, &pre_authorized, Some(&code), NOW + 3),
        Err(TokenError::InvalidGrant)
    ));
    let other_device = SoftwareSigner::generate().unwrap();
    let second = create_activation(&conn, ID, other_device.public_key(), None, NOW).unwrap();
    assert!(matches!(
        exchange_code(&conn, &second, Some(&code), NOW + 4),
        Err(TokenError::InvalidGrant)
    ));

    // Nothing but hashes is stored.
    let stored: i64 = conn
        .query_row(
            "SELECT count(*) FROM issuer_access_tokens WHERE token_sha256 = ?1",
            [token.as_bytes()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 0);
}

#[test]
fn wrong_transaction_codes_count_toward_the_enrolment_limit() {
    let conn = conn();
    let (code, pre_authorized, _) = enrolled_and_activated(&conn, &EnrollmentRequest::sample(ID));
    for _ in 0..MAX_WRONG_CODES {
        assert!(matches!(
            exchange_code(&conn, &pre_authorized, Some("AAAA-AAAA"), NOW),
            Err(TokenError::InvalidGrant)
        ));
    }
    // The right code no longer helps, from this activation or a new one.
    assert!(matches!(
        exchange_code(&conn, &pre_authorized, Some(&code), NOW),
        Err(TokenError::InvalidGrant)
    ));
    let device = SoftwareSigner::generate().unwrap();
    let fresh = create_activation(&conn, ID, device.public_key(), None, NOW).unwrap();
    assert!(matches!(
        exchange_code(&conn, &fresh, Some(&code), NOW),
        Err(TokenError::InvalidGrant)
    ));
}

#[test]
fn an_unenrolled_or_late_activation_gets_no_token() {
    let conn = conn();
    let device = SoftwareSigner::generate().unwrap();
    let stranger =
        create_activation(&conn, "079099999999", device.public_key(), None, NOW).unwrap();
    assert!(matches!(
        exchange_code(&conn, &stranger, Some("ABCD-EFGH"), NOW),
        Err(TokenError::InvalidGrant)
    ));
    let (code, pre_authorized, _) = enrolled_and_activated(&conn, &EnrollmentRequest::sample(ID));
    assert!(matches!(
        exchange_code(
            &conn,
            &pre_authorized,
            Some(&code),
            NOW + PRE_AUTHORIZED_CODE_TTL_SECS
        ),
        Err(TokenError::InvalidGrant)
    ));
    // The late attempt did not use the activation code up.
    exchange_code(&conn, &pre_authorized, Some(&code), NOW + 1).unwrap();
}

#[test]
fn nonces_are_single_use_and_short_lived() {
    let conn = conn();
    let nonce = new_nonce(&conn, NOW).unwrap();
    assert_ne!(nonce, new_nonce(&conn, NOW).unwrap());
    assert!(consume_nonce(&conn, &nonce, NOW + 1).unwrap());
    assert!(!consume_nonce(&conn, &nonce, NOW + 2).unwrap(), "replayed");
    assert!(!consume_nonce(&conn, "made-up", NOW).unwrap());
    let late = new_nonce(&conn, NOW).unwrap();
    assert!(
        !consume_nonce(&conn, &late, NOW + NONCE_TTL_SECS).unwrap(),
        "expired"
    );
    // Expired nonces are cleared out as new ones are made.
    new_nonce(&conn, NOW + NONCE_TTL_SECS).unwrap();
    let left: i64 = conn
        .query_row("SELECT count(*) FROM issuer_nonces", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 1);
}

#[test]
fn the_pid_is_an_sd_jwt_vc_bound_to_the_device_with_every_claim_disclosable() {
    let conn = conn();
    let (credential, device) = issued(&conn, &EnrollmentRequest::sample(ID));
    let issuer_key = keys::active(&conn, KeyRole::Issuer, NOW).unwrap();
    let verified = verify(
        &credential,
        &VerifyOptions::new(issuer_key.public_key(), NOW).sd_jwt_vc(),
    )
    .unwrap();
    let claims = verified.claims.as_object().unwrap();
    assert_eq!(claims["iss"], json!(ISSUER));
    assert_eq!(claims["vct"], json!(PID_VCT));
    assert_eq!(claims["iat"], json!(NOW));
    assert_eq!(claims["cnf"]["jwk"], device.public_key().to_value());
    assert_eq!(
        claims["status"]["status_list"]["uri"],
        json!(status_list_uri(ISSUER))
    );
    assert_eq!(claims["full_name"], json!("Nguyễn Văn An"));
    assert_eq!(claims["id_number"], json!(ID));
    assert_eq!(claims["birth_date"], json!("1990-05-17"));
    assert_eq!(claims["age_over_18"], json!(true));
    assert_eq!(claims["issue_date"], json!("2026-11-22"));
    // Born 1990-05-17: the card is renewed at 40, on 2030-05-17, beyond a year from now.
    assert_eq!(claims["exp"], json!(NOW + CREDENTIAL_VALIDITY_SECS));
    assert_eq!(claims["expiry_date"], json!("2027-11-22"));

    let jws =
        citizen_core::jose::Jws::parse(credential.split('~').next().unwrap(), 1 << 20).unwrap();
    assert_eq!(jws.header().kid(), Some(issuer_key.kid.as_str()));
    assert_eq!(jws.header().typ(), Some("dc+sd-jwt"));
    let visible = jws.claims().unwrap();
    for name in pid_claims::ALL {
        assert!(
            !visible.contains_key(name),
            "{name} is visible without disclosure"
        );
    }
    let disclosed: HashSet<String> = credential
        .split('~')
        .skip(1)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let array: Value = serde_json::from_slice(&base64url::decode(part).unwrap()).unwrap();
            array[1].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        disclosed,
        pid_claims::ALL.iter().map(|s| s.to_string()).collect()
    );
}

#[test]
fn the_credential_never_outlives_the_identity_card_and_minors_are_not_over_18() {
    let conn = conn();
    let mut teenager = EnrollmentRequest::sample("001208012345");
    // Turns 25 (card renewal) in 2027-03-01, turned 18 in 2020.
    teenager.birth_date = "2002-03-01".into();
    let (credential, _) = issued(&conn, &teenager);
    let key = keys::active(&conn, KeyRole::Issuer, NOW).unwrap();
    let claims = verify(&credential, &VerifyOptions::new(key.public_key(), NOW))
        .unwrap()
        .claims;
    assert_eq!(
        claims["exp"],
        json!(Date::parse("2027-03-01").unwrap().to_unix())
    );
    assert_eq!(claims["expiry_date"], json!("2027-03-01"));
    assert_eq!(claims["age_over_18"], json!(true));

    let mut child = EnrollmentRequest::sample("001215012345");
    child.birth_date = "2015-06-01".into();
    let (credential, _) = issued(&conn, &child);
    let claims = verify(&credential, &VerifyOptions::new(key.public_key(), NOW))
        .unwrap()
        .claims;
    assert_eq!(claims["age_over_18"], json!(false));
    assert_eq!(
        claims["expiry_date"],
        json!("2027-11-22"),
        "renewed at 14 in 2029: a year caps it"
    );
}

#[test]
fn statuses_show_in_the_signed_list_and_the_token_is_kept_until_they_change() {
    let conn = conn();
    let citizen = EnrollmentRequest::sample(ID);
    let (first, _) = issued(&conn, &citizen);
    let (second, _) = issued(&conn, &citizen);
    let (other, _) = issued(&conn, &EnrollmentRequest::sample("079090001234"));
    let key = keys::active(&conn, KeyRole::Issuer, NOW).unwrap();
    let idx = |credential: &str| {
        verify(credential, &VerifyOptions::new(key.public_key(), NOW))
            .unwrap()
            .claims["status"]["status_list"]["idx"]
            .as_u64()
            .unwrap()
    };
    let (first, second, other) = (idx(&first), idx(&second), idx(&other));
    assert_eq!(HashSet::from([first, second, other]).len(), 3);

    let uri = status_list_uri(ISSUER);
    let lookup = |kid: &str| (kid == key.kid).then(|| key.public_key().clone());
    let status_of = |token: &str, idx: u64| {
        StatusListToken::verify(token, lookup, &uri, NOW)
            .unwrap()
            .list
            .status(idx)
            .unwrap()
    };
    let (token, etag) = status_list_token(&conn, STATUS_LIST_ID, ISSUER, NOW)
        .unwrap()
        .unwrap();
    assert_eq!(status_of(&token, first), VALID);
    let verified = StatusListToken::verify(&token, lookup, &uri, NOW).unwrap();
    assert_eq!(verified.ttl, Some(STATUS_LIST_TTL_SECS));
    assert_eq!(verified.list.bits(), STATUS_LIST_BITS);
    assert_eq!(
        status_list_token(&conn, STATUS_LIST_ID, ISSUER, NOW + 10)
            .unwrap()
            .unwrap(),
        (token.clone(), etag.clone()),
        "unchanged lists keep their token and ETag"
    );

    assert_eq!(set_status(&conn, ID, CredentialStatus::Revoked).unwrap(), 2);
    let (revoked, revoked_etag) = status_list_token(&conn, STATUS_LIST_ID, ISSUER, NOW + 20)
        .unwrap()
        .unwrap();
    assert_ne!(revoked_etag, etag);
    assert_eq!(status_of(&revoked, first), INVALID);
    assert_eq!(status_of(&revoked, second), INVALID);
    assert_eq!(status_of(&revoked, other), VALID);

    set_status(&conn, ID, CredentialStatus::Suspended).unwrap();
    let (suspended, _) = status_list_token(&conn, STATUS_LIST_ID, ISSUER, NOW + 30)
        .unwrap()
        .unwrap();
    assert_eq!(status_of(&suspended, first), SUSPENDED);
    set_status(&conn, ID, CredentialStatus::Valid).unwrap();
    let (reinstated, _) = status_list_token(&conn, STATUS_LIST_ID, ISSUER, NOW + 40)
        .unwrap()
        .unwrap();
    assert_eq!(status_of(&reinstated, first), VALID);
    assert_eq!(
        set_status(&conn, "999999999999", CredentialStatus::Revoked).unwrap(),
        0
    );

    // Another list does not exist; a rotated key or half the validity gone means a new token.
    assert!(status_list_token(&conn, 2, ISSUER, NOW).unwrap().is_none());
    let (kept, kept_etag) = status_list_token(&conn, STATUS_LIST_ID, ISSUER, NOW + 50)
        .unwrap()
        .unwrap();
    assert_eq!(kept, reinstated);
    let (aged, _) = status_list_token(
        &conn,
        STATUS_LIST_ID,
        ISSUER,
        NOW + 40 + STATUS_LIST_VALIDITY_SECS / 2,
    )
    .unwrap()
    .unwrap();
    assert_ne!(aged, kept);
    let rotated = keys::rotate(&conn, KeyRole::Issuer, NOW + 60).unwrap();
    let (resigned, resigned_etag) = status_list_token(&conn, STATUS_LIST_ID, ISSUER, NOW + 60)
        .unwrap()
        .unwrap();
    assert_ne!(resigned_etag, kept_etag);
    let jws = citizen_core::jose::Jws::parse(&resigned, 1 << 20).unwrap();
    assert_eq!(jws.header().kid(), Some(rotated.kid.as_str()));
}
