//! Virtual Point Clouds: a STAC 1.0 ItemCollection (GeoJSON FeatureCollection), one
//! Item per file, with the pointcloud and projection extensions, as PDAL's wrench
//! writes and QGIS reads them (`docs/dataset.md` lists the fields).

use crate::error::{Error, Result};
use crate::format::Bounds;
use serde_json::{Value, json};

/// `pc:encoding` of a COPC file (wrench writes "?"; any other value but the two
/// below is taken as COPC and checked when the file is opened).
pub const ENCODING_COPC: &str = "application/vnd.laszip+copc";
/// `pc:encoding` of a plain LAZ / LAS file: listed, but queries on it fail.
pub const ENCODING_LAZ: &str = "application/vnd.laszip";
pub const ENCODING_LAS: &str = "application/vnd.las";

/// One file of a dataset, as its Item describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The STAC id (the file name without its extensions).
    pub id: String,
    /// Where the file is: resolved against the VPC's location when read from one.
    pub href: String,
    /// `pc:count`.
    pub count: u64,
    /// `proj:bbox`: 3-D bounds in the file's CRS.
    pub bounds: Bounds,
    /// `proj:wkt2` (None when empty or absent).
    pub wkt: Option<String>,
    pub epsg: Option<u32>,
    /// `pc:encoding`.
    pub encoding: String,
    /// `pc:schemas` as written (name, type, size).
    pub schemas: Vec<(String, String, u32)>,
    /// Point data record format (`copc:point_format`, our own property; None when absent).
    pub point_format: Option<u8>,
    /// Data nodes of the file's hierarchy (`copc:data_nodes`, written with `copc index --stats`).
    pub nodes: Option<u64>,
}

impl Item {
    /// Whether the Item says the file is plain LAS/LAZ (not COPC).
    pub fn is_plain_las(&self) -> bool {
        self.encoding == ENCODING_LAZ || self.encoding == ENCODING_LAS
    }
}

/// The EPSG code of the CRS a WKT (1 or 2) text describes: its last top-level
/// `ID["EPSG",n]` / `AUTHORITY["EPSG","n"]` (the outermost comes last).
pub fn epsg_of_wkt(wkt: &str) -> Option<u32> {
    let upper = wkt.to_ascii_uppercase();
    let mut best = None;
    for pat in ["ID[\"EPSG\",", "AUTHORITY[\"EPSG\","] {
        if let Some(i) = upper.rfind(pat) {
            let rest = &upper[i + pat.len()..];
            let digits: String = rest.trim_start_matches('"').chars().take_while(|c| c.is_ascii_digit()).collect();
            if let Ok(n) = digits.parse::<u32>() {
                if best.is_none_or(|(j, _)| i > j) {
                    best = Some((i, n));
                }
            }
        }
    }
    // the outermost ID closes the text: only trust it when nothing but brackets follows
    best.and_then(|(i, n)| {
        let tail = &upper[i..];
        let close = tail.find(']')?;
        tail[close..].chars().all(|c| c == ']' || c.is_whitespace()).then_some(n)
    })
}

/// Whether a WKT describes a geographic CRS (its outermost keyword).
pub fn is_geographic(wkt: &str) -> bool {
    let t = wkt.trim_start().to_ascii_uppercase();
    ["GEOGCS[", "GEOGCRS[", "GEOGRAPHICCRS["].iter().any(|k| t.starts_with(k))
}

/// `href` resolved against the VPC's location `base` (a path or URL of the VPC file):
/// URLs, store URLs and absolute paths stay; relative ones (`./a.copc.laz`, `a.copc.laz`)
/// are taken from the VPC's folder.
pub fn resolve_href(base: &str, href: &str) -> String {
    if href.contains("://") || href.starts_with('/') || base.is_empty() {
        return href.to_string();
    }
    let rel = href.strip_prefix("./").unwrap_or(href);
    match base.rfind('/') {
        Some(i) => format!("{}{}", &base[..=i], rel),
        None => rel.to_string(),
    }
}

