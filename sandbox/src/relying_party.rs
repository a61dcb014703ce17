//! The sandbox playing an OpenID4VP relying party (`docs/wallet-identity.md`, "OpenID4VP"), so a
//! wallet can be tested end to end against a verifier that the trust list names.
//!
//! Owns: the relying party's encryption key (its scalar in the database; the signing key is
//! `keys::KeyRole::RelyingParty`), its presentation requests (nonce, state, DCQL query, response
//! mode, expiry, outcome), and the endpoints `POST /v1/test/rp/requests` (sandbox only: make a
//! request and its link), `POST /v1/rp/request-objects/{id}` (the `request_uri`, with
//! `request_uri_method=post`), `POST /v1/rp/responses` (the `response_uri`: `direct_post` and
//! `direct_post.jwt`) and `GET /v1/test/rp/results/{id}` (sandbox only: what was verified).
//! The formats and checks are `citizen_core`'s (`openid4vp`, `dcql`, `jose::jwe`, `verifier`).
//! Sandbox only, in [`attacks`]: requests whose object is wrong on purpose (`misbehave`,
//! `replay_of`), for the wallet's attack tests.
//! Never logs personal data: no claims, presentations, nonces or states.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use citizen_core::dcql::{self, DcqlQuery};
use citizen_core::jose::base64url;
use citizen_core::jose::jwe::{ContentEncryption, EcdhPrivateKey};
use citizen_core::openid4vp::{
    self, AuthorizationLink, AuthorizationResponse, DirectPost, ErrorResponse, RequestObject,
    RequestUriMethod, ResponseEncryption, ResponseMode,
};
use citizen_core::verifier::{PresentationCheck, verify_presentation};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::keys::{self, KeyRole};
use crate::state::{PortalState, now};
use crate::trust::{PID_VCT, SAMPLE_RP_ALLOWED_CLAIMS, SAMPLE_RP_CLIENT_ID};

pub mod attacks;
pub use attacks::Misbehaviour;

/// How long a request object is valid after it is fetched (and a request may be answered).
pub const REQUEST_OBJECT_TTL_SECS: i64 = 5 * 60;
/// How long a request may be answered after it is made.
pub const REQUEST_TTL_SECS: i64 = 10 * 60;
/// How old a key binding JWT may be.
const KB_MAX_AGE_SECS: i64 = 5 * 60;
const CLOCK_SKEW_SECS: i64 = 60;
/// The credential query id of the PID in the requests the sandbox makes.
pub const PID_QUERY_ID: &str = "pid";
/// The media type of a request object.
pub const REQUEST_OBJECT_CONTENT_TYPE: &str = "application/oauth-authz-req+jwt";
/// Claims asked when a request names none.
const DEFAULT_CLAIMS: [&str; 2] = ["full_name", "age_over_18"];
const MAX_BODY_BYTES: usize = openid4vp::MAX_FORM_LEN + 1024;
/// At most this many optional claims: `claim_sets` lists every subset of them, and DCQL allows
/// at most [`dcql::MAX_SETS`] options.
pub const MAX_OPTIONAL_CLAIMS: usize = 4;
const _: () = assert!(1 << MAX_OPTIONAL_CLAIMS <= dcql::MAX_SETS);

pub(crate) fn create_tables(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS rp_encryption_key (
             id INTEGER PRIMARY KEY CHECK (id = 1),
             scalar BLOB NOT NULL
         );
         CREATE TABLE IF NOT EXISTS rp_requests (
             id TEXT PRIMARY KEY,
             nonce TEXT NOT NULL,
             state TEXT NOT NULL UNIQUE,
             response_mode TEXT NOT NULL,
             dcql_query TEXT NOT NULL,
             created_at INTEGER NOT NULL,
             expires_at INTEGER NOT NULL,
             -- NULL while pending; then completed, declined or failed
             outcome TEXT,
             result TEXT,
             response_code TEXT,
             -- sandbox only (attacks): how the request object is made wrong, and the request
             -- whose nonce and state it replays
             misbehave TEXT,
             replay_of TEXT
         );",
    )
}

