//! What the caller sets in the output's header and VLRs beyond what the writer derives
//! from the points: [`HeaderOverrides`] (file source id, global encoding, GUID, system
//! and software identifiers, creation date) and [`UserVlr`]s to copy into the file.
//! Both are checked before anything is written ([`HeaderOverrides::check`],
//! [`UserVlr::check`]); the records the writer makes itself (CRS, extra bytes, COPC,
//! LAZ) cannot be given.
//!
//! ```
//! use copc::writer::{HeaderOverrides, UserVlr, WriterOptions, parse_guid};
//! let opts = WriterOptions {
//!     header: HeaderOverrides {
//!         file_source_id: Some(17),
//!         guid: Some(parse_guid("0E5F4C53-2C5D-4D26-9F0B-6A1A1F0B2C3D")?),
//!         system_identifier: Some("my scanner".into()),
//!         ..Default::default()
//!     },
//!     vlrs: vec![UserVlr::new("my_org", 1, "notes", b"hello".to_vec())],
//!     ..Default::default()
//! };
//! # Ok::<(), copc::Error>(())
//! ```

use super::file::FileSpec;
use crate::error::{Error, Result};

/// The global-encoding bits a COPC file may carry: bit 0 (GPS time is adjusted standard
/// GPS time) and bit 4 (the CRS is WKT), which COPC requires and the writer always sets.
/// Bits 1 and 2 describe waveform data (formats 6-8 have none), bit 3 synthetic return
/// numbers the writer does not know about.
pub const ALLOWED_GLOBAL_ENCODING: u16 = 0x11;

/// The names [`HeaderOverrides::set`] takes: PDAL's writers.las / writers.copc options.
pub const FIELD_NAMES: [&str; 7] =
    ["filesource_id", "global_encoding", "project_id", "system_id", "software_id", "creation_doy", "creation_year"];

/// Header fields that replace what the writer would write. `None`: the writer's value
/// (for one input its file source id, GUID, system identifier, creation date and GPS
/// time bit; for several merged inputs 0, zeros, "MERGE" and the first input's date;
/// the generating software is always "copc <version>").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderOverrides {
    pub file_source_id: Option<u16>,
    /// Global encoding: only the bits of [`ALLOWED_GLOBAL_ENCODING`] (0, 1, 16 or 17);
    /// bit 4 (WKT) is set in the output whatever is given here.
    pub global_encoding: Option<u16>,
    /// Project ID (GUID), the 16 header bytes in file order ([`parse_guid`]).
    pub guid: Option<[u8; 16]>,
    /// At most 32 bytes, no NUL.
    pub system_identifier: Option<String>,
    /// At most 32 bytes, no NUL.
    pub generating_software: Option<String>,
    /// Day of the year, 1-366, or 0 for "not recorded" (common in real files, and what
    /// PDAL accepts).
    pub creation_day: Option<u16>,
    pub creation_year: Option<u16>,
}

/// A VLR (or, `extended`, an EVLR) copied into the output after the writer's own
/// records. A VLR whose payload exceeds 65535 bytes is written as an EVLR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserVlr {
    /// At most 16 bytes, no NUL.
    pub user_id: String,
    pub record_id: u16,
    /// At most 32 bytes, no NUL.
    pub description: String,
    pub data: Vec<u8>,
    pub extended: bool,
}

impl UserVlr {
    /// A VLR (not extended).
    pub fn new(user_id: impl Into<String>, record_id: u16, description: impl Into<String>, data: Vec<u8>) -> UserVlr {
        UserVlr { user_id: user_id.into(), record_id, description: description.into(), data, extended: false }
    }

    /// Checks the lengths and refuses the records the writer owns ([`writer_owned`]).
    pub fn check(&self) -> Result<()> {
        let name = format!("VLR {}/{}", self.user_id, self.record_id);
        if self.user_id.is_empty() || self.user_id.len() > 16 || self.user_id.contains('\0') {
            return Err(Error::invalid(format!(
                "{name}: user_id '{}' must be 1 to 16 bytes without NUL",
                self.user_id
            )));
        }
        if self.description.len() > 32 || self.description.contains('\0') {
            return Err(Error::invalid(format!(
                "{name}: description must be at most 32 bytes without NUL ({} given)",
                self.description.len()
            )));
        }
        if let Some(why) = writer_owned(&self.user_id, self.record_id) {
            return Err(Error::invalid(format!("{name}: the writer writes this record itself: {why}")));
        }
        Ok(())
    }
}

