//! `QueryResult`: the points of a query as an Arrow stream, whatever they come from:
//! one file (`Reader.query`), a dataset (`Dataset.query`) or one planned partition
//! (`Partition.read`). Each consumption runs the query again.

use crate::buffer::Buffer;
use crate::{errors, run};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, SchemaRef};
use copc::arrow::{ArrowOptions, BatchSource, into_c_stream};
use copc::dataset::{Dataset, Partition};
use copc::{Query, ReaderOptions};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use std::sync::Arc;

/// Where a query's points come from.
#[derive(Clone)]
pub enum Source {
    File(Arc<copc::Reader>, Query),
    Dataset(Arc<Dataset>, Query),
    /// A partition, read by opening its file with these options.
    Partition(Arc<Partition>, Arc<ReaderOptions>),
}

impl Source {
    fn stream(&self, o: &ArrowOptions) -> copc::Result<Box<dyn BatchSource>> {
        Ok(match self {
            Source::File(r, q) => Box::new(r.arrow_shared(q, o)?),
            Source::Dataset(d, q) => Box::new(d.arrow(q, o)?),
            Source::Partition(p, ro) => Box::new(p.arrow(ro, o)?),
        })
    }

    pub fn schema(&self, o: &ArrowOptions) -> copc::Result<SchemaRef> {
        match self {
            Source::File(r, q) => r.arrow_schema(q, o),
            Source::Dataset(d, q) => d.arrow_schema(q, o),
            Source::Partition(p, ro) => p.arrow_schema(ro, o),
        }
    }

    fn count(&self, o: &ArrowOptions) -> copc::Result<u64> {
        match self {
            Source::File(r, q) => r.count(q),
            Source::Dataset(d, q) => d.count(q),
            Source::Partition(p, _) if p.exact => Ok(p.points),
            // nodes cut by the region: their points are tested as they are decoded
            Source::Partition(..) => {
                let mut s = self.stream(o)?;
                let mut n = 0;
                while let Some(b) = s.next_batch() {
                    n += b?.num_rows() as u64;
                }
                Ok(n)
            }
        }
    }
}

#[pyclass(frozen, module = "copc._copc")]
pub struct QueryResult {
    source: Source,
    opts: ArrowOptions,
}

impl QueryResult {
    /// A result; with `check`, its columns are read now so that a bad dimension fails
    /// here, not in the consumer (a partition skips it: its worker would open the file
    /// twice).
    pub fn new(py: Python<'_>, source: Source, batch_rows: Option<usize>, check: bool) -> PyResult<QueryResult> {
        let mut opts = ArrowOptions::default();
        if let Some(n) = batch_rows {
            if n == 0 {
                return Err(errors::invalid(py, "batch_rows must be at least 1"));
            }
            opts.batch_rows = n;
        }
        if check {
            let (s, o) = (source.clone(), opts.clone());
            run::detached(py, move || s.schema(&o))?;
        }
        Ok(QueryResult { source, opts })
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

type Column = (String, &'static str, arrow_buffer::Buffer, usize);

/// Every column of `batches` (all of `schema`) as one buffer: the batch's own memory
/// when there is one batch (one file or partition), else the batches' bytes joined
/// (one batch per tile of a dataset).
fn columns(schema: &SchemaRef, batches: &[RecordBatch]) -> copc::Result<Vec<Column>> {
    let empty = [RecordBatch::new_empty(schema.clone())];
    let batches = if batches.is_empty() { &empty[..] } else { batches };
    let mut out = Vec::new();
    for (k, f) in schema.fields().iter().enumerate() {
        let parts = batches.iter().map(|b| column_bytes(f.name(), b.column(k).as_ref())).collect::<copc::Result<Vec<_>>>()?;
        let (dt, width) = (parts[0].0, parts[0].2);
        let bytes = if parts.len() == 1 {
            parts[0].1.clone()
        } else {
            let mut joined = arrow_buffer::MutableBuffer::new(parts.iter().map(|p| p.1.len()).sum());
            for p in &parts {
                joined.extend_from_slice(p.1.as_slice());
            }
            joined.into()
        };
        out.push((f.name().clone(), dt, bytes, width));
    }
    Ok(out)
}

#[pymethods]
impl QueryResult {
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(&self, py: Python<'py>, requested_schema: Option<Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyCapsule>> {
        // the schema is the file's: a requested schema is not applied (the protocol allows it)
        let _ = requested_schema;
        let (s, o) = (self.source.clone(), self.opts.clone());
        let batches = run::detached(py, move || s.stream(&o))?;
        PyCapsule::new_with_value(py, into_c_stream(batches), c"arrow_array_stream")
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let (s, o) = (self.source.clone(), self.opts.clone());
        let schema = run::detached(py, move || s.schema(&o))?;
        let ffi = arrow_schema::ffi::FFI_ArrowSchema::try_from(schema.as_ref())
            .map_err(|e| errors::new_err(py, "Error", format!("Arrow schema: {e}")))?;
        PyCapsule::new_with_value(py, ffi, c"arrow_schema")
    }

    /// Number of points the query selects (nodes inside the region counted from the
    /// hierarchy, only cut nodes decoded).
    fn count(&self, py: Python<'_>) -> PyResult<u64> {
        let (s, o) = (self.source.clone(), self.opts.clone());
        run::cancellable(py, None, move || s.count(&o))
    }

    /// Column names in order.
    fn names(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let (s, o) = (self.source.clone(), self.opts.clone());
        let schema = run::detached(py, move || s.schema(&o))?;
        Ok(schema.fields().iter().map(|f| f.name().clone()).collect())
    }

    /// Every column as (name, NumPy dtype, Buffer, elements per row), read as one Arrow
    /// batch per file so a one-file Buffer is that batch's memory (no copy). Ctrl-C
    /// raises KeyboardInterrupt at once; the decode then finishes in the background
    /// and is dropped.
    fn read_columns(&self, py: Python<'_>) -> PyResult<Vec<(String, &'static str, Buffer, usize)>> {
        let (s, mut o) = (self.source.clone(), self.opts.clone());
        let cols = run::cancellable(py, None, move || {
            // no row limit: each file's points in one batch
            o.batch_rows = usize::MAX;
            let mut stream = s.stream(&o)?;
            let schema = stream.schema();
            let mut got = Vec::new();
            while let Some(b) = stream.next_batch() {
                got.push(b?);
            }
            columns(&schema, &got)
        })?;
        Ok(cols.into_iter().map(|(n, d, bytes, k)| (n, d, Buffer { bytes }, k)).collect())
    }
}
