//! Build script of citizen-core: an empty `libcrypto.a` on the link path.
//!
//! SQLCipher's crypto provider is Rust (`src/store/cipher.rs`), so nothing references OpenSSL.
//! But libsqlite3-sys's `bundled-sqlcipher` feature, when it neither vendors OpenSSL nor targets
//! Apple from a Mac (where it picks CommonCrypto), always asks the linker for `-lcrypto`. The
//! Android NDK has no libcrypto, so that request would fail the link there. This script answers
//! it on every target except Windows with an empty static archive: it satisfies `-lcrypto`
//! without adding a byte, and any OpenSSL symbol that did creep back in would fail to link the
//! test executables (undefined reference) instead of silently needing a system libcrypto.
//! The host likewise no longer links the system's `libcrypto.so`.

use std::path::PathBuf;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("windows") {
        return;
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let stub = out.join("no-openssl");
    std::fs::create_dir_all(&stub).expect("creating OUT_DIR/no-openssl");
    // The global header of an `ar` archive and nothing else: an archive with no members.
    std::fs::write(stub.join("libcrypto.a"), b"!<arch>\n").expect("writing the empty libcrypto.a");
    println!("cargo::rustc-link-search=native={}", stub.display());
}
