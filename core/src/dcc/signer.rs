//! Document signer certificates (DSCs): the X.509 certificates EU DCC signers publish. From the
//! DER certificate this reads the key id (the first 8 bytes of the certificate's SHA-256), the
//! public key (EC P-256 → ES256, RSA → PS256), the validity window and the DCC kinds the
//! certificate's extended key usage allows. It does not check a chain: the trust list, signed by
//! an anchor, is what makes a DSC trusted.

use super::EntryKind;
use crate::jose::EcPublicJwk;
use crate::signed_qr::{RsaPublicKey, VerifyingKey};
use crate::x509::Certificate;

/// Bytes of a DSC key id.
pub const KID_BYTES: usize = 8;
/// The largest DSC accepted (real ones are under 2 KB).
pub const MAX_CERTIFICATE_BYTES: usize = 16 * 1024;

/// The extended key usages of the DCC (eHealth network, "DSC for ..."): test, vaccination,
/// recovery; with and without the stray `0` arc some member states issued certificates with.
const DCC_KEY_USAGES: [(&str, EntryKind); 6] = [
    ("1.3.6.1.4.1.1847.2021.1.1", EntryKind::Test),
    ("1.3.6.1.4.1.1847.2021.1.2", EntryKind::Vaccination),
    ("1.3.6.1.4.1.1847.2021.1.3", EntryKind::Recovery),
    ("1.3.6.1.4.1.0.1847.2021.1.1", EntryKind::Test),
    ("1.3.6.1.4.1.0.1847.2021.1.2", EntryKind::Vaccination),
    ("1.3.6.1.4.1.0.1847.2021.1.3", EntryKind::Recovery),
];

/// Why bytes are not a usable document signer certificate. Names what failed, never a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignerCertificateError {
    #[error("the certificate is larger than a signer certificate can be")]
    TooLarge,
    #[error("the certificate is not DER X.509")]
    Malformed,
    #[error("the certificate's key is neither EC P-256 nor RSA of 2048 to 8192 bits")]
    UnsupportedKey,
}

/// A document signer certificate, read.
#[derive(Clone, PartialEq, Eq)]
pub struct SignerCertificate {
    der: Vec<u8>,
    kid: [u8; KID_BYTES],
    key: VerifyingKey,
    not_before: i64,
    not_after: i64,
    /// The DCC kinds its extended key usage names; `None` without an extended key usage
    /// extension or with an empty one (then it may sign every kind).
    kinds: Option<Vec<EntryKind>>,
}

impl std::fmt::Debug for SignerCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignerCertificate")
            .field("kid", &crate::jose::base64url::encode(self.kid))
            .field("key", &self.key)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .field("kinds", &self.kinds)
            .finish()
    }
}

impl SignerCertificate {
    /// Reads a DER certificate: one certificate and nothing after it, an EC P-256 or RSA
    /// (2048 to 8192 bits) subject public key.
    pub fn from_der(der: &[u8]) -> Result<Self, SignerCertificateError> {
        if der.len() > MAX_CERTIFICATE_BYTES {
            return Err(SignerCertificateError::TooLarge);
        }
        let (certificate, rest) =
            Certificate::parse(der).map_err(|_| SignerCertificateError::Malformed)?;
        if !rest.is_empty() {
            return Err(SignerCertificateError::Malformed);
        }
        let (not_before, not_after) = certificate
            .validity()
            .map_err(|_| SignerCertificateError::Malformed)?;
        let key = match certificate.key_algorithm {
            OID_EC_PUBLIC_KEY => {
                let p256 = certificate.key_parameters.is_some_and(|parameters| {
                    parameters.tag == 0x06 && parameters.content == OID_P256
                });
                if !p256 {
                    return Err(SignerCertificateError::UnsupportedKey);
                }
                VerifyingKey::Es256(
                    EcPublicJwk::from_sec1(certificate.key)
                        .map_err(|_| SignerCertificateError::UnsupportedKey)?,
                )
            }
            OID_RSA_ENCRYPTION => {
                let (modulus, exponent) = crate::x509::rsa_public_key(certificate.key)
                    .ok_or(SignerCertificateError::UnsupportedKey)?;
                VerifyingKey::Ps256(
                    RsaPublicKey::new(modulus, exponent)
                        .map_err(|_| SignerCertificateError::UnsupportedKey)?,
                )
            }
            _ => return Err(SignerCertificateError::UnsupportedKey),
        };
        let kinds = match &certificate.extended_key_usage {
            // An extension that names no usage at all restricts nothing.
            Some(usage) if usage.is_empty() => None,
            Some(usage) => {
                let named: Vec<String> = usage.iter().filter_map(|oid| oid_string(oid)).collect();
                let mut kinds: Vec<EntryKind> = DCC_KEY_USAGES
                    .iter()
                    .filter(|(oid, _)| named.iter().any(|o| o == oid))
                    .map(|(_, kind)| *kind)
                    .collect();
                kinds.sort();
                kinds.dedup();
                Some(kinds)
            }
            None => None,
        };
        let digest = ring::digest::digest(&ring::digest::SHA256, der);
        let mut kid = [0u8; KID_BYTES];
        kid.copy_from_slice(&digest.as_ref()[..KID_BYTES]);
        Ok(Self {
            der: der.to_vec(),
            kid,
            key,
            not_before,
            not_after,
            kinds,
        })
    }

    /// Reads a certificate given as standard Base64 of its DER (the trust list's and the test
    /// data's form).
    pub fn from_base64(text: &str) -> Result<Self, SignerCertificateError> {
        use base64::Engine;
        if text.len() > MAX_CERTIFICATE_BYTES * 4 / 3 + 4 {
            return Err(SignerCertificateError::TooLarge);
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| SignerCertificateError::Malformed)?;
        Self::from_der(&der)
    }

