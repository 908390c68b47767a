//! `copc_reader`: an open COPC file (path, URL or caller callbacks) and its metadata.

use super::column::{copc_column, fill, targets};
use super::node_iter::copc_node_key;
use super::options::{copc_options, reader_options};
use super::query::{copc_query, query_or_all};
use super::{
    COPC_STATUS_BUFFER_TOO_SMALL, Failure, FfiResult, borrow, c_str, copc_status, error, free_box, guard, guard_value,
    into_raw, out_ptr, put_c_field, write_versioned,
};
use crate::format::point::DimType;
use crate::{CallbackSource, Dimension, Reader, VoxelKey};
use std::ffi::{CStr, CString, c_char, c_void};
use std::sync::{Arc, OnceLock};

/// An open COPC file.
///
/// Thread safety: a reader may be shared by any number of threads for every call
/// that takes a `const copc_reader *`, and for `copc_reader_nodes`,
/// `copc_reader_query_points`, `copc_reader_count` and `copc_reader_read_node`
/// (reads are positional; the lazily loaded hierarchy is behind a lock).
/// `copc_reader_free` must not run concurrently with any other call on it.
/// Iterators keep what they need alive: they may outlive the reader.
pub struct copc_reader {
    pub(crate) reader: Arc<Reader>,
    /// NUL-terminated names of the extra-bytes dimensions (borrowed by `copc_dim_info`).
    pub(crate) extra_names: Vec<CString>,
    crs: OnceLock<Option<CString>>,
}

impl copc_reader {
    fn new(reader: Reader) -> copc_reader {
        let extra_names = reader
            .extra_bytes()
            .iter()
            .map(|e| CString::new(e.name.replace('\0', " ")).unwrap_or_default())
            .collect();
        copc_reader {
            reader: Arc::new(reader),
            extra_names,
            crs: OnceLock::new(),
        }
    }
}

/// `copc_io.flags`: `read` may be called by several threads at once. Without it the
/// library makes one call at a time (from any thread).
pub const COPC_IO_THREAD_SAFE: u32 = 1;

/// Caller read callbacks for `copc_reader_open_io`: the bytes of a COPC file that lives
/// in the caller's storage. The struct is copied by the call; `userdata` is kept.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct copc_io {
    /// Fills `buf` with the `len` bytes at `offset` (always inside `size`) and returns
    /// 0, or returns any other value on failure (the call that needed the bytes then
    /// fails with `COPC_STATUS_IO`, the value in its message). Required. Called from
    /// the threads that use the reader, one call at a time unless `flags` has
    /// `COPC_IO_THREAD_SAFE`.
    pub read: Option<unsafe extern "C" fn(userdata: *mut c_void, offset: u64, buf: *mut u8, len: usize) -> i32>,
    /// Total size of the file in bytes.
    pub size: u64,
    /// A name for messages (copied), or NULL for "copc_io".
    pub name: *const c_char,
    /// Called once with `userdata` when the library no longer needs it: by
    /// `copc_reader_free`, or before `copc_reader_open_io` returns an error (whenever
    /// `io` was not NULL). May be NULL.
    pub close: Option<unsafe extern "C" fn(userdata: *mut c_void)>,
    /// 0 or `COPC_IO_THREAD_SAFE`.
    pub flags: u32,
}

