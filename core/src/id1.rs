//! `ID1:`: the compact, lossless text form of an SD-JWT presentation for an identity QR code.
//!
//! Owns: [`pack`] and [`unpack`], pure and I/O-free (fuzzable on their own). The exact format
//! (version 2) is in `docs/id1-format.md`, so another implementation can read and write it. In
//! short: the SD-JWT string is split into its base64url parts and the `.`/`~` separators between
//! them; each part is stored as the bytes it encodes, and inside the parts that are JSON every
//! string that is itself base64url is stored as its raw bytes too, or, when it is the SHA-256
//! digest of another part (an `_sd` entry naming a presented disclosure) or of the presentation
//! before the KB-JWT (`sd_hash`), as a two-byte reference the reader recomputes. The result is
//! zlib-compressed with a preset dictionary of the JSON around those strings ([`DICTIONARY`]),
//! prefixed with the format version, Base45-encoded (RFC 9285, whose alphabet is the QR code's
//! compact alphanumeric mode) and prefixed with `ID1:`. Unpacking gives back the exact SD-JWT
//! string. Does not own what the SD-JWT says or whether it verifies (`sdjwt`, the wallet's
//! verifier).
//!
//! Every input to [`unpack`] is bounded before it is decoded or decompressed, and every failure
//! is a typed [`Id1Error`], never a panic.

use std::collections::HashMap;
use std::io::Write;
use std::ops::Range;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::digest::{Context, SHA256};

pub const PREFIX: &str = "ID1:";

/// The longest `ID1:` text accepted (a QR code holds at most 4,296 alphanumeric characters).
pub const MAX_TEXT_CHARS: usize = 4_296;
/// The longest SD-JWT string packed or unpacked, and the most the packed body may inflate to:
/// decompression stops past this, so a small QR cannot expand into a large allocation (a zip
/// bomb).
pub const MAX_SD_JWT_CHARS: usize = 16 * 1024;

/// The first byte after Base45 decoding, before the zlib stream: a reader knows the version, and
/// so the dictionary, before it inflates anything.
const FORMAT_VERSION: u8 = 2;
/// The inflated body's bound.
const MAX_BODY_BYTES: usize = MAX_SD_JWT_CHARS;

/// The byte after each part: what followed it in the SD-JWT.
const SEPARATOR_DOT: u8 = 0;
const SEPARATOR_TILDE: u8 = 1;
const END: u8 = 2;

/// The byte before each part: how its content is stored.
const KIND_BYTES: u8 = 0;
const KIND_JSON: u8 = 1;

/// Escapes inside a JSON part, each standing for a whole JSON string literal (quotes included).
/// JSON text is UTF-8, where the bytes 0xF5–0xFF never occur, so these cannot be confused with
/// it; 0xF8–0xFF are reserved.
///
/// `0xF5 varint(n) n bytes`: `"` + base64url(bytes) + `"`.
const ESCAPE_BYTES: u8 = 0xF5;
/// `0xF6 varint(j)`: `"` + base64url(SHA-256(text of part j)) + `"`.
const ESCAPE_PART_DIGEST: u8 = 0xF6;
/// `0xF7`: `"` + base64url(SHA-256(the SD-JWT text up to and including the last `~` before this
/// part)) + `"`, which is a KB-JWT's `sd_hash`.
const ESCAPE_PREFIX_DIGEST: u8 = 0xF7;
const FIRST_RESERVED_ESCAPE: u8 = 0xF8;
/// Shorter base64url strings stay text: the escape's two bytes and the loss of the dictionary's
/// matches would eat the saving (nonces of 12 bytes, 8-byte kids).
const MIN_ESCAPED_BYTES: usize = 16;
/// The length of a base64url SHA-256 digest.
const DIGEST_CHARS: usize = 43;

/// The fragments of [`DICTIONARY`], least used first (the nearer the end, the cheaper a match).
/// `\xf5 ` is an escaped 32-byte string (a digest or a key coordinate), `\xf5\x10` a 16-byte
/// salt, `\x00\x01`, `\x00\x00@` and `\x01\x01` the separator and kind bytes around parts.
const DICTIONARY_FRAGMENTS: &[&[u8]] = &[
    // Vietnamese family and middle names and the words of addresses, for the disclosed values.
    "Nguyễn ,Trần ,Lê ,Phạm ,Hoàng ,Huỳnh ,Phan ,Vũ ,Võ ,Đặng ,Bùi ,Đỗ ,Hồ ,Ngô ,Dương ,Lý ,Văn ,Thị ,"
        .as_bytes(),
    "Thị trấn ,Thị xã ,Xã ,Phường ,Huyện ,Quận ,Tỉnh ,Thành phố ,Hà Nội,Hồ Chí Minh,".as_bytes(),
    // The issuer JWT: header, payload (SD-JWT VC of a PID), signature length.
    br#"{"alg":"ES256","kid":"","typ":"dc+sd-jwt"}"#,
    b"\x00\x01",
    br#"{"_sd":["#,
    b"\xf5 ,\xf5 ,\xf5 ,\xf5 ",
    br#"],"_sd_alg":"sha-256","cnf":{"jwk":{"crv":"P-256","kty":"EC","x":"#,
    b"\xf5 ",
    br#","y":"#,
    b"\xf5 ",
    br#"}},"exp":18,"iat":18,"iss":"https://"#,
    br#"/","status":{"status_list":{"idx":"#,
    br#","uri":"https://"#,
    br#"/v1/status-lists/1"}},"vct":"urn:eudi:pid:vn:1"}"#,
    b"\x00\x00@",
    // The disclosures: salt, then the PID claims.
    b"\x01\x01[\xf5\x10",
    br#""sex","female"]"#,
    br#","place_of_origin",""#,
    br#","place_of_residence",""#,
    br#","nationality","VN"]"#,
    br#","issue_date","20"#,
    br#","expiry_date","20"#,
    br#","sex","male"]"#,
    br#","age_over_18",false]"#,
    br#","age_over_18",true]"#,
    br#","birth_date","19"#,
    br#","id_number","0"#,
    br#","full_name",""#,
    // The KB-JWT of a one-way identity QR.
    br#"{"alg":"ES256","typ":"kb+jwt"}"#,
    b"\x00\x01",
    br#"{"aud":"urn:citizen:id1:in-person","iat":18,"nonce":"","sd_hash":"#,
    b"\xf7}\x00\x00@",
];

