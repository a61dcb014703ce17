//! JWS and JWK parsing take what a network or a QR code delivers: a typed error or a value for
//! every input, never a panic, and never a signature that verifies under a key it was not made
//! with.
#![no_main]

use citizen_core::jose::{EcPublicJwk, Jws};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = EcPublicJwk::from_json(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(jws) = Jws::parse(text, 64 * 1024) {
        let _ = jws.claims();
        let _ = jws.check_typ("dc+sd-jwt");
        // Nobody holds the private key of the generator point: nothing may verify under it.
        assert!(jws.verify(&generator_key()).is_err());
    }
});

/// The P-256 base point as a public key.
fn generator_key() -> EcPublicJwk {
    let hex = |s: &str| -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    };
    EcPublicJwk::from_coordinates(
        hex("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"),
        hex("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"),
    )
    .unwrap()
}
