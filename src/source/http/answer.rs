//! What one HTTP answer means for a range read, apart from the socket: its status,
//! `Content-Range`, `Content-Length` and body become the bytes asked for, a reason
//! to try again, or a final error. [`super::HttpSource`] feeds real answers in;
//! unit tests and the fuzzer (`fuzz/`) feed made-up ones.

use std::io::Read;
use std::ops::Range;

/// How much of an error response body is quoted in a message.
const ERROR_BODY_QUOTE: u64 = 300;

/// One answer, as far as a range read cares about it.
pub struct Answer<R> {
    pub status: u16,
    /// The `Content-Range` header as sent (lossily decoded), if any.
    pub content_range: Option<String>,
    /// The `Content-Length` header as sent, if any.
    pub content_length: Option<String>,
    /// The body, read no further than needed.
    pub body: R,
}

/// What one attempt came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Attempt<T> {
    Done(T),
    /// Worth another try; `what` is "status 503 Service Unavailable" or "error: ...".
    Transient(String),
    /// Worth another try after the wait the server asked for (`Retry-After`).
    TransientAfter(String, std::time::Duration),
    /// Worth one more try only (a refused connection).
    RetryOnce(String),
    /// Trying again will not help.
    Fatal(String),
}

/// The parts of a `Content-Range: bytes a-b/total` header (`a-b` inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    /// `None` for `bytes */total` (the answer to an unsatisfiable range).
    pub range: Option<(u64, u64)>,
    /// `None` for `bytes a-b/*` (size unknown to the server).
    pub total: Option<u64>,
}

impl<R: Read> Answer<R> {
    fn content_length(&self) -> Option<u64> {
        self.content_length.as_deref()?.trim().parse().ok()
    }

    fn content_range(&self) -> Result<ContentRange, String> {
        let Some(text) = &self.content_range else {
            return Err(format!("answer {} without Content-Range", self.status));
        };
        parse_content_range(text).ok_or_else(|| format!("answer with a malformed Content-Range: {text}"))
    }

    /// Appends up to `limit` bytes of the body to `out`.
    fn read_body(&mut self, limit: u64, out: &mut Vec<u8>) -> std::io::Result<()> {
        (&mut self.body).take(limit).read_to_end(out).map(|_| ())
    }

