//! JWS compact serialization (RFC 7515 §7.1) with ES256 only.
//!
//! The verification key is always the caller's: header parameters that name or carry keys
//! (`kid`, `jwk`, `x5c`, `jku`) are never used to find one. `alg: none` and every algorithm but
//! ES256 are refused, and so are critical extensions (`crit`), none of which this code implements.

use std::fmt;

use serde_json::{Map, Value};

use super::base64url::{self, Base64UrlError};
use super::es256::{self, JwsSigner, SignerError};
use super::json::{self, JsonError};
use super::jwk::EcPublicJwk;

/// The one signature algorithm accepted and produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Es256,
}

impl Algorithm {
    /// The JWS `alg` value.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Es256 => "ES256",
        }
    }
}

/// Which part of a compact JWS an encoding error is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwsPart {
    Header,
    Payload,
    Signature,
}

impl fmt::Display for JwsPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JwsPart::Header => "header",
            JwsPart::Payload => "payload",
            JwsPart::Signature => "signature",
        })
    }
}

/// Why a JWS was refused, or could not be made. The texts never quote the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    #[error("the JWS is {len} bytes, more than the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    #[error("the JWS is not three parts separated by dots")]
    Malformed,
    #[error("the JWS {part} is not unpadded base64url: {error}")]
    Encoding {
        part: JwsPart,
        error: Base64UrlError,
    },
    #[error("the JWS header is not an acceptable JSON object: {0}")]
    Header(JsonError),
    #[error("the JWS header has no `alg`")]
    MissingAlgorithm,
    #[error("unsigned JWS (`alg` `none`) are refused")]
    AlgNone,
    #[error("the JWS algorithm is not ES256")]
    UnsupportedAlgorithm,
    #[error("the JWS header lists critical extensions, which are not supported")]
    CriticalHeader,
    #[error("the JWS header parameter `{0}` has the wrong type or may not be set")]
    InvalidHeaderParameter(&'static str),
    #[error("the JWS `typ` is not the expected one")]
    TypMismatch,
    #[error("the JWS signature is not 64 bytes (raw r‖s)")]
    SignatureLength,
    #[error("the JWS signature does not verify with the given key")]
    BadSignature,
    #[error("the JWS payload is not an acceptable JSON object: {0}")]
    Payload(JsonError),
    #[error("the signer could not sign: {0}")]
    Signer(#[from] SignerError),
    #[error("the signer returned something that is not an ES256 signature")]
    SignerOutput,
}

/// The protected header of a parsed JWS.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    alg: Algorithm,
    typ: Option<String>,
    params: Map<String, Value>,
}

impl Header {
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    pub fn typ(&self) -> Option<&str> {
        self.typ.as_deref()
    }

    /// The `kid`, when it is a string (it is only a hint: keys are always the caller's).
    pub fn kid(&self) -> Option<&str> {
        self.params.get("kid").and_then(Value::as_str)
    }

    /// Every header parameter as sent.
    pub fn params(&self) -> &Map<String, Value> {
        &self.params
    }
}

/// A JWS in compact serialization, parsed but not yet verified.
#[derive(Clone)]
pub struct Jws {
    compact: String,
    signing_input_len: usize,
    header: Header,
    payload: Vec<u8>,
    signature: [u8; 64],
}

