//! Many files as one dataset (issue 29): a generated town cut into 16 COPC tiles,
//! `copc index` over them, a wrench-style VPC written by hand, queries over the
//! dataset against the same query on one COPC file of all points and brute force,
//! the planner, and bad input.

use copc::dataset::{Dataset, PlanTarget, Partition};
use copc::writer::las_out::{LasOut, LasOutSpec};
use copc::writer::{WriterOptions, translate};
use copc::{Bounds, Dimension, Polygon, Query, Reader, ReaderOptions};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const POINTS: u64 = 300_000;
const GRID: usize = 4;

fn copc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_copc")).args(args).output().unwrap()
}

struct Town {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    merged: PathBuf,
    tiles: Vec<PathBuf>,
    /// Every point: X/Y/Z in centimetres (exact: scale 0.01).
    all: Vec<[i64; 3]>,
    min: [f64; 3],
    max: [f64; 3],
}

fn cm(p: [f64; 3]) -> [i64; 3] {
    [(p[0] * 100.0).round() as i64, (p[1] * 100.0).round() as i64, (p[2] * 100.0).round() as i64]
}

fn spec_of(r: &Reader, format: u8, record_length: u16) -> LasOutSpec {
    let h = r.header();
    LasOutSpec {
        format,
        record_length,
        scale: h.scale,
        offset: h.offset,
        gps_standard_time: h.global_encoding() & 1 != 0,
        wkt: r.crs_wkt().unwrap(),
        extra_bytes_vlr: None,
        compressed: false,
    }
}

/// The town: one COPC file of all points, and the same points cut by a 4x4 grid of
/// X/Y into 16 COPC tiles in `tiles/` (made once per test binary).
fn town() -> &'static Town {
    static T: OnceLock<Town> = OnceLock::new();
    T.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        // small nodes, so that tiles have octrees of a few levels
        let opts = WriterOptions { threads: Some(2), max_points_per_node: 2000, ..Default::default() };
        let raw = dir.join("town.laz");
        copc::sample::write_sample(&raw, &copc::sample::SampleOptions { points: POINTS, seed: 29, format: 7, ..Default::default() }).unwrap();
        let merged = dir.join("merged.copc.laz");
        translate(&[&raw], &merged, &opts).unwrap();
        let r = Reader::open(&merged).unwrap();
        let h = r.header().clone();
        let (min, max) = (h.min, h.max);
        std::fs::create_dir(dir.join("tiles")).unwrap();
        let las_dir = dir.join("las");
        std::fs::create_dir(&las_dir).unwrap();
        let mut writers: Vec<LasOut> = (0..GRID * GRID)
            .map(|i| LasOut::create(las_dir.join(format!("t{i:02}.las")), spec_of(&r, h.point_format, h.point_record_length)).unwrap())
            .collect();
        let rl = h.point_record_length as usize;
        let mut all = Vec::new();
        let cell = |v: f64, k: usize| (((v - min[k]) / (max[k] - min[k]) * GRID as f64) as usize).min(GRID - 1);
        for b in r.points(&Query::new()).unwrap() {
            let b = b.unwrap();
            for (i, p) in b.xyz().into_iter().enumerate() {
                all.push(cm(p));
                let t = cell(p[1], 1) * GRID + cell(p[0], 0);
                writers[t].write(&b.records()[i * rl..(i + 1) * rl]).unwrap();
            }
        }
        let mut tiles = Vec::new();
        for (i, w) in writers.into_iter().enumerate() {
            w.finish().unwrap();
            let t = dir.join("tiles").join(format!("t{i:02}.copc.laz"));
            translate(&[las_dir.join(format!("t{i:02}.las"))], &t, &opts).unwrap();
            tiles.push(t);
        }
        all.sort();
        Town { _dir: tmp, dir, merged, tiles, all, min, max }
    })
}