/// The LAS header and the COPC info of an open file (`copc_reader_header`).
/// Set `struct_size = sizeof(copc_header)` before the call: a library newer than the
/// program fills only the fields the program knows, an older one leaves the fields it
/// does not know untouched.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct copc_header {
    pub struct_size: u32,
    pub version_major: u8,
    pub version_minor: u8,
    /// Point data record format (6, 7 or 8 for COPC 1.0), without the LAZ bits.
    pub point_format: u8,
    /// A pre-1.0 draft file (`entwine`/1 info VLR); center, halfsize and spacing derived.
    pub draft: bool,
    pub point_record_length: u16,
    pub file_source_id: u16,
    pub global_encoding: u16,
    pub creation_day: u16,
    pub creation_year: u16,
    pub point_count: u64,
    pub points_by_return: [u64; 15],
    pub scale: [f64; 3],
    pub offset: [f64; 3],
    /// The header's bounds.
    pub min: [f64; 3],
    pub max: [f64; 3],
    /// The octree cube (info VLR): center +- halfsize on every axis.
    pub center: [f64; 3],
    pub halfsize: f64,
    /// Point spacing of the root level.
    pub spacing: f64,
    pub gpstime_min: f64,
    pub gpstime_max: f64,
    pub root_hier_offset: u64,
    pub root_hier_size: u64,
    /// Extra-bytes dimensions (`copc_reader_extra_dim`).
    pub extra_dim_count: u32,
    /// VLRs and EVLRs as the header counts them.
    pub vlr_count: u32,
    pub evlr_count: u32,
    pub system_identifier: [c_char; 33],
    pub generating_software: [c_char; 33],
}

/// An extra-bytes dimension (`copc_reader_extra_dim`). Set `struct_size` first.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct copc_extra_dim {
    pub struct_size: u32,
    /// Its column id: `COPC_DIM_EXTRA_BASE + index`.
    pub dim: i32,
    /// The LAS `data_type` code (0 undocumented bytes, 1-10 scalars, 11-30 arrays).
    pub data_type: u8,
    /// The LAS `options` bits (1 no_data, 2 min, 4 max, 8 scale, 16 offset).
    pub options: u8,
    pub has_no_data: bool,
    pub has_scale: bool,
    pub has_offset: bool,
    /// `copc_type` of one element (undocumented bytes: `COPC_TYPE_UINT8`).
    pub value_type: i32,
    /// Elements per point.
    pub count: u32,
    /// Bytes per point (count * element size).
    pub size: u32,
    pub name: [c_char; 33],
    pub description: [c_char; 33],
    /// Per element; 1 when the file gives none.
    pub scale: [f64; 3],
    /// Per element; 0 when the file gives none.
    pub offset: [f64; 3],
    /// Per element; 0 when the file gives none.
    pub no_data: [f64; 3],
}

/// A VLR or EVLR of the file (`copc_reader_vlr`). Set `struct_size` first.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct copc_vlr {
    pub struct_size: u32,
    pub record_id: u16,
    /// An EVLR (after the points) rather than a VLR.
    pub extended: bool,
    pub user_id: [c_char; 17],
    pub description: [c_char; 33],
    /// File offset and length of the payload.
    pub data_offset: u64,
    pub data_len: u64,
}

/// A path as a C string: UTF-8, or on Unix any bytes.
pub(crate) unsafe fn c_path(p: *const c_char, what: &str) -> FfiResult<std::path::PathBuf> {
    if p.is_null() {
        return Err(Failure::null(what));
    }
    let c = unsafe { CStr::from_ptr(p) };
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(std::path::PathBuf::from(std::ffi::OsStr::from_bytes(c.to_bytes())))
    }
    #[cfg(not(unix))]
    {
        c.to_str()
            .map(Into::into)
            .map_err(|_| Failure::invalid("source is not valid UTF-8"))
    }
}

/// Opens `source`, a local path or an `http://` / `https://` URL, with `opts` (NULL:
/// defaults). Reads the header, the VLRs and the root hierarchy page, nothing more.
/// On success `*out` is a reader to free with `copc_reader_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_reader_open(
    source: *const c_char,
    opts: *const copc_options,
    out: *mut *mut copc_reader,
) -> copc_status {
    guard("copc_reader_open", || {
        let path = unsafe { c_path(source, "source")? };
        let out = out_ptr(out, "out")?;
        let reader = Reader::open_with(&path, &unsafe { reader_options(opts) })?;
        unsafe { *out = into_raw(copc_reader::new(reader)) };
        Ok(())
    })
}

/// The caller's userdata and callbacks; `close` runs when the last user drops it.
struct Userdata {
    data: *mut c_void,
    close: Option<unsafe extern "C" fn(*mut c_void)>,
}

// SAFETY: `copc_io` documents that the callbacks are called from any thread
// (serialized unless COPC_IO_THREAD_SAFE), and the pointer is only passed back to them.
unsafe impl Send for Userdata {}
unsafe impl Sync for Userdata {}