impl Jws {
    /// Parses `compact`, refusing it before any decoding if it is longer than `max_len`.
    pub fn parse(compact: &str, max_len: usize) -> Result<Self, JwsError> {
        if compact.len() > max_len {
            return Err(JwsError::TooLarge {
                len: compact.len(),
                max: max_len,
            });
        }
        let mut parts = compact.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwsError::Malformed);
        };
        let header_bytes = base64url::decode(header_b64).map_err(|error| JwsError::Encoding {
            part: JwsPart::Header,
            error,
        })?;
        let header = parse_header(&header_bytes)?;
        // 64 bytes are 86 characters: refuse anything else before decoding it.
        if signature_b64.len() != 86 {
            return Err(JwsError::SignatureLength);
        }
        let signature = base64url::decode(signature_b64).map_err(|error| JwsError::Encoding {
            part: JwsPart::Signature,
            error,
        })?;
        let signature = <[u8; 64]>::try_from(signature).map_err(|_| JwsError::SignatureLength)?;
        let payload = base64url::decode(payload_b64).map_err(|error| JwsError::Encoding {
            part: JwsPart::Payload,
            error,
        })?;
        Ok(Jws {
            compact: compact.to_owned(),
            signing_input_len: header_b64.len() + 1 + payload_b64.len(),
            header,
            payload,
            signature,
        })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The payload bytes (unverified until [`Jws::verify`] succeeds).
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The payload as a JSON object, parsed strictly.
    pub fn claims(&self) -> Result<Map<String, Value>, JwsError> {
        json::parse_object(&self.payload).map_err(JwsError::Payload)
    }

    /// The compact serialization this JWS was parsed from, unchanged.
    pub fn as_str(&self) -> &str {
        &self.compact
    }

    /// `BASE64URL(header) '.' BASE64URL(payload)`, what the signature covers.
    pub fn signing_input(&self) -> &[u8] {
        &self.compact.as_bytes()[..self.signing_input_len]
    }

    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// Checks the signature with `key`.
    pub fn verify(&self, key: &EcPublicJwk) -> Result<(), JwsError> {
        match self.header.alg {
            Algorithm::Es256 => {
                if es256::verify(key, self.signing_input(), &self.signature) {
                    Ok(())
                } else {
                    Err(JwsError::BadSignature)
                }
            }
        }
    }

    /// Checks that `typ` names the `expected` media type. As RFC 7515 §4.1.9 says, the comparison
    /// ignores ASCII case and an `application/` prefix.
    pub fn check_typ(&self, expected: &str) -> Result<(), JwsError> {
        match self.header.typ() {
            Some(typ) if media_type_eq(typ, expected) => Ok(()),
            _ => Err(JwsError::TypMismatch),
        }
    }

    /// Parses, checks the `typ` when one is `expected`, verifies with `key` and returns the
    /// payload as a JSON object: the usual way to accept a signed JWT.
    pub fn decode_verified(
        compact: &str,
        key: &EcPublicJwk,
        expected_typ: Option<&str>,
        max_len: usize,
    ) -> Result<(Header, Map<String, Value>), JwsError> {
        let jws = Jws::parse(compact, max_len)?;
        if let Some(expected) = expected_typ {
            jws.check_typ(expected)?;
        }
        jws.verify(key)?;
        let claims = jws.claims()?;
        Ok((jws.header, claims))
    }
}

impl fmt::Debug for Jws {
    // The payload may be personal data: only its size is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jws")
            .field("alg", &self.header.alg)
            .field("typ", &self.header.typ)
            .field("payload_len", &self.payload.len())
            .finish_non_exhaustive()
    }
}

fn parse_header(bytes: &[u8]) -> Result<Header, JwsError> {
    let params = json::parse_object(bytes).map_err(JwsError::Header)?;
    let alg = match params.get("alg") {
        None => return Err(JwsError::MissingAlgorithm),
        Some(Value::String(alg)) if alg == "ES256" => Algorithm::Es256,
        Some(Value::String(alg)) if alg.eq_ignore_ascii_case("none") => {
            return Err(JwsError::AlgNone);
        }
        Some(Value::String(_)) => return Err(JwsError::UnsupportedAlgorithm),
        Some(_) => return Err(JwsError::InvalidHeaderParameter("alg")),
    };
    if params.contains_key("crit") {
        return Err(JwsError::CriticalHeader);
    }
    let typ = match params.get("typ") {
        None => None,
        Some(Value::String(typ)) => Some(typ.clone()),
        Some(_) => return Err(JwsError::InvalidHeaderParameter("typ")),
    };
    Ok(Header { alg, typ, params })
}

fn media_type_eq(typ: &str, expected: &str) -> bool {
    fn bare(media_type: &str) -> &str {
        match media_type.get(..12) {
            Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &media_type[12..],
            _ => media_type,
        }
    }
    bare(typ).eq_ignore_ascii_case(bare(expected))
}

