//! The timed programs on our side, run by the benchmark as child processes (so every
//! tool is measured the same way): our reader, our writer, and laz-rs alone as the
//! decode limit. Each prints one JSON line with its own wall time of open + work.

use copc::{Bounds, Dimension, Query, Reader, ReaderOptions};
use std::time::Instant;

#[derive(clap::Subcommand)]
pub enum Worker {
    /// Read a COPC file (path or URL) with our reader.
    Read {
        source: String,
        #[arg(long)]
        threads: usize,
        /// minx,miny,maxx,maxy (2-D).
        #[arg(long, allow_hyphen_values = true)]
        bounds: Option<String>,
        #[arg(long)]
        resolution: Option<f64>,
        /// Decode X, Y, Z only.
        #[arg(long)]
        xyz: bool,
    },
    /// Read every point and dimension through the Arrow stream (`Reader::arrow`, issue
    /// 27); each batch is dropped after a checksum over its columns.
    ArrowRead {
        source: String,
        #[arg(long)]
        threads: usize,
    },
    /// The same query as `arrow-read` through our native path (`Reader::points`), every
    /// dimension copied out of each batch into a column buffer (`write_column`) and
    /// checksummed the same way: what the Arrow stream is compared with.
    ColumnRead {
        source: String,
        #[arg(long)]
        threads: usize,
    },
    /// Convert LAS/LAZ (or an EPT dataset's ept.json) to COPC with our writer.
    Convert {
        input: String,
        output: String,
        #[arg(long)]
        threads: usize,
        #[arg(long)]
        memory_limit: String,
        #[arg(long)]
        temp_dir: Option<String>,
        /// none, lz4, zstd or laz.
        #[arg(long, default_value = "lz4")]
        temp_compression: String,
    },
    /// Decode every chunk of a COPC file with laz-rs alone (`laz::par_decompress`
    /// over the file's chunk table, into one buffer): the limit for a full read.
    Lazrs {
        file: String,
        #[arg(long)]
        threads: usize,
    },
    /// Open a dataset (VPC path or URL) and plan a 2-D box with `Dataset::plan`
    /// (partitions of 1 M points; headers and hierarchy pages only, no decode).
    DatasetPlan {
        source: String,
        #[arg(long, allow_hyphen_values = true)]
        bounds: String,
        #[arg(long)]
        threads: usize,
    },
    /// Open a dataset and decode every point of a 2-D box (`Dataset::points`).
    DatasetRead {
        source: String,
        #[arg(long, allow_hyphen_values = true)]
        bounds: String,
        #[arg(long)]
        threads: usize,
    },
    /// Parse a synthetic VPC of `items` Items (built in memory with `vpc::collection_json`
    /// from the Item of `like`, laid out on a square grid), timing `vpc::parse` and
    /// `Dataset::tiles_for` of a box meeting ~5% of them: the per-listed-tile cost of a plan.
    VpcParse {
        /// A COPC tile whose Item (CRS, schemas) every synthetic Item copies.
        like: String,
        #[arg(long)]
        items: usize,
    },
    /// Run a program and write its wall time, CPU time and peak RSS as JSON.
    Measure {
        #[arg(long)]
        report: std::path::PathBuf,
        /// A folder whose disk use (allocated blocks) is sampled while the program
        /// runs; its peak goes into the report.
        #[arg(long)]
        watch: Option<std::path::PathBuf>,
        #[arg(last = true, required = true)]
        program: Vec<String>,
    },
}

pub fn run(w: Worker) -> Result<(), String> {
    match w {
        Worker::Read { source, threads, bounds, resolution, xyz } => read(&source, threads, bounds.as_deref(), resolution, xyz),
        Worker::Convert { input, output, threads, memory_limit, temp_dir, temp_compression } => {
            convert(&input, &output, threads, &memory_limit, temp_dir, &temp_compression)
        }
        Worker::Lazrs { file, threads } => lazrs(&file, threads),
        Worker::ArrowRead { source, threads } => arrow_read(&source, threads),
        Worker::ColumnRead { source, threads } => column_read(&source, threads),
        Worker::DatasetPlan { source, bounds, threads } => dataset_plan(&source, &bounds, threads),
        Worker::DatasetRead { source, bounds, threads } => dataset_read(&source, &bounds, threads),
        Worker::VpcParse { like, items } => vpc_parse(&like, items),
        Worker::Measure { report, watch, program } => super::measure::measure_worker(&report, watch.as_deref(), &program),
    }
}

