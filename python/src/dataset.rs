//! `Dataset` (many COPC files read as one: a VPC / STAC ItemCollection, or a list of
//! files) and `Partition` (one planned piece of a dataset query: plain data that a
//! worker reads on its own, pickled as its JSON).

use crate::reader::region_query;
use crate::result::{QueryResult, Source};
use crate::{errors, options, run};
use copc::dataset::{self, PlanTarget};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};
use std::sync::Arc;

/// Points per partition when neither `partition_points` nor `partition_bytes` is given.
const DEFAULT_PARTITION_POINTS: u64 = 1_000_000;

#[pyclass(frozen, module = "copc._copc")]
pub struct Dataset {
    inner: Arc<dataset::Dataset>,
}

/// Opens one `.vpc` / STAC ItemCollection JSON (only the JSON is read), or a list of
/// COPC files (each header is read now). Options as `open`.
#[pyfunction]
pub fn open_dataset(py: Python<'_>, sources: Vec<String>, options: Vec<(String, String)>) -> PyResult<Dataset> {
    let opts = options::parse(py, &options)?.reader_options();
    let ds = run::detached(py, move || match sources.as_slice() {
        [one] if dataset::is_dataset_location(one) => dataset::Dataset::open(one, &opts),
        list => {
            if let Some(v) = list.iter().find(|s| dataset::is_dataset_location(s)) {
                return Err(copc::Error::invalid(format!("{v}: a list of sources names COPC files; open a VPC on its own")));
            }
            let refs: Vec<&str> = list.iter().map(String::as_str).collect();
            dataset::Dataset::from_sources(&refs, &opts)
        }
    })?;
    Ok(Dataset { inner: Arc::new(ds) })
}

impl Dataset {
    /// The query of `query` and `plan`: dimension names as the first file the region
    /// meets names them (the file whose columns the stream has).
    fn build_query(
        &self,
        py: Python<'_>,
        bounds: Option<Vec<f64>>,
        polygon: Option<String>,
        resolution: Option<f64>,
        max_depth: Option<i32>,
        dims: Option<Vec<String>>,
    ) -> PyResult<copc::Query> {
        let mut q = region_query(py, bounds, polygon, resolution, max_depth)?;
        if let Some(names) = dims {
            let (ds, q2) = (self.inner.clone(), q.clone());
            q.dims = Some(run::detached(py, move || ds.dims_by_name(&q2, &names))?);
        }
        Ok(q)
    }
}

#[pymethods]
impl Dataset {
    /// The VPC's path or URL ("(list)" for a list of files).
    #[getter]
    fn name(&self) -> String {
        self.inner.name().to_string()
    }

    /// Sum of the files' point counts (as the collection states them).
    #[getter]
    fn point_count(&self) -> u64 {
        self.inner.point_count()
    }

