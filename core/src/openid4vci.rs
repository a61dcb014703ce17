//! OpenID4VCI 1.0 (pre-authorised code flow) and the wallet activation that starts it: the wire
//! types the wallet (client) and the sandbox (server) share, so the two cannot drift.
//!
//! Owns: the activation request and its `wallet-activation+jwt` device-key proof
//! ([`activation_proof`], [`verify_activation_proof`]), the credential offer (by value, §4.1.1),
//! the subset of issuer metadata we publish and read, the token request in its form encoding
//! ([`TokenRequest::to_form`], [`TokenRequest::from_form`]), the token, nonce, credential and OAuth
//! error messages, and the `openid4vci-proof+jwt` key proof ([`proof_jwt`], [`verify_proof_jwt`]),
//! plus the PID's configuration id, `vct` and claim names. `docs/wallet-identity.md` says how the
//! flow uses them.
//! Does not own transport, storage, which issuers to trust (the trust list) or the credential
//! format (`sdjwt`). Pure and I/O-free: every parser bounds its input first, every failure is a
//! typed [`Openid4vciError`] whose text never quotes the input, and nothing panics.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::jose::json::{self, JsonError};
use crate::jose::{EcPublicJwk, JwkError, Jws, JwsError, JwsSigner, sign_compact};

/// The credential configuration of the person-identification credential.
pub const PID_CONFIGURATION_ID: &str = "vn.gov.pid";
/// The SD-JWT VC type of the person-identification credential.
pub const PID_VCT: &str = "urn:eudi:pid:vn:1";
/// The credential format the PID is issued in.
pub const PID_FORMAT: &str = "dc+sd-jwt";
/// The OAuth grant type of the pre-authorised code flow.
pub const PRE_AUTHORIZED_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
/// The `typ` of the device-key proof in an activation request.
pub const ACTIVATION_PROOF_TYP: &str = "wallet-activation+jwt";
/// The `typ` of an OpenID4VCI key proof (Appendix F.1).
pub const PROOF_JWT_TYP: &str = "openid4vci-proof+jwt";
/// The one signature algorithm the issuer accepts for proofs.
pub const PROOF_ALG: &str = "ES256";
/// The length of the transaction code (the activation code without its dash).
pub const TX_CODE_LENGTH: u32 = 8;

/// The longest proof JWT (activation or key proof) accepted before decoding: a header with a
/// P-256 JWK and a handful of short claims is well under 1 KiB.
pub const MAX_PROOF_LEN: usize = 8 * 1024;
/// The longest form-encoded token request accepted before decoding.
pub const MAX_FORM_LEN: usize = 8 * 1024;
/// The longest JSON message accepted by [`from_json`] for everything but a credential response.
pub const MAX_MESSAGE_LEN: usize = 64 * 1024;
/// The longest credential response accepted (the SD-JWT may carry a portrait).
pub const MAX_CREDENTIAL_RESPONSE_LEN: usize = 2 * 1024 * 1024;
/// How far in the future an activation proof's `iat` may lie (phone clocks drift).
pub const ACTIVATION_FUTURE_SKEW_SECS: i64 = 60;

/// The claim names of the person-identification credential, as the Vietnamese identity record
/// has them (one `full_name`, not family and given names).
pub mod pid_claims {
    pub const FULL_NAME: &str = "full_name";
    /// `YYYY-MM-DD`.
    pub const BIRTH_DATE: &str = "birth_date";
    pub const SEX: &str = "sex";
    /// ISO 3166-1 alpha-2.
    pub const NATIONALITY: &str = "nationality";
    /// The 12-digit citizen identity card (CCCD) number.
    pub const ID_NUMBER: &str = "id_number";
    pub const PLACE_OF_ORIGIN: &str = "place_of_origin";
    pub const PLACE_OF_RESIDENCE: &str = "place_of_residence";
    /// The day the credential was issued, `YYYY-MM-DD`.
    pub const ISSUE_DATE: &str = "issue_date";
    /// The day the credential expires (its `exp`, never beyond the identity card's own expiry),
    /// `YYYY-MM-DD`.
    pub const EXPIRY_DATE: &str = "expiry_date";
    /// Boolean, computed from the birth date at issuance.
    pub const AGE_OVER_18: &str = "age_over_18";