/// CPU time of this process so far (all threads), seconds.
pub fn cpu_now() -> f64 {
    // SAFETY: clock_gettime writes one timespec we own.
    let mut t: libc::timespec = unsafe { std::mem::zeroed() };
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

pub fn parse_box(s: &str) -> Result<[f64; 4], String> {
    let v: Vec<f64> = s.split(',').map(|p| p.trim().parse::<f64>().map_err(|_| format!("bad number '{p}' in '{s}'"))).collect::<Result<_, _>>()?;
    v.try_into().map_err(|_| format!("'{s}': expected minx,miny,maxx,maxy"))
}

fn read(source: &str, threads: usize, bounds: Option<&str>, resolution: Option<f64>, xyz: bool) -> Result<(), String> {
    let (t0, c0) = (Instant::now(), cpu_now());
    let opts = ReaderOptions { threads: Some(threads), ..Default::default() };
    let r = Reader::open_with(source, &opts).map_err(|e| e.detail())?;
    let mut q = Query::new();
    if let Some(b) = bounds {
        let [x0, y0, x1, y1] = parse_box(b)?;
        q = q.bounds(Bounds::xy(x0, y0, x1, y1));
    }
    if let Some(res) = resolution {
        q = q.resolution(res);
    }
    if xyz {
        q = q.dims([Dimension::X, Dimension::Y, Dimension::Z]);
    }
    let nodes = r.nodes(&q).map_err(|e| e.detail())?;
    let decoded: u64 = nodes.iter().map(|n| n.point_count.max(0) as u64).sum();
    let mut points = 0u64;
    for batch in r.points(&q).map_err(|e| e.detail())? {
        points += batch.map_err(|e| e.detail())?.len() as u64;
    }
    let s = r.source_stats();
    println!(
        "{}",
        serde_json::json!({"points": points, "seconds": t0.elapsed().as_secs_f64(), "cpu": cpu_now() - c0, "requests": s.requests, "bytes": s.bytes, "nodes": nodes.len(), "decoded": decoded})
    );
    Ok(())
}

fn dataset_query(bounds: &str) -> Result<Query, String> {
    let [x0, y0, x1, y1] = parse_box(bounds)?;
    Ok(Query::new().bounds(Bounds::xy(x0, y0, x1, y1)))
}

fn dataset_plan(source: &str, bounds: &str, threads: usize) -> Result<(), String> {
    use copc::dataset::{Dataset, PlanTarget};
    let q = dataset_query(bounds)?;
    let (t0, c0) = (Instant::now(), cpu_now());
    let opts = ReaderOptions { threads: Some(threads), ..Default::default() };
    let ds = Dataset::open(source, &opts).map_err(|e| e.detail())?;
    let open_seconds = t0.elapsed().as_secs_f64();
    let parts = ds.plan(&q, PlanTarget::Points(1_000_000)).map_err(|e| e.detail())?;
    let seconds = t0.elapsed().as_secs_f64();
    let cpu = cpu_now() - c0;
    let points: u64 = parts.iter().map(|p| p.points).sum();
    let exact = parts.iter().filter(|p| p.exact).count();
    let nodes: usize = parts.iter().map(|p| p.keys.len()).sum();
    let s = ds.source_stats();
    println!(
        "{}",
        serde_json::json!({"points": points, "seconds": seconds, "cpu": cpu, "open_seconds": open_seconds, "partitions": parts.len(), "exact_partitions": exact,
            "nodes": nodes, "tiles": ds.items().len(), "tiles_in_box": ds.tiles_for(&q).len(), "tiles_opened": ds.opened().len(), "requests": s.requests, "bytes": s.bytes})
    );
    Ok(())
}

fn dataset_read(source: &str, bounds: &str, threads: usize) -> Result<(), String> {
    use copc::dataset::Dataset;
    let q = dataset_query(bounds)?;
    let (t0, c0) = (Instant::now(), cpu_now());
    let opts = ReaderOptions { threads: Some(threads), ..Default::default() };
    let ds = Dataset::open(source, &opts).map_err(|e| e.detail())?;
    let mut points = 0u64;
    for batch in ds.points(&q).map_err(|e| e.detail())? {
        points += batch.map_err(|e| e.detail())?.1.len() as u64;
    }
    let s = ds.source_stats();
    println!(
        "{}",
        serde_json::json!({"points": points, "seconds": t0.elapsed().as_secs_f64(), "cpu": cpu_now() - c0, "tiles_in_box": ds.tiles_for(&q).len(),
            "tiles_opened": ds.opened().len(), "requests": s.requests, "bytes": s.bytes})
    );
    Ok(())
}

fn vpc_parse(like: &str, items: usize) -> Result<(), String> {
    use copc::dataset::{Dataset, vpc};
    let template = copc::dataset::scan(like, &ReaderOptions::default(), false).map_err(|e| e.detail())?;
    let (cols, _) = super::dataset::grid(items);
    let (w, h) = (template.bounds.max[0] - template.bounds.min[0] + 1.0, template.bounds.max[1] - template.bounds.min[1] + 1.0);
    // Item by Item (pretty, as `copc index` writes them), so building the text does
    // not hold every Item's JSON tree at once: the peak RSS is the parse's
    let mut text = String::from("{\n  \"type\": \"FeatureCollection\",\n  \"features\": [\n");
    for i in 0..items {
        let row = {
            let (ix, iy) = ((i % cols) as f64, (i / cols) as f64);
            let mut it = template.clone();
            let (dx, dy) = (ix * w, iy * h);
            it.bounds = copc::Bounds::new(
                [it.bounds.min[0] + dx, it.bounds.min[1] + dy, it.bounds.min[2]],
                [it.bounds.max[0] + dx, it.bounds.max[1] + dy, it.bounds.max[2]],
            );
            it.id = format!("t{i:06}");
            let href = format!("./t{i:06}.copc.laz");
            vpc::item_json(&it, &href, "1970-01-01T00:00:00Z")
        };
        if i > 0 {
            text += ",\n";
        }
        text += &serde_json::to_string_pretty(&row).map_err(|e| e.to_string())?;
    }
    text += "\n  ]\n}\n";
    let rss_before = rss_now();
    let b = super::dataset::box_of(items, template.bounds.min, template.bounds.max, [w, h]);
    let q = Query::new().bounds(Bounds::xy(b[0], b[1], b[2], b[3]));
    let (t0, c0) = (Instant::now(), cpu_now());
    let parsed = vpc::parse(&text, "/data/all.vpc").map_err(|e| e.detail())?;
    let ds = Dataset::from_items("/data/all.vpc", parsed, &ReaderOptions::default());
    let parse_seconds = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let in_box = ds.tiles_for(&q).len();
    let tiles_for_seconds = t1.elapsed().as_secs_f64();
    let (seconds, cpu) = (t0.elapsed().as_secs_f64(), cpu_now() - c0);
    println!(
        "{}",
        serde_json::json!({"points": ds.point_count(), "seconds": seconds, "cpu": cpu, "items": ds.items().len(), "json_bytes": text.len(),
            "parse_seconds": parse_seconds, "tiles_for_seconds": tiles_for_seconds, "tiles_in_box": in_box,
            "rss_before_bytes": rss_before, "rss_after_bytes": rss_now()})
    );
    Ok(())
}

/// This process's resident set now, bytes (`VmRSS` of /proc/self/status; 0 if unknown).
fn rss_now() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<u64>().ok()))
        .map_or(0, |kib| kib * 1024)
}

