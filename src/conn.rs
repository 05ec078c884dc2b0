//! `Conn`: one HTTP/1.1 connection, a state machine in its loop's slab.
//!
//! # Life of a connection
//!
//! 1. **Accepted** by loop 0 (`server.rs`) and handed to a loop, which registers the socket
//!    once for both readable and writable edges.
//! 2. **Reading a head** ([`Phase::Head`]). Each readable edge reads until the kernel has no
//!    more (a short read means drained). When a blank line ends a head, `parse.rs` turns it
//!    into a request or a refusal.
//! 3. **Collecting a body** ([`Phase::Body`]), if the head announced one: `body.rs` moves
//!    body bytes from the read buffer into the request. `100 Continue` goes out first if the
//!    client waits for it. A body larger than a read buffer first needs room in the memory
//!    budget; without it the connection reads nothing until room is granted
//!    (`conn/collect.rs`, `budget.rs`).
//! 4. **Handling.** An inline handler runs on this loop and its response is appended to the
//!    output buffer (`response.rs`, `encode.rs`). Pipelined requests already in the read
//!    buffer are handled in turn, so their responses leave together. A blocking handler is
//!    asked for as soon as the head is parsed: the request goes to the pool
//!    ([`Phase::Pool`], `conn/stream.rs`) and its body and response stream through channels.
//! 5. **Writing.** The output buffer goes to the socket; what the kernel does not take waits
//!    for the next writable edge. While more than `OUT_HIGH_WATER` bytes wait, the connection
//!    reads and handles nothing more: a client that does not read its responses is slowed
//!    down by TCP, not buffered for.
//! 6. **Keep-alive or close.** Back to 2 with no buffers held, or [`Phase::Closing`]: after
//!    the last write, close; or, if unread bytes may follow (a refused request), half-close
//!    and drain the input until the client closes or `LINGER` passes, so the client reads
//!    the response instead of a reset.
//!
//! Throughout, one timer holds whichever deadline applies (header, body, write, idle or
//! linger; `conn/timing.rs`), a `conn_state` hook hears New, Active, Idle and Closed, and
//! after every event the connection's footprint (buffers, body, channels) is counted in its
//! loop's memory meter (`Conn::account`).

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use http::{HeaderValue, Method};
use poller::{Cx, Interest, Next, Readiness};

use crate::buf::{InBuf, OutBuf};
use crate::config::ConnState;
use crate::error::{interrupted, log_io, would_block, Reject};
use crate::listener::Socket;
use crate::local::{Local, Loop, Msg};
use crate::mem::Buffer;
use crate::parse::{self, Facts, Head};
use crate::reader::{self, Begin, HeadReader, HeadStep};
use crate::request::Request;
use crate::response::{Parts, ResponseWriter};
use crate::{encode, handler};

mod collect;
mod exchange;
mod stream;
mod timing;

use collect::Collecting;

use timing::Timing;

/// Encoded response bytes allowed to wait for the socket before the connection stops
/// reading and handling pipelined requests.
const OUT_HIGH_WATER: usize = 64 * 1024;

/// Read-handle-write rounds per readiness call, after which the connection yields to the
/// others on its loop and runs again next turn.
const ROUNDS_PER_CALL: usize = 16;

/// How long a closing connection waits for the client to close after the last response.
const LINGER: Duration = Duration::from_secs(2);

/// Response bodies larger than this do not keep their staging buffer for the next request.
const MAX_KEPT_BODY: usize = 64 * 1024;

/// An inline handler that runs longer than this holds up its whole loop: it is logged with
/// a hint to make it blocking.
const SLOW_INLINE_HANDLER: Duration = Duration::from_millis(100);

