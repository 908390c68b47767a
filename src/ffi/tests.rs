//! Unit tests of the C ABI's own rules (ids, statuses, header, boundary, NULLs).
//! Reading files through the C ABI is tested in tests/ffi.rs and cpp-tests/.

use super::dims::{STANDARD_NAMES, all_dims};
use super::*;
use crate::Dimension;
use std::ffi::CStr;
use std::ptr::{null, null_mut};

fn last_error() -> String {
    unsafe { CStr::from_ptr(copc_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

#[test]
fn dim_ids_are_the_rust_ids() {
    let all = all_dims();
    assert_eq!(
        all.len(),
        Dimension::STANDARD.len(),
        "every standard dimension has a copc_dim"
    );
    for (i, (c, d)) in all.iter().enumerate() {
        assert_eq!(*c as i32 as u32, d.id(), "{c:?}");
        assert_eq!(i as u32, d.id(), "copc_dim values are dense, in STANDARD order");
        assert_eq!(STANDARD_NAMES[i].to_str().unwrap(), d.name());
        let name = format!("{c:?}").trim_start_matches("COPC_DIM_").to_ascii_lowercase();
        assert_eq!(
            Dimension::from_name(&name),
            Some(*d),
            "{c:?} is named after its dimension"
        );
    }
    assert_eq!(copc_dim::COPC_DIM_X as i32, 0);
    assert_eq!(copc_dim::COPC_DIM_Y as i32, 1);
    assert_eq!(copc_dim::COPC_DIM_Z as i32, 2);
    assert_eq!(copc_dim::COPC_DIM_EXTRA_DOUBLE_BASE as u32, Dimension::EXTRA_ID_BASE);
    assert_eq!(copc_dim::COPC_DIM_EXTRA_BASE as u32, Dimension::EXTRA_RAW_ID_BASE);
    assert_eq!(
        dims::COPC_DIM_MASK_ALL,
        ((1u64 << Dimension::STANDARD.len()) - 1) | dims::COPC_DIM_MASK_EXTRA
    );
    assert_eq!(dims::COPC_DIM_MASK_EXTRA, 1u64 << 63);
}

#[test]
fn type_ids_are_the_las_extra_bytes_codes() {
    use crate::format::extra_bytes::parse_extra_bytes;
    use crate::format::point::DimType;
    for code in 1u8..=10 {
        let mut d = vec![0u8; 192];
        d[2] = code;
        d[4] = b'a';
        let eb = &parse_extra_bytes(&d, 8).unwrap()[0];
        assert_eq!(
            copc_type::from(DimType::of_extra(eb.scalar)) as i32,
            code as i32,
            "LAS data type {code}"
        );
    }
}

#[test]
fn statuses_are_distinct_and_described() {
    let all = status::ALL;
    for (i, (s, d)) in all.iter().enumerate() {
        assert_eq!(*s, i as i32, "statuses are numbered 0, 1, 2... with no gap");
        assert_eq!(unsafe { CStr::from_ptr(copc_status_str(*s)) }, *d);
        assert!(all.iter().filter(|(_, e)| e == d).count() == 1, "{d:?} is unique");
    }
    for bad in [-1, 11, 1000, i32::MIN] {
        assert_eq!(unsafe { CStr::from_ptr(copc_status_str(bad)) }, c"unknown status");
    }
    // The numbers are ABI: they must never change.
    assert_eq!(
        [
            COPC_STATUS_OK,
            COPC_STATUS_INVALID_ARGUMENT,
            COPC_STATUS_NULL_ARGUMENT,
            COPC_STATUS_BUFFER_TOO_SMALL,
            COPC_STATUS_IO
        ],
        [0, 1, 2, 3, 4]
    );
    assert_eq!(
        [
            COPC_STATUS_FORMAT,
            COPC_STATUS_UNSUPPORTED,
            COPC_STATUS_HTTP,
            COPC_STATUS_INVALID_STATE,
            COPC_STATUS_PANIC,
            COPC_STATUS_CANCELLED
        ],
        [5, 6, 7, 8, 9, 10]
    );
}

fn header_in_tree() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/include/copc.h");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn committed_header_equals_the_generated_one() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/copc.h"));
    let committed = header_in_tree();
    if generated != committed {
        let line = generated
            .lines()
            .zip(committed.lines())
            .position(|(a, b)| a != b)
            .map(|i| i + 1);
        panic!(
            "include/copc.h differs from the header cbindgen generates from src/ffi (first difference at line {line:?}).\n\
             Regenerate it with:  COPC_UPDATE_HEADER=1 cargo build  (then commit include/copc.h)"
        );
    }
}

