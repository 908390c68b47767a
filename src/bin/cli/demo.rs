//! `copc demo`: the whole job on a synthetic sample, step by step, with what each
//! step did and cost.

use super::Failure;
use super::progress::Reporter;
use super::serve::Server;
use copc::sample::{SampleOptions, write_sample};
use copc::validate::{Status, ValidateOptions, validate};
use copc::writer::{self, WriterOptions};
use copc::{Bounds, Query, Reader, ReaderOptions};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Generate a synthetic point cloud, convert it to COPC, validate it, and query it
/// locally and over a loopback HTTP server, printing what each step did and cost.
#[derive(clap::Args)]
#[command(about = "Sample, convert, validate and query (locally and over HTTP) in one go", after_help = "Examples:\n  copc demo /tmp/copc-demo --points 1000000")]
pub struct DemoArgs {
    /// Folder for the demo's files (default: a new folder in the system temp folder).
    dir: Option<String>,
    /// Points in the sample.
    #[arg(long, default_value_t = 1_000_000)]
    points: u64,
    /// Threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

pub fn run(a: DemoArgs) -> Result<(), Failure> {
    let dir = match &a.dir {
        Some(d) => PathBuf::from(d),
        None => std::env::temp_dir().join(format!("copc-demo-{}", std::process::id())),
    };
    let d = dir.display().to_string();
    std::fs::create_dir_all(&dir).map_err(|e| Failure::msg(&d, format!("cannot create: {e}")))?;
    let las = dir.join("sample.laz");
    let out = dir.join("sample.copc.laz");
    let (las_s, out_s) = (las.display().to_string(), out.display().to_string());
    let mb = |p: &PathBuf| std::fs::metadata(p).map(|m| m.len() as f64 / 1e6).unwrap_or(0.0);

    println!("copc demo in {d}");
    let t = Instant::now();
    let opts = SampleOptions { points: a.points, seed: 1, format: 3, compressed: true, ..Default::default() };
    let s = write_sample(&las, &opts).map_err(|e| Failure::msg(&las_s, e.detail()))?;
    println!("1. sample     {} points (LAS 1.2, point format 3: terrain, buildings, trees) -> {las_s}, {:.1} MB, {:.2} s", s.points, mb(&las), t.elapsed().as_secs_f64());

    let t = Instant::now();
    let reporter = Reporter::new(true).map(Arc::new);
    // the sample's coordinates are UTM zone 10N metres; say so in the output
    let mut wopts = WriterOptions { threads: a.threads, a_srs: Some("EPSG:32610".into()), ..Default::default() };
    if let Some(r) = &reporter {
        let r = r.clone();
        wopts.progress = Some(Arc::new(move |p| r.event(p)));
    }
    let w = writer::translate(&[&las], &out, &wopts).map_err(|e| Failure::msg(&out_s, e.detail()))?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "2. translate  -> {out_s}: {} nodes, {} pages, point format {}, {:.1} MB, {secs:.2} s ({:.2} M points/s)",
        w.nodes, w.hierarchy_pages, w.point_format, mb(&out), w.points as f64 / secs / 1e6
    );

    let t = Instant::now();
    let src = copc::open_source(&out_s, &Default::default()).map_err(|e| Failure::new(&out_s, e))?;
    let report = validate(src, &ValidateOptions { quick: false, reader: ReaderOptions { threads: a.threads, ..Default::default() } });
    let (pass, warn, fail) = (report.count(Status::Pass), report.count(Status::Warn), report.count(Status::Fail));
    println!("3. validate   {pass} passed, {warn} warning(s), {fail} failed (every chunk decoded), {:.2} s", t.elapsed().as_secs_f64());
    if fail > 0 {
        for c in report.checks.iter().filter(|c| c.status == Status::Fail) {
            println!("   FAIL {}: {}", c.name, c.detail);
        }
        return Err(Failure::msg(&out_s, "the demo's own output did not validate"));
    }

    let ropts = ReaderOptions { threads: a.threads, ..Default::default() };
    let r = Reader::open_with(&out, &ropts).map_err(|e| Failure::new(&out_s, e))?;
    let h = r.header();
    // a box over the middle fifth of the area, and a coarse level of detail
    let (w0, h0) = (h.max[0] - h.min[0], h.max[1] - h.min[1]);
    let bx = Bounds::xy(h.min[0] + 0.3 * w0, h.min[1] + 0.3 * h0, h.min[0] + 0.75 * w0, h.min[1] + 0.75 * h0);
    // a resolution that keeps the levels above the deepest one
    let depth = r.hierarchy_summary().map_err(|e| Failure::new(&out_s, e))?.max_depth.max(1);
    let res = r.info().spacing / f64::powi(2.0, depth - 1);
    let queries = [("box", Query::new().bounds(bx)), ("resolution", Query::new().resolution(res))];
    let mut local = Vec::new();
    for (i, (name, q)) in queries.iter().enumerate() {
        let t = Instant::now();
        let nodes = r.nodes(q).map_err(|e| Failure::new(&out_s, e))?.len();
        let n: u64 = count_points(&r, q).map_err(|e| Failure::new(&out_s, e))?;
        local.push(n);
        let what = if *name == "box" { format!("2-D box {:.0}x{:.0} m", bx.max[0] - bx.min[0], bx.max[1] - bx.min[1]) } else { format!("resolution {res:.3}") };
        println!("{}. query      {what}: {n} points from {nodes} nodes, {:.3} s (local)", 4 + i, t.elapsed().as_secs_f64());
    }

    let server = Server::start(&dir, 0).map_err(|e| Failure::msg(&d, format!("cannot start the loopback server: {e}")))?;
    let url = server.url("sample.copc.laz");
    for (i, (name, q)) in queries.iter().enumerate() {
        let t = Instant::now();
        let remote = Reader::open_with(&url, &ropts).map_err(|e| Failure::new(&url, e))?;
        let n = count_points(&remote, q).map_err(|e| Failure::new(&url, e))?;
        let s = remote.source_stats();
        if n != local[i] {
            return Err(Failure::msg(&url, format!("{name} query over HTTP gave {n} points, {} locally", local[i])));
        }
        println!(
            "{}. http       {name} query via {url}: {n} points (same as local), {} requests, {:.2} MB of {:.2} MB, {:.3} s",
            6 + i, s.requests, s.bytes as f64 / 1e6, mb(&out), t.elapsed().as_secs_f64()
        );
    }
    println!("done: files are in {d}");
    println!("  {las_s}        the input (LAZ 1.2)");
    println!("  {out_s}   the COPC file; look at it with:");
    println!("    copc info {out_s}");
    println!("    copc validate {out_s}");
    println!(
        "    copc query {out_s} --bounds {:.0},{:.0},{:.0},{:.0} --count",
        bx.min[0], bx.min[1], bx.max[0], bx.max[1]
    );
    println!("    copc query {out_s} --resolution {res:.3} --csv - | head");
    println!("  (from this source tree: cargo run --release -- info {out_s}; or cargo install --path . for a `copc` on PATH)");
    Ok(())
}

/// Decodes the query's points (X, Y, Z) and counts them.
fn count_points(r: &Reader, q: &Query) -> copc::Result<u64> {
    let q = q.clone().dims([copc::Dimension::X, copc::Dimension::Y, copc::Dimension::Z]);
    let mut n = 0;
    for b in r.points(&q)? {
        n += b?.len() as u64;
    }
    Ok(n)
}
