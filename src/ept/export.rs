//! COPC to EPT by copying chunks: every node of a COPC file becomes one `laszip` tile,
//! a LAS 1.4 file whose only chunk is the node's chunk, byte for byte. Nothing is
//! re-encoded, so a large EPT dataset takes seconds to make, and
//! [`translate_ept`](super::translate_ept) takes its copy path for every node. The
//! benchmark and the tests use it to make EPT datasets; it also hands a COPC octree
//! to tools that read EPT.
//!
//! ```no_run
//! let s = copc::ept::export::export_copc_as_ept("in.copc.laz", "dataset")?;
//! println!("{} tiles, {} points", s.nodes, s.points);
//! # Ok::<(), copc::Error>(())
//! ```

use super::repack::decompress_selected;
use crate::error::{Error, Location, Result};
use crate::format::extra_bytes::ExtraBytesType;
use crate::format::vlr::Vlr;
use crate::reader::Reader;
use rayon::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// What [`export_copc_as_ept`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportSummary {
    /// Tiles written (nodes with points).
    pub nodes: u64,
    pub points: u64,
}

/// The standard dimensions of point formats 6-8 as EPT names them, in record order.
fn standard_schema(format: u8) -> Vec<Value> {
    let mut v = vec![
        ("Intensity", "unsigned", 2),
        ("ReturnNumber", "unsigned", 1),
        ("NumberOfReturns", "unsigned", 1),
        ("Synthetic", "unsigned", 1),
        ("KeyPoint", "unsigned", 1),
        ("Withheld", "unsigned", 1),
        ("Overlap", "unsigned", 1),
        ("ScanChannel", "unsigned", 1),
        ("ScanDirectionFlag", "unsigned", 1),
        ("EdgeOfFlightLine", "unsigned", 1),
        ("Classification", "unsigned", 1),
        ("UserData", "unsigned", 1),
        ("ScanAngleRank", "float", 4),
        ("PointSourceId", "unsigned", 2),
        ("GpsTime", "float", 8),
    ];
    if format >= 7 {
        v.extend([("Red", "unsigned", 2), ("Green", "unsigned", 2), ("Blue", "unsigned", 2)]);
    }
    if format >= 8 {
        v.push(("Infrared", "unsigned", 2));
    }
    v.into_iter().map(|(n, t, s)| json!({"name": n, "type": t, "size": s})).collect()
}

fn eb_schema_type(t: ExtraBytesType) -> Option<&'static str> {
    use ExtraBytesType::*;
    match t {
        U8 | U16 | U32 | U64 => Some("unsigned"),
        I8 | I16 | I32 | I64 => Some("signed"),
        F32 | F64 => Some("float"),
        Raw => None,
    }
}

/// Writes `dir` (which must not exist yet) as an EPT dataset holding the points of
/// the COPC file `copc`, node for node. The dataset is built in a temporary folder
/// beside `dir` and renamed into place, so `dir` holds either nothing or all of it.
pub fn export_copc_as_ept(copc: impl AsRef<Path>, dir: impl AsRef<Path>) -> Result<ExportSummary> {
    let dir = dir.as_ref();
    let dname = dir.display().to_string();
    if dir.exists() {
        return Err(Error::invalid(format!("{dname}: already exists (the EPT dataset is written as a new folder)")));
    }
    let r = Reader::open(copc)?;
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    // built in a locked folder beside `dir`: a killed export's folder is removed by
    // the next export into the same parent
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "ept".into());
    let prefix = format!(".{name}.ept-export-");
    crate::writer::temp::sweep_stale_dirs(parent, &prefix);
    let tmp = crate::writer::temp::SpillDir::create_with_prefix(parent, &prefix)?;
    let summary = write_dataset(&r, tmp.path())?;
    let built = tmp.keep();
    std::fs::rename(&built, dir).map_err(|e| {
        let _ = std::fs::remove_dir_all(&built);
        Error::io(&dname, Location::Source, "cannot rename the finished dataset to", e)
    })?;
    Ok(summary)
}

