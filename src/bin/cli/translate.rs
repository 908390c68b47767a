//! `copc translate`: LAS/LAZ in, COPC out.

use super::Failure;
use super::progress::Reporter;
use copc::writer::{self, WriterOptions};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Convert LAS/LAZ files (1.0-1.4, point formats 0-10; local, http(s)://, s3://, gs://,
/// az://) into one COPC file, or an EPT dataset (its ept.json, local or a URL) node
/// for node, without rebuilding its octree.
///
/// Several inputs are merged into one octree; a `.vpc` (or STAC JSON) input stands for
/// its tiles (with `--bounds`, the tiles that meet the box). The output appears only when complete;
/// Ctrl-C or an error leaves nothing at its path.
#[derive(clap::Args)]
#[command(about = "Convert LAS/LAZ files (or an EPT dataset) to one COPC file", after_help = "Examples:\n  copc translate input.laz output.copc.laz --progress\n  copc translate tile1.las tile2.las merged.copc.laz --memory-limit 512M --a-srs EPSG:32610\n  copc translate dataset/ept.json output.copc.laz\n  copc translate tiles/all.vpc merged.copc.laz --bounds 500100,4500100,500300,4500300\n  copc translate s3://bucket/input.laz output.copc.laz --s3-region eu-west-1")]
pub struct TranslateArgs {
    /// Input LAS/LAZ files (paths, http(s):// or s3://, az://, gs:// URLs), then the output COPC file (last).
    #[arg(required = true, num_args = 2.., value_name = "INPUT... OUTPUT")]
    paths: Vec<String>,
    /// --threads, and how URL inputs are read (--header, --requests, the store options).
    #[command(flatten)]
    src: super::SourceArgs,
    /// Memory budget, e.g. 512M or 2G (default: half the RAM); the rest spills to --temp-dir.
    #[arg(long, value_name = "SIZE")]
    memory_limit: Option<String>,
    /// Folder for spill files (default: the system temp folder).
    #[arg(long, value_name = "DIR")]
    temp_dir: Option<String>,
    /// How spilled points are stored: none, lz4, zstd or laz (more CPU, less temp disk).
    #[arg(long, value_name = "CODEC", default_value = "lz4")]
    temp_compression: String,
    /// Output scale X[,Y,Z] (default: the inputs').
    #[arg(long, value_name = "X[,Y,Z]")]
    scale: Option<String>,
    /// Output offset X,Y,Z or 'auto' (default: the inputs' when it fits).
    #[arg(long, value_name = "X,Y,Z|auto", allow_hyphen_values = true)]
    offset: Option<String>,
    /// Output CRS: WKT text or EPSG:n (default: the inputs').
    #[arg(long = "a-srs", value_name = "WKT|EPSG:n")]
    a_srs: Option<String>,
    /// Most points in a leaf node.
    #[arg(long, default_value_t = writer::DEFAULT_MAX_POINTS_PER_NODE)]
    max_points_per_node: usize,
    /// Keep only the points in this box: minx,miny,maxx,maxy[,minz,maxz] (edges included).
    #[arg(long, value_name = "BOX", allow_hyphen_values = true)]
    bounds: Option<String>,
    /// Show progress (a bar on a terminal, plain lines otherwise).
    #[arg(long)]
    progress: bool,
}

pub fn run(a: TranslateArgs) -> Result<(), Failure> {
    let (output, inputs) = a.paths.split_last().ok_or_else(|| Failure::msg("translate", "no output"))?;
    let bad = |e: copc::Error| Failure::msg(output, e.detail());
    let http = a.src.reader_options("translate")?.http;
    let mut opts = WriterOptions { threads: a.src.threads, max_points_per_node: a.max_points_per_node, http, ..Default::default() };
    if let Some(s) = &a.memory_limit {
        opts.memory_limit = Some(writer::parse_size(s).map_err(bad)?);
    }
    opts.temp_dir = a.temp_dir.as_ref().map(Into::into);
    opts.temp_compression = writer::TempCompression::parse(&a.temp_compression).map_err(bad)?;
    if let Some(s) = &a.scale {
        opts.scale = Some(writer::parse_scale(s).map_err(bad)?);
    }
    if let Some(s) = &a.offset {
        opts.offset = Some(writer::parse_offset(s).map_err(bad)?);
    }
    opts.a_srs = a.a_srs.clone();
    if let Some(b) = &a.bounds {
        opts.clip = Some(super::query::parse_bounds(b).map_err(|m| Failure::msg(output, m))?);
    }
    let inputs = &expand_datasets(inputs, &a.src, opts.clip)?;
    let cancel = Arc::new(AtomicBool::new(false));
    {
        let c = cancel.clone();
        // Ctrl-C: the writer stops, removes its temp files and leaves nothing at the target
        let _ = ctrlc::set_handler(move || c.store(true, Ordering::SeqCst));
    }
    opts.cancel = Some(cancel);
    let reporter = Reporter::new(a.progress).map(Arc::new);
    if let Some(r) = &reporter {
        let r = r.clone();
        opts.progress = Some(Arc::new(move |p| r.event(p)));
    } else {
        opts.progress = Some(Arc::new(|p| {
            if let writer::Progress::Warning(w) = p {
                eprintln!("warning: {w}");
            }
        }));
    }
    let t0 = Instant::now();
    if inputs.iter().any(|i| copc::ept::is_ept_location(i)) {
        return ept(inputs, output, &opts);
    }
    let s = writer::translate(inputs, output, &opts).map_err(|e| {
        let src = e.source_name().map(str::to_string).unwrap_or_else(|| output.clone());
        Failure::msg(&src, e.detail())
    })?;
    let secs = t0.elapsed().as_secs_f64();
    // sizes of local inputs only (a URL's size would cost a request)
    let in_bytes: u64 = inputs.iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum();
    let all_local = inputs.iter().all(|p| std::path::Path::new(p).is_file());
    let out_bytes = std::fs::metadata(output).map(|m| m.len()).unwrap_or(0);
    let depth = copc::Reader::open(output).and_then(|r| r.hierarchy_summary()).map(|h| h.max_depth).unwrap_or(0);
    println!(
        "{output}: {} points, {} nodes, depth {depth}, {} hierarchy pages, point format {}",
        s.points, s.nodes, s.hierarchy_pages, s.point_format
    );
    let input = if all_local {
        format!("; input {in_bytes} bytes, ratio {:.2}", in_bytes as f64 / out_bytes.max(1) as f64)
    } else {
        String::new()
    };
    println!(
        "  {secs:.2} s ({:.0} points/s), {} bytes ({:.2} bytes/point{input}){}",
        s.points as f64 / secs.max(1e-9),
        out_bytes,
        out_bytes as f64 / (s.points.max(1)) as f64,
        if s.spilled { format!(", spilled up to {} temp bytes, largest load {} points", s.peak_temp_bytes, s.largest_load) } else { String::new() }
    );
    if a.progress {
        for (name, p) in writer::PHASES.iter().zip(&s.phases) {
            println!(
                "  {name:9} {:7.2} s wall {:7.2} s CPU  {} bytes in, {} bytes out, peak RSS {:.0} MiB so far",
                p.wall, p.cpu, p.bytes_in, p.bytes_out, p.peak_rss as f64 / (1u64 << 20) as f64
            );
        }
    }
    // the warnings again, where a summary is read (the first time they went by on stderr)
    for w in &s.warnings {
        println!("  warning: {w}");
    }
    Ok(())
}

/// The inputs with each dataset (`.vpc` / STAC JSON) replaced by its tiles' locations,
/// only those whose stated bounds meet `clip` (the others are never opened).
fn expand_datasets(inputs: &[String], src: &super::SourceArgs, clip: Option<copc::Bounds>) -> Result<Vec<String>, Failure> {
    let mut out = Vec::new();
    for i in inputs {
        if !copc::dataset::is_dataset_location(i) || copc::ept::is_ept_location(i) {
            out.push(i.clone());
            continue;
        }
        let ds = super::dataset_query::open(src, i)?;
        let q = copc::Query { bounds: clip, ..copc::Query::default() };
        out.extend(ds.tiles_for(&q).into_iter().map(|t| ds.items()[t].href.clone()));
    }
    if out.is_empty() {
        return Err(Failure::msg(&inputs[0], "no tile of the dataset meets --bounds: nothing to convert"));
    }
    Ok(out)
}

/// An EPT dataset (one `ept.json` input): repacked node for node.
fn ept(inputs: &[String], output: &str, opts: &WriterOptions) -> Result<(), Failure> {
    let [input] = inputs else {
        return Err(Failure::msg(output, "an EPT dataset (ept.json) must be the only input"));
    };
    let s = copc::ept::translate_ept(input, output, opts).map_err(|e| {
        let src = e.source_name().map(str::to_string).unwrap_or_else(|| output.to_string());
        Failure::msg(&src, e.detail())
    })?;
    println!(
        "{output}: {} points, {} nodes ({} copied, {} re-encoded), {} hierarchy pages, point format {}, from EPT ({})",
        s.points,
        s.nodes,
        s.copied,
        s.reencoded,
        s.hierarchy_pages,
        s.point_format,
        s.data_type.name()
    );
    println!("  {:.2} s ({:.0} points/s)", s.seconds, s.points as f64 / s.seconds.max(1e-9));
    Ok(())
}
