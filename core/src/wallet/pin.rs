//! The wallet PIN: six digits that guard presenting, remote disclosure and signing.
//!
//! Owns: the rules for a new PIN ([`check_strength`]: six digits, not all equal, not an ascending
//! or descending run, not the birth date), its storage as an Argon2id hash only (salt and
//! parameters beside it, in the encrypted store; parameters at or above OWASP's minimum:
//! 19 MiB, 2 passes, 1 lane), checking it with an attempt counter that survives a kill, and the
//! escalating lockout ([`lockout_after`]: 5 tries, then 1 minute, 5 minutes, 1 hour, then
//! blocked until the wallet is activated again). Does not own what the PIN unlocks (the wallet's
//! flows ask [`verify`] first) nor the wallet state shown in `Status` (derived from [`state`]).
//!
//! Why the counter survives a kill: before the (slow) hash is computed, the attempt is written as
//! failed, lockout included; only a correct PIN clears it afterwards. An attacker who kills the
//! app while a guess is being checked gains nothing.

use argon2::{Algorithm, Argon2, Params, Version};
use rusqlite::{Connection, OptionalExtension, params};
use zeroize::Zeroizing;

use crate::store::{Store, StoreError};

pub const PIN_LENGTH: usize = 6;

/// Wrong PINs allowed before the first lockout.
pub const FREE_ATTEMPTS: u32 = 5;

/// Argon2id cost: OWASP's minimum recommendation for Argon2id (m = 19 MiB, t = 2, p = 1).
pub const HASH_PARAMS: HashParams = HashParams {
    m_cost_kib: 19 * 1024,
    t_cost: 2,
    p_cost: 1,
};

const SALT_LEN: usize = 16;
const HASH_LEN: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    pub m_cost_kib: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

/// Why a PIN was refused. No variant carries the PIN or any part of it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PinError {
    #[error("a PIN is exactly six digits")]
    Format,
    #[error("the PIN is too easy to guess: {0}")]
    Weak(WeakPin),
    #[error("the PIN is wrong; {attempts_before_lockout} attempt(s) left before a lockout")]
    Wrong { attempts_before_lockout: u32 },
    #[error("too many wrong PINs: try again after {until} (Unix seconds)")]
    Locked { until: i64 },
    #[error("too many wrong PINs: the wallet must be activated again")]
    Blocked,
    #[error("no PIN has been set")]
    NotSet,
    #[error("a PIN is already set; change it instead")]
    AlreadySet,
    #[error("the PIN could not be hashed")]
    Hashing,
    #[error("the system could not provide randomness")]
    Randomness,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for PinError {
    fn from(error: rusqlite::Error) -> Self {
        PinError::Store(error.into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeakPin {
    AllSame,
    Sequence,
    BirthDate,
}

impl std::fmt::Display for WeakPin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WeakPin::AllSame => "all digits are the same",
            WeakPin::Sequence => "the digits run up or down",
            WeakPin::BirthDate => "it is the birth date",
        })
    }
}

/// A calendar date, for the birth-date rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BirthDate {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

/// Whether `pin` may be chosen: six ASCII digits, not all the same, not a run (`123456`,
/// `876543`, wrapping `890123` too), and not the birth date written as DDMMYY, MMDDYY, YYMMDD or
/// DDMMYYYY / YYYYMMDD cut to six digits.
pub fn check_strength(pin: &str, birth_date: Option<BirthDate>) -> Result<(), PinError> {
    let digits = parse(pin)?;
    if digits.iter().all(|d| *d == digits[0]) {
        return Err(PinError::Weak(WeakPin::AllSame));
    }
    let steps: Vec<u8> = digits.windows(2).map(|w| (w[1] + 10 - w[0]) % 10).collect();
    if steps.iter().all(|s| *s == 1) || steps.iter().all(|s| *s == 9) {
        return Err(PinError::Weak(WeakPin::Sequence));
    }
    if let Some(date) = birth_date {
        let (d, m, y) = (date.day, date.month, date.year);
        let yy = y % 100;
        let forms = [
            format!("{d:02}{m:02}{yy:02}"),
            format!("{m:02}{d:02}{yy:02}"),
            format!("{yy:02}{m:02}{d:02}"),
            format!("{d:02}{m:02}{y:04}")[..6].to_string(),
            format!("{y:04}{m:02}{d:02}")[..6].to_string(),
        ];
        if forms.iter().any(|form| form == pin) {
            return Err(PinError::Weak(WeakPin::BirthDate));
        }
    }
    Ok(())
}

