//! Decoded LAS records into Arrow arrays: each column's buffer is allocated once for
//! the batch and written straight from the records of the nodes it spans; that buffer
//! becomes the array (no intermediate column, nothing per point on the heap).

use super::schema::{Column, Plan, Source, is_flag};
use crate::error::{Error, Result};
use crate::format::ExtraBytesType;
use crate::format::point::{DimType, flag_bit, write_column};
use crate::{Dimension, PointBatch, Reader, VoxelKey};
use arrow_array::types::*;
use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, FixedSizeBinaryArray, FixedSizeListArray, PrimitiveArray, StructArray,
};
use arrow_buffer::{BooleanBufferBuilder, Buffer, MutableBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType};
use std::collections::HashMap;
use std::sync::Arc;

/// Bytes of one ISO WKB Point Z: byte order, type 1001, x, y, z.
const WKB_POINT_Z: usize = 1 + 4 + 24;
/// Most rows whose WKB offsets fit an i32.
pub(crate) const MAX_WKB_ROWS: usize = i32::MAX as usize / WKB_POINT_Z;

/// Points `start..start + len` of one node's batch.
pub(crate) struct Piece<'a> {
    pub batch: &'a PointBatch,
    pub start: usize,
    pub len: usize,
}

impl Piece<'_> {
    fn records(&self) -> &[u8] {
        let rl = self.batch.format().layout.record_length;
        &self.batch.records()[self.start * rl..(self.start + self.len) * rl]
    }
}

fn internal(e: ArrowError) -> Error {
    Error::invalid(format!("building an Arrow array: {e}"))
}

/// A buffer of `rows * size` bytes filled piece by piece by `f(piece, dst)`.
fn fill_bytes(pieces: &[Piece], size: usize, mut f: impl FnMut(&Piece, &mut [u8])) -> Buffer {
    let rows: usize = pieces.iter().map(|p| p.len).sum();
    // Zeroed pages from the allocator, then one write per value.
    let mut m = MutableBuffer::from_len_zeroed(rows * size);
    let dst = m.as_slice_mut();
    let mut at = 0;
    for p in pieces {
        f(p, &mut dst[at * size..(at + p.len) * size]);
        at += p.len;
    }
    m.into()
}

fn primitive(t: DimType, buf: Buffer, rows: usize) -> ArrayRef {
    macro_rules! p {
        ($t:ty) => {
            Arc::new(PrimitiveArray::<$t>::new(ScalarBuffer::new(buf, 0, rows), None))
        };
    }
    match t {
        DimType::U8 => p!(UInt8Type),
        DimType::I8 => p!(Int8Type),
        DimType::U16 => p!(UInt16Type),
        DimType::I16 => p!(Int16Type),
        DimType::U32 => p!(UInt32Type),
        DimType::I32 => p!(Int32Type),
        DimType::U64 => p!(UInt64Type),
        DimType::I64 => p!(Int64Type),
        DimType::F32 => p!(Float32Type),
        DimType::F64 => p!(Float64Type),
    }
}

/// The column of dimension `d`.
fn dim_column(col: &Column, d: Dimension, pieces: &[Piece], rows: usize) -> Result<ArrayRef> {
    let Some(first) = pieces.first() else {
        return Ok(arrow_array::new_empty_array(col.field.data_type()));
    };
    let format = first.batch.format();
    let layout = &format.layout;
    if is_flag(d) {
        let mut bits = BooleanBufferBuilder::new(rows);
        match flag_bit(layout, d) {
            Some((byte, shift)) => {
                for p in pieces {
                    for r in p.records().chunks_exact(layout.record_length) {
                        bits.append((r[byte] >> shift) & 1 != 0);
                    }
                }
            }
            None => bits.append_n(rows, false),
        }
        return Ok(Arc::new(BooleanArray::new(bits.finish(), None)));
    }
    let (t, count) = format.value_type(d)?;
    let size = t.size() * count;
    let extra = d.extra_index().and_then(|i| format.extra_bytes.get(i));
    let buf = fill_bytes(pieces, size, |p, dst| {
        write_column(layout, &format.transform, extra, p.records(), d, dst, size);
    });
    match (d, extra) {
        (Dimension::ExtraRaw(_), Some(eb)) if eb.scalar == ExtraBytesType::Raw => {
            Ok(Arc::new(FixedSizeBinaryArray::try_new(count as i32, buf, None).map_err(internal)?))
        }
        (Dimension::ExtraRaw(_), Some(_)) if count > 1 => {
            let DataType::FixedSizeList(item, n) = col.field.data_type() else {
                return Err(Error::invalid(format!("column {} is not a fixed-size list", col.field.name())));
            };
            let values = primitive(t, buf, rows * count);
            Ok(Arc::new(FixedSizeListArray::try_new(item.clone(), *n, values, None).map_err(internal)?))
        }
        _ => Ok(primitive(t, buf, rows)),
    }
}

