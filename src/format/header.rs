//! The LAS public header block (LAS 1.0-1.4), parsed with las-rs' raw header and
//! checked here so that every later offset and count can be trusted.

use crate::error::{Error, Location, Result};

pub const HEADER_SIZE_14: u16 = 375;

#[derive(Debug, Clone)]
pub struct Header {
    /// The header as las-rs reads and writes it.
    pub raw: las::raw::Header,
    pub version: (u8, u8),
    /// Point data record format, with the two compression bits masked off.
    pub point_format: u8,
    /// The LAZ bit (0x80) of the format byte.
    pub compressed: bool,
    pub point_record_length: u16,
    /// The point count (the 64-bit field for LAS 1.4, else the legacy one).
    pub point_count: u64,
    pub points_by_return: [u64; 15],
    pub legacy_point_count: u32,
    pub legacy_points_by_return: [u32; 5],
    pub scale: [f64; 3],
    pub offset: [f64; 3],
    pub min: [f64; 3],
    pub max: [f64; 3],
    pub evlr_start: u64,
    pub evlr_count: u32,
}

impl Header {
    /// Smallest header of any LAS version.
    pub const MIN_SIZE: usize = 227;

    /// Parses and checks a header. `b` must hold the first `min(file_len, 375)` bytes
    /// at least; `file_len` bounds every offset.
    pub fn parse(name: &str, b: &[u8], file_len: u64) -> Result<Header> {
        let fail = |at: u64, msg: String| Error::format(name, Location::Offset(at), msg);
        if b.len() < 4 || &b[0..4] != b"LASF" {
            return Err(fail(0, "not a LAS/LAZ file (expected signature \"LASF\")".into()));
        }
        if b.len() < Self::MIN_SIZE {
            return Err(fail(0, format!("file has {file_len} bytes, a LAS header needs at least {}", Self::MIN_SIZE)));
        }
        let (major, minor) = (b[24], b[25]);
        if major != 1 || minor > 4 {
            return Err(fail(24, format!("unsupported LAS version {major}.{minor} (expected 1.0 to 1.4)")));
        }
        let header_size = u16::from_le_bytes([b[94], b[95]]);
        let needed = match minor {
            0..=2 => 227,
            3 => 235,
            _ => 375,
        };
        if header_size < needed {
            return Err(fail(94, format!("header size {header_size} is smaller than LAS 1.{minor} requires ({needed})")));
        }
        if (header_size as u64) > file_len {
            return Err(fail(94, format!("header size {header_size} exceeds the file size {file_len}")));
        }
        if b.len() < needed as usize {
            return Err(fail(0, format!("file has {file_len} bytes, the LAS 1.{minor} header needs {needed}")));
        }
        let raw = las::raw::Header::read_from(&b[..needed as usize])
            .map_err(|e| fail(0, format!("cannot parse the LAS header: {e}")))?;
        let format_byte = raw.point_data_record_format;
        let point_format = format_byte & 0x3F;
        if point_format > 10 {
            return Err(fail(104, format!("point data record format {point_format} does not exist (expected 0 to 10)")));
        }
        let base = super::point::PointLayout::base_size(point_format);
        if (raw.point_data_record_length as usize) < base {
            return Err(fail(
                105,
                format!(
                    "point record length {} is shorter than format {point_format} needs ({base})",
                    raw.point_data_record_length
                ),
            ));
        }
        if (raw.offset_to_point_data as u64) < header_size as u64 || raw.offset_to_point_data as u64 > file_len {
            return Err(fail(
                96,
                format!(
                    "offset to point data {} is outside the file (header ends at {header_size}, file has {file_len} bytes)",
                    raw.offset_to_point_data
                ),
            ));
        }
        let scale = [raw.x_scale_factor, raw.y_scale_factor, raw.z_scale_factor];
        if scale.iter().any(|s| !s.is_finite() || *s == 0.0) {
            return Err(fail(131, format!("scale factors {scale:?} must be finite and non-zero")));
        }
        let offset = [raw.x_offset, raw.y_offset, raw.z_offset];
        if offset.iter().any(|o| !o.is_finite()) {
            return Err(fail(155, format!("offsets {offset:?} must be finite")));
        }
        let legacy = raw.number_of_point_records;
        let (point_count, points_by_return) = match raw.large_file {
            Some(lf) if lf.number_of_point_records != 0 || legacy == 0 => {
                (lf.number_of_point_records, lf.number_of_points_by_return)
            }
            _ => {
                let mut by = [0u64; 15];
                for (d, s) in by.iter_mut().zip(raw.number_of_points_by_return) {
                    *d = s as u64;
                }
                (legacy as u64, by)
            }
        };
        let (evlr_start, evlr_count) = raw.evlr.map(|e| (e.start_of_first_evlr, e.number_of_evlrs)).unwrap_or((0, 0));
        Ok(Header {
            version: (major, minor),
            point_format,
            compressed: format_byte & 0x80 != 0,
            point_record_length: raw.point_data_record_length,
            point_count,
            points_by_return,
            legacy_point_count: legacy,
            legacy_points_by_return: raw.number_of_points_by_return,
            scale,
            offset,
            min: [raw.min_x, raw.min_y, raw.min_z],
            max: [raw.max_x, raw.max_y, raw.max_z],
            evlr_start,
            evlr_count,
            raw,
        })
    }

    pub fn header_size(&self) -> u16 {
        self.raw.header_size
    }

    pub fn offset_to_point_data(&self) -> u64 {
        self.raw.offset_to_point_data as u64
    }

    pub fn vlr_count(&self) -> u32 {
        self.raw.number_of_variable_length_records
    }

    pub fn global_encoding(&self) -> u16 {
        self.raw.global_encoding
    }

    /// Global encoding bit 4: the CRS is WKT.
    pub fn has_wkt_bit(&self) -> bool {
        self.raw.global_encoding & 0x10 != 0
    }

    pub fn system_identifier(&self) -> String {
        super::bytes::c_string(&self.raw.system_identifier)
    }

    pub fn generating_software(&self) -> String {
        super::bytes::c_string(&self.raw.generating_software)
    }

    /// Number of extra bytes per record beyond the format's standard fields.
    pub fn extra_bytes_len(&self) -> usize {
        self.point_record_length as usize - super::point::PointLayout::base_size(self.point_format)
    }
}
