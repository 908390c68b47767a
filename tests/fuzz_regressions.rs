//! One test per fuzzer finding (FUZZING.md), each with its minimised input made
//! here from bytes or by the project's own generator. A counting allocator turns
//! "allocates what a size field says" into a failure instead of an abort.

use copc::sample::{SampleOptions, write_sample};
use copc::writer::{WriterOptions, translate};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Records the largest single allocation, and refuses absurd ones (so the bug
/// shows as a failed assertion rather than an abort of the test binary).
struct Tracking;
static LARGEST: AtomicUsize = AtomicUsize::new(0);
const REFUSE_ABOVE: usize = 1 << 34;

unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LARGEST.fetch_max(l.size(), Ordering::Relaxed);
        if l.size() > REFUSE_ABOVE {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LARGEST.fetch_max(n, Ordering::Relaxed);
        if n > REFUSE_ABOVE {
            return std::ptr::null_mut();
        }
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

/// Tests measuring LARGEST run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// A small LAZ file from the sample generator.
fn sample_laz(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("in.laz");
    let opts = SampleOptions { points: 500, format: 6, compressed: true, ..Default::default() };
    write_sample(&path, &opts).unwrap();
    path
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// Finding (writer target): a LAZ input whose chunk table declares 2^32 − 1 chunks
/// made laz-rs reserve 64 GiB before reading a single entry.
#[test]
fn writer_rejects_a_chunk_count_larger_than_the_file() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let input = sample_laz(dir.path());
    let mut bytes = std::fs::read(&input).unwrap();
    let point_offset = u32_at(&bytes, 96) as usize;
    let table_at = u64::from_le_bytes(bytes[point_offset..point_offset + 8].try_into().unwrap()) as usize;
    assert_eq!(u32_at(&bytes, table_at), 0, "chunk table version");
    bytes[table_at + 4..table_at + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&input, &bytes).unwrap();

    LARGEST.store(0, Ordering::Relaxed);
    let output = dir.path().join("out.copc.laz");
    let opts = WriterOptions { threads: Some(1), ..Default::default() };
    let err = translate(&[&input], &output, &opts).expect_err("a chunk table of 2^32-1 chunks");
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(largest < 16 * bytes.len() + (1 << 20), "allocated {largest} bytes at once for a {}-byte file", bytes.len());
    assert!(err.to_string().contains("declares 4294967295 chunks"), "{err}");
    assert!(!output.exists());
}
