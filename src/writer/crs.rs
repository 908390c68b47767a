//! The output CRS: `--a-srs` (WKT text or `EPSG:n`), else the inputs' WKT, else
//! their GeoTIFF keys turned into WKT through EPSG codes (crs-definitions crate).
//! GeoTIFF records are never written to a COPC file.

use crate::error::{Error, Result};
use crate::format::Vlr;
use crate::format::crs::{GEOKEY_DIRECTORY_RECORD_ID, PROJECTION_USER_ID, WKT_RECORD_ID, parse_geokeys};

/// WKT of an EPSG code, when the code is known.
pub fn epsg_wkt(code: u16) -> Option<String> {
    crs_definitions::from_code(code)
        .map(|d| d.wkt.to_string())
        .filter(|w| !w.is_empty())
}

/// Parses the `--a-srs` value: `EPSG:n` (also `epsg:n`), or WKT text.
pub fn parse_a_srs(s: &str) -> Result<String> {
    let t = s.trim();
    if let Some(code) = t.strip_prefix("EPSG:").or_else(|| t.strip_prefix("epsg:")) {
        let code: u16 = code
            .trim()
            .parse()
            .map_err(|_| Error::invalid(format!("--a-srs {t}: expected EPSG:<code> with a code up to 65535")))?;
        return epsg_wkt(code)
            .ok_or_else(|| Error::invalid(format!("--a-srs {t}: EPSG code {code} is not in the CRS table")));
    }
    let upper = t.to_ascii_uppercase();
    let wkt_starts = [
        "PROJCS[",
        "GEOGCS[",
        "GEOCCS[",
        "COMPD_CS[",
        "VERT_CS[",
        "LOCAL_CS[",
        "PROJCRS[",
        "GEOGCRS[",
        "GEODCRS[",
        "COMPOUNDCRS[",
        "VERTCRS[",
        "BOUNDCRS[",
        "ENGCRS[",
    ];
    if wkt_starts.iter().any(|w| upper.starts_with(w)) {
        return Ok(t.to_string());
    }
    Err(Error::invalid(format!(
        "--a-srs: '{t}' is neither EPSG:<code> nor WKT text"
    )))
}

/// What an input says about its CRS.
#[derive(Debug, Clone, PartialEq)]
pub enum InputCrs {
    None,
    Wkt(String),
    /// GeoTIFF keys converted to WKT.
    FromGeoTiff {
        wkt: String,
        codes: String,
    },
    /// GeoTIFF keys that name no EPSG code we know (the message says which).
    Unconvertible(String),
}

impl InputCrs {
    pub fn wkt(&self) -> Option<&str> {
        match self {
            InputCrs::Wkt(w) | InputCrs::FromGeoTiff { wkt: w, .. } => Some(w),
            _ => None,
        }
    }
}

/// The CRS of one input from its VLRs and EVLRs.
pub fn input_crs(records: &[&Vlr]) -> InputCrs {
    if let Some(v) = records.iter().find(|v| v.is(PROJECTION_USER_ID, WKT_RECORD_ID)) {
        let data = v.data.as_deref().unwrap_or(&[]);
        let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
        let text = String::from_utf8_lossy(&data[..end]).trim().to_string();
        if !text.is_empty() {
            return InputCrs::Wkt(text);
        }
    }
    let Some(dir) = records
        .iter()
        .find(|v| v.is(PROJECTION_USER_ID, GEOKEY_DIRECTORY_RECORD_ID))
    else {
        return InputCrs::None;
    };
    let keys = match parse_geokeys(dir.data.as_deref().unwrap_or(&[])) {
        Ok(k) => k,
        Err(m) => return InputCrs::Unconvertible(m),
    };
    let horizontal = keys
        .projected
        .filter(|c| (1024..32767).contains(c))
        .or(keys.geographic.filter(|c| (1024..32767).contains(c)));
    let Some(h) = horizontal else {
        return InputCrs::Unconvertible(format!(
            "GeoTIFF keys name no EPSG code (projected {:?}, geographic {:?}: user-defined CRSs are not converted)",
            keys.projected, keys.geographic
        ));
    };
    let Some(hwkt) = epsg_wkt(h) else {
        return InputCrs::Unconvertible(format!("GeoTIFF EPSG code {h} is not in the CRS table"));
    };
    match keys
        .vertical
        .filter(|c| (1024..32767).contains(c))
        .and_then(|v| epsg_wkt(v).map(|w| (v, w)))
    {
        Some((v, vwkt)) => {
            let name = |w: &str| w.split('"').nth(1).unwrap_or("").to_string();
            let wkt = format!("COMPD_CS[\"{} + {}\",{hwkt},{vwkt}]", name(&hwkt), name(&vwkt));
            InputCrs::FromGeoTiff {
                wkt,
                codes: format!("EPSG:{h}+{v}"),
            }
        }
        None => InputCrs::FromGeoTiff {
            wkt: hwkt,
            codes: format!("EPSG:{h}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_srs_forms() {
        assert!(parse_a_srs("EPSG:4326").unwrap().starts_with("GEOGCS[\"WGS 84\""));
        assert!(parse_a_srs("EPSG:26910").unwrap().contains("UTM zone 10N"));
        assert!(parse_a_srs("EPSG:x").is_err());
        assert!(parse_a_srs("EPSG:1").is_err());
        assert_eq!(parse_a_srs(" GEOGCS[\"x\"] ").unwrap(), "GEOGCS[\"x\"]");
        assert!(parse_a_srs("hello").is_err());
    }

    fn vlr(record_id: u16, data: Vec<u8>) -> Vlr {
        Vlr {
            user_id: PROJECTION_USER_ID.into(),
            record_id,
            description: String::new(),
            reserved: 0,
            extended: false,
            header_offset: 0,
            data_offset: 0,
            data_len: data.len() as u64,
            data: Some(data),
        }
    }

    #[test]
    fn geotiff_to_wkt() {
        let mut d = Vec::new();
        for v in [1u16, 1, 0, 2, 3072, 0, 1, 26910, 4096, 0, 1, 5703] {
            d.extend_from_slice(&v.to_le_bytes());
        }
        let v = vlr(34735, d);
        match input_crs(&[&v]) {
            InputCrs::FromGeoTiff { wkt, codes } => {
                // the CRS table has no vertical CRSs: the horizontal one is kept
                assert_eq!(codes, "EPSG:26910");
                assert!(wkt.starts_with("PROJCS[\"NAD83 / UTM zone 10N\""), "{wkt}");
            }
            other => panic!("{other:?}"),
        }
        let w = vlr(2112, b"GEOGCS[\"x\"]\0".to_vec());
        assert_eq!(input_crs(&[&v, &w]), InputCrs::Wkt("GEOGCS[\"x\"]".into()));
        let mut d = Vec::new();
        for v in [1u16, 1, 0, 1, 3072, 0, 1, 32767] {
            d.extend_from_slice(&v.to_le_bytes());
        }
        assert!(matches!(input_crs(&[&vlr(34735, d)]), InputCrs::Unconvertible(_)));
    }
}
