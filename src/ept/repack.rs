//! One EPT node in, one COPC chunk out.
//!
//! - **Copy** (laszip tiles): a tile that is a single layered LAZ chunk in the output
//!   point format, with the output's scale, offset and extra bytes, is copied byte for
//!   byte. Its points are still decoded, but only the layers the header needs (X, Y,
//!   returns, Z, GPS time): that gives exact extents, counts by return and the GPS
//!   range without trusting the tile's header, checks that the chunk decodes, and
//!   finds points outside the node's cube.
//! - **Re-encode**: any other laszip tile is decoded (all its chunks), converted to
//!   the output format with the writer's conversion ([`Converter`]: legacy formats
//!   0-5 to 6/7/8, re-quantization to the output scale and offset); binary and
//!   zstandard tiles are laid out by the schema and mapped field by field. The
//!   records are sorted by GPS time (ties keep the tile's order) and compressed as
//!   one layered chunk, as the writer does.
//!
//! Points never move between nodes: a point outside its node's cube (by more than
//! half a scale step) is counted, reported and kept.

use super::json::{DimKind, EptJson, SchemaDim};
use crate::error::{Error, Location, Result};
use crate::format::{Cube, PointLayout, VoxelKey};
use crate::source::ByteSource;
use crate::writer::Stats;
use crate::writer::convert::{Converter, Requantize, target_format};
use crate::writer::input::{InputFile, Storage};
use crate::writer::octree::compress_chunk;
use laz::record::{LayeredPointRecordDecompressor, RecordDecompressor};
use std::io::Cursor;
use std::sync::Arc;

/// Names of the schema dimensions that are fields of LAS formats 6-8 (PDAL's
/// names); every other dimension becomes an extra-bytes dimension.
pub const STANDARD_DIMS: &[&str] = &[
    "X",
    "Y",
    "Z",
    "Intensity",
    "ReturnNumber",
    "NumberOfReturns",
    "ScanChannel",
    "ScanDirectionFlag",
    "EdgeOfFlightLine",
    "Classification",
    "Synthetic",
    "KeyPoint",
    "Withheld",
    "Overlap",
    "ClassFlags",
    "ScanAngleRank",
    "UserData",
    "PointSourceId",
    "GpsTime",
    "Red",
    "Green",
    "Blue",
    "Infrared",
];

/// The COPC records every node is turned into.
#[derive(Debug, Clone)]
pub struct Target {
    pub format: u8,
    pub rec_len: usize,
    pub extra_len: usize,
    pub scale: [f64; 3],
    pub offset: [f64; 3],
    pub items: Vec<laz::LazItem>,
    /// The schema's non-standard dimensions, in schema order (the extra bytes).
    pub extras: Vec<SchemaDim>,
}

impl Target {
    /// Point format and extra bytes from the schema: Infrared gives 8, Red/Green/Blue
    /// give 7, anything else 6.
    pub fn from_schema(ept: &EptJson, scale: [f64; 3], offset: [f64; 3]) -> Result<Target> {
        Self::with_format(ept, Self::schema_format(ept), scale, offset)
    }

    /// The point format the schema implies.
    pub fn schema_format(ept: &EptJson) -> u8 {
        let has = |n: &str| ept.dim(n).is_some();
        if has("Infrared") {
            8
        } else if has("Red") || has("Green") || has("Blue") {
            7
        } else {
            6
        }
    }

    /// Records of point format `format` (6-8) plus the schema's extra dimensions: for
    /// datasets whose laszip tiles hold another format than the schema says.
    pub fn with_format(ept: &EptJson, format: u8, scale: [f64; 3], offset: [f64; 3]) -> Result<Target> {
        let extras: Vec<SchemaDim> = ept
            .schema
            .iter()
            .filter(|d| !STANDARD_DIMS.contains(&d.name.as_str()))
            .cloned()
            .collect();
        let extra_len: usize = extras.iter().map(|d| d.size).sum();
        let rec_len = PointLayout::base_size(format) + extra_len;
        if rec_len > u16::MAX as usize {
            return Err(Error::invalid(format!(
                "the schema's extra dimensions need {extra_len} bytes per point: a LAS record holds at most 65535"
            )));
        }
        let items = laz::LazItemRecordBuilder::default_for_point_format_id(format, extra_len as u16)
            .map_err(|e| Error::invalid(format!("laz items: {e}")))?;
        Ok(Target {
            format,
            rec_len,
            extra_len,
            scale,
            offset,
            items,
            extras,
        })
    }

