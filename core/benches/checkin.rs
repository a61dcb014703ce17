//! Check-in figures (issue 8), written as JSON to `$CITIZEN_BENCH_FIGURES` (else
//! `target/bench-figures/`), which `cargo xtask bench` reads:
//!
//! - `checkin.scan_ratio`: scan-to-persisted check-in over its floor, in interleaved A/B pairs
//!   (see `interleaved/mod.rs`), timed in process CPU time. A is [`CheckIns::check_in`] on a
//!   `Citizen` opened on a real SQLCipher store whose trust list holds the venue key: read the
//!   `CK1:` text, verify it offline, dedupe, record, read the entry back, match it against the
//!   stored notices, announce it. B is the floor: one `ring` P-256 ECDSA verification of a
//!   signature over a payload of the code's size, then one insert of the same diary row in its
//!   own write transaction on another store (same settings, same schema), whose venue rows were
//!   made before timing: one INSERT per check-in, where the SDK's side also looks the venue up
//!   and adds its row when new (the diary empties after each run, its venues with it, so each
//!   of the SDK's check-ins pays for a new venue). Each run does
//!   [`CHECK_INS_PER_RUN`] of them; every check-in is of a new code (its own `cti`), minted before
//!   timing, so none is short-circuited by the dedupe. After each run both diaries are emptied
//!   (not timed), so every run starts from the same diary size. Target <= 2.0.
//! - `checkin.purge_100k_ms`: [`CheckIns::purge_expired`] of a diary holding 100k entries past
//!   the retention period at 500 venues (100 of the entries with an exposure match) and 1,000
//!   within it at another venue, which must survive; the purge also deletes the 500 venues' rows,
//!   left without entries. Before each timed purge the 100k rows (and venues and matches) are
//!   inserted in one transaction, not timed. The value is the wall-clock median over
//!   [`PURGE_RUNS`] purges: what the citizen waits, the commit's disk writes included (the
//!   target is a time the phone spends, so the clock it is read on is the wall's); the median in
//!   process CPU time (the store thread's work: see `interleaved::process_cpu_time`) is written
//!   beside it. Target <= 150 ms.
//!
//! The bench goes through the public API only. The `Citizen` purges at open with the phone's
//! clock, so the fill is made of entries that are recent by the phone's clock and the purge is
//! asked for at a `now` a month later (`purge_expired` takes `now`); filling needs the store
//! itself, so the `Citizen` is closed, the store opened alone and filled, and the `Citizen`
//! opened again before each timed purge.
//!
//! Run without `--bench` (as `cargo test --all-targets` does), it only checks that every side
//! runs, on a few check-ins and a small purge, and writes no figure.

#[allow(dead_code)] // this bench times its own runs: no `cpu_timed`
mod interleaved;

use std::cell::RefCell;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use citizen_core::checkin::venue_code::{self, VenueCode};
use citizen_core::checkin::wire::VenueKind;
use citizen_core::jose::{Jws, SoftwareSigner, sign_compact};
use citizen_core::store::meta;
use citizen_core::trust_list::{TrustedKey, VenueSigner};
use citizen_core::{
    CheckIns, Citizen, CitizenConfig, Platform, SoftwareSealer, Store, StoreError, TrustAnchor,
    TrustList,
};
use interleaved::{measure_ratio, process_cpu_time};
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use rusqlite::params;

/// The venues the scanned codes are at (`clinic-0` ...).
const VENUES: usize = 50;
/// Check-ins per timed run (a run is a few milliseconds of CPU).
const CHECK_INS_PER_RUN: usize = 16;
const SCAN_PAIRS: usize = 100;
const WARMUP_PAIRS: usize = 4;

/// Expired entries per purge, and how many purges the figure is the median of.
const PURGED_ROWS: i64 = 100_000;
const PURGE_RUNS: usize = 11;
/// Venues the expired entries are at (one `checkin_venues` row each, shared by its entries): none
/// has an entry left after the purge, so the purge deletes their rows too. Their ids start past
/// the kept entries' venue.
const FILL_VENUES: i64 = 500;
const FIRST_FILL_VENUE: i64 = 2;
/// Entries within the retention period, which every purge must keep.
const KEPT_ROWS: i64 = 1_000;
/// Expired entries with an exposure match (deleted with them).
const MATCHED_ROWS: i64 = 100;

const SCAN_RATIO: &str = "checkin.scan_ratio";
const PURGE_100K: &str = "checkin.purge_100k_ms";