impl Drop for Userdata {
    fn drop(&mut self) {
        if let Some(close) = self.close {
            unsafe { close(self.data) };
        }
    }
}

/// Opens a COPC file whose bytes come from the caller's callbacks (`copc_io`); the
/// rest is like `copc_reader_open` (HTTP options do not apply). `userdata` is passed
/// to every callback.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_reader_open_io(
    io: *const copc_io,
    userdata: *mut c_void,
    opts: *const copc_options,
    out: *mut *mut copc_reader,
) -> copc_status {
    guard("copc_reader_open_io", || {
        let io = *unsafe { borrow(io, "io")? };
        // From here on, dropping `user` (on any error) calls io.close.
        let user = Userdata {
            data: userdata,
            close: io.close,
        };
        let out = out_ptr(out, "out")?;
        let read = io.read.ok_or_else(|| Failure::null("io->read"))?;
        let name = if io.name.is_null() {
            "copc_io".to_string()
        } else {
            unsafe { c_str(io.name, "io->name")? }.to_string()
        };
        let f = move |offset: u64, buf: &mut [u8]| -> Result<(), String> {
            let user = &user;
            match unsafe { read(user.data, offset, buf.as_mut_ptr(), buf.len()) } {
                0 => Ok(()),
                e => Err(format!("copc_io read callback returned {e}")),
            }
        };
        let source = if io.flags & COPC_IO_THREAD_SAFE != 0 {
            CallbackSource::new(name, io.size, f)
        } else {
            CallbackSource::serialized(name, io.size, f)
        };
        let reader = Reader::from_source(Arc::new(source), &unsafe { reader_options(opts) })?;
        unsafe { *out = into_raw(copc_reader::new(reader)) };
        Ok(())
    })
}

/// Frees a reader (closing its file, or calling `copc_io.close`, once no iterator
/// needs it any more); NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_reader_free(r: *mut copc_reader) {
    guard_value("copc_reader_free", (), || unsafe { free_box(r) })
}

/// Fills `*out` with the header and COPC info (see `copc_header` for `struct_size`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_reader_header(r: *const copc_reader, out: *mut copc_header) -> copc_status {
    guard("copc_reader_header", || {
        let r = unsafe { borrow(r, "r")? };
        let out = out_ptr(out, "out")?;
        let reader = &r.reader;
        let h = reader.header();
        let info = reader.info();
        let mut v = copc_header {
            struct_size: 0,
            version_major: h.version.0,
            version_minor: h.version.1,
            point_format: h.point_format,
            draft: reader.is_draft(),
            point_record_length: h.point_record_length,
            file_source_id: h.raw.file_source_id,
            global_encoding: h.raw.global_encoding,
            creation_day: h.raw.file_creation_day_of_year,
            creation_year: h.raw.file_creation_year,
            point_count: h.point_count,
            points_by_return: h.points_by_return,
            scale: h.scale,
            offset: h.offset,
            min: h.min,
            max: h.max,
            center: info.center,
            halfsize: info.halfsize,
            spacing: info.spacing,
            gpstime_min: info.gpstime_minimum,
            gpstime_max: info.gpstime_maximum,
            root_hier_offset: info.root_hier_offset,
            root_hier_size: info.root_hier_size,
            extra_dim_count: reader.extra_bytes().len() as u32,
            vlr_count: h.vlr_count(),
            evlr_count: h.evlr_count,
            system_identifier: [0; 33],
            generating_software: [0; 33],
        };
        put_c_field(&mut v.system_identifier, &h.system_identifier());
        put_c_field(&mut v.generating_software, &h.generating_software());
        unsafe { write_versioned(out, &v, "copc_header") }
    })
}

