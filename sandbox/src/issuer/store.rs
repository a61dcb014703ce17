//! The issuer's state: pending activations, access tokens, nonces, issued credentials and their
//! status list. Functions over a `&Connection`, no HTTP, so the rules can be tested alone.
//!
//! Every bearer secret (pre-authorised code, access token, nonce) is 32 random bytes in base64url,
//! handed out once and stored only as its SHA-256.

use citizen_core::jose::{EcPublicJwk, base64url};
use citizen_core::openid4vci::{PID_VCT, pid_claims};
use citizen_core::sdjwt::{self, ClaimPath, IssueOptions, SD_JWT_VC_TYP};
use citizen_core::status_list::{self, StatusList, StatusListToken};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value, json};

use super::CredentialStatus;
use super::dates::Date;
use crate::enrollment::{self, EnrollmentError, EnrollmentRequest};
use crate::keys::{self, KeyRole};

/// How long a pre-authorised code from an activation may wait for its token request: long enough
/// to find the activation code on paper and type it.
pub(crate) const PRE_AUTHORIZED_CODE_TTL_SECS: i64 = 15 * 60;
pub(crate) const ACCESS_TOKEN_TTL_SECS: i64 = 5 * 60;
pub(crate) const NONCE_TTL_SECS: i64 = 5 * 60;
/// A PID is valid a year at most (and never beyond the identity card).
pub(crate) const CREDENTIAL_VALIDITY_SECS: i64 = 365 * 86_400;
/// The one status list, its entries and their width (2 bits: valid, revoked, suspended).
pub(crate) const STATUS_LIST_ID: u32 = 1;
pub(crate) const STATUS_LIST_BITS: u8 = 2;
pub(crate) const STATUS_LIST_SIZE: u64 = 1 << 16;
/// How long a wallet may cache the status list token, and how long the token is valid.
pub(crate) const STATUS_LIST_TTL_SECS: u64 = 5 * 60;
pub(crate) const STATUS_LIST_VALIDITY_SECS: i64 = 24 * 60 * 60;
/// Decoy digests per disclosable container. None: every PID carries the same ten claims, named in
/// the issuer's metadata, so decoys would hide nothing, while each one adds 43 characters to every
/// identity QR (RFC 9901 §4.2.5 leaves decoys to the issuer's judgement).
const DECOYS: usize = 0;

