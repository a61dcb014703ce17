//! Remote presentation: answering an agency website's or app's OpenID4VP request from the
//! wallet, with the citizen's consent (`docs/wallet-identity.md`, "OpenID4VP").
//!
//! Owns the wallet's side of the flow:
//! 1. [`Wallet::prepare_disclosure`] reads the scanned link, finds the relying party in the trust
//!    list, fetches the signed request object (by POST with a fresh `wallet_nonce` when the link
//!    asks for it), verifies it, refuses a request already answered (its `nonce` or `state`), and
//!    matches its DCQL query against the PID. It returns the consent screen's data
//!    ([`DisclosureConsent`]). Nothing about the citizen has left the phone.
//! 2. [`Wallet::approve_disclosure`] checks the PIN and that the optional claims chosen are a
//!    combination the request offers, builds the SD-JWT presentation with a KB-JWT (`aud` = the
//!    client id, `nonce` = the request's), posts it to `response_uri` (`direct_post`, or
//!    `direct_post.jwt` encrypted to the relying party's key) and returns the `redirect_uri` the
//!    relying party answers with, for the same-device flow.
//! 3. [`Wallet::decline_disclosure`] sends the OpenID4VP error response `access_denied`.
//!
//! Every outcome is a history record: completed, declined, or failed, with the relying party and
//! the claim names. The I/O-free steps ([`plan_disclosure`], [`response_body`]) are public so
//! they can be benchmarked and tested alone.
//! Does not own the formats (`openid4vp`, `dcql`, `sdjwt`, `jose::jwe`), the trust list, or
//! in-person presentations (`presentation`).
//!
//! A prepared request lives in memory only, until it is answered or its request object expires:
//! a request is short-lived, and one interrupted by a restart is scanned again.

use std::collections::HashMap;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde_json::{Map, Value};

use super::credentials::{self, StoredCredential};
use super::device_key::DeviceKey;
use super::history::{self, Counterparty, HistoryKind, HistoryOutcome, NewRecord};
use super::{Wallet, WalletError};
use crate::credential_status::CredentialStatus;
use crate::dcql::{self, FORMAT_SD_JWT_VC, HeldCredential};
use crate::jose::{EcPublicJwk, JwsSigner};
use crate::net::{HttpMethod, HttpRequest, NetError};
use crate::openid4vci::PID_VCT;
use crate::openid4vp::{
    AuthorizationLink, AuthorizationResponse, DirectPost, ErrorResponse, MAX_REQUEST_OBJECT_LEN,
    Openid4vpError, RequestCheck, RequestObject, RequestUriMethod, ResponseMode, VpToken,
};
use crate::sdjwt::{self, ClaimPath, KeyBindingParams, Limits, PathStep, SdJwt, VerifyOptions};
use crate::store::StoreError;
use crate::trust_list::RelyingParty;

/// Allowed clock difference between the phone and the relying party, in seconds.
pub const CLOCK_SKEW_SECS: i64 = 60;
/// The largest answer to a posted response the wallet reads (it only needs `redirect_uri`).
const MAX_ANSWER_BYTES: usize = 16 * 1024;
/// How long a seen request's `nonce` and `state` are kept after its expiry. Within it, an
/// answered request is refused as a replay; after it, the request is refused as expired anyway.
/// The margin covers a phone clock set back.
const REPLAY_MEMORY_SECS: i64 = 24 * 60 * 60;
/// The most requests prepared and not yet answered at once; the oldest is forgotten beyond it.
const MAX_PENDING: usize = 8;

/// One claim on the consent screen. `value` is personal data, for the citizen's eyes only:
/// `Debug` leaves it out.
#[derive(Clone, PartialEq)]
pub struct ConsentClaim {
    /// The claim's path as text (`full_name`, `place_of_residence.locality`); what the citizen
    /// approves or leaves out, and what the history records.
    pub name: String,
    /// Required by the request; an optional one the citizen may leave out.
    pub required: bool,
    /// What the wallet would send.
    pub value: Value,
}

impl std::fmt::Debug for ConsentClaim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsentClaim")
            .field("name", &self.name)
            .field("required", &self.required)
            .finish_non_exhaustive()
    }
}

/// What the consent screen needs.
#[derive(Debug, Clone, PartialEq)]
pub struct DisclosureConsent {
    /// The handle for [`Wallet::approve_disclosure`] and [`Wallet::decline_disclosure`].
    pub request_id: String,
    /// The relying party as the trust list names it (`id` is its client id).
    pub relying_party: Counterparty,
    /// The purpose the relying party registered in the trust list.
    pub purpose: Option<String>,
    /// Required claims first, then optional ones, each in the request's order.
    pub claims: Vec<ConsentClaim>,
    /// When the citizen last shared claims with this relying party, if ever.
    pub last_shared_at: Option<i64>,
    /// The answer will be encrypted to the relying party (`direct_post.jwt`).
    pub encrypted_response: bool,
    /// Unix seconds after which the request can no longer be answered.
    pub expires_at: i64,
}

