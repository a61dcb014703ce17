//! The trust list in use: fetched from the portal, verified, cached in the encrypted store, and
//! held in memory for verifiers.
//!
//! Owns: [`TrustCache`] (the verified list behind an `Arc` swap, so a verifier reads it without
//! the store or a lock held across anything), loading the cached list at open (verified again
//! against the configured anchors: a list that no longer verifies is treated as missing),
//! [`TrustCache::refresh`] (`GET /v1/trust-list` with `If-None-Match`; a `304` renews the fetch
//! time; a `200` is verified, and checked against rollback, before it replaces the cached list; a
//! refusal keeps the old list), [`TrustListState`] from the fetch time, `max_age` and `exp`, and
//! giving the list's `origins[]` to the HTTP client, and answering the wallet's and the
//! verifier's questions about issuers (`wallet::IssuerTrust`). Does not own the list's format, signature
//! checks or lookups (`trust_list`), nor events (`Citizen` emits them once the work is done).
//!
//! Store keys (`meta`): `trust_list.jws` (the compact JWS as fetched), `trust_list.etag` (empty
//! when the portal sent none), `trust_list.fetched_at` (Unix seconds of the last `200` or `304`).
//! The JWS is stored rather than the parsed list so that every load verifies it again.
//!
//! Every function takes `now` from its caller, so staleness and expiry are testable without
//! waiting.

use std::sync::{Arc, Mutex, RwLock};

use crate::config::CitizenConfig;
use crate::jose::EcPublicJwk;
use crate::net::{HttpClient, HttpRequest, NetError, Origin};
use crate::store::{Store, StoreError, meta};
use crate::trust_list::{
    MAX_TRUST_LIST_BYTES, RelyingParty, TrustAnchor, TrustList, TrustListError, TrustedOrigin,
};
use crate::wallet::{CredentialCheck, IssuerTrust, WalletError};

/// The portal path of the trust list, below `portal_base_url`.
pub const TRUST_LIST_PATH: &str = "v1/trust-list";

const JWS_KEY: &str = "trust_list.jws";
const ETAG_KEY: &str = "trust_list.etag";
const FETCHED_AT_KEY: &str = "trust_list.fetched_at";

/// Where the trust list stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustListState {
    /// No verified list: none fetched yet, or the cached one no longer verifies against the
    /// configured anchors (or none are configured). Nothing that needs the list verifies.
    Missing,
    /// Verified, and fetched (or confirmed unchanged) within its `max_age`.
    Fresh,
    /// Verified and still in use, but not confirmed within its `max_age`: the app should say the
    /// trust data may be out of date, and the SDK tries to refresh at the next `sync_now`.
    Stale,
    /// Past its `exp`: nothing verifies against it until a new list is fetched.
    Expired,
}

/// The state of a verified `list` fetched at `fetched_at`, at `now`.
pub fn state_of(list: &TrustList, fetched_at: i64, now: i64) -> TrustListState {
    let max_age = i64::try_from(list.max_age).unwrap_or(i64::MAX);
    if list.is_expired(now) {
        TrustListState::Expired
    } else if now >= fetched_at.saturating_add(max_age) {
        TrustListState::Stale
    } else {
        TrustListState::Fresh
    }
}

/// Why the trust list could not be refreshed or used. Carries no list content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    #[error("no verified trust list is available")]
    Missing,
    /// The list (fetched, or in use) was refused: signature, anchors, format, expiry, rollback,
    /// or a lookup found no valid key.
    #[error(transparent)]
    List(#[from] TrustListError),
    #[error(transparent)]
    Net(#[from] NetError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one refresh did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refreshed {
    pub state: TrustListState,
    /// A new list replaced the one in use (or the first one arrived).
    pub installed: bool,
}

/// The verified list with what the cache knows about its fetching.
#[derive(Debug)]
struct Cached {
    list: Arc<TrustList>,
    etag: Option<String>,
    fetched_at: i64,
}

/// The trust list in use, for one `Citizen`.
pub struct TrustCache {
    anchors: Vec<TrustAnchor>,
    /// The origins the app's config names (the portal's included): they keep the config's pins
    /// whatever a list says, so a list can widen the policy but never weaken an app's pins.
    configured_origins: Vec<Origin>,
    current: RwLock<Option<Arc<Cached>>>,
    /// One refresh at a time, so two cannot install out of order. An async mutex guarding no
    /// data: it never blocks a thread, and no callback or event runs while it is held.
    refresh_gate: tokio::sync::Mutex<()>,
    /// The state last reported (by an event), to report changes only.
    reported: Mutex<TrustListState>,
}

impl std::fmt::Debug for TrustCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustCache")
            .field("anchors", &self.anchors.len())
            .finish_non_exhaustive()
    }
}

