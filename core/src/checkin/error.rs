//! What can go wrong in the check-in flows. No variant carries diary contents, venue names or
//! codes: only which check failed.

use super::notice::NoticePageError;
use super::venue_code::VenueCodeError;
use crate::net::NetError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckInError {
    /// The scanned code was refused (format, key, signature, agency, validity, claims).
    #[error("the venue code was refused: {0}")]
    Code(#[from] VenueCodeError),
    /// No verified, unexpired trust list is available: refresh it while online.
    #[error("no trust list is available")]
    NoTrustList,
    /// No diary entry (or match) has this id.
    #[error("no diary entry has this id")]
    NotFound,
    /// A queue ticket was asked for an entry that is not at a service counter.
    #[error("the entry is not at a service counter")]
    NotACounter,
    /// A ticket was asked for an entry that is already checked out.
    #[error("the entry is checked out")]
    CheckedOut,
    /// An argument is not acceptable; names it.
    #[error("the argument `{0}` is not acceptable")]
    InvalidInput(&'static str),
    /// The portal's notices page was refused as a whole.
    #[error("the notices page was refused: {0}")]
    NoticesRefused(#[from] NoticePageError),
    /// The portal's answer does not follow the contract (a malformed ticket, ...).
    #[error("the portal's answer does not follow the contract: {0}")]
    InvalidAnswer(&'static str),
    #[error(transparent)]
    Net(#[from] NetError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CheckInError {
    /// Worth trying again later (offline, timeouts, server trouble).
    pub fn is_retryable(&self) -> bool {
        match self {
            CheckInError::Net(net) => net.is_transient(),
            _ => false,
        }
    }
}

impl From<rusqlite::Error> for CheckInError {
    fn from(error: rusqlite::Error) -> Self {
        CheckInError::Store(error.into())
    }
}
