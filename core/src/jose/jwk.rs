//! JSON Web Keys (RFC 7517) for EC P-256 public keys, and their RFC 7638 thumbprints.

use serde_json::{Map, Value, json};

use super::base64url;
use super::json::{self, JsonError};

/// Why a JWK is not an acceptable P-256 public key. The texts never quote the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JwkError {
    #[error("the JWK is not a JSON object: {0}")]
    Json(#[from] JsonError),
    #[error("the JWK has no `kty` `EC`")]
    UnsupportedKeyType,
    #[error("the JWK's curve is not P-256")]
    UnsupportedCurve,
    #[error("the JWK lacks its `{0}` member or it is not a string")]
    MissingMember(&'static str),
    #[error("a coordinate of the JWK is not 32 bytes of base64url")]
    InvalidCoordinate,
    #[error("the JWK's coordinates are not a point on P-256")]
    NotOnCurve,
    #[error("the JWK carries private key material where a public key was expected")]
    PrivateKeyMaterial,
    #[error("the public key is not an uncompressed SEC1 P-256 point")]
    InvalidSec1,
}

/// An EC P-256 public key, checked to be a point on the curve.
#[derive(Clone, PartialEq, Eq)]
pub struct EcPublicJwk {
    x: [u8; 32],
    y: [u8; 32],
}

impl std::fmt::Debug for EcPublicJwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The thumbprint names the key without repeating it.
        write!(f, "EcPublicJwk(P-256, thumbprint {})", self.thumbprint())
    }
}

impl EcPublicJwk {
    /// A key from its affine coordinates; fails unless they are a point on P-256.
    pub fn from_coordinates(x: [u8; 32], y: [u8; 32]) -> Result<Self, JwkError> {
        let mut sec1 = [0u8; 65];
        sec1[0] = 0x04;
        sec1[1..33].copy_from_slice(&x);
        sec1[33..].copy_from_slice(&y);
        p256::PublicKey::from_sec1_bytes(&sec1).map_err(|_| JwkError::NotOnCurve)?;
        Ok(Self { x, y })
    }

    /// A key from a SEC1 uncompressed point (`0x04‖x‖y`, what the platforms return).
    pub fn from_sec1(bytes: &[u8]) -> Result<Self, JwkError> {
        if bytes.len() != 65 || bytes[0] != 0x04 {
            return Err(JwkError::InvalidSec1);
        }
        let mut x = [0u8; 32];
        let mut y = [0u8; 32];
        x.copy_from_slice(&bytes[1..33]);
        y.copy_from_slice(&bytes[33..65]);
        Self::from_coordinates(x, y)
    }

    /// Parses a JWK from its JSON text.
    pub fn from_json(text: &[u8]) -> Result<Self, JwkError> {
        Self::from_object(&json::parse_object(text)?)
    }

    /// Reads a JWK object: `kty` `EC`, `crv` `P-256`, `x` and `y` of 32 bytes each. Other members
    /// (`kid`, `use`, `alg`) are ignored, except that a private key (`d`) is refused.
    pub fn from_value(value: &Value) -> Result<Self, JwkError> {
        match value {
            Value::Object(object) => Self::from_object(object),
            _ => Err(JwkError::Json(JsonError::NotAnObject)),
        }
    }

    fn from_object(object: &Map<String, Value>) -> Result<Self, JwkError> {
        match object.get("kty") {
            Some(Value::String(kty)) if kty == "EC" => {}
            Some(Value::String(_)) => return Err(JwkError::UnsupportedKeyType),
            _ => return Err(JwkError::MissingMember("kty")),
        }
        match object.get("crv") {
            Some(Value::String(crv)) if crv == "P-256" => {}
            Some(Value::String(_)) => return Err(JwkError::UnsupportedCurve),
            _ => return Err(JwkError::MissingMember("crv")),
        }
        if object.contains_key("d") {
            return Err(JwkError::PrivateKeyMaterial);
        }
        let x = coordinate(object, "x")?;
        let y = coordinate(object, "y")?;
        Self::from_coordinates(x, y)
    }

    pub fn x(&self) -> &[u8; 32] {
        &self.x
    }

    pub fn y(&self) -> &[u8; 32] {
        &self.y
    }

    /// The SEC1 uncompressed point `0x04‖x‖y`.
    pub fn to_sec1(&self) -> [u8; 65] {
        let mut sec1 = [0u8; 65];
        sec1[0] = 0x04;
        sec1[1..33].copy_from_slice(&self.x);
        sec1[33..].copy_from_slice(&self.y);
        sec1
    }

