//! What a scanned QR code or an opened link is, before anything acts on it.
//!
//! Owns: [`classify`], which an app calls on every scan or incoming link to choose the screen
//! that handles it: a venue or service-counter check-in code (`CK1:`), the identity QR an
//! officer's app verifies (`ID1:`), an officer's challenge the wallet answers (`IDC1:`), an EU
//! Digital COVID Certificate (`HC1:`), an OpenID4VP presentation request (`openid4vp://…` or an
//! `https://` link carrying `client_id` and `request_uri`), a VietQR payment code, or any other
//! `https://` web link. Recognising is structural and bounded: the text's form is checked (the
//! Base45 and zlib layers of a signed code, within the same bounds the decoder keeps; a venue
//! code's kind read from its claims; an identity QR's Base45, a challenge's content, a request
//! link's parameters, a VietQR's fields and CRC), nothing is verified, fetched or trusted here:
//! that is the job of the flow the kind leads to (`checkin`, `dcc`, `verifier`, `wallet`), which
//! reports its own typed errors. Does not own those flows. Pure and I/O-free.
//!
//! A plain `http://` link is [`ScannedKind::Unknown`]: a national app should not send a citizen
//! to a page anyone on the network can change, so the app must decide to open such a link itself.

use crate::checkin::venue_code;
use crate::checkin::wire::{VENUE_PROFILE, VenueKind};
use crate::id1;
use crate::openid4vp::AuthorizationLink;
use crate::signed_qr;

/// What a scanned text is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScannedKind {
    /// A venue's or an event's check-in code (`CK1:`): check in with `citizen.checkins()`.
    VenueCheckIn,
    /// A service counter's code (`CK1:`): checking in also asks for a queue ticket.
    CounterCheckIn,
    /// An EU Digital COVID Certificate (`HC1:`): verify it, or keep it in the wallet.
    HealthCertificate,
    /// A citizen's identity QR (`ID1:`): verify it in verifier mode.
    IdentityQr,
    /// An officer's two-way challenge (`IDC1:`): answer it with the wallet's identity QR.
    IdentityChallenge,
    /// An OpenID4VP request: prepare the wallet's consent screen with it. `client_id` is what
    /// the request claims to be; only the wallet's checks against the trust list make it so.
    PresentationRequest { client_id: String },
    /// A VietQR (EMVCo merchant-presented) payment code: its fields parse and its CRC holds.
    Payment,
    /// An `https://` link that is none of the above: the app may offer to open it.
    WebLink { url: String },
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
    if text.starts_with(VENUE_PROFILE.prefix) {
        return match venue_code::unverified_kind(text) {
            Some(VenueKind::ServiceCounter) => ScannedKind::CounterCheckIn,
            Some(VenueKind::Venue | VenueKind::Event) => ScannedKind::VenueCheckIn,
            None => ScannedKind::Unknown,
        };
    }
    if text.starts_with(crate::dcc::PROFILE.prefix) {
        return match signed_qr::unwrap_text(&crate::dcc::PROFILE, text) {
            Ok(_) => ScannedKind::HealthCertificate,
            Err(_) => ScannedKind::Unknown,
        };
    }
    if text.starts_with("000201") {
        return match crate::vietqr::parse(text) {
            Ok(_) => ScannedKind::Payment,
            Err(_) => ScannedKind::Unknown,
        };
    }
    if let Ok(link) = AuthorizationLink::parse(text) {
        return ScannedKind::PresentationRequest {
            client_id: link.client_id,
        };
    }
    match url::Url::parse(text) {
        Ok(url) if url.scheme() == "https" && url.host_str().is_some_and(|h| !h.is_empty()) => {
            ScannedKind::WebLink { url: url.into() }
        }
        _ => ScannedKind::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkin::wire::VENUE_CLAIM;
    use crate::signed_qr::{CborValue, ClaimKey, Claims};

    /// A venue code of `kind` (raw `"k"` value), signed by a throwaway key: classify never
    /// checks the signature.
    fn venue_code(kind: u64) -> String {
        let signer = crate::jose::SoftwareSigner::from_scalar(&[5u8; 32]).unwrap();
        let mut claims = Claims {
            iss: Some("sandbox-agency".into()),
            iat: Some(1_700_000_000),
            nbf: Some(1_700_000_000),
            exp: Some(1_800_000_000),
            cti: Some(vec![7; 16]),
            ..Claims::default()
        };
        let venue = vec![
            (
                CborValue::Text("v".into()),
                CborValue::Text("counter-1".into()),
            ),
            (
                CborValue::Text("n".into()),
                CborValue::Text("Quầy 1".into()),
            ),
            (CborValue::Text("a".into()), CborValue::Text(String::new())),
            (CborValue::Text("k".into()), CborValue::Integer(kind.into())),
            (
                CborValue::Text("d".into()),
                CborValue::Integer(3_600.into()),
            ),
        ];
        claims
            .private
            .insert(ClaimKey::Int(VENUE_CLAIM), CborValue::Map(venue));
        signed_qr::encode(&VENUE_PROFILE, &claims, b"venue-key", &signer).unwrap()
    }

    #[test]
    fn recognises_check_in_codes_by_their_kind_and_health_certificates_by_their_layers() {
        assert_eq!(classify(&venue_code(0)), ScannedKind::VenueCheckIn);
        assert_eq!(classify(&venue_code(1)), ScannedKind::CounterCheckIn);
        assert_eq!(classify(&venue_code(2)), ScannedKind::VenueCheckIn);
        // A kind this version does not know, a damaged code, and another profile's prefix.
        assert_eq!(classify(&venue_code(9)), ScannedKind::Unknown);
        let code = venue_code(0);
        assert_eq!(classify(&code[..code.len() - 3]), ScannedKind::Unknown);
        assert_eq!(
            classify(&code.replacen("CK1:", "HC1:", 1)),
            ScannedKind::HealthCertificate
        );
        assert_eq!(classify("HC1:NCF"), ScannedKind::Unknown);
        assert_eq!(classify("CK1:"), ScannedKind::Unknown);
    }

    #[test]
    fn an_https_link_is_a_web_link_and_a_cleartext_one_is_not() {
        assert_eq!(
            classify("https://dichvucong.gov.vn/p/home/dvc-trang-chu.html\n"),
            ScannedKind::WebLink {
                url: "https://dichvucong.gov.vn/p/home/dvc-trang-chu.html".into()
            }
        );
        for text in [
            "http://dichvucong.gov.vn/",
            "https://",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "ftp://example.org/",
        ] {
            assert_eq!(classify(text), ScannedKind::Unknown, "{text}");
        }
    }

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
