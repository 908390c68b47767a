//! `copc query`: select points by box, resolution and depth.

use super::Failure;
use copc::{Bounds, Query};

/// Select points from a COPC file by box, resolution and depth.
///
/// Example: copc query autzen.copc.laz --bounds 637000,851000,638000,852000 --resolution 2 --count
#[derive(clap::Args)]
pub struct QueryArgs {
    /// The COPC file: a path or an http(s):// URL.
    source: String,
    #[command(flatten)]
    src: super::SourceArgs,
    /// minx,miny,maxx,maxy[,minz,maxz] (edges inclusive; without Z the box spans all heights).
    #[arg(long, allow_hyphen_values = true)]
    bounds: Option<String>,
    /// Keep the octree levels needed for this point spacing (PDAL/laspy rule).
    #[arg(long)]
    resolution: Option<f64>,
    /// Deepest octree level to read (root = 0).
    #[arg(long)]
    max_depth: Option<i32>,
    /// Dimensions to decode, comma-separated (e.g. x,y,z,classification).
    #[arg(long, value_delimiter = ',')]
    dims: Option<Vec<String>>,
    /// Print the number of matching points.
    #[arg(long, required = true)]
    count: bool,
    /// Print what the query cost on stderr: nodes, requests, bytes, retries, time.
    #[arg(long)]
    stats: bool,
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

pub fn run(a: QueryArgs) -> Result<(), Failure> {
    let fail = |e| Failure::new(&a.source, e);
    let t0 = std::time::Instant::now();
    let r = a.src.open(&a.source)?;
    let mut q = Query::new();
    if let Some(b) = &a.bounds {
        q.bounds = Some(parse_bounds(b).map_err(|m| Failure::msg(&a.source, m))?);
    }
    q.resolution = a.resolution;
    q.max_depth = a.max_depth;
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
