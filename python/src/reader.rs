//! `Reader` (an open COPC file) and `QueryResult` (a query's points as an Arrow stream).

use crate::buffer::Buffer;
use crate::{errors, options, run};
use arrow_array::Array;
use arrow_schema::ArrowError;
use arrow_schema::DataType;
use copc::arrow::{ArrowOptions, into_c_stream};
use copc::{Bounds, Query};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict};
use std::sync::Arc;

#[pyclass(frozen, module = "copc._copc")]
pub struct Reader {
    inner: Arc<copc::Reader>,
}

/// Opens a path or URL with options given as `(key, value)` pairs of `copc_options`.
#[pyfunction]
pub fn open(py: Python<'_>, source: String, options: Vec<(String, String)>) -> PyResult<Reader> {
    let opts = options::parse(py, &options)?.reader_options();
    let r = run::detached(py, move || copc::Reader::open_with(&source, &opts))?;
    Ok(Reader { inner: Arc::new(r) })
}

fn fixed_str(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).trim_end().to_string()
}

/// A query from the Python arguments (bounds as 4 or 6 numbers, as `copc query --bounds`).
fn build_query(
    py: Python<'_>,
    r: &copc::Reader,
    bounds: Option<Vec<f64>>,
    polygon: Option<String>,
    resolution: Option<f64>,
    max_depth: Option<i32>,
    dims: Option<Vec<String>>,
) -> PyResult<Query> {
    let mut q = Query::new();
    if let Some(b) = bounds {
        q.bounds = Some(match b.as_slice() {
            [x0, y0, x1, y1] => Bounds::xy(*x0, *y0, *x1, *y1),
            [x0, y0, x1, y1, z0, z1] => Bounds::new([*x0, *y0, *z0], [*x1, *y1, *z1]),
            _ => {
                return Err(errors::invalid(
                    py,
                    format!("bounds takes 4 or 6 numbers (minx, miny, maxx, maxy[, minz, maxz]), got {}", b.len()),
                ));
            }
        });
    }
    if let Some(p) = polygon {
        let p = copc::Polygon::parse(&p).map_err(|e| errors::invalid(py, format!("polygon: {}", e.detail())))?;
        q.polygon = Some(Arc::new(p));
    }
    q.resolution = resolution;
    q.max_depth = max_depth;
    if let Some(names) = dims {
        let fmt = r.record_format();
        let dims = names
            .iter()
            .map(|n| fmt.dim_by_name(n).ok_or_else(|| errors::invalid(py, format!("{}: no dimension named '{n}'", r.name()))))
            .collect::<PyResult<Vec<_>>>()?;
        q.dims = Some(dims);
    }
    q.validate().map_err(|e| errors::to_py(py, e))?;
    Ok(q)
}

#[pymethods]
impl Reader {
    #[getter]
    fn name(&self) -> String {
        self.inner.name().to_string()
    }

