//! `copc_query`: which nodes and points to read, and which dimensions to decode.

use super::dims::{check_mask, mask_dims};
use super::{Failure, borrow_mut, c_str, copc_status, free_box, guard, guard_value, into_raw, out_ptr};
use crate::{Bounds, Polygon, Query, RecordFormat};
use std::ffi::c_char;
use std::sync::Arc;

/// A query: a box, a polygon, a resolution, depth limits and the dimensions to decode, each
/// optional (a new query selects every point and decodes every dimension). Passing a
/// NULL query where one is accepted means the same as a new one.
///
/// Thread safety: setting needs exclusive access; once set up, a query may be passed
/// (const) to calls on any threads at once (they copy it).
pub struct copc_query {
    pub(crate) query: Query,
    /// `copc_query_set_dims`' mask (None: every dimension).
    pub(crate) mask: Option<u64>,
}

impl copc_query {
    /// The Rust query for a file of format `format` (the mask expanded to its extra bytes).
    pub(crate) fn for_format(&self, format: &RecordFormat) -> Query {
        let mut q = self.query.clone();
        q.dims = self.mask.map(|m| mask_dims(m, format.extra_bytes.len()));
        q
    }
}

/// The query behind an optional pointer (NULL: everything) and its mask.
///
/// # Safety
/// `q` is NULL or a live `copc_query`.
pub(crate) unsafe fn query_or_all(q: *const copc_query, format: &RecordFormat) -> (Query, Option<u64>) {
    match unsafe { q.as_ref() } {
        Some(q) => (q.for_format(format), q.mask),
        None => (Query::new(), None),
    }
}

/// Creates a query that selects everything (free it with `copc_query_free`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_query_new(out: *mut *mut copc_query) -> copc_status {
    guard("copc_query_new", || {
        let out = out_ptr(out, "out")?;
        unsafe {
            *out = into_raw(copc_query {
                query: Query::new(),
                mask: None,
            })
        };
        Ok(())
    })
}

/// Keeps the points inside the box `min`..`max` (x, y, z; edges inclusive), and the
/// nodes whose cube meets it. For a 2-D box pass `-INFINITY` and `INFINITY` as z.
/// NaN, or a min above its max, gives `COPC_STATUS_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_query_set_bounds(q: *mut copc_query, min: *const f64, max: *const f64) -> copc_status {
    guard("copc_query_set_bounds", || {
        let q = unsafe { borrow_mut(q, "q")? };
        if min.is_null() || max.is_null() {
            return Err(Failure::null(if min.is_null() { "min" } else { "max" }));
        }
        let b = unsafe { Bounds::new(*(min as *const [f64; 3]), *(max as *const [f64; 3])) };
        if !b.is_valid() {
            return Err(Failure::invalid(format!(
                "bounds {:?}..{:?}: NaN, or min above max",
                b.min, b.max
            )));
        }
        q.query.bounds = Some(b);
        Ok(())
    })
}

/// Keeps the points inside a 2-D polygon or multipolygon (edges inclusive, holes
/// excluded), given as WKT (`POLYGON`, `MULTIPOLYGON`) or GeoJSON (Polygon,
/// MultiPolygon, Feature or FeatureCollection of those) in the file's X/Y. Combines
/// with a box. Text that does not parse gives `COPC_STATUS_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_query_set_polygon(q: *mut copc_query, polygon: *const c_char) -> copc_status {
    guard("copc_query_set_polygon", || {
        let q = unsafe { borrow_mut(q, "q")? };
        let text = unsafe { c_str(polygon, "polygon")? };
        q.query.polygon = Some(Arc::new(Polygon::parse(text)?));
        Ok(())
    })
}

/// Keeps the octree levels whose point spacing is coarser than `resolution`, plus the
/// first finer one (PDAL's and laspy's rule). It must be a finite number > 0.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_query_set_resolution(q: *mut copc_query, resolution: f64) -> copc_status {
    guard("copc_query_set_resolution", || {
        let q = unsafe { borrow_mut(q, "q")? };
        if resolution.is_nan() || resolution <= 0.0 || resolution.is_infinite() {
            return Err(Failure::invalid(format!(
                "resolution {resolution} must be a finite number > 0"
            )));
        }
        q.query.resolution = Some(resolution);
        Ok(())
    })
}

/// Keeps octree levels `0..=depth` (the root is level 0); `depth` must be >= 0.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_query_set_max_depth(q: *mut copc_query, depth: i32) -> copc_status {
    guard("copc_query_set_max_depth", || {
        let q = unsafe { borrow_mut(q, "q")? };
        if depth < 0 {
            return Err(Failure::invalid(format!("max depth {depth} must be >= 0")));
        }
        q.query.max_depth = Some(depth);
        Ok(())
    })
}

/// Keeps octree levels `depth` and deeper; `depth` must be >= 0.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_query_set_min_depth(q: *mut copc_query, depth: i32) -> copc_status {
    guard("copc_query_set_min_depth", || {
        let q = unsafe { borrow_mut(q, "q")? };
        if depth < 0 {
            return Err(Failure::invalid(format!("min depth {depth} must be >= 0")));
        }
        q.query.min_depth = Some(depth);
        Ok(())
    })
}

/// Decodes only these dimensions: an OR of `COPC_DIM_BIT(dim)` for standard ids, plus
/// `COPC_DIM_MASK_EXTRA` for the extra bytes. Layers of the compressed data that no
/// selected dimension needs are not decompressed, and reading a column of a dimension
/// outside the mask gives `COPC_STATUS_INVALID_ARGUMENT`. A mask of 0, or with bits
/// 25-62, gives `COPC_STATUS_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_query_set_dims(q: *mut copc_query, dim_mask: u64) -> copc_status {
    guard("copc_query_set_dims", || {
        let q = unsafe { borrow_mut(q, "q")? };
        check_mask(dim_mask)?;
        q.mask = Some(dim_mask);
        Ok(())
    })
}

/// Frees a query; NULL is a no-op. Iterators made with it do not need it any more.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_query_free(q: *mut copc_query) {
    guard_value("copc_query_free", (), || unsafe { free_box(q) })
}