    /// The extra-bytes VLR payload describing [`extras`](Self::extras), or None.
    pub fn extra_bytes_vlr(&self) -> Option<Vec<u8>> {
        if self.extras.is_empty() {
            return None;
        }
        let mut out = Vec::new();
        for d in &self.extras {
            let mut desc = vec![0u8; crate::format::extra_bytes::DESCRIPTOR_SIZE];
            let t = d.extra_bytes_type();
            desc[2] = t;
            let mut options = if t == 0 { d.size as u8 } else { 0 };
            if t != 0 {
                if let Some(s) = d.scale {
                    options |= 8;
                    desc[112..120].copy_from_slice(&s.to_le_bytes());
                }
                if let Some(o) = d.offset {
                    options |= 16;
                    desc[136..144].copy_from_slice(&o.to_le_bytes());
                }
            }
            desc[3] = options;
            crate::format::bytes::put_c_string(&mut desc[4..36], &d.name);
            crate::format::bytes::put_c_string(&mut desc[160..192], "EPT schema dimension");
            out.extend(desc);
        }
        Some(out)
    }
}

/// What one node became.
pub struct NodeChunk {
    pub key: VoxelKey,
    pub points: u64,
    pub chunk: Vec<u8>,
    pub(crate) stats: Stats,
    /// Points outside the node's cube (kept).
    pub outside: u64,
    /// The tile's chunk was copied without re-encoding.
    pub copied: bool,
}

fn node_err(name: &str, key: VoxelKey, msg: impl Into<String>) -> Error {
    Error::format(
        name,
        Location::Node {
            key: key.as_array(),
            offset: None,
        },
        msg,
    )
}

/// Points of `recs` (format 6-8 layout) outside the cube of `key`, by more than half
/// a scale step.
pub fn count_outside(
    recs: &[u8],
    rec_len: usize,
    key: VoxelKey,
    cube: &Cube,
    scale: [f64; 3],
    offset: [f64; 3],
) -> u64 {
    let b = cube.node_bounds(&key);
    let mut lo = [0i64; 3];
    let mut hi = [0i64; 3];
    for a in 0..3 {
        // integer limits: value*scale+offset >= min - scale/2  <=>  value >= (min-offset)/scale - 1/2
        lo[a] = ((b.min[a] - offset[a]) / scale[a] - 0.5).ceil() as i64;
        hi[a] = ((b.max[a] - offset[a]) / scale[a] + 0.5).floor() as i64;
    }
    let mut n = 0;
    for r in recs.chunks_exact(rec_len) {
        for a in 0..3 {
            let v = i32::from_le_bytes([r[4 * a], r[4 * a + 1], r[4 * a + 2], r[4 * a + 3]]) as i64;
            if v < lo[a] || v > hi[a] {
                n += 1;
                break;
            }
        }
    }
    n
}

/// Sorts records by GPS time (ties keep their order) and compresses them into one chunk.
fn encode(name: &str, key: VoxelKey, target: &Target, recs: Vec<u8>) -> Result<Vec<u8>> {
    let rl = target.rec_len;
    let n = recs.len() / rl;
    let gps = |i: usize| f64::from_le_bytes(recs[i * rl + 22..i * rl + 30].try_into().unwrap_or([0; 8]));
    let sorted = (1..n).all(|i| gps(i - 1).total_cmp(&gps(i)).is_le());
    let chunk_of = |r: &[u8]| {
        compress_chunk(&target.items, r).map_err(|e| node_err(name, key, format!("compressing the node: {e}")))
    };
    let chunk = if sorted {
        chunk_of(&recs)?
    } else {
        let mut idx: Vec<u32> = (0..n as u32).collect();
        idx.sort_by(|&a, &b| gps(a as usize).total_cmp(&gps(b as usize)));
        let mut out = Vec::with_capacity(recs.len());
        for i in idx {
            out.extend_from_slice(&recs[i as usize * rl..(i as usize + 1) * rl]);
        }
        drop(recs);
        chunk_of(&out)?
    };
    if chunk.len() > i32::MAX as usize {
        return Err(node_err(
            name,
            key,
            format!(
                "the compressed node has {} bytes, over the i32 limit of a COPC entry",
                chunk.len()
            ),
        ));
    }
    Ok(chunk)
}

