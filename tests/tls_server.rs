//! A scriptable HTTPS server for the transport-security tests: any certificate chain, any
//! answer, including the ones a real portal would never give (a chain with an appended stranger,
//! a redirect to another host, a body that never ends).
//!
//! Owns: making test PKIs (root and intermediate CAs, leaves) with rcgen, and serving raw HTTP/1.1
//! answers over rustls on loopback while counting the requests that got through the handshake.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A certificate authority for tests.
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
    pub pem: String,
    pub der: CertificateDer<'static>,
    /// `sha256/…` pin of its key.
    pub pin: String,
}

impl Ca {
    pub fn root(name: &str) -> Self {
        let params = ca_params(name);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Self::from_issuer(issuer)
    }

    /// A CA signed by `self`.
    pub fn intermediate(&self, name: &str) -> Self {
        let issuer =
            CertifiedIssuer::signed_by(ca_params(name), KeyPair::generate().unwrap(), &self.issuer)
                .unwrap();
        Self::from_issuer(issuer)
    }

    fn from_issuer(issuer: CertifiedIssuer<'static, KeyPair>) -> Self {
        let der = issuer.der().clone();
        Self {
            pem: issuer.pem(),
            pin: citizen_core::certificate_spki_pin(&der).unwrap(),
            der,
            issuer,
        }
    }

    /// A server certificate for 127.0.0.1 / localhost signed by this CA.
    pub fn leaf(&self) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params
            .subject_alt_names
            .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
        params
            .distinguished_name
            .push(DnType::CommonName, "test server");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let der = cert.der().clone();
        Leaf {
            pin: citizen_core::certificate_spki_pin(&der).unwrap(),
            der,
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        }
    }
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

pub struct Leaf {
    pub der: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
    pub pin: String,
}

/// Makes the raw HTTP response bytes for one request (given its request line).
pub type Responder = Arc<dyn Fn(&str) -> Vec<u8> + Send + Sync>;

/// An HTTPS server on a free loopback port. Stops when dropped.
pub struct TlsServer {
    pub addr: SocketAddr,
    pub base_url: String,
    requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl TlsServer {
    /// Serves `chain` (leaf first, then whatever else the server should present) with the leaf's
    /// key, answering every request with `respond`.
    pub async fn start(
        chain: Vec<CertificateDer<'static>>,
        leaf: &Leaf,
        respond: Responder,
    ) -> Self {
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, PrivateKeyDer::Pkcs8(leaf.key.clone_key()))
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let respond = respond.clone();
                let counted = counted.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(socket).await else {
                        return;
                    };
                    let mut head = Vec::new();
                    let mut buffer = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buffer[..n]),
                        }
                    }
                    counted.fetch_add(1, Ordering::SeqCst);
                    let head = String::from_utf8_lossy(&head);
                    let request_line = head.lines().next().unwrap_or_default().to_string();
                    let _ = tls.write_all(&respond(&request_line)).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        Self {
            addr,
            base_url: format!("https://{addr}/"),
            requests,
            task,
        }
    }

    /// Requests that completed the handshake and reached the server.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A `200 OK` JSON answer like the portal's ping.
pub fn ping_ok() -> Responder {
    Arc::new(|_| {
        http_response(
            "200 OK",
            &[("content-type", "application/json")],
            br#"{"portal_name":"test server","api_version":1,"server_time":0}"#,
        )
    })
}

pub fn http_response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}