fn parse(pin: &str) -> Result<[u8; PIN_LENGTH], PinError> {
    let bytes = pin.as_bytes();
    if bytes.len() != PIN_LENGTH || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(PinError::Format);
    }
    let mut digits = [0u8; PIN_LENGTH];
    for (digit, byte) in digits.iter_mut().zip(bytes) {
        *digit = byte - b'0';
    }
    Ok(digits)
}

/// What a run of consecutive wrong PINs leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lockout {
    None,
    /// Locked for this many seconds from the failed attempt.
    For(i64),
    Blocked,
}

/// The escalation: 5 wrong PINs lock for a minute; each wrong PIN after that locks longer
/// (5 minutes, 1 hour); the 8th in a row blocks the wallet.
pub fn lockout_after(consecutive_failures: u32) -> Lockout {
    match consecutive_failures {
        0..FREE_ATTEMPTS => Lockout::None,
        FREE_ATTEMPTS => Lockout::For(60),
        6 => Lockout::For(5 * 60),
        7 => Lockout::For(60 * 60),
        _ => Lockout::Blocked,
    }
}

/// Where the PIN stands, for the wallet state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinState {
    NotSet,
    Ready { failed_attempts: u32 },
    LockedUntil(i64),
    Blocked,
}

/// The PIN's state at `now`.
pub fn state(conn: &Connection, now: i64) -> Result<PinState, StoreError> {
    let row = conn
        .query_row(
            "SELECT failed_attempts, locked_until, blocked FROM wallet_pin WHERE id = 1",
            [],
            |r| {
                Ok((
                    r.get::<_, u32>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, bool>(2)?,
                ))
            },
        )
        .optional()?;
    Ok(match row {
        None => PinState::NotSet,
        Some((_, _, true)) => PinState::Blocked,
        Some((_, Some(until), _)) if until > now => PinState::LockedUntil(until),
        Some((failed_attempts, _, _)) => PinState::Ready { failed_attempts },
    })
}

/// Sets the first PIN (after activation). Refuses if one is set: use [`change`].
pub async fn set(store: &Store, pin: &str, birth_date: Option<BirthDate>) -> Result<(), PinError> {
    check_strength(pin, birth_date)?;
    let hashed = hash_new(pin).await?;
    store
        .write(move |tx| {
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM wallet_pin WHERE id = 1)",
                [],
                |r| r.get(0),
            )?;
            if exists {
                return Err(PinError::AlreadySet);
            }
            write_hash(tx, &hashed)
        })
        .await
}

/// Checks `pin` at `now`. A wrong PIN counts towards the lockout even if the app is killed while
/// the hash is being computed.
pub async fn verify(store: &Store, pin: &str, now: i64) -> Result<(), PinError> {
    let candidate = Zeroizing::new(pin.to_string());
    parse(&candidate)?;
    let stored = store.write(move |tx| begin_attempt(tx, now)).await?;
    let failed_attempts = stored.failed_attempts;
    let matches = {
        let candidate = candidate.clone();
        crate::blocking::run(move || stored.matches(&candidate)).await?
    };
    if matches {
        store
            .write(|tx| {
                tx.execute(
                    "UPDATE wallet_pin SET failed_attempts = 0, locked_until = NULL WHERE id = 1",
                    [],
                )?;
                Ok::<_, PinError>(())
            })
            .await?;
        return Ok(());
    }
    tracing::info!(failed_attempts, "a wrong PIN was entered");
    Err(match lockout_after(failed_attempts) {
        Lockout::None => PinError::Wrong {
            attempts_before_lockout: FREE_ATTEMPTS - failed_attempts,
        },
        Lockout::For(seconds) => PinError::Locked {
            until: now + seconds,
        },
        Lockout::Blocked => PinError::Blocked,
    })
}

/// Replaces the PIN after checking the current one (which counts as an attempt).
pub async fn change(
    store: &Store,
    current: &str,
    new: &str,
    birth_date: Option<BirthDate>,
    now: i64,
) -> Result<(), PinError> {
    check_strength(new, birth_date)?;
    verify(store, current, now).await?;
    let hashed = hash_new(new).await?;
    store.write(move |tx| write_hash(tx, &hashed)).await
}

/// Forgets the PIN, attempts and lockout included: only when the wallet starts over (a new
/// activation after `Blocked`, or a reset).
pub(crate) fn delete(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    tx.execute("DELETE FROM wallet_pin", [])?;
    Ok(())
}

