//! PIN tests against the real encrypted store. Each `verify` really runs Argon2id with the
//! production parameters (about 50-100 ms here), so the tests keep the number of checks small.

use std::sync::Arc;

use super::*;
use crate::platform::SoftwareSealer;

const BIRTH: BirthDate = BirthDate {
    year: 1987,
    month: 3,
    day: 9,
};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn store(dir: &std::path::Path) -> Store {
    Store::open_blocking(dir, Arc::new(SoftwareSealer::in_dir(dir))).unwrap()
}

fn pin_state(store: &Store, now: i64) -> PinState {
    store.read_blocking(move |c| state(c, now)).unwrap()
}

#[test]
fn weak_and_malformed_pins_are_refused() {
    for (pin, expected) in [
        ("12345", "format"),
        ("1234567", "format"),
        ("12a456", "format"),
        ("１２３４５６", "format"),
        ("000000", "same"),
        ("777777", "same"),
        ("123456", "run"),
        ("345678", "run"),
        ("890123", "run"),
        ("654321", "run"),
        ("210987", "run"),
        ("090387", "birth"),
        ("030987", "birth"),
        ("870309", "birth"),
        ("090319", "birth"),
        ("198703", "birth"),
    ] {
        let outcome = check_strength(pin, Some(BIRTH));
        let matched = matches!(
            (&outcome, expected),
            (Err(PinError::Format), "format")
                | (Err(PinError::Weak(WeakPin::AllSame)), "same")
                | (Err(PinError::Weak(WeakPin::Sequence)), "run")
                | (Err(PinError::Weak(WeakPin::BirthDate)), "birth")
        );
        assert!(matched, "{pin}: {outcome:?}");
    }
    for good in ["135790", "482915", "112358", "090388"] {
        check_strength(good, Some(BIRTH)).unwrap_or_else(|e| panic!("{good}: {e}"));
    }
    // Without a birth date only the other rules apply.
    check_strength("090387", None).unwrap();
}

#[test]
fn the_lockout_escalates_and_then_blocks() {
    let schedule: Vec<_> = (0..=9).map(lockout_after).collect();
    assert_eq!(
        schedule,
        vec![
            Lockout::None,
            Lockout::None,
            Lockout::None,
            Lockout::None,
            Lockout::None,
            Lockout::For(60),
            Lockout::For(300),
            Lockout::For(3600),
            Lockout::Blocked,
            Lockout::Blocked,
        ]
    );
    // OWASP's Argon2id minimum, checked at compile time.
    const { assert!(HASH_PARAMS.m_cost_kib >= 19 * 1024 && HASH_PARAMS.t_cost >= 2) };
}

#[test]
fn only_the_hash_is_stored_and_the_right_pin_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    runtime().block_on(async {
        assert!(matches!(
            verify(&store, "135790", 0).await,
            Err(PinError::NotSet)
        ));
        set(&store, "135790", Some(BIRTH)).await.unwrap();
        assert!(matches!(
            set(&store, "246801", Some(BIRTH)).await,
            Err(PinError::AlreadySet)
        ));
        verify(&store, "135790", 100).await.unwrap();
    });
    let stored: Vec<u8> = store
        .read_blocking(|c| {
            Ok::<_, StoreError>(c.query_row("SELECT hash FROM wallet_pin", [], |r| r.get(0))?)
        })
        .unwrap();
    assert_eq!(stored.len(), 32);
    assert!(!stored.windows(6).any(|w| w == b"135790"));
    drop(store);
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    for entry in files {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!bytes.windows(6).any(|w| w == b"135790"));
    }
}

#[test]
fn wrong_pins_lock_escalating_and_a_right_pin_resets_the_count() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let rt = runtime();
    rt.block_on(set(&store, "482915", None)).unwrap();
    let mut now = 1_000;
    for left in (1..=4).rev() {
        match rt.block_on(verify(&store, "111112", now)) {
            Err(PinError::Wrong {
                attempts_before_lockout,
            }) => assert_eq!(attempts_before_lockout, left),
            other => panic!("{other:?}"),
        }
    }
    // A right PIN before the lockout resets the count.
    rt.block_on(verify(&store, "482915", now)).unwrap();
    assert_eq!(
        pin_state(&store, now),
        PinState::Ready { failed_attempts: 0 }
    );

    for _ in 0..4 {
        assert!(rt.block_on(verify(&store, "111112", now)).is_err());
    }
    match rt.block_on(verify(&store, "111112", now)) {
        Err(PinError::Locked { until }) => assert_eq!(until, now + 60),
        other => panic!("fifth wrong PIN: {other:?}"),
    }
    // While locked even the right PIN is refused, without being checked.
    assert!(matches!(
        rt.block_on(verify(&store, "482915", now + 30)),
        Err(PinError::Locked { .. })
    ));
    now += 61;
    assert!(matches!(
        rt.block_on(verify(&store, "111112", now)),
        Err(PinError::Locked { until }) if until == now + 300
    ));
    now += 301;
    assert!(matches!(
        rt.block_on(verify(&store, "111112", now)),
        Err(PinError::Locked { until }) if until == now + 3600
    ));
    now += 3601;
    assert!(matches!(
        rt.block_on(verify(&store, "111112", now)),
        Err(PinError::Blocked)
    ));
    assert_eq!(pin_state(&store, now + 1_000_000), PinState::Blocked);
    assert!(matches!(
        rt.block_on(verify(&store, "482915", now + 1_000_000)),
        Err(PinError::Blocked)
    ));
}

/// The attacker's trick: kill the app while a guess is being checked, hoping the counter is
/// written only after the check. It is written before, lockout included.
#[test]
fn killing_the_app_mid_check_never_gives_an_attempt_back() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = store(dir.path());
        runtime().block_on(set(&store, "482915", None)).unwrap();
        for _ in 0..FREE_ATTEMPTS {
            // What `verify` commits before it starts hashing; then the app "dies".
            store.write_blocking(|tx| begin_attempt(tx, 500)).unwrap();
        }
    }
    let store = store(dir.path());
    assert_eq!(pin_state(&store, 500), PinState::LockedUntil(560));
    assert!(matches!(
        runtime().block_on(verify(&store, "482915", 530)),
        Err(PinError::Locked { until: 560 })
    ));
}

#[test]
fn changing_the_pin_needs_the_current_one_and_a_strong_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let rt = runtime();
    rt.block_on(set(&store, "482915", Some(BIRTH))).unwrap();
    assert!(matches!(
        rt.block_on(change(&store, "482915", "090387", Some(BIRTH), 10)),
        Err(PinError::Weak(WeakPin::BirthDate))
    ));
    assert!(matches!(
        rt.block_on(change(&store, "111112", "135790", Some(BIRTH), 10)),
        Err(PinError::Wrong { .. })
    ));
    rt.block_on(change(&store, "482915", "135790", Some(BIRTH), 10))
        .unwrap();
    assert!(matches!(
        rt.block_on(verify(&store, "482915", 20)),
        Err(PinError::Wrong { .. })
    ));
    rt.block_on(verify(&store, "135790", 20)).unwrap();
}

#[test]
fn pin_errors_never_contain_the_pin() {
    let errors = [
        check_strength("123456", None).unwrap_err(),
        check_strength("12a456", None).unwrap_err(),
        PinError::Wrong {
            attempts_before_lockout: 3,
        },
        PinError::Locked { until: 99 },
    ];
    for error in errors {
        let text = format!("{error} {error:?}");
        assert!(
            !text.contains("123456") && !text.contains("12a456"),
            "{text}"
        );
    }
}
