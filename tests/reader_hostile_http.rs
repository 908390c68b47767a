//! The hostile-file family of reader_malformed.rs, read over HTTP from the
//! fault-injecting test server, with one transient fault (503, a cut body, a short
//! body, a dropped connection, a shifted range) injected into each read. Every
//! variant must give what the local read gives: the same points, or an error (naming
//! the URL); never a panic, a hang or an allocation beyond a small multiple of the file.

mod support;
#[path = "support/hostile.rs"]
mod hostile;
#[path = "support/http_server.rs"]
mod http_server;

use copc::{HttpOptions, HttpSource, ReaderOptions};
use hostile::{Checker, Outcome, read_all, read_source};
use std::sync::Arc;
use std::time::Duration;
use support::mini_copc::{self, Options};

fn read_url(url: &str) -> Outcome {
    let http = HttpOptions { backoff_base: Duration::from_millis(1), max_retries: 3, ..Default::default() };
    let opts = ReaderOptions { threads: Some(2), http: http.clone() };
    let open = std::panic::catch_unwind(|| HttpSource::open(url, http));
    match open {
        Ok(Ok(src)) => read_source(Arc::new(src), &opts),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("PANIC while opening".into()),
    }
}

/// Arms fault number `i` (of a rotation) for the next request(s) to `server`.
fn inject(server: &http_server::TestServer, i: usize) -> &'static str {
    match i % 6 {
        0 => {
            server.fail_next(1, 503);
            "503"
        }
        1 => {
            server.truncate_next(1);
            "body cut"
        }
        2 => {
            server.short_next(1);
            "short body"
        }
        3 => {
            server.drop_after_headers_next(1);
            "dropped"
        }
        4 => {
            server.wrong_range_next(1);
            "shifted range"
        }
        _ => "no fault",
    }
}

#[test]
fn hostile_files_over_a_faulty_server_read_as_they_do_locally() {
    let m = mini_copc::build(&Options { points: 3000, max_level: 2, page_level: 1, ..Default::default() });
    let valid = read_all(&m.bytes).expect("the unmodified file reads");
    let mut c = Checker::new(m.bytes.len(), valid.clone(), "http://127.0.0.1:");
    // the unmodified file under every fault: always all its points
    for i in 0..6 {
        let server = http_server::serve_bytes(m.bytes.clone());
        let fault = inject(&server, i);
        let url = server.url();
        assert_eq!(read_url(&url).as_ref(), Ok(&valid), "the valid file with fault '{fault}'");
    }
    let mut differ = Vec::new();
    for (i, v) in hostile::variants(&m).into_iter().enumerate() {
        let local = read_all(&v.bytes);
        let server = http_server::serve_bytes(v.bytes);
        let fault = inject(&server, i);
        let url = server.url();
        let what = format!("{} (fault: {fault})", v.what);
        let mut remote = None;
        c.check_with(&what, v.chunk_bytes, || {
            let r = read_url(&url);
            remote = Some(r.clone());
            r
        });
        match (&local, remote.as_ref().expect("read")) {
            (Ok(a), Ok(b)) if a == b => {}
            (Err(_), Err(_)) => {}
            (a, b) => differ.push(format!(
                "{what}: local {} but HTTP {}",
                a.as_ref().map(|r| format!("{} points", r.len())).unwrap_or_else(|e| e.clone()),
                b.as_ref().map(|r| format!("{} points", r.len())).unwrap_or_else(|e| e.clone())
            )),
        }
    }
    assert!(differ.is_empty(), "{} variants read differently over HTTP:\n{}", differ.len(), differ.join("\n"));
    c.finish();
}
