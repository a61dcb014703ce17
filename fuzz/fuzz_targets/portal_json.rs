//! The portal's JSON answers to the dossier capability are whatever the network delivered: a
//! catalogue page, a submission answer or refusal, a status feed page, a signed manifest or
//! withdrawal request must each parse to a
//! value or a typed error for every input, never panic; what passes its checks must survive a
//! round trip unchanged.
#![no_main]

use citizen_core::dossier::manifest::{self, SubmitRequest, SubmitResponse, WithdrawalBody};
use citizen_core::dossier::status_feed::StatusFeedPage;
use citizen_core::dossier::wire::CataloguePage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(page) = serde_json::from_slice::<CataloguePage>(data)
        && page.check().is_ok()
    {
        let again = serde_json::to_vec(&page).expect("a checked page serialises");
        let back: CataloguePage = serde_json::from_slice(&again).expect("and parses back");
        assert!(back.check().is_ok());
    }
    if let Ok(answer) = serde_json::from_slice::<SubmitResponse>(data)
        && answer.check().is_ok()
    {
        let again = serde_json::to_vec(&answer).expect("an answer serialises");
        let back: SubmitResponse = serde_json::from_slice(&again).expect("and parses back");
        assert_eq!(back, answer);
    }
    if let Ok(page) = StatusFeedPage::parse(data, None) {
        let again = serde_json::to_vec(&page).expect("a checked feed page serialises");
        let back = StatusFeedPage::parse(&again, None).expect("and parses back");
        assert_eq!(back, page);
    }
    if let Ok(body) = serde_json::from_slice::<WithdrawalBody>(data) {
        let _ = manifest::verify_withdrawal(&body.request);
    }
    let _ = manifest::error_code(data);
    if let Ok(request) = serde_json::from_slice::<SubmitRequest>(data) {
        let _ = manifest::verify(&request.manifest);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok((parsed, _key)) = manifest::verify(text) {
            assert!(parsed.check().is_ok());
        }
        if let Ok((parsed, _key)) = manifest::verify_withdrawal(text) {
            assert!(parsed.check().is_ok());
        }
    }
});
