//! Venue and service-counter codes (`CK1:`): the typed [`VenueCode`] read strictly from verified
//! CWT claims, [`verify`] against the trust list's venue signers, and [`mint`] for the sandbox and
//! agency tools.
//!
//! Pure and I/O-free: every input gives a value or a typed [`VenueCodeError`], never a panic, so
//! it can be fuzzed alone. The claim layout is `wire`'s table; this module enforces it.

use ciborium::Value;

use super::wire::{VENUE_CLAIM, VENUE_PROFILE, VenueKind};
use crate::jose::{EcPublicJwk, JwsSigner};
use crate::signed_qr::{self, ClaimKey, Claims, CwtError, SignedQrError, VerifyingKey};
use crate::trust_list::{TrustList, TrustListError, VenueSigner};

/// Seconds of clock difference allowed between the phone and the minter, either way.
pub const CLOCK_SKEW_SECS: i64 = 300;
/// The shortest and the longest automatic check-out a code may carry (seconds).
pub const AUTO_CHECKOUT_RANGE: std::ops::RangeInclusive<u32> = 60..=86_400;
/// Bounds of the code id (`cti`), in bytes.
pub const CODE_ID_BYTES: std::ops::RangeInclusive<usize> = 8..=32;
/// The longest venue id, display name and address, in characters.
pub const MAX_VENUE_ID_CHARS: usize = 64;
pub const MAX_NAME_CHARS: usize = 120;
pub const MAX_ADDRESS_CHARS: usize = 200;

/// Why a venue code was refused, or could not be minted. The texts name checks, never values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VenueCodeError {
    /// Not a `CK1:` code, or damaged: prefix, Base45, compression, COSE structure.
    #[error("the code cannot be read: {0}")]
    Unreadable(SignedQrError),
    /// The key id names no venue signer of the trust list.
    #[error("the code is signed with a key the trust list does not know")]
    UnknownKey,
    /// The key was not valid when the code says it was minted (retired, or not yet in use).
    #[error("the code's signing key was not valid when the code was minted")]
    KeyNotValid,
    #[error("the code's signature does not verify")]
    BadSignature,
    /// The code names another agency than the one owning the signing key.
    #[error("the code's agency is not the signing key's agency")]
    WrongAgency,
    #[error("the code has expired")]
    Expired,
    #[error("the code is not valid yet")]
    NotYetValid,
    /// A claim is missing, of the wrong type or outside its bounds; names the claim.
    #[error("the code's `{0}` claim is missing or not acceptable")]
    Claim(&'static str),
    /// Minting failed (the signer, or the result would not fit a QR code).
    #[error("the code could not be minted: {0}")]
    Mint(SignedQrError),
}

/// What a venue or counter code says, typed and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueCode {
    /// The agency (`iss`): the `agency` of the venue signer owning the signing key.
    pub agency: String,
    pub venue_id: String,
    pub name: String,
    /// May be empty.
    pub address: String,
    pub kind: VenueKind,
    /// Automatic check-out after this many seconds.
    pub auto_checkout_secs: u32,
    /// Validity, `[not_before, expires_at)` (Unix seconds).
    pub not_before: i64,
    pub expires_at: i64,
    /// When the code was minted: the signing key must have been valid then.
    pub issued_at: i64,
    /// The code's id (`cti`), 8 to 32 bytes.
    pub code_id: Vec<u8>,
}

/// A code whose signature, key, agency and times checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedVenueCode {
    pub code: VenueCode,
    /// The signing agency's name from the trust list.
    pub signer_name: String,
}

