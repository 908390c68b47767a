//! The octree: which point goes into which node.
//!
//! Structure. A node is a leaf when its cube holds at most `max_points_per_node`
//! points (or it is too small to split: its side is below the coarsest scale step,
//! or it reaches level [`MAX_LEVEL`]); every other node is split into its eight
//! children. This depends only on the points, never on how the work was cut into
//! pieces, so the in-memory and the spilled builds give the same tree.
//!
//! Sampling (bottom-up, like untwine). Every interior node lays a grid of
//! [`CELLS`]³ cells over its cube. Once its children are built, it takes, in each
//! cell, the point that came first in input order among the points its children
//! hold in that cell; the others stay below. So each level keeps one point per cell
//! and the density doubles per level: the `spacing` written to the info VLR is the
//! root cell size `2·halfsize / CELLS`, which is the distance between neighbouring
//! retained points at the root on a dense surface, halved per level (as readers
//! assume when they turn a resolution into a depth).
//!
//! Order. "First in input order" uses the point's sequence number (its rank in the
//! concatenated inputs); points inside a node are sorted by GPS time, ties along a
//! Morton (Z-order) curve through the node, then by sequence number. Output is
//! therefore the same whatever the thread count. The Morton tie-break matters for
//! files without GPS time (all 0): nearby points next to each other compress better
//! than input order (4% on lone-star, bench/analysis.md).

use crate::error::{Error, Location, Result};
use crate::format::{Cube, VoxelKey};
use laz::record::{LayeredPointRecordCompressor, RecordCompressor};
use rayon::prelude::*;

/// Bits of the integer grid a point's position is snapped to (per axis, over the root cube).
pub const GRID_BITS: u32 = 30;
/// log2 of the sampling grid cells per axis.
pub const CELL_BITS: u32 = 7;
/// Sampling grid cells per axis (128, as untwine).
pub const CELLS: u32 = 1 << CELL_BITS;
/// Deepest level (the grid of a node at this level still has CELLS cells per axis).
pub const MAX_LEVEL: i32 = (GRID_BITS - CELL_BITS) as i32;
/// Below this many points a subtree is built on one thread.
const PARALLEL_MIN: usize = 20_000;
/// From this many points a node's passes over its points (octants, cells) are split
/// across threads.
const PARALLEL_PASS_MIN: usize = 1 << 18;

/// Where points sit in the root cube.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geometry {
    pub cube: Cube,
    pub scale: [f64; 3],
    pub offset: [f64; 3],
    origin: [f64; 3],
    inv: f64,
}

impl Geometry {
    pub fn new(cube: Cube, scale: [f64; 3], offset: [f64; 3]) -> Self {
        let origin = [
            cube.center[0] - cube.halfsize,
            cube.center[1] - cube.halfsize,
            cube.center[2] - cube.halfsize,
        ];
        Geometry {
            cube,
            scale,
            offset,
            origin,
            inv: (1u64 << GRID_BITS) as f64 / (2.0 * cube.halfsize),
        }
    }

    /// The cube for points whose quantized extents are `min`..`max` (world units):
    /// centred on the extents, halfsize = half the largest extent plus one scale step
    /// (never 0).
    pub fn cube_for(min: [f64; 3], max: [f64; 3], scale: [f64; 3]) -> Cube {
        let mut center = [0.0; 3];
        let mut half: f64 = 0.0;
        for a in 0..3 {
            // halves first: min + max overflows for coordinates near the f64 limits
            center[a] = min[a] * 0.5 + max[a] * 0.5;
            half = half.max(max[a] * 0.5 - min[a] * 0.5);
        }
        let step = scale.iter().fold(0.0f64, |m, s| m.max(s.abs()));
        Cube {
            center,
            halfsize: half + step.max(1e-9),
        }
    }

    /// True when every world coordinate in `min`..`max` lies inside the cube.
    pub fn contains(&self, min: [f64; 3], max: [f64; 3]) -> bool {
        let side = 2.0 * self.cube.halfsize;
        (0..3).all(|a| min[a] >= self.origin[a] && max[a] <= self.origin[a] + side)
    }

