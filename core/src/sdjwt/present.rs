//! Presentation (RFC 9901 §4.3, §7.2 of the holder): the disclosures for the chosen claims, and
//! a key binding JWT over them.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::KB_JWT_TYP;
use super::disclosure::digest;
use super::error::SdJwtError;
use super::parse::SdJwt;
use super::path::{ClaimPath, PathStep};
use super::verify::holder_key;
use crate::jose::{JwsSigner, sign_compact};

/// What the key binding JWT of a presentation says, and the key that signs it.
pub struct KeyBindingParams<'a> {
    pub audience: &'a str,
    pub nonce: &'a str,
    /// Seconds since the Unix epoch.
    pub issued_at: i64,
    /// The holder key: it must be the one in the SD-JWT's `cnf.jwk`.
    pub signer: &'a dyn JwsSigner,
}

impl SdJwt {
    /// Builds a presentation that discloses the claims at `paths` and nothing else.
    ///
    /// A path selects its claim whole: every disclosure inside it is included, and so is the
    /// disclosure of every disclosable parent on the way to it. Plain claims need no disclosure.
    /// Disclosures keep their order in this SD-JWT. With `key_binding`, a KB-JWT (`typ`
    /// `kb+jwt`, `aud`, `nonce`, `iat`, `sd_hash`) signed by the holder key ends the
    /// presentation; without it, the presentation ends with `~`.
    ///
    /// This does not verify the SD-JWT: the holder does that when storing it.
    pub fn present(
        &self,
        paths: &[ClaimPath],
        key_binding: Option<&KeyBindingParams<'_>>,
    ) -> Result<String, SdJwtError> {
        let payload = self.issuer_jwt().claims().map_err(SdJwtError::IssuerJwt)?;
        let mut selector = Selector {
            sd_jwt: self,
            by_digest: self
                .disclosures()
                .iter()
                .enumerate()
                .map(|(index, disclosure)| (disclosure.digest(), index))
                .collect(),
            selected: BTreeSet::new(),
            max_depth: super::Limits::default().max_depth,
        };
        let root = Value::Object(payload.clone());
        for path in paths {
            if !selector.select(&root, path.steps(), 0)? {
                return Err(SdJwtError::ClaimNotFound);
            }
        }

        let mut presentation = String::from(self.issuer_jwt().as_str());
        presentation.push('~');
        for index in &selector.selected {
            presentation.push_str(self.disclosures()[*index].encoded());
            presentation.push('~');
        }
        if let Some(params) = key_binding {
            let bound = holder_key(&payload)?;
            let signer_key = params
                .signer
                .public_jwk()
                .map_err(|error| SdJwtError::Signing(error.into()))?;
            if signer_key != bound {
                return Err(SdJwtError::HolderKeyMismatch);
            }
            let mut header = Map::new();
            header.insert("typ".into(), Value::from(KB_JWT_TYP));
            let mut claims = Map::new();
            claims.insert("aud".into(), Value::from(params.audience));
            claims.insert("nonce".into(), Value::from(params.nonce));
            claims.insert("iat".into(), Value::from(params.issued_at));
            claims.insert("sd_hash".into(), Value::from(digest(&presentation)));
            let kb_jwt = sign_compact(
                &header,
                Value::Object(claims).to_string().as_bytes(),
                params.signer,
            )
            .map_err(SdJwtError::Signing)?;
            presentation.push_str(&kb_jwt);
        }
        Ok(presentation)
    }
}

struct Selector<'a> {
    sd_jwt: &'a SdJwt,
    by_digest: HashMap<&'a str, usize>,
    selected: BTreeSet<usize>,
    max_depth: usize,
}

/// One element of an object or array as the holder sees it: its value, and the disclosure that
/// reveals it (if it is disclosable).
type Visible<'v> = (&'v Value, Option<usize>);

