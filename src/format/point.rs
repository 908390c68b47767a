//! Point record layouts (formats 0-10) and their dimensions: which bytes hold
//! which field, and the LAZ layer each field lives in.

use super::bytes::{f64_at, i16_at, i32_at, u16_at};

/// A point dimension. Standard ids are stable (the C ABI uses them);
/// extra-bytes dimensions are addressed by their index in the extra-bytes VLR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Dimension {
    /// X scaled to a coordinate (f64).
    X,
    Y,
    Z,
    Intensity,
    ReturnNumber,
    NumberOfReturns,
    ScanDirectionFlag,
    EdgeOfFlightLine,
    Classification,
    Synthetic,
    KeyPoint,
    Withheld,
    Overlap,
    ScannerChannel,
    /// Scan angle in 0.006° steps (i16), the LAS 1.4 unit; legacy ranks are converted by rounding.
    ScanAngle,
    UserData,
    PointSourceId,
    GpsTime,
    Red,
    Green,
    Blue,
    Nir,
    /// The stored X integer (i32), before scale and offset.
    XRaw,
    YRaw,
    ZRaw,
    /// Extra-bytes dimension `i`, element 0 (see `ExtraBytes`), as f64 after its scale/offset.
    Extra(u16),
    /// Extra-bytes dimension `i` as declared: every element (1, or 2/3 for the deprecated
    /// array types; for data type 0, the undocumented bytes) in its declared type, no
    /// scale/offset applied, `ExtraBytes::size()` bytes per point. The element type is
    /// the file's: see [`crate::RecordFormat::value_type`].
    ExtraRaw(u16),
}

/// The element type a dimension is delivered as. Standard dimensions use `U8`, `U16`,
/// `I16`, `I32` and `F64`; extra bytes in their declared type (`ExtraRaw`) any of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DimType {
    U8,
    U16,
    I16,
    I32,
    F64,
    I8,
    U32,
    U64,
    I64,
    F32,
}

impl DimType {
    pub fn size(self) -> usize {
        match self {
            DimType::U8 | DimType::I8 => 1,
            DimType::U16 | DimType::I16 => 2,
            DimType::I32 | DimType::U32 | DimType::F32 => 4,
            DimType::F64 | DimType::U64 | DimType::I64 => 8,
        }
    }

    /// The type an extra-bytes element is delivered as by `ExtraRaw` (undocumented
    /// bytes, data type 0, as `U8`).
    pub fn of_extra(t: super::ExtraBytesType) -> DimType {
        use super::ExtraBytesType as E;
        match t {
            E::Raw | E::U8 => DimType::U8,
            E::I8 => DimType::I8,
            E::U16 => DimType::U16,
            E::I16 => DimType::I16,
            E::U32 => DimType::U32,
            E::I32 => DimType::I32,
            E::U64 => DimType::U64,
            E::I64 => DimType::I64,
            E::F32 => DimType::F32,
            E::F64 => DimType::F64,
        }
    }
}

impl Dimension {
    /// Every standard dimension, in id order.
    pub const STANDARD: [Dimension; 25] = [
        Dimension::X,
        Dimension::Y,
        Dimension::Z,
        Dimension::Intensity,
        Dimension::ReturnNumber,
        Dimension::NumberOfReturns,
        Dimension::ScanDirectionFlag,
        Dimension::EdgeOfFlightLine,
        Dimension::Classification,
        Dimension::Synthetic,
        Dimension::KeyPoint,
        Dimension::Withheld,
        Dimension::Overlap,
        Dimension::ScannerChannel,
        Dimension::ScanAngle,
        Dimension::UserData,
        Dimension::PointSourceId,
        Dimension::GpsTime,
        Dimension::Red,
        Dimension::Green,
        Dimension::Blue,
        Dimension::Nir,
        Dimension::XRaw,
        Dimension::YRaw,
        Dimension::ZRaw,
    ];

    /// First id of `Extra(i)` (scaled f64): `EXTRA_ID_BASE + i`.
    pub const EXTRA_ID_BASE: u32 = 1000;
    /// First id of `ExtraRaw(i)` (declared type): `EXTRA_RAW_ID_BASE + i`.
    pub const EXTRA_RAW_ID_BASE: u32 = 2000;
    /// Extra-bytes dimensions with an id: indices below this (a LAS VLR holds at most
    /// 341 descriptors, so every real file fits).
    pub const MAX_EXTRA_IDS: u32 = 1000;

    /// Stable numeric id (0 = X, 1 = Y, 2 = Z, ... in [`Dimension::STANDARD`] order);
    /// `Extra(i)` is 1000 + i and `ExtraRaw(i)` 2000 + i (for i < 1000). The C ABI's
    /// `copc_dim` values are these ids.
    pub fn id(self) -> u32 {
        match self {
            Dimension::Extra(i) => Self::EXTRA_ID_BASE + i as u32,
            Dimension::ExtraRaw(i) => Self::EXTRA_RAW_ID_BASE + i as u32,
            d => Self::STANDARD.iter().position(|s| *s == d).unwrap_or(0) as u32,
        }
    }