const DICTIONARY_LEN: usize = total_len(DICTIONARY_FRAGMENTS);
/// The zlib preset dictionary (RFC 1950 FDICT) of format version 2: fixed by the version, listed
/// in `docs/id1-format.md`.
pub static DICTIONARY: [u8; DICTIONARY_LEN] = concat(DICTIONARY_FRAGMENTS);
/// Its Adler-32, the DICTID a version 2 zlib header carries.
const DICTIONARY_ADLER32: u32 = adler32(&DICTIONARY);

const fn total_len(fragments: &[&[u8]]) -> usize {
    let mut total = 0;
    let mut index = 0;
    while index < fragments.len() {
        total += fragments[index].len();
        index += 1;
    }
    total
}

const fn concat<const N: usize>(fragments: &[&[u8]]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut at = 0;
    let mut index = 0;
    while index < fragments.len() {
        let fragment = fragments[index];
        let mut offset = 0;
        while offset < fragment.len() {
            out[at] = fragment[offset];
            at += 1;
            offset += 1;
        }
        index += 1;
    }
    out
}

const fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    let mut index = 0;
    while index < bytes.len() {
        a = (a + bytes[index] as u32) % 65_521;
        b = (b + a) % 65_521;
        index += 1;
    }
    (b << 16) | a
}

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
    /// Damaged or truncated zlib data, a stream without the version's preset dictionary (or with
    /// another one), or bytes after the stream.
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
    let parts = split(sd_jwt)?;
    let body = write_body(&parts);
    // Only degenerate strings (thousands of empty parts) grow past the bound a reader enforces.
    if body.len() > MAX_BODY_BYTES {
        return Err(Id1Error::TooLong);
    }
    let mut compress = flate2::Compress::new(flate2::Compression::best(), true);
    compress
        .set_dictionary(&DICTIONARY)
        .map_err(|_| Id1Error::Compression)?;
    let mut encoder = flate2::write::ZlibEncoder::new_with_compress(vec![FORMAT_VERSION], compress);
    encoder
        .write_all(&body)
        .map_err(|_| Id1Error::Compression)?;
    let payload = encoder.finish().map_err(|_| Id1Error::Compression)?;
    let text = format!("{PREFIX}{}", base45::encode(payload));
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
    let payload = crate::signed_qr::base45_decode(encoded).map_err(|_| Id1Error::Base45)?;
    let (&version, compressed) = payload.split_first().ok_or(Id1Error::Malformed)?;
    if version != FORMAT_VERSION {
        return Err(Id1Error::UnknownVersion(version));
    }
    let body = inflate(compressed)?;
    rebuild(&read_body(&body)?)
}

/// One part of the SD-JWT being packed: its text, the bytes it encodes, what follows it.
struct SourcePart<'a> {
    text: &'a str,
    bytes: Vec<u8>,
    separator: u8,
}

fn split(sd_jwt: &str) -> Result<Vec<SourcePart<'_>>, Id1Error> {
    let mut parts = Vec::new();
    let mut rest = sd_jwt;
    loop {
        let end = rest.find(['.', '~']).unwrap_or(rest.len());
        let text = &rest[..end];
        let bytes = decode_canonical(text).ok_or(Id1Error::NotCanonical)?;
        let separator = match rest[end..].chars().next() {
            Some('.') => SEPARATOR_DOT,
            Some('~') => SEPARATOR_TILDE,
            _ => END,
        };
        parts.push(SourcePart {
            text,
            bytes,
            separator,
        });
        if separator == END {
            return Ok(parts);
        }
        rest = &rest[end + 1..];
    }
}

/// The bytes `text` encodes, if it is canonical unpadded base64url (re-encoding them gives
/// `text` back: no padding, no other alphabet, unused trailing bits zero).
fn decode_canonical(text: &str) -> Option<Vec<u8>> {
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    (URL_SAFE_NO_PAD.encode(&bytes) == text).then_some(bytes)
}

fn digest_text(text: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(crate::jose::sha256(text))
}

/// A part is stored as JSON when it is UTF-8 starting with `{` or `[`; it need not be valid
/// JSON, since the escapes only replace complete string literals and give them back exactly.
fn json_text(bytes: &[u8]) -> Option<&str> {
    match bytes.first() {
        Some(b'{' | b'[') => std::str::from_utf8(bytes).ok(),
        _ => None,
    }
}

/// The byte ranges of the complete string literals in JSON text, quotes included. Inside a
/// string a backslash escapes the next byte (`\"`, `\\`); an unterminated string ends the scan.
/// UTF-8 continuation bytes are never `"` or `\`, so scanning bytes is exact.
fn string_literals(json: &[u8]) -> Vec<Range<usize>> {
    let mut literals = Vec::new();
    let mut at = 0;
    while at < json.len() {
        if json[at] != b'"' {
            at += 1;
            continue;
        }
        let start = at;
        at += 1;
        loop {
            match json.get(at) {
                None => return literals,
                Some(b'"') => break,
                Some(b'\\') => at += 2,
                Some(_) => at += 1,
            }
        }
        at += 1;
        literals.push(start..at);
    }
    literals
}

