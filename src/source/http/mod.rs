//! Remote files over HTTP(S) with range requests (blocking ureq, rustls).
//!
//! Cost model, the thing that matters for COPC over a network:
//! - `open` makes ONE request, for the first [`HttpOptions::first_read`] bytes.
//!   The object size comes from the `Content-Range` total; those bytes are kept,
//!   so the header, the VLRs and usually the root hierarchy page cost nothing more.
//! - `read_range` makes one request for the part of the range that is not cached.
//! - `read_ranges` merges ranges closer than [`HttpOptions::merge_gap`] into one
//!   request, splits spans longer than [`HttpOptions::max_request`], and runs at
//!   most [`HttpOptions::concurrency`] requests at once. Nothing is fetched twice.
//!
//! Every answer is checked: a `206` must carry a `Content-Range` naming exactly the
//! bytes asked for, and the body must hold exactly that many bytes. Anything else
//! (and connection errors, timeouts, `5xx`, `429`) is retried with exponential
//! backoff and jitter, then reported as [`Error::Http`] naming URL, byte range and
//! the last status or error. Short data is never returned.
//!
//! A server that ignores `Range` and answers `200` with the whole object still
//! works (the wanted bytes are cut out of the stream), with a warning on stderr
//! once per source, because every read then downloads from the start of the file.

mod answer;

pub use answer::{Answer, Attempt};
#[cfg(feature = "fuzzing")]
pub use answer::{ContentRange, parse_content_range};

use super::{ByteSource, SourceStats, check_range};
use crate::error::{Error, Result};
use std::io::Read;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use ureq::ResponseExt;
use ureq::http::{HeaderMap, Response};

/// Longest wait between two attempts (unless `backoff_base` alone is longer).
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Longest `Retry-After` we wait for; a server asking for more gets an error at once
/// (waiting minutes inside a read helps nobody).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// What an object store adds to this engine: a signature on each request, and
/// messages that say what to fix when the store refuses one. Everything else
/// (planning, merging, retries, answer checks, counters) stays the engine's.
pub(crate) trait RequestSigner: Send + Sync {
    /// Signs one request (headers or query string) just before it is sent.
    fn sign(&self, request: &mut ureq::http::request::Parts) -> std::result::Result<(), String>;
    /// Rewrites a final refusal (`what`: "status 403 Forbidden (body...)") for the user.
    fn explain(&self, status: u16, headers: &HeaderMap, what: &str) -> String;
}

/// Settings of an [`HttpSource`]. Start from `HttpOptions::default()` and set the
/// fields you need (`HttpOptions { max_retries: 3, ..Default::default() }`).
#[derive(Clone, PartialEq, Eq)]
pub struct HttpOptions {
    /// Headers sent with every request, e.g. `("Authorization", "Bearer ...")`.
    /// (`Range` is set by the source; do not pass it here.)
    pub headers: Vec<(String, String)>,
    /// Retries after a transient failure (connection error, timeout, `5xx`, `429`,
    /// an answer that is not exactly the bytes asked for): a request is tried at
    /// most `max_retries + 1` times. Other `4xx` are never retried. Default 8 (PDAL's).
    pub max_retries: u32,
    /// Limit for one request, from connecting to the last byte of the body.
    /// Default 60 s.
    pub timeout: Duration,
    /// Limit for establishing a connection (TCP and TLS). Default 10 s.
    pub connect_timeout: Duration,
    /// Requests in flight at once in `read_ranges` (PDAL's `requests`). Default 10.
    pub concurrency: usize,
    /// Ranges separated by at most this many bytes are fetched by one request (the
    /// bytes in between are downloaded and dropped). Default 256 KiB: on the
    /// benchmark's towns a box query then takes fewer requests than laspy (14 vs 16
    /// at 10 M points, 9 vs 11 at 1 M) for the same bytes, while 1 MiB (the
    /// `object_store` crate's coalescing default) saves 3 more requests for 8-32%
    /// more bytes. Raise it towards 1 MiB for object stores far away, where each
    /// request costs tens of milliseconds and may be billed; 0 still merges ranges
    /// that touch.
    pub merge_gap: u64,
    /// Longest span one request asks for: longer spans are split into parts that
    /// are fetched in parallel. 0 means no limit. Default 8 MiB.
    pub max_request: u64,
    /// Bytes fetched and kept by `open`; reads inside them cost no request.
    /// Default 65536. (At least 1 byte is always asked for.)
    pub first_read: u64,
    /// `User-Agent` header. Default `copc/<crate version>`.
    pub user_agent: String,
    /// Wait before the first retry; it doubles on each further retry (times a random
    /// factor in 0.5..1, at most 10 s). Default 100 ms.
    pub backoff_base: Duration,
    /// Credentials and endpoints for `s3://`, `az://` and `gs://` sources (see [`StoreOptions`];
    /// unset fields come from the environment).
    pub store: crate::source::StoreOptions,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            headers: Vec::new(),
            max_retries: 8,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            concurrency: 10,
            merge_gap: 256 << 10,
            max_request: 8 * 1024 * 1024,
            first_read: 65536,
            user_agent: concat!("copc/", env!("CARGO_PKG_VERSION")).to_string(),
            backoff_base: Duration::from_millis(100),
            store: Default::default(),
        }
    }
}

