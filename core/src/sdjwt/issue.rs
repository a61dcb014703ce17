//! Issuance: claims plus the paths of the selectively disclosable ones → a signed SD-JWT.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::disclosure::{Disclosure, random_bytes};
use super::error::SdJwtError;
use super::path::{ClaimPath, PathStep};
use super::{Limits, NEVER_DISCLOSABLE, SD_ALG, is_sd_reserved};
use crate::jose::{EcPublicJwk, JwsSigner, base64url, sha256, sign_compact};

/// What to issue besides the claims.
#[derive(Debug, Clone, Default)]
pub struct IssueOptions {
    /// The claims to make selectively disclosable. A path below another one makes a claim
    /// disclosable inside its disclosable parent (recursive disclosure). An array path ending in
    /// [`PathStep::AllElements`] makes every element disclosable.
    pub disclosable: Vec<ClaimPath>,
    /// The holder's key, put in `cnf.jwk` so presentations can carry key binding.
    pub holder_key: Option<EcPublicJwk>,
    /// The JWS `typ`: `dc+sd-jwt` for an SD-JWT VC.
    pub typ: Option<String>,
    /// The JWS `kid`, naming the issuer key for verifiers.
    pub kid: Option<String>,
    /// Decoy digests added to every `_sd` array and every array with disclosable elements, so the
    /// number of disclosable claims does not show.
    pub decoys_per_container: usize,
}

/// An issued SD-JWT: `<issuer-signed JWT>~<disclosure>~...~`, every disclosure included.
/// Personal data: `Debug` shows only the number of disclosures.
#[derive(Clone)]
pub struct IssuedSdJwt {
    /// The compact serialization, as handed to the holder.
    pub sd_jwt: String,
    /// The disclosures, in the order they appear in [`IssuedSdJwt::sd_jwt`].
    pub disclosures: Vec<Disclosure>,
}

impl std::fmt::Debug for IssuedSdJwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedSdJwt")
            .field("disclosures", &self.disclosures.len())
            .finish_non_exhaustive()
    }
}

/// Issues `claims` as an SD-JWT signed by `signer`, with `_sd_alg` `sha-256`.
///
/// Refused: claims that use `_sd`, `...` or `_sd_alg` anywhere; a disclosable path that is not in
/// the claims; a top-level claim that must stay visible (`iss`, `nbf`, `exp`, `cnf`, `vct`,
/// `vct#integrity`, `status`) marked disclosable; `cnf` in the claims when a holder key is given.
pub fn issue(
    claims: &Map<String, Value>,
    options: &IssueOptions,
    signer: &dyn JwsSigner,
) -> Result<IssuedSdJwt, SdJwtError> {
    let max_depth = Limits::default().max_depth;
    for value in claims.values() {
        refuse_reserved_names(value, 1, max_depth)?;
    }
    if claims.keys().any(|name| is_sd_reserved(name)) {
        return Err(SdJwtError::ReservedClaimName);
    }
    let mut spec = SpecNode::default();
    for path in &options.disclosable {
        if path.is_empty() {
            return Err(SdJwtError::PathMismatch(
                "an empty path cannot be disclosable",
            ));
        }
        // Neither these claims nor anything inside them (`cnf.jwk`, `status.status_list`).
        if let Some(PathStep::Key(name)) = path.steps().first()
            && NEVER_DISCLOSABLE.contains(&name.as_str())
        {
            return Err(SdJwtError::NotDisclosable);
        }
        spec.insert(path.steps());
    }
    let mut builder = Builder {
        disclosures: Vec::new(),
        decoys: options.decoys_per_container,
    };
    let mut payload = builder.object(claims, &spec)?;
    payload.insert("_sd_alg".into(), Value::from(SD_ALG));
    if let Some(holder_key) = &options.holder_key {
        if payload.contains_key("cnf") {
            return Err(SdJwtError::CnfConflict);
        }
        let mut cnf = Map::new();
        cnf.insert("jwk".into(), holder_key.to_value());
        payload.insert("cnf".into(), Value::Object(cnf));
    }

    let mut header = Map::new();
    if let Some(typ) = &options.typ {
        header.insert("typ".into(), Value::from(typ.as_str()));
    }
    if let Some(kid) = &options.kid {
        header.insert("kid".into(), Value::from(kid.as_str()));
    }
    let payload_json = Value::Object(payload).to_string();
    let jwt =
        sign_compact(&header, payload_json.as_bytes(), signer).map_err(SdJwtError::Signing)?;
    let mut sd_jwt = jwt;
    sd_jwt.push('~');
    for disclosure in &builder.disclosures {
        sd_jwt.push_str(disclosure.encoded());
        sd_jwt.push('~');
    }
    Ok(IssuedSdJwt {
        sd_jwt,
        disclosures: builder.disclosures,
    })
}

/// Refuses SD-JWT's own names anywhere in the claims, and nesting a verifier would refuse.
fn refuse_reserved_names(value: &Value, depth: usize, max_depth: usize) -> Result<(), SdJwtError> {
    let nested = |member| refuse_reserved_names(member, depth + 1, max_depth);
    match value {
        Value::Object(_) | Value::Array(_) if depth > max_depth => {
            Err(SdJwtError::TooDeep { max: max_depth })
        }
        Value::Object(object) => {
            if object.keys().any(|name| is_sd_reserved(name)) {
                return Err(SdJwtError::ReservedClaimName);
            }
            object.values().try_for_each(nested)
        }
        Value::Array(items) => items.iter().try_for_each(nested),
        _ => Ok(()),
    }
}

