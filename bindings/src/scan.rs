//! The FFI of `citizen_core::scan`: what a scanned QR or an opened link is.
//!
//! Owns: shape only; the meaning is in `citizen_core::scan`.

/// What a scanned text is. See `citizen_core::scan::ScannedKind`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ScannedKind {
    /// A venue's or an event's check-in code (`CK1:`): check in with `citizen.checkins()`.
    VenueCheckIn,
    /// A service counter's code (`CK1:`): checking in also asks the agency for a queue ticket.
    CounterCheckIn,
    /// An EU Digital COVID Certificate (`HC1:`): verify it, or keep it in the wallet.
    HealthCertificate,
    /// A citizen's identity QR (`ID1:`): verify it with `citizen.verifier()`.
    IdentityQr,
    /// An officer's two-way challenge (`IDC1:`): answer it with `wallet.identity_qr`.
    IdentityChallenge,
    /// An OpenID4VP request: pass the text to `wallet.prepare_disclosure`. `client_id` is what
    /// the request claims to be; the wallet checks it against the trust list.
    PresentationRequest { client_id: String },
    /// A VietQR payment code (its fields parse and its CRC holds).
    Payment,
    /// An `https://` link that is none of the above: the app may offer to open it. A plain
    /// `http://` link is `Unknown`.
    WebLink { url: String },
    /// Nothing the SDK handles.
    Unknown,
}

/// Classifies a scanned QR text or an opened link, without verifying, fetching or trusting
/// anything: it only chooses the screen that handles it.
#[uniffi::export]
pub fn classify(text: String) -> ScannedKind {
    use citizen_core::scan::ScannedKind as Core;
    match citizen_core::scan::classify(&text) {
        Core::VenueCheckIn => ScannedKind::VenueCheckIn,
        Core::CounterCheckIn => ScannedKind::CounterCheckIn,
        Core::HealthCertificate => ScannedKind::HealthCertificate,
        Core::WebLink { url } => ScannedKind::WebLink { url },
        Core::IdentityQr => ScannedKind::IdentityQr,
        Core::IdentityChallenge => ScannedKind::IdentityChallenge,
        Core::PresentationRequest { client_id } => ScannedKind::PresentationRequest { client_id },
        Core::Payment => ScannedKind::Payment,
        _ => ScannedKind::Unknown,
    }
}