    /// The JWK as a JSON object with exactly `kty`, `crv`, `x` and `y`.
    pub fn to_value(&self) -> Value {
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": base64url::encode(self.x),
            "y": base64url::encode(self.y),
        })
    }

    /// The RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order with no
    /// whitespace, base64url-encoded.
    pub fn thumbprint(&self) -> String {
        base64url::encode(self.thumbprint_sha256())
    }

    /// The RFC 7638 thumbprint as raw SHA-256 bytes.
    pub fn thumbprint_sha256(&self) -> [u8; 32] {
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            base64url::encode(self.x),
            base64url::encode(self.y)
        );
        super::sha256(canonical.as_bytes())
    }
}

fn coordinate(object: &Map<String, Value>, name: &'static str) -> Result<[u8; 32], JwkError> {
    let Some(Value::String(text)) = object.get(name) else {
        return Err(JwkError::MissingMember(name));
    };
    // A P-256 coordinate is 43 characters; check before decoding anything larger.
    if text.len() != 43 {
        return Err(JwkError::InvalidCoordinate);
    }
    base64url::decode(text)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or(JwkError::InvalidCoordinate)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The issuer key of the IETF SD-JWT examples.
    const X: &str = "b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ";
    const Y: &str = "Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8";

    fn key_json() -> Value {
        json!({"kty": "EC", "crv": "P-256", "x": X, "y": Y})
    }

    #[test]
    fn parses_and_serializes() {
        let key = EcPublicJwk::from_value(&key_json()).unwrap();
        assert_eq!(key.to_value(), key_json());
        let text = serde_json::to_vec(&key_json()).unwrap();
        assert_eq!(EcPublicJwk::from_json(&text).unwrap(), key);
        assert_eq!(EcPublicJwk::from_sec1(&key.to_sec1()).unwrap(), key);
        let mut with_extras = key_json();
        with_extras["kid"] = json!("issuer-key-1");
        with_extras["use"] = json!("sig");
        assert_eq!(EcPublicJwk::from_value(&with_extras).unwrap(), key);
    }

    #[test]
    fn rfc_7638_thumbprint_of_a_p256_key() {
        // Computed independently: SHA-256 of {"crv":"P-256","kty":"EC","x":"…","y":"…"}.
        let key = EcPublicJwk::from_value(&key_json()).unwrap();
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{X}","y":"{Y}"}}"#);
        let expected = ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes());
        assert_eq!(key.thumbprint_sha256().as_slice(), expected.as_ref());
        assert_eq!(key.thumbprint().len(), 43);
        // Member order and extra members of the input do not change it.
        let reordered = br#"{"y":"Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8","kid":"k","x":"b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ","crv":"P-256","kty":"EC"}"#;
        assert_eq!(
            EcPublicJwk::from_json(reordered).unwrap().thumbprint(),
            key.thumbprint()
        );
    }

    #[test]
    fn refuses_other_keys() {
        let mut rsa = key_json();
        rsa["kty"] = json!("RSA");
        assert_eq!(
            EcPublicJwk::from_value(&rsa),
            Err(JwkError::UnsupportedKeyType)
        );
        let mut p384 = key_json();
        p384["crv"] = json!("P-384");
        assert_eq!(
            EcPublicJwk::from_value(&p384),
            Err(JwkError::UnsupportedCurve)
        );
        let mut private = key_json();
        private["d"] = json!("Ur2bNKuBPOrAaxsRnbSH6hIhmNTxSGXshDSUD1a1y7g");
        assert_eq!(
            EcPublicJwk::from_value(&private),
            Err(JwkError::PrivateKeyMaterial)
        );
        let mut missing = key_json();
        missing.as_object_mut().unwrap().remove("y");
        assert_eq!(
            EcPublicJwk::from_value(&missing),
            Err(JwkError::MissingMember("y"))
        );
        assert_eq!(
            EcPublicJwk::from_value(&json!("EC")),
            Err(JwkError::Json(JsonError::NotAnObject))
        );
    }

    #[test]
    fn refuses_bad_coordinates_and_points_off_the_curve() {
        let mut short = key_json();
        short["x"] = json!("b28d4MwZMjw8");
        assert_eq!(
            EcPublicJwk::from_value(&short),
            Err(JwkError::InvalidCoordinate)
        );
        let mut padded = key_json();
        padded["x"] = json!(format!("{X}="));
        assert_eq!(
            EcPublicJwk::from_value(&padded),
            Err(JwkError::InvalidCoordinate)
        );
        let mut off_curve = key_json();
        off_curve["y"] = json!(X);
        assert_eq!(
            EcPublicJwk::from_value(&off_curve),
            Err(JwkError::NotOnCurve)
        );
        assert_eq!(
            EcPublicJwk::from_coordinates([0; 32], [0; 32]),
            Err(JwkError::NotOnCurve)
        );
        assert_eq!(
            EcPublicJwk::from_sec1(&[0x02; 33]),
            Err(JwkError::InvalidSec1)
        );
    }
}
