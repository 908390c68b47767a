//! Many COPC files as one dataset: a Virtual Point Cloud (`.vpc`, a STAC
//! ItemCollection) or a list of files. Queries prune files by the bounds the
//! collection states (a file outside the box is never opened), then nodes by each
//! file's hierarchy, then decode file after file, each with the reader's threads
//! (one budget: `ReaderOptions::threads`). See `docs/dataset.md`.

mod arrow;
pub mod plan;
mod stream;
pub mod vpc;

pub use arrow::DatasetArrow;
pub use plan::{Partition, PlanTarget};
pub use vpc::Item;

use crate::error::{Error, Result};
use crate::reader::{LasFile, PointBatch, Query, Reader, ReaderOptions};
use crate::source::{SourceStats, open_source};
use stream::{FileItems, TileStream};
use std::sync::{Arc, Mutex};

/// A collection of files read as one.
pub struct Dataset {
    name: String,
    items: Vec<Item>,
    opts: ReaderOptions,
    readers: Mutex<Vec<Option<Arc<Reader>>>>,
    /// One decode pool for every file (built when the first file opens).
    pool: Mutex<Option<Option<Arc<rayon::ThreadPool>>>>,
}

/// `e` as an error about the file `href`: as it is when its message names the file
/// (so its kind stays: not found, network, format), else `tile HREF: ...`.
pub(crate) fn tile_context(href: &str, e: Error) -> Error {
    if e.to_string().contains(href) { e } else { Error::invalid(format!("tile {href}: {}", e.detail())) }
}

/// Whether `location` names a dataset (by its extension: `.vpc` or `.json`).
pub fn is_dataset_location(location: &str) -> bool {
    let l = location.to_ascii_lowercase();
    l.ends_with(".vpc") || l.ends_with(".json")
}

/// Reads an Item from a file's header and VLRs (with `stats`, also its whole hierarchy:
/// the data node count).
pub fn scan(location: &str, opts: &ReaderOptions, stats: bool) -> Result<Item> {
    let src = open_source(location, &opts.http)?;
    let las = LasFile::open(src.clone())?;
    let h = &las.header;
    let wkt = las.crs_wkt().ok().flatten();
    let epsg = wkt.as_deref().and_then(vpc::epsg_of_wkt);
    let file_name = location.rsplit('/').next().unwrap_or(location);
    let id = file_name.split('.').next().unwrap_or(file_name).to_string();
    let mut schemas = Vec::new();
    let (encoding, nodes) = match Reader::from_source(src, opts) {
        Ok(r) => {
            let fmt = r.record_format();
            // the decoded dimensions, not the raw integer views of X/Y/Z
            for d in fmt.dimensions().into_iter().filter(|d| !fmt.dim_name(*d).ends_with("_raw")) {
                let (t, size) = fmt.value_type(d)?;
                let t = format!("{t:?}");
                let kind = if t.starts_with('F') { "floating" } else if t.starts_with('U') { "unsigned" } else { "signed" };
                schemas.push((fmt.dim_name(d), kind.to_string(), size as u32));
            }
            let nodes = if stats { Some(r.hierarchy_summary()?.data_nodes as u64) } else { None };
            (vpc::ENCODING_COPC.to_string(), nodes)
        }
        Err(Error::NotCopc { .. }) => ((if h.compressed { vpc::ENCODING_LAZ } else { vpc::ENCODING_LAS }).to_string(), None),
        Err(e) => return Err(e),
    };
    Ok(Item {
        id,
        href: location.to_string(),
        count: h.point_count,
        bounds: crate::format::Bounds::new(h.min, h.max),
        wkt,
        epsg,
        encoding,
        schemas,
        point_format: Some(h.point_format),
        nodes,
    })
}

impl Dataset {
    /// Opens a `.vpc` or STAC ItemCollection JSON: a local path, `http(s)://`, or
    /// `s3://` / `az://` / `gs://` (read through the library's byte sources). Only
    /// the JSON is read; each file is opened when a query first touches it.
    pub fn open(location: &str, opts: &ReaderOptions) -> Result<Dataset> {
        let src = open_source(location, &opts.http)?;
        let bytes = src.read_range(0..src.len())?;
        let text = String::from_utf8(bytes).map_err(|_| Error::invalid(format!("{location}: not UTF-8 text (expected a VPC / STAC JSON)")))?;
        let items = vpc::parse(&text, location)?;
        Ok(Self::from_items(location, items, opts))
    }

