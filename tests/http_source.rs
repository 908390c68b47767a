//! HttpSource against the loopback test server: every read is compared with the
//! bytes the server holds, and every request is counted on both sides.

#[path = "support/http_server.rs"]
mod http_server;

use copc::{ByteSource, Error, FileSource, HttpOptions, HttpSource, open_source};
use http_server::{FOREVER, TestServer, serve_bytes, serve_file};
use std::ops::Range;
use std::time::Duration;

const KIB: u64 = 1024;

/// Deterministic pseudo-random bytes (xorshift64*), so a misplaced byte shows.
fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

/// A small deterministic generator for picking test ranges.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Options for tests: quick backoff, short timeouts.
fn quick() -> HttpOptions {
    HttpOptions {
        backoff_base: Duration::from_millis(1),
        timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(2),
        ..HttpOptions::default()
    }
}

fn three_mb() -> TestServer {
    serve_bytes(pseudo_random(3_000_000, 0x5eed))
}

fn truth(server: &TestServer, range: &Range<u64>) -> Vec<u8> {
    server.data()[range.start as usize..range.end as usize].to_vec()
}

/// The `Range` header of the n-th logged request.
fn range_header(server: &TestServer, n: usize) -> Option<String> {
    server.log().get(n).and_then(|r| r.header("range").map(str::to_string))
}

fn expect_http_error<T>(result: copc::Result<T>) -> (String, String, String) {
    match result {
        Err(Error::Http { url, range, message }) => (url, range, message),
        Err(other) => panic!("expected Error::Http, got {other:?}"),
        Ok(_) => panic!("expected Error::Http, got Ok"),
    }
}

#[test]
fn open_costs_one_request_and_reads_match() {
    let server = three_mb();
    let source = HttpSource::open(&server.url(), quick()).unwrap();
    assert_eq!(source.len(), 3_000_000);
    assert_eq!(source.stats().requests, 1);
    assert_eq!(server.requests(), 1);
    assert_eq!(range_header(&server, 0).as_deref(), Some("bytes=0-65535"));
    assert_eq!(source.cached_len(), 65536);
    assert_eq!(source.stats().bytes, 65536);
    assert_eq!(source.name(), server.url());

    let mut rng = Rng(42);
    let mut expected_requests = 1;
    for _ in 0..40 {
        let start = rng.below(3_000_000);
        let end = start + rng.below((3_000_000 - start).min(300_000)) + 1;
        let range = start..end;
        assert_eq!(source.read_range(range.clone()).unwrap(), truth(&server, &range), "{range:?}");
        if end > 65536 {
            expected_requests += 1;
        }
    }
    // The last byte, the whole object and an empty range.
    for range in [2_999_999..3_000_000, 0..3_000_000, 1_000_000..1_000_000] {
        assert_eq!(source.read_range(range.clone()).unwrap(), truth(&server, &range), "{range:?}");
    }
    expected_requests += 1 + 1; // last byte; whole object (3 MB < max_request, so one part)
    assert_eq!(source.stats().requests, expected_requests);
    assert_eq!(server.requests(), expected_requests);
    assert_eq!(source.stats().bytes, server.bytes_served());
    assert_eq!(source.stats().retries, 0);
}

#[test]
fn reads_inside_the_first_read_cost_nothing() {
    let server = three_mb();
    let source = HttpSource::open(&server.url(), quick()).unwrap();
    for range in [0..375, 375..1000, 0..65536, 65535..65536, 100..100] {
        assert_eq!(source.read_range(range.clone()).unwrap(), truth(&server, &range));
    }
    let batch = source.read_ranges(&[0..10, 60_000..65_536, 5..6]).unwrap();
    assert_eq!(batch, vec![truth(&server, &(0..10)), truth(&server, &(60_000..65_536)), truth(&server, &(5..6))]);
    assert_eq!(server.requests(), 1);
    assert_eq!(source.stats().requests, 1);

    // A range across the end of the cache fetches only the uncached part.
    let range = 65_000..70_000;
    assert_eq!(source.read_range(range.clone()).unwrap(), truth(&server, &range));
    assert_eq!(server.requests(), 2);
    assert_eq!(range_header(&server, 1).as_deref(), Some("bytes=65536-69999"));
}

