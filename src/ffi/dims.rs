//! `copc_dim` (dimension ids), `copc_type` (value types) and `copc_dim_info`.

use super::reader::copc_reader;
use super::{Failure, FfiResult, borrow, copc_status, guard, out_ptr, write_versioned};
use crate::format::point::DimType;
use crate::{Dimension, RecordFormat};
use std::ffi::{CStr, c_char};

/// Dimension ids: what a `copc_column` holds and, as `COPC_DIM_BIT(dim)`, a bit of the
/// mask given to `copc_query_set_dims`. The values are fixed (they are the Rust
/// `Dimension::id()`s) and never change. Each standard dimension is delivered as one
/// value per point of the type in brackets (native byte order):
///
/// * X, Y, Z: coordinates after scale and offset (`double`); X_RAW, Y_RAW, Z_RAW:
///   the stored integers (`int32_t`).
/// * INTENSITY, POINT_SOURCE_ID, RED, GREEN, BLUE, NIR (`uint16_t`).
/// * RETURN_NUMBER, NUMBER_OF_RETURNS, the flags (SCAN_DIRECTION_FLAG,
///   EDGE_OF_FLIGHT_LINE, SYNTHETIC, KEY_POINT, WITHHELD, OVERLAP), SCANNER_CHANNEL,
///   CLASSIFICATION, USER_DATA (`uint8_t`).
/// * SCAN_ANGLE in 0.006 degree steps (`int16_t`); GPS_TIME (`double`).
///
/// Dimensions the point format lacks (RGB in format 6, NIR in 6 and 7) read as 0;
/// `copc_reader_dim_info` says whether a file stores one.
///
/// Extra-bytes dimension `i` (0-based, in the order of the file's extra-bytes VLR,
/// see `copc_reader_extra_dim`):
/// * `COPC_DIM_EXTRA_BASE + i`: as declared: every element (1, or 2-3 for the
///   deprecated array types; for data type 0 the undocumented bytes) in the declared
///   type (`copc_extra_dim.value_type`), no scale or offset applied,
///   `copc_extra_dim.size` bytes per point.
/// * `COPC_DIM_EXTRA_DOUBLE_BASE + i`: element 0 as a `double`, after the dimension's
///   scale and offset.
///
/// `i` must be below 1000. In a dimension mask, `COPC_DIM_MASK_EXTRA` selects every
/// extra-bytes dimension (in both forms).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum copc_dim {
    COPC_DIM_X = 0,
    COPC_DIM_Y = 1,
    COPC_DIM_Z = 2,
    COPC_DIM_INTENSITY = 3,
    COPC_DIM_RETURN_NUMBER = 4,
    COPC_DIM_NUMBER_OF_RETURNS = 5,
    COPC_DIM_SCAN_DIRECTION_FLAG = 6,
    COPC_DIM_EDGE_OF_FLIGHT_LINE = 7,
    COPC_DIM_CLASSIFICATION = 8,
    COPC_DIM_SYNTHETIC = 9,
    COPC_DIM_KEY_POINT = 10,
    COPC_DIM_WITHHELD = 11,
    COPC_DIM_OVERLAP = 12,
    COPC_DIM_SCANNER_CHANNEL = 13,
    COPC_DIM_SCAN_ANGLE = 14,
    COPC_DIM_USER_DATA = 15,
    COPC_DIM_POINT_SOURCE_ID = 16,
    COPC_DIM_GPS_TIME = 17,
    COPC_DIM_RED = 18,
    COPC_DIM_GREEN = 19,
    COPC_DIM_BLUE = 20,
    COPC_DIM_NIR = 21,
    COPC_DIM_X_RAW = 22,
    COPC_DIM_Y_RAW = 23,
    COPC_DIM_Z_RAW = 24,
    /// Extra-bytes dimension i as a double after scale and offset: this + i.
    COPC_DIM_EXTRA_DOUBLE_BASE = 1000,
    /// Extra-bytes dimension i in its declared type: this + i.
    COPC_DIM_EXTRA_BASE = 2000,
}

/// Mask bit selecting every extra-bytes dimension (`copc_query_set_dims`). Bits 0-24
/// are the standard dimensions (`COPC_DIM_BIT(dim)`); bits 25-62 are invalid.
pub const COPC_DIM_MASK_EXTRA: u64 = 0x8000_0000_0000_0000;
/// Every standard dimension and the extra bytes.
pub const COPC_DIM_MASK_ALL: u64 = 0x8000_0000_01FF_FFFF;