impl Selector<'_> {
    /// Selects the claim at `steps` below `node`; `false` when there is none.
    fn select(
        &mut self,
        node: &Value,
        steps: &[PathStep],
        depth: usize,
    ) -> Result<bool, SdJwtError> {
        if depth > self.max_depth {
            return Err(SdJwtError::TooDeep {
                max: self.max_depth,
            });
        }
        let Some((step, rest)) = steps.split_first() else {
            self.select_all(node, depth)?;
            return Ok(true);
        };
        let sd_jwt = self.sd_jwt;
        match (node, step) {
            (Value::Object(object), PathStep::Key(name)) => {
                let Some((value, disclosure)) = self.member(sd_jwt, object, name) else {
                    return Ok(false);
                };
                self.descend(value, disclosure, rest, depth)
            }
            (Value::Array(items), PathStep::Index(index)) => {
                let visible = self.elements(sd_jwt, items);
                let Some(&(value, disclosure)) = visible.get(*index) else {
                    return Ok(false);
                };
                self.descend(value, disclosure, rest, depth)
            }
            (Value::Array(items), PathStep::AllElements) => {
                let mut found = false;
                for (value, disclosure) in self.elements(sd_jwt, items) {
                    found |= self.descend(value, disclosure, rest, depth)?;
                }
                Ok(found)
            }
            _ => Ok(false),
        }
    }

    /// Selects below one element, and its disclosure if something below it was selected.
    fn descend(
        &mut self,
        value: &Value,
        disclosure: Option<usize>,
        rest: &[PathStep],
        depth: usize,
    ) -> Result<bool, SdJwtError> {
        let found = self.select(value, rest, depth + 1)?;
        if found && let Some(index) = disclosure {
            self.selected.insert(index);
        }
        Ok(found)
    }

    /// Selects every disclosure inside `node`.
    fn select_all(&mut self, node: &Value, depth: usize) -> Result<(), SdJwtError> {
        if depth > self.max_depth {
            return Err(SdJwtError::TooDeep {
                max: self.max_depth,
            });
        }
        let sd_jwt = self.sd_jwt;
        let visible = match node {
            Value::Object(object) => self.members(sd_jwt, object),
            Value::Array(items) => self.elements(sd_jwt, items),
            _ => return Ok(()),
        };
        for (value, disclosure) in visible {
            match disclosure {
                // Each disclosure is walked once, however often a (malformed) payload names it.
                Some(index) if !self.selected.insert(index) => {}
                _ => self.select_all(value, depth + 1)?,
            }
        }
        Ok(())
    }

    /// The member `name` of `object`: plain, or revealed by one of the holder's disclosures.
    fn member<'v>(
        &self,
        sd_jwt: &'v SdJwt,
        object: &'v Map<String, Value>,
        name: &str,
    ) -> Option<Visible<'v>> {
        if name != "_sd"
            && let Some(value) = object.get(name)
        {
            return Some((value, None));
        }
        self.members(sd_jwt, object)
            .into_iter()
            .find(|(_, disclosure)| {
                disclosure.is_some_and(|index| sd_jwt.disclosures()[index].name() == Some(name))
            })
    }

    /// Every member of `object` the holder can see, plain or disclosable.
    fn members<'v>(&self, sd_jwt: &'v SdJwt, object: &'v Map<String, Value>) -> Vec<Visible<'v>> {
        let mut visible: Vec<Visible<'v>> = object
            .iter()
            .filter(|(name, _)| name.as_str() != "_sd")
            .map(|(_, value)| (value, None))
            .collect();
        if let Some(Value::Array(digests)) = object.get("_sd") {
            for digest in digests.iter().filter_map(Value::as_str) {
                if let Some(&index) = self.by_digest.get(digest) {
                    let disclosure = &sd_jwt.disclosures()[index];
                    if disclosure.name().is_some() {
                        visible.push((disclosure.value(), Some(index)));
                    }
                }
            }
        }
        visible
    }

    /// The elements of `items` the holder can see, in order: plain ones, and `...` placeholders
    /// with a disclosure (decoys and unknown digests are left out).
    fn elements<'v>(&self, sd_jwt: &'v SdJwt, items: &'v [Value]) -> Vec<Visible<'v>> {
        items
            .iter()
            .filter_map(|item| match item {
                Value::Object(object) if object.len() == 1 && object.contains_key("...") => {
                    let index = *self.by_digest.get(object.get("...")?.as_str()?)?;
                    let disclosure = &sd_jwt.disclosures()[index];
                    disclosure
                        .name()
                        .is_none()
                        .then(|| (disclosure.value(), Some(index)))
                }
                _ => Some((item, None)),
            })
            .collect()
    }
}
