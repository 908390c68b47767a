//! Issue 28's rows: our Python package against laspy 2.7 + lazrs 0.8, both in one
//! venv (by default `target/py-venv`, which `scripts/python-test` fills with the wheel,
//! laspy and lazrs), one fresh Python process per cell, on a real file tiled to
//! `--python-sizes` points and converted to COPC by our writer.
//!
//! Reads (`bench/peers/copc_py_read.py` against `bench/peers/laspy_read.py`): the whole
//! file into NumPy, x/y/z only, a 20%-area 2-D box, and the same box over HTTP (nginx,
//! requests and bytes from its access log). Writing (`bench/peers/py_write.py`): the
//! same NumPy arrays with `copc.write` (COPC) against `laspy.write` (plain LAZ, the
//! closest laspy comes). Threads: `--threads` for ours, `RAYON_NUM_THREADS` for lazrs.

use super::http;
use super::peers::{MakeCommand, Tool, manifest_dir};
use super::report::{SectionRow, load_average, section_table};
use super::{Ctx, Row, capture, inputs, run_row, warm};
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// laspy reads URLs through `requests` (not a dependency of laspy itself).
const REQUESTS_PIP: &str = "requests==2.34.2";

/// The venv's interpreter: `$COPC_BENCH_PYTHON`, else `target/py-venv/bin/python`.
pub fn interpreter() -> PathBuf {
    std::env::var_os("COPC_BENCH_PYTHON").map(PathBuf::from).unwrap_or_else(|| manifest_dir().join("target/py-venv/bin/python"))
}

