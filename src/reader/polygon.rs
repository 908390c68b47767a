//! 2-D (multi)polygons for exact polygon queries, from WKT or GeoJSON.

use crate::error::{Error, Result};
use crate::format::Bounds;

/// One or more polygons, each an outer ring and holes, in X/Y. A point on an edge
/// counts as inside (as box edges do).
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon {
    /// polygons -> rings (outer first) -> vertices
    parts: Vec<Vec<Vec<[f64; 2]>>>,
    bbox: Bounds,
}

impl Polygon {
    pub fn new(parts: Vec<Vec<Vec<[f64; 2]>>>) -> Result<Polygon> {
        let mut min = [f64::INFINITY; 3];
        let mut max = [f64::NEG_INFINITY; 3];
        for ring in parts.iter().flatten() {
            if ring.len() < 3 {
                return Err(Error::invalid(format!("polygon ring with {} vertices (need at least 3)", ring.len())));
            }
            for p in ring {
                if !p[0].is_finite() || !p[1].is_finite() {
                    return Err(Error::invalid("polygon vertex is not a finite number"));
                }
                for i in 0..2 {
                    min[i] = min[i].min(p[i]);
                    max[i] = max[i].max(p[i]);
                }
            }
        }
        if parts.is_empty() || parts.iter().any(|p| p.is_empty()) {
            return Err(Error::invalid("polygon is empty"));
        }
        Ok(Polygon { parts, bbox: Bounds::new(min, max).tap_z() })
    }

    /// Parses WKT (POLYGON, MULTIPOLYGON) or GeoJSON (Polygon, MultiPolygon, Feature,
    /// FeatureCollection of those), telling them apart by the first character.
    pub fn parse(text: &str) -> Result<Polygon> {
        let t = text.trim_start();
        if t.starts_with('{') { Self::from_geojson(t) } else { Self::from_wkt(t) }
    }

    pub fn from_wkt(text: &str) -> Result<Polygon> {
        let w: wkt::Wkt<f64> = text.trim().parse().map_err(|e| Error::invalid(format!("polygon WKT: {e}")))?;
        let ring = |r: &wkt::types::LineString<f64>| r.coords().iter().map(|c| [c.x, c.y]).collect::<Vec<_>>();
        let poly = |p: &wkt::types::Polygon<f64>| p.rings().iter().map(ring).collect::<Vec<_>>();
        match w {
            wkt::Wkt::Polygon(p) => Self::new(vec![poly(&p)]),
            wkt::Wkt::MultiPolygon(m) => Self::new(m.polygons().iter().map(poly).collect()),
            _ => Err(Error::invalid("polygon WKT must be a POLYGON or MULTIPOLYGON")),
        }
    }

    pub fn from_geojson(text: &str) -> Result<Polygon> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| Error::invalid(format!("polygon GeoJSON: {e}")))?;
        let mut parts = Vec::new();
        collect_geojson(&v, &mut parts)?;
        Self::new(parts)
    }

    /// The polygon's X/Y extent (Z unbounded).
    pub fn bbox(&self) -> Bounds {
        self.bbox
    }

    pub fn contains(&self, x: f64, y: f64) -> bool {
        if x < self.bbox.min[0] || x > self.bbox.max[0] || y < self.bbox.min[1] || y > self.bbox.max[1] {
            return false;
        }
        self.parts.iter().any(|rings| {
            let mut rings = rings.iter();
            let Some(outer) = rings.next() else { return false };
            match ring_side(outer, x, y) {
                Side::Outside => false,
                Side::Edge => true,
                Side::Inside => rings.all(|hole| ring_side(hole, x, y) != Side::Inside),
            }
        })
    }
}

trait TapZ {
    fn tap_z(self) -> Self;
}
impl TapZ for Bounds {
    /// A 2-D shape spans every height.
    fn tap_z(mut self) -> Self {
        self.min[2] = f64::NEG_INFINITY;
        self.max[2] = f64::INFINITY;
        self
    }
}

#[derive(PartialEq, Eq)]
enum Side {
    Inside,
    Outside,
    Edge,
}