impl VenueCode {
    /// Reads the code from claims whose signature was verified, applying every bound of the
    /// layout. Times are not compared with a clock here ([`VenueCode::check_time`]).
    pub fn from_claims(claims: &Claims) -> Result<Self, VenueCodeError> {
        let agency = claims
            .iss
            .clone()
            .filter(|iss| is_identifier(iss, MAX_VENUE_ID_CHARS))
            .ok_or(VenueCodeError::Claim("iss"))?;
        let expires_at = claims.exp.ok_or(VenueCodeError::Claim("exp"))?;
        let not_before = claims.nbf.ok_or(VenueCodeError::Claim("nbf"))?;
        let issued_at = claims.iat.ok_or(VenueCodeError::Claim("iat"))?;
        if not_before >= expires_at {
            return Err(VenueCodeError::Claim("exp"));
        }
        let code_id = claims
            .cti
            .clone()
            .filter(|cti| CODE_ID_BYTES.contains(&cti.len()))
            .ok_or(VenueCodeError::Claim("cti"))?;
        let Some(Value::Map(venue)) = claims.private.get(&ClaimKey::Int(VENUE_CLAIM)) else {
            return Err(VenueCodeError::Claim("venue"));
        };
        let mut fields = VenueFields::default();
        for (key, value) in venue {
            let Value::Text(key) = key else {
                return Err(VenueCodeError::Claim("venue"));
            };
            let slot = match key.as_str() {
                "v" => &mut fields.v,
                "n" => &mut fields.n,
                "a" => &mut fields.a,
                "k" => &mut fields.k,
                "d" => &mut fields.d,
                // A newer minter may add keys; they are ignored.
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(VenueCodeError::Claim("venue"));
            }
        }
        let venue_id = text(fields.v, "v")?;
        if !is_identifier(&venue_id, MAX_VENUE_ID_CHARS) {
            return Err(VenueCodeError::Claim("v"));
        }
        let name = text(fields.n, "n")?;
        if name.is_empty() || !is_display_text(&name, MAX_NAME_CHARS) {
            return Err(VenueCodeError::Claim("n"));
        }
        let address = text(fields.a, "a")?;
        if !is_display_text(&address, MAX_ADDRESS_CHARS) {
            return Err(VenueCodeError::Claim("a"));
        }
        let kind = unsigned(fields.k, "k")
            .ok()
            .and_then(VenueKind::from_code)
            .ok_or(VenueCodeError::Claim("k"))?;
        let auto_checkout_secs = unsigned(fields.d, "d")?
            .try_into()
            .ok()
            .filter(|d| AUTO_CHECKOUT_RANGE.contains(d))
            .ok_or(VenueCodeError::Claim("d"))?;
        Ok(Self {
            agency,
            venue_id,
            name,
            address,
            kind,
            auto_checkout_secs,
            not_before,
            expires_at,
            issued_at,
            code_id,
        })
    }

    /// The claims that [`VenueCode::from_claims`] reads back to this code. Checks the same bounds
    /// first, so a code that no reader would accept is never minted.
    pub fn to_claims(&self) -> Result<Claims, VenueCodeError> {
        let venue = Value::Map(vec![
            (text_value("v"), text_value(&self.venue_id)),
            (text_value("n"), text_value(&self.name)),
            (text_value("a"), text_value(&self.address)),
            (
                text_value("k"),
                Value::Integer(u64::from(self.kind.code()).into()),
            ),
            (
                text_value("d"),
                Value::Integer(u64::from(self.auto_checkout_secs).into()),
            ),
        ]);
        let mut claims = Claims {
            iss: Some(self.agency.clone()),
            exp: Some(self.expires_at),
            nbf: Some(self.not_before),
            iat: Some(self.issued_at),
            cti: Some(self.code_id.clone()),
            ..Claims::default()
        };
        claims.private.insert(ClaimKey::Int(VENUE_CLAIM), venue);
        Self::from_claims(&claims)?;
        Ok(claims)
    }

    /// Whether the code is valid at `now`, allowing [`CLOCK_SKEW_SECS`] either way. A code
    /// minted in the future (beyond the skew) is not valid yet.
    pub fn check_time(&self, now: i64) -> Result<(), VenueCodeError> {
        let claims = Claims {
            exp: Some(self.expires_at),
            nbf: Some(self.not_before.max(self.issued_at)),
            ..Claims::default()
        };
        claims
            .check_time(now, CLOCK_SKEW_SECS)
            .map_err(|error| match error {
                CwtError::Expired => VenueCodeError::Expired,
                _ => VenueCodeError::NotYetValid,
            })
    }

    /// The code's id as base64url, as `TicketRequest::code_id` carries it.
    pub fn code_id_b64(&self) -> String {
        crate::jose::base64url::encode(&self.code_id)
    }
}

