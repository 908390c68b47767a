//! The COPC info VLR (`copc`/1, 160 bytes) and the draft-era `entwine`/1 layouts.

use super::bytes::{f64_at, u64_at};
use super::key::Cube;

pub const INFO_USER_ID: &str = "copc";
pub const INFO_RECORD_ID: u16 = 1;
pub const INFO_SIZE: usize = 160;
/// Where the info VLR's payload starts in a COPC 1.0 file (375 + 54).
pub const INFO_PAYLOAD_OFFSET: u64 = 429;

#[derive(Debug, Clone, PartialEq)]
pub struct CopcInfo {
    pub center: [f64; 3],
    pub halfsize: f64,
    pub spacing: f64,
    pub root_hier_offset: u64,
    pub root_hier_size: u64,
    pub gpstime_minimum: f64,
    pub gpstime_maximum: f64,
    pub reserved: [u64; 11],
}

impl CopcInfo {
    /// Parses the 160-byte payload; `None` if it is shorter.
    pub fn parse(b: &[u8]) -> Option<Self> {
        if b.len() < INFO_SIZE {
            return None;
        }
        let mut reserved = [0u64; 11];
        for (i, r) in reserved.iter_mut().enumerate() {
            *r = u64_at(b, 72 + 8 * i);
        }
        Some(CopcInfo {
            center: [f64_at(b, 0), f64_at(b, 8), f64_at(b, 16)],
            halfsize: f64_at(b, 24),
            spacing: f64_at(b, 32),
            root_hier_offset: u64_at(b, 40),
            root_hier_size: u64_at(b, 48),
            gpstime_minimum: f64_at(b, 56),
            gpstime_maximum: f64_at(b, 64),
            reserved,
        })
    }

    pub fn to_bytes(&self) -> [u8; INFO_SIZE] {
        let mut out = [0u8; INFO_SIZE];
        let mut put = |o: usize, v: [u8; 8]| out[o..o + 8].copy_from_slice(&v);
        put(0, self.center[0].to_le_bytes());
        put(8, self.center[1].to_le_bytes());
        put(16, self.center[2].to_le_bytes());
        put(24, self.halfsize.to_le_bytes());
        put(32, self.spacing.to_le_bytes());
        put(40, self.root_hier_offset.to_le_bytes());
        put(48, self.root_hier_size.to_le_bytes());
        put(56, self.gpstime_minimum.to_le_bytes());
        put(64, self.gpstime_maximum.to_le_bytes());
        for (i, r) in self.reserved.iter().enumerate() {
            put(72 + 8 * i, r.to_le_bytes());
        }
        out
    }

    pub fn cube(&self) -> Cube {
        Cube { center: self.center, halfsize: self.halfsize }
    }
}

/// Which pre-1.0 draft a file follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftLayout {
    /// The seed draft: `entwine`/1 of 80 bytes (root_hier_offset, root_hier_size,
    /// reserved[8]); hierarchy pages (`entwine`/1234) begin with a u64 entry count.
    Seed,
    /// August 2021 (PDAL/Entwine): `entwine`/1 "COPC offsets" of 160 bytes of u64
    /// `[0, root_hier_offset, root_hier_size, laz_vlr_offset, laz_vlr_size, ...]`;
    /// hierarchy EVLR `entwine`/1000 of plain 32-byte entries.
    Offsets2021,
}

/// What a draft info VLR tells: where the root page is. Neither layout carries the
/// octree cube or spacing; the reader derives those.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftInfo {
    pub layout: DraftLayout,
    pub root_hier_offset: u64,
    pub root_hier_size: u64,
}

pub const DRAFT_USER_ID: &str = "entwine";

impl DraftInfo {
    pub fn parse(b: &[u8]) -> Option<Self> {
        match b.len() {
            80 => Some(DraftInfo { layout: DraftLayout::Seed, root_hier_offset: u64_at(b, 0), root_hier_size: u64_at(b, 8) }),
            n if n >= 160 => {
                Some(DraftInfo { layout: DraftLayout::Offsets2021, root_hier_offset: u64_at(b, 8), root_hier_size: u64_at(b, 16) })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_round_trips() {
        let info = CopcInfo {
            center: [1.5, -2.0, 3.25],
            halfsize: 100.0,
            spacing: 1.5625,
            root_hier_offset: 123456,
            root_hier_size: 32 * 9,
            gpstime_minimum: 42.0,
            gpstime_maximum: 42.99,
            reserved: [0; 11],
        };
        let bytes = info.to_bytes();
        assert_eq!(&bytes[24..32], &100.0f64.to_le_bytes());
        assert_eq!(&bytes[40..48], &123456u64.to_le_bytes());
        assert_eq!(CopcInfo::parse(&bytes), Some(info));
        assert_eq!(CopcInfo::parse(&bytes[..159]), None);
    }

    #[test]
    fn draft_layouts() {
        let mut b = vec![0u8; 160];
        b[8..16].copy_from_slice(&400368u64.to_le_bytes());
        b[16..24].copy_from_slice(&160u64.to_le_bytes());
        let d = DraftInfo::parse(&b).unwrap();
        assert_eq!((d.layout, d.root_hier_offset, d.root_hier_size), (DraftLayout::Offsets2021, 400368, 160));
        let mut s = vec![0u8; 80];
        s[0..8].copy_from_slice(&999u64.to_le_bytes());
        s[8..16].copy_from_slice(&72u64.to_le_bytes());
        let d = DraftInfo::parse(&s).unwrap();
        assert_eq!((d.layout, d.root_hier_offset, d.root_hier_size), (DraftLayout::Seed, 999, 72));
        assert!(DraftInfo::parse(&s[..40]).is_none());
    }
}
