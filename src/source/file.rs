//! Local files read with positional reads (pread), so threads never share a cursor.

use super::{ByteSource, SourceStats, check_range};
use crate::error::{Error, Location, Result};
use std::fs::File;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct FileSource {
    file: File,
    name: String,
    len: u64,
    /// Size and change times when opened: a file rewritten meanwhile differs.
    opened: Stamp,
    requests: AtomicU64,
    bytes: AtomicU64,
}

impl FileSource {
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| Error::io(&name, Location::Source, "cannot open", e))?;
        let meta = file.metadata().map_err(|e| Error::io(&name, Location::Source, "cannot stat", e))?;
        if meta.is_dir() {
            return Err(Error::format(&name, Location::Source, "is a directory, expected a COPC/LAS file"));
        }
        Ok(FileSource { file, name, len: meta.len(), opened: Stamp::of(&meta), requests: AtomicU64::new(0), bytes: AtomicU64::new(0) })
    }

    /// Compares the open file (not its path: a file replaced by rename is still read
    /// whole and unchanged) with what it was when opened.
    fn changed(&self) -> Option<String> {
        let now = match self.file.metadata() {
            Ok(m) => Stamp::of(&m),
            Err(e) => return Some(format!("cannot stat it any more ({e})")),
        };
        if now.len != self.opened.len {
            Some(format!("it had {} bytes when opened and has {} now", self.opened.len, now.len))
        } else if now != self.opened {
            Some("it was written to after it was opened".to_string())
        } else {
            None
        }
    }

    fn changed_error(&self, why: String) -> Error {
        Error::format(&self.name, Location::Source, format!("the file changed while it was being read: {why}"))
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::read_exact_at(&self.file, buf, offset)
        }
        #[cfg(windows)]
        {
            let mut done = 0;
            while done < buf.len() {
                let n = std::os::windows::fs::FileExt::seek_read(&self.file, &mut buf[done..], offset + done as u64)?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                done += n;
            }
            Ok(())
        }
    }
}

impl ByteSource for FileSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn read_range(&self, range: Range<u64>) -> Result<Vec<u8>> {
        check_range(&self.name, &range, self.len, "read")?;
        let mut buf = vec![0u8; (range.end - range.start) as usize];
        if let Err(e) = self.read_exact_at(&mut buf, range.start) {
            // a short read of a file that shrank says so, not "unexpected end of file"
            if let Some(why) = self.changed() {
                return Err(self.changed_error(why));
            }
            return Err(Error::io(&self.name, Location::Offset(range.start), format!("reading {} bytes", buf.len()), e));
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf)
    }

    fn check_unchanged(&self) -> Result<()> {
        match self.changed() {
            Some(why) => Err(self.changed_error(why)),
            None => Ok(()),
        }
    }

    fn stats(&self) -> SourceStats {
        SourceStats {
            requests: self.requests.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            retries: 0,
        }
    }
}

/// What identifies a version of a file's contents: size, modification and status
/// change times (nanoseconds where the platform has them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    ctime: (i64, i64),
}

impl Stamp {
    fn of(m: &std::fs::Metadata) -> Stamp {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        Stamp {
            len: m.len(),
            modified: m.modified().ok(),
            #[cfg(unix)]
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }
}
