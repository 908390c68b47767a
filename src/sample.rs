//! A deterministic synthetic airborne-lidar scene, written as LAS or LAZ.
//!
//! The scene is what an aerial survey of a small town looks like: smooth hills
//! (ground, class 2), flat-roofed buildings with walls (class 6), trees whose
//! crowns give several returns per pulse (classes 3, 4, 5 by height above ground)
//! and a few low noise points (class 7). Pulses are swept across flight strips, so
//! GPS time increases along scan lines, the scan angle follows the cross-track
//! position, the scan-direction flag alternates per sweep and the edge-of-flight-line
//! flag marks sweep ends; the point source id is the strip number. Returns of one
//! pulse share its GPS time and have consistent return numbers / number of returns.
//!
//! Everything derives from `seed` through a SplitMix64 generator and hashed grid
//! cells, so the same options always give the same bytes. Records are built
//! directly as bytes and written in batches: memory stays bounded at any size
//! (50 M points take a few seconds per format, most of it LAZ compression).

use crate::error::{Error, Location, Result};
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

/// What to generate.
#[derive(Debug, Clone)]
pub struct SampleOptions {
    /// Number of point records.
    pub points: u64,
    /// Seed of every random choice.
    pub seed: u64,
    /// Point data record format: 3 (written as LAS 1.2), or 6, 7, 8 (LAS 1.4).
    pub format: u8,
    /// LAZ (true) or plain LAS.
    pub compressed: bool,
    /// Points per square metre (about; default 8).
    pub density: f64,
    /// Scale factor of X, Y and Z (default 0.01).
    pub scale: f64,
    /// Add two extra-bytes dimensions (`HeightAboveGround` f32, `Sweep` u16 with a scale)
    /// described by an extra-bytes VLR.
    pub extra_bytes: bool,
    /// Add a WKT CRS VLR (EPSG:32610 text) — LAS 1.4 only.
    pub wkt: bool,
}

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions {
            points: 100_000,
            seed: 1,
            format: 7,
            compressed: true,
            density: 8.0,
            scale: 0.01,
            extra_bytes: false,
            wkt: true,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleSummary {
    pub points: u64,
    pub format: u8,
    pub record_length: u16,
    pub min: [f64; 3],
    pub max: [f64; 3],
    pub points_by_return: [u64; 15],
    pub gps_time_range: [f64; 2],
}

/// SplitMix64: tiny, fast, good enough for test data, identical everywhere.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }
    /// Uniform in [0, 1).
    #[inline]
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    #[inline]
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A reproducible hash of a grid cell, for placing buildings and trees.
#[inline]
fn cell_hash(seed: u64, kind: u64, i: i64, j: i64) -> u64 {
    mix(seed ^ mix(kind.wrapping_mul(0x9E37_79B9) ^ mix((i as u64) ^ mix(j as u64).rotate_left(17))))
}

#[inline]
fn unit(h: u64, shift: u32) -> f64 {
    ((h >> shift) & 0xFFFF) as f64 / 65536.0
}

const ORIGIN: [f64; 2] = [500_000.0, 4_500_000.0];
const BUILDING_CELL: f64 = 45.0;
const TREE_CELL: f64 = 7.0;
const STRIP_WIDTH: f64 = 400.0;
const ALTITUDE: f64 = 1000.0;

struct Scene {
    seed: u64,
}

struct Building {
    min: [f64; 2],
    max: [f64; 2],
    roof: f64,
}

struct Tree {
    center: [f64; 2],
    radius: f64,
    height: f64,
}

impl Scene {
    /// Ground height: a few smooth hills (local coordinates, metres).
    fn ground(&self, x: f64, y: f64) -> f64 {
        let s = (self.seed % 1000) as f64 * 0.01;
        120.0
            + 18.0 * ((x * 0.004 + s).sin() * (y * 0.003 - s).cos())
            + 6.0 * ((x * 0.013 + y * 0.007 + 2.0 * s).sin())
            + 1.5 * ((x * 0.05 - y * 0.041).cos())
    }

    fn building_at(&self, x: f64, y: f64) -> Option<Building> {
        let (i, j) = ((x / BUILDING_CELL).floor() as i64, (y / BUILDING_CELL).floor() as i64);
        let h = cell_hash(self.seed, 1, i, j);
        if h % 100 >= 22 {
            return None;
        }
        let w = 12.0 + 18.0 * unit(h, 8);
        let d = 10.0 + 15.0 * unit(h, 24);
        let ox = (BUILDING_CELL - w - 4.0) * unit(h, 40) + 2.0;
        let oy = (BUILDING_CELL - d - 4.0) * unit(h, 48) + 2.0;
        let min = [i as f64 * BUILDING_CELL + ox, j as f64 * BUILDING_CELL + oy];
        let max = [min[0] + w, min[1] + d];
        let c = [(min[0] + max[0]) * 0.5, (min[1] + max[1]) * 0.5];
        let roof = self.ground(c[0], c[1]) + 4.0 + 20.0 * unit(h, 16).powi(2);
        Some(Building { min, max, roof })
    }

    fn tree_at(&self, x: f64, y: f64) -> Option<Tree> {
        let (i, j) = ((x / TREE_CELL).floor() as i64, (y / TREE_CELL).floor() as i64);
        let h = cell_hash(self.seed, 2, i, j);
        // tree clusters: a coarse "forest" field decides the tree probability
        let forest = cell_hash(self.seed, 3, (x / 120.0).floor() as i64, (y / 120.0).floor() as i64) % 100;
        let p = if forest < 35 { 70 } else { 8 };
        if h % 100 >= p {
            return None;
        }
        let radius = 1.5 + 2.5 * unit(h, 8);
        let c = [
            i as f64 * TREE_CELL + radius + (TREE_CELL - 2.0 * radius).max(0.0) * unit(h, 24),
            j as f64 * TREE_CELL + radius + (TREE_CELL - 2.0 * radius).max(0.0) * unit(h, 40),
        ];
        let height = 4.0 + 18.0 * unit(h, 48);
        Some(Tree {
            center: c,
            radius,
            height,
        })
    }
}

/// One return of a pulse, before it is encoded.
struct Return {
    x: f64,
    y: f64,
    z: f64,
    class: u8,
    hag: f32,
}

/// Writes a synthetic scene of `opts.points` points to `path` (LAS or LAZ by
/// `opts.compressed`; the extension is not looked at).
pub fn write_sample(path: impl AsRef<Path>, opts: &SampleOptions) -> Result<SampleSummary> {
    let path = path.as_ref();
    let name = path.display().to_string();
    if ![3u8, 6, 7, 8].contains(&opts.format) {
        return Err(Error::invalid(format!(
            "sample point format must be 3, 6, 7 or 8, not {}",
            opts.format
        )));
    }
    if opts.density.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)
        || opts.scale.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)
    {
        return Err(Error::invalid("sample density and scale must be positive"));
    }
    let io = |ctx: &str, e: std::io::Error| Error::io(&name, Location::Source, ctx.to_string(), e);
    let legacy = opts.format < 6;
    let base = crate::format::PointLayout::base_size(opts.format);
    let eb_len = if opts.extra_bytes { 6 } else { 0 };
    let rec_len = base + eb_len;

    // VLRs
    let mut vlrs = Vec::new();
    let mut nvlr = 0u32;
    if opts.wkt && !legacy {
        let wkt = crs_wkt();
        crate::format::Vlr::write("LASF_Projection", 2112, "OGC WKT", wkt.as_bytes(), false, &mut vlrs);
        nvlr += 1;
    }
    if opts.extra_bytes {
        let mut eb = Vec::new();
        eb.extend(eb_descriptor(
            "HeightAboveGround",
            9,
            0,
            None,
            "height above ground (m)",
        ));
        eb.extend(eb_descriptor("Sweep", 3, 8, Some(0.5), "sweep number / 2"));
        crate::format::Vlr::write("LASF_Spec", 4, "Extra bytes", &eb, false, &mut vlrs);
        nvlr += 1;
    }
    let items = laz::LazItemRecordBuilder::default_for_point_format_id(opts.format, eb_len as u16)
        .map_err(|e| Error::invalid(format!("laz items: {e}")))?;
    let laz_vlr = laz::LazVlrBuilder::new(items).with_fixed_chunk_size(50_000).build();
    if opts.compressed {
        let mut data = Vec::new();
        laz_vlr
            .write_to(&mut data)
            .map_err(|e| io("encoding the laszip VLR", e))?;
        crate::format::Vlr::write(
            laz::LazVlr::USER_ID,
            laz::LazVlr::RECORD_ID,
            laz::LazVlr::DESCRIPTION,
            &data,
            false,
            &mut vlrs,
        );
        nvlr += 1;
    }

    let header_size: u16 = if legacy { 227 } else { 375 };
    let point_offset = header_size as u32 + vlrs.len() as u32;
    let mut raw = las::raw::Header {
        version: las::Version::new(1, if legacy { 2 } else { 4 }),
        header_size,
        offset_to_point_data: point_offset,
        number_of_variable_length_records: nvlr,
        point_data_record_format: opts.format | if opts.compressed { 0x80 } else { 0 },
        point_data_record_length: rec_len as u16,
        x_scale_factor: opts.scale,
        y_scale_factor: opts.scale,
        z_scale_factor: opts.scale,
        x_offset: ORIGIN[0],
        y_offset: ORIGIN[1],
        z_offset: 0.0,
        global_encoding: if legacy { 1 } else { 1 | 0x10 },
        file_creation_day_of_year: 1,
        file_creation_year: 2024,
        ..Default::default()
    };
    crate::format::bytes::put_c_string(&mut raw.system_identifier, "copc synthetic sample");
    crate::format::bytes::put_c_string(&mut raw.generating_software, "copc sample generator");
    if !legacy {
        raw.evlr = Some(Default::default());
        raw.large_file = Some(Default::default());
    }

    let file = File::create(path).map_err(|e| io("cannot create", e))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut hbytes = Vec::new();
    raw.write_to(&mut hbytes)
        .map_err(|e| Error::invalid(format!("header: {e}")))?;
    out.write_all(&hbytes).map_err(|e| io("writing", e))?;
    out.write_all(&vlrs).map_err(|e| io("writing", e))?;

    let mut pgen = Generator::new(opts, rec_len);
    let batch = 200_000u64;
    let mut buf = Vec::with_capacity(batch as usize * rec_len);
    let mut left = opts.points;
    if opts.compressed {
        let mut c =
            laz::ParLasZipCompressor::new(&mut out, laz_vlr).map_err(|e| Error::invalid(format!("laz: {e}")))?;
        while left > 0 {
            let n = left.min(batch);
            buf.clear();
            pgen.fill(&mut buf, n);
            c.compress_many(&buf).map_err(|e| io("compressing", e))?;
            left -= n;
        }
        c.done()
            .map_err(|e| Error::invalid(format!("{name}: finishing LAZ: {e}")))?;
    } else {
        while left > 0 {
            let n = left.min(batch);
            buf.clear();
            pgen.fill(&mut buf, n);
            out.write_all(&buf).map_err(|e| io("writing", e))?;
            left -= n;
        }
    }

    // final header
    let s = pgen.summary(opts.format, rec_len as u16);
    let q = |v: f64, o: f64| ((v - o) / opts.scale).round() * opts.scale + o;
    raw.min_x = q(s.min[0], ORIGIN[0]);
    raw.min_y = q(s.min[1], ORIGIN[1]);
    raw.min_z = q(s.min[2], 0.0);
    raw.max_x = q(s.max[0], ORIGIN[0]);
    raw.max_y = q(s.max[1], ORIGIN[1]);
    raw.max_z = q(s.max[2], 0.0);
    if s.points == 0 {
        (raw.min_x, raw.min_y, raw.min_z, raw.max_x, raw.max_y, raw.max_z) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    }
    if legacy {
        raw.number_of_point_records = u32::try_from(s.points)
            .map_err(|_| Error::invalid(format!("{} points do not fit a LAS 1.2 file; use format 6-8", s.points)))?;
        for i in 0..5 {
            raw.number_of_points_by_return[i] = s.points_by_return[i] as u32;
        }
    } else {
        if let Some(lf) = raw.large_file.as_mut() {
            lf.number_of_point_records = s.points;
            lf.number_of_points_by_return = s.points_by_return;
        }
    }
    let mut hbytes = Vec::new();
    raw.write_to(&mut hbytes)
        .map_err(|e| Error::invalid(format!("header: {e}")))?;
    out.seek(SeekFrom::Start(0)).map_err(|e| io("seeking", e))?;
    out.write_all(&hbytes).map_err(|e| io("writing", e))?;
    out.flush().map_err(|e| io("writing", e))?;
    Ok(s)
}

