//! Entry points for the fuzz targets under `fuzz/` (see FUZZING.md). Not part of the
//! supported API: it reaches crate internals the public API hides (hierarchy pages,
//! HTTP answers) and fixes the byte layout of each target's input, so the seed
//! writer (`examples/fuzz_seeds.rs`) and the targets agree on it.

use crate::error::Result;
use crate::format::hierarchy::{self, Entry};
use crate::format::{Bounds, Cube, Dimension};
use crate::reader::Query;
use crate::source::{ByteSource, MemorySource};
use std::sync::Arc;

pub use crate::source::{Answer, Attempt, ContentRange, parse_content_range};

/// A little-endian reader over the front of a fuzz input; missing bytes read as 0,
/// so every input decodes to some parameters.
pub struct Params<'a>(pub &'a [u8]);

impl Params<'_> {
    pub fn u8(&mut self) -> u8 {
        self.take::<1>()[0]
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.take())
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }

    pub fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take())
    }

    /// What is left after the parameters.
    pub fn rest(&self) -> &[u8] {
        self.0
    }

    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        out
    }
}

/// Every dimension a query can ask for, as numbered by a query input's dims mask:
/// the standard ones in id order, then the first extra-bytes dimension (scaled, raw).
pub fn dims() -> impl Iterator<Item = Dimension> {
    Dimension::STANDARD.into_iter().chain([Dimension::Extra(0), Dimension::ExtraRaw(0)])
}

/// The query part of a `query` target input: 18 bytes before the file.
/// `flags` bit 0: a box, bit 1: a 3-D box (else 2-D), bit 2: a resolution,
/// bit 3: a dims list; `corners`: the box as fractions (/65535) of the cube;
/// `resolution`: spacing × 2^(2 − r/16); `dims`: a mask over [`dims`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryInput {
    pub flags: u8,
    pub corners: [u16; 6],
    pub resolution: u8,
    pub dims: u32,
}

impl QueryInput {
    pub const LEN: usize = 18;

    pub fn decode(p: &mut Params) -> QueryInput {
        let flags = p.u8();
        let corners = [p.u16(), p.u16(), p.u16(), p.u16(), p.u16(), p.u16()];
        QueryInput { flags, corners, resolution: p.u8(), dims: p.u32() }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.flags];
        for c in self.corners {
            out.extend_from_slice(&c.to_le_bytes());
        }
        out.push(self.resolution);
        out.extend_from_slice(&self.dims.to_le_bytes());
        out
    }

    /// The query over a file whose cube and spacing are known (corners may come
    /// out reversed: that is an invalid box, which the reader must reject).
    pub fn query(&self, cube: &Cube, spacing: f64) -> Query {
        let mut q = Query::new();
        if self.flags & 1 != 0 {
            let at = |i: usize, axis: usize| {
                cube.center[axis] - cube.halfsize + 2.0 * cube.halfsize * (self.corners[i] as f64 / 65535.0)
            };
            let b = if self.flags & 2 != 0 {
                Bounds { min: [at(0, 0), at(1, 1), at(2, 2)], max: [at(3, 0), at(4, 1), at(5, 2)] }
            } else {
                Bounds::xy(at(0, 0), at(1, 1), at(3, 0), at(4, 1))
            };
            q = q.bounds(b);
        }
        if self.flags & 4 != 0 {
            q = q.resolution(spacing * (2.0 - self.resolution as f64 / 16.0).exp2());
        }
        if self.flags & 8 != 0 {
            q = q.dims(dims().enumerate().filter(|(i, _)| self.dims >> i & 1 != 0).map(|(_, d)| d).collect::<Vec<_>>());
        }
        q
    }
}

/// The header of a `node` target input (8 bytes before the chunk): point format
/// 6 + `format` % 3, `extra` % 16 extra bytes per record, the hierarchy's point
/// count `points` % 2^20, and a decompression selection mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeInput {
    pub format: u8,
    pub extra: u8,
    pub points: u32,
    pub selection: u16,
}

impl NodeInput {
    pub const LEN: usize = 8;
    /// Decoded points are limited so that a valid chunk fits the fuzzer's memory limit.
    pub const MAX_POINTS: u32 = 1 << 20;

    pub fn decode(p: &mut Params) -> NodeInput {
        NodeInput { format: 6 + p.u8() % 3, extra: p.u8() % 16, points: p.u32() % Self::MAX_POINTS, selection: p.u16() }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.format.wrapping_sub(6), self.extra];
        out.extend_from_slice(&self.points.to_le_bytes());
        out.extend_from_slice(&self.selection.to_le_bytes());
        out
    }
}

