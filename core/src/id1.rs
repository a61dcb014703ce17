//! `ID1:`: the compact, lossless text form of an SD-JWT presentation for an identity QR code.
//!
//! Owns: [`pack`] and [`unpack`], pure and I/O-free (fuzzable on their own). The exact format is
//! in `docs/id1-format.md`, so another implementation can read it. In short: the SD-JWT string is
//! split into its base64url parts and the `.`/`~` separators between them; each part is stored
//! as the bytes it encodes (a quarter smaller than its text); the result is zlib-compressed,
//! Base45-encoded (RFC 9285, whose alphabet is the QR code's compact alphanumeric mode) and
//! prefixed with `ID1:`. Unpacking gives back the exact SD-JWT string. Does not own what the
//! SD-JWT says or whether it verifies (`sdjwt`, the wallet's verifier).
//!
//! Every input to [`unpack`] is bounded before it is decoded or decompressed, and every failure
//! is a typed [`Id1Error`], never a panic.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub const PREFIX: &str = "ID1:";

/// The longest `ID1:` text accepted (a QR code holds at most 4,296 alphanumeric characters).
pub const MAX_TEXT_CHARS: usize = 4_296;
/// The longest SD-JWT string packed or unpacked. Decompression stops past this, so a small QR
/// cannot expand into a large allocation (a zip bomb).
pub const MAX_SD_JWT_CHARS: usize = 16 * 1024;

const FORMAT_VERSION: u8 = 1;
const SEPARATOR_DOT: u8 = 0;
const SEPARATOR_TILDE: u8 = 1;
const END: u8 = 2;

/// Why a text is not a readable `ID1:` code, or an SD-JWT cannot be packed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Id1Error {
    #[error("the text does not start with ID1:")]
    MissingPrefix,
    #[error("the text is longer than an identity QR code can be")]
    TooLong,
    #[error("the text is not valid Base45")]
    Base45,
    #[error("the compressed data is damaged")]
    Compression,
    #[error("the packed data is malformed")]
    Malformed,
    #[error("the packed data has unknown format version {0}")]
    UnknownVersion(u8),
    /// Only for [`pack`]: a part of the SD-JWT is not canonical base64url, so it could not come
    /// back byte for byte.
    #[error("the SD-JWT has a part that is not canonical base64url")]
    NotCanonical,
}

/// Packs an SD-JWT (with or without key binding) into `ID1:` text.
pub fn pack(sd_jwt: &str) -> Result<String, Id1Error> {
    if sd_jwt.len() > MAX_SD_JWT_CHARS {
        return Err(Id1Error::TooLong);
    }
    let mut packed = vec![FORMAT_VERSION];
    let mut rest = sd_jwt;
    loop {
        let end = rest.find(['.', '~']).unwrap_or(rest.len());
        let part = &rest[..end];
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| Id1Error::NotCanonical)?;
        // The decoder accepts non-zero trailing bits; such a part would not re-encode the same.
        if URL_SAFE_NO_PAD.encode(&bytes) != part {
            return Err(Id1Error::NotCanonical);
        }
        write_varint(&mut packed, bytes.len());
        packed.extend_from_slice(&bytes);
        match rest[end..].chars().next() {
            Some('.') => packed.push(SEPARATOR_DOT),
            Some('~') => packed.push(SEPARATOR_TILDE),
            _ => {
                packed.push(END);
                break;
            }
        }
        rest = &rest[end + 1..];
    }
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(&packed)
        .map_err(|_| Id1Error::Compression)?;
    let compressed = encoder.finish().map_err(|_| Id1Error::Compression)?;
    let text = format!("{PREFIX}{}", base45::encode(compressed));
    if text.len() > MAX_TEXT_CHARS {
        return Err(Id1Error::TooLong);
    }
    Ok(text)
}