fn finish(key: VoxelKey, cube: &Cube, target: &Target, recs: &[u8], chunk: Vec<u8>, copied: bool) -> NodeChunk {
    let mut stats = Stats::new();
    stats.add(recs, target.rec_len);
    NodeChunk {
        key,
        points: (recs.len() / target.rec_len) as u64,
        outside: count_outside(recs, target.rec_len, key, cube, target.scale, target.offset),
        stats,
        chunk,
        copied,
    }
}

/// Checks that a laszip tile's extra bytes are the schema's extra dimensions (same
/// names and sizes, in order) when the tile describes them.
fn check_tile_extras(tile: &InputFile, target: &Target) -> Result<()> {
    let len = tile.header.extra_bytes_len();
    if len != target.extra_len {
        return Err(Error::unsupported(
            &tile.name,
            Location::Source,
            format!(
                "the tile has {len} extra bytes per point but the schema's extra dimensions ({}) need {}",
                target
                    .extras
                    .iter()
                    .map(|d| d.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                target.extra_len
            ),
        ));
    }
    if tile.extra_bytes.is_empty() {
        return Ok(());
    }
    let tile_dims: Vec<(String, usize)> = tile.extra_bytes.iter().map(|e| (e.name.clone(), e.size())).collect();
    let schema_dims: Vec<(String, usize)> = target.extras.iter().map(|d| (d.name.clone(), d.size)).collect();
    if tile_dims != schema_dims {
        return Err(Error::unsupported(
            &tile.name,
            Location::Source,
            format!(
                "the tile's extra bytes {tile_dims:?} are not the schema's extra dimensions {schema_dims:?} (name, bytes)"
            ),
        ));
    }
    Ok(())
}

/// A laszip node: copied when the tile allows it, else decoded and re-encoded.
pub fn laszip_node(
    source: Arc<dyn ByteSource>,
    key: VoxelKey,
    expected: u64,
    target: &Target,
    cube: &Cube,
) -> Result<NodeChunk> {
    let tile = InputFile::from_source(source)?;
    let name = tile.name.clone();
    if tile.point_count() != expected {
        return Err(node_err(
            &name,
            key,
            format!(
                "the tile holds {} points but the hierarchy lists {expected} for node {key}",
                tile.point_count()
            ),
        ));
    }
    let tf = target_format(tile.header.point_format);
    if tf != target.format {
        return Err(Error::unsupported(
            &name,
            Location::Source,
            format!(
                "the tile has point format {} (becomes {tf}) but the dataset is written as point format {}; \
                 the tiles of one dataset must agree on which of RGB and infrared they carry",
                tile.header.point_format, target.format
            ),
        ));
    }
    check_tile_extras(&tile, target)?;
    if let Storage::Laz {
        vlr,
        layered: true,
        chunks,
    } = &tile.storage
    {
        let copyable = tile.header.point_format == target.format
            && tile.header.point_record_length as usize == target.rec_len
            && tile.header.scale == target.scale
            && tile.header.offset == target.offset
            && vlr.items() == &target.items
            && chunks.len() == 1
            && chunks[0].points == expected;
        if copyable {
            let c = chunks[0];
            let chunk = tile.source.read_range(c.offset..c.offset + c.bytes)?;
            if chunk.len() > i32::MAX as usize {
                return Err(node_err(
                    &name,
                    key,
                    format!("a chunk of {} bytes is over the COPC i32 limit", chunk.len()),
                ));
            }
            // the layers the header needs: X, Y, returns (always), Z, GPS time
            let selection = laz::DecompressionSelection::xy_returns_channel()
                .decompress_z()
                .decompress_gps_time();
            let recs = decompress_selected(&target.items, &chunk, expected as usize, target.rec_len, selection)
                .map_err(|m| {
                    Error::format(
                        &name,
                        Location::Offset(c.offset),
                        format!("the LAZ chunk of {expected} points does not decode: {m}"),
                    )
                })?;
            return Ok(finish(key, cube, target, &recs, chunk, true));
        }
    }
    // re-encode
    let rq = Requantize::new(tile.header.scale, tile.header.offset, target.scale, target.offset);
    let conv = Converter::new(tile.layout, rq);
    if conv.output_len != target.rec_len {
        return Err(Error::unsupported(
            &name,
            Location::Source,
            format!(
                "the tile's records convert to {} bytes, expected {}",
                conv.output_len, target.rec_len
            ),
        ));
    }
    let mut recs = Vec::with_capacity(expected as usize * target.rec_len);
    let mut done = 0u64;
    tile.read_records(1 << 20, |batch| {
        conv.convert(batch, &mut recs).map_err(|o| {
            node_err(
                &name,
                key,
                format!(
                    "point {}: {} = {} does not fit a 32-bit integer at scale {} and offset {}",
                    done + o.record as u64,
                    ["X", "Y", "Z"][o.axis],
                    o.value,
                    target.scale[o.axis],
                    target.offset[o.axis]
                ),
            )
        })?;
        done += (batch.len() / tile.layout.record_length.max(1)) as u64;
        Ok(())
    })?;
    let mut stats = Stats::new();
    stats.add(&recs, target.rec_len);
    let outside = count_outside(&recs, target.rec_len, key, cube, target.scale, target.offset);
    let points = (recs.len() / target.rec_len) as u64;
    let chunk = encode(&name, key, target, recs)?;
    Ok(NodeChunk {
        key,
        points,
        chunk,
        stats,
        outside,
        copied: false,
    })
}

/// Decodes one layered chunk, only the layers in `selection`.
pub(crate) fn decompress_selected(
    items: &[laz::LazItem],
    data: &[u8],
    points: usize,
    rec_len: usize,
    selection: laz::DecompressionSelection,
) -> std::result::Result<Vec<u8>, String> {
    let mut out = vec![0u8; points * rec_len];
    if points == 0 {
        return Ok(out);
    }
    let items = items.to_vec();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut d = LayeredPointRecordDecompressor::new(Cursor::new(data));
        d.set_fields_from(&items)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        d.set_selection(selection);
        d.decompress_many(&mut out)
    }))
    .map_err(|_| "the decoder panicked on the chunk's bytes".to_string())?;
    r.map_err(|e| e.to_string())?;
    Ok(out)
}

