//! `copc query`: select points by box, resolution and depth.

use super::Failure;
use copc::writer::temp::{OutputFile, SpillDir};
use copc::{Bounds, Query};
use std::path::Path;

/// Select points from a COPC file by box, polygon, resolution and depth; print the
/// count, or write them as LAS/LAZ 1.4, as a new COPC file, or as CSV.
#[derive(clap::Args)]
#[command(about = "Select points by box, polygon, resolution or depth: count, LAS/LAZ, COPC or CSV", after_help = "Examples:\n  copc query autzen.copc.laz --bounds 637000,851000,638000,852000 --resolution 2 --count\n  copc query https://example.com/autzen.copc.laz --polygon @area.geojson --csv - --dims x,y,z,classification\n  copc query big.copc.laz --bounds 637000,851000,638000,852000 -o subset.copc.laz")]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["count", "csv", "output"])))]
pub struct QueryArgs {
    /// The COPC file (a path or an http(s)/s3/az/gs URL), or a dataset: a .vpc or STAC ItemCollection .json.
    pub(crate) source: String,
    #[command(flatten)]
    pub(crate) src: super::SourceArgs,
    /// minx,miny,maxx,maxy[,minz,maxz] (edges inclusive; without Z the box spans all heights).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) bounds: Option<String>,
    /// Keep points inside a 2-D polygon: WKT (POLYGON/MULTIPOLYGON), or @FILE holding WKT or GeoJSON.
    #[arg(long)]
    pub(crate) polygon: Option<String>,
    /// Keep the octree levels needed for this point spacing (PDAL/laspy rule).
    #[arg(long)]
    pub(crate) resolution: Option<f64>,
    /// Deepest octree level to read (root = 0).
    #[arg(long)]
    pub(crate) max_depth: Option<i32>,
    /// Dimensions to decode, comma-separated (e.g. x,y,z,classification).
    #[arg(long, value_delimiter = ',')]
    pub(crate) dims: Option<Vec<String>>,
    /// Print the number of matching points.
    #[arg(long)]
    pub(crate) count: bool,
    /// Write the points to OUT: .las, .laz (LAS 1.4), or .copc.laz (a new COPC file).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub(crate) output: Option<String>,
    /// Write the points as CSV to FILE ('-' for stdout); columns are --dims (default: all).
    #[arg(long, value_name = "FILE")]
    pub(crate) csv: Option<String>,
    /// Print what the query cost on stderr: nodes, requests, bytes, retries, time.
    #[arg(long)]
    pub(crate) stats: bool,
}

pub fn parse_bounds(s: &str) -> Result<Bounds, String> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>().map_err(|_| format!("--bounds: '{p}' is not a number")))
        .collect::<Result<_, _>>()?;
    let b = match v.as_slice() {
        [x0, y0, x1, y1] => Bounds::xy(*x0, *y0, *x1, *y1),
        [x0, y0, x1, y1, z0, z1] => Bounds::new([*x0, *y0, *z0], [*x1, *y1, *z1]),
        _ => return Err(format!("--bounds takes 4 or 6 numbers (minx,miny,maxx,maxy[,minz,maxz]), got {}", v.len())),
    };
    Ok(b)
}

/// The query's region and levels (not its dimensions).
pub(crate) fn region_query(a: &QueryArgs) -> Result<Query, Failure> {
    let mut q = Query::new();
    if let Some(b) = &a.bounds {
        q.bounds = Some(parse_bounds(b).map_err(|m| Failure::msg(&a.source, m))?);
    }
    if let Some(p) = &a.polygon {
        let text = match p.strip_prefix('@') {
            Some(path) => std::fs::read_to_string(path).map_err(|e| Failure::msg(path, format!("cannot read the polygon: {e}")))?,
            None => p.clone(),
        };
        q.polygon = Some(std::sync::Arc::new(copc::Polygon::parse(&text).map_err(|e| Failure::msg(&a.source, format!("--polygon: {}", e.detail())))?));
    }
    q.resolution = a.resolution;
    q.max_depth = a.max_depth;
    Ok(q)
}

