//! The sandbox's certificates: a CA and a leaf for `localhost` / `127.0.0.1` / `::1`, made fresh at
//! every start so no private key is ever committed or reused.
//!
//! Owns: generating them (rcgen, ECDSA P-256) and the rustls server configuration (ring provider,
//! like the SDK). The CA's PEM is written to `<data>/ca.pem` for clients to trust.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::SandboxError;

pub(crate) struct TlsMaterial {
    pub ca_pem: String,
    pub server_config: Arc<ServerConfig>,
    /// Pin of the leaf's key, for `CitizenConfig::portal_spki_pins`.
    pub leaf_pin: String,
    /// Pin of the CA's key (also accepted: the server presents the CA in its chain).
    pub ca_pin: String,
}

pub(crate) fn generate() -> Result<TlsMaterial, SandboxError> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Citizen Sandbox CA (test only)");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

    let leaf_key = KeyPair::generate()?;
    let mut leaf_params = CertificateParams::new(vec!["localhost".to_string()])?;
    leaf_params.subject_alt_names.extend([
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
    ]);
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "Citizen Sandbox Portal");
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = leaf_params.signed_by(&leaf_key, &ca)?;

    let pin_of = |der: &[u8]| {
        citizen_core::certificate_spki_pin(der).ok_or(SandboxError::UnreadableCertificate)
    };
    let leaf_pin = pin_of(leaf.der())?;
    let ca_pin = pin_of(ca.der())?;
    let chain: Vec<CertificateDer<'static>> = vec![leaf.der().clone(), ca.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let mut server_config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
    server_config.alpn_protocols = vec![b"http/1.1".to_vec()];

    Ok(TlsMaterial {
        ca_pem: ca.pem(),
        server_config: Arc::new(server_config),
        leaf_pin,
        ca_pin,
    })
}
