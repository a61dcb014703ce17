//! [`DossierError`]: what can go wrong in the dossier capability. Carries no personal data and
//! no catalogue content (a refusal names a member, never its value).

use crate::net::NetError;
use crate::store::StoreError;

use super::wire::InvalidCatalogue;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DossierError {
    /// The portal's catalogue answer was not valid JSON, broke a limit, or did not follow the
    /// protocol (a `304` to a request without a validator, `more` without a new cursor). Nothing
    /// of it was stored; what was stored before stays.
    #[error(transparent)]
    InvalidCatalogue(#[from] InvalidCatalogue),
    /// An argument is out of range; names it.
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
    #[error(transparent)]
    Net(#[from] NetError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Signing the dossier needs the wallet: not activated, a wrong PIN, a lockout, ...
    #[error(transparent)]
    Wallet(#[from] crate::wallet::WalletError),
    /// The manifest could not be built or signed within its bounds.
    #[error(transparent)]
    Manifest(#[from] super::manifest::ManifestError),
    /// No submission with this id (or not in a state that allows the request).
    #[error("no such submission in a state that allows this")]
    UnknownSubmission,
    #[error("the system could not provide randomness")]
    Randomness,
}

impl From<crate::outbox::OutboxError> for DossierError {
    fn from(error: crate::outbox::OutboxError) -> Self {
        match error {
            crate::outbox::OutboxError::Store(store) => DossierError::Store(store),
            crate::outbox::OutboxError::Randomness => DossierError::Randomness,
            // A duplicate key or a lost lease is the sender's own state going wrong.
            _ => DossierError::Store(StoreError::Corrupt),
        }
    }
}

impl From<rusqlite::Error> for DossierError {
    fn from(error: rusqlite::Error) -> Self {
        DossierError::Store(error.into())
    }
}
