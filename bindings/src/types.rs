//! FFI mirrors of the core's records and enums, and their conversions.
//!
//! Owns: nothing but shape. Each type here is the core type with FFI-friendly fields (strings for
//! paths, milliseconds for durations); documentation of meaning lives on the core type.

use std::time::Duration;

use citizen_core::ConfigError;

use crate::error::CitizenError;
use crate::wallet::{HistoryKind, HistoryOutcome, WalletState};

/// See `citizen_core::CitizenConfig`.
#[derive(uniffi::Record)]
pub struct CitizenConfig {
    pub data_dir: String,
    pub portal_base_url: String,
    #[uniffi(default = [])]
    pub trusted_roots_pem: Vec<String>,
    #[uniffi(default = [])]
    pub portal_spki_pins: Vec<String>,
    #[uniffi(default = [])]
    pub origin_pins: Vec<OriginPins>,
    /// A development setup only: see `citizen_core::CitizenConfig::allow_unpinned`.
    #[uniffi(default = false)]
    pub allow_unpinned: bool,
    #[uniffi(default = 30000)]
    pub request_timeout_ms: u32,
    /// The keys that may sign the trust list: see `citizen_core::CitizenConfig::trust_anchors`.
    #[uniffi(default = [])]
    pub trust_anchors: Vec<TrustAnchor>,
}

/// A trust-list signing key: its key id and its P-256 public JWK as JSON text. See
/// `citizen_core::TrustAnchor`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TrustAnchor {
    pub kid: String,
    pub jwk_json: String,
}

/// See `citizen_core::OriginPins`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OriginPins {
    pub origin: String,
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
        })
    }
}

/// See `citizen_core::TrustListState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TrustListState {
    Missing,
    Fresh,
    Stale,
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

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Status {
    pub store_schema_version: u32,
    pub store_key_hardware_backed: bool,
    pub wallet_state: WalletState,
    pub queued_work: u64,
    pub portal_reachable: Option<bool>,
    pub last_portal_contact_at: Option<i64>,
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
    pub completed: bool,
    pub queued_work: u64,
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

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PortalContact {
    pub portal_name: String,
    pub api_version: u32,
    pub server_time: i64,
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

#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum Event {
    PortalReachabilityChanged {
        reachable: bool,
    },
    StoreKeyRotated,
    StatusChanged {
        status: Status,
    },
    WalletStateChanged {
        state: WalletState,
    },
    /// A record was added to the disclosure history.
    HistoryRecorded {
        id: i64,
        kind: HistoryKind,
        outcome: HistoryOutcome,
    },
    /// See `citizen_core::Event::TrustListChanged`.
    TrustListChanged {
        state: TrustListState,
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
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
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

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LogRecord {
    pub level: LogLevel,
    pub target: String,
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
