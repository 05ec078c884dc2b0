//! A connection's deadlines: which one its timer holds, and what happens when it passes.
//!
//! Each connection has one timer in its loop. After every call, [`Conn::arm_timer`] works
//! out which deadline applies to the connection's state and re-arms only when that changes,
//! so a head dribbled a byte at a time does not push its own deadline back. The deadlines
//! that do move on are the idle one, after each response, and the stall limit of a body or
//! a response, after each byte moved; moving a deadline later costs the loop nothing (see
//! the poller's `timers.rs`).

use std::time::{Duration, Instant};

use poller::{Cx, Next};

use super::{Close, Conn, Phase};
use crate::config::ConnState;
use crate::encode;
use crate::error::Reject;
use crate::local::{Loop, SHED_IDLE};

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

/// The most a connection deadline may be rounded up by (see `Cx::set_timer_within`).
const MAX_SLACK: Duration = Duration::from_secs(1);

impl Conn {
    /// Arms the timer for the deadline the connection's state calls for. `since` is when
    /// the current deadline began to run (for an idle connection, when it was last busy).
    pub(super) fn arm_timer(&mut self, cx: &mut Cx<'_, impl Loop>) {
        let want = self.timing_wanted();
        let moved = self.fresh && matches!(want, Timing::Idle | Timing::Body | Timing::Write);
        self.fresh = false;
        if want == self.timing && !moved {
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
        if (want != self.timing && !body_waits_on) || want == Timing::Idle {
            self.since = cx.now();
        }
        self.timing = want;
        match self.deadline(cx, want) {
            // Within an eighth of the limit (at most a second) is precise enough, and lets
            // the deadlines of connections that went idle together fire together.
            Some((at, limit)) => cx.set_timer_within(at, (limit / 8).min(MAX_SLACK)),
            None => cx.clear_timer(),
        }
    }

    /// Which deadline the connection's state calls for.
    fn timing_wanted(&self) -> Timing {
        match &self.phase {
            Phase::Closing(Close::Lingering) => Timing::Linger,
            _ if self.output.pending() > 0 => Timing::Write,
            Phase::Head if self.input.is_empty() && self.served_any() => Timing::Idle,
            Phase::Head => Timing::Header,
            Phase::Body(collecting) if collecting.waits_for_memory() => Timing::BodyPaused,
            Phase::Body(_) => Timing::Body,
            // The loop sends a file body as the client takes it: a write, like any other.
            Phase::Pool(stream) if stream.sends_file() => Timing::Write,
            // A blocking handler's body streams: the same limits hold until it has all come.
            Phase::Pool(stream) if stream.body_received() => Timing::None,
            Phase::Pool(stream) if stream.wants_input() => Timing::Body,
            Phase::Pool(_) => Timing::BodyPaused,
            Phase::Closing(_) => Timing::None,
        }
    }

    /// When `timing` expires, with the limit that sets it (for the timer's slack); `None`
    /// if no limit applies. A stall limit runs from now: the caller re-arms after each
    /// byte moved.
    fn deadline(&self, cx: &Cx<'_, impl Loop>, timing: Timing) -> Option<(Instant, Duration)> {
        let config = &cx.local.config;
        let from_start = |limit: Option<Duration>| limit.map(|l| (self.since + l, l));
        let stalled = config.stall_timeout.map(|l| (cx.now() + l, l));
        let first = |a: Option<(Instant, Duration)>, b| a.into_iter().chain(b).min();
        match timing {
            Timing::None => None,
            Timing::Header => from_start(config.read_header_timeout),
            Timing::Body => first(from_start(config.read_timeout), stalled),
            Timing::BodyPaused => from_start(config.read_timeout),
            Timing::Write => first(from_start(config.write_timeout), stalled),
            Timing::Idle => from_start(config.idle_timeout),
            Timing::Linger => from_start(Some(super::LINGER)),
        }
    }

    /// A connection that has answered a request is past its first head.
    fn served_any(&self) -> bool {
        self.state != ConnState::New
    }

    /// The deadline passed: close, after a `408 Request Timeout` if a request was half read
    /// and nothing of a response has gone out. A blocking handler still reading the body
    /// then finds it cut short, and its writes fail.
    pub(super) fn expire(&mut self, cx: &mut Cx<'_, impl Loop>) -> Next {
        log::debug!("{}: {:?} deadline passed", self.peer, self.timing);
        match self.timing {
            Timing::Header | Timing::Body | Timing::BodyPaused
                if self.output.pending() == 0 && self.unanswered() =>
            {
                let local = &mut *cx.local;
                local.date.refresh();
                let mut out = self.output.take(&mut local.pool);
                encode::reject(&mut out, Reject::RequestTimeout, local.date.get());
                self.output.put(out);
                self.phase = Phase::Closing(Close::Clean);
                self.timing = Timing::None;
                let _ = self.flush();
                Next::Close
            }
            Timing::None => Next::Continue,
            _ => Next::Close,
        }
    }

    /// Whether this connection gives up its descriptor for shed broadcast `episode`: it
    /// has sat idle, before its first request or between two, for at least `SHED_IDLE`,
    /// and the loop's budget for the broadcast is not spent.
    pub(super) fn is_shed(&self, cx: &mut Cx<'_, impl Loop>, episode: u32) -> bool {
        let long_idle = cx.now().saturating_duration_since(self.since) >= SHED_IDLE;
        self.is_idle() && long_idle && cx.local.shedding.take(episode)
    }

    /// Some bytes of the current request have arrived, and nothing of its answer has.
    fn unanswered(&self) -> bool {
        match &self.phase {
            Phase::Body(_) => true,
            Phase::Pool(stream) => stream.unanswered(),
            _ => !self.input.is_empty(),
        }
    }
}
