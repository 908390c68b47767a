//! Hostile variants of a small COPC file: every structure truncated or corrupted on
//! purpose (header fields, VLR lengths and counts, info VLR values, hierarchy
//! entries and pages, chunk bytes). Shared by the local suite (reader_malformed.rs)
//! and the same family over HTTP (reader_hostile_http.rs).
//!
//! Include with `mod support; #[path = "support/hostile.rs"] mod hostile;`: it
//! installs a global allocator that records the largest single allocation.
#![allow(dead_code)]

use crate::support::mini_copc::MiniCopc;
use copc::{MemorySource, Query, Reader, ReaderOptions};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One corrupted file.
pub struct Variant {
    pub what: String,
    pub bytes: Vec<u8>,
    /// Chunk bytes changed: LAZ has no checksums, so a decode may "succeed" with other
    /// values. Only the point count must then hold. Every other variant must give
    /// exactly the original points, or an error.
    pub chunk_bytes: bool,
}

fn put(b: &mut [u8], at: usize, v: &[u8]) {
    b[at..at + v.len()].copy_from_slice(v);
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

struct List<'a> {
    good: &'a [u8],
    out: Vec<Variant>,
}

impl List<'_> {
    fn edit(&mut self, what: impl Into<String>, edits: &[(usize, Vec<u8>)]) {
        let mut b = self.good.to_vec();
        for (at, v) in edits {
            put(&mut b, *at, v);
        }
        self.out.push(Variant { what: what.into(), bytes: b, chunk_bytes: false });
    }
    fn raw(&mut self, what: impl Into<String>, bytes: Vec<u8>, chunk_bytes: bool) {
        self.out.push(Variant { what: what.into(), bytes, chunk_bytes });
    }
}

fn i32b(v: i32) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}
fn u64b(v: u64) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}
fn f64b(v: f64) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

/// Where a hierarchy entry with `key` sits (first match over the pages).
fn entry_at(m: &MiniCopc, key: (i32, i32, i32, i32)) -> Option<usize> {
    for (po, ps) in &m.pages {
        for e in 0..(*ps as usize / 32) {
            let at = *po as usize + e * 32;
            let k = |i: usize| i32::from_le_bytes(m.bytes[at + i * 4..at + i * 4 + 4].try_into().unwrap());
            if (k(0), k(1), k(2), k(3)) == key {
                return Some(at);
            }
        }
    }
    None
}

