//! [`ResponseWriter`]: what a handler writes to, and the final decisions about the head.
//!
//! # Life of a response
//!
//! 1. **Staged.** The handler sets headers with [`headers_mut`](ResponseWriter::headers_mut),
//!    picks a status with [`write_header`](ResponseWriter::write_header) (200 if it never
//!    does) and writes body bytes, which collect in a per-loop buffer.
//! 2. **Head decided.** The head is fixed the first time bytes must leave the buffer: when
//!    the handler returns (the whole body is known, so it gets `Content-Length`) or when it
//!    calls [`flush`](std::io::Write::flush) first (then the length is the handler's
//!    `Content-Length` if it set one, else unknown: chunked for HTTP/1.1, delimited by
//!    closing the connection for HTTP/1.0). HEAD, 1xx, 204 and 304
//!    responses never carry a body.
//! 3. **Encoded.** `encode.rs` appends the head and framed body to the connection's output
//!    buffer, after any earlier pipelined responses.
//! 4. **Sent.** Back in `conn.rs`, the loop writes the output buffer to the socket, all
//!    responses of one batch in one `write`.
//!
//! The handler runs on the event loop, so a flushed chunk reaches the socket when the handler
//! returns; it is framed as a chunk all the same. A [blocking](crate::blocking) handler's
//! bytes go to its connection through a channel instead (`response/sink.rs`).
//!
//! Whether the connection closes after the response is decided when the head is fixed:
//! the request's `Connection`, the handler's, and the request side's [`CloseAfter`] signal.

use std::io::{self, Write};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, DATE, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Version};

use crate::encode::{self, BodyField};
use crate::filter::{Chain, Filter};
use crate::mem::{Buffer, MAP_THRESHOLD};
use crate::offload::channel::{CloseAfter, Outgoing, STREAM_PIECE};
use crate::parse::Facts;
use crate::upgrade::Takeover;

mod sink;

/// Writes one response (Go's `http.ResponseWriter`).
///
/// ```
/// use std::io::Write;
/// use http::{header, HeaderValue, StatusCode};
/// use nethttp::{Request, ResponseWriter};
///
/// fn created(w: &mut ResponseWriter, _r: &mut Request) {
///     w.headers_mut()
///         .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
///     w.write_header(StatusCode::CREATED);
///     let _ = w.write_all(br#"{"id":1}"#);
/// }
/// ```
#[derive(Debug)]
pub struct ResponseWriter {
    status: StatusCode,
    /// `write_header` was called, or a body write implied 200.
    wrote_header: bool,
    headers: HeaderMap,
    /// Body bytes not yet encoded into `out`.
    body: Buffer,
    /// The connection's output buffer; earlier pipelined responses come first.
    out: Buffer,
    date: [u8; 29],
    facts: Facts,
    sent: Sent,
    /// The head said `Connection: close` (or the body is delimited by the close): what is
    /// learned later cannot take that back.
    closing: bool,
    /// For a blocking handler: where encoded bytes go instead of a connection's buffer.
    sink: Option<Box<Outgoing>>,
    /// The request side's signal that the connection closes after this response. Always
    /// there for a blocking handler; for an inline one, only once a
    /// [`max_bytes`](crate::max_bytes) limit is set.
    close_after: Option<CloseAfter>,
    /// Only for the inner writer of a [`timeout_handler`](crate::timeout_handler): the whole
    /// response stays in memory (`flush` sends nothing) until the wrapper copies it out, and
    /// once the flag is set (the time is up) writes fail.
    held: Option<Arc<AtomicBool>>,
    /// Middleware's view of the response ([`add_filter`](ResponseWriter::add_filter)).
    filter: Option<Box<dyn Filter>>,
    /// The protocol that takes the connection over after this `101` response (boxed
    /// again: a thin pointer keeps the writer small).
    upgrade: Option<Box<Takeover>>,
}

/// How much of the response has been encoded into the output buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    /// Nothing yet: the head is still open.
    Nothing,
    /// A head with the handler's `Content-Length`; body bytes follow as they are. `left`
    /// is how many the head still promises, never less than the bytes staged in `body`.
    Fixed { left: u64 },
    /// A head with `Transfer-Encoding: chunked`; body bytes follow as chunks.
    Chunked,
    /// A head without a length (HTTP/1.0); the body ends when the connection closes.
    UntilClose,
    /// A head for a response that has no body (HEAD, 1xx, 204, 304).
    Bodiless,
}

