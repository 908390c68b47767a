//! Decoded points: batches of raw records (one per node) with columnar access,
//! and the streaming iterator that decodes nodes in parallel, in a fixed order.

use super::Reader;
use crate::error::{Error, Result};
use crate::format::point::{DimType, PointLayout, Transform, write_column};
use crate::format::{Dimension, ExtraBytes, VoxelKey};
use rayon::prelude::*;
use std::collections::VecDeque;
use std::sync::Arc;

/// Everything needed to interpret a record.
#[derive(Debug, Clone)]
pub struct RecordFormat {
    pub layout: PointLayout,
    pub transform: Transform,
    pub extra_bytes: Vec<ExtraBytes>,
}

impl RecordFormat {
    /// The dimensions a record of this format carries (standard ones, then extra bytes).
    pub fn dimensions(&self) -> Vec<Dimension> {
        let mut d: Vec<Dimension> = Dimension::STANDARD.iter().copied().filter(|d| self.layout.has(*d)).collect();
        d.extend((0..self.extra_bytes.len()).map(|i| Dimension::Extra(i as u16)));
        d
    }

    /// The name of a dimension (extra bytes by their declared name).
    pub fn dim_name(&self, dim: Dimension) -> String {
        match dim {
            Dimension::Extra(i) | Dimension::ExtraRaw(i) => {
                self.extra_bytes.get(i as usize).map(|e| e.name.clone()).unwrap_or_default()
            }
            d => d.name().to_string(),
        }
    }

    /// Finds a dimension by name: standard names first, then extra-bytes names.
    pub fn dim_by_name(&self, name: &str) -> Option<Dimension> {
        Dimension::from_name(name).or_else(|| {
            self.extra_bytes
                .iter()
                .position(|e| e.name.eq_ignore_ascii_case(name.trim()))
                .map(|i| Dimension::Extra(i as u16))
        })
    }

    fn check_dim(&self, dim: Dimension) -> Result<()> {
        if let Some(i) = dim.extra_index() {
            if i >= self.extra_bytes.len() {
                return Err(Error::invalid(format!(
                    "extra dimension {i} does not exist (the file has {})",
                    self.extra_bytes.len()
                )));
            }
        }
        Ok(())
    }

    /// The element type `dim` is delivered as and the elements per point: `(T, 1)` for
    /// standard dimensions and `Extra`, the declared type and count for `ExtraRaw`
    /// (undocumented bytes as `U8`). A point takes `T.size() * count` bytes.
    pub fn value_type(&self, dim: Dimension) -> Result<(DimType, usize)> {
        self.check_dim(dim)?;
        Ok(match dim {
            Dimension::ExtraRaw(i) => {
                let eb = &self.extra_bytes[i as usize];
                (DimType::of_extra(eb.scalar), eb.count)
            }
            d => (d.dim_type(), 1),
        })
    }

    /// Bytes one point of `dim` takes in a column.
    pub fn value_size(&self, dim: Dimension) -> Result<usize> {
        self.value_type(dim).map(|(t, n)| t.size() * n)
    }
}

/// A value type a column can be read as (the dimension's own type).
pub trait ColumnValue: Copy {
    const TYPE: DimType;
    fn from_ne(b: &[u8]) -> Self;
}

macro_rules! column_value {
    ($t:ty, $d:expr) => {
        impl ColumnValue for $t {
            const TYPE: DimType = $d;
            fn from_ne(b: &[u8]) -> Self {
                <$t>::from_ne_bytes(b.try_into().unwrap_or_default())
            }
        }
    };
}
column_value!(u8, DimType::U8);
column_value!(u16, DimType::U16);
column_value!(i16, DimType::I16);
column_value!(i32, DimType::I32);
column_value!(f64, DimType::F64);
column_value!(i8, DimType::I8);
column_value!(u32, DimType::U32);
column_value!(u64, DimType::U64);
column_value!(i64, DimType::I64);
column_value!(f32, DimType::F32);

/// The points of one node that matched a query, as LAS records.
#[derive(Debug, Clone)]
pub struct PointBatch {
    pub node: VoxelKey,
    records: Vec<u8>,
    format: Arc<RecordFormat>,
    /// Position of each point in its node's chunk when a region dropped some
    /// (None: every point, in chunk order).
    indices: Option<Vec<u32>>,
}

impl PointBatch {
    pub(crate) fn new(node: VoxelKey, records: Vec<u8>, format: Arc<RecordFormat>) -> Self {
        PointBatch { node, records, format, indices: None }
    }