impl TrustCache {
    /// Loads the cached list from `store`, verifies it again against `config.trust_anchors`, and
    /// gives its origins to `http`. A cached list that no longer verifies (the anchors changed)
    /// is ignored, not deleted: the next refresh replaces it. Only a store failure is an error.
    pub async fn load(
        store: &Store,
        http: &HttpClient,
        config: &CitizenConfig,
        now: i64,
    ) -> Result<Self, StoreError> {
        let cache = Self {
            anchors: config.trust_anchors.clone(),
            configured_origins: configured_origins(config),
            current: RwLock::new(None),
            refresh_gate: tokio::sync::Mutex::new(()),
            reported: Mutex::new(TrustListState::Missing),
        };
        let (jws, etag, fetched_at) = store
            .read(|conn| {
                Ok::<_, StoreError>((
                    meta::get(conn, JWS_KEY)?,
                    meta::get(conn, ETAG_KEY)?,
                    meta::get(conn, FETCHED_AT_KEY)?,
                ))
            })
            .await?;
        let Some(jws) = jws else {
            return Ok(cache);
        };
        match TrustList::verify_ignoring_expiry(&jws, &cache.anchors) {
            Ok(list) => {
                let cached = Cached {
                    list: Arc::new(list),
                    etag: etag.filter(|e| !e.is_empty()),
                    // Unreadable: as if fetched long ago, so the list reports stale, never fresh.
                    fetched_at: fetched_at.and_then(|t| t.parse().ok()).unwrap_or(0),
                };
                cache.apply_origins(http, None, &cached.list);
                cache.replace(Some(Arc::new(cached)));
            }
            Err(TrustListError::NoAnchors) => {}
            Err(error) => tracing::warn!(
                %error,
                "the cached trust list does not verify against the configured trust anchors; \
                 it is treated as missing until a new one is fetched"
            ),
        }
        *lock(&cache.reported) = cache.state(now);
        Ok(cache)
    }

    /// Whether any trust anchor is configured (without one, no list can ever verify).
    pub fn has_anchors(&self) -> bool {
        !self.anchors.is_empty()
    }

    /// The verified list, whatever its state (check [`TrustCache::state`], or use
    /// [`TrustCache::usable`]).
    pub fn list(&self) -> Option<Arc<TrustList>> {
        self.snapshot().map(|cached| cached.list.clone())
    }

    /// The list to verify against at `now`: present and not expired. A stale list is usable.
    pub fn usable(&self, now: i64) -> Result<Arc<TrustList>, TrustError> {
        let list = self.list().ok_or(TrustError::Missing)?;
        if list.is_expired(now) {
            return Err(TrustListError::Expired.into());
        }
        Ok(list)
    }

    pub fn state(&self, now: i64) -> TrustListState {
        match self.snapshot() {
            Some(cached) => state_of(&cached.list, cached.fetched_at, now),
            None => TrustListState::Missing,
        }
    }

    /// Records `state` as reported; true when it differs from the state reported before.
    pub fn note_reported(&self, state: TrustListState) -> bool {
        let mut reported = lock(&self.reported);
        let changed = *reported != state;
        *reported = state;
        changed
    }

    /// Fetches the list (conditionally, when one is cached), verifies a new one against the
    /// anchors at `now` and installs it if it is newer than the one in use. A `304`, or the same
    /// list again, renews the fetch time. On any failure the list in use stays as it was.
    pub async fn refresh(
        &self,
        http: &HttpClient,
        store: &Store,
        now: i64,
    ) -> Result<Refreshed, TrustError> {
        if self.anchors.is_empty() {
            return Err(TrustListError::NoAnchors.into());
        }
        let _one_at_a_time = self.refresh_gate.lock().await;
        let current = self.snapshot();
        let mut request = HttpRequest::get(http.portal_url(TRUST_LIST_PATH)?);
        // The body is the JWS text, perhaps with a trailing newline.
        request.max_body_bytes = MAX_TRUST_LIST_BYTES + 16;
        if let Some(etag) = current.as_ref().and_then(|c| c.etag.clone()) {
            request.headers.push(("if-none-match", etag));
        }
        let response = http.fetch(request).await?;
        let installed = match response.status {
            304 => {
                // Only a request with a validator can be answered `304`.
                let current = current.ok_or(NetError::InvalidResponse)?;
                let etag = response.etag.or_else(|| current.etag.clone());
                self.renew(store, &current, etag, now).await?;
                false
            }
            200 => {
                let text = std::str::from_utf8(&response.body)
                    .map_err(|_| TrustListError::Jws(crate::jose::JwsError::Malformed))?
                    .trim_ascii();
                let list = TrustList::verify(text, &self.anchors, now)?;
                match current {
                    Some(current) if !list.is_newer_than(&current.list) => {
                        if (list.sequence, list.iat) != (current.list.sequence, current.list.iat) {
                            return Err(TrustListError::Rollback {
                                current: current.list.sequence,
                                offered: list.sequence,
                            }
                            .into());
                        }
                        // The same list again (the portal sent no ETag, or a new one).
                        self.renew(store, &current, response.etag, now).await?;
                        false
                    }
                    previous => {
                        self.install(http, store, previous, list, text, response.etag, now)
                            .await?;
                        true
                    }
                }
            }
            status => return Err(NetError::Status { status }.into()),
        };
        Ok(Refreshed {
            state: self.state(now),
            installed,
        })
    }

