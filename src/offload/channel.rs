//! What passes between the loop and a blocking handler's thread, and the signals they
//! share.
//!
//! * The body: [`Feed`] pieces, from the loop's `BodyFeed` (`offload/stream.rs`) to the
//!   handler's [`Incoming`] end (read through `Request::body`, `request.rs`).
//! * The response: [`Out`] pieces, from the writer's [`Outgoing`] end
//!   (`response/sink.rs`) to the loop, which writes them to the socket.
//! * [`CloseAfter`]: whether the connection closes after this response, the request
//!   side's word, which the writer reads before it fixes the head.
//! * [`ClientGone`]: the loop's word that nobody is left to answer.
//!
//! Each channel is bounded, and each side pokes the other's loop (`offload/poke.rs`)
//! after it moves a piece.

use std::any::Any;
use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use http::HeaderMap;

use super::poke::Poke;
use super::turn::{Direct, Turn};
use super::wait::Waiter;
use crate::error::Reject;
use crate::mem::Buffer;
use crate::upgrade::Takeover;

/// Most body bytes left unread by a blocking handler that are drained, to keep the
/// connection for the next request; past this, the connection closes after the response
/// (Go's `maxPostHandlerReadBytes`). Reading more would let a client make the server read
/// a large upload nobody wants.
pub(crate) const MAX_DRAIN: u64 = 256 * 1024;

/// The request side's word to the response: the connection closes after this response
/// (Go's `closeAfterReply`). Shared by a request's body and its response writer (and, for a
/// blocking handler, the loop's end of the exchange), it is the one thing the writer asks
/// besides the request's and the handler's own `Connection` fields. Set by whatever learns
/// that the connection cannot carry another request:
///
/// * a read past a [`max_bytes`](crate::max_bytes) limit: the rest of the body is unread;
/// * a blocking handler done with its request while more than [`MAX_DRAIN`] bytes of the
///   body are unread, or with a body found malformed;
/// * a shutdown that begins while a blocking handler runs (the loop sets it);
/// * a client that waits for `100 Continue` before a blocking handler's body: set from
///   the start, and cleared by the loop as it sends the `100 Continue` the handler's first
///   read asks for. A head fixed before then closes the connection: the client may send
///   the body next, or give up on it. Nothing else can set the flag before that moment
///   but a shutdown, which the loop sets again right after.
///
/// An inline request has one only if a `max_bytes` limit is set (no allocation otherwise).
#[derive(Debug, Clone, Default)]
pub(crate) struct CloseAfter(Arc<AtomicBool>);