    /// The same points with other records of the same length in another format (e.g.
    /// coordinates re-expressed in another scale and offset by a dataset merge).
    pub fn with_records(mut self, records: Vec<u8>, format: Arc<RecordFormat>) -> Result<Self> {
        if records.len() != self.records.len() || format.layout.record_length != self.format.layout.record_length {
            return Err(crate::Error::invalid("with_records: the records must keep the batch's length and record layout"));
        }
        self.records = records;
        self.format = format;
        Ok(self)
    }

    pub(crate) fn with_indices(mut self, indices: Option<Vec<u32>>) -> Self {
        self.indices = indices;
        self
    }

    /// The position of point `i` of the batch in its node's chunk (`i` itself unless
    /// the query's region dropped points): with `node`, a name for the point that no
    /// query changes.
    pub fn index_in_node(&self, i: usize) -> u32 {
        match &self.indices {
            Some(v) => v.get(i).copied().unwrap_or(u32::MAX),
            None => i as u32,
        }
    }

    pub fn len(&self) -> usize {
        self.records.len() / self.format.layout.record_length
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn format(&self) -> &RecordFormat {
        &self.format
    }

    /// The raw records (LAS layout, little-endian), `len() * record_length` bytes.
    /// Fields whose LAZ layer was not selected hold unspecified values.
    pub fn records(&self) -> &[u8] {
        &self.records
    }

    /// Writes `dim` for points `start..start+n` into `dst` (point i at byte i*stride,
    /// native endianness, the type [`RecordFormat::value_type`] gives; `ExtraRaw`
    /// writes all its elements, one after the other).
    pub fn write_column(&self, dim: Dimension, start: usize, n: usize, dst: &mut [u8], stride: usize) -> Result<()> {
        let size = self.format.value_size(dim)?;
        if start + n > self.len() {
            return Err(Error::invalid(format!("points {start}..{} past the batch's {}", start + n, self.len())));
        }
        if n == 0 {
            return Ok(());
        }
        let stride = if stride == 0 { size } else { stride };
        if stride < size || dst.len() < (n - 1) * stride + size {
            return Err(Error::invalid(format!("column buffer of {} bytes too small for {n} values", dst.len())));
        }
        let rl = self.format.layout.record_length;
        let extra = dim.extra_index().and_then(|i| self.format.extra_bytes.get(i));
        write_column(&self.format.layout, &self.format.transform, extra, &self.records[start * rl..(start + n) * rl], dim, dst, stride);
        Ok(())
    }

    /// One column as typed values (`T` must be the dimension's type: X/Y/Z/GpsTime/extra
    /// f64, raw X/Y/Z i32, intensity/RGB/NIR/point source u16, scan angle i16, others u8;
    /// `ExtraRaw` its declared type, `count` values per point).
    pub fn column<T: ColumnValue>(&self, dim: Dimension) -> Result<Vec<T>> {
        let (ty, count) = self.format.value_type(dim)?;
        if ty != T::TYPE {
            return Err(Error::invalid(format!("{} is {ty:?}, not {:?}", self.format.dim_name(dim), T::TYPE)));
        }
        let size = T::TYPE.size();
        let mut bytes = vec![0u8; self.len() * size * count];
        self.write_column(dim, 0, self.len(), &mut bytes, size * count)?;
        Ok(bytes.chunks_exact(size).map(T::from_ne).collect())
    }

    /// Scaled X, Y, Z of every point.
    pub fn xyz(&self) -> Vec<[f64; 3]> {
        let t = &self.format.transform;
        self.records
            .chunks_exact(self.format.layout.record_length)
            .map(|r| {
                let raw = |o: usize| i32::from_le_bytes(r[o..o + 4].try_into().unwrap_or_default()) as f64;
                [raw(0) * t.scale[0] + t.offset[0], raw(4) * t.scale[1] + t.offset[1], raw(8) * t.scale[2] + t.offset[2]]
            })
            .collect()
    }
}

/// Keeps the records the query's region keeps (in place, order kept) and returns
/// the chunk positions of those kept.
pub(crate) fn retain_matching(records: &mut Vec<u8>, rl: usize, t: &Transform, q: &super::Query) -> Vec<u32> {
    let n = records.len() / rl;
    let mut kept = 0;
    let mut positions = Vec::new();
    for i in 0..n {
        let r = &records[i * rl..i * rl + 12];
        let raw = |o: usize| i32::from_le_bytes(r[o..o + 4].try_into().unwrap_or_default()) as f64;
        let (x, y, z) = (raw(0) * t.scale[0] + t.offset[0], raw(4) * t.scale[1] + t.offset[1], raw(8) * t.scale[2] + t.offset[2]);
        if q.keeps(x, y, z) {
            if kept != i {
                records.copy_within(i * rl..(i + 1) * rl, kept * rl);
            }
            kept += 1;
            positions.push(i as u32);
        }
    }
    records.truncate(kept * rl);
    positions
}

/// A node chosen by a query, as the iterator decodes it.
#[derive(Debug, Clone)]
pub(crate) struct PlannedNode {
    pub node: super::Node,
    /// Whether each point must be tested against the query's region.
    pub test_points: bool,
}

/// Streams the points of a query, one batch per node, in the order of the nodes'
/// chunks in the file. Nodes are decoded in parallel a window at a time, so memory
/// stays at a few chunks per thread whatever the file size.
pub struct PointIter<'r> {
    reader: ReaderRef<'r>,
    plan: Vec<PlannedNode>,
    /// `(offset, byte_size)` of each planned node's chunk, for [`window_end`].
    chunks: Vec<(u64, u64)>,
    next: usize,
    ready: VecDeque<Result<PointBatch>>,
    selection: laz::DecompressionSelection,
    query: Arc<super::Query>,
    limits: WindowLimits,
    failed: bool,
}

