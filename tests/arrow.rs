//! Arrow batches (src/arrow) against the `PointBatch` path: every column, every row,
//! in the same order, for the shared real files and for generated COPC files (extra
//! bytes, formats 6/7/8, nodes larger than a batch); the schema against the table of
//! docs/arrow.md written out here; the C stream read back by arrow-rs' importer.

mod support;

use arrow_array::ffi_stream::ArrowArrayStreamReader;
use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, FixedSizeBinaryArray, FixedSizeListArray, RecordBatch, StructArray,
};
use arrow_schema::DataType;
use copc::arrow::{ArrowColumn, ArrowOptions, Geometry};
use copc::format::point::DimType;
use copc::sample::{SampleOptions, write_sample};
use copc::writer::{WriterOptions, translate};
use copc::{Bounds, Dimension, MemorySource, Polygon, Query, Reader, ReaderOptions};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use support::{VALID_COPC, test_data};

/// The bytes of one array's values, as `PointBatch::write_column` lays them out
/// (booleans as one byte 0/1 per value).
fn value_bytes(a: &ArrayRef) -> Vec<u8> {
    assert_eq!(a.null_count(), 0);
    match a.data_type() {
        DataType::Boolean => {
            let b = a.as_any().downcast_ref::<BooleanArray>().unwrap();
            b.iter().map(|v| v.unwrap() as u8).collect()
        }
        DataType::FixedSizeBinary(_) => a.as_any().downcast_ref::<FixedSizeBinaryArray>().unwrap().value_data().to_vec(),
        DataType::FixedSizeList(_, _) => value_bytes(a.as_any().downcast_ref::<FixedSizeListArray>().unwrap().values()),
        t => {
            assert!(t.is_primitive(), "{t}");
            let d = a.to_data();
            let w = t.primitive_width().unwrap();
            d.buffers()[0].as_slice()[d.offset() * w..(d.offset() + d.len()) * w].to_vec()
        }
    }
}

/// What the `PointBatch` path gives for `q`: per dimension, the values' bytes; the
/// node and position of each point.
struct Expected {
    columns: HashMap<Dimension, Vec<u8>>,
    nodes: Vec<copc::VoxelKey>,
    index: Vec<u32>,
    rows: usize,
}

fn expected(r: &Reader, q: &Query, dims: &[Dimension]) -> Expected {
    let mut e = Expected { columns: HashMap::new(), nodes: Vec::new(), index: Vec::new(), rows: 0 };
    for b in r.points(q).unwrap() {
        let b = b.unwrap();
        for &d in dims {
            let size = b.format().value_size(d).unwrap();
            let mut buf = vec![0u8; b.len() * size];
            b.write_column(d, 0, b.len(), &mut buf, size).unwrap();
            e.columns.entry(d).or_default().extend(buf);
        }
        for i in 0..b.len() {
            e.nodes.push(b.node);
            e.index.push(b.index_in_node(i));
        }
        e.rows += b.len();
    }
    e
}

/// Every batch of `reader.arrow(q, opts)`, checking sizes and the schema on the way.
fn batches(r: &Reader, q: &Query, opts: &ArrowOptions) -> Vec<RecordBatch> {
    let schema = r.arrow_schema(q, opts).unwrap();
    let out: Vec<RecordBatch> = r.arrow(q, opts).unwrap().map(|b| b.unwrap()).collect();
    for (i, b) in out.iter().enumerate() {
        assert_eq!(b.schema(), schema, "batch {i}: the schema arrow_schema() gave");
        assert!(b.num_rows() > 0 && b.num_rows() <= opts.batch_rows, "batch {i}: {} rows", b.num_rows());
        if i + 1 < out.len() {
            assert_eq!(b.num_rows(), opts.batch_rows, "only the last batch is short");
        }
    }
    out
}

fn column(batches: &[RecordBatch], name: &str) -> Vec<ArrayRef> {
    batches.iter().map(|b| b.column_by_name(name).unwrap_or_else(|| panic!("no column {name}")).clone()).collect()
}

