//! COPC validation: every rule of the COPC 1.0 spec and the checks of the public
//! validators (copc-validator, copcverify, copc-converter's test validator), each
//! reported as PASS, WARN (a legal writer quirk) or FAIL, never as a panic.

use crate::error::Result;
use crate::format::hierarchy::{Entry, parse_page};
use crate::format::info::{CopcInfo, INFO_SIZE};
use crate::format::point::PointLayout;
use crate::format::{VoxelKey, Vlr};
use crate::reader::{LasFile, Query, Reader, ReaderOptions};
use crate::source::ByteSource;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        })
    }
}

#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub status: Status,
    pub detail: String,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub source: String,
    pub checks: Vec<Check>,
}

impl Report {
    fn add(&mut self, name: &str, status: Status, detail: impl Into<String>) {
        self.checks.push(Check { name: name.to_string(), status, detail: detail.into() });
    }
    fn pass(&mut self, name: &str, detail: impl Into<String>) {
        self.add(name, Status::Pass, detail)
    }
    fn warn(&mut self, name: &str, detail: impl Into<String>) {
        self.add(name, Status::Warn, detail)
    }
    fn fail(&mut self, name: &str, detail: impl Into<String>) {
        self.add(name, Status::Fail, detail)
    }
    fn check(&mut self, name: &str, ok: bool, pass: impl Into<String>, fail: impl Into<String>) {
        if ok { self.pass(name, pass) } else { self.fail(name, fail) }
    }

    pub fn count(&self, s: Status) -> usize {
        self.checks.iter().filter(|c| c.status == s).count()
    }

    /// No FAIL (and, when strict, no WARN).
    pub fn ok(&self, strict: bool) -> bool {
        self.count(Status::Fail) == 0 && (!strict || self.count(Status::Warn) == 0)
    }
}

#[derive(Debug, Clone, Default)]
pub struct ValidateOptions {
    /// Skip decoding the chunks (structure only).
    pub quick: bool,
    pub reader: ReaderOptions,
}

/// Validates a COPC file. Problems are checks in the report, not errors.
pub fn validate(source: Arc<dyn ByteSource>, opts: &ValidateOptions) -> Report {
    let mut r = Report { source: source.name().to_string(), checks: Vec::new() };
    let file = match LasFile::open(source.clone()) {
        Ok(f) => f,
        Err(e) => {
            r.fail("file.structure", e.detail());
            return r;
        }
    };
    if let Err(e) = structure(&file, &mut r) {
        r.fail("file.read", e.detail());
        return r;
    }
    if !opts.quick && r.count(Status::Fail) == 0 {
        points(source, opts, &file, &mut r);
    }
    r
}