pub fn run(a: QueryArgs) -> Result<(), Failure> {
    if copc::dataset::is_dataset_location(&a.source) {
        return super::dataset_query::run(a);
    }
    let fail = |e| Failure::new(&a.source, e);
    let t0 = std::time::Instant::now();
    let r = a.src.open(&a.source)?;
    let mut q = region_query(&a)?;
    if let Some(names) = &a.dims {
        let fmt = r.record_format();
        let dims = names
            .iter()
            .map(|n| fmt.dim_by_name(n).ok_or_else(|| Failure::msg(&a.source, format!("--dims: no dimension named '{n}'"))))
            .collect::<Result<Vec<_>, _>>()?;
        q.dims = Some(dims);
    }
    if a.count {
        println!("{}", r.count(&q).map_err(fail)?);
    }
    if let Some(out) = &a.output {
        if a.dims.is_some() {
            return Err(Failure::msg(out, "--dims does not apply to -o: files get every dimension"));
        }
        q.dims = None;
        let n = write_points(&r, &q, out, a.src.threads)?;
        eprintln!("{out}: {n} points");
    }
    if let Some(out) = &a.csv {
        csv_outcome(write_csv(&r, &q, out), &a.source, out)?;
    }
    if a.stats {
        let s = r.source_stats();
        let nodes = r.nodes(&q).map_err(fail)?.len();
        eprintln!(
            "stats: nodes {nodes}, requests {}, bytes {}, retries {}, seconds {:.3}",
            s.requests,
            s.bytes,
            s.retries,
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Point batches from one file or many.
pub(crate) type Batches<'a> = Box<dyn Iterator<Item = copc::Result<copc::PointBatch>> + 'a>;

pub(crate) enum CsvError {
    /// Reading the source.
    Copc(copc::Error),
    /// Creating or committing the output file.
    Output(copc::Error),
    Io(std::io::Error),
}

/// What `--csv` tells the user when writing failed (`source` is the input, `out` the CSV).
pub(crate) fn csv_outcome(result: Result<(), CsvError>, source: &str, out: &str) -> Result<(), Failure> {
    match result {
        Ok(()) => Ok(()),
        // the reader of a pipe went away (e.g. `| head`): stop quietly, like other tools
        Err(CsvError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(CsvError::Io(e)) => Err(Failure::msg(out, format!("cannot write: {e}"))),
        Err(CsvError::Copc(e)) => Err(Failure::about(source, e)),
        Err(CsvError::Output(e)) => Err(Failure::msg(out, e.detail())),
    }
}

impl From<copc::Error> for CsvError {
    fn from(e: copc::Error) -> Self {
        CsvError::Copc(e)
    }
}

impl From<std::io::Error> for CsvError {
    fn from(e: std::io::Error) -> Self {
        CsvError::Io(e)
    }
}

/// Writes the query's points as CSV: a header of dimension names, then one row per point.
fn write_csv(r: &copc::Reader, q: &Query, out: &str) -> Result<(), CsvError> {
    write_csv_from(r.record_format(), Box::new(r.points(q)?), q, out)
}

/// CSV of `batches` (described by `fmt`: names, scale of the coordinates).
pub(crate) fn write_csv_from(fmt: &copc::RecordFormat, batches: Batches<'_>, q: &Query, out: &str) -> Result<(), CsvError> {
    use copc::Dimension;
    use std::io::Write;
    let dims: Vec<Dimension> = q.dims.clone().unwrap_or_else(|| fmt.dimensions());
    // a file appears at `out` only when complete (see copc::writer::temp)
    let file = match out {
        "-" => None,
        _ => Some(OutputFile::create(Path::new(out)).map_err(CsvError::Output)?),
    };
    let sink: Box<dyn Write> = match &file {
        None => Box::new(std::io::stdout().lock()),
        Some(f) => Box::new(f.handle().map_err(CsvError::Output)?),
    };
    let mut w = std::io::BufWriter::with_capacity(1 << 20, sink);
    let names: Vec<String> = dims.iter().map(|d| fmt.dim_name(*d)).collect();
    writeln!(w, "{}", names.join(","))?;
    // coordinates with as many decimals as the scale has: exact and no longer
    let decimals = |s: f64| (-s.abs().log10()).ceil().clamp(0.0, 15.0) as usize;
    let scale = fmt.transform.scale;
    let mut columns: Vec<Vec<f64>> = vec![Vec::new(); dims.len()];
    for batch in batches {
        let batch = batch?;
        for (c, d) in columns.iter_mut().zip(&dims) {
            *c = column_f64(&batch, *d)?;
        }
        for i in 0..batch.len() {
            for (k, (c, d)) in columns.iter().zip(&dims).enumerate() {
                if k > 0 {
                    w.write_all(b",")?;
                }
                match d {
                    Dimension::X => write!(w, "{:.*}", decimals(scale[0]), c[i])?,
                    Dimension::Y => write!(w, "{:.*}", decimals(scale[1]), c[i])?,
                    Dimension::Z => write!(w, "{:.*}", decimals(scale[2]), c[i])?,
                    _ => write!(w, "{}", c[i])?,
                }
            }
            w.write_all(b"\n")?;
        }
    }
    w.flush()?;
    drop(w);
    if let Some(f) = file {
        f.commit().map_err(CsvError::Output)?;
    }
    Ok(())
}

/// Any column widened to f64 (exact for every LAS type but u64/i64 extra bytes).
fn column_f64(b: &copc::PointBatch, d: copc::Dimension) -> copc::Result<Vec<f64>> {
    use copc::format::point::DimType;
    Ok(match b.format().value_type(d)?.0 {
        DimType::F64 => b.column::<f64>(d)?,
        DimType::F32 => b.column::<f32>(d)?.into_iter().map(f64::from).collect(),
        DimType::I8 => b.column::<i8>(d)?.into_iter().map(f64::from).collect(),
        DimType::U32 => b.column::<u32>(d)?.into_iter().map(f64::from).collect(),
        DimType::U64 => b.column::<u64>(d)?.into_iter().map(|v| v as f64).collect(),
        DimType::I64 => b.column::<i64>(d)?.into_iter().map(|v| v as f64).collect(),
        DimType::I32 => b.column::<i32>(d)?.into_iter().map(f64::from).collect(),
        DimType::U16 => b.column::<u16>(d)?.into_iter().map(f64::from).collect(),
        DimType::I16 => b.column::<i16>(d)?.into_iter().map(f64::from).collect(),
        DimType::U8 => b.column::<u8>(d)?.into_iter().map(f64::from).collect(),
    })
}

/// Writes the query's points as LAS/LAZ 1.4, or as COPC through a temp LAS file and
/// the writer (which keeps the source's scale, offset, CRS and extra bytes).
/// Prefix of the temp folders of `-o *.copc.laz`.
const SUBSET_PREFIX: &str = "copc-subset-";

fn write_points(r: &copc::Reader, q: &Query, out: &str, threads: Option<usize>) -> Result<u64, Failure> {
    let batches = r.points(q).map_err(|e| Failure::new(r.name(), e))?;
    write_points_from(r, Box::new(batches), out, threads)
}

/// Writes `batches` with the header of `r` (their records must have its layout).
pub(crate) fn write_points_from(r: &copc::Reader, batches: Batches<'_>, out: &str, threads: Option<usize>) -> Result<u64, Failure> {
    use copc::writer::las_out::{LasOut, LasOutSpec};
    let lower = out.to_ascii_lowercase();
    let copc_out = lower.ends_with(".copc.laz");
    if !(copc_out || lower.ends_with(".las") || lower.ends_with(".laz")) {
        return Err(Failure::msg(out, "-o: the name must end in .las, .laz or .copc.laz"));
    }
    let src = r.name().to_string();
    let h = r.header();
    // several descriptor VLRs come out as one that describes every extra dimension
    let eb = r.las().extra_bytes_merged().map_err(|e| Failure::new(&src, e))?.1;
    let spec = LasOutSpec {
        format: h.point_format,
        record_length: h.point_record_length,
        scale: h.scale,
        offset: h.offset,
        gps_standard_time: h.global_encoding() & 1 != 0,
        wkt: r.crs_wkt().map_err(|e| Failure::new(&src, e))?,
        extra_bytes_vlr: eb,
        compressed: lower.ends_with(".laz") && !copc_out,
    };
    if copc_out {
        // an unwritable target fails before the points are read
        copc::writer::temp::check_target(Path::new(out)).map_err(|e| Failure::msg(out, e.detail()))?;
    }
    // A COPC output is built from a LAS file of the points in a locked folder in the
    // temp folder (removed on drop; a killed run's folder is swept by the next run).
    let spill = if copc_out {
        let tmp = std::env::temp_dir();
        copc::writer::temp::sweep_stale_dirs(&tmp, SUBSET_PREFIX);
        Some(SpillDir::create_with_prefix(&tmp, SUBSET_PREFIX).map_err(|e| Failure::msg(out, e.detail()))?)
    } else {
        None
    };
    let las_path = match &spill {
        Some(d) => d.path().join("subset.las"),
        None => Path::new(out).to_path_buf(),
    };
    let mut w = LasOut::create(&las_path, spec).map_err(|e| Failure::msg(out, e.detail()))?;
    for batch in batches {
        let batch = batch.map_err(|e| Failure::new(&src, e))?;
        w.write(batch.records()).map_err(|e| Failure::msg(out, e.detail()))?;
    }
    let n = w.finish().map_err(|e| Failure::msg(out, e.detail()))?;
    if copc_out {
        let opts = copc::writer::WriterOptions { threads, ..Default::default() };
        copc::writer::translate(&[&las_path], out, &opts).map_err(|e| Failure::msg(out, e.detail()))?;
    }
    Ok(n)
}
