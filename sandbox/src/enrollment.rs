//! Enrolment: what a level-2 e-ID registration at a police station yields, simulated. A citizen's
//! identity record is stored and a one-time activation code is issued, which the wallet's
//! activation (with the ID number) redeems to get a person-identification credential.
//!
//! Owns: the enrolment request and its validation, making activation codes (8 characters from
//! an alphabet without look-alikes, shown as `XXXX-XXXX`, valid 7 days, stored only as their
//! SHA-256), and redeeming one (once, before it expires, at most 5 wrong codes per ID number).
//! Reached through `citizen-sandbox enroll …` and the sandbox-only endpoint
//! `POST /v1/test/enrollments`. Does not own issuing the credential (the issuer endpoints of the
//! wallet issue).

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// How long an activation code stays valid.
pub const CODE_VALIDITY_SECS: i64 = 7 * 24 * 60 * 60;
/// Wrong codes per ID number before its codes stop working (a new enrolment starts again).
pub const MAX_WRONG_CODES: u32 = 5;
/// No 0/O, 1/I/L, 2/Z, 5/S, 8/B: codes are read aloud and typed from paper.
const CODE_ALPHABET: &[u8] = b"34679ACDEFGHJKMNPQRTUVWXY";

/// The identity record of a citizen, as a registration would collect it. Every field has a
/// sample default so `enroll` works with no arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollmentRequest {
    /// The 12-digit citizen identity card (CCCD) number.
    pub id_number: String,
    pub full_name: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// `male` or `female`.
    pub sex: String,
    /// ISO 3166-1 alpha-2.
    #[serde(default = "default_nationality")]
    pub nationality: String,
    pub place_of_origin: String,
    pub place_of_residence: String,
}

fn default_nationality() -> String {
    "VN".into()
}

impl EnrollmentRequest {
    /// A sample citizen with the given ID number.
    pub fn sample(id_number: &str) -> Self {
        Self {
            id_number: id_number.into(),
            full_name: "Nguyễn Văn An".into(),
            birth_date: "1990-05-17".into(),
            sex: "male".into(),
            nationality: "VN".into(),
            place_of_origin: "Xã Tam Hiệp, Huyện Thanh Trì, Hà Nội".into(),
            place_of_residence: "Phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh".into(),
        }
    }

    /// Checks the fields; the error names the field, never its value.
    pub fn validate(&self) -> Result<(), EnrollmentError> {
        let id_ok =
            self.id_number.len() == 12 && self.id_number.bytes().all(|b| b.is_ascii_digit());
        if !id_ok {
            return Err(EnrollmentError::Invalid("id_number"));
        }
        let name_ok = !self.full_name.trim().is_empty() && self.full_name.chars().count() <= 100;
        if !name_ok {
            return Err(EnrollmentError::Invalid("full_name"));
        }
        if !valid_date(&self.birth_date) {
            return Err(EnrollmentError::Invalid("birth_date"));
        }
        if !matches!(self.sex.as_str(), "male" | "female") {
            return Err(EnrollmentError::Invalid("sex"));
        }
        let nationality_ok =
            self.nationality.len() == 2 && self.nationality.bytes().all(|b| b.is_ascii_uppercase());
        if !nationality_ok {
            return Err(EnrollmentError::Invalid("nationality"));
        }
        for (field, value) in [
            ("place_of_origin", &self.place_of_origin),
            ("place_of_residence", &self.place_of_residence),
        ] {
            if value.trim().is_empty() || value.chars().count() > 200 {
                return Err(EnrollmentError::Invalid(field));
            }
        }
        Ok(())
    }
}

fn valid_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return false;
    };
    let number = |s: &str, len: usize| {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let (Some(year), Some(month), Some(day)) = (number(year, 4), number(month, 2), number(day, 2))
    else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1900..=2100).contains(&year) && (1..=days).contains(&day)
}

