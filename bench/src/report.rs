//! BENCHMARKS.md: the machine, the method, the targets of issue 7 and where we
//! stand, one table per input, scaling, and profiles of our read and convert.

use super::{Cell, Ctx, InputResult, Row, capture, peers};
use std::fmt::Write;
use std::process::Command;

pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).map(|s| s.trim().to_string()))
        .unwrap_or_else(|| "unknown".into())
}

fn mem_total() -> String {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("MemTotal")).and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<f64>().ok()))
        .map(|kib| format!("{:.1} GiB", kib / 1048576.0))
        .unwrap_or_else(|| "unknown".into())
}

fn secs(v: f64) -> String {
    if v < 0.1 { format!("{v:.4}") } else if v < 10.0 { format!("{v:.3}") } else { format!("{v:.1}") }
}

fn mib(b: u64) -> String {
    format!("{:.0}", b as f64 / 1048576.0)
}

fn mb(b: u64) -> String {
    format!("{:.1} MB", b as f64 / 1e6)
}

/// The fastest peer (not ours, not the laz-rs limit) with results in a row.
fn fastest_peer(r: &InputResult, row: Row) -> Option<&Cell> {
    r.cells.iter().filter(|c| c.row == row && !c.is_ours && !c.is_limit && c.wall().is_some()).min_by(|a, b| a.wall().unwrap_or(f64::MAX).total_cmp(&b.wall().unwrap_or(f64::MAX)))
}

/// The same comparison in CPU time: " (CPU 1.23×)".
fn cpu_note(r: &InputResult, row: Row, peer: &Cell) -> String {
    match (r.ours(row).and_then(Cell::cpu), peer.cpu()) {
        (Some(o), Some(p)) => format!(" (CPU {:.2}×)", p / o),
        _ => String::new(),
    }
}

/// A "≥ k× faster" target: met, or missed by how much of the target speed-up.
fn speed_status(speedup: f64, target: f64) -> String {
    if speedup >= target { "**met**".into() } else { format!("**missed** by {:.0}%", (1.0 - speedup / target) * 100.0) }
}

struct Target {
    what: String,
    input: String,
    value: String,
    status: String,
}

