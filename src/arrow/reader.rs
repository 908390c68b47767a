//! [`ArrowBatchReader`]: node batches from the reader's parallel decode, cut and
//! joined into record batches of at most `batch_rows` rows.

use super::fill::{Piece, build};
use super::schema::Plan;
use crate::error::{Error, Result};
use crate::reader::ReaderRef;
use crate::{PointBatch, PointIter, VoxelKey};
use arrow_array::{RecordBatch, RecordBatchOptions, RecordBatchReader};
use arrow_schema::{ArrowError, SchemaRef};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// The points of a query as Arrow record batches, in the reader's order (see
/// [`crate::arrow`]). An iterator of `Result<RecordBatch, ArrowError>` (a
/// `RecordBatchReader`); [`ArrowBatchReader::next_batch`] gives the crate's own errors.
/// After an error it ends. Memory: the decode window of [`PointIter`] plus the nodes
/// one batch spans.
pub struct ArrowBatchReader<'r> {
    reader: ReaderRef<'r>,
    points: PointIter<'r>,
    plan: Arc<Plan>,
    /// Decoded nodes not yet fully delivered; `pos` points of the first are.
    pending: VecDeque<PointBatch>,
    pos: usize,
    /// Points in `pending` not yet delivered.
    available: usize,
    /// First point id of each data node (only with the `point_id` column).
    node_start: HashMap<VoxelKey, u64>,
    /// An error met while a batch was being gathered: returned after that batch.
    error: Option<Error>,
    done: bool,
}

impl<'r> ArrowBatchReader<'r> {
    pub(crate) fn new(reader: ReaderRef<'r>, points: PointIter<'r>, plan: Arc<Plan>) -> Result<Self> {
        let mut node_start = HashMap::new();
        if plan.columns.iter().any(|c| c.source == super::schema::Source::PointId) {
            // Every data node in file order, whatever the query (as GDAL numbers features).
            let mut next = 0u64;
            for n in reader.nodes(&crate::Query::new())? {
                node_start.insert(n.key, next);
                next += n.point_count.max(0) as u64;
            }
        }
        Ok(ArrowBatchReader {
            reader,
            points,
            plan,
            pending: VecDeque::new(),
            pos: 0,
            available: 0,
            node_start,
            error: None,
            done: false,
        })
    }

    /// The schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        self.plan.schema.clone()
    }

    /// The next batch, or None at the end; after an error, None.
    pub fn next_batch(&mut self) -> Option<Result<RecordBatch>> {
        if self.done {
            return None;
        }
        let want = self.plan.batch_rows;
        while self.available < want && self.error.is_none() {
            match self.points.next() {
                None => break,
                Some(Ok(b)) => {
                    if !b.is_empty() {
                        self.available += b.len();
                        self.pending.push_back(b);
                    }
                }
                Some(Err(e)) => self.error = Some(e),
            }
        }
        let rows = self.available.min(want);
        if rows == 0 {
            self.done = true;
            return self.error.take().map(Err);
        }
        let result = self.cut(rows);
        if result.is_err() {
            self.done = true;
        }
        Some(result)
    }

    /// Builds a batch of the next `rows` pending points and drops the nodes it used up.
    fn cut(&mut self, rows: usize) -> Result<RecordBatch> {
        let mut pieces = Vec::new();
        let (mut left, mut pos) = (rows, self.pos);
        for b in &self.pending {
            if left == 0 {
                break;
            }
            let len = (b.len() - pos).min(left);
            pieces.push(Piece { batch: b, start: pos, len });
            left -= len;
            pos = 0;
        }
        let columns = build(&self.plan, &pieces, rows, &self.node_start, &self.reader)?;
        drop(pieces);
        // Advance past what this batch took.
        let mut left = rows;
        while left > 0 {
            let Some(front) = self.pending.front() else { break };
            let rest = front.len() - self.pos;
            if rest <= left {
                left -= rest;
                self.pending.pop_front();
                self.pos = 0;
            } else {
                self.pos += left;
                left = 0;
            }
        }
        self.available -= rows;
        let opts = RecordBatchOptions::new().with_row_count(Some(rows));
        RecordBatch::try_new_with_options(self.plan.schema.clone(), columns, &opts)
            .map_err(|e| Error::invalid(format!("building an Arrow record batch: {e}")))
    }
}

impl Iterator for ArrowBatchReader<'_> {
    type Item = std::result::Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().map(|r| r.map_err(|e| ArrowError::ExternalError(Box::new(e))))
    }
}

impl super::BatchSource for ArrowBatchReader<'static> {
    fn schema(&self) -> SchemaRef {
        self.plan.schema.clone()
    }

    fn next_batch(&mut self) -> Option<Result<RecordBatch>> {
        ArrowBatchReader::next_batch(self)
    }
}

impl RecordBatchReader for ArrowBatchReader<'_> {
    fn schema(&self) -> SchemaRef {
        self.plan.schema.clone()
    }
}
