//! [`EventLoop`]: the only code that calls `mio::Poll::poll`.
//!
//! [`EventLoop::turn`] is one pass through the six phases the crate docs number. Each phase is
//! a method below, in order; each starts its doc with its step number.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::{Events, Poll, Token};

use crate::inbox::{new_waker, Envelope, Inbox};
use crate::slots::{Label, Slots, WAKER};
use crate::timers::{Due, Timers};
use crate::{Cx, Machine, Next, Readiness, Remote};

/// Readiness events taken from the kernel per `poll` call. More wait for the next turn.
const EVENTS_PER_TURN: usize = 1024;

/// Inbox envelopes handled per turn, so a flood from other threads cannot starve this
/// loop's own sockets. The rest are handled next turn, without sleeping.
const INBOX_PER_TURN: usize = 1024;

/// Room the scratch lists keep when a drained loop shrinks them.
const SCRATCH_KEPT: usize = 64;

/// A readiness loop over a slab of machines of type `M`.
pub struct EventLoop<M: Machine> {
    poll: Poll,
    events: Events,
    slots: Slots<M>,
    timers: Timers,
    inbox: Inbox<M>,
    local: M::Local,
    /// Machines spawned during the current call, adopted right after it returns.
    spawned: Vec<M>,
    /// Machines that asked to run again; served in the next turn's phase 3.
    again: Vec<Token>,
    /// Machines to drop in phase 6.
    closed: Vec<Token>,
    /// The timer entries due in the current phase 5, kept to reuse the allocation.
    due: Vec<(Instant, Token)>,
    /// Set by a `Stop` envelope; `run` returns at the end of the turn.
    stopping: bool,
    /// The time phase 2 returned.
    now: Instant,
    /// When the loop was created (see `Cx::set_timer_within`).
    epoch: Instant,
    counters: Arc<Counters>,
}

impl<M: Machine> EventLoop<M> {
    /// Creates a loop with its own `epoll` instance and waker, owning `local`.
    pub fn new(local: M::Local) -> io::Result<Self> {
        let poll = Poll::new()?;
        let waker = new_waker(poll.registry(), WAKER)?;
        Ok(EventLoop {
            poll,
            events: Events::with_capacity(EVENTS_PER_TURN),
            slots: Slots::new(),
            timers: Timers::default(),
            inbox: Inbox::new(waker),
            local,
            spawned: Vec::new(),
            again: Vec::new(),
            closed: Vec::new(),
            due: Vec::new(),
            stopping: false,
            now: Instant::now(),
            epoch: Instant::now(),
            counters: Arc::default(),
        })
    }

    /// A handle other threads use to post machines and messages to this loop.
    pub fn remote(&self) -> Remote<M> {
        self.inbox.remote()
    }

    /// Counters of this loop's work, readable from any thread.
    pub fn counters(&self) -> Arc<Counters> {
        Arc::clone(&self.counters)
    }

    /// The loop's shared state.
    pub fn local(&mut self) -> &mut M::Local {
        &mut self.local
    }

    /// How many machines the loop holds.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when the loop holds no machine.
    pub fn is_empty(&self) -> bool {
        self.slots.len() == 0
    }

    /// Adopts a machine from this thread and calls its `start`. Returns its token.
    pub fn insert(&mut self, machine: M) -> Token {
        self.now = Instant::now(); // outside a turn, so `Cx::now` must not be stale
        self.adopt(machine)
    }

    /// Runs turns until a [`Remote::stop`] arrives.
    pub fn run(&mut self) -> io::Result<()> {
        while !self.stopping {
            self.turn()?;
        }
        self.stopping = false;
        Ok(())
    }

    /// One turn of the loop: the six phases, in order.
    pub fn turn(&mut self) -> io::Result<()> {
        self.counters.turns.fetch_add(1, Ordering::Relaxed);
        let timeout = self.compute_timeout(); // 1
        self.poll(timeout)?; // 2
        self.dispatch_readiness(); // 3
        self.drain_inbox(); // 4
        self.fire_timers(); // 5
        self.reap_closed(); // 6
        Ok(())
    }

    /// 1. How long `poll` may sleep: not at all if work is left over from the last turn,
    ///    else until the next deadline, else forever.
    fn compute_timeout(&self) -> Option<Duration> {
        if !self.again.is_empty() || !self.inbox.is_empty() {
            return Some(Duration::ZERO);
        }
        self.timers.next_timeout(Instant::now())
    }

