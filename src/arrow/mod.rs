//! The Arrow face: a query's points as Arrow record batches ([`ArrowBatchReader`], an
//! `arrow_array::RecordBatchReader`) and as an Arrow C stream ([`into_c_stream`]).
//!
//! Batches come from the reader's parallel, dimension-selective decode
//! ([`Reader::points`]), in its order (nodes in the file order of their chunks, points
//! in stored order), at most [`ArrowOptions::batch_rows`] rows each; a batch may span
//! nodes and a node may span batches. Each column is converted once, from the decoded
//! LAS records straight into the buffer that becomes the Arrow array. The columns and
//! their types are documented in `docs/arrow.md` ([`schema`] builds them).
//!
//! ```no_run
//! use copc::{Dimension, Query, Reader};
//! use copc::arrow::ArrowOptions;
//! let reader = Reader::open("autzen.copc.laz")?;
//! let q = Query::new().dims([Dimension::X, Dimension::Y, Dimension::Z, Dimension::Classification]);
//! for batch in reader.arrow(&q, &ArrowOptions::default())? {
//!     let batch = batch?;
//!     println!("{} rows, columns {:?}", batch.num_rows(), batch.schema().fields().iter().map(|f| f.name()).collect::<Vec<_>>());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod c_stream;
mod fill;
mod reader;
pub mod schema;

pub use c_stream::into_c_stream;
pub use reader::ArrowBatchReader;

/// What an Arrow C stream ([`into_c_stream`]) pulls from: one schema and batches with
/// the crate's errors. A one-file query ([`ArrowBatchReader`]) and a dataset query
/// ([`crate::dataset::DatasetArrow`]) are both.
pub trait BatchSource: Send {
    /// The schema of every batch.
    fn schema(&self) -> arrow_schema::SchemaRef;
    /// The next batch, or None at the end; after an error, None.
    fn next_batch(&mut self) -> Option<Result<arrow_array::RecordBatch>>;
}

/// A boxed source, so a caller may pick one of several at run time.
impl<T: BatchSource + ?Sized> BatchSource for Box<T> {
    fn schema(&self) -> arrow_schema::SchemaRef {
        (**self).schema()
    }

    fn next_batch(&mut self) -> Option<Result<arrow_array::RecordBatch>> {
        (**self).next_batch()
    }
}

use crate::error::Result;
use crate::reader::ReaderRef;
use crate::{Dimension, Query, Reader};
use std::sync::Arc;

/// GDAL's `MAX_FEATURES_IN_BATCH` default, and ours.
pub const DEFAULT_BATCH_ROWS: usize = 65_536;

/// How the points' position is also given as one geometry column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Geometry {
    /// `geoarrow.point`, separated coordinates: a struct of `x`, `y`, `z` (float64),
    /// the CRS (the file's WKT) in `ARROW:extension:metadata`.
    GeoArrowPoint,
    /// ISO WKB Point Z (29 bytes a point) in a binary column, extension `ogc.wkb` (what
    /// GDAL 3.6 puts in its streams).
    Wkb,
}

/// One column chosen by hand (see [`ArrowOptions::columns`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ArrowColumn {
    /// `Extra(i)` gives the scaled value as float64, `ExtraRaw(i)` the declared type.
    pub dim: Dimension,
    /// The column's name (None: the dimension's name, see docs/arrow.md).
    pub name: Option<String>,
}

/// What [`Reader::arrow`] puts in its batches.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrowOptions {
    /// Most rows in one batch (>= 1; default 65 536).
    pub batch_rows: usize,
    /// The dimension columns, in this order, instead of those of the query (None: one
    /// column per dimension of the query's `dims`, or of the file when it has none).
    /// The query decodes what these need.
    pub columns: Option<Vec<ArrowColumn>>,
    /// Also `x_raw`, `y_raw`, `z_raw` (int32, the stored integers).
    pub raw_xyz: bool,
    /// A geometry column after the dimension columns.
    pub geometry: Option<Geometry>,
    /// Its name (default `"geometry"`).
    pub geometry_name: String,
    /// The node of each point: `node_level`, `node_x`, `node_y`, `node_z` (int32) and
    /// its position in the node's chunk, `point_index` (uint32).
    pub node_columns: bool,
    /// A first column of this name (int64) with a stable id per point: the points of the data
    /// nodes before its node (in file order) plus its position in the node, the same
    /// whatever the query (GDAL's FIDs). Loads the whole hierarchy.
    pub point_id: Option<String>,
}

impl Default for ArrowOptions {
    fn default() -> Self {
        ArrowOptions {
            batch_rows: DEFAULT_BATCH_ROWS,
            columns: None,
            raw_xyz: false,
            geometry: None,
            geometry_name: "geometry".to_string(),
            node_columns: false,
            point_id: None,
        }
    }
}

impl ArrowOptions {
    pub fn batch_rows(mut self, n: usize) -> Self {
        self.batch_rows = n;
        self
    }

    pub fn columns(mut self, columns: impl Into<Vec<ArrowColumn>>) -> Self {
        self.columns = Some(columns.into());
        self
    }

    pub fn raw_xyz(mut self, on: bool) -> Self {
        self.raw_xyz = on;
        self
    }

    pub fn geometry(mut self, g: Geometry) -> Self {
        self.geometry = Some(g);
        self
    }

    pub fn node_columns(mut self, on: bool) -> Self {
        self.node_columns = on;
        self
    }

    pub fn point_id(mut self, name: impl Into<String>) -> Self {
        self.point_id = Some(name.into());
        self
    }
}

impl Reader {
    /// The points `q` selects as Arrow record batches (see [`crate::arrow`]).
    pub fn arrow(&self, q: &Query, opts: &ArrowOptions) -> Result<ArrowBatchReader<'_>> {
        let plan = Arc::new(schema::plan(self, q, opts)?);
        let points = self.points(&plan.query)?;
        ArrowBatchReader::new(ReaderRef::Borrowed(self), points, plan)
    }

    /// Like [`Reader::arrow`], but the batch reader shares the reader instead of
    /// borrowing it (`'static`, for C streams and threads).
    pub fn arrow_shared(self: &Arc<Self>, q: &Query, opts: &ArrowOptions) -> Result<ArrowBatchReader<'static>> {
        let plan = Arc::new(schema::plan(self, q, opts)?);
        let points = self.points_shared(&plan.query)?;
        ArrowBatchReader::new(ReaderRef::Shared(self.clone()), points, plan)
    }

    /// Like [`Reader::arrow_shared`], for the nodes `keys` only (one partition of a
    /// dataset plan, [`crate::dataset::Partition::arrow`]).
    pub fn arrow_of_nodes(self: &Arc<Self>, q: &Query, opts: &ArrowOptions, keys: &[crate::VoxelKey]) -> Result<ArrowBatchReader<'static>> {
        let plan = Arc::new(schema::plan(self, q, opts)?);
        let points = self.points_of_nodes(&plan.query, keys)?;
        ArrowBatchReader::new(ReaderRef::Shared(self.clone()), points, plan)
    }

    /// The schema [`Reader::arrow`] gives for `q` and `opts`, without reading points.
    pub fn arrow_schema(&self, q: &Query, opts: &ArrowOptions) -> Result<arrow_schema::SchemaRef> {
        Ok(schema::plan(self, q, opts)?.schema.clone())
    }
}

// docs/arrow.md's Rust example compiles (`cargo test --doc`), so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../docs/arrow.md")]
pub struct ArrowDocExamples;