pub(crate) fn routes() -> Router<PortalState> {
    Router::new()
        .route("/v1/test/rp/requests", post(create_request))
        .route("/v1/rp/request-objects/{id}", post(request_object))
        .route("/v1/rp/responses", post(response))
        .route("/v1/test/rp/results/{id}", get(result))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// The relying party's ECDH-ES key for `direct_post.jwt`, made on first use.
pub(crate) fn encryption_key(conn: &Connection) -> rusqlite::Result<EcdhPrivateKey> {
    let stored: Option<Vec<u8>> = conn
        .query_row(
            "SELECT scalar FROM rp_encryption_key WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(key) = stored.as_deref().and_then(EcdhPrivateKey::from_scalar) {
        return Ok(key);
    }
    let key = EcdhPrivateKey::generate()
        .map_err(|_| rusqlite::Error::InvalidParameterName("no key could be made".into()))?;
    conn.execute(
        "INSERT INTO rp_encryption_key (id, scalar) VALUES (1, ?1)
         ON CONFLICT (id) DO UPDATE SET scalar = excluded.scalar",
        [key.to_scalar().as_slice()],
    )?;
    Ok(key)
}

/// The body of `POST /v1/test/rp/requests`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PresentationRequestSpec {
    /// Required claims of the PID (default `full_name`, `age_over_18`).
    #[serde(default)]
    pub claims: Vec<String>,
    /// Claims the citizen may leave out, at most [`MAX_OPTIONAL_CLAIMS`]: `claim_sets` lists
    /// every subset of them (each option the required claims plus the subset), from most claims
    /// to fewest.
    #[serde(default)]
    pub optional_claims: Vec<String>,
    /// `direct_post.jwt` instead of `direct_post`.
    #[serde(default)]
    pub encrypted: bool,
    /// Shown to the citizen by the test page; default names the claims.
    #[serde(default)]
    pub purpose: Option<String>,
    /// Sandbox only: the request object served for this request is wrong in this one way, and
    /// the request never completes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub misbehave: Option<Misbehaviour>,
    /// Sandbox only: the id of an earlier request whose `nonce` and `state` this request's
    /// object carries (a replay); the request never completes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_of: Option<String>,
}

/// The answer of `POST /v1/test/rp/requests`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PresentationRequestCreated {
    pub id: String,
    /// `openid4vp://?client_id=…&request_uri=…&request_uri_method=post`
    pub link: String,
    pub purpose: String,
}

/// The answer of `GET /v1/test/rp/results/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresentationResult {
    /// `pending`, `completed`, `declined` or `failed`.
    pub state: String,
    /// The verified claims that were asked and presented (empty unless `completed`).
    pub claims: Map<String, Value>,
    pub key_binding: bool,
    /// The credential's status in the sandbox's status list: `valid`, `revoked`, `suspended`,
    /// `unknown`; absent unless `completed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Why a spec was refused.
fn check_spec(spec: &PresentationRequestSpec) -> Result<(), String> {
    for claim in spec.claims.iter().chain(&spec.optional_claims) {
        if !SAMPLE_RP_ALLOWED_CLAIMS.contains(&claim.as_str()) {
            return Err(format!("the relying party may not ask for `{claim}`"));
        }
    }
    if spec.claims.iter().any(|c| spec.optional_claims.contains(c)) {
        return Err("a claim is both required and optional".into());
    }
    if spec.optional_claims.len() > MAX_OPTIONAL_CLAIMS {
        return Err(format!(
            "at most {MAX_OPTIONAL_CLAIMS} optional claims: claim_sets lists every subset of \
             them, and DCQL allows at most {} options",
            dcql::MAX_SETS
        ));
    }
    if spec.misbehave.is_some() && spec.replay_of.is_some() {
        return Err("misbehave and replay_of cannot be combined: one wrong thing at a time".into());
    }
    Ok(())
}

