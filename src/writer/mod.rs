//! The COPC writer: LAS/LAZ inputs (1.0-1.4, formats 0-10) in, one COPC 1.0 file out.
//!
//! ```no_run
//! use copc::writer::{translate, WriterOptions};
//! let opts = WriterOptions { threads: Some(2), ..Default::default() };
//! let summary = translate(&["in.laz"], "out.copc.laz", &opts)?;
//! println!("{} points in {} nodes", summary.points, summary.nodes);
//! # Ok::<(), copc::Error>(())
//! ```
//! or with the builder: `Writer::new(opts).input("a.laz").input("b.laz").write("out.copc.laz")`.
//!
//! How it works:
//! 1. [`input`] opens every input through `format/` (header, VLRs, EVLRs, extra
//!    bytes, LAZ chunk table) and checks that they can be merged (same COPC point
//!    format, same extra bytes, same CRS).
//! 2. Scale and offset: `scale` option, else the inputs' (the finest per axis when
//!    they differ); `offset` option, else the inputs' common offset when it fits,
//!    else "auto" (the centre of the data rounded to 1000 scale steps, so a
//!    multiple of the scale). A coordinate that does not fit an i32 is an error that
//!    says which option to change.
//! 3. One streaming pass decodes the inputs (LAZ chunks in parallel), converts every
//!    record to format 6/7/8 ([`convert`]) and either keeps it in memory or, when the
//!    inputs' point count exceeds what `memory_limit` allows, bins it by octree node
//!    into one temp file under `temp_dir`, encoded with `temp_compression`
//!    ([`spill`]; the budget: `MemoryBudget`, the floor: [`memory_floor`]).
//! 4. The octree ([`octree`]) is built bottom-up with grid sampling; each finished
//!    node is compressed to one LAZ chunk in parallel.
//! 5. [`file`](mod@file) assembles header, VLRs, chunks, chunk table and hierarchy pages into
//!    a temp file next to the output (created, unnamed, before any point is read, so
//!    an unwritable target fails at once), fsyncs it and links it into place
//!    ([`temp`]: a killed run leaves nothing at or beside the target).
//!
//! The output depends only on the inputs and the options that shape it (scale,
//! offset, a_srs, max_points_per_node, page policy): not on `threads`,
//! `memory_limit`, `temp_dir` or `temp_compression`. [`TranslateSummary::phases`]
//! says what each phase cost ([`phases`]). An empty input gives a valid COPC file with no
//! points (a root entry with point count 0).

pub mod convert;
pub mod crs;
pub mod file;
pub mod header;
pub mod input;
pub mod las_out;
pub mod octree;
pub mod phases;
pub mod points;
pub mod spill;
pub mod temp;

use crate::error::{Error, Location, Result};
use crate::format::{Cube, VoxelKey};
use crate::source::{HttpOptions, open_source};
use convert::{Converter, Requantize, has_waveform, target_format};
use file::{ChunkStore, FileSpec, PagePolicy};
use input::InputFile;
use octree::{Builder, ChunkSink, Geometry, PointBuf};
use spill::Bins;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

pub use file::PagePolicy as HierarchyPages;
pub use header::{HeaderOverrides, UserVlr, format_guid, parse_guid, writer_owned};
pub use phases::{PHASES, PhaseStats};
pub use spill::TempCompression;
pub use points::{PointColumn, PointWriter};

/// What the progress callback hears.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Progress {
    /// Points read (and converted) so far, of the total the input headers announce.
    PointsRead { read: u64, total: u64 },
    /// Octree nodes compressed so far.
    NodesWritten { nodes: u64 },
    /// A phase (one of [`PHASES`]) and how far it is: `done` of `total` points
    /// (read, build, encode) or nodes (assemble). Sent when it starts and as it goes.
    Phase { name: &'static str, done: u64, total: u64 },
    /// Something the user should know (a dropped field, an unconvertible CRS...).
    Warning(String),
    /// The output file is in place.
    Done { points: u64, nodes: u64 },
}

pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// `--offset`: explicit values or "auto".
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OffsetOption {
    Auto,
    Value([f64; 3]),
}

/// Options of `copc translate` (same names, same meaning).
#[derive(Clone)]
pub struct WriterOptions {
    /// `--threads`: worker threads (default: all cores).
    pub threads: Option<usize>,
    /// `--memory-limit` in bytes (default: half the machine's RAM). Above what fits,
    /// points spill to `temp_dir`.
    pub memory_limit: Option<u64>,
    /// `--temp-dir` for spill files (default: the system temp folder).
    pub temp_dir: Option<PathBuf>,
    /// `--temp-compression`: how spilled points are stored (default LZ4; README,
    /// "Writing COPC", has the measured trade-off). The output does not depend on it.
    pub temp_compression: TempCompression,
    /// `--scale X[,Y,Z]` (default: the inputs').
    pub scale: Option<[f64; 3]>,
    /// `--offset X,Y,Z|auto` (default: the inputs' when it fits).
    pub offset: Option<OffsetOption>,
    /// `--a-srs WKT|EPSG:n`: the output CRS, overriding the inputs'.
    pub a_srs: Option<String>,
    /// `--max-points-per-node` (default 100 000): leaves hold at most this many
    /// points (except nodes of identical points that cannot be split).
    pub max_points_per_node: usize,
    /// `--progress`: called with [`Progress`] events (from any thread).
    pub progress: Option<ProgressFn>,
    /// How the hierarchy is cut into pages.
    pub hierarchy_pages: PagePolicy,
    /// Set it (e.g. from a Ctrl-C handler) to stop the writer: it returns
    /// [`Error::Cancelled`] soon after, with its temp files removed and nothing at
    /// the output path.
    pub cancel: Option<Arc<AtomicBool>>,
    /// How inputs given as URLs (`http(s)://`, `s3://`, `az://`, ...) are read: the
    /// reader's HTTP and object-store settings ([`crate::open_source`]).
    pub http: HttpOptions,
    /// Header fields set by the caller (file source id, GUID, system and software
    /// identifiers, creation date, GPS time bit), replacing the inputs' ([`header`]).
    pub header: HeaderOverrides,
    /// VLRs and EVLRs copied into the output after the ones forwarded from the inputs;
    /// the records the writer makes itself are refused ([`writer_owned`]).
    pub vlrs: Vec<UserVlr>,
    /// `--bounds`: [`translate`] keeps only the points in this box (edges included),
    /// tested at the output's scale and offset. [`PointWriter`] refuses it.
    pub clip: Option<crate::format::Bounds>,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            threads: None,
            memory_limit: None,
            temp_dir: None,
            temp_compression: TempCompression::default(),
            scale: None,
            offset: None,
            a_srs: None,
            max_points_per_node: DEFAULT_MAX_POINTS_PER_NODE,
            progress: None,
            hierarchy_pages: PagePolicy::default(),
            cancel: None,
            http: HttpOptions::default(),
            header: HeaderOverrides::default(),
            vlrs: Vec::new(),
            clip: None,
        }
    }
}