fn vpc(t: &Town) -> PathBuf {
    static V: OnceLock<PathBuf> = OnceLock::new();
    V.get_or_init(|| {
        let out = t.dir.join("tiles").join("town.vpc");
        let o = copc(&["index", t.dir.join("tiles").to_str().unwrap(), "-o", out.to_str().unwrap()]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    })
    .clone()
}

fn sorted_cm(batches: impl Iterator<Item = copc::PointBatch>) -> Vec<[i64; 3]> {
    let mut v: Vec<[i64; 3]> = batches.flat_map(|b| b.xyz().into_iter().map(cm).collect::<Vec<_>>()).collect();
    v.sort();
    v
}

fn dataset_points(ds: &Dataset, q: &Query) -> Vec<[i64; 3]> {
    sorted_cm(ds.points(q).unwrap().map(|b| b.unwrap().1))
}

fn merged_points(t: &Town, q: &Query) -> Vec<[i64; 3]> {
    let r = Reader::open(&t.merged).unwrap();
    sorted_cm(r.points(q).unwrap().map(|b| b.unwrap()))
}

/// A box over about a quarter of the town, not aligned with the tile grid.
fn quarter(t: &Town) -> Bounds {
    let f = |k: usize, a: f64| t.min[k] + (t.max[k] - t.min[k]) * a;
    Bounds::xy(f(0, 0.1), f(1, 0.15), f(0, 0.45), f(1, 0.5))
}

#[test]
fn index_writes_stac_items_with_counts_and_bounds() {
    let t = town();
    let v: Value = serde_json::from_str(&std::fs::read_to_string(vpc(t)).unwrap()).unwrap();
    assert_eq!(v["type"], "FeatureCollection");
    let f = v["features"].as_array().unwrap();
    assert_eq!(f.len(), GRID * GRID);
    let mut total = 0;
    for (item, tile) in f.iter().zip(&t.tiles) {
        assert_eq!(item["type"], "Feature");
        assert_eq!(item["stac_version"], "1.0.0");
        let ext: Vec<&str> = item["stac_extensions"].as_array().unwrap().iter().map(|e| e.as_str().unwrap()).collect();
        assert!(ext.iter().any(|e| e.contains("pointcloud")) && ext.iter().any(|e| e.contains("projection")));
        let name = tile.file_name().unwrap().to_str().unwrap();
        assert_eq!(item["assets"]["data"]["href"], format!("./{name}"));
        assert_eq!(item["assets"]["data"]["roles"], json!(["data"]));
        assert_eq!(item["id"], name.split('.').next().unwrap());
        let p = &item["properties"];
        let r = Reader::open(tile).unwrap();
        let h = r.header();
        assert_eq!(p["pc:count"], h.point_count);
        total += h.point_count;
        let bbox: Vec<f64> = p["proj:bbox"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let want = [h.min[0], h.min[1], h.min[2], h.max[0], h.max[1], h.max[2]];
        assert!(bbox.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-9), "{bbox:?} {want:?}");
        assert_eq!(p["pc:type"], "lidar");
        assert_eq!(p["pc:encoding"], "application/vnd.laszip+copc");
        assert_eq!(p["proj:epsg"], 32610);
        assert!(p["proj:wkt2"].as_str().unwrap().contains("32610"));
        assert_eq!(p["proj:geometry"]["type"], "Polygon");
        assert!(p["datetime"].is_string());
        let names: Vec<&str> = p["pc:schemas"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert!(names.contains(&"x") && names.contains(&"classification") && !names.contains(&"x_raw"), "{names:?}");
        assert_eq!(item["bbox"].as_array().unwrap().len(), 6);
    }
    assert_eq!(total, POINTS);
    // a glob and --stats: the same Items, with the data node count of each hierarchy
    let glob = t.dir.join("tiles").join("t0?.copc.laz");
    let out = t.dir.join("glob.vpc");
    let o = copc(&["index", glob.to_str().unwrap(), "-o", out.to_str().unwrap(), "--stats"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let g: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let gf = g["features"].as_array().unwrap();
    assert_eq!(gf.len(), 10);
    for (item, tile) in gf.iter().zip(&t.tiles) {
        assert_eq!(item["assets"]["data"]["href"], format!("./tiles/{}", tile.file_name().unwrap().to_str().unwrap()));
        let nodes = Reader::open(tile).unwrap().hierarchy_summary().unwrap().data_nodes;
        assert_eq!(item["properties"]["copc:data_nodes"], nodes);
    }
    // copc info sums the tiles
    let o = copc(&["info", "--json", vpc(t).to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let info: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(info["files"], GRID * GRID);
    assert_eq!(info["point_count"], POINTS);
}

#[test]
fn queries_over_tiles_equal_the_merged_file_and_brute_force() {
    let t = town();
    let ds = Dataset::open(vpc(t).to_str().unwrap(), &ReaderOptions::default()).unwrap();
    assert_eq!(ds.point_count(), POINTS);
    assert_eq!(dataset_points(&ds, &Query::new()), t.all);
    // box
    let b = quarter(t);
    let q = Query::new().bounds(b);
    let got = dataset_points(&ds, &q);
    let brute: Vec<[i64; 3]> = t.all.iter().copied().filter(|p| p[0] as f64 / 100.0 >= b.min[0] && p[0] as f64 / 100.0 <= b.max[0] && p[1] as f64 / 100.0 >= b.min[1] && p[1] as f64 / 100.0 <= b.max[1]).collect();
    assert!(!got.is_empty() && got.len() < t.all.len() / 2);
    assert_eq!(got, brute);
    assert_eq!(got, merged_points(t, &q));
    assert_eq!(ds.count(&q).unwrap(), got.len() as u64);
    // polygon (a triangle across several tiles)
    let (x0, y0, x1, y1) = (t.min[0], t.min[1], t.max[0], t.max[1]);
    let tri = Polygon::new(vec![vec![vec![[x0 + 5.0, y0 + 5.0], [x1 - 5.0, y0 + 20.0], [(x0 + x1) / 2.0, y1 - 5.0], [x0 + 5.0, y0 + 5.0]]]]).unwrap();
    let qp = Query::new().polygon(tri.clone());
    let got = dataset_points(&ds, &qp);
    let brute: Vec<[i64; 3]> = t.all.iter().copied().filter(|p| tri.contains(p[0] as f64 / 100.0, p[1] as f64 / 100.0)).collect();
    assert!(!got.is_empty());
    assert_eq!(got, brute);
    assert_eq!(got, merged_points(t, &qp));
    assert_eq!(ds.count(&qp).unwrap(), got.len() as u64);
    // dims: the decoded columns are the merged file's
    let qd = Query::new().bounds(b).dims([Dimension::Classification]);
    let mut c1: Vec<u8> = ds.points(&qd).unwrap().flat_map(|b| b.unwrap().1.column::<u8>(Dimension::Classification).unwrap()).collect();
    let r = Reader::open(&t.merged).unwrap();
    let mut c2: Vec<u8> = r.points(&qd).unwrap().flat_map(|b| b.unwrap().column::<u8>(Dimension::Classification).unwrap()).collect();
    c1.sort();
    c2.sort();
    assert_eq!(c1, c2);
    // resolution: each tile's own octree decides the levels, so the dataset's answer is
    // the union of the per-tile answers (not the merged file's, whose octree differs)
    let qr = Query::new().bounds(b).resolution(30.0);
    let got = dataset_points(&ds, &qr);
    let mut per_tile: Vec<[i64; 3]> = Vec::new();
    for tile in &t.tiles {
        let r = Reader::open(tile).unwrap();
        per_tile.extend(r.points(&qr).unwrap().flat_map(|b| b.unwrap().xyz().into_iter().map(cm).collect::<Vec<_>>()));
    }
    per_tile.sort();
    assert!(!got.is_empty() && got.len() < dataset_points(&ds, &q).len());
    assert_eq!(got, per_tile);
    // the box opened only the tiles it meets
    let ds2 = Dataset::open(vpc(t).to_str().unwrap(), &ReaderOptions::default()).unwrap();
    ds2.count(&q).unwrap();
    assert_eq!(ds2.opened(), ds2.tiles_for(&q));
    assert!(ds2.opened().len() < GRID * GRID);
}

#[test]
fn planner_partitions_cover_the_query_and_round_trip_as_json() {
    let t = town();
    let ds = Dataset::open(vpc(t).to_str().unwrap(), &ReaderOptions::default()).unwrap();
    let q = Query::new().bounds(quarter(t)).dims([Dimension::X, Dimension::Y, Dimension::Z]);
    let parts = ds.plan(&q, PlanTarget::Points(5_000)).unwrap();
    assert!(parts.len() > ds.tiles_for(&q).len(), "{} partitions", parts.len());
    let mut got = Vec::new();
    for p in &parts {
        assert!(p.points <= 5_000 || p.keys.len() == 1);
        assert_eq!(p.keys.len(), p.ranges.len());
        let back = Partition::from_json(&serde_json::from_str(&p.to_json().to_string()).unwrap()).unwrap();
        assert_eq!(&back, p);
        let batches = back.read(&ReaderOptions::default()).unwrap();
        let n: usize = batches.iter().map(|b| b.len()).sum();
        let mut arrow = back.arrow(&ReaderOptions::default(), &copc::arrow::ArrowOptions::default()).unwrap();
        let mut rows = 0;
        while let Some(b) = arrow.next_batch() {
            rows += b.unwrap().num_rows();
        }
        assert_eq!(rows, n);
        assert!(n as u64 <= p.points);
        if p.exact {
            assert_eq!(n as u64, p.points);
        }
        got.extend(batches.iter().flat_map(|b| b.xyz().into_iter().map(cm).collect::<Vec<_>>()));
    }
    got.sort();
    assert_eq!(got, dataset_points(&ds, &q));
    // by bytes too: every node in exactly one partition
    let by_bytes = ds.plan(&q, PlanTarget::Bytes(64 << 10)).unwrap();
    let nodes = |v: &[Partition]| v.iter().map(|p| p.keys.len()).sum::<usize>();
    assert_eq!(nodes(&by_bytes), nodes(&parts));
}

#[test]
fn cli_query_over_a_vpc_counts_writes_and_reports_pruning() {
    let t = town();
    let v = vpc(t);
    let b = quarter(t);
    let bs = format!("{},{},{},{}", b.min[0], b.min[1], b.max[0], b.max[1]);
    let want = merged_points(t, &Query::new().bounds(b)).len();
    let o = copc(&["query", v.to_str().unwrap(), "--bounds", &bs, "--count", "--stats"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), want.to_string());
    let err = String::from_utf8_lossy(&o.stderr);
    let ds = Dataset::open(v.to_str().unwrap(), &ReaderOptions::default()).unwrap();
    let in_box = ds.tiles_for(&Query::new().bounds(b)).len();
    assert!(err.contains(&format!("files 16, files in box {in_box}, files opened {in_box},")), "{err}");
    // -o OUT.las and a COPC file merged from the subset
    let out = t.dir.join("subset.copc.laz");
    let o = copc(&["query", v.to_str().unwrap(), "--bounds", &bs, "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = Reader::open(&out).unwrap();
    assert_eq!(sorted_cm(r.points(&Query::new()).unwrap().map(|b| b.unwrap())), merged_points(t, &Query::new().bounds(b)));
    // CSV with dims
    let csv = t.dir.join("subset.csv");
    let o = copc(&["query", v.to_str().unwrap(), "--bounds", &bs, "--dims", "x,y,classification", "--csv", csv.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), want + 1);
}

/// `copc translate A.vpc OUT.copc.laz` merges every tile; with `--bounds` only the
/// points in the box (brute force over all the points), from the tiles that meet it.
#[test]
fn translate_of_a_vpc_merges_every_tile_or_the_bounds_subset() {
    let t = town();
    let v = vpc(t);
    let all = t.dir.join("all-from-vpc.copc.laz");
    let o = copc(&["translate", v.to_str().unwrap(), all.to_str().unwrap(), "--threads", "2"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = Reader::open(&all).unwrap();
    assert_eq!(sorted_cm(r.points(&Query::new()).unwrap().map(|b| b.unwrap())), t.all);
    let b = quarter(t);
    let bs = format!("{},{},{},{}", b.min[0], b.min[1], b.max[0], b.max[1]);
    let sub = t.dir.join("quarter-from-vpc.copc.laz");
    let o = copc(&["translate", v.to_str().unwrap(), sub.to_str().unwrap(), "--bounds", &bs]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let want: Vec<[i64; 3]> = t.all.iter().copied().filter(|p| b.contains_point(p[0] as f64 / 100.0, p[1] as f64 / 100.0, p[2] as f64 / 100.0)).collect();
    assert!(!want.is_empty() && want.len() < t.all.len() / 2);
    let r = Reader::open(&sub).unwrap();
    assert_eq!(r.header().point_count, want.len() as u64);
    assert_eq!(sorted_cm(r.points(&Query::new()).unwrap().map(|b| b.unwrap())), want);
    // the cube fits the box, not the whole town
    assert!(r.info().halfsize * 2.0 < (t.max[0] - t.min[0]).max(t.max[1] - t.min[1]));
    // a box beside the town: nothing to convert, nothing written
    let none = t.dir.join("none.copc.laz");
    let far = format!("{},{},{},{}", t.max[0] + 10.0, t.max[1] + 10.0, t.max[0] + 20.0, t.max[1] + 20.0);
    let o = copc(&["translate", v.to_str().unwrap(), none.to_str().unwrap(), "--bounds", &far]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("no tile of the dataset meets --bounds"));
    assert!(!none.exists());
}

#[test]
fn a_vpc_written_as_wrench_writes_it_opens() {
    // Written from the fields PDAL wrench's build_vpc writes (and QGIS reads):
    // "./" hrefs, pc:encoding "?", proj:wkt2 text, proj:bbox, proj:geometry; no proj:epsg.
    let t = town();
    let dir = t.dir.join("tiles");
    let mut features = Vec::new();
    for tile in &t.tiles {
        let r = Reader::open(tile).unwrap();
        let h = r.header();
        let name = tile.file_name().unwrap().to_str().unwrap();
        features.push(json!({
            "type": "Feature", "stac_version": "1.0.0",
            "stac_extensions": ["https://stac-extensions.github.io/pointcloud/v1.0.0/schema.json",
                                "https://stac-extensions.github.io/projection/v1.1.0/schema.json"],
            "id": name.split('.').next().unwrap(),
            "geometry": {"type": "Polygon", "coordinates": [[[h.min[0], h.min[1]], [h.max[0], h.min[1]], [h.max[0], h.max[1]], [h.min[0], h.max[1]], [h.min[0], h.min[1]]]]},
            "bbox": [h.min[0], h.min[1], h.min[2], h.max[0], h.max[1], h.max[2]],
            "properties": {
                "datetime": "2023-06-01T00:00:00Z", "pc:count": h.point_count, "pc:type": "lidar", "pc:encoding": "?",
                "pc:schemas": [{"name": "X", "type": "floating", "size": 8}],
                "proj:wkt2": r.crs_wkt().unwrap().unwrap(),
                "proj:geometry": {"type": "Polygon", "coordinates": [[[h.min[0], h.min[1]], [h.max[0], h.min[1]], [h.max[0], h.max[1]], [h.min[0], h.max[1]], [h.min[0], h.min[1]]]]},
                "proj:bbox": [h.min[0], h.min[1], h.min[2], h.max[0], h.max[1], h.max[2]]
            },
            "links": [],
            "assets": {"data": {"href": format!("./{name}"), "roles": ["data"]}}
        }));
    }
    let path = dir.join("wrench.vpc");
    std::fs::write(&path, serde_json::to_string_pretty(&json!({"type": "FeatureCollection", "features": features})).unwrap()).unwrap();
    let ds = Dataset::open(path.to_str().unwrap(), &ReaderOptions::default()).unwrap();
    assert_eq!(ds.items().len(), GRID * GRID);
    let q = Query::new().bounds(quarter(t));
    assert_eq!(ds.count(&q).unwrap() as usize, merged_points(t, &q).len());
}

fn write_vpc(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

/// Tile 0's points in point format 6 (no RGB) as `f6.las` and `f6.copc.laz` in `d`,
/// and a VPC of the town with tile 5 replaced by `f6.copc.laz`: (the LAS, the VPC).
fn mixed_format_vpc(t: &Town, d: &Path) -> (PathBuf, String) {
    let r = Reader::open(&t.tiles[0]).unwrap();
    let las6 = d.join("f6.las");
    let mut w = LasOut::create(&las6, spec_of(&r, 6, 30)).unwrap();
    for b in r.points(&Query::new()).unwrap() {
        let b = b.unwrap();
        for rec in b.records().chunks_exact(36) {
            w.write(&rec[..30]).unwrap();
        }
    }
    w.finish().unwrap();
    let f6 = d.join("f6.copc.laz");
    translate(&[&las6], &f6, &WriterOptions { threads: Some(1), ..Default::default() }).unwrap();
    let mut v6: Value = serde_json::from_str(&std::fs::read_to_string(vpc(t)).unwrap()).unwrap();
    for f in v6["features"].as_array_mut().unwrap() {
        let h = f["assets"]["data"]["href"].as_str().unwrap().replace("./", &format!("{}/", t.dir.join("tiles").display()));
        f["assets"]["data"]["href"] = json!(h);
    }
    v6["features"][5]["assets"]["data"]["href"] = json!(f6.to_str().unwrap());
    (las6, write_vpc(d, "mixed.vpc", &v6.to_string()))
}

/// Sorted X/Y/Z (cm) of Arrow batches with float64 columns x, y, z.
fn arrow_cm(batches: impl Iterator<Item = arrow_array::RecordBatch>) -> Vec<[i64; 3]> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::Float64Type;
    let mut v = Vec::new();
    for b in batches {
        let col = |n: &str| b.column_by_name(n).unwrap().as_primitive::<Float64Type>().values().to_vec();
        let (x, y, z) = (col("x"), col("y"), col("z"));
        v.extend((0..b.num_rows()).map(|i| cm([x[i], y[i], z[i]])));
    }
    v.sort();
    v
}

#[test]
fn arrow_over_tiles_is_one_stream_equal_to_the_merged_file() {
    use arrow_array::RecordBatchReader;
    use copc::arrow::ArrowOptions;
    let t = town();
    let ds = std::sync::Arc::new(Dataset::open(vpc(t).to_str().unwrap(), &ReaderOptions::default()).unwrap());
    let merged = Reader::open(&t.merged).unwrap();
    let b = quarter(t);
    let q = Query::new().bounds(b).dims([Dimension::X, Dimension::Y, Dimension::Z, Dimension::Classification]);
    let opts = ArrowOptions::default().batch_rows(3000);
    let stream = ds.arrow(&q, &opts).unwrap();
    // one schema for every batch: the first tile's, with the merged file's names and types
    let schema = stream.schema();
    assert_eq!(schema, ds.arrow_schema(&q, &opts).unwrap());
    let want = merged.arrow_schema(&q, &opts).unwrap();
    let fields = |s: &arrow_schema::Schema| s.fields().iter().map(|f| (f.name().clone(), f.data_type().clone())).collect::<Vec<_>>();
    assert_eq!(fields(&schema), fields(&want));
    let batches: Vec<_> = stream.map(|b| b.unwrap()).collect();
    assert!(batches.iter().all(|b| b.schema() == schema && b.num_rows() <= 3000));
    assert!(batches.len() > ds.tiles_for(&q).len(), "{} batches", batches.len());
    let got = arrow_cm(batches.iter().cloned());
    assert_eq!(got, merged_points(t, &q));
    assert_eq!(got.len() as u64, ds.count(&q).unwrap());
    // classification column: the merged file's values (as a multiset)
    let class = |bs: &[arrow_array::RecordBatch]| {
        let mut v: Vec<u8> = bs.iter().flat_map(|b| b.column_by_name("classification").unwrap().as_any().downcast_ref::<arrow_array::UInt8Array>().unwrap().values().to_vec()).collect();
        v.sort();
        v
    };
    let from_merged: Vec<_> = merged.arrow(&q, &opts).unwrap().map(|b| b.unwrap()).collect();
    assert_eq!(class(&batches), class(&from_merged));
    // a box outside every tile: the first tile's schema, no batch
    let far = Query::new().bounds(Bounds::xy(t.max[0] + 100.0, t.max[1] + 100.0, t.max[0] + 200.0, t.max[1] + 200.0));
    let mut none = ds.arrow(&far, &ArrowOptions::default()).unwrap();
    assert_eq!(fields(&none.schema()), fields(&merged.arrow_schema(&far, &ArrowOptions::default()).unwrap()));
    assert!(none.next().is_none());
    // a tile whose columns differ (point format 6: no red/green/blue) ends the stream
    // with an error naming it, after the tiles before it
    let tmp = tempfile::tempdir().unwrap();
    let (_, mixed) = mixed_format_vpc(t, tmp.path());
    let mixed = std::sync::Arc::new(Dataset::open(&mixed, &ReaderOptions::default()).unwrap());
    let mut rows = 0;
    let mut err = None;
    for b in mixed.arrow(&Query::new(), &ArrowOptions::default()).unwrap() {
        match b {
            Ok(b) => rows += b.num_rows(),
            Err(e) => err = Some(e.to_string()),
        }
    }
    let err = err.expect("an error for the format-6 tile");
    assert!(err.contains("f6.copc.laz") && err.contains("red"), "{err}");
    let before: u64 = t.tiles[..5].iter().map(|p| Reader::open(p).unwrap().header().point_count).sum();
    assert_eq!(rows as u64, before);
}

#[test]
fn bad_collections_fail_naming_the_tile_without_output() {
    let t = town();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();
    // malformed JSON, empty collection
    let bad = write_vpc(d, "bad.vpc", "{\"type\": \"FeatureCollection\", \"features\": [");
    let o = copc(&["info", &bad]);
    assert!(!o.status.success() && stderr(&o).contains("not valid JSON"), "{}", stderr(&o));
    let empty = write_vpc(d, "empty.vpc", "{\"type\": \"FeatureCollection\", \"features\": []}");
    let o = copc(&["query", &empty, "--count"]);
    assert!(!o.status.success() && stderr(&o).contains("no Items"), "{}", stderr(&o));
    // a missing tile: named, and no partial output
    let good: Value = serde_json::from_str(&std::fs::read_to_string(vpc(t)).unwrap()).unwrap();
    let mut v = good.clone();
    for f in v["features"].as_array_mut().unwrap() {
        let h = f["assets"]["data"]["href"].as_str().unwrap().replace("./", &format!("{}/", t.dir.join("tiles").display()));
        f["assets"]["data"]["href"] = json!(h);
    }
    v["features"][3]["assets"]["data"]["href"] = json!(d.join("gone.copc.laz").to_str().unwrap());
    let missing = write_vpc(d, "missing.vpc", &v.to_string());
    let out = d.join("out.las");
    let o = copc(&["query", &missing, "-o", out.to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains("gone.copc.laz"), "{}", stderr(&o));
    assert!(!out.exists());
    // a tile in another point format (6 instead of 7)
    let (las6, mixed) = mixed_format_vpc(t, d);
    let o = copc(&["query", &mixed, "-o", out.to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains("f6.copc.laz") && stderr(&o).contains("point format 6"), "{}", stderr(&o));
    assert!(!out.exists());
    // a plain LAS tile is listed by index, marked, and a query on it says what to run
    let plain_dir = d.join("plain");
    std::fs::create_dir(&plain_dir).unwrap();
    std::fs::copy(&las6, plain_dir.join("p.las")).unwrap();
    std::fs::copy(&t.tiles[0], plain_dir.join("t.copc.laz")).unwrap();
    let pv = plain_dir.join("p.vpc");
    let o = copc(&["index", plain_dir.to_str().unwrap(), "-o", pv.to_str().unwrap()]);
    assert!(o.status.success() && stderr(&o).contains("1 not COPC"), "{}", stderr(&o));
    let o = copc(&["query", pv.to_str().unwrap(), "--count"]);
    assert!(!o.status.success() && stderr(&o).contains("copc translate") && stderr(&o).contains("p.las"), "{}", stderr(&o));
}

/// Stops the `copc serve` child when the test ends, even on a failed assertion.
struct Served(std::process::Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_vpc_over_http_resolves_relative_hrefs_and_prunes() {
    use std::io::BufRead;
    let t = town();
    let v = vpc(t);
    let mut child = Command::new(env!("CARGO_BIN_EXE_copc"))
        .args(["serve", t.dir.join("tiles").to_str().unwrap(), "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _served = Served(child);
    let base = line.split_whitespace().find(|w| w.starts_with("http://")).unwrap().trim_end_matches('/').to_string();
    let url = format!("{base}/{}", v.file_name().unwrap().to_str().unwrap());
    let b = quarter(t);
    let q = Query::new().bounds(b);
    let ds = Dataset::open(&url, &ReaderOptions::default()).unwrap();
    assert!(ds.items().iter().all(|i| i.href.starts_with(&base)), "{:?}", ds.items()[0].href);
    assert_eq!(dataset_points(&ds, &q), merged_points(t, &q));
    assert_eq!(ds.opened(), ds.tiles_for(&q));
    let bs = format!("{},{},{},{}", b.min[0], b.min[1], b.max[0], b.max[1]);
    let o = copc(&["query", &url, "--bounds", &bs, "--count", "--stats"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), merged_points(t, &q).len().to_string());
    let err = String::from_utf8_lossy(&o.stderr);
    let k = ds.tiles_for(&q).len();
    assert!(err.contains(&format!("files in box {k}, files opened {k},")), "{err}");
}

#[test]
fn tiles_with_another_scale_and_offset_merge_to_the_same_coordinates() {
    let t = town();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // tile 5 again, with scale 0.001 and offset 500000,4500000,100
    let other = d.join("t05-fine.copc.laz");
    let wo = WriterOptions {
        threads: Some(1),
        scale: Some([0.001; 3]),
        offset: Some(copc::writer::OffsetOption::Value([500000.0, 4500000.0, 100.0])),
        ..Default::default()
    };
    translate(&[&t.tiles[5]], &other, &wo).unwrap();
    assert_eq!(Reader::open(&other).unwrap().header().scale, [0.001; 3]);
    let good: Value = serde_json::from_str(&std::fs::read_to_string(vpc(t)).unwrap()).unwrap();
    let mut v = good.clone();
    for f in v["features"].as_array_mut().unwrap() {
        let h = f["assets"]["data"]["href"].as_str().unwrap().replace("./", &format!("{}/", t.dir.join("tiles").display()));
        f["assets"]["data"]["href"] = json!(h);
    }
    v["features"][5]["assets"]["data"]["href"] = json!(other.to_str().unwrap());
    let path = write_vpc(d, "mixed-scale.vpc", &v.to_string());
    let out = d.join("all.copc.laz");
    let o = copc(&["query", &path, "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = Reader::open(&out).unwrap();
    assert_eq!(r.header().scale, [0.01; 3], "the first tile's scale");
    assert_eq!(sorted_cm(r.points(&Query::new()).unwrap().map(|b| b.unwrap())), t.all);
}
