//! Verification (RFC 9901 §7): issuer signature, disclosures, validity, key binding.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde_json::{Map, Value};

use super::disclosure::digest;
use super::error::SdJwtError;
use super::parse::SdJwt;
use super::{KB_JWT_TYP, Limits, NEVER_DISCLOSABLE, SD_ALG, SD_JWT_VC_TYP};
use crate::jose::EcPublicJwk;

/// Whether a key binding JWT must be present, and what it must be bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyBinding<'a> {
    /// A KB-JWT must be present, signed by the key in `cnf.jwk`, over this presentation, for this
    /// audience and nonce, and fresh.
    Required { audience: &'a str, nonce: &'a str },
    /// No KB-JWT is needed (an issued credential, or a verifier that asks for none). One that is
    /// present anyway is still checked: signature, `sd_hash` and freshness, but not `aud` or
    /// `nonce`.
    NotRequired,
}

/// How to verify an SD-JWT.
#[derive(Debug, Clone)]
pub struct VerifyOptions<'a> {
    /// The issuer's key (the caller chooses it: nothing in the token picks a key).
    pub issuer_key: &'a EcPublicJwk,
    /// The issuer-signed JWT's `typ`, when one is required (compared as RFC 7515 says).
    pub expected_typ: Option<&'a str>,
    /// Require a `vct` string claim (SD-JWT VC).
    pub require_vct: bool,
    pub key_binding: KeyBinding<'a>,
    /// The verifier's clock, in seconds since the Unix epoch.
    pub now: i64,
    /// How far the holder's and issuer's clocks may be from `now`, in seconds.
    pub clock_skew_secs: i64,
    /// How old a KB-JWT's `iat` may be, in seconds (plus the skew).
    pub kb_max_age_secs: i64,
    pub limits: Limits,
}

impl<'a> VerifyOptions<'a> {
    /// Plain SD-JWT, no key binding, 60 s of skew, KB-JWTs valid for 5 minutes, default limits.
    pub fn new(issuer_key: &'a EcPublicJwk, now: i64) -> Self {
        Self {
            issuer_key,
            expected_typ: None,
            require_vct: false,
            key_binding: KeyBinding::NotRequired,
            now,
            clock_skew_secs: 60,
            kb_max_age_secs: 300,
            limits: Limits::default(),
        }
    }

    /// An SD-JWT VC: `typ` `dc+sd-jwt` and a `vct` claim.
    pub fn sd_jwt_vc(mut self) -> Self {
        self.expected_typ = Some(SD_JWT_VC_TYP);
        self.require_vct = true;
        self
    }

    /// Requires a key binding JWT for `audience` and `nonce`.
    pub fn require_key_binding(mut self, audience: &'a str, nonce: &'a str) -> Self {
        self.key_binding = KeyBinding::Required { audience, nonce };
        self
    }
}

/// What a verified KB-JWT said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyBindingClaims {
    pub audience: String,
    pub nonce: String,
    pub issued_at: i64,
}

/// A verified SD-JWT: the issuer's claims with the presented disclosures in place, `_sd`,
/// `_sd_alg` and `...` gone, and undisclosed array elements left out.
#[derive(Clone, PartialEq)]
pub struct Verified {
    /// The processed claims (a JSON object). Personal data: `Debug` shows only the claim names.
    pub claims: Value,
    /// The key binding, when a KB-JWT was present.
    pub key_binding: Option<KeyBindingClaims>,
}

impl fmt::Debug for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self
            .claims
            .as_object()
            .map(|claims| claims.keys().map(String::as_str).collect())
            .unwrap_or_default();
        f.debug_struct("Verified")
            .field("claim_names", &names)
            .field("key_binding", &self.key_binding)
            .finish()
    }
}

/// Parses and verifies a compact SD-JWT or SD-JWT+KB.
pub fn verify(text: &str, options: &VerifyOptions<'_>) -> Result<Verified, SdJwtError> {
    SdJwt::parse(text, &options.limits)?.verify(options)
}