const RETENTION_DAYS: u32 = 14;
const DAY: i64 = 86_400;
const KID: &str = "venue-health-1";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    if args.iter().any(|a| a == "--bench") {
        // `cargo bench --bench checkin -- purge`: only the figures whose name has `purge`.
        let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
        let wanted = |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(*f));
        let dir = interleaved::figures_dir();
        if wanted(SCAN_RATIO) {
            scan_ratio(&runtime, &dir);
        }
        if wanted(PURGE_100K) {
            purge(&runtime, Some(&dir), PURGED_ROWS, PURGE_RUNS);
        }
    } else {
        // `cargo test --all-targets` runs benches without `--bench`.
        let scan = RefCell::new(Scan::new(&runtime, 4 * CHECK_INS_PER_RUN));
        measure_ratio(
            2,
            0,
            || scan.borrow_mut().check_ins(),
            || scan.borrow_mut().floor(),
        );
        purge(&runtime, None, 1_000, 1);
        println!("checkin: every side runs (`cargo bench` measures the figures)");
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

// ---------------------------------------------------------------------------------------------
// The `Citizen` and its trust list

/// A data directory whose store holds a signed trust list naming `venue` as the health
/// department's venue signer, and the config that trusts its anchor.
struct Home {
    dir: tempfile::TempDir,
    config: CitizenConfig,
    sealer: Arc<SoftwareSealer>,
}

impl Home {
    fn new(venue: &SoftwareSigner, now: i64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let sealer = Arc::new(SoftwareSealer::in_dir(dir.path()));
        let anchor = SoftwareSigner::generate().unwrap();
        let list = TrustList {
            iss: "https://portal.example/".into(),
            iat: now - 10,
            exp: now + 60 * DAY,
            sequence: 1,
            max_age: DAY as u64,
            issuers: vec![],
            relying_parties: vec![],
            venue_signers: vec![VenueSigner {
                agency: "health-dept".into(),
                display_name: "Department of Health".into(),
                keys: vec![TrustedKey {
                    kid: KID.into(),
                    jwk: venue.public_key().clone(),
                    not_before: Some(now - 365 * DAY),
                    not_after: Some(now + 365 * DAY),
                }],
            }],
            health_signers: vec![],
            origins: vec![],
        };
        let jws = list.sign(&anchor, "anchor-1").unwrap();
        let store = Store::open_blocking(dir.path(), sealer.clone()).unwrap();
        store
            .write_blocking(move |tx| {
                meta::set(tx, "trust_list.jws", &jws)?;
                meta::set(tx, "trust_list.fetched_at", &now.to_string())
            })
            .unwrap();
        drop(store);
        // Port 9 on localhost: nothing listens (a check-in at a venue goes nowhere anyway).
        let mut config = CitizenConfig::new(dir.path(), "https://127.0.0.1:9/");
        config.allow_unpinned = true;
        config.checkin_retention_days = RETENTION_DAYS;
        config.trust_anchors = vec![TrustAnchor {
            kid: "anchor-1".into(),
            jwk: anchor.public_key().clone(),
        }];
        Self {
            dir,
            config,
            sealer,
        }
    }

    fn open(&self, runtime: &tokio::runtime::Runtime) -> Citizen {
        runtime
            .block_on(Citizen::open(
                self.config.clone(),
                Platform::new(self.sealer.clone()),
            ))
            .unwrap()
    }

    /// The store alone (the `Citizen` must be closed).
    fn store(&self) -> Store {
        Store::open_blocking(self.dir.path(), self.sealer.clone()).unwrap()
    }
}

/// A venue code of the health department, valid around `now`, with the code id `n`.
fn venue_code(n: u64, now: i64) -> VenueCode {
    let mut code_id = vec![0xC0; 16];
    code_id[..8].copy_from_slice(&n.to_be_bytes());
    VenueCode {
        agency: "health-dept".into(),
        venue_id: format!("clinic-{}", n % VENUES as u64),
        name: "Trạm y tế phường 7".into(),
        address: "12 Lê Lợi, Quận 1".into(),
        kind: VenueKind::Venue,
        auto_checkout_secs: 4 * 3600,
        not_before: now - 3600,
        expires_at: now + 30 * DAY,
        issued_at: now - 3600,
        code_id,
    }
}

// ---------------------------------------------------------------------------------------------
// checkin.scan_ratio

struct Scan<'r> {
    runtime: &'r tokio::runtime::Runtime,
    checkins: CheckIns,
    /// The `CK1:` texts still to scan, each of a new code.
    texts: Vec<String>,
    /// The floor's store (its own directory), its codes (the same rows), its signature.
    floor_store: Store,
    floor_codes: Vec<VenueCode>,
    floor_signature: (Vec<u8>, Vec<u8>, [u8; 65]),
    now: i64,
    // Dropped last, in this order: the stores close before their directories go.
    _citizen: Citizen,
    _home: Home,
    _floor_dir: tempfile::TempDir,
}

