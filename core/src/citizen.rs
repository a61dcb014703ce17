//! [`Citizen`]: the one object an app holds, tying the capabilities together.
//!
//! Owns: opening the SDK (config check, store, HTTP client), the app-level operations that span
//! capabilities (`status`, portal contact, key rotation, wipe), event subscription, and the
//! top-level [`Error`]. Does not own the capabilities themselves: each lives in its own module and
//! `Citizen` only routes to it.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::config::{CitizenConfig, ConfigError};
use crate::events::{Event, EventBus, EventListener, Subscription};
use crate::net::{HttpClient, NetError};
use crate::platform::Platform;
use crate::portal;
use crate::store::{Store, StoreError};

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
    #[error("the portal speaks API version {found}; this SDK speaks {supported}")]
    UnsupportedPortalVersion { found: u32, supported: u32 },
}

/// Where the citizen's wallet stands. Later issues add the activated and locked states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalletState {
    NotActivated,
}

/// A snapshot for a status screen or a support report. No personal data.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub store_schema_version: u32,
    pub wallet_state: WalletState,
    /// Outbox entries waiting to reach a portal.
    pub queued_work: u64,
    /// `None` until the portal was tried in this session.
    pub portal_reachable: Option<bool>,
    /// Unix seconds of the last successful portal contact, from any session.
    pub last_portal_contact_at: Option<i64>,
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

const LAST_PORTAL_CONTACT: &str = "portal.last_contact";

pub struct Citizen {
    store: Store,
    http: HttpClient,
    events: EventBus,
    portal_reachable: Mutex<Option<bool>>,
}

impl Citizen {
    /// Checks the configuration, then opens (or creates) the encrypted store.
    pub fn open(config: CitizenConfig, platform: Platform) -> Result<Self, Error> {
        let http = HttpClient::new(&config)?;
        let store = Store::open(&config.data_dir, platform.sealer.clone())?;
        tracing::info!(schema = store.schema_version(), "citizen SDK opened");
        Ok(Self {
            store,
            http,
            events: EventBus::default(),
            portal_reachable: Mutex::new(None),
        })
    }

    pub fn status(&self) -> Result<Status, Error> {
        let last_contact_at = self.last_portal_contact()?.map(|c| c.contacted_at);
        self.status_with(last_contact_at)
    }

    fn status_with(&self, last_portal_contact_at: Option<i64>) -> Result<Status, Error> {
        Ok(Status {
            store_schema_version: self.store.schema_version(),
            wallet_state: WalletState::NotActivated,
            queued_work: self.store.pending_outbox_count()?,
            portal_reachable: *self.reachability(),
            last_portal_contact_at,
        })
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
        self.store.meta_set(LAST_PORTAL_CONTACT, &json)?;
        self.events.emit(Event::StatusChanged {
            status: self.status_with(Some(contact.contacted_at))?,
        });
        Ok(contact)
    }

    pub fn last_portal_contact(&self) -> Result<Option<PortalContact>, Error> {
        Ok(self
            .store
            .meta_get(LAST_PORTAL_CONTACT)?
            // A record this version cannot read is treated as absent; the next ping rewrites it.
            .and_then(|json| serde_json::from_str(&json).ok()))
    }

    pub fn subscribe(&self, listener: Arc<dyn EventListener>) -> Subscription {
        self.events.subscribe(listener)
    }

    /// Re-encrypts the store under a new random key (see `Store::rotate_key`).
    pub fn rotate_store_key(&self) -> Result<(), Error> {
        self.store.rotate_key()?;
        self.events.emit(Event::StoreKeyRotated);
        Ok(())
    }

    /// Deletes every stored thing and the sealing key. This object is unusable afterwards.
    pub fn wipe(&self) -> Result<(), Error> {
        Ok(self.store.wipe()?)
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
        if changed {
            self.events
                .emit(Event::PortalReachabilityChanged { reachable });
        }
    }
}