/// The `claim_sets` for `required` and `optional` claims: the required claims plus each subset
/// of the optional ones, from most claims to fewest (then in the query's order), each option
/// in the query's claim order. The first option asks everything, the last only the required.
fn claim_sets<'a>(required: &'a [String], optional: &'a [String]) -> Vec<Vec<&'a String>> {
    let mut subsets: Vec<Vec<usize>> = (0..1usize << optional.len())
        .map(|mask| {
            (0..optional.len())
                .filter(|i| mask & (1 << i) != 0)
                .collect()
        })
        .collect();
    subsets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    subsets
        .into_iter()
        .map(|subset| {
            required
                .iter()
                .chain(subset.into_iter().map(|i| &optional[i]))
                .collect()
        })
        .collect()
}

/// The DCQL query for the PID with `required` claims and `optional` ones.
fn dcql_query(required: &[String], optional: &[String]) -> Value {
    let claims: Vec<Value> = required
        .iter()
        .chain(optional)
        .map(|name| json!({"id": name, "path": [name]}))
        .collect();
    let mut credential = json!({
        "id": PID_QUERY_ID,
        "format": "dc+sd-jwt",
        "meta": {"vct_values": [PID_VCT]},
        "claims": claims,
    });
    if !optional.is_empty() {
        credential["claim_sets"] = json!(claim_sets(required, optional));
    }
    json!({"credentials": [credential]})
}

/// Makes a presentation request (what `POST /v1/test/rp/requests` and the `rp-request` command
/// do), stored as pending.
pub(crate) fn new_request(
    conn: &Connection,
    base_url: &str,
    mut spec: PresentationRequestSpec,
    now: i64,
) -> Result<PresentationRequestCreated, String> {
    check_spec(&spec)?;
    if spec.claims.is_empty() {
        spec.claims = DEFAULT_CLAIMS
            .iter()
            .map(|c| c.to_string())
            .filter(|c| !spec.optional_claims.contains(c))
            .collect();
    }
    if spec.claims.is_empty() {
        return Err(
            "a request needs at least one required claim (the last claim_sets option)".into(),
        );
    }
    let replay_of = attacks::replayed_request(conn, spec.replay_of.as_deref())?;
    let query = dcql_query(&spec.claims, &spec.optional_claims);
    DcqlQuery::from_value(&query).map_err(|e| e.to_string())?;
    let id = random_token().map_err(|e| e.to_string())?;
    let nonce = random_token().map_err(|e| e.to_string())?;
    let state = random_token().map_err(|e| e.to_string())?;
    let mode = if spec.encrypted {
        ResponseMode::DirectPostJwt
    } else {
        ResponseMode::DirectPost
    };
    conn.execute(
        "INSERT INTO rp_requests (id, nonce, state, response_mode, dcql_query, created_at,
             expires_at, misbehave, replay_of) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            id,
            nonce,
            state,
            mode.name(),
            query.to_string(),
            now,
            now + REQUEST_TTL_SECS,
            spec.misbehave.map(Misbehaviour::name),
            replay_of
        ],
    )
    .map_err(|e| e.to_string())?;
    let request_uri = url::Url::parse(&format!("{base_url}v1/rp/request-objects/{id}"))
        .map_err(|e| e.to_string())?;
    let link = AuthorizationLink {
        client_id: SAMPLE_RP_CLIENT_ID.into(),
        request_uri,
        request_uri_method: RequestUriMethod::Post,
    };
    let purpose = spec.purpose.unwrap_or_else(|| {
        let mut names = spec.claims.clone();
        names.extend(
            spec.optional_claims
                .iter()
                .map(|c| format!("{c} (tuỳ chọn)")),
        );
        format!("Xác minh: {}", names.join(", "))
    });
    Ok(PresentationRequestCreated {
        id,
        link: link.to_uri(),
        purpose,
    })
}

struct StoredRequest {
    id: String,
    nonce: String,
    state: String,
    mode: ResponseMode,
    dcql_query: Value,
    expires_at: i64,
    outcome: Option<String>,
    result: Option<String>,
    misbehave: Option<Misbehaviour>,
    replay_of: Option<String>,
}

