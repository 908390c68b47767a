//! `translate IN... OUT [--threads N] [--memory-limit SIZE] [--temp-dir DIR] [--max-points-per-node N]`
//! (a stand-in for `copc translate` while the CLI is wired).
use copc::writer::{WriterOptions, parse_size, translate};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut opts = WriterOptions::default();
    let mut files = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => opts.threads = Some(args.next().unwrap().parse().unwrap()),
            "--memory-limit" => opts.memory_limit = Some(parse_size(&args.next().unwrap()).unwrap()),
            "--temp-dir" => opts.temp_dir = Some(args.next().unwrap().into()),
            "--max-points-per-node" => opts.max_points_per_node = args.next().unwrap().parse().unwrap(),
            "--scale" => opts.scale = Some(copc::writer::parse_scale(&args.next().unwrap()).unwrap()),
            "--offset" => opts.offset = Some(copc::writer::parse_offset(&args.next().unwrap()).unwrap()),
            "--a-srs" => opts.a_srs = Some(args.next().unwrap()),
            _ => files.push(a),
        }
    }
    let out = files.pop().expect("usage: translate IN... OUT");
    let t = std::time::Instant::now();
    match translate(&files, &out, &opts) {
        Ok(s) => {
            for w in &s.warnings {
                eprintln!("warning: {w}");
            }
            println!(
                "{} points, {} nodes, {} pages, spilled {} (peak temp {} MB) in {:.2} s (read/build/write {:.2?})",
                s.points,
                s.nodes,
                s.hierarchy_pages,
                s.spilled,
                s.peak_temp_bytes >> 20,
                t.elapsed().as_secs_f64(),
                s.seconds
            );
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