/// The reusable buffers a `ResponseWriter` borrows from its loop and connection.
#[derive(Debug, Default)]
pub(crate) struct Parts {
    pub(crate) headers: HeaderMap,
    pub(crate) body: Buffer,
    pub(crate) out: Buffer,
}

impl ResponseWriter {
    pub(crate) fn new(parts: Parts, facts: Facts, date: &[u8]) -> ResponseWriter {
        let mut w = ResponseWriter {
            status: StatusCode::OK,
            wrote_header: false,
            headers: parts.headers,
            body: parts.body,
            out: Buffer::default(),
            date: [b' '; 29],
            facts,
            sent: Sent::Nothing,
            closing: false,
            sink: None,
            close_after: None,
            held: None,
            filter: None,
            upgrade: None,
        };
        w.reset(parts.out, facts, date);
        w
    }

    /// Readies the writer for a new response into `out`, keeping its header map and
    /// staging buffer (cleared, capacity kept): a loop keeps one writer in place for all
    /// its inline responses instead of moving one in and out per request.
    // Small and run for every request: inlined (docs/performance.md, "Where the time goes").
    #[inline]
    pub(crate) fn reset(&mut self, out: Buffer, facts: Facts, date: &[u8]) {
        self.status = StatusCode::OK;
        self.wrote_header = false;
        self.out = out;
        self.date.copy_from_slice(&date[..29]);
        self.facts = facts;
        self.sent = Sent::Nothing;
        self.closing = false;
        self.close_after = None;
        // Every way a response ends leaves these empty; a loop's writer never has a sink
        // or a hold (those are for blocking and timed handlers' own writers).
        debug_assert!(self.sink.is_none() && self.held.is_none());
        debug_assert!(self.filter.is_none() && self.upgrade.is_none());
    }

    /// The response header fields. Changes after the head is sent (on the first flush, or
    /// when the handler returns) have no effect.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The response header fields, to change.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// Sets the status (Go's `WriteHeader`). Only the first call counts; a later one is
    /// logged and ignored. Without a call, the first write implies `200 OK`.
    /// Informational statuses (say `103 Early Hints`) are sent ahead of the final response,
    /// with the headers set so far; `101` needs a connection takeover and is ignored.
    pub fn write_header(&mut self, status: StatusCode) {
        if status.is_informational() {
            self.informational(status);
            return;
        }
        if self.wrote_header {
            log::warn!(
                "superfluous write_header({status}), status is already {}",
                self.status
            );
            return;
        }
        self.status = status;
        self.wrote_header = true;
    }

    /// Adds a [`Filter`] that sees, and may change, the status, the header fields and
    /// every body byte as they go out, and the end of the response: what middleware wraps
    /// a writer with in Go. A filter added later sits nearer the handler (its output goes
    /// through the earlier ones); one that changes the body's length goes first. Once the
    /// head has gone out, adding one has no effect.
    pub fn add_filter(&mut self, filter: impl Filter + 'static) {
        if self.sent != Sent::Nothing {
            log::warn!("add_filter after the response's head was sent: ignored");
            return;
        }
        let inner: Box<dyn Filter> = Box::new(filter);
        self.filter = Some(match self.filter.take() {
            None => inner,
            Some(outer) => Box::new(Chain { inner, outer }),
        });
    }

    /// The status of the response (200 until `write_header` says otherwise).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Encodes the head now, before the body is complete: with the handler's
    /// `Content-Length` if it declared one that the staged bytes fit (Go honours an
    /// explicit length), else chunked or until close.
    fn start_stream(&mut self) {
        if let Some(filter) = &mut self.filter {
            filter.head(&mut self.status, &mut self.headers, None);
        }
        let declared = self
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
            .filter(|&n| n >= self.body.len() as u64);
        self.sent = if self.facts.head || !body_allowed(self.status) {
            Sent::Bodiless
        } else if let Some(left) = declared {
            Sent::Fixed { left }
        } else if self.facts.version == Version::HTTP_11 {
            Sent::Chunked
        } else {
            Sent::UntilClose
        };
        let length = matches!(self.sent, Sent::Fixed { .. }).then_some(declared);
        self.encode_head(Length::Known(length.flatten()));
    }

