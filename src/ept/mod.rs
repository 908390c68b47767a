//! EPT (Entwine Point Tile) to COPC without rebuilding the octree.
//!
//! An EPT dataset is `ept.json`, `ept-hierarchy/*.json` and one point file per node
//! under `ept-data/`. Its octree already is a COPC octree: the EPT key D-X-Y-Z is the
//! COPC key, `bounds` (a cube) gives the info VLR's centre and halfsize, `span` the
//! spacing (2·halfsize / span). So every node becomes one LAZ chunk of the output,
//! node for node, and no point moves:
//!
//! ```no_run
//! use copc::ept::translate_ept;
//! use copc::writer::WriterOptions;
//! let s = translate_ept("dataset/ept.json", "out.copc.laz", &WriterOptions::default())?;
//! println!("{} nodes copied, {} re-encoded, {} points", s.copied, s.reencoded, s.points);
//! # Ok::<(), copc::Error>(())
//! ```
//!
//! - [`json`]: `ept.json` and the hierarchy files (with `-1` subtree files), sizes
//!   checked before they are read.
//! - [`repack`]: one node's tile to one chunk. A laszip tile that is a single layered
//!   chunk in the output format with the output's scale and offset is copied byte for
//!   byte (the fast path); every other tile (laszip in other formats or several
//!   chunks, binary, zstandard) is decoded and re-encoded.
//! - The output: point format from the schema (6, 7 with Red/Green/Blue, 8 with
//!   Infrared), an extra-bytes VLR for every other schema dimension (e.g. `OriginId`,
//!   with its type, scale and offset), scale and offset from the schema's X, Y, Z
//!   (or `--scale`/`--offset`), the WKT of `srs` (its `wkt`, or its EPSG code through
//!   the writer's CRS table; `--a-srs` overrides), the hierarchy cut into pages by the
//!   writer's page policy, `ept-sources/list.json` kept as an EVLR (`EPT`/1). The
//!   header is exact: counts, counts by return, extents and the GPS range come from
//!   the points (for copied chunks, from decoding only the X, Y, Z, return and GPS
//!   time layers; the tiles' headers are never trusted).
//! - Nodes are processed in parallel on the rayon pool (`threads`); each holds one
//!   tile and its records, so memory stays near threads × 3 × the largest node,
//!   plus the compressed chunks the writer's chunk store keeps in memory
//!   (memory_limit / 8; the rest goes to a temp file).

pub mod export;
pub mod json;
pub mod repack;

use crate::error::{Error, Location, Result};
use crate::format::{Cube, VoxelKey};
use crate::source::{ByteSource, HttpOptions, open_source};
use crate::writer::file::{ChunkStore, FileSpec, preorder_cmp, write_file};
use crate::writer::input::InputFile;
use crate::writer::octree::ChunkSink;
use crate::writer::{OffsetOption, Progress, Stats, WriterOptions, crs, default_memory_limit};
use json::{DataType, EPT_JSON_LIMIT, EptJson, HIERARCHY_FILE_LIMIT};
use rayon::prelude::*;
use repack::{BinaryPlan, NodeChunk, Target};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Largest `ept-sources/list.json` kept as an EVLR; a larger one is left out (with a warning).
pub const SOURCES_LIST_LIMIT: u64 = 16 << 20;

