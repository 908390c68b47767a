//! The benchmark's input files: synthetic towns at each size (LAZ 1.2 PDRF 3 and
//! LAZ 1.4 PDRF 7, from `copc::sample`) and a real file tiled to ~2 M points. Inputs
//! are made once and kept in the work folder (delete it to remake them).

use copc::sample::{SampleOptions, write_sample};
use copc::{Query, Reader};
use std::path::{Path, PathBuf};

/// One LAS/LAZ input to convert (and, once converted, to read).
#[derive(Debug, Clone)]
pub struct Input {
    /// Short name for the tables, e.g. `town-10M-pdrf7`.
    pub name: String,
    /// What it is, for the report.
    pub description: String,
    pub path: PathBuf,
    pub points: u64,
    /// The read rows are run on this input's COPC file.
    pub read_rows: bool,
}

pub fn size_label(n: u64) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}M", n / 1_000_000)
    } else if n >= 1000 && n.is_multiple_of(1000) {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

/// "100 M", "1 B", "20 k": a size as the row titles of issue 19 say it.
pub fn size_words(n: u64) -> String {
    if n >= 1_000_000_000 && n.is_multiple_of(1_000_000_000) {
        format!("{} B", n / 1_000_000_000)
    } else if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{} M", n / 1_000_000)
    } else if n >= 1000 && n.is_multiple_of(1000) {
        format!("{} k", n / 1000)
    } else {
        n.to_string()
    }
}

pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1_000.0),
        Some('m' | 'M') => (&t[..t.len() - 1], 1_000_000.0),
        Some('b' | 'B' | 'g' | 'G') => (&t[..t.len() - 1], 1_000_000_000.0),
        _ => (t, 1.0),
    };
    let v: f64 = num.parse().map_err(|_| format!("'{s}' is not a size (e.g. 20k, 1M, 10M)"))?;
    if v <= 0.0 {
        return Err(format!("'{s}': the size must be positive"));
    }
    Ok((v * mult).round() as u64)
}

