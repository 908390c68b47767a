//! Hostile files: every structure of a COPC file truncated or corrupted on purpose.
//! Each variant must give an error (naming the file) or correct points; never a
//! panic, and never an allocation larger than a small multiple of the file.

mod support;
#[path = "support/hostile.rs"]
mod hostile;

use hostile::{Checker, read_all};
use support::mini_copc::{self, Options};

/// The mini file every hostile variant starts from (two page levels).
fn base() -> support::mini_copc::MiniCopc {
    mini_copc::build(&Options { points: 3000, max_level: 2, page_level: 1, ..Default::default() })
}

#[test]
fn corrupted_files_give_errors_not_panics() {
    let _alone = hostile::one_at_a_time();
    let m = base();
    let valid = read_all(&m.bytes).expect("the unmodified file reads");
    assert_eq!(valid, m.sorted_records(|_| true));
    let mut c = Checker::new(m.bytes.len(), valid, "corrupt.copc.laz");
    for v in hostile::variants(&m) {
        let bytes = v.bytes;
        c.check_with(&v.what, v.chunk_bytes, || read_all(&bytes));
    }
    c.finish();
}

#[test]
fn real_files_cut_at_every_kilobyte() {
    let _alone = hostile::one_at_a_time();
    let Some(dir) = support::test_data("real_files_cut_at_every_kilobyte") else { return };
    for name in ["pdal_1.2-with-color.copc.laz", "laspy_simple_with_page.copc.laz", "lastools_example.copc.laz"] {
        let good = std::fs::read(dir.join(name)).unwrap();
        let valid = read_all(&good).expect("the real file reads");
        let mut c = Checker::new(good.len(), valid, "corrupt.copc.laz");
        for cut in (0..good.len()).step_by(1024).chain([good.len() - 1]) {
            c.check(&format!("{name} cut at {cut}"), good[..cut].to_vec());
        }
        assert_eq!(c.errors, c.variants, "{name}: every cut is an error");
        c.finish();
    }
}
