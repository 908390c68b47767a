//! Wall time, CPU time and bytes per phase of a translation (`Summary::phases`,
//! the `--progress` summary of `copc translate`).
//!
//! Phases: `read` (decode, convert, and when spilling bin the points into the temp
//! file), `build` (load subtrees, the octree and its sampling), `encode` (the LAZ
//! chunks of the nodes), `assemble` (the output file: header, VLRs, chunks, chunk
//! table, hierarchy). Encoding runs inside the build, node by node on the worker
//! threads; its CPU is measured per chunk on the thread that encodes it, its wall
//! time is that CPU spread over the threads, and the build's wall and CPU exclude it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Names of the phases, in order.
pub const PHASES: [&str; 4] = ["read", "build", "encode", "assemble"];

/// What one phase cost.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PhaseStats {
    /// Seconds of wall-clock time.
    pub wall: f64,
    /// Seconds of CPU time (user + system, every thread).
    pub cpu: f64,
    /// Bytes in: read: the input files; build: spilled bytes read back; encode: the
    /// records encoded; assemble: the chunks.
    pub bytes_in: u64,
    /// Bytes out: read: spilled bytes written; build: 0; encode: the LAZ chunks;
    /// assemble: the output file.
    pub bytes_out: u64,
    /// The process's peak resident memory so far, in bytes, read when the phase
    /// ends (Linux VmHWM; 0 elsewhere): the first phase that shows the final peak
    /// is the one that reached it.
    pub peak_rss: u64,
}

/// CPU seconds (user + system) of the whole process so far.
pub fn process_cpu() -> f64 {
    #[cfg(unix)]
    {
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: getrusage fills a struct we own.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } == 0 {
            let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 * 1e-6;
            return t(u.ru_utime) + t(u.ru_stime);
        }
    }
    0.0
}

/// The process's peak resident set so far (VmHWM of /proc/self/status), 0 when unknown.
pub fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// CPU nanoseconds of the calling thread so far.
fn thread_cpu_nanos() -> u64 {
    #[cfg(unix)]
    {
        let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
        // SAFETY: clock_gettime fills a struct we own.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64;
        }
    }
    0
}

/// Encoding cost, summed over the threads that encode.
#[derive(Debug, Default)]
pub struct EncodeMeter {
    cpu_nanos: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
}

impl EncodeMeter {
    /// Runs `f` (one chunk's encoding of `bytes_in` bytes) and adds its thread CPU time.
    pub fn measure(&self, bytes_in: usize, f: impl FnOnce() -> std::io::Result<Vec<u8>>) -> std::io::Result<Vec<u8>> {
        let t = thread_cpu_nanos();
        let r = f();
        self.cpu_nanos.fetch_add(thread_cpu_nanos().saturating_sub(t), Ordering::Relaxed);
        self.bytes_in.fetch_add(bytes_in as u64, Ordering::Relaxed);
        if let Ok(v) = &r {
            self.bytes_out.fetch_add(v.len() as u64, Ordering::Relaxed);
        }
        r
    }

    pub fn cpu(&self) -> f64 {
        self.cpu_nanos.load(Ordering::Relaxed) as f64 * 1e-9
    }
}

/// A phase being timed.
pub struct Clock {
    wall: Instant,
    cpu: f64,
}

impl Clock {
    pub fn start() -> Clock {
        Clock {
            wall: Instant::now(),
            cpu: process_cpu(),
        }
    }

    /// The phase's cost so far, with its byte counts.
    pub fn stop(&self, bytes_in: u64, bytes_out: u64) -> PhaseStats {
        PhaseStats {
            wall: self.wall.elapsed().as_secs_f64(),
            cpu: (process_cpu() - self.cpu).max(0.0),
            bytes_in,
            bytes_out,
            peak_rss: peak_rss(),
        }
    }
}

/// Splits the build phase's measured cost into build and encode (see the module docs).
pub fn split_encode(build: PhaseStats, meter: &EncodeMeter, threads: usize) -> (PhaseStats, PhaseStats) {
    let cpu = meter.cpu().min(build.cpu);
    let wall = (cpu / threads.max(1) as f64).min(build.wall);
    let encode = PhaseStats {
        wall,
        cpu,
        bytes_in: meter.bytes_in.load(Ordering::Relaxed),
        bytes_out: meter.bytes_out.load(Ordering::Relaxed),
        peak_rss: build.peak_rss,
    };
    let rest = PhaseStats {
        wall: build.wall - wall,
        cpu: build.cpu - cpu,
        ..build
    };
    (rest, encode)
}
