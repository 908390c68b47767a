//! The JSON side of an EPT dataset: `ept.json` (bounds, span, data type, schema,
//! srs, point count) and the hierarchy files (`ept-hierarchy/D-X-Y-Z.json`, keys
//! mapped to point counts, `-1` meaning "see the file of that key").
//!
//! Everything here is pure parsing of bytes already read: the sizes were checked
//! by the caller before reading ([`EPT_JSON_LIMIT`], [`HIERARCHY_FILE_LIMIT`]).
//! Every error names the file and what was expected there.

use crate::error::{Error, Location, Result};
use crate::format::{Cube, VoxelKey};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Largest `ept.json` read (it holds a schema and a WKT string: kilobytes in practice).
pub const EPT_JSON_LIMIT: u64 = 16 << 20;
/// Largest hierarchy file read. Entwine splits its hierarchy into files of a few
/// thousand keys; a single file of millions of keys is still far below this.
pub const HIERARCHY_FILE_LIMIT: u64 = 256 << 20;
/// Most hierarchy keys of a dataset (all files together) accepted.
pub const MAX_NODES: usize = 50_000_000;
/// Most points in one node: a COPC hierarchy entry holds an i32 count.
pub const MAX_NODE_POINTS: i64 = i32::MAX as i64;

/// How the point files of the dataset are encoded (`dataType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    /// `ept-data/D-X-Y-Z.laz`: LAS/LAZ tiles, read by their own header.
    Laszip,
    /// `ept-data/D-X-Y-Z.bin`: records packed in schema order, little-endian.
    Binary,
    /// `ept-data/D-X-Y-Z.zst`: the binary records, Zstandard-compressed.
    Zstandard,
}

impl DataType {
    pub fn extension(self) -> &'static str {
        match self {
            DataType::Laszip => "laz",
            DataType::Binary => "bin",
            DataType::Zstandard => "zst",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DataType::Laszip => "laszip",
            DataType::Binary => "binary",
            DataType::Zstandard => "zstandard",
        }
    }
}

/// The scalar kind of a schema dimension (`type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DimKind {
    Signed,
    Unsigned,
    Float,
    /// Any other type (e.g. `string`): opaque bytes of the given size.
    Other,
}

/// One entry of `schema`.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaDim {
    pub name: String,
    pub kind: DimKind,
    /// Bytes per value.
    pub size: usize,
    pub scale: Option<f64>,
    pub offset: Option<f64>,
    /// Byte offset inside a binary record (sum of the sizes before it).
    pub at: usize,
}

impl SchemaDim {
    /// Reads the value of this dimension from a record as f64 (raw, before scale
    /// and offset). `Other` dimensions read as 0.
    #[inline]
    pub fn raw_f64(&self, rec: &[u8]) -> f64 {
        let b = &rec[self.at..self.at + self.size];
        match (self.kind, self.size) {
            (DimKind::Signed, 1) => b[0] as i8 as f64,
            (DimKind::Signed, 2) => i16::from_le_bytes([b[0], b[1]]) as f64,
            (DimKind::Signed, 4) => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
            (DimKind::Signed, 8) => i64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as f64,
            (DimKind::Unsigned, 1) => b[0] as f64,
            (DimKind::Unsigned, 2) => u16::from_le_bytes([b[0], b[1]]) as f64,
            (DimKind::Unsigned, 4) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
            (DimKind::Unsigned, 8) => u64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as f64,
            (DimKind::Float, 4) => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
            (DimKind::Float, 8) => f64::from_le_bytes(b.try_into().unwrap_or([0; 8])),
            _ => 0.0,
        }
    }

    /// The LAS extra-bytes data type of this dimension (0 = undocumented bytes).
    pub fn extra_bytes_type(&self) -> u8 {
        match (self.kind, self.size) {
            (DimKind::Unsigned, 1) => 1,
            (DimKind::Signed, 1) => 2,
            (DimKind::Unsigned, 2) => 3,
            (DimKind::Signed, 2) => 4,
            (DimKind::Unsigned, 4) => 5,
            (DimKind::Signed, 4) => 6,
            (DimKind::Unsigned, 8) => 7,
            (DimKind::Signed, 8) => 8,
            (DimKind::Float, 4) => 9,
            (DimKind::Float, 8) => 10,
            _ => 0,
        }
    }
}

