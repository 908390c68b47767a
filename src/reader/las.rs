//! The structure of any LAS/LAZ file: header, VLRs, EVLRs and the LAZ VLR.
//! Shared by the COPC reader and the writer's input path, so there is one parser.

use crate::error::{Error, Location, Result};
use crate::format::vlr::{EVLR_HEADER_SIZE, VLR_HEADER_SIZE};
use crate::format::{Header, Vlr};
use crate::source::ByteSource;
use std::ops::Range;
use std::sync::Arc;

/// How many bytes the first read fetches: header, VLRs and often the root page.
pub const FIRST_READ: u64 = 65536;
/// EVLR payloads up to this size are read at open; larger ones on demand.
pub const SMALL_EVLR: u64 = 1 << 20;

/// Byte ranges already fetched, so that parsing does not read them twice.
#[derive(Default)]
pub struct Prefetch {
    regions: Vec<(u64, Vec<u8>)>,
}

impl Prefetch {
    pub fn add(&mut self, start: u64, bytes: Vec<u8>) {
        self.regions.push((start, bytes));
    }

    /// The bytes of `range` if one fetched region covers it.
    pub fn get(&self, range: &Range<u64>) -> Option<&[u8]> {
        self.regions.iter().find_map(|(s, b)| {
            let end = s + b.len() as u64;
            (range.start >= *s && range.end <= end).then(|| &b[(range.start - s) as usize..(range.end - s) as usize])
        })
    }

    pub fn read(&self, src: &dyn ByteSource, range: Range<u64>) -> Result<Vec<u8>> {
        match self.get(&range) {
            Some(b) => Ok(b.to_vec()),
            None => src.read_range(range),
        }
    }
}

/// A parsed LAS/LAZ file structure (no points read).
pub struct LasFile {
    pub source: Arc<dyn ByteSource>,
    pub header: Header,
    pub vlrs: Vec<Vlr>,
    /// EVLR headers: parsed at open when the EVLR area is small (one read),
    /// otherwise on first use (so opening a remote file stays at one or two requests).
    evlrs: std::sync::OnceLock<Vec<Vlr>>,
    /// The LAZ VLR, for compressed files.
    pub laz_vlr: Option<laz::LazVlr>,
    /// Tolerated irregularities (e.g. a VLR count larger than the VLRs present).
    pub warnings: Vec<String>,
    pub prefetch: Prefetch,
}

impl LasFile {
    pub fn open(source: Arc<dyn ByteSource>) -> Result<LasFile> {
        let name = source.name().to_string();
        let len = source.len();
        let first = source.read_range(0..len.min(FIRST_READ))?;
        let header = Header::parse(&name, &first[..first.len().min(375)], len)?;
        let mut prefetch = Prefetch::default();
        prefetch.add(0, first);
        let mut warnings = Vec::new();

        // VLRs live between the header and the point data.
        let vlr_region = header.header_size() as u64..header.offset_to_point_data();
        let vlr_bytes = prefetch.read(source.as_ref(), vlr_region.clone())?;
        let mut vlrs = Vec::new();
        let mut pos = 0usize;
        for i in 0..header.vlr_count() {
            let at = vlr_region.start + pos as u64;
            if pos + VLR_HEADER_SIZE > vlr_bytes.len() {
                warnings.push(format!(
                    "header says {} VLRs but only {i} fit before the point data at byte {}",
                    header.vlr_count(),
                    vlr_region.end
                ));
                break;
            }
            let mut vlr = Vlr::parse_header(&vlr_bytes[pos..], at, false);
            let data_end = pos + VLR_HEADER_SIZE + vlr.data_len as usize;
            if data_end > vlr_bytes.len() {
                return Err(Error::format(
                    &name,
                    Location::Offset(at),
                    format!(
                        "VLR {i} ({}/{}) of {} bytes runs past the start of point data at byte {}",
                        vlr.user_id, vlr.record_id, vlr.data_len, vlr_region.end
                    ),
                ));
            }
            vlr.data = Some(vlr_bytes[pos + VLR_HEADER_SIZE..data_end].to_vec());
            vlrs.push(vlr);
            pos = data_end;
        }

        let evlrs = std::sync::OnceLock::new();
        let (start, len) = (header.evlr_start, source.len());
        if header.evlr_count > 0 && start >= header.offset_to_point_data() && start < len && len - start <= SMALL_EVLR * 4 {
            if prefetch.get(&(start..len)).is_none() {
                let tail = source.read_range(start..len)?;
                prefetch.add(start, tail);
            }
            let _ = evlrs.set(read_evlrs(source.as_ref(), &header, &prefetch)?);
        }

        let laz_vlr = if header.compressed || vlrs.iter().any(|v| v.is("laszip encoded", 22204)) {
            let v = vlrs.iter().find(|v| v.is("laszip encoded", 22204)).ok_or_else(|| {
                Error::format(&name, Location::Offset(104), "point format has the LAZ bit but there is no laszip VLR")
            })?;
            let data = v.data.as_deref().unwrap_or_default();
            let parsed = std::panic::catch_unwind(|| laz::LazVlr::from_buffer(data))
                .map_err(|_| Error::format(&name, Location::Offset(v.data_offset), "laszip VLR cannot be parsed"))?
                .map_err(|e| Error::format(&name, Location::Offset(v.data_offset), format!("laszip VLR: {e}")))?;
            let items_size = laz_record_length(&parsed);
            if items_size != header.point_record_length as u64 {
                return Err(Error::format(
                    &name,
                    Location::Offset(v.data_offset),
                    format!(
                        "laszip VLR items describe {}-byte records but the header says {}",
                        items_size,
                        header.point_record_length
                    ),
                ));
            }
            Some(parsed)
        } else {
            None
        };

        Ok(LasFile { source, header, vlrs, evlrs, laz_vlr, warnings, prefetch })
    }

