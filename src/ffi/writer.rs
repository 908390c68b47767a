//! `copc_writer` (points in, a COPC file out) and `copc_translate` (LAS/LAZ files in).

use super::column::copc_column;
use super::options::{copc_options, writer_options};
use super::reader::c_path;
use super::{
    COPC_STATUS_INVALID_STATE, Failure, borrow_mut, c_str, copc_status, free_box, guard, guard_value, into_raw, out_ptr,
};
use crate::Dimension;
use crate::writer::{PointColumn, PointWriter, UserVlr, translate};
use std::ffi::c_char;

/// A COPC file being written from points. The library builds the octree: add points
/// in any order with `copc_writer_add_points`, then `copc_writer_close` writes the
/// file (through a temporary name, so the output path holds either nothing or a
/// complete file). `copc_writer_free` without a successful close discards the points
/// and leaves nothing behind.
///
/// Thread safety: one thread at a time (it may move between threads).
pub struct copc_writer {
    /// None once closed.
    writer: Option<PointWriter>,
}

/// Starts a COPC file at `path` with `opts` (NULL: defaults; the writing keys of
/// `copc_options` apply: `scale`, `offset`, `a_srs`, `point_format`, `threads`,
/// `memory_limit`, `temp_dir`, `temp_compression`, `max_points_per_node` and the
/// header fields `filesource_id` ... `creation_year`). On
/// success `*out` is a writer to close with `copc_writer_close` and free with
/// `copc_writer_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_writer_create(
    path: *const c_char,
    opts: *const copc_options,
    out: *mut *mut copc_writer,
) -> copc_status {
    guard("copc_writer_create", || {
        let path = unsafe { c_path(path, "path")? };
        let out = out_ptr(out, "out")?;
        let (wopts, format) = unsafe { writer_options(opts) };
        let w = PointWriter::create(&path, wopts, format)?;
        unsafe { *out = into_raw(copc_writer { writer: Some(w) }) };
        Ok(())
    })
}

/// Declares an extra-bytes dimension of the points (before the first
/// `copc_writer_add_points`): one value per point of `value_type` (a `copc_type`,
/// `COPC_TYPE_UINT8` ... `COPC_TYPE_DOUBLE`), named `name` (1-32 bytes, unique),
/// described by `description` (up to 32 bytes; NULL for none), stored without scale
/// or offset. Sets `*out_dim` to its column id, `COPC_DIM_EXTRA_BASE + i` for the
/// `i`-th declared, whose columns in `copc_writer_add_points` hold values of
/// `value_type`; the file gets the extra-bytes VLR describing them. After points were
/// added or after `copc_writer_close`: `COPC_STATUS_INVALID_STATE`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_writer_add_extra_dim(
    w: *mut copc_writer,
    name: *const c_char,
    value_type: i32,
    description: *const c_char,
    out_dim: *mut i32,
) -> copc_status {
    guard("copc_writer_add_extra_dim", || {
        let w = unsafe { borrow_mut(w, "w")? };
        let name = unsafe { c_str(name, "name")? };
        let description = if description.is_null() { "" } else { unsafe { c_str(description, "description")? } };
        let out_dim = out_ptr(out_dim, "out_dim")?;
        let writer = w
            .writer
            .as_mut()
            .ok_or_else(|| Failure::new(COPC_STATUS_INVALID_STATE, "the writer is closed"))?;
        if writer.points() > 0 {
            return Err(Failure::new(
                COPC_STATUS_INVALID_STATE,
                format!("extra dimension '{name}': declare extra dimensions before the first copc_writer_add_points"),
            ));
        }
        let data_type = u8::try_from(value_type)
            .ok()
            .filter(|t| (1..=10).contains(t))
            .ok_or_else(|| Failure::invalid(format!("value_type {value_type} is not a copc_type (1-10)")))?;
        let dim = writer.add_extra_dim(name, data_type, description)?;
        unsafe { *out_dim = dim.id() as i32 };
        Ok(())
    })
}

