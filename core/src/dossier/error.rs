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
}

impl From<rusqlite::Error> for DossierError {
    fn from(error: rusqlite::Error) -> Self {
        DossierError::Store(error.into())
    }
}
