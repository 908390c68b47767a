//! The COPC reader: open (header, VLRs, root page), lazy hierarchy, queries and
//! parallel, dimension-selective point decode.

mod decode;
pub(crate) mod hierarchy;
pub mod las;
mod points;
pub mod polygon;
mod query;

pub use decode::{ChunkAt, ChunkCodec};
pub use las::LasFile;
pub use points::{ColumnValue, PointBatch, PointIter, RecordFormat};
pub use polygon::Polygon;
pub use query::Query;

use crate::error::{Error, Location, Result};
use crate::format::info::{DRAFT_USER_ID, DraftLayout, INFO_RECORD_ID, INFO_SIZE, INFO_USER_ID};
use crate::format::point::{PointLayout, Transform, decompression_selection};
use crate::format::{Bounds, CopcInfo, Cube, Dimension, DraftInfo, ExtraBytes, Header, VoxelKey};
use crate::source::{ByteSource, FileSource, SourceStats};
use hierarchy::{ChunkArea, Hierarchy, PageFormat};
use points::{PlannedNode, retain_matching};
pub(crate) use points::ReaderRef;
use std::sync::{Arc, Mutex, MutexGuard};

/// Options for opening a reader.
#[derive(Debug, Clone, Default)]
pub struct ReaderOptions {
    /// Threads for decoding (None: all cores).
    pub threads: Option<usize>,
    /// Requests, retries, headers and range merging for `http(s)://` sources.
    pub http: crate::source::HttpOptions,
}

/// One octree node with data, as the hierarchy describes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Node {
    pub key: VoxelKey,
    /// Absolute file offset and size of the node's LAZ chunk.
    pub offset: u64,
    pub byte_size: i32,
    pub point_count: i32,
    /// The node's cube (from the info VLR's center and halfsize).
    pub bounds: Bounds,
}

/// Counts over the whole hierarchy (loads every page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HierarchySummary {
    /// Entries for nodes (data and empty).
    pub nodes: usize,
    /// Nodes holding points.
    pub data_nodes: usize,
    pub pages: usize,
    pub max_depth: i32,
    /// Sum of the nodes' point counts.
    pub points: u64,
}

/// Which COPC layout a file follows.
#[derive(Debug, Clone, PartialEq)]
pub enum Flavor {
    /// COPC 1.0.
    Copc1,
    /// A pre-1.0 draft (`entwine`/1 info VLR). The cube and spacing are derived
    /// from the header bounds, since the draft info VLR does not carry them.
    Draft(DraftLayout),
}

/// An open COPC file. All methods take `&self`: one reader can serve many threads.
pub struct Reader {
    file: LasFile,
    info: CopcInfo,
    flavor: Flavor,
    codec: ChunkCodec,
    format: Arc<RecordFormat>,
    hierarchy: Mutex<Hierarchy>,
    /// The decode threads: the reader's own (`ReaderOptions::threads`), one shared by
    /// every file of a dataset, or None for rayon's global pool.
    pool: Option<Arc<rayon::ThreadPool>>,
}

/// The pool `opts.threads` asks for (None: rayon's global pool, all cores).
pub(crate) fn thread_pool(opts: &ReaderOptions) -> Result<Option<Arc<rayon::ThreadPool>>> {
    match opts.threads {
        Some(n) if n > 0 => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map(|p| Some(Arc::new(p)))
            .map_err(|e| Error::invalid(format!("cannot start {n} threads: {e}"))),
        _ => Ok(None),
    }
}

impl Reader {
    /// Opens a local path or an `http://` / `https://` URL.
    pub fn open(location: impl AsRef<std::path::Path>) -> Result<Reader> {
        Self::open_with(location, &ReaderOptions::default())
    }

    pub fn open_with(location: impl AsRef<std::path::Path>, opts: &ReaderOptions) -> Result<Reader> {
        let path = location.as_ref();
        let source = match path.to_str() {
            Some(s) => crate::source::open_source(s, &opts.http)?,
            None => Arc::new(FileSource::open(path)?),
        };
        Self::from_source(source, opts)
    }

