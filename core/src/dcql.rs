//! DCQL, the Digital Credentials Query Language of OpenID4VP 1.0 §6: parsing a `dcql_query` and
//! matching it against the credentials the wallet holds.
//!
//! Owns: the query's structure (credential queries with `id`, `format`, `meta.vct_values`,
//! `claims` with `id`, `path` and `values`, `claim_sets`, and `credential_sets` with `options`
//! and `required`), its bounds (counts, path lengths, string lengths; nesting is bounded by the
//! strict JSON parser), claim path selection (§7), and the answer to "which held credential
//! satisfies which query, disclosing which claims", with the required/optional split the consent
//! screen shows. A query the wallet cannot satisfy is a typed [`MatchError`] naming the query,
//! never a guess.
//! Does not own where the query comes from (`openid4vp`), which relying party may ask for which
//! claims (the trust list), consent, or building the presentation (`sdjwt`, `wallet`). Pure and
//! I/O-free, so it can be fuzzed alone. Only `dc+sd-jwt` credentials are ever matched; queries
//! for other formats parse (a relying party may offer alternatives) but match nothing.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::jose::JsonError;
use crate::jose::json;
use crate::sdjwt::{ClaimPath, PathStep};

/// The credential format the wallet holds: SD-JWT VC.
pub const FORMAT_SD_JWT_VC: &str = "dc+sd-jwt";
/// The most credential queries in one query.
pub const MAX_CREDENTIALS: usize = 16;
/// The most claims in one credential query.
pub const MAX_CLAIMS: usize = 64;
/// The most options in one `claim_sets` or one credential set's `options`, and the most
/// credential sets.
pub const MAX_SETS: usize = 16;
/// The most elements in a claim path, a `vct_values` or a `values` list.
pub const MAX_LIST: usize = 16;
/// The longest identifier, `vct`, path element or value string, in bytes.
pub const MAX_STRING: usize = 256;
/// The largest `dcql_query` accepted as JSON text.
pub const MAX_QUERY_LEN: usize = 32 * 1024;