/// Compressed bytes fetched in one round (decoded, about 5-10 times that).
const WINDOW_BYTES: u64 = 4 << 20;
const MAX_WINDOW_NODES: usize = 256;
/// How many times those limits a window may grow to so that it does not end between
/// two chunks a remote source would fetch with one request.
const WINDOW_STRETCH: usize = 4;

/// The limits of one fetch-and-decode round of a [`PointIter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WindowLimits {
    /// Nodes a window takes whatever their size: two per thread, so all are busy.
    min_nodes: usize,
    /// A window stops before its bytes would pass this...
    bytes: u64,
    /// ...or at this many nodes, unless it stretches (see [`window_end`]).
    nodes: usize,
    /// The source's [`ByteSource::merge_gap`](crate::ByteSource::merge_gap): None
    /// when it reads every range on its own (local sources).
    merge_gap: Option<u64>,
}

impl WindowLimits {
    fn new(threads: usize, merge_gap: Option<u64>) -> Self {
        WindowLimits { min_nodes: (threads * 2).max(2), bytes: WINDOW_BYTES, nodes: MAX_WINDOW_NODES, merge_gap }
    }
}

/// Where the window that starts at node `start` ends (exclusive), for chunks given
/// as `(offset, size)` in file order.
///
/// A window takes nodes until the next one would take its bytes past `l.bytes`
/// (once it holds `l.min_nodes`) or it holds `l.nodes`. For a source that merges
/// ranges (`l.merge_gap` is Some) the bytes include the gaps it downloads, and a
/// window is not ended between two chunks the source would fetch with one request
/// (at most `merge_gap` apart), since that would cost a request more: it takes the
/// rest of that run of chunks while it stays within `WINDOW_STRETCH` times the
/// limits (so memory stays bounded). A run too long for that starts the next window
/// instead when this one has an earlier place to end (a wider gap, after its first
/// `min_nodes` nodes); otherwise the run is cut at the stretched limits.
fn window_end(chunks: &[(u64, u64)], start: usize, l: &WindowLimits) -> usize {
    let n = chunks.len();
    // Whether chunk `i` shares a request with the window's chunks before it, which
    // reach up to byte `reach`; and what chunk `i` adds to the bytes downloaded.
    let joins =
        |i: usize, reach: u64| i > start && l.merge_gap.is_some_and(|gap| chunks[i].0 <= reach.saturating_add(gap));
    let cost = |i: usize, reach: u64| {
        let (offset, size) = chunks[i];
        if joins(i, reach) { size.saturating_add(offset.saturating_sub(reach)) } else { size }
    };
    let (mut end, mut bytes, mut reach) = (start, 0u64, 0u64);
    // The last place where the window could end at a gap wider than `merge_gap`.
    let mut last_gap = None;
    while end < n && end - start < l.nodes.max(1) {
        let c = cost(end, reach);
        if end - start >= l.min_nodes.max(1) && bytes.saturating_add(c) > l.bytes {
            break;
        }
        if end - start >= l.min_nodes.max(1) && !joins(end, reach) {
            last_gap = Some(end);
        }
        bytes = bytes.saturating_add(c);
        reach = reach.max(chunks[end].0.saturating_add(chunks[end].1));
        end += 1;
    }
    if end == n || !joins(end, reach) {
        return end;
    }
    // The limits fall inside a run of chunks fetched together: take the rest of it.
    let (max_nodes, max_bytes) =
        (l.nodes.saturating_mul(WINDOW_STRETCH), l.bytes.saturating_mul(WINDOW_STRETCH as u64));
    while end < n && joins(end, reach) {
        let c = cost(end, reach);
        if end - start >= max_nodes || bytes.saturating_add(c) > max_bytes {
            return last_gap.unwrap_or(end);
        }
        bytes = bytes.saturating_add(c);
        reach = reach.max(chunks[end].0.saturating_add(chunks[end].1));
        end += 1;
    }
    end
}

