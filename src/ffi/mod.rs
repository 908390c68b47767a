//! The C ABI: a thin skin over the safe Rust API, one file per C type.
//!
//! Conventions (every export follows them; `include/copc.h` is generated from here):
//! * Every export runs inside [`guard`] (or [`guard_value`]): a Rust panic becomes
//!   `COPC_STATUS_PANIC` and never unwinds into C.
//! * Pointers are checked for NULL before any dereference (`COPC_STATUS_NULL_ARGUMENT`).
//! * Out-parameters are written only when the call returns `COPC_STATUS_OK`.
//! * A failing call leaves a message in the thread-local `copc_last_error_message()`.
//! * `copc_*_free(NULL)` does nothing.
//! * Handles are opaque; what may be shared across threads is said on each type.
//!
//! Safety (every `unsafe extern "C" fn` here): pointer arguments are NULL or point to
//! live objects of the documented type (handles from this library, buffers of the
//! stated capacity); a handle is not used by two threads at once unless its type
//! says it may be.

#![allow(non_camel_case_types, clippy::missing_safety_doc)]

mod arrow;
mod column;
mod dims;
mod error;
mod node_iter;
mod options;
mod point_iter;
mod query;
mod reader;
mod status;
mod version;
mod writer;

pub use arrow::*;
pub use column::*;
pub use dims::*;
pub use error::*;
pub use node_iter::*;
pub use options::*;
pub use point_iter::*;
pub use query::*;
pub use reader::*;
pub use status::*;
pub use version::*;
pub use writer::*;

use std::ffi::{CStr, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Why a call failed: the status it returns and the message it leaves.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub status: copc_status,
    pub message: String,
}

impl Failure {
    pub fn new(status: copc_status, message: impl Into<String>) -> Self {
        Failure {
            status,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(COPC_STATUS_INVALID_ARGUMENT, message)
    }

    pub fn null(what: &str) -> Self {
        Self::new(COPC_STATUS_NULL_ARGUMENT, format!("{what} is NULL"))
    }
}

impl From<crate::Error> for Failure {
    fn from(e: crate::Error) -> Self {
        Failure {
            status: status::of_error(&e),
            message: e.to_string(),
        }
    }
}

pub(crate) type FfiResult<T> = Result<T, Failure>;

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Runs the body of a fallible export: clears the thread's last error, catches
/// panics, turns failures into a status and a message prefixed with `func`.
pub(crate) fn guard(func: &str, body: impl FnOnce() -> FfiResult<()>) -> copc_status {
    error::clear();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => COPC_STATUS_OK,
        Ok(Err(f)) => {
            error::set(format!("{func}: {}", f.message));
            f.status
        }
        Err(p) => {
            error::set(format!(
                "{func}: internal error (Rust panic: {}); the handles passed to this call should not be used again except to free them",
                panic_message(p.as_ref())
            ));
            COPC_STATUS_PANIC
        }
    }
}

/// Runs an export that returns a value rather than a status (`_free`, string
/// accessors): a panic gives `fallback` (and a last-error message).
pub(crate) fn guard_value<T>(func: &str, fallback: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(p) => {
            error::set(format!(
                "{func}: internal error (Rust panic: {})",
                panic_message(p.as_ref())
            ));
            fallback
        }
    }
}

/// A shared reference from a caller's pointer, or `NULL_ARGUMENT` naming it.
///
/// # Safety
/// `p` is NULL or points to a live `T` that nobody mutates during the call.
pub(crate) unsafe fn borrow<'a, T>(p: *const T, what: &str) -> FfiResult<&'a T> {
    unsafe { p.as_ref() }.ok_or_else(|| Failure::null(what))
}

/// A unique reference from a caller's pointer, or `NULL_ARGUMENT` naming it.
///
/// # Safety
/// `p` is NULL or points to a live `T` that no other thread uses during the call.
pub(crate) unsafe fn borrow_mut<'a, T>(p: *mut T, what: &str) -> FfiResult<&'a mut T> {
    unsafe { p.as_mut() }.ok_or_else(|| Failure::null(what))
}

/// Checks an out-pointer (written later, on success only).
pub(crate) fn out_ptr<T>(p: *mut T, what: &str) -> FfiResult<*mut T> {
    if p.is_null() { Err(Failure::null(what)) } else { Ok(p) }
}

/// A NUL-terminated string from C, as UTF-8.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string alive during the call.
pub(crate) unsafe fn c_str<'a>(p: *const c_char, what: &str) -> FfiResult<&'a str> {
    if p.is_null() {
        return Err(Failure::null(what));
    }
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| Failure::invalid(format!("{what} is not valid UTF-8")))
}

/// Moves a value to the heap for C; freed by [`free_box`].
pub(crate) fn into_raw<T>(v: T) -> *mut T {
    Box::into_raw(Box::new(v))
}

/// Frees what [`into_raw`] gave out; NULL is a no-op.
///
/// # Safety
/// `p` is NULL or came from `into_raw::<T>` and is not used afterwards.
pub(crate) unsafe fn free_box<T>(p: *mut T) {
    if !p.is_null() {
        drop(unsafe { Box::from_raw(p) });
    }
}

/// Copies `s` into a fixed, NUL-terminated C field (truncated to fit).
pub(crate) fn put_c_field(dst: &mut [c_char], s: &str) {
    dst.fill(0);
    let n = s.len().min(dst.len().saturating_sub(1));
    for (d, b) in dst.iter_mut().zip(&s.as_bytes()[..n]) {
        *d = *b as c_char;
    }
}

/// Writes a versioned struct (`uint32_t struct_size` first, set by the caller) into
/// `out`: the first `min(struct_size, size_of::<T>())` bytes, so that a caller built
/// against an older, shorter version gets the fields it knows and a newer, longer
/// one keeps its extra fields untouched. `struct_size` itself is left as it was.
///
/// # Safety
/// `out` is a valid pointer to at least `struct_size` writable bytes (the caller's
/// struct); `value` starts with a `u32` size field.
pub(crate) unsafe fn write_versioned<T>(out: *mut T, value: &T, what: &str) -> FfiResult<()> {
    let size = unsafe { std::ptr::read_unaligned(out as *const u32) } as usize;
    const MIN: usize = 8;
    if size < MIN {
        return Err(Failure::invalid(format!(
            "{what}->struct_size is {size}: set it to sizeof({what}) ({}) before the call",
            std::mem::size_of::<T>()
        )));
    }
    let n = size.min(std::mem::size_of::<T>());
    let src = value as *const T as *const u8;
    // Skip the size field itself: it says what the caller has, keep it.
    unsafe { std::ptr::copy_nonoverlapping(src.add(4), (out as *mut u8).add(4), n - 4) };
    Ok(())
}

#[cfg(test)]
mod tests;
