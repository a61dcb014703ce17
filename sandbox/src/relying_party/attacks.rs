//! Sandbox only: request objects that are wrong in exactly one way, for the wallet's attack
//! tests over real HTTPS (`PresentationRequestSpec::misbehave` and `replay_of`).
//!
//! Owns: the [`Misbehaviour`]s and how each one bends the request object the sandbox serves for
//! its request (signing key, `dcql_query`, `exp`, `response_uri`, size, `wallet_nonce`), the
//! replay reference (a request whose object carries another request's `nonce` and `state`), and
//! the rule that such a request never completes: a presentation posted for it is recorded as
//! `failed`. A real relying party has none of this.

use citizen_core::dcql::DcqlQuery;
use citizen_core::jose::SoftwareSigner;
use citizen_core::openid4vp::{self, RequestObject};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{StoredRequest, stored_request};
use crate::keys::SigningKey;

/// A PID claim the sandbox's relying party may not ask for (not in its `allowed_claims`).
pub const FORBIDDEN_CLAIM: &str = "nationality";
/// Where a `response_uri_elsewhere` object sends the answer: a host the trust list does not
/// give the relying party.
pub const ELSEWHERE_RESPONSE_URI: &str = "https://attacker.example/v1/rp/responses";
/// How long before the fetch an `expired` object's `exp` is.
pub const EXPIRED_AGO_SECS: i64 = 10 * 60;
/// The member of the first claims query that pads an `oversized` object (unknown to DCQL, so
/// only its size matters).
const PADDING_MEMBER: &str = "padding";

/// How the request object of a request is wrong (`misbehave`, JSON `snake_case`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Misbehaviour {
    /// Signed by a fresh P-256 key the trust list does not name, with the real key's `kid`.
    ForeignKey,
    /// The DCQL query also asks (as required) for [`FORBIDDEN_CLAIM`].
    ClaimNotAllowed,
    /// `exp` [`EXPIRED_AGO_SECS`] before the fetch, `iat` 5 minutes before that.
    Expired,
    /// `response_uri` = [`ELSEWHERE_RESPONSE_URI`].
    ResponseUriElsewhere,
    /// A claims query padded until the object is larger than
    /// [`openid4vp::MAX_REQUEST_OBJECT_LEN`] (by less than 1 KiB).
    Oversized,
    /// Echoes a random `wallet_nonce`, not the one the wallet posted (one even when it posted
    /// none).
    WrongWalletNonce,
}

impl Misbehaviour {
    pub const ALL: [Misbehaviour; 6] = [
        Misbehaviour::ForeignKey,
        Misbehaviour::ClaimNotAllowed,
        Misbehaviour::Expired,
        Misbehaviour::ResponseUriElsewhere,
        Misbehaviour::Oversized,
        Misbehaviour::WrongWalletNonce,
    ];