/// Folds a column's bytes into a checksum, 8 bytes at a time (touches every value, as
/// a consumer would, at memory speed).
fn fold(sum: u64, bytes: &[u8]) -> u64 {
    let mut s = sum;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        s = s.rotate_left(5) ^ u64::from_le_bytes(w.try_into().unwrap_or_default());
    }
    for &b in words.remainder() {
        s = s.rotate_left(5) ^ b as u64;
    }
    s
}

fn arrow_read(source: &str, threads: usize) -> Result<(), String> {
    let (t0, c0) = (Instant::now(), cpu_now());
    let opts = ReaderOptions { threads: Some(threads), ..Default::default() };
    let r = Reader::open_with(source, &opts).map_err(|e| e.detail())?;
    use arrow_array::Array;
    let (mut points, mut sum, mut batches) = (0u64, 0u64, 0u64);
    for batch in r.arrow(&Query::new(), &copc::arrow::ArrowOptions::default()).map_err(|e| e.detail())? {
        let batch = batch.map_err(|e| e.to_string())?;
        for col in batch.columns() {
            let data = col.to_data();
            for b in data.buffers() {
                sum = fold(sum, b.as_slice());
            }
        }
        points += batch.num_rows() as u64;
        batches += 1;
    }
    println!("{}", serde_json::json!({"points": points, "seconds": t0.elapsed().as_secs_f64(), "cpu": cpu_now() - c0, "batches": batches, "checksum": sum}));
    Ok(())
}