/// Where a standard schema dimension goes in a format 6-8 record.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    Intensity,
    ReturnNumber,
    NumberOfReturns,
    ScanChannel,
    ScanDirectionFlag,
    EdgeOfFlightLine,
    Classification,
    Synthetic,
    KeyPoint,
    Withheld,
    Overlap,
    ClassFlags,
    ScanAngleRank,
    UserData,
    PointSourceId,
    GpsTime,
    Red,
    Green,
    Blue,
    Infrared,
}

impl Slot {
    fn of(name: &str) -> Option<Slot> {
        use Slot::*;
        Some(match name {
            "Intensity" => Intensity,
            "ReturnNumber" => ReturnNumber,
            "NumberOfReturns" => NumberOfReturns,
            "ScanChannel" => ScanChannel,
            "ScanDirectionFlag" => ScanDirectionFlag,
            "EdgeOfFlightLine" => EdgeOfFlightLine,
            "Classification" => Classification,
            "Synthetic" => Synthetic,
            "KeyPoint" => KeyPoint,
            "Withheld" => Withheld,
            "Overlap" => Overlap,
            "ClassFlags" => ClassFlags,
            "ScanAngleRank" => ScanAngleRank,
            "UserData" => UserData,
            "PointSourceId" => PointSourceId,
            "GpsTime" => GpsTime,
            "Red" => Red,
            "Green" => Green,
            "Blue" => Blue,
            "Infrared" => Infrared,
            _ => return None,
        })
    }
}

/// How a binary record (schema layout) maps to a COPC record.
#[derive(Debug, Clone)]
pub struct BinaryPlan {
    record_size: usize,
    /// X, Y, Z: the dimension, and whether its raw i32 can be copied unchanged.
    xyz: [(SchemaDim, bool); 3],
    fields: Vec<(SchemaDim, Slot)>,
    /// (source offset, destination offset, bytes) of each extra dimension.
    extras: Vec<(usize, usize, usize)>,
}