impl std::fmt::Debug for WriterOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterOptions")
            .field("threads", &self.threads)
            .field("memory_limit", &self.memory_limit)
            .field("temp_dir", &self.temp_dir)
            .field("temp_compression", &self.temp_compression)
            .field("scale", &self.scale)
            .field("offset", &self.offset)
            .field("a_srs", &self.a_srs)
            .field("max_points_per_node", &self.max_points_per_node)
            .field("progress", &self.progress.is_some())
            .field("hierarchy_pages", &self.hierarchy_pages)
            .field("cancel", &self.cancel.is_some())
            .field("http", &self.http)
            .field("header", &self.header)
            .field("clip", &self.clip)
            .field(
                "vlrs",
                &self
                    .vlrs
                    .iter()
                    .map(|v| format!("{}/{} ({} bytes)", v.user_id, v.record_id, v.data.len()))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl WriterOptions {
    /// The rayon pool of `threads` workers every writer runs in (translate, the EPT
    /// repacker, [`PointWriter::finish`]).
    pub(crate) fn worker_pool(&self) -> Result<rayon::ThreadPool> {
        let threads = self.threads.unwrap_or(0);
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::invalid(format!("cannot start {threads} threads: {e}")))
    }

    /// `max_points_per_node` must fit a COPC entry's i32 point count and not be 0.
    pub(crate) fn check_max_points_per_node(&self) -> Result<()> {
        if self.max_points_per_node == 0 || self.max_points_per_node > i32::MAX as usize {
            return Err(Error::invalid("--max-points-per-node must be between 1 and 2147483647"));
        }
        Ok(())
    }
}

pub const DEFAULT_MAX_POINTS_PER_NODE: usize = 100_000;

/// What a translation did.
#[derive(Debug, Clone, PartialEq)]
pub struct TranslateSummary {
    pub points: u64,
    /// Data nodes (= LAZ chunks).
    pub nodes: u64,
    pub hierarchy_pages: u64,
    pub point_format: u8,
    pub scale: [f64; 3],
    pub offset: [f64; 3],
    pub cube: Cube,
    pub spacing: f64,
    /// True when points went through temp files.
    pub spilled: bool,
    /// Peak bytes of the spill file (0 when nothing spilled).
    pub peak_temp_bytes: u64,
    /// The temp codec used when spilling.
    pub temp_compression: TempCompression,
    /// Points read back and written again because one bin held more than the memory
    /// budget (0 unless the points are far denser in places than on average).
    pub restreamed_points: u64,
    /// Points of the largest subtree the spilled build loaded at once (0 when
    /// nothing spilled): what the memory limit let one load hold.
    pub largest_load: u64,
    /// Per phase, in the order of [`PHASES`]: wall, CPU and bytes.
    pub phases: [PhaseStats; 4],
    pub warnings: Vec<String>,
    /// Seconds spent per stage: read, build, write.
    pub seconds: [f64; 3],
}

/// Builder form of [`translate`].
#[derive(Debug, Clone, Default)]
pub struct Writer {
    opts: WriterOptions,
    inputs: Vec<PathBuf>,
}

impl Writer {
    pub fn new(opts: WriterOptions) -> Self {
        Writer {
            opts,
            inputs: Vec::new(),
        }
    }
    pub fn input(mut self, path: impl AsRef<Path>) -> Self {
        self.inputs.push(path.as_ref().to_path_buf());
        self
    }
    pub fn threads(mut self, n: usize) -> Self {
        self.opts.threads = Some(n);
        self
    }
    pub fn memory_limit(mut self, bytes: u64) -> Self {
        self.opts.memory_limit = Some(bytes);
        self
    }
    pub fn temp_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.opts.temp_dir = Some(dir.as_ref().to_path_buf());
        self
    }
    pub fn temp_compression(mut self, c: TempCompression) -> Self {
        self.opts.temp_compression = c;
        self
    }
    pub fn scale(mut self, s: [f64; 3]) -> Self {
        self.opts.scale = Some(s);
        self
    }
    pub fn offset(mut self, o: OffsetOption) -> Self {
        self.opts.offset = Some(o);
        self
    }
    pub fn a_srs(mut self, s: impl Into<String>) -> Self {
        self.opts.a_srs = Some(s.into());
        self
    }
    pub fn max_points_per_node(mut self, n: usize) -> Self {
        self.opts.max_points_per_node = n;
        self
    }
    pub fn progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.opts.progress = Some(Arc::new(f));
        self
    }
    pub fn options(&self) -> &WriterOptions {
        &self.opts
    }
    /// Writes every input into one COPC file at `output`.
    pub fn write(&self, output: impl AsRef<Path>) -> Result<TranslateSummary> {
        translate(&self.inputs, output, &self.opts)
    }
}

/// Parses a size such as `512M`, `2G`, `1.5GiB`, `1000000` (bytes).
pub fn parse_size(s: &str) -> Result<u64> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num
        .parse()
        .map_err(|_| Error::invalid(format!("'{s}' is not a size (examples: 512M, 2G, 1000000)")))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0f64.powi(4),
        u => {
            return Err(Error::invalid(format!(
                "'{s}': unknown size unit '{u}' (use K, M, G or T)"
            )));
        }
    };
    Ok((v * mult) as u64)
}

/// Parses `--scale X[,Y,Z]`.
pub fn parse_scale(s: &str) -> Result<[f64; 3]> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| Error::invalid(format!("--scale '{s}': expected X or X,Y,Z numbers")))?;
    let out = match v.as_slice() {
        [a] => [*a; 3],
        [a, b, c] => [*a, *b, *c],
        _ => return Err(Error::invalid(format!("--scale '{s}': expected 1 or 3 values"))),
    };
    if out.iter().any(|x| !(x.is_finite() && *x > 0.0)) {
        return Err(Error::invalid(format!("--scale '{s}': scales must be positive")));
    }
    Ok(out)
}

