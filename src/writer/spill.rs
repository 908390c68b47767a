//! Out-of-core storage: points binned by octree node into one temp file.
//!
//! The read pass files every point under its bin (the node at a fixed level that
//! holds it, chosen so that an average bin is a small share of the memory budget).
//! Pending points are kept per bin; a flush encodes every pending bin as one block
//! (in parallel, with the [`TempCompression`] codec) and appends the blocks, in
//! depth-first key order, to `points.spill`. A block is the bin's records, then
//! their 8-byte sequence numbers (LAZ: the sequence number as 8 extra bytes per
//! record). Because each flush writes its bins in depth-first order, the bins of a
//! subtree are one contiguous run per flush, so loading a subtree reads few, large
//! ranges. Every point is written once and read back once: the build loads whole
//! subtrees of bins that fit the budget; only a single bin larger than the budget
//! (points far denser than the average) is split by streaming it again, and
//! [`Bins::restreamed`] counts those points. Loaded ranges are freed at once
//! (hole punching on Linux), so the temp disk shrinks while the chunks grow.
//!
//! The file lives in a locked [`SpillDir`], removed when the writer finishes, fails
//! or unwinds, and swept by the next run when the writer was killed.

use super::file::preorder_cmp;
use super::input::decompress_chunk;
use super::octree::{Geometry, PointBuf, compress_chunk};
use super::temp::SpillDir;
use crate::error::{Error, Location, Result};
use crate::format::VoxelKey;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// How spilled points are stored on the temp disk (`--temp-compression`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TempCompression {
    /// Raw records: the least CPU, the most disk (record + 8 bytes per point).
    None,
    /// LZ4 blocks (lz4_flex) of byte-transposed records: little CPU, about 0.3x
    /// the raw size.
    #[default]
    Lz4,
    /// zstd level 1 blocks of byte-transposed records: more CPU than LZ4, a sixth
    /// less disk.
    Zstd,
    /// LAZ chunks: the smallest temp files, the most CPU (every point LAZ-encoded
    /// and decoded once more).
    Laz,
}

impl TempCompression {
    pub const ALL: [TempCompression; 4] = [TempCompression::None, TempCompression::Lz4, TempCompression::Zstd, TempCompression::Laz];

    pub fn name(self) -> &'static str {
        match self {
            TempCompression::None => "none",
            TempCompression::Lz4 => "lz4",
            TempCompression::Zstd => "zstd",
            TempCompression::Laz => "laz",
        }
    }

    /// Parses `none`, `lz4`, `zstd` or `laz`.
    pub fn parse(s: &str) -> Result<TempCompression> {
        let t = s.trim().to_ascii_lowercase();
        TempCompression::ALL
            .into_iter()
            .find(|c| c.name() == t)
            .ok_or_else(|| Error::invalid(format!("temp compression '{s}': expected none, lz4, zstd or laz")))
    }

    /// Temp bytes per point to plan the free-disk check with: about 1.6x what was
    /// measured on generated towns (README, "Writing COPC"), for data that
    /// compresses worse.
    pub fn planned_bytes_per_point(self, rec_len: usize) -> u64 {
        let item = (rec_len + 8) as u64;
        match self {
            TempCompression::None => item,
            TempCompression::Lz4 => item / 2,
            TempCompression::Zstd => item * 2 / 5,
            TempCompression::Laz => item / 3,
        }
    }
}

/// One encoded block in the spill file.
#[derive(Debug, Clone, Copy)]
struct Block {
    offset: u64,
    bytes: u32,
    points: u32,
}

#[derive(Debug, Default)]
struct Bin {
    points: u64,
    blocks: Vec<Block>,
}

/// Points waiting for the next flush, for one bin.
struct Pending {
    key: VoxelKey,
    recs: Vec<u8>,
    /// Sequence numbers, little-endian.
    seqs: Vec<u8>,
}