#[test]
fn version_macros_match_cargo_and_the_runtime() {
    let h = header_in_tree();
    let def = |name: &str| {
        h.lines()
            .find_map(|l| l.strip_prefix(&format!("#define {name} ")))
            .unwrap_or_else(|| panic!("{name} missing from copc.h"))
            .to_string()
    };
    assert_eq!(def("COPC_VERSION_MAJOR"), env!("CARGO_PKG_VERSION_MAJOR"));
    assert_eq!(def("COPC_VERSION_MINOR"), env!("CARGO_PKG_VERSION_MINOR"));
    assert_eq!(def("COPC_VERSION_PATCH"), env!("CARGO_PKG_VERSION_PATCH"));
    assert_eq!(def("COPC_VERSION_STRING"), format!("\"{}\"", env!("CARGO_PKG_VERSION")));
    let s = unsafe { CStr::from_ptr(copc_version_string()) }.to_str().unwrap();
    assert_eq!(s, env!("CARGO_PKG_VERSION"));
    let n = copc_version_number();
    let parts: Vec<u32> = s.split('.').map(|p| p.parse().unwrap()).collect();
    assert_eq!(n, (parts[0] << 16) | (parts[1] << 8) | parts[2]);
}

#[test]
fn a_panic_becomes_a_status_and_the_thread_goes_on() {
    unsafe {
        let mut o = null_mut();
        assert_eq!(copc_options_new(&mut o), COPC_STATUS_OK);
        assert_eq!(
            copc_options_set(o, c"test_panic".as_ptr(), c"1".as_ptr()),
            COPC_STATUS_PANIC
        );
        assert!(
            last_error().contains("copc_options_set") && last_error().contains("panic"),
            "{}",
            last_error()
        );
        // The library still works on this thread.
        assert_eq!(copc_options_set(o, c"threads".as_ptr(), c"2".as_ptr()), COPC_STATUS_OK);
        assert_eq!(last_error(), "", "a successful call clears the message");
        copc_options_free(o);
    }
}

#[test]
fn null_arguments_are_refused_and_outputs_untouched() {
    unsafe {
        let sentinel = 0x5a5a as *mut copc_reader;
        let mut r = sentinel;
        assert_eq!(copc_reader_open(null(), null(), &mut r), COPC_STATUS_NULL_ARGUMENT);
        assert!(last_error().contains("source is NULL"), "{}", last_error());
        assert_eq!(r, sentinel);
        assert_eq!(
            copc_reader_open(c"x.laz".as_ptr(), null(), null_mut()),
            COPC_STATUS_NULL_ARGUMENT
        );
        assert_eq!(
            copc_reader_open_io(null(), null_mut(), null(), &mut r),
            COPC_STATUS_NULL_ARGUMENT
        );
        assert_eq!(r, sentinel);
        assert_eq!(copc_options_new(null_mut()), COPC_STATUS_NULL_ARGUMENT);
        assert_eq!(
            copc_options_set(null_mut(), c"threads".as_ptr(), c"1".as_ptr()),
            COPC_STATUS_NULL_ARGUMENT
        );
        assert_eq!(copc_query_new(null_mut()), COPC_STATUS_NULL_ARGUMENT);
        assert_eq!(copc_query_set_resolution(null_mut(), 1.0), COPC_STATUS_NULL_ARGUMENT);
        let mut n = 7usize;
        assert_eq!(copc_reader_extra_dim_count(null(), &mut n), COPC_STATUS_NULL_ARGUMENT);
        assert_eq!(n, 7);
        assert_eq!(copc_reader_header(null(), null_mut()), COPC_STATUS_NULL_ARGUMENT);
        assert_eq!(
            copc_point_iter_read(null_mut(), null(), 0, 1, &mut n),
            COPC_STATUS_NULL_ARGUMENT
        );
        let mut has = true;
        assert_eq!(
            copc_node_iter_next(null_mut(), null_mut(), &mut has),
            COPC_STATUS_NULL_ARGUMENT
        );
        assert!(copc_reader_crs_wkt(null()).is_null());
        // Frees of NULL do nothing.
        copc_reader_free(null_mut());
        copc_options_free(null_mut());
        copc_query_free(null_mut());
        copc_node_iter_free(null_mut());
        copc_point_iter_free(null_mut());
        copc_writer_free(null_mut());
        let mut w = 0x33 as *mut copc_writer;
        assert_eq!(copc_writer_create(null(), null(), &mut w), COPC_STATUS_NULL_ARGUMENT);
        assert_eq!(w, 0x33 as *mut copc_writer);
        assert_eq!(
            copc_writer_add_points(null_mut(), null(), 0, 0),
            COPC_STATUS_NULL_ARGUMENT
        );
        assert_eq!(copc_writer_close(null_mut()), COPC_STATUS_NULL_ARGUMENT);
        assert_eq!(copc_translate(null(), 0, null(), null()), COPC_STATUS_NULL_ARGUMENT);
    }
}

