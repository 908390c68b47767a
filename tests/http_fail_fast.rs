//! Fail fast where nothing can succeed later (issue #15): each case timed against
//! the loopback test server with the default options (8 retries, 100 ms backoff,
//! which would take seconds if these were retried). A failed DNS lookup and a
//! certificate error cannot be produced without leaving loopback (a DNS query goes
//! to the resolver; a TLS server needs a certificate tool), so their classification
//! is unit-tested in src/source/http/mod.rs; the plain-HTTP-to-HTTPS case is here.

#[path = "support/fault_proxy.rs"]
mod fault_proxy;
#[path = "support/http_server.rs"]
mod http_server;

use copc::{Error, HttpOptions, HttpSource};
use std::time::{Duration, Instant};

fn timed_error(url: &str, opts: HttpOptions) -> (String, Duration) {
    let t = Instant::now();
    match HttpSource::open(url, opts) {
        Err(Error::Http { message, .. }) => (message, t.elapsed()),
        Err(e) => panic!("{url}: expected an HTTP error, got {e}"),
        Ok(_) => panic!("{url}: opened"),
    }
}

#[test]
fn not_found_and_forbidden_are_reported_at_once() {
    let server = http_server::serve_bytes(vec![7; 100_000]);
    let missing = format!("{}/missing.laz", server.base_url());
    let (message, took) = timed_error(&missing, HttpOptions::default());
    assert!(message.contains("404") && !message.contains("attempts"), "{message}");
    assert!(took < Duration::from_millis(500), "404 took {took:?}");
    server.fail_next(http_server::FOREVER, 403);
    server.reset_counters();
    let (message, took) = timed_error(&server.url(), HttpOptions::default());
    assert!(message.contains("403"), "{message}");
    assert!(took < Duration::from_millis(500), "403 took {took:?}");
    assert_eq!(server.requests(), 1, "a 403 is asked once");
}

#[test]
fn a_refused_connection_gets_one_short_retry() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (message, took) = timed_error(&format!("http://127.0.0.1:{port}/a.laz"), HttpOptions::default());
    assert!(message.contains("after 2 attempts"), "{message}");
    assert!(took < Duration::from_secs(1), "refused took {took:?}");
}

#[test]
fn server_errors_and_rate_limits_are_still_retried() {
    let server = http_server::serve_bytes(vec![7; 100_000]);
    server.fail_next(3, 503);
    let source = HttpSource::open(&server.url(), HttpOptions { backoff_base: Duration::from_millis(1), ..Default::default() }).unwrap();
    assert_eq!(copc::ByteSource::stats(&source).retries, 3);
    server.fail_next(2, 429);
    let source = HttpSource::open(&server.url(), HttpOptions { backoff_base: Duration::from_millis(1), ..Default::default() }).unwrap();
    assert_eq!(copc::ByteSource::stats(&source).retries, 2);
}

#[test]
fn retry_after_is_honoured_and_a_long_one_fails_at_once() {
    let server = http_server::serve_bytes(vec![7; 100_000]);
    let proxy = fault_proxy::Proxy::start(server.url().rsplit(':').next().unwrap().split('/').next().unwrap().parse().unwrap());
    let url = format!("{}/data.bin", proxy.endpoint());
    let quick = HttpOptions { backoff_base: Duration::from_millis(1), ..Default::default() };
    proxy.inject(&[fault_proxy::Fault::Status(429, Some(1))]);
    let t = Instant::now();
    let source = HttpSource::open(&url, quick.clone()).unwrap();
    assert!(t.elapsed() >= Duration::from_secs(1) && t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert_eq!(copc::ByteSource::stats(&source).retries, 1);
    proxy.inject(&[fault_proxy::Fault::Status(503, Some(3600))]);
    let (message, took) = timed_error(&url, quick);
    assert!(message.contains("3600 s"), "{message}");
    assert!(took < Duration::from_millis(500), "{took:?}");
}