fn stored_request(
    conn: &Connection,
    column: &str,
    value: &str,
) -> rusqlite::Result<Option<StoredRequest>> {
    conn.query_row(
        &format!(
            "SELECT id, nonce, state, response_mode, dcql_query, expires_at, outcome, result,
                 misbehave, replay_of
             FROM rp_requests WHERE {column} = ?1"
        ),
        [value],
        |r| {
            let mode: String = r.get(3)?;
            let query: String = r.get(4)?;
            Ok(StoredRequest {
                id: r.get(0)?,
                nonce: r.get(1)?,
                state: r.get(2)?,
                mode: if mode == ResponseMode::DirectPostJwt.name() {
                    ResponseMode::DirectPostJwt
                } else {
                    ResponseMode::DirectPost
                },
                dcql_query: serde_json::from_str(&query).unwrap_or(Value::Null),
                expires_at: r.get(5)?,
                outcome: r.get(6)?,
                result: r.get(7)?,
                misbehave: r
                    .get::<_, Option<String>>(8)?
                    .as_deref()
                    .and_then(Misbehaviour::from_name),
                replay_of: r.get(9)?,
            })
        },
    )
    .optional()
}

/// The signed request object of request `id` at `now`, with `wallet_nonce` when the wallet sent
/// one; `None` for an unknown or expired request. A misbehaving request's object is wrong the
/// way it asked ([`attacks`]); a replay's carries the `nonce` and `state` of the request it
/// replays.
pub(crate) fn signed_request_object(
    conn: &Connection,
    base_url: &str,
    id: &str,
    wallet_nonce: Option<&str>,
    now: i64,
) -> Result<Option<String>, String> {
    let Some(request) = stored_request(conn, "id", id).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    if request.outcome.is_some() || now >= request.expires_at {
        return Ok(None);
    }
    let (nonce, state) = attacks::nonce_and_state(conn, &request)?;
    let key = keys::active(conn, KeyRole::RelyingParty, now).map_err(|e| e.to_string())?;
    let encryption = match request.mode {
        ResponseMode::DirectPost => None,
        ResponseMode::DirectPostJwt => {
            let enc_key = encryption_key(conn).map_err(|e| e.to_string())?;
            let jwk = enc_key.public_jwk().clone();
            let kid: String = jwk.thumbprint().chars().take(11).collect();
            Some(ResponseEncryption {
                jwk,
                kid: Some(kid),
                enc_values: vec![ContentEncryption::A128Gcm, ContentEncryption::A256Gcm],
            })
        }
    };
    let query = attacks::served_query(request.misbehave, &request.dcql_query);
    let mut object = RequestObject {
        client_id: SAMPLE_RP_CLIENT_ID.into(),
        response_mode: request.mode,
        response_uri: url::Url::parse(&format!("{base_url}v1/rp/responses"))
            .map_err(|e| e.to_string())?,
        nonce,
        state,
        iat: Some(now),
        exp: (now + REQUEST_OBJECT_TTL_SECS).min(request.expires_at),
        aud: Some(openid4vp::SELF_ISSUED_AUDIENCE.into()),
        dcql_query: DcqlQuery::from_value(&query).map_err(|e| e.to_string())?,
        encryption,
        wallet_nonce: wallet_nonce.map(str::to_owned),
    };
    attacks::bend_object(request.misbehave, &mut object, now)?;
    attacks::sign(request.misbehave, object, &key).map(Some)
}

/// What the relying party concluded from a response.
enum Outcome {
    Completed(PresentationResult),
    Declined(String),
    Failed(String),
}