/// Every variant of `m` (built with page_level >= 1 so that child pages exist).
pub fn variants(m: &MiniCopc) -> Vec<Variant> {
    let good = &m.bytes[..];
    let mut l = List { good, out: Vec::new() };
    let point_offset = u32::from_le_bytes(good[96..100].try_into().unwrap()) as usize;
    let evlr_start = u64_at(good, 235) as usize;
    let len = good.len();

    // --- truncated at every structure boundary
    let mut cuts = vec![0, 3, 4, 100, 226, 227, 374, 375, 428, 429, 500, 588, 589, 643, point_offset - 1, point_offset, point_offset + 8];
    for (o, s) in m.chunk_offsets.values() {
        cuts.extend([*o as usize, (*o + s / 2) as usize, (*o + s) as usize - 1]);
    }
    cuts.extend([evlr_start, evlr_start + 30, evlr_start + 60]);
    for (o, s) in &m.pages {
        cuts.extend([*o as usize, (*o + s / 2) as usize, (*o + s) as usize - 1]);
    }
    cuts.push(len - 1);
    for cut in cuts {
        l.raw(format!("truncated at {cut}"), good[..cut].to_vec(), false);
    }

    // --- header fields
    let header: Vec<(&str, usize, Vec<u8>)> = vec![
        ("signature", 0, b"LASX".to_vec()),
        ("version 1.5", 25, vec![5]),
        ("version 2.4", 24, vec![2]),
        ("version 1.2", 25, vec![2]),
        ("header size 100", 94, 100u16.to_le_bytes().to_vec()),
        ("header size 376", 94, 376u16.to_le_bytes().to_vec()),
        ("header size 65535", 94, 65535u16.to_le_bytes().to_vec()),
        ("point offset 0", 96, 0u32.to_le_bytes().to_vec()),
        ("point offset -1", 96, (point_offset as u32 - 1).to_le_bytes().to_vec()),
        ("point offset past EOF", 96, (len as u32 + 10).to_le_bytes().to_vec()),
        ("point offset u32::MAX", 96, u32::MAX.to_le_bytes().to_vec()),
        ("vlr count 2^31", 100, (1u32 << 31).to_le_bytes().to_vec()),
        ("vlr count u32::MAX", 100, u32::MAX.to_le_bytes().to_vec()),
        ("vlr count 0", 100, 0u32.to_le_bytes().to_vec()),
        ("vlr count 1", 100, 1u32.to_le_bytes().to_vec()),
        ("vlr count 3 (runs into the points)", 100, 3u32.to_le_bytes().to_vec()),
        ("point format 3", 104, vec![0x83]),
        ("point format 11", 104, vec![0x8B]),
        ("point format 7 (record too short)", 104, vec![0x87]),
        ("uncompressed", 104, vec![6]),
        ("record length 0", 105, 0u16.to_le_bytes().to_vec()),
        ("record length 29", 105, 29u16.to_le_bytes().to_vec()),
        ("record length 65535", 105, 65535u16.to_le_bytes().to_vec()),
        ("legacy point count 1", 107, 1u32.to_le_bytes().to_vec()),
        ("scale 0", 131, f64b(0.0)),
        ("scale NaN", 139, f64b(f64::NAN)),
        ("scale -0.01", 147, f64b(-0.01)),
        ("scale 1e308", 131, f64b(1e308)),
        ("offset inf", 155, f64b(f64::INFINITY)),
        ("max x NaN", 179, f64b(f64::NAN)),
        ("min > max", 187, f64b(1e9)),
        ("evlr start past EOF", 235, u64b(len as u64 + 1)),
        ("evlr start u64::MAX", 235, u64b(u64::MAX)),
        ("evlr start 0", 235, u64b(0)),
        ("evlr start inside the points", 235, u64b(point_offset as u64 + 20)),
        ("evlr count 0", 243, 0u32.to_le_bytes().to_vec()),
        ("evlr count 2", 243, 2u32.to_le_bytes().to_vec()),
        ("evlr count 2^31", 243, (1u32 << 31).to_le_bytes().to_vec()),
        ("point count 2^40", 247, u64b(1 << 40)),
        ("point count u64::MAX", 247, u64b(u64::MAX)),
        ("point count 0", 247, u64b(0)),
        ("point count +1", 247, u64b(u64_at(good, 247) + 1)),
        ("points by return u64::MAX", 255, u64b(u64::MAX)),
    ];
    for (what, at, v) in header {
        l.edit(what, &[(at, v)]);
    }

    // --- VLR headers (info VLR at 375, payload at 429; laszip VLR after it)
    let laz_vlr = 429 + 160;
    let laz_len = u16::from_le_bytes([good[laz_vlr + 20], good[laz_vlr + 21]]);
    let vlrs: Vec<(&str, usize, Vec<u8>)> = vec![
        ("info VLR length past point data", 375 + 20, 60000u16.to_le_bytes().to_vec()),
        ("info VLR length 0", 375 + 20, 0u16.to_le_bytes().to_vec()),
        ("info VLR length 159", 375 + 20, 159u16.to_le_bytes().to_vec()),
        ("info VLR length 161", 375 + 20, 161u16.to_le_bytes().to_vec()),
        ("info VLR renamed", 377, b"copx".to_vec()),
        ("info VLR record id 2", 375 + 18, 2u16.to_le_bytes().to_vec()),
        ("laszip VLR length 0", laz_vlr + 20, 0u16.to_le_bytes().to_vec()),
        ("laszip VLR length 10", laz_vlr + 20, 10u16.to_le_bytes().to_vec()),
        ("laszip VLR length +1", laz_vlr + 20, (laz_len + 1).to_le_bytes().to_vec()),
        ("laszip VLR renamed", laz_vlr + 2, b"laszip encodeX".to_vec()),
        ("laz compressor 2", 643, 2u16.to_le_bytes().to_vec()),
        ("laz compressor 0", 643, 0u16.to_le_bytes().to_vec()),
        ("laz chunk size 1", 643 + 12, 1u32.to_le_bytes().to_vec()),
        ("laz item count 5000", 643 + 32, 5000u16.to_le_bytes().to_vec()),
        ("laz item count 0", 643 + 32, 0u16.to_le_bytes().to_vec()),
        ("laz first item type 99", 643 + 34, 99u16.to_le_bytes().to_vec()),
        ("laz first item size 60000", 643 + 36, 60000u16.to_le_bytes().to_vec()),
        ("chunk table offset garbage", point_offset, (-5i64).to_le_bytes().to_vec()),
        ("chunk table offset past EOF", point_offset, (len as i64 + 5).to_le_bytes().to_vec()),
        ("chunk table offset 0", point_offset, 0i64.to_le_bytes().to_vec()),
        // the hierarchy EVLR header: 60 bytes, length at +20
        ("hierarchy EVLR length u64::MAX", evlr_start + 20, u64b(u64::MAX)),
        ("hierarchy EVLR length past EOF", evlr_start + 20, u64b(len as u64)),
        ("hierarchy EVLR length 0", evlr_start + 20, u64b(0)),
        ("hierarchy EVLR renamed", evlr_start + 2, b"copx".to_vec()),
    ];
    for (what, at, v) in vlrs {
        l.edit(what, &[(at, v)]);
    }

    // --- info VLR values
    let info = 429;
    let infos: Vec<(&str, usize, Vec<u8>)> = vec![
        ("info halfsize NaN", info + 24, f64b(f64::NAN)),
        ("info halfsize inf", info + 24, f64b(f64::INFINITY)),
        ("info halfsize 0", info + 24, f64b(0.0)),
        ("info halfsize -64", info + 24, f64b(-64.0)),
        ("info halfsize 1e-300", info + 24, f64b(1e-300)),
        ("info halfsize 1e300", info + 24, f64b(1e300)),
        ("info spacing 0", info + 32, f64b(0.0)),
        ("info spacing NaN", info + 32, f64b(f64::NAN)),
        ("info spacing -1", info + 32, f64b(-1.0)),
        ("info spacing inf", info + 32, f64b(f64::INFINITY)),
        ("info center NaN", info, f64b(f64::NAN)),
        ("info center y inf", info + 8, f64b(f64::INFINITY)),
        ("info center z -inf", info + 16, f64b(f64::NEG_INFINITY)),
        ("info center 1e300", info, f64b(1e300)),
        ("info root offset past EOF", info + 40, u64b(len as u64)),
        ("info root offset u64::MAX", info + 40, u64b(u64::MAX)),
        ("info root offset 0", info + 40, u64b(0)),
        ("info root offset inside a chunk", info + 40, u64b(m.chunk_offsets.values().next().unwrap().0 + 3)),
        ("info root size 2^31", info + 48, u64b(1 << 31)),
        ("info root size u64::MAX", info + 48, u64b(u64::MAX)),
        ("info root size 33", info + 48, u64b(33)),
        ("info root size 31", info + 48, u64b(31)),
        ("info root size 0", info + 48, u64b(0)),
        ("info gpstime NaN", info + 56, f64b(f64::NAN)),
        ("info gpstime min > max", info + 56, f64b(1e12)),
    ];
    for (what, at, v) in infos {
        l.edit(what, &[(at, v)]);
    }

    // --- hierarchy entries, in every page
    for (pi, (po, ps)) in m.pages.iter().enumerate() {
        let (po, ps) = (*po as usize, *ps as usize);
        let n = ps / 32;
        for e in [0, n / 2, n - 1] {
            let at = po + e * 32;
            let level = i32::from_le_bytes(good[at..at + 4].try_into().unwrap());
            let count = i32::from_le_bytes(good[at + 28..at + 32].try_into().unwrap());
            let size = i32::from_le_bytes(good[at + 24..at + 28].try_into().unwrap());
            let edits: Vec<(String, usize, Vec<u8>)> = vec![
                ("count 2^31-1".into(), 28, i32b(i32::MAX)),
                ("count -2".into(), 28, i32b(-2)),
                ("count i32::MIN".into(), 28, i32b(i32::MIN)),
                ("count +1".into(), 28, i32b(count + 1)),
                ("count -1 (a page pointer)".into(), 28, i32b(-1)),
                ("size -1".into(), 24, i32b(-1)),
                ("size i32::MIN".into(), 24, i32b(i32::MIN)),
                ("size 0".into(), 24, i32b(0)),
                ("size 2^31-1".into(), 24, i32b(i32::MAX)),
                ("size halved (chunk truncated)".into(), 24, i32b(size / 2)),
                ("offset past EOF".into(), 16, u64b(len as u64 + 100)),
                ("offset u64::MAX".into(), 16, u64b(u64::MAX)),
                ("offset inside header".into(), 16, u64b(10)),
                ("offset on the chunk table".into(), 16, u64b(u64_at(good, point_offset))),
                ("offset on the hierarchy".into(), 16, u64b(po as u64)),
                ("level 40".into(), 0, i32b(40)),
                ("level -1".into(), 0, i32b(-1)),
                ("level i32::MAX".into(), 0, i32b(i32::MAX)),
                ("x -1".into(), 4, i32b(-1)),
                ("x 2^30".into(), 4, i32b(1 << 30)),
                (format!("y 2^{level} (outside its level)"), 8, i32b(1 << level.clamp(0, 30))),
                ("z i32::MIN".into(), 12, i32b(i32::MIN)),
            ];
            for (what, off, v) in edits {
                l.edit(format!("page {pi} entry {e}: {what}"), &[(at + off, v)]);
            }
            // self-referencing page: the entry points at its own page
            l.edit(
                format!("page {pi} entry {e}: points at its own page"),
                &[(at + 16, u64b(po as u64)), (at + 24, i32b(ps as i32)), (at + 28, i32b(-1))],
            );
        }
        if n >= 2 {
            let mut b = good.to_vec();
            b.copy_within(po..po + 32, po + 32);
            l.raw(format!("page {pi}: duplicate key"), b, false);
        }
    }

    // two child pages referencing each other
    if m.pages.len() >= 3 {
        let (a, b_) = (m.pages[1], m.pages[2]);
        let link = |from: (u64, u64), to: (u64, u64)| {
            let at = from.0 as usize + 32;
            vec![(at + 16, u64b(to.0)), (at + 24, i32b(to.1 as i32)), (at + 28, i32b(-1))]
        };
        let mut edits = link(a, b_);
        edits.extend(link(b_, a));
        l.edit("mutually referencing pages", &edits);
        // a page pointer whose size is not a whole number of entries, or negative
        let ptr = entry_at(m, (1, 0, 0, 0)).filter(|&at| good[at + 28..at + 32] == i32b(-1)[..]);
        if let Some(at) = ptr {
            for (what, size) in [("33", 33), ("0", 0), ("-32", -32), ("2^31-1", i32::MAX)] {
                l.edit(format!("page pointer size {what}"), &[(at + 24, i32b(size))]);
            }
            l.edit("page pointer past EOF", &[(at + 16, u64b(len as u64 + 64))]);
            l.edit("page pointer to a chunk", &[(at + 16, u64b(m.chunk_offsets.values().next().unwrap().0))]);
        }
    }

    // overlapping chunks: two nodes share bytes
    let data: Vec<_> = m.chunk_offsets.iter().collect();
    if data.len() >= 2 {
        let ((k1, (_, _)), (k2, (o2, s2))) = (data[0], data[1]);
        if let (Some(e1), Some(_)) = (entry_at(m, *k1), entry_at(m, *k2)) {
            l.edit("two entries, one chunk", &[(e1 + 16, u64b(*o2)), (e1 + 24, i32b(*s2 as i32))]);
            l.edit("a chunk starting inside another", &[(e1 + 16, u64b(o2 + 5)), (e1 + 24, i32b(*s2 as i32 - 5))]);
            l.edit("a chunk running into the next", &[(e1 + 24, i32b(*s2 as i32 * 3))]);
        }
        // a key outside its parent's page: a level-2 entry moved under another level-1 node
        if let Some((k, _)) = m.chunk_offsets.iter().find(|(k, _)| k.0 == 2) {
            if let Some(at) = entry_at(m, *k) {
                let flip = (k.1 ^ 2, k.2, k.3);
                l.edit("a key under the wrong parent", &[(at + 4, i32b(flip.0))]);
            }
        }
    }

    // --- chunk bytes garbled, zeroed, truncated
    for (k, (o, s)) in m.chunk_offsets.iter().take(6) {
        let (o, s) = (*o as usize, *s as usize);
        let mut b = good.to_vec();
        for (i, x) in b[o..o + s].iter_mut().enumerate() {
            *x = (i as u8).wrapping_mul(151).wrapping_add(17);
        }
        l.raw(format!("chunk {k:?} garbled"), b, true);
        let mut b = good.to_vec();
        b[o..o + s].fill(0);
        l.raw(format!("chunk {k:?} zeroed"), b, true);
        let mut b = good.to_vec();
        b[o..o + s].fill(0xFF);
        l.raw(format!("chunk {k:?} all ones"), b, true);
        let mut b = good.to_vec();
        put(&mut b, o + 30, &u32::MAX.to_le_bytes());
        l.raw(format!("chunk {k:?} point count field"), b, true);
        let mut b = good.to_vec();
        put(&mut b, o + 34, &u32::MAX.to_le_bytes());
        l.raw(format!("chunk {k:?} layer size field"), b, true);
        // the second half of the chunk replaced by the start of the file
        let mut b = good.to_vec();
        let h = s / 2;
        b.copy_within(0..s - h, o + h);
        l.raw(format!("chunk {k:?} second half overwritten"), b, true);
    }
    l.out
}

