//! The sandbox's HTTPS server: routes, request logging, start and shutdown.
//!
//! Owns: the axum router implementing `docs/portal-api.yaml` and serving it over TLS on a chosen
//! address. Each endpoint answers from `state`; the response types are the SDK's own
//! (`citizen_core::portal`), so the sandbox and the SDK cannot drift apart silently.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use citizen_core::portal::{API_VERSION, PingResponse};

use crate::enrollment::{EnrollmentError, EnrollmentRequest};
use crate::state::PortalState;
use crate::{SandboxConfig, SandboxError, tls};

/// A sandbox portal listening on HTTPS. Dropping it stops the server.
pub struct RunningSandbox {
    pub addr: SocketAddr,
    /// `https://127.0.0.1:PORT/`
    pub base_url: String,
    /// The CA that signed the server certificate, to put in `trusted_roots_pem`.
    pub ca_pem: String,
    /// `<data>/ca.pem`
    pub ca_pem_path: PathBuf,
    /// A valid pin for `portal_spki_pins` (the leaf key).
    pub spki_pin: String,
    /// Also valid: the CA key's pin.
    pub ca_spki_pin: String,
    pub portal_name: String,
    /// The key apps configure as their trust anchor: it signs the trust list.
    pub trust_anchor: citizen_core::jose::EcPublicJwk,
    /// Its key id (the JWK thumbprint), as the trust list's JWS header names it.
    pub trust_anchor_kid: String,
    state: PortalState,
    handle: Handle<SocketAddr>,
    /// The clerk's background task (`tracking`), stopped with the server.
    clerk: tokio::task::AbortHandle,
}

impl RunningSandbox {
    /// How many requests for `path` (e.g. `/v1/ping`) reached the portal.
    pub fn requests_for(&self, path: &str) -> Result<u64, SandboxError> {
        self.state.requests_for(path)
    }

    /// How many requests for `path` the portal answered with HTTP `status` (e.g. `304`).
    pub fn responses_for(&self, path: &str, status: u16) -> Result<u64, SandboxError> {
        self.state.responses_for(path, status)
    }

    /// Enrols a citizen (as `POST /v1/test/enrollments` does), for in-process tests.
    pub fn enroll(
        &self,
        request: &crate::enrollment::EnrollmentRequest,
    ) -> Result<crate::enrollment::Enrollment, SandboxError> {
        self.state
            .enroll(request)
            .map_err(|e| SandboxError::Enrollment(e.to_string()))
    }

    /// Sets the status of every credential issued to `id_number` (as
    /// `POST /v1/test/credential-status` does); returns how many there were. `status` is a
    /// [`CredentialStatus`](crate::issuer::CredentialStatus) or its name (`"revoked"`, ...).
    pub fn set_credential_status<S>(&self, id_number: &str, status: S) -> Result<u64, SandboxError>
    where
        S: TryInto<crate::issuer::CredentialStatus>,
        S::Error: std::fmt::Display,
    {
        let status = status
            .try_into()
            .map_err(|e| SandboxError::Issuer(e.to_string()))?;
        self.state
            .with_conn(|conn| crate::issuer::set_status(conn, id_number, status))
    }

    /// Makes a presentation request of the sandbox's relying party (as
    /// `POST /v1/test/rp/requests` does), for in-process tests and the demo.
    pub fn rp_request(
        &self,
        spec: crate::relying_party::PresentationRequestSpec,
    ) -> Result<crate::relying_party::PresentationRequestCreated, SandboxError> {
        let base_url = self.base_url.clone();
        self.state
            .with_conn(|conn| {
                crate::relying_party::new_request(conn, &base_url, spec, crate::state::now())
            })
            .map_err(SandboxError::RelyingParty)
    }

    /// Mints an EU DCC: an `HC1:` vaccination certificate of test data signed by the sandbox's
    /// health signer (as `POST /v1/test/dcc` does), for in-process tests.
    pub fn mint_dcc(
        &self,
        request: &crate::health::MintDccRequest,
    ) -> Result<String, SandboxError> {
        self.state
            .with_conn(|conn| crate::health::mint_dcc(conn, request, crate::state::now()))
            .map(|(text, _)| text)
            .map_err(SandboxError::Health)
    }