/// `node` inputs that once crashed the target (FUZZING.md, Findings), by name: the
/// regression tests decode them (`tests/fuzz_regressions.rs`) and the seed writer
/// adds them to the `node` seeds, so every fuzz run replays them first.
pub fn node_regressions() -> Vec<(&'static str, Vec<u8>)> {
    // Finding 5: 12 format-7 points whose GPS-time layer switches sequence over and
    // over (laz 0.13.0 recursed once per switch until the stack overflowed).
    let gps_switches = concat!(
        "01000c000000ffff072001004012fdff23f5ffff1a00210001877df99e1c5d2c85def4f30d414a00540057000c000000",
        "47000000180000000f0000000c00000012000000160000000f00000006000000420000002c000000382cd9a4f4602813",
        "bc8e829f212cf5ccacf267fa3ee68287de376efc30699205330c6c71cb7a351e8baa4db9f9675a3d21d723e480528299",
        "4fbf89102f3938b2e1c5c8d10000005d31254383d9cb4c468008cd48deb2b5845682fc51000000010100818081018000",
        "01817f0000004103cfbef7e00000010000004fa8e8b369354e9f5fb10a6b14fa08000000a2d7167e7b08da603843b973",
        "98238f1f72410e0000008082433f3cc0433e413f3ec1ffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffff00000007c15100000038ca06da00fb2c70e221ab43c673",
        "60954cef8a6adaaab8a91a68ac65175a77148761f0af869802d8413782f5d5ceda493755e4b0bd5effa2b4f0acc882dd",
        "0c000000abdd5175d52a6c6b94ce31d15a68a0263e178d852ede8a1f6254d4c68c68171559e0da57ddb0734855000000",
    );
    vec![("gps-sequence-switches", from_hex(gps_switches))]
}

/// Bytes from a hex string (a constant above; a bad digit reads as 0).
fn from_hex(hex: &str) -> Vec<u8> {
    hex.as_bytes()
        .chunks(2)
        .map(|d| std::str::from_utf8(d).ok().and_then(|d| u8::from_str_radix(d, 16).ok()).unwrap_or(0))
        .collect()
}

/// The header of a `hierarchy` target input (5 bytes before the file): flags
/// (bit 0: seed-draft counted pages) and the root page's size in entries; the
/// root page starts at byte 0 of the file and chunks may lie anywhere in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PagesInput {
    pub counted: bool,
    pub root_entries: u32,
}

impl PagesInput {
    pub const LEN: usize = 5;

    pub fn decode(p: &mut Params) -> PagesInput {
        PagesInput { counted: p.u8() & 1 != 0, root_entries: p.u32() }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.counted as u8];
        out.extend_from_slice(&self.root_entries.to_le_bytes());
        out
    }
}

/// What a hierarchy held after every page was loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagesLoaded {
    pub entries: Vec<Entry>,
    pub pages: usize,
}

/// Loads the hierarchy whose root page starts at byte 0 of `file` the way the reader
/// does (every entry checked, child pages followed), with the whole file as the
/// area chunks may lie in.
pub fn load_hierarchy(input: PagesInput, file: &[u8]) -> Result<PagesLoaded> {
    use crate::reader::hierarchy::{ChunkArea, Hierarchy, PageFormat};
    let src = MemorySource::new("fuzz-hierarchy", file.to_vec());
    let format = if input.counted { PageFormat::Counted } else { PageFormat::Plain };
    let mut h = Hierarchy::new(format, ChunkArea { start: 0, end: src.len() });
    let header = if input.counted { 8 } else { 0 };
    let root_len = (header + input.root_entries as u64 * hierarchy::ENTRY_SIZE as u64).min(src.len());
    h.add_page(src.name(), 0, &src.read_range(0..root_len)?, src.len())?;
    h.load_pages(&src, &|_| true)?;
    let mut entries: Vec<Entry> = h.nodes.values().copied().collect();
    entries.sort_by_key(|e| e.key);
    Ok(PagesLoaded { entries, pages: h.page_count() })
}

/// A `hierarchy` seed from a COPC file: its pages copied one after the other
/// (root first) with the page pointers rewritten to the new offsets, and data
/// entries pointed at byte 0 (their chunks are not copied). None if the file does
/// not open.
pub fn hierarchy_seed(copc: &[u8]) -> Option<Vec<u8>> {
    let src: Arc<dyn ByteSource> = Arc::new(MemorySource::new("seed", copc.to_vec()));
    let reader = crate::Reader::from_source(src.clone(), &Default::default()).ok()?;
    let info = reader.info();
    let mut pages = vec![(info.root_hier_offset, info.root_hier_size)];
    let mut out: Vec<u8> = Vec::new();
    let mut fixups: Vec<(usize, usize)> = Vec::new(); // (entry position in out, page index)
    let mut i = 0;
    while let Some(&(offset, size)) = pages.get(i) {
        let bytes = src.read_range(offset..offset.checked_add(size)?).ok()?;
        for e in hierarchy::parse_page(&bytes).ok()? {
            let mut e = e;
            if e.is_page() {
                fixups.push((out.len(), pages.len()));
                pages.push((e.offset, e.byte_size.max(0) as u64));
            } else if e.has_data() {
                e.offset = 0;
                e.byte_size = e.byte_size.clamp(1, 32);
            }
            e.write(&mut out);
        }
        i += 1;
        if pages.len() > 10_000 {
            return None;
        }
    }
    // The pages now lie one after the other, in the order found.
    let mut starts = Vec::with_capacity(pages.len());
    let mut at = 0u64;
    for &(_, size) in &pages {
        starts.push(at);
        at += size;
    }
    for (pos, page) in fixups {
        out[pos + 16..pos + 24].copy_from_slice(&starts[page].to_le_bytes());
    }
    let mut seed = PagesInput { counted: false, root_entries: (info.root_hier_size / 32) as u32 }.encode();
    seed.extend_from_slice(&out);
    Some(seed)
}