fn write_dataset(r: &Reader, out: &Path) -> Result<ExportSummary> {
    let name = r.name().to_string();
    let h = r.header();
    let vlr = r
        .las()
        .laz_vlr
        .clone()
        .ok_or_else(|| Error::unsupported(&name, Location::Source, "not a LAZ file"))?;
    let items = vlr.items().clone();
    let rec_len = h.point_record_length as usize;
    let eb_vlr = r.las().extra_bytes_merged()?.1;
    let mut schema = vec![];
    for (a, axis) in ["X", "Y", "Z"].iter().enumerate() {
        schema.push(json!({"name": axis, "type": "signed", "size": 4, "scale": h.scale[a], "offset": h.offset[a]}));
    }
    schema.extend(standard_schema(h.point_format));
    for eb in r.extra_bytes() {
        let t = eb_schema_type(eb.scalar).filter(|_| eb.count == 1).ok_or_else(|| {
            Error::unsupported(&name, Location::Source, format!("extra-bytes dimension '{}' ({}) has no EPT type: EPT schema dimensions are single signed, unsigned or floating numbers", eb.name, eb.type_name()))
        })?;
        let mut d = json!({"name": eb.name, "type": t, "size": eb.scalar.size()});
        if let Some(s) = eb.scale {
            d["scale"] = json!(s[0]);
        }
        if let Some(o) = eb.offset {
            d["offset"] = json!(o[0]);
        }
        schema.push(d);
    }

    let io = |what: &Path, e: std::io::Error| Error::io(&what.display().to_string(), Location::Source, "cannot write", e);
    let data_dir = out.join("ept-data");
    std::fs::create_dir_all(&data_dir).map_err(|e| io(&data_dir, e))?;
    std::fs::create_dir_all(out.join("ept-hierarchy")).map_err(|e| io(out, e))?;
    let entries: Vec<_> = r.all_entries()?.into_iter().filter(|e| !e.is_page() && e.point_count > 0).collect();

    entries.par_iter().try_for_each(|entry| -> Result<()> {
        let n = entry.point_count as u64;
        let key = entry.key;
        let at = Location::Node { key: [key.level, key.x, key.y, key.z], offset: Some(entry.offset) };
        let chunk = r.source().read_range(entry.offset..entry.offset + entry.byte_size as u64)?;
        // the tile's header is exact: bounds and counts by return from its points
        let selection = laz::DecompressionSelection::xy_returns_channel().decompress_z();
        let recs = decompress_selected(&items, &chunk, n as usize, rec_len, selection)
            .map_err(|m| Error::format(&name, at.clone(), format!("the chunk does not decode: {m}")))?;
        let (mut lo, mut hi, mut by_return) = ([i32::MAX; 3], [i32::MIN; 3], [0u64; 15]);
        for rec in recs.chunks_exact(rec_len) {
            for a in 0..3 {
                let v = i32::from_le_bytes(rec[4 * a..4 * a + 4].try_into().unwrap_or_default());
                lo[a] = lo[a].min(v);
                hi[a] = hi[a].max(v);
            }
            let ret = (rec[14] & 0x0F) as usize;
            if (1..=15).contains(&ret) {
                by_return[ret - 1] += 1;
            }
        }
        let tile_vlr = laz::LazVlrBuilder::new(items.clone()).with_fixed_chunk_size(n as u32).build();
        let mut laz_data = Vec::new();
        tile_vlr.write_to(&mut laz_data).map_err(|e| io(out, e))?;
        let mut vlrs = Vec::new();
        Vlr::write(laz::LazVlr::USER_ID, laz::LazVlr::RECORD_ID, laz::LazVlr::DESCRIPTION, &laz_data, false, &mut vlrs);
        if let Some(eb) = &eb_vlr {
            Vlr::write("LASF_Spec", 4, "Extra Bytes Record", eb, false, &mut vlrs);
        }
        let w = |a: usize, v: i32| v as f64 * h.scale[a] + h.offset[a];
        let mut raw = las::raw::Header { version: las::Version::new(1, 4), ..Default::default() };
        raw.header_size = 375;
        raw.global_encoding = h.raw.global_encoding & 0x01 | 0x10;
        raw.offset_to_point_data = 375 + vlrs.len() as u32;
        raw.number_of_variable_length_records = 1 + u32::from(eb_vlr.is_some());
        raw.point_data_record_format = h.point_format | 0x80;
        raw.point_data_record_length = h.point_record_length;
        (raw.x_scale_factor, raw.y_scale_factor, raw.z_scale_factor) = (h.scale[0], h.scale[1], h.scale[2]);
        (raw.x_offset, raw.y_offset, raw.z_offset) = (h.offset[0], h.offset[1], h.offset[2]);
        (raw.min_x, raw.min_y, raw.min_z) = (w(0, lo[0]), w(1, lo[1]), w(2, lo[2]));
        (raw.max_x, raw.max_y, raw.max_z) = (w(0, hi[0]), w(1, hi[1]), w(2, hi[2]));
        raw.start_of_waveform_data_packet_record = Some(0);
        raw.evlr = Some(las::raw::header::Evlr { start_of_first_evlr: 0, number_of_evlrs: 0 });
        raw.large_file = Some(las::raw::header::LargeFile { number_of_point_records: n, number_of_points_by_return: by_return });
        let mut tile = Vec::with_capacity(375 + vlrs.len() + 8 + chunk.len() + 64);
        raw.write_to(&mut tile).map_err(|e| Error::format(&name, at.clone(), format!("cannot make the tile header: {e}")))?;
        tile.extend_from_slice(&vlrs);
        // LAZ point data: the chunk table's offset, the one chunk, the chunk table
        let table_at = (tile.len() + 8 + chunk.len()) as i64;
        tile.extend_from_slice(&table_at.to_le_bytes());
        tile.extend_from_slice(&chunk);
        let mut table = laz::laszip::ChunkTable::with_capacity(1);
        table.push(laz::laszip::ChunkTableEntry { point_count: n, byte_count: chunk.len() as u64 });
        table.write_to(&mut tile, &tile_vlr).map_err(|e| io(out, e))?;
        let path = data_dir.join(format!("{key}.laz"));
        std::fs::write(&path, tile).map_err(|e| io(&path, e))
    })?;

    let hierarchy: BTreeMap<String, u64> = entries.iter().map(|e| (e.key.to_string(), e.point_count as u64)).collect();
    let points: u64 = hierarchy.values().sum();
    let hpath = out.join("ept-hierarchy/0-0-0-0.json");
    std::fs::write(&hpath, serde_json::to_vec(&hierarchy).unwrap_or_default()).map_err(|e| io(&hpath, e))?;

    let info = r.info();
    let (c, hs) = (info.center, info.halfsize);
    // span: points across the root node; EPT's spacing is 2·halfsize / span
    let span = if info.spacing > 0.0 { (2.0 * hs / info.spacing).round().max(1.0) as u64 } else { 128 };
    let mut srs = serde_json::Map::new();
    if let Some(wkt) = r.crs_wkt()? {
        srs.insert("wkt".into(), json!(wkt));
    }
    let ept = json!({
        "bounds": [c[0] - hs, c[1] - hs, c[2] - hs, c[0] + hs, c[1] + hs, c[2] + hs],
        "boundsConforming": [h.min[0], h.min[1], h.min[2], h.max[0], h.max[1], h.max[2]],
        "dataType": "laszip",
        "hierarchyType": "json",
        "points": points,
        "schema": schema,
        "span": span,
        "srs": srs,
        "version": "1.0.0",
    });
    let epath = out.join("ept.json");
    std::fs::write(&epath, serde_json::to_vec_pretty(&ept).unwrap_or_default()).map_err(|e| io(&epath, e))?;
    Ok(ExportSummary { nodes: entries.len() as u64, points })
}
