//! Whose turn it is to write a blocking response to the socket: the loop's, or the
//! handler's own thread's.
//!
//! A blocking handler's bytes go to its connection through a channel, and the loop writes
//! them (`offload/stream.rs`). For a large response to a client that keeps up, that
//! crossing is most of the cost: every piece is copied into the channel, wakes the loop,
//! and waits for it; where the two threads share a core, each wake-up is a context switch
//! (`GET /bytes/1048576`: about 18,000 per GiB). Go's handler writes to its socket itself.
//!
//! So the loop lends the socket to the handler's thread whenever nothing of the response
//! waits on the loop's side: everything the writer sent through the channel has been
//! taken and written, and no file body, upgrade or `100 Continue` is pending. The writer
//! then writes its next bytes straight to the socket, without blocking. Once the socket is
//! full (or fails) it sends the rest through the channel; before it writes again, it waits
//! for the loop to catch up: to have written that (the socket drained), when the loop
//! lends the socket again. A writer that went on filling the channel instead would stay
//! ahead of the loop, and the socket would never be lent again. (It waits before its next
//! write, not after the send: the end mark follows the last piece at once, and the pool
//! thread is free.) The first piece, with the head, always goes through
//! the channel: until it is out, the loop may still answer for the request itself (a
//! `408`, a `400`).
//!
//! Order is kept by counting: the writer counts the messages it sends through the channel
//! ([`Turn::sending`]), and the loop lends the socket for the count it has taken and
//! written ([`Turn::settle`]). The writer writes itself only while the two agree, so never
//! ahead of a piece the loop still holds.
//!
//! The writer's socket is a second descriptor of the connection's, made at the first loan
//! and closed when the loop takes the socket back for good ([`Turn::revoke`]: the
//! request has ended, or its response is cut off), so the loop's own close still ends the
//! connection. A lock over it makes a revoke final: no direct write begins after it. The
//! loop keeps its own descriptor: it reads the
//! request body, watches for the client leaving, and enforces the deadlines of what waits
//! in its output. A request's own write deadline (`set_write_deadline`) stays the loop's
//! to enforce: no direct write while one is set. Bytes written on the handler's thread are
//! counted here for the loop's statistics ([`Turn::take_written`]).
//!
//! Only a plain TCP connection lends its socket ([`Turn::new`]); over TLS the session
//! writes, and a writer on any other connection keeps two pieces in flight, as before.

use std::io::{self, Write};
use std::net::TcpStream;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::wait::Waiter;

/// `lent` when the socket is not lent.
const NOT_LENT: u64 = 0;

/// The turn to write one blocking response, shared by its `Stream` and its writer.
#[derive(Debug)]
pub(crate) struct Turn {
    /// The connection may lend its socket: the writer waits for loans.
    lendable: bool,
    /// `NOT_LENT`, or one more than the number of messages the loop had taken from the
    /// channel (and written out) when it lent the socket.
    lent: AtomicU64,
    /// Messages the loop has taken from the channel and written out, as of its last look.
    caught_up: AtomicU64,
    /// Messages the writer has sent (or is sending) through the channel.
    sent: AtomicU64,
    /// The request has ended, or its connection closed: nothing is lent again.
    closed: AtomicBool,
    /// Where the writer waits for the loop to catch up.
    waiter: Waiter,
    /// The writer's descriptor of the socket, made at the first loan, dropped at the
    /// revoke. Held while the writer writes.
    socket: Mutex<Option<TcpStream>>,
    /// Bytes the writer wrote itself, not yet counted by the loop.
    written: AtomicU64,
}

/// What a direct write did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Direct {
    /// The socket is not lent: everything goes through the channel.
    NotLent,
    /// This many bytes went to the socket (fewer than offered: the socket is full).
    Wrote(usize),
}

impl Turn {
    /// The turn of a response on a connection that may lend its socket (`lendable`: plain
    /// TCP) or may not.
    pub(crate) fn new(lendable: bool) -> Turn {
        Turn {
            lendable,
            lent: AtomicU64::new(NOT_LENT),
            caught_up: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            waiter: Waiter::default(),
            socket: Mutex::new(None),
            written: AtomicU64::new(0),
        }
    }

