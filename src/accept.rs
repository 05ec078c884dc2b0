//! The listener: accepting connections on loop 0 and handing them out.
//!
//! The first step of a request's journey (`server.rs` builds the loops). Loop 0 accepts until the
//! kernel has no more connections, at most `ACCEPTS_PER_TURN` per turn, and hands each
//! socket round-robin to a loop (itself included) through that loop's `Remote`.
//!
//! When the process runs out of descriptors (`EMFILE`), the waiting connection stays in the
//! kernel's backlog and the listener would be reported readable again and again. So the
//! listener *parks*: it ignores readiness and retries on a timer, 5 ms doubling to 1 s as Go
//! does, until an accept succeeds. The same pause holds the listener at the connection cap.
//! Each time it pauses or retries in vain, it asks the loops to close connections that have
//! sat idle for a while ([`Msg::Shed`]), so sockets that never send cannot keep a client
//! with a request waiting.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use poller::{Counters, Cx, Interest, Machine, Next, Readiness, Remote, Token};

use crate::conn::Conn;
use crate::error::{interrupted, is_resource_exhaustion, would_block};
use crate::listener::{Listening, Socket};
use crate::local::{Local, Msg};
use crate::offload::poke::Wake;
use crate::transport::Transport;

/// Connections accepted per readiness call, so a connection storm cannot starve the
/// requests of connections already open on loop 0.
const ACCEPTS_PER_TURN: usize = 128;

/// First and last pause of the listener when the process is out of descriptors (Go's).
const BACKOFF_MIN: Duration = Duration::from_millis(5);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// How often a listener held at the connection cap looks again.
const CAP_RECHECK: Duration = Duration::from_millis(20);

/// The listening socket and where its connections go.
#[derive(Debug)]
pub(crate) struct Acceptor {
    listener: Listening,
    /// Every loop's inbox, this one's first: connections go round-robin to them, and
    /// shed broadcasts to all.
    loops: Vec<Remote<Slot>>,
    /// Every loop's counters, to count open connections against the cap.
    counters: Vec<Arc<Counters>>,
    /// Which loop gets the next connection (0 is this one).
    next: usize,
    /// Connections accepted so far.
    accepted: u64,
    /// Shed broadcasts sent so far (their numbers).
    sheds: u32,
    /// Why the listener is paused, with the current delay; `Accepting` otherwise.
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Accepting,
    /// Out of descriptors; retrying after this delay.
    Exhausted(Duration),
    /// At the connection cap.
    AtCap,
}

impl Acceptor {
    pub(crate) fn new(
        listener: Listening,
        loops: Vec<Remote<Slot>>,
        counters: Vec<Arc<Counters>>,
    ) -> Acceptor {
        Acceptor {
            listener,
            loops,
            counters,
            next: 0,
            accepted: 0,
            sheds: 0,
            state: State::Accepting,
        }
    }

    pub(crate) fn start(&mut self, cx: &mut Cx<'_, Slot>) -> Next {
        match cx.register(self.listener.source(), Interest::READABLE) {
            Ok(()) => Next::Continue,
            Err(e) => {
                log::error!("registering the listener failed: {e}");
                Next::Close
            }
        }
    }

    /// A shutdown closes the listener: the slot is dropped and the socket with it.
    pub(crate) fn message(&mut self, _cx: &mut Cx<'_, Slot>, msg: Msg) -> Next {
        match msg {
            Msg::Shutdown => Next::Close,
            Msg::Poke | Msg::CloseIdle | Msg::Shed(_) | Msg::Notify(_) => Next::Continue,
        }
    }

    /// Accepts until the kernel has no more connections, or the per-turn bound.
    pub(crate) fn accept(&mut self, cx: &mut Cx<'_, Slot>) -> Next {
        if self.state != State::Accepting {
            return Next::Continue; // paused: the timer resumes accepting
        }
        for _ in 0..ACCEPTS_PER_TURN {
            if self.at_cap(cx) {
                self.state = State::AtCap;
                self.shed(cx);
                cx.set_timer(cx.now() + CAP_RECHECK);
                return Next::Continue;
            }
            match self.listener.accept(cx.local.config.tcp_keep_alive) {
                Ok((stream, peer)) => self.hand_out(cx, stream, peer),
                Err(e) if would_block(&e) => return Next::Continue,
                Err(e) if interrupted(&e) => continue,
                Err(e) if is_resource_exhaustion(&e) => {
                    cx.local
                        .config
                        .stats
                        .accept_errors
                        .fetch_add(1, Ordering::Relaxed);
                    log::error!("accept: {e}; pausing the listener until descriptors free up");
                    self.state = State::Exhausted(BACKOFF_MIN);
                    self.shed(cx);
                    cx.set_timer(cx.now() + BACKOFF_MIN);
                    return Next::Continue;
                }
                Err(e) => {
                    cx.local
                        .config
                        .stats
                        .accept_errors
                        .fetch_add(1, Ordering::Relaxed);
                    log::debug!("accept: {e}"); // that connection failed; go on
                }
            }
        }
        cx.again();
        Next::Continue
    }

