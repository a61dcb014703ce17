//! [`Citizen`]: the one object an app holds, tying the capabilities together.
//!
//! Owns: opening the SDK (config check, store, HTTP client), the app-level operations that span
//! capabilities (`status`, portal contact, `sync_now`, key rotation, wipe), event subscription,
//! and the top-level [`Error`]. Does not own the capabilities themselves: each lives in its own
//! module and `Citizen` only routes to it.
//!
//! Every operation that touches the store, a platform service or the network is `async`: store
//! work runs on the store's thread, platform calls on a blocking thread, and events are emitted
//! after that work is done, so no listener ever runs while the store is busy.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::checkin::{CheckInError, CheckIns};
use crate::config::{CitizenConfig, ConfigError};
use crate::dossier::Dossiers;
use crate::events::{Event, EventBus, EventListener, Subscription};
use crate::net::{HttpClient, NetError};
use crate::platform::Platform;
use crate::platform::{KeyStore, StoreKeyStore};
use crate::store::{Store, StoreError, meta};
use crate::trust::{TrustCache, TrustError, TrustListState};
use crate::trust_list::TrustList;
use crate::verifier::Verifier;
use crate::wallet::{self, Wallet, WalletContext, WalletError, WalletState};
use crate::{outbox, portal};

/// Everything that can go wrong at the `Citizen` level, by the module that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Net(#[from] NetError),
    #[error(transparent)]
    Wallet(#[from] WalletError),
    #[error(transparent)]
    CheckIn(#[from] CheckInError),
    #[error("the portal speaks API version {found}; this SDK speaks {supported}")]
    UnsupportedPortalVersion { found: u32, supported: u32 },
    /// The trust list was refused (signature, anchors, format, expiry, rollback) or is missing.
    /// Network and store failures while refreshing it are `Net` and `Store`.
    #[error(transparent)]
    TrustList(TrustError),
}

impl From<TrustError> for Error {
    fn from(error: TrustError) -> Self {
        match error {
            TrustError::Net(net) => Error::Net(net),
            TrustError::Store(store) => Error::Store(store),
            other => Error::TrustList(other),
        }
    }
}

/// A snapshot for a status screen or a support report. No personal data.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub store_schema_version: u32,
    /// Whether the key that seals the store's key lives in secure hardware.
    pub store_key_hardware_backed: bool,
    pub wallet_state: WalletState,
    /// Outbox entries waiting to reach a server.
    pub queued_work: u64,
    /// `None` until the portal was tried in this session.
    pub portal_reachable: Option<bool>,
    /// Unix seconds of the last successful portal contact, from any session.
    pub last_portal_contact_at: Option<i64>,
    pub trust_list: TrustListState,
}

/// The last successful contact with the portal, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalContact {
    pub portal_name: String,
    pub api_version: u32,
    pub server_time: i64,
    /// Unix seconds on the phone's clock when the answer arrived.
    pub contacted_at: i64,
}

/// What one [`Citizen::sync_now`] run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncReport {
    /// Everything due was attempted within the time budget (nothing was cut short).
    pub completed: bool,
    /// Outbox entries still waiting afterwards.
    pub queued_work: u64,
    /// When the next entry falls due (Unix seconds), for scheduling the next background run.
    pub next_due_at: Option<i64>,
}

const LAST_PORTAL_CONTACT: &str = "portal.last_contact";

pub struct Citizen {
    store: Arc<Store>,
    http: HttpClient,
    trust: Arc<TrustCache>,
    events: Arc<EventBus>,
    portal_reachable: Mutex<Option<bool>>,
    wallet: Wallet,
    verifier: Arc<Verifier>,
    dossiers: Dossiers,
    checkins: CheckIns,
}

impl Drop for Citizen {
    fn drop(&mut self) {
        // Ticket watchers hold only weak references, but one may be mid-poll: stop them all.
        self.checkins.stop_watchers();
        self.dossiers.stop_sender();
        // The data directory is free once the Citizen is gone, even while the app still holds
        // one of its capability objects (a `CheckIns`, a `Wallet`, ...; Kotlin and Swift free
        // them only when collected): their calls fail with `Closed` from now on, instead of the
        // store staying open, and `open` or `wipe_data_dir` failing with `InUse`, until then.
        self.store.close_blocking();
    }
}

