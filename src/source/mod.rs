//! Byte sources: positional reads from a local file, memory, a caller's read
//! function (`callback`), or (in `http`) a URL.
//!
//! A source has no cursor: every read names its offset, so one open reader can
//! serve many threads at once. `read_ranges` lets a remote source merge nearby
//! ranges and fetch independent ones concurrently.

mod callback;
mod file;
mod http;
mod memory;
mod store;

pub use callback::CallbackSource;
pub use file::FileSource;
pub use http::{HttpOptions, HttpSource};
// For the fuzzer (`crate::fuzzing`, feature `fuzzing`): HTTP answers interpreted without a socket.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub use http::{Answer, Attempt, ContentRange, parse_content_range};
pub use memory::MemorySource;
pub use store::StoreOptions;

use crate::error::Result;
use std::ops::Range;
use std::sync::Arc;

/// Counters of what a source has cost so far (requests matter for HTTP).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceStats {
    /// Read calls (local) or HTTP requests (remote) made.
    pub requests: u64,
    /// Bytes transferred from the underlying storage.
    pub bytes: u64,
    /// Requests that were retried after a transient failure.
    pub retries: u64,
}

/// Positional, thread-safe read access to the bytes of one COPC/LAS file.
pub trait ByteSource: Send + Sync {
    /// A name for messages: the path or URL.
    fn name(&self) -> &str;

    /// Total size in bytes.
    fn len(&self) -> u64;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads exactly `range` (which must lie inside `0..len()`).
    fn read_range(&self, range: Range<u64>) -> Result<Vec<u8>>;

    /// Reads many ranges; results are in the order asked. Remote sources
    /// override this to merge close ranges and fetch in parallel.
    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Vec<u8>>> {
        ranges.iter().map(|r| self.read_range(r.clone())).collect()
    }

    /// The widest gap between two ranges of one `read_ranges` call that still lets
    /// them be fetched by one request (ranges that touch or overlap always are);
    /// None when every range is read on its own, as local sources do. Readers use it
    /// to keep ranges that would share a request in the same call.
    fn merge_gap(&self) -> Option<u64> {
        None
    }

    /// What reads have cost so far.
    fn stats(&self) -> SourceStats {
        SourceStats::default()
    }

    /// An error when the bytes may have changed since the source was opened (a local
    /// file truncated or rewritten meanwhile). Sources that cannot tell say Ok.
    fn check_unchanged(&self) -> Result<()> {
        Ok(())
    }
}

/// Opens `location`: an object in a store (`s3://BUCKET/KEY`, `az://CONTAINER/BLOB`,
/// `azure://...`, an Azure `https://ACCOUNT.blob.core.windows.net/...` URL when Azure
/// credentials are set, `gs://BUCKET/OBJECT`) through the HTTP engine with the store's signing, an
/// `http://` or `https://` URL as an [`HttpSource`] with `http`'s settings, anything
/// else as a local file path ([`FileSource`]).
pub fn open_source(location: &str, http: &HttpOptions) -> Result<Arc<dyn ByteSource>> {
    if store::is_store_url(location, &http.store) {
        Ok(Arc::new(store::open(location, http)?))
    } else if is_url(location) {
        Ok(Arc::new(HttpSource::open(location, http.clone())?))
    } else {
        Ok(Arc::new(FileSource::open(location)?))
    }
}

/// Whether `location` starts with `http://` or `https://` (any case).
fn is_url(location: &str) -> bool {
    let lower = |n: usize| location.get(..n).map(str::to_ascii_lowercase);
    lower(7).as_deref() == Some("http://") || lower(8).as_deref() == Some("https://")
}

/// Checks that `range` is a well-formed range inside a source of `len` bytes.
pub(crate) fn check_range(name: &str, range: &Range<u64>, len: u64, what: &str) -> Result<()> {
    if range.start > range.end || range.end > len {
        return Err(crate::Error::format(
            name,
            crate::error::Location::Offset(range.start),
            format!(
                "{what} spans bytes {}..{} but the file has {len} bytes",
                range.start, range.end
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_and_paths() {
        for url in ["http://h/a.laz", "HTTPS://h/a.laz", "https://h"] {
            assert!(super::is_url(url), "{url}");
        }
        for path in ["a.laz", "/data/http/a.laz", "http:/a", "httpx://h", "ftp://h/a", "", "h\u{e9}llo"] {
            assert!(!super::is_url(path), "{path}");
        }
    }
}