    /// Every field of the LAS header, by its LAS specification name.
    fn header<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let h = self.inner.header();
        let raw = &h.raw;
        let d = PyDict::new(py);
        d.set_item("file_signature", fixed_str(&raw.file_signature))?;
        d.set_item("file_source_id", raw.file_source_id)?;
        d.set_item("global_encoding", raw.global_encoding)?;
        d.set_item("guid", copc::writer::format_guid(&raw.guid))?;
        d.set_item("version", format!("{}.{}", h.version.0, h.version.1))?;
        d.set_item("system_identifier", fixed_str(&raw.system_identifier))?;
        d.set_item("generating_software", fixed_str(&raw.generating_software))?;
        d.set_item("file_creation_day_of_year", raw.file_creation_day_of_year)?;
        d.set_item("file_creation_year", raw.file_creation_year)?;
        d.set_item("header_size", raw.header_size)?;
        d.set_item("offset_to_point_data", raw.offset_to_point_data)?;
        d.set_item("number_of_vlrs", raw.number_of_variable_length_records)?;
        d.set_item("point_format", h.point_format)?;
        d.set_item("point_record_length", h.point_record_length)?;
        d.set_item("compressed", h.compressed)?;
        d.set_item("legacy_point_count", h.legacy_point_count)?;
        d.set_item("legacy_points_by_return", h.legacy_points_by_return.to_vec())?;
        d.set_item("scale", h.scale.to_vec())?;
        d.set_item("offset", h.offset.to_vec())?;
        d.set_item("min", h.min.to_vec())?;
        d.set_item("max", h.max.to_vec())?;
        d.set_item("start_of_waveform_data", raw.start_of_waveform_data_packet_record)?;
        d.set_item("evlr_start", h.evlr_start)?;
        d.set_item("evlr_count", h.evlr_count)?;
        d.set_item("point_count", h.point_count)?;
        d.set_item("points_by_return", h.points_by_return.to_vec())?;
        Ok(d)
    }

    /// The COPC info VLR.
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let i = self.inner.info();
        let d = PyDict::new(py);
        d.set_item("center", i.center.to_vec())?;
        d.set_item("halfsize", i.halfsize)?;
        d.set_item("spacing", i.spacing)?;
        d.set_item("root_hier_offset", i.root_hier_offset)?;
        d.set_item("root_hier_size", i.root_hier_size)?;
        d.set_item("gpstime_minimum", i.gpstime_minimum)?;
        d.set_item("gpstime_maximum", i.gpstime_maximum)?;
        Ok(d)
    }

    fn crs(&self, py: Python<'_>) -> PyResult<Option<String>> {
        let r = self.inner.clone();
        run::detached(py, move || r.crs_wkt())
    }

    /// (level, x, y, z, point_count, offset, byte_size, (minx, miny, minz, maxx, maxy, maxz))
    /// of the data nodes the query selects, in file order.
    #[pyo3(signature = (bounds=None, polygon=None, resolution=None, max_depth=None))]
    #[allow(clippy::type_complexity)]
    fn nodes(
        &self,
        py: Python<'_>,
        bounds: Option<Vec<f64>>,
        polygon: Option<String>,
        resolution: Option<f64>,
        max_depth: Option<i32>,
    ) -> PyResult<Vec<(i32, i32, i32, i32, i32, u64, i32, [f64; 6])>> {
        let q = build_query(py, &self.inner, bounds, polygon, resolution, max_depth, None)?;
        let r = self.inner.clone();
        let nodes = run::detached(py, move || r.nodes(&q))?;
        Ok(nodes
            .iter()
            .map(|n| {
                let b = &n.bounds;
                (n.key.level, n.key.x, n.key.y, n.key.z, n.point_count, n.offset, n.byte_size, [
                    b.min[0], b.min[1], b.min[2], b.max[0], b.max[1], b.max[2],
                ])
            })
            .collect())
    }

    #[pyo3(signature = (bounds=None, polygon=None, resolution=None, max_depth=None, dims=None, batch_rows=None))]
    #[allow(clippy::too_many_arguments)]
    fn query(
        &self,
        py: Python<'_>,
        bounds: Option<Vec<f64>>,
        polygon: Option<String>,
        resolution: Option<f64>,
        max_depth: Option<i32>,
        dims: Option<Vec<String>>,
        batch_rows: Option<usize>,
    ) -> PyResult<QueryResult> {
        let query = build_query(py, &self.inner, bounds, polygon, resolution, max_depth, dims)?;
        let mut opts = ArrowOptions::default();
        if let Some(n) = batch_rows {
            if n == 0 {
                return Err(errors::invalid(py, "batch_rows must be at least 1"));
            }
            opts.batch_rows = n;
        }
        // the schema now: a bad dimension fails here, not in the consumer
        let r = self.inner.clone();
        let (q2, o2) = (query.clone(), opts.clone());
        run::detached(py, move || r.arrow_schema(&q2, &o2))?;
        Ok(QueryResult { reader: self.inner.clone(), query, opts })
    }
}

/// A query's points: each `__arrow_c_stream__` call runs the query again.
#[pyclass(frozen, module = "copc._copc")]
pub struct QueryResult {
    reader: Arc<copc::Reader>,
    query: Query,
    opts: ArrowOptions,
}

/// The library error inside a batch reader's ArrowError (its kind kept).
fn from_arrow(e: ArrowError) -> copc::Error {
    match e {
        ArrowError::ExternalError(b) => match b.downcast::<copc::Error>() {
            Ok(e) => *e,
            Err(b) => copc::Error::invalid(b.to_string()),
        },
        e => copc::Error::invalid(e.to_string()),
    }
}

/// NumPy dtype string of an Arrow primitive type.
fn dtype(t: &DataType) -> Option<&'static str> {
    Some(match t {
        DataType::Int8 => "i1",
        DataType::UInt8 => "u1",
        DataType::Int16 => "i2",
        DataType::UInt16 => "u2",
        DataType::Int32 => "i4",
        DataType::UInt32 => "u4",
        DataType::Int64 => "i8",
        DataType::UInt64 => "u8",
        DataType::Float32 => "f4",
        DataType::Float64 => "f8",
        _ => return None,
    })
}

