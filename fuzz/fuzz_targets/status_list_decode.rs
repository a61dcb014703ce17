//! A status list comes from the network: decoding and lookups must never panic.
#![no_main]

use citizen_core::status_list::{EncodedStatusList, StatusList};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&bits, rest)) = data.split_first() else {
        return;
    };
    let Ok(lst) = std::str::from_utf8(rest) else {
        return;
    };
    let encoded = EncodedStatusList {
        bits,
        lst: lst.to_string(),
    };
    if let Ok(list) = StatusList::decode(&encoded) {
        for index in [0, 1, list.size().saturating_sub(1), list.size(), u64::MAX] {
            let _ = list.status(index);
        }
    }
});
