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

/// Every test of this file holds it while it runs: a test measuring LARGEST must
/// not see the allocations of another running beside it (a CI run failed on that).
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// A small LAZ file from the sample generator.
fn sample_laz(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("in.laz");
    let opts = SampleOptions { points: 500, format: 6, compressed: true, ..Default::default() };
    write_sample(&path, &opts).unwrap();
    path
}

/// Where a LAZ file's chunk table starts: the u64 at the start of its point data.
fn chunk_table_at(b: &[u8]) -> usize {
    let point_data = u32_at(b, 96) as usize;
    u64::from_le_bytes(b[point_data..point_data + 8].try_into().unwrap()) as usize
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// Finding (writer target): a LAZ input whose chunk table declares 2^32 − 1 chunks
/// made laz-rs reserve 64 GiB before reading a single entry.
#[test]
fn writer_rejects_a_chunk_count_larger_than_the_file() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let input = sample_laz(dir.path());
    let mut bytes = std::fs::read(&input).unwrap();
    let table_at = chunk_table_at(&bytes);
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

/// Finding (node target), in laz-rs 0.13.0: a corrupt GPS-time layer made
/// `read_gps_time` switch sequences over and over, recursing once per switch, until
/// the stack overflowed (an abort, which `catch_unwind` cannot stop). The patched
/// laz (vendor/laz/PATCH.md) allows one switch per point, as encoders write, and
/// calls more corrupt data: an error naming the chunk. The 424-byte chunk of 12
/// format-7 points is `fuzzing::node_regressions()` (also a `node` seed).
#[test]
fn corrupt_gps_time_layer_is_an_error() {
    let _serial = serial();
    let e = decode_corrupt_gps_chunk(laz::DecompressionSelection::all()).expect_err("a corrupt GPS-time layer");
    let e = e.to_string();
    assert!(e.starts_with("gps.laz: node 0-0-0-0 (byte 0): LAZ chunk of 424 bytes does not decode"), "{e}");
    assert!(e.contains("more than once in a row") && e.contains("at most one switch per point"), "{e}");
}

/// The same chunk without GPS time in the selection (a query whose dims leave
/// `GpsTime` out) never decodes that layer; its other layers, garbled too, still
/// give an ordinary error naming the chunk.
#[test]
fn corrupt_gps_time_layer_is_skipped_when_gps_time_is_not_selected() {
    let _serial = serial();
    use laz::DecompressionSelection as S;
    let no_gps = S(S::ALL & !S::GPS_TIME);
    let e = decode_corrupt_gps_chunk(no_gps).expect_err("the other layers are garbled too").to_string();
    assert!(e.contains("gps.laz") && e.contains("does not decode"), "{e}");
    assert!(!e.contains("GPS time"), "{e}");
}

/// The 424-byte chunk of 12 format-7 points (finding 5) decoded with `selection`.
fn decode_corrupt_gps_chunk(selection: laz::DecompressionSelection) -> copc::Result<Vec<u8>> {
    use copc::fuzzing::{NodeInput, Params, node_regressions};
    use copc::reader::{ChunkAt, ChunkCodec};
    let regressions = node_regressions();
    let (_, input) = regressions.iter().find(|(name, _)| *name == "gps-sequence-switches").unwrap();
    let mut p = Params(input);
    let node = NodeInput::decode(&mut p);
    assert_eq!(p.rest().len(), 424, "the chunk after the 8-byte node header");
    assert_eq!((node.format, node.extra, node.points), (7, 0, 12));
    let items = laz::LazItemRecordBuilder::default_for_point_format_id(node.format, 0).unwrap();
    let codec = ChunkCodec::new(laz::LazVlr::from_laz_items(items), 3);
    let at = ChunkAt { source: "gps.laz", key: copc::VoxelKey::ROOT, offset: 0 };
    let mut out = Vec::new();
    codec.decode_into(p.rest(), 12, selection, &mut out, &at)?;
    Ok(out)
}

/// Every `node` regression input, run the way the `node` target runs it (its own
/// header's format, count and selection) and with every layer: an error or the
/// right number of records, never a panic or an abort.
#[test]
fn node_regressions_decode_or_fail_cleanly() {
    let _serial = serial();
    use copc::fuzzing::{NodeInput, Params, node_regressions};
    use copc::reader::{ChunkAt, ChunkCodec};
    for (name, input) in node_regressions() {
        let mut p = Params(&input);
        let node = NodeInput::decode(&mut p);
        let items = laz::LazItemRecordBuilder::default_for_point_format_id(node.format, node.extra as u16).unwrap();
        let codec = ChunkCodec::new(laz::LazVlr::from_laz_items(items), 3);
        let at = ChunkAt { source: name, key: copc::VoxelKey::ROOT, offset: 0 };
        for selection in [laz::DecompressionSelection(node.selection as u32), laz::DecompressionSelection::all()] {
            let mut out = Vec::new();
            if codec.decode_into(p.rest(), node.points as usize, selection, &mut out, &at).is_ok() {
                assert_eq!(out.len(), node.points as usize * codec.record_length, "{name}");
            }
        }
    }
}

/// Finding (open target): laz-rs sums the laszip VLR's item sizes in a u16, so item
/// sizes adding up past 65535 overflowed (a panic with overflow checks, a wrong
/// record length without them) while the reader checked them against the header.
#[test]
fn laz_item_sizes_past_u16_are_an_error() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let las = dir.path().join("in.laz");
    let opts = SampleOptions { points: 200, format: 7, compressed: true, ..Default::default() };
    write_sample(&las, &opts).unwrap();
    let out = dir.path().join("out.copc.laz");
    translate(&[&las], &out, &WriterOptions { threads: Some(1), ..Default::default() }).unwrap();
    let mut bytes = std::fs::read(&out).unwrap();
    // The laszip VLR: user id at header + 2, payload at header + 54; the item count
    // at payload + 32, then (type, size, version) per item. Format 7 has two items.
    let user_id = bytes.windows(14).position(|w| w == b"laszip encoded").unwrap();
    let payload = user_id - 2 + 54;
    assert_eq!(u16::from_le_bytes([bytes[payload + 32], bytes[payload + 33]]), 2);
    for item in 0..2 {
        let size = payload + 34 + 6 * item + 2;
        bytes[size..size + 2].copy_from_slice(&u16::MAX.to_le_bytes());
    }
    let src = std::sync::Arc::new(copc::MemorySource::new("items.copc.laz", bytes));
    let err = copc::Reader::from_source(src, &Default::default()).err().expect("item sizes of 2 x 65535 bytes");
    assert!(err.to_string().contains("describe 131070-byte records but the header says 36"), "{err}");
}