/// The stored hash, read while the attempt was charged.
struct StoredPin {
    salt: Vec<u8>,
    hash: Zeroizing<Vec<u8>>,
    params: HashParams,
    failed_attempts: u32,
}

impl StoredPin {
    fn matches(&self, candidate: &str) -> Result<bool, PinError> {
        let computed = argon2id(candidate, &self.salt, self.params)?;
        // Constant time: the comparison must not tell how much of the hash matched.
        let difference = computed
            .iter()
            .zip(self.hash.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        Ok(difference == 0 && computed.len() == self.hash.len())
    }
}

/// Refuses when locked or blocked; otherwise records this attempt as failed (with the lockout it
/// would cause) and returns what the check needs. Runs in one transaction.
fn begin_attempt(tx: &rusqlite::Transaction<'_>, now: i64) -> Result<StoredPin, PinError> {
    match state(tx, now)? {
        PinState::NotSet => return Err(PinError::NotSet),
        PinState::Blocked => return Err(PinError::Blocked),
        PinState::LockedUntil(until) => return Err(PinError::Locked { until }),
        PinState::Ready { .. } => {}
    }
    let (salt, hash, m_cost_kib, t_cost, p_cost, failed): (Vec<u8>, Vec<u8>, u32, u32, u32, u32) =
        tx.query_row(
            "SELECT salt, hash, m_cost_kib, t_cost, p_cost, failed_attempts
             FROM wallet_pin WHERE id = 1",
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )?;
    let failed_attempts = failed.saturating_add(1);
    let (locked_until, blocked) = match lockout_after(failed_attempts) {
        Lockout::None => (None, false),
        Lockout::For(seconds) => (Some(now + seconds), false),
        Lockout::Blocked => (None, true),
    };
    tx.execute(
        "UPDATE wallet_pin SET failed_attempts = ?1, locked_until = ?2, blocked = ?3 WHERE id = 1",
        params![failed_attempts, locked_until, blocked],
    )?;
    Ok(StoredPin {
        salt,
        hash: Zeroizing::new(hash),
        params: HashParams {
            m_cost_kib,
            t_cost,
            p_cost,
        },
        failed_attempts,
    })
}

pub(crate) struct HashedPin {
    salt: [u8; SALT_LEN],
    hash: Zeroizing<Vec<u8>>,
    params: HashParams,
}

pub(crate) async fn hash_new(pin: &str) -> Result<HashedPin, PinError> {
    let pin = Zeroizing::new(pin.to_string());
    crate::blocking::run(move || {
        let mut salt = [0u8; SALT_LEN];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
            .map_err(|_| PinError::Randomness)?;
        Ok(HashedPin {
            hash: argon2id(&pin, &salt, HASH_PARAMS)?,
            salt,
            params: HASH_PARAMS,
        })
    })
    .await
}

pub(crate) fn write_hash(
    tx: &rusqlite::Transaction<'_>,
    hashed: &HashedPin,
) -> Result<(), PinError> {
    tx.execute(
        "INSERT INTO wallet_pin (id, salt, hash, m_cost_kib, t_cost, p_cost, failed_attempts,
                                 locked_until, blocked, set_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, 0, NULL, 0, ?6)
         ON CONFLICT (id) DO UPDATE SET salt = excluded.salt, hash = excluded.hash,
             m_cost_kib = excluded.m_cost_kib, t_cost = excluded.t_cost, p_cost = excluded.p_cost,
             failed_attempts = 0, locked_until = NULL, set_at = excluded.set_at",
        params![
            hashed.salt.as_slice(),
            hashed.hash.as_slice(),
            hashed.params.m_cost_kib,
            hashed.params.t_cost,
            hashed.params.p_cost,
            crate::unix_now()
        ],
    )?;
    Ok(())
}

fn argon2id(pin: &str, salt: &[u8], params: HashParams) -> Result<Zeroizing<Vec<u8>>, PinError> {
    let params = Params::new(
        params.m_cost_kib,
        params.t_cost,
        params.p_cost,
        Some(HASH_LEN),
    )
    .map_err(|_| PinError::Hashing)?;
    let mut out = Zeroizing::new(vec![0u8; HASH_LEN]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(pin.as_bytes(), salt, &mut out)
        .map_err(|_| PinError::Hashing)?;
    Ok(out)
}

#[cfg(test)]
mod tests;