#[test]
fn read_ranges_merges_near_ranges_into_one_request() {
    let server = three_mb();
    let opts = HttpOptions { merge_gap: 64 * KIB, ..quick() };
    let source = HttpSource::open(&server.url(), opts).unwrap();
    // Adjacent, overlapping, duplicated and near (gaps <= 64 KiB), asked out of order.
    let ranges: Vec<Range<u64>> = vec![
        300_000..310_000,
        100_000..150_000,
        150_000..200_000,
        210_000..250_000,
        100_000..150_000,
        120_000..130_000,
        250_000..250_000,
        314_000..315_000,
    ];
    let got = source.read_ranges(&ranges).unwrap();
    assert_eq!(got.len(), ranges.len());
    for (range, data) in ranges.iter().zip(&got) {
        assert_eq!(data, &truth(&server, range), "{range:?}");
    }
    assert_eq!(server.requests(), 2, "open + one merged request");
    assert_eq!(source.stats().requests, 2);
    assert_eq!(range_header(&server, 1).as_deref(), Some("bytes=100000-314999"));
}

#[test]
fn read_ranges_fetches_far_ranges_one_request_each() {
    let server = three_mb();
    let opts = HttpOptions { merge_gap: 64 * KIB, ..quick() };
    let source = HttpSource::open(&server.url(), opts).unwrap();
    // 200 KiB apart: more than merge_gap, so one request each; asked in reverse.
    let ranges: Vec<Range<u64>> =
        (0..12).rev().map(|i| 100_000 + i * 200 * KIB..100_000 + i * 200 * KIB + 5000).collect();
    let got = source.read_ranges(&ranges).unwrap();
    for (range, data) in ranges.iter().zip(&got) {
        assert_eq!(data, &truth(&server, range), "{range:?}");
    }
    assert_eq!(server.requests(), 1 + 12);
    assert_eq!(source.stats().requests, 1 + 12);
    // Nothing fetched twice: bytes = first read + the ranges.
    assert_eq!(source.stats().bytes, 65536 + 12 * 5000);
    assert_eq!(server.bytes_served(), 65536 + 12 * 5000);

    // With merge_gap 0 even touching-but-separate ranges stay separate requests,
    // while adjacent ones still merge.
    let opts = HttpOptions { merge_gap: 0, ..quick() };
    let source = HttpSource::open(&server.url(), opts).unwrap();
    server.reset_counters();
    let got = source.read_ranges(&[100_000..100_010, 100_010..100_020, 100_021..100_030]).unwrap();
    assert_eq!(got[1], truth(&server, &(100_010..100_020)));
    assert_eq!(server.requests(), 2);
}

#[test]
fn the_default_merge_gap_is_256_kib() {
    assert_eq!(HttpOptions::default().merge_gap, 256 * KIB);
    let server = three_mb();
    let source = HttpSource::open(&server.url(), quick()).unwrap();
    // Exactly 256 KiB apart: one request; one byte more: two.
    server.reset_counters();
    let got = source.read_ranges(&[100_000..100_010, 100_010 + 256 * KIB..100_020 + 256 * KIB]).unwrap();
    assert_eq!(got[1], truth(&server, &(100_010 + 256 * KIB..100_020 + 256 * KIB)));
    assert_eq!(server.requests(), 1);
    assert_eq!(range_header(&server, 0).as_deref(), Some("bytes=100000-362163"));
    server.reset_counters();
    let got = source.read_ranges(&[100_000..100_010, 100_011 + 256 * KIB..100_020 + 256 * KIB]).unwrap();
    assert_eq!(got[1], truth(&server, &(100_011 + 256 * KIB..100_020 + 256 * KIB)));
    assert_eq!(server.requests(), 2);
}

#[test]
fn read_ranges_runs_at_most_concurrency_requests_at_once() {
    let server = three_mb();
    let opts = HttpOptions { concurrency: 3, merge_gap: 64 * KIB, ..quick() };
    let source = HttpSource::open(&server.url(), opts).unwrap();
    server.set_delay(Duration::from_millis(100));
    server.reset_counters();
    let ranges: Vec<Range<u64>> = (0..9).map(|i| 100_000 + i * 300 * KIB..100_000 + i * 300 * KIB + 1000).collect();
    let got = source.read_ranges(&ranges).unwrap();
    for (range, data) in ranges.iter().zip(&got) {
        assert_eq!(data, &truth(&server, range));
    }
    assert_eq!(server.requests(), 9);
    assert!(server.max_in_flight() <= 3, "max in flight {}", server.max_in_flight());
    assert!(server.max_in_flight() >= 2, "requests were not concurrent");
}

