//! `citizen-sandbox`: the reference agency portal, for tests, demos and agency developers.
//!
//! Owns: an HTTPS server ([`start`]) that implements `docs/portal-api.yaml` with its own CA and
//! leaf certificate made at start, persisting its state in SQLite in a data directory; and the
//! scripted citizen journey ([`demo`]) that drives the SDK's public Rust API against it. Does not
//! own any SDK logic: it talks to the SDK only the way an app or a real portal would.

pub mod bank;
pub mod catalogue;
pub mod checkin;
pub mod demo;
pub mod dossiers;
pub mod enrollment;
pub mod faults;
pub mod health;
pub mod issuer;
pub mod keys;
pub mod relying_party;
mod server;
mod state;
mod tls;
pub mod tracking;
pub mod trust;
pub mod tus;

use std::net::SocketAddr;
use std::path::PathBuf;

pub use server::{RunningSandbox, start};

/// Enrols a citizen in the sandbox whose data lives in `data_dir`, without a running server
/// (`citizen-sandbox enroll`). A running sandbox on the same directory sees the enrolment.
pub fn enroll_offline(
    data_dir: &std::path::Path,
    request: &enrollment::EnrollmentRequest,
) -> Result<enrollment::Enrollment, SandboxError> {
    let state = state::PortalState::open(data_dir, None)?;
    state
        .enroll(request)
        .map_err(|e| SandboxError::Enrollment(e.to_string()))
}

/// Sets the status of every credential the sandbox issued to `id_number`, without a running
/// server (`citizen-sandbox revoke`); returns how many credentials that was. The next status list
/// a running sandbox on the same directory serves shows it.
pub fn set_credential_status_offline(
    data_dir: &std::path::Path,
    id_number: &str,
    status: issuer::CredentialStatus,
) -> Result<u64, SandboxError> {
    let state = state::PortalState::open(data_dir, None)?;
    state.with_conn(|conn| issuer::set_status(conn, id_number, status))
}

/// Makes a presentation request of the sandbox's relying party in the sandbox whose data lives
/// in `data_dir` (`citizen-sandbox rp-request`); `base_url` is the running sandbox's.
pub fn rp_request_offline(
    data_dir: &std::path::Path,
    base_url: &str,
    spec: relying_party::PresentationRequestSpec,
) -> Result<relying_party::PresentationRequestCreated, SandboxError> {
    let state = state::PortalState::open(data_dir, None)?;
    state
        .with_conn(|conn| relying_party::new_request(conn, base_url, spec, state::now()))
        .map_err(SandboxError::RelyingParty)
}

/// Mints a venue or counter code of the sandbox agency in the sandbox whose data lives in
/// `data_dir`, without a running server (`citizen-sandbox mint-venue`). A running sandbox on the
/// same directory knows the venue (its queue, its notices) at once.
pub fn mint_venue_offline(
    data_dir: &std::path::Path,
    request: &citizen_core::checkin::wire::MintVenueRequest,
) -> Result<citizen_core::checkin::wire::MintedVenue, SandboxError> {
    let state = state::PortalState::open(data_dir, None)?;
    Ok(state.with_conn(|conn| checkin::mint_venue(conn, request, state::now()))?)
}

/// Publishes an exposure notice in the sandbox whose data lives in `data_dir`, without a running
/// server (`citizen-sandbox notify`); a running sandbox on the same directory serves it next.
pub fn notify_offline(
    data_dir: &std::path::Path,
    request: &citizen_core::checkin::wire::NotifyRequest,
) -> Result<checkin::PublishedNotice, SandboxError> {
    let state = state::PortalState::open(data_dir, None)?;
    Ok(state.with_conn(|conn| checkin::notify(conn, request, state::now()))?)
}

/// Pays a dossier's fee from the VietQR text a phone shows, in the sandbox whose data lives in
/// `data_dir`, without a running server (`citizen-sandbox pay`); a running sandbox on the same
/// directory reports `fee_paid` at once and completes the dossier one pace later.
pub fn pay_offline(
    data_dir: &std::path::Path,
    qr_text: &str,
) -> Result<bank::Transfer, SandboxError> {
    let state = state::PortalState::open(data_dir, None)?;
    Ok(state.with_conn(|conn| bank::pay(conn, qr_text, state::now()))?)
}

impl RunningSandbox {
    /// Sets the clerk's policy (pace, supplement, rejection, fee), as `POST /v1/test/clerk`
    /// does; the clerk uses it from its next tick.
    pub fn set_clerk(&self, policy: tracking::ClerkPolicy) -> Result<(), SandboxError> {
        self.portal_state()
            .with_conn(|conn| tracking::set_policy(conn, &policy))
            .map_err(|e| SandboxError::InvalidArgument(e.to_string()))
    }

