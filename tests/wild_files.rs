//! Files from the wild (issue 16): what other tools write that we must read,
//! convert or judge correctly. Every file is built here: LAS 1.4 files by this
//! file's own byte writer (`las14`), COPC files by the crate's writer from those or
//! from `copc sample` clouds, then changed byte by byte the way other writers slip.
//! Expectations come from independent paths: a brute-force point-in-polygon test,
//! the points of the unchanged file, the descriptors as written here, laspy when
//! it is installed.

mod support;

use copc::source::MemorySource;
use copc::validate::{Status, ValidateOptions, validate};
use copc::writer::{WriterOptions, translate};
use copc::{Polygon, Query, Reader};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

fn copc_bin() -> &'static str {
    env!("CARGO_BIN_EXE_copc")
}

fn opts() -> WriterOptions {
    WriterOptions { threads: Some(2), ..Default::default() }
}

fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}

/// One PDRF 6 point (return 1 of 1) with its extra bytes.
struct Pt {
    xyz: [i32; 3],
    gps: f64,
    extra: Vec<u8>,
}

/// A LAS 1.4 PDRF 6 file written byte by byte (LAS 1.4 R15 layout), independent of
/// the crate's writer: header, the given VLRs, the records.
fn las14(points: &[Pt], scale: f64, offset: [f64; 3], extra_len: usize, vlrs: &[(&str, u16, &str, Vec<u8>)]) -> Vec<u8> {
    let rl = 30 + extra_len;
    let vlr_len: usize = vlrs.iter().map(|v| 54 + v.3.len()).sum();
    let point_offset = 375 + vlr_len;
    let mut h = vec![0u8; 375];
    h[0..4].copy_from_slice(b"LASF");
    h[6..8].copy_from_slice(&0x11u16.to_le_bytes()); // standard GPS time, WKT bit
    h[24] = 1;
    h[25] = 4;
    h[26..34].copy_from_slice(b"wildtest");
    h[94..96].copy_from_slice(&375u16.to_le_bytes());
    h[96..100].copy_from_slice(&(point_offset as u32).to_le_bytes());
    h[100..104].copy_from_slice(&(vlrs.len() as u32).to_le_bytes());
    h[104] = 6;
    h[105..107].copy_from_slice(&(rl as u16).to_le_bytes());
    for a in 0..3 {
        h[131 + 8 * a..139 + 8 * a].copy_from_slice(&scale.to_le_bytes());
        h[155 + 8 * a..163 + 8 * a].copy_from_slice(&offset[a].to_le_bytes());
    }
    let (mut min, mut max) = ([f64::MAX; 3], [f64::MIN; 3]);
    for p in points {
        for a in 0..3 {
            let v = p.xyz[a] as f64 * scale + offset[a];
            min[a] = min[a].min(v);
            max[a] = max[a].max(v);
        }
    }
    for a in 0..3 {
        h[179 + 16 * a..187 + 16 * a].copy_from_slice(&max[a].to_le_bytes());
        h[187 + 16 * a..195 + 16 * a].copy_from_slice(&min[a].to_le_bytes());
    }
    h[247..255].copy_from_slice(&(points.len() as u64).to_le_bytes());
    h[255..263].copy_from_slice(&(points.len() as u64).to_le_bytes());
    for (user, id, desc, data) in vlrs {
        let mut v = vec![0u8; 54];
        v[2..2 + user.len()].copy_from_slice(user.as_bytes());
        v[18..20].copy_from_slice(&id.to_le_bytes());
        v[20..22].copy_from_slice(&(data.len() as u16).to_le_bytes());
        v[22..22 + desc.len()].copy_from_slice(desc.as_bytes());
        h.extend(v);
        h.extend_from_slice(data);
    }
    assert_eq!(h.len(), point_offset);
    for p in points {
        let mut r = vec![0u8; 30];
        for a in 0..3 {
            r[4 * a..4 * a + 4].copy_from_slice(&p.xyz[a].to_le_bytes());
        }
        r[14] = 0x11;
        r[16] = 2;
        r[22..30].copy_from_slice(&p.gps.to_le_bytes());
        assert_eq!(p.extra.len(), extra_len);
        h.extend(r);
        h.extend_from_slice(&p.extra);
    }
    h
}

/// A 192-byte extra-bytes descriptor.
fn descriptor(name: &str, data_type: u8, no_data: Option<f64>, scale: Option<f64>, offset: Option<f64>, description: &str) -> Vec<u8> {
    let mut d = vec![0u8; 192];
    d[2] = data_type;
    let mut options = 0u8;
    if let Some(v) = no_data {
        options |= 1;
        d[40..48].copy_from_slice(&v.to_le_bytes());
    }
    if let Some(v) = scale {
        options |= 8;
        d[112..120].copy_from_slice(&v.to_le_bytes());
    }
    if let Some(v) = offset {
        options |= 16;
        d[136..144].copy_from_slice(&v.to_le_bytes());
    }
    d[3] = options;
    d[4..4 + name.len()].copy_from_slice(name.as_bytes());
    d[160..160 + description.len()].copy_from_slice(description.as_bytes());
    d
}

