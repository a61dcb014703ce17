//! Types that keep secrets and personal data out of logs, errors and `Debug` output.
//!
//! Owns: the wrappers [`SecretBytes`] (key material, wiped on drop) and [`Personal`] (data about a
//! citizen). Both print as a fixed placeholder, so a stray `{:?}` or `tracing` field cannot leak
//! their contents. Does not own encryption: see `store` and `platform` for that.

use std::fmt;
use zeroize::Zeroizing;

/// Secret key material. Zeroed when dropped; prints only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The raw bytes. Callers must not log or persist them unsealed.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes([redacted; {} bytes])", self.0.len())
    }
}

/// Data about a citizen (names, identifiers, claims). Prints as a placeholder.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Personal<T>(T);

impl<T> Personal<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The value itself, for the code paths that must show or store it.
    pub fn expose(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Personal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Personal(<redacted>)")
    }
}

impl<T> fmt::Display for Personal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_contains_the_value() {
        let key = SecretBytes::new(b"very-secret-key-material".to_vec());
        let name = Personal::new("Nguyễn Văn An".to_string());
        let printed = format!("{key:?} {name:?} {name}");
        assert!(!printed.contains("very-secret"), "{printed}");
        assert!(!printed.contains("Nguyễn"), "{printed}");
        assert!(printed.contains("24 bytes"));
        assert_eq!(name.expose(), "Nguyễn Văn An");
    }
}
