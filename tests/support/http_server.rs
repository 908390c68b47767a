//! A small HTTP/1.1 server for tests: pure std, loopback only, one thread per
//! connection, keep-alive, `Range` support, counters and injectable faults.
//!
//! Use it from a test file with
//! ```ignore
//! #[path = "support/http_server.rs"]
//! mod http_server;
//! let server = http_server::serve_bytes(data);       // or serve_file(path)
//! let source = HttpSource::open(&server.url(), opts)?;
//! assert_eq!(server.requests(), 1);
//! ```
//! The server binds `127.0.0.1:0` and never contacts anything. Dropping the handle
//! stops it: the accept thread and every connection thread are joined.
//!
//! Routes: `/<name>` (the data; `data.bin` for `serve_bytes`, the file name for
//! `serve_file`), `/redirect/<anything>` (302 to `/<anything>`, query string kept),
//! anything else 404. `GET` and `HEAD` only.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// Pass as a count to make a fault permanent.
pub const FOREVER: u64 = u64::MAX;

/// How long blocking socket calls wait before checking whether to stop.
const POLL: Duration = Duration::from_millis(20);

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    /// Path and query string, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    /// The status the server answered with.
    pub status: u16,
}

impl Logged {
    /// The value of header `name` (any case), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Default)]
struct Faults {
    /// The next `fail` requests for the data answer `fail_status`.
    fail: u64,
    fail_status: u16,
    /// Headers (full Content-Length) then the connection is closed.
    drop_after_headers: u64,
    /// Headers (full Content-Length), half the body, then the connection is closed.
    truncate: u64,
    /// Content-Range names the range asked for, but Content-Length and body are half.
    short: u64,
    /// Like `short`, but the body is sent chunked (no Content-Length to compare with).
    short_chunked: u64,
    /// The answer is the range shifted by one byte (with a truthful Content-Range).
    wrong_range: u64,
    ignore_range: bool,
    hide_total: bool,
    delay: Duration,
    required_header: Option<(String, String)>,
}

/// Takes one from a fault counter; true if the fault applies to this request.
fn take(counter: &mut u64) -> bool {
    if *counter == 0 {
        return false;
    }
    if *counter != FOREVER {
        *counter -= 1;
    }
    true
}

struct Shared {
    data: Vec<u8>,
    /// The path the data is served at, e.g. `/data.bin`.
    path: String,
    stop: AtomicBool,
    requests: AtomicU64,
    bytes_served: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    faults: Mutex<Faults>,
    log: Mutex<Vec<Logged>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running test server. Dropping it stops the server.
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_thread: Option<JoinHandle<()>>,
}

/// Serves `data` at `/data.bin`.
pub fn serve_bytes(data: Vec<u8>) -> TestServer {
    TestServer::start(data, "data.bin")
}

/// Serves the bytes of the file at `path` under its file name.
pub fn serve_file(path: impl AsRef<Path>) -> TestServer {
    let path = path.as_ref();
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("test server cannot read {}: {e}", path.display()));
    let name = path.file_name().map_or("data.bin".into(), |n| n.to_string_lossy().into_owned());
    TestServer::start(data, &name)
}

