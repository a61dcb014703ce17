//! `ID1:` unpacking takes whatever a camera read: it must return a value or a typed error for
//! every input, and whatever it returns must pack back to the same text's meaning. Packing must
//! give back any SD-JWT-shaped string exactly (its JSON scanning, escapes and references). The
//! `IDC1:` challenge reader is fed the same input.
#![no_main]

use citizen_core::jose::base64url;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The writer: the input as the decoded parts of an SD-JWT, split at 0x00 (".") and 0x01
    // ("~"); it packs (unless too long) and comes back byte for byte.
    let mut sd_jwt = String::new();
    for part in data.split_inclusive(|&byte| byte <= 1) {
        let (bytes, separator) = match part.split_last() {
            Some((0, bytes)) => (bytes, "."),
            Some((1, bytes)) => (bytes, "~"),
            _ => (part, ""),
        };
        sd_jwt.push_str(&base64url::encode(bytes));
        sd_jwt.push_str(separator);
    }
    if let Ok(text) = citizen_core::id1::pack(&sd_jwt) {
        assert_eq!(
            citizen_core::id1::unpack(&text).as_deref(),
            Ok(sd_jwt.as_str())
        );
    }

    // The reader.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Also reach the decoder with a valid prefix most of the time.
    for candidate in [text.to_string(), format!("ID1:{text}")] {
        if let Ok(sd_jwt) = citizen_core::id1::unpack(&candidate) {
            // What unpacks is canonical by construction, so it packs (unless its packing is
            // longer than the one that made the input) and then unpacks unchanged.
            if let Ok(again) = citizen_core::id1::pack(&sd_jwt) {
                assert_eq!(
                    citizen_core::id1::unpack(&again).as_deref(),
                    Ok(sd_jwt.as_str())
                );
            }
        }
    }

    // The two-way challenge a verifier shows: read, and what reads writes back the same.
    for candidate in [text.to_string(), format!("IDC1:{text}")] {
        if let Ok(challenge) = citizen_core::id1::Challenge::decode(&candidate) {
            let again = challenge.encode().expect("a decoded challenge encodes");
            assert_eq!(citizen_core::id1::Challenge::decode(&again), Ok(challenge));
        }
    }
});
