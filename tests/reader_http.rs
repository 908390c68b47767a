//! Every reader feature over HTTP equals the local read, at a bounded request cost.

mod support;
#[path = "support/http_server.rs"]
mod http_server;

use copc::{Bounds, HttpOptions, Query, Reader, ReaderOptions};
use support::{VALID_COPC, sorted_query_records, test_data};

fn http_opts() -> ReaderOptions {
    ReaderOptions { http: HttpOptions { backoff_base: std::time::Duration::from_millis(1), ..Default::default() }, ..Default::default() }
}

/// Ranges merged as the HTTP source merges them (gap <= 64 KiB), counted.
fn merged_ranges(mut r: Vec<(u64, u64)>, gap: u64) -> usize {
    r.sort();
    let mut n = 0;
    let mut end = None::<u64>;
    for (s, e) in r {
        match end {
            Some(x) if s <= x + gap => end = Some(x.max(e)),
            _ => {
                n += 1;
                end = Some(e);
            }
        }
    }
    n
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
        // budget: the pages the query reaches + the chunk ranges after merging
        let pages = local.hierarchy_summary().unwrap().pages as u64 - 1;
        let nodes = local.nodes(&q).unwrap();
        let chunks = merged_ranges(nodes.iter().map(|n| (n.offset, n.offset + n.byte_size as u64)).collect(), 64 << 10) as u64;
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
