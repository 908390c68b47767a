//! The thread-local message of the last failing call.

use std::cell::RefCell;
use std::ffi::{CString, c_char};

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Records `message` as this thread's last error (NULs inside it become spaces).
pub(crate) fn set(message: String) {
    let c = CString::new(message.replace('\0', " ")).unwrap_or_default();
    let _ = LAST_ERROR.try_with(|e| *e.borrow_mut() = c);
}

/// Clears this thread's last error (at the start of every fallible call).
pub(crate) fn clear() {
    let _ = LAST_ERROR.try_with(|e| {
        if let Ok(mut e) = e.try_borrow_mut() {
            if !e.as_bytes().is_empty() {
                *e = CString::default();
            }
        }
    });
}

/// What went wrong in the last call on this thread that returned a status other than
/// `COPC_STATUS_OK`: a UTF-8 message naming the function, and the file, byte offset
/// or node when they matter. Never NULL; "" after a call that succeeded. The string
/// belongs to the library and stays valid until the next `copc_*` call that returns a
/// `copc_status` on the same thread; copy it to keep it.
/// Thread safety: each thread has its own message.
#[unsafe(no_mangle)]
pub extern "C" fn copc_last_error_message() -> *const c_char {
    // The thread-local's buffer lives as long as the thread and is replaced only by
    // `set`/`clear`, which the documentation above orders after the caller's use.
    LAST_ERROR.try_with(|e| e.borrow().as_ptr()).unwrap_or(c"".as_ptr())
}