    /// Every PID claim, all of them selectively disclosable.
    pub const ALL: [&str; 10] = [
        FULL_NAME,
        BIRTH_DATE,
        SEX,
        NATIONALITY,
        ID_NUMBER,
        PLACE_OF_ORIGIN,
        PLACE_OF_RESIDENCE,
        ISSUE_DATE,
        EXPIRY_DATE,
        AGE_OVER_18,
    ];
}

/// The OAuth and OpenID4VCI `error` codes this flow uses.
pub mod error_codes {
    /// RFC 6749 §5.2.
    pub const INVALID_REQUEST: &str = "invalid_request";
    pub const INVALID_GRANT: &str = "invalid_grant";
    pub const UNSUPPORTED_GRANT_TYPE: &str = "unsupported_grant_type";
    /// RFC 6750 §3.1: a missing, expired or unknown access token.
    pub const INVALID_TOKEN: &str = "invalid_token";
    /// OpenID4VCI 1.0 §8.3.1.2.
    pub const INVALID_CREDENTIAL_REQUEST: &str = "invalid_credential_request";
    pub const UNKNOWN_CREDENTIAL_CONFIGURATION: &str = "unknown_credential_configuration";
    pub const INVALID_PROOF: &str = "invalid_proof";
    pub const INVALID_NONCE: &str = "invalid_nonce";
}

/// Why a message or proof was refused, or could not be made. The texts are fixed wording: they
/// never quote a token, a code or a claim value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Openid4vciError {
    #[error("the {what} is {len} bytes, more than the {max}-byte limit")]
    TooLarge {
        what: &'static str,
        len: usize,
        max: usize,
    },
    #[error("the proof is not an acceptable JWS: {0}")]
    Jws(JwsError),
    #[error("the proof's header has no `jwk`")]
    MissingJwk,
    #[error("the proof's header names a key in more than one way (`jwk` with `kid` or `x5c`)")]
    AmbiguousKey,
    #[error("the proof's `jwk` is not a usable P-256 public key: {0}")]
    Jwk(JwkError),
    #[error("the proof lacks the claim `{0}` or it has the wrong type")]
    Claim(&'static str),
    #[error("the proof is for another ID number")]
    IdNumberMismatch,
    #[error("the proof is for another audience")]
    AudienceMismatch,
    #[error("the proof carries another nonce")]
    NonceMismatch,
    #[error("the proof is too old")]
    Stale,
    #[error("the proof was issued in the future")]
    InFuture,
    #[error("the form is not `application/x-www-form-urlencoded` UTF-8 text")]
    FormEncoding,
    #[error("the form parameter `{0}` appears more than once")]
    DuplicateParameter(&'static str),
    #[error("the form parameter `{0}` is missing")]
    MissingParameter(&'static str),
    #[error("the grant type is not the pre-authorised code grant")]
    UnsupportedGrantType,
    #[error("the message is not acceptable JSON: {0}")]
    Json(JsonError),
    #[error("the message does not have the expected members")]
    Shape,
    #[error("signing failed: {0}")]
    Signing(JwsError),
}

// ---------------------------------------------------------------------------------------------
// Activation

/// `POST /v1/wallet/activations`. Personal data: `Debug` shows none of it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivationRequest {
    pub id_number: String,
    /// A `wallet-activation+jwt` made by [`activation_proof`].
    pub device_key_proof: String,
    /// An opaque base64 platform-attestation blob, passed through and stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<String>,
}

impl fmt::Debug for ActivationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActivationRequest")
            .field("attestation", &self.attestation.as_ref().map(String::len))
            .finish_non_exhaustive()
    }
}

impl ActivationRequest {
    /// Verifies the device-key proof against this request's ID number: see
    /// [`verify_activation_proof`].
    pub fn verify_proof(
        &self,
        now: i64,
        max_age_secs: i64,
    ) -> Result<(EcPublicJwk, ActivationProofClaims), Openid4vciError> {
        verify_activation_proof(&self.device_key_proof, &self.id_number, now, max_age_secs)
    }
}

/// The claims of a verified activation proof. Personal data: `Debug` shows only `iat`.
#[derive(Clone, PartialEq, Eq)]
pub struct ActivationProofClaims {
    pub id_number: String,
    pub iat: i64,
    pub nonce: Option<String>,
}

impl fmt::Debug for ActivationProofClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActivationProofClaims")
            .field("iat", &self.iat)
            .finish_non_exhaustive()
    }
}