/// `srs`: any of the four keys may be missing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Srs {
    pub authority: Option<String>,
    pub horizontal: Option<String>,
    pub vertical: Option<String>,
    pub wkt: Option<String>,
}

/// What `ept.json` says.
#[derive(Debug, Clone, PartialEq)]
pub struct EptJson {
    /// `bounds`: `[xmin, ymin, zmin, xmax, ymax, zmax]`, a cube.
    pub bounds: [f64; 6],
    pub cube: Cube,
    pub span: u64,
    pub data_type: DataType,
    /// `points` (or the draft's `numPoints`).
    pub points: u64,
    pub schema: Vec<SchemaDim>,
    /// Bytes of one binary record (sum of the schema sizes).
    pub record_size: usize,
    pub srs: Srs,
    pub version: String,
}

impl EptJson {
    pub fn dim(&self, name: &str) -> Option<&SchemaDim> {
        self.schema.iter().find(|d| d.name == name)
    }

    /// `2·halfsize / span`: the distance between points of the root node.
    pub fn spacing(&self) -> f64 {
        2.0 * self.cube.halfsize / self.span as f64
    }
}

fn err(name: &str, msg: impl Into<String>) -> Error {
    Error::format(name, Location::Source, msg)
}

fn parse_value(name: &str, bytes: &[u8], what: &str) -> Result<Value> {
    serde_json::from_slice(bytes).map_err(|e| err(name, format!("{what} is not valid JSON: {e}")))
}

