//! [`Waiter`]: where a blocking handler's thread waits for its loop without spinning: for
//! the next piece of its request body, and for the loop to catch up with its response
//! (`offload/turn.rs`).
//!
//! A blocking `crossbeam-channel` receive spins, then yields the processor about four
//! times, before it sleeps. A handler reading an upload is usually faster than the
//! network, so it waits for nearly every piece; where the loop and the handler share a
//! core (a small container, or the benchmark's pinned server), perf put the spinning and
//! yielding at a tenth of the server's CPU, and each yield was a system call. So the
//! reader tries the channel without blocking, and when it must wait, it parks at once;
//! the loop wakes it after each piece it sends, and after it closes its end (a 1 GiB
//! upload: about 650 ms of server CPU before, 540 after, alternating runs). A response
//! writer's send to a full channel keeps the channel's own wait (see `Outgoing::send`).

use std::sync::{Mutex, PoisonError};
use std::thread::{self, Thread};
use std::time::Duration;

/// How long a parked handler sleeps before it looks again by itself. Every change it waits
/// on comes with a wake-up, so this only bounds what a missed one could cost.
const LOOK_AGAIN: Duration = Duration::from_secs(1);

/// One handler thread's place to wait for its loop, shared by both.
#[derive(Debug, Default)]
pub(crate) struct Waiter {
    /// The thread parked, or about to park.
    parked: Mutex<Option<Thread>>,
}

impl Waiter {
    /// Calls `attempt` until it returns `Some`, parking this thread between attempts. The
    /// other side calls [`wake`](Waiter::wake) after each change that may let an attempt
    /// succeed; since the thread is registered before its second attempt, a change made
    /// between the two attempts is seen by the second, and one made after it wakes it.
    pub(crate) fn wait<T>(&self, mut attempt: impl FnMut() -> Option<T>) -> T {
        loop {
            if let Some(done) = attempt() {
                return done;
            }
            *self.slot() = Some(thread::current());
            if let Some(done) = attempt() {
                self.slot().take();
                return done;
            }
            thread::park_timeout(LOOK_AGAIN);
        }
    }

    /// Wakes the thread waiting, if one is.
    pub(crate) fn wake(&self) {
        let parked = self.slot().take();
        if let Some(thread) = parked {
            thread.unpark();
        }
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Thread>> {
        self.parked.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Instant;

    use super::*;

    #[test]
    fn a_change_right_after_a_failed_attempt_is_not_missed() {
        // The change comes between the first attempt and the thread's registration, where
        // no wake-up can reach it (here, with none at all): the second attempt sees it.
        let waiter = Waiter::default();
        let changed = AtomicUsize::new(0);
        let started = Instant::now();
        waiter.wait(|| (changed.fetch_add(1, Ordering::AcqRel) > 0).then_some(()));
        assert!(
            started.elapsed() < LOOK_AGAIN / 2,
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_waiter_wakes_at_each_change_not_at_its_safety_net() {
        let waiter = Arc::new(Waiter::default());
        let count = Arc::new(AtomicUsize::new(0));
        let (w, c) = (Arc::clone(&waiter), Arc::clone(&count));
        let started = Instant::now();
        let waiting = thread::spawn(move || {
            for want in 1..=1000 {
                w.wait(|| (c.load(Ordering::Acquire) >= want).then_some(()));
            }
        });
        for _ in 0..1000 {
            count.fetch_add(1, Ordering::Release);
            waiter.wake();
            thread::yield_now();
        }
        waiting.join().unwrap();
        // A missed wake-up costs `LOOK_AGAIN` (a second); a thousand waits take far less.
        assert!(started.elapsed() < LOOK_AGAIN, "{:?}", started.elapsed());
    }
}
