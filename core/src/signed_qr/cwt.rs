//! CWT claim sets (RFC 8392): the registered claims typed, every other claim kept as a CBOR
//! value for the layers above (venue codes, EU DCC's `hcert` -260), and the time checks.
//!
//! Read by hand over `ciborium` values rather than with `coset::cwt::ClaimsSet`: that type
//! refuses any integer claim key missing from its copy of the IANA registry, so a claim
//! registered after its release would make a valid token unreadable.

use std::collections::BTreeMap;

use ciborium::Value;

use super::{MAX_CBOR_DEPTH, MAX_COSE_BYTES, cbor};

/// Why bytes are not an acceptable CWT claim set, or its times do not hold now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CwtError {
    #[error("the claim set is not bounded, well-formed CBOR: {0}")]
    Cbor(#[from] cbor::CborError),
    #[error("the claim set is not a CBOR map")]
    NotAMap,
    #[error("a claim key is neither an integer nor a text string")]
    InvalidKey,
    #[error("a claim key appears twice")]
    DuplicateKey,
    #[error("the `{0}` claim has the wrong type")]
    ClaimType(&'static str),
    #[error("a private claim uses the key of the registered `{0}` claim")]
    RegisteredKeyInPrivate(&'static str),
    #[error("the claim set is larger than a signed QR code can carry")]
    TooLarge,
    #[error("the token has expired (`exp`)")]
    Expired,
    #[error("the token is not valid yet (`nbf`)")]
    NotYetValid,
}

/// A claim key: an integer (registered or private-use) or a text string.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClaimKey {
    Int(i64),
    Text(String),
}

/// The registered claims this type reads itself (RFC 8392 §3.1).
const REGISTERED: [(i64, &str); 7] = [
    (1, "iss"),
    (2, "sub"),
    (3, "aud"),
    (4, "exp"),
    (5, "nbf"),
    (6, "iat"),
    (7, "cti"),
];

/// A CWT claim set. Times are NumericDate seconds since the Unix epoch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Claims {
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub aud: Option<String>,
    pub exp: Option<i64>,
    pub nbf: Option<i64>,
    pub iat: Option<i64>,
    pub cti: Option<Vec<u8>>,
    /// Every other claim, by key. A key of a registered claim above is refused when encoding.
    pub private: BTreeMap<ClaimKey, Value>,
}

impl Claims {
    /// Reads a claim set from its CBOR bytes: at most [`MAX_COSE_BYTES`], one well-formed map
    /// nested at most [`MAX_CBOR_DEPTH`] deep, keys integers or text and none twice, the
    /// registered claims of their types (a fractional time is rounded towards the stricter
    /// second: `exp` down, `nbf` and `iat` up).
    pub fn from_cbor(bytes: &[u8]) -> Result<Self, CwtError> {
        if bytes.len() > MAX_COSE_BYTES {
            return Err(CwtError::TooLarge);
        }
        cbor::check(bytes, MAX_CBOR_DEPTH)?;
        let Ok(Value::Map(entries)) = ciborium::from_reader::<Value, _>(bytes) else {
            return Err(CwtError::NotAMap);
        };
        let mut claims = Self::default();
        let mut seen = std::collections::BTreeSet::new();
        for (key, value) in entries {
            let key = match key {
                Value::Integer(int) => {
                    ClaimKey::Int(i64::try_from(int).map_err(|_| CwtError::InvalidKey)?)
                }
                Value::Text(text) => ClaimKey::Text(text),
                _ => return Err(CwtError::InvalidKey),
            };
            if !seen.insert(key.clone()) {
                return Err(CwtError::DuplicateKey);
            }
            match key {
                ClaimKey::Int(1) => claims.iss = Some(text(value, "iss")?),
                ClaimKey::Int(2) => claims.sub = Some(text(value, "sub")?),
                ClaimKey::Int(3) => claims.aud = Some(text(value, "aud")?),
                ClaimKey::Int(4) => claims.exp = Some(time(value, "exp", f64::floor)?),
                ClaimKey::Int(5) => claims.nbf = Some(time(value, "nbf", f64::ceil)?),
                ClaimKey::Int(6) => claims.iat = Some(time(value, "iat", f64::ceil)?),
                ClaimKey::Int(7) => match value {
                    Value::Bytes(cti) => claims.cti = Some(cti),
                    _ => return Err(CwtError::ClaimType("cti")),
                },
                key => {
                    claims.private.insert(key, value);
                }
            }
        }
        Ok(claims)
    }