    /// Opens any byte source (file, memory, HTTP, caller callbacks).
    pub fn from_source(source: Arc<dyn ByteSource>, opts: &ReaderOptions) -> Result<Reader> {
        Self::from_source_in(source, thread_pool(opts)?)
    }

    /// Opens `location` decoding on `pool` (a dataset's files share one pool, so a
    /// thousand open tiles do not hold a thousand sets of idle threads).
    pub(crate) fn open_in(location: &str, opts: &ReaderOptions, pool: Option<Arc<rayon::ThreadPool>>) -> Result<Reader> {
        Self::from_source_in(crate::source::open_source(location, &opts.http)?, pool)
    }

    fn from_source_in(source: Arc<dyn ByteSource>, pool: Option<Arc<rayon::ThreadPool>>) -> Result<Reader> {
        let file = LasFile::open(source)?;
        let name = file.name().to_string();
        let h = &file.header;
        let not_copc = |at: u64, message: String| Error::NotCopc { source_name: name.clone(), at: Location::Offset(at), message };
        if h.version != (1, 4) {
            return Err(not_copc(24, format!("LAS {}.{} (COPC files are LAS 1.4)", h.version.0, h.version.1)));
        }
        let first = file.vlrs.first().ok_or_else(|| not_copc(375, "no VLRs (expected the COPC info VLR 'copc'/1 at byte 375)".into()))?;
        let (flavor, info_raw) = if first.is(INFO_USER_ID, INFO_RECORD_ID) {
            (Flavor::Copc1, None)
        } else if first.user_id == DRAFT_USER_ID && first.record_id == 1 {
            let d = first.data.as_deref().and_then(DraftInfo::parse).ok_or_else(|| {
                not_copc(first.data_offset, format!("draft info VLR 'entwine'/1 of {} bytes (expected 80 or 160)", first.data_len))
            })?;
            (Flavor::Draft(d.layout), Some(d))
        } else {
            return Err(not_copc(
                first.header_offset,
                format!("first VLR is '{}'/{} (expected the COPC info VLR 'copc'/1)", first.user_id, first.record_id),
            ));
        };
        if first.header_offset != 375 {
            return Err(not_copc(first.header_offset, format!("info VLR at byte {} (expected 375)", first.header_offset)));
        }
        let laz_vlr = file.laz_vlr.clone().ok_or_else(|| not_copc(104, "points are not LAZ-compressed".into()))?;
        let compressor = file
            .vlrs
            .iter()
            .find(|v| v.is("laszip encoded", 22204))
            .and_then(|v| v.data.as_ref())
            .filter(|d| d.len() >= 2)
            .map(|d| u16::from_le_bytes([d[0], d[1]]))
            .unwrap_or(0);
        if flavor == Flavor::Copc1 {
            if !(6..=8).contains(&h.point_format) {
                return Err(not_copc(104, format!("point format {} (COPC allows 6, 7 and 8)", h.point_format)));
            }
            if compressor != 3 {
                return Err(not_copc(0, format!("LAZ compressor {compressor} (COPC needs 3, layered chunks)")));
            }
        } else if compressor != 2 && compressor != 3 {
            return Err(not_copc(0, format!("LAZ compressor {compressor} (expected chunked: 2 or 3)")));
        }
        let chunk_size = laz_vlr.chunk_size();
        if chunk_size != u32::MAX && chunk_size != 0 {
            return Err(not_copc(0, format!("LAZ chunk size {chunk_size} (COPC uses variable-size chunks, 0xFFFFFFFF)")));
        }

        let info = match &info_raw {
            None => {
                let data = first.data.as_deref().unwrap_or_default();
                let info = CopcInfo::parse(data).ok_or_else(|| {
                    not_copc(first.data_offset, format!("info VLR of {} bytes (expected {INFO_SIZE})", data.len()))
                })?;
                check_info(&name, first.data_offset, &info, file.source.len())?;
                info
            }
            Some(d) => CopcInfo {
                center: [0.0; 3],
                halfsize: 0.0,
                spacing: 0.0,
                root_hier_offset: d.root_hier_offset,
                root_hier_size: d.root_hier_size,
                gpstime_minimum: 0.0,
                gpstime_maximum: 0.0,
                reserved: [0; 11],
            },
        };

        let extra_bytes = file.extra_bytes()?;
        let layout = PointLayout::new(h.point_format, h.point_record_length as usize);
        let format = Arc::new(RecordFormat { layout, transform: Transform { scale: h.scale, offset: h.offset }, extra_bytes });
        let codec = ChunkCodec::new(laz_vlr, compressor);
        let area = chunk_area(&file)?;
        let page_format = if flavor == Flavor::Draft(DraftLayout::Seed) { PageFormat::Counted } else { PageFormat::Plain };
        let mut hier = Hierarchy::new(page_format, area);
        hier.expect_points(h.point_count);
        let root = info.root_hier_offset..info.root_hier_offset.saturating_add(info.root_hier_size);
        if info.root_hier_size == 0 || root.end > file.source.len() {
            return Err(Error::format(
                &name,
                Location::Offset(INFO_PAYLOAD_ROOT),
                format!("root hierarchy page at byte {} of {} bytes lies outside the file ({} bytes)", root.start, info.root_hier_size, file.source.len()),
            ));
        }
        let root_bytes = file.prefetch.read(file.source.as_ref(), root.clone())?;
        hier.add_page(&name, root.start, &root_bytes, file.source.len())?;

        let mut reader = Reader { file, info, flavor, codec, format, hierarchy: Mutex::new(hier), pool };
        if let Some(d) = info_raw {
            reader.derive_draft_cube(&d)?;
        }
        Ok(reader)
    }

