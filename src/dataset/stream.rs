//! The files a dataset query meets, one after another, as one stream of items (point
//! batches, Arrow batches): a large file streams through its own iterator, its nodes
//! decoding in parallel; a window of small files ([`Dataset::window`]) decodes side by
//! side on the dataset's pool, since a file of one or two nodes gives the pool nothing
//! to share. Errors name their file; after one, the stream ends.

use super::Dataset;
use crate::error::Result;
use crate::reader::Query;
use std::collections::VecDeque;

/// One file's items, in its order.
pub(crate) type FileItems<T> = Box<dyn Iterator<Item = Result<T>> + Send>;

pub(crate) struct TileStream<T> {
    tiles: Vec<usize>,
    /// Position in `tiles` of the next file not yet started.
    next: usize,
    /// A large file, streamed.
    current: Option<(usize, FileItems<T>)>,
    /// The items of a window of small files, decoded side by side.
    ready: VecDeque<Result<(usize, T)>>,
    done: bool,
}

impl<T: Send> TileStream<T> {
    pub(crate) fn new(tiles: Vec<usize>) -> Self {
        TileStream { tiles, next: 0, current: None, ready: VecDeque::new(), done: false }
    }

    /// The next item of query `q` with its file's index; `open` gives file `i`'s items.
    pub(crate) fn next(
        &mut self,
        ds: &Dataset,
        q: &Query,
        open: impl Fn(usize) -> Result<FileItems<T>> + Sync + Send,
    ) -> Option<Result<(usize, T)>> {
        loop {
            if let Some(r) = self.ready.pop_front() {
                if r.is_err() {
                    self.fail();
                }
                return Some(r);
            }
            if self.done {
                return None;
            }
            if let Some((i, it)) = &mut self.current {
                match it.next() {
                    Some(Ok(b)) => return Some(Ok((*i, b))),
                    Some(Err(e)) => {
                        let e = ds.tile_error(*i, e);
                        self.fail();
                        return Some(Err(e));
                    }
                    None => self.current = None,
                }
            }
            let rest = &self.tiles[self.next.min(self.tiles.len())..];
            if rest.is_empty() {
                self.done = true;
                return None;
            }
            let group = match ds.window(q, rest) {
                Ok(n) => rest[..n.min(rest.len())].to_vec(),
                Err(e) => {
                    self.fail();
                    return Some(Err(e));
                }
            };
            self.next += group.len();
            if let [i] = group[..] {
                match open(i) {
                    Ok(it) => self.current = Some((i, it)),
                    Err(e) => {
                        self.fail();
                        return Some(Err(ds.tile_error(i, e)));
                    }
                }
                continue;
            }
            let decoded = ds.par_tiles(&group, |i| open(i).and_then(|it| it.collect::<Result<Vec<T>>>()).map_err(|e| ds.tile_error(i, e)));
            for (&i, r) in group.iter().zip(decoded) {
                match r {
                    Ok(items) => self.ready.extend(items.into_iter().map(|b| Ok((i, b)))),
                    Err(e) => {
                        self.ready.push_back(Err(e));
                        break;
                    }
                }
            }
        }
    }

    fn fail(&mut self) {
        self.done = true;
        self.ready.clear();
        self.current = None;
    }
}