    /// The loop has taken `taken` messages from the channel and written everything of
    /// them, and nothing more waits in the channel: it lends `socket`, if given (the
    /// writer's descriptor is made at the first loan; if that fails, nothing is lent), and
    /// wakes a writer waiting for it to catch up.
    pub(crate) fn settle(&self, taken: u64, socket: Option<&impl AsFd>) {
        if let Some(socket) = socket {
            let mut own = self.socket();
            if !self.closed.load(Ordering::Acquire) && self.second_descriptor(&mut own, socket) {
                self.lent.store(taken + 1, Ordering::Release);
            }
        }
        if self.caught_up.swap(taken, Ordering::AcqRel) != taken {
            self.waiter.wake();
        }
    }

    /// Makes the writer's descriptor of `socket` into `own` if it has none yet; false if
    /// that fails.
    fn second_descriptor(&self, own: &mut Option<TcpStream>, socket: &impl AsFd) -> bool {
        if own.is_some() {
            return true;
        }
        match socket.as_fd().try_clone_to_owned() {
            Ok(fd) => {
                *own = Some(TcpStream::from(fd));
                true
            }
            Err(e) => {
                log::debug!("no second descriptor for a blocking response: {e}");
                false
            }
        }
    }

    fn socket(&self) -> MutexGuard<'_, Option<TcpStream>> {
        self.socket.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The loop takes the socket back for good: the request has ended, its response is
    /// cut off, or its connection closes. Once this returns, no direct write begins (one
    /// under way has ended), and the writer's descriptor is closed.
    pub(crate) fn revoke(&self) {
        let own = {
            let mut own = self.socket();
            self.lent.store(NOT_LENT, Ordering::Release);
            self.closed.store(true, Ordering::Release);
            own.take()
        };
        drop(own);
        self.waiter.wake();
    }

    /// Bytes the writer wrote itself since the last call.
    pub(crate) fn take_written(&self) -> u64 {
        self.written.swap(0, Ordering::Relaxed)
    }

    /// The writer is about to send a message through the channel: from now on it may not
    /// write itself until the loop has written that message and lent the socket again.
    pub(crate) fn sending(&self) {
        self.sent.fetch_add(1, Ordering::AcqRel);
    }

    /// Where the socket may be lent, waits until the loop has written everything the
    /// writer sent, or the request has ended (the client is gone: the next write says so).
    fn catch_up(&self) {
        if !self.lendable {
            return;
        }
        let sent = self.sent.load(Ordering::Acquire);
        self.waiter.wait(|| {
            let caught_up = self.caught_up.load(Ordering::Acquire) >= sent;
            (caught_up || self.closed.load(Ordering::Acquire)).then_some(())
        });
    }

    /// Writes as much of `bytes` as the socket takes now, if the socket is lent to the
    /// writer, once the loop has caught up with what the writer sent before; an error is
    /// the socket's (the client is gone).
    pub(crate) fn write(&self, bytes: &[u8]) -> io::Result<Direct> {
        self.catch_up();
        let own = self.socket();
        // Looked at under the lock: a revoke has either not begun, or is complete.
        let sent = self.sent.load(Ordering::Acquire);
        let (true, Some(mut socket)) =
            (self.lent.load(Ordering::Acquire) == sent + 1, own.as_ref())
        else {
            return Ok(Direct::NotLent);
        };
        let mut done = 0;
        let failed = loop {
            if done == bytes.len() {
                break None;
            }
            match socket.write(&bytes[done..]) {
                Ok(0) => break Some(io::ErrorKind::WriteZero.into()),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break None,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Some(e),
            }
        };
        self.written.fetch_add(done as u64, Ordering::Relaxed);
        match failed {
            Some(e) => Err(e),
            None => Ok(Direct::Wrote(done)),
        }
    }
}