#[test]
fn options_check_keys_and_values() {
    unsafe {
        let mut o = null_mut();
        assert_eq!(copc_options_new(&mut o), COPC_STATUS_OK);
        let set = |k: &CStr, v: &CStr| copc_options_set(o, k.as_ptr(), v.as_ptr());
        for (k, v) in [
            (c"threads", c"0"),
            (c"threads", c"3"),
            (c"http_header", c"Authorization: Bearer x:y"),
            (c"http_header", c"X-Two: 2"),
            (c"http_retries", c"0"),
            (c"http_timeout_ms", c"1500"),
            (c"http_connect_timeout_ms", c"20"),
            (c"requests", c"4"),
            (c"memory_limit", c"512M"),
            (c"temp_dir", c"/tmp"),
            (c"temp_compression", c"zstd"),
            (c"scale", c"0.01"),
            (c"offset", c"auto"),
            (c"offset", c"1,2,3"),
            (c"a_srs", c"EPSG:4326"),
            (c"max_points_per_node", c"5000"),
            (c"point_format", c"7"),
        ] {
            assert_eq!(set(k, v), COPC_STATUS_OK, "{k:?}={v:?}: {}", last_error());
        }
        let ro = &(*o).reader;
        assert_eq!(ro.threads, Some(3));
        assert_eq!(
            ro.http.headers,
            vec![
                ("Authorization".to_string(), "Bearer x:y".to_string()),
                ("X-Two".to_string(), "2".to_string())
            ]
        );
        assert_eq!((ro.http.max_retries, ro.http.concurrency), (0, 4));
        assert_eq!(ro.http.timeout, std::time::Duration::from_millis(1500));
        let wo = &(*o).writer;
        assert_eq!(
            (wo.threads, wo.memory_limit, wo.scale),
            (Some(3), Some(512 << 20), Some([0.01; 3]))
        );
        assert_eq!(wo.offset, Some(crate::writer::OffsetOption::Value([1.0, 2.0, 3.0])));
        assert_eq!(wo.temp_compression, crate::writer::TempCompression::Zstd);
        assert_eq!(
            (wo.a_srs.as_deref(), wo.max_points_per_node, (*o).point_format),
            (Some("EPSG:4326"), 5000, Some(7))
        );
        for (k, v) in [
            (c"thread", c"1"),
            (c"threads", c"-1"),
            (c"threads", c"many"),
            (c"http_header", c"no colon"),
            (c"http_header", c": empty name"),
            (c"http_timeout_ms", c"0"),
            (c"requests", c"0"),
            (c"http_retries", c"1.5"),
            (c"memory_limit", c"12X"),
            (c"temp_compression", c"gzip"),
            (c"scale", c"0"),
            (c"scale", c"1,2"),
            (c"offset", c"1,2"),
            (c"a_srs", c" "),
            (c"a_srs", c"EPSG:abc"),
            (c"a_srs", c"not a CRS"),
            (c"max_points_per_node", c"0"),
            (c"point_format", c"3"),
            (c"point_format", c"9"),
        ] {
            assert_eq!(set(k, v), COPC_STATUS_INVALID_ARGUMENT, "{k:?}={v:?}");
            assert!(last_error().starts_with("copc_options_set: "), "{}", last_error());
        }
        assert_eq!((*o).reader.threads, Some(3), "a refused value changes nothing");
        let bad_utf8 = [b'k', 0xff, 0];
        assert_eq!(
            copc_options_set(o, bad_utf8.as_ptr() as *const _, c"1".as_ptr()),
            COPC_STATUS_INVALID_ARGUMENT
        );
        copc_options_free(o);
    }
}