/// The reader a [`PointIter`] decodes from: borrowed, or shared so that the
/// iterator can outlive the caller's handle (the C ABI and Arrow streams).
pub(crate) enum ReaderRef<'r> {
    Borrowed(&'r Reader),
    Shared(Arc<Reader>),
}

impl std::ops::Deref for ReaderRef<'_> {
    type Target = Reader;
    fn deref(&self) -> &Reader {
        match self {
            ReaderRef::Borrowed(r) => r,
            ReaderRef::Shared(r) => r,
        }
    }
}

impl<'r> PointIter<'r> {
    pub(crate) fn new(
        reader: ReaderRef<'r>,
        plan: Vec<PlannedNode>,
        selection: laz::DecompressionSelection,
        query: Arc<super::Query>,
    ) -> Self {
        let limits = WindowLimits::new(reader.threads(), reader.file.source.merge_gap());
        let chunks = plan.iter().map(|p| (p.node.offset, p.node.byte_size as u64)).collect();
        PointIter { reader, plan, chunks, next: 0, ready: VecDeque::new(), selection, query, limits, failed: false }
    }

    /// Nodes the iterator will visit.
    pub fn node_count(&self) -> usize {
        self.plan.len()
    }

    fn fill(&mut self) {
        let end = window_end(&self.chunks, self.next, &self.limits);
        let batch = &self.plan[self.next..end];
        self.next = end;
        let ranges: Vec<_> = batch.iter().map(|p| p.node.offset..p.node.offset + p.node.byte_size as u64).collect();
        let chunks = match self.reader.file.source.read_ranges(&ranges) {
            Ok(c) => c,
            Err(e) => {
                self.ready.push_back(Err(e));
                return;
            }
        };
        let reader: &Reader = &self.reader;
        let selection = self.selection;
        let query = &*self.query;
        let decoded: Vec<Result<PointBatch>> = reader.install(|| {
            batch
                .par_iter()
                .zip(chunks.par_iter())
                .map(|(p, chunk)| reader.decode_planned(p, chunk, selection, query))
                .collect()
        });
        self.ready.extend(decoded);
    }
}