/// One connection.
#[derive(Debug)]
pub(crate) struct Conn {
    stream: Socket,
    peer: SocketAddr,
    input: InBuf,
    output: OutBuf,
    phase: Phase,
    /// The socket may hold unread bytes: set by a readable edge, cleared by a read that
    /// came back short or with `WouldBlock`.
    readable: bool,
    /// The kernel reported the client's FIN: a short read no longer means drained, because
    /// the end of file still waits to be read and no further edge will announce it.
    read_closed: bool,
    /// The client has closed its sending side: no request will follow what is buffered.
    peer_done: bool,
    /// The search for the end of the current head.
    head: HeadReader,
    /// Which deadline the loop's timer holds for this connection.
    timing: Timing,
    /// Bytes moved since the timer was last armed (a response queued, body bytes read,
    /// output taken by the socket): the idle and stall deadlines move on.
    fresh: bool,
    /// Bytes this connection is counted for in its loop's memory meter: its footprint when
    /// last accounted (see `Conn::account`).
    held: usize,
    /// The state last reported to the `conn_state` hook.
    state: ConnState,
    /// When the deadline in `timing` began to run (see `Conn::arm_timer`): for a
    /// connection between requests, when it was accepted or last busy, which also tells
    /// how long it has sat idle when the server needs room (see `Conn::is_shed`).
    since: Instant,
}

/// Where the connection is in its request cycle.
#[derive(Debug)]
enum Phase {
    /// Waiting for (the rest of) a request head.
    Head,
    /// A head is parsed and its body is being collected for an inline handler.
    Body(Box<Collecting>),
    /// A blocking handler runs on the pool; body and response stream through channels.
    Pool(Box<stream::Stream>),
    /// The last response is queued; the connection ends once it is written.
    Closing(Close),
}

/// How a connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Close {
    /// Close as soon as the output is written.
    Clean,
    /// Once the output is written, half-close and drain the input (unread bytes may follow).
    Linger,
    /// Half-closed; dropping input until the client closes or `LINGER` passes.
    Lingering,
}

impl Conn {
    pub(crate) fn new(stream: Socket, peer: SocketAddr, now: Instant) -> Conn {
        Conn {
            stream,
            peer,
            input: InBuf::default(),
            output: OutBuf::default(),
            phase: Phase::Head,
            readable: false,
            read_closed: false,
            peer_done: false,
            head: HeadReader::default(),
            timing: Timing::None,
            fresh: false,
            held: 0,
            state: ConnState::New,
            since: now,
        }
    }

    pub(crate) fn start(&mut self, cx: &mut Cx<'_, impl Loop>) -> Next {
        let interest = Interest::READABLE | Interest::WRITABLE;
        cx.local.pool.conn_opened();
        self.report(cx, ConnState::New);
        let next = match cx.register(&mut self.stream, interest) {
            Ok(()) => self.settle(cx),
            Err(e) => self.fail(&e, "register"),
        };
        self.after(cx, next)
    }

    pub(crate) fn ready(&mut self, cx: &mut Cx<'_, impl Loop>, readiness: Readiness) -> Next {
        if readiness.readable || readiness.hangup {
            self.readable = true;
        }
        self.read_closed |= readiness.read_closed;
        if matches!(&self.phase, Phase::Pool(stream) if stream.client_left(readiness, cx.now())) {
            log::debug!(
                "{}: the client left while its handler was at work",
                self.peer
            );
            return self.after(cx, Next::Close);
        }
        let next = self.drive(cx);
        self.after(cx, next)
    }

    pub(crate) fn message(&mut self, cx: &mut Cx<'_, impl Loop>, msg: Msg) -> Next {
        let next = match msg {
            Msg::Shutdown if self.is_idle() => Next::Close,
            Msg::Shutdown | Msg::Poke => self.drive(cx),
            Msg::Shed(episode) if self.is_shed(cx, episode) => {
                log::debug!("{}: idle connection closed to make room", self.peer);
                Next::Close
            }
            Msg::Shed(_) => Next::Continue,
        };
        self.after(cx, next)
    }

