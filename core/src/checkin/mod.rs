//! QR check-ins: venue and service-counter codes verified offline, the citizen's private diary,
//! exposure notices matched on the phone, and counter queue tickets.
//!
//! Owns: the contract with the portal ([`wire`]). The flows, the diary and the notices arrive
//! with the rest of the capability.

pub mod wire;
