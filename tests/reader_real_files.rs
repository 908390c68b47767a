//! The reader against real COPC files written by other tools (COPC_TEST_DATA).

mod support;

use copc::format::key::depth_end_for_resolution;
use copc::{Bounds, Dimension, Query, Reader};
use support::{VALID_COPC, inside, read_plain_laz, sorted_query_records, test_data};

#[test]
fn every_point_equals_an_independent_sequential_decode() {
    let Some(dir) = test_data("every_point_equals_an_independent_sequential_decode") else { return };
    for name in VALID_COPC {
        let path = dir.join(name);
        let plain = read_plain_laz(&path);
        let r = Reader::open(&path).unwrap();
        assert_eq!(r.header().point_count, plain.point_count, "{name}: point count");
        let s = r.hierarchy_summary().unwrap();
        assert_eq!(s.points, plain.point_count, "{name}: node point counts add up to the header's");
        let ours = sorted_query_records(&r, &Query::new());
        assert_eq!(ours.len() as u64, plain.point_count, "{name}");
        assert!(ours == plain.sorted_records(|_| true), "{name}: decoded records differ from laz-rs' sequential decode");
    }
}

#[test]
fn header_bounds_and_node_cubes_hold_every_point() {
    let Some(dir) = test_data("header_bounds_and_node_cubes_hold_every_point") else { return };
    for name in VALID_COPC {
        let r = Reader::open(dir.join(name)).unwrap();
        let h = r.header();
        let tol = h.scale.iter().fold(0.0f64, |a, s| a.max(s.abs()));
        for batch in r.points(&Query::new()).unwrap() {
            let batch = batch.unwrap();
            let cube = r.cube().node_bounds(&batch.node);
            for p in batch.xyz() {
                for i in 0..3 {
                    assert!(p[i] >= h.min[i] - tol && p[i] <= h.max[i] + tol, "{name}: {p:?} outside header bounds");
                    assert!(p[i] >= cube.min[i] - tol && p[i] <= cube.max[i] + tol, "{name}: {p:?} outside node {}", batch.node);
                }
            }
        }
    }
}

/// Boxes at fractions of the header bounds: 2-D and 3-D, inside, straddling, outside.
fn test_boxes(h: &copc::format::Header) -> Vec<Bounds> {
    let at = |i: usize, f: f64| h.min[i] + (h.max[i] - h.min[i]) * f;
    vec![
        Bounds::xy(at(0, 0.1), at(1, 0.2), at(0, 0.55), at(1, 0.6)),
        Bounds::xy(at(0, 0.5), at(1, 0.5), at(0, 1.5), at(1, 1.5)),
        Bounds::new([at(0, 0.0), at(1, 0.0), at(2, 0.3)], [at(0, 0.7), at(1, 0.9), at(2, 0.6)]),
        Bounds::xy(at(0, 2.0), at(1, 2.0), at(0, 3.0), at(1, 3.0)),
        Bounds::xy(h.min[0], h.min[1], h.max[0], h.max[1]),
    ]
}

#[test]
fn box_queries_equal_a_brute_force_filter() {
    let Some(dir) = test_data("box_queries_equal_a_brute_force_filter") else { return };
    for name in VALID_COPC {
        let path = dir.join(name);
        let plain = read_plain_laz(&path);
        let r = Reader::open(&path).unwrap();
        for b in test_boxes(r.header()) {
            let expected = plain.sorted_records(|p| inside(&b, p));
            let q = Query::new().bounds(b);
            let got = sorted_query_records(&r, &q);
            assert_eq!(got.len(), expected.len(), "{name}: box {b:?}");
            assert!(got == expected, "{name}: box {b:?} selects other points");
            assert_eq!(r.count(&q).unwrap(), expected.len() as u64, "{name}: count for box {b:?}");
            // the same box with only X/Y/Z decoded selects the same points
            let xyz = q.clone().dims([Dimension::X, Dimension::Y, Dimension::Z]);
            let n: usize = r.points(&xyz).unwrap().map(|b| b.unwrap().len()).sum();
            assert_eq!(n, expected.len(), "{name}: box {b:?} with dims x,y,z");
        }
    }
}

#[test]
fn resolution_queries_return_exactly_the_levels_above_the_limit() {
    let Some(dir) = test_data("resolution_queries_return_exactly_the_levels_above_the_limit") else { return };
    for name in VALID_COPC {
        let r = Reader::open(dir.join(name)).unwrap();
        let entries = r.all_entries().unwrap();
        let spacing = r.info().spacing;
        for res in [spacing * 4.0, spacing, spacing / 2.0, spacing / 3.0, spacing / 100.0] {
            let end = depth_end_for_resolution(spacing, res);
            // independent: log2 rule, computed here again
            let expected_end = ((spacing / res).log2().ceil() as i32 + 1).max(1);
            assert_eq!(end, expected_end);
            let mut want: Vec<_> = entries.iter().filter(|e| e.point_count > 0 && e.key.level < end).map(|e| e.key).collect();
            let mut got: Vec<_> = r.nodes(&Query::new().resolution(res)).unwrap().iter().map(|n| n.key).collect();
            want.sort();
            got.sort();
            assert_eq!(got, want, "{name}: resolution {res}");
            let points: u64 = entries.iter().filter(|e| e.key.level < end).map(|e| e.point_count.max(0) as u64).sum();
            assert_eq!(r.count(&Query::new().resolution(res)).unwrap(), points, "{name}: resolution {res}");
        }
        // max depth is inclusive
        let d1: u64 = entries.iter().filter(|e| e.key.level <= 1).map(|e| e.point_count.max(0) as u64).sum();
        assert_eq!(r.count(&Query::new().max_depth(1)).unwrap(), d1, "{name}: max depth 1");
    }
}