impl<'r> Scan<'r> {
    /// Everything for `check_ins` check-ins on each side, the codes minted here.
    fn new(runtime: &'r tokio::runtime::Runtime, check_ins: usize) -> Self {
        let now = unix_now();
        let venue = SoftwareSigner::generate().unwrap();
        let home = Home::new(&venue, now);
        let citizen = home.open(runtime);
        let checkins = citizen.checkins();
        let codes: Vec<VenueCode> = (0..check_ins as u64).map(|n| venue_code(n, now)).collect();
        let mut texts: Vec<String> = codes
            .iter()
            .map(|code| venue_code::mint(code, KID, &venue).unwrap())
            .collect();
        texts.reverse(); // popped from the end
        let mut floor_codes = codes;
        floor_codes.reverse();

        // The floor verifies a signature over a payload of the code's size (ECDSA's cost does
        // not depend on it: one SHA-256 block or a few) with ring, as `jose::es256` does.
        let payload = vec![b'x'; texts[0].len()];
        let compact = sign_compact(&serde_json::Map::new(), &payload, &venue).unwrap();
        let jws = Jws::parse(&compact, 64 * 1024).unwrap();
        let floor_signature = (
            jws.signing_input().to_vec(),
            jws.signature().to_vec(),
            venue.public_key().to_sec1(),
        );
        let floor_dir = tempfile::tempdir().unwrap();
        let floor_store = Store::open_blocking(
            floor_dir.path(),
            Arc::new(SoftwareSealer::in_dir(floor_dir.path())),
        )
        .unwrap();
        // The floor's venue rows exist before timing, so each of its check-ins is exactly one
        // INSERT (the diary row, referring to its venue's row id); the SDK's side still looks its
        // venue up and adds it when new, as `diary::check_in` does.
        let venues: Vec<VenueCode> = floor_codes.iter().take(VENUES).cloned().collect();
        floor_store
            .write_blocking(move |tx| {
                for code in &venues {
                    tx.execute(
                        "INSERT INTO checkin_venues (id, agency, venue_id, name, address, kind)
                         VALUES (?1, ?2, ?3, ?4, ?5, 'venue')",
                        params![
                            venue_row_id(code),
                            code.agency,
                            code.venue_id,
                            code.name,
                            code.address
                        ],
                    )?;
                }
                Ok::<_, StoreError>(())
            })
            .unwrap();
        Self {
            runtime,
            checkins,
            texts,
            floor_store,
            floor_codes,
            floor_signature,
            now,
            _citizen: citizen,
            _home: home,
            _floor_dir: floor_dir,
        }
    }

    /// A: `CHECK_INS_PER_RUN` check-ins, each of a new code; then the diary is emptied.
    fn check_ins(&mut self) -> Duration {
        let texts: Vec<String> = (0..CHECK_INS_PER_RUN)
            .map(|_| self.texts.pop().expect("enough codes were minted"))
            .collect();
        let checkins = &self.checkins;
        let started = process_cpu_time();
        self.runtime.block_on(async {
            for text in &texts {
                let result = checkins.check_in(black_box(text)).await.unwrap();
                assert!(!result.duplicate, "every check-in is of a new code");
            }
        });
        let spent = process_cpu_time() - started;
        // Not timed: back to an empty diary (every entry is before a `now` a month ahead).
        let purged = self
            .runtime
            .block_on(checkins.purge_expired(self.now + 30 * DAY))
            .unwrap();
        assert_eq!(purged, CHECK_INS_PER_RUN);
        spent
    }

