//! [`DossierError`]: what can go wrong in the dossier capability. Carries no personal data and
//! no catalogue content (a refusal names a member, a field id or a rule, never a value).

use crate::net::NetError;
use crate::store::StoreError;

use super::attachment::AttachmentError;
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
    /// The stored catalogue has no procedure with that code (sync it, or it was withdrawn).
    #[error("no such procedure in the stored catalogue")]
    ProcedureNotFound,
    /// No draft with that id (never made, or deleted).
    #[error("no such draft")]
    DraftNotFound,
    /// The draft is no longer being edited (it was submitted): it cannot change.
    #[error("the draft is locked (no longer being edited)")]
    DraftLocked,
    /// The draft's procedure has no field with this id. The id is kept only when it has the
    /// shape of a field id (`[a-z0-9_]`, at most 64), otherwise it reads `<not a field id>`.
    #[error("the procedure has no field {0:?}")]
    UnknownField(String),
    /// A value is longer than [`super::draft::MAX_VALUE_CHARS`]; names the field.
    #[error("the value of field {0:?} is too long")]
    ValueTooLong(String),
    /// An attachment was refused or could not be read.
    #[error(transparent)]
    Attachment(#[from] AttachmentError),
    /// No attachment with that id (never added, removed, or not yet complete).
    #[error("no such attachment")]
    AttachmentNotFound,
    /// Pre-filling needs the wallet's person-identification credential, and none is usable.
    #[error("no usable person-identification credential in the wallet")]
    NoIdentityCredential,
    /// A claim approved for pre-filling is not among the candidates offered for this draft.
    #[error("claim {0:?} was not offered for pre-filling this draft")]
    ClaimNotOffered(String),
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
    /// The draft does not pass validation; every field error is listed (no values).
    #[error("the draft does not pass validation ({} field errors)", .0.len())]
    NotValid(Vec<super::validate::FieldError>),
    /// The draft changed while it was being signed; submit again.
    #[error("the draft changed while it was being signed")]
    DraftChanged,
    /// The draft has a dossier on its way to the portal; it can be deleted once the portal has
    /// it or the dossier is discarded.
    #[error("the draft has a dossier the portal has not received yet")]
    DraftInFlight,
    /// No submission with this id (or not in a state that allows the request).
    #[error("no such submission in a state that allows this")]
    UnknownSubmission,
    #[error("the system could not provide randomness")]
    Randomness,
    /// The portal's status feed answer was not acceptable; nothing of it was stored.
    #[error(transparent)]
    InvalidStatusFeed(super::status_feed::InvalidStatusFeed),
    /// The dossier has no open supplement request (none was asked, or one was already filed
    /// for it).
    #[error("the dossier has no open supplement request")]
    NoOpenSupplementRequest,
    /// The dossier cannot be withdrawn: the portal does not have it yet, its status is final, or
    /// a withdrawal is already on its way.
    #[error("the dossier cannot be withdrawn now")]
    NotWithdrawable,
    /// No fee with that id.
    #[error("no such fee")]
    FeeNotFound,
    /// The portal's payment request cannot be drawn as a VietQR.
    #[error(transparent)]
    FeeQr(#[from] crate::vietqr::VietQrError),
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

/// `name` if it has the shape of a field or claim id, else a fixed placeholder: what an app
/// passed may be anything, and errors carry no personal data.
pub(crate) fn safe_name(name: &str) -> String {
    if !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        name.to_owned()
    } else {
        "<not a field id>".to_owned()
    }
}
