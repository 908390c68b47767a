//! A loopback HTTP/1.1 proxy that forwards requests to an emulator byte for byte (so
//! signatures over the Host header stay valid) and injects faults on request: an
//! error status with `Retry-After`, a body cut in half, a connection dropped before
//! any answer. It counts the requests it sees, an independent count to compare with
//! the reader's own.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer this status (with `Retry-After: secs` when given) instead of forwarding.
    Status(u16, Option<u64>),
    /// Answer this status with these headers and body instead of forwarding (what
    /// a real store says in cases an emulator cannot play, e.g. a wrong region).
    Answer(u16, Vec<(String, String)>, String),
    /// Forward, but send only half of the body, then close.
    Truncate,
    /// Close the connection without answering.
    Drop,
}

struct Shared {
    upstream: u16,
    faults: Mutex<Vec<Fault>>,
    requests: AtomicU64,
    /// Bytes of response bodies passed to the client.
    bytes: AtomicU64,
    /// The Authorization header of each request ("" when it had none), in order.
    authorizations: Mutex<Vec<String>>,
    stop: AtomicBool,
}

pub struct Proxy {
    pub port: u16,
    shared: Arc<Shared>,
}

impl Proxy {
    pub fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let shared = Arc::new(Shared {
            upstream,
            faults: Mutex::new(Vec::new()),
            requests: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            authorizations: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        std::thread::spawn(move || {
            while !s.stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let s = s.clone();
                        std::thread::spawn(move || serve(client, &s));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Proxy { port, shared }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Faults for the next requests, in order.
    pub fn inject(&self, faults: &[Fault]) {
        self.shared.faults.lock().unwrap().extend_from_slice(faults);
    }

    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    pub fn bytes(&self) -> u64 {
        self.shared.bytes.load(Ordering::Relaxed)
    }

    /// The Authorization header of every request since the last reset ("" for none).
    pub fn authorizations(&self) -> Vec<String> {
        self.shared.authorizations.lock().unwrap().clone()
    }

    pub fn reset(&self) {
        self.shared.requests.store(0, Ordering::Relaxed);
        self.shared.bytes.store(0, Ordering::Relaxed);
        self.shared.authorizations.lock().unwrap().clear();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads one message head (up to the blank line); None at end of stream.
fn read_head(r: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        if r.read_until(b'\n', &mut line).ok()? == 0 {
            return None;
        }
        head.extend_from_slice(&line);
        if line == b"\r\n" {
            return Some(head);
        }
        if head.len() > 64 << 10 {
            return None;
        }
    }
}

fn header(head: &[u8], name: &str) -> Option<String> {
    String::from_utf8_lossy(head).lines().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

fn serve(client: TcpStream, s: &Shared) {
    client.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut client = client;
    while let Some(request) = read_head(&mut reader) {
        s.requests.fetch_add(1, Ordering::Relaxed);
        s.authorizations.lock().unwrap().push(header(&request, "authorization").unwrap_or_default());
        let is_head = request.starts_with(b"HEAD ");
        let fault = {
            let mut f = s.faults.lock().unwrap();
            if f.is_empty() { None } else { Some(f.remove(0)) }
        };
        match fault {
            Some(Fault::Drop) => {
                let _ = client.shutdown(Shutdown::Both);
                return;
            }
            Some(Fault::Answer(code, headers, body)) => {
                let mut answer = format!("HTTP/1.1 {code} Injected\r\nContent-Length: {}\r\n", body.len());
                for (k, v) in &headers {
                    answer.push_str(&format!("{k}: {v}\r\n"));
                }
                answer.push_str("\r\n");
                answer.push_str(&body);
                if client.write_all(answer.as_bytes()).is_err() {
                    return;
                }
                continue;
            }
            Some(Fault::Status(code, retry_after)) => {
                let extra = retry_after.map_or(String::new(), |r| format!("Retry-After: {r}\r\n"));
                let answer = format!("HTTP/1.1 {code} Injected\r\nContent-Length: 0\r\n{extra}\r\n");
                if client.write_all(answer.as_bytes()).is_err() {
                    return;
                }
                continue;
            }
            _ => {}
        }
        // Forward the request unchanged (GETs and HEADs: no body) on a new connection.
        let Ok(mut up) = TcpStream::connect(("127.0.0.1", s.upstream)) else { return };
        if up.write_all(&request).is_err() {
            return;
        }
        let mut up_reader = BufReader::new(up);
        let Some(head) = read_head(&mut up_reader) else { return };
        let mut body = Vec::new();
        if !is_head {
            if let Some(len) = header(&head, "content-length").and_then(|v| v.parse::<u64>().ok()) {
                if (&mut up_reader).take(len).read_to_end(&mut body).is_err() {
                    return;
                }
            } else if header(&head, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
                // Pass the chunked body through up to its last chunk.
                loop {
                    let mut line = Vec::new();
                    if up_reader.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    body.extend_from_slice(&line);
                    let size = usize::from_str_radix(String::from_utf8_lossy(&line).trim(), 16).unwrap_or(0);
                    let mut chunk = vec![0; size + 2];
                    if up_reader.read_exact(&mut chunk).is_err() {
                        return;
                    }
                    body.extend_from_slice(&chunk);
                    if size == 0 {
                        break;
                    }
                }
            }
        }
        let truncate = matches!(fault, Some(Fault::Truncate));
        let sent = if truncate { &body[..body.len() / 2] } else { &body[..] };
        s.bytes.fetch_add(sent.len() as u64, Ordering::Relaxed);
        if client.write_all(&head).and_then(|_| client.write_all(sent)).is_err() {
            return;
        }
        if truncate {
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
    }
}
