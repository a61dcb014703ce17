//! Exposure notices: verifying one notice JWS against the trust list's venue signers, checking a
//! downloaded page's bounds, and matching the diary against notices, on the phone.
//!
//! Pure and I/O-free. A notice is accepted only if its `typ` is [`NOTICE_JWS_TYP`], its header
//! `kid` names a venue signer key valid at the notice's `iat`, the signature verifies, its
//! `agency` is that signer's agency, and every member is within its bounds.

use serde_json::Value;

use super::venue_code::{
    CLOCK_SKEW_SECS, SignerCheck, agency_signer, any_venue_key, is_display_text, is_identifier,
};
use super::wire::{ExposureNotice, MAX_NOTICES_PER_PAGE, NOTICE_JWS_TYP, NoticesPage};
use crate::jose::{Jws, JwsError};
use crate::trust_list::TrustList;

/// The longest notice JWS accepted, checked before anything is decoded.
pub const MAX_NOTICE_JWS_BYTES: usize = 8 * 1024;
/// The longest notice message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 1_000;
/// The longest notice id, in characters.
pub const MAX_NOTICE_ID_CHARS: usize = 64;
/// The longest time window a notice may cover (30 days, the portal's publication horizon).
pub const MAX_WINDOW_SECS: i64 = 30 * 86_400;
/// The longest page cursor accepted, in characters.
pub const MAX_CURSOR_CHARS: usize = 256;
/// The largest notices page body read (500 notices of at most 8 KiB, and the envelope).
pub const MAX_PAGE_BYTES: usize = MAX_NOTICES_PER_PAGE * (MAX_NOTICE_JWS_BYTES + 8) + 1024;

/// Why a notice was refused. The texts name checks, never values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoticeError {
    #[error("the notice is not an acceptable JWS: {0}")]
    Jws(JwsError),
    #[error("the notice's key id names no venue signer key")]
    UnknownKey,
    #[error("the notice's signing key was not valid when the notice was signed")]
    KeyNotValid,
    #[error("the notice's signature does not verify")]
    BadSignature,
    #[error("the notice's agency is not the signing key's agency")]
    WrongAgency,
    /// A member is missing, of the wrong type or outside its bounds; names the member.
    #[error("the notice's `{0}` member is missing or not acceptable")]
    Member(&'static str),
}

/// Why a whole page of notices was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoticePageError {
    #[error("the page holds more notices than a page may")]
    TooManyNotices,
    #[error("the page's cursor is too long or not printable")]
    InvalidCursor,
}

/// Verifies one notice JWS with the trust list's venue signer keys.
pub fn verify_notice(
    compact: &str,
    list: &TrustList,
    now: i64,
) -> Result<ExposureNotice, NoticeError> {
    let jws = Jws::parse(compact, MAX_NOTICE_JWS_BYTES).map_err(NoticeError::Jws)?;
    jws.check_typ(NOTICE_JWS_TYP).map_err(NoticeError::Jws)?;
    let kid = jws.header().kid().ok_or(NoticeError::UnknownKey)?;
    let key = any_venue_key(list, kid).ok_or(NoticeError::UnknownKey)?;
    jws.verify(key).map_err(|_| NoticeError::BadSignature)?;
    let claims = jws.claims().map_err(NoticeError::Jws)?;
    let notice: ExposureNotice = serde_json::from_value(Value::Object(claims))
        .map_err(|_| NoticeError::Member("payload"))?;
    agency_signer(list, kid, notice.iat, &notice.agency).map_err(|check| match check {
        SignerCheck::UnknownKey => NoticeError::UnknownKey,
        SignerCheck::KeyNotValid => NoticeError::KeyNotValid,
        SignerCheck::WrongAgency => NoticeError::WrongAgency,
    })?;
    check_bounds(&notice, now)?;
    Ok(notice)
}

fn check_bounds(notice: &ExposureNotice, now: i64) -> Result<(), NoticeError> {
    if !is_identifier(&notice.id, MAX_NOTICE_ID_CHARS) {
        return Err(NoticeError::Member("id"));
    }
    if !is_identifier(&notice.venue_id, super::venue_code::MAX_VENUE_ID_CHARS) {
        return Err(NoticeError::Member("venue_id"));
    }
    if notice.from >= notice.until || notice.until.saturating_sub(notice.from) > MAX_WINDOW_SECS {
        return Err(NoticeError::Member("until"));
    }
    if notice.message.is_empty()
        || !is_display_text(
            &notice.message.replace(['\n', '\r'], " "),
            MAX_MESSAGE_CHARS,
        )
    {
        return Err(NoticeError::Member("message"));
    }
    if notice.iat > now.saturating_add(CLOCK_SKEW_SECS) {
        return Err(NoticeError::Member("iat"));
    }
    Ok(())
}

