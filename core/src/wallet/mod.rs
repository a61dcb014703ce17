//! The wallet: the citizen's identity on this phone.
//!
//! Owns (growing with the wallet-identity issue): the PIN ([`pin`]) and the disclosure history
//! ([`history`]) — and, in later increments, activation, the person-identification credential
//! and presentations.
//! Does not own device keys (`platform::KeyStore`) nor the SD-JWT and JOSE formats (`sdjwt`,
//! `jose`), which are I/O-free and usable on their own.

pub mod history;
pub mod pin;
