//! The columns of a query's Arrow batches: which, in what order, their names, Arrow
//! types and field metadata (docs/arrow.md is the user's table of the same).

use super::{ArrowColumn, ArrowOptions, Geometry};
use crate::error::{Error, Result};
use crate::format::ExtraBytesType;
use crate::format::point::{DimType, flag_bit};
use crate::{Dimension, Query, Reader, RecordFormat};
use arrow_schema::{DataType, Field, FieldRef, Schema, SchemaRef};
use std::collections::HashMap;
use std::sync::Arc;

/// Field metadata keys (docs/arrow.md).
pub const META_LAS_NAME: &str = "las:name";
pub const META_SCALE: &str = "las:scale";
pub const META_OFFSET: &str = "las:offset";
pub const META_PRESENT: &str = "las:present";
pub const META_EB_DATA_TYPE: &str = "las:extra_bytes_data_type";
pub const META_EB_TYPE: &str = "las:extra_bytes_type";
pub const META_EB_OPTIONS: &str = "las:extra_bytes_options";
pub const META_EB_NO_DATA: &str = "las:no_data";
pub const META_DESCRIPTION: &str = "las:description";
pub const META_UNIT: &str = "unit";
pub const EXTENSION_NAME: &str = "ARROW:extension:name";
pub const EXTENSION_METADATA: &str = "ARROW:extension:metadata";

/// Where a column's values come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Source {
    Dim(Dimension),
    GeoArrowPoint,
    Wkb,
    NodeLevel,
    NodeX,
    NodeY,
    NodeZ,
    PointIndex,
    PointId,
}

#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub source: Source,
    pub field: FieldRef,
}

/// Everything a batch reader needs besides the points.
#[derive(Debug)]
pub(crate) struct Plan {
    pub columns: Vec<Column>,
    pub schema: SchemaRef,
    /// The query with `dims` set to what the columns need.
    pub query: Query,
    pub batch_rows: usize,
}

/// The LAS 1.4 specification's name of a standard dimension.
fn las_name(d: Dimension) -> &'static str {
    use Dimension::*;
    match d {
        X | XRaw => "X",
        Y | YRaw => "Y",
        Z | ZRaw => "Z",
        Intensity => "Intensity",
        ReturnNumber => "Return Number",
        NumberOfReturns => "Number of Returns",
        ScanDirectionFlag => "Scan Direction Flag",
        EdgeOfFlightLine => "Edge of Flight Line",
        Classification => "Classification",
        Synthetic => "Synthetic",
        KeyPoint => "Key-point",
        Withheld => "Withheld",
        Overlap => "Overlap",
        ScannerChannel => "Scanner Channel",
        ScanAngle => "Scan Angle",
        UserData => "User Data",
        PointSourceId => "Point Source ID",
        GpsTime => "GPS Time",
        Red => "Red",
        Green => "Green",
        Blue => "Blue",
        Nir => "NIR",
        Extra(_) | ExtraRaw(_) => "",
    }
}

/// Whether a dimension is a one-bit flag (an Arrow boolean column).
pub(crate) fn is_flag(d: Dimension) -> bool {
    use Dimension::*;
    matches!(d, ScanDirectionFlag | EdgeOfFlightLine | Synthetic | KeyPoint | Withheld | Overlap)
}

/// The Arrow type of a column of `DimType` values.
pub fn arrow_type(t: DimType) -> DataType {
    match t {
        DimType::U8 => DataType::UInt8,
        DimType::I8 => DataType::Int8,
        DimType::U16 => DataType::UInt16,
        DimType::I16 => DataType::Int16,
        DimType::U32 => DataType::UInt32,
        DimType::I32 => DataType::Int32,
        DimType::U64 => DataType::UInt64,
        DimType::I64 => DataType::Int64,
        DimType::F32 => DataType::Float32,
        DimType::F64 => DataType::Float64,
    }
}

/// The Arrow type of a dimension's column.
pub(crate) fn dim_type(format: &RecordFormat, d: Dimension) -> Result<DataType> {
    if is_flag(d) {
        return Ok(DataType::Boolean);
    }
    let (t, count) = format.value_type(d)?;
    Ok(match d {
        Dimension::ExtraRaw(i) => {
            let eb = &format.extra_bytes[i as usize];
            if eb.scalar == ExtraBytesType::Raw {
                DataType::FixedSizeBinary(count as i32)
            } else if count > 1 {
                DataType::FixedSizeList(Arc::new(Field::new("item", arrow_type(t), false)), count as i32)
            } else {
                arrow_type(t)
            }
        }
        _ => arrow_type(t),
    })
}

