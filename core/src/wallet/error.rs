//! What can go wrong in the wallet's flows, by flow step. No variant carries personal data: claim
//! values, the ID number, the activation code and the PIN never appear in an error.

use crate::dcql::MatchError;
use crate::jose::JwsError;
use crate::net::NetError;
use crate::openid4vp::Openid4vpError;
use crate::platform::PlatformError;
use crate::sdjwt::SdJwtError;
use crate::store::StoreError;
use crate::wallet::pin::{PinError, WeakPin};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalletError {
    #[error("the wallet is not activated")]
    NotActivated,
    #[error("the wallet is already activated; reset it first")]
    AlreadyActivated,
    /// The app gave the SDK no key store and did not choose the software one.
    #[error("no device key store was configured")]
    NoKeyStore,
    #[error("the activation data is not well-formed: {0}")]
    InvalidInput(&'static str),
    /// The issuer refused the activation code (wrong, used, expired, or too many wrong tries).
    #[error("the activation code was not accepted")]
    ActivationCodeRejected,
    /// Activation issued and stored the credential, but the PIN chosen is the birth date on it.
    /// Nothing is lost: call `complete_activation` with another PIN.
    #[error("the credential is stored; choose another PIN to finish activation ({0})")]
    ChooseAnotherPin(WeakPin),
    #[error("no activation waits for a PIN")]
    NoPendingActivation,
    /// The issuer answered against the protocol (an OAuth error code, or a malformed answer).
    #[error("the credential issuer refused or answered against the protocol: {0}")]
    Issuer(String),
    #[error("the credential was refused: {0}")]
    CredentialRejected(CredentialCheck),
    /// No verified trust list is cached yet: refresh it while online.
    #[error("no trust list is available")]
    NoTrustList,
    #[error("the credential has been revoked")]
    Revoked,
    #[error("the credential is suspended")]
    Suspended,
    /// A remote presentation request was refused before the citizen saw it: malformed, not
    /// signed by the relying party, expired, or asking for more than the relying party may.
    #[error("the presentation request was refused: {0}")]
    RequestRefused(Openid4vpError),
    /// The request names a client the trust list does not know.
    #[error("the relying party is not in the trust list")]
    UnknownRelyingParty,
    /// A request (its `nonce` or `state`) the wallet has already answered.
    #[error("the presentation request was already answered")]
    RequestReplayed,
    /// The wallet holds nothing that satisfies the request.
    #[error("the wallet cannot satisfy the request: {0}")]
    CannotSatisfy(MatchError),
    /// No prepared request has this id (never prepared, answered, or expired).
    #[error("no prepared presentation request has this id")]
    UnknownDisclosure,
    /// The optional claims the citizen chose are not a combination the request offers.
    #[error("the relying party does not accept this combination of optional claims")]
    ClaimChoiceNotOffered,
    /// The relying party answered the request or the response with an HTTP error.
    #[error("the relying party answered with HTTP status {status}")]
    RelyingParty { status: u16 },
    /// An EU DCC (`HC1:`) that did not verify against the trust list's health signers, or
    /// cannot be read, or has expired. Nothing was stored.
    #[error("the health certificate was refused: {0}")]
    HealthCertificateRejected(crate::dcc::DccError),
    #[error(transparent)]
    Pin(#[from] PinError),
    #[error("device key: {0}")]
    Platform(#[from] PlatformError),
    #[error(transparent)]
    Net(#[from] NetError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for WalletError {
    fn from(error: rusqlite::Error) -> Self {
        WalletError::Store(error.into())
    }
}

/// Why an issued credential was not accepted. Checked before anything is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialCheck {
    #[error("its issuer is not in the trust list")]
    UntrustedIssuer,
    #[error("its issuer may not issue this credential type")]
    TypeNotAllowed,
    #[error("it is not the credential type that was asked for")]
    WrongType,
    #[error("it is not bound to this wallet's device key")]
    NotBoundToDevice,
    #[error("it is not valid yet or has expired")]
    NotValidNow,
    #[error("it came from another issuer than the offer named")]
    IssuerMismatch,
    #[error("it lacks the claim {0}")]
    MissingClaim(&'static str),
    #[error("it came with a key binding, which an issued credential never has")]
    UnexpectedKeyBinding,
    #[error("it did not verify: {0}")]
    Invalid(SdJwtError),
    #[error("its signature did not verify: {0}")]
    Signature(JwsError),
}
