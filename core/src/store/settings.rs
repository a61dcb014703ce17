//! Per-connection performance settings of the store, shared with the benchmarks.
//!
//! Owns: the PRAGMAs that tune speed (page cache, temp storage, ...) and that do not change what
//! is stored or how safely. Does not own durability or safety settings (WAL, `synchronous`,
//! `secure_delete`, `foreign_keys`: see `store::configure`) nor the cipher settings, which are
//! fixed for a database's lifetime. The benchmark applies these same settings to the plain-SQLite
//! baseline so that `store.overhead` measures encryption, not tuning.
//!
//! # How the figures below were measured
//!
//! `cargo bench -p citizen-core --bench ratios -- --study` (SQLCipher 4.19.0 with the system
//! OpenSSL 3.0.19, x86-64 with AES-NI and SHA-NI, 2 cores shared with other builds). Every
//! figure is the median of 40 interleaved A/B pairs of process CPU time, with its interquartile
//! range; A is the workload on an encrypted connection opened as the store opens one, B the same
//! on plain SQLite with the same settings. The workload is `store.overhead`'s: create a table,
//! 10k rows (≈ 1.3 MB, 314 pages) inserted in one transaction, 10k point reads at strided ids, one
//! range scan.
//!
//! Where the encryption cost goes: SQLCipher encrypts a page when it writes it (to the WAL, at
//! commit) and decrypts it when it reads it from the file; pages in the page cache are plaintext.
//! In the workload every page is written once (316 WAL frames at the insert commit) and every
//! read hits the cache, so the overhead is the commit's page encryption: ≈ 14 µs per 4 KiB page
//! here (AES-256-CBC ≈ 3 µs, HMAC-SHA512 ≈ 6 µs, the rest per-page set-up in SQLCipher's OpenSSL
//! provider: a fresh cipher and MAC context and a random IV per page), ≈ 4.4 ms on ≈ 17.4 ms.
//! No per-connection setting changes that work, so none moves `store.overhead` (1.24-1.26) on
//! this workload; what the settings can change is how often pages are decrypted again.
//!
//! # Measured and chosen
//!
//! - `cache_size = -8192` (8 MiB, chosen): a read that misses the page cache costs the encrypted
//!   store a decryption and an HMAC check on top of the file read, so it needs its working set in
//!   the cache far more than plain SQLite does. On the 1.3 MB workload: SQLite's default 2000 KiB
//!   holds everything (1.259 → 1.246 with 8 MiB, within the noise); a 500 KiB cache makes the
//!   store 5.3 times slower than plain SQLite. On the same workload with 40k rows (≈ 5 MB): the
//!   default cache gives 4.90 (IQR 4.75-4.99), 4 MiB 2.41 (2.38-2.48), 8 MiB STORE_LARGE. The
//!   cache grows only as pages are used, so a small store pays nothing for the higher limit; the
//!   one store connection uses at most 8 MiB for it.
//!
//! # Measured and not chosen
//!
//! - `temp_store = MEMORY`: no effect (1.254 vs 1.259). SQLCipher refuses to compile without
//!   `SQLITE_TEMP_STORE` 2 or 3, so temporary tables and sort spills already stay in memory
//!   (`PRAGMA temp_store` reads 0, "default", which that build flag makes memory).
//! - `mmap_size`: SQLCipher accepts and reports it on an encrypted database but never reads pages
//!   through the map while a codec is attached (`setGetterMethod` in sqlite3.c requires
//!   `xCodec == 0`; the study checks `/proc/self/maps`: the encrypted file is not mapped, the
//!   plain one is). It could only speed up the plain baseline. Not set.
//! - Statement caching is not a connection setting: rusqlite's cache (16 statements per
//!   connection by default) serves `prepare_cached`. What matters is that hot statements use it:
//!   parsing a statement at every use (`execute`/`query_row` with SQL text) made the encrypted
//!   workload 2.1 times slower than `prepare_cached` (47.5 ms vs 23.0 ms for 20k statements,
//!   ≈ 1.2 µs per use); `prepare_cached` costs ≈ 0.1 µs per use over a statement prepared once.
//!   The ratio falls when statements are parsed each time (1.090) only because the shared work
//!   grows. The store runs fewer than 16 distinct statements today; raise the capacity with
//!   `Connection::set_prepared_statement_cache_capacity` if that changes.
//! - `locking_mode = EXCLUSIVE` (for the store's owner to decide, not a pure speed setting): the
//!   connection keeps its file locks instead of taking and releasing them around every
//!   transaction (2 `fcntl` calls per read). The encrypted workload ran in 0.689 of the time
//!   (13.6 ms vs 19.9 ms). It also speeds up the plain baseline, so `store.overhead` rises to
//!   1.395. It changes who may open the database while the store has it open (nobody else, not
//!   even a second connection of this process), which the store's directory lock already
//!   implies; before enabling it, check the key rotation's journal-mode switch and any test that
//!   opens the file beside a live store.
//!
//! # Cipher format (new databases only)
//!
//! These lower the per-page cost but fix the file format: they must be set between `PRAGMA key`
//! and the first access of a new database and repeated on every open, and an existing store
//! would need a migration (`ATTACH` a new database with the new settings, `sqlcipher_export`,
//! swap the files crash-safely). On the workload (plain SQLite given the same page size):
//! `cipher_page_size = 8192` 1.211, `16384` 1.187 (but every small write then encrypts 16 KiB);
//! `cipher_hmac_algorithm = HMAC_SHA256` 1.164 (still a 256-bit HMAC per page; faster where the
//! CPU has SHA-256 instructions, as phones' ARMv8 cores do); both 1.130. For attribution only:
//! without the per-page HMAC (`cipher_use_hmac = OFF`, which gives up tamper detection and is not
//! an option) 1.096. So `store.overhead` ≤ 1.10 is out of reach on this workload without
//! weakening the encryption; HMAC-SHA256 is the one format change worth considering.
//!
//! # `cipher_memory_security`
//!
//! SQLCipher's default here is OFF (`PRAGMA cipher_memory_security` reads 0 on a keyed
//! connection). ON makes SQLCipher's allocator wrapper `mlock` every SQLite allocation and
//! overwrite it with random bytes when it is freed, so decrypted pages and bound values do not
//! linger in freed memory or reach swap. SQLCipher's own key material is locked and wiped either
//! way. Measured as `store.memory_security_cost`: MEMSEC. It is process-wide (every SQLCipher
//! connection in the app, set by any connection) and cannot be turned off again once on; on
//! Android `mlock` is limited by `RLIMIT_MEMLOCK` (often 64 KiB), beyond which SQLCipher silently
//! skips the locking and keeps only the wiping. RECOMMENDATION

use rusqlite::Connection;

/// Applies the performance settings to an open (and, for SQLCipher, keyed) connection.
pub fn apply_performance_settings(conn: &Connection) -> rusqlite::Result<()> {
    // 8 MiB of page cache (negative = KiB, whatever the page size): see the module docs.
    conn.execute_batch("PRAGMA cache_size = -8192;")
}