/// The column an extra-bytes dimension gets when nobody chose: the scaled value
/// (float64) when the file gives a scale or offset for a single value, else the
/// declared type.
fn natural_extra(format: &RecordFormat, i: usize) -> Dimension {
    let eb = &format.extra_bytes[i];
    if eb.count == 1 && eb.scalar != ExtraBytesType::Raw && (eb.scale.is_some() || eb.offset.is_some()) {
        Dimension::Extra(i as u16)
    } else {
        Dimension::ExtraRaw(i as u16)
    }
}

fn num(v: f64) -> String {
    // Rust's shortest round-trip form: parsing it gives the same f64 back.
    format!("{v}")
}

fn triple(v: &[f64; 3], count: usize) -> String {
    v[..count.clamp(1, 3)].iter().map(|x| num(*x)).collect::<Vec<_>>().join(",")
}

fn dim_metadata(format: &RecordFormat, d: Dimension) -> HashMap<String, String> {
    let mut m = HashMap::new();
    let t = &format.transform;
    match d {
        Dimension::Extra(i) | Dimension::ExtraRaw(i) => {
            let eb = &format.extra_bytes[i as usize];
            let n = if eb.scalar == ExtraBytesType::Raw { 1 } else { eb.count };
            m.insert(META_LAS_NAME.into(), eb.name.clone());
            m.insert(META_EB_DATA_TYPE.into(), eb.data_type.to_string());
            m.insert(META_EB_TYPE.into(), eb.type_name());
            m.insert(META_EB_OPTIONS.into(), eb.options.to_string());
            if let Some(s) = &eb.scale {
                m.insert(META_SCALE.into(), triple(s, n));
            }
            if let Some(o) = &eb.offset {
                m.insert(META_OFFSET.into(), triple(o, n));
            }
            if let Some(v) = &eb.no_data {
                m.insert(META_EB_NO_DATA.into(), triple(v, n));
            }
            if !eb.description.is_empty() {
                m.insert(META_DESCRIPTION.into(), eb.description.clone());
            }
        }
        d => {
            m.insert(META_LAS_NAME.into(), las_name(d).into());
            let axis = match d {
                Dimension::X | Dimension::XRaw => Some(0),
                Dimension::Y | Dimension::YRaw => Some(1),
                Dimension::Z | Dimension::ZRaw => Some(2),
                _ => None,
            };
            if let Some(a) = axis {
                m.insert(META_SCALE.into(), num(t.scale[a]));
                m.insert(META_OFFSET.into(), num(t.offset[a]));
            }
            if d == Dimension::ScanAngle {
                m.insert(META_SCALE.into(), "0.006".into());
                m.insert(META_UNIT.into(), "degree".into());
            }
            if !format.layout.has(d) || (is_flag(d) && flag_bit(&format.layout, d).is_none()) {
                m.insert(META_PRESENT.into(), "false".into());
            }
        }
    }
    m
}

/// The dimension columns and their names before deduplication.
fn dim_columns(format: &RecordFormat, q: &Query, opts: &ArrowOptions) -> Result<Vec<(Dimension, Option<String>)>> {
    let check = |d: Dimension| -> Result<Dimension> {
        format.value_type(d)?;
        Ok(d)
    };
    if let Some(cols) = &opts.columns {
        return cols.iter().map(|ArrowColumn { dim, name }| Ok((check(*dim)?, name.clone()))).collect();
    }
    let mut dims: Vec<Dimension> = Vec::new();
    let raw = [Dimension::XRaw, Dimension::YRaw, Dimension::ZRaw];
    match &q.dims {
        Some(asked) => {
            for d in asked {
                let d = match d.extra_index() {
                    Some(i) => natural_extra(format, check(*d).map(|_| i)?),
                    None => *d,
                };
                // An extra-bytes dimension asked both ways gets one column.
                let same = |e: &Dimension| *e == d || (e.extra_index().is_some() && e.extra_index() == d.extra_index());
                if !dims.iter().any(same) {
                    dims.push(d);
                }
            }
            if opts.raw_xyz {
                dims.extend(raw.iter().filter(|r| !asked.contains(r)));
            }
        }
        None => {
            for d in format.dimensions() {
                if raw.contains(&d) {
                    continue;
                }
                let d = match d.extra_index() {
                    Some(i) => natural_extra(format, i),
                    None => d,
                };
                dims.push(d);
                if d == Dimension::Z && opts.raw_xyz {
                    dims.extend(raw);
                }
            }
        }
    }
    Ok(dims.into_iter().map(|d| (d, None)).collect())
}

/// The default name of a dimension's column.
fn default_name(format: &RecordFormat, d: Dimension) -> String {
    match d.extra_index() {
        Some(i) => {
            let n = format.dim_name(d);
            if n.trim().is_empty() { format!("extra_{i}") } else { n }
        }
        None => d.name().to_string(),
    }
}