pub struct Bins {
    dir: SpillDir,
    path: PathBuf,
    file: File,
    file_len: u64,
    codec: TempCompression,
    rec_len: usize,
    /// LAZ items of a record plus its 8-byte sequence number (the LAZ codec).
    vlr: laz::LazVlr,
    geo: Geometry,
    level: i32,
    bins: BTreeMap<VoxelKey, Bin>,
    pending: Vec<Pending>,
    slots: HashMap<VoxelKey, usize>,
    buffered: usize,
    flush_at: usize,
    /// Bytes currently on disk (and the peak).
    pub disk_bytes: u64,
    pub peak_disk_bytes: u64,
    /// Bytes written to and read from the spill file.
    pub written_bytes: u64,
    pub read_bytes: u64,
    /// Points read back and written again to split a bin over the budget.
    pub restreamed: u64,
    /// Points of the largest subtree [`Bins::take`] loaded at once.
    pub largest_take: u64,
    /// False once the file system refused to punch a hole (space then comes back
    /// only when the file is removed).
    punch: bool,
}

impl Bins {
    /// `format` and `extra_len` describe the records (COPC format 6-8); points are
    /// binned at `level` of `geo`; pending points are flushed at `flush_at` bytes.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        temp_dir: &Path,
        codec: TempCompression,
        format: u8,
        extra_len: usize,
        rec_len: usize,
        geo: Geometry,
        level: i32,
        flush_at: usize,
    ) -> Result<Bins> {
        let dir = SpillDir::create(temp_dir)?;
        let items = laz::LazItemRecordBuilder::default_for_point_format_id(format, (extra_len + 8) as u16)
            .map_err(|e| Error::invalid(format!("laz items: {e}")))?;
        let path = dir.path().join("points.spill");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io(&path.display().to_string(), Location::Source, "creating the spill file", e))?;
        Ok(Bins {
            dir,
            path,
            file,
            file_len: 0,
            codec,
            rec_len,
            vlr: laz::LazVlr::from_laz_items(items),
            geo,
            level,
            bins: BTreeMap::new(),
            pending: Vec::new(),
            slots: HashMap::new(),
            buffered: 0,
            flush_at: flush_at.max(1 << 16),
            disk_bytes: 0,
            peak_disk_bytes: 0,
            written_bytes: 0,
            read_bytes: 0,
            restreamed: 0,
            largest_take: 0,
            punch: true,
        })
    }

    pub fn geometry(&self) -> Geometry {
        self.geo
    }

    pub fn level(&self) -> i32 {
        self.level
    }

    /// The spill folder (for messages).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn io(&self, what: &str, e: std::io::Error) -> Error {
        Error::io(&self.path.display().to_string(), Location::Source, what.to_string(), e)
    }

    /// Counts `other` temp bytes (the chunks' temp file) in the disk peak.
    pub fn note_other_temp(&mut self, other: u64) {
        self.peak_disk_bytes = self.peak_disk_bytes.max(self.disk_bytes + other);
    }

    /// Memory held by the block index (it grows with flushes times bins touched).
    pub fn index_bytes(&self) -> u64 {
        let blocks: usize = self.bins.values().map(|b| b.blocks.capacity()).sum();
        (blocks * std::mem::size_of::<Block>() + self.bins.len() * 64) as u64
    }

    /// The pending buffer of `key` (created on first use).
    #[inline]
    fn slot(&mut self, key: VoxelKey) -> usize {
        match self.slots.get(&key) {
            Some(&s) => s,
            None => {
                self.pending.push(Pending {
                    key,
                    recs: Vec::new(),
                    seqs: Vec::new(),
                });
                self.slots.insert(key, self.pending.len() - 1);
                self.pending.len() - 1
            }
        }
    }

    /// Counts what the pending buffers hold by their capacity (growth by doubling
    /// may reserve up to twice what they hold), so a flush comes before memory
    /// exceeds `flush_at`.
    fn note_buffered(&mut self) {
        self.buffered = self.pending.iter().map(|p| p.recs.capacity() + p.seqs.capacity()).sum();
    }

    /// Adds records (`rec_len` each) whose sequence numbers start at `first_seq`.
    pub fn add(&mut self, recs: &[u8], first_seq: u64) -> Result<()> {
        let rl = self.rec_len;
        // consecutive points mostly share a bin: look the slot up only on a change
        let mut last: Option<(VoxelKey, usize)> = None;
        for (i, r) in recs.chunks_exact(rl).enumerate() {
            let key = Geometry::key_at(self.geo.grid(r), self.level);
            let s = match last {
                Some((k, s)) if k == key => s,
                _ => {
                    let s = self.slot(key);
                    last = Some((key, s));
                    s
                }
            };
            let p = &mut self.pending[s];
            p.recs.extend_from_slice(r);
            p.seqs.extend_from_slice(&(first_seq + i as u64).to_le_bytes());
        }
        self.note_buffered();
        if self.buffered >= self.flush_at {
            self.flush()?;
        }
        Ok(())
    }

    /// Adds decoded points (records and sequence numbers) to bins at `level`.
    fn add_points(&mut self, recs: &[u8], seqs: &[u64], level: i32) -> Result<()> {
        let rl = self.rec_len;
        for (r, s) in recs.chunks_exact(rl).zip(seqs) {
            let key = Geometry::key_at(self.geo.grid(r), level);
            let slot = self.slot(key);
            let p = &mut self.pending[slot];
            p.recs.extend_from_slice(r);
            p.seqs.extend_from_slice(&s.to_le_bytes());
        }
        self.note_buffered();
        if self.buffered >= self.flush_at {
            self.flush()?;
        }
        Ok(())
    }

    /// Encodes every pending bin (in parallel) and appends the blocks, in
    /// depth-first key order, to the spill file.
    pub fn flush(&mut self) -> Result<()> {
        let mut pending = std::mem::take(&mut self.pending);
        self.slots.clear();
        self.buffered = 0;
        pending.retain(|p| !p.seqs.is_empty());
        if pending.is_empty() {
            return Ok(());
        }
        pending.sort_by(|a, b| preorder_cmp(&a.key, &b.key));
        let codec = self.codec;
        let items = self.vlr.items().clone();
        let rl = self.rec_len;
        // blocks of at most BLOCK_BYTES: the encode copies and the decode scratch of
        // every thread stay small whatever one bin gathered
        let per_block = (BLOCK_BYTES / (rl + 8)).max(1);
        let pieces: Vec<(VoxelKey, &[u8], &[u8])> = pending
            .iter()
            .flat_map(|p| {
                p.recs
                    .chunks(per_block * rl)
                    .zip(p.seqs.chunks(per_block * 8))
                    .map(move |(r, s)| (p.key, r, s))
            })
            .collect();
        let encoded: Vec<(VoxelKey, u32, std::io::Result<Vec<u8>>)> = pieces
            .into_par_iter()
            .map(|(key, r, s)| (key, (s.len() / 8) as u32, encode(codec, &items, rl, r, s)))
            .collect();
        drop(pending);
        for (key, points, data) in encoded {
            let data = data.map_err(|e| self.io(&format!("encoding spilled points of node {key}"), e))?;
            if data.len() > u32::MAX as usize {
                return Err(Error::invalid(format!(
                    "internal error: a spill block of {} bytes (over 4 GiB)",
                    data.len()
                )));
            }
            self.file
                .write_all(&data)
                .map_err(|e| self.io("writing the spill file", e))?;
            let block = Block {
                offset: self.file_len,
                bytes: data.len() as u32,
                points,
            };
            self.file_len += data.len() as u64;
            self.disk_bytes += data.len() as u64;
            self.written_bytes += data.len() as u64;
            let bin = self.bins.entry(key).or_default();
            bin.points += u64::from(points);
            bin.blocks.push(block);
        }
        self.peak_disk_bytes = self.peak_disk_bytes.max(self.disk_bytes);
        Ok(())
    }

    pub fn total(&self) -> u64 {
        self.bins.values().map(|b| b.points).sum()
    }

    /// Points in the bins at or below `key`.
    pub fn count_under(&self, key: VoxelKey) -> u64 {
        self.bins
            .iter()
            .filter(|(k, _)| is_under(**k, key))
            .map(|(_, b)| b.points)
            .sum()
    }

    pub fn is_bin(&self, key: VoxelKey) -> bool {
        self.bins.contains_key(&key)
    }

    /// Loads (and frees) every bin at or below `key`: blocks are read and decoded
    /// in parallel, each straight into its place in the result.
    pub fn take(&mut self, key: VoxelKey) -> Result<PointBuf> {
        let keys: Vec<VoxelKey> = self.bins.keys().copied().filter(|k| is_under(*k, key)).collect();
        let mut blocks: Vec<Block> = Vec::new();
        for k in &keys {
            if let Some(b) = self.bins.remove(k) {
                blocks.extend(b.blocks);
            }
        }
        // file order: the reads run forward through the file
        blocks.sort_unstable_by_key(|b| b.offset);
        let n: usize = blocks.iter().map(|b| b.points as usize).sum();
        self.largest_take = self.largest_take.max(n as u64);
        let rl = self.rec_len;
        let mut out = PointBuf::new(rl);
        out.recs = vec![0u8; n * rl];
        out.seqs = vec![0u64; n];
        let mut jobs: Vec<(Block, &mut [u8], &mut [u64])> = Vec::with_capacity(blocks.len());
        let (mut recs, mut seqs) = (&mut out.recs[..], &mut out.seqs[..]);
        for b in &blocks {
            let (r, rest) = recs.split_at_mut(b.points as usize * rl);
            let (s, srest) = seqs.split_at_mut(b.points as usize);
            jobs.push((*b, r, s));
            recs = rest;
            seqs = srest;
        }
        let (file, codec, vlr) = (&self.file, self.codec, &self.vlr);
        jobs.into_par_iter()
            .map_init(
                || (Vec::new(), Vec::new()),
                |(raw, scratch), (b, r, s)| decode_block(file, codec, vlr, rl, b, raw, scratch, r, s),
            )
            .collect::<std::io::Result<()>>()
            .map_err(|e| self.io(&format!("reading spilled points of node {key}"), e))?;
        self.read_bytes += blocks.iter().map(|b| u64::from(b.bytes)).sum::<u64>();
        self.free(&blocks);
        Ok(out)
    }

    /// Gives the disk space of `blocks` back (their ranges are never read again).
    fn free(&mut self, blocks: &[Block]) {
        let bytes: u64 = blocks.iter().map(|b| u64::from(b.bytes)).sum();
        if !self.punch {
            return;
        }
        // contiguous blocks as one range (blocks are sorted by offset)
        let mut i = 0;
        while i < blocks.len() {
            let start = blocks[i].offset;
            let mut end = start + u64::from(blocks[i].bytes);
            i += 1;
            while i < blocks.len() && blocks[i].offset == end {
                end += u64::from(blocks[i].bytes);
                i += 1;
            }
            if !punch_hole(&self.file, start, end - start) {
                self.punch = false;
                return;
            }
        }
        self.disk_bytes = self.disk_bytes.saturating_sub(bytes);
    }

    /// Splits the bin `key` into its (up to eight) children by reading it back one
    /// block at a time: only for a bin denser than the budget allows.
    pub fn split(&mut self, key: VoxelKey) -> Result<()> {
        self.flush()?;
        let Some(bin) = self.bins.remove(&key) else {
            return Ok(());
        };
        let rl = self.rec_len;
        let (mut raw, mut scratch) = (Vec::new(), Vec::new());
        for b in &bin.blocks {
            let mut recs = vec![0u8; b.points as usize * rl];
            let mut seqs = vec![0u64; b.points as usize];
            decode_block(&self.file, self.codec, &self.vlr, rl, *b, &mut raw, &mut scratch, &mut recs, &mut seqs)
                .map_err(|e| self.io(&format!("reading spilled points of node {key}"), e))?;
            self.read_bytes += u64::from(b.bytes);
            self.add_points(&recs, &seqs, key.level + 1)?;
        }
        self.restreamed += bin.points;
        self.flush()?;
        self.free(&bin.blocks);
        Ok(())
    }

    /// Re-bins everything for a new geometry (when the input headers' bounds turned
    /// out not to contain every point).
    pub fn rebin(mut self, geo: Geometry) -> Result<Bins> {
        self.flush()?;
        let parent = self.dir.path().parent().map(Path::to_path_buf).unwrap_or_else(std::env::temp_dir);
        let format_items = self.vlr.clone();
        let mut next = Bins {
            vlr: format_items,
            geo,
            ..Bins::new(&parent, self.codec, 6, 0, self.rec_len, geo, self.level, self.flush_at)?
        };
        let keys: Vec<VoxelKey> = self.bins.keys().copied().collect();
        let level = self.level;
        let rl = self.rec_len;
        let (mut raw, mut scratch) = (Vec::new(), Vec::new());
        for k in keys {
            let Some(bin) = self.bins.remove(&k) else { continue };
            for b in &bin.blocks {
                let mut recs = vec![0u8; b.points as usize * rl];
                let mut seqs = vec![0u64; b.points as usize];
                decode_block(&self.file, self.codec, &self.vlr, rl, *b, &mut raw, &mut scratch, &mut recs, &mut seqs)
                    .map_err(|e| self.io("reading spilled points to re-bin them", e))?;
                self.read_bytes += u64::from(b.bytes);
                next.add_points(&recs, &seqs, level)?;
            }
            next.restreamed += bin.points;
            next.flush()?;
            self.free(&bin.blocks);
            next.peak_disk_bytes = next.peak_disk_bytes.max(self.disk_bytes + next.disk_bytes);
        }
        next.flush()?;
        next.peak_disk_bytes = next.peak_disk_bytes.max(self.peak_disk_bytes);
        next.written_bytes += self.written_bytes;
        next.read_bytes += self.read_bytes;
        Ok(next)
    }
}

