//! The persistent outbox: work that must reach a server exactly once, kept across restarts,
//! crashes and bad networks.
//!
//! Owns: the `outbox` table and its life cycle. A capability [`enqueue`]s an entry inside its own
//! [`Store::write`](crate::store::Store::write) transaction, so the domain change and the entry
//! commit together. A sender [`lease_next`]s a due entry (it becomes `in_flight` with a lease that
//! expires, so a crash mid-send never strands it: once the lease runs out the entry is due again),
//! sends it with its idempotency key (the server must treat a repeat as the same request: that is
//! what turns at-least-once sending into exactly-once delivery), then [`complete`]s it,
//! [`retry_later`]s it on a transient failure (exponential back-off with full jitter, see
//! [`RetryPolicy`]), or [`park`]s it with a reason when retrying cannot help. Does not own
//! sending: each capability brings its own sender (the dossier issue brings the first), and
//! `Citizen::sync_now` drives them.
//!
//! States: `queued` → `in_flight` → `delivered`; `in_flight` → `queued` (retry, or an expired
//! lease) or `parked`; `parked` → `queued` only when someone decides to [`unpark`]. Reasons and
//! error codes are fixed machine codes, never personal data.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::store::StoreError;

/// Why an outbox operation did not happen.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutboxError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An entry with this idempotency key exists already (it is the same piece of work).
    #[error("an outbox entry with this idempotency key already exists")]
    Duplicate,
    /// The lease ran out and the entry was leased again (or finished) by someone else.
    #[error("the outbox lease was lost")]
    LeaseLost,
    #[error("the system could not provide randomness")]
    Randomness,
}

impl From<rusqlite::Error> for OutboxError {
    fn from(error: rusqlite::Error) -> Self {
        OutboxError::Store(error.into())
    }
}

/// The row id of an outbox entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OutboxId(pub i64);

/// Work to queue.
#[derive(Debug, Clone, Copy)]
pub struct NewEntry<'a> {
    /// Which sender handles it, e.g. `dossier.submit`.
    pub kind: &'a str,
    /// Sent with the request; the server deduplicates by it. Unique in the outbox.
    pub idempotency_key: &'a str,
    /// What the sender needs to make the request (stored encrypted like everything else).
    pub payload: &'a [u8],
}

/// An entry leased for sending. Only the holder of the current lease may finish it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub id: OutboxId,
    pub token: i64,
    pub kind: String,
    pub idempotency_key: String,
    pub payload: Vec<u8>,
    /// Attempts including this one.
    pub attempts: u32,
    pub expires_at: i64,
}

/// Queues `entry`, due at once. Call inside the transaction that makes the change it reports.
pub fn enqueue(
    tx: &Transaction<'_>,
    entry: NewEntry<'_>,
    now: i64,
) -> Result<OutboxId, OutboxError> {
    let inserted = tx.execute(
        "INSERT INTO outbox (idempotency_key, kind, payload, next_attempt_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?4, ?4)
         ON CONFLICT (idempotency_key) DO NOTHING",
        params![entry.idempotency_key, entry.kind, entry.payload, now],
    )?;
    if inserted == 0 {
        return Err(OutboxError::Duplicate);
    }
    Ok(OutboxId(tx.last_insert_rowid()))
}

