//! The sandbox's own signing keys, kept in its database so they survive restarts.
//!
//! Owns: one ES256 key per [`KeyRole`] in active use, older ones kept as retired (so a test can
//! rotate a key and check that the retired one stops verifying), and key ids. Does not own what the
//! keys sign: the trust list (`trust`), the credential issuer (`issuer`) and the check-in agency
//! (`checkin`) use them.
//!
//! The sandbox is a test server: the private scalars are stored in the clear in its SQLite file.

use std::sync::Arc;

use citizen_core::jose::{EcPublicJwk, SoftwareSigner};
use rusqlite::{Connection, OptionalExtension, params};

/// What a key signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    /// Signs the trust list; its public key is the trust anchor apps put in their config.
    TrustAnchor,
    /// Signs PID credentials and the status list tokens of the sandbox's credential issuer.
    Issuer,
    /// Signs the request objects of the sandbox's relying party (OpenID4VP).
    RelyingParty,
    /// The EU DCC document signer (`health`): its key is in a self-signed X.509 certificate that
    /// the trust list names under `health_signers`.
    DccSigner,
    /// Signs the sandbox agency's venue and counter codes and its exposure notices (check-ins).
    VenueSigner,
}

impl KeyRole {
    fn as_str(self) -> &'static str {
        match self {
            KeyRole::TrustAnchor => "trust_anchor",
            KeyRole::Issuer => "issuer",
            KeyRole::RelyingParty => "relying_party",
            KeyRole::DccSigner => "dcc_signer",
            KeyRole::VenueSigner => "venue_signer",
        }
    }
}

/// A key with its id and the times it was in use (Unix seconds).
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub signer: Arc<SoftwareSigner>,
    pub created_at: i64,
    /// `None` while the key is the role's active key.
    pub retired_at: Option<i64>,
}

impl SigningKey {
    pub fn public_key(&self) -> &EcPublicJwk {
        self.signer.public_key()
    }
}

/// Characters of the thumbprint kept as the key id.
const KID_CHARS: usize = 11;

pub(crate) fn create_tables(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS signing_keys (
             kid TEXT PRIMARY KEY,
             role TEXT NOT NULL,
             scalar BLOB NOT NULL,
             created_at INTEGER NOT NULL,
             retired_at INTEGER
         );",
    )
}

/// The role's active key, made on first use.
pub(crate) fn active(conn: &Connection, role: KeyRole, now: i64) -> rusqlite::Result<SigningKey> {
    let existing = conn
        .query_row(
            "SELECT kid, scalar, created_at FROM signing_keys
             WHERE role = ?1 AND retired_at IS NULL ORDER BY created_at DESC, rowid DESC LIMIT 1",
            [role.as_str()],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?, r.get(2)?)),
        )
        .optional()?;
    match existing {
        Some((kid, scalar, created_at)) => Ok(SigningKey {
            kid,
            signer: Arc::new(signer_from(&scalar)?),
            created_at,
            retired_at: None,
        }),
        None => create(conn, role, now),
    }
}

/// Every key the role ever had, newest first (the active one, then the retired ones).
pub(crate) fn all(conn: &Connection, role: KeyRole) -> rusqlite::Result<Vec<SigningKey>> {
    let mut statement = conn.prepare(
        "SELECT kid, scalar, created_at, retired_at FROM signing_keys
         WHERE role = ?1 ORDER BY created_at DESC, rowid DESC",
    )?;
    let rows = statement.query_map([role.as_str()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, Option<i64>>(3)?,
        ))
    })?;
    let mut keys = Vec::new();
    for row in rows {
        let (kid, scalar, created_at, retired_at) = row?;
        keys.push(SigningKey {
            kid,
            signer: Arc::new(signer_from(&scalar)?),
            created_at,
            retired_at,
        });
    }
    Ok(keys)
}

/// The private scalar of key `kid` (for a certificate made over it: `health`).
pub(crate) fn scalar(conn: &Connection, kid: &str) -> rusqlite::Result<Vec<u8>> {
    conn.query_row(
        "SELECT scalar FROM signing_keys WHERE kid = ?1",
        [kid],
        |r| r.get(0),
    )
}

/// Retires the role's active key and makes a new one, which is returned.
pub(crate) fn rotate(conn: &Connection, role: KeyRole, now: i64) -> rusqlite::Result<SigningKey> {
    conn.execute(
        "UPDATE signing_keys SET retired_at = ?2 WHERE role = ?1 AND retired_at IS NULL",
        params![role.as_str(), now],
    )?;
    create(conn, role, now)
}

fn create(conn: &Connection, role: KeyRole, now: i64) -> rusqlite::Result<SigningKey> {
    use ring::rand::SecureRandom;
    let rng = ring::rand::SystemRandom::new();
    // A random 32-byte string is a valid P-256 scalar except with probability ~2^-32.
    let (scalar, signer) = (0..8)
        .find_map(|_| {
            let mut scalar = [0u8; 32];
            rng.fill(&mut scalar).ok()?;
            let signer = SoftwareSigner::from_scalar(&scalar).ok()?;
            Some((scalar, signer))
        })
        .ok_or_else(|| rusqlite::Error::InvalidParameterName("no key could be made".into()))?;
    // The start of the RFC 7638 thumbprint (66 bits): checkable by anyone holding the JWK, unique
    // among a portal's few keys, and short, since the kid travels in every identity QR.
    let kid: String = signer
        .public_key()
        .thumbprint()
        .chars()
        .take(KID_CHARS)
        .collect();
    conn.execute(
        "INSERT INTO signing_keys (kid, role, scalar, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![kid, role.as_str(), scalar.as_slice(), now],
    )?;
    Ok(SigningKey {
        kid,
        signer: Arc::new(signer),
        created_at: now,
        retired_at: None,
    })
}

fn signer_from(scalar: &[u8]) -> rusqlite::Result<SoftwareSigner> {
    SoftwareSigner::from_scalar(scalar)
        .map_err(|_| rusqlite::Error::InvalidParameterName("a stored key is unusable".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_persist_and_rotate() {
        let conn = Connection::open_in_memory().unwrap();
        create_tables(&conn).unwrap();
        let first = active(&conn, KeyRole::Issuer, 100).unwrap();
        assert_eq!(active(&conn, KeyRole::Issuer, 200).unwrap().kid, first.kid);
        let anchor = active(&conn, KeyRole::TrustAnchor, 100).unwrap();
        assert_ne!(anchor.kid, first.kid);
        let second = rotate(&conn, KeyRole::Issuer, 300).unwrap();
        assert_ne!(second.kid, first.kid);
        assert_eq!(active(&conn, KeyRole::Issuer, 400).unwrap().kid, second.kid);
        let all = all(&conn, KeyRole::Issuer).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].kid, second.kid);
        assert_eq!(all[1].retired_at, Some(300));
        assert_eq!(all[1].public_key(), first.public_key());
    }
}