fn crs_wkt() -> String {
    // WGS 84 / UTM zone 10N, the zone ORIGIN is placed in (text as EPSG publishes it).
    r#"PROJCS["WGS 84 / UTM zone 10N",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",-123],PARAMETER["scale_factor",0.9996],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],AUTHORITY["EPSG","32610"]]"#.to_string()
}

fn eb_descriptor(name: &str, data_type: u8, options: u8, scale: Option<f64>, desc: &str) -> Vec<u8> {
    let mut d = vec![0u8; crate::format::extra_bytes::DESCRIPTOR_SIZE];
    d[2] = data_type;
    d[3] = options;
    crate::format::bytes::put_c_string(&mut d[4..36], name);
    if let Some(s) = scale {
        d[112..120].copy_from_slice(&s.to_le_bytes());
    }
    crate::format::bytes::put_c_string(&mut d[160..192], desc);
    d
}

/// The pulse generator: walks strips, sweeps and pulses in time order.
struct Generator {
    scene: Scene,
    rng: SplitMix64,
    format: u8,
    rec_len: usize,
    extra_bytes: bool,
    scale: f64,
    /// Pulse spacing along a sweep and between sweeps (metres).
    step: f64,
    /// Scene size along x (strip length) and number of strips.
    length: f64,
    strips: u64,
    // position
    strip: u64,
    sweep: u64,
    pulse_in_sweep: u64,
    pulses_per_sweep: u64,
    time: f64,
    pending: Vec<Return>,
    pending_at: usize,
    pending_meta: PulseMeta,
    // summary
    count: u64,
    min: [f64; 3],
    max: [f64; 3],
    by_return: [u64; 15],
    tmin: f64,
    tmax: f64,
}