fn targets(ctx: &Ctx, results: &[InputResult]) -> Vec<Target> {
    let mut t = Vec::new();
    for r in results {
        let name = r.input.name.clone();
        if r.input.read_rows {
            if let (Some(o), Some(p)) = (r.ours(Row::ReadAll).and_then(Cell::wall), fastest_peer(r, Row::ReadAll)) {
                let s = p.wall().unwrap_or(f64::NAN) / o;
                t.push(Target { what: "read all ≥ 1.5× faster than the fastest peer".into(), input: name.clone(), value: format!("{s:.2}× vs {}{}", p.tool, cpu_note(r, Row::ReadAll, p)), status: speed_status(s, 1.5) });
            }
            // the limit at the same thread count as ours (the last laz-rs cell)
            let limit = r.cells.iter().rfind(|c| c.row == Row::ReadAll && c.is_limit).and_then(|c| c.wall().map(|w| (w, c.tool.clone())));
            if let (Some(o), Some((l, tool))) = (r.ours(Row::ReadAll).and_then(Cell::wall), limit) {
                let ratio = o / l;
                let cpu = match (r.ours(Row::ReadAll).and_then(Cell::cpu), r.cells.iter().rfind(|c| c.row == Row::ReadAll && c.is_limit).and_then(Cell::cpu)) {
                    (Some(a), Some(b)) => format!(" (CPU {:.2})", a / b),
                    _ => String::new(),
                };
                let status = if ratio <= 1.10 { "**met**".to_string() } else { format!("**missed** by {:.0}% (ours takes {:.0}% longer)", (ratio - 1.10) / 1.10 * 100.0, (ratio - 1.0) * 100.0) };
                t.push(Target { what: "read all within 10% of the laz-rs decode limit".into(), input: name.clone(), value: format!("ours ÷ {tool} = {ratio:.2}{cpu}"), status });
            }
            if let (Some(full), Some(xyz)) = (r.ours(Row::ReadAll), r.ours(Row::ReadXyz))
                && let (Some(fw), Some(xw), Some(fc), Some(xc)) = (full.wall(), xyz.wall(), full.cpu(), xyz.cpu())
            {
                let s = fw / xw;
                t.push(Target { what: "X/Y/Z only ≥ 2× faster than our full read".into(), input: name.clone(), value: format!("{s:.2}× (CPU {:.2}×)", fc / xc), status: speed_status(s, 2.0) });
            }
            if let (Some(o), Some(p)) = (r.ours(Row::BoxQuery).and_then(Cell::wall), fastest_peer(r, Row::BoxQuery)) {
                let s = p.wall().unwrap_or(f64::NAN) / o;
                t.push(Target { what: "box query ≥ 2× faster than the fastest peer".into(), input: name.clone(), value: format!("{s:.2}× vs {}{}", p.tool, cpu_note(r, Row::BoxQuery, p)), status: speed_status(s, 2.0) });
            }
            let http = |tool_ours: bool| r.cells.iter().find(|c| c.row == Row::HttpBox && c.is_ours == tool_ours && c.http.is_some()).and_then(|c| c.http);
            if let (Some((oq, ob)), Some((pq, pb))) = (http(true), http(false)) {
                let fewer = oq < pq;
                let no_more = ob <= pb;
                let status = match (fewer, no_more) {
                    (true, true) => "**met**".to_string(),
                    _ => format!(
                        "**missed**:{}{}",
                        if fewer { String::new() } else { format!(" {oq} requests vs {pq}") },
                        if no_more { String::new() } else { format!(" {:.1}% more bytes", (ob as f64 / pb.max(1) as f64 - 1.0) * 100.0) }
                    ),
                };
                t.push(Target {
                    what: "HTTP box query: fewer requests, no more bytes than laspy".into(),
                    input: name.clone(),
                    value: format!("{oq} req / {} vs {pq} req / {}", mb(ob), mb(pb)),
                    status,
                });
            }
        }
        let (repack, rebuild) = (r.ours(Row::EptRepack), r.cells.iter().find(|c| c.row == Row::EptRepack && !c.is_ours));
        if let (Some(o), Some(b)) = (repack.and_then(Cell::wall), rebuild.and_then(Cell::wall)) {
            let s = b / o;
            let cpu = match (repack.and_then(Cell::cpu), rebuild.and_then(Cell::cpu)) {
                (Some(a), Some(c)) => format!(" (CPU {:.2}×)", c / a),
                _ => String::new(),
            };
            t.push(Target { what: "EPT repack (copy path) ≥ 10× faster than rebuilding from LAZ (issue 9)".into(), input: name.clone(), value: format!("{s:.2}×{cpu}"), status: speed_status(s, 10.0) });
        }
        let ours = r.ours(Row::Convert);
        let conv = r.cell(Row::Convert, "copc-converter");
        if let (Some(o), Some(c)) = (ours.and_then(Cell::wall), conv.and_then(Cell::wall)) {
            let s = c / o;
            let cpu = match (ours.and_then(Cell::cpu), conv.and_then(Cell::cpu)) {
                (Some(a), Some(b)) => format!(" (CPU {:.2}×)", b / a),
                _ => String::new(),
            };
            t.push(Target { what: "convert ≥ 1.5× faster than copc-converter".into(), input: name.clone(), value: format!("{s:.2}×{cpu}"), status: speed_status(s, 1.5) });
        }
        if let Some(rss) = ours.and_then(Cell::peak_rss) {
            let lim = ctx.memory_limit_bytes;
            let status = if rss < lim { "**met**".into() } else { format!("**missed** by {:.0}%", (rss as f64 / lim as f64 - 1.0) * 100.0) };
            t.push(Target { what: format!("convert peak RSS under --memory-limit {}", ctx.args.memory_limit), input: name.clone(), value: format!("{} MiB", mib(rss)), status });
        }
        if let (Some(ob), Some(cb)) = (ours.and_then(|c| c.output_bytes), conv.and_then(|c| c.output_bytes)) {
            let d = (ob as f64 / cb as f64 - 1.0) * 100.0;
            let status = if d.abs() <= 5.0 { "**met**".into() } else { format!("**missed** by {:.1} points", d.abs() - 5.0) };
            t.push(Target { what: "convert output size within 5% of copc-converter's".into(), input: name.clone(), value: format!("{} vs {} ({d:+.1}%)", mb(ob), mb(cb)), status });
        }
    }
    t
}