#[test]
fn paged_hierarchy_gives_the_same_points_and_loads_pages_lazily() {
    let Some(dir) = test_data("paged_hierarchy_gives_the_same_points_and_loads_pages_lazily") else { return };
    let flat = Reader::open(dir.join("pdal_1.2-with-color.copc.laz")).unwrap();
    let paged = Reader::open(dir.join("laspy_simple_with_page.copc.laz")).unwrap();
    // a root-only query never needs the child page
    assert_eq!(paged.nodes(&Query::new().max_depth(0)).unwrap().len(), 1);
    let before = paged.source_stats().requests;
    let _ = paged.nodes(&Query::new().max_depth(1)).unwrap();
    assert_eq!(paged.source_stats().requests, before, "levels 0-1 are all in the root page");
    assert_eq!(sorted_query_records(&paged, &Query::new()), sorted_query_records(&flat, &Query::new()));
    let (a, b) = (paged.hierarchy_summary().unwrap(), flat.hierarchy_summary().unwrap());
    assert_eq!((a.pages, b.pages), (2, 1));
    assert_eq!((a.nodes, a.data_nodes, a.max_depth), (b.nodes, b.data_nodes, b.max_depth));
    let mut ka = paged.all_entries().unwrap();
    let mut kb = flat.all_entries().unwrap();
    ka.sort_by_key(|e| e.key);
    kb.sort_by_key(|e| e.key);
    assert_eq!(ka.iter().map(|e| (e.key, e.point_count)).collect::<Vec<_>>(), kb.iter().map(|e| (e.key, e.point_count)).collect::<Vec<_>>());
}

#[test]
fn columns_match_the_records() {
    let Some(dir) = test_data("columns_match_the_records") else { return };
    let r = Reader::open(dir.join("pdal_ellipsoid-eb.copc.laz")).unwrap();
    assert_eq!(r.extra_bytes().len(), 1);
    assert_eq!(r.extra_bytes()[0].name, "InvertedIntensity");
    let fmt = r.record_format();
    let inv = fmt.dim_by_name("invertedintensity").unwrap();
    let mut n = 0;
    for batch in r.points(&Query::new()).unwrap() {
        let batch = batch.unwrap();
        let x: Vec<f64> = batch.column(Dimension::X).unwrap();
        let xr: Vec<i32> = batch.column(Dimension::XRaw).unwrap();
        let i: Vec<u16> = batch.column(Dimension::Intensity).unwrap();
        let t: Vec<f64> = batch.column(Dimension::GpsTime).unwrap();
        let e: Vec<f64> = batch.column(inv).unwrap();
        let declared: Vec<f64> = batch.column(Dimension::ExtraRaw(0)).unwrap();
        assert!(batch.column::<f32>(Dimension::ExtraRaw(0)).is_err(), "declared type is double");
        assert!(batch.column::<f64>(Dimension::ExtraRaw(1)).is_err(), "no second extra dimension");
        let rgb: Vec<u16> = batch.column(Dimension::Red).unwrap();
        assert!(batch.column::<f64>(Dimension::Intensity).is_err(), "wrong type is refused");
        for k in 0..batch.len() {
            let rec = &batch.records()[k * 44..(k + 1) * 44];
            assert_eq!(xr[k], i32::from_le_bytes(rec[0..4].try_into().unwrap()));
            assert!((x[k] - (xr[k] as f64 * 0.01 - 8242596.0)).abs() < 1e-6);
            assert_eq!(i[k], u16::from_le_bytes([rec[12], rec[13]]));
            assert_eq!(t[k], f64::from_le_bytes(rec[22..30].try_into().unwrap()));
            assert_eq!(rgb[k], u16::from_le_bytes([rec[30], rec[31]]));
            assert_eq!(e[k], f64::from_le_bytes(rec[36..44].try_into().unwrap()));
            assert_eq!(declared[k].to_bits(), f64::from_le_bytes(rec[36..44].try_into().unwrap()).to_bits());
            assert!((42.0..43.0).contains(&t[k]));
        }
        n += batch.len();
    }
    assert_eq!(n, 200000);
}