/// Reads `ID1:` text back into the exact SD-JWT string that was packed.
pub fn unpack(text: &str) -> Result<String, Id1Error> {
    if text.len() > MAX_TEXT_CHARS {
        return Err(Id1Error::TooLong);
    }
    let encoded = text.strip_prefix(PREFIX).ok_or(Id1Error::MissingPrefix)?;
    let compressed = base45::decode(encoded).map_err(|_| Id1Error::Base45)?;
    // The packed form is never larger than the SD-JWT text, so this bounds it with room to spare.
    let limit = MAX_SD_JWT_CHARS as u64;
    let mut packed = Vec::new();
    flate2::read::ZlibDecoder::new(compressed.as_slice())
        .take(limit + 1)
        .read_to_end(&mut packed)
        .map_err(|_| Id1Error::Compression)?;
    if packed.len() as u64 > limit {
        return Err(Id1Error::TooLong);
    }
    let (&version, mut body) = packed.split_first().ok_or(Id1Error::Malformed)?;
    if version != FORMAT_VERSION {
        return Err(Id1Error::UnknownVersion(version));
    }
    let mut sd_jwt = String::new();
    loop {
        let length = read_varint(&mut body)?;
        if length > body.len() {
            return Err(Id1Error::Malformed);
        }
        let (bytes, after) = body.split_at(length);
        sd_jwt.push_str(&URL_SAFE_NO_PAD.encode(bytes));
        let (&separator, after) = after.split_first().ok_or(Id1Error::Malformed)?;
        body = after;
        match separator {
            SEPARATOR_DOT => sd_jwt.push('.'),
            SEPARATOR_TILDE => sd_jwt.push('~'),
            END if body.is_empty() => break,
            _ => return Err(Id1Error::Malformed),
        }
        if sd_jwt.len() > MAX_SD_JWT_CHARS {
            return Err(Id1Error::TooLong);
        }
    }
    if sd_jwt.len() > MAX_SD_JWT_CHARS {
        return Err(Id1Error::TooLong);
    }
    Ok(sd_jwt)
}

/// LEB128: 7 bits a byte, low first, high bit set on all but the last byte.
fn write_varint(out: &mut Vec<u8>, mut value: usize) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn read_varint(input: &mut &[u8]) -> Result<usize, Id1Error> {
    let mut value = 0usize;
    // Three bytes reach 2^21, far above any part an SD-JWT of MAX_SD_JWT_CHARS can hold.
    for shift in [0, 7, 14] {
        let (&byte, rest) = input.split_first().ok_or(Id1Error::Malformed)?;
        *input = rest;
        value |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(Id1Error::Malformed)
}

/// The prefix of a verifier's challenge QR (two-way mode).
pub const CHALLENGE_PREFIX: &str = "IDC1:";
/// The longest challenge text accepted: a challenge is a nonce, an audience and a few claim names.
pub const MAX_CHALLENGE_CHARS: usize = 1_024;
/// The KB-JWT audience of a one-way identity QR (no challenge was scanned): it binds the
/// presentation to in-person use, so it cannot be replayed to a relying party online.
pub const IN_PERSON_AUDIENCE: &str = "urn:citizen:id1:in-person";

/// A verifier's challenge (two-way mode): the officer's app shows it, the citizen's wallet scans
/// it and binds its presentation to `audience` and `nonce`, and discloses `claims` (when given).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Challenge {
    /// Who verifies (the officer app's identifier, shown to the citizen and kept in the history).
    #[serde(rename = "aud")]
    pub audience: String,
    pub nonce: String,
    /// The claims the verifier asks for; empty leaves the choice to the citizen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<String>,
}

impl Challenge {
    /// `IDC1:` + Base45 of the challenge as compact JSON (`{"aud","nonce","claims"?}`).
    pub fn encode(&self) -> Result<String, Id1Error> {
        let json = serde_json::to_vec(self).map_err(|_| Id1Error::Malformed)?;
        let text = format!("{CHALLENGE_PREFIX}{}", base45::encode(json));
        if text.len() > MAX_CHALLENGE_CHARS {
            return Err(Id1Error::TooLong);
        }
        Ok(text)
    }