/// The output point format. The schema's (6, 7 with Red/Green/Blue, 8 with Infrared),
/// unless the laszip tiles hold another one: Entwine has written datasets whose schema
/// lists no colour while every tile is point format 7. What the tiles hold is what
/// users want, so when every tile maps to one format that is not the schema's, that
/// format is used, with a warning naming the mismatch. Tiles that disagree among
/// themselves (some with colour, some without) are an error: one output format would
/// invent colours (or infrared) for some points.
fn output_format(
    ept: &EptJson,
    ept_name: &str,
    ds: &Dataset,
    data_nodes: &[(VoxelKey, u64)],
    probe: Option<&InputFile>,
    opts: &WriterOptions,
    warnings: &mut Vec<String>,
) -> Result<u8> {
    let schema = Target::schema_format(ept);
    let Some(probe) = probe else { return Ok(schema) };
    let probe_format = crate::writer::convert::target_format(probe.header.point_format);
    if probe_format == schema {
        return Ok(schema);
    }
    // the first tile disagrees with the schema: read every tile's point format (byte
    // 104 of its header) to see whether the tiles agree among themselves
    let ext = ept.data_type.extension();
    let formats: Vec<(VoxelKey, u8)> = data_nodes
        .par_iter()
        .map(|&(k, _)| -> Result<(VoxelKey, u8)> {
            let src = ds.open(&ds.file(&format!("ept-data/{k}.{ext}")))?;
            if src.len() < 105 {
                return Err(Error::format(src.name(), Location::Offset(0), format!("{} bytes: too short for a LAS header", src.len())));
            }
            let b = src.read_range(104..105)?;
            Ok((k, crate::writer::convert::target_format(b[0] & 0x3F)))
        })
        .collect::<Result<_>>()?;
    let names = |f: u8| match f {
        8 => "RGB and infrared",
        7 => "RGB",
        _ => "no colour",
    };
    let mut by_format: std::collections::BTreeMap<u8, Vec<VoxelKey>> = Default::default();
    for (k, f) in formats {
        by_format.entry(f).or_default().push(k);
    }
    if by_format.len() > 1 {
        let list: Vec<String> = by_format
            .iter()
            .map(|(f, keys)| format!("{} tiles as point format {f} ({}; e.g. node {})", keys.len(), names(*f), keys[0]))
            .collect();
        return Err(Error::unsupported(
            ept_name,
            Location::Source,
            format!(
                "the schema implies point format {schema} ({}) but the tiles disagree among themselves: {}; \
                 one COPC file has one point format, and filling in values some tiles do not have would invent them",
                names(schema),
                list.join(", ")
            ),
        ));
    }
    warn(
        opts,
        warnings,
        format!(
            "{ept_name}: the schema implies point format {schema} ({}) but every one of the {} tiles is point format {probe_format} ({}); \
             the output keeps what the tiles hold: point format {probe_format}",
            names(schema),
            data_nodes.len(),
            names(probe_format)
        ),
    );
    Ok(probe_format)
}

/// What [`translate_ept`] did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EptSummary {
    pub points: u64,
    /// Data nodes written (= LAZ chunks).
    pub nodes: u64,
    /// Nodes whose tile chunk was copied without re-encoding.
    pub copied: u64,
    /// Nodes decoded and re-encoded.
    pub reencoded: u64,
    /// Hierarchy keys with 0 points (kept as empty entries when they have data below).
    pub empty_nodes: u64,
    pub hierarchy_files: u64,
    pub hierarchy_pages: u64,
    pub data_type: DataType,
    pub point_format: u8,
    pub scale: [f64; 3],
    pub offset: [f64; 3],
    pub cube: Cube,
    pub spacing: f64,
    /// Points that lie outside their node's cube (kept in their node).
    pub points_outside: u64,
    pub warnings: Vec<String>,
    pub seconds: f64,
}

/// Where the dataset's files are: a local folder or a URL prefix.
struct Dataset {
    ept_json: String,
    base: Base,
    http: HttpOptions,
}

enum Base {
    Dir(PathBuf),
    /// URL up to and including the last `/`, and the query string (with its `?`) to
    /// append to every file's URL.
    Url {
        prefix: String,
        query: String,
    },
}

/// A URL (http, https, or an object store's s3://, az://, azure://, gs://): files of the
/// dataset are named by appending to its prefix, and read through `open_source`.
fn is_url(s: &str) -> bool {
    let l = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    ["http://", "https://", "s3://", "az://", "azure://", "gs://"].iter().any(|p| l.starts_with(p))
}

/// True when `location` names an EPT dataset: a file (or URL) named `ept.json`.
pub fn is_ept_location(location: &str) -> bool {
    let path = location.split(['?', '#']).next().unwrap_or(location);
    path == "ept.json" || path.ends_with("/ept.json") || path.ends_with("\\ept.json")
}