impl TestServer {
    fn start(data: Vec<u8>, name: &str) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            data,
            path: format!("/{name}"),
            stop: AtomicBool::new(false),
            requests: AtomicU64::new(0),
            bytes_served: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
            faults: Mutex::new(Faults::default()),
            log: Mutex::new(Vec::new()),
        });
        let accept_shared = Arc::clone(&shared);
        let accept_thread = std::thread::Builder::new()
            .name("test-http-accept".into())
            .spawn(move || accept_loop(listener, accept_shared))
            .expect("spawn the accept thread");
        TestServer { addr, shared, accept_thread: Some(accept_thread) }
    }

    /// `http://127.0.0.1:PORT/<name>`.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.addr, self.shared.path)
    }

    /// A URL that answers 302 to [`url`](Self::url) (query string kept).
    pub fn redirect_url(&self) -> String {
        format!("http://{}/redirect{}", self.addr, self.shared.path)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bytes served.
    pub fn data(&self) -> &[u8] {
        &self.shared.data
    }

    /// Requests received (every method and path, faults included).
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Body bytes written to clients.
    pub fn bytes_served(&self) -> u64 {
        self.shared.bytes_served.load(Ordering::SeqCst)
    }

    /// The most requests handled at the same time so far.
    pub fn max_in_flight(&self) -> u64 {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// Every request so far, in the order they arrived.
    pub fn log(&self) -> Vec<Logged> {
        lock(&self.shared.log).clone()
    }

    /// Zeroes the counters and clears the log (faults stay).
    pub fn reset_counters(&self) {
        self.shared.requests.store(0, Ordering::SeqCst);
        self.shared.bytes_served.store(0, Ordering::SeqCst);
        self.shared.max_in_flight.store(0, Ordering::SeqCst);
        lock(&self.shared.log).clear();
    }

    /// The next `n` requests for the data answer `status` (e.g. 503), then all is well.
    pub fn fail_next(&self, n: u64, status: u16) {
        let mut f = lock(&self.shared.faults);
        f.fail = n;
        f.fail_status = status;
    }

    /// The next `n` GETs send headers, then close the connection.
    pub fn drop_after_headers_next(&self, n: u64) {
        lock(&self.shared.faults).drop_after_headers = n;
    }

    /// The next `n` GETs send the full Content-Length, half the body, then close.
    pub fn truncate_next(&self, n: u64) {
        lock(&self.shared.faults).truncate = n;
    }

    /// The next `n` range GETs announce the range asked for in Content-Range but send
    /// (and declare in Content-Length) only half of it; the connection stays open.
    pub fn short_next(&self, n: u64) {
        lock(&self.shared.faults).short = n;
    }

    /// Like [`short_next`](Self::short_next), with a chunked body (no Content-Length).
    pub fn short_chunked_next(&self, n: u64) {
        lock(&self.shared.faults).short_chunked = n;
    }

    /// The next `n` range GETs answer the range shifted by one byte.
    pub fn wrong_range_next(&self, n: u64) {
        lock(&self.shared.faults).wrong_range = n;
    }

    /// Answer every GET with 200 and the whole body, ignoring `Range`.
    pub fn set_ignore_range(&self, on: bool) {
        lock(&self.shared.faults).ignore_range = on;
    }

    /// Send `Content-Range: bytes a-b/*` (no total); HEAD still gives Content-Length.
    pub fn set_hide_total(&self, on: bool) {
        lock(&self.shared.faults).hide_total = on;
    }

    /// Wait this long before answering each request.
    pub fn set_delay(&self, delay: Duration) {
        lock(&self.shared.faults).delay = delay;
    }

    /// Answer 401 to requests for the data that lack header `name: value`.
    pub fn require_header(&self, name: &str, value: &str) {
        lock(&self.shared.faults).required_header = Some((name.to_string(), value.to_string()));
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.accept_thread.take() {
            let _ = thread.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections: Vec<JoinHandle<()>> = Vec::new();
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let conn_shared = Arc::clone(&shared);
                let spawned = std::thread::Builder::new()
                    .name("test-http-conn".into())
                    .spawn(move || serve_connection(stream, &conn_shared));
                if let Ok(handle) = spawned {
                    connections.push(handle);
                }
                connections.retain(|h| !h.is_finished());
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(2)),
            Err(_) => std::thread::sleep(POLL),
        }
    }
    for handle in connections {
        let _ = handle.join();
    }
}

struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    keep_alive: bool,
}

/// Reads requests off one connection until it closes, errs or the server stops.
fn serve_connection(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(POLL));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if shared.stop.load(Ordering::SeqCst) || buf.len() > 64 * 1024 {
                return;
            }
            match stream.read(&mut chunk) {
                Ok(0) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        buf.drain(..head_end);
        let Some(request) = parse_request(&head) else {
            let _ = write_head(&mut stream, 400, &[("Content-Length", "0".into()), ("Connection", "close".into())]);
            return;
        };
        // GET and HEAD carry no body; anything else is refused below.
        if !handle(&mut stream, shared, &request) || !request.keep_alive {
            let _ = stream.shutdown(std::net::Shutdown::Both);
            return;
        }
    }
}

fn parse_request(head: &str) -> Option<Request> {
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target, version) = (first.next()?, first.next()?, first.next()?);
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let connection =
        headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("connection")).map(|(_, v)| v.to_ascii_lowercase());
    let keep_alive = match connection.as_deref() {
        Some("close") => false,
        Some("keep-alive") => true,
        _ => version == "HTTP/1.1",
    };
    Some(Request { method: method.to_string(), target: target.to_string(), headers, keep_alive })
}

/// Decrements the in-flight gauge when a request is done.
struct InFlight<'a>(&'a Shared);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What to send back.
enum Body {
    /// Send all of it, with a matching Content-Length.
    Full(Vec<u8>),
    /// Declare `declared` bytes, send `data`, then close the connection.
    CutShort { data: Vec<u8>, declared: usize },
    /// Send all of it with `Transfer-Encoding: chunked`.
    Chunked(Vec<u8>),
}

