//! A structural check of CBOR bytes (RFC 8949) before any of them is parsed into values.
//!
//! `ciborium` parses recursively with a fixed limit of 256 levels, and only notices bytes after
//! the item when its caller looks. This walk is iterative and allocates only its stack of open
//! containers: it refuses nesting deeper than a bound, a length that runs past the input (so no
//! parser later sizes a buffer from an attacker's length), malformed heads and anything after the
//! one top-level item. Written by hand because no CBOR crate offers these bounds; it decides
//! nothing about meaning, only shape.

/// Why bytes are not one well-formed, bounded CBOR item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CborError {
    #[error("the CBOR ends inside an item")]
    Truncated,
    #[error("the CBOR is not well-formed")]
    Malformed,
    #[error("the CBOR nests deeper than allowed")]
    TooDeep,
    #[error("bytes follow the CBOR item")]
    TrailingBytes,
}

/// What the walk still expects inside one open container.
#[derive(Clone, Copy)]
enum Open {
    /// A definite-length array, map (counted in items, two a pair) or tag (one item).
    Items(u64),
    /// An indefinite-length array or map, up to a break; in a map, `owes_value` after a key.
    Indefinite { map: bool, owes_value: bool },
    /// An indefinite-length byte or text string: definite chunks of the same major type.
    Chunks(u8),
}

/// Checks that `bytes` hold exactly one well-formed CBOR item nested at most `max_depth` deep
/// (an array, a map or a tag each add a level).
pub fn check(bytes: &[u8], max_depth: usize) -> Result<(), CborError> {
    let mut at = 0usize;
    let mut open = vec![Open::Items(1)];
    loop {
        while let Some(Open::Items(0)) = open.last() {
            open.pop();
        }
        let Some(top) = open.last_mut() else { break };
        let head = *bytes.get(at).ok_or(CborError::Truncated)?;
        at += 1;
        if head == 0xff {
            match *top {
                Open::Indefinite {
                    owes_value: false, ..
                }
                | Open::Chunks(_) => {
                    open.pop();
                    continue;
                }
                _ => return Err(CborError::Malformed),
            }
        }
        let major = head >> 5;
        match top {
            Open::Items(left) => *left -= 1,
            Open::Indefinite { map, owes_value } => {
                if *map {
                    *owes_value = !*owes_value;
                }
            }
            Open::Chunks(kind) => {
                if major != *kind || head & 0x1f == 31 {
                    return Err(CborError::Malformed);
                }
            }
        }
        let argument = read_argument(bytes, &mut at, head)?;
        let remaining = (bytes.len() - at) as u64;
        let child = match (major, argument) {
            (0 | 1, Some(_)) => None,
            (2 | 3, Some(length)) => {
                if length > remaining {
                    return Err(CborError::Truncated);
                }
                at += length as usize;
                None
            }
            (2 | 3, None) => Some(Open::Chunks(major)),
            // Every item takes at least one byte: a count past the input cannot be honest.
            (4, Some(count)) if count <= remaining => Some(Open::Items(count)),
            (5, Some(pairs)) if pairs.saturating_mul(2) <= remaining => {
                Some(Open::Items(pairs * 2))
            }
            (4 | 5, Some(_)) => return Err(CborError::Truncated),
            (4 | 5, None) => Some(Open::Indefinite {
                map: major == 5,
                owes_value: false,
            }),
            (6, Some(_)) => Some(Open::Items(1)),
            // Simple values 24..=31 in the one-byte form are not well-formed (RFC 8949 §3.3).
            (7, Some(value)) if head & 0x1f == 24 && value < 32 => {
                return Err(CborError::Malformed);
            }
            (7, Some(_)) => None,
            _ => return Err(CborError::Malformed),
        };
        if let Some(child) = child {
            open.push(child);
            // The first entry is the top level's own slot, not a level of nesting.
            if open.len() > max_depth + 1 {
                return Err(CborError::TooDeep);
            }
        }
    }
    if at != bytes.len() {
        return Err(CborError::TrailingBytes);
    }
    Ok(())
}

/// The argument of the head byte `head` (RFC 8949 §3), reading its following bytes; `None` for
/// the indefinite-length marker (31). Major type 7 returns the simple value or float bits.
fn read_argument(bytes: &[u8], at: &mut usize, head: u8) -> Result<Option<u64>, CborError> {
    let width = match head & 0x1f {
        info @ 0..=23 => return Ok(Some(u64::from(info))),
        24 => 1,
        25 => 2,
        26 => 4,
        27 => 8,
        31 => return Ok(None),
        _ => return Err(CborError::Malformed),
    };
    let end = at.checked_add(width).ok_or(CborError::Truncated)?;
    let field = bytes.get(*at..end).ok_or(CborError::Truncated)?;
    *at = end;
    Ok(Some(
        field
            .iter()
            .fold(0u64, |value, &byte| (value << 8) | u64::from(byte)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signed_qr::test_hex as hex;

    #[test]
    fn accepts_well_formed_items() {
        for item in [
            "00",
            "1bffffffffffffffff",
            "3bffffffffffffffff",
            "4401020304",
            "6161",
            "5f42010243030405ff",
            "7f6161ff",
            "83010203",
            "9f0102ff",
            "a201020304",
            "bf0102ff",
            "d28443a10126a0f64100",
            "f4",
            "f820",
            "f93c00",
            "fb3ff0000000000000",
            "80",
            "a0",
        ] {
            assert_eq!(check(&hex(item), 8), Ok(()), "{item}");
        }
    }

    #[test]
    fn refuses_malformed_truncated_trailing_and_deep_items() {
        for (item, error) in [
            ("", CborError::Truncated),
            ("18", CborError::Truncated),
            ("1a0102", CborError::Truncated),
            ("4401", CborError::Truncated),
            ("5bffffffffffffffff", CborError::Truncated),
            ("9bffffffffffffffff", CborError::Truncated),
            ("bbffffffffffffffff", CborError::Truncated),
            ("8301", CborError::Truncated),
            ("9f01", CborError::Truncated),
            ("1c", CborError::Malformed),
            ("1f", CborError::Malformed),
            ("ff", CborError::Malformed),
            ("f801", CborError::Malformed),
            ("5f6161ff", CborError::Malformed),
            ("5f5f4101ffff", CborError::Malformed),
            ("bf01ff", CborError::Malformed),
            ("820102ff", CborError::TrailingBytes),
            ("0000", CborError::TrailingBytes),
            ("818181818181818181818100", CborError::TooDeep),
            ("d8ffd8ffd8ffd8ffd8ffd8ffd8ffd8ffd8ff00", CborError::TooDeep),
        ] {
            assert_eq!(check(&hex(item), 8), Err(error), "{item}");
        }
        assert_eq!(check(&hex("8181818181818100"), 7), Ok(()));
        assert_eq!(check(&hex("8181818181818100"), 6), Err(CborError::TooDeep));
    }

    #[test]
    fn very_deep_input_is_refused_without_recursion() {
        let deep = vec![0x81u8; 1_000_000];
        assert_eq!(check(&deep, 16), Err(CborError::TooDeep));
        let mut indefinite = vec![0x9fu8; 100_000];
        indefinite.extend(vec![0xffu8; 100_000]);
        assert_eq!(check(&indefinite, 16), Err(CborError::TooDeep));
    }
}
