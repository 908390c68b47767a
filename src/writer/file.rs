//! File assembly: chunk storage, hierarchy pages, header and (E)VLRs, written into
//! an [`OutputFile`] that appears at the target path only when complete.
//!
//! Layout: header (375) · info VLR (first, payload at 429) · laszip VLR · WKT VLR ·
//! extra-bytes VLR · forwarded VLRs · point data (chunk-table offset, one chunk per
//! data node in depth-first key order, chunk table) · hierarchy EVLR (root page
//! first, then child pages) · forwarded EVLRs.

use super::octree::ChunkSink;
use super::temp::OutputFile;
use crate::error::{Error, Location, Result};
use crate::format::hierarchy::{Entry, HIERARCHY_RECORD_ID, HIERARCHY_USER_ID};
use crate::format::info::{CopcInfo, INFO_RECORD_ID, INFO_USER_ID};
use crate::format::{Cube, Vlr, VoxelKey};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

enum ChunkData {
    Mem(Vec<u8>),
    File { offset: u64, len: u64 },
}

struct Stored {
    key: VoxelKey,
    points: u64,
    data: ChunkData,
}

struct StoreInner {
    chunks: Vec<Stored>,
    mem_bytes: usize,
    file: Option<(File, u64)>,
}

/// Holds compressed node chunks until the file is assembled: in memory up to a
/// limit, then in an anonymous temp file (removed by the OS when closed).
pub struct ChunkStore {
    inner: Mutex<StoreInner>,
    mem_limit: usize,
    dir: PathBuf,
}

impl ChunkStore {
    pub fn new(mem_limit: usize, dir: &Path) -> Self {
        ChunkStore {
            inner: Mutex::new(StoreInner {
                chunks: Vec::new(),
                mem_bytes: 0,
                file: None,
            }),
            mem_limit,
            dir: dir.to_path_buf(),
        }
    }

    pub fn nodes(&self) -> usize {
        self.inner.lock().map(|g| g.chunks.len()).unwrap_or(0)
    }

    /// Bytes of chunks written to the temp file so far (the spill's temp disk peak
    /// counts them).
    pub fn file_bytes(&self) -> u64 {
        self.inner.lock().ok().and_then(|g| g.file.as_ref().map(|f| f.1)).unwrap_or(0)
    }
}

impl ChunkSink for ChunkStore {
    fn put(&self, key: VoxelKey, points: u64, chunk: Vec<u8>) -> Result<()> {
        let mut g = self
            .inner
            .lock()
            .map_err(|_| Error::invalid("chunk store poisoned by a panic"))?;
        let dir_name = self.dir.display().to_string();
        let data = if g.mem_bytes + chunk.len() <= self.mem_limit {
            g.mem_bytes += chunk.len();
            ChunkData::Mem(chunk)
        } else {
            if g.file.is_none() {
                let f = tempfile::tempfile_in(&self.dir)
                    .map_err(|e| Error::io(&dir_name, Location::Source, "creating a temp file for chunks", e))?;
                g.file = Some((f, 0));
            }
            let (f, len) = g.file.as_mut().ok_or_else(|| Error::invalid("chunk file missing"))?;
            f.write_all(&chunk)
                .map_err(|e| Error::io(&dir_name, Location::Offset(*len), "writing a chunk to the temp file", e))?;
            let at = *len;
            *len += chunk.len() as u64;
            ChunkData::File {
                offset: at,
                len: chunk.len() as u64,
            }
        };
        g.chunks.push(Stored { key, points, data });
        Ok(())
    }
}

/// Depth-first (pre-order) position of a key: parents before children, children in
/// child-index order. Keys compare by their path from the root.
pub fn preorder_cmp(a: &VoxelKey, b: &VoxelKey) -> std::cmp::Ordering {
    let l = a.level.min(b.level);
    let up = |k: &VoxelKey| {
        let s = k.level - l;
        (k.x >> s, k.y >> s, k.z >> s)
    };
    let (pa, pb) = (up(a), up(b));
    if pa == pb {
        return a.level.cmp(&b.level);
    }
    // first level where the paths differ
    for lev in 1..=l {
        let s = l - lev;
        let ca = ((pa.0 >> s) & 1) | (((pa.1 >> s) & 1) << 1) | (((pa.2 >> s) & 1) << 2);
        let cb = ((pb.0 >> s) & 1) | (((pb.1 >> s) & 1) << 1) | (((pb.2 >> s) & 1) << 2);
        if ca != cb {
            return ca.cmp(&cb);
        }
    }
    std::cmp::Ordering::Equal
}