    /// What the relying party verified for request `id` (as `GET /v1/test/rp/results/{id}`
    /// says); `None` for an unknown request.
    pub fn rp_result(
        &self,
        id: &str,
    ) -> Result<Option<crate::relying_party::PresentationResult>, SandboxError> {
        Ok(self
            .state
            .with_conn(|conn| crate::relying_party::presentation_result(conn, id))?)
    }

    /// The credential issuer's active signing key and its key id (the `kid` its credentials and
    /// status lists carry), to verify what it issues.
    pub fn issuer_key(&self) -> Result<(String, citizen_core::jose::EcPublicJwk), SandboxError> {
        let key = self.state.with_conn(|conn| {
            crate::keys::active(conn, crate::keys::KeyRole::Issuer, crate::state::now())
        })?;
        Ok((key.kid.clone(), key.public_key().clone()))
    }

    /// Every key the credential issuer ever signed with, newest (the active one) first, as
    /// `(kid, key, retired_at)`: credentials issued before a rotation verify with a retired key.
    pub fn issuer_keys(
        &self,
    ) -> Result<Vec<(String, citizen_core::jose::EcPublicJwk, Option<i64>)>, SandboxError> {
        self.keys_of(crate::keys::KeyRole::Issuer)
    }

    /// Every key `role` ever had, the active one first, then the most recently retired.
    fn keys_of(
        &self,
        role: crate::keys::KeyRole,
    ) -> Result<Vec<(String, citizen_core::jose::EcPublicJwk, Option<i64>)>, SandboxError> {
        let mut keys = self.state.with_conn(|conn| crate::keys::all(conn, role))?;
        // Keys made within one second are not ordered by `created_at` alone: the active key
        // first, then the most recently retired.
        keys.sort_by_key(|key| {
            (
                key.retired_at.is_some(),
                std::cmp::Reverse(key.retired_at),
                std::cmp::Reverse(key.created_at),
            )
        });
        Ok(keys
            .into_iter()
            .map(|key| (key.kid.clone(), key.public_key().clone(), key.retired_at))
            .collect())
    }

    /// Retires the credential issuer's key and makes a new one, which signs from now on
    /// (credentials and status lists); returns its key id and public key.
    pub fn rotate_issuer_key(
        &self,
    ) -> Result<(String, citizen_core::jose::EcPublicJwk), SandboxError> {
        self.rotate(crate::keys::KeyRole::Issuer)
    }

    /// Retires `role`'s active key and makes a new one; returns its key id and public key.
    fn rotate(
        &self,
        role: crate::keys::KeyRole,
    ) -> Result<(String, citizen_core::jose::EcPublicJwk), SandboxError> {
        let key = self
            .state
            .with_conn(|conn| crate::keys::rotate(conn, role, crate::state::now()))?;
        Ok((key.kid.clone(), key.public_key().clone()))
    }

    /// The URI of the status list the issuer's credentials reference.
    pub fn status_list_uri(&self) -> String {
        crate::issuer::store::status_list_uri(&self.base_url)
    }

    /// Replaces the trust-anchor key with a new one, so the lists served from now on are signed
    /// by a key that apps configured with [`RunningSandbox::trust_anchor`] do not trust (what an
    /// anchor rotation without an app update looks like). Returns the new key's id and key.
    pub fn rotate_trust_anchor(
        &self,
    ) -> Result<(String, citizen_core::jose::EcPublicJwk), SandboxError> {
        self.rotate(crate::keys::KeyRole::TrustAnchor)
    }

    /// Mints a venue or counter code of the sandbox agency (as `POST /v1/test/venues` does).
    pub fn mint_venue(
        &self,
        request: &citizen_core::checkin::wire::MintVenueRequest,
    ) -> Result<citizen_core::checkin::wire::MintedVenue, SandboxError> {
        Ok(self
            .state
            .with_conn(|conn| crate::checkin::mint_venue(conn, request, crate::state::now()))?)
    }

