//! `copc_node_iter`: the hierarchy nodes a query selects.

use super::query::{copc_query, query_or_all};
use super::reader::copc_reader;
use super::{borrow, borrow_mut, copc_status, free_box, guard, guard_value, into_raw, out_ptr};
use crate::Node;

/// An octree node key: level (root = 0) and position x, y, z in `0..2^level`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct copc_node_key {
    pub level: i32,
    pub x: i32,
    pub y: i32,
    pub z: i32,
}

/// A node with points, as the hierarchy describes it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct copc_node {
    pub key: copc_node_key,
    /// File offset and size of the node's compressed chunk.
    pub offset: u64,
    pub byte_size: i32,
    /// Points in the node (all of them, whatever the query's box).
    pub point_count: i64,
    /// The node's cube (from the info VLR's center and halfsize).
    pub min: [f64; 3],
    pub max: [f64; 3],
}

impl From<&Node> for copc_node {
    fn from(n: &Node) -> copc_node {
        copc_node {
            key: copc_node_key {
                level: n.key.level,
                x: n.key.x,
                y: n.key.y,
                z: n.key.z,
            },
            offset: n.offset,
            byte_size: n.byte_size,
            point_count: n.point_count as i64,
            min: n.bounds.min,
            max: n.bounds.max,
        }
    }
}

/// The nodes a query selected, in the file order of their chunks.
///
/// Thread safety: one thread at a time (it may move between threads). It does not
/// need the reader once made.
pub struct copc_node_iter {
    nodes: Vec<Node>,
    next: usize,
}

/// Lists the nodes with points that `q` selects (NULL: every node): those whose cube
/// meets the box, within the resolution and depth limits. Loads only the hierarchy
/// pages that can hold such nodes. Free the iterator with `copc_node_iter_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_reader_nodes(
    r: *mut copc_reader,
    q: *const copc_query,
    out: *mut *mut copc_node_iter,
) -> copc_status {
    guard("copc_reader_nodes", || {
        let r = unsafe { borrow(r as *const copc_reader, "r")? };
        let out = out_ptr(out, "out")?;
        let (query, _) = unsafe { query_or_all(q, r.reader.record_format()) };
        let nodes = r.reader.nodes(&query)?;
        unsafe { *out = into_raw(copc_node_iter { nodes, next: 0 }) };
        Ok(())
    })
}

/// Gives the next node in `*out` and sets `*out_has` to true, or sets `*out_has` to
/// false (and leaves `*out` alone) when there are no more.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_node_iter_next(
    it: *mut copc_node_iter,
    out: *mut copc_node,
    out_has: *mut bool,
) -> copc_status {
    guard("copc_node_iter_next", || {
        let it = unsafe { borrow_mut(it, "it")? };
        let out = out_ptr(out, "out")?;
        let out_has = out_ptr(out_has, "out_has")?;
        match it.nodes.get(it.next) {
            Some(n) => {
                it.next += 1;
                unsafe {
                    *out = copc_node::from(n);
                    *out_has = true;
                }
            }
            None => unsafe { *out_has = false },
        }
        Ok(())
    })
}

/// Number of nodes the iterator holds in all (consumed or not).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_node_iter_len(it: *const copc_node_iter, out: *mut usize) -> copc_status {
    guard("copc_node_iter_len", || {
        let it = unsafe { borrow(it, "it")? };
        let out = out_ptr(out, "out")?;
        unsafe { *out = it.nodes.len() };
        Ok(())
    })
}

/// Frees a node iterator; NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_node_iter_free(it: *mut copc_node_iter) {
    guard_value("copc_node_iter_free", (), || unsafe { free_box(it) })
}
