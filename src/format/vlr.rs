//! Variable-length records: 54-byte VLR headers (u16 lengths) in the header
//! block, 60-byte EVLR headers (u64 lengths) after the points.

use super::bytes::{c_string, u16_at, u64_at};

pub const VLR_HEADER_SIZE: usize = 54;
pub const EVLR_HEADER_SIZE: usize = 60;

#[derive(Debug, Clone, PartialEq)]
pub struct Vlr {
    pub user_id: String,
    pub record_id: u16,
    pub description: String,
    pub reserved: u16,
    /// An EVLR (u64 length, after the point data) rather than a VLR.
    pub extended: bool,
    /// File offset of the record's header.
    pub header_offset: u64,
    /// File offset and length of the payload.
    pub data_offset: u64,
    pub data_len: u64,
    /// The payload, when it has been read (always for VLRs; for EVLRs only small ones,
    /// large ones such as hierarchy pages are read on demand).
    pub data: Option<Vec<u8>>,
}

impl Vlr {
    pub fn is(&self, user_id: &str, record_id: u16) -> bool {
        self.user_id == user_id && self.record_id == record_id
    }

    /// Parses a VLR or EVLR header at `header_offset`; `b` holds at least the header bytes.
    pub fn parse_header(b: &[u8], header_offset: u64, extended: bool) -> Vlr {
        let (len, hsize) = if extended {
            (u64_at(b, 20), EVLR_HEADER_SIZE)
        } else {
            (u16_at(b, 20) as u64, VLR_HEADER_SIZE)
        };
        let desc_at = if extended { 28 } else { 22 };
        Vlr {
            reserved: u16_at(b, 0),
            user_id: c_string(&b[2..18]),
            record_id: u16_at(b, 18),
            description: c_string(&b[desc_at..desc_at + 32]),
            extended,
            header_offset,
            data_offset: header_offset + hsize as u64,
            data_len: len,
            data: None,
        }
    }

    /// Serialises a header + payload (VLR if `!extended`, else EVLR).
    pub fn write(user_id: &str, record_id: u16, description: &str, data: &[u8], extended: bool, out: &mut Vec<u8>) {
        out.extend_from_slice(&0u16.to_le_bytes());
        let mut uid = [0u8; 16];
        super::bytes::put_c_string(&mut uid, user_id);
        out.extend_from_slice(&uid);
        out.extend_from_slice(&record_id.to_le_bytes());
        if extended {
            out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        } else {
            out.extend_from_slice(&(data.len() as u16).to_le_bytes());
        }
        let mut desc = [0u8; 32];
        super::bytes::put_c_string(&mut desc, description);
        out.extend_from_slice(&desc);
        out.extend_from_slice(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vlr_and_evlr_headers_round_trip() {
        for extended in [false, true] {
            let mut b = Vec::new();
            Vlr::write("copc", 1000, "EPT hierarchy", &[7u8; 64], extended, &mut b);
            let hsize = if extended { EVLR_HEADER_SIZE } else { VLR_HEADER_SIZE };
            assert_eq!(b.len(), hsize + 64);
            let v = Vlr::parse_header(&b, 500, extended);
            assert!(v.is("copc", 1000));
            assert_eq!(v.description, "EPT hierarchy");
            assert_eq!(v.data_len, 64);
            assert_eq!(v.data_offset, 500 + hsize as u64);
        }
    }
}
