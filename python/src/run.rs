//! Running library work with the GIL released, panics caught, and Ctrl-C honoured.

use crate::errors;
use pyo3::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

type Caught<T> = std::thread::Result<copc::Result<T>>;

fn convert<T>(py: Python<'_>, r: Caught<T>) -> PyResult<T> {
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(errors::to_py(py, e)),
        Err(p) => Err(errors::panic_err(py, p)),
    }
}

/// Runs `f` on this thread with the GIL released (short calls: open, nodes, add).
pub fn detached<T: Send>(py: Python<'_>, f: impl FnOnce() -> copc::Result<T> + Send) -> PyResult<T> {
    let r = py.detach(move || catch_unwind(AssertUnwindSafe(f)));
    convert(py, r)
}

/// Runs `f` on a worker thread while this thread, GIL released, waits and every 50 ms
/// checks for signals. On Ctrl-C (or any signal handler raising) `cancel` is set and,
/// when given, the work is waited for (the library then stops and removes what it
/// wrote); without a flag the work is left to finish on its own and its result dropped.
/// Either way the signal's exception (KeyboardInterrupt) is raised.
pub fn cancellable<T: Send + 'static>(
    py: Python<'_>,
    cancel: Option<Arc<AtomicBool>>,
    f: impl FnOnce() -> copc::Result<T> + Send + 'static,
) -> PyResult<T> {
    let (tx, mut rx) = std::sync::mpsc::channel::<Caught<T>>();
    let worker = std::thread::Builder::new()
        .name("copc-worker".into())
        .spawn(move || {
            let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
        })
        .map_err(|e| errors::new_err(py, "Error", format!("cannot start a worker thread: {e}")))?;
    loop {
        let (got, back) = py.detach(move || (rx.recv_timeout(Duration::from_millis(50)), rx));
        rx = back;
        match got {
            Ok(r) => {
                let _ = py.detach(move || worker.join());
                return convert(py, r);
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(errors::new_err(py, "Error", "internal error: the worker thread ended without a result".into()));
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
        if let Err(signal) = py.check_signals() {
            if let Some(c) = &cancel {
                c.store(true, Ordering::SeqCst);
                // the library notices the flag, removes its temp files and output, returns
                let _ = py.detach(move || worker.join());
            }
            return Err(signal);
        }
    }
}