/// The known keys of the venue map, each at most once.
#[derive(Default)]
struct VenueFields<'a> {
    v: Option<&'a Value>,
    n: Option<&'a Value>,
    a: Option<&'a Value>,
    k: Option<&'a Value>,
    d: Option<&'a Value>,
}

/// Mints the `CK1:` text of `code`, signed by `signer` under `kid` (which the trust list must
/// name among the venue signer's keys of `code.agency`).
pub fn mint(code: &VenueCode, kid: &str, signer: &dyn JwsSigner) -> Result<String, VenueCodeError> {
    let claims = code.to_claims()?;
    signed_qr::encode(&VENUE_PROFILE, &claims, kid.as_bytes(), signer).map_err(VenueCodeError::Mint)
}

/// The kind a code says it is, read without verifying it: for routing a scan
/// (`scan::classify`) before the check-in flow verifies it with [`verify`]. Lenient on purpose:
/// only the kind is read, so a code whose other claims [`verify`] would refuse is still routed to
/// the check-in screen, which then shows the typed refusal. `None` when any layer is malformed.
pub fn unverified_kind(text: &str) -> Option<VenueKind> {
    let claims = signed_qr::unverified_claims(&VENUE_PROFILE, text).ok()?;
    let Value::Map(venue) = claims.private.get(&ClaimKey::Int(VENUE_CLAIM))? else {
        return None;
    };
    venue.iter().find_map(|(key, value)| match (key, value) {
        (Value::Text(key), Value::Integer(kind)) if key == "k" => {
            VenueKind::from_code(u64::try_from(*kind).ok()?)
        }
        _ => None,
    })
}

/// Reads and verifies a scanned code offline: the key its `kid` names among the trust list's
/// venue signers, the signature, that key's validity when the code was minted, the agency, every
/// claim bound, and the validity period at `now`.
pub fn verify(text: &str, list: &TrustList, now: i64) -> Result<VerifiedVenueCode, VenueCodeError> {
    // Any window here: the window is checked against the signed `iat` once the signature holds.
    let lookup = |kid: &[u8]| -> Option<VerifyingKey> {
        let kid = std::str::from_utf8(kid).ok()?;
        any_venue_key(list, kid).map(|jwk| VerifyingKey::Es256(jwk.clone()))
    };
    let signed = signed_qr::decode(&VENUE_PROFILE, text, &lookup).map_err(refusal)?;
    let code = VenueCode::from_claims(&signed.claims)?;
    let kid = std::str::from_utf8(&signed.kid).map_err(|_| VenueCodeError::UnknownKey)?;
    let signer =
        agency_signer(list, kid, code.issued_at, &code.agency).map_err(|check| match check {
            SignerCheck::UnknownKey => VenueCodeError::UnknownKey,
            SignerCheck::KeyNotValid => VenueCodeError::KeyNotValid,
            SignerCheck::WrongAgency => VenueCodeError::WrongAgency,
        })?;
    code.check_time(now)?;
    Ok(VerifiedVenueCode {
        signer_name: signer.display_name.clone(),
        code,
    })
}

/// Reads and verifies a code with a key the caller gives instead of the trust list: for agency
/// tools checking the codes they print with their own venue-signing key. The signature, every
/// claim bound and the validity period at `now` are checked as in [`verify`]; what [`verify`]
/// adds from the trust list (the key's agency is the code's `iss`, the key's window) is the
/// caller's to vouch for, since the caller chose the key.
pub fn verify_with_key(
    text: &str,
    key: &EcPublicJwk,
    now: i64,
) -> Result<VenueCode, VenueCodeError> {
    let signed = signed_qr::decode(&VENUE_PROFILE, text, key).map_err(refusal)?;
    let code = VenueCode::from_claims(&signed.claims)?;
    code.check_time(now)?;
    Ok(code)
}

/// A signed QR failure as the venue code's refusal.
fn refusal(error: SignedQrError) -> VenueCodeError {
    match error {
        SignedQrError::UnknownKey | SignedQrError::MissingKid => VenueCodeError::UnknownKey,
        SignedQrError::SignatureInvalid | SignedQrError::SignatureLength => {
            VenueCodeError::BadSignature
        }
        SignedQrError::Claims(_) => VenueCodeError::Claim("claims"),
        other => VenueCodeError::Unreadable(other),
    }
}

