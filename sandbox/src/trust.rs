//! The trust list the sandbox portal publishes: `GET /v1/trust-list`.
//!
//! Owns: building the list from the sandbox's own keys (its credential issuer with every issuer
//! key it ever had, retired ones with `not_after` = their retirement, so a rotation shows on the
//! wallet's side), one sample relying party, the check-in agency as a venue signer (every
//! `KeyRole::VenueSigner` key, with the same windows), signing it with the trust-anchor key, and the
//! publication record that keeps the list stable between requests: the same content is served
//! as the same JWS (so `ETag`/`If-None-Match` give `304`) until it is half-way to its `exp`,
//! and `sequence` grows whenever the content (or the anchor) changes. Does not own the keys
//! (`keys`) nor the list's format and checks (`citizen_core::trust_list`).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use citizen_core::jose::base64url;
use citizen_core::trust_list::{RelyingParty, TrustList, TrustedIssuer, TrustedKey, VenueSigner};
use rusqlite::{Connection, OptionalExtension, params};

use crate::SandboxError;
use crate::keys::{self, KeyRole};
use crate::state::{PortalState, now};

/// The credential type the sandbox issuer issues (the PID).
pub const PID_VCT: &str = "urn:eudi:pid:vn:1";
/// The sandbox's relying party's client id: a pre-registered client (no prefix), which the
/// wallet finds in this trust list (`relying_party`).
pub const SAMPLE_RP_CLIENT_ID: &str = "rp.sandbox.example";
/// The relying party's display name.
pub const SAMPLE_RP_DISPLAY_NAME: &str = "Cổng dịch vụ thử nghiệm (bên xác minh)";
/// What the relying party registered as its purpose; the wallet's consent screen shows it.
pub const SAMPLE_RP_PURPOSE: &str =
    "Đăng nhập cổng dịch vụ thử nghiệm và xác minh các thông tin bạn đồng ý chia sẻ.";
/// The claims the sandbox's relying party may ask for.
pub const SAMPLE_RP_ALLOWED_CLAIMS: [&str; 5] = [
    "full_name",
    "birth_date",
    "age_over_18",
    "id_number",
    "place_of_residence",
];
/// How long a cached list counts as fresh on the phone, unless a test changes it.
pub const DEFAULT_MAX_AGE_SECS: u64 = 24 * 60 * 60;
/// How long a signed list is valid.
pub const VALIDITY_SECS: i64 = 7 * 24 * 60 * 60;
/// The media type of the answer.
pub const CONTENT_TYPE: &str = "application/trust-list+jwt";

pub(crate) fn create_tables(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS trust_list_publication (
             id INTEGER PRIMARY KEY CHECK (id = 1),
             content_hash TEXT NOT NULL,
             sequence INTEGER NOT NULL,
             iat INTEGER NOT NULL,
             jws TEXT NOT NULL
         );
         CREATE TABLE IF NOT EXISTS trust_list_settings (
             id INTEGER PRIMARY KEY CHECK (id = 1),
             max_age INTEGER NOT NULL
         );",
    )
}

pub(crate) fn routes() -> Router<PortalState> {
    Router::new().route("/v1/trust-list", get(trust_list))
}

/// The signed list as served, with its entity tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Published {
    pub jws: String,
    pub etag: String,
}

/// Sets the `max_age` of the lists published from now on (a test's knob for staleness).
pub(crate) fn set_max_age(conn: &Connection, seconds: u64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO trust_list_settings (id, max_age) VALUES (1, ?1)
         ON CONFLICT (id) DO UPDATE SET max_age = excluded.max_age",
        [i64::try_from(seconds).unwrap_or(i64::MAX)],
    )?;
    Ok(())
}

