//! Bytes already in memory (tests, caller-provided buffers).

use super::{ByteSource, check_range};
use crate::error::Result;
use std::ops::Range;
use std::sync::Arc;

#[derive(Clone)]
pub struct MemorySource {
    name: String,
    data: Arc<[u8]>,
}

impl MemorySource {
    pub fn new(name: impl Into<String>, data: impl Into<Arc<[u8]>>) -> Self {
        MemorySource { name: name.into(), data: data.into() }
    }
}

impl ByteSource for MemorySource {
    fn name(&self) -> &str {
        &self.name
    }

    fn len(&self) -> u64 {
        self.data.len() as u64
    }

    fn read_range(&self, range: Range<u64>) -> Result<Vec<u8>> {
        check_range(&self.name, &range, self.len(), "read")?;
        Ok(self.data[range.start as usize..range.end as usize].to_vec())
    }
}