    pub fn from_id(id: u32) -> Option<Dimension> {
        let (e, r, n) = (Self::EXTRA_ID_BASE, Self::EXTRA_RAW_ID_BASE, Self::MAX_EXTRA_IDS);
        if (e..e + n).contains(&id) {
            Some(Dimension::Extra((id - e) as u16))
        } else if (r..r + n).contains(&id) {
            Some(Dimension::ExtraRaw((id - r) as u16))
        } else {
            Self::STANDARD.get(id as usize).copied()
        }
    }

    /// The extra-bytes index of `Extra(i)` and `ExtraRaw(i)`.
    pub fn extra_index(self) -> Option<usize> {
        match self {
            Dimension::Extra(i) | Dimension::ExtraRaw(i) => Some(i as usize),
            _ => None,
        }
    }

    /// The snake_case name used by the CLI, JSON and CSV (PDAL-like, lower case).
    pub fn name(self) -> &'static str {
        use Dimension::*;
        match self {
            X => "x",
            Y => "y",
            Z => "z",
            Intensity => "intensity",
            ReturnNumber => "return_number",
            NumberOfReturns => "number_of_returns",
            ScanDirectionFlag => "scan_direction_flag",
            EdgeOfFlightLine => "edge_of_flight_line",
            Classification => "classification",
            Synthetic => "synthetic",
            KeyPoint => "key_point",
            Withheld => "withheld",
            Overlap => "overlap",
            ScannerChannel => "scanner_channel",
            ScanAngle => "scan_angle",
            UserData => "user_data",
            PointSourceId => "point_source_id",
            GpsTime => "gps_time",
            Red => "red",
            Green => "green",
            Blue => "blue",
            Nir => "nir",
            XRaw => "x_raw",
            YRaw => "y_raw",
            ZRaw => "z_raw",
            Extra(_) | ExtraRaw(_) => "extra",
        }
    }

    /// Looks a standard dimension up by name (case-insensitive; a few PDAL aliases).
    pub fn from_name(name: &str) -> Option<Dimension> {
        let n = name.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        let alias = match n.as_str() {
            "returnnumber" => "return_number",
            "numberofreturns" => "number_of_returns",
            "scandirectionflag" => "scan_direction_flag",
            "edgeofflightline" => "edge_of_flight_line",
            "scanangle" | "scan_angle_rank" | "scananglerank" => "scan_angle",
            "userdata" => "user_data",
            "pointsourceid" => "point_source_id",
            "gpstime" | "gps" | "time" => "gps_time",
            "scannerchannel" => "scanner_channel",
            "keypoint" => "key_point",
            "infrared" => "nir",
            other => other,
        };
        Self::STANDARD.iter().copied().find(|d| d.name() == alias)
    }

    /// The type a standard dimension (and `Extra`) is delivered as. `ExtraRaw` has the
    /// type the file declares, which only [`crate::RecordFormat::value_type`] knows;
    /// here it says `U8` (bytes).
    pub fn dim_type(self) -> DimType {
        use Dimension::*;
        match self {
            X | Y | Z | GpsTime | Extra(_) => DimType::F64,
            ExtraRaw(_) => DimType::U8,
            XRaw | YRaw | ZRaw => DimType::I32,
            Intensity | PointSourceId | Red | Green | Blue | Nir => DimType::U16,
            ScanAngle => DimType::I16,
            _ => DimType::U8,
        }
    }

    /// The laz-rs decompression layer bit this dimension needs (formats 6-10).
    pub fn laz_layer(self) -> u32 {
        use Dimension::*;
        use laz::DecompressionSelection as S;
        match self {
            X | Y | XRaw | YRaw | ReturnNumber | NumberOfReturns | ScannerChannel => S::XY_RETURNS_CHANNEL,
            Z | ZRaw => S::Z,
            Classification => S::CLASSIFICATION,
            Synthetic | KeyPoint | Withheld | Overlap | ScanDirectionFlag | EdgeOfFlightLine => S::FLAGS,
            Intensity => S::INTENSITY,
            ScanAngle => S::SCAN_ANGLE,
            UserData => S::USER_DATA,
            PointSourceId => S::POINT_SOURCE_ID,
            GpsTime => S::GPS_TIME,
            Red | Green | Blue => S::RGB,
            Nir => S::NIR,
            Extra(_) | ExtraRaw(_) => S::ALL_EXTRA_BYTES,
        }
    }
}

/// Turns a set of dimensions into the laz-rs layer selection that decodes them and
/// nothing more (X, Y, returns and channel are always decoded).
pub fn decompression_selection(dims: &[Dimension]) -> laz::DecompressionSelection {
    laz::DecompressionSelection(dims.iter().fold(0u32, |acc, d| acc | d.laz_layer()))
}

