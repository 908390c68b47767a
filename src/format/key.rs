//! Octree keys and cubes (EPT conventions, as COPC uses them).

use std::fmt;

/// An octree node: level `level` (root = 0) and grid position x, y, z in `0..2^level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct VoxelKey {
    pub level: i32,
    pub x: i32,
    pub y: i32,
    pub z: i32,
}

impl VoxelKey {
    pub const ROOT: VoxelKey = VoxelKey { level: 0, x: 0, y: 0, z: 0 };

    pub fn new(level: i32, x: i32, y: i32, z: i32) -> Self {
        VoxelKey { level, x, y, z }
    }

    /// Child `i` (0..8): bit 0 is x, bit 1 is y, bit 2 is z.
    pub fn child(&self, i: u8) -> VoxelKey {
        VoxelKey {
            level: self.level + 1,
            x: 2 * self.x + (i & 1) as i32,
            y: 2 * self.y + ((i >> 1) & 1) as i32,
            z: 2 * self.z + ((i >> 2) & 1) as i32,
        }
    }

    pub fn parent(&self) -> Option<VoxelKey> {
        (self.level > 0).then(|| VoxelKey { level: self.level - 1, x: self.x >> 1, y: self.y >> 1, z: self.z >> 1 })
    }

    /// True when the key is a valid position of its level (0 <= x,y,z < 2^level).
    pub fn is_valid(&self) -> bool {
        if !(0..=30).contains(&self.level) {
            return false;
        }
        let n = 1i64 << self.level;
        [self.x, self.y, self.z].iter().all(|&c| c >= 0 && (c as i64) < n)
    }

    pub fn as_array(&self) -> [i32; 4] {
        [self.level, self.x, self.y, self.z]
    }
}

impl fmt::Display for VoxelKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}-{}", self.level, self.x, self.y, self.z)
    }
}

/// An axis-aligned box; min and max are inclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub min: [f64; 3],
    pub max: [f64; 3],
}

impl Bounds {
    pub fn new(min: [f64; 3], max: [f64; 3]) -> Self {
        Bounds { min, max }
    }

    /// A 2-D box: Z unbounded.
    pub fn xy(minx: f64, miny: f64, maxx: f64, maxy: f64) -> Self {
        Bounds { min: [minx, miny, f64::NEG_INFINITY], max: [maxx, maxy, f64::INFINITY] }
    }

    pub fn intersects(&self, other: &Bounds) -> bool {
        (0..3).all(|i| self.min[i] <= other.max[i] && other.min[i] <= self.max[i])
    }

    #[inline]
    pub fn contains_point(&self, x: f64, y: f64, z: f64) -> bool {
        x >= self.min[0] && x <= self.max[0] && y >= self.min[1] && y <= self.max[1] && z >= self.min[2] && z <= self.max[2]
    }

    pub fn is_valid(&self) -> bool {
        (0..3).all(|i| !self.min[i].is_nan() && !self.max[i].is_nan() && self.min[i] <= self.max[i])
    }
}

/// The octree's root cube: center ± halfsize on all three axes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cube {
    pub center: [f64; 3],
    pub halfsize: f64,
}

impl Cube {
    /// The cube of node `key`: side 2·halfsize/2^level, min corner = center − halfsize + xyz·side.
    pub fn node_bounds(&self, key: &VoxelKey) -> Bounds {
        let side = 2.0 * self.halfsize / (1u64 << key.level.clamp(0, 62)) as f64;
        let origin = [self.center[0] - self.halfsize, self.center[1] - self.halfsize, self.center[2] - self.halfsize];
        let k = [key.x, key.y, key.z];
        let mut min = [0.0; 3];
        let mut max = [0.0; 3];
        for i in 0..3 {
            min[i] = origin[i] + k[i] as f64 * side;
            max[i] = origin[i] + (k[i] as f64 + 1.0) * side;
        }
        Bounds { min, max }
    }
}