    /// 2. Sleeps in `epoll_wait` until a source is ready, a waker fires or `timeout` ends.
    fn poll(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        log::trace!("poll: sleeping for {}", Sleep(timeout));
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => self.events.clear(),
            Err(e) => return Err(e),
        }
        self.now = Instant::now();
        Ok(())
    }

    /// 3. Calls `ready` on each machine with an event, then on each that asked to run again.
    fn dispatch_readiness(&mut self) {
        let events = std::mem::replace(&mut self.events, Events::with_capacity(0));
        for event in events.iter() {
            self.counters.events.fetch_add(1, Ordering::Relaxed);
            let token = event.token();
            if token == WAKER {
                log::trace!("waker: inbox has mail");
                self.counters.wakeups.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let readiness = Readiness::of(event);
            log::trace!("token {}: {readiness}", Label(token));
            self.call(token, |m, cx| m.ready(cx, readiness));
        }
        self.events = events;
        for token in std::mem::take(&mut self.again) {
            log::trace!("token {}: running again", Label(token));
            self.call(token, |m, cx| m.ready(cx, Readiness::NONE));
        }
    }

    /// 4. Clears the wake-up flag, then handles what other threads posted, up to a bound.
    fn drain_inbox(&mut self) {
        self.inbox.rearm();
        for _ in 0..INBOX_PER_TURN {
            match self.inbox.try_recv() {
                None => break,
                Some(Envelope::Spawn(machine)) => {
                    self.adopt(machine);
                }
                Some(Envelope::Deliver(token, msg)) => {
                    log::trace!("token {}: message {msg:?}", Label(token));
                    self.call(token, |m, cx| m.message(cx, msg));
                }
                Some(Envelope::Broadcast(msg)) => {
                    log::trace!("every token: message {msg:?}");
                    for token in self.slots.tokens() {
                        let msg = msg.clone();
                        self.call(token, |m, cx| m.message(cx, msg));
                    }
                }
                Some(Envelope::Stop) => self.stopping = true,
            }
        }
    }

    /// 5. Calls `timeout` on each machine whose deadline has passed, earliest first.
    ///    The due entries are taken out before any machine is called, so a deadline set
    ///    during this phase, even one already past, waits for the next turn (like `again`)
    ///    instead of firing again and again within this one.
    fn fire_timers(&mut self) {
        let now = self.now;
        let mut due = std::mem::take(&mut self.due);
        while let Some(entry) = self.timers.pop_due(now) {
            due.push(entry);
        }
        for (at, token) in due.drain(..) {
            let Some(entry) = self.slots.get_mut(token) else {
                continue; // the slot was freed or reused since this entry was armed
            };
            if let Due::Fire = self.timers.settle(&mut entry.timer, token, at, now) {
                log::trace!("token {}: timer fired", Label(token));
                self.counters.timers.fetch_add(1, Ordering::Relaxed);
                self.call(token, |m, cx| m.timeout(cx));
            }
        }
        self.due = due;
    }

    /// 6. Drops the machines that returned `Next::Close` this turn, closing their sources.
    ///    When that leaves the slab mostly empty, gives back the memory the busy time grew.
    fn reap_closed(&mut self) {
        if self.closed.is_empty() {
            return;
        }
        for token in self.closed.drain(..) {
            if self.slots.remove(token).is_some() {
                log::trace!("token {}: closed", Label(token));
                self.counters.closes.fetch_add(1, Ordering::Relaxed);
            }
        }
        if self.slots.shrink_if_sparse() {
            self.shrink();
        }
    }

    /// After the slab shrank: drops the timer entries of machines that are gone and
    /// shrinks the turn's scratch lists, which grew with the number of connections.
    fn shrink(&mut self) {
        let slots = &self.slots;
        self.timers.retain(|token, at| slots.is_armed_at(token, at));
        for list in [&mut self.again, &mut self.closed] {
            list.shrink_to(SCRATCH_KEPT);
        }
        self.due.shrink_to(SCRATCH_KEPT);
        log::debug!(
            "loop drained to {} machines; memory given back",
            slots.len()
        );
    }

    /// Puts a machine in a slot and starts it.
    fn adopt(&mut self, machine: M) -> Token {
        let token = self.slots.insert(machine);
        log::trace!("token {}: spawned", Label(token));
        self.counters.spawns.fetch_add(1, Ordering::Relaxed);
        self.call(token, |m, cx| m.start(cx));
        token
    }

    /// Calls one machine with a fresh `Cx`, records a close, and adopts what it spawned.
    /// A stale token (freed or closed slot) is ignored.
    fn call(&mut self, token: Token, f: impl FnOnce(&mut M, &mut Cx<'_, M>) -> Next) {
        let Some(entry) = self.slots.get_mut(token) else {
            log::trace!("token {}: stale, ignored", Label(token));
            return;
        };
        let mut cx = Cx {
            token,
            now: self.now,
            epoch: &self.epoch,
            registry: self.poll.registry(),
            timer: &mut entry.timer,
            timers: &mut self.timers,
            spawned: &mut self.spawned,
            again: &mut self.again,
            local: &mut self.local,
        };
        if f(&mut entry.machine, &mut cx) == Next::Close {
            entry.closed = true;
            self.closed.push(token);
        }
        while let Some(machine) = self.spawned.pop() {
            self.adopt(machine);
        }
    }
}

/// Running totals of one loop's work. Relaxed atomics: each is exact, but two read together
/// may be from slightly different moments.
#[derive(Debug, Default)]
pub struct Counters {
    turns: AtomicU64,
    events: AtomicU64,
    wakeups: AtomicU64,
    timers: AtomicU64,
    spawns: AtomicU64,
    closes: AtomicU64,
}

/// A copy of a loop's [`Counters`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Turns of the loop (returns from `poll`).
    pub turns: u64,
    /// Readiness events dispatched, waker events included.
    pub events: u64,
    /// Times the waker woke the loop.
    pub wakeups: u64,
    /// Timer callbacks made.
    pub timers: u64,
    /// Machines adopted.
    pub spawns: u64,
    /// Machines dropped after closing.
    pub closes: u64,
}

impl Counters {
    /// Reads every counter.
    pub fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        // Closes are read before spawns, so `spawns - closes` never underflows.
        let closes = get(&self.closes);
        Stats {
            turns: get(&self.turns),
            events: get(&self.events),
            wakeups: get(&self.wakeups),
            timers: get(&self.timers),
            spawns: get(&self.spawns),
            closes,
        }
    }
}

/// A poll timeout as the trace shows it: `forever` rather than `None`.
struct Sleep(Option<Duration>);

impl std::fmt::Display for Sleep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(d) => write!(f, "{d:?}"),
            None => f.write_str("forever"),
        }
    }
}
