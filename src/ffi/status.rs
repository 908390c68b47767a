//! `copc_status`: what every fallible call returns. The values are part of the ABI:
//! each has an explicit number that is never changed or reused; new ones get new numbers.

use std::ffi::c_char;

/// The result of a fallible call: `COPC_STATUS_OK` (0) or one of the `COPC_STATUS_*`
/// errors; `copc_last_error_message()` then says what went wrong.
pub type copc_status = i32;

/// Success.
pub const COPC_STATUS_OK: copc_status = 0;
/// A value is out of range or malformed: an unknown option key, a bad option value,
/// an invalid dimension id or mask, a query box with min > max, a node key not in
/// the hierarchy, a `struct_size` of 0, a zero capacity.
pub const COPC_STATUS_INVALID_ARGUMENT: copc_status = 1;
/// A required pointer argument is NULL.
pub const COPC_STATUS_NULL_ARGUMENT: copc_status = 2;
/// A caller buffer is smaller than the data (the message says how much is needed).
pub const COPC_STATUS_BUFFER_TOO_SMALL: copc_status = 3;
/// Reading or writing bytes failed: a missing file, a short read, a `copc_io`
/// read callback that returned an error.
pub const COPC_STATUS_IO: copc_status = 4;
/// The bytes do not follow the LAS/LAZ/COPC format (not a COPC file, corruption).
pub const COPC_STATUS_FORMAT: copc_status = 5;
/// A valid file that uses something this library does not handle.
pub const COPC_STATUS_UNSUPPORTED: copc_status = 6;
/// An HTTP(S) request failed for good (after retries).
pub const COPC_STATUS_HTTP: copc_status = 7;
/// The handle is in a state where the call cannot work.
pub const COPC_STATUS_INVALID_STATE: copc_status = 8;
/// A bug in the library (a Rust panic), caught at the C boundary. The process goes on;
/// the handles passed to the failing call should only be freed.
pub const COPC_STATUS_PANIC: copc_status = 9;
/// The operation was cancelled on request (nothing was left at the output path).
pub const COPC_STATUS_CANCELLED: copc_status = 10;

/// Every status with its description (the order of the values above).
const DESCRIPTIONS: [(copc_status, &std::ffi::CStr); 11] = [
    (COPC_STATUS_OK, c"ok"),
    (COPC_STATUS_INVALID_ARGUMENT, c"invalid argument"),
    (COPC_STATUS_NULL_ARGUMENT, c"NULL argument"),
    (COPC_STATUS_BUFFER_TOO_SMALL, c"buffer too small"),
    (COPC_STATUS_IO, c"I/O error"),
    (COPC_STATUS_FORMAT, c"invalid or corrupt file"),
    (COPC_STATUS_UNSUPPORTED, c"unsupported"),
    (COPC_STATUS_HTTP, c"HTTP error"),
    (COPC_STATUS_INVALID_STATE, c"invalid state"),
    (COPC_STATUS_PANIC, c"internal error (panic)"),
    (COPC_STATUS_CANCELLED, c"cancelled"),
];

/// A short static description of a status ("ok", "I/O error", ...), never NULL;
/// "unknown status" for values that are not a `COPC_STATUS_*`.
/// Thread safety: may be called from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn copc_status_str(status: i32) -> *const c_char {
    DESCRIPTIONS
        .iter()
        .find(|(s, _)| *s == status)
        .map(|(_, d)| d.as_ptr())
        .unwrap_or(c"unknown status".as_ptr())
}

/// The status a Rust error maps to.
pub(crate) fn of_error(e: &crate::Error) -> copc_status {
    use crate::Error::*;
    match e {
        Format { .. } | NotCopc { .. } => COPC_STATUS_FORMAT,
        Unsupported { .. } => COPC_STATUS_UNSUPPORTED,
        Io { .. } => COPC_STATUS_IO,
        Http { .. } => COPC_STATUS_HTTP,
        InvalidArgument(_) => COPC_STATUS_INVALID_ARGUMENT,
        Cancelled(_) => COPC_STATUS_CANCELLED,
    }
}

#[cfg(test)]
pub(crate) const ALL: [(copc_status, &std::ffi::CStr); 11] = DESCRIPTIONS;
