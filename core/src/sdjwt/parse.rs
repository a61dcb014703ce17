//! Parsing `<issuer-signed JWT>~<disclosure>~...~[<KB-JWT>]` (RFC 9901 §4, compact form).

use super::Limits;
use super::disclosure::Disclosure;
use super::error::SdJwtError;
use crate::jose::Jws;

/// An SD-JWT or SD-JWT+KB as received, parsed but not verified. Its parts are personal data:
/// `Debug` shows only their number.
#[derive(Clone)]
pub struct SdJwt {
    issuer_jwt: Jws,
    disclosures: Vec<Disclosure>,
    key_binding_jwt: Option<Jws>,
    /// `<issuer-signed JWT>~<disclosure>~...~` exactly as received: what `sd_hash` covers.
    presented: String,
}

impl std::fmt::Debug for SdJwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SdJwt")
            .field("issuer_jwt", &self.issuer_jwt)
            .field("disclosures", &self.disclosures.len())
            .field("key_binding_jwt", &self.key_binding_jwt.is_some())
            .finish()
    }
}

impl SdJwt {
    /// Parses the compact serialization. Sizes are checked against `limits` before anything is
    /// decoded; every part is decoded (JSON strictly) but no signature is checked yet.
    pub fn parse(text: &str, limits: &Limits) -> Result<Self, SdJwtError> {
        if text.len() > limits.max_sd_jwt_len {
            return Err(SdJwtError::TooLarge {
                what: "SD-JWT",
                len: text.len(),
                max: limits.max_sd_jwt_len,
            });
        }
        let separators = text.bytes().filter(|byte| *byte == b'~').count();
        if separators == 0 {
            return Err(SdJwtError::NotAnSdJwt);
        }
        if separators - 1 > limits.max_disclosures {
            return Err(SdJwtError::TooManyDisclosures {
                max: limits.max_disclosures,
            });
        }
        let last_separator = text.rfind('~').unwrap_or(0);
        let (presented, kb_text) = (&text[..=last_separator], &text[last_separator + 1..]);
        let mut parts = presented[..presented.len() - 1].split('~');
        let jwt_text = parts.next().unwrap_or_default();
        if jwt_text.len() > limits.max_issuer_jwt_len {
            return Err(SdJwtError::TooLarge {
                what: "issuer-signed JWT",
                len: jwt_text.len(),
                max: limits.max_issuer_jwt_len,
            });
        }
        let issuer_jwt =
            Jws::parse(jwt_text, limits.max_issuer_jwt_len).map_err(SdJwtError::IssuerJwt)?;
        let mut disclosures = Vec::with_capacity(separators - 1);
        for encoded in parts {
            if encoded.is_empty() {
                return Err(SdJwtError::EmptyDisclosure);
            }
            if encoded.len() > limits.max_disclosure_len {
                return Err(SdJwtError::TooLarge {
                    what: "disclosure",
                    len: encoded.len(),
                    max: limits.max_disclosure_len,
                });
            }
            disclosures.push(Disclosure::parse(encoded)?);
        }
        let key_binding_jwt = if kb_text.is_empty() {
            None
        } else {
            if kb_text.len() > limits.max_kb_jwt_len {
                return Err(SdJwtError::TooLarge {
                    what: "key binding JWT",
                    len: kb_text.len(),
                    max: limits.max_kb_jwt_len,
                });
            }
            Some(Jws::parse(kb_text, limits.max_kb_jwt_len).map_err(SdJwtError::KbJwt)?)
        };
        Ok(Self {
            issuer_jwt,
            disclosures,
            key_binding_jwt,
            presented: presented.to_owned(),
        })
    }

    /// The issuer-signed JWT.
    pub fn issuer_jwt(&self) -> &Jws {
        &self.issuer_jwt
    }

    /// What picks the issuer's key, read **before** anything is verified: `iss` and `iat` from
    /// the payload, `kid` from the header. The caller looks the key up in what it trusts (never
    /// in the token) and then verifies; until then none of it means anything. `None` when one of
    /// the three is missing or of the wrong type.
    pub fn unverified_key_hint(&self) -> Option<KeyHint> {
        let claims = self.issuer_jwt.claims().ok()?;
        Some(KeyHint {
            iss: claims.get("iss")?.as_str()?.to_owned(),
            kid: self.issuer_jwt.header().kid()?.to_owned(),
            iat: claims.get("iat")?.as_i64()?,
        })
    }

    /// The disclosures, in the order received.
    pub fn disclosures(&self) -> &[Disclosure] {
        &self.disclosures
    }

    /// The key binding JWT, when the text ended with one.
    pub fn key_binding_jwt(&self) -> Option<&Jws> {
        self.key_binding_jwt.as_ref()
    }

    /// `<issuer-signed JWT>~<disclosure>~...~` as received: the input of `sd_hash`.
    pub fn presented_sd_jwt(&self) -> &str {
        &self.presented
    }
}

/// See [`SdJwt::unverified_key_hint`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHint {
    pub iss: String,
    pub kid: String,
    pub iat: i64,
}
