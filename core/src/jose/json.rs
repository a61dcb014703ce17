//! Strict JSON parsing for signed tokens: one meaning per text.
//!
//! `serde_json` keeps the last of two members with the same name; two parsers that disagree about
//! which one counts is how signature checks are bypassed, so here a repeated name is an error.
//! Nesting is bounded ([`MAX_DEPTH`]) and errors never quote the input (it may be personal data).

use std::cell::Cell;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// The deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 64;

/// Why a text is not acceptable JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    #[error("the text is not valid JSON")]
    Syntax,
    #[error("a JSON object has two members with the same name")]
    DuplicateMember,
    #[error("the JSON nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("the JSON value is not an object")]
    NotAnObject,
}

/// Parses one JSON value (and nothing after it but whitespace), refusing repeated member names.
pub fn parse_value(bytes: &[u8]) -> Result<Value, JsonError> {
    let failure = Cell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = StrictValue {
        depth: 0,
        failure: &failure,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value));
    parsed.map_err(|_| failure.get().unwrap_or(JsonError::Syntax))
}

/// Parses a JSON object, as JOSE headers, JWT payloads and JWKs are.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, JsonError> {
    match parse_value(bytes)? {
        Value::Object(object) => Ok(object),
        _ => Err(JsonError::NotAnObject),
    }
}

struct StrictValue<'a> {
    depth: usize,
    failure: &'a Cell<Option<JsonError>>,
}

impl StrictValue<'_> {
    fn fail<E: serde::de::Error>(&self, error: JsonError) -> E {
        self.failure.set(Some(error));
        E::custom("refused")
    }

    fn nested(&self) -> Self {
        StrictValue {
            depth: self.depth + 1,
            failure: self.failure,
        }
    }
}

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| self.fail(JsonError::Syntax))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(self.fail(JsonError::TooDeep));
        }
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.nested())? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(self.fail(JsonError::TooDeep));
        }
        let mut object = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if object.contains_key(&name) {
                return Err(self.fail(JsonError::DuplicateMember));
            }
            let value = map.next_value_seed(self.nested())?;
            object.insert(name, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_what_serde_json_parses() {
        let text = br#"{"a": [1, -2, 3.5, 18446744073709551615, "x\u00e9", true, null, {}], "b": {"c": []}}"#;
        assert_eq!(
            parse_value(text).unwrap(),
            serde_json::from_slice::<Value>(text).unwrap()
        );
        assert_eq!(parse_object(b" {} ").unwrap(), Map::new());
        assert_eq!(parse_value(b"\"s\"").unwrap(), json!("s"));
    }

    #[test]
    fn refuses_repeated_member_names_at_any_depth() {
        assert_eq!(
            parse_value(br#"{"a": 1, "a": 2}"#),
            Err(JsonError::DuplicateMember)
        );
        assert_eq!(
            parse_value(br#"[{"x": {"_sd": [], "_sd": []}}]"#),
            Err(JsonError::DuplicateMember)
        );
        // Escapes do not make a second spelling of the same name acceptable.
        assert_eq!(
            parse_value(br#"{"alg": "ES256", "\u0061lg": "none"}"#),
            Err(JsonError::DuplicateMember)
        );
    }

    #[test]
    fn refuses_trailing_data_bad_syntax_and_non_objects() {
        assert_eq!(parse_value(b"{} {}"), Err(JsonError::Syntax));
        assert_eq!(parse_value(b"{\"a\":}"), Err(JsonError::Syntax));
        assert_eq!(parse_value(b""), Err(JsonError::Syntax));
        assert_eq!(parse_value(b"\xff"), Err(JsonError::Syntax));
        assert_eq!(parse_value(b"NaN"), Err(JsonError::Syntax));
        assert_eq!(parse_object(b"[1]"), Err(JsonError::NotAnObject));
    }

    #[test]
    fn bounds_nesting() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse_value(ok.as_bytes()).is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(parse_value(deep.as_bytes()), Err(JsonError::TooDeep));
        let very_deep = "[".repeat(100_000);
        assert_eq!(parse_value(very_deep.as_bytes()), Err(JsonError::TooDeep));
        let objects = "{\"a\":".repeat(200);
        assert_eq!(parse_value(objects.as_bytes()), Err(JsonError::TooDeep));
    }

    #[test]
    fn error_texts_never_quote_the_input() {
        let error = parse_value(br#"{"name": "Nguyen Van A", "name": 1}"#).unwrap_err();
        assert!(!error.to_string().contains("Nguyen"));
    }
}