/// The device-key proof of an activation request: a JWS signed by the device key, header
/// `{"alg":"ES256","typ":"wallet-activation+jwt","jwk":<device_jwk>}`, claims `{"id_number","iat"}`.
pub fn activation_proof(
    signer: &dyn JwsSigner,
    device_jwk: &EcPublicJwk,
    id_number: &str,
    iat: i64,
) -> Result<String, Openid4vciError> {
    let mut claims = Map::new();
    claims.insert("id_number".into(), Value::from(id_number));
    claims.insert("iat".into(), Value::from(iat));
    sign_with_jwk(signer, ACTIVATION_PROOF_TYP, device_jwk, &claims)
}

/// Checks an activation proof: `typ` `wallet-activation+jwt`, ES256, signed by the key in its own
/// `jwk` header (proof of possession of the device key), `id_number` equal to
/// `expected_id_number` (the request's), and `iat` within `[now - max_age, now + 60 s]`.
/// Returns the device key and the claims.
pub fn verify_activation_proof(
    jws: &str,
    expected_id_number: &str,
    now: i64,
    max_age_secs: i64,
) -> Result<(EcPublicJwk, ActivationProofClaims), Openid4vciError> {
    let (key, claims) = verify_self_signed(jws, ACTIVATION_PROOF_TYP)?;
    let id_number = string_claim(&claims, "id_number")?;
    let iat = time_claim(&claims, "iat")?;
    let nonce = match claims.get("nonce") {
        None => None,
        Some(Value::String(nonce)) => Some(nonce.clone()),
        Some(_) => return Err(Openid4vciError::Claim("nonce")),
    };
    if id_number != expected_id_number {
        return Err(Openid4vciError::IdNumberMismatch);
    }
    check_iat(iat, now, max_age_secs.max(0), ACTIVATION_FUTURE_SKEW_SECS)?;
    Ok((
        key,
        ActivationProofClaims {
            id_number: id_number.to_owned(),
            iat,
            nonce,
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// Credential offer and issuer metadata

/// A credential offer, by value (OpenID4VCI 1.0 §4.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialOffer {
    pub credential_issuer: String,
    pub credential_configuration_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<Grants>,
}

impl CredentialOffer {
    /// An offer of the PID with the pre-authorised code grant and an 8-character text `tx_code`.
    pub fn pid(
        credential_issuer: &str,
        pre_authorized_code: String,
        tx_code_description: &str,
    ) -> Self {
        Self {
            credential_issuer: credential_issuer.to_owned(),
            credential_configuration_ids: vec![PID_CONFIGURATION_ID.to_owned()],
            grants: Some(Grants {
                pre_authorized_code: Some(PreAuthorizedCodeGrant {
                    pre_authorized_code,
                    tx_code: Some(TxCode {
                        length: Some(TX_CODE_LENGTH),
                        input_mode: Some(TxCodeInputMode::Text),
                        description: Some(tx_code_description.to_owned()),
                    }),
                }),
            }),
        }
    }

    /// The pre-authorised code grant, when the offer has one.
    pub fn pre_authorized_grant(&self) -> Option<&PreAuthorizedCodeGrant> {
        self.grants.as_ref()?.pre_authorized_code.as_ref()
    }
}

/// The grants of an offer (only the pre-authorised code grant is used).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    #[serde(
        rename = "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pre_authorized_code: Option<PreAuthorizedCodeGrant>,
}

/// The pre-authorised code grant. The code is a bearer secret: `Debug` does not show it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreAuthorizedCodeGrant {
    #[serde(rename = "pre-authorized_code")]
    pub pre_authorized_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_code: Option<TxCode>,
}

impl fmt::Debug for PreAuthorizedCodeGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreAuthorizedCodeGrant")
            .field("tx_code", &self.tx_code)
            .finish_non_exhaustive()
    }
}

/// What the wallet must ask the user for: here the activation code from the registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxCode {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u32>,
    /// Absent means `numeric`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_mode: Option<TxCodeInputMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TxCodeInputMode {
    Numeric,
    Text,
}

/// `GET /.well-known/openid-credential-issuer`: the subset of the issuer metadata we use. Members
/// not listed here are ignored when reading, so an issuer may publish more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerMetadata {
    pub credential_issuer: String,
    /// The issuer is its own authorisation server, so it publishes its token endpoint here.
    pub token_endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce_endpoint: Option<String>,
    pub credential_endpoint: String,
    pub credential_configurations_supported: BTreeMap<String, CredentialConfiguration>,
}