    async fn renew(
        &self,
        store: &Store,
        current: &Cached,
        etag: Option<String>,
        now: i64,
    ) -> Result<(), StoreError> {
        let stored_etag = etag.clone().unwrap_or_default();
        store
            .write(move |tx| {
                meta::set(tx, ETAG_KEY, &stored_etag)?;
                meta::set(tx, FETCHED_AT_KEY, &now.to_string())
            })
            .await?;
        self.replace(Some(Arc::new(Cached {
            list: current.list.clone(),
            etag,
            fetched_at: now,
        })));
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn install(
        &self,
        http: &HttpClient,
        store: &Store,
        previous: Option<Arc<Cached>>,
        list: TrustList,
        jws: &str,
        etag: Option<String>,
        now: i64,
    ) -> Result<(), StoreError> {
        let stored_jws = jws.to_owned();
        let stored_etag = etag.clone().unwrap_or_default();
        // Stored first: a list is in use only once it would also be loaded after a restart.
        store
            .write(move |tx| {
                meta::set(tx, JWS_KEY, &stored_jws)?;
                meta::set(tx, ETAG_KEY, &stored_etag)?;
                meta::set(tx, FETCHED_AT_KEY, &now.to_string())
            })
            .await?;
        let list = Arc::new(list);
        self.apply_origins(http, previous.as_ref().map(|p| p.list.as_ref()), &list);
        self.replace(Some(Arc::new(Cached {
            list,
            etag,
            fetched_at: now,
        })));
        tracing::info!("a new trust list is in use");
        Ok(())
    }

    /// Gives `http` the pins of the new list's origins and takes back those only the previous
    /// list named. Origins the app's config names are left alone.
    fn apply_origins(&self, http: &HttpClient, previous: Option<&TrustList>, new: &TrustList) {
        let listed = |list: &TrustList| -> Vec<(Origin, Vec<[u8; 32]>)> {
            list.origins
                .iter()
                .filter_map(parse_origin)
                .filter(|(origin, _)| !self.configured_origins.contains(origin))
                .collect()
        };
        let new_origins = listed(new);
        if let Some(previous) = previous {
            for (origin, _) in listed(previous) {
                if !new_origins.iter().any(|(o, _)| *o == origin) {
                    http.trust_origin(origin, Vec::new());
                }
            }
        }
        for (origin, pins) in new_origins {
            http.trust_origin(origin, pins);
        }
    }

    fn snapshot(&self) -> Option<Arc<Cached>> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn replace(&self, cached: Option<Arc<Cached>>) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = cached;
    }
}

/// The wallet's and the verifier's view of the list: issuer keys and types only from a present,
/// unexpired list (a stale one still answers), at the real clock.
impl IssuerTrust for TrustCache {
    fn issuer_key(&self, iss: &str, kid: &str, at: i64) -> Result<EcPublicJwk, WalletError> {
        let list = self
            .usable(crate::unix_now())
            .map_err(|_| WalletError::NoTrustList)?;
        list.issuer_key(iss, kid, at)
            .cloned()
            .map_err(|_| WalletError::CredentialRejected(CredentialCheck::UntrustedIssuer))
    }

    fn may_issue(&self, iss: &str, vct: &str) -> bool {
        self.usable(crate::unix_now())
            .ok()
            .and_then(|list| list.issuer(iss).map(|issuer| issuer.may_issue(vct)))
            .unwrap_or(false)
    }

    fn issuer_name(&self, iss: &str) -> Option<String> {
        let list = self.list()?;
        list.issuer(iss).map(|issuer| issuer.display_name.clone())
    }

    fn relying_party(&self, client_id: &str) -> Result<Option<RelyingParty>, WalletError> {
        let list = self
            .usable(crate::unix_now())
            .map_err(|_| WalletError::NoTrustList)?;
        Ok(list.relying_party(client_id).cloned())
    }

    fn health_signer(
        &self,
        kid: &[u8],
    ) -> Result<Option<crate::dcc::SignerCertificate>, WalletError> {
        let list = self
            .usable(crate::unix_now())
            .map_err(|_| WalletError::NoTrustList)?;
        Ok(list
            .health_signer(kid)
            .map(|(_, certificate)| certificate.clone()))
    }
}

/// A listed origin as the HTTP client takes it (the list's verification already checked both).
fn parse_origin(entry: &TrustedOrigin) -> Option<(Origin, Vec<[u8; 32]>)> {
    let origin = Origin::parse(&entry.origin)?;
    let pins = crate::config::parse_pins(&entry.spki_pins).ok()?;
    Some((origin, pins))
}

fn configured_origins(config: &CitizenConfig) -> Vec<Origin> {
    let portal = crate::config::parse_portal_url(&config.portal_base_url)
        .ok()
        .and_then(|url| Origin::of(&url));
    portal
        .into_iter()
        .chain(
            config
                .origin_pins
                .iter()
                .filter_map(|o| Origin::parse(&o.origin)),
        )
        .collect()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests;