pub(crate) fn create_tables(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS wallet_activations (
             id INTEGER PRIMARY KEY,
             id_number TEXT NOT NULL,
             device_jwk TEXT NOT NULL,
             attestation TEXT,
             code_sha256 BLOB NOT NULL UNIQUE,
             created_at INTEGER NOT NULL,
             code_expires_at INTEGER NOT NULL,
             redeemed_at INTEGER,
             -- the identity record the activation code unlocked, set when it is redeemed
             record TEXT
         );
         CREATE TABLE IF NOT EXISTS issuer_access_tokens (
             token_sha256 BLOB PRIMARY KEY,
             activation_id INTEGER NOT NULL REFERENCES wallet_activations (id),
             expires_at INTEGER NOT NULL
         );
         CREATE TABLE IF NOT EXISTS issuer_nonces (
             nonce_sha256 BLOB PRIMARY KEY,
             expires_at INTEGER NOT NULL
         );
         CREATE TABLE IF NOT EXISTS issued_credentials (
             list_id INTEGER NOT NULL,
             idx INTEGER NOT NULL,
             id_number TEXT NOT NULL,
             activation_id INTEGER NOT NULL REFERENCES wallet_activations (id),
             issued_at INTEGER NOT NULL,
             expires_at INTEGER NOT NULL,
             status INTEGER NOT NULL DEFAULT 0,
             PRIMARY KEY (list_id, idx)
         );
         CREATE INDEX IF NOT EXISTS issued_credentials_by_citizen
             ON issued_credentials (id_number);
         -- the signed token of each list, kept while the list, its URI and the issuer key stay
         CREATE TABLE IF NOT EXISTS status_list_tokens (
             list_id INTEGER PRIMARY KEY,
             sub TEXT NOT NULL,
             kid TEXT NOT NULL,
             token TEXT NOT NULL,
             etag TEXT NOT NULL,
             iat INTEGER NOT NULL
         );",
    )
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    #[error("sandbox database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("no randomness")]
    Randomness,
    #[error("the status list has no free entry")]
    StatusListFull,
    #[error("a stored record is unreadable")]
    Corrupt,
    #[error("issuing failed: {0}")]
    Issue(#[from] sdjwt::SdJwtError),
    #[error("signing the status list failed: {0}")]
    StatusList(#[from] status_list::StatusListError),
}

/// Why a token request is refused (RFC 6749 §5.2 codes).
#[derive(Debug, thiserror::Error)]
pub(crate) enum TokenError {
    /// Unknown, expired or used pre-authorised code; wrong, used or expired activation code.
    #[error("invalid_grant")]
    InvalidGrant,
    #[error("invalid_request: {0}")]
    InvalidRequest(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for TokenError {
    fn from(error: rusqlite::Error) -> Self {
        TokenError::Store(StoreError::Database(error))
    }
}

/// What an access token grants: the credential of one redeemed activation.
#[derive(Clone)]
pub(crate) struct Grant {
    pub activation_id: i64,
    pub device_key: EcPublicJwk,
    record: EnrollmentRequest,
}

/// Records a pending activation and returns its pre-authorised code. Whether `id_number` is
/// enrolled is not looked at here: the token step finds out, so the answer never tells.
pub(crate) fn create_activation(
    conn: &Connection,
    id_number: &str,
    device_key: &EcPublicJwk,
    attestation: Option<&str>,
    now: i64,
) -> Result<String, StoreError> {
    let code = random_secret()?;
    conn.execute(
        "INSERT INTO wallet_activations
             (id_number, device_jwk, attestation, code_sha256, created_at, code_expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            id_number,
            device_key.to_value().to_string(),
            attestation,
            sha256(&code),
            now,
            now + PRE_AUTHORIZED_CODE_TTL_SECS
        ],
    )?;
    Ok(code)
}

/// Exchanges a pre-authorised code and the transaction code (the activation code, redeemed
/// through `enrollment::redeem`, whose wrong-code limit it counts toward) for an access token.
pub(crate) fn exchange_code(
    conn: &Connection,
    pre_authorized_code: &str,
    tx_code: Option<&str>,
    now: i64,
) -> Result<String, TokenError> {
    let pending = conn
        .query_row(
            "SELECT id, id_number, code_expires_at, redeemed_at FROM wallet_activations
             WHERE code_sha256 = ?1",
            [sha256(pre_authorized_code)],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            },
        )
        .optional()?;
    let Some((activation_id, id_number, expires_at, None)) = pending else {
        return Err(TokenError::InvalidGrant);
    };
    if now >= expires_at {
        return Err(TokenError::InvalidGrant);
    }
    let tx_code = tx_code.ok_or(TokenError::InvalidRequest("tx_code is required"))?;
    // One transaction: the activation code is used up only together with the token it buys, and
    // a wrong code's count is kept.
    let tx = conn.unchecked_transaction()?;
    let record = match enrollment::redeem(&tx, &id_number, tx_code, now) {
        Ok(record) => record,
        Err(EnrollmentError::Database(error)) => {
            tracing::error!(%error, "redeeming an activation code failed");
            return Err(StoreError::Corrupt.into());
        }
        Err(_) => {
            tx.commit()?;
            return Err(TokenError::InvalidGrant);
        }
    };
    let record = serde_json::to_string(&record).map_err(|_| StoreError::Corrupt)?;
    tx.execute(
        "UPDATE wallet_activations SET redeemed_at = ?2, record = ?3 WHERE id = ?1",
        params![activation_id, now, record],
    )?;
    tx.execute(
        "DELETE FROM issuer_access_tokens WHERE expires_at <= ?1",
        [now],
    )?;
    let token = random_secret()?;
    tx.execute(
        "INSERT INTO issuer_access_tokens (token_sha256, activation_id, expires_at)
         VALUES (?1, ?2, ?3)",
        params![sha256(&token), activation_id, now + ACCESS_TOKEN_TTL_SECS],
    )?;
    tx.commit()?;
    Ok(token)
}

/// What an unexpired access token grants, or `None`.
pub(crate) fn authorize(
    conn: &Connection,
    access_token: &str,
    now: i64,
) -> Result<Option<Grant>, StoreError> {
    let row = conn
        .query_row(
            "SELECT a.id, a.device_jwk, a.record
             FROM issuer_access_tokens t JOIN wallet_activations a ON a.id = t.activation_id
             WHERE t.token_sha256 = ?1 AND t.expires_at > ?2 AND a.record IS NOT NULL",
            params![sha256(access_token), now],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            },
        )
        .optional()?;
    let Some((activation_id, device_jwk, record)) = row else {
        return Ok(None);
    };
    let device_key =
        EcPublicJwk::from_json(device_jwk.as_bytes()).map_err(|_| StoreError::Corrupt)?;
    let record = serde_json::from_str(&record).map_err(|_| StoreError::Corrupt)?;
    Ok(Some(Grant {
        activation_id,
        device_key,
        record,
    }))
}

/// A fresh single-use nonce for key proofs.
pub(crate) fn new_nonce(conn: &Connection, now: i64) -> Result<String, StoreError> {
    conn.execute("DELETE FROM issuer_nonces WHERE expires_at <= ?1", [now])?;
    let nonce = random_secret()?;
    conn.execute(
        "INSERT INTO issuer_nonces (nonce_sha256, expires_at) VALUES (?1, ?2)",
        params![sha256(&nonce), now + NONCE_TTL_SECS],
    )?;
    Ok(nonce)
}

/// Uses up `nonce`: `true` if it was issued, unused and unexpired.
pub(crate) fn consume_nonce(conn: &Connection, nonce: &str, now: i64) -> Result<bool, StoreError> {
    let deleted = conn.execute(
        "DELETE FROM issuer_nonces WHERE nonce_sha256 = ?1 AND expires_at > ?2",
        params![sha256(nonce), now],
    )?;
    Ok(deleted == 1)
}

/// Issues the PID of `grant` as an SD-JWT VC bound to its device key, signed by the active
/// issuer key, with a fresh entry in the status list.
pub(crate) fn issue_pid(
    conn: &Connection,
    grant: &Grant,
    credential_issuer: &str,
    now: i64,
) -> Result<String, StoreError> {
    let record = &grant.record;
    let today = Date::from_unix(now);
    let birth = Date::parse(&record.birth_date).ok_or(StoreError::Corrupt)?;
    let mut exp = now + CREDENTIAL_VALIDITY_SECS;
    if let Some(card_expiry) = birth.card_expiry(today) {
        exp = exp.min(card_expiry.to_unix());
    }
    let key = keys::active(conn, KeyRole::Issuer, now)?;
    let idx = allocate_index(conn)?;

    let mut claims = Map::new();
    claims.insert("iss".into(), json!(credential_issuer));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(exp));
    claims.insert("vct".into(), json!(PID_VCT));
    claims.insert(
        "status".into(),
        json!({"status_list": {"idx": idx, "uri": status_list_uri(credential_issuer)}}),
    );
    let personal: [(&str, Value); 10] = [
        (pid_claims::FULL_NAME, json!(record.full_name)),
        (pid_claims::BIRTH_DATE, json!(record.birth_date)),
        (pid_claims::SEX, json!(record.sex)),
        (pid_claims::NATIONALITY, json!(record.nationality)),
        (pid_claims::ID_NUMBER, json!(record.id_number)),
        (pid_claims::PLACE_OF_ORIGIN, json!(record.place_of_origin)),
        (
            pid_claims::PLACE_OF_RESIDENCE,
            json!(record.place_of_residence),
        ),
        (pid_claims::ISSUE_DATE, json!(today.to_string())),
        (
            pid_claims::EXPIRY_DATE,
            json!(Date::from_unix(exp).to_string()),
        ),
        (pid_claims::AGE_OVER_18, json!(birth.has_turned(18, today))),
    ];
    for (name, value) in personal {
        claims.insert(name.into(), value);
    }
    let options = IssueOptions {
        disclosable: pid_claims::ALL
            .iter()
            .map(|name| ClaimPath::claim(name))
            .collect(),
        holder_key: Some(grant.device_key.clone()),
        typ: Some(SD_JWT_VC_TYP.into()),
        kid: Some(key.kid.clone()),
        decoys_per_container: DECOYS,
    };
    let issued = sdjwt::issue(&claims, &options, key.signer.as_ref())?;
    conn.execute(
        "INSERT INTO issued_credentials
             (list_id, idx, id_number, activation_id, issued_at, expires_at, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            STATUS_LIST_ID,
            idx as i64,
            record.id_number,
            grant.activation_id,
            now,
            exp,
            status_list::VALID
        ],
    )?;
    Ok(issued.sd_jwt)
}

