//! Activation proofs and OpenID4VCI key proofs arrive from any wallet, or anyone posing as one:
//! checking them must give a typed error or a key for every input, never a panic, and a key only
//! when the proof is signed by the key its own header carries.
#![no_main]

use citizen_core::jose::Jws;
use citizen_core::openid4vci::{
    MAX_PROOF_LEN, TokenRequest, verify_activation_proof, verify_proof_jwt,
};
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_800_000_000;

fuzz_target!(|data: &[u8]| {
    // The token request's form body comes from the same strangers.
    let _ = TokenRequest::from_form(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(key) = verify_proof_jwt(text, "https://127.0.0.1:8443/", "n", NOW, 60) {
        let jws = Jws::parse(text, MAX_PROOF_LEN).expect("a verified proof parses");
        assert!(
            jws.verify(&key).is_ok(),
            "the key returned signed the proof"
        );
    }
    if let Ok((key, claims)) = verify_activation_proof(text, "001090012345", NOW, 300) {
        assert_eq!(claims.id_number, "001090012345");
        let jws = Jws::parse(text, MAX_PROOF_LEN).expect("a verified proof parses");
        assert!(
            jws.verify(&key).is_ok(),
            "the key returned signed the proof"
        );
    }
});
