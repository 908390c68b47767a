//! Writer tests: generated clouds (0 points to ~1 M), round trips checked through an
//! independent decode (laz-rs' sequential decompressor over the chunk table, with the
//! header and VLRs read by hand in `support`), determinism across thread counts,
//! spilled vs in-memory byte identity, duplicate points, multi-page hierarchies,
//! failure safety, and every LAS/LAZ file of `COPC_TEST_DATA` through `xcheck`.

mod support;

use copc::format::PointLayout;
use copc::sample::{SampleOptions, write_sample};
use copc::writer::convert::Converter;
use copc::writer::input::InputFile;
use copc::writer::{HierarchyPages, OffsetOption, Progress, WriterOptions, translate};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn sample(dir: &Path, name: &str, points: u64, format: u8, compressed: bool, extra_bytes: bool) -> PathBuf {
    let p = dir.join(name);
    let s = write_sample(
        &p,
        &SampleOptions {
            points,
            format,
            compressed,
            extra_bytes,
            seed: 7,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(s.points, points);
    p
}

/// The input's records converted to the COPC format, sorted bytewise.
fn expected_records(input: &Path) -> (Vec<Vec<u8>>, usize) {
    let f = InputFile::open(input).unwrap();
    let conv = Converter::new(f.layout, None);
    let mut out = Vec::new();
    f.read_records(100_000, |r| {
        conv.convert(r, &mut out).unwrap();
        Ok(())
    })
    .unwrap();
    let mut v: Vec<Vec<u8>> = out.chunks_exact(conv.output_len).map(|r| r.to_vec()).collect();
    v.sort();
    (v, conv.output_len)
}

/// Checks the COPC file independently of the writer: the whole point data decodes as
/// plain LAZ to the same multiset as the converted input; header counts and extents
/// match; every hierarchy entry (walked by the crate's reader) is consistent.
fn check_round_trip(input: &Path, output: &Path) -> copc::Reader {
    let (expected, rl) = expected_records(input);
    let plain = support::read_plain_laz(output);
    assert_eq!(plain.record_length, rl);
    assert_eq!(plain.point_count as usize, expected.len());
    assert_eq!(plain.sorted_records(|_| true), expected, "point multiset differs");
    // header bounds = quantized extents of the points
    if !expected.is_empty() {
        let mut mn = [f64::INFINITY; 3];
        let mut mx = [f64::NEG_INFINITY; 3];
        for r in plain.records.chunks_exact(rl) {
            let p = plain.xyz(r);
            for a in 0..3 {
                mn[a] = mn[a].min(p[a]);
                mx[a] = mx[a].max(p[a]);
            }
        }
        assert_eq!(plain.min, mn);
        assert_eq!(plain.max, mx);
    }
    let b = std::fs::read(output).unwrap();
    assert_eq!(&b[107..111], &[0, 0, 0, 0], "legacy point count must be 0");
    assert_eq!(
        b[104] & 0x3F,
        copc::writer::convert::target_format(InputFile::open(input).unwrap().header.point_format)
    );
    let reader = copc::Reader::open(output).unwrap();
    let entries = reader.all_entries().unwrap();
    let data_points: i64 = entries
        .iter()
        .filter(|e| e.point_count > 0)
        .map(|e| e.point_count as i64)
        .sum();
    assert_eq!(data_points as usize, expected.len());
    let all = support::sorted_query_records(&reader, &copc::Query::new());
    assert_eq!(all, expected, "reader's view differs");
    // every point inside its node's cube (half a scale step of slack)
    let cube = reader.cube();
    let h = reader.header();
    for e in entries.iter().filter(|e| e.point_count > 0) {
        let batch = reader.read_node(e.key, None).unwrap();
        let nb = cube.node_bounds(&e.key);
        for p in batch.xyz() {
            for a in 0..3 {
                let tol = h.scale[a] * 0.5;
                assert!(
                    p[a] >= nb.min[a] - tol && p[a] <= nb.max[a] + tol,
                    "point {p:?} outside node {}",
                    e.key
                );
            }
        }
        // GPS time sorted inside the node
        let t: Vec<f64> = batch.column(copc::Dimension::GpsTime).unwrap();
        assert!(
            t.windows(2).all(|w| w[0] <= w[1]),
            "node {} not sorted by GPS time",
            e.key
        );
    }
    reader
}

fn opts(threads: usize, max_points: usize) -> WriterOptions {
    WriterOptions {
        threads: Some(threads),
        max_points_per_node: max_points,
        ..Default::default()
    }
}

#[test]
fn generated_clouds_round_trip_in_every_format() {
    let d = tmp();
    for (points, format, compressed, eb, max) in [
        (0u64, 7u8, true, false, 100_000usize),
        (1, 6, false, false, 100_000),
        (1_000, 3, false, true, 100),
        (20_000, 6, true, false, 1_000),
        (20_000, 7, true, true, 2_000),
        (20_000, 8, false, false, 3_000),
    ] {
        let name = format!(
            "in_{points}_{format}_{compressed}_{eb}.la{}",
            if compressed { 'z' } else { 's' }
        );
        let input = sample(d.path(), &name, points, format, compressed, eb);
        let out = d.path().join(format!("{name}.copc.laz"));
        let s = translate(&[&input], &out, &opts(2, max)).unwrap();
        assert_eq!(s.points, points);
        let reader = check_round_trip(&input, &out);
        assert_eq!(reader.info().spacing, 2.0 * reader.info().halfsize / 128.0);
        if points > max as u64 {
            assert!(s.nodes > 1, "{name}: expected a tree, got {} nodes", s.nodes);
        }
        if eb {
            let names: Vec<String> = reader.extra_bytes().iter().map(|e| e.name.clone()).collect();
            assert_eq!(names, ["HeightAboveGround", "Sweep"]);
        }
    }
}

#[test]
fn about_a_million_points() {
    let d = tmp();
    let input = sample(d.path(), "m.laz", 1_000_000, 6, true, false);
    let out = d.path().join("m.copc.laz");
    let s = translate(&[&input], &out, &opts(2, 100_000)).unwrap();
    assert_eq!(s.points, 1_000_000);
    assert!(s.nodes >= 9);
    check_round_trip(&input, &out);
}

#[test]
fn output_does_not_depend_on_thread_count() {
    let d = tmp();
    let input = sample(d.path(), "t.laz", 120_000, 7, true, true);
    let a = d.path().join("a.copc.laz");
    let b = d.path().join("b.copc.laz");
    translate(&[&input], &a, &opts(1, 2_000)).unwrap();
    translate(&[&input], &b, &opts(2, 2_000)).unwrap();
    assert!(
        std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
        "threads 1 and 2 differ"
    );
}

#[test]
fn spilled_build_is_byte_identical_and_cleans_up() {
    let d = tmp();
    let input = sample(d.path(), "s.laz", 150_000, 6, true, false);
    let mem = d.path().join("mem.copc.laz");
    let spilled = d.path().join("spill.copc.laz");
    let spill_dir = d.path().join("spill");
    std::fs::create_dir(&spill_dir).unwrap();
    let a = translate(&[&input], &mem, &opts(2, 1_000)).unwrap();
    assert!(!a.spilled);
    let o = WriterOptions {
        // the smallest limit: a subtree holds ~4 leaves, so 150 k points spill
        memory_limit: Some(copc::writer::memory_floor(30, 1_000)),
        temp_dir: Some(spill_dir.clone()),
        ..opts(2, 1_000)
    };
    let b = translate(&[&input], &spilled, &o).unwrap();
    assert!(b.spilled, "the floor limit must spill");
    assert!(b.peak_temp_bytes > 0);
    assert!(
        std::fs::read(&mem).unwrap() == std::fs::read(&spilled).unwrap(),
        "spilled output differs"
    );
    assert_eq!(
        std::fs::read_dir(&spill_dir).unwrap().count(),
        0,
        "spill folder not cleaned"
    );
    check_round_trip(&input, &spilled);
    if let Some(f) = xcheck_failures(&spilled, &input) {
        assert!(f.is_empty(), "{f:?}");
    }
}

/// A cloud whose header bounds are too small: the cube is recomputed from the points,
/// identically in memory and spilled.
#[test]
fn wrong_header_bounds_are_survived() {
    let d = tmp();
    let input = sample(d.path(), "w.las", 30_000, 6, false, false);
    let mut b = std::fs::read(&input).unwrap();
    // shrink max X to min X
    let min_x = b[187..195].to_vec();
    b[179..187].copy_from_slice(&min_x);
    std::fs::write(&input, &b).unwrap();
    let mem = d.path().join("mem.copc.laz");
    let sp = d.path().join("sp.copc.laz");
    let s = translate(&[&input], &mem, &opts(2, 500)).unwrap();
    assert!(s.warnings.iter().any(|w| w.contains("bounds")));
    let o = WriterOptions {
        memory_limit: Some(copc::writer::memory_floor(30, 500)),
        temp_dir: Some(d.path().to_path_buf()),
        ..opts(2, 500)
    };
    assert!(translate(&[&input], &sp, &o).unwrap().spilled);
    assert!(std::fs::read(&mem).unwrap() == std::fs::read(&sp).unwrap());
    check_round_trip(&input, &mem);
}

/// Writes a LAS 1.4 PDRF 6 file of the given raw records (X, Y, Z ints, GPS time).
fn write_las6(path: &Path, pts: &[([i32; 3], f64)]) {
    let mut raw = las::raw::Header {
        version: las::Version::new(1, 4),
        header_size: 375,
        offset_to_point_data: 375,
        point_data_record_format: 6,
        point_data_record_length: 30,
        x_scale_factor: 0.01,
        y_scale_factor: 0.01,
        z_scale_factor: 0.01,
        evlr: Some(Default::default()),
        large_file: Some(Default::default()),
        ..Default::default()
    };
    let mut mn = [i32::MAX; 3];
    let mut mx = [i32::MIN; 3];
    let mut recs = Vec::new();
    for (p, t) in pts {
        let mut r = [0u8; 30];
        for a in 0..3 {
            r[4 * a..4 * a + 4].copy_from_slice(&p[a].to_le_bytes());
            mn[a] = mn[a].min(p[a]);
            mx[a] = mx[a].max(p[a]);
        }
        r[14] = 0x11;
        r[16] = 2;
        r[22..30].copy_from_slice(&t.to_le_bytes());
        recs.extend_from_slice(&r);
    }
    raw.min_x = mn[0] as f64 * 0.01;
    raw.min_y = mn[1] as f64 * 0.01;
    raw.min_z = mn[2] as f64 * 0.01;
    raw.max_x = mx[0] as f64 * 0.01;
    raw.max_y = mx[1] as f64 * 0.01;
    raw.max_z = mx[2] as f64 * 0.01;
    let lf = raw.large_file.as_mut().unwrap();
    lf.number_of_point_records = pts.len() as u64;
    lf.number_of_points_by_return[0] = pts.len() as u64;
    let mut b = Vec::new();
    raw.write_to(&mut b).unwrap();
    b.extend(recs);
    std::fs::write(path, b).unwrap();
}

#[test]
fn duplicate_points_stay_and_the_tree_stops() {
    let d = tmp();
    let mut pts = Vec::new();
    for i in 0..30_000 {
        pts.push(([500, 500, 100], 1000.0 - i as f64 * 0.001)); // identical positions
    }
    for i in 0..5_000 {
        pts.push(([i * 7 % 10_000, i * 13 % 10_000, i % 300], i as f64));
    }
    let input = d.path().join("dup.las");
    write_las6(&input, &pts);
    let out = d.path().join("dup.copc.laz");
    let s = translate(&[&input], &out, &opts(2, 1_000)).unwrap();
    assert_eq!(s.points, 35_000);
    let reader = check_round_trip(&input, &out);
    // the identical points end in one leaf over the cap, at the deepest useful level
    let biggest = reader
        .all_entries()
        .unwrap()
        .into_iter()
        .max_by_key(|e| e.point_count)
        .unwrap();
    assert!(biggest.point_count > 1_000 && biggest.key.level > 5, "{biggest:?}");
}

#[test]
fn deep_trees_get_several_hierarchy_pages() {
    let d = tmp();
    let input = sample(d.path(), "deep.laz", 60_000, 7, true, false);
    let out = d.path().join("deep.copc.laz");
    let o = WriterOptions {
        hierarchy_pages: HierarchyPages {
            levels: 2,
            min_entries: 8,
        },
        ..opts(2, 200)
    };
    let s = translate(&[&input], &out, &o).unwrap();
    assert!(s.hierarchy_pages >= 3, "{} pages", s.hierarchy_pages);
    check_round_trip(&input, &out);
    if let Some(f) = xcheck_failures(&out, &input) {
        assert!(f.is_empty(), "xcheck on a {}-page file: {f:?}", s.hierarchy_pages);
    }
    // the same tree with one page has the same points and chunks
    let one = d.path().join("one.copc.laz");
    let o1 = WriterOptions {
        hierarchy_pages: HierarchyPages {
            levels: 0,
            min_entries: 1,
        },
        ..opts(2, 200)
    };
    assert_eq!(translate(&[&input], &one, &o1).unwrap().hierarchy_pages, 1);
    let a = copc::Reader::open(&out).unwrap().all_entries().unwrap();
    let mut a: Vec<_> = a.into_iter().filter(|e| e.point_count >= 0).collect();
    let mut b: Vec<_> = copc::Reader::open(&one).unwrap().all_entries().unwrap();
    a.sort_by_key(|e| e.key);
    b.sort_by_key(|e| e.key);
    assert_eq!(
        a.iter().map(|e| (e.key, e.point_count)).collect::<Vec<_>>(),
        b.iter().map(|e| (e.key, e.point_count)).collect::<Vec<_>>()
    );
}

#[test]
fn several_inputs_merge_and_mismatches_are_named() {
    let d = tmp();
    let a = sample(d.path(), "a.laz", 5_000, 7, true, false);
    let b = d.path().join("b.laz");
    write_sample(
        &b,
        &SampleOptions {
            points: 3_000,
            format: 7,
            seed: 99,
            ..Default::default()
        },
    )
    .unwrap();
    let out = d.path().join("ab.copc.laz");
    let s = translate(&[&a, &b], &out, &opts(2, 1_000)).unwrap();
    assert_eq!(s.points, 8_000);
    let mut expected = expected_records(&a).0;
    expected.extend(expected_records(&b).0);
    expected.sort();
    assert_eq!(support::read_plain_laz(&out).sorted_records(|_| true), expected);
    let c = sample(d.path(), "c.laz", 100, 6, true, false);
    let e = translate(&[&a, &c], d.path().join("ac.copc.laz"), &opts(2, 1_000))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("a.laz") && e.contains("c.laz") && e.contains("point format"),
        "{e}"
    );
    assert!(!d.path().join("ac.copc.laz").exists());
    // GPS week time cannot be merged with adjusted standard time
    let mut wk = std::fs::read(&b).unwrap();
    wk[6] &= !1;
    let week = d.path().join("week.laz");
    std::fs::write(&week, wk).unwrap();
    let e = translate(&[&a, &week], d.path().join("aw.copc.laz"), &opts(2, 1_000))
        .unwrap_err()
        .to_string();
    assert!(e.contains("week.laz") && e.contains("GPS week time"), "{e}");
}

#[test]
fn scale_offset_options_requantize_and_overflow_is_an_error() {
    let d = tmp();
    let input = sample(d.path(), "q.las", 2_000, 6, false, false);
    let out = d.path().join("q.copc.laz");
    let o = WriterOptions {
        scale: Some([0.1, 0.1, 0.1]),
        offset: Some(OffsetOption::Auto),
        a_srs: Some("EPSG:26911".into()),
        ..opts(2, 100_000)
    };
    let s = translate(&[&input], &out, &o).unwrap();
    assert_eq!(s.scale, [0.1; 3]);
    let wkt = copc::Reader::open(&out).unwrap().crs_wkt().unwrap().unwrap();
    assert!(wkt.starts_with("PROJCS[\"NAD83 / UTM zone 11N\""), "{wkt}");
    assert!(std::fs::read(&out).unwrap()[6] & 0x10 != 0, "WKT bit");
    for a in 0..3 {
        let steps = s.offset[a] / 0.1;
        assert!(
            (steps - steps.round()).abs() < 1e-6,
            "offset {} not a multiple of the scale",
            s.offset[a]
        );
    }
    // every output point is the input point rounded to 0.1
    let inp = InputFile::open(&input).unwrap();
    let mut want = Vec::new();
    inp.read_records(10_000, |r| {
        for rec in r.chunks_exact(inp.layout.record_length) {
            let v = |a: usize| {
                i32::from_le_bytes(rec[4 * a..4 * a + 4].try_into().unwrap()) as f64 * inp.header.scale[a]
                    + inp.header.offset[a]
            };
            want.push([0, 1, 2].map(|a| ((v(a) - s.offset[a]) / 0.1).round() as i64));
        }
        Ok(())
    })
    .unwrap();
    let plain = support::read_plain_laz(&out);
    let mut got: Vec<[i64; 3]> = plain
        .records
        .chunks_exact(30)
        .map(|r| [0, 1, 2].map(|a| i32::from_le_bytes(r[4 * a..4 * a + 4].try_into().unwrap()) as i64))
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    // a scale too fine for the data's distance from the offset
    let o = WriterOptions {
        scale: Some([1e-9; 3]),
        offset: Some(OffsetOption::Value([0.0; 3])),
        ..opts(2, 100_000)
    };
    let e = translate(&[&input], d.path().join("bad.copc.laz"), &o)
        .unwrap_err()
        .to_string();
    assert!(e.contains("32-bit") && e.contains("--offset auto"), "{e}");
    assert!(!d.path().join("bad.copc.laz").exists());
}

#[test]
fn bad_inputs_fail_cleanly_and_leave_no_output() {
    let d = tmp();
    let input = sample(d.path(), "x.las", 1_000, 3, false, false);
    let mut b = std::fs::read(&input).unwrap();
    b.truncate(b.len() - 100);
    let cut = d.path().join("cut.las");
    std::fs::write(&cut, &b).unwrap();
    let out = d.path().join("cut.copc.laz");
    let e = translate(&[&cut], &out, &opts(2, 1_000)).unwrap_err().to_string();
    assert!(e.contains("cut.las") && e.contains("1000") && e.contains("997"), "{e}");
    assert!(!out.exists());
    // a LAZ file whose chunk bytes are damaged
    let lz = sample(d.path(), "x.laz", 60_000, 7, true, false);
    let mut b = std::fs::read(&lz).unwrap();
    let mid = b.len() / 2;
    for x in &mut b[mid..mid + 64] {
        *x = !*x;
    }
    b.truncate(b.len() - 40);
    let bad = d.path().join("bad.laz");
    std::fs::write(&bad, &b).unwrap();
    let r = translate(&[&bad], d.path().join("bad.copc.laz"), &opts(2, 1_000));
    assert!(r.is_err(), "a truncated LAZ file must fail");
    assert!(!d.path().join("bad.copc.laz").exists());
    let leftovers: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains(".partial-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn progress_reports_points_and_nodes() {
    let d = tmp();
    let input = sample(d.path(), "p.laz", 50_000, 6, true, false);
    let events = Arc::new(Mutex::new(Vec::new()));
    let ev = events.clone();
    let o = WriterOptions {
        progress: Some(Arc::new(move |p: &Progress| ev.lock().unwrap().push(p.clone()))),
        ..opts(2, 200)
    };
    let s = translate(&[&input], d.path().join("p.copc.laz"), &o).unwrap();
    let ev = events.lock().unwrap();
    assert!(ev.iter().any(|e| matches!(
        e,
        Progress::PointsRead {
            read: 50_000,
            total: 50_000
        }
    )));
    assert!(ev.iter().any(|e| matches!(e, Progress::NodesWritten { .. })));
    assert!(matches!(ev.last(), Some(Progress::Done { points: 50_000, nodes }) if *nodes == s.nodes));
}

/// Run as a child process by `a_killed_writer_leaves_nothing`.
#[test]
fn child_translation_for_kill_test() {
    let Some(dir) = std::env::var_os("COPC_KILL_CHILD_DIR") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let input = dir.join("big.laz");
    let _ = translate(&[&input], dir.join("killed.copc.laz"), &opts(1, 500));
}

#[test]
fn a_killed_writer_leaves_nothing() {
    let d = tmp();
    sample(d.path(), "big.laz", 400_000, 6, true, false);
    let target = d.path().join("killed.copc.laz");
    let mut killed_while_running = 0;
    for delay_ms in [300u64, 900] {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_translation_for_kill_test", "--nocapture", "--test-threads=1"])
            .env("COPC_KILL_CHILD_DIR", d.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok();
        child.wait().unwrap();
        if !finished {
            killed_while_running += 1;
            assert!(!target.exists(), "a killed writer left {}", target.display());
        }
        let _ = std::fs::remove_file(&target);
    }
    assert!(killed_while_running > 0, "the child always finished before the kill: make the input bigger");
}

// ---------------------------------------------------------------- real files

/// Inputs that are expected to be refused, with a word the error must contain.
const MUST_FAIL: &[(&str, &str)] = &[
    ("pdal_1.2-no-points-but-count.las", "1065"),
    ("pdal_garbage_nVariableLength.las", "719"),
    ("lasr_malformed_extrabytes.las", "extra-bytes"),
];

/// xcheck failures (under --strict) that come from the input, not the writer.
fn allowed_failure(file: &str, check: &str, input_has_crs: bool) -> bool {
    match check {
        // a COPC file can only carry the CRS its input had
        "crs.wkt" => !input_has_crs,
        // inputs without points give files without points
        "points.present" => matches!(file, "pdal_no-points.las" | "lazperf_no-points-1.3.laz"),
        "points.gpstime_finite" => file == "pdal_gps-time-nan.las",
        // laspy's lazrs backend panics on LASzip 1.x point-wise input ("Variable-size
        // chunks, but no chunk table"); tests/wild_files.rs compares it with LASzip's decode
        "compare.read_other" => file == "pdal_laszip-v1.2r0-pointwise.laz",
        // deprecated array extra-bytes types (data types 11-30): xcheck sizes them 0 and
        // copc.js refuses them, though the VLR is the input's, bit-exact
        "eb.vlr" | "peer.copcjs_hierarchy" | "peer.copcjs_info" | "peer.copcjs_points" => {
            file == "laspy_extrabytes.las"
        }
        _ => false,
    }
}

/// Runs `xcheck --strict --json --compare input` when the peers are installed; returns
/// the failed checks (None when xcheck cannot run here).
fn xcheck_failures(out: &Path, input: &Path) -> Option<Vec<(String, String)>> {
    let peers = std::process::Command::new("python3")
        .args(["-c", "import laspy, lazrs"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !peers || !xcheck_available() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED xcheck of {}: python3 laspy/lazrs or xcheck missing",
            out.display()
        );
        return None;
    }
    let o = std::process::Command::new(xcheck_path())
        .arg(out)
        .args(["--strict", "--json", "--compare"])
        .arg(input)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|_| panic!("xcheck gave no JSON: {}", String::from_utf8_lossy(&o.stderr)));
    Some(
        report["checks"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter(|c| c["status"] == "FAIL")
            .map(|c| {
                (
                    c["name"].as_str().unwrap_or("").to_string(),
                    c["detail"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect(),
    )
}

fn xcheck_available() -> bool {
    Path::new("/work/shared/tools/xcheck").exists() || xcheck_path().exists()
}

fn xcheck_path() -> PathBuf {
    match std::env::var_os("COPC_TEST_DATA") {
        Some(d) => PathBuf::from(d).join("../tools/xcheck"),
        None => PathBuf::from("../shared/tools/xcheck"),
    }
}

#[test]
fn every_shared_las_laz_file_translates_and_passes_xcheck() {
    let Some(data) = support::test_data("every_shared_las_laz_file_translates_and_passes_xcheck") else {
        return;
    };
    let peers = std::process::Command::new("python3")
        .args(["-c", "import laspy, lazrs"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let xcheck = xcheck_path();
    if !peers || !xcheck_available() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED xcheck part: python3 laspy/lazrs or {} missing",
            xcheck.display()
        );
    }
    let d = tmp();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().to_string();
            (n.ends_with(".las") || n.ends_with(".laz")) && !n.ends_with(".copc.laz")
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 20,
        "expected the shared LAS/LAZ files in {}",
        data.display()
    );
    let mut problems = Vec::new();
    for input in &files {
        let name = input.file_name().unwrap().to_string_lossy().to_string();
        let out = d.path().join(format!("{name}.copc.laz"));
        let result = translate(&[input], &out, &opts(2, 100_000));
        if let Some((_, word)) = MUST_FAIL.iter().find(|(f, _)| *f == name) {
            match result {
                Ok(_) => problems.push(format!("{name}: translated, expected a clear error")),
                Err(e) => {
                    let m = e.to_string();
                    if !m.contains(word) || !m.contains(&name) {
                        problems.push(format!("{name}: error does not name the problem: {m}"));
                    }
                    if out.exists() {
                        problems.push(format!("{name}: failed but left an output"));
                    }
                }
            }
            continue;
        }
        if let Err(e) = result {
            problems.push(format!("{name}: {e}"));
            continue;
        }
        // compare with the input through an independent decode
        let (expected, _) = expected_records(input);
        let got = support::read_plain_laz(&out).sorted_records(|_| true);
        if got != expected {
            problems.push(format!("{name}: point multiset differs from the input's"));
        }
        // user VLRs/EVLRs forwarded, GeoTIFF never written
        let inp = InputFile::open(input).unwrap();
        let outf = InputFile::open(&out).unwrap();
        let out_recs: Vec<&copc::format::Vlr> = outf.vlrs.iter().chain(outf.evlrs.iter()).collect();
        for v in inp.vlrs.iter().chain(inp.evlrs.iter()) {
            let dropped = matches!(
                v.user_id.as_str(),
                "LASF_Projection" | "laszip encoded" | "copc" | "entwine"
            ) || (v.user_id == "LASF_Spec"
                && (v.record_id == 4 || (100..=354).contains(&v.record_id) || v.record_id == 65535));
            if !dropped
                && !out_recs
                    .iter()
                    .any(|o| o.user_id == v.user_id && o.record_id == v.record_id && o.data == v.data)
            {
                problems.push(format!("{name}: record {}/{} not forwarded", v.user_id, v.record_id));
            }
        }
        if out_recs
            .iter()
            .any(|o| o.user_id == "LASF_Projection" && (34735..=34737).contains(&o.record_id))
        {
            problems.push(format!("{name}: GeoTIFF record written"));
        }
        if !(peers && xcheck_available()) {
            continue;
        }
        let recs: Vec<&copc::format::Vlr> = inp.vlrs.iter().chain(inp.evlrs.iter()).collect();
        let has_crs = copc::writer::crs::input_crs(&recs).wkt().is_some();
        let o = std::process::Command::new(&xcheck)
            .arg(&out)
            .args(["--strict", "--json", "--compare"])
            .arg(input)
            .output()
            .unwrap();
        let report: serde_json::Value = match serde_json::from_slice(&o.stdout) {
            Ok(v) => v,
            Err(_) => {
                problems.push(format!(
                    "{name}: xcheck gave no JSON: {}",
                    String::from_utf8_lossy(&o.stderr)
                ));
                continue;
            }
        };
        for c in report["checks"].as_array().cloned().unwrap_or_default() {
            let status = c["status"].as_str().unwrap_or("");
            let check = c["name"].as_str().unwrap_or("");
            if status == "FAIL" && !allowed_failure(&name, check, has_crs) {
                problems.push(format!(
                    "{name}: xcheck {check}: {}",
                    c["detail"].as_str().unwrap_or("")
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    let _ = PointLayout::base_size(6);
}

#[test]
fn cancelling_stops_and_cleans_up() {
    let d = tmp();
    let input = sample(d.path(), "c.laz", 300_000, 6, true, false);
    let out = d.path().join("c.copc.laz");
    let spill = d.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let f2 = flag.clone();
    let o = WriterOptions {
        cancel: Some(flag.clone()),
        memory_limit: Some(copc::writer::memory_floor(30, 1_000)),
        temp_dir: Some(spill.clone()),
        progress: Some(Arc::new(move |p: &Progress| {
            if let Progress::PointsRead { read, .. } = p {
                if *read > 100_000 {
                    f2.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
        })),
        ..opts(2, 1_000)
    };
    let e = translate(&[&input], &out, &o).unwrap_err();
    assert!(matches!(e, copc::Error::Cancelled(_)), "{e}");
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(&spill).unwrap().count(), 0, "spill files left behind");
}

/// An input without a CRS gives an output without one, which validators flag: the
/// writer says so (naming the input and --a-srs) in a progress event and in the
/// summary; with --a-srs, or an input that has a CRS, it says nothing of the kind.
#[test]
fn an_output_without_crs_is_warned_about() {
    let d = tmp();
    let legacy = sample(d.path(), "nocrs.las", 2_000, 3, false, false); // LAS 1.2: no CRS
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let s2 = seen.clone();
    let o = WriterOptions {
        progress: Some(Arc::new(move |p| {
            if let Progress::Warning(w) = p {
                s2.lock().unwrap().push(w.clone());
            }
        })),
        ..opts(2, 500)
    };
    let s = translate(&[&legacy], d.path().join("a.copc.laz"), &o).unwrap();
    let crs_warning = |ws: &[String]| ws.iter().find(|w| w.contains("no CRS")).cloned();
    let w = crs_warning(&s.warnings).expect("no 'no CRS' warning in the summary");
    assert!(w.contains("nocrs.las") && w.contains("--a-srs"), "{w}");
    assert_eq!(crs_warning(&seen.lock().unwrap()), Some(w), "the progress events carry the same warning");

    let given = WriterOptions { a_srs: Some("EPSG:32610".into()), ..opts(2, 500) };
    let s = translate(&[&legacy], d.path().join("b.copc.laz"), &given).unwrap();
    assert_eq!(crs_warning(&s.warnings), None, "{:?}", s.warnings);
    let with_wkt = sample(d.path(), "wkt.las", 2_000, 6, false, false); // LAS 1.4 with a WKT VLR
    let s = translate(&[&with_wkt], d.path().join("c.copc.laz"), &opts(2, 500)).unwrap();
    assert_eq!(crs_warning(&s.warnings), None, "{:?}", s.warnings);
}
