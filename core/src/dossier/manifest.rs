//! The signed dossier manifest and the submission contract: what the phone sends to file a
//! dossier and what the portal answers. Pure and I/O-free (a fuzz target feeds it).
//!
//! Owns: [`Manifest`] (the dossier's content as the citizen signed it: procedure code and
//! version, form values, each attachment's kind, type, size and SHA-256), its compact JWS form
//! ([`sign`], [`verify`]: ES256 by the wallet's device key, the public key in the `jwk` header,
//! `typ` [`MANIFEST_TYP`]), and the JSON of `POST v1/dossiers` ([`SubmitRequest`],
//! [`SubmitResponse`]). Does not own sending (`sender`), the drafts the manifest is built from
//! (`draft`), nor how the portal decides that a device key is a citizen's (the portal knows the
//! keys it bound to credentials at activation; the sandbox checks that).
//!
//! Why the digests and not the files: attachments travel separately by tus and may be large; the
//! signature covers each file's SHA-256, so a portal that checks the uploaded bytes against the
//! signed digest knows they are exactly what the citizen signed. The manifest's `jti` is the
//! dossier's id and also the submission's `Idempotency-Key`: a portal can refuse a key presented
//! with another manifest, and a retried request is recognisably the same dossier.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::jose::{self, EcPublicJwk, JwsSigner};

/// The JWS `typ` of a dossier manifest.
pub const MANIFEST_TYP: &str = "dossier-manifest+jwt";
/// Where dossiers are filed, below the portal's base URL.
pub const SUBMIT_PATH: &str = "v1/dossiers";
/// The largest manifest (compact JWS) accepted either way.
pub const MAX_MANIFEST_BYTES: usize = 256 * 1024;
/// The largest submit request body (manifest plus upload references).
pub const MAX_SUBMIT_BODY_BYTES: usize = MAX_MANIFEST_BYTES + 64 * 1024;
/// The most attachments one dossier may carry.
pub const MAX_ATTACHMENTS: usize = 64;
/// The most form fields one dossier may carry, and the longest value.
pub const MAX_FIELDS: usize = 256;
pub const MAX_VALUE_CHARS: usize = 4_000;
/// Dossier ids (and idempotency keys) are 22 to 64 characters of base64url: at least 128 bits.
pub const DOSSIER_ID_CHARS: std::ops::RangeInclusive<usize> = 22..=64;

/// The procedure a dossier is filed under, at the version the citizen filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcedureRef {
    pub code: String,
    pub version: u64,
}

/// One attached document as the manifest names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentDigest {
    /// The procedure's attachment kind it answers (e.g. `to_khai`).
    pub kind: String,
    /// `application/pdf`, `image/jpeg`, `image/png`.
    pub media_type: String,
    pub size: u64,
    /// SHA-256 of the content, base64url without padding.
    pub sha256: String,
}

/// What the citizen signs when they file a dossier.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The dossier's id, chosen by the phone; the submission's `Idempotency-Key`.
    pub jti: String,
    /// When the citizen signed it (Unix seconds).
    pub iat: i64,
    pub procedure: ProcedureRef,
    /// Form values by field id.
    pub form: BTreeMap<String, String>,
    #[serde(default)]
    pub attachments: Vec<AttachmentDigest>,
    /// Present when this manifest answers a supplement request of an earlier dossier: what it
    /// adds to. Its `form` and `attachments` then hold only what the request asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplement: Option<SupplementRef>,
}

/// The supplement request a manifest answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupplementRef {
    /// The original dossier's id (its manifest's `jti`).
    pub dossier_id: String,
    /// The portal's id of the request being answered.
    pub request_id: String,
}

impl std::fmt::Debug for Manifest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Form values are the citizen's personal data: only their number is shown.
        f.debug_struct("Manifest")
            .field("jti", &self.jti)
            .field("iat", &self.iat)
            .field("procedure", &self.procedure)
            .field("fields", &self.form.len())
            .field("attachments", &self.attachments.len())
            .field("supplement", &self.supplement)
            .finish()
    }
}

