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

    /// Parses WKT/EWKT (POLYGON, MULTIPOLYGON) or GeoJSON (Polygon, MultiPolygon,
    /// GeometryCollection, Feature, FeatureCollection of those), telling them apart
    /// by the first character. Z and M values are read and ignored: the filter is 2-D.
    pub fn parse(text: &str) -> Result<Polygon> {
        let t = text.trim_start_matches('\u{feff}').trim();
        if t.starts_with('{') { Self::from_geojson(t) } else { Self::from_wkt(t) }
    }

    /// WKT as GDAL/OGR, PDAL and PostGIS write it: `POLYGON`, `MULTIPOLYGON`, with a
    /// `Z`, `M` or `ZM` tag or untagged 3-/4-number vertices (OGC 1.1 style 2.5-D),
    /// and an optional EWKT `SRID=n;` prefix.
    pub fn from_wkt(text: &str) -> Result<Polygon> {
        wkt_parse(text.trim_start_matches('\u{feff}').trim()).map_err(|m| Error::invalid(format!("polygon WKT: {m}")))
    }

    pub fn from_geojson(text: &str) -> Result<Polygon> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| Error::invalid(format!("polygon GeoJSON: {e}")))?;
        let mut parts = Vec::new();
        collect_geojson(&v, &mut parts)?;
        Self::new(parts)
    }

    /// The polygon's X/Y extent (Z unbounded).
    /// The polygons: each an outer ring then its holes, as given (for serialising a query).
    pub fn parts(&self) -> &[Vec<Vec<[f64; 2]>>] {
        &self.parts
    }

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

/// The geometry types WKT names, for errors that say what a non-polygon input is.
const OTHER_WKT_TYPES: &[&str] = &[
    "POINT",
    "LINESTRING",
    "MULTIPOINT",
    "MULTILINESTRING",
    "GEOMETRYCOLLECTION",
    "CIRCULARSTRING",
    "COMPOUNDCURVE",
    "CURVEPOLYGON",
    "MULTICURVE",
    "MULTISURFACE",
    "POLYHEDRALSURFACE",
    "TRIANGLE",
    "TIN",
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok<'a> {
    Open,
    Close,
    Comma,
    Word(&'a str),
}

/// WKT tokens with their byte offsets: parentheses, commas and words (numbers are
/// words too; they are parsed where a number is expected).
fn wkt_tokens(text: &str) -> Vec<(usize, Tok<'_>)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let single = match c {
            '(' => Some(Tok::Open),
            ')' => Some(Tok::Close),
            ',' => Some(Tok::Comma),
            _ => None,
        };
        if single.is_some() || c.is_whitespace() {
            if let Some(s) = start.take() {
                out.push((s, Tok::Word(&text[s..i])));
            }
            if let Some(t) = single {
                out.push((i, t));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, Tok::Word(&text[s..])));
    }
    out
}

struct WktParser<'a> {
    toks: Vec<(usize, Tok<'a>)>,
    at: usize,
    /// Numbers per vertex: from the Z/M/ZM tag, else from the first vertex.
    dims: Option<usize>,
    end: usize,
}

