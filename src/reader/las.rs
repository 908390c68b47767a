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
    /// Where the EVLRs are read from (start, count): the header's pointer, or where a
    /// scan found them when that pointer is wrong.
    evlr_at: (u64, u32),
    /// The LAZ VLR, for compressed files.
    pub laz_vlr: Option<laz::LazVlr>,
    /// Tolerated irregularities (e.g. a VLR count larger than the VLRs present).
    pub warnings: Vec<String>,
    /// The warning about a wrong EVLR pointer, when there is one (also in `warnings`;
    /// `validate` fails such a file).
    pub evlr_warning: Option<String>,
    pub prefetch: Prefetch,
}

impl LasFile {
    pub fn open(source: Arc<dyn ByteSource>) -> Result<LasFile> {
        let name = source.name().to_string();
        let len = source.len();
        let first = source.read_range(0..len.min(FIRST_READ))?;
        let header = Header::parse(&name, &first[..first.len().min(crate::format::header::HEADER_SIZE_15 as usize)], len)?;
        let mut prefetch = Prefetch::default();
        prefetch.add(0, first);
        let mut warnings = Vec::new();
        let mut evlr_warning = None;

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
        let len = source.len();
        let mut evlr_at = (header.evlr_start, header.evlr_count);
        let mut evlr_problem = None;
        let (start, count) = evlr_at;
        let uses_evlrs = header.version.1 >= 4 && count > 0 && start != 0;
        let pointer_bad = uses_evlrs
            && (start < header.offset_to_point_data()
                || start > len
                || (count as u64).saturating_mul(EVLR_HEADER_SIZE as u64) > len - start);
        if uses_evlrs && !pointer_bad && len - start <= SMALL_EVLR * 4 {
            if prefetch.get(&(start..len)).is_none() {
                let tail = source.read_range(start..len)?;
                prefetch.add(start, tail);
            }
            match read_evlrs(source.as_ref(), &header, evlr_at, &prefetch) {
                Ok(e) => {
                    let _ = evlrs.set(e);
                }
                // a pointer inside the file whose chain is broken: look for the real one
                Err(e) => {
                    evlr_problem = Some((format!("the header's start of first EVLR (byte {start}) does not lead to {count} EVLRs: {}", e.detail()), e))
                }
            }
        } else if pointer_bad {
            let why = format!(
                "the header's start of first EVLR (byte {start}, {count} EVLRs) lies outside the point data end..file end ({len})"
            );
            evlr_problem = Some((why.clone(), Error::format(&name, Location::Offset(235), why)));
        }
        if let Some((why, err)) = evlr_problem {
            // a writer slip (copc-rs 0.5.0 copies its input's EVLR pointer): the EVLRs
            // are found by a bounded scan; without them the file still opens
            let found = scan_evlrs(source.as_ref(), &header, &vlrs, count, &mut prefetch)?;
            let msg = match found {
                Some((at, n)) => {
                    evlr_at = (at, n);
                    let _ = evlrs.set(read_evlrs(source.as_ref(), &header, evlr_at, &prefetch)?);
                    if at == start {
                        format!("{why}; {n} EVLRs run from there to the end of the file and are used")
                    } else {
                        format!("{why}; the {n} EVLRs were found at byte {at} by a scan and are used from there")
                    }
                }
                None if vlrs.first().is_some_and(|v| v.is("copc", 1)) || vlrs.first().is_some_and(|v| v.user_id == "entwine") => {
                    evlr_at = (0, 0);
                    let _ = evlrs.set(Vec::new());
                    format!("{why}; no EVLR chain ending at the end of the file was found in its last {EVLR_SCAN} bytes, so EVLRs are ignored (the hierarchy comes from the info VLR)")
                }
                // a plain LAS/LAZ input: its EVLRs may hold the CRS, so this stays an error
                None => return Err(err),
            };
            warnings.push(msg.clone());
            evlr_warning = Some(msg);
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

        Ok(LasFile { source, header, vlrs, evlrs, evlr_at, laz_vlr, warnings, evlr_warning, prefetch })
    }

    pub fn name(&self) -> &str {
        self.source.name()
    }

    /// The EVLRs (headers, and payloads up to 1 MiB), read on first use.
    pub fn evlrs(&self) -> Result<&[Vlr]> {
        if let Some(e) = self.evlrs.get() {
            return Ok(e);
        }
        let parsed = read_evlrs(self.source.as_ref(), &self.header, self.evlr_at, &self.prefetch)?;
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
        let is_eb = |v: &&Vlr| v.is("LASF_Spec", 4);
        // EVLRs not read yet are read only when no VLR describes the extra bytes, so
        // opening a remote file costs no more requests than before
        let evlrs: &[Vlr] = match self.evlrs.get() {
            Some(e) => e,
            None if !self.vlrs.iter().any(|v| is_eb(&v)) => self.evlrs()?,
            None => &[],
        };
        let mut payloads = Vec::new();
        for v in self.vlrs.iter().chain(evlrs.iter()).filter(is_eb) {
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

/// How far back from the end of the file [`scan_evlrs`] looks for EVLRs.
pub const EVLR_SCAN: u64 = SMALL_EVLR * 4;

/// Finds the EVLRs when the header's pointer or count is wrong: a chain that ends
/// exactly at the end of the file. Candidates: the header's pointer with fewer EVLRs
/// than its count; the hierarchy page's EVLR header (60 bytes before the info VLR's
/// root_hier_offset, where COPC writers put it); then every byte of the last
/// [`EVLR_SCAN`] bytes with the header's count. A candidate must have printable user
/// ids, hold the root page in one payload when it covers it, and chain to the file's
/// end; the work is bounded by the window and a step budget. Returns (start, count).
fn scan_evlrs(src: &dyn ByteSource, header: &Header, vlrs: &[Vlr], count: u32, prefetch: &mut Prefetch) -> Result<Option<(u64, u32)>> {
    let len = src.len();
    let lo = header.offset_to_point_data();
    let ehs = EVLR_HEADER_SIZE as u64;
    if count == 0 || len < lo + ehs {
        return Ok(None);
    }
    let from = lo.max(len.saturating_sub(EVLR_SCAN));
    if prefetch.get(&(from..len)).is_none() {
        let tail = src.read_range(from..len)?;
        prefetch.add(from, tail);
    }
    let Some(window) = prefetch.get(&(from..len)) else { return Ok(None) };
    // the root hierarchy page (COPC): where the info VLR says it is
    let root = vlrs
        .first()
        .filter(|v| v.is("copc", 1))
        .and_then(|v| v.data.as_deref())
        .filter(|d| d.len() >= 56)
        .map(|d| {
            let at = u64::from_le_bytes(d[40..48].try_into().unwrap_or_default());
            at..at.saturating_add(u64::from_le_bytes(d[48..56].try_into().unwrap_or_default()))
        });
    let budget = std::cell::Cell::new(1u64 << 22);
    // the number of EVLRs (at most `count`; exactly `count` unless `fewer`) chained
    // from `s` to the end of the file, inside the window only
    let chains = |s: u64, fewer: bool| -> Option<u32> {
        let mut pos = s;
        // a chain over the root page must hold it in one payload (else the "EVLR" is
        // a run of hierarchy entries that happens to look like one)
        let mut holds_root = root.as_ref().is_none_or(|r| r.start < s);
        for n in 0..count {
            if pos == len && fewer && n > 0 && holds_root {
                return Some(n);
            }
            // (len >= ehs here: checked above; pos may be any u64 from the header)
            if budget.get() == 0 || pos < from || pos > len - ehs {
                return None;
            }
            budget.set(budget.get() - 1);
            let h = &window[(pos - from) as usize..(pos - from) as usize + EVLR_HEADER_SIZE];
            let id = &h[2..18];
            let text = id.iter().position(|&b| b == 0).unwrap_or(16);
            if text == 0 || !id[..text].iter().all(|b| b.is_ascii_graphic() || *b == b' ') || id[text..].iter().any(|&b| b != 0) {
                return None;
            }
            let data_len = u64::from_le_bytes(h[20..28].try_into().unwrap_or_default());
            match (pos + ehs).checked_add(data_len).filter(|&e| e <= len) {
                Some(e) => {
                    holds_root |= root.as_ref().is_some_and(|r| r.start >= pos + ehs && r.end <= e);
                    pos = e
                }
                None => return None,
            }
        }
        (pos == len && holds_root).then_some(count)
    };
    // the header's pointer with a wrong count: its EVLRs end at the end of the file
    if (from..len).contains(&header.evlr_start) {
        if let Some(n) = chains(header.evlr_start, true) {
            return Ok(Some((header.evlr_start, n)));
        }
    }
    let hint = root.as_ref().and_then(|r| r.start.checked_sub(ehs));
    if let Some(h) = hint.filter(|&h| h >= from) {
        if let Some(n) = chains(h, false) {
            return Ok(Some((h, n)));
        }
    }
    for s in from..=len - ehs {
        if let Some(n) = chains(s, false) {
            return Ok(Some((s, n)));
        }
        if budget.get() == 0 {
            break;
        }
    }
    Ok(None)
}

fn read_evlrs(src: &dyn ByteSource, header: &Header, at: (u64, u32), prefetch: &Prefetch) -> Result<Vec<Vlr>> {
    let name = src.name();
    let len = src.len();
    let (start, count) = at;
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
