//! The advisory lock that keeps one open store per data directory.
//!
//! Owns: `citizen.lock` in the data directory, locked exclusively (`flock` on Unix, `LockFileEx`
//! on Windows) for as long as a store has the directory open or a wipe is under way. Two opens in
//! one process conflict too, since each takes its own lock on its own file handle. The lock dies
//! with the process, so a crash never leaves a directory locked. A held lock is retried for half
//! a second before the directory counts as in use (see [`DirLock::acquire`]). Does not own
//! anything else.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use super::StoreError;

pub(crate) const LOCK_FILE: &str = "citizen.lock";

/// How long a held lock is retried before the directory counts as in use.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_millis(500);

#[derive(Debug)]
pub(crate) struct DirLock {
    file: File,
    path: PathBuf,
}

impl DirLock {
    /// Takes the lock of `dir` (which must exist) or fails with [`StoreError::InUse`] at once.
    pub(crate) fn acquire(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError::io("opening the lock file", e))?;
        // A lock can outlive its owner for a moment: a process that forks (to start a child)
        // shares the lock until the child's exec closes its copy of the descriptor, and a store
        // dropped on another thread releases it only when its thread has closed the database.
        // So a refusal is confirmed over a short wait before it is reported.
        let started = std::time::Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Self { file, path }),
                Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < LOCK_PATIENCE => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(std::fs::TryLockError::WouldBlock) => return Err(StoreError::InUse),
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(StoreError::io("locking the data directory", e));
                }
            }
        }
    }

    /// Deletes the lock file, then releases the lock (a wipe leaves an empty directory).
    pub(crate) fn remove(self) -> Result<(), StoreError> {
        let removed = std::fs::remove_file(&self.path);
        drop(self.file);
        match removed {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::io("removing the lock file", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_directory_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(dir.path()).unwrap();
        assert!(matches!(
            DirLock::acquire(dir.path()),
            Err(StoreError::InUse)
        ));
        drop(first);
        let again = DirLock::acquire(dir.path()).unwrap();
        again.remove().unwrap();
        assert!(!dir.path().join(LOCK_FILE).exists());
    }
}