/// `{credential_issuer}v1/status-lists/1`: the URI credentials reference and the token's `sub`.
pub(crate) fn status_list_uri(credential_issuer: &str) -> String {
    format!("{credential_issuer}v1/status-lists/{STATUS_LIST_ID}")
}

/// A random unused entry of the list (random, so an index says nothing about when or in which
/// order credentials were issued).
fn allocate_index(conn: &Connection) -> Result<u64, StoreError> {
    let taken = |idx: u64| -> rusqlite::Result<bool> {
        conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM issued_credentials WHERE list_id = ?1 AND idx = ?2)",
            params![STATUS_LIST_ID, idx as i64],
            |r| r.get(0),
        )
    };
    for _ in 0..32 {
        let [a, b, c, d, ..] = random_bytes::<8>()?;
        let idx = u64::from(u32::from_le_bytes([a, b, c, d])) % STATUS_LIST_SIZE;
        if !taken(idx)? {
            return Ok(idx);
        }
    }
    // A nearly full list: the first free entry.
    let used: i64 = conn.query_row(
        "SELECT count(*) FROM issued_credentials WHERE list_id = ?1",
        [STATUS_LIST_ID],
        |r| r.get(0),
    )?;
    if used as u64 >= STATUS_LIST_SIZE {
        return Err(StoreError::StatusListFull);
    }
    for idx in 0..STATUS_LIST_SIZE {
        if !taken(idx)? {
            return Ok(idx);
        }
    }
    Err(StoreError::StatusListFull)
}