    pub fn name(&self) -> &str {
        self.file.name()
    }

    pub fn header(&self) -> &Header {
        &self.file.header
    }

    /// The info VLR (for drafts: center, halfsize and spacing derived, see [`Flavor`]).
    pub fn info(&self) -> &CopcInfo {
        &self.info
    }

    pub fn flavor(&self) -> &Flavor {
        &self.flavor
    }

    pub fn is_draft(&self) -> bool {
        matches!(self.flavor, Flavor::Draft(_))
    }

    pub fn cube(&self) -> Cube {
        self.info.cube()
    }

    pub fn las(&self) -> &LasFile {
        &self.file
    }

    /// Writer slips tolerated at open (a wrong EVLR pointer, a VLR count larger than
    /// the VLRs present); `validate` reports each as a failure.
    pub fn warnings(&self) -> &[String] {
        &self.file.warnings
    }

    pub fn source(&self) -> &Arc<dyn ByteSource> {
        &self.file.source
    }

    pub fn source_stats(&self) -> SourceStats {
        self.file.source.stats()
    }

    pub fn record_format(&self) -> &RecordFormat {
        &self.format
    }

    pub fn extra_bytes(&self) -> &[ExtraBytes] {
        &self.format.extra_bytes
    }

    /// The WKT of the CRS, if the file has one.
    pub fn crs_wkt(&self) -> Result<Option<String>> {
        self.file.crs_wkt()
    }

    pub(crate) fn threads(&self) -> usize {
        self.pool.as_ref().map(|p| p.current_num_threads()).unwrap_or_else(rayon::current_num_threads)
    }

    #[cfg(test)]
    pub(crate) fn pool(&self) -> Option<&Arc<rayon::ThreadPool>> {
        self.pool.as_ref()
    }