/// Byte offsets of the fields of one point record format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointLayout {
    pub format: u8,
    pub record_length: usize,
    /// Formats 6-10 (LAS 1.4 layout) rather than 0-5.
    pub extended: bool,
    pub gps_time: Option<usize>,
    pub rgb: Option<usize>,
    pub nir: Option<usize>,
    /// Where the extra bytes start (= the format's standard size).
    pub extra_start: usize,
}

impl PointLayout {
    /// The standard record size of a format (0 for unknown formats).
    pub fn base_size(format: u8) -> usize {
        match format {
            0 => 20,
            1 => 28,
            2 => 26,
            3 => 34,
            4 => 57,
            5 => 63,
            6 => 30,
            7 => 36,
            8 => 38,
            9 => 59,
            10 => 67,
            _ => 0,
        }
    }

    pub fn new(format: u8, record_length: usize) -> PointLayout {
        let (gps_time, rgb, nir) = match format {
            0 => (None, None, None),
            1 | 4 => (Some(20), None, None),
            2 => (None, Some(20), None),
            3 | 5 => (Some(20), Some(28), None),
            6 | 9 => (Some(22), None, None),
            7 => (Some(22), Some(30), None),
            8 | 10 => (Some(22), Some(30), Some(36)),
            _ => (None, None, None),
        };
        PointLayout {
            format,
            record_length,
            extended: format >= 6,
            gps_time,
            rgb,
            nir,
            extra_start: Self::base_size(format),
        }
    }

    pub fn has(&self, dim: Dimension) -> bool {
        use Dimension::*;
        match dim {
            GpsTime => self.gps_time.is_some(),
            Red | Green | Blue => self.rgb.is_some(),
            Nir => self.nir.is_some(),
            ScannerChannel | Overlap => self.extended,
            Extra(_) | ExtraRaw(_) => false,
            _ => true,
        }
    }
}

/// How to turn a record's integers into coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transform {
    pub scale: [f64; 3],
    pub offset: [f64; 3],
}

/// Reads one field of a record, as the dimension's type widened to f64 for
/// generic consumers (CSV, filters). Hot loops use `write_column` instead.
#[inline]
pub fn value_f64(layout: &PointLayout, t: &Transform, rec: &[u8], dim: Dimension) -> f64 {
    use Dimension::*;
    match dim {
        X => i32_at(rec, 0) as f64 * t.scale[0] + t.offset[0],
        Y => i32_at(rec, 4) as f64 * t.scale[1] + t.offset[1],
        Z => i32_at(rec, 8) as f64 * t.scale[2] + t.offset[2],
        XRaw => i32_at(rec, 0) as f64,
        YRaw => i32_at(rec, 4) as f64,
        ZRaw => i32_at(rec, 8) as f64,
        GpsTime => layout.gps_time.map(|o| f64_at(rec, o)).unwrap_or(0.0),
        ScanAngle => scan_angle(layout, rec) as f64,
        Intensity | PointSourceId | Red | Green | Blue | Nir => u16_field(layout, rec, dim) as f64,
        Extra(_) | ExtraRaw(_) => 0.0,
        _ => u8_field(layout, rec, dim) as f64,
    }
}

#[inline]
fn scan_angle(layout: &PointLayout, rec: &[u8]) -> i16 {
    if layout.extended {
        i16_at(rec, 18)
    } else {
        // legacy rank in whole degrees -> 0.006° steps, rounded
        ((rec[16] as i8 as f64) / 0.006).round() as i16
    }
}

#[inline]
fn u16_field(layout: &PointLayout, rec: &[u8], dim: Dimension) -> u16 {
    use Dimension::*;
    match dim {
        Intensity => u16_at(rec, 12),
        PointSourceId => u16_at(rec, if layout.extended { 20 } else { 18 }),
        Red => layout.rgb.map(|o| u16_at(rec, o)).unwrap_or(0),
        Green => layout.rgb.map(|o| u16_at(rec, o + 2)).unwrap_or(0),
        Blue => layout.rgb.map(|o| u16_at(rec, o + 4)).unwrap_or(0),
        Nir => layout.nir.map(|o| u16_at(rec, o)).unwrap_or(0),
        _ => 0,
    }
}