/// Answers one request; false when the connection must be closed.
fn handle(stream: &mut TcpStream, shared: &Shared, request: &Request) -> bool {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let _in_flight = InFlight(shared);

    let delay = lock(&shared.faults).delay;
    let mut waited = Duration::ZERO;
    while waited < delay && !shared.stop.load(Ordering::SeqCst) {
        let step = POLL.min(delay - waited);
        std::thread::sleep(step);
        waited += step;
    }

    let (status, mut headers, body) = respond(shared, request);
    lock(&shared.log).push(Logged {
        method: request.method.clone(),
        target: request.target.clone(),
        headers: request.headers.clone(),
        status,
    });
    let head_only = request.method == "HEAD";
    let (data, declared, close) = match body {
        Body::Full(data) => {
            let n = data.len();
            (data, Some(n), false)
        }
        Body::CutShort { data, declared } => (data, Some(declared), true),
        Body::Chunked(data) => (data, None, false),
    };
    match declared {
        Some(n) => headers.push(("Content-Length", n.to_string())),
        None => headers.push(("Transfer-Encoding", "chunked".into())),
    }
    if close {
        headers.push(("Connection", "close".into()));
    }
    if write_head(stream, status, &headers).is_err() {
        return false;
    }
    if !head_only {
        for piece in data.chunks(64 * 1024) {
            // counted before sending: once a client holds the bytes, the count shows them
            shared.bytes_served.fetch_add(piece.len() as u64, Ordering::SeqCst);
            let sent = match declared {
                Some(_) => stream.write_all(piece),
                None => stream
                    .write_all(format!("{:x}\r\n", piece.len()).as_bytes())
                    .and_then(|_| stream.write_all(piece))
                    .and_then(|_| stream.write_all(b"\r\n")),
            };
            if sent.is_err() {
                return false;
            }
        }
        if declared.is_none() && stream.write_all(b"0\r\n\r\n").is_err() {
            return false;
        }
    }
    let _ = stream.flush();
    !close
}

/// Status, headers (without Content-Length) and body for a request.
fn respond(shared: &Shared, request: &Request) -> (u16, Vec<(&'static str, String)>, Body) {
    let text = |s: &str| Body::Full(s.as_bytes().to_vec());
    if request.method != "GET" && request.method != "HEAD" {
        return (405, vec![("Allow", "GET, HEAD".into())], text("method not allowed\n"));
    }
    let (path, query) = match request.target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (request.target.as_str(), None),
    };
    if let Some(rest) = path.strip_prefix("/redirect") {
        let location = match query {
            Some(q) => format!("{rest}?{q}"),
            None => rest.to_string(),
        };
        return (302, vec![("Location", location)], Body::Full(Vec::new()));
    }
    if path != shared.path {
        return (404, Vec::new(), text("no such file\n"));
    }

    let mut faults = lock(&shared.faults);
    if let Some((name, value)) = &faults.required_header {
        let sent = request.headers.iter().any(|(n, v)| n.eq_ignore_ascii_case(name) && v == value);
        if !sent {
            return (401, vec![("WWW-Authenticate", "Bearer".into())], text("unauthorized\n"));
        }
    }
    if take(&mut faults.fail) {
        return (faults.fail_status, Vec::new(), text("injected failure\n"));
    }
    let data = &shared.data;
    let len = data.len() as u64;
    let mut headers = vec![("Accept-Ranges", "bytes".to_string()), ("Content-Type", "application/octet-stream".into())];
    if request.method == "HEAD" {
        return (200, headers, Body::Full(data.clone()));
    }

    let range =
        request.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("range")).and_then(|(_, v)| parse_range(v, len));
    let (status, mut start, mut end) = match range {
        Some(_) if faults.ignore_range => (200, 0, len),
        None => (200, 0, len),
        Some(Err(())) => {
            headers.push(("Content-Range", format!("bytes */{len}")));
            return (416, headers, text("range not satisfiable\n"));
        }
        Some(Ok((a, b))) => (206, a, b + 1),
    };
    if status == 206 && take(&mut faults.wrong_range) && end < len {
        start += 1;
        end += 1;
    }
    if status == 206 {
        let total = if faults.hide_total { "*".to_string() } else { len.to_string() };
        headers.push(("Content-Range", format!("bytes {start}-{}/{total}", end - 1)));
    }
    let body = data[start as usize..end as usize].to_vec();
    let n = body.len();
    let body = if take(&mut faults.drop_after_headers) {
        Body::CutShort { data: Vec::new(), declared: n }
    } else if take(&mut faults.truncate) {
        Body::CutShort { data: body[..n / 2].to_vec(), declared: n }
    } else if status == 206 && take(&mut faults.short) {
        Body::Full(body[..n / 2].to_vec())
    } else if status == 206 && take(&mut faults.short_chunked) {
        Body::Chunked(body[..n / 2].to_vec())
    } else {
        Body::Full(body)
    };
    (status, headers, body)
}

/// `bytes=a-b`, `bytes=a-`, `bytes=-n` against an object of `len` bytes: the
/// inclusive range, `Err` if unsatisfiable, `None` if not a single byte range.
fn parse_range(value: &str, len: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        if n == 0 || len == 0 {
            return Some(Err(()));
        }
        (len - n.min(len), len - 1)
    } else {
        let a: u64 = a.parse().ok()?;
        let b: u64 = if b.is_empty() { u64::MAX } else { b.parse().ok()? };
        if a > b {
            return None;
        }
        if a >= len {
            return Some(Err(()));
        }
        (a, b.min(len - 1))
    };
    Some(Ok(range))
}

fn write_head(stream: &mut TcpStream, status: u16, headers: &[(&str, String)]) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())
}
