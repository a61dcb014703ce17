//! SQLCipher's crypto provider, in Rust: AES-256-CBC from RustCrypto's `aes` and `cbc`, HMAC,
//! PBKDF2 and random bytes from `ring`.
//!
//! Owns: the `sqlcipher_provider` table SQLCipher calls for every page it encrypts, decrypts or
//! authenticates, and the one setup function SQLCipher is compiled to call for it
//! (`-DSQLCIPHER_CRYPTO_CUSTOM=citizen_sqlcipher_provider_setup` in `LIBSQLITE3_FLAGS`,
//! `.cargo/config.toml`). Does not own the file format: SQLCipher keeps deciding what is
//! encrypted, authenticated and derived (SQLCipher 4 defaults: AES-256-CBC, HMAC-SHA512 over each
//! page, PBKDF2-HMAC-SHA512), so databases stay readable by any standard SQLCipher 4 build.
//!
//! Why: SQLCipher's default provider is OpenSSL, and OpenSSL's libcrypto was 3.1 MB of the 9 MB
//! phone library for four primitives. `aes` uses AES-NI on x86 and the ARMv8 crypto extensions
//! (detected at run time, constant-time fixsliced software otherwise); `ring` is already linked
//! for TLS and brings its own assembly for SHA-2. See docs/size.md and docs/ARCHITECTURE.md.
//!
//! On Apple targets built on a Mac, libsqlite3-sys also defines `SQLCIPHER_CRYPTO_CC`, which
//! SQLCipher's `#if` chain checks first: iOS keeps CommonCrypto (the system's own, hardware
//! backed, no code in the library) and this table is never registered there.
//!
//! Key material: SQLCipher keeps its keys in its own locked, wiped memory and passes them in for
//! each call. The AES key schedule built here is wiped when the call ends (`aes`'s `zeroize`);
//! ring's HMAC and PBKDF2 states are not (ring offers no wiping), so their key-derived pads stay
//! on the calling thread's stack until overwritten, as with any ring HMAC key.
//!
//! Every function here is called by C with raw pointers. The rules: each checks its sizes and
//! pointers before making a slice, never panics across the boundary (a panic becomes
//! `SQLITE_ERROR`), and reports failure with `SQLITE_ERROR`, which SQLCipher turns into a failed
//! page read or write.

use std::ffi::{c_char, c_int, c_void};
use std::num::NonZeroU32;
use std::panic::{AssertUnwindSafe, catch_unwind};

