//! `copc-bench`: our reader and writer against peer tools, in one run, into BENCHMARKS.md
//! (see bench/README.md). A developer tool: its own package, not installed with `copc`.
//!
//! The benchmark: inputs, the tools (ours and peers), the rows of issue 7, and the
//! report. Every timed program runs as a child process, measured the same way
//! (`measure::run`), with the same thread count set for each tool.

mod arrow;
mod dataset;
mod http;
mod inputs;
mod large;
mod measure;
mod pdal;
mod peers;
mod python;
mod report;
mod worker;

use clap::{Parser, Subcommand};
use inputs::Input;
use measure::Run;
use peers::{Peers, Tool};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Benchmark our COPC reader and writer against peer tools, in one run, and write
/// the results (with the machine, the commands and the date) as Markdown.
///
/// Example: cargo run --release -p copc-bench -- --out BENCHMARKS.md --sizes 1M,10M --runs 5 --threads 2
#[derive(Parser)]
#[command(name = "copc-bench", version)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Top>,
    /// The Markdown report to write.
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: PathBuf,
    /// Synthetic input sizes in points (k and M suffixes).
    #[arg(long, value_delimiter = ',', default_value = "1M,10M,50M")]
    sizes: Vec<String>,
    /// Timed runs per tool and row (alternating between tools).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Inputs of at least this many points get `--large-runs` runs instead.
    #[arg(long, default_value = "20M")]
    large_from: String,
    /// Timed runs per tool and row on large inputs (see `--large-from`).
    #[arg(long, default_value_t = 1)]
    large_runs: usize,
    /// A tool whose run took longer than this many seconds gets no further runs in
    /// that row (keeps slow peers on large inputs within the time budget).
    #[arg(long, default_value_t = 60.0)]
    slow_run_seconds: f64,
    /// Threads for every tool (ours, laz-rs, lazrs in laspy, copc-converter).
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Memory limit for the converters (ours and copc-converter).
    #[arg(long, default_value = "1G")]
    memory_limit: String,
    /// Folder for inputs, outputs and logs (kept between runs: inputs are reused).
    #[arg(long, default_value = "target/bench")]
    work: PathBuf,
    /// Run our tools only (peers are listed as skipped).
    #[arg(long)]
    no_peers: bool,
    /// Skip the HTTP row.
    #[arg(long)]
    no_http: bool,
    /// Skip the tiled real file (COPC_TEST_DATA/pdal_lone-star.copc.laz).
    #[arg(long)]
    no_real: bool,
    /// Points of the tiled real file.
    #[arg(long, default_value = "2M")]
    real_points: String,
    /// Do not try to install missing peers (pip, cargo install, cargo build).
    #[arg(long)]
    no_install: bool,
    /// Skip the perf profiles of our read and convert.
    #[arg(long)]
    no_profile: bool,
    /// Skip the EPT row (repack an EPT dataset of each PDRF 7 town vs rebuild from LAZ).
    #[arg(long)]
    no_ept: bool,
    /// Points of the "convert 100 M" rows (issue 19): ours with each
    /// --temp-compression vs copc-converter; 0 skips them.
    #[arg(long, default_value = "100M")]
    convert_large: String,
    /// Also run the "convert 1 B" rows (once; kept in bench/convert-1b.md with the date).
    #[arg(long)]
    convert_1b: bool,
    /// Run only the "convert 100 M" / "convert 1 B" rows and write just them to --out
    /// (the issue 19 rows on their own, e.g. into bench/convert-100m.md).
    #[arg(long)]
    only_large: bool,
    /// Our --temp-compression codecs in the large rows.
    #[arg(long, value_delimiter = ',', default_value = "none,lz4,zstd,laz")]
    large_codecs: Vec<String>,
    /// Inputs of the large rows: town3 (PDRF 3), town7 (PDRF 7), real (the shared
    /// file tiled); e.g. one PDRF for a 1 B run that must fit a session.
    #[arg(long, value_delimiter = ',', default_value = "town3,town7,real")]
    large_inputs: Vec<String>,
    /// Skip the PDAL plugin rows (issue 18; part of every run otherwise).
    #[arg(long)]
    no_pdal: bool,
    /// Run only the PDAL plugin rows and write just them to --out.
    #[arg(long)]
    only_pdal: bool,
    /// Skip the Arrow rows (issue 27; part of every run otherwise).
    #[arg(long)]
    no_arrow: bool,
    /// Run only the Arrow rows and write just them to --out.
    #[arg(long)]
    only_arrow: bool,
    /// Sizes of the Arrow rows' PDRF 7 town, in points.
    #[arg(long, value_delimiter = ',', default_value = "10M,50M")]
    arrow_sizes: Vec<String>,
    /// The GDAL GetNextFeature() loop of the Arrow rows runs up to this size only (it
    /// costs ~50 µs a point in Python: 40 min at 50 M); larger rows say so.
    #[arg(long, default_value = "10M")]
    arrow_features_max: String,
    /// Skip the Python rows (issue 28; part of every run otherwise).
    #[arg(long)]
    no_python: bool,
    /// Run only the Python rows and write just them to --out.
    #[arg(long)]
    only_python: bool,
    /// Sizes of the Python rows' input (the shared lone-star file tiled), in points.
    #[arg(long, value_delimiter = ',', default_value = "15.8M")]
    python_sizes: Vec<String>,
    /// Skip the dataset rows (issue 29; part of every run otherwise).
    #[arg(long)]
    no_dataset: bool,
    /// Run only the dataset rows and write just them to --out.
    #[arg(long)]
    only_dataset: bool,
    /// Tiles of the dataset rows' synthetic collection (made once in the work folder).
    #[arg(long, default_value_t = 1000)]
    dataset_tiles: usize,
    /// Points per tile of the dataset rows' collection.
    #[arg(long, default_value = "100k")]
    dataset_tile_points: String,
    /// Items of the synthetic VPC parsed in memory for the dataset rows' "on paper"
    /// estimate (issue 29 asks about 100 000 tiles).
    #[arg(long, default_value_t = 100_000)]
    dataset_paper_tiles: usize,
    /// Sizes of the PDAL rows' PDRF 7 town, in points.
    #[arg(long, value_delimiter = ',', default_value = "1M,10M")]
    pdal_sizes: Vec<String>,
}

