//! `copc serve`: a small HTTP server with Range support on 127.0.0.1, so COPC
//! files can be tried over HTTP without setting up a web server.

use super::Failure;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Serve a folder over HTTP on 127.0.0.1 (GET and HEAD, with Range), for trying
/// COPC over HTTP locally. Stops with Ctrl-C.
#[derive(clap::Args)]
#[command(about = "Serve a folder over HTTP on 127.0.0.1, with Range, for trying URLs", after_help = "Examples:\n  copc serve ./data --port 8080 &\n  copc info http://127.0.0.1:8080/file.copc.laz")]
pub struct ServeArgs {
    /// Folder to serve.
    dir: String,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
}

pub fn run(a: ServeArgs) -> Result<(), Failure> {
    let server = Server::start(Path::new(&a.dir), a.port).map_err(|e| Failure::msg(&a.dir, format!("cannot serve: {e}")))?;
    println!("serving {} at http://127.0.0.1:{}/ (Ctrl-C stops)", a.dir, server.port);
    loop {
        std::thread::park();
    }
}

/// A running server; dropping it stops it.
pub struct Server {
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub fn start(dir: &Path, port: u16) -> std::io::Result<Server> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let port = listener.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let root = dir.canonicalize()?;
        let s = stop.clone();
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(c) = conn {
                    let root = root.clone();
                    std::thread::spawn(move || {
                        let _ = handle(c, &root);
                    });
                }
            }
        });
        Ok(Server { port, stop, thread: Some(thread) })
    }

    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // wake the accept loop
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn handle(stream: TcpStream, root: &Path) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
        let mut range = None;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.trim().eq_ignore_ascii_case("range") {
                    range = Some(v.trim().to_string());
                }
            }
        }
        let path = target.split('?').next().unwrap_or("/");
        let Some(file) = resolve(root, path) else {
            respond(&mut out, "404 Not Found", &[], b"not found\n", method == "HEAD")?;
            continue;
        };
        let mut f = std::fs::File::open(&file)?;
        let len = f.metadata()?.len();
        let span = range.as_deref().and_then(|r| parse_range(r, len));
        match (range.is_some(), span) {
            (true, None) => {
                let h = [format!("Content-Range: bytes */{len}")];
                respond(&mut out, "416 Range Not Satisfiable", &h, b"", method == "HEAD")?;
            }
            (_, Some((a, b))) => {
                let mut body = vec![0u8; (b - a + 1) as usize];
                f.seek(SeekFrom::Start(a))?;
                f.read_exact(&mut body)?;
                let h = [format!("Content-Range: bytes {a}-{b}/{len}")];
                respond(&mut out, "206 Partial Content", &h, &body, method == "HEAD")?;
            }
            (false, None) => {
                let mut body = Vec::new();
                f.read_to_end(&mut body)?;
                respond(&mut out, "200 OK", &[], &body, method == "HEAD")?;
            }
        }
    }
}

/// A path under `root` only (no `..`), or None.
fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let rel = Path::new(url_path.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    let p = root.join(rel);
    p.is_file().then_some(p)
}

fn parse_range(r: &str, len: u64) -> Option<(u64, u64)> {
    let spec = r.strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let a: u64 = a.trim().parse().ok()?;
    let b = if b.trim().is_empty() { len.checked_sub(1)? } else { b.trim().parse::<u64>().ok()?.min(len.checked_sub(1)?) };
    (a <= b && a < len).then_some((a, b))
}

fn respond(out: &mut TcpStream, status: &str, headers: &[String], body: &[u8], head_only: bool) -> std::io::Result<()> {
    let mut msg = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\n", body.len());
    for h in headers {
        msg.push_str(h);
        msg.push_str("\r\n");
    }
    msg.push_str("\r\n");
    out.write_all(msg.as_bytes())?;
    if !head_only {
        out.write_all(body)?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=90-200", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=5-1", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
    }

    #[test]
    fn no_escape_from_the_root() {
        let d = std::env::temp_dir();
        assert!(resolve(&d, "/../etc/passwd").is_none());
        assert!(resolve(&d, "/a/../../x").is_none());
    }
}
