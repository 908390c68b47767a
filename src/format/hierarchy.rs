//! Hierarchy pages: arrays of 32-byte entries `i32 level, x, y, z; u64 offset;
//! i32 byte_size; i32 point_count`. point_count > 0: a data chunk; 0: an empty
//! node; -1: a child page at offset/byte_size.

use super::bytes::{i32_at, u64_at};
use super::key::VoxelKey;

pub const ENTRY_SIZE: usize = 32;
pub const HIERARCHY_USER_ID: &str = "copc";
pub const HIERARCHY_RECORD_ID: u16 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub key: VoxelKey,
    pub offset: u64,
    pub byte_size: i32,
    pub point_count: i32,
}

impl Entry {
    pub fn is_page(&self) -> bool {
        self.point_count == -1
    }

    pub fn has_data(&self) -> bool {
        self.point_count > 0
    }

    pub fn parse(b: &[u8]) -> Entry {
        Entry {
            key: VoxelKey::new(i32_at(b, 0), i32_at(b, 4), i32_at(b, 8), i32_at(b, 12)),
            offset: u64_at(b, 16),
            byte_size: i32_at(b, 24),
            point_count: i32_at(b, 28),
        }
    }

    pub fn write(&self, out: &mut Vec<u8>) {
        for v in [self.key.level, self.key.x, self.key.y, self.key.z] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&self.offset.to_le_bytes());
        out.extend_from_slice(&self.byte_size.to_le_bytes());
        out.extend_from_slice(&self.point_count.to_le_bytes());
    }
}

/// Why a page's bytes cannot be entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageError {
    /// The size is not a multiple of 32.
    Size(usize),
    /// The seed draft's leading count disagrees with the page size.
    Count { count: u64, fits: usize },
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageError::Size(n) => write!(f, "hierarchy page of {n} bytes is not a whole number of 32-byte entries"),
            PageError::Count { count, fits } => {
                write!(f, "hierarchy page says it has {count} entries but its size holds {fits}")
            }
        }
    }
}

/// Parses a COPC 1.0 page (plain entries).
pub fn parse_page(b: &[u8]) -> Result<Vec<Entry>, PageError> {
    if b.len() % ENTRY_SIZE != 0 {
        return Err(PageError::Size(b.len()));
    }
    Ok(b.chunks_exact(ENTRY_SIZE).map(Entry::parse).collect())
}

/// Parses a seed-draft page: a u64 entry count, then the entries.
pub fn parse_counted_page(b: &[u8]) -> Result<Vec<Entry>, PageError> {
    if b.len() < 8 || (b.len() - 8) % ENTRY_SIZE != 0 {
        return Err(PageError::Size(b.len()));
    }
    let count = u64_at(b, 0);
    let fits = (b.len() - 8) / ENTRY_SIZE;
    if count != fits as u64 {
        return Err(PageError::Count { count, fits });
    }
    Ok(b[8..].chunks_exact(ENTRY_SIZE).map(Entry::parse).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Entry> {
        vec![
            Entry { key: VoxelKey::ROOT, offset: 1000, byte_size: 500, point_count: 77 },
            Entry { key: VoxelKey::new(1, 1, 0, 1), offset: 0, byte_size: 0, point_count: 0 },
            Entry { key: VoxelKey::new(2, 3, 1, 2), offset: 9000, byte_size: 64, point_count: -1 },
        ]
    }

    #[test]
    fn page_round_trip() {
        let mut bytes = Vec::new();
        for e in sample() {
            e.write(&mut bytes);
        }
        assert_eq!(bytes.len(), 96);
        assert_eq!(&bytes[0..4], &0i32.to_le_bytes());
        assert_eq!(&bytes[16..24], &1000u64.to_le_bytes());
        assert_eq!(&bytes[92..96], &(-1i32).to_le_bytes());
        let back = parse_page(&bytes).unwrap();
        assert_eq!(back, sample());
        assert!(back[2].is_page() && back[0].has_data() && !back[1].has_data());
        assert_eq!(parse_page(&bytes[..95]), Err(PageError::Size(95)));
    }

    #[test]
    fn counted_page() {
        let mut bytes = 3u64.to_le_bytes().to_vec();
        for e in sample() {
            e.write(&mut bytes);
        }
        assert_eq!(parse_counted_page(&bytes).unwrap(), sample());
        bytes[0] = 4;
        assert_eq!(parse_counted_page(&bytes), Err(PageError::Count { count: 4, fits: 3 }));
    }
}