/// The citizen's approval. `Debug` leaves out the PIN.
#[derive(Clone, Default)]
pub struct DisclosureApproval {
    pub pin: String,
    /// Names (as [`ConsentClaim::name`]) of the optional claims the citizen agreed to share.
    pub optional_claims: Vec<String>,
}

impl std::fmt::Debug for DisclosureApproval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DisclosureApproval")
            .field("optional_claims", &self.optional_claims)
            .finish_non_exhaustive()
    }
}

/// What happened once the relying party took the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisclosureReceipt {
    /// The claim names sent.
    pub disclosed: Vec<String>,
    /// Where the relying party wants the citizen next (same-device flow): an `https` URI for the
    /// app to open, or `None` when the relying party continues on its own (cross-device).
    pub redirect_uri: Option<String>,
}

/// A claim the plan would disclose.
#[derive(Clone, PartialEq)]
struct PlannedClaim {
    id: Option<String>,
    path: ClaimPath,
    name: String,
    required: bool,
    value: Value,
}

/// One credential query the PID answers.
#[derive(Clone, PartialEq)]
struct PlannedQuery {
    query_id: String,
    /// The query's `claim_sets` (claim ids); empty when every claim is required.
    claim_sets: Vec<Vec<String>>,
    claims: Vec<PlannedClaim>,
}

/// A verified request and how the PID answers it: the output of [`plan_disclosure`]. Holds
/// claim values: `Debug` shows only the relying party and the claim names.
#[derive(Clone)]
pub struct DisclosurePlan {
    pub request: RequestObject,
    pub relying_party: RelyingParty,
    queries: Vec<PlannedQuery>,
}

impl std::fmt::Debug for DisclosurePlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DisclosurePlan")
            .field("client_id", &self.request.client_id)
            .field(
                "claims",
                &self
                    .queries
                    .iter()
                    .flat_map(|q| q.claims.iter().map(|c| c.name.as_str()))
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl DisclosurePlan {
    /// The consent screen's claims: required ones first, each group in the request's order.
    pub fn consent_claims(&self) -> Vec<ConsentClaim> {
        let all = self.queries.iter().flat_map(|q| &q.claims);
        let (required, optional): (Vec<_>, Vec<_>) = all.partition(|c| c.required);
        required
            .into_iter()
            .chain(optional)
            .map(|c| ConsentClaim {
                name: c.name.clone(),
                required: c.required,
                value: c.value.clone(),
            })
            .collect()
    }

    /// The claims to send when the citizen approves `optional` (names), per credential query:
    /// every required claim and the chosen optional ones, which together must be one of the
    /// query's `claim_sets` options when it has them.
    fn chosen(
        &self,
        optional: &[String],
    ) -> Result<Vec<(&PlannedQuery, Vec<&PlannedClaim>)>, WalletError> {
        let offered = |name: &String| {
            self.queries
                .iter()
                .flat_map(|q| &q.claims)
                .any(|c| !c.required && &c.name == name)
        };
        if !optional.iter().all(offered) {
            return Err(WalletError::ClaimChoiceNotOffered);
        }
        let mut chosen = Vec::with_capacity(self.queries.len());
        for query in &self.queries {
            let claims: Vec<&PlannedClaim> = query
                .claims
                .iter()
                .filter(|c| c.required || optional.contains(&c.name))
                .collect();
            if !query.claim_sets.is_empty() {
                let mut ids: Vec<&str> = claims.iter().filter_map(|c| c.id.as_deref()).collect();
                ids.sort_unstable();
                let offered = query.claim_sets.iter().any(|option| {
                    let mut option: Vec<&str> = option.iter().map(String::as_str).collect();
                    option.sort_unstable();
                    option.dedup();
                    option == ids
                });
                if !offered {
                    return Err(WalletError::ClaimChoiceNotOffered);
                }
            }
            chosen.push((query, claims));
        }
        Ok(chosen)
    }
}

/// A fetched request object and what it is checked against.
#[derive(Debug, Clone, Copy)]
pub struct FetchedRequest<'a> {
    pub link: &'a AuthorizationLink,
    /// The relying party the trust list names for the link's `client_id`.
    pub relying_party: &'a RelyingParty,
    /// The request object as fetched (a compact JWS).
    pub request_object: &'a str,
    /// The `wallet_nonce` the wallet posted, when it fetched by POST.
    pub wallet_nonce: Option<&'a str>,
}