/// Every record of a COPC file, sorted (the octree reorders points).
fn all_records(r: &Reader) -> Vec<Vec<u8>> {
    let rl = r.record_format().layout.record_length;
    let mut out = Vec::new();
    for b in r.points(&Query::new()).unwrap() {
        out.extend(b.unwrap().records().chunks_exact(rl).map(|c| c.to_vec()));
    }
    out.sort();
    out
}

fn python_has_laspy() -> bool {
    Command::new("python3").args(["-c", "import laspy, lazrs"]).output().is_ok_and(|o| o.status.success())
}

// ---------------------------------------------------------------- 1. polygons

/// Z/M/ZM/untagged 3-number WKT, EWKT and 3-D GeoJSON filter as the 2-D polygon,
/// through every face: `Query::polygon`, the C ABI and `copc query --polygon`.
#[test]
fn polygons_with_z_from_gdal_pdal_and_postgis_select_the_2d_polygon() {
    let dir = tempfile::tempdir().unwrap();
    let laz = dir.path().join("town.laz");
    copc::sample::write_sample(&laz, &copc::sample::SampleOptions { points: 30_000, ..Default::default() }).unwrap();
    let out = dir.path().join("town.copc.laz");
    translate(&[&laz], &out, &opts()).unwrap();
    let r = Reader::open(&out).unwrap();
    let h = r.header().clone();
    let (x0, y0, x1, y1) = (h.min[0], h.min[1], h.max[0], h.max[1]);
    let (w, d) = (x1 - x0, y1 - y0);
    // a convex quadrilateral, counter-clockwise
    let quad = [[x0 + 0.1 * w, y0 + 0.2 * d], [x0 + 0.8 * w, y0 + 0.1 * d], [x0 + 0.7 * w, y0 + 0.9 * d], [x0 + 0.2 * w, y0 + 0.7 * d]];
    // brute force: inside a convex CCW polygon = left of (or on) every edge
    let mut want = 0u64;
    for b in r.points(&Query::new()).unwrap() {
        for p in b.unwrap().xyz() {
            let inside = (0..4).all(|i| {
                let (a, c) = (quad[i], quad[(i + 1) % 4]);
                (c[0] - a[0]) * (p[1] - a[1]) - (c[1] - a[1]) * (p[0] - a[0]) >= 0.0
            });
            want += inside as u64;
        }
    }
    assert!(want > 1000 && want < h.point_count, "the polygon cuts the cloud ({want} of {})", h.point_count);
    let ring = |z: &str| {
        let mut v: Vec<String> = quad.iter().map(|p| format!("{} {}{z}", p[0], p[1])).collect();
        v.push(v[0].clone());
        v.join(", ")
    };
    let gj_ring = quad.iter().chain(std::iter::once(&quad[0])).map(|p| format!("[{},{},12.5]", p[0], p[1])).collect::<Vec<_>>().join(",");
    let forms = [
        format!("POLYGON (({}))", ring(" 12.5")),
        format!("POLYGON Z (({}))", ring(" 12.5")),
        format!("POLYGON ZM (({}))", ring(" 12.5 3")),
        format!("POLYGON (({}))", ring(" 12.5 3")),
        format!("MULTIPOLYGON M ((({})))", ring(" 0")),
        format!("SRID=32610;POLYGON (({}))\n", ring("")),
        format!(r#"{{"type":"Feature","properties":{{}},"geometry":{{"type":"Polygon","coordinates":[[{gj_ring}]]}}}}"#),
        format!(r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","geometry":{{"type":"MultiPolygon","coordinates":[[[{gj_ring}]]]}}}}]}}"#),
    ];
    for (i, text) in forms.iter().enumerate() {
        let p = Polygon::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(r.count(&Query::new().polygon(p)).unwrap(), want, "Query::polygon, {text}");

        // the C ABI (the GDAL driver passes OGR's exportToWkt here: untagged 3-number vertices for 2.5-D)
        let c_text = std::ffi::CString::new(text.as_str()).unwrap();
        let c_path = std::ffi::CString::new(out.to_str().unwrap()).unwrap();
        unsafe {
            use copc::ffi::*;
            let mut cr = std::ptr::null_mut();
            assert_eq!(copc_reader_open(c_path.as_ptr(), std::ptr::null(), &mut cr), COPC_STATUS_OK);
            let mut q = std::ptr::null_mut();
            assert_eq!(copc_query_new(&mut q), COPC_STATUS_OK);
            assert_eq!(copc_query_set_polygon(q, c_text.as_ptr()), COPC_STATUS_OK, "copc_query_set_polygon, {text}");
            let mut n = 0u64;
            assert_eq!(copc_reader_count(cr, q, &mut n), COPC_STATUS_OK);
            assert_eq!(n, want, "C ABI, {text}");
            copc_query_free(q);
            copc_reader_free(cr);
        }

        // the CLI, inline and from a file
        let file = dir.path().join(format!("poly{i}.txt"));
        std::fs::write(&file, text).unwrap();
        for arg in [text.clone(), format!("@{}", file.display())] {
            if arg.starts_with('{') {
                continue; // GeoJSON goes in a file
            }
            let o = Command::new(copc_bin()).args(["query", out.to_str().unwrap(), "--polygon", &arg, "--count"]).output().unwrap();
            assert!(o.status.success(), "copc query --polygon {arg}: {}", String::from_utf8_lossy(&o.stderr));
            assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), want.to_string(), "CLI, {arg}");
        }
    }
    // not a polygon: the error names what it is
    let o = Command::new(copc_bin()).args(["query", out.to_str().unwrap(), "--polygon", "LINESTRING Z (1 2 3, 4 5 6)", "--count"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("LINESTRING"), "{}", String::from_utf8_lossy(&o.stderr));
}

// ---------------------------------------------------------------- 2. EVLR pointer

/// A small COPC file from the crate's writer and its bytes.
fn small_copc(dir: &Path, points: u64) -> (PathBuf, Vec<u8>) {
    let laz = dir.join("s.laz");
    copc::sample::write_sample(&laz, &copc::sample::SampleOptions { points, ..Default::default() }).unwrap();
    let out = dir.join("s.copc.laz");
    translate(&[&laz], &out, &opts()).unwrap();
    let bytes = std::fs::read(&out).unwrap();
    (out, bytes)
}

/// copc-rs 0.5.0 copies its input's "start of first EVLR" into the output. The info
/// VLR still locates the hierarchy: the file opens with a warning, reads the same
/// points, finds the EVLRs by a scan, and `validate` fails it.
#[test]
fn copc_with_a_wrong_evlr_pointer_opens_with_a_warning_and_fails_validation() {
    let dir = tempfile::tempdir().unwrap();
    let (_, good) = small_copc(dir.path(), 20_000);
    let reference = Reader::from_source(Arc::new(MemorySource::new("good", good.clone())), &Default::default()).unwrap();
    let want = all_records(&reference);
    let want_evlrs: Vec<(String, u16, u64)> =
        reference.las().evlrs().unwrap().iter().map(|v| (v.user_id.clone(), v.record_id, v.data_offset)).collect();
    assert!(want_evlrs.iter().any(|e| e.0 == "copc" && e.1 == 1000));
    let real_start = u64_at(&good, 235);
    let len = good.len() as u64;
    // past the end (the issue's case), far past it, and inside the point data
    for wrong in [len + 4096, u64::MAX - 10, u32_at(&good, 96) as u64 + 8, 12] {
        let mut b = good.clone();
        b[235..243].copy_from_slice(&wrong.to_le_bytes());
        let name = format!("wrong-evlr-{wrong}");
        let r = Reader::from_source(Arc::new(MemorySource::new(name.clone(), b.clone())), &Default::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let w = r.warnings().join("; ");
        assert!(w.contains("start of first EVLR") && w.contains(&format!("found at byte {real_start}")), "{name}: {w}");
        let got: Vec<(String, u16, u64)> = r.las().evlrs().unwrap().iter().map(|v| (v.user_id.clone(), v.record_id, v.data_offset)).collect();
        assert_eq!(got, want_evlrs, "{name}: EVLRs found by the scan");
        assert_eq!(r.hierarchy_summary().unwrap(), reference.hierarchy_summary().unwrap());
        assert!(all_records(&r) == want, "{name}: the same points");
        let report = validate(Arc::new(MemorySource::new(name.clone(), b.clone())), &ValidateOptions::default());
        let evlr = report.checks.iter().find(|c| c.name == "header.evlr_start").unwrap_or_else(|| panic!("{name}: {:?}", report.checks));
        assert_eq!(evlr.status, Status::Fail, "{name}");
        assert!(!report.ok(false));
    }
    // the pointer right but the count too large: the EVLRs up to the end are used
    let mut b = good.clone();
    b[243..247].copy_from_slice(&(want_evlrs.len() as u32 + 1).to_le_bytes());
    let r = Reader::from_source(Arc::new(MemorySource::new("count", b.clone())), &Default::default()).unwrap();
    let w = r.las().warnings.join("; ");
    assert!(w.contains(&format!("{} EVLRs run from there to the end of the file", want_evlrs.len())), "{w}");
    assert_eq!(r.las().evlrs().unwrap().len(), want_evlrs.len());
    assert!(all_records(&r) == want);
    assert!(!validate(Arc::new(MemorySource::new("count", b)), &ValidateOptions::default()).ok(false));

    // `copc info` says so, in text and JSON
    let path = dir.path().join("wrong.copc.laz");
    let mut b = good.clone();
    b[235..243].copy_from_slice(&(len + 4096).to_le_bytes());
    std::fs::write(&path, &b).unwrap();
    let o = Command::new(copc_bin()).args(["info", path.to_str().unwrap()]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("warning") && text.contains("start of first EVLR"), "{text}");
    let o = Command::new(copc_bin()).args(["info", "--json", path.to_str().unwrap()]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["warnings"][0].as_str().unwrap().contains("start of first EVLR"), "{v}");
    let o = Command::new(copc_bin()).args(["validate", path.to_str().unwrap()]).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "validate fails it: {}", String::from_utf8_lossy(&o.stdout));

    // no EVLR chain to be found (the hierarchy EVLR's header overwritten): the file
    // still opens from the info VLR, without EVLRs, and says so
    let mut b = good.clone();
    b[235..243].copy_from_slice(&(len + 4096).to_le_bytes());
    let info_root = u64_at(&good, 429 + 40) as usize;
    b[info_root - 60 + 20..info_root - 60 + 28].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    let r = Reader::from_source(Arc::new(MemorySource::new("no-chain", b)), &Default::default()).unwrap();
    assert!(r.las().warnings.join(" ").contains("EVLRs are ignored"), "{:?}", r.las().warnings);
    assert!(all_records(&r) == want);
}

/// The tolerance is for COPC files, whose info VLR locates the hierarchy: a plain
/// LAS input whose EVLRs cannot be found is still an error naming the pointer.
#[test]
fn las_input_with_an_unfindable_evlr_pointer_is_an_error() {
    let pts: Vec<Pt> = (0..10).map(|i| Pt { xyz: [i, i, i], gps: i as f64, extra: vec![] }).collect();
    let mut b = las14(&pts, 0.01, [0.0; 3], 0, &[]);
    b[235..243].copy_from_slice(&100_000u64.to_le_bytes());
    b[243..247].copy_from_slice(&1u32.to_le_bytes());
    let e = copc::writer::input::InputFile::from_source(Arc::new(MemorySource::new("in.las", b))).err().expect("an error");
    assert!(e.to_string().contains("first EVLR (byte 100000"), "{e}");
}

// ---------------------------------------------------------------- 3. NaN GPS times

/// A stale info GPS range must FAIL even when some GPS times are NaN; the NaNs
/// themselves are a WARN.
#[test]
fn validate_fails_a_stale_gps_range_despite_nan_times() {
    let dir = tempfile::tempdir().unwrap();
    let mut pts = Vec::new();
    for i in 0..400 {
        let gps = match i % 20 {
            0 => f64::NAN,
            1 => -f64::MAX,
            2 => f64::MAX,
            _ => i as f64,
        };
        pts.push(Pt { xyz: [i * 7 % 1000, i * 13 % 1000, i % 50], gps, extra: vec![] });
    }
    let las = dir.path().join("nan.las");
    std::fs::write(&las, las14(&pts, 0.01, [0.0; 3], 0, &[])).unwrap();
    let out = dir.path().join("nan.copc.laz");
    translate(&[&las], &out, &opts()).unwrap();
    let good = std::fs::read(&out).unwrap();
    // the writer's range: the finite times
    let (tmin, tmax) = (f64::from_le_bytes(good[429 + 56..429 + 64].try_into().unwrap()), f64::from_le_bytes(good[429 + 64..429 + 72].try_into().unwrap()));
    assert_eq!((tmin, tmax), (-f64::MAX, f64::MAX));
    let check = |b: Vec<u8>, name: &str| {
        let r = validate(Arc::new(MemorySource::new(name, b)), &ValidateOptions::default());
        let get = |n: &str| r.checks.iter().find(|c| c.name == n).map(|c| (c.status, c.detail.clone()));
        (get("points.gpstime_range"), get("points.gpstime_nan"))
    };
    let (range, nan) = check(good.clone(), "good");
    assert_eq!(range.unwrap().0, Status::Pass);
    assert_eq!(nan.as_ref().unwrap().0, Status::Warn);
    assert!(nan.unwrap().1.contains("20 GPS times are NaN"));
    // the info VLR says [0, 0] (as the issue's file does)
    let mut bad = good.clone();
    bad[429 + 56..429 + 72].fill(0);
    let (range, nan) = check(bad, "stale");
    let range = range.unwrap();
    assert_eq!(range.0, Status::Fail, "{}", range.1);
    assert!(range.1.contains("[0, 0]"), "{}", range.1);
    assert_eq!(nan.unwrap().0, Status::Warn);
}

// ---------------------------------------------------------------- 4. several extra-bytes VLRs

fn two_eb_vlr_input() -> (Vec<Pt>, Vec<u8>, Vec<u8>) {
    let a = descriptor("Deviation", 3, Some(65535.0), Some(0.1), Some(-5.0), "one per producer"); // u16
    let b = descriptor("confidence", 1, None, None, None, "second VLR"); // u8
    let pts = (0..500)
        .map(|i: i32| {
            let dev = (i as u16).wrapping_mul(131);
            let mut extra = dev.to_le_bytes().to_vec();
            extra.push((i % 251) as u8);
            Pt { xyz: [i * 3 % 997, i * 11 % 991, i % 40], gps: i as f64, extra }
        })
        .collect();
    (pts, a, b)
}

/// One extra-bytes VLR per producer ("Deviation" in the first, "confidence" in the
/// second, 3 bytes in all, as in laspy's append-bug.laz): merged in VLR order into
/// one descriptor VLR with every field kept.
#[test]
fn several_extra_bytes_vlrs_are_merged_into_one() {
    let dir = tempfile::tempdir().unwrap();
    let (pts, a, b) = two_eb_vlr_input();
    let las = dir.path().join("two-eb.las");
    std::fs::write(&las, las14(&pts, 0.01, [0.0; 3], 3, &[("LASF_Spec", 4, "Extra Bytes", a.clone()), ("LASF_Spec", 4, "Extra Bytes", b.clone())])).unwrap();
    let out = dir.path().join("two-eb.copc.laz");
    let s = translate(&[&las], &out, &opts()).unwrap();
    assert!(!s.warnings.iter().any(|w| w.contains("undocumented")), "{:?}", s.warnings);
    let r = Reader::open(&out).unwrap();
    let names: Vec<&str> = r.extra_bytes().iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["Deviation", "confidence"]);
    let eb_vlrs: Vec<_> = r.las().vlrs.iter().filter(|v| v.is("LASF_Spec", 4)).collect();
    assert_eq!(eb_vlrs.len(), 1, "one descriptor VLR in the output");
    assert_eq!(eb_vlrs[0].data.as_deref().unwrap(), [a.clone(), b.clone()].concat(), "every descriptor bit-exact, in order");
    // values: the records' last 3 bytes are the input's
    let rl = r.record_format().layout.record_length;
    let mut got: Vec<(f64, Vec<u8>)> = Vec::new();
    for batch in r.points(&Query::new()).unwrap() {
        let batch = batch.unwrap();
        for rec in batch.records().chunks_exact(rl) {
            got.push((f64::from_le_bytes(rec[22..30].try_into().unwrap()), rec[rl - 3..].to_vec()));
        }
    }
    got.sort_by(|x, y| x.0.total_cmp(&y.0));
    let want: Vec<(f64, Vec<u8>)> = pts.iter().map(|p| (p.gps, p.extra.clone())).collect();
    assert!(got == want, "extra bytes kept");
    let report = validate(Arc::new(copc::source::FileSource::open(&out).unwrap()), &ValidateOptions::default());
    assert_eq!(report.count(Status::Fail), 0, "{:?}", report.checks);

    // laspy, independently: the names, the scaled Deviation and the raw confidence
    // (laspy 2.7 reads only the first descriptor VLR: it sees both names only
    // because the output has one VLR with both)
    if python_has_laspy() {
        let script = r#"
import laspy, sys
f = laspy.read(sys.argv[1])
names = list(f.point_format.extra_dimension_names)
assert names == ['Deviation', 'confidence'], names
order = f.gps_time.argsort()
dev = f.Deviation[order]; eb = f.confidence[order]
for i in range(len(f.points)):
    assert abs(dev[i] - (((i * 131) % 65536) * 0.1 - 5.0)) < 1e-9, (i, dev[i])
    assert int(eb[i]) == i % 251, (i, eb[i])
print("ok", len(f.points))
"#;
        let o = Command::new("python3").args(["-c", script, out.to_str().unwrap()]).output().unwrap();
        assert!(o.status.success(), "laspy: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    } else {
        eprintln!("laspy not installed: the laspy cross-check was skipped");
    }
}

/// Splits the one extra-bytes VLR of a COPC file from the crate's writer into one
/// VLR per descriptor, moving every absolute offset after it.
fn split_eb_vlr(good: &[u8]) -> Vec<u8> {
    let point_offset = u32_at(good, 96) as usize;
    let mut pos = 375;
    let mut out = good[..375].to_vec();
    let mut added = 0usize;
    let mut extra_vlrs = 0u32;
    while pos < point_offset {
        let len = u16::from_le_bytes([good[pos + 20], good[pos + 21]]) as usize;
        let user = String::from_utf8_lossy(&good[pos + 2..pos + 18]).trim_end_matches('\0').to_string();
        let id = u16::from_le_bytes([good[pos + 18], good[pos + 19]]);
        if user == "LASF_Spec" && id == 4 && len > 192 {
            for (i, d) in good[pos + 54..pos + 54 + len].chunks(192).enumerate() {
                let mut h = good[pos..pos + 54].to_vec();
                h[20..22].copy_from_slice(&192u16.to_le_bytes());
                out.extend(h);
                out.extend_from_slice(d);
                if i > 0 {
                    added += 54;
                    extra_vlrs += 1;
                }
            }
        } else {
            out.extend_from_slice(&good[pos..pos + 54 + len]);
        }
        pos += 54 + len;
    }
    out.extend_from_slice(&good[point_offset..]);
    let shift = |b: &mut Vec<u8>, at: usize| {
        let v = u64_at(b, at) + added as u64;
        b[at..at + 8].copy_from_slice(&v.to_le_bytes());
    };
    out[96..100].copy_from_slice(&((point_offset + added) as u32).to_le_bytes());
    let n = u32_at(&out, 100) + extra_vlrs;
    out[100..104].copy_from_slice(&n.to_le_bytes());
    shift(&mut out, 235);
    shift(&mut out, point_offset + added); // chunk table offset
    shift(&mut out, 429 + 40); // root_hier_offset
    let (root, size) = (u64_at(&out, 429 + 40) as usize, u64_at(&out, 429 + 48) as usize);
    for e in (root..root + size).step_by(32) {
        let count = i32::from_le_bytes(out[e + 28..e + 32].try_into().unwrap());
        assert!(count >= 0, "one page expected");
        if count > 0 {
            shift(&mut out, e + 16);
        }
    }
    out
}

/// A COPC file with one descriptor VLR per dimension reads every dimension.
#[test]
fn copc_reader_merges_several_extra_bytes_vlrs() {
    let dir = tempfile::tempdir().unwrap();
    let (pts, a, b) = two_eb_vlr_input();
    let las = dir.path().join("two-eb.las");
    let mut both = a.clone();
    both.extend_from_slice(&b);
    std::fs::write(&las, las14(&pts, 0.01, [0.0; 3], 3, &[("LASF_Spec", 4, "Extra Bytes", both)])).unwrap();
    let out = dir.path().join("one.copc.laz");
    translate(&[&las], &out, &opts()).unwrap();
    let one = std::fs::read(&out).unwrap();
    let split = split_eb_vlr(&one);
    assert_eq!(split.len(), one.len() + 54);
    let ref_reader = Reader::open(&out).unwrap();
    let r = Reader::from_source(Arc::new(MemorySource::new("split", split.clone())), &Default::default()).unwrap();
    assert_eq!(r.las().vlrs.iter().filter(|v| v.is("LASF_Spec", 4)).count(), 2);
    assert_eq!(r.extra_bytes(), ref_reader.extra_bytes(), "the same dimensions as from one VLR");
    let col = |r: &Reader, i: u16| -> Vec<f64> {
        let mut v = Vec::new();
        for b in r.points(&Query::new()).unwrap() {
            v.extend(b.unwrap().column::<f64>(copc::Dimension::Extra(i)).unwrap());
        }
        v
    };
    assert_eq!(col(&r, 1), col(&ref_reader, 1), "the second VLR's dimension reads");
    let report = validate(Arc::new(MemorySource::new("split", split)), &ValidateOptions::default());
    let eb = report.checks.iter().find(|c| c.name == "eb.vlr").unwrap();
    assert_eq!(eb.status, Status::Pass, "{}", eb.detail);
    assert_eq!(report.checks.iter().find(|c| c.name == "eb.vlr_count").map(|c| c.status), Some(Status::Warn));
    assert_eq!(report.count(Status::Fail), 0, "{:?}", report.checks.iter().filter(|c| c.status == Status::Fail).collect::<Vec<_>>());
}

/// The real file: laspy's append-bug.laz (TerraScan, PDRF 8): a "RIEGL Extra Bytes"
/// VLR describing `Deviation` (u16) and a second VLR describing `confidence` (u8).
/// (laspy 2.7 reads only the first and calls the third byte "ExtraBytes"; PDAL
/// merges them since PR 4577, as we do.)
#[test]
fn real_append_bug_laz_keeps_both_extra_dimension_names() {
    let Some(data) = support::test_data("real_append_bug_laz_keeps_both_extra_dimension_names") else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("append.copc.laz");
    translate(&[data.join("laspy_append-bug.laz")], &out, &opts()).unwrap();
    let r = Reader::open(&out).unwrap();
    let names: Vec<(&str, &str)> = r.extra_bytes().iter().map(|e| (e.name.as_str(), e.description.as_str())).collect();
    assert_eq!(names, [("Deviation", "Pulse shape deviation"), ("confidence", "confidence values")]);
    assert_eq!(r.las().vlrs.iter().filter(|v| v.is("LASF_Spec", 4)).count(), 1);
    // the descriptors are the input's, bit-exact and in order
    let input = copc::writer::input::InputFile::open(data.join("laspy_append-bug.laz")).unwrap();
    let want: Vec<u8> = input.vlrs.iter().filter(|v| v.is("LASF_Spec", 4)).flat_map(|v| v.data.clone().unwrap()).collect();
    assert_eq!(want.len(), 2 * 192);
    let got = r.las().vlrs.iter().find(|v| v.is("LASF_Spec", 4)).unwrap().data.clone().unwrap();
    assert_eq!(got, want);
}

// ---------------------------------------------------------------- 5. LASzip 1.x point-wise

/// A LASzip 1.x point-wise LAZ (compressor 1, no chunk table) made here with laz-rs'
/// sequential compressor from `las14` records (PDRF 0 layout, version-2 items).
fn pointwise_laz(n: usize, truncate: usize) -> (Vec<u8>, Vec<Vec<u8>>) {
    use laz::record::{RecordCompressor, SequentialPointRecordCompressor};
    let items = laz::LazItemRecordBuilder::new().add_item(laz::LazItemType::Point10).add_item(laz::LazItemType::GpsTime).build();
    let mut recs = Vec::new();
    for i in 0..n {
        let mut r = vec![0u8; 28];
        r[0..4].copy_from_slice(&((i * 37 % 5000) as i32).to_le_bytes());
        r[4..8].copy_from_slice(&((i * 91 % 7000) as i32).to_le_bytes());
        r[8..12].copy_from_slice(&((i % 300) as i32).to_le_bytes());
        r[12..14].copy_from_slice(&((i % 999) as u16).to_le_bytes());
        r[14] = 0x09; // return 1 of 1
        r[15] = 2;
        r[20..28].copy_from_slice(&(1000.0 + i as f64 * 0.25).to_le_bytes());
        recs.push(r);
    }
    let mut stream = Vec::new();
    {
        let mut c = SequentialPointRecordCompressor::new(std::io::Cursor::new(&mut stream));
        c.set_fields_from(&items).unwrap();
        for r in &recs {
            c.compress_next(r).unwrap();
        }
        c.done().unwrap();
    }
    // the laszip VLR: compressor 1, LASzip 1.x style (chunk size field 0)
    let mut vlr = Vec::new();
    vlr.extend_from_slice(&1u16.to_le_bytes()); // compressor: point-wise
    vlr.extend_from_slice(&0u16.to_le_bytes()); // coder
    vlr.extend_from_slice(&[1, 2]); // version 1.2
    vlr.extend_from_slice(&0u16.to_le_bytes()); // revision
    vlr.extend_from_slice(&0u32.to_le_bytes()); // options
    vlr.extend_from_slice(&0u32.to_le_bytes()); // chunk size
    vlr.extend_from_slice(&(-1i64).to_le_bytes());
    vlr.extend_from_slice(&(-1i64).to_le_bytes());
    vlr.extend_from_slice(&2u16.to_le_bytes());
    for it in &items {
        assert!(it.version() < 3, "point-wise streams have version 1 or 2 items");
        vlr.extend_from_slice(&u16::from(it.item_type()).to_le_bytes());
        vlr.extend_from_slice(&it.size().to_le_bytes());
        vlr.extend_from_slice(&it.version().to_le_bytes());
    }
    // LAS 1.2 header, PDRF 1 (+0x80), by hand
    let point_offset = 227 + 54 + vlr.len();
    let mut h = vec![0u8; 227];
    h[0..4].copy_from_slice(b"LASF");
    h[24] = 1;
    h[25] = 2;
    h[94..96].copy_from_slice(&227u16.to_le_bytes());
    h[96..100].copy_from_slice(&(point_offset as u32).to_le_bytes());
    h[100..104].copy_from_slice(&1u32.to_le_bytes());
    h[104] = 1 | 0x80;
    h[105..107].copy_from_slice(&28u16.to_le_bytes());
    h[107..111].copy_from_slice(&(n as u32).to_le_bytes());
    h[111..115].copy_from_slice(&(n as u32).to_le_bytes());
    for a in 0..3 {
        h[131 + 8 * a..139 + 8 * a].copy_from_slice(&0.01f64.to_le_bytes());
    }
    let maxs = [49.99f64, 69.99, 2.99];
    for a in 0..3 {
        h[179 + 16 * a..187 + 16 * a].copy_from_slice(&maxs[a].to_le_bytes());
    }
    let mut v = vec![0u8; 54];
    v[2..16].copy_from_slice(b"laszip encoded");
    v[18..20].copy_from_slice(&22204u16.to_le_bytes());
    v[20..22].copy_from_slice(&(vlr.len() as u16).to_le_bytes());
    h.extend(v);
    h.extend(vlr);
    assert_eq!(h.len(), point_offset);
    h.extend_from_slice(&stream[..stream.len() - truncate]);
    (h, recs)
}

/// Old LAZ (TerraScan, LASzip 1.x) compressed point by point: converted, with the
/// same point checks as every input; a truncated stream is an error with counts.
#[test]
fn laszip_1x_pointwise_laz_converts() {
    let dir = tempfile::tempdir().unwrap();
    let (laz, recs) = pointwise_laz(3000, 0);
    let input = dir.path().join("pointwise.laz");
    std::fs::write(&input, &laz).unwrap();
    let out = dir.path().join("pointwise.copc.laz");
    let s = translate(&[&input], &out, &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.points, 3000);
    let r = Reader::open(&out).unwrap();
    let mut got: Vec<([f64; 3], f64)> = Vec::new();
    for b in r.points(&Query::new()).unwrap() {
        let b = b.unwrap();
        let t: Vec<f64> = b.column(copc::Dimension::GpsTime).unwrap();
        got.extend(b.xyz().into_iter().zip(t));
    }
    got.sort_by(|a, b| a.1.total_cmp(&b.1));
    let want: Vec<([f64; 3], f64)> = recs
        .iter()
        .map(|r| {
            let c = |o: usize| i32::from_le_bytes(r[o..o + 4].try_into().unwrap()) as f64 * 0.01;
            ([c(0), c(4), c(8)], f64::from_le_bytes(r[20..28].try_into().unwrap()))
        })
        .collect();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert!((0..3).all(|a| (g.0[a] - w.0[a]).abs() < 1e-9) && g.1 == w.1, "{g:?} vs {w:?}");
    }
    assert!(validate(Arc::new(copc::source::FileSource::open(&out).unwrap()), &ValidateOptions::default()).ok(false));

    // truncated: an error naming the counts, no output
    let (cut, _) = pointwise_laz(3000, 2000);
    let input = dir.path().join("cut.laz");
    std::fs::write(&input, &cut).unwrap();
    let out = dir.path().join("cut.copc.laz");
    let e = translate(&[&input], &out, &opts()).expect_err("a truncated stream is an error");
    assert!(e.to_string().contains("promises 3000 points but the LAZ point-wise stream decodes only"), "{e}");
    assert!(!out.exists());
}

