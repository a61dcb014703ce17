//! FFI mirrors of the core's records and enums, and their conversions.
//!
//! Owns: nothing but shape. Each type here is the core type with FFI-friendly fields (strings for
//! paths, milliseconds for durations); documentation of meaning lives on the core type.

use std::time::Duration;

use citizen_core::ConfigError;

use crate::checkins::TicketState;
use crate::error::CitizenError;
use crate::wallet::{HistoryKind, HistoryOutcome, WalletState};

/// See `citizen_core::CitizenConfig`.
#[derive(uniffi::Record)]
pub struct CitizenConfig {
    /// Where the encrypted store lives: the app's private files directory.
    pub data_dir: String,
    /// The agency portal, e.g. `https://portal.example.gov.vn/`. Must be `https`.
    pub portal_base_url: String,
    /// Extra trusted root certificates (PEM), added to the public web roots.
    #[uniffi(default = [])]
    pub trusted_roots_pem: Vec<String>,
    /// SPKI pins for the portal (`sha256/<base64>`); required unless `allow_unpinned` is set.
    #[uniffi(default = [])]
    pub portal_spki_pins: Vec<String>,
    /// Other origins the SDK may talk to, each with its own pins.
    #[uniffi(default = [])]
    pub origin_pins: Vec<OriginPins>,
    /// A development setup only: see `citizen_core::CitizenConfig::allow_unpinned`.
    #[uniffi(default = false)]
    pub allow_unpinned: bool,
    /// Limit for one HTTP request, connection included, in milliseconds.
    #[uniffi(default = 30000)]
    pub request_timeout_ms: u32,
    /// The keys that may sign the trust list: see `citizen_core::CitizenConfig::trust_anchors`.
    #[uniffi(default = [])]
    pub trust_anchors: Vec<TrustAnchor>,
    /// Days the check-in diary keeps an entry before the SDK purges it (1 to 365).
    #[uniffi(default = 14)]
    pub checkin_retention_days: u32,
}

/// A trust-list signing key: its key id and its P-256 public JWK as JSON text. See
/// `citizen_core::TrustAnchor`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TrustAnchor {
    /// The `kid` a trust list's JWS header names this key by.
    pub kid: String,
    /// The public key as a JWK (JSON object).
    pub jwk_json: String,
}

/// See `citizen_core::OriginPins`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OriginPins {
    /// The origin, e.g. `https://issuer.example.gov.vn`.
    pub origin: String,
    /// SPKI pins for that origin (`sha256/<base64>`).
    pub spki_pins: Vec<String>,
}

impl TryFrom<CitizenConfig> for citizen_core::CitizenConfig {
    type Error = CitizenError;

    fn try_from(config: CitizenConfig) -> Result<Self, CitizenError> {
        let trust_anchors = config
            .trust_anchors
            .into_iter()
            .enumerate()
            .map(|(index, anchor)| {
                citizen_core::TrustAnchor::from_jwk_json(anchor.kid, &anchor.jwk_json).map_err(
                    |_| citizen_core::Error::from(ConfigError::InvalidTrustAnchor { index }),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(citizen_core::CitizenConfig {
            data_dir: config.data_dir.into(),
            portal_base_url: config.portal_base_url,
            trusted_roots_pem: config.trusted_roots_pem,
            portal_spki_pins: config.portal_spki_pins,
            origin_pins: config
                .origin_pins
                .into_iter()
                .map(|o| citizen_core::OriginPins {
                    origin: o.origin,
                    spki_pins: o.spki_pins,
                })
                .collect(),
            allow_unpinned: config.allow_unpinned,
            request_timeout: Duration::from_millis(config.request_timeout_ms.into()),
            trust_anchors,
            checkin_retention_days: config.checkin_retention_days,
            outbox_retry: citizen_core::outbox::RetryPolicy::default(),
        })
    }
}

/// See `citizen_core::TrustListState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TrustListState {
    /// No verified trust list: none fetched yet, or the cached one no longer verifies.
    Missing,
    /// Verified, and fetched or confirmed unchanged within its `max_age`.
    Fresh,
    /// Verified but not confirmed within its `max_age`: the trust data may be out of date.
    Stale,
    /// Past its `exp`: nothing verifies against it until a new list is fetched.
    Expired,
}

impl From<citizen_core::TrustListState> for TrustListState {
    fn from(state: citizen_core::TrustListState) -> Self {
        match state {
            citizen_core::TrustListState::Missing => TrustListState::Missing,
            citizen_core::TrustListState::Fresh => TrustListState::Fresh,
            citizen_core::TrustListState::Stale => TrustListState::Stale,
            citizen_core::TrustListState::Expired => TrustListState::Expired,
        }
    }
}

/// A snapshot of the SDK's state, for the app's status screen and support reports.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Status {
    /// The schema version of the encrypted store.
    pub store_schema_version: u32,
    /// Whether the key that seals the store's key lives in secure hardware.
    pub store_key_hardware_backed: bool,
    /// Whether the wallet is activated, locked or blocked.
    pub wallet_state: WalletState,
    /// Outbox entries waiting to reach a server.
    pub queued_work: u64,
    /// `None` until the portal was tried in this session.
    pub portal_reachable: Option<bool>,
    /// Unix seconds of the last successful portal contact, from any session.
    pub last_portal_contact_at: Option<i64>,
    /// The state of the cached trust list.
    pub trust_list: TrustListState,
}

impl From<citizen_core::Status> for Status {
    fn from(status: citizen_core::Status) -> Self {
        Self {
            store_schema_version: status.store_schema_version,
            store_key_hardware_backed: status.store_key_hardware_backed,
            wallet_state: status.wallet_state.into(),
            queued_work: status.queued_work,
            portal_reachable: status.portal_reachable,
            last_portal_contact_at: status.last_portal_contact_at,
            trust_list: status.trust_list.into(),
        }
    }
}

/// See `citizen_core::SyncReport`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    /// Everything due was attempted within the time budget (nothing was cut short).
    pub completed: bool,
    /// Outbox entries still waiting afterwards.
    pub queued_work: u64,
    /// When the next entry falls due (Unix seconds), for scheduling the next background run.
    pub next_due_at: Option<i64>,
}

