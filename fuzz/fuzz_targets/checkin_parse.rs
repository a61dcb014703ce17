//! Venue codes and exposure notices are whatever a camera or the portal delivered: reading a
//! code's claims, verifying a code or a notice against a trust list, and matching must return a
//! value or a typed error for every input, never panic; a code that reads must mint claims that
//! read back to the same code.
#![no_main]

use std::sync::OnceLock;

use citizen_core::checkin::notice::{self, Visit};
use citizen_core::checkin::wire::ExposureNotice;
use citizen_core::checkin::{VenueCode, venue_code};
use citizen_core::jose::SoftwareSigner;
use citizen_core::signed_qr::Claims;
use citizen_core::trust_list::{TrustList, TrustedKey, VenueSigner};
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_800_000_000;

fn list() -> &'static TrustList {
    static LIST: OnceLock<TrustList> = OnceLock::new();
    LIST.get_or_init(|| {
        let signer = SoftwareSigner::from_scalar(&[0x42; 32]).expect("a valid scalar");
        TrustList {
            iss: "https://portal.example/".into(),
            iat: NOW,
            exp: NOW + 86_400,
            sequence: 1,
            max_age: 86_400,
            issuers: vec![],
            relying_parties: vec![],
            venue_signers: vec![VenueSigner {
                agency: "health-dept".into(),
                display_name: "Health".into(),
                keys: vec![TrustedKey {
                    kid: "fuzz".into(),
                    jwk: signer.public_key().clone(),
                    not_before: None,
                    not_after: None,
                }],
            }],
            health_signers: vec![],
            origins: vec![],
        }
    })
}

fuzz_target!(|data: &[u8]| {
    // The claims layer: whatever reads must write back and read again to the same code.
    if let Ok(claims) = Claims::from_cbor(data)
        && let Ok(code) = VenueCode::from_claims(&claims)
    {
        let again = code.to_claims().expect("a code that reads can be written");
        assert_eq!(VenueCode::from_claims(&again), Ok(code.clone()));
        let _ = code.check_time(NOW);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        for candidate in [text.to_string(), format!("CK1:{text}")] {
            let _ = venue_code::verify(&candidate, list(), NOW);
        }
        let _ = notice::verify_notice(text, list(), NOW);
        // A notice payload as JSON, matched against visits built from the input's bytes.
        if let Ok(parsed) = serde_json::from_str::<ExposureNotice>(text) {
            let visits: Vec<Visit> = data
                .chunks(2)
                .enumerate()
                .map(|(i, pair)| Visit {
                    entry_id: i as i64,
                    agency: parsed.agency.clone(),
                    venue_id: parsed.venue_id.clone(),
                    checked_in_at: i64::from(pair[0]) * 1_000 - 100_000,
                    checked_out_at: i64::from(*pair.last().unwrap_or(&0)) * 1_000 - 100_000,
                })
                .collect();
            let _ = notice::match_visits(&visits, &[parsed]);
        }
    }
});