/// Parses `ept.json` (`name` is its path or URL, for messages).
pub fn parse_ept_json(name: &str, bytes: &[u8]) -> Result<EptJson> {
    let v = parse_value(name, bytes, "ept.json")?;
    let obj = v
        .as_object()
        .ok_or_else(|| err(name, "ept.json must be a JSON object"))?;

    // bounds: a cube
    let b = obj.get("bounds").and_then(Value::as_array).ok_or_else(|| {
        err(
            name,
            "'bounds' is missing (expected [xmin, ymin, zmin, xmax, ymax, zmax])",
        )
    })?;
    let nums: Vec<f64> = b.iter().filter_map(Value::as_f64).collect();
    if b.len() != 6 || nums.len() != 6 || nums.iter().any(|x| !x.is_finite()) {
        return Err(err(
            name,
            format!("'bounds' must be 6 finite numbers, found {}", Value::Array(b.clone())),
        ));
    }
    let bounds = [nums[0], nums[1], nums[2], nums[3], nums[4], nums[5]];
    let ext = [bounds[3] - bounds[0], bounds[4] - bounds[1], bounds[5] - bounds[2]];
    if ext
        .iter()
        .any(|e| e.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater))
    {
        return Err(err(
            name,
            format!("'bounds' {bounds:?} is empty or inverted (each max must exceed its min)"),
        ));
    }
    let side = ext[0].max(ext[1]).max(ext[2]);
    if ext.iter().any(|e| (side - e).abs() > side * 1e-9) {
        return Err(err(
            name,
            format!("'bounds' {bounds:?} is not a cube (extents {ext:?}): EPT keys only map to COPC keys over a cube"),
        ));
    }
    let cube = Cube {
        center: [
            (bounds[0] + bounds[3]) * 0.5,
            (bounds[1] + bounds[4]) * 0.5,
            (bounds[2] + bounds[5]) * 0.5,
        ],
        halfsize: side * 0.5,
    };

    let span = match obj.get("span") {
        Some(s) => s
            .as_u64()
            .filter(|s| *s > 0)
            .ok_or_else(|| err(name, format!("'span' must be a positive integer, found {s}")))?,
        // drafts without span used 256 (Entwine's default)
        None => 256,
    };

    let data_type = match obj.get("dataType").and_then(Value::as_str) {
        Some("laszip") => DataType::Laszip,
        Some("binary") => DataType::Binary,
        Some("zstandard") => DataType::Zstandard,
        Some(other) => {
            return Err(Error::unsupported(
                name,
                Location::Source,
                format!("dataType '{other}' (expected laszip, binary or zstandard)"),
            ));
        }
        None => {
            return Err(err(
                name,
                "'dataType' is missing (expected laszip, binary or zstandard)",
            ));
        }
    };
    match obj.get("hierarchyType").and_then(Value::as_str) {
        None | Some("json") => {}
        Some(other) => {
            return Err(Error::unsupported(
                name,
                Location::Source,
                format!("hierarchyType '{other}': only plain 'json' hierarchy files are read (decompress the ept-hierarchy files and set hierarchyType to 'json')"),
            ));
        }
    }
    let points = match obj.get("points").or_else(|| obj.get("numPoints")) {
        Some(p) => p
            .as_u64()
            .ok_or_else(|| err(name, format!("'points' must be a non-negative integer, found {p}")))?,
        None => return Err(err(name, "'points' is missing")),
    };

    // schema
    let sch = obj
        .get("schema")
        .and_then(Value::as_array)
        .ok_or_else(|| err(name, "'schema' is missing (expected an array of {name, type, size})"))?;
    if sch.len() > 1024 {
        return Err(err(
            name,
            format!("'schema' has {} dimensions (at most 1024 accepted)", sch.len()),
        ));
    }
    let mut schema = Vec::with_capacity(sch.len());
    let mut at = 0usize;
    for (i, d) in sch.iter().enumerate() {
        let dname = d
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| err(name, format!("schema entry {i} has no 'name'")))?
            .to_string();
        let size = d
            .get("size")
            .and_then(Value::as_u64)
            .filter(|s| (1..=255).contains(s))
            .ok_or_else(|| {
                err(
                    name,
                    format!("schema dimension '{dname}': 'size' must be an integer from 1 to 255"),
                )
            })? as usize;
        let kind = match d.get("type").and_then(Value::as_str) {
            Some("signed") => DimKind::Signed,
            Some("unsigned") => DimKind::Unsigned,
            Some("float") => DimKind::Float,
            Some(_) => DimKind::Other,
            None => return Err(err(name, format!("schema dimension '{dname}' has no 'type'"))),
        };
        let valid = match kind {
            DimKind::Signed | DimKind::Unsigned => matches!(size, 1 | 2 | 4 | 8),
            DimKind::Float => matches!(size, 4 | 8),
            DimKind::Other => true,
        };
        if !valid {
            return Err(err(
                name,
                format!("schema dimension '{dname}': {kind:?} of size {size} is not a known type"),
            ));
        }
        let num = |k: &str| -> Result<Option<f64>> {
            match d.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(x) => x.as_f64().filter(|x| x.is_finite()).map(Some).ok_or_else(|| {
                    err(
                        name,
                        format!("schema dimension '{dname}': '{k}' must be a finite number"),
                    )
                }),
            }
        };
        let scale = num("scale")?;
        if let Some(s) = scale {
            if s <= 0.0 {
                return Err(err(
                    name,
                    format!("schema dimension '{dname}': scale {s} must be positive"),
                ));
            }
        }
        let offset = num("offset")?;
        if schema.iter().any(|s: &SchemaDim| s.name == dname) {
            return Err(err(name, format!("schema lists dimension '{dname}' twice")));
        }
        schema.push(SchemaDim {
            name: dname,
            kind,
            size,
            scale,
            offset,
            at,
        });
        at += size;
    }
    for axis in ["X", "Y", "Z"] {
        let d = schema
            .iter()
            .find(|d| d.name == axis)
            .ok_or_else(|| err(name, format!("the schema has no '{axis}' dimension")))?;
        if d.kind == DimKind::Other {
            return Err(err(
                name,
                format!("schema dimension '{axis}' must be signed, unsigned or float"),
            ));
        }
    }

    let srs = match obj.get("srs") {
        None | Some(Value::Null) => Srs::default(),
        Some(Value::Object(s)) => {
            let text = |k: &str| -> Option<String> {
                match s.get(k) {
                    Some(Value::String(t)) if !t.trim().is_empty() => Some(t.trim().to_string()),
                    Some(Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                }
            };
            Srs {
                authority: text("authority"),
                horizontal: text("horizontal"),
                vertical: text("vertical"),
                wkt: text("wkt"),
            }
        }
        Some(other) => return Err(err(name, format!("'srs' must be an object, found {other}"))),
    };
    let version = obj
        .get("version")
        .and_then(Value::as_str)
        .unwrap_or("1.0.0")
        .to_string();
    if !version.starts_with("1.") {
        return Err(Error::unsupported(
            name,
            Location::Source,
            format!("EPT version {version} (expected 1.x)"),
        ));
    }
    Ok(EptJson {
        bounds,
        cube,
        span,
        data_type,
        points,
        schema,
        record_size: at,
        srs,
        version,
    })
}