/// The synthetic town of `points` points in `format` (3: LAZ 1.2; 7: LAZ 1.4).
pub fn town(dir: &Path, points: u64, format: u8) -> Result<Input, String> {
    let name = format!("town-{}-pdrf{format}", size_label(points));
    let path = dir.join(format!("{name}.laz"));
    if !path.exists() {
        eprintln!("copc-bench: writing {}", path.display());
        let opts = SampleOptions { points, seed: 1, format, compressed: true, ..Default::default() };
        let tmp = path.with_extension("laz.part");
        write_sample(&tmp, &opts).map_err(|e| e.detail())?;
        std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let version = if format < 6 { "1.2" } else { "1.4" };
    Ok(Input {
        description: format!("synthetic town (copc::sample, seed 1), LAZ {version} PDRF {format}"),
        name,
        path,
        points,
        read_rows: format >= 6,
    })
}

/// A real COPC file's points laid out `nx` x `ny` times side by side (shifted by the
/// file's extent), as LAZ 1.4 with the source's point format, scale and CRS.
pub fn tiled(dir: &Path, source: &Path, target_points: u64) -> Result<Input, String> {
    use copc::writer::las_out::{LasOut, LasOutSpec};
    let r = Reader::open(source).map_err(|e| e.detail())?;
    let h = r.header().clone();
    let copies = (target_points as f64 / h.point_count.max(1) as f64).round().max(1.0) as u64;
    let nx = (copies as f64).sqrt().ceil() as u64;
    let stem = source.file_name().and_then(|s| s.to_str()).unwrap_or("real").trim_end_matches(".copc.laz").to_string();
    let name = format!("{stem}-x{copies}");
    let path = dir.join(format!("{name}.laz"));
    let points = h.point_count * copies;
    let description = format!(
        "{} ({} points, PDRF {}) tiled {copies} times side by side, LAZ 1.4",
        source.file_name().and_then(|s| s.to_str()).unwrap_or("?"),
        h.point_count,
        h.point_format
    );
    if !path.exists() {
        eprintln!("copc-bench: writing {}", path.display());
        let eb = match r.las().find("LASF_Spec", 4).map_err(|e| e.detail())? {
            Some(v) => Some(r.las().payload(v).map_err(|e| e.detail())?),
            None => None,
        };
        let spec = LasOutSpec {
            format: h.point_format,
            record_length: h.point_record_length,
            scale: h.scale,
            offset: h.offset,
            gps_standard_time: h.global_encoding() & 1 != 0,
            wkt: r.crs_wkt().map_err(|e| e.detail())?,
            extra_bytes_vlr: eb,
            compressed: true,
        };
        // shift per tile, in scale steps: the extent plus a metre
        let step = |i: usize| ((h.max[i] - h.min[i] + 1.0) / h.scale[i]).ceil() as i32;
        let (sx, sy) = (step(0), step(1));
        let tmp = path.with_extension("laz.part");
        let mut w = LasOut::create(&tmp, spec).map_err(|e| e.detail())?;
        let rl = h.point_record_length as usize;
        let batches: Vec<Vec<u8>> =
            r.points(&Query::new()).map_err(|e| e.detail())?.map(|b| b.map(|b| b.records().to_vec())).collect::<Result<_, _>>().map_err(|e| e.detail())?;
        for c in 0..copies {
            let (dx, dy) = ((c % nx) as i32 * sx, (c / nx) as i32 * sy);
            for b in &batches {
                let mut recs = b.clone();
                for rec in recs.chunks_exact_mut(rl) {
                    let x = i32::from_le_bytes(rec[0..4].try_into().unwrap_or_default()) + dx;
                    let y = i32::from_le_bytes(rec[4..8].try_into().unwrap_or_default()) + dy;
                    rec[0..4].copy_from_slice(&x.to_le_bytes());
                    rec[4..8].copy_from_slice(&y.to_le_bytes());
                }
                w.write(&recs).map_err(|e| e.detail())?;
            }
        }
        w.finish().map_err(|e| e.detail())?;
        // LasOut writes through a temp name of its own and renames to `tmp`
        std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(Input { name, description, path, points, read_rows: true })
}

/// Our COPC file of a town (our writer, untimed, kept in the work folder), for the
/// PDAL and Arrow read rows.
pub fn copc_of(ctx: &super::Ctx, name: &str, laz: &Path) -> Result<PathBuf, String> {
    let path = ctx.work.join(format!("{name}.in.copc.laz"));
    if !path.exists() {
        eprintln!("copc-bench: writing {}", path.display());
        let opts = copc::writer::WriterOptions { threads: Some(ctx.args.threads), ..Default::default() };
        let tmp = ctx.work.join(format!("{name}.in.part.copc.laz"));
        copc::writer::translate(&[laz], &tmp, &opts).map_err(|e| e.detail())?;
        std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(path)
}

/// Every read row's query box: centred on the header's bounds, each side sqrt(0.2) of
/// the extent (20% of the area), as [minx, miny, maxx, maxy].
pub fn box20(h: &copc::format::Header) -> [f64; 4] {
    let f = 0.2f64.sqrt();
    let (cx, cy) = ((h.min[0] + h.max[0]) / 2.0, (h.min[1] + h.max[1]) / 2.0);
    let (hw, hh) = ((h.max[0] - h.min[0]) * f / 2.0, (h.max[1] - h.min[1]) * f / 2.0);
    [cx - hw, cy - hh, cx + hw, cy + hh]
}

/// [`box20`] of a COPC file.
pub fn box20_of(copc: &Path) -> Result<[f64; 4], String> {
    Ok(box20(copc::Reader::open(copc).map_err(|e| e.detail())?.header()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(parse_size("20k"), Ok(20_000));
        assert_eq!(parse_size("1M"), Ok(1_000_000));
        assert_eq!(parse_size("2.5M"), Ok(2_500_000));
        assert_eq!(parse_size("123"), Ok(123));
        assert_eq!(parse_size("1B"), Ok(1_000_000_000));
        assert_eq!(size_words(100_000_000), "100 M");
        assert_eq!(size_words(1_000_000_000), "1 B");
        assert!(parse_size("x").is_err());
        assert!(parse_size("0").is_err());
        assert_eq!(size_label(50_000_000), "50M");
        assert_eq!(size_label(20_000), "20k");
        assert_eq!(size_label(1234), "1234");
    }
}
