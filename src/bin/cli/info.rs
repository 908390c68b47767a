//! `copc info`: what a COPC file holds.

use super::Failure;
use copc::Reader;
use serde_json::{Value, json};

/// Print a summary of a COPC file (header, CRS, octree, hierarchy).
#[derive(clap::Args)]
#[command(about = "Summary of a COPC file: header, CRS, octree, hierarchy", after_help = "Examples:\n  copc info --json autzen.copc.laz")]
pub struct InfoArgs {
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// List every hierarchy node (key, offset, bytes, points); with --json as a "nodes" array.
    #[arg(long)]
    nodes: bool,
    /// The COPC file: a path or an http(s):// URL.
    source: String,
    #[command(flatten)]
    src: super::SourceArgs,
}

pub fn run(a: InfoArgs) -> Result<(), Failure> {
    let fail = |e| Failure::new(&a.source, e);
    let r = a.src.open(&a.source)?;
    let mut v = info_json(&r).map_err(fail)?;
    let entries = if a.nodes { r.all_entries().map_err(fail)? } else { Vec::new() };
    if a.json {
        if a.nodes {
            v["nodes"] = entries
                .iter()
                .map(|e| json!({"key": e.key.to_string(), "offset": e.offset, "byte_size": e.byte_size, "point_count": e.point_count}))
                .collect();
        }
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        print_text(&r, &v);
        if a.nodes {
            println!("  {:<16} {:>12} {:>10} {:>10}", "node", "offset", "bytes", "points");
            for e in &entries {
                println!("  {:<16} {:>12} {:>10} {:>10}", e.key.to_string(), e.offset, e.byte_size, e.point_count);
            }
        }
    }
    Ok(())
}

pub fn info_json(r: &Reader) -> copc::Result<Value> {
    let h = r.header();
    let i = r.info();
    let s = r.hierarchy_summary()?;
    let extra: Vec<Value> = r.extra_bytes().iter().map(|e| json!({"name": e.name, "type": e.type_name()})).collect();
    Ok(json!({
        "source": r.name(),
        "point_count": h.point_count,
        "point_format": h.point_format,
        "point_record_length": h.point_record_length,
        "las_version": format!("{}.{}", h.version.0, h.version.1),
        "scale": h.scale,
        "offset": h.offset,
        "bounds": {"min": h.min, "max": h.max},
        "points_by_return": &h.points_by_return[..],
        "crs_wkt": r.crs_wkt()?,
        "extra_bytes": extra,
        "system_identifier": h.system_identifier(),
        "generating_software": h.generating_software(),
        "copc": {
            "center": i.center,
            "halfsize": i.halfsize,
            "spacing": i.spacing,
            "root_hier_offset": i.root_hier_offset,
            "root_hier_size": i.root_hier_size,
            "gpstime_minimum": i.gpstime_minimum,
            "gpstime_maximum": i.gpstime_maximum,
            "draft": r.is_draft(),
            "cube_derived": r.is_draft(),
        },
        "hierarchy": {
            "nodes": s.nodes,
            "data_nodes": s.data_nodes,
            "pages": s.pages,
            "max_depth": s.max_depth,
            "points": s.points,
        },
        "warnings": r.warnings(),
    }))
}

fn print_text(r: &Reader, v: &Value) {
    let h = r.header();
    let i = r.info();
    println!("{}", r.name());
    println!("  points          {}", h.point_count);
    println!("  LAS             {}.{}, point format {}, {} bytes per record", h.version.0, h.version.1, h.point_format, h.point_record_length);
    println!("  bounds          min {:?}", h.min);
    println!("                  max {:?}", h.max);
    println!("  scale / offset  {:?} / {:?}", h.scale, h.offset);
    let crs = v["crs_wkt"].as_str().map(crs_name).unwrap_or_else(|| "none".into());
    println!("  CRS             {crs}");
    println!("  octree          center {:?}, halfsize {}, spacing {}{}", i.center, i.halfsize, i.spacing, if r.is_draft() { " (draft file: derived)" } else { "" });
    println!("  GPS time        {} .. {}", i.gpstime_minimum, i.gpstime_maximum);
    let hs = &v["hierarchy"];
    println!("  hierarchy       {} nodes ({} with data), {} pages, depth {}", hs["nodes"], hs["data_nodes"], hs["pages"], hs["max_depth"]);
    for e in r.extra_bytes() {
        println!("  extra dimension {} ({})", e.name, e.type_name());
    }
    // tolerated writer slips (e.g. a wrong EVLR pointer): the file opened, but say so
    for w in r.warnings() {
        println!("  warning         {w}");
    }
}

/// The name in a WKT's first quoted string (e.g. "NAD83 / UTM zone 15N").
fn crs_name(wkt: &str) -> String {
    wkt.split('"').nth(1).unwrap_or(wkt).to_string()
}
