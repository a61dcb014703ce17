//! A trust list arrives from the network (or from the cache, which an attacker with the phone's
//! files could try to swap): verifying it must give a list or a typed error for every input,
//! never a panic, and a list that verifies must sign and verify back to itself.
//!
//! An input that starts with `{` is a payload: it is signed with the fuzzing anchor first, so
//! the fuzzer reaches the member checks behind the signature. Anything else is a compact JWS.
#![no_main]

use citizen_core::jose::{JwsSigner, SoftwareSigner, sign_compact};
use citizen_core::trust_list::{TRUST_LIST_TYP, TrustAnchor, TrustList};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, json};

const NOW: i64 = 1_800_000_000;
const KID: &str = "fuzz-anchor";

fuzz_target!(|data: &[u8]| {
    let signer = anchor_signer();
    let anchors = [TrustAnchor {
        kid: KID.into(),
        jwk: signer.public_key().clone(),
    }];
    let verified = if data.first() == Some(&b'{') {
        let mut header = Map::new();
        header.insert("typ".into(), json!(TRUST_LIST_TYP));
        header.insert("kid".into(), json!(KID));
        let jws = sign_compact(&header, data, &signer).expect("the software signer signs");
        TrustList::verify(&jws, &anchors, NOW)
    } else {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let _ = TrustList::verify_ignoring_expiry(text, &anchors);
        TrustList::verify(text, &anchors, NOW)
    };
    if let Ok(list) = verified {
        let _ = list.issuer_key("https://portal.example/", "k", NOW);
        let _ = list.venue_key("k", NOW);
        let _ = list.health_signer(b"k");
        let again = list
            .sign(&signer as &dyn JwsSigner, KID)
            .expect("a verified list signs");
        assert_eq!(TrustList::verify(&again, &anchors, NOW).as_ref(), Ok(&list));
    }
});

fn anchor_signer() -> SoftwareSigner {
    SoftwareSigner::from_scalar(&[7u8; 32]).expect("a valid scalar")
}
