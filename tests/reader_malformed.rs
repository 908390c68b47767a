//! Hostile files: every structure of a COPC file truncated or corrupted on purpose.
//! Each variant must give an error (naming the file) or correct points; never a
//! panic, and never an allocation larger than a small multiple of the file.

mod support;

use copc::{MemorySource, Query, Reader, ReaderOptions};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use support::mini_copc::{self, Options};

/// Records the largest single allocation.
struct Tracking;
static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LARGEST.fetch_max(l.size(), Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LARGEST.fetch_max(n, Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

/// Opens and fully reads `bytes`; Ok(points) or Err(message). Panics are reported as Err("PANIC ...").
fn read_all(bytes: &[u8]) -> Result<u64, String> {
    let src = Arc::new(MemorySource::new("corrupt.copc.laz", bytes.to_vec()));
    let run = || -> copc::Result<u64> {
        let r = Reader::from_source(src, &ReaderOptions { threads: Some(1), ..Default::default() })?;
        r.hierarchy_summary()?;
        r.crs_wkt()?;
        let mut n = 0;
        for b in r.points(&Query::new())? {
            n += b?.len() as u64;
        }
        let c = r.cube();
        let q = Query::new().bounds(copc::Bounds::xy(c.center[0] - 1.0, c.center[1] - 1.0, c.center[0] + 5.0, c.center[1] + 5.0));
        r.count(&q)?;
        Ok(n)
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(n)) => Ok(n),
        Ok(Err(e)) => Err(e.to_string()),
        Err(p) => Err(format!("PANIC {:?}", p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())))),
    }
}

struct Checker {
    file_len: usize,
    valid_points: u64,
    failures: Vec<String>,
    variants: usize,
    errors: usize,
}

impl Checker {
    fn check(&mut self, what: &str, bytes: Vec<u8>) {
        self.variants += 1;
        LARGEST.store(0, Ordering::Relaxed);
        let out = read_all(&bytes);
        let largest = LARGEST.load(Ordering::Relaxed);
        // decoded points may exceed the file; anything beyond this is a size field obeyed blindly
        let limit = 16 * self.file_len + (1 << 20);
        if largest > limit {
            self.failures.push(format!("{what}: allocated {largest} bytes at once (file {} bytes)", self.file_len));
        }
        match out {
            Ok(n) if n != self.valid_points && n != 0 => {
                // a corruption inside a chunk can still decode: LAZ has no checksums.
                // Point counts, though, come from the hierarchy and must hold.
                self.failures.push(format!("{what}: read {n} points instead of {} without an error", self.valid_points));
            }
            Ok(_) => {}
            Err(m) if m.starts_with("PANIC") => self.failures.push(format!("{what}: {m}")),
            Err(m) => {
                self.errors += 1;
                if !m.contains("corrupt.copc.laz") {
                    self.failures.push(format!("{what}: error does not name the file: {m}"));
                }
            }
        }
    }
}

fn put(b: &mut [u8], at: usize, v: &[u8]) {
    b[at..at + v.len()].copy_from_slice(v);
}