impl Citizen {
    /// Checks the configuration (before anything touches the disk), then opens (or creates) the
    /// encrypted store. Fails with `StoreError::InUse` while another `Citizen` has the same data
    /// directory open.
    pub async fn open(config: CitizenConfig, platform: Platform) -> Result<Self, Error> {
        let http = HttpClient::new(&config)?;
        crate::config::validate_trust_anchors(&config.trust_anchors)?;
        crate::config::validate_checkin_retention(config.checkin_retention_days)?;
        let store = Arc::new(Store::open(&config.data_dir, platform.sealer.clone()).await?);
        let trust = Arc::new(TrustCache::load(&store, &http, &config, crate::unix_now()).await?);
        tracing::info!(
            schema = store.schema_version(),
            hardware_backed = store.key_hardware_backed(),
            "citizen SDK opened"
        );
        let events = Arc::new(EventBus::default());
        let keys: Option<Arc<dyn KeyStore>> =
            match (&platform.key_store, platform.software_key_store) {
                (Some(keys), _) => Some(keys.clone()),
                (None, true) => Some(Arc::new(StoreKeyStore::new(store.clone()))),
                (None, false) => None,
            };
        let issuer_trust: Arc<dyn wallet::IssuerTrust> = trust.clone();
        let wallet = Wallet::new(WalletContext {
            store: store.clone(),
            http: http.clone(),
            events: events.clone(),
            keys,
            trust: issuer_trust.clone(),
            remote: Default::default(),
        });
        let verifier = Arc::new(Verifier::new(store.clone(), http.clone(), issuer_trust));
        let dossiers = Dossiers::new(
            store.clone(),
            http.clone(),
            events.clone(),
            wallet.clone(),
            config.outbox_retry,
        );
        // An attachment half-written when the process died is invisible; its rows go now.
        match dossiers.purge_incomplete_attachments().await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "incomplete attachments deleted at open"),
            Err(error) => tracing::warn!(%error, "incomplete attachments could not be purged"),
        }
        let checkins = CheckIns::new(
            store.clone(),
            http.clone(),
            events.clone(),
            trust.clone(),
            config.checkin_retention_days,
        );
        // The diary keeps nothing past its retention, whether or not the app ever syncs.
        if let Err(error) = checkins.purge_expired(crate::unix_now()).await {
            tracing::warn!(%error, "expired check-ins could not be purged at open");
        }
        // Queue tickets still waiting from the last session are watched again.
        checkins.resume_watchers().await;
        // Dossiers filed in the last session go out now: a send cut short by the process dying
        // is released first, so it does not wait for its lease to run out.
        if let Err(error) = dossiers.release_abandoned_sends().await {
            tracing::warn!(%error, "dossier sends left in flight could not be released");
        }
        dossiers.start_sender();
        Ok(Self {
            store,
            http,
            trust,
            events,
            portal_reachable: Mutex::new(None),
            wallet,
            verifier,
            dossiers,
            checkins,
        })
    }

    /// Check-ins: scan venue and counter codes, the private diary, exposure notices, tickets.
    pub fn checkins(&self) -> CheckIns {
        self.checkins.clone()
    }

    /// Verifier mode, for an officer's app: checks citizens' identity QRs offline.
    pub fn verifier(&self) -> Arc<Verifier> {
        self.verifier.clone()
    }

    /// The wallet: activation, the PID, the PIN, presentations and the disclosure history.
    pub fn wallet(&self) -> Wallet {
        self.wallet.clone()
    }

    /// Dossiers: the procedure catalogue (sync, offline search, records), drafts, attachments.
    pub fn dossiers(&self) -> Dossiers {
        self.dossiers.clone()
    }

    pub async fn status(&self) -> Result<Status, Error> {
        let now = crate::unix_now();
        let snapshot = self
            .store
            .read(move |conn| stored_status(conn, now))
            .await?;
        Ok(self.status_with(snapshot))
    }

    fn status_with(&self, stored: StoredStatus) -> Status {
        Status {
            store_schema_version: self.store.schema_version(),
            store_key_hardware_backed: self.store.key_hardware_backed(),
            wallet_state: stored.wallet_state,
            queued_work: stored.queued_work,
            portal_reachable: *self.reachability(),
            last_portal_contact_at: stored.last_portal_contact_at,
            trust_list: self.trust.state(crate::unix_now()),
        }
    }

    /// Contacts the portal over pinned TLS and records the contact in the store.
    pub async fn ping_portal(&self) -> Result<PortalContact, Error> {
        let answer = portal::ping(&self.http).await;
        // Reachable means the portal answered and is not failing: a 4xx still proves it is there,
        // while a 5xx, a timeout or a TLS refusal leaves nothing usable to talk to.
        self.note_reachability(match &answer {
            Ok(_) => true,
            Err(error) => !error.is_transient() && matches!(error, NetError::Status { .. }),
        });
        let answer = answer?;
        if answer.api_version != portal::API_VERSION {
            return Err(Error::UnsupportedPortalVersion {
                found: answer.api_version,
                supported: portal::API_VERSION,
            });
        }
        let contact = PortalContact {
            portal_name: answer.portal_name,
            api_version: answer.api_version,
            server_time: answer.server_time,
            contacted_at: crate::unix_now(),
        };
        let json = serde_json::to_string(&contact).map_err(|_| NetError::InvalidResponse)?;
        let now = crate::unix_now();
        let stored = self
            .store
            .write(move |tx| {
                meta::set(tx, LAST_PORTAL_CONTACT, &json)?;
                stored_status(tx, now)
            })
            .await?;
        self.events.emit(Event::StatusChanged {
            status: self.status_with(stored),
        });
        Ok(contact)
    }

    pub async fn last_portal_contact(&self) -> Result<Option<PortalContact>, Error> {
        let stored = self
            .store
            .read(|conn| meta::get(conn, LAST_PORTAL_CONTACT))
            .await?;
        // A record this version cannot read is treated as absent; the next ping rewrites it.
        Ok(stored.as_deref().and_then(parse_contact))
    }

    /// Does the work that waits for the network (the outbox senders of each capability), for at
    /// most `time_budget`, and reports what is left. For Android WorkManager and iOS background
    /// tasks; safe to call at any time and from several places (runs do not overlap). Sends the
    /// filed dossiers (and supplements, withdrawals) that are due (`dossier::sender`), syncs
    /// their statuses (`dossier::tracking`), refreshes the trust list (when trust anchors are
    /// configured) and the credential status, purges
    /// check-ins past their retention, downloads and matches exposure notices, and keeps the
    /// procedure catalogue current (once the app synced it a first time); a failure in any of
    /// these does not fail this call.
    pub async fn sync_now(&self, time_budget: Duration) -> Result<SyncReport, Error> {
        let deadline = tokio::time::Instant::now() + time_budget;
        let mut completed = true;
        // Filed dossiers first: they are what the citizen is waiting for. Only what is due now;
        // the report's `next_due_at` tells the platform when to wake us for the rest.
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        match self.dossiers.send_queued(remaining, false).await {
            Ok(_) => completed = tokio::time::Instant::now() < deadline,
            Err(error) => tracing::warn!(%error, "the dossier outbox was not drained"),
        }
        // Then what became of them: statuses, supplement requests, fees.
        if completed {
            match tokio::time::timeout_at(deadline, self.dossiers.sync_statuses()).await {
                Ok(Ok(report)) => completed = report.complete,
                Ok(Err(error)) => tracing::info!(%error, "dossier statuses were not synced"),
                Err(_) => completed = false,
            }
        }
        // Best effort: offline, the cached lists stay in use and their answers say how old they are.
        if self.trust.has_anchors() {
            match tokio::time::timeout_at(deadline, self.refresh_trust_list()).await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => {
                    tracing::info!(%error, "the trust list was not refreshed; the cached one stays");
                }
                Err(_) => completed = false,
            }
        }
        if completed {
            match tokio::time::timeout_at(deadline, self.wallet.refresh_status(false)).await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => tracing::info!(%error, "the credential status was not refreshed"),
                Err(_) => completed = false,
            }
        }
        // The purge is local and always runs; the notices download needs a trust list.
        if let Err(error) = self.checkins.purge_expired(crate::unix_now()).await {
            tracing::warn!(%error, "expired check-ins could not be purged");
        }
        if completed && self.trust.list().is_some() {
            match tokio::time::timeout_at(deadline, self.checkins.sync_notices()).await {
                Ok(Ok(report)) => completed = !report.more,
                Ok(Err(error)) => tracing::info!(%error, "exposure notices were not downloaded"),
                Err(_) => completed = false,
            }
        }
        // Best effort too: offline, search answers from the stored catalogue.
        if completed {
            match tokio::time::timeout_at(deadline, self.dossiers.refresh_catalogue()).await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => tracing::info!(%error, "the procedure catalogue was not synced"),
                Err(_) => completed = false,
            }
        }
        let (queued_work, next_due_at) = self
            .store
            .read(|conn| {
                Ok::<_, StoreError>((outbox::pending_count(conn)?, outbox::next_due_at(conn)?))
            })
            .await?;
        Ok(SyncReport {
            completed,
            queued_work,
            next_due_at,
        })
    }

    /// Fetches the trust list from the portal (conditionally), verifies it against the
    /// configured trust anchors and installs it if it is newer than the one in use. On failure
    /// the list in use stays; either way `Event::TrustListChanged` reports a changed state.
    pub async fn refresh_trust_list(&self) -> Result<TrustListState, Error> {
        let now = crate::unix_now();
        let result = self.trust.refresh(&self.http, &self.store, now).await;
        let state = self.trust.state(now);
        let installed = matches!(result, Ok(ref refreshed) if refreshed.installed);
        // Emitted after the work, outside every lock: a listener may call back into the SDK.
        if self.trust.note_reported(state) || installed {
            self.events.emit(Event::TrustListChanged { state });
        }
        result?;
        Ok(state)
    }

    /// The trust list's answers as the wallet and the verifier use them (issuer keys only from a
    /// present, unexpired list), for checking a credential outside those flows.
    pub fn issuer_trust(&self) -> Arc<dyn wallet::IssuerTrust> {
        self.trust.clone()
    }

    /// The verified trust list in use, whatever its state (see `status().trust_list`); `None`
    /// while it is missing. Read from memory: no store or network access.
    pub fn trust_list(&self) -> Option<Arc<TrustList>> {
        self.trust.list()
    }

    pub fn subscribe(&self, listener: Arc<dyn EventListener>) -> Subscription {
        self.events.subscribe(listener)
    }

    /// Re-encrypts the store under a new random key (see `Store::rotate_key`).
    pub async fn rotate_store_key(&self) -> Result<(), Error> {
        self.store.rotate_key().await?;
        self.events.emit(Event::StoreKeyRotated);
        Ok(())
    }

    /// Deletes every stored thing and the sealing key. This object is unusable afterwards.
    pub async fn wipe(&self) -> Result<(), Error> {
        // The device keys live in the platform, not in the store: read their names first, delete
        // them once the store is gone (a key left behind would sign for nothing, but it is the
        // citizen's and should not outlive a wipe).
        let aliases = self.wallet.device_key_aliases().await?;
        self.store.wipe().await?;
        self.wallet.delete_device_keys(aliases).await;
        Ok(())
    }

    fn reachability(&self) -> std::sync::MutexGuard<'_, Option<bool>> {
        self.portal_reachable
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn note_reachability(&self, reachable: bool) {
        let changed = {
            let mut known = self.reachability();
            let changed = *known != Some(reachable);
            *known = Some(reachable);
            changed
        };
        // Emitted after the lock is released: a listener may call back into the SDK.
        if changed {
            self.events
                .emit(Event::PortalReachabilityChanged { reachable });
        }
    }
}

/// The part of [`Status`] that comes from the store, read in one go.
struct StoredStatus {
    wallet_state: WalletState,
    queued_work: u64,
    last_portal_contact_at: Option<i64>,
}

fn stored_status(conn: &rusqlite::Connection, now: i64) -> Result<StoredStatus, StoreError> {
    let last_contact = meta::get(conn, LAST_PORTAL_CONTACT)?;
    Ok(StoredStatus {
        wallet_state: wallet::state(conn, now)?,
        queued_work: outbox::pending_count(conn)?,
        last_portal_contact_at: last_contact
            .as_deref()
            .and_then(parse_contact)
            .map(|c| c.contacted_at),
    })
}

fn parse_contact(json: &str) -> Option<PortalContact> {
    serde_json::from_str(json).ok()
}
