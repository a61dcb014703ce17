//! `classify` runs on every string a camera reads or a link opens, before anything else looks
//! at it: it must answer for every input without panicking, and what it calls a web link must
//! be an `https` URL.
#![no_main]

use citizen_core::scan::{ScannedKind, classify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let ScannedKind::WebLink { url } = classify(text) {
        assert!(url.starts_with("https://"), "{url}");
    }
});
