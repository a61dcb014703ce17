//! `citizen-ffi`: the uniffi surface of the Citizen SDK, for the Kotlin and Swift shells.
//!
//! Owns: FFI-shaped mirrors of the core's types, the foreign traits the shells implement
//! (`SecretSealer`, `KeyStore`, `LogSink`, `EventListener`), the one [`CitizenError`] apps act on, and the
//! tokio runtime async calls run on. Does not own behaviour: every function here converts its
//! arguments, calls `citizen-core`, and converts the answer back. Keep it that thin.

mod checkins;
mod dossiers;
mod error;
mod health;
mod platform;
mod qr;
mod runtime;
mod scan;
mod submissions;
mod tracking;
mod types;
mod verifier;
mod vietqr;
mod wallet;

use std::sync::{Arc, Mutex};

pub use checkins::{
    CheckInResult, CheckIns, DiaryEntry, EntryCursor, EntryPage, ExposureMatch, NoticesSync,
    ShareReceipt, Ticket, TicketError, TicketState, VenueKind,
};
pub use dossiers::{
    Agency, AgencySummary, AttachmentInfo, AttachmentRule, CatalogueFilter, CatalogueSync,
    Dossiers, Draft, DraftState, DraftSummary, Fee, FieldError, FieldKind, FormField,
    PrefillCandidate, Procedure, ProcedureLevel, ProcedureSummary, SearchPage, SelectOption,
};
pub use error::{CitizenError, PlatformError};
pub use health::{HealthCertificate, HealthCertificateKind, HealthCertificateSummary, HealthEntry};
pub use platform::{EventListener, KeyPolicy, KeyStore, LogSink, PlatformServices, SecretSealer};
pub use qr::{QrCodeImage, QrErrorCorrection, render_qr};
pub use scan::{ScannedKind, classify};
pub use submissions::{DeliveryState, DrainReport, Submission};
pub use tracking::{
    DossierFee, FeePaymentCode, FeeState, PaymentReceipt, StatusSync, SupplementItem,
    SupplementRequest, TimelineEntry, TrackingStatus, WithdrawalState,
};
pub use types::{
    CitizenConfig, Event, LogLevel, LogRecord, OriginPins, PortalContact, Status, SyncReport,
    TrustAnchor, TrustListState,
};
pub use verifier::{IdentityChallenge, VerifiedIdentity, Verifier, verify_sd_jwt_presentation};
pub use vietqr::{VietQrPayment, parse_vietqr, vietqr_payment_request};
pub use wallet::{
    ActivationRequest, ConsentClaim, CredentialStatus, CredentialSummary, DisclosureApproval,
    DisclosureConsent, DisclosureReceipt, HistoryCursor, HistoryKind, HistoryOutcome, HistoryPage,
    HistoryRecord, IdentityQr, IdentityQrRequest, StatusAnswer, Wallet, WalletState,
};

uniffi::setup_scaffolding!();

/// The SDK's version, for support reports.
#[uniffi::export]
pub fn sdk_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Sends the SDK's log lines at `level` and above to `sink`. Call once at app start; calling
/// again replaces the sink and level.
#[uniffi::export]
pub fn init_logging(level: LogLevel, sink: Arc<dyn LogSink>) {
    citizen_core::init_logging(level.into(), Arc::new(platform::ForeignLogSink(sink)));
}

/// Deletes the store in `data_dir` and the platform's sealing key, without opening it. For the
/// recovery path when `Citizen.open` fails with `WrongKey` (the sealing key was invalidated).
/// Fails with `InUse` while a `Citizen` has the directory open.
#[uniffi::export]
pub async fn wipe_data_dir(
    data_dir: String,
    platform: PlatformServices,
) -> Result<(), CitizenError> {
    let sealer = platform::ForeignSealer(platform.sealer);
    runtime::run_blocking(move || {
        citizen_core::Store::wipe_files(std::path::Path::new(&data_dir), &sealer)
    })
    .await?
    .map_err(|e| citizen_core::Error::from(e).into())
}

/// The SDK for one citizen on one device. Open it once and keep it for the app's lifetime; only
/// one may be open per data directory.
#[derive(uniffi::Object)]
pub struct Citizen {
    inner: Arc<citizen_core::Citizen>,
}

#[uniffi::export]
impl Citizen {
    /// Opens (or creates) the encrypted store in `config.data_dir`. May run migrations after an
    /// app update. Fails with `InUse` while another `Citizen` has the directory open.
    #[uniffi::constructor]
    pub async fn open(
        config: CitizenConfig,
        platform: PlatformServices,
    ) -> Result<Arc<Self>, CitizenError> {
        let config = citizen_core::CitizenConfig::try_from(config)?;
        let platform = platform.into_core();
        let inner =
            runtime::run(async move { citizen_core::Citizen::open(config, platform).await })
                .await??;
        Ok(Arc::new(Self {
            inner: Arc::new(inner),
        }))
    }

