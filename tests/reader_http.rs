//! Every reader feature over HTTP equals the local read, at a bounded request cost.

mod support;
#[path = "support/http_server.rs"]
mod http_server;

use copc::sample::{SampleOptions, write_sample};
use copc::writer::{WriterOptions, translate};
use copc::{Bounds, HttpOptions, Query, Reader, ReaderOptions};
use support::{VALID_COPC, sorted_query_records, test_data};

fn http_opts() -> ReaderOptions {
    ReaderOptions { http: HttpOptions { backoff_base: std::time::Duration::from_millis(1), ..Default::default() }, ..Default::default() }
}

/// Ranges merged as the HTTP source merges them (at most `gap` bytes apart).
fn merged_spans(mut r: Vec<(u64, u64)>, gap: u64) -> Vec<(u64, u64)> {
    r.sort();
    let mut spans: Vec<(u64, u64)> = Vec::new();
    for (s, e) in r {
        match spans.last_mut() {
            Some(last) if s <= last.1 + gap => last.1 = last.1.max(e),
            _ => spans.push((s, e)),
        }
    }
    spans
}

#[test]
fn queries_over_http_equal_local_reads_within_the_request_budget() {
    let Some(dir) = test_data("queries_over_http_equal_local_reads_within_the_request_budget") else { return };
    for name in VALID_COPC {
        let path = dir.join(name);
        let local = Reader::open(&path).unwrap();
        let server = http_server::serve_file(&path);
        let remote = Reader::open_with(server.url(), &http_opts()).unwrap();
        let opened = server.requests();
        assert!(opened <= 2, "{name}: open took {opened} requests");
        assert_eq!(remote.header().point_count, local.header().point_count);
        assert_eq!(remote.crs_wkt().unwrap(), local.crs_wkt().unwrap());

        let h = local.header();
        let b = Bounds::xy(
            h.min[0] + (h.max[0] - h.min[0]) * 0.1,
            h.min[1] + (h.max[1] - h.min[1]) * 0.2,
            h.min[0] + (h.max[0] - h.min[0]) * 0.5,
            h.min[1] + (h.max[1] - h.min[1]) * 0.6,
        );
        let q = Query::new().bounds(b);
        let before = server.requests();
        let got = sorted_query_records(&remote, &q);
        let cost = server.requests() - before;
        assert_eq!(got, sorted_query_records(&local, &q), "{name}: box query");
        // budget: the pages the query reaches + the chunk ranges after merging (and
        // splitting past max_request)
        let pages = local.hierarchy_summary().unwrap().pages as u64 - 1;
        let nodes = local.nodes(&q).unwrap();
        let http = http_opts().http;
        let spans =
            merged_spans(nodes.iter().map(|n| (n.offset, n.offset + n.byte_size as u64)).collect(), http.merge_gap);
        let chunks: u64 = spans.iter().map(|(s, e)| (e - s).div_ceil(http.max_request)).sum();
        assert!(cost <= pages + chunks, "{name}: box query made {cost} requests, budget {pages} pages + {chunks} chunk ranges");

        assert_eq!(sorted_query_records(&remote, &Query::new()), sorted_query_records(&local, &Query::new()), "{name}: all points");
        let res = Query::new().resolution(local.info().spacing / 2.0);
        assert_eq!(remote.count(&res).unwrap(), local.count(&res).unwrap(), "{name}: resolution");
        assert!(remote.source_stats().requests >= opened);
    }
}

#[test]
fn transient_server_errors_do_not_change_the_points() {
    let Some(dir) = test_data("transient_server_errors_do_not_change_the_points") else { return };
    let path = dir.join("pdal_lone-star.copc.laz");
    let local = Reader::open(&path).unwrap();
    let server = http_server::serve_file(&path);
    let remote = Reader::open_with(server.url(), &http_opts()).unwrap();
    server.fail_next(3, 503);
    server.truncate_next(1);
    let got = sorted_query_records(&remote, &Query::new());
    assert_eq!(got, sorted_query_records(&local, &Query::new()));
    assert!(remote.source_stats().retries >= 4);
}