    /// Publishes an exposure notice for a minted venue (as `POST /v1/test/notices` does); the
    /// next `GET /v1/checkins/notices` serves it.
    pub fn notify(
        &self,
        request: &citizen_core::checkin::wire::NotifyRequest,
    ) -> Result<crate::checkin::PublishedNotice, SandboxError> {
        Ok(self
            .state
            .with_conn(|conn| crate::checkin::notify(conn, request, crate::state::now()))?)
    }

    /// Sets how many seconds a counter takes to call its next ticket, for the tickets issued
    /// from now on (as `POST /v1/test/queues/pace` does); 1 to 3600.
    pub fn set_queue_pace(&self, seconds_per_call: u32) -> Result<(), SandboxError> {
        Ok(self
            .state
            .with_conn(|conn| crate::checkin::set_pace(conn, seconds_per_call))?)
    }

    /// Every share of diary entries the portal accepted, in order of arrival (as
    /// `GET /v1/test/shares` says).
    pub fn shares(&self) -> Result<Vec<crate::checkin::ReceivedShare>, SandboxError> {
        Ok(self.state.with_conn(crate::checkin::shares)?)
    }

    /// Every venue-signer key of the sandbox agency, the active one first, as
    /// `(kid, key, retired_at)`.
    pub fn venue_keys(
        &self,
    ) -> Result<Vec<(String, citizen_core::jose::EcPublicJwk, Option<i64>)>, SandboxError> {
        // Made on first use, like the trust list does.
        self.state.with_conn(|conn| {
            crate::keys::active(conn, crate::keys::KeyRole::VenueSigner, crate::state::now())
        })?;
        self.keys_of(crate::keys::KeyRole::VenueSigner)
    }

    /// Retires the agency's venue key and makes a new one, which signs codes and notices from
    /// now on (codes minted before stay valid: the trust list keeps the retired key with its
    /// window); returns its key id and public key.
    pub fn rotate_venue_key(
        &self,
    ) -> Result<(String, citizen_core::jose::EcPublicJwk), SandboxError> {
        self.rotate(crate::keys::KeyRole::VenueSigner)
    }

    /// Sets the `max_age` (seconds) of the trust lists published from now on; `0` makes a
    /// fetched list stale at once.
    /// Sets the fault knobs of the dossier and upload endpoints (all zero: no faults).
    pub fn set_faults(&self, faults: crate::faults::Faults) -> Result<(), SandboxError> {
        self.state
            .faults()
            .set(faults)
            .map_err(|field| SandboxError::InvalidArgument(field.to_string()))
    }

    /// Every dossier the portal received, oldest first.
    pub fn dossiers(&self) -> Result<Vec<crate::dossiers::ReceivedDossier>, SandboxError> {
        Ok(self.state.with_conn(crate::dossiers::received)?)
    }

    pub fn set_trust_list_max_age(&self, seconds: u64) -> Result<(), SandboxError> {
        Ok(self
            .state
            .with_conn(|conn| crate::trust::set_max_age(conn, seconds))?)
    }

    /// The trust anchor to put in an app's `CitizenConfig.trust_anchors`.
    pub fn trust_anchor_config(&self) -> citizen_core::TrustAnchor {
        citizen_core::TrustAnchor {
            kid: self.trust_anchor_kid.clone(),
            jwk: self.trust_anchor.clone(),
        }
    }

    /// The portal's state, for helpers defined beside their capability.
    pub(crate) fn portal_state(&self) -> &PortalState {
        &self.state
    }

    /// Stops accepting connections and lets open ones finish for up to a second.
    pub fn shutdown(&self) {
        self.clerk.abort();
        self.handle.graceful_shutdown(Some(Duration::from_secs(1)));
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        self.clerk.abort();
        self.handle.shutdown();
    }
}