/// Largest block (plain records and sequence numbers) a flush writes: a bin's
/// pending points beyond it go into several blocks.
const BLOCK_BYTES: usize = 4 << 20;

/// Rows per tile of the byte transposition (a tile of records stays in L1).
const TILE: usize = 64;

/// Byte-transposes `n` rows of `width` bytes: byte j of row i goes to `j * n + i`.
/// Bytes at the same place of neighbouring records (high bytes of coordinates,
/// classes, flags) then sit side by side, which LZ4 and zstd compress far better.
fn shuffle(rows: &[u8], width: usize, out: &mut [u8]) {
    let n = rows.len() / width;
    for t in (0..n).step_by(TILE) {
        let end = (t + TILE).min(n);
        for j in 0..width {
            let col = &mut out[j * n + t..j * n + end];
            for (k, d) in col.iter_mut().enumerate() {
                *d = rows[(t + k) * width + j];
            }
        }
    }
}

/// The inverse of [`shuffle`].
fn unshuffle(cols: &[u8], width: usize, out: &mut [u8]) {
    let n = cols.len() / width;
    for t in (0..n).step_by(TILE) {
        let end = (t + TILE).min(n);
        for j in 0..width {
            let col = &cols[j * n + t..j * n + end];
            for (k, &b) in col.iter().enumerate() {
                out[(t + k) * width + j] = b;
            }
        }
    }
}

