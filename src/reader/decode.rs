//! One octree node = one LAZ chunk. Decoding checks the chunk's own layer table
//! before laz-rs allocates anything, asks laz-rs for only the layers needed, and
//! turns any laz-rs panic into an error naming the node.

use crate::error::{Error, Location, Result};
use crate::format::VoxelKey;
use laz::{DecompressionSelection, LazItemType, LazVlr};
use laz::record::{LayeredPointRecordDecompressor, RecordDecompressor, SequentialPointRecordDecompressor};
use std::io::Cursor;

/// Which chunk is being decoded, for error messages.
pub struct ChunkAt<'a> {
    pub source: &'a str,
    pub key: VoxelKey,
    pub offset: u64,
}

/// How a file's chunks are compressed.
#[derive(Clone)]
pub struct ChunkCodec {
    pub vlr: LazVlr,
    pub record_length: usize,
    /// Layered (LAZ 1.4 formats 6-10), as opposed to point-wise chunks.
    pub layered: bool,
    /// Number of layers a layered chunk declares sizes for (None if unknown items).
    layer_count: Option<usize>,
}

impl ChunkCodec {
    /// `compressor` is the LAZ VLR's compressor field (2 point-wise chunked, 3 layered).
    pub fn new(vlr: LazVlr, compressor: u16) -> ChunkCodec {
        let mut layers = Some(0usize);
        for item in vlr.items() {
            let n = match item.item_type() {
                LazItemType::Point14 => Some(9),
                LazItemType::RGB14 => Some(1),
                LazItemType::RGBNIR14 => Some(2),
                LazItemType::Byte14(n) => Some(n as usize),
                _ => None,
            };
            layers = layers.zip(n).map(|(a, b)| a + b);
        }
        let record_length = super::las::laz_record_length(&vlr) as usize;
        ChunkCodec { vlr, record_length, layered: compressor == 3, layer_count: layers }
    }

    /// Checks a layered chunk's header: its point count and that its layers fit in it.
    pub(crate) fn check_layers(&self, chunk: &[u8], point_count: usize) -> std::result::Result<(), String> {
        let Some(n) = self.layer_count else { return Ok(()) };
        let rl = self.record_length;
        let table = rl + 4 + 4 * n;
        if chunk.len() < table {
            return Err(format!("chunk of {} bytes is too short for its layer table ({table} bytes)", chunk.len()));
        }
        let stored = u32::from_le_bytes(chunk[rl..rl + 4].try_into().unwrap_or_default()) as usize;
        if stored != point_count {
            return Err(format!("chunk holds {stored} points but the hierarchy says {point_count}"));
        }
        let layers: u64 = chunk[rl + 4..table]
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap_or_default()) as u64)
            .sum();
        if layers > (chunk.len() - table) as u64 {
            return Err(format!(
                "chunk layers need {layers} bytes but only {} follow the layer table",
                chunk.len() - table
            ));
        }
        Ok(())
    }

    /// Decodes `point_count` records from `chunk` into `out` (cleared first).
    /// The buffer grows as points decode, so a lying count cannot force a huge allocation.
    pub fn decode_into(
        &self,
        chunk: &[u8],
        point_count: usize,
        selection: DecompressionSelection,
        out: &mut Vec<u8>,
        at: &ChunkAt,
    ) -> Result<()> {
        let name = at.source;
        let at = Location::Node { key: at.key.as_array(), offset: Some(at.offset) };
        if self.layered {
            self.check_layers(chunk, point_count).map_err(|m| Error::format(name, at.clone(), m))?;
        }
        let rl = self.record_length;
        out.clear();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> std::io::Result<()> {
            let cursor = Cursor::new(chunk);
            let mut dec: Box<dyn RecordDecompressor<Cursor<&[u8]>>> = if self.layered {
                Box::new(LayeredPointRecordDecompressor::new(cursor))
            } else {
                Box::new(SequentialPointRecordDecompressor::new(cursor))
            };
            dec.set_fields_from(self.vlr.items()).map_err(std::io::Error::other)?;
            dec.set_selection(selection);
            // Points a compressed byte can plausibly hold; beyond that, grow step by step.
            let eager = point_count.min(chunk.len().saturating_mul(64) / rl.max(1) + 4096);
            out.resize(eager * rl, 0);
            dec.decompress_many(&mut out[..])?;
            let mut done = eager;
            while done < point_count {
                let step = (point_count - done).min(done.max(65536));
                out.resize((done + step) * rl, 0);
                dec.decompress_many(&mut out[done * rl..])?;
                done += step;
            }
            Ok(())
        }));
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Error::format(name, at, format!("LAZ chunk of {} bytes does not decode: {e}", chunk.len()))),
            Err(_) => Err(Error::format(name, at, format!("LAZ chunk of {} bytes is corrupt (decoder failed)", chunk.len()))),
        }
    }
}
