//! What a scanned QR code or an opened link is, before anything acts on it.
//!
//! Owns: [`classify`], which an app calls on every scan or incoming link to choose the screen
//! that handles it: the identity QR an officer's app verifies (`ID1:`), an officer's challenge
//! the wallet answers (`IDC1:`), an OpenID4VP presentation request (`openid4vp://…` or an
//! `https://` link carrying `client_id` and `request_uri`), or a VietQR payment code. Recognising
//! is structural and bounded: the text's form is checked (an identity QR's Base45, a challenge's
//! content, a request link's parameters, a VietQR's fields and CRC), nothing is verified, fetched
//! or trusted here: that is the job of
//! the flow the kind leads to (`verifier`, `wallet`), which reports its own typed errors.
//! Does not own those flows. Pure and I/O-free; the check-in capability adds its kinds here.

use crate::id1;
use crate::openid4vp::AuthorizationLink;

/// What a scanned text is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScannedKind {
    /// A citizen's identity QR (`ID1:`): verify it in verifier mode.
    IdentityQr,
    /// An officer's two-way challenge (`IDC1:`): answer it with the wallet's identity QR.
    IdentityChallenge,
    /// An OpenID4VP request: prepare the wallet's consent screen with it. `client_id` is what
    /// the request claims to be; only the wallet's checks against the trust list make it so.
    PresentationRequest { client_id: String },
    /// A VietQR (EMVCo merchant-presented) payment code: its fields parse and its CRC holds.
    Payment,
    /// Nothing the SDK handles.
    Unknown,
}

/// Classifies a scanned or opened text. Leading and trailing whitespace (a scanner's newline) is
/// ignored; anything longer than a QR code can hold is [`ScannedKind::Unknown`].
pub fn classify(text: &str) -> ScannedKind {
    let text = text.trim();
    if text.len() > id1::MAX_TEXT_CHARS {
        return ScannedKind::Unknown;
    }
    if let Some(payload) = text.strip_prefix(id1::PREFIX) {
        // The Base45 alphabet only: a prefix alone does not make an identity QR.
        let base45 =
            |c: char| c.is_ascii_digit() || c.is_ascii_uppercase() || " $%*+-./:".contains(c);
        if !payload.is_empty() && payload.chars().all(base45) {
            return ScannedKind::IdentityQr;
        }
        return ScannedKind::Unknown;
    }
    if text.starts_with(id1::CHALLENGE_PREFIX) {
        return match id1::Challenge::decode(text) {
            Ok(_) => ScannedKind::IdentityChallenge,
            Err(_) => ScannedKind::Unknown,
        };
    }
    if text.starts_with("000201") {
        return match crate::vietqr::parse(text) {
            Ok(_) => ScannedKind::Payment,
            Err(_) => ScannedKind::Unknown,
        };
    }
    match AuthorizationLink::parse(text) {
        Ok(link) => ScannedKind::PresentationRequest {
            client_id: link.client_id,
        },
        Err(_) => ScannedKind::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_each_kind_by_its_form() {
        let challenge = id1::Challenge {
            audience: "officer-1".into(),
            nonce: "n".into(),
            claims: vec![],
        }
        .encode()
        .unwrap();
        assert_eq!(classify(&challenge), ScannedKind::IdentityChallenge);
        assert_eq!(classify("ID1:6BFOXN*TS0BI$ZD\n"), ScannedKind::IdentityQr);
        let link = "openid4vp://?client_id=rp.example&request_uri=https%3A%2F%2Frp.example%2Fr";
        assert_eq!(
            classify(link),
            ScannedKind::PresentationRequest {
                client_id: "rp.example".into()
            }
        );
        let same_device = "https://wallet.example/authorize?client_id=rp.example\
            &request_uri=https%3A%2F%2Frp.example%2Fr";
        assert!(matches!(
            classify(same_device),
            ScannedKind::PresentationRequest { .. }
        ));
        let fee = crate::vietqr::payment_request("970436", "0011001234567", 50_000, "H29-0001")
            .unwrap()
            .encode()
            .unwrap();
        assert_eq!(classify(&fee), ScannedKind::Payment);
        // One character changed: the CRC no longer holds.
        assert_eq!(
            classify(&fee.replace("50000", "90000")),
            ScannedKind::Unknown
        );
    }

    #[test]
    fn look_alikes_and_junk_are_unknown() {
        for text in [
            "",
            "ID1:",
            "ID1:lowercase is not base45",
            "IDC1:!!",
            "IDC1:",
            "https://example.org/",
            "openid4vp://?client_id=rp.example",
            "openid4vp://?client_id=x509_san_dns:rp.example&request_uri=https%3A%2F%2Frp.example",
            "http://rp.example/?client_id=a&request_uri=http%3A%2F%2Frp.example",
            "000201010212",
        ] {
            assert_eq!(classify(text), ScannedKind::Unknown, "{text}");
        }
        assert_eq!(
            classify(&format!("ID1:{}", "A".repeat(id1::MAX_TEXT_CHARS))),
            ScannedKind::Unknown
        );
    }
}