    /// The certificate as standard Base64 of its DER.
    pub fn to_base64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&self.der)
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The key id: the first 8 bytes of the SHA-256 of the DER certificate.
    pub fn kid(&self) -> &[u8; KID_BYTES] {
        &self.kid
    }

    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    /// `notBefore` (Unix seconds).
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// `notAfter` (Unix seconds).
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    /// Whether `at` falls in the certificate's validity, both ends included (RFC 5280 §4.1.2.5).
    pub fn valid_at(&self, at: i64) -> bool {
        (self.not_before..=self.not_after).contains(&at)
    }

    /// Whether the certificate may sign a DCC of `kind`: it has no extended key usage extension
    /// (or an empty one), or that extension names the kind's DCC usage. An extension that names other usages only
    /// (a server or an ICAO document signer usage) allows no DCC, as the EU test data expects.
    pub fn may_sign(&self, kind: EntryKind) -> bool {
        self.kinds
            .as_ref()
            .is_none_or(|kinds| kinds.contains(&kind))
    }
}

/// `id-ecPublicKey` (1.2.840.10045.2.1), `prime256v1` (1.2.840.10045.3.1.7) and
/// `rsaEncryption` (1.2.840.113549.1.1.1), as DER OID content bytes.
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// An OID's dotted form (`1.3.6.1...`) from its DER content bytes; `None` if malformed.
fn oid_string(content: &[u8]) -> Option<String> {
    let mut arcs: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    for (index, &byte) in content.iter().enumerate() {
        if value == 0 && byte == 0x80 {
            return None; // not minimal
        }
        value = value.checked_mul(128)? | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
        } else if index + 1 == content.len() {
            return None; // ends inside an arc
        }
    }
    if arcs.is_empty() {
        return None;
    }
    Some(
        arcs.iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join("."),
    )
}

/// A test certificate of `testdata/` by name: `dsc-ec` (P-256, 2020–2040, any kind),
/// `dsc-ec-tests-only` (same key, extended key usage: tests), `dsc-ec-expired` (same key,
/// 2020–2021), `dsc-rsa` (RSA 2048, 2020–2040). The EC key's scalar is [`TEST_EC_SCALAR`].
#[cfg(test)]
pub(crate) fn test_certificate(name: &str) -> SignerCertificate {
    let text = match name {
        "dsc-ec" => include_str!("testdata/dsc-ec.b64"),
        "dsc-ec-tests-only" => include_str!("testdata/dsc-ec-tests-only.b64"),
        "dsc-ec-expired" => include_str!("testdata/dsc-ec-expired.b64"),
        "dsc-rsa" => include_str!("testdata/dsc-rsa.b64"),
        _ => panic!("no test certificate {name}"),
    };
    SignerCertificate::from_base64(text.trim()).unwrap()
}

/// The private scalar of the test certificates' P-256 key.
#[cfg(test)]
pub(crate) const TEST_EC_SCALAR: &str =
    "b5176e99383c0613775532af77b7dabe66a6ae1467b1458162e5aedaa4caefc7";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ec_and_rsa_certificates_and_their_key_ids() {
        let ec = test_certificate("dsc-ec");
        assert!(matches!(ec.key(), VerifyingKey::Es256(_)));
        let digest = ring::digest::digest(&ring::digest::SHA256, ec.der());
        assert_eq!(ec.kid(), &digest.as_ref()[..8]);
        assert_eq!(ec.not_before(), 1_577_836_800);
        assert_eq!(ec.not_after(), 2_208_988_800);
        assert!(ec.valid_at(1_577_836_800) && ec.valid_at(2_208_988_800));
        assert!(!ec.valid_at(1_577_836_799) && !ec.valid_at(2_208_988_801));
        assert!(ec.may_sign(EntryKind::Vaccination) && ec.may_sign(EntryKind::Test));
        let rsa = test_certificate("dsc-rsa");
        assert!(matches!(rsa.key(), VerifyingKey::Ps256(key) if key.modulus_bits() == 2048));
        let tests_only = test_certificate("dsc-ec-tests-only");
        assert_eq!(tests_only.key(), ec.key());
        assert_ne!(tests_only.kid(), ec.kid());
        assert!(tests_only.may_sign(EntryKind::Test));
        assert!(!tests_only.may_sign(EntryKind::Vaccination));
        assert!(!tests_only.may_sign(EntryKind::Recovery));
        assert_eq!(SignerCertificate::from_base64(&ec.to_base64()).unwrap(), ec);
        let debug = format!("{ec:?}");
        assert!(debug.contains("kid") && !debug.contains(&ec.to_base64()[..20]));
    }

    #[test]
    fn refuses_what_is_not_one_usable_certificate() {
        let der = test_certificate("dsc-ec").der().to_vec();
        let mut trailing = der.clone();
        trailing.push(0);
        assert_eq!(
            SignerCertificate::from_der(&trailing),
            Err(SignerCertificateError::Malformed)
        );
        for len in [0, 1, 10, der.len() - 1] {
            assert!(SignerCertificate::from_der(&der[..len]).is_err());
        }
        assert_eq!(
            SignerCertificate::from_der(&vec![0x30; MAX_CERTIFICATE_BYTES + 1]),
            Err(SignerCertificateError::TooLarge)
        );
        assert_eq!(
            SignerCertificate::from_base64("not base64!"),
            Err(SignerCertificateError::Malformed)
        );
        // Every single-byte change either fails to parse or changes the key id: none panics.
        for index in 0..der.len() {
            let mut damaged = der.clone();
            damaged[index] ^= 0x80;
            if let Ok(certificate) = SignerCertificate::from_der(&damaged) {
                assert_ne!(certificate.kid(), test_certificate("dsc-ec").kid());
            }
        }
    }
}
