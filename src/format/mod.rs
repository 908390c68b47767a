//! The COPC/LAS/LAZ file format: byte layouts and their validation, with no I/O
//! policy of its own. Readers and writers both build on these pieces.

pub mod bytes;
pub mod crs;
pub mod extra_bytes;
pub mod header;
pub mod hierarchy;
pub mod info;
pub mod key;
pub mod point;
pub mod vlr;

pub use extra_bytes::{ExtraBytes, ExtraBytesType};
pub use header::Header;
pub use hierarchy::Entry;
pub use info::{CopcInfo, DraftInfo};
pub use key::{Bounds, Cube, VoxelKey};
pub use point::{Dimension, PointLayout};
pub use vlr::Vlr;