/// Checks a page's envelope: the count of notices and the cursor (at most
/// [`MAX_CURSOR_CHARS`] printable ASCII characters; empty means "no cursor yet").
pub fn check_page(page: &NoticesPage) -> Result<(), NoticePageError> {
    if page.notices.len() > MAX_NOTICES_PER_PAGE {
        return Err(NoticePageError::TooManyNotices);
    }
    // An empty cursor is allowed (nothing published yet): the caller keeps the one it had.
    if page.cursor.len() > MAX_CURSOR_CHARS || !page.cursor.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(NoticePageError::InvalidCursor);
    }
    Ok(())
}

/// Verifies every notice of a checked page: the accepted notices, and how many were refused.
pub fn verify_page(
    page: &NoticesPage,
    list: &TrustList,
    now: i64,
) -> Result<(Vec<ExposureNotice>, usize), NoticePageError> {
    check_page(page)?;
    let mut accepted = Vec::with_capacity(page.notices.len());
    let mut refused = 0;
    for compact in &page.notices {
        match verify_notice(compact, list, now) {
            Ok(notice) => accepted.push(notice),
            Err(error) => {
                refused += 1;
                tracing::warn!(%error, "an exposure notice was refused");
            }
        }
    }
    Ok((accepted, refused))
}

/// The part of a diary entry matching needs: where and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub entry_id: i64,
    pub agency: String,
    pub venue_id: String,
    pub checked_in_at: i64,
    /// The check-out by hand, or else the automatic one.
    pub checked_out_at: i64,
}

/// Which visits each notice concerns: same agency, same venue, and the stay `[in, out)`
/// overlapping the notice's window `[from, until)`. A stay of no length counts as its first
/// second. Returns `(entry_id, notice_id)` pairs.
pub fn match_visits(visits: &[Visit], notices: &[ExposureNotice]) -> Vec<(i64, String)> {
    let mut matches = Vec::new();
    for notice in notices {
        for visit in visits {
            let out = visit
                .checked_out_at
                .max(visit.checked_in_at.saturating_add(1));
            if visit.agency == notice.agency
                && visit.venue_id == notice.venue_id
                && visit.checked_in_at < notice.until
                && notice.from < out
            {
                matches.push((visit.entry_id, notice.id.clone()));
            }
        }
    }
    matches
}

