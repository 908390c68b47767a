//! Out-of-core storage: points binned by octree node into temp files.
//!
//! A bin file is a sequence of blocks `u32 point count, u32 byte count, LAZ chunk`;
//! each chunk holds the bin's records with their 8-byte sequence number appended as
//! extra bytes (layered LAZ, so temp disk stays near the input's LAZ size). Blocks
//! are appended in input order. A bin too large for the memory budget is split into
//! its eight children by streaming it block by block. Bins live in a locked
//! [`SpillDir`], removed when the writer finishes, fails or unwinds, and swept by the
//! next run when the writer was killed.

use super::input::decompress_chunk;
use super::octree::{Geometry, PointBuf, compress_chunk};
use super::temp::SpillDir;
use crate::error::{Error, Location, Result};
use crate::format::VoxelKey;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, Default)]
struct BinInfo {
    points: u64,
    bytes: u64,
}

pub struct Bins {
    dir: SpillDir,
    rec_len: usize,
    /// LAZ items of a record plus its 8-byte sequence number.
    vlr: laz::LazVlr,
    geo: Geometry,
    level: i32,
    bins: BTreeMap<VoxelKey, BinInfo>,
    /// Pending items (`rec_len + 8` bytes: record, then sequence number) per bin.
    buffers: HashMap<VoxelKey, Vec<u8>>,
    buffered: usize,
    flush_at: usize,
    /// Bytes currently on disk (and the peak).
    pub disk_bytes: u64,
    pub peak_disk_bytes: u64,
}

impl Bins {
    /// `format` and `extra_len` describe the records (COPC format 6-8).
    pub fn new(
        temp_dir: &Path,
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
        Ok(Bins {
            dir,
            rec_len,
            vlr: laz::LazVlr::from_laz_items(items),
            geo,
            level,
            bins: BTreeMap::new(),
            buffers: HashMap::new(),
            buffered: 0,
            flush_at: flush_at.max(1 << 16),
            disk_bytes: 0,
            peak_disk_bytes: 0,
        })
    }

    pub fn geometry(&self) -> Geometry {
        self.geo
    }

    fn item(&self) -> usize {
        self.rec_len + 8
    }

    fn path(&self, key: &VoxelKey) -> PathBuf {
        self.dir
            .path()
            .join(format!("{}-{}-{}-{}.bin", key.level, key.x, key.y, key.z))
    }

    fn io(&self, key: &VoxelKey, what: &str, e: std::io::Error) -> Error {
        Error::io(
            &self.path(key).display().to_string(),
            Location::Source,
            what.to_string(),
            e,
        )
    }

    /// Adds records (`rec_len` each) whose sequence numbers start at `first_seq`.
    pub fn add(&mut self, recs: &[u8], first_seq: u64) -> Result<()> {
        for (i, r) in recs.chunks_exact(self.rec_len).enumerate() {
            let key = Geometry::key_at(self.geo.grid(r), self.level);
            let b = self.buffers.entry(key).or_default();
            b.extend_from_slice(r);
            b.extend_from_slice(&(first_seq + i as u64).to_le_bytes());
            self.buffered += self.rec_len + 8;
        }
        if self.buffered >= self.flush_at {
            self.flush()?;
        }
        Ok(())
    }

    /// Adds items (record + sequence number) to bins at `level`.
    fn add_items(&mut self, items: &[u8], level: i32) -> Result<()> {
        let n = self.item();
        for it in items.chunks_exact(n) {
            let key = Geometry::key_at(self.geo.grid(&it[..self.rec_len]), level);
            self.buffers.entry(key).or_default().extend_from_slice(it);
            self.buffered += n;
        }
        if self.buffered >= self.flush_at {
            self.flush()?;
        }
        Ok(())
    }

    /// Compresses every pending buffer (in parallel) and appends it to its bin file.
    pub fn flush(&mut self) -> Result<()> {
        let mut pending: Vec<(VoxelKey, Vec<u8>)> = self.buffers.drain().filter(|(_, b)| !b.is_empty()).collect();
        pending.sort_by_key(|(k, _)| *k);
        let items = self.vlr.items().clone();
        let n = self.item();
        let blocks: Vec<(VoxelKey, u64, std::io::Result<Vec<u8>>)> = pending
            .into_par_iter()
            .map(|(k, b)| (k, (b.len() / n) as u64, compress_chunk(&items, &b)))
            .collect();
        for (k, points, chunk) in blocks {
            let chunk = chunk.map_err(|e| self.io(&k, "compressing spilled points", e))?;
            let mut f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.path(&k))
                .map_err(|e| self.io(&k, "opening a spill file", e))?;
            let mut head = [0u8; 8];
            head[..4].copy_from_slice(&(points as u32).to_le_bytes());
            head[4..].copy_from_slice(&(chunk.len() as u32).to_le_bytes());
            f.write_all(&head)
                .and_then(|_| f.write_all(&chunk))
                .map_err(|e| self.io(&k, "writing a spill file", e))?;
            let info = self.bins.entry(k).or_default();
            info.points += points;
            info.bytes += 8 + chunk.len() as u64;
            self.disk_bytes += 8 + chunk.len() as u64;
        }
        self.peak_disk_bytes = self.peak_disk_bytes.max(self.disk_bytes);
        self.buffered = 0;
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