impl SdJwt {
    /// Verifies this SD-JWT:
    /// 1. the issuer-signed JWT: `typ` if one is expected, ES256 signature by the issuer key;
    /// 2. `_sd_alg` absent or `sha-256` (and only at the top level);
    /// 3. every disclosure referenced exactly once, every digest used at most once, disclosures
    ///    of the right kind (property or array element), no claim name twice in one object, no
    ///    reserved claim disclosed, nesting within the limit;
    /// 4. `exp` and `nbf` against `now` (with the skew); `vct` for SD-JWT VC;
    /// 5. the KB-JWT when present or required: `typ` `kb+jwt`, signature by `cnf.jwk`, `sd_hash`
    ///    over the presented SD-JWT, `aud` and `nonce` when required, `iat` within
    ///    `[now - max_age - skew, now + skew]`.
    pub fn verify(&self, options: &VerifyOptions<'_>) -> Result<Verified, SdJwtError> {
        let jwt = self.issuer_jwt();
        if let Some(expected) = options.expected_typ {
            jwt.check_typ(expected).map_err(SdJwtError::IssuerJwt)?;
        }
        jwt.verify(options.issuer_key)
            .map_err(SdJwtError::IssuerJwt)?;
        let mut payload = jwt.claims().map_err(SdJwtError::IssuerJwt)?;

        match payload.remove("_sd_alg") {
            None => {}
            Some(Value::String(alg)) if alg == SD_ALG => {}
            Some(_) => return Err(SdJwtError::UnsupportedSdAlg),
        }

        let mut by_digest = HashMap::with_capacity(self.disclosures().len());
        for (index, disclosure) in self.disclosures().iter().enumerate() {
            if by_digest.insert(disclosure.digest(), index).is_some() {
                return Err(SdJwtError::DuplicateDisclosure);
            }
        }
        let mut processor = Processor {
            sd_jwt: self,
            by_digest,
            used: vec![false; self.disclosures().len()],
            seen: HashSet::new(),
            max_depth: options.limits.max_depth,
        };
        let claims = processor.object(payload, 0)?;
        if processor.used.contains(&false) {
            return Err(SdJwtError::UnreferencedDisclosure);
        }

        check_validity(&claims, options)?;
        if options.require_vct && !matches!(claims.get("vct"), Some(Value::String(_))) {
            return Err(SdJwtError::MissingVct);
        }

        let key_binding = match (self.key_binding_jwt(), options.key_binding) {
            (None, KeyBinding::Required { .. }) => return Err(SdJwtError::KeyBindingMissing),
            (None, KeyBinding::NotRequired) => None,
            (Some(_), _) => Some(self.verify_key_binding(&claims, options)?),
        };
        Ok(Verified {
            claims: Value::Object(claims),
            key_binding,
        })
    }

    fn verify_key_binding(
        &self,
        claims: &Map<String, Value>,
        options: &VerifyOptions<'_>,
    ) -> Result<KeyBindingClaims, SdJwtError> {
        let Some(kb) = self.key_binding_jwt() else {
            return Err(SdJwtError::KeyBindingMissing);
        };
        kb.check_typ(KB_JWT_TYP).map_err(SdJwtError::KbJwt)?;
        let holder_key = holder_key(claims)?;
        kb.verify(&holder_key).map_err(SdJwtError::KbJwt)?;
        let kb_claims = kb.claims().map_err(SdJwtError::KbJwt)?;

        let string = |name: &'static str| match kb_claims.get(name) {
            Some(Value::String(value)) => Ok(value.as_str()),
            _ => Err(SdJwtError::KbClaim(name)),
        };
        let sd_hash = string("sd_hash")?;
        let audience = string("aud")?;
        let nonce = string("nonce")?;
        let issued_at = kb_claims
            .get("iat")
            .and_then(Value::as_i64)
            .ok_or(SdJwtError::KbClaim("iat"))?;

        if sd_hash != digest(self.presented_sd_jwt()) {
            return Err(SdJwtError::SdHashMismatch);
        }
        if let KeyBinding::Required {
            audience: expected_audience,
            nonce: expected_nonce,
        } = options.key_binding
        {
            if audience != expected_audience {
                return Err(SdJwtError::AudienceMismatch);
            }
            if nonce != expected_nonce {
                return Err(SdJwtError::NonceMismatch);
            }
        }
        let skew = options.clock_skew_secs.max(0);
        if issued_at > options.now.saturating_add(skew) {
            return Err(SdJwtError::KbInFuture);
        }
        let oldest = options
            .now
            .saturating_sub(options.kb_max_age_secs.max(0))
            .saturating_sub(skew);
        if issued_at < oldest {
            return Err(SdJwtError::KbStale);
        }
        Ok(KeyBindingClaims {
            audience: audience.to_owned(),
            nonce: nonce.to_owned(),
            issued_at,
        })
    }
}

/// The holder key the issuer bound the SD-JWT to.
pub(super) fn holder_key(claims: &Map<String, Value>) -> Result<EcPublicJwk, SdJwtError> {
    let jwk = claims
        .get("cnf")
        .and_then(|cnf| cnf.get("jwk"))
        .ok_or(SdJwtError::MissingHolderKey)?;
    EcPublicJwk::from_value(jwk).map_err(SdJwtError::HolderKey)
}

