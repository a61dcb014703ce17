//! The text layer end to end, and what an attacker can put in a QR code.

use std::io::Write;

use super::*;
use coset::TaggedCborSerializable;

use crate::jose::SoftwareSigner;

const CK: Profile = Profile::new("CK1:");

fn issuer() -> SoftwareSigner {
    SoftwareSigner::from_scalar(&[3u8; 32]).unwrap()
}

fn claims() -> Claims {
    let mut claims = Claims {
        iss: Some("https://agency.example.vn".into()),
        iat: Some(1_700_000_000),
        nbf: Some(1_700_000_000),
        exp: Some(1_800_000_000),
        cti: Some(vec![1, 2, 3, 4]),
        ..Claims::default()
    };
    claims.private.insert(
        ClaimKey::Int(-70_001),
        CborValue::Text("Quán Phở Hà Nội".into()),
    );
    claims
}

fn lookup(kid: &[u8]) -> Option<VerifyingKey> {
    (kid == b"venue-key-1").then(|| VerifyingKey::Es256(issuer().public_key().clone()))
}

/// The text of arbitrary COSE bytes, compressed as a minter would.
fn wrap(cose: &[u8]) -> String {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(cose).unwrap();
    format!("CK1:{}", base45::encode(encoder.finish().unwrap()))
}

fn cose_of(text: &str) -> Vec<u8> {
    unwrap_text(&CK, text).unwrap()
}

#[test]
fn what_encodes_decodes_back_with_the_key_given_or_looked_up() {
    let text = encode(&CK, &claims(), b"venue-key-1", &issuer()).unwrap();
    assert!(text.starts_with("CK1:"));
    assert!(text.len() < 300, "{}", text.len());
    let decoded = decode(&CK, &text, issuer().public_key()).unwrap();
    assert_eq!(decoded.kid, b"venue-key-1");
    assert_eq!(decoded.claims, claims());
    assert_eq!(decode(&CK, &text, &lookup).unwrap(), decoded);
    assert_eq!(decoded.claims.check_time(1_750_000_000, 60), Ok(()));
    assert_eq!(
        decoded.claims.check_time(1_800_000_000, 0),
        Err(CwtError::Expired)
    );
}

#[test]
fn the_prefix_is_the_profiles() {
    let text = encode(&CK, &claims(), b"venue-key-1", &issuer()).unwrap();
    let hc1 = Profile {
        prefix: "HC1:",
        kid: KidLocation::ProtectedOrUnprotected,
    };
    assert_eq!(
        decode(&hc1, &text, issuer().public_key()),
        Err(SignedQrError::WrongPrefix)
    );
    let text = encode(&hc1, &claims(), b"k", &issuer()).unwrap();
    assert!(decode(&hc1, &text, issuer().public_key()).is_ok());
    assert_eq!(
        decode(&CK, "ck1:ABC", issuer().public_key()),
        Err(SignedQrError::WrongPrefix)
    );
}

#[test]
fn a_wrong_key_or_unknown_kid_fails() {
    let text = encode(&CK, &claims(), b"venue-key-1", &issuer()).unwrap();
    let other = SoftwareSigner::from_scalar(&[4u8; 32]).unwrap();
    assert_eq!(
        decode(&CK, &text, other.public_key()),
        Err(SignedQrError::SignatureInvalid)
    );
    let text = encode(&CK, &claims(), b"venue-key-2", &issuer()).unwrap();
    assert_eq!(decode(&CK, &text, &lookup), Err(SignedQrError::UnknownKey));
    // Signed by another key under the known kid.
    let text = encode(&CK, &claims(), b"venue-key-1", &other).unwrap();
    assert_eq!(
        decode(&CK, &text, &lookup),
        Err(SignedQrError::SignatureInvalid)
    );
}