fn structure(file: &LasFile, r: &mut Report) -> Result<()> {
    let h = &file.header;
    let len = file.source.len();
    r.check("header.version", h.version == (1, 4), "LAS 1.4", format!("LAS {}.{} (COPC requires 1.4)", h.version.0, h.version.1));
    r.check("header.size", h.header_size() == 375, "375 bytes", format!("{} bytes (expected 375)", h.header_size()));
    r.check("header.point_format", (6..=8).contains(&h.point_format), format!("{}", h.point_format), format!("{} (COPC allows 6, 7, 8)", h.point_format));
    if h.compressed { r.pass("header.laz_bit", "set") } else { r.warn("header.laz_bit", "the LAZ bit 0x80 of the point format is not set") }
    let base = PointLayout::base_size(h.point_format);
    r.check("header.record_length", h.point_record_length as usize >= base, format!("{} bytes", h.point_record_length), format!("{} < {base}", h.point_record_length));
    r.check("header.wkt_bit", h.has_wkt_bit(), "global encoding bit 4 (WKT) set", "global encoding bit 4 (WKT) is not set");
    if h.legacy_point_count != 0 || h.legacy_points_by_return.iter().any(|&c| c != 0) {
        r.warn("header.legacy_counts", format!("legacy point count {} is not 0 (LAS 1.4 with PDRF 6-10 requires 0; PDAL writes it)", h.legacy_point_count));
    } else {
        r.pass("header.legacy_counts", "0");
    }
    for w in &file.warnings {
        // a wrong EVLR pointer is tolerated when reading, never in a valid file
        let name = if file.evlr_warning.as_ref() == Some(w) { "header.evlr_start" } else { "header.vlr_count" };
        r.fail(name, w.clone());
    }

    // VLR area ends at the point data
    let vlr_end = file.vlrs.last().map(|v| v.data_offset + v.data_len).unwrap_or(h.header_size() as u64);
    if vlr_end == h.offset_to_point_data() {
        r.pass("vlrs.end", format!("VLRs end at the point data (byte {vlr_end})"));
    } else {
        // LAS allows user bytes here (LAStools writes 2); readers must not assume none
        r.warn("vlrs.end", format!("{} bytes between the last VLR (ends at {vlr_end}) and the point data", h.offset_to_point_data() - vlr_end));
    }

    // info VLR
    let first = file.vlrs.first();
    let info = match first {
        Some(v) if v.is("copc", 1) && v.header_offset == 375 && v.data_len == INFO_SIZE as u64 => {
            r.pass("copc.info_first", "copc/1 is the first VLR, at byte 375, 160 bytes");
            CopcInfo::parse(v.data.as_deref().unwrap_or_default())
        }
        Some(v) if v.user_id == "entwine" && v.record_id == 1 => {
            r.fail("copc.info_first", "first VLR is entwine/1: a pre-1.0 draft COPC file (readable by this library, not COPC 1.0)");
            None
        }
        Some(v) => {
            r.fail("copc.info_first", format!("first VLR is {}/{} of {} bytes at byte {} (expected copc/1, 160 bytes, at 375)", v.user_id, v.record_id, v.data_len, v.header_offset));
            None
        }
        None => {
            r.fail("copc.info_first", "no VLRs");
            None
        }
    };
    let infos = file.vlrs.iter().filter(|v| v.is("copc", 1)).count();
    r.check("copc.info_unique", infos == 1, "one info VLR", format!("{infos} copc/1 VLRs"));
    let Some(info) = info else { return Ok(()) };
    let finite = info.center.iter().all(|c| c.is_finite()) && info.halfsize.is_finite() && info.spacing.is_finite();
    r.check("copc.info_values", finite && info.halfsize > 0.0 && info.spacing > 0.0,
        format!("center {:?}, halfsize {}, spacing {}", info.center, info.halfsize, info.spacing),
        format!("center {:?}, halfsize {}, spacing {} (need finite values, halfsize > 0, spacing > 0)", info.center, info.halfsize, info.spacing));
    r.check("copc.info_reserved", info.reserved.iter().all(|&x| x == 0), "reserved words are 0", "reserved words are not 0");
    let cube = info.cube().node_bounds(&VoxelKey::ROOT);
    let tol = h.scale.iter().fold(0.0f64, |a, s| a.max(s.abs()));
    let contains = (0..3).all(|i| cube.min[i] - tol <= h.min[i] && h.max[i] <= cube.max[i] + tol);
    if contains { r.pass("copc.cube_contains_bounds", "the octree cube contains the header bounds") } else {
        r.warn("copc.cube_contains_bounds", format!("cube {:?}..{:?} does not contain the header bounds {:?}..{:?}", cube.min, cube.max, h.min, h.max));
    }

    // EVLRs
    let evlrs = match file.evlrs() {
        Ok(e) => e,
        Err(e) => {
            r.fail("evlr.parse", e.detail());
            return Ok(());
        }
    };
    r.pass("evlr.parse", format!("{} EVLRs", evlrs.len()));
    if let Some(last) = evlrs.last() {
        let end = last.data_offset + last.data_len;
        r.check("evlr.end", end == len, "EVLRs end at the end of the file", format!("EVLRs end at byte {end}, the file at {len}"));
    }

    // LAZ VLR
    let laz_vlrs: Vec<&Vlr> = file.vlrs.iter().filter(|v| v.is("laszip encoded", 22204)).collect();
    r.check("laz.vlr", laz_vlrs.len() == 1, "one laszip VLR", format!("{} laszip VLRs", laz_vlrs.len()));
    if let (Some(v), Some(lv)) = (laz_vlrs.first(), &file.laz_vlr) {
        let data = v.data.as_deref().unwrap_or_default();
        let compressor = if data.len() >= 2 { u16::from_le_bytes([data[0], data[1]]) } else { 0 };
        r.check("laz.compressor", compressor == 3, "3 (layered chunked)", format!("{compressor} (COPC needs 3)"));
        let eb = h.point_record_length as usize - base.min(h.point_record_length as usize);
        let expected = laz::LazItemRecordBuilder::default_for_point_format_id(h.point_format, eb as u16).ok();
        let items_ok = expected.as_ref().is_some_and(|e| {
            e.len() == lv.items().len()
                && e.iter().zip(lv.items()).all(|(a, b)| a.item_type() == b.item_type() && a.size() == b.size() && b.version() == 3)
        });
        r.check("laz.items", items_ok, "items match the point format and extra bytes (version 3)", format!("items {:?} do not match PDRF {} + {eb} extra bytes", lv.items().iter().map(|i| (i.item_type(), i.version())).collect::<Vec<_>>(), h.point_format));
        // laz-rs reads an on-disk 0 as variable: look at the stored field itself
        let stored = if data.len() >= 16 { u32::from_le_bytes(data[12..16].try_into().unwrap_or_default()) } else { lv.chunk_size() };
        match stored {
            u32::MAX => r.pass("laz.chunk_size", "variable (0xFFFFFFFF)"),
            0 => r.warn("laz.chunk_size", "0 (LAStools writes 0; COPC expects variable-size chunks, 0xFFFFFFFF)"),
            n => r.fail("laz.chunk_size", format!("fixed chunks of {n} points (COPC needs variable-size chunks)")),
        }
    }

    // CRS and extra bytes
    match file.find("LASF_Projection", 2112)? {
        Some(_) => r.pass("crs.wkt", "WKT CRS record present"),
        None => r.warn("crs.wkt", "no WKT CRS record"),
    }
    let geotiff = file.vlrs.iter().chain(evlrs.iter()).any(|v| v.user_id == "LASF_Projection" && (34735..=34737).contains(&v.record_id));
    if geotiff { r.warn("crs.no_geotiff", "GeoTIFF CRS records present (COPC files carry WKT)") } else { r.pass("crs.no_geotiff", "no GeoTIFF records") }
    match file.extra_bytes() {
        Ok(eb) => {
            let described: usize = eb.iter().map(|e| e.size()).sum();
            let have = h.extra_bytes_len();
            r.check("eb.vlr", described == have, format!("{} extra dimensions, {described} bytes", eb.len()), format!("extra-bytes VLR describes {described} bytes, records carry {have}"));
        }
        Err(e) => r.fail("eb.vlr", e.detail()),
    }
    let eb_vlrs = file.vlrs.iter().chain(evlrs.iter()).filter(|v| v.is("LASF_Spec", 4)).count();
    if eb_vlrs > 1 {
        r.warn("eb.vlr_count", format!("{eb_vlrs} extra-bytes VLRs (LAS has one; readers that take the first see fewer dimensions; merged here in order)"));
    }

    // hierarchy: walk every page from the root, breadth first, cycle-safe
    let hier_records: Vec<&Vlr> = file.vlrs.iter().chain(evlrs.iter()).filter(|v| v.is("copc", 1000)).collect();
    match hier_records.len() {
        0 => r.fail("copc.hierarchy_evlr", "no copc/1000 hierarchy record"),
        1 => r.pass("copc.hierarchy_evlr", "one copc/1000 record"),
        n => r.warn("copc.hierarchy_evlr", format!("hierarchy split over {n} copc/1000 records (copc-lib does this)")),
    }
    let inside_record = |o: u64, s: u64| hier_records.iter().any(|v| o >= v.data_offset && o + s <= v.data_offset + v.data_len);
    let root = (info.root_hier_offset, info.root_hier_size);
    r.check("copc.root_page", root.1 > 0 && root.1 % 32 == 0 && root.0.checked_add(root.1).is_some_and(|e| e <= len),
        format!("{} bytes at {}", root.1, root.0), format!("{} bytes at {} (need a positive multiple of 32 inside the file)", root.1, root.0));
    r.check("copc.root_page_in_hierarchy", inside_record(root.0, root.1), "inside a copc/1000 record", "the root page is not inside a copc/1000 record");
    if !(root.1 > 0 && root.1 % 32 == 0 && root.0 + root.1 <= len) {
        return Ok(());
    }
    let mut entries: Vec<Entry> = Vec::new();
    let mut seen_pages = HashSet::new();
    let mut queue = VecDeque::from([root]);
    let mut page_problems = Vec::new();
    let mut pages = 0;
    let mut page_bytes = 0u64;
    while let Some((o, s)) = queue.pop_front() {
        if !seen_pages.insert(o) {
            page_problems.push(format!("page at byte {o} is referenced twice (cycle)"));
            continue;
        }
        page_bytes += s;
        if page_bytes > len {
            page_problems.push("pages add up to more than the file".to_string());
            break;
        }
        if !inside_record(o, s) {
            page_problems.push(format!("page at byte {o} ({s} bytes) is outside every copc/1000 record"));
        }
        let bytes = file.prefetch.read(file.source.as_ref(), o..o + s)?;
        pages += 1;
        match parse_page(&bytes) {
            Ok(es) => {
                for e in es {
                    if e.is_page() {
                        if e.byte_size > 0 && e.byte_size % 32 == 0 && e.offset.checked_add(e.byte_size as u64).is_some_and(|x| x <= len) {
                            queue.push_back((e.offset, e.byte_size as u64));
                        } else {
                            page_problems.push(format!("node {}: child page {}+{} is not a valid page", e.key, e.offset, e.byte_size));
                        }
                    } else {
                        entries.push(e);
                    }
                }
            }
            Err(e) => page_problems.push(format!("page at byte {o}: {e}")),
        }
    }
    r.check("hierarchy.pages", page_problems.is_empty(), format!("{pages} pages"), page_problems.join("; "));
    let bad_keys: Vec<String> = entries.iter().filter(|e| !e.key.is_valid()).map(|e| e.key.to_string()).take(5).collect();
    r.check("hierarchy.keys_valid", bad_keys.is_empty(), "every key inside its level's grid", format!("keys outside their grid: {}", bad_keys.join(", ")));
    let bad_counts: Vec<String> = entries.iter().filter(|e| e.point_count < 0).map(|e| format!("{} ({})", e.key, e.point_count)).take(5).collect();
    r.check("hierarchy.point_counts", bad_counts.is_empty(), "point counts >= -1", format!("invalid point counts: {}", bad_counts.join(", ")));
    let mut by_key: HashMap<VoxelKey, Entry> = HashMap::new();
    let mut dups = Vec::new();
    for e in &entries {
        if by_key.insert(e.key, *e).is_some() {
            dups.push(e.key.to_string());
        }
    }
    r.check("hierarchy.unique_keys", dups.is_empty(), format!("{} unique keys", by_key.len()), format!("duplicate keys: {}", dups.iter().take(5).cloned().collect::<Vec<_>>().join(", ")));
    r.check("hierarchy.root", by_key.contains_key(&VoxelKey::ROOT), "root 0-0-0-0 present", "no entry for the root 0-0-0-0");
    let orphans: Vec<String> = by_key.keys().filter(|k| k.parent().is_some_and(|p| !by_key.contains_key(&p))).map(|k| k.to_string()).take(5).collect();
    r.check("hierarchy.parents", orphans.is_empty(), "every node's parent has an entry", format!("nodes without a parent entry: {}", orphans.join(", ")));
    let odd_empty: Vec<String> = entries.iter().filter(|e| e.point_count == 0 && (e.offset != 0 || e.byte_size != 0)).map(|e| e.key.to_string()).take(5).collect();
    if odd_empty.is_empty() { r.pass("hierarchy.empty_entries", "empty nodes have offset 0, size 0") } else {
        r.warn("hierarchy.empty_entries", format!("empty nodes with a non-zero offset or size: {}", odd_empty.join(", ")));
    }

    // chunks: inside the point data, no overlaps, contiguous, adding up to the header count
    let mut data: Vec<Entry> = entries.iter().filter(|e| e.point_count > 0).copied().collect();
    data.sort_by_key(|e| e.offset);
    let start = h.offset_to_point_data() + 8;
    let table_bytes = file.prefetch.read(file.source.as_ref(), h.offset_to_point_data()..start.min(len));
    let table_at = table_bytes.ok().filter(|b| b.len() == 8).map(|b| i64::from_le_bytes(b[..8].try_into().unwrap_or_default()));
    let end = table_at.filter(|&t| t as u64 >= start && t as u64 <= len).map(|t| t as u64).unwrap_or(len);
    let outside: Vec<String> = data.iter().filter(|e| e.byte_size <= 0 || e.offset < start || e.offset + e.byte_size as u64 > end).map(|e| e.key.to_string()).take(5).collect();
    r.check("chunks.in_point_data", outside.is_empty(), format!("{} chunks inside bytes {start}..{end}", data.len()), format!("chunks outside the point data: {}", outside.join(", ")));
    let overlaps = data.windows(2).filter(|w| w[0].offset + w[0].byte_size as u64 > w[1].offset).count();
    r.check("chunks.no_overlap", overlaps == 0, "no chunks overlap", format!("{overlaps} overlapping chunk pairs"));
    let gaps = data.windows(2).filter(|w| w[0].offset + w[0].byte_size as u64 != w[1].offset).count()
        + usize::from(data.first().is_some_and(|e| e.offset != start))
        + usize::from(data.last().is_some_and(|e| e.offset + e.byte_size as u64 != end));
    if gaps == 0 { r.pass("chunks.contiguous", "chunks are contiguous") } else { r.warn("chunks.contiguous", format!("{gaps} gaps between chunks")) }
    let total: u64 = data.iter().map(|e| e.point_count as u64).sum();
    r.check("chunks.point_count", total == h.point_count, format!("{total} points in {} nodes", data.len()), format!("nodes hold {total} points, the header says {}", h.point_count));

    // the LAZ chunk table lists the data nodes in file order: the file reads as plain LAZ
    match chunk_table(file, table_at, data.len()) {
        Ok(t) => {
            let same = t.len() == data.len() && t.iter().zip(&data).all(|(c, e)| c.point_count == e.point_count as u64 && c.byte_count == e.byte_size as u64);
            r.check("laz.chunk_table", same, format!("{} entries match the data nodes in file order", t.len()),
                format!("chunk table has {} entries; the hierarchy has {} data nodes (or their counts/sizes differ)", t.len(), data.len()));
        }
        Err(m) => r.fail("laz.chunk_table", m),
    }
    Ok(())
}

