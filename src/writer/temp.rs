//! Temporary files that do not outlive a crash.
//!
//! - [`OutputFile`]: the file being written appears at its target only when it is
//!   complete. On Linux it is created unnamed (`O_TMPFILE`) in the target's folder and
//!   linked into place by [`OutputFile::commit`], so even `kill -9` leaves nothing
//!   behind. Elsewhere (or on file systems without `O_TMPFILE`) it is a named
//!   `.NAME.partial-PID-N` file, locked while in use; the next run for the same target
//!   removes such files once no process holds their lock.
//! - [`SpillDir`]: a `copc-spill-*` folder in the temp folder (or a folder with
//!   another prefix: [`SpillDir::create_with_prefix`]), locked while in use;
//!   [`sweep_stale_spill_dirs`] and [`sweep_stale_dirs`] remove the ones whose
//!   writer died.
//!
//! Locks are `flock`s: the kernel drops them when the owner dies, whatever its pid
//! namespace, and a reused pid cannot keep a stale folder alive.

use crate::error::{Error, Location, Result};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Prefix of the spill folders (and what the sweep looks for).
pub const SPILL_PREFIX: &str = "copc-spill-";
const LOCK_NAME: &str = ".lock";

static SERIAL: AtomicU64 = AtomicU64::new(0);

/// Takes an exclusive lock on `f` without waiting; false when another holds it.
#[cfg(unix)]
fn try_lock(f: &File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor we own; no memory is passed.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

#[cfg(not(unix))]
fn try_lock(_f: &File) -> bool {
    true
}

/// A name the target's folder can hold for a moment: `.NAME.partial-PID-N`.
fn partial_name(target: &Path) -> PathBuf {
    let dir = parent_dir(target);
    let n = SERIAL.fetch_add(1, Ordering::Relaxed);
    dir.join(format!("{}{}-{n}", partial_prefix(target), std::process::id()))
}

fn partial_prefix(target: &Path) -> String {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "output".into());
    format!(".{name}.partial-")
}

