//! `cargo xtask soak [KILLS]`: the dossier crash test at length. Runs `tests/dossier_crash.rs`
//! with `CITIZEN_CRASH_KILLS` (1,000 by default; `cargo xtask test` runs it with its own 50):
//! a child process filing and sending dossiers is killed with SIGKILL that many times at random
//! points, and the portal must hold each dossier exactly once. The test prints
//! `kills=N lost=L duplicated=D`.
//!
//! Owns: the command line only. Does not own the test.

use crate::util::{self, Result};

/// The kills of a soak run unless told otherwise (issue 9).
pub const DEFAULT_KILLS: u32 = 1_000;

pub fn run(kills: Option<&String>) -> Result<()> {
    let kills: u32 = match kills {
        Some(text) => text
            .parse()
            .map_err(|_| format!("not a number of kills: {text}"))?,
        None => DEFAULT_KILLS,
    };
    util::step(&format!("soak: the dossier crash test with {kills} kills"));
    util::run(
        util::cargo()
            .args(["test", "-p", "citizen-e2e", "--test", "dossier_crash"])
            .args(["--", "--nocapture"])
            .env("CITIZEN_CRASH_KILLS", kills.to_string()),
    )
}