/// Why a manifest or a submission message is not acceptable. Names fields, never values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    #[error("the manifest is larger than allowed")]
    TooLarge,
    #[error("the manifest is not a well-formed JWS")]
    Malformed,
    #[error("the manifest's `typ` is not {MANIFEST_TYP}")]
    WrongType,
    #[error("the manifest's header has no usable `jwk`")]
    MissingKey,
    #[error("the manifest's signature does not verify")]
    BadSignature,
    #[error("the manifest's field `{0}` is missing or malformed")]
    Invalid(&'static str),
    #[error("the device key could not sign the manifest")]
    Signer,
}

impl Manifest {
    /// Checks bounds and formats; [`sign`] and [`verify`] both call it.
    pub fn check(&self) -> Result<(), ManifestError> {
        if !is_dossier_id(&self.jti) {
            return Err(ManifestError::Invalid("jti"));
        }
        if self.iat <= 0 {
            return Err(ManifestError::Invalid("iat"));
        }
        if self.procedure.code.is_empty() || self.procedure.code.len() > 64 {
            return Err(ManifestError::Invalid("procedure"));
        }
        if self.form.len() > MAX_FIELDS {
            return Err(ManifestError::Invalid("form"));
        }
        for (field, value) in &self.form {
            if field.is_empty() || field.len() > 64 || value.chars().count() > MAX_VALUE_CHARS {
                return Err(ManifestError::Invalid("form"));
            }
        }
        if self.attachments.len() > MAX_ATTACHMENTS {
            return Err(ManifestError::Invalid("attachments"));
        }
        for attachment in &self.attachments {
            let digest_ok =
                jose::base64url::decode(&attachment.sha256).is_ok_and(|digest| digest.len() == 32);
            if !digest_ok
                || attachment.kind.is_empty()
                || attachment.kind.len() > 64
                || attachment.media_type.len() > 64
            {
                return Err(ManifestError::Invalid("attachments"));
            }
        }
        if let Some(supplement) = &self.supplement
            && (!is_dossier_id(&supplement.dossier_id)
                || supplement.dossier_id == self.jti
                || !is_portal_id(&supplement.request_id))
        {
            return Err(ManifestError::Invalid("supplement"));
        }
        Ok(())
    }
}

/// An id the portal made (a receipt code, a supplement request's or a fee's id): 1 to 40
/// characters of `[A-Za-z0-9-]`, so it can go into a path, a log line or a transfer note.
pub fn is_portal_id(text: &str) -> bool {
    (1..=40).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A dossier id: 22 to 64 base64url characters.
pub fn is_dossier_id(text: &str) -> bool {
    DOSSIER_ID_CHARS.contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Signs `manifest` with `signer` (the device key) as a compact JWS whose header carries the
/// public key.
pub fn sign(manifest: &Manifest, signer: &dyn JwsSigner) -> Result<String, ManifestError> {
    manifest.check()?;
    let payload = serde_json::to_vec(manifest).map_err(|_| ManifestError::Malformed)?;
    sign_with_key_header(MANIFEST_TYP, &payload, signer)
}

/// Verifies a compact manifest against the key in its own header and returns it with that key.
/// The caller decides whether the key is one it trusts (a portal: a key it bound at activation).
pub fn verify(compact: &str) -> Result<(Manifest, EcPublicJwk), ManifestError> {
    let (payload, key) = verify_with_key_header(MANIFEST_TYP, compact)?;
    let manifest: Manifest =
        serde_json::from_slice(&payload).map_err(|_| ManifestError::Malformed)?;
    manifest.check()?;
    Ok((manifest, key))
}

fn sign_with_key_header(
    typ: &str,
    payload: &[u8],
    signer: &dyn JwsSigner,
) -> Result<String, ManifestError> {
    let public = signer.public_jwk().map_err(|_| ManifestError::Signer)?;
    let mut header = Map::new();
    header.insert("typ".into(), Value::from(typ));
    header.insert("jwk".into(), public.to_value());
    let compact =
        jose::sign_compact(&header, payload, signer).map_err(|_| ManifestError::Signer)?;
    if compact.len() > MAX_MANIFEST_BYTES {
        return Err(ManifestError::TooLarge);
    }
    Ok(compact)
}

fn verify_with_key_header(
    typ: &str,
    compact: &str,
) -> Result<(Vec<u8>, EcPublicJwk), ManifestError> {
    if compact.len() > MAX_MANIFEST_BYTES {
        return Err(ManifestError::TooLarge);
    }
    let jws =
        jose::Jws::parse(compact, MAX_MANIFEST_BYTES).map_err(|_| ManifestError::Malformed)?;
    jws.check_typ(typ).map_err(|_| ManifestError::WrongType)?;
    let key = jws
        .header()
        .params()
        .get("jwk")
        .ok_or(ManifestError::MissingKey)
        .and_then(|v| EcPublicJwk::from_value(v).map_err(|_| ManifestError::MissingKey))?;
    jws.verify(&key).map_err(|_| ManifestError::BadSignature)?;
    Ok((jws.payload().to_vec(), key))
}

/// Where the portal finds one attachment's bytes: the tus upload that carried them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadRef {
    /// The attachment's SHA-256 as in the manifest.
    pub sha256: String,
    /// The tus upload URL the portal gave at creation.
    pub location: String,
}

/// The body of `POST v1/dossiers` (sent with `Idempotency-Key` = the manifest's `jti`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    pub manifest: String,
    #[serde(default)]
    pub uploads: Vec<UploadRef>,
}

