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
        .write_blocking(move |tx| retry_later(tx, &held, 100, "network"))
        .unwrap();
    assert!(
        (130..=136).contains(&due),
        "first retry after 30 s + jitter: {due}"
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
fn the_retry_schedule_doubles_up_to_six_hours_with_bounded_jitter() {
    assert_eq!(retry_delay_secs(1, 0.0), 30);
    assert_eq!(retry_delay_secs(2, 0.0), 60);
    assert_eq!(retry_delay_secs(5, 0.0), 480);
    assert_eq!(retry_delay_secs(30, 0.0), 6 * 3600);
    assert_eq!(retry_delay_secs(u32::MAX, 0.999), 6 * 3600 + 4315);
    assert_eq!(retry_delay_secs(0, 0.0), 30);
    for attempt in 1..40 {
        assert!(retry_delay_secs(attempt + 1, 0.0) >= retry_delay_secs(attempt, 0.0));
    }
}
