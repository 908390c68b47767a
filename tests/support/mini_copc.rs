//! A small COPC file builder for tests, written straight on laz-rs and las-rs
//! (not on this crate's writer), so tests control every structure: node layout,
//! hierarchy pages, empty nodes, and the bytes they later corrupt on purpose.
#![allow(dead_code)]

use laz::record::{LayeredPointRecordCompressor, RecordCompressor};
use std::collections::BTreeMap;

pub type Key = (i32, i32, i32, i32);

pub struct MiniCopc {
    pub bytes: Vec<u8>,
    /// Raw PDRF 6 records of every node, by key.
    pub nodes: BTreeMap<Key, Vec<u8>>,
    pub scale: f64,
    pub offset: [f64; 3],
    pub center: [f64; 3],
    pub halfsize: f64,
    pub spacing: f64,
    /// Where each page starts (root first) and how large it is.
    pub pages: Vec<(u64, u64)>,
    /// File offset of each data node's chunk.
    pub chunk_offsets: BTreeMap<Key, (u64, u64)>,
}

pub struct Options {
    pub points: usize,
    pub max_level: i32,
    pub seed: u64,
    /// Put the subtree of every level-`page_level` node into its own page (0 = one page).
    pub page_level: i32,
    /// Leave one level-1 node empty (point count 0) with data below it.
    pub empty_interior: bool,
    /// Write the seed draft's layout: an 80-byte `entwine`/1 info VLR (root page
    /// offset and size) and `entwine`/1234 pages that start with a u64 entry count.
    pub seed_draft: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { points: 5000, max_level: 3, seed: 7, page_level: 0, empty_interior: true, seed_draft: false }
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub const RECORD_LEN: usize = 30;

pub fn build(o: &Options) -> MiniCopc {
    let scale = 0.01;
    let center = [1000.0, 2000.0, 50.0];
    let halfsize = 64.0;
    let offset = [1000.0, 2000.0, 0.0];
    let mut rng = Rng(o.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut nodes: BTreeMap<Key, Vec<u8>> = BTreeMap::new();
    let skip = (1, 1, 0, 0);
    for i in 0..o.points {
        let mut raw = [0i32; 3];
        let mut p = [0.0; 3];
        for a in 0..3 {
            let v = center[a] - halfsize + 2.0 * halfsize * rng.unit();
            raw[a] = ((v - offset[a]) / scale).round() as i32;
            p[a] = raw[a] as f64 * scale + offset[a];
        }
        let mut level = (rng.next() % (o.max_level as u64 + 1)) as i32;
        let key_at = |l: i32| -> Key {
            let side = 2.0 * halfsize / (1u64 << l) as f64;
            let c = |a: usize| (((p[a] - (center[a] - halfsize)) / side).floor() as i32).clamp(0, (1 << l) - 1);
            (l, c(0), c(1), c(2))
        };
        if o.empty_interior && key_at(1) == skip && level == 1 {
            level = 2;
        }
        let key = key_at(level);
        let mut rec = [0u8; RECORD_LEN];
        for a in 0..3 {
            rec[a * 4..a * 4 + 4].copy_from_slice(&raw[a].to_le_bytes());
        }
        rec[12..14].copy_from_slice(&((i * 7) as u16).to_le_bytes());
        let nret = 1 + (i % 3) as u8;
        rec[14] = (nret << 4) | (1 + (i % nret as usize) as u8);
        rec[15] = ((i % 4) as u8) << 4;
        rec[16] = [2u8, 3, 6][i % 3];
        rec[17] = (i % 256) as u8;
        rec[18..20].copy_from_slice(&(((i % 100) as i16) - 50).to_le_bytes());
        rec[20..22].copy_from_slice(&((i % 5) as u16).to_le_bytes());
        rec[22..30].copy_from_slice(&(1000.0 + i as f64 * 0.001).to_le_bytes());
        nodes.entry(key).or_default().extend_from_slice(&rec);
    }
    if o.seed_draft {
        // the draft carries no cube: corner points make the header bounds the cube, as
        // PDAL's writer did (anchored at the minimum, side = the largest extent)
        for (i, corner) in [[-halfsize; 3], [halfsize - scale; 3]].iter().enumerate() {
            let mut rec = [0u8; RECORD_LEN];
            for a in 0..3 {
                let raw = ((center[a] + corner[a] - offset[a]) / scale).round() as i32;
                rec[a * 4..a * 4 + 4].copy_from_slice(&raw.to_le_bytes());
            }
            rec[14] = 0x11;
            let c = if i == 0 { 0 } else { (1 << o.max_level) - 1 };
            nodes.entry((o.max_level, c, c, c)).or_default().extend_from_slice(&rec);
        }
        return assemble_with(nodes, o.page_level, scale, offset, center, halfsize, true);
    }
    assemble(nodes, o.page_level, scale, offset, center, halfsize)
}

fn laz_items() -> Vec<laz::LazItem> {
    laz::LazItemRecordBuilder::default_for_point_format_id(6, 0).unwrap()
}

pub fn compress_chunk(records: &[u8]) -> Vec<u8> {
    let mut c = LayeredPointRecordCompressor::new(std::io::Cursor::new(Vec::new()));
    c.set_fields_from(&laz_items()).unwrap();
    c.compress_many(records).unwrap();
    c.done().unwrap();
    c.into_inner().into_inner()
}

fn entry(out: &mut Vec<u8>, k: Key, offset: u64, size: i32, count: i32) {
    for v in [k.0, k.1, k.2, k.3] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
}

fn parent(k: Key) -> Key {
    (k.0 - 1, k.1 >> 1, k.2 >> 1, k.3 >> 1)
}

fn ancestor_at(k: Key, level: i32) -> Key {
    let s = k.0 - level;
    (level, k.1 >> s, k.2 >> s, k.3 >> s)
}

pub fn assemble(nodes: BTreeMap<Key, Vec<u8>>, page_level: i32, scale: f64, offset: [f64; 3], center: [f64; 3], halfsize: f64) -> MiniCopc {
    assemble_with(nodes, page_level, scale, offset, center, halfsize, false)
}

fn assemble_with(
    nodes: BTreeMap<Key, Vec<u8>>,
    page_level: i32,
    scale: f64,
    offset: [f64; 3],
    center: [f64; 3],
    halfsize: f64,
    seed: bool,
) -> MiniCopc {
    // the seed draft's pages start with a u64 entry count; its info VLR is 80 bytes
    let count_prefix = if seed { 8 } else { 0 };
    let info_len = if seed { 80 } else { 160 };
    let spacing = 2.0 * halfsize / 128.0;
    let vlr = laz::LazVlrBuilder::new(laz_items()).with_variable_chunk_size().build();
    let mut laz_payload = Vec::new();
    vlr.write_to(&mut laz_payload).unwrap();
    let vlr_block = 54 + info_len + 54 + laz_payload.len();
    let point_offset = 375 + vlr_block;

    // chunks
    let mut data = vec![0u8; 8];
    let mut table = laz::laszip::ChunkTable::default();
    let mut chunk_offsets = BTreeMap::new();
    for (k, recs) in &nodes {
        let c = compress_chunk(recs);
        let at = (point_offset + data.len()) as u64;
        chunk_offsets.insert(*k, (at, c.len() as u64));
        table.push(laz::laszip::ChunkTableEntry { point_count: (recs.len() / RECORD_LEN) as u64, byte_count: c.len() as u64 });
        data.extend_from_slice(&c);
    }
    let table_at = (point_offset + data.len()) as u64;
    data[0..8].copy_from_slice(&(table_at as i64).to_le_bytes());
    table.write_to(&mut data, &vlr).unwrap();

    // every ancestor of a data node has an entry (empty ones with count 0)
    let mut all: BTreeMap<Key, i32> = nodes.iter().map(|(k, r)| (*k, (r.len() / RECORD_LEN) as i32)).collect();
    all.entry((0, 0, 0, 0)).or_insert(0);
    for k in nodes.keys() {
        let mut p = *k;
        while p.0 > 0 {
            p = parent(p);
            all.entry(p).or_insert(0);
        }
    }
    // pages: root page holds levels < page_level (+ pointers); each level-page_level key its subtree
    let evlr_start = point_offset as u64 + data.len() as u64;
    let mut page_keys: Vec<Key> = if page_level > 0 { all.keys().filter(|k| k.0 == page_level).copied().collect() } else { vec![] };
    page_keys.sort();
    let mut sub_pages = Vec::new();
    let mut evlr = Vec::new();
    let evlr_header_at = |evlr: &Vec<u8>| evlr_start + evlr.len() as u64;
    // child pages first, root page last (as PDAL and untwine do); one EVLR holds all
    let mut payload = Vec::new();
    let payload_start = evlr_header_at(&evlr) + 60;
    let counted = |payload: &mut Vec<u8>, start: usize| {
        if seed {
            let n = ((payload.len() - start - 8) / 32) as u64;
            payload[start..start + 8].copy_from_slice(&n.to_le_bytes());
        }
    };
    for pk in &page_keys {
        let start = payload_start + payload.len() as u64;
        let at = payload.len();
        payload.extend(std::iter::repeat_n(0u8, count_prefix));
        for (k, &count) in &all {
            if k.0 >= page_level && ancestor_at(*k, page_level) == *pk {
                let (o, s) = if count > 0 { chunk_offsets[k] } else { (0, 0) };
                entry(&mut payload, *k, o, s as i32, count);
            }
        }
        counted(&mut payload, at);
        sub_pages.push((*pk, start, payload_start + payload.len() as u64 - start));
    }
    let root_start = payload_start + payload.len() as u64;
    let root_at = payload.len();
    payload.extend(std::iter::repeat_n(0u8, count_prefix));
    for (k, &count) in &all {
        if page_level == 0 || k.0 < page_level {
            let (o, s) = if count > 0 { chunk_offsets[k] } else { (0, 0) };
            entry(&mut payload, *k, o, s as i32, count);
        }
    }
    for (k, start, size) in &sub_pages {
        entry(&mut payload, *k, *start, *size as i32, -1);
    }
    counted(&mut payload, root_at);
    let root_size = payload_start + payload.len() as u64 - root_start;
    evlr.extend_from_slice(&0u16.to_le_bytes());
    let mut uid = [0u8; 16];
    let (hier_user, hier_id): (&[u8], u16) = if seed { (b"entwine", 1234) } else { (b"copc", 1000) };
    uid[..hier_user.len()].copy_from_slice(hier_user);
    evlr.extend_from_slice(&uid);
    evlr.extend_from_slice(&hier_id.to_le_bytes());
    evlr.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    evlr.extend_from_slice(&[0u8; 32]);
    evlr.extend_from_slice(&payload);

    // header through las-rs' raw header
    let n: u64 = all.values().map(|&c| c.max(0) as u64).sum();
    let (mut min, mut max) = ([f64::MAX; 3], [f64::MIN; 3]);
    let mut by_return = [0u64; 15];
    let (mut tmin, mut tmax) = (f64::MAX, f64::MIN);
    for recs in nodes.values() {
        for r in recs.chunks_exact(RECORD_LEN) {
            for a in 0..3 {
                let v = i32::from_le_bytes(r[a * 4..a * 4 + 4].try_into().unwrap()) as f64 * scale + offset[a];
                min[a] = min[a].min(v);
                max[a] = max[a].max(v);
            }
            by_return[((r[14] & 15) as usize).saturating_sub(1)] += 1;
            let t = f64::from_le_bytes(r[22..30].try_into().unwrap());
            tmin = tmin.min(t);
            tmax = tmax.max(t);
        }
    }
    if n == 0 {
        (min, max, tmin, tmax) = ([0.0; 3], [0.0; 3], 0.0, 0.0);
    }
    let mut h = las::raw::Header { version: las::Version::new(1, 4), ..Default::default() };
    h.header_size = 375;
    h.global_encoding = 0x10;
    h.offset_to_point_data = point_offset as u32;
    h.number_of_variable_length_records = 2;
    h.point_data_record_format = 6 | 0x80;
    h.point_data_record_length = RECORD_LEN as u16;
    (h.x_scale_factor, h.y_scale_factor, h.z_scale_factor) = (scale, scale, scale);
    (h.x_offset, h.y_offset, h.z_offset) = (offset[0], offset[1], offset[2]);
    (h.min_x, h.min_y, h.min_z, h.max_x, h.max_y, h.max_z) = (min[0], min[1], min[2], max[0], max[1], max[2]);
    h.evlr = Some(las::raw::header::Evlr { start_of_first_evlr: evlr_start, number_of_evlrs: 1 });
    h.large_file = Some(las::raw::header::LargeFile { number_of_point_records: n, number_of_points_by_return: by_return });
    let mut bytes = Vec::new();
    h.write_to(&mut bytes).unwrap();
    assert_eq!(bytes.len(), 375);

    let vlr_header = |out: &mut Vec<u8>, user: &str, id: u16, len: usize| {
        out.extend_from_slice(&0u16.to_le_bytes());
        let mut u = [0u8; 16];
        u[..user.len()].copy_from_slice(user.as_bytes());
        out.extend_from_slice(&u);
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&(len as u16).to_le_bytes());
        out.extend_from_slice(&[0u8; 32]);
    };
    if seed {
        vlr_header(&mut bytes, "entwine", 1, 80);
        bytes.extend_from_slice(&root_start.to_le_bytes());
        bytes.extend_from_slice(&root_size.to_le_bytes());
        bytes.extend_from_slice(&[0u8; 64]);
    } else {
        vlr_header(&mut bytes, "copc", 1, 160);
        for v in [center[0], center[1], center[2], halfsize, spacing] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        bytes.extend_from_slice(&root_start.to_le_bytes());
        bytes.extend_from_slice(&root_size.to_le_bytes());
        bytes.extend_from_slice(&(if n == 0 { 0.0 } else { tmin }).to_le_bytes());
        bytes.extend_from_slice(&(if n == 0 { 0.0 } else { tmax }).to_le_bytes());
        bytes.extend_from_slice(&[0u8; 88]);
    }
    vlr_header(&mut bytes, "laszip encoded", 22204, laz_payload.len());
    bytes.extend_from_slice(&laz_payload);
    assert_eq!(bytes.len(), point_offset);
    bytes.extend_from_slice(&data);
    bytes.extend_from_slice(&evlr);

    let mut pages = vec![(root_start, root_size)];
    pages.extend(sub_pages.iter().map(|(_, s, z)| (*s, *z)));
    MiniCopc { bytes, nodes, scale, offset, center, halfsize, spacing, pages, chunk_offsets }
}

impl MiniCopc {
    pub fn xyz(&self, r: &[u8]) -> [f64; 3] {
        let raw = |o: usize| i32::from_le_bytes(r[o..o + 4].try_into().unwrap()) as f64;
        [raw(0) * self.scale + self.offset[0], raw(4) * self.scale + self.offset[1], raw(8) * self.scale + self.offset[2]]
    }

    pub fn sorted_records(&self, keep: impl Fn([f64; 3]) -> bool) -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> =
            self.nodes.values().flat_map(|r| r.chunks_exact(RECORD_LEN)).filter(|r| keep(self.xyz(r))).map(|r| r.to_vec()).collect();
        v.sort();
        v
    }

    pub fn source(&self) -> std::sync::Arc<dyn copc::ByteSource> {
        std::sync::Arc::new(copc::MemorySource::new("mini.copc.laz", self.bytes.clone()))
    }
}