/// The type of a value in a column. The numbers are those of the LAS extra-bytes
/// `data_type` codes 1-10.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum copc_type {
    COPC_TYPE_UINT8 = 1,
    COPC_TYPE_INT8 = 2,
    COPC_TYPE_UINT16 = 3,
    COPC_TYPE_INT16 = 4,
    COPC_TYPE_UINT32 = 5,
    COPC_TYPE_INT32 = 6,
    COPC_TYPE_UINT64 = 7,
    COPC_TYPE_INT64 = 8,
    COPC_TYPE_FLOAT = 9,
    COPC_TYPE_DOUBLE = 10,
}

impl From<DimType> for copc_type {
    fn from(t: DimType) -> copc_type {
        use copc_type::*;
        match t {
            DimType::U8 => COPC_TYPE_UINT8,
            DimType::I8 => COPC_TYPE_INT8,
            DimType::U16 => COPC_TYPE_UINT16,
            DimType::I16 => COPC_TYPE_INT16,
            DimType::U32 => COPC_TYPE_UINT32,
            DimType::I32 => COPC_TYPE_INT32,
            DimType::U64 => COPC_TYPE_UINT64,
            DimType::I64 => COPC_TYPE_INT64,
            DimType::F32 => COPC_TYPE_FLOAT,
            DimType::F64 => COPC_TYPE_DOUBLE,
        }
    }
}

/// What a dimension of an open file holds (`copc_reader_dim_info`).
/// Set `struct_size = sizeof(copc_dim_info)` before the call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct copc_dim_info {
    pub struct_size: u32,
    /// The `copc_dim` id asked for.
    pub dim: i32,
    /// The `copc_type` of one element.
    pub value_type: i32,
    /// Elements per point (1 except for extra-bytes arrays and undocumented bytes).
    pub count: u32,
    /// Bytes per point in a packed column: count * size of value_type.
    pub size: u32,
    /// Whether the file stores it (false: the point format lacks it and it reads as 0).
    pub present: bool,
    /// "x", "intensity", ... or the extra-bytes name; owned by the reader (or static),
    /// valid while the reader lives.
    pub name: *const c_char,
}

/// The standard names, NUL-terminated, in id order.
const NAMES: [&CStr; 25] = [
    c"x",
    c"y",
    c"z",
    c"intensity",
    c"return_number",
    c"number_of_returns",
    c"scan_direction_flag",
    c"edge_of_flight_line",
    c"classification",
    c"synthetic",
    c"key_point",
    c"withheld",
    c"overlap",
    c"scanner_channel",
    c"scan_angle",
    c"user_data",
    c"point_source_id",
    c"gps_time",
    c"red",
    c"green",
    c"blue",
    c"nir",
    c"x_raw",
    c"y_raw",
    c"z_raw",
];

/// The dimension a C id names, checked against the file's extra bytes.
pub(crate) fn dimension(id: i32, format: &RecordFormat) -> FfiResult<Dimension> {
    let d = u32::try_from(id).ok().and_then(Dimension::from_id).ok_or_else(|| {
        Failure::invalid(format!(
            "dimension {id} is not a copc_dim (0-24, COPC_DIM_EXTRA_BASE + i, COPC_DIM_EXTRA_DOUBLE_BASE + i)"
        ))
    })?;
    if let Some(i) = d.extra_index() {
        if i >= format.extra_bytes.len() {
            return Err(Failure::invalid(format!(
                "dimension {id} is extra-bytes dimension {i} but the file has {}",
                format.extra_bytes.len()
            )));
        }
    }
    Ok(d)
}

/// Checks a dimension mask: only bits 0-24 and 63.
pub(crate) fn check_mask(mask: u64) -> FfiResult<()> {
    if mask == 0 {
        return Err(Failure::invalid(
            "dimension mask 0 selects nothing (use COPC_DIM_BIT(COPC_DIM_X) | ...)",
        ));
    }
    if mask & !COPC_DIM_MASK_ALL != 0 {
        return Err(Failure::invalid(format!(
            "dimension mask 0x{mask:x} has bits that are no dimension (0x{:x})",
            mask & !COPC_DIM_MASK_ALL
        )));
    }
    Ok(())
}

/// The dimensions a (checked) mask selects in a file with `n_extra` extra-bytes dimensions.
pub(crate) fn mask_dims(mask: u64, n_extra: usize) -> Vec<Dimension> {
    let mut d: Vec<Dimension> = Dimension::STANDARD
        .iter()
        .copied()
        .filter(|d| mask & (1u64 << d.id()) != 0)
        .collect();
    if mask & COPC_DIM_MASK_EXTRA != 0 {
        d.extend((0..n_extra.min(Dimension::MAX_EXTRA_IDS as usize)).map(|i| Dimension::ExtraRaw(i as u16)));
    }
    d
}

