//! A dataset query as one Arrow stream: the files the query meets, one after another
//! (collection order), each through its own [`crate::Reader::arrow_shared`], under one
//! schema, the first such file's. A file whose columns differ (names, types) ends the
//! stream with an error naming it.

use super::Dataset;
use super::stream::{FileItems, TileStream};
use crate::arrow::{ArrowBatchReader, ArrowOptions, BatchSource};
use crate::arrow::schema::{META_OFFSET, META_SCALE};
use crate::error::{Error, Result};
use crate::Dimension;
use crate::reader::Query;
use arrow_array::{RecordBatch, RecordBatchOptions, RecordBatchReader};
use arrow_schema::{ArrowError, Field, Schema, SchemaRef};
use std::sync::Arc;

impl Dataset {
    /// The file whose schema a query's stream takes: the first the query meets, else
    /// (no file in the region) the collection's first.
    fn schema_file(&self, q: &Query) -> usize {
        self.tiles_for(q).first().copied().unwrap_or(0)
    }

    /// The dimensions named `names` in the file whose schema the query's stream takes
    /// (the first the query meets; see [`Dataset::arrow`]). An unknown name is an error
    /// naming that file.
    pub fn dims_by_name(&self, q: &Query, names: &[String]) -> Result<Vec<Dimension>> {
        let i = self.schema_file(q);
        let r = self.reader(i)?;
        let fmt = r.record_format();
        names.iter().map(|n| fmt.dim_by_name(n).ok_or_else(|| Error::invalid(format!("{}: no dimension named '{n}'", self.items[i].href)))).collect()
    }

    /// The schema [`Dataset::arrow`] gives for `q` and `opts`: that of the first file
    /// the query meets (opened to read it), without reading points.
    pub fn arrow_schema(&self, q: &Query, opts: &ArrowOptions) -> Result<SchemaRef> {
        q.validate()?;
        let i = self.schema_file(q);
        self.reader(i)?.arrow_schema(q, opts).map_err(|e| self.tile_error(i, e))
    }

    /// The points `q` selects as Arrow record batches (columns as [`crate::Reader::arrow`],
    /// docs/arrow.md), file after file. Files are opened as the stream reaches them.
    /// `q.dims` are the same [`crate::Dimension`]s in every file: extra-bytes columns
    /// are checked by name, so tiles that order them differently fail.
    pub fn arrow(self: &Arc<Self>, q: &Query, opts: &ArrowOptions) -> Result<DatasetArrow> {
        let schema = self.arrow_schema(q, opts)?;
        Ok(DatasetArrow {
            ds: self.clone(),
            q: q.clone(),
            opts: opts.clone(),
            schema,
            first: self.schema_file(q),
            stream: TileStream::new(self.tiles_for(q)),
        })
    }
}

/// The batches of [`Dataset::arrow`]: a `RecordBatchReader`, and a [`BatchSource`] for
/// [`crate::arrow::into_c_stream`]. Every batch carries the stream's schema (the field
/// metadata, such as `las:offset`, of its first file). After an error it ends.
pub struct DatasetArrow {
    ds: Arc<Dataset>,
    q: Query,
    opts: ArrowOptions,
    schema: SchemaRef,
    first: usize,
    stream: TileStream<RecordBatch>,
}

/// Why file `b`'s columns cannot join a stream of schema `a`, if they cannot: names and
/// types must match; integer columns with a scale and offset (raw coordinates) must
/// also match those, or their values would mean other numbers.
fn difference(a: &Schema, b: &Schema) -> Option<String> {
    let show = |f: &Field| format!("'{}' {}", f.name(), f.data_type());
    if a.fields().len() != b.fields().len() {
        let names = |s: &Schema| s.fields().iter().map(|f| f.name().as_str()).collect::<Vec<_>>().join(",");
        return Some(format!("{} columns ({}) where the stream has {} ({})", b.fields().len(), names(b), a.fields().len(), names(a)));
    }
    for (k, (x, y)) in a.fields().iter().zip(b.fields()).enumerate() {
        if x.name() != y.name() || x.data_type() != y.data_type() {
            return Some(format!("column {k} is {} where the stream has {}", show(y), show(x)));
        }
        let transform = |f: &Field| (f.metadata().get(META_SCALE).cloned(), f.metadata().get(META_OFFSET).cloned());
        if x.data_type().is_integer() && transform(x) != transform(y) {
            return Some(format!("column '{}' holds integers of another scale/offset", x.name()));
        }
    }
    None
}

/// File `i`'s batches, checked against the stream's schema (that of file `first`).
fn open_file(ds: &Dataset, q: &Query, opts: &ArrowOptions, schema: &Schema, first: usize, i: usize) -> Result<ArrowBatchReader<'static>> {
    let r = ds.reader(i)?.arrow_shared(q, opts).map_err(|e| ds.tile_error(i, e))?;
    if let Some(why) = difference(schema, &r.schema()) {
        return Err(Error::invalid(format!("tile {}: its Arrow columns differ from those of {}: {why}", ds.items[i].href, ds.items[first].href)));
    }
    Ok(r)
}

impl DatasetArrow {
    /// A batch of a file, under the stream's schema (the field metadata of the first file).
    fn restamp(&self, b: RecordBatch) -> Result<RecordBatch> {
        let opts = RecordBatchOptions::new().with_row_count(Some(b.num_rows()));
        RecordBatch::try_new_with_options(self.schema.clone(), b.columns().to_vec(), &opts).map_err(|e| Error::invalid(format!("building an Arrow record batch: {e}")))
    }

    pub fn next_batch(&mut self) -> Option<Result<RecordBatch>> {
        let (ds, q, opts, schema, first) = (&*self.ds, &self.q, &self.opts, &*self.schema, self.first);
        let next = self.stream.next(ds, q, |i| {
            let mut r = open_file(ds, q, opts, schema, first, i)?;
            Ok(Box::new(std::iter::from_fn(move || r.next_batch())) as FileItems<RecordBatch>)
        })?;
        Some(next.and_then(|(_, b)| self.restamp(b)))
    }
}

impl BatchSource for DatasetArrow {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn next_batch(&mut self) -> Option<Result<RecordBatch>> {
        DatasetArrow::next_batch(self)
    }
}

impl Iterator for DatasetArrow {
    type Item = std::result::Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().map(|r| r.map_err(|e| ArrowError::ExternalError(Box::new(e))))
    }
}

impl RecordBatchReader for DatasetArrow {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}