    /// An inline handler that declared its `Content-Length` and has staged
    /// [`MAP_THRESHOLD`] bytes or more gets its head fixed now, and its body then goes straight
    /// into the output, which is given room for all of it at once: a large response is
    /// held once, not staged and then copied.
    fn fix_large_head(&mut self) {
        if self.held.is_some() || self.facts.head || self.filter.is_some() {
            return;
        }
        if self.sent == Sent::Nothing {
            let declared = self.declared().length;
            if !declared.is_some_and(|n| n >= self.body.len() as u64) {
                return; // the length is known only once the handler returns
            }
            self.start_stream();
            if let Sent::Fixed { left } = self.sent {
                self.out.reserve(usize::try_from(left).unwrap_or(0));
            }
        }
        if matches!(self.sent, Sent::Fixed { .. } | Sent::UntilClose) {
            self.emit_body();
        }
    }

    /// Moves staged body bytes into the output, through the filter if there is one, framed
    /// as the head promised.
    fn emit_body(&mut self) {
        self.filter_staged();
        self.emit_staged();
    }

    /// Passes the staged body bytes through the filter.
    fn filter_staged(&mut self) {
        let Some(filter) = &mut self.filter else {
            return;
        };
        if self.body.is_empty() {
            return;
        }
        let mut out = Vec::with_capacity(self.body.len());
        filter.body(&self.body, &mut out);
        self.body.clear();
        self.body.extend_from_slice(&out);
    }

    /// The handler has returned: stages what the filter adds at the end.
    fn end_filter(&mut self) {
        if let Some(filter) = &mut self.filter {
            let mut out = Vec::new();
            filter.end(&mut out);
            self.body.extend_from_slice(&out);
        }
    }

    /// Moves staged body bytes into the output as they are.
    fn emit_staged(&mut self) {
        let staged = self.body.len() as u64;
        match self.sent {
            Sent::Chunked => encode::chunk(&mut self.out, &self.body),
            Sent::Nothing | Sent::Bodiless => {}
            // Into an empty output the staged bytes go as they are, not copied: a blocking
            // handler's pieces after the first (whose head went before them).
            _ if self.out.is_empty() => std::mem::swap(&mut self.out, &mut self.body),
            _ => self.out.extend_from_slice(&self.body),
        }
        if let Sent::Fixed { left } = self.sent {
            self.sent = Sent::Fixed {
                left: left - staged,
            };
        }
        self.body.clear();
    }

    /// Completes the response after the handler returned. Returns the buffers and whether
    /// the connection must close after this response.
    pub(crate) fn finish(mut self) -> (Parts, bool) {
        let close = self.complete();
        (self.into_parts(), close)
    }

    /// [`finish`](Self::finish) in place: the response is encoded into the output buffer
    /// (see [`take_out`](Self::take_out)). Returns whether the connection must close after
    /// this response.
    pub(crate) fn complete(&mut self) -> bool {
        if self.filter.is_some() {
            self.finish_filter();
        }
        let close = match self.sent {
            Sent::Nothing => {
                let close = self.encode_head(Length::Whole);
                if !self.facts.head && body_allowed(self.status) {
                    self.out.extend_from_slice(&self.body);
                }
                close
            }
            Sent::Chunked => {
                self.emit_body();
                encode::last_chunk(&mut self.out);
                self.must_close()
            }
            Sent::UntilClose => {
                self.emit_body();
                true
            }
            Sent::Fixed { .. } => {
                self.emit_body();
                let short = matches!(self.sent, Sent::Fixed { left } if left > 0);
                if short {
                    log::warn!(
                        "handler wrote less than its Content-Length; closing the connection"
                    );
                }
                short || self.must_close()
            }
            Sent::Bodiless => self.must_close(),
        };
        self.body.clear();
        self.headers.clear();
        self.send_rest();
        close
    }

    /// The buffers back, for the loop to reuse.
    #[inline(always)] // on every response: moved in place, not copied out and back
    pub(super) fn into_parts(self) -> Parts {
        Parts {
            headers: self.headers,
            body: self.body,
            out: self.out,
        }
    }

