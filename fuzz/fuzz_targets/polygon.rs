//! (8) Polygon text: WKT/EWKT and GeoJSON as `--polygon`, `Query::polygon`,
//! `copc_query_set_polygon` and the GDAL driver pass them. Never a panic; a parsed
//! polygon has finite vertices and contains no point outside its bounding box.
#![no_main]
mod common;

use copc::Polygon;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    common::init();
    let text = String::from_utf8_lossy(data);
    let Ok(p) = Polygon::parse(&text) else { return };
    let b = p.bbox();
    assert!(b.min[0].is_finite() && b.max[0].is_finite() && b.min[1].is_finite() && b.max[1].is_finite());
    // probe the box, its corners and just outside it
    let (w, h) = (b.max[0] - b.min[0], b.max[1] - b.min[1]);
    for i in 0..=8 {
        for j in 0..=8 {
            let x = b.min[0] - w / 8.0 + w * i as f64 / 6.0;
            let y = b.min[1] - h / 8.0 + h * j as f64 / 6.0;
            if p.contains(x, y) {
                assert!(x >= b.min[0] && x <= b.max[0] && y >= b.min[1] && y <= b.max[1], "({x}, {y}) inside but outside the bbox");
            }
        }
    }
});