    /// The point's position on the 2^GRID_BITS grid of the root cube (clamped).
    #[inline]
    pub fn grid(&self, rec: &[u8]) -> [u32; 3] {
        let mut g = [0u32; 3];
        let top = ((1u64 << GRID_BITS) - 1) as f64;
        for a in 0..3 {
            let v = i32::from_le_bytes([rec[4 * a], rec[4 * a + 1], rec[4 * a + 2], rec[4 * a + 3]]);
            let w = v as f64 * self.scale[a] + self.offset[a];
            let t = (w - self.origin[a]) * self.inv;
            // truncation is floor for t > 0 (and a call to libm's floor is 5% of a
            // build without SSE4.1); NaN and t <= 0 clamp to 0
            g[a] = if t.is_nan() || t <= 0.0 {
                0
            } else if t >= top {
                top as u32
            } else {
                t as u32
            };
        }
        g
    }

    /// Which child of a node at `level` the grid position falls in.
    #[inline]
    pub fn octant(g: [u32; 3], level: i32) -> usize {
        let s = GRID_BITS - 1 - level as u32;
        (((g[0] >> s) & 1) | (((g[1] >> s) & 1) << 1) | (((g[2] >> s) & 1) << 2)) as usize
    }

    /// The node at `level` holding the grid position.
    #[inline]
    pub fn key_at(g: [u32; 3], level: i32) -> VoxelKey {
        let s = GRID_BITS - level as u32;
        let c = |v: u32| if level == 0 { 0 } else { (v >> s) as i32 };
        VoxelKey::new(level, c(g[0]), c(g[1]), c(g[2]))
    }

    /// The sampling cell (0..CELLS³) of the grid position inside its node at `level`.
    #[inline]
    pub fn cell(g: [u32; 3], level: i32) -> usize {
        let s = GRID_BITS - level as u32 - CELL_BITS;
        let m = CELLS - 1;
        (((g[0] >> s) & m) | (((g[1] >> s) & m) << CELL_BITS) | (((g[2] >> s) & m) << (2 * CELL_BITS))) as usize
    }

    /// The spacing written to the info VLR: the root's sampling cell size.
    pub fn spacing(&self) -> f64 {
        2.0 * self.cube.halfsize / CELLS as f64
    }

    /// The deepest level a node may be split at: below it a node's side would be
    /// under the coarsest scale step, or the sampling grid would run out of bits.
    pub fn leaf_level(&self) -> i32 {
        let step = self.scale.iter().fold(0.0f64, |m, s| m.max(s.abs()));
        let mut level = 0;
        while level < MAX_LEVEL && 2.0 * self.cube.halfsize / (1u64 << (level + 1)) as f64 >= step {
            level += 1;
        }
        level
    }
}

/// Records and their sequence numbers (rank in the input).
#[derive(Debug, Clone, Default)]
pub struct PointBuf {
    pub rec_len: usize,
    pub recs: Vec<u8>,
    pub seqs: Vec<u64>,
}

