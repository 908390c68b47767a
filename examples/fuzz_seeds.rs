//! Writes the seed corpora of the fuzz targets (see FUZZING.md and `scripts/fuzz`):
//!
//!     cargo run --example fuzz_seeds -- OUT_DIR [DATA_DIR]
//!
//! Into `OUT_DIR/<target>/`: small files the project generates (synthetic clouds
//! from `copc::sample`, translated to COPC by the writer, with one-page and
//! many-page hierarchies) and, from `DATA_DIR` (e.g. `COPC_TEST_DATA`), the real
//! files small enough to fuzz, each in the layout its target reads.

use copc::fuzzing::{self, HttpInput, QueryInput, ept_mode};
use copc::sample::{SampleOptions, write_sample};
use copc::writer::{HierarchyPages, WriterOptions, translate};
use std::path::{Path, PathBuf};

/// Whole-file seeds larger than this slow the fuzzer down more than they teach it.
const MAX_FILE_SEED: u64 = 128 << 10;
/// Single chunks larger than this are left out of the `node` seeds.
const MAX_CHUNK_SEED: usize = 64 << 10;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first().map(PathBuf::from) else {
        return Err("usage: fuzz_seeds OUT_DIR [DATA_DIR]".into());
    };
    let data = args.get(1).map(PathBuf::from);
    let seeds = Seeds { out };
    let work = tempfile::tempdir()?;

    // Generated clouds: LAS and LAZ in every sample format, some with extra bytes.
    let mut las_files = Vec::new();
    for (i, (format, compressed, extra)) in
        [(3, false, false), (3, true, true), (6, true, false), (7, false, true), (7, true, true), (8, true, false)]
            .into_iter()
            .enumerate()
    {
        let path = work.path().join(format!("sample{i}.la{}", if compressed { 'z' } else { 's' }));
        let opts = SampleOptions { points: 300, seed: i as u64 + 1, format, compressed, extra_bytes: extra, ..Default::default() };
        write_sample(&path, &opts)?;
        las_files.push(path);
    }
    // COPC files from them: a one-page hierarchy, and one with a page per node.
    let mut copc_files = Vec::new();
    for (i, las) in las_files.iter().enumerate() {
        let path = work.path().join(format!("generated{i}.copc.laz"));
        let pages = if i % 2 == 0 { HierarchyPages::default() } else { HierarchyPages { levels: 1, min_entries: 1 } };
        let opts = WriterOptions { threads: Some(1), max_points_per_node: 40, hierarchy_pages: pages, ..Default::default() };
        translate(&[las], &path, &opts)?;
        copc_files.push(path);
    }
    let mut real_las = Vec::new();
    if let Some(dir) = &data {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            let small = path.metadata().map(|m| m.is_file() && m.len() <= MAX_FILE_SEED).unwrap_or(false);
            if name.ends_with(".copc.laz") {
                // Chunks and pages come from every COPC file; whole files only from small ones.
                seeds.copc(&path, small)?;
            } else if small && (name.ends_with(".las") || name.ends_with(".laz")) {
                real_las.push(path);
            }
        }
        seeds.ept(&dir.join("ept_lone-star-laszip"))?;
    }
    for path in &copc_files {
        seeds.copc(path, true)?;
    }
    for path in las_files.iter().chain(&real_las).chain(&copc_files) {
        let mut seed = vec![0u8];
        seed.extend_from_slice(&std::fs::read(path)?);
        seeds.write("writer", path, &seed)?;
    }
    // The broken-EVLR layout other writers produce (copc-rs 0.5.0): the header's
    // start of first EVLR past the end of the file, the info VLR right.
    for path in copc_files.iter().take(2) {
        let mut bytes = std::fs::read(path)?;
        let wrong = bytes.len() as u64 + 4096;
        bytes[235..243].copy_from_slice(&wrong.to_le_bytes());
        seeds.write("open", &path.with_extension("wrong-evlr"), &bytes)?;
        let mut seed = QueryInput { flags: 0, corners: [0; 6], resolution: 0, dims: 0 }.encode();
        seed.extend_from_slice(&bytes);
        seeds.write("query", &path.with_extension("wrong-evlr.q"), &seed)?;
    }
    // Inputs of past findings: each run starts by replaying them.
    for (name, bytes) in fuzzing::node_regressions() {
        seeds.write_named("node", name, &bytes)?;
    }
    seeds.http()?;
    seeds.polygons()?;
    Ok(())
}

