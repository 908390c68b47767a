//! Keyword options (already as `(key, text)` pairs, see `copc/__init__.py`) through the
//! C ABI's parser, so Python, C and the CLI accept and check the same values.

use crate::errors;
use copc::ffi::copc_options;
use pyo3::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};

pub fn parse(py: Python<'_>, pairs: &[(String, String)]) -> PyResult<copc_options> {
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        let mut o = copc_options::default();
        for (k, v) in pairs {
            o.set_option(k, v)?;
        }
        Ok::<_, copc::Error>(o)
    }));
    match parsed {
        Ok(Ok(o)) => Ok(o),
        Ok(Err(e)) => Err(errors::to_py(py, e)),
        Err(p) => Err(errors::panic_err(py, p)),
    }
}