    /// Runs the filter over the rest of the response: the head if it has not gone out yet
    /// (the whole body is then known), the staged bytes, and the end, which are left staged
    /// for `finish` to frame.
    fn finish_filter(&mut self) {
        if self.sent == Sent::Nothing {
            let length = self.body.len() as u64;
            // The type is sniffed from the body as the handler wrote it, not as a filter
            // (a compressor) turns it.
            let bodied = body_allowed(self.status);
            if bodied && length > 0 && !self.headers.contains_key(CONTENT_TYPE) {
                let sniffed = crate::sniff::detect_content_type(&self.body);
                self.headers
                    .insert(CONTENT_TYPE, HeaderValue::from_static(sniffed));
            }
            if let Some(filter) = &mut self.filter {
                filter.head(&mut self.status, &mut self.headers, Some(length));
            }
        }
        self.filter_staged();
        self.end_filter();
        self.filter = None; // what is staged now goes out as it is
    }

    /// Ends a response whose handler panicked: a 500 if nothing was encoded yet, else the
    /// connection must close (the client sees a truncated response).
    pub(crate) fn abort(mut self) -> (Parts, bool) {
        let close = self.complete_aborted();
        (self.into_parts(), close)
    }

    /// [`abort`](Self::abort) in place, as [`complete`](Self::complete) is `finish`.
    pub(crate) fn complete_aborted(&mut self) -> bool {
        self.upgrade = None;
        self.body.clear();
        self.headers.clear();
        if self.sent != Sent::Nothing {
            self.filter = None; // what is left of the body is cut off, not filtered
            self.send_rest();
            return true;
        }
        self.status = StatusCode::OK;
        self.wrote_header = false;
        error(
            self,
            "Internal Server Error",
            StatusCode::INTERNAL_SERVER_ERROR,
        );
        self.complete()
    }

    /// The length for `Content-Length` when the whole body is known.
    fn known_length(&self, declared: Option<u64>) -> Option<u64> {
        let actual = self.body.len() as u64;
        if self.facts.head {
            return declared.or((actual > 0).then_some(actual));
        }
        if declared.is_some_and(|d| d != actual) {
            log::warn!("handler declared Content-Length {declared:?} but wrote {actual} bytes; sending {actual}");
        }
        Some(actual)
    }

    /// Appends the head, with the `Content-Length` that `length` says, in one pass over the
    /// handler's fields. Returns whether the connection must close after this response.
    fn encode_head(&mut self, length: Length) -> bool {
        let out = &mut self.out;
        encode::status_line(out, self.facts.version, self.status);
        let (mut has_date, mut has_type) = (false, false);
        let mut declared = Declared::default();
        for (name, value) in &self.headers {
            // Framing and connection fields are the server's to write: what the handler
            // said in them is noted here, in the same pass.
            if name == CONTENT_LENGTH || name == CONNECTION {
                declared.note(name, value);
                continue;
            }
            let not_modified = self.status == StatusCode::NOT_MODIFIED;
            if name == TRANSFER_ENCODING || (name == CONTENT_TYPE && not_modified) {
                continue;
            }
            has_date |= name == DATE;
            has_type |= name == CONTENT_TYPE;
            encode::header(out, name, value);
        }
        let length = match length {
            Length::Known(length) => length,
            Length::Whole => self.known_length(declared.length),
        };
        let close = self.must_close_given(declared) || self.sent == Sent::UntilClose;
        self.closing = close;
        let out = &mut self.out;
        let bodied = body_allowed(self.status);
        let framing = match (self.sent, length) {
            (Sent::Chunked, _) => BodyField::Chunked,
            (_, Some(n)) if bodied => BodyField::Length(n),
            _ => BodyField::None,
        };
        encode::server_fields(out, (!has_date).then_some(&self.date), framing);
        if !has_type && bodied && !self.body.is_empty() {
            let sniffed = crate::sniff::detect_content_type(&self.body);
            encode::raw_header(out, b"Content-Type", sniffed.as_bytes());
        }
        if close && self.facts.version == Version::HTTP_11 {
            encode::raw_header(out, b"Connection", b"close");
        } else if !close && self.facts.version == Version::HTTP_10 {
            encode::raw_header(out, b"Connection", b"keep-alive");
        }
        out.extend_from_slice(b"\r\n");
        close
    }

    /// The connection closes after this response: the client asked, the handler did, the
    /// request side did (see [`CloseAfter`]), or the head already said so.
    fn must_close(&self) -> bool {
        self.closing || self.must_close_given(self.declared())
    }

