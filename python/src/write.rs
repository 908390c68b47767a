//! Writing: `Writer` (columns or Arrow batches into `copc::writer::PointWriter`),
//! `translate` (LAS/LAZ files to COPC, as `copc translate`) and `validate`.

use crate::{errors, options, run};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use copc::Dimension;
use copc::ffi::copc_type;
use copc::writer::{PointColumn, PointWriter, Progress, TranslateSummary};
use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The LAS data type code (1 uint8 ... 10 double; `copc_type`) of a value type.
fn code(t: copc::format::point::DimType) -> u8 {
    copc_type::from(t) as i32 as u8
}

/// Standard dimension names with the code of the type a column of them must have.
#[pyfunction]
pub fn dimension_types() -> Vec<(&'static str, u8)> {
    Dimension::STANDARD.iter().map(|d| (d.name(), code(d.dim_type()))).collect()
}

/// One column on its way in: a name, a LAS data type code, and its bytes (native order).
struct Column<'a> {
    name: String,
    code: u8,
    data: std::borrow::Cow<'a, [u8]>,
}

/// What the writer has been told so far.
struct State {
    writer: Option<PointWriter>,
    /// Column names that become extra bytes (None: every non-standard column).
    extra_filter: Option<Vec<String>>,
    /// Extra dimensions declared (at the first batch): name and column id.
    extras: Option<Vec<(String, Dimension)>>,
}

impl State {
    fn add(&mut self, path: &str, n: usize, cols: &[Column<'_>]) -> copc::Result<()> {
        let w = self.writer.as_mut().ok_or_else(|| copc::Error::invalid(format!("{path}: the writer is closed")))?;
        let fail = |m: String| copc::Error::invalid(format!("{path}: {m}"));
        if self.extras.is_none() {
            let mut declared = Vec::new();
            for c in cols {
                if Dimension::from_name(&c.name).is_some() {
                    continue;
                }
                if self.extra_filter.as_ref().is_some_and(|f| !f.iter().any(|x| x == &c.name)) {
                    continue;
                }
                let d = w.add_extra_dim(&c.name, c.code, "")?;
                declared.push((c.name.clone(), d));
            }
            self.extras = Some(declared);
        }
        let extras = self.extras.as_deref().unwrap_or_default();
        let mut columns = Vec::with_capacity(cols.len());
        for c in cols {
            let dim = match Dimension::from_name(&c.name) {
                Some(d) => {
                    let want = code(d.dim_type());
                    if c.code != want {
                        return Err(fail(format!(
                            "column '{}' holds {} values; {} takes {}",
                            c.name,
                            type_name(c.code),
                            d.name(),
                            type_name(want)
                        )));
                    }
                    d
                }
                None => match extras.iter().find(|(name, _)| name == &c.name) {
                    Some((_, d)) => *d,
                    None if self.extra_filter.is_some() => continue,
                    None => {
                        return Err(fail(format!(
                            "column '{}' was not in the first batch (extra dimensions are declared by the first batch)",
                            c.name
                        )));
                    }
                },
            };
            let size = w.column_size(dim).unwrap_or(0);
            if c.data.len() != n * size {
                return Err(fail(format!(
                    "column '{}' has {} bytes, {} points of {} bytes expected (columns must have the same length)",
                    c.name,
                    c.data.len(),
                    n,
                    size
                )));
            }
            columns.push(PointColumn { dim, data: &c.data, stride: 0 });
        }
        w.add(n, &columns)
    }
}

fn type_name(code: u8) -> &'static str {
    match code {
        1 => "uint8",
        2 => "int8",
        3 => "uint16",
        4 => "int16",
        5 => "uint32",
        6 => "int32",
        7 => "uint64",
        8 => "int64",
        9 => "float32",
        10 => "float64",
        _ => "unknown",
    }
}

/// A record batch's columns as typed bytes (booleans as 0/1 bytes).
fn batch_columns(path: &str, b: &RecordBatch) -> copc::Result<(usize, Vec<Column<'static>>)> {
    let mut out = Vec::new();
    for (f, a) in b.schema().fields().iter().zip(b.columns()) {
        let fail = |m: String| copc::Error::invalid(format!("{path}: column '{}': {m}", f.name()));
        if a.null_count() > 0 {
            return Err(fail(format!("{} null values (COPC points have no nulls)", a.null_count())));
        }
        let data = a.to_data();
        let n = data.len();
        let (c, bytes) = match data.data_type() {
            DataType::Boolean => {
                let bools = arrow_array::BooleanArray::from(data);
                (1, (0..n).map(|i| bools.value(i) as u8).collect::<Vec<u8>>())
            }
            t => {
                let c = match t {
                    DataType::UInt8 => 1,
                    DataType::Int8 => 2,
                    DataType::UInt16 => 3,
                    DataType::Int16 => 4,
                    DataType::UInt32 => 5,
                    DataType::Int32 => 6,
                    DataType::UInt64 => 7,
                    DataType::Int64 => 8,
                    DataType::Float32 => 9,
                    DataType::Float64 => 10,
                    t => return Err(fail(format!("Arrow type {t} cannot be stored in a COPC file (numbers and booleans can)"))),
                };
                let w = t.primitive_width().unwrap_or(1);
                (c, data.buffers()[0].as_slice()[data.offset() * w..(data.offset() + n) * w].to_vec())
            }
        };
        out.push(Column { name: f.name().clone(), code: c, data: std::borrow::Cow::Owned(bytes) });
    }
    Ok((b.num_rows(), out))
}

