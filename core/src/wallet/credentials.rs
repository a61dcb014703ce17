//! The wallet's activation record and its credentials, as stored.
//!
//! Owns: the `wallet_activation` and `wallet_credentials` tables and their queries. A credential is
//! kept exactly as issued (the issuer-signed JWT with every disclosure), so a presentation can
//! disclose any subset later; the columns beside it are what the wallet needs without parsing it.
//! Does not own checking a credential before it is stored (`activation`), nor its status
//! (`status`), nor presenting it.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::store::StoreError;

/// The one device key registered with an issuer, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activation {
    pub key_alias: String,
    pub credential_issuer: String,
    pub activated_at: i64,
}

/// A stored credential. `sd_jwt` is personal data: `Debug` leaves it out.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredCredential {
    pub id: String,
    pub vct: String,
    pub issuer: String,
    pub issuer_kid: String,
    pub key_alias: String,
    /// The issuer-signed JWT and all disclosures, `~`-separated, ending in `~`.
    pub sd_jwt: String,
    pub issued_at: i64,
    pub expires_at: Option<i64>,
    pub status_uri: Option<String>,
    pub status_idx: Option<u64>,
    /// Activation is waiting for an acceptable PIN before this credential can be used.
    pub pin_pending: bool,
    pub stored_at: i64,
}

impl std::fmt::Debug for StoredCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCredential")
            .field("id", &self.id)
            .field("vct", &self.vct)
            .field("issuer", &self.issuer)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .field("pin_pending", &self.pin_pending)
            .finish_non_exhaustive()
    }
}

pub fn activation(conn: &Connection) -> Result<Option<Activation>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT key_alias, credential_issuer, activated_at FROM wallet_activation WHERE id = 1",
            [],
            |r| {
                Ok(Activation {
                    key_alias: r.get(0)?,
                    credential_issuer: r.get(1)?,
                    activated_at: r.get(2)?,
                })
            },
        )
        .optional()?)
}

/// Records the activation, replacing an earlier one.
pub fn set_activation(tx: &Transaction<'_>, activation: &Activation) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO wallet_activation (id, key_alias, credential_issuer, activated_at)
         VALUES (1, ?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET key_alias = excluded.key_alias,
             credential_issuer = excluded.credential_issuer, activated_at = excluded.activated_at",
        params![
            activation.key_alias,
            activation.credential_issuer,
            activation.activated_at
        ],
    )?;
    Ok(())
}

pub fn insert(tx: &Transaction<'_>, credential: &StoredCredential) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO wallet_credentials (id, format, vct, issuer, issuer_kid, key_alias, sd_jwt,
             issued_at, expires_at, status_uri, status_idx, pin_pending, stored_at)
         VALUES (?1, 'dc+sd-jwt', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            credential.id,
            credential.vct,
            credential.issuer,
            credential.issuer_kid,
            credential.key_alias,
            credential.sd_jwt,
            credential.issued_at,
            credential.expires_at,
            credential.status_uri,
            credential.status_idx.map(|i| i as i64),
            credential.pin_pending,
            credential.stored_at,
        ],
    )?;
    Ok(())
}

const COLUMNS: &str = "id, vct, issuer, issuer_kid, key_alias, sd_jwt, issued_at, expires_at,
                       status_uri, status_idx, pin_pending, stored_at";

fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredCredential> {
    Ok(StoredCredential {
        id: row.get(0)?,
        vct: row.get(1)?,
        issuer: row.get(2)?,
        issuer_kid: row.get(3)?,
        key_alias: row.get(4)?,
        sd_jwt: row.get(5)?,
        issued_at: row.get(6)?,
        expires_at: row.get(7)?,
        status_uri: row.get(8)?,
        status_idx: row.get::<_, Option<i64>>(9)?.map(|i| i as u64),
        pin_pending: row.get(10)?,
        stored_at: row.get(11)?,
    })
}

/// Every credential, newest first.
pub fn all(conn: &Connection) -> Result<Vec<StoredCredential>, StoreError> {
    let mut query = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM wallet_credentials ORDER BY stored_at DESC, id"
    ))?;
    Ok(query.query_map([], read)?.collect::<Result<_, _>>()?)
}

/// The newest credential of type `vct` that activation has finished with.
pub fn usable_by_vct(conn: &Connection, vct: &str) -> Result<Option<StoredCredential>, StoreError> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM wallet_credentials WHERE vct = ?1 AND pin_pending = 0
                 ORDER BY stored_at DESC, id LIMIT 1"
            ),
            [vct],
            read,
        )
        .optional()?)
}

/// The credential that waits for a PIN to finish activation, if any.
pub fn pin_pending(conn: &Connection) -> Result<Option<StoredCredential>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM wallet_credentials WHERE pin_pending = 1 LIMIT 1"),
            [],
            read,
        )
        .optional()?)
}

pub fn clear_pin_pending(tx: &Transaction<'_>, id: &str) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE wallet_credentials SET pin_pending = 0 WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

pub fn any_usable(conn: &Connection) -> Result<bool, StoreError> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM wallet_credentials WHERE pin_pending = 0)",
        [],
        |r| r.get(0),
    )?)
}

/// The aliases of every device key the wallet's records name (credentials and activation).
pub fn key_aliases(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut aliases: Vec<String> = all(conn)?
        .into_iter()
        .map(|c| c.key_alias)
        .chain(activation(conn)?.map(|a| a.key_alias))
        .collect();
    aliases.sort();
    aliases.dedup();
    Ok(aliases)
}

/// Deletes every credential and the activation record (the wallet starts over). Returns the ids
/// deleted, for the history.
pub fn delete_all(tx: &Transaction<'_>) -> Result<Vec<String>, StoreError> {
    let ids: Vec<String> = tx
        .prepare("SELECT id FROM wallet_credentials ORDER BY stored_at")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    tx.execute("DELETE FROM wallet_credentials", [])?;
    tx.execute("DELETE FROM wallet_activation", [])?;
    Ok(ids)
}
