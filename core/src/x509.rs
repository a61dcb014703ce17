//! A minimal reader of DER X.509 certificates (RFC 5280): the few fields the SDK reads from one,
//! the subject public key (DCC signer keys, `dcc::signer`; TLS pins, `config`), the validity and
//! the extended key usage. It checks the structure of the whole certificate (strict DER lengths,
//! the fields in order, names, algorithm identifiers, well-formed OIDs, one of each extension)
//! but no signature and no chain: a DSC is trusted through the signed trust list, a TLS
//! certificate through rustls / webpki.
//!
//! Written instead of depending on `x509-parser` (with `der-parser`, `asn1-rs` and `nom`), which
//! was about 100 KB of the phone library for these few fields (docs/size.md).
//! `tests/x509_differential.rs` checks it against x509-parser on every signer certificate of the
//! DCC corpus and on all their one-bit mutants: whatever this reader accepts, x509-parser read
//! the same way (it refuses more: it wants DER where x509-parser was lenient). Everything is
//! bounds-checked slicing: no `unsafe`, no panic on any input (the `dcc_decode` fuzz target
//! feeds `SignerCertificate::from_der`).

/// Why bytes are not a certificate this reader understands. Deliberately without detail: the
/// callers map it to their own errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

const TAG_BOOLEAN: u8 = 0x01;
const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_OID: u8 = 0x06;
const TAG_UTC_TIME: u8 = 0x17;
const TAG_GENERALIZED_TIME: u8 = 0x18;
const TAG_SEQUENCE: u8 = 0x30;
const TAG_SET: u8 = 0x31;
/// `[0] EXPLICIT Version`, `[1]`/`[2]` unique identifiers (IMPLICIT BIT STRING, primitive or
/// constructed), `[3] EXPLICIT Extensions`.
const TAG_VERSION: u8 = 0xa0;
const TAG_ISSUER_UID: u8 = 0x81;
const TAG_SUBJECT_UID: u8 = 0x82;
const TAG_EXTENSIONS: u8 = 0xa3;

/// `id-ce-extKeyUsage`, 2.5.29.37, as DER OID content bytes.
const OID_EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];

/// One DER element: its tag, its content and the whole encoding (tag and length included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Element<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub raw: &'a [u8],
}

/// Reads DER elements one after the other from a slice.
#[derive(Debug, Clone, Copy)]
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// The next element, whatever its tag. Single-byte tags and definite, minimal lengths only
    /// (DER).
    fn any(&mut self) -> Result<Element<'a>, Malformed> {
        let bytes = self.rest;
        let (&tag, after_tag) = bytes.split_first().ok_or(Malformed)?;
        if tag & 0x1f == 0x1f {
            return Err(Malformed); // high tag numbers: none in a certificate's structure
        }
        let (&first, after_first) = after_tag.split_first().ok_or(Malformed)?;
        let (length, after_length) = if first < 0x80 {
            (usize::from(first), after_first)
        } else {
            let count = usize::from(first & 0x7f);
            // 0x80 is BER's indefinite length; more than 3 length bytes is more than 16 MB.
            if count == 0 || count > 3 || after_first.len() < count {
                return Err(Malformed);
            }
            let (length_bytes, after) = after_first.split_at(count);
            if length_bytes[0] == 0 {
                return Err(Malformed); // not minimal
            }
            let length = length_bytes
                .iter()
                .fold(0usize, |length, &byte| (length << 8) | usize::from(byte));
            if length < 0x80 {
                return Err(Malformed); // the short form was required
            }
            (length, after)
        };
        if after_length.len() < length {
            return Err(Malformed);
        }
        let (content, rest) = after_length.split_at(length);
        let header = bytes.len() - after_length.len();
        self.rest = rest;
        Ok(Element {
            tag,
            content,
            raw: &bytes[..header + length],
        })
    }

    /// The next element, which must have `tag`.
    fn expect(&mut self, tag: u8) -> Result<Element<'a>, Malformed> {
        let element = self.any()?;
        if element.tag == tag {
            Ok(element)
        } else {
            Err(Malformed)
        }
    }

    /// The next element if it has `tag`, else nothing (and nothing read).
    fn optional(&mut self, tag: u8) -> Result<Option<Element<'a>>, Malformed> {
        if self.peek_tag() == Some(tag) {
            self.any().map(Some)
        } else {
            Ok(None)
        }
    }

    /// The next element if its tag is `tag` with or without the constructed bit (the unique
    /// identifiers' IMPLICIT BIT STRING).
    fn optional_either(&mut self, tag: u8) -> Result<Option<Element<'a>>, Malformed> {
        match self.peek_tag() {
            Some(found) if found & !0x20 == tag => self.any().map(Some),
            _ => Ok(None),
        }
    }

    /// The content bytes of the next element, an OBJECT IDENTIFIER in minimal base-128 arcs.
    fn oid(&mut self) -> Result<&'a [u8], Malformed> {
        let content = self.expect(TAG_OID)?.content;
        let starts_arc = |index: usize| index == 0 || content[index - 1] & 0x80 == 0;
        let minimal = content
            .iter()
            .enumerate()
            .all(|(index, &byte)| byte != 0x80 || !starts_arc(index));
        match content.last() {
            Some(last) if last & 0x80 == 0 && minimal => Ok(content),
            _ => Err(Malformed),
        }
    }

    /// The content of a SEQUENCE, as a reader of its elements.
    fn sequence(&mut self) -> Result<Reader<'a>, Malformed> {
        Ok(Reader::new(self.expect(TAG_SEQUENCE)?.content))
    }
}