impl Iterator for PointIter<'_> {
    type Item = Result<PointBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            if let Some(r) = self.ready.pop_front() {
                if r.is_err() {
                    self.failed = true;
                }
                return Some(r);
            }
            if self.next >= self.plan.len() {
                return None;
            }
            self.fill();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn limits(merge_gap: Option<u64>) -> WindowLimits {
        WindowLimits { min_nodes: 2, bytes: 4 * MIB, nodes: 256, merge_gap }
    }

    /// Chunks of `size` bytes from `offset`, each `gap` bytes after the previous.
    fn run(offset: u64, count: u64, size: u64, gap: u64) -> Vec<(u64, u64)> {
        (0..count).map(|i| (offset + i * (size + gap), size)).collect()
    }

    /// Every window, as `window_end` cuts them.
    fn windows(chunks: &[(u64, u64)], l: &WindowLimits) -> Vec<usize> {
        let mut ends = Vec::new();
        let mut start = 0;
        while start < chunks.len() {
            let end = window_end(chunks, start, l);
            assert!(end > start && end <= chunks.len(), "window {start}..{end} of {}", chunks.len());
            ends.push(end);
            start = end;
        }
        ends
    }

    /// The rule before sources told their merge gap: sizes alone against the limits.
    fn plain_greedy(chunks: &[(u64, u64)], start: usize, l: &WindowLimits) -> usize {
        let (mut end, mut bytes) = (start, 0);
        while end < chunks.len() && end - start < l.nodes {
            let size = chunks[end].1;
            if end - start >= l.min_nodes && bytes + size > l.bytes {
                break;
            }
            bytes += size;
            end += 1;
        }
        end
    }

    #[test]
    fn local_sources_keep_the_plain_limits() {
        // 1 MiB chunks that touch: 4 per window by bytes; 300 small ones: 256 by count.
        assert_eq!(windows(&run(0, 10, MIB, 0), &limits(None)), vec![4, 8, 10]);
        assert_eq!(windows(&run(0, 300, 100, 0), &limits(None)), vec![256, 300]);
        // The first min_nodes are taken whatever their size.
        assert_eq!(windows(&run(0, 3, 10 * MIB, 0), &limits(None)), vec![2, 3]);
        let mut rng = crate::sample::SplitMix64::new(0x2545_f491_4f6c_dd1d);
        let mut next = |n: u64| rng.next_u64() % n;
        for _ in 0..200 {
            let mut offset = 0;
            let chunks: Vec<(u64, u64)> = (0..next(600))
                .map(|_| {
                    let c = (offset + next(3) * next(2 * MIB), 1 + next(2 * MIB));
                    offset = c.0 + c.1;
                    c
                })
                .collect();
            for start in 0..chunks.len() {
                assert_eq!(window_end(&chunks, start, &limits(None)), plain_greedy(&chunks, start, &limits(None)));
            }
        }
    }

    #[test]
    fn a_window_takes_the_rest_of_a_run_fetched_as_one_request() {
        // Run A: 3 x 1 MiB; 10 MiB further, run B: 6 x 1 MiB. The limits end the
        // window after B's first chunk; the rest of B comes along.
        let mut chunks = run(0, 3, MIB, 0);
        chunks.extend(run(13 * MIB, 6, MIB, 0));
        assert_eq!(windows(&chunks, &limits(None)), vec![4, 8, 9]);
        assert_eq!(windows(&chunks, &limits(Some(0))), vec![9]);
        assert_eq!(windows(&chunks, &limits(Some(MIB))), vec![9]);
        // A gap wider than merge_gap is a place to end.
        let mut far = run(0, 4, MIB, 0);
        far.extend(run(4 * MIB + 100, 4, MIB, 0));
        assert_eq!(windows(&far, &limits(Some(99))), vec![4, 8]);
        assert_eq!(windows(&far, &limits(Some(100))), vec![8]);
        // A run of 300 small chunks is not cut at 256 nodes.
        assert_eq!(windows(&run(0, 300, 100, 0), &limits(Some(0))), vec![300]);
        // Gaps the source downloads count: 1 MiB chunks 0.5 MiB apart cost 1.5 MiB
        // each after the first, so 3 fit the limits and 11 the stretched ones.
        assert_eq!(windows(&run(0, 30, MIB, MIB / 2), &limits(Some(MIB))), vec![11, 22, 30]);
        assert_eq!(windows(&run(0, 30, MIB, MIB / 2), &limits(Some(MIB / 4))), vec![4, 8, 12, 16, 20, 24, 28, 30]);
    }

    #[test]
    fn a_run_too_long_for_the_stretched_limits_starts_the_next_window() {
        // Run A: 2 x 1 MiB; far after it, run B: 40 x 1 MiB. B does not fit after
        // A, so the first window is A alone, and B is cut at 16 MiB from its start.
        let mut chunks = run(0, 2, MIB, 0);
        chunks.extend(run(100 * MIB, 40, MIB, 0));
        assert_eq!(windows(&chunks, &limits(Some(MIB))), vec![2, 18, 34, 42]);
        // When ending before the run would leave fewer than min_nodes, the run is cut
        // at the stretched limit instead.
        let mut chunks = run(0, 1, MIB, 0);
        chunks.extend(run(100 * MIB, 40, MIB, 0));
        assert_eq!(windows(&chunks, &limits(Some(MIB))), vec![16, 32, 41]);
        // Nodes are capped the same way: 4 x 256.
        assert_eq!(windows(&run(0, 2000, 100, 0), &limits(Some(0))), vec![1024, 2000]);
    }

    #[test]
    fn windows_stay_within_the_stretched_limits() {
        let l = WindowLimits { min_nodes: 3, ..limits(Some(MIB)) };
        let chunks = run(0, 5000, 37_000, 20_000);
        let mut start = 0;
        for end in windows(&chunks, &l) {
            let span = chunks[end - 1].0 + chunks[end - 1].1 - chunks[start].0;
            assert!(span <= 16 * MIB && end - start <= 1024, "{start}..{end}: {span} bytes");
            start = end;
        }
    }
}