    /// Reads a challenge; bounded before decoding, strict JSON (no repeated members), non-empty
    /// audience and nonce of at most 256 characters each, at most 32 claim names.
    pub fn decode(text: &str) -> Result<Self, Id1Error> {
        if text.len() > MAX_CHALLENGE_CHARS {
            return Err(Id1Error::TooLong);
        }
        let encoded = text
            .strip_prefix(CHALLENGE_PREFIX)
            .ok_or(Id1Error::MissingPrefix)?;
        let json = base45::decode(encoded).map_err(|_| Id1Error::Base45)?;
        let value = crate::jose::json::parse_value(&json).map_err(|_| Id1Error::Malformed)?;
        let challenge: Challenge =
            serde_json::from_value(value).map_err(|_| Id1Error::Malformed)?;
        let field_ok = |f: &str| !f.is_empty() && f.len() <= 256;
        if !field_ok(&challenge.audience)
            || !field_ok(&challenge.nonce)
            || challenge.claims.len() > 32
            || !challenge.claims.iter().all(|c| field_ok(c))
        {
            return Err(Id1Error::Malformed);
        }
        Ok(challenge)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_round_trip_and_bad_ones_are_refused() {
        let challenge = Challenge {
            audience: "officer-app:counter-7".into(),
            nonce: "n-0S6_WzA2Mj".into(),
            claims: vec!["full_name".into(), "id_number".into()],
        };
        let text = challenge.encode().unwrap();
        assert!(text.starts_with(CHALLENGE_PREFIX));
        assert_eq!(Challenge::decode(&text).unwrap(), challenge);
        assert_eq!(Challenge::decode("ID1:xyz"), Err(Id1Error::MissingPrefix));
        assert_eq!(Challenge::decode("IDC1:!!"), Err(Id1Error::Base45));
        let repeated = format!(
            "{CHALLENGE_PREFIX}{}",
            base45::encode(br#"{"aud":"a","aud":"b","nonce":"n"}"#)
        );
        assert_eq!(Challenge::decode(&repeated), Err(Id1Error::Malformed));
        let empty_nonce = format!(
            "{CHALLENGE_PREFIX}{}",
            base45::encode(br#"{"aud":"a","nonce":""}"#)
        );
        assert_eq!(Challenge::decode(&empty_nonce), Err(Id1Error::Malformed));
        let long = format!("{CHALLENGE_PREFIX}{}", "A".repeat(MAX_CHALLENGE_CHARS));
        assert_eq!(Challenge::decode(&long), Err(Id1Error::TooLong));
    }

    /// An SD-JWT of the shape the wallet presents: JWS, disclosures, KB-JWT.
    fn sample() -> String {
        let b64 = |s: &str| URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.{}~{}~{}~{}.{}.{}",
            b64(r#"{"alg":"ES256","typ":"dc+sd-jwt"}"#),
            b64(r#"{"iss":"https://issuer.example","_sd":["abc","def"],"vct":"urn:vn:pid:1"}"#),
            URL_SAFE_NO_PAD.encode([7u8; 64]),
            b64(r#"["salt1","given_name","An"]"#),
            b64(r#"["salt2","family_name","Nguyễn"]"#),
            b64(r#"{"alg":"ES256","typ":"kb+jwt"}"#),
            b64(r#"{"aud":"verifier","nonce":"n","iat":1,"sd_hash":"x"}"#),
            URL_SAFE_NO_PAD.encode([9u8; 64]),
        )
    }

    #[test]
    fn unpacking_gives_back_the_exact_sd_jwt() {
        let sd_jwt = sample();
        let text = pack(&sd_jwt).unwrap();
        assert!(text.starts_with(PREFIX));
        // Base45 output is in the QR alphanumeric set, so the code uses its compact mode.
        assert!(
            text.chars()
                .all(|c| "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".contains(c))
        );
        assert_eq!(unpack(&text).unwrap(), sd_jwt);
        // Without key binding: the presentation ends with "~" (an empty last part).
        let without_kb = sd_jwt[..sd_jwt.rfind('~').unwrap() + 1].to_string();
        assert_eq!(unpack(&pack(&without_kb).unwrap()).unwrap(), without_kb);
    }

    /// Written by an independent implementation of docs/id1-format.md (Python's zlib and a
    /// Base45 encoder written from RFC 9285), also the fuzzer's seed.
    #[test]
    fn a_text_written_by_another_implementation_unpacks() {
        let text = "ID1:NCFJ+K3UPWOOJ32X0O%V1ZRSVNB+Y2LCIAG4DIG6IA1OJFF3XCR9S7XPH17UI2B%.J- P:5DY.S. NLCGVOTZOR724CBVS KJ89KUBU-3Q7S%CE4 DNU2L2Q XPXYHP5BGIBTFFOIB/N7--I*G1O.MIH6U24OY1T$3G68A M-973LRMJ4$7QJFM* EU1WVVEG6B*DU.7QY210W7I145+A%6OZM1%PF391WLFM29L9HIHE*KPH:960LDE6C20Q.P53";
        let expected = "eyJhbGciOiJFUzI1NiIsInR5cCI6ImRjK3NkLWp3dCJ9.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiX3NkIjpbImFiYyJdLCJ2Y3QiOiJ1cm46dm46cGlkOjEifQ.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA~WyJzYWx0MSIsImdpdmVuX25hbWUiLCJBbiJd~eyJhbGciOiJFUzI1NiIsInR5cCI6ImtiK2p3dCJ9.eyJhdWQiOiJ2Iiwibm9uY2UiOiJuIiwiaWF0IjoxfQ.CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQ";
        assert_eq!(unpack(text).unwrap(), expected);
    }

    #[test]
    fn non_canonical_base64url_is_refused_rather_than_changed() {
        // "AB" decodes to one byte whose re-encoding is "AA".
        assert_eq!(pack("eyJ.AB.x"), Err(Id1Error::NotCanonical));
        assert_eq!(pack("a+b.c"), Err(Id1Error::NotCanonical));
        assert_eq!(pack("abc=.d"), Err(Id1Error::NotCanonical));
    }

    #[test]
    fn damaged_or_hostile_texts_are_typed_errors() {
        let good = pack(&sample()).unwrap();
        assert_eq!(unpack("HC1:ABC"), Err(Id1Error::MissingPrefix));
        assert_eq!(unpack("ID1:a"), Err(Id1Error::Base45));
        assert_eq!(unpack("ID1:"), Err(Id1Error::Compression));
        assert_eq!(
            unpack(&format!("ID1:{}", "0".repeat(MAX_TEXT_CHARS))),
            Err(Id1Error::TooLong)
        );
        // Flip characters through the body: each gives an error or (rarely) another valid
        // string, never a panic.
        for position in PREFIX.len()..good.len() {
            let mut damaged: Vec<char> = good.chars().collect();
            damaged[position] = if damaged[position] == 'A' { 'B' } else { 'A' };
            let _ = unpack(&damaged.into_iter().collect::<String>());
        }
        let packed_body = |body: &[u8]| {
            let mut encoder =
                flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
            encoder.write_all(body).unwrap();
            format!("{PREFIX}{}", base45::encode(encoder.finish().unwrap()))
        };
        assert_eq!(
            unpack(&packed_body(&[9, 0, END])),
            Err(Id1Error::UnknownVersion(9))
        );
        assert_eq!(
            unpack(&packed_body(&[1, 5, 1, 2])),
            Err(Id1Error::Malformed)
        );
        assert_eq!(unpack(&packed_body(&[1, 0, 7])), Err(Id1Error::Malformed));
        assert_eq!(
            unpack(&packed_body(&[1, 0, END, 0])),
            Err(Id1Error::Malformed)
        );
        assert_eq!(
            unpack(&packed_body(&[1, 0xff, 0xff, 0xff, 0x7f])),
            Err(Id1Error::Malformed)
        );
    }

    /// The attacker's QR: a few hundred bytes of zlib that inflate to megabytes.
    #[test]
    fn a_zip_bomb_is_stopped_at_the_limit() {
        let mut body = vec![FORMAT_VERSION];
        body.extend(std::iter::repeat_n(0u8, 1024 * 1024));
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&body).unwrap();
        let compressed = encoder.finish().unwrap();
        let text = format!("{PREFIX}{}", base45::encode(&compressed));
        assert!(text.len() < MAX_TEXT_CHARS, "{} chars", text.len());
        assert_eq!(unpack(&text), Err(Id1Error::TooLong));
    }

    #[test]
    fn varints_round_trip() {
        for value in [0usize, 1, 127, 128, 300, 16_383, 16_384, 2_000_000] {
            let mut out = Vec::new();
            write_varint(&mut out, value);
            let mut input = out.as_slice();
            assert_eq!(read_varint(&mut input).unwrap(), value);
            assert!(input.is_empty());
        }
    }
}
