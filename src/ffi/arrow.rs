//! `copc_arrow_options` and the Arrow C stream of a query (`copc_reader_query_arrow`).
//! The logic is in `crate::arrow`; `struct ArrowArrayStream` and `struct ArrowSchema`
//! are the Arrow C data interface's (defined in copc.h under the spec's guards).

use super::dims::dimension;
use super::query::{copc_query, query_or_all};
use super::reader::copc_reader;
use super::{Failure, FfiResult, borrow, borrow_mut, c_str, copc_status, free_box, guard, guard_value, into_raw, out_ptr};
use crate::Dimension;
use crate::arrow::{ArrowColumn, ArrowOptions, Geometry, into_c_stream};
use arrow_array::ffi::FFI_ArrowSchema;
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use std::ffi::c_char;

/// What `copc_reader_query_arrow` puts in its batches (docs/arrow.md), set one key at
/// a time with `copc_arrow_options_set`; NULL options mean the defaults.
///
/// * `"batch_rows"`: most rows in one batch, >= 1 (default 65536).
/// * `"raw_xyz"`: `"yes"` adds `x_raw`, `y_raw`, `z_raw` (int32); default `"no"`.
/// * `"geometry"`: `"none"` (default), `"geoarrow"` (a `geoarrow.point` struct column,
///   the file's WKT as its CRS) or `"wkb"` (ISO WKB, extension `ogc.wkb`, as GDAL).
/// * `"geometry_name"`: the geometry column's name (default `"geometry"`).
/// * `"node_columns"`: `"yes"` adds `node_level`, `node_x`, `node_y`, `node_z` (int32)
///   and `point_index` (uint32, the point's position in its node's chunk).
/// * `"point_id"`: the name of a first, int64 column of stable point ids (the points of the
///   data nodes before the point's node, in file order, plus `point_index`); `""`
///   (default): none.
///
/// Columns: by default one per dimension of the query's dimension mask (every
/// dimension of the file without one); `copc_arrow_options_add_column` chooses them
/// one by one instead.
///
/// Thread safety: setting needs exclusive access; once set up, options may be passed
/// (const) to calls on any threads at once.
#[derive(Default)]
pub struct copc_arrow_options {
    pub(crate) opts: ArrowOptions,
}

fn yes_no(key: &str, value: &str) -> FfiResult<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Ok(true),
        "no" | "false" | "off" | "0" => Ok(false),
        _ => Err(Failure::invalid(format!("option {key}: '{value}' is not yes or no"))),
    }
}

/// Creates Arrow options with the defaults (free them with `copc_arrow_options_free`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_arrow_options_new(out: *mut *mut copc_arrow_options) -> copc_status {
    guard("copc_arrow_options_new", || {
        let out = out_ptr(out, "out")?;
        unsafe { *out = into_raw(copc_arrow_options::default()) };
        Ok(())
    })
}

/// Sets one option (see `copc_arrow_options`); an unknown key or a bad value gives
/// `COPC_STATUS_INVALID_ARGUMENT` and leaves the options as they were.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_arrow_options_set(
    o: *mut copc_arrow_options,
    key: *const c_char,
    value: *const c_char,
) -> copc_status {
    guard("copc_arrow_options_set", || {
        let o = unsafe { borrow_mut(o, "o")? };
        let key = unsafe { c_str(key, "key")? };
        let value = unsafe { c_str(value, "value")? };
        let opts = &mut o.opts;
        match key {
            "batch_rows" => {
                let n: usize = value.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    Failure::invalid(format!("option batch_rows: '{value}' is not an integer >= 1"))
                })?;
                opts.batch_rows = n;
            }
            "raw_xyz" => opts.raw_xyz = yes_no(key, value)?,
            "node_columns" => opts.node_columns = yes_no(key, value)?,
            "geometry" => {
                opts.geometry = match value.trim().to_ascii_lowercase().as_str() {
                    "none" | "" => None,
                    "geoarrow" | "geoarrow.point" => Some(Geometry::GeoArrowPoint),
                    "wkb" | "ogc.wkb" => Some(Geometry::Wkb),
                    _ => {
                        return Err(Failure::invalid(format!(
                            "option geometry: '{value}' (expected none, geoarrow or wkb)"
                        )));
                    }
                }
            }
            "geometry_name" => {
                if value.is_empty() {
                    return Err(Failure::invalid("option geometry_name: empty"));
                }
                opts.geometry_name = value.to_string();
            }
            "point_id" => opts.point_id = (!value.is_empty()).then(|| value.to_string()),
            _ => {
                return Err(Failure::invalid(format!(
                    "unknown Arrow option '{key}' (batch_rows, raw_xyz, geometry, geometry_name, node_columns, point_id)"
                )));
            }
        }
        Ok(())
    })
}

