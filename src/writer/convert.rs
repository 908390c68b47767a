//! Point record conversion from any LAS format (0-10) to the COPC formats 6, 7, 8,
//! with optional re-quantization to another scale/offset.
//!
//! Mapping (as PDAL and LAStools do it):
//! - 0, 1, 4, 6, 9 → 6; 2, 3, 5, 7 → 7 (RGB); 8, 10 → 8 (RGB + NIR).
//! - Waveform formats (4, 5, 9, 10) keep every point; the wave packet fields
//!   (descriptor index, byte offset, size, return location, x(t), y(t), z(t)) are
//!   dropped, and the writer reports a warning.
//! - Legacy (0-5) fields: return number and number of returns (3 bits) go to the
//!   4-bit fields; the synthetic, key-point and withheld bits go to the 1.4 flag byte;
//!   scan direction and edge of flight line keep their meaning; the scan angle rank
//!   (whole degrees, i8) becomes the 1.4 scan angle in 0.006° steps **rounded to the
//!   nearest step** (rank 7 → 1167, not 1166); user data, point source id, GPS time
//!   (0 when the format has none) and RGB are copied.
//! - Legacy class 12 ("overlap" in ASPRS 1.1-1.3 practice) is kept as class 12 with
//!   the overlap flag clear: the value survives unchanged (PDAL does the same), and
//!   readers that want the 1.4 convention can map it themselves. Classes 0-31 are
//!   copied as they are.
//! - Extra bytes are copied byte for byte after the standard fields.

use crate::format::{Bounds, PointLayout};

/// The COPC point format a LAS format becomes.
pub fn target_format(format: u8) -> u8 {
    match format {
        2 | 3 | 5 | 7 => 7,
        8 | 10 => 8,
        _ => 6,
    }
}

/// True for the formats that carry wave packets.
pub fn has_waveform(format: u8) -> bool {
    matches!(format, 4 | 5 | 9 | 10)
}

/// Per-axis re-quantization: value = X·s_in + o_in, X' = round((value − o_out) / s_out).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Requantize {
    pub scale_in: [f64; 3],
    pub offset_in: [f64; 3],
    pub scale_out: [f64; 3],
    pub offset_out: [f64; 3],
}

impl Requantize {
    /// None when the input integers can be copied unchanged.
    pub fn new(scale_in: [f64; 3], offset_in: [f64; 3], scale_out: [f64; 3], offset_out: [f64; 3]) -> Option<Self> {
        (scale_in != scale_out || offset_in != offset_out).then_some(Requantize {
            scale_in,
            offset_in,
            scale_out,
            offset_out,
        })
    }

    #[inline]
    pub fn apply(&self, axis: usize, v: i32) -> Option<i32> {
        let world = v as f64 * self.scale_in[axis] + self.offset_in[axis];
        let q = ((world - self.offset_out[axis]) / self.scale_out[axis]).round();
        (q >= i32::MIN as f64 && q <= i32::MAX as f64).then_some(q as i32)
    }
}

/// Converts records of one input into COPC records.
#[derive(Debug, Clone)]
pub struct Converter {
    pub input: PointLayout,
    pub output_format: u8,
    pub output_len: usize,
    /// Bytes of extra bytes per record (copied after the standard fields).
    pub extra_len: usize,
    pub requantize: Option<Requantize>,
    /// Added to every GPS time: a LAS 1.5 input's time offset rebased to the 1.4 one.
    pub gps_shift: Option<f64>,
}

/// A point whose coordinate does not fit an i32 at the output scale/offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Overflow {
    /// Index of the record in the batch.
    pub record: usize,
    pub axis: usize,
    pub value: f64,
}

impl Converter {
    pub fn new(input: PointLayout, requantize: Option<Requantize>) -> Self {
        let output_format = target_format(input.format);
        let extra_len = input.record_length - input.extra_start;
        Converter {
            input,
            output_format,
            output_len: PointLayout::base_size(output_format) + extra_len,
            extra_len,
            requantize,
            gps_shift: None,
        }
    }

    /// Adds `shift` seconds to every GPS time (see `Header::gps_time_shift`).
    pub fn with_gps_shift(mut self, shift: Option<f64>) -> Self {
        self.gps_shift = shift.filter(|_| self.input.gps_time.is_some());
        self
    }

