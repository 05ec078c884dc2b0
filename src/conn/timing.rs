//! A connection's deadlines: which one its timer holds, and what happens when it passes.
//!
//! Each connection has one timer in its loop. After every call, [`Conn::arm_timer`] works
//! out which deadline applies to the connection's state and re-arms only when that changes,
//! so a head dribbled a byte at a time does not push its own deadline back. The one deadline
//! that does move on is the idle one, after each response, and moving a deadline later costs
//! the loop nothing (see the poller's `timers.rs`).

use std::time::Duration;

use poller::{Cx, Next};

use super::{Close, Conn, Phase};
use crate::encode;
use crate::error::Reject;
use crate::server::{Slot, SHED_IDLE};

/// Which deadline a connection's timer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timing {
    /// No deadline (or the one that applies is switched off).
    None,
    /// Until the current request head must be complete (`read_header_timeout`).
    Header,
    /// Until the current request body must be complete (`read_timeout`).
    Body,
    /// Until the queued response must be written (`write_timeout`).
    Write,
    /// Until an idle keep-alive connection is closed (`idle_timeout`).
    Idle,
    /// Until a closing connection stops waiting for the client to close (`LINGER`).
    Linger,
}

/// The most a connection deadline may be rounded up by (see `Cx::set_timer_within`).
const MAX_SLACK: Duration = Duration::from_secs(1);

impl Conn {
    /// Arms the timer for the deadline the connection's state calls for.
    pub(super) fn arm_timer(&mut self, cx: &mut Cx<'_, Slot>) {
        let config = &cx.local.config;
        let (want, limit) = match &self.phase {
            Phase::Closing(Close::Lingering) => (Timing::Linger, Some(super::LINGER)),
            _ if self.output.pending() > 0 => (Timing::Write, config.write_timeout),
            Phase::Head if self.input.is_empty() && self.served_any() => {
                (Timing::Idle, config.idle_timeout)
            }
            Phase::Head => (Timing::Header, config.read_header_timeout),
            Phase::Body(_) => (Timing::Body, config.read_timeout),
            // A blocking handler's body streams: the same limit holds until it has all come.
            Phase::Pool(stream) if !stream.body_received() => (Timing::Body, config.read_timeout),
            Phase::Pool(_) | Phase::Closing(_) => (Timing::None, None),
        };
        let refresh = want == Timing::Idle && self.fresh;
        self.fresh = false;
        if want == self.timing && !refresh {
            return;
        }
        self.timing = want;
        if matches!(want, Timing::Idle | Timing::Header) {
            self.since = cx.now(); // waiting for a request from now on
        }
        match limit {
            // Within an eighth of the limit (at most a second) is precise enough, and lets
            // the deadlines of connections that went idle together fire together.
            Some(limit) => cx.set_timer_within(cx.now() + limit, (limit / 8).min(MAX_SLACK)),
            None => cx.clear_timer(),
        }
    }

    /// A connection that has answered a request is past its first head.
    fn served_any(&self) -> bool {
        self.state != crate::server::ConnState::New
    }

    /// The deadline passed: close, after a `408 Request Timeout` if a request was half read
    /// and nothing of a response has gone out. A blocking handler still reading the body
    /// then finds it cut short, and its writes fail.
    pub(super) fn expire(&mut self, cx: &mut Cx<'_, Slot>) -> Next {
        log::debug!("{}: {:?} deadline passed", self.peer, self.timing);
        match self.timing {
            Timing::Header | Timing::Body if self.output.pending() == 0 && self.unanswered() => {
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
    pub(super) fn is_shed(&self, cx: &mut Cx<'_, Slot>, episode: u32) -> bool {
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