fn input_table(out: &mut String, r: &InputResult) {
    let _ = writeln!(out, "| row | tool | threads | runs | points | wall s (median) | Mpoints/s | CPU s (median) | peak RSS MiB | ours ÷ peer, wall | ours ÷ peer, CPU | notes |");
    let _ = writeln!(out, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    let rows = [Row::ReadAll, Row::ReadXyz, Row::BoxQuery, Row::ResolutionQuery, Row::HttpBox, Row::Convert, Row::EptRepack];
    for row in rows {
        let ours_wall = r.ours(row).and_then(Cell::wall);
        let ours_cpu = r.ours(row).and_then(Cell::cpu);
        for c in r.cells.iter().filter(|c| c.row == row) {
            let Some(w) = c.wall() else {
                let _ = writeln!(out, "| {} | {} | {} | 0 | | | | | | | | {} |", row.title(), c.tool, c.threads, c.error.as_deref().unwrap_or("no result"));
                continue;
            };
            let pts = match row {
                Row::Convert | Row::EptRepack => c.points().unwrap_or(r.input.points),
                _ => c.points().unwrap_or(0),
            };
            let ratio = |ours: Option<f64>, peer: Option<f64>| match (c.is_ours, ours, peer) {
                (true, _, _) => "—".to_string(),
                (false, Some(o), Some(p)) => format!("{:.2}", o / p),
                _ => String::new(),
            };
            let (ratio_wall, ratio_cpu) = (ratio(ours_wall, Some(w)), ratio(ours_cpu, c.cpu()));
            let mut notes = Vec::new();
            if let Some(b) = c.output_bytes {
                notes.push(format!("output {}", mb(b)));
            }
            if let Some((q, b)) = c.http {
                notes.push(format!("{q} requests, {}", mb(b)));
            }
            let last = c.runs.last().map(|r| &r.json);
            if let (Some(n), Some(d)) = (last.and_then(|j| j.get("nodes")).and_then(|v| v.as_u64()), last.and_then(|j| j.get("decoded")).and_then(|v| v.as_u64()))
                && row != Row::ReadAll
            {
                notes.push(format!("decoded {d} points in {n} nodes"));
            }
            if let (Row::HttpBox, Some(q), Some(b)) = (row, last.and_then(|j| j.get("requests")).and_then(|v| v.as_u64()), last.and_then(|j| j.get("bytes")).and_then(|v| v.as_u64())) {
                notes.push(format!("its own count (`--stats`): {q} requests, {}", mb(b)));
            }
            if let Some(true) = last.and_then(|j| j.get("spilled")).and_then(|v| v.as_bool()) {
                let t = last.and_then(|j| j.get("peak_temp_bytes")).and_then(|v| v.as_u64()).unwrap_or(0);
                notes.push(format!("spilled to disk (up to {} of temp files)", mb(t)));
            }
            if let Some(note) = c.runs.last().and_then(|r| r.json.get("note")).and_then(|n| n.as_str()) {
                notes.push(note.to_string());
            }
            if let Some(e) = &c.error {
                notes.push(e.clone());
            }
            if c.is_limit {
                notes.push("limit, not a peer".into());
            }
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {:.2} | {} | {} | {} | {} | {} |",
                row.title(),
                if c.is_ours { format!("**{}**", c.tool) } else { c.tool.clone() },
                c.threads,
                c.runs.len(),
                pts,
                secs(w),
                pts as f64 / w / 1e6,
                c.cpu().map(secs).unwrap_or_default(),
                c.peak_rss().map(mib).unwrap_or_default(),
                ratio_wall,
                ratio_cpu,
                notes.join("; ")
            );
        }
    }
}