impl IssuerMetadata {
    /// The metadata of an issuer at `credential_issuer` (with its trailing `/`) offering the PID
    /// at the endpoints `token`, `nonce` and `credential` below it.
    pub fn pid_issuer(credential_issuer: &str) -> Self {
        let base = credential_issuer.trim_end_matches('/');
        let mut configurations = BTreeMap::new();
        configurations.insert(
            PID_CONFIGURATION_ID.to_owned(),
            CredentialConfiguration {
                format: PID_FORMAT.to_owned(),
                vct: Some(PID_VCT.to_owned()),
                cryptographic_binding_methods_supported: vec!["jwk".to_owned()],
                credential_signing_alg_values_supported: vec![PROOF_ALG.to_owned()],
                proof_types_supported: BTreeMap::from([(
                    "jwt".to_owned(),
                    ProofTypeMetadata {
                        proof_signing_alg_values_supported: vec![PROOF_ALG.to_owned()],
                    },
                )]),
            },
        );
        Self {
            credential_issuer: credential_issuer.to_owned(),
            token_endpoint: format!("{base}/token"),
            nonce_endpoint: Some(format!("{base}/nonce")),
            credential_endpoint: format!("{base}/credential"),
            credential_configurations_supported: configurations,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialConfiguration {
    pub format: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vct: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cryptographic_binding_methods_supported: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credential_signing_alg_values_supported: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub proof_types_supported: BTreeMap<String, ProofTypeMetadata>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofTypeMetadata {
    pub proof_signing_alg_values_supported: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Token

/// `POST /token` with the pre-authorised code grant, form-encoded (RFC 6749 §4.1.3 shape).
/// The code and the transaction code are secrets: `Debug` shows neither.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub pre_authorized_code: String,
    /// The activation code, as the user typed it.
    pub tx_code: Option<String>,
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequest")
            .field("tx_code", &self.tx_code.as_ref().map(|_| "…"))
            .finish_non_exhaustive()
    }
}

impl TokenRequest {
    /// `application/x-www-form-urlencoded`, the content type to send it with.
    pub const CONTENT_TYPE: &'static str = "application/x-www-form-urlencoded";

    /// The body, form-encoded: `grant_type`, `pre-authorized_code` and `tx_code` when there is one.
    pub fn to_form(&self) -> String {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", PRE_AUTHORIZED_GRANT);
        form.append_pair("pre-authorized_code", &self.pre_authorized_code);
        if let Some(tx_code) = &self.tx_code {
            form.append_pair("tx_code", tx_code);
        }
        form.finish()
    }

    /// Parses a form-encoded body, bounded by [`MAX_FORM_LEN`]. As RFC 6749 §3.2 says, a
    /// parameter may appear only once and one without a value counts as absent; unknown
    /// parameters are ignored. A grant type other than [`PRE_AUTHORIZED_GRANT`] is
    /// [`Openid4vciError::UnsupportedGrantType`]; broken percent-escapes and text that is not
    /// UTF-8 are [`Openid4vciError::FormEncoding`].
    pub fn from_form(body: &[u8]) -> Result<Self, Openid4vciError> {
        if body.len() > MAX_FORM_LEN {
            return Err(Openid4vciError::TooLarge {
                what: "token request",
                len: body.len(),
                max: MAX_FORM_LEN,
            });
        }
        let mut grant_type = None;
        let mut code = None;
        let mut tx_code = None;
        for pair in body.split(|b| *b == b'&').filter(|pair| !pair.is_empty()) {
            let (raw_name, raw_value) = match pair.iter().position(|b| *b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &b""[..]),
            };
            let (slot, name) = match form_decode(raw_name)?.as_str() {
                "grant_type" => (&mut grant_type, "grant_type"),
                "pre-authorized_code" => (&mut code, "pre-authorized_code"),
                "tx_code" => (&mut tx_code, "tx_code"),
                _ => continue,
            };
            if slot.is_some() {
                return Err(Openid4vciError::DuplicateParameter(name));
            }
            *slot = Some(form_decode(raw_value)?);
        }
        let present = |value: Option<String>| value.filter(|v| !v.is_empty());
        match present(grant_type) {
            None => return Err(Openid4vciError::MissingParameter("grant_type")),
            Some(grant) if grant != PRE_AUTHORIZED_GRANT => {
                return Err(Openid4vciError::UnsupportedGrantType);
            }
            Some(_) => {}
        }
        let pre_authorized_code =
            present(code).ok_or(Openid4vciError::MissingParameter("pre-authorized_code"))?;
        Ok(Self {
            pre_authorized_code,
            tx_code: present(tx_code),
        })
    }
}

/// Decodes one name or value of `application/x-www-form-urlencoded` (`+` is a space, `%XX` a
/// byte). Bytes that are not UTF-8, before or after decoding, and a `%` without two hex digits are
/// refused rather than replaced, so no two readers of a form see different values.
fn form_decode(input: &[u8]) -> Result<String, Openid4vciError> {
    let hex = |b: u8| char::from(b).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(input.len());
    let mut rest = input;
    while let Some((&byte, tail)) = rest.split_first() {
        rest = tail;
        match byte {
            b'+' => out.push(b' '),
            b'%' => match rest {
                [high, low, tail @ ..] => {
                    let (Some(high), Some(low)) = (hex(*high), hex(*low)) else {
                        return Err(Openid4vciError::FormEncoding);
                    };
                    out.push((high << 4) | low);
                    rest = tail;
                }
                _ => return Err(Openid4vciError::FormEncoding),
            },
            byte => out.push(byte),
        }
    }
    String::from_utf8(out).map_err(|_| Openid4vciError::FormEncoding)
}

/// The token endpoint's answer. The access token is a bearer secret: `Debug` does not show it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds.
    pub expires_in: u64,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// An OAuth error (RFC 6749 §5.2; also the credential endpoint's, OpenID4VCI 1.0 §8.3.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthErrorResponse {
    /// One of [`error_codes`].
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

impl OAuthErrorResponse {
    pub fn new(error: &str, description: Option<&str>) -> Self {
        Self {
            error: error.to_owned(),
            error_description: description.map(str::to_owned),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Nonce and credential

/// `POST /nonce`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonceResponse {
    pub c_nonce: String,
}

/// `POST /credential`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRequest {
    pub credential_configuration_id: String,
    pub proofs: Proofs,
}

impl CredentialRequest {
    /// A request for the PID with one key proof.
    pub fn pid(proof_jwt: String) -> Self {
        Self {
            credential_configuration_id: PID_CONFIGURATION_ID.to_owned(),
            proofs: Proofs {
                jwt: vec![proof_jwt],
            },
        }
    }
}

/// Key proofs by proof type; only `jwt` exists here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proofs {
    pub jwt: Vec<String>,
}

/// The credential endpoint's answer (immediate issuance).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialResponse {
    pub credentials: Vec<IssuedCredential>,
}

impl fmt::Debug for CredentialResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialResponse")
            .field("credentials", &self.credentials.len())
            .finish()
    }
}