/// Adds a record to copy into the file: a VLR, or an EVLR when `extended` is nonzero
/// (a VLR of more than 65535 bytes is written as an EVLR), after the records the
/// writer makes and in the order added; one equal to a record added before is written
/// once. `user_id`: 1-16 bytes; `description`: up to 32 bytes (NULL for none); `data`:
/// `len` bytes (NULL when `len` is 0), copied. Any time before `copc_writer_close`.
/// The writer's own records are refused with `COPC_STATUS_INVALID_ARGUMENT` and the
/// reason in the message: `LASF_Projection` (the CRS comes from the `a_srs` option),
/// `LASF_Spec` 4 (extra bytes: `copc_writer_add_extra_dim`), `LASF_Spec` 100-354 and
/// 65535 (waveform), `copc` and `laszip encoded`. After `copc_writer_close`:
/// `COPC_STATUS_INVALID_STATE`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_writer_add_vlr(
    w: *mut copc_writer,
    user_id: *const c_char,
    record_id: u16,
    description: *const c_char,
    data: *const u8,
    len: usize,
    extended: i32,
) -> copc_status {
    guard("copc_writer_add_vlr", || {
        let w = unsafe { borrow_mut(w, "w")? };
        let user_id = unsafe { c_str(user_id, "user_id")? };
        let description = if description.is_null() { "" } else { unsafe { c_str(description, "description")? } };
        if data.is_null() && len > 0 {
            return Err(Failure::null("data"));
        }
        if len > isize::MAX as usize {
            return Err(Failure::invalid(format!("len {len} is larger than any buffer")));
        }
        let writer = w
            .writer
            .as_mut()
            .ok_or_else(|| Failure::new(COPC_STATUS_INVALID_STATE, "the writer is closed"))?;
        // SAFETY: the caller's buffer holds `len` bytes (documented).
        let bytes = if len == 0 { Vec::new() } else { unsafe { std::slice::from_raw_parts(data, len) }.to_vec() };
        writer.add_vlr(UserVlr {
            user_id: user_id.to_string(),
            record_id,
            description: description.to_string(),
            data: bytes,
            extended: extended != 0,
        })?;
        Ok(())
    })
}

/// Adds `count` points from the columns (`copc_column`: standard dimension ids, or
/// `COPC_DIM_EXTRA_BASE + i` for dimensions declared with `copc_writer_add_extra_dim`;
/// values in the types `copc_dim` documents, `stride` 0 = packed). X, Y and Z (doubles)
/// are required in every call, or X_RAW, Y_RAW and Z_RAW when the `scale` and `offset`
/// options are set; dimensions not given are 0 (return number and number of returns
/// 1). RGB needs point format 7 or 8 and NIR 8 (when `point_format` is not set, the
/// first call's columns choose it). A value the file cannot hold (a coordinate beyond
/// the 32-bit range of scale and offset, a flag other than 0 or 1) gives
/// `COPC_STATUS_INVALID_ARGUMENT` and adds none of the points. After
/// `copc_writer_close`: `COPC_STATUS_INVALID_STATE`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_writer_add_points(
    w: *mut copc_writer,
    cols: *const copc_column,
    ncols: usize,
    count: usize,
) -> copc_status {
    guard("copc_writer_add_points", || {
        let w = unsafe { borrow_mut(w, "w")? };
        if ncols > 0 && cols.is_null() {
            return Err(Failure::null("cols"));
        }
        let writer = w
            .writer
            .as_mut()
            .ok_or_else(|| Failure::new(COPC_STATUS_INVALID_STATE, "the writer is closed"))?;
        let cols = if ncols == 0 {
            &[][..]
        } else {
            unsafe { std::slice::from_raw_parts(cols, ncols) }
        };
        let mut columns = Vec::with_capacity(ncols);
        for (i, c) in cols.iter().enumerate() {
            let dim = u32::try_from(c.dim)
                .ok()
                .and_then(Dimension::from_id)
                .filter(|d| !matches!(d, Dimension::Extra(_)))
                .ok_or_else(|| {
                    Failure::invalid(format!(
                        "cols[{i}]: {} is not a standard copc_dim (0-24) nor COPC_DIM_EXTRA_BASE + i",
                        c.dim
                    ))
                })?;
            if c.data.is_null() {
                return Err(Failure::null(&format!("cols[{i}].data")));
            }
            let size = writer.column_size(dim).ok_or_else(|| {
                Failure::invalid(format!("cols[{i}]: extra dimension {} was not declared (copc_writer_add_extra_dim)", c.dim))
            })?;
            let stride = if c.stride == 0 { size } else { c.stride };
            if stride < size {
                return Err(Failure::invalid(format!(
                    "cols[{i}]: stride {stride} < {size} bytes of {}",
                    dim.name()
                )));
            }
            let len = match count {
                0 => 0,
                n => (n - 1)
                    .checked_mul(stride)
                    .and_then(|b| b.checked_add(size))
                    .filter(|b| *b <= isize::MAX as usize)
                    .ok_or_else(|| {
                        Failure::invalid(format!("cols[{i}]: {count} points times stride {stride} overflows"))
                    })?,
            };
            // SAFETY: the caller's buffer holds `count` values at `stride` (documented).
            let data = unsafe { std::slice::from_raw_parts(c.data as *const u8, len) };
            columns.push(PointColumn { dim, data, stride });
        }
        writer.add(count, &columns)?;
        Ok(())
    })
}

