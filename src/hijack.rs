//! [`Hijacked`]: a connection taken over by a blocking handler (Go's `Hijacker`), as a
//! blocking `Read + Write`.
//!
//! The socket stays on its loop, in the server's hands: a [`Bridge`] protocol there
//! (`upgrade.rs`) moves the client's bytes, those already read past the request first,
//! into a bounded channel to the handler's thread, and the handler's writes from another
//! channel to the socket. The handler's thread wakes the loop through the connection's
//! waker. So a hijacked connection still counts in the memory budget, is closed by the
//! server's `close()` (the handler's reads then end and its writes fail), and a graceful
//! shutdown waits for it up to its deadline.

use std::io::{self, Read, Write};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError};

use crate::upgrade::{Handoff, Io, Protocol};

/// Pieces that may wait in each direction: the client's bytes for the handler, the
/// handler's for the client. Past it, the loop stops reading (TCP slows the client) or
/// the handler's write waits.
const PIECES: usize = 16;

/// The largest piece of the client's bytes sent to the handler at once.
const PIECE: usize = 16 * 1024;

/// The handler's side of a hijacked connection: blocking reads of what the client sends,
/// and writes that go to it as they are (nothing is framed or added). Dropping it (or its
/// writing half) closes the connection once what was written has gone out. Reading and
/// writing from two threads (a tunnel): [`split`](Hijacked::split).
///
/// ```no_run
/// use std::io::{Read, Write};
/// use nethttp::{blocking, Request, ResponseWriter};
///
/// // A line-based protocol written by hand, after a 200 that leaves the connection open.
/// let handler = blocking(|w: &mut ResponseWriter, _r: &mut Request| {
///     let Ok(mut conn) = w.hijack() else { return };
///     let _ = conn.write_all(b"HTTP/1.1 200 OK\r\n\r\nwelcome\n");
///     let mut buf = [0u8; 1024];
///     while let Ok(n @ 1..) = conn.read(&mut buf) {
///         let _ = conn.write_all(&buf[..n]);
///     }
/// });
/// ```
#[derive(Debug)]
pub struct Hijacked {
    reader: HijackedReader,
    writer: HijackedWriter,
}

/// The reading half of a [`Hijacked`] connection.
#[derive(Debug)]
pub struct HijackedReader {
    incoming: Receiver<Vec<u8>>,
    /// The rest of the piece a read did not take.
    partial: Vec<u8>,
    at: usize,
    shared: Arc<Handoff>,
    read_timeout: Option<Duration>,
}

/// The writing half of a [`Hijacked`] connection; dropping it closes the connection once
/// what was written has gone out.
#[derive(Debug)]
pub struct HijackedWriter {
    outgoing: Option<Sender<Vec<u8>>>,
    shared: Arc<Handoff>,
}

impl Hijacked {
    /// Makes a read that waits longer than `timeout` fail with `TimedOut` (`None`: wait
    /// for ever, the default).
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.reader.read_timeout = timeout;
    }

    /// The two halves, to read and write from different threads.
    pub fn split(self) -> (HijackedReader, HijackedWriter) {
        (self.reader, self.writer)
    }
}

impl Read for Hijacked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf)
    }
}