fn scaling(out: &mut String, results: &[InputResult]) {
    let _ = writeln!(out, "| input | points | ours read all ns/point | ours read RSS MiB | laspy read all ns/point | laspy RSS MiB | ours convert ns/point | ours convert RSS MiB | copc-converter ns/point | copc-converter RSS MiB |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let ns = |c: Option<&Cell>, n: u64| c.and_then(Cell::wall).map(|w| format!("{:.0}", w * 1e9 / n.max(1) as f64)).unwrap_or_else(|| "—".into());
    let rss = |c: Option<&Cell>| c.and_then(Cell::peak_rss).map(mib).unwrap_or_else(|| "—".into());
    for r in results.iter().filter(|r| r.input.name.starts_with("town-")) {
        let n = r.input.points;
        let (ra, la) = (r.ours(Row::ReadAll), r.cell(Row::ReadAll, "laspy"));
        let (co, cc) = (r.ours(Row::Convert), r.cell(Row::Convert, "copc-converter"));
        let _ = writeln!(out, "| {} | {n} | {} | {} | {} | {} | {} | {} | {} | {} |", r.input.name, ns(ra, n), rss(ra), ns(la, n), rss(la), ns(co, n), rss(co), ns(cc, n), rss(cc));
    }
}

/// perf profiles of our full read and our convert on the largest inputs: the top
/// symbols by self time. (title, command, top lines) or why there is none.
pub fn profiles(ctx: &Ctx, results: &[InputResult]) -> Vec<(String, String, Result<String, String>)> {
    let mut v = Vec::new();
    if capture(Command::new("perf").arg("--version")).is_err() {
        v.push(("profiles".into(), String::new(), Err("perf is not installed (apt-get install linux-perf)".into())));
        return v;
    }
    let n = ctx.args.threads.to_string();
    let read_in = results.iter().filter(|r| r.input.read_rows && r.copc_bytes.is_some()).max_by_key(|r| r.input.points);
    let conv_in = results.iter().filter(|r| r.copc_bytes.is_some() && r.input.name.ends_with("pdrf7")).max_by_key(|r| r.input.points);
    let mut jobs = Vec::new();
    if let Some(r) = read_in {
        let copc = ctx.work.join(format!("{}.copc.laz", r.input.name));
        jobs.push((format!("ours, read all, {}", r.input.name), vec!["worker".to_string(), "read".into(), copc.to_string_lossy().into(), "--threads".into(), n.clone()]));
    }
    if let Some(r) = conv_in {
        let out = ctx.work.join("out/profile.copc.laz");
        jobs.push((
            format!("ours, convert, {}", r.input.name),
            vec!["worker".into(), "convert".into(), r.input.path.to_string_lossy().into(), out.to_string_lossy().into(), "--threads".into(), n.clone(), "--memory-limit".into(), ctx.args.memory_limit.clone(), "--temp-dir".into(), ctx.work.join("tmp").to_string_lossy().into()],
        ));
    }
    for (i, (title, wargs)) in jobs.into_iter().enumerate() {
        let data = ctx.work.join(format!("perf-{i}.data"));
        let mut rec = Command::new("perf");
        rec.args(["record", "-F", "499", "-o"]).arg(&data).arg("--").arg(&ctx.exe).args(&wargs);
        peers::set_threads(&mut rec, ctx.args.threads);
        let shown = format!("perf record -F 499 -- copc-bench {}", wargs.join(" ").replace(&*ctx.work.to_string_lossy(), "$WORK"));
        eprintln!("copc-bench: profiling {title}");
        let res = capture(&mut rec).and_then(|_| {
            capture(Command::new("perf").args(["report", "--stdio", "--no-children", "--sort", "symbol", "--percent-limit", "1.5", "-q", "-i"]).arg(&data))
        });
        let res = res.map(|text| {
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .take(20)
                .map(|l| {
                    let l = l.trim();
                    let mut parts = l.splitn(2, char::is_whitespace);
                    let pct = parts.next().unwrap_or("");
                    let sym = parts.next().unwrap_or("").trim().trim_start_matches("[.]").trim_start_matches("[k]").trim();
                    format!("| {pct} | `{}` |", super::measure::truncate(sym, 120).replace('|', "\\|"))
                })
                .collect::<Vec<_>>()
                .join("\n")
        });
        let _ = std::fs::remove_file(&data);
        v.push((title, shown, res));
    }
    let _ = std::fs::remove_file(ctx.work.join("out/profile.copc.laz"));
    v
}

/// The machine section: CPU, RAM, load at start and end, toolchain, peers.
fn machine(ctx: &Ctx, load_before: &str, load_after: &str) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "## Machine\n");
    let nproc = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let _ = writeln!(o, "- CPU: {} — `nproc` {nproc}", cpu_model());
    let _ = writeln!(o, "- RAM: {}", mem_total());
    let _ = writeln!(o, "- Load average (1, 5, 15 min) at the start: {load_before}; at the end: {load_after}. The machine is shared: a load above `nproc` means other work competed for the cores, which adds to wall times (CPU times are less affected).");
    let kernel = capture(Command::new("uname").args(["-sr"])).unwrap_or_default();
    let rustc = capture(Command::new("rustc").arg("--version")).unwrap_or_default();
    let python = capture(Command::new("python3").arg("--version")).unwrap_or_default();
    let _ = writeln!(o, "- {kernel}; {rustc}; {python}");
    let p = &ctx.peers;
    let show = |r: &Result<String, String>| match r {
        Ok(v) => v.clone(),
        Err(e) => e.clone(),
    };
    let _ = writeln!(o, "- Peers: {}; {}; copc-rs 0.5.0 ({}); copc-converter {}; untwine {}\n", show(&p.laspy), show(&p.copclib), match &p.copc_rs {
        Ok(_) => "bench/peers/copc-rs".to_string(),
        Err(e) => e.clone(),
    }, match &p.converter {
        Ok(_) => p.converter_version.clone(),
        Err(e) => e.clone(),
    }, match &p.untwine {
        Ok(b) => b.display().to_string(),
        Err(e) => e.clone(),
    });
    o
}

