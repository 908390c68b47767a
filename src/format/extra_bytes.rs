//! The extra-bytes VLR (`LASF_Spec`/4): 192-byte descriptors of the bytes each
//! record carries after its standard fields.

use super::bytes::{c_string, f64_at};

pub const EXTRA_BYTES_USER_ID: &str = "LASF_Spec";
pub const EXTRA_BYTES_RECORD_ID: u16 = 4;
pub const DESCRIPTOR_SIZE: usize = 192;

/// Scalar type of one extra-bytes element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtraBytesType {
    /// Undocumented bytes (data type 0): `options` gives the count.
    Raw,
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    U64,
    I64,
    F32,
    F64,
}

impl ExtraBytesType {
    pub fn size(self) -> usize {
        use ExtraBytesType::*;
        match self {
            Raw | U8 | I8 => 1,
            U16 | I16 => 2,
            U32 | I32 | F32 => 4,
            U64 | I64 | F64 => 8,
        }
    }

    pub fn name(self) -> &'static str {
        use ExtraBytesType::*;
        match self {
            Raw => "raw",
            U8 => "uint8",
            I8 => "int8",
            U16 => "uint16",
            I16 => "int16",
            U32 => "uint32",
            I32 => "int32",
            U64 => "uint64",
            I64 => "int64",
            F32 => "float",
            F64 => "double",
        }
    }

    /// Decodes one little-endian element as f64.
    #[inline]
    pub fn as_f64(self, b: &[u8]) -> f64 {
        use ExtraBytesType::*;
        match self {
            Raw | U8 => b[0] as f64,
            I8 => b[0] as i8 as f64,
            U16 => u16::from_le_bytes([b[0], b[1]]) as f64,
            I16 => i16::from_le_bytes([b[0], b[1]]) as f64,
            U32 => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
            I32 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
            F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
            U64 => u64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8])) as f64,
            I64 => i64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8])) as f64,
            F64 => f64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8])),
        }
    }
}

/// One extra-bytes dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtraBytes {
    pub name: String,
    pub description: String,
    /// The raw `data_type` byte (0-30; 11-30 are deprecated 2- and 3-element arrays).
    pub data_type: u8,
    pub options: u8,
    pub scalar: ExtraBytesType,
    /// Elements per record (1, or 2/3 for the deprecated array types; for raw, the byte count).
    pub count: usize,
    /// Byte offset inside the record.
    pub offset_in_record: usize,
    pub no_data: Option<[f64; 3]>,
    pub scale: Option<[f64; 3]>,
    pub offset: Option<[f64; 3]>,
    /// The descriptor exactly as stored (for writers that forward it).
    pub descriptor: Vec<u8>,
}

impl ExtraBytes {
    /// Bytes this dimension occupies in a record.
    pub fn size(&self) -> usize {
        if self.scalar == ExtraBytesType::Raw { self.count } else { self.scalar.size() * self.count }
    }

    /// A type name for reports: "double", "uint16[3]", "raw[4]".
    pub fn type_name(&self) -> String {
        if self.count == 1 && self.scalar != ExtraBytesType::Raw {
            self.scalar.name().to_string()
        } else {
            format!("{}[{}]", self.scalar.name(), self.count)
        }
    }
}

/// Parses the descriptors of an extra-bytes VLR payload. `available` is the number of
/// bytes each record has beyond its standard fields; descriptors must fit in it.
pub fn parse_extra_bytes(payload: &[u8], available: usize) -> Result<Vec<ExtraBytes>, String> {
    if payload.len() % DESCRIPTOR_SIZE != 0 {
        return Err(format!("extra-bytes VLR of {} bytes is not a whole number of 192-byte descriptors", payload.len()));
    }
    let mut out = Vec::new();
    let mut at = 0usize;
    for (i, d) in payload.chunks_exact(DESCRIPTOR_SIZE).enumerate() {
        let data_type = d[2];
        let options = d[3];
        let (scalar, count) = match data_type {
            0 => (ExtraBytesType::Raw, options as usize),
            1..=30 => {
                use ExtraBytesType::*;
                let base = [U8, I8, U16, I16, U32, I32, U64, I64, F32, F64][((data_type - 1) % 10) as usize];
                (base, 1 + ((data_type - 1) / 10) as usize)
            }
            t => return Err(format!("extra-bytes descriptor {i} has data type {t} (expected 0 to 30)")),
        };
        let name = c_string(&d[4..36]);
        let triple = |o: usize| [f64_at(d, o), f64_at(d, o + 8), f64_at(d, o + 16)];
        let eb = ExtraBytes {
            name,
            description: c_string(&d[160..192]),
            data_type,
            options,
            scalar,
            count,
            offset_in_record: at,
            no_data: (options & 1 != 0).then(|| triple(40)),
            scale: (options & 8 != 0).then(|| triple(112)),
            offset: (options & 16 != 0).then(|| triple(136)),
            descriptor: d.to_vec(),
        };
        if eb.size() == 0 {
            return Err(format!("extra-bytes descriptor {i} ('{}') describes 0 bytes", eb.name));
        }
        at += eb.size();
        if at > available {
            return Err(format!(
                "extra-bytes descriptors need {at} bytes per record but records have {available} extra bytes"
            ));
        }
        out.push(eb);
    }
    Ok(out)
}

