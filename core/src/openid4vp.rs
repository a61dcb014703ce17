//! OpenID4VP 1.0 messages for remote presentations: the authorization request link, the signed
//! request object, and the `direct_post` response bodies.
//!
//! Owns: parsing the link or QR a relying party shows (`openid4vp://?client_id=…&request_uri=…`,
//! or an `https://` same-device link with the same query) into an [`AuthorizationLink`];
//! verifying the request object it points to ([`RequestObject::verify`]: a JAR, RFC 9101, JWS
//! ES256 with `typ: oauth-authz-req+jwt`) against the relying party the caller found in the trust
//! list, and signing one ([`RequestObject::sign`], for the sandbox relying party and tests);
//! building and parsing the `vp_token` (§8.1, DCQL form), the `direct_post` form body and the
//! error response ([`DirectPost`]).
//! Does not own fetching the request object or posting the response (the wallet's I/O), the DCQL
//! query itself (`dcql`), which relying parties are trusted (`trust_list`), presentations
//! (`sdjwt`), or the JWE of `direct_post.jwt` (`jose`): here the encryption parameters the
//! request carries are only parsed and exposed ([`ResponseEncryption`]). Pure and I/O-free:
//! every parser bounds its input first and returns a typed [`Openid4vpError`], never a panic, so
//! it can be fuzzed alone.
//!
//! **Client identifier prefix: pre-registered clients** (OpenID4VP 1.0 §5.9). A `client_id`
//! without a prefix names a client the wallet knows beforehand; here it must be a relying party's
//! `client_id` in the signed trust list, which gives its keys, the claims it may ask for and the
//! hosts its `response_uri` may name. The trust list anchors exactly this; a `client_id` with one
//! of the specification's prefixes (`x509_san_dns:`, `redirect_uri:`, …) is refused
//! ([`Openid4vpError::UnsupportedClientIdPrefix`]) rather than looked up as a plain name.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use url::Url;

use crate::dcql::{self, DcqlError, DcqlQuery};
use crate::jose::{
    EcPublicJwk, JsonError, Jws, JwsError, JwsSigner, json as strict_json, sign_compact,
};
use crate::trust_list::RelyingParty;

/// The request object's JWS `typ` (RFC 9101 §10.8).
pub const REQUEST_OBJECT_TYP: &str = "oauth-authz-req+jwt";
/// The static audience of a request object for any wallet (OpenID4VP 1.0 §5.8).
pub const SELF_ISSUED_AUDIENCE: &str = "https://self-issued.me/v2";
/// The longest link or QR text accepted.
pub const MAX_LINK_LEN: usize = 4 * 1024;
/// The largest request object accepted, checked before anything is decoded.
pub const MAX_REQUEST_OBJECT_LEN: usize = 64 * 1024;
/// The largest `direct_post` form body accepted.
pub const MAX_FORM_LEN: usize = 256 * 1024;
/// The longest `client_id`, `nonce`, `state` or error code.
pub const MAX_VALUE_LEN: usize = 256;
/// The longest `request_uri` or `response_uri`.
pub const MAX_URI_LEN: usize = 2 * 1024;
/// The most keys read from `client_metadata.jwks`.
pub const MAX_JWKS: usize = 8;

/// The client identifier prefixes of OpenID4VP 1.0 §5.9.3, none of which the wallet supports.
const CLIENT_ID_PREFIXES: [&str; 7] = [
    "redirect_uri",
    "openid_federation",
    "decentralized_identifier",
    "verifier_attestation",
    "x509_san_dns",
    "x509_hash",
    "origin",
];

/// Why a link, request object or response body was refused. The texts name parameters and
/// members, never their values (they may be personal data or an attacker's text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Openid4vpError {
    #[error("the {what} is {len} bytes, more than the {max}-byte limit")]
    TooLarge {
        what: &'static str,
        len: usize,
        max: usize,
    },
    #[error("the authorization request lacks `{0}`")]
    Missing(&'static str),
    #[error("`{0}` is not valid")]
    Invalid(&'static str),
    #[error("`{0}` appears more than once")]
    Repeated(&'static str),
    #[error("the link is not an `openid4vp://` or `https://` authorization request")]
    NotAnAuthorizationRequest,
    #[error("requests passed by value (`request`) are not supported; a `request_uri` is needed")]
    RequestByValue,
    #[error("the client identifier uses a prefix other than pre-registered clients")]
    UnsupportedClientIdPrefix,
    #[error("the request object's JWS is refused: {0}")]
    Jws(JwsError),
    #[error("the relying party has no key valid now")]
    NoValidKey,
    #[error("the `client_id` differs between the link, the trust list and the request object")]
    ClientIdMismatch,
    #[error("the `response_type` is not `vp_token`")]
    UnsupportedResponseType,
    #[error("the `response_mode` is neither `direct_post` nor `direct_post.jwt`")]
    UnsupportedResponseMode,
    #[error("the `response_uri` is not on a host the relying party may use")]
    ResponseUriNotAllowed,
    #[error("the `request_uri` is not on a host the relying party may use")]
    RequestUriNotAllowed,
    #[error("the request object does not carry the `wallet_nonce` the wallet sent")]
    WalletNonceMismatch,
    #[error("the request object has expired")]
    Expired,
    #[error("the request object was issued in the future")]
    IssuedInFuture,
    #[error("the request object's `aud` is neither the wallet nor {SELF_ISSUED_AUDIENCE}")]
    AudienceMismatch,
    #[error("the relying party may not ask for the claim `{0}`")]
    ClaimNotAllowed(String),
    #[error("the `dcql_query` is refused: {0}")]
    Dcql(#[from] DcqlError),
    #[error("the `vp_token` is not acceptable JSON: {0}")]
    VpTokenJson(JsonError),
}

impl From<JwsError> for Openid4vpError {
    fn from(error: JwsError) -> Self {
        Openid4vpError::Jws(error)
    }
}

/// How the wallet fetches the request object (`request_uri_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestUriMethod {
    Get,
    Post,
}

/// An authorization request as a link or QR: who asks, and where its request object is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationLink {
    pub client_id: String,
    /// Always `https`.
    pub request_uri: Url,
    pub request_uri_method: RequestUriMethod,
}

impl AuthorizationLink {
    /// Parses `openid4vp://?client_id=…&request_uri=…[&request_uri_method=post]` or an
    /// `https://` link with the same query, bounded by [`MAX_LINK_LEN`]. A parameter may appear
    /// once; unknown parameters are ignored; a request by value (`request`) is refused.
    pub fn parse(text: &str) -> Result<Self, Openid4vpError> {
        if text.len() > MAX_LINK_LEN {
            return Err(Openid4vpError::TooLarge {
                what: "link",
                len: text.len(),
                max: MAX_LINK_LEN,
            });
        }
        let url = Url::parse(text).map_err(|_| Openid4vpError::NotAnAuthorizationRequest)?;
        match url.scheme() {
            "openid4vp" => {}
            "https" if url.host().is_some() => {}
            _ => return Err(Openid4vpError::NotAnAuthorizationRequest),
        }
        let (mut client_id, mut request_uri, mut method) = (None, None, None);
        for (name, value) in url.query_pairs() {
            let slot = match name.as_ref() {
                "client_id" => &mut client_id,
                "request_uri" => &mut request_uri,
                "request_uri_method" => &mut method,
                "request" => return Err(Openid4vpError::RequestByValue),
                _ => continue,
            };
            if slot.is_some() {
                return Err(Openid4vpError::Repeated(match name.as_ref() {
                    "client_id" => "client_id",
                    "request_uri" => "request_uri",
                    _ => "request_uri_method",
                }));
            }
            *slot = Some(value.into_owned());
        }
        let client_id = client_id.ok_or(Openid4vpError::Missing("client_id"))?;
        check_client_id(&client_id)?;
        let request_uri = https_uri(
            &request_uri.ok_or(Openid4vpError::Missing("request_uri"))?,
            "request_uri",
        )?;
        let request_uri_method = match method.as_deref() {
            None | Some("get") => RequestUriMethod::Get,
            Some("post") => RequestUriMethod::Post,
            Some(_) => return Err(Openid4vpError::Invalid("request_uri_method")),
        };
        Ok(Self {
            client_id,
            request_uri,
            request_uri_method,
        })
    }

    /// The link as an `openid4vp://` URI (what a QR carries).
    pub fn to_uri(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("client_id", &self.client_id);
        query.append_pair("request_uri", self.request_uri.as_str());
        if self.request_uri_method == RequestUriMethod::Post {
            query.append_pair("request_uri_method", "post");
        }
        format!("openid4vp://?{}", query.finish())
    }
}

/// How the wallet sends its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// A form body posted to `response_uri`.
    DirectPost,
    /// The same, encrypted to the relying party's key (a JWE in the `response` parameter).
    DirectPostJwt,
}