/// Why a `dcql_query` was refused. The texts name members, never values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DcqlError {
    #[error("the DCQL query is {len} bytes, more than the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    #[error("the DCQL query is not acceptable JSON: {0}")]
    Json(#[from] JsonError),
    #[error("the DCQL query lacks `{0}`")]
    Missing(&'static str),
    #[error("the DCQL member `{0}` is not valid")]
    Invalid(&'static str),
    #[error("the DCQL member `{0}` has more entries than allowed")]
    TooMany(&'static str),
    #[error("the DCQL query uses the same `{0}` twice")]
    Duplicate(&'static str),
    #[error("the DCQL member `{0}` refers to an id that is not defined")]
    UnknownId(&'static str),
}

/// The values `path` selects in `claims` (OpenID4VP 1.0 §7.1); empty when it selects nothing.
pub fn select<'a>(path: &ClaimPath, claims: &'a Map<String, Value>) -> Vec<&'a Value> {
    let mut steps = path.steps().iter();
    let mut selected: Vec<&Value> = match steps.next() {
        Some(PathStep::Key(name)) => claims.get(name.as_str()).into_iter().collect(),
        _ => return Vec::new(),
    };
    for step in steps {
        let mut next = Vec::new();
        for value in selected {
            match (step, value) {
                (PathStep::Key(name), Value::Object(object)) => {
                    next.extend(object.get(name.as_str()))
                }
                (PathStep::AllElements, Value::Array(items)) => next.extend(items.iter()),
                (PathStep::Index(i), Value::Array(items)) => next.extend(items.get(*i)),
                _ => {}
            }
        }
        if next.is_empty() {
            return next;
        }
        selected = next;
    }
    selected
}

/// The top-level claim name `path` starts with (what a relying party's `allowed_claims` lists).
pub fn top_name(path: &ClaimPath) -> Option<&str> {
    match path.steps().first() {
        Some(PathStep::Key(name)) => Some(name),
        _ => None,
    }
}

/// A claims query (§6.3).
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimQuery {
    /// Required when the credential query has `claim_sets`.
    pub id: Option<String>,
    pub path: ClaimPath,
    /// Acceptable values (strings, integers, booleans); empty: any value.
    pub values: Vec<Value>,
}

/// A credential query (§6.1).
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialQuery {
    pub id: String,
    pub format: String,
    /// `meta.vct_values` (required for `dc+sd-jwt`).
    pub vct_values: Vec<String>,
    pub claims: Vec<ClaimQuery>,
    /// Each option lists claim ids; the first satisfiable option is used.
    pub claim_sets: Vec<Vec<String>>,
}

impl CredentialQuery {
    /// Whether the claim at `index` is required as far as DCQL says: every claim is when there
    /// are no `claim_sets`; with them, a claim is required when every option names it.
    pub fn is_required(&self, index: usize) -> bool {
        let Some(claim) = self.claims.get(index) else {
            return false;
        };
        if self.claim_sets.is_empty() {
            return true;
        }
        let Some(id) = &claim.id else { return false };
        self.claim_sets.iter().all(|option| option.contains(id))
    }
}

/// A credential set query (§6.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialSetQuery {
    /// Each option lists credential query ids that together satisfy the set.
    pub options: Vec<Vec<String>>,
    pub required: bool,
}

/// A parsed, bounded `dcql_query`.
#[derive(Debug, Clone, PartialEq)]
pub struct DcqlQuery {
    pub credentials: Vec<CredentialQuery>,
    pub credential_sets: Vec<CredentialSetQuery>,
    source: Value,
}

impl DcqlQuery {
    /// Parses JSON text, bounded by [`MAX_QUERY_LEN`], refusing repeated members.
    pub fn from_json(text: &[u8]) -> Result<Self, DcqlError> {
        if text.len() > MAX_QUERY_LEN {
            return Err(DcqlError::TooLarge {
                len: text.len(),
                max: MAX_QUERY_LEN,
            });
        }
        Self::from_value(&json::parse_value(text)?)
    }

    /// Reads a `dcql_query` already parsed (from a request object). Unknown members are ignored.
    pub fn from_value(value: &Value) -> Result<Self, DcqlError> {
        let object = value.as_object().ok_or(DcqlError::Invalid("dcql_query"))?;
        let list = object
            .get("credentials")
            .ok_or(DcqlError::Missing("credentials"))?;
        let list = bounded_array(list, "credentials", MAX_CREDENTIALS)?;
        let mut credentials = Vec::with_capacity(list.len());
        let mut ids = HashSet::new();
        for entry in list {
            let query = credential_query(entry)?;
            if !ids.insert(query.id.clone()) {
                return Err(DcqlError::Duplicate("credentials[].id"));
            }
            credentials.push(query);
        }
        let mut credential_sets = Vec::new();
        if let Some(sets) = object.get("credential_sets") {
            for set in bounded_array(sets, "credential_sets", MAX_SETS)? {
                let set = set
                    .as_object()
                    .ok_or(DcqlError::Invalid("credential_sets"))?;
                let options = set
                    .get("options")
                    .ok_or(DcqlError::Missing("credential_sets[].options"))?;
                let options = id_lists(options, "credential_sets[].options", &ids)?;
                let required = match set.get("required") {
                    None => true,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => return Err(DcqlError::Invalid("credential_sets[].required")),
                };
                credential_sets.push(CredentialSetQuery { options, required });
            }
        }
        Ok(Self {
            credentials,
            credential_sets,
            source: value.clone(),
        })
    }

    /// The query as it was received (what a request object carries when it is signed again).
    pub fn as_value(&self) -> &Value {
        &self.source
    }

    /// Every claim path any credential query asks for.
    pub fn claim_paths(&self) -> impl Iterator<Item = &ClaimPath> {
        self.credentials
            .iter()
            .flat_map(|c| c.claims.iter().map(|claim| &claim.path))
    }

    /// Matches the query against `held` (§6.4): for each credential query the first held
    /// credential that satisfies it, and for each credential set the options that can be met.
    /// Without `credential_sets` every credential query is required; with them, those named
    /// only by optional sets may go unmet (listed in [`DcqlMatch::unsatisfied`]).
    pub fn match_credentials(&self, held: &[HeldCredential<'_>]) -> Result<DcqlMatch, MatchError> {
        let mut matches = Vec::new();
        let mut unsatisfied = Vec::new();
        for query in &self.credentials {
            match held
                .iter()
                .enumerate()
                .find_map(|(index, credential)| match_one(query, index, credential))
            {
                Some(found) => matches.push(found),
                None => unsatisfied.push(query.id.clone()),
            }
        }
        if self.credential_sets.is_empty() {
            if let Some(query_id) = unsatisfied.into_iter().next() {
                return Err(MatchError::CannotSatisfy { query_id });
            }
            return Ok(DcqlMatch {
                credentials: matches,
                unsatisfied: Vec::new(),
                credential_sets: Vec::new(),
            });
        }
        let mut credential_sets = Vec::with_capacity(self.credential_sets.len());
        for set in &self.credential_sets {
            let satisfiable_options: Vec<usize> = set
                .options
                .iter()
                .enumerate()
                .filter(|(_, option)| option.iter().all(|id| !unsatisfied.contains(id)))
                .map(|(i, _)| i)
                .collect();
            if set.required && satisfiable_options.is_empty() {
                let query_id = set.options[0]
                    .iter()
                    .find(|id| unsatisfied.contains(id))
                    .cloned()
                    .unwrap_or_default();
                return Err(MatchError::CannotSatisfy { query_id });
            }
            credential_sets.push(SetMatch {
                required: set.required,
                satisfiable_options,
            });
        }
        Ok(DcqlMatch {
            credentials: matches,
            unsatisfied,
            credential_sets,
        })
    }
}

/// A credential the wallet holds, as matching sees it.
#[derive(Clone, Copy)]
pub struct HeldCredential<'a> {
    pub format: &'a str,
    pub vct: &'a str,
    /// Every claim value the wallet could disclose, as one JSON object. Personal data: `Debug`
    /// shows only the claim names.
    pub claims: &'a Map<String, Value>,
}

impl std::fmt::Debug for HeldCredential<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeldCredential")
            .field("format", &self.format)
            .field("vct", &self.vct)
            .field("claim_names", &self.claims.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// One claim to disclose for a credential query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedClaim {
    pub id: Option<String>,
    pub path: ClaimPath,
    /// Required as far as DCQL says ([`CredentialQuery::is_required`]); the citizen may leave
    /// out an optional one.
    pub required: bool,
}

/// The held credential that satisfies one credential query, and what to disclose from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialMatch {
    pub query_id: String,
    /// Index into the `held` slice given to [`DcqlQuery::match_credentials`].
    pub credential_index: usize,
    /// The claims of the first satisfiable `claim_sets` option (or every claim), in query order.
    pub claims: Vec<MatchedClaim>,
}

/// What the wallet can do for one credential set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetMatch {
    pub required: bool,
    /// Indexes of the options whose credential queries are all satisfied.
    pub satisfiable_options: Vec<usize>,
}