/// A BIT STRING's content without its unused-bits byte; only whole bytes are accepted.
fn bit_string_bytes(element: Element<'_>) -> Result<&[u8], Malformed> {
    match element.content.split_first() {
        Some((0, bytes)) => Ok(bytes),
        _ => Err(Malformed),
    }
}

/// The fields of a certificate the SDK reads, borrowed from its DER.
#[derive(Debug, Clone)]
pub(crate) struct Certificate<'a> {
    /// The whole `SubjectPublicKeyInfo` element (what SPKI pins hash).
    pub spki: &'a [u8],
    /// The key's `AlgorithmIdentifier`: its OID (content bytes) and its parameters, if any.
    pub key_algorithm: &'a [u8],
    pub key_parameters: Option<Element<'a>>,
    /// The `subjectPublicKey` BIT STRING's bytes (an EC point, a DER `RSAPublicKey`).
    pub key: &'a [u8],
    not_before: Element<'a>,
    not_after: Element<'a>,
    /// The extended key usage: the OIDs (content bytes) it lists, or `None` without the
    /// extension.
    pub extended_key_usage: Option<Vec<&'a [u8]>>,
}

impl<'a> Certificate<'a> {
    /// Reads one certificate from the start of `der`; returns it and the bytes after it.
    pub fn parse(der: &'a [u8]) -> Result<(Self, &'a [u8]), Malformed> {
        let mut outer = Reader::new(der);
        let mut certificate = outer.sequence()?;
        let rest = outer.rest;
        let mut tbs = certificate.sequence()?;
        algorithm_identifier(&mut certificate)?; // signatureAlgorithm
        bit_string_bytes(certificate.expect(TAG_BIT_STRING)?)?; // signatureValue
        if !certificate.is_empty() {
            return Err(Malformed);
        }

        if let Some(version) = tbs.optional(TAG_VERSION)? {
            let mut version = Reader::new(version.content);
            let number = version.expect(TAG_INTEGER)?;
            if !version.is_empty() || !matches!(number.content, [0] | [1] | [2]) {
                return Err(Malformed);
            }
        }
        tbs.expect(TAG_INTEGER)?; // serialNumber
        algorithm_identifier(&mut tbs)?; // signature
        name(&mut tbs)?; // issuer
        let mut validity = tbs.sequence()?;
        let not_before = validity.any()?;
        let not_after = validity.any()?;
        if !validity.is_empty() {
            return Err(Malformed);
        }
        name(&mut tbs)?; // subject
        let spki_element = tbs.expect(TAG_SEQUENCE)?;
        let mut spki = Reader::new(spki_element.content);
        let (key_algorithm, key_parameters) = algorithm_identifier(&mut spki)?;
        let key = bit_string_bytes(spki.expect(TAG_BIT_STRING)?)?;
        if !spki.is_empty() {
            return Err(Malformed);
        }
        tbs.optional_either(TAG_ISSUER_UID)?;
        tbs.optional_either(TAG_SUBJECT_UID)?;
        let extended_key_usage = match tbs.optional(TAG_EXTENSIONS)? {
            Some(extensions) => read_extensions(extensions.content)?,
            None => None,
        };
        if !tbs.is_empty() {
            return Err(Malformed);
        }
        Ok((
            Self {
                spki: spki_element.raw,
                key_algorithm,
                key_parameters,
                key,
                not_before,
                not_after,
                extended_key_usage,
            },
            rest,
        ))
    }

