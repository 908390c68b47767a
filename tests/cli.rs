//! The `copc` binary: contracts (flags, JSON keys, exit codes, error lines).

mod support;

use std::path::Path;
use std::process::{Command, Output};
use support::mini_copc::{self, Options};
use support::{VALID_COPC, test_data};

fn copc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_copc")).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write_mini(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn info_json_has_the_contract_keys() {
    let dir = tempfile::tempdir().unwrap();
    let m = mini_copc::build(&Options { page_level: 2, ..Default::default() });
    let f = write_mini(dir.path(), "mini.copc.laz", &m.bytes);
    let o = copc(&["info", "--json", &f]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["point_count"], 5000);
    assert_eq!(v["point_format"], 6);
    assert_eq!(v["point_record_length"], 30);
    assert_eq!(v["las_version"], "1.4");
    assert_eq!(v["scale"], serde_json::json!([0.01, 0.01, 0.01]));
    assert_eq!(v["offset"], serde_json::json!([1000.0, 2000.0, 0.0]));
    assert!(v["bounds"]["min"].as_array().unwrap().len() == 3 && v["bounds"]["max"].is_array());
    assert!(v["crs_wkt"].is_null());
    assert_eq!(v["extra_bytes"], serde_json::json!([]));
    let c = &v["copc"];
    assert_eq!(c["center"], serde_json::json!(m.center));
    assert_eq!(c["halfsize"], 64.0);
    assert_eq!(c["spacing"], 1.0);
    assert_eq!(c["root_hier_offset"], m.pages[0].0);
    assert_eq!(c["root_hier_size"], m.pages[0].1);
    assert_eq!(c["draft"], false);
    assert!(c["gpstime_minimum"].as_f64().unwrap() >= 1000.0 && c["gpstime_maximum"].as_f64().unwrap() < 1005.0);
    let h = &v["hierarchy"];
    assert_eq!(h["pages"], m.pages.len());
    assert_eq!(h["data_nodes"], m.nodes.len());
    assert_eq!(h["max_depth"], 3);
    assert!(h["nodes"].as_u64().unwrap() > m.nodes.len() as u64, "the empty interior node counts");
}

/// A plain LAS/LAZ file is not an error for `info`: its header, why it is not COPC and
/// the command that converts it (issue #26). A truncated one stays an error.
#[test]
fn info_on_plain_las_and_laz_explains_how_to_convert() {
    let dir = tempfile::tempdir().unwrap();
    for (name, compressed) in [("plain.las", false), ("plain.laz", true)] {
        let f = dir.path().join(name);
        let opts = copc::sample::SampleOptions { points: 2000, format: 3, compressed, ..Default::default() };
        copc::sample::write_sample(&f, &opts).unwrap();
        let f = f.to_str().unwrap();
        let o = copc(&["info", f]);
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        assert!(out.contains("points          2000") && out.contains("point format 3"), "{out}");
        assert!(out.contains("not COPC") && out.contains("LAS 1.2 (COPC files are LAS 1.4)"), "{out}");
        assert!(out.contains(&format!("copc translate {f} OUT.copc.laz")), "{out}");
        let o = copc(&["info", "--json", f]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["is_copc"], false);
        assert_eq!(v["point_count"], 2000);
        assert_eq!(v["compressed"], compressed);
        assert!(v["convert_with"].as_str().unwrap().starts_with("copc translate "));
        if !compressed {
            let bytes = std::fs::read(f).unwrap();
            let cut = write_mini(dir.path(), "cut.las", &bytes[..bytes.len() - 100]);
            assert_eq!(copc(&["info", &cut]).status.code(), Some(1), "a truncated LAS file is an error");
        }
    }
}