impl From<citizen_core::SyncReport> for SyncReport {
    fn from(report: citizen_core::SyncReport) -> Self {
        Self {
            completed: report.completed,
            queued_work: report.queued_work,
            next_due_at: report.next_due_at,
        }
    }
}

/// What the portal said about itself on a successful contact.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PortalContact {
    /// The portal's name, as it reports it.
    pub portal_name: String,
    /// The portal API version it speaks.
    pub api_version: u32,
    /// The portal's clock (Unix seconds) when it answered.
    pub server_time: i64,
    /// Unix seconds on the phone's clock when the answer arrived.
    pub contacted_at: i64,
}

impl From<citizen_core::PortalContact> for PortalContact {
    fn from(contact: citizen_core::PortalContact) -> Self {
        Self {
            portal_name: contact.portal_name,
            api_version: contact.api_version,
            server_time: contact.server_time,
            contacted_at: contact.contacted_at,
        }
    }
}

/// Something that changed in the SDK, delivered to an `EventListener`.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum Event {
    /// The portal became reachable or unreachable (on change, and on the first contact).
    PortalReachabilityChanged { reachable: bool },
    /// The store was re-encrypted under a new key.
    StoreKeyRotated,
    /// The values of `Citizen.status()` changed.
    StatusChanged { status: Status },
    /// The wallet's state changed (activated, locked, blocked, reset).
    WalletStateChanged { state: WalletState },
    /// A record was added to the disclosure history.
    HistoryRecorded {
        id: i64,
        kind: HistoryKind,
        outcome: HistoryOutcome,
    },
    /// See `citizen_core::Event::TrustListChanged`.
    TrustListChanged { state: TrustListState },
    /// A check-in was recorded in the diary (`checkins().entry(entry_id)` reads it).
    CheckedIn { entry_id: i64 },
    /// The citizen checked out of a diary entry by hand.
    CheckedOut { entry_id: i64 },
    /// An exposure notice matched a diary entry (`checkins().matches()` lists it).
    ExposureMatched { match_id: i64 },
    /// A counter's queue ticket arrived or changed.
    TicketUpdated {
        entry_id: i64,
        number: String,
        position: u32,
        state: TicketState,
    },
    /// A filed dossier was queued, received by the portal, parked, or queued again
    /// (`dossiers().submission(submission_id)` reads it).
    DossierDeliveryChanged {
        submission_id: i64,
        state: crate::submissions::DeliveryState,
    },
    /// A dossier's attachments are uploading: bytes the portal acknowledged so far, of all.
    DossierUploadProgress {
        submission_id: i64,
        sent_bytes: u64,
        total_bytes: u64,
    },
    /// A received dossier's status changed at the portal (`dossiers().submission(submission_id)`
    /// and `timeline` read the details).
    DossierStatusChanged {
        submission_id: i64,
        status: crate::tracking::TrackingStatus,
    },
    /// A withdrawal request reached the portal, or was refused.
    DossierWithdrawalChanged {
        submission_id: i64,
        state: crate::tracking::WithdrawalState,
    },
    /// A dossier's fee was asked for, or paid (`dossiers().fees(submission_id)`).
    DossierFeeChanged {
        submission_id: i64,
        fee_id: String,
        state: crate::tracking::FeeState,
    },
}