/// The answer to a query the wallet can satisfy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DcqlMatch {
    /// The satisfied credential queries, in query order.
    pub credentials: Vec<CredentialMatch>,
    /// Credential queries nothing held satisfies, named only by optional sets or by options
    /// that other options replace.
    pub unsatisfied: Vec<String>,
    /// One entry per credential set, in query order (empty without `credential_sets`).
    pub credential_sets: Vec<SetMatch>,
}

/// Why the wallet cannot answer a query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MatchError {
    /// No held credential satisfies a credential query the answer needs.
    #[error("no credential in the wallet satisfies the credential query `{query_id}`")]
    CannotSatisfy { query_id: String },
}

fn match_one(
    query: &CredentialQuery,
    index: usize,
    held: &HeldCredential<'_>,
) -> Option<CredentialMatch> {
    if query.format != FORMAT_SD_JWT_VC || held.format != FORMAT_SD_JWT_VC {
        return None;
    }
    if !query.vct_values.iter().any(|v| v == held.vct) {
        return None;
    }
    let satisfied = |claim: &ClaimQuery| {
        let selected = select(&claim.path, held.claims);
        !selected.is_empty()
            && (claim.values.is_empty() || selected.iter().any(|v| claim.values.contains(v)))
    };
    let chosen: Vec<usize> = if query.claim_sets.is_empty() {
        if !query.claims.iter().all(satisfied) {
            return None;
        }
        (0..query.claims.len()).collect()
    } else {
        query.claim_sets.iter().find_map(|option| {
            let indexes: Vec<usize> = option
                .iter()
                .filter_map(|id| query.claims.iter().position(|c| c.id.as_ref() == Some(id)))
                .collect();
            indexes
                .iter()
                .all(|i| satisfied(&query.claims[*i]))
                .then(|| {
                    let mut sorted = indexes;
                    sorted.sort_unstable();
                    sorted
                })
        })?
    };
    Some(CredentialMatch {
        query_id: query.id.clone(),
        credential_index: index,
        claims: chosen
            .into_iter()
            .map(|i| MatchedClaim {
                id: query.claims[i].id.clone(),
                path: query.claims[i].path.clone(),
                required: query.is_required(i),
            })
            .collect(),
    })
}

