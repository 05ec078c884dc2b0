//! `Conn`: one HTTP/1.1 connection, a state machine in its loop's slab.
//!
//! # Life of a connection
//!
//! 1. **Accepted** by loop 0 (`accept.rs`) and handed to a loop, which registers the socket
//!    once for both readable and writable edges.
//! 2. **Reading a head** (`Phase::Head`). Each readable edge reads until the kernel has no
//!    more (a short read means drained). The request reader (`reader.rs`) finds the blank
//!    line that ends a head, and `parse.rs` turns it into a request or a refusal.
//! 3. **Routing.** The handler says whether this request is blocking (a [`ServeMux`] looks
//!    its route up, once, and keeps it on the request).
//! 4. **Collecting a body** (`Phase::Body`), if the head announced one, for an inline
//!    handler: the reader moves body bytes from the read buffer into the request.
//!    `100 Continue` goes out first if the client waits for it. A body larger than a read
//!    buffer first needs room in the memory budget; without it the connection reads
//!    nothing until room is granted (`conn/collect.rs`, `budget.rs`).
//! 5. **Handling.** An inline handler runs on this loop (`conn/inline.rs`) and its response
//!    is appended to the output buffer (`response.rs`, `encode.rs`). Pipelined requests
//!    already in the read buffer are handled in turn, so their responses leave together.
//!    A blocking request goes to the pool as soon as its head is read (`Phase::Blocking`,
//!    `offload/stream.rs`): its body and response stream through channels.
//! 6. **Writing.** The output buffer goes to the socket; what the kernel does not take waits
//!    for the next writable edge. While more than `OUT_HIGH_WATER` bytes wait, the connection
//!    reads and handles nothing more: a client that does not read its responses is slowed
//!    down by TCP, not buffered for.
//! 7. **Keep-alive or close.** Back to 2 with no buffers held, or `Phase::Closing`: after
//!    the last write, close; or, if unread bytes may follow (a refused request), half-close
//!    and drain the input until the client closes or `LINGER` passes, so the client reads
//!    the response instead of a reset.
//!
//! Where the connection stands is its `Phase` (`conn/phase.rs`). Throughout, one timer
//! holds whichever deadline applies (header, body, write, idle or linger;
//! `conn/timing.rs`), a `conn_state` hook hears New, Active, Idle and Closed, and
//! after every event the connection's footprint (buffers, body, channels) is counted in its
//! loop's memory meter (`Conn::account`).

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Instant;

use poller::{Cx, Interest, Label, Next, Readiness};

use crate::buf::{InBuf, OutBuf, OUT_HIGH_WATER};
use crate::config::ConnState;
use crate::error::{log_io, Reject};
use crate::local::{Local, Loop, Msg, SHED_IDLE};
use crate::offload::poke::Poke;
use crate::offload::stream::{Pump, Stream, StreamEnd};
use crate::parse::{self, Facts, Framed, Head};
use crate::reader::{self, Begin, HeadReader, HeadStep};
use crate::stats::LoopStats;
use crate::transport::Transport;
use crate::upgrade::Takeover;

mod collect;
mod inline;
mod phase;
mod proxy;
mod timing;
mod upgraded;
mod wire;

use collect::{Collected, Collecting, RoomMade};
use phase::{Close, Phase};
use proxy::ProxyStep;
use timing::{Clock, Timing, LINGER};
use upgraded::Call;
use wire::{Filled, ReadSide};

/// Read-handle-write rounds per readiness call, after which the connection yields to the
/// others on its loop and runs again next turn.
const ROUNDS_PER_CALL: usize = 16;

/// One connection.
#[derive(Debug)]
pub(crate) struct Conn {
    stream: Transport,
    peer: SocketAddr,
    input: InBuf,
    output: OutBuf,
    phase: Phase,
    /// What the connection knows of the socket's read side.
    side: ReadSide,
    /// The search for the end of the current head.
    head: HeadReader,
    /// The connection's one timer.
    clock: Clock,
    /// Bytes this connection is counted for in its loop's memory meter: its footprint when
    /// last accounted (see `Conn::account`).
    held: usize,
    /// The state last reported to the `conn_state` hook.
    state: ConnState,
}