#[pyclass(module = "copc._copc")]
pub struct Writer {
    path: String,
    state: Arc<Mutex<State>>,
    cancel: Arc<AtomicBool>,
}

impl Writer {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn summary<'py>(py: Python<'py>, s: &TranslateSummary) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("points", s.points)?;
    d.set_item("nodes", s.nodes)?;
    d.set_item("hierarchy_pages", s.hierarchy_pages)?;
    d.set_item("point_format", s.point_format)?;
    d.set_item("scale", s.scale.to_vec())?;
    d.set_item("offset", s.offset.to_vec())?;
    d.set_item("spacing", s.spacing)?;
    d.set_item("spilled", s.spilled)?;
    d.set_item("peak_temp_bytes", s.peak_temp_bytes)?;
    d.set_item("warnings", s.warnings.clone())?;
    Ok(d)
}

#[pymethods]
impl Writer {
    #[new]
    #[pyo3(signature = (path, options, extra_dims=None))]
    fn new(py: Python<'_>, path: String, options: Vec<(String, String)>, extra_dims: Option<Vec<String>>) -> PyResult<Writer> {
        let (mut wopts, format) = options::parse(py, &options)?.writer_options();
        let cancel = Arc::new(AtomicBool::new(false));
        wopts.cancel = Some(cancel.clone());
        let p = path.clone();
        let w = run::detached(py, move || PointWriter::create(&p, wopts, format))?;
        let state = State { writer: Some(w), extra_filter: extra_dims, extras: None };
        Ok(Writer { path, state: Arc::new(Mutex::new(state)), cancel })
    }

    /// Adds `n` points from `(name, LAS data type code, buffer of bytes)` columns.
    fn add_columns(&self, py: Python<'_>, n: usize, columns: Vec<(String, u8, PyBuffer<u8>)>) -> PyResult<()> {
        for (name, _, b) in &columns {
            if !b.is_c_contiguous() {
                return Err(errors::invalid(py, format!("{}: column '{name}' is not contiguous", self.path)));
            }
        }
        let cols: Vec<Column<'_>> = columns
            .iter()
            .map(|(name, c, b)| {
                // the buffer stays held (and its exporter alive) for this call
                let data = unsafe { std::slice::from_raw_parts(b.buf_ptr() as *const u8, b.len_bytes()) };
                Column { name: name.clone(), code: *c, data: std::borrow::Cow::Borrowed(data) }
            })
            .collect();
        let path = self.path.clone();
        let state = self.state.clone();
        run::detached(py, move || state.lock().unwrap_or_else(|p| p.into_inner()).add(&path, n, &cols))
    }

    /// Adds every batch of an Arrow C stream (a PyCapsule "arrow_array_stream").
    fn add_arrow_stream(&self, py: Python<'_>, capsule: Bound<'_, PyCapsule>) -> PyResult<()> {
        let ptr = capsule.pointer_checked(Some(c"arrow_array_stream"))?;
        let stream = unsafe {
            arrow_array::ffi_stream::FFI_ArrowArrayStream::from_raw(ptr.as_ptr() as *mut arrow_array::ffi_stream::FFI_ArrowArrayStream)
        };
        let path = self.path.clone();
        let state = self.state.clone();
        run::detached(py, move || {
            let reader = arrow_array::ffi_stream::ArrowArrayStreamReader::try_new(stream)
                .map_err(|e| copc::Error::invalid(format!("{path}: the Arrow stream: {e}")))?;
            for b in reader {
                let b = b.map_err(|e| copc::Error::invalid(format!("{path}: the Arrow stream: {e}")))?;
                let (n, cols) = batch_columns(&path, &b)?;
                state.lock().unwrap_or_else(|p| p.into_inner()).add(&path, n, &cols)?;
            }
            Ok(())
        })
    }

    /// Adds one Arrow array of struct type (`__arrow_c_array__`'s two capsules).
    fn add_arrow_array(&self, py: Python<'_>, schema: Bound<'_, PyCapsule>, array: Bound<'_, PyCapsule>) -> PyResult<()> {
        let s = schema.pointer_checked(Some(c"arrow_schema"))?;
        let a = array.pointer_checked(Some(c"arrow_array"))?;
        let path = self.path.clone();
        let batch = unsafe {
            let array = arrow_array::ffi::FFI_ArrowArray::from_raw(a.as_ptr() as *mut arrow_array::ffi::FFI_ArrowArray);
            let schema = &*(s.as_ptr() as *const arrow_schema::ffi::FFI_ArrowSchema);
            arrow_array::ffi::from_ffi(array, schema)
        }
        .map(|d| RecordBatch::from(arrow_array::StructArray::from(d)))
        .map_err(|e| errors::invalid(py, format!("{path}: the Arrow array: {e}")))?;
        let state = self.state.clone();
        run::detached(py, move || {
            let (n, cols) = batch_columns(&path, &batch)?;
            state.lock().unwrap_or_else(|p| p.into_inner()).add(&path, n, &cols)
        })
    }

