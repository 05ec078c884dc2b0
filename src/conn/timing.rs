//! A connection's timer: which deadline it holds, and when that deadline passes.
//!
//! Each connection has one timer in its loop. After every call, the connection works out
//! which deadline its state calls for (`Phase::timing`) and [`Clock::arm`] re-arms only
//! when that changes, so a head dribbled a byte at a time does not push its own deadline
//! back. The deadlines that do move on are the idle one, after each response, and the
//! stall limit of a body or a response, after each byte moved ([`Clock::moved`]); moving a
//! deadline later costs the loop nothing (see the poller's `timers.rs`). What happens when
//! one passes is the connection's call (`Conn::expire`).

use std::time::{Duration, Instant};

use poller::Cx;

use crate::local::Loop;
use crate::offload::channel::Deadline;

/// A request's own read and write deadlines (a blocking handler may set them), which
/// replace the server's `read_timeout` and `write_timeout` for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Own {
    pub(super) read: Deadline,
    pub(super) write: Deadline,
}

impl Own {
    /// No deadline of the request's own: the server's apply.
    pub(super) const SERVER: Own = Own {
        read: Deadline::Server,
        write: Deadline::Server,
    };
}

/// How long a closing connection waits for the client to close after the last response.
pub(super) const LINGER: Duration = Duration::from_secs(2);

/// The most a connection deadline may be rounded up by (see `Cx::set_timer_within`).
const MAX_SLACK: Duration = Duration::from_secs(1);

/// Which deadline a connection's timer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timing {
    /// No deadline (or the one that applies is switched off).
    None,
    /// Until the current request head must be complete (`read_header_timeout`).
    Header,
    /// Until the current request body must be complete (`read_timeout`), or must have sent
    /// its next byte (`stall_timeout`), whichever comes first.
    Body,
    /// A body the server is not reading for now (its blocking handler is busy, or it waits
    /// for memory): only `read_timeout` runs.
    BodyPaused,
    /// Until the queued response must be written (`write_timeout`), or the client must have
    /// taken its next byte (`stall_timeout`), whichever comes first.
    Write,
    /// Until an idle keep-alive connection is closed (`idle_timeout`).
    Idle,
    /// Until a closing connection stops waiting for the client to close (`LINGER`).
    Linger,
}

/// A connection's one timer.
#[derive(Debug)]
pub(super) struct Clock {
    /// The deadline the loop's timer holds.
    timing: Timing,
    /// When that deadline began to run: for a connection between requests, when it was
    /// accepted or last busy, which also tells how long it has sat idle.
    since: Instant,
    /// Bytes moved since the timer was last armed (a response queued, body bytes read,
    /// output taken by the socket): the idle and stall deadlines move on.
    fresh: bool,
    /// The timer was last armed with a request's own deadlines.
    owned: bool,
}

impl Clock {
    /// A clock for a connection accepted at `now`, holding no deadline yet.
    pub(super) fn new(now: Instant) -> Clock {
        Clock {
            timing: Timing::None,
            since: now,
            fresh: false,
            owned: false,
        }
    }

    /// The deadline the timer holds.
    pub(super) fn timing(&self) -> Timing {
        self.timing
    }

    /// Bytes moved: the idle and stall deadlines move on at the next [`arm`](Clock::arm).
    pub(super) fn moved(&mut self) {
        self.fresh = true;
    }

    /// How long ago the current deadline began to run (for an idle connection, how long it
    /// has sat idle).
    pub(super) fn running_for(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.since)
    }

    /// The deadline has passed and been dealt with: the timer holds none.
    pub(super) fn expired(&mut self) {
        self.timing = Timing::None;
    }

    /// Arms the timer for `want`, the deadline the connection's state calls for, with
    /// the request's `own` deadlines in place of the server's timeouts.
    pub(super) fn arm(&mut self, cx: &mut Cx<'_, impl Loop>, want: Timing, own: Own) {
        let moved = self.fresh && matches!(want, Timing::Idle | Timing::Body | Timing::Write);
        self.fresh = false;
        // A request's own deadlines may change at any time: they are re-read at each call.
        // When they end (the blocking response is done) what is left to write gets the
        // server's limit afresh.
        let owned = own != Own::SERVER;
        let handed_back = self.owned && !owned;
        self.owned = owned;
        if want == self.timing && !moved && !owned && !handed_back {
            return;
        }
        // A body paused and resumed is the same wait: its `read_timeout` keeps its start.
        let body_waits_on = matches!(
            (self.timing, want),
            (
                Timing::Body | Timing::BodyPaused,
                Timing::Body | Timing::BodyPaused
            )
        );
        if (want != self.timing && !body_waits_on) || want == Timing::Idle || handed_back {
            self.since = cx.now();
        }
        self.timing = want;
        match self.deadline(cx, want, own) {
            // Within an eighth of the limit (at most a second) is precise enough, and lets
            // the deadlines of connections that went idle together fire together.
            Some((at, limit)) => cx.set_timer_within(at, (limit / 8).min(MAX_SLACK)),
            None => cx.clear_timer(),
        }
    }

    /// When `timing` expires, with the limit that sets it (for the timer's slack); `None`
    /// if no limit applies. A stall limit runs from now: the connection re-arms after each
    /// byte moved.
    fn deadline(
        &self,
        cx: &Cx<'_, impl Loop>,
        timing: Timing,
        own: Own,
    ) -> Option<(Instant, Duration)> {
        let config = &cx.local.config;
        // Each arm works out only the limits its deadline needs: the idle one, re-armed
        // after every request kept alive, is one addition.
        let from_start = |limit: Option<Duration>| limit.map(|l| (self.since + l, l));
        let stalled = || config.stall_timeout.map(|l| (cx.now() + l, l));
        let first = |a: Option<(Instant, Duration)>, b| a.into_iter().chain(b).min();
        let own_or = |deadline: Deadline, server: Option<Duration>| match deadline {
            Deadline::Server => from_start(server),
            Deadline::Lifted => None,
            Deadline::At(at) => Some((at, at.saturating_duration_since(cx.now()))),
        };
        match timing {
            Timing::None => None,
            Timing::Header => from_start(config.read_header_timeout),
            Timing::Body => first(own_or(own.read, config.read_timeout), stalled()),
            Timing::BodyPaused => own_or(own.read, config.read_timeout),
            Timing::Write => first(own_or(own.write, config.write_timeout), stalled()),
            Timing::Idle => from_start(config.idle_timeout),
            Timing::Linger => from_start(Some(LINGER)),
        }
    }
}