/// (dtype, bytes, elements per row) of one column, sharing the Arrow memory when the
/// type allows (booleans are bit-packed in Arrow: converted to one byte each).
fn column_bytes(name: &str, a: &dyn Array) -> copc::Result<(&'static str, arrow_buffer::Buffer, usize)> {
    let data = a.to_data();
    let n = data.len();
    match data.data_type() {
        DataType::Boolean => {
            let b = arrow_array::BooleanArray::from(data);
            let v: Vec<u8> = (0..n).map(|i| b.value(i) as u8).collect();
            Ok(("?", arrow_buffer::Buffer::from_vec(v), 1))
        }
        t if dtype(t).is_some() => {
            let w = t.primitive_width().unwrap_or(1);
            Ok((dtype(t).unwrap_or("u1"), data.buffers()[0].slice_with_length(data.offset() * w, n * w), 1))
        }
        DataType::FixedSizeList(f, k) if dtype(f.data_type()).is_some() => {
            let child = &data.child_data()[0];
            let w = f.data_type().primitive_width().unwrap_or(1);
            let k = *k as usize;
            let start = (child.offset() + data.offset() * k) * w;
            Ok((dtype(f.data_type()).unwrap_or("u1"), child.buffers()[0].slice_with_length(start, n * k * w), k))
        }
        DataType::FixedSizeBinary(k) => {
            let k = *k as usize;
            Ok(("u1", data.buffers()[0].slice_with_length(data.offset() * k, n * k), k))
        }
        t => Err(copc::Error::invalid(format!("to_numpy: column '{name}' of Arrow type {t} has no NumPy form"))),
    }
}

#[pymethods]
impl QueryResult {
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(&self, py: Python<'py>, requested_schema: Option<Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyCapsule>> {
        // the schema is the file's: a requested schema is not applied (the protocol allows it)
        let _ = requested_schema;
        let (r, q, o) = (self.reader.clone(), self.query.clone(), self.opts.clone());
        let batches = run::detached(py, move || r.arrow_shared(&q, &o))?;
        PyCapsule::new_with_value(py, into_c_stream(batches), c"arrow_array_stream")
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let (r, q, o) = (self.reader.clone(), self.query.clone(), self.opts.clone());
        let schema = run::detached(py, move || r.arrow_schema(&q, &o))?;
        let ffi = arrow_schema::ffi::FFI_ArrowSchema::try_from(schema.as_ref())
            .map_err(|e| errors::new_err(py, "Error", format!("Arrow schema: {e}")))?;
        PyCapsule::new_with_value(py, ffi, c"arrow_schema")
    }

    /// Number of points the query selects (nodes inside the region counted from the
    /// hierarchy, only cut nodes decoded).
    fn count(&self, py: Python<'_>) -> PyResult<u64> {
        let (r, q) = (self.reader.clone(), self.query.clone());
        run::cancellable(py, None, move || r.count(&q))
    }

    /// Column names in order.
    fn names(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let (r, q, o) = (self.reader.clone(), self.query.clone(), self.opts.clone());
        let schema = run::detached(py, move || r.arrow_schema(&q, &o))?;
        Ok(schema.fields().iter().map(|f| f.name().clone()).collect())
    }

    /// Every column as (name, NumPy dtype, Buffer, elements per row), read as one Arrow
    /// batch so each Buffer is that batch's memory (no copy). Ctrl-C raises
    /// KeyboardInterrupt at once; the decode then finishes in the background and is dropped.
    #[allow(clippy::type_complexity)]
    fn read_columns(&self, py: Python<'_>) -> PyResult<Vec<(String, &'static str, Buffer, usize)>> {
        let (r, q, mut o) = (self.reader.clone(), self.query.clone(), self.opts.clone());
        let cols = run::cancellable(py, None, move || {
            // at most the selected nodes' points: one batch holds them all
            let upper: u64 = r.nodes(&q)?.iter().map(|n| n.point_count.max(0) as u64).sum();
            o.batch_rows = usize::try_from(upper).unwrap_or(usize::MAX).max(1);
            let batches = r.arrow(&q, &o)?;
            let schema = batches.schema();
            let mut got = Vec::new();
            for b in batches {
                got.push(b.map_err(from_arrow)?);
            }
            let batch = match got.len() {
                0 => arrow_array::RecordBatch::new_empty(schema),
                1 => got.pop().unwrap_or_else(|| unreachable!()),
                n => return Err(copc::Error::invalid(format!("internal error: {n} batches where one was asked for"))),
            };
            let mut out = Vec::new();
            for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
                let (dt, bytes, k) = column_bytes(f.name(), c.as_ref())?;
                out.push((f.name().clone(), dt, bytes, k));
            }
            Ok(out)
        })?;
        Ok(cols.into_iter().map(|(n, d, bytes, k)| (n, d, Buffer { bytes }, k)).collect())
    }
}