fn parent_dir(target: &Path) -> PathBuf {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Checks that a file can be created at `target`: not empty, not a folder, in a
/// folder that exists.
pub fn check_target(target: &Path) -> Result<()> {
    let name = target.display().to_string();
    let fail = |m: String| Error::format(&name, Location::Source, m);
    if target.as_os_str().is_empty() {
        return Err(Error::invalid("the output path is empty"));
    }
    if target.is_dir() {
        return Err(fail("the output is a folder; give a file name".into()));
    }
    let dir = parent_dir(target);
    match std::fs::metadata(&dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(fail(format!("cannot create the output: {} is not a folder", dir.display()))),
        Err(e) => Err(Error::io(&name, Location::Source, format!("cannot create the output in {}", dir.display()), e)),
    }
}

/// An output file under construction; see the module docs.
pub struct OutputFile {
    file: File,
    target: PathBuf,
    /// The visible temp name, when the file has one (no `O_TMPFILE`).
    named: Option<PathBuf>,
    committed: bool,
}

impl OutputFile {
    /// Checks that `target` can be written (its folder exists, it is not a folder) and
    /// creates the temp file there: a target that cannot be written fails here,
    /// before any work. Removes partial files of dead runs for the same target.
    pub fn create(target: &Path) -> Result<OutputFile> {
        check_target(target)?;
        let name = target.display().to_string();
        let dir = parent_dir(target);
        sweep_stale_partials(target);
        let cannot = |e: std::io::Error| Error::io(&name, Location::Source, format!("cannot create the output in {}", dir.display()), e);
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::fs::OpenOptionsExt;
            let anon = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .mode(0o666)
                .custom_flags(libc::O_TMPFILE | libc::O_CLOEXEC)
                .open(&dir);
            match anon {
                Ok(file) => {
                    try_lock(&file);
                    return Ok(OutputFile { file, target: target.to_path_buf(), named: None, committed: false });
                }
                // the file system cannot make unnamed files: a named one below
                Err(e) if matches!(e.raw_os_error(), Some(libc::EOPNOTSUPP) | Some(libc::EISDIR) | Some(libc::EINVAL)) => {}
                Err(e) => return Err(cannot(e)),
            }
        }
        let path = partial_name(target);
        let file = std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&path).map_err(cannot)?;
        try_lock(&file);
        Ok(OutputFile { file, target: target.to_path_buf(), named: Some(path), committed: false })
    }

    /// The file to write (a second handle on it, so that a writer can own it).
    pub fn handle(&self) -> Result<File> {
        self.file.try_clone().map_err(|e| self.io("opening a second handle on the output", e))
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    fn io(&self, what: &str, e: std::io::Error) -> Error {
        Error::io(&self.target.display().to_string(), Location::Source, what, e)
    }

    /// Flushes the data to disk and puts the file at its target (replacing what was
    /// there), then syncs the folder.
    pub fn commit(self) -> Result<()> {
        self.place(true)
    }

    /// `commit` without the fsync, for a scratch file that is read back and removed
    /// by this process (the writer's temporary points file): durability buys nothing.
    pub fn commit_scratch(self) -> Result<()> {
        self.place(false)
    }

    fn place(mut self, sync: bool) -> Result<()> {
        if sync {
            self.file.sync_all().map_err(|e| self.io("fsync", e))?;
        }
        match &self.named {
            Some(p) => std::fs::rename(p, &self.target).map_err(|e| self.io("renaming the finished file into place", e))?,
            None => self.link_into_place()?,
        }
        self.committed = true;
        if sync {
            if let Ok(d) = File::open(parent_dir(&self.target)) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }

    #[cfg(target_os = "linux")]
    fn link_into_place(&self) -> Result<()> {
        // a target that does not exist yet is linked directly; an existing one is
        // replaced by a link under a temp name and a rename (rename replaces, link
        // does not)
        match link_fd(&self.file, &self.target) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let tmp = partial_name(&self.target);
                link_fd(&self.file, &tmp).map_err(|e| self.io("linking the finished file", e))?;
                std::fs::rename(&tmp, &self.target).map_err(|e| {
                    let _ = std::fs::remove_file(&tmp);
                    self.io("renaming the finished file into place", e)
                })
            }
            Err(e) => Err(self.io("linking the finished file into place", e)),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn link_into_place(&self) -> Result<()> {
        Err(Error::invalid("internal error: an unnamed output file outside Linux"))
    }
}

/// Gives the unnamed file behind `f` the name `to` (fails if `to` exists).
#[cfg(target_os = "linux")]
fn link_fd(f: &File, to: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    let to = CString::new(to.as_os_str().as_bytes()).map_err(|_| std::io::ErrorKind::InvalidInput)?;
    let proc = CString::new(format!("/proc/self/fd/{}", f.as_raw_fd())).map_err(|_| std::io::ErrorKind::InvalidInput)?;
    // SAFETY: both paths are NUL-terminated strings that live across the calls.
    let r = unsafe { libc::linkat(libc::AT_FDCWD, proc.as_ptr(), libc::AT_FDCWD, to.as_ptr(), libc::AT_SYMLINK_FOLLOW) };
    if r == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() != Some(libc::ENOENT) {
        return Err(e);
    }
    // no /proc: AT_EMPTY_PATH links the descriptor itself (needs CAP_DAC_READ_SEARCH)
    let empty = CString::default();
    // SAFETY: as above.
    let r = unsafe { libc::linkat(f.as_raw_fd(), empty.as_ptr(), libc::AT_FDCWD, to.as_ptr(), libc::AT_EMPTY_PATH) };
    if r == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if !self.committed {
            if let Some(p) = &self.named {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

/// Removes `.NAME.partial-*` files next to `target` that no live process holds.
fn sweep_stale_partials(target: &Path) {
    let prefix = partial_prefix(target);
    let Ok(entries) = std::fs::read_dir(parent_dir(target)) else { return };
    for e in entries.flatten() {
        if !e.file_name().to_string_lossy().starts_with(&prefix) {
            continue;
        }
        let path = e.path();
        if let Ok(f) = File::open(&path) {
            if try_lock(&f) {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

/// A spill folder, locked for as long as it lives and removed when dropped.
pub struct SpillDir {
    // dropped first: the folder goes, then the lock
    dir: tempfile::TempDir,
    _lock: File,
}

impl SpillDir {
    /// Creates `PARENT/copc-spill-XXXXXX` and locks it.
    pub fn create(parent: &Path) -> Result<SpillDir> {
        SpillDir::create_with_prefix(parent, SPILL_PREFIX)
    }

    /// Creates `PARENT/PREFIXXXXXXX` and locks it; [`sweep_stale_dirs`] with the same
    /// prefix removes it once its owner is gone.
    pub fn create_with_prefix(parent: &Path, prefix: &str) -> Result<SpillDir> {
        let fail = |e: std::io::Error| Error::io(&parent.display().to_string(), Location::Source, format!("creating a {prefix}* folder"), e);
        let dir = tempfile::Builder::new().prefix(prefix).tempdir_in(parent).map_err(fail)?;
        // locked under another name, then renamed: a sweep never sees an unlocked lock file
        let locking = dir.path().join(".locking");
        let lock = File::create(&locking).map_err(fail)?;
        if !try_lock(&lock) {
            return Err(fail(std::io::Error::other("cannot lock the new spill folder")));
        }
        std::fs::rename(&locking, dir.path().join(LOCK_NAME)).map_err(fail)?;
        Ok(SpillDir { dir, _lock: lock })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Gives the folder, unlocked, to the caller (who renames it into place), instead
    /// of removing it.
    pub fn keep(self) -> PathBuf {
        let _ = std::fs::remove_file(self.dir.path().join(LOCK_NAME));
        self.dir.keep()
    }
}

/// Removes the spill folders in `parent` left by writers that died (their lock is
/// free); returns how many. Folders of running writers, and anything that is not a
/// locked spill folder, are left alone.
pub fn sweep_stale_spill_dirs(parent: &Path) -> usize {
    sweep_stale_dirs(parent, SPILL_PREFIX)
}

/// Removes the `PREFIX*` folders of [`SpillDir::create_with_prefix`] in `parent`
/// whose owner died; returns how many.
pub fn sweep_stale_dirs(parent: &Path, prefix: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(parent) else { return 0 };
    let mut removed = 0;
    for e in entries.flatten() {
        if !e.file_name().to_string_lossy().starts_with(prefix) || !e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let dir = e.path();
        let Ok(lock) = File::open(dir.join(LOCK_NAME)) else { continue };
        if try_lock(&lock) && std::fs::remove_dir_all(&dir).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_locked_spill_dir_survives_the_sweep_and_a_free_one_does_not() {
        let parent = tempfile::tempdir().unwrap();
        let live = SpillDir::create(parent.path()).unwrap();
        // a dead writer's folder: a lock file nobody holds
        let dead = parent.path().join(format!("{SPILL_PREFIX}dead"));
        std::fs::create_dir(&dead).unwrap();
        std::fs::write(dead.join(LOCK_NAME), b"").unwrap();
        std::fs::write(dead.join("0-0-0-0.bin"), b"points").unwrap();
        // not ours: no lock file
        let other = parent.path().join(format!("{SPILL_PREFIX}other"));
        std::fs::create_dir(&other).unwrap();
        assert_eq!(sweep_stale_spill_dirs(parent.path()), 1);
        assert!(live.path().is_dir() && !dead.exists() && other.is_dir());
        let p = live.path().to_path_buf();
        drop(live);
        assert!(!p.exists());
    }

    #[test]
    fn an_output_appears_only_on_commit_and_replaces_the_old_file() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.bin");
        for (i, content) in [&b"first"[..], b"second"].into_iter().enumerate() {
            let out = OutputFile::create(&target).unwrap();
            out.handle().unwrap().write_all(content).unwrap();
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), i, "nothing new visible before commit");
            out.commit().unwrap();
            assert_eq!(std::fs::read(&target).unwrap(), content);
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "only the output");
        // dropped without commit: nothing left, the old file untouched
        let out = OutputFile::create(&target).unwrap();
        out.handle().unwrap().write_all(b"third").unwrap();
        drop(out);
        assert_eq!(std::fs::read(&target).unwrap(), b"second");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_dead_runs_partial_file_is_swept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.copc.laz");
        let stale = dir.path().join(".out.copc.laz.partial-999999-0");
        std::fs::write(&stale, b"half").unwrap();
        let unrelated = dir.path().join(".other.partial-1-0");
        std::fs::write(&unrelated, b"x").unwrap();
        let _out = OutputFile::create(&target).unwrap();
        assert!(!stale.exists() && unrelated.exists());
    }

    #[test]
    fn unwritable_targets_fail_at_create() {
        let dir = tempfile::tempdir().unwrap();
        let e = OutputFile::create(dir.path()).err().unwrap().to_string();
        assert!(e.contains("is a folder"), "{e}");
        let missing = dir.path().join("no/such/out.copc.laz");
        let e = OutputFile::create(&missing).err().unwrap().to_string();
        assert!(e.contains("no/such") && e.contains("No such file"), "{e}");
        std::fs::write(dir.path().join("file"), b"").unwrap();
        let e = OutputFile::create(&dir.path().join("file/out.copc.laz")).err().unwrap().to_string();
        assert!(e.contains("not a folder"), "{e}");
    }
}
