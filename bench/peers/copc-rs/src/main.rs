//! copc-rs as a benchmark peer. Prints one JSON line:
//! {"points": N, "seconds": S} (S: wall time of open + work, measured here).
//!
//!   copc-rs-bench read FILE [--bounds minx,miny,maxx,maxy] [--resolution R]
//!   copc-rs-bench convert IN.laz OUT.copc.laz
//!
//! copc-rs decodes on one thread, one `las::Point` at a time; it has no thread option.
use copc_rs::{Bounds, BoundsSelection, CopcReader, CopcWriter, LodSelection, Vector};
use std::time::Instant;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() {
    if let Err(e) = run() {
        eprintln!("copc-rs-bench: {e}");
        std::process::exit(1);
    }
}

fn run() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut pos = Vec::new();
    let mut bounds: Option<Vec<f64>> = None;
    let mut resolution: Option<f64> = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--bounds" => {
                i += 1;
                bounds = Some(args[i].split(',').map(|s| s.parse()).collect::<Result<_, _>>()?);
            }
            "--resolution" => {
                i += 1;
                resolution = Some(args[i].parse()?);
            }
            a => pos.push(a.to_string()),
        }
        i += 1;
    }
    let (t0, c0) = (Instant::now(), cpu_now());
    let points = match pos.first().map(String::as_str) {
        Some("read") if pos.len() == 2 => read(&pos[1], bounds, resolution)?,
        Some("convert") if pos.len() == 3 => convert(&pos[1], &pos[2])?,
        _ => return Err("usage: copc-rs-bench read FILE [--bounds ..] [--resolution R] | convert IN OUT".into()),
    };
    let secs = t0.elapsed().as_secs_f64();
    let cpu = cpu_now() - c0;
    match NOTE.with(|n| n.borrow().clone()) {
        Some(note) => println!("{{\"points\": {points}, \"seconds\": {secs:.6}, \"cpu\": {cpu:.3}, \"note\": \"{}\"}}", note.replace('"', "'")),
        None => println!("{{\"points\": {points}, \"seconds\": {secs:.6}, \"cpu\": {cpu:.3}}}"),
    }
    Ok(())
}

/// CPU time of this process so far (user + system, from /proc/self/stat, 10 ms steps).
fn cpu_now() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // fields after the command name (which ends with ')'): state is field 3, utime 14, stime 15
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn read(path: &str, bounds: Option<Vec<f64>>, resolution: Option<f64>) -> Res<u64> {
    let mut r = CopcReader::from_path(path)?;
    let h = r.header().bounds();
    let sel = match bounds.as_deref() {
        None => BoundsSelection::All,
        // a 2-D box: all heights (the header's, since copc-rs boxes are 3-D)
        Some([x0, y0, x1, y1]) => BoundsSelection::Within(Bounds {
            min: Vector { x: *x0, y: *y0, z: h.min.z - 1.0 },
            max: Vector { x: *x1, y: *y1, z: h.max.z + 1.0 },
        }),
        Some(_) => return Err("--bounds takes minx,miny,maxx,maxy".into()),
    };
    let lod = match resolution {
        Some(r) => LodSelection::Resolution(r),
        None => LodSelection::All,
    };
    let mut n = 0u64;
    let mut check = 0f64;
    for p in r.points(lod, sel)? {
        n += 1;
        check += p.z;
    }
    std::hint::black_box(check);
    Ok(n)
}

fn convert(input: &str, output: &str) -> Res<u64> {
    let mut reader = las::Reader::from_path(input)?;
    let mut header = reader.header().clone();
    let n = header.number_of_points();
    // copc-rs demands a CRS; LAS 1.2 inputs may have none: add the sample's WKT
    let has_crs = header
        .all_vlrs()
        .any(|v| v.user_id.eq_ignore_ascii_case("LASF_Projection") && matches!(v.record_id, 2112 | 34735));
    if !has_crs {
        let mut b = las::Builder::from(header);
        b.vlrs.push(las::Vlr {
            user_id: "LASF_Projection".into(),
            record_id: 2112,
            description: "OGC WKT".into(),
            data: WKT_32610.as_bytes().to_vec(),
        });
        header = b.into_header()?;
    }
    let mut w = CopcWriter::from_path(output, header, -1, -1)?;
    let points = reader.points().map(|p| p.expect("input point"));
    // copc-rs skips points outside its root node (built from the header bounds) and
    // says so after writing the rest: report how many made it, with a note
    let note = match w.write(points, n as i32) {
        Ok(()) => None,
        Err(e @ copc_rs::Error::InvalidPoint(_)) => Some(e.to_string()),
        Err(e) => return Err(e.into()),
    };
    drop(w);
    let written = las::Reader::from_path(output)?.header().number_of_points();
    if let Some(note) = note {
        let msg = format!("{note}: wrote {written} of {n} points");
        NOTE.with(|cell| *cell.borrow_mut() = Some(msg));
    }
    Ok(written)
}

thread_local! {
    static NOTE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

const WKT_32610: &str = "PROJCS[\"WGS 84 / UTM zone 10N\",GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563]],PRIMEM[\"Greenwich\",0],UNIT[\"degree\",0.0174532925199433]],PROJECTION[\"Transverse_Mercator\"],PARAMETER[\"latitude_of_origin\",0],PARAMETER[\"central_meridian\",-123],PARAMETER[\"scale_factor\",0.9996],PARAMETER[\"false_easting\",500000],PARAMETER[\"false_northing\",0],UNIT[\"metre\",1],AUTHORITY[\"EPSG\",\"32610\"]]";