/// Whether a mask (None: everything) allows `d`.
pub(crate) fn mask_allows(mask: Option<u64>, d: Dimension) -> bool {
    match mask {
        None => true,
        Some(m) if d.extra_index().is_some() => m & COPC_DIM_MASK_EXTRA != 0,
        Some(m) => m & (1u64 << d.id()) != 0,
    }
}

/// Describes dimension `dim` of the file: its value type, values per point, bytes per
/// point, whether the point format stores it and its name. An id that is no
/// dimension, or an extra-bytes index the file does not have, gives
/// `COPC_STATUS_INVALID_ARGUMENT`.
/// Thread safety: like every const reader call, may run concurrently with others.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_reader_dim_info(r: *const copc_reader, dim: i32, out: *mut copc_dim_info) -> copc_status {
    guard("copc_reader_dim_info", || {
        let r = unsafe { borrow(r, "r")? };
        let out = out_ptr(out, "out")?;
        let format = r.reader.record_format();
        let d = dimension(dim, format)?;
        let (ty, count) = format.value_type(d)?;
        let name = match d.extra_index() {
            Some(i) => r.extra_names[i].as_ptr(),
            None => NAMES[d.id() as usize].as_ptr(),
        };
        let info = copc_dim_info {
            struct_size: 0,
            dim,
            value_type: copc_type::from(ty) as i32,
            count: count as u32,
            size: (ty.size() * count) as u32,
            present: d.extra_index().is_some() || format.layout.has(d),
            name,
        };
        unsafe { write_versioned(out, &info, "copc_dim_info") }
    })
}

/// Lists the dimensions the file stores: the standard ones its point format has (in id
/// order, X_RAW/Y_RAW/Z_RAW included), then `COPC_DIM_EXTRA_BASE + i` for each
/// extra-bytes dimension. Writes up to `capacity` ids to `out` and the number of
/// dimensions to `*out_count`; a `capacity` of 0 (then `out` may be NULL) only asks for
/// the number. A non-zero capacity smaller than the number gives
/// `COPC_STATUS_BUFFER_TOO_SMALL`.
/// Thread safety: like every const reader call, may run concurrently with others.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_reader_dims(
    r: *const copc_reader,
    out: *mut i32,
    capacity: usize,
    out_count: *mut usize,
) -> copc_status {
    guard("copc_reader_dims", || {
        let r = unsafe { borrow(r, "r")? };
        let out_count = out_ptr(out_count, "out_count")?;
        let format = r.reader.record_format();
        let mut ids: Vec<i32> = Dimension::STANDARD
            .iter()
            .filter(|d| format.layout.has(**d))
            .map(|d| d.id() as i32)
            .collect();
        let n_extra = format.extra_bytes.len().min(Dimension::MAX_EXTRA_IDS as usize);
        ids.extend((0..n_extra).map(|i| Dimension::ExtraRaw(i as u16).id() as i32));
        if capacity > 0 {
            let out = out_ptr(out, "out")?;
            if capacity < ids.len() {
                return Err(Failure::new(
                    super::COPC_STATUS_BUFFER_TOO_SMALL,
                    format!("capacity {capacity} < {} dimensions", ids.len()),
                ));
            }
            unsafe { std::ptr::copy_nonoverlapping(ids.as_ptr(), out, ids.len()) };
        }
        unsafe { *out_count = ids.len() };
        Ok(())
    })
}

#[cfg(test)]
pub(crate) fn all_dims() -> Vec<(copc_dim, Dimension)> {
    use copc_dim::*;
    let c = [
        COPC_DIM_X,
        COPC_DIM_Y,
        COPC_DIM_Z,
        COPC_DIM_INTENSITY,
        COPC_DIM_RETURN_NUMBER,
        COPC_DIM_NUMBER_OF_RETURNS,
        COPC_DIM_SCAN_DIRECTION_FLAG,
        COPC_DIM_EDGE_OF_FLIGHT_LINE,
        COPC_DIM_CLASSIFICATION,
        COPC_DIM_SYNTHETIC,
        COPC_DIM_KEY_POINT,
        COPC_DIM_WITHHELD,
        COPC_DIM_OVERLAP,
        COPC_DIM_SCANNER_CHANNEL,
        COPC_DIM_SCAN_ANGLE,
        COPC_DIM_USER_DATA,
        COPC_DIM_POINT_SOURCE_ID,
        COPC_DIM_GPS_TIME,
        COPC_DIM_RED,
        COPC_DIM_GREEN,
        COPC_DIM_BLUE,
        COPC_DIM_NIR,
        COPC_DIM_X_RAW,
        COPC_DIM_Y_RAW,
        COPC_DIM_Z_RAW,
    ];
    let rust = Dimension::STANDARD;
    c.into_iter().zip(rust).collect()
}

#[cfg(test)]
pub(crate) const STANDARD_NAMES: [&CStr; 25] = NAMES;