/// Equal byte strings, or a failure naming the first difference (not the whole column).
fn same_bytes(got: &[u8], want: &[u8], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    if let Some(i) = got.iter().zip(want).position(|(a, b)| a != b) {
        panic!("{what}: first difference at byte {i}: {:?} vs {:?}", &got[i..(i + 8).min(got.len())], &want[i..(i + 8).min(want.len())]);
    }
}

fn concat_bytes(arrays: &[ArrayRef]) -> Vec<u8> {
    arrays.iter().flat_map(value_bytes).collect()
}

/// The Arrow batches of `q` hold exactly the points and values of `reader.points(q)`.
fn compare(r: &Reader, q: &Query, opts: &ArrowOptions, what: &str) -> usize {
    let got = batches(r, q, opts);
    let schema = r.arrow_schema(q, opts).unwrap();
    let dims: Vec<(String, Dimension)> = schema
        .fields()
        .iter()
        .filter_map(|f| dim_of(r, q, opts, f.name()).map(|d| (f.name().clone(), d)))
        .collect();
    let mut want_dims: Vec<Dimension> = dims.iter().map(|(_, d)| *d).collect();
    for d in [Dimension::X, Dimension::Y, Dimension::Z] {
        if !want_dims.contains(&d) {
            want_dims.push(d);
        }
    }
    let want = expected(r, &Query { dims: None, ..q.clone() }, &want_dims);
    let rows: usize = got.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, want.rows, "{what}: row count");
    for (name, d) in &dims {
        same_bytes(&concat_bytes(&column(&got, name)), &want.columns[d], &format!("{what}: column {name} ({d:?})"));
    }
    let xyz: Vec<[f64; 3]> = (0..rows)
        .map(|i| {
            let v = |d: Dimension| f64::from_ne_bytes(want.columns[&d][i * 8..i * 8 + 8].try_into().unwrap());
            [v(Dimension::X), v(Dimension::Y), v(Dimension::Z)]
        })
        .collect();
    match opts.geometry {
        Some(Geometry::Wkb) => {
            let mut i = 0;
            for a in column(&got, &opts.geometry_name) {
                let wkb = a.as_any().downcast_ref::<BinaryArray>().unwrap();
                for v in wkb.iter() {
                    let v = v.unwrap();
                    assert_eq!(v.len(), 29);
                    assert_eq!(&v[..5], &[1, 0xE9, 3, 0, 0], "ISO WKB Point Z, little-endian");
                    let c = |k: usize| f64::from_le_bytes(v[5 + 8 * k..13 + 8 * k].try_into().unwrap());
                    assert_eq!([c(0), c(1), c(2)], xyz[i], "{what}: WKB of row {i}");
                    i += 1;
                }
            }
        }
        Some(Geometry::GeoArrowPoint) => {
            let f = schema.field_with_name(&opts.geometry_name).unwrap();
            assert_eq!(f.metadata()["ARROW:extension:name"], "geoarrow.point");
            let meta: serde_json::Value = serde_json::from_str(&f.metadata()["ARROW:extension:metadata"]).unwrap();
            if let Some(wkt) = r.crs_wkt().unwrap() {
                assert_eq!(meta["crs"].as_str().unwrap(), wkt.trim_end_matches('\0').trim());
            }
            let mut i = 0;
            for a in column(&got, &opts.geometry_name) {
                let s = a.as_any().downcast_ref::<StructArray>().unwrap();
                let c: Vec<_> = (0..3).map(|k| s.column(k).to_data()).collect();
                for row in 0..s.len() {
                    let v = |k: usize| c[k].buffers()[0].typed_data::<f64>()[c[k].offset() + row];
                    assert_eq!([v(0), v(1), v(2)], xyz[i], "{what}: geoarrow point of row {i}");
                    i += 1;
                }
            }
        }
        None => {}
    }
    if opts.node_columns {
        let ints = |name: &str| -> Vec<i64> {
            column(&got, name)
                .iter()
                .flat_map(|a| {
                    let c = arrow_cast_i64(a);
                    c.into_iter()
                })
                .collect()
        };
        let (l, x, y, z, idx) = (ints("node_level"), ints("node_x"), ints("node_y"), ints("node_z"), ints("point_index"));
        for i in 0..rows {
            let k = want.nodes[i];
            assert_eq!([l[i], x[i], y[i], z[i]], [k.level, k.x, k.y, k.z].map(i64::from), "{what}: node of row {i}");
            assert_eq!(idx[i], want.index[i] as i64, "{what}: point_index of row {i}");
        }
        if let Some(name) = &opts.point_id {
            // Independently: data nodes in file order (offset), points before each.
            let mut nodes = r.all_entries().unwrap();
            nodes.retain(|e| e.point_count > 0);
            nodes.sort_by_key(|e| (e.offset, e.key));
            let mut start = HashMap::new();
            let mut n = 0i64;
            for e in &nodes {
                start.insert(e.key, n);
                n += e.point_count as i64;
            }
            let ids = ints(name);
            for i in 0..rows {
                assert_eq!(ids[i], start[&want.nodes[i]] + want.index[i] as i64, "{what}: point id of row {i}");
            }
        }
    }
    rows
}

