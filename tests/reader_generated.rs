//! The reader on COPC files built in the test (see support/mini_copc.rs).

mod support;

use copc::{Bounds, ByteSource, Dimension, Query, Reader, ReaderOptions, SourceStats};
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use support::mini_copc::{self, Options};
use support::{inside, sorted_query_records};

/// Counts the reads a reader makes.
struct Counting {
    inner: copc::MemorySource,
    reads: AtomicU64,
}

impl ByteSource for Counting {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn len(&self) -> u64 {
        self.inner.len()
    }
    fn read_range(&self, r: Range<u64>) -> copc::Result<Vec<u8>> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.read_range(r)
    }
    fn stats(&self) -> SourceStats {
        SourceStats { requests: self.reads.load(Ordering::Relaxed), ..Default::default() }
    }
}

fn open(m: &mini_copc::MiniCopc) -> Reader {
    Reader::from_source(m.source(), &ReaderOptions::default()).unwrap()
}

#[test]
fn all_points_come_back_once() {
    for page_level in [0, 1, 2] {
        let m = mini_copc::build(&Options { page_level, ..Default::default() });
        let r = open(&m);
        assert_eq!(sorted_query_records(&r, &Query::new()), m.sorted_records(|_| true), "page level {page_level}");
        let s = r.hierarchy_summary().unwrap();
        assert_eq!(s.pages, m.pages.len());
        assert_eq!(s.points, 5000);
        assert_eq!(s.data_nodes, m.nodes.len());
    }
}

#[test]
fn data_below_an_empty_node_is_found() {
    let m = mini_copc::build(&Options::default());
    let r = open(&m);
    let empty = r.all_entries().unwrap().into_iter().find(|e| e.key == copc::VoxelKey::new(1, 1, 0, 0)).unwrap();
    assert_eq!(empty.point_count, 0);
    let below = m.nodes.keys().filter(|k| k.0 == 2 && (k.1 >> 1, k.2 >> 1, k.3 >> 1) == (1, 0, 0)).count();
    assert!(below > 0);
    let cube = r.cube().node_bounds(&copc::VoxelKey::new(1, 1, 0, 0));
    let q = Query::new().bounds(cube);
    assert!(r.nodes(&q).unwrap().iter().filter(|n| n.key.level == 2).count() >= below);
    assert_eq!(sorted_query_records(&r, &q), m.sorted_records(|p| inside(&cube, p)));
}

#[test]
fn box_queries_equal_brute_force() {
    let m = mini_copc::build(&Options { points: 20000, page_level: 2, ..Default::default() });
    let r = open(&m);
    let c = m.center;
    let boxes = [
        Bounds::xy(c[0] - 10.0, c[1] - 30.0, c[0] + 25.0, c[1] + 5.0),
        Bounds::new([c[0] - 64.0, c[1] - 64.0, c[2] - 5.0], [c[0], c[1] + 64.0, c[2] + 10.0]),
        Bounds::xy(c[0] + 100.0, c[1], c[0] + 200.0, c[1] + 10.0),
        Bounds::xy(c[0] - 1.0, c[1] - 1.0, c[0] + 1.0, c[1] + 1.0),
    ];
    for b in boxes {
        let want = m.sorted_records(|p| inside(&b, p));
        assert_eq!(sorted_query_records(&r, &Query::new().bounds(b)), want, "{b:?}");
        assert_eq!(r.count(&Query::new().bounds(b)).unwrap(), want.len() as u64);
    }
}

#[test]
fn box_edges_are_inclusive() {
    let m = mini_copc::build(&Options::default());
    let r = open(&m);
    // a box that is exactly one point
    let rec = &m.nodes.values().next().unwrap()[..30];
    let p = m.xyz(rec);
    let b = Bounds::new(p, p);
    let got = sorted_query_records(&r, &Query::new().bounds(b));
    assert!(got.iter().any(|g| g[..] == rec[..]));
    assert_eq!(got, m.sorted_records(|q| q == p));
}