impl PointBuf {
    pub fn new(rec_len: usize) -> Self {
        PointBuf {
            rec_len,
            recs: Vec::new(),
            seqs: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.seqs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seqs.is_empty()
    }

    #[inline]
    pub fn rec(&self, i: u32) -> &[u8] {
        let at = i as usize * self.rec_len;
        &self.recs[at..at + self.rec_len]
    }

    /// Indices 0..len sorted by sequence number.
    pub fn seq_order(&self) -> Vec<u32> {
        let mut idx: Vec<u32> = (0..self.len() as u32).collect();
        if !self.seqs.windows(2).all(|w| w[0] <= w[1]) {
            idx.sort_unstable_by_key(|&i| self.seqs[i as usize]);
        }
        idx
    }

    /// A new buffer holding the points `idx`, in that order.
    pub fn extract(&self, idx: &[u32]) -> PointBuf {
        let mut out = PointBuf::new(self.rec_len);
        out.recs.reserve(idx.len() * self.rec_len);
        out.seqs.reserve(idx.len());
        for &i in idx {
            out.recs.extend_from_slice(self.rec(i));
            out.seqs.push(self.seqs[i as usize]);
        }
        out
    }

    /// Concatenates buffers; returns the combined buffer and each part's indices.
    pub fn concat(parts: Vec<PointBuf>, rec_len: usize) -> (PointBuf, Vec<Vec<u32>>) {
        let mut out = PointBuf::new(rec_len);
        // exact sizes: growth by doubling could hold twice the points the budget counts
        let n: usize = parts.iter().map(PointBuf::len).sum();
        out.recs.reserve_exact(n * rec_len);
        out.seqs.reserve_exact(n);
        let mut lists = Vec::with_capacity(parts.len());
        for p in parts {
            let start = out.len() as u32;
            lists.push((start..start + p.len() as u32).collect());
            out.recs.extend_from_slice(&p.recs);
            out.seqs.extend_from_slice(&p.seqs);
        }
        (out, lists)
    }

    pub fn bytes(&self) -> usize {
        self.recs.len() + self.seqs.len() * 8
    }
}

/// Receives the compressed chunk of every finished node (from any thread).
pub trait ChunkSink: Sync {
    fn put(&self, key: VoxelKey, points: u64, chunk: Vec<u8>) -> Result<()>;
}

/// Builds subtrees and emits their nodes.
pub struct Builder<'a> {
    pub geo: Geometry,
    /// Record length of the output format (with extra bytes).
    pub rec_len: usize,
    pub max_points: usize,
    pub leaf_level: i32,
    pub items: Vec<laz::LazItem>,
    /// Byte offset of the GPS time in a record (22 for formats 6-8).
    pub gps_at: usize,
    pub sink: &'a dyn ChunkSink,
    /// Adds up the encoding's CPU time and bytes (the `encode` phase).
    pub meter: &'a super::phases::EncodeMeter,
    /// Name used in error messages (the output file).
    pub name: String,
}

impl<'a> Builder<'a> {
    pub fn is_leaf(&self, key: VoxelKey, points: usize) -> bool {
        points <= self.max_points || key.level >= self.leaf_level
    }

    /// Builds the subtree of `key` from every point of `buf` (all inside the node's
    /// cube): emits every node below `key` and returns the points `key` keeps,
    /// sorted by sequence number.
    pub fn build(&self, key: VoxelKey, buf: &PointBuf) -> Result<Vec<u32>> {
        let mut idx = buf.seq_order();
        let mut scratch = vec![0u32; idx.len()];
        self.build_rec(key, buf, &mut idx, &mut scratch)
    }

    fn build_rec(&self, key: VoxelKey, buf: &PointBuf, idx: &mut [u32], scratch: &mut [u32]) -> Result<Vec<u32>> {
        if self.is_leaf(key, idx.len()) {
            return Ok(idx.to_vec());
        }
        // stable partition by octant (the octants of big nodes found on every thread:
        // the root's pass over all points would otherwise run alone)
        let octant = |&p: &u32| Geometry::octant(self.geo.grid(buf.rec(p)), key.level) as u8;
        let octs: Vec<u8> = if idx.len() >= PARALLEL_PASS_MIN {
            idx.par_iter().with_min_len(PARALLEL_PASS_MIN / 8).map(octant).collect()
        } else {
            idx.iter().map(octant).collect()
        };
        let mut counts = [0usize; 8];
        for &o in &octs {
            counts[o as usize] += 1;
        }
        let mut starts = [0usize; 8];
        for c in 1..8 {
            starts[c] = starts[c - 1] + counts[c - 1];
        }
        let mut pos = starts;
        for (&p, &o) in idx.iter().zip(&octs) {
            scratch[pos[o as usize]] = p;
            pos[o as usize] += 1;
        }
        drop(octs);
        idx.copy_from_slice(scratch);
        let mut parts: Vec<(usize, &mut [u32], &mut [u32])> = Vec::with_capacity(8);
        let (mut rest, mut srest) = (idx, scratch);
        for (c, &n) in counts.iter().enumerate() {
            let (a, b) = rest.split_at_mut(n);
            let (sa, sb) = srest.split_at_mut(n);
            parts.push((c, a, sa));
            rest = b;
            srest = sb;
        }
        let run = |(c, part, s): (usize, &mut [u32], &mut [u32])| -> Result<Vec<u32>> {
            if part.is_empty() {
                Ok(Vec::new())
            } else {
                self.build_rec(key.child(c as u8), buf, part, s)
            }
        };
        let total: usize = counts.iter().sum();
        let lists: Vec<Result<Vec<u32>>> = if total >= PARALLEL_MIN {
            parts.into_par_iter().map(run).collect()
        } else {
            parts.into_iter().map(run).collect()
        };
        let lists = lists.into_iter().collect::<Result<Vec<_>>>()?;
        self.sample_and_emit(key, buf, lists)
    }

