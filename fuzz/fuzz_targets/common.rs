//! Shared by every fuzz target.
#![allow(dead_code)]

use std::sync::Once;

/// libfuzzer-sys aborts on every panic, even one that is caught. The reader catches
/// laz-rs panics on corrupt chunks by design (`reader/decode.rs`) and reports them
/// as errors, so those unwind quietly; any other panic prints and aborts: a finding.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // laz from the registry (".../laz-0.13.0/src") or patched (vendor/laz/PATCH.md).
            let in_laz = info.location().is_some_and(|l| l.file().contains("/laz-") || l.file().contains("vendor/laz/"));
            if !in_laz {
                default(info);
                std::process::abort();
            }
        }));
    });
}

/// Reads every column of a batch as its own type (through the raw column writer).
pub fn touch_columns(batch: &copc::PointBatch, dims: &[copc::Dimension]) {
    for &dim in dims {
        let Ok(size) = batch.format().value_size(dim) else { continue };
        let mut buf = vec![0u8; batch.len() * size];
        let written = batch.write_column(dim, 0, batch.len(), &mut buf, size);
        assert!(written.is_ok() || batch.is_empty() || dim.extra_index().is_some(), "{dim:?}: {written:?}");
    }
}