/// What an enrolment hands the citizen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrollment {
    pub id_number: String,
    /// `XXXX-XXXX`; shown once, stored only hashed.
    pub activation_code: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrollmentError {
    #[error("field {0} is missing or malformed")]
    Invalid(&'static str),
    #[error("the activation code is wrong, used or expired")]
    CodeRejected,
    #[error("too many wrong activation codes for this ID number; enrol again")]
    TooManyAttempts,
    #[error("sandbox database: {0}")]
    Database(String),
}

impl From<rusqlite::Error> for EnrollmentError {
    fn from(error: rusqlite::Error) -> Self {
        EnrollmentError::Database(error.to_string())
    }
}

pub fn create_tables(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS citizens (
             id_number TEXT PRIMARY KEY,
             record TEXT NOT NULL,
             enrolled_at INTEGER NOT NULL
         );
         CREATE TABLE IF NOT EXISTS activation_codes (
             id_number TEXT PRIMARY KEY REFERENCES citizens (id_number),
             code_sha256 BLOB NOT NULL,
             expires_at INTEGER NOT NULL,
             used_at INTEGER,
             wrong_attempts INTEGER NOT NULL DEFAULT 0
         );",
    )
}

/// Stores the citizen's record (replacing an earlier one) and issues a fresh code, which
/// replaces any earlier code of that ID number.
pub fn enroll(
    conn: &Connection,
    request: &EnrollmentRequest,
    now: i64,
) -> Result<Enrollment, EnrollmentError> {
    request.validate()?;
    let code = new_code()?;
    let record =
        serde_json::to_string(request).map_err(|e| EnrollmentError::Database(e.to_string()))?;
    conn.execute(
        "INSERT INTO citizens (id_number, record, enrolled_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (id_number) DO UPDATE SET record = excluded.record,
                                               enrolled_at = excluded.enrolled_at",
        params![request.id_number, record, now],
    )?;
    let expires_at = now + CODE_VALIDITY_SECS;
    conn.execute(
        "INSERT INTO activation_codes (id_number, code_sha256, expires_at, used_at, wrong_attempts)
         VALUES (?1, ?2, ?3, NULL, 0)
         ON CONFLICT (id_number) DO UPDATE SET code_sha256 = excluded.code_sha256,
             expires_at = excluded.expires_at, used_at = NULL, wrong_attempts = 0",
        params![request.id_number, sha256(&normalize(&code)), expires_at],
    )?;
    Ok(Enrollment {
        id_number: request.id_number.clone(),
        activation_code: code,
        expires_at,
    })
}

/// Redeems `code` for `id_number` at `now`: the citizen's record, once.
pub fn redeem(
    conn: &Connection,
    id_number: &str,
    code: &str,
    now: i64,
) -> Result<EnrollmentRequest, EnrollmentError> {
    let row = conn
        .query_row(
            "SELECT a.code_sha256, a.expires_at, a.used_at, a.wrong_attempts, c.record
             FROM activation_codes a JOIN citizens c USING (id_number)
             WHERE a.id_number = ?1",
            [id_number],
            |r| {
                Ok(StoredCode {
                    code_sha256: r.get(0)?,
                    expires_at: r.get(1)?,
                    used_at: r.get(2)?,
                    wrong_attempts: r.get(3)?,
                    record: r.get(4)?,
                })
            },
        )
        .optional()?;
    let Some(StoredCode {
        code_sha256: expected,
        expires_at,
        used_at,
        wrong_attempts,
        record,
    }) = row
    else {
        return Err(EnrollmentError::CodeRejected);
    };
    if wrong_attempts >= MAX_WRONG_CODES {
        return Err(EnrollmentError::TooManyAttempts);
    }
    if sha256(&normalize(code)) != expected {
        conn.execute(
            "UPDATE activation_codes SET wrong_attempts = wrong_attempts + 1 WHERE id_number = ?1",
            [id_number],
        )?;
        return Err(EnrollmentError::CodeRejected);
    }
    if used_at.is_some() || now >= expires_at {
        return Err(EnrollmentError::CodeRejected);
    }
    conn.execute(
        "UPDATE activation_codes SET used_at = ?2 WHERE id_number = ?1",
        params![id_number, now],
    )?;
    serde_json::from_str(&record).map_err(|e| EnrollmentError::Database(e.to_string()))
}

/// An activation code as stored, with the record it unlocks.
struct StoredCode {
    code_sha256: Vec<u8>,
    expires_at: i64,
    used_at: Option<i64>,
    wrong_attempts: u32,
    record: String,
}

