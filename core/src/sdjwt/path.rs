//! Claim paths: how issuers say what is selectively disclosable and holders say what to disclose.
//!
//! A path is a list of steps from the top of the claims, as in OpenID4VP's DCQL: an object member
//! name, an array index, or "every element of the array". Indices count the elements the holder
//! can see (the array after its disclosures are resolved and undisclosed or decoy elements left
//! out), which for an issuer is the array as given.

use serde_json::Value;

use super::error::SdJwtError;

/// One step of a [`ClaimPath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    /// The object member of this name.
    Key(String),
    /// The array element at this position.
    Index(usize),
    /// Every element of the array.
    AllElements,
}

/// A path to a claim, from the top level of the claims.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClaimPath(Vec<PathStep>);

impl ClaimPath {
    /// The path to the top-level claim `name`.
    pub fn claim(name: &str) -> Self {
        Self(vec![PathStep::Key(name.to_owned())])
    }

    /// This path, then the object member `name`.
    pub fn key(mut self, name: &str) -> Self {
        self.0.push(PathStep::Key(name.to_owned()));
        self
    }

    /// This path, then the array element at `index`.
    pub fn index(mut self, index: usize) -> Self {
        self.0.push(PathStep::Index(index));
        self
    }

    /// This path, then every element of the array.
    pub fn all_elements(mut self) -> Self {
        self.0.push(PathStep::AllElements);
        self
    }

    /// A path in DCQL's JSON form: `["address", "locality"]`, `["nationalities", 0]`,
    /// `["degrees", null, "type"]`.
    pub fn from_json(value: &Value) -> Result<Self, SdJwtError> {
        let Value::Array(steps) = value else {
            return Err(SdJwtError::PathMismatch("a claim path is not a JSON array"));
        };
        steps
            .iter()
            .map(|step| match step {
                Value::String(name) => Ok(PathStep::Key(name.clone())),
                Value::Null => Ok(PathStep::AllElements),
                Value::Number(n) => n
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .map(PathStep::Index)
                    .ok_or(SdJwtError::PathMismatch(
                        "a claim path index is not a non-negative integer",
                    )),
                _ => Err(SdJwtError::PathMismatch(
                    "a claim path step is not a string, an index or null",
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<PathStep>> for ClaimPath {
    fn from(steps: Vec<PathStep>) -> Self {
        Self(steps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builds_and_parses_dcql_paths() {
        let built = ClaimPath::claim("degrees").all_elements().key("type");
        assert_eq!(
            ClaimPath::from_json(&json!(["degrees", null, "type"])).unwrap(),
            built
        );
        assert_eq!(
            ClaimPath::from_json(&json!(["nationalities", 1])).unwrap(),
            ClaimPath::claim("nationalities").index(1)
        );
        assert!(ClaimPath::from_json(&json!([])).unwrap().is_empty());
        for bad in [
            json!("address"),
            json!([-1]),
            json!([1.5]),
            json!([true]),
            json!([{}]),
        ] {
            assert!(matches!(
                ClaimPath::from_json(&bad),
                Err(SdJwtError::PathMismatch(_))
            ));
        }
    }
}