// By hand: header values are often credentials ("Authorization: Bearer ..."), so a
// debug print shows only the header names.
impl std::fmt::Debug for HttpOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HttpOptions")
            .field("headers (values hidden)", &names)
            .field("max_retries", &self.max_retries)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("concurrency", &self.concurrency)
            .field("merge_gap", &self.merge_gap)
            .field("max_request", &self.max_request)
            .field("first_read", &self.first_read)
            .field("user_agent", &self.user_agent)
            .field("backoff_base", &self.backoff_base)
            .field("store", &self.store)
            .finish()
    }
}

impl HttpOptions {
    /// Adds a header sent with every request.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A COPC/LAS file behind an `http://` or `https://` URL, read with range requests.
///
/// Thread-safe: one source serves many threads; requests share a connection pool.
pub struct HttpSource {
    /// The URL as given (query string included: pre-signed URLs need it).
    url: String,
    /// The URL for messages: no user info, query string hidden.
    name: String,
    len: u64,
    /// The first `min(first_read, len)` bytes (fewer if the server chose so).
    head: Vec<u8>,
    agent: ureq::Agent,
    opts: HttpOptions,
    requests: AtomicU64,
    bytes: AtomicU64,
    retries: AtomicU64,
    /// The server answered a range request with `200` and the whole object.
    ranges_ignored: AtomicBool,
    /// Signs requests for an object store (None: plain HTTP).
    signer: Option<Arc<dyn RequestSigner>>,
}

impl std::fmt::Debug for HttpSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSource").field("url", &self.name).field("len", &self.len).finish_non_exhaustive()
    }
}

impl HttpSource {
    /// Opens `url` with one request for its first `opts.first_read` bytes, which
    /// gives the object size and fills the cache of first bytes. Falls back to a
    /// `HEAD` request when the server does not tell the total size.
    pub fn open(url: &str, opts: HttpOptions) -> Result<HttpSource> {
        Self::open_signed(url, display_url(url), opts, None)
    }

