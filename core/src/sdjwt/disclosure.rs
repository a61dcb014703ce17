//! Disclosures (RFC 9901 §4.2): `[salt, name, value]` for an object property and `[salt, value]`
//! for an array element, base64url-encoded, referenced from the payload by their SHA-256 digest.

use std::fmt;

use ring::rand::SecureRandom;
use serde_json::Value;

use super::error::{DisclosureError, SdJwtError};
use crate::jose::{base64url, json, sha256};

/// Bytes of salt in each new disclosure: 128 bits, as RFC 9901 §9.3 recommends.
pub const SALT_BYTES: usize = 16;

/// One disclosure, decoded. Its claim value is personal data: `Debug` shows only the digest.
#[derive(Clone, PartialEq)]
pub struct Disclosure {
    encoded: String,
    digest: String,
    name: Option<String>,
    value: Value,
}

impl fmt::Debug for Disclosure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Disclosure")
            .field("digest", &self.digest)
            .field(
                "kind",
                &if self.name.is_some() {
                    "property"
                } else {
                    "element"
                },
            )
            .finish_non_exhaustive()
    }
}

impl Disclosure {
    /// A new disclosure of the object property `name: value`, with a fresh random salt.
    pub fn new_property(name: &str, value: Value) -> Result<Self, SdJwtError> {
        let salt = new_salt()?;
        Ok(Self::encode(
            Value::Array(vec![salt.into(), name.into(), value.clone()]),
            Some(name.to_owned()),
            value,
        ))
    }

    /// A new disclosure of an array element, with a fresh random salt.
    pub fn new_element(value: Value) -> Result<Self, SdJwtError> {
        let salt = new_salt()?;
        Ok(Self::encode(
            Value::Array(vec![salt.into(), value.clone()]),
            None,
            value,
        ))
    }

    fn encode(array: Value, name: Option<String>, value: Value) -> Self {
        let encoded = base64url::encode(array.to_string());
        Self {
            digest: digest(&encoded),
            encoded,
            name,
            value,
        }
    }

    /// Decodes one disclosure as it appears between `~` separators. The caller bounds its size.
    pub fn parse(encoded: &str) -> Result<Self, DisclosureError> {
        let bytes = base64url::decode(encoded).map_err(DisclosureError::Encoding)?;
        let Value::Array(mut items) = json::parse_value(&bytes).map_err(DisclosureError::Json)?
        else {
            return Err(DisclosureError::Shape);
        };
        if !(2..=3).contains(&items.len()) {
            return Err(DisclosureError::Shape);
        }
        if !items[0].is_string() {
            return Err(DisclosureError::Salt);
        }
        let value = items.pop().unwrap_or(Value::Null);
        let name = match items.len() {
            2 => match items.pop() {
                Some(Value::String(name)) if name == "_sd" || name == "..." => {
                    return Err(DisclosureError::ReservedName);
                }
                Some(Value::String(name)) => Some(name),
                _ => return Err(DisclosureError::ClaimName),
            },
            _ => None,
        };
        Ok(Self {
            digest: digest(encoded),
            encoded: encoded.to_owned(),
            name,
            value,
        })
    }

    /// The disclosure as it is sent: base64url of its JSON array.
    pub fn encoded(&self) -> &str {
        &self.encoded
    }

    /// base64url(SHA-256(encoded)): what the payload holds in `_sd` or `{"...": digest}`.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The claim name; `None` for an array element.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    pub fn value(&self) -> &Value {
        &self.value
    }
}

/// The SHA-256 digest of a disclosure (or of anything else), base64url-encoded.
pub fn digest(encoded: &str) -> String {
    base64url::encode(sha256(encoded.as_bytes()))
}

pub(super) fn random_bytes<const N: usize>() -> Result<[u8; N], SdJwtError> {
    let mut bytes = [0u8; N];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| SdJwtError::Randomness)?;
    Ok(bytes)
}

fn new_salt() -> Result<String, SdJwtError> {
    Ok(base64url::encode(random_bytes::<SALT_BYTES>()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc_9901_example_disclosure_digest() {
        // RFC 9901 §4.2.1 and §4.2.3: the `given_name` disclosure and its digest.
        let encoded = "WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd";
        let disclosure = Disclosure::parse(encoded).unwrap();
        assert_eq!(disclosure.name(), Some("given_name"));
        assert_eq!(disclosure.value(), &json!("John"));
        assert_eq!(
            disclosure.digest(),
            "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4"
        );
        assert_eq!(disclosure.encoded(), encoded);
        // An array element: ["lklxF5jMYlGTPUovMNIvCA", "US"].
        let element = Disclosure::parse("WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIlVTIl0").unwrap();
        assert_eq!(element.name(), None);
        assert_eq!(element.value(), &json!("US"));
        assert_eq!(
            element.digest(),
            "pFndjkZ_VCzmyTa6UjlZo3dh-ko8aIKQc9DlGzhaVYo"
        );
    }

    #[test]
    fn new_disclosures_round_trip_with_fresh_128_bit_salts() {
        let first = Disclosure::new_property("address", json!({"locality": "Hà Nội"})).unwrap();
        let second = Disclosure::new_property("address", json!({"locality": "Hà Nội"})).unwrap();
        assert_ne!(first.encoded(), second.encoded());
        assert_ne!(first.digest(), second.digest());
        assert_eq!(Disclosure::parse(first.encoded()).unwrap(), first);
        let array: Value =
            serde_json::from_slice(&base64url::decode(first.encoded()).unwrap()).unwrap();
        let salt = base64url::decode(array[0].as_str().unwrap()).unwrap();
        assert_eq!(salt.len(), SALT_BYTES);
        let element = Disclosure::new_element(json!(18)).unwrap();
        assert_eq!(Disclosure::parse(element.encoded()).unwrap(), element);
        assert_eq!(element.name(), None);
    }

    fn encode(json: &str) -> String {
        base64url::encode(json)
    }

    #[test]
    fn refuses_malformed_disclosures() {
        use DisclosureError::*;
        for (text, expected) in [
            (r#"["salt"]"#, Shape),
            (r#"["salt", "a", 1, 2]"#, Shape),
            (r#"{"salt": "a"}"#, Shape),
            (r#""salt""#, Shape),
            (r#"[1, "a", 1]"#, Salt),
            (r#"[null, 1]"#, Salt),
            (r#"["salt", 7, 1]"#, ClaimName),
            (r#"["salt", null, 1]"#, ClaimName),
            (r#"["salt", "_sd", ["x"]]"#, ReservedName),
            (r#"["salt", "...", "x"]"#, ReservedName),
            (
                r#"["salt", "a", {"b": 1, "b": 2}]"#,
                Json(crate::jose::JsonError::DuplicateMember),
            ),
            (r#"["salt", "a""#, Json(crate::jose::JsonError::Syntax)),
        ] {
            assert_eq!(Disclosure::parse(&encode(text)), Err(expected), "{text}");
        }
        assert_eq!(
            Disclosure::parse("WyJzYWx0IiwgMV0="),
            Err(Encoding(crate::jose::Base64UrlError::Padding))
        );
        assert_eq!(
            Disclosure::parse("not base64!"),
            Err(Encoding(crate::jose::Base64UrlError::InvalidCharacter))
        );
    }

    #[test]
    fn debug_shows_no_claim_value() {
        let disclosure = Disclosure::new_property("given_name", json!("Nguyễn Văn An")).unwrap();
        let text = format!("{disclosure:?}");
        assert!(
            !text.contains("Nguy") && !text.contains("given_name"),
            "{text}"
        );
    }
}
