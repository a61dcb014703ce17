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
//! OpenSSL 3.0.19; x86-64 with AES-NI and SHA-NI; 2 cores shared with other builds, load 3-4).
//! Each figure is the median of 40 interleaved A/B pairs of process CPU time, with its
//! interquartile range; A is the workload on an encrypted connection opened as the store opens
//! one (it measures 1.008 of the real store), B the same workload on plain SQLite with the same
//! settings. The workload is `store.overhead`'s: create a table, insert 10k rows (≈ 1.3 MB, 314
//! pages) in one transaction, 10k point reads at strided ids, one range scan. The same
//! configuration measured 1.244 and 1.259 in two study runs: differences under ≈ 0.02 are noise.
//! The figure itself (`cargo xtask bench`, 100 pairs) read 1.266 to 1.271 in five runs with these
//! settings, at loads from 1 to 4.
//!
//! Where the encryption cost goes: SQLCipher encrypts a page when it writes it (to the WAL, at
//! commit) and decrypts it when it reads it from the file; pages in the page cache are plaintext.
//! In the workload every page is written once (316 WAL frames at the insert commit) and every read
//! hits the cache, so the overhead is the commit's page encryption: ≈ 14 µs per 4 KiB page here
//! (AES-256-CBC ≈ 3 µs, HMAC-SHA512 ≈ 6 µs, the rest per-page set-up in SQLCipher's OpenSSL
//! provider: new cipher and MAC contexts and a random IV for every page), ≈ 4.4 ms on ≈ 17 ms.
//! The system calls of both sides are the same (`strace -c`). No per-connection setting changes
//! that work, so none brings `store.overhead` below ≈ 1.24 on this workload; what settings can
//! change is how often pages have to be decrypted again. OpenSSL 3.6.3 (the version built for the
//! phones) gives the same picture on this machine: 1.21-1.23. (These figures were measured with
//! OpenSSL as SQLCipher's crypto provider. With the Rust provider that replaced it, `store::cipher`,
//! the per-page set-up is gone and `store.overhead` read 1.203 (IQR 1.181-1.231) and, with the
//! key schedule wiped after each page, 1.216 (1.185-1.244), against 1.250 for OpenSSL in runs
//! on the same day; see docs/size.md.)
//!
//! # Chosen
//!
//! - `cache_size = -8192` (8 MiB): a read that misses the page cache costs the encrypted store a
//!   decryption and an HMAC check on top of the file read, so it needs its working set in the
//!   cache far more than plain SQLite does. On the 1.3 MB workload SQLite's default 2000 KiB
//!   already holds everything: 1.244 (IQR 1.230-1.262) without, 1.236 (1.218-1.251) with; a
//!   500 KiB cache makes the store 5.40 times slower than plain SQLite. On the same workload with
//!   40k rows (≈ 5 MB): the default cache gives 4.85 (4.79-4.90), 4 MiB 2.39 (2.35-2.45), 8 MiB
//!   1.21 (1.19-1.22), the encrypted run taking 99 ms instead of 504 ms. The cache grows only as
//!   pages are used, so a small store pays nothing for the limit; the store's one connection uses
//!   at most 8 MiB for it.
//!
//! # Measured, not chosen
//!
//! - `temp_store = MEMORY`: no effect (1.241 vs 1.244). SQLCipher refuses to compile without
//!   `SQLITE_TEMP_STORE` 2 or 3, so temporary tables and sort spills already stay in memory
//!   (`PRAGMA temp_store` reads 0, "default", which that build flag makes memory).
//! - `mmap_size`: SQLCipher accepts and reports it on an encrypted database but never reads pages
//!   through the map while a codec is attached (`setGetterMethod` in sqlite3.c requires
//!   `xCodec == 0`). Checked in `/proc/self/maps` after reading an existing database with
//!   `mmap_size = 256 MiB`: the plain file is mapped, the encrypted one is not. It could only
//!   speed up the plain baseline (1.236, noise). Not set.
//! - Statement caching is not a connection setting: rusqlite's per-connection cache (16
//!   statements by default) serves `prepare_cached`. What matters is that repeated statements
//!   use it: parsing the SQL at every use (`execute`/`query_row` with SQL text) made the encrypted
//!   workload twice as slow as `prepare_cached` (49.2 ms vs 24.3 ms for 20k statements, ≈ 1.2 µs
//!   per use), and `prepare_cached` costs ≈ 0.18 µs per use over a statement prepared once. The
//!   ratio falls when statements are parsed each time (1.102) only because the shared work grows.
//!   The store has fewer than 16 distinct hot statements today; raise the capacity with
//!   `Connection::set_prepared_statement_cache_capacity` when that changes.
//! - `locking_mode = EXCLUSIVE` (for the store's owner: it is not a pure speed setting): the
//!   connection keeps its file locks instead of taking and releasing them around every
//!   transaction (2 `fcntl` calls per read). The encrypted workload ran in 0.713 (0.692-0.725) of
//!   the time, 16.4 ms vs 23.1 ms. It speeds up the plain baseline as much, so `store.overhead`
//!   would rise to 1.380. It means nobody else can open the database while the store has it, not
//!   even a second connection of this process, which the store's directory lock already implies;
//!   before enabling it, check the key rotation's journal-mode switch and any test that opens the
//!   file beside a live store.
//!
//! # Cipher format (new databases only)
//!
//! These lower the per-page cost but fix the file format: they must be set between `PRAGMA key`
//! and the first access of a new database and repeated on every open, and an existing store needs
//! a migration (`ATTACH` a new database with the new settings, `SELECT sqlcipher_export(...)`,
//! swap the files crash-safely). Plain SQLite given the same page size: `cipher_page_size = 8192`
//! 1.201, `16384` 1.204 (1.187 in another run; every small write then encrypts 16 KiB);
//! `cipher_hmac_algorithm = HMAC_SHA256` 1.174 (still a 256-bit HMAC per page; faster wherever
//! the CPU has SHA-256 instructions, as ARMv8 phones do); HMAC-SHA256 with 16 KiB pages 1.129.
//! For attribution only: without the per-page HMAC (`cipher_use_hmac = OFF`, which gives up
//! tamper detection and is not an option) 1.088. So `store.overhead` ≤ 1.10 is out of reach on
//! this workload without weakening the encryption; HMAC-SHA256 is the format change worth
//! considering if the figure matters more than the migration.
//!
//! # `cipher_memory_security`
//!
//! SQLCipher's default is OFF (`PRAGMA cipher_memory_security` reads 0 on a keyed connection).
//! ON makes SQLCipher's allocator wrapper `mlock` every SQLite allocation and overwrite it with
//! random bytes when it is freed, so decrypted pages, statement buffers and bound values do not
//! linger in freed memory or reach swap. SQLCipher's own key material is locked and wiped either
//! way. It is process-wide (any connection sets it for every connection of this SQLCipher copy)
//! and cannot be turned off again. Measured as `store.memory_security_cost` (the store workload
//! with it ON over OFF, one child process per run): 1.023 to 1.035 in five runs, e.g. 1.033
//! (IQR 1.021-1.039); about 500 `mlock`/`munlock` pairs per run. Measured as root, where every
//! `mlock` succeeds; where `RLIMIT_MEMLOCK` is low, the locking half fails (SQLCipher logs it at
//! INFO and carries on) while the wiping half still works.
//!
//! Since the dossier outbox (issue 9), SQLCipher is compiled with `OMIT_MEMLOCK`
//! (`LIBSQLITE3_FLAGS` in `.cargo/config.toml`): the wiping half stays, the locking half goes.
//! Profiled in `outbox.drain_ratio` (many small transactions), the `mlock`/`munlock` system call
//! per allocation was about 60 % of the store thread's time and the figure 0.78; without it 0.92.
//! Locking protects against swap, which phones do not write to disk (Android's zram is memory;
//! iOS has none), and Android lets an app lock 64 KB, so the calls mostly failed there anyway.
//! SQLCipher's key material is wiped as before; it is no longer locked either.
//!
//! Chosen: ON (set in `store::connect` before `PRAGMA key`). For 2-3% of the store's CPU time, freed buffers that held citizens'
//! decrypted data are overwritten rather than left for a later memory-disclosure bug, a crash
//! dump or swap to find. It does not protect data in use (whoever can read the process's memory
//! reads the live page cache), and being process-wide and one-way is harmless for the SDK's own
//! bundled SQLCipher, whose only user is the store. `store.open_ms` with it on: see the closing
//! note of the foundation-repairs issue and `cargo xtask bench`.

use rusqlite::Connection;

/// Applies the performance settings to an open (and, for SQLCipher, keyed) connection.
pub fn apply_performance_settings(conn: &Connection) -> rusqlite::Result<()> {
    // 8 MiB of page cache (negative = KiB, whatever the page size): see the module docs.
    conn.execute_batch("PRAGMA cache_size = -8192;")
}
