//! Issue 18's rows: our PDAL plugins (`writers.copcrs`, `readers.copcrs`, built from
//! `pdal/`) against PDAL's own `writers.copc` / `readers.copc`, each run as a whole
//! `pdal` process (wall, CPU, peak RSS through `worker measure`), at `--pdal-sizes`
//! points of the PDRF 7 town.
//!
//! PDAL is `$PDAL_PREFIX/bin/pdal`, else `pdal` on `PATH`, else
//! `/opt/pdal-2.9.2/bin/pdal`. The plugins come from `$PDAL_DRIVER_PATH`, else the
//! CMake build tree `build/pdal/plugins` (what `scripts/ctest` builds); without them
//! the rows say `not available: <why>`.

use super::inputs;
use super::peers::{MakeCommand, Tool};
use super::report::SectionRow;
use super::{Ctx, Row, capture, run_row};
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

const READER_SO: &str = "libpdal_plugin_reader_copcrs.so";
const WRITER_SO: &str = "libpdal_plugin_writer_copcrs.so";

/// PDAL and our plugins, or why not.
pub struct Pdal {
    pub exe: PathBuf,
    pub plugins: PathBuf,
    pub version: String,
}

/// Finds `pdal` and the folder with both plugins.
pub fn find() -> Result<Pdal, String> {
    let exe = match std::env::var_os("PDAL_PREFIX") {
        Some(p) => PathBuf::from(p).join("bin/pdal"),
        None => {
            let on_path = std::env::var_os("PATH")
                .and_then(|p| std::env::split_paths(&p).map(|d| d.join("pdal")).find(|f| f.is_file()));
            on_path.unwrap_or_else(|| PathBuf::from("/opt/pdal-2.9.2/bin/pdal"))
        }
    };
    if !exe.is_file() {
        return Err(format!("not available: no pdal at {} (set PDAL_PREFIX or PATH)", exe.display()));
    }
    let version = capture(Command::new(&exe).arg("--version"))
        .map_err(|e| format!("not available: {} --version: {e}", exe.display()))?;
    let version = version.lines().find(|l| l.contains("pdal")).unwrap_or("").trim().to_string();
    let plugins = match std::env::var_os("PDAL_DRIVER_PATH") {
        Some(p) => PathBuf::from(p),
        None => super::peers::manifest_dir().join("build/pdal/plugins"),
    };
    for so in [READER_SO, WRITER_SO] {
        if !plugins.join(so).is_file() {
            return Err(format!(
                "not available: no {so} in {} (build pdal/ with scripts/ctest or set PDAL_DRIVER_PATH)",
                plugins.display()
            ));
        }
    }
    let plugins = std::path::absolute(&plugins).unwrap_or(plugins);
    Ok(Pdal { exe, plugins, version })
}