/// Even-odd crossing test with an exact on-edge check.
fn ring_side(ring: &[[f64; 2]], x: f64, y: f64) -> Side {
    let mut inside = false;
    let n = ring.len();
    for i in 0..n {
        let a = ring[i];
        let b = ring[(i + 1) % n];
        // on the segment a-b?
        let cross = (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]);
        if cross == 0.0 && x >= a[0].min(b[0]) && x <= a[0].max(b[0]) && y >= a[1].min(b[1]) && y <= a[1].max(b[1]) {
            return Side::Edge;
        }
        if (a[1] > y) != (b[1] > y) {
            let xi = a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]);
            if x < xi {
                inside = !inside;
            }
        }
    }
    if inside { Side::Inside } else { Side::Outside }
}

fn collect_geojson(v: &serde_json::Value, parts: &mut Vec<Vec<Vec<[f64; 2]>>>) -> Result<()> {
    let bad = |m: &str| Error::invalid(format!("polygon GeoJSON: {m}"));
    let ring = |r: &serde_json::Value| -> Result<Vec<[f64; 2]>> {
        r.as_array()
            .ok_or_else(|| bad("a ring is not an array"))?
            .iter()
            .map(|p| {
                let c = p.as_array().filter(|c| c.len() >= 2).ok_or_else(|| bad("a position needs x and y"))?;
                Ok([c[0].as_f64().ok_or_else(|| bad("x is not a number"))?, c[1].as_f64().ok_or_else(|| bad("y is not a number"))?])
            })
            .collect()
    };
    let polygon = |c: &serde_json::Value| -> Result<Vec<Vec<[f64; 2]>>> {
        c.as_array().ok_or_else(|| bad("polygon coordinates are not an array"))?.iter().map(ring).collect()
    };
    match v.get("type").and_then(|t| t.as_str()) {
        Some("Polygon") => parts.push(polygon(&v["coordinates"])?),
        Some("MultiPolygon") => {
            for p in v["coordinates"].as_array().ok_or_else(|| bad("coordinates are not an array"))? {
                parts.push(polygon(p)?);
            }
        }
        Some("Feature") => collect_geojson(&v["geometry"], parts)?,
        Some("FeatureCollection") => {
            for f in v["features"].as_array().ok_or_else(|| bad("features are not an array"))? {
                collect_geojson(f, parts)?;
            }
        }
        Some(t) => return Err(bad(&format!("type {t} is not a Polygon, MultiPolygon, Feature or FeatureCollection"))),
        None => return Err(bad("no \"type\"")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_with_hole() {
        let p = Polygon::parse("POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (4 4, 6 4, 6 6, 4 6, 4 4))").unwrap();
        assert!(p.contains(1.0, 1.0));
        assert!(!p.contains(5.0, 5.0), "in the hole");
        assert!(p.contains(4.0, 5.0), "on the hole's edge");
        assert!(p.contains(10.0, 3.0), "on the outer edge");
        assert!(p.contains(0.0, 0.0), "a vertex");
        assert!(!p.contains(10.0001, 3.0));
        assert!(!p.contains(-1.0, 5.0));
        assert_eq!(p.bbox().min[..2], [0.0, 0.0]);
        assert_eq!(p.bbox().max[..2], [10.0, 10.0]);
    }

    #[test]
    fn concave_multipolygon_and_geojson() {
        // an L shape and a far square
        let wkt = "MULTIPOLYGON (((0 0, 4 0, 4 1, 1 1, 1 4, 0 4, 0 0)), ((10 10, 11 10, 11 11, 10 11, 10 10)))";
        let a = Polygon::parse(wkt).unwrap();
        let gj = r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,1],[1,1],[1,4],[0,4],[0,0]]]}},
            {"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[10,10],[11,10],[11,11],[10,11],[10,10]]]]}}]}"#;
        let b = Polygon::parse(gj).unwrap();
        for (x, y, inside) in [(0.5, 3.0, true), (3.0, 0.5, true), (3.0, 3.0, false), (10.5, 10.5, true), (7.0, 7.0, false), (1.0, 2.5, true)] {
            assert_eq!(a.contains(x, y), inside, "wkt {x},{y}");
            assert_eq!(b.contains(x, y), inside, "geojson {x},{y}");
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(Polygon::parse("POINT (1 2)").is_err());
        assert!(Polygon::parse("POLYGON ((0 0, 1 1))").is_err());
        assert!(Polygon::parse("{\"type\": \"Point\", \"coordinates\": [1, 2]}").is_err());
        assert!(Polygon::parse("not wkt").is_err());
        assert!(Polygon::parse("{").is_err());
    }
}