/// The plain form LZ4 and zstd compress: the records byte-transposed, then the
/// sequence numbers as differences (small: a bin's points come in input order),
/// byte-transposed.
fn shuffled(rl: usize, recs: &[u8], seqs: &[u8]) -> Vec<u8> {
    let n = seqs.len() / 8;
    let mut out = vec![0u8; n * (rl + 8)];
    shuffle(recs, rl, &mut out[..n * rl]);
    let mut deltas = Vec::with_capacity(n * 8);
    let mut prev = 0u64;
    for c in seqs.chunks_exact(8) {
        let s = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        deltas.extend_from_slice(&s.wrapping_sub(prev).to_le_bytes());
        prev = s;
    }
    shuffle(&deltas, 8, &mut out[n * rl..]);
    out
}

/// Encodes one block: records then little-endian sequence numbers (raw, or
/// [`shuffled`] then compressed; LAZ: one chunk of records with the sequence
/// number as 8 extra bytes).
fn encode(codec: TempCompression, items: &[laz::LazItem], rl: usize, recs: &[u8], seqs: &[u8]) -> std::io::Result<Vec<u8>> {
    match codec {
        TempCompression::None => Ok([recs, seqs].concat()),
        TempCompression::Lz4 => Ok(lz4_flex::block::compress(&shuffled(rl, recs, seqs))),
        TempCompression::Zstd => zstd::bulk::compress(&shuffled(rl, recs, seqs), 1),
        TempCompression::Laz => {
            let mut items_buf = Vec::with_capacity(recs.len() + seqs.len());
            for (r, s) in recs.chunks_exact(rl).zip(seqs.chunks_exact(8)) {
                items_buf.extend_from_slice(r);
                items_buf.extend_from_slice(s);
            }
            compress_chunk(items, &items_buf)
        }
    }
}