/// Parses `--offset X,Y,Z|auto`.
pub fn parse_offset(s: &str) -> Result<OffsetOption> {
    if s.trim().eq_ignore_ascii_case("auto") {
        return Ok(OffsetOption::Auto);
    }
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| Error::invalid(format!("--offset '{s}': expected X,Y,Z or auto")))?;
    match v.as_slice() {
        [a, b, c] if [a, b, c].iter().all(|x| x.is_finite()) => Ok(OffsetOption::Value([*a, *b, *c])),
        _ => Err(Error::invalid(format!(
            "--offset '{s}': expected three finite numbers X,Y,Z or auto"
        ))),
    }
}

/// Half the machine's RAM (from /proc/meminfo), 2 GiB when unknown.
pub fn default_memory_limit() -> u64 {
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
        s.lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
    });
    total.map(|kb| kb * 1024 / 2).unwrap_or(2 << 30)
}

/// Translates LAS/LAZ `inputs` into one COPC file at `output`. See the module docs.
pub fn translate<P: AsRef<Path>>(
    inputs: &[P],
    output: impl AsRef<Path>,
    opts: &WriterOptions,
) -> Result<TranslateSummary> {
    let output = output.as_ref();
    let pool = opts.worker_pool()?;
    let paths: Vec<PathBuf> = inputs.iter().map(|p| p.as_ref().to_path_buf()).collect();
    pool.install(|| run(&paths, output, opts))
}

/// What the header needs from the points: quantized extents, GPS range, counts by
/// return (also used by the EPT repacker, `crate::ept`).
#[derive(Debug, Clone)]
pub(crate) struct Stats {
    pub(crate) min: [i32; 3],
    pub(crate) max: [i32; 3],
    pub(crate) gps: [f64; 2],
    pub(crate) by_return: [u64; 15],
    pub(crate) count: u64,
}

impl Stats {
    /// The info VLR's GPS range: [0, 0] with no points or no finite time.
    pub(crate) fn gps_range(&self) -> [f64; 2] {
        if self.count == 0 || !self.gps[0].is_finite() { [0.0, 0.0] } else { self.gps }
    }

    pub(crate) fn new() -> Self {
        Stats {
            min: [i32::MAX; 3],
            max: [i32::MIN; 3],
            gps: [f64::INFINITY, f64::NEG_INFINITY],
            by_return: [0; 15],
            count: 0,
        }
    }
    /// Adds format 6-8 records (extents from X, Y, Z; returns; GPS time).
    pub(crate) fn add(&mut self, recs: &[u8], rec_len: usize) {
        for r in recs.chunks_exact(rec_len) {
            for a in 0..3 {
                let v = i32::from_le_bytes([r[4 * a], r[4 * a + 1], r[4 * a + 2], r[4 * a + 3]]);
                self.min[a] = self.min[a].min(v);
                self.max[a] = self.max[a].max(v);
            }
            let t = f64::from_le_bytes(r[22..30].try_into().unwrap_or([0; 8]));
            self.gps[0] = self.gps[0].min(t);
            self.gps[1] = self.gps[1].max(t);
            let rn = (r[14] & 0x0F) as usize;
            if rn >= 1 {
                self.by_return[rn - 1] += 1;
            }
            self.count += 1;
        }
    }
    /// Adds the points another `Stats` saw.
    pub(crate) fn merge(&mut self, o: &Stats) {
        for a in 0..3 {
            self.min[a] = self.min[a].min(o.min[a]);
            self.max[a] = self.max[a].max(o.max[a]);
        }
        self.gps[0] = self.gps[0].min(o.gps[0]);
        self.gps[1] = self.gps[1].max(o.gps[1]);
        for (a, b) in self.by_return.iter_mut().zip(o.by_return) {
            *a += b;
        }
        self.count += o.count;
    }
    fn world(&self, scale: [f64; 3], offset: [f64; 3]) -> ([f64; 3], [f64; 3]) {
        let mut min = [0.0; 3];
        let mut max = [0.0; 3];
        for a in 0..3 {
            min[a] = self.min[a] as f64 * scale[a] + offset[a];
            max[a] = self.max[a] as f64 * scale[a] + offset[a];
        }
        (min, max)
    }
}

/// Records a COPC file must not carry over from its inputs: the ones the writer makes
/// itself, and an EPT dataset's `entwine` records (a caller may still add those).
fn is_dropped_record(user: &str, id: u16) -> bool {
    writer_owned(user, id).is_some() || user == "entwine"
}

/// The output's point format, record layout, quantization and CRS.
pub(crate) struct Plan {
    pub(crate) format: u8,
    pub(crate) rec_len: usize,
    pub(crate) extra_len: usize,
    pub(crate) scale: [f64; 3],
    pub(crate) offset: [f64; 3],
    pub(crate) wkt: Option<String>,
    pub(crate) warnings: Vec<String>,
}

pub(crate) fn warn(opts: &WriterOptions, warnings: &mut Vec<String>, msg: String) {
    if let Some(p) = &opts.progress {
        p(&Progress::Warning(msg.clone()));
    }
    warnings.push(msg);
}

/// COPC is LAS 1.4, whose GPS times are standard GPS time - 10^9 s; a LAS 1.5 input
/// with another time offset gets its times shifted, which the header's offset field
/// cannot carry and which coarsens their precision where they grow.
fn gps_rebase_warning(name: &str, offset: u16, shift: f64) -> String {
    format!(
        "{name}: LAS 1.5 GPS times with time offset {offset} x 10^6 s are written as LAS 1.4 adjusted standard GPS time (offset 1000 x 10^6 s): {shift:+} s added to every GPS time"
    )
}

/// The inputs' names for a message: all of them when few, else the first ones and how many more.
fn input_names(files: &[InputFile]) -> String {
    let names: Vec<&str> = files.iter().take(3).map(|f| f.name.as_str()).collect();
    match files.len() {
        n if n <= 3 => names.join(", "),
        n => format!("{} and {} more inputs", names.join(", "), n - 3),
    }
}