/// The disclosable paths as a tree that mirrors the claims.
#[derive(Debug, Clone, Default)]
struct SpecNode {
    disclosable: bool,
    members: BTreeMap<String, SpecNode>,
    elements: BTreeMap<usize, SpecNode>,
    every_element: Option<Box<SpecNode>>,
}

impl SpecNode {
    fn insert(&mut self, steps: &[PathStep]) {
        let Some((first, rest)) = steps.split_first() else {
            self.disclosable = true;
            return;
        };
        let child = match first {
            PathStep::Key(name) => self.members.entry(name.clone()).or_default(),
            PathStep::Index(index) => self.elements.entry(*index).or_default(),
            PathStep::AllElements => self.every_element.get_or_insert_with(Default::default),
        };
        child.insert(rest);
    }

    fn is_leaf(&self) -> bool {
        self.members.is_empty() && self.elements.is_empty() && self.every_element.is_none()
    }

    /// The spec of element `index`: its own merged with the one for every element.
    fn element(&self, index: usize) -> Option<SpecNode> {
        match (self.elements.get(&index), &self.every_element) {
            (None, None) => None,
            (Some(own), None) => Some(own.clone()),
            (None, Some(every)) => Some((**every).clone()),
            (Some(own), Some(every)) => Some(own.merged(every)),
        }
    }

    fn merged(&self, other: &SpecNode) -> SpecNode {
        let mut merged = self.clone();
        merged.disclosable |= other.disclosable;
        for (name, node) in &other.members {
            let entry = merged.members.entry(name.clone()).or_default();
            *entry = entry.merged(node);
        }
        for (index, node) in &other.elements {
            let entry = merged.elements.entry(*index).or_default();
            *entry = entry.merged(node);
        }
        merged.every_element = match (&merged.every_element, &other.every_element) {
            (Some(a), Some(b)) => Some(Box::new(a.merged(b))),
            (a, b) => a.clone().or_else(|| b.clone()),
        };
        merged
    }
}

struct Builder {
    disclosures: Vec<Disclosure>,
    decoys: usize,
}

impl Builder {
    fn value(&mut self, value: &Value, spec: &SpecNode) -> Result<Value, SdJwtError> {
        match value {
            Value::Object(object) => self.object(object, spec).map(Value::Object),
            Value::Array(items) => self.array(items, spec).map(Value::Array),
            _ if spec.is_leaf() => Ok(value.clone()),
            _ => Err(SdJwtError::PathMismatch(
                "a path goes below a claim that is neither an object nor an array",
            )),
        }
    }

    fn object(
        &mut self,
        object: &Map<String, Value>,
        spec: &SpecNode,
    ) -> Result<Map<String, Value>, SdJwtError> {
        if !spec.elements.is_empty() || spec.every_element.is_some() {
            return Err(SdJwtError::PathMismatch("an array step names an object"));
        }
        if spec.members.keys().any(|name| !object.contains_key(name)) {
            return Err(SdJwtError::PathMismatch(
                "a path names a claim that is not there",
            ));
        }
        let mut out = Map::new();
        let mut digests = Vec::new();
        for (name, value) in object {
            let Some(child) = spec.members.get(name) else {
                out.insert(name.clone(), value.clone());
                continue;
            };
            // Inner claims first: a disclosable parent's disclosure holds its children's digests.
            let processed = self.value(value, child)?;
            if child.disclosable {
                let disclosure = Disclosure::new_property(name, processed)?;
                digests.push(disclosure.digest().to_owned());
                self.disclosures.push(disclosure);
            } else {
                out.insert(name.clone(), processed);
            }
        }
        if !digests.is_empty() {
            for _ in 0..self.decoys {
                digests.push(decoy_digest()?);
            }
            // Sorted, so the order of the digests says nothing about the order of the claims.
            digests.sort();
            out.insert(
                "_sd".into(),
                Value::Array(digests.into_iter().map(Value::String).collect()),
            );
        }
        Ok(out)
    }

    fn array(&mut self, items: &[Value], spec: &SpecNode) -> Result<Vec<Value>, SdJwtError> {
        if !spec.members.is_empty() {
            return Err(SdJwtError::PathMismatch(
                "a member name step names an array",
            ));
        }
        if spec.elements.keys().any(|index| *index >= items.len()) {
            return Err(SdJwtError::PathMismatch(
                "an index is past the end of an array",
            ));
        }
        let mut out = Vec::with_capacity(items.len());
        let mut any_disclosable = false;
        for (index, item) in items.iter().enumerate() {
            let Some(child) = spec.element(index) else {
                out.push(item.clone());
                continue;
            };
            let processed = self.value(item, &child)?;
            if child.disclosable {
                let disclosure = Disclosure::new_element(processed)?;
                out.push(array_digest(disclosure.digest().to_owned()));
                self.disclosures.push(disclosure);
                any_disclosable = true;
            } else {
                out.push(processed);
            }
        }
        if any_disclosable {
            for _ in 0..self.decoys {
                let [a, b, c, d] = random_bytes::<4>()?;
                let position = u32::from_le_bytes([a, b, c, d]) as usize % (out.len() + 1);
                out.insert(position, array_digest(decoy_digest()?));
            }
        }
        Ok(out)
    }
}

fn array_digest(digest: String) -> Value {
    let mut object = Map::new();
    object.insert("...".into(), Value::String(digest));
    Value::Object(object)
}

/// A digest of random bytes: indistinguishable from a disclosure's, matching none.
fn decoy_digest() -> Result<String, SdJwtError> {
    Ok(base64url::encode(sha256(&random_bytes::<16>()?)))
}