/// Reads and decodes one block into `recs` (its records) and `seqs`.
#[allow(clippy::too_many_arguments)]
fn decode_block(
    file: &File,
    codec: TempCompression,
    vlr: &laz::LazVlr,
    rl: usize,
    b: Block,
    raw: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
    recs: &mut [u8],
    seqs: &mut [u64],
) -> std::io::Result<()> {
    let n = b.points as usize;
    let plain = n * (rl + 8);
    raw.resize(b.bytes as usize, 0);
    read_exact_at(file, raw, b.offset)?;
    let bad = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    let body: &[u8] = match codec {
        TempCompression::None => {
            if raw.len() != plain {
                return Err(bad(format!("a block of {} bytes at offset {}, expected {plain}", raw.len(), b.offset)));
            }
            raw
        }
        TempCompression::Lz4 => {
            scratch.resize(plain, 0);
            let got = lz4_flex::block::decompress_into(raw, scratch)
                .map_err(|e| bad(format!("an LZ4 block at offset {} does not decode: {e}", b.offset)))?;
            if got != plain {
                return Err(bad(format!("an LZ4 block at offset {} holds {got} bytes, expected {plain}", b.offset)));
            }
            scratch
        }
        TempCompression::Zstd => {
            scratch.resize(plain, 0);
            let got = zstd::bulk::decompress_to_buffer(raw, &mut scratch[..])
                .map_err(|e| bad(format!("a zstd block at offset {} does not decode: {e}", b.offset)))?;
            if got != plain {
                return Err(bad(format!("a zstd block at offset {} holds {got} bytes, expected {plain}", b.offset)));
            }
            scratch
        }
        TempCompression::Laz => {
            let items = decompress_chunk(vlr, true, raw, n, rl + 8)
                .map_err(|m| bad(format!("a LAZ block at offset {} does not decode: {m}", b.offset)))?;
            for ((it, r), s) in items.chunks_exact(rl + 8).zip(recs.chunks_exact_mut(rl)).zip(seqs.iter_mut()) {
                r.copy_from_slice(&it[..rl]);
                *s = u64::from_le_bytes(it[rl..].try_into().unwrap_or([0; 8]));
            }
            return Ok(());
        }
    };
    let (r, s) = body.split_at(n * rl);
    if codec == TempCompression::None {
        recs.copy_from_slice(r);
        for (d, c) in seqs.iter_mut().zip(s.chunks_exact(8)) {
            *d = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        }
        return Ok(());
    }
    unshuffle(r, rl, recs);
    // the differences: byte j of number i at j * n + i; summed up
    let mut prev = 0u64;
    for (i, d) in seqs.iter_mut().enumerate() {
        let mut v = [0u8; 8];
        for (j, b) in v.iter_mut().enumerate() {
            *b = s[j * n + i];
        }
        prev = prev.wrapping_add(u64::from_le_bytes(v));
        *d = prev;
    }
    Ok(())
}