impl Dataset {
    /// `http`: how a URL dataset's files are read (the writer options' `http`).
    fn new(location: &str, http: HttpOptions) -> Result<Dataset> {
        if is_url(location) {
            let (path, query) = match location.find('?') {
                Some(i) => (&location[..i], location[i..].to_string()),
                None => (location, String::new()),
            };
            let prefix = if path.ends_with('/') {
                path.to_string()
            } else if is_ept_location(path) {
                path[..path.len() - "ept.json".len()].to_string()
            } else {
                format!("{path}/")
            };
            return Ok(Dataset {
                ept_json: format!("{prefix}ept.json{query}"),
                base: Base::Url { prefix, query },
                http,
            });
        }
        let p = Path::new(location);
        let dir = if p.is_dir() {
            p.to_path_buf()
        } else {
            match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            }
        };
        let ept_json = if p.is_dir() {
            dir.join("ept.json")
        } else {
            p.to_path_buf()
        };
        Ok(Dataset {
            ept_json: ept_json.display().to_string(),
            base: Base::Dir(dir),
            http,
        })
    }

    /// The path or URL of a file of the dataset (`rel` like `ept-data/0-0-0-0.laz`).
    fn file(&self, rel: &str) -> String {
        match &self.base {
            Base::Dir(d) => d.join(rel).display().to_string(),
            Base::Url { prefix, query } => format!("{prefix}{rel}{query}"),
        }
    }

    fn open(&self, location: &str) -> Result<Arc<dyn ByteSource>> {
        open_source(location, &self.http)
    }

    /// Reads a whole (JSON) file after checking its size against `limit`.
    fn read_all(&self, location: &str, limit: u64, what: &str) -> Result<(String, Vec<u8>)> {
        let src = self.open(location)?;
        let len = src.len();
        if len > limit {
            return Err(Error::format(
                shown(location),
                Location::Source,
                format!("{what} has {len} bytes, more than the {limit} bytes accepted for it"),
            ));
        }
        Ok((src.name().to_string(), src.read_range(0..len)?))
    }
}

/// A location for messages: a URL without its query string (it may hold a signature).
fn shown(location: &str) -> &str {
    location.split('?').next().unwrap_or(location)
}

fn warn(opts: &WriterOptions, warnings: &mut Vec<String>, msg: String) {
    if let Some(p) = &opts.progress {
        p(&Progress::Warning(msg.clone()));
    }
    warnings.push(msg);
}

/// The WKT of the output: `--a-srs`, else `srs.wkt`, else `srs` authority EPSG and
/// horizontal (plus vertical) codes through the writer's CRS table.
fn output_wkt(ept: &EptJson, name: &str, opts: &WriterOptions, warnings: &mut Vec<String>) -> Result<Option<String>> {
    if let Some(a) = &opts.a_srs {
        return crs::parse_a_srs(a).map(Some);
    }
    if let Some(w) = &ept.srs.wkt {
        return Ok(Some(w.clone()));
    }
    let code = |c: &Option<String>| c.as_deref().and_then(|c| c.trim().parse::<u16>().ok());
    let epsg = ept
        .srs
        .authority
        .as_deref()
        .is_some_and(|a| a.eq_ignore_ascii_case("EPSG"));
    match (epsg, code(&ept.srs.horizontal)) {
        (true, Some(h)) => match crs::epsg_wkt(h) {
            Some(hw) => match code(&ept.srs.vertical).and_then(|v| crs::epsg_wkt(v).map(|w| (v, w))) {
                Some((_, vw)) => {
                    let title = |w: &str| w.split('"').nth(1).unwrap_or("").to_string();
                    Ok(Some(format!("COMPD_CS[\"{} + {}\",{hw},{vw}]", title(&hw), title(&vw))))
                }
                None => Ok(Some(hw)),
            },
            None => {
                warn(
                    opts,
                    warnings,
                    format!(
                        "{name}: srs EPSG:{h} is not in the CRS table; the output has no CRS (give one with --a-srs)"
                    ),
                );
                Ok(None)
            }
        },
        _ => {
            warn(
                opts,
                warnings,
                format!("{name}: 'srs' gives no WKT and no EPSG code; the output has no CRS (give one with --a-srs)"),
            );
            Ok(None)
        }
    }
}

/// Converts the EPT dataset at `location` (its `ept.json`, local or `http(s)://`, or
/// its folder) into one COPC file at `output`. Of `opts`, `threads`,
/// `memory_limit`, `temp_dir`, `scale`, `offset`, `a_srs`, `progress`,
/// `hierarchy_pages` and `cancel` apply; `max_points_per_node` does not (the octree
/// is the dataset's). The output appears only when complete.
pub fn translate_ept(location: &str, output: impl AsRef<Path>, opts: &WriterOptions) -> Result<EptSummary> {
    let output = output.as_ref();
    if opts.clip.is_some() {
        // nodes are copied whole: a clip would need every node decoded and rebuilt
        return Err(Error::invalid(format!("{location}: an EPT repack copies whole nodes and takes no clip box (--bounds)")));
    }
    let pool = opts.worker_pool()?;
    pool.install(|| run(location, output, opts))
}

