//! `ID1:` unpacking takes whatever a camera read: it must return a value or a typed error for
//! every input, and whatever it returns must pack back to the same text's meaning.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Also reach the decoder with a valid prefix most of the time.
    for candidate in [text.to_string(), format!("ID1:{text}")] {
        if let Ok(sd_jwt) = citizen_core::id1::unpack(&candidate) {
            // What unpacks is canonical by construction, so it packs (unless our compressor does
            // worse than the one that made the input) and then unpacks unchanged.
            if let Ok(again) = citizen_core::id1::pack(&sd_jwt) {
                assert_eq!(
                    citizen_core::id1::unpack(&again).as_deref(),
                    Ok(sd_jwt.as_str())
                );
            }
        }
    }
});