/// How the hierarchy is cut into pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PagePolicy {
    /// A node whose level is a multiple of this starts a page...
    pub levels: i32,
    /// ...when its subtree has at least this many entries.
    pub min_entries: usize,
}

impl Default for PagePolicy {
    fn default() -> Self {
        PagePolicy {
            levels: 4,
            min_entries: 256,
        }
    }
}

/// A hierarchy page: the keys it lists (pre-order) and which of them are pointers.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub root: VoxelKey,
    /// (key, is a pointer to the child page rooted at key)
    pub entries: Vec<(VoxelKey, bool)>,
}

/// Cuts the tree (every key with an entry) into pages, root page first, child
/// pages in pre-order. A page rooted at K holds K's own entry; its parent page
/// holds a pointer entry for K.
pub fn paginate(keys: &[VoxelKey], policy: PagePolicy) -> Vec<Page> {
    let mut children: HashMap<VoxelKey, Vec<VoxelKey>> = HashMap::new();
    for k in keys {
        if let Some(p) = k.parent() {
            children.entry(p).or_default().push(*k);
        }
    }
    for v in children.values_mut() {
        v.sort_by(preorder_cmp);
    }
    // subtree sizes, deepest first
    let mut sorted: Vec<VoxelKey> = keys.to_vec();
    sorted.sort_by_key(|k| std::cmp::Reverse(k.level));
    let mut size: HashMap<VoxelKey, usize> = HashMap::new();
    for k in &sorted {
        let s = 1 + children
            .get(k)
            .map(|c| c.iter().map(|c| size.get(c).copied().unwrap_or(1)).sum())
            .unwrap_or(0);
        size.insert(*k, s);
    }
    let mut pages = Vec::new();
    let mut todo = vec![VoxelKey::ROOT];
    while let Some(root) = todo.pop() {
        let mut entries = Vec::new();
        let mut sub = Vec::new();
        let mut stack = vec![root];
        while let Some(k) = stack.pop() {
            let starts_page = k != root
                && policy.levels > 0
                && k.level % policy.levels == 0
                && size.get(&k).copied().unwrap_or(1) >= policy.min_entries;
            if starts_page {
                entries.push((k, true));
                sub.push(k);
                continue;
            }
            entries.push((k, false));
            if let Some(c) = children.get(&k) {
                stack.extend(c.iter().rev());
            }
        }
        pages.push(Page { root, entries });
        // child pages in pre-order: push reversed so the first pops first
        todo.extend(sub.into_iter().rev());
    }
    // `todo` is a stack, so pages come out root first, then depth-first
    pages
}

/// Everything the header and VLRs need besides the chunks.
#[derive(Debug, Clone)]
pub struct FileSpec {
    pub format: u8,
    pub record_length: u16,
    pub extra_bytes_len: u16,
    pub scale: [f64; 3],
    pub offset: [f64; 3],
    /// Quantized extents as integers (ignored when there are no points).
    pub min_int: [i32; 3],
    pub max_int: [i32; 3],
    pub points: u64,
    pub points_by_return: [u64; 15],
    pub gps_range: [f64; 2],
    pub cube: Cube,
    pub spacing: f64,
    pub global_encoding_gps_bit: bool,
    pub file_source_id: u16,
    pub guid: [u8; 16],
    pub system_identifier: String,
    pub generating_software: String,
    pub creation_day: u16,
    pub creation_year: u16,
    pub wkt: Option<String>,
    pub extra_bytes_vlr: Option<Vec<u8>>,
    /// Forwarded records: (user id, record id, description, payload).
    pub vlrs: Vec<(String, u16, String, Vec<u8>)>,
    pub evlrs: Vec<(String, u16, String, Vec<u8>)>,
    pub page_policy: PagePolicy,
}