impl CloseAfter {
    /// The connection closes after this response.
    pub(crate) fn set(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Withdraws the close a pending `100 Continue` called for (the loop, as it sends it).
    pub(crate) fn clear(&self) {
        self.0.store(false, Ordering::Release);
    }

    pub(crate) fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// A `max_bytes` limit's flag, which a read past the limit sets, serves an inline
/// request's writer as its close signal.
impl From<Arc<AtomicBool>> for CloseAfter {
    fn from(flag: Arc<AtomicBool>) -> CloseAfter {
        CloseAfter(flag)
    }
}

/// A blocking request's client has gone: the loop saw the connection reset, or its end of
/// file after the request was handed to the pool, or closed the connection itself. Set by
/// the loop (as the request's `Stream` goes); read by the pool thread before the handler
/// starts (a request whose client left while it waited in the queue is dropped unrun) and
/// by the response writer before each write (which then fails, even for a `HEAD` response
/// whose body bytes would otherwise be dropped unseen).
///
/// It is also the request's cancellation (`Request::done`): a receiver, made when the
/// handler first asks, is disconnected when the flag is set.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientGone(Arc<Gone>);

#[derive(Debug, Default)]
pub(crate) struct Gone {
    flag: AtomicBool,
    /// The cancellation's channel, once asked for; its sender is dropped as the flag is set.
    waiter: Mutex<Option<(Sender<()>, Receiver<()>)>>,
}

impl ClientGone {
    pub(crate) fn set(&self) {
        self.0.flag.store(true, Ordering::Release);
        let mut waiter = self.0.waiter.lock().unwrap_or_else(|e| e.into_inner());
        waiter.take();
    }

    pub(crate) fn is_set(&self) -> bool {
        self.0.flag.load(Ordering::Acquire)
    }

    /// A receiver disconnected once the flag is set (at once, if it is).
    pub(crate) fn receiver(&self) -> Receiver<()> {
        let mut waiter = self.0.waiter.lock().unwrap_or_else(|e| e.into_inner());
        if self.is_set() {
            return crossbeam_channel::bounded(0).1; // its sender is gone already
        }
        let (_, receiver) = waiter.get_or_insert_with(|| crossbeam_channel::bounded(0));
        receiver.clone()
    }
}

/// The handler's end of a streamed body.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub(crate) rx: Receiver<Feed>,
    /// Wakes the connection after each piece taken, so it reads the socket again.
    pub(crate) poke: Poke,
    /// Set at the first read: the handler wants the body (`100 Continue` may go out).
    pub(crate) asked: Arc<AtomicBool>,
    /// Shared with the response writer and the loop.
    pub(crate) close_after: CloseAfter,
    /// Bytes of a `Content-Length` body not yet received; `None` for a chunked body.
    pub(crate) left: Option<u64>,
    /// Where the handler waits for the next piece; the loop wakes it after each it sends.
    pub(crate) arrivals: Arc<Waiter>,
}

impl Incoming {
    /// The next piece, waiting for it; `None` once the connection has gone.
    pub(crate) fn recv(&self) -> Option<Feed> {
        self.arrivals.wait(|| match self.rx.try_recv() {
            Ok(feed) => Some(Some(feed)),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(None),
        })
    }
}

/// What the loop sends a blocking handler's body reader.
#[derive(Debug)]
pub(crate) enum Feed {
    /// The next piece of the body.
    Data(Buffer),
    /// The body is complete; a chunked one's trailer fields, if it had any.
    End(Option<Box<HeaderMap>>),
    /// The body is malformed (a bad chunk line or trailer section): the loop answers for
    /// it, or closes the connection, and reads fail.
    Malformed(Reject),
}

impl Feed {
    /// Body bytes this holds.
    pub(crate) fn len(&self) -> usize {
        match self {
            Feed::Data(piece) => piece.len(),
            Feed::End(_) | Feed::Malformed(_) => 0,
        }
    }
}

/// A blocking request's own read and write deadlines (Go's `ResponseController`
/// `SetReadDeadline` and `SetWriteDeadline`), set by its handler and read by the loop, which
/// the handler pokes to look again.
#[derive(Debug)]
pub(crate) struct Deadlines {
    /// The instant the stored times count from.
    base: Instant,
    read: AtomicU64,
    write: AtomicU64,
}

/// What a request's own deadline says, for reading its body or writing its response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deadline {
    /// None set: the server's timeouts apply.
    Server,
    /// Lifted: no limit from the start of the transfer (the stall limit still applies).
    Lifted,
    /// This instant.
    At(Instant),
}

/// Stored for `Deadline::Server`; `u64::MAX` for `Lifted`, else milliseconds past the base
/// plus one.
const SERVER: u64 = 0;
const LIFTED: u64 = u64::MAX;

impl Deadlines {
    pub(crate) fn new(base: Instant) -> Deadlines {
        Deadlines {
            base,
            read: AtomicU64::new(SERVER),
            write: AtomicU64::new(SERVER),
        }
    }

    pub(crate) fn set_read(&self, at: Option<Instant>) {
        self.read.store(self.encode(at), Ordering::Release);
    }

    pub(crate) fn set_write(&self, at: Option<Instant>) {
        self.write.store(self.encode(at), Ordering::Release);
    }

    pub(crate) fn read(&self) -> Deadline {
        self.decode(self.read.load(Ordering::Acquire))
    }

    pub(crate) fn write(&self) -> Deadline {
        self.decode(self.write.load(Ordering::Acquire))
    }

    fn encode(&self, at: Option<Instant>) -> u64 {
        let Some(at) = at else {
            return LIFTED;
        };
        let millis = at.saturating_duration_since(self.base).as_millis();
        u64::try_from(millis).unwrap_or(LIFTED - 1).min(LIFTED - 2) + 1
    }

    fn decode(&self, stored: u64) -> Deadline {
        match stored {
            SERVER => Deadline::Server,
            LIFTED => Deadline::Lifted,
            millis => Deadline::At(self.base + Duration::from_millis(millis - 1)),
        }
    }
}