    /// B: `CHECK_INS_PER_RUN` times one ring verification and one insert of the same row in its
    /// own write transaction; then the table is emptied.
    fn floor(&mut self) -> Duration {
        let codes: Vec<VenueCode> = (0..CHECK_INS_PER_RUN)
            .map(|_| self.floor_codes.pop().expect("enough codes were made"))
            .collect();
        let (message, signature, key) = &self.floor_signature;
        let now = self.now;
        let started = process_cpu_time();
        for code in codes {
            let verified = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, key)
                .verify(black_box(message), black_box(signature))
                .is_ok();
            assert!(verified, "the signature verifies");
            self.floor_store
                .write_blocking(move |tx| insert_row(tx, &code, now, "ticketkeyticketkey0000"))
                .unwrap();
        }
        let spent = process_cpu_time() - started;
        self.floor_store
            .write_blocking(|tx| {
                tx.execute_batch("DELETE FROM checkin_diary;")?;
                Ok::<_, StoreError>(())
            })
            .unwrap();
        spent
    }
}

/// The diary row `diary::check_in` writes for `code` at `now`, its venue's row made beforehand:
/// one INSERT.
fn insert_row(
    tx: &rusqlite::Transaction<'_>,
    code: &VenueCode,
    now: i64,
    ticket_key: &str,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO checkin_diary (venue, code_id, checked_in_at, auto_checkout_at, ticket_key)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        venue_row_id(code),
        code.code_id,
        now,
        now + i64::from(code.auto_checkout_secs),
        ticket_key,
    ])?;
    Ok(())
}

/// The floor's row id of `code`'s venue (`clinic-<n>` is row `n + 1`).
fn venue_row_id(code: &VenueCode) -> i64 {
    let n: i64 = code
        .venue_id
        .strip_prefix("clinic-")
        .and_then(|n| n.parse().ok())
        .expect("the bench's venue ids");
    n + 1
}

fn scan_ratio(runtime: &tokio::runtime::Runtime, dir: &Path) {
    let total = (SCAN_PAIRS + WARMUP_PAIRS) * CHECK_INS_PER_RUN;
    // Both sides need the runtime and the codes: one owner, borrowed by each run in turn.
    let scan = RefCell::new(Scan::new(runtime, total));
    let ratio = measure_ratio(
        SCAN_PAIRS,
        WARMUP_PAIRS,
        || scan.borrow_mut().check_ins(),
        || scan.borrow_mut().floor(),
    );
    let name = SCAN_RATIO;
    println!("{name:<28} {}", ratio.summary());
    let mut figure = ratio.to_json(
        name,
        "CheckIns::check_in",
        "ring P-256 verify + SQLCipher insert",
    );
    let per_op_us = |run: Duration| run.as_secs_f64() * 1e6 / CHECK_INS_PER_RUN as f64;
    figure["ops_per_run"] = CHECK_INS_PER_RUN.into();
    figure["a_per_op_us"] = per_op_us(ratio.a_median).into();
    figure["b_per_op_us"] = per_op_us(ratio.b_median).into();
    figure["clock"] = "process CPU time".into();
    interleaved::write_figure(dir, &figure).unwrap();
}

// ---------------------------------------------------------------------------------------------
// checkin.purge_100k_ms