#[derive(Subcommand)]
enum Top {
    /// The timed programs on our side (run by the benchmark itself).
    #[command(hide = true)]
    Worker {
        #[command(subcommand)]
        worker: worker::Worker,
    },
}

fn main() {
    std::process::exit(run());
}

fn run() -> i32 {
    let args = Args::parse();
    let result = match args.command {
        Some(Top::Worker { worker }) => worker::run(worker),
        None => bench(&args),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("copc-bench: {e}");
            1
        }
    }
}

/// The rows of issue 7.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    Convert,
    ReadAll,
    ReadXyz,
    BoxQuery,
    ResolutionQuery,
    HttpBox,
    EptRepack,
    /// Issue 19's rows at scale (src/large.rs).
    ConvertLarge,
    /// Issue 18's rows: our PDAL plugins against PDAL's stages (src/pdal.rs).
    Pdal,
    /// Issue 27's rows: the Arrow stream and GDAL's columnar API (src/arrow.rs).
    Arrow,
    /// Issue 28's rows: our Python package against laspy (src/python.rs).
    Python,
    /// Issue 29's rows: many files as one dataset (src/dataset.rs).
    Dataset,
}

impl Row {
    pub fn title(self) -> &'static str {
        match self {
            Row::Convert => "convert LAZ → COPC",
            Row::ReadAll => "read all points, all dimensions",
            Row::ReadXyz => "read X/Y/Z only",
            Row::BoxQuery => "box query (2-D, 20% of the area)",
            Row::ResolutionQuery => "resolution query",
            Row::HttpBox => "box query over HTTP (nginx on 127.0.0.1)",
            Row::EptRepack => "EPT → COPC (issue 9)",
            Row::ConvertLarge => "convert at scale (issue 19)",
            Row::Pdal => "PDAL plugins (issue 18)",
            Row::Arrow => "Arrow (issue 27)",
            Row::Python => "Python (issue 28)",
            Row::Dataset => "Datasets (issue 29)",
        }
    }
}