fn plan(files: &[InputFile], opts: &WriterOptions) -> Result<Plan> {
    let first = &files[0];
    let format = target_format(first.header.point_format);
    let extra_len = first.header.extra_bytes_len();
    let mut warnings = Vec::new();
    for f in files {
        if let (Some(offset), Some(shift)) = (f.header.gps_time_offset, f.header.gps_time_shift()) {
            if f.layout.gps_time.is_some() {
                warn(opts, &mut warnings, gps_rebase_warning(&f.name, offset, shift));
            }
        }
        for w in &f.warnings {
            warn(opts, &mut warnings, w.clone());
        }
    }
    for f in files {
        let tf = target_format(f.header.point_format);
        if tf != format {
            return Err(Error::invalid(format!(
                "cannot merge {} (point format {}, becomes {tf}) with {} (point format {}, becomes {format}): convert them to one point format family first",
                f.name, f.header.point_format, first.name, first.header.point_format
            )));
        }
        let gps_kind = |f: &InputFile| f.layout.gps_time.is_some().then_some(f.header.global_encoding() & 1);
        if let (Some(a), Some(b)) = (gps_kind(f), gps_kind(first)) {
            if a != b {
                let kind = |k: u16| {
                    if k == 1 {
                        "adjusted standard GPS time"
                    } else {
                        "GPS week time"
                    }
                };
                return Err(Error::invalid(format!(
                    "cannot merge {} ({}) with {} ({}): their GPS times are not comparable",
                    f.name,
                    kind(a),
                    first.name,
                    kind(b)
                )));
            }
        }
        if f.header.extra_bytes_len() != extra_len || f.extra_bytes_vlr != first.extra_bytes_vlr {
            return Err(Error::invalid(format!(
                "cannot merge {} and {}: their extra bytes differ ({} and {} bytes per point, or different descriptors)",
                f.name,
                first.name,
                f.header.extra_bytes_len(),
                extra_len
            )));
        }
        let described: usize = f.extra_bytes.iter().map(|e| e.size()).sum();
        if extra_len > described {
            // undescribed bytes cannot be labelled in the output; say so, but keep them
            warn(
                opts,
                &mut warnings,
                format!(
                    "{}: {} of the {} extra bytes per point have no extra-bytes descriptor; they are kept bit-exact and described as undocumented (type 0) bytes",
                    f.name,
                    extra_len - described,
                    extra_len
                ),
            );
        }
        if has_waveform(f.header.point_format) {
            warn(
                opts,
                &mut warnings,
                format!(
                    "{}: point format {} carries wave packets; the points are kept, the wave packet fields are dropped",
                    f.name, f.header.point_format
                ),
            );
        }
    }
    // CRS
    let wkt = if let Some(a) = &opts.a_srs {
        Some(crs::parse_a_srs(a)?)
    } else {
        let mut found: Option<(String, &str)> = None;
        let mut unconvertible = false;
        for f in files {
            let recs: Vec<&crate::format::Vlr> = f.vlrs.iter().chain(f.evlrs.iter()).collect();
            let c = crs::input_crs(&recs);
            let w = match &c {
                crs::InputCrs::Unconvertible(m) => {
                    unconvertible = true;
                    warn(
                        opts,
                        &mut warnings,
                        format!(
                            "{}: {m}; the output has no CRS (give one with --a-srs WKT|EPSG:n)",
                            f.name
                        ),
                    );
                    None
                }
                other => other.wkt().map(str::to_string),
            };
            match (&found, w) {
                (None, Some(w)) => found = Some((w, &f.name)),
                (Some((prev, pname)), Some(w)) if *prev != w => {
                    return Err(Error::invalid(format!(
                        "cannot merge {} and {}: their CRSs differ (give one with --a-srs to override)",
                        pname, f.name
                    )));
                }
                _ => {}
            }
        }
        if let Some((_, pname)) = &found {
            if let Some(f) = files.iter().find(|f| {
                let recs: Vec<&crate::format::Vlr> = f.vlrs.iter().chain(f.evlrs.iter()).collect();
                crs::input_crs(&recs).wkt().is_none()
            }) {
                warn(
                    opts,
                    &mut warnings,
                    format!("{} has no CRS; using the CRS of {pname}", f.name),
                );
            }
        }
        if found.is_none() && !unconvertible {
            // validators (ours with --strict, PDAL's, copc.io's) flag a COPC file without a CRS
            warn(opts, &mut warnings, format!("{}: no CRS; the output has no CRS either, which `copc validate --strict` and other validators flag (give one with --a-srs WKT|EPSG:n)", input_names(files)));
        }
        found.map(|(w, _)| w)
    };

    // scale and offset
    let same = |g: &dyn Fn(&InputFile) -> [f64; 3]| files.iter().all(|f| g(f) == g(first));
    let in_scale = |f: &InputFile| f.header.scale;
    let in_offset = |f: &InputFile| f.header.offset;
    let scale = match opts.scale {
        Some(s) => s,
        None if same(&in_scale) => first.header.scale,
        None => {
            let mut s = first.header.scale;
            for f in files {
                for (s, fs) in s.iter_mut().zip(f.header.scale) {
                    *s = s.min(fs);
                }
            }
            s
        }
    };
    // data bounds from the headers (checked against the points later)
    let (hmin, hmax) = header_bounds(files);
    let auto = |scale: [f64; 3]| -> [f64; 3] {
        match (hmin, hmax) {
            (Some(mn), Some(mx)) => auto_offset(mn, mx, scale),
            _ => [0.0; 3],
        }
    };
    let fits = |offset: [f64; 3]| -> bool {
        match (hmin, hmax) {
            (Some(mn), Some(mx)) => (0..3).all(|a| {
                let lo = (mn[a] - offset[a]) / scale[a];
                let hi = (mx[a] - offset[a]) / scale[a];
                lo >= i32::MIN as f64 && hi <= i32::MAX as f64
            }),
            _ => true,
        }
    };
    let offset = match opts.offset {
        Some(OffsetOption::Value(o)) => o,
        Some(OffsetOption::Auto) => auto(scale),
        // the inputs' own integers: they fit by construction, whatever the headers' bounds say
        None if same(&in_offset) && same(&in_scale) && scale == first.header.scale => first.header.offset,
        None if same(&in_offset) && fits(first.header.offset) => first.header.offset,
        None => auto(scale),
    };
    let unchanged = files
        .iter()
        .all(|f| f.header.scale == scale && f.header.offset == offset);
    if !unchanged && !fits(offset) {
        let (mn, mx) = (hmin.unwrap_or([0.0; 3]), hmax.unwrap_or([0.0; 3]));
        return Err(Error::invalid(format!(
            "the data ({mn:?} to {mx:?}) does not fit 32-bit integers at scale {scale:?} and offset {offset:?}: \
             use --offset auto (or an offset near the data) or a larger --scale"
        )));
    }
    Ok(Plan {
        format,
        rec_len: crate::format::PointLayout::base_size(format) + extra_len,
        extra_len,
        scale,
        offset,
        wkt,
        warnings,
    })
}