fn check_cancel(opts: &WriterOptions) -> Result<()> {
    match &opts.cancel {
        Some(c) if c.load(Ordering::Relaxed) => Err(Error::Cancelled("the EPT repacker was asked to stop".into())),
        _ => Ok(()),
    }
}

fn run(location: &str, output: &Path, opts: &WriterOptions) -> Result<EptSummary> {
    let t0 = Instant::now();
    crate::writer::header::check_options(&opts.header, &opts.vlrs)?;
    // an unwritable target fails before anything is read
    let out_file = crate::writer::temp::OutputFile::create(output)?;
    let mut warnings = Vec::new();
    let ds = Dataset::new(location, opts.http.clone())?;
    let (ept_name, bytes) = ds.read_all(&ds.ept_json, EPT_JSON_LIMIT, "ept.json")?;
    let ept = json::parse_ept_json(&ept_name, &bytes)?;
    drop(bytes);

    // --- hierarchy
    let fetch = |k: VoxelKey| {
        ds.read_all(
            &ds.file(&format!("ept-hierarchy/{k}.json")),
            HIERARCHY_FILE_LIMIT,
            "the hierarchy file",
        )
    };
    let hierarchy = json::load_hierarchy(&fetch)?;
    let total = hierarchy.points();
    if total != ept.points {
        warn(
            opts,
            &mut warnings,
            format!(
                "{ept_name}: 'points' says {} but the hierarchy counts {total}; the hierarchy's counts are used (and checked against every tile)",
                ept.points
            ),
        );
    }
    let mut data_nodes: Vec<(VoxelKey, u64)> = hierarchy
        .nodes
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| (*k, *n))
        .collect();
    data_nodes.sort_by(|a, b| preorder_cmp(&a.0, &b.0));
    let empty_nodes = (hierarchy.nodes.len() - data_nodes.len()) as u64;
    let ext = ept.data_type.extension();
    let data_file = |k: VoxelKey| ds.file(&format!("ept-data/{k}.{ext}"));

    // --- a probe tile (laszip): GPS time kind, creation date, and scale/offset when
    // the schema has none
    let probe = match (ept.data_type, data_nodes.first()) {
        (DataType::Laszip, Some((k, _))) => Some(InputFile::from_source(ds.open(&data_file(*k))?)?),
        _ => None,
    };

    // --- scale and offset
    let axes = ["X", "Y", "Z"];
    let schema_scale = axes.map(|a| ept.dim(a).and_then(|d| d.scale));
    let schema_offset = axes.map(|a| ept.dim(a).and_then(|d| d.offset));
    let scale = match opts.scale {
        Some(s) => s,
        None if schema_scale.iter().all(Option::is_some) => schema_scale.map(|s| s.unwrap_or(1.0)),
        None => match &probe {
            Some(p) => p.header.scale,
            None => {
                warn(
                    opts,
                    &mut warnings,
                    format!("{ept_name}: the schema gives X, Y, Z no scale; using 0.001 (set --scale to choose)"),
                );
                [0.001; 3]
            }
        },
    };
    let auto = || -> [f64; 3] {
        let mut o = [0.0; 3];
        for a in 0..3 {
            let unit = scale[a] * 1000.0;
            o[a] = (ept.cube.center[a] / unit).round() * unit;
        }
        o
    };
    let offset = match opts.offset {
        Some(OffsetOption::Value(o)) => o,
        Some(OffsetOption::Auto) => auto(),
        None if schema_offset.iter().all(Option::is_some) => schema_offset.map(|o| o.unwrap_or(0.0)),
        None => match &probe {
            Some(p) => p.header.offset,
            None => auto(),
        },
    };
    let format = output_format(&ept, &ept_name, &ds, &data_nodes, probe.as_ref(), opts, &mut warnings)?;
    let target = Target::with_format(&ept, format, scale, offset)?;
    let plan = match ept.data_type {
        DataType::Laszip => None,
        _ => Some(BinaryPlan::new(&ept, &target)?),
    };
    let wkt = output_wkt(&ept, &ept_name, opts, &mut warnings)?;

    // --- ept-sources/list.json, kept as an EVLR when it is there and small
    let mut evlrs = Vec::new();
    let sources = ds.file("ept-sources/list.json");
    let present = match &ds.base {
        Base::Dir(_) => Path::new(&sources).is_file(),
        Base::Url { .. } => true,
    };
    if present {
        match ds.read_all(&sources, SOURCES_LIST_LIMIT, "ept-sources/list.json") {
            Ok((_, data)) => evlrs.push(("EPT".to_string(), 1u16, "ept-sources/list.json".to_string(), data)),
            Err(e) if matches!(ds.base, Base::Dir(_)) => {
                warn(opts, &mut warnings, format!("{e}; the sources list is not kept"));
            }
            Err(_) => {} // no sources list at that URL
        }
    }

    // --- memory: each node in flight holds its tile, its records and its chunk
    let limit = opts.memory_limit.unwrap_or_else(default_memory_limit);
    let per_point = (target.rec_len * 4) as u64;
    for (k, n) in &data_nodes {
        let need = n.saturating_mul(per_point);
        if need > limit {
            return Err(Error::format(
                shown(&data_file(*k)),
                Location::Node {
                    key: k.as_array(),
                    offset: None,
                },
                format!(
                    "the hierarchy lists {n} points for this node: repacking it needs about {need} bytes, over the memory limit of {limit} (raise --memory-limit)"
                ),
            ));
        }
    }

    // --- nodes, in parallel
    let temp_dir = opts.temp_dir.clone().unwrap_or_else(std::env::temp_dir);
    let store = ChunkStore::new((limit / 8).max(1 << 20) as usize, &temp_dir);
    let stats = Mutex::new(Stats::new());
    let outside: Mutex<Vec<(VoxelKey, u64)>> = Mutex::new(Vec::new());
    let copied = AtomicU64::new(0);
    let done_points = AtomicU64::new(0);
    let done_nodes = AtomicU64::new(0);
    let cube = ept.cube;
    let process = |&(key, n): &(VoxelKey, u64)| -> Result<()> {
        check_cancel(opts)?;
        let location = data_file(key);
        let name = shown(&location).to_string();
        let context = |e: Error| -> Error {
            Error::format(
                &name,
                Location::Node {
                    key: key.as_array(),
                    offset: None,
                },
                format!(
                    "the data file of this node ({n} points in the hierarchy) cannot be read: {}",
                    e.detail()
                ),
            )
        };
        let nc: NodeChunk = match (ept.data_type, &plan) {
            (DataType::Laszip, _) => {
                let src = ds.open(&location).map_err(context)?;
                repack::laszip_node(src, key, n, &target, &cube)?
            }
            (dt, Some(plan)) => {
                let src = ds.open(&location).map_err(context)?;
                let want = n * plan.record_size() as u64;
                let len = src.len();
                let bytes = match dt {
                    DataType::Binary => {
                        if len != want {
                            return Err(Error::format(
                                &name,
                                Location::Source,
                                format!(
                                    "holds {len} bytes but the {n} points the hierarchy lists for node {key} need {want} ({} bytes each)",
                                    plan.record_size()
                                ),
                            ));
                        }
                        src.read_range(0..len)?
                    }
                    _ => {
                        // Zstandard never grows data by more than a small fraction
                        if len > want + want / 64 + 4096 {
                            return Err(Error::format(
                                &name,
                                Location::Source,
                                format!(
                                    "holds {len} bytes, more than {n} points of {} bytes can compress to",
                                    plan.record_size()
                                ),
                            ));
                        }
                        let z = src.read_range(0..len)?;
                        repack::unzstd(&name, key, &z, want as usize)?
                    }
                };
                repack::binary_node(&name, key, &bytes, n, plan, &target, &cube)?
            }
            _ => return Err(Error::invalid("internal error: no binary plan")),
        };
        if nc.copied {
            copied.fetch_add(1, Ordering::Relaxed);
        }
        if nc.outside > 0 {
            outside
                .lock()
                .map_err(|_| Error::invalid("poisoned lock"))?
                .push((key, nc.outside));
        }
        stats
            .lock()
            .map_err(|_| Error::invalid("poisoned lock"))?
            .merge(&nc.stats);
        store.put(key, nc.points, nc.chunk)?;
        let read = done_points.fetch_add(nc.points, Ordering::Relaxed) + nc.points;
        let nodes = done_nodes.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(p) = &opts.progress {
            p(&Progress::PointsRead { read, total });
            p(&Progress::NodesWritten { nodes });
        }
        Ok(())
    };
    data_nodes.par_iter().with_max_len(1).try_for_each(process)?;
    check_cancel(opts)?;

    let stats = stats.into_inner().map_err(|_| Error::invalid("poisoned lock"))?;
    let mut outside = outside.into_inner().map_err(|_| Error::invalid("poisoned lock"))?;
    outside.sort_by(|a, b| preorder_cmp(&a.0, &b.0));
    let points_outside: u64 = outside.iter().map(|o| o.1).sum();
    if points_outside > 0 {
        let examples: Vec<String> = outside.iter().take(5).map(|(k, n)| format!("{k}: {n}")).collect();
        warn(
            opts,
            &mut warnings,
            format!(
                "{points_outside} points in {} nodes lie outside their node's cube by more than half a scale step ({}{}); they are kept in their nodes",
                outside.len(),
                examples.join(", "),
                if outside.len() > 5 { ", ..." } else { "" }
            ),
        );
    }

    // --- the file
    let mut spec = FileSpec {
        format: target.format,
        record_length: target.rec_len as u16,
        extra_bytes_len: target.extra_len as u16,
        scale: target.scale,
        offset: target.offset,
        min_int: stats.min,
        max_int: stats.max,
        points: stats.count,
        points_by_return: stats.by_return,
        gps_range: stats.gps_range(),
        cube: ept.cube,
        spacing: ept.spacing(),
        global_encoding_gps_bit: probe.as_ref().is_some_and(|p| p.header.global_encoding() & 1 != 0),
        file_source_id: 0,
        guid: [0; 16],
        system_identifier: "EPT".into(),
        generating_software: format!("copc {}", env!("CARGO_PKG_VERSION")),
        creation_day: probe.as_ref().map_or(0, |p| p.header.raw.file_creation_day_of_year),
        creation_year: probe.as_ref().map_or(0, |p| p.header.raw.file_creation_year),
        wkt,
        extra_bytes_vlr: target.extra_bytes_vlr(),
        vlrs: Vec::new(),
        evlrs,
        page_policy: opts.hierarchy_pages,
    };
    opts.header.apply(&mut spec);
    crate::writer::header::add_user_vlrs(&mut spec, &opts.vlrs);
    let (nodes, pages) = write_file(out_file, &spec, store)?;
    if let Some(p) = &opts.progress {
        p(&Progress::Done {
            points: stats.count,
            nodes: nodes as u64,
        });
    }
    let copied = copied.into_inner();
    Ok(EptSummary {
        points: stats.count,
        nodes: nodes as u64,
        copied,
        reencoded: nodes as u64 - copied,
        empty_nodes,
        hierarchy_files: hierarchy.files as u64,
        hierarchy_pages: pages as u64,
        data_type: ept.data_type,
        point_format: target.format,
        scale: target.scale,
        offset: target.offset,
        cube: ept.cube,
        spacing: ept.spacing(),
        points_outside,
        warnings,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert!(is_ept_location("a/b/ept.json"));
        assert!(is_ept_location("ept.json"));
        assert!(is_ept_location("https://h/x/ept.json?sig=1"));
        assert!(!is_ept_location("a/b/xept.json"));
        assert!(!is_ept_location("a/b/ept.json.laz"));
        let d = Dataset::new("https://h/x/ept.json?sig=1", HttpOptions::default()).unwrap();
        assert_eq!(d.ept_json, "https://h/x/ept.json?sig=1");
        assert_eq!(d.file("ept-data/0-0-0-0.laz"), "https://h/x/ept-data/0-0-0-0.laz?sig=1");
        assert_eq!(
            shown(&d.file("ept-data/0-0-0-0.laz")),
            "https://h/x/ept-data/0-0-0-0.laz"
        );
        let d = Dataset::new("/data/set/ept.json", HttpOptions::default()).unwrap();
        assert_eq!(
            d.file("ept-hierarchy/0-0-0-0.json"),
            "/data/set/ept-hierarchy/0-0-0-0.json"
        );
    }
}