/// The exclusive depth limit of a resolution query, as PDAL and laspy compute it:
/// the levels whose spacing is coarser than `resolution`, plus the first finer one.
pub fn depth_end_for_resolution(spacing: f64, resolution: f64) -> i32 {
    if !resolution.is_finite() || resolution <= 0.0 || spacing.is_nan() || spacing <= 0.0 {
        return i32::MAX;
    }
    let d = (spacing / resolution).log2().ceil() + 1.0;
    if d.is_nan() || d < 1.0 { 1 } else if d > 64.0 { 64 } else { d as i32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_and_parent_round_trip() {
        let k = VoxelKey::new(3, 5, 2, 7);
        for i in 0..8 {
            let c = k.child(i);
            assert_eq!(c.level, 4);
            assert_eq!(c.parent(), Some(k));
            assert_eq!(c.x, 10 + (i & 1) as i32);
            assert_eq!(c.z, 14 + ((i >> 2) & 1) as i32);
        }
        assert_eq!(VoxelKey::ROOT.parent(), None);
    }

    #[test]
    fn key_validity() {
        assert!(VoxelKey::new(0, 0, 0, 0).is_valid());
        assert!(!VoxelKey::new(0, 1, 0, 0).is_valid());
        assert!(VoxelKey::new(2, 3, 3, 3).is_valid());
        assert!(!VoxelKey::new(2, 4, 0, 0).is_valid());
        assert!(!VoxelKey::new(-1, 0, 0, 0).is_valid());
        assert!(!VoxelKey::new(1, -1, 0, 0).is_valid());
    }

    #[test]
    fn node_cubes_tile_the_root() {
        let cube = Cube { center: [10.0, 20.0, 30.0], halfsize: 8.0 };
        let root = cube.node_bounds(&VoxelKey::ROOT);
        assert_eq!(root.min, [2.0, 12.0, 22.0]);
        assert_eq!(root.max, [18.0, 28.0, 38.0]);
        let b = cube.node_bounds(&VoxelKey::new(2, 1, 3, 0));
        assert_eq!(b.min, [6.0, 24.0, 22.0]);
        assert_eq!(b.max, [10.0, 28.0, 26.0]);
        // the 8 children of the root share its corners
        let c7 = cube.node_bounds(&VoxelKey::ROOT.child(7));
        assert_eq!(c7.max, root.max);
        assert_eq!(c7.min, [10.0, 20.0, 30.0]);
    }

    #[test]
    fn resolution_to_depth_matches_pdal_rule() {
        // spacing 10: resolution 10 -> levels 0 (spacing 10 is not > 10) plus the next: end 1
        assert_eq!(depth_end_for_resolution(10.0, 10.0), 1);
        assert_eq!(depth_end_for_resolution(10.0, 5.0), 2);
        assert_eq!(depth_end_for_resolution(10.0, 4.9), 3);
        assert_eq!(depth_end_for_resolution(10.0, 1.0), 5); // log2(10)=3.32 -> 4, +1
        assert_eq!(depth_end_for_resolution(10.0, 100.0), 1); // coarser than root: root only
        assert_eq!(depth_end_for_resolution(10.0, 0.0), i32::MAX);
    }

    #[test]
    fn bounds_edges_are_inclusive() {
        let b = Bounds::new([0.0, 0.0, 0.0], [1.0, 1.0, 1.0]);
        assert!(b.contains_point(1.0, 0.0, 1.0));
        assert!(!b.contains_point(1.0000001, 0.0, 0.0));
        assert!(b.intersects(&Bounds::new([1.0, 1.0, 1.0], [2.0, 2.0, 2.0])));
        assert!(!b.intersects(&Bounds::new([1.5, 0.0, 0.0], [2.0, 2.0, 2.0])));
        assert!(Bounds::xy(0.0, 0.0, 1.0, 1.0).contains_point(0.5, 0.5, 1e300));
    }
}