/// The report of `--only-large`: the machine and the issue 19 rows, nothing else.
pub fn render_large_only(ctx: &Ctx, started: std::time::SystemTime, load_before: &str, load_after: &str, large: &str) -> String {
    render_only(ctx, "conversion at scale (issue 19)", "--only-large", started, load_before, load_after, large)
}

/// A report of one section alone (`--only-large`, `--only-pdal`), with the machine and load.
pub fn render_only(ctx: &Ctx, title: &str, flag: &str, started: std::time::SystemTime, load_before: &str, load_after: &str, body: &str) -> String {
    let mut o = String::new();
    let date = capture(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])).unwrap_or_default();
    let took = started.elapsed().map(|d| d.as_secs_f64() / 60.0).unwrap_or(0.0);
    let cmdline: Vec<String> = std::env::args().skip(1).collect();
    let _ = writeln!(o, "# Benchmarks: {title}\n");
    let _ = writeln!(o, "Written by `copc-bench {flag}` on {date}, in {took:.0} minutes:\n\n```sh\ncargo run --release -p copc-bench -- {}\n```\n", cmdline.join(" "));
    o += &machine(ctx, load_before, load_after);
    let _ = writeln!(o, "\n{body}");
    o
}

#[allow(clippy::too_many_arguments)]
pub fn render(
    ctx: &Ctx,
    results: &[InputResult],
    real_skipped: Option<String>,
    profiles: &[(String, String, Result<String, String>)],
    started: std::time::SystemTime,
    load_before: &str,
    load_after: &str,
    large: &str,
) -> String {
    let a = ctx.args;
    let mut o = String::new();
    let date = capture(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])).unwrap_or_default();
    let took = started.elapsed().map(|d| d.as_secs_f64() / 60.0).unwrap_or(0.0);
    let cmdline: Vec<String> = std::env::args().skip(1).collect();
    let _ = writeln!(o, "# Benchmarks\n");
    let _ = writeln!(o, "Written by `copc-bench` (`bench/src/`, see `bench/README.md`) on {date}, in {took:.0} minutes. Every number below comes from that one run; regenerate the whole file with:\n");
    let _ = writeln!(o, "```sh\ncargo run --release -p copc-bench -- {}\n```\n", cmdline.join(" "));
    let _ = writeln!(o, "Inputs are kept in `{}` between runs (delete it to remake them); peers are installed under `target/bench-peers/` (or pip) when missing.\n", a.work.display());

    o += &machine(ctx, load_before, load_after);

    let _ = writeln!(o, "## Method\n");
    let _ = writeln!(o, "- Threads: {n} for every tool that can use more than one. Ours: `ReaderOptions::threads` / `--threads {n}`; laz-rs alone: a rayon pool of 1 and {n} threads; laspy: lazrs decodes with rayon, so `RAYON_NUM_THREADS={n}`; copc-converter: `--threads {n}`. copc-lib and copc-rs decode on one thread and have no option. Every child also gets `RAYON_NUM_THREADS`, `OMP_NUM_THREADS`, `OPENBLAS_NUM_THREADS`, `MKL_NUM_THREADS` and `NUMBA_NUM_THREADS` = {n}.", n = a.threads);
    let _ = writeln!(o, "- Runs: {} per tool and row ({} for inputs of {} points or more), alternating between tools (ours, peer, peer, ..., then again), each a fresh process, from a warm page cache (each file is read once before its rows). A tool whose run took more than {} s gets no further runs in that row (the `runs` column says how many it had).", a.runs, a.large_runs, a.large_from, a.slow_run_seconds);
    let _ = writeln!(o, "- Wall: the median of the runs. For readers it is the time the harness itself measures around open + query (Python start-up and imports excluded, so laspy and copc-lib are not charged for the interpreter); for converters, the process's wall time. CPU: user + system time of all threads over the same span, as the harness measures it (`clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`, Python's `time.process_time()`, `/proc/self/stat` for copc-rs); for copc-converter, the whole process's (from `wait4`). On a shared machine CPU time is the steadier number: the targets give both. Peak RSS: the largest `ru_maxrss` over the runs. `ours ÷ peer` is our median wall time over the peer's: below 1 means we are faster.");
    let _ = writeln!(o, "- Read rows use the COPC file our writer made from the input (the same file for every reader). Box query: a centred 2-D box with sides √0.2 of the file's extent (20% of the area), all heights. Resolution query: `spacing / 4`, i.e. octree levels 0–2 by the laspy/PDAL rule. Readers decode every dimension except in the X/Y/Z row (ours: `Query::dims([X, Y, Z])`; laspy: `DecompressionSelection.XY_RETURNS_CHANNEL | Z`) and keep the points in memory as LAS records (ours: one batch per node, streamed; laspy and copc-lib: all of them).");
    let _ = writeln!(o, "- copc-lib is driven at its fastest: `GetPointData` (one node's records as a buffer) for the nodes its own `GetAllNodes` / `GetNodesIntersectBox` / `GetNodesWithinResolution` choose, then the same numpy box test laspy uses. copc-rs: `CopcReader::points` (one `las::Point` at a time) and `CopcWriter` (LAS 1.2 inputs get a WKT VLR first, since copc-rs refuses files without a CRS).");
    let _ = writeln!(o, "- HTTP: nginx on 127.0.0.1 (`.ci/nginx`) serves the COPC file; requests and response body bytes come from its access log, counted the same way for both clients. Ours runs with its default 10 concurrent requests, laspy with its default `http_num_threads=10`.");
    let _ = writeln!(o, "- Convert: every converter reads the same LAZ input and writes its own COPC file; converters with a memory option get `--memory-limit {}` (copc-converter in binary units of the same number of bytes; it uses 75% of it by design). Output size is the file size.", a.memory_limit);
    let _ = writeln!(o, "- EPT → COPC (issue 9): `copc::ept::export` writes an EPT dataset holding the octree of our COPC file of each PDRF 7 input (one laszip tile per node whose only chunk is the node's chunk, so every node can take the copy path); then `copc translate ept.json` (repack: chunks copied, only the X/Y/Z, return and GPS time layers decoded for the exact header) runs against `copc translate` of the LAZ input (rebuild: the same points, the octree built anew), alternating, with the same threads and memory limit.");
    let _ = writeln!(o, "- laz-rs alone is the limit for a full read: it reads the same chunks (positions from our hierarchy, found before the clock starts) into one buffer and decodes them with `laz::par_decompress`, with no COPC logic.\n");

    let _ = writeln!(o, "## Targets (issue 7) and where we stand\n");
    let _ = writeln!(o, "| target | input | measured | status |\n|---|---|---|---|");
    for t in targets(ctx, results) {
        let _ = writeln!(o, "| {} | {} | {} | {} |", t.what, t.input, t.value, t.status);
    }
    let _ = writeln!(o);

    let _ = writeln!(o, "## Results\n");
    if let Some(e) = real_skipped {
        let _ = writeln!(o, "Tiled real file: {e}\n");
    }
    for r in results {
        let _ = writeln!(o, "### {}\n", r.input.name);
        let _ = write!(o, "{}: {} points, input {}", r.input.description, r.input.points, mb(std::fs::metadata(&r.input.path).map(|m| m.len()).unwrap_or(0)));
        if let Some(b) = r.copc_bytes {
            let _ = write!(o, ", our COPC {}", mb(b));
        }
        if let (Some(b), Some(res)) = (r.boxq, r.resolution) {
            let _ = write!(o, ". Box {:.2},{:.2} – {:.2},{:.2}; resolution {:.4}", b[0], b[1], b[2], b[3], res);
        }
        let _ = writeln!(o, ". Load average when its rows started: {}.\n", r.load);
        input_table(&mut o, r);
        let _ = writeln!(o);
    }

    let _ = writeln!(o, "## Scaling\n");
    let _ = writeln!(o, "Time per point and peak RSS at each size (read rows: the PDRF 7 inputs' COPC files; convert: each input).\n");
    scaling(&mut o, results);
    let _ = writeln!(o);

    let _ = writeln!(o, "## Where the time goes\n");
    for (title, cmd, res) in profiles {
        let _ = writeln!(o, "### Profile: {title}\n");
        match res {
            Ok(table) => {
                let _ = writeln!(o, "`{cmd}`, then `perf report --no-children --sort symbol`: symbols with at least 1.5% of the samples (self time, all threads).\n\n| samples | symbol |\n|---:|---|\n{table}\n");
            }
            Err(e) => {
                let _ = writeln!(o, "No profile: {e}\n");
            }
        }
    }
    let _ = writeln!(o, "## Conversion at scale (issue 19)\n");
    if large.is_empty() {
        let _ = writeln!(o, "The \"convert 100 M\" rows were skipped (`--convert-large 0`).\n");
    } else {
        let _ = writeln!(o, "{large}");
    }
    match std::fs::read_to_string(super::large::billion_file()) {
        Ok(text) => {
            let _ = writeln!(o, "{}\n", text.trim_end());
        }
        Err(_) => {
            let _ = writeln!(o, "### convert 1 B\n\nNot run yet (`copc-bench --convert-1b` runs it once and keeps it in bench/convert-1b.md).\n");
        }
    }
    match std::fs::read_to_string(peers::manifest_dir().join("bench/analysis.md")) {
        Ok(text) => {
            let _ = writeln!(o, "{}", text.trim_end());
        }
        Err(_) => {
            let _ = writeln!(o, "(bench/analysis.md, the written analysis, is missing.)");
        }
    }
    o
}

