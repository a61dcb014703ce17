//! Token Status List (IETF OAuth "Token Status List"): the compressed bitstring in which an
//! issuer publishes whether each of its credentials is valid, revoked or suspended.
//!
//! Owns: the `status_list` object (`bits` and `lst`, the base64url of zlib-compressed bytes) in
//! both directions: [`StatusList::decode`] and [`StatusList::status`] for wallets and verifiers,
//! [`StatusList::new`], [`StatusList::set`] and [`StatusList::encode`] for an issuer (the
//! sandbox). Pure and I/O-free. Bounded before decompression; every failure is a typed
//! [`StatusListError`]. Does not own the `statuslist+jwt` token around it (signature, `sub`,
//! `ttl`: that is JOSE's and the wallet's) nor fetching and caching it.
//!
//! Layout (as the draft specifies): entry `i` occupies `bits` bits starting at bit `i * bits`,
//! counted from the least significant bit of the first byte.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// The most entries a list may hold (the draft recommends lists of at least 16k entries for
/// herd privacy; 2^24 entries of 8 bits is 16 MiB, the cap on the inflated size below).
pub const MAX_INFLATED_BYTES: usize = 16 * 1024 * 1024;
/// The longest `lst` text accepted before decoding.
pub const MAX_LST_CHARS: usize = 4 * 1024 * 1024;

/// The registered status values.
pub const VALID: u8 = 0;
pub const INVALID: u8 = 1;
pub const SUSPENDED: u8 = 2;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusListError {
    #[error("bits must be 1, 2, 4 or 8")]
    Bits,
    #[error("the list is larger than this SDK accepts")]
    TooLarge,
    #[error("lst is not base64url")]
    Base64,
    #[error("lst is not valid zlib data")]
    Compression,
    #[error("index {index} is beyond the list's {size} entries")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("the value does not fit in the list's bits")]
    ValueTooWide,
}

/// The JSON object as it appears in a status list token's `status_list` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncodedStatusList {
    pub bits: u8,
    pub lst: String,
}

/// A decoded list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: u8,
    bytes: Vec<u8>,
}

impl StatusList {
    /// An all-`VALID` list of at least `size` entries.
    pub fn new(bits: u8, size: u64) -> Result<Self, StatusListError> {
        check_bits(bits)?;
        let length = size
            .checked_mul(u64::from(bits))
            .map(|b| b.div_ceil(8))
            .filter(|length| *length <= MAX_INFLATED_BYTES as u64)
            .ok_or(StatusListError::TooLarge)?;
        Ok(Self {
            bits,
            bytes: vec![0; length as usize],
        })
    }

    pub fn decode(encoded: &EncodedStatusList) -> Result<Self, StatusListError> {
        check_bits(encoded.bits)?;
        if encoded.lst.len() > MAX_LST_CHARS {
            return Err(StatusListError::TooLarge);
        }
        let compressed = URL_SAFE_NO_PAD
            .decode(&encoded.lst)
            .map_err(|_| StatusListError::Base64)?;
        let mut bytes = Vec::new();
        flate2::read::ZlibDecoder::new(compressed.as_slice())
            .take(MAX_INFLATED_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| StatusListError::Compression)?;
        if bytes.len() > MAX_INFLATED_BYTES {
            return Err(StatusListError::TooLarge);
        }
        Ok(Self {
            bits: encoded.bits,
            bytes,
        })
    }

