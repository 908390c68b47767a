//! `copc info` and `copc query` on a dataset (`.vpc` / STAC ItemCollection JSON).

use super::Failure;
use super::query::{QueryArgs, csv_outcome, region_query, write_csv_from, write_points_from};
use copc::dataset::Dataset;
use copc::{Dimension, PointBatch};
use serde_json::{Value, json};

pub fn open(src: &super::SourceArgs, location: &str) -> Result<Dataset, Failure> {
    Dataset::open(location, &src.reader_options(location)?).map_err(|e| Failure::new(location, e))
}

/// `copc info` of a dataset: totals and one line per tile (from the VPC, no tile opened).
pub fn info(src: &super::SourceArgs, location: &str, as_json: bool) -> Result<(), Failure> {
    let ds = open(src, location)?;
    let items = ds.items();
    let mut min = [f64::INFINITY; 3];
    let mut max = [f64::NEG_INFINITY; 3];
    for it in items {
        for k in 0..3 {
            min[k] = min[k].min(it.bounds.min[k]);
            max[k] = max[k].max(it.bounds.max[k]);
        }
    }
    let plain = items.iter().filter(|i| i.is_plain_las()).count();
    let tiles: Vec<Value> = items
        .iter()
        .map(|it| {
            json!({"id": it.id, "href": it.href, "point_count": it.count, "bounds": {"min": it.bounds.min, "max": it.bounds.max},
                   "encoding": it.encoding, "epsg": it.epsg, "copc": !it.is_plain_las()})
        })
        .collect();
    let v = json!({"dataset": location, "files": items.len(), "point_count": ds.point_count(),
                   "bounds": {"min": min, "max": max}, "not_copc": plain, "tiles": tiles});
    if as_json {
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        println!("{location}: dataset of {} files, {} points{}", items.len(), ds.point_count(), if plain > 0 { format!(" ({plain} not COPC)") } else { String::new() });
        println!("  bounds: {:?} .. {:?}", min, max);
        for it in items {
            println!("  {}  {} points  {:?} .. {:?}{}", it.href, it.count, it.bounds.min, it.bounds.max, if it.is_plain_las() { "  (not COPC)" } else { "" });
        }
    }
    Ok(())
}

/// Re-expresses each batch's X/Y/Z integers in the first tile's scale and offset
/// (raw records of tiles with other transforms would otherwise be misread).
fn requantize(b: PointBatch, to: &std::sync::Arc<copc::RecordFormat>) -> copc::Result<PointBatch> {
    let from = b.format().transform;
    let t = to.transform;
    if from.scale == t.scale && from.offset == t.offset {
        return Ok(b);
    }
    let xyz = b.xyz();
    let rl = b.format().layout.record_length;
    let mut recs = b.records().to_vec();
    for (i, p) in xyz.iter().enumerate() {
        for k in 0..3 {
            let v = ((p[k] - t.offset[k]) / t.scale[k]).round();
            if !(i32::MIN as f64..=i32::MAX as f64).contains(&v) {
                return Err(copc::Error::invalid(format!("a point at {p:?} does not fit the first tile's scale and offset")));
            }
            recs[i * rl + 4 * k..i * rl + 4 * k + 4].copy_from_slice(&(v as i32).to_le_bytes());
        }
    }
    b.with_records(recs, to.clone())
}

pub fn run(a: QueryArgs) -> Result<(), Failure> {
    let t0 = std::time::Instant::now();
    let ds = open(&a.src, &a.source)?;
    let fail = |e| Failure::about(&a.source, e);
    let mut q = region_query(&a)?;
    let tiles = ds.tiles_for(&q);
    let first = match tiles.first() {
        Some(&i) => Some(ds.reader(i).map_err(fail)?),
        None => None,
    };
    if let (Some(names), Some(r)) = (&a.dims, &first) {
        let fmt = r.record_format();
        let dims = names
            .iter()
            .map(|n| fmt.dim_by_name(n).ok_or_else(|| Failure::msg(&a.source, format!("--dims: no dimension named '{n}'"))))
            .collect::<Result<Vec<Dimension>, _>>()?;
        q.dims = Some(dims);
    }
    if a.output.is_some() || a.csv.is_some() {
        // every tile readable and of one layout before anything is written
        ds.check_uniform(&q).map_err(fail)?;
    }
    if a.count {
        println!("{}", ds.count(&q).map_err(fail)?);
    }
    if let Some(out) = &a.output {
        if a.dims.is_some() {
            return Err(Failure::msg(out, "--dims does not apply to -o: files get every dimension"));
        }
        q.dims = None;
        let Some(r) = &first else { return Err(Failure::msg(&a.source, "no tile meets the query: nothing to write")) };
        let fmt = std::sync::Arc::new(r.record_format().clone());
        let batches = ds.points(&q).map_err(fail)?.map(move |b| b.and_then(|(_, b)| requantize(b, &fmt)));
        let n = write_points_from(r, Box::new(batches), out, a.src.threads)?;
        eprintln!("{out}: {n} points");
    }
    if let Some(out) = &a.csv {
        let Some(r) = &first else { return Err(Failure::msg(&a.source, "no tile meets the query: nothing to write")) };
        let batches = ds.points(&q).map_err(fail)?.map(|b| b.map(|(_, b)| b));
        csv_outcome(write_csv_from(r.record_format(), Box::new(batches), &q, out), &a.source, out)?;
    }
    if a.stats {
        let s = ds.source_stats();
        let nodes: usize = tiles.iter().map(|&i| ds.reader(i).and_then(|r| r.nodes(&q)).map(|n| n.len())).sum::<copc::Result<usize>>().map_err(fail)?;
        eprintln!(
            "stats: files {}, files in box {}, files opened {}, nodes {nodes}, requests {}, bytes {}, retries {}, seconds {:.3}",
            ds.items().len(),
            tiles.len(),
            ds.opened().len(),
            s.requests,
            s.bytes,
            s.retries,
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
