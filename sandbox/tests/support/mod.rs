//! What the sandbox's integration tests share: an HTTPS client that trusts the sandbox's CA, a
//! started sandbox, and a wallet that activates and obtains a PID the way a real one does.
#![allow(dead_code)]

use std::sync::Arc;

use citizen_core::jose::SoftwareSigner;
use citizen_core::openid4vci::{
    self, ActivationRequest, CredentialOffer, CredentialRequest, CredentialResponse,
    IssuerMetadata, MAX_MESSAGE_LEN, NonceResponse, OAuthErrorResponse, TokenRequest,
    TokenResponse,
};
use citizen_sandbox::enrollment::EnrollmentRequest;
use citizen_sandbox::{RunningSandbox, SandboxConfig};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE};

pub const ID: &str = "001090012345";

/// A reqwest client that trusts the sandbox's own CA (and nothing else).
pub fn client(sandbox: &RunningSandbox) -> reqwest::Client {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(sandbox.ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .https_only(true)
        .build()
        .unwrap()
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The wallet's side of the flow, step by step.
pub struct Wallet {
    pub http: reqwest::Client,
    pub base_url: String,
    pub device: SoftwareSigner,
}

impl Wallet {
    pub fn new(sandbox: &RunningSandbox) -> Self {
        Self {
            http: client(sandbox),
            base_url: sandbox.base_url.clone(),
            device: SoftwareSigner::generate().unwrap(),
        }
    }

    pub async fn activate(&self, id_number: &str) -> CredentialOffer {
        let request = ActivationRequest {
            id_number: id_number.into(),
            device_key_proof: openid4vci::activation_proof(
                &self.device,
                self.device.public_key(),
                id_number,
                now(),
            )
            .unwrap(),
            attestation: Some("dGVzdCBhdHRlc3RhdGlvbg==".into()),
        };
        let response = self
            .http
            .post(format!("{}v1/wallet/activations", self.base_url))
            .json(&request)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        decode(response).await
    }

    pub async fn metadata(&self) -> IssuerMetadata {
        let response = self
            .http
            .get(format!(
                "{}.well-known/openid-credential-issuer",
                self.base_url
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        decode(response).await
    }

    pub async fn token(
        &self,
        metadata: &IssuerMetadata,
        offer: &CredentialOffer,
        tx_code: &str,
    ) -> reqwest::Response {
        let request = TokenRequest {
            pre_authorized_code: offer
                .pre_authorized_grant()
                .unwrap()
                .pre_authorized_code
                .clone(),
            tx_code: Some(tx_code.into()),
        };
        self.http
            .post(&metadata.token_endpoint)
            .header(CONTENT_TYPE, TokenRequest::CONTENT_TYPE)
            .body(request.to_form())
            .send()
            .await
            .unwrap()
    }

    pub async fn nonce(&self, metadata: &IssuerMetadata) -> String {
        let response = self
            .http
            .post(metadata.nonce_endpoint.as_deref().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        decode::<NonceResponse>(response).await.c_nonce
    }

    pub async fn credential(
        &self,
        metadata: &IssuerMetadata,
        access_token: &str,
        signer: &SoftwareSigner,
        nonce: &str,
    ) -> reqwest::Response {
        let proof = openid4vci::proof_jwt(
            signer,
            signer.public_key(),
            &metadata.credential_issuer,
            nonce,
            now(),
        )
        .unwrap();
        self.http
            .post(&metadata.credential_endpoint)
            .header(AUTHORIZATION, format!("Bearer {access_token}"))
            .json(&CredentialRequest::pid(proof))
            .send()
            .await
            .unwrap()
    }

    /// Activation to credential, the happy path.
    pub async fn obtain_pid(&self, id_number: &str, activation_code: &str) -> String {
        let offer = self.activate(id_number).await;
        let metadata = self.metadata().await;
        let token: TokenResponse =
            decode(self.token(&metadata, &offer, activation_code).await).await;
        let nonce = self.nonce(&metadata).await;
        let response = self
            .credential(&metadata, &token.access_token, &self.device, &nonce)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let mut response: CredentialResponse = decode(response).await;
        response.credentials.remove(0).credential
    }
}

pub async fn decode<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> T {
    let bytes = response.bytes().await.unwrap();
    openid4vci::from_json(&bytes, 4 * MAX_MESSAGE_LEN).unwrap()
}

pub async fn oauth_error(response: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status);
    decode::<OAuthErrorResponse>(response).await.error
}

pub async fn start() -> (RunningSandbox, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let sandbox = citizen_sandbox::start(SandboxConfig::loopback(data.path()))
        .await
        .unwrap();
    (sandbox, data)
}

/// Enrols the sample citizen and runs a fresh wallet through the whole flow: the wallet and its
/// PID.
pub async fn enrolled_wallet_with_pid(sandbox: &RunningSandbox) -> (Wallet, String) {
    let code = sandbox
        .enroll(&EnrollmentRequest::sample(ID))
        .unwrap()
        .activation_code;
    let wallet = Wallet::new(sandbox);
    let credential = wallet.obtain_pid(ID, &code).await;
    (wallet, credential)
}
