//! Outbox tests against the real encrypted store.

use std::sync::Arc;

use super::*;
use crate::platform::SoftwareSealer;
use crate::store::Store;

fn store(dir: &std::path::Path) -> Store {
    Store::open_blocking(dir, Arc::new(SoftwareSealer::in_dir(dir))).unwrap()
}

fn entry(key: &'static str) -> NewEntry<'static> {
    NewEntry {
        kind: "test.send",
        idempotency_key: key,
        payload: b"payload",
    }
}

fn lease(store: &Store, now: i64) -> Option<Lease> {
    store
        .write_blocking(move |tx| lease_next(tx, now, 60, None))
        .unwrap()
}

#[test]
fn an_entry_commits_with_the_change_it_reports_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let failed = store.write_blocking(|tx| {
        crate::store::meta::set(tx, "domain.change", "made")?;
        enqueue(tx, entry("k1"), 100)?;
        Err::<(), _>(OutboxError::LeaseLost) // the rest of the domain work failed
    });
    assert!(failed.is_err());
    let (meta, pending) = store
        .read_blocking(|c| {
            Ok::<_, StoreError>((
                crate::store::meta::get(c, "domain.change")?,
                pending_count(c)?,
            ))
        })
        .unwrap();
    assert_eq!((meta, pending), (None, 0), "both rolled back together");

    store
        .write_blocking(|tx| {
            crate::store::meta::set(tx, "domain.change", "made")?;
            enqueue(tx, entry("k1"), 100)
        })
        .unwrap();
    assert_eq!(store.read_blocking(pending_count).unwrap(), 1);
    assert!(matches!(
        store.write_blocking(|tx| enqueue(tx, entry("k1"), 101)),
        Err(OutboxError::Duplicate)
    ));
}

#[test]
fn a_lease_that_expires_makes_the_entry_due_again_and_the_old_holder_loses_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    store
        .write_blocking(|tx| enqueue(tx, entry("k"), 100))
        .unwrap();
    let first = lease(&store, 100).expect("due at once");
    assert_eq!(first.attempts, 1);
    assert_eq!(first.payload, b"payload");
    assert_eq!(lease(&store, 120), None, "leased: not handed out twice");
    assert_eq!(store.read_blocking(pending_count).unwrap(), 1);

    let second = lease(&store, 100 + 60).expect("due again once the lease ran out");
    assert_eq!(second.id, first.id);
    assert_eq!(second.attempts, 2);
    assert_ne!(second.token, first.token);

    let stale = first.clone();
    assert!(matches!(
        store.write_blocking(move |tx| complete(tx, &stale, 170)),
        Err(OutboxError::LeaseLost)
    ));
    let current = second.clone();
    store
        .write_blocking(move |tx| complete(tx, &current, 170))
        .unwrap();
    assert_eq!(store.read_blocking(pending_count).unwrap(), 0);
    assert_eq!(
        lease(&store, 10_000),
        None,
        "delivered entries are never sent again"
    );
}

#[test]
fn a_crash_mid_send_never_strands_an_entry() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = store(dir.path());
        store
            .write_blocking(|tx| enqueue(tx, entry("k"), 100))
            .unwrap();
        lease(&store, 100).unwrap();
        // The app dies here, mid-send.
    }
    let store = store(dir.path());
    assert_eq!(lease(&store, 130), None, "the lease still holds");
    let again = lease(&store, 161).expect("due again after the lease");
    assert_eq!(again.attempts, 2);
}

#[test]
fn retries_back_off_and_parked_entries_wait_for_a_decision() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    store
        .write_blocking(|tx| {
            enqueue(tx, entry("a"), 100)?;
            enqueue(tx, entry("b"), 100)
        })
        .unwrap();
    let a = lease(&store, 100).unwrap();
    assert_eq!(a.idempotency_key, "a");
    let held = a.clone();
    let due = store
        .write_blocking(move |tx| {
            let policy = RetryPolicy {
                base: std::time::Duration::from_secs(30),
                cap: std::time::Duration::from_secs(6 * 3600),
            };
            retry_later(tx, &held, 100, "network", None, &policy)
        })
        .unwrap();
    assert!(
        (100..=130).contains(&due),
        "first retry within 30 s (full jitter): {due}"
    );

    let b = lease(&store, 100).unwrap();
    assert_eq!(b.idempotency_key, "b");
    let held = b.clone();
    store
        .write_blocking(move |tx| park(tx, &held, "rejected_by_server", 100))
        .unwrap();
    assert_eq!(store.read_blocking(pending_count).unwrap(), 1);
    assert_eq!(store.read_blocking(next_due_at).unwrap(), Some(due));
    assert_eq!(lease(&store, due - 1), None);
    let a_again = lease(&store, due).unwrap();
    assert_eq!(a_again.idempotency_key, "a");
    store
        .write_blocking(move |tx| complete(tx, &a_again, due))
        .unwrap();

    let b_id = b.id;
    assert!(
        store
            .write_blocking(move |tx| unpark(tx, b_id, 200))
            .unwrap()
    );
    assert_eq!(lease(&store, 200).unwrap().idempotency_key, "b");
}