/// Leases the entry that has been due longest (a queued entry whose time has come, or an in-flight
/// one whose lease expired), optionally only of the given `kinds`. `None` when nothing is due.
pub fn lease_next(
    tx: &Transaction<'_>,
    now: i64,
    lease_secs: i64,
    kinds: Option<&[&str]>,
) -> Result<Option<Lease>, OutboxError> {
    let mut due = tx.prepare_cached(
        "SELECT id, kind FROM outbox
         WHERE (state = 'queued' AND next_attempt_at <= ?1)
            OR (state = 'in_flight' AND lease_expires_at <= ?1)
         ORDER BY CASE state WHEN 'in_flight' THEN lease_expires_at ELSE next_attempt_at END, id",
    )?;
    let mut rows = due.query([now])?;
    let mut chosen = None;
    while let Some(row) = rows.next()? {
        let kind: String = row.get(1)?;
        if kinds.is_none_or(|kinds| kinds.contains(&kind.as_str())) {
            chosen = Some(OutboxId(row.get(0)?));
            break;
        }
    }
    drop(rows);
    let Some(id) = chosen else {
        return Ok(None);
    };
    let token = random_token()?;
    let expires_at = now + lease_secs.max(1);
    let lease = tx.query_row(
        "UPDATE outbox
         SET state = 'in_flight', lease_token = ?2, lease_expires_at = ?3,
             attempts = attempts + 1, updated_at = ?4
         WHERE id = ?1
         RETURNING kind, idempotency_key, payload, attempts",
        params![id.0, token, expires_at, now],
        |r| {
            Ok(Lease {
                id,
                token,
                kind: r.get(0)?,
                idempotency_key: r.get(1)?,
                payload: r.get(2)?,
                attempts: r.get(3)?,
                expires_at,
            })
        },
    )?;
    Ok(Some(lease))
}

/// The server accepted the entry.
pub fn complete(tx: &Transaction<'_>, lease: &Lease, now: i64) -> Result<(), OutboxError> {
    finish(
        tx,
        "UPDATE outbox SET state = 'delivered', lease_token = NULL, lease_expires_at = NULL,
                           last_error = NULL, updated_at = ?3
         WHERE id = ?1 AND state = 'in_flight' AND lease_token = ?2",
        params![lease.id.0, lease.token, now],
    )
}

/// A transient failure: due again after the back-off for its attempt count under `policy`, or at
/// `not_before` if the server asked for later (`Retry-After`), whichever is later. Returns when.
pub fn retry_later(
    tx: &Transaction<'_>,
    lease: &Lease,
    now: i64,
    error_code: &str,
    not_before: Option<i64>,
    policy: &RetryPolicy,
) -> Result<i64, OutboxError> {
    let jitter = random_unit()?;
    let backoff = now + policy.delay_secs(lease.attempts, jitter);
    let next_attempt_at = not_before.map_or(backoff, |at| at.max(backoff));
    finish(
        tx,
        "UPDATE outbox SET state = 'queued', lease_token = NULL, lease_expires_at = NULL,
                           next_attempt_at = ?3, last_error = ?4, updated_at = ?5
         WHERE id = ?1 AND state = 'in_flight' AND lease_token = ?2",
        params![lease.id.0, lease.token, next_attempt_at, error_code, now],
    )?;
    Ok(next_attempt_at)
}

/// Retrying cannot help (the server refused the content, a credential expired, ...): the entry
/// waits for a decision. `reason` is a fixed machine code.
pub fn park(
    tx: &Transaction<'_>,
    lease: &Lease,
    reason: &str,
    now: i64,
) -> Result<(), OutboxError> {
    finish(
        tx,
        "UPDATE outbox SET state = 'parked', lease_token = NULL, lease_expires_at = NULL,
                           parked_reason = ?3, updated_at = ?4
         WHERE id = ?1 AND state = 'in_flight' AND lease_token = ?2",
        params![lease.id.0, lease.token, reason, now],
    )
}

/// Puts a parked entry back in the queue, due at once. `false` if it was not parked.
pub fn unpark(tx: &Transaction<'_>, id: OutboxId, now: i64) -> Result<bool, OutboxError> {
    let changed = tx.execute(
        "UPDATE outbox SET state = 'queued', parked_reason = NULL, next_attempt_at = ?2,
                           updated_at = ?2
         WHERE id = ?1 AND state = 'parked'",
        params![id.0, now],
    )?;
    Ok(changed == 1)
}

