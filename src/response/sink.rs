//! A blocking handler's response: the writer sends its encoded bytes to the connection
//! through a bounded channel instead of a connection's buffer (the loop's side is
//! `offload/stream.rs`). See "Life of a response" in `response.rs`.

use std::fs::File;
use std::io;
use std::time::Instant;

use super::{Parts, ResponseWriter, Sent};
use crate::offload::channel::{CloseAfter, FileBody, Out, Outgoing};
use crate::parse::Facts;

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
        let bytes = std::mem::take(&mut self.out);
        sink.tx
            .send(Out::Bytes(bytes))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the connection is closed"))?;
        sink.poke.poke();
        Ok(())
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
        sink.tx
            .send(Out::File(body))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the connection is closed"))?;
        sink.poke.poke();
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
    /// takes neither.
    pub(super) fn send_rest(&mut self) {
        let _ = self.send_out();
    }
}
