//! Plain LAS/LAZ 1.4 output of already-decoded records (formats 6-8), streamed:
//! what `copc query -o out.las|out.laz` writes. Through an [`OutputFile`], so a
//! failure (or a kill) leaves nothing at the target.

use super::temp::OutputFile;
use crate::error::{Error, Location, Result};
use crate::format::Vlr;
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// What the output header and VLRs carry over from the source.
#[derive(Debug, Clone)]
pub struct LasOutSpec {
    pub format: u8,
    pub record_length: u16,
    pub scale: [f64; 3],
    pub offset: [f64; 3],
    /// Global encoding bit 0 (GPS time is adjusted standard time).
    pub gps_standard_time: bool,
    pub wkt: Option<String>,
    /// The source's extra-bytes VLR payload, copied bit for bit.
    pub extra_bytes_vlr: Option<Vec<u8>>,
    pub compressed: bool,
}

enum Sink {
    Plain(BufWriter<File>),
    Laz(Box<laz::LasZipCompressor<'static, BufWriter<File>>>),
}

/// Streams records into a LAS/LAZ 1.4 file; `finish` writes the header's counts and bounds.
pub struct LasOut {
    target: PathBuf,
    /// None once finished.
    out: Option<OutputFile>,
    spec: LasOutSpec,
    sink: Option<Sink>,
    header_len: u64,
    count: u64,
    by_return: [u64; 15],
    min: [i32; 3],
    max: [i32; 3],
}

impl LasOut {
    pub fn create(target: impl AsRef<Path>, spec: LasOutSpec) -> Result<LasOut> {
        let target = target.as_ref().to_path_buf();
        let name = target.display().to_string();
        let io = |e: std::io::Error| Error::io(&name, Location::Source, "cannot write", e);
        if !(6..=8).contains(&spec.format) {
            return Err(Error::invalid(format!("{name}: LAS output needs point format 6, 7 or 8, not {}", spec.format)));
        }
        let mut vlrs = Vec::new();
        let mut nvlrs = 0u32;
        let laz_vlr = if spec.compressed {
            let eb = spec.record_length as usize - crate::format::point::PointLayout::base_size(spec.format);
            let items = laz::LazItemRecordBuilder::default_for_point_format_id(spec.format, eb as u16)
                .map_err(|e| Error::invalid(format!("{name}: LAZ items: {e}")))?;
            let v = laz::LazVlrBuilder::new(items).with_fixed_chunk_size(50_000).build();
            let mut data = Vec::new();
            v.write_to(&mut data).map_err(io)?;
            Vlr::write(laz::LazVlr::USER_ID, laz::LazVlr::RECORD_ID, laz::LazVlr::DESCRIPTION, &data, false, &mut vlrs);
            nvlrs += 1;
            Some(v)
        } else {
            None
        };
        if let Some(w) = &spec.wkt {
            let mut data = w.as_bytes().to_vec();
            data.push(0);
            Vlr::write("LASF_Projection", 2112, "OGC WKT", &data, false, &mut vlrs);
            nvlrs += 1;
        }
        if let Some(eb) = &spec.extra_bytes_vlr {
            Vlr::write("LASF_Spec", 4, "Extra Bytes Record", eb, false, &mut vlrs);
            nvlrs += 1;
        }
        let file = OutputFile::create(&target)?;
        let mut w = BufWriter::new(file.handle()?);
        let header_len = 375 + vlrs.len() as u64;
        let mut out = LasOut { target, out: Some(file), spec, sink: None, header_len, count: 0, by_return: [0; 15], min: [i32::MAX; 3], max: [i32::MIN; 3] };
        let header = out.header(nvlrs)?;
        w.write_all(&header).map_err(io)?;
        w.write_all(&vlrs).map_err(io)?;
        out.sink = Some(match laz_vlr {
            Some(v) => Sink::Laz(Box::new(laz::LasZipCompressor::new(w, v).map_err(|e| Error::invalid(format!("{name}: {e}")))?)),
            None => Sink::Plain(w),
        });
        Ok(out)
    }

    fn name(&self) -> String {
        self.target.display().to_string()
    }