/// Builds the octree and writes the file. The writer then only accepts
/// `copc_writer_free` (a second close gives `COPC_STATUS_INVALID_STATE`). When the
/// close fails, nothing is left at the path.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_writer_close(w: *mut copc_writer) -> copc_status {
    guard("copc_writer_close", || {
        let w = unsafe { borrow_mut(w, "w")? };
        let writer = w
            .writer
            .take()
            .ok_or_else(|| Failure::new(COPC_STATUS_INVALID_STATE, "the writer is already closed"))?;
        writer.finish()?;
        Ok(())
    })
}

/// Frees a writer; without a successful `copc_writer_close` the points are discarded
/// and nothing is written. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_writer_free(w: *mut copc_writer) {
    guard_value("copc_writer_free", (), || unsafe { free_box(w) })
}

/// Converts LAS/LAZ files (LAS 1.0-1.4, point formats 0-10; several are merged) into
/// one COPC file at `output`, with the writing keys of `opts` (NULL: defaults), as
/// `copc translate` does. `inputs` holds `n_inputs` (>= 1) paths or URLs
/// (`http(s)://`, `s3://`, `az://`, `gs://`; read by range with the reading keys of `opts`).
/// A single input named `ept.json` (a path or a URL) is an EPT dataset, repacked node
/// for node without rebuilding its octree.
/// Thread safety: may be called from several threads at once (for different outputs).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_translate(
    inputs: *const *const c_char,
    n_inputs: usize,
    output: *const c_char,
    opts: *const copc_options,
) -> copc_status {
    guard("copc_translate", || {
        if inputs.is_null() {
            return Err(Failure::null("inputs"));
        }
        let output = unsafe { c_path(output, "output")? };
        if n_inputs == 0 {
            return Err(Failure::invalid("no input file (n_inputs is 0)"));
        }
        let raw = unsafe { std::slice::from_raw_parts(inputs, n_inputs) };
        let mut paths = Vec::with_capacity(n_inputs);
        for (i, p) in raw.iter().enumerate() {
            paths.push(unsafe { c_path(*p, &format!("inputs[{i}]"))? });
        }
        let (wopts, _) = unsafe { writer_options(opts) };
        if let [one] = paths.as_slice() {
            if let Some(ept) = one.to_str().filter(|s| crate::ept::is_ept_location(s)) {
                crate::ept::translate_ept(ept, &output, &wopts)?;
                return Ok(());
            }
        }
        translate(&paths, &output, &wopts)?;
        Ok(())
    })
}
