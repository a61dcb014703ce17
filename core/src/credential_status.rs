//! The status of credentials (valid, revoked, suspended) from IETF Token Status Lists, for the
//! wallet (it will not present a revoked PID) and for verifiers (they refuse one).
//!
//! Owns: fetching `statuslist+jwt` tokens with `If-None-Match`, verifying them with the issuer's
//! keys from the trust list before they are cached, the `status_lists` table (token, ETag, fetch
//! time, `ttl`), and reading a credential's entry from the cache, offline. Does not own the token
//! and bitstring formats (`status_list`, pure) nor the trust list.
//!
//! Freshness: a cached list is used until its `ttl` runs out (a day when it gives none), then
//! fetched again when online; offline, an older cached list still answers, and the answer says how
//! old it is, so neither a wallet nor a verifier silently trusts a list it could not refresh.

use rusqlite::{Connection, OptionalExtension, params};

use crate::net::{HttpClient, HttpRequest, NetError};
use crate::status_list::{self, StatusListError, StatusListToken, VerifiedStatusList};
use crate::store::{Store, StoreError};
use crate::wallet::IssuerTrust;

/// How long a list without a `ttl` is cached before it is fetched again.
pub const DEFAULT_TTL_SECS: i64 = 24 * 60 * 60;
/// The largest status list token accepted over the network.
const MAX_TOKEN_BYTES: usize = status_list::MAX_TOKEN_LEN;

/// A credential's status as its issuer's list gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialStatus {
    Valid,
    Revoked,
    Suspended,
    /// No verified list is cached for this credential (never fetched, or it failed to verify).
    Unknown,
}

/// A status with how fresh the list behind it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusAnswer {
    pub status: CredentialStatus,
    /// When the list was fetched (Unix seconds); `None` with `Unknown`.
    pub checked_at: Option<i64>,
    /// The list's `ttl` ran out and it could not be fetched again.
    pub stale: bool,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialStatusError {
    #[error("the status list did not verify: {0}")]
    Invalid(#[from] StatusListError),
    #[error("the status list URL is not valid")]
    InvalidUri,
    #[error(transparent)]
    Net(#[from] NetError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for CredentialStatusError {
    fn from(error: rusqlite::Error) -> Self {
        CredentialStatusError::Store(error.into())
    }
}

/// One cached token as stored.
struct Cached {
    token: String,
    etag: Option<String>,
    fetched_at: i64,
    ttl: Option<i64>,
}

fn cached(conn: &Connection, uri: &str) -> Result<Option<Cached>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT token, etag, fetched_at, ttl FROM status_lists WHERE uri = ?1",
            [uri],
            |r| {
                Ok(Cached {
                    token: r.get(0)?,
                    etag: r.get(1)?,
                    fetched_at: r.get(2)?,
                    ttl: r.get(3)?,
                })
            },
        )
        .optional()?)
}

/// Fetches the list at `uri` unless the cached one is within its `ttl` (or `force`), verifies it
/// with the keys of `issuer` in the trust list, and caches it. A `304 Not Modified` renews the
/// cached list's fetch time.
pub async fn refresh(
    store: &Store,
    http: &HttpClient,
    trust: &dyn IssuerTrust,
    issuer: &str,
    uri: &str,
    now: i64,
    force: bool,
) -> Result<(), CredentialStatusError> {
    let key = uri.to_string();
    let existing = store.read(move |conn| cached(conn, &key)).await?;
    if let Some(existing) = &existing
        && !force
        && now < existing.fetched_at + existing.ttl.unwrap_or(DEFAULT_TTL_SECS)
    {
        return Ok(());
    }
    let url = url::Url::parse(uri).map_err(|_| CredentialStatusError::InvalidUri)?;
    if url.scheme() != "https" {
        return Err(CredentialStatusError::InvalidUri);
    }
    let mut request = HttpRequest::get(url);
    request.max_body_bytes = MAX_TOKEN_BYTES;
    request
        .headers
        .push(("accept", "application/statuslist+jwt".into()));
    if let Some(etag) = existing.as_ref().and_then(|e| e.etag.clone()) {
        request.headers.push(("if-none-match", etag));
    }
    let response = http.fetch(request).await?;
    let key = uri.to_string();
    if response.status == 304 && existing.is_some() {
        store
            .write(move |tx| {
                tx.execute(
                    "UPDATE status_lists SET fetched_at = ?2 WHERE uri = ?1",
                    params![key, now],
                )?;
                Ok::<_, StoreError>(())
            })
            .await?;
        return Ok(());
    }
    if !response.is_success() {
        return Err(NetError::Status {
            status: response.status,
        }
        .into());
    }
    let token = String::from_utf8(response.body)
        .map_err(|_| CredentialStatusError::Invalid(StatusListError::Claim("token")))?;
    let verified = verify(trust, issuer, &token, uri, now)?;
    let ttl = verified.ttl.map(|t| t.min(i64::MAX as u64) as i64);
    let etag = response.etag;
    store
        .write(move |tx| {
            tx.execute(
                "INSERT INTO status_lists (uri, token, etag, fetched_at, ttl)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (uri) DO UPDATE SET token = excluded.token, etag = excluded.etag,
                     fetched_at = excluded.fetched_at, ttl = excluded.ttl",
                params![key, token, etag, now, ttl],
            )?;
            Ok::<_, StoreError>(())
        })
        .await?;
    Ok(())
}

/// The status of entry `idx` of the list at `uri`, from the cache. The cached token is verified
/// again (keys may have been retired since it was fetched).
pub fn lookup(
    conn: &Connection,
    trust: &dyn IssuerTrust,
    issuer: &str,
    uri: &str,
    idx: u64,
    now: i64,
) -> Result<StatusAnswer, StoreError> {
    let unknown = StatusAnswer {
        status: CredentialStatus::Unknown,
        checked_at: None,
        stale: false,
    };
    let Some(cached) = cached(conn, uri)? else {
        return Ok(unknown);
    };
    let Ok(verified) = verify(trust, issuer, &cached.token, uri, now) else {
        return Ok(unknown);
    };
    let status = match verified.list.status(idx) {
        Ok(status_list::VALID) => CredentialStatus::Valid,
        Ok(status_list::INVALID) => CredentialStatus::Revoked,
        Ok(status_list::SUSPENDED) => CredentialStatus::Suspended,
        // Other values are application-specific; an index outside the list is the issuer's
        // error. Neither proves the credential valid.
        _ => CredentialStatus::Unknown,
    };
    Ok(StatusAnswer {
        status,
        checked_at: Some(cached.fetched_at),
        stale: now >= cached.fetched_at + cached.ttl.unwrap_or(DEFAULT_TTL_SECS),
    })
}

fn verify(
    trust: &dyn IssuerTrust,
    issuer: &str,
    token: &str,
    uri: &str,
    now: i64,
) -> Result<VerifiedStatusList, StatusListError> {
    StatusListToken::verify(
        token,
        |kid| trust.issuer_key(issuer, kid, now).ok(),
        uri,
        now,
    )
}
