//! The writer under faults: `kill -9` at random moments, a full disk, targets that
//! cannot be written, inputs that change while they are read. In every case the
//! target path holds either nothing or a complete file, temp files stay in the temp
//! folder, and the next run cleans what a killed one left.
#![cfg(target_os = "linux")]

use copc::sample::{SampleOptions, write_sample};
use copc::writer::{Progress, WriterOptions, translate};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

fn copc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_copc"))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    v.sort();
    v
}

/// One big generated LAZ input shared by the tests of this file (made once).
fn big_laz() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, p) = DIR.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("big.laz");
        write_sample(&p, &SampleOptions { points: 2_000_000, seed: 3, ..Default::default() }).unwrap();
        (d, p)
    });
    p
}

fn sample(path: &Path, points: u64, compressed: bool) {
    write_sample(path, &SampleOptions { points, seed: 9, compressed, ..Default::default() }).unwrap();
}

/// A seed that differs per run (so the kill moments vary) and is printed to replay a failure.
fn seed() -> u64 {
    let s = std::env::var("COPC_FAULT_SEED").ok().and_then(|s| s.parse().ok());
    let s = s.unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64);
    println!("COPC_FAULT_SEED={s}");
    s
}

#[test]
fn kill_9_at_random_moments_leaves_nothing_at_the_target_and_the_next_run_cleans_up() {
    let input = big_laz();
    let work = tempfile::tempdir().unwrap();
    let (tmp, out_dir) = (work.path().join("tmp"), work.path().join("out"));
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = out_dir.join("big.copc.laz");
    // a small memory limit makes the writer spill, so there are temp files to leave behind
    let args = |c: &mut Command| {
        c.arg("translate").arg(input).arg(&out).args(["--threads", "2", "--memory-limit", "150M", "--temp-dir"]).arg(&tmp);
    };

    let t0 = Instant::now();
    let mut c = copc();
    args(&mut c);
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let full = t0.elapsed();
    let reference = std::fs::read(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    assert_eq!(names(&tmp), Vec::<String>::new(), "a finished run leaves nothing in the temp folder");

    let mut rng = copc::sample::SplitMix64::new(seed());
    let mut leftovers = 0;
    for i in 0..6 {
        // spread over the run: reading, building, writing the file
        let frac = (i as f64 + rng.f64()) / 6.0;
        let at = full.mul_f64(0.02 + 0.96 * frac);
        let mut c = copc();
        args(&mut c);
        let mut child = c.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(at);
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let status = child.wait().unwrap();
        if status.success() {
            // finished before the signal: the file must be the complete one
            assert_eq!(std::fs::read(&out).unwrap(), reference, "kill at {at:?}: a finished file");
            std::fs::remove_file(&out).unwrap();
        }
        assert_eq!(names(&out_dir), Vec::<String>::new(), "kill at {at:?} ({:.0}%): nothing at or beside the target", frac * 100.0);
        assert_eq!(names(work.path()), ["out", "tmp"], "kill at {at:?}: nothing outside the temp folder");
        leftovers += names(&tmp).len();
    }
    println!("{leftovers} leftovers in the temp folder after the kills");

    // the next run completes, cleans the dead runs' spill folders and writes the same file
    let mut c = copc();
    args(&mut c);
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read(&out).unwrap() == reference, "the run after the kills writes the same bytes");
    assert_eq!(names(&tmp), Vec::<String>::new(), "the next run cleaned the killed runs' temp files");
    assert_eq!(names(&out_dir), ["big.copc.laz"]);
}

/// `copc translate` with a file size limit: writes past it fail with EFBIG.
fn translate_with_fsize_limit(input: &Path, out: &Path, tmp: &Path, limit: u64) -> Output {
    let mut c = copc();
    c.arg("translate").arg(input).arg(out).arg("--temp-dir").arg(tmp);
    // SAFETY: only async-signal-safe calls (signal, setrlimit) between fork and exec.
    unsafe {
        c.pre_exec(move || {
            // ignored SIGXFSZ: the write returns EFBIG instead of killing the process
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let l = libc::rlimit { rlim_cur: limit, rlim_max: limit };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &l) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    c.output().unwrap()
}

#[test]
fn a_file_size_limit_gives_a_clear_error_and_no_output() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in.laz");
    sample(&input, 300_000, true);
    let (tmp, out_dir) = (work.path().join("tmp"), work.path().join("out"));
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = out_dir.join("out.copc.laz");
    let o = translate_with_fsize_limit(&input, &out, &tmp, 256 << 10);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains(out.to_str().unwrap()) && e.contains("File too large"), "names the path and the cause: {e}");
    assert_eq!(names(&out_dir), Vec::<String>::new(), "no output");
    assert_eq!(names(&tmp), Vec::<String>::new(), "no temp files");
}