/// Signs a notice, for the sandbox and tests.
pub fn sign_notice(
    notice: &ExposureNotice,
    kid: &str,
    signer: &dyn crate::jose::JwsSigner,
) -> Result<String, JwsError> {
    let mut header = serde_json::Map::new();
    header.insert("typ".into(), NOTICE_JWS_TYP.into());
    header.insert("kid".into(), kid.into());
    let payload = serde_json::to_vec(notice).map_err(|_| JwsError::Malformed)?;
    crate::jose::sign_compact(&header, &payload, signer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkin::venue_code::tests::{NOW, agencies};
    use crate::jose::SoftwareSigner;

    fn notice() -> ExposureNotice {
        ExposureNotice {
            id: "n-1".into(),
            agency: "health-dept".into(),
            venue_id: "clinic-7".into(),
            from: NOW - 7200,
            until: NOW - 3600,
            message: "Please get tested.".into(),
            iat: NOW - 60,
        }
    }

    #[test]
    fn a_signed_notice_verifies() {
        let a = agencies();
        let jws = sign_notice(&notice(), "venue-health-1", &a.health).unwrap();
        assert_eq!(verify_notice(&jws, &a.list, NOW), Ok(notice()));
    }

    #[test]
    fn forged_foreign_and_oversized_notices_are_refused() {
        let a = agencies();
        let stranger = SoftwareSigner::generate().unwrap();
        let forged = sign_notice(&notice(), "venue-health-1", &stranger).unwrap();
        assert_eq!(
            verify_notice(&forged, &a.list, NOW),
            Err(NoticeError::BadSignature)
        );
        // Another signer's key, with its own kid: the agency does not match.
        let foreign = sign_notice(&notice(), "venue-transport-1", &a.transport).unwrap();
        assert_eq!(
            verify_notice(&foreign, &a.list, NOW),
            Err(NoticeError::WrongAgency)
        );
        let unknown = sign_notice(&notice(), "venue-evil", &stranger).unwrap();
        assert_eq!(
            verify_notice(&unknown, &a.list, NOW),
            Err(NoticeError::UnknownKey)
        );
        let mut long = notice();
        long.message = "x".repeat(MAX_MESSAGE_CHARS + 1);
        let long = sign_notice(&long, "venue-health-1", &a.health).unwrap();
        assert_eq!(
            verify_notice(&long, &a.list, NOW),
            Err(NoticeError::Member("message"))
        );
        let mut huge = notice();
        huge.message = "x".repeat(MAX_NOTICE_JWS_BYTES);
        let huge = sign_notice(&huge, "venue-health-1", &a.health).unwrap();
        assert!(matches!(
            verify_notice(&huge, &a.list, NOW),
            Err(NoticeError::Jws(JwsError::TooLarge { .. }))
        ));
        let mut backwards = notice();
        backwards.until = backwards.from;
        let backwards = sign_notice(&backwards, "venue-health-1", &a.health).unwrap();
        assert_eq!(
            verify_notice(&backwards, &a.list, NOW),
            Err(NoticeError::Member("until"))
        );
        // Wrong typ.
        let mut header = serde_json::Map::new();
        header.insert("typ".into(), "JWT".into());
        header.insert("kid".into(), "venue-health-1".into());
        let payload = serde_json::to_vec(&notice()).unwrap();
        let wrong_typ = crate::jose::sign_compact(&header, &payload, &a.health).unwrap();
        assert_eq!(
            verify_notice(&wrong_typ, &a.list, NOW),
            Err(NoticeError::Jws(JwsError::TypMismatch))
        );
        // A page with too many notices is refused whole.
        let page = NoticesPage {
            notices: vec![String::new(); MAX_NOTICES_PER_PAGE + 1],
            cursor: "c".into(),
            more: false,
        };
        assert_eq!(
            verify_page(&page, &a.list, NOW),
            Err(NoticePageError::TooManyNotices)
        );
        let long_cursor = NoticesPage {
            notices: vec![],
            cursor: "c".repeat(MAX_CURSOR_CHARS + 1),
            more: false,
        };
        assert_eq!(
            verify_page(&long_cursor, &a.list, NOW),
            Err(NoticePageError::InvalidCursor)
        );
        let empty = NoticesPage {
            notices: vec![],
            cursor: String::new(),
            more: false,
        };
        assert_eq!(verify_page(&empty, &a.list, NOW), Ok((vec![], 0)));
        // A page with one bad notice keeps the good ones.
        let good = sign_notice(&notice(), "venue-health-1", &a.health).unwrap();
        let page = NoticesPage {
            notices: vec![good, forged],
            cursor: "c".into(),
            more: false,
        };
        assert_eq!(verify_page(&page, &a.list, NOW), Ok((vec![notice()], 1)));
    }

    #[test]
    fn matching_respects_venue_agency_and_window_edges() {
        let visit = |id, in_at, out_at| Visit {
            entry_id: id,
            agency: "health-dept".into(),
            venue_id: "clinic-7".into(),
            checked_in_at: in_at,
            checked_out_at: out_at,
        };
        let n = ExposureNotice {
            from: 1_000,
            until: 2_000,
            ..notice()
        };
        let visits = vec![
            visit(1, 500, 1_000),   // leaves as the window opens: no overlap
            visit(2, 500, 1_001),   // one second inside
            visit(3, 1_999, 3_000), // arrives in the last second
            visit(4, 2_000, 3_000), // arrives as it closes: no overlap
            visit(5, 1_500, 1_500), // a stay of no length inside
            visit(6, 1_000, 1_000), // a stay of no length at the opening
            Visit {
                venue_id: "other".into(),
                ..visit(7, 1_200, 1_300)
            },
            Visit {
                agency: "transport-dept".into(),
                ..visit(8, 1_200, 1_300)
            },
        ];
        let ids: Vec<i64> = match_visits(&visits, &[n])
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(ids, vec![2, 3, 5, 6]);
    }
}
