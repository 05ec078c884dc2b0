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
//! waits on the loop's side: everything the writer sent through the channel has been taken
//! and written, and no file body, upgrade or `100 Continue` is pending. The writer then
//! writes its next bytes straight to the socket, without blocking. The first piece, with
//! the head, always goes through the channel: until it is out, the loop may still answer
//! for the request itself (a `408`, a `400`).
//!
//! Once the socket is full (or fails), the writer sends the rest through the channel, and
//! before it writes again it waits for the loop to catch up ([`Turn::write`]): to have
//! written that, when it lends the socket again. A writer that went on filling the channel
//! would stay ahead of the loop, and the socket would never be lent again. It waits before
//! its next write, not after the send, so the end mark follows the last piece at once and
//! the pool thread is free.
//!
//! Order is kept by counting: the writer counts the messages it sends through the channel
//! ([`Turn::sending`]), and the loop lends the socket for the count it has taken and
//! written ([`Turn::settle`]). The writer writes itself only while the two agree, so never
//! ahead of a piece the loop still holds.
//!
//! The writer's socket is a second descriptor of the connection's, made at the first loan
//! and closed when the loop takes the socket back for good ([`Turn::revoke`]: the request
//! has ended, its response is cut off, or its connection closes), so that the loop's own
//! close still ends the connection. A lock over it makes a revoke final: no direct write
//! begins after it. The loop keeps its own descriptor: it reads the body, watches for the
//! client leaving, and enforces the deadlines of what waits in its output. A request's own
//! write deadline (`set_write_deadline`) stays the loop's to enforce: no direct write while
//! one is set. Bytes written on the handler's thread are counted for the loop's statistics
//! ([`Turn::take_written`]).
//!
//! Only a plain TCP connection lends its socket ([`Turn::new`]); over TLS the session
//! writes, and a writer on a Unix socket keeps two pieces in flight, as before.

use std::io::{self, IoSlice, Write};
use std::net::TcpStream;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::wait::Waiter;

/// `lent` when the socket is not lent.
const NOT_LENT: u64 = 0;

/// Most parts one direct write takes: a chunk's size line, its data and its end.
pub(crate) const MAX_PARTS: usize = 3;

