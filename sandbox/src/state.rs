//! The sandbox portal's own persistent state, in a plain SQLite file in its data directory.
//!
//! Owns: the portal's identity (its display name), a log of the requests it served, which tests
//! read to check what reached the portal, and the tables of `enrollment`. Later issues add
//! dossiers, credentials, etc.
//! The sandbox is a test server: its database is deliberately not encrypted.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use rusqlite::{Connection, OptionalExtension, params};

use crate::SandboxError;
use crate::enrollment::{self, Enrollment, EnrollmentError, EnrollmentRequest};

#[derive(Clone)]
pub(crate) struct PortalState {
    conn: Arc<Mutex<Connection>>,
    pub portal_name: String,
    /// `https://127.0.0.1:PORT/`, set once the server listens. The credential issuer's identifier
    /// and the URLs it publishes are built from it.
    base_url: Arc<OnceLock<String>>,
    /// The fault knobs in force (`faults`).
    faults: crate::faults::FaultKnobs,
    /// The tus uploads (in temporary files, not in the database) and their fault knobs.
    tus: crate::tus::TusState,
}

impl PortalState {
    pub(crate) fn open(data_dir: &Path, portal_name: Option<String>) -> Result<Self, SandboxError> {
        std::fs::create_dir_all(data_dir)?;
        let conn = Connection::open(data_dir.join("sandbox.db"))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE IF NOT EXISTS instance (
                 id INTEGER PRIMARY KEY CHECK (id = 1),
                 portal_name TEXT NOT NULL,
                 created_at INTEGER NOT NULL
             );
             CREATE TABLE IF NOT EXISTS request_log (
                 id INTEGER PRIMARY KEY,
                 method TEXT NOT NULL,
                 path TEXT NOT NULL,
                 status INTEGER NOT NULL,
                 at INTEGER NOT NULL
             );",
        )?;
        enrollment::create_tables(&conn)?;
        crate::keys::create_tables(&conn)?;
        crate::trust::create_tables(&conn)?;
        crate::issuer::create_tables(&conn)?;
        crate::relying_party::create_tables(&conn)?;
        crate::checkin::create_tables(&conn)?;
        crate::catalogue::create_tables(&conn)?;
        crate::dossiers::create_tables(&conn)?;
        crate::tracking::create_tables(&conn)?;
        crate::bank::create_tables(&conn)?;
        let stored: Option<String> = conn
            .query_row("SELECT portal_name FROM instance WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        let portal_name = match (portal_name, stored) {
            (Some(name), _) => name,
            (None, Some(name)) => name,
            (None, None) => format!("Citizen Sandbox Portal {}", random_suffix()),
        };
        conn.execute(
            "INSERT INTO instance (id, portal_name, created_at) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET portal_name = excluded.portal_name",
            params![portal_name, now()],
        )?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            portal_name,
            base_url: Arc::new(OnceLock::new()),
            faults: crate::faults::FaultKnobs::default(),
            tus: crate::tus::TusState::default(),
        })
    }

    pub(crate) fn faults(&self) -> &crate::faults::FaultKnobs {
        &self.faults
    }

    pub(crate) fn tus(&self) -> &crate::tus::TusState {
        &self.tus
    }

    pub(crate) fn set_base_url(&self, base_url: String) {
        let _ = self.base_url.set(base_url);
    }

    /// The base URL the server listens on; empty before it listens (enrolment from the command
    /// line needs none).
    pub(crate) fn base_url(&self) -> &str {
        self.base_url.get().map(String::as_str).unwrap_or("")
    }

    /// Runs `f` on the database. Held briefly: no awaiting inside.
    pub(crate) fn with_conn<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn)
    }

    pub(crate) fn log_request(&self, method: &str, path: &str, status: u16) {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(error) = conn.execute(
            "INSERT INTO request_log (method, path, status, at) VALUES (?1, ?2, ?3, ?4)",
            params![method, path, status, now()],
        ) {
            tracing::warn!(%error, "could not log a request");
        }
    }

    pub(crate) fn enroll(
        &self,
        request: &EnrollmentRequest,
    ) -> Result<Enrollment, EnrollmentError> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        enrollment::enroll(&conn, request, now())
    }

    /// How many requests for `path` the portal answered with `status`.
    pub(crate) fn responses_for(&self, path: &str, status: u16) -> Result<u64, SandboxError> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let count: i64 = conn.query_row(
            "SELECT count(*) FROM request_log WHERE path = ?1 AND status = ?2",
            params![path, status],
            |r| r.get(0),
        )?;
        Ok(count as u64)
    }

    /// How many requests for `path` the portal served.
    pub(crate) fn requests_for(&self, path: &str) -> Result<u64, SandboxError> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let count: i64 = conn.query_row(
            "SELECT count(*) FROM request_log WHERE path = ?1",
            [path],
            |r| r.get(0),
        )?;
        Ok(count as u64)
    }
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn random_suffix() -> String {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 4];
    let _ = SystemRandom::new().fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