    /// `open` for an object store: `url` is the store's HTTP(S) address of the object,
    /// `name` what messages call it (`s3://bucket/key`), `signer` signs each request.
    pub(crate) fn open_signed(
        url: &str,
        name: String,
        opts: HttpOptions,
        signer: Option<Arc<dyn RequestSigner>>,
    ) -> Result<HttpSource> {
        let concurrency = opts.concurrency.max(1);
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_per_call(Some(opts.timeout))
            .timeout_connect(Some(opts.connect_timeout))
            .user_agent(opts.user_agent.as_str())
            .accept_encoding("identity")
            .max_redirects(10)
            .redirect_auth_headers(ureq::config::RedirectAuthHeaders::SameHost)
            .save_redirect_history(true)
            .max_idle_connections(concurrency.max(10))
            .max_idle_connections_per_host(concurrency)
            // HTTPS trusts the system's root certificates (what curl and browsers trust)
            .tls_config(ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::PlatformVerifier).build())
            .build();
        let mut source = HttpSource {
            url: url.to_string(),
            name,
            len: 0,
            head: Vec::new(),
            agent: ureq::Agent::new_with_config(config),
            opts,
            requests: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            ranges_ignored: AtomicBool::new(false),
            signer,
        };
        let want = source.opts.first_read.max(1);
        let label = format!("0-{}", want - 1);
        let (head, total) = source.with_retries(&label, || source.open_once(want))?;
        let len = match total {
            Some(total) => total,
            None => source.with_retries("*", || source.head_once())?,
        };
        if head.len() as u64 > len {
            return Err(source
                .error(&label, format!("the server sent {} bytes of an object it says has {len} bytes", head.len())));
        }
        source.len = len;
        source.head = head;
        Ok(source)
    }

    /// The URL as given (with its query string, so it may hold credentials).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether the server answered a range request with the whole object (`200`).
    pub fn ranges_ignored(&self) -> bool {
        self.ranges_ignored.load(Ordering::Relaxed)
    }

    /// Bytes kept from `open`; reads inside `0..cached_len()` make no request.
    pub fn cached_len(&self) -> u64 {
        self.head.len() as u64
    }

    fn error(&self, range: &str, message: String) -> Error {
        Error::Http { url: self.name.clone(), range: range.to_string(), message }
    }

    /// Runs `attempt` until it is done, fails for good, or `max_retries` is spent.
    fn with_retries<T>(&self, range: &str, mut attempt: impl FnMut() -> Attempt<T>) -> Result<T> {
        let tries = self.opts.max_retries.saturating_add(1);
        let mut n = 1;
        loop {
            match attempt() {
                Attempt::Done(value) => return Ok(value),
                Attempt::Fatal(message) => return Err(self.error(range, message)),
                Attempt::Transient(what) if n >= tries => {
                    let s = if n == 1 { "" } else { "s" };
                    return Err(self.error(range, format!("gave up after {n} attempt{s}; last {what}")));
                }
                Attempt::Transient(_) => {
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(backoff(self.opts.backoff_base, n));
                    n += 1;
                }
                Attempt::TransientAfter(what, wait) if wait > MAX_RETRY_AFTER => {
                    return Err(self.error(
                        range,
                        format!(
                            "{what}; the server asks to wait {} s before trying again, longer than the {} s \
                             a read waits",
                            wait.as_secs(),
                            MAX_RETRY_AFTER.as_secs()
                        ),
                    ));
                }
                Attempt::TransientAfter(what, _) if n >= tries => {
                    return Err(self.error(range, format!("gave up after {n} attempts; last {what}")));
                }
                Attempt::TransientAfter(_, wait) => {
                    // The server's wait, or our backoff when that is longer.
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(wait.max(backoff(self.opts.backoff_base, n)));
                    n += 1;
                }
                // A refused connection rarely heals within a read: one short retry
                // (a server restarting), then the error.
                Attempt::RetryOnce(what) if n >= tries.min(2) => {
                    let s = if n == 1 { "" } else { "s" };
                    return Err(self.error(range, format!("gave up after {n} attempt{s}; last {what}")));
                }
                Attempt::RetryOnce(_) => {
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(self.opts.backoff_base);
                    n += 1;
                }
            }
        }
    }

    /// Sends one request (redirects followed) and counts what it cost.
    fn send(&self, head: bool, range: Option<Range<u64>>) -> std::result::Result<Response<ureq::Body>, ureq::Error> {
        let result = match &self.signer {
            None => {
                let mut request = if head { self.agent.head(&self.url) } else { self.agent.get(&self.url) };
                for (name, value) in &self.opts.headers {
                    request = request.header(name.as_str(), value.as_str());
                }
                if let Some(r) = range {
                    request = request.header("Range", format!("bytes={}-{}", r.start, r.end - 1));
                }
                request.call()
            }
            Some(signer) => {
                let mut request = ureq::http::Request::builder().method(if head { "HEAD" } else { "GET" }).uri(&self.url);
                for (name, value) in &self.opts.headers {
                    request = request.header(name.as_str(), value.as_str());
                }
                if let Some(r) = range {
                    request = request.header("Range", format!("bytes={}-{}", r.start, r.end - 1));
                }
                let (mut parts, ()) = request.body(()).map_err(ureq::Error::Http)?.into_parts();
                // Not sent, so not counted: signing failed (no credentials, ...).
                signer.sign(&mut parts).map_err(|m| ureq::Error::Other(m.into()))?;
                self.agent.run(ureq::http::Request::from_parts(parts, ()))
            }
        };
        // Each redirect hop is a request on the wire.
        let hops = match &result {
            Ok(response) => response.get_redirect_history().map_or(1, |h| h.len().max(1)) as u64,
            Err(_) => 1,
        };
        self.requests.fetch_add(hops, Ordering::Relaxed);
        result
    }

    /// Sends one request, lets `interpret` read its answer (counting the body bytes
    /// read), and adds what the headers say: `Retry-After`, and for object stores an
    /// explanation of a refusal.
    fn attempt<T>(
        &self,
        head: bool,
        range: Option<Range<u64>>,
        interpret: impl FnOnce(&mut Answer<Counting<'_>>) -> Attempt<T>,
    ) -> Attempt<T> {
        let response = match self.send(head, range) {
            Ok(response) => response,
            Err(e) => return classify_error(e),
        };
        let header = |name: &str| response.headers().get(name).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let (status, content_range, content_length) =
            (response.status().as_u16(), header("content-range"), header("content-length"));
        let retry_after = header("retry-after");
        let headers = if status >= 300 && self.signer.is_some() { response.headers().clone() } else { HeaderMap::new() };
        let body = Counting { inner: response.into_body().into_reader(), bytes: &self.bytes };
        let mut answer = Answer { status, content_range, content_length, body };
        match interpret(&mut answer) {
            Attempt::Transient(what) if matches!(status, 429 | 503) => {
                match retry_after.as_deref().and_then(parse_retry_after) {
                    Some(wait) => Attempt::TransientAfter(what, wait),
                    None => Attempt::Transient(what),
                }
            }
            Attempt::Fatal(what) => match &self.signer {
                Some(signer) if status >= 300 => Attempt::Fatal(signer.explain(status, &headers, &what)),
                _ => Attempt::Fatal(what),
            },
            other => other,
        }
    }

    /// The first request: returns the first bytes and the total size, if told.
    fn open_once(&self, want: u64) -> Attempt<(Vec<u8>, Option<u64>)> {
        self.attempt(false, Some(0..want), |a| a.open(want, &|declared| self.warn_ranges_ignored(declared)))
    }

    /// A `HEAD` request for the size, when the range answer did not tell it.
    fn head_once(&self) -> Attempt<u64> {
        self.attempt(true, None, |a| a.head())
    }

    /// One ranged GET for exactly `range` (non-empty, inside the object).
    fn fetch_once(&self, range: &Range<u64>) -> Attempt<Vec<u8>> {
        self.attempt(false, Some(range.clone()), |a| a.fetch(range, self.len, &|declared| self.warn_ranges_ignored(declared)))
    }

    fn warn_ranges_ignored(&self, declared: Option<u64>) {
        if !self.ranges_ignored.swap(true, Ordering::Relaxed) {
            let size = declared.map_or(String::new(), |n| format!(" ({n} bytes)"));
            eprintln!(
                "copc: warning: {}: the server ignores Range requests and sends the whole object{size}; \
                 every read downloads from the start of the file",
                self.name
            );
        }
    }

    /// Fetches `range` (non-empty) with retries.
    fn fetch(&self, range: &Range<u64>) -> Result<Vec<u8>> {
        self.with_retries(&range_label(range), || self.fetch_once(range))
    }

    /// Fetches all `parts`, at most `concurrency` at a time; results in order.
    fn fetch_all(&self, parts: &[Range<u64>]) -> Result<Vec<Vec<u8>>> {
        let workers = self.opts.concurrency.max(1).min(parts.len());
        if workers <= 1 {
            return parts.iter().map(|p| self.fetch(p)).collect();
        }
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let mut slots: Vec<Option<Result<Vec<u8>>>> = (0..parts.len()).map(|_| None).collect();
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        while !failed.load(Ordering::Relaxed) {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(part) = parts.get(i) else { break };
                            let result = self.fetch(part);
                            if result.is_err() {
                                failed.store(true, Ordering::Relaxed);
                            }
                            done.push((i, result));
                        }
                        done
                    })
                })
                .collect();
            for handle in handles {
                match handle.join() {
                    Ok(done) => {
                        for (i, result) in done {
                            slots[i] = Some(result);
                        }
                    }
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
        });
        // On failure, report the first failed part in order (parts after a failure
        // may not have been fetched at all).
        if let Some(i) = slots.iter().position(|s| matches!(s, Some(Err(_)))) {
            if let Some(Err(e)) = slots[i].take() {
                return Err(e);
            }
        }
        slots
            .into_iter()
            .zip(parts)
            .map(|(slot, part)| match slot {
                Some(result) => result,
                None => Err(self.error(&range_label(part), "not fetched (internal error)".into())),
            })
            .collect()
    }
}