fn bounded_array<'a>(
    value: &'a Value,
    name: &'static str,
    max: usize,
) -> Result<&'a [Value], DcqlError> {
    let items = value.as_array().ok_or(DcqlError::Invalid(name))?;
    if items.is_empty() {
        return Err(DcqlError::Invalid(name));
    }
    if items.len() > max {
        return Err(DcqlError::TooMany(name));
    }
    Ok(items)
}

/// An identifier (§6.1): non-empty, bounded, alphanumeric, `_` or `-`.
fn identifier(value: Option<&Value>, name: &'static str) -> Result<String, DcqlError> {
    let text = value
        .ok_or(DcqlError::Missing(name))?
        .as_str()
        .ok_or(DcqlError::Invalid(name))?;
    if text.is_empty()
        || text.len() > MAX_STRING
        || !text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(DcqlError::Invalid(name));
    }
    Ok(text.to_owned())
}

fn bounded_string(value: &Value, name: &'static str) -> Result<String, DcqlError> {
    match value {
        Value::String(s) if !s.is_empty() && s.len() <= MAX_STRING => Ok(s.clone()),
        _ => Err(DcqlError::Invalid(name)),
    }
}

/// A non-empty list of options, each a non-empty list of ids defined in `defined`.
fn id_lists(
    value: &Value,
    name: &'static str,
    defined: &HashSet<String>,
) -> Result<Vec<Vec<String>>, DcqlError> {
    let mut options = Vec::new();
    for option in bounded_array(value, name, MAX_SETS)? {
        let mut ids = Vec::new();
        for id in bounded_array(option, name, MAX_LIST)? {
            let id = identifier(Some(id), name)?;
            if !defined.contains(&id) {
                return Err(DcqlError::UnknownId(name));
            }
            if ids.contains(&id) {
                return Err(DcqlError::Duplicate(name));
            }
            ids.push(id);
        }
        options.push(ids);
    }
    Ok(options)
}

fn credential_query(value: &Value) -> Result<CredentialQuery, DcqlError> {
    let object = value.as_object().ok_or(DcqlError::Invalid("credentials"))?;
    let id = identifier(object.get("id"), "credentials[].id")?;
    let format = bounded_string(
        object
            .get("format")
            .ok_or(DcqlError::Missing("credentials[].format"))?,
        "credentials[].format",
    )?;
    if object
        .get("multiple")
        .is_some_and(|m| m != &Value::Bool(false))
    {
        // One credential per query is all a PID wallet has to give.
        return Err(DcqlError::Invalid("credentials[].multiple"));
    }
    let mut vct_values = Vec::new();
    match object.get("meta") {
        Some(Value::Object(meta)) => {
            if let Some(vcts) = meta.get("vct_values") {
                for vct in bounded_array(vcts, "meta.vct_values", MAX_LIST)? {
                    vct_values.push(bounded_string(vct, "meta.vct_values")?);
                }
            }
        }
        Some(_) => return Err(DcqlError::Invalid("credentials[].meta")),
        None if format == FORMAT_SD_JWT_VC => {
            return Err(DcqlError::Missing("credentials[].meta"));
        }
        None => {}
    }
    if format == FORMAT_SD_JWT_VC && vct_values.is_empty() {
        return Err(DcqlError::Missing("meta.vct_values"));
    }
    let mut claims = Vec::new();
    let mut claim_ids = HashSet::new();
    if let Some(list) = object.get("claims") {
        for claim in bounded_array(list, "claims", MAX_CLAIMS)? {
            let claim = claim_query(claim)?;
            if let Some(id) = &claim.id
                && !claim_ids.insert(id.clone())
            {
                return Err(DcqlError::Duplicate("claims[].id"));
            }
            claims.push(claim);
        }
    }
    let claim_sets = match object.get("claim_sets") {
        None => Vec::new(),
        Some(_) if claims.is_empty() => return Err(DcqlError::Invalid("claim_sets")),
        // §6.1: with `claim_sets`, every claims query needs an `id`.
        Some(_) if claims.iter().any(|c| c.id.is_none()) => {
            return Err(DcqlError::Missing("claims[].id"));
        }
        Some(sets) => id_lists(sets, "claim_sets", &claim_ids)?,
    };
    Ok(CredentialQuery {
        id,
        format,
        vct_values,
        claims,
        claim_sets,
    })
}

