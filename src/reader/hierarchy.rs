//! The lazily loaded octree hierarchy: pages are fetched only when a query's
//! region or depth reaches them, and every entry is checked before it is trusted.

use crate::error::{Error, Location, Result};
use crate::format::hierarchy::{self, Entry};
use crate::format::VoxelKey;
use crate::source::ByteSource;
use std::collections::{HashMap, HashSet};

/// Where chunks may lie: after the chunk-table offset, before the chunk table (or EOF).
#[derive(Debug, Clone, Copy)]
pub struct ChunkArea {
    pub start: u64,
    pub end: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageFormat {
    /// COPC 1.0 and the 2021 draft: plain 32-byte entries.
    Plain,
    /// The seed draft: a u64 entry count first.
    Counted,
}

pub struct Hierarchy {
    /// Data and empty nodes (point_count >= 0) of every page loaded so far.
    pub nodes: HashMap<VoxelKey, Entry>,
    /// Child-page pointers not loaded yet.
    pub pending: Vec<Entry>,
    /// Offsets of the pages loaded (cycle detection) and their count.
    loaded: HashSet<u64>,
    /// Bytes of all pages loaded: valid pages never overlap, so this stays <= the file size.
    loaded_bytes: u64,
    pub format: PageFormat,
    area: ChunkArea,
    /// The header's point count, which a complete hierarchy must add up to.
    expected_points: Option<u64>,
    /// Set once a complete hierarchy was found to add up.
    total_checked: bool,
}

impl Hierarchy {
    pub fn new(format: PageFormat, area: ChunkArea) -> Hierarchy {
        Hierarchy {
            nodes: HashMap::new(),
            pending: Vec::new(),
            loaded: HashSet::new(),
            loaded_bytes: 0,
            format,
            area,
            expected_points: None,
            total_checked: false,
        }
    }

    /// Once every page is loaded, the data nodes' point counts must add up to `n`
    /// (the header's count): a page pointer turned into an empty node, or a count
    /// changed, would otherwise drop points without a word.
    pub fn expect_points(&mut self, n: u64) {
        self.expected_points = Some(n);
    }

    fn check_total(&mut self, name: &str) -> Result<()> {
        let Some(want) = self.expected_points else { return Ok(()) };
        if self.total_checked || !self.pending.is_empty() {
            return Ok(());
        }
        let have: u64 = self.nodes.values().map(|e| e.point_count.max(0) as u64).sum();
        if have != want {
            return Err(Error::format(
                name,
                Location::Source,
                format!("the hierarchy holds {have} points but the header says {want}: a hierarchy page or entry is missing or wrong"),
            ));
        }
        self.total_checked = true;
        Ok(())
    }

    pub fn page_count(&self) -> usize {
        self.loaded.len()
    }

    /// Adds the entries of the page stored at `offset`.
    pub fn add_page(&mut self, name: &str, offset: u64, bytes: &[u8], file_len: u64) -> Result<()> {
        if !self.loaded.insert(offset) {
            return Err(Error::format(name, Location::Offset(offset), "hierarchy page referenced twice (page cycle)"));
        }
        self.loaded_bytes += bytes.len() as u64;
        if self.loaded_bytes > file_len {
            return Err(Error::format(
                name,
                Location::Offset(offset),
                "hierarchy pages overlap: they add up to more bytes than the file holds",
            ));
        }
        let entries = match self.format {
            PageFormat::Plain => hierarchy::parse_page(bytes),
            PageFormat::Counted => hierarchy::parse_counted_page(bytes),
        }
        .map_err(|e| Error::format(name, Location::Offset(offset), e.to_string()))?;
        for (i, e) in entries.into_iter().enumerate() {
            let entry_at = offset + (i * hierarchy::ENTRY_SIZE) as u64;
            let at = Location::Node { key: e.key.as_array(), offset: Some(entry_at) };
            if !e.key.is_valid() {
                return Err(Error::format(name, at, "key outside its level's grid (expected 0 <= x,y,z < 2^level)"));
            }
            match e.point_count {
                -1 => {
                    let end = e.offset.checked_add(e.byte_size as u64);
                    if e.byte_size <= 0 || end.is_none_or(|end| end > file_len) {
                        return Err(Error::format(
                            name,
                            at,
                            format!("child page at byte {} of {} bytes lies outside the file ({file_len} bytes)", e.offset, e.byte_size),
                        ));
                    }
                    self.pending.push(e);
                }
                0 => {
                    self.insert(name, at, e)?;
                }
                n if n > 0 => {
                    let end = e.offset.checked_add(e.byte_size as u64);
                    if e.byte_size <= 0 || e.offset < self.area.start || end.is_none_or(|end| end > self.area.end) {
                        return Err(Error::format(
                            name,
                            at,
                            format!(
                                "chunk at byte {} of {} bytes lies outside the point data (bytes {}..{})",
                                e.offset, e.byte_size, self.area.start, self.area.end
                            ),
                        ));
                    }
                    self.insert(name, at, e)?;
                }
                n => return Err(Error::format(name, at, format!("point count {n} (expected -1, 0 or more)"))),
            }
        }
        Ok(())
    }

    fn insert(&mut self, name: &str, at: Location, e: Entry) -> Result<()> {
        if self.nodes.insert(e.key, e).is_some() {
            return Err(Error::format(name, at, "key appears twice in the hierarchy"));
        }
        Ok(())
    }

    /// Loads, round by round, every pending page whose key passes `wanted`.
    pub fn load_pages(&mut self, src: &dyn ByteSource, wanted: &dyn Fn(&VoxelKey) -> bool) -> Result<()> {
        loop {
            let (take, keep): (Vec<Entry>, Vec<Entry>) = self.pending.drain(..).partition(|e| wanted(&e.key));
            self.pending = keep;
            if take.is_empty() {
                return self.check_total(src.name());
            }
            let ranges: Vec<_> = take.iter().map(|e| e.offset..e.offset + e.byte_size as u64).collect();
            let pages = src.read_ranges(&ranges)?;
            for (e, bytes) in take.iter().zip(pages) {
                self.add_page(src.name(), e.offset, &bytes, src.len())?;
            }
        }
    }
}