/// The I/O-free part of preparing: verifies the request object against the relying party
/// (signature, client, `response_uri`, expiry, allowed claims, `wallet_nonce`), re-verifies the
/// stored PID with its issuer's key, and matches the DCQL query against it.
pub fn plan_disclosure(
    fetched: &FetchedRequest<'_>,
    pid_sd_jwt: &str,
    issuer_key: &EcPublicJwk,
    now: i64,
) -> Result<DisclosurePlan, WalletError> {
    let request = RequestObject::verify(
        fetched.request_object,
        &RequestCheck {
            link: fetched.link,
            relying_party: fetched.relying_party,
            wallet_aud: None,
            now,
            skew: CLOCK_SKEW_SECS,
            wallet_nonce: fetched.wallet_nonce,
        },
    )
    .map_err(WalletError::RequestRefused)?;
    let verified = sdjwt::verify(pid_sd_jwt, &VerifyOptions::new(issuer_key, now).sd_jwt_vc())
        .map_err(|_| WalletError::Issuer("the stored credential no longer verifies".into()))?;
    let Value::Object(claims) = verified.claims else {
        return Err(WalletError::Issuer(
            "the stored credential has no claims".into(),
        ));
    };
    let vct = claims.get("vct").and_then(Value::as_str).unwrap_or(PID_VCT);
    let held = [HeldCredential {
        format: FORMAT_SD_JWT_VC,
        vct,
        claims: &claims,
    }];
    let matched = request
        .dcql_query
        .match_credentials(&held)
        .map_err(WalletError::CannotSatisfy)?;
    let mut queries = Vec::with_capacity(matched.credentials.len());
    for found in &matched.credentials {
        let Some(query) = request
            .dcql_query
            .credentials
            .iter()
            .find(|q| q.id == found.query_id)
        else {
            continue;
        };
        let planned = found
            .claims
            .iter()
            .map(|claim| PlannedClaim {
                id: claim.id.clone(),
                path: claim.path.clone(),
                name: path_name(&claim.path),
                required: claim.required,
                value: selected_value(&claim.path, &claims),
            })
            .collect();
        queries.push(PlannedQuery {
            query_id: found.query_id.clone(),
            claim_sets: query.claim_sets.clone(),
            claims: planned,
        });
    }
    if queries.is_empty() {
        return Err(WalletError::CannotSatisfy(
            dcql::MatchError::CannotSatisfy {
                query_id: request
                    .dcql_query
                    .credentials
                    .first()
                    .map(|q| q.id.clone())
                    .unwrap_or_default(),
            },
        ));
    }
    Ok(DisclosurePlan {
        request,
        relying_party: fetched.relying_party.clone(),
        queries,
    })
}

/// What [`response_body`] makes.
#[derive(Clone)]
pub struct ResponseBody {
    /// The `application/x-www-form-urlencoded` body for `response_uri`.
    pub form: String,
    /// The claim names it discloses.
    pub disclosed: Vec<String>,
}

/// The I/O-free part of answering: the presentations of the chosen claims, each with a KB-JWT
/// signed by `device` (`aud` = client id, `nonce` = the request's, `iat` = `now`), as the
/// `direct_post` body, encrypted when the request asks for `direct_post.jwt`.
pub fn response_body(
    plan: &DisclosurePlan,
    pid_sd_jwt: &str,
    optional: &[String],
    device: &dyn JwsSigner,
    now: i64,
) -> Result<ResponseBody, WalletError> {
    let chosen = plan.chosen(optional)?;
    let parsed = SdJwt::parse(pid_sd_jwt, &Limits::default())
        .map_err(|_| WalletError::Issuer("the stored credential no longer parses".into()))?;
    let mut vp_token = VpToken::new();
    let mut disclosed = Vec::new();
    for (query, claims) in chosen {
        let paths: Vec<ClaimPath> = claims.iter().map(|c| c.path.clone()).collect();
        let presentation = parsed
            .present(
                &paths,
                Some(&KeyBindingParams {
                    audience: &plan.request.client_id,
                    nonce: &plan.request.nonce,
                    issued_at: now,
                    signer: device,
                }),
            )
            .map_err(|_| WalletError::InvalidInput("claims"))?;
        vp_token.insert(query.query_id.clone(), vec![presentation]);
        disclosed.extend(claims.iter().map(|c| c.name.clone()));
    }
    let post = DirectPost::Response(AuthorizationResponse {
        vp_token,
        state: plan.request.state.clone(),
    });
    Ok(ResponseBody {
        form: body_for(plan, &post)?,
        disclosed,
    })
}

/// The body of `post` as the request's response mode wants it.
fn body_for(plan: &DisclosurePlan, post: &DirectPost) -> Result<String, WalletError> {
    match (&plan.request.response_mode, &plan.request.encryption) {
        (ResponseMode::DirectPostJwt, Some(encryption)) => post
            .to_encrypted_form(encryption)
            .map_err(|_| WalletError::InvalidInput("client_metadata")),
        _ => Ok(post.to_form()),
    }
}