/// One tool's results in one row.
#[derive(Debug, Clone)]
pub struct Cell {
    pub row: Row,
    pub tool: String,
    /// How its threads were set.
    pub threads: String,
    pub runs: Vec<Run>,
    /// Why it has no runs (not available, failed).
    pub error: Option<String>,
    /// Row-specific facts: output bytes, HTTP requests and bytes.
    pub output_bytes: Option<u64>,
    pub http: Option<(u64, u64)>,
    pub is_ours: bool,
    /// laz-rs alone (the limit), not a peer.
    pub is_limit: bool,
}

impl Cell {
    pub fn wall(&self) -> Option<f64> {
        (!self.runs.is_empty()).then(|| measure::median(&self.runs.iter().map(|r| r.wall).collect::<Vec<_>>()))
    }
    pub fn cpu(&self) -> Option<f64> {
        (!self.runs.is_empty()).then(|| measure::median(&self.runs.iter().map(|r| r.cpu).collect::<Vec<_>>()))
    }
    pub fn peak_rss(&self) -> Option<u64> {
        self.runs.iter().map(|r| r.peak_rss).max()
    }
    pub fn points(&self) -> Option<u64> {
        self.runs.last().and_then(|r| r.points())
    }
}

/// Everything measured on one input.
#[derive(Debug, Clone)]
pub struct InputResult {
    pub input: Input,
    /// Load average when this input's rows started.
    pub load: String,
    pub copc_bytes: Option<u64>,
    pub boxq: Option<[f64; 4]>,
    pub resolution: Option<f64>,
    pub cells: Vec<Cell>,
}

impl InputResult {
    pub fn cell(&self, row: Row, tool: &str) -> Option<&Cell> {
        self.cells.iter().find(|c| c.row == row && c.tool == tool)
    }
    pub fn ours(&self, row: Row) -> Option<&Cell> {
        self.cells.iter().find(|c| c.row == row && c.is_ours)
    }
}

pub struct Ctx<'a> {
    pub args: &'a Args,
    pub work: PathBuf,
    pub exe: PathBuf,
    pub peers: Peers,
    pub memory_limit_bytes: u64,
    pub nginx: Option<Result<http::Nginx, String>>,
}