    /// The interior-node step: `lists[c]` holds what child `c` keeps (sorted by
    /// sequence number). Takes one point per sampling cell for `key`, emits the
    /// children with what is left, and returns what `key` keeps.
    pub fn sample_and_emit(&self, key: VoxelKey, buf: &PointBuf, mut lists: Vec<Vec<u32>>) -> Result<Vec<u32>> {
        // each point's cell, on every thread; then one pass claims cells in order
        let cell = |&p: &u32| Geometry::cell(self.geo.grid(buf.rec(p)), key.level) as u32;
        let total: usize = lists.iter().map(Vec::len).sum();
        let cells: Vec<Vec<u32>> = if total >= PARALLEL_PASS_MIN {
            lists.par_iter().map(|l| l.par_iter().with_min_len(PARALLEL_PASS_MIN / 8).map(cell).collect()).collect()
        } else {
            lists.iter().map(|l| l.iter().map(cell).collect()).collect()
        };
        let mut claimed = vec![0u64; (1usize << (3 * CELL_BITS)) / 64];
        let mut mine = Vec::new();
        for (list, cells) in lists.iter_mut().zip(&cells) {
            let mut k = 0;
            list.retain(|&p| {
                let c = cells[k] as usize;
                k += 1;
                let (w, b) = (c / 64, 1u64 << (c % 64));
                if claimed[w] & b == 0 {
                    claimed[w] |= b;
                    mine.push(p);
                    false
                } else {
                    true
                }
            });
        }
        drop((claimed, cells));
        lists
            .into_par_iter()
            .enumerate()
            .filter(|(_, l)| !l.is_empty())
            .try_for_each(|(c, l)| self.emit(key.child(c as u8), buf, l))?;
        mine.sort_unstable_by_key(|&p| buf.seqs[p as usize]);
        Ok(mine)
    }

