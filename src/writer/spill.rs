//! Out-of-core storage: points binned by octree node into temp files.
//!
//! Each bin file holds `(u64 sequence number, record)` pairs, appended in input
//! order. A bin too large for the memory budget is split into its eight children
//! by streaming it through a small buffer. Bins live in a `tempfile::TempDir`,
//! removed when the writer finishes, fails or unwinds.

use super::octree::{Geometry, PointBuf};
use crate::error::{Error, Location, Result};
use crate::format::VoxelKey;
use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

pub struct Bins {
    dir: tempfile::TempDir,
    rec_len: usize,
    geo: Geometry,
    level: i32,
    counts: BTreeMap<VoxelKey, u64>,
    buffers: HashMap<VoxelKey, Vec<u8>>,
    buffered: usize,
    flush_at: usize,
    /// Bytes currently on disk (and the peak).
    pub disk_bytes: u64,
    pub peak_disk_bytes: u64,
}

impl Bins {
    pub fn new(temp_dir: &Path, rec_len: usize, geo: Geometry, level: i32, flush_at: usize) -> Result<Bins> {
        let dir = tempfile::Builder::new()
            .prefix("copc-spill-")
            .tempdir_in(temp_dir)
            .map_err(|e| Error::io(&temp_dir.display().to_string(), Location::Source, "creating the spill folder", e))?;
        Ok(Bins {
            dir,
            rec_len,
            geo,
            level,
            counts: BTreeMap::new(),
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

    fn path(&self, key: &VoxelKey) -> PathBuf {
        self.dir.path().join(format!("{}-{}-{}-{}.bin", key.level, key.x, key.y, key.z))
    }

    fn io(&self, key: &VoxelKey, what: &str, e: std::io::Error) -> Error {
        Error::io(&self.path(key).display().to_string(), Location::Source, what.to_string(), e)
    }

    /// Adds records (`rec_len` each) whose sequence numbers start at `first_seq`.
    pub fn add(&mut self, recs: &[u8], first_seq: u64) -> Result<()> {
        for (i, r) in recs.chunks_exact(self.rec_len).enumerate() {
            let key = Geometry::key_at(self.geo.grid(r), self.level);
            let b = self.buffers.entry(key).or_default();
            b.extend_from_slice(&(first_seq + i as u64).to_le_bytes());
            b.extend_from_slice(r);
            *self.counts.entry(key).or_insert(0) += 1;
            self.buffered += 8 + self.rec_len;
        }
        if self.buffered >= self.flush_at {
            self.flush()?;
        }
        Ok(())
    }

    /// Appends every buffer to its bin file.
    pub fn flush(&mut self) -> Result<()> {
        let mut keys: Vec<VoxelKey> = self.buffers.keys().copied().collect();
        keys.sort();
        for k in keys {
            let Some(b) = self.buffers.remove(&k) else { continue };
            if b.is_empty() {
                continue;
            }
            let mut f = OpenOptions::new().create(true).append(true).open(self.path(&k)).map_err(|e| self.io(&k, "opening a spill file", e))?;
            f.write_all(&b).map_err(|e| self.io(&k, "writing a spill file", e))?;
            self.disk_bytes += b.len() as u64;
        }
        self.peak_disk_bytes = self.peak_disk_bytes.max(self.disk_bytes);
        self.buffered = 0;
        Ok(())
    }

    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Points in the bins at or below `key`.
    pub fn count_under(&self, key: VoxelKey) -> u64 {
        self.counts.iter().filter(|(k, _)| is_under(**k, key)).map(|(_, c)| *c).sum()
    }

    pub fn is_bin(&self, key: VoxelKey) -> bool {
        self.counts.contains_key(&key)
    }

    /// Streams the records of one bin file to `f` in pieces.
    fn stream(&self, key: VoxelKey, mut f: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
        let file = File::open(self.path(&key)).map_err(|e| self.io(&key, "opening a spill file", e))?;
        let mut r = BufReader::with_capacity(1 << 20, file);
        let item = 8 + self.rec_len;
        let mut buf = vec![0u8; item * 16_384];
        let mut left = self.counts.get(&key).copied().unwrap_or(0) as usize;
        while left > 0 {
            let n = left.min(16_384);
            r.read_exact(&mut buf[..n * item]).map_err(|e| self.io(&key, "reading a spill file", e))?;
            f(&buf[..n * item])?;
            left -= n;
        }
        Ok(())
    }

    fn remove(&mut self, key: VoxelKey) {
        if let Some(n) = self.counts.remove(&key) {
            let _ = std::fs::remove_file(self.path(&key));
            self.disk_bytes = self.disk_bytes.saturating_sub(n * (8 + self.rec_len) as u64);
        }
    }

    /// Loads (and deletes) every bin at or below `key`.
    pub fn take(&mut self, key: VoxelKey) -> Result<PointBuf> {
        let keys: Vec<VoxelKey> = self.counts.keys().copied().filter(|k| is_under(*k, key)).collect();
        let n: u64 = keys.iter().map(|k| self.counts[k]).sum();
        let mut out = PointBuf::new(self.rec_len);
        out.recs.reserve(n as usize * self.rec_len);
        out.seqs.reserve(n as usize);
        let rl = self.rec_len;
        for k in &keys {
            self.stream(*k, |b| {
                for item in b.chunks_exact(8 + rl) {
                    out.seqs.push(u64::from_le_bytes(item[..8].try_into().unwrap_or([0; 8])));
                    out.recs.extend_from_slice(&item[8..]);
                }
                Ok(())
            })?;
        }
        for k in keys {
            self.remove(k);
        }
        Ok(out)
    }

    /// Splits the bin `key` into its (up to eight) children.
    pub fn split(&mut self, key: VoxelKey) -> Result<()> {
        let rl = self.rec_len;
        let geo = self.geo;
        let child_level = key.level + 1;
        let mut outs: HashMap<VoxelKey, Vec<u8>> = HashMap::new();
        let mut counts: HashMap<VoxelKey, u64> = HashMap::new();
        let mut pending = 0usize;
        let flush_at = self.flush_at;
        let paths: HashMap<VoxelKey, PathBuf> = (0..8).map(|i| key.child(i)).map(|c| (c, self.path(&c))).collect();
        let flush = |outs: &mut HashMap<VoxelKey, Vec<u8>>| -> Result<()> {
            for (k, b) in outs.iter_mut() {
                if b.is_empty() {
                    continue;
                }
                let p = &paths[k];
                let mut f = OpenOptions::new().create(true).append(true).open(p).map_err(|e| Error::io(&p.display().to_string(), Location::Source, "opening a spill file", e))?;
                f.write_all(b).map_err(|e| Error::io(&p.display().to_string(), Location::Source, "writing a spill file", e))?;
                b.clear();
            }
            Ok(())
        };
        self.stream(key, |b| {
            for item in b.chunks_exact(8 + rl) {
                let c = Geometry::key_at(geo.grid(&item[8..]), child_level);
                outs.entry(c).or_default().extend_from_slice(item);
                *counts.entry(c).or_insert(0) += 1;
                pending += item.len();
            }
            if pending >= flush_at {
                flush(&mut outs)?;
                pending = 0;
            }
            Ok(())
        })?;
        flush(&mut outs)?;
        let moved: u64 = counts.values().sum();
        self.remove(key);
        self.disk_bytes += moved * (8 + rl) as u64;
        self.peak_disk_bytes = self.peak_disk_bytes.max(self.disk_bytes);
        self.counts.extend(counts);
        Ok(())
    }

    /// Re-bins everything for a new geometry (when the input headers' bounds turned
    /// out not to contain every point).
    pub fn rebin(self, geo: Geometry) -> Result<Bins> {
        let parent = self.dir.path().parent().map(Path::to_path_buf).unwrap_or_else(std::env::temp_dir);
        let mut next = Bins::new(&parent, self.rec_len, geo, self.level, self.flush_at)?;
        let rl = self.rec_len;
        let keys: Vec<VoxelKey> = self.counts.keys().copied().collect();
        for k in keys {
            self.stream(k, |b| {
                let mut recs = Vec::with_capacity(b.len());
                let mut seqs = Vec::with_capacity(b.len() / (8 + rl));
                for item in b.chunks_exact(8 + rl) {
                    seqs.push(u64::from_le_bytes(item[..8].try_into().unwrap_or([0; 8])));
                    recs.extend_from_slice(&item[8..]);
                }
                next.add_with_seqs(&recs, &seqs)
            })?;
        }
        next.flush()?;
        next.peak_disk_bytes = next.peak_disk_bytes.max(self.peak_disk_bytes + next.disk_bytes);
        Ok(next)
    }

    fn add_with_seqs(&mut self, recs: &[u8], seqs: &[u64]) -> Result<()> {
        for (r, s) in recs.chunks_exact(self.rec_len).zip(seqs) {
            let key = Geometry::key_at(self.geo.grid(r), self.level);
            let b = self.buffers.entry(key).or_default();
            b.extend_from_slice(&s.to_le_bytes());
            b.extend_from_slice(r);
            *self.counts.entry(key).or_insert(0) += 1;
            self.buffered += 8 + self.rec_len;
        }
        if self.buffered >= self.flush_at {
            self.flush()?;
        }
        Ok(())
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