/// Writes the COPC file into `out` and commits it to its target (fsync, then link
/// or rename). Returns the number of data nodes and of hierarchy pages.
pub fn write_file(out: OutputFile, spec: &FileSpec, store: ChunkStore) -> Result<(usize, usize)> {
    let tname = out.target().display().to_string();
    let inner = store
        .inner
        .into_inner()
        .map_err(|_| Error::invalid("chunk store poisoned by a panic"))?;
    let mut chunks = inner.chunks;
    let mut chunk_file = inner.file.map(|(f, _)| f);
    chunks.sort_by(|a, b| preorder_cmp(&a.key, &b.key));
    for w in chunks.windows(2) {
        if w[0].key == w[1].key {
            return Err(Error::invalid(format!(
                "internal error: node {} emitted twice",
                w[0].key
            )));
        }
    }

    // --- VLRs
    let mut vlr_bytes = Vec::new();
    let mut nvlrs = 0u32;
    let mut evlr_list: Vec<(String, u16, String, Vec<u8>)> = Vec::new();
    let info_at = vlr_bytes.len();
    Vlr::write(
        INFO_USER_ID,
        INFO_RECORD_ID,
        "COPC info VLR",
        &[0u8; 160],
        false,
        &mut vlr_bytes,
    );
    nvlrs += 1;
    let items = laz::LazItemRecordBuilder::default_for_point_format_id(spec.format, spec.extra_bytes_len)
        .map_err(|e| Error::invalid(format!("laz items: {e}")))?;
    let laz_vlr = laz::LazVlrBuilder::new(items).with_variable_chunk_size().build();
    let mut laz_data = Vec::new();
    laz_vlr
        .write_to(&mut laz_data)
        .map_err(|e| Error::io(&tname, Location::Source, "encoding the laszip VLR", e))?;
    Vlr::write(
        laz::LazVlr::USER_ID,
        laz::LazVlr::RECORD_ID,
        laz::LazVlr::DESCRIPTION,
        &laz_data,
        false,
        &mut vlr_bytes,
    );
    nvlrs += 1;
    if let Some(w) = &spec.wkt {
        let mut data = w.as_bytes().to_vec();
        data.push(0);
        if data.len() <= u16::MAX as usize {
            Vlr::write("LASF_Projection", 2112, "OGC WKT", &data, false, &mut vlr_bytes);
            nvlrs += 1;
        } else {
            evlr_list.push(("LASF_Projection".into(), 2112, "OGC WKT".into(), data));
        }
    }
    if let Some(eb) = &spec.extra_bytes_vlr {
        Vlr::write("LASF_Spec", 4, "Extra Bytes Record", eb, false, &mut vlr_bytes);
        nvlrs += 1;
    }
    for (u, r, d, data) in &spec.vlrs {
        if data.len() <= u16::MAX as usize {
            Vlr::write(u, *r, d, data, false, &mut vlr_bytes);
            nvlrs += 1;
        } else {
            evlr_list.push((u.clone(), *r, d.clone(), data.clone()));
        }
    }
    evlr_list.extend(spec.evlrs.iter().cloned());

    let point_data_at = 375u64 + vlr_bytes.len() as u64;
    // --- chunks and chunk table
    let mut entries: BTreeMap<VoxelKey, Entry> = BTreeMap::new();
    let mut at = point_data_at + 8;
    let mut table = laz::laszip::ChunkTable::with_capacity(chunks.len());
    for c in &chunks {
        let len = match &c.data {
            ChunkData::Mem(v) => v.len() as u64,
            ChunkData::File { len, .. } => *len,
        };
        entries.insert(
            c.key,
            Entry {
                key: c.key,
                offset: at,
                byte_size: len as i32,
                point_count: c.points as i32,
            },
        );
        table.push(laz::laszip::ChunkTableEntry {
            point_count: c.points,
            byte_count: len,
        });
        at += len;
    }
    let table_at = at;
    let mut table_bytes = Vec::new();
    table
        .write_to(&mut table_bytes, &laz_vlr)
        .map_err(|e| Error::io(&tname, Location::Source, "encoding the chunk table", e))?;
    let evlr_at = table_at + table_bytes.len() as u64;

    // --- hierarchy: data nodes plus the empty ancestors they need, and the root
    let data_keys: Vec<VoxelKey> = entries.keys().copied().collect();
    for k in data_keys {
        let mut p = k.parent();
        while let Some(q) = p {
            entries.entry(q).or_insert(Entry {
                key: q,
                offset: 0,
                byte_size: 0,
                point_count: 0,
            });
            p = q.parent();
        }
    }
    entries.entry(VoxelKey::ROOT).or_insert(Entry {
        key: VoxelKey::ROOT,
        offset: 0,
        byte_size: 0,
        point_count: 0,
    });
    let keys: Vec<VoxelKey> = entries.keys().copied().collect();
    let pages = paginate(&keys, spec.page_policy);
    let hier_data_at = evlr_at + crate::format::vlr::EVLR_HEADER_SIZE as u64;
    let mut page_at = HashMap::new();
    let mut off = hier_data_at;
    for p in &pages {
        page_at.insert(p.root, (off, p.entries.len() as u64 * 32));
        off += p.entries.len() as u64 * 32;
    }
    let mut hier = Vec::with_capacity((off - hier_data_at) as usize);
    for p in &pages {
        for (k, pointer) in &p.entries {
            if *pointer {
                let (o, s) = page_at[k];
                Entry {
                    key: *k,
                    offset: o,
                    byte_size: s as i32,
                    point_count: -1,
                }
                .write(&mut hier);
            } else {
                entries[k].write(&mut hier);
            }
        }
    }
    let (root_off, root_size) = page_at[&VoxelKey::ROOT];
    let mut evlr_bytes = Vec::new();
    Vlr::write(
        HIERARCHY_USER_ID,
        HIERARCHY_RECORD_ID,
        "EPT hierarchy",
        &hier,
        true,
        &mut evlr_bytes,
    );
    for (u, r, d, data) in &evlr_list {
        Vlr::write(u, *r, d, data, true, &mut evlr_bytes);
    }
    let info = CopcInfo {
        center: spec.cube.center,
        halfsize: spec.cube.halfsize,
        spacing: spec.spacing,
        root_hier_offset: root_off,
        root_hier_size: root_size,
        gpstime_minimum: spec.gps_range[0],
        gpstime_maximum: spec.gps_range[1],
        reserved: [0; 11],
    };
    let payload_at = info_at + crate::format::vlr::VLR_HEADER_SIZE;
    vlr_bytes[payload_at..payload_at + 160].copy_from_slice(&info.to_bytes());

    // --- header
    let header = header_bytes(spec, point_data_at, nvlrs, evlr_at, 1 + evlr_list.len() as u32)?;

    // --- write
    let mut w = BufWriter::with_capacity(1 << 20, out.handle()?);
    let werr = |e: std::io::Error| Error::io(&tname, Location::Source, "writing", e);
    w.write_all(&header).map_err(werr)?;
    w.write_all(&vlr_bytes).map_err(werr)?;
    w.write_all(&(table_at as i64).to_le_bytes()).map_err(werr)?;
    let mut buf = Vec::new();
    for c in &chunks {
        match &c.data {
            ChunkData::Mem(v) => w.write_all(v).map_err(werr)?,
            ChunkData::File { offset, len } => {
                let f = chunk_file
                    .as_mut()
                    .ok_or_else(|| Error::invalid("chunk temp file missing"))?;
                buf.resize(*len as usize, 0);
                f.seek(SeekFrom::Start(*offset))
                    .and_then(|_| f.read_exact(&mut buf))
                    .map_err(|e| Error::io("chunk temp file", Location::Offset(*offset), "reading back a chunk", e))?;
                w.write_all(&buf).map_err(werr)?;
            }
        }
    }
    w.write_all(&table_bytes).map_err(werr)?;
    w.write_all(&evlr_bytes).map_err(werr)?;
    w.into_inner().map_err(|e| werr(e.into_error()))?;
    out.commit()?;
    Ok((chunks.len(), pages.len()))
}