impl std::fmt::Debug for SubmitRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The compact manifest carries the form values (base64url is not a disguise).
        f.debug_struct("SubmitRequest")
            .field("manifest_chars", &self.manifest.len())
            .field("uploads", &self.uploads.len())
            .finish()
    }
}

/// The portal's answer: `201` the first time, `200` with the same body for a repeat.
/// For a supplement, `receipt_code` is the original dossier's.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitResponse {
    /// The receipt code the citizen quotes to the agency (e.g. `HS-2026-000042`).
    pub receipt_code: String,
    /// The dossier's status at the portal (`received`).
    pub status: String,
    pub received_at: i64,
    /// The bearer token of this device's status feed (`GET v1/dossiers/changes`): the portal
    /// gives one per device key, the same for each of its dossiers. A secret: `Debug` hides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_token: Option<String>,
}

impl std::fmt::Debug for SubmitResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubmitResponse")
            .field("receipt_code", &self.receipt_code)
            .field("status", &self.status)
            .field("received_at", &self.received_at)
            .field("status_token", &self.status_token.as_ref().map(|_| ".."))
            .finish()
    }
}

impl SubmitResponse {
    /// Bounds and formats: a receipt code is 1 to 40 characters of `[A-Za-z0-9-]`; a status
    /// token 16 to 128 characters of base64url.
    pub fn check(&self) -> Result<(), ManifestError> {
        if !is_portal_id(&self.receipt_code) {
            return Err(ManifestError::Invalid("receipt_code"));
        }
        if self.status.is_empty() || self.status.len() > 32 {
            return Err(ManifestError::Invalid("status"));
        }
        if let Some(token) = &self.status_token
            && !is_status_token(token)
        {
            return Err(ManifestError::Invalid("status_token"));
        }
        Ok(())
    }
}