impl ResponseMode {
    pub fn name(self) -> &'static str {
        match self {
            ResponseMode::DirectPost => "direct_post",
            ResponseMode::DirectPostJwt => "direct_post.jwt",
        }
    }
}

/// The JWE content encryptions the wallet can use for `direct_post.jwt` (the same type the JWE
/// module encrypts with).
pub use crate::jose::jwe::ContentEncryption;

/// Where and how to encrypt a `direct_post.jwt` response, from `client_metadata`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseEncryption {
    /// The relying party's ECDH-ES key (EC P-256, `use: enc`).
    pub jwk: EcPublicJwk,
    /// Its `kid`, which the JWE header names when present.
    pub kid: Option<String>,
    /// The content encryptions the relying party accepts that the wallet knows, in its order
    /// (the specification's default, `A128GCM`, when it lists none).
    pub enc_values: Vec<ContentEncryption>,
}

/// A verified request object: what the relying party asks, and where the answer goes.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestObject {
    pub client_id: String,
    pub response_mode: ResponseMode,
    /// Always `https`, on one of the relying party's `response_uri_hosts`.
    pub response_uri: Url,
    pub nonce: String,
    pub state: String,
    pub iat: Option<i64>,
    pub exp: i64,
    /// `None`: the object names no audience.
    pub aud: Option<String>,
    pub dcql_query: DcqlQuery,
    /// Present exactly when `response_mode` is `direct_post.jwt`.
    pub encryption: Option<ResponseEncryption>,
    /// The wallet's `wallet_nonce` (§5.10), echoed when the wallet fetched the object by POST.
    pub wallet_nonce: Option<String>,
}

/// What a request object is checked against.
#[derive(Debug, Clone, Copy)]
pub struct RequestCheck<'a> {
    /// The link that pointed to the object.
    pub link: &'a AuthorizationLink,
    /// The relying party the caller found in the trust list by the link's `client_id`.
    pub relying_party: &'a RelyingParty,
    /// The wallet's own audience, if it has one besides [`SELF_ISSUED_AUDIENCE`].
    pub wallet_aud: Option<&'a str>,
    /// Unix seconds.
    pub now: i64,
    /// Allowed clock difference, in seconds.
    pub skew: i64,
    /// The `wallet_nonce` the wallet posted to the `request_uri`, which the object must echo:
    /// an object fetched earlier (and replayed by whoever saw it) cannot carry it.
    pub wallet_nonce: Option<&'a str>,
}

impl AuthorizationLink {
    /// Checks the link against the relying party the trust list names for its `client_id`
    /// before anything is fetched: the same client, and a `request_uri` on one of its hosts (so
    /// a QR cannot make the wallet call an arbitrary server in a trusted client's name).
    pub fn check_against(&self, relying_party: &RelyingParty) -> Result<(), Openid4vpError> {
        if self.client_id != relying_party.client_id {
            return Err(Openid4vpError::ClientIdMismatch);
        }
        if !host_allowed(&self.request_uri, &relying_party.response_uri_hosts) {
            return Err(Openid4vpError::RequestUriNotAllowed);
        }
        Ok(())
    }
}

impl RequestObject {
    /// Verifies a request object (compact JWS) against `check`: size first, then the JWS
    /// (`typ`, ES256, a key of the relying party valid now), then every member. Unknown members
    /// are ignored.
    pub fn verify(compact: &str, check: &RequestCheck<'_>) -> Result<Self, Openid4vpError> {
        if compact.len() > MAX_REQUEST_OBJECT_LEN {
            return Err(Openid4vpError::TooLarge {
                what: "request object",
                len: compact.len(),
                max: MAX_REQUEST_OBJECT_LEN,
            });
        }
        let rp = check.relying_party;
        if check.link.client_id != rp.client_id {
            return Err(Openid4vpError::ClientIdMismatch);
        }
        let jws = Jws::parse(compact, MAX_REQUEST_OBJECT_LEN)?;
        jws.check_typ(REQUEST_OBJECT_TYP)?;
        let mut keys = rp.keys.iter().filter(|k| k.valid_at(check.now)).peekable();
        if keys.peek().is_none() {
            return Err(Openid4vpError::NoValidKey);
        }
        if !keys.any(|k| jws.verify(&k.jwk).is_ok()) {
            return Err(Openid4vpError::Jws(JwsError::BadSignature));
        }
        let claims = jws.claims()?;
        Self::from_claims(&claims, check)
    }

