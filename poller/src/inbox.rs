//! The inbox: how other threads hand work to a loop.
//!
//! A [`Remote`] is a `Send + Clone` handle: a crossbeam channel sender plus the loop's one
//! [`mio::Waker`]. Sending pushes onto the channel first and then wakes the loop, but only if
//! no wake-up is already pending: the `pending` flag flips from false to true once per batch,
//! and the loop clears it (phase 4) before it drains the channel. A burst of a thousand sends
//! costs one `write` to the waker's eventfd.

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use mio::{Token, Waker};

use crate::Machine;

/// What travels through a loop's inbox.
pub(crate) enum Envelope<M: Machine> {
    /// A new machine for the loop to adopt (a connection accepted on another thread, say).
    Spawn(M),
    /// A message for the machine at this token; dropped if the slot has moved on.
    Deliver(Token, M::Msg),
    /// A message for every machine of the loop (a shutdown notice, say).
    Broadcast(M::Msg),
    /// Return from [`EventLoop::run`](crate::EventLoop::run) at the end of this turn.
    Stop,
}

/// A handle for posting to one loop from any thread.
pub struct Remote<M: Machine> {
    tx: Sender<Envelope<M>>,
    wake: Arc<Wake>,
}

/// The waker and its coalescing flag, shared by every `Remote` of one loop.
pub(crate) struct Wake {
    waker: Waker,
    /// True from the first send after a drain until the loop clears it.
    pending: AtomicBool,
}

impl<M: Machine> Remote<M> {
    /// Hands a new machine to the loop. Gives the machine back if the loop has been dropped.
    pub fn spawn(&self, machine: M) -> Result<(), M> {
        match self.post(Envelope::Spawn(machine)) {
            Ok(()) => Ok(()),
            Err(Envelope::Spawn(machine)) => Err(machine),
            Err(_) => unreachable!("post returns the envelope it was given"),
        }
    }

    /// Posts `msg` to the machine at `token`. Returns false if the loop has been dropped.
    pub fn send(&self, token: Token, msg: M::Msg) -> bool {
        self.post(Envelope::Deliver(token, msg)).is_ok()
    }

    /// Posts `msg` to every machine of the loop. Returns false if the loop has been dropped.
    pub fn broadcast(&self, msg: M::Msg) -> bool {
        self.post(Envelope::Broadcast(msg)).is_ok()
    }

    /// Asks the loop to return from `run`. Returns false if the loop has been dropped.
    pub fn stop(&self) -> bool {
        self.post(Envelope::Stop).is_ok()
    }

    /// Send, then wake if no wake-up is pending.
    fn post(&self, envelope: Envelope<M>) -> Result<(), Envelope<M>> {
        self.tx.send(envelope).map_err(|e| e.into_inner())?;
        if !self.wake.pending.swap(true, Ordering::AcqRel) {
            if let Err(e) = self.wake.waker.wake() {
                log::error!("poller: waking a loop failed: {e}");
            }
        }
        Ok(())
    }
}

impl<M: Machine> Clone for Remote<M> {
    fn clone(&self) -> Self {
        Remote {
            tx: self.tx.clone(),
            wake: Arc::clone(&self.wake),
        }
    }
}

impl<M: Machine> fmt::Debug for Remote<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Remote")
            .field("queued", &self.tx.len())
            .finish()
    }
}

/// The loop's end of the inbox.
pub(crate) struct Inbox<M: Machine> {
    rx: Receiver<Envelope<M>>,
    remote: Remote<M>,
}

impl<M: Machine> Inbox<M> {
    pub(crate) fn new(waker: Waker) -> Inbox<M> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let wake = Arc::new(Wake {
            waker,
            pending: AtomicBool::new(false),
        });
        Inbox {
            rx,
            remote: Remote { tx, wake },
        }
    }

    pub(crate) fn remote(&self) -> Remote<M> {
        self.remote.clone()
    }

    /// Clears the pending flag so that the next send wakes the loop again.
    pub(crate) fn rearm(&self) {
        self.remote.wake.pending.store(false, Ordering::Release);
    }

    /// The next envelope, if one is queued.
    pub(crate) fn try_recv(&self) -> Option<Envelope<M>> {
        self.rx.try_recv().ok()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }
}

/// Creates the waker for a loop's poll instance.
pub(crate) fn new_waker(registry: &mio::Registry, token: Token) -> io::Result<Waker> {
    Waker::new(registry, token)
}