    /// [`must_close`](Self::must_close), with the handler's fields already scanned.
    // Small and run for every request: inlined (docs/performance.md, "Where the time goes").
    #[inline]
    fn must_close_given(&self, declared: Declared) -> bool {
        let request_side = self.close_after.as_ref().is_some_and(CloseAfter::is_set);
        // A blocking handler may answer as a shutdown begins, before its loop has heard of
        // it: it asks the shutdown notice itself (an inline one's request already knew).
        let shutting_down = self.sink.is_some() && crate::cancel::shutdown_begun();
        self.facts.close || declared.close || request_side || shutting_down
    }

    /// What the handler's own fields say about framing, in one pass over them (a few
    /// fields, so cheaper than hashing a name per question).
    fn declared(&self) -> Declared {
        let mut declared = Declared::default();
        for (name, value) in &self.headers {
            declared.note(name, value);
        }
        declared
    }
}

impl Write for ResponseWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.check_held()?;
        self.check_client()?;
        self.wrote_header = true;
        if !body_allowed(self.status) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "response status does not allow a body",
            ));
        }
        if let Sent::Fixed { left } = self.sent {
            if (self.body.len() + buf.len()) as u64 > left {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "write exceeds the declared Content-Length",
                ));
            }
        }
        if self.sent == Sent::Bodiless {
            return Ok(buf.len());
        }
        if self.sink.is_some() {
            // A blocking handler's bytes leave in pieces, however large its writes: what
            // waits in its channel stays within the connection's share of the budget.
            for piece in buf.chunks(STREAM_PIECE) {
                if self.write_through(piece)? {
                    continue;
                }
                self.body.extend_from_slice(piece);
                if self.body.len() >= STREAM_PIECE {
                    self.flush()?;
                }
            }
        } else {
            self.body.extend_from_slice(buf);
            if self.body.len() >= MAP_THRESHOLD {
                self.fix_large_head();
            }
        }
        Ok(buf.len())
    }

    /// Fixes the head (with the declared `Content-Length`, else chunked) and sends what is
    /// buffered.
    fn flush(&mut self) -> io::Result<()> {
        if self.held.is_some() {
            return self.check_held(); // held until the handler returns
        }
        self.check_client()?;
        self.wrote_header = true;
        if self.sent == Sent::Nothing {
            self.start_stream();
        }
        self.emit_body();
        self.send_out()
    }
}

/// The framing fields a handler set.
#[derive(Debug, Default, Clone, Copy)]
struct Declared {
    /// Its `Content-Length`, if valid.
    length: Option<u64>,
    /// Its `Connection` has the `close` token.
    close: bool,
}

impl Declared {
    /// Notes what one of the handler's fields says, if it is `Content-Length` or
    /// `Connection`.
    fn note(&mut self, name: &HeaderName, value: &HeaderValue) {
        if name == CONTENT_LENGTH {
            self.length = value.to_str().ok().and_then(|v| v.parse().ok());
        } else if name == CONNECTION {
            self.close |= value
                .as_bytes()
                .split(|&b| b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"close"));
        }
    }
}

/// The length [`encode_head`](ResponseWriter::encode_head) writes in `Content-Length`.
enum Length {
    /// Decided already (`None`: the head has no `Content-Length`).
    Known(Option<u64>),
    /// The whole body is staged: its length, or for a HEAD response what the handler
    /// declared (see `known_length`).
    Whole,
}

/// Statuses that carry no body (RFC 9110 §15): 1xx, 204 and 304.
fn body_allowed(status: StatusCode) -> bool {
    !(status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED)
}

/// Replies with `code` and the plain-text message `msg` (Go's `http.Error`). The handler
/// should write nothing more.
///
/// ```
/// use nethttp::{Request, ResponseWriter};
/// use http::StatusCode;
///
/// fn forbidden(w: &mut ResponseWriter, _r: &mut Request) {
///     nethttp::error(w, "no entry", StatusCode::FORBIDDEN);
/// }
/// ```
pub fn error(w: &mut ResponseWriter, msg: &str, code: StatusCode) {
    let headers = w.headers_mut();
    headers.remove(CONTENT_LENGTH);
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    w.write_header(code);
    let _ = w.write_all(msg.as_bytes());
    let _ = w.write_all(b"\n");
}

#[cfg(test)]
mod tests;