fn arrow_cast_i64(a: &ArrayRef) -> Vec<i64> {
    let d = a.to_data();
    let o = d.offset();
    match a.data_type() {
        DataType::Int32 => d.buffers()[0].typed_data::<i32>()[o..o + d.len()].iter().map(|v| *v as i64).collect(),
        DataType::UInt32 => d.buffers()[0].typed_data::<u32>()[o..o + d.len()].iter().map(|v| *v as i64).collect(),
        DataType::Int64 => d.buffers()[0].typed_data::<i64>()[o..o + d.len()].to_vec(),
        t => panic!("{t}"),
    }
}

/// The dimension a column of the default naming holds (None: not a dimension column).
fn dim_of(r: &Reader, q: &Query, opts: &ArrowOptions, name: &str) -> Option<Dimension> {
    if let Some(cols) = &opts.columns {
        return cols.iter().find(|c| c.name.as_deref() == Some(name)).map(|c| c.dim).or_else(|| {
            cols.iter().find(|c| c.name.is_none() && r.record_format().dim_name(c.dim) == name).map(|c| c.dim)
        });
    }
    let f = r.record_format();
    if let Some(d) = Dimension::from_name(name).filter(|d| d.name() == name) {
        return Some(d);
    }
    let i = f.extra_bytes.iter().position(|e| e.name == name)?;
    let eb = &f.extra_bytes[i];
    let _ = q;
    // docs/arrow.md: scaled single values as float64, the rest in the declared type.
    Some(if eb.count == 1 && eb.data_type != 0 && (eb.scale.is_some() || eb.offset.is_some()) {
        Dimension::Extra(i as u16)
    } else {
        Dimension::ExtraRaw(i as u16)
    })
}

/// The full, box, polygon, resolution and dims queries of a file.
fn queries(r: &Reader) -> Vec<(String, Query)> {
    let h = r.header();
    let (lo, hi) = (h.min, h.max);
    let mid = |a: usize, f: f64| lo[a] + (hi[a] - lo[a]) * f;
    let box2 = Bounds::xy(mid(0, 0.2), mid(1, 0.3), mid(0, 0.7), mid(1, 0.8));
    let box3 = Bounds::new([mid(0, 0.1), mid(1, 0.1), mid(2, 0.2)], [mid(0, 0.9), mid(1, 0.6), mid(2, 0.7)]);
    let tri = format!(
        "POLYGON(({} {},{} {},{} {},{} {}))",
        mid(0, 0.1),
        mid(1, 0.1),
        mid(0, 0.9),
        mid(1, 0.2),
        mid(0, 0.4),
        mid(1, 0.9),
        mid(0, 0.1),
        mid(1, 0.1)
    );
    let spacing = r.info().spacing;
    vec![
        ("full".into(), Query::new()),
        ("2-D box".into(), Query::new().bounds(box2)),
        ("3-D box".into(), Query::new().bounds(box3)),
        ("polygon".into(), Query::new().polygon(Polygon::parse(&tri).unwrap())),
        ("resolution".into(), Query::new().resolution(spacing / 3.0)),
        (
            "dims".into(),
            Query::new().bounds(box2).dims([Dimension::Classification, Dimension::GpsTime, Dimension::Withheld]),
        ),
    ]
}