/// The WKT of the file's CRS (from the `LASF_Projection`/2112 VLR or EVLR), owned by
/// the reader and valid while it lives; NULL when the file has none, or when `r` is
/// NULL or the record cannot be read (then `copc_last_error_message()` says why; it is
/// "" when there is simply no WKT).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_reader_crs_wkt(r: *const copc_reader) -> *const c_char {
    error::clear();
    guard_value("copc_reader_crs_wkt", std::ptr::null(), || {
        let Some(r) = (unsafe { r.as_ref() }) else {
            error::set("copc_reader_crs_wkt: r is NULL".into());
            return std::ptr::null();
        };
        let wkt = match r.crs.get() {
            Some(w) => w,
            None => match r.reader.crs_wkt() {
                Ok(w) => r
                    .crs
                    .get_or_init(|| w.map(|s| CString::new(s.replace('\0', " ")).unwrap_or_default())),
                Err(e) => {
                    error::set(format!("copc_reader_crs_wkt: {e}"));
                    return std::ptr::null();
                }
            },
        };
        wkt.as_ref().map(|c| c.as_ptr()).unwrap_or(std::ptr::null())
    })
}

/// Number of extra-bytes dimensions.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_reader_extra_dim_count(r: *const copc_reader, out: *mut usize) -> copc_status {
    guard("copc_reader_extra_dim_count", || {
        let r = unsafe { borrow(r, "r")? };
        let out = out_ptr(out, "out")?;
        unsafe { *out = r.reader.extra_bytes().len() };
        Ok(())
    })
}

/// Describes extra-bytes dimension `index` (0-based; see `copc_extra_dim`); an index
/// past the count gives `COPC_STATUS_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_reader_extra_dim(
    r: *const copc_reader,
    index: usize,
    out: *mut copc_extra_dim,
) -> copc_status {
    guard("copc_reader_extra_dim", || {
        let r = unsafe { borrow(r, "r")? };
        let out = out_ptr(out, "out")?;
        let ebs = r.reader.extra_bytes();
        let eb = ebs.get(index).ok_or_else(|| {
            Failure::invalid(format!(
                "extra-bytes dimension {index} does not exist (the file has {})",
                ebs.len()
            ))
        })?;
        let ty = DimType::of_extra(eb.scalar);
        let dim = if index < Dimension::MAX_EXTRA_IDS as usize {
            Dimension::ExtraRaw(index as u16).id() as i32
        } else {
            -1
        };
        let mut v = copc_extra_dim {
            struct_size: 0,
            dim,
            data_type: eb.data_type,
            options: eb.options,
            has_no_data: eb.no_data.is_some(),
            has_scale: eb.scale.is_some(),
            has_offset: eb.offset.is_some(),
            value_type: super::copc_type::from(ty) as i32,
            count: eb.count as u32,
            size: eb.size() as u32,
            name: [0; 33],
            description: [0; 33],
            scale: eb.scale.unwrap_or([1.0; 3]),
            offset: eb.offset.unwrap_or([0.0; 3]),
            no_data: eb.no_data.unwrap_or([0.0; 3]),
        };
        put_c_field(&mut v.name, &eb.name);
        put_c_field(&mut v.description, &eb.description);
        unsafe { write_versioned(out, &v, "copc_extra_dim") }
    })
}

/// All VLRs, then all EVLRs (may read the EVLR headers).
fn records(r: &copc_reader) -> FfiResult<Vec<&crate::format::Vlr>> {
    let las = r.reader.las();
    Ok(las.vlrs.iter().chain(las.evlrs()?.iter()).collect())
}

/// Number of VLRs and EVLRs the file holds (`copc_reader_vlr` index range).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_reader_vlr_count(r: *const copc_reader, out: *mut usize) -> copc_status {
    guard("copc_reader_vlr_count", || {
        let r = unsafe { borrow(r, "r")? };
        let out = out_ptr(out, "out")?;
        let n = records(r)?.len();
        unsafe { *out = n };
        Ok(())
    })
}

fn record(r: &copc_reader, index: usize) -> FfiResult<&crate::format::Vlr> {
    let all = records(r)?;
    let n = all.len();
    all.into_iter()
        .nth(index)
        .ok_or_else(|| Failure::invalid(format!("VLR {index} does not exist (the file has {n} VLRs and EVLRs)")))
}