/// Verifies `response` for `request`: one PID presentation, bound to the client id and the
/// request's nonce, issued by the sandbox, with the asked claims.
fn verify_response(
    conn: &Connection,
    base_url: &str,
    request: &StoredRequest,
    response: &AuthorizationResponse,
    now: i64,
) -> Result<PresentationResult, String> {
    if response.vp_token.len() != 1 {
        return Err("the vp_token must answer the one credential query".into());
    }
    let presentations = response
        .vp_token
        .get(PID_QUERY_ID)
        .ok_or("the vp_token does not answer the credential query `pid`")?;
    let [presentation] = presentations.as_slice() else {
        return Err("one presentation of the PID is expected".into());
    };
    let issuer_keys: Vec<_> = keys::all(conn, KeyRole::Issuer)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|key| key.public_key().clone())
        .collect();
    let claims = verify_presentation(
        presentation,
        &PresentationCheck {
            issuer_keys: &issuer_keys,
            audience: SAMPLE_RP_CLIENT_ID,
            nonce: &request.nonce,
            max_age_secs: KB_MAX_AGE_SECS,
            clock_skew_secs: CLOCK_SKEW_SECS,
            now,
            sd_jwt_vc: true,
        },
    )
    .map_err(|e| format!("the presentation does not verify: {e}"))?;
    let Value::Object(claims) = claims else {
        return Err("the presentation has no claims".into());
    };
    if claims.get("vct").and_then(Value::as_str) != Some(PID_VCT)
        || claims.get("iss").and_then(Value::as_str) != Some(base_url)
    {
        return Err("the credential is not the sandbox's PID".into());
    }
    let query = DcqlQuery::from_value(&request.dcql_query).map_err(|e| e.to_string())?;
    let credential = query
        .credentials
        .first()
        .ok_or("the request has no credential query")?;
    let mut presented = Map::new();
    for (index, claim) in credential.claims.iter().enumerate() {
        let name = citizen_core::dcql::top_name(&claim.path).ok_or("a claim path has no name")?;
        match claims.get(name) {
            Some(value) => {
                presented.insert(name.to_owned(), value.clone());
            }
            None if credential.is_required(index) => {
                return Err(format!("the required claim `{name}` was not presented"));
            }
            None => {}
        }
    }
    let status = credential_status(conn, base_url, &claims, now)?;
    Ok(PresentationResult {
        state: "completed".into(),
        claims: presented,
        key_binding: true,
        status: Some(status),
        error: None,
    })
}

/// The status of the presented credential, as any relying party would learn it: from the
/// issuer's signed `statuslist+jwt` (the token the status endpoint serves), verified with the
/// issuer's keys, never from the issuer's database.
fn credential_status(
    conn: &Connection,
    base_url: &str,
    claims: &Map<String, Value>,
    now: i64,
) -> Result<String, String> {
    use crate::issuer::store;
    use citizen_core::status_list::StatusListToken;
    let reference = &claims.get("status").unwrap_or(&Value::Null)["status_list"];
    let (Some(uri), Some(idx)) = (reference["uri"].as_str(), reference["idx"].as_u64()) else {
        return Ok("unknown".into());
    };
    if uri != store::status_list_uri(base_url) {
        return Ok("unknown".into());
    }
    let Some((token, _etag)) = store::status_list_token(conn, store::STATUS_LIST_ID, base_url, now)
        .map_err(|e| e.to_string())?
    else {
        return Ok("unknown".into());
    };
    let issuer_keys = keys::all(conn, KeyRole::Issuer).map_err(|e| e.to_string())?;
    let lookup = |kid: &str| {
        issuer_keys
            .iter()
            .find(|key| key.kid == kid)
            .map(|key| key.public_key().clone())
    };
    let verified = StatusListToken::verify(&token, lookup, uri, now)
        .map_err(|e| format!("the status list does not verify: {e}"))?;
    Ok(match verified.list.status(idx) {
        Ok(0) => "valid",
        Ok(1) => "revoked",
        Ok(2) => "suspended",
        _ => "unknown",
    }
    .into())
}

