//! The sandbox's OpenID4VCI credential issuer: wallet activation, the pre-authorised code flow
//! and the status list of the credentials it issued (`docs/wallet-identity.md`, "Activation and
//! issuance" and "Status list"; `docs/portal-api.yaml` has every endpoint).
//!
//! Owns: `POST /v1/wallet/activations` (device-key proof checked, a pending activation recorded,
//! a credential offer answered, the same for an ID number that is not enrolled),
//! `GET /.well-known/openid-credential-issuer`, `POST /token` (pre-authorised code plus the
//! activation code as `tx_code`, redeemed through `enrollment::redeem`), `POST /nonce`,
//! `POST /credential` (the PID as an SD-JWT VC bound to the activated device key),
//! `GET /v1/status-lists/{id}` (`statuslist+jwt`, ETag), and the sandbox-only
//! `POST /v1/test/credential-status`. The wire types are `citizen_core::openid4vci`'s, the same
//! the wallet uses. The rules on stored state are in `store`; `dates` does the calendar.
//! Never logs personal data: no ID numbers, names, codes or tokens.

pub(crate) mod dates;
pub(crate) mod store;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use citizen_core::jose::Jws;
use citizen_core::openid4vci::{
    self, ActivationRequest, CredentialOffer, CredentialRequest, CredentialResponse,
    IssuedCredential, IssuerMetadata, MAX_MESSAGE_LEN, MAX_PROOF_LEN, NonceResponse,
    OAuthErrorResponse, Openid4vciError, PID_CONFIGURATION_ID, TokenRequest, TokenResponse,
    error_codes,
};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::state::{PortalState, now};
use store::{StoreError, TokenError};

pub(crate) use store::create_tables;

/// How old an activation proof may be.
const ACTIVATION_PROOF_MAX_AGE_SECS: i64 = 5 * 60;
/// How far a key proof's `iat` may be from the issuer's clock either way (a nonce lives as long).
const PROOF_SKEW_SECS: i64 = store::NONCE_TTL_SECS;
/// The largest request body any issuer endpoint reads.
const MAX_BODY_BYTES: usize = 64 * 1024;
/// The largest platform-attestation blob stored (Android key attestation chains and App Attest
/// objects are a few kilobytes).
const MAX_ATTESTATION_LEN: usize = 32 * 1024;
const STATUS_LIST_MEDIA_TYPE: &str = "application/statuslist+jwt";
const TX_CODE_DESCRIPTION: &str =
    "The activation code printed on your e-ID registration receipt (8 characters)";

/// What a credential's entry in the status list says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CredentialStatus {
    Valid,
    Revoked,
    Suspended,
}

impl CredentialStatus {
    /// The status list value (Token Status List: 0 valid, 1 invalid, 2 suspended).
    pub fn value(self) -> u8 {
        match self {
            CredentialStatus::Valid => citizen_core::status_list::VALID,
            CredentialStatus::Revoked => citizen_core::status_list::INVALID,
            CredentialStatus::Suspended => citizen_core::status_list::SUSPENDED,
        }
    }
}

/// `"valid"`, `"revoked"` or `"suspended"`, as the test endpoint spells them.
impl TryFrom<&str> for CredentialStatus {
    type Error = crate::SandboxError;

    fn try_from(text: &str) -> Result<Self, Self::Error> {
        match text {
            "valid" => Ok(CredentialStatus::Valid),
            "revoked" => Ok(CredentialStatus::Revoked),
            "suspended" => Ok(CredentialStatus::Suspended),
            _ => Err(crate::SandboxError::Issuer(
                "a credential status is valid, revoked or suspended".into(),
            )),
        }
    }
}

/// `POST /v1/test/credential-status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialStatusRequest {
    pub id_number: String,
    pub status: CredentialStatus,
}

/// The answer to [`CredentialStatusRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialStatusResponse {
    /// How many credentials of the citizen now have the status.
    pub updated: u64,
}

