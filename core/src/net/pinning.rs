//! Certificate verification for the portal: normal WebPKI path validation, then SPKI pinning.
//!
//! Owns: the rustls `ServerCertVerifier` the client uses. Pinning applies only to the portal host
//! and only after the chain validated, so a pin can never make an untrusted certificate
//! acceptable. Any presented certificate (leaf or intermediate) may match, as OkHttp does, so a
//! portal can pin its issuing CA and rotate leaf keys freely.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{VerifierBuilderError, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{CertificateError, DigitallySignedStruct, OtherError, RootCertStore, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::config::certificate_spki_sha256;

/// The marker carried inside `rustls::Error` when no pin matched, so `net` can tell it apart from
/// an untrusted certificate.
#[derive(Debug)]
pub(crate) struct PinMismatch;

impl std::fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no presented certificate matches a configured SPKI pin")
    }
}

impl std::error::Error for PinMismatch {}

#[derive(Debug)]
pub(crate) struct PinningVerifier {
    inner: Arc<WebPkiServerVerifier>,
    pinned_host: String,
    pins: Vec<[u8; 32]>,
}

impl PinningVerifier {
    pub(crate) fn new(
        provider: Arc<CryptoProvider>,
        roots: RootCertStore,
        pinned_host: &str,
        pins: Vec<[u8; 32]>,
    ) -> Result<Self, VerifierBuilderError> {
        let inner =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider).build()?;
        Ok(Self {
            inner,
            pinned_host: pinned_host.trim_matches(['[', ']']).to_ascii_lowercase(),
            pins,
        })
    }

    fn applies_to(&self, server_name: &ServerName<'_>) -> bool {
        let name = match server_name {
            ServerName::DnsName(dns) => dns.as_ref().to_ascii_lowercase(),
            ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
            _ => return true,
        };
        name == self.pinned_host
    }
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        if self.pins.is_empty() || !self.applies_to(server_name) {
            return Ok(verified);
        }
        let matched = std::iter::once(end_entity)
            .chain(intermediates)
            .filter_map(|cert| certificate_spki_sha256(cert.as_ref()))
            .any(|hash| self.pins.contains(&hash));
        if matched {
            Ok(verified)
        } else {
            tracing::warn!("portal certificate did not match any SPKI pin");
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
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