impl BinaryPlan {
    pub fn new(ept: &EptJson, target: &Target) -> Result<BinaryPlan> {
        let axis = |n: &str, a: usize| -> Result<(SchemaDim, bool)> {
            let d = ept
                .dim(n)
                .cloned()
                .ok_or_else(|| Error::invalid(format!("the schema has no {n}")))?;
            let direct = d.kind == DimKind::Signed
                && d.size == 4
                && d.scale.unwrap_or(1.0) == target.scale[a]
                && d.offset.unwrap_or(0.0) == target.offset[a];
            Ok((d, direct))
        };
        let xyz = [axis("X", 0)?, axis("Y", 1)?, axis("Z", 2)?];
        let fields = ept
            .schema
            .iter()
            .filter_map(|d| Slot::of(&d.name).map(|s| (d.clone(), s)))
            .collect();
        let mut extras = Vec::new();
        let mut dst = PointLayout::base_size(target.format);
        for d in &target.extras {
            extras.push((d.at, dst, d.size));
            dst += d.size;
        }
        Ok(BinaryPlan {
            record_size: ept.record_size,
            xyz,
            fields,
            extras,
        })
    }

    pub fn record_size(&self) -> usize {
        self.record_size
    }

    /// Converts schema-laid-out records into COPC records.
    fn convert(&self, name: &str, key: VoxelKey, target: &Target, src: &[u8]) -> Result<Vec<u8>> {
        let rs = self.record_size;
        let rl = target.rec_len;
        let n = src.len() / rs;
        let mut out = vec![0u8; n * rl];
        for (i, (s, d)) in src.chunks_exact(rs).zip(out.chunks_exact_mut(rl)).enumerate() {
            for (a, (dim, direct)) in self.xyz.iter().enumerate() {
                let v = if *direct {
                    i32::from_le_bytes(s[dim.at..dim.at + 4].try_into().unwrap_or([0; 4]))
                } else {
                    let world = dim.raw_f64(s) * dim.scale.unwrap_or(1.0) + dim.offset.unwrap_or(0.0);
                    let q = ((world - target.offset[a]) / target.scale[a]).round();
                    if !(q >= i32::MIN as f64 && q <= i32::MAX as f64) {
                        return Err(node_err(
                            name,
                            key,
                            format!(
                                "point {i}: {} = {world} does not fit a 32-bit integer at scale {} and offset {}",
                                dim.name, target.scale[a], target.offset[a]
                            ),
                        ));
                    }
                    q as i32
                };
                d[4 * a..4 * a + 4].copy_from_slice(&v.to_le_bytes());
            }
            for (dim, slot) in &self.fields {
                let raw = dim.raw_f64(s);
                let v = match (dim.scale, dim.offset) {
                    (None, None) => raw,
                    (sc, of) => raw * sc.unwrap_or(1.0) + of.unwrap_or(0.0),
                };
                let u8v = || v.clamp(0.0, 255.0) as u8;
                let u16v = || v.clamp(0.0, 65535.0) as u16;
                let bit = |byte: &mut u8, b: u8| {
                    if v != 0.0 {
                        *byte |= 1 << b;
                    } else {
                        *byte &= !(1 << b);
                    }
                };
                match slot {
                    Slot::Intensity => d[12..14].copy_from_slice(&u16v().to_le_bytes()),
                    Slot::ReturnNumber => d[14] = (d[14] & 0xF0) | (u8v() & 0x0F),
                    Slot::NumberOfReturns => d[14] = (d[14] & 0x0F) | ((u8v() & 0x0F) << 4),
                    Slot::ClassFlags => d[15] = (d[15] & 0xF0) | (u8v() & 0x0F),
                    Slot::Synthetic => bit(&mut d[15], 0),
                    Slot::KeyPoint => bit(&mut d[15], 1),
                    Slot::Withheld => bit(&mut d[15], 2),
                    Slot::Overlap => bit(&mut d[15], 3),
                    Slot::ScanChannel => d[15] = (d[15] & !0x30) | ((u8v() & 0x03) << 4),
                    Slot::ScanDirectionFlag => bit(&mut d[15], 6),
                    Slot::EdgeOfFlightLine => bit(&mut d[15], 7),
                    Slot::Classification => d[16] = u8v(),
                    Slot::UserData => d[17] = u8v(),
                    Slot::ScanAngleRank => {
                        // degrees to the 1.4 scan angle in 0.006° steps, rounded
                        let a = (v / 0.006).round().clamp(i16::MIN as f64, i16::MAX as f64) as i16;
                        d[18..20].copy_from_slice(&a.to_le_bytes());
                    }
                    Slot::PointSourceId => d[20..22].copy_from_slice(&u16v().to_le_bytes()),
                    Slot::GpsTime => d[22..30].copy_from_slice(&v.to_le_bytes()),
                    Slot::Red if target.format >= 7 => d[30..32].copy_from_slice(&u16v().to_le_bytes()),
                    Slot::Green if target.format >= 7 => d[32..34].copy_from_slice(&u16v().to_le_bytes()),
                    Slot::Blue if target.format >= 7 => d[34..36].copy_from_slice(&u16v().to_le_bytes()),
                    Slot::Infrared if target.format >= 8 => d[36..38].copy_from_slice(&u16v().to_le_bytes()),
                    _ => {}
                }
            }
            for &(from, to, len) in &self.extras {
                d[to..to + len].copy_from_slice(&s[from..from + len]);
            }
        }
        Ok(out)
    }
}

