//! A zip bomb in a signed QR code is refused without allocating what it would inflate to: the
//! largest allocation made while decoding one (a QR-sized text that inflates to megabytes) is
//! measured with a counting allocator, in a test binary of its own so no other test allocates
//! meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use citizen_core::jose::SoftwareSigner;
use citizen_core::signed_qr::{self, MAX_COSE_BYTES, MAX_TEXT_CHARS, Profile, SignedQrError};

/// The largest single allocation since the last reset.
static LARGEST: AtomicUsize = AtomicUsize::new(0);

struct Counting;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn a_zip_bomb_is_refused_without_allocating_its_output() {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&vec![0u8; 2 << 20]).unwrap();
    let bomb = encoder.finish().unwrap();
    let text = format!("CK1:{}", signed_qr::base45_encode(&bomb));
    assert!(text.len() <= MAX_TEXT_CHARS, "{}", text.len());
    let key = SoftwareSigner::from_scalar(&[3u8; 32]).unwrap();

    LARGEST.store(0, Ordering::Relaxed);
    let outcome = signed_qr::decode(&Profile::new("CK1:"), &text, key.public_key());
    let largest = LARGEST.load(Ordering::Relaxed);

    eprintln!("largest allocation while decoding: {largest} bytes");
    assert_eq!(outcome, Err(SignedQrError::TooLarge));
    // The output buffer (the cap and one byte) and the inflater's own state (its window: tens
    // of KiB), nothing near the 2 MiB the text would inflate to.
    assert!(
        largest <= MAX_COSE_BYTES + 64 * 1024,
        "largest allocation {largest} bytes"
    );
}
