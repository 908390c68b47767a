//! `copc sample`: the synthetic point cloud generator on its own.

use super::Failure;
use copc::sample::{SampleOptions, write_sample};

/// Write a realistic synthetic point cloud (terrain, buildings, vegetation, several
/// returns, GPS time, colour) as LAS or LAZ (by the output's extension).
#[derive(clap::Args)]
#[command(about = "Write a synthetic point cloud as LAS/LAZ", after_help = "Examples:\n  copc sample town.laz --points 1000000 --seed 7")]
pub struct SampleArgs {
    /// Output file (.las or .laz).
    output: String,
    /// Number of points.
    #[arg(long, default_value_t = 1_000_000)]
    points: u64,
    /// Seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Point format: 3 (LAS 1.2) or 6, 7, 8 (LAS 1.4).
    #[arg(long, default_value_t = 7)]
    format: u8,
    /// Add two extra-bytes dimensions.
    #[arg(long)]
    extra_bytes: bool,
}

pub fn run(a: SampleArgs) -> Result<(), Failure> {
    let compressed = a.output.to_ascii_lowercase().ends_with(".laz");
    let opts = SampleOptions { points: a.points, seed: a.seed, format: a.format, compressed, extra_bytes: a.extra_bytes, ..Default::default() };
    let t0 = std::time::Instant::now();
    let s = write_sample(&a.output, &opts).map_err(|e| Failure::msg(&a.output, e.detail()))?;
    println!("{}: {} points, format {}, in {:.2} s", a.output, s.points, s.format, t0.elapsed().as_secs_f64());
    Ok(())
}