/// Finding (writer target): laz-rs's point-14 compressor subtracts GPS times as
/// i64 bit patterns with `-`, which overflows between a large positive time and a
/// tiny negative one (bit patterns near i64::MIN): a panic wherever overflow checks
/// are on (every debug build), which escaped the writer. It is now an error.
#[test]
fn chunk_compression_of_extreme_gps_times_does_not_panic() {
    let _serial = serial();
    let items = laz::LazItemRecordBuilder::default_for_point_format_id(6, 0).unwrap();
    let mut recs = vec![0u8; 64 * 30];
    for (i, rec) in recs.chunks_exact_mut(30).enumerate() {
        let t = if i % 2 == 0 { 1.0e9 + i as f64 } else { -5e-324 * i as f64 };
        rec[22..30].copy_from_slice(&t.to_le_bytes());
    }
    let run = std::panic::catch_unwind(|| copc::writer::octree::compress_chunk(&items, &recs));
    match run.expect("the chunk compressor panicked") {
        // Where laz-rs wraps (release builds) the chunk is fine.
        Ok(chunk) => assert!(!chunk.is_empty()),
        Err(e) => assert!(e.to_string().contains("cannot compress"), "{e}"),
    }
}

/// Finding (writer target, 2026-11-21): garbled entries of a LAZ input's chunk table
/// tripped an assertion inside laz-rs's arithmetic decoder (`sym < (1 << 16)` in
/// `read_short`) while the writer read the table, and that panic escaped `translate`
/// (the CLI said "internal error"). The table is now read like a chunk: a panic in
/// the decoder is an error naming the file and the table's offset. The assertion is a
/// debug one (release builds of laz-rs go on with a wrong value and fail later), so
/// this reproduces in builds with debug assertions, like the fuzzer's.
#[test]
fn writer_reports_a_garbled_chunk_table_as_an_error() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let input = sample_laz(dir.path());
    let good = std::fs::read(&input).unwrap();
    let point_data = u32_at(&good, 96) as usize;
    let table = chunk_table_at(&good);
    let mut rng = copc::sample::SplitMix64::new(11);
    for variant in 0..64 {
        let mut bytes = good.clone();
        // a plausible chunk count (at most one per byte of point data), garbled entries
        let count = 2 + rng.next_u64() % (table - point_data - 8) as u64;
        bytes[table + 4..table + 8].copy_from_slice(&(count as u32).to_le_bytes());
        bytes.truncate(table + 8);
        bytes.extend((0..4096).map(|_| rng.next_u64() as u8));
        std::fs::write(&input, &bytes).unwrap();
        let output = dir.path().join("out.copc.laz");
        let run = std::panic::catch_unwind(|| translate(&[&input], &output, &WriterOptions { threads: Some(1), ..Default::default() }));
        match run.unwrap_or_else(|_| panic!("variant {variant}: the writer panicked")) {
            Ok(_) => assert!(output.exists()),
            Err(e) => {
                assert!(e.to_string().contains("in.laz"), "variant {variant}: {e}");
                assert!(!output.exists());
            }
        }
        let _ = std::fs::remove_file(&output);
    }
}

