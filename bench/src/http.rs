//! The HTTP row's server: nginx on 127.0.0.1 through the repository's `.ci/nginx`
//! script, serving the work folder. Requests and bytes are counted from its access
//! log, the same way for every client.

use super::peers::manifest_dir;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Nginx {
    pub url: String,
    pub log: PathBuf,
    state: PathBuf,
}

impl Nginx {
    pub fn start(dir: &Path) -> Result<Nginx, String> {
        let state = dir.join("nginx.state");
        let out = Command::new("bash")
            .arg(manifest_dir().join(".ci/nginx"))
            .arg("start")
            .arg(dir)
            .env("COPC_NGINX_STATE", &state)
            .output()
            .map_err(|e| format!("cannot run .ci/nginx: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let get = |k: &str| text.lines().find_map(|l| l.strip_prefix(k)).map(str::to_string);
        match (out.status.success(), get("COPC_TEST_NGINX_URL="), get("COPC_TEST_NGINX_LOG=")) {
            (true, Some(url), Some(log)) => Ok(Nginx { url, log: log.into(), state }),
            _ => {
                let err = String::from_utf8_lossy(&out.stderr);
                Err(format!("nginx did not start: {}", err.lines().last().unwrap_or("").trim()))
            }
        }
    }

    pub fn stop(self) {
        let _ = Command::new("bash").arg(manifest_dir().join(".ci/nginx")).arg("stop").env("COPC_NGINX_STATE", &self.state).output();
    }
}

/// Requests and body bytes in the access log after byte `mark`.
pub fn count_since(log: &Path, mark: u64) -> (u64, u64) {
    let text = std::fs::read(log).unwrap_or_default();
    let new = String::from_utf8_lossy(text.get(mark as usize..).unwrap_or_default()).to_string();
    count(&new)
}

/// Log lines look like `127.0.0.1 [time] "GET /f HTTP/1.1" 206 1234 "bytes=0-99" "agent"`.
pub fn count(lines: &str) -> (u64, u64) {
    let mut requests = 0;
    let mut bytes = 0;
    for l in lines.lines() {
        let mut parts = l.split('"');
        let (Some(_), Some(_request), Some(status_bytes)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let mut f = status_bytes.split_whitespace();
        let (Some(_status), Some(b)) = (f.next(), f.next()) else { continue };
        requests += 1;
        bytes += b.parse::<u64>().unwrap_or(0);
    }
    (requests, bytes)
}

/// The requested paths (`/dir/file`, without a query string) in the access log after
/// byte `mark`, one per request, in log order.
pub fn paths_since(log: &Path, mark: u64) -> Vec<String> {
    let text = std::fs::read(log).unwrap_or_default();
    paths(&String::from_utf8_lossy(text.get(mark as usize..).unwrap_or_default()))
}

/// The path of each request line (`"GET /a/b.copc.laz HTTP/1.1"` gives `/a/b.copc.laz`);
/// lines that are not requests are skipped.
pub fn paths(lines: &str) -> Vec<String> {
    lines
        .lines()
        .filter_map(|l| {
            let request = l.split('"').nth(1)?;
            let target = request.split_whitespace().nth(1)?;
            Some(target.split('?').next().unwrap_or(target).to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn requested_paths_are_read() {
        let log = "127.0.0.1 [21/Nov/2025:09:00:00 +0000] \"GET /ds/tiles.vpc HTTP/1.1\" 200 900 \"-\" \"copc\"\n\
                   127.0.0.1 [21/Nov/2025:09:00:00 +0000] \"GET /ds/t-0001-0002.copc.laz?x=1 HTTP/1.1\" 206 65536 \"bytes=0-65535\" \"copc\"\n\
                   garbage\n";
        assert_eq!(super::paths(log), ["/ds/tiles.vpc", "/ds/t-0001-0002.copc.laz"]);
    }

    #[test]
    fn access_log_lines_are_counted() {
        let log = "127.0.0.1 [21/Nov/2025:09:00:00 +0000] \"HEAD /a.copc.laz HTTP/1.1\" 200 0 \"-\" \"python\"\n\
                   127.0.0.1 [21/Nov/2025:09:00:00 +0000] \"GET /a.copc.laz HTTP/1.1\" 206 65536 \"bytes=0-65535\" \"copc\"\n\
                   garbage\n";
        assert_eq!(super::count(log), (2, 65536));
    }
}