/// A status feed token: 16 to 128 characters of base64url.
pub fn is_status_token(text: &str) -> bool {
    (16..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The JWS `typ` of a withdrawal request.
pub const WITHDRAWAL_TYP: &str = "dossier-withdrawal+jwt";
/// Where withdrawal requests go, below the portal's base URL (with `Idempotency-Key` = the
/// request's `jti`).
pub const WITHDRAWAL_PATH: &str = "v1/dossiers/withdrawals";
/// The longest reason a citizen may give for withdrawing, in characters.
pub const MAX_WITHDRAWAL_REASON_CHARS: usize = 500;

/// What the citizen signs to withdraw a dossier the portal has: signed like a manifest (device
/// key, `jwk` header), so only the device that filed a dossier can withdraw it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalRequest {
    /// This request's id, and its `Idempotency-Key`.
    pub jti: String,
    pub iat: i64,
    /// The dossier to withdraw (its manifest's `jti`).
    pub dossier_id: String,
    /// The citizen's reason, if they gave one (free text: `Debug` hides it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl std::fmt::Debug for WithdrawalRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WithdrawalRequest")
            .field("jti", &self.jti)
            .field("iat", &self.iat)
            .field("dossier_id", &self.dossier_id)
            .field("reason", &self.reason.as_ref().map(|_| ".."))
            .finish()
    }
}

impl WithdrawalRequest {
    pub fn check(&self) -> Result<(), ManifestError> {
        if !is_dossier_id(&self.jti) || self.jti == self.dossier_id {
            return Err(ManifestError::Invalid("jti"));
        }
        if self.iat <= 0 {
            return Err(ManifestError::Invalid("iat"));
        }
        if !is_dossier_id(&self.dossier_id) {
            return Err(ManifestError::Invalid("dossier_id"));
        }
        if self
            .reason
            .as_ref()
            .is_some_and(|r| r.chars().count() > MAX_WITHDRAWAL_REASON_CHARS)
        {
            return Err(ManifestError::Invalid("reason"));
        }
        Ok(())
    }
}

/// The body of `POST v1/dossiers/withdrawals`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalBody {
    /// The compact JWS of a [`WithdrawalRequest`].
    pub request: String,
}

/// The portal's answer to a withdrawal request: `202` the first time (the clerk withdraws the
/// dossier and the status feed reports `withdrawn`), `200` with the same body for a repeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawalResponse {
    pub receipt_code: String,
    /// `withdrawal_requested`.
    pub status: String,
}

/// Signs a withdrawal request with the device key, like [`sign`].
pub fn sign_withdrawal(
    request: &WithdrawalRequest,
    signer: &dyn JwsSigner,
) -> Result<String, ManifestError> {
    request.check()?;
    let payload = serde_json::to_vec(request).map_err(|_| ManifestError::Malformed)?;
    sign_with_key_header(WITHDRAWAL_TYP, &payload, signer)
}

/// Verifies a withdrawal request against the key in its own header, like [`verify`].
pub fn verify_withdrawal(compact: &str) -> Result<(WithdrawalRequest, EcPublicJwk), ManifestError> {
    let (payload, key) = verify_with_key_header(WITHDRAWAL_TYP, compact)?;
    let request: WithdrawalRequest =
        serde_json::from_slice(&payload).map_err(|_| ManifestError::Malformed)?;
    request.check()?;
    Ok((request, key))
}

/// A refusal's body: `{"error": code, ...}`. The code is what the outbox parks with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