    /// Streams the items (record + sequence number) of one bin, block by block.
    fn stream(&self, key: VoxelKey, f: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
        let points = self.bins.get(&key).map_or(0, |b| b.points);
        read_blocks(&self.path(&key), &self.path(&key), points, &self.vlr, self.item(), f)
    }

    fn remove(&mut self, key: VoxelKey) {
        if let Some(info) = self.bins.remove(&key) {
            let _ = std::fs::remove_file(self.path(&key));
            self.disk_bytes = self.disk_bytes.saturating_sub(info.bytes);
        }
    }

    /// Reads the compressed blocks of one bin: (points, LAZ bytes) in file order.
    fn blocks(&self, key: VoxelKey) -> Result<Vec<(usize, Vec<u8>)>> {
        let file = File::open(self.path(&key)).map_err(|e| self.io(&key, "opening a spill file", e))?;
        let mut r = BufReader::with_capacity(1 << 20, file);
        let mut left = self.bins.get(&key).map(|b| b.points).unwrap_or(0);
        let mut out = Vec::new();
        while left > 0 {
            let mut head = [0u8; 8];
            r.read_exact(&mut head)
                .map_err(|e| self.io(&key, "reading a spill file", e))?;
            let points = u32::from_le_bytes(head[..4].try_into().unwrap_or([0; 4])) as usize;
            let bytes = u32::from_le_bytes(head[4..].try_into().unwrap_or([0; 4])) as usize;
            let mut data = vec![0u8; bytes];
            r.read_exact(&mut data)
                .map_err(|e| self.io(&key, "reading a spill file", e))?;
            out.push((points, data));
            left = left.saturating_sub(points as u64);
        }
        Ok(out)
    }

    /// Loads (and deletes) every bin at or below `key`; blocks decode in parallel.
    pub fn take(&mut self, key: VoxelKey) -> Result<PointBuf> {
        let keys: Vec<VoxelKey> = self.bins.keys().copied().filter(|k| is_under(*k, key)).collect();
        let n: u64 = keys.iter().map(|k| self.bins[k].points).sum();
        let mut out = PointBuf::new(self.rec_len);
        out.recs.reserve(n as usize * self.rec_len);
        out.seqs.reserve(n as usize);
        let rl = self.rec_len;
        let item = self.item();
        for k in &keys {
            let blocks = self.blocks(*k)?;
            let decoded: Vec<Result<Vec<u8>>> = blocks
                .par_iter()
                .map(|(points, data)| {
                    decompress_chunk(&self.vlr, true, data, *points, item)
                        .map_err(|m| self.io(k, "decoding spilled points", std::io::Error::other(m)))
                })
                .collect();
            for d in decoded {
                for it in d?.chunks_exact(rl + 8) {
                    out.recs.extend_from_slice(&it[..rl]);
                    out.seqs.push(u64::from_le_bytes(it[rl..].try_into().unwrap_or([0; 8])));
                }
            }
        }
        for k in keys {
            self.remove(k);
        }
        Ok(out)
    }

    /// Splits the bin `key` into its (up to eight) children, block by block.
    pub fn split(&mut self, key: VoxelKey) -> Result<()> {
        self.flush()?;
        let Some(parent) = self.bins.remove(&key) else {
            return Ok(());
        };
        // move the file aside so the children can be written while it is read
        let path = self.path(&key);
        let aside = path.with_extension("splitting");
        std::fs::rename(&path, &aside).map_err(|e| self.io(&key, "renaming a spill file", e))?;
        let result = (|| {
            let vlr = self.vlr.clone();
            read_blocks(&aside, &path, parent.points, &vlr, self.item(), |items| self.add_items(items, key.level + 1))?;
            self.flush()
        })();
        let _ = std::fs::remove_file(&aside);
        self.disk_bytes = self.disk_bytes.saturating_sub(parent.bytes);
        result
    }

