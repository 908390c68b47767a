//! LAS/LAZ inputs of the writer: header, VLRs and EVLRs through `format/`, then the
//! raw point records streamed in batches (LAZ chunks decoded in parallel).
//!
//! Everything that can be wrong in a file is an error naming the file and the byte
//! offset: a VLR running past the point data, a header that promises more points
//! than the file holds (both counts are named), a chunk table that points outside
//! the file, a chunk that does not decode.

use crate::error::{Error, Location, Result};
use crate::format::extra_bytes::{EXTRA_BYTES_RECORD_ID, EXTRA_BYTES_USER_ID, merge_extra_bytes};
use crate::format::{ExtraBytes, Header, PointLayout, Vlr};
use crate::reader::LasFile;
use crate::source::{ByteSource, FileSource};
use laz::record::{LayeredPointRecordDecompressor, RecordDecompressor, SequentialPointRecordDecompressor};
use rayon::prelude::*;
use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;

/// How the point records of an input are stored.
#[derive(Debug, Clone)]
pub enum Storage {
    /// Uncompressed records.
    Las,
    /// LAZ chunks: (absolute offset, compressed bytes, points) per chunk, in order.
    Laz {
        vlr: laz::LazVlr,
        layered: bool,
        chunks: Vec<LazChunk>,
    },
    /// LASzip 1.x point-wise LAZ (compressor 1): one arithmetic-coded stream of every
    /// point from the start of the point data to `end`, no chunk table; decoded in order.
    PointWise { vlr: laz::LazVlr, end: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LazChunk {
    pub offset: u64,
    pub bytes: u64,
    pub points: u64,
}

/// One opened LAS/LAZ input.
pub struct InputFile {
    pub name: String,
    pub source: Arc<dyn ByteSource>,
    /// Header, VLRs and EVLRs, parsed by the same code the COPC reader uses.
    pub las: LasFile,
    pub header: Header,
    /// VLRs with their payloads.
    pub vlrs: Vec<Vlr>,
    /// EVLRs with their payloads (waveform data packets are not read).
    pub evlrs: Vec<Vlr>,
    pub layout: PointLayout,
    /// Extra-bytes descriptors, and the VLR payload they came from (forwarded bit-exact).
    pub extra_bytes: Vec<ExtraBytes>,
    pub extra_bytes_vlr: Option<Vec<u8>>,
    pub storage: Storage,
    /// Irregularities the opener tolerated (e.g. a VLR count larger than the VLRs present).
    pub warnings: Vec<String>,
}

/// Waveform data packets (`LASF_Spec`/65535): never read, never forwarded.
fn is_waveform_data(v: &Vlr) -> bool {
    v.user_id == "LASF_Spec" && v.record_id == 65535
}

impl InputFile {
    /// Opens a local LAS or LAZ file and checks its structure (not yet its points).
    pub fn open(path: impl AsRef<Path>) -> Result<InputFile> {
        let source = FileSource::open(path)?;
        Self::from_source(Arc::new(source))
    }

    /// Opens any byte source holding a LAS or LAZ file.
    pub fn from_source(source: Arc<dyn ByteSource>) -> Result<InputFile> {
        let name = source.name().to_string();
        let len = source.len();
        let las = LasFile::open(source.clone())?;
        let header = las.header.clone();
        let fail = |at: u64, msg: String| Error::format(&name, Location::Offset(at), msg);
        let point_offset = header.offset_to_point_data();
        let vlrs = las.vlrs.clone();
        let mut evlrs = Vec::new();
        for v in las.evlrs()? {
            let mut v = v.clone();
            if v.data.is_none() && !is_waveform_data(&v) {
                v.data = Some(las.payload(&v)?);
            }
            evlrs.push(v);
        }

        let layout = PointLayout::new(header.point_format, header.point_record_length as usize);
        let available = header.extra_bytes_len();
        let mut extra_bytes = Vec::new();
        let mut extra_bytes_vlr = None;
        // several descriptor VLRs (one per producer) are merged into one, in order
        let parts: Vec<(u64, &[u8])> = vlrs
            .iter()
            .chain(evlrs.iter())
            .filter(|v| v.is(EXTRA_BYTES_USER_ID, EXTRA_BYTES_RECORD_ID))
            .map(|v| (v.data_offset, v.data.as_deref().unwrap_or_default()))
            .collect();
        if !parts.is_empty() {
            let (ebs, payload) =
                merge_extra_bytes(&parts, available).map_err(|(at, m)| fail(at, format!("extra-bytes VLR: {m}")))?;
            extra_bytes = ebs;
            extra_bytes_vlr = Some(payload);
        }

        let storage = if header.compressed {
            Self::laz_storage(&name, source.as_ref(), &header, &vlrs, las.laz_vlr.clone())?
        } else {
            let need = header
                .point_count
                .checked_mul(header.point_record_length as u64)
                .and_then(|n| n.checked_add(point_offset));
            let end = if header.evlr_count > 0 && header.evlr_start >= point_offset {
                header.evlr_start.min(len)
            } else {
                len
            };
            match need {
                Some(n) if n <= end => {}
                _ => {
                    let have = end.saturating_sub(point_offset) / header.point_record_length as u64;
                    return Err(fail(
                        point_offset,
                        format!(
                            "the header promises {} points ({} bytes each from byte {point_offset}) but the file holds only {have} whole records",
                            header.point_count, header.point_record_length
                        ),
                    ));
                }
            }
            Storage::Las
        };
        let warnings = las.warnings.iter().map(|w| format!("{name}: {w}")).collect();
        Ok(InputFile {
            name,
            source,
            las,
            header,
            vlrs,
            evlrs,
            layout,
            extra_bytes,
            extra_bytes_vlr,
            storage,
            warnings,
        })
    }

    fn laz_storage(
        name: &str,
        source: &dyn ByteSource,
        header: &Header,
        vlrs: &[Vlr],
        parsed: Option<laz::LazVlr>,
    ) -> Result<Storage> {
        let fail = |at: u64, msg: String| Error::format(name, Location::Offset(at), msg);
        let v = vlrs
            .iter()
            .find(|v| v.is(laz::LazVlr::USER_ID, laz::LazVlr::RECORD_ID))
            .ok_or_else(|| {
                fail(
                    104,
                    "the point format byte says LAZ (bit 0x80) but there is no 'laszip encoded'/22204 VLR".into(),
                )
            })?;
        let data = v.data.as_deref().unwrap_or(&[]);
        let vlr = parsed.ok_or_else(|| fail(v.data_offset, "laszip VLR cannot be parsed".into()))?;
        let compressor = if data.len() >= 2 {
            u16::from_le_bytes([data[0], data[1]])
        } else {
            0
        };
        if !(1..=3).contains(&compressor) {
            return Err(Error::unsupported(
                name,
                Location::Offset(v.data_offset),
                format!(
                    "LAZ compressor {compressor}: LASzip defines 1 (point-wise), 2 (point-wise chunked) and 3 (layered chunked); \
                     0 means not compressed, so the file's LAZ bit and its laszip VLR disagree"
                ),
            ));
        }
        let layered = vlr.items().first().map(|i| i.version() >= 3).unwrap_or(false);
        let point_offset = header.offset_to_point_data();
        let len = source.len();
        let data_end = if header.evlr_count > 0 && header.evlr_start >= point_offset {
            header.evlr_start.min(len)
        } else {
            len
        };
        if compressor == 1 {
            // LASzip 1.x: no chunk-table offset, no chunks; the stream starts at the point data
            if layered {
                return Err(fail(
                    v.data_offset,
                    "laszip VLR says compressor 1 (point-wise) with layered (version 3) items; point-wise streams have items of version 1 or 2".into(),
                ));
            }
            if header.point_count > 0 && point_offset >= data_end {
                return Err(fail(
                    point_offset,
                    format!("the header promises {} points but the file ends before the LAZ data starts", header.point_count),
                ));
            }
            return Ok(Storage::PointWise { vlr, end: data_end });
        }
        if header.point_count == 0 {
            return Ok(Storage::Laz {
                vlr,
                layered,
                chunks: Vec::new(),
            });
        }
        if point_offset + 8 > data_end {
            return Err(fail(
                point_offset,
                format!(
                    "the header promises {} points but the file ends before the LAZ data starts",
                    header.point_count
                ),
            ));
        }
        let off = source.read_range(point_offset..point_offset + 8)?;
        let mut table_at = i64::from_le_bytes(off[..8].try_into().unwrap_or([0; 8]));
        if table_at <= point_offset as i64 || table_at as u64 >= data_end {
            // writers that could not seek back store the offset in the last 8 bytes
            let tail = source.read_range(data_end.saturating_sub(8)..data_end)?;
            table_at = i64::from_le_bytes(tail[..8].try_into().unwrap_or([0; 8]));
            if table_at <= point_offset as i64 || table_at as u64 >= data_end {
                return Err(fail(
                    point_offset,
                    format!(
                        "LAZ chunk table offset {table_at} is not inside the point data (bytes {point_offset}..{data_end}); the file is truncated or was not finished"
                    ),
                ));
            }
        }
        let table_at = table_at as u64;
        let table_bytes = source.read_range(table_at..data_end)?;
        // laz-rs reserves room for the declared chunk count before decoding any entry:
        // check it first. Every chunk takes at least one byte before the table.
        let declared = table_bytes.get(4..8).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64);
        let room = table_at.saturating_sub(point_offset + 8);
        if declared > room {
            return Err(fail(
                table_at,
                format!("LAZ chunk table declares {declared} chunks but only {room} bytes of chunks precede it"),
            ));
        }
        // the entries are arithmetic-coded: garbled ones can trip laz-rs's assertions
        let variable = vlr.uses_variable_size_chunks();
        let table = std::panic::catch_unwind(|| laz::laszip::ChunkTable::read(&mut Cursor::new(&table_bytes[..]), variable))
            .map_err(|_| fail(table_at, "cannot read the LAZ chunk table: its entries do not decode".into()))?
            .map_err(|e| fail(table_at, format!("cannot read the LAZ chunk table: {e}")))?;
        let mut chunks = Vec::with_capacity(table.len());
        let mut at = point_offset + 8;
        let mut left = header.point_count;
        for (i, e) in table.as_ref().iter().enumerate() {
            if left == 0 {
                break;
            }
            let points = if vlr.uses_variable_size_chunks() {
                e.point_count
            } else {
                (vlr.chunk_size() as u64).min(left)
            };
            if at.checked_add(e.byte_count).is_none_or(|end| end > table_at) {
                return Err(fail(
                    at,
                    format!(
                        "LAZ chunk {i} of {} bytes runs past the chunk table at byte {table_at}",
                        e.byte_count
                    ),
                ));
            }
            let points = points.min(left);
            chunks.push(LazChunk {
                offset: at,
                bytes: e.byte_count,
                points,
            });
            at += e.byte_count;
            left -= points;
        }
        if left > 0 {
            return Err(fail(
                point_offset,
                format!(
                    "the header promises {} points but the LAZ chunk table holds only {}",
                    header.point_count,
                    header.point_count - left
                ),
            ));
        }
        Ok(Storage::Laz { vlr, layered, chunks })
    }

    /// The point count this input delivers.
    pub fn point_count(&self) -> u64 {
        self.header.point_count
    }

    /// Streams every point record (input layout) in file order, in batches of about
    /// `batch_points` records. LAZ chunks of a batch are decoded in parallel on the
    /// current rayon pool, the next batch while `f` takes the current one.
    pub fn read_records(&self, batch_points: usize, mut f: impl FnMut(&[u8]) -> Result<()> + Send) -> Result<()> {
        let rl = self.header.point_record_length as usize;
        let batch_points = batch_points.max(1);
        match &self.storage {
            Storage::Las => {
                let start = self.header.offset_to_point_data();
                let mut done = 0u64;
                while done < self.header.point_count {
                    let n = (self.header.point_count - done).min(batch_points as u64);
                    let from = start + done * rl as u64;
                    let bytes = self.source.read_range(from..from + n * rl as u64)?;
                    f(&bytes)?;
                    done += n;
                }
                Ok(())
            }
            Storage::PointWise { vlr, end } => {
                let start = self.header.offset_to_point_data();
                let stream = SourceStream { source: self.source.as_ref(), pos: start, end: *end, buf: Vec::new(), buf_at: 0 };
                let mut d = SequentialPointRecordDecompressor::new(stream);
                d.set_fields_from(vlr.items()).map_err(|e| {
                    Error::format(&self.name, Location::Offset(start), format!("LAZ point-wise items: {e}"))
                })?;
                let total = self.header.point_count;
                let mut done = 0u64;
                let mut out = Vec::new();
                while done < total {
                    let n = (total - done).min(batch_points as u64) as usize;
                    out.clear();
                    out.resize(n * rl, 0);
                    for (i, rec) in out.chunks_exact_mut(rl).enumerate() {
                        // a damaged stream must be an error, not a panic inside the decoder
                        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| d.decompress_next(rec)));
                        let failed = match r {
                            Ok(Ok(())) => None,
                            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                                Some(format!("the stream ends at byte {end} (truncated?)"))
                            }
                            Ok(Err(e)) => Some(e.to_string()),
                            Err(_) => Some("the decoder panicked on the stream's bytes".into()),
                        };
                        if let Some(m) = failed {
                            return Err(Error::format(
                                &self.name,
                                Location::Offset(start),
                                format!(
                                    "the header promises {total} points but the LAZ point-wise stream decodes only {}: {m}",
                                    done + i as u64
                                ),
                            ));
                        }
                    }
                    f(&out)?;
                    done += n as u64;
                }
                Ok(())
            }
            Storage::Laz { vlr, layered, chunks } => {
                let threads = rayon::current_num_threads().max(1);
                // groups: enough chunks to keep every thread busy and about one batch of points
                let mut groups = Vec::new();
                let mut i = 0;
                while i < chunks.len() {
                    let mut j = i;
                    let mut pts = 0u64;
                    while j < chunks.len() && (j - i < threads || pts < batch_points as u64) {
                        pts += chunks[j].points;
                        j += 1;
                        if pts >= batch_points as u64 && j - i >= threads {
                            break;
                        }
                    }
                    groups.push(i..j);
                    i = j;
                }
                // one read_ranges call per group: a remote source fetches the group's
                // adjacent chunks in one request (or a few, in parallel)
                let decode = |g: &std::ops::Range<usize>| -> Result<Vec<Result<Vec<u8>>>> {
                    let group = &chunks[g.clone()];
                    let ranges: Vec<_> = group.iter().map(|c| c.offset..c.offset + c.bytes).collect();
                    let data = self.source.read_ranges(&ranges)?;
                    Ok(group
                        .par_iter()
                        .zip(data.par_iter())
                        .map(|(c, data)| {
                            decompress_chunk(vlr, *layered, data, c.points as usize, rl).map_err(|m| {
                                Error::format(
                                    &self.name,
                                    Location::Offset(c.offset),
                                    format!("LAZ chunk of {} points does not decode: {m}", c.points),
                                )
                            })
                        })
                        .collect())
                };
                // the next group decodes on the other threads while `f` (serial: convert,
                // bin, spill) takes the current one here; groups reach `f` in file order
                let mut current = groups.first().map(decode).transpose()?.unwrap_or_default();
                for k in 0..groups.len() {
                    let batch = std::mem::take(&mut current);
                    let (r, next) = rayon::join(
                        || batch.into_iter().try_for_each(|d| f(&d?)),
                        || groups.get(k + 1).map(decode).transpose(),
                    );
                    r?;
                    current = next?.unwrap_or_default();
                }
                Ok(())
            }
        }
    }
}