/// Sets the status of every credential issued to `id_number`; how many there were.
pub(crate) fn set_status(
    conn: &Connection,
    id_number: &str,
    status: CredentialStatus,
) -> Result<u64, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let changed = tx.execute(
        "UPDATE issued_credentials SET status = ?2 WHERE id_number = ?1",
        params![id_number, status.value()],
    )?;
    if changed > 0 {
        tx.execute("DELETE FROM status_list_tokens", [])?;
    }
    tx.commit()?;
    Ok(changed as u64)
}

/// The current `statuslist+jwt` of list `list_id` and its ETag, or `None` for a list that does
/// not exist. The signed token is kept and served again until a status changes, the list's URI
/// or the issuer key changes, or half its validity has passed.
pub(crate) fn status_list_token(
    conn: &Connection,
    list_id: u32,
    credential_issuer: &str,
    now: i64,
) -> Result<Option<(String, String)>, StoreError> {
    if list_id != STATUS_LIST_ID {
        return Ok(None);
    }
    let sub = status_list_uri(credential_issuer);
    let key = keys::active(conn, KeyRole::Issuer, now)?;
    let cached = conn
        .query_row(
            "SELECT token, etag FROM status_list_tokens
             WHERE list_id = ?1 AND sub = ?2 AND kid = ?3 AND iat > ?4 AND iat <= ?5",
            params![
                list_id,
                sub,
                key.kid,
                now - STATUS_LIST_VALIDITY_SECS / 2,
                now
            ],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
        )
        .optional()?;
    if let Some(cached) = cached {
        return Ok(Some(cached));
    }
    let mut list = StatusList::new(STATUS_LIST_BITS, STATUS_LIST_SIZE)?;
    {
        let mut statement = conn.prepare(
            "SELECT idx, status FROM issued_credentials WHERE list_id = ?1 AND status != 0",
        )?;
        let rows =
            statement.query_map([list_id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, u8>(1)?)))?;
        for row in rows {
            let (idx, status) = row?;
            list.set(idx as u64, status)?;
        }
    }
    let token = StatusListToken::sign(
        key.signer.as_ref(),
        &key.kid,
        &sub,
        now,
        Some(now + STATUS_LIST_VALIDITY_SECS),
        Some(STATUS_LIST_TTL_SECS),
        &list,
    )?;
    let digest = base64url::encode(ring::digest::digest(
        &ring::digest::SHA256,
        token.as_bytes(),
    ));
    let etag = format!("\"{}\"", &digest[..22]);
    conn.execute(
        "INSERT INTO status_list_tokens (list_id, sub, kid, token, etag, iat)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (list_id) DO UPDATE SET sub = excluded.sub, kid = excluded.kid,
             token = excluded.token, etag = excluded.etag, iat = excluded.iat",
        params![list_id, sub, key.kid, token, etag, now],
    )?;
    Ok(Some((token, etag)))
}

fn random_bytes<const N: usize>() -> Result<[u8; N], StoreError> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; N];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| StoreError::Randomness)?;
    Ok(bytes)
}

fn random_secret() -> Result<String, StoreError> {
    Ok(base64url::encode(random_bytes::<32>()?))
}

fn sha256(text: &str) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes())
        .as_ref()
        .to_vec()
}

#[cfg(test)]
mod tests;