#[test]
fn query_count_prints_one_number() {
    let dir = tempfile::tempdir().unwrap();
    let m = mini_copc::build(&Options::default());
    let f = write_mini(dir.path(), "mini.copc.laz", &m.bytes);
    let o = copc(&["query", &f, "--count"]);
    assert_eq!(stdout(&o), "5000\n");
    let c = m.center;
    let b = format!("{},{},{},{}", c[0] - 10.0, c[1] - 20.0, c[0] + 30.0, c[1]);
    let want = m.sorted_records(|p| p[0] >= c[0] - 10.0 && p[0] <= c[0] + 30.0 && p[1] >= c[1] - 20.0 && p[1] <= c[1]).len();
    let o = copc(&["query", &f, "--bounds", &b, "--dims", "x,y,z,classification", "--count"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim().parse::<usize>().unwrap(), want);
    let b3 = format!("{},{},{},{},{},{}", c[0] - 64.0, c[1] - 64.0, c[0] + 64.0, c[1] + 64.0, c[2] - 64.0, c[2]);
    let want3 = m.sorted_records(|p| p[2] <= c[2]).len();
    assert_eq!(stdout(&copc(&["query", &f, "--bounds", &b3, "--count"])).trim().parse::<usize>().unwrap(), want3);
    let o = copc(&["query", &f, "--max-depth", "0", "--resolution", "0.1", "--count", "--stats"]);
    assert_eq!(stdout(&o).trim().parse::<usize>().unwrap(), m.nodes[&(0, 0, 0, 0)].len() / 30);
    assert!(stderr(&o).contains("requests"));
}

#[test]
fn errors_and_usage_have_the_contract_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.copc.laz");
    let missing = missing.to_str().unwrap();
    let o = copc(&["info", missing]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.starts_with(&format!("copc: {missing}: ")) && err.lines().count() == 1, "{err}");
    assert_eq!(copc(&["query", missing]).status.code(), Some(2), "--count is required");
    assert_eq!(copc(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(copc(&["info"]).status.code(), Some(2));
    let m = mini_copc::build(&Options::default());
    let f = write_mini(dir.path(), "mini.copc.laz", &m.bytes);
    for bad in [vec!["--bounds", "1,2,3"], vec!["--bounds", "a,b,c,d"], vec!["--dims", "x,nosuchdim"], vec!["--resolution=-1"], vec!["--max-depth=-2"]] {
        let mut args = vec!["query", &f, "--count"];
        args.extend(bad.iter().copied());
        let o = copc(&args);
        assert_eq!(o.status.code(), Some(1), "{bad:?}: {}", stderr(&o));
        assert!(stderr(&o).starts_with(&format!("copc: {f}: ")), "{}", stderr(&o));
    }
    // every truncation of a valid file: exit 1 with one error line, never a crash
    for cut in (0..m.bytes.len()).step_by(997) {
        let t = write_mini(dir.path(), "cut.copc.laz", &m.bytes[..cut]);
        for args in [vec!["info", "--json", &t], vec!["query", &t, "--count"], vec!["validate", &t]] {
            let o = copc(&args);
            assert_eq!(o.status.code(), Some(1), "{args:?} at {cut}");
            assert!(stderr(&o).starts_with("copc: "), "{args:?} at {cut}: {}", stderr(&o));
        }
    }
}

#[test]
fn validate_passes_a_clean_file_and_names_each_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let m = mini_copc::build(&Options { page_level: 2, ..Default::default() });
    let f = write_mini(dir.path(), "mini.copc.laz", &m.bytes);
    let o = copc(&["validate", &f]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.lines().last().unwrap().ends_with(" passed, 0 failed"));
    assert!(out.lines().all(|l| l.starts_with("PASS ") || l.starts_with("WARN ") || l.ends_with("warning(s)") || l.contains(" passed, ")));
    // the test builder writes no CRS: that is the only warning, so --strict fails on it
    assert!(out.contains("WARN crs.wkt"));
    assert_eq!(copc(&["validate", "--strict", &f]).status.code(), Some(1));

    let put = |at: usize, v: &[u8]| {
        let mut b = m.bytes.clone();
        b[at..at + v.len()].copy_from_slice(v);
        b
    };
    let root = m.pages[0].0 as usize;
    let dup = {
        let mut b = m.bytes.clone();
        b.copy_within(root..root + 32, root + 32);
        b
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("points.gpstime_range", put(429 + 56, &5.0f64.to_le_bytes())),
        ("points.in_header_bounds", put(179, &(m.center[0] - 1.0).to_le_bytes())),
        ("chunks.point_count", put(247, &4999u64.to_le_bytes())),
        ("header.wkt_bit", put(6, &0u16.to_le_bytes())),
        ("copc.info_reserved", put(429 + 80, &1u64.to_le_bytes())),
        ("hierarchy.unique_keys", dup),
        ("copc.info_values", put(429 + 32, &0f64.to_le_bytes())),
    ];
    for (check, bytes) in cases {
        let f = write_mini(dir.path(), "bad.copc.laz", &bytes);
        let o = copc(&["validate", &f]);
        assert_eq!(o.status.code(), Some(1), "{check}");
        assert!(stdout(&o).contains(&format!("FAIL {check}:")), "{check} not reported:\n{}", stdout(&o));
        let json: serde_json::Value = serde_json::from_slice(&copc(&["validate", "--json", &f]).stdout).unwrap();
        assert_eq!(json["ok"], false);
        assert!(json["checks"].as_array().unwrap().iter().any(|c| c["name"] == check && c["status"] == "FAIL"));
    }
}

#[test]
fn validate_on_the_shared_files() {
    let Some(dir) = test_data("validate_on_the_shared_files") else { return };
    for name in VALID_COPC {
        let f = dir.join(name);
        let o = copc(&["validate", f.to_str().unwrap()]);
        assert!(o.status.success(), "{name}:\n{}", stdout(&o));
        let out = stdout(&o);
        let quirks: Vec<&str> = out.lines().filter(|l| l.starts_with("WARN")).map(|l| l.split(':').next().unwrap()).collect::<Vec<_>>();
        let expected: &[&str] = if *name == "lastools_example.copc.laz" { &["WARN vlrs.end", "WARN laz.chunk_size"] } else { &["WARN header.legacy_counts"] };
        assert_eq!(quirks, expected, "{name}");
    }
    for name in [
        "copcvalidator_bad-ellipsoid.copc.laz",
        "draft_entwine_ellipsoid.copc.laz",
        "copcvalidator_ellipsoid-1.4.laz",
        "pdal_bad_vlr_count.las",
        "pdal_garbage_nVariableLength.las",
        "lasr_malformed_extrabytes.las",
        "pdal_laszip-v1.2r0-pointwise.laz",
        "lazperf_no-points-1.3.laz",
        "pdal_1.2-no-points-but-count.las",
        "laspy_fullwave.laz",
    ] {
        let f = dir.join(name);
        let o = copc(&["validate", f.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{name}:\n{}", stdout(&o));
        assert!(stdout(&o).contains("FAIL "), "{name}");
        assert!(stderr(&o).starts_with(&format!("copc: {}: ", f.display())), "{name}: {}", stderr(&o));
    }
    let o = copc(&["info", "--json", dir.join("draft_entwine_ellipsoid.copc.laz").to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["copc"]["draft"], true);
    assert_eq!(v["point_count"], 63011);
}

#[test]
fn query_csv_writes_every_selected_point() {
    let dir = tempfile::tempdir().unwrap();
    let m = mini_copc::build(&Options::default());
    let f = write_mini(dir.path(), "mini.copc.laz", &m.bytes);
    let c = m.center;
    let poly = dir.path().join("area.geojson");
    std::fs::write(
        &poly,
        format!(r#"{{"type":"Polygon","coordinates":[[[{a},{b}],[{e},{b}],[{e},{d}],[{a},{d}],[{a},{b}]]]}}"#, a = c[0] - 30.0, b = c[1] - 30.0, e = c[0] + 10.0, d = c[1] + 20.0),
    )
    .unwrap();
    let o = copc(&["query", &f, "--polygon", &format!("@{}", poly.display()), "--dims", "x,y,z,intensity,classification", "--csv", "-"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("x,y,z,intensity,classification"));
    let mut got: Vec<String> = lines.map(str::to_string).collect();
    let mut want: Vec<String> = m
        .nodes
        .values()
        .flat_map(|v| v.chunks_exact(30))
        .filter(|r| {
            let p = m.xyz(r);
            p[0] >= c[0] - 30.0 && p[0] <= c[0] + 10.0 && p[1] >= c[1] - 30.0 && p[1] <= c[1] + 20.0
        })
        .map(|r| {
            let p = m.xyz(r);
            format!("{:.2},{:.2},{:.2},{},{}", p[0], p[1], p[2], u16::from_le_bytes([r[12], r[13]]), r[16])
        })
        .collect();
    got.sort();
    want.sort();
    assert!(want.len() > 100);
    assert_eq!(got, want);
    // to a file, and a bad polygon is an error naming the source
    let out = dir.path().join("pts.csv");
    assert!(copc(&["query", &f, "--max-depth", "0", "--csv", out.to_str().unwrap()]).status.success());
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 1 + m.nodes[&(0, 0, 0, 0)].len() / 30);
    let o = copc(&["query", &f, "--polygon", "POINT (1 2)", "--count"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with(&format!("copc: {f}: --polygon")), "{}", stderr(&o));
}

#[test]
fn info_and_query_agree_with_laspy_on_generated_files() {
    let ok = Command::new("python3").args(["-c", "import laspy, lazrs"]).output().is_ok_and(|o| o.status.success());
    if !ok {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "SKIPPED info_and_query_agree_with_laspy_on_generated_files: python3 with laspy[lazrs] not found");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, o) in [
        Options { page_level: 2, ..Default::default() },
        Options { points: 30000, max_level: 4, seed: 99, page_level: 3, ..Default::default() },
        Options { points: 1, max_level: 0, ..Default::default() },
    ]
    .iter()
    .enumerate()
    {
        files.push(write_mini(dir.path(), &format!("gen{i}.copc.laz"), &mini_copc::build(o).bytes));
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/compare_laspy.py");
    let mut args = vec![script, env!("CARGO_BIN_EXE_copc")];
    args.extend(files.iter().map(String::as_str));
    let o = Command::new("python3").args(&args).output().unwrap();
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o).lines().filter(|l| l.starts_with("ok ")).count(), 3, "{}", stdout(&o));
}

/// Runs ../shared/tools/xcheck when its Python readers import; None (said loudly) otherwise.
fn xcheck(file: &str, compare: Option<&str>) -> Option<Output> {
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/xcheck");
    let ready = tool.exists() && Command::new("python3").args(["-c", "import laspy, lazrs, numpy"]).output().is_ok_and(|o| o.status.success());
    if !ready {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "SKIPPED xcheck of {file}: ../shared/tools/xcheck or its Python readers are missing");
        return None;
    }
    let mut args = vec![file, "--strict"];
    if let Some(c) = compare {
        args.extend(["--compare", c]);
    }
    Some(Command::new(tool).args(&args).output().unwrap())
}

#[test]
fn sample_translate_validate_and_xcheck() {
    let dir = tempfile::tempdir().unwrap();
    let las = dir.path().join("in.laz");
    let out = dir.path().join("out.copc.laz");
    let (las, out) = (las.to_str().unwrap(), out.to_str().unwrap());
    let o = copc(&["sample", las, "--points", "30000", "--seed", "5", "--format", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = copc(&["translate", las, out, "--max-points-per-node", "5000", "--threads", "2", "--a-srs", "EPSG:32610"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = stdout(&o);
    assert!(summary.contains("30000 points") && summary.contains("points/s"), "{summary}");
    let v = copc(&["validate", "--strict", out]);
    assert!(v.status.success(), "{}", stdout(&v));
    let info: serde_json::Value = serde_json::from_slice(&copc(&["info", "--json", out]).stdout).unwrap();
    assert_eq!(info["point_count"], 30000);
    assert_eq!(info["point_format"], 7, "format 3 (RGB) becomes 7");
    assert!(info["hierarchy"]["max_depth"].as_i64().unwrap() >= 1);
    if let Some(x) = xcheck(out, Some(las)) {
        assert!(x.status.success(), "xcheck:\n{}", stdout(&x));
    }
}

#[test]
fn translate_failures_leave_nothing_at_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.copc.laz");
    let out = out.to_str().unwrap();
    let missing = dir.path().join("missing.laz");
    let missing = missing.to_str().unwrap();
    let o = copc(&["translate", missing, out]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with(&format!("copc: {missing}: ")), "{}", stderr(&o));
    let las = dir.path().join("in.las");
    let las = las.to_str().unwrap();
    assert!(copc(&["sample", las, "--points", "1000"]).status.success());
    let o = copc(&["translate", las, out, "--memory-limit", "lots"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with(&format!("copc: {out}: ")), "{}", stderr(&o));
    let o = copc(&["translate", las, out, "--scale", "0"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(copc(&["translate", las]).status.code(), Some(2), "an output is required");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(left, vec!["in.las".to_string()], "nothing else left behind");
}

#[test]
fn query_writes_las_laz_and_copc_subsets() {
    let dir = tempfile::tempdir().unwrap();
    let m = mini_copc::build(&Options { points: 20000, page_level: 2, ..Default::default() });
    let f = write_mini(dir.path(), "mini.copc.laz", &m.bytes);
    let c = m.center;
    let b = format!("{},{},{},{}", c[0] - 40.0, c[1] - 30.0, c[0] + 20.0, c[1] + 25.0);
    let want = m.sorted_records(|p| p[0] >= c[0] - 40.0 && p[0] <= c[0] + 20.0 && p[1] >= c[1] - 30.0 && p[1] <= c[1] + 25.0);
    for ext in ["las", "laz", "copc.laz"] {
        let out = dir.path().join(format!("sub.{ext}"));
        let out = out.to_str().unwrap();
        let o = copc(&["query", &f, "--bounds", &b, "-o", out]);
        assert!(o.status.success(), "{ext}: {}", stderr(&o));
        let bytes = std::fs::read(out).unwrap();
        assert_eq!(&bytes[24..26], &[1, 4], "{ext}: LAS 1.4");
        let records = if ext == "las" {
            let start = u32::from_le_bytes(bytes[96..100].try_into().unwrap()) as usize;
            let mut v: Vec<Vec<u8>> = bytes[start..].chunks_exact(30).map(|r| r.to_vec()).collect();
            v.sort();
            v
        } else {
            support::read_plain_laz(Path::new(out)).sorted_records(|_| true)
        };
        assert_eq!(records, want, "{ext}: the subset's points");
        if ext == "copc.laz" {
            assert!(copc(&["validate", out]).status.success());
            let las = dir.path().join("sub.las");
            if let Some(x) = xcheck(out, Some(las.to_str().unwrap())) {
                // the test builder's file has no CRS: the only allowed finding
                let text = stdout(&x);
                let fails: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL")).collect();
                assert!(fails.iter().all(|l| l.contains("crs.wkt")), "xcheck:\n{text}");
            }
        }
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).filter(|n| n.starts_with('.')).collect();
    assert!(left.is_empty(), "temp files left: {left:?}");
    let o = copc(&["query", &f, "-o", dir.path().join("x.txt").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn demo_runs_every_step() {
    let dir = tempfile::tempdir().unwrap();
    let o = copc(&["demo", dir.path().to_str().unwrap(), "--points", "30000"]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}\n{}", stderr(&o));
    for step in ["1. sample", "2. translate", "3. validate", "4. query", "5. query", "6. http", "7. http"] {
        assert!(out.contains(step), "{step} missing:\n{out}");
    }
    assert!(out.contains(" 0 failed"), "{out}");
    assert_eq!(out.matches("(same as local)").count(), 2, "{out}");
    // it ends by saying where the files are and how to look at them, with commands that work
    let copc_file = dir.path().join("sample.copc.laz");
    let copc_file = copc_file.to_str().unwrap();
    assert!(out.contains(&format!("copc info {copc_file}")), "{out}");
    let shown = out.lines().find(|l| l.trim_start().starts_with("copc query") && l.contains("--count")).expect("no query shown");
    let args: Vec<&str> = shown.split_whitespace().skip(1).collect();
    let q = copc(&args);
    assert!(q.status.success(), "{shown}: {}", stderr(&q));
    assert!(stdout(&q).trim().parse::<u64>().unwrap() > 0, "{shown}: {}", stdout(&q));
}

#[test]
fn version_names_the_laz_and_las_crates() {
    let o = copc(&["--version"]);
    let v = stdout(&o);
    assert!(o.status.success());
    assert!(v.starts_with(&format!("copc {} (laz 0.", env!("CARGO_PKG_VERSION"))) && v.contains(", las 0."), "{v}");
}

#[test]
fn translate_without_crs_warns_on_stderr_and_in_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let las = dir.path().join("in.las");
    let out = dir.path().join("out.copc.laz");
    let (las, out) = (las.to_str().unwrap(), out.to_str().unwrap());
    assert!(copc(&["sample", las, "--points", "2000", "--format", "3"]).status.success());
    let o = copc(&["translate", las, out]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning: ") && stderr(&o).contains("no CRS") && stderr(&o).contains("--a-srs"), "{}", stderr(&o));
    assert!(stdout(&o).contains("warning: ") && stdout(&o).contains("no CRS"), "{}", stdout(&o));
}

#[test]
fn a_closed_stdout_ends_quietly() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    // deep enough that `info --nodes` prints more than a pipe buffer holds
    let m = mini_copc::build(&Options { points: 50000, max_level: 5, ..Default::default() });
    let f = write_mini(dir.path(), "mini.copc.laz", &m.bytes);
    assert!(m.nodes.len() * 50 > 128 << 10, "{} nodes", m.nodes.len());
    for args in [vec!["query", f.as_str(), "--csv", "-"], vec!["info", "--nodes", f.as_str()]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_copc"))
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 16];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        // the pipe's reader is gone now
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(out.stderr.is_empty(), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn query_copc_subsets_pass_strict_validation_and_xcheck() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let (las, full) = (p("town.laz"), p("town.copc.laz"));
    assert!(copc(&["sample", &las, "--points", "60000", "--seed", "3", "--extra-bytes"]).status.success());
    let o = copc(&["translate", &las, &full, "--max-points-per-node", "8000"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let info: serde_json::Value = serde_json::from_slice(&copc(&["info", "--json", &full]).stdout).unwrap();
    assert!(info["crs_wkt"].is_string(), "the sample carries a CRS");
    let (min, max) = (&info["bounds"]["min"], &info["bounds"]["max"]);
    let at = |i: usize, f: f64| min[i].as_f64().unwrap() + (max[i].as_f64().unwrap() - min[i].as_f64().unwrap()) * f;
    let b = format!("{},{},{},{}", at(0, 0.2), at(1, 0.1), at(0, 0.6), at(1, 0.7));
    let depth = info["hierarchy"]["max_depth"].as_i64().unwrap();
    assert!(depth >= 2);
    for (name, extra) in [("box", vec!["--bounds", b.as_str()]), ("levels", vec!["--max-depth", "1"])] {
        let (sub, sub_las) = (p(&format!("{name}.copc.laz")), p(&format!("{name}.las")));
        let mut args = vec!["query", full.as_str()];
        args.extend(extra.iter().copied());
        let count: u64 = {
            let mut a = args.clone();
            a.push("--count");
            stdout(&copc(&a)).trim().parse().unwrap()
        };
        for out in [&sub, &sub_las] {
            let mut a = args.clone();
            a.extend(["-o", out.as_str()]);
            let o = copc(&a);
            assert!(o.status.success(), "{name}: {}", stderr(&o));
        }
        let v = copc(&["validate", "--strict", &sub]);
        assert!(v.status.success(), "{name}:\n{}", stdout(&v));
        let i: serde_json::Value = serde_json::from_slice(&copc(&["info", "--json", &sub]).stdout).unwrap();
        assert_eq!(i["point_count"].as_u64().unwrap(), count, "{name}");
        assert_eq!(i["extra_bytes"], info["extra_bytes"], "{name}: extra bytes kept");
        assert_eq!(i["scale"], info["scale"], "{name}: scale kept");
        if let Some(x) = xcheck(&sub, Some(&sub_las)) {
            assert!(x.status.success(), "{name}: xcheck:\n{}", stdout(&x));
        }
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_translate_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let las = dir.path().join("big.laz");
    let out = dir.path().join("big.copc.laz");
    assert!(copc(&["sample", las.to_str().unwrap(), "--points", "3000000"]).status.success());
    let child = Command::new(env!("CARGO_BIN_EXE_copc"))
        .args(["translate", las.to_str().unwrap(), out.to_str().unwrap(), "--threads", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let o = child.wait_with_output().unwrap();
    if o.status.success() {
        // it finished before the signal landed: nothing to check but a valid file
        assert!(copc(&["validate", "--quick", out.to_str().unwrap()]).status.success());
        return;
    }
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).starts_with("copc: "), "{}", stderr(&o));
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(left, vec!["big.laz".to_string()], "only the input is left");
}