#[cfg(unix)]
fn read_exact_at(f: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(f: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_read(f, buf, offset)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
        offset += n as u64;
    }
    Ok(())
}

/// Frees `len` bytes at `offset` of `f` without changing its size; false when the
/// file system cannot.
#[cfg(target_os = "linux")]
fn punch_hole(f: &File, offset: u64, len: u64) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: fallocate on a descriptor we own; no memory is passed.
    unsafe {
        libc::fallocate(
            f.as_raw_fd(),
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
            offset as libc::off_t,
            len as libc::off_t,
        ) == 0
    }
}

#[cfg(not(target_os = "linux"))]
fn punch_hole(_f: &File, _offset: u64, _len: u64) -> bool {
    false
}

/// Free bytes for unprivileged users on the file system of `dir`, None when unknown.
#[cfg(unix)]
pub fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a statvfs struct we own.
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return None;
    }
    Some(s.f_bavail as u64 * s.f_frsize as u64)
}

#[cfg(not(unix))]
pub fn free_bytes(_dir: &Path) -> Option<u64> {
    None
}

/// Fails when `dir` has less than `needed` bytes free, naming the folder and both sizes.
pub fn check_free_space(dir: &Path, needed: u64, what: &str) -> Result<()> {
    match free_bytes(dir) {
        Some(free) if free < needed => Err(Error::io(
            &dir.display().to_string(),
            Location::Source,
            format!(
                "not enough free space in the temp folder {}: {what} needs about {} ({needed} bytes), {} ({free} bytes) are free; use --temp-dir on a larger disk or a stronger --temp-compression (zstd, laz)",
                dir.display(),
                human(needed),
                human(free)
            ),
            std::io::Error::from(std::io::ErrorKind::StorageFull),
        )),
        _ => Ok(()),
    }
}