#[test]
fn long_spans_are_split_and_random_batches_match() {
    let server = three_mb();
    let opts = HttpOptions { max_request: 256 * KIB, ..quick() };
    let source = HttpSource::open(&server.url(), opts).unwrap();
    server.reset_counters();
    // 1 MB past the cache in parts of at most 256 KiB: 4 requests.
    let range = 65_536..1_065_536;
    assert_eq!(source.read_range(range.clone()).unwrap(), truth(&server, &range));
    assert_eq!(server.requests(), 4);
    assert_eq!(server.bytes_served(), 1_000_000);

    let mut rng = Rng(7);
    for _ in 0..20 {
        let ranges: Vec<Range<u64>> = (0..rng.below(30) + 1)
            .map(|_| {
                let start = rng.below(3_000_000);
                start..start + rng.below((3_000_000 - start).min(400_000))
            })
            .collect();
        let got = source.read_ranges(&ranges).unwrap();
        assert_eq!(got.len(), ranges.len());
        for (range, data) in ranges.iter().zip(&got) {
            assert_eq!(data, &truth(&server, range), "{range:?}");
        }
    }
    assert_eq!(source.stats().bytes, server.bytes_served() + 65_536);
}

#[test]
fn out_of_bounds_reads_are_errors_without_requests() {
    let server = three_mb();
    let source = HttpSource::open(&server.url(), quick()).unwrap();
    assert!(source.read_range(2_999_000..3_000_001).is_err());
    #[allow(clippy::reversed_empty_ranges)]
    let reversed = 10..5;
    assert!(source.read_range(reversed).is_err());
    assert!(source.read_ranges(&[0..10, 3_000_000..3_000_001]).is_err());
    assert_eq!(server.requests(), 1);
}

#[test]
fn retries_503_three_times_then_succeeds() {
    let server = three_mb();
    let source = HttpSource::open(&server.url(), quick()).unwrap();
    server.fail_next(3, 503);
    let range = 1_000_000..1_100_000;
    assert_eq!(source.read_range(range.clone()).unwrap(), truth(&server, &range));
    let stats = source.stats();
    assert_eq!(stats.retries, 3);
    assert_eq!(stats.requests, 1 + 4);
    assert_eq!(server.requests(), 1 + 4);
    let statuses: Vec<u16> = server.log().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![206, 503, 503, 503, 206]);
}

#[test]
fn open_retries_too() {
    let server = three_mb();
    server.fail_next(2, 429);
    let source = HttpSource::open(&server.url(), quick()).unwrap();
    assert_eq!(source.len(), 3_000_000);
    assert_eq!(source.stats().retries, 2);
    assert_eq!(source.stats().requests, 3);
    assert_eq!(source.read_range(0..100).unwrap(), truth(&server, &(0..100)));
}

#[test]
fn server_error_forever_gives_up_naming_url_range_and_status() {
    let server = three_mb();
    let opts = HttpOptions { max_retries: 3, ..quick() };
    let source = HttpSource::open(&server.url(), opts).unwrap();
    server.fail_next(FOREVER, 500);
    let (url, range, message) = expect_http_error(source.read_range(100_000..100_100));
    assert_eq!(url, server.url());
    assert_eq!(range, "100000-100099");
    assert!(message.contains("after 4 attempts"), "{message}");
    assert!(message.contains("last status 500"), "{message}");
    assert_eq!(source.stats().retries, 3);
    assert_eq!(server.requests(), 1 + 4);

    // The Display form names all three for a user.
    let shown = source.read_range(200_000..200_010).unwrap_err().to_string();
    assert!(shown.starts_with(&server.url()) && shown.contains("200000-200009") && shown.contains("500"), "{shown}");

    // read_ranges fails as a whole, naming one failed range (two requests: the
    // ranges lie more than merge_gap apart).
    let (_, range, _) = expect_http_error(source.read_ranges(&[300_000..300_010, 2_900_000..2_900_010]));
    assert!(range == "300000-300009" || range == "2900000-2900009", "{range}");
}

#[test]
fn client_errors_are_not_retried() {
    let server = three_mb();
    let missing = format!("{}/missing.copc.laz", server.base_url());
    let (url, range, message) = expect_http_error(HttpSource::open(&missing, quick()));
    assert_eq!(url, missing);
    assert_eq!(range, "0-65535");
    assert!(message.contains("404"), "{message}");
    assert_eq!(server.requests(), 1);

    let source = HttpSource::open(&server.url(), quick()).unwrap();
    server.fail_next(1, 403);
    let (_, _, message) = expect_http_error(source.read_range(100_000..100_001));
    assert!(message.contains("403"), "{message}");
    assert_eq!(source.stats().retries, 0);
    assert_eq!(source.stats().requests, 2);
}

