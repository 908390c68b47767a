//! copc: read and write COPC (Cloud Optimized Point Cloud) files.
//!
//! Layers, bottom up: [`error`]; [`source`] (byte ranges from files, memory, HTTP);
//! [`format`] (header, VLRs, info, hierarchy, point layouts); [`reader`] (open,
//! lazy hierarchy, queries, parallel decode). The CLI and the C ABI sit on top.

pub mod error;
pub mod format;
pub mod source;

pub use error::{Error, Location, Result};
pub use format::{Bounds, Cube, Dimension, VoxelKey};
pub use source::{ByteSource, FileSource, HttpOptions, HttpSource, MemorySource, SourceStats, open_source};