    fn from_claims(
        claims: &Map<String, Value>,
        check: &RequestCheck<'_>,
    ) -> Result<Self, Openid4vpError> {
        let rp = check.relying_party;
        if bounded_str(claims, "client_id", MAX_VALUE_LEN)? != check.link.client_id {
            return Err(Openid4vpError::ClientIdMismatch);
        }
        if claims.contains_key("iss")
            && bounded_str(claims, "iss", MAX_VALUE_LEN)? != check.link.client_id
        {
            // RFC 9101 §5: a signed request object's `iss` is the client.
            return Err(Openid4vpError::ClientIdMismatch);
        }
        if bounded_str(claims, "response_type", MAX_VALUE_LEN)? != "vp_token" {
            return Err(Openid4vpError::UnsupportedResponseType);
        }
        let response_mode = match bounded_str(claims, "response_mode", MAX_VALUE_LEN)? {
            "direct_post" => ResponseMode::DirectPost,
            "direct_post.jwt" => ResponseMode::DirectPostJwt,
            _ => return Err(Openid4vpError::UnsupportedResponseMode),
        };
        if claims.contains_key("redirect_uri") {
            // §8.2: with `direct_post` the answer goes to `response_uri` only.
            return Err(Openid4vpError::Invalid("redirect_uri"));
        }
        let response_uri = https_uri(
            bounded_str(claims, "response_uri", MAX_URI_LEN)?,
            "response_uri",
        )?;
        if !host_allowed(&response_uri, &rp.response_uri_hosts) {
            return Err(Openid4vpError::ResponseUriNotAllowed);
        }
        let nonce = token(claims, "nonce")?;
        let state = token(claims, "state")?;
        let exp = match claims.get("exp") {
            None => return Err(Openid4vpError::Missing("exp")),
            Some(v) => v.as_i64().ok_or(Openid4vpError::Invalid("exp"))?,
        };
        if check.now >= exp.saturating_add(check.skew) {
            return Err(Openid4vpError::Expired);
        }
        let iat = match claims.get("iat") {
            None => None,
            Some(v) => Some(v.as_i64().ok_or(Openid4vpError::Invalid("iat"))?),
        };
        if iat.is_some_and(|iat| iat > check.now.saturating_add(check.skew)) {
            return Err(Openid4vpError::IssuedInFuture);
        }
        let aud = match claims.get("aud") {
            None => None,
            Some(Value::String(aud))
                if aud == SELF_ISSUED_AUDIENCE || Some(aud.as_str()) == check.wallet_aud =>
            {
                Some(aud.clone())
            }
            Some(_) => return Err(Openid4vpError::AudienceMismatch),
        };
        let dcql_query = DcqlQuery::from_value(
            claims
                .get("dcql_query")
                .ok_or(Openid4vpError::Missing("dcql_query"))?,
        )?;
        for path in dcql_query.claim_paths() {
            match dcql::top_name(path) {
                Some(name) if rp.may_request(name) => {}
                Some(name) => {
                    return Err(Openid4vpError::ClaimNotAllowed(
                        name.chars().take(64).collect(),
                    ));
                }
                None => return Err(Openid4vpError::Invalid("dcql_query")),
            }
        }
        let wallet_nonce = match claims.get("wallet_nonce") {
            None => None,
            Some(_) => Some(token(claims, "wallet_nonce")?),
        };
        if let Some(expected) = check.wallet_nonce
            && wallet_nonce.as_deref() != Some(expected)
        {
            return Err(Openid4vpError::WalletNonceMismatch);
        }
        let encryption = match response_mode {
            ResponseMode::DirectPost => None,
            ResponseMode::DirectPostJwt => Some(response_encryption(
                claims
                    .get("client_metadata")
                    .ok_or(Openid4vpError::Missing("client_metadata"))?,
            )?),
        };
        Ok(Self {
            client_id: check.link.client_id.clone(),
            response_mode,
            response_uri,
            nonce,
            state,
            iat,
            exp,
            aud,
            dcql_query,
            encryption,
            wallet_nonce,
        })
    }

    /// Signs the request object as a compact JWS (`typ` [`REQUEST_OBJECT_TYP`], `kid`), with
    /// `iss` = `client_id` and, when encrypting, `client_metadata` holding the key and the
    /// content encryptions.
    pub fn sign(&self, signer: &dyn JwsSigner, kid: &str) -> Result<String, JwsError> {
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.client_id));
        claims.insert("client_id".into(), json!(self.client_id));
        if let Some(aud) = &self.aud {
            claims.insert("aud".into(), json!(aud));
        }
        claims.insert("response_type".into(), json!("vp_token"));
        claims.insert("response_mode".into(), json!(self.response_mode.name()));
        claims.insert("response_uri".into(), json!(self.response_uri.as_str()));
        claims.insert("nonce".into(), json!(self.nonce));
        claims.insert("state".into(), json!(self.state));
        if let Some(iat) = self.iat {
            claims.insert("iat".into(), json!(iat));
        }
        claims.insert("exp".into(), json!(self.exp));
        claims.insert("dcql_query".into(), self.dcql_query.as_value().clone());
        if let Some(wallet_nonce) = &self.wallet_nonce {
            claims.insert("wallet_nonce".into(), json!(wallet_nonce));
        }
        if let Some(encryption) = &self.encryption {
            let mut jwk = match encryption.jwk.to_value() {
                Value::Object(jwk) => jwk,
                _ => Map::new(),
            };
            jwk.insert("use".into(), json!("enc"));
            jwk.insert("alg".into(), json!("ECDH-ES"));
            if let Some(kid) = &encryption.kid {
                jwk.insert("kid".into(), json!(kid));
            }
            let enc: Vec<&str> = encryption.enc_values.iter().map(|e| e.name()).collect();
            claims.insert(
                "client_metadata".into(),
                json!({"jwks": {"keys": [jwk]}, "encrypted_response_enc_values_supported": enc}),
            );
        }
        let mut header = Map::new();
        header.insert("typ".into(), json!(REQUEST_OBJECT_TYP));
        header.insert("kid".into(), json!(kid));
        let payload = serde_json::to_vec(&claims).map_err(|_| JwsError::Malformed)?;
        sign_compact(&header, &payload, signer)
    }
}

fn check_client_id(client_id: &str) -> Result<(), Openid4vpError> {
    if client_id.is_empty()
        || client_id.len() > MAX_VALUE_LEN
        || client_id.chars().any(char::is_control)
    {
        return Err(Openid4vpError::Invalid("client_id"));
    }
    if let Some((prefix, _)) = client_id.split_once(':')
        && CLIENT_ID_PREFIXES.contains(&prefix)
    {
        return Err(Openid4vpError::UnsupportedClientIdPrefix);
    }
    Ok(())
}

/// An absolute `https` URI with a host, no user info and no fragment.
fn https_uri(text: &str, name: &'static str) -> Result<Url, Openid4vpError> {
    if text.len() > MAX_URI_LEN {
        return Err(Openid4vpError::Invalid(name));
    }
    let url = Url::parse(text).map_err(|_| Openid4vpError::Invalid(name))?;
    if url.scheme() != "https"
        || url.host_str().is_none_or(str::is_empty)
        || !url.username().is_empty()
        || url.password().is_some()
        || url.fragment().is_some()
    {
        return Err(Openid4vpError::Invalid(name));
    }
    Ok(url)
}

/// Whether `url`'s host (or `host:port`) is one of `hosts` (compared ignoring ASCII case).
fn host_allowed(url: &Url, hosts: &[String]) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let with_port = url.port().map(|port| format!("{host}:{port}"));
    hosts.iter().any(|allowed| {
        allowed.eq_ignore_ascii_case(host)
            || with_port
                .as_deref()
                .is_some_and(|hp| allowed.eq_ignore_ascii_case(hp))
    })
}