#[derive(Clone, Copy, Default)]
struct PulseMeta {
    time: f64,
    scan_angle_deg: f64,
    direction: bool,
    edge: bool,
    source: u16,
    sweep: u64,
}

impl Generator {
    fn new(opts: &SampleOptions, rec_len: usize) -> Self {
        // ~1.25 returns per pulse on average
        let pulse_density = opts.density / 1.25;
        let step = 1.0 / pulse_density.sqrt();
        let area = (opts.points.max(1) as f64) / opts.density;
        let side = area.sqrt().max(30.0);
        let strips = ((side / STRIP_WIDTH).ceil() as u64).max(1);
        let width = (strips as f64 * STRIP_WIDTH).min(side.max(30.0));
        let length = (area / width).max(30.0);
        let pulses_per_sweep = ((width.min(STRIP_WIDTH) / step).ceil() as u64).max(2);
        let mut rng = SplitMix64::new(opts.seed ^ 0xC0FC_5A3D);
        let time = 300_000_000.0 + (rng.below(1_000_000) as f64);
        Generator {
            scene: Scene { seed: opts.seed },
            rng,
            format: opts.format,
            rec_len,
            extra_bytes: opts.extra_bytes,
            scale: opts.scale,
            step,
            length,
            strips,
            strip: 0,
            sweep: 0,
            pulse_in_sweep: 0,
            pulses_per_sweep,
            time,
            pending: Vec::new(),
            pending_at: 0,
            pending_meta: PulseMeta::default(),
            count: 0,
            min: [f64::INFINITY; 3],
            max: [f64::NEG_INFINITY; 3],
            by_return: [0; 15],
            tmin: f64::INFINITY,
            tmax: f64::NEG_INFINITY,
        }
    }