/// Starts a sandbox on the current tokio runtime and returns once it listens.
pub async fn start(config: SandboxConfig) -> Result<RunningSandbox, SandboxError> {
    let state = PortalState::open(&config.data_dir, config.portal_name)?;
    let tls = tls::generate()?;
    let ca_pem_path = config.data_dir.join("ca.pem");
    std::fs::write(&ca_pem_path, &tls.ca_pem)?;

    let app = router(state.clone());
    let handle = Handle::new();
    let server =
        axum_server::bind_rustls(config.bind, RustlsConfig::from_config(tls.server_config))
            .handle(handle.clone());
    tokio::spawn(async move {
        if let Err(error) = server.serve(app.into_make_service()).await {
            tracing::error!(%error, "sandbox server stopped");
        }
    });
    let addr = handle.listening().await.ok_or(SandboxError::NotListening)?;
    state.set_base_url(format!("https://{addr}/"));
    tracing::info!(%addr, "sandbox portal listening");
    let trust_anchor = state.with_conn(|conn| {
        crate::keys::active(conn, crate::keys::KeyRole::TrustAnchor, crate::state::now())
    })?;
    Ok(RunningSandbox {
        addr,
        base_url: format!("https://{addr}/"),
        ca_pem: tls.ca_pem,
        ca_pem_path,
        spki_pin: tls.leaf_pin,
        ca_spki_pin: tls.ca_pin,
        portal_name: state.portal_name.clone(),
        trust_anchor: trust_anchor.public_key().clone(),
        trust_anchor_kid: trust_anchor.kid.clone(),
        clerk: tokio::spawn(crate::tracking::run_clerk(state.clone())).abort_handle(),
        state,
        handle,
    })
}

fn router(state: PortalState) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/v1/ping", get(ping))
        .route("/v1/test/enrollments", post(enroll))
        .merge(crate::trust::routes())
        .merge(crate::issuer::routes())
        .merge(crate::relying_party::routes())
        .merge(crate::health::routes())
        .merge(crate::checkin::routes())
        .merge(crate::catalogue::routes())
        .merge(crate::dossiers::routes())
        .merge(crate::tracking::routes())
        .merge(crate::bank::routes())
        .route("/v1/test/faults", post(crate::faults::set_handler))
        .merge(crate::tus::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::faults::inject,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), log_request))
        .with_state(state)
}

async fn ping(State(state): State<PortalState>) -> Json<PingResponse> {
    Json(PingResponse {
        portal_name: state.portal_name.clone(),
        api_version: API_VERSION,
        server_time: crate::state::now(),
    })
}

/// Sandbox only: what a registration at a police station would do.
async fn enroll(
    State(state): State<PortalState>,
    Json(request): Json<EnrollmentRequest>,
) -> Response {
    match state.enroll(&request) {
        Ok(enrollment) => (StatusCode::CREATED, Json(enrollment)).into_response(),
        Err(EnrollmentError::Invalid(field)) => (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({ "error": "invalid_field", "field": field })),
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "enrolment failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(serde_json::json!({ "error": "internal" })),
            )
                .into_response()
        }
    }
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({ "error": "not_found" })),
    )
        .into_response()
}

async fn log_request(State(state): State<PortalState>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    state.log_request(&method, &path, response.status().as_u16());
    response
}

#[cfg(test)]
mod tests {
    /// Every route the sandbox serves is in `docs/portal-api.yaml`, the contract agency
    /// developers build against.
    #[test]
    fn every_route_is_in_the_openapi_document() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let api = std::fs::read_to_string(root.join("../docs/portal-api.yaml")).unwrap();
        let mut sources = vec![root.join("src")];
        let mut routes = Vec::new();
        while let Some(path) = sources.pop() {
            if path.is_dir() {
                sources.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for piece in text.split(".route(").skip(1) {
                let piece = piece.trim_start();
                if let Some(rest) = piece.strip_prefix('"') {
                    routes.push(rest[..rest.find('"').unwrap()].to_string());
                }
            }
        }
        assert!(routes.len() > 30, "{routes:?}");
        let missing: Vec<&String> = routes
            .iter()
            // Not this test's own text.
            .filter(|route| route.starts_with('/'))
            .filter(|route| !api.contains(&format!("\n  {route}:\n")))
            .collect();
        assert!(
            missing.is_empty(),
            "not in docs/portal-api.yaml: {missing:?}"
        );
    }
}
