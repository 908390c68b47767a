//! HttpSource against a real nginx (started by `.ci/nginx start "$COPC_TEST_DATA"`):
//! bytes compared with the local file, request counts compared with nginx's access
//! log. Needs COPC_TEST_NGINX_URL (and COPC_TEST_NGINX_LOG for the counts).

use copc::{ByteSource, Error, FileSource, HttpOptions, HttpSource};
use std::ops::Range;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const FILE: &str = "pdal_lone-star.copc.laz";

struct Setup {
    url: String,
    log: Option<PathBuf>,
    local: PathBuf,
}

fn setup() -> Option<Setup> {
    let Ok(url) = std::env::var("COPC_TEST_NGINX_URL") else {
        eprintln!("SKIPPED: COPC_TEST_NGINX_URL not set (run .ci/nginx start)");
        return None;
    };
    let data = std::env::var_os("COPC_TEST_DATA")
        .expect("COPC_TEST_NGINX_URL is set but COPC_TEST_DATA is not: set it to the folder nginx serves");
    let log = std::env::var_os("COPC_TEST_NGINX_LOG").map(PathBuf::from);
    if log.is_none() {
        eprintln!("NOTE: COPC_TEST_NGINX_LOG not set: request counts are not checked against nginx");
    }
    Some(Setup { url: url.trim_end_matches('/').to_string(), log, local: PathBuf::from(data).join(FILE) })
}

/// A query string unique to this run, so log lines of other runs do not count.
fn tag(test: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("copc-test={test}-{}-{nanos}", std::process::id())
}

/// Access-log lines whose request carries `tag`, waiting up to 3 s for `expected`
/// (nginx writes a line when it finishes a request, maybe just after the client).
fn logged_requests(log: &PathBuf, tag: &str, expected: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_else(|e| panic!("cannot read {}: {e}", log.display()));
        let n = text.lines().filter(|line| line.contains(tag)).count() as u64;
        if n >= expected || Instant::now() > deadline {
            return n;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn nginx_serves_the_same_bytes_as_the_local_file() {
    let Some(setup) = setup() else { return };
    let tag = tag("bytes");
    let url = format!("{}/{FILE}?{tag}", setup.url);
    let local = FileSource::open(&setup.local).unwrap();
    // 64 KiB: the batch below has ranges both nearer and farther apart than that.
    let remote = HttpSource::open(&url, HttpOptions { merge_gap: 64 << 10, ..Default::default() }).unwrap();
    assert_eq!(remote.len(), local.len());
    assert_eq!(remote.stats().requests, 1);
    assert!(!remote.ranges_ignored());
    let len = local.len();

    // The first 64 KiB (from open's cache), a middle range, and a batch.
    let first = 0..65536.min(len);
    assert_eq!(remote.read_range(first.clone()).unwrap(), local.read_range(first).unwrap());
    assert_eq!(remote.stats().requests, 1);
    let middle = len / 2 - 100_000..len / 2 + 100_000;
    assert_eq!(remote.read_range(middle.clone()).unwrap(), local.read_range(middle).unwrap());
    let batch: Vec<Range<u64>> = vec![
        len - 1000..len,
        200_000..210_000,
        210_000..220_000, // adjacent: merged with the one before
        500_000..500_100,
        230_000..231_000, // near: merged too
        1_000_000..1_500_000,
        100..200, // cached
    ];
    assert_eq!(remote.read_ranges(&batch).unwrap(), local.read_ranges(&batch).unwrap());
    assert_eq!(remote.read_range(0..len).unwrap(), std::fs::read(&setup.local).unwrap());

    // open, middle, 4 batch requests (200_000..231_000 merged), whole file.
    let requests = remote.stats().requests;
    assert_eq!(requests, 1 + 1 + 4 + 1, "{:?}", remote.stats());
    assert_eq!(remote.stats().retries, 0);
    if let Some(log) = &setup.log {
        assert_eq!(logged_requests(log, &tag, requests), requests, "nginx access log vs stats().requests");
    }
}

#[test]
fn nginx_missing_file_is_an_http_error_without_retries() {
    let Some(setup) = setup() else { return };
    let tag = tag("missing");
    let url = format!("{}/no-such-file.copc.laz?{tag}", setup.url);
    match HttpSource::open(&url, HttpOptions::default()) {
        Err(Error::Http { range, message, .. }) => {
            assert_eq!(range, "0-65535");
            assert!(message.contains("404"), "{message}");
        }
        Err(other) => panic!("expected Error::Http, got {other:?}"),
        Ok(_) => panic!("expected a 404 error"),
    }
    if let Some(log) = &setup.log {
        assert_eq!(logged_requests(log, &tag, 1), 1);
    }
}