#[test]
fn truncated_body_is_retried_and_never_returned_short() {
    let server = three_mb();
    let opts = HttpOptions { max_retries: 2, ..quick() };
    let source = HttpSource::open(&server.url(), opts).unwrap();

    // Once: the retry gets the bytes.
    server.truncate_next(1);
    let range = 500_000..700_000;
    assert_eq!(source.read_range(range.clone()).unwrap(), truth(&server, &range));
    assert_eq!(source.stats().retries, 1);

    // Always: an error after max_retries + 1 attempts, never short data.
    server.truncate_next(FOREVER);
    let before = server.requests();
    let (_, range, message) = expect_http_error(source.read_range(800_000..900_000));
    assert_eq!(range, "800000-899999");
    assert!(message.contains("after 3 attempts"), "{message}");
    assert_eq!(server.requests() - before, 3);
}

#[test]
fn short_body_with_consistent_length_is_rejected() {
    let server = three_mb();
    let opts = HttpOptions { max_retries: 2, ..quick() };
    let source = HttpSource::open(&server.url(), opts).unwrap();
    server.short_next(1);
    let range = 500_000..600_000;
    assert_eq!(source.read_range(range.clone()).unwrap(), truth(&server, &range));
    assert_eq!(source.stats().retries, 1);

    server.short_next(FOREVER);
    let (_, _, message) = expect_http_error(source.read_range(800_000..900_000));
    assert!(message.contains("50000 bytes for the 100000 bytes"), "{message}");
    server.short_next(0);

    // The same with a chunked body: no Content-Length to check, the count must catch it.
    server.short_chunked_next(1);
    let range = 1_500_000..1_600_000;
    assert_eq!(source.read_range(range.clone()).unwrap(), truth(&server, &range));
    server.short_chunked_next(FOREVER);
    let (_, _, message) = expect_http_error(source.read_range(1_700_000..1_800_000));
    assert!(message.contains("50000 bytes for the 100000 bytes"), "{message}");
}

#[test]
fn dropped_connection_is_retried() {
    let server = three_mb();
    let source = HttpSource::open(&server.url(), quick()).unwrap();
    server.drop_after_headers_next(2);
    let range = 2_000_000..2_500_000;
    assert_eq!(source.read_range(range.clone()).unwrap(), truth(&server, &range));
    assert_eq!(source.stats().retries, 2);
    assert_eq!(server.requests(), 1 + 3);
}

#[test]
fn wrong_content_range_is_rejected() {
    let server = three_mb();
    let opts = HttpOptions { max_retries: 1, ..quick() };
    let source = HttpSource::open(&server.url(), opts).unwrap();
    server.wrong_range_next(1);
    let range = 400_000..400_100;
    assert_eq!(source.read_range(range.clone()).unwrap(), truth(&server, &range));
    assert_eq!(source.stats().retries, 1);

    server.wrong_range_next(FOREVER);
    let (_, _, message) = expect_http_error(source.read_range(400_000..400_100));
    assert!(message.contains("bytes 400001-400100"), "{message}");
}

#[test]
fn ignored_range_still_gives_the_right_bytes() {
    let server = three_mb();
    server.set_ignore_range(true);
    let source = HttpSource::open(&server.url(), quick()).unwrap();
    assert!(source.ranges_ignored(), "the warning flag is set");
    assert_eq!(source.len(), 3_000_000);
    assert_eq!(source.cached_len(), 65536);
    assert_eq!(server.requests(), 1);
    // open stopped reading after the first 64 KiB.
    assert!(source.stats().bytes < 1_000_000, "{:?}", source.stats());

    for range in [10..20, 1_234_567..1_300_000, 2_999_000..3_000_000] {
        assert_eq!(source.read_range(range.clone()).unwrap(), truth(&server, &range), "{range:?}");
    }
    // More than merge_gap apart: one request each.
    let ranges = [1_200_000..1_200_100, 100_000..100_100, 2_500_000..2_600_000];
    let got = source.read_ranges(&ranges).unwrap();
    for (range, data) in ranges.iter().zip(&got) {
        assert_eq!(data, &truth(&server, range));
    }
    assert_eq!(server.requests(), 1 + 2 + 3);
    assert!(server.log().iter().all(|r| r.status == 200));
}