/// `--offset auto`: the centre of the data's bounds, rounded to 1000 scale steps.
pub(crate) fn auto_offset(min: [f64; 3], max: [f64; 3], scale: [f64; 3]) -> [f64; 3] {
    let mut o = [0.0; 3];
    for a in 0..3 {
        let unit = scale[a] * 1000.0;
        o[a] = (((min[a] + max[a]) * 0.5) / unit).round() * unit;
    }
    o
}

/// Union of the inputs' header bounds, when they are sane.
fn header_bounds(files: &[InputFile]) -> (Option<[f64; 3]>, Option<[f64; 3]>) {
    let mut mn = [f64::INFINITY; 3];
    let mut mx = [f64::NEG_INFINITY; 3];
    let mut any = false;
    for f in files.iter().filter(|f| f.point_count() > 0) {
        let (a, b) = (f.header.min, f.header.max);
        if (0..3).any(|i| !a[i].is_finite() || !b[i].is_finite() || a[i] > b[i]) {
            return (None, None);
        }
        for i in 0..3 {
            mn[i] = mn[i].min(a[i]);
            mx[i] = mx[i].max(b[i]);
        }
        any = true;
    }
    if any { (Some(mn), Some(mx)) } else { (None, None) }
}

/// The header bounds cut to the clip box (None when they do not meet: the points'
/// own bounds decide the cube).
fn clip_bounds(h: (Option<[f64; 3]>, Option<[f64; 3]>), clip: Option<crate::format::Bounds>) -> (Option<[f64; 3]>, Option<[f64; 3]>) {
    match (h, clip) {
        ((Some(mut a), Some(mut b)), Some(c)) => {
            for i in 0..3 {
                a[i] = a[i].max(c.min[i]);
                b[i] = b[i].min(c.max[i]);
            }
            if (0..3).all(|i| a[i] <= b[i]) { (Some(a), Some(b)) } else { (None, None) }
        }
        (h, _) => h,
    }
}

struct Counter<'a> {
    store: &'a ChunkStore,
    nodes: AtomicU64,
    points: AtomicU64,
    total: u64,
    progress: Option<ProgressFn>,
    cancel: Option<Arc<AtomicBool>>,
}

fn check_cancel(cancel: &Option<Arc<AtomicBool>>) -> Result<()> {
    match cancel {
        Some(c) if c.load(Ordering::Relaxed) => Err(Error::Cancelled("the COPC writer was asked to stop".into())),
        _ => Ok(()),
    }
}

impl ChunkSink for Counter<'_> {
    fn put(&self, key: VoxelKey, points: u64, chunk: Vec<u8>) -> Result<()> {
        check_cancel(&self.cancel)?;
        self.store.put(key, points, chunk)?;
        let n = self.nodes.fetch_add(1, Ordering::Relaxed) + 1;
        let done = self.points.fetch_add(points, Ordering::Relaxed) + points;
        if let Some(p) = &self.progress {
            if n % 64 == 0 {
                p(&Progress::Phase { name: "build", done, total: self.total });
                p(&Progress::NodesWritten { nodes: n });
            }
        }
        Ok(())
    }
}

/// An input path or URL: a URL or object-store location through the reader's
/// sources (ranges read as needed, never the whole object), anything else as a file.
fn open_input(input: &Path, http: &HttpOptions) -> Result<InputFile> {
    match input.to_str() {
        Some(location) => InputFile::from_source(open_source(location, http)?),
        // not UTF-8: cannot be a URL
        None => InputFile::open(input),
    }
}

fn run(inputs: &[PathBuf], output: &Path, opts: &WriterOptions) -> Result<TranslateSummary> {
    if inputs.is_empty() {
        return Err(Error::invalid("no input files"));
    }
    opts.check_max_points_per_node()?;
    header::check_options(&opts.header, &opts.vlrs)?;
    let out_name = output.display().to_string();
    for i in inputs {
        if let (Ok(a), Ok(b)) = (std::fs::canonicalize(i), std::fs::canonicalize(output)) {
            if a == b {
                return Err(Error::invalid(format!("the output {out_name} is also an input")));
            }
        }
    }
    // the output first: a target that cannot be written fails before any point is read
    let out_file = temp::OutputFile::create(output)?;
    let files = inputs.iter().map(|i| open_input(i, &opts.http)).collect::<Result<Vec<_>>>()?;
    let plan = plan(&files, opts)?;
    let total: u64 = files.iter().map(|f| f.point_count()).sum();
    let progress = opts.progress.clone();

    // memory budget
    let limit = opts.memory_limit.unwrap_or_else(default_memory_limit);
    let budget = MemoryBudget::new(limit, plan.rec_len, opts.max_points_per_node)?;
    let budget_points = budget.points;
    let spill = total > budget_points;
    let temp_dir = opts.temp_dir.clone().unwrap_or_else(std::env::temp_dir);
    // spill folders of writers that were killed
    temp::sweep_stale_spill_dirs(&temp_dir);
    if spill {
        // the spill file, and the chunks beyond what memory keeps
        let need = total * opts.temp_compression.planned_bytes_per_point(plan.rec_len) + total * plan.rec_len as u64 / 4;
        std::fs::create_dir_all(&temp_dir).ok();
        spill::check_free_space(
            &temp_dir,
            need,
            &format!("spilling {total} points (--temp-compression {})", opts.temp_compression.name()),
        )?;
    }

    // provisional cube from the headers (and the clip box, which may be smaller)
    let (hmin, hmax) = clip_bounds(header_bounds(&files), opts.clip);
    let provisional = provisional_cube(&plan, hmin, hmax);
    let prov_geo = provisional_geometry(&plan, provisional);

    // --- read pass
    let started = std::time::Instant::now();
    let read_clock = phases::Clock::start();
    if let Some(p) = &progress {
        p(&Progress::Phase { name: "read", done: 0, total });
    }
    let mut stats = Stats::new();
    let mut mem = PointBuf::new(plan.rec_len);
    let mut bins = if spill {
        Some(Bins::new(
            &temp_dir,
            opts.temp_compression,
            plan.format,
            plan.extra_len,
            plan.rec_len,
            prov_geo,
            bin_level(total, budget_points, prov_geo.leaf_level()),
            budget.flush_at as usize,
        )?)
    } else {
        mem.recs.reserve(total as usize * plan.rec_len);
        mem.seqs.reserve(total as usize);
        None
    };
    let mut seq = 0u64;
    let mut conv_buf = Vec::new();
    for f in &files {
        let rq = Requantize::new(f.header.scale, f.header.offset, plan.scale, plan.offset);
        let conv = Converter::new(f.layout, rq).with_gps_shift(f.header.gps_time_shift());
        if conv.output_len != plan.rec_len {
            return Err(Error::invalid(format!(
                "internal error: {} converts to {} bytes, expected {}",
                f.name, conv.output_len, plan.rec_len
            )));
        }
        let mut read_in_file = 0u64;
        f.read_records(262_144, |recs| {
            check_cancel(&opts.cancel)?;
            conv_buf.clear();
            conv.convert(recs, &mut conv_buf).map_err(|o| {
                let axis = ["X", "Y", "Z"][o.axis];
                Error::format(
                    &f.name,
                    Location::Source,
                    format!(
                        "point {}: {axis} = {} does not fit a 32-bit integer at scale {} and offset {}: use --offset auto or a larger --scale",
                        read_in_file + o.record as u64, o.value, plan.scale[o.axis], plan.offset[o.axis]
                    ),
                )
            })?;
            if let Some(b) = &opts.clip {
                convert::retain_in_bounds(&mut conv_buf, plan.rec_len, plan.scale, plan.offset, b);
            }
            let n = (conv_buf.len() / plan.rec_len) as u64;
            stats.add(&conv_buf, plan.rec_len);
            match bins.as_mut() {
                Some(b) => b.add(&conv_buf, seq)?,
                None => {
                    mem.recs.extend_from_slice(&conv_buf);
                    mem.seqs.extend(seq..seq + n);
                }
            }
            seq += n;
            read_in_file += n;
            if let Some(p) = &progress {
                p(&Progress::PointsRead { read: seq, total });
            }
            Ok(())
        })?;
    }
    if let Some(b) = bins.as_mut() {
        b.flush()?;
    }
    // an input rewritten while it was read would give a file mixing old and new points
    for f in &files {
        f.source.check_unchanged()?;
    }
    let held = match bins {
        Some(b) => Held::Spilled(Box::new(b)),
        None => Held::Memory(mem),
    };
    let origin = Origin::of_inputs(&files, plan.extra_len);
    let input_bytes: u64 = files.iter().map(|f| f.source.len()).sum();
    let ingested = Ingested { plan, stats, provisional, held, started, read_clock, input_bytes };
    build_and_write(out_file, output, opts, ingested, &budget, origin)
}

