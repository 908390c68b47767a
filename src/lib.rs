//! copc: read and write COPC (Cloud Optimized Point Cloud) files.
//!
//! A COPC file is one LAZ 1.4 file whose points are clustered in an octree; a reader
//! fetches only the nodes a query needs (by range reads, locally or over HTTP) and
//! decodes only the dimensions it asks for.
//!
//! # A two-minute tour
//!
//! **Read** a file or an `http(s)://` URL: [`Reader::open`] reads the header, the VLRs
//! and the root hierarchy page, nothing else. A [`Query`] selects by box, polygon,
//! resolution or depth and names the dimensions to decode; [`Reader::points`]
//! streams one [`PointBatch`] per node, decoded in parallel.
//!
//! ```no_run
//! use copc::{Bounds, Dimension, Query, Reader};
//! let reader = Reader::open("autzen.copc.laz")?;
//! println!("{} points, spacing {}", reader.header().point_count, reader.info().spacing);
//! let q = Query::new().bounds(Bounds::xy(637000.0, 851000.0, 638000.0, 852000.0)).resolution(1.0)
//!     .dims([Dimension::X, Dimension::Y, Dimension::Z, Dimension::Classification]);
//! for batch in reader.points(&q)? {
//!     let batch = batch?;
//!     let classes: Vec<u8> = batch.column(Dimension::Classification)?;
//!     println!("{}: {} points", batch.node, classes.len());
//! }
//! # Ok::<(), copc::Error>(())
//! ```
//!
//! **Write** COPC from LAS/LAZ files (any version, point formats 0-10), out of core
//! under a memory limit: [`writer::translate`] (or [`writer::Writer`]); points you
//! produce yourself go through [`writer::PointWriter`]. An EPT dataset is repacked
//! node for node by [`ept::translate_ept`].
//!
//! ```no_run
//! use copc::writer::{translate, WriterOptions};
//! let s = translate(&["a.laz", "b.las"], "out.copc.laz", &WriterOptions { threads: Some(2), ..Default::default() })?;
//! println!("{} points in {} nodes", s.points, s.nodes);
//! # Ok::<(), copc::Error>(())
//! ```
//!
//! **Arrow**: [`Reader::arrow`] gives a query's points as Arrow record batches (and,
//! for C, an Arrow C stream); the columns are in `docs/arrow.md`.
//!
//! **Check** a file against the COPC 1.0 spec: [`validate::validate`].
//!
//! The same from the command line: `copc demo`, `copc info`, `copc query`,
//! `copc translate`, `copc validate` (`copc --help`); from C and C++ through the C ABI
//! ([`ffi`], `include/copc.h`, CMake `find_package(Copc)`); from GDAL through `gdal/`.
//!
//! # Layers
//!
//! Bottom up: [`error`]; [`source`] (byte ranges from files, memory, HTTP);
//! [`format`] (header, VLRs, info, hierarchy, point layouts); [`reader`] (open,
//! lazy hierarchy, queries, parallel decode); [`writer`] (LAS/LAZ to COPC: octree,
//! spill, parallel LAZ chunks); [`ept`] (EPT datasets to COPC, node for node);
//! [`sample`] (synthetic test clouds). The CLI and the C ABI sit on top.

pub mod arrow;
pub mod dataset;
pub mod ept;
pub mod error;
pub mod ffi;
pub mod format;
/// Crate internals for the fuzz targets (`fuzz/`), only with the cargo feature `fuzzing`:
/// not part of the API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod reader;
pub mod sample;
pub mod source;
pub mod validate;
pub mod writer;

pub use dataset::{Dataset, Partition, PlanTarget};
pub use error::{Error, Location, Result};
pub use format::{Bounds, Cube, Dimension, VoxelKey};
pub use reader::{HierarchySummary, Node, PointBatch, PointIter, Polygon, Query, Reader, ReaderOptions, RecordFormat};
pub use source::{ByteSource, CallbackSource, FileSource, HttpOptions, HttpSource, MemorySource, SourceStats, StoreOptions, open_source};

// The Rust examples of the README and of docs/ compile (`cargo test --doc`), so they
// cannot rot (scripts/readme-check checks every page with one is listed here).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;

#[cfg(doctest)]
pub mod docs_examples {
    #[doc = include_str!("../docs/rust.md")]
    pub struct Rust;
    #[doc = include_str!("../docs/writer.md")]
    pub struct Writer;
    #[doc = include_str!("../docs/dataset.md")]
    pub struct Dataset;
}