/// Parses a VPC / STAC ItemCollection. `base` is the VPC's location (for relative hrefs);
/// `name` names it in errors.
pub fn parse(text: &str, base: &str) -> Result<Vec<Item>> {
    let bad = |m: String| Error::invalid(format!("{base}: {m}"));
    let v: Value = serde_json::from_str(text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
    if v.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(bad("not a VPC / STAC ItemCollection (expected \"type\": \"FeatureCollection\")".into()));
    }
    let features = v.get("features").and_then(Value::as_array).ok_or_else(|| bad("no \"features\" array".into()))?;
    if features.is_empty() {
        return Err(bad("the collection has no Items (empty \"features\")".into()));
    }
    features.iter().enumerate().map(|(i, f)| parse_item(f, base).map_err(|m| bad(format!("Item {i}: {m}")))).collect()
}

fn parse_item(f: &Value, base: &str) -> std::result::Result<Item, String> {
    let props = f.get("properties").and_then(Value::as_object).ok_or("no \"properties\" object")?;
    let assets = f.get("assets").and_then(Value::as_object).ok_or("no \"assets\" object")?;
    // the "data" asset, else the first one (as wrench reads)
    let asset = assets.get("data").or_else(|| assets.values().next()).ok_or("no asset")?;
    let raw_href = asset.get("href").and_then(Value::as_str).ok_or("asset without \"href\"")?;
    let id = f.get("id").and_then(Value::as_str).unwrap_or(raw_href).to_string();
    let count = props.get("pc:count").and_then(Value::as_u64).ok_or(format!("{raw_href}: no \"pc:count\""))?;
    let nums = |k: &str| -> Option<Vec<f64>> { props.get(k).or_else(|| f.get(k))?.as_array()?.iter().map(Value::as_f64).collect() };
    let bbox = nums("proj:bbox").or_else(|| nums("bbox")).ok_or(format!("{raw_href}: no \"proj:bbox\" or \"bbox\""))?;
    let bounds = match bbox.as_slice() {
        [a, b, c, d, e, g] => Bounds::new([*a, *b, *c], [*d, *e, *g]),
        [a, b, c, d] => Bounds::xy(*a, *b, *c, *d),
        _ => return Err(format!("{raw_href}: the bbox has {} numbers (expected 4 or 6)", bbox.len())),
    };
    // JSON numbers may come back one ulp off: widen a little so no point on an edge is pruned
    let bounds = Bounds::new(bounds.min.map(|v| v - v.abs() * 1e-12), bounds.max.map(|v| v + v.abs() * 1e-12));
    let wkt = props.get("proj:wkt2").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    let epsg = props.get("proj:epsg").and_then(Value::as_u64).map(|n| n as u32);
    let encoding = props.get("pc:encoding").and_then(Value::as_str).unwrap_or("?").to_string();
    let schemas = props
        .get("pc:schemas")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| {
                    let g = |k| s.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                    (g("name"), g("type"), s.get("size").and_then(Value::as_u64).unwrap_or(0) as u32)
                })
                .collect()
        })
        .unwrap_or_default();
    let point_format = props.get("copc:point_format").and_then(Value::as_u64).map(|n| n as u8);
    let nodes = props.get("copc:data_nodes").and_then(Value::as_u64);
    Ok(Item { id, href: resolve_href(base, raw_href), count, bounds, wkt, epsg, encoding, schemas, point_format, nodes })
}

/// The href to write for `location` in a VPC at `vpc_path`: `./REL` when the file is
/// in the VPC's folder or below it, else the location as given (absolute).
pub fn relative_href(vpc_path: &std::path::Path, location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let abs = |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let file = abs(std::path::Path::new(location));
    let dir = abs(vpc_path).parent().map(|d| d.to_path_buf()).unwrap_or_default();
    match file.strip_prefix(&dir) {
        Ok(rel) => format!("./{}", rel.to_string_lossy()),
        Err(_) => file.to_string_lossy().into_owned(),
    }
}