/// The list to serve at `now`: the stored one while its content is current and it is less than
/// half-way to its `exp`, otherwise a newly signed one (with the next `sequence` if the content
/// changed), which is stored.
pub(crate) fn current(
    conn: &Connection,
    base_url: &str,
    issuer_name: &str,
    now: i64,
) -> Result<Published, SandboxError> {
    let anchor = keys::active(conn, KeyRole::TrustAnchor, now)?;
    // Made on first use, so the list always names the key the issuer will sign with.
    keys::active(conn, KeyRole::Issuer, now)?;
    let issuer_keys = trusted_keys(conn, KeyRole::Issuer)?;
    keys::active(conn, KeyRole::RelyingParty, now)?;
    let rp_keys = trusted_keys(conn, KeyRole::RelyingParty)?;
    keys::active(conn, KeyRole::VenueSigner, now)?;
    let venue_keys = trusted_keys(conn, KeyRole::VenueSigner)?;
    let rp_host = url::Url::parse(base_url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_else(|| "127.0.0.1".into());
    let max_age: Option<i64> = conn
        .query_row(
            "SELECT max_age FROM trust_list_settings WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let mut list = TrustList {
        iss: base_url.to_owned(),
        iat: 0,
        exp: 0,
        sequence: 0,
        max_age: max_age.map_or(DEFAULT_MAX_AGE_SECS, |s| s.max(0) as u64),
        issuers: vec![TrustedIssuer {
            iss: base_url.to_owned(),
            display_name: issuer_name.to_owned(),
            vcts: vec![PID_VCT.into()],
            keys: issuer_keys,
        }],
        relying_parties: vec![RelyingParty {
            client_id: SAMPLE_RP_CLIENT_ID.into(),
            display_name: SAMPLE_RP_DISPLAY_NAME.into(),
            allowed_claims: SAMPLE_RP_ALLOWED_CLAIMS.map(String::from).to_vec(),
            keys: rp_keys,
            response_uri_hosts: vec![rp_host],
            purpose: Some(SAMPLE_RP_PURPOSE.into()),
        }],
        venue_signers: vec![VenueSigner {
            agency: crate::checkin::AGENCY_ID.into(),
            display_name: crate::checkin::AGENCY_NAME.into(),
            keys: venue_keys,
        }],
        health_signers: crate::health::health_signers(conn, now).map_err(SandboxError::Health)?,
        origins: vec![],
    };
    // The content without the fields that change at every signing, plus the signer.
    let content = format!("{}\n{}", anchor.kid, list.to_value());
    let content_hash = base64url::encode(sha256(content.as_bytes()));

    let stored: Option<(String, i64, i64, String)> = conn
        .query_row(
            "SELECT content_hash, sequence, iat, jws FROM trust_list_publication WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let sequence = match &stored {
        Some((hash, _, iat, jws)) if *hash == content_hash && now - iat < VALIDITY_SECS / 2 => {
            return Ok(published(jws.clone()));
        }
        Some((hash, sequence, _, _)) if *hash == content_hash => *sequence,
        Some((_, sequence, _, _)) => sequence + 1,
        None => 1,
    };
    list.iat = now;
    list.exp = now + VALIDITY_SECS;
    list.sequence = sequence.max(0) as u64;
    let jws = list.sign(anchor.signer.as_ref(), &anchor.kid)?;
    conn.execute(
        "INSERT INTO trust_list_publication (id, content_hash, sequence, iat, jws)
         VALUES (1, ?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET content_hash = excluded.content_hash,
             sequence = excluded.sequence, iat = excluded.iat, jws = excluded.jws",
        params![content_hash, sequence, now, jws],
    )?;
    tracing::info!(sequence, "trust list signed");
    Ok(published(jws))
}

/// Every key `role` ever had, retired ones with `not_after` = their retirement.
fn trusted_keys(conn: &Connection, role: KeyRole) -> rusqlite::Result<Vec<TrustedKey>> {
    Ok(keys::all(conn, role)?
        .into_iter()
        .map(|key| TrustedKey {
            jwk: key.public_key().clone(),
            kid: key.kid,
            not_before: Some(key.created_at),
            not_after: key.retired_at,
        })
        .collect())
}

fn published(jws: String) -> Published {
    let etag = strong_etag(jws.as_bytes());
    Published { jws, etag }
}

/// A strong entity tag for an answer's bytes: the start of their SHA-256.
pub(crate) fn strong_etag(bytes: &[u8]) -> String {
    format!("\"{}\"", &base64url::encode(sha256(bytes))[..22])
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

/// Whether an `If-None-Match` value names `etag` (RFC 9110 §13.1.2: a list of entity tags, or
/// `*`; weak comparison, so a `W/` prefix is ignored).
pub(crate) fn matches_etag(if_none_match: &str, etag: &str) -> bool {
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == etag)
}

/// Whether the request's `If-None-Match` headers name `etag`.
pub(crate) fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| matches_etag(value, etag))
}

