//! Issue 19's rows: "convert 100 M" (part of every run, `--convert-large`) and
//! "convert 1 B" (`--convert-1b`: run once, kept in `bench/convert-1b.md` with its
//! date, which every report includes). Ours with each `--temp-compression` against
//! copc-converter, with the run's `--memory-limit` and `--threads`, on the generated
//! towns (PDRF 3 and 7) and the real file tiled to the same size: wall, CPU, peak RSS,
//! peak temp disk (allocated blocks of the temp folder, sampled every 50 ms) and
//! output size.

use super::inputs::{self, Input};
use super::peers::{MakeCommand, Tool};
use super::{Cell, Ctx, Row, report, run_row};
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct LargeResult {
    pub input: Input,
    pub load: String,
    pub cells: Vec<Cell>,
}

/// The tools of the rows: ours with each temp codec, then copc-converter and untwine.
fn tools(ctx: &Ctx, input: &Path, out_for: &dyn Fn(&str) -> PathBuf) -> Vec<Tool> {
    let n = ctx.args.threads;
    let mut tools = Vec::new();
    for codec in &ctx.args.large_codecs {
        let codec = codec.clone();
        let is_ours = codec == "lz4";
        let name = format!("ours, --temp-compression {codec}");
        let (exe, i, o, t, mem) = (ctx.exe.clone(), input.to_path_buf(), out_for(&name), ctx.work.join("tmp"), ctx.args.memory_limit.clone());
        let make: MakeCommand = Box::new(move || {
            let mut c = Command::new(&exe);
            c.args(["worker", "convert"]).arg(&i).arg(&o).args(["--threads", &n.to_string(), "--memory-limit", &mem, "--temp-compression", &codec, "--temp-dir"]).arg(&t);
            c
        });
        tools.push(Tool { name, threads: format!("{n} (--threads)"), command: Ok(make), is_ours, is_limit: false });
    }
    tools.extend(ctx.peers.converters(ctx, input, out_for).into_iter().filter(|t| t.name == "copc-converter"));
    tools.push(ctx.peers.untwine_tool(ctx, input, out_for));
    tools
}

/// Runs the rows at `points` points: towns of PDRF 3 and 7, and `real` tiled.
pub fn run(ctx: &Ctx, points: u64, real: Option<&Path>) -> Result<Vec<LargeResult>, String> {
    let mut list = Vec::new();
    for which in &ctx.args.large_inputs {
        match (which.as_str(), real) {
            ("town3", _) => list.push(inputs::town(&ctx.work, points, 3)?),
            ("town7", _) => list.push(inputs::town(&ctx.work, points, 7)?),
            ("real", Some(src)) => list.push(inputs::tiled(&ctx.work, src, points)?),
            ("real", None) => {}
            (other, _) => return Err(format!("--large-inputs: unknown input {other:?} (expected town3, town7 or real)")),
        }
    }
    let mut results = Vec::new();
    for input in list {
        eprintln!("copc-bench: convert {} ({} points)", input.name, input.points);
        let load = report::load_average();
        super::warm(&input.path);
        let outs = ctx.work.join("out");
        let out_for = |tool: &str| outs.join(format!("{}.{}.copc.laz", input.name, tool.replace([' ', ','], "-")));
        let tmp = ctx.work.join("tmp");
        let cells = run_row(
            ctx,
            1,
            Row::ConvertLarge,
            tools(ctx, &input.path, &out_for),
            |t| {
                let _ = std::fs::remove_file(out_for(&t.name));
                // each run starts from an empty temp folder, so its peak is its own
                let _ = std::fs::remove_dir_all(&tmp);
                let _ = std::fs::create_dir_all(&tmp);
            },
            |t, _run, cell| {
                cell.output_bytes = std::fs::metadata(out_for(&t.name)).ok().map(|m| m.len());
                let _ = std::fs::remove_file(out_for(&t.name));
            },
        );
        results.push(LargeResult { input, load, cells });
    }
    Ok(results)
}

fn mib(b: u64) -> String {
    format!("{:.0} MiB", b as f64 / 1048576.0)
}

/// The rows as a Markdown table, one line per input and tool.
pub fn render(title: &str, ctx: &Ctx, results: &[LargeResult]) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "### {title}\n");
    let _ = writeln!(
        o,
        "`--memory-limit {}`, {} threads, one run each. Wall and CPU of the whole conversion; temp disk = peak allocated bytes in the temp folder.\n",
        ctx.args.memory_limit, ctx.args.threads
    );
    let _ = writeln!(o, "| {title} | input | tool | load at start | wall s | CPU s | peak RSS | peak temp disk | output | wall vs copc-converter |");
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|---|");
    for r in results {
        let peer = r.cells.iter().find(|c| c.tool == "copc-converter").and_then(Cell::wall);
        for c in &r.cells {
            let Some(run) = c.runs.first() else {
                let _ = writeln!(o, "| {title} | {} | {} | {} | {} | | | | | |", r.input.name, c.tool, r.load, c.error.clone().unwrap_or_default());
                continue;
            };
            let ratio = match (peer, c.tool != "copc-converter") {
                (Some(p), true) => format!("{:.2}×", p / run.process_wall),
                _ => String::new(),
            };
            let _ = writeln!(
                o,
                "| {title} | {} | {} | {} | {:.1} | {:.1} | {} | {} | {} | {ratio} |",
                r.input.name,
                c.tool,
                r.load,
                run.process_wall,
                run.cpu,
                mib(run.peak_rss),
                temp_peak(run).map(mib).unwrap_or_else(|| "?".into()),
                c.output_bytes.map(mib).unwrap_or_else(|| "?".into()),
            );
        }
    }
    o
}

/// Peak temp disk of a run: the folder's sampled peak, or ours' own account when
/// larger (our chunks' temp file is unnamed, so the folder walk cannot see it).
fn temp_peak(run: &super::measure::Run) -> Option<u64> {
    let own = run.json.get("peak_temp_bytes").and_then(|v| v.as_u64());
    match (run.peak_disk, own) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Where the "convert 1 B" results are kept between runs.
pub fn billion_file() -> PathBuf {
    super::peers::manifest_dir().join("bench/convert-1b.md")
}