    /// `notBefore` and `notAfter` in Unix seconds.
    pub fn validity(&self) -> Result<(i64, i64), Malformed> {
        Ok((time(self.not_before)?, time(self.not_after)?))
    }
}

/// `AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }`: the OID's
/// content bytes and the parameters.
fn algorithm_identifier<'a>(
    reader: &mut Reader<'a>,
) -> Result<(&'a [u8], Option<Element<'a>>), Malformed> {
    let mut algorithm = reader.sequence()?;
    let oid = algorithm.oid()?;
    let parameters = if algorithm.is_empty() {
        None
    } else {
        Some(algorithm.any()?)
    };
    if !algorithm.is_empty() {
        return Err(Malformed);
    }
    Ok((oid, parameters))
}

/// `Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY }` (RFC 5280 §4.1.2.4), read for
/// its structure only.
fn name(reader: &mut Reader<'_>) -> Result<(), Malformed> {
    let mut name = reader.sequence()?;
    while !name.is_empty() {
        let mut set = Reader::new(name.expect(TAG_SET)?.content);
        if set.is_empty() {
            return Err(Malformed);
        }
        while !set.is_empty() {
            let mut attribute = set.sequence()?;
            attribute.oid()?;
            attribute.any()?;
            if !attribute.is_empty() {
                return Err(Malformed);
            }
        }
    }
    Ok(())
}

/// The modulus and exponent (INTEGER contents) of a DER `RSAPublicKey` (RFC 8017 A.1.1), both
/// positive, and nothing after it.
pub(crate) fn rsa_public_key(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut outer = Reader::new(der);
    let mut pair = outer.sequence().ok()?;
    let modulus = positive_integer(pair.expect(TAG_INTEGER).ok()?.content)?;
    let exponent = positive_integer(pair.expect(TAG_INTEGER).ok()?.content)?;
    (pair.is_empty() && outer.is_empty()).then_some((modulus, exponent))
}

/// An INTEGER's content if it is a minimal (DER) encoding of a number above zero.
fn positive_integer(content: &[u8]) -> Option<&[u8]> {
    match content {
        [first, ..] if first & 0x80 != 0 => None,
        [0, second, ..] if second & 0x80 == 0 => None,
        [] | [0] => None,
        _ => Some(content),
    }
}

/// Reads `[3] EXPLICIT Extensions`: every extension well-formed and each OID at most once;
/// returns the extended key usage's OIDs if there is one.
fn read_extensions(explicit: &[u8]) -> Result<Option<Vec<&[u8]>>, Malformed> {
    let mut outer = Reader::new(explicit);
    let mut extensions = outer.sequence()?;
    if !outer.is_empty() || extensions.is_empty() {
        return Err(Malformed);
    }
    let mut seen: Vec<&[u8]> = Vec::new();
    let mut usage = None;
    while !extensions.is_empty() {
        let mut extension = extensions.sequence()?;
        let id = extension.oid()?;
        if seen.contains(&id) {
            return Err(Malformed);
        }
        seen.push(id);
        if let Some(critical) = extension.optional(TAG_BOOLEAN)?
            && !matches!(critical.content, [0x00] | [0xff])
        {
            return Err(Malformed);
        }
        let value = extension.expect(TAG_OCTET_STRING)?.content;
        if !extension.is_empty() {
            return Err(Malformed);
        }
        if id == OID_EXT_KEY_USAGE {
            let mut outer = Reader::new(value);
            let mut list = outer.sequence()?;
            if !outer.is_empty() {
                return Err(Malformed);
            }
            let mut oids = Vec::new();
            while !list.is_empty() {
                oids.push(list.oid()?);
            }
            usage = Some(oids);
        }
    }
    Ok(usage)
}