/// The file's CRS as GeoArrow extension metadata (`{}` without one).
fn geoarrow_metadata(reader: &Reader) -> Result<String> {
    let Some(wkt) = reader.crs_wkt()? else { return Ok("{}".into()) };
    let wkt = wkt.trim_end_matches('\0').trim();
    let head = wkt.split(['[', '(']).next().unwrap_or("").trim().to_ascii_uppercase();
    // WKT2 keywords; LAS files mostly carry WKT1 (PROJCS, GEOGCS...), for which
    // GeoArrow has no crs_type: consumers recognise it.
    let wkt2 = ["PROJCRS", "GEOGCRS", "GEODCRS", "COMPOUNDCRS", "VERTCRS", "ENGCRS", "BOUNDCRS", "DERIVEDPROJCRS"];
    let mut meta = serde_json::Map::new();
    meta.insert("crs".into(), serde_json::Value::String(wkt.to_string()));
    if wkt2.contains(&head.as_str()) {
        meta.insert("crs_type".into(), serde_json::Value::String("wkt2:2019".into()));
    }
    Ok(serde_json::Value::Object(meta).to_string())
}

/// Plans the columns of `q` under `opts` for `reader`'s file.
pub(crate) fn plan(reader: &Reader, q: &Query, opts: &ArrowOptions) -> Result<Plan> {
    q.validate()?;
    if opts.batch_rows == 0 {
        return Err(Error::invalid("Arrow batch_rows 0: a batch must hold at least one row"));
    }
    if opts.geometry == Some(Geometry::Wkb) && opts.batch_rows > super::fill::MAX_WKB_ROWS {
        return Err(Error::invalid(format!(
            "Arrow batch_rows {} with WKB geometry: at most {} (the WKB of one batch must fit 2 GiB)",
            opts.batch_rows,
            super::fill::MAX_WKB_ROWS
        )));
    }
    let format = reader.record_format();
    let mut columns = Vec::new();
    let mut taken: Vec<String> = Vec::new();
    // Names are unique (case-insensitively, as GDAL and pandas need): later ones get _2, _3...
    let mut unique = |name: String| -> String {
        let mut n = name.clone();
        let mut k = 2;
        while taken.iter().any(|t| t.eq_ignore_ascii_case(&n)) {
            n = format!("{name}_{k}");
            k += 1;
        }
        taken.push(n.clone());
        n
    };
    let mut decode: Vec<Dimension> = Vec::new();
    // The row id leads, as GDAL's FID column and a data frame's index do.
    if let Some(n) = &opts.point_id {
        columns.push(Column { source: Source::PointId, field: Arc::new(Field::new(unique(n.clone()), DataType::Int64, false)) });
    }
    for (d, name) in dim_columns(format, q, opts)? {
        let name = unique(name.unwrap_or_else(|| default_name(format, d)));
        let field = Field::new(name, dim_type(format, d)?, false).with_metadata(dim_metadata(format, d));
        columns.push(Column { source: Source::Dim(d), field: Arc::new(field) });
        decode.push(d);
    }
    if let Some(g) = opts.geometry {
        let name = unique(opts.geometry_name.clone());
        let (ty, ext, meta) = match g {
            Geometry::GeoArrowPoint => {
                let xyz = ["x", "y", "z"].map(|n| Field::new(n, DataType::Float64, false));
                (DataType::Struct(xyz.into_iter().collect()), "geoarrow.point", Some(geoarrow_metadata(reader)?))
            }
            Geometry::Wkb => (DataType::Binary, "ogc.wkb", None),
        };
        let mut m = HashMap::from([(EXTENSION_NAME.to_string(), ext.to_string())]);
        if let Some(meta) = meta {
            m.insert(EXTENSION_METADATA.into(), meta);
        }
        let source = if g == Geometry::Wkb { Source::Wkb } else { Source::GeoArrowPoint };
        columns.push(Column { source, field: Arc::new(Field::new(name, ty, false).with_metadata(m)) });
        decode.extend([Dimension::X, Dimension::Y, Dimension::Z]);
    }
    if opts.node_columns {
        for (s, n, t) in [
            (Source::NodeLevel, "node_level", DataType::Int32),
            (Source::NodeX, "node_x", DataType::Int32),
            (Source::NodeY, "node_y", DataType::Int32),
            (Source::NodeZ, "node_z", DataType::Int32),
            (Source::PointIndex, "point_index", DataType::UInt32),
        ] {
            columns.push(Column { source: s, field: Arc::new(Field::new(unique(n.into()), t, false)) });
        }
    }
    let meta = HashMap::from([("las:point_format".to_string(), format.layout.format.to_string())]);
    let schema = Arc::new(Schema::new_with_metadata(columns.iter().map(|c| c.field.clone()).collect::<Vec<_>>(), meta));
    let mut query = q.clone();
    decode.dedup();
    query.dims = Some(decode);
    Ok(Plan { columns, schema, query, batch_rows: opts.batch_rows })
}