fn bench(args: &Args) -> Result<(), String> {
    if args.threads == 0 || args.runs == 0 {
        return Err("--threads and --runs must be at least 1".into());
    }
    let started = std::time::SystemTime::now();
    let load_before = report::load_average();
    let mut sizes = Vec::new();
    for s in &args.sizes {
        sizes.push(inputs::parse_size(s)?);
    }
    let work = std::path::absolute(&args.work).map_err(|e| format!("{}: {e}", args.work.display()))?;
    for d in ["", "out", "tmp"] {
        std::fs::create_dir_all(work.join(d)).map_err(|e| format!("{}: {e}", work.join(d).display()))?;
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot find copc-bench itself: {e}"))?;
    let memory_limit_bytes = copc::writer::parse_size(&args.memory_limit).map_err(|e| e.detail())?;
    let peers = Peers::find(args, &work);
    let mut ctx = Ctx { args, work: work.clone(), exe, peers, memory_limit_bytes, nginx: None };

    if [args.only_large, args.only_pdal, args.only_arrow, args.only_python, args.only_dataset].iter().filter(|&&b| b).count() > 1 {
        return Err("--only-large, --only-pdal, --only-arrow, --only-python and --only-dataset: pick one".into());
    }
    if args.only_dataset {
        let md = dataset::section(&ctx)?;
        let out = report::render_only(&ctx, "Datasets (issue 29)", "--only-dataset", started, &load_before, &report::load_average(), &md);
        std::fs::write(&args.out, out).map_err(|e| format!("{}: {e}", args.out.display()))?;
        eprintln!("copc-bench: wrote {}", args.out.display());
        return Ok(());
    }
    if args.only_python {
        let md = python_section(&ctx)?;
        let out = report::render_only(&ctx, "Python (issue 28)", "--only-python", started, &load_before, &report::load_average(), &md);
        std::fs::write(&args.out, out).map_err(|e| format!("{}: {e}", args.out.display()))?;
        eprintln!("copc-bench: wrote {}", args.out.display());
        return Ok(());
    }
    if args.only_arrow {
        let md = arrow_section(&ctx)?;
        let out = report::render_only(&ctx, "Arrow (issue 27)", "--only-arrow", started, &load_before, &report::load_average(), &md);
        std::fs::write(&args.out, out).map_err(|e| format!("{}: {e}", args.out.display()))?;
        eprintln!("copc-bench: wrote {}", args.out.display());
        return Ok(());
    }
    if args.only_large {
        return only_large(&ctx, started, &load_before);
    }
    if args.only_pdal {
        let md = pdal_section(&ctx)?;
        let out = report::render_only(&ctx, "PDAL plugins (issue 18)", "--only-pdal", started, &load_before, &report::load_average(), &md);
        std::fs::write(&args.out, out).map_err(|e| format!("{}: {e}", args.out.display()))?;
        eprintln!("copc-bench: wrote {}", args.out.display());
        return Ok(());
    }
    let mut all_inputs = Vec::new();
    for &n in &sizes {
        all_inputs.push(inputs::town(&work, n, 3)?);
        all_inputs.push(inputs::town(&work, n, 7)?);
    }
    let data = std::env::var_os("COPC_TEST_DATA").map(PathBuf::from).unwrap_or_else(|| peers::manifest_dir().join("../shared/data"));
    let real_src = data.join("pdal_lone-star.copc.laz");
    let real = if args.no_real {
        Err("skipped (--no-real)".to_string())
    } else {
        let src = real_src.clone();
        if src.exists() {
            inputs::tiled(&work, &src, inputs::parse_size(&args.real_points)?)
        } else {
            Err(format!("not available: {} not found (set COPC_TEST_DATA)", src.display()))
        }
    };
    match &real {
        Ok(i) => all_inputs.push(i.clone()),
        Err(e) => eprintln!("copc-bench: tiled real file: {e}"),
    }

    let mut results = Vec::new();
    for input in &all_inputs {
        results.push(run_input(&mut ctx, input)?);
    }
    if let Some(Ok(n)) = ctx.nginx.take() {
        n.stop();
    }
    let real_for_large = (!args.no_real && real_src.exists()).then_some(real_src.as_path());
    let large_points = if args.convert_large.trim() == "0" { 0 } else { inputs::parse_size(&args.convert_large)? };
    let mut large_md = String::new();
    if large_points > 0 {
        let r = large::run(&ctx, large_points, real_for_large)?;
        large_md = large::render(&format!("convert {}", inputs::size_words(large_points)), &ctx, &r);
    }
    if args.convert_1b {
        let r = large::run(&ctx, 1_000_000_000, real_for_large)?;
        let date = capture(Command::new("date").args(["-u", "+%Y-%m-%d"])).unwrap_or_default();
        let md = format!("{}
Run once on {} (`copc-bench --convert-1b`).
", large::render("convert 1 B", &ctx, &r), date.trim());
        std::fs::write(large::billion_file(), md).map_err(|e| format!("{}: {e}", large::billion_file().display()))?;
    }
    if !args.no_pdal {
        large_md += &pdal_section(&ctx)?;
    }
    if !args.no_arrow {
        large_md += &arrow_section(&ctx)?;
    }
    if !args.no_python {
        large_md += &python_section(&ctx)?;
    }
    if !args.no_dataset {
        large_md += &dataset::section(&ctx)?;
    }
    let profiles = if args.no_profile { Vec::new() } else { report::profiles(&ctx, &results) };
    let load_after = report::load_average();
    let md = report::render(&ctx, &results, real.err(), &profiles, started, &load_before, &load_after, &large_md);
    std::fs::write(&args.out, md).map_err(|e| format!("{}: {e}", args.out.display()))?;
    eprintln!("copc-bench: wrote {}", args.out.display());
    Ok(())
}

/// `--only-large`: the issue 19 rows alone, written to `--out` with the machine and load.
fn only_large(ctx: &Ctx, started: std::time::SystemTime, load_before: &str) -> Result<(), String> {
    let args = ctx.args;
    let data = std::env::var_os("COPC_TEST_DATA").map(PathBuf::from).unwrap_or_else(|| peers::manifest_dir().join("../shared/data"));
    let real_src = data.join("pdal_lone-star.copc.laz");
    let real = (!args.no_real && real_src.exists()).then_some(real_src.as_path());
    let mut md = String::new();
    let large_points = if args.convert_large.trim() == "0" { 0 } else { inputs::parse_size(&args.convert_large)? };
    if large_points > 0 {
        let r = large::run(ctx, large_points, real)?;
        md += &large::render(&format!("convert {}", inputs::size_words(large_points)), ctx, &r);
    }
    if args.convert_1b {
        let r = large::run(ctx, 1_000_000_000, real)?;
        md += &large::render("convert 1 B", ctx, &r);
    }
    let out = report::render_large_only(ctx, started, load_before, &report::load_average(), &md);
    std::fs::write(&args.out, out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    eprintln!("copc-bench: wrote {}", args.out.display());
    Ok(())
}

/// Issue 18's rows at `--pdal-sizes`, as Markdown.
fn pdal_section(ctx: &Ctx) -> Result<String, String> {
    let mut sizes = Vec::new();
    for s in &ctx.args.pdal_sizes {
        sizes.push(inputs::parse_size(s)?);
    }
    let (found, rows) = pdal::run(ctx, &sizes)?;
    Ok(pdal::render(ctx, &found, &rows))
}

/// Issue 27's rows at `--arrow-sizes`, as Markdown.
fn arrow_section(ctx: &Ctx) -> Result<String, String> {
    let mut sizes = Vec::new();
    for s in &ctx.args.arrow_sizes {
        sizes.push(inputs::parse_size(s)?);
    }
    arrow::section(ctx, &sizes)
}

fn python_section(ctx: &Ctx) -> Result<String, String> {
    let sizes = ctx.args.python_sizes.iter().map(|s| inputs::parse_size(s)).collect::<Result<Vec<_>, _>>()?;
    python::section(ctx, &sizes)
}

/// Reads a file once so every tool starts from the same warm page cache.
fn warm(path: &Path) {
    use std::io::Read;
    if let Ok(mut f) = std::fs::File::open(path) {
        let mut buf = vec![0u8; 1 << 20];
        while matches!(f.read(&mut buf), Ok(n) if n > 0) {}
    }
}

/// Runs every available tool of a row `runs` times, alternating between tools.
/// `prepare` runs before each run (e.g. removes the previous output); `after` reads
/// row-specific facts from a finished run.
fn run_row(ctx: &Ctx, runs: usize, row: Row, tools: Vec<Tool>, mut prepare: impl FnMut(&Tool), mut after: impl FnMut(&Tool, &Run, &mut Cell)) -> Vec<Cell> {
    let mut cells: Vec<Cell> = tools
        .iter()
        .map(|t| Cell {
            row,
            tool: t.name.clone(),
            threads: t.threads.clone(),
            runs: Vec::new(),
            error: t.command.as_ref().err().cloned(),
            output_bytes: None,
            http: None,
            is_ours: t.is_ours,
            is_limit: t.is_limit,
        })
        .collect();
    let mut stopped = vec![false; tools.len()];
    for round in 0..runs {
        for (i, t) in tools.iter().enumerate() {
            let Ok(make) = &t.command else { continue };
            if stopped[i] || cells[i].error.is_some() {
                continue;
            }
            prepare(t);
            let mut cmd = make();
            peers::set_threads(&mut cmd, ctx.args.threads);
            eprintln!("copc-bench: [{}] {} run {}", row.title(), t.name, round + 1);
            match measure::run(&ctx.exe, &ctx.work.join("tmp"), &cmd) {
                Ok(run) => {
                    let slow = run.process_wall > ctx.args.slow_run_seconds;
                    after(t, &run, &mut cells[i]);
                    cells[i].runs.push(run);
                    if slow {
                        stopped[i] = true;
                    }
                }
                Err(e) => {
                    eprintln!("copc-bench: {} failed: {e}", t.name);
                    cells[i].error = Some(format!("failed: {e}"));
                }
            }
        }
    }
    cells
}

fn run_input(ctx: &mut Ctx, input: &Input) -> Result<InputResult, String> {
    let large = inputs::parse_size(&ctx.args.large_from)?;
    let runs = if input.points >= large { ctx.args.large_runs.max(1) } else { ctx.args.runs };
    let mut cells = Vec::new();
    eprintln!("copc-bench: input {} ({} points, {runs} runs)", input.name, input.points);
    let load = report::load_average();
    warm(&input.path);

    // convert: every converter writes its own output; ours is then read by every reader
    let outs = ctx.work.join("out");
    let out_for = |tool: &str| outs.join(format!("{}.{}.copc.laz", input.name, tool.replace(' ', "-")));
    let tools = ctx.peers.converters(ctx, &input.path, &out_for);
    let convert = run_row(
        ctx,
        runs,
        Row::Convert,
        tools,
        |t| {
            let _ = std::fs::remove_file(out_for(&t.name));
        },
        |t, _run, cell| {
            cell.output_bytes = std::fs::metadata(out_for(&t.name)).ok().map(|m| m.len());
        },
    );
    let ours_copc = out_for("ours");
    let ours_ok = convert.iter().any(|c| c.is_ours && !c.runs.is_empty());
    cells.extend(convert);
    let copc = ctx.work.join(format!("{}.copc.laz", input.name));
    if ours_ok {
        std::fs::copy(&ours_copc, &copc).map_err(|e| format!("{}: {e}", copc.display()))?;
    } else {
        return Ok(InputResult { input: input.clone(), load: load.clone(), copc_bytes: None, boxq: None, resolution: None, cells });
    }
    // peers' outputs are not needed past here; keep the disk small
    for c in &cells {
        if !c.is_ours {
            let _ = std::fs::remove_file(out_for(&c.tool));
        }
    }
    let copc_bytes = std::fs::metadata(&copc).ok().map(|m| m.len());
    if input.read_rows && !ctx.args.no_ept {
        cells.extend(ept_row(ctx, runs, input, &copc)?);
    }
    if !input.read_rows {
        return Ok(InputResult { input: input.clone(), load: load.clone(), copc_bytes, boxq: None, resolution: None, cells });
    }

    let r = copc::Reader::open(&copc).map_err(|e| e.detail())?;
    let boxq = inputs::box20(r.header());
    // levels 0-2 by the laspy/PDAL rule (levels up to ceil(log2(spacing / r)))
    let resolution = r.info().spacing / 4.0;
    drop(r);
    let bstr = format!("{:.3},{:.3},{:.3},{:.3}", boxq[0], boxq[1], boxq[2], boxq[3]);
    let rstr = format!("{resolution}");
    warm(&copc);

    let file = copc.to_string_lossy().to_string();
    let q_all = peers::ReadQuery::default();
    cells.extend(run_row(ctx, runs, Row::ReadAll, ctx.peers.readers(ctx, &file, &q_all, true), |_| {}, |_, _, _| {}));
    let q_xyz = peers::ReadQuery { xyz: true, ..Default::default() };
    cells.extend(run_row(ctx, runs, Row::ReadXyz, ctx.peers.readers(ctx, &file, &q_xyz, false), |_| {}, |_, _, _| {}));
    let q_box = peers::ReadQuery { bounds: Some(bstr.clone()), ..Default::default() };
    cells.extend(run_row(ctx, runs, Row::BoxQuery, ctx.peers.readers(ctx, &file, &q_box, false), |_| {}, |_, _, _| {}));
    let q_res = peers::ReadQuery { resolution: Some(rstr), ..Default::default() };
    cells.extend(run_row(ctx, runs, Row::ResolutionQuery, ctx.peers.readers(ctx, &file, &q_res, false), |_| {}, |_, _, _| {}));

    if !ctx.args.no_http {
        if ctx.nginx.is_none() {
            ctx.nginx = Some(http::Nginx::start(&ctx.work));
        }
        let url = match ctx.nginx.as_ref() {
            Some(Ok(n)) => Ok(format!("{}/{}", n.url, copc.file_name().and_then(|s| s.to_str()).unwrap_or_default())),
            Some(Err(e)) => Err(e.clone()),
            None => Err("nginx not started".to_string()),
        };
        let tools = match &url {
            Ok(u) => ctx.peers.http_readers(ctx, u, &q_box),
            Err(e) => ctx.peers.http_readers(ctx, "", &q_box).into_iter().map(|mut t| {
                t.command = Err(format!("not available: {e}"));
                t
            }).collect(),
        };
        let log = match ctx.nginx.as_ref() {
            Some(Ok(n)) => Some(n.log.clone()),
            _ => None,
        };
        let mark = std::cell::Cell::new(0u64);
        cells.extend(run_row(
            ctx,
            runs,
            Row::HttpBox,
            tools,
            |_| mark.set(log.as_ref().and_then(|l| std::fs::metadata(l).ok()).map(|m| m.len()).unwrap_or(0)),
            |_, _, cell| {
                if let Some(l) = &log {
                    cell.http = Some(http::count_since(l, mark.get()));
                }
            },
        ));
    }
    Ok(InputResult { input: input.clone(), load: load.clone(), copc_bytes, boxq: Some(boxq), resolution: Some(resolution), cells })
}

/// Issue 9's row: `copc translate ept.json` of an EPT dataset holding the octree of
/// our COPC file (one single-chunk laszip tile per node, so every node takes the
/// copy path) against `copc translate` of the LAZ input, the same points rebuilt.
fn ept_row(ctx: &Ctx, runs: usize, input: &Input, copc: &Path) -> Result<Vec<Cell>, String> {
    let dataset = ctx.work.join(format!("{}.ept", input.name));
    if !dataset.join("ept.json").exists() {
        let _ = std::fs::remove_dir_all(&dataset);
        eprintln!("copc-bench: writing the EPT dataset {}", dataset.display());
        copc::ept::export::export_copc_as_ept(copc, &dataset).map_err(|e| e.detail())?;
    }
    let out = ctx.work.join("out").join(format!("{}.ept-out.copc.laz", input.name));
    let n = ctx.args.threads;
    let convert = |from: PathBuf| -> peers::MakeCommand {
        let (exe, out, mem, tmp) = (ctx.exe.clone(), out.clone(), ctx.args.memory_limit.clone(), ctx.work.join("tmp"));
        Box::new(move || {
            let mut c = Command::new(&exe);
            c.args(["worker", "convert"]).arg(&from).arg(&out).args(["--threads", &n.to_string(), "--memory-limit", &mem, "--temp-dir"]).arg(&tmp);
            c
        })
    };
    let tool = |name: &str, from: PathBuf, is_ours: bool| Tool { name: name.into(), threads: format!("{n} (--threads)"), command: Ok(convert(from)), is_ours, is_limit: false };
    let tools = vec![
        tool("ours: repack EPT (copy path)", dataset.join("ept.json"), true),
        // also ours: the comparison the issue asks for, shown as the row's "peer"
        tool("ours: rebuild from LAZ", input.path.clone(), false),
    ];
    let cells = run_row(ctx, runs, Row::EptRepack, tools, |_| {
        let _ = std::fs::remove_file(&out);
    }, |_, _, cell| {
        cell.output_bytes = std::fs::metadata(&out).ok().map(|m| m.len());
    });
    let _ = std::fs::remove_file(&out);
    Ok(cells)
}

/// Runs a command and returns its stdout (for versions and facts), or why not.
pub fn capture(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_string();
        Err(format!("{} ({})", measure::truncate(&last, 200), out.status))
    }
}