    pub fn name(&self) -> &str {
        self.source.name()
    }

    /// The EVLRs (headers, and payloads up to 1 MiB), read on first use.
    pub fn evlrs(&self) -> Result<&[Vlr]> {
        if let Some(e) = self.evlrs.get() {
            return Ok(e);
        }
        let parsed = read_evlrs(self.source.as_ref(), &self.header, &self.prefetch)?;
        Ok(self.evlrs.get_or_init(|| parsed))
    }

    /// First VLR or EVLR with this user id and record id.
    pub fn find(&self, user_id: &str, record_id: u16) -> Result<Option<&Vlr>> {
        if let Some(v) = self.vlrs.iter().find(|v| v.is(user_id, record_id)) {
            return Ok(Some(v));
        }
        Ok(self.evlrs()?.iter().find(|v| v.is(user_id, record_id)))
    }

    /// The payload of a VLR/EVLR, reading it if it was not loaded at open.
    pub fn payload(&self, vlr: &Vlr) -> Result<Vec<u8>> {
        match &vlr.data {
            Some(d) => Ok(d.clone()),
            None => self.prefetch.read(self.source.as_ref(), vlr.data_offset..vlr.data_offset + vlr.data_len),
        }
    }

    /// The WKT CRS (`LASF_Projection`/2112 VLR or EVLR), trailing NULs removed.
    pub fn crs_wkt(&self) -> Result<Option<String>> {
        match self.find("LASF_Projection", 2112)? {
            Some(v) => {
                let b = self.payload(v)?;
                let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
                Ok(Some(String::from_utf8_lossy(&b[..end]).trim().to_string()))
            }
            None => Ok(None),
        }
    }

    /// The extra-bytes dimensions declared by the `LASF_Spec`/4 VLRs (several are
    /// merged in VLR then EVLR order).
    pub fn extra_bytes(&self) -> Result<Vec<crate::format::ExtraBytes>> {
        Ok(self.extra_bytes_merged()?.0)
    }

    /// The extra-bytes dimensions and the one descriptor payload that describes them
    /// all (None when the file has no extra-bytes VLR).
    pub fn extra_bytes_merged(&self) -> Result<(Vec<crate::format::ExtraBytes>, Option<Vec<u8>>)> {
        let mut payloads = Vec::new();
        for v in self.vlrs.iter().chain(self.evlrs()?.iter()).filter(|v| v.is("LASF_Spec", 4)) {
            payloads.push((v.data_offset, self.payload(v)?));
        }
        if payloads.is_empty() {
            return Ok((Vec::new(), None));
        }
        let parts: Vec<(u64, &[u8])> = payloads.iter().map(|(at, p)| (*at, p.as_slice())).collect();
        let (ebs, merged) = crate::format::extra_bytes::merge_extra_bytes(&parts, self.header.extra_bytes_len())
            .map_err(|(at, m)| Error::format(self.name(), Location::Offset(at), m))?;
        Ok((ebs, Some(merged)))
    }
}

/// Reads the EVLR headers (and small payloads), from `prefetch` where it covers them.
/// The record length the laszip VLR's items describe. (laz-rs's `items_size` adds
/// the u16 sizes in a u16, which overflows on hostile VLRs.)
pub(crate) fn laz_record_length(vlr: &laz::LazVlr) -> u64 {
    vlr.items().iter().map(|item| u64::from(item.size())).sum()
}

fn read_evlrs(src: &dyn ByteSource, header: &Header, prefetch: &Prefetch) -> Result<Vec<Vlr>> {
    let name = src.name();
    let len = src.len();
    let (start, count) = (header.evlr_start, header.evlr_count);
    if header.version.1 < 4 || count == 0 || start == 0 {
        return Ok(Vec::new());
    }
    let fail = |at: u64, msg: String| Error::format(name, Location::Offset(at), msg);
    if start < header.offset_to_point_data() || start > len {
        return Err(fail(235, format!("first EVLR at byte {start} is outside the point data end..file end ({len})")));
    }
    if (count as u64) * EVLR_HEADER_SIZE as u64 > len - start {
        return Err(fail(243, format!("{count} EVLRs cannot fit in the {} bytes after byte {start}", len - start)));
    }
    let mut evlrs = Vec::with_capacity(count as usize);
    let mut pos = start;
    for i in 0..count {
        if pos + EVLR_HEADER_SIZE as u64 > len {
            return Err(fail(pos, format!("EVLR {i} of {count} starts at byte {pos}, past the end of the file ({len})")));
        }
        let hb = prefetch.read(src, pos..pos + EVLR_HEADER_SIZE as u64)?;
        let mut vlr = Vlr::parse_header(&hb, pos, true);
        let end = vlr.data_offset.checked_add(vlr.data_len).filter(|&e| e <= len).ok_or_else(|| {
            fail(pos, format!("EVLR {i} ({}/{}) of {} bytes runs past the end of the file ({len})", vlr.user_id, vlr.record_id, vlr.data_len))
        })?;
        if vlr.data_len <= SMALL_EVLR {
            vlr.data = Some(prefetch.read(src, vlr.data_offset..end)?);
        }
        evlrs.push(vlr);
        pos = end;
    }
    Ok(evlrs)
}
