//! `Reader` (an open COPC file), and the query arguments every face shares.

use crate::result::{QueryResult, Source};
use crate::{errors, options, run};
use copc::{Bounds, Query};
use pyo3::prelude::*;
use pyo3::types::PyDict;
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

/// The region and levels of a query from the Python arguments (bounds as 4 or 6
/// numbers, as `copc query --bounds`).
pub fn region_query(
    py: Python<'_>,
    bounds: Option<Vec<f64>>,
    polygon: Option<String>,
    resolution: Option<f64>,
    max_depth: Option<i32>,
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
    q.validate().map_err(|e| errors::to_py(py, e))?;
    Ok(q)
}

/// The dimensions named `names` in the file `r` (an error names the file).
pub fn dims_by_name(r: &copc::Reader, names: &[String]) -> copc::Result<Vec<copc::Dimension>> {
    let fmt = r.record_format();
    names.iter().map(|n| fmt.dim_by_name(n).ok_or_else(|| copc::Error::invalid(format!("{}: no dimension named '{n}'", r.name())))).collect()
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
        let q = region_query(py, bounds, polygon, resolution, max_depth)?;
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
        let mut q = region_query(py, bounds, polygon, resolution, max_depth)?;
        if let Some(names) = dims {
            q.dims = Some(dims_by_name(&self.inner, &names).map_err(|e| errors::to_py(py, e))?);
        }
        QueryResult::new(py, Source::File(self.inner.clone(), q), batch_rows, true)
    }
}