#[inline]
fn u8_field(layout: &PointLayout, rec: &[u8], dim: Dimension) -> u8 {
    use Dimension::*;
    if layout.extended {
        match dim {
            ReturnNumber => rec[14] & 0x0F,
            NumberOfReturns => rec[14] >> 4,
            Synthetic => rec[15] & 1,
            KeyPoint => (rec[15] >> 1) & 1,
            Withheld => (rec[15] >> 2) & 1,
            Overlap => (rec[15] >> 3) & 1,
            ScannerChannel => (rec[15] >> 4) & 3,
            ScanDirectionFlag => (rec[15] >> 6) & 1,
            EdgeOfFlightLine => rec[15] >> 7,
            Classification => rec[16],
            UserData => rec[17],
            _ => 0,
        }
    } else {
        match dim {
            ReturnNumber => rec[14] & 0x07,
            NumberOfReturns => (rec[14] >> 3) & 0x07,
            ScanDirectionFlag => (rec[14] >> 6) & 1,
            EdgeOfFlightLine => rec[14] >> 7,
            Classification => rec[15] & 0x1F,
            Synthetic => (rec[15] >> 5) & 1,
            KeyPoint => (rec[15] >> 6) & 1,
            Withheld => rec[15] >> 7,
            UserData => rec[17],
            _ => 0,
        }
    }
}

/// Where a one-bit flag lives in a record of `layout`: `(byte, shift)`, the flag
/// being `(rec[byte] >> shift) & 1`; None for dimensions that are not one-bit flags
/// (and for Overlap in formats 0-5, which have none). Bit packers (Arrow booleans)
/// read flags through this instead of a byte per point.
pub fn flag_bit(layout: &PointLayout, dim: Dimension) -> Option<(usize, u32)> {
    use Dimension::*;
    if layout.extended {
        match dim {
            Synthetic => Some((15, 0)),
            KeyPoint => Some((15, 1)),
            Withheld => Some((15, 2)),
            Overlap => Some((15, 3)),
            ScanDirectionFlag => Some((15, 6)),
            EdgeOfFlightLine => Some((15, 7)),
            _ => None,
        }
    } else {
        match dim {
            ScanDirectionFlag => Some((14, 6)),
            EdgeOfFlightLine => Some((14, 7)),
            Synthetic => Some((15, 5)),
            KeyPoint => Some((15, 6)),
            Withheld => Some((15, 7)),
            _ => None,
        }
    }
}

/// Writes dimension `dim` of every record in `records` into `dst`, value `i` at
/// byte `i * stride`, in native byte order and the dimension's `DimType`
/// (extra bytes: `extra` describes the dimension; `Extra` gives element 0 decoded as
/// f64 after scale/offset, `ExtraRaw` every element in its declared type).
/// `dst` must hold `(n-1)*stride + size` bytes; the caller checks that.
pub fn write_column(
    layout: &PointLayout,
    t: &Transform,
    extra: Option<&super::ExtraBytes>,
    records: &[u8],
    dim: Dimension,
    dst: &mut [u8],
    stride: usize,
) {
    let rl = layout.record_length;
    let recs = records.chunks_exact(rl);
    macro_rules! fill {
        ($f:expr) => {{
            for (i, rec) in recs.enumerate() {
                let v = $f(rec);
                let bytes = v.to_ne_bytes();
                dst[i * stride..i * stride + bytes.len()].copy_from_slice(&bytes);
            }
        }};
    }
    use Dimension::*;
    match dim {
        X => fill!(|r: &[u8]| i32_at(r, 0) as f64 * t.scale[0] + t.offset[0]),
        Y => fill!(|r: &[u8]| i32_at(r, 4) as f64 * t.scale[1] + t.offset[1]),
        Z => fill!(|r: &[u8]| i32_at(r, 8) as f64 * t.scale[2] + t.offset[2]),
        XRaw => fill!(|r: &[u8]| i32_at(r, 0)),
        YRaw => fill!(|r: &[u8]| i32_at(r, 4)),
        ZRaw => fill!(|r: &[u8]| i32_at(r, 8)),
        GpsTime => match layout.gps_time {
            Some(o) => fill!(|r: &[u8]| f64_at(r, o)),
            None => fill!(|_r: &[u8]| 0f64),
        },
        ScanAngle => fill!(|r: &[u8]| scan_angle(layout, r)),
        Intensity | PointSourceId | Red | Green | Blue | Nir => fill!(|r: &[u8]| u16_field(layout, r, dim)),
        Extra(_) => match extra {
            Some(eb) => {
                let at = layout.extra_start + eb.offset_in_record;
                let scale = eb.scale.map(|s| s[0]).unwrap_or(1.0);
                let offset = eb.offset.map(|s| s[0]).unwrap_or(0.0);
                let ty = eb.scalar;
                fill!(|r: &[u8]| ty.as_f64(&r[at..]) * scale + offset)
            }
            None => fill!(|_r: &[u8]| 0f64),
        },
        ExtraRaw(_) => {
            if let Some(eb) = extra {
                let at = layout.extra_start + eb.offset_in_record;
                let (size, count) = if eb.scalar == super::ExtraBytesType::Raw { (1, eb.count) } else { (eb.scalar.size(), eb.count) };
                for (i, rec) in recs.enumerate() {
                    let src = &rec[at..at + size * count];
                    let out = &mut dst[i * stride..i * stride + size * count];
                    for (s, d) in src.chunks_exact(size).zip(out.chunks_exact_mut(size)) {
                        d.copy_from_slice(s);
                        // little-endian in the file, native in the caller's buffer
                        if cfg!(target_endian = "big") {
                            d.reverse();
                        }
                    }
                }
            }
        }
        _ => fill!(|r: &[u8]| u8_field(layout, r, dim)),
    }
}