/// Records the largest single allocation.
struct Tracking;
static LARGEST: AtomicUsize = AtomicUsize::new(0);

/// Tests that check allocations hold this for their whole run: LARGEST is global, so
/// a test running beside another would see the other's allocations.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

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

/// What reading a file gave: the records (sorted) or the error message. Panics are
/// reported as Err("PANIC ...").
pub type Outcome = Result<Vec<Vec<u8>>, String>;

/// Opens `src` and reads everything a user would: hierarchy, CRS, every point, a count.
pub fn read_source(src: Arc<dyn copc::ByteSource>, opts: &ReaderOptions) -> Outcome {
    let run = || -> copc::Result<Vec<Vec<u8>>> {
        let r = Reader::from_source(src, opts)?;
        r.hierarchy_summary()?;
        r.crs_wkt()?;
        let rl = r.header().point_record_length as usize;
        let mut recs = Vec::new();
        for b in r.points(&Query::new())? {
            recs.extend(b?.records().chunks_exact(rl.max(1)).map(|r| r.to_vec()));
        }
        let c = r.cube();
        let q = Query::new().bounds(copc::Bounds::xy(c.center[0] - 1.0, c.center[1] - 1.0, c.center[0] + 5.0, c.center[1] + 5.0));
        r.count(&q)?;
        recs.sort();
        Ok(recs)
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(n)) => Ok(n),
        Ok(Err(e)) => Err(e.to_string()),
        Err(p) => Err(format!("PANIC {:?}", p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())))),
    }
}