/// The venv's Python and the versions it holds, or why not.
fn python(install: bool) -> Result<(PathBuf, String), String> {
    let py = interpreter();
    if install && capture(Command::new(&py).args(["-c", "import requests"])).is_err() {
        eprintln!("copc-bench: installing {REQUESTS_PIP} into {} (laspy's HTTP reads)", py.display());
        capture(Command::new(&py).args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", REQUESTS_PIP]))
            .map_err(|e| format!("not available: pip install {REQUESTS_PIP} failed: {e}"))?;
    }
    let probe = "import copc, laspy, requests, importlib.metadata as m; print('copc', copc.__version__, '/ laspy', laspy.__version__, '+ lazrs', m.version('lazrs'))";
    capture(Command::new(&py).args(["-c", probe]))
        .map(|v| (py.clone(), v))
        .map_err(|e| format!("not available: {} cannot import copc, laspy and lazrs (run scripts/python-test, which builds the wheel into target/py-venv, or set COPC_BENCH_PYTHON): {e}", py.display()))
}

fn script(name: &str) -> PathBuf {
    manifest_dir().join("bench/peers").join(name)
}

/// One cell: `python SCRIPT ARGS...`, ours taking `--threads`.
fn tool(py: &Result<(PathBuf, String), String>, name: &str, script_name: &str, args: Vec<String>, threads: usize, is_ours: bool) -> Tool {
    let command = py.as_ref().map_err(Clone::clone).map(|(python, _)| {
        let (python, script, mut args) = (python.clone(), script(script_name), args);
        if is_ours {
            args.extend(["--threads".to_string(), threads.to_string()]);
        }
        let make: MakeCommand = Box::new(move || {
            let mut c = Command::new(&python);
            c.arg(&script).args(&args);
            c
        });
        make
    });
    let threads = if is_ours { format!("{threads} (threads=)") } else { format!("{threads} (RAYON_NUM_THREADS)") };
    Tool { name: name.into(), threads, command, is_ours, is_limit: false }
}

/// A read row: ours and laspy on `source` with the same extra arguments.
fn read_pair(py: &Result<(PathBuf, String), String>, source: &str, extra: &[&str], threads: usize) -> Vec<Tool> {
    let args: Vec<String> = std::iter::once(source.to_string()).chain(extra.iter().map(|s| s.to_string())).collect();
    vec![
        tool(py, "copc (Python): query().to_numpy()", "copc_py_read.py", args.clone(), threads, true),
        tool(py, "laspy CopcReader.query()", "laspy_read.py", args, threads, false),
    ]
}

/// The read rows' 20% box ([`inputs::box20`]) as `minx,miny,maxx,maxy`.
fn box20(copc: &Path) -> Result<String, String> {
    let [x0, y0, x1, y1] = inputs::box20_of(copc)?;
    Ok(format!("{x0:.3},{y0:.3},{x1:.3},{y1:.3}"))
}

/// Runs the rows at every size; returns the section's Markdown.
pub fn section(ctx: &Ctx, sizes: &[u64]) -> Result<String, String> {
    let py = python(!ctx.args.no_install);
    if let Err(e) = &py {
        eprintln!("copc-bench: Python rows: {e}");
    }
    let data = std::env::var_os("COPC_TEST_DATA").map(PathBuf::from).unwrap_or_else(|| manifest_dir().join("../shared/data"));
    let src = data.join("pdal_lone-star.copc.laz");
    let large = inputs::parse_size(&ctx.args.large_from)?;
    let n = ctx.args.threads;
    let nginx = http::Nginx::start(&ctx.work);
    let mut rows = Vec::new();
    let mut http_lines = Vec::new();
    for &points in sizes {
        let laz = inputs::tiled(&ctx.work, &src, points)?;
        let copc = inputs::copc_of(ctx, &laz.name, &laz.path)?;
        let runs = if laz.points >= large { ctx.args.large_runs.max(1) } else { ctx.args.runs };
        let file = copc.to_string_lossy().to_string();
        let bx = box20(&copc)?;
        warm(&copc);
        let mut row = |title: &str, tools: Vec<Tool>| {
            let load = load_average();
            let cells = run_row(ctx, runs, Row::Python, tools, |_| {}, |_, _, _| {});
            rows.push(SectionRow { title: title.into(), input: laz.name.clone(), load, cells });
        };
        row("full read into NumPy, every dimension", read_pair(&py, &file, &[], n));
        row("x, y, z only", read_pair(&py, &file, &["--xyz"], n));
        row("20%-area 2-D box, every dimension", read_pair(&py, &file, &["--bounds", &bx], n));

        // the same box over HTTP: nginx serves the work folder, which holds the file
        let (tools, log) = match &nginx {
            Ok(ng) => {
                let url = format!("{}/{}", ng.url, copc.file_name().and_then(|s| s.to_str()).unwrap_or_default());
                (read_pair(&py, &url, &["--bounds", &bx], n), Some(ng.log.clone()))
            }
            Err(e) => {
                let mut t = read_pair(&py, "", &[], n);
                t.iter_mut().for_each(|t| t.command = Err(format!("not available: {e}")));
                (t, None)
            }
        };
        let mark = std::cell::Cell::new(0u64);
        let load = load_average();
        let cells = run_row(
            ctx,
            runs,
            Row::Python,
            tools,
            |_| mark.set(log.as_ref().and_then(|l| std::fs::metadata(l).ok()).map_or(0, |m| m.len())),
            |_, _, cell| {
                if let Some(l) = &log {
                    cell.http = Some(http::count_since(l, mark.get()));
                }
            },
        );
        for c in &cells {
            if let Some((req, bytes)) = c.http {
                http_lines.push(format!("| {} | {} | {req} | {bytes} |", laz.name, c.tool));
            }
        }
        rows.push(SectionRow { title: "the 20% box over HTTP (nginx)".into(), input: laz.name.clone(), load, cells });

        // writing the same arrays: COPC by us, plain LAZ by laspy
        let out = |t: &str| ctx.work.join("out").join(format!("{}.py-write.{t}", laz.name)).to_string_lossy().to_string();
        let (ours_out, laspy_out) = (out("copc.laz"), out("laz"));
        let input = laz.path.to_string_lossy().to_string();
        let tools = vec![
            tool(&py, "copc.write (COPC)", "py_write.py", vec!["copc".into(), input.clone(), ours_out.clone()], n, true),
            tool(&py, "laspy.write (plain LAZ, lazrs parallel)", "py_write.py", vec!["laspy".into(), input, laspy_out.clone()], n, false),
        ];
        let load = load_average();
        let cells = run_row(ctx, runs, Row::Python, tools, |_| {}, |_, _, _| {});
        rows.push(SectionRow { title: "write from NumPy arrays (load untimed)".into(), input: laz.name.clone(), load, cells });
        let _ = std::fs::remove_file(&ours_out);
        let _ = std::fs::remove_file(&laspy_out);
    }
    if let Ok(ng) = nginx {
        ng.stop();
    }
    let mut o = String::new();
    let _ = writeln!(o, "### Python (issue 28)\n");
    match &py {
        Ok((python, versions)) => {
            let _ = writeln!(o, "{versions}, in {}.", python.display());
        }
        Err(e) => {
            let _ = writeln!(o, "Python: {e}.");
        }
    }
    let _ = writeln!(
        o,
        "The input is `pdal_lone-star.copc.laz` tiled side by side, converted to COPC by our writer. Each cell is one fresh Python process; wall and CPU are what the script measures around open + query + arrays (imports excluded) or around the write alone (the arrays are loaded with laspy first, untimed). Ours runs with `threads={}`, laspy/lazrs with `RAYON_NUM_THREADS={}`. Median of the runs; peak RSS is the largest (the whole process, arrays included). Ratios are ours / laspy: below 1 is better for us.\n",
        n, n
    );
    o += &section_table(&rows);
    if !http_lines.is_empty() {
        let _ = writeln!(o, "\nHTTP requests and bytes of the box query (nginx access log, one run):\n");
        let _ = writeln!(o, "| input | tool | requests | bytes |\n|---|---|---|---|");
        for l in http_lines {
            let _ = writeln!(o, "{l}");
        }
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_box_is_a_fifth_of_the_area_and_centred() {
        let d = tempfile::tempdir().unwrap();
        let laz = d.path().join("s.laz");
        copc::sample::write_sample(&laz, &copc::sample::SampleOptions { points: 5000, format: 7, compressed: true, ..Default::default() }).unwrap();
        let out = d.path().join("s.copc.laz");
        copc::writer::translate(&[&laz], &out, &Default::default()).unwrap();
        let h = copc::Reader::open(&out).unwrap().header().clone();
        let v: Vec<f64> = super::box20(&out).unwrap().split(',').map(|s| s.parse().unwrap()).collect();
        let area = (v[2] - v[0]) * (v[3] - v[1]) / ((h.max[0] - h.min[0]) * (h.max[1] - h.min[1]));
        assert!((area - 0.2).abs() < 1e-3, "{area}");
        assert!(((v[0] + v[2]) / 2.0 - (h.min[0] + h.max[0]) / 2.0).abs() < 1e-3);
    }
}