/// One row of a section with its own table (PDAL, Arrow): a title and a cell per
/// tool, ours first, then the one it is compared with.
pub struct SectionRow {
    pub title: String,
    pub input: String,
    pub load: String,
    pub cells: Vec<Cell>,
}

/// The rows as a Markdown table: every tool, with ours/other ratios on our lines
/// (below 1 is better for us).
pub fn section_table(rows: &[SectionRow]) -> String {
    let mib = |b: u64| format!("{:.0} MiB", b as f64 / 1048576.0);
    let mut o = String::new();
    let _ = writeln!(o, "| row | input | tool | load at start | runs | wall s | CPU s | peak RSS | wall ours/other | CPU ours/other | RSS ours/other |");
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let other = r.cells.iter().find(|c| !c.is_ours);
        for c in &r.cells {
            let (Some(wall), Some(cpu), Some(rss)) = (c.wall(), c.cpu(), c.peak_rss()) else {
                let _ = writeln!(o, "| {} | {} | {} | {} | 0 | {} | | | | | |", r.title, r.input, c.tool, r.load, c.error.clone().unwrap_or_else(|| "no runs".into()));
                continue;
            };
            // far below 1 a ratio reads better as "1/N" (N times faster)
            let ratio = |mine: f64, theirs: Option<f64>| match (c.is_ours, theirs) {
                (true, Some(t)) if t > 0.0 && mine / t >= 0.05 => format!("{:.2}", mine / t),
                (true, Some(t)) if t > 0.0 => format!("1/{:.0}", t / mine),
                _ => String::new(),
            };
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {wall:.2} | {cpu:.2} | {} | {} | {} | {} |",
                r.title,
                r.input,
                c.tool,
                r.load,
                c.runs.len(),
                mib(rss),
                ratio(wall, other.and_then(Cell::wall)),
                ratio(cpu, other.and_then(Cell::cpu)),
                ratio(rss as f64, other.and_then(Cell::peak_rss).map(|v| v as f64)),
            );
        }
    }
    o
}
