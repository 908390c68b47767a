//! The LAS public header block (LAS 1.0-1.5), parsed with las-rs' raw header and
//! checked here so that every later offset and count can be trusted.
//!
//! LAS 1.5 is the 1.4 header plus 18 bytes (max and min GPS time, and the GPS time
//! offset that global encoding bit 6 turns on); las-rs 0.11 does not know 1.5, so its
//! first 375 bytes are read as 1.4 and the three fields here.

use crate::error::{Error, Location, Result};

pub const HEADER_SIZE_14: u16 = 375;
pub const HEADER_SIZE_15: u16 = 393;
/// Global encoding bit 6 (LAS 1.5): GPS times are standard GPS time minus the
/// header's time offset x 10^6 s (instead of minus 10^9 s, the 1.4 "adjusted standard").
pub const GPS_TIME_OFFSET_BIT: u16 = 0x40;
/// The offset of LAS 1.1-1.4 adjusted standard GPS time, in the 1.5 field's unit (10^6 s).
pub const ADJUSTED_STANDARD_TIME_OFFSET: u16 = 1000;

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
    /// LAS 1.5 only: the GPS time offset in 10^6 s, when global encoding bit 6 is set.
    pub gps_time_offset: Option<u16>,
}

/// The point format of a format byte, without the two compression bits.
fn point_format_of(format_byte: u8) -> u8 {
    format_byte & 0x3F
}

impl Header {
    /// Smallest header of any LAS version.
    pub const MIN_SIZE: usize = 227;

    /// Parses and checks a header. `b` must hold the first `min(file_len, 393)` bytes
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
        if major != 1 || minor > 5 {
            return Err(fail(24, format!("unsupported LAS version {major}.{minor} (expected 1.0 to 1.5)")));
        }
        let header_size = u16::from_le_bytes([b[94], b[95]]);
        let needed = match minor {
            0..=2 => 227,
            3 => 235,
            4 => HEADER_SIZE_14,
            _ => HEADER_SIZE_15,
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
        let mut raw = if minor == 5 {
            // las-rs reads the 18 bytes after the 1.4 fields as header padding
            let mut as14 = b[..HEADER_SIZE_15 as usize].to_vec();
            as14[25] = 4;
            las::raw::Header::read_from(as14.as_slice())
        } else {
            las::raw::Header::read_from(&b[..needed as usize])
        }
        .map_err(|e| fail(0, format!("cannot parse the LAS header: {e}")))?;
        raw.version = las::Version::new(major, minor);
        let mut gps_time_offset = None;
        if minor == 5 && raw.global_encoding & GPS_TIME_OFFSET_BIT != 0 {
            if raw.global_encoding & 1 == 0 {
                return Err(fail(
                    6,
                    "global encoding sets the GPS time offset bit (6) but not the standard GPS time bit (0), which LAS 1.5 requires with it".into(),
                ));
            }
            gps_time_offset = Some(u16::from_le_bytes([b[391], b[392]]));
        }
        if minor == 5 && point_format_of(raw.point_data_record_format) < 6 {
            return Err(fail(
                104,
                format!(
                    "point data record format {} is not allowed in LAS 1.5 (expected 6 to 10)",
                    point_format_of(raw.point_data_record_format)
                ),
            ));
        }
        let format_byte = raw.point_data_record_format;
        let point_format = point_format_of(format_byte);
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
            gps_time_offset,
            raw,
        })
    }

    /// What to add to this file's GPS times to make them LAS 1.4 adjusted standard GPS
    /// time (a LAS 1.5 file whose time offset is not the 1.4 one), else None.
    pub fn gps_time_shift(&self) -> Option<f64> {
        self.gps_time_offset
            .filter(|o| *o != ADJUSTED_STANDARD_TIME_OFFSET)
            .map(|o| (o as f64 - ADJUSTED_STANDARD_TIME_OFFSET as f64) * 1e6)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A LAS 1.5 header of format 6 with the 18 bytes after the 1.4 fields, built from
    /// las-rs' 1.4 header (which knows nothing of 1.5) by patching the version.
    fn las15(global_encoding: u16, format: u8, time_offset: u16) -> Vec<u8> {
        let mut raw = las::raw::Header {
            version: las::Version::new(1, 4),
            header_size: HEADER_SIZE_15,
            offset_to_point_data: HEADER_SIZE_15 as u32,
            point_data_record_format: format,
            point_data_record_length: 30,
            global_encoding,
            x_scale_factor: 0.01,
            y_scale_factor: 0.01,
            z_scale_factor: 0.01,
            ..Default::default()
        };
        raw.large_file = Some(las::raw::header::LargeFile { number_of_point_records: 0, number_of_points_by_return: [0; 15] });
        raw.evlr = Some(las::raw::header::Evlr { start_of_first_evlr: 0, number_of_evlrs: 0 });
        raw.padding = vec![0; 18];
        let mut b = Vec::new();
        raw.write_to(&mut b).unwrap();
        b[25] = 5;
        b[375..383].copy_from_slice(&2000.5f64.to_le_bytes());
        b[383..391].copy_from_slice(&1000.25f64.to_le_bytes());
        b[391..393].copy_from_slice(&time_offset.to_le_bytes());
        b
    }

    #[test]
    fn las15_time_offset_is_read_and_rebased_to_the_14_offset() {
        let b = las15(0x41, 6, 1250);
        let h = Header::parse("a.las", &b, b.len() as u64).unwrap();
        assert_eq!(h.version, (1, 5));
        assert_eq!(h.header_size(), 393);
        assert_eq!(h.gps_time_offset, Some(1250));
        assert_eq!(h.gps_time_shift(), Some(250e6));
        // bit 6 clear: the field is not in use, whatever it holds
        let h = Header::parse("a.las", &las15(0x01, 6, 1250), 393).unwrap();
        assert_eq!((h.gps_time_offset, h.gps_time_shift()), (None, None));
        // the 1.4 offset spelled out: nothing to shift
        let h = Header::parse("a.las", &las15(0x41, 6, 1000), 393).unwrap();
        assert_eq!((h.gps_time_offset, h.gps_time_shift()), (Some(1000), None));
    }

    #[test]
    fn las15_errors_name_the_field() {
        let e = Header::parse("a.las", &las15(0x40, 6, 1250), 393).unwrap_err().to_string();
        assert!(e.contains("a.las") && e.contains("byte 6") && e.contains("bit (0)"), "{e}");
        let e = Header::parse("a.las", &las15(0x01, 3, 0), 393).unwrap_err().to_string();
        assert!(e.contains("byte 104") && e.contains("not allowed in LAS 1.5"), "{e}");
        let e = Header::parse("a.las", &las15(0x01, 6, 0)[..380], 380).unwrap_err().to_string();
        assert!(e.contains("393"), "{e}");
        let mut b = las15(0x01, 6, 0);
        b[25] = 6;
        let e = Header::parse("a.las", &b, 393).unwrap_err().to_string();
        assert!(e.contains("byte 24") && e.contains("1.6"), "{e}");
    }
}