/// One issued credential (the SD-JWT VC, with every disclosure). Personal data.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCredential {
    pub credential: String,
}

impl fmt::Debug for IssuedCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedCredential")
            .field("len", &self.credential.len())
            .finish()
    }
}

/// Parses a JSON message of this module, refusing it before decoding when it is longer than
/// `max_len` (use [`MAX_MESSAGE_LEN`], or [`MAX_CREDENTIAL_RESPONSE_LEN`] for a credential
/// response) and refusing repeated member names.
pub fn from_json<T: DeserializeOwned>(bytes: &[u8], max_len: usize) -> Result<T, Openid4vciError> {
    if bytes.len() > max_len {
        return Err(Openid4vciError::TooLarge {
            what: "message",
            len: bytes.len(),
            max: max_len,
        });
    }
    let value = json::parse_value(bytes).map_err(Openid4vciError::Json)?;
    serde_json::from_value(value).map_err(|_| Openid4vciError::Shape)
}

// ---------------------------------------------------------------------------------------------
// Key proof

/// The key proof of a credential request (OpenID4VCI 1.0 Appendix F.1): header
/// `{"alg":"ES256","typ":"openid4vci-proof+jwt","jwk":<device_jwk>}`, claims
/// `{"aud":<credential issuer>,"iat","nonce":<c_nonce>}`, signed by the device key. No `iss`:
/// the pre-authorised flow is anonymous.
pub fn proof_jwt(
    signer: &dyn JwsSigner,
    device_jwk: &EcPublicJwk,
    aud: &str,
    nonce: &str,
    iat: i64,
) -> Result<String, Openid4vciError> {
    let mut claims = Map::new();
    claims.insert("aud".into(), Value::from(aud));
    claims.insert("iat".into(), Value::from(iat));
    claims.insert("nonce".into(), Value::from(nonce));
    sign_with_jwk(signer, PROOF_JWT_TYP, device_jwk, &claims)
}

