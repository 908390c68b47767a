//! (2) Open + a query (box, resolution, dims from the first 18 bytes) on mutated
//! COPC files. A query that streams points must agree with `count`.
#![no_main]
mod common;

use copc::fuzzing::{Params, QueryInput};
use copc::{MemorySource, Reader, ReaderOptions};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    common::init();
    let mut p = Params(data);
    let input = QueryInput::decode(&mut p);
    let src = Arc::new(MemorySource::new("fuzz.copc.laz", p.rest().to_vec()));
    let Ok(r) = Reader::from_source(src, &ReaderOptions::default()) else { return };
    // GPS time included: the patched laz bounds its decoder (FUZZING.md, finding 5).
    let q = input.query(&r.cube(), r.info().spacing);
    let dims = q.dims.clone().unwrap_or_else(|| r.record_format().dimensions());
    let Ok(nodes) = r.nodes(&q) else { return };
    let Ok(iter) = r.points(&q) else { return };
    let mut streamed = Some(0u64);
    for batch in iter {
        match batch {
            Ok(b) => {
                common::touch_columns(&b, &dims);
                streamed = streamed.map(|n| n + b.len() as u64);
            }
            Err(_) => streamed = None,
        }
    }
    if let (Some(n), Ok(counted)) = (streamed, r.count(&q)) {
        assert_eq!(n, counted, "points() and count() disagree over {} nodes", nodes.len());
    }
    if let Some(first) = nodes.first() {
        let _ = r.read_node(first.key, q.dims.as_deref());
    }
});
