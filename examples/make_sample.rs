//! Writes a synthetic point cloud: `make_sample OUT POINTS [FORMAT] [SEED] [--las] [--eb]`.
use copc::sample::{SampleOptions, write_sample};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pos: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    if pos.len() < 2 {
        eprintln!("usage: make_sample OUT POINTS [FORMAT] [SEED] [--las] [--eb]");
        std::process::exit(2);
    }
    let opts = SampleOptions {
        points: pos[1].parse().expect("POINTS"),
        format: pos.get(2).map(|s| s.parse().expect("FORMAT")).unwrap_or(7),
        seed: pos.get(3).map(|s| s.parse().expect("SEED")).unwrap_or(1),
        compressed: !args.iter().any(|a| a == "--las"),
        extra_bytes: args.iter().any(|a| a == "--eb"),
        ..Default::default()
    };
    let t = std::time::Instant::now();
    match write_sample(pos[0], &opts) {
        Ok(s) => println!("{} points in {:.2} s: {:?}", s.points, t.elapsed().as_secs_f64(), s),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