/// The error code of a refusal body, if it is one and the code is a plain machine code.
pub fn error_code(body: &[u8]) -> Option<String> {
    let parsed: ErrorBody = serde_json::from_slice(body).ok()?;
    let plain = (1..=64).contains(&parsed.error.len())
        && parsed
            .error
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    plain.then_some(parsed.error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::SoftwareSigner;

    fn manifest() -> Manifest {
        Manifest {
            jti: "AAAAAAAAAAAAAAAAAAAAAA".into(),
            iat: 1_790_000_000,
            procedure: ProcedureRef {
                code: "1.001193".into(),
                version: 3,
            },
            form: BTreeMap::from([("ho_ten".to_string(), "Nguyễn Văn An".to_string())]),
            attachments: vec![AttachmentDigest {
                kind: "to_khai".into(),
                media_type: "application/pdf".into(),
                size: 1234,
                sha256: jose::base64url::encode([7u8; 32]),
            }],
            supplement: None,
        }
    }

    #[test]
    fn a_signed_manifest_verifies_with_the_key_in_its_header() {
        let signer = SoftwareSigner::generate().unwrap();
        let compact = sign(&manifest(), &signer).unwrap();
        let (back, key) = verify(&compact).unwrap();
        assert_eq!(back, manifest());
        assert_eq!(key, signer.public_jwk().unwrap());
    }

    #[test]
    fn a_tampered_manifest_or_a_swapped_key_is_refused() {
        let signer = SoftwareSigner::generate().unwrap();
        let other = SoftwareSigner::generate().unwrap();
        let compact = sign(&manifest(), &signer).unwrap();
        let parts: Vec<&str> = compact.split('.').collect();

        // Another payload under the same signature (a changed form value).
        let mut changed = manifest();
        changed.form.insert("ho_ten".into(), "Trần Thị B".into());
        let payload = jose::base64url::encode(serde_json::to_vec(&changed).unwrap());
        let forged = format!("{}.{}.{}", parts[0], payload, parts[2]);
        assert_eq!(verify(&forged).unwrap_err(), ManifestError::BadSignature);

        // The attacker's key in the header, the citizen's signature.
        let mut header = Map::new();
        header.insert("typ".into(), Value::from(MANIFEST_TYP));
        header.insert("jwk".into(), other.public_jwk().unwrap().to_value());
        header.insert("alg".into(), Value::from("ES256"));
        let header = jose::base64url::encode(serde_json::to_vec(&header).unwrap());
        let swapped = format!("{}.{}.{}", header, parts[1], parts[2]);
        assert_eq!(verify(&swapped).unwrap_err(), ManifestError::BadSignature);

        // No key at all.
        let bare = jose::sign_compact(
            &Map::from_iter([("typ".to_string(), Value::from(MANIFEST_TYP))]),
            &serde_json::to_vec(&manifest()).unwrap(),
            &signer,
        )
        .unwrap();
        assert_eq!(verify(&bare).unwrap_err(), ManifestError::MissingKey);

        // Another type of token signed by the same key.
        let jwt = jose::sign_compact(
            &Map::from_iter([
                ("typ".to_string(), Value::from("JWT")),
                ("jwk".to_string(), signer.public_jwk().unwrap().to_value()),
            ]),
            &serde_json::to_vec(&manifest()).unwrap(),
            &signer,
        )
        .unwrap();
        assert_eq!(verify(&jwt).unwrap_err(), ManifestError::WrongType);
        assert_eq!(verify("a.b").unwrap_err(), ManifestError::Malformed);
        assert_eq!(
            verify(&"a".repeat(MAX_MANIFEST_BYTES + 1)).unwrap_err(),
            ManifestError::TooLarge
        );
    }

    #[test]
    fn a_withdrawal_verifies_only_as_itself_and_only_untampered() {
        let signer = SoftwareSigner::generate().unwrap();
        let request = WithdrawalRequest {
            jti: "BBBBBBBBBBBBBBBBBBBBBB".into(),
            iat: 1_790_000_000,
            dossier_id: "AAAAAAAAAAAAAAAAAAAAAA".into(),
            reason: Some("Tôi nộp nhầm thủ tục".into()),
        };
        let compact = sign_withdrawal(&request, &signer).unwrap();
        let (back, key) = verify_withdrawal(&compact).unwrap();
        assert_eq!(back, request);
        assert_eq!(key, signer.public_jwk().unwrap());
        assert!(!format!("{request:?}").contains("nhầm"));
        // A manifest is not a withdrawal, nor the other way round.
        let manifest_compact = sign(&manifest(), &signer).unwrap();
        assert_eq!(
            verify_withdrawal(&manifest_compact).unwrap_err(),
            ManifestError::WrongType
        );
        assert_eq!(verify(&compact).unwrap_err(), ManifestError::WrongType);
        // Another dossier under the same signature.
        let parts: Vec<&str> = compact.split('.').collect();
        let mut other = request.clone();
        other.dossier_id = "CCCCCCCCCCCCCCCCCCCCCC".into();
        let payload = jose::base64url::encode(serde_json::to_vec(&other).unwrap());
        let forged = format!("{}.{}.{}", parts[0], payload, parts[2]);
        assert_eq!(
            verify_withdrawal(&forged).unwrap_err(),
            ManifestError::BadSignature
        );
        // A request that names itself as the dossier.
        let mut bad = request;
        bad.jti = bad.dossier_id.clone();
        assert_eq!(
            sign_withdrawal(&bad, &signer).unwrap_err(),
            ManifestError::Invalid("jti")
        );
    }

    #[test]
    fn a_supplement_manifest_names_another_dossier_and_a_portal_request() {
        let signer = SoftwareSigner::generate().unwrap();
        let mut supplement = manifest();
        supplement.jti = "BBBBBBBBBBBBBBBBBBBBBB".into();
        supplement.supplement = Some(SupplementRef {
            dossier_id: "AAAAAAAAAAAAAAAAAAAAAA".into(),
            request_id: "SR-1".into(),
        });
        let (back, _) = verify(&sign(&supplement, &signer).unwrap()).unwrap();
        assert_eq!(back.supplement, supplement.supplement);
        let mut own = supplement.clone();
        own.supplement.as_mut().unwrap().dossier_id = own.jti.clone();
        assert_eq!(
            sign(&own, &signer).unwrap_err(),
            ManifestError::Invalid("supplement")
        );
        let mut bad = supplement;
        bad.supplement.as_mut().unwrap().request_id = "SR 1/..".into();
        assert_eq!(
            sign(&bad, &signer).unwrap_err(),
            ManifestError::Invalid("supplement")
        );
        // A dossier manifest serialises without the member, as before.
        let json = serde_json::to_string(&manifest()).unwrap();
        assert!(!json.contains("supplement"), "{json}");
    }

    #[test]
    fn bounds_are_checked_before_signing() {
        let signer = SoftwareSigner::generate().unwrap();
        let mut bad = manifest();
        bad.jti = "short".into();
        assert_eq!(
            sign(&bad, &signer).unwrap_err(),
            ManifestError::Invalid("jti")
        );
        let mut bad = manifest();
        bad.attachments[0].sha256 = "not a digest".into();
        assert_eq!(
            sign(&bad, &signer).unwrap_err(),
            ManifestError::Invalid("attachments")
        );
        let mut bad = manifest();
        bad.form.insert("x".into(), "v".repeat(MAX_VALUE_CHARS + 1));
        assert_eq!(
            sign(&bad, &signer).unwrap_err(),
            ManifestError::Invalid("form")
        );
    }

    #[test]
    fn debug_leaves_out_form_values() {
        let text = format!("{:?}", manifest());
        assert!(!text.contains("Nguyễn"), "{text}");
        let signer = SoftwareSigner::generate().unwrap();
        let compact = sign(&manifest(), &signer).unwrap();
        let payload = compact.split('.').nth(1).unwrap().to_owned();
        let request = SubmitRequest {
            manifest: compact,
            uploads: vec![],
        };
        let text = format!("{request:?}");
        assert!(!text.contains(&payload), "{text}");
    }

    #[test]
    fn receipts_and_error_codes_are_plain() {
        let ok = SubmitResponse {
            receipt_code: "HS-2026-000042".into(),
            status: "received".into(),
            received_at: 1,
            status_token: Some("t".repeat(32)),
        };
        assert!(!format!("{ok:?}").contains(&"t".repeat(32)));
        assert!(ok.check().is_ok());
        let bad = SubmitResponse {
            receipt_code: "<script>".into(),
            ..ok
        };
        assert!(bad.check().is_err());
        assert_eq!(
            error_code(br#"{"error":"validation_failed","fields":["a"]}"#).as_deref(),
            Some("validation_failed")
        );
        assert_eq!(error_code(r#"{"error":"Nguyễn"}"#.as_bytes()), None);
        assert_eq!(error_code(b"<html>"), None);
    }
}