    /// Reads and drops `n` bytes of the body; fewer is an error. Returns how many were read.
    fn skip_body(&mut self, n: u64) -> std::io::Result<u64> {
        let skipped = std::io::copy(&mut (&mut self.body).take(n), &mut std::io::sink())?;
        if skipped < n {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "body ended early"));
        }
        Ok(skipped)
    }

    /// Classifies an answer that is not what we can use, quoting its body.
    pub fn refusal<T>(&mut self) -> Attempt<T> {
        let mut text = Vec::new();
        let _ = self.read_body(ERROR_BODY_QUOTE, &mut text);
        let mut what = format!("status {}", status_text(self.status));
        let quote = String::from_utf8_lossy(&text).split_whitespace().collect::<Vec<_>>().join(" ");
        if !quote.is_empty() {
            what.push_str(&format!(" ({quote})"));
        }
        if is_transient_status(self.status) { Attempt::Transient(what) } else { Attempt::Fatal(what) }
    }

    /// The answer to `open`'s request for bytes `0..want` (`want` >= 1): the first
    /// bytes (at most `want`) and the object size, if the answer tells it.
    /// `whole_object` is called when the server ignored the range (status 200).
    pub fn open(&mut self, want: u64, whole_object: &dyn Fn(Option<u64>)) -> Attempt<(Vec<u8>, Option<u64>)> {
        match self.status {
            206 => {
                let cr = match self.content_range() {
                    Ok(cr) => cr,
                    Err(what) => return Attempt::Transient(what),
                };
                let Some((start, end)) = cr.range else {
                    return Attempt::Transient("answer 206 without a byte range in Content-Range".into());
                };
                if start != 0 || end >= want || cr.total.is_some_and(|t| end >= t) {
                    return Attempt::Transient(format!(
                        "answer Content-Range: bytes {start}-{end}/{} to a request for bytes 0-{}",
                        cr.total.map_or("*".to_string(), |t| t.to_string()),
                        want - 1
                    ));
                }
                let n = end + 1;
                let mut head = Vec::with_capacity(n as usize);
                if let Err(e) = self.read_body(n.saturating_add(1), &mut head) {
                    return Attempt::Transient(format!("error reading the body: {e}"));
                }
                if head.len() as u64 != n {
                    return Attempt::Transient(format!("body of {} bytes for the {n} bytes of Content-Range", head.len()));
                }
                Attempt::Done((head, cr.total))
            }
            200 => {
                let declared = self.content_length();
                whole_object(declared);
                let limit = declared.map_or(want, |len| len.min(want));
                let mut body = Vec::new();
                if let Err(e) = self.read_body(limit, &mut body) {
                    return Attempt::Transient(format!("error reading the body: {e}"));
                }
                match declared {
                    Some(len) if (body.len() as u64) < limit => {
                        Attempt::Transient(format!("body ended after {} bytes of an object of {len} bytes", body.len()))
                    }
                    Some(len) => Attempt::Done((body, Some(len))),
                    None => {
                        // No Content-Length: the body's length is the size. Count the
                        // rest without keeping it, so a large object costs no memory.
                        match std::io::copy(&mut self.body, &mut std::io::sink()) {
                            Ok(rest) => {
                                let len = body.len() as u64 + rest;
                                Attempt::Done((body, Some(len)))
                            }
                            Err(e) => Attempt::Transient(format!("error reading the body: {e}")),
                        }
                    }
                }
            }
            416 => match self.content_range() {
                // The answer for an empty object is `bytes */0`.
                Ok(ContentRange { range: None, total: Some(total) }) => Attempt::Done((Vec::new(), Some(total))),
                _ => Attempt::Done((Vec::new(), None)),
            },
            _ => self.refusal(),
        }
    }

    /// The answer to a `HEAD` request: the object size.
    pub fn head(&mut self) -> Attempt<u64> {
        if self.status != 200 {
            return self.refusal();
        }
        match self.content_length() {
            Some(len) => Attempt::Done(len),
            None => Attempt::Fatal(
                "the server tells the size of the object neither in Content-Range nor in a HEAD Content-Length".into(),
            ),
        }
    }

    /// The answer to a request for exactly `range` (non-empty, inside an object of
    /// `len` bytes): exactly those bytes, or why not. `whole_object` is called when
    /// the server ignored the range (status 200).
    pub fn fetch(&mut self, range: &Range<u64>, len: u64, whole_object: &dyn Fn(Option<u64>)) -> Attempt<Vec<u8>> {
        let n = range.end - range.start;
        let mut data = Vec::new();
        match self.status {
            206 => {
                let cr = match self.content_range() {
                    Ok(cr) => cr,
                    Err(what) => return Attempt::Transient(what),
                };
                if let Some(total) = cr.total.filter(|&t| t != len) {
                    return Attempt::Fatal(format!(
                        "the object changed: it had {len} bytes when opened and now has {total}"
                    ));
                }
                if cr.range != Some((range.start, range.end - 1)) {
                    let got = cr.range.map_or("*".to_string(), |(a, b)| format!("{a}-{b}"));
                    return Attempt::Transient(format!("answer Content-Range: bytes {got} (not the range asked for)"));
                }
                if let Some(declared) = self.content_length().filter(|&d| d != n) {
                    return Attempt::Transient(format!("body of {declared} bytes for the {n} bytes of Content-Range"));
                }
                data.reserve_exact(n as usize);
                if let Err(e) = self.read_body(n.saturating_add(1), &mut data) {
                    return Attempt::Transient(format!("error reading the body after {} of {n} bytes: {e}", data.len()));
                }
                if data.len() as u64 != n {
                    return Attempt::Transient(format!("body of {} bytes for the {n} bytes of Content-Range", data.len()));
                }
                Attempt::Done(data)
            }
            200 => {
                let declared = self.content_length();
                if let Some(now) = declared.filter(|&d| d != len) {
                    return Attempt::Fatal(format!("the object changed: it had {len} bytes when opened and now has {now}"));
                }
                whole_object(declared);
                if let Err(e) = self.skip_body(range.start) {
                    return Attempt::Transient(format!(
                        "error reading the whole-object body up to byte {}: {e}",
                        range.start
                    ));
                }
                data.reserve_exact(n as usize);
                if let Err(e) = self.read_body(n, &mut data) {
                    return Attempt::Transient(format!("error reading the whole-object body: {e}"));
                }
                if data.len() as u64 != n {
                    return Attempt::Transient(format!("whole-object body ended at byte {}", range.start + data.len() as u64));
                }
                // The rest of the body is not read: dropping the answer closes the connection.
                Attempt::Done(data)
            }
            _ => self.refusal(),
        }
    }
}

