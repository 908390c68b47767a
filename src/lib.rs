//! copc: read and write COPC (Cloud Optimized Point Cloud) files.
//!
//! Layers, bottom up: [`error`]; [`source`] (byte ranges from files, memory, HTTP);
//! [`format`] (header, VLRs, info, hierarchy, point layouts); [`reader`] (open,
//! lazy hierarchy, queries, parallel decode); [`writer`] (LAS/LAZ to COPC: octree,
//! spill, parallel LAZ chunks); [`ept`] (EPT datasets to COPC, node for node);
//! [`sample`] (synthetic test clouds). The CLI and the C ABI ([`ffi`],
//! `include/copc.h`) sit on top.
//!
//! ```no_run
//! use copc::{Bounds, Dimension, Query, Reader};
//! let reader = Reader::open("autzen.copc.laz")?;
//! let q = Query::new().bounds(Bounds::xy(637000.0, 851000.0, 638000.0, 852000.0)).resolution(1.0)
//!     .dims([Dimension::X, Dimension::Y, Dimension::Z, Dimension::Classification]);
//! for batch in reader.points(&q)? {
//!     let batch = batch?;
//!     let classes: Vec<u8> = batch.column(Dimension::Classification)?;
//!     println!("{}: {} points", batch.node, classes.len());
//! }
//! # Ok::<(), copc::Error>(())
//! ```

pub mod ept;
pub mod error;
pub mod ffi;
pub mod format;
#[doc(hidden)]
pub mod fuzzing;
pub mod reader;
pub mod sample;
pub mod source;
pub mod validate;
pub mod writer;

pub use error::{Error, Location, Result};
pub use format::{Bounds, Cube, Dimension, VoxelKey};
pub use reader::{HierarchySummary, Node, PointBatch, PointIter, Polygon, Query, Reader, ReaderOptions, RecordFormat};
pub use source::{ByteSource, CallbackSource, FileSource, HttpOptions, HttpSource, MemorySource, SourceStats, StoreOptions, open_source};