/// Why a signed object's key does not speak for the agency it names.
pub(crate) enum SignerCheck {
    UnknownKey,
    KeyNotValid,
    WrongAgency,
}

/// The venue signer owning `kid`, if the key was valid at `at` and the signer is `agency`.
pub(crate) fn agency_signer<'a>(
    list: &'a TrustList,
    kid: &str,
    at: i64,
    agency: &str,
) -> Result<&'a VenueSigner, SignerCheck> {
    let (signer, _) = list.venue_key(kid, at).map_err(|error| match error {
        TrustListError::KeyNotValidAt => SignerCheck::KeyNotValid,
        _ => SignerCheck::UnknownKey,
    })?;
    if signer.agency != agency {
        return Err(SignerCheck::WrongAgency);
    }
    Ok(signer)
}

/// The key `kid` of any venue signer, whatever its window.
pub(crate) fn any_venue_key<'a>(list: &'a TrustList, kid: &str) -> Option<&'a EcPublicJwk> {
    list.venue_signers
        .iter()
        .flat_map(|signer| signer.keys.iter())
        .find(|key| key.kid == kid)
        .map(|key| &key.jwk)
}

/// 1..=`max` characters of `[A-Za-z0-9._-]`: venue ids and agency ids.
pub(crate) fn is_identifier(text: &str, max: usize) -> bool {
    !text.is_empty()
        && text.len() <= max
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// At most `max` characters, none of them a control character.
pub(crate) fn is_display_text(text: &str, max: usize) -> bool {
    text.chars().count() <= max && !text.chars().any(char::is_control)
}

fn text(value: Option<&Value>, name: &'static str) -> Result<String, VenueCodeError> {
    match value {
        Some(Value::Text(text)) => Ok(text.clone()),
        _ => Err(VenueCodeError::Claim(name)),
    }
}

fn unsigned(value: Option<&Value>, name: &'static str) -> Result<u64, VenueCodeError> {
    match value {
        Some(Value::Integer(int)) => u64::try_from(*int).map_err(|_| VenueCodeError::Claim(name)),
        _ => Err(VenueCodeError::Claim(name)),
    }
}

fn text_value(text: &str) -> Value {
    Value::Text(text.to_owned())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::jose::SoftwareSigner;
    use crate::trust_list::TrustedKey;

    pub const NOW: i64 = 1_800_000_000;

    /// Two agencies, each with a venue signer key.
    pub struct Agencies {
        pub health: SoftwareSigner,
        pub transport: SoftwareSigner,
        pub list: TrustList,
    }

    pub fn agencies() -> Agencies {
        agencies_at(NOW)
    }

    /// The agencies with keys valid a year either side of `now`, in a list valid from `now`.
    pub fn agencies_at(now: i64) -> Agencies {
        let health = SoftwareSigner::generate().unwrap();
        let transport = SoftwareSigner::generate().unwrap();
        let key = |signer: &SoftwareSigner, kid: &str| TrustedKey {
            kid: kid.into(),
            jwk: signer.public_key().clone(),
            not_before: Some(now - 86_400 * 365),
            not_after: Some(now + 86_400 * 365),
        };
        let list = TrustList {
            iss: "https://portal.example/".into(),
            iat: now - 10,
            exp: now + 86_400 * 30,
            sequence: 1,
            max_age: 86_400,
            issuers: vec![],
            relying_parties: vec![],
            venue_signers: vec![
                VenueSigner {
                    agency: "health-dept".into(),
                    display_name: "Department of Health".into(),
                    keys: vec![key(&health, "venue-health-1")],
                },
                VenueSigner {
                    agency: "transport-dept".into(),
                    display_name: "Department of Transport".into(),
                    keys: vec![key(&transport, "venue-transport-1")],
                },
            ],
            health_signers: vec![],
            origins: vec![],
        };
        Agencies {
            health,
            transport,
            list,
        }
    }

    pub fn code(kind: VenueKind) -> VenueCode {
        code_at(kind, NOW)
    }

    pub fn code_at(kind: VenueKind, now: i64) -> VenueCode {
        VenueCode {
            agency: "health-dept".into(),
            venue_id: "clinic-7".into(),
            name: "Trạm y tế phường 7".into(),
            address: "12 Lê Lợi, Quận 1".into(),
            kind,
            auto_checkout_secs: 4 * 3600,
            not_before: now - 3600,
            expires_at: now + 86_400 * 30,
            issued_at: now - 3600,
            code_id: vec![7; 16],
        }
    }

    #[test]
    fn a_minted_code_verifies_and_reads_back() {
        let a = agencies();
        for kind in [
            VenueKind::Venue,
            VenueKind::ServiceCounter,
            VenueKind::Event,
        ] {
            let text = mint(&code(kind), "venue-health-1", &a.health).unwrap();
            assert!(text.starts_with("CK1:"));
            let verified = verify(&text, &a.list, NOW).unwrap();
            assert_eq!(verified.code, code(kind));
            assert_eq!(verified.signer_name, "Department of Health");
        }
    }

    #[test]
    fn attacks_are_refused_with_their_reason() {
        let a = agencies();
        let good = code(VenueKind::Venue);
        // A key the trust list does not know.
        let stranger = SoftwareSigner::generate().unwrap();
        let unknown = mint(&good, "venue-evil-1", &stranger).unwrap();
        assert_eq!(
            verify(&unknown, &a.list, NOW),
            Err(VenueCodeError::UnknownKey)
        );
        // A known kid, but signed by another key.
        let forged = mint(&good, "venue-health-1", &stranger).unwrap();
        assert_eq!(
            verify(&forged, &a.list, NOW),
            Err(VenueCodeError::BadSignature)
        );
        // Agency A's code signed with agency B's key.
        let cross = mint(&good, "venue-transport-1", &a.transport).unwrap();
        assert_eq!(
            verify(&cross, &a.list, NOW),
            Err(VenueCodeError::WrongAgency)
        );
        // Expired, and not yet valid.
        let text = mint(&good, "venue-health-1", &a.health).unwrap();
        assert_eq!(
            verify(&text, &a.list, good.expires_at + CLOCK_SKEW_SECS),
            Err(VenueCodeError::Expired)
        );
        assert_eq!(
            verify(&text, &a.list, good.not_before - CLOCK_SKEW_SECS - 1),
            Err(VenueCodeError::NotYetValid)
        );
        assert!(verify(&text, &a.list, good.not_before - CLOCK_SKEW_SECS).is_ok());
        // Minted while the key was not valid.
        let mut early = good.clone();
        early.issued_at = NOW - 86_400 * 400;
        early.not_before = early.issued_at;
        let early = mint(&early, "venue-health-1", &a.health).unwrap();
        assert_eq!(
            verify(&early, &a.list, NOW),
            Err(VenueCodeError::KeyNotValid)
        );
        // Tampered: one character of the Base45 body changed, at several places.
        let body = &text[4..];
        let mut refused = 0;
        for at in (0..body.len()).step_by(7) {
            let mut chars: Vec<char> = body.chars().collect();
            chars[at] = if chars[at] == '0' { '1' } else { '0' };
            let tampered = format!("CK1:{}", chars.into_iter().collect::<String>());
            assert!(verify(&tampered, &a.list, NOW).is_err(), "{at}");
            refused += 1;
        }
        assert!(refused > 10);
        // Another prefix.
        assert_eq!(
            verify(&text.replacen("CK1:", "HC1:", 1), &a.list, NOW),
            Err(VenueCodeError::Unreadable(SignedQrError::WrongPrefix))
        );
    }

    #[test]
    fn an_agency_tool_verifies_with_its_own_key_and_nothing_else() {
        let a = agencies();
        let good = code(VenueKind::ServiceCounter);
        let text = mint(&good, "venue-health-1", &a.health).unwrap();
        assert_eq!(
            verify_with_key(&text, a.health.public_key(), NOW),
            Ok(good.clone())
        );
        // Another key, even one the trust list holds, does not verify it.
        assert_eq!(
            verify_with_key(&text, a.transport.public_key(), NOW),
            Err(VenueCodeError::BadSignature)
        );
        // The times and the claim bounds still hold.
        assert_eq!(
            verify_with_key(
                &text,
                a.health.public_key(),
                good.expires_at + CLOCK_SKEW_SECS
            ),
            Err(VenueCodeError::Expired)
        );
        let claims = {
            let mut claims = good.to_claims().unwrap();
            claims.cti = Some(vec![1]);
            claims
        };
        let short_id =
            signed_qr::encode(&VENUE_PROFILE, &claims, b"venue-health-1", &a.health).unwrap();
        assert_eq!(
            verify_with_key(&short_id, a.health.public_key(), NOW),
            Err(VenueCodeError::Claim("cti"))
        );
        assert_eq!(
            verify_with_key(&text[..text.len() - 3], a.health.public_key(), NOW).map(|_| ()),
            verify(&text[..text.len() - 3], &a.list, NOW).map(|_| ()),
            "a damaged code is refused alike"
        );
    }

    #[test]
    fn claim_bounds_are_enforced_both_ways() {
        let good = code(VenueKind::Venue);
        type Change = Box<dyn Fn(&mut VenueCode)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|c| c.venue_id = String::new()), "v"),
            (Box::new(|c| c.venue_id = "a/b".into()), "v"),
            (Box::new(|c| c.venue_id = "x".repeat(65)), "v"),
            (Box::new(|c| c.name = String::new()), "n"),
            (Box::new(|c| c.name = "n".repeat(121)), "n"),
            (Box::new(|c| c.name = "a\nb".into()), "n"),
            (Box::new(|c| c.address = "a".repeat(201)), "a"),
            (Box::new(|c| c.auto_checkout_secs = 59), "d"),
            (Box::new(|c| c.auto_checkout_secs = 86_401), "d"),
            (Box::new(|c| c.code_id = vec![1; 7]), "cti"),
            (Box::new(|c| c.code_id = vec![1; 33]), "cti"),
            (Box::new(|c| c.agency = String::new()), "iss"),
            (Box::new(|c| c.expires_at = c.not_before), "exp"),
        ];
        for (change, claim) in cases {
            let mut bad = good.clone();
            change(&mut bad);
            assert_eq!(bad.to_claims(), Err(VenueCodeError::Claim(claim)));
        }
        let mut edge = good.clone();
        edge.address = String::new();
        edge.auto_checkout_secs = 60;
        edge.code_id = vec![1; 32];
        edge.name = "n".repeat(120);
        assert!(edge.to_claims().is_ok());

        // Read side: missing and mistyped keys, a wrong kind, unknown keys ignored.
        let claims = good.to_claims().unwrap();
        let with_venue = |entries: Vec<(Value, Value)>| {
            let mut claims = claims.clone();
            claims
                .private
                .insert(ClaimKey::Int(VENUE_CLAIM), Value::Map(entries));
            VenueCode::from_claims(&claims)
        };
        let Value::Map(entries) = &claims.private[&ClaimKey::Int(VENUE_CLAIM)] else {
            unreachable!()
        };
        let mut extra = entries.clone();
        extra.push((text_value("z"), Value::Bool(true)));
        assert_eq!(with_venue(extra), Ok(good.clone()));
        let mut missing = entries.clone();
        missing.retain(|(k, _)| k != &text_value("d"));
        assert_eq!(with_venue(missing), Err(VenueCodeError::Claim("d")));
        let mut kind = entries.clone();
        kind[3].1 = Value::Integer(3.into());
        assert_eq!(with_venue(kind), Err(VenueCodeError::Claim("k")));
        let mut typed = entries.clone();
        typed[0].1 = Value::Integer(1.into());
        assert_eq!(with_venue(typed), Err(VenueCodeError::Claim("v")));
        let mut twice = entries.clone();
        twice.push((text_value("v"), text_value("other")));
        assert_eq!(with_venue(twice), Err(VenueCodeError::Claim("venue")));
        let mut no_venue = claims.clone();
        no_venue.private.clear();
        assert_eq!(
            VenueCode::from_claims(&no_venue),
            Err(VenueCodeError::Claim("venue"))
        );
        let mut no_iat = claims;
        no_iat.iat = None;
        assert_eq!(
            VenueCode::from_claims(&no_iat),
            Err(VenueCodeError::Claim("iat"))
        );
    }
}