/// The real file: PDAL's simple-laszip-compressor-version-1.2r0.laz (TerraScan,
/// LASzip 1.2r0), checked against its source by xcheck when the peers are there.
#[test]
fn real_laszip_1_2r0_pointwise_file_converts() {
    let Some(data) = support::test_data("real_laszip_1_2r0_pointwise_file_converts") else { return };
    let dir = tempfile::tempdir().unwrap();
    let input = data.join("pdal_laszip-v1.2r0-pointwise.laz");
    let out = dir.path().join("pointwise.copc.laz");
    let s = translate(&[&input], &out, &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.points, 1065);
    // the same points as the uncompressed original of the same TerraScan file
    let a = all_xyz_t(&Reader::open(&out).unwrap());
    let src = dir.path().join("src.copc.laz");
    translate(&[data.join("pdal_1.2-with-color.las")], &src, &opts()).unwrap();
    let b = all_xyz_t(&Reader::open(&src).unwrap());
    assert_eq!(a, b, "the same points as pdal_1.2-with-color.las");
    // and as LASzip itself decodes the input (laspy's laszip backend; lazrs panics on it)
    let script = r#"
import laspy, sys, numpy as np
a = laspy.read(sys.argv[1], laz_backend=laspy.LazBackend.Laszip)
b = laspy.read(sys.argv[2])
ka = np.lexsort((a.X, a.Y, a.Z, a.gps_time)); kb = np.lexsort((b.X, b.Y, b.Z, b.gps_time))
for d in ['X', 'Y', 'Z', 'gps_time', 'intensity', 'red', 'green', 'blue', 'classification', 'return_number', 'number_of_returns', 'point_source_id', 'user_data']:
    assert np.array_equal(np.asarray(a[d])[ka], np.asarray(b[d])[kb]), d
print('ok', len(a.points), len(b.points))
"#;
    let has_laszip = Command::new("python3").args(["-c", "import laspy, laszip"]).output().is_ok_and(|o| o.status.success());
    if has_laszip {
        let o = Command::new("python3").args(["-c", script, input.to_str().unwrap(), out.to_str().unwrap()]).output().unwrap();
        assert!(o.status.success(), "laspy (LASzip): {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stdout).contains("ok 1065 1065"));
    } else {
        eprintln!("laspy/laszip not installed: the LASzip cross-check was skipped");
    }
}

fn all_xyz_t(r: &Reader) -> Vec<(i64, i64, i64, u64)> {
    let mut v = Vec::new();
    for b in r.points(&Query::new()).unwrap() {
        let b = b.unwrap();
        let t: Vec<f64> = b.column(copc::Dimension::GpsTime).unwrap();
        for (p, t) in b.xyz().into_iter().zip(t) {
            v.push(((p[0] * 100.0).round() as i64, (p[1] * 100.0).round() as i64, (p[2] * 100.0).round() as i64, t.to_bits()));
        }
    }
    v.sort();
    v
}

// ---------------------------------------------------------------- 6. EPT schema vs tiles

/// An EPT dataset whose schema lists no Red/Green/Blue while every tile is PDRF 7
/// (as a real Entwine dataset has): the tiles' format is kept, with a warning.
/// Tiles that disagree among themselves are refused, naming the formats.
#[test]
fn ept_tiles_with_more_dims_than_the_schema_keep_them() {
    let dir = tempfile::tempdir().unwrap();
    let laz = dir.path().join("c.laz");
    copc::sample::write_sample(&laz, &copc::sample::SampleOptions { points: 40_000, format: 7, ..Default::default() }).unwrap();
    let copc_file = dir.path().join("c.copc.laz");
    translate(&[&laz], &copc_file, &WriterOptions { max_points_per_node: 5000, ..opts() }).unwrap();
    let ept = dir.path().join("ept");
    copc::ept::export::export_copc_as_ept(&copc_file, &ept).unwrap();
    let json_path = ept.join("ept.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    let schema = v["schema"].as_array_mut().unwrap();
    let before = schema.len();
    schema.retain(|d| !["Red", "Green", "Blue"].contains(&d["name"].as_str().unwrap()));
    assert_eq!(schema.len(), before - 3, "the export wrote RGB into the schema");
    std::fs::write(&json_path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();

    let out = dir.path().join("from-ept.copc.laz");
    let s = copc::ept::translate_ept(json_path.to_str().unwrap(), &out, &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.point_format, 7);
    assert!(s.warnings.iter().any(|w| w.contains("schema implies point format 6") && w.contains("point format 7")), "{:?}", s.warnings);
    let a = Reader::open(&out).unwrap();
    let b = Reader::open(&copc_file).unwrap();
    assert_eq!(a.header().point_format, 7);
    assert!(all_records(&a) == all_records(&b), "every record, colours included");

    // one tile made PDRF 6 (its format byte): the tiles disagree, nothing is written
    let tiles: Vec<PathBuf> = std::fs::read_dir(ept.join("ept-data")).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(tiles.len() > 2);
    let mut t = std::fs::read(&tiles[1]).unwrap();
    t[104] = 6 | 0x80;
    std::fs::write(&tiles[1], t).unwrap();
    let out2 = dir.path().join("mixed.copc.laz");
    let e = copc::ept::translate_ept(json_path.to_str().unwrap(), &out2, &opts()).expect_err("mixed tiles are refused");
    let m = e.to_string();
    assert!(m.contains("tiles disagree") && m.contains("point format 6") && m.contains("point format 7"), "{m}");
    assert!(!out2.exists());
}