    /// One dict per file: id, href (resolved), count, bounds (minx, miny, minz, maxx,
    /// maxy, maxz), wkt, epsg, encoding, point_format.
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.inner
            .items()
            .iter()
            .map(|it| {
                let d = PyDict::new(py);
                let (lo, hi) = (it.bounds.min, it.bounds.max);
                d.set_item("id", &it.id)?;
                d.set_item("href", &it.href)?;
                d.set_item("count", it.count)?;
                d.set_item("bounds", (lo[0], lo[1], lo[2], hi[0], hi[1], hi[2]))?;
                d.set_item("wkt", &it.wkt)?;
                d.set_item("epsg", it.epsg)?;
                d.set_item("encoding", &it.encoding)?;
                d.set_item("point_format", it.point_format)?;
                Ok(d)
            })
            .collect()
    }

    /// The union of the files' bounds: (minx, miny, minz, maxx, maxy, maxz).
    #[getter]
    fn bounds(&self) -> [f64; 6] {
        let mut b = [f64::INFINITY, f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
        for it in self.inner.items() {
            for k in 0..3 {
                b[k] = b[k].min(it.bounds.min[k]);
                b[k + 3] = b[k + 3].max(it.bounds.max[k]);
            }
        }
        b
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
        let q = self.build_query(py, bounds, polygon, resolution, max_depth, dims)?;
        QueryResult::new(py, Source::Dataset(self.inner.clone(), q), batch_rows, true)
    }

    /// The query cut into partitions of at most `partition_points` points (default one
    /// million) or `partition_bytes` compressed bytes, from headers and hierarchy pages.
    #[pyo3(signature = (bounds=None, polygon=None, resolution=None, max_depth=None, dims=None, partition_points=None, partition_bytes=None))]
    #[allow(clippy::too_many_arguments)]
    fn plan(
        &self,
        py: Python<'_>,
        bounds: Option<Vec<f64>>,
        polygon: Option<String>,
        resolution: Option<f64>,
        max_depth: Option<i32>,
        dims: Option<Vec<String>>,
        partition_points: Option<u64>,
        partition_bytes: Option<u64>,
    ) -> PyResult<Vec<Partition>> {
        let target = match (partition_points, partition_bytes) {
            (Some(_), Some(_)) => return Err(errors::invalid(py, "give partition_points or partition_bytes, not both")),
            (Some(0), _) | (_, Some(0)) => return Err(errors::invalid(py, "a partition target must be at least 1")),
            (_, Some(b)) => PlanTarget::Bytes(b),
            (p, None) => PlanTarget::Points(p.unwrap_or(DEFAULT_PARTITION_POINTS)),
        };
        let q = self.build_query(py, bounds, polygon, resolution, max_depth, dims)?;
        let ds = self.inner.clone();
        let parts = run::detached(py, move || ds.plan(&q, target))?;
        Ok(parts.into_iter().map(|p| Partition { inner: Arc::new(p) }).collect())
    }
}

#[pyclass(frozen, module = "copc._copc")]
pub struct Partition {
    inner: Arc<dataset::Partition>,
}

#[pymethods]
impl Partition {
    /// A partition from its JSON text (`to_json`).
    #[new]
    fn new(py: Python<'_>, json: &str) -> PyResult<Partition> {
        let v: serde_json::Value = serde_json::from_str(json).map_err(|e| errors::invalid(py, format!("partition JSON: {e}")))?;
        let p = dataset::Partition::from_json(&v).map_err(|e| errors::to_py(py, e))?;
        Ok(Partition { inner: Arc::new(p) })
    }

    fn to_json(&self) -> String {
        self.inner.to_json().to_string()
    }

    /// Pickled as its JSON (a process pool or Dask ships it to a worker).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> (Bound<'py, PyType>, (String,)) {
        (slf.get_type(), (slf.get().to_json(),))
    }

    #[getter]
    fn href(&self) -> String {
        self.inner.href.clone()
    }

    #[getter]
    fn points(&self) -> u64 {
        self.inner.points
    }

    #[getter]
    fn node_points(&self) -> u64 {
        self.inner.node_points
    }

    #[getter]
    fn exact(&self) -> bool {
        self.inner.exact
    }

    #[getter]
    fn keys(&self) -> Vec<(i32, i32, i32, i32)> {
        self.inner.keys.iter().map(|k| (k.level, k.x, k.y, k.z)).collect()
    }

    #[getter]
    fn ranges(&self) -> Vec<(u64, u64)> {
        self.inner.ranges.clone()
    }

    #[getter]
    fn dims(&self) -> Option<Vec<String>> {
        self.inner.dims.clone()
    }

    /// The partition's points, its file opened with `options`; `dims` (names) instead
    /// of the planned columns. The file is opened when the result is consumed.
    #[pyo3(signature = (options, dims=None, batch_rows=None))]
    fn read(&self, py: Python<'_>, options: Vec<(String, String)>, dims: Option<Vec<String>>, batch_rows: Option<usize>) -> PyResult<QueryResult> {
        let opts = options::parse(py, &options)?.reader_options();
        let mut p = (*self.inner).clone();
        if dims.is_some() {
            p.dims = dims;
        }
        QueryResult::new(py, Source::Partition(Arc::new(p), Arc::new(opts)), batch_rows, false)
    }

    fn __repr__(&self) -> String {
        let p = &self.inner;
        format!(
            "<copc.Partition {}: {} nodes, {} points{}>",
            p.href,
            p.keys.len(),
            p.points,
            if p.exact { "" } else { " at most" }
        )
    }
}