    /// Points added so far.
    #[getter]
    fn points(&self) -> u64 {
        self.lock().writer.as_ref().map(|w| w.points()).unwrap_or(0)
    }

    /// Builds the file (Ctrl-C stops it and leaves nothing at the path).
    fn finish<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let w = self.lock().writer.take().ok_or_else(|| errors::invalid(py, format!("{}: the writer is closed", self.path)))?;
        let s = run::cancellable(py, Some(self.cancel.clone()), move || w.finish())?;
        summary(py, &s)
    }

    /// Drops the points: nothing is left at the path.
    fn abort(&self) {
        let w = self.lock().writer.take();
        drop(w);
    }
}

fn event<'py>(py: Python<'py>, p: &Progress) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    match p {
        Progress::PointsRead { read, total } => {
            d.set_item("event", "points_read")?;
            d.set_item("done", read)?;
            d.set_item("total", total)?;
        }
        Progress::NodesWritten { nodes } => {
            d.set_item("event", "nodes_written")?;
            d.set_item("done", nodes)?;
        }
        Progress::Phase { name, done, total } => {
            d.set_item("event", "phase")?;
            d.set_item("phase", *name)?;
            d.set_item("done", done)?;
            d.set_item("total", total)?;
        }
        Progress::Warning(w) => {
            d.set_item("event", "warning")?;
            d.set_item("message", w)?;
        }
        Progress::Done { points, nodes } => {
            d.set_item("event", "done")?;
            d.set_item("points", points)?;
            d.set_item("nodes", nodes)?;
        }
        other => {
            d.set_item("event", "other")?;
            d.set_item("message", format!("{other:?}"))?;
        }
    }
    Ok(d)
}

/// LAS/LAZ inputs (or one EPT dataset) into one COPC file, as `copc translate`.
#[pyfunction]
#[pyo3(signature = (inputs, output, options, progress=None))]
pub fn translate<'py>(
    py: Python<'py>,
    inputs: Vec<String>,
    output: String,
    options: Vec<(String, String)>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let (mut wopts, _) = options::parse(py, &options)?.writer_options();
    let cancel = Arc::new(AtomicBool::new(false));
    wopts.cancel = Some(cancel.clone());
    let failed: Arc<Mutex<Option<PyErr>>> = Arc::new(Mutex::new(None));
    if let Some(cb) = progress {
        let (c, f) = (cancel.clone(), failed.clone());
        wopts.progress = Some(Arc::new(move |p: &Progress| {
            Python::attach(|py| {
                if let Err(e) = event(py, p).and_then(|ev| cb.call1(py, (ev,))) {
                    // an exception in the callback stops the translation and is raised
                    let mut slot = f.lock().unwrap_or_else(|p| p.into_inner());
                    slot.get_or_insert(e);
                    c.store(true, Ordering::SeqCst);
                }
            })
        }));
    }
    let result = run::cancellable(py, Some(cancel), move || {
        if inputs.iter().any(|i| copc::ept::is_ept_location(i)) {
            let [input] = inputs.as_slice() else {
                return Err(copc::Error::invalid(format!("{output}: an EPT dataset (ept.json) must be the only input")));
            };
            let s = copc::ept::translate_ept(input, &output, &wopts)?;
            return Ok((s.points, s.nodes, s.hierarchy_pages, s.point_format, None));
        }
        let s = copc::writer::translate(&inputs, &output, &wopts)?;
        Ok((s.points, s.nodes, s.hierarchy_pages, s.point_format, Some(s)))
    });
    if let Some(e) = failed.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(e);
    }
    let (points, nodes, pages, format, full) = result?;
    match full {
        Some(s) => summary(py, &s),
        None => {
            let d = PyDict::new(py);
            d.set_item("points", points)?;
            d.set_item("nodes", nodes)?;
            d.set_item("hierarchy_pages", pages)?;
            d.set_item("point_format", format)?;
            Ok(d)
        }
    }
}

/// Every check of `copc validate`: (source, [(name, "PASS"|"WARN"|"FAIL", detail)]).
#[pyfunction]
#[pyo3(signature = (source, options, quick=false))]
#[allow(clippy::type_complexity)]
pub fn validate(
    py: Python<'_>,
    source: String,
    options: Vec<(String, String)>,
    quick: bool,
) -> PyResult<(String, Vec<(String, String, String)>)> {
    let reader = options::parse(py, &options)?.reader_options();
    run::cancellable(py, None, move || {
        let src = copc::open_source(&source, &reader.http)?;
        let report = copc::validate::validate(src, &copc::validate::ValidateOptions { quick, reader });
        Ok((
            report.source.clone(),
            report.checks.iter().map(|c| (c.name.clone(), c.status.to_string(), c.detail.clone())).collect(),
        ))
    })
}
