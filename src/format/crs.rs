//! CRS records of LAS files: the WKT VLR (`LASF_Projection`/2112) and the GeoTIFF
//! key directory (`LASF_Projection`/34735, with 34736 doubles and 34737 ASCII).

use super::bytes::u16_at;

pub const PROJECTION_USER_ID: &str = "LASF_Projection";
pub const WKT_RECORD_ID: u16 = 2112;
pub const GEOKEY_DIRECTORY_RECORD_ID: u16 = 34735;
pub const GEODOUBLE_RECORD_ID: u16 = 34736;
pub const GEOASCII_RECORD_ID: u16 = 34737;

/// True for the GeoTIFF records (34735-34737), which a COPC file must not carry.
pub fn is_geotiff_record(user_id: &str, record_id: u16) -> bool {
    user_id == PROJECTION_USER_ID
        && matches!(
            record_id,
            GEOKEY_DIRECTORY_RECORD_ID | GEODOUBLE_RECORD_ID | GEOASCII_RECORD_ID
        )
}

/// The keys of a GeoTIFF key directory that name a CRS by code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GeoKeys {
    /// GTModelTypeGeoKey (1024): 1 projected, 2 geographic, 3 geocentric.
    pub model_type: Option<u16>,
    /// GeographicTypeGeoKey (2048).
    pub geographic: Option<u16>,
    /// ProjectedCSTypeGeoKey (3072).
    pub projected: Option<u16>,
    /// VerticalCSTypeGeoKey (4096).
    pub vertical: Option<u16>,
}

/// Parses the u16 keys stored inline (TIFF tag location 0) of a key directory.
pub fn parse_geokeys(dir: &[u8]) -> Result<GeoKeys, String> {
    if dir.len() < 8 {
        return Err(format!(
            "GeoTIFF key directory of {} bytes is shorter than its 8-byte header",
            dir.len()
        ));
    }
    let n = u16_at(dir, 6) as usize;
    if dir.len() < 8 + 8 * n {
        return Err(format!(
            "GeoTIFF key directory announces {n} keys but holds {} bytes",
            dir.len()
        ));
    }
    let mut k = GeoKeys::default();
    for i in 0..n {
        let at = 8 + 8 * i;
        let (id, loc, _count, value) = (
            u16_at(dir, at),
            u16_at(dir, at + 2),
            u16_at(dir, at + 4),
            u16_at(dir, at + 6),
        );
        if loc != 0 {
            continue;
        }
        match id {
            1024 => k.model_type = Some(value),
            2048 => k.geographic = Some(value),
            3072 => k.projected = Some(value),
            4096 => k.vertical = Some(value),
            _ => {}
        }
    }
    Ok(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_inline_keys() {
        let mut d = Vec::new();
        for v in [1u16, 1, 0, 3, 1024, 0, 1, 1, 3072, 0, 1, 26910, 4096, 0, 1, 5703] {
            d.extend_from_slice(&v.to_le_bytes());
        }
        let k = parse_geokeys(&d).unwrap();
        assert_eq!(
            k,
            GeoKeys {
                model_type: Some(1),
                geographic: None,
                projected: Some(26910),
                vertical: Some(5703)
            }
        );
        assert!(parse_geokeys(&d[..20]).is_err());
        assert!(is_geotiff_record("LASF_Projection", 34736));
        assert!(!is_geotiff_record("LASF_Projection", 2112));
    }
}
