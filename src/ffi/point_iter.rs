//! `copc_point_iter`: the points of a query, streamed into caller columns.

use super::column::{copc_column, fill, targets};
use super::node_iter::copc_node_key;
use super::query::{copc_query, query_or_all};
use super::reader::copc_reader;
use super::{Failure, borrow, borrow_mut, copc_status, free_box, guard, guard_value, into_raw, out_ptr};
use crate::{PointBatch, PointIter, Reader};
use std::sync::Arc;

/// The points a query selects, node after node (nodes in the file order of their
/// chunks, points in stored order). Nodes are decoded in parallel a few at a time, so
/// memory stays flat.
///
/// Thread safety: one thread at a time (it may move between threads). It keeps the
/// file open: it may outlive its reader.
pub struct copc_point_iter {
    // Declared before `reader`, so dropped first: it borrows from it.
    iter: PointIter<'static>,
    batch: Option<PointBatch>,
    /// Points of `batch` already delivered.
    pos: usize,
    mask: Option<u64>,
    /// An error met after a read had already filled points: returned by the next read
    /// (and every one after it).
    failed: Option<Failure>,
    reader: Arc<Reader>,
}

/// Starts streaming the points `q` selects (NULL: all points, all dimensions). Only
/// the hierarchy is read here; chunks are read and decoded by `copc_point_iter_read`.
/// Free the iterator with `copc_point_iter_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_reader_query_points(
    r: *mut copc_reader,
    q: *const copc_query,
    out: *mut *mut copc_point_iter,
) -> copc_status {
    guard("copc_reader_query_points", || {
        let r = unsafe { borrow(r as *const copc_reader, "r")? };
        let out = out_ptr(out, "out")?;
        let reader = r.reader.clone();
        let (query, mask) = unsafe { query_or_all(q, reader.record_format()) };
        // SAFETY: the Reader lives in an Arc that the iterator holds (`reader`) and
        // drops after `iter` (field order), so the borrow never dangles.
        let borrowed: &'static Reader = unsafe { &*Arc::as_ptr(&reader) };
        let iter = borrowed.points(&query)?;
        unsafe {
            *out = into_raw(copc_point_iter {
                iter,
                batch: None,
                pos: 0,
                mask,
                failed: None,
                reader,
            })
        };
        Ok(())
    })
}

/// Fills the columns with up to `capacity` next points and sets `*out_count` to how
/// many it wrote; 0 means the iteration is over. Columns must name dimensions of the
/// query's mask (all when it has none); `ncols` may be 0 (`cols` NULL) to only count.
/// When decoding fails, the call returns the error and writes nothing (if some points
/// were already filled, it returns them first and the error on the next call); after
/// an error the iterator only returns that error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_point_iter_read(
    it: *mut copc_point_iter,
    cols: *const copc_column,
    ncols: usize,
    capacity: usize,
    out_count: *mut usize,
) -> copc_status {
    guard("copc_point_iter_read", || {
        let it = unsafe { borrow_mut(it, "it")? };
        let out_count = out_ptr(out_count, "out_count")?;
        let targets = unsafe { targets(cols, ncols, capacity, it.reader.record_format(), it.mask)? };
        if let Some(f) = &it.failed {
            return Err(f.clone());
        }
        let mut filled = 0usize;
        while filled < capacity {
            let left = it.batch.as_ref().map(|b| b.len() - it.pos).unwrap_or(0);
            if left == 0 {
                match it.iter.next() {
                    None => break,
                    Some(Ok(b)) => {
                        it.batch = Some(b);
                        it.pos = 0;
                        continue;
                    }
                    Some(Err(e)) => {
                        let f = Failure::from(e);
                        it.failed = Some(f.clone());
                        it.batch = None;
                        if filled == 0 {
                            return Err(f);
                        }
                        break;
                    }
                }
            }
            let n = left.min(capacity - filled);
            if let Some(b) = &it.batch {
                unsafe { fill(&targets, b, it.pos, n, filled)? };
            }
            it.pos += n;
            filled += n;
        }
        unsafe { *out_count = filled };
        Ok(())
    })
}

/// Like `copc_point_iter_read`, but one call never mixes nodes: it fills up to
/// `capacity` next points of the current node, writes that node's key to `*out_node`
/// and, when `out_index` is not NULL (it then holds `capacity` values), each point's
/// position in the node's chunk to `out_index[k]`. A node key and a position name a
/// point for good, whatever the query (stable feature ids; `copc_reader_read_node`
/// finds it again). `*out_count` 0 means the iteration is over (`*out_node` is then
/// left alone).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_point_iter_read_node(
    it: *mut copc_point_iter,
    cols: *const copc_column,
    ncols: usize,
    capacity: usize,
    out_node: *mut copc_node_key,
    out_index: *mut u32,
    out_count: *mut usize,
) -> copc_status {
    guard("copc_point_iter_read_node", || {
        let it = unsafe { borrow_mut(it, "it")? };
        let out_node = out_ptr(out_node, "out_node")?;
        let out_count = out_ptr(out_count, "out_count")?;
        let targets = unsafe { targets(cols, ncols, capacity, it.reader.record_format(), it.mask)? };
        if let Some(f) = &it.failed {
            return Err(f.clone());
        }
        // Skip to a batch with points left (nodes whose points the region all dropped
        // give empty batches).
        while it.batch.as_ref().is_none_or(|b| it.pos >= b.len()) {
            match it.iter.next() {
                None => {
                    unsafe { *out_count = 0 };
                    return Ok(());
                }
                Some(Ok(b)) => {
                    it.batch = Some(b);
                    it.pos = 0;
                }
                Some(Err(e)) => {
                    let f = Failure::from(e);
                    it.failed = Some(f.clone());
                    it.batch = None;
                    return Err(f);
                }
            }
        }
        let Some(b) = &it.batch else { return Err(Failure::invalid("no batch")) };
        let n = (b.len() - it.pos).min(capacity);
        unsafe { fill(&targets, b, it.pos, n, 0)? };
        if !out_index.is_null() {
            // SAFETY: the caller's array holds `capacity` >= n values (documented).
            let idx = unsafe { std::slice::from_raw_parts_mut(out_index, n) };
            for (k, slot) in idx.iter_mut().enumerate() {
                *slot = b.index_in_node(it.pos + k);
            }
        }
        let k = b.node;
        unsafe {
            *out_node = copc_node_key { level: k.level, x: k.x, y: k.y, z: k.z };
            *out_count = n;
        }
        it.pos += n;
        Ok(())
    })
}

/// Frees a point iterator; NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_point_iter_free(it: *mut copc_point_iter) {
    guard_value("copc_point_iter_free", (), || unsafe { free_box(it) })
}
