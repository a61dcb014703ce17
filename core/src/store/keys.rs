//! The database key and the files that hold it sealed.
//!
//! Owns: generating the random 32-byte data key, the on-disk format of the sealed key file
//! (`CZK1` + the sealer's output), and writing it atomically. Does not own sealing (the platform's
//! `SecretSealer` does that) nor deciding which key to try (see `store::open`).

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use super::StoreError;
use crate::platform::{sync_dir, write_private_file};
use crate::secret::SecretBytes;

const KEY_FILE_MAGIC: &[u8; 4] = b"CZK1";
pub(crate) const DATA_KEY_LEN: usize = 32;

/// Where a store's files live inside its data directory.
#[derive(Debug, Clone)]
pub struct StorePaths {
    pub dir: PathBuf,
    pub db: PathBuf,
    /// The sealed key the database is encrypted with.
    pub key: PathBuf,
    /// The sealed new key while a rotation is under way.
    pub next_key: PathBuf,
}

impl StorePaths {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            db: dir.join("citizen.db"),
            key: dir.join("citizen.db.key"),
            next_key: dir.join("citizen.db.key.next"),
        }
    }

    /// The database plus the files SQLite keeps beside it.
    pub fn database_files(&self) -> Vec<PathBuf> {
        ["", "-wal", "-shm", "-journal"]
            .iter()
            .map(|suffix| {
                let mut name = self.db.clone().into_os_string();
                name.push(suffix);
                PathBuf::from(name)
            })
            .collect()
    }
}

/// The raw SQLCipher key. Never leaves the core unsealed.
#[derive(Debug)]
pub(crate) struct DataKey(SecretBytes);

impl DataKey {
    pub(crate) fn generate() -> Result<Self, StoreError> {
        let mut bytes = vec![0u8; DATA_KEY_LEN];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| StoreError::Randomness)?;
        Ok(Self(SecretBytes::new(bytes)))
    }

    pub(crate) fn from_unsealed(secret: SecretBytes) -> Result<Self, StoreError> {
        if secret.len() != DATA_KEY_LEN {
            return Err(StoreError::KeyFileCorrupt);
        }
        Ok(Self(secret))
    }

    pub(crate) fn secret(&self) -> &SecretBytes {
        &self.0
    }

    /// A `PRAGMA key` / `PRAGMA rekey` statement with the raw key, so SQLCipher skips its
    /// passphrase KDF (the key is already random).
    pub(crate) fn pragma(&self, pragma: &str) -> Zeroizing<String> {
        // Sized exactly: a String that grows reallocates and leaves the earlier copy of the key
        // hex in freed memory, out of reach of the zeroizing drop.
        const PREFIX: &str = "PRAGMA ";
        const OPEN: &str = " = \"x'";
        const CLOSE: &str = "'\";";
        let capacity = PREFIX.len() + pragma.len() + OPEN.len() + 2 * self.0.len() + CLOSE.len();
        let mut statement = Zeroizing::new(String::with_capacity(capacity));
        statement.push_str(PREFIX);
        statement.push_str(pragma);
        statement.push_str(OPEN);
        for byte in self.0.expose() {
            statement.push(char::from_digit((byte >> 4) as u32, 16).unwrap_or('0'));
            statement.push(char::from_digit((byte & 0xf) as u32, 16).unwrap_or('0'));
        }
        statement.push_str(CLOSE);
        debug_assert_eq!(statement.len(), capacity);
        statement
    }
}

/// Reads a sealed key file; `None` when there is none.
pub(crate) fn read_sealed(path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
    match fs::read(path) {
        Ok(bytes) => match bytes.strip_prefix(KEY_FILE_MAGIC) {
            Some(sealed) if !sealed.is_empty() => Ok(Some(sealed.to_vec())),
            _ => Err(StoreError::KeyFileCorrupt),
        },
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::io("reading the key file", e)),
    }
}

pub(crate) fn write_sealed(path: &Path, sealed: &[u8]) -> Result<(), StoreError> {
    let mut bytes = Vec::with_capacity(KEY_FILE_MAGIC.len() + sealed.len());
    bytes.extend_from_slice(KEY_FILE_MAGIC);
    bytes.extend_from_slice(sealed);
    write_private_file(path, &bytes).map_err(|e| StoreError::io("writing the key file", e))
}

/// Makes the rotation's new key the current one, atomically.
pub(crate) fn promote_next(paths: &StorePaths) -> Result<(), StoreError> {
    fs::rename(&paths.next_key, &paths.key)
        .and_then(|()| sync_dir(&paths.key))
        .map_err(|e| StoreError::io("promoting the rotated key", e))
}

pub(crate) fn remove_if_present(path: &Path) -> Result<(), StoreError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::io("removing a store file", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pragma_holds_the_key_as_raw_hex() {
        let key = DataKey::from_unsealed(SecretBytes::new((0u8..32).collect())).unwrap();
        let pragma = key.pragma("key");
        assert_eq!(
            pragma.as_str(),
            "PRAGMA key = \"x'000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'\";"
        );
        assert!(!format!("{key:?}").contains("0102"));
        // Built in place, never reallocated: no copy of the key hex is left in freed memory.
        for name in ["key", "rekey"] {
            let statement = key.pragma(name);
            assert_eq!(statement.capacity(), statement.len(), "{name}");
        }
    }

    #[test]
    fn key_file_format_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        assert!(read_sealed(&path).unwrap().is_none());
        write_sealed(&path, b"sealed").unwrap();
        assert_eq!(read_sealed(&path).unwrap().unwrap(), b"sealed");
        fs::write(&path, b"XXXXsealed").unwrap();
        assert!(matches!(
            read_sealed(&path),
            Err(StoreError::KeyFileCorrupt)
        ));
        fs::write(&path, b"CZK1").unwrap();
        assert!(matches!(
            read_sealed(&path),
            Err(StoreError::KeyFileCorrupt)
        ));
        assert!(DataKey::from_unsealed(SecretBytes::new(vec![1; 16])).is_err());
    }
}