/// A binary or zstandard node: `src` is the (decompressed) records in schema order.
pub fn binary_node(
    name: &str,
    key: VoxelKey,
    src: &[u8],
    expected: u64,
    plan: &BinaryPlan,
    target: &Target,
    cube: &Cube,
) -> Result<NodeChunk> {
    if src.len() as u64 != expected * plan.record_size as u64 {
        return Err(node_err(
            name,
            key,
            format!(
                "holds {} bytes but {expected} points of {} bytes (the schema's record) need {}",
                src.len(),
                plan.record_size,
                expected * plan.record_size as u64
            ),
        ));
    }
    let recs = plan.convert(name, key, target, src)?;
    let mut stats = Stats::new();
    stats.add(&recs, target.rec_len);
    let outside = count_outside(&recs, target.rec_len, key, cube, target.scale, target.offset);
    let chunk = encode(name, key, target, recs)?;
    Ok(NodeChunk {
        key,
        points: expected,
        chunk,
        stats,
        outside,
        copied: false,
    })
}

/// Decompresses a zstandard tile that must hold exactly `expected_len` bytes.
pub fn unzstd(name: &str, key: VoxelKey, data: &[u8], expected_len: usize) -> Result<Vec<u8>> {
    // one byte of room: a tile that decompresses to more than expected is an error, not a cut
    let out = zstd::bulk::decompress(data, expected_len + 1).map_err(|e| {
        node_err(
            name,
            key,
            format!("does not decompress as Zstandard within {expected_len} bytes: {e}"),
        )
    })?;
    if out.len() != expected_len {
        return Err(node_err(
            name,
            key,
            format!(
                "decompresses to {} bytes, expected {expected_len} (the hierarchy's point count times the schema's record size)",
                out.len()
            ),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_counts_points_beyond_half_a_step() {
        let cube = Cube {
            center: [0.0; 3],
            halfsize: 8.0,
        };
        let key = VoxelKey::new(1, 1, 0, 0); // x 0..8, y -8..0, z -8..0
        let rec = |x: i32, y: i32, z: i32| {
            let mut r = vec![0u8; 30];
            r[0..4].copy_from_slice(&x.to_le_bytes());
            r[4..8].copy_from_slice(&y.to_le_bytes());
            r[8..12].copy_from_slice(&z.to_le_bytes());
            r
        };
        let scale = [0.5; 3];
        let mut recs = Vec::new();
        recs.extend(rec(0, -16, -1)); // on the faces: inside
        recs.extend(rec(16, 0, -16)); // on the max x / max y faces: inside
        recs.extend(rec(-1, -1, -1)); // x = -0.5: a whole step outside
        recs.extend(rec(1, 2, -1)); // y = 1: outside
        assert_eq!(count_outside(&recs, 30, key, &cube, scale, [0.0; 3]), 2);
        // half a step (0.25) of tolerance: with x offset 0.2, x = -0.3 is out, 8.2 is not
        let mut recs = Vec::new();
        for x in [-1, 0, 15, 16] {
            recs.extend(rec(x, -1, -1));
        }
        assert_eq!(count_outside(&recs, 30, key, &cube, scale, [0.2, 0.0, 0.0]), 1);
    }
}