pub(crate) fn routes() -> Router<PortalState> {
    Router::new()
        .route("/v1/wallet/activations", post(activate))
        .route("/.well-known/openid-credential-issuer", get(metadata))
        .route("/token", post(token))
        .route("/nonce", post(nonce))
        .route("/credential", post(credential))
        .route("/v1/status-lists/{id}", get(status_list))
        .route("/v1/test/credential-status", post(set_credential_status))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// Sets the status of every credential issued to `id_number` (the test endpoint, the `revoke`
/// command and `RunningSandbox::set_credential_status`).
pub(crate) fn set_status(
    conn: &Connection,
    id_number: &str,
    status: CredentialStatus,
) -> Result<u64, crate::SandboxError> {
    store::set_status(conn, id_number, status).map_err(|error| match error {
        StoreError::Database(error) => crate::SandboxError::Database(error),
        other => crate::SandboxError::Issuer(other.to_string()),
    })
}

// --- activation and metadata ------------------------------------------------------------------

async fn activate(State(state): State<PortalState>, body: Bytes) -> Response {
    let request: ActivationRequest = match openid4vci::from_json(&body, MAX_BODY_BYTES) {
        Ok(request) => request,
        Err(error) => return bad_request(error_codes::INVALID_REQUEST, &error.to_string()),
    };
    let id_ok =
        request.id_number.len() == 12 && request.id_number.bytes().all(|b| b.is_ascii_digit());
    if !id_ok {
        return bad_request(error_codes::INVALID_REQUEST, "id_number is not 12 digits");
    }
    let attestation_ok = request.attestation.as_deref().is_none_or(|blob| {
        !blob.is_empty()
            && blob.len() <= MAX_ATTESTATION_LEN
            && blob
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
    });
    if !attestation_ok {
        return bad_request(
            error_codes::INVALID_REQUEST,
            "attestation is not a base64 text of at most 32 KiB",
        );
    }
    let now = now();
    let device_key = match request.verify_proof(now, ACTIVATION_PROOF_MAX_AGE_SECS) {
        Ok((key, _)) => key,
        Err(error) => {
            return bad_request(
                error_codes::INVALID_REQUEST,
                &format!("device_key_proof: {error}"),
            );
        }
    };
    let issuer = state.base_url().to_owned();
    let created = state.with_conn(|conn| {
        store::create_activation(
            conn,
            &request.id_number,
            &device_key,
            request.attestation.as_deref(),
            now,
        )
    });
    match created {
        Ok(code) => {
            tracing::info!("wallet activation recorded");
            let offer = CredentialOffer::pid(&issuer, code, TX_CODE_DESCRIPTION);
            (StatusCode::CREATED, no_store(), Json(offer)).into_response()
        }
        Err(error) => internal(&error),
    }
}

async fn metadata(State(state): State<PortalState>) -> Json<IssuerMetadata> {
    Json(IssuerMetadata::pid_issuer(state.base_url()))
}

// --- token and nonce ---------------------------------------------------------------------------

async fn token(State(state): State<PortalState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case(TokenRequest::CONTENT_TYPE)
        });
    if !form {
        return bad_request(
            error_codes::INVALID_REQUEST,
            "the body must be application/x-www-form-urlencoded",
        );
    }
    let request = match TokenRequest::from_form(&body) {
        Ok(request) => request,
        Err(Openid4vciError::UnsupportedGrantType) => {
            return bad_request(
                error_codes::UNSUPPORTED_GRANT_TYPE,
                "only the pre-authorized_code grant is supported",
            );
        }
        Err(error) => return bad_request(error_codes::INVALID_REQUEST, &error.to_string()),
    };
    let now = now();
    let exchanged = state.with_conn(|conn| {
        store::exchange_code(
            conn,
            &request.pre_authorized_code,
            request.tx_code.as_deref(),
            now,
        )
    });
    match exchanged {
        Ok(access_token) => {
            tracing::info!("access token issued");
            let response = TokenResponse {
                access_token,
                token_type: "Bearer".into(),
                expires_in: store::ACCESS_TOKEN_TTL_SECS as u64,
            };
            (StatusCode::OK, no_store(), Json(response)).into_response()
        }
        Err(TokenError::InvalidGrant) => {
            tracing::info!("token request refused: invalid grant");
            bad_request(
                error_codes::INVALID_GRANT,
                "the pre-authorized code or the transaction code is wrong, used or expired",
            )
        }
        Err(TokenError::InvalidRequest(what)) => bad_request(error_codes::INVALID_REQUEST, what),
        Err(TokenError::Store(error)) => internal(&error),
    }
}

async fn nonce(State(state): State<PortalState>) -> Response {
    match state.with_conn(|conn| store::new_nonce(conn, now())) {
        Ok(c_nonce) => {
            (StatusCode::OK, no_store(), Json(NonceResponse { c_nonce })).into_response()
        }
        Err(error) => internal(&error),
    }
}

// --- credential ---------------------------------------------------------------------------------