pub fn read_all(bytes: &[u8]) -> Outcome {
    let src = Arc::new(MemorySource::new("corrupt.copc.laz", bytes.to_vec()));
    read_source(src, &ReaderOptions { threads: Some(1), ..Default::default() })
}

/// Aborts the process (naming the variant) when one variant runs longer than 60 s:
/// a hang is a failure, not a stuck CI job.
struct Watchdog {
    current: Arc<std::sync::Mutex<(String, std::time::Instant)>>,
}

impl Watchdog {
    fn start() -> Watchdog {
        let current = Arc::new(std::sync::Mutex::new((String::new(), std::time::Instant::now())));
        let c = current.clone();
        std::thread::spawn(move || loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
            let (what, since) = c.lock().unwrap().clone();
            if Arc::strong_count(&c) == 1 {
                return;
            }
            if since.elapsed().as_secs() > 60 {
                eprintln!("HANG: variant '{what}' ran for more than 60 s");
                std::process::abort();
            }
        });
        Watchdog { current }
    }
    fn enter(&self, what: &str) {
        *self.current.lock().unwrap() = (what.to_string(), std::time::Instant::now());
    }
}

pub struct Checker {
    file_len: usize,
    valid: Vec<Vec<u8>>,
    failures: Vec<String>,
    pub variants: usize,
    pub errors: usize,
    /// What an error message must name (the file or the URL).
    name: String,
    watchdog: Watchdog,
}

