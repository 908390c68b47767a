//! A [`BatchSource`] (one file's or a dataset's batches) behind the Arrow C stream
//! interface (`struct ArrowArrayStream`). Our own callbacks rather than arrow-rs' `FFI_ArrowArrayStream::new`
//! so that no panic unwinds into C (each callback runs under `catch_unwind`) and
//! `get_last_error` gives the library's message as is (file, node, what was expected).

use super::BatchSource;
use crate::Error;
use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{Array, StructArray};
use std::ffi::{CString, c_char, c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

struct State {
    reader: Box<dyn BatchSource>,
    /// The message of the last failed call (for `get_last_error`).
    last_error: Option<CString>,
    /// The errno of a failure that ended the stream: every later get_next repeats it.
    failed: Option<c_int>,
}

/// The errno-style code of an error (the C stream interface's convention).
fn errno(e: &Error) -> c_int {
    match e {
        Error::InvalidArgument(_) => libc::EINVAL,
        Error::Unsupported { .. } => libc::ENOSYS,
        Error::Cancelled(_) => libc::ECANCELED,
        _ => libc::EIO,
    }
}

fn message(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

/// Runs a callback body; a panic becomes EIO with a message (the stream then only
/// repeats that error).
unsafe fn call(stream: *mut FFI_ArrowArrayStream, what: &str, body: impl FnOnce(&mut State) -> c_int) -> c_int {
    let Some(s) = (unsafe { stream.as_mut() }) else { return libc::EINVAL };
    let state = s.private_data as *mut State;
    let Some(state) = (unsafe { state.as_mut() }) else { return libc::EINVAL };
    match catch_unwind(AssertUnwindSafe(|| body(state))) {
        Ok(code) => code,
        Err(p) => {
            let why = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            state.last_error = Some(message(&format!("{what}: internal error (Rust panic: {why})")));
            state.failed = Some(libc::EIO);
            libc::EIO
        }
    }
}

unsafe extern "C" fn get_schema(stream: *mut FFI_ArrowArrayStream, out: *mut FFI_ArrowSchema) -> c_int {
    unsafe {
        call(stream, "get_schema", |st| {
            if out.is_null() {
                st.last_error = Some(message("get_schema: out is NULL"));
                return libc::EINVAL;
            }
            match FFI_ArrowSchema::try_from(st.reader.schema().as_ref()) {
                Ok(s) => {
                    std::ptr::write(out, s);
                    0
                }
                Err(e) => {
                    st.last_error = Some(message(&format!("get_schema: {e}")));
                    libc::EINVAL
                }
            }
        })
    }
}

unsafe extern "C" fn get_next(stream: *mut FFI_ArrowArrayStream, out: *mut FFI_ArrowArray) -> c_int {
    unsafe {
        call(stream, "get_next", |st| {
            if out.is_null() {
                st.last_error = Some(message("get_next: out is NULL"));
                return libc::EINVAL;
            }
            if let Some(code) = st.failed {
                return code;
            }
            match st.reader.next_batch() {
                // The end: a released array.
                None => {
                    std::ptr::write(out, FFI_ArrowArray::empty());
                    0
                }
                Some(Ok(batch)) => {
                    let data = StructArray::from(batch).into_data();
                    std::ptr::write(out, FFI_ArrowArray::new(&data));
                    0
                }
                Some(Err(e)) => {
                    let code = errno(&e);
                    st.last_error = Some(message(&e.to_string()));
                    st.failed = Some(code);
                    code
                }
            }
        })
    }
}

unsafe extern "C" fn get_last_error(stream: *mut FFI_ArrowArrayStream) -> *const c_char {
    let Some(s) = (unsafe { stream.as_ref() }) else { return std::ptr::null() };
    match unsafe { (s.private_data as *const State).as_ref() } {
        Some(State { last_error: Some(m), .. }) => m.as_ptr(),
        _ => std::ptr::null(),
    }
}

unsafe extern "C" fn release(stream: *mut FFI_ArrowArrayStream) {
    let Some(s) = (unsafe { stream.as_mut() }) else { return };
    let state = s.private_data as *mut State;
    if !state.is_null() {
        // Dropping the state frees the pending nodes, the decode window and (when it
        // was the last user) the reader and its file. A panic in a Drop stays here.
        let _ = catch_unwind(AssertUnwindSafe(|| drop(unsafe { Box::from_raw(state) })));
    }
    s.private_data = std::ptr::null_mut();
    s.release = None;
}

/// A C stream over `reader` (an [`super::ArrowBatchReader`] or a dataset's
/// [`crate::dataset::DatasetArrow`]): it owns the reader (and through it the files), so
/// it may outlive every other handle. Release it with its `release` callback.
pub fn into_c_stream(reader: impl BatchSource + 'static) -> FFI_ArrowArrayStream {
    let state = Box::new(State { reader: Box::new(reader), last_error: None, failed: None });
    FFI_ArrowArrayStream {
        get_schema: Some(get_schema),
        get_next: Some(get_next),
        get_last_error: Some(get_last_error),
        release: Some(release),
        private_data: Box::into_raw(state) as *mut c_void,
    }
}