impl ByteSource for HttpSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn read_range(&self, range: Range<u64>) -> Result<Vec<u8>> {
        check_range(&self.name, &range, self.len, "read")?;
        let cached = self.head.len() as u64;
        if range.end <= cached {
            return Ok(self.head[range.start as usize..range.end as usize].to_vec());
        }
        let fetch = range.start.max(cached)..range.end;
        let parts = plan_requests(std::slice::from_ref(&fetch), 0, self.opts.max_request);
        let fetched = self.fetch_all(&parts)?;
        Ok(assemble(&self.head, &range, &parts, &fetched))
    }

    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Vec<u8>>> {
        for range in ranges {
            check_range(&self.name, range, self.len, "read")?;
        }
        let cached = self.head.len() as u64;
        let wanted: Vec<Range<u64>> =
            ranges.iter().filter(|r| r.end > cached).map(|r| r.start.max(cached)..r.end).collect();
        let parts = plan_requests(&wanted, self.opts.merge_gap, self.opts.max_request);
        let fetched = self.fetch_all(&parts)?;
        Ok(ranges.iter().map(|r| assemble(&self.head, r, &parts, &fetched)).collect())
    }

    fn merge_gap(&self) -> Option<u64> {
        Some(self.opts.merge_gap)
    }

    fn stats(&self) -> SourceStats {
        SourceStats {
            requests: self.requests.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
        }
    }
}

