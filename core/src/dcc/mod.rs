//! EU Digital COVID Certificates (DCC): `HC1:` QR codes verified against the document signer
//! certificates (DSCs) of the trust list, read into typed vaccination, test and recovery entries.
//!
//! Owns: the DCC profile of signed QR codes ([`PROFILE`]: prefix `HC1:`, key id protected or
//! unprotected, the protected one winning), reading DSCs ([`signer`]: key id = first 8 bytes of
//! the certificate's SHA-256, EC P-256 → ES256, RSA → PS256, validity, extended key usage), the
//! `hcert` claim as types ([`hcert`], pure and I/O-free) and [`verify`], which puts them together
//! with the time checks. Does not own the bytes below the claims (`signed_qr`: Base45, zlib,
//! COSE, CWT, each bounded), which signers to trust (the trust list's `health_signers`, or the
//! caller's [`SignerLookup`]), keeping certificates (the wallet's `health` module) nor business
//! rules (how many doses count, how long a test is valid: the EU's validation rules are not
//! implemented here).
//!
//! Nothing here prints personal data: the `Debug` of every type that holds a name, a date of
//! birth, an entry's dates or its identifier leaves them out, and errors name fields, never
//! values.

pub mod hcert;
pub mod signer;

pub use hcert::{
    Entry, EntryKind, HcertError, HealthCertificate, PersonName, Recovery, TestResult, Vaccination,
};
pub use signer::{SignerCertificate, SignerCertificateError};

use crate::signed_qr::{self, KidLocation, Profile, SignedQrError, VerifyingKey};
use crate::trust_list::TrustList;

/// The text form of an EU DCC.
pub const PROFILE: Profile = Profile {
    prefix: "HC1:",
    kid: KidLocation::ProtectedOverUnprotected,
};

/// Why an `HC1:` code was refused. Names the step that failed, never a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DccError {
    /// The text, its compression, the COSE message or its signature (an unknown key id is
    /// [`SignedQrError::UnknownKey`]).
    #[error("the code: {0}")]
    SignedQr(#[from] SignedQrError),
    #[error("the claim set has no `{0}` claim")]
    MissingClaim(&'static str),
    #[error("the certificate: {0}")]
    Hcert(#[from] HcertError),
    /// Past the claim set's `exp`.
    #[error("the certificate has expired")]
    Expired,
    /// Issued (`iat`) after the time of the check, beyond the allowed clock skew.
    #[error("the certificate is issued in the future")]
    NotYetValid,
    /// The signer's certificate was not valid when the DCC was issued, or is not now.
    #[error("the signer's certificate is not valid at the certificate's time")]
    SignerNotValid,
    /// The signer's certificate does not allow signing this kind of entry.
    #[error("the signer may not sign this kind of certificate")]
    KeyUsage,
}

impl DccError {
    /// A stable code for each kind (for the FFI and logs).
    pub fn code(&self) -> &'static str {
        match self {
            Self::SignedQr(SignedQrError::UnknownKey) => "dcc_unknown_signer",
            Self::SignedQr(
                SignedQrError::SignatureInvalid
                | SignedQrError::SignatureLength
                | SignedQrError::AlgorithmKeyMismatch,
            ) => "dcc_signature_invalid",
            Self::SignedQr(_) => "dcc_malformed",
            Self::MissingClaim(_) | Self::Hcert(_) => "dcc_content_invalid",
            Self::Expired => "dcc_expired",
            Self::NotYetValid => "dcc_not_yet_valid",
            Self::SignerNotValid => "dcc_signer_not_valid",
            Self::KeyUsage => "dcc_key_usage",
        }
    }
}

/// Seconds of clock difference allowed between the issuer and this device for `iat`.
pub const CLOCK_SKEW_SECONDS: i64 = 300;

/// Finds the document signer certificate a DCC's key id names.
pub trait SignerLookup {
    fn signer(&self, kid: &[u8]) -> Option<SignerCertificate>;
}

impl<F: Fn(&[u8]) -> Option<SignerCertificate>> SignerLookup for F {
    fn signer(&self, kid: &[u8]) -> Option<SignerCertificate> {
        self(kid)
    }
}

/// The trust list's health signers.
impl SignerLookup for TrustList {
    fn signer(&self, kid: &[u8]) -> Option<SignerCertificate> {
        self.health_signer(kid)
            .map(|(_, certificate)| certificate.clone())
    }
}

/// A fixed set of certificates (tests, an officer's offline list).
impl SignerLookup for Vec<SignerCertificate> {
    fn signer(&self, kid: &[u8]) -> Option<SignerCertificate> {
        self.iter()
            .find(|certificate| certificate.kid() == kid)
            .cloned()
    }
}

/// A DCC whose signature, times and signer verified.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifiedDcc {
    /// The key id of the signer (8 bytes).
    pub kid: Vec<u8>,
    /// `iss`: the issuing country (ISO 3166-1 alpha-2), when given.
    pub issuer: Option<String>,
    /// `iat` (Unix seconds).
    pub issued_at: i64,
    /// `exp` (Unix seconds).
    pub expires_at: i64,
    pub certificate: HealthCertificate,
}