use aes::Aes256;
use cbc::cipher::{Array, BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use ring::rand::{SecureRandom, SystemRandom};
use ring::{hmac, pbkdf2};

const SQLITE_OK: c_int = 0;
const SQLITE_ERROR: c_int = 1;

/// `SQLCIPHER_ENCRYPT` and `SQLCIPHER_DECRYPT`.
const ENCRYPT: c_int = 1;
const DECRYPT: c_int = 0;
/// `SQLCIPHER_HMAC_SHA1` / `_SHA256` / `_SHA512`; the `SQLCIPHER_PBKDF2_HMAC_*` values are the same.
const SHA1: c_int = 0;
const SHA256: c_int = 1;
const SHA512: c_int = 2;

const KEY_LEN: usize = 32;
const BLOCK_LEN: usize = 16;

/// `struct sqlcipher_provider` of SQLCipher 4 (`sqlcipher.h`), field for field.
#[repr(C)]
pub struct SqlcipherProvider {
    init: Option<unsafe extern "C" fn() -> c_int>,
    shutdown: Option<unsafe extern "C" fn()>,
    get_provider_name: Option<unsafe extern "C" fn(*mut c_void) -> *const c_char>,
    add_random: Option<unsafe extern "C" fn(*mut c_void, *const c_void, c_int) -> c_int>,
    random: Option<unsafe extern "C" fn(*mut c_void, *mut c_void, c_int) -> c_int>,
    hmac: Option<
        unsafe extern "C" fn(
            *mut c_void,
            c_int,
            *const u8,
            c_int,
            *const u8,
            c_int,
            *const u8,
            c_int,
            *mut u8,
        ) -> c_int,
    >,
    kdf: Option<
        unsafe extern "C" fn(
            *mut c_void,
            c_int,
            *const u8,
            c_int,
            *const u8,
            c_int,
            c_int,
            c_int,
            *mut u8,
        ) -> c_int,
    >,
    cipher: Option<
        unsafe extern "C" fn(
            *mut c_void,
            c_int,
            *const u8,
            c_int,
            *const u8,
            *const u8,
            c_int,
            *mut u8,
        ) -> c_int,
    >,
    get_cipher: Option<unsafe extern "C" fn(*mut c_void) -> *const c_char>,
    get_key_sz: Option<unsafe extern "C" fn(*mut c_void) -> c_int>,
    get_iv_sz: Option<unsafe extern "C" fn(*mut c_void) -> c_int>,
    get_block_sz: Option<unsafe extern "C" fn(*mut c_void) -> c_int>,
    get_hmac_sz: Option<unsafe extern "C" fn(*mut c_void, c_int) -> c_int>,
    ctx_init: Option<unsafe extern "C" fn(*mut *mut c_void) -> c_int>,
    ctx_free: Option<unsafe extern "C" fn(*mut *mut c_void) -> c_int>,
    fips_status: Option<unsafe extern "C" fn(*mut c_void) -> c_int>,
    get_provider_version: Option<unsafe extern "C" fn(*mut c_void) -> *const c_char>,
    next: *mut SqlcipherProvider,
}

/// Called once by SQLCipher (`sqlcipher_extra_init`, when SQLite initialises) to fill the table
/// it then registers as its default provider.
///
/// # Safety
/// `provider` must point to a writable `sqlcipher_provider`, as SQLCipher passes it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn citizen_sqlcipher_provider_setup(
    provider: *mut SqlcipherProvider,
) -> c_int {
    if provider.is_null() {
        return SQLITE_ERROR;
    }
    // SAFETY: SQLCipher passes a valid, aligned, writable provider it has just allocated; only
    // its function pointers are written, `next` (SQLCipher's own list link) is left alone.
    let provider = unsafe { &mut *provider };
    provider.init = None;
    provider.shutdown = None;
    provider.get_provider_name = Some(provider_name);
    provider.add_random = Some(add_random);
    provider.random = Some(random);
    provider.hmac = Some(hmac);
    provider.kdf = Some(kdf);
    provider.cipher = Some(cipher);
    provider.get_cipher = Some(cipher_name);
    provider.get_key_sz = Some(key_size);
    provider.get_iv_sz = Some(block_size);
    provider.get_block_sz = Some(block_size);
    provider.get_hmac_sz = Some(hmac_size);
    provider.ctx_init = Some(ctx_init);
    provider.ctx_free = Some(ctx_free);
    provider.fips_status = Some(fips_status);
    provider.get_provider_version = Some(provider_version);
    SQLITE_OK
}

/// Makes sure the linker keeps the setup function: SQLCipher's C code refers to it, but C archives
/// come after this crate on the link line, so a Rust reference must pull its object in first.
pub(super) fn ensure_linked() {
    let setup: unsafe extern "C" fn(*mut SqlcipherProvider) -> c_int =
        citizen_sqlcipher_provider_setup;
    std::hint::black_box(setup);
}

/// Runs `body`, turning a failure or a panic into `SQLITE_ERROR`: no panic may unwind into C.
fn guarded(body: impl FnOnce() -> Result<(), ()>) -> c_int {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => SQLITE_OK,
        _ => SQLITE_ERROR,
    }
}