/// A body reader that adds what it reads to the source's byte counter.
struct Counting<'a> {
    inner: ureq::BodyReader<'static>,
    bytes: &'a AtomicU64,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Requests covering all non-empty `wanted` ranges: sorted, merged when they
/// overlap, touch or lie at most `merge_gap` apart, then cut into parts of at most
/// `max_request` bytes (0: no limit). The parts are sorted and disjoint.
fn plan_requests(wanted: &[Range<u64>], merge_gap: u64, max_request: u64) -> Vec<Range<u64>> {
    let mut sorted: Vec<Range<u64>> = wanted.iter().filter(|r| r.start < r.end).cloned().collect();
    sorted.sort_by_key(|r| (r.start, r.end));
    let mut spans: Vec<Range<u64>> = Vec::new();
    for r in sorted {
        match spans.last_mut() {
            Some(last) if r.start <= last.end.saturating_add(merge_gap) => last.end = last.end.max(r.end),
            _ => spans.push(r),
        }
    }
    if max_request == 0 {
        return spans;
    }
    let mut parts = Vec::with_capacity(spans.len());
    for span in spans {
        let len = span.end - span.start;
        let count = len.div_ceil(max_request);
        let size = len.div_ceil(count);
        let mut start = span.start;
        while start < span.end {
            let end = (start + size).min(span.end);
            parts.push(start..end);
            start = end;
        }
    }
    parts
}

/// Cuts `range` out of the cached first bytes and the fetched parts, which cover
/// every byte of it past the cache.
fn assemble(head: &[u8], range: &Range<u64>, parts: &[Range<u64>], fetched: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity((range.end - range.start) as usize);
    let cached = head.len() as u64;
    if range.start < cached {
        out.extend_from_slice(&head[range.start as usize..range.end.min(cached) as usize]);
    }
    let mut pos = range.start.max(cached);
    let mut i = parts.partition_point(|p| p.end <= pos);
    while pos < range.end {
        let (part, data) = (&parts[i], &fetched[i]);
        let end = range.end.min(part.end);
        out.extend_from_slice(&data[(pos - part.start) as usize..(end - part.start) as usize]);
        pos = end;
        i += 1;
    }
    out
}

