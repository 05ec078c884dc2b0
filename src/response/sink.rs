//! The writer's other modes. Heads without framing: interim 1xx responses, and an
//! upgrade's `101` with the protocol that takes the connection over (`upgrade.rs`). A
//! blocking handler's response: the writer sends its encoded bytes to the connection
//! through a bounded channel instead of a connection's buffer (the loop's side is
//! `offload/stream.rs`). What the wrappers in `helpers.rs` need: a held response
//! (`timeout_handler`) and a body limit's signal (`max_bytes`). Last, what a loop needs to
//! keep one writer in place for all its inline responses. See "Life of a response" in
//! `response.rs`.

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use http::{HeaderMap, StatusCode, Version};

use super::{Parts, ResponseWriter, Sent};
use crate::encode;
use crate::mem::Buffer;
use crate::offload::channel::{CloseAfter, FileBody, Out, Outgoing, STREAM_PIECE};
use crate::offload::turn::{unwritten, Direct};
use crate::parse::Facts;
use crate::upgrade::{Protocol, Takeover};

impl ResponseWriter {
    /// A writer for a blocking handler: its bytes go to the connection through `sink`, and
    /// `close_after` is the signal it shares with the request's body and the loop.
    pub(crate) fn streaming(
        facts: Facts,
        date: &[u8],
        sink: Outgoing,
        close_after: CloseAfter,
    ) -> ResponseWriter {
        let mut w = ResponseWriter::new(Parts::default(), facts, date);
        w.sink = Some(Box::new(sink));
        w.close_after = Some(close_after);
        w
    }

    /// The writer of a blocking handler (its bytes go through a channel).
    #[cfg(feature = "websocket")]
    pub(crate) fn is_blocking(&self) -> bool {
        self.sink.is_some()
    }

    /// Fails once the loop has found the client gone (blocking writers only): a handler
    /// streaming to a client that left learns it at its next write, even one whose bytes
    /// would never reach the socket (the body of a `HEAD` response).
    pub(super) fn check_client(&self) -> io::Result<()> {
        match &self.sink {
            Some(sink) if sink.gone.is_set() => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the client is gone",
            )),
            _ => Ok(()),
        }
    }

    /// Sends the encoded bytes to the connection (blocking writers only). An error means
    /// the connection is gone.
    pub(super) fn send_out(&mut self) -> io::Result<()> {
        let Some(sink) = &self.sink else {
            return Ok(());
        };
        if self.out.is_empty() {
            return Ok(());
        }
        // Straight to the socket while the loop lends it; what it does not take now goes
        // through the channel.
        if let Direct::Wrote(n) = sink.write_direct(&[&self.out])? {
            self.out.discard_front(n);
            if self.out.is_empty() {
                return Ok(());
            }
        }
        let bytes = std::mem::take(&mut self.out);
        if let Ok(spare) = sink.spare.try_recv() {
            self.out = spare; // empty, with room for a piece
        }
        sink.send(Out::Bytes(bytes))
    }

    /// Writes a whole piece of the body straight from the handler's bytes to the socket,
    /// where nothing is staged before it, no filter changes it, and the loop lends the
    /// socket (Go's writer does the same with a large write): no copy, a chunk's framing
    /// written around it in the same call. What the socket does not take now is staged,
    /// framed, and sent through the loop. Returns false, having done nothing, where the
    /// piece must be staged.
    pub(super) fn write_through(&mut self, piece: &[u8]) -> io::Result<bool> {
        let Some(sink) = &self.sink else {
            return Ok(false);
        };
        let framed = match self.sent {
            Sent::Fixed { .. } | Sent::UntilClose => false,
            Sent::Chunked => true,
            Sent::Nothing | Sent::Bodiless => return Ok(false),
        };
        if piece.len() < STREAM_PIECE || self.filter.is_some() {
            return Ok(false);
        }
        if !self.body.is_empty() || !self.out.is_empty() {
            return Ok(false);
        }
        let mut line = [0; encode::CHUNK_SIZE_LINE];
        let chunk = [
            encode::chunk_size_line(&mut line, piece.len()),
            piece,
            b"\r\n",
        ];
        let parts: &[&[u8]] = if framed { &chunk } else { &chunk[1..2] };
        let Direct::Wrote(n) = sink.write_direct(parts)? else {
            return Ok(false);
        };
        if let Sent::Fixed { left } = self.sent {
            self.sent = Sent::Fixed {
                left: left - piece.len() as u64,
            };
        }
        for rest in unwritten(parts, n) {
            self.out.extend_from_slice(rest);
        }
        self.send_out()?;
        Ok(true)
    }

    /// Hands the rest of the body, `len` bytes of `file` from `offset`, to the connection's
    /// loop, which sends them as the client takes them (the file server's way: a slow
    /// download then costs a socket and an open file, not a pool thread). Returns false,
    /// having sent nothing but what was staged, where the loop cannot take them: an inline
    /// writer, or a head whose `Content-Length` does not promise exactly `len` more bytes
    /// (a chunked or encoded response).
    pub(crate) fn send_file(&mut self, file: File, offset: u64, len: u64) -> io::Result<bool> {
        if self.sink.is_none() || self.held.is_some() {
            return Ok(false);
        }
        io::Write::flush(self)?;
        if self.sent != (Sent::Fixed { left: len }) {
            return Ok(false);
        }
        let Some(sink) = &self.sink else {
            return Ok(false);
        };
        let body = FileBody {
            file,
            offset,
            left: len,
        };
        sink.send(Out::File(body))?;
        self.sent = Sent::Fixed { left: 0 };
        Ok(true)
    }

    /// Sets when reading the rest of the request body must end (Go's
    /// `ResponseController.SetReadDeadline`): later, the connection closes, and the
    /// handler's reads fail. `None` lifts the limit (the server's `read_timeout` no longer
    /// applies; its `stall_timeout` still does). For [blocking](crate::blocking) handlers;
    /// an inline one has its whole body already, and gets `Unsupported`.
    pub fn set_read_deadline(&mut self, at: Option<Instant>) -> io::Result<()> {
        let sink = self.sink.as_ref().ok_or(io::ErrorKind::Unsupported)?;
        sink.deadlines.set_read(at);
        sink.poke.poke();
        Ok(())
    }

    /// Sets when the client must have taken what the response has written (Go's
    /// `ResponseController.SetWriteDeadline`): a client still not reading by then is cut
    /// off, and the handler's writes fail. `None` lifts the limit, as a Server-Sent Events
    /// stream wants (the server's `write_timeout` no longer applies; its `stall_timeout`,
    /// which cuts off a client that takes nothing for that long, still does). For
    /// [blocking](crate::blocking) handlers; an inline one gets `Unsupported`.
    pub fn set_write_deadline(&mut self, at: Option<Instant>) -> io::Result<()> {
        let sink = self.sink.as_ref().ok_or(io::ErrorKind::Unsupported)?;
        sink.deadlines.set_write(at);
        sink.poke.poke();
        Ok(())
    }

    /// Sends the bytes left after the handler returned (blocking writers only). The end
    /// mark follows from the request's job (`Outgoing::end`); a connection gone by now
    /// takes neither. Inlined: an inline writer, every small response, skips the call.
    #[inline]
    pub(super) fn send_rest(&mut self) {
        if self.sink.is_some() {
            let _ = self.send_out();
        }
    }
}