    /// Asks every loop to close some long-idle connections, so a client with a request to
    /// make is not kept waiting by sockets that send nothing (nginx does the same with its
    /// idle keep-alive connections when it runs out).
    fn shed(&mut self, cx: &Cx<'_, Slot>) {
        self.sheds = self.sheds.wrapping_add(1);
        cx.local.config.stats.sheds.fetch_add(1, Ordering::Relaxed);
        let msg = Msg::Shed(self.sheds);
        for remote in &self.loops {
            remote.broadcast(msg.clone());
        }
    }

    /// Open connections have reached `max_connections`.
    fn at_cap(&self, cx: &Cx<'_, Slot>) -> bool {
        let Some(cap) = cx.local.config.max_connections else {
            return false;
        };
        let closed: u64 = self.counters.iter().map(|c| c.snapshot().closes).sum();
        self.accepted.saturating_sub(closed) >= cap as u64
    }

    fn hand_out(&mut self, cx: &mut Cx<'_, Slot>, stream: Socket, peer: SocketAddr) {
        self.accepted += 1;
        let stream = match Transport::new(stream, &cx.local.config) {
            Ok(stream) => stream,
            Err(e) => return log::warn!("{peer}: TLS session: {e}; connection dropped"),
        };
        let conn = Slot::Conn(Conn::new(stream, peer, cx.now()));
        let target = self.next;
        self.next = (self.next + 1) % self.loops.len();
        match target {
            0 => cx.spawn(conn),
            n => {
                if self.loops[n].spawn(conn).is_err() {
                    log::warn!("{peer}: loop {n} has stopped; connection dropped");
                }
            }
        }
    }

    /// The pause is over: try accepting again, pausing longer if still out of descriptors.
    pub(crate) fn resume(&mut self, cx: &mut Cx<'_, Slot>) -> Next {
        let state = std::mem::replace(&mut self.state, State::Accepting);
        let State::Exhausted(delay) = state else {
            return self.accept(cx); // at the cap, or a stray timer
        };
        match self.listener.accept(cx.local.config.tcp_keep_alive) {
            Ok((stream, peer)) => {
                log::info!("accept: descriptors available again; listener resumed");
                self.hand_out(cx, stream, peer);
                self.accept(cx)
            }
            Err(e) if would_block(&e) => Next::Continue,
            Err(e) if is_resource_exhaustion(&e) => {
                let delay = (delay * 2).min(BACKOFF_MAX);
                self.state = State::Exhausted(delay);
                self.shed(cx);
                cx.set_timer(cx.now() + delay);
                Next::Continue
            }
            Err(e) => {
                log_accept_error(&e);
                self.accept(cx)
            }
        }
    }
}

fn log_accept_error(e: &io::Error) {
    log::debug!("accept: {e}");
}

/// A blocking handler's `Poke` reaches its connection through the loop's inbox.
impl Wake for Remote<Slot> {
    fn wake(&self, token: Token) {
        self.send(token, Msg::Poke);
    }
}

/// What a loop's slab holds: the listener (loop 0 only) or a connection.
#[derive(Debug)]
pub(crate) enum Slot {
    Acceptor(Acceptor),
    Conn(Conn),
}

impl Machine for Slot {
    type Msg = Msg;
    type Local = Local;

    fn start(&mut self, cx: &mut Cx<'_, Self>) -> Next {
        match self {
            Slot::Acceptor(a) => a.start(cx),
            Slot::Conn(c) => c.start(cx),
        }
    }

    fn ready(&mut self, cx: &mut Cx<'_, Self>, readiness: Readiness) -> Next {
        match self {
            Slot::Acceptor(a) => a.accept(cx),
            Slot::Conn(c) => c.ready(cx, readiness),
        }
    }

    fn timeout(&mut self, cx: &mut Cx<'_, Self>) -> Next {
        match self {
            Slot::Acceptor(a) => a.resume(cx),
            Slot::Conn(c) => c.timeout(cx),
        }
    }

    fn message(&mut self, cx: &mut Cx<'_, Self>, msg: Msg) -> Next {
        match self {
            Slot::Acceptor(a) => a.message(cx, msg),
            Slot::Conn(c) => c.message(cx, msg),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slab holds one `Slot` per connection, idle or not: keep it small.
    #[test]
    fn a_slot_is_small() {
        let size = std::mem::size_of::<Conn>();
        assert!(size <= 192, "Conn is {size} bytes");
        let size = std::mem::size_of::<Slot>();
        assert!(size <= 192, "Slot is {size} bytes");
    }
}