/// Checks a key proof: `typ` `openid4vci-proof+jwt`, ES256, signed by the key in its own `jwk`
/// header (no `kid` or `x5c` beside it), `aud` equal to `expected_aud` (the credential issuer
/// identifier; an array must contain it), `nonce` equal to `expected_nonce`, and `iat` within
/// `skew_secs` of `now` either way (the nonce's own short life bounds freshness as well).
/// Returns the proven key; the caller checks it is the one it expects.
pub fn verify_proof_jwt(
    jws: &str,
    expected_aud: &str,
    expected_nonce: &str,
    now: i64,
    skew_secs: i64,
) -> Result<EcPublicJwk, Openid4vciError> {
    let (key, claims) = verify_self_signed(jws, PROOF_JWT_TYP)?;
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == expected_aud,
        Some(Value::Array(auds)) if !auds.is_empty() => {
            if !auds.iter().all(Value::is_string) {
                return Err(Openid4vciError::Claim("aud"));
            }
            auds.iter().any(|aud| aud == expected_aud)
        }
        _ => return Err(Openid4vciError::Claim("aud")),
    };
    let iat = time_claim(&claims, "iat")?;
    let nonce = string_claim(&claims, "nonce")?;
    if !audience_ok {
        return Err(Openid4vciError::AudienceMismatch);
    }
    if nonce != expected_nonce {
        return Err(Openid4vciError::NonceMismatch);
    }
    let skew = skew_secs.max(0);
    check_iat(iat, now, skew, skew)?;
    Ok(key)
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

fn sign_with_jwk(
    signer: &dyn JwsSigner,
    typ: &str,
    jwk: &EcPublicJwk,
    claims: &Map<String, Value>,
) -> Result<String, Openid4vciError> {
    let mut header = Map::new();
    header.insert("typ".into(), Value::from(typ));
    header.insert("jwk".into(), jwk.to_value());
    let payload = Value::Object(claims.clone()).to_string();
    sign_compact(&header, payload.as_bytes(), signer).map_err(Openid4vciError::Signing)
}

/// Parses a proof whose key travels in its own `jwk` header, checks its `typ`, and verifies it
/// with that key: a proof of possession, not of identity (the caller decides whether the key is
/// the expected one).
fn verify_self_signed(
    compact: &str,
    typ: &str,
) -> Result<(EcPublicJwk, Map<String, Value>), Openid4vciError> {
    if compact.len() > MAX_PROOF_LEN {
        return Err(Openid4vciError::TooLarge {
            what: "proof",
            len: compact.len(),
            max: MAX_PROOF_LEN,
        });
    }
    let jws = Jws::parse(compact, MAX_PROOF_LEN).map_err(Openid4vciError::Jws)?;
    jws.check_typ(typ).map_err(Openid4vciError::Jws)?;
    let params = jws.header().params();
    if params.contains_key("kid") || params.contains_key("x5c") {
        return Err(Openid4vciError::AmbiguousKey);
    }
    let jwk = params.get("jwk").ok_or(Openid4vciError::MissingJwk)?;
    let key = EcPublicJwk::from_value(jwk).map_err(Openid4vciError::Jwk)?;
    jws.verify(&key).map_err(Openid4vciError::Jws)?;
    let claims = jws.claims().map_err(Openid4vciError::Jws)?;
    Ok((key, claims))
}

fn string_claim<'a>(
    claims: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, Openid4vciError> {
    match claims.get(name) {
        Some(Value::String(value)) => Ok(value),
        _ => Err(Openid4vciError::Claim(name)),
    }
}

fn time_claim(claims: &Map<String, Value>, name: &'static str) -> Result<i64, Openid4vciError> {
    claims
        .get(name)
        .and_then(Value::as_i64)
        .ok_or(Openid4vciError::Claim(name))
}

fn check_iat(iat: i64, now: i64, max_age: i64, future_skew: i64) -> Result<(), Openid4vciError> {
    if iat > now.saturating_add(future_skew) {
        return Err(Openid4vciError::InFuture);
    }
    if iat < now.saturating_sub(max_age) {
        return Err(Openid4vciError::Stale);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