fn chunk_table(file: &LasFile, table_at: Option<i64>, nodes: usize) -> std::result::Result<Vec<laz::laszip::ChunkTableEntry>, String> {
    let len = file.source.len();
    let at = table_at.filter(|&t| t > 0 && (t as u64) + 8 <= len).ok_or("chunk table offset is not inside the file")? as u64;
    let head = file.prefetch.read(file.source.as_ref(), at..at + 8).map_err(|e| e.detail())?;
    let count = u32::from_le_bytes(head[4..8].try_into().unwrap_or_default()) as usize;
    // counts are checked before laz-rs reserves memory for them
    if count > nodes + 1024 {
        return Err(format!("chunk table claims {count} chunks for {nodes} data nodes"));
    }
    let end = file.header.evlr_start.clamp(at + 8, len).max(at + 8);
    let end = if end > at + 8 { end } else { len };
    let bytes = file.prefetch.read(file.source.as_ref(), at..end).map_err(|e| e.detail())?;
    let mut cur = std::io::Cursor::new(bytes);
    let t = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| laz::laszip::ChunkTable::read(&mut cur, true)))
        .map_err(|_| "chunk table is corrupt".to_string())?
        .map_err(|e| format!("chunk table at byte {at}: {e}"))?;
    Ok(t.as_ref().to_vec())
}

