//! (1) Open + info on arbitrary bytes: everything `copc info` shows.
#![no_main]
mod common;

use copc::{MemorySource, Reader, ReaderOptions};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    common::init();
    let src = Arc::new(MemorySource::new("fuzz.copc.laz", data.to_vec()));
    let Ok(r) = Reader::from_source(src, &ReaderOptions::default()) else { return };
    let _ = (r.header(), r.info(), r.cube(), r.extra_bytes(), r.is_draft());
    let _ = r.crs_wkt();
    for dim in r.record_format().dimensions() {
        let _ = r.record_format().dim_name(dim);
    }
    let summary = r.hierarchy_summary();
    let entries = r.all_entries();
    if let (Ok(s), Ok(e)) = (summary, entries) {
        assert_eq!(s.nodes, e.len(), "the summary and the entry list disagree");
    }
});
