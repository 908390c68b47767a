//! One reader shared by 8 threads, each running a different kind of query (box,
//! resolution, depth range, dimension subset, polygon, combinations), started
//! together while the hierarchy is still unloaded: every thread's result equals the
//! same query run alone, and the box/polygon ones equal a brute-force filter.
//! Also run under ThreadSanitizer (ROBUSTNESS.md).

mod support;

use copc::{Bounds, Dimension, Polygon, Query, Reader, ReaderOptions};
use std::sync::Barrier;
use support::inside;
use support::mini_copc::{self, MiniCopc, Options};

/// The points of a query as comparable rows: X, Y, Z, intensity and GPS time bits
/// (whichever the query decodes; the others read as 0), sorted.
fn rows(r: &Reader, q: &Query) -> Vec<[u64; 5]> {
    let mut out = Vec::new();
    for b in r.points(q).unwrap() {
        let b = b.unwrap();
        let n = b.len();
        let f = |d: Dimension| b.column::<f64>(d).unwrap_or_else(|_| vec![0.0; n]);
        let (x, y, z, t) = (f(Dimension::X), f(Dimension::Y), f(Dimension::Z), f(Dimension::GpsTime));
        let i = b.column::<u16>(Dimension::Intensity).unwrap_or_else(|_| vec![0; n]);
        out.extend((0..n).map(|k| [x[k].to_bits(), y[k].to_bits(), z[k].to_bits(), i[k] as u64, t[k].to_bits()]));
    }
    out.sort();
    out
}

fn open(m: &MiniCopc) -> Reader {
    Reader::from_source(m.source(), &ReaderOptions { threads: Some(2), ..Default::default() }).unwrap()
}

fn queries(m: &MiniCopc) -> Vec<(&'static str, Query)> {
    let c = m.center;
    let tri = format!(
        "POLYGON (({} {}, {} {}, {} {}, {} {}))",
        c[0] - 50.0,
        c[1] - 40.0,
        c[0] + 30.0,
        c[1] - 10.0,
        c[0] - 20.0,
        c[1] + 45.0,
        c[0] - 50.0,
        c[1] - 40.0
    );
    let poly = Polygon::parse(&tri).unwrap();
    vec![
        ("all", Query::new()),
        ("box", Query::new().bounds(Bounds::xy(c[0] - 40.0, c[1] - 30.0, c[0] + 10.0, c[1] + 25.0))),
        ("3-D box", Query::new().bounds(Bounds::new([c[0] - 64.0, c[1], c[2] - 10.0], [c[0], c[1] + 64.0, c[2] + 30.0]))),
        ("resolution", Query::new().resolution(m.spacing / 3.0)),
        ("depth 1..=2", Query::new().min_depth(1).max_depth(2)),
        ("dims", Query::new().dims([Dimension::Z, Dimension::GpsTime])),
        ("polygon", Query::new().polygon(poly.clone())),
        (
            "polygon + box + resolution + dims",
            Query::new()
                .polygon(poly)
                .bounds(Bounds::xy(c[0] - 30.0, c[1] - 64.0, c[0] + 64.0, c[1] + 20.0))
                .resolution(m.spacing / 2.0)
                .dims([Dimension::X, Dimension::Y, Dimension::Intensity]),
        ),
    ]
}

#[test]
fn eight_threads_on_one_reader_equal_eight_sequential_runs() {
    let m = mini_copc::build(&Options { points: 12_000, max_level: 3, page_level: 2, ..Default::default() });
    let qs = queries(&m);
    assert_eq!(qs.len(), 8);
    // each query alone, on its own reader
    let expected: Vec<_> = qs.iter().map(|(_, q)| rows(&open(&m), q)).collect();
    let counts: Vec<_> = qs.iter().map(|(_, q)| open(&m).count(q).unwrap()).collect();
    let nodes: Vec<_> = qs.iter().map(|(_, q)| open(&m).nodes(q).unwrap()).collect();
    // the independent check of two of them: brute force over the generated points
    let b = Bounds::xy(m.center[0] - 40.0, m.center[1] - 30.0, m.center[0] + 10.0, m.center[1] + 25.0);
    assert_eq!(expected[1].len(), m.sorted_records(|p| inside(&b, p)).len());
    assert_eq!(expected[0].len(), m.sorted_records(|_| true).len());
    for (i, e) in expected.iter().enumerate() {
        assert!(!e.is_empty(), "query {} selects points", qs[i].0);
    }

    for round in 0..3 {
        // a fresh reader each round: the threads race to load the hierarchy pages
        let shared = open(&m);
        let start = Barrier::new(qs.len());
        let got: Vec<_> = std::thread::scope(|s| {
            let hs: Vec<_> = qs
                .iter()
                .map(|(_, q)| {
                    let (r, start) = (&shared, &start);
                    s.spawn(move || {
                        start.wait();
                        rows(r, q)
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for ((name, _), (g, e)) in qs.iter().zip(got.iter().zip(&expected)) {
            assert!(g == e, "round {round}, {name}: {} points shared vs {} alone", g.len(), e.len());
        }
        // counts and node lists from 8 threads at once, too
        let shared = open(&m);
        std::thread::scope(|s| {
            for (i, (name, q)) in qs.iter().enumerate() {
                let (r, start, counts, nodes) = (&shared, &start, &counts, &nodes);
                s.spawn(move || {
                    start.wait();
                    assert_eq!(r.count(q).unwrap(), counts[i], "{name}: count");
                    assert_eq!(r.nodes(q).unwrap(), nodes[i], "{name}: nodes");
                });
            }
        });
    }
}