    /// Every status change of dossier `dossier_id` (its manifest's `jti`), oldest first, as its
    /// device's feed (`GET /v1/dossiers/changes`) shows them.
    pub fn status_changes(
        &self,
        dossier_id: &str,
    ) -> Result<Vec<citizen_core::dossier::status_feed::StatusChange>, SandboxError> {
        Ok(self
            .portal_state()
            .with_conn(|conn| tracking::changes_of(conn, dossier_id))?)
    }

    /// The clerk's policy in force.
    pub fn clerk(&self) -> Result<tracking::ClerkPolicy, SandboxError> {
        Ok(self.portal_state().with_conn(tracking::policy)?)
    }

    /// Pays a dossier's fee from the VietQR text a phone shows (as `POST /v1/bank/transfers`
    /// does).
    pub fn pay(&self, qr_text: &str) -> Result<bank::Transfer, SandboxError> {
        Ok(self
            .portal_state()
            .with_conn(|conn| bank::pay(conn, qr_text, state::now()))?)
    }

    /// Changes, withdraws and adds catalogue procedures and arms broken answers (as
    /// `POST /v1/test/catalogue/revise` does), so a delta sync has something to fetch.
    pub fn revise_catalogue(
        &self,
        request: &citizen_core::dossier::wire::ReviseRequest,
    ) -> Result<citizen_core::dossier::wire::Revised, SandboxError> {
        Ok(self
            .portal_state()
            .with_conn(|conn| catalogue::revise(conn, request))?)
    }

    /// Publishes `procedure` in the catalogue (new, or replacing the one with its code), as the
    /// latest change a delta sync fetches. For benches and tests that need a procedure the
    /// generated catalogue does not have.
    pub fn publish_procedure(
        &self,
        procedure: &citizen_core::dossier::Procedure,
    ) -> Result<(), SandboxError> {
        Ok(self
            .portal_state()
            .with_conn(|conn| catalogue::publish(conn, procedure))?)
    }

    /// Sets the tus server's fault knobs (cuts mid-`PATCH`, latency, hostile answers); the
    /// `PATCH` count behind `skip_patches` restarts from now. `TusFaults::default()` clears them.
    pub fn set_tus_faults(&self, faults: tus::TusFaults) {
        self.portal_state().tus().set_faults(faults);
    }

    /// The upload at `location` (an absolute upload URL or its path): its offset, the `PATCH`
    /// bytes it received and, once complete, the SHA-256 of its bytes.
    pub fn tus_upload(&self, location: &str) -> Option<tus::UploadInfo> {
        self.portal_state().tus().info(location)
    }

    /// Removes the tus upload at `location` (an absolute upload URL or its path) as an expiry
    /// would: its `HEAD` and `PATCH` answer `404` from now on. Whether it existed.
    pub fn expire_tus_upload(&self, location: &str) -> bool {
        self.portal_state().tus().expire(location)
    }

    /// Every tus upload the sandbox holds.
    pub fn tus_uploads(&self) -> Vec<tus::UploadInfo> {
        self.portal_state().tus().all()
    }

    /// How many procedures the catalogue publishes now (withdrawn ones not counted).
    pub fn catalogue_size(&self) -> Result<u64, SandboxError> {
        Ok(self.portal_state().with_conn(catalogue::live_count)?)
    }
}

/// How to run a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Where the portal keeps its database and writes `ca.pem`.
    pub data_dir: PathBuf,
    /// `127.0.0.1:0` picks a free port.
    pub bind: SocketAddr,
    /// The portal's display name; kept from the last run (or generated) when `None`.
    pub portal_name: Option<String>,
}

impl SandboxConfig {
    pub fn loopback(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            portal_name: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("certificate generation: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("TLS setup: {0}")]
    Tls(#[from] rustls::Error),
    #[error("sandbox database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("the server did not start listening")]
    NotListening,
    #[error("a generated certificate could not be parsed back")]
    UnreadableCertificate,
    #[error("enrolment: {0}")]
    Enrollment(String),
    #[error("credential issuer: {0}")]
    Issuer(String),
    #[error("relying party: {0}")]
    RelyingParty(String),
    #[error("health certificates: {0}")]
    Health(String),
    #[error("check-ins: {0}")]
    Checkin(#[from] checkin::CheckinError),
    #[error("trust list: {0}")]
    TrustList(#[from] citizen_core::trust_list::TrustListError),
    #[error("bank: {0}")]
    Bank(#[from] bank::BankError),
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}
