//! (7) The writer on arbitrary LAS/LAZ bytes, into a temp folder that is removed
//! after each run. What it writes must open, with the points it says it wrote;
//! when it fails, no output and no temp file may be left.
#![no_main]
mod common;

use copc::writer::{WriterOptions, translate};
use copc::{Reader, ReaderOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    common::init();
    let Some((&flags, las)) = data.split_first() else { return };
    let dir = tempfile::tempdir().expect("temp folder");
    let input = dir.path().join("input.las");
    let output = dir.path().join("out.copc.laz");
    let spill = dir.path().join("spill");
    std::fs::write(&input, las).expect("write the input");
    std::fs::create_dir(&spill).expect("spill folder");
    let opts = WriterOptions {
        threads: Some(1),
        // bit 0: a tiny budget, so points go through the spill files
        memory_limit: Some(if flags & 1 != 0 { 1 << 16 } else { 256 << 20 }),
        temp_dir: Some(spill.clone()),
        max_points_per_node: if flags & 2 != 0 { 64 } else { 100_000 },
        ..Default::default()
    };
    match translate(&[&input], &output, &opts) {
        Ok(summary) => {
            let r = Reader::open_with(&output, &ReaderOptions { threads: Some(1), ..Default::default() })
                .unwrap_or_else(|e| panic!("the writer's output does not open: {e}"));
            assert_eq!(r.header().point_count, summary.points);
            let s = r.hierarchy_summary().expect("the output's hierarchy");
            assert_eq!(s.points, summary.points);
        }
        Err(_) => assert!(!output.exists(), "a failed translation left its output"),
    }
    // Only the input, the output and the empty spill folder may remain.
    let keep = [input.as_path(), output.as_path(), spill.as_path()];
    let mut left: Vec<_> = std::fs::read_dir(dir.path()).expect("temp folder").map(|e| e.expect("entry").path()).collect();
    left.extend(std::fs::read_dir(&spill).expect("spill folder").map(|e| e.expect("entry").path()));
    left.retain(|p| !keep.contains(&p.as_path()));
    assert!(left.is_empty(), "temp files left behind: {left:?}");
});