#[test]
fn corrupted_files_give_errors_not_panics() {
    let m = mini_copc::build(&Options { points: 3000, max_level: 2, page_level: 1, ..Default::default() });
    let good = m.bytes.clone();
    assert_eq!(read_all(&good), Ok(3000));
    { let t = std::time::Instant::now(); let r = Reader::from_source(Arc::new(MemorySource::new("x", good.clone())), &ReaderOptions { threads: Some(1), ..Default::default() }).unwrap(); println!("OPEN {:?}", t.elapsed()); r.hierarchy_summary().unwrap(); println!("HIER {:?}", t.elapsed()); let n: usize = r.points(&Query::new()).unwrap().map(|b| b.unwrap().len()).sum(); println!("POINTS {n} {:?}", t.elapsed()); }
    let mut c = Checker { file_len: good.len(), valid_points: 3000, failures: vec![], variants: 0, errors: 0 };
    let point_offset = u32::from_le_bytes(good[96..100].try_into().unwrap()) as usize;
    let evlr_start = u64::from_le_bytes(good[235..243].try_into().unwrap()) as usize;

    // truncated at every structure boundary
    let mut cuts = vec![0, 3, 4, 100, 226, 227, 374, 375, 428, 429, 500, 588, 589, 643, point_offset - 1, point_offset, point_offset + 8];
    for (o, s) in m.chunk_offsets.values() {
        cuts.extend([*o as usize, (*o + s / 2) as usize, (*o + s) as usize - 1]);
    }
    cuts.extend([evlr_start, evlr_start + 30, evlr_start + 60]);
    for (o, s) in &m.pages {
        cuts.extend([*o as usize, (*o + s / 2) as usize, (*o + s) as usize - 1]);
    }
    cuts.push(good.len() - 1);
    for cut in cuts {
        c.check(&format!("truncated at {cut}"), good[..cut].to_vec());
    }

    // header fields
    let header_edits: Vec<(&str, usize, Vec<u8>)> = vec![
        ("signature", 0, b"LASX".to_vec()),
        ("version 1.5", 25, vec![5]),
        ("version 2.4", 24, vec![2]),
        ("header size 100", 94, 100u16.to_le_bytes().to_vec()),
        ("header size 65535", 94, 65535u16.to_le_bytes().to_vec()),
        ("point offset 0", 96, 0u32.to_le_bytes().to_vec()),
        ("point offset past EOF", 96, (good.len() as u32 + 10).to_le_bytes().to_vec()),
        ("point offset u32::MAX", 96, u32::MAX.to_le_bytes().to_vec()),
        ("vlr count 2^31", 100, (1u32 << 31).to_le_bytes().to_vec()),
        ("vlr count 0", 100, 0u32.to_le_bytes().to_vec()),
        ("point format 3", 104, vec![0x83]),
        ("point format 11", 104, vec![0x8B]),
        ("uncompressed", 104, vec![6]),
        ("record length 0", 105, 0u16.to_le_bytes().to_vec()),
        ("record length 65535", 105, 65535u16.to_le_bytes().to_vec()),
        ("scale 0", 131, 0f64.to_le_bytes().to_vec()),
        ("scale NaN", 139, f64::NAN.to_le_bytes().to_vec()),
        ("offset inf", 155, f64::INFINITY.to_le_bytes().to_vec()),
        ("evlr start past EOF", 235, (good.len() as u64 + 1).to_le_bytes().to_vec()),
        ("evlr start 0", 235, 0u64.to_le_bytes().to_vec()),
        ("evlr count 2^31", 243, (1u32 << 31).to_le_bytes().to_vec()),
        ("point count 2^40", 247, (1u64 << 40).to_le_bytes().to_vec()),
        ("vlr length past point data", 375 + 20, 60000u16.to_le_bytes().to_vec()),
        ("info VLR renamed", 377, b"copx".to_vec()),
        ("info halfsize NaN", 429 + 24, f64::NAN.to_le_bytes().to_vec()),
        ("info halfsize inf", 429 + 24, f64::INFINITY.to_le_bytes().to_vec()),
        ("info halfsize 0", 429 + 24, 0f64.to_le_bytes().to_vec()),
        ("info halfsize -64", 429 + 24, (-64f64).to_le_bytes().to_vec()),
        ("info spacing 0", 429 + 32, 0f64.to_le_bytes().to_vec()),
        ("info center NaN", 429, f64::NAN.to_le_bytes().to_vec()),
        ("info root offset past EOF", 429 + 40, (good.len() as u64).to_le_bytes().to_vec()),
        ("info root offset u64::MAX", 429 + 40, u64::MAX.to_le_bytes().to_vec()),
        ("info root size 2^31", 429 + 48, (1u64 << 31).to_le_bytes().to_vec()),
        ("info root size 33", 429 + 48, 33u64.to_le_bytes().to_vec()),
        ("info root size 0", 429 + 48, 0u64.to_le_bytes().to_vec()),
        ("laz compressor 2", 643, 2u16.to_le_bytes().to_vec()),
        ("laz item count 5000", 643 + 32, 5000u16.to_le_bytes().to_vec()),
        ("chunk table offset garbage", point_offset, (-5i64).to_le_bytes().to_vec()),
    ];
    for (what, at, v) in header_edits {
        let mut b = good.clone();
        put(&mut b, at, &v);
        c.check(what, b);
    }

    // hierarchy entries, in every page
    for (pi, (po, ps)) in m.pages.iter().enumerate() {
        let (po, ps) = (*po as usize, *ps as usize);
        let n = ps / 32;
        for e in [0, n / 2, n - 1] {
            let at = po + e * 32;
            let edits: Vec<(&str, usize, Vec<u8>)> = vec![
                ("count 2^31-1", 28, i32::MAX.to_le_bytes().to_vec()),
                ("count -2", 28, (-2i32).to_le_bytes().to_vec()),
                ("size -1", 24, (-1i32).to_le_bytes().to_vec()),
                ("size 2^31-1", 24, i32::MAX.to_le_bytes().to_vec()),
                ("offset past EOF", 16, (good.len() as u64 + 100).to_le_bytes().to_vec()),
                ("offset u64::MAX", 16, u64::MAX.to_le_bytes().to_vec()),
                ("offset inside header", 16, 10u64.to_le_bytes().to_vec()),
                ("level 40", 0, 40i32.to_le_bytes().to_vec()),
                ("x -1", 4, (-1i32).to_le_bytes().to_vec()),
                ("x 2^30", 4, (1i32 << 30).to_le_bytes().to_vec()),
            ];
            for (what, off, v) in edits {
                let mut b = good.clone();
                put(&mut b, at + off, &v);
                c.check(&format!("page {pi} entry {e}: {what}"), b);
            }
            // self-referencing page: the entry points at its own page
            let mut b = good.clone();
            put(&mut b, at + 16, &(po as u64).to_le_bytes());
            put(&mut b, at + 24, &(ps as i32).to_le_bytes());
            put(&mut b, at + 28, &(-1i32).to_le_bytes());
            c.check(&format!("page {pi} entry {e}: points at its own page"), b);
        }
        if n >= 2 {
            let mut b = good.clone();
            b.copy_within(po..po + 32, po + 32);
            c.check(&format!("page {pi}: duplicate key"), b);
        }
    }
    // two child pages referencing each other
    if m.pages.len() >= 3 {
        let (a, b_) = (m.pages[1], m.pages[2]);
        let mut b = good.clone();
        let mut link = |from: (u64, u64), to: (u64, u64)| {
            let at = from.0 as usize + 32;
            put(&mut b, at + 16, &to.0.to_le_bytes());
            put(&mut b, at + 24, &(to.1 as i32).to_le_bytes());
            put(&mut b, at + 28, &(-1i32).to_le_bytes());
        };
        link(a, b_);
        link(b_, a);
        c.check("mutually referencing pages", b);
    }

    // chunk bytes garbled
    for (k, (o, s)) in m.chunk_offsets.iter().take(6) {
        let (o, s) = (*o as usize, *s as usize);
        let mut b = good.clone();
        for (i, x) in b[o..o + s].iter_mut().enumerate() {
            *x = (i as u8).wrapping_mul(151).wrapping_add(17);
        }
        c.check(&format!("chunk {k:?} garbled"), b);
        let mut b = good.clone();
        b[o..o + s].fill(0);
        c.check(&format!("chunk {k:?} zeroed"), b);
        let mut b = good.clone();
        put(&mut b, o + 30, &u32::MAX.to_le_bytes());
        c.check(&format!("chunk {k:?} point count field"), b);
        let mut b = good.clone();
        put(&mut b, o + 34, &u32::MAX.to_le_bytes());
        c.check(&format!("chunk {k:?} layer size field"), b);
    }

    assert!(c.failures.is_empty(), "{} of {} variants failed:\n{}", c.failures.len(), c.variants, c.failures.join("\n"));
    assert!(c.errors > c.variants / 2, "most variants must be rejected ({} of {})", c.errors, c.variants);
    println!("{} variants, {} rejected with an error", c.variants, c.errors);
}

#[test]
fn real_files_cut_at_every_kilobyte() {
    let Some(dir) = support::test_data("real_files_cut_at_every_kilobyte") else { return };
    for name in ["pdal_1.2-with-color.copc.laz", "laspy_simple_with_page.copc.laz", "lastools_example.copc.laz"] {
        let good = std::fs::read(dir.join(name)).unwrap();
        let n = Reader::open(dir.join(name)).unwrap().header().point_count;
        let mut c = Checker { file_len: good.len(), valid_points: n, failures: vec![], variants: 0, errors: 0 };
        for cut in (0..good.len()).step_by(1024).chain([good.len() - 1]) {
            c.check(&format!("{name} cut at {cut}"), good[..cut].to_vec());
        }
        assert!(c.failures.is_empty(), "{}", c.failures.join("\n"));
        assert_eq!(c.errors, c.variants, "{name}: every cut is an error");
    }
}