    /// The JSON name, as stored.
    pub fn name(self) -> &'static str {
        match self {
            Misbehaviour::ForeignKey => "foreign_key",
            Misbehaviour::ClaimNotAllowed => "claim_not_allowed",
            Misbehaviour::Expired => "expired",
            Misbehaviour::ResponseUriElsewhere => "response_uri_elsewhere",
            Misbehaviour::Oversized => "oversized",
            Misbehaviour::WrongWalletNonce => "wrong_wallet_nonce",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// The id of the request that `replay_of` (from a spec) replays: the first of a chain of
/// replays. `None` for no replay.
pub(super) fn replayed_request(
    conn: &Connection,
    replay_of: Option<&str>,
) -> Result<Option<String>, String> {
    let Some(earlier) = replay_of else {
        return Ok(None);
    };
    let earlier = stored_request(conn, "id", earlier)
        .map_err(|e| e.to_string())?
        .ok_or("replay_of names no request")?;
    Ok(Some(earlier.replay_of.unwrap_or(earlier.id)))
}

/// The `nonce` and `state` that `request`'s object carries: its own, or for a replay those of
/// the request it replays.
pub(super) fn nonce_and_state(
    conn: &Connection,
    request: &StoredRequest,
) -> Result<(String, String), String> {
    let Some(earlier) = &request.replay_of else {
        return Ok((request.nonce.clone(), request.state.clone()));
    };
    let earlier = stored_request(conn, "id", earlier)
        .map_err(|e| e.to_string())?
        .ok_or("the replayed request is gone")?;
    Ok((earlier.nonce, earlier.state))
}

/// The stored query as `misbehaviour` serves it: with [`FORBIDDEN_CLAIM`] for
/// `claim_not_allowed` (in every `claim_sets` option, so it is required). The stored query, which
/// a response is checked against, stays honest.
pub(super) fn served_query(misbehaviour: Option<Misbehaviour>, stored: &Value) -> Value {
    let mut query = stored.clone();
    if misbehaviour == Some(Misbehaviour::ClaimNotAllowed) {
        let credential = &mut query["credentials"][0];
        if let Some(claims) = credential["claims"].as_array_mut() {
            claims.push(json!({"id": FORBIDDEN_CLAIM, "path": [FORBIDDEN_CLAIM]}));
        }
        // `get_mut`, not indexing: indexing a missing member would add `claim_sets: null`.
        if let Some(options) = credential
            .get_mut("claim_sets")
            .and_then(Value::as_array_mut)
        {
            for option in options.iter_mut().filter_map(Value::as_array_mut) {
                option.push(json!(FORBIDDEN_CLAIM));
            }
        }
    }
    query
}

/// Bends the members of `object` (signed at `now`) as `misbehaviour` says.
pub(super) fn bend_object(
    misbehaviour: Option<Misbehaviour>,
    object: &mut RequestObject,
    now: i64,
) -> Result<(), String> {
    match misbehaviour {
        Some(Misbehaviour::Expired) => {
            object.exp = now - EXPIRED_AGO_SECS;
            object.iat = Some(object.exp - super::REQUEST_OBJECT_TTL_SECS);
        }
        Some(Misbehaviour::ResponseUriElsewhere) => {
            object.response_uri =
                url::Url::parse(ELSEWHERE_RESPONSE_URI).map_err(|e| e.to_string())?;
        }
        Some(Misbehaviour::WrongWalletNonce) => {
            object.wallet_nonce = Some(super::random_token().map_err(|e| e.to_string())?);
        }
        _ => {}
    }
    Ok(())
}

/// Signs `object` as `misbehaviour` says: with a fresh key for `foreign_key`, padded past the
/// size limit for `oversized`, else with `key`.
pub(super) fn sign(
    misbehaviour: Option<Misbehaviour>,
    mut object: RequestObject,
    key: &SigningKey,
) -> Result<String, String> {
    match misbehaviour {
        Some(Misbehaviour::ForeignKey) => {
            let foreign = SoftwareSigner::generate().map_err(|e| e.to_string())?;
            object.sign(&foreign, &key.kid).map_err(|e| e.to_string())
        }
        Some(Misbehaviour::Oversized) => {
            let honest = object
                .sign(key.signer.as_ref(), &key.kid)
                .map_err(|e| e.to_string())?;
            // Base64url makes 3 bytes of padding 4 characters: aim just past the limit.
            let missing = openid4vp::MAX_REQUEST_OBJECT_LEN.saturating_sub(honest.len()) + 1;
            let mut padding = missing * 3 / 4 + 16;
            loop {
                let mut query = object.dcql_query.as_value().clone();
                query["credentials"][0]["claims"][0][PADDING_MEMBER] = json!("x".repeat(padding));
                object.dcql_query = DcqlQuery::from_value(&query).map_err(|e| e.to_string())?;
                let signed = object
                    .sign(key.signer.as_ref(), &key.kid)
                    .map_err(|e| e.to_string())?;
                if signed.len() > openid4vp::MAX_REQUEST_OBJECT_LEN {
                    return Ok(signed);
                }
                padding += 64;
            }
        }
        _ => object
            .sign(key.signer.as_ref(), &key.kid)
            .map_err(|e| e.to_string()),
    }
}

/// Why a presentation posted for a request that misbehaves, or replays another, is failed
/// rather than verified; `None` for an honest request.
pub(super) fn refusal(
    misbehaviour: Option<Misbehaviour>,
    replay_of: Option<&str>,
) -> Option<String> {
    let what = match (misbehaviour, replay_of) {
        (Some(m), _) => format!("misbehave `{}`", m.name()),
        (None, Some(_)) => "replay_of".to_owned(),
        (None, None) => return None,
    };
    Some(format!(
        "the request object was made wrong on purpose ({what}): a wallet must refuse it, not answer"
    ))
}