/// Every query, with several option sets, on one reader.
fn check_reader(r: &Reader, what: &str) {
    let option_sets = [
        ArrowOptions::default(),
        ArrowOptions::default().batch_rows(1000).raw_xyz(true).geometry(Geometry::Wkb).node_columns(true).point_id("fid"),
        ArrowOptions::default().batch_rows(777).geometry(Geometry::GeoArrowPoint),
    ];
    for (qname, q) in queries(r) {
        for (k, opts) in option_sets.iter().enumerate() {
            let rows = compare(r, &q, opts, &format!("{what}, {qname}, options {k}"));
            if qname == "full" {
                assert_eq!(rows as u64, r.header().point_count, "{what}: every point");
            }
        }
    }
}

#[test]
fn real_files_match_the_point_batches() {
    let Some(dir) = test_data("real_files_match_the_point_batches") else { return };
    for f in VALID_COPC {
        let r = Reader::open(dir.join(f)).unwrap();
        check_reader(&r, f);
    }
}

/// A COPC file of `points` generated points of `format` (with extra bytes).
fn generated(dir: &Path, format: u8, points: u64, extra_bytes: bool) -> PathBuf {
    let las = dir.join(format!("sample{format}.laz"));
    write_sample(&las, &SampleOptions { points, format, extra_bytes, seed: format as u64, ..Default::default() }).unwrap();
    let out = dir.join(format!("sample{format}.copc.laz"));
    let opts = WriterOptions { threads: Some(2), max_points_per_node: 5000, ..Default::default() };
    translate(&[&las], &out, &opts).unwrap();
    out
}

#[test]
fn generated_files_match_the_point_batches() {
    let dir = tempfile::tempdir().unwrap();
    for format in [6u8, 7, 8] {
        let path = generated(dir.path(), format, 30_000, true);
        let r = Reader::open(&path).unwrap();
        assert_eq!(r.extra_bytes().len(), 2);
        assert!(r.nodes(&Query::new()).unwrap().iter().any(|n| n.point_count > 1000), "a node larger than a batch");
        check_reader(&r, &format!("PDRF {format}"));
        // Extra bytes chosen by hand: both forms, renamed.
        let opts = ArrowOptions::default().batch_rows(1000).columns([
            ArrowColumn { dim: Dimension::ExtraRaw(1), name: Some("sweep_raw".into()) },
            ArrowColumn { dim: Dimension::Extra(1), name: None },
            ArrowColumn { dim: Dimension::Extra(0), name: Some("hag".into()) },
            ArrowColumn { dim: Dimension::Intensity, name: None },
        ]);
        compare(&r, &Query::new(), &opts, &format!("PDRF {format}, columns by hand"));
        let s = r.arrow_schema(&Query::new(), &opts).unwrap();
        let names: Vec<_> = s.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["sweep_raw", "Sweep", "hag", "intensity"]);
        assert_eq!(s.field(0).data_type(), &DataType::UInt16);
        assert_eq!(s.field(1).data_type(), &DataType::Float64);
    }
}