/// Makes every in-flight entry of `kinds` due at once. Call only when no sender of this store can
/// be running (at open: the store is this process's alone, so a lease left in flight belongs to
/// a process that died mid-send), so that work resumes at once instead of after its lease.
pub fn release_leases(
    tx: &Transaction<'_>,
    kinds: &[&str],
    now: i64,
) -> Result<usize, OutboxError> {
    let mut released = 0;
    for kind in kinds {
        released += tx.execute(
            "UPDATE outbox SET state = 'queued', lease_token = NULL, lease_expires_at = NULL,
                               next_attempt_at = ?2, updated_at = ?2
             WHERE state = 'in_flight' AND kind = ?1",
            params![kind, now],
        )?;
    }
    Ok(released)
}

/// Removes an entry that is not being sent (queued or parked): the citizen gave the work up.
/// `false` when it is in flight or gone.
pub fn discard(tx: &Transaction<'_>, id: OutboxId) -> Result<bool, OutboxError> {
    let changed = tx.execute(
        "DELETE FROM outbox WHERE id = ?1 AND state IN ('queued', 'parked')",
        [id.0],
    )?;
    Ok(changed == 1)
}

/// Attempts so far and the last transient error code of entry `id`.
pub fn attempts_of(conn: &Connection, id: OutboxId) -> Result<(u32, Option<String>), StoreError> {
    Ok(conn
        .query_row(
            "SELECT attempts, last_error FROM outbox WHERE id = ?1",
            [id.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or((0, None)))
}

/// Runs a state change guarded by `id` and lease token; no row changed means the lease was lost.
fn finish(
    tx: &Transaction<'_>,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<(), OutboxError> {
    match tx.execute(sql, params)? {
        1 => Ok(()),
        _ => Err(OutboxError::LeaseLost),
    }
}

/// Entries not yet delivered or parked (what `status().queued_work` reports).
pub fn pending_count(conn: &Connection) -> Result<u64, StoreError> {
    let count: i64 = conn.query_row(
        "SELECT count(*) FROM outbox WHERE state IN ('queued', 'in_flight')",
        [],
        |r| r.get(0),
    )?;
    Ok(count.max(0) as u64)
}

/// When the next entry falls due (a queued entry's time or an in-flight lease's expiry), for
/// scheduling a background sync. `None` when nothing is pending.
pub fn next_due_at(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT min(CASE state WHEN 'in_flight' THEN lease_expires_at ELSE next_attempt_at END)
             FROM outbox WHERE state IN ('queued', 'in_flight')",
            [],
            |r| r.get::<_, Option<i64>>(0),
        )
        .optional()?
        .flatten())
}

/// How long a sender waits before trying a failed entry again: exponential back-off with *full
/// jitter* (the delay is drawn uniformly from zero to `base * 2^(attempt - 1)`, capped), which
/// spreads the retries of many phones that lost the network together better than a fixed delay
/// plus a little jitter does. A server's `Retry-After` is a floor on top of it ([`retry_later`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base: std::time::Duration,
    pub cap: std::time::Duration,
}

impl Default for RetryPolicy {
    /// 2 s doubling to an hour: quick enough that a dossier filed in a lift goes out soon after
    /// the doors open, slow enough that a portal in trouble is not hammered.
    fn default() -> Self {
        Self {
            base: std::time::Duration::from_secs(2),
            cap: std::time::Duration::from_secs(60 * 60),
        }
    }
}

impl RetryPolicy {
    /// The ceiling of the delay after `attempts` attempts (the first retry follows attempt 1).
    pub fn ceiling(&self, attempts: u32) -> std::time::Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        self.base
            .saturating_mul(1u32 << doublings)
            .min(self.cap.max(self.base))
    }

    /// The delay in whole seconds (rounded up) for `jitter` in `[0, 1)`.
    pub fn delay_secs(&self, attempts: u32, jitter: f64) -> i64 {
        let ceiling = self.ceiling(attempts).as_secs_f64();
        (ceiling * jitter.clamp(0.0, 1.0)).ceil() as i64
    }
}

fn random_token() -> Result<i64, OutboxError> {
    let mut bytes = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| OutboxError::Randomness)?;
    Ok(i64::from_le_bytes(bytes))
}

fn random_unit() -> Result<f64, OutboxError> {
    let bits = random_token()? as u64 >> 11;
    Ok(bits as f64 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests;
