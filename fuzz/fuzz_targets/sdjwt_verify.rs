//! SD-JWT presentations arrive from strangers (an identity QR, a relying party's request): parsing
//! and verifying must give a typed error or a result for every input, never a panic.
#![no_main]

use citizen_core::jose::EcPublicJwk;
use citizen_core::sdjwt::{Disclosure, Limits, SdJwt, VerifyOptions, verify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Disclosure::parse(text);
    if let Ok(parsed) = SdJwt::parse(text, &Limits::default()) {
        let _ = parsed.verify(&VerifyOptions::new(&key(), 1_800_000_000));
    }
    let _ = verify(text, &VerifyOptions::new(&key(), 1_800_000_000).sd_jwt_vc());
});

fn key() -> EcPublicJwk {
    EcPublicJwk::from_json(
        br#"{"kty":"EC","crv":"P-256","x":"axfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpY","y":"T-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU"}"#,
    )
    .unwrap()
}