fn claim_query(value: &Value) -> Result<ClaimQuery, DcqlError> {
    let object = value.as_object().ok_or(DcqlError::Invalid("claims"))?;
    let id = match object.get("id") {
        None => None,
        some => Some(identifier(some, "claims[].id")?),
    };
    let path = object
        .get("path")
        .ok_or(DcqlError::Missing("claims[].path"))?;
    let steps = bounded_array(path, "claims[].path", MAX_LIST)?;
    if steps.iter().any(|step| {
        step.as_str()
            .is_some_and(|name| name.is_empty() || name.len() > MAX_STRING)
    }) {
        return Err(DcqlError::Invalid("claims[].path"));
    }
    let path = ClaimPath::from_json(path).map_err(|_| DcqlError::Invalid("claims[].path"))?;
    if top_name(&path).is_none() {
        // The root of an SD-JWT VC's claims is an object.
        return Err(DcqlError::Invalid("claims[].path"));
    }
    let mut values = Vec::new();
    if let Some(list) = object.get("values") {
        for v in bounded_array(list, "claims[].values", MAX_LIST)? {
            match v {
                Value::String(s) if s.len() <= MAX_STRING => {}
                Value::Number(n) if n.is_i64() || n.is_u64() => {}
                Value::Bool(_) => {}
                _ => return Err(DcqlError::Invalid("claims[].values")),
            }
            values.push(v.clone());
        }
    }
    Ok(ClaimQuery { id, path, values })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PID: &str = "urn:eudi:pid:vn:1";

    fn pid_claims() -> Map<String, Value> {
        let Value::Object(claims) = json!({
            "full_name": "Nguyễn Văn An",
            "birth_date": "1990-01-02",
            "age_over_18": true,
            "nationality": "VN",
            "id_number": "001090012345",
            "place_of_residence": {"locality": "Hà Nội", "lines": ["1 Tràng Tiền"]},
        }) else {
            unreachable!()
        };
        claims
    }

    fn query(value: Value) -> DcqlQuery {
        DcqlQuery::from_json(value.to_string().as_bytes()).unwrap()
    }

    fn held(claims: &Map<String, Value>) -> Vec<HeldCredential<'_>> {
        vec![HeldCredential {
            format: FORMAT_SD_JWT_VC,
            vct: PID,
            claims,
        }]
    }

    #[test]
    fn simple_query_matches_the_pid() {
        // §D.1's first example, adapted to the PID.
        let q = query(json!({"credentials": [{
            "id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": [PID]},
            "claims": [{"path": ["full_name"]}, {"path": ["birth_date"]},
                       {"path": ["place_of_residence", "locality"]}]
        }]}));
        let claims = pid_claims();
        let answer = q.match_credentials(&held(&claims)).unwrap();
        assert_eq!(answer.credentials.len(), 1);
        let m = &answer.credentials[0];
        assert_eq!((m.query_id.as_str(), m.credential_index), ("pid", 0));
        assert_eq!(m.claims.len(), 3);
        assert!(m.claims.iter().all(|c| c.required));
        assert_eq!(
            m.claims[2].path,
            ClaimPath::claim("place_of_residence").key("locality")
        );
    }

    #[test]
    fn a_query_without_claims_matches_on_type() {
        let q = query(json!({"credentials": [{
            "id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": [PID]}}]}));
        let claims = pid_claims();
        let answer = q.match_credentials(&held(&claims)).unwrap();
        assert!(answer.credentials[0].claims.is_empty());
    }

    #[test]
    fn unsatisfiable_queries_name_the_query() {
        let claims = pid_claims();
        for q in [
            json!({"credentials": [{"id": "other", "format": "dc+sd-jwt",
                "meta": {"vct_values": ["urn:other"]}}]}),
            json!({"credentials": [{"id": "mdl", "format": "mso_mdoc",
                "meta": {"doctype_value": "org.iso.18013.5.1.mDL"}}]}),
            json!({"credentials": [{"id": "pid", "format": "dc+sd-jwt",
                "meta": {"vct_values": [PID]}, "claims": [{"path": ["email"]}]}]}),
            json!({"credentials": [{"id": "pid", "format": "dc+sd-jwt",
                "meta": {"vct_values": [PID]},
                "claims": [{"path": ["nationality"], "values": ["DE", "FR"]}]}]}),
        ] {
            let id = q["credentials"][0]["id"].as_str().unwrap().to_owned();
            assert_eq!(
                query(q).match_credentials(&held(&claims)),
                Err(MatchError::CannotSatisfy { query_id: id })
            );
        }
        let q = query(json!({"credentials": [{"id": "pid", "format": "dc+sd-jwt",
            "meta": {"vct_values": [PID]}}]}));
        assert_eq!(
            q.match_credentials(&[]),
            Err(MatchError::CannotSatisfy {
                query_id: "pid".into()
            })
        );
    }

    #[test]
    fn values_constrain_the_match() {
        let q = query(json!({"credentials": [{"id": "pid", "format": "dc+sd-jwt",
            "meta": {"vct_values": ["urn:other", PID]},
            "claims": [{"path": ["age_over_18"], "values": [true]},
                       {"path": ["nationality"], "values": ["DE", "VN"]}]}]}));
        let claims = pid_claims();
        let answer = q.match_credentials(&held(&claims)).unwrap();
        assert_eq!(answer.credentials[0].claims.len(), 2);
    }

    #[test]
    fn claim_sets_choose_the_first_satisfiable_option() {
        // §D's claim_sets example: a postal address, or else the locality alone.
        let q = query(json!({"credentials": [{"id": "pid", "format": "dc+sd-jwt",
            "meta": {"vct_values": [PID]},
            "claims": [
                {"id": "a", "path": ["full_name"]},
                {"id": "b", "path": ["email"]},
                {"id": "c", "path": ["place_of_residence", "locality"]},
                {"id": "d", "path": ["place_of_residence", "lines", null]},
                {"id": "e", "path": ["age_over_18"]}
            ],
            "claim_sets": [["a", "b", "e"], ["a", "c", "d"], ["a"]]}]}));
        let claims = pid_claims();
        let answer = q.match_credentials(&held(&claims)).unwrap();
        let m = &answer.credentials[0];
        let ids: Vec<_> = m.claims.iter().map(|c| c.id.clone().unwrap()).collect();
        assert_eq!(ids, ["a", "c", "d"]);
        // `a` is in every option: required; the others are optional.
        assert_eq!(
            m.claims.iter().map(|c| c.required).collect::<Vec<_>>(),
            [true, false, false]
        );
        assert!(q.credentials[0].is_required(0));
        assert!(!q.credentials[0].is_required(4));
    }

    #[test]
    fn credential_sets_report_satisfiable_options() {
        let q = query(json!({
            "credentials": [
                {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": [PID]},
                 "claims": [{"path": ["full_name"]}]},
                {"id": "tax", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:tax"]}},
                {"id": "age", "format": "dc+sd-jwt", "meta": {"vct_values": [PID]},
                 "claims": [{"path": ["age_over_18"], "values": [true]}]}
            ],
            "credential_sets": [
                {"options": [["tax"], ["pid"]]},
                {"options": [["age"]], "required": false},
                {"options": [["tax"]], "required": false}
            ]
        }));
        let claims = pid_claims();
        let answer = q.match_credentials(&held(&claims)).unwrap();
        assert_eq!(answer.unsatisfied, ["tax"]);
        assert_eq!(
            answer.credential_sets,
            [
                SetMatch {
                    required: true,
                    satisfiable_options: vec![1]
                },
                SetMatch {
                    required: false,
                    satisfiable_options: vec![0]
                },
                SetMatch {
                    required: false,
                    satisfiable_options: vec![]
                },
            ]
        );
        let q = query(json!({
            "credentials": [
                {"id": "tax", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:tax"]}},
                {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": [PID]}}
            ],
            "credential_sets": [{"options": [["tax", "pid"]]}]
        }));
        assert_eq!(
            q.match_credentials(&held(&claims)),
            Err(MatchError::CannotSatisfy {
                query_id: "tax".into()
            })
        );
    }

    #[test]
    fn malformed_queries_are_refused() {
        let cases = [
            (json!([]), DcqlError::Invalid("dcql_query")),
            (json!({}), DcqlError::Missing("credentials")),
            (
                json!({"credentials": []}),
                DcqlError::Invalid("credentials"),
            ),
            (
                json!({"credentials": [{"id": "a b", "format": "dc+sd-jwt"}]}),
                DcqlError::Invalid("credentials[].id"),
            ),
            (
                json!({"credentials": [{"id": "a", "format": "dc+sd-jwt"}]}),
                DcqlError::Missing("credentials[].meta"),
            ),
            (
                json!({"credentials": [
                    {"id": "a", "format": "x"}, {"id": "a", "format": "x"}]}),
                DcqlError::Duplicate("credentials[].id"),
            ),
            (
                json!({"credentials": [{"id": "a", "format": "x",
                    "claims": [{"path": ["x", -1]}]}]}),
                DcqlError::Invalid("claims[].path"),
            ),
            (
                json!({"credentials": [{"id": "a", "format": "x",
                    "claims": [{"path": [null]}]}]}),
                DcqlError::Invalid("claims[].path"),
            ),
            (
                json!({"credentials": [{"id": "a", "format": "x",
                    "claims": [{"path": ["x"], "values": [{"o": 1}]}]}]}),
                DcqlError::Invalid("claims[].values"),
            ),
            (
                json!({"credentials": [{"id": "a", "format": "x",
                    "claims": [{"id": "c", "path": ["x"]}], "claim_sets": [["d"]]}]}),
                DcqlError::UnknownId("claim_sets"),
            ),
            (
                json!({"credentials": [{"id": "a", "format": "x",
                    "claims": [{"id": "c", "path": ["x"]}, {"path": ["y"]}],
                    "claim_sets": [["c"]]}]}),
                DcqlError::Missing("claims[].id"),
            ),
            (
                json!({"credentials": [{"id": "a", "format": "x"}],
                    "credential_sets": [{"options": [["b"]]}]}),
                DcqlError::UnknownId("credential_sets[].options"),
            ),
            (
                json!({"credentials": [{"id": "a", "format": "x", "multiple": true}]}),
                DcqlError::Invalid("credentials[].multiple"),
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(DcqlQuery::from_value(&value), Err(expected), "{value}");
        }
        let many: Vec<Value> = (0..=MAX_CREDENTIALS)
            .map(|i| json!({"id": format!("q{i}"), "format": "x"}))
            .collect();
        assert_eq!(
            DcqlQuery::from_value(&json!({ "credentials": many })),
            Err(DcqlError::TooMany("credentials"))
        );
        let long = "a".repeat(MAX_STRING + 1);
        assert_eq!(
            DcqlQuery::from_value(&json!({"credentials": [{"id": long, "format": "x"}]})),
            Err(DcqlError::Invalid("credentials[].id"))
        );
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert_eq!(
            DcqlQuery::from_json(deep.as_bytes()),
            Err(DcqlError::Json(JsonError::TooDeep))
        );
        let big = vec![b' '; MAX_QUERY_LEN + 1];
        assert!(matches!(
            DcqlQuery::from_json(&big),
            Err(DcqlError::TooLarge { .. })
        ));
        assert!(matches!(
            DcqlQuery::from_json(br#"{"credentials":1,"credentials":2}"#),
            Err(DcqlError::Json(JsonError::DuplicateMember))
        ));
    }

    #[test]
    fn path_selection_follows_section_7() {
        let claims = pid_claims();
        let path = ClaimPath::claim("place_of_residence").key("lines").index(0);
        assert_eq!(select(&path, &claims), [&json!("1 Tràng Tiền")]);
        let path = ClaimPath::claim("place_of_residence")
            .key("lines")
            .all_elements();
        assert_eq!(select(&path, &claims), [&json!("1 Tràng Tiền")]);
        assert!(select(&ClaimPath::claim("full_name").all_elements(), &claims).is_empty());
        assert!(select(&ClaimPath::claim("email"), &claims).is_empty());
        assert_eq!(top_name(&ClaimPath::claim("x").index(1)), Some("x"));
    }
}