#[test]
fn query_setters_check_values() {
    unsafe {
        let mut q = null_mut();
        assert_eq!(copc_query_new(&mut q), COPC_STATUS_OK);
        let (lo, hi) = ([0.0, 0.0, f64::NEG_INFINITY], [1.0, 1.0, f64::INFINITY]);
        assert_eq!(copc_query_set_bounds(q, lo.as_ptr(), hi.as_ptr()), COPC_STATUS_OK);
        assert_eq!(
            copc_query_set_bounds(q, hi.as_ptr(), lo.as_ptr()),
            COPC_STATUS_INVALID_ARGUMENT
        );
        let nan = [f64::NAN, 0.0, 0.0];
        assert_eq!(
            copc_query_set_bounds(q, nan.as_ptr(), hi.as_ptr()),
            COPC_STATUS_INVALID_ARGUMENT
        );
        assert_eq!(copc_query_set_bounds(q, null(), hi.as_ptr()), COPC_STATUS_NULL_ARGUMENT);
        assert_eq!((*q).query.bounds.unwrap().max[0], 1.0, "refused bounds change nothing");
        for r in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(copc_query_set_resolution(q, r), COPC_STATUS_INVALID_ARGUMENT, "{r}");
        }
        assert_eq!(copc_query_set_max_depth(q, -1), COPC_STATUS_INVALID_ARGUMENT);
        assert_eq!(copc_query_set_min_depth(q, -1), COPC_STATUS_INVALID_ARGUMENT);
        assert_eq!(copc_query_set_max_depth(q, 2), COPC_STATUS_OK);
        assert_eq!(copc_query_set_dims(q, 0), COPC_STATUS_INVALID_ARGUMENT);
        assert_eq!(copc_query_set_dims(q, 1 << 25), COPC_STATUS_INVALID_ARGUMENT);
        assert_eq!(copc_query_set_dims(q, 1 << 62), COPC_STATUS_INVALID_ARGUMENT);
        assert_eq!(
            copc_query_set_dims(q, 0b111 | dims::COPC_DIM_MASK_EXTRA),
            COPC_STATUS_OK
        );
        assert_eq!(
            dims::mask_dims((*q).mask.unwrap(), 2),
            vec![
                Dimension::X,
                Dimension::Y,
                Dimension::Z,
                Dimension::ExtraRaw(0),
                Dimension::ExtraRaw(1)
            ]
        );
        copc_query_free(q);
    }
}

#[test]
fn versioned_structs_write_what_the_caller_has_room_for() {
    #[repr(C)]
    #[derive(Clone, Copy, PartialEq, Debug)]
    struct V {
        struct_size: u32,
        a: u32,
        b: u64,
        c: u64,
    }
    let value = V {
        struct_size: 0,
        a: 1,
        b: 2,
        c: 3,
    };
    // An older caller knows only `a` and `b`: `c` stays as it was.
    let mut out = V {
        struct_size: 16,
        a: 9,
        b: 9,
        c: 9,
    };
    unsafe { write_versioned(&mut out, &value, "V").unwrap() };
    assert_eq!(
        out,
        V {
            struct_size: 16,
            a: 1,
            b: 2,
            c: 9
        }
    );
    let mut out = V {
        struct_size: 24,
        a: 9,
        b: 9,
        c: 9,
    };
    unsafe { write_versioned(&mut out, &value, "V").unwrap() };
    assert_eq!(
        out,
        V {
            struct_size: 24,
            a: 1,
            b: 2,
            c: 3
        }
    );
    // A newer caller's longer struct: everything we know is written, nothing beyond.
    let mut big = [9u64; 5];
    big[0] = 40;
    unsafe { write_versioned(big.as_mut_ptr() as *mut V, &value, "V").unwrap() };
    assert_eq!(big[3..], [9, 9]);
    let mut zero = V {
        struct_size: 0,
        a: 9,
        b: 9,
        c: 9,
    };
    let e = unsafe { write_versioned(&mut zero, &value, "V") }.unwrap_err();
    assert_eq!(e.status, COPC_STATUS_INVALID_ARGUMENT);
    assert_eq!(zero.a, 9);
}

#[test]
fn the_last_error_is_per_thread() {
    unsafe {
        let mut o = null_mut();
        assert_eq!(copc_options_new(&mut o), COPC_STATUS_OK);
        assert_eq!(
            copc_options_set(o, c"nope".as_ptr(), c"1".as_ptr()),
            COPC_STATUS_INVALID_ARGUMENT
        );
        let mine = last_error();
        assert!(mine.contains("unknown option 'nope'"), "{mine}");
        std::thread::spawn(|| assert_eq!(last_error(), "")).join().unwrap();
        assert_eq!(last_error(), mine);
        copc_options_free(o);
    }
}