/// Signs `payload` as a compact JWS with `signer`. `header` holds the parameters besides `alg`
/// (`typ`, `kid`, ...); `alg` comes from the signer, and `alg` or `crit` in `header` is an error.
/// A DER signature from the signer is turned into raw `r‖s`.
pub fn sign_compact(
    header: &Map<String, Value>,
    payload: &[u8],
    signer: &dyn JwsSigner,
) -> Result<String, JwsError> {
    for reserved in ["alg", "crit"] {
        if header.contains_key(reserved) {
            return Err(JwsError::InvalidHeaderParameter(reserved));
        }
    }
    let mut full_header = header.clone();
    full_header.insert("alg".into(), Value::from(signer.algorithm().name()));
    let header_json = serde_json::to_vec(&full_header).map_err(|_| JwsError::Malformed)?;
    let mut compact = base64url::encode(header_json);
    compact.push('.');
    compact.push_str(&base64url::encode(payload));
    let signature = signer.sign(compact.as_bytes())?;
    let raw = es256::signature_to_raw(&signature).map_err(|_| JwsError::SignerOutput)?;
    compact.push('.');
    compact.push_str(&base64url::encode(raw));
    Ok(compact)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::SoftwareSigner;
    use serde_json::json;

    const MAX: usize = 64 * 1024;

    fn header(typ: &str) -> Map<String, Value> {
        let mut header = Map::new();
        header.insert("typ".into(), json!(typ));
        header
    }

    fn signed(signer: &SoftwareSigner) -> String {
        sign_compact(&header("JWT"), br#"{"sub":"user_42","iat":1}"#, signer).unwrap()
    }

    /// Re-encodes `compact` with a different header, keeping payload and signature.
    fn with_header(compact: &str, header: &str) -> String {
        let mut parts: Vec<String> = compact.split('.').map(str::to_owned).collect();
        parts[0] = base64url::encode(header);
        parts.join(".")
    }

    #[test]
    fn signs_and_verifies() {
        let signer = SoftwareSigner::generate().unwrap();
        let compact = signed(&signer);
        let jws = Jws::parse(&compact, MAX).unwrap();
        assert_eq!(jws.header().alg(), Algorithm::Es256);
        assert_eq!(jws.header().typ(), Some("JWT"));
        assert_eq!(jws.as_str(), compact);
        jws.verify(signer.public_key()).unwrap();
        jws.check_typ("JWT").unwrap();
        jws.check_typ("application/jwt").unwrap();
        assert_eq!(jws.check_typ("kb+jwt"), Err(JwsError::TypMismatch));
        let (header, claims) =
            Jws::decode_verified(&compact, signer.public_key(), Some("jwt"), MAX).unwrap();
        assert_eq!(header.kid(), None);
        assert_eq!(claims["sub"], json!("user_42"));
    }

    #[test]
    fn verifies_a_signature_made_elsewhere() {
        // RFC 7515 Appendix A.3 (ES256), with its public key.
        let key = EcPublicJwk::from_value(&json!({
            "kty": "EC", "crv": "P-256",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
        }))
        .unwrap();
        let compact = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
        let jws = Jws::parse(compact, MAX).unwrap();
        jws.verify(&key).unwrap();
        assert_eq!(jws.claims().unwrap()["iss"], json!("joe"));
    }

    #[test]
    fn refuses_a_tampered_signature_payload_or_header() {
        let signer = SoftwareSigner::generate().unwrap();
        let compact = signed(&signer);
        let parts: Vec<&str> = compact.split('.').collect();

        let mut signature = Jws::parse(&compact, MAX).unwrap().signature;
        signature[0] ^= 0x80;
        let tampered_signature =
            format!("{}.{}.{}", parts[0], parts[1], base64url::encode(signature));
        let tampered_payload = format!(
            "{}.{}.{}",
            parts[0],
            base64url::encode(br#"{"sub":"admin","iat":1}"#),
            parts[2]
        );
        let tampered_header = with_header(&compact, r#"{"alg":"ES256","typ":"kb+jwt"}"#);
        for tampered in [tampered_signature, tampered_payload, tampered_header] {
            let jws = Jws::parse(&tampered, MAX).unwrap();
            assert_eq!(jws.verify(signer.public_key()), Err(JwsError::BadSignature));
        }
        let other = SoftwareSigner::generate().unwrap();
        assert_eq!(
            Jws::parse(&compact, MAX)
                .unwrap()
                .verify(other.public_key()),
            Err(JwsError::BadSignature)
        );
    }

    #[test]
    fn refuses_alg_none_and_every_other_algorithm() {
        let signer = SoftwareSigner::generate().unwrap();
        let compact = signed(&signer);
        for (header, expected) in [
            (r#"{"alg":"none"}"#, JwsError::AlgNone),
            (r#"{"alg":"None"}"#, JwsError::AlgNone),
            (r#"{"alg":"HS256"}"#, JwsError::UnsupportedAlgorithm),
            (r#"{"alg":"ES384"}"#, JwsError::UnsupportedAlgorithm),
            (r#"{"alg":"RS256"}"#, JwsError::UnsupportedAlgorithm),
            (r#"{"alg":"es256"}"#, JwsError::UnsupportedAlgorithm),
            (r#"{"alg":"EdDSA"}"#, JwsError::UnsupportedAlgorithm),
            (r#"{"typ":"JWT"}"#, JwsError::MissingAlgorithm),
            (r#"{"alg":7}"#, JwsError::InvalidHeaderParameter("alg")),
            (
                r#"{"alg":"ES256","crit":["b64"],"b64":false}"#,
                JwsError::CriticalHeader,
            ),
            (
                r#"{"alg":"ES256","typ":1}"#,
                JwsError::InvalidHeaderParameter("typ"),
            ),
            (
                r#"{"alg":"ES256","alg":"none"}"#,
                JwsError::Header(JsonError::DuplicateMember),
            ),
            (r#"["ES256"]"#, JwsError::Header(JsonError::NotAnObject)),
        ] {
            assert_eq!(
                Jws::parse(&with_header(&compact, header), MAX).unwrap_err(),
                expected,
                "{header}"
            );
        }
        // The classic unsigned token: `alg: none` with an empty signature.
        let unsigned = format!(
            "{}.{}.",
            base64url::encode(r#"{"alg":"none"}"#),
            base64url::encode(r#"{"sub":"admin"}"#)
        );
        assert_eq!(Jws::parse(&unsigned, MAX).unwrap_err(), JwsError::AlgNone);
    }

    #[test]
    fn refuses_malformed_compact_serializations() {
        let signer = SoftwareSigner::generate().unwrap();
        let compact = signed(&signer);
        let parts: Vec<&str> = compact.split('.').collect();
        assert_eq!(Jws::parse("", MAX).unwrap_err(), JwsError::Malformed);
        assert_eq!(Jws::parse("a.b", MAX).unwrap_err(), JwsError::Malformed);
        assert_eq!(
            Jws::parse(&format!("{compact}.x.y"), MAX).unwrap_err(),
            JwsError::Malformed
        );
        assert_eq!(
            Jws::parse(&format!("{}=.{}.{}", parts[0], parts[1], parts[2]), MAX).unwrap_err(),
            JwsError::Encoding {
                part: JwsPart::Header,
                error: Base64UrlError::Padding
            }
        );
        assert_eq!(
            Jws::parse(&format!("{}.{}+.{}", parts[0], parts[1], parts[2]), MAX).unwrap_err(),
            JwsError::Encoding {
                part: JwsPart::Payload,
                error: Base64UrlError::InvalidCharacter
            }
        );
        assert_eq!(
            Jws::parse(
                &format!("{}.{}.{}", parts[0], parts[1], &parts[2][..85]),
                MAX
            )
            .unwrap_err(),
            JwsError::SignatureLength
        );
        // A DER signature is not what JOSE carries.
        let der =
            p256::ecdsa::Signature::from_slice(Jws::parse(&compact, MAX).unwrap().signature())
                .unwrap()
                .to_der();
        assert_eq!(
            Jws::parse(
                &format!(
                    "{}.{}.{}",
                    parts[0],
                    parts[1],
                    base64url::encode(der.as_bytes())
                ),
                MAX
            )
            .unwrap_err(),
            JwsError::SignatureLength
        );
        // A payload that is not a JSON object parses as a JWS but not as claims.
        let text_payload = sign_compact(&Map::new(), b"hello", &signer).unwrap();
        let jws = Jws::parse(&text_payload, MAX).unwrap();
        jws.verify(signer.public_key()).unwrap();
        assert_eq!(jws.claims(), Err(JwsError::Payload(JsonError::Syntax)));
    }

    #[test]
    fn debug_shows_no_payload() {
        let signer = SoftwareSigner::generate().unwrap();
        let jws = Jws::parse(&signed(&signer), MAX).unwrap();
        let text = format!("{jws:?}");
        assert!(!text.contains("user_42") && !text.contains("eyJ"), "{text}");
    }

    #[test]
    fn refuses_oversized_input_before_decoding() {
        let huge = format!("{}.e30.{}", "A".repeat(10 * 1024 * 1024), "A".repeat(86));
        assert_eq!(
            Jws::parse(&huge, MAX).unwrap_err(),
            JwsError::TooLarge {
                len: huge.len(),
                max: MAX
            }
        );
    }

    #[test]
    fn sign_refuses_alg_and_crit_in_the_caller_header() {
        let signer = SoftwareSigner::generate().unwrap();
        let mut header = Map::new();
        header.insert("alg".into(), json!("none"));
        assert_eq!(
            sign_compact(&header, b"{}", &signer),
            Err(JwsError::InvalidHeaderParameter("alg"))
        );
        let mut header = Map::new();
        header.insert("crit".into(), json!(["exp"]));
        assert_eq!(
            sign_compact(&header, b"{}", &signer),
            Err(JwsError::InvalidHeaderParameter("crit"))
        );
    }

    /// A signer like a platform key store: DER output, or failures.
    struct PlatformLike {
        inner: SoftwareSigner,
        outcome: Result<(), SignerError>,
        garbage: bool,
    }

    impl JwsSigner for PlatformLike {
        fn algorithm(&self) -> Algorithm {
            Algorithm::Es256
        }
        fn public_jwk(&self) -> Result<EcPublicJwk, SignerError> {
            self.inner.public_jwk()
        }
        fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, SignerError> {
            self.outcome?;
            if self.garbage {
                return Ok(vec![0x30, 0x02, 0x01]);
            }
            let raw = self.inner.sign(signing_input)?;
            Ok(p256::ecdsa::Signature::from_slice(&raw)
                .unwrap()
                .to_der()
                .as_bytes()
                .to_vec())
        }
    }

    #[test]
    fn der_from_a_platform_signer_becomes_raw() {
        let signer = PlatformLike {
            inner: SoftwareSigner::generate().unwrap(),
            outcome: Ok(()),
            garbage: false,
        };
        let compact = sign_compact(&header("kb+jwt"), b"{}", &signer).unwrap();
        let jws = Jws::parse(&compact, MAX).unwrap();
        jws.verify(signer.inner.public_key()).unwrap();
    }

    #[test]
    fn signer_failures_are_typed() {
        let mut signer = PlatformLike {
            inner: SoftwareSigner::generate().unwrap(),
            outcome: Err(SignerError::AuthenticationRequired),
            garbage: false,
        };
        assert_eq!(
            sign_compact(&Map::new(), b"{}", &signer),
            Err(JwsError::Signer(SignerError::AuthenticationRequired))
        );
        signer.outcome = Ok(());
        signer.garbage = true;
        assert_eq!(
            sign_compact(&Map::new(), b"{}", &signer),
            Err(JwsError::SignerOutput)
        );
    }

    #[test]
    fn never_panics_on_mangled_tokens() {
        let signer = SoftwareSigner::generate().unwrap();
        let compact = signed(&signer);
        let bytes = compact.as_bytes();
        let replacements = [b'.', b'A', b'_', b'=', b'~', b'{'];
        for i in 0..bytes.len() {
            for replacement in replacements {
                let mut mangled = bytes.to_vec();
                mangled[i] = replacement;
                let text = String::from_utf8(mangled).unwrap();
                if let Ok(jws) = Jws::parse(&text, MAX) {
                    let _ = jws.claims();
                    if text != compact {
                        assert!(
                            jws.verify(signer.public_key()).is_err() || bytes[i] == replacement
                        );
                    }
                }
            }
            let _ = Jws::parse(&compact[..i], MAX);
        }
    }
}