/// What is left of `parts`, taken as one stream of bytes, once the first `done` are
/// written.
pub(crate) fn unwritten<'a>(
    parts: &'a [&'a [u8]],
    done: usize,
) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut skip = done;
    parts.iter().filter_map(move |part| {
        if skip >= part.len() {
            skip -= part.len();
            return None;
        }
        let rest = &part[skip..];
        skip = 0;
        Some(rest)
    })
}

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
    /// The writer's descriptor has been made (it may be gone since: see `socket`).
    described: AtomicBool,
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
            described: AtomicBool::new(false),
            written: AtomicU64::new(0),
        }
    }

    /// The loop has taken `taken` messages from the channel and written everything of
    /// them, and nothing more waits in the channel: it lends `socket`, if given (the
    /// writer's descriptor is made at the first loan; if that fails, nothing is lent), and
    /// wakes a writer waiting for it to catch up.
    pub(crate) fn settle(&self, taken: u64, socket: Option<&impl AsFd>) {
        if let Some(socket) = socket {
            // After a revoke this lends nothing: the writer's descriptor is gone for good.
            if self.described.load(Ordering::Acquire) || self.describe(socket) {
                self.lent.store(taken + 1, Ordering::Release);
            }
        }
        if self.caught_up.swap(taken, Ordering::AcqRel) != taken {
            self.waiter.wake();
        }
    }

    /// Makes the writer's descriptor of `socket`, unless the socket was revoked; false if
    /// there is none. (Only here, and in a revoke, does the loop take the lock.)
    fn describe(&self, socket: &impl AsFd) -> bool {
        let mut own = self.socket();
        if self.closed.load(Ordering::Acquire) {
            return false;
        }
        match socket.as_fd().try_clone_to_owned() {
            Ok(fd) => {
                *own = Some(TcpStream::from(fd));
                self.described.store(true, Ordering::Release);
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

    /// Writes as much of `parts` (at most `MAX_PARTS`, in order, as one stream of bytes) as
    /// the socket takes now, if the socket is lent to the writer, once the loop has caught
    /// up with what the writer sent before; an error is the socket's (the client is gone).
    pub(crate) fn write(&self, parts: &[&[u8]]) -> io::Result<Direct> {
        self.catch_up();
        let own = self.socket();
        // Looked at under the lock: a revoke has either not begun, or is complete.
        let sent = self.sent.load(Ordering::Acquire);
        let (true, Some(mut socket)) =
            (self.lent.load(Ordering::Acquire) == sent + 1, own.as_ref())
        else {
            return Ok(Direct::NotLent);
        };
        let total: usize = parts.iter().map(|part| part.len()).sum();
        let mut done = 0;
        let failed = loop {
            if done == total {
                break None;
            }
            let mut slices = [IoSlice::new(&[]); MAX_PARTS];
            let mut count = 0;
            for (slice, rest) in slices.iter_mut().zip(unwritten(parts, done)) {
                *slice = IoSlice::new(rest);
                count += 1;
            }
            match socket.write_vectored(&slices[..count]) {
                Ok(0) => break Some(io::ErrorKind::WriteZero.into()),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // The socket is full: the loop takes over, and lends it again once it
                    // has written what the writer sends it next (no write until then).
                    self.lent.store(NOT_LENT, Ordering::Release);
                    break None;
                }
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

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::thread;
    use std::time::Duration;

    use super::*;

    /// The loop's end of a connection (non-blocking, as the loop's is) and the client's.
    fn connection() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let (server, _) = listener.accept().unwrap();
        server.set_nonblocking(true).unwrap();
        (server, client)
    }

    fn read_exactly(client: &mut TcpStream, n: usize) -> Vec<u8> {
        let mut bytes = vec![0; n];
        client.read_exact(&mut bytes).unwrap();
        bytes
    }

    #[test]
    fn the_writer_writes_itself_only_for_the_count_the_loop_lent_for() {
        let (server, mut client) = connection();
        let turn = Arc::new(Turn::new(true));
        assert_eq!(
            turn.write(&[b"a"]).unwrap(),
            Direct::NotLent,
            "not lent yet"
        );
        turn.settle(0, Some(&server));
        assert_eq!(turn.write(&[b"bc"]).unwrap(), Direct::Wrote(2));
        // A piece goes through the channel; the writer waits for the loop to write it,
        // and the loop, having written it, does not lend (say, a file body is next).
        turn.sending();
        let loop_side = Arc::clone(&turn);
        let settled = thread::spawn(move || {
            thread::sleep(Duration::from_millis(50));
            loop_side.settle(1, None::<&TcpStream>);
        });
        assert_eq!(
            turn.write(&[b"d"]).unwrap(),
            Direct::NotLent,
            "lent for 0, not 1"
        );
        settled.join().unwrap();
        turn.settle(1, Some(&server));
        assert_eq!(turn.write(&[b"ef"]).unwrap(), Direct::Wrote(2));
        assert_eq!(turn.take_written(), 4);
        assert_eq!(read_exactly(&mut client, 4), b"bcef");
    }

    #[test]
    fn a_full_socket_takes_part_and_goes_back_to_the_loop() {
        let (server, _client) = connection();
        let turn = Turn::new(true);
        turn.settle(0, Some(&server));
        let bytes = vec![7u8; 64 << 20]; // more than the two sockets hold
        match turn.write(&[&bytes]).unwrap() {
            Direct::Wrote(n) => assert!(n > 0 && n < bytes.len(), "{n} bytes written"),
            other => panic!("{other:?}"),
        }
        // No second try at a full socket: the rest goes to the loop, which lends again.
        assert_eq!(turn.write(&[b"more"]).unwrap(), Direct::NotLent);
        turn.sending();
        turn.settle(1, Some(&server));
        assert!(matches!(turn.write(&[b"more"]).unwrap(), Direct::Wrote(_)));
    }

    #[test]
    fn a_revoke_is_final_and_the_loops_close_ends_the_connection() {
        let (server, mut client) = connection();
        let turn = Turn::new(true);
        turn.settle(0, Some(&server));
        assert_eq!(turn.write(&[b"x"]).unwrap(), Direct::Wrote(1));
        turn.revoke();
        turn.settle(0, Some(&server)); // a late look of the loop's lends nothing
        assert_eq!(turn.write(&[b"y"]).unwrap(), Direct::NotLent);
        drop(server); // the loop closes its descriptor: the writer's is gone already
        let mut rest = Vec::new();
        client
            .read_to_end(&mut rest)
            .expect("an end of file, not a timeout");
        assert_eq!(rest, b"x");
    }

    #[test]
    fn what_is_unwritten_of_parts_is_their_tail_as_one_stream() {
        let parts: [&[u8]; 3] = [b"a\r\n", b"xyz", b"\r\n"];
        let rest = |done| unwritten(&parts, done).collect::<Vec<_>>().concat();
        let whole = parts.concat();
        for done in 0..=whole.len() {
            assert_eq!(rest(done), whole[done..], "after {done} bytes");
        }
        assert_eq!(unwritten(&parts, 3).count(), 2, "no empty part left over");
    }

    #[test]
    fn parts_go_out_in_order_as_one_stream() {
        let (server, mut client) = connection();
        let turn = Turn::new(true);
        turn.settle(0, Some(&server));
        let parts: [&[u8]; 3] = [b"3\r\n", b"abc", b"\r\n"];
        assert_eq!(turn.write(&parts).unwrap(), Direct::Wrote(8));
        assert_eq!(read_exactly(&mut client, 8), b"3\r\nabc\r\n");
    }

    #[test]
    fn a_connection_that_cannot_lend_never_makes_the_writer_wait() {
        let turn = Arc::new(Turn::new(false));
        turn.sending();
        turn.sending();
        // Nothing will ever settle: a writer that waited would wait for good.
        let (done, finished) = std::sync::mpsc::channel();
        let writer = Arc::clone(&turn);
        thread::spawn(move || done.send(writer.write(&[b"z"]).unwrap()));
        let direct = finished.recv_timeout(Duration::from_millis(500));
        assert_eq!(direct, Ok(Direct::NotLent), "the writer waited");
    }
}