fn form_param(body: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

/// Handles a posted response: `Ok(redirect)` once recorded as completed or declined,
/// `Err((status, error, description))` otherwise (a failed verification is recorded too).
fn handle_response(
    conn: &Connection,
    base_url: &str,
    body: &[u8],
    now: i64,
) -> Result<Option<String>, (StatusCode, &'static str, String)> {
    let invalid = |d: String| (StatusCode::BAD_REQUEST, "invalid_request", d);
    let internal = |e: rusqlite::Error| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            e.to_string(),
        )
    };
    let encrypted = DirectPost::is_encrypted_form(body);
    let post = if encrypted {
        let key = encryption_key(conn).map_err(internal)?;
        DirectPost::from_encrypted_form(body, &key)
    } else {
        DirectPost::from_form(body)
    }
    .map_err(|e| invalid(e.to_string()))?;
    let state = match &post {
        DirectPost::Response(r) => &r.state,
        DirectPost::Error(e) => &e.state,
    };
    let request = stored_request(conn, "state", state)
        .map_err(internal)?
        .ok_or_else(|| invalid("unknown state".into()))?;
    if request.outcome.is_some() {
        return Err(invalid("the request was already answered".into()));
    }
    if now >= request.expires_at {
        return Err(invalid("the request has expired".into()));
    }
    if encrypted != (request.mode == ResponseMode::DirectPostJwt) {
        return Err(invalid(format!(
            "the request asked for response_mode {}",
            request.mode.name()
        )));
    }
    let outcome = match &post {
        DirectPost::Error(ErrorResponse { error, .. }) => Outcome::Declined(error.clone()),
        DirectPost::Response(response) => {
            match attacks::refusal(request.misbehave, request.replay_of.as_deref()) {
                Some(error) => Outcome::Failed(error),
                None => match verify_response(conn, base_url, &request, response, now) {
                    Ok(result) => Outcome::Completed(result),
                    Err(error) => Outcome::Failed(error),
                },
            }
        }
    };
    let (name, result, failure) = match outcome {
        Outcome::Completed(result) => ("completed", result, None),
        Outcome::Declined(error) => ("declined", empty_result("declined", Some(error)), None),
        Outcome::Failed(error) => (
            "failed",
            empty_result("failed", Some(error.clone())),
            Some(error),
        ),
    };
    let response_code = random_token().map_err(|e| invalid(e.to_string()))?;
    // Only a pending request takes an outcome: of two concurrent answers, one wins.
    let updated = conn
        .execute(
            "UPDATE rp_requests SET outcome = ?2, result = ?3, response_code = ?4
             WHERE id = ?1 AND outcome IS NULL",
            params![
                request.id,
                name,
                serde_json::to_string(&result).unwrap_or_default(),
                response_code
            ],
        )
        .map_err(internal)?;
    if updated == 0 {
        return Err(invalid("the request was already answered".into()));
    }
    tracing::info!(outcome = name, "relying party response recorded");
    match failure {
        Some(error) => Err(invalid(error)),
        None => Ok(Some(format!(
            "{base_url}v1/test/rp/results/{}?response_code={response_code}",
            request.id
        ))),
    }
}

fn empty_result(state: &str, error: Option<String>) -> PresentationResult {
    PresentationResult {
        state: state.into(),
        claims: Map::new(),
        key_binding: false,
        status: None,
        error,
    }
}

/// What the relying party knows of request `id`; `None` for an unknown one.
pub(crate) fn presentation_result(
    conn: &Connection,
    id: &str,
) -> rusqlite::Result<Option<PresentationResult>> {
    Ok(stored_request(conn, "id", id)?.map(|request| {
        request
            .result
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_else(|| empty_result(request.outcome.as_deref().unwrap_or("pending"), None))
    }))
}

fn random_token() -> Result<String, ring::error::Unspecified> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 24];
    ring::rand::SystemRandom::new().fill(&mut bytes)?;
    Ok(base64url::encode(bytes))
}

// --- handlers -----------------------------------------------------------------------------------

async fn create_request(State(state): State<PortalState>, body: Bytes) -> Response {
    let spec: PresentationRequestSpec = if body.is_empty() {
        PresentationRequestSpec::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(spec) => spec,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    &format!("not a request: {e}"),
                );
            }
        }
    };
    let base_url = state.base_url().to_owned();
    match state.with_conn(|conn| new_request(conn, &base_url, spec, now())) {
        Ok(created) => (StatusCode::CREATED, Json(created)).into_response(),
        Err(description) => error(StatusCode::BAD_REQUEST, "invalid_request", &description),
    }
}

