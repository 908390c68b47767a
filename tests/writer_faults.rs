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

/// What a file or a folder holds: (relative path, bytes) of every file, sorted.
fn snapshot(p: &Path) -> Vec<(String, Vec<u8>)> {
    if p.is_file() {
        return vec![(String::new(), std::fs::read(p).unwrap())];
    }
    let mut out = Vec::new();
    let mut stack = vec![p.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap().path();
            if e.is_dir() {
                stack.push(e);
            } else {
                out.push((
                    e.strip_prefix(p).unwrap().display().to_string(),
                    std::fs::read(&e).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

fn remove(p: &Path) {
    if p.is_dir() {
        std::fs::remove_dir_all(p)
    } else {
        std::fs::remove_file(p)
    }
    .unwrap();
}

/// A complete run (the reference), `kills` runs killed with SIGKILL at moments spread
/// over a run's length, then a complete run again. After each kill: nothing at the
/// target, nothing beside it but what `swept_beside` allows, nothing outside `out`
/// and `tmp`. The last run must write what the first did and leave `tmp` and the
/// target's folder clean (the dead runs' leftovers swept).
/// `run` makes the command, whose output is `target` in `WORK/out` and whose temp
/// folder is `WORK/tmp`; `swept_beside` names what a killed run may leave beside the
/// target for the next run to remove (nothing, for files written through
/// `writer::temp::OutputFile`).
fn kill_at_random_moments(
    what: &str,
    target: &Path,
    kills: usize,
    swept_beside: &dyn Fn(&str) -> bool,
    run: &dyn Fn() -> Command,
) {
    let out_dir = target.parent().unwrap().to_path_buf();
    let work = out_dir.parent().unwrap();
    let tmp = work.join("tmp");
    let t0 = Instant::now();
    let o = run().output().unwrap();
    assert!(o.status.success(), "{what}: {}", stderr(&o));
    let full = t0.elapsed();
    let reference = snapshot(target);
    remove(target);
    assert_eq!(
        names(&tmp),
        Vec::<String>::new(),
        "{what}: a finished run leaves nothing in the temp folder"
    );
    assert_eq!(
        names(&out_dir),
        Vec::<String>::new(),
        "{what}: a finished run leaves nothing beside the target"
    );

    let mut rng = copc::sample::SplitMix64::new(seed());
    let mut leftovers = 0;
    for i in 0..kills {
        // spread over the run: reading, building, writing the output
        let frac = (i as f64 + rng.f64()) / kills as f64;
        let at = full.mul_f64(0.02 + 0.96 * frac);
        let mut child = run()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(at);
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let status = child.wait().unwrap();
        let at = format!("{what}: kill at {at:?} ({:.0}%)", frac * 100.0);
        if status.success() {
            // finished before the signal: the output must be the complete one
            assert!(snapshot(target) == reference, "{at}: a finished output");
            remove(target);
        }
        assert!(!target.exists(), "{at}: something at the target");
        let beside: Vec<String> = names(&out_dir)
            .into_iter()
            .filter(|n| !swept_beside(n))
            .collect();
        assert_eq!(
            beside,
            Vec::<String>::new(),
            "{at}: nothing beside the target"
        );
        assert_eq!(
            names(work),
            ["out", "tmp"],
            "{at}: nothing outside the temp folder"
        );
        leftovers += names(&tmp).len() + names(&out_dir).len();
    }
    println!("{what}: {leftovers} leftovers after {kills} kills");

    // the next run completes, sweeps the dead runs' temp files and writes the same output
    let o = run().output().unwrap();
    assert!(o.status.success(), "{what}: {}", stderr(&o));
    assert!(
        snapshot(target) == reference,
        "{what}: the run after the kills writes the same output"
    );
    assert_eq!(
        names(&tmp),
        Vec::<String>::new(),
        "{what}: the next run cleaned the killed runs' temp files"
    );
    assert_eq!(
        names(&out_dir),
        [target.file_name().unwrap().to_str().unwrap()],
        "{what}: only the output beside the target"
    );
}

/// A work folder with empty `out` and `tmp` folders.
fn work_dir() -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(work.path().join("tmp")).unwrap();
    std::fs::create_dir_all(work.path().join("out")).unwrap();
    work
}

fn nothing(_: &str) -> bool {
    false
}

#[test]
fn kill_9_at_random_moments_leaves_nothing_at_the_target_and_the_next_run_cleans_up() {
    let input = big_laz();
    let work = work_dir();
    let (tmp, out) = (
        work.path().join("tmp"),
        work.path().join("out/big.copc.laz"),
    );
    // a small memory limit makes the writer spill, so there are temp files to leave behind
    let run = || {
        let mut c = copc();
        c.arg("translate")
            .arg(input)
            .arg(&out)
            .args(["--threads", "2", "--memory-limit", "150M", "--temp-dir"])
            .arg(&tmp);
        c
    };
    kill_at_random_moments("translate", &out, 6, &nothing, &run);
}

/// The big input as COPC, and as an EPT dataset exported from that (made once).
fn big_copc_and_ept() -> &'static (PathBuf, PathBuf) {
    static FILES: OnceLock<(tempfile::TempDir, (PathBuf, PathBuf))> = OnceLock::new();
    &FILES
        .get_or_init(|| {
            let d = tempfile::tempdir().unwrap();
            let (c, e) = (d.path().join("big.copc.laz"), d.path().join("ept"));
            translate(&[big_laz()], &c, &WriterOptions::default()).unwrap();
            copc::ept::export::export_copc_as_ept(&c, &e).unwrap();
            (d, (c, e))
        })
        .1
}

#[test]
fn kill_9_of_copc_query_output_leaves_nothing_at_the_target() {
    let (input, _) = big_copc_and_ept();
    for name in ["subset.copc.laz", "subset.laz", "subset.csv"] {
        let work = work_dir();
        let (tmp, out) = (work.path().join("tmp"), work.path().join("out").join(name));
        let run = || {
            let mut c = copc();
            c.arg("query")
                .arg(input)
                .arg("--threads")
                .arg("2")
                .env("TMPDIR", &tmp);
            if name.ends_with(".csv") {
                c.arg("--csv").arg(&out);
            } else {
                c.arg("-o").arg(&out);
            }
            c
        };
        let what = format!("copc query -> {name}");
        kill_at_random_moments(&what, &out, 4, &nothing, &run);
    }
}

#[test]
fn kill_9_of_an_ept_repack_leaves_nothing_at_the_target() {
    let (_, ept) = big_copc_and_ept();
    let work = work_dir();
    let (tmp, out) = (
        work.path().join("tmp"),
        work.path().join("out/repacked.copc.laz"),
    );
    let run = || {
        let mut c = copc();
        c.arg("translate")
            .arg(ept.join("ept.json"))
            .arg(&out)
            .args(["--threads", "2", "--temp-dir"])
            .arg(&tmp);
        c
    };
    kill_at_random_moments("EPT repack", &out, 4, &nothing, &run);
}

/// The test binary itself, running `child_process` in `mode` (see there).
fn child(mode: &str, input: &Path, target: &Path, tmp: &Path) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([
        "--ignored",
        "--exact",
        "child_process",
        "--nocapture",
        "--test-threads",
        "1",
    ])
    .env("COPC_FAULT_CHILD", mode)
    .env("COPC_FAULT_INPUT", input)
    .env("COPC_FAULT_TARGET", target)
    .env("TMPDIR", tmp);
    c
}

/// Library calls that the kill tests run in a process of their own: `points` writes
/// 2 M generated points through `PointWriter` (what `copc_writer_*` and GDAL use),
/// `ept-export` exports the COPC file `COPC_FAULT_INPUT` as an EPT dataset.
#[test]
#[ignore = "a child process of the kill_9 tests, not a test by itself"]
fn child_process() {
    use copc::Dimension;
    use copc::writer::{PointColumn, PointWriter};
    let target =
        PathBuf::from(std::env::var_os("COPC_FAULT_TARGET").expect("run by the kill_9 tests"));
    match std::env::var("COPC_FAULT_CHILD")
        .expect("run by the kill_9 tests")
        .as_str()
    {
        "points" => {
            let mut w = PointWriter::create(
                &target,
                WriterOptions {
                    threads: Some(2),
                    ..Default::default()
                },
                None,
            )
            .unwrap();
            let mut rng = copc::sample::SplitMix64::new(5);
            let n = 100_000;
            for _ in 0..20 {
                let xyz: Vec<u8> = (0..n * 3)
                    .flat_map(|_| (rng.f64() * 1000.0).to_ne_bytes())
                    .collect();
                let class: Vec<u8> = (0..n).map(|i| (i % 7) as u8).collect();
                let col = |dim, at: usize| PointColumn {
                    dim,
                    data: &xyz[at..],
                    stride: 24,
                };
                let cls = PointColumn {
                    dim: Dimension::Classification,
                    data: &class,
                    stride: 0,
                };
                w.add(
                    n,
                    &[
                        col(Dimension::X, 0),
                        col(Dimension::Y, 8),
                        col(Dimension::Z, 16),
                        cls,
                    ],
                )
                .unwrap();
            }
            w.finish().unwrap();
        }
        "ept-export" => {
            let input = std::env::var_os("COPC_FAULT_INPUT").expect("run by the kill_9 tests");
            copc::ept::export::export_copc_as_ept(input, &target).unwrap();
        }
        m => panic!("unknown COPC_FAULT_CHILD mode {m}"),
    }
}

#[test]
fn kill_9_of_a_point_writer_leaves_nothing_at_the_target() {
    let work = work_dir();
    let (tmp, out) = (
        work.path().join("tmp"),
        work.path().join("out/points.copc.laz"),
    );
    let run = || child("points", Path::new(""), &out, &tmp);
    kill_at_random_moments("PointWriter", &out, 4, &nothing, &run);
}

#[test]
fn kill_9_of_an_ept_export_leaves_no_dataset_and_the_next_export_cleans_up() {
    let (input, _) = big_copc_and_ept();
    let work = work_dir();
    let (tmp, out) = (work.path().join("tmp"), work.path().join("out/dataset"));
    let run = || child("ept-export", input, &out, &tmp);
    // the dataset is built in a locked folder beside the target (a rename moves it in)
    let building = |n: &str| n.starts_with(".dataset.ept-export-");
    kill_at_random_moments("EPT export", &out, 4, &building, &run);
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
    .expect_err("an error");
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
    .expect_err("an error, not a file mixing the old and the new points");
    let m = e.to_string();
    assert!(m.contains(input.to_str().unwrap()) && m.contains("changed while"), "{m}");
    assert_eq!(names(work.path()), ["in.las"]);
}
