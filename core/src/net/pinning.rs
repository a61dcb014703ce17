//! Certificate verification for one origin: WebPKI path validation, then SPKI pinning against the
//! path that was validated.
//!
//! Owns: the rustls `ServerCertVerifier` each per-origin client uses. Validation is done here with
//! rustls-webpki directly (not rustls' `WebPkiServerVerifier`) because pinning must see the
//! verified path: the leaf, the intermediates that were actually used and the trust anchor. A pin
//! matches only a certificate on that path, so
//! - a certificate the server merely appends (an attacker's chain with the pinned CA's public
//!   certificate tacked on, as in OkHttp's CVE-2016-2402) never matches, and
//! - a pinned root the server does not send still matches, as the path's trust anchor.
//!
//! Pinning runs only after the chain validated, so a pin can never make an untrusted certificate
//! acceptable. Does not own which origin has which pins (`policy`).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, RootCertStore, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::config::spki_sha256;

/// The marker carried inside `rustls::Error` when no pin matched, so `net` can tell it apart from
/// an untrusted certificate.
#[derive(Debug)]
pub(crate) struct PinMismatch;

impl std::fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no certificate on the validated path matches a configured SPKI pin")
    }
}

impl std::error::Error for PinMismatch {}

#[derive(Debug)]
pub(crate) struct PinningVerifier {
    roots: Arc<RootCertStore>,
    algorithms: WebPkiSupportedAlgorithms,
    /// The only host this verifier accepts (its client talks to one origin).
    host: String,
    /// Empty: a development setup, validation only.
    pins: Vec<[u8; 32]>,
}

impl PinningVerifier {
    pub(crate) fn new(
        provider: &CryptoProvider,
        roots: Arc<RootCertStore>,
        host: &str,
        pins: Vec<[u8; 32]>,
    ) -> Self {
        Self {
            roots,
            algorithms: provider.signature_verification_algorithms,
            host: host.trim_matches(['[', ']']).to_ascii_lowercase(),
            pins,
        }
    }

    fn is_our_host(&self, server_name: &ServerName<'_>) -> bool {
        match server_name {
            ServerName::DnsName(dns) => dns.as_ref().eq_ignore_ascii_case(&self.host),
            ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string() == self.host,
            _ => false,
        }
    }

    /// The SHA-256 of each SubjectPublicKeyInfo on the validated path, trust anchor included.
    fn path_spki_hashes(path: &webpki::VerifiedPath<'_>) -> Vec<[u8; 32]> {
        let mut hashes = vec![spki_sha256(&path.end_entity().subject_public_key_info())];
        hashes.extend(
            path.intermediate_certificates()
                .map(|cert| spki_sha256(&cert.subject_public_key_info())),
        );
        hashes.push(spki_sha256(&webpki::spki_for_anchor(path.anchor())));
        hashes
    }
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if !self.is_our_host(server_name) {
            // Each client talks to one origin; any other name means something is miswired.
            return Err(CertificateError::NotValidForName.into());
        }
        let cert = webpki::EndEntityCert::try_from(end_entity).map_err(pki_error)?;
        let path = cert
            .verify_for_usage(
                self.algorithms.all,
                &self.roots.roots,
                intermediates,
                now,
                webpki::KeyUsage::server_auth(),
                None,
                None,
            )
            .map_err(pki_error)?;
        cert.verify_is_valid_for_subject_name(server_name)
            .map_err(pki_error)?;
        if self.pins.is_empty() {
            return Ok(ServerCertVerified::assertion());
        }
        let matched = Self::path_spki_hashes(&path)
            .iter()
            .any(|hash| self.pins.contains(hash));
        if matched {
            Ok(ServerCertVerified::assertion())
        } else {
            tracing::warn!("no certificate on the validated path matches a pin");
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                OtherError(Arc::new(PinMismatch)),
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// webpki's verdict as the `rustls::Error` rustls itself would report, so `net` classifies it the
/// same way (untrusted, expired, wrong name, ...).
fn pki_error(error: webpki::Error) -> rustls::Error {
    use webpki::Error as E;
    let certificate_error = match error {
        E::BadDer | E::BadDerTime | E::TrailingData(_) => CertificateError::BadEncoding,
        E::CertNotValidYet { .. } => CertificateError::NotValidYet,
        E::CertExpired { .. } | E::InvalidCertValidity => CertificateError::Expired,
        E::UnknownIssuer => CertificateError::UnknownIssuer,
        E::CertNotValidForName(_) => CertificateError::NotValidForName,
        E::CertRevoked => CertificateError::Revoked,
        E::InvalidSignatureForPublicKey
        | E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => CertificateError::BadSignature,
        other => CertificateError::Other(OtherError(Arc::new(other))),
    };
    rustls::Error::InvalidCertificate(certificate_error)
}
