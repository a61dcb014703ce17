//! OpenID4VP `direct_post.jwt` responses are JWEs from any wallet, or anyone posing as one:
//! decrypting must give a typed error or a plaintext for every input, never a panic, and a
//! plaintext only under the supported algorithms with the ephemeral key the header names.
#![no_main]

use citizen_core::jose::EcPublicJwk;
use citizen_core::jose::jwe::{self, ContentEncryption, EcdhPrivateKey};
use libfuzzer_sys::fuzz_target;

/// The recipient key of RFC 7518 Appendix C ("Bob"): the seeds are encrypted to it.
const BOB_D: [u8; 32] = [
    0x54, 0x49, 0x83, 0x66, 0x90, 0xd7, 0x5c, 0xaf, 0x29, 0xf0, 0xdd, 0x02, 0x9d, 0xdb, 0x31, 0xb3,
    0xdd, 0xb8, 0xab, 0xa9, 0xd2, 0xd5, 0x15, 0xc5, 0x01, 0x24, 0x65, 0xe8, 0x17, 0xd4, 0xa9, 0xdc,
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let recipient = EcdhPrivateKey::from_scalar(&BOB_D).expect("a valid scalar");
    if let Ok((header, plaintext)) = jwe::decrypt(text, &recipient, 64 * 1024) {
        assert_eq!(header["alg"], "ECDH-ES");
        let enc = header["enc"]
            .as_str()
            .and_then(ContentEncryption::from_name);
        assert!(enc.is_some(), "only A128GCM and A256GCM decrypt");
        assert!(EcPublicJwk::from_value(&header["epk"]).is_ok());
        assert!(plaintext.len() <= text.len());
    }
});
