//! Library errors as the exception classes of `copc/_errors.py` (one per kind a caller
//! branches on); the message is the library's, unchanged.

use pyo3::prelude::*;

/// The class (of `copc._errors`) for a library error.
fn class_of(e: &copc::Error) -> &'static str {
    use copc::Error::*;
    match e {
        Format { .. } | NotCopc { .. } => "FormatError",
        Unsupported { .. } => "UnsupportedError",
        Io { error, .. } if error.kind() == std::io::ErrorKind::NotFound => "NotFoundError",
        Io { .. } => "IoError",
        Http { .. } => "NetworkError",
        InvalidArgument(_) => "InvalidArgumentError",
        Cancelled(_) => "CancelledError",
        _ => "Error",
    }
}

/// An exception of class `class` (in `copc._errors`) with `message`.
pub fn new_err(py: Python<'_>, class: &str, message: String) -> PyErr {
    let made = py
        .import("copc._errors")
        .and_then(|m| m.getattr(class))
        .and_then(|c| c.call1((message.clone(),)));
    match made {
        Ok(exc) => PyErr::from_value(exc),
        Err(_) => pyo3::exceptions::PyRuntimeError::new_err(message),
    }
}

pub fn to_py(py: Python<'_>, e: copc::Error) -> PyErr {
    new_err(py, class_of(&e), e.to_string())
}

pub fn invalid(py: Python<'_>, message: impl Into<String>) -> PyErr {
    new_err(py, "InvalidArgumentError", message.into())
}

/// A Rust panic as `copc.Error` (never a `PanicException`).
pub fn panic_err(py: Python<'_>, p: Box<dyn std::any::Any + Send>) -> PyErr {
    let what = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    new_err(py, "Error", format!("internal error (Rust panic: {what}); please report this"))
}