    fn header(&self, nvlrs: u32) -> Result<Vec<u8>> {
        let s = &self.spec;
        let t = |i: usize, v: i32| v as f64 * s.scale[i] + s.offset[i];
        let (min, max) = if self.count == 0 { ([0.0; 3], [0.0; 3]) } else {
            ([t(0, self.min[0]), t(1, self.min[1]), t(2, self.min[2])], [t(0, self.max[0]), t(1, self.max[1]), t(2, self.max[2])])
        };
        let mut h = las::raw::Header { version: las::Version::new(1, 4), ..Default::default() };
        h.header_size = 375;
        h.global_encoding = 0x10 | u16::from(s.gps_standard_time);
        h.offset_to_point_data = self.header_len as u32;
        h.number_of_variable_length_records = nvlrs;
        h.point_data_record_format = s.format | if s.compressed { 0x80 } else { 0 };
        h.point_data_record_length = s.record_length;
        (h.x_scale_factor, h.y_scale_factor, h.z_scale_factor) = (s.scale[0], s.scale[1], s.scale[2]);
        (h.x_offset, h.y_offset, h.z_offset) = (s.offset[0], s.offset[1], s.offset[2]);
        (h.min_x, h.min_y, h.min_z, h.max_x, h.max_y, h.max_z) = (min[0], min[1], min[2], max[0], max[1], max[2]);
        h.large_file = Some(las::raw::header::LargeFile { number_of_point_records: self.count, number_of_points_by_return: self.by_return });
        let mut b = Vec::with_capacity(375);
        h.write_to(&mut b).map_err(|e| Error::invalid(format!("{}: header: {e}", self.name())))?;
        Ok(b)
    }

    /// Appends whole records (`record_length` bytes each).
    pub fn write(&mut self, records: &[u8]) -> Result<()> {
        let rl = self.spec.record_length as usize;
        for r in records.chunks_exact(rl) {
            for a in 0..3 {
                let v = i32::from_le_bytes([r[4 * a], r[4 * a + 1], r[4 * a + 2], r[4 * a + 3]]);
                self.min[a] = self.min[a].min(v);
                self.max[a] = self.max[a].max(v);
            }
            let ret = (r[14] & 0x0F) as usize;
            if (1..=15).contains(&ret) {
                self.by_return[ret - 1] += 1;
            }
        }
        self.count += (records.len() / rl) as u64;
        let name = self.name();
        let io = |e: std::io::Error| Error::io(&name, Location::Source, "cannot write", e);
        match self.sink.as_mut() {
            Some(Sink::Plain(w)) => w.write_all(records).map_err(io),
            Some(Sink::Laz(c)) => c.compress_many(records).map_err(io),
            None => Err(Error::invalid(format!("{name}: already finished"))),
        }
    }

    /// Completes the file: header counts and bounds, fsync, rename into place.
    pub fn finish(self) -> Result<u64> {
        self.complete(true)
    }

    /// `finish` without the fsync, for a scratch file this process reads back and removes.
    pub fn finish_scratch(self) -> Result<u64> {
        self.complete(false)
    }

    fn complete(mut self, sync: bool) -> Result<u64> {
        let name = self.name();
        let io = |e: std::io::Error| Error::io(&name, Location::Source, "cannot write", e);
        let mut w = match self.sink.take() {
            Some(Sink::Plain(w)) => w,
            Some(Sink::Laz(mut c)) => {
                c.done().map_err(io)?;
                c.into_inner()
            }
            None => return Err(Error::invalid(format!("{name}: already finished"))),
        };
        let nvlrs = u32::from(self.spec.compressed) + u32::from(self.spec.wkt.is_some()) + u32::from(self.spec.extra_bytes_vlr.is_some());
        let header = self.header(nvlrs)?;
        w.seek(SeekFrom::Start(0)).map_err(io)?;
        w.write_all(&header).map_err(io)?;
        w.into_inner().map_err(|e| io(e.into_error()))?;
        let out = self.out.take().ok_or_else(|| Error::invalid(format!("{name}: already finished")))?;
        if sync { out.commit()? } else { out.commit_scratch()? }
        Ok(self.count)
    }
}
