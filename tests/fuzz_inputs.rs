//! The fuzz targets' input layouts (`copc::fuzzing`): seeds made from a COPC file
//! must say what the file says, or the fuzzer starts from nonsense.

mod support;

use copc::fuzzing::{self, HttpInput, NodeInput, PagesInput, Params, QueryInput};
use std::collections::BTreeMap;
use support::mini_copc::{self, Options};

/// Hierarchy seed: the pages of a many-page file, relocated, load to the same keys
/// and counts as the reader finds in the original file.
#[test]
fn hierarchy_seed_keeps_every_entry() {
    let copc = mini_copc::build(&Options { page_level: 1, max_level: 3, ..Default::default() });
    assert!(copc.pages.len() > 2, "the test needs child pages");
    let reader = copc::Reader::from_source(copc.source(), &Default::default()).unwrap();
    let want: BTreeMap<_, _> = reader.all_entries().unwrap().iter().map(|e| (e.key, e.point_count)).collect();

    let seed = fuzzing::hierarchy_seed(&copc.bytes).unwrap();
    let mut p = Params(&seed);
    let input = PagesInput::decode(&mut p);
    let loaded = fuzzing::load_hierarchy(input, p.rest()).unwrap();
    let got: BTreeMap<_, _> = loaded.entries.iter().map(|e| (e.key, e.point_count)).collect();
    assert_eq!(got, want);
    assert_eq!(loaded.pages, copc.pages.len());
}

/// Node seeds: each chunk, decoded as its header says, gives the node's records.
#[test]
fn node_seeds_decode_to_the_nodes_records() {
    let copc = mini_copc::build(&Options::default());
    let seeds = fuzzing::node_seeds(&copc.bytes, 3, 1 << 20);
    assert_eq!(seeds.len(), 3);
    let all: Vec<&[u8]> = copc.nodes.values().map(|r| r.as_slice()).collect();
    for seed in &seeds {
        let mut p = Params(seed);
        let node = NodeInput::decode(&mut p);
        let items = laz::LazItemRecordBuilder::default_for_point_format_id(node.format, node.extra as u16).unwrap();
        let codec = copc::reader::ChunkCodec::new(laz::LazVlr::from_laz_items(items), 3);
        let at = copc::reader::ChunkAt { source: "seed", key: copc::VoxelKey::ROOT, offset: 0 };
        let mut out = Vec::new();
        codec.decode_into(p.rest(), node.points as usize, laz::DecompressionSelection::all(), &mut out, &at).unwrap();
        assert!(all.contains(&out.as_slice()), "a seed decodes to records of no node");
    }
}

#[test]
fn layouts_round_trip() {
    let q = QueryInput { flags: 0b1111, corners: [1, 2, 3, 40000, 50000, 65535], resolution: 17, dims: 0x0501_0007 };
    let mut bytes = q.encode();
    assert_eq!(bytes.len(), QueryInput::LEN);
    bytes.extend_from_slice(b"file");
    let mut p = Params(&bytes);
    assert_eq!(QueryInput::decode(&mut p), q);
    assert_eq!(p.rest(), b"file");

    let n = NodeInput { format: 8, extra: 5, points: 1234, selection: 0x00ff };
    assert_eq!(n.encode().len(), NodeInput::LEN);
    assert_eq!(NodeInput::decode(&mut Params(&n.encode())), n);

    let h = HttpInput {
        op: 2,
        flags: 3,
        status: 206,
        want: 9,
        start: 100,
        len: 4,
        object: 1000,
        piece: 2,
        content_range: "bytes 100-104/1000".into(),
        content_length: "5".into(),
        body: b"ab\ncd".to_vec(),
    };
    assert_eq!(HttpInput::decode(&h.encode()), h);
    // Short inputs decode too: missing bytes read as zeros.
    assert_eq!(NodeInput::decode(&mut Params(&[2])).format, 8);
}

/// The query a QueryInput makes: a box inside the cube, the resolution from the spacing.
#[test]
fn query_input_maps_onto_the_cube() {
    let cube = copc::Cube { center: [100.0, 200.0, 300.0], halfsize: 50.0 };
    let q = QueryInput { flags: 1 | 2 | 4, corners: [0, 0, 0, 65535, 65535, 65535], resolution: 32, dims: 0 };
    let q = q.query(&cube, 2.0);
    let b = q.bounds.unwrap();
    assert_eq!((b.min, b.max), ([50.0, 150.0, 250.0], [150.0, 250.0, 350.0]));
    assert_eq!(q.resolution, Some(2.0));
    assert!(q.dims.is_none());
}