impl Conn {
    pub(crate) fn new(stream: Transport, peer: SocketAddr, now: Instant) -> Conn {
        Conn {
            stream,
            peer,
            input: InBuf::default(),
            output: OutBuf::default(),
            phase: Phase::Head,
            side: ReadSide::Drained,
            head: HeadReader::default(),
            clock: Clock::new(now),
            held: 0,
            state: ConnState::New,
        }
    }

    pub(crate) fn start(&mut self, cx: &mut Cx<'_, impl Loop>) -> Next {
        let interest = Interest::READABLE | Interest::WRITABLE;
        cx.local.buffers.conn_opened();
        if cx.local.config.proxy_protocol {
            self.phase = Phase::Proxy;
            self.stream.expect_proxy_header();
        }
        self.report(cx, ConnState::New);
        let next = match cx.register(self.stream.source(), interest) {
            Ok(()) => self.between_events(cx),
            Err(e) => self.fail(&e, "register"),
        };
        self.after(cx, next)
    }

    pub(crate) fn ready(&mut self, cx: &mut Cx<'_, impl Loop>, readiness: Readiness) -> Next {
        self.side.edge(readiness);
        if self.phase.client_left(readiness, cx.now()) {
            let peer = self.peer;
            log::debug!("{peer}: the client left while its handler was at work");
            return self.after(cx, Next::Close);
        }
        let next = self.drive(cx);
        self.after(cx, next)
    }

    pub(crate) fn message(&mut self, cx: &mut Cx<'_, impl Loop>, msg: Msg) -> Next {
        let next = match msg {
            Msg::Shutdown if self.is_idle() => Next::Close,
            Msg::Poke => self.tell_then_drive(cx, Call::Wake),
            // An upgraded connection's protocol hears of these; others just move on.
            Msg::Shutdown => self.tell_then_drive(cx, Call::Shutdown),
            Msg::Notify(value) => self.tell_then_drive(cx, Call::Notify(&*value)),
            // Keep-alives were disabled: a connection between requests closes (one that has
            // not sent its first request yet may still send it).
            Msg::CloseIdle if self.is_idle() && self.state == ConnState::Idle => Next::Close,
            Msg::CloseIdle => Next::Continue,
            Msg::Shed(episode) => self.shed(cx, episode),
        };
        self.after(cx, next)
    }

    pub(crate) fn timeout(&mut self, cx: &mut Cx<'_, impl Loop>) -> Next {
        let next = self.expire(cx);
        self.after(cx, next)
    }

    /// Counts what the connection now holds against the memory budget; reports a close to
    /// the pool and the `conn_state` hook.
    // Small and run for every request: inlined (docs/performance.md, "Where the time goes").
    #[inline]
    fn after(&mut self, cx: &mut Cx<'_, impl Loop>, next: Next) -> Next {
        if next == Next::Close {
            self.phase.closed(&cx.local.stats);
            self.stream.close();
            self.input.release_if_empty(&mut cx.local.buffers);
            self.output.release_if_empty(&mut cx.local.buffers);
            cx.local.meter.charge(self.held, 0);
            self.held = 0;
            if cx.local.buffers.conn_closed() {
                cx.local.release();
            }
            self.report(cx, ConnState::Closed);
        } else {
            self.account(cx.local);
            if log::log_enabled!(log::Level::Trace) {
                let (token, peer, phase) = (Label(cx.token()), self.peer, self.phase.name());
                let (unsent, timer) = (self.output.pending(), self.clock.timing());
                log::trace!(
                    "token {token}: {peer} {phase}, {unsent} bytes to write, timer {timer:?}"
                );
            }
        }
        next
    }

    /// Brings the loop's meter up to date with what this connection holds: its buffers, a
    /// TLS session's, plus a body being collected (or the room reserved for it), a
    /// blocking handler's channels, or an upgraded protocol's state.
    // Small and run for every request: inlined (docs/performance.md, "Where the time goes").
    #[inline]
    fn account(&mut self, local: &mut Local) {
        let buffers = self.input.capacity() + self.output.bytes.capacity();
        let footprint = buffers + self.stream.footprint() + self.phase.footprint();
        local.meter.charge(self.held, footprint);
        self.held = footprint;
    }

    /// Tells the `conn_state` hook about a change of state.
    fn report(&mut self, cx: &mut Cx<'_, impl Loop>, state: ConnState) {
        if self.state != state || state == ConnState::New {
            self.state = state;
            log::trace!("token {}: connection {state:?}", Label(cx.token()));
            if let Some(hook) = &cx.local.config.conn_state {
                hook(self.peer, state);
            }
        }
    }

