//! `copc info`: what a COPC file holds.

use super::Failure;
use copc::Reader;
use copc::reader::LasFile;
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
    /// The COPC file (a path or an http(s)/s3/az/gs URL), or a dataset: a .vpc or STAC ItemCollection .json (totals and tiles).
    source: String,
    #[command(flatten)]
    src: super::SourceArgs,
}

pub fn run(a: InfoArgs) -> Result<(), Failure> {
    if copc::dataset::is_dataset_location(&a.source) {
        return super::dataset_query::info(&a.src, &a.source, a.json);
    }
    let fail = |e| Failure::new(&a.source, e);
    let source = a.src.open_source(&a.source)?;
    let r = match Reader::from_source(source.clone(), &a.src.reader_options(&a.source)?) {
        Ok(r) => r,
        // A LAS/LAZ file that is not COPC: its header, and how to make it COPC.
        Err(e @ copc::Error::NotCopc { .. }) => match LasFile::open(source) {
            Ok(las) if is_whole_plain_las(&las) => return plain_las(&a, &las, &e.detail()),
            _ => return Err(fail(e)),
        },
        Err(e) => return Err(fail(e)),
    };
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

/// A LAS/LAZ file that parses without irregularities, has no COPC records and (when
/// uncompressed) holds every point record: a damaged COPC file stays an error.
fn is_whole_plain_las(las: &LasFile) -> bool {
    let h = &las.header;
    let copc_like = las.vlrs.iter().any(|v| v.user_id == "copc" || v.user_id == "entwine");
    let records_end = h.offset_to_point_data().saturating_add(h.point_count.saturating_mul(u64::from(h.point_record_length)));
    las.warnings.is_empty() && !copc_like && (las.laz_vlr.is_some() || records_end <= las.source.len())
}

/// `copc info` on a plain LAS/LAZ file: the header summary, then why it is not COPC
/// and the command that converts it.
fn plain_las(a: &InfoArgs, las: &LasFile, why: &str) -> Result<(), Failure> {
    let h = &las.header;
    let crs = las.crs_wkt().map_err(|e| Failure::new(&a.source, e))?;
    let convert = format!("copc translate {} OUT.copc.laz", a.source);
    if a.json {
        let v = json!({
            "source": las.name(),
            "is_copc": false,
            "not_copc_reason": why,
            "convert_with": convert,
            "point_count": h.point_count,
            "point_format": h.point_format,
            "point_record_length": h.point_record_length,
            "las_version": format!("{}.{}", h.version.0, h.version.1),
            "compressed": las.laz_vlr.is_some(),
            "scale": h.scale,
            "offset": h.offset,
            "bounds": {"min": h.min, "max": h.max},
            "points_by_return": &h.points_by_return[..],
            "crs_wkt": crs,
            "system_identifier": h.system_identifier(),
            "generating_software": h.generating_software(),
            // LAS 1.5: GPS times are standard GPS time - this x 10^6 s (null: 1.4's 10^9 s)
            "gps_time_offset": h.gps_time_offset,
            "warnings": las.warnings,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        println!("{}", las.name());
        println!("  points          {}", h.point_count);
        let kind = if las.laz_vlr.is_some() { "LAZ" } else { "LAS" };
        println!("  {kind}             {}.{}, point format {}, {} bytes per record", h.version.0, h.version.1, h.point_format, h.point_record_length);
        println!("  bounds          min {:?}", h.min);
        println!("                  max {:?}", h.max);
        println!("  scale / offset  {:?} / {:?}", h.scale, h.offset);
        println!("  CRS             {}", crs.as_deref().map(crs_name).unwrap_or_else(|| "none (or GeoTIFF keys)".into()));
        println!("  software        {} / {}", h.system_identifier(), h.generating_software());
        if let Some(o) = h.gps_time_offset {
            println!("  GPS time        standard GPS time - {o} x 10^6 s (LAS 1.5 time offset; COPC uses 1000)");
        }
        for w in &las.warnings {
            println!("  warning         {w}");
        }
        println!("  not COPC        {why}");
        println!("  convert with    {convert}");
    }
    Ok(())
}
