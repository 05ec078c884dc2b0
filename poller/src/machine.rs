//! The [`Machine`] trait: what lives in a slot of the loop, and what it tells the loop next.
//!
//! A machine is a state machine driven by the loop: it is called when its sources become ready
//! (phase 3), when a message arrives for it (phase 4) and when its deadline passes (phase 5).
//! Each call returns a [`Next`] that says whether the machine lives on.

use crate::Cx;

/// A state machine that the [`EventLoop`](crate::EventLoop) owns and drives.
///
/// The loop is generic over one `Machine` type, so a program with several kinds of machine
/// (a listener and its connections, say) makes that type an enum and dispatches with `match`.
pub trait Machine: Sized {
    /// A message other threads may post to one machine, or to all, through a
    /// [`Remote`](crate::Remote). Cloned once per machine for a broadcast; shown in the
    /// loop's trace.
    type Msg: Send + Clone + std::fmt::Debug;
    /// State shared by every machine of one loop (buffer pools, caches, configuration).
    /// It never leaves the loop's thread, so it needs no locks.
    type Local;

    /// Called once, right after the machine enters its slot: register sources, arm a timer.
    fn start(&mut self, cx: &mut Cx<'_, Self>) -> Next;

    /// Called when a registered source is ready, or when the machine asked to run
    /// [`again`](Cx::again) (then `readiness` is empty). Edge-triggered: drain until
    /// `WouldBlock`, or remember that more is left.
    fn ready(&mut self, cx: &mut Cx<'_, Self>, readiness: Readiness) -> Next;

    /// Called when the deadline set with [`Cx::set_timer`] has passed.
    fn timeout(&mut self, cx: &mut Cx<'_, Self>) -> Next;

    /// Called with a message posted to this machine's token by another thread.
    fn message(&mut self, cx: &mut Cx<'_, Self>, msg: Self::Msg) -> Next;
}

/// What a machine tells the loop after each call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Keep the machine in its slot and wait for its next event.
    Continue,
    /// The machine is done: the loop drops it (closing its sources) when the turn ends.
    Close,
}

/// What the kernel reported for a source. Several flags may be set at once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Readiness {
    /// Bytes (or a connection) can be read, or the peer closed its side.
    pub readable: bool,
    /// The peer has closed its sending side: once the bytes already received are read, a
    /// read returns end of file. No later edge announces that end of file, so a reader
    /// that takes a short read for "drained" must keep reading until it sees it.
    pub read_closed: bool,
    /// The send buffer has room again.
    pub writable: bool,
    /// The peer hung up or the socket is in error; a read or write will say which.
    pub hangup: bool,
}

impl Readiness {
    /// Nothing ready: what a machine sees when it asked to run again.
    pub const NONE: Readiness = Readiness {
        readable: false,
        read_closed: false,
        writable: false,
        hangup: false,
    };

    pub(crate) fn of(event: &mio::event::Event) -> Readiness {
        Readiness {
            readable: event.is_readable() || event.is_read_closed(),
            read_closed: event.is_read_closed(),
            writable: event.is_writable() || event.is_write_closed(),
            hangup: event.is_error() || (event.is_read_closed() && event.is_write_closed()),
        }
    }
}

/// The flags that are set, as the trace shows them: `readable | writable`.
impl std::fmt::Display for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let flags = [
            (self.readable, "readable"),
            (self.read_closed, "read-closed"),
            (self.writable, "writable"),
            (self.hangup, "hangup"),
        ];
        let mut set = flags.iter().filter(|(on, _)| *on).map(|(_, name)| *name);
        match set.next() {
            None => f.write_str("nothing"),
            Some(first) => {
                f.write_str(first)?;
                set.try_for_each(|name| write!(f, " | {name}"))
            }
        }
    }
}