fn column_read(source: &str, threads: usize) -> Result<(), String> {
    let (t0, c0) = (Instant::now(), cpu_now());
    let opts = ReaderOptions { threads: Some(threads), ..Default::default() };
    let r = Reader::open_with(source, &opts).map_err(|e| e.detail())?;
    let dims = r.record_format().dimensions();
    let sizes: Vec<usize> = dims.iter().map(|&d| r.record_format().value_size(d)).collect::<copc::Result<_>>().map_err(|e| e.detail())?;
    let mut column = Vec::new();
    let (mut points, mut sum) = (0u64, 0u64);
    for batch in r.points(&Query::new()).map_err(|e| e.detail())? {
        let batch = batch.map_err(|e| e.detail())?;
        let n = batch.len();
        for (&d, &size) in dims.iter().zip(&sizes) {
            column.resize(n * size, 0u8);
            batch.write_column(d, 0, n, &mut column, size).map_err(|e| e.detail())?;
            sum = fold(sum, &column);
        }
        points += n as u64;
    }
    println!("{}", serde_json::json!({"points": points, "seconds": t0.elapsed().as_secs_f64(), "cpu": cpu_now() - c0, "checksum": sum}));
    Ok(())
}

fn convert(input: &str, output: &str, threads: usize, memory_limit: &str, temp_dir: Option<String>, temp_compression: &str) -> Result<(), String> {
    use copc::writer::{PHASES, TempCompression, WriterOptions, parse_size, translate};
    let (t0, c0) = (Instant::now(), cpu_now());
    let opts = WriterOptions {
        threads: Some(threads),
        memory_limit: Some(parse_size(memory_limit).map_err(|e| e.detail())?),
        temp_dir: temp_dir.map(Into::into),
        temp_compression: TempCompression::parse(temp_compression).map_err(|e| e.detail())?,
        ..Default::default()
    };
    if copc::ept::is_ept_location(input) {
        let s = copc::ept::translate_ept(input, output, &opts).map_err(|e| e.detail())?;
        let note = format!("{} nodes copied, {} re-encoded", s.copied, s.reencoded);
        println!("{}", serde_json::json!({"points": s.points, "seconds": t0.elapsed().as_secs_f64(), "cpu": cpu_now() - c0, "note": note}));
        return Ok(());
    }
    let s = translate(&[input], output, &opts).map_err(|e| e.detail())?;
    println!(
        "{}",
        serde_json::json!({"points": s.points, "seconds": t0.elapsed().as_secs_f64(), "cpu": cpu_now() - c0, "spilled": s.spilled, "peak_temp_bytes": s.peak_temp_bytes,
            "phases": PHASES.iter().zip(&s.phases).map(|(n, p)| serde_json::json!({"phase": n, "wall": p.wall, "cpu": p.cpu})).collect::<Vec<_>>()})
    );
    Ok(())
}

fn lazrs(file: &str, threads: usize) -> Result<(), String> {
    use std::os::unix::fs::FileExt;
    // Finding the chunks is COPC logic: done before the clock starts.
    let r = Reader::open(file).map_err(|e| e.detail())?;
    let nodes = r.nodes(&Query::new()).map_err(|e| e.detail())?;
    let vlr = r.las().laz_vlr.clone().ok_or("not a LAZ file")?;
    let rl = vlr.items_size() as usize;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| e.to_string())?;
    drop(r);

    let (t0, c0) = (Instant::now(), cpu_now());
    let f = std::fs::File::open(file).map_err(|e| format!("{file}: {e}"))?;
    let total_bytes: usize = nodes.iter().map(|n| n.byte_size as usize).sum();
    let total_points: usize = nodes.iter().map(|n| n.point_count as usize).sum();
    let mut compressed = vec![0u8; total_bytes];
    let mut table = Vec::with_capacity(nodes.len());
    let mut at = 0;
    for n in &nodes {
        let len = n.byte_size as usize;
        f.read_exact_at(&mut compressed[at..at + len], n.offset).map_err(|e| format!("{file}: {e}"))?;
        at += len;
        table.push(laz::laszip::ChunkTableEntry { point_count: n.point_count as u64, byte_count: len as u64 });
    }
    let mut out = vec![0u8; total_points * rl];
    pool.install(|| laz::par_decompress(&compressed, &mut out, &vlr, &table)).map_err(|e| e.to_string())?;
    std::hint::black_box(&out);
    println!("{}", serde_json::json!({"points": total_points, "seconds": t0.elapsed().as_secs_f64(), "cpu": cpu_now() - c0}));
    Ok(())
}