    pub(crate) fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(p) => p.install(f),
            None => f(),
        }
    }

    fn hier(&self) -> MutexGuard<'_, Hierarchy> {
        // A panic while holding the lock cannot leave the map half-updated in a way
        // that matters (entries are inserted whole), so a poisoned lock is still usable.
        self.hierarchy.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn node(&self, e: &crate::format::Entry) -> Node {
        Node { key: e.key, offset: e.offset, byte_size: e.byte_size, point_count: e.point_count, bounds: self.cube().node_bounds(&e.key) }
    }

    /// Loads every hierarchy page and counts nodes, pages and depth.
    pub fn hierarchy_summary(&self) -> Result<HierarchySummary> {
        let mut h = self.hier();
        h.load_pages(self.file.source.as_ref(), &|_| true)?;
        Ok(HierarchySummary {
            nodes: h.nodes.len(),
            data_nodes: h.nodes.values().filter(|e| e.has_data()).count(),
            pages: h.page_count(),
            max_depth: h.nodes.keys().map(|k| k.level).max().unwrap_or(0),
            points: h.nodes.values().map(|e| e.point_count.max(0) as u64).sum(),
        })
    }

    /// The data nodes a query selects, in file order of their chunks. Only the
    /// hierarchy pages whose subtree can match are read.
    pub fn nodes(&self, q: &Query) -> Result<Vec<Node>> {
        q.validate()?;
        let cube = self.cube();
        let end = q.depth_end(self.info.spacing);
        let mut h = self.hier();
        h.load_pages(self.file.source.as_ref(), &|k| q.reaches(k, &cube, end))?;
        let mut nodes: Vec<Node> =
            h.nodes.values().filter(|e| e.has_data() && q.selects(&e.key, &cube, end)).map(|e| self.node(e)).collect();
        nodes.sort_by_key(|n| (n.offset, n.key));
        Ok(nodes)
    }

    /// Every node entry (data and empty) after loading all pages, sorted by key.
    pub fn all_entries(&self) -> Result<Vec<crate::format::Entry>> {
        let mut h = self.hier();
        h.load_pages(self.file.source.as_ref(), &|_| true)?;
        let mut v: Vec<_> = h.nodes.values().copied().collect();
        v.sort_by_key(|e| e.key);
        Ok(v)
    }

    /// Streams the points a query selects (see [`PointIter`] for the order).
    pub fn points(&self, q: &Query) -> Result<PointIter<'_>> {
        self.points_from(ReaderRef::Borrowed(self), q)
    }

    /// Like [`Reader::points`], but the iterator shares the reader instead of
    /// borrowing it, so it may outlive the caller's handle (streams handed to C).
    pub fn points_shared(self: &Arc<Self>, q: &Query) -> Result<PointIter<'static>> {
        self.points_from(ReaderRef::Shared(self.clone()), q)
    }

    fn points_from<'r>(&self, reader: ReaderRef<'r>, q: &Query) -> Result<PointIter<'r>> {
        let nodes = self.nodes(q)?;
        let selection = self.selection_for(q)?;
        let plan = nodes.into_iter().map(|n| PlannedNode { test_points: self.needs_point_test(q, &n.bounds), node: n }).collect();
        Ok(PointIter::new(reader, plan, selection, Arc::new(q.clone())))
    }

    /// Streams the points of `q` in the nodes `keys` only (those `q` selects; others
    /// are skipped): what one partition of a dataset plan reads ([`crate::dataset`]).
    pub fn points_of_nodes(self: &Arc<Self>, q: &Query, keys: &[VoxelKey]) -> Result<PointIter<'static>> {
        let wanted: std::collections::HashSet<VoxelKey> = keys.iter().copied().collect();
        let nodes = self.nodes(q)?;
        let selection = self.selection_for(q)?;
        let plan = nodes
            .into_iter()
            .filter(|n| wanted.contains(&n.key))
            .map(|n| PlannedNode { test_points: self.needs_point_test(q, &n.bounds), node: n })
            .collect();
        Ok(PointIter::new(ReaderRef::Shared(self.clone()), plan, selection, Arc::new(q.clone())))
    }

    /// Whether node `n`'s points must each be tested against `q` (false: all its points match).
    pub fn node_needs_point_test(&self, q: &Query, n: &Node) -> bool {
        self.needs_point_test(q, &n.bounds)
    }

    /// Number of points a query selects. Nodes entirely inside the box are counted
    /// from the hierarchy; only nodes cut by the box are decoded (X, Y, Z only).
    pub fn count(&self, q: &Query) -> Result<u64> {
        let nodes = self.nodes(q)?;
        let mut total = 0u64;
        let mut cut = Vec::new();
        for n in nodes {
            if self.needs_point_test(q, &n.bounds) {
                cut.push(PlannedNode { node: n, test_points: true });
            } else {
                total += n.point_count as u64;
            }
        }
        let sel = decompression_selection(&[Dimension::X, Dimension::Y, Dimension::Z]);
        for batch in PointIter::new(ReaderRef::Borrowed(self), cut, sel, Arc::new(q.clone())) {
            total += batch?.len() as u64;
        }
        Ok(total)
    }

    /// Decodes one node by key (all its points; `dims` None = every dimension).
    pub fn read_node(&self, key: VoxelKey, dims: Option<&[Dimension]>) -> Result<PointBatch> {
        let cube = self.cube();
        let entry = {
            let mut h = self.hier();
            h.load_pages(self.file.source.as_ref(), &|k| {
                let b = cube.node_bounds(k);
                let t = cube.node_bounds(&key);
                k.level <= key.level && b.intersects(&t)
            })?;
            h.nodes.get(&key).copied()
        };
        let e = entry.ok_or_else(|| Error::invalid(format!("{}: node {key} is not in the hierarchy", self.name())))?;
        let node = self.node(&e);
        if !e.has_data() {
            return Ok(PointBatch::new(key, Vec::new(), self.format.clone()));
        }
        let q = Query { dims: dims.map(|d| d.to_vec()), ..Query::default() };
        let chunk = self.file.source.read_range(node.offset..node.offset + node.byte_size as u64)?;
        self.decode_planned(&PlannedNode { node, test_points: false }, &chunk, self.selection_for(&q)?, &q)
    }

    /// The layers to decode for a query: its dimensions plus what the box test needs.
    fn selection_for(&self, q: &Query) -> Result<laz::DecompressionSelection> {
        let Some(dims) = &q.dims else { return Ok(laz::DecompressionSelection::all()) };
        for d in dims {
            if let Some(i) = d.extra_index() {
                if i >= self.format.extra_bytes.len() {
                    return Err(Error::invalid(format!("{}: extra dimension {i} does not exist", self.name())));
                }
            }
        }
        let mut all = dims.clone();
        if q.bounds.is_some() {
            all.push(Dimension::Z);
        }
        Ok(decompression_selection(&all))
    }

    /// Whether a node's points must be tested one by one: not when its cube (widened
    /// by a scale step, since points may sit that far outside) lies inside the box.
    fn needs_point_test(&self, q: &Query, cube: &Bounds) -> bool {
        let s = self.format.transform.scale;
        q.needs_point_test(cube, [s[0].abs(), s[1].abs(), s[2].abs()])
    }

    pub(crate) fn decode_planned(&self, p: &PlannedNode, chunk: &[u8], sel: laz::DecompressionSelection, q: &Query) -> Result<PointBatch> {
        let mut records = Vec::new();
        let n = &p.node;
        self.codec.decode_into(chunk, n.point_count as usize, sel, &mut records, &ChunkAt { source: self.name(), key: n.key, offset: n.offset })?;
        let indices = p
            .test_points
            .then(|| retain_matching(&mut records, self.format.layout.record_length, &self.format.transform, q));
        Ok(PointBatch::new(n.key, records, self.format.clone()).with_indices(indices))
    }

    /// Draft files carry no cube: try the two conventions writers used (anchored at the
    /// minimum with the largest extent as side, as PDAL did; centred on the bounds, as
    /// Entwine did) and keep the one under which decoded points sit inside their nodes.
    fn derive_draft_cube(&mut self, _d: &DraftInfo) -> Result<()> {
        let h = &self.file.header;
        let side = (0..3).map(|i| h.max[i] - h.min[i]).fold(0.0f64, f64::max).max(h.scale[0].abs());
        let anchored = Cube { center: [h.min[0] + side / 2.0, h.min[1] + side / 2.0, h.min[2] + side / 2.0], halfsize: side / 2.0 };
        let centred = Cube { center: [(h.min[0] + h.max[0]) / 2.0, (h.min[1] + h.max[1]) / 2.0, (h.min[2] + h.max[2]) / 2.0], halfsize: side / 2.0 };
        let mut deepest = self.all_entries()?;
        deepest.retain(|e| e.has_data());
        deepest.sort_by_key(|e| std::cmp::Reverse(e.key.level));
        deepest.truncate(4);
        let mut samples = Vec::new();
        for e in &deepest {
            let chunk = self.file.source.read_range(e.offset..e.offset + e.byte_size as u64)?;
            let mut recs = Vec::new();
            let at = ChunkAt { source: self.name(), key: e.key, offset: e.offset };
            self.codec.decode_into(&chunk, e.point_count as usize, laz::DecompressionSelection::all(), &mut recs, &at)?;
            let batch = PointBatch::new(e.key, recs, self.format.clone());
            samples.push((e.key, batch.xyz()));
        }
        let tol = self.format.transform.scale.iter().fold(0.0f64, |a, s| a.max(s.abs()));
        let fits = |c: &Cube| {
            samples.iter().all(|(k, pts)| {
                let b = c.node_bounds(k);
                pts.iter().all(|p| (0..3).all(|i| p[i] >= b.min[i] - tol && p[i] <= b.max[i] + tol))
            })
        };
        let cube = if fits(&anchored) { anchored } else { centred };
        self.info.center = cube.center;
        self.info.halfsize = cube.halfsize;
        // Entwine's default span of 128 cells per axis.
        self.info.spacing = 2.0 * cube.halfsize / 128.0;
        Ok(())
    }
}