    /// The claim set as CBOR: the registered claims in key order, then the private ones.
    pub fn to_cbor(&self) -> Result<Vec<u8>, CwtError> {
        let mut map = Vec::new();
        let mut put = |key: i64, value: Option<Value>| {
            if let Some(value) = value {
                map.push((Value::Integer(key.into()), value));
            }
        };
        put(1, self.iss.clone().map(Value::Text));
        put(2, self.sub.clone().map(Value::Text));
        put(3, self.aud.clone().map(Value::Text));
        put(4, self.exp.map(|t| Value::Integer(t.into())));
        put(5, self.nbf.map(|t| Value::Integer(t.into())));
        put(6, self.iat.map(|t| Value::Integer(t.into())));
        put(7, self.cti.clone().map(Value::Bytes));
        for (key, value) in &self.private {
            let key = match key {
                ClaimKey::Int(int) => {
                    if let Some((_, name)) = REGISTERED.iter().find(|(id, _)| id == int) {
                        return Err(CwtError::RegisteredKeyInPrivate(name));
                    }
                    Value::Integer((*int).into())
                }
                ClaimKey::Text(text) => Value::Text(text.clone()),
            };
            map.push((key, value.clone()));
        }
        let mut bytes = Vec::new();
        ciborium::into_writer(&Value::Map(map), &mut bytes).map_err(|_| CwtError::TooLarge)?;
        if bytes.len() > MAX_COSE_BYTES {
            return Err(CwtError::TooLarge);
        }
        // What this writes must read back: private values nested too deep are refused here.
        cbor::check(&bytes, MAX_CBOR_DEPTH)?;
        Ok(bytes)
    }

    /// Checks `exp` and `nbf` against `now` (Unix seconds), allowing `skew` seconds of clock
    /// difference either way. A token without them is valid at any time.
    pub fn check_time(&self, now: i64, skew: i64) -> Result<(), CwtError> {
        let skew = skew.max(0);
        if let Some(exp) = self.exp
            && now.saturating_sub(skew) >= exp
        {
            return Err(CwtError::Expired);
        }
        if let Some(nbf) = self.nbf
            && now.saturating_add(skew) < nbf
        {
            return Err(CwtError::NotYetValid);
        }
        Ok(())
    }
}

fn text(value: Value, name: &'static str) -> Result<String, CwtError> {
    match value {
        Value::Text(text) => Ok(text),
        _ => Err(CwtError::ClaimType(name)),
    }
}