    pub(crate) fn timeout(&mut self, cx: &mut Cx<'_, impl Loop>) -> Next {
        let next = self.expire(cx);
        self.after(cx, next)
    }

    /// Counts what the connection now holds against the memory budget; reports a close to
    /// the pool and the `conn_state` hook.
    fn after(&mut self, cx: &mut Cx<'_, impl Loop>, next: Next) -> Next {
        if next == Next::Close {
            self.input.release_if_empty(&mut cx.local.pool);
            self.output.release_if_empty(&mut cx.local.pool);
            cx.local.meter.charge(self.held, 0);
            self.held = 0;
            if cx.local.pool.conn_closed() {
                cx.local.release();
            }
            self.report(cx, ConnState::Closed);
        } else {
            self.account(cx.local);
        }
        next
    }

    /// Brings the loop's meter up to date with what this connection holds.
    fn account(&mut self, local: &mut Local) {
        let footprint = self.footprint();
        local.meter.charge(self.held, footprint);
        self.held = footprint;
    }

    /// Bytes held for this connection: its buffers, plus a body being collected (or the
    /// room reserved for it), or a blocking handler's channels.
    fn footprint(&self) -> usize {
        let phase = match &self.phase {
            Phase::Body(collecting) => collecting.footprint(),
            Phase::Pool(stream) => stream.footprint(),
            Phase::Head | Phase::Closing(_) => 0,
        };
        self.input.capacity() + self.output.bytes.capacity() + phase
    }

    /// Tells the `conn_state` hook about a change of state.
    fn report(&mut self, cx: &mut Cx<'_, impl Loop>, state: ConnState) {
        if self.state != state || state == ConnState::New {
            self.state = state;
            if let Some(hook) = &cx.local.config.conn_state {
                hook(self.peer, state);
            }
        }
    }

    /// A blocking handler has the whole request and its answer is still to come: a client
    /// that has closed its sending side (a half-close after its last request) still gets
    /// it. A body still incomplete can no longer complete, so that request owes nothing.
    fn owes_answer(&self) -> bool {
        matches!(&self.phase, Phase::Pool(stream) if stream.body_received())
    }

    /// Between requests, with nothing buffered either way.
    fn is_idle(&self) -> bool {
        matches!(self.phase, Phase::Head) && self.input.is_empty() && self.output.pending() == 0
    }

    /// Reads, handles and writes until nothing more can happen without a new event.
    fn drive(&mut self, cx: &mut Cx<'_, impl Loop>) -> Next {
        for _ in 0..ROUNDS_PER_CALL {
            let mut progress = false;
            if self.wants_input() {
                match self.fill(cx.local) {
                    Ok(read) => progress |= read,
                    Err(e) => return self.fail(&e, "read"),
                }
            }
            progress |= self.process(cx);
            match self.flush() {
                Ok(wrote) => progress |= wrote,
                Err(e) => return self.fail(&e, "write"),
            }
            if !progress {
                return self.settle(cx);
            }
        }
        cx.again();
        Next::Continue
    }

    fn wants_input(&self) -> bool {
        let phase_reads = match &self.phase {
            Phase::Closing(Close::Clean) => false,
            Phase::Pool(stream) => stream.wants_input(),
            Phase::Body(collecting) => !collecting.waits_for_memory(),
            _ => true,
        };
        phase_reads && self.readable && !self.peer_done && self.output.pending() < OUT_HIGH_WATER
    }