/// The schema of docs/arrow.md, written out by hand.
#[test]
fn the_schema_is_the_documented_one() {
    let dir = tempfile::tempdir().unwrap();
    let r = Reader::open(generated(dir.path(), 8, 2000, true)).unwrap();
    let s = r.arrow_schema(&Query::new(), &ArrowOptions::default().raw_xyz(true)).unwrap();
    use DataType::*;
    let want: &[(&str, DataType, &str)] = &[
        ("x", Float64, "X"),
        ("y", Float64, "Y"),
        ("z", Float64, "Z"),
        ("x_raw", Int32, "X"),
        ("y_raw", Int32, "Y"),
        ("z_raw", Int32, "Z"),
        ("intensity", UInt16, "Intensity"),
        ("return_number", UInt8, "Return Number"),
        ("number_of_returns", UInt8, "Number of Returns"),
        ("scan_direction_flag", Boolean, "Scan Direction Flag"),
        ("edge_of_flight_line", Boolean, "Edge of Flight Line"),
        ("classification", UInt8, "Classification"),
        ("synthetic", Boolean, "Synthetic"),
        ("key_point", Boolean, "Key-point"),
        ("withheld", Boolean, "Withheld"),
        ("overlap", Boolean, "Overlap"),
        ("scanner_channel", UInt8, "Scanner Channel"),
        ("scan_angle", Int16, "Scan Angle"),
        ("user_data", UInt8, "User Data"),
        ("point_source_id", UInt16, "Point Source ID"),
        ("gps_time", Float64, "GPS Time"),
        ("red", UInt16, "Red"),
        ("green", UInt16, "Green"),
        ("blue", UInt16, "Blue"),
        ("nir", UInt16, "NIR"),
        ("HeightAboveGround", Float32, "HeightAboveGround"),
        ("Sweep", Float64, "Sweep"),
    ];
    assert_eq!(s.fields().len(), want.len(), "{s:#?}");
    for (f, (name, ty, las)) in s.fields().iter().zip(want) {
        assert_eq!((f.name().as_str(), f.data_type()), (*name, ty));
        assert!(!f.is_nullable(), "{name}");
        assert_eq!(f.metadata()["las:name"], *las);
    }
    let h = r.header();
    assert_eq!(s.field(0).metadata()["las:scale"].parse::<f64>().unwrap(), h.scale[0]);
    assert_eq!(s.field(2).metadata()["las:offset"].parse::<f64>().unwrap(), h.offset[2]);
    assert_eq!(s.field(17).metadata()["las:scale"], "0.006");
    let sweep = s.field(26).metadata();
    assert_eq!((sweep["las:extra_bytes_data_type"].as_str(), sweep["las:scale"].as_str()), ("3", "0.5"));
    assert_eq!(sweep["las:description"], "sweep number / 2");
    assert_eq!(s.field(25).metadata()["las:extra_bytes_type"], "float");
    // The query's dims, in its order; extra bytes asked either way give one column.
    let q = Query::new().dims([Dimension::Classification, Dimension::X, Dimension::ExtraRaw(1), Dimension::Extra(1)]);
    let s = r.arrow_schema(&q, &ArrowOptions::default().geometry(Geometry::Wkb).node_columns(true)).unwrap();
    let names: Vec<_> = s.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["classification", "x", "Sweep", "geometry", "node_level", "node_x", "node_y", "node_z", "point_index"]);
    assert_eq!(s.field(3).metadata()["ARROW:extension:name"], "ogc.wkb");
    // Bad options.
    assert!(r.arrow(&Query::new(), &ArrowOptions::default().batch_rows(0)).is_err());
    let bad = ArrowOptions::default().columns([ArrowColumn { dim: Dimension::Extra(9), name: None }]);
    assert!(r.arrow_schema(&Query::new(), &bad).unwrap_err().to_string().contains("extra dimension 9"));
}