/// Writes points with two declared extra dimensions through the C ABI, then reads them
/// back: values survive bit for bit, and `copc_point_iter_read_node` names each point
/// of a box query by (node, position) so that `copc_reader_read_node` finds the very
/// same point again (checked against a brute-force filter of all points).
#[test]
fn extra_dims_are_written_and_points_keep_their_node_positions() {
    use std::collections::BTreeMap;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("eb.copc.laz");
    let cpath = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    let n = 5000usize;
    let x: Vec<f64> = (0..n).map(|i| ((i * 37) % 1000) as f64 * 0.01).collect();
    let y: Vec<f64> = (0..n).map(|i| ((i * 91) % 1000) as f64 * 0.01).collect();
    let z: Vec<f64> = (0..n).map(|i| (i % 50) as f64 * 0.1).collect();
    let amp: Vec<u16> = (0..n).map(|i| (i * 13) as u16).collect();
    let dev: Vec<f64> = (0..n).map(|i| i as f64 * 0.25 - 7.0).collect();
    unsafe {
        let mut o = null_mut();
        assert_eq!(copc_options_new(&mut o), COPC_STATUS_OK);
        assert_eq!(copc_options_set(o, c"max_points_per_node".as_ptr(), c"500".as_ptr()), COPC_STATUS_OK);
        assert_eq!(copc_options_set(o, c"scale".as_ptr(), c"0.01".as_ptr()), COPC_STATUS_OK);
        let mut w = null_mut();
        assert_eq!(copc_writer_create(cpath.as_ptr(), o, &mut w), COPC_STATUS_OK);
        copc_options_free(o);
        let (mut d_amp, mut d_dev, mut d_bad) = (0i32, 0i32, 77i32);
        assert_eq!(
            copc_writer_add_extra_dim(w, c"amplitude".as_ptr(), copc_type::COPC_TYPE_UINT16 as i32, c"amp".as_ptr(), &mut d_amp),
            COPC_STATUS_OK
        );
        assert_eq!(
            copc_writer_add_extra_dim(w, c"deviation".as_ptr(), copc_type::COPC_TYPE_DOUBLE as i32, null(), &mut d_dev),
            COPC_STATUS_OK
        );
        assert_eq!((d_amp, d_dev), (2000, 2001));
        assert_eq!(
            copc_writer_add_extra_dim(w, c"amplitude".as_ptr(), 3, null(), &mut d_bad),
            COPC_STATUS_INVALID_ARGUMENT,
            "a name twice"
        );
        assert_eq!(copc_writer_add_extra_dim(w, c"t".as_ptr(), 11, null(), &mut d_bad), COPC_STATUS_INVALID_ARGUMENT);
        assert_eq!(d_bad, 77, "out_dim untouched on failure");
        let col = |dim: i32, p: *const u8| copc_column { dim, data: p as *mut _, stride: 0 };
        let undeclared = [
            col(0, x.as_ptr().cast()),
            col(1, y.as_ptr().cast()),
            col(2, z.as_ptr().cast()),
            col(2002, amp.as_ptr().cast()),
        ];
        assert_eq!(copc_writer_add_points(w, undeclared.as_ptr(), 4, n), COPC_STATUS_INVALID_ARGUMENT);
        let cols = [
            col(0, x.as_ptr().cast()),
            col(1, y.as_ptr().cast()),
            col(2, z.as_ptr().cast()),
            col(d_amp, amp.as_ptr().cast()),
            col(d_dev, dev.as_ptr().cast()),
        ];
        assert_eq!(copc_writer_add_points(w, cols.as_ptr(), cols.len(), n), COPC_STATUS_OK);
        assert_eq!(
            copc_writer_add_extra_dim(w, c"late".as_ptr(), 1, null(), &mut d_bad),
            COPC_STATUS_INVALID_STATE
        );
        assert_eq!(copc_writer_close(w), COPC_STATUS_OK, "{}", last_error());
        copc_writer_free(w);

        let mut r = null_mut();
        assert_eq!(copc_reader_open(cpath.as_ptr(), null(), &mut r), COPC_STATUS_OK);
        let mut eb: copc_extra_dim = std::mem::zeroed();
        eb.struct_size = std::mem::size_of::<copc_extra_dim>() as u32;
        assert_eq!(copc_reader_extra_dim(r, 0, &mut eb), COPC_STATUS_OK);
        assert_eq!(CStr::from_ptr(eb.name.as_ptr()).to_str().unwrap(), "amplitude");
        assert_eq!(CStr::from_ptr(eb.description.as_ptr()).to_str().unwrap(), "amp");
        assert_eq!((eb.data_type, eb.dim), (3, 2000));

        // Every point, keyed by its coordinates in hundredths: (amp, dev bits).
        let key = |x: f64, y: f64, z: f64| ((x * 100.0).round() as i64, (y * 100.0).round() as i64, (z * 10.0).round() as i64);
        let mut want: BTreeMap<(i64, i64, i64), Vec<(u16, u64)>> = BTreeMap::new();
        for i in 0..n {
            want.entry(key(x[i], y[i], z[i])).or_default().push((amp[i], dev[i].to_bits()));
        }
        // A box query, read node by node with positions.
        let mut q = null_mut();
        assert_eq!(copc_query_new(&mut q), COPC_STATUS_OK);
        let (lo, hi) = ([2.0, 3.0, f64::NEG_INFINITY], [6.5, 7.25, f64::INFINITY]);
        assert_eq!(copc_query_set_bounds(q, lo.as_ptr(), hi.as_ptr()), COPC_STATUS_OK);
        let mut it = null_mut();
        assert_eq!(copc_reader_query_points(r, q, &mut it), COPC_STATUS_OK);
        let cap = 64usize;
        let (mut bx, mut by, mut bz) = (vec![0f64; cap], vec![0f64; cap], vec![0f64; cap]);
        let (mut ba, mut bd) = (vec![0u16; cap], vec![0f64; cap]);
        let mut idx = vec![0u32; cap];
        let mut got = 0usize;
        let mut seen = std::collections::HashSet::new();
        loop {
            let cols = [
                col(0, bx.as_mut_ptr().cast()),
                col(1, by.as_mut_ptr().cast()),
                col(2, bz.as_mut_ptr().cast()),
                col(d_amp, ba.as_mut_ptr().cast()),
                col(1001, bd.as_mut_ptr().cast()),
            ];
            let mut node = copc_node_key { level: -1, x: 0, y: 0, z: 0 };
            let mut cnt = 0usize;
            assert_eq!(
                copc_point_iter_read_node(it, cols.as_ptr(), cols.len(), cap, &mut node, idx.as_mut_ptr(), &mut cnt),
                COPC_STATUS_OK,
                "{}",
                last_error()
            );
            if cnt == 0 {
                break;
            }
            // The whole node, to look the positions up in.
            let mut nx = vec![0f64; 5000];
            let mut na = vec![0u16; 5000];
            let ncols = [col(0, nx.as_mut_ptr().cast()), col(d_amp, na.as_mut_ptr().cast())];
            let mut nn = 0usize;
            assert_eq!(copc_reader_read_node(r, &node, ncols.as_ptr(), 2, 5000, &mut nn), COPC_STATUS_OK);
            for k in 0..cnt {
                assert!(bx[k] >= lo[0] && bx[k] <= hi[0] && by[k] >= lo[1] && by[k] <= hi[1]);
                let p = idx[k] as usize;
                assert!(p < nn);
                assert_eq!((nx[p], na[p]), (bx[k], ba[k]), "position {p} of node {node:?}");
                assert!(seen.insert((node.level, node.x, node.y, node.z, p)), "a point named twice");
                let vals = want.get(&key(bx[k], by[k], bz[k])).expect("a written point");
                assert!(vals.contains(&(ba[k], bd[k].to_bits())), "extra values of ({}, {})", bx[k], by[k]);
            }
            got += cnt;
        }
        let brute = (0..n).filter(|&i| x[i] >= lo[0] && x[i] <= hi[0] && y[i] >= lo[1] && y[i] <= hi[1]).count();
        assert_eq!(got, brute, "the box query returns what a brute-force filter keeps");
        assert!(got > 0 && got < n);
        let mut key_out = copc_node_key { level: 0, x: 0, y: 0, z: 0 };
        let mut c2 = 0usize;
        assert_eq!(
            copc_point_iter_read_node(it, null(), 0, 1, null_mut(), null_mut(), &mut c2),
            COPC_STATUS_NULL_ARGUMENT
        );
        assert_eq!(copc_point_iter_read_node(it, null(), 0, 1, &mut key_out, null_mut(), &mut c2), COPC_STATUS_OK);
        assert_eq!(c2, 0, "over");
        copc_point_iter_free(it);
        copc_query_free(q);
        copc_reader_free(r);
    }
}