    fn summary(&self, format: u8, record_length: u16) -> SampleSummary {
        let none = self.count == 0;
        SampleSummary {
            points: self.count,
            format,
            record_length,
            min: if none { [0.0; 3] } else { self.min },
            max: if none { [0.0; 3] } else { self.max },
            points_by_return: self.by_return,
            gps_time_range: if none { [0.0, 0.0] } else { [self.tmin, self.tmax] },
        }
    }

    /// Appends `n` records to `out`.
    fn fill(&mut self, out: &mut Vec<u8>, n: u64) {
        let mut done = 0;
        while done < n {
            if self.pending_at >= self.pending.len() {
                self.next_pulse();
                continue;
            }
            let left_in_pulse = self.pending.len() - self.pending_at;
            // The last pulse of the file may be cut: its number of returns then says
            // how many returns were written, so the records stay consistent.
            let total_left = n - done;
            let nret = if (left_in_pulse as u64) > total_left && self.pending_at == 0 {
                self.pending.truncate(total_left as usize);
                self.pending.len()
            } else {
                self.pending.len()
            };
            let i = self.pending_at;
            self.encode(out, i, nret);
            self.pending_at += 1;
            done += 1;
        }
    }

    fn next_pulse(&mut self) {
        self.pending.clear();
        self.pending_at = 0;
        let g = self;
        // advance the scan pattern
        if g.pulse_in_sweep >= g.pulses_per_sweep {
            g.pulse_in_sweep = 0;
            g.sweep += 1;
            if g.sweep as f64 * g.step > g.length {
                g.sweep = 0;
                g.strip = (g.strip + 1) % g.strips;
                g.time += 30.0; // turn between strips
            }
        }
        let k = g.pulse_in_sweep;
        g.pulse_in_sweep += 1;
        let forward = g.sweep % 2 == 0;
        let frac = (k as f64 + 0.5) / g.pulses_per_sweep as f64;
        let cross = if forward { frac } else { 1.0 - frac };
        let strip_w = STRIP_WIDTH.min(g.pulses_per_sweep as f64 * g.step);
        let y_local = (cross - 0.5) * strip_w;
        let strip_center = (g.strip as f64 + 0.5) * strip_w;
        let jitter = g.step * 0.35;
        let x = g.sweep as f64 * g.step + g.rng.range(-jitter, jitter) + k as f64 * g.step * 0.02;
        let y = strip_center + y_local + g.rng.range(-jitter, jitter);
        g.time += 1.0 / 150_000.0; // 150 kHz
        let angle = (y_local / ALTITUDE).atan().to_degrees();
        g.pending_meta = PulseMeta {
            time: g.time,
            scan_angle_deg: angle,
            direction: forward,
            edge: k == 0 || k + 1 == g.pulses_per_sweep,
            source: (g.strip + 1) as u16,
            sweep: g.sweep,
        };
        let ground = g.scene.ground(x, y);
        let r = &mut g.rng;
        // low noise, rarely
        if r.below(20_000) == 0 {
            g.pending.push(Return {
                x,
                y,
                z: ground - r.range(2.0, 15.0),
                class: 7,
                hag: 0.0,
            });
            return;
        }
        if let Some(b) = g.scene.building_at(x, y) {
            let inside = x >= b.min[0] && x <= b.max[0] && y >= b.min[1] && y <= b.max[1];
            let edge_d = (x - b.min[0])
                .abs()
                .min((x - b.max[0]).abs())
                .min((y - b.min[1]).abs())
                .min((y - b.max[1]).abs());
            if inside && edge_d < 0.35 {
                // a wall: the beam grazes the facade
                let gz = g.scene.ground(x, y);
                let z = gz + r.range(0.2, 1.0) * (b.roof - gz);
                g.pending.push(Return {
                    x,
                    y,
                    z,
                    class: 6,
                    hag: (z - gz) as f32,
                });
                if r.below(3) == 0 {
                    g.pending.push(Return {
                        x,
                        y,
                        z: gz,
                        class: 2,
                        hag: 0.0,
                    });
                }
                return;
            }
            if inside {
                let z = b.roof + r.range(-0.03, 0.03);
                g.pending.push(Return {
                    x,
                    y,
                    z,
                    class: 6,
                    hag: (z - ground) as f32,
                });
                return;
            }
        }
        if let Some(t) = g.scene.tree_at(x, y) {
            let d = ((x - t.center[0]).powi(2) + (y - t.center[1]).powi(2)).sqrt();
            if d < t.radius {
                let crown = t.height * (1.0 - 0.45 * (d / t.radius).powi(2));
                let top = ground + crown + r.range(-0.4, 0.2);
                let n = 1 + r.below(4) as usize; // 1..4 returns
                let mut zs = vec![top];
                for _ in 1..n {
                    let prev = *zs.last().unwrap_or(&top);
                    let lo = ground + 0.1;
                    if prev <= lo + 0.2 {
                        break;
                    }
                    zs.push(r.range(lo, prev - 0.1));
                }
                let last_is_ground = n > 1 && r.below(10) < 6;
                if last_is_ground {
                    if let Some(l) = zs.last_mut() {
                        *l = ground + r.range(-0.03, 0.03);
                    }
                }
                for (i, z) in zs.iter().enumerate() {
                    let hag = z - ground;
                    let class = if last_is_ground && i + 1 == zs.len() {
                        2
                    } else if hag < 0.5 {
                        3
                    } else if hag < 2.0 {
                        4
                    } else {
                        5
                    };
                    let (dx, dy) = ((r.f64() - 0.5) * 0.02, (r.f64() - 0.5) * 0.02);
                    g.pending.push(Return {
                        x: x + dx,
                        y: y + dy,
                        z: *z,
                        class,
                        hag: hag as f32,
                    });
                }
                return;
            }
        }
        let z = ground + r.range(-0.04, 0.04);
        g.pending.push(Return {
            x,
            y,
            z,
            class: 2,
            hag: 0.0,
        });
        if r.below(50) == 0 {
            // low vegetation over ground: 2 returns
            let top = ground + r.range(0.1, 0.45);
            g.pending.insert(
                0,
                Return {
                    x,
                    y,
                    z: top,
                    class: 3,
                    hag: (top - ground) as f32,
                },
            );
        }
    }