#[test]
fn missing_total_falls_back_to_head() {
    let server = three_mb();
    server.set_hide_total(true);
    let source = HttpSource::open(&server.url(), quick()).unwrap();
    assert_eq!(source.len(), 3_000_000);
    assert_eq!(source.stats().requests, 2);
    let methods: Vec<String> = server.log().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, vec!["GET", "HEAD"]);
    let range = 2_900_000..3_000_000;
    assert_eq!(source.read_range(range.clone()).unwrap(), truth(&server, &range));
}

#[test]
fn small_and_empty_objects() {
    let server = serve_bytes(pseudo_random(1000, 3));
    let source = HttpSource::open(&server.url(), quick()).unwrap();
    assert_eq!(source.len(), 1000);
    assert_eq!(source.cached_len(), 1000);
    assert_eq!(source.read_range(0..1000).unwrap(), server.data());
    assert_eq!(source.read_ranges(&[999..1000, 0..1]).unwrap(), vec![vec![server.data()[999]], vec![server.data()[0]]]);
    assert_eq!(server.requests(), 1);

    let empty = serve_bytes(Vec::new());
    let source = HttpSource::open(&empty.url(), quick()).unwrap();
    assert_eq!(source.len(), 0);
    assert!(source.is_empty());
    assert_eq!(source.read_range(0..0).unwrap(), Vec::<u8>::new());
    assert_eq!(empty.log()[0].status, 416);
    assert_eq!(empty.requests(), 1);
}

#[test]
fn custom_headers_and_user_agent_reach_the_server() {
    let server = three_mb();
    server.require_header("Authorization", "Bearer x");

    let (_, _, message) = expect_http_error(HttpSource::open(&server.url(), quick()));
    assert!(message.contains("401"), "{message}");
    assert_eq!(server.requests(), 1, "401 is not retried");

    let opts = quick().with_header("Authorization", "Bearer x").with_header("X-Copc-Test", "yes");
    let source = HttpSource::open(&server.url(), opts).unwrap();
    source.read_range(1_000_000..1_000_010).unwrap();
    // More than merge_gap apart: two requests.
    source.read_ranges(&[1_500_000..1_500_010, 2_900_000..2_900_010]).unwrap();
    let log = server.log();
    assert_eq!(log.len(), 1 + 4);
    for request in &log[1..] {
        assert_eq!(request.header("authorization"), Some("Bearer x"));
        assert_eq!(request.header("x-copc-test"), Some("yes"));
        assert_eq!(request.header("user-agent"), Some(concat!("copc/", env!("CARGO_PKG_VERSION"))));
        assert_eq!(request.status / 100, 2);
    }
}

#[test]
fn redirects_are_followed_and_counted() {
    let server = three_mb();
    let source = HttpSource::open(&server.redirect_url(), quick()).unwrap();
    assert_eq!(source.len(), 3_000_000);
    assert_eq!(server.requests(), 2);
    assert_eq!(source.stats().requests, 2, "each redirect hop is a request");
    let range = 1_500_000..1_600_000;
    assert_eq!(source.read_range(range.clone()).unwrap(), truth(&server, &range));
    assert_eq!(server.requests(), 4);
    assert_eq!(source.stats().requests, 4);
    let log = server.log();
    assert_eq!(log[0].status, 302);
    assert_eq!(log[1].header("range"), Some("bytes=0-65535"), "Range survives the redirect");
}

#[test]
fn query_string_is_kept_and_hidden_from_messages() {
    let server = three_mb();
    let url = format!("{}?X-Amz-Signature=s3cr3t&x=1", server.url());
    let source = HttpSource::open(&url, quick()).unwrap();
    source.read_range(1_000_000..1_000_010).unwrap();
    let redirected = format!("{}?X-Amz-Signature=s3cr3t&x=1", server.redirect_url());
    HttpSource::open(&redirected, quick()).unwrap();
    let log = server.log();
    assert_eq!(log.len(), 4);
    for request in &log {
        assert!(request.target.ends_with("?X-Amz-Signature=s3cr3t&x=1"), "{}", request.target);
    }
    assert_eq!(source.url(), url);
    assert!(!source.name().contains("s3cr3t"), "{}", source.name());
    server.fail_next(1, 404);
    let message = source.read_range(2_000_000..2_000_010).unwrap_err().to_string();
    assert!(!message.contains("s3cr3t"), "{message}");
}