/// Parses `D-X-Y-Z`.
pub fn parse_key(s: &str) -> Option<VoxelKey> {
    let mut it = s.split('-').map(|p| p.parse::<i32>().ok());
    let k = VoxelKey::new(it.next()??, it.next()??, it.next()??, it.next()??);
    (it.next().is_none() && k.is_valid()).then_some(k)
}

/// True when `key` is `root` or lies below it.
pub fn in_subtree(key: VoxelKey, root: VoxelKey) -> bool {
    if key.level < root.level {
        return false;
    }
    let s = (key.level - root.level) as u32;
    (key.x >> s, key.y >> s, key.z >> s) == (root.x, root.y, root.z)
}

/// One hierarchy file's entries: a point count, or `-1` (a subtree file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HierarchyValue {
    Count(u64),
    Subtree,
}

/// Parses the hierarchy file of the subtree rooted at `root`. Checks every key
/// (well-formed, inside the subtree) and value (a count up to the COPC limit, or -1
/// below the root); the root's own entry may not be -1 (a file pointing to itself).
pub fn parse_hierarchy_file(name: &str, bytes: &[u8], root: VoxelKey) -> Result<Vec<(VoxelKey, HierarchyValue)>> {
    let v = parse_value(name, bytes, "the hierarchy file")?;
    let obj = v
        .as_object()
        .ok_or_else(|| err(name, "a hierarchy file must be a JSON object of \"D-X-Y-Z\": count"))?;
    let mut out = Vec::with_capacity(obj.len());
    for (k, val) in obj {
        let key = parse_key(k).ok_or_else(|| {
            err(
                name,
                format!("hierarchy key '{k}' is not D-X-Y-Z with 0 <= X, Y, Z < 2^D (D <= 30)"),
            )
        })?;
        if !in_subtree(key, root) {
            return Err(err(
                name,
                format!(
                    "lists node {key}, which is not in the subtree of {root} this file describes \
                     (a hierarchy cycle or a misplaced key)"
                ),
            ));
        }
        let n = val.as_i64().ok_or_else(|| {
            err(
                name,
                format!("node {key}: the point count {val} is not an integer from -1 to {MAX_NODE_POINTS}"),
            )
        })?;
        let hv = match n {
            -1 if key == root => {
                return Err(err(
                    name,
                    format!(
                        "node {key} is -1 in its own hierarchy file: the file points to itself (a hierarchy cycle)"
                    ),
                ));
            }
            -1 => HierarchyValue::Subtree,
            n if (0..=MAX_NODE_POINTS).contains(&n) => HierarchyValue::Count(n as u64),
            n => {
                return Err(err(
                    name,
                    format!(
                        "node {key}: point count {n} is out of range (-1, or 0 to {MAX_NODE_POINTS}, the most a COPC node holds)"
                    ),
                ));
            }
        };
        out.push((key, hv));
    }
    Ok(out)
}

/// The whole hierarchy: every node with its point count (0 for listed empty nodes).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hierarchy {
    pub nodes: BTreeMap<VoxelKey, u64>,
    /// Hierarchy files read (the root file included).
    pub files: usize,
}

impl Hierarchy {
    pub fn points(&self) -> u64 {
        self.nodes.values().sum()
    }
}