/// Fills the diary with `rows` entries checked in between 13 and 1 days before `now` (by the
/// phone's clock: the open-time purge keeps them) at `FILL_VENUES` venues (their rows added
/// first, as check-ins would), `MATCHED_ROWS` of them matched, in one transaction.
fn fill(store: &Store, rows: i64, first_id: i64, now: i64) {
    store
        .write_blocking(move |tx| {
            let mut venue = tx.prepare(
                "INSERT INTO checkin_venues (id, agency, venue_id, name, address, kind)
                 VALUES (?1, 'health-dept', ?2, 'Trạm y tế phường 7', '12 Lê Lợi, Quận 1',
                         'venue')",
            )?;
            for v in 0..FILL_VENUES {
                venue.execute(params![FIRST_FILL_VENUE + v, format!("clinic-{v}")])?;
            }
            let mut insert = tx.prepare(
                "INSERT INTO checkin_diary (id, venue, code_id, checked_in_at, auto_checkout_at,
                     ticket_key)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            let mut matched = tx.prepare(
                "INSERT INTO checkin_matches (entry_id, notice_id, matched_at) VALUES (?1, ?2, ?3)",
            )?;
            let span = 12 * DAY;
            for i in 0..rows {
                let id = first_id + i;
                let at = now - 13 * DAY + i * span / rows;
                let mut code_id = [0xA5u8; 16];
                code_id[..8].copy_from_slice(&id.to_be_bytes());
                insert.execute(params![
                    id,
                    FIRST_FILL_VENUE + i % FILL_VENUES,
                    &code_id[..],
                    at,
                    at + 4 * 3600,
                    format!("{id:0>22}"),
                ])?;
                if i % (rows / MATCHED_ROWS.min(rows)).max(1) == 0 {
                    matched.execute(params![id, format!("notice-{}", i % 50), at])?;
                }
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
}

/// `runs` timed purges of `rows` expired entries; writes the figure when `dir` is given.
fn purge(runtime: &tokio::runtime::Runtime, dir: Option<&Path>, rows: i64, runs: usize) {
    let now = unix_now();
    let home = Home::new(&SoftwareSigner::generate().unwrap(), now);
    // The purge is asked for a month ahead: cutoff = purge_now - 14 days = now + 16 days.
    let purge_now = now + 30 * DAY;
    let cutoff = purge_now - i64::from(RETENTION_DAYS) * DAY;
    // Entries within the retention at `purge_now`, made once; every purge keeps them.
    let kept = KEPT_ROWS.min(rows);
    {
        let store = home.store();
        store
            .write_blocking(move |tx| {
                tx.execute(
                    "INSERT INTO checkin_venues (id, agency, venue_id, name, address, kind)
                     VALUES (1, 'health-dept', 'clinic-1', 'Trạm y tế', '', 'venue')",
                    [],
                )?;
                for i in 0..kept {
                    let at = cutoff + 1 + i * 60;
                    tx.execute(
                        "INSERT INTO checkin_diary (id, venue, code_id, checked_in_at,
                             auto_checkout_at, ticket_key)
                         VALUES (?1, 1, ?2, ?3, ?4, ?5)",
                        params![
                            -1 - i,
                            (-1 - i).to_be_bytes().repeat(2),
                            at,
                            at + 3600,
                            format!("{i:0>22}")
                        ],
                    )?;
                }
                Ok::<_, StoreError>(())
            })
            .unwrap();
    }
    let mut cpu = Vec::with_capacity(runs);
    let mut wall = Vec::with_capacity(runs);
    let mut next_id = 1;
    for _ in 0..runs {
        // Not timed: fill the store alone, then open the `Citizen` on it.
        let store = home.store();
        fill(&store, rows, next_id, now);
        next_id += rows;
        drop(store);
        let citizen = home.open(runtime);
        let checkins = citizen.checkins();
        let started_wall = Instant::now();
        let started = process_cpu_time();
        let purged = runtime
            .block_on(checkins.purge_expired(black_box(purge_now)))
            .unwrap();
        cpu.push(process_cpu_time() - started);
        wall.push(started_wall.elapsed());
        assert_eq!(purged as i64, rows, "every expired entry is purged");
        let page = runtime.block_on(checkins.entries(None, 200, true)).unwrap();
        assert_eq!(page.entries.len() as i64, kept.min(200), "the rest is kept");
        drop(checkins);
        drop(citizen);
        // On this current-thread runtime the `Citizen`'s background tasks (the dossier sender,
        // aborted by the drop) only run, and let go of the store, inside `block_on`.
        runtime.block_on(async { tokio::time::sleep(Duration::from_millis(20)).await });
    }
    let median = |times: &mut Vec<Duration>| {
        times.sort();
        times[times.len() / 2].as_secs_f64() * 1e3
    };
    let (cpu_ms, wall_ms) = (median(&mut cpu), median(&mut wall));
    let name = PURGE_100K;
    println!(
        "{name:<28} {wall_ms:.1} ms (wall clock, median of {runs}; min {:.1}, max {:.1}), CPU {cpu_ms:.1} ms \
         (min {:.1}, max {:.1}); {rows} expired entries",
        wall[0].as_secs_f64() * 1e3,
        wall[runs - 1].as_secs_f64() * 1e3,
        cpu[0].as_secs_f64() * 1e3,
        cpu[runs - 1].as_secs_f64() * 1e3,
    );
    if let Some(dir) = dir {
        let figure = serde_json::json!({
            "name": name,
            "value": wall_ms,
            "unit": "ms",
            "clock": "wall clock",
            "cpu_ms": cpu_ms,
            "cpu_min_ms": cpu[0].as_secs_f64() * 1e3,
            "cpu_max_ms": cpu[runs - 1].as_secs_f64() * 1e3,
            "wall_min_ms": wall[0].as_secs_f64() * 1e3,
            "wall_max_ms": wall[runs - 1].as_secs_f64() * 1e3,
            "runs": runs,
            "purged_rows": rows,
            "kept_rows": kept,
        });
        interleaved::write_figure(dir, &figure).unwrap();
    }
}