/// Byte offset of root_hier_offset inside a COPC 1.0 file.
const INFO_PAYLOAD_ROOT: u64 = crate::format::info::INFO_PAYLOAD_OFFSET + 40;

fn check_info(name: &str, at: u64, info: &CopcInfo, file_len: u64) -> Result<()> {
    let fail = |off: u64, msg: String| Error::format(name, Location::Offset(at + off), msg);
    if info.center.iter().any(|c| !c.is_finite()) {
        return Err(fail(0, format!("info VLR center {:?} is not finite", info.center)));
    }
    if !info.halfsize.is_finite() || info.halfsize <= 0.0 {
        return Err(fail(24, format!("info VLR halfsize {} (expected a finite number > 0)", info.halfsize)));
    }
    if !info.spacing.is_finite() || info.spacing <= 0.0 {
        return Err(fail(32, format!("info VLR spacing {} (expected a finite number > 0)", info.spacing)));
    }
    if info.root_hier_size == 0 {
        return Err(fail(48, "root hierarchy page size 0 (expected at least the root's 32-byte entry)".into()));
    }
    if info.root_hier_size % 32 != 0 {
        return Err(fail(48, format!("root hierarchy page size {} is not a multiple of 32", info.root_hier_size)));
    }
    if info.root_hier_offset.checked_add(info.root_hier_size).is_none_or(|e| e > file_len) {
        return Err(fail(
            40,
            format!("root hierarchy page {}+{} lies outside the file ({file_len} bytes)", info.root_hier_offset, info.root_hier_size),
        ));
    }
    Ok(())
}

/// Where chunks can lie: from after the chunk-table offset to the chunk table
/// (or, when that offset is unusable, to the first EVLR or the end of the file).
fn chunk_area(file: &LasFile) -> Result<ChunkArea> {
    let start = file.header.offset_to_point_data() + 8;
    let len = file.source.len();
    if start > len {
        return Err(Error::format(file.name(), Location::Offset(file.header.offset_to_point_data()), "file ends before the LAZ chunk-table offset"));
    }
    let b = file.prefetch.read(file.source.as_ref(), start - 8..start)?;
    let table = i64::from_le_bytes(b[..8].try_into().unwrap_or_default());
    let evlr = file.header.evlr_start;
    let end = if table as u64 >= start && (table as u64) <= len && table > 0 {
        table as u64
    } else if evlr >= start && evlr <= len {
        evlr
    } else {
        len
    };
    Ok(ChunkArea { start, end })
}