/// Merges the descriptors of several extra-bytes VLRs (`(payload offset, payload)`,
/// in VLR then EVLR order) into one list and one payload, as PDAL and laspy do: a
/// file may carry one such VLR per producer. Each payload must be whole
/// descriptors; together they must fit in `available` bytes. An error names the
/// offset of the payload it is about.
pub fn merge_extra_bytes(parts: &[(u64, &[u8])], available: usize) -> Result<(Vec<ExtraBytes>, Vec<u8>), (u64, String)> {
    let mut merged = Vec::new();
    for (i, (at, p)) in parts.iter().enumerate() {
        if p.len() % DESCRIPTOR_SIZE != 0 {
            let which = if parts.len() > 1 { format!(" {} of {}", i + 1, parts.len()) } else { String::new() };
            return Err((*at, format!("extra-bytes VLR{which} of {} bytes is not a whole number of 192-byte descriptors", p.len())));
        }
        merged.extend_from_slice(p);
    }
    let at = parts.first().map_or(0, |p| p.0);
    let ebs = parse_extra_bytes(&merged, available).map_err(|m| {
        if parts.len() > 1 { (at, format!("{m} (descriptors of {} extra-bytes VLRs, merged in order)", parts.len())) } else { (at, m) }
    })?;
    Ok((ebs, merged))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn descriptor(name: &str, data_type: u8, options: u8) -> Vec<u8> {
        let mut d = vec![0u8; DESCRIPTOR_SIZE];
        d[2] = data_type;
        d[3] = options;
        d[4..4 + name.len()].copy_from_slice(name.as_bytes());
        d[112..120].copy_from_slice(&0.01f64.to_le_bytes());
        d
    }

    #[test]
    fn parses_types_offsets_and_arrays() {
        let mut p = descriptor("Deviation", 10, 0);
        p.extend(descriptor("Amp", 3, 8));
        p.extend(descriptor("Triple", 23, 0)); // 3 x u16
        p.extend(descriptor("Blob", 0, 5));
        let ebs = parse_extra_bytes(&p, 8 + 2 + 6 + 5).unwrap();
        assert_eq!(ebs.len(), 4);
        assert_eq!((ebs[0].scalar, ebs[0].offset_in_record, ebs[0].size()), (ExtraBytesType::F64, 0, 8));
        assert_eq!((ebs[1].scalar, ebs[1].offset_in_record), (ExtraBytesType::U16, 8));
        assert_eq!(ebs[1].scale, Some([0.01, 0.0, 0.0]));
        assert_eq!(ebs[0].scale, None);
        assert_eq!((ebs[2].count, ebs[2].size(), ebs[2].type_name()), (3, 6, "uint16[3]".to_string()));
        assert_eq!((ebs[3].size(), ebs[3].offset_in_record), (5, 16));
        assert!(parse_extra_bytes(&p, 20).is_err());
        assert!(parse_extra_bytes(&p[..100], 100).is_err());
        assert!(parse_extra_bytes(&descriptor("bad", 31, 0), 10).is_err());
    }

    #[test]
    fn element_decoding() {
        assert_eq!(ExtraBytesType::I16.as_f64(&(-3i16).to_le_bytes()), -3.0);
        assert_eq!(ExtraBytesType::F32.as_f64(&1.5f32.to_le_bytes()), 1.5);
        assert_eq!(ExtraBytesType::I8.as_f64(&[0xFF]), -1.0);
    }

    #[test]
    fn several_vlrs_merge_in_order() {
        let a = descriptor("Deviation", 3, 0); // u16
        let mut b = descriptor("ExtraBytes", 1, 1 | 8); // u8 with no-data and scale
        b[40..48].copy_from_slice(&255f64.to_le_bytes());
        b[160..165].copy_from_slice(b"notes");
        let (ebs, payload) = merge_extra_bytes(&[(100, &a), (400, &b)], 3).unwrap();
        assert_eq!(ebs.iter().map(|e| (e.name.as_str(), e.offset_in_record, e.size())).collect::<Vec<_>>(), [("Deviation", 0, 2), ("ExtraBytes", 2, 1)]);
        assert_eq!((ebs[1].no_data, ebs[1].scale, ebs[1].description.as_str()), (Some([255.0, 0.0, 0.0]), Some([0.01, 0.0, 0.0]), "notes"));
        assert_eq!(payload, [a.clone(), b.clone()].concat());
        let e = merge_extra_bytes(&[(100, &a), (400, &b)], 2).unwrap_err();
        assert!(e.1.contains("need 3 bytes") && e.1.contains("2 extra-bytes VLRs"), "{e:?}");
        assert_eq!(merge_extra_bytes(&[(100, &a), (400, &b[..10])], 3).unwrap_err().0, 400);
    }
}
