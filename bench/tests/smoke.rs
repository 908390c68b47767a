//! The benchmark command (`copc-bench`, BENCHMARKS.md) on a tiny input, ours only,
//! one run: so the command cannot rot. No timings are checked, only that every row
//! ran and found the points it should.

use std::process::Command;

/// Runs copc-bench with `args` in a fresh work folder; returns the report it wrote.
fn bench(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("REPORT.md");
    let status = Command::new(env!("CARGO_BIN_EXE_copc-bench"))
        .args(args)
        .arg("--work")
        .arg(dir.path().join("work"))
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "copc-bench {args:?} failed");
    std::fs::read_to_string(&out).unwrap()
}

#[test]
fn bench_command_writes_a_report_on_a_tiny_input() {
    let md = bench(&["--sizes", "20k", "--runs", "1", "--threads", "2", "--no-peers", "--no-http", "--no-real", "--no-profile", "--no-pdal", "--no-arrow", "--no-python", "--no-dataset", "--convert-large", "30k"]);
    for section in ["## Machine", "## Method", "## Targets (issue 7)", "## Results", "## Scaling", "### town-20k-pdrf3", "### town-20k-pdrf7"] {
        assert!(md.contains(section), "no '{section}' in:\n{md}");
    }
    // every row of ours ran on all 20 000 points (the box query on fewer)
    let row = |title: &str, tool: &str| -> Vec<String> {
        let line = md
            .lines()
            .find(|l| l.starts_with(&format!("| {title} | {tool} |")))
            .unwrap_or_else(|| panic!("no row '{title}' for {tool} in:\n{md}"));
        line.split('|').map(|c| c.trim().to_string()).collect()
    };
    for title in ["read all points, all dimensions", "read X/Y/Z only", "resolution query", "convert LAZ → COPC"] {
        let cells = row(title, "**ours**");
        assert_eq!(cells[4], "1", "runs of {title}");
        assert_eq!(cells[5], "20000", "points of {title}");
    }
    let boxed: u64 = row("box query (2-D, 20% of the area)", "**ours**")[5].parse().unwrap();
    assert!(boxed > 1000 && boxed < 10000, "the 20% box kept {boxed} of 20000 points");
    // the limit ran too, and peers are listed as skipped rather than dropped
    assert_eq!(row("read all points, all dimensions", "laz-rs alone, 2 threads")[5], "20000");
    for peer in ["laspy", "copc-lib", "copc-rs"] {
        assert!(row("read all points, all dimensions", peer).iter().any(|c| c == "skipped (--no-peers)"), "{peer} not listed as skipped");
    }
    assert!(row("convert LAZ → COPC", "copc-converter").iter().any(|c| c == "skipped (--no-peers)"));
    // issue 9's row: both sides converted every point, the repack by copying every node
    let repack = row("EPT → COPC (issue 9)", "**ours: repack EPT (copy path)**");
    assert_eq!(repack[5], "20000");
    assert!(repack[12].contains(" nodes copied, 0 re-encoded"), "{repack:?}");
    assert_eq!(row("EPT → COPC (issue 9)", "ours: rebuild from LAZ")[5], "20000");
    assert!(md.contains("| EPT repack (copy path) ≥ 10× faster than rebuilding from LAZ (issue 9) | town-20k-pdrf7 |"));
    // issue 19's rows: ours with every temp codec on both towns, copc-converter listed
    for input in ["town-30k-pdrf3", "town-30k-pdrf7"] {
        for codec in ["none", "lz4", "zstd", "laz"] {
            let line = md
                .lines()
                .find(|l| l.starts_with(&format!("| convert 30 k | {input} | ours, --temp-compression {codec} |")))
                .unwrap_or_else(|| panic!("no convert 30 k row for {input}, {codec} in:\n{md}"));
            let c: Vec<&str> = line.split('|').map(str::trim).collect();
            assert!(c[5].parse::<f64>().is_ok() && c[8].ends_with("MiB") && c[9].ends_with("MiB"), "{line}");
        }
        assert!(md.contains(&format!("| convert 30 k | {input} | copc-converter |")), "copc-converter not listed for {input}");
    }
}