    /// A dataset of COPC files given by location: each header is read now.
    pub fn from_sources(locations: &[&str], opts: &ReaderOptions) -> Result<Dataset> {
        if locations.is_empty() {
            return Err(Error::invalid("a dataset needs at least one file"));
        }
        let items = locations.iter().map(|l| scan(l, opts, false)).collect::<Result<Vec<_>>>()?;
        Ok(Self::from_items("(list)", items, opts))
    }

    /// A dataset of Items already known (e.g. parsed by [`vpc::parse`]).
    pub fn from_items(name: &str, items: Vec<Item>, opts: &ReaderOptions) -> Dataset {
        let n = items.len();
        Dataset { name: name.to_string(), items, opts: opts.clone(), readers: Mutex::new(vec![None; n]), pool: Mutex::new(None) }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// Sum of the Items' `pc:count`.
    pub fn point_count(&self) -> u64 {
        self.items.iter().map(|i| i.count).sum()
    }

    /// Indices of the files whose stated bounds meet the query's box and polygon.
    pub fn tiles_for(&self, q: &Query) -> Vec<usize> {
        let meets = |b: &crate::format::Bounds| {
            q.bounds.is_none_or(|qb| qb.intersects(b)) && q.polygon.as_ref().is_none_or(|p| p.bbox().intersects(b))
        };
        (0..self.items.len()).filter(|&i| meets(&self.items[i].bounds)).collect()
    }

    /// The reader of file `i`, opened on first use. Errors name the file; a plain
    /// LAS/LAZ file says to run `copc translate`.
    pub fn reader(&self, i: usize) -> Result<Arc<Reader>> {
        if let Some(r) = &self.readers.lock().unwrap()[i] {
            return Ok(r.clone());
        }
        let it = &self.items[i];
        let translate = |href: &str| {
            Error::invalid(format!(
                "{href}: tile is plain LAS/LAZ, not COPC: run `copc translate {href} OUT.copc.laz` and index the result"
            ))
        };
        if it.is_plain_las() {
            return Err(translate(&it.href));
        }
        let pool = {
            let mut p = self.pool.lock().unwrap();
            if p.is_none() {
                *p = Some(crate::reader::thread_pool(&self.opts)?);
            }
            p.clone().flatten()
        };
        let r = match Reader::open_in(&it.href, &self.opts, pool) {
            Ok(r) => Arc::new(r),
            Err(Error::NotCopc { .. }) => return Err(translate(&it.href)),
            Err(e) => return Err(tile_context(&it.href, e)),
        };
        self.readers.lock().unwrap()[i] = Some(r.clone());
        Ok(r)
    }

    /// Files opened so far.
    pub fn opened(&self) -> Vec<usize> {
        self.readers.lock().unwrap().iter().enumerate().filter(|(_, r)| r.is_some()).map(|(i, _)| i).collect()
    }

    /// Requests and bytes of every file opened so far, summed.
    pub fn source_stats(&self) -> SourceStats {
        let mut s = SourceStats::default();
        for r in self.readers.lock().unwrap().iter().flatten() {
            let t = r.source_stats();
            s.requests += t.requests;
            s.bytes += t.bytes;
            s.retries += t.retries;
        }
        s
    }

    /// Exact number of points `q` selects: per file as [`Reader::count`] (nodes inside
    /// the box from the hierarchy, cut nodes decoded).
    pub fn count(&self, q: &Query) -> Result<u64> {
        q.validate()?;
        let mut n = 0;
        for i in self.tiles_for(q) {
            n += self.reader(i)?.count(q).map_err(|e| self.tile_error(i, e))?;
        }
        Ok(n)
    }

    /// Checks that every file `q` touches can be read as the others: same point
    /// format and record length (what a merged LAS output needs). Opens those files.
    pub fn check_uniform(&self, q: &Query) -> Result<()> {
        let tiles = self.tiles_for(q);
        let mut first: Option<(usize, u8, u16)> = None;
        for i in tiles {
            let r = self.reader(i)?;
            let h = r.header();
            match first {
                None => first = Some((i, h.point_format, h.point_record_length)),
                Some((j, f, l)) if (f, l) != (h.point_format, h.point_record_length) => {
                    return Err(Error::invalid(format!(
                        "tile {}: point format {} ({} bytes) differs from {}'s {} ({} bytes); translate the tiles to one format first",
                        self.items[i].href, h.point_format, h.point_record_length, self.items[j].href, f, l
                    )));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn tile_error(&self, i: usize, e: Error) -> Error {
        tile_context(&self.items[i].href, e)
    }

    /// The points `q` selects, file after file (in the collection's order), each
    /// file's batches in its own order ([`Reader::points`]). Yields the file index
    /// with each batch. Small files decode side by side (see [`Dataset::window`]).
    pub fn points(&self, q: &Query) -> Result<DatasetPoints<'_>> {
        q.validate()?;
        Ok(DatasetPoints { ds: self, q: q.clone(), stream: TileStream::new(self.tiles_for(q)) })
    }

    /// Decode threads of the dataset's pool.
    fn threads(&self) -> usize {
        match self.pool.lock().unwrap().clone().flatten() {
            Some(p) => p.current_num_threads(),
            None => self.opts.threads.filter(|&n| n > 0).unwrap_or_else(rayon::current_num_threads),
        }
    }

    /// How many of `tiles` (from the first) decode side by side: consecutive files whose
    /// selected nodes hold at most [`WINDOW_POINTS`] points per thread together (up to
    /// [`WINDOW_FILES`]). A file of one or two nodes gives its own threads nothing to
    /// share, so a collection of small tiles would otherwise decode on one core. 1 when
    /// the first file alone is larger: it streams, its nodes decoding in parallel.
    pub(crate) fn window(&self, q: &Query, tiles: &[usize]) -> Result<usize> {
        let budget = WINDOW_POINTS * self.threads() as u64;
        let (mut sum, mut n) = (0u64, 0usize);
        for &i in tiles.iter().take(WINDOW_FILES) {
            let pts: u64 = self.reader(i)?.nodes(q).map_err(|e| self.tile_error(i, e))?.iter().map(|n| n.point_count.max(0) as u64).sum();
            if n > 0 && sum + pts > budget {
                break;
            }
            sum += pts;
            n += 1;
            if sum > budget {
                break;
            }
        }
        Ok(n.max(1))
    }

    /// `f` of each file of `tiles` on the dataset's pool, results in `tiles`' order.
    pub(crate) fn par_tiles<T: Send>(&self, tiles: &[usize], f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
        use rayon::prelude::*;
        let run = || tiles.par_iter().map(|&i| f(i)).collect();
        match self.pool.lock().unwrap().clone().flatten() {
            Some(p) => p.install(run),
            None => run(),
        }
    }
}

/// Points per decode thread that a window of small files may hold at once.
const WINDOW_POINTS: u64 = 1 << 20;
/// Most files in one window (each is opened first: a request or two when remote).
const WINDOW_FILES: usize = 64;

/// Iterator of [`Dataset::points`].
pub struct DatasetPoints<'d> {
    ds: &'d Dataset,
    q: Query,
    stream: TileStream<PointBatch>,
}

impl Iterator for DatasetPoints<'_> {
    type Item = Result<(usize, PointBatch)>;

    fn next(&mut self) -> Option<Self::Item> {
        let (ds, q) = (self.ds, &self.q);
        self.stream.next(ds, q, |i| Ok(Box::new(ds.reader(i)?.points_shared(q)?) as FileItems<PointBatch>))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of a dataset decodes on one pool of `threads` threads.
    #[test]
    fn the_files_of_a_dataset_share_one_thread_pool() {
        let d = tempfile::tempdir().unwrap();
        let mut hrefs = Vec::new();
        for seed in [1, 2] {
            let laz = d.path().join(format!("t{seed}.laz"));
            crate::sample::write_sample(&laz, &crate::sample::SampleOptions { points: 2000, seed, ..Default::default() }).unwrap();
            let out = d.path().join(format!("t{seed}.copc.laz"));
            crate::writer::translate(&[&laz], &out, &Default::default()).unwrap();
            hrefs.push(out.to_str().unwrap().to_string());
        }
        let refs: Vec<&str> = hrefs.iter().map(String::as_str).collect();
        let ds = Dataset::from_sources(&refs, &ReaderOptions { threads: Some(3), ..Default::default() }).unwrap();
        let (a, b) = (ds.reader(0).unwrap(), ds.reader(1).unwrap());
        let (pa, pb) = (a.pool().unwrap(), b.pool().unwrap());
        assert!(Arc::ptr_eq(pa, pb));
        assert_eq!((pa.current_num_threads(), a.threads()), (3, 3));
        // a reader opened on its own still gets a pool of its own
        let alone = Reader::open_with(&hrefs[0], &ReaderOptions { threads: Some(3), ..Default::default() }).unwrap();
        assert!(!Arc::ptr_eq(alone.pool().unwrap(), pa));
    }
}