/// The octree cube the inputs' header bounds give at the output's quantization.
pub(crate) fn provisional_cube(plan: &Plan, hmin: Option<[f64; 3]>, hmax: Option<[f64; 3]>) -> Option<Cube> {
    let (a, b) = (hmin?, hmax?);
    let q = |v: f64, x: usize| ((v - plan.offset[x]) / plan.scale[x]).round() * plan.scale[x] + plan.offset[x];
    Some(Geometry::cube_for(
        [q(a[0], 0), q(a[1], 1), q(a[2], 2)],
        [q(b[0], 0), q(b[1], 1), q(b[2], 2)],
        plan.scale,
    ))
}

/// Where the read pass bins points: the provisional cube, else a unit cube at the offset.
fn provisional_geometry(plan: &Plan, provisional: Option<Cube>) -> Geometry {
    let cube = provisional.unwrap_or(Cube {
        center: plan.offset,
        halfsize: 1.0,
    });
    Geometry::new(cube, plan.scale, plan.offset)
}

/// The points after the read pass: all in memory, or binned into the spill file.
pub(crate) enum Held {
    Memory(PointBuf),
    Spilled(Box<Bins>),
}

/// What the read pass hands to the build: every point (format 6-8 records at the
/// plan's quantization), their statistics, and what the read cost.
pub(crate) struct Ingested {
    pub(crate) plan: Plan,
    pub(crate) stats: Stats,
    /// The cube from the inputs' header bounds, when they have any.
    pub(crate) provisional: Option<Cube>,
    pub(crate) held: Held,
    pub(crate) started: std::time::Instant,
    pub(crate) read_clock: phases::Clock,
    pub(crate) input_bytes: u64,
}

/// A VLR or EVLR copied into the output: user id, record id, description, payload.
pub(crate) type CopiedRecord = (String, u16, String, Vec<u8>);

/// What the output's header and records take from the inputs, besides the points.
pub(crate) struct Origin {
    pub(crate) gps_bit: bool,
    pub(crate) file_source_id: u16,
    pub(crate) guid: [u8; 16],
    pub(crate) system_identifier: String,
    pub(crate) creation_day: u16,
    pub(crate) creation_year: u16,
    pub(crate) extra_bytes_vlr: Option<Vec<u8>>,
    pub(crate) vlrs: Vec<CopiedRecord>,
    pub(crate) evlrs: Vec<CopiedRecord>,
}

impl Origin {
    /// The first input's header fields (the common file source id, "MERGE" and no
    /// GUID for several inputs), its extra-bytes descriptors and every input's
    /// records except the ones the writer makes itself.
    fn of_inputs(files: &[InputFile], extra_len: usize) -> Origin {
        let first = &files[0];
        let single = files.len() == 1;
        let described: usize = first.extra_bytes.iter().map(|e| e.size()).sum();
        let extra_bytes_vlr = match (&first.extra_bytes_vlr, extra_len) {
            (Some(v), n) if described < n => {
                // descriptors that cover only part of the extra bytes: keep them as they
                // are and describe the rest as undocumented bytes
                let mut v = v.clone();
                v.extend(undocumented_extra_bytes(n - described));
                Some(v)
            }
            (Some(v), _) => Some(v.clone()),
            (None, 0) => None,
            (None, n) => Some(undocumented_extra_bytes(n)),
        };
        let mut vlrs: Vec<CopiedRecord> = Vec::new();
        let mut evlrs: Vec<CopiedRecord> = Vec::new();
        for f in files {
            for v in f.vlrs.iter().chain(f.evlrs.iter()) {
                if is_dropped_record(&v.user_id, v.record_id) {
                    continue;
                }
                let Some(data) = &v.data else { continue };
                let item = (v.user_id.clone(), v.record_id, v.description.clone(), data.clone());
                let list = if v.extended { &mut evlrs } else { &mut vlrs };
                if !list.contains(&item) {
                    list.push(item);
                }
            }
        }
        let same_source = files.iter().all(|f| f.header.raw.file_source_id == first.header.raw.file_source_id);
        Origin {
            gps_bit: first.header.global_encoding() & 1 != 0,
            file_source_id: if same_source { first.header.raw.file_source_id } else { 0 },
            guid: if single { first.header.raw.guid } else { [0; 16] },
            system_identifier: if single { first.header.system_identifier() } else { "MERGE".into() },
            creation_day: first.header.raw.file_creation_day_of_year,
            creation_year: first.header.raw.file_creation_year,
            extra_bytes_vlr,
            vlrs,
            evlrs,
        }
    }
}