/// Why a record with this user id and record id cannot be given to the writer (None:
/// it can): the writer makes these from the points and options.
pub fn writer_owned(user_id: &str, record_id: u16) -> Option<&'static str> {
    match (user_id, record_id) {
        ("LASF_Projection", _) => {
            Some("CRS records are written from the a_srs option or the inputs' CRS (as WKT)")
        }
        ("LASF_Spec", 4) => Some("the extra-bytes VLR is written from the points' extra dimensions"),
        ("LASF_Spec", 100..=354 | 65535) => {
            Some("waveform records describe waveform data, which COPC formats 6-8 cannot hold")
        }
        ("copc", _) => Some("the COPC info VLR and hierarchy EVLR describe the octree the writer builds"),
        ("laszip encoded", _) => Some("the LAZ VLR describes the compression the writer does"),
        _ => None,
    }
}

/// Text of at most 32 bytes without NUL for a header field.
fn check_text(field: &str, s: &str) -> Result<()> {
    if s.len() > 32 {
        return Err(Error::invalid(format!(
            "{field} '{s}' is {} bytes: the header holds at most 32",
            s.len()
        )));
    }
    if s.contains('\0') {
        return Err(Error::invalid(format!("{field}: NUL inside the text")));
    }
    Ok(())
}

impl HeaderOverrides {
    /// Checks every value that is set; the message names the field and what it takes.
    pub fn check(&self) -> Result<()> {
        if let Some(g) = self.global_encoding {
            if g & !ALLOWED_GLOBAL_ENCODING != 0 {
                return Err(Error::invalid(format!(
                    "global_encoding {g}: a COPC file may only set bit 0 (GPS time type) and bit 4 (WKT, always set): 0, 1, 16 or 17"
                )));
            }
        }
        if let Some(s) = &self.system_identifier {
            check_text("system_id", s)?;
        }
        if let Some(s) = &self.generating_software {
            check_text("software_id", s)?;
        }
        if let Some(d) = self.creation_day {
            if d > 366 {
                return Err(Error::invalid(format!(
                    "creation_doy {d}: a day of the year is 1-366 (0: not recorded)"
                )));
            }
        }
        Ok(())
    }

    /// Sets one field from text by its PDAL option name (`filesource_id`,
    /// `global_encoding`, `project_id`, `system_id`, `software_id`, `creation_doy`,
    /// `creation_year`: [`FIELD_NAMES`]), checked as [`HeaderOverrides::check`] does.
    /// `Ok(false)` for a name that is not a header field; on error nothing changes.
    pub fn set(&mut self, name: &str, value: &str) -> Result<bool> {
        let int = |max: u16, what: &str| -> Result<u16> {
            value.trim().parse::<u16>().ok().filter(|v| *v <= max).ok_or_else(|| {
                Error::invalid(format!("{name} '{value}': expected {what}"))
            })
        };
        let mut next = self.clone();
        match name {
            "filesource_id" => next.file_source_id = Some(int(u16::MAX, "an integer 0-65535")?),
            "global_encoding" => next.global_encoding = Some(int(u16::MAX, "an integer (0, 1, 16 or 17)")?),
            "project_id" => next.guid = Some(parse_guid(value.trim())?),
            "system_id" => next.system_identifier = Some(value.to_string()),
            "software_id" => next.generating_software = Some(value.to_string()),
            "creation_doy" => next.creation_day = Some(int(366, "a day of the year 1-366 (0: not recorded)")?),
            "creation_year" => next.creation_year = Some(int(u16::MAX, "a year 0-65535")?),
            _ => return Ok(false),
        }
        next.check()?;
        *self = next;
        Ok(true)
    }