#[test]
fn the_c_stream_reads_back_and_outlives_the_reader() {
    let dir = tempfile::tempdir().unwrap();
    let r = Arc::new(Reader::open(generated(dir.path(), 7, 12_000, true)).unwrap());
    let q = Query::new().bounds(Bounds::xy(f64::MIN, f64::MIN, f64::MAX, f64::MAX));
    let opts = ArrowOptions::default().batch_rows(1000).geometry(Geometry::GeoArrowPoint);
    let direct: Vec<RecordBatch> = r.arrow(&q, &opts).unwrap().map(|b| b.unwrap()).collect();
    let stream = copc::arrow::into_c_stream(r.arrow_shared(&q, &opts).unwrap());
    drop(r);
    let back: Vec<RecordBatch> = ArrowArrayStreamReader::try_new(stream).unwrap().map(|b| b.unwrap()).collect();
    assert_eq!(back, direct);
    assert_eq!(back.iter().map(|b| b.num_rows()).sum::<usize>(), 12_000);
}

#[test]
fn a_corrupt_node_ends_the_stream_with_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = generated(dir.path(), 6, 30_000, false);
    let mut bytes = std::fs::read(&path).unwrap();
    let r = Reader::open(&path).unwrap();
    let nodes = r.nodes(&Query::new()).unwrap();
    let bad = nodes[nodes.len() / 2];
    let at = bad.offset as usize;
    bytes[at..at + bad.byte_size as usize].fill(0);
    let src = Arc::new(MemorySource::new("cut.copc.laz", bytes));
    let r = Arc::new(Reader::from_source(src, &ReaderOptions::default()).unwrap());
    let mut it = r.arrow_shared(&Query::new(), &ArrowOptions::default().batch_rows(500)).unwrap();
    let mut rows = 0;
    let err = loop {
        match it.next_batch() {
            Some(Ok(b)) => rows += b.num_rows(),
            Some(Err(e)) => break e.to_string(),
            None => panic!("no error"),
        }
    };
    assert!(rows > 0, "batches before the bad node come first");
    let key = format!("node {}-{}-{}-{}", bad.key.level, bad.key.x, bad.key.y, bad.key.z);
    assert!(err.contains("cut.copc.laz") && err.contains(&key), "{err}");
    assert!(it.next_batch().is_none(), "the stream ends after its error");
    // Through the C stream: the same message from get_last_error.
    let mut s = copc::arrow::into_c_stream(r.arrow_shared(&Query::new(), &ArrowOptions::default()).unwrap());
    let mut code = 0;
    for _ in 0..100 {
        let mut a = arrow_array::ffi::FFI_ArrowArray::empty();
        code = unsafe { (s.get_next.unwrap())(&mut s, &mut a) };
        if code != 0 || a.is_released() {
            break;
        }
    }
    assert_eq!(code, libc_eio());
    let msg = unsafe { std::ffi::CStr::from_ptr((s.get_last_error.unwrap())(&mut s)) }.to_str().unwrap().to_string();
    assert!(msg.contains(&key), "{msg}");
}

fn libc_eio() -> i32 {
    5
}

#[test]
fn dim_types_map_one_to_one() {
    // Every DimType has an Arrow type of its width (the buffers are the columns' bytes).
    for t in [DimType::U8, DimType::I8, DimType::U16, DimType::I16, DimType::U32, DimType::I32, DimType::U64, DimType::I64, DimType::F32, DimType::F64] {
        let a = copc::arrow::schema::arrow_type(t);
        assert_eq!(a.primitive_width(), Some(t.size()), "{t:?}");
    }
}