/// The second half of a translation, for every way points come in (LAS/LAZ inputs,
/// [`PointWriter`] batches): the cube, the octree build and encode, and the file.
pub(crate) fn build_and_write(
    out_file: temp::OutputFile,
    output: &Path,
    opts: &WriterOptions,
    ingested: Ingested,
    budget: &MemoryBudget,
    origin: Origin,
) -> Result<TranslateSummary> {
    let Ingested { mut plan, stats, provisional, held, started: t0, read_clock, input_bytes } = ingested;
    let out_name = output.display().to_string();
    let progress = opts.progress.clone();
    let temp_dir = opts.temp_dir.clone().unwrap_or_else(std::env::temp_dir);
    let prov_geo = provisional_geometry(&plan, provisional);
    let (spill, mut bins, mem) = match held {
        Held::Memory(m) => (false, None, m),
        Held::Spilled(b) => (true, Some(*b), PointBuf::new(plan.rec_len)),
    };

    // --- the cube: the headers' when it holds every point, else the points' own
    let (emin, emax) = stats.world(plan.scale, plan.offset);
    let geo = match provisional {
        // no points: the header bounds are written as 0, so is the cube's centre
        _ if stats.count == 0 => Geometry::new(
            Cube {
                center: [0.0; 3],
                halfsize: 1.0,
            },
            plan.scale,
            plan.offset,
        ),
        Some(_) if prov_geo.contains(emin, emax) => prov_geo,
        _ => {
            warn(
                opts,
                &mut plan.warnings,
                format!(
                    "the input headers' bounds do not contain every point; the octree cube is computed from the points ({emin:?} to {emax:?})"
                ),
            );
            Geometry::new(Geometry::cube_for(emin, emax, plan.scale), plan.scale, plan.offset)
        }
    };
    // coordinates near the f64 limits give no finite cube (and no usable info VLR)
    let c = geo.cube;
    let finite = |v: f64| v.is_finite();
    if !(c.center.iter().all(|&v| finite(v) && finite(v - c.halfsize) && finite(v + c.halfsize)) && finite(2.0 * c.halfsize) && c.halfsize > 0.0) {
        return Err(Error::unsupported(
            &out_name,
            Location::Source,
            format!(
                "the points span {emin:?} to {emax:?}: no finite octree cube holds them (centre {:?}, halfsize {})",
                c.center, c.halfsize
            ),
        ));
    }
    if let Some(b) = bins.take() {
        bins = Some(if b.geometry() != geo { b.rebin(geo)? } else { b });
    }

    let read_phase = read_clock.stop(input_bytes, bins.as_ref().map_or(0, |b| b.written_bytes));

    // --- build
    let t1 = std::time::Instant::now();
    let build_clock = phases::Clock::start();
    if let Some(p) = &progress {
        p(&Progress::Phase { name: "build", done: 0, total: stats.count });
    }
    let meter = phases::EncodeMeter::default();
    let items = laz::LazItemRecordBuilder::default_for_point_format_id(plan.format, plan.extra_len as u16)
        .map_err(|e| Error::invalid(format!("laz items: {e}")))?;
    std::fs::create_dir_all(&temp_dir).ok();
    let store = ChunkStore::new(budget.chunk_mem as usize, &temp_dir);
    let counter = Counter {
        store: &store,
        nodes: AtomicU64::new(0),
        points: AtomicU64::new(0),
        total: stats.count,
        progress: progress.clone(),
        cancel: opts.cancel.clone(),
    };
    let builder = Builder {
        geo,
        rec_len: plan.rec_len,
        max_points: opts.max_points_per_node,
        leaf_level: geo.leaf_level(),
        items,
        gps_at: 22,
        sink: &counter,
        meter: &meter,
        name: out_name.clone(),
    };
    let (mut peak_temp, mut temp_read, mut restreamed, mut largest_load) = (0, 0, 0, 0);
    match bins.as_mut() {
        None => {
            if !mem.is_empty() {
                let kept = builder.build(VoxelKey::ROOT, &mem)?;
                builder.emit(VoxelKey::ROOT, &mem, kept)?;
            }
            drop(mem);
        }
        Some(b) => {
            let root = build_spilled(&builder, b, &store, VoxelKey::ROOT, budget, 0)?;
            b.note_other_temp(store.file_bytes());
            let all: Vec<u32> = (0..root.len() as u32).collect();
            builder.emit(VoxelKey::ROOT, &root, all)?;
            peak_temp = b.peak_disk_bytes;
            temp_read = b.read_bytes;
            restreamed = b.restreamed;
            largest_load = b.largest_take;
        }
    }
    drop(bins);

    let threads = rayon::current_num_threads();
    let (build_phase, encode_phase) = phases::split_encode(build_clock.stop(temp_read, 0), &meter, threads);

    // --- file
    let t2 = std::time::Instant::now();
    let assemble_clock = phases::Clock::start();
    let mut spec = FileSpec {
        format: plan.format,
        record_length: plan.rec_len as u16,
        extra_bytes_len: plan.extra_len as u16,
        scale: plan.scale,
        offset: plan.offset,
        min_int: stats.min,
        max_int: stats.max,
        points: stats.count,
        points_by_return: stats.by_return,
        gps_range: stats.gps_range(),
        cube: geo.cube,
        spacing: geo.spacing(),
        global_encoding_gps_bit: origin.gps_bit,
        file_source_id: origin.file_source_id,
        guid: origin.guid,
        system_identifier: origin.system_identifier,
        generating_software: format!("copc {}", env!("CARGO_PKG_VERSION")),
        creation_day: origin.creation_day,
        creation_year: origin.creation_year,
        wkt: plan.wkt.clone(),
        extra_bytes_vlr: origin.extra_bytes_vlr,
        vlrs: origin.vlrs,
        evlrs: origin.evlrs,
        page_policy: opts.hierarchy_pages,
    };
    opts.header.apply(&mut spec);
    header::add_user_vlrs(&mut spec, &opts.vlrs);
    check_cancel(&opts.cancel)?;
    if let Some(p) = &progress {
        p(&Progress::Phase { name: "assemble", done: 0, total: store.nodes() as u64 });
    }
    let chunk_bytes = encode_phase.bytes_out;
    let (nodes, pages) = file::write_file(out_file, &spec, store)?;
    let out_bytes = std::fs::metadata(output).map(|m| m.len()).unwrap_or(0);
    let assemble_phase = assemble_clock.stop(chunk_bytes, out_bytes);
    if let Some(p) = &progress {
        p(&Progress::Done {
            points: stats.count,
            nodes: nodes as u64,
        });
    }
    Ok(TranslateSummary {
        points: stats.count,
        nodes: nodes as u64,
        hierarchy_pages: pages as u64,
        point_format: plan.format,
        scale: plan.scale,
        offset: plan.offset,
        cube: geo.cube,
        spacing: geo.spacing(),
        spilled: spill,
        peak_temp_bytes: peak_temp,
        temp_compression: opts.temp_compression,
        restreamed_points: restreamed,
        largest_load,
        phases: [read_phase, build_phase, encode_phase, assemble_phase],
        warnings: plan.warnings,
        seconds: [
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64(),
            t2.elapsed().as_secs_f64(),
        ],
    })
}