    /// Appends the converted records of `records` to `out`.
    pub fn convert(&self, records: &[u8], out: &mut Vec<u8>) -> Result<(), Overflow> {
        let il = self.input.record_length;
        let ol = self.output_len;
        let n = records.len() / il;
        let start = out.len();
        out.resize(start + n * ol, 0);
        let dst_all = &mut out[start..];
        let in_extra = self.input.extra_start;
        let out_extra = PointLayout::base_size(self.output_format);
        for (i, (src, dst)) in records.chunks_exact(il).zip(dst_all.chunks_exact_mut(ol)).enumerate() {
            if self.input.extended {
                // 6-10: the first 30 bytes are the same; RGB/NIR at the same places.
                dst[..out_extra.min(30)].copy_from_slice(&src[..30]);
                if self.output_format >= 7 {
                    dst[30..out_extra].copy_from_slice(&src[30..out_extra]);
                }
            } else {
                dst[0..14].copy_from_slice(&src[0..14]); // X, Y, Z, intensity
                let b14 = src[14];
                let b15 = src[15];
                let ret = b14 & 0x07;
                let nret = (b14 >> 3) & 0x07;
                dst[14] = ret | (nret << 4);
                // flags: synthetic, key point, withheld -> bits 0..2; overlap 0; channel 0;
                // scan direction bit 6, edge of flight line bit 7
                dst[15] = ((b15 >> 5) & 0x07) | (b14 & 0xC0);
                dst[16] = b15 & 0x1F;
                dst[17] = src[17];
                let rank = src[16] as i8 as f64;
                let angle = (rank / 0.006).round() as i16;
                dst[18..20].copy_from_slice(&angle.to_le_bytes());
                dst[20..22].copy_from_slice(&src[18..20]);
                if let Some(o) = self.input.gps_time {
                    dst[22..30].copy_from_slice(&src[o..o + 8]);
                }
                if let Some(o) = self.input.rgb {
                    dst[30..36].copy_from_slice(&src[o..o + 6]);
                }
            }
            if let Some(shift) = self.gps_shift {
                let t = f64::from_le_bytes(dst[22..30].try_into().expect("8 bytes"));
                dst[22..30].copy_from_slice(&(t + shift).to_le_bytes());
            }
            if self.extra_len > 0 {
                dst[out_extra..].copy_from_slice(&src[in_extra..in_extra + self.extra_len]);
            }
            if let Some(q) = &self.requantize {
                for axis in 0..3 {
                    let at = axis * 4;
                    let v = i32::from_le_bytes([dst[at], dst[at + 1], dst[at + 2], dst[at + 3]]);
                    match q.apply(axis, v) {
                        Some(nv) => dst[at..at + 4].copy_from_slice(&nv.to_le_bytes()),
                        None => {
                            let value = v as f64 * q.scale_in[axis] + q.offset_in[axis];
                            out.truncate(start);
                            return Err(Overflow { record: i, axis, value });
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Keeps, in order, the COPC records (X/Y/Z the first three i32) whose coordinates at
/// `scale`/`offset` lie in `b`, edges included (`copc translate --bounds`).
pub fn retain_in_bounds(recs: &mut Vec<u8>, rec_len: usize, scale: [f64; 3], offset: [f64; 3], b: &Bounds) {
    let n = recs.len() / rec_len;
    let mut kept = 0;
    for i in 0..n {
        let r = &recs[i * rec_len..];
        let v = |a: usize| i32::from_le_bytes([r[4 * a], r[4 * a + 1], r[4 * a + 2], r[4 * a + 3]]) as f64 * scale[a] + offset[a];
        if b.contains_point(v(0), v(1), v(2)) {
            if kept != i {
                recs.copy_within(i * rec_len..(i + 1) * rec_len, kept * rec_len);
            }
            kept += 1;
        }
    }
    recs.truncate(kept * rec_len);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Dimension as D;
    use crate::format::point::{Transform, value_f64};

    fn legacy3() -> Vec<u8> {
        let mut r = vec![0u8; 34 + 3];
        r[0..4].copy_from_slice(&123i32.to_le_bytes());
        r[4..8].copy_from_slice(&(-4i32).to_le_bytes());
        r[8..12].copy_from_slice(&99i32.to_le_bytes());
        r[12..14].copy_from_slice(&700u16.to_le_bytes());
        r[14] = 2 | (3 << 3) | 0x40 | 0x80; // return 2 of 3, scan dir, edge
        r[15] = 12 | 0x20 | 0x80; // class 12, synthetic, withheld
        r[16] = (-7i8) as u8;
        r[17] = 33;
        r[18..20].copy_from_slice(&4242u16.to_le_bytes());
        r[20..28].copy_from_slice(&1234.5f64.to_le_bytes());
        r[28..34].copy_from_slice(&[1, 2, 3, 4, 5, 6]);
        r[34..37].copy_from_slice(&[9, 8, 7]);
        r
    }

    #[test]
    fn retain_in_bounds_keeps_the_records_inside_in_order() {
        let rec = |x: i32, y: i32, z: i32, tag: u8| {
            let mut r = vec![tag; 30];
            for (k, v) in [x, y, z].into_iter().enumerate() {
                r[4 * k..4 * k + 4].copy_from_slice(&v.to_le_bytes());
            }
            r
        };
        let mut recs = [rec(0, 0, 0, 1), rec(10, 10, 5, 2), rec(20, 5, 0, 3), rec(5, 5, 99, 4)].concat();
        // world = raw * 0.5 + 100: (100,100,100) (105,105,102.5) (110,102.5,100) (102.5,102.5,149.5)
        let b = Bounds::new([102.0, 100.0, f64::NEG_INFINITY], [110.0, 105.0, f64::INFINITY]);
        retain_in_bounds(&mut recs, 30, [0.5; 3], [100.0; 3], &b);
        let tags: Vec<u8> = recs.chunks(30).map(|r| r[29]).collect();
        assert_eq!(tags, [2, 3, 4]);
        retain_in_bounds(&mut recs, 30, [0.5; 3], [100.0; 3], &Bounds::new([0.0; 3], [1.0; 3]));
        assert!(recs.is_empty());
    }

    #[test]
    fn legacy_fields_map_to_14() {
        let inl = PointLayout::new(3, 37);
        let c = Converter::new(inl, None);
        assert_eq!((c.output_format, c.output_len), (7, 39));
        let mut out = Vec::new();
        c.convert(&legacy3(), &mut out).unwrap();
        let ol = PointLayout::new(7, 39);
        let t = Transform {
            scale: [1.0; 3],
            offset: [0.0; 3],
        };
        let v = |d| value_f64(&ol, &t, &out, d);
        let vi = |d| value_f64(&inl, &t, &legacy3(), d);
        for d in [
            D::X,
            D::Y,
            D::Z,
            D::Intensity,
            D::ReturnNumber,
            D::NumberOfReturns,
            D::ScanDirectionFlag,
            D::EdgeOfFlightLine,
            D::Classification,
            D::Synthetic,
            D::KeyPoint,
            D::Withheld,
            D::UserData,
            D::PointSourceId,
            D::GpsTime,
            D::Red,
            D::Green,
            D::Blue,
            D::ScanAngle,
        ] {
            assert_eq!(v(d), vi(d), "{d:?}");
        }
        assert_eq!(v(D::ScanAngle), -1167.0);
        assert_eq!(v(D::Overlap), 0.0);
        assert_eq!(&out[36..39], &[9, 8, 7]);
    }

    #[test]
    fn waveform_formats_drop_packets() {
        // format 10 (67 bytes) -> 8 (38 bytes), keeping RGB + NIR
        let mut r = vec![0u8; 67];
        for (i, b) in r.iter_mut().enumerate() {
            *b = i as u8;
        }
        let c = Converter::new(PointLayout::new(10, 67), None);
        let mut out = Vec::new();
        c.convert(&r, &mut out).unwrap();
        assert_eq!(out.len(), 38);
        assert_eq!(&out[..], &r[..38]);
        let c = Converter::new(PointLayout::new(4, 57), None);
        assert_eq!(c.output_len, 30);
    }

    #[test]
    fn requantization_rounds_and_detects_overflow() {
        let q = Requantize::new([0.01; 3], [0.0; 3], [0.1; 3], [100.0, 0.0, 0.0]).unwrap();
        assert_eq!(q.apply(0, 10_004), Some(0)); // 100.04 -> 0.04/0.1 rounds to 0
        assert_eq!(q.apply(0, 10_006), Some(1));
        assert_eq!(q.apply(1, -26), Some(-3)); // -0.26 -> -2.6 -> -3
        let big = Requantize::new([1.0; 3], [0.0; 3], [1e-3; 3], [0.0; 3]).unwrap();
        assert_eq!(big.apply(0, 3_000_000), None);
        assert!(Requantize::new([0.01; 3], [1.0; 3], [0.01; 3], [1.0; 3]).is_none());
        let c = Converter::new(PointLayout::new(6, 30), Some(big));
        let mut rec = vec![0u8; 30];
        rec[4..8].copy_from_slice(&3_000_000i32.to_le_bytes());
        let mut out = vec![1u8];
        let e = c.convert(&rec, &mut out).unwrap_err();
        assert_eq!((e.record, e.axis, e.value), (0, 1, 3_000_000.0));
        assert_eq!(out, vec![1u8]);
    }
}