/// The packed body: for each part its kind, length, content and separator.
fn write_body(parts: &[SourcePart<'_>]) -> Vec<u8> {
    // The part each digest names (the first, should two parts be the same text).
    let mut by_digest = HashMap::new();
    for (index, part) in parts.iter().enumerate().rev() {
        by_digest.insert(digest_text(part.text.as_bytes()), index);
    }
    let json: Vec<Option<&str>> = parts.iter().map(|part| json_text(&part.bytes)).collect();
    let prefix_digests = prefix_digests(parts, &json);
    // A part whose digest another part names is written without references, so that a reader
    // can rebuild and hash it before resolving the references to it.
    let mut referenced = vec![false; parts.len()];
    for (index, text) in json.iter().enumerate() {
        let Some(text) = text else { continue };
        for literal in string_literals(text.as_bytes()) {
            let content = &text[literal.start + 1..literal.end - 1];
            if content.len() == DIGEST_CHARS
                && let Some(&target) = by_digest.get(content)
                && target != index
            {
                referenced[target] = true;
            }
        }
    }
    let mut body = Vec::new();
    for (index, part) in parts.iter().enumerate() {
        match json[index] {
            Some(text) => {
                let references = Some(&by_digest).filter(|_| !referenced[index]);
                let content = escape_json(text, index, references, &prefix_digests[index]);
                body.push(KIND_JSON);
                write_varint(&mut body, content.len());
                body.extend_from_slice(&content);
            }
            None => {
                body.push(KIND_BYTES);
                write_varint(&mut body, part.bytes.len());
                body.extend_from_slice(&part.bytes);
            }
        }
        body.push(part.separator);
    }
    body
}

/// For each JSON part, the digest [`ESCAPE_PREFIX_DIGEST`] stands for there: of the text up to
/// and including the last `~` before the part.
fn prefix_digests(parts: &[SourcePart<'_>], json: &[Option<&str>]) -> Vec<Option<String>> {
    let mut running = Context::new(&SHA256);
    let mut before_jwt = running.clone();
    let mut digests = Vec::with_capacity(parts.len());
    for (part, json) in parts.iter().zip(json) {
        digests.push(json.map(|_| URL_SAFE_NO_PAD.encode(before_jwt.clone().finish())));
        running.update(part.text.as_bytes());
        match part.separator {
            SEPARATOR_DOT => running.update(b"."),
            SEPARATOR_TILDE => {
                running.update(b"~");
                before_jwt = running.clone();
            }
            _ => {}
        }
    }
    digests
}

/// A JSON part's content with its base64url string literals escaped. `references` is `None` for
/// a part another part references (it may hold no references itself).
fn escape_json(
    text: &str,
    index: usize,
    references: Option<&HashMap<String, usize>>,
    prefix_digest: &Option<String>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut copied = 0;
    for literal in string_literals(text.as_bytes()) {
        let content = &text[literal.start + 1..literal.end - 1];
        let mut escape = Vec::new();
        if let Some(by_digest) = references
            && content.len() == DIGEST_CHARS
        {
            if let Some(&target) = by_digest.get(content)
                && target != index
            {
                escape.push(ESCAPE_PART_DIGEST);
                write_varint(&mut escape, target);
            } else if prefix_digest.as_deref() == Some(content) {
                escape.push(ESCAPE_PREFIX_DIGEST);
            }
        }
        if escape.is_empty()
            && content.len() >= (MIN_ESCAPED_BYTES * 4).div_ceil(3)
            && let Some(bytes) = decode_canonical(content)
            && bytes.len() >= MIN_ESCAPED_BYTES
        {
            escape.push(ESCAPE_BYTES);
            write_varint(&mut escape, bytes.len());
            escape.extend_from_slice(&bytes);
        }
        if !escape.is_empty() {
            out.extend_from_slice(&text.as_bytes()[copied..literal.start]);
            out.extend_from_slice(&escape);
            copied = literal.end;
        }
    }
    out.extend_from_slice(&text.as_bytes()[copied..]);
    out
}

/// Inflates the zlib stream with the preset dictionary into at most [`MAX_BODY_BYTES`]: the
/// output buffer is allocated once at that bound and never grows.
fn inflate(compressed: &[u8]) -> Result<Vec<u8>, Id1Error> {
    use flate2::{Decompress, FlushDecompress, Status};
    let mut decompress = Decompress::new(true);
    let mut body = Vec::with_capacity(MAX_BODY_BYTES + 1);
    let mut dictionary_set = false;
    loop {
        let (read, written) = (decompress.total_in(), decompress.total_out());
        let input = usize::try_from(read)
            .ok()
            .and_then(|read| compressed.get(read..))
            .ok_or(Id1Error::Compression)?;
        match decompress.decompress_vec(input, &mut body, FlushDecompress::Finish) {
            Ok(Status::StreamEnd) => break,
            Ok(Status::Ok | Status::BufError) => {
                if body.len() > MAX_BODY_BYTES {
                    return Err(Id1Error::TooLong);
                }
                if (read, written) == (decompress.total_in(), decompress.total_out()) {
                    // No progress: the stream is cut short (or the buffer is full, above).
                    return Err(Id1Error::Compression);
                }
            }
            Err(error) => match error.needs_dictionary() {
                Some(id) if id == DICTIONARY_ADLER32 && !dictionary_set => {
                    decompress
                        .set_dictionary(&DICTIONARY)
                        .map_err(|_| Id1Error::Compression)?;
                    dictionary_set = true;
                }
                _ => return Err(Id1Error::Compression),
            },
        }
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(Id1Error::TooLong);
    }
    // The stream must be made with this version's dictionary, and nothing may follow it.
    if !dictionary_set || decompress.total_in() != compressed.len() as u64 {
        return Err(Id1Error::Compression);
    }
    Ok(body)
}

/// What a reference stands for, resolved once every part is read.
#[derive(Debug, Clone, Copy)]
enum Reference {
    PartDigest(usize),
    PrefixDigest,
}

/// A part as read from the body: its bytes with every escape but the references expanded, and
/// the references with the offsets in `bytes` where they go.
struct PackedPart {
    bytes: Vec<u8>,
    references: Vec<(usize, Reference)>,
    separator: u8,
}

fn read_body(mut body: &[u8]) -> Result<Vec<PackedPart>, Id1Error> {
    let mut parts = Vec::new();
    loop {
        let (&kind, rest) = body.split_first().ok_or(Id1Error::Malformed)?;
        body = rest;
        let length = read_varint(&mut body)?;
        if length > body.len() {
            return Err(Id1Error::Malformed);
        }
        let (content, rest) = body.split_at(length);
        let (&separator, rest) = rest.split_first().ok_or(Id1Error::Malformed)?;
        body = rest;
        let (bytes, references) = match kind {
            KIND_BYTES => (content.to_vec(), Vec::new()),
            KIND_JSON => unescape_json(content)?,
            _ => return Err(Id1Error::Malformed),
        };
        parts.push(PackedPart {
            bytes,
            references,
            separator,
        });
        match separator {
            SEPARATOR_DOT | SEPARATOR_TILDE => {}
            END if body.is_empty() => return Ok(parts),
            _ => return Err(Id1Error::Malformed),
        }
    }
}

type Unescaped = (Vec<u8>, Vec<(usize, Reference)>);

fn unescape_json(mut content: &[u8]) -> Result<Unescaped, Id1Error> {
    let mut bytes = Vec::with_capacity(content.len());
    let mut references = Vec::new();
    while let Some((&byte, rest)) = content.split_first() {
        content = rest;
        match byte {
            ESCAPE_BYTES => {
                let length = read_varint(&mut content)?;
                if length > content.len() {
                    return Err(Id1Error::Malformed);
                }
                let (raw, rest) = content.split_at(length);
                content = rest;
                bytes.push(b'"');
                bytes.extend_from_slice(URL_SAFE_NO_PAD.encode(raw).as_bytes());
                bytes.push(b'"');
            }
            ESCAPE_PART_DIGEST => {
                let target = read_varint(&mut content)?;
                references.push((bytes.len(), Reference::PartDigest(target)));
            }
            ESCAPE_PREFIX_DIGEST => references.push((bytes.len(), Reference::PrefixDigest)),
            FIRST_RESERVED_ESCAPE.. => return Err(Id1Error::Malformed),
            _ => bytes.push(byte),
        }
    }
    Ok((bytes, references))
}

/// Resolves the references in part order and joins the parts' base64url texts.
fn rebuild(parts: &[PackedPart]) -> Result<String, Id1Error> {
    let mut sd_jwt = String::new();
    let mut running = Context::new(&SHA256);
    let mut before_jwt = running.clone();
    // Each referenced part is hashed once, however often it is referenced.
    let mut part_digests: Vec<Option<String>> = vec![None; parts.len()];
    for part in parts {
        let text = if part.references.is_empty() {
            URL_SAFE_NO_PAD.encode(&part.bytes)
        } else {
            let mut bytes = Vec::with_capacity(part.bytes.len() + 45 * part.references.len());
            let mut copied = 0;
            for &(at, reference) in &part.references {
                bytes.extend_from_slice(&part.bytes[copied..at]);
                copied = at;
                let digest = match reference {
                    Reference::PartDigest(target) => {
                        // Only a part without references of its own (so never this one).
                        let referenced = parts
                            .get(target)
                            .filter(|part| part.references.is_empty())
                            .ok_or(Id1Error::Malformed)?;
                        part_digests[target]
                            .get_or_insert_with(|| {
                                digest_text(URL_SAFE_NO_PAD.encode(&referenced.bytes).as_bytes())
                            })
                            .clone()
                    }
                    Reference::PrefixDigest => URL_SAFE_NO_PAD.encode(before_jwt.clone().finish()),
                };
                bytes.push(b'"');
                bytes.extend_from_slice(digest.as_bytes());
                bytes.push(b'"');
                // References multiply: bound the part before it grows further.
                if bytes.len() > MAX_SD_JWT_CHARS {
                    return Err(Id1Error::TooLong);
                }
            }
            bytes.extend_from_slice(&part.bytes[copied..]);
            URL_SAFE_NO_PAD.encode(&bytes)
        };
        if sd_jwt.len() + text.len() > MAX_SD_JWT_CHARS {
            return Err(Id1Error::TooLong);
        }
        sd_jwt.push_str(&text);
        running.update(text.as_bytes());
        match part.separator {
            SEPARATOR_DOT => {
                sd_jwt.push('.');
                running.update(b".");
            }
            SEPARATOR_TILDE => {
                sd_jwt.push('~');
                running.update(b"~");
                before_jwt = running.clone();
            }
            _ => {}
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
    // Three bytes reach 2^21, far above any length or index a 16 KiB body can hold.
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
        let json = crate::signed_qr::base45_decode(encoded).map_err(|_| Id1Error::Base45)?;
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
        // RFC 9285 rejects a final pair worth more than 255 ("::" is 44 + 45 * 44), which the
        // plain `base45` crate would truncate into some byte; both texts share one decoder.
        assert_eq!(Challenge::decode("IDC1:::"), Err(Id1Error::Base45));
        assert_eq!(unpack("ID1:::"), Err(Id1Error::Base45));
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

    fn b64(bytes: impl AsRef<[u8]>) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// An SD-JWT of the shape the wallet presents: JWS, disclosures, KB-JWT (digests that name
    /// nothing, so no references).
    fn sample() -> String {
        format!(
            "{}.{}.{}~{}~{}~{}.{}.{}",
            b64(r#"{"alg":"ES256","typ":"dc+sd-jwt"}"#),
            b64(r#"{"iss":"https://issuer.example","_sd":["abc","def"],"vct":"urn:vn:pid:1"}"#),
            b64([7u8; 64]),
            b64(r#"["salt1","given_name","An"]"#),
            b64(r#"["salt2","family_name","Nguyễn"]"#),
            b64(r#"{"alg":"ES256","typ":"kb+jwt"}"#),
            b64(r#"{"aud":"verifier","nonce":"n","iat":1,"sd_hash":"x"}"#),
            b64([9u8; 64]),
        )
    }

    /// A PID as the sandbox issues it (ten disclosable claims, `cnf.jwk`, status, an
    /// 11-character kid, no decoys), presented with the claims in `shown`, with a one-way KB-JWT
    /// or without key binding.
    fn pid_presentation(shown: &[&str], key_binding: bool) -> String {
        use crate::jose::SoftwareSigner;
        use crate::sdjwt::{ClaimPath, IssueOptions, KeyBindingParams, Limits, SdJwt};
        let issuer = SoftwareSigner::generate().unwrap();
        let holder = SoftwareSigner::generate().unwrap();
        let now = 1_800_000_000i64;
        let serde_json::Value::Object(claims) = serde_json::json!({
            "iss": "https://sandbox.citizen.gov.vn/",
            "iat": now,
            "exp": now + 365 * 86_400,
            "vct": "urn:eudi:pid:vn:1",
            "status": {"status_list": {
                "idx": 48_213,
                "uri": "https://sandbox.citizen.gov.vn/v1/status-lists/1",
            }},
            "full_name": "Nguyễn Văn An",
            "birth_date": "1990-05-17",
            "sex": "male",
            "nationality": "VN",
            "id_number": "001090012345",
            "place_of_origin": "Xã Tam Hiệp, Huyện Thanh Trì, Hà Nội",
            "place_of_residence": "Phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh",
            "issue_date": "2027-01-15",
            "expiry_date": "2028-01-15",
            "age_over_18": true,
        }) else {
            unreachable!()
        };
        let options = IssueOptions {
            disclosable: crate::openid4vci::pid_claims::ALL
                .iter()
                .map(|name| ClaimPath::claim(name))
                .collect(),
            holder_key: Some(holder.public_key().clone()),
            typ: Some(crate::sdjwt::SD_JWT_VC_TYP.into()),
            kid: Some(issuer.public_key().thumbprint().chars().take(11).collect()),
            decoys_per_container: 0,
        };
        let issued = crate::sdjwt::issue(&claims, &options, &issuer).unwrap();
        let sd_jwt = SdJwt::parse(&issued.sd_jwt, &Limits::default()).unwrap();
        let paths: Vec<ClaimPath> = shown.iter().map(|name| ClaimPath::claim(name)).collect();
        let params = KeyBindingParams {
            audience: IN_PERSON_AUDIENCE,
            nonce: "q3V1cmF0ZWQtbm9u",
            issued_at: now + 86_400,
            signer: &holder,
        };
        sd_jwt
            .present(&paths, key_binding.then_some(&params))
            .unwrap()
    }

    const FOUR_CLAIMS: [&str; 4] = ["full_name", "birth_date", "id_number", "age_over_18"];

    /// The parts of `sd_jwt` as the writer stores them, read back (references unresolved).
    fn stored_parts(sd_jwt: &str) -> Vec<PackedPart> {
        read_body(&write_body(&split(sd_jwt).unwrap())).unwrap()
    }

    fn count(part: &PackedPart, wanted: fn(&Reference) -> bool) -> usize {
        part.references.iter().filter(|(_, r)| wanted(r)).count()
    }

    #[test]
    fn real_presentations_come_back_exactly() {
        let all = crate::openid4vci::pid_claims::ALL;
        for (shown, key_binding) in [
            (&FOUR_CLAIMS[..], true),
            (&all[..], true),
            (&[][..], true),
            (&FOUR_CLAIMS[..], false),
            (&all[..], false),
        ] {
            let sd_jwt = pid_presentation(shown, key_binding);
            let text = pack(&sd_jwt).unwrap();
            assert!(text.starts_with(PREFIX));
            // Base45 output is in the QR alphanumeric set, so the code uses its compact mode.
            assert!(
                text.chars()
                    .all(|c| "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".contains(c))
            );
            assert_eq!(unpack(&text).unwrap(), sd_jwt, "{} claims", shown.len());
            assert_eq!(sd_jwt.ends_with('~'), !key_binding);

            // The issuer payload names each presented disclosure by reference; the KB-JWT's
            // sd_hash is the prefix reference; the other base64url strings are raw bytes.
            let parts = stored_parts(&sd_jwt);
            let is_part = |r: &Reference| matches!(r, Reference::PartDigest(_));
            let is_prefix = |r: &Reference| matches!(r, Reference::PrefixDigest);
            assert_eq!(count(&parts[1], is_part), shown.len());
            if key_binding {
                let kb_payload = &parts[parts.len() - 2];
                assert_eq!(count(kb_payload, is_prefix), 1);
            }
            assert!(parts.iter().all(|part| count(part, is_prefix) <= 1));
        }
    }

    /// The issue's benchmark `identity.qr_chars`: a PID presented with four claims and a KB-JWT
    /// fits an identity QR of at most 1,200 characters.
    #[test]
    fn a_pid_presentation_fits_the_identity_qr_budget() {
        let mut four = Vec::new();
        let mut ten = Vec::new();
        for _ in 0..5 {
            four.push(pack(&pid_presentation(&FOUR_CLAIMS, true)).unwrap().len());
            ten.push(
                pack(&pid_presentation(&crate::openid4vci::pid_claims::ALL, true))
                    .unwrap()
                    .len(),
            );
        }
        println!("identity.qr_chars: 4 claims + KB-JWT {four:?}, 10 claims + KB-JWT {ten:?}");
        assert!(four.iter().all(|&chars| chars <= 1_200), "{four:?}");
        assert!(ten.iter().all(|&chars| chars <= 1_200), "{ten:?}");
    }

    #[test]
    fn odd_inputs_come_back_exactly() {
        let digest_of = |text: &str| digest_text(text.as_bytes());
        let disclosure = b64(r#"["c2FsdHNhbHRzYWx0c2FsdA","full_name","An"]"#);
        let inner = b64(format!(
            r#"["c2FsdHNhbHRzYWx0c2FsdA",{{"_sd":["{}"]}}]"#,
            digest_of(&disclosure)
        ));
        let outer = b64(format!(r#"{{"_sd":["{}"]}}"#, digest_of(&inner)));
        let thirty_two = "A".repeat(43);
        let cases = [
            String::new(),
            "~".into(),
            ".~.~~".into(),
            sample(),
            // Without key binding: ends with "~" (an empty last part).
            sample()[..sample().rfind('~').unwrap() + 1].to_string(),
            // Escaped quotes and backslashes around base64url-looking text.
            b64(format!(
                r#"{{"a":"x\"{thirty_two}\"","b":"\\","c":"{thirty_two}","d":"\\\"{thirty_two}"}}"#
            )),
            // Base64url-looking but not canonical (trailing bits, length, padding, alphabet)
            // or too short: stays text.
            b64(
                r#"["AAAAAAAAAAAAAAAAAAAAAB","AAAAAAAAAAAAAAAAAAAAAAAAA","AAAAAAAAAAAAAAAAAAAAAA==","AAAAAAAAAAAAAAAAAAAAA+/A","AAAAAAAAAAAAAAAAAAAA",""]"#,
            ),
            // Not JSON: binary that starts with "{" but is not UTF-8, JSON that does not start
            // with "{" or "[", raw bytes in the escape range.
            b64(b"{\xff\xf5\xf6\xf7\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\""),
            b64(r#" {"a":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#),
            b64([0xf5, 0xf6, 0xf7, 0xf8, 0xff, 0x00]),
            // JSON cut short inside a string, a lone bracket, non-ASCII text.
            b64(r#"{"a":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","b":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"#),
            b64("["),
            b64(r#"["Phường Bến Nghé","AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]"#),
            // Digests: a chain (outer names inner, inner names the disclosure), a digest of an
            // empty part, of a later and of an earlier part, of the text before the last "~".
            format!("{outer}.{inner}~{disclosure}~"),
            format!(
                "{}.~{}",
                b64(format!(r#"{{"e":"{}"}}"#, digest_of(""))),
                b64(format!(r#"["{}"]"#, digest_of(&disclosure)))
            ),
            format!(
                "{disclosure}~{}~{}",
                b64(format!(
                    r#"["{}","{}"]"#,
                    digest_of(&disclosure),
                    digest_of(&format!("{disclosure}~"))
                )),
                b64(format!(r#"["{}"]"#, digest_of("")))
            ),
        ];
        for sd_jwt in cases {
            let text = pack(&sd_jwt).unwrap_or_else(|e| panic!("{sd_jwt}: {e}"));
            assert_eq!(unpack(&text).unwrap(), sd_jwt);
        }
    }

    #[test]
    fn only_whole_canonical_base64url_string_literals_are_escaped() {
        let thirty_two = "A".repeat(43);
        let json = format!(r#"{{"a":"x\"{thirty_two}\"","b":"\\","c":"{thirty_two}"}}"#);
        let literals: Vec<&str> = string_literals(json.as_bytes())
            .into_iter()
            .map(|range| &json[range])
            .collect();
        assert_eq!(
            literals,
            [
                r#""a""#,
                &format!(r#""x\"{thirty_two}\"""#),
                r#""b""#,
                r#""\\""#,
                r#""c""#,
                &format!(r#""{thirty_two}""#)
            ]
        );
        let escaped = escape_json(&json, 0, None, &None);
        let mut expected = format!(r#"{{"a":"x\"{thirty_two}\"","b":"\\","c":"#).into_bytes();
        expected.extend([ESCAPE_BYTES, 32]);
        expected.extend([0u8; 32]);
        expected.push(b'}');
        assert_eq!(escaped, expected);
        // 15 bytes stay text; 16 are escaped.
        assert_eq!(
            escape_json(r#"["AAAAAAAAAAAAAAAAAAAA"]"#, 0, None, &None).len(),
            24
        );
        assert_eq!(
            escape_json(r#"["AAAAAAAAAAAAAAAAAAAAAA"]"#, 0, None, &None),
            [&b"["[..], &[ESCAPE_BYTES, 16], &[0; 16], b"]"].concat()
        );
    }

    /// Written by an independent implementation of docs/id1-format.md (Python's zlib with the
    /// documented dictionary, and a Base45 encoder written from RFC 9285); also a fuzzing seed.
    #[test]
    fn a_text_written_by_another_implementation_unpacks() {
        let text = include_str!("../../fuzz/seeds/id1_unpack/presentation").trim_end();
        let expected = "eyJhbGciOiJFUzI1NiIsImtpZCI6IkFlQVFuMW9Uam9TIiwidHlwIjoiZGMrc2Qtand0In0.eyJfc2QiOlsiblZXcFA1bFZDaW1GU0piVlN2WkJmMjFJR3VrRVFuRVBwbXBnSVJwUU8tVSIsIlpHVm1aMmhwYW10c2JXNXZjSEZ5YzNSMWRuZDRlWHA3ZkgxLWY0Q0Jnb00iLCJfV2xzOWFyNDVWalU0ZFBLSEZqa3NjV3F5amRlTXpYTDlrcF9tVm00LTNrIl0sIl9zZF9hbGciOiJzaGEtMjU2IiwiY25mIjp7Imp3ayI6eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVDIiwieCI6IklDRWlJeVFsSmljb0tTb3JMQzB1THpBeE1qTTBOVFkzT0RrNk96dzlQajgiLCJ5IjoiUUVGQ1EwUkZSa2RJU1VwTFRFMU9UMUJSVWxOVVZWWlhXRmxhVzF4ZFhsOCJ9fSwiZXhwIjoxODI3MTg2MDAwLCJpYXQiOjE3OTU1NjM2MDAsImlzcyI6Imh0dHBzOi8vcG9ydGFsLmV4YW1wbGUuZ292LnZuLyIsInN0YXR1cyI6eyJzdGF0dXNfbGlzdCI6eyJpZHgiOjQwOTI4LCJ1cmkiOiJodHRwczovL3BvcnRhbC5leGFtcGxlLmdvdi52bi92MS9zdGF0dXMtbGlzdHMvMSJ9fSwidmN0IjoidXJuOmV1ZGk6cGlkOnZuOjEifQ.yMnKy8zNzs_Q0dLT1NXW19jZ2tvc3d7f4OHi4-Tl5ufo6err7O3u7_Dx8vP09fb3-Pn6-_z9_v8AAAAAAAAAAA~WyJBQUVDQXdRRkJnY0lDUW9MREEwT0R3IiwiZnVsbF9uYW1lIiwiTmd1eeG7hW4gVsSDbiBBbiJd~WyJFQkVTRXhRVkZoY1lHUm9iSEIwZUh3IiwiYWdlX292ZXJfMTgiLHRydWVd~eyJhbGciOiJFUzI1NiIsInR5cCI6ImtiK2p3dCJ9.eyJhdWQiOiJ1cm46Y2l0aXplbjppZDE6aW4tcGVyc29uIiwiaWF0IjoxNzk1NjUwMDAwLCJub25jZSI6InEzVjFjbUYwWldRdGJtOXUiLCJzZF9oYXNoIjoiNEdFSXFrVE5SOXg3NlJfX3FRWEI3S3dWbVU3am9reTBVT0xocDJHaWNSVSJ9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert_eq!(unpack(text).unwrap(), expected);
        // Every escape and reference is in it.
        let parts = stored_parts(expected);
        assert!(matches!(
            parts[1].references[..],
            [(_, Reference::PartDigest(3)), (_, Reference::PartDigest(4))]
        ));
        assert!(matches!(
            parts[6].references[..],
            [(_, Reference::PrefixDigest)]
        ));
    }

    /// The dictionary is the one `docs/id1-format.md` lists, byte for byte.
    #[test]
    fn the_dictionary_is_the_documented_one() {
        let doc = include_str!("../../docs/id1-format.md");
        let hex = doc
            .split("```hex\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("the doc's hex block");
        let documented: Vec<u8> = hex
            .split_whitespace()
            .map(|byte| u8::from_str_radix(byte, 16).unwrap())
            .collect();
        assert_eq!(documented, DICTIONARY);
        assert_eq!((DICTIONARY.len(), DICTIONARY_ADLER32), (825, 0x91cb_22e6));
        assert!(doc.contains("825 bytes") && doc.contains("0x91CB22E6"));
    }

    #[test]
    fn non_canonical_base64url_is_refused_rather_than_changed() {
        // "AB" decodes to one byte whose re-encoding is "AA".
        assert_eq!(pack("eyJ.AB.x"), Err(Id1Error::NotCanonical));
        assert_eq!(pack("a+b.c"), Err(Id1Error::NotCanonical));
        assert_eq!(pack("abc=.d"), Err(Id1Error::NotCanonical));
        // Thousands of empty parts would inflate past what a reader accepts.
        assert_eq!(pack(&"~".repeat(10_000)), Err(Id1Error::TooLong));
    }

    /// Version 2's payload (version byte, then zlib with `dictionary`, if any) around `body`.
    fn text_of(version: u8, body: &[u8], dictionary: Option<&[u8]>) -> String {
        let mut compress = flate2::Compress::new(flate2::Compression::best(), true);
        if let Some(dictionary) = dictionary {
            compress.set_dictionary(dictionary).unwrap();
        }
        let mut encoder = flate2::write::ZlibEncoder::new_with_compress(vec![version], compress);
        encoder.write_all(body).unwrap();
        format!("{PREFIX}{}", base45::encode(encoder.finish().unwrap()))
    }

    fn packed_body(body: &[u8]) -> String {
        text_of(FORMAT_VERSION, body, Some(&DICTIONARY))
    }

    #[test]
    fn damaged_or_hostile_texts_are_typed_errors() {
        use Id1Error::*;
        let good = pack(&pid_presentation(&FOUR_CLAIMS, true)).unwrap();
        assert_eq!(unpack("HC1:ABC"), Err(MissingPrefix));
        assert_eq!(unpack("ID1:a"), Err(Base45));
        assert_eq!(unpack("ID1:"), Err(Malformed));
        assert_eq!(
            unpack(&format!("ID1:{}", "0".repeat(MAX_TEXT_CHARS))),
            Err(TooLong)
        );
        // Flip characters through the text: each gives an error or (rarely) another string,
        // which then packs and unpacks unchanged; never a panic.
        for position in PREFIX.len()..good.len() {
            let mut damaged: Vec<char> = good.chars().collect();
            damaged[position] = if damaged[position] == 'A' { 'B' } else { 'A' };
            if let Ok(sd_jwt) = unpack(&damaged.into_iter().collect::<String>()) {
                assert_eq!(unpack(&pack(&sd_jwt).unwrap()).unwrap(), sd_jwt);
            }
        }

        // Version 1 began directly with its zlib stream (0x78); no other version is known.
        let version_1 = "ID1:NCFJ+K3UPWOOJ32X0O%V1ZRSVNB+Y2LCIAG4DIG6IA1OJFF3XCR9S7XPH17UI2B%.J- P:5DY.S. NLCGVOTZOR724CBVS KJ89KUBU-3Q7S%CE4 DNU2L2Q XPXYHP5BGIBTFFOIB/N7--I*G1O.MIH6U24OY1T$3G68A M-973LRMJ4$7QJFM* EU1WVVEG6B*DU.7QY210W7I145+A%6OZM1%PF391WLFM29L9HIHE*KPH:960LDE6C20Q.P53";
        assert_eq!(unpack(version_1), Err(UnknownVersion(0x78)));
        assert_eq!(
            unpack(&text_of(3, &[0, 0, END], Some(&DICTIONARY))),
            Err(UnknownVersion(3))
        );

        // The zlib stream: without the dictionary, with another one, cut short, followed by
        // more bytes, not zlib at all.
        assert_eq!(unpack(&text_of(2, &[0, 0, END], None)), Err(Compression));
        assert_eq!(
            unpack(&text_of(2, &[0, 0, END], Some(b"another dictionary"))),
            Err(Compression)
        );
        let payload = base45::decode(&good[PREFIX.len()..]).unwrap();
        for cut in [
            1,
            2,
            3,
            7,
            payload.len() / 2,
            payload.len() - 4,
            payload.len() - 1,
        ] {
            let truncated = format!("{PREFIX}{}", base45::encode(&payload[..cut]));
            assert_eq!(unpack(&truncated), Err(Compression), "cut at {cut}");
        }
        let mut longer = payload.clone();
        longer.push(0);
        assert_eq!(
            unpack(&format!("{PREFIX}{}", base45::encode(&longer))),
            Err(Compression)
        );
        assert_eq!(
            unpack(&format!("{PREFIX}{}", base45::encode([2, 1, 2, 3]))),
            Err(Compression)
        );

        // The body: no part, unknown kind, length past the end, unknown separator, bytes after
        // the end, an over-long varint.
        for body in [
            &[][..],
            &[9, 0, END],
            &[KIND_BYTES, 5, 1, END],
            &[KIND_BYTES, 0, 7],
            &[KIND_BYTES, 0, END, 0],
            &[KIND_BYTES, 0, SEPARATOR_DOT],
            &[KIND_BYTES, 0xff, 0xff, 0xff, 0x7f],
        ] {
            assert_eq!(unpack(&packed_body(body)), Err(Malformed), "{body:?}");
        }
        // Escapes: a reserved marker, a length past the part's end, a cut varint, a reference
        // to no part, to itself, to a part with references of its own.
        for body in [
            &[KIND_JSON, 2, b'{', 0xf8, END][..],
            &[KIND_JSON, 2, b'{', 0xff, END],
            &[KIND_JSON, 4, b'{', ESCAPE_BYTES, 3, 0, END],
            &[KIND_JSON, 2, b'{', ESCAPE_BYTES, END],
            &[KIND_JSON, 3, b'{', ESCAPE_BYTES, 0x80, END],
            &[KIND_JSON, 2, b'[', ESCAPE_PART_DIGEST, END],
            &[KIND_JSON, 3, b'[', ESCAPE_PART_DIGEST, 1, END],
            &[KIND_JSON, 3, b'[', ESCAPE_PART_DIGEST, 0, END],
            &[
                KIND_JSON,
                3,
                b'[',
                ESCAPE_PART_DIGEST,
                1,
                SEPARATOR_DOT,
                KIND_JSON,
                3,
                b'[',
                ESCAPE_PART_DIGEST,
                0,
                END,
            ],
        ] {
            assert_eq!(unpack(&packed_body(body)), Err(Malformed), "{body:?}");
        }
        // Bodies a writer would not make but that read unambiguously.
        assert_eq!(
            unpack(&packed_body(&[
                KIND_JSON,
                4,
                b'[',
                ESCAPE_BYTES,
                0,
                ESCAPE_PREFIX_DIGEST,
                END
            ])),
            Ok(b64(format!(r#"["""{}""#, digest_text(b""))))
        );
        assert_eq!(
            unpack(&packed_body(&[
                KIND_JSON,
                1,
                0xc0,
                SEPARATOR_TILDE,
                KIND_BYTES,
                1,
                0xf6,
                END
            ])),
            Ok(format!("{}~{}", b64([0xc0]), b64([0xf6])))
        );
    }

    /// The attacker's QR: a few hundred bytes of zlib that inflate to megabytes, or references
    /// that multiply a part: stopped at the limit.
    #[test]
    fn a_zip_bomb_is_stopped_at_the_limit() {
        let mut body = vec![KIND_BYTES];
        body.extend(std::iter::repeat_n(0u8, 1024 * 1024));
        let text = packed_body(&body);
        assert!(text.len() < MAX_TEXT_CHARS, "{} chars", text.len());
        assert_eq!(unpack(&text), Err(Id1Error::TooLong));

        // Each reference (one or two bytes) becomes 45 bytes of JSON.
        let json_part = |content: &[u8], separator: u8| {
            let mut part = vec![KIND_JSON];
            write_varint(&mut part, content.len());
            part.extend_from_slice(content);
            part.push(separator);
            part
        };
        let mut body = vec![KIND_BYTES, 0, SEPARATOR_TILDE];
        body.extend(json_part(&[ESCAPE_PART_DIGEST, 0].repeat(8_000), END));
        assert!(body.len() <= MAX_BODY_BYTES);
        assert_eq!(unpack(&packed_body(&body)), Err(Id1Error::TooLong));
        let body = json_part(&[ESCAPE_PREFIX_DIGEST; 16_000], END);
        assert_eq!(unpack(&packed_body(&body)), Err(Id1Error::TooLong));
        // Many small parts each within the bound, together past it.
        let mut body = Vec::new();
        for _ in 0..300 {
            body.extend(json_part(&[ESCAPE_PREFIX_DIGEST; 3], SEPARATOR_DOT));
        }
        body.extend(json_part(&[], END));
        assert_eq!(unpack(&packed_body(&body)), Err(Id1Error::TooLong));
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
