//! [`Cx`]: what a machine may do while the loop is calling it.
//!
//! Everything a machine changes about its place in the loop goes through here: registering
//! sources, setting its deadline, spawning new machines, asking to run again next turn, and
//! reaching the loop's [`Machine::Local`] state.

use std::io;
use std::time::{Duration, Instant};

use mio::event::Source;
use mio::{Interest, Registry, Token};

use crate::slots::Label;
use crate::timers::{TimerState, Timers};
use crate::Machine;

/// The loop as one machine sees it during one call.
pub struct Cx<'a, M: Machine> {
    pub(crate) token: Token,
    pub(crate) now: Instant,
    /// The loop's creation time: the origin that coarse deadlines are rounded from.
    pub(crate) epoch: &'a Instant,
    pub(crate) registry: &'a Registry,
    pub(crate) timer: &'a mut TimerState,
    pub(crate) timers: &'a mut Timers,
    pub(crate) spawned: &'a mut Vec<M>,
    pub(crate) again: &'a mut Vec<Token>,
    /// The loop's shared state (see [`Machine::Local`]).
    pub local: &'a mut M::Local,
}

impl<'a, M: Machine> Cx<'a, M> {
    /// This machine's token: the address other threads use to [`send`](crate::Remote::send) to it.
    pub fn token(&self) -> Token {
        self.token
    }

    /// The time this turn's events were collected; cheaper than asking the clock again.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Registers `source` for `interest` under this machine's token.
    pub fn register(
        &self,
        source: &mut (impl Source + ?Sized),
        interest: Interest,
    ) -> io::Result<()> {
        self.registry.register(source, self.token, interest)
    }

    /// Sets this machine's one deadline, replacing any earlier one. Moving it later is O(1).
    pub fn set_timer(&mut self, at: Instant) {
        // The arguments of a log line are worked out only if the line is logged.
        log::trace!(
            "token {}: timer set, due in {:?}",
            Label(self.token),
            at.saturating_duration_since(self.now)
        );
        self.timers.set(self.timer, self.token, at);
    }

    /// Sets this machine's deadline to `at` or up to `slack` later, rounded up to a
    /// multiple of `slack` on the loop's clock. Deadlines of many machines that fall in
    /// the same `slack`-wide window then fire together, in one wake-up: ten thousand idle
    /// connections whose timeouts were armed over a second cost a handful of wake-ups, not
    /// thousands. Use it where a timeout need not be exact. A deadline already set within
    /// that window stays as it is.
    pub fn set_timer_within(&mut self, at: Instant, slack: Duration) {
        // The common case, a connection's idle deadline moved on by a request that took
        // less than `slack`: two comparisons and one addition instead of the rounding.
        if let Some(current) = self.timer.deadline {
            if current >= at && current <= at + slack {
                return;
            }
        }
        // In 64-bit nanoseconds (585 years from the loop's start): a 128-bit division
        // costs many times a 64-bit one, and this runs for every request kept alive.
        let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let slack_ns = nanos(slack).max(1);
        let since = nanos(at.saturating_duration_since(*self.epoch));
        let rounded = since.div_ceil(slack_ns).saturating_mul(slack_ns);
        self.set_timer(*self.epoch + Duration::from_nanos(rounded));
    }

    /// Removes this machine's deadline, if any.
    pub fn clear_timer(&mut self) {
        if self.timer.deadline.is_some() {
            log::trace!("token {}: timer cleared", Label(self.token));
        }
        Timers::clear(self.timer);
    }

    /// This machine's current deadline.
    pub fn deadline(&self) -> Option<Instant> {
        self.timer.deadline
    }

    /// Adds a new machine to this loop once the current call returns.
    pub fn spawn(&mut self, machine: M) {
        self.spawned.push(machine);
    }

    /// Asks for another [`ready`](Machine::ready) call next turn, with empty readiness.
    /// For machines that stop early to be fair to others and have work left over.
    pub fn again(&mut self) {
        self.again.push(self.token);
    }
}