impl std::fmt::Debug for VerifiedDcc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedDcc")
            .field("kid", &crate::jose::base64url::encode(&self.kid))
            .field("issuer", &self.issuer)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .field("certificate", &self.certificate)
            .finish()
    }
}

/// Verifies an `HC1:` code at `now` (Unix seconds): its signature with the DSC `lookup` finds by
/// the key id, `exp` not before `now`, `iat` not after `now` (give or take [`CLOCK_SKEW_SECONDS`]),
/// the DSC valid at `iat` and at `now` and allowed (extended key usage) to sign each entry's
/// kind, and the `hcert` claim readable.
pub fn verify(text: &str, lookup: &dyn SignerLookup, now: i64) -> Result<VerifiedDcc, DccError> {
    let found = std::cell::RefCell::new(None);
    let keys = |kid: &[u8]| -> Option<VerifyingKey> {
        let certificate = lookup.signer(kid)?;
        let key = certificate.key().clone();
        *found.borrow_mut() = Some(certificate);
        Some(key)
    };
    let decoded = signed_qr::decode(&PROFILE, text, &keys)?;
    let signer = found.into_inner().ok_or(SignedQrError::UnknownKey)?;
    let claims = &decoded.claims;
    let expires_at = claims.exp.ok_or(DccError::MissingClaim("exp"))?;
    let issued_at = claims.iat.ok_or(DccError::MissingClaim("iat"))?;
    let certificate = HealthCertificate::from_claims(claims)?;
    check_times(issued_at, expires_at, &signer, now)?;
    if !certificate
        .kinds()
        .into_iter()
        .all(|kind| signer.may_sign(kind))
    {
        return Err(DccError::KeyUsage);
    }
    Ok(VerifiedDcc {
        kid: decoded.kid,
        issuer: claims.iss.clone(),
        issued_at,
        expires_at,
        certificate,
    })
}

/// The time checks of [`verify`]: `now` not past the DCC's `exp` (the second of `exp` itself
/// still counts, as the EU test data expects) and `iat` not after `now` (with
/// [`CLOCK_SKEW_SECONDS`]); the signer's certificate valid at `iat` and at `now`, both ends of
/// its validity included.
pub fn check_times(
    issued_at: i64,
    expires_at: i64,
    signer: &SignerCertificate,
    now: i64,
) -> Result<(), DccError> {
    if now > expires_at {
        return Err(DccError::Expired);
    }
    if issued_at > now.saturating_add(CLOCK_SKEW_SECONDS) {
        return Err(DccError::NotYetValid);
    }
    if !signer.valid_at(issued_at) || !signer.valid_at(now) {
        return Err(DccError::SignerNotValid);
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests;