/// A NumericDate: an integer, or a finite float rounded by `round` into the `i64` range.
fn time(value: Value, name: &'static str, round: fn(f64) -> f64) -> Result<i64, CwtError> {
    match value {
        Value::Integer(int) => i64::try_from(int).map_err(|_| CwtError::ClaimType(name)),
        Value::Float(float) if float.is_finite() && float.abs() < 9.0e15 => Ok(round(float) as i64),
        _ => Err(CwtError::ClaimType(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signed_qr::test_hex as hex;

    #[test]
    fn reads_the_rfc_8392_example_claims() {
        // RFC 8392 Appendix A.1.
        let bytes = hex(
            "a70175636f61703a2f2f61732e6578616d706c652e636f6d02656572696b77037818636f61703a2f2f6c696768742e6578616d706c652e636f6d041a5612aeb0051a5610d9f0061a5610d9f007420b71",
        );
        let claims = Claims::from_cbor(&bytes).unwrap();
        assert_eq!(claims.iss.as_deref(), Some("coap://as.example.com"));
        assert_eq!(claims.sub.as_deref(), Some("erikw"));
        assert_eq!(claims.aud.as_deref(), Some("coap://light.example.com"));
        assert_eq!(claims.exp, Some(1_444_064_944));
        assert_eq!(claims.nbf, Some(1_443_944_944));
        assert_eq!(claims.iat, Some(1_443_944_944));
        assert_eq!(claims.cti.as_deref(), Some(&[0x0b, 0x71][..]));
        assert!(claims.private.is_empty());
        assert_eq!(claims.to_cbor().unwrap(), bytes);
    }

    #[test]
    fn private_claims_round_trip() {
        let mut claims = Claims {
            iss: Some("VN".into()),
            exp: Some(2_000_000_000),
            ..Claims::default()
        };
        claims.private.insert(
            ClaimKey::Int(-260),
            Value::Map(vec![(Value::Integer(1.into()), Value::Text("x".into()))]),
        );
        claims
            .private
            .insert(ClaimKey::Text("venue".into()), Value::Bytes(vec![1, 2]));
        let bytes = claims.to_cbor().unwrap();
        assert_eq!(Claims::from_cbor(&bytes).unwrap(), claims);
        claims
            .private
            .insert(ClaimKey::Int(4), Value::Integer(1.into()));
        assert_eq!(
            claims.to_cbor(),
            Err(CwtError::RegisteredKeyInPrivate("exp"))
        );
    }

    #[test]
    fn refuses_malformed_claim_sets() {
        for (item, error) in [
            ("80", CwtError::NotAMap),
            ("a1f400", CwtError::InvalidKey),
            ("a13bffffffffffffffff00", CwtError::InvalidKey),
            ("a201600160", CwtError::DuplicateKey),
            ("a2616101616101", CwtError::DuplicateKey),
            ("a10100", CwtError::ClaimType("iss")),
            ("a10200", CwtError::ClaimType("sub")),
            ("a10300", CwtError::ClaimType("aud")),
            ("a10460", CwtError::ClaimType("exp")),
            ("a1051bffffffffffffffff", CwtError::ClaimType("nbf")),
            ("a106fa7fc00000", CwtError::ClaimType("iat")),
            ("a10760", CwtError::ClaimType("cti")),
            ("a101", CwtError::Cbor(cbor::CborError::Truncated)),
            ("a0a0", CwtError::Cbor(cbor::CborError::TrailingBytes)),
        ] {
            assert_eq!(Claims::from_cbor(&hex(item)), Err(error), "{item}");
        }
        assert_eq!(
            Claims::from_cbor(&vec![0u8; MAX_COSE_BYTES + 1]),
            Err(CwtError::TooLarge)
        );
        // Fractional times round towards the stricter second.
        let claims = Claims::from_cbor(&hex("a204fb41d2c392b7e0000005fb41d2c392b7e00000")).unwrap();
        assert_eq!(
            (claims.exp, claims.nbf),
            (Some(1_259_227_871), Some(1_259_227_872))
        );
    }

    #[test]
    fn time_checks_allow_the_skew_and_no_more() {
        let claims = Claims {
            nbf: Some(1_000),
            exp: Some(2_000),
            ..Claims::default()
        };
        assert_eq!(claims.check_time(1_500, 0), Ok(()));
        assert_eq!(claims.check_time(1_000, 0), Ok(()));
        assert_eq!(claims.check_time(999, 0), Err(CwtError::NotYetValid));
        assert_eq!(claims.check_time(940, 60), Ok(()));
        assert_eq!(claims.check_time(939, 60), Err(CwtError::NotYetValid));
        assert_eq!(claims.check_time(1_999, 0), Ok(()));
        assert_eq!(claims.check_time(2_000, 0), Err(CwtError::Expired));
        assert_eq!(claims.check_time(2_059, 60), Ok(()));
        assert_eq!(claims.check_time(2_060, 60), Err(CwtError::Expired));
        // Extreme values saturate rather than overflow.
        assert_eq!(
            claims.check_time(i64::MIN, i64::MAX),
            Err(CwtError::NotYetValid)
        );
        assert_eq!(claims.check_time(i64::MAX, i64::MAX), Ok(()));
        assert_eq!(Claims::default().check_time(i64::MAX, 0), Ok(()));
    }
}