/// One extra-bytes descriptor of type 0 ("undocumented bytes") covering `n` bytes.
fn undocumented_extra_bytes(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut left = n;
    let mut i = 0;
    while left > 0 {
        let k = left.min(255);
        let mut d = vec![0u8; crate::format::extra_bytes::DESCRIPTOR_SIZE];
        d[2] = 0;
        d[3] = k as u8;
        crate::format::bytes::put_c_string(&mut d[4..36], &format!("undocumented{i}"));
        out.extend(d);
        left -= k;
        i += 1;
    }
    out
}

/// How the memory limit is shared out.
///
/// Per point held in memory: the record, its sequence number, the index and scratch
/// arrays of the build, and a share of the compressed chunk. Out of the limit come a
/// fixed allowance (code, thread stacks, decode batches of the inputs), the
/// compressed chunks kept in memory (an eighth; the rest go to a temp file) and,
/// while spilling, the block index of the spill file; the rest holds points. A
/// subtree never loads more than that; everything beyond spills. The read pass
/// holds, instead of points, the pending spill buffers (an eighth) and their encoded
/// copies.
pub(crate) struct MemoryBudget {
    per_point: u64,
    /// Points that may be in memory at once.
    pub(crate) points: u64,
    chunk_mem: u64,
    flush_at: u64,
}

/// Memory the writer needs whatever the input: code, thread stacks, the decode
/// batches of the inputs (measured: README, "Writing COPC").
pub const FIXED_MEMORY: u64 = 64 << 20;

impl MemoryBudget {
    pub(crate) fn new(limit: u64, rec_len: usize, max_points_per_node: usize) -> Result<MemoryBudget> {
        let per_point = (rec_len + 8 + 20 + rec_len / 4) as u64;
        let floor = memory_floor(rec_len, max_points_per_node);
        if limit < floor {
            return Err(Error::invalid(format!(
                "--memory-limit {limit} bytes ({} MiB) is below the smallest workable limit of {floor} bytes ({} MiB) for these inputs: {} MiB for the writer's fixed buffers plus room for 4 leaf nodes of --max-points-per-node {max_points_per_node} points of {rec_len} bytes (raise --memory-limit or lower --max-points-per-node)",
                limit >> 20,
                floor.div_ceil(1 << 20),
                FIXED_MEMORY >> 20
            )));
        }
        let chunk_mem = (limit / 8).max(1 << 20);
        Ok(MemoryBudget {
            per_point,
            points: limit.saturating_sub(FIXED_MEMORY + chunk_mem) / per_point,
            chunk_mem,
            flush_at: (limit / 8).max(1 << 20),
        })
    }

    /// Points a subtree may load when `held` points are kept elsewhere and the spill
    /// index takes `index_bytes`.
    fn available(&self, held: u64, index_bytes: u64) -> u64 {
        self.points.saturating_sub(held + index_bytes.div_ceil(self.per_point))
    }
}

/// The smallest memory limit the writer accepts for records of `rec_len` bytes and
/// leaves of `max_points_per_node` points: the fixed allowance, an eighth for the
/// chunks, and room for four leaves (a subtree, the points its ancestors keep).
pub fn memory_floor(rec_len: usize, max_points_per_node: usize) -> u64 {
    let per_point = (rec_len + 8 + 20 + rec_len / 4) as u64;
    let need = FIXED_MEMORY + 4 * (max_points_per_node as u64 + 1) * per_point;
    // the chunks' eighth comes on top
    need.div_ceil(7) * 8
}

/// The level points are binned at when spilling: the shallowest where an average
/// bin (points spread over the ground, four bins per level) is at most 1/32 of what
/// a subtree may load, so subtrees of whole bins fill the budget and clustered
/// data rarely leaves a bin over it. At most level 8 (the block index grows with
/// the bins) and the octree's leaf level.
fn bin_level(total: u64, budget_points: u64, leaf_level: i32) -> i32 {
    let target = (budget_points / 32).max(1);
    let max = leaf_level.clamp(1, 8);
    (1..=max).find(|l| total >> (2 * l) <= target).unwrap_or(max)
}

/// The spilled build of the subtree of `key`: loads what fits next to the `held`
/// points its ancestors keep, splits what does not, and returns the points `key`
/// keeps (for its parent to sample from).
fn build_spilled(builder: &Builder<'_>, bins: &mut Bins, store: &ChunkStore, key: VoxelKey, budget: &MemoryBudget, held: u64) -> Result<PointBuf> {
    let n = bins.count_under(key);
    let rec_len = builder.rec_len;
    if n == 0 {
        return Ok(PointBuf::new(rec_len));
    }
    // a leaf (few points by definition) loads whatever the budget says: splitting
    // it would change the tree
    if n <= budget.available(held, bins.index_bytes()) || builder.is_leaf(key, n as usize) {
        // the temp disk peak: the spill file shrinks as the chunks' file grows
        bins.note_other_temp(store.file_bytes());
        let buf = bins.take(key)?;
        let kept = builder.build(key, &buf)?;
        return Ok(buf.extract(&kept));
    }
    if bins.is_bin(key) {
        bins.split(key)?;
    }
    let mut parts: Vec<PointBuf> = Vec::with_capacity(8);
    for c in 0..8 {
        let mine: u64 = parts.iter().map(|p| p.len() as u64).sum();
        parts.push(build_spilled(builder, bins, store, key.child(c), budget, held + mine)?);
    }
    let (combined, lists) = PointBuf::concat(parts, rec_len);
    let kept = builder.sample_and_emit(key, &combined, lists)?;
    Ok(combined.extract(&kept))
}