/// `start-end` (inclusive, as in a `Range` header) for messages.
fn range_label(range: &Range<u64>) -> String {
    format!("{}-{}", range.start, range.end.saturating_sub(1))
}

/// Timeouts and connections broken mid-transfer are worth another try; a refused
/// connection one short retry; bad URLs, TLS certificate problems, unknown hosts
/// (a failed DNS lookup) and redirect loops none: nothing can succeed later.
fn classify_error<T>(error: ureq::Error) -> Attempt<T> {
    let what = format!("error: {error}");
    match error {
        ureq::Error::Io(e) => classify_io(&e, what),
        ureq::Error::ConnectionFailed => Attempt::RetryOnce(what),
        ureq::Error::Timeout(_) | ureq::Error::Protocol(_) | ureq::Error::BodyStalled => Attempt::Transient(what),
        // A signing failure: the signer's own message, which says what to fix.
        ureq::Error::Other(e) => Attempt::Fatal(e.to_string()),
        _ => Attempt::Fatal(what),
    }
}

fn classify_io<T>(e: &std::io::Error, what: String) -> Attempt<T> {
    use std::io::ErrorKind::*;
    let text = e.to_string();
    match e.kind() {
        ConnectionRefused => Attempt::RetryOnce(format!("{what} (is the server running, and on that port?)")),
        // std reports a failed getaddrinfo as an uncategorized error with this text.
        _ if text.contains("failed to lookup address") => Attempt::Fatal(format!("{what} (unknown host)")),
        InvalidData if text.to_ascii_lowercase().contains("certificate") => Attempt::Fatal(what),
        _ => Attempt::Transient(what),
    }
}

/// The wait a `Retry-After` header asks for: seconds, or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = when.duration_since(jiff::Timestamp::now());
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// The URL for messages and logs: user info dropped, query string hidden (it
/// often holds a signature or token).
fn display_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let (path, hidden) = match tail.find(['?', '#']) {
        Some(i) if tail[i..].starts_with('?') && tail.len() > i + 1 => (&tail[..i], "?..."),
        Some(i) => (&tail[..i], ""),
        None => (tail, ""),
    };
    match scheme {
        Some(scheme) => format!("{scheme}://{host}{path}{hidden}"),
        None => format!("{host}{path}{hidden}"),
    }
}

/// Wait before attempt `n + 1`: `base * 2^(n-1)`, capped, times a factor in 0.5..1.
fn backoff(base: Duration, n: u32) -> Duration {
    let cap = MAX_BACKOFF.max(base);
    let full = base.saturating_mul(1u32 << (n - 1).min(20)).min(cap);
    full.mul_f64(0.5 + 0.5 * random_unit())
}