#[test]
fn dimension_selection_decodes_the_asked_fields_identically() {
    let Some(dir) = test_data("dimension_selection_decodes_the_asked_fields_identically") else { return };
    let r = Reader::open(dir.join("pdal_1.2-with-color.copc.laz")).unwrap();
    let full: Vec<_> = r.points(&Query::new()).unwrap().map(|b| b.unwrap()).collect();
    let dims = [Dimension::X, Dimension::Y, Dimension::Z, Dimension::Classification, Dimension::Red];
    let part: Vec<_> = r.points(&Query::new().dims(dims)).unwrap().map(|b| b.unwrap()).collect();
    assert_eq!(full.len(), part.len());
    for (f, p) in full.iter().zip(&part) {
        assert_eq!(f.node, p.node, "same order");
        assert_eq!(f.xyz(), p.xyz());
        assert_eq!(f.column::<u8>(Dimension::Classification).unwrap(), p.column::<u8>(Dimension::Classification).unwrap());
        assert_eq!(f.column::<u16>(Dimension::Red).unwrap(), p.column::<u16>(Dimension::Red).unwrap());
    }
}

#[test]
fn read_node_by_key_and_node_listing() {
    let Some(dir) = test_data("read_node_by_key_and_node_listing") else { return };
    let path = dir.join("pdal_lone-star.copc.laz");
    let plain = read_plain_laz(&path);
    let r = Reader::open(&path).unwrap();
    let nodes = r.nodes(&Query::new()).unwrap();
    assert_eq!(nodes.len(), 15);
    assert!(nodes.windows(2).all(|w| w[0].offset < w[1].offset), "file order");
    let mut all = Vec::new();
    for n in &nodes {
        let b = r.read_node(n.key, None).unwrap();
        assert_eq!(b.len(), n.point_count as usize);
        all.extend(b.records().chunks_exact(30).map(|c| c.to_vec()));
    }
    all.sort();
    assert!(all == plain.sorted_records(|_| true));
    assert!(r.read_node(copc::VoxelKey::new(9, 0, 0, 0), None).is_err());
    // nodes intersecting a box: exactly those whose cube meets it
    let b = test_boxes(r.header())[0];
    let hits = r.nodes(&Query::new().bounds(b)).unwrap();
    let want = nodes.iter().filter(|n| n.bounds.intersects(&b)).count();
    assert_eq!(hits.len(), want);
    assert!(want > 0 && want < nodes.len());
}

#[test]
fn draft_file_opens_and_reads() {
    let Some(dir) = test_data("draft_file_opens_and_reads") else { return };
    let r = Reader::open(dir.join("draft_entwine_ellipsoid.copc.laz")).unwrap();
    assert!(r.is_draft());
    let h = r.header();
    assert_eq!(h.point_count, 63011);
    let mut n = 0;
    let tol = 0.01;
    for batch in r.points(&Query::new()).unwrap() {
        let batch = batch.unwrap();
        let cube = r.cube().node_bounds(&batch.node);
        for p in batch.xyz() {
            assert!((0..3).all(|i| p[i] >= cube.min[i] - tol && p[i] <= cube.max[i] + tol), "{p:?} outside {}", batch.node);
        }
        n += batch.len();
    }
    assert_eq!(n, 63011);
    // point-wise chunks decode the same as a sequential read would: compare to the
    // node-by-node multiset of a box query vs. a filter of the full read
    let all = sorted_query_records(&r, &Query::new());
    let b = test_boxes(h)[0];
    let q = sorted_query_records(&r, &Query::new().bounds(b));
    let t = r.record_format().transform;
    let filt: Vec<_> = all
        .into_iter()
        .filter(|rec| {
            let raw = |o: usize| i32::from_le_bytes(rec[o..o + 4].try_into().unwrap()) as f64;
            inside(&b, [raw(0) * t.scale[0] + t.offset[0], raw(4) * t.scale[1] + t.offset[1], raw(8) * t.scale[2] + t.offset[2]])
        })
        .collect();
    assert_eq!(q, filt);
}

#[test]
fn malformed_and_non_copc_files_give_errors() {
    let Some(dir) = test_data("malformed_and_non_copc_files_give_errors") else { return };
    for (name, expect) in [
        ("copcvalidator_bad-ellipsoid.copc.laz", "byte"),
        ("copcvalidator_ellipsoid-1.4.laz", "not a COPC file"),
        ("pdal_bad_vlr_count.las", "not a COPC file"),
        ("pdal_garbage_nVariableLength.las", "not a COPC file"),
        ("pdal_laszip-v1.2r0-pointwise.laz", "not a COPC file"),
        ("lasr_malformed_extrabytes.las", "not a COPC file"),
        ("pdal_test1_4.las", "not a COPC file"),
        ("lazperf_no-points-1.3.laz", "not a COPC file"),
        ("pdal_1.2-no-points-but-count.las", "not a COPC file"),
    ] {
        let e = match Reader::open(dir.join(name)) {
            Ok(_) => panic!("{name}: opened"),
            Err(e) => e,
        };
        // a caller branches on the variant (copc info shows the header), not the text
        let not_copc = matches!(e, copc::Error::NotCopc { .. });
        assert_eq!(not_copc, expect == "not a COPC file", "{name}: {e:?}");
        let err = e.to_string();
        assert!(err.contains(name), "{name}: error names the file: {err}");
        assert!(err.contains(expect), "{name}: {err}");
    }
}
