//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod mini_copc;

use std::path::PathBuf;

/// The folder of real test files, from `COPC_TEST_DATA`; None (after saying so
/// loudly) when it is not set, so that a run without it is visibly incomplete.
pub fn test_data(test: &str) -> Option<PathBuf> {
    match std::env::var_os("COPC_TEST_DATA") {
        Some(d) if PathBuf::from(&d).is_dir() => Some(PathBuf::from(d)),
        _ => {
            // Written to the stderr handle, not eprintln!, so the test harness does not
            // swallow it: a run without the real files must say so.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: COPC_TEST_DATA is not set to the shared data folder (e.g. ../shared/data)"
            );
            None
        }
    }
}

/// COPC 1.0 files of the shared data that must read correctly.
pub const VALID_COPC: &[&str] = &[
    "pdal_1.2-with-color.copc.laz",
    "laspy_simple_with_page.copc.laz",
    "pdal_lone-star.copc.laz",
    "pdal_ellipsoid-eb.copc.laz",
    "lastools_example.copc.laz",
];

/// Independent reading of a LAZ file: the header fields and VLR scan are done here
/// by hand, the points by laz-rs' sequential decompressor over the chunk table.
pub struct PlainLaz {
    pub point_count: u64,
    pub record_length: usize,
    pub scale: [f64; 3],
    pub offset: [f64; 3],
    pub min: [f64; 3],
    pub max: [f64; 3],
    pub records: Vec<u8>,
}

fn f64_at(b: &[u8], o: usize) -> f64 {
    f64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

pub fn read_plain_laz(path: &std::path::Path) -> PlainLaz {
    let b = std::fs::read(path).unwrap();
    let header_size = u16::from_le_bytes([b[94], b[95]]) as usize;
    let point_offset = u32::from_le_bytes(b[96..100].try_into().unwrap()) as usize;
    let nvlr = u32::from_le_bytes(b[100..104].try_into().unwrap());
    let record_length = u16::from_le_bytes([b[105], b[106]]) as usize;
    let legacy = u32::from_le_bytes(b[107..111].try_into().unwrap()) as u64;
    let count14 = u64::from_le_bytes(b[247..255].try_into().unwrap());
    let point_count = if count14 != 0 { count14 } else { legacy };
    let mut pos = header_size;
    let mut laz_vlr = None;
    for _ in 0..nvlr {
        let uid = String::from_utf8_lossy(&b[pos + 2..pos + 18]).trim_end_matches('\0').to_string();
        let rid = u16::from_le_bytes([b[pos + 18], b[pos + 19]]);
        let len = u16::from_le_bytes([b[pos + 20], b[pos + 21]]) as usize;
        if uid == "laszip encoded" && rid == 22204 {
            laz_vlr = Some(laz::LazVlr::from_buffer(&b[pos + 54..pos + 54 + len]).unwrap());
        }
        pos += 54 + len;
    }
    let vlr = laz_vlr.expect("laszip VLR");
    let mut records = vec![0u8; point_count as usize * record_length];
    let mut cursor = std::io::Cursor::new(&b[..]);
    std::io::Seek::seek(&mut cursor, std::io::SeekFrom::Start(point_offset as u64)).unwrap();
    let mut d = laz::LasZipDecompressor::new(cursor, vlr).unwrap();
    d.decompress_many(&mut records).unwrap();
    PlainLaz {
        point_count,
        record_length,
        scale: [f64_at(&b, 131), f64_at(&b, 139), f64_at(&b, 147)],
        offset: [f64_at(&b, 155), f64_at(&b, 163), f64_at(&b, 171)],
        max: [f64_at(&b, 179), f64_at(&b, 195), f64_at(&b, 211)],
        min: [f64_at(&b, 187), f64_at(&b, 203), f64_at(&b, 219)],
        records,
    }
}

impl PlainLaz {
    pub fn xyz(&self, rec: &[u8]) -> [f64; 3] {
        let raw = |o: usize| i32::from_le_bytes(rec[o..o + 4].try_into().unwrap()) as f64;
        [
            raw(0) * self.scale[0] + self.offset[0],
            raw(4) * self.scale[1] + self.offset[1],
            raw(8) * self.scale[2] + self.offset[2],
        ]
    }

    /// Records sorted bytewise: a multiset that two decodes can be compared by.
    pub fn sorted_records(&self, keep: impl Fn([f64; 3]) -> bool) -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = self
            .records
            .chunks_exact(self.record_length)
            .filter(|r| keep(self.xyz(r)))
            .map(|r| r.to_vec())
            .collect();
        v.sort();
        v
    }
}

/// Box test written out here, independent of the library's `Bounds`.
pub fn inside(b: &copc::Bounds, p: [f64; 3]) -> bool {
    p[0] >= b.min[0] && p[0] <= b.max[0] && p[1] >= b.min[1] && p[1] <= b.max[1] && p[2] >= b.min[2] && p[2] <= b.max[2]
}

/// Records of all batches of a query, sorted bytewise.
pub fn sorted_query_records(reader: &copc::Reader, q: &copc::Query) -> Vec<Vec<u8>> {
    let rl = reader.header().point_record_length as usize;
    let mut v = Vec::new();
    for batch in reader.points(q).unwrap() {
        let batch = batch.unwrap();
        v.extend(batch.records().chunks_exact(rl).map(|r| r.to_vec()));
    }
    v.sort();
    v
}