/// A mounted tmpfs, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, opts: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount").args(["-t", "tmpfs", "-o", opts, "tmpfs"]).arg(at).stderr(Stdio::null()).status();
        if ok.is_ok_and(|s| s.success()) { Some(Tmpfs(at.to_path_buf())) } else { None }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn skipped(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

#[test]
fn a_full_disk_gives_a_clear_error_and_no_output() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in.laz");
    sample(&input, 300_000, true);
    let disk = work.path().join("disk");
    let Some(fs) = Tmpfs::mount(&disk, "size=512k") else {
        return skipped("a_full_disk_gives_a_clear_error_and_no_output", "cannot mount a tmpfs (needs root)");
    };
    let out = fs.0.join("out.copc.laz");
    let o = copc().arg("translate").arg(&input).arg(&out).arg("--temp-dir").arg(&fs.0).output().unwrap();
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains(out.to_str().unwrap()) && e.contains("No space left"), "names the path and the cause: {e}");
    assert_eq!(names(&fs.0), Vec::<String>::new(), "nothing left on the full disk");
}

/// Translates through the library, counting the points-read events it reports.
fn translate_counting(input: &Path, out: &Path) -> (copc::Result<copc::writer::TranslateSummary>, u64) {
    let read = Arc::new(AtomicU64::new(0));
    let r = read.clone();
    let opts = WriterOptions {
        progress: Some(Arc::new(move |p: &Progress| {
            if matches!(p, Progress::PointsRead { .. }) {
                r.fetch_add(1, Ordering::SeqCst);
            }
        })),
        ..Default::default()
    };
    (translate(&[input], out, &opts), read.load(Ordering::SeqCst))
}

#[test]
fn an_unwritable_target_fails_before_any_point_is_read() {
    let input = big_laz();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("a-file");
    std::fs::write(&file, b"").unwrap();
    let cases: Vec<(PathBuf, &str)> = vec![
        (work.path().join("missing/out.copc.laz"), "No such file"),
        (work.path().to_path_buf(), "is a folder"),
        (file.join("out.copc.laz"), "not a folder"),
    ];
    let ro = work.path().join("ro");
    let mounted = Tmpfs::mount(&ro, "ro,size=64k");
    let mut cases = cases;
    if mounted.is_some() {
        cases.push((ro.join("out.copc.laz"), "Read-only file system"));
    } else {
        skipped("an_unwritable_target_fails_before_any_point_is_read (read-only folder)", "cannot mount a read-only tmpfs");
    }
    for (target, why) in &cases {
        let (r, read) = translate_counting(input, target);
        let e = r.err().unwrap_or_else(|| panic!("{}: no error", target.display())).to_string();
        assert!(e.contains(target.to_str().unwrap()) && e.contains(why), "{}: {e}", target.display());
        assert_eq!(read, 0, "{}: points were read before the error", target.display());
        // the CLI says the same, fast
        let t = Instant::now();
        let o = copc().arg("translate").arg(input).arg(target).output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains(why), "{}", stderr(&o));
        assert!(t.elapsed() < Duration::from_secs(2), "{}: took {:?}", target.display(), t.elapsed());
    }
    drop(mounted);
    assert_eq!(names(work.path()), ["a-file", "ro"], "nothing created");
}

/// Translates `input` and runs `change` on it once the first points were read.
fn translate_while_changing(input: &Path, out: &Path, change: impl Fn(&Path) + Send + Sync + 'static) -> copc::Result<()> {
    let done = Arc::new(AtomicBool::new(false));
    let path = input.to_path_buf();
    let opts = WriterOptions {
        threads: Some(2),
        progress: Some(Arc::new(move |p: &Progress| {
            if matches!(p, Progress::PointsRead { .. }) && !done.swap(true, Ordering::SeqCst) {
                change(&path);
            }
        })),
        ..Default::default()
    };
    translate(&[input], out, &opts).map(|_| ())
}

#[test]
fn an_input_truncated_while_read_gives_an_error() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in.laz");
    sample(&input, 1_500_000, true);
    let out = work.path().join("out.copc.laz");
    let len = std::fs::metadata(&input).unwrap().len();
    let e = translate_while_changing(&input, &out, move |p| {
        std::fs::OpenOptions::new().write(true).open(p).unwrap().set_len(len / 2).unwrap();
    })
    .err()
    .expect("an error");
    let m = e.to_string();
    assert!(m.contains(input.to_str().unwrap()) && m.contains("changed while"), "{m}");
    assert!(!out.exists());
    assert_eq!(names(work.path()), ["in.laz"]);
}

#[test]
fn an_input_rewritten_while_read_gives_an_error_not_a_wrong_file() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in.las");
    sample(&input, 1_500_000, false);
    let out = work.path().join("out.copc.laz");
    let len = std::fs::metadata(&input).unwrap().len();
    // the same size, other points: every byte of the second half changed
    let e = translate_while_changing(&input, &out, move |p| {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new().read(true).write(true).open(p).unwrap();
        let mut half = vec![0u8; (len - len / 2) as usize];
        f.read_exact_at(&mut half, len / 2).unwrap();
        half.iter_mut().for_each(|b| *b = b.wrapping_add(1));
        f.write_all_at(&half, len / 2).unwrap();
    })
    .err()
    .expect("an error, not a file mixing the old and the new points");
    let m = e.to_string();
    assert!(m.contains(input.to_str().unwrap()) && m.contains("changed while"), "{m}");
    assert_eq!(names(work.path()), ["in.las"]);
}