/// Extra bytes as undocumented bytes (data type 0) and a deprecated 2-element array:
/// the sample's 6 extra bytes described anew, then translated (the writer keeps the
/// descriptors as they are).
#[test]
fn extra_byte_arrays_and_raw_bytes_match_the_point_batches() {
    let dir = tempfile::tempdir().unwrap();
    let las = dir.path().join("sample.las");
    let opts = SampleOptions { points: 8000, format: 6, extra_bytes: true, compressed: false, ..Default::default() };
    write_sample(&las, &opts).unwrap();
    let mut bytes = std::fs::read(&las).unwrap();
    let at = bytes.windows(9).position(|w| w == b"LASF_Spec").unwrap() + 16 + 2 + 2 + 32;
    let mut descriptor = |k: usize, data_type: u8, options: u8, name: &str| {
        let d = &mut bytes[at + 192 * k..at + 192 * (k + 1)];
        d.fill(0);
        d[2] = data_type;
        d[3] = options;
        d[4..4 + name.len()].copy_from_slice(name.as_bytes());
    };
    descriptor(0, 0, 4, "Blob"); // 4 undocumented bytes
    descriptor(1, 11, 0, "Pair"); // uint8[2]
    std::fs::write(&las, &bytes).unwrap();
    let out = dir.path().join("arrays.copc.laz");
    translate(&[&las], &out, &WriterOptions { threads: Some(2), max_points_per_node: 3000, ..Default::default() }).unwrap();
    let r = Reader::open(&out).unwrap();
    let names: Vec<_> = r.extra_bytes().iter().map(|e| (e.name.clone(), e.data_type, e.count)).collect();
    assert_eq!(names, [("Blob".to_string(), 0, 4), ("Pair".to_string(), 11, 2)]);
    let s = r.arrow_schema(&Query::new(), &ArrowOptions::default()).unwrap();
    assert_eq!(s.field_with_name("Blob").unwrap().data_type(), &DataType::FixedSizeBinary(4));
    assert!(matches!(s.field_with_name("Pair").unwrap().data_type(), DataType::FixedSizeList(f, 2) if f.data_type() == &DataType::UInt8));
    for opts in [ArrowOptions::default(), ArrowOptions::default().batch_rows(999)] {
        compare(&r, &Query::new(), &opts, "arrays");
        let q = Query::new().dims([Dimension::X, Dimension::ExtraRaw(1), Dimension::Extra(0)]);
        compare(&r, &q, &opts, "arrays, dims");
    }
    // The scaled-double form by hand.
    let opts = ArrowOptions::default().columns([ArrowColumn { dim: Dimension::Extra(1), name: Some("pair0".into()) }]);
    compare(&r, &Query::new(), &opts, "arrays, element 0 as double");
}

/// A source that panics on reads once armed (a bug in a source, or in the library).
struct Panicking {
    inner: MemorySource,
    armed: std::sync::atomic::AtomicBool,
}

impl copc::ByteSource for Panicking {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn len(&self) -> u64 {
        self.inner.len()
    }
    fn read_range(&self, r: std::ops::Range<u64>) -> copc::Result<Vec<u8>> {
        if self.armed.load(std::sync::atomic::Ordering::SeqCst) {
            panic!("test source panics on purpose");
        }
        self.inner.read_range(r)
    }
}

#[test]
fn a_panic_under_get_next_stays_out_of_c() {
    let dir = tempfile::tempdir().unwrap();
    let path = generated(dir.path(), 7, 3000, false);
    let src = Arc::new(Panicking {
        inner: MemorySource::new("panics.copc.laz", std::fs::read(&path).unwrap()),
        armed: false.into(),
    });
    let r = Arc::new(Reader::from_source(src.clone(), &ReaderOptions::default()).unwrap());
    let mut s = copc::arrow::into_c_stream(r.arrow_shared(&Query::new(), &ArrowOptions::default()).unwrap());
    src.armed.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut a = arrow_array::ffi::FFI_ArrowArray::empty();
    let code = unsafe { (s.get_next.unwrap())(&mut s, &mut a) };
    assert_eq!(code, libc_eio());
    let msg = unsafe { std::ffi::CStr::from_ptr((s.get_last_error.unwrap())(&mut s)) }.to_str().unwrap().to_string();
    assert!(msg.contains("Rust panic") && msg.contains("on purpose"), "{msg}");
    assert_eq!(unsafe { (s.get_next.unwrap())(&mut s, &mut a) }, libc_eio(), "then only that error");
    unsafe { (s.release.unwrap())(&mut s) };
    assert!(s.release.is_none());
}