    /// Between requests, with nothing buffered either way.
    fn is_idle(&self) -> bool {
        matches!(self.phase, Phase::Head) && self.input.is_empty() && !self.unsent()
    }

    /// Bytes wait to be written: queued output, or encrypted records below it.
    fn unsent(&self) -> bool {
        self.output.pending() > 0 || self.stream.has_backlog()
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
            match self.flush(&cx.local.stats) {
                Ok(wrote) => progress |= wrote,
                Err(e) => return self.fail(&e, "write"),
            }
            // Another round would find nothing to do: none moved, or the connection is
            // between requests with its socket drained (most keep-alive requests).
            if !progress || (self.is_idle() && !self.side.may_read()) {
                return self.between_events(cx);
            }
        }
        cx.again();
        Next::Continue
    }

    fn wants_input(&self) -> bool {
        let room = self.output.pending() < OUT_HIGH_WATER;
        self.phase.reads() && self.side.may_read() && room
    }

    /// One read: into the input buffer, or straight into a blocking handler's next body
    /// piece where its body takes it. Returns whether it read anything (or saw EOF).
    fn fill(&mut self, local: &mut Local) -> io::Result<bool> {
        let (stream, input, side) = (&mut self.stream, &mut self.input, &mut self.side);
        let filled = wire::fill(stream, input, &mut self.phase, side, local)?;
        if matches!(filled, Filled::Bytes(_)) {
            self.clock.moved();
        }
        Ok(filled != Filled::Nothing)
    }

    /// Handles what the input buffer holds, request by request, while the output has room.
    fn process(&mut self, cx: &mut Cx<'_, impl Loop>) -> bool {
        let mut progress = false;
        while self.output.pending() < OUT_HIGH_WATER {
            let advanced = match self.phase {
                Phase::Proxy => self.read_proxy(),
                Phase::Head => self.read_head(cx),
                Phase::Body(_) => self.read_body(cx),
                Phase::Blocking(_) => self.pump(cx),
                Phase::Upgraded(_) => self.upgraded(cx, Call::Read),
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

    /// Reads the PROXY header that comes before the first request (`conn/proxy.rs`).
    fn read_proxy(&mut self) -> bool {
        self.phase = match proxy::read(&mut self.input, &mut self.peer, &mut self.stream) {
            ProxyStep::Incomplete => return false,
            ProxyStep::Read => Phase::Head,
            ProxyStep::Refused => Phase::Closing(Close::Clean),
        };
        true
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
        let (local, peer) = (&mut *cx.local, self.peer);
        let limit = local.config.max_header_bytes;
        let step = self.head.read(self.input.data(), limit, |bytes, span| {
            parse::parse_into(bytes, span, peer, &mut local.request, &mut local.heads)
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

    /// Answers a bodiless request at once (the loop's request, parsed in place); otherwise
    /// the request moves on with its head, to collect its body or to the blocking pool.
    fn begin_body(&mut self, cx: &mut Cx<'_, impl Loop>, mut framed: Framed) -> bool {
        let token = Label(cx.token());
        let local = &mut *cx.local;
        let (config, request) = (&local.config, &mut local.request);
        framed.facts.close |= config.closes_every_response();
        request.trusted.clone_from(&config.trusted_proxies);
        let blocking = config.may_block && config.handler.is_blocking(request);
        if log::log_enabled!(log::Level::Trace) {
            let (method, uri, version) = (&request.method, request.uri(), request.version);
            let (framing, kind) = (framed.framing, if blocking { "blocking" } else { "inline" });
            log::trace!("token {token}: {method} {uri} {version:?}, body {framing:?}, {kind}");
        }
        if blocking {
            let head = Head::new(local.take_request(), framed);
            return self.offload(cx, head);
        }
        match reader::begin(framed.framing, Some(config.max_body_bytes)) {
            Begin::Complete => self.respond(cx, framed.facts),
            Begin::Refused(reject) => self.reject(cx, reject),
            Begin::Body(body) => {
                if framed.expect_continue && self.input.is_empty() {
                    let interim = b"HTTP/1.1 100 Continue\r\n\r\n";
                    self.output.append(&mut local.buffers, interim);
                }
                let head = Head::new(local.take_request(), framed);
                self.phase = Phase::Body(Box::new(Collecting::new(head, body)));
                true
            }
        }
    }

    /// Moves body bytes from the input into the request, once the budget has room for
    /// them; answers the request when its body is complete.
    fn read_body(&mut self, cx: &mut Cx<'_, impl Loop>) -> bool {
        let Phase::Body(collecting) = &mut self.phase else {
            return false;
        };
        if self.input.is_empty() {
            return false;
        }
        match collecting.make_room(self.input.data().len(), cx.local, cx.token()) {
            RoomMade::Waiting => return false,
            RoomMade::Grown => self.account(cx.local),
            RoomMade::Enough => {}
        }
        let Phase::Body(collecting) = &mut self.phase else {
            return false;
        };
        match collecting.read(&mut self.input) {
            Collected::More => false,
            Collected::Refused(reject) => self.reject(cx, reject),
            Collected::Done => {
                let Phase::Body(collecting) = std::mem::replace(&mut self.phase, Phase::Head)
                else {
                    unreachable!("matched above");
                };
                cx.local.request = collecting.head.request;
                self.respond(cx, collecting.head.facts)
            }
        }
    }

    /// Hands the request to the blocking pool (`offload/stream.rs`), or refuses it (503).
    fn offload(&mut self, cx: &mut Cx<'_, impl Loop>, head: Head) -> bool {
        let (input_empty, lendable) = (self.input.is_empty(), self.stream.plain_tcp().is_some());
        match Stream::submit(head, input_empty, lendable, cx.local, cx.token(), cx.now()) {
            Ok(stream) => {
                self.phase = Phase::Blocking(Box::new(stream));
                true
            }
            Err(reject) => self.reject(cx, reject),
        }
    }

    /// Moves a blocking request's body and response along; when it has ended, goes on to
    /// the next request or to closing. Returns whether anything moved.
    fn pump(&mut self, cx: &mut Cx<'_, impl Loop>) -> bool {
        let more_coming = self.wants_input();
        let Phase::Blocking(stream) = &mut self.phase else {
            return false;
        };
        let local = &mut *cx.local;
        // Not a pooled buffer: the handler's pieces become the output (`Stream::pump`).
        let mut out = std::mem::take(&mut self.output.bytes);
        let pumped = stream.pump(Pump {
            input: &mut self.input,
            out: &mut out,
            written: self.output.pos,
            socket: &mut self.stream,
            scratch: &mut local.scratch,
            close_all: local.config.closes_every_response(),
            client_done: self.side.client_done(),
            more_coming,
        });
        self.output.put(out);
        local.stats.bytes_written.add(stream.take_direct_written());
        if pumped.sent_file {
            self.clock.moved();
        }
        match pumped.end {
            None => pumped.progress,
            Some(StreamEnd::Refused(reject)) => self.reject(cx, reject),
            Some(StreamEnd::Upgraded(takeover)) => {
                self.switch(cx, takeover);
                true
            }
            Some(StreamEnd::Answered { close, body_unread }) => {
                self.clock.moved();
                let unread = body_unread || !self.input.is_empty();
                self.phase = Phase::after_response(close, unread);
                true
            }
        }
    }

    /// Runs the handler (or the server's own `OPTIONS *` answer) on the loop's request and
    /// queues the response. The request stays in place: it is a few hundred bytes, and this
    /// runs for every request.
    fn respond(&mut self, cx: &mut Cx<'_, impl Loop>, facts: Facts) -> bool {
        let (turn_began, local) = (cx.now(), &mut *cx.local);
        let out = self.output.take(&mut local.buffers);
        let answered = inline::respond(local, out, facts, turn_began);
        let (token, queued) = (Label(cx.token()), answered.out.len() - self.output.pos);
        log::trace!("token {token}: answered, {queued} bytes queued");
        self.output.put(answered.out);
        self.clock.moved();
        match answered.upgrade {
            Some(takeover) => self.switch(cx, takeover),
            None => self.phase = Phase::after_response(answered.close, !self.input.is_empty()),
        }
        true
    }

    /// Hands the connection to the protocol a handler switched to, with the loop's waker.
    fn switch(&mut self, cx: &mut Cx<'_, impl Loop>, mut takeover: Box<Takeover>) {
        let waker = cx.local.waker.clone();
        takeover.1 = waker.map(|waker| Poke::new(waker, cx.token()));
        self.phase = Phase::Upgraded(takeover);
        self.report(cx, ConnState::Upgraded);
        self.upgraded(cx, Call::Start);
    }

    /// Tells an upgraded connection's protocol of a message, then moves on.
    fn tell_then_drive(&mut self, cx: &mut Cx<'_, impl Loop>, call: Call<'_>) -> Next {
        self.upgraded(cx, call);
        self.drive(cx)
    }

    /// Tells an upgraded connection's protocol what happened (`conn/upgraded.rs`). Returns
    /// whether anything moved; a protocol that closes leaves its connection closing.
    fn upgraded(&mut self, cx: &mut Cx<'_, impl Loop>, call: Call<'_>) -> bool {
        let buffers = &mut cx.local.buffers;
        upgraded::turn(
            &mut self.phase,
            call,
            &mut self.input,
            &mut self.output,
            buffers,
        )
    }

    /// Queues the server's own answer to a refused request; the connection then closes.
    fn reject(&mut self, cx: &mut Cx<'_, impl Loop>, reject: Reject) -> bool {
        let (peer, status, detail) = (self.peer, reject.status(), reject.detail());
        log::debug!("{peer}: refused: {status} {detail}");
        // What a refused head left in the loop's request (a router's decision, say) must
        // not reach the next one; refusals are rare, so this is the one place for it.
        cx.local.request.recycle();
        inline::refuse(cx.local, &mut self.output, reject);
        self.phase = Phase::Closing(Close::Linger);
        true
    }

    /// Writes queued output until done or the kernel's buffer is full; the stall
    /// deadline moves on if anything went. Returns whether anything was written.
    fn flush(&mut self, stats: &LoopStats) -> io::Result<bool> {
        let wrote = wire::flush(&mut self.stream, &mut self.output, stats)?;
        if wrote {
            self.clock.moved();
        }
        Ok(wrote)
    }

    /// Decides what waits for the next event, closes if the connection is done, and gives
    /// idle buffers back to the pool.
    fn between_events(&mut self, cx: &mut Cx<'_, impl Loop>) -> Next {
        if !self.unsent() {
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
            if self.side.ended() && !self.phase.owes_answer() {
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
        let (served_any, input_empty) = (self.state != ConnState::New, self.input.is_empty());
        let timing = self.phase.timing(self.unsent(), input_empty, served_any);
        self.clock.arm(cx, timing, self.phase.own_deadlines());
        let pool = &mut cx.local.buffers;
        if self.phase.releases_input() {
            self.input.release_if_empty(pool);
        }
        self.output.release_if_empty(pool);
        Next::Continue
    }

    /// The deadline passed: close, after a `408 Request Timeout` if a request was half read
    /// and nothing of a response has gone out. A blocking handler still reading the body
    /// then finds it cut short, and its writes fail.
    fn expire(&mut self, cx: &mut Cx<'_, impl Loop>) -> Next {
        let timing = self.clock.timing();
        log::debug!("{}: {timing:?} deadline passed", self.peer);
        let unanswered = self.phase.unanswered(self.input.is_empty());
        match timing {
            Timing::Header | Timing::Body | Timing::BodyPaused if !self.unsent() && unanswered => {
                inline::refuse(cx.local, &mut self.output, Reject::RequestTimeout);
                self.phase = Phase::Closing(Close::Clean);
                self.clock.expired();
                let _ = self.flush(&cx.local.stats);
                Next::Close
            }
            Timing::None => Next::Continue,
            _ => Next::Close,
        }
    }

    /// Closes this connection for shed broadcast `episode` if it has sat idle, before its
    /// first request or between two, for at least `SHED_IDLE`, and the loop's budget for
    /// the broadcast is not spent.
    fn shed(&mut self, cx: &mut Cx<'_, impl Loop>, episode: u32) -> Next {
        let long_idle = self.clock.running_for(cx.now()) >= SHED_IDLE;
        if !(self.is_idle() && long_idle && cx.local.shedding.take(episode)) {
            return Next::Continue;
        }
        log::debug!("{}: idle connection closed to make room", self.peer);
        Next::Close
    }

    /// Ends the connection after a socket error.
    fn fail(&mut self, e: &io::Error, during: &str) -> Next {
        log_io(e, self.peer, during);
        Next::Close
    }
}