impl Write for Hijacked {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for HijackedReader {
    /// What the client sent; `Ok(0)` once it has closed (or the server closed the
    /// connection).
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at == self.partial.len() {
            let piece = match self.read_timeout {
                None => self.incoming.recv().ok(),
                Some(t) => match self.incoming.recv_timeout(t) {
                    Ok(piece) => Some(piece),
                    Err(RecvTimeoutError::Timeout) => return Err(io::ErrorKind::TimedOut.into()),
                    Err(RecvTimeoutError::Disconnected) => None,
                },
            };
            let Some(piece) = piece else {
                return Ok(0);
            };
            self.shared.queued.fetch_sub(piece.len(), Ordering::Relaxed);
            self.shared.wake(); // room in the channel: the loop may read again
            self.partial = piece;
            self.at = 0;
        }
        let n = buf.len().min(self.partial.len() - self.at);
        buf[..n].copy_from_slice(&self.partial[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl Write for HijackedWriter {
    /// Queues `buf` for the client; waits while the client is slow to take earlier writes.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let closed = || io::Error::new(io::ErrorKind::BrokenPipe, "the connection is closed");
        let outgoing = self.outgoing.as_ref().ok_or_else(closed)?;
        self.shared.queued.fetch_add(buf.len(), Ordering::Relaxed);
        if outgoing.send(buf.to_vec()).is_err() {
            self.shared.queued.fetch_sub(buf.len(), Ordering::Relaxed);
            return Err(closed());
        }
        self.shared.wake();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for HijackedWriter {
    fn drop(&mut self) {
        self.outgoing = None; // the bridge sees the end and closes after the last bytes
        self.shared.wake();
    }
}

/// The loop's side of a hijacked connection.
pub(crate) struct Bridge {
    to_handler: Option<Sender<Vec<u8>>>,
    from_handler: Receiver<Vec<u8>>,
    shared: Arc<Handoff>,
}

/// A connected pair: the bridge for the loop, the stream for the handler.
pub(crate) fn pair() -> (Bridge, Hijacked) {
    let (to_handler, incoming) = crossbeam_channel::bounded(PIECES);
    let (outgoing, from_handler) = crossbeam_channel::bounded(PIECES);
    let shared = Arc::new(Handoff::default());
    let bridge = Bridge {
        to_handler: Some(to_handler),
        from_handler,
        shared: Arc::clone(&shared),
    };
    let hijacked = Hijacked {
        reader: HijackedReader {
            incoming,
            partial: Vec::new(),
            at: 0,
            shared: Arc::clone(&shared),
            read_timeout: None,
        },
        writer: HijackedWriter {
            outgoing: Some(outgoing),
            shared,
        },
    };
    (bridge, hijacked)
}

impl Bridge {
    /// Moves the client's bytes to the handler while its channel has room.
    fn forward(&mut self, io: &mut Io<'_>) {
        let Some(to_handler) = &self.to_handler else {
            let all = io.input().len();
            return io.consume(all); // the handler has gone: nobody reads
        };
        while !io.input().is_empty() {
            let piece = io.input()[..io.input().len().min(PIECE)].to_vec();
            let n = piece.len();
            match to_handler.try_send(piece) {
                Ok(()) => {
                    self.shared.queued.fetch_add(n, Ordering::Relaxed);
                    io.consume(n);
                }
                Err(TrySendError::Full(_)) => return, // the handler's read wakes us
                Err(TrySendError::Disconnected(_)) => {
                    self.to_handler = None;
                    let all = io.input().len();
                    return io.consume(all);
                }
            }
        }
    }

    /// Writes what the handler has queued; closes once it has dropped its side.
    fn deliver(&mut self, io: &mut Io<'_>) {
        loop {
            match self.from_handler.try_recv() {
                Ok(bytes) => {
                    self.shared.queued.fetch_sub(bytes.len(), Ordering::Relaxed);
                    io.write(&bytes);
                }
                Err(crossbeam_channel::TryRecvError::Empty) => return,
                Err(crossbeam_channel::TryRecvError::Disconnected) => return io.close(),
            }
        }
    }
}

impl Protocol for Bridge {
    fn start(&mut self, io: &mut Io<'_>) {
        self.shared.switched(io);
        self.deliver(io);
    }

    fn read(&mut self, io: &mut Io<'_>) {
        self.forward(io);
    }

    fn wake(&mut self, io: &mut Io<'_>) {
        self.forward(io);
        self.deliver(io);
    }

    /// A graceful shutdown waits for a hijacked connection (there is no way to tell its
    /// protocol), and closes it at the deadline.
    fn shutdown(&mut self, _io: &mut Io<'_>) {}

    fn footprint(&self) -> usize {
        self.shared.queued.load(Ordering::Relaxed)
    }

    fn closed(&mut self) {
        self.to_handler = None; // the handler's reads end
    }
}