/// A `Time` (UTCTime `YYMMDDHHMMSSZ`, years 1950-2049, or GeneralizedTime `YYYYMMDDHHMMSSZ`, as
/// RFC 5280 §4.1.2.5 requires them) in Unix seconds.
fn time(element: Element<'_>) -> Result<i64, Malformed> {
    let (year, rest) = match (element.tag, element.content.len()) {
        (TAG_UTC_TIME, 13) => {
            let yy = digits(&element.content[..2])?;
            (
                if yy >= 50 { 1900 + yy } else { 2000 + yy },
                &element.content[2..],
            )
        }
        (TAG_GENERALIZED_TIME, 15) => (digits(&element.content[..4])?, &element.content[4..]),
        _ => return Err(Malformed),
    };
    if rest[10] != b'Z' {
        return Err(Malformed);
    }
    let month = digits(&rest[0..2])?;
    let day = digits(&rest[2..4])?;
    let hour = digits(&rest[4..6])?;
    let minute = digits(&rest[6..8])?;
    let second = digits(&rest[8..10])?;
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return Err(Malformed);
    }
    let days = days_from_civil(year, month, day);
    Ok(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// ASCII decimal digits as a number.
fn digits(bytes: &[u8]) -> Result<i64, Malformed> {
    bytes.iter().try_fold(0i64, |value, &byte| {
        if byte.is_ascii_digit() {
            Ok(value * 10 + i64::from(byte - b'0'))
        } else {
            Err(Malformed)
        }
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element(tag: u8, content: &[u8]) -> Element<'_> {
        Element {
            tag,
            content,
            raw: content,
        }
    }

    #[test]
    fn reads_both_time_forms() {
        assert_eq!(time(element(TAG_UTC_TIME, b"700101000000Z")), Ok(0));
        assert_eq!(
            time(element(TAG_UTC_TIME, b"200101000000Z")),
            Ok(1_577_836_800)
        );
        assert_eq!(
            time(element(TAG_UTC_TIME, b"491231235959Z")),
            Ok(2_524_607_999)
        );
        assert_eq!(
            time(element(TAG_GENERALIZED_TIME, b"20400101000000Z")),
            Ok(2_208_988_800)
        );
        assert_eq!(
            time(element(TAG_GENERALIZED_TIME, b"20240229120000Z")),
            Ok(1_709_208_000)
        );
        for bad in [
            &b"20230229120000Z"[..],
            b"20241301000000Z",
            b"20240101240000Z",
            b"2024010100000Z",
            b"20240101000000+",
            b"2024010100000aZ",
        ] {
            assert_eq!(time(element(TAG_GENERALIZED_TIME, bad)), Err(Malformed));
        }
        assert_eq!(
            time(element(TAG_OCTET_STRING, b"700101000000Z")),
            Err(Malformed)
        );
    }

    #[test]
    fn reads_der_lengths_strictly() {
        let long = [&[0x04, 0x81, 0x80][..], &[7u8; 0x80]].concat();
        let read = Reader::new(&long).any().unwrap();
        assert_eq!(
            (read.tag, read.content.len(), read.raw.len()),
            (0x04, 0x80, 0x83)
        );
        for bad in [
            &[0x04, 0x81, 0x05, 1, 2, 3, 4, 5][..], // long form for a short length
            &[0x04, 0x82, 0x00, 0x80],              // leading zero
            &[0x04, 0x80, 0x00, 0x00],              // indefinite
            &[0x04, 0x05, 1, 2],                    // too short
            &[0x1f, 0x01, 0x00],                    // high tag number
            &[0x04],
            &[],
        ] {
            assert_eq!(Reader::new(bad).any(), Err(Malformed), "{bad:02x?}");
        }
    }
}