fn points(source: Arc<dyn ByteSource>, opts: &ValidateOptions, file: &LasFile, r: &mut Report) {
    let reader = match Reader::from_source(source, &opts.reader) {
        Ok(x) => x,
        Err(e) => return r.fail("decode.open", e.detail()),
    };
    let h = &file.header;
    let t = reader.record_format().transform;
    let tol: Vec<f64> = t.scale.iter().map(|s| s.abs() * 0.5 + 1e-9).collect();
    let (mut min, mut max) = ([f64::INFINITY; 3], [f64::NEG_INFINITY; 3]);
    let (mut tmin, mut tmax) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut nan_time = false;
    let mut nan_time_count = 0u64;
    let mut by_return = [0u64; 15];
    let mut outside = Vec::new();
    let mut n = 0u64;
    let iter = match reader.points(&Query::new()) {
        Ok(i) => i,
        Err(e) => return r.fail("decode.chunks", e.detail()),
    };
    let gps = reader.record_format().layout.gps_time;
    for batch in iter {
        let batch = match batch {
            Ok(b) => b,
            Err(e) => return r.fail("decode.chunks", e.detail()),
        };
        let cube = reader.cube().node_bounds(&batch.node);
        let rl = reader.record_format().layout.record_length;
        for (rec, p) in batch.records().chunks_exact(rl).zip(batch.xyz()) {
            for i in 0..3 {
                min[i] = min[i].min(p[i]);
                max[i] = max[i].max(p[i]);
            }
            if outside.len() < 3 && (0..3).any(|i| p[i] < cube.min[i] - tol[i] || p[i] > cube.max[i] + tol[i]) {
                outside.push(format!("{p:?} in node {}", batch.node));
            }
            if let Some(o) = gps {
                let g = f64::from_le_bytes(rec[o..o + 8].try_into().unwrap_or_default());
                if g.is_nan() { nan_time = true; nan_time_count += 1 } else { tmin = tmin.min(g); tmax = tmax.max(g); }
            }
            let ret = (rec[14] & 0x0F) as usize;
            if (1..=15).contains(&ret) {
                by_return[ret - 1] += 1;
            }
            n += 1;
        }
    }
    r.pass("decode.chunks", format!("every chunk decodes to its point count ({n} points)"));
    r.check("points.in_node_cube", outside.is_empty(), "every point lies in its node's cube (half a scale step)", format!("points outside their node: {}", outside.join("; ")));
    if n == 0 {
        return;
    }
    let within = (0..3).all(|i| min[i] >= h.min[i] - tol[i] && max[i] <= h.max[i] + tol[i]);
    r.check("points.in_header_bounds", within, "inside the header bounds", format!("points span {min:?}..{max:?}, header says {:?}..{:?}", h.min, h.max));
    let tight = (0..3).all(|i| (min[i] - h.min[i]).abs() <= 2.0 * tol[i] && (max[i] - h.max[i]).abs() <= 2.0 * tol[i]);
    if tight { r.pass("points.header_bounds_tight", "header bounds equal the point extents") } else {
        r.warn("points.header_bounds_tight", format!("header bounds {:?}..{:?} differ from the extents {min:?}..{max:?}", h.min, h.max));
    }
    let info = reader.info();
    if gps.is_some() {
        // NaN times are a WARN of their own; they must not hide a wrong range of the
        // finite ones (the range check then ran on nothing)
        if nan_time {
            r.warn("points.gpstime_nan", format!("{nan_time_count} GPS times are NaN (left out of the range check)"));
        }
        if tmin <= tmax {
            let same = info.gpstime_minimum == tmin && info.gpstime_maximum == tmax;
            r.check("points.gpstime_range", same, format!("[{tmin}, {tmax}]"), format!("info VLR says [{}, {}], the points' non-NaN GPS times span [{tmin}, {tmax}] (stale GPS range)", info.gpstime_minimum, info.gpstime_maximum));
        } else {
            // only NaN times: the writer's convention is [0, 0]
            let zero = info.gpstime_minimum == 0.0 && info.gpstime_maximum == 0.0;
            r.check("points.gpstime_range", zero, "[0, 0] (every GPS time is NaN)", format!("info VLR says [{}, {}] but every GPS time is NaN (expected [0, 0])", info.gpstime_minimum, info.gpstime_maximum));
        }
    }
    if by_return == h.points_by_return { r.pass("points.by_return", "header counts by return match") } else {
        r.warn("points.by_return", format!("header says {:?}, points have {:?}", &h.points_by_return[..5], &by_return[..5]));
    }
}