async fn request_object(
    State(state): State<PortalState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let wallet_nonce = form_param(&body, "wallet_nonce");
    if wallet_nonce
        .as_deref()
        .is_some_and(|n| n.is_empty() || n.len() > openid4vp::MAX_VALUE_LEN)
    {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "bad wallet_nonce",
        );
    }
    let base_url = state.base_url().to_owned();
    let signed = state.with_conn(|conn| {
        signed_request_object(conn, &base_url, &id, wallet_nonce.as_deref(), now())
    });
    match signed {
        Ok(Some(jws)) => (
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(REQUEST_OBJECT_CONTENT_TYPE),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            jws,
        )
            .into_response(),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            "invalid_request_uri",
            "no such pending request",
        ),
        Err(description) => {
            tracing::error!(%description, "request object could not be signed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal",
            )
        }
    }
}

async fn response(State(state): State<PortalState>, body: Bytes) -> Response {
    let base_url = state.base_url().to_owned();
    match state.with_conn(|conn| handle_response(conn, &base_url, &body, now())) {
        Ok(Some(redirect_uri)) => Json(json!({ "redirect_uri": redirect_uri })).into_response(),
        Ok(None) => Json(json!({})).into_response(),
        Err((status, code, description)) => error(status, code, &description),
    }
}

async fn result(State(state): State<PortalState>, Path(id): Path<String>) -> Response {
    match state.with_conn(|conn| presentation_result(conn, &id)) {
        Ok(Some(result)) => Json(result).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "not_found", "no such request"),
        Err(e) => {
            tracing::error!(error = %e, "result lookup failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal",
            )
        }
    }
}

