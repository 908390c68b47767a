//! What a query asks for: a region, a level of detail, and the dimensions to decode.

use crate::format::key::depth_end_for_resolution;
use super::polygon::Polygon;
use crate::format::{Bounds, Cube, Dimension, VoxelKey};
use std::sync::Arc;

/// A query: every part optional, all parts combined.
///
/// * `bounds`: points inside the box (edges inclusive). A 2-D box has infinite Z.
/// * `polygon`: points inside a 2-D (multi)polygon (edges inclusive, holes excluded).
/// * `resolution`: the levels whose spacing is coarser than this, plus the first
///   finer one (the PDAL/laspy rule).
/// * `max_depth` / `min_depth`: inclusive level limits.
/// * `dims`: the dimensions to decode (None = all); LAZ layers not needed for them
///   (or for the box test) are never decompressed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub bounds: Option<Bounds>,
    pub polygon: Option<Arc<Polygon>>,
    pub resolution: Option<f64>,
    pub max_depth: Option<i32>,
    pub min_depth: Option<i32>,
    pub dims: Option<Vec<Dimension>>,
}

impl Query {
    pub fn new() -> Query {
        Query::default()
    }

    pub fn bounds(mut self, b: Bounds) -> Self {
        self.bounds = Some(b);
        self
    }

    pub fn polygon(mut self, p: Polygon) -> Self {
        self.polygon = Some(Arc::new(p));
        self
    }

    pub fn resolution(mut self, r: f64) -> Self {
        self.resolution = Some(r);
        self
    }

    pub fn max_depth(mut self, d: i32) -> Self {
        self.max_depth = Some(d);
        self
    }

    pub fn min_depth(mut self, d: i32) -> Self {
        self.min_depth = Some(d);
        self
    }

    pub fn dims(mut self, dims: impl Into<Vec<Dimension>>) -> Self {
        self.dims = Some(dims.into());
        self
    }

    /// Checks the query's own values.
    pub fn validate(&self) -> crate::Result<()> {
        if let Some(b) = &self.bounds {
            if !b.is_valid() {
                return Err(crate::Error::invalid(format!("bounds {:?}..{:?}: min must not exceed max", b.min, b.max)));
            }
        }
        if let Some(r) = self.resolution {
            if !r.is_finite() || r <= 0.0 {
                return Err(crate::Error::invalid(format!("resolution {r} must be a positive number")));
            }
        }
        if let Some(d) = self.max_depth {
            if d < 0 {
                return Err(crate::Error::invalid(format!("max depth {d} must be >= 0")));
            }
        }
        Ok(())
    }

    /// The first level this query does not reach (exclusive).
    pub fn depth_end(&self, spacing: f64) -> i32 {
        let mut end = i32::MAX;
        if let Some(r) = self.resolution {
            end = end.min(depth_end_for_resolution(spacing, r));
        }
        if let Some(d) = self.max_depth {
            end = end.min(d.saturating_add(1));
        }
        end
    }

    /// Whether the subtree of `key` (in `cube`) can hold matching points.
    pub fn reaches(&self, key: &VoxelKey, cube: &Cube, depth_end: i32) -> bool {
        if key.level >= depth_end {
            return false;
        }
        let node = cube.node_bounds(key);
        self.bounds.is_none_or(|b| b.intersects(&node)) && self.polygon.as_ref().is_none_or(|p| p.bbox().intersects(&node))
    }

    /// Whether every point must be tested (a region that does not contain the
    /// node's cube, widened by `slack` since points may sit that far outside it).
    pub fn needs_point_test(&self, node: &Bounds, slack: [f64; 3]) -> bool {
        let inside = |b: &Bounds| (0..3).all(|i| b.min[i] <= node.min[i] - slack[i] && node.max[i] + slack[i] <= b.max[i]);
        self.polygon.is_some() || self.bounds.is_some_and(|b| !inside(&b))
    }

    /// Keeps the point if it passes the box and the polygon.
    #[inline]
    pub fn keeps(&self, x: f64, y: f64, z: f64) -> bool {
        self.bounds.is_none_or(|b| b.contains_point(x, y, z)) && self.polygon.as_ref().is_none_or(|p| p.contains(x, y))
    }

    /// Whether the points of node `key` are candidates (level range and region).
    pub fn selects(&self, key: &VoxelKey, cube: &Cube, depth_end: i32) -> bool {
        key.level >= self.min_depth.unwrap_or(0) && self.reaches(key, cube, depth_end)
    }
}