/// What the wrappers in `helpers.rs` need of a response.
impl ResponseWriter {
    /// Closes the connection after this response once `hit` is set (`max_bytes`). A
    /// blocking handler's writer has its body's signal already, which the same read sets;
    /// an inline one takes the limit's flag as its signal.
    pub(crate) fn watch_body_limit(&mut self, hit: Arc<AtomicBool>) {
        self.close_after
            .get_or_insert_with(|| CloseAfter::from(hit));
    }

    /// No status chosen and no body byte written yet.
    pub(crate) fn is_untouched(&self) -> bool {
        !self.wrote_header && self.sent == Sent::Nothing && self.body.is_empty()
    }

    /// A writer for the same request that holds the whole response in memory, and fails
    /// writes once `timed_out` is set (`timeout_handler`).
    pub(crate) fn held(&self, timed_out: Arc<AtomicBool>) -> ResponseWriter {
        let mut w = ResponseWriter::new(Parts::default(), self.facts, &self.date);
        w.held = Some(timed_out);
        w.close_after = self.close_after.clone();
        w
    }

    /// A held response taken apart: the status (if one was chosen), headers and body.
    pub(crate) fn into_held(self) -> (Option<StatusCode>, HeaderMap, Buffer) {
        (
            self.wrote_header.then_some(self.status),
            self.headers,
            self.body,
        )
    }

    /// A held writer's writes fail once its time is up (Go's `ErrHandlerTimeout`).
    pub(super) fn check_held(&self) -> io::Result<()> {
        match &self.held {
            Some(timed_out) if timed_out.load(Ordering::Acquire) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "http: Handler timeout",
            )),
            _ => Ok(()),
        }
    }
}

/// An upgrade: the `101` head, and the protocol that takes the connection over.
impl ResponseWriter {
    /// Answers `101 Switching Protocols` with the header fields set so far, and hands the
    /// connection to `protocol` on its loop (see [`upgrade`](crate::upgrade)). From an
    /// inline handler the switch comes when it returns; from a [blocking](crate::blocking)
    /// one, at once: the head goes out now, and the handler goes on with what it kept of
    /// the protocol (a channel, say). Later writes fail. Fails, changing nothing, if the
    /// head has gone out or the request is not HTTP/1.1; from a blocking handler, also if
    /// the connection is gone.
    pub fn upgrade(&mut self, protocol: impl Protocol) -> io::Result<()> {
        self.switch(Box::new(Takeover(Box::new(protocol), None)), true)
    }

