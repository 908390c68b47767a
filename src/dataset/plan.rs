//! The partition planner: a query over a dataset cut into groups of nodes of one
//! file, sized by points or bytes, from headers and hierarchy pages only (no decode).
//! A [`Partition`] is plain data (JSON round trip) that a worker reads on its own.

use super::{Dataset, tile_context};
use crate::error::{Error, Result};
use crate::format::{Bounds, Dimension, VoxelKey};
use crate::reader::{PointBatch, Polygon, Query, Reader, ReaderOptions};
use serde_json::{Value, json};
use std::sync::Arc;

/// How big a partition may grow (a node is never split, so one node above the
/// target makes a partition of its own).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PlanTarget {
    Points(u64),
    Bytes(u64),
}

/// Nodes of one file a worker reads: everything it needs, nothing shared.
#[derive(Debug, Clone, PartialEq)]
pub struct Partition {
    /// The file: its resolved href, a relative local path made absolute (a worker may
    /// run in another folder).
    pub href: String,
    /// The query's region, levels and dimensions (dimension names as the file names them).
    pub bounds: Option<Bounds>,
    pub polygon: Option<Vec<Vec<Vec<[f64; 2]>>>>,
    pub resolution: Option<f64>,
    pub min_depth: Option<i32>,
    pub max_depth: Option<i32>,
    pub dims: Option<Vec<String>>,
    /// The nodes, in file order.
    pub keys: Vec<VoxelKey>,
    /// Each node's chunk: (offset, size) in the file.
    pub ranges: Vec<(u64, u64)>,
    /// Points in those nodes (exact counts from the hierarchy).
    pub node_points: u64,
    /// Points the query keeps: exact when `exact` (every node wholly inside the
    /// region), else an upper bound (`node_points`).
    pub points: u64,
    pub exact: bool,
}

impl Partition {
    /// The query this partition was planned for.
    pub fn query(&self, fmt: &crate::reader::RecordFormat) -> Result<Query> {
        let mut q = Query { bounds: self.bounds, resolution: self.resolution, min_depth: self.min_depth, max_depth: self.max_depth, ..Query::default() };
        if let Some(p) = &self.polygon {
            q.polygon = Some(Arc::new(Polygon::new(p.clone())?));
        }
        if let Some(names) = &self.dims {
            let dims: Vec<Dimension> = names
                .iter()
                .map(|n| fmt.dim_by_name(n).ok_or_else(|| Error::invalid(format!("{}: no dimension named '{n}'", self.href))))
                .collect::<Result<_>>()?;
            q.dims = Some(dims);
        }
        Ok(q)
    }

    /// Opens the file and decodes this partition's points (one batch per node).
    pub fn read(&self, opts: &ReaderOptions) -> Result<Vec<PointBatch>> {
        let r = Arc::new(Reader::open_with(&self.href, opts).map_err(|e| tile_context(&self.href, e))?);
        let q = self.query(r.record_format())?;
        r.points_of_nodes(&q, &self.keys)?.collect()
    }