async fn trust_list(State(state): State<PortalState>, headers: HeaderMap) -> Response {
    let base_url = state.base_url().to_owned();
    let published = state.with_conn(|conn| current(conn, &base_url, &state.portal_name, now()));
    let published = match published {
        Ok(published) => published,
        Err(error) => {
            tracing::error!(%error, "the trust list could not be published");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(serde_json::json!({ "error": "internal" })),
            )
                .into_response();
        }
    };
    let etag = HeaderValue::from_str(&published.etag).unwrap_or(HeaderValue::from_static("\"\""));
    if not_modified(&headers, &published.etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::ETAG, etag),
        ],
        published.jws,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use citizen_core::trust_list::TrustAnchor;

    const BASE: &str = "https://127.0.0.1:8443/";

    fn conn() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        keys::create_tables(&conn).unwrap();
        create_tables(&conn).unwrap();
        conn
    }

    fn verify(conn: &Connection, published: &Published, now: i64) -> TrustList {
        let anchor = keys::active(conn, KeyRole::TrustAnchor, now).unwrap();
        let anchors = [TrustAnchor {
            kid: anchor.kid.clone(),
            jwk: anchor.public_key().clone(),
        }];
        TrustList::verify(&published.jws, &anchors, now).unwrap()
    }

    #[test]
    fn the_list_names_the_issuer_keys_and_stays_stable_until_its_content_changes() {
        let conn = conn();
        let first = current(&conn, BASE, "Sandbox", 1_000).unwrap();
        let list = verify(&conn, &first, 1_000);
        assert_eq!(list.sequence, 1);
        assert_eq!(list.iss, BASE);
        let issuer = list.issuer(BASE).unwrap();
        assert!(issuer.may_issue(PID_VCT));
        assert_eq!(issuer.keys.len(), 1);
        assert_eq!(issuer.keys[0].not_after, None);
        assert!(list.relying_party(SAMPLE_RP_CLIENT_ID).is_some());
        let venue_kid = keys::active(&conn, KeyRole::VenueSigner, 1_000)
            .unwrap()
            .kid;
        let (venue_signer, _) = list.venue_key(&venue_kid, 1_000).unwrap();
        assert_eq!(venue_signer.agency, crate::checkin::AGENCY_ID);
        assert_eq!(list.max_age, DEFAULT_MAX_AGE_SECS);

        // Unchanged: the very same JWS, hence the same ETag.
        assert_eq!(current(&conn, BASE, "Sandbox", 1_100).unwrap(), first);

        // A rotation changes the content: the next sequence, both keys, the old one retired.
        let old_kid = issuer.keys[0].kid.clone();
        let new = keys::rotate(&conn, KeyRole::Issuer, 2_000).unwrap();
        let second = current(&conn, BASE, "Sandbox", 2_000).unwrap();
        assert_ne!(second.etag, first.etag);
        let list = verify(&conn, &second, 2_000);
        assert_eq!(list.sequence, 2);
        assert!(list.issuer_key(BASE, &new.kid, 2_000).is_ok());
        assert!(list.issuer_key(BASE, &old_kid, 1_999).is_ok());
        assert!(list.issuer_key(BASE, &old_kid, 2_000).is_err());

        // Half-way to its exp the same content is signed again under the same sequence.
        let later = 2_000 + VALIDITY_SECS / 2;
        let third = current(&conn, BASE, "Sandbox", later).unwrap();
        assert_ne!(third.etag, second.etag);
        let resigned = verify(&conn, &third, later);
        assert_eq!(resigned.sequence, 2);
        assert!(resigned.is_newer_than(&list));

        set_max_age(&conn, 0).unwrap();
        let fourth = current(&conn, BASE, "Sandbox", later).unwrap();
        let list = verify(&conn, &fourth, later);
        assert_eq!((list.sequence, list.max_age), (3, 0));
    }

    #[test]
    fn if_none_match_is_compared_weakly_and_as_a_list() {
        let etag = "\"abc\"";
        assert!(matches_etag("\"abc\"", etag));
        assert!(matches_etag("W/\"abc\"", etag));
        assert!(matches_etag("\"x\", \"abc\"", etag));
        assert!(matches_etag("*", etag));
        assert!(!matches_etag("\"abd\"", etag));
        assert!(!matches_etag("abc", etag));
    }
}
