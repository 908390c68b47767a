//! Timing one child process: wall time, CPU time and peak RSS (from wait4), plus the
//! JSON line the harness prints on stdout (its own op time, point count, ...).

use std::process::{Command, Stdio};
use std::time::Instant;

/// One timed run of one tool.
#[derive(Debug, Clone)]
pub struct Run {
    /// Wall time of the whole process (start to exit).
    pub process_wall: f64,
    /// Wall time of the operation as the harness measured it (open + work), when it
    /// reports one; otherwise the process wall time.
    pub wall: f64,
    /// CPU time (user + system, all threads) of the operation as the harness
    /// measured it, when it reports one; otherwise the whole process's.
    pub cpu: f64,
    /// Peak resident set size, bytes.
    pub peak_rss: u64,
    /// Peak disk use of the watched temp folder, bytes (None when not watched).
    pub peak_disk: Option<u64>,
    /// The harness's JSON line (empty object if none).
    pub json: serde_json::Value,
}

impl Run {
    pub fn points(&self) -> Option<u64> {
        self.json.get("points").and_then(|v| v.as_u64())
    }
}

/// What `wait4` tells about a finished child.
#[derive(Debug, Clone, PartialEq)]
pub struct Usage {
    pub wall: f64,
    pub cpu: f64,
    pub peak_rss: u64,
    pub peak_disk: Option<u64>,
    /// Exit code, or None when killed by a signal.
    pub code: Option<i32>,
    pub signal: Option<i32>,
}

impl Usage {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"wall": self.wall, "cpu": self.cpu, "peak_rss": self.peak_rss, "peak_disk": self.peak_disk, "code": self.code, "signal": self.signal})
    }

    pub fn from_json(v: &serde_json::Value) -> Option<Usage> {
        Some(Usage {
            wall: v.get("wall")?.as_f64()?,
            cpu: v.get("cpu")?.as_f64()?,
            peak_rss: v.get("peak_rss")?.as_u64()?,
            peak_disk: v.get("peak_disk").and_then(|d| d.as_u64()),
            code: v.get("code").and_then(|c| c.as_i64()).map(|c| c as i32),
            signal: v.get("signal").and_then(|c| c.as_i64()).map(|c| c as i32),
        })
    }
}

/// Starts `cmd` (stdio as the caller set it) and waits for it with `wait4`.
///
/// Peak RSS is only meaningful when the caller is small: Linux starts a child's
/// `ru_maxrss` at the RSS of the process it was forked from. So the benchmark never
/// calls this directly: it starts `copc-bench worker measure`, a fresh process of a
/// few MB, which calls this for the real program ([`run`]).
pub fn spawn_and_wait(cmd: &mut Command) -> std::io::Result<Usage> {
    let t0 = Instant::now();
    let child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data, zero-initialised, written by the kernel.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = loop {
        // SAFETY: waits for our own child; status and ru are valid out-pointers.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        break r;
    };
    let wall = t0.elapsed().as_secs_f64();
    std::mem::forget(child); // reaped by wait4 above
    if r != pid {
        return Err(std::io::Error::last_os_error());
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let (code, signal) = if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None)
    } else {
        (None, libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)))
    };
    Ok(Usage { wall, cpu: tv(ru.ru_utime) + tv(ru.ru_stime), peak_rss: ru.ru_maxrss as u64 * 1024, peak_disk: None, code, signal })
}

/// `copc-bench worker measure --report FILE -- PROGRAM ARGS...`: runs the program
/// with this process's stdio and writes its [`Usage`] as JSON to FILE.
pub fn measure_worker(report: &std::path::Path, watch: Option<&std::path::Path>, program: &[String]) -> Result<(), String> {
    let (prog, args) = program.split_first().ok_or("measure: no program")?;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = watch.map(|dir| {
        let (dir, stop) = (dir.to_path_buf(), stop.clone());
        std::thread::spawn(move || {
            let mut peak = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let t = Instant::now();
                peak = peak.max(disk_use(&dir));
                // every 50 ms, or less often when the folder is slow to walk (copc-converter
                // keeps ~28 k temp files at 1 B points; walking them every 50 ms took a
                // quarter of a core from the measured tool): at most ~5% of one core
                std::thread::sleep(std::time::Duration::from_millis(50).max(t.elapsed() * 20));
            }
            peak
        })
    });
    let mut u = spawn_and_wait(Command::new(prog).args(args)).map_err(|e| format!("cannot run {prog}: {e}"))?;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    u.peak_disk = watcher.and_then(|w| w.join().ok());
    let text = u.to_json().to_string();
    std::fs::write(report, text).map_err(|e| format!("{}: {e}", report.display()))?;
    Ok(())
}

