//! The C ABI driven from Rust on COPC files built in the test (support/mini_copc.rs,
//! written straight on laz-rs): expected values come from the builder's own records,
//! never from the reader. The C and C++ tests (cpp-tests/) do the same on real files.

mod support;

use copc::ffi::*;
use std::ffi::{CStr, c_void};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicUsize, Ordering};
use support::mini_copc::{self, MiniCopc, Options, RECORD_LEN};

fn last_error() -> String {
    unsafe { CStr::from_ptr(copc_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

/// The bytes behind a `copc_io`, with counters.
struct Mem {
    data: Vec<u8>,
    reads: AtomicUsize,
    closes: AtomicUsize,
    /// Reads after this many fail (with code 7).
    fail_after: usize,
}

unsafe extern "C" fn mem_read(user: *mut c_void, offset: u64, buf: *mut u8, len: usize) -> i32 {
    let m = unsafe { &*(user as *const Mem) };
    if m.reads.fetch_add(1, Ordering::SeqCst) >= m.fail_after {
        return 7;
    }
    let (o, end) = (offset as usize, offset as usize + len);
    if end > m.data.len() {
        return 1;
    }
    unsafe { std::ptr::copy_nonoverlapping(m.data[o..end].as_ptr(), buf, len) };
    0
}

unsafe extern "C" fn mem_close(user: *mut c_void) {
    let m = unsafe { &*(user as *const Mem) };
    m.closes.fetch_add(1, Ordering::SeqCst);
}

fn mem(m: &MiniCopc) -> Box<Mem> {
    Box::new(Mem {
        data: m.bytes.clone(),
        reads: AtomicUsize::new(0),
        closes: AtomicUsize::new(0),
        fail_after: usize::MAX,
    })
}

fn make_io(size: u64, flags: u32) -> copc_io {
    copc_io {
        read: Some(mem_read),
        size,
        name: c"mem.copc.laz".as_ptr(),
        close: Some(mem_close),
        flags,
    }
}

fn open_io(mem: &Mem, flags: u32) -> *mut copc_reader {
    let io = make_io(mem.data.len() as u64, flags);
    let mut r = null_mut();
    let s = unsafe { copc_reader_open_io(&io, mem as *const Mem as *mut c_void, null(), &mut r) };
    assert_eq!(s, COPC_STATUS_OK, "{}", last_error());
    r
}

fn mini(page_level: i32) -> MiniCopc {
    mini_copc::build(&Options {
        points: 6000,
        max_level: 3,
        seed: 11,
        page_level,
        empty_interior: true,
        ..Default::default()
    })
}

/// One point as an array-of-structs row (what a C tool fills through strides).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, PartialOrd)]
struct Row {
    x: f64,
    y: f64,
    z: f64,
    gps: f64,
    intensity: u16,
    class: u8,
    ret: u8,
}

fn expected_row(m: &MiniCopc, r: &[u8]) -> Row {
    let p = m.xyz(r);
    Row {
        x: p[0],
        y: p[1],
        z: p[2],
        gps: f64::from_le_bytes(r[22..30].try_into().unwrap()),
        intensity: u16::from_le_bytes([r[12], r[13]]),
        class: r[16],
        ret: r[14] & 0x0F,
    }
}

fn row_columns(rows: &mut [Row]) -> Vec<copc_column> {
    let base = rows.as_mut_ptr();
    let stride = std::mem::size_of::<Row>();
    let col = |dim: copc_dim, field: *mut u8| copc_column {
        dim: dim as i32,
        data: field as *mut c_void,
        stride,
    };
    unsafe {
        vec![
            col(copc_dim::COPC_DIM_X, std::ptr::addr_of_mut!((*base).x) as *mut u8),
            col(copc_dim::COPC_DIM_Y, std::ptr::addr_of_mut!((*base).y) as *mut u8),
            col(copc_dim::COPC_DIM_Z, std::ptr::addr_of_mut!((*base).z) as *mut u8),
            col(
                copc_dim::COPC_DIM_GPS_TIME,
                std::ptr::addr_of_mut!((*base).gps) as *mut u8,
            ),
            col(
                copc_dim::COPC_DIM_INTENSITY,
                std::ptr::addr_of_mut!((*base).intensity) as *mut u8,
            ),
            col(copc_dim::COPC_DIM_CLASSIFICATION, std::ptr::addr_of_mut!((*base).class)),
            col(copc_dim::COPC_DIM_RETURN_NUMBER, std::ptr::addr_of_mut!((*base).ret)),
        ]
    }
}

fn sort_rows(v: &mut [Row]) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
}

/// Reads every point of a query through the iterator into rows, `cap` at a time.
fn read_rows(r: *mut copc_reader, q: *const copc_query, cap: usize) -> Vec<Row> {
    let mut it = null_mut();
    assert_eq!(
        unsafe { copc_reader_query_points(r, q, &mut it) },
        COPC_STATUS_OK,
        "{}",
        last_error()
    );
    let mut all = Vec::new();
    let mut rows = vec![Row::default(); cap];
    loop {
        let cols = row_columns(&mut rows);
        let mut n = usize::MAX;
        let s = unsafe { copc_point_iter_read(it, cols.as_ptr(), cols.len(), cap, &mut n) };
        assert_eq!(s, COPC_STATUS_OK, "{}", last_error());
        assert!(n <= cap);
        if n == 0 {
            break;
        }
        all.extend_from_slice(&rows[..n]);
    }
    unsafe { copc_point_iter_free(it) };
    all
}

#[test]
fn every_point_arrives_in_interleaved_columns() {
    for page_level in [0, 1] {
        let m = mini(page_level);
        let mem = mem(&m);
        let r = open_io(&mem, 0);
        for cap in [1, 333, 100_000] {
            let mut got = read_rows(r, null(), cap);
            let mut want: Vec<Row> = m
                .nodes
                .values()
                .flat_map(|n| n.chunks_exact(RECORD_LEN))
                .map(|p| expected_row(&m, p))
                .collect();
            assert_eq!(got.len(), 6000);
            sort_rows(&mut got);
            sort_rows(&mut want);
            assert!(got == want, "page level {page_level}, capacity {cap}: rows differ");
        }
        unsafe { copc_reader_free(r) };
        assert_eq!(mem.closes.load(Ordering::SeqCst), 1, "close runs once, at free");
    }
}

fn query(min: [f64; 3], max: [f64; 3], mask: Option<u64>) -> *mut copc_query {
    let mut q = null_mut();
    unsafe {
        assert_eq!(copc_query_new(&mut q), COPC_STATUS_OK);
        assert_eq!(copc_query_set_bounds(q, min.as_ptr(), max.as_ptr()), COPC_STATUS_OK);
        if let Some(mask) = mask {
            assert_eq!(copc_query_set_dims(q, mask), COPC_STATUS_OK);
        }
    }
    q
}

#[test]
fn box_queries_equal_a_brute_force_filter() {
    let m = mini(1);
    let mem = mem(&m);
    let r = open_io(&mem, COPC_IO_THREAD_SAFE);
    let boxes = [
        ([980.0, 1990.0, f64::NEG_INFINITY], [1010.0, 2030.0, f64::INFINITY]),
        ([950.0, 1950.0, 20.0], [1040.0, 2010.0, 60.0]),
        ([1000.0, 2000.0, 50.0], [1000.5, 2000.5, 50.5]),
        ([0.0, 0.0, 0.0], [1.0, 1.0, 1.0]),
    ];
    for (lo, hi) in boxes {
        let inside = |p: [f64; 3]| (0..3).all(|i| p[i] >= lo[i] && p[i] <= hi[i]);
        let mut want: Vec<Row> = m
            .nodes
            .values()
            .flat_map(|n| n.chunks_exact(RECORD_LEN))
            .filter(|p| inside(m.xyz(p)))
            .map(|p| expected_row(&m, p))
            .collect();
        let q = query(lo, hi, None);
        let mut got = read_rows(r, q, 500);
        sort_rows(&mut got);
        sort_rows(&mut want);
        assert!(
            got == want,
            "box {lo:?}..{hi:?}: {} points, expected {}",
            got.len(),
            want.len()
        );
        let mut count = 0u64;
        assert_eq!(unsafe { copc_reader_count(r, q, &mut count) }, COPC_STATUS_OK);
        assert_eq!(count, want.len() as u64);
        unsafe { copc_query_free(q) };
    }
    unsafe { copc_reader_free(r) };
}

/// Inside the triangle a, b, c (or on an edge): the signs of the three cross products agree.
fn in_triangle(p: [f64; 3], t: [[f64; 2]; 3]) -> bool {
    let cross = |a: [f64; 2], b: [f64; 2]| (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
    let d = [cross(t[0], t[1]), cross(t[1], t[2]), cross(t[2], t[0])];
    d.iter().all(|v| *v >= 0.0) || d.iter().all(|v| *v <= 0.0)
}

#[test]
fn polygon_queries_equal_a_brute_force_filter() {
    let m = mini(1);
    let mem = mem(&m);
    let r = open_io(&mem, 0);
    let t = [[950.0, 1950.0], [1050.0, 1990.0], [990.0, 2060.0]];
    let wkt = format!(
        "POLYGON(({} {}, {} {}, {} {}, {} {}))",
        t[0][0], t[0][1], t[1][0], t[1][1], t[2][0], t[2][1], t[0][0], t[0][1]
    );
    let geojson = format!(
        r#"{{"type":"Polygon","coordinates":[[[{},{}],[{},{}],[{},{}],[{},{}]]]}}"#,
        t[0][0], t[0][1], t[1][0], t[1][1], t[2][0], t[2][1], t[0][0], t[0][1]
    );
    let mut want: Vec<Row> = m
        .nodes
        .values()
        .flat_map(|n| n.chunks_exact(RECORD_LEN))
        .filter(|p| in_triangle(m.xyz(p), t))
        .map(|p| expected_row(&m, p))
        .collect();
    sort_rows(&mut want);
    assert!(want.len() > 100 && want.len() < 6000);
    for text in [wkt, geojson] {
        let c = std::ffi::CString::new(text.clone()).unwrap();
        let mut q = null_mut();
        unsafe {
            assert_eq!(copc_query_new(&mut q), COPC_STATUS_OK);
            assert_eq!(
                copc_query_set_polygon(q, c.as_ptr()),
                COPC_STATUS_OK,
                "{}",
                last_error()
            );
        }
        let mut got = read_rows(r, q, 700);
        sort_rows(&mut got);
        assert!(got == want, "{text}: {} points, expected {}", got.len(), want.len());
        unsafe { copc_query_free(q) };
    }
    let mut q = null_mut();
    unsafe {
        assert_eq!(copc_query_new(&mut q), COPC_STATUS_OK);
        assert_eq!(
            copc_query_set_polygon(q, c"POLYGON((0 0, 1 1))".as_ptr()),
            COPC_STATUS_INVALID_ARGUMENT
        );
        assert_eq!(
            copc_query_set_polygon(q, c"not a polygon".as_ptr()),
            COPC_STATUS_INVALID_ARGUMENT
        );
        assert_eq!(copc_query_set_polygon(q, null()), COPC_STATUS_NULL_ARGUMENT);
        copc_query_free(q);
        copc_reader_free(r);
    }
}

#[test]
fn dimension_masks_select_columns() {
    let m = mini(0);
    let mem = mem(&m);
    let r = open_io(&mem, 0);
    let bit = |d: copc_dim| 1u64 << d as i32;
    let q = query(
        [f64::NEG_INFINITY; 3],
        [f64::INFINITY; 3],
        Some(bit(copc_dim::COPC_DIM_X_RAW) | bit(copc_dim::COPC_DIM_INTENSITY)),
    );
    let mut it = null_mut();
    unsafe {
        assert_eq!(copc_reader_query_points(r, q, &mut it), COPC_STATUS_OK);
        let mut xr = vec![0i32; 7000];
        let mut inten = vec![0u16; 7000];
        let mut z = vec![0f64; 7000];
        let cols = [
            copc_column {
                dim: copc_dim::COPC_DIM_X_RAW as i32,
                data: xr.as_mut_ptr() as *mut c_void,
                stride: 0,
            },
            copc_column {
                dim: copc_dim::COPC_DIM_INTENSITY as i32,
                data: inten.as_mut_ptr() as *mut c_void,
                stride: 0,
            },
        ];
        let mut n = 42usize;
        let zcol = [copc_column {
            dim: copc_dim::COPC_DIM_Z as i32,
            data: z.as_mut_ptr() as *mut c_void,
            stride: 0,
        }];
        assert_eq!(
            copc_point_iter_read(it, zcol.as_ptr(), 1, 7000, &mut n),
            COPC_STATUS_INVALID_ARGUMENT
        );
        assert!(
            last_error().contains("not in the query's dimension mask"),
            "{}",
            last_error()
        );
        assert_eq!(n, 42, "out_count untouched on failure");
        assert_eq!(copc_point_iter_read(it, cols.as_ptr(), 2, 7000, &mut n), COPC_STATUS_OK);
        assert_eq!(n, 6000);
        let mut got: Vec<(i32, u16)> = xr[..n].iter().copied().zip(inten[..n].iter().copied()).collect();
        let mut want: Vec<(i32, u16)> = m
            .nodes
            .values()
            .flat_map(|n| n.chunks_exact(RECORD_LEN))
            .map(|p| {
                (
                    i32::from_le_bytes(p[0..4].try_into().unwrap()),
                    u16::from_le_bytes([p[12], p[13]]),
                )
            })
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want);
        assert_eq!(copc_point_iter_read(it, cols.as_ptr(), 2, 7000, &mut n), COPC_STATUS_OK);
        assert_eq!(n, 0, "then the iteration is over");
        copc_point_iter_free(it);
        copc_query_free(q);
        copc_reader_free(r);
    }
}

#[test]
fn bad_columns_are_refused() {
    let m = mini(0);
    let mem = mem(&m);
    let r = open_io(&mem, 0);
    let mut buf = vec![0f64; 16];
    let data = buf.as_mut_ptr() as *mut c_void;
    let mut it = null_mut();
    unsafe {
        assert_eq!(copc_reader_query_points(r, null(), &mut it), COPC_STATUS_OK);
        let mut n = 99usize;
        let check = |cols: &[copc_column], cap: usize, status: copc_status, n: &mut usize| {
            assert_eq!(
                copc_point_iter_read(it, cols.as_ptr(), cols.len(), cap, n),
                status,
                "{cols:?}: {}",
                last_error()
            );
            assert_eq!(*n, 99);
        };
        for dim in [-1, 25, 999, 1000, 2000, 3000, i32::MAX] {
            check(
                &[copc_column { dim, data, stride: 0 }],
                16,
                COPC_STATUS_INVALID_ARGUMENT,
                &mut n,
            );
        }
        check(
            &[copc_column {
                dim: 0,
                data,
                stride: 4,
            }],
            16,
            COPC_STATUS_INVALID_ARGUMENT,
            &mut n,
        );
        check(
            &[copc_column {
                dim: 0,
                data,
                stride: 0,
            }],
            0,
            COPC_STATUS_INVALID_ARGUMENT,
            &mut n,
        );
        check(
            &[copc_column {
                dim: 0,
                data: null_mut(),
                stride: 0,
            }],
            16,
            COPC_STATUS_NULL_ARGUMENT,
            &mut n,
        );
        check(
            &[copc_column {
                dim: 0,
                data,
                stride: usize::MAX / 2,
            }],
            16,
            COPC_STATUS_INVALID_ARGUMENT,
            &mut n,
        );
        assert_eq!(
            copc_point_iter_read(it, null(), 1, 16, &mut n),
            COPC_STATUS_NULL_ARGUMENT
        );
        // No columns: counts.
        let mut total = 0;
        loop {
            assert_eq!(copc_point_iter_read(it, null(), 0, 1000, &mut n), COPC_STATUS_OK);
            if n == 0 {
                break;
            }
            total += n;
        }
        assert_eq!(total, 6000);
        copc_point_iter_free(it);
        copc_reader_free(r);
    }
}

#[test]
fn nodes_and_read_node_match_the_built_octree() {
    let m = mini(1);
    let mem = mem(&m);
    let r = open_io(&mem, 0);
    unsafe {
        let mut it = null_mut();
        assert_eq!(copc_reader_nodes(r, null(), &mut it), COPC_STATUS_OK);
        let mut len = 0;
        assert_eq!(copc_node_iter_len(it, &mut len), COPC_STATUS_OK);
        let mut seen = Vec::new();
        loop {
            let mut node = std::mem::zeroed::<copc_node>();
            let mut has = false;
            assert_eq!(copc_node_iter_next(it, &mut node, &mut has), COPC_STATUS_OK);
            if !has {
                break;
            }
            let k = node.key;
            let key = (k.level, k.x, k.y, k.z);
            let recs = &m.nodes[&key];
            assert_eq!(node.point_count as usize, recs.len() / RECORD_LEN, "{key:?}");
            assert_eq!(
                Some(&(node.offset, node.byte_size as u64)),
                m.chunk_offsets.get(&key),
                "{key:?}"
            );
            let side = 2.0 * m.halfsize / (1 << k.level) as f64;
            let c = [k.x, k.y, k.z];
            for (a, &ca) in c.iter().enumerate() {
                let lo = m.center[a] - m.halfsize + ca as f64 * side;
                assert!(
                    (node.min[a] - lo).abs() < 1e-9 && (node.max[a] - (lo + side)).abs() < 1e-9,
                    "{key:?} cube"
                );
            }
            // read_node: X_RAW of every point, in stored order.
            let n = recs.len() / RECORD_LEN;
            let mut xr = vec![0i32; n];
            let col = copc_column {
                dim: copc_dim::COPC_DIM_X_RAW as i32,
                data: xr.as_mut_ptr() as *mut c_void,
                stride: 0,
            };
            let mut count = usize::MAX;
            assert_eq!(
                copc_reader_read_node(r, &k, &col, 1, n, &mut count),
                COPC_STATUS_OK,
                "{}",
                last_error()
            );
            assert_eq!(count, n);
            let want: Vec<i32> = recs
                .chunks_exact(RECORD_LEN)
                .map(|p| i32::from_le_bytes(p[0..4].try_into().unwrap()))
                .collect();
            assert_eq!(xr, want, "{key:?}");
            if n > 1 {
                let mut count = 77;
                assert_eq!(
                    copc_reader_read_node(r, &k, &col, 1, n - 1, &mut count),
                    COPC_STATUS_BUFFER_TOO_SMALL
                );
                assert!(last_error().contains(&format!("{n} points")), "{}", last_error());
                assert_eq!(count, 77);
            }
            seen.push(key);
        }
        copc_node_iter_free(it);
        assert_eq!(seen.len(), len);
        let mut want: Vec<_> = m.nodes.iter().filter(|(_, v)| !v.is_empty()).map(|(k, _)| *k).collect();
        want.sort();
        seen.sort();
        assert_eq!(seen, want);

        let missing = copc_node_key {
            level: 9,
            x: 0,
            y: 0,
            z: 0,
        };
        let mut x = [0f64; 4];
        let col = copc_column {
            dim: 0,
            data: x.as_mut_ptr() as *mut c_void,
            stride: 0,
        };
        let mut count = 5;
        assert_eq!(
            copc_reader_read_node(r, &missing, &col, 1, 4, &mut count),
            COPC_STATUS_INVALID_ARGUMENT
        );
        assert_eq!(
            copc_reader_read_node(r, null(), &col, 1, 4, &mut count),
            COPC_STATUS_NULL_ARGUMENT
        );
        assert_eq!(count, 5);
        copc_reader_free(r);
    }
}

#[test]
fn iterators_outlive_their_reader() {
    let m = mini(0);
    let mem = mem(&m);
    let r = open_io(&mem, 0);
    let mut it = null_mut();
    unsafe {
        assert_eq!(copc_reader_query_points(r, null(), &mut it), COPC_STATUS_OK);
        copc_reader_free(r);
        assert_eq!(
            mem.closes.load(Ordering::SeqCst),
            0,
            "the iterator still needs the source"
        );
        let mut n = 0;
        let mut total = 0;
        loop {
            assert_eq!(copc_point_iter_read(it, null(), 0, 4096, &mut n), COPC_STATUS_OK);
            if n == 0 {
                break;
            }
            total += n;
        }
        assert_eq!(total, 6000);
        copc_point_iter_free(it);
    }
    assert_eq!(mem.closes.load(Ordering::SeqCst), 1);
}

#[test]
fn callback_failures_come_back_as_io_errors() {
    let m = mini(0);
    // Fails at open: the message carries the callback's code; close still runs.
    let mut failing = mem(&m);
    failing.fail_after = 0;
    let io = make_io(failing.data.len() as u64, 0);
    let mut r = 0x11 as *mut copc_reader;
    let s = unsafe { copc_reader_open_io(&io, &*failing as *const Mem as *mut c_void, null(), &mut r) };
    assert_eq!(s, COPC_STATUS_IO);
    assert!(
        last_error().contains("mem.copc.laz") && last_error().contains("returned 7"),
        "{}",
        last_error()
    );
    assert_eq!(r, 0x11 as *mut copc_reader);
    assert_eq!(failing.closes.load(Ordering::SeqCst), 1, "close runs when open fails");

    // Fails while streaming: the error is returned, and again on every later read.
    let mut later = mem(&m);
    later.fail_after = 4;
    let r = open_io(&later, 0);
    let mut it = null_mut();
    unsafe {
        assert_eq!(
            copc_reader_query_points(r, null(), &mut it),
            COPC_STATUS_OK,
            "{}",
            last_error()
        );
        let mut n = 0;
        let mut statuses = Vec::new();
        for _ in 0..50 {
            let s = copc_point_iter_read(it, null(), 0, 100, &mut n);
            statuses.push(s);
            if s != COPC_STATUS_OK {
                assert!(last_error().contains("returned 7"), "{}", last_error());
            }
        }
        assert!(statuses.contains(&COPC_STATUS_IO), "{statuses:?}");
        let first = statuses.iter().position(|s| *s != COPC_STATUS_OK).unwrap();
        assert!(
            statuses[first..].iter().all(|s| *s == COPC_STATUS_IO),
            "after an error, only that error"
        );
        copc_point_iter_free(it);
        copc_reader_free(r);
    }

    // Without a read callback: NULL argument, and close runs.
    let no_read = mem(&m);
    let mut io2 = make_io(no_read.data.len() as u64, 0);
    io2.read = None;
    let mut r = null_mut();
    assert_eq!(
        unsafe { copc_reader_open_io(&io2, &*no_read as *const Mem as *mut c_void, null(), &mut r) },
        COPC_STATUS_NULL_ARGUMENT
    );
    assert_eq!(no_read.closes.load(Ordering::SeqCst), 1);
}

#[test]
fn one_reader_serves_many_threads() {
    let m = mini(1);
    for flags in [0, COPC_IO_THREAD_SAFE] {
        let mem = mem(&m);
        let r = open_io(&mem, flags);
        struct Shared(*mut copc_reader);
        unsafe impl Sync for Shared {}
        let shared = Shared(r);
        let want = m.sorted_records(|p| p[0] <= 1000.0).len() as u64;
        std::thread::scope(|s| {
            for _ in 0..4 {
                let shared = &shared;
                s.spawn(move || {
                    let q = query([f64::NEG_INFINITY; 3], [1000.0, f64::INFINITY, f64::INFINITY], None);
                    for _ in 0..3 {
                        let mut n = 0;
                        assert_eq!(unsafe { copc_reader_count(shared.0, q, &mut n) }, COPC_STATUS_OK);
                        assert_eq!(n, want);
                        let rows = read_rows(shared.0, q, 1000);
                        assert_eq!(rows.len() as u64, want);
                    }
                    unsafe { copc_query_free(q) };
                });
            }
        });
        unsafe { copc_reader_free(r) };
    }
}

#[test]
fn open_by_path_and_read_the_header() {
    let m = mini(0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mini.copc.laz");
    std::fs::write(&path, &m.bytes).unwrap();
    let cpath = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    unsafe {
        let mut o = null_mut();
        assert_eq!(copc_options_new(&mut o), COPC_STATUS_OK);
        assert_eq!(copc_options_set(o, c"threads".as_ptr(), c"2".as_ptr()), COPC_STATUS_OK);
        let mut r = null_mut();
        assert_eq!(
            copc_reader_open(cpath.as_ptr(), o, &mut r),
            COPC_STATUS_OK,
            "{}",
            last_error()
        );
        copc_options_free(o);
        let mut h: copc_header = std::mem::zeroed();
        assert_eq!(
            copc_reader_header(r, &mut h),
            COPC_STATUS_INVALID_ARGUMENT,
            "struct_size 0 is refused"
        );
        assert!(last_error().contains("struct_size"), "{}", last_error());
        h.struct_size = std::mem::size_of::<copc_header>() as u32;
        assert_eq!(copc_reader_header(r, &mut h), COPC_STATUS_OK);
        assert_eq!(
            (h.version_major, h.version_minor, h.point_format, h.point_record_length),
            (1, 4, 6, 30)
        );
        assert_eq!(h.point_count, 6000);
        assert_eq!(h.scale, [m.scale; 3]);
        assert_eq!(h.offset, m.offset);
        assert_eq!(h.center, m.center);
        assert_eq!((h.halfsize, h.spacing), (m.halfsize, m.spacing));
        assert_eq!(h.root_hier_offset, m.pages[0].0);
        assert_eq!(h.root_hier_size, m.pages[0].1);
        assert_eq!(
            h.struct_size as usize,
            std::mem::size_of::<copc_header>(),
            "struct_size is left as set"
        );
        let mut n = 9;
        assert_eq!(copc_reader_extra_dim_count(r, &mut n), COPC_STATUS_OK);
        assert_eq!(n, 0);
        let mut ed: copc_extra_dim = std::mem::zeroed();
        ed.struct_size = std::mem::size_of::<copc_extra_dim>() as u32;
        assert_eq!(copc_reader_extra_dim(r, 0, &mut ed), COPC_STATUS_INVALID_ARGUMENT);

        // Dimensions of format 6: no RGB, no NIR.
        let mut ids = [0i32; 64];
        assert_eq!(copc_reader_dims(r, null_mut(), 0, &mut n), COPC_STATUS_OK);
        assert_eq!(n, 21, "25 standard dimensions minus red, green, blue, nir");
        assert_eq!(
            copc_reader_dims(r, ids.as_mut_ptr(), 3, &mut n),
            COPC_STATUS_BUFFER_TOO_SMALL
        );
        assert_eq!(copc_reader_dims(r, ids.as_mut_ptr(), 64, &mut n), COPC_STATUS_OK);
        assert!(!ids[..n].contains(&(copc_dim::COPC_DIM_RED as i32)));
        let mut info: copc_dim_info = std::mem::zeroed();
        info.struct_size = std::mem::size_of::<copc_dim_info>() as u32;
        assert_eq!(
            copc_reader_dim_info(r, copc_dim::COPC_DIM_RED as i32, &mut info),
            COPC_STATUS_OK
        );
        assert!(!info.present);
        assert_eq!((info.value_type, info.size), (copc_type::COPC_TYPE_UINT16 as i32, 2));
        assert_eq!(CStr::from_ptr(info.name), c"red");
        assert_eq!(
            copc_reader_dim_info(r, copc_dim::COPC_DIM_SCAN_ANGLE as i32, &mut info),
            COPC_STATUS_OK
        );
        assert!(info.present);
        assert_eq!((info.value_type, info.size), (copc_type::COPC_TYPE_INT16 as i32, 2));
        assert_eq!(copc_reader_dim_info(r, 2000, &mut info), COPC_STATUS_INVALID_ARGUMENT);

        // The mini file has no WKT: NULL and no error.
        assert!(copc_reader_crs_wkt(r).is_null());
        assert_eq!(last_error(), "");
        let mut nv = 0;
        assert_eq!(copc_reader_vlr_count(r, &mut nv), COPC_STATUS_OK);
        assert!(nv >= 2, "info and laszip VLRs at least");
        let mut v: copc_vlr = std::mem::zeroed();
        v.struct_size = std::mem::size_of::<copc_vlr>() as u32;
        assert_eq!(copc_reader_vlr(r, 0, &mut v), COPC_STATUS_OK);
        assert_eq!(CStr::from_ptr(v.user_id.as_ptr()), c"copc");
        assert_eq!((v.record_id, v.data_len, v.data_offset), (1, 160, 429));
        let mut payload = [0u8; 160];
        let mut len = 0;
        assert_eq!(
            copc_reader_vlr_data(r, 0, payload.as_mut_ptr(), 159, &mut len),
            COPC_STATUS_BUFFER_TOO_SMALL
        );
        assert_eq!(
            copc_reader_vlr_data(r, 0, payload.as_mut_ptr(), 160, &mut len),
            COPC_STATUS_OK
        );
        assert_eq!(len, 160);
        assert_eq!(payload[..160], m.bytes[429..589]);
        assert_eq!(copc_reader_vlr(r, nv, &mut v), COPC_STATUS_INVALID_ARGUMENT);
        copc_reader_free(r);

        // Errors opening: a missing file, a file that is no COPC.
        let mut r2 = null_mut();
        let missing = std::ffi::CString::new(dir.path().join("nope.laz").to_str().unwrap()).unwrap();
        assert_eq!(copc_reader_open(missing.as_ptr(), null(), &mut r2), COPC_STATUS_IO);
        assert!(last_error().contains("nope.laz"), "{}", last_error());
        let junk = dir.path().join("junk.laz");
        std::fs::write(&junk, vec![7u8; 1000]).unwrap();
        let junk = std::ffi::CString::new(junk.to_str().unwrap()).unwrap();
        assert_eq!(copc_reader_open(junk.as_ptr(), null(), &mut r2), COPC_STATUS_FORMAT);
        assert!(r2.is_null());
    }
}

#[test]
fn writer_round_trip_and_states() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("w.copc.laz");
    let cout = std::ffi::CString::new(out.to_str().unwrap()).unwrap();
    let n = 12_345usize;
    // An array of structs, as a C tool would hold its points.
    let mut rows: Vec<Row> = (0..n)
        .map(|i| {
            let f = i as f64;
            Row {
                x: 1000.0 + (f * 0.731) % 90.0,
                y: 2000.0 + (f * 0.377) % 70.0,
                z: 10.0 + (f * 0.113) % 5.0,
                gps: 5e8 + f,
                intensity: (i * 5) as u16,
                class: (i % 9) as u8,
                ret: 1 + (i % 3) as u8,
            }
        })
        .map(|mut r| {
            for v in [&mut r.x, &mut r.y, &mut r.z] {
                *v = (*v * 100.0).round() / 100.0;
            }
            r
        })
        .collect();
    unsafe {
        let mut o = null_mut();
        assert_eq!(copc_options_new(&mut o), COPC_STATUS_OK);
        for (k, v) in [
            (c"scale", c"0.01"),
            (c"max_points_per_node", c"2000"),
            (c"a_srs", c"EPSG:32633"),
            (c"threads", c"2"),
        ] {
            assert_eq!(
                copc_options_set(o, k.as_ptr(), v.as_ptr()),
                COPC_STATUS_OK,
                "{k:?}: {}",
                last_error()
            );
        }
        assert_eq!(
            copc_options_set(o, c"point_format".as_ptr(), c"5".as_ptr()),
            COPC_STATUS_INVALID_ARGUMENT
        );
        assert_eq!(
            copc_options_set(o, c"memory_limit".as_ptr(), c"lots".as_ptr()),
            COPC_STATUS_INVALID_ARGUMENT
        );
        let mut w = null_mut();
        assert_eq!(
            copc_writer_create(cout.as_ptr(), o, &mut w),
            COPC_STATUS_OK,
            "{}",
            last_error()
        );
        let cols = row_columns(&mut rows);
        assert_eq!(
            copc_writer_add_points(w, cols.as_ptr(), cols.len(), 5000),
            COPC_STATUS_OK,
            "{}",
            last_error()
        );
        // The rest through moved pointers: the columns of rows 5000.. .
        let rest = row_columns(&mut rows[5000..]);
        assert_eq!(
            copc_writer_add_points(w, rest.as_ptr(), rest.len(), n - 5000),
            COPC_STATUS_OK
        );
        // Refusals add nothing.
        assert_eq!(
            copc_writer_add_points(w, cols.as_ptr(), 2, 10),
            COPC_STATUS_INVALID_ARGUMENT,
            "no Z"
        );
        assert!(last_error().contains("no z"), "{}", last_error());
        let bad = [copc_column {
            dim: 2000,
            data: rows.as_mut_ptr() as *mut c_void,
            stride: 0,
        }];
        assert_eq!(
            copc_writer_add_points(w, bad.as_ptr(), 1, 1),
            COPC_STATUS_INVALID_ARGUMENT
        );
        assert_eq!(copc_writer_add_points(w, null(), 1, 1), COPC_STATUS_NULL_ARGUMENT);
        assert_eq!(copc_writer_close(w), COPC_STATUS_OK, "{}", last_error());
        assert_eq!(copc_writer_close(w), COPC_STATUS_INVALID_STATE);
        assert_eq!(
            copc_writer_add_points(w, cols.as_ptr(), cols.len(), 1),
            COPC_STATUS_INVALID_STATE
        );
        copc_writer_free(w);

        // Read it back through the C API.
        let mut r = null_mut();
        assert_eq!(
            copc_reader_open(cout.as_ptr(), null(), &mut r),
            COPC_STATUS_OK,
            "{}",
            last_error()
        );
        let mut h: copc_header = std::mem::zeroed();
        h.struct_size = std::mem::size_of::<copc_header>() as u32;
        assert_eq!(copc_reader_header(r, &mut h), COPC_STATUS_OK);
        assert_eq!((h.point_count, h.point_format, h.scale), (n as u64, 6, [0.01; 3]));
        assert!(!copc_reader_crs_wkt(r).is_null(), "a_srs gives the file a WKT CRS");
        // Coordinates compared on the 0.01 grid (x*100 as a double may differ in the last bit).
        let grid = |mut r: Row| {
            for v in [&mut r.x, &mut r.y, &mut r.z] {
                *v = (*v * 100.0).round();
            }
            r
        };
        let mut got: Vec<Row> = read_rows(r, null(), 4096).into_iter().map(grid).collect();
        let mut want: Vec<Row> = rows.iter().copied().map(grid).collect();
        sort_rows(&mut got);
        sort_rows(&mut want);
        assert_eq!(got.len(), want.len());
        if let Some(i) = (0..got.len()).find(|&i| got[i] != want[i]) {
            panic!(
                "the points read back are not the points written: {:?} vs {:?}",
                got[i], want[i]
            );
        }
        let mut it = null_mut();
        assert_eq!(copc_reader_nodes(r, null(), &mut it), COPC_STATUS_OK);
        let mut nodes = 0;
        assert_eq!(copc_node_iter_len(it, &mut nodes), COPC_STATUS_OK);
        assert!(nodes > 1, "max_points_per_node 2000 splits 12345 points");
        copc_node_iter_free(it);
        copc_reader_free(r);

        // Free without close: nothing is left behind.
        let dropped = dir.path().join("dropped.copc.laz");
        let cdropped = std::ffi::CString::new(dropped.to_str().unwrap()).unwrap();
        let mut w = null_mut();
        assert_eq!(copc_writer_create(cdropped.as_ptr(), o, &mut w), COPC_STATUS_OK);
        assert_eq!(
            copc_writer_add_points(w, cols.as_ptr(), cols.len(), 100),
            COPC_STATUS_OK
        );
        copc_writer_free(w);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("w.copc.laz")]);
        // A folder that does not exist.
        let mut w2 = 0x77 as *mut copc_writer;
        assert_eq!(
            copc_writer_create(c"/no/such/folder/x.copc.laz".as_ptr(), o, &mut w2),
            COPC_STATUS_IO
        );
        assert_eq!(w2, 0x77 as *mut copc_writer);
        copc_options_free(o);
    }
}