fn polygon_of(b: &Bounds) -> Value {
    let (x0, y0, x1, y1) = (b.min[0], b.min[1], b.max[0], b.max[1]);
    json!({"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]})
}

/// One Item as JSON. `href` is written as given; `datetime` an RFC 3339 time.
pub fn item_json(it: &Item, href: &str, datetime: &str) -> Value {
    let b = &it.bounds;
    let bbox3 = json!([b.min[0], b.min[1], b.min[2], b.max[0], b.max[1], b.max[2]]);
    let schemas: Vec<Value> = it.schemas.iter().map(|(n, t, s)| json!({"name": n, "type": t, "size": s})).collect();
    let mut props = json!({
        "datetime": datetime,
        "pc:count": it.count,
        "pc:type": "lidar",
        "pc:encoding": it.encoding,
        "pc:schemas": schemas,
        // wrench reads proj:wkt2 as a string: empty when the file has no CRS
        "proj:wkt2": it.wkt.clone().unwrap_or_default(),
        "proj:geometry": polygon_of(b),
        "proj:bbox": bbox3,
    });
    if let Some(e) = it.epsg {
        props["proj:epsg"] = json!(e);
    }
    if let Some(f) = it.point_format {
        props["copc:point_format"] = json!(f);
    }
    if let Some(n) = it.nodes {
        props["copc:data_nodes"] = json!(n);
    }
    // bbox/geometry: WGS 84 when the CRS is geographic already; else, as wrench does
    // when it cannot reproject, the native coordinates (no CRS library yet: issue #30)
    json!({
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [
            "https://stac-extensions.github.io/pointcloud/v1.0.0/schema.json",
            "https://stac-extensions.github.io/projection/v1.1.0/schema.json"
        ],
        "id": it.id,
        "geometry": polygon_of(b),
        "bbox": bbox3,
        "properties": props,
        "links": [],
        "assets": {"data": {"href": href, "roles": ["data"]}}
    })
}

/// A whole VPC: items with the hrefs to write.
pub fn collection_json(items: &[(Item, String, String)]) -> Value {
    let features: Vec<Value> = items.iter().map(|(it, href, dt)| item_json(it, href, dt)).collect();
    json!({"type": "FeatureCollection", "features": features})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_resolve_against_the_vpc() {
        assert_eq!(resolve_href("/d/x.vpc", "./a.copc.laz"), "/d/a.copc.laz");
        assert_eq!(resolve_href("/d/x.vpc", "sub/a.copc.laz"), "/d/sub/a.copc.laz");
        assert_eq!(resolve_href("https://h/p/x.vpc", "./a.laz"), "https://h/p/a.laz");
        assert_eq!(resolve_href("s3://b/p/x.vpc", "a.laz"), "s3://b/p/a.laz");
        assert_eq!(resolve_href("/d/x.vpc", "/e/a.laz"), "/e/a.laz");
        assert_eq!(resolve_href("x.vpc", "./a.laz"), "a.laz");
    }

    #[test]
    fn epsg_from_wkt() {
        assert_eq!(epsg_of_wkt("PROJCS[\"x\",GEOGCS[\"y\",AUTHORITY[\"EPSG\",\"4326\"]],AUTHORITY[\"EPSG\",\"32610\"]]"), Some(32610));
        assert_eq!(epsg_of_wkt("PROJCRS[\"x\",BASEGEOGCRS[\"y\",ID[\"EPSG\",4326]],ID[\"EPSG\",32610]]"), Some(32610));
        assert_eq!(epsg_of_wkt("PROJCS[\"x\",GEOGCS[\"y\",AUTHORITY[\"EPSG\",\"4326\"]],UNIT[\"m\",1]]"), None);
        assert!(is_geographic("GEOGCS[\"WGS 84\"]") && !is_geographic("PROJCS[\"x\"]"));
    }
}