#[test]
fn a_tampered_payload_or_signature_fails() {
    let text = encode(&CK, &claims(), b"venue-key-1", &issuer()).unwrap();
    let cose = cose_of(&text);
    let mut message = coset::CoseSign1::from_tagged_slice(&cose).unwrap();
    // Another claim set under the same signature.
    let mut forged = claims();
    forged.exp = Some(i64::MAX);
    let mut tampered = message.clone();
    tampered.payload = Some(forged.to_cbor().unwrap());
    let text = wrap(&tampered.to_tagged_vec().unwrap());
    assert_eq!(
        decode(&CK, &text, issuer().public_key()),
        Err(SignedQrError::SignatureInvalid)
    );
    message.signature[5] ^= 0x80;
    let text = wrap(&message.to_tagged_vec().unwrap());
    assert_eq!(
        decode(&CK, &text, issuer().public_key()),
        Err(SignedQrError::SignatureInvalid)
    );
    // And every single-byte change of the COSE bytes.
    for index in 0..cose.len() {
        let mut damaged = cose.clone();
        damaged[index] ^= 0x04;
        assert!(decode(&CK, &wrap(&damaged), issuer().public_key()).is_err());
    }
}

#[test]
fn unverified_claims_read_any_signature_but_keep_every_bound() {
    // What routing a scan needs: the claims, whoever signed them.
    let stranger = SoftwareSigner::from_scalar(&[9u8; 32]).unwrap();
    let text = encode(&CK, &claims(), b"nobody-knows-this-key", &stranger).unwrap();
    assert_eq!(unverified_claims(&CK, &text), Ok(claims()));
    assert_eq!(
        decode(&CK, &text, &lookup),
        Err(SignedQrError::UnknownKey),
        "the same text does not verify"
    );
    // The layers beneath keep decode's refusals.
    assert_eq!(
        unverified_claims(&CK, "HC1:NCF"),
        Err(SignedQrError::WrongPrefix)
    );
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&vec![0u8; 2 << 20]).unwrap();
    let bomb = format!("CK1:{}", base45::encode(encoder.finish().unwrap()));
    assert_eq!(unverified_claims(&CK, &bomb), Err(SignedQrError::TooLarge));
    let mut message = coset::CoseSign1::from_tagged_slice(&cose_of(&text)).unwrap();
    message.payload = None;
    assert_eq!(
        unverified_claims(&CK, &wrap(&message.to_tagged_vec().unwrap())),
        Err(SignedQrError::DetachedPayload)
    );
    let not_sign1 = ciborium::Value::Array(vec![ciborium::Value::Bytes(vec![]); 3]);
    let mut bytes = Vec::new();
    ciborium::into_writer(&not_sign1, &mut bytes).unwrap();
    assert_eq!(
        unverified_claims(&CK, &wrap(&bytes)),
        Err(SignedQrError::MalformedCose)
    );
    let other_tag = ciborium::Value::Tag(98, Box::new(not_sign1));
    let mut bytes = Vec::new();
    ciborium::into_writer(&other_tag, &mut bytes).unwrap();
    assert_eq!(
        unverified_claims(&CK, &wrap(&bytes)),
        Err(SignedQrError::WrongTag)
    );
    let not_claims = sign1::sign(&[0x80], b"venue-key-1", &issuer()).unwrap();
    assert_eq!(
        unverified_claims(&CK, &wrap(&not_claims)),
        Err(SignedQrError::Claims(CwtError::NotAMap))
    );
}

#[test]
fn a_payload_that_is_not_a_claim_set_is_refused_after_the_signature() {
    let cose = sign1::sign(&[0x80], b"venue-key-1", &issuer()).unwrap();
    assert_eq!(
        decode(&CK, &wrap(&cose), issuer().public_key()),
        Err(SignedQrError::Claims(CwtError::NotAMap))
    );
}