#[test]
fn translate_rewrites_a_laz_file() {
    let m = mini(1);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.copc.laz");
    std::fs::write(&input, &m.bytes).unwrap();
    let output = dir.path().join("out.copc.laz");
    let cin = std::ffi::CString::new(input.to_str().unwrap()).unwrap();
    let cout = std::ffi::CString::new(output.to_str().unwrap()).unwrap();
    let inputs = [cin.as_ptr()];
    unsafe {
        assert_eq!(
            copc_translate(inputs.as_ptr(), 1, cout.as_ptr(), null()),
            COPC_STATUS_OK,
            "{}",
            last_error()
        );
        assert_eq!(
            copc_translate(inputs.as_ptr(), 0, cout.as_ptr(), null()),
            COPC_STATUS_INVALID_ARGUMENT
        );
        assert_eq!(
            copc_translate(null(), 1, cout.as_ptr(), null()),
            COPC_STATUS_NULL_ARGUMENT
        );
        let missing = [c"/no/such/input.laz".as_ptr()];
        assert_eq!(
            copc_translate(missing.as_ptr(), 1, cout.as_ptr(), null()),
            COPC_STATUS_IO
        );
        let mut r = null_mut();
        assert_eq!(copc_reader_open(cout.as_ptr(), null(), &mut r), COPC_STATUS_OK);
        let mut got = read_rows(r, null(), 10_000);
        let mut want: Vec<Row> = m
            .nodes
            .values()
            .flat_map(|n| n.chunks_exact(RECORD_LEN))
            .map(|p| expected_row(&m, p))
            .collect();
        sort_rows(&mut got);
        sort_rows(&mut want);
        assert!(got == want, "translate keeps every point");
        copc_reader_free(r);
    }
}