/// A byte slice from a C pointer and length; `None` for a negative length or a null pointer with
/// a non-zero length.
///
/// # Safety
/// When non-null, `ptr` must be valid for reads of `len` bytes for `'a`.
unsafe fn input<'a>(ptr: *const u8, len: c_int) -> Option<&'a [u8]> {
    let len = usize::try_from(len).ok()?;
    if len == 0 {
        return Some(&[]);
    }
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-null and, by the caller's contract, valid for `len` bytes.
    Some(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A writable byte slice from a C pointer and length, under the same rules as [`input`].
///
/// # Safety
/// When non-null, `ptr` must be valid for writes of `len` bytes for `'a` and not aliased.
unsafe fn output<'a>(ptr: *mut u8, len: usize) -> Option<&'a mut [u8]> {
    if len == 0 {
        return Some(&mut []);
    }
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-null and, by the caller's contract, valid and exclusive for `len` bytes.
    Some(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
}

unsafe extern "C" fn provider_name(_ctx: *mut c_void) -> *const c_char {
    c"citizen-rust".as_ptr()
}

unsafe extern "C" fn provider_version(_ctx: *mut c_void) -> *const c_char {
    c"aes 0.9 + cbc 0.2 (AES-256-CBC), ring 0.17 (HMAC, PBKDF2, random)".as_ptr()
}

unsafe extern "C" fn cipher_name(_ctx: *mut c_void) -> *const c_char {
    c"aes-256-cbc".as_ptr()
}

unsafe extern "C" fn key_size(_ctx: *mut c_void) -> c_int {
    KEY_LEN as c_int
}

unsafe extern "C" fn block_size(_ctx: *mut c_void) -> c_int {
    BLOCK_LEN as c_int
}

unsafe extern "C" fn hmac_size(_ctx: *mut c_void, algorithm: c_int) -> c_int {
    hmac_algorithm(algorithm).map_or(0, |a| a.digest_algorithm().output_len() as c_int)
}

/// The provider keeps no per-connection state: every call is self-contained.
unsafe extern "C" fn ctx_init(ctx: *mut *mut c_void) -> c_int {
    if !ctx.is_null() {
        // SAFETY: SQLCipher passes the address of its context pointer.
        unsafe { *ctx = std::ptr::null_mut() };
    }
    SQLITE_OK
}

unsafe extern "C" fn ctx_free(_ctx: *mut *mut c_void) -> c_int {
    SQLITE_OK
}

unsafe extern "C" fn fips_status(_ctx: *mut c_void) -> c_int {
    0
}

/// `PRAGMA cipher_add_random`: the operating system's generator needs no seeding, so the bytes
/// are accepted and not used.
unsafe extern "C" fn add_random(_ctx: *mut c_void, _buffer: *const c_void, length: c_int) -> c_int {
    if length < 0 { SQLITE_ERROR } else { SQLITE_OK }
}

/// Random bytes from the operating system (`getrandom` on Linux and Android): page IVs, salts.
unsafe extern "C" fn random(_ctx: *mut c_void, buffer: *mut c_void, length: c_int) -> c_int {
    guarded(|| {
        let len = usize::try_from(length).map_err(drop)?;
        // SAFETY: SQLCipher passes a buffer it owns of `length` bytes.
        let out = unsafe { output(buffer.cast(), len) }.ok_or(())?;
        SystemRandom::new().fill(out).map_err(drop)
    })
}

fn hmac_algorithm(algorithm: c_int) -> Option<hmac::Algorithm> {
    match algorithm {
        SHA1 => Some(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY),
        SHA256 => Some(hmac::HMAC_SHA256),
        SHA512 => Some(hmac::HMAC_SHA512),
        _ => None,
    }
}

/// HMAC of `in` followed by `in2` (the page number, when SQLCipher authenticates a page),
/// written to `out`, which has room for the algorithm's output.
#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn hmac(
    _ctx: *mut c_void,
    algorithm: c_int,
    key: *const u8,
    key_len: c_int,
    data: *const u8,
    data_len: c_int,
    data2: *const u8,
    data2_len: c_int,
    out: *mut u8,
) -> c_int {
    guarded(|| {
        let algorithm = hmac_algorithm(algorithm).ok_or(())?;
        if data.is_null() {
            return Err(());
        }
        // SAFETY: SQLCipher passes its key and page buffers with their lengths; `data2` may be
        // null (then it is not part of the MAC), and `out` has room for the algorithm's output.
        let (key, data, out) = unsafe {
            (
                input(key, key_len).ok_or(())?,
                input(data, data_len).ok_or(())?,
                output(out, algorithm.digest_algorithm().output_len()).ok_or(())?,
            )
        };
        let key = hmac::Key::new(algorithm, key);
        let mut context = hmac::Context::with_key(&key);
        context.update(data);
        if !data2.is_null() {
            // SAFETY: as above; non-null here.
            context.update(unsafe { input(data2, data2_len) }.ok_or(())?);
        }
        out.copy_from_slice(context.sign().as_ref());
        Ok(())
    })
}

/// PBKDF2-HMAC: derives the key from a passphrase (SQLCipher's passphrase mode), and the page
/// HMAC key from the encryption key (every mode, including the raw keys the store uses).
#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn kdf(
    _ctx: *mut c_void,
    algorithm: c_int,
    pass: *const u8,
    pass_len: c_int,
    salt: *const u8,
    salt_len: c_int,
    iterations: c_int,
    key_len: c_int,
    key: *mut u8,
) -> c_int {
    guarded(|| {
        let algorithm = match algorithm {
            SHA1 => pbkdf2::PBKDF2_HMAC_SHA1,
            SHA256 => pbkdf2::PBKDF2_HMAC_SHA256,
            SHA512 => pbkdf2::PBKDF2_HMAC_SHA512,
            _ => return Err(()),
        };
        let iterations = u32::try_from(iterations)
            .ok()
            .and_then(NonZeroU32::new)
            .ok_or(())?;
        let key_len = usize::try_from(key_len).map_err(drop)?;
        if key_len == 0 {
            return Err(());
        }
        // SAFETY: SQLCipher passes the passphrase (or key) and salt with their lengths and an
        // output buffer of `key_len` bytes.
        let (pass, salt, key) = unsafe {
            (
                input(pass, pass_len).ok_or(())?,
                input(salt, salt_len).ok_or(())?,
                output(key, key_len).ok_or(())?,
            )
        };
        pbkdf2::derive(algorithm, iterations, salt, pass, key);
        Ok(())
    })
}

/// AES-256-CBC without padding over `len` bytes (a whole number of blocks) from `data` to `out`,
/// with the 16-byte `iv`. SQLCipher passes two distinct buffers; the same buffer for both is
/// handled in place, and a partial overlap is refused.
#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn cipher(
    _ctx: *mut c_void,
    mode: c_int,
    key: *const u8,
    key_len: c_int,
    iv: *const u8,
    data: *const u8,
    len: c_int,
    out: *mut u8,
) -> c_int {
    guarded(|| {
        let len = usize::try_from(len).map_err(drop)?;
        let valid_mode = mode == ENCRYPT || mode == DECRYPT;
        if !valid_mode || key_len != KEY_LEN as c_int || len % BLOCK_LEN != 0 {
            return Err(());
        }
        if data.is_null() || out.is_null() {
            return Err(());
        }
        // SAFETY: SQLCipher passes a key of `key_len` (checked: 32) bytes and an IV of the size
        // `get_iv_sz` reported (16).
        let (key, iv) = unsafe {
            (
                input(key, key_len).ok_or(())?,
                input(iv, BLOCK_LEN as c_int).ok_or(())?,
            )
        };
        let key = <&[u8; KEY_LEN]>::try_from(key).map_err(drop)?;
        let iv = <&[u8; BLOCK_LEN]>::try_from(iv).map_err(drop)?;
        let (start, end) = (data as usize, data as usize + len);
        let (out_start, out_end) = (out as usize, out as usize + len);
        if data.cast_mut() == out {
            // SAFETY: one buffer of `len` bytes, read and written only through this slice.
            let buffer = unsafe { output(out, len) }.ok_or(())?;
            let (blocks, rest) = Array::slice_as_chunks_mut(buffer);
            debug_assert!(rest.is_empty());
            if mode == ENCRYPT {
                cbc::Encryptor::<Aes256>::new(key.into(), iv.into()).encrypt_blocks(blocks);
            } else {
                cbc::Decryptor::<Aes256>::new(key.into(), iv.into()).decrypt_blocks(blocks);
            }
        } else if end <= out_start || out_end <= start {
            // SAFETY: two buffers of `len` bytes that do not overlap (checked above): one only
            // read, the other only written.
            let (data, out) = unsafe {
                (
                    input(data, len as c_int).ok_or(())?,
                    output(out, len).ok_or(())?,
                )
            };
            let (in_blocks, _) = Array::slice_as_chunks(data);
            let (out_blocks, _) = Array::slice_as_chunks_mut(out);
            if mode == ENCRYPT {
                cbc::Encryptor::<Aes256>::new(key.into(), iv.into())
                    .encrypt_blocks_b2b(in_blocks, out_blocks)
                    .map_err(drop)?;
            } else {
                cbc::Decryptor::<Aes256>::new(key.into(), iv.into())
                    .decrypt_blocks_b2b(in_blocks, out_blocks)
                    .map_err(drop)?;
            }
        } else {
            return Err(());
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> SqlcipherProvider {
        let mut provider = SqlcipherProvider {
            init: None,
            shutdown: None,
            get_provider_name: None,
            add_random: None,
            random: None,
            hmac: None,
            kdf: None,
            cipher: None,
            get_cipher: None,
            get_key_sz: None,
            get_iv_sz: None,
            get_block_sz: None,
            get_hmac_sz: None,
            ctx_init: None,
            ctx_free: None,
            fips_status: None,
            get_provider_version: None,
            next: std::ptr::null_mut(),
        };
        // SAFETY: a valid, writable provider on the stack.
        assert_eq!(
            unsafe { citizen_sqlcipher_provider_setup(&mut provider) },
            SQLITE_OK
        );
        provider
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// One call of the provider's `cipher` on `data` (with `len` and `key_len` as given).
    fn run_cipher(
        mode: c_int,
        key: &[u8],
        key_len: c_int,
        data: &[u8],
        len: c_int,
    ) -> (c_int, Vec<u8>) {
        let iv = hex("000102030405060708090a0b0c0d0e0f");
        let mut out = vec![0u8; data.len()];
        // SAFETY: buffers at least as long as the lengths passed.
        let rc = unsafe {
            cipher(
                std::ptr::null_mut(),
                mode,
                key.as_ptr(),
                key_len,
                iv.as_ptr(),
                data.as_ptr(),
                len,
                out.as_mut_ptr(),
            )
        };
        (rc, out)
    }

    /// NIST SP 800-38A F.2.5/F.2.6 (CBC-AES256), the first two blocks.
    #[test]
    fn aes_256_cbc_matches_the_nist_vectors_both_ways_and_in_place() {
        let key = hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
        let plain = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
        let expected = hex("f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d");
        assert_eq!(
            run_cipher(ENCRYPT, &key, 32, &plain, 32),
            (SQLITE_OK, expected.clone())
        );
        assert_eq!(
            run_cipher(DECRYPT, &key, 32, &expected, 32),
            (SQLITE_OK, plain.clone())
        );
        // In place (the same buffer for input and output).
        let iv = hex("000102030405060708090a0b0c0d0e0f");
        let mut buffer = expected.clone();
        let ptr = buffer.as_mut_ptr();
        // SAFETY: one buffer of 32 bytes.
        let rc = unsafe {
            cipher(
                std::ptr::null_mut(),
                DECRYPT,
                key.as_ptr(),
                32,
                iv.as_ptr(),
                ptr,
                32,
                ptr,
            )
        };
        assert_eq!((rc, &buffer), (SQLITE_OK, &plain));
        // A short key or a partial block is refused, not truncated.
        assert_eq!(run_cipher(ENCRYPT, &key, 16, &plain, 32).0, SQLITE_ERROR);
        assert_eq!(run_cipher(ENCRYPT, &key, 32, &plain, 31).0, SQLITE_ERROR);
        assert_eq!(run_cipher(7, &key, 32, &plain, 32).0, SQLITE_ERROR);
    }

    /// RFC 4231 test case 2 (HMAC-SHA512 and HMAC-SHA256, key "Jefe"), the message in two parts
    /// as SQLCipher passes a page and its number.
    #[test]
    fn hmac_matches_rfc_4231_with_the_message_in_two_parts() {
        let p = table();
        let key = b"Jefe";
        let (first, second) = b"what do ya want for nothing?".split_at(10);
        for (algorithm, expected) in [
            (
                SHA512,
                concat!(
                    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554",
                    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
                ),
            ),
            (
                SHA256,
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
        ] {
            // SAFETY: a provider callback with no arguments that matter.
            let size = unsafe { (p.get_hmac_sz.unwrap())(std::ptr::null_mut(), algorithm) };
            let mut out = vec![0u8; size as usize];
            let (first_len, second_len) = (first.len() as c_int, second.len() as c_int);
            // SAFETY: buffers of the sizes passed; `out` has the algorithm's output size.
            let rc = unsafe {
                hmac(
                    std::ptr::null_mut(),
                    algorithm,
                    key.as_ptr(),
                    4,
                    first.as_ptr(),
                    first_len,
                    second.as_ptr(),
                    second_len,
                    out.as_mut_ptr(),
                )
            };
            assert_eq!((rc, out), (SQLITE_OK, hex(expected)));
        }
    }

    /// RFC 6070's PBKDF2-HMAC-SHA1 vector (2 iterations), the SHA-1 compatibility setting.
    #[test]
    fn pbkdf2_matches_rfc_6070() {
        let derive = |iterations: c_int| {
            let mut key = [0u8; 20];
            // SAFETY: buffers of the sizes passed.
            let rc = unsafe {
                kdf(
                    std::ptr::null_mut(),
                    SHA1,
                    b"password".as_ptr(),
                    8,
                    b"salt".as_ptr(),
                    4,
                    iterations,
                    20,
                    key.as_mut_ptr(),
                )
            };
            (rc, key.to_vec())
        };
        assert_eq!(
            derive(2),
            (SQLITE_OK, hex("ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"))
        );
        // Zero iterations is refused rather than returning the salt's hash.
        assert_eq!(derive(0).0, SQLITE_ERROR);
    }

    #[test]
    fn random_fills_the_buffer_and_sizes_are_sqlciphers() {
        let p = table();
        let mut a = [0u8; 80];
        let mut b = [0u8; 80];
        // SAFETY: buffers of the sizes passed.
        unsafe {
            assert_eq!(
                (p.random.unwrap())(std::ptr::null_mut(), a.as_mut_ptr().cast(), 80),
                SQLITE_OK
            );
            assert_eq!(
                (p.random.unwrap())(std::ptr::null_mut(), b.as_mut_ptr().cast(), 80),
                SQLITE_OK
            );
            assert_eq!((p.get_key_sz.unwrap())(std::ptr::null_mut()), 32);
            assert_eq!((p.get_iv_sz.unwrap())(std::ptr::null_mut()), 16);
            assert_eq!((p.get_hmac_sz.unwrap())(std::ptr::null_mut(), SHA1), 20);
            assert_eq!((p.get_hmac_sz.unwrap())(std::ptr::null_mut(), 7), 0);
        }
        assert_ne!(a, b);
        assert_ne!(a, [0u8; 80]);
    }
}
