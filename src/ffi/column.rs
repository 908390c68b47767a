//! `copc_column`: a caller buffer that receives one dimension of many points.

use super::dims::{dimension, mask_allows};
use super::{Failure, FfiResult};
use crate::{Dimension, PointBatch, RecordFormat};
use std::ffi::c_void;

/// Where one dimension of the points goes: value (or, for extra-bytes arrays, the
/// elements) of point `k` at byte `k * stride` of `data`, in the dimension's type
/// (`copc_dim`, `copc_reader_dim_info`), native byte order. `stride` 0 means packed
/// (the dimension's size per point); otherwise it must be at least that size, so that
/// columns can fill the fields of an array of structs. `data` must hold
/// `(capacity - 1) * stride + size` bytes for the `capacity` of the call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct copc_column {
    /// A `copc_dim` id.
    pub dim: i32,
    pub data: *mut c_void,
    pub stride: usize,
}

/// A checked column.
pub(crate) struct Target {
    dim: Dimension,
    data: *mut u8,
    stride: usize,
    size: usize,
}

/// Checks the caller's columns against the file and the query's mask (None: all).
///
/// # Safety
/// `cols` is NULL or points to `ncols` columns.
pub(crate) unsafe fn targets(
    cols: *const copc_column,
    ncols: usize,
    capacity: usize,
    format: &RecordFormat,
    mask: Option<u64>,
) -> FfiResult<Vec<Target>> {
    if ncols > 0 && cols.is_null() {
        return Err(Failure::null("cols"));
    }
    if capacity == 0 {
        return Err(Failure::invalid("capacity 0: the buffers must hold at least one point"));
    }
    let cols = if ncols == 0 {
        &[][..]
    } else {
        unsafe { std::slice::from_raw_parts(cols, ncols) }
    };
    let mut out = Vec::with_capacity(ncols);
    for (i, c) in cols.iter().enumerate() {
        if c.data.is_null() {
            return Err(Failure::null(&format!("cols[{i}].data")));
        }
        let dim = dimension(c.dim, format).map_err(|f| Failure::invalid(format!("cols[{i}]: {}", f.message)))?;
        if !mask_allows(mask, dim) {
            return Err(Failure::invalid(format!(
                "cols[{i}]: dimension {} ({}) is not in the query's dimension mask",
                c.dim,
                format.dim_name(dim)
            )));
        }
        let size = format.value_size(dim)?;
        let stride = if c.stride == 0 { size } else { c.stride };
        if stride < size {
            return Err(Failure::invalid(format!(
                "cols[{i}]: stride {stride} is smaller than the {size} bytes of dimension {}",
                c.dim
            )));
        }
        if (capacity - 1)
            .checked_mul(stride)
            .and_then(|b| b.checked_add(size))
            .is_none_or(|b| b > isize::MAX as usize)
        {
            return Err(Failure::invalid(format!(
                "cols[{i}]: capacity {capacity} times stride {stride} overflows"
            )));
        }
        out.push(Target {
            dim,
            data: c.data as *mut u8,
            stride,
            size,
        });
    }
    Ok(out)
}

/// Writes points `from..from + n` of `batch` to slots `at..at + n` of every column.
///
/// # Safety
/// The targets came from [`targets`] with a capacity of at least `at + n`, and their
/// buffers are alive and not read or written by anyone else during the call.
pub(crate) unsafe fn fill(targets: &[Target], batch: &PointBatch, from: usize, n: usize, at: usize) -> FfiResult<()> {
    if n == 0 {
        return Ok(());
    }
    for t in targets {
        // One column's slice at a time: columns may interleave in one array of structs.
        let len = (n - 1) * t.stride + t.size;
        let dst = unsafe { std::slice::from_raw_parts_mut(t.data.add(at * t.stride), len) };
        batch.write_column(t.dim, from, n, dst, t.stride)?;
    }
    Ok(())
}
