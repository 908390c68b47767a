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
    reader: &'r Reader,
    plan: Vec<PlannedNode>,
    next: usize,
    ready: VecDeque<Result<PointBatch>>,
    selection: laz::DecompressionSelection,
    query: Arc<super::Query>,
    /// Nodes per fetch-and-decode round: at least two per thread, more while their
    /// chunks stay under `WINDOW_BYTES` (so a remote source can merge them).
    min_window: usize,
    failed: bool,
}

/// Compressed bytes fetched in one round (decoded, about 5-10 times that).
const WINDOW_BYTES: u64 = 4 << 20;
const MAX_WINDOW_NODES: usize = 256;

impl<'r> PointIter<'r> {
    pub(crate) fn new(
        reader: &'r Reader,
        plan: Vec<PlannedNode>,
        selection: laz::DecompressionSelection,
        query: Arc<super::Query>,
    ) -> Self {
        let min_window = (reader.threads() * 2).max(2);
        PointIter { reader, plan, next: 0, ready: VecDeque::new(), selection, query, min_window, failed: false }
    }

    /// Nodes the iterator will visit.
    pub fn node_count(&self) -> usize {
        self.plan.len()
    }

    fn fill(&mut self) {
        let mut end = self.next;
        let mut bytes = 0u64;
        while end < self.plan.len() && end - self.next < MAX_WINDOW_NODES {
            let size = self.plan[end].node.byte_size as u64;
            if end - self.next >= self.min_window && bytes + size > WINDOW_BYTES {
                break;
            }
            bytes += size;
            end += 1;
        }
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
        let reader = self.reader;
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
