//! base64url without padding (RFC 7515 §2, RFC 4648 §5), the only encoding JOSE and SD-JWT use.
//!
//! Decoding is strict: no `=` padding, no characters outside the URL-safe alphabet (so no `+`,
//! `/` or whitespace), no impossible lengths and no non-zero trailing bits, so one byte string
//! has exactly one accepted text form.

use base64::Engine;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Why a text is not unpadded base64url. The texts never quote the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Base64UrlError {
    #[error("base64url text must not be padded")]
    Padding,
    #[error("base64url text holds a character outside the URL-safe alphabet")]
    InvalidCharacter,
    #[error("base64url text has an impossible length")]
    InvalidLength,
    #[error("base64url text has non-zero trailing bits")]
    NonCanonical,
}

/// Encodes `bytes` as unpadded base64url.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    ENGINE.encode(bytes)
}

/// Decodes unpadded base64url, refusing padding, other alphabets and non-canonical text.
pub fn decode(text: &str) -> Result<Vec<u8>, Base64UrlError> {
    use base64::DecodeError;
    if text.contains('=') {
        return Err(Base64UrlError::Padding);
    }
    ENGINE.decode(text).map_err(|error| match error {
        DecodeError::InvalidByte(_, b'=') | DecodeError::InvalidPadding => Base64UrlError::Padding,
        DecodeError::InvalidByte(..) => Base64UrlError::InvalidCharacter,
        DecodeError::InvalidLength(_) => Base64UrlError::InvalidLength,
        DecodeError::InvalidLastSymbol(..) => Base64UrlError::NonCanonical,
    })
}

/// The length of the decoded bytes of an unpadded base64url text of `len` characters (an upper
/// bound when the text is invalid), so callers can check a size limit before decoding.
pub fn decoded_len(len: usize) -> usize {
    len / 4 * 3 + (len % 4 * 3 / 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_length() {
        for len in 0..70 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let text = encode(&bytes);
            assert!(!text.contains('='));
            assert_eq!(text.len(), decoded_len_inverse(len));
            assert_eq!(decoded_len(text.len()), len);
            assert_eq!(decode(&text).unwrap(), bytes);
        }
    }

    fn decoded_len_inverse(len: usize) -> usize {
        (len * 4).div_ceil(3)
    }

    #[test]
    fn rfc_4648_vectors() {
        assert_eq!(encode(b""), "");
        assert_eq!(encode(b"f"), "Zg");
        assert_eq!(encode(b"fo"), "Zm8");
        assert_eq!(encode(b"foo"), "Zm9v");
        assert_eq!(encode(b"foob"), "Zm9vYg");
        assert_eq!(encode([0xfb, 0xff]), "-_8");
        assert_eq!(decode("-_8").unwrap(), vec![0xfb, 0xff]);
    }

    #[test]
    fn refuses_padding() {
        assert_eq!(decode("Zg=="), Err(Base64UrlError::Padding));
        assert_eq!(decode("Zm8="), Err(Base64UrlError::Padding));
        assert_eq!(decode("="), Err(Base64UrlError::Padding));
    }

    #[test]
    fn refuses_other_alphabets_and_whitespace() {
        assert_eq!(decode("+/8"), Err(Base64UrlError::InvalidCharacter));
        assert_eq!(decode("Zm9 v"), Err(Base64UrlError::InvalidCharacter));
        assert_eq!(decode("Zm9v\n"), Err(Base64UrlError::InvalidCharacter));
        assert_eq!(decode("Zm9\u{e9}"), Err(Base64UrlError::InvalidCharacter));
        assert_eq!(decode("~~"), Err(Base64UrlError::InvalidCharacter));
    }

    #[test]
    fn refuses_impossible_lengths_and_trailing_bits() {
        assert_eq!(decode("Z"), Err(Base64UrlError::InvalidLength));
        assert_eq!(decode("Zm9vY"), Err(Base64UrlError::InvalidLength));
        // "Zh" decodes to 'f' with non-zero trailing bits: a second spelling of "Zg".
        assert_eq!(decode("Zh"), Err(Base64UrlError::NonCanonical));
    }

    #[test]
    fn any_input_gives_a_result_never_a_panic() {
        let alphabet = b"AZaz09-_=+/ ~.\x00\xff";
        let mut text = Vec::new();
        for seed in 0u32..2000 {
            text.clear();
            let mut x = seed.wrapping_mul(2654435761);
            for _ in 0..(seed % 13) {
                x = x.wrapping_mul(1103515245).wrapping_add(12345);
                text.push(alphabet[(x >> 16) as usize % alphabet.len()]);
            }
            let _ = decode(&String::from_utf8_lossy(&text));
        }
    }
}
