//! A COPC file from points handed over in column batches, for callers whose points
//! are not in a LAS/LAZ file (the C ABI's `copc_writer_*`, GDAL's writer):
//!
//! ```no_run
//! use copc::Dimension;
//! use copc::writer::{PointColumn, PointWriter, WriterOptions};
//! let xyz: Vec<[f64; 3]> = vec![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
//! let flat: Vec<u8> = xyz.iter().flatten().flat_map(|v| v.to_ne_bytes()).collect();
//! let mut w = PointWriter::create("out.copc.laz", WriterOptions::default(), None)?;
//! w.add(2, &[
//!     PointColumn { dim: Dimension::X, data: &flat, stride: 24 },
//!     PointColumn { dim: Dimension::Y, data: &flat[8..], stride: 24 },
//!     PointColumn { dim: Dimension::Z, data: &flat[16..], stride: 24 },
//! ])?;
//! let summary = w.finish()?;
//! # Ok::<(), copc::Error>(())
//! ```
//!
//! While the points fit the memory budget (`memory_limit`, as for `translate`), the
//! records (formats 6-8) are kept in memory and `finish` builds the octree from them
//! directly. Beyond it, they go to an uncompressed LAS 1.4 file (through [`LasOut`])
//! in a locked spill folder under `temp_dir` (else the system's temp folder, as for
//! `translate`'s spill files), and `finish` builds the COPC file from it with
//! [`translate`] (same options, same octree) and removes it. Both ways give the same
//! bytes. Dropping the writer without `finish` leaves nothing behind, and the folder
//! of a killed writer is swept by the next writer that uses the same temp folder.

use super::convert::{Converter, Requantize};
use super::las_out::{LasOut, LasOutSpec};
use super::octree::PointBuf;
use super::temp::{OutputFile, SpillDir, sweep_stale_spill_dirs};
use super::{Held, Ingested, MemoryBudget, OffsetOption, Origin, Plan, Stats, TranslateSummary, UserVlr, WriterOptions, translate};
use crate::error::{Error, Location, Result};
use crate::format::Dimension;
use crate::format::extra_bytes::DESCRIPTOR_SIZE;
use crate::format::point::{PointLayout, Transform, read_column};
use std::path::{Path, PathBuf};

/// Scale of X, Y and Z when the options give none: millimetres (for projected
/// coordinates in metres; set `scale` for degrees).
pub const DEFAULT_POINTS_SCALE: f64 = 0.001;

/// One dimension of `n` points: value `i` at byte `i * stride` of `data`, in the
/// dimension's type (`Dimension::dim_type`) and native byte order; stride 0 = packed.
#[derive(Debug, Clone, Copy)]
pub struct PointColumn<'a> {
    pub dim: Dimension,
    pub data: &'a [u8],
    pub stride: usize,
}

/// Streams points into a COPC file (see the module docs).
pub struct PointWriter {
    output: PathBuf,
    opts: WriterOptions,
    /// 6, 7 or 8; None until the first batch when not given.
    format: Option<u8>,
    transform: Option<Transform>,
    /// The points file, in `_spill`.
    temp: PathBuf,
    /// The points while they fit the memory budget (None before the first points and
    /// once they went to `las`).
    mem: Option<InMemory>,
    /// Points the budget lets `mem` hold (known at the first points: it depends on the
    /// record length).
    budget_points: Option<u64>,
    las: Option<LasOut>,
    /// Declared after `las`, so the folder goes after the points file is closed.
    _spill: SpillDir,
    points: u64,
    /// Extra-bytes dimensions declared with `add_extra_dim`, in record order.
    extras: Vec<ExtraDecl>,
}

/// Records kept in memory, with what the header needs from them.
struct InMemory {
    buf: PointBuf,
    stats: Stats,
}

/// An extra-bytes dimension the points will carry: one scalar of LAS data type
/// `data_type` (1-10) at `at` bytes past the standard fields.
#[derive(Debug, Clone)]
struct ExtraDecl {
    name: String,
    description: String,
    data_type: u8,
    size: usize,
    at: usize,
}

/// Bytes of one scalar of LAS extra-bytes data type 1-10 (0 for any other code).
fn scalar_size(data_type: u8) -> usize {
    match data_type {
        1 | 2 => 1,
        3 | 4 => 2,
        5 | 6 | 9 => 4,
        7 | 8 | 10 => 8,
        _ => 0,
    }
}