/// The inverse of [`write_column`] for formats 6-10: sets dimension `dim` of every
/// record in `records` from `src` (value `i` at byte `i * stride`, native byte order,
/// the dimension's `DimType`), X/Y/Z quantized with `t`. Fails, naming the value, on
/// what the record cannot hold: a coordinate outside the i32 range of the scale and
/// offset, a flag other than 0/1, a return number above 15, a channel above 3, a
/// dimension the format lacks (RGB in 6, NIR in 6 and 7), extra bytes.
/// `src` must hold `(n-1)*stride + size` bytes for the `n` records; the caller checks.
pub fn read_column(
    layout: &PointLayout,
    t: &Transform,
    records: &mut [u8],
    dim: Dimension,
    src: &[u8],
    stride: usize,
) -> Result<(), String> {
    use Dimension::*;
    if !layout.extended {
        return Err(format!(
            "records of point format {} cannot be written (6-10 only)",
            layout.format
        ));
    }
    if !layout.has(dim) {
        return Err(match dim {
            Extra(_) | ExtraRaw(_) => "extra-bytes dimensions cannot be written this way".to_string(),
            d => format!("point format {} has no {}", layout.format, d.name()),
        });
    }
    let rl = layout.record_length;
    macro_rules! each {
        ($t:ty, |$r:ident, $v:ident, $i:ident| $body:block) => {{
            const N: usize = std::mem::size_of::<$t>();
            for ($i, $r) in records.chunks_exact_mut(rl).enumerate() {
                let mut b = [0u8; N];
                b.copy_from_slice(&src[$i * stride..$i * stride + N]);
                let $v = <$t>::from_ne_bytes(b);
                $body
            }
            Ok(())
        }};
    }
    let put16 = |r: &mut [u8], o: usize, v: u16| r[o..o + 2].copy_from_slice(&v.to_le_bytes());
    let quantize = |axis: usize, v: f64, i: usize| -> Result<[u8; 4], String> {
        let q = ((v - t.offset[axis]) / t.scale[axis]).round();
        if q.is_finite() && q >= i32::MIN as f64 && q <= i32::MAX as f64 {
            Ok((q as i32).to_le_bytes())
        } else {
            Err(format!(
                "point {i}: {} = {v} does not fit a 32-bit integer with scale {} and offset {} (change the scale or offset)",
                ["x", "y", "z"][axis],
                t.scale[axis],
                t.offset[axis]
            ))
        }
    };
    let bit = |v: u8, i: usize, name: &str| -> Result<u8, String> {
        if v > 1 {
            Err(format!("point {i}: {name} = {v} (a flag is 0 or 1)"))
        } else {
            Ok(v)
        }
    };
    let set_bits = |r: &mut [u8], at: usize, shift: u8, width: u8, v: u8| {
        let mask = ((1u16 << width) - 1) as u8;
        r[at] = (r[at] & !(mask << shift)) | ((v & mask) << shift);
    };
    match dim {
        X | Y | Z => {
            let axis = dim.id() as usize;
            each!(f64, |r, v, i| {
                r[axis * 4..axis * 4 + 4].copy_from_slice(&quantize(axis, v, i)?);
            })
        }
        XRaw | YRaw | ZRaw => {
            let axis = (dim.id() - XRaw.id()) as usize;
            each!(i32, |r, v, _i| {
                r[axis * 4..axis * 4 + 4].copy_from_slice(&v.to_le_bytes())
            })
        }
        Intensity => each!(u16, |r, v, _i| { put16(r, 12, v) }),
        PointSourceId => each!(u16, |r, v, _i| { put16(r, 20, v) }),
        Red | Green | Blue | Nir => {
            let at = match dim {
                Red => layout.rgb,
                Green => layout.rgb.map(|o| o + 2),
                Blue => layout.rgb.map(|o| o + 4),
                _ => layout.nir,
            }
            .unwrap_or(0);
            each!(u16, |r, v, _i| { put16(r, at, v) })
        }
        ReturnNumber | NumberOfReturns => {
            let shift = if dim == ReturnNumber { 0 } else { 4 };
            each!(u8, |r, v, i| {
                if v > 15 {
                    return Err(format!("point {i}: {} = {v} (at most 15)", dim.name()));
                }
                set_bits(r, 14, shift, 4, v);
            })
        }
        Synthetic | KeyPoint | Withheld | Overlap | ScanDirectionFlag | EdgeOfFlightLine => {
            let shift = match dim {
                Synthetic => 0,
                KeyPoint => 1,
                Withheld => 2,
                Overlap => 3,
                ScanDirectionFlag => 6,
                _ => 7,
            };
            each!(u8, |r, v, i| { set_bits(r, 15, shift, 1, bit(v, i, dim.name())?) })
        }
        ScannerChannel => each!(u8, |r, v, i| {
            if v > 3 {
                return Err(format!("point {i}: scanner_channel = {v} (at most 3)"));
            }
            set_bits(r, 15, 4, 2, v);
        }),
        Classification => each!(u8, |r, v, _i| { r[16] = v }),
        UserData => each!(u8, |r, v, _i| { r[17] = v }),
        ScanAngle => each!(i16, |r, v, _i| { r[18..20].copy_from_slice(&v.to_le_bytes()) }),
        GpsTime => {
            let at = layout.gps_time.unwrap_or(22);
            each!(f64, |r, v, _i| { r[at..at + 8].copy_from_slice(&v.to_le_bytes()) })
        }
        Extra(_) | ExtraRaw(_) => Err("extra-bytes dimensions cannot be written this way".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record6() -> Vec<u8> {
        let mut r = vec![0u8; 30];
        r[0..4].copy_from_slice(&100i32.to_le_bytes());
        r[4..8].copy_from_slice(&(-5i32).to_le_bytes());
        r[8..12].copy_from_slice(&7i32.to_le_bytes());
        r[12..14].copy_from_slice(&513u16.to_le_bytes());
        r[14] = 0x32; // return 2 of 3
        r[15] = 0b1010_0101; // synthetic, overlap? bits: 0 syn=1, 2 withheld=1, 4-5 channel=2, 7 edge=1
        r[16] = 6;
        r[17] = 9;
        r[18..20].copy_from_slice(&(-1500i16).to_le_bytes());
        r[20..22].copy_from_slice(&77u16.to_le_bytes());
        r[22..30].copy_from_slice(&42.5f64.to_le_bytes());
        r
    }

    #[test]
    fn format6_fields() {
        let l = PointLayout::new(6, 30);
        let t = Transform { scale: [0.01, 0.01, 0.1], offset: [1000.0, 0.0, -1.0] };
        let r = record6();
        let v = |d| value_f64(&l, &t, &r, d);
        assert_eq!(v(Dimension::X), 1001.0);
        assert_eq!(v(Dimension::Y), -0.05);
        assert!((v(Dimension::Z) - -0.3).abs() < 1e-12);
        assert_eq!(v(Dimension::Intensity), 513.0);
        assert_eq!((v(Dimension::ReturnNumber), v(Dimension::NumberOfReturns)), (2.0, 3.0));
        assert_eq!((v(Dimension::Synthetic), v(Dimension::KeyPoint), v(Dimension::Withheld)), (1.0, 0.0, 1.0));
        assert_eq!((v(Dimension::ScannerChannel), v(Dimension::EdgeOfFlightLine)), (2.0, 1.0));
        assert_eq!((v(Dimension::Classification), v(Dimension::UserData)), (6.0, 9.0));
        assert_eq!((v(Dimension::ScanAngle), v(Dimension::PointSourceId), v(Dimension::GpsTime)), (-1500.0, 77.0, 42.5));
    }

    #[test]
    fn flag_bits_agree_with_the_byte_values() {
        let t = Transform { scale: [1.0; 3], offset: [0.0; 3] };
        let flags = [
            Dimension::Synthetic,
            Dimension::KeyPoint,
            Dimension::Withheld,
            Dimension::Overlap,
            Dimension::ScanDirectionFlag,
            Dimension::EdgeOfFlightLine,
        ];
        for format in [1u8, 6] {
            let l = PointLayout::new(format, PointLayout::base_size(format));
            for byte in 0..=255u8 {
                let mut r = vec![0u8; l.record_length];
                r[14] = byte;
                r[15] = byte.rotate_left(3);
                for d in flags {
                    let want = value_f64(&l, &t, &r, d);
                    let got = flag_bit(&l, d).map(|(b, s)| (r[b] >> s) & 1).unwrap_or(0) as f64;
                    assert_eq!(got, want, "format {format} {d:?} byte {byte}");
                }
            }
        }
        assert_eq!(flag_bit(&PointLayout::new(6, 30), Dimension::Classification), None);
    }

    #[test]
    fn legacy_scan_angle_rounds() {
        let l = PointLayout::new(1, 28);
        let t = Transform { scale: [1.0; 3], offset: [0.0; 3] };
        let mut r = vec![0u8; 28];
        r[16] = (-7i8) as u8;
        r[15] = 0b0100_0010; // class 2, key point
        assert_eq!(value_f64(&l, &t, &r, Dimension::ScanAngle), -1167.0); // -7/0.006 = -1166.67
        assert_eq!(value_f64(&l, &t, &r, Dimension::Classification), 2.0);
        assert_eq!(value_f64(&l, &t, &r, Dimension::KeyPoint), 1.0);
    }

    #[test]
    fn write_column_strided() {
        let l = PointLayout::new(6, 30);
        let t = Transform { scale: [1.0; 3], offset: [0.0; 3] };
        let mut recs = record6();
        recs.extend(record6());
        recs[30 + 12] = 2; // second intensity 0x0201 -> 0x0202
        let mut out = vec![0u8; 8];
        write_column(&l, &t, None, &recs, Dimension::Intensity, &mut out, 4);
        assert_eq!(u16::from_ne_bytes([out[0], out[1]]), 513);
        assert_eq!(u16::from_ne_bytes([out[4], out[5]]), 514);
        let mut xs = vec![0u8; 16];
        write_column(&l, &t, None, &recs, Dimension::X, &mut xs, 8);
        assert_eq!(f64::from_ne_bytes(xs[8..16].try_into().unwrap()), 100.0);
    }

    #[test]
    fn extra_raw_copies_declared_elements() {
        use crate::format::extra_bytes::{DESCRIPTOR_SIZE, parse_extra_bytes};
        // format 6 + [f64 "d"][u16[3] "t"][raw 3 bytes "b"] = 30 + 8 + 6 + 3
        let mut vlr = Vec::new();
        for (name, ty, opt) in [("d", 10u8, 8u8), ("t", 23, 0), ("b", 0, 3)] {
            let mut d = vec![0u8; DESCRIPTOR_SIZE];
            d[2] = ty;
            d[3] = opt;
            d[4..4 + name.len()].copy_from_slice(name.as_bytes());
            d[112..120].copy_from_slice(&10.0f64.to_le_bytes()); // a scale, ignored by ExtraRaw
            vlr.extend(d);
        }
        let ebs = parse_extra_bytes(&vlr, 17).unwrap();
        let l = PointLayout::new(6, 47);
        let t = Transform { scale: [1.0; 3], offset: [0.0; 3] };
        let mut recs = Vec::new();
        for p in 0..2u16 {
            let mut r = record6();
            r.extend((-2.5f64 - p as f64).to_le_bytes());
            for k in 0..3u16 {
                r.extend((1000 * p + k + 0x0102).to_le_bytes());
            }
            r.extend([7, 8, 9 + p as u8]);
            recs.extend(r);
        }
        let mut d = vec![0u8; 16];
        write_column(&l, &t, Some(&ebs[0]), &recs, Dimension::ExtraRaw(0), &mut d, 8);
        assert_eq!(f64::from_ne_bytes(d[0..8].try_into().unwrap()), -2.5);
        assert_eq!(f64::from_ne_bytes(d[8..16].try_into().unwrap()), -3.5);
        let mut scaled = vec![0u8; 16];
        write_column(&l, &t, Some(&ebs[0]), &recs, Dimension::Extra(0), &mut scaled, 8);
        assert_eq!(f64::from_ne_bytes(scaled[0..8].try_into().unwrap()), -25.0);
        // u16[3] with a stride of 8: three native u16, two bytes of gap untouched
        let mut t3 = vec![0xEEu8; 16];
        write_column(&l, &t, Some(&ebs[1]), &recs, Dimension::ExtraRaw(1), &mut t3, 8);
        let u = |o: usize| u16::from_ne_bytes([t3[o], t3[o + 1]]);
        assert_eq!([u(0), u(2), u(4), u(8), u(10), u(12)], [0x0102, 0x0103, 0x0104, 1258, 1259, 1260]);
        assert_eq!(&t3[6..8], &[0xEE, 0xEE]);
        let mut b = vec![0u8; 6];
        write_column(&l, &t, Some(&ebs[2]), &recs, Dimension::ExtraRaw(2), &mut b, 3);
        assert_eq!(b, [7, 8, 9, 7, 8, 10]);
    }

    #[test]
    fn read_column_is_the_inverse_of_write_column() {
        let l = PointLayout::new(8, 38);
        let t = Transform {
            scale: [0.01, 0.01, 0.001],
            offset: [1000.0, -50.0, 0.0],
        };
        let n = 5;
        let mut recs = vec![0u8; n * 38];
        for d in Dimension::STANDARD {
            let size = d.dim_type().size();
            let mut src = vec![0u8; n * size];
            for i in 0..n {
                let v: Vec<u8> = match d.dim_type() {
                    DimType::F64 => match d {
                        Dimension::GpsTime => (1e9 + i as f64 * 0.25).to_ne_bytes().to_vec(),
                        _ => (t.offset[d.id() as usize] + (i as f64 * 3.0 - 4.0) * t.scale[d.id() as usize])
                            .to_ne_bytes()
                            .to_vec(),
                    },
                    DimType::I32 => continue,
                    DimType::U16 => (1000 * i as u16 + d.id() as u16).to_ne_bytes().to_vec(),
                    DimType::I16 => (-7 * i as i16).to_ne_bytes().to_vec(),
                    _ => {
                        let max = match d {
                            Dimension::ReturnNumber | Dimension::NumberOfReturns => 15,
                            Dimension::ScannerChannel => 3,
                            Dimension::Classification | Dimension::UserData => 255,
                            _ => 1,
                        };
                        vec![((i as u16 * 7 + d.id() as u16) % (max as u16 + 1)) as u8]
                    }
                };
                src[i * size..(i + 1) * size].copy_from_slice(&v);
            }
            if d.dim_type() == DimType::I32 {
                continue;
            }
            read_column(&l, &t, &mut recs, d, &src, size).unwrap_or_else(|e| panic!("{d:?}: {e}"));
            let mut back = vec![0u8; n * size];
            write_column(&l, &t, None, &recs, d, &mut back, size);
            if d.dim_type() == DimType::F64 && d != Dimension::GpsTime {
                for i in 0..n {
                    let a = f64::from_ne_bytes(src[i * 8..i * 8 + 8].try_into().unwrap());
                    let b = f64::from_ne_bytes(back[i * 8..i * 8 + 8].try_into().unwrap());
                    assert!((a - b).abs() < 1e-9, "{d:?} {a} {b}");
                }
            } else {
                assert_eq!(src, back, "{d:?}");
            }
        }
        // Every field was set by its own column: flags did not overwrite each other.
        let mut flags = vec![0u8; n];
        write_column(&l, &t, None, &recs, Dimension::EdgeOfFlightLine, &mut flags, 1);
        assert_eq!(flags, [1, 0, 1, 0, 1]); // (i*7 + 7) % 2
        // Raw coordinates and errors.
        read_column(&l, &t, &mut recs, Dimension::XRaw, &(-3i32).to_ne_bytes().repeat(n), 4).unwrap();
        assert_eq!(value_f64(&l, &t, &recs[..38], Dimension::XRaw), -3.0);
        let far = 1e12f64.to_ne_bytes().repeat(n);
        assert!(
            read_column(&l, &t, &mut recs, Dimension::X, &far, 8)
                .unwrap_err()
                .contains("does not fit")
        );
        assert!(read_column(&l, &t, &mut recs, Dimension::Synthetic, &[2u8; 5], 1).is_err());
        assert!(read_column(&l, &t, &mut recs, Dimension::ReturnNumber, &[16u8; 5], 1).is_err());
        assert!(read_column(&l, &t, &mut recs, Dimension::ScannerChannel, &[4u8; 5], 1).is_err());
        let six = PointLayout::new(6, 30);
        let mut r6 = vec![0u8; 30];
        assert!(
            read_column(&six, &t, &mut r6, Dimension::Red, &[0u8; 2], 2)
                .unwrap_err()
                .contains("no red")
        );
        assert!(read_column(&six, &t, &mut r6, Dimension::Extra(0), &[0u8; 8], 8).is_err());
    }

    #[test]
    fn selection_maps_to_layers() {
        use laz::DecompressionSelection as S;
        assert_eq!(decompression_selection(&[Dimension::X, Dimension::Y]).0, 0);
        assert_eq!(decompression_selection(&[Dimension::X, Dimension::Z]).0, S::Z);
        assert_eq!(
            decompression_selection(&[Dimension::Red, Dimension::GpsTime, Dimension::Synthetic]).0,
            S::RGB | S::GPS_TIME | S::FLAGS
        );
        assert_eq!(decompression_selection(&[Dimension::Extra(0)]).0, S::ALL_EXTRA_BYTES);
    }

    #[test]
    fn ids_are_stable() {
        assert_eq!(Dimension::X.id(), 0);
        assert_eq!(Dimension::Z.id(), 2);
        assert_eq!(Dimension::from_id(17), Some(Dimension::GpsTime));
        assert_eq!(Dimension::from_id(1003), Some(Dimension::Extra(3)));
        assert_eq!(Dimension::from_id(2003), Some(Dimension::ExtraRaw(3)));
        assert_eq!(Dimension::ExtraRaw(999).id(), 2999);
        assert_eq!(Dimension::from_id(3000), None);
        assert_eq!(Dimension::from_id(25), None);
        assert_eq!(Dimension::from_id(999), None);
        assert_eq!(Dimension::from_name("GpsTime"), Some(Dimension::GpsTime));
        assert_eq!(Dimension::from_name("classification"), Some(Dimension::Classification));
        for d in Dimension::STANDARD {
            assert_eq!(Dimension::from_id(d.id()), Some(d));
            assert_eq!(Dimension::from_name(d.name()), Some(d));
        }
    }
}