    /// The SDK's state: store, wallet, outbox, portal reachability, trust list.
    pub async fn status(&self) -> Result<Status, CitizenError> {
        let inner = self.inner.clone();
        Ok(runtime::run(async move { inner.status().await })
            .await??
            .into())
    }

    /// Contacts the portal over pinned TLS and records the contact.
    pub async fn ping_portal(&self) -> Result<PortalContact, CitizenError> {
        let inner = self.inner.clone();
        Ok(runtime::run(async move { inner.ping_portal().await })
            .await??
            .into())
    }

    /// The last successful portal contact, from any session; `None` before the first.
    pub async fn last_portal_contact(&self) -> Result<Option<PortalContact>, CitizenError> {
        let inner = self.inner.clone();
        Ok(
            runtime::run(async move { inner.last_portal_contact().await })
                .await??
                .map(Into::into),
        )
    }

    /// Does the work that waits for the network, for at most `time_budget_ms`, and reports what
    /// is left. Call it from Android WorkManager / iOS background tasks and when the app comes
    /// online.
    pub async fn sync_now(&self, time_budget_ms: u32) -> Result<SyncReport, CitizenError> {
        let inner = self.inner.clone();
        let budget = std::time::Duration::from_millis(time_budget_ms.into());
        Ok(runtime::run(async move { inner.sync_now(budget).await })
            .await??
            .into())
    }

    /// Fetches the trust list from the portal (conditionally), verifies it against the
    /// configured trust anchors and installs it if it is newer. On failure the list in use stays
    /// (`Untrusted` when the portal's list does not verify, `Network` when offline). A changed
    /// state is also reported as `Event.TrustListChanged`. `sync_now` refreshes it too.
    pub async fn refresh_trust_list(&self) -> Result<TrustListState, CitizenError> {
        let inner = self.inner.clone();
        Ok(
            runtime::run(async move { inner.refresh_trust_list().await })
                .await??
                .into(),
        )
    }

    /// The citizen's wallet (identity): activation, the PID, the PIN, the disclosure history.
    pub fn wallet(&self) -> Arc<Wallet> {
        Wallet::new(self.inner.wallet())
    }

    /// Dossiers: the procedure catalogue (sync, offline search in any Vietnamese spelling,
    /// whole records, agencies).
    pub fn dossiers(&self) -> Arc<Dossiers> {
        Dossiers::new(self.inner.dossiers())
    }

    /// Check-ins: scan venue and counter codes, the private diary, exposure notices and queue
    /// tickets.
    pub fn checkins(&self) -> Arc<CheckIns> {
        CheckIns::new(self.inner.checkins())
    }

    /// Verifier mode, for an officer's app: checks citizens' identity QRs offline.
    pub fn verifier(&self) -> Arc<Verifier> {
        Verifier::new(self.inner.verifier())
    }

    /// Delivers events to `listener` until the returned handle is cancelled or destroyed.
    pub fn subscribe(&self, listener: Arc<dyn EventListener>) -> Arc<SubscriptionHandle> {
        let subscription = self
            .inner
            .subscribe(Arc::new(platform::ForeignEventListener(listener)));
        Arc::new(SubscriptionHandle {
            subscription: Mutex::new(Some(subscription)),
        })
    }

    /// Re-encrypts the store under a new random key. Takes time proportional to the store's size.
    pub async fn rotate_store_key(&self) -> Result<(), CitizenError> {
        let inner = self.inner.clone();
        runtime::run(async move { inner.rotate_store_key().await }).await??;
        Ok(())
    }

    /// Deletes everything stored and the sealing key. This object is unusable afterwards.
    pub async fn wipe(&self) -> Result<(), CitizenError> {
        let inner = self.inner.clone();
        runtime::run(async move { inner.wipe().await }).await??;
        Ok(())
    }
}

/// Keeps an event listener registered. `cancel()` or destroying it stops delivery.
#[derive(uniffi::Object)]
pub struct SubscriptionHandle {
    subscription: Mutex<Option<citizen_core::Subscription>>,
}

#[uniffi::export]
impl SubscriptionHandle {
    /// Stops delivery to the listener; calling it again does nothing.
    pub fn cancel(&self) {
        let taken = self
            .subscription
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        drop(taken);
    }
}