    fn encode(&mut self, out: &mut Vec<u8>, i: usize, nret: usize) {
        let m = self.pending_meta;
        let ret = &self.pending[i];
        let xw = ORIGIN[0] + ret.x;
        let yw = ORIGIN[1] + ret.y;
        let q = |v: f64, o: f64| ((v - o) / self.scale).round();
        let (xi, yi, zi) = (q(xw, ORIGIN[0]) as i32, q(yw, ORIGIN[1]) as i32, q(ret.z, 0.0) as i32);
        let world = [
            xi as f64 * self.scale + ORIGIN[0],
            yi as f64 * self.scale + ORIGIN[1],
            zi as f64 * self.scale,
        ];
        for (a, w) in world.iter().enumerate() {
            self.min[a] = self.min[a].min(*w);
            self.max[a] = self.max[a].max(*w);
        }
        self.tmin = self.tmin.min(m.time);
        self.tmax = self.tmax.max(m.time);
        let rn = (i + 1).min(15);
        self.by_return[rn - 1] += 1;
        self.count += 1;

        let start = out.len();
        out.resize(start + self.rec_len, 0);
        let r = &mut out[start..];
        r[0..4].copy_from_slice(&xi.to_le_bytes());
        r[4..8].copy_from_slice(&yi.to_le_bytes());
        r[8..12].copy_from_slice(&zi.to_le_bytes());
        let base_int: f64 = match ret.class {
            2 => 900.0,
            6 => 1600.0,
            7 => 200.0,
            _ => 500.0,
        };
        let intensity =
            (base_int * (1.0 - 0.25 * (i as f64)) + self.rng.range(-120.0, 120.0)).clamp(0.0, 65535.0) as u16;
        r[12..14].copy_from_slice(&intensity.to_le_bytes());
        let nr = nret.min(15) as u8;
        let rnum = rn as u8;
        let (red, green, blue, nir) = colour(ret.class, ret.z, &mut self.rng);
        if self.format < 6 {
            r[14] = (rnum.min(7)) | (nr.min(7) << 3) | ((m.direction as u8) << 6) | ((m.edge as u8) << 7);
            r[15] = ret.class & 0x1F;
            r[16] = m.scan_angle_deg.round().clamp(-90.0, 90.0) as i8 as u8;
            r[17] = 0;
            r[18..20].copy_from_slice(&m.source.to_le_bytes());
            r[20..28].copy_from_slice(&m.time.to_le_bytes());
            r[28..30].copy_from_slice(&red.to_le_bytes());
            r[30..32].copy_from_slice(&green.to_le_bytes());
            r[32..34].copy_from_slice(&blue.to_le_bytes());
        } else {
            r[14] = rnum | (nr << 4);
            r[15] = ((m.direction as u8) << 6) | ((m.edge as u8) << 7) | (((m.source as u8) & 1) << 4);
            r[16] = ret.class;
            r[17] = (m.sweep % 251) as u8;
            let sa = (m.scan_angle_deg / 0.006).round().clamp(-30000.0, 30000.0) as i16;
            r[18..20].copy_from_slice(&sa.to_le_bytes());
            r[20..22].copy_from_slice(&m.source.to_le_bytes());
            r[22..30].copy_from_slice(&m.time.to_le_bytes());
            if self.format >= 7 {
                r[30..32].copy_from_slice(&red.to_le_bytes());
                r[32..34].copy_from_slice(&green.to_le_bytes());
                r[34..36].copy_from_slice(&blue.to_le_bytes());
            }
            if self.format == 8 {
                r[36..38].copy_from_slice(&nir.to_le_bytes());
            }
        }
        if self.extra_bytes {
            let at = crate::format::PointLayout::base_size(self.format);
            r[at..at + 4].copy_from_slice(&ret.hag.to_le_bytes());
            r[at + 4..at + 6].copy_from_slice(&((m.sweep % 65536) as u16).to_le_bytes());
        }
    }
}

fn colour(class: u8, z: f64, rng: &mut SplitMix64) -> (u16, u16, u16, u16) {
    let n = |rng: &mut SplitMix64, v: f64| ((v + rng.range(-0.06, 0.06)).clamp(0.0, 1.0) * 65535.0) as u16;
    match class {
        2 => {
            let t = ((z - 100.0) / 50.0).clamp(0.0, 1.0);
            (
                n(rng, 0.45 + 0.1 * t),
                n(rng, 0.40 + 0.15 * t),
                n(rng, 0.28),
                n(rng, 0.35),
            )
        }
        6 => (n(rng, 0.62), n(rng, 0.30), n(rng, 0.25), n(rng, 0.2)),
        3..=5 => (n(rng, 0.18), n(rng, 0.45), n(rng, 0.16), n(rng, 0.85)),
        _ => (n(rng, 0.5), n(rng, 0.5), n(rng, 0.5), n(rng, 0.5)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_is_stable() {
        let mut r = SplitMix64::new(1);
        let a = r.next_u64();
        let mut r2 = SplitMix64::new(1);
        assert_eq!(a, r2.next_u64());
        assert!((0.0..1.0).contains(&r.f64()));
    }
}