/// A claim path as the citizen and the history see it: members joined by `.`, positions as
/// numbers, `*` for every element.
pub fn path_name(path: &ClaimPath) -> String {
    path.steps()
        .iter()
        .map(|step| match step {
            PathStep::Key(name) => name.clone(),
            PathStep::Index(index) => index.to_string(),
            PathStep::AllElements => "*".into(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The value a path selects: the value itself, or an array of them when it selects several.
fn selected_value(path: &ClaimPath, claims: &Map<String, Value>) -> Value {
    let mut selected = dcql::select(path, claims);
    if selected.len() == 1 && !path.steps().contains(&PathStep::AllElements) {
        selected.remove(0).clone()
    } else {
        Value::Array(selected.into_iter().cloned().collect())
    }
}

/// A prepared request waiting for the citizen.
struct Pending {
    plan: DisclosurePlan,
    credential_id: String,
    prepared_at: i64,
}

/// The prepared requests of one wallet, by request id.
#[derive(Default)]
pub(crate) struct PendingDisclosures {
    by_id: Mutex<HashMap<String, Pending>>,
}

impl PendingDisclosures {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.by_id.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn insert(&self, id: String, pending: Pending) {
        let mut map = self.lock();
        // A request for the same nonce supersedes an earlier preparation of it.
        map.retain(|_, p| {
            !(p.plan.request.client_id == pending.plan.request.client_id
                && p.plan.request.nonce == pending.plan.request.nonce)
        });
        while map.len() >= MAX_PENDING {
            let Some(oldest) = map
                .iter()
                .min_by_key(|(_, p)| p.prepared_at)
                .map(|(id, _)| id.clone())
            else {
                break;
            };
            map.remove(&oldest);
        }
        map.insert(id, pending);
    }

    /// The plan of `id` and the credential it presents, if it is still answerable at `now`.
    fn get(&self, id: &str, now: i64) -> Result<(DisclosurePlan, String), WalletError> {
        let mut map = self.lock();
        map.retain(|_, p| now < p.plan.request.exp.saturating_add(CLOCK_SKEW_SECS));
        map.get(id)
            .map(|p| (p.plan.clone(), p.credential_id.clone()))
            .ok_or(WalletError::UnknownDisclosure)
    }

    fn remove(&self, id: &str) {
        self.lock().remove(id);
    }
}

/// Records a request as seen (pending), or refuses it if its `nonce` or `state` was answered.
pub(crate) fn note_request(
    tx: &Transaction<'_>,
    request: &RequestObject,
    now: i64,
) -> Result<(), WalletError> {
    tx.execute(
        "DELETE FROM wallet_remote_requests WHERE expires_at < ?1",
        [now.saturating_sub(REPLAY_MEMORY_SECS)],
    )?;
    let answered: Option<i64> = tx
        .query_row(
            "SELECT 1 FROM wallet_remote_requests
             WHERE client_id = ?1 AND (nonce = ?2 OR state = ?3) AND outcome IS NOT NULL
             LIMIT 1",
            params![request.client_id, request.nonce, request.state],
            |r| r.get(0),
        )
        .optional()?;
    if answered.is_some() {
        return Err(WalletError::RequestReplayed);
    }
    tx.execute(
        "INSERT INTO wallet_remote_requests (client_id, nonce, state, outcome, seen_at, expires_at)
         VALUES (?1, ?2, ?3, NULL, ?4, ?5)
         ON CONFLICT (client_id, nonce)
         DO UPDATE SET state = excluded.state, seen_at = excluded.seen_at,
                       expires_at = excluded.expires_at",
        params![
            request.client_id,
            request.nonce,
            request.state,
            now,
            request.exp
        ],
    )?;
    Ok(())
}

/// Marks a request answered; `false` if it already was (by a concurrent answer).
fn mark_answered(
    tx: &Transaction<'_>,
    request: &RequestObject,
    outcome: HistoryOutcome,
) -> Result<bool, StoreError> {
    let code = match outcome {
        HistoryOutcome::Completed => "completed",
        HistoryOutcome::Declined => "declined",
        HistoryOutcome::Failed => "failed",
    };
    Ok(tx.execute(
        "UPDATE wallet_remote_requests SET outcome = ?3
         WHERE client_id = ?1 AND nonce = ?2 AND outcome IS NULL",
        params![request.client_id, request.nonce, code],
    )? == 1)
}

/// Whether the request was answered already (by another call).
fn is_answered(conn: &Connection, request: &RequestObject) -> Result<bool, StoreError> {
    Ok(conn
        .query_row(
            "SELECT outcome IS NOT NULL FROM wallet_remote_requests
             WHERE client_id = ?1 AND nonce = ?2",
            params![request.client_id, request.nonce],
            |r| r.get::<_, bool>(0),
        )
        .optional()?
        .unwrap_or(false))
}

fn counterparty(plan: &DisclosurePlan) -> Counterparty {
    Counterparty {
        id: plan.relying_party.client_id.clone(),
        display_name: plan.relying_party.display_name.clone(),
    }
}

impl Wallet {
    /// Prepares the consent screen for a scanned or opened OpenID4VP request (see the module
    /// documentation). Fetches the request object; sends nothing about the citizen.
    pub async fn prepare_disclosure(&self, link: &str) -> Result<DisclosureConsent, WalletError> {
        let link = AuthorizationLink::parse(link.trim()).map_err(WalletError::RequestRefused)?;
        let context = self.context();
        let relying_party = context
            .trust
            .relying_party(&link.client_id)?
            .ok_or(WalletError::UnknownRelyingParty)?;
        link.check_against(&relying_party)
            .map_err(WalletError::RequestRefused)?;

        let wallet_nonce = match link.request_uri_method {
            RequestUriMethod::Post => Some(super::random_token(16)?),
            RequestUriMethod::Get => None,
        };
        let request_object = self
            .fetch_request_object(&link, wallet_nonce.as_deref())
            .await?;

        let now = crate::unix_now();
        let trust = context.trust.clone();
        let client_id = link.client_id.clone();
        let (credential, status, last_shared_at) = context
            .store
            .read(move |conn| {
                let credential =
                    credentials::usable_by_vct(conn, PID_VCT)?.ok_or(WalletError::NotActivated)?;
                let status = super::status_of(conn, &*trust, &credential, now)?.status;
                let last = history::last_shared_with(conn, &client_id)?;
                Ok::<_, WalletError>((credential, status, last))
            })
            .await?;
        refuse_unusable(status)?;
        let issuer_key = context.trust.issuer_key(
            &credential.issuer,
            &credential.issuer_kid,
            credential.issued_at,
        )?;
        let plan = plan_disclosure(
            &FetchedRequest {
                link: &link,
                relying_party: &relying_party,
                request_object: &request_object,
                wallet_nonce: wallet_nonce.as_deref(),
            },
            &credential.sd_jwt,
            &issuer_key,
            now,
        )?;

        let request = plan.request.clone();
        context
            .store
            .write(move |tx| note_request(tx, &request, now))
            .await?;
        let request_id = super::random_token(16)?;
        let consent = DisclosureConsent {
            request_id: request_id.clone(),
            relying_party: counterparty(&plan),
            purpose: relying_party.purpose.clone(),
            claims: plan.consent_claims(),
            last_shared_at,
            encrypted_response: plan.request.response_mode == ResponseMode::DirectPostJwt,
            expires_at: plan.request.exp,
        };
        context.remote.insert(
            request_id,
            Pending {
                plan,
                credential_id: credential.id,
                prepared_at: now,
            },
        );
        Ok(consent)
    }

    /// Sends the required claims and the optional ones the citizen chose, after checking the
    /// PIN. See the module documentation.
    pub async fn approve_disclosure(
        &self,
        request_id: &str,
        approval: DisclosureApproval,
    ) -> Result<DisclosureReceipt, WalletError> {
        let now = crate::unix_now();
        let context = self.context();
        let (plan, credential_id) = context.remote.get(request_id, now)?;
        // A bad choice is the app's mistake: say so before the PIN is spent on it.
        plan.chosen(&approval.optional_claims)?;
        self.verify_pin(&approval.pin).await?;

        let trust = context.trust.clone();
        let request = plan.request.clone();
        let (credential, status, answered) = context
            .store
            .read(move |conn| {
                let credential = credentials::usable_by_vct(conn, PID_VCT)?
                    .filter(|c| c.id == credential_id)
                    .ok_or(WalletError::NotActivated)?;
                let status = super::status_of(conn, &*trust, &credential, now)?.status;
                Ok::<_, WalletError>((credential, status, is_answered(conn, &request)?))
            })
            .await?;
        if answered {
            context.remote.remove(request_id);
            return Err(WalletError::RequestReplayed);
        }
        if let Err(refusal) = refuse_unusable(status) {
            self.record_remote(&plan, &credential, HistoryOutcome::Failed, Vec::new(), now)
                .await;
            return Err(refusal);
        }

        let keys = self.key_store()?;
        let body = {
            let plan = plan.clone();
            let sd_jwt = credential.sd_jwt.clone();
            let alias = credential.key_alias.clone();
            let optional = approval.optional_claims.clone();
            crate::blocking::run(move || {
                let device = DeviceKey::open(keys, &alias)?;
                response_body(&plan, &sd_jwt, &optional, &device, now)
            })
            .await?
        };
        let answer = self.post_response(&plan, body.form).await;
        self.finish(request_id, &plan, &credential, answer, body.disclosed, now)
            .await
    }

    /// Tells the relying party the citizen said no (`access_denied`). The refusal is recorded
    /// even when it cannot be delivered (the error says why).
    pub async fn decline_disclosure(&self, request_id: &str) -> Result<(), WalletError> {
        let now = crate::unix_now();
        let context = self.context();
        let (plan, credential_id) = context.remote.get(request_id, now)?;
        context.remote.remove(request_id);
        let request = plan.request.clone();
        let first = context
            .store
            .write(move |tx| {
                Ok::<_, WalletError>(mark_answered(tx, &request, HistoryOutcome::Declined)?)
            })
            .await?;
        if !first {
            return Err(WalletError::RequestReplayed);
        }
        let record = NewRecord {
            at: now,
            kind: HistoryKind::Presentation,
            outcome: HistoryOutcome::Declined,
            counterparty: Some(counterparty(&plan)),
            credential_id: Some(credential_id),
            claims: plan.consent_claims().into_iter().map(|c| c.name).collect(),
        };
        if let Err(error) = self.record(record).await {
            tracing::warn!(%error, "could not record a declined presentation");
        }
        let body = body_for(
            &plan,
            &DirectPost::Error(ErrorResponse::access_denied(plan.request.state.clone())),
        )?;
        self.post_response(&plan, body).await.map(drop)
    }

    async fn fetch_request_object(
        &self,
        link: &AuthorizationLink,
        wallet_nonce: Option<&str>,
    ) -> Result<String, WalletError> {
        let mut request = HttpRequest::get(link.request_uri.clone());
        request.max_body_bytes = MAX_REQUEST_OBJECT_LEN;
        request
            .headers
            .push(("accept", "application/oauth-authz-req+jwt".into()));
        if let Some(nonce) = wallet_nonce {
            request.method = HttpMethod::Post;
            let form = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("wallet_nonce", nonce)
                .finish();
            request.body = Some(("application/x-www-form-urlencoded", form.into_bytes()));
        }
        let response = match self.context().http.fetch(request).await {
            Err(NetError::ResponseTooLarge { .. }) => {
                return Err(WalletError::RequestRefused(Openid4vpError::TooLarge {
                    what: "request object",
                    len: MAX_REQUEST_OBJECT_LEN + 1,
                    max: MAX_REQUEST_OBJECT_LEN,
                }));
            }
            other => other?,
        };
        if !response.is_success() {
            return Err(WalletError::RelyingParty {
                status: response.status,
            });
        }
        String::from_utf8(response.body)
            .map_err(|_| WalletError::RequestRefused(Openid4vpError::Invalid("request object")))
    }

    /// Posts a response body to the request's `response_uri`; the relying party's answer.
    async fn post_response(
        &self,
        plan: &DisclosurePlan,
        form: String,
    ) -> Result<crate::net::HttpResponse, WalletError> {
        let mut request = HttpRequest::get(plan.request.response_uri.clone());
        request.method = HttpMethod::Post;
        request.max_body_bytes = MAX_ANSWER_BYTES;
        request.body = Some(("application/x-www-form-urlencoded", form.into_bytes()));
        let response = self.context().http.fetch(request).await?;
        if !response.is_success() {
            return Err(WalletError::RelyingParty {
                status: response.status,
            });
        }
        Ok(response)
    }

    /// Records how an approved answer ended and gives the receipt.
    async fn finish(
        &self,
        request_id: &str,
        plan: &DisclosurePlan,
        credential: &StoredCredential,
        answer: Result<crate::net::HttpResponse, WalletError>,
        disclosed: Vec<String>,
        now: i64,
    ) -> Result<DisclosureReceipt, WalletError> {
        let context = self.context();
        let outcome = match &answer {
            Ok(_) => HistoryOutcome::Completed,
            Err(_) => HistoryOutcome::Failed,
        };
        // A relying party that answered (even with a refusal) has consumed the request; a
        // network failure leaves it answerable again until it expires.
        let consumed = matches!(answer, Ok(_) | Err(WalletError::RelyingParty { .. }));
        if consumed {
            context.remote.remove(request_id);
            let request = plan.request.clone();
            context
                .store
                .write(move |tx| mark_answered(tx, &request, outcome))
                .await?;
        }
        let recorded = if outcome == HistoryOutcome::Completed {
            disclosed.clone()
        } else {
            Vec::new()
        };
        self.record_remote(plan, credential, outcome, recorded, now)
            .await;
        let response = answer?;
        Ok(DisclosureReceipt {
            disclosed,
            redirect_uri: redirect_uri_of(&response.body),
        })
    }

    async fn record_remote(
        &self,
        plan: &DisclosurePlan,
        credential: &StoredCredential,
        outcome: HistoryOutcome,
        claims: Vec<String>,
        at: i64,
    ) {
        let record = NewRecord {
            at,
            kind: HistoryKind::Presentation,
            outcome,
            counterparty: Some(counterparty(plan)),
            credential_id: Some(credential.id.clone()),
            claims,
        };
        if let Err(error) = self.record(record).await {
            tracing::warn!(%error, "could not record a remote presentation");
        }
    }
}

fn refuse_unusable(status: CredentialStatus) -> Result<(), WalletError> {
    match status {
        CredentialStatus::Revoked => Err(WalletError::Revoked),
        CredentialStatus::Suspended => Err(WalletError::Suspended),
        CredentialStatus::Valid | CredentialStatus::Unknown => Ok(()),
    }
}

/// The `redirect_uri` of a relying party's answer (§8.2), if it is an `https` URI. Other schemes
/// are dropped: the app would open them, and a relying party has no business sending the
/// citizen to `javascript:` or another app's scheme.
fn redirect_uri_of(body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let object = crate::jose::json::parse_object(body).ok()?;
    let text = object.get("redirect_uri")?.as_str()?;
    let url = url::Url::parse(text).ok()?;
    (url.scheme() == "https" && url.host_str().is_some()).then(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::SoftwareSigner;
    use crate::jose::jwe::EcdhPrivateKey;
    use crate::openid4vci::pid_claims;
    use crate::openid4vp::{ContentEncryption, ResponseEncryption, SELF_ISSUED_AUDIENCE};
    use crate::sdjwt::IssueOptions;
    use crate::trust_list::TrustedKey;
    use crate::verifier::{PresentationCheck, verify_presentation};
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;
    const CLIENT: &str = "rp.example";
    const LINK: &str = "openid4vp://?client_id=rp.example\
        &request_uri=https%3A%2F%2Frp.example%2Fr%2F1&request_uri_method=post";

    struct Fixture {
        issuer: SoftwareSigner,
        device: SoftwareSigner,
        rp_signer: SoftwareSigner,
        rp: RelyingParty,
        pid: String,
        link: AuthorizationLink,
    }

    fn fixture() -> Fixture {
        let issuer = SoftwareSigner::generate().unwrap();
        let device = SoftwareSigner::generate().unwrap();
        let rp_signer = SoftwareSigner::generate().unwrap();
        let payload = json!({
            "iss": "https://issuer.example/", "iat": NOW - 10, "exp": NOW + 3600,
            "vct": PID_VCT, "full_name": "Nguyễn Văn An", "birth_date": "1990-05-17",
            "id_number": "001090012345", "age_over_18": true,
        });
        let payload = payload.as_object().unwrap();
        let pid = sdjwt::issue(
            payload,
            &IssueOptions {
                disclosable: pid_claims::ALL
                    .iter()
                    .filter(|c| payload.contains_key(**c))
                    .map(|c| ClaimPath::claim(c))
                    .collect(),
                holder_key: Some(device.public_key().clone()),
                typ: Some(sdjwt::SD_JWT_VC_TYP.into()),
                kid: Some("k1".into()),
                decoys_per_container: 0,
            },
            &issuer,
        )
        .unwrap()
        .sd_jwt;
        let rp = RelyingParty {
            client_id: CLIENT.into(),
            display_name: "Cổng thử".into(),
            allowed_claims: ["full_name", "birth_date", "id_number", "age_over_18"]
                .map(String::from)
                .to_vec(),
            keys: vec![TrustedKey {
                kid: "rp-1".into(),
                jwk: rp_signer.public_key().clone(),
                not_before: None,
                not_after: None,
            }],
            response_uri_hosts: vec!["rp.example".into()],
            purpose: Some("Đăng nhập".into()),
        };
        Fixture {
            issuer,
            device,
            rp_signer,
            rp,
            pid,
            link: AuthorizationLink::parse(LINK).unwrap(),
        }
    }

    /// A request for `full_name` (required) and `birth_date`, `id_number` (optional), with
    /// every subset of the optional ones as a `claim_sets` option except `id_number` alone.
    fn request(encryption: Option<ResponseEncryption>) -> RequestObject {
        let query = json!({"credentials": [{
            "id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": [PID_VCT]},
            "claims": [
                {"id": "n", "path": ["full_name"]},
                {"id": "b", "path": ["birth_date"]},
                {"id": "i", "path": ["id_number"]},
            ],
            "claim_sets": [["n", "b", "i"], ["n", "b"], ["n"]],
        }]});
        RequestObject {
            client_id: CLIENT.into(),
            response_mode: if encryption.is_some() {
                ResponseMode::DirectPostJwt
            } else {
                ResponseMode::DirectPost
            },
            response_uri: url::Url::parse("https://rp.example/responses").unwrap(),
            nonce: "nonce-1".into(),
            state: "state-1".into(),
            iat: Some(NOW - 5),
            exp: NOW + 300,
            aud: Some(SELF_ISSUED_AUDIENCE.into()),
            dcql_query: crate::dcql::DcqlQuery::from_value(&query).unwrap(),
            encryption,
            wallet_nonce: Some("wn".into()),
        }
    }

    fn plan(f: &Fixture, object: &RequestObject) -> Result<DisclosurePlan, WalletError> {
        plan_with(f, object, &f.rp_signer, f.issuer.public_key())
    }

    fn plan_with(
        f: &Fixture,
        object: &RequestObject,
        rp_signer: &SoftwareSigner,
        issuer_key: &EcPublicJwk,
    ) -> Result<DisclosurePlan, WalletError> {
        let signed = object.sign(rp_signer, "rp-1").unwrap();
        plan_disclosure(
            &FetchedRequest {
                link: &f.link,
                relying_party: &f.rp,
                request_object: &signed,
                wallet_nonce: Some("wn"),
            },
            &f.pid,
            issuer_key,
            NOW,
        )
    }

    fn verified_claims(f: &Fixture, form: &[u8]) -> Map<String, Value> {
        let DirectPost::Response(response) = DirectPost::from_form(form).unwrap() else {
            panic!("not a presentation");
        };
        assert_eq!(response.state, "state-1");
        let claims = verify_presentation(
            &response.vp_token["pid"][0],
            &PresentationCheck {
                issuer_keys: &[f.issuer.public_key().clone()],
                audience: CLIENT,
                nonce: "nonce-1",
                max_age_secs: 60,
                clock_skew_secs: 60,
                now: NOW,
                sd_jwt_vc: true,
            },
        )
        .unwrap();
        claims.as_object().unwrap().clone()
    }

    #[test]
    fn the_consent_shows_the_values_and_the_answer_carries_only_the_choice() {
        let f = fixture();
        let plan = plan(&f, &request(None)).unwrap();
        let consent = plan.consent_claims();
        let names: Vec<(&str, bool)> = consent
            .iter()
            .map(|c| (c.name.as_str(), c.required))
            .collect();
        assert_eq!(
            names,
            [
                ("full_name", true),
                ("birth_date", false),
                ("id_number", false)
            ]
        );
        assert_eq!(consent[1].value, "1990-05-17");
        // Values stay out of Debug.
        assert!(!format!("{consent:?} {plan:?}").contains("1990"));

        let body = response_body(&plan, &f.pid, &["birth_date".into()], &f.device, NOW).unwrap();
        assert_eq!(body.disclosed, ["full_name", "birth_date"]);
        let claims = verified_claims(&f, body.form.as_bytes());
        assert_eq!(claims["full_name"], "Nguyễn Văn An");
        assert_eq!(claims["birth_date"], "1990-05-17");
        assert!(!claims.contains_key("id_number") && !claims.contains_key("age_over_18"));

        let required_only = response_body(&plan, &f.pid, &[], &f.device, NOW).unwrap();
        let claims = verified_claims(&f, required_only.form.as_bytes());
        assert!(claims.contains_key("full_name") && !claims.contains_key("birth_date"));
    }

    #[test]
    fn a_choice_must_be_one_of_the_offered_options() {
        let f = fixture();
        let plan = plan(&f, &request(None)).unwrap();
        // `id_number` alone is not an option; `full_name` is required, not optional; `sex`
        // was never asked.
        for choice in [&["id_number"][..], &["full_name"], &["sex"]] {
            let choice: Vec<String> = choice.iter().map(|c| c.to_string()).collect();
            assert!(matches!(
                response_body(&plan, &f.pid, &choice, &f.device, NOW),
                Err(WalletError::ClaimChoiceNotOffered)
            ));
        }
    }

    #[test]
    fn an_encrypted_answer_opens_only_with_the_relying_partys_key() {
        let f = fixture();
        let key = EcdhPrivateKey::generate().unwrap();
        let plan = plan(
            &f,
            &request(Some(ResponseEncryption {
                jwk: key.public_jwk().clone(),
                kid: Some("enc".into()),
                enc_values: vec![ContentEncryption::A256Gcm],
            })),
        )
        .unwrap();
        let body = response_body(&plan, &f.pid, &[], &f.device, NOW).unwrap();
        assert!(DirectPost::is_encrypted_form(body.form.as_bytes()));
        let opened = DirectPost::from_encrypted_form(body.form.as_bytes(), &key).unwrap();
        let DirectPost::Response(response) = &opened else {
            panic!("not a presentation")
        };
        assert_eq!(
            verified_claims(&f, response.to_form().as_bytes())["full_name"],
            "Nguyễn Văn An"
        );
        let declined = body_for(
            &plan,
            &DirectPost::Error(ErrorResponse::access_denied("state-1")),
        )
        .unwrap();
        assert_eq!(
            DirectPost::from_encrypted_form(declined.as_bytes(), &key).unwrap(),
            DirectPost::Error(ErrorResponse::access_denied("state-1"))
        );
    }

    #[test]
    fn requests_the_pid_cannot_answer_or_the_wallet_cannot_trust_are_refused() {
        let f = fixture();
        // Another credential type.
        let mut other = request(None);
        other.dcql_query = crate::dcql::DcqlQuery::from_value(&json!({"credentials": [{
            "id": "mdl", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:mdl"]},
            "claims": [{"path": ["full_name"]}]}]}))
        .unwrap();
        assert!(matches!(
            plan(&f, &other),
            Err(WalletError::CannotSatisfy(_))
        ));
        // A PID the issuer key no longer vouches for.
        let other_key = SoftwareSigner::generate().unwrap();
        assert!(matches!(
            plan_with(&f, &request(None), &f.rp_signer, other_key.public_key()),
            Err(WalletError::Issuer(_))
        ));
        // A request signed by someone else.
        assert!(matches!(
            plan_with(&f, &request(None), &other_key, f.issuer.public_key()),
            Err(WalletError::RequestRefused(Openid4vpError::Jws(_)))
        ));
    }

    #[test]
    fn paths_read_as_names_and_only_https_redirects_are_followed() {
        let path = ClaimPath::claim("address").key("lines").index(0);
        assert_eq!(path_name(&path), "address.lines.0");
        assert_eq!(
            path_name(&ClaimPath::claim("nationalities").all_elements()),
            "nationalities.*"
        );
        assert_eq!(
            redirect_uri_of(br#"{"redirect_uri":"https://rp.example/done?code=1"}"#).as_deref(),
            Some("https://rp.example/done?code=1")
        );
        for body in [
            &br#"{"redirect_uri":"javascript:alert(1)"}"#[..],
            br#"{"redirect_uri":"intent://x"}"#,
            br#"{}"#,
            b"",
            b"not json",
        ] {
            assert_eq!(redirect_uri_of(body), None);
        }
    }
}
