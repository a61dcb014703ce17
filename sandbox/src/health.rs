//! The sandbox's EU DCC issuer, for tests and demos: a document signer certificate (self-signed
//! X.509 over the `KeyRole::DccSigner` key, kept so its key id survives restarts), the trust
//! list's `health_signers` entry naming it, and `POST /v1/test/dcc`, which mints an `HC1:`
//! vaccination certificate for test data.
//!
//! Owns: the `dcc_signer_certificates` table and the test route. Does not own the format
//! (`citizen_core::dcc`, `signed_qr`) nor the key (`keys`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use citizen_core::dcc::{self, SignerCertificate};
use citizen_core::signed_qr::{self, CborValue, ClaimKey, Claims};
use citizen_core::trust_list::HealthSigner;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;

use crate::keys::{self, KeyRole};
use crate::state::{PortalState, now};

/// The country the sandbox signs DCCs for.
pub const DCC_COUNTRY: &str = "VN";
/// How long a minted DCC is valid.
const DCC_VALIDITY_SECS: i64 = 365 * 86_400;

pub(crate) fn routes() -> Router<PortalState> {
    Router::new().route("/v1/test/dcc", post(mint))
}

/// `POST /v1/test/dcc`: every member optional; test data fills the rest.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MintDccRequest {
    pub family_name: Option<String>,
    pub given_name: Option<String>,
    pub date_of_birth: Option<String>,
    pub vaccination_date: Option<String>,
    /// Seconds the certificate stays valid (default a year); negative mints an expired one.
    pub valid_for_secs: Option<i64>,
}

async fn mint(State(state): State<PortalState>, body: Option<Json<MintDccRequest>>) -> Response {
    let request = body.map(|Json(request)| request).unwrap_or_default();
    match state.with_conn(|conn| mint_dcc(conn, &request, now())) {
        Ok((text, kid)) => (
            StatusCode::CREATED,
            Json(serde_json::json!({
                "hc1": text,
                "kid": citizen_core::jose::base64url::encode(kid),
            })),
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "minting a DCC failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(serde_json::json!({ "error": "internal" })),
            )
                .into_response()
        }
    }
}

/// The `health_signers` of the trust list: the sandbox's one document signer.
pub(crate) fn health_signers(conn: &Connection, now: i64) -> Result<Vec<HealthSigner>, String> {
    Ok(vec![HealthSigner {
        country: DCC_COUNTRY.into(),
        certificates: vec![signer_certificate(conn, now)?],
    }])
}

/// The document signer certificate of the active `DccSigner` key, made and kept on first use.
pub(crate) fn signer_certificate(conn: &Connection, now: i64) -> Result<SignerCertificate, String> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS dcc_signer_certificates (
             key_kid TEXT PRIMARY KEY,
             der BLOB NOT NULL
         );",
    )
    .map_err(|e| e.to_string())?;
    let key = keys::active(conn, KeyRole::DccSigner, now).map_err(|e| e.to_string())?;
    let stored: Option<Vec<u8>> = conn
        .query_row(
            "SELECT der FROM dcc_signer_certificates WHERE key_kid = ?1",
            [&key.kid],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| e.to_string())?;
    let der = match stored {
        Some(der) => der,
        None => {
            let scalar = keys::scalar(conn, &key.kid).map_err(|e| e.to_string())?;
            let der = self_signed(&scalar, &key.public_key().to_sec1())?;
            conn.execute(
                "INSERT INTO dcc_signer_certificates (key_kid, der) VALUES (?1, ?2)",
                params![key.kid, der],
            )
            .map_err(|e| e.to_string())?;
            der
        }
    };
    SignerCertificate::from_der(&der).map_err(|e| e.to_string())
}

/// A self-signed document signer certificate over a P-256 key (scalar and SEC1 public key),
/// valid 2024–2049, with the DCC extended key usages.
fn self_signed(scalar: &[u8], public: &[u8; 65]) -> Result<Vec<u8>, String> {
    use rcgen::{CertificateParams, CustomExtension, DnType, KeyPair, date_time_ymd};
    // PKCS#8 of a P-256 key with its public key, the form ring writes and reads.
    let mut pkcs8 = vec![
        0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
        0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x6d, 0x30,
        0x6b, 0x02, 0x01, 0x01, 0x04, 0x20,
    ];
    pkcs8.extend_from_slice(scalar);
    pkcs8.extend_from_slice(&[0xa1, 0x44, 0x03, 0x42, 0x00]);
    pkcs8.extend_from_slice(public);
    let key_pair = KeyPair::try_from(pkcs8.as_slice()).map_err(|e| e.to_string())?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    params
        .distinguished_name
        .push(DnType::CountryName, DCC_COUNTRY);
    params
        .distinguished_name
        .push(DnType::CommonName, "Citizen Sandbox DCC signer (test only)");
    params.not_before = date_time_ymd(2024, 1, 1);
    params.not_after = date_time_ymd(2049, 12, 31);
    // extendedKeyUsage (2.5.29.37): DCC test, vaccination and recovery.
    let mut usages = vec![0x30, 0x27];
    for last in 1..=3u8 {
        usages.extend_from_slice(&[
            0x06, 0x0b, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x8e, 0x37, 0x8f, 0x65, 0x01, last,
        ]);
    }
    params.custom_extensions = vec![CustomExtension::from_oid_content(&[2, 5, 29, 37], usages)];
    let certificate = params.self_signed(&key_pair).map_err(|e| e.to_string())?;
    Ok(certificate.der().to_vec())
}