fn human(b: u64) -> String {
    let mut v = b as f64;
    for u in ["B", "KiB", "MiB", "GiB", "TiB"] {
        if v < 1024.0 || u == "TiB" {
            return format!("{v:.1} {u}");
        }
        v /= 1024.0;
    }
    unreachable!()
}

/// True when `k` is `anc` or one of its descendants.
pub fn is_under(k: VoxelKey, anc: VoxelKey) -> bool {
    if k.level < anc.level {
        return false;
    }
    let s = k.level - anc.level;
    (k.x >> s) == anc.x && (k.y >> s) == anc.y && (k.z >> s) == anc.z
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Cube;

    fn rec(x: i32, y: i32, z: i32) -> Vec<u8> {
        let mut r = vec![0u8; 30];
        r[0..4].copy_from_slice(&x.to_le_bytes());
        r[4..8].copy_from_slice(&y.to_le_bytes());
        r[8..12].copy_from_slice(&z.to_le_bytes());
        r[22..30].copy_from_slice(&(x as f64).to_le_bytes());
        r
    }

    fn geo() -> Geometry {
        Geometry::new(
            Cube {
                center: [50.0, 50.0, 50.0],
                halfsize: 50.0,
            },
            [1.0; 3],
            [0.0; 3],
        )
    }

    #[test]
    fn every_codec_splits_and_takes_the_points_it_was_given() {
        let mut recs = Vec::new();
        for i in 0..5000 {
            recs.extend(rec(i % 100, (i * 7) % 100, (i * 13) % 100));
        }
        for codec in TempCompression::ALL {
            let dir = tempfile::tempdir().unwrap();
            let mut bins = Bins::new(dir.path(), codec, 6, 0, 30, geo(), 1, 1).unwrap();
            bins.add(&recs[..30 * 2500], 0).unwrap();
            bins.add(&recs[30 * 2500..], 2500).unwrap();
            bins.flush().unwrap();
            assert_eq!(bins.total(), 5000);
            let written = bins.written_bytes;
            assert!(written > 0 && bins.disk_bytes == written, "{codec:?}");
            let k = VoxelKey::new(1, 0, 0, 0);
            let before = bins.count_under(k);
            assert!(before > 0 && bins.is_bin(k));
            bins.split(k).unwrap();
            assert!(!bins.is_bin(k));
            assert_eq!(bins.restreamed, before);
            assert_eq!(bins.count_under(k), before);
            assert_eq!(bins.total(), 5000);
            let child = (0..8).map(|i| k.child(i)).find(|c| bins.is_bin(*c)).unwrap();
            let n = bins.count_under(child);
            let buf = bins.take(child).unwrap();
            assert_eq!(buf.len() as u64, n);
            for (i, s) in buf.seqs.iter().enumerate() {
                assert_eq!(buf.rec(i as u32), &recs[*s as usize * 30..*s as usize * 30 + 30], "{codec:?}");
            }
            let all = bins.take(VoxelKey::ROOT).unwrap();
            assert_eq!(all.len() as u64 + n, 5000);
            let mut seen: Vec<u64> = all.seqs.iter().chain(&buf.seqs).copied().collect();
            seen.sort_unstable();
            assert!(seen.iter().copied().eq(0..5000), "{codec:?}: every point exactly once");
            assert_eq!(bins.total(), 0);
            // every byte written was read back once, plus the split bin once more
            assert!(bins.read_bytes > written, "{codec:?}");
            // hole punching gives the space back (tmpfs and ext4 both can)
            assert_eq!(bins.disk_bytes, 0, "{codec:?}");
        }
    }

    #[test]
    fn raw_blocks_are_the_size_of_their_points_and_the_codecs_are_smaller() {
        let mut recs = Vec::new();
        for i in 0..20_000 {
            recs.extend(rec(i % 100, (i / 100) % 100, 50));
        }
        let mut sizes = Vec::new();
        for codec in TempCompression::ALL {
            let dir = tempfile::tempdir().unwrap();
            let mut bins = Bins::new(dir.path(), codec, 6, 0, 30, geo(), 0, 1 << 30).unwrap();
            bins.add(&recs, 0).unwrap();
            bins.flush().unwrap();
            sizes.push(bins.written_bytes);
        }
        assert_eq!(sizes[0], 20_000 * 38);
        assert!(sizes[1..].iter().all(|&s| s < sizes[0] / 2), "{sizes:?}");
    }

    #[test]
    fn a_bin_larger_than_a_block_is_written_as_several_blocks() {
        let n = 2 * BLOCK_BYTES / 38 + 100;
        let mut recs = Vec::with_capacity(n * 30);
        for i in 0..n as i32 {
            recs.extend(rec(i % 100, (i / 100) % 100, 50));
        }
        let dir = tempfile::tempdir().unwrap();
        let mut bins = Bins::new(dir.path(), TempCompression::Lz4, 6, 0, 30, geo(), 0, 1 << 30).unwrap();
        bins.add(&recs, 0).unwrap();
        bins.flush().unwrap();
        let blocks = &bins.bins[&VoxelKey::ROOT].blocks;
        assert_eq!(blocks.len(), 3);
        assert!(blocks.iter().all(|b| b.points as usize * 38 <= BLOCK_BYTES));
        let all = bins.take(VoxelKey::ROOT).unwrap();
        assert!(all.seqs.iter().copied().eq(0..n as u64));
        assert_eq!(all.recs, recs);
        assert_eq!(bins.largest_take, n as u64);
    }

    #[test]
    fn a_full_temp_folder_is_refused_with_its_name_and_the_sizes() {
        let dir = tempfile::tempdir().unwrap();
        check_free_space(dir.path(), 1 << 20, "spilling").unwrap();
        let e = check_free_space(dir.path(), u64::MAX / 2, "spilling 5 points").unwrap_err().to_string();
        assert!(e.contains(&dir.path().display().to_string()) && e.contains("spilling 5 points") && e.contains("are free"), "{e}");
    }

    #[test]
    fn temp_compression_names_parse() {
        for c in TempCompression::ALL {
            assert_eq!(TempCompression::parse(c.name()).unwrap(), c);
        }
        assert_eq!(TempCompression::parse(" LZ4 ").unwrap(), TempCompression::Lz4);
        assert!(TempCompression::parse("gzip").unwrap_err().to_string().contains("none, lz4, zstd or laz"));
    }
}