fn header_bytes(spec: &FileSpec, point_data_at: u64, nvlrs: u32, evlr_at: u64, nevlrs: u32) -> Result<Vec<u8>> {
    let q = |v: i32, a: usize| v as f64 * spec.scale[a] + spec.offset[a];
    let (min, max) = if spec.points == 0 {
        ([0.0; 3], [0.0; 3])
    } else {
        (
            [q(spec.min_int[0], 0), q(spec.min_int[1], 1), q(spec.min_int[2], 2)],
            [q(spec.max_int[0], 0), q(spec.max_int[1], 1), q(spec.max_int[2], 2)],
        )
    };
    let mut raw = las::raw::Header {
        file_source_id: spec.file_source_id,
        global_encoding: 0x10 | u16::from(spec.global_encoding_gps_bit),
        guid: spec.guid,
        version: las::Version::new(1, 4),
        file_creation_day_of_year: spec.creation_day,
        file_creation_year: spec.creation_year,
        header_size: 375,
        offset_to_point_data: u32::try_from(point_data_at).map_err(|_| Error::invalid("VLRs too large"))?,
        number_of_variable_length_records: nvlrs,
        point_data_record_format: spec.format | 0x80,
        point_data_record_length: spec.record_length,
        number_of_point_records: 0,
        number_of_points_by_return: [0; 5],
        x_scale_factor: spec.scale[0],
        y_scale_factor: spec.scale[1],
        z_scale_factor: spec.scale[2],
        x_offset: spec.offset[0],
        y_offset: spec.offset[1],
        z_offset: spec.offset[2],
        max_x: max[0],
        min_x: min[0],
        max_y: max[1],
        min_y: min[1],
        max_z: max[2],
        min_z: min[2],
        start_of_waveform_data_packet_record: Some(0),
        evlr: Some(las::raw::header::Evlr {
            start_of_first_evlr: evlr_at,
            number_of_evlrs: nevlrs,
        }),
        large_file: Some(las::raw::header::LargeFile {
            number_of_point_records: spec.points,
            number_of_points_by_return: spec.points_by_return,
        }),
        ..Default::default()
    };
    crate::format::bytes::put_c_string(&mut raw.system_identifier, &spec.system_identifier);
    crate::format::bytes::put_c_string(&mut raw.generating_software, &spec.generating_software);
    let mut out = Vec::with_capacity(375);
    raw.write_to(&mut out)
        .map_err(|e| Error::invalid(format!("encoding the header: {e}")))?;
    if out.len() != 375 {
        return Err(Error::invalid(format!("internal error: header of {} bytes", out.len())));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preorder_puts_parents_first_and_children_in_index_order() {
        let r = VoxelKey::ROOT;
        let mut keys = vec![
            r.child(7),
            r.child(0).child(3),
            r.child(0),
            r,
            r.child(1),
            r.child(0).child(0).child(5),
            r.child(0).child(1),
        ];
        keys.sort_by(preorder_cmp);
        assert_eq!(
            keys,
            vec![
                r,
                r.child(0),
                r.child(0).child(0).child(5),
                r.child(0).child(1),
                r.child(0).child(3),
                r.child(1),
                r.child(7)
            ]
        );
    }

    #[test]
    fn pages_split_below_big_subtrees() {
        // a full tree of depth 3 (1 + 8 + 64 + 512 keys) with pages every 2 levels
        let mut keys = vec![VoxelKey::ROOT];
        let mut level = vec![VoxelKey::ROOT];
        for _ in 0..3 {
            level = level.iter().flat_map(|k| (0..8).map(move |i| k.child(i))).collect();
            keys.extend(&level);
        }
        let pages = paginate(
            &keys,
            PagePolicy {
                levels: 2,
                min_entries: 9,
            },
        );
        assert_eq!(pages.len(), 1 + 64);
        assert_eq!(pages[0].root, VoxelKey::ROOT);
        assert_eq!(pages[0].entries.len(), 1 + 8 + 64);
        assert_eq!(pages[0].entries.iter().filter(|e| e.1).count(), 64);
        assert!(
            pages[1..]
                .iter()
                .all(|p| p.entries.len() == 9 && p.entries[0] == (p.root, false))
        );
        // every key appears exactly once as a non-pointer entry
        let mut seen: Vec<VoxelKey> = pages
            .iter()
            .flat_map(|p| p.entries.iter().filter(|e| !e.1).map(|e| e.0))
            .collect();
        seen.sort();
        let mut all = keys.clone();
        all.sort();
        assert_eq!(seen, all);
        assert_eq!(
            paginate(
                &keys,
                PagePolicy {
                    levels: 2,
                    min_entries: 10
                }
            )
            .len(),
            1
        );
    }
}