impl Checker {
    pub fn new(file_len: usize, valid: Vec<Vec<u8>>, name: &str) -> Checker {
        Checker { file_len, valid, failures: vec![], variants: 0, errors: 0, name: name.into(), watchdog: Watchdog::start() }
    }

    pub fn check(&mut self, what: &str, bytes: Vec<u8>) {
        self.check_with(what, false, || read_all(&bytes));
    }

    /// Runs `read`; `chunk_bytes`: the variant changed chunk bytes (only counts must hold).
    pub fn check_with(&mut self, what: &str, chunk_bytes: bool, read: impl FnOnce() -> Outcome) {
        self.variants += 1;
        self.watchdog.enter(what);
        LARGEST.store(0, Ordering::Relaxed);
        let out = read();
        let largest = LARGEST.load(Ordering::Relaxed);
        // decoded points may exceed the file; anything beyond this is a size field obeyed blindly
        let limit = 16 * self.file_len + (1 << 20);
        if largest > limit {
            self.failures.push(format!("{what}: allocated {largest} bytes at once (file {} bytes)", self.file_len));
        }
        match out {
            // LAZ has no checksums: garbled chunk bytes may decode to other values, but
            // the point count comes from the hierarchy and must hold
            Ok(recs) if chunk_bytes && recs.len() == self.valid.len() => {}
            Ok(recs) if recs != self.valid => {
                self.failures.push(format!("{what}: {} points, not the file's {}, without an error", recs.len(), self.valid.len()));
            }
            Ok(_) => {}
            Err(m) if m.starts_with("PANIC") => self.failures.push(format!("{what}: {m}")),
            Err(m) => {
                self.errors += 1;
                if !m.contains(&self.name) {
                    self.failures.push(format!("{what}: error does not name the file: {m}"));
                }
            }
        }
    }

    pub fn finish(self) {
        assert!(self.failures.is_empty(), "{} of {} variants failed:\n{}", self.failures.len(), self.variants, self.failures.join("\n"));
        assert!(self.errors > self.variants / 2, "most variants must be rejected ({} of {})", self.errors, self.variants);
        println!("{} variants, {} rejected with an error, the rest read correctly", self.variants, self.errors);
    }
}