    /// Takes the connection over (Go's `Hijack`), for a [blocking](crate::blocking)
    /// handler: nothing more is written for the response, and the returned stream reads
    /// what the client sends (bytes already read past the request first) and writes to it
    /// as they are. Fails if the head has gone out, from an inline handler (which
    /// [`upgrade`](ResponseWriter::upgrade)s instead), or if the connection is gone. The
    /// server still owns the connection: its `close` ends it, and a graceful shutdown
    /// waits for it up to its deadline, then closes it.
    pub fn hijack(&mut self) -> io::Result<crate::Hijacked> {
        let (bridge, hijacked) = crate::hijack::pair();
        self.switch(Box::new(Takeover(Box::new(bridge), None)), false)?;
        Ok(hijacked)
    }

    /// Hands the connection to `takeover`, after a `101` head if `head`, else with nothing
    /// written (a hijack).
    pub(crate) fn switch(&mut self, takeover: Box<Takeover>, head: bool) -> io::Result<()> {
        let refused = if self.held.is_some() || (!head && self.sink.is_none()) {
            Some("a hijack is for blocking handlers; an inline one upgrades")
        } else if self.sent != Sent::Nothing {
            Some("the response's head has gone out")
        } else if self.facts.version != Version::HTTP_11 {
            Some("only an HTTP/1.1 request can be upgraded")
        } else {
            None
        };
        if let Some(why) = refused {
            return Err(io::Error::new(io::ErrorKind::Unsupported, why));
        }
        self.status = StatusCode::SWITCHING_PROTOCOLS; // no body may follow
        self.wrote_header = true;
        if self.sink.is_none() {
            self.upgrade = Some(takeover);
            return Ok(());
        }
        self.check_client()?;
        if head {
            self.encode_bare_head(self.status);
        }
        let sink = self.sink.as_ref().expect("a blocking writer");
        let bytes = std::mem::take(&mut self.out);
        if !bytes.is_empty() {
            sink.send(Out::Bytes(bytes))?;
        }
        sink.send(Out::Upgrade(takeover))?;
        self.sent = Sent::Bodiless;
        Ok(())
    }

    /// A head as the handler set it, with no framing: a `101`, or an interim 1xx.
    fn encode_bare_head(&mut self, status: StatusCode) {
        encode::status_line(&mut self.out, self.facts.version, status);
        for (name, value) in &self.headers {
            encode::header(&mut self.out, name, value);
        }
        self.out.extend_from_slice(b"\r\n");
    }

    /// Sends an interim (1xx) response at once, with the fields set so far; the final
    /// response follows. Not on HTTP/1.0, and `101` only through `upgrade`.
    pub(super) fn informational(&mut self, status: StatusCode) {
        if status == StatusCode::SWITCHING_PROTOCOLS || self.facts.version == Version::HTTP_10 {
            log::warn!("write_header({status}) is not supported here; ignored");
            return;
        }
        if self.sent == Sent::Nothing && !self.wrote_header {
            self.encode_bare_head(status);
        }
    }

    /// Whether an inline handler has upgraded: the response ends with
    /// [`complete_upgrade`](ResponseWriter::complete_upgrade), not `complete`.
    pub(crate) fn upgrading(&self) -> bool {
        self.upgrade.is_some()
    }

    /// Ends a `101` response: its head as the handler set it (no body, no framing), and
    /// the protocol for the connection.
    pub(crate) fn complete_upgrade(&mut self) -> Option<Box<Takeover>> {
        let takeover = self.upgrade.take();
        self.encode_bare_head(self.status);
        self.body.clear();
        self.headers.clear();
        takeover
    }
}

/// What a loop needs to keep one writer for all its inline responses (`conn/inline.rs`).
impl ResponseWriter {
    /// The output buffer with the finished response in it, handed back to the connection.
    pub(crate) fn take_out(&mut self) -> Buffer {
        std::mem::take(&mut self.out)
    }

    /// Lets go of a staging buffer that grew past `max` bytes of capacity, so one big
    /// response does not keep its buffer for every later one; `None` lets go of the
    /// header map's capacity too (the loop's last connection closed).
    pub(crate) fn release_staging(&mut self, max: Option<usize>) {
        if max.map_or(true, |max| self.body.capacity() > max) {
            self.body = Buffer::default();
        }
        if max.is_none() {
            self.headers = HeaderMap::new();
        }
    }
}