fn f64s(buf: Buffer, rows: usize) -> ArrayRef {
    primitive(DimType::F64, buf, rows)
}

/// x, y, z as float64 arrays: those of the dimension columns when there are, else new.
fn xyz(built: &[(Source, ArrayRef)], pieces: &[Piece], rows: usize) -> [ArrayRef; 3] {
    [Dimension::X, Dimension::Y, Dimension::Z].map(|d| {
        built.iter().find(|(s, _)| *s == Source::Dim(d)).map(|(_, a)| a.clone()).unwrap_or_else(|| {
            let buf = fill_bytes(pieces, 8, |p, dst| {
                let f = p.batch.format();
                write_column(&f.layout, &f.transform, None, p.records(), d, dst, 8)
            });
            f64s(buf, rows)
        })
    })
}

fn wkb(pieces: &[Piece], rows: usize) -> Result<ArrayRef> {
    let values = fill_bytes(pieces, WKB_POINT_Z, |p, dst| {
        let t = &p.batch.format().transform;
        let rl = p.batch.format().layout.record_length;
        for (r, out) in p.records().chunks_exact(rl).zip(dst.chunks_exact_mut(WKB_POINT_Z)) {
            out[0] = 1; // little-endian
            out[1..5].copy_from_slice(&1001u32.to_le_bytes());
            for a in 0..3 {
                let raw = i32::from_le_bytes([r[4 * a], r[4 * a + 1], r[4 * a + 2], r[4 * a + 3]]);
                let v = raw as f64 * t.scale[a] + t.offset[a];
                out[5 + 8 * a..13 + 8 * a].copy_from_slice(&v.to_le_bytes());
            }
        }
    });
    let offsets = OffsetBuffer::<i32>::from_lengths(std::iter::repeat_n(WKB_POINT_Z, rows));
    Ok(Arc::new(BinaryArray::try_new(offsets, values, None).map_err(internal)?))
}

fn node_i32(pieces: &[Piece], f: impl Fn(&VoxelKey) -> i32) -> ArrayRef {
    let v: Vec<i32> = pieces.iter().flat_map(|p| std::iter::repeat_n(f(&p.batch.node), p.len)).collect();
    Arc::new(PrimitiveArray::<Int32Type>::from(v))
}

fn point_index(pieces: &[Piece]) -> Vec<u32> {
    pieces.iter().flat_map(|p| (p.start..p.start + p.len).map(|i| p.batch.index_in_node(i))).collect()
}

/// The arrays of one batch, in the plan's column order.
pub(crate) fn build(
    plan: &Plan,
    pieces: &[Piece],
    rows: usize,
    node_start: &HashMap<VoxelKey, u64>,
    reader: &Reader,
) -> Result<Vec<ArrayRef>> {
    use rayon::prelude::*;
    // The dimension columns in parallel (each is one pass over the records).
    let dims: Vec<Result<(Source, ArrayRef)>> = reader.install(|| {
        plan.columns
            .par_iter()
            .filter_map(|c| match c.source {
                Source::Dim(d) => Some(dim_column(c, d, pieces, rows).map(|a| (c.source, a))),
                _ => None,
            })
            .collect()
    });
    let built: Vec<(Source, ArrayRef)> = dims.into_iter().collect::<Result<_>>()?;
    let mut out = Vec::with_capacity(plan.columns.len());
    for c in &plan.columns {
        let a: ArrayRef = match c.source {
            Source::Dim(d) => built
                .iter()
                .find(|(s, _)| *s == Source::Dim(d))
                .map(|(_, a)| a.clone())
                .ok_or_else(|| Error::invalid(format!("column {} was not built", c.field.name())))?,
            Source::GeoArrowPoint => {
                let DataType::Struct(fields) = c.field.data_type() else {
                    return Err(Error::invalid(format!("column {} is not a struct", c.field.name())));
                };
                Arc::new(StructArray::try_new(fields.clone(), xyz(&built, pieces, rows).to_vec(), None).map_err(internal)?)
            }
            Source::Wkb => wkb(pieces, rows)?,
            Source::NodeLevel => node_i32(pieces, |k| k.level),
            Source::NodeX => node_i32(pieces, |k| k.x),
            Source::NodeY => node_i32(pieces, |k| k.y),
            Source::NodeZ => node_i32(pieces, |k| k.z),
            Source::PointIndex => Arc::new(PrimitiveArray::<UInt32Type>::from(point_index(pieces))),
            Source::PointId => {
                let mut v = Vec::with_capacity(rows);
                for p in pieces {
                    let start = node_start.get(&p.batch.node).copied().ok_or_else(|| {
                        Error::invalid(format!("node {} is not among the file's data nodes", p.batch.node))
                    })?;
                    v.extend((p.start..p.start + p.len).map(|i| (start + p.batch.index_in_node(i) as u64) as i64));
                }
                Arc::new(PrimitiveArray::<Int64Type>::from(v))
            }
        };
        out.push(a);
    }
    Ok(out)
}