    /// Replaces the spec's fields by the ones set here.
    pub(crate) fn apply(&self, spec: &mut FileSpec) {
        if let Some(v) = self.file_source_id {
            spec.file_source_id = v;
        }
        if let Some(g) = self.global_encoding {
            spec.global_encoding_gps_bit = g & 1 != 0;
        }
        if let Some(g) = self.guid {
            spec.guid = g;
        }
        if let Some(s) = &self.system_identifier {
            spec.system_identifier = s.clone();
        }
        if let Some(s) = &self.generating_software {
            spec.generating_software = s.clone();
        }
        if let Some(d) = self.creation_day {
            spec.creation_day = d;
        }
        if let Some(y) = self.creation_year {
            spec.creation_year = y;
        }
    }
}

/// Adds the user records to the spec's lists (after the ones taken from the inputs; a
/// record equal to one already there is not written twice).
pub(crate) fn add_user_vlrs(spec: &mut FileSpec, vlrs: &[UserVlr]) {
    for v in vlrs {
        let item = (v.user_id.clone(), v.record_id, v.description.clone(), v.data.clone());
        let list = if v.extended { &mut spec.evlrs } else { &mut spec.vlrs };
        if !list.contains(&item) {
            list.push(item);
        }
    }
}

/// Checks the header overrides and the user VLRs of a writer's options.
pub(crate) fn check_options(header: &HeaderOverrides, vlrs: &[UserVlr]) -> Result<()> {
    header.check()?;
    vlrs.iter().try_for_each(UserVlr::check)
}

/// Parses a project ID (GUID) as PDAL spells it, `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX`
/// (hexadecimal digits, any case): the 16 header bytes in file order, as PDAL's
/// readers print them and its writers read them.
pub fn parse_guid(s: &str) -> Result<[u8; 16]> {
    let bad = || {
        Error::invalid(format!(
            "project_id '{s}' is not a GUID of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (hexadecimal digits)"
        ))
    };
    let b = s.as_bytes();
    if b.len() != 36 {
        return Err(bad());
    }
    let mut out = [0u8; 16];
    let mut hex = Vec::with_capacity(32);
    for (i, &c) in b.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if c != b'-' {
                return Err(bad());
            }
        } else {
            hex.push((c as char).to_digit(16).ok_or_else(bad)? as u8);
        }
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o = hex[2 * i] << 4 | hex[2 * i + 1];
    }
    Ok(out)
}