impl PointWriter {
    /// A writer of `output` with the writer's options; `point_format` 6, 7 (RGB) or 8
    /// (RGB and NIR), or None to choose from the first batch's columns. Scale: the
    /// `scale` option, else [`DEFAULT_POINTS_SCALE`]; offset: the `offset` option, else
    /// the centre of the first batch (rounded to 1000 scale steps).
    pub fn create(output: impl AsRef<Path>, opts: WriterOptions, point_format: Option<u8>) -> Result<PointWriter> {
        let output = output.as_ref().to_path_buf();
        if let Some(f) = point_format {
            if !(6..=8).contains(&f) {
                return Err(Error::invalid(format!(
                    "point format {f}: COPC files hold formats 6, 7 and 8"
                )));
            }
        }
        if opts.clip.is_some() {
            return Err(Error::invalid("WriterOptions::clip applies to translate: a PointWriter takes the points it is given"));
        }
        // bad header fields or VLRs, and a target that cannot be written, fail here, not
        // after every point was added
        super::header::check_options(&opts.header, &opts.vlrs)?;
        super::temp::check_target(&output)?;
        let dir = opts.temp_dir.clone().unwrap_or_else(std::env::temp_dir);
        if !dir.is_dir() {
            return Err(Error::io(
                &output.display().to_string(),
                crate::error::Location::Source,
                format!("folder {} for the temporary points file", dir.display()),
                std::io::Error::from(std::io::ErrorKind::NotFound),
            ));
        }
        // points files of writers that were killed
        sweep_stale_spill_dirs(&dir);
        let spill = SpillDir::create(&dir)?;
        let temp = spill.path().join("points.las");
        Ok(PointWriter {
            output,
            opts,
            format: point_format,
            transform: None,
            temp,
            mem: None,
            budget_points: None,
            las: None,
            _spill: spill,
            points: 0,
            extras: Vec::new(),
        })
    }

    /// Declares an extra-bytes dimension (before the first points): a scalar of LAS
    /// data type 1-10 (uint8 ... double) named `name` (1-32 bytes, unique), with an
    /// optional description (up to 32 bytes). Returns the dimension its columns use
    /// (`Dimension::ExtraRaw(i)`, values in the declared type); the file gets the
    /// extra-bytes VLR that describes it.
    pub fn add_extra_dim(&mut self, name: &str, data_type: u8, description: &str) -> Result<Dimension> {
        let fail = |m: String| Error::invalid(format!("{}: extra dimension '{name}': {m}", self.name()));
        if self.points > 0 || self.las.is_some() || self.mem.is_some() {
            return Err(fail("extra dimensions must be declared before the first points".into()));
        }
        let size = scalar_size(data_type);
        if size == 0 {
            return Err(fail(format!("data type {data_type} (1-10: uint8 ... double)")));
        }
        if name.is_empty() || name.len() > 32 || name.contains('\0') {
            return Err(fail("a name is 1 to 32 bytes without NUL".into()));
        }
        if description.len() > 32 || description.contains('\0') {
            return Err(fail("a description is at most 32 bytes without NUL".into()));
        }
        if self.extras.iter().any(|e| e.name == name) {
            return Err(fail("declared twice".into()));
        }
        if self.extras.len() >= Dimension::MAX_EXTRA_IDS as usize {
            return Err(fail(format!("more than {} extra dimensions", Dimension::MAX_EXTRA_IDS)));
        }
        let at = self.extras.iter().map(|e| e.size).sum();
        self.extras.push(ExtraDecl { name: name.to_string(), description: description.to_string(), data_type, size, at });
        Ok(Dimension::ExtraRaw((self.extras.len() - 1) as u16))
    }

    /// Adds a VLR (or EVLR) to copy into the file (any time before `finish`); refused
    /// when it is one the writer makes itself ([`super::writer_owned`]) or a length does
    /// not fit. A record equal to one added before is written once.
    pub fn add_vlr(&mut self, vlr: UserVlr) -> Result<()> {
        vlr.check().map_err(|e| Error::invalid(format!("{}: {}", self.name(), e.detail())))?;
        self.opts.vlrs.push(vlr);
        Ok(())
    }

    /// Bytes the extra dimensions add to each record.
    fn extra_len(&self) -> usize {
        self.extras.iter().map(|e| e.size).sum()
    }

    /// The extra-bytes VLR payload (192-byte descriptors), None without extras.
    fn extra_bytes_vlr(&self) -> Option<Vec<u8>> {
        if self.extras.is_empty() {
            return None;
        }
        let mut out = Vec::with_capacity(self.extras.len() * DESCRIPTOR_SIZE);
        for e in &self.extras {
            let mut d = vec![0u8; DESCRIPTOR_SIZE];
            d[2] = e.data_type;
            d[4..4 + e.name.len()].copy_from_slice(e.name.as_bytes());
            d[160..160 + e.description.len()].copy_from_slice(e.description.as_bytes());
            out.extend(d);
        }
        Some(out)
    }

    /// Bytes per value of a column's dimension (declared extras included; None for
    /// an undeclared extra or the scaled `Extra` form, which cannot be written).
    pub fn column_size(&self, dim: Dimension) -> Option<usize> {
        column_size(&self.extras, dim)
    }

