//! Why an SD-JWT was refused, or could not be issued or presented.

use crate::jose::{Base64UrlError, JsonError, JwkError, JwsError};

/// Every failure of the SD-JWT engine, one variant per rule. The texts are fixed wording (plus
/// sizes and limits): they never quote a token, a claim value or a claim name, so they may be
/// logged and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SdJwtError {
    // Parsing.
    #[error("the {what} is {len} bytes, more than the {max}-byte limit")]
    TooLarge {
        what: &'static str,
        len: usize,
        max: usize,
    },
    #[error("the SD-JWT has more than {max} disclosures")]
    TooManyDisclosures { max: usize },
    #[error("the text is not an SD-JWT: it has no `~` separator")]
    NotAnSdJwt,
    #[error("the SD-JWT has an empty disclosure (`~~`)")]
    EmptyDisclosure,
    #[error("the issuer-signed JWT is refused: {0}")]
    IssuerJwt(JwsError),
    #[error("a disclosure is malformed: {0}")]
    Disclosure(#[from] DisclosureError),
    #[error("the key binding JWT is refused: {0}")]
    KbJwt(JwsError),

    // Processing the issuer-signed claims and the disclosures.
    #[error("`_sd_alg` is not `sha-256`, the only digest algorithm supported")]
    UnsupportedSdAlg,
    #[error("`_sd_alg` appears below the top level of the payload")]
    MisplacedSdAlg,
    #[error("the same disclosure is presented twice")]
    DuplicateDisclosure,
    #[error("a digest appears more than once in the SD-JWT")]
    DuplicateDigest,
    #[error("a disclosure is not referenced by any digest (tampered, or not from this SD-JWT)")]
    UnreferencedDisclosure,
    #[error("an `_sd` member is not an array of digest strings, or a `...` digest is not a string")]
    InvalidDigests,
    #[error("a `...` member appears outside an array element of its own")]
    MisplacedArrayDigest,
    #[error("an array-element disclosure is referenced for an object property, or the reverse")]
    DisclosureKindMismatch,
    #[error("a disclosed claim has the name of a claim already present")]
    ClaimNameCollision,
    #[error(
        "a claim that may not be selectively disclosed (such as `iss`, `exp`, `cnf`, `vct` or `status`) is in a disclosure"
    )]
    ReservedClaimDisclosed,
    #[error("the claims nest deeper than the {max}-level limit")]
    TooDeep { max: usize },
    #[error("the time claim `{0}` is not a number of seconds")]
    InvalidTimeClaim(&'static str),
    #[error("the SD-JWT has expired")]
    Expired,
    #[error("the SD-JWT is not valid yet")]
    NotYetValid,
    #[error("the SD-JWT VC has no `vct` string")]
    MissingVct,

    // Key binding.
    #[error("key binding is required but the presentation has no key binding JWT")]
    KeyBindingMissing,
    #[error("the SD-JWT has no holder key (`cnf.jwk`)")]
    MissingHolderKey,
    #[error("the holder key in `cnf.jwk` is not usable: {0}")]
    HolderKey(JwkError),
    #[error("the key binding JWT lacks the claim `{0}` or it has the wrong type")]
    KbClaim(&'static str),
    #[error("the key binding JWT's `sd_hash` does not match the presented SD-JWT")]
    SdHashMismatch,
    #[error("the key binding JWT is for another audience")]
    AudienceMismatch,
    #[error("the key binding JWT carries another nonce")]
    NonceMismatch,
    #[error("the key binding JWT is too old")]
    KbStale,
    #[error("the key binding JWT was issued in the future")]
    KbInFuture,

    // Issuance and presentation.
    #[error("the claims use a name reserved by SD-JWT (`_sd`, `...`, `_sd_alg`)")]
    ReservedClaimName,
    #[error("a claim that may not be selectively disclosed was marked disclosable")]
    NotDisclosable,
    #[error("a claim path does not match the claims: {0}")]
    PathMismatch(&'static str),
    #[error("the claims already hold `cnf` and a holder key was given as well")]
    CnfConflict,
    #[error("no claim at a requested path")]
    ClaimNotFound,
    #[error("the signer's key is not the holder key bound to the SD-JWT")]
    HolderKeyMismatch,
    #[error("signing failed: {0}")]
    Signing(JwsError),
    #[error("the system random number generator failed")]
    Randomness,
}

/// Why one disclosure is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DisclosureError {
    #[error("it is not unpadded base64url: {0}")]
    Encoding(Base64UrlError),
    #[error("it is not acceptable JSON: {0}")]
    Json(JsonError),
    #[error("it is not a JSON array of two or three elements")]
    Shape,
    #[error("its salt is not a string")]
    Salt,
    #[error("its claim name is not a string")]
    ClaimName,
    #[error("its claim name is `_sd` or `...`, which may not be disclosed")]
    ReservedName,
}