fn bounded_str<'a>(
    claims: &'a Map<String, Value>,
    name: &'static str,
    max: usize,
) -> Result<&'a str, Openid4vpError> {
    match claims.get(name) {
        None => Err(Openid4vpError::Missing(name)),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= max => Ok(s),
        Some(_) => Err(Openid4vpError::Invalid(name)),
    }
}

/// A `nonce` or `state`: present, at most [`MAX_VALUE_LEN`] bytes of visible ASCII.
fn token(claims: &Map<String, Value>, name: &'static str) -> Result<String, Openid4vpError> {
    let value = bounded_str(claims, name, MAX_VALUE_LEN)?;
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Openid4vpError::Invalid(name));
    }
    Ok(value.to_owned())
}

fn response_encryption(metadata: &Value) -> Result<ResponseEncryption, Openid4vpError> {
    let metadata = metadata
        .as_object()
        .ok_or(Openid4vpError::Invalid("client_metadata"))?;
    let keys = metadata
        .get("jwks")
        .and_then(|jwks| jwks.get("keys"))
        .ok_or(Openid4vpError::Missing("client_metadata.jwks"))?
        .as_array()
        .ok_or(Openid4vpError::Invalid("client_metadata.jwks"))?;
    if keys.len() > MAX_JWKS {
        return Err(Openid4vpError::Invalid("client_metadata.jwks"));
    }
    let (jwk, kid) = keys
        .iter()
        .filter(|key| {
            key.get("use").is_none_or(|u| u == "enc")
                && key.get("alg").is_none_or(|a| a == "ECDH-ES")
                && key.get("kty").is_some_and(|k| k == "EC")
        })
        .find_map(|key| {
            let jwk = EcPublicJwk::from_value(key).ok()?;
            let kid = match key.get("kid") {
                None => None,
                Some(Value::String(kid)) if kid.len() <= MAX_VALUE_LEN => Some(kid.clone()),
                Some(_) => return None,
            };
            Some((jwk, kid))
        })
        .ok_or(Openid4vpError::Invalid("client_metadata.jwks"))?;
    let enc_values = match metadata.get("encrypted_response_enc_values_supported") {
        None => vec![ContentEncryption::A128Gcm],
        Some(Value::Array(values)) if values.len() <= MAX_JWKS => {
            let mut known = Vec::new();
            for value in values {
                let name = value.as_str().ok_or(Openid4vpError::Invalid(
                    "encrypted_response_enc_values_supported",
                ))?;
                if let Some(enc) = ContentEncryption::from_name(name)
                    && !known.contains(&enc)
                {
                    known.push(enc);
                }
            }
            known
        }
        Some(_) => Vec::new(),
    };
    if enc_values.is_empty() {
        return Err(Openid4vpError::Invalid(
            "encrypted_response_enc_values_supported",
        ));
    }
    Ok(ResponseEncryption {
        jwk,
        kid,
        enc_values,
    })
}

/// The `vp_token` of a DCQL answer (§8.1): each credential query id with its presentations.
pub type VpToken = BTreeMap<String, Vec<String>>;

/// A successful answer: the `vp_token` and the request's `state`.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationResponse {
    pub vp_token: VpToken,
    pub state: String,
}

impl std::fmt::Debug for AuthorizationResponse {
    // Presentations carry personal data: only their ids and count are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationResponse")
            .field(
                "credential_query_ids",
                &self.vp_token.keys().collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl AuthorizationResponse {
    /// The `vp_token` as JSON text: `{"<credential query id>": ["<SD-JWT+KB>"]}`.
    pub fn vp_token_json(&self) -> String {
        Value::Object(
            self.vp_token
                .iter()
                .map(|(id, presentations)| (id.clone(), json!(presentations)))
                .collect(),
        )
        .to_string()
    }

    /// The parameters as one JSON object, what a `direct_post.jwt` JWE encrypts (§8.3): the
    /// `vp_token` is an object there, not JSON text.
    pub fn to_json(&self) -> Vec<u8> {
        let vp_token: Map<String, Value> = self
            .vp_token
            .iter()
            .map(|(id, presentations)| (id.clone(), json!(presentations)))
            .collect();
        json!({"vp_token": vp_token, "state": self.state})
            .to_string()
            .into_bytes()
    }

    /// The `direct_post` form body (`application/x-www-form-urlencoded`).
    pub fn to_form(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("vp_token", &self.vp_token_json())
            .append_pair("state", &self.state)
            .finish()
    }
}

/// A refusal (§8.5): `error` (here `access_denied` when the citizen declines) and `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorResponse {
    pub error: String,
    pub state: String,
}

impl ErrorResponse {
    /// The answer when the citizen declines.
    pub fn access_denied(state: impl Into<String>) -> Self {
        Self {
            error: "access_denied".into(),
            state: state.into(),
        }
    }

    /// The form body (`application/x-www-form-urlencoded`).
    pub fn to_form(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("error", &self.error)
            .append_pair("state", &self.state)
            .finish()
    }

    /// The parameters as one JSON object, for a `direct_post.jwt` JWE.
    pub fn to_json(&self) -> Vec<u8> {
        json!({"error": self.error, "state": self.state})
            .to_string()
            .into_bytes()
    }
}

/// A `direct_post` body as the relying party receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectPost {
    Response(AuthorizationResponse),
    Error(ErrorResponse),
}

impl DirectPost {
    /// The `direct_post` body: the parameters as a form.
    pub fn to_form(&self) -> String {
        match self {
            DirectPost::Response(response) => response.to_form(),
            DirectPost::Error(error) => error.to_form(),
        }
    }

    /// The `direct_post.jwt` body (§8.3): the parameters as a JSON object, encrypted with
    /// ECDH-ES to the relying party's key with its first content encryption, in a `response`
    /// form parameter. The JWE header names the key's `kid` when it has one.
    pub fn to_encrypted_form(
        &self,
        encryption: &ResponseEncryption,
    ) -> Result<String, crate::jose::jwe::JweError> {
        let plaintext = match self {
            DirectPost::Response(response) => response.to_json(),
            DirectPost::Error(error) => error.to_json(),
        };
        let enc = encryption
            .enc_values
            .first()
            .copied()
            .unwrap_or(ContentEncryption::A128Gcm);
        let mut header = Map::new();
        if let Some(kid) = &encryption.kid {
            header.insert("kid".into(), json!(kid));
        }
        let jwe = crate::jose::jwe::encrypt(&plaintext, &encryption.jwk, enc, &header)?;
        Ok(url::form_urlencoded::Serializer::new(String::new())
            .append_pair("response", &jwe)
            .finish())
    }