impl<'a> WktParser<'a> {
    fn peek(&self) -> Option<Tok<'a>> {
        self.toks.get(self.at).map(|t| t.1)
    }
    fn pos(&self) -> usize {
        self.toks.get(self.at).map_or(self.end, |t| t.0)
    }
    fn describe(t: Option<Tok<'_>>) -> String {
        match t {
            None => "the end of the text".into(),
            Some(Tok::Open) => "'('".into(),
            Some(Tok::Close) => "')'".into(),
            Some(Tok::Comma) => "','".into(),
            Some(Tok::Word(w)) => format!("'{}'", w.chars().take(40).collect::<String>()),
        }
    }
    fn expect(&mut self, want: Tok<'_>, what: &str) -> std::result::Result<(), String> {
        if self.peek() == Some(want) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!("expected {what} at byte {}, found {}", self.pos(), Self::describe(self.peek())))
        }
    }

    /// `( x y [z [m]], ... )`
    fn ring(&mut self) -> std::result::Result<Vec<[f64; 2]>, String> {
        self.expect(Tok::Open, "'(' opening a ring")?;
        let mut ring = Vec::new();
        loop {
            let at = self.pos();
            let mut v = Vec::with_capacity(4);
            while let Some(Tok::Word(w)) = self.peek() {
                let x: f64 = w.parse().map_err(|_| format!("'{w}' at byte {} is not a number", self.pos()))?;
                v.push(x);
                self.at += 1;
            }
            if !(2..=4).contains(&v.len()) {
                return Err(format!("vertex at byte {at} has {} numbers (expected 2 to 4: x y [z [m]])", v.len()));
            }
            match self.dims {
                None => self.dims = Some(v.len()),
                Some(d) if d != v.len() => {
                    return Err(format!("vertex at byte {at} has {} numbers but the polygon's vertices have {d}", v.len()));
                }
                Some(_) => {}
            }
            ring.push([v[0], v[1]]);
            match self.peek() {
                Some(Tok::Comma) => self.at += 1,
                _ => break,
            }
        }
        self.expect(Tok::Close, "',' or ')' after a vertex")?;
        Ok(ring)
    }

    /// `( ring, ... )`
    fn polygon(&mut self) -> std::result::Result<Vec<Vec<[f64; 2]>>, String> {
        self.expect(Tok::Open, "'(' opening a polygon")?;
        let mut rings = vec![self.ring()?];
        while self.peek() == Some(Tok::Comma) {
            self.at += 1;
            rings.push(self.ring()?);
        }
        self.expect(Tok::Close, "',' or ')' after a ring")?;
        Ok(rings)
    }
}

/// Splits a geometry tag such as `POLYGON`, `POLYGONZ` or `MULTIPOLYGONZM` into the
/// type and the numbers per vertex its suffix implies.
fn split_tag(word: &str) -> (String, Option<usize>) {
    let w = word.to_ascii_uppercase();
    for (suffix, dims) in [("ZM", 4), ("Z", 3), ("M", 3)] {
        if let Some(base) = w.strip_suffix(suffix) {
            if base == "POLYGON" || base == "MULTIPOLYGON" || OTHER_WKT_TYPES.contains(&base) {
                return (base.to_string(), Some(dims));
            }
        }
    }
    (w, None)
}

