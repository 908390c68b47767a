//! Issue 27's rows: the Arrow face against the paths it replaces, on our COPC file of
//! the PDRF 7 town at `--arrow-sizes` points.
//!
//! 1. A full read (every dimension) through `Reader::arrow` against our native column
//!    read of the same query (`Reader::points` + `write_column` per dimension): the
//!    stream should add no copy (target ≤ 1.05x).
//! 2. GDAL, one Python process per cell (Debian's `python3-gdal`, `bench/gdal_arrow.py`),
//!    our plugin: `GetArrowStreamAsNumPy()` over the whole layer against a
//!    `GetNextFeature()` loop reading every field (target ≥ 10x) and against GDAL's
//!    generic stream, forced by an attribute filter that keeps every point (≥ 5x).
//!
//! The plugin is `ogr_COPC.so` in `$GDAL_DRIVER_PATH`, else the CMake build tree
//! `build/gdal/gdalplugins` (what `scripts/ctest` builds); Python is
//! `$COPC_GDAL_PYTHON`, else `/usr/bin/python3`.

use super::peers::{MakeCommand, Tool};
use super::report::{SectionRow, load_average, section_table};
use super::{Cell, Ctx, Row, capture, inputs, run_row};
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's Python with GDAL's bindings and the folder holding our plugin, or why not.
fn gdal() -> Result<(PathBuf, PathBuf, String), String> {
    let python = std::env::var_os("COPC_GDAL_PYTHON").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/bin/python3"));
    let version = capture(Command::new(&python).args(["-c", "from osgeo import gdal; print(gdal.__version__)"]))
        .map_err(|e| format!("not available: {} cannot import osgeo.gdal (apt-get install python3-gdal): {e}", python.display()))?;
    let plugins = match std::env::var_os("GDAL_DRIVER_PATH") {
        Some(p) => PathBuf::from(p),
        None => super::peers::manifest_dir().join("build/gdal/gdalplugins"),
    };
    if !plugins.join("ogr_COPC.so").is_file() {
        return Err(format!("not available: no ogr_COPC.so in {} (build gdal/ with scripts/ctest or set GDAL_DRIVER_PATH)", plugins.display()));
    }
    let plugins = std::path::absolute(&plugins).unwrap_or(plugins);
    Ok((python, plugins, format!("GDAL {version}")))
}

fn worker(ctx: &Ctx, name: &str, sub: &'static str, file: &Path, is_ours: bool) -> Tool {
    let (exe, file, n) = (ctx.exe.clone(), file.to_path_buf(), ctx.args.threads);
    let make: MakeCommand = Box::new(move || {
        let mut c = Command::new(&exe);
        c.args(["worker", sub]).arg(&file).args(["--threads", &n.to_string()]);
        c
    });
    Tool { name: name.into(), threads: format!("{n} (--threads)"), command: Ok(make), is_ours, is_limit: false }
}

fn gdal_tool(g: &Result<(PathBuf, PathBuf, String), String>, name: &str, mode: &'static str, file: &Path, is_ours: bool) -> Tool {
    let script = super::peers::manifest_dir().join("bench/gdal_arrow.py");
    let command = g.as_ref().map_err(Clone::clone).map(|(python, plugins, _)| {
        let (python, plugins, file) = (python.clone(), plugins.clone(), file.to_path_buf());
        let make: MakeCommand = Box::new(move || {
            let mut c = Command::new(&python);
            c.arg(&script).arg(mode).arg(&file).env("GDAL_DRIVER_PATH", &plugins);
            c
        });
        make
    });
    Tool { name: name.into(), threads: "plugin default (all cores)".into(), command, is_ours, is_limit: false }
}

/// Runs the rows at every size; returns the section's Markdown.
pub fn section(ctx: &Ctx, sizes: &[u64]) -> Result<String, String> {
    let g = gdal();
    if let Err(e) = &g {
        eprintln!("copc-bench: GDAL Arrow rows: {e}");
    }
    let large = inputs::parse_size(&ctx.args.large_from)?;
    let features_max = inputs::parse_size(&ctx.args.arrow_features_max)?;
    let mut rows = Vec::new();
    for &points in sizes {
        let name = format!("town-{}-pdrf7", inputs::size_label(points));
        let laz = inputs::town(&ctx.work, points, 7)?;
        let copc = inputs::copc_of(ctx, &name, &laz.path)?;
        let runs = if points >= large { ctx.args.large_runs.max(1) } else { ctx.args.runs };
        super::warm(&copc);

        let load = load_average();
        let tools = vec![
            worker(ctx, "Arrow stream (Reader::arrow)", "arrow-read", &copc, true),
            worker(ctx, "native column read (Reader::points + write_column)", "column-read", &copc, false),
        ];
        let cells = run_row(ctx, runs, Row::Arrow, tools, |_| {}, |_, _, _| {});
        rows.push(SectionRow { title: "full read, every dimension".into(), input: name.clone(), load, cells });

        let load = load_average();
        let tools = vec![
            gdal_tool(&g, "GetArrowStreamAsNumPy (our OLCFastGetArrowStream)", "numpy", &copc, true),
            if points <= features_max {
                gdal_tool(&g, "GetNextFeature loop, every field", "features", &copc, false)
            } else {
                let why = format!("not run above --arrow-features-max {} (~50 µs a point in Python)", inputs::size_label(features_max));
                Tool { name: "GetNextFeature loop, every field".into(), threads: String::new(), command: Err(why), is_ours: false, is_limit: false }
            },
            gdal_tool(&g, "GDAL's generic stream (attribute filter keeping all)", "generic", &copc, false),
        ];
        let cells = run_row(ctx, runs, Row::Arrow, tools, |_| {}, |_, _, _| {});
        // two comparisons with the same cell of ours: one row each
        let ours: Vec<Cell> = cells.iter().filter(|c| c.is_ours).cloned().collect();
        for other in cells.iter().filter(|c| !c.is_ours) {
            let mut pair = ours.clone();
            pair.push(other.clone());
            rows.push(SectionRow { title: format!("GDAL whole layer: vs {}", other.tool), input: name.clone(), load: load.clone(), cells: pair });
        }
    }
    let mut o = String::new();
    let _ = writeln!(o, "### Arrow (issue 27)\n");
    match &g {
        Ok((python, plugins, version)) => {
            let _ = writeln!(o, "{version} through {} with our plugin from `{}`.", python.display(), plugins.display());
        }
        Err(e) => {
            let _ = writeln!(o, "GDAL: {e}.");
        }
    }
    let _ = writeln!(
        o,
        "The input is our COPC file of the PDRF 7 town. The full-read cells are `copc-bench worker arrow-read` / `column-read` (`--threads {}`): every dimension of every point, each batch checksummed over its columns, then dropped. The GDAL cells are one `bench/gdal_arrow.py` process each (open + whole layer; every field and the geometry touched). Median of the runs (one run at {} points and above, or when a run takes over {} s); peak RSS is the largest. Ratios are ours / the other line: below 1 is better for us.\n",
        ctx.args.threads,
        inputs::size_label(large),
        ctx.args.slow_run_seconds
    );
    o += &section_table(&rows);
    Ok(o)
}