fn error(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(json!({ "error": code, "error_description": description })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_encryption_key_persists_and_optional_claims_make_claim_sets() {
        let conn = Connection::open_in_memory().unwrap();
        create_tables(&conn).unwrap();
        let key = encryption_key(&conn).unwrap();
        assert_eq!(
            encryption_key(&conn).unwrap().public_jwk(),
            key.public_jwk()
        );

        let query = DcqlQuery::from_value(&dcql_query(
            &["full_name".into()],
            &["id_number".into(), "birth_date".into()],
        ))
        .unwrap();
        let credential = &query.credentials[0];
        assert_eq!(credential.vct_values, vec![PID_VCT]);
        assert!(credential.is_required(0));
        assert!(!credential.is_required(1) && !credential.is_required(2));
        // Every subset of the optional claims, most claims first, in the query's order.
        assert_eq!(
            credential.claim_sets,
            vec![
                vec!["full_name", "id_number", "birth_date"],
                vec!["full_name", "id_number"],
                vec!["full_name", "birth_date"],
                vec!["full_name"],
            ]
        );
        let optional: Vec<String> = [
            "birth_date",
            "age_over_18",
            "id_number",
            "place_of_residence",
        ]
        .map(String::from)
        .to_vec();
        let four = DcqlQuery::from_value(&dcql_query(&["full_name".into()], &optional)).unwrap();
        let sets = &four.credentials[0].claim_sets;
        assert_eq!(sets.len(), dcql::MAX_SETS);
        assert_eq!(sets[0].len(), 5);
        assert_eq!(sets[15], vec!["full_name"]);
        let sizes: Vec<usize> = sets.iter().map(Vec::len).collect();
        assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
        assert_eq!(
            sets[5..11].to_vec(),
            [
                ["full_name", "birth_date", "age_over_18"],
                ["full_name", "birth_date", "id_number"],
                ["full_name", "birth_date", "place_of_residence"],
                ["full_name", "age_over_18", "id_number"],
                ["full_name", "age_over_18", "place_of_residence"],
                ["full_name", "id_number", "place_of_residence"],
            ]
            .map(|o| o.map(String::from).to_vec())
        );
        let unique: std::collections::HashSet<&Vec<String>> = sets.iter().collect();
        assert_eq!(unique.len(), 16);
        let all_required = DcqlQuery::from_value(&dcql_query(&["full_name".into()], &[])).unwrap();
        assert!(all_required.credentials[0].claim_sets.is_empty());
    }

    #[test]
    fn a_spec_asks_only_for_allowed_claims() {
        let spec = |claims: &[&str], optional: &[&str]| PresentationRequestSpec {
            claims: claims.iter().map(|c| c.to_string()).collect(),
            optional_claims: optional.iter().map(|c| c.to_string()).collect(),
            ..Default::default()
        };
        assert!(check_spec(&spec(&["full_name"], &["id_number"])).is_ok());
        assert!(check_spec(&spec(&["sex"], &[])).is_err());
        assert!(check_spec(&spec(&["full_name"], &["full_name"])).is_err());
        assert!(!SAMPLE_RP_ALLOWED_CLAIMS.contains(&attacks::FORBIDDEN_CLAIM));
        // Five optional claims would need 32 claim_sets options.
        let five = spec(&[], &SAMPLE_RP_ALLOWED_CLAIMS);
        assert!(
            check_spec(&five)
                .unwrap_err()
                .contains("at most 4 optional claims")
        );
        assert!(check_spec(&spec(&["full_name"], &SAMPLE_RP_ALLOWED_CLAIMS[1..])).is_ok());
        let both = PresentationRequestSpec {
            misbehave: Some(Misbehaviour::Expired),
            replay_of: Some("x".into()),
            ..spec(&["full_name"], &[])
        };
        assert!(check_spec(&both).is_err());
        let conn = Connection::open_in_memory().unwrap();
        create_tables(&conn).unwrap();
        let created = new_request(
            &conn,
            "https://127.0.0.1:1/",
            spec(&[], &["full_name"]),
            100,
        )
        .unwrap();
        // The default claims minus the optional one.
        assert!(created.purpose.contains("age_over_18"));
        assert!(created.link.contains("request_uri_method=post"));
        // Every default claim optional: nothing required is refused.
        let none_required = spec(&[], &["full_name", "age_over_18"]);
        let refused = new_request(&conn, "https://127.0.0.1:1/", none_required, 100);
        assert!(refused.unwrap_err().contains("at least one required claim"));
        let unknown = PresentationRequestSpec {
            replay_of: Some("no-such-request".into()),
            ..spec(&["full_name"], &[])
        };
        let refused = new_request(&conn, "https://127.0.0.1:1/", unknown, 100);
        assert_eq!(refused.unwrap_err(), "replay_of names no request");
    }

    #[test]
    fn misbehaviours_have_their_json_names_and_are_stored() {
        for misbehaviour in Misbehaviour::ALL {
            let json = serde_json::to_value(misbehaviour).unwrap();
            assert_eq!(json, misbehaviour.name());
            assert_eq!(
                Misbehaviour::from_name(misbehaviour.name()),
                Some(misbehaviour)
            );
        }
        let spec: PresentationRequestSpec =
            serde_json::from_value(json!({"misbehave": "response_uri_elsewhere"})).unwrap();
        assert_eq!(spec.misbehave, Some(Misbehaviour::ResponseUriElsewhere));
        assert!(
            serde_json::from_value::<PresentationRequestSpec>(json!({"misbehave": "nope"}))
                .is_err()
        );
        let conn = Connection::open_in_memory().unwrap();
        create_tables(&conn).unwrap();
        let base = "https://127.0.0.1:1/";
        let first = new_request(&conn, base, spec, 100).unwrap();
        let stored = stored_request(&conn, "id", &first.id).unwrap().unwrap();
        assert_eq!(stored.misbehave, Some(Misbehaviour::ResponseUriElsewhere));
        // A replay of a replay names the first request.
        let replay = |of: &str| PresentationRequestSpec {
            replay_of: Some(of.into()),
            ..Default::default()
        };
        let second = new_request(&conn, base, replay(&first.id), 100).unwrap();
        let third = new_request(&conn, base, replay(&second.id), 100).unwrap();
        let stored = stored_request(&conn, "id", &third.id).unwrap().unwrap();
        assert_eq!(stored.replay_of.as_deref(), Some(first.id.as_str()));
        assert!(stored.misbehave.is_none());
    }
}
