//! `copc._copc`: the native half of the Python package `copc`. Thin conversions only:
//! Python arguments into the library's types (options through the C ABI's own parser,
//! `copc::ffi::copc_options`), library results into Python objects and Arrow C
//! streams. Everything that touches a file or the network runs with the GIL released,
//! inside `catch_unwind`, and library errors become the `copc.Error` classes of
//! `copc/_errors.py` (see `errors.rs`). The Python API itself is `python/copc/`.

mod buffer;
mod dataset;
mod errors;
mod options;
mod reader;
mod result;
mod run;
mod write;

use pyo3::prelude::*;

#[pymodule]
fn _copc(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<reader::Reader>()?;
    m.add_class::<result::QueryResult>()?;
    m.add_class::<dataset::Dataset>()?;
    m.add_class::<dataset::Partition>()?;
    m.add_class::<buffer::Buffer>()?;
    m.add_class::<write::Writer>()?;
    m.add_function(wrap_pyfunction!(reader::open, m)?)?;
    m.add_function(wrap_pyfunction!(dataset::open_dataset, m)?)?;
    m.add_function(wrap_pyfunction!(write::translate, m)?)?;
    m.add_function(wrap_pyfunction!(write::validate, m)?)?;
    m.add_function(wrap_pyfunction!(write::dimension_types, m)?)?;
    Ok(())
}