/// A number in 0..1 for jitter (splitmix64 over a counter seeded by the clock).
fn random_unit() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut seed = STATE.load(Ordering::Relaxed);
    if seed == 0 {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        seed = now.as_nanos() as u64 | 1;
        let _ = STATE.compare_exchange(0, seed, Ordering::Relaxed, Ordering::Relaxed);
    }
    let mut z = STATE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_header_values() {
        let o = HttpOptions::default().with_header("Authorization", "Bearer s3cr3t-token");
        let shown = format!("{o:?}");
        assert!(shown.contains("Authorization"), "{shown}");
        assert!(!shown.contains("s3cr3t-token"), "{shown}");
    }

    #[test]
    fn plan_merges_near_and_splits_long() {
        // Out of order, duplicated, overlapping, adjacent, near and far.
        let wanted = [500..600, 100..200, 100..200, 150..250, 250..300, 350..400, 10_000..10_010, 5..5];
        assert_eq!(plan_requests(&wanted, 50, 0), vec![100..400, 500..600, 10_000..10_010]);
        assert_eq!(plan_requests(&wanted, 0, 0), vec![100..300, 350..400, 500..600, 10_000..10_010]);
        assert_eq!(plan_requests(&wanted, 1000, 0), vec![100..600, 10_000..10_010]);
        // 0..1000 in parts of at most 300 bytes: 4 even parts.
        assert_eq!(
            plan_requests(std::slice::from_ref(&(0..1000)), 0, 300),
            vec![0..250, 250..500, 500..750, 750..1000]
        );
        assert_eq!(plan_requests(&[], 10, 10), Vec::<Range<u64>>::new());
    }

    #[test]
    fn spans_are_split_into_no_more_parts_than_max_request_needs() {
        let mut rng = crate::sample::SplitMix64::new(0x9e37_79b9_7f4a_7c15);
        let mut below = |n: u64| rng.next_u64() % n;
        for _ in 0..500 {
            let wanted: Vec<Range<u64>> = (0..below(20))
                .map(|_| {
                    let start = below(50_000);
                    start..start + below(5_000)
                })
                .collect();
            let (gap, max) = (below(3_000), 1 + below(10_000));
            let spans = plan_requests(&wanted, gap, 0);
            let parts = plan_requests(&wanted, gap, max);
            let needed: u64 = spans.iter().map(|s| (s.end - s.start).div_ceil(max)).sum();
            assert_eq!(parts.len() as u64, needed, "{wanted:?} gap {gap} max {max}");
            assert!(parts.iter().all(|p| p.start < p.end && p.end - p.start <= max));
            // The parts tile the spans exactly.
            let mut joined: Vec<Range<u64>> = Vec::new();
            for p in parts {
                match joined.last_mut() {
                    Some(last) if last.end == p.start => last.end = p.end,
                    _ => joined.push(p),
                }
            }
            let mut touching: Vec<Range<u64>> = Vec::new();
            for s in spans {
                match touching.last_mut() {
                    Some(last) if last.end == s.start => last.end = s.end,
                    _ => touching.push(s),
                }
            }
            assert_eq!(joined, touching);
        }
    }

    #[test]
    fn assemble_spans_cache_and_parts() {
        let truth: Vec<u8> = (0..200u32).map(|i| (i * 7 % 251) as u8).collect();
        let head = &truth[..50];
        let parts = vec![50..90, 90..130, 170..200];
        let fetched: Vec<Vec<u8>> = parts.iter().map(|p| truth[p.start as usize..p.end as usize].to_vec()).collect();
        for r in [0..10, 40..60, 0..130, 85..95, 100..130, 170..200, 175..176, 60..60] {
            assert_eq!(assemble(head, &r, &parts, &fetched), &truth[r.start as usize..r.end as usize], "{r:?}");
        }
    }

    #[test]
    fn display_url_hides_secrets() {
        assert_eq!(display_url("https://h.example/a/b.copc.laz"), "https://h.example/a/b.copc.laz");
        assert_eq!(
            display_url("https://user:pw@h.example:8443/b.laz?X-Amz-Signature=s3cr3t"),
            "https://h.example:8443/b.laz?..."
        );
        assert_eq!(display_url("http://h/b.laz#frag"), "http://h/b.laz");
        assert_eq!(display_url("http://h?x=1"), "http://h?...");
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("0"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
        // A date in the past means now; one 2 minutes ahead about 120 s.
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        let ahead = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(120);
        let text = jiff::fmt::rfc2822::DateTimePrinter::new().timestamp_to_rfc9110_string(&ahead).unwrap();
        let wait = parse_retry_after(&text).unwrap();
        assert!(wait > Duration::from_secs(115) && wait <= Duration::from_secs(120), "{text}: {wait:?}");
    }

    #[test]
    fn dns_failures_and_refusals_are_not_retried_like_resets() {
        let dns = std::io::Error::other("failed to lookup address information: Name or service not known");
        assert!(matches!(classify_io::<()>(&dns, "e".into()), Attempt::Fatal(_)));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(matches!(classify_io::<()>(&refused, "e".into()), Attempt::RetryOnce(_)));
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert!(matches!(classify_io::<()>(&reset, "e".into()), Attempt::Transient(_)));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_millis(100);
        for n in 1..=12 {
            let d = backoff(base, n);
            let full = (base * 2u32.pow(n - 1)).min(MAX_BACKOFF);
            assert!(d >= full / 2 && d <= full, "attempt {n}: {d:?} vs {full:?}");
        }
        assert_eq!(backoff(Duration::ZERO, 5), Duration::ZERO);
    }
}
