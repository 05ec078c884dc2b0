//! Where a connection is in its request cycle ([`Phase`]), and what each place asks of
//! the connection: whether to read the socket, what it holds, which deadline runs.

use super::collect::Collecting;
use super::timing::{Own, Timing};
use crate::offload::stream::Stream;
use crate::stats::LoopStats;
use crate::upgrade::Takeover;

/// Where the connection is in its request cycle.
#[derive(Debug)]
pub(super) enum Phase {
    /// Waiting for a PROXY protocol header, before the first request (`conn/proxy.rs`).
    Proxy,
    /// Waiting for (the rest of) a request head.
    Head,
    /// A head is parsed and its body is being collected for an inline handler.
    Body(Box<Collecting>),
    /// A blocking handler runs; body and response stream through channels.
    Blocking(Box<Stream>),
    /// A `101` response handed the connection to another protocol (`conn/upgraded.rs`).
    /// Boxed again: a thin pointer keeps `Phase`, and so each connection, small.
    Upgraded(Box<Takeover>),
    /// The last response is queued; the connection ends once it is written.
    Closing(Close),
}

/// How a connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Close {
    /// Close as soon as the output is written.
    Clean,
    /// Once the output is written, half-close and drain the input (unread bytes may follow).
    Linger,
    /// Half-closed; dropping input until the client closes or `LINGER` passes.
    Lingering,
}

impl Phase {
    /// The phase in a few words, for the trace.
    pub(super) fn name(&self) -> &'static str {
        match self {
            Phase::Proxy => "reading a PROXY header",
            Phase::Head => "reading a head",
            Phase::Body(_) => "collecting a body",
            Phase::Blocking(_) => "with a blocking handler",
            Phase::Upgraded(_) => "upgraded",
            Phase::Closing(Close::Clean) => "closing",
            Phase::Closing(Close::Linger) => "closing, then lingering",
            Phase::Closing(Close::Lingering) => "lingering",
        }
    }

    /// Where a connection goes once a response is complete: to the next head, or, if
    /// the response closes the connection, to closing; with a lingering close if bytes the
    /// client sent are still unread (`unread`), which a plain close would answer with a
    /// reset that can destroy the response in flight.
    pub(super) fn after_response(close: bool, unread: bool) -> Phase {
        match (close, unread) {
            (false, _) => Phase::Head,
            (true, false) => Phase::Closing(Close::Clean),
            (true, true) => Phase::Closing(Close::Linger),
        }
    }

    /// The connection has closed: an upgraded one's protocol hears of it, and what a
    /// blocking handler's thread wrote since the loop last looked is counted in `stats`.
    pub(super) fn closed(&mut self, stats: &LoopStats) {
        match self {
            Phase::Upgraded(takeover) => takeover.0.closed(),
            Phase::Blocking(stream) => stats.bytes_written.add(stream.take_direct_written()),
            _ => {}
        }
    }

    /// This phase takes bytes from the socket (the connection may still hold back).
    pub(super) fn reads(&self) -> bool {
        match self {
            Phase::Closing(Close::Clean) => false,
            Phase::Blocking(stream) => stream.wants_input(),
            Phase::Body(collecting) => !collecting.waits_for_memory(),
            Phase::Proxy | Phase::Head | Phase::Upgraded(_) | Phase::Closing(_) => true,
        }
    }

    /// A blocking handler's client has left (see `Stream::client_left`).
    pub(super) fn client_left(
        &self,
        readiness: poller::Readiness,
        now: std::time::Instant,
    ) -> bool {
        matches!(self, Phase::Blocking(stream) if stream.client_left(readiness, now))
    }

    /// Between requests, or in no request at all: an empty read buffer can go back to the
    /// pool.
    pub(super) fn releases_input(&self) -> bool {
        !matches!(self, Phase::Body(_) | Phase::Blocking(_))
    }

    /// Bytes held for the request besides the connection's buffers: a body being collected
    /// (or the room reserved for it), or a blocking handler's channels.
    pub(super) fn footprint(&self) -> usize {
        match self {
            Phase::Body(collecting) => collecting.footprint(),
            Phase::Blocking(stream) => stream.footprint(),
            Phase::Upgraded(takeover) => takeover.0.footprint(),
            Phase::Proxy | Phase::Head | Phase::Closing(_) => 0,
        }
    }

    /// The request's own deadlines: a blocking handler's, if it set any.
    pub(super) fn own_deadlines(&self) -> Own {
        match self {
            Phase::Blocking(stream) => {
                let (read, write) = stream.deadlines();
                Own { read, write }
            }
            _ => Own::SERVER,
        }
    }

    /// A blocking handler has the whole request and its answer is still to come: a client
    /// that has closed its sending side (a half-close after its last request) still gets
    /// it. A body still incomplete can no longer complete, so that request owes nothing.
    pub(super) fn owes_answer(&self) -> bool {
        matches!(self, Phase::Blocking(stream) if stream.body_received())
    }

    /// Some bytes of the current request have arrived (`input_empty`: none wait in the
    /// read buffer), and nothing of its answer has gone out.
    pub(super) fn unanswered(&self, input_empty: bool) -> bool {
        match self {
            Phase::Body(_) => true,
            Phase::Blocking(stream) => stream.unanswered(),
            Phase::Upgraded(_) | Phase::Proxy => false,
            _ => !input_empty,
        }
    }

    /// Which deadline applies: `writing` if output waits for the socket, `input_empty` if
    /// no request byte waits in the read buffer, `served_any` once a request was answered.
    pub(super) fn timing(&self, writing: bool, input_empty: bool, served_any: bool) -> Timing {
        match self {
            Phase::Closing(Close::Lingering) => Timing::Linger,
            _ if writing => Timing::Write,
            Phase::Head if input_empty && served_any => Timing::Idle,
            Phase::Head | Phase::Proxy => Timing::Header,
            Phase::Body(collecting) if collecting.waits_for_memory() => Timing::BodyPaused,
            Phase::Body(_) => Timing::Body,
            // The loop sends a file body as the client takes it: a write, like any other.
            Phase::Blocking(stream) if stream.sends_file() => Timing::Write,
            // A blocking handler's body streams: the same limits hold until it has all come.
            Phase::Blocking(stream) if stream.body_received() => Timing::None,
            Phase::Blocking(stream) if stream.wants_input() => Timing::Body,
            Phase::Blocking(_) => Timing::BodyPaused,
            // The protocol keeps its own time (a WebSocket pings); writes keep the server's.
            Phase::Upgraded(_) | Phase::Closing(_) => Timing::None,
        }
    }
}
