//! The FFI of `citizen_core::scan`: what a scanned QR or an opened link is.
//!
//! Owns: shape only; the meaning is in `citizen_core::scan`.

/// What a scanned text is. See `citizen_core::scan::ScannedKind`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ScannedKind {
    /// A citizen's identity QR (`ID1:`): verify it with `citizen.verifier()`.
    IdentityQr,
    /// An officer's two-way challenge (`IDC1:`): answer it with `wallet.identity_qr`.
    IdentityChallenge,
    /// An OpenID4VP request: pass the text to `wallet.prepare_disclosure`. `client_id` is what
    /// the request claims to be; the wallet checks it against the trust list.
    PresentationRequest { client_id: String },
    /// A VietQR payment code (its fields parse and its CRC holds).
    Payment,
    /// Nothing the SDK handles.
    Unknown,
}

/// Classifies a scanned QR text or an opened link, without verifying, fetching or trusting
/// anything: it only chooses the screen that handles it.
#[uniffi::export]
pub fn classify(text: String) -> ScannedKind {
    use citizen_core::scan::ScannedKind as Core;
    match citizen_core::scan::classify(&text) {
        Core::IdentityQr => ScannedKind::IdentityQr,
        Core::IdentityChallenge => ScannedKind::IdentityChallenge,
        Core::PresentationRequest { client_id } => ScannedKind::PresentationRequest { client_id },
        Core::Payment => ScannedKind::Payment,
        _ => ScannedKind::Unknown,
    }
}