fn new_code() -> Result<String, EnrollmentError> {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut code = String::with_capacity(9);
    let mut byte = [0u8; 1];
    while code.len() < 9 {
        if code.len() == 4 {
            code.push('-');
        }
        SystemRandom::new()
            .fill(&mut byte)
            .map_err(|_| EnrollmentError::Database("no randomness".into()))?;
        // Rejection sampling keeps every character equally likely.
        let limit = 256 - 256 % CODE_ALPHABET.len();
        if usize::from(byte[0]) < limit {
            code.push(char::from(
                CODE_ALPHABET[usize::from(byte[0]) % CODE_ALPHABET.len()],
            ));
        }
    }
    Ok(code)
}

/// Codes are compared without the dash and case-insensitively, as people type them.
fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn sha256(text: &str) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes())
        .as_ref()
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        create_tables(&conn).unwrap();
        conn
    }

    #[test]
    fn a_code_is_redeemed_once_before_it_expires() {
        let conn = conn();
        let request = EnrollmentRequest::sample("001090012345");
        let enrollment = enroll(&conn, &request, 1_000).unwrap();
        assert_eq!(enrollment.expires_at, 1_000 + CODE_VALIDITY_SECS);
        let code = &enrollment.activation_code;
        assert_eq!(code.len(), 9);
        assert_eq!(&code[4..5], "-");
        assert!(
            code.bytes()
                .filter(|b| *b != b'-')
                .all(|b| CODE_ALPHABET.contains(&b))
        );

        // Typed the way people type: lower case, no dash.
        let typed = normalize(code).to_lowercase();
        let record = redeem(&conn, "001090012345", &typed, 2_000).unwrap();
        assert_eq!(record, request);
        assert_eq!(
            redeem(&conn, "001090012345", code, 2_001),
            Err(EnrollmentError::CodeRejected),
            "a code works once"
        );

        let again = enroll(&conn, &request, 3_000).unwrap();
        assert_eq!(
            redeem(
                &conn,
                "001090012345",
                &again.activation_code,
                3_000 + CODE_VALIDITY_SECS
            ),
            Err(EnrollmentError::CodeRejected),
            "expired"
        );
        assert_eq!(
            redeem(&conn, "999999999999", &again.activation_code, 3_001),
            Err(EnrollmentError::CodeRejected)
        );
    }

    #[test]
    fn guessing_codes_stops_after_five_wrong_ones() {
        let conn = conn();
        let enrollment = enroll(&conn, &EnrollmentRequest::sample("001090012345"), 0).unwrap();
        for _ in 0..MAX_WRONG_CODES {
            assert_eq!(
                redeem(&conn, "001090012345", "AAAA-AAAA", 1),
                Err(EnrollmentError::CodeRejected)
            );
        }
        assert_eq!(
            redeem(&conn, "001090012345", &enrollment.activation_code, 1),
            Err(EnrollmentError::TooManyAttempts)
        );
    }

    #[test]
    fn malformed_requests_name_the_field_only() {
        let good = EnrollmentRequest::sample("001090012345");
        good.validate().unwrap();
        type Damage = Box<dyn Fn(&mut EnrollmentRequest)>;
        let cases: Vec<(&str, Damage)> = vec![
            ("id_number", Box::new(|r| r.id_number = "12345".into())),
            (
                "id_number",
                Box::new(|r| r.id_number = "00109001234x".into()),
            ),
            ("full_name", Box::new(|r| r.full_name = "  ".into())),
            (
                "birth_date",
                Box::new(|r| r.birth_date = "1990-02-30".into()),
            ),
            (
                "birth_date",
                Box::new(|r| r.birth_date = "17/05/1990".into()),
            ),
            ("sex", Box::new(|r| r.sex = "x".into())),
            ("nationality", Box::new(|r| r.nationality = "vn".into())),
            (
                "place_of_residence",
                Box::new(|r| r.place_of_residence = String::new()),
            ),
        ];
        for (field, damage) in cases {
            let mut request = good.clone();
            damage(&mut request);
            let error = request.validate().unwrap_err();
            assert_eq!(error, EnrollmentError::Invalid(field));
            assert!(!error.to_string().contains("1990"), "{error}");
        }
        assert!(valid_date("2024-02-29"));
        assert!(!valid_date("2023-02-29"));
    }
}