    /// One read into the input buffer. Returns whether it read anything (or saw EOF).
    fn fill(&mut self, local: &mut Local) -> io::Result<bool> {
        let spare = self
            .input
            .spare(&mut local.pool, local.config.max_header_bytes);
        if spare.is_empty() {
            return Ok(false); // full at the header limit: `process` refuses the head
        }
        let room = spare.len();
        loop {
            match self.stream.read(spare) {
                Ok(0) => {
                    self.peer_done = true;
                    self.readable = false;
                    return Ok(true);
                }
                Ok(n) => {
                    self.input.filled(n);
                    self.fresh = true;
                    self.readable = n == room || self.read_closed;
                    return Ok(true);
                }
                Err(e) if would_block(&e) => {
                    self.readable = false;
                    return Ok(false);
                }
                Err(e) if interrupted(&e) => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Handles what the input buffer holds, request by request, while the output has room.
    fn process(&mut self, cx: &mut Cx<'_, impl Loop>) -> bool {
        let mut progress = false;
        while self.output.pending() < OUT_HIGH_WATER {
            let advanced = match self.phase {
                Phase::Head => self.read_head(cx),
                Phase::Body(_) => self.read_body(cx),
                Phase::Pool(_) => self.pump(cx),
                Phase::Closing(Close::Linger | Close::Lingering) => {
                    let dropped = !self.input.is_empty();
                    self.input.clear();
                    return progress || dropped;
                }
                Phase::Closing(Close::Clean) => false,
            };
            if !advanced {
                break;
            }
            progress = true;
        }
        progress
    }

    /// Looks for a complete head in the input; parses it and moves on to its body.
    fn read_head(&mut self, cx: &mut Cx<'_, impl Loop>) -> bool {
        self.input.consume(reader::blank_lines(self.input.data()));
        if self.input.is_empty() {
            return false;
        }
        if self.state != ConnState::Active {
            self.report(cx, ConnState::Active);
        }
        let local = &mut *cx.local;
        let peer = self.peer;
        let limit = local.config.max_header_bytes;
        let step = self.head.read(self.input.data(), limit, |head| {
            let fields = std::mem::take(&mut local.request_fields);
            parse::parse_into(head, peer, fields, &mut local.heads)
        });
        match step {
            HeadStep::Incomplete => false,
            HeadStep::Refused(reject) => self.reject(cx, reject),
            HeadStep::Parsed { head, len } => {
                self.input.consume(len);
                self.begin_body(cx, head)
            }
        }
    }

    /// Answers a bodiless request at once; otherwise starts collecting its body.
    fn begin_body(&mut self, cx: &mut Cx<'_, impl Loop>, mut head: Head) -> bool {
        let config = &cx.local.config;
        head.facts.close |= config.shutting_down.load(Ordering::Relaxed);
        if config.may_block && config.handler.is_blocking(&head.request) {
            return self.dispatch(cx, head);
        }
        match reader::begin(head.framing, Some(config.max_body_bytes)) {
            Begin::Complete => self.respond(cx, &mut head.request, head.facts),
            Begin::Refused(reject) => self.reject(cx, reject),
            Begin::Body(body) => {
                if head.expect_continue && self.input.is_empty() {
                    let mut out = self.output.take(&mut cx.local.pool);
                    out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                    self.output.put(out);
                }
                self.phase = Phase::Body(Box::new(Collecting::new(head, body)));
                true
            }
        }
    }

    /// Runs the handler (or the server's own `OPTIONS *` answer) and queues the response.
    /// The request is borrowed, not moved: it is a few hundred bytes, and this runs for
    /// every request.
    fn respond(&mut self, cx: &mut Cx<'_, impl Loop>, request: &mut Request, facts: Facts) -> bool {
        let turn_began = cx.now();
        let local = &mut *cx.local;
        local.date.refresh_at(turn_began);
        let parts = Parts {
            headers: std::mem::take(&mut local.headers),
            body: std::mem::take(&mut local.body),
            out: self.output.take(&mut local.pool),
        };
        let mut w = ResponseWriter::new(parts, facts, local.date.get());
        // One clock read per request: the handler started when the previous one ended, or
        // when this turn began, whichever is later.
        let started = local.clock.max(turn_began);
        let outcome = if request.method == Method::OPTIONS && request.uri == "*" {
            let zero = HeaderValue::from_static("0");
            w.headers_mut().insert(http::header::CONTENT_LENGTH, zero);
            Ok(())
        } else {
            handler::call(&*local.config.handler, &mut w, request)
        };
        local.clock = Instant::now();
        let elapsed = local.clock - started;
        if elapsed > SLOW_INLINE_HANDLER {
            let route = request.pattern().unwrap_or(request.path());
            log::warn!(
                "handler for {route} ran {elapsed:?} on the event loop, stalling its other \
                 connections; wrap it in nethttp::blocking(..)"
            );
        }
        let (parts, close) = match outcome {
            Ok(()) => w.finish(),
            Err(message) => {
                log::error!("panic serving {} {}: {message}", self.peer, request.uri);
                w.abort()
            }
        };
        local.headers = parts.headers;
        local.body = parts.body;
        local.request_fields = std::mem::take(&mut request.fields);
        if local.body.capacity() > MAX_KEPT_BODY {
            local.body = Buffer::default();
        }
        self.output.put(parts.out);
        self.fresh = true;
        self.phase = match close {
            false => Phase::Head,
            true if self.input.is_empty() => Phase::Closing(Close::Clean),
            true => Phase::Closing(Close::Linger),
        };
        true
    }

    /// Queues the server's own answer to a refused request; the connection then closes.
    fn reject(&mut self, cx: &mut Cx<'_, impl Loop>, reject: Reject) -> bool {
        log::debug!(
            "{}: refused: {} {}",
            self.peer,
            reject.status(),
            reject.detail()
        );
        let local = &mut *cx.local;
        local.date.refresh();
        let mut out = self.output.take(&mut local.pool);
        encode::reject(&mut out, reject, local.date.get());
        self.output.put(out);
        self.phase = Phase::Closing(Close::Linger);
        true
    }

    /// Writes queued output until done or the kernel's buffer is full. A short write means
    /// full: the rest waits for the next writable edge. Returns whether anything was written.
    fn flush(&mut self) -> io::Result<bool> {
        let mut wrote = false;
        while self.output.pending() > 0 {
            let pending = &self.output.bytes[self.output.pos..];
            match self.stream.write(pending) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    let short = n < pending.len();
                    wrote = true;
                    self.fresh = true;
                    self.output.advance(n);
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

    /// Decides what waits for the next event, closes if the connection is done, and gives
    /// idle buffers back to the pool.
    fn settle(&mut self, cx: &mut Cx<'_, impl Loop>) -> Next {
        if self.output.pending() == 0 {
            match self.phase {
                Phase::Closing(Close::Clean) => return Next::Close,
                Phase::Closing(Close::Linger) => {
                    if let Err(e) = self.stream.shutdown(std::net::Shutdown::Write) {
                        return self.fail(&e, "shutdown");
                    }
                    self.phase = Phase::Closing(Close::Lingering);
                    cx.set_timer(cx.now() + LINGER);
                }
                _ => {}
            }
            if self.peer_done && !self.owes_answer() {
                return Next::Close; // the client is gone and nothing is left to say
            }
            if self.is_idle() {
                if cx.local.config.shutting_down.load(Ordering::Relaxed) {
                    return Next::Close;
                }
                if self.state == ConnState::Active {
                    self.report(cx, ConnState::Idle);
                }
            }
        }
        self.arm_timer(cx);
        let pool = &mut cx.local.pool;
        if matches!(self.phase, Phase::Head | Phase::Closing(_)) {
            self.input.release_if_empty(pool);
        }
        self.output.release_if_empty(pool);
        Next::Continue
    }

    /// Ends the connection after a socket error.
    fn fail(&mut self, e: &io::Error, during: &str) -> Next {
        log_io(e, self.peer, during);
        Next::Close
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slab holds one `Conn` per connection, idle or not: keep it small.
    #[test]
    fn a_connection_is_small() {
        let size = std::mem::size_of::<Conn>();
        assert!(size <= 192, "Conn is {size} bytes");
    }
}
