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
}

/// The element type a dimension is delivered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DimType {
    U8,
    U16,
    I16,
    I32,
    F64,
}

impl DimType {
    pub fn size(self) -> usize {
        match self {
            DimType::U8 => 1,
            DimType::U16 | DimType::I16 => 2,
            DimType::I32 => 4,
            DimType::F64 => 8,
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

    /// Stable numeric id (0 = X, 1 = Y, 2 = Z, ...); extra bytes are 1000 + index.
    pub fn id(self) -> u32 {
        match self {
            Dimension::Extra(i) => 1000 + i as u32,
            d => Self::STANDARD.iter().position(|s| *s == d).unwrap_or(0) as u32,
        }
    }

    pub fn from_id(id: u32) -> Option<Dimension> {
        if id >= 1000 {
            u16::try_from(id - 1000).ok().map(Dimension::Extra)
        } else {
            Self::STANDARD.get(id as usize).copied()
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
            Extra(_) => "extra",
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

    pub fn dim_type(self) -> DimType {
        use Dimension::*;
        match self {
            X | Y | Z | GpsTime | Extra(_) => DimType::F64,
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
            Extra(_) => S::ALL_EXTRA_BYTES,
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
            Extra(_) => false,
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
        Extra(_) => 0.0,
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

/// Writes dimension `dim` of every record in `records` into `dst`, value `i` at
/// byte `i * stride`, in native byte order and the dimension's `DimType`
/// (extra bytes: `extra` gives the element, decoded as f64 after scale/offset).
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
        _ => fill!(|r: &[u8]| u8_field(layout, r, dim)),
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
        assert_eq!(Dimension::from_name("GpsTime"), Some(Dimension::GpsTime));
        assert_eq!(Dimension::from_name("classification"), Some(Dimension::Classification));
        for d in Dimension::STANDARD {
            assert_eq!(Dimension::from_id(d.id()), Some(d));
            assert_eq!(Dimension::from_name(d.name()), Some(d));
        }
    }
}
