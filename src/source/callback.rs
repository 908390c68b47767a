//! Bytes from a caller's read function (the C ABI's `copc_io`, or any Rust closure):
//! for data that lives in a caller's own storage, cache or virtual file system.

use super::{ByteSource, SourceStats, check_range};
use crate::error::{Error, Location, Result};
use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Fills the buffer with the bytes starting at the offset, all of them, or says why not.
pub type ReadFn = dyn Fn(u64, &mut [u8]) -> std::result::Result<(), String> + Send + Sync;

/// A source whose bytes come from a read function.
///
/// [`CallbackSource::new`] calls the function from whichever threads read at the same
/// time, so it must be thread-safe; [`CallbackSource::serialized`] makes one call at a
/// time (from any thread) for functions that are not.
pub struct CallbackSource {
    name: String,
    len: u64,
    read: Box<ReadFn>,
    lock: Option<Mutex<()>>,
    requests: AtomicU64,
    bytes: AtomicU64,
}

impl CallbackSource {
    /// A source of `len` bytes named `name` (for messages) whose `read` may be called
    /// concurrently.
    pub fn new(
        name: impl Into<String>,
        len: u64,
        read: impl Fn(u64, &mut [u8]) -> std::result::Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        CallbackSource {
            name: name.into(),
            len,
            read: Box::new(read),
            lock: None,
            requests: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }

    /// Like [`CallbackSource::new`], but `read` is never called by two threads at once.
    pub fn serialized(
        name: impl Into<String>,
        len: u64,
        read: impl Fn(u64, &mut [u8]) -> std::result::Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        CallbackSource {
            lock: Some(Mutex::new(())),
            ..Self::new(name, len, read)
        }
    }
}

impl ByteSource for CallbackSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn read_range(&self, range: Range<u64>) -> Result<Vec<u8>> {
        check_range(&self.name, &range, self.len, "read")?;
        let mut buf = vec![0u8; (range.end - range.start) as usize];
        if buf.is_empty() {
            return Ok(buf);
        }
        let result = {
            // A panic while the lock was held does not corrupt `()`: keep going.
            let _guard = self.lock.as_ref().map(|l| l.lock().unwrap_or_else(|p| p.into_inner()));
            (self.read)(range.start, &mut buf)
        };
        result.map_err(|m| {
            Error::io(
                &self.name,
                Location::Offset(range.start),
                format!("reading {} bytes", buf.len()),
                std::io::Error::other(m),
            )
        })?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf)
    }

    fn stats(&self) -> SourceStats {
        SourceStats {
            requests: self.requests.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            retries: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    fn data() -> Arc<Vec<u8>> {
        Arc::new((0..=255u8).cycle().take(1000).collect())
    }

    #[test]
    fn reads_ranges_and_counts_them() {
        let d = data();
        let src = CallbackSource::new("cb", 1000, move |off, buf| {
            buf.copy_from_slice(&d[off as usize..off as usize + buf.len()]);
            Ok(())
        });
        assert_eq!(src.read_range(10..14).unwrap(), vec![10, 11, 12, 13]);
        assert_eq!(src.read_range(998..1000).unwrap(), vec![230, 231]);
        assert!(
            src.read_range(999..1001).is_err(),
            "past the end is refused before calling"
        );
        assert_eq!(src.stats().requests, 2);
        assert_eq!(src.stats().bytes, 6);
    }

    #[test]
    fn callback_errors_name_source_and_offset() {
        let src = CallbackSource::new("mine", 100, |_, _| Err("disk on fire".into()));
        let e = src.read_range(40..50).unwrap_err().to_string();
        assert!(
            e.contains("mine") && e.contains("40") && e.contains("disk on fire"),
            "{e}"
        );
    }

    #[test]
    fn serialized_calls_never_overlap() {
        let inside = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        let (i2, m2) = (inside.clone(), max.clone());
        let src = Arc::new(CallbackSource::serialized("s", 1 << 20, move |_, buf| {
            let now = i2.fetch_add(1, Ordering::SeqCst) + 1;
            m2.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(2));
            buf.fill(1);
            i2.fetch_sub(1, Ordering::SeqCst);
            Ok(())
        }));
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let src = src.clone();
                s.spawn(move || {
                    for k in 0..5 {
                        src.read_range(t * 1000 + k..t * 1000 + k + 10).unwrap();
                    }
                });
            }
        });
        assert_eq!(max.load(Ordering::SeqCst), 1);
        assert_eq!(src.stats().requests, 20);
    }
}