/// Reads the hierarchy from `ept-hierarchy/0-0-0-0.json` down through every `-1`
/// entry. `fetch(key)` returns the bytes of the file of the subtree rooted at `key`
/// and the name to use in messages (the caller checks sizes before reading).
/// Each key may appear once in the whole hierarchy; a subtree file is read once.
pub fn load_hierarchy(fetch: &dyn Fn(VoxelKey) -> Result<(String, Vec<u8>)>) -> Result<Hierarchy> {
    let mut h = Hierarchy::default();
    let mut where_listed: BTreeMap<VoxelKey, String> = BTreeMap::new();
    let mut done: BTreeSet<VoxelKey> = BTreeSet::new();
    let mut todo = vec![VoxelKey::ROOT];
    while let Some(root) = todo.pop() {
        if !done.insert(root) {
            continue;
        }
        let (name, bytes) = fetch(root)?;
        h.files += 1;
        let entries = parse_hierarchy_file(&name, &bytes, root)?;
        drop(bytes);
        let mut has_root = false;
        for (key, v) in entries {
            if key == root {
                has_root = true;
            } else if let Some(prev) = where_listed.get(&key) {
                return Err(err(&name, format!("node {key} is listed again (already in {prev})")));
            }
            where_listed.insert(key, name.clone());
            match v {
                HierarchyValue::Count(n) => {
                    h.nodes.insert(key, n);
                }
                HierarchyValue::Subtree => todo.push(key),
            }
            if h.nodes.len() + todo.len() > MAX_NODES {
                return Err(err(&name, format!("the hierarchy has more than {MAX_NODES} nodes")));
            }
        }
        if !has_root && root != VoxelKey::ROOT {
            return Err(err(
                &name,
                format!("the hierarchy file of {root} does not list node {root} itself"),
            ));
        }
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPT: &str = r#"{"bounds":[0,10,20,100,110,120],"dataType":"binary","hierarchyType":"json","points":12,
        "schema":[{"name":"X","type":"signed","size":4,"scale":0.01,"offset":50},
                  {"name":"Y","type":"signed","size":4,"scale":0.01,"offset":60},
                  {"name":"Z","type":"signed","size":4,"scale":0.01,"offset":70},
                  {"name":"OriginId","type":"unsigned","size":4}],
        "span":128,"srs":{"authority":"EPSG","horizontal":"26912"},"version":"1.0.0"}"#;

    #[test]
    fn ept_json_fields() {
        let e = parse_ept_json("ept.json", EPT.as_bytes()).unwrap();
        assert_eq!(e.cube.center, [50.0, 60.0, 70.0]);
        assert_eq!(e.cube.halfsize, 50.0);
        assert_eq!(e.spacing(), 100.0 / 128.0);
        assert_eq!(e.data_type, DataType::Binary);
        assert_eq!(e.record_size, 16);
        assert_eq!(e.dim("OriginId").unwrap().at, 12);
        assert_eq!(e.dim("OriginId").unwrap().extra_bytes_type(), 5);
        assert_eq!(e.srs.horizontal.as_deref(), Some("26912"));
        assert_eq!(e.points, 12);
    }

    #[test]
    fn ept_json_errors_name_what_was_expected() {
        let bad = |from: &str, to: &str| {
            let text = EPT.replace(from, to);
            parse_ept_json("d/ept.json", text.as_bytes()).unwrap_err().to_string()
        };
        assert!(bad("[0,10,20,100,110,120]", "[0,10,20,100,110,121]").contains("not a cube"));
        assert!(bad("[0,10,20,100,110,120]", "[0,10,20]").contains("6 finite numbers"));
        assert!(bad("\"binary\"", "\"gzip\"").contains("dataType 'gzip'"));
        assert!(bad("\"json\"", "\"gzip\"").contains("hierarchyType"));
        assert!(bad("\"name\":\"Z\"", "\"name\":\"W\"").contains("no 'Z'"));
        assert!(bad("\"size\":4}]", "\"size\":3}]").contains("not a known type"));
        assert!(bad("\"points\":12", "\"points\":-1").contains("'points'"));
        let e = parse_ept_json("d/ept.json", b"{not json").unwrap_err().to_string();
        assert!(e.starts_with("d/ept.json: ") && e.contains("not valid JSON"), "{e}");
    }

    #[test]
    fn keys_and_subtrees() {
        assert_eq!(parse_key("3-5-4-3"), Some(VoxelKey::new(3, 5, 4, 3)));
        assert_eq!(parse_key("1-2-0-0"), None); // outside the level's grid
        assert_eq!(parse_key("1-0-0"), None);
        assert_eq!(parse_key("1-0-0-0-0"), None);
        assert_eq!(parse_key("a-0-0-0"), None);
        assert!(in_subtree(VoxelKey::new(3, 5, 4, 3), VoxelKey::new(2, 2, 2, 1)));
        assert!(!in_subtree(VoxelKey::new(3, 5, 4, 3), VoxelKey::new(2, 2, 2, 2)));
        assert!(!in_subtree(VoxelKey::new(1, 1, 1, 0), VoxelKey::new(2, 2, 2, 1)));
    }

    #[test]
    fn hierarchy_walks_subtree_files_and_rejects_cycles() {
        let files = |k: VoxelKey| -> Result<(String, Vec<u8>)> {
            let text = match k.to_string().as_str() {
                "0-0-0-0" => r#"{"0-0-0-0":10,"1-0-0-0":5,"1-1-1-1":-1}"#,
                "1-1-1-1" => r#"{"1-1-1-1":7,"2-3-3-3":2,"2-2-2-2":0}"#,
                _ => return Err(err("x", "missing")),
            };
            Ok((format!("{k}.json"), text.as_bytes().to_vec()))
        };
        let h = load_hierarchy(&files).unwrap();
        assert_eq!(h.files, 2);
        assert_eq!(h.points(), 24);
        assert_eq!(h.nodes.len(), 5);
        assert_eq!(h.nodes[&VoxelKey::new(1, 1, 1, 1)], 7);

        let self_loop = |k: VoxelKey| -> Result<(String, Vec<u8>)> {
            let text = match k.level {
                0 => r#"{"0-0-0-0":10,"1-0-0-0":-1}"#,
                _ => r#"{"1-0-0-0":-1}"#,
            };
            Ok((format!("{k}.json"), text.as_bytes().to_vec()))
        };
        assert!(load_hierarchy(&self_loop).unwrap_err().to_string().contains("cycle"));
        let back_up = |k: VoxelKey| -> Result<(String, Vec<u8>)> {
            let text = match k.level {
                0 => r#"{"0-0-0-0":10,"1-0-0-0":-1}"#,
                _ => r#"{"1-0-0-0":3,"0-0-0-0":-1}"#,
            };
            Ok((format!("{k}.json"), text.as_bytes().to_vec()))
        };
        assert!(load_hierarchy(&back_up).unwrap_err().to_string().contains("cycle"));
        let twice = |k: VoxelKey| -> Result<(String, Vec<u8>)> {
            let text = match k.level {
                0 => r#"{"0-0-0-0":10,"1-0-0-0":-1,"2-0-0-0":4}"#,
                _ => r#"{"1-0-0-0":3,"2-0-0-0":4}"#,
            };
            Ok((format!("{k}.json"), text.as_bytes().to_vec()))
        };
        assert!(load_hierarchy(&twice).unwrap_err().to_string().contains("listed again"));
        let huge = |_k: VoxelKey| -> Result<(String, Vec<u8>)> {
            Ok(("h.json".into(), br#"{"0-0-0-0":5000000000}"#.to_vec()))
        };
        assert!(load_hierarchy(&huge).unwrap_err().to_string().contains("out of range"));
        let float =
            |_k: VoxelKey| -> Result<(String, Vec<u8>)> { Ok(("h.json".into(), br#"{"0-0-0-0":1e300}"#.to_vec())) };
        assert!(
            load_hierarchy(&float)
                .unwrap_err()
                .to_string()
                .contains("not an integer")
        );
    }
}