    /// Sorts a node's points by GPS time (ties: Morton order in the node, then
    /// sequence number), compresses them into one LAZ chunk and hands it to the sink.
    pub fn emit(&self, key: VoxelKey, buf: &PointBuf, mut list: Vec<u32>) -> Result<()> {
        if list.is_empty() {
            return Ok(());
        }
        // (GPS time as an ordered integer, sequence number, point): sorted in one flat
        // array, so the comparisons never reach into the records
        let g = self.gps_at;
        let mut keyed: Vec<(u64, u64, u32)> = list
            .iter()
            .map(|&p| {
                let r = buf.rec(p);
                let t = f64::from_le_bytes(r[g..g + 8].try_into().unwrap_or([0; 8]));
                (total_order_key(t), buf.seqs[p as usize], p)
            })
            .collect();
        keyed.sort_unstable();
        // Runs of equal GPS time go along the Morton curve (the 21 highest grid bits
        // that vary inside the node, per axis); ties stay in sequence order. Only the
        // runs pay for the codes: most files have few equal times, some only zeros.
        let shift = (GRID_BITS as i32 - key.level - 21).max(0) as u32;
        let mut i = 0;
        while i < keyed.len() {
            let t = keyed[i].0;
            let mut j = i + 1;
            while j < keyed.len() && keyed[j].0 == t {
                j += 1;
            }
            if j - i > 1 {
                // the code takes the time's place: the run shares one time
                for k in &mut keyed[i..j] {
                    k.0 = morton3(self.geo.grid(buf.rec(k.2)).map(|v| v >> shift));
                }
                keyed[i..j].sort_unstable();
            }
            i = j;
        }
        for (slot, k) in list.iter_mut().zip(&keyed) {
            *slot = k.2;
        }
        drop(keyed);
        if list.len() > i32::MAX as usize {
            return Err(Error::format(
                &self.name,
                Location::Node {
                    key: key.as_array(),
                    offset: None,
                },
                format!(
                    "{} points fall in one node (over the i32 limit of a COPC entry): the input has too many identical points",
                    list.len()
                ),
            ));
        }
        let mut recs = Vec::with_capacity(list.len() * buf.rec_len);
        for &p in &list {
            recs.extend_from_slice(buf.rec(p));
        }
        let chunk = self.meter.measure(recs.len(), || compress_chunk(&self.items, &recs)).map_err(|e| {
            Error::io(
                &self.name,
                Location::Node {
                    key: key.as_array(),
                    offset: None,
                },
                "compressing a node",
                e,
            )
        })?;
        if chunk.len() > i32::MAX as usize {
            return Err(Error::format(
                &self.name,
                Location::Node {
                    key: key.as_array(),
                    offset: None,
                },
                format!(
                    "a node's chunk of {} bytes is over the i32 limit of a COPC entry (too many identical points)",
                    chunk.len()
                ),
            ));
        }
        self.sink.put(key, list.len() as u64, chunk)
    }
}

/// Compresses records into one layered LAZ chunk (what a reader decodes alone).
/// laz-rs subtracts GPS times with `-` (wrapping in release builds, a panic where
/// overflow checks are on), so a panic becomes an error instead of unwinding out.
pub fn compress_chunk(items: &[laz::LazItem], recs: &[u8]) -> std::io::Result<Vec<u8>> {
    let run = std::panic::catch_unwind(|| {
        let mut c = LayeredPointRecordCompressor::new(Vec::with_capacity(recs.len() / 4));
        c.set_fields_from(&items.to_vec())
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        c.compress_many(recs)?;
        c.done()?;
        Ok(c.into_inner())
    });
    run.unwrap_or_else(|_| {
        Err(std::io::Error::other(format!("the LAZ encoder cannot compress these {} bytes of records (it panicked)", recs.len())))
    })
}

/// A key whose integer order is `f64::total_cmp`'s order of the times.
fn total_order_key(t: f64) -> u64 {
    let b = t.to_bits();
    // negative: every bit flipped (larger magnitudes sort first); positive: above them
    if b >> 63 == 1 { !b } else { b | 1 << 63 }
}