    /// Opens the file and gives this partition's points as Arrow record batches
    /// (columns as [`Reader::arrow`]; what a Dask worker calls).
    pub fn arrow(&self, opts: &ReaderOptions, arrow: &crate::arrow::ArrowOptions) -> Result<crate::arrow::ArrowBatchReader<'static>> {
        let r = Arc::new(Reader::open_with(&self.href, opts).map_err(|e| tile_context(&self.href, e))?);
        let q = self.query(r.record_format())?;
        r.arrow_of_nodes(&q, arrow, &self.keys)
    }

    /// The schema [`Partition::arrow`] gives (opens the file, reads no points).
    pub fn arrow_schema(&self, opts: &ReaderOptions, arrow: &crate::arrow::ArrowOptions) -> Result<arrow_schema::SchemaRef> {
        let r = Reader::open_with(&self.href, opts).map_err(|e| tile_context(&self.href, e))?;
        r.arrow_schema(&self.query(r.record_format())?, arrow)
    }

    /// The partition as JSON (what a process pool or Dask ships to a worker).
    pub fn to_json(&self) -> Value {
        json!({
            "href": self.href,
            // [minx,miny,minz,maxx,maxy,maxz]; an infinite value (a 2-D box's Z) as null
            "bounds": self.bounds.map(|b| {
                let f = |v: f64| if v.is_finite() { json!(v) } else { Value::Null };
                vec![f(b.min[0]), f(b.min[1]), f(b.min[2]), f(b.max[0]), f(b.max[1]), f(b.max[2])]
            }),
            "polygon": self.polygon,
            "resolution": self.resolution,
            "min_depth": self.min_depth,
            "max_depth": self.max_depth,
            "dims": self.dims,
            "keys": self.keys.iter().map(|k| k.as_array()).collect::<Vec<_>>(),
            "ranges": self.ranges,
            "node_points": self.node_points,
            "points": self.points,
            "exact": self.exact,
        })
    }

    pub fn from_json(v: &Value) -> Result<Partition> {
        let bad = |k: &str| Error::invalid(format!("partition JSON: bad or missing \"{k}\""));
        let de = |k: &str| -> Result<Value> { Ok(v.get(k).cloned().unwrap_or(Value::Null)) };
        let bounds: Option<[Option<f64>; 6]> = serde_json::from_value(de("bounds")?).map_err(|_| bad("bounds"))?;
        let bounds = bounds.map(|b| {
            let lo = |i: usize| b[i].unwrap_or(f64::NEG_INFINITY);
            let hi = |i: usize| b[i].unwrap_or(f64::INFINITY);
            [[lo(0), lo(1), lo(2)], [hi(3), hi(4), hi(5)]]
        });
        let keys: Vec<[i32; 4]> = serde_json::from_value(de("keys")?).map_err(|_| bad("keys"))?;
        Ok(Partition {
            href: v.get("href").and_then(Value::as_str).ok_or_else(|| bad("href"))?.to_string(),
            bounds: bounds.map(|[a, b]| Bounds::new(a, b)),
            polygon: serde_json::from_value(de("polygon")?).map_err(|_| bad("polygon"))?,
            resolution: serde_json::from_value(de("resolution")?).map_err(|_| bad("resolution"))?,
            min_depth: serde_json::from_value(de("min_depth")?).map_err(|_| bad("min_depth"))?,
            max_depth: serde_json::from_value(de("max_depth")?).map_err(|_| bad("max_depth"))?,
            dims: serde_json::from_value(de("dims")?).map_err(|_| bad("dims"))?,
            keys: keys.into_iter().map(|[l, x, y, z]| VoxelKey::new(l, x, y, z)).collect(),
            ranges: serde_json::from_value(de("ranges")?).map_err(|_| bad("ranges"))?,
            node_points: v.get("node_points").and_then(Value::as_u64).ok_or_else(|| bad("node_points"))?,
            points: v.get("points").and_then(Value::as_u64).ok_or_else(|| bad("points"))?,
            exact: v.get("exact").and_then(Value::as_bool).ok_or_else(|| bad("exact"))?,
        })
    }
}

/// `href` as a worker in any folder finds it: URLs and absolute paths as they are, a
/// relative path joined to the current folder.
fn worker_href(href: &str) -> String {
    if href.contains("://") {
        return href.to_string();
    }
    match std::path::absolute(href) {
        Ok(p) => p.to_string_lossy().into_owned(),
        Err(_) => href.to_string(),
    }
}

impl Dataset {
    /// Cuts `q` into partitions of at most `target` (points or chunk bytes), in
    /// file order then node order. Reads headers and hierarchy pages of the files
    /// the query's region meets; decodes nothing.
    pub fn plan(&self, q: &Query, target: PlanTarget) -> Result<Vec<Partition>> {
        q.validate()?;
        let mut out = Vec::new();
        for i in self.tiles_for(q) {
            let r = self.reader(i)?;
            let fmt = r.record_format();
            let dims = q.dims.as_ref().map(|d| d.iter().map(|d| fmt.dim_name(*d)).collect::<Vec<_>>());
            let empty = Partition {
                href: worker_href(&self.items[i].href),
                bounds: q.bounds,
                polygon: q.polygon.as_ref().map(|p| p.parts().to_vec()),
                resolution: q.resolution,
                min_depth: q.min_depth,
                max_depth: q.max_depth,
                dims,
                keys: Vec::new(),
                ranges: Vec::new(),
                node_points: 0,
                points: 0,
                exact: true,
            };
            let mut cur = empty.clone();
            let mut size = 0u64;
            for n in r.nodes(q).map_err(|e| self.tile_error(i, e))? {
                let add = match target {
                    PlanTarget::Points(_) => n.point_count as u64,
                    PlanTarget::Bytes(_) => n.byte_size as u64,
                };
                let limit = match target {
                    PlanTarget::Points(p) | PlanTarget::Bytes(p) => p.max(1),
                };
                if !cur.keys.is_empty() && size + add > limit {
                    out.push(std::mem::replace(&mut cur, empty.clone()));
                    size = 0;
                }
                size += add;
                cur.keys.push(n.key);
                cur.ranges.push((n.offset, n.byte_size as u64));
                cur.node_points += n.point_count as u64;
                cur.points += n.point_count as u64;
                cur.exact &= !r.node_needs_point_test(q, &n);
            }
            if !cur.keys.is_empty() {
                out.push(cur);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::worker_href;

    #[test]
    fn worker_hrefs_are_absolute() {
        let here = std::env::current_dir().unwrap();
        assert_eq!(worker_href("tiles/a.copc.laz"), here.join("tiles/a.copc.laz").to_string_lossy());
        assert_eq!(worker_href("/d/a.copc.laz"), "/d/a.copc.laz");
        assert_eq!(worker_href("https://h/p/a.copc.laz"), "https://h/p/a.copc.laz");
        assert_eq!(worker_href("s3://b/a.copc.laz"), "s3://b/a.copc.laz");
    }
}