fn wkt_parse(text: &str) -> std::result::Result<Polygon, String> {
    // EWKT (PostGIS): "SRID=4326;POLYGON ((...))"; the SRID does not change the vertices
    let mut body = text;
    if body.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("SRID=")) {
        let semi = body.find(';').ok_or("an EWKT 'SRID=' prefix without the ';' that ends it")?;
        let srid = body[5..semi].trim();
        if srid.parse::<i64>().is_err() {
            return Err(format!("EWKT SRID '{srid}' is not an integer"));
        }
        body = body[semi + 1..].trim_start();
    }
    let offset = text.len() - body.len();
    let mut p = WktParser { toks: wkt_tokens(body), at: 0, dims: None, end: body.len() };
    for t in &mut p.toks {
        t.0 += offset;
    }
    p.end += offset;
    let Some(Tok::Word(tag)) = p.peek() else {
        return Err(format!("expected a geometry type such as POLYGON, found {}", WktParser::describe(p.peek())));
    };
    p.at += 1;
    let (kind, mut dims) = split_tag(tag);
    if dims.is_none() {
        if let Some(Tok::Word(w)) = p.peek() {
            dims = match w.to_ascii_uppercase().as_str() {
                "Z" | "M" => Some(3),
                "ZM" => Some(4),
                _ => None,
            };
            if dims.is_some() {
                p.at += 1;
            }
        }
    }
    let multi = match kind.as_str() {
        "POLYGON" => false,
        "MULTIPOLYGON" => true,
        k if OTHER_WKT_TYPES.contains(&k) => return Err(format!("the geometry is a {k}, not a POLYGON or MULTIPOLYGON")),
        _ => return Err(format!("'{}' is not a WKT geometry type (expected POLYGON or MULTIPOLYGON)", tag.chars().take(40).collect::<String>())),
    };
    p.dims = dims;
    if let Some(Tok::Word(w)) = p.peek() {
        if w.eq_ignore_ascii_case("EMPTY") {
            return Err(format!("the geometry is an empty {kind}"));
        }
    }
    let parts = if multi {
        p.expect(Tok::Open, "'(' opening the MULTIPOLYGON")?;
        let mut parts = vec![p.polygon()?];
        while p.peek() == Some(Tok::Comma) {
            p.at += 1;
            parts.push(p.polygon()?);
        }
        p.expect(Tok::Close, "',' or ')' after a polygon")?;
        parts
    } else {
        vec![p.polygon()?]
    };
    if p.peek().is_some() {
        return Err(format!("unexpected {} at byte {} after the {kind}", WktParser::describe(p.peek()), p.pos()));
    }
    Polygon::new(parts).map_err(|e| e.detail())
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
        Some("Feature") => match v.get("geometry") {
            Some(g) if !g.is_null() => collect_geojson(g, parts)?,
            _ => return Err(bad("a Feature without a geometry")),
        },
        Some("FeatureCollection") => {
            for f in v["features"].as_array().ok_or_else(|| bad("features are not an array"))? {
                collect_geojson(f, parts)?;
            }
        }
        Some("GeometryCollection") => {
            for g in v["geometries"].as_array().ok_or_else(|| bad("geometries are not an array"))? {
                collect_geojson(g, parts)?;
            }
        }
        Some(t) => {
            return Err(bad(&format!(
                "the geometry is a {t}, not a Polygon or MultiPolygon (or a Feature, FeatureCollection or GeometryCollection of them)"
            )));
        }
        None => return Err(bad("no \"type\" member (expected a Polygon, MultiPolygon, Feature or FeatureCollection)")),
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
        // what cpp-tests/c_api_hostile_test.c and cpp_wrapper_test.cpp expect to be refused
        for t in ["", "POLYGON", "POLYGON((0 0,1 1))", "POINT(1 2)", "{\"type\":\"Polygon\"}", "POLYGON((0 0,1 0,nan 1,0 0))", "POLYGON((0 0))"] {
            let e = Polygon::parse(t).expect_err(t).to_string();
            assert!(e.contains("polygon"), "{t}: {e}");
        }
    }

    /// Points on a grid, inside/outside by `p`, to compare two parses of one shape.
    fn grid(p: &Polygon) -> Vec<bool> {
        let mut v = Vec::new();
        for i in -2..=24 {
            for j in -2..=24 {
                v.push(p.contains(i as f64 * 0.5, j as f64 * 0.5));
            }
        }
        v
    }

    #[test]
    fn z_m_zm_untagged_and_ewkt_forms_are_the_2d_polygon() {
        let plain = Polygon::parse("POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (4 4, 6 4, 6 6, 4 6, 4 4))").unwrap();
        let forms = [
            // GDAL/OGR exportToWkt and PDAL: 2.5-D vertices without a tag
            "POLYGON ((0 0 5, 10 0 5, 10 10 5, 0 10 5, 0 0 5), (4 4 1, 6 4 1, 6 6 1, 4 6 1, 4 4 1))",
            "POLYGON Z ((0 0 5, 10 0 5, 10 10 5, 0 10 5, 0 0 5), (4 4 1, 6 4 1, 6 6 1, 4 6 1, 4 4 1))",
            "POLYGON M ((0 0 5, 10 0 5, 10 10 5, 0 10 5, 0 0 5), (4 4 1, 6 4 1, 6 6 1, 4 6 1, 4 4 1))",
            "POLYGON ZM ((0 0 5 7, 10 0 5 7, 10 10 5 7, 0 10 5 7, 0 0 5 7), (4 4 1 2, 6 4 1 2, 6 6 1 2, 4 6 1 2, 4 4 1 2))",
            "POLYGON ((0 0 5 7, 10 0 5 7, 10 10 5 7, 0 10 5 7, 0 0 5 7), (4 4 1 2, 6 4 1 2, 6 6 1 2, 4 6 1 2, 4 4 1 2))",
            "polygonz((0 0 5,10 0 5,10 10 5,0 10 5,0 0 5),(4 4 1,6 4 1,6 6 1,4 6 1,4 4 1))",
            "SRID=32610;POLYGON((0 0,10 0,10 10,0 10,0 0),(4 4,6 4,6 6,4 6,4 4))",
            "  \n\tPOLYGON ((0 0, 10 0, 10 10, 0 10, 0 0),\n (4 4, 6 4, 6 6, 4 6, 4 4))\n",
            "\u{feff}POLYGON ((0.0e0 0, 1e1 0, 10 10, 0 10, 0 0), (4 4, 6 4, 6 6, 4 6, 4 4))\r\n",
        ];
        for f in forms {
            let p = Polygon::parse(f).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert_eq!(p, plain, "{f}");
        }
        let multi = Polygon::parse("MULTIPOLYGON Z (((0 0 1, 10 0 1, 10 10 1, 0 10 1, 0 0 1), (4 4 1, 6 4 1, 6 6 1, 4 6 1, 4 4 1)))").unwrap();
        assert_eq!(grid(&multi), grid(&plain));
        let multi = Polygon::parse("SRID=4326; MULTIPOLYGON (((0 0 1, 10 0 1, 10 10 1, 0 10 1, 0 0 1)), ((20 20 0, 21 20 0, 21 21 0, 20 20 0)))\n").unwrap();
        assert!(multi.contains(20.9, 20.5) && multi.contains(5.0, 5.0) && !multi.contains(15.0, 15.0));
    }

    /// The `wkt` crate reads tagged WKT independently: both parsers agree on it.
    #[test]
    fn agrees_with_the_wkt_crate_on_tagged_input() {
        fn by_crate(text: &str) -> Vec<Vec<Vec<[f64; 2]>>> {
            let w: wkt::Wkt<f64> = text.parse().unwrap();
            let ring = |r: &wkt::types::LineString<f64>| r.coords().iter().map(|c| [c.x, c.y]).collect::<Vec<_>>();
            let poly = |p: &wkt::types::Polygon<f64>| p.rings().iter().map(ring).collect::<Vec<_>>();
            match w {
                wkt::Wkt::Polygon(p) => vec![poly(&p)],
                wkt::Wkt::MultiPolygon(m) => m.polygons().iter().map(poly).collect(),
                _ => unreachable!(),
            }
        }
        for text in [
            "POLYGON ((1.5 2.25, 3 -4e2, 7 8, 1.5 2.25))",
            "POLYGON Z ((1 2 3, 4 5 6, 7 -8 9, 1 2 3), (1.1 2.1 0, 1.2 2.2 0, 1.3 2.1 0, 1.1 2.1 0))",
            "POLYGON ZM ((1 2 3 4, 4 5 6 7, 7 8 9 1, 1 2 3 4))",
            "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5), (5.1 5.05, 5.2 5.05, 5.2 5.1, 5.1 5.05)))",
            "MULTIPOLYGON M (((0 0 9, 1 0 9, 1 1 9, 0 0 9)))",
        ] {
            assert_eq!(Polygon::parse(text).unwrap(), Polygon::new(by_crate(text)).unwrap(), "{text}");
        }
    }

    #[test]
    fn geojson_with_3d_positions_and_wrappers() {
        let plain = Polygon::parse("POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (4 4, 6 4, 6 6, 4 6, 4 4))").unwrap();
        let ring3 = "[[0,0,5],[10,0,5],[10,10,5],[0,10,5],[0,0,5]],[[4,4,1],[6,4,1],[6,6,1],[4,6,1],[4,4,1]]";
        for gj in [
            format!(r#"{{"type":"Polygon","coordinates":[{ring3}]}}"#),
            format!(r#"{{"type":"Feature","properties":{{"name":"a"}},"geometry":{{"type":"Polygon","coordinates":[{ring3}]}}}}"#),
            format!(r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","geometry":{{"type":"MultiPolygon","coordinates":[[{ring3}]]}}}}]}}"#),
            format!(r#"{{"type":"GeometryCollection","geometries":[{{"type":"Polygon","coordinates":[{ring3}]}}]}}"#),
            format!("\n  {{\"type\": \"Polygon\", \"coordinates\": [{ring3}]}}\n"),
        ] {
            assert_eq!(Polygon::parse(&gj).unwrap_or_else(|e| panic!("{gj}: {e}")), plain, "{gj}");
        }
    }

    /// Errors say what the input is instead of a parser's internal state.
    #[test]
    fn non_polygons_are_named() {
        let msg = |t: &str| Polygon::parse(t).unwrap_err().to_string();
        assert!(msg("POINT (1 2)").contains("is a POINT"), "{}", msg("POINT (1 2)"));
        assert!(msg("LINESTRING Z (1 2 3, 4 5 6)").contains("is a LINESTRING"));
        assert!(msg("SRID=4326;MULTIPOINT ((1 2))").contains("is a MULTIPOINT"));
        assert!(msg("GEOMETRYCOLLECTION (POINT (1 2))").contains("GEOMETRYCOLLECTION"));
        assert!(msg("POLYGON EMPTY").contains("empty POLYGON"));
        assert!(msg("POLYGON Z EMPTY").contains("empty POLYGON"));
        assert!(msg("CIRCLE (1 2 3)").contains("'CIRCLE' is not a WKT geometry type"));
        assert!(msg(r#"{"type":"Point","coordinates":[1,2]}"#).contains("is a Point"));
        assert!(msg(r#"{"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]}}"#).contains("is a LineString"));
        assert!(msg(r#"{"type":"Feature","geometry":null}"#).contains("without a geometry"));
        // malformed polygons: the position and what was expected
        assert!(msg("POLYGON ((0 0, 1 0 5, 1 1, 0 0))").contains("has 3 numbers but the polygon's vertices have 2"));
        assert!(msg("POLYGON Z ((0 0, 1 0, 1 1, 0 0))").contains("has 2 numbers but the polygon's vertices have 3"));
        assert!(msg("POLYGON ((0 0 1 2 3, 1 0 1 2 3, 1 1 1 2 3, 0 0 1 2 3))").contains("has 5 numbers"));
        assert!(msg("POLYGON ((0 0, 1 0, 1 1, 0 0)").contains("after a ring"));
        assert!(msg("POLYGON ((0 0, 1 0, 1 1, 0 0))) x").contains("unexpected ')'"));
        assert!(msg("POLYGON ((0 0, 1 x, 1 1, 0 0))").contains("'x' at byte 17 is not a number"));
        assert!(msg("SRID=abc;POLYGON ((0 0, 1 0, 1 1, 0 0))").contains("SRID 'abc'"));
        assert!(msg("POLYGON ((0 0, 1 0, 1 nan, 0 0))").contains("not a finite number"));
        assert!(msg("").contains("expected a geometry type"));
    }

    /// Mutated texts (bytes replaced, inserted, removed; multi-byte characters
    /// included) never panic, and a parsed polygon keeps inside its bounding box.
    #[test]
    fn mutations_never_panic() {
        let forms = [
            "SRID=4326;MULTIPOLYGON Z (((0 0 1, 10 0 1, 10 10 1, 0 10 1, 0 0 1), (4 4 1, 6 4 1, 6 6 1, 4 6 1, 4 4 1)))",
            "POLYGON ZM ((0 0 5 7, 10 0 5 7, 10 10 5 7, 0 0 5 7))",
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0,5],[10,0,5],[10,10,5],[0,0,5]]]}}]}"#,
        ];
        let alphabet: Vec<char> = "()[]{},;:= .-+eE0123456789ZMzmSRIDPOLYGNMUTé\u{feff}\"".chars().collect();
        let mut rng = crate::sample::SplitMix64::new(16);
        for f in forms {
            for _ in 0..3000 {
                let mut c: Vec<char> = f.chars().collect();
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(c.len() as u64 + 1) as usize;
                    let ch = alphabet[rng.below(alphabet.len() as u64) as usize];
                    match rng.below(3) {
                        0 if at < c.len() => c[at] = ch,
                        1 => c.insert(at, ch),
                        _ if at < c.len() => {
                            c.remove(at);
                        }
                        _ => {}
                    }
                }
                let text: String = c.into_iter().collect();
                if let Ok(p) = Polygon::parse(&text) {
                    let b = p.bbox();
                    for (x, y) in [(b.min[0] - 1.0, b.min[1]), (b.max[0] + 1.0, b.max[1]), (b.min[0], b.max[1] + 1.0)] {
                        assert!(!p.contains(x, y), "{text}: ({x}, {y}) outside the bbox is inside");
                    }
                }
            }
        }
    }
}