#[test]
fn leases_can_be_limited_to_a_senders_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    store
        .write_blocking(|tx| {
            enqueue(
                tx,
                NewEntry {
                    kind: "other.kind",
                    idempotency_key: "x",
                    payload: b"",
                },
                100,
            )
        })
        .unwrap();
    let mine = store
        .write_blocking(|tx| lease_next(tx, 100, 60, Some(&["test.send"])))
        .unwrap();
    assert_eq!(mine, None);
    assert!(lease(&store, 100).is_some());
}

#[test]
fn the_retry_schedule_doubles_to_its_cap_with_full_jitter() {
    let policy = RetryPolicy::default();
    assert_eq!(policy.ceiling(1).as_secs(), 2);
    assert_eq!(policy.ceiling(2).as_secs(), 4);
    assert_eq!(policy.ceiling(5).as_secs(), 32);
    assert_eq!(policy.ceiling(30).as_secs(), 3600);
    assert_eq!(policy.ceiling(u32::MAX).as_secs(), 3600);
    assert_eq!(policy.ceiling(0).as_secs(), 2);
    // Full jitter: anywhere from nothing to the ceiling.
    assert_eq!(policy.delay_secs(5, 0.0), 0);
    assert_eq!(policy.delay_secs(5, 0.5), 16);
    assert_eq!(policy.delay_secs(5, 0.999), 32);
    assert_eq!(policy.delay_secs(u32::MAX, 0.999), 3597);
    for attempt in 1..40 {
        assert!(policy.ceiling(attempt + 1) >= policy.ceiling(attempt));
    }
}

#[test]
fn retry_after_is_a_floor_on_the_back_off() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    store
        .write_blocking(|tx| enqueue(tx, entry("k-ra"), 0))
        .unwrap();
    let held = lease(&store, 100).unwrap();
    let at = store
        .write_blocking(move |tx| {
            retry_later(
                tx,
                &held,
                100,
                "throttled",
                Some(700),
                &RetryPolicy::default(),
            )
        })
        .unwrap();
    assert_eq!(at, 700);
    assert!(lease(&store, 699).is_none());
    assert!(lease(&store, 700).is_some());
}

#[test]
fn leases_left_by_a_dead_process_are_released_at_open_and_only_for_the_given_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    store
        .write_blocking(|tx| {
            enqueue(tx, entry("mine"), 100)?;
            enqueue(
                tx,
                NewEntry {
                    kind: "other.send",
                    idempotency_key: "theirs",
                    payload: b"p",
                },
                100,
            )
        })
        .unwrap();
    let mine = lease(&store, 100).unwrap();
    let theirs = lease(&store, 100).unwrap();
    assert_eq!(
        (mine.kind.as_str(), theirs.kind.as_str()),
        ("test.send", "other.send")
    );
    let released = store
        .write_blocking(|tx| release_leases(tx, &["test.send"], 101))
        .unwrap();
    assert_eq!(released, 1);
    // Due at once, not after the 60 s lease; the other kind's lease still holds.
    let again = lease(&store, 101).unwrap();
    assert_eq!(again.idempotency_key, "mine");
    assert_eq!(again.attempts, 2);
    assert_eq!(lease(&store, 101), None);
    // The old holder's lease is gone: finishing with it fails.
    let stale = store.write_blocking(move |tx| complete(tx, &mine, 102));
    assert!(matches!(stale, Err(OutboxError::LeaseLost)));
    // Discarding refuses what is in flight.
    let id = again.id;
    assert!(!store.write_blocking(move |tx| discard(tx, id)).unwrap());
}