#[test]
fn a_zip_bomb_is_refused_at_the_cap() {
    // 64 MiB of zeros compress to about 64 KiB; the cap is reached after its first few bytes.
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![0u8; 1 << 20];
    for _ in 0..64 {
        encoder.write_all(&block).unwrap();
    }
    let bomb = encoder.finish().unwrap();
    assert_eq!(inflate(&bomb), Err(SignedQrError::TooLarge));
    // Through the text, in a QR-sized code: 4 MiB of zeros in about 4 KiB of zlib would not
    // fit, so a bomb as large as a QR code allows (about 1,000 times the cap).
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&vec![0u8; 2 << 20]).unwrap();
    let small_bomb = encoder.finish().unwrap();
    let text = format!("CK1:{}", base45::encode(&small_bomb));
    assert!(text.len() <= MAX_TEXT_CHARS, "{}", text.len());
    assert_eq!(
        decode(&CK, &text, issuer().public_key()),
        Err(SignedQrError::TooLarge)
    );
    // Exactly the cap inflates; one byte more does not.
    for (len, outcome) in [(MAX_COSE_BYTES, true), (MAX_COSE_BYTES + 1, false)] {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&vec![7u8; len]).unwrap();
        let inflated = inflate(&encoder.finish().unwrap());
        assert_eq!(inflated.is_ok(), outcome, "{len}");
        if let Ok(bytes) = inflated {
            assert_eq!(bytes.capacity(), MAX_COSE_BYTES + 1);
        }
    }
}

#[test]
fn oversized_truncated_and_trailing_input_is_refused() {
    let text = encode(&CK, &claims(), b"venue-key-1", &issuer()).unwrap();
    let key = issuer().public_key().clone();
    let long = format!("CK1:{}", "0".repeat(MAX_TEXT_CHARS));
    assert_eq!(decode(&CK, &long, &key), Err(SignedQrError::TooLong));
    // A dangling Base45 character (whatever the length, one more makes it dangle), or a
    // whole group after the zlib stream.
    let dangling = if (text.len() - 4).is_multiple_of(3) {
        "0"
    } else {
        "00"
    };
    assert_eq!(
        decode(&CK, &format!("{text}{dangling}"), &key),
        Err(SignedQrError::Base45)
    );
    let cose = cose_of(&text);
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&cose).unwrap();
    let mut compressed = encoder.finish().unwrap();
    compressed.extend_from_slice(&[0, 0]);
    let trailing = format!("CK1:{}", base45::encode(&compressed));
    assert_eq!(
        decode(&CK, &trailing, &key),
        Err(SignedQrError::TrailingCompressedBytes)
    );
    // Trailing CBOR after the COSE_Sign1, inside the compressed data.
    let mut cose_trailing = cose.clone();
    cose_trailing.push(0xf6);
    assert_eq!(
        decode(&CK, &wrap(&cose_trailing), &key),
        Err(SignedQrError::Cbor(CborError::TrailingBytes))
    );
    // Every truncation of the text is an error, never a panic.
    for end in 0..text.len() {
        assert!(decode(&CK, &text[..end], &key).is_err());
    }
    // Uncompressed COSE is not zlib.
    let raw = format!("CK1:{}", base45::encode(&cose));
    assert_eq!(decode(&CK, &raw, &key), Err(SignedQrError::Compression));
    assert_eq!(decode(&CK, "CK1:", &key), Err(SignedQrError::Compression));
}