/// Mints an `HC1:` vaccination certificate of test data at `now`; returns it with its key id.
pub(crate) fn mint_dcc(
    conn: &Connection,
    request: &MintDccRequest,
    now: i64,
) -> Result<(String, Vec<u8>), String> {
    let certificate = signer_certificate(conn, now)?;
    let key = keys::active(conn, KeyRole::DccSigner, now).map_err(|e| e.to_string())?;
    let text = |value: &Option<String>, default: &str| {
        CborValue::Text(value.clone().unwrap_or_else(|| default.to_string()))
    };
    let family = text(&request.family_name, "Nguyễn");
    let given = text(&request.given_name, "Văn An");
    let entry = |key: &str, value: CborValue| (CborValue::Text(key.into()), value);
    let vaccination = CborValue::Map(vec![
        entry("tg", CborValue::Text("840539006".into())),
        entry("vp", CborValue::Text("1119349007".into())),
        entry("mp", CborValue::Text("EU/1/20/1528".into())),
        entry("ma", CborValue::Text("ORG-100030215".into())),
        entry("dn", CborValue::Integer(2.into())),
        entry("sd", CborValue::Integer(2.into())),
        entry("dt", text(&request.vaccination_date, "2021-06-01")),
        entry("co", CborValue::Text(DCC_COUNTRY.into())),
        entry(
            "is",
            CborValue::Text("Citizen Sandbox Ministry of Health".into()),
        ),
        entry(
            "ci",
            CborValue::Text(format!("URN:UVCI:01:VN:SANDBOX{now}#{}", now % 10)),
        ),
    ]);
    let hcert = CborValue::Map(vec![
        entry("ver", CborValue::Text("1.3.0".into())),
        entry(
            "nam",
            CborValue::Map(vec![
                entry("fn", family.clone()),
                entry("fnt", CborValue::Text(standardised(&family))),
                entry("gn", given.clone()),
                entry("gnt", CborValue::Text(standardised(&given))),
            ]),
        ),
        entry("dob", text(&request.date_of_birth, "1990-01-02")),
        entry("v", CborValue::Array(vec![vaccination])),
    ]);
    let mut claims = Claims {
        iss: Some(DCC_COUNTRY.into()),
        iat: Some(now),
        exp: Some(now + request.valid_for_secs.unwrap_or(DCC_VALIDITY_SECS)),
        ..Claims::default()
    };
    claims.private.insert(
        ClaimKey::Int(dcc::hcert::HCERT_CLAIM),
        CborValue::Map(vec![(CborValue::Integer(1.into()), hcert)]),
    );
    let kid = certificate.kid().to_vec();
    let text = signed_qr::encode(&dcc::PROFILE, &claims, &kid, key.signer.as_ref())
        .map_err(|e| e.to_string())?;
    Ok((text, kid))
}

/// A crude ICAO 9303 form for test data: ASCII letters upper-cased, others dropped or `<`.
fn standardised(value: &CborValue) -> String {
    let CborValue::Text(text) = value else {
        return String::new();
    };
    text.chars()
        .filter_map(|c| match c {
            ' ' | '-' => Some('<'),
            c if c.is_ascii_alphabetic() => Some(c.to_ascii_uppercase()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_codes_verify_against_the_signer_certificate_which_stays_the_same() {
        let conn = Connection::open_in_memory().unwrap();
        keys::create_tables(&conn).unwrap();
        let now = 1_750_000_000;
        let certificate = signer_certificate(&conn, now).unwrap();
        assert_eq!(signer_certificate(&conn, now + 10).unwrap(), certificate);
        assert!(certificate.may_sign(dcc::EntryKind::Vaccination));
        let (text, kid) = mint_dcc(&conn, &MintDccRequest::default(), now).unwrap();
        assert_eq!(kid, certificate.kid());
        let trusted = vec![certificate];
        let verified = dcc::verify(&text, &trusted, now + 60).unwrap();
        assert_eq!(verified.certificate.name.family_standardised, "NGUYN");
        assert_eq!(verified.issuer.as_deref(), Some("VN"));
        let expired = MintDccRequest {
            valid_for_secs: Some(-1),
            ..MintDccRequest::default()
        };
        let (text, _) = mint_dcc(&conn, &expired, now).unwrap();
        assert_eq!(
            dcc::verify(&text, &trusted, now),
            Err(dcc::DccError::Expired)
        );
    }
}