/// Describes record `index`: the VLRs in file order, then the EVLRs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_reader_vlr(r: *const copc_reader, index: usize, out: *mut copc_vlr) -> copc_status {
    guard("copc_reader_vlr", || {
        let r = unsafe { borrow(r, "r")? };
        let out = out_ptr(out, "out")?;
        let v = record(r, index)?;
        let mut c = copc_vlr {
            struct_size: 0,
            record_id: v.record_id,
            extended: v.extended,
            user_id: [0; 17],
            description: [0; 33],
            data_offset: v.data_offset,
            data_len: v.data_len,
        };
        put_c_field(&mut c.user_id, &v.user_id);
        put_c_field(&mut c.description, &v.description);
        unsafe { write_versioned(out, &c, "copc_vlr") }
    })
}

/// Copies the payload of record `index` into `buf` (`capacity` bytes; `buf` may be
/// NULL when `capacity` is 0) and its length into `*out_len`. A payload longer than
/// `capacity` gives `COPC_STATUS_BUFFER_TOO_SMALL` (`copc_vlr.data_len` is its length).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_reader_vlr_data(
    r: *const copc_reader,
    index: usize,
    buf: *mut u8,
    capacity: usize,
    out_len: *mut usize,
) -> copc_status {
    guard("copc_reader_vlr_data", || {
        let r = unsafe { borrow(r, "r")? };
        let out_len = out_ptr(out_len, "out_len")?;
        if buf.is_null() && capacity > 0 {
            return Err(Failure::null("buf"));
        }
        let v = record(r, index)?;
        if v.data_len > capacity as u64 {
            return Err(Failure::new(
                COPC_STATUS_BUFFER_TOO_SMALL,
                format!("VLR {index} has {} bytes, capacity is {capacity}", v.data_len),
            ));
        }
        let data = r.reader.las().payload(v)?;
        if !data.is_empty() {
            unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), buf, data.len()) };
        }
        unsafe { *out_len = data.len() };
        Ok(())
    })
}

/// Counts the points `q` selects (NULL: all). Nodes entirely inside the box are
/// counted from the hierarchy; only nodes the box cuts are decoded.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_reader_count(r: *const copc_reader, q: *const copc_query, out: *mut u64) -> copc_status {
    guard("copc_reader_count", || {
        let r = unsafe { borrow(r, "r")? };
        let out = out_ptr(out, "out")?;
        let (query, _) = unsafe { query_or_all(q, r.reader.record_format()) };
        let n = r.reader.count(&query)?;
        unsafe { *out = n };
        Ok(())
    })
}

/// Decodes every point of node `key` into the columns (only the dimensions the columns
/// name are decompressed) and sets `*out_count` to the node's point count (0 for a
/// node without points). A node with more points than `capacity` gives
/// `COPC_STATUS_BUFFER_TOO_SMALL` (`copc_node.point_count` says how many it has); a key
/// not in the hierarchy gives `COPC_STATUS_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_reader_read_node(
    r: *mut copc_reader,
    key: *const copc_node_key,
    cols: *const copc_column,
    ncols: usize,
    capacity: usize,
    out_count: *mut usize,
) -> copc_status {
    guard("copc_reader_read_node", || {
        let r = unsafe { borrow(r as *const copc_reader, "r")? };
        let key = unsafe { borrow(key, "key")? };
        let out_count = out_ptr(out_count, "out_count")?;
        let format = r.reader.record_format();
        let targets = unsafe { targets(cols, ncols, capacity, format, None)? };
        let mut dims: Vec<Dimension> = Vec::new();
        for i in 0..ncols {
            let d = super::dims::dimension(unsafe { (*cols.add(i)).dim }, format)?;
            if !dims.contains(&d) {
                dims.push(d);
            }
        }
        let k = VoxelKey::new(key.level, key.x, key.y, key.z);
        let batch = r.reader.read_node(k, Some(&dims))?;
        if batch.len() > capacity {
            return Err(Failure::new(
                COPC_STATUS_BUFFER_TOO_SMALL,
                format!("node {k} has {} points, capacity is {capacity}", batch.len()),
            ));
        }
        unsafe { fill(&targets, &batch, 0, batch.len(), 0)? };
        unsafe { *out_count = batch.len() };
        Ok(())
    })
}