/// Finding (writer target): a LAZ input chunk whose layer table declares a 2 GiB
/// layer made laz-rs allocate 2 GiB before reading it (out of memory). The writer
/// now checks the layer table against the chunk first, as the reader does.
#[test]
fn writer_rejects_a_layer_larger_than_its_chunk() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let input = sample_laz(dir.path());
    let mut bytes = std::fs::read(&input).unwrap();
    // The first chunk: the first point raw (30 bytes for format 6), the point count,
    // then the sizes of the 9 layers; the first layer claims 2 GiB.
    let chunk = u32_at(&bytes, 96) as usize + 8;
    let first_layer = chunk + 30 + 4;
    bytes[first_layer..first_layer + 4].copy_from_slice(&0x8000_0000u32.to_le_bytes());
    std::fs::write(&input, &bytes).unwrap();

    LARGEST.store(0, Ordering::Relaxed);
    let output = dir.path().join("out.copc.laz");
    let err = translate(&[&input], &output, &WriterOptions { threads: Some(1), ..Default::default() })
        .expect_err("a 2 GiB layer in a small chunk");
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(largest < 16 * bytes.len() + (1 << 20), "allocated {largest} bytes at once for a {}-byte file", bytes.len());
    assert!(err.to_string().contains("only"), "{err}");
    assert!(!output.exists());
}

/// A LAS 1.2, point format 0 file of the given raw X values (Y = Z = 0).
fn las_with_x(path: &std::path::Path, xs: &[i32], x_scale: f64, x_offset: f64) {
    let world: Vec<f64> = xs.iter().map(|&x| x as f64 * x_scale + x_offset).collect();
    let mut h = las::raw::Header {
        version: las::Version::new(1, 2),
        header_size: 227,
        offset_to_point_data: 227,
        point_data_record_format: 0,
        point_data_record_length: 20,
        number_of_point_records: xs.len() as u32,
        x_scale_factor: x_scale,
        y_scale_factor: 0.01,
        z_scale_factor: 0.01,
        x_offset,
        min_x: world.iter().cloned().fold(f64::INFINITY, f64::min),
        max_x: world.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
        ..Default::default()
    };
    h.number_of_points_by_return[0] = xs.len() as u32;
    let mut b = Vec::new();
    h.write_to(&mut b).unwrap();
    for &x in xs {
        let mut r = [0u8; 20];
        r[0..4].copy_from_slice(&x.to_le_bytes());
        r[14] = 0b0000_1001; // return 1 of 1
        b.extend_from_slice(&r);
    }
    std::fs::write(path, b).unwrap();
}

/// Finding (writer target): coordinates near −1.18e308 made the octree centre
/// (min + max) / 2 overflow to −inf, and the writer wrote a COPC file its own reader
/// refused. Now the centre is computed without overflow, and a cloud no finite cube
/// can hold is an error with no output.
#[test]
fn coordinates_near_the_f64_limit_give_a_finite_cube_or_an_error() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let opts = WriterOptions { threads: Some(1), ..Default::default() };

    let near = dir.path().join("near.las");
    las_with_x(&near, &[0, 1000, 2000], 0.001, -1.1797e308);
    let out = dir.path().join("near.copc.laz");
    let s = translate(&[&near], &out, &opts).unwrap();
    let r = copc::Reader::open(&out).unwrap();
    assert_eq!((s.points, r.header().point_count), (3, 3));
    let info = r.info();
    assert!(info.center.iter().all(|c| c.is_finite()) && info.halfsize.is_finite(), "{info:?}");
    assert_eq!(r.count(&copc::Query::new()).unwrap(), 3);

    // ±1.5e308: the cube's side would be 3e308, past f64::MAX
    let wide = dir.path().join("wide.las");
    las_with_x(&wide, &[i32::MIN + 1, i32::MAX], 7e298, 0.0);
    let out = dir.path().join("wide.copc.laz");
    let e = translate(&[&wide], &out, &opts).unwrap_err().detail();
    assert!(e.contains("no finite octree cube"), "{e}");
    assert!(!out.exists());
}