/// Disk blocks in use under `dir` (allocated, so sparse files count what they hold).
fn disk_use(dir: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut sum = 0;
    for e in entries.flatten() {
        match e.metadata() {
            Ok(m) if m.is_dir() => sum += disk_use(&e.path()),
            Ok(m) => sum += m.blocks() * 512,
            Err(_) => {}
        }
    }
    sum
}

/// Runs `cmd` to completion under `measurer` (our own binary, `worker measure`),
/// with stdout/stderr in temp files. Err: a one-line reason (exit status and the
/// last line of stderr).
pub fn run(measurer: &std::path::Path, watch: &std::path::Path, cmd: &Command) -> Result<Run, String> {
    let out = tempfile::tempfile().map_err(|e| format!("temp file: {e}"))?;
    let err = tempfile::tempfile().map_err(|e| format!("temp file: {e}"))?;
    let report = tempfile::NamedTempFile::new().map_err(|e| format!("temp file: {e}"))?;
    let out_r = out.try_clone().map_err(|e| e.to_string())?;
    let err_r = err.try_clone().map_err(|e| e.to_string())?;
    let mut m = Command::new(measurer);
    m.args(["worker", "measure", "--report"]).arg(report.path()).arg("--watch").arg(watch).arg("--").arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => m.env(k, v),
            None => m.env_remove(k),
        };
    }
    if let Some(d) = cmd.get_current_dir() {
        m.current_dir(d);
    }
    let status = m
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .status()
        .map_err(|e| format!("cannot start {}: {e}", measurer.display()))?;
    let read_all = |mut f: std::fs::File| {
        use std::io::{Read, Seek};
        let mut s = String::new();
        let _ = f.seek(std::io::SeekFrom::Start(0));
        let _ = f.read_to_string(&mut s);
        s
    };
    let stdout = read_all(out_r);
    let stderr = read_all(err_r);
    let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_string();
    if !status.success() {
        return Err(format!("measure failed ({status}): {}", truncate(&last, 160)));
    }
    let u: Usage = std::fs::read_to_string(report.path())
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .and_then(|v| Usage::from_json(&v))
        .ok_or_else(|| format!("no usage report: {}", truncate(&last, 160)))?;
    match (u.code, u.signal) {
        (Some(0), _) => {}
        (Some(c), _) => return Err(format!("exit status {c}: {}", truncate(&last, 160))),
        (None, s) => return Err(format!("killed by signal {}: {}", s.unwrap_or(0), truncate(&last, 160))),
    }
    let json = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<serde_json::Value>(l.trim()).ok().filter(|v| v.is_object()))
        .unwrap_or_else(|| serde_json::json!({}));
    let wall = json.get("seconds").and_then(|v| v.as_f64()).unwrap_or(u.wall);
    let cpu = json.get("cpu").and_then(|v| v.as_f64()).unwrap_or(u.cpu);
    Ok(Run { process_wall: u.wall, wall, cpu, peak_rss: u.peak_rss, peak_disk: u.peak_disk, json })
}

pub fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { format!("{}...", s.chars().take(n).collect::<String>()) }
}

/// Median of a non-empty slice (mean of the middle two for even lengths).
pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 { s[n / 2] } else { (s[n / 2 - 1] + s[n / 2]) / 2.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn a_child_is_timed() {
        let u = spawn_and_wait(Command::new("sh").args(["-c", "exit 3"])).unwrap();
        assert_eq!(u.code, Some(3));
        assert!(u.peak_rss > 0 && u.wall > 0.0);
        let u = spawn_and_wait(Command::new("sh").args(["-c", "kill -9 $$"])).unwrap();
        assert_eq!((u.code, u.signal), (None, Some(9)));
        assert_eq!(Usage::from_json(&u.to_json()), Some(u));
    }
}