    /// Points added so far.
    pub fn points(&self) -> u64 {
        self.points
    }

    fn name(&self) -> String {
        self.output.display().to_string()
    }

    /// Adds `n` points. X, Y and Z (or X_RAW, Y_RAW and Z_RAW, which need the `scale`
    /// and `offset` options) must be among the columns; any other standard dimension may
    /// be (absent ones are 0, return number and number of returns 1). Nothing is added
    /// when a value does not fit (the error names it).
    pub fn add(&mut self, n: usize, columns: &[PointColumn<'_>]) -> Result<()> {
        let name = self.name();
        let fail = |m: String| Error::invalid(format!("{name}: {m}"));
        let has = |d: Dimension| columns.iter().any(|c| c.dim == d);
        for (d, raw) in [
            (Dimension::X, Dimension::XRaw),
            (Dimension::Y, Dimension::YRaw),
            (Dimension::Z, Dimension::ZRaw),
        ] {
            match (has(d), has(raw)) {
                (false, false) => {
                    return Err(fail(format!(
                        "the points have no {} (add a {} or {} column)",
                        d.name(),
                        d.name(),
                        raw.name()
                    )));
                }
                (true, true) => return Err(fail(format!("both {} and {} given", d.name(), raw.name()))),
                (false, true)
                    if self.opts.scale.is_none() || !matches!(self.opts.offset, Some(OffsetOption::Value(_))) =>
                {
                    return Err(fail(format!(
                        "{} needs the scale and offset options (raw integers mean nothing without them)",
                        raw.name()
                    )));
                }
                _ => {}
            }
        }
        for (i, c) in columns.iter().enumerate() {
            let Some(size) = self.column_size(c.dim) else {
                return Err(fail(format!(
                    "column {i}: dimension {} is not a standard one nor a declared extra dimension in its declared type (add_extra_dim)",
                    c.dim.id()
                )));
            };
            if columns[..i].iter().any(|o| o.dim == c.dim) {
                return Err(fail(format!("column {i}: {} given twice", c.dim.name())));
            }
            let stride = if c.stride == 0 { size } else { c.stride };
            if stride < size {
                return Err(fail(format!(
                    "column {i} ({}): stride {stride} < {size} bytes",
                    c.dim.name()
                )));
            }
            if n > 0 && c.data.len() < (n - 1) * stride + size {
                return Err(fail(format!(
                    "column {i} ({}): {} bytes, {n} points need {}",
                    c.dim.name(),
                    c.data.len(),
                    (n - 1) * stride + size
                )));
            }
        }
        if n == 0 {
            return Ok(());
        }
        let format = match self.format {
            Some(f) => f,
            None => {
                let f = if has(Dimension::Nir) {
                    8
                } else if has(Dimension::Red) || has(Dimension::Green) || has(Dimension::Blue) {
                    7
                } else {
                    6
                };
                self.format = Some(f);
                f
            }
        };
        let layout = PointLayout::new(format, PointLayout::base_size(format) + self.extra_len());
        let transform = match self.transform {
            Some(t) => t,
            None => {
                let t = self.first_transform(n, columns);
                self.transform = Some(t);
                t
            }
        };
        let rl = layout.record_length;
        let budget_points = *self.budget_points.get_or_insert_with(|| {
            // a limit below the floor keeps nothing in memory: translate says why at finish
            let limit = self.opts.memory_limit.unwrap_or_else(super::default_memory_limit);
            MemoryBudget::new(limit, rl, self.opts.max_points_per_node).map_or(0, |b| b.points)
        });
        if self.las.is_none() && self.points + n as u64 <= budget_points {
            let mem = self.mem.get_or_insert_with(|| InMemory { buf: PointBuf::new(rl), stats: Stats::new() });
            let start = mem.buf.recs.len();
            mem.buf.recs.resize(start + n * rl, 0);
            if let Err(e) = fill_records(&self.extras, &layout, &transform, &mut mem.buf.recs[start..], columns) {
                mem.buf.recs.truncate(start);
                return Err(fail(e));
            }
            mem.stats.add(&mem.buf.recs[start..], rl);
            mem.buf.seqs.extend(self.points..self.points + n as u64);
            self.points += n as u64;
            return Ok(());
        }
        let mut records = vec![0u8; n * rl];
        fill_records(&self.extras, &layout, &transform, &mut records, columns).map_err(fail)?;
        if self.las.is_none() {
            let spec = LasOutSpec {
                format,
                record_length: rl as u16,
                scale: transform.scale,
                offset: transform.offset,
                gps_standard_time: true,
                wkt: None,
                extra_bytes_vlr: self.extra_bytes_vlr(),
                compressed: false,
            };
            let mut las = LasOut::create(&self.temp, spec)?;
            // the points so far no longer fit the budget: they go first
            if let Some(mem) = self.mem.take() {
                las.write(&mem.buf.recs)?;
            }
            self.las = Some(las);
        }
        if let Some(las) = self.las.as_mut() {
            las.write(&records)?;
        }
        self.points += n as u64;
        Ok(())
    }

    /// Scale from the options (else the default), offset from the options (else the
    /// first batch's centre, rounded to 1000 scale steps).
    fn first_transform(&self, n: usize, columns: &[PointColumn<'_>]) -> Transform {
        let scale = self.opts.scale.unwrap_or([DEFAULT_POINTS_SCALE; 3]);
        let offset = match self.opts.offset {
            Some(OffsetOption::Value(o)) => o,
            _ => {
                let mut o = [0.0; 3];
                for (a, d) in [Dimension::X, Dimension::Y, Dimension::Z].into_iter().enumerate() {
                    if let Some(c) = columns.iter().find(|c| c.dim == d) {
                        let stride = if c.stride == 0 { 8 } else { c.stride };
                        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
                        for i in 0..n {
                            let v = f64::from_ne_bytes(c.data[i * stride..i * stride + 8].try_into().unwrap_or([0; 8]));
                            if v.is_finite() {
                                lo = lo.min(v);
                                hi = hi.max(v);
                            }
                        }
                        let step = 1000.0 * scale[a];
                        if lo.is_finite() && step > 0.0 {
                            o[a] = ((lo + hi) / 2.0 / step).round() * step;
                        }
                    }
                }
                o
            }
        };
        Transform { scale, offset }
    }

    /// Builds the COPC file from the points added (an empty file when there are none)
    /// and removes the temporary file.
    pub fn finish(mut self) -> Result<TranslateSummary> {
        if let Some(mem) = self.mem.take() {
            return self.opts.worker_pool()?.install(|| self.finish_in_memory(mem));
        }
        if self.las.is_none() {
            // No points: an empty points file of the asked (or smallest) format.
            let format = self.format.unwrap_or(6);
            let t = Transform {
                scale: self.opts.scale.unwrap_or([DEFAULT_POINTS_SCALE; 3]),
                offset: match self.opts.offset {
                    Some(OffsetOption::Value(o)) => o,
                    _ => [0.0; 3],
                },
            };
            let spec = LasOutSpec {
                format,
                record_length: (PointLayout::base_size(format) + self.extra_len()) as u16,
                scale: t.scale,
                offset: t.offset,
                gps_standard_time: true,
                wkt: None,
                extra_bytes_vlr: self.extra_bytes_vlr(),
                compressed: false,
            };
            self.las = Some(LasOut::create(&self.temp, spec)?);
        }
        if let Some(las) = self.las.take() {
            las.finish_scratch()?;
        }
        let result = translate(&[&self.temp], &self.output, &self.opts);
        let _ = std::fs::remove_file(&self.temp);
        result
    }

    /// `finish` for points that fit in memory: the build `translate` would do on the
    /// points file, the same decisions from the same numbers, without the file.
    fn finish_in_memory(&self, mem: InMemory) -> Result<TranslateSummary> {
        let opts = &self.opts;
        opts.check_max_points_per_node()?;
        let read_clock = super::phases::Clock::start();
        let started = std::time::Instant::now();
        let (Some(format), Some(t)) = (self.format, self.transform) else {
            return Err(Error::invalid(format!("{}: internal error: points without a format", self.name())));
        };
        let out_file = OutputFile::create(&self.output)?;
        let InMemory { mut buf, mut stats } = mem;
        let rec_len = buf.rec_len;
        // what the points file's header would say: its bounds, and "auto" offsets from them
        let (hmin, hmax) = stats.world(t.scale, t.offset);
        let offset = match opts.offset {
            Some(OffsetOption::Auto) => super::auto_offset(hmin, hmax, t.scale),
            _ => t.offset,
        };
        let mut warnings = Vec::new();
        let wkt = match &opts.a_srs {
            Some(a) => Some(super::crs::parse_a_srs(a)?),
            None => {
                super::warn(opts, &mut warnings, format!("{}: no CRS; the output has no CRS either, which `copc validate --strict` and other validators flag (give one with a_srs: WKT|EPSG:n)", self.name()));
                None
            }
        };
        let plan = Plan { format, rec_len, extra_len: self.extra_len(), scale: t.scale, offset, wkt, warnings };
        if let Some(rq) = Requantize::new(t.scale, t.offset, plan.scale, plan.offset) {
            // the whole data's centre differs from the first batch's: the points move to it
            let conv = Converter::new(PointLayout::new(format, rec_len), Some(rq));
            let mut moved = Vec::with_capacity(buf.recs.len());
            conv.convert(&buf.recs, &mut moved).map_err(|o| {
                Error::format(
                    &self.name(),
                    Location::Source,
                    format!(
                        "point {}: {} = {} does not fit a 32-bit integer at scale {} and offset {}: use a larger scale",
                        o.record, ["X", "Y", "Z"][o.axis], o.value, plan.scale[o.axis], plan.offset[o.axis]
                    ),
                )
            })?;
            buf.recs = moved;
            stats = Stats::new();
            stats.add(&buf.recs, rec_len);
        }
        let provisional = super::provisional_cube(&plan, Some(hmin), Some(hmax));
        let limit = opts.memory_limit.unwrap_or_else(super::default_memory_limit);
        let budget = MemoryBudget::new(limit, rec_len, opts.max_points_per_node)?;
        // the header fields the points file would carry (LasOut: zeros, GPS bit set)
        let origin = Origin {
            gps_bit: true,
            file_source_id: 0,
            guid: [0; 16],
            system_identifier: String::new(),
            creation_day: 0,
            creation_year: 0,
            extra_bytes_vlr: self.extra_bytes_vlr(),
            vlrs: Vec::new(),
            evlrs: Vec::new(),
        };
        let input_bytes = buf.recs.len() as u64;
        let ingested = Ingested { plan, stats, provisional, held: Held::Memory(buf), started, read_clock, input_bytes };
        super::build_and_write(out_file, &self.output, opts, ingested, &budget, origin)
    }
}


/// Bytes per value of `dim` given the declared extra dimensions (see
/// [`PointWriter::column_size`]).
fn column_size(extras: &[ExtraDecl], dim: Dimension) -> Option<usize> {
    match dim {
        Dimension::ExtraRaw(i) => extras.get(usize::from(i)).map(|e| e.size),
        Dimension::Extra(_) => None,
        d => Some(d.dim_type().size()),
    }
}

/// Writes `columns` into whole records of `layout` (`records` holds a whole number of
/// them; absent dimensions are 0, return 1 of 1).
fn fill_records(extras: &[ExtraDecl], layout: &PointLayout, transform: &Transform, records: &mut [u8], columns: &[PointColumn<'_>]) -> std::result::Result<(), String> {
    let rl = layout.record_length;
    for r in records.chunks_exact_mut(rl) {
        r[14] = 0x11; // return 1 of 1
    }
    for c in columns {
        let size = column_size(extras, c.dim).unwrap_or(0);
        let stride = if c.stride == 0 { size } else { c.stride };
        if let Dimension::ExtraRaw(k) = c.dim {
            // Native order in the caller's buffer, little-endian in the record.
            let at = layout.extra_start + extras[usize::from(k)].at;
            for (i, r) in records.chunks_exact_mut(rl).enumerate() {
                let dst = &mut r[at..at + size];
                dst.copy_from_slice(&c.data[i * stride..i * stride + size]);
                if cfg!(target_endian = "big") {
                    dst.reverse();
                }
            }
            continue;
        }
        read_column(layout, transform, records, c.dim, c.data, stride)?;
    }
    Ok(())
}

impl Drop for PointWriter {
    fn drop(&mut self) {
        // An unfinished LasOut removes its own temp file; a finished one was renamed to
        // `temp`, which `finish` removes, so only a failure in between leaves it.
        self.las = None;
        let _ = std::fs::remove_file(&self.temp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Query, Reader};

    fn bytes<T: Copy>(v: &[T], f: impl Fn(T) -> Vec<u8>) -> Vec<u8> {
        v.iter().flat_map(|x| f(*x)).collect()
    }

    #[test]
    fn points_round_trip_through_a_copc_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("pts.copc.laz");
        let n = 20_000;
        let xyz: Vec<[f64; 3]> = (0..n)
            .map(|i| {
                let f = i as f64;
                [
                    500_000.0 + (f * 7.31) % 1000.0,
                    4_000_000.0 + (f * 3.77) % 800.0,
                    100.0 + (f * 1.13) % 50.0,
                ]
            })
            .map(|p| p.map(|v| (v * 1000.0).round() / 1000.0))
            .collect();
        let class: Vec<u8> = (0..n).map(|i| (i % 7) as u8).collect();
        let red: Vec<u16> = (0..n).map(|i| (i * 3) as u16).collect();
        let flat = bytes(&xyz, |p| p.iter().flat_map(|v| v.to_ne_bytes()).collect());
        let opts = WriterOptions {
            max_points_per_node: 3000,
            threads: Some(2),
            ..Default::default()
        };
        let mut w = PointWriter::create(&out, opts, None).unwrap();
        for (lo, hi) in [(0, 7000), (7000, 7000), (7000, n)] {
            let k = hi - lo;
            let cls = &class[lo..hi];
            let rd = bytes(&red[lo..hi], |v| v.to_ne_bytes().to_vec());
            let base = &flat[lo * 24..];
            w.add(
                k,
                &[
                    PointColumn {
                        dim: Dimension::X,
                        data: base,
                        stride: 24,
                    },
                    PointColumn {
                        dim: Dimension::Y,
                        data: &base[8..],
                        stride: 24,
                    },
                    PointColumn {
                        dim: Dimension::Z,
                        data: &base[16..],
                        stride: 24,
                    },
                    PointColumn {
                        dim: Dimension::Classification,
                        data: cls,
                        stride: 0,
                    },
                    PointColumn {
                        dim: Dimension::Red,
                        data: &rd,
                        stride: 0,
                    },
                ],
            )
            .unwrap();
        }
        assert_eq!(w.points(), n as u64);
        let temp = w.temp.clone();
        let summary = w.finish().unwrap();
        assert_eq!(summary.points, n as u64);
        assert!(!temp.exists(), "the temporary points file is removed");
        let r = Reader::open(&out).unwrap();
        assert_eq!(r.header().point_format, 7, "RGB columns choose format 7");
        assert_eq!(r.header().scale, [DEFAULT_POINTS_SCALE; 3]);
        let mut got = Vec::new();
        for b in r.points(&Query::new()).unwrap() {
            let b = b.unwrap();
            let (x, y, z) = (
                b.column::<f64>(Dimension::X).unwrap(),
                b.column::<f64>(Dimension::Y).unwrap(),
                b.column::<f64>(Dimension::Z).unwrap(),
            );
            let c = b.column::<u8>(Dimension::Classification).unwrap();
            let rd = b.column::<u16>(Dimension::Red).unwrap();
            let ret = b.column::<u8>(Dimension::ReturnNumber).unwrap();
            for i in 0..b.len() {
                assert_eq!(ret[i], 1);
                got.push((
                    (x[i] * 1000.0).round() as i64,
                    (y[i] * 1000.0).round() as i64,
                    (z[i] * 1000.0).round() as i64,
                    c[i],
                    rd[i],
                ));
            }
        }
        let mut want: Vec<_> = (0..n)
            .map(|i| {
                let p = xyz[i];
                (
                    (p[0] * 1000.0).round() as i64,
                    (p[1] * 1000.0).round() as i64,
                    (p[2] * 1000.0).round() as i64,
                    class[i],
                    red[i],
                )
            })
            .collect();
        got.sort();
        want.sort();
        assert!(got == want, "the points read back are the points written");
    }

    #[test]
    fn bad_input_is_refused_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("bad.copc.laz");
        let x = 1.0f64.to_ne_bytes();
        let mut w = PointWriter::create(&out, WriterOptions::default(), Some(6)).unwrap();
        let xyz = |d| PointColumn {
            dim: d,
            data: &x,
            stride: 0,
        };
        assert!(
            w.add(1, &[xyz(Dimension::X), xyz(Dimension::Y)])
                .unwrap_err()
                .to_string()
                .contains("no z")
        );
        let red = 5u16.to_ne_bytes();
        let e = w.add(
            1,
            &[
                xyz(Dimension::X),
                xyz(Dimension::Y),
                xyz(Dimension::Z),
                PointColumn {
                    dim: Dimension::Red,
                    data: &red,
                    stride: 0,
                },
            ],
        );
        assert!(e.unwrap_err().to_string().contains("no red"), "format 6 was asked for");
        let raw = 5i32.to_ne_bytes();
        let e = w.add(
            1,
            &[
                xyz(Dimension::X),
                xyz(Dimension::Y),
                PointColumn {
                    dim: Dimension::ZRaw,
                    data: &raw,
                    stride: 0,
                },
            ],
        );
        assert!(e.unwrap_err().to_string().contains("scale and offset"));
        assert!(
            w.add(2, &[xyz(Dimension::X), xyz(Dimension::Y), xyz(Dimension::Z)])
                .is_err(),
            "short column"
        );
        assert!(
            PointWriter::create(
                dir.path().join("no/such/dir/x.copc.laz"),
                WriterOptions::default(),
                None
            )
            .is_err()
        );
        assert!(PointWriter::create(&out, WriterOptions::default(), Some(3)).is_err());
        w.add(1, &[xyz(Dimension::X), xyz(Dimension::Y), xyz(Dimension::Z)])
            .unwrap();
        drop(w);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "dropping without finish leaves nothing"
        );
    }

    /// The same points through memory (they fit the budget) and through the points
    /// file and `translate` (a limit they do not fit, so it spills too): the same bytes,
    /// with the offset from the first batch or "auto" (from all the points), extra
    /// dimensions and a CRS.
    #[test]
    fn in_memory_and_points_file_give_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let n = 60_000usize;
        // the first batch sits in one corner, so "auto" moves the offset at finish
        let xyz: Vec<f64> = (0..n)
            .flat_map(|i| {
                let f = i as f64;
                let spread = if i < 5_000 { 20.0 } else { 900.0 };
                [500_000.0 + (f * 7.31) % spread, 4_000_000.0 + (f * 3.77) % spread, 100.0 + (f * 1.13) % 50.0]
            })
            .collect();
        let flat = bytes(&xyz, |v| v.to_ne_bytes().to_vec());
        let gps = bytes(&(0..n).map(|i| (i / 7) as f64).collect::<Vec<_>>(), |v| v.to_ne_bytes().to_vec());
        let amp: Vec<u8> = bytes(&(0..n).map(|i| (i % 1000) as u16).collect::<Vec<_>>(), |v| v.to_ne_bytes().to_vec());
        let write = |name: &str, offset: Option<OffsetOption>, limit: u64| {
            let out = dir.path().join(name);
            let opts = WriterOptions {
                max_points_per_node: 1000,
                threads: Some(2),
                memory_limit: Some(limit),
                offset,
                a_srs: Some("EPSG:32610".into()),
                ..Default::default()
            };
            let mut w = PointWriter::create(&out, opts, None).unwrap();
            let amp_dim = w.add_extra_dim("amplitude", 3, "test").unwrap();
            for (lo, hi) in [(0, 5_000), (5_000, 31_000), (31_000, n)] {
                let base = &flat[lo * 24..];
                let col = |dim, at: usize| PointColumn { dim, data: &base[at..], stride: 24 };
                w.add(
                    hi - lo,
                    &[
                        col(Dimension::X, 0),
                        col(Dimension::Y, 8),
                        col(Dimension::Z, 16),
                        PointColumn { dim: Dimension::GpsTime, data: &gps[lo * 8..], stride: 0 },
                        PointColumn { dim: amp_dim, data: &amp[lo * 2..], stride: 0 },
                    ],
                )
                .unwrap();
            }
            let summary = w.finish().unwrap();
            (std::fs::read(&out).unwrap(), summary)
        };
        let mut offsets = Vec::new();
        for offset in [None, Some(OffsetOption::Auto)] {
            let (a, sa) = write("mem.copc.laz", offset, 1 << 30);
            let (b, sb) = write("file.copc.laz", offset, 74 << 20);
            assert!(!sa.spilled && sb.spilled, "one kept in memory, one spilled: {} {}", sa.spilled, sb.spilled);
            assert_eq!(sa.offset, sb.offset);
            assert!(sa.nodes > 8, "a tree, not a single node: {}", sa.nodes);
            assert!(a == b, "offset {offset:?}: {} and {} bytes differ", a.len(), b.len());
            offsets.push(sa.offset[0]);
        }
        assert_eq!(offsets, [500_010.0, 500_450.0], "the first batch's centre, then all the points'");
    }