impl Event {
    /// `None` for core events this version of the bindings does not forward.
    pub(crate) fn from_core(event: citizen_core::Event) -> Option<Self> {
        Some(match event {
            citizen_core::Event::PortalReachabilityChanged { reachable } => {
                Event::PortalReachabilityChanged { reachable }
            }
            citizen_core::Event::StoreKeyRotated => Event::StoreKeyRotated,
            citizen_core::Event::StatusChanged { status } => Event::StatusChanged {
                status: status.into(),
            },
            citizen_core::Event::WalletStateChanged { state } => Event::WalletStateChanged {
                state: state.into(),
            },
            citizen_core::Event::HistoryRecorded { id, kind, outcome } => Event::HistoryRecorded {
                id,
                kind: kind.into(),
                outcome: outcome.into(),
            },
            citizen_core::Event::TrustListChanged { state } => Event::TrustListChanged {
                state: state.into(),
            },
            citizen_core::Event::CheckedIn { entry_id } => Event::CheckedIn { entry_id },
            citizen_core::Event::CheckedOut { entry_id } => Event::CheckedOut { entry_id },
            citizen_core::Event::ExposureMatched { match_id } => {
                Event::ExposureMatched { match_id }
            }
            citizen_core::Event::TicketUpdated {
                entry_id,
                number,
                position,
                state,
            } => Event::TicketUpdated {
                entry_id,
                number,
                position,
                state: state.into(),
            },
            citizen_core::Event::DossierDeliveryChanged {
                submission_id,
                state,
            } => Event::DossierDeliveryChanged {
                submission_id,
                state: state.into(),
            },
            citizen_core::Event::DossierUploadProgress {
                submission_id,
                sent_bytes,
                total_bytes,
            } => Event::DossierUploadProgress {
                submission_id,
                sent_bytes,
                total_bytes,
            },
            citizen_core::Event::DossierStatusChanged {
                submission_id,
                status,
            } => Event::DossierStatusChanged {
                submission_id,
                status: status.into(),
            },
            citizen_core::Event::DossierWithdrawalChanged {
                submission_id,
                state,
            } => Event::DossierWithdrawalChanged {
                submission_id,
                state: state.into(),
            },
            citizen_core::Event::DossierFeeChanged {
                submission_id,
                fee_id,
                state,
            } => Event::DossierFeeChanged {
                submission_id,
                fee_id,
                state: state.into(),
            },
            _ => return None,
        })
    }
}

/// How much the SDK logs, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LogLevel {
    /// Something failed.
    Error,
    /// Something unexpected that the SDK recovered from.
    Warn,
    /// Milestones: opened, synced, activated.
    Info,
    /// Detail for debugging a development build.
    Debug,
    /// Everything, very verbose.
    Trace,
}

impl From<LogLevel> for citizen_core::LogLevel {
    fn from(level: LogLevel) -> Self {
        match level {
            LogLevel::Error => citizen_core::LogLevel::Error,
            LogLevel::Warn => citizen_core::LogLevel::Warn,
            LogLevel::Info => citizen_core::LogLevel::Info,
            LogLevel::Debug => citizen_core::LogLevel::Debug,
            LogLevel::Trace => citizen_core::LogLevel::Trace,
        }
    }
}

impl From<citizen_core::LogLevel> for LogLevel {
    fn from(level: citizen_core::LogLevel) -> Self {
        match level {
            citizen_core::LogLevel::Error => LogLevel::Error,
            citizen_core::LogLevel::Warn => LogLevel::Warn,
            citizen_core::LogLevel::Info => LogLevel::Info,
            citizen_core::LogLevel::Debug => LogLevel::Debug,
            citizen_core::LogLevel::Trace => LogLevel::Trace,
        }
    }
}

/// One log line for a `LogSink`. Never holds personal data or secrets.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LogRecord {
    /// How severe the line is.
    pub level: LogLevel,
    /// The SDK module that logged it.
    pub target: String,
    /// The text of the line.
    pub message: String,
}

impl From<citizen_core::LogRecord> for LogRecord {
    fn from(record: citizen_core::LogRecord) -> Self {
        Self {
            level: record.level.into(),
            target: record.target,
            message: record.message,
        }
    }
}