/// Issue 18's rows alone (`--only-pdal`) on 20 k points: every row lists both stages,
/// each with its timings, or, when PDAL or our plugins are missing, with the reason.
#[test]
fn pdal_rows_run_or_say_why() {
    let md = bench(&["--only-pdal", "--pdal-sizes", "20k", "--runs", "1", "--threads", "2"]);
    assert!(md.contains("### PDAL plugins (issue 18)"), "{md}");
    let rows = [
        ("pdal translate LAZ → COPC", "writers.copcrs", "writers.copc"),
        ("pdal translate LAZ → COPC, --stream, memory_limit=512M", "writers.copcrs", "writers.copc (standard mode: it cannot stream)"),
        ("read all → writers.null (standard mode)", "readers.copcrs", "readers.copc"),
        ("read all → writers.null (--stream)", "readers.copcrs", "readers.copc"),
        ("2-D box, 20% of the area → writers.null (standard mode)", "readers.copcrs", "readers.copc"),
        ("read X/Y/Z → writers.null (standard mode)", "readers.copcrs, dims=X,Y,Z", "readers.copc (all dimensions)"),
    ];
    for (title, ours, peer) in rows {
        for (tool, is_ours) in [(ours, true), (peer, false)] {
            let line = md
                .lines()
                .find(|l| l.starts_with(&format!("| {title} | town-20k-pdrf7 | {tool} |")))
                .unwrap_or_else(|| panic!("no row '{title}' for {tool} in:\n{md}"));
            let c: Vec<&str> = line.split('|').map(str::trim).collect();
            if c[5] == "1" {
                assert!(c[6].parse::<f64>().is_ok() && c[8].ends_with("MiB"), "{line}");
                let peer_ran = md.lines().any(|l| l.starts_with(&format!("| {title} | town-20k-pdrf7 | {peer} |")) && l.split('|').map(str::trim).nth(5) == Some("1"));
                if is_ours && peer_ran {
                    assert!(c[9].parse::<f64>().is_ok(), "no ratio: {line}");
                }
            } else {
                assert!(c[6].starts_with("not available: "), "neither runs nor a reason: {line}");
            }
        }
    }
}

/// Issue 27's rows alone (`--only-arrow`) on 20 k points: both full reads ran on every
/// point; each GDAL line has timings or the reason it could not run.
#[test]
fn arrow_rows_run_or_say_why() {
    let md = bench(&["--only-arrow", "--arrow-sizes", "20k", "--runs", "1", "--threads", "2"]);
    assert!(md.contains("### Arrow (issue 27)"), "{md}");
    let cells = |title: &str, tool: &str| -> Vec<String> {
        let line = md
            .lines()
            .find(|l| l.starts_with(&format!("| {title} | town-20k-pdrf7 | {tool} |")))
            .unwrap_or_else(|| panic!("no row '{title}' for {tool} in:\n{md}"));
        line.split('|').map(|c| c.trim().to_string()).collect()
    };
    for tool in ["Arrow stream (Reader::arrow)", "native column read (Reader::points + write_column)"] {
        let c = cells("full read, every dimension", tool);
        assert!(c[5] == "1" && c[6].parse::<f64>().is_ok(), "{c:?}");
    }
    let gdal = cells("GDAL whole layer: vs GetNextFeature loop, every field", "GetArrowStreamAsNumPy (our OLCFastGetArrowStream)");
    assert!((gdal[5] == "1" && gdal[6].parse::<f64>().is_ok()) || gdal[6].starts_with("not available: "), "{gdal:?}");
}

/// Issue 29's rows alone (`--only-dataset`) on 4 tiles of 2 k points: every row ran
/// (the HTTP rows: or say nginx is not available; the Python rows: or say why the
/// venv cannot run them), and when both box reads ran they found the same points.
#[test]
fn dataset_rows_run_or_say_why() {
    let md = bench(&["--only-dataset", "--dataset-tiles", "4", "--dataset-tile-points", "2k", "--dataset-paper-tiles", "1000", "--runs", "1", "--threads", "2", "--no-install"]);
    assert!(md.contains("### Datasets (issue 29)"), "{md}");
    assert!(md.contains("The collection: 4 COPC tiles of 2000 points each"), "{md}");
    let cells = |title: &str, tool: &str| -> Vec<String> {
        let line = md
            .lines()
            .find(|l| l.starts_with(&format!("| {title} | ")) && l.contains(&format!(" | {tool} | ")))
            .unwrap_or_else(|| panic!("no row '{title}' for {tool} in:\n{md}"));
        line.split('|').map(|c| c.trim().to_string()).collect()
    };
    let rows = [
        ("plan the 5% box over HTTP (open the VPC + Dataset::plan)", "Dataset::plan (Rust)", false),
        ("read the 5% box over HTTP, every point decoded", "Dataset::points (Rust)", false),
        ("parse a 1000-Item VPC in memory + tiles_for (no I/O)", "vpc::parse + tiles_for", true),
        ("aggregate the whole collection (count by class, mean z, min/max gps_time)", "copc.open_dataset().query(), one process", false),
        ("aggregate the whole collection (count by class, mean z, min/max gps_time)", "copc.dask.read on LocalCluster", false),
        ("the 5% box, local files, into NumPy", "copc.open_dataset().query(bounds).to_numpy()", false),
        ("the 5% box, local files, into NumPy", "laspy CopcReader.query per tile in the box", false),
    ];
    for (title, tool, must_run) in rows {
        let c = cells(title, tool);
        if c[5] == "1" {
            assert!(c[6].parse::<f64>().is_ok() && c[8].ends_with("MiB"), "{c:?}");
        } else {
            assert!(!must_run && c[6].starts_with("not available: "), "neither runs nor a reason: {c:?}");
        }
    }
    assert!(!md.contains("the counts differ") && !md.contains("Both give the same answer: **no**"), "{md}");
    assert!(!md.contains("tiles outside were read"), "a request reached a tile outside the box:\n{md}");
}