    /// Parses a `direct_post.jwt` body with the relying party's key: the `response` parameter's
    /// JWE, decrypted, holds the same parameters as [`DirectPost::from_form`] reads, as JSON.
    pub fn from_encrypted_form(
        body: &[u8],
        key: &crate::jose::jwe::EcdhPrivateKey,
    ) -> Result<Self, Openid4vpError> {
        if body.len() > MAX_FORM_LEN {
            return Err(Openid4vpError::TooLarge {
                what: "response body",
                len: body.len(),
                max: MAX_FORM_LEN,
            });
        }
        let mut response = None;
        for (name, value) in url::form_urlencoded::parse(body) {
            if name == "response" {
                if response.is_some() {
                    return Err(Openid4vpError::Repeated("response"));
                }
                response = Some(value.into_owned());
            }
        }
        let jwe = response.ok_or(Openid4vpError::Missing("response"))?;
        let (_, plaintext) = crate::jose::jwe::decrypt(&jwe, key, MAX_FORM_LEN)
            .map_err(|_| Openid4vpError::Invalid("response"))?;
        let object = strict_json::parse_object(&plaintext).map_err(Openid4vpError::VpTokenJson)?;
        // The JSON form differs from the form encoding only in `vp_token` being an object.
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in &object {
            match value {
                Value::String(text) => form.append_pair(name, text),
                other => form.append_pair(name, &other.to_string()),
            };
        }
        Self::from_form(form.finish().as_bytes())
    }

    /// Whether a form body is a `direct_post.jwt` one (has a `response` parameter).
    pub fn is_encrypted_form(body: &[u8]) -> bool {
        url::form_urlencoded::parse(body).any(|(name, _)| name == "response")
    }

    /// Parses a form body, bounded by [`MAX_FORM_LEN`]: `vp_token` and `state`, or `error` and
    /// `state`. A parameter may appear once; unknown ones (`error_description`) are ignored.
    pub fn from_form(body: &[u8]) -> Result<Self, Openid4vpError> {
        if body.len() > MAX_FORM_LEN {
            return Err(Openid4vpError::TooLarge {
                what: "response body",
                len: body.len(),
                max: MAX_FORM_LEN,
            });
        }
        let (mut vp_token, mut state, mut error) = (None, None, None);
        for (name, value) in url::form_urlencoded::parse(body) {
            let (slot, name) = match name.as_ref() {
                "vp_token" => (&mut vp_token, "vp_token"),
                "state" => (&mut state, "state"),
                "error" => (&mut error, "error"),
                _ => continue,
            };
            if slot.is_some() {
                return Err(Openid4vpError::Repeated(name));
            }
            *slot = Some(value.into_owned());
        }
        let state = state.ok_or(Openid4vpError::Missing("state"))?;
        if state.is_empty() || state.len() > MAX_VALUE_LEN {
            return Err(Openid4vpError::Invalid("state"));
        }
        match (vp_token, error) {
            (Some(_), Some(_)) => Err(Openid4vpError::Invalid("error")),
            (None, None) => Err(Openid4vpError::Missing("vp_token")),
            (None, Some(error)) => {
                if error.is_empty()
                    || error.len() > MAX_VALUE_LEN
                    || !error.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                {
                    return Err(Openid4vpError::Invalid("error"));
                }
                Ok(DirectPost::Error(ErrorResponse { error, state }))
            }
            (Some(vp_token), None) => Ok(DirectPost::Response(AuthorizationResponse {
                vp_token: parse_vp_token(vp_token.as_bytes())?,
                state,
            })),
        }
    }
}