#[test]
fn slow_responses_time_out_and_are_retried() {
    let server = three_mb();
    let source = HttpSource::open(&server.url(), quick()).unwrap();
    server.set_delay(Duration::from_millis(500));
    let opts = HttpOptions { timeout: Duration::from_millis(100), max_retries: 1, ..quick() };
    let (_, _, message) = expect_http_error(HttpSource::open(&server.url(), opts));
    assert!(message.contains("after 2 attempts"), "{message}");
    assert!(message.to_lowercase().contains("timeout") || message.to_lowercase().contains("timed out"), "{message}");
    // The first source has a 10 s timeout: a slow answer is just slow.
    server.set_delay(Duration::from_millis(150));
    let range = 700_000..700_100;
    assert_eq!(source.read_range(range.clone()).unwrap(), truth(&server, &range));
    assert_eq!(source.stats().retries, 0);
}

#[test]
fn connection_refused_is_retried_once_then_reported() {
    // A port that was just free: nothing listens there now (loopback only). A
    // refused connection gets one short retry whatever max_retries says (issue #15).
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/nothing.copc.laz");
    let opts = HttpOptions { max_retries: 5, ..quick() };
    let (got_url, range, message) = expect_http_error(HttpSource::open(&url, opts));
    assert_eq!(got_url, url);
    assert_eq!(range, "0-65535");
    assert!(message.contains("after 2 attempts"), "{message}");
}

#[test]
fn https_to_a_plain_http_server_fails_cleanly() {
    // The rustls handshake meets a plain HTTP server (loopback), which waits for a
    // request line that never comes: the connect timeout ends it, then an error.
    let server = three_mb();
    let url = server.url().replacen("http://", "https://", 1);
    let opts = HttpOptions { max_retries: 1, connect_timeout: Duration::from_millis(300), ..quick() };
    let (got_url, range, message) = expect_http_error(HttpSource::open(&url, opts));
    assert_eq!(got_url, url);
    assert_eq!(range, "0-65535");
    assert!(message.contains("after 2 attempts"), "{message}");
    assert!(server.requests() <= 2, "{}", server.requests());
}

#[test]
fn open_source_picks_http_or_file() {
    let server = three_mb();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.bin");
    std::fs::write(&path, server.data()).unwrap();

    let remote = open_source(&server.url(), &quick()).unwrap();
    let local = open_source(path.to_str().unwrap(), &quick()).unwrap();
    assert_eq!(remote.name(), server.url());
    assert_eq!(local.len(), remote.len());
    let ranges = [5..10, 1_000_000..1_200_000, 2_999_990..3_000_000];
    assert_eq!(remote.read_ranges(&ranges).unwrap(), local.read_ranges(&ranges).unwrap());
    assert!(remote.stats().requests >= 2);
    assert!(open_source("/no/such/file.copc.laz", &quick()).is_err());
}

#[test]
fn real_copc_file_over_http_matches_the_local_file() {
    let Some(dir) = std::env::var_os("COPC_TEST_DATA") else {
        eprintln!("SKIPPED: COPC_TEST_DATA not set");
        return;
    };
    let path = std::path::Path::new(&dir).join("pdal_lone-star.copc.laz");
    let local = FileSource::open(&path).unwrap();
    let server = serve_file(&path);
    let remote = HttpSource::open(&server.url(), quick()).unwrap();
    assert_eq!(remote.len(), local.len());
    assert_eq!(server.requests(), 1);
    let len = local.len();

    // Header + VLRs from the cache, then random ranges and batches.
    assert_eq!(remote.read_range(0..375.min(len)).unwrap(), local.read_range(0..375.min(len)).unwrap());
    assert_eq!(server.requests(), 1);
    let mut rng = Rng(2024);
    for _ in 0..30 {
        let start = rng.below(len);
        let range = start..start + rng.below((len - start).min(200_000));
        assert_eq!(remote.read_range(range.clone()).unwrap(), local.read_range(range.clone()).unwrap(), "{range:?}");
    }
    let batch: Vec<Range<u64>> = (0..40)
        .map(|_| {
            let start = rng.below(len);
            start..start + rng.below((len - start).min(50_000))
        })
        .collect();
    assert_eq!(remote.read_ranges(&batch).unwrap(), local.read_ranges(&batch).unwrap());
    assert_eq!(remote.read_range(0..len).unwrap(), std::fs::read(&path).unwrap());
    assert_eq!(remote.stats().requests, server.requests());
}
