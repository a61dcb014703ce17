//! SD-JWT (RFC 9901) and SD-JWT VC: selective disclosure for signed credentials.
//!
//! Owns: [`Disclosure`]s (object properties and array elements, 128-bit salts from the system
//! RNG, SHA-256 digests), issuance from claims plus the [`ClaimPath`]s of the disclosable ones
//! ([`issue`], recursive, with optional decoys), parsing `<jwt>~<disclosure>~...~[<kb-jwt>]`
//! ([`SdJwt::parse`], sizes bounded by [`Limits`] before decoding), presentation by claim path
//! with a key binding JWT ([`SdJwt::present`]), and verification ([`verify`]): issuer signature,
//! every disclosure referenced exactly once, `_sd_alg` `sha-256`, no leftover `_sd`/`...`, no
//! colliding or reserved claim names, `exp`/`nbf`, and key binding (`cnf.jwk` signature,
//! `sd_hash`, `aud`, `nonce`, `iat` freshness), returning the processed claims as JSON.
//! Does not own which issuers to trust or where their keys come from (the caller passes the
//! key: the trust list's job), credential status, storage, or transport (the wallet's).
//! Pure and I/O-free, with typed errors that never quote claim values: it can be fuzzed alone.
//! Only the compact serialization is implemented; the JWS JSON serialization is not.

mod disclosure;
mod error;
mod issue;
mod parse;
mod path;
mod present;
mod verify;

#[cfg(test)]
mod tests;

pub use disclosure::{Disclosure, SALT_BYTES, digest};
pub use error::{DisclosureError, SdJwtError};
pub use issue::{IssueOptions, IssuedSdJwt, issue};
pub use parse::{KeyHint, SdJwt};
pub use path::{ClaimPath, PathStep};
pub use present::KeyBindingParams;
pub use verify::{KeyBinding, KeyBindingClaims, Verified, VerifyOptions, verify};

/// The one `_sd_alg` supported (and the default when it is absent).
pub const SD_ALG: &str = "sha-256";
/// The `typ` of a key binding JWT.
pub const KB_JWT_TYP: &str = "kb+jwt";
/// The `typ` of an SD-JWT VC.
pub const SD_JWT_VC_TYP: &str = "dc+sd-jwt";

/// Top-level claims that must stay visible: SD-JWT VC forbids disclosing them, and a verifier
/// needs them before it knows what was disclosed (the key, validity, type and status).
pub const NEVER_DISCLOSABLE: &[&str] =
    &["iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"];

/// Names SD-JWT itself uses, which no claim may have.
fn is_sd_reserved(name: &str) -> bool {
    matches!(name, "_sd" | "..." | "_sd_alg")
}

/// Size bounds on everything parsed, checked before decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The whole compact text, key binding JWT included.
    pub max_sd_jwt_len: usize,
    pub max_issuer_jwt_len: usize,
    pub max_disclosures: usize,
    /// One disclosure, encoded (a portrait in a PID is tens of kilobytes).
    pub max_disclosure_len: usize,
    pub max_kb_jwt_len: usize,
    /// Nesting of the processed claims, disclosures included.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_sd_jwt_len: 1024 * 1024,
            max_issuer_jwt_len: 256 * 1024,
            max_disclosures: 1024,
            max_disclosure_len: 192 * 1024,
            max_kb_jwt_len: 8 * 1024,
            max_depth: 32,
        }
    }
}