/// The GUID bytes as PDAL prints them (upper case, `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX`).
pub fn format_guid(g: &[u8; 16]) -> String {
    let h: Vec<String> = g.iter().map(|b| format!("{b:02X}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        h[0..4].concat(),
        h[4..6].concat(),
        h[6..8].concat(),
        h[8..10].concat(),
        h[10..16].concat()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_parses_as_pdal_spells_it_and_round_trips() {
        let s = "0E5F4C53-2C5D-4d26-9F0B-6A1A1F0B2C3D";
        let g = parse_guid(s).unwrap();
        assert_eq!(g[0], 0x0E);
        assert_eq!(g[3], 0x53);
        assert_eq!(g[15], 0x3D);
        assert_eq!(format_guid(&g), s.to_ascii_uppercase());
        for bad in [
            "",
            "0E5F4C53-2C5D-4D26-9F0B-6A1A1F0B2C3",
            "0E5F4C53-2C5D-4D26-9F0B-6A1A1F0B2C3DD",
            "0E5F4C53_2C5D-4D26-9F0B-6A1A1F0B2C3D",
            "0E5F4C53-2C5D-4D26-9F0B-6A1A1F0B2C3G",
            "{E5F4C53-2C5D-4D26-9F0B-6A1A1F0B2C3}",
        ] {
            let e = parse_guid(bad).unwrap_err().to_string();
            assert!(e.contains("project_id") && e.contains("xxxxxxxx-xxxx"), "{bad}: {e}");
        }
    }

    #[test]
    fn overrides_are_checked_with_the_field_named() {
        assert!(HeaderOverrides::default().check().is_ok());
        let ok = HeaderOverrides {
            global_encoding: Some(17),
            system_identifier: Some("x".repeat(32)),
            creation_day: Some(366),
            ..Default::default()
        };
        assert!(ok.check().is_ok());
        let e = |h: HeaderOverrides| h.check().unwrap_err().to_string();
        let long = e(HeaderOverrides { system_identifier: Some("x".repeat(33)), ..Default::default() });
        assert!(long.contains("system_id") && long.contains("33 bytes") && long.contains("32"), "{long}");
        let sw = e(HeaderOverrides { generating_software: Some("a\0b".into()), ..Default::default() });
        assert!(sw.contains("software_id"), "{sw}");
        let ge = e(HeaderOverrides { global_encoding: Some(2), ..Default::default() });
        assert!(ge.contains("global_encoding 2") && ge.contains("bit 0"), "{ge}");
        let day = e(HeaderOverrides { creation_day: Some(367), ..Default::default() });
        assert!(day.contains("creation_doy 367") && day.contains("1-366"), "{day}");
    }

    #[test]
    fn fields_set_by_name_parse_and_check_their_values() {
        let mut h = HeaderOverrides::default();
        for (k, v) in [
            ("filesource_id", "65535"),
            ("global_encoding", "1"),
            ("project_id", "0E5F4C53-2C5D-4D26-9F0B-6A1A1F0B2C3D"),
            ("system_id", "PDAL"),
            ("software_id", ""),
            ("creation_doy", " 366 "),
            ("creation_year", "2026"),
        ] {
            assert!(h.set(k, v).unwrap(), "{k}");
        }
        assert_eq!(FIELD_NAMES.len(), 7);
        assert_eq!(h.file_source_id, Some(65535));
        assert_eq!(h.global_encoding, Some(1));
        assert_eq!(h.guid.map(|g| format_guid(&g)).as_deref(), Some("0E5F4C53-2C5D-4D26-9F0B-6A1A1F0B2C3D"));
        assert_eq!(h.generating_software.as_deref(), Some(""));
        assert_eq!((h.creation_day, h.creation_year), (Some(366), Some(2026)));
        assert!(!h.set("scale_x", "1").unwrap(), "not a header field");
        let before = h.clone();
        for (k, v, says) in [
            ("filesource_id", "65536", "0-65535"),
            ("filesource_id", "-1", "0-65535"),
            ("global_encoding", "4", "bit 0"),
            ("project_id", "not-a-guid", "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"),
            ("system_id", "a system identifier of 33 bytes!!", "at most 32"),
            ("creation_doy", "367", "1-366"),
            ("creation_year", "soon", "a year"),
        ] {
            let e = h.set(k, v).unwrap_err().to_string();
            assert!(e.contains(k) && e.contains(says), "{k}={v}: {e}");
        }
        assert_eq!(h, before, "a refused value changes nothing");
    }

    #[test]
    fn records_the_writer_owns_are_refused_with_the_reason() {
        assert!(UserVlr::new("my_org", 7, "notes", vec![1, 2]).check().is_ok());
        assert!(UserVlr::new("LASF_Spec", 0, "classification", vec![0; 16]).check().is_ok());
        for (user, id, why) in [
            ("LASF_Projection", 2112, "a_srs"),
            ("LASF_Projection", 34735, "CRS"),
            ("LASF_Spec", 4, "extra dimensions"),
            ("LASF_Spec", 100, "waveform"),
            ("copc", 1, "octree"),
            ("copc", 1000, "octree"),
            ("laszip encoded", 22204, "LAZ"),
        ] {
            let e = UserVlr::new(user, id, "", vec![]).check().unwrap_err().to_string();
            assert!(e.contains(&format!("{user}/{id}")) && e.contains(why), "{user}/{id}: {e}");
        }
        let long = UserVlr::new("a_user_id_of_17_b", 1, "", vec![]).check().unwrap_err().to_string();
        assert!(long.contains("user_id") && long.contains("16 bytes"), "{long}");
        let desc = UserVlr::new("me", 1, "d".repeat(33), vec![]).check().unwrap_err().to_string();
        assert!(desc.contains("description") && desc.contains("32 bytes"), "{desc}");
    }
}