struct Seeds {
    out: PathBuf,
}

impl Seeds {
    fn write(&self, target: &str, from: &Path, bytes: &[u8]) -> std::io::Result<()> {
        self.write_named(target, from.file_name().and_then(|n| n.to_str()).unwrap_or("seed"), bytes)
    }

    fn write_named(&self, target: &str, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        let dir = self.out.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(name), bytes)
    }

    /// `open`, `query`, `node` and `hierarchy` seeds from one COPC file.
    fn copc(&self, path: &Path, whole: bool) -> std::io::Result<()> {
        let bytes = std::fs::read(path)?;
        if whole {
            self.write("open", path, &bytes)?;
            // Everything, a 2-D box at coarse resolution with a few dims, a 3-D corner box.
            let queries = [
                QueryInput { flags: 0, corners: [0; 6], resolution: 0, dims: 0 },
                QueryInput { flags: 1 | 4 | 8, corners: [10000, 20000, 0, 40000, 50000, 0], resolution: 32, dims: 0b1_0000_0111 },
                QueryInput { flags: 1 | 2, corners: [0, 0, 0, 30000, 30000, 30000], resolution: 0, dims: 0 },
            ];
            for (i, q) in queries.iter().enumerate() {
                let mut seed = q.encode();
                seed.extend_from_slice(&bytes);
                self.write("query", &path.with_extension(format!("q{i}")), &seed)?;
            }
        }
        for (i, seed) in fuzzing::node_seeds(&bytes, 4, MAX_CHUNK_SEED).iter().enumerate() {
            self.write("node", &path.with_extension(format!("n{i}")), seed)?;
        }
        if let Some(seed) = fuzzing::hierarchy_seed(&bytes) {
            self.write("hierarchy", path, &seed)?;
        }
        Ok(())
    }

    /// `polygon` seeds: the WKT/EWKT/GeoJSON forms GDAL, PDAL and PostGIS write, and
    /// mutations of them (truncated, tags swapped, vertex sizes mixed, non-polygons).
    fn polygons(&self) -> std::io::Result<()> {
        let ring2 = "0 0, 10 0, 10 10, 0 10, 0 0";
        let ring3 = "0 0 5, 10 0 5, 10 10 5, 0 10 5, 0 0 5";
        let ring4 = "0 0 5 1, 10 0 5 1, 10 10 5 1, 0 10 5 1, 0 0 5 1";
        let hole3 = "4 4 1, 6 4 1, 6 6 1, 4 6 1, 4 4 1";
        let gj3 = "[[0,0,5],[10,0,5],[10,10,5],[0,10,5],[0,0,5]]";
        let base = vec![
            format!("POLYGON (({ring2}))"),
            format!("POLYGON (({ring3}), ({hole3}))"),
            format!("POLYGON Z (({ring3}))"),
            format!("POLYGON M (({ring3}))"),
            format!("POLYGON ZM (({ring4}))"),
            format!("POLYGON (({ring4}))"),
            format!("POLYGONZ(({ring3}))"),
            format!("MULTIPOLYGON ((({ring2})), (({ring2})))"),
            format!("MULTIPOLYGON Z ((({ring3}), ({hole3})))"),
            format!("SRID=4326;POLYGON (({ring2}))"),
            format!("  SRID=32610; MULTIPOLYGON ZM ((({ring4})))\n"),
            format!("POLYGON (({ring2}, 1 2 3))"),
            "POLYGON EMPTY".to_string(),
            "POINT Z (1 2 3)".to_string(),
            "GEOMETRYCOLLECTION (POLYGON ((0 0, 1 0, 1 1, 0 0)))".to_string(),
            format!(r#"{{"type":"Polygon","coordinates":[{gj3}]}}"#),
            format!(r#"{{"type":"MultiPolygon","coordinates":[[{gj3}],[{gj3}]]}}"#),
            format!(r#"{{"type":"Feature","properties":null,"geometry":{{"type":"Polygon","coordinates":[{gj3}]}}}}"#),
            format!(r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","geometry":{{"type":"Polygon","coordinates":[{gj3}]}}}}]}}"#),
            format!(r#"{{"type":"GeometryCollection","geometries":[{{"type":"Polygon","coordinates":[{gj3}]}}]}}"#),
            r#"{"type":"Feature","geometry":null}"#.to_string(),
            r#"{"type":"LineString","coordinates":[[1,2,3],[4,5,6]]}"#.to_string(),
        ];
        let mut n = 0;
        for (i, text) in base.iter().enumerate() {
            self.write_named("polygon", &format!("form{i}.txt"), text.as_bytes())?;
            // mutations: cut short, one parenthesis or comma dropped, a number garbled
            for cut in [text.len() / 3, text.len() / 2, text.len().saturating_sub(1)] {
                if let Some(t) = text.get(..cut) {
                    self.write_named("polygon", &format!("mut{n}.txt"), t.as_bytes())?;
                    n += 1;
                }
            }
            for (from, to) in [("(", ""), (",", " "), ("5", "5 5"), ("0", "x"), ("Z", "ZM"), ("POLYGON", "LINESTRING")] {
                if text.contains(from) {
                    self.write_named("polygon", &format!("mut{n}.txt"), text.replacen(from, to, 1).as_bytes())?;
                    n += 1;
                }
            }
        }
        Ok(())
    }

    /// `ept` seeds: ept.json and the hierarchy files of an EPT dataset.
    fn ept(&self, dir: &Path) -> std::io::Result<()> {
        if !dir.is_dir() {
            return Ok(());
        }
        let mut seed = vec![ept_mode::EPT_JSON];
        seed.extend_from_slice(&std::fs::read(dir.join("ept.json"))?);
        self.write_named("ept", "ept.json", &seed)?;
        let mut tree = vec![ept_mode::HIERARCHY_TREE];
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(dir.join("ept-hierarchy"))?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for (i, path) in files.iter().enumerate() {
            let bytes = std::fs::read(path)?;
            let mut seed = vec![ept_mode::HIERARCHY_FILE];
            seed.extend_from_slice(&bytes);
            self.write("ept", path, &seed)?;
            if i > 0 {
                tree.push(0);
            }
            tree.extend_from_slice(&bytes);
        }
        self.write_named("ept", "tree", &tree)
    }

    /// `http` seeds: the answers a good server gives, and the usual bad ones.
    fn http(&self) -> std::io::Result<()> {
        let object: Vec<u8> = (0..=255u8).cycle().take(4000).collect();
        let answer = |op, flags, status, cr: &str, cl: &str, body: &[u8]| HttpInput {
            op,
            flags,
            status,
            want: 999,
            start: 1000,
            len: 99,
            object: 4000,
            piece: 255,
            content_range: cr.into(),
            content_length: cl.into(),
            body: body.to_vec(),
        };
        let seeds = [
            answer(0, 3, 206, "bytes 0-999/4000", "1000", &object[..1000]),
            answer(0, 2, 200, "", "4000", &object),
            answer(0, 0, 200, "", "", &object),
            answer(0, 1, 416, "bytes */0", "", b""),
            answer(1, 2, 200, "", "4000", b""),
            answer(2, 3, 206, "bytes 1000-1099/4000", "100", &object[1000..1100]),
            answer(2, 1, 206, "bytes 1000-1099/*", "", &object[1000..1050]),
            answer(2, 2, 200, "", "4000", &object),
            answer(2, 4, 503, "", "", b"<html>Service Unavailable</html>"),
        ];
        for (i, s) in seeds.iter().enumerate() {
            self.write_named("http", &format!("answer{i}"), &s.encode())?;
        }
        Ok(())
    }
}