/// Reads `pos..end` of a byte source as a stream, 1 MiB at a time (a LASzip 1.x
/// point-wise stream has no chunks to read one by one).
struct SourceStream<'a> {
    source: &'a dyn ByteSource,
    pos: u64,
    end: u64,
    buf: Vec<u8>,
    buf_at: usize,
}

impl std::io::Read for SourceStream<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.buf_at == self.buf.len() {
            if self.pos >= self.end {
                return Ok(0);
            }
            let to = self.end.min(self.pos + (1 << 20));
            self.buf = self.source.read_range(self.pos..to).map_err(std::io::Error::other)?;
            self.buf_at = 0;
            self.pos = to;
            if self.buf.is_empty() {
                return Ok(0);
            }
        }
        let n = out.len().min(self.buf.len() - self.buf_at);
        out[..n].copy_from_slice(&self.buf[self.buf_at..self.buf_at + n]);
        self.buf_at += n;
        Ok(n)
    }
}

/// Decodes one LAZ chunk of `points` records.
pub fn decompress_chunk(
    vlr: &laz::LazVlr,
    layered: bool,
    data: &[u8],
    points: usize,
    rec_len: usize,
) -> std::result::Result<Vec<u8>, String> {
    if points == 0 {
        return Ok(Vec::new());
    }
    if layered {
        // laz-rs allocates each layer's declared size before reading it: check the
        // layer table against the chunk first, as the reader does.
        crate::reader::ChunkCodec::new(vlr.clone(), 3).check_layers(data, points)?;
    }
    let mut out = vec![0u8; points * rec_len];
    let items = vlr.items().clone();
    // a damaged chunk must be an error, not a panic inside the decoder
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if layered {
            let mut d = LayeredPointRecordDecompressor::new(Cursor::new(data));
            d.set_fields_from(&items)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            d.decompress_many(&mut out)
        } else {
            let mut d = SequentialPointRecordDecompressor::new(Cursor::new(data));
            d.set_fields_from(&items)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            d.decompress_many(&mut out)
        }
    }))
    .map_err(|_| "the decoder panicked on the chunk's bytes".to_string())?;
    r.map_err(|e| e.to_string())?;
    Ok(out)
}