/// `node` seeds from a COPC file: up to `max` of its smallest chunks (at most
/// `max_bytes` each), each with the header that decodes it. Empty if the file
/// does not open.
pub fn node_seeds(copc: &[u8], max: usize, max_bytes: usize) -> Vec<Vec<u8>> {
    let src: Arc<dyn ByteSource> = Arc::new(MemorySource::new("seed", copc.to_vec()));
    let Ok(reader) = crate::Reader::from_source(src.clone(), &Default::default()) else { return Vec::new() };
    let Ok(mut entries) = reader.all_entries() else { return Vec::new() };
    let h = reader.header();
    let base = crate::format::PointLayout::base_size(h.point_format);
    entries.retain(|e| e.has_data() && (e.byte_size as usize) <= max_bytes);
    entries.sort_by_key(|e| e.byte_size);
    let head = NodeInput {
        format: h.point_format,
        extra: (h.point_record_length as usize).saturating_sub(base) as u8,
        points: 0,
        selection: u16::MAX,
    };
    entries
        .iter()
        .take(max)
        .filter_map(|e| {
            let chunk = src.read_range(e.offset..e.offset + e.byte_size as u64).ok()?;
            let mut seed = NodeInput { points: e.point_count as u32, ..head }.encode();
            seed.extend_from_slice(&chunk);
            Some(seed)
        })
        .collect()
}

/// An `http` target input: one answer to one request. 17 bytes of parameters, then
/// `content-range \n content-length \n body`. `op` % 3: 0 the open request for
/// bytes `0..want+1`, 1 a HEAD request, 2 a fetch of `start..start+len+1` from an
/// object of `max(object, end)` bytes. `flags` bit 0: Content-Range sent, bit 1:
/// Content-Length sent, bit 2: the connection fails after the body. The body
/// arrives in pieces of `piece + 1` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpInput {
    pub op: u8,
    pub flags: u8,
    pub status: u16,
    pub want: u16,
    pub start: u32,
    pub len: u16,
    pub object: u32,
    pub piece: u8,
    pub content_range: String,
    pub content_length: String,
    pub body: Vec<u8>,
}

impl HttpInput {
    pub fn decode(data: &[u8]) -> HttpInput {
        let mut p = Params(data);
        let (op, flags, status, want) = (p.u8() % 3, p.u8(), p.u16(), p.u16());
        let (start, len, object, piece) = (p.u32(), p.u16(), p.u32(), p.u8());
        let mut parts = p.rest().splitn(3, |&b| b == b'\n');
        let mut text = || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
        let (content_range, content_length) = (text(), text());
        let body = parts.next().unwrap_or_default().to_vec();
        HttpInput { op, flags, status, want, start, len, object, piece, content_range, content_length, body }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.op, self.flags];
        out.extend_from_slice(&self.status.to_le_bytes());
        out.extend_from_slice(&self.want.to_le_bytes());
        out.extend_from_slice(&self.start.to_le_bytes());
        out.extend_from_slice(&self.len.to_le_bytes());
        out.extend_from_slice(&self.object.to_le_bytes());
        out.push(self.piece);
        for line in [&self.content_range, &self.content_length] {
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        out.extend_from_slice(&self.body);
        out
    }

    /// The answer, its body served by a [`PieceReader`].
    pub fn answer(&self) -> Answer<PieceReader<'_>> {
        Answer {
            status: self.status,
            content_range: (self.flags & 1 != 0).then(|| self.content_range.clone()),
            content_length: (self.flags & 2 != 0).then(|| self.content_length.clone()),
            body: PieceReader { data: &self.body, piece: self.piece as usize + 1, fail: self.flags & 4 != 0 },
        }
    }
}

/// A body that arrives in small pieces and may end with a connection error.
pub struct PieceReader<'a> {
    data: &'a [u8],
    piece: usize,
    fail: bool,
}

impl std::io::Read for PieceReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.data.is_empty() && self.fail && !buf.is_empty() {
            return Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset"));
        }
        let n = self.piece.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// An `ept` target input's first byte: what the rest is.
pub mod ept_mode {
    /// An `ept.json`.
    pub const EPT_JSON: u8 = 0;
    /// One hierarchy file of the root subtree.
    pub const HIERARCHY_FILE: u8 = 1;
    /// Hierarchy files separated by NUL bytes; the k-th file asked for is file k mod n.
    pub const HIERARCHY_TREE: u8 = 2;
}