#[test]
fn alg_crit_and_kid_attacks_are_refused_through_the_text() {
    use coset::{CoseSign1Builder, HeaderBuilder, iana};
    let payload = claims().to_cbor().unwrap();
    let make = |protected: coset::Header, unprotected: coset::Header| {
        let message = CoseSign1Builder::new()
            .protected(protected)
            .unprotected(unprotected)
            .payload(payload.clone())
            .create_signature(&[], |tbs| {
                signature_to_raw_vec(&issuer().sign(tbs).unwrap())
            })
            .build();
        wrap(&message.to_tagged_vec().unwrap())
    };
    let key = issuer().public_key().clone();
    for alg in [
        iana::Algorithm::ES384,
        iana::Algorithm::PS384,
        iana::Algorithm::EdDSA,
    ] {
        let protected = HeaderBuilder::new()
            .algorithm(alg)
            .key_id(b"venue-key-1".to_vec())
            .build();
        assert_eq!(
            decode(&CK, &make(protected, Default::default()), &key),
            Err(SignedQrError::UnsupportedAlgorithm)
        );
    }
    let crit = HeaderBuilder::new()
        .algorithm(iana::Algorithm::ES256)
        .key_id(b"venue-key-1".to_vec())
        .add_critical_label(coset::RegisteredLabelWithPrivate::PrivateUse(-70_000))
        .value(-70_000, CborValue::Bool(true))
        .build();
    assert_eq!(
        decode(&CK, &make(crit, Default::default()), &key),
        Err(SignedQrError::CriticalHeader)
    );
    let alg_only = HeaderBuilder::new()
        .algorithm(iana::Algorithm::ES256)
        .build();
    let kid_only = HeaderBuilder::new().key_id(b"venue-key-1".to_vec()).build();
    let text = make(alg_only.clone(), kid_only);
    assert_eq!(
        decode(&CK, &text, &lookup),
        Err(SignedQrError::KidNotProtected)
    );
    let dcc_like = Profile {
        prefix: "CK1:",
        kid: KidLocation::ProtectedOrUnprotected,
    };
    assert!(decode(&dcc_like, &text, &lookup).is_ok());
    assert_eq!(
        decode(&CK, &make(alg_only, Default::default()), &key),
        Err(SignedQrError::MissingKid)
    );
}

fn signature_to_raw_vec(signature: &[u8]) -> Vec<u8> {
    crate::jose::signature_to_raw(signature).unwrap().to_vec()
}

#[test]
fn strict_base45() {
    assert_eq!(base45_decode("BB8"), Ok(b"AB".to_vec()));
    assert_eq!(base45_decode("FGW"), Ok(vec![0xff, 0xff]));
    assert_eq!(base45_decode("U5"), Ok(vec![0xff]));
    for bad in [
        "GGW", ":::", "A", "BB8A", "bb8", "BB#", "BB8\n", "V5", "::", "ÅÅ",
    ] {
        assert_eq!(base45_decode(bad), Err(SignedQrError::Base45), "{bad}");
    }
}

#[test]
fn minting_refuses_what_no_reader_would_accept() {
    let mut big = claims();
    big.private.insert(
        ClaimKey::Text("blob".into()),
        CborValue::Bytes(noise(8_000)),
    );
    assert_eq!(
        encode(&CK, &big, b"venue-key-1", &issuer()),
        Err(SignedQrError::TooLong)
    );
    let mut deep = CborValue::Null;
    for _ in 0..MAX_CBOR_DEPTH {
        deep = CborValue::Array(vec![deep]);
    }
    let mut nested = claims();
    nested.private.insert(ClaimKey::Int(-70_002), deep);
    assert_eq!(
        encode(&CK, &nested, b"venue-key-1", &issuer()),
        Err(SignedQrError::Claims(CwtError::Cbor(CborError::TooDeep)))
    );
}

/// Bytes that do not compress (xorshift).
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u8
        })
        .collect()
}

fn rsa_public_key(pair: &ring::rsa::KeyPair) -> RsaPublicKey {
    let components = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public());
    RsaPublicKey::new(&components.n, &components.e).unwrap()
}

/// A `CK1:` text of `claims()` signed with PS256 by `pair`, under `alg` in the protected header.
fn ps256_text(pair: &ring::rsa::KeyPair, alg: coset::iana::Algorithm) -> String {
    use coset::{CoseSign1Builder, HeaderBuilder};
    let protected = HeaderBuilder::new()
        .algorithm(alg)
        .key_id(b"rsa-key-1".to_vec())
        .build();
    let message = CoseSign1Builder::new()
        .protected(protected)
        .payload(claims().to_cbor().unwrap())
        .create_signature(&[], |tbs| test_ps256_sign(pair, tbs))
        .build();
    wrap(&message.to_tagged_vec().unwrap())
}