    /// Re-bins everything for a new geometry (when the input headers' bounds turned
    /// out not to contain every point).
    pub fn rebin(mut self, geo: Geometry) -> Result<Bins> {
        self.flush()?;
        let parent = self
            .dir
            .path()
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(std::env::temp_dir);
        let mut next = Bins {
            dir: SpillDir::create(&parent)?,
            rec_len: self.rec_len,
            vlr: self.vlr.clone(),
            geo,
            level: self.level,
            bins: BTreeMap::new(),
            buffers: HashMap::new(),
            buffered: 0,
            flush_at: self.flush_at,
            disk_bytes: 0,
            peak_disk_bytes: 0,
        };
        let keys: Vec<VoxelKey> = self.bins.keys().copied().collect();
        let level = self.level;
        for k in keys {
            self.stream(k, |b| next.add_items(b, level))?;
            next.flush()?;
            next.peak_disk_bytes = next.peak_disk_bytes.max(self.disk_bytes + next.disk_bytes);
            self.remove(k);
        }
        next.flush()?;
        next.peak_disk_bytes = next.peak_disk_bytes.max(self.peak_disk_bytes);
        Ok(next)
    }
}

/// True when `k` is `anc` or one of its descendants.
pub fn is_under(k: VoxelKey, anc: VoxelKey) -> bool {
    if k.level < anc.level {
        return false;
    }
    let s = k.level - anc.level;
    (k.x >> s) == anc.x && (k.y >> s) == anc.y && (k.z >> s) == anc.z
}

/// Reads a spill file of `points` points, a block at a time (u32 point count, u32
/// byte count, the compressed items), and hands each block's items to `f`. Errors
/// name `name`, the bin's file.
fn read_blocks(
    path: &Path,
    name: &Path,
    points: u64,
    vlr: &laz::LazVlr,
    item: usize,
    mut f: impl FnMut(&[u8]) -> Result<()>,
) -> Result<()> {
    let io = |what: &str, e: std::io::Error| Error::io(&name.display().to_string(), Location::Source, what.to_string(), e);
    let file = File::open(path).map_err(|e| io("opening a spill file", e))?;
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut left = points;
    let mut data = Vec::new();
    while left > 0 {
        let mut head = [0u8; 8];
        r.read_exact(&mut head).map_err(|e| io("reading a spill file", e))?;
        let n = u32::from_le_bytes(head[..4].try_into().unwrap_or([0; 4])) as usize;
        let bytes = u32::from_le_bytes(head[4..].try_into().unwrap_or([0; 4])) as usize;
        data.resize(bytes, 0);
        r.read_exact(&mut data).map_err(|e| io("reading a spill file", e))?;
        let items = decompress_chunk(vlr, true, &data, n, item)
            .map_err(|m| io("decoding spilled points", std::io::Error::other(m)))?;
        f(&items)?;
        left = left.saturating_sub(n as u64);
    }
    Ok(())
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

    #[test]
    fn bins_split_take_and_keep_input_order() {
        let dir = tempfile::tempdir().unwrap();
        let geo = Geometry::new(
            Cube {
                center: [50.0, 50.0, 50.0],
                halfsize: 50.0,
            },
            [1.0; 3],
            [0.0; 3],
        );
        let mut bins = Bins::new(dir.path(), 6, 0, 30, geo, 1, 1).unwrap();
        let mut recs = Vec::new();
        for i in 0..5000 {
            recs.extend(rec(i % 100, (i * 7) % 100, (i * 13) % 100));
        }
        bins.add(&recs[..30 * 2500], 0).unwrap();
        bins.add(&recs[30 * 2500..], 2500).unwrap();
        bins.flush().unwrap();
        assert_eq!(bins.total(), 5000);
        let k = VoxelKey::new(1, 0, 0, 0);
        let before = bins.count_under(k);
        assert!(before > 0 && bins.is_bin(k));
        bins.split(k).unwrap();
        assert!(!bins.is_bin(k));
        assert_eq!(bins.count_under(k), before);
        assert_eq!(bins.total(), 5000);
        assert!(bins.disk_bytes > 0 && bins.peak_disk_bytes >= bins.disk_bytes);
        let child = (0..8).map(|i| k.child(i)).find(|c| bins.is_bin(*c)).unwrap();
        let n = bins.count_under(child);
        let buf = bins.take(child).unwrap();
        assert_eq!(buf.len() as u64, n);
        assert!(buf.seqs.windows(2).all(|w| w[0] < w[1]), "sequence order lost");
        for (i, s) in buf.seqs.iter().enumerate() {
            assert_eq!(buf.rec(i as u32), &recs[*s as usize * 30..*s as usize * 30 + 30]);
        }
        let all = bins.take(VoxelKey::ROOT).unwrap();
        assert_eq!(all.len() as u64 + n, 5000);
        assert_eq!(bins.total(), 0);
        // only the folder's lock file is left
        assert_eq!(std::fs::read_dir(bins.dir.path()).unwrap().count(), 1);
    }
}