    pub fn encode(&self) -> EncodedStatusList {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        // Writing to a Vec cannot fail.
        let compressed = encoder
            .write_all(&self.bytes)
            .and_then(|()| encoder.finish())
            .unwrap_or_default();
        EncodedStatusList {
            bits: self.bits,
            lst: URL_SAFE_NO_PAD.encode(compressed),
        }
    }

    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// How many entries the list holds.
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64 * 8 / u64::from(self.bits)
    }

    /// The status of entry `index`.
    pub fn status(&self, index: u64) -> Result<u8, StatusListError> {
        let (byte, shift) = self.position(index)?;
        Ok((self.bytes[byte] >> shift) & self.mask())
    }

    pub fn set(&mut self, index: u64, value: u8) -> Result<(), StatusListError> {
        if value > self.mask() {
            return Err(StatusListError::ValueTooWide);
        }
        let (byte, shift) = self.position(index)?;
        self.bytes[byte] = (self.bytes[byte] & !(self.mask() << shift)) | (value << shift);
        Ok(())
    }

    fn mask(&self) -> u8 {
        ((1u16 << self.bits) - 1) as u8
    }

    fn position(&self, index: u64) -> Result<(usize, u32), StatusListError> {
        let size = self.size();
        if index >= size {
            return Err(StatusListError::IndexOutOfRange { index, size });
        }
        let bit = index * u64::from(self.bits);
        Ok(((bit / 8) as usize, (bit % 8) as u32))
    }
}

fn check_bits(bits: u8) -> Result<(), StatusListError> {
    match bits {
        1 | 2 | 4 | 8 => Ok(()),
        _ => Err(StatusListError::Bits),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(bits: u8, lst: &str) -> EncodedStatusList {
        EncodedStatusList {
            bits,
            lst: lst.into(),
        }
    }

    /// The draft's own examples (section "Status List"): byte arrays `b9 a3` (1 bit) and
    /// `c9 44 f9` (2 bits), compressed.
    #[test]
    fn the_drafts_examples_decode_to_their_statuses() {
        let one_bit = StatusList::decode(&encoded(1, "eNrbuRgAAhcBXQ")).unwrap();
        let statuses: Vec<u8> = (0..16).map(|i| one_bit.status(i).unwrap()).collect();
        assert_eq!(statuses, [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]);

        let two_bits = StatusList::decode(&encoded(2, "eNo76fITAAPfAgc")).unwrap();
        let statuses: Vec<u8> = (0..12).map(|i| two_bits.status(i).unwrap()).collect();
        assert_eq!(statuses, [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]);
        assert_eq!(
            two_bits.status(12),
            Err(StatusListError::IndexOutOfRange {
                index: 12,
                size: 12
            })
        );
    }

    #[test]
    fn an_issuers_list_round_trips() {
        for bits in [1u8, 2, 4, 8] {
            let mut list = StatusList::new(bits, 20_000).unwrap();
            assert!(list.size() >= 20_000);
            list.set(7, INVALID).unwrap();
            list.set(19_999, 1).unwrap();
            if bits >= 2 {
                list.set(8, SUSPENDED).unwrap();
            } else {
                assert_eq!(list.set(8, SUSPENDED), Err(StatusListError::ValueTooWide));
            }
            let decoded = StatusList::decode(&list.encode()).unwrap();
            assert_eq!(decoded, list);
            assert_eq!(decoded.status(7).unwrap(), INVALID);
            assert_eq!(decoded.status(6).unwrap(), VALID);
            assert_eq!(decoded.status(19_999).unwrap(), 1);
            list.set(7, VALID).unwrap();
            assert_eq!(list.status(7).unwrap(), VALID, "suspension can be lifted");
        }
    }

    #[test]
    fn hostile_lists_are_typed_errors() {
        assert_eq!(
            StatusList::decode(&encoded(3, "eNrbuRgAAhcBXQ")),
            Err(StatusListError::Bits)
        );
        assert_eq!(
            StatusList::decode(&encoded(1, "not base64!")),
            Err(StatusListError::Base64)
        );
        assert_eq!(
            StatusList::decode(&encoded(1, "AAAA")),
            Err(StatusListError::Compression)
        );
        assert_eq!(StatusList::new(8, u64::MAX), Err(StatusListError::TooLarge));
        // A zip bomb: 17 MiB of zeros compresses to a few kilobytes.
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        encoder
            .write_all(&vec![0u8; MAX_INFLATED_BYTES + 1024 * 1024])
            .unwrap();
        let bomb = URL_SAFE_NO_PAD.encode(encoder.finish().unwrap());
        assert!(bomb.len() < 64 * 1024);
        assert_eq!(
            StatusList::decode(&encoded(1, &bomb)),
            Err(StatusListError::TooLarge)
        );
    }
}