fn status_text(status: u16) -> String {
    match ureq::http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()) {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

/// 5xx and 429 (too many requests) are worth another try; 408 (request timeout) too.
fn is_transient_status(status: u16) -> bool {
    (500..600).contains(&status) || matches!(status, 408 | 429)
}

/// Parses `bytes a-b/total`, `bytes a-b/*` and `bytes */total`.
pub fn parse_content_range(value: &str) -> Option<ContentRange> {
    let value = value.trim();
    let (unit, rest) = value.split_once(' ')?;
    if !unit.eq_ignore_ascii_case("bytes") {
        return None;
    }
    let (range, total) = rest.trim().split_once('/')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse::<u64>().ok()?),
    };
    let range = match range.trim() {
        "*" => None,
        r => {
            let (a, b) = r.split_once('-')?;
            let (a, b) = (a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?);
            if a > b {
                return None;
            }
            Some((a, b))
        }
    };
    if range.is_none() && total.is_none() {
        return None;
    }
    Some(ContentRange { range, total })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer<'a>(status: u16, cr: Option<&str>, cl: Option<&str>, body: &'a [u8]) -> Answer<&'a [u8]> {
        Answer { status, content_range: cr.map(Into::into), content_length: cl.map(Into::into), body }
    }

    fn no_warning(_: Option<u64>) {
        panic!("a 206 answer is not a whole object");
    }

    #[test]
    fn content_range_forms() {
        let full = ContentRange { range: Some((0, 65535)), total: Some(123456) };
        assert_eq!(parse_content_range("bytes 0-65535/123456"), Some(full));
        assert_eq!(parse_content_range("Bytes  0-65535/123456 "), Some(full));
        assert_eq!(parse_content_range("bytes 10-19/*"), Some(ContentRange { range: Some((10, 19)), total: None }));
        assert_eq!(parse_content_range("bytes */0"), Some(ContentRange { range: None, total: Some(0) }));
        for bad in ["bytes */*", "bytes 5-4/10", "items 0-1/2", "bytes 0-1", "bytes a-b/10", "bytes 0-1/x", ""] {
            assert_eq!(parse_content_range(bad), None, "{bad}");
        }
    }

    #[test]
    fn fetch_takes_exactly_the_range() {
        let body = b"0123456789";
        let got = answer(206, Some("bytes 10-19/100"), Some("10"), body).fetch(&(10..20), 100, &no_warning);
        assert_eq!(got, Attempt::Done(body.to_vec()));
        // A body longer or shorter than Content-Range is retried, never cut or returned short.
        for b in [&body[..9], b"0123456789A".as_slice()] {
            let got = answer(206, Some("bytes 10-19/100"), None, b).fetch(&(10..20), 100, &no_warning);
            assert!(matches!(got, Attempt::Transient(ref m) if m.contains("body of")), "{got:?}");
        }
        let wrong = answer(206, Some("bytes 11-20/100"), None, body).fetch(&(10..20), 100, &no_warning);
        assert!(matches!(wrong, Attempt::Transient(ref m) if m.contains("not the range asked for")), "{wrong:?}");
        let changed = answer(206, Some("bytes 10-19/99"), None, body).fetch(&(10..20), 100, &no_warning);
        assert!(matches!(changed, Attempt::Fatal(ref m) if m.contains("changed")), "{changed:?}");
    }

    #[test]
    fn whole_object_answers_are_cut() {
        let object: Vec<u8> = (0..100u8).collect();
        let warned = std::cell::Cell::new(None);
        let got = answer(200, None, Some("100"), &object).fetch(&(10..20), 100, &|d| warned.set(Some(d)));
        assert_eq!(got, Attempt::Done(object[10..20].to_vec()));
        assert_eq!(warned.get(), Some(Some(100)));
        let short = answer(200, None, None, &object[..15]).fetch(&(10..20), 100, &|_| {});
        assert!(matches!(short, Attempt::Transient(ref m) if m.contains("ended at byte 15")), "{short:?}");
        // Without Content-Length, open measures the object and keeps only what it asked for.
        let opened = answer(200, None, None, &object).open(30, &|_| {});
        assert_eq!(opened, Attempt::Done((object[..30].to_vec(), Some(100))));
    }

    #[test]
    fn open_answers() {
        let got = answer(206, Some("bytes 0-3/10"), None, b"abcd").open(8, &no_warning);
        assert_eq!(got, Attempt::Done((b"abcd".to_vec(), Some(10))));
        // More than asked for, or a range past the total, is retried.
        for cr in ["bytes 0-8/10", "bytes 0-3/3", "bytes 1-3/10"] {
            let got = answer(206, Some(cr), None, b"abcd").open(8, &no_warning);
            assert!(matches!(got, Attempt::Transient(_)), "{cr}: {got:?}");
        }
        assert_eq!(answer(416, Some("bytes */0"), None, b"").open(8, &no_warning), Attempt::Done((Vec::new(), Some(0))));
        let refused = answer(404, None, None, b"  no\nsuch   key ").open(8, &no_warning);
        assert_eq!(refused, Attempt::Fatal("status 404 Not Found (no such key)".into()));
        assert!(matches!(answer(503, None, None, b"").open(8, &no_warning), Attempt::Transient(_)));
        assert_eq!(answer(200, None, Some(" 42 "), b"").head(), Attempt::Done(42));
        assert!(matches!(answer(200, None, None, b"").head(), Attempt::Fatal(_)));
    }
}