/// Appends a column: dimension `dim` (a `copc_dim` id: `COPC_DIM_EXTRA_BASE + i` gives
/// extra-bytes dimension i in its declared type, `COPC_DIM_EXTRA_DOUBLE_BASE + i` as a
/// scaled double) named `name` (NULL: the dimension's name). Once a column is added,
/// the batches hold the added columns, in the order added, instead of one per
/// dimension of the query; the query decodes what they need. Whether an extra-bytes
/// index exists is checked by `copc_reader_query_arrow`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_arrow_options_add_column(
    o: *mut copc_arrow_options,
    dim: i32,
    name: *const c_char,
) -> copc_status {
    guard("copc_arrow_options_add_column", || {
        let o = unsafe { borrow_mut(o, "o")? };
        let d = u32::try_from(dim).ok().and_then(Dimension::from_id).ok_or_else(|| {
            Failure::invalid(format!(
                "dimension {dim} is not a copc_dim (0-24, COPC_DIM_EXTRA_BASE + i, COPC_DIM_EXTRA_DOUBLE_BASE + i)"
            ))
        })?;
        let name = if name.is_null() { None } else { Some(unsafe { c_str(name, "name")? }.to_string()) };
        o.opts.columns.get_or_insert_with(Vec::new).push(ArrowColumn { dim: d, name });
        Ok(())
    })
}

/// Frees Arrow options; NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_arrow_options_free(o: *mut copc_arrow_options) {
    guard_value("copc_arrow_options_free", (), || unsafe { free_box(o) })
}

/// The options behind an optional pointer, checked against the file.
unsafe fn options(r: &copc_reader, o: *const copc_arrow_options) -> FfiResult<ArrowOptions> {
    let opts = unsafe { o.as_ref() }.map(|o| o.opts.clone()).unwrap_or_default();
    if let Some(cols) = &opts.columns {
        for (i, c) in cols.iter().enumerate() {
            dimension(c.dim.id() as i32, r.reader.record_format())
                .map_err(|f| Failure::invalid(format!("column {i}: {}", f.message)))?;
        }
    }
    Ok(opts)
}

/// Starts the Arrow C stream of the points `q` selects (NULL: all) with options `o`
/// (NULL: the defaults) and writes it to `*out` (a `struct ArrowArrayStream` of the
/// Arrow C stream interface; the caller owns it and must call its `release`). Only the
/// hierarchy is read here; each `get_next` decodes what its batch needs.
///
/// The stream holds what it needs (the file stays open): it may outlive the reader,
/// the query and the options. Its callbacks may be called from any thread, one at a
/// time. `get_next` returns 0 and a released array at the end; on a failure it returns
/// an errno code (EIO for I/O and format errors, EINVAL for invalid arguments) and
/// `get_last_error` the library's message (file, node, what was expected), and every
/// later `get_next` returns the same code. Releasing the stream early frees everything
/// it held; arrays already taken stay valid until their own `release`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_reader_query_arrow(
    r: *const copc_reader,
    q: *const copc_query,
    o: *const copc_arrow_options,
    out: *mut FFI_ArrowArrayStream,
) -> copc_status {
    guard("copc_reader_query_arrow", || {
        let r = unsafe { borrow(r, "r")? };
        let out = out_ptr(out, "out")?;
        let opts = unsafe { options(r, o)? };
        let (query, _) = unsafe { query_or_all(q, r.reader.record_format()) };
        let stream = into_c_stream(r.reader.arrow_shared(&query, &opts)?);
        // The caller's struct may hold anything: written, never dropped.
        unsafe { std::ptr::write(out, stream) };
        Ok(())
    })
}

/// Writes the schema `copc_reader_query_arrow` would give for `q` and `o` to `*out` (a
/// `struct ArrowSchema`; the caller must call its `release`), without reading points.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_reader_query_arrow_schema(
    r: *const copc_reader,
    q: *const copc_query,
    o: *const copc_arrow_options,
    out: *mut FFI_ArrowSchema,
) -> copc_status {
    guard("copc_reader_query_arrow_schema", || {
        let r = unsafe { borrow(r, "r")? };
        let out = out_ptr(out, "out")?;
        let opts = unsafe { options(r, o)? };
        let (query, _) = unsafe { query_or_all(q, r.reader.record_format()) };
        let schema = r.reader.arrow_schema(&query, &opts)?;
        let ffi = FFI_ArrowSchema::try_from(schema.as_ref())
            .map_err(|e| Failure::invalid(format!("exporting the Arrow schema: {e}")))?;
        unsafe { std::ptr::write(out, ffi) };
        Ok(())
    })
}
