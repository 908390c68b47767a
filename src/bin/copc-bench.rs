//! `copc-bench`: our reader and writer against peer tools, in one run, into BENCHMARKS.md.
//! See bench/README.md for what it measures and how.
mod bench;

fn main() {
    std::process::exit(bench::main());
}