/// Parses a DCQL `vp_token`: an object of credential query ids, each with a non-empty array of
/// presentation strings.
pub fn parse_vp_token(text: &[u8]) -> Result<VpToken, Openid4vpError> {
    let object = strict_json::parse_object(text).map_err(Openid4vpError::VpTokenJson)?;
    if object.is_empty() || object.len() > dcql::MAX_CREDENTIALS {
        return Err(Openid4vpError::Invalid("vp_token"));
    }
    let mut token = VpToken::new();
    for (id, presentations) in object {
        let list = match presentations {
            Value::Array(list) if !list.is_empty() && list.len() <= dcql::MAX_LIST => list,
            _ => return Err(Openid4vpError::Invalid("vp_token")),
        };
        let list = list
            .into_iter()
            .map(|p| match p {
                Value::String(p) if !p.is_empty() => Ok(p),
                _ => Err(Openid4vpError::Invalid("vp_token")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if id.is_empty() || id.len() > dcql::MAX_STRING {
            return Err(Openid4vpError::Invalid("vp_token"));
        }
        token.insert(id, list);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::{SoftwareSigner, base64url};
    use crate::trust_list::TrustedKey;

    const NOW: i64 = 1_800_000_000;
    const SKEW: i64 = 60;
    const CLIENT: &str = "rp.dichvucong.example";
    const LINK: &str = "openid4vp://?client_id=rp.dichvucong.example\
        &request_uri=https%3A%2F%2Frp.dichvucong.example%2Frequests%2F42&request_uri_method=post";

    fn relying_party(key: &SoftwareSigner) -> RelyingParty {
        RelyingParty {
            client_id: CLIENT.into(),
            display_name: "Cổng dịch vụ công".into(),
            allowed_claims: vec![
                "full_name".into(),
                "birth_date".into(),
                "age_over_18".into(),
            ],
            keys: vec![TrustedKey {
                kid: "rp-1".into(),
                jwk: key.public_key().clone(),
                not_before: None,
                not_after: None,
            }],
            response_uri_hosts: vec!["rp.dichvucong.example".into()],
            purpose: None,
        }
    }

    fn dcql() -> DcqlQuery {
        DcqlQuery::from_value(&json!({"credentials": [{
            "id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:eudi:pid:vn:1"]},
            "claims": [{"path": ["full_name"]}, {"path": ["age_over_18"]}]}]}))
        .unwrap()
    }

    fn request(encryption: Option<ResponseEncryption>) -> RequestObject {
        RequestObject {
            client_id: CLIENT.into(),
            response_mode: if encryption.is_some() {
                ResponseMode::DirectPostJwt
            } else {
                ResponseMode::DirectPost
            },
            response_uri: Url::parse("https://rp.dichvucong.example/responses").unwrap(),
            nonce: "n-0S6_WzA2Mj".into(),
            state: "eyJhb...state".into(),
            iat: Some(NOW - 10),
            exp: NOW + 300,
            aud: Some(SELF_ISSUED_AUDIENCE.into()),
            dcql_query: dcql(),
            encryption,
            wallet_nonce: None,
        }
    }

    fn verify_with(compact: &str, rp: &RelyingParty) -> Result<RequestObject, Openid4vpError> {
        let link = AuthorizationLink::parse(LINK).unwrap();
        RequestObject::verify(
            compact,
            &RequestCheck {
                link: &link,
                relying_party: rp,
                wallet_aud: None,
                now: NOW,
                skew: SKEW,
                wallet_nonce: None,
            },
        )
    }

    /// Signs `claims` as they are, with the request object's header.
    fn sign_raw(claims: &Value, key: &SoftwareSigner) -> String {
        let mut header = Map::new();
        header.insert("typ".into(), json!(REQUEST_OBJECT_TYP));
        sign_compact(&header, claims.to_string().as_bytes(), key).unwrap()
    }

    /// The signed claims of `request(None)`, changed by `edit`.
    fn edited(key: &SoftwareSigner, edit: impl FnOnce(&mut Map<String, Value>)) -> String {
        let compact = request(None).sign(key, "rp-1").unwrap();
        let mut claims = Jws::parse(&compact, MAX_REQUEST_OBJECT_LEN)
            .unwrap()
            .claims()
            .unwrap();
        edit(&mut claims);
        sign_raw(&Value::Object(claims), key)
    }

    #[test]
    fn parses_links_and_qr_codes() {
        let link = AuthorizationLink::parse(LINK).unwrap();
        assert_eq!(link.client_id, CLIENT);
        assert_eq!(
            link.request_uri.as_str(),
            "https://rp.dichvucong.example/requests/42"
        );
        assert_eq!(link.request_uri_method, RequestUriMethod::Post);
        assert_eq!(AuthorizationLink::parse(&link.to_uri()).unwrap(), link);
        assert!(link.to_uri().starts_with("openid4vp://?client_id="));
        let same_device = AuthorizationLink::parse(
            "https://wallet.example/authorize?client_id=rp.dichvucong.example\
             &request_uri=https://rp.dichvucong.example/r/1&extra=1",
        )
        .unwrap();
        assert_eq!(same_device.request_uri_method, RequestUriMethod::Get);
    }

    #[test]
    fn refuses_bad_links() {
        let uri = "request_uri=https%3A%2F%2Frp.example%2Fr";
        let cases = [
            (
                "openid4vp://?client_id=a&request_uri=http%3A%2F%2Frp.example%2Fr".to_owned(),
                Openid4vpError::Invalid("request_uri"),
            ),
            (
                "openid4vp://?client_id=a&request_uri=https%3A%2F%2Fu%40rp.example%2Fr".to_owned(),
                Openid4vpError::Invalid("request_uri"),
            ),
            (
                "openid4vp://?client_id=a&request_uri=%2Fr".to_owned(),
                Openid4vpError::Invalid("request_uri"),
            ),
            (
                format!("openid4vp://?{uri}"),
                Openid4vpError::Missing("client_id"),
            ),
            (
                "openid4vp://?client_id=a".to_owned(),
                Openid4vpError::Missing("request_uri"),
            ),
            (
                format!("openid4vp://?client_id=a&client_id=b&{uri}"),
                Openid4vpError::Repeated("client_id"),
            ),
            (
                format!("openid4vp://?client_id=a&{uri}&request_uri_method=PUT"),
                Openid4vpError::Invalid("request_uri_method"),
            ),
            (
                "openid4vp://?client_id=a&request=eyJ".to_owned(),
                Openid4vpError::RequestByValue,
            ),
            (
                format!("openid4vp://?client_id=x509_san_dns%3Arp.example&{uri}"),
                Openid4vpError::UnsupportedClientIdPrefix,
            ),
            (
                format!("openid4vp://?client_id=&{uri}"),
                Openid4vpError::Invalid("client_id"),
            ),
            (
                format!("http://rp.example/?client_id=a&{uri}"),
                Openid4vpError::NotAnAuthorizationRequest,
            ),
            (
                format!("mdoc-openid4vp://?client_id=a&{uri}"),
                Openid4vpError::NotAnAuthorizationRequest,
            ),
            (
                "not a link".to_owned(),
                Openid4vpError::NotAnAuthorizationRequest,
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(AuthorizationLink::parse(&text), Err(expected), "{text}");
        }
        let long = format!(
            "openid4vp://?client_id=a&{uri}&pad={}",
            "x".repeat(MAX_LINK_LEN)
        );
        assert!(matches!(
            AuthorizationLink::parse(&long),
            Err(Openid4vpError::TooLarge { what: "link", .. })
        ));
    }

    #[test]
    fn verifies_a_signed_request_object() {
        let key = SoftwareSigner::generate().unwrap();
        let rp = relying_party(&key);
        let expected = request(None);
        let compact = expected.sign(&key, "rp-1").unwrap();
        assert_eq!(verify_with(&compact, &rp).unwrap(), expected);
    }

    #[test]
    fn exposes_the_encryption_parameters_of_direct_post_jwt() {
        let key = SoftwareSigner::generate().unwrap();
        let enc_key = SoftwareSigner::generate().unwrap();
        let encryption = ResponseEncryption {
            jwk: enc_key.public_key().clone(),
            kid: Some("enc-1".into()),
            enc_values: vec![ContentEncryption::A256Gcm, ContentEncryption::A128Gcm],
        };
        let expected = request(Some(encryption));
        let compact = expected.sign(&key, "rp-1").unwrap();
        let verified = verify_with(&compact, &relying_party(&key)).unwrap();
        assert_eq!(verified, expected);
        assert_eq!(verified.response_mode, ResponseMode::DirectPostJwt);
        // Without a list the specification's default applies; a signing key is not taken.
        let signing_jwk = enc_key.public_key().to_value();
        let compact = edited(&key, |claims| {
            claims.insert("response_mode".into(), json!("direct_post.jwt"));
            claims.insert("client_metadata".into(), json!({"jwks": {"keys": [
                {"kty": "EC", "crv": "P-256", "use": "sig", "x": signing_jwk["x"], "y": signing_jwk["y"]},
                signing_jwk,
            ]}}));
        });
        let verified = verify_with(&compact, &relying_party(&key)).unwrap();
        let encryption = verified.encryption.unwrap();
        assert_eq!(encryption.enc_values, [ContentEncryption::A128Gcm]);
        assert_eq!(encryption.kid, None);
        for metadata in [
            json!({"jwks": {"keys": []}}),
            json!({"jwks": {"keys": [{"kty": "EC", "crv": "P-256", "use": "sig", "x": "AA", "y": "AA"}]}}),
            json!({"jwks": {"keys": [signing_jwk]}, "encrypted_response_enc_values_supported": ["A128CBC-HS256"]}),
        ] {
            let compact = edited(&key, |claims| {
                claims.insert("response_mode".into(), json!("direct_post.jwt"));
                claims.insert("client_metadata".into(), metadata);
            });
            assert!(
                matches!(
                    verify_with(&compact, &relying_party(&key)),
                    Err(Openid4vpError::Invalid(_))
                ),
                "{compact}"
            );
        }
        let compact = edited(&key, |claims| {
            claims.insert("response_mode".into(), json!("direct_post.jwt"));
        });
        assert_eq!(
            verify_with(&compact, &relying_party(&key)),
            Err(Openid4vpError::Missing("client_metadata"))
        );
    }

    #[test]
    fn refuses_a_request_signed_by_another_key() {
        let key = SoftwareSigner::generate().unwrap();
        let attacker = SoftwareSigner::generate().unwrap();
        let compact = request(None).sign(&attacker, "rp-1").unwrap();
        assert_eq!(
            verify_with(&compact, &relying_party(&key)),
            Err(Openid4vpError::Jws(JwsError::BadSignature))
        );
        // A retired key no longer counts.
        let mut rp = relying_party(&key);
        rp.keys[0].not_after = Some(NOW - 1);
        let compact = request(None).sign(&key, "rp-1").unwrap();
        assert_eq!(verify_with(&compact, &rp), Err(Openid4vpError::NoValidKey));
    }

    #[test]
    fn refuses_unsigned_hmac_and_mistyped_objects() {
        let key = SoftwareSigner::generate().unwrap();
        let rp = relying_party(&key);
        let compact = request(None).sign(&key, "rp-1").unwrap();
        let rest = compact.split_once('.').unwrap().1;
        for (header, expected) in [
            (
                r#"{"alg":"none","typ":"oauth-authz-req+jwt"}"#,
                JwsError::AlgNone,
            ),
            (
                r#"{"alg":"HS256","typ":"oauth-authz-req+jwt"}"#,
                JwsError::UnsupportedAlgorithm,
            ),
            (r#"{"alg":"ES256","typ":"JWT"}"#, JwsError::TypMismatch),
            (r#"{"alg":"ES256"}"#, JwsError::TypMismatch),
        ] {
            let forged = format!("{}.{rest}", base64url::encode(header));
            assert_eq!(
                verify_with(&forged, &rp),
                Err(Openid4vpError::Jws(expected)),
                "{header}"
            );
        }
        let unsigned = format!("{}.", compact.rsplit_once('.').unwrap().0);
        assert!(matches!(
            verify_with(&unsigned, &rp),
            Err(Openid4vpError::Jws(_))
        ));
    }

    #[test]
    fn refuses_a_client_id_that_differs_from_the_link() {
        let key = SoftwareSigner::generate().unwrap();
        let rp = relying_party(&key);
        let compact = edited(&key, |claims| {
            claims.insert("client_id".into(), json!("other.example"));
        });
        assert_eq!(
            verify_with(&compact, &rp),
            Err(Openid4vpError::ClientIdMismatch)
        );
        let compact = edited(&key, |claims| {
            claims.insert("iss".into(), json!("other.example"));
        });
        assert_eq!(
            verify_with(&compact, &rp),
            Err(Openid4vpError::ClientIdMismatch)
        );
        // The caller looked up another relying party than the link names.
        let mut other = relying_party(&key);
        other.client_id = "other.example".into();
        let compact = request(None).sign(&key, "rp-1").unwrap();
        assert_eq!(
            verify_with(&compact, &other),
            Err(Openid4vpError::ClientIdMismatch)
        );
    }

    #[test]
    fn refuses_what_the_relying_party_may_not_do() {
        type Edit = fn(&mut Map<String, Value>);
        let key = SoftwareSigner::generate().unwrap();
        let rp = relying_party(&key);
        let cases: Vec<(Edit, Openid4vpError)> = vec![
            (
                |c| {
                    c.insert("response_uri".into(), json!("https://evil.example/cb"));
                },
                Openid4vpError::ResponseUriNotAllowed,
            ),
            (
                |c| {
                    c.insert(
                        "response_uri".into(),
                        json!("https://rp.dichvucong.example.evil.example/"),
                    );
                },
                Openid4vpError::ResponseUriNotAllowed,
            ),
            (
                |c| {
                    c.insert(
                        "response_uri".into(),
                        json!("http://rp.dichvucong.example/r"),
                    );
                },
                Openid4vpError::Invalid("response_uri"),
            ),
            (
                |c| {
                    c.insert("exp".into(), json!(NOW - SKEW));
                },
                Openid4vpError::Expired,
            ),
            (
                |c| {
                    c.remove("exp");
                },
                Openid4vpError::Missing("exp"),
            ),
            (
                |c| {
                    c.insert("iat".into(), json!(NOW + SKEW + 1));
                },
                Openid4vpError::IssuedInFuture,
            ),
            (
                |c| {
                    c.remove("nonce");
                },
                Openid4vpError::Missing("nonce"),
            ),
            (
                |c| {
                    c.remove("state");
                },
                Openid4vpError::Missing("state"),
            ),
            (
                |c| {
                    c.insert("nonce".into(), json!("n".repeat(MAX_VALUE_LEN + 1)));
                },
                Openid4vpError::Invalid("nonce"),
            ),
            (
                |c| {
                    c.insert("state".into(), json!("a b"));
                },
                Openid4vpError::Invalid("state"),
            ),
            (
                |c| {
                    c.insert("response_type".into(), json!("code"));
                },
                Openid4vpError::UnsupportedResponseType,
            ),
            (
                |c| {
                    c.insert("response_mode".into(), json!("fragment"));
                },
                Openid4vpError::UnsupportedResponseMode,
            ),
            (
                |c| {
                    c.insert("aud".into(), json!("https://other-wallet.example"));
                },
                Openid4vpError::AudienceMismatch,
            ),
            (
                |c| {
                    c.insert(
                        "redirect_uri".into(),
                        json!("https://rp.dichvucong.example/"),
                    );
                },
                Openid4vpError::Invalid("redirect_uri"),
            ),
            (
                |c| {
                    c.remove("dcql_query");
                },
                Openid4vpError::Missing("dcql_query"),
            ),
            (
                |c| {
                    c.insert(
                        "dcql_query".into(),
                        json!({"credentials": [{"id": "pid",
                        "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:eudi:pid:vn:1"]},
                        "claims": [{"path": ["id_number"]}]}]}),
                    );
                },
                Openid4vpError::ClaimNotAllowed("id_number".into()),
            ),
            (
                |c| {
                    c.insert("dcql_query".into(), json!({"credentials": []}));
                },
                Openid4vpError::Dcql(DcqlError::Invalid("credentials")),
            ),
        ];
        for (edit, expected) in cases {
            let compact = edited(&key, edit);
            assert_eq!(verify_with(&compact, &rp), Err(expected));
        }
        // Without `aud`, and with the wallet's own audience, it is accepted.
        let compact = edited(&key, |c| {
            c.remove("aud");
        });
        assert_eq!(verify_with(&compact, &rp).unwrap().aud, None);
        let compact = edited(&key, |c| {
            c.insert("aud".into(), json!("https://wallet.citizen.example"));
        });
        let link = AuthorizationLink::parse(LINK).unwrap();
        let check = RequestCheck {
            link: &link,
            relying_party: &rp,
            wallet_aud: Some("https://wallet.citizen.example"),
            now: NOW,
            skew: SKEW,
            wallet_nonce: None,
        };
        assert!(RequestObject::verify(&compact, &check).is_ok());
    }

    #[test]
    fn refuses_oversized_and_deeply_nested_objects() {
        let key = SoftwareSigner::generate().unwrap();
        let rp = relying_party(&key);
        let compact = edited(&key, |c| {
            c.insert("padding".into(), json!("x".repeat(MAX_REQUEST_OBJECT_LEN)));
        });
        assert!(matches!(
            verify_with(&compact, &rp),
            Err(Openid4vpError::TooLarge {
                what: "request object",
                ..
            })
        ));
        let deep = format!(r#"{{"x":{}{}}}"#, "[".repeat(200), "]".repeat(200));
        let mut header = Map::new();
        header.insert("typ".into(), json!(REQUEST_OBJECT_TYP));
        let compact = sign_compact(&header, deep.as_bytes(), &key).unwrap();
        assert_eq!(
            verify_with(&compact, &rp),
            Err(Openid4vpError::Jws(JwsError::Payload(JsonError::TooDeep)))
        );
        let repeated = br#"{"client_id":"rp.dichvucong.example","client_id":"x"}"#;
        let compact = sign_compact(&header, repeated, &key).unwrap();
        assert_eq!(
            verify_with(&compact, &rp),
            Err(Openid4vpError::Jws(JwsError::Payload(
                JsonError::DuplicateMember
            )))
        );
    }

    #[test]
    fn response_bodies_round_trip() {
        let response = AuthorizationResponse {
            vp_token: VpToken::from([("pid".into(), vec!["eyJ.a.b~WyJ~eyJ.c.d".into()])]),
            state: "st+a&te=1".into(),
        };
        assert_eq!(
            response.vp_token_json(),
            r#"{"pid":["eyJ.a.b~WyJ~eyJ.c.d"]}"#
        );
        let form = response.to_form();
        assert!(form.starts_with("vp_token=%7B%22pid%22"));
        assert_eq!(
            DirectPost::from_form(form.as_bytes()).unwrap(),
            DirectPost::Response(response)
        );
        let declined = ErrorResponse::access_denied("s1");
        assert_eq!(declined.to_form(), "error=access_denied&state=s1");
        assert_eq!(
            DirectPost::from_form(declined.to_form().as_bytes()).unwrap(),
            DirectPost::Error(declined)
        );
    }

    #[test]
    fn refuses_bad_response_bodies() {
        let cases: [(&[u8], Openid4vpError); 8] = [
            (b"vp_token=%7B%7D", Openid4vpError::Missing("state")),
            (b"state=s", Openid4vpError::Missing("vp_token")),
            (
                b"state=s&state=t&error=access_denied",
                Openid4vpError::Repeated("state"),
            ),
            (
                b"state=s&error=access_denied&vp_token=%7B%7D",
                Openid4vpError::Invalid("error"),
            ),
            (
                b"state=s&error=Access%20Denied",
                Openid4vpError::Invalid("error"),
            ),
            (
                b"state=s&vp_token=%7B%7D",
                Openid4vpError::Invalid("vp_token"),
            ),
            (
                b"state=s&vp_token=%7B%22pid%22%3A%5B%5D%7D",
                Openid4vpError::Invalid("vp_token"),
            ),
            (
                b"state=s&vp_token=%7B%22a%22%3A1%2C%22a%22%3A2%7D",
                Openid4vpError::VpTokenJson(JsonError::DuplicateMember),
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(
                DirectPost::from_form(body),
                Err(expected),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert!(matches!(
            DirectPost::from_form(&vec![b'a'; MAX_FORM_LEN + 1]),
            Err(Openid4vpError::TooLarge { .. })
        ));
    }

    #[test]
    fn encrypted_bodies_round_trip_only_for_the_key_holder() {
        let key = crate::jose::jwe::EcdhPrivateKey::generate().unwrap();
        let other = crate::jose::jwe::EcdhPrivateKey::generate().unwrap();
        let encryption = ResponseEncryption {
            jwk: key.public_jwk().clone(),
            kid: Some("enc-1".into()),
            enc_values: vec![ContentEncryption::A256Gcm],
        };
        let response = DirectPost::Response(AuthorizationResponse {
            vp_token: VpToken::from([("pid".into(), vec!["eyJ.a.b~WyJ~eyJ.c.d".into()])]),
            state: "s-1".into(),
        });
        let declined = DirectPost::Error(ErrorResponse::access_denied("s-2"));
        for post in [response, declined] {
            let body = post.to_encrypted_form(&encryption).unwrap();
            assert!(DirectPost::is_encrypted_form(body.as_bytes()));
            assert!(!DirectPost::is_encrypted_form(post.to_form().as_bytes()));
            // Nothing of the answer is readable on the wire.
            assert!(!body.contains("vp_token") && !body.contains("access_denied"));
            assert_eq!(
                DirectPost::from_encrypted_form(body.as_bytes(), &key).unwrap(),
                post
            );
            assert_eq!(
                DirectPost::from_encrypted_form(body.as_bytes(), &other),
                Err(Openid4vpError::Invalid("response"))
            );
            let jwe = url::form_urlencoded::parse(body.as_bytes())
                .next()
                .unwrap()
                .1
                .into_owned();
            let (header, _) = crate::jose::jwe::decrypt(&jwe, &key, MAX_FORM_LEN).unwrap();
            assert_eq!(header["kid"], "enc-1");
            assert_eq!(header["enc"], "A256GCM");
        }
        assert_eq!(
            DirectPost::from_encrypted_form(b"state=s", &key),
            Err(Openid4vpError::Missing("response"))
        );
        assert_eq!(
            DirectPost::from_encrypted_form(b"response=a&response=b", &key),
            Err(Openid4vpError::Repeated("response"))
        );
    }

    #[test]
    fn the_wallet_nonce_must_be_echoed_when_sent() {
        let key = SoftwareSigner::generate().unwrap();
        let rp = relying_party(&key);
        let link = AuthorizationLink::parse(LINK).unwrap();
        let check = |wallet_nonce| RequestCheck {
            link: &link,
            relying_party: &rp,
            wallet_aud: None,
            now: NOW,
            skew: SKEW,
            wallet_nonce,
        };
        let mut with_nonce = request(None);
        with_nonce.wallet_nonce = Some("wn-1".into());
        let signed = with_nonce.sign(&key, "rp-1").unwrap();
        assert_eq!(
            RequestObject::verify(&signed, &check(Some("wn-1"))).unwrap(),
            with_nonce
        );
        assert_eq!(
            RequestObject::verify(&signed, &check(Some("wn-2"))),
            Err(Openid4vpError::WalletNonceMismatch)
        );
        // An object fetched without one (or fetched by someone else earlier) lacks it.
        let without = request(None).sign(&key, "rp-1").unwrap();
        assert_eq!(
            RequestObject::verify(&without, &check(Some("wn-1"))),
            Err(Openid4vpError::WalletNonceMismatch)
        );
        assert!(RequestObject::verify(&without, &check(None)).is_ok());
    }

    #[test]
    fn a_link_must_point_to_a_host_of_its_relying_party() {
        let key = SoftwareSigner::generate().unwrap();
        let rp = relying_party(&key);
        let link = AuthorizationLink::parse(LINK).unwrap();
        assert_eq!(link.check_against(&rp), Ok(()));
        let mut elsewhere = link.clone();
        elsewhere.request_uri = Url::parse("https://attacker.example/requests/42").unwrap();
        assert_eq!(
            elsewhere.check_against(&rp),
            Err(Openid4vpError::RequestUriNotAllowed)
        );
        let mut other_client = link.clone();
        other_client.client_id = "someone.else.example".into();
        assert_eq!(
            other_client.check_against(&rp),
            Err(Openid4vpError::ClientIdMismatch)
        );
    }
}