#[test]
fn a_server_that_keeps_failing_gives_an_error_naming_the_url() {
    let Some(dir) = test_data("a_server_that_keeps_failing_gives_an_error_naming_the_url") else { return };
    let server = http_server::serve_file(dir.join("pdal_lone-star.copc.laz"));
    let mut o = http_opts();
    o.http.max_retries = 2;
    let remote = Reader::open_with(server.url(), &o).unwrap();
    server.fail_next(http_server::FOREVER, 500);
    let err = remote.points(&Query::new()).unwrap().find_map(|b| b.err()).expect("an error");
    let msg = err.to_string();
    assert!(msg.contains("127.0.0.1") && msg.contains("500"), "{msg}");
}

/// A box query whose nodes fill several fetch windows costs one request per run of
/// chunks the source merges, as if all were asked at once: no window ends between
/// two chunks that one request fetches.
#[test]
fn window_edges_cost_no_extra_requests() {
    let dir = tempfile::tempdir().unwrap();
    let (laz, path) = (dir.path().join("town.laz"), dir.path().join("town.copc.laz"));
    write_sample(&laz, &SampleOptions { points: 150_000, seed: 5, format: 6, compressed: true, ..Default::default() })
        .unwrap();
    // Small nodes: hundreds of small chunks, so the reader's window of 256 nodes is
    // passed several times.
    translate(&[&laz], &path, &WriterOptions { max_points_per_node: 100, threads: Some(2), ..Default::default() })
        .unwrap();
    let local = Reader::open(&path).unwrap();
    let h = local.header();
    let (w, d) = (h.max[0] - h.min[0], h.max[1] - h.min[1]);
    let q = Query::new().bounds(Bounds::xy(
        h.min[0] + w * 0.05,
        h.min[1] + d * 0.1,
        h.min[0] + w * 0.9,
        h.min[1] + d * 0.85,
    ));
    let want = sorted_query_records(&local, &q);
    let nodes = local.nodes(&q).unwrap();
    assert!(nodes.len() > 2 * 256 && nodes.len() < 1024, "{} nodes: not several windows", nodes.len());
    let server = http_server::serve_file(&path);

    for gap in [HttpOptions::default().merge_gap, 4096, 0] {
        let mut o = http_opts();
        o.http.merge_gap = gap;
        o.threads = Some(2);
        let remote = Reader::open_with(server.url(), &o).unwrap();
        // The hierarchy first, so that what the query costs next is its chunks.
        assert_eq!(remote.nodes(&q).unwrap().len(), nodes.len());
        let cached = remote.source().as_ref().len().min(o.http.first_read);
        let chunks: Vec<(u64, u64)> = nodes
            .iter()
            .map(|n| (n.offset.max(cached), n.offset + n.byte_size as u64))
            .filter(|(s, e)| s < e)
            .collect();
        let spans = merged_spans(chunks, gap);
        let expected: u64 = spans.iter().map(|(s, e)| (e - s).div_ceil(o.http.max_request)).sum();
        // Spans holding the chunks of nodes from both sides of a multiple of 256 in
        // the plan: where fixed windows of 256 nodes would cut.
        let straddling = (1..nodes.len())
            .filter(|i| i % 256 == 0)
            .filter(|&i| spans.iter().any(|&(s, e)| s <= nodes[i - 1].offset && nodes[i].offset < e))
            .count();
        assert!(straddling > 0, "merge_gap {gap}: no span crosses a 256-node edge; the test would prove nothing");

        let (before, stats_before) = (server.requests(), remote.source_stats());
        let got = sorted_query_records(&remote, &q);
        let (requests, stats) = (server.requests() - before, remote.source_stats());
        assert_eq!(got, want, "merge_gap {gap}");
        assert_eq!(requests, expected, "merge_gap {gap}: {} nodes in {} spans", nodes.len(), spans.len());
        assert_eq!(stats.requests - stats_before.requests, expected);
        // Every byte fetched lies in a span, once.
        let span_bytes: u64 = spans.iter().map(|(s, e)| e - s).sum();
        assert_eq!(stats.bytes - stats_before.bytes, span_bytes, "merge_gap {gap}");
    }
}
