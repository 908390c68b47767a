//! (3) One LAZ chunk decoded as one octree node (formats 6-8, any extra bytes, any
//! layer selection, the hierarchy's point count from the input).
#![no_main]
mod common;

use copc::VoxelKey;
use copc::fuzzing::{NodeInput, Params};
use copc::reader::{ChunkAt, ChunkCodec};
use laz::{DecompressionSelection, LazItemRecordBuilder, LazVlr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    common::init();
    let mut p = Params(data);
    let input = NodeInput::decode(&mut p);
    let Ok(items) = LazItemRecordBuilder::default_for_point_format_id(input.format, input.extra as u16) else { return };
    let codec = ChunkCodec::new(LazVlr::from_laz_items(items), 3);
    let at = ChunkAt { source: "fuzz", key: VoxelKey::ROOT, offset: 0 };
    let mut out = Vec::new();
    // Every layer the input selects, GPS time included (FUZZING.md, finding 5).
    let selection = DecompressionSelection(input.selection as u32);
    let points = input.points as usize;
    if codec.decode_into(p.rest(), points, selection, &mut out, &at).is_ok() {
        assert_eq!(out.len(), points * codec.record_length, "decoded size");
    }
});