/// A blocking handler's way back to its connection: a bounded channel of encoded bytes.
/// A full channel blocks the handler's writes, so a slow client slows the handler.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub(crate) tx: crossbeam_channel::Sender<Out>,
    /// Emptied pieces the connection hands back, filled again in place of new buffers.
    pub(crate) spare: crossbeam_channel::Receiver<Buffer>,
    /// Wakes the connection after each send.
    pub(crate) poke: Poke,
    /// Set once the client is gone: every write fails from then on.
    pub(crate) gone: ClientGone,
    /// The request's own deadlines, which the handler may set.
    pub(crate) deadlines: Arc<Deadlines>,
    /// Whether the writer may write to the socket itself (see `offload/turn.rs`).
    pub(crate) turn: Arc<Turn>,
}

/// What a blocking handler's response sends its connection.
#[derive(Debug)]
pub(crate) enum Out {
    /// Encoded response bytes, in order.
    Bytes(Buffer),
    /// The rest of the body, read from a file by the loop as the client takes it (see
    /// [`ResponseWriter::send_file`]). Only the end mark follows.
    File(FileBody),
    /// The connection goes to this protocol once the bytes before it are written (a
    /// `101` or a hijack); nothing else of the response follows.
    Upgrade(Box<Takeover>),
    /// The response is complete; `close` says the connection must close after it. `spent`
    /// is what the loop allocated for the request, sent back for the loop to drop (see
    /// `offload/exchange.rs`).
    End { close: bool, spent: Spent },
}

/// What a blocking request's job owned, on its way back to be freed by the loop that
/// allocated it.
pub(crate) type Spent = Box<dyn Any + Send>;

/// Bytes of a file that make up the rest of a response body.
#[derive(Debug)]
pub(crate) struct FileBody {
    pub(crate) file: File,
    /// Where the next byte to send is in the file.
    pub(crate) offset: u64,
    /// Bytes still to send.
    pub(crate) left: u64,
}

/// A blocking handler's writes are sent to the connection in pieces of about this size,
/// even without a flush, so a large response streams instead of piling up.
pub(crate) const STREAM_PIECE: usize = 64 * 1024;

/// Response pieces in flight from a blocking handler to its connection. Two of 64 KiB hold
/// what four of 32 KiB did, with half the hand-offs between the handler's thread and the
/// loop: `GET /bytes/1048576`, about 630 -> 470 ms of server CPU per GiB (four alternating
/// pairs of runs; with `mem`'s reuse keeping 4 MiB of small mappings, not 1, or the larger
/// pieces were fresh mappings again). (The body's channel is `offload/feed.rs`'s.)
pub(crate) const CHANNEL_PIECES: usize = 2;

impl Outgoing {
    /// Writes as much of `parts` (one stream of bytes, at most `turn::MAX_PARTS`) as the
    /// socket takes now, if the loop lends it (see `offload/turn.rs`, which says when this
    /// waits for the loop): the count, or `NotLent`. An error means the client is gone.
    /// Never while the request has a write deadline of its own, which the loop enforces.
    pub(crate) fn write_direct(&self, parts: &[&[u8]]) -> io::Result<Direct> {
        if matches!(self.deadlines.write(), Deadline::At(_)) {
            return Ok(Direct::NotLent);
        }
        let direct = self.turn.write(parts);
        if direct.is_err() {
            self.poke.poke(); // the loop learns of it from the socket
        }
        direct
    }

    /// Sends the end mark, and with it what the request's job owned (see `Out::End`).
    /// Nothing is sent once the connection is gone: `spent` is then dropped here.
    pub(crate) fn end(&self, close: bool, spent: Spent) {
        let _ = self.send(Out::End { close, spent });
    }

    /// Sends `out` to the connection, waiting while the channel is full, and pokes it. An
    /// error means the connection is gone (and `out` was dropped here).
    ///
    /// Unlike the body's reader (`Incoming::recv`), the writer waits as `crossbeam-channel`
    /// does: it spins, then yields before it sleeps. Where the loop and the handler share
    /// a core, a yield hands the core to the loop, which has pieces to write and makes the
    /// room, and the handler goes on without a wake-up: parking at once and being woken
    /// made `GET /bytes/1048576` 12% slower. (Where the socket may be lent, the writer
    /// rarely meets a full channel: it waits for the loop before its next write instead,
    /// see `offload/turn.rs`.)
    pub(crate) fn send(&self, out: Out) -> io::Result<()> {
        self.turn.sending();
        self.tx
            .send(out)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the connection is closed"))?;
        self.poke.poke();
        Ok(())
    }
}