#[test]
fn ps256_verifies_with_an_rsa_key_and_only_with_the_right_one() {
    let pair = rsa_key_pair();
    let key = rsa_public_key(&pair);
    assert_eq!(key.modulus_bits(), 2048);
    assert_eq!(format!("{key:?}"), "RsaPublicKey(2048 bits)");
    let text = ps256_text(&pair, coset::iana::Algorithm::PS256);
    let lookup = |kid: &[u8]| (kid == b"rsa-key-1").then(|| VerifyingKey::Ps256(key.clone()));
    let decoded = decode(&CK, &text, &lookup).unwrap();
    assert_eq!(decoded.claims, claims());
    assert_eq!(decoded.kid, b"rsa-key-1");
    // Any change to the message is refused.
    let cose = cose_of(&text);
    for index in (0..cose.len()).step_by(7) {
        let mut damaged = cose.clone();
        damaged[index] ^= 0x01;
        assert!(
            decode(&CK, &wrap(&damaged), &lookup).is_err(),
            "byte {index}"
        );
    }
    // Another RSA key of the same size does not verify it.
    let mut other_n = key.modulus().to_vec();
    other_n[100] ^= 0x10;
    let other = RsaPublicKey::new(&other_n, key.exponent()).unwrap();
    let other_lookup = |_: &[u8]| Some(VerifyingKey::Ps256(other.clone()));
    assert_eq!(
        decode(&CK, &text, &other_lookup),
        Err(SignedQrError::SignatureInvalid)
    );
}

#[test]
fn the_key_decides_the_algorithm_an_attacker_cannot_swap_it() {
    let pair = rsa_key_pair();
    let rsa = rsa_public_key(&pair);
    // A PS256 message presented to an ES256 key (the key id of an EC signer): refused as a
    // mismatch before any signature arithmetic.
    let ps256 = ps256_text(&pair, coset::iana::Algorithm::PS256);
    assert_eq!(
        decode(&CK, &ps256, issuer().public_key()),
        Err(SignedQrError::AlgorithmKeyMismatch)
    );
    // An ES256 message whose key id names an RSA signer.
    let es256 = encode(&CK, &claims(), b"rsa-key-1", &issuer()).unwrap();
    let lookup = |_: &[u8]| Some(VerifyingKey::Ps256(rsa.clone()));
    assert_eq!(
        decode(&CK, &es256, &lookup),
        Err(SignedQrError::AlgorithmKeyMismatch)
    );
    // A PSS signature relabelled as RS256-like or PS384 is not accepted either.
    for alg in [coset::iana::Algorithm::PS384, coset::iana::Algorithm::RS256] {
        assert_eq!(
            decode(&CK, &ps256_text(&pair, alg), &lookup),
            Err(SignedQrError::UnsupportedAlgorithm)
        );
    }
}

#[test]
fn rsa_keys_outside_the_accepted_range_are_refused() {
    let key = rsa_public_key(&rsa_key_pair());
    let mut padded = vec![0, 0];
    padded.extend_from_slice(key.modulus());
    assert_eq!(RsaPublicKey::new(&padded, &[0, 1, 0, 1]).unwrap(), key);
    let small = [0xffu8; 128];
    let even_n = {
        let mut n = key.modulus().to_vec();
        *n.last_mut().unwrap() &= 0xfe;
        n
    };
    for (n, e) in [
        (&small[..], &[1u8, 0, 1][..]),
        (key.modulus(), &[1u8, 0, 0][..]),
        (key.modulus(), &[1u8][..]),
        (key.modulus(), &[1u8, 0, 0, 0, 0, 1][..]),
        (&even_n[..], &[1u8, 0, 1][..]),
        (&[][..], &[][..]),
    ] {
        assert_eq!(RsaPublicKey::new(n, e), Err(SignedQrError::UnsupportedKey));
    }
}
