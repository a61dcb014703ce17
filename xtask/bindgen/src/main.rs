//! The uniffi binding generator, at exactly the uniffi version `citizen-ffi` links.
//!
//! A separate package (not a default workspace member) so ordinary builds and tests never
//! compile the generator, and so its features do not leak into the library's build.
fn main() {
    uniffi::uniffi_bindgen_main()
}