#[test]
fn queries_load_only_the_pages_they_reach() {
    let m = mini_copc::build(&Options { points: 20000, page_level: 2, ..Default::default() });
    assert!(m.pages.len() > 10);
    let src = Arc::new(Counting { inner: copc::MemorySource::new("mini", m.bytes.clone()), reads: AtomicU64::new(0) });
    let r = Reader::from_source(src.clone(), &ReaderOptions::default()).unwrap();
    let opened = src.reads.load(Ordering::Relaxed);
    assert!(opened <= 2, "open made {opened} reads");
    // levels 0-1 live in the root page
    r.nodes(&Query::new().max_depth(1)).unwrap();
    assert_eq!(src.reads.load(Ordering::Relaxed), opened);
    // a small box reaches one level-2 subtree: exactly one page read
    let c = r.cube().node_bounds(&copc::VoxelKey::new(2, 1, 2, 3));
    let inner = Bounds::new([c.min[0] + 1.0, c.min[1] + 1.0, c.min[2] + 1.0], [c.max[0] - 1.0, c.max[1] - 1.0, c.max[2] - 1.0]);
    r.nodes(&Query::new().bounds(inner)).unwrap();
    assert_eq!(src.reads.load(Ordering::Relaxed), opened + 1);
    // everything: the remaining pages (read_ranges default: one read each)
    r.hierarchy_summary().unwrap();
    assert_eq!(src.reads.load(Ordering::Relaxed), opened + m.pages.len() as u64 - 1);
}

#[test]
fn resolution_and_depth_select_levels() {
    let m = mini_copc::build(&Options::default());
    let r = open(&m);
    let level_points = |end: i32| m.nodes.iter().filter(|(k, _)| k.0 < end).map(|(_, v)| v.len() / 30).sum::<usize>() as u64;
    assert_eq!(r.count(&Query::new().max_depth(0)).unwrap(), level_points(1));
    assert_eq!(r.count(&Query::new().max_depth(2)).unwrap(), level_points(3));
    // spacing 1.0 (128/128): resolution 0.5 -> levels < 2, 0.3 -> ceil(1.74)+1 = 3
    assert_eq!(m.spacing, 1.0);
    assert_eq!(r.count(&Query::new().resolution(0.5)).unwrap(), level_points(2));
    assert_eq!(r.count(&Query::new().resolution(0.3)).unwrap(), level_points(3));
    assert_eq!(r.count(&Query::new().resolution(0.3).max_depth(0)).unwrap(), level_points(1));
    assert_eq!(r.count(&Query::new().min_depth(3)).unwrap(), level_points(4) - level_points(3));
    assert!(r.count(&Query::new().resolution(-1.0)).is_err());
    assert!(r.count(&Query::new().bounds(Bounds::new([1.0; 3], [0.0; 3]))).is_err());
}