async fn credential(State(state): State<PortalState>, headers: HeaderMap, body: Bytes) -> Response {
    let now = now();
    let Some(access_token) = bearer_token(&headers) else {
        return invalid_token("a Bearer access token is required");
    };
    let grant = match state.with_conn(|conn| store::authorize(conn, access_token, now)) {
        Ok(Some(grant)) => grant,
        Ok(None) => return invalid_token("the access token is unknown or expired"),
        Err(error) => return internal(&error),
    };
    let request: CredentialRequest = match openid4vci::from_json(&body, MAX_MESSAGE_LEN) {
        Ok(request) => request,
        Err(error) => {
            return bad_request(error_codes::INVALID_CREDENTIAL_REQUEST, &error.to_string());
        }
    };
    if request.credential_configuration_id != PID_CONFIGURATION_ID {
        return bad_request(
            error_codes::UNKNOWN_CREDENTIAL_CONFIGURATION,
            "only vn.gov.pid is issued here",
        );
    }
    let [proof] = request.proofs.jwt.as_slice() else {
        return bad_request(
            error_codes::INVALID_PROOF,
            "exactly one jwt proof is expected",
        );
    };
    // The nonce is read from the proof first, then the whole proof is checked against it, and
    // only a proof that holds is allowed to use the nonce up.
    let Some(nonce) = proof_nonce(proof) else {
        return bad_request(error_codes::INVALID_PROOF, "the proof has no nonce");
    };
    let issuer = state.base_url().to_owned();
    let proof_key = match openid4vci::verify_proof_jwt(proof, &issuer, &nonce, now, PROOF_SKEW_SECS)
    {
        Ok(key) => key,
        Err(error) => return bad_request(error_codes::INVALID_PROOF, &error.to_string()),
    };
    if proof_key != grant.device_key {
        tracing::info!("credential request refused: proof key is not the activated device key");
        return bad_request(
            error_codes::INVALID_PROOF,
            "the proof is not signed by the device key registered at activation",
        );
    }
    let issued = state.with_conn(|conn| {
        if !store::consume_nonce(conn, &nonce, now)? {
            return Ok(None);
        }
        store::issue_pid(conn, &grant, &issuer, now).map(Some)
    });
    match issued {
        Ok(Some(credential)) => {
            tracing::info!("credential issued");
            let response = CredentialResponse {
                credentials: vec![IssuedCredential { credential }],
            };
            (StatusCode::OK, no_store(), Json(response)).into_response()
        }
        Ok(None) => bad_request(
            error_codes::INVALID_NONCE,
            "the nonce is unknown, used or expired; fetch a new one from the nonce endpoint",
        ),
        Err(error) => internal(&error),
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The `nonce` claim of a proof, unverified (the proof is verified against it right after).
fn proof_nonce(proof: &str) -> Option<String> {
    let jws = Jws::parse(proof, MAX_PROOF_LEN).ok()?;
    match jws.claims().ok()?.remove("nonce")? {
        serde_json::Value::String(nonce) => Some(nonce),
        _ => None,
    }
}

// --- status list --------------------------------------------------------------------------------

async fn status_list(
    State(state): State<PortalState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Ok(id) = id.parse::<u32>() else {
        return not_found();
    };
    let issuer = state.base_url().to_owned();
    let token = state.with_conn(|conn| store::status_list_token(conn, id, &issuer, now()));
    let (token, etag) = match token {
        Ok(Some(token)) => token,
        Ok(None) => return not_found(),
        Err(error) => return internal(&error),
    };
    let etag_value = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\""));
    let cache = [
        (header::ETAG, etag_value),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    if if_none_match(&headers, &etag) {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (
        StatusCode::OK,
        cache,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(STATUS_LIST_MEDIA_TYPE),
        )],
        token,
    )
        .into_response()
}

/// Whether `If-None-Match` names `etag` (or is `*`), compared weakly as RFC 9110 §13.1.2 says.
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == etag)
}

async fn set_credential_status(
    State(state): State<PortalState>,
    Json(request): Json<CredentialStatusRequest>,
) -> Response {
    match state.with_conn(|conn| set_status(conn, &request.id_number, request.status)) {
        Ok(updated) => {
            tracing::info!(updated, status = ?request.status, "credential status set");
            Json(CredentialStatusResponse { updated }).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "setting a credential status failed");
            server_error()
        }
    }
}

// --- responses ------------------------------------------------------------------------------------

fn no_store() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

fn bad_request(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        no_store(),
        Json(OAuthErrorResponse::new(error, Some(description))),
    )
        .into_response()
}

/// RFC 6750 §3: 401 with a `WWW-Authenticate` challenge.
fn invalid_token(description: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        )],
        Json(OAuthErrorResponse::new(
            error_codes::INVALID_TOKEN,
            Some(description),
        )),
    )
        .into_response()
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({ "error": "not_found" })),
    )
        .into_response()
}

fn internal(error: &StoreError) -> Response {
    tracing::error!(%error, "credential issuer failed");
    server_error()
}

fn server_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(serde_json::json!({ "error": "server_error" })),
    )
        .into_response()
}
