//! The connection's socket: what it knows of the read side ([`ReadSide`]), one read into
//! the input ([`fill`]), and writing the output ([`flush`]). Over TLS the stream
//! (`transport.rs`) reads and writes plaintext; encrypted records it has not sent yet
//! (its backlog) go first.

use std::io::{self, Read, Write};

use poller::Readiness;

use super::phase::Phase;
use crate::buf::{InBuf, OutBuf};
use crate::error::{interrupted, would_block};
use crate::local::Local;
use crate::offload::stream::Stream;
use crate::stats::LoopStats;
use crate::transport::Transport;

/// What the connection knows of its socket's read side. mio is edge-triggered: a
/// readable edge is reported once, so the connection remembers that bytes may wait until
/// a read says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReadSide {
    /// Nothing to read until the next readable edge.
    Drained,
    /// The socket may hold unread bytes.
    Readable,
    /// The kernel reported the client's FIN. Reads go on until they reach its end of
    /// file: a short read no longer means drained, and no further edge will announce it.
    Closing,
    /// The client's end of file was read: no request follows what is buffered.
    Ended,
}

impl ReadSide {
    /// A readiness event for the socket.
    pub(super) fn edge(&mut self, readiness: Readiness) {
        *self = match *self {
            ReadSide::Ended => ReadSide::Ended,
            _ if readiness.read_closed => ReadSide::Closing,
            ReadSide::Drained if readiness.readable || readiness.hangup => ReadSide::Readable,
            unchanged => unchanged,
        };
    }

    /// A read may find bytes (or the end of file).
    pub(super) fn may_read(self) -> bool {
        matches!(self, ReadSide::Readable | ReadSide::Closing)
    }

    /// The client has closed its sending side (its end of file may still wait unread).
    pub(super) fn client_done(self) -> bool {
        matches!(self, ReadSide::Closing | ReadSide::Ended)
    }

    /// The client's end of file has been read.
    pub(super) fn ended(self) -> bool {
        self == ReadSide::Ended
    }
}

/// What one read found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Filled {
    /// Nothing: the socket is drained, or the input is full at the header limit.
    Nothing,
    /// This many bytes were read.
    Bytes(usize),
    /// The client's end of file.
    Eof,
}

/// One read for a connection in `phase`: straight into a blocking handler's next body
/// piece where its body takes bytes as they come, else into `input` (which may grow to the
/// header limit). Notes in `side` what it says of the read side.
pub(super) fn fill(
    stream: &mut Transport,
    input: &mut InBuf,
    phase: &mut Phase,
    side: &mut ReadSide,
    local: &mut Local,
) -> io::Result<Filled> {
    let stats = &local.stats;
    if let Phase::Blocking(body) = phase {
        if input.is_empty() {
            if let Some(filled) = fill_body(stream, body, side, stats)? {
                return Ok(filled);
            }
        }
    }
    let spare = input.spare(&mut local.buffers, local.config.max_header_bytes);
    if spare.is_empty() {
        return Ok(Filled::Nothing); // full at the header limit: the head is refused
    }
    let filled = read(stream, spare, side, stats)?;
    if let Filled::Bytes(n) = filled {
        input.filled(n);
    }
    Ok(filled)
}

/// One read straight into a blocking handler's next body piece, where its body takes
/// bytes as they come (`Stream::body_room`); `None` where it does not, and the input
/// buffer takes the read.
fn fill_body(
    stream: &mut Transport,
    body: &mut Stream,
    side: &mut ReadSide,
    stats: &LoopStats,
) -> io::Result<Option<Filled>> {
    let Some(room) = body.body_room() else {
        return Ok(None);
    };
    let filled = read(stream, room, side, stats)?;
    if let Filled::Bytes(n) = filled {
        body.body_arrived(n);
    }
    Ok(Some(filled))
}

/// One read from `stream` into `buf`, noting in `side` what it says of the read side.
#[inline] // into `fill`, on every request's path
fn read(
    stream: &mut Transport,
    buf: &mut [u8],
    side: &mut ReadSide,
    stats: &LoopStats,
) -> io::Result<Filled> {
    let room = buf.len();
    loop {
        match stream.read(buf) {
            Ok(0) => {
                *side = ReadSide::Ended;
                return Ok(Filled::Eof);
            }
            Ok(n) => {
                stats.bytes_read.add(n as u64);
                if *side != ReadSide::Closing {
                    // A short read drains the socket; a full one may have left more.
                    *side = if stream.may_hold_more(n, room) {
                        ReadSide::Readable
                    } else {
                        ReadSide::Drained
                    };
                }
                return Ok(Filled::Bytes(n));
            }
            Err(e) if would_block(&e) => {
                if *side != ReadSide::Closing {
                    *side = ReadSide::Drained;
                }
                return Ok(Filled::Nothing);
            }
            Err(e) if interrupted(&e) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Writes queued output until done or the kernel's buffer is full. A short write means
/// full: the rest waits for the next writable edge. Returns whether anything was written.
pub(super) fn flush(
    stream: &mut Transport,
    output: &mut OutBuf,
    stats: &LoopStats,
) -> io::Result<bool> {
    let mut wrote = false;
    if stream.has_backlog() {
        match stream.send_backlog() {
            Ok(sent) => wrote = sent,
            Err(e) if would_block(&e) => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    while output.pending() > 0 {
        let pending = &output.bytes[output.pos..];
        match stream.write(pending) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                stats.bytes_written.add(n as u64);
                let short = n < pending.len();
                wrote = true;
                output.advance(n);
                if short {
                    break;
                }
            }
            Err(e) if would_block(&e) => break,
            Err(e) if interrupted(&e) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(wrote)
}