fn check_validity(
    claims: &Map<String, Value>,
    options: &VerifyOptions<'_>,
) -> Result<(), SdJwtError> {
    let time = |name: &'static str| -> Result<Option<i64>, SdJwtError> {
        match claims.get(name) {
            None => Ok(None),
            Some(value) => value
                .as_i64()
                // NumericDate may have a fraction: a whole second is enough here.
                .or_else(|| value.as_f64().filter(|v| v.is_finite()).map(|v| v as i64))
                .map(Some)
                .ok_or(SdJwtError::InvalidTimeClaim(name)),
        }
    };
    let skew = options.clock_skew_secs.max(0);
    if let Some(exp) = time("exp")?
        && options.now.saturating_sub(skew) >= exp
    {
        return Err(SdJwtError::Expired);
    }
    if let Some(nbf) = time("nbf")?
        && options.now.saturating_add(skew) < nbf
    {
        return Err(SdJwtError::NotYetValid);
    }
    Ok(())
}

struct Processor<'a> {
    sd_jwt: &'a SdJwt,
    by_digest: HashMap<&'a str, usize>,
    used: Vec<bool>,
    /// Every digest met so far, referenced or not: none may appear twice.
    seen: HashSet<String>,
    max_depth: usize,
}

impl Processor<'_> {
    fn value(&mut self, value: Value, depth: usize) -> Result<Value, SdJwtError> {
        match value {
            Value::Object(object) => self.object(object, depth).map(Value::Object),
            Value::Array(items) => self.array(items, depth).map(Value::Array),
            other => Ok(other),
        }
    }

    fn check_depth(&self, depth: usize) -> Result<(), SdJwtError> {
        if depth > self.max_depth {
            return Err(SdJwtError::TooDeep {
                max: self.max_depth,
            });
        }
        Ok(())
    }

    /// A digest seen for the first time, and the index of the disclosure it references.
    fn reference(&mut self, digest: &str) -> Result<Option<usize>, SdJwtError> {
        if !self.seen.insert(digest.to_owned()) {
            return Err(SdJwtError::DuplicateDigest);
        }
        let index = self.by_digest.get(digest).copied();
        if let Some(index) = index {
            self.used[index] = true;
        }
        Ok(index)
    }

    fn object(
        &mut self,
        mut object: Map<String, Value>,
        depth: usize,
    ) -> Result<Map<String, Value>, SdJwtError> {
        self.check_depth(depth)?;
        let digests = object.remove("_sd");
        if object.contains_key("...") {
            return Err(SdJwtError::MisplacedArrayDigest);
        }
        if object.contains_key("_sd_alg") {
            return Err(SdJwtError::MisplacedSdAlg);
        }
        let mut out = Map::new();
        for (name, value) in object {
            let value = self.value(value, depth + 1)?;
            out.insert(name, value);
        }
        let Some(digests) = digests else {
            return Ok(out);
        };
        let Value::Array(digests) = digests else {
            return Err(SdJwtError::InvalidDigests);
        };
        for digest in digests {
            let Value::String(digest) = digest else {
                return Err(SdJwtError::InvalidDigests);
            };
            let Some(index) = self.reference(&digest)? else {
                continue; // a decoy, or a claim the holder did not disclose
            };
            let disclosure = &self.sd_jwt.disclosures()[index];
            let Some(name) = disclosure.name() else {
                return Err(SdJwtError::DisclosureKindMismatch);
            };
            if name == "_sd_alg" || (depth == 0 && NEVER_DISCLOSABLE.contains(&name)) {
                return Err(SdJwtError::ReservedClaimDisclosed);
            }
            if out.contains_key(name) {
                return Err(SdJwtError::ClaimNameCollision);
            }
            let name = name.to_owned();
            let value = self.value(disclosure.value().clone(), depth + 1)?;
            out.insert(name, value);
        }
        Ok(out)
    }

    fn array(&mut self, items: Vec<Value>, depth: usize) -> Result<Vec<Value>, SdJwtError> {
        self.check_depth(depth)?;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let digest = match &item {
                Value::Object(object) if object.contains_key("...") => {
                    if object.len() != 1 {
                        return Err(SdJwtError::MisplacedArrayDigest);
                    }
                    match object.get("...") {
                        Some(Value::String(digest)) => Some(digest.clone()),
                        _ => return Err(SdJwtError::InvalidDigests),
                    }
                }
                _ => None,
            };
            let Some(digest) = digest else {
                out.push(self.value(item, depth + 1)?);
                continue;
            };
            let Some(index) = self.reference(&digest)? else {
                continue; // a decoy, or an element the holder did not disclose
            };
            let disclosure = &self.sd_jwt.disclosures()[index];
            if disclosure.name().is_some() {
                return Err(SdJwtError::DisclosureKindMismatch);
            }
            let value = self.value(disclosure.value().clone(), depth + 1)?;
            out.push(value);
        }
        Ok(out)
    }
}