#[test]
fn output_order_is_file_order_and_independent_of_threads() {
    let m = mini_copc::build(&Options { points: 20000, ..Default::default() });
    let one = Reader::from_source(m.source(), &ReaderOptions { threads: Some(1), ..Default::default() }).unwrap();
    let two = Reader::from_source(m.source(), &ReaderOptions { threads: Some(2), ..Default::default() }).unwrap();
    let run = |r: &Reader| r.points(&Query::new()).unwrap().map(|b| b.unwrap()).map(|b| (b.node, b.records().to_vec())).collect::<Vec<_>>();
    let a = run(&one);
    assert_eq!(a, run(&two));
    let offsets: Vec<u64> = a.iter().map(|(k, _)| m.chunk_offsets[&(k.level, k.x, k.y, k.z)].0).collect();
    assert!(offsets.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn selected_dimensions_match_full_decode() {
    let m = mini_copc::build(&Options::default());
    let r = open(&m);
    let dims = [Dimension::Z, Dimension::GpsTime, Dimension::Intensity];
    for (f, p) in r.points(&Query::new()).unwrap().zip(r.points(&Query::new().dims(dims)).unwrap()) {
        let (f, p) = (f.unwrap(), p.unwrap());
        assert_eq!(f.column::<f64>(Dimension::Z).unwrap(), p.column::<f64>(Dimension::Z).unwrap());
        assert_eq!(f.column::<f64>(Dimension::GpsTime).unwrap(), p.column::<f64>(Dimension::GpsTime).unwrap());
        assert_eq!(f.column::<u16>(Dimension::Intensity).unwrap(), p.column::<u16>(Dimension::Intensity).unwrap());
    }
}

#[test]
fn one_reader_serves_many_threads() {
    let m = mini_copc::build(&Options { points: 20000, page_level: 2, ..Default::default() });
    let r = open(&m);
    let c = m.center;
    let queries: Vec<Query> = (0..8)
        .map(|i| Query::new().bounds(Bounds::xy(c[0] - 60.0 + i as f64 * 10.0, c[1] - 50.0, c[0] + i as f64 * 5.0, c[1] + 20.0)))
        .collect();
    let expected: Vec<_> = queries.iter().map(|q| sorted_query_records(&open(&m), q)).collect();
    std::thread::scope(|s| {
        let hs: Vec<_> = queries.iter().map(|q| s.spawn(|| sorted_query_records(&r, q))).collect();
        for (h, e) in hs.into_iter().zip(&expected) {
            assert_eq!(&h.join().unwrap(), e);
        }
    });
}

#[test]
fn an_empty_copc_file_reads_as_empty() {
    let m = mini_copc::assemble(Default::default(), 0, 0.01, [0.0; 3], [0.0; 3], 1.0);
    let r = open(&m);
    assert_eq!(r.header().point_count, 0);
    assert_eq!(r.count(&Query::new()).unwrap(), 0);
    assert_eq!(r.points(&Query::new()).unwrap().count(), 0);
}

/// Inside a convex polygon given counter-clockwise: left of (or on) every edge.
/// Written here, independent of the library's polygon code.
fn inside_convex(poly: &[[f64; 2]], p: [f64; 3]) -> bool {
    (0..poly.len()).all(|i| {
        let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
        (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) >= 0.0
    })
}

#[test]
fn polygon_queries_equal_brute_force() {
    let m = mini_copc::build(&Options { points: 20000, page_level: 2, ..Default::default() });
    let r = open(&m);
    let c = m.center;
    let tri = [[c[0] - 50.0, c[1] - 40.0], [c[0] + 30.0, c[1] - 10.0], [c[0] - 20.0, c[1] + 45.0]];
    let wkt = format!(
        "POLYGON (({} {}, {} {}, {} {}, {} {}))",
        tri[0][0], tri[0][1], tri[1][0], tri[1][1], tri[2][0], tri[2][1], tri[0][0], tri[0][1]
    );
    let poly = copc::Polygon::parse(&wkt).unwrap();
    let want = m.sorted_records(|p| inside_convex(&tri, p));
    assert!(want.len() > 1000 && want.len() < 15000);
    let q = Query::new().polygon(poly.clone());
    assert_eq!(sorted_query_records(&r, &q), want);
    assert_eq!(r.count(&q).unwrap(), want.len() as u64);
    // combined with a box and a depth limit
    let b = Bounds::new([c[0] - 64.0, c[1] - 64.0, c[2] - 64.0], [c[0] + 64.0, c[1] + 64.0, c[2]]);
    let q = Query::new().polygon(poly).bounds(b).max_depth(2);
    let levels: std::collections::HashSet<_> =
        m.nodes.keys().filter(|k| k.0 <= 2).flat_map(|k| m.nodes[k].chunks_exact(30).map(|r| r.to_vec())).collect();
    let want: Vec<_> = m.sorted_records(|p| inside_convex(&tri, p) && inside(&b, p)).into_iter().filter(|r| levels.contains(r)).collect();
    assert_eq!(sorted_query_records(&r, &q), want);
}

#[test]
fn seed_draft_layout_reads_with_a_derived_cube() {
    let m = mini_copc::build(&Options { page_level: 2, seed_draft: true, ..Default::default() });
    let r = open(&m);
    assert!(r.is_draft());
    assert!(matches!(r.flavor(), copc::reader::Flavor::Draft(copc::format::info::DraftLayout::Seed)));
    // the derived cube is the true one: anchored at the header minimum, side = largest extent
    let cube = r.cube();
    for i in 0..3 {
        assert!((cube.center[i] - m.center[i]).abs() < 0.01, "center {:?} vs {:?}", cube.center, m.center);
    }
    assert!((cube.halfsize - m.halfsize).abs() < 0.01);
    assert_eq!(r.hierarchy_summary().unwrap().pages, m.pages.len());
    assert_eq!(sorted_query_records(&r, &Query::new()), m.sorted_records(|_| true));
    let c = m.center;
    let b = Bounds::xy(c[0] - 20.0, c[1] - 5.0, c[0] + 7.0, c[1] + 33.0);
    assert_eq!(sorted_query_records(&r, &Query::new().bounds(b)), m.sorted_records(|p| inside(&b, p)));
}