/// The Morton (Z-order) code of three coordinates of up to 21 bits: their bits
/// interleaved, x lowest.
fn morton3(g: [u32; 3]) -> u64 {
    // spreads the 21 low bits of v to every third bit
    fn spread(v: u32) -> u64 {
        let mut x = u64::from(v) & 0x1f_ffff;
        x = (x | x << 32) & 0x001f_0000_0000_ffff;
        x = (x | x << 16) & 0x001f_0000_ff00_00ff;
        x = (x | x << 8) & 0x100f_00f0_0f00_f00f;
        x = (x | x << 4) & 0x10c3_0c30_c30c_30c3;
        x = (x | x << 2) & 0x1249_2492_4924_9249;
        x
    }
    spread(g[0]) | spread(g[1]) << 1 | spread(g[2]) << 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn morton3_interleaves_the_bits_x_lowest() {
        let naive = |g: [u32; 3]| (0..21).fold(0u64, |m, b| m | (0..3).fold(0u64, |n, a| n | u64::from(g[a] >> b & 1) << (3 * b + a)));
        let mut rng = crate::sample::SplitMix64::new(0x9e37_79b9_7f4a_7c15);
        for _ in 0..1000 {
            let x = rng.next_u64();
            let g = [x as u32 & 0x1f_ffff, (x >> 21) as u32 & 0x1f_ffff, (x >> 42) as u32 & 0x1f_ffff];
            assert_eq!(morton3(g), naive(g), "{g:?}");
        }
        assert_eq!(morton3([1, 0, 0]), 1);
        assert_eq!(morton3([0, 1, 0]), 2);
        assert_eq!(morton3([0, 0, 1]), 4);
        assert_eq!(morton3([0x1f_ffff; 3]), (1u64 << 63) - 1);
    }

    #[test]
    fn total_order_key_orders_as_total_cmp() {
        let v = [f64::NEG_INFINITY, -1e300, -2.5, -0.0, 0.0, 1e-310, 1.0, 2.5e9, f64::INFINITY, f64::NAN, -f64::NAN];
        for a in v {
            for b in v {
                assert_eq!(total_order_key(a).cmp(&total_order_key(b)), a.total_cmp(&b), "{a} {b}");
            }
        }
    }

    #[test]
    fn grid_octants_and_cells_agree_with_keys() {
        let cube = Cube {
            center: [0.0, 0.0, 0.0],
            halfsize: 64.0,
        };
        let geo = Geometry::new(cube, [1.0; 3], [0.0; 3]);
        let mut rec = vec![0u8; 30];
        let put = |rec: &mut Vec<u8>, p: [i32; 3]| {
            for a in 0..3 {
                rec[4 * a..4 * a + 4].copy_from_slice(&p[a].to_le_bytes());
            }
        };
        put(&mut rec, [10, -10, 63]);
        let g = geo.grid(&rec);
        assert_eq!(Geometry::octant(g, 0), 0b101); // x high, y low, z high
        let k1 = Geometry::key_at(g, 1);
        assert_eq!(k1, VoxelKey::new(1, 1, 0, 1));
        assert_eq!(Geometry::key_at(g, 2).parent(), Some(k1));
        assert_eq!(Geometry::key_at(g, 2), k1.child(Geometry::octant(g, 1) as u8));
        // root cells are 1 unit: x=10 -> cell 74, y=-10 -> 54, z=63 -> 127
        assert_eq!(Geometry::cell(g, 0), 74 | (54 << 7) | (127 << 14));
        // the point lies in its node cube
        for level in 0..6 {
            let b = cube.node_bounds(&Geometry::key_at(g, level));
            assert!(b.contains_point(10.0, -10.0, 63.0), "level {level}");
        }
        put(&mut rec, [64, 64, 64]); // on the max face: clamped into the last cell
        let g = geo.grid(&rec);
        assert_eq!(Geometry::key_at(g, 3), VoxelKey::new(3, 7, 7, 7));
        assert_eq!(geo.spacing(), 1.0);
    }

    #[test]
    fn cube_covers_extents_and_leaf_level_stops_at_scale() {
        let c = Geometry::cube_for([0.0, 0.0, 10.0], [100.0, 50.0, 20.0], [0.01; 3]);
        assert_eq!(c.center, [50.0, 25.0, 15.0]);
        assert!((c.halfsize - 50.01).abs() < 1e-9);
        let geo = Geometry::new(c, [0.01; 3], [0.0; 3]);
        assert!(geo.contains([0.0, 0.0, 10.0], [100.0, 50.0, 20.0]));
        assert!(!geo.contains([-0.02, 0.0, 10.0], [100.0, 50.0, 20.0]));
        // 100.02 / 2^13 = 0.0122 >= 0.01 ; / 2^14 < 0.01
        assert_eq!(geo.leaf_level(), 13);
        let single = Geometry::cube_for([5.0; 3], [5.0; 3], [0.001; 3]);
        assert!(single.halfsize > 0.0);
    }
}
