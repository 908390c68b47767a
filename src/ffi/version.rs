//! Library version at run time; the header's `COPC_VERSION_*` macros give the version
//! a program was compiled against (both come from Cargo.toml).

use std::ffi::c_char;

const fn parse(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut v = 0u32;
    while i < b.len() {
        v = v * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    v
}

pub(crate) const MAJOR: u32 = parse(env!("CARGO_PKG_VERSION_MAJOR"));
pub(crate) const MINOR: u32 = parse(env!("CARGO_PKG_VERSION_MINOR"));
pub(crate) const PATCH: u32 = parse(env!("CARGO_PKG_VERSION_PATCH"));
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The library's version as one number: `(major << 16) | (minor << 8) | patch`, the
/// same encoding as the `COPC_VERSION_NUMBER` macro, so a program can compare the
/// library it runs with against the header it was built with.
/// Thread safety: may be called from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn copc_version_number() -> u32 {
    (MAJOR << 16) | (MINOR << 8) | PATCH
}

/// The library's version as "MAJOR.MINOR.PATCH" (static, never NULL), equal to the
/// `COPC_VERSION_STRING` macro of the header it was built with.
/// Thread safety: may be called from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn copc_version_string() -> *const c_char {
    VERSION.as_ptr() as *const c_char
}