/// A `pdal` command line as a tool; `args` after `pdal`.
fn tool(pdal: &Result<Pdal, String>, name: &str, threads: String, is_ours: bool, args: Vec<String>) -> Tool {
    let command = pdal.as_ref().map_err(Clone::clone).map(|p| {
        let (exe, plugins) = (p.exe.clone(), p.plugins.clone());
        let make: MakeCommand = Box::new(move || {
            let mut c = Command::new(&exe);
            c.args(&args).env("PDAL_DRIVER_PATH", &plugins);
            c
        });
        make
    });
    Tool { name: name.into(), threads, command, is_ours, is_limit: false }
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// The read rows' 20% box ([`inputs::box20`]) as PDAL's 2-D bounds text.
fn box20(copc: &Path) -> Result<String, String> {
    let [x0, y0, x1, y1] = inputs::box20_of(copc)?;
    Ok(format!("([{x0:.3},{x1:.3}],[{y0:.3},{y1:.3}])"))
}

/// Runs the rows at every size.
pub fn run(ctx: &Ctx, sizes: &[u64]) -> Result<(Result<Pdal, String>, Vec<SectionRow>), String> {
    let pdal = find();
    if let Err(e) = &pdal {
        eprintln!("copc-bench: PDAL rows: {e}");
    }
    let n = ctx.args.threads.to_string();
    let large = inputs::parse_size(&ctx.args.large_from)?;
    let mut rows = Vec::new();
    for &points in sizes {
        // without PDAL the rows only say why: no inputs are written for them
        let name = format!("town-{}-pdrf7", inputs::size_label(points));
        let laz_path = if pdal.is_ok() { inputs::town(&ctx.work, points, 7)?.path } else { ctx.work.join(format!("{name}.laz")) };
        let runs = if points >= large { ctx.args.large_runs.max(1) } else { ctx.args.runs };
        let laz = laz_path.to_string_lossy().to_string();
        let out = ctx.work.join("out").join(format!("{name}.pdal-out.copc.laz"));
        let outs = out.to_string_lossy().to_string();
        super::warm(&laz_path);

        // pdal translate LAZ -> COPC, standard mode, then ours streaming
        let write = |stream: bool| {
            let mut ours = s(&["translate", &laz, &outs, "--writer", "writers.copcrs"]);
            ours.push(format!("--writers.copcrs.threads={n}"));
            if stream {
                ours.extend(s(&["--stream", "--writers.copcrs.memory_limit=512M"]));
            } else {
                ours.push("--nostream".into());
            }
            // writers.copc keeps every point in memory and cannot stream: its standard run is the peer
            let mut peer = s(&["translate", &laz, &outs, "--writer", "writers.copc", "--nostream"]);
            peer.push(format!("--writers.copc.threads={n}"));
            let peer_name = if stream { "writers.copc (standard mode: it cannot stream)" } else { "writers.copc" };
            vec![
                tool(&pdal, "writers.copcrs", format!("{n} (threads)"), true, ours),
                tool(&pdal, peer_name, format!("{n} (threads)"), false, peer),
            ]
        };
        for (title, stream) in [("pdal translate LAZ → COPC", false), ("pdal translate LAZ → COPC, --stream, memory_limit=512M", true)] {
            let load = super::report::load_average();
            let cells = run_row(ctx, runs, Row::Pdal, write(stream), |_| {
                let _ = std::fs::remove_file(&out);
            }, |_, _, cell| {
                cell.output_bytes = std::fs::metadata(&out).ok().map(|m| m.len());
            });
            let _ = std::fs::remove_file(&out);
            rows.push(SectionRow { title: title.into(), input: name.clone(), load, cells });
        }

        // reads of our COPC file into writers.null
        let (file, bounds) = if pdal.is_ok() {
            let copc = inputs::copc_of(ctx, &name, &laz_path)?;
            super::warm(&copc);
            (copc.to_string_lossy().to_string(), box20(&copc)?)
        } else {
            (String::new(), String::new())
        };
        let read = |reader: &str, mode: &str, extra: &[String]| {
            let mut a = s(&["translate", &file, "null", "--writer", "writers.null", "--reader", reader, mode]);
            a.push(format!("--{reader}.threads={n}"));
            a.extend(extra.iter().cloned());
            a
        };
        let pair = |mode: &str, extra: &[String]| {
            vec![
                tool(&pdal, "readers.copcrs", format!("{n} (threads)"), true, read("readers.copcrs", mode, &extra.iter().map(|e| e.replace("READER", "readers.copcrs")).collect::<Vec<_>>())),
                tool(&pdal, "readers.copc", format!("{n} (threads)"), false, read("readers.copc", mode, &extra.iter().map(|e| e.replace("READER", "readers.copc")).collect::<Vec<_>>())),
            ]
        };
        let bounds_arg = [format!("--READER.bounds={bounds}")];
        let dims_tools = vec![
            tool(&pdal, "readers.copcrs, dims=X,Y,Z", format!("{n} (threads)"), true, read("readers.copcrs", "--nostream", &s(&["--readers.copcrs.dims=X,Y,Z"]))),
            tool(&pdal, "readers.copc (all dimensions)", format!("{n} (threads)"), false, read("readers.copc", "--nostream", &[])),
        ];
        let read_rows: Vec<(&str, Vec<Tool>)> = vec![
            ("read all → writers.null (standard mode)", pair("--nostream", &[])),
            ("read all → writers.null (--stream)", pair("--stream", &[])),
            ("2-D box, 20% of the area → writers.null (standard mode)", pair("--nostream", &bounds_arg)),
            ("read X/Y/Z → writers.null (standard mode)", dims_tools),
        ];
        for (title, tools) in read_rows {
            let load = super::report::load_average();
            let cells = run_row(ctx, runs, Row::Pdal, tools, |_| {}, |_, _, _| {});
            rows.push(SectionRow { title: title.into(), input: name.clone(), load, cells });
        }
    }
    Ok((pdal, rows))
}

/// The rows as a Markdown table: ours, then the peer, with ours/peer ratios.
pub fn render(ctx: &Ctx, pdal: &Result<Pdal, String>, rows: &[SectionRow]) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "### PDAL plugins (issue 18)\n");
    match pdal {
        Ok(p) => {
            let _ = writeln!(o, "{} with our plugins from `{}`.", p.version, p.plugins.display());
        }
        Err(e) => {
            let _ = writeln!(o, "PDAL: {e}.");
        }
    }
    let _ = writeln!(
        o,
        "Every cell is one whole `pdal translate` process (`--threads {}` for both stages: our `threads` option, PDAL's `threads`); median of the runs; peak RSS is the largest. Ratios are ours / PDAL's own stage (below 1 is better for us). The read rows read our writer's COPC file of the same town.\n",
        ctx.args.threads
    );
    o += &super::report::section_table(rows);
    o
}