    #[test]
    fn no_points_give_an_empty_copc_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("empty.copc.laz");
        let w = PointWriter::create(&out, WriterOptions::default(), None).unwrap();
        assert_eq!(w.finish().unwrap().points, 0);
        let r = Reader::open(&out).unwrap();
        assert_eq!(r.header().point_count, 0);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// (user id, record id, description, payload, extended) of one record.
    type RawRecord = (String, u16, String, Vec<u8>, bool);

    /// The header and (E)VLRs of a COPC file, read with las-rs (not our reader).
    fn raw_header_and_records(path: &Path) -> (las::raw::Header, Vec<RawRecord>) {
        use std::io::{Read, Seek, SeekFrom};
        let c = |b: &[u8]| String::from_utf8_lossy(b).trim_end_matches('\0').to_string();
        let mut f = std::fs::File::open(path).unwrap();
        let h = las::raw::Header::read_from(&mut f).unwrap();
        let mut out = Vec::new();
        f.seek(SeekFrom::Start(u64::from(h.header_size))).unwrap();
        for _ in 0..h.number_of_variable_length_records {
            let v = las::raw::Vlr::read_from(&mut f, false).unwrap();
            out.push((c(&v.user_id), v.record_id, c(&v.description), v.data, false));
        }
        let evlr = h.evlr.unwrap();
        f.seek(SeekFrom::Start(evlr.start_of_first_evlr)).unwrap();
        for _ in 0..evlr.number_of_evlrs {
            let v = las::raw::Vlr::read_from(&mut f, true).unwrap();
            out.push((c(&v.user_id), v.record_id, c(&v.description), v.data, true));
        }
        let mut rest = Vec::new();
        f.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty(), "bytes after the last EVLR");
        (h, out)
    }

    fn three_points(w: &mut PointWriter) {
        let xyz: Vec<u8> = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0].iter().flat_map(|v| v.to_ne_bytes()).collect();
        let col = |dim, at| PointColumn { dim, data: &xyz[at..], stride: 24 };
        w.add(2, &[col(Dimension::X, 0), col(Dimension::Y, 8), col(Dimension::Z, 16)]).unwrap();
    }

    #[test]
    fn header_overrides_and_user_vlrs_reach_the_file_and_are_forwarded_by_translate() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.copc.laz");
        let guid = super::super::parse_guid("0E5F4C53-2C5D-4D26-9F0B-6A1A1F0B2C3D").unwrap();
        let opts = WriterOptions {
            header: super::super::HeaderOverrides {
                file_source_id: Some(4711),
                global_encoding: Some(0),
                guid: Some(guid),
                system_identifier: Some("test system".into()),
                generating_software: Some("test software".into()),
                creation_day: Some(45),
                creation_year: Some(2019),
            },
            vlrs: vec![UserVlr::new("my_org", 7, "notes", b"hello".to_vec())],
            ..Default::default()
        };
        let mut w = PointWriter::create(&a, opts, None).unwrap();
        let big = UserVlr { extended: true, ..UserVlr::new("my_org", 8, "big", vec![9u8; 70_000]) };
        w.add_vlr(big.clone()).unwrap();
        w.add_vlr(UserVlr::new("my_org", 7, "notes", b"hello".to_vec())).unwrap(); // a duplicate: once
        let e = w.add_vlr(UserVlr::new("LASF_Projection", 2112, "", vec![0])).unwrap_err().to_string();
        assert!(e.contains("a.copc.laz") && e.contains("LASF_Projection/2112") && e.contains("a_srs"), "{e}");
        three_points(&mut w);
        w.finish().unwrap();
        let (h, recs) = raw_header_and_records(&a);
        assert_eq!(h.file_source_id, 4711);
        assert_eq!(h.global_encoding, 0x10, "GPS bit cleared by global_encoding 0, WKT bit kept");
        assert_eq!(h.guid, guid);
        assert_eq!(&h.system_identifier[..12], b"test system\0");
        assert_eq!(&h.generating_software[..14], b"test software\0");
        assert_eq!((h.file_creation_day_of_year, h.file_creation_year), (45, 2019));
        let users: Vec<_> = recs.iter().filter(|r| r.0 == "my_org").collect();
        assert_eq!(users.len(), 2, "{recs:?}");
        assert_eq!((users[0].1, users[0].2.as_str(), &users[0].3[..], users[0].4), (7, "notes", &b"hello"[..], false));
        assert_eq!((users[1].1, users[1].3.len(), users[1].4), (8, 70_000, true));
        assert!(Reader::open(&a).is_ok(), "still a valid COPC file");

        // translate keeps one input's fields and records; options replace them
        let b = dir.path().join("b.copc.laz");
        translate(&[&a], &b, &WriterOptions::default()).unwrap();
        let (hb, recs_b) = raw_header_and_records(&b);
        assert_eq!((hb.file_source_id, hb.guid, hb.system_identifier), (4711, guid, h.system_identifier));
        assert_eq!((hb.file_creation_day_of_year, hb.file_creation_year), (45, 2019));
        assert_eq!(recs_b.iter().filter(|r| r.0 == "my_org").count(), 2);
        let c = dir.path().join("c.copc.laz");
        let o = WriterOptions {
            header: super::super::HeaderOverrides {
                file_source_id: Some(1),
                global_encoding: Some(17),
                creation_year: Some(2024),
                ..Default::default()
            },
            vlrs: vec![UserVlr::new("other", 1, "", vec![1, 2, 3])],
            ..Default::default()
        };
        translate(&[&a], &c, &o).unwrap();
        let (hc, recs_c) = raw_header_and_records(&c);
        assert_eq!((hc.file_source_id, hc.global_encoding, hc.guid), (1, 0x11, guid));
        assert_eq!((hc.file_creation_day_of_year, hc.file_creation_year), (45, 2024));
        assert!(recs_c.iter().any(|r| r.0 == "other" && r.3 == [1, 2, 3]));
        assert_eq!(recs_c.iter().filter(|r| r.0 == "copc").count(), 2, "one info VLR, one hierarchy EVLR");
    }

    #[test]
    fn bad_header_fields_fail_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("x.copc.laz");
        let opts = WriterOptions {
            header: super::super::HeaderOverrides { system_identifier: Some("s".repeat(40)), ..Default::default() },
            ..Default::default()
        };
        let e = PointWriter::create(&out, opts.clone(), None).err().unwrap().to_string();
        assert!(e.contains("system_id") && e.contains("40 bytes"), "{e}");
        let e = translate(&[dir.path().join("in.las")], &out, &opts).unwrap_err().to_string();
        assert!(e.contains("system_id"), "checked before the input is opened: {e}");
        let opts = WriterOptions { vlrs: vec![UserVlr::new("copc", 1, "", vec![])], ..Default::default() };
        assert!(PointWriter::create(&out, opts, None).err().unwrap().to_string().contains("copc/1"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

}
