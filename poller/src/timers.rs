//! Deadlines: one per machine, in a min-heap keyed by time.
//!
//! Keep-alive servers move a connection's deadline forward on every request. Pushing a heap
//! entry each time would grow the heap with the request rate, so moving a deadline *later* is
//! O(1): only the slot's [`TimerState::deadline`] changes. The entry already in the heap fires
//! early, finds the real deadline still ahead and re-arms itself there. Only moving a deadline
//! *earlier* pushes a new entry, and stale entries are dropped when they surface.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use mio::Token;

/// A slot's timer bookkeeping, kept beside its machine.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct TimerState {
    /// When the machine wants its `timeout` call; `None` when no timer is set.
    pub(crate) deadline: Option<Instant>,
    /// The time of this slot's live heap entry; `None` when it has none. Invariant: when
    /// `deadline` is set, `armed` is set and not later than it.
    pub(crate) armed: Option<Instant>,
}

/// The heap of armed deadlines of one loop.
#[derive(Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, usize)>>,
}

/// What phase 5 should do with a heap entry that came due.
pub(crate) enum Due {
    /// The slot's deadline has passed: call its machine's `timeout`.
    Fire,
    /// The entry was stale or the deadline moved on; nothing to call.
    Skip,
}

impl Timers {
    /// Sets the deadline of the slot `token` (whose bookkeeping is `state`) to `at`.
    pub(crate) fn set(&mut self, state: &mut TimerState, token: Token, at: Instant) {
        state.deadline = Some(at);
        if state.armed.map_or(true, |armed| at < armed) {
            state.armed = Some(at);
            self.heap.push(Reverse((at, token.0)));
        }
    }

    /// Clears the deadline of a slot. Its heap entry, if any, is dropped when it surfaces.
    pub(crate) fn clear(state: &mut TimerState) {
        state.deadline = None;
    }

    /// How long phase 2 may sleep: until the earliest heap entry, or forever if there is none.
    pub(crate) fn next_timeout(&self, now: Instant) -> Option<Duration> {
        self.heap
            .peek()
            .map(|Reverse((at, _))| at.saturating_duration_since(now))
    }

    /// Removes and returns the token of the earliest entry if it is due at `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(Instant, Token)> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => {
                let Reverse((at, token)) = self.heap.pop()?;
                Some((at, Token(token)))
            }
            _ => None,
        }
    }

    /// Decides what a due entry armed at `at` means for the slot that owns `state`,
    /// re-arming the slot when its deadline has moved later.
    pub(crate) fn settle(
        &mut self,
        state: &mut TimerState,
        token: Token,
        at: Instant,
        now: Instant,
    ) -> Due {
        if state.armed != Some(at) {
            return Due::Skip; // superseded by an earlier entry for the same slot
        }
        state.armed = None;
        match state.deadline {
            Some(deadline) if deadline <= now => {
                state.deadline = None;
                Due::Fire
            }
            Some(deadline) => {
                self.set(state, token, deadline);
                Due::Skip
            }
            None => Due::Skip,
        }
    }

    /// Drops the entries `live` rejects (stale ones, after a drain) and frees the room they
    /// took.
    pub(crate) fn retain(&mut self, mut live: impl FnMut(Token, Instant) -> bool) {
        self.heap
            .retain(|Reverse((at, token))| live(Token(*token), *at));
        self.heap.shrink_to_fit();
    }

    /// How many entries the heap holds (live and stale).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fire_all(timers: &mut Timers, states: &mut [TimerState], now: Instant) -> Vec<usize> {
        let mut fired = Vec::new();
        while let Some((at, token)) = timers.pop_due(now) {
            if let Due::Fire = timers.settle(&mut states[token.0], token, at, now) {
                fired.push(token.0);
            }
        }
        fired
    }

    #[test]
    fn deadlines_fire_in_time_order() {
        let start = Instant::now();
        let mut timers = Timers::default();
        let mut states = [TimerState::default(); 3];
        for (slot, ms) in [(0, 30), (1, 10), (2, 20)] {
            timers.set(
                &mut states[slot],
                Token(slot),
                start + Duration::from_millis(ms),
            );
        }
        assert_eq!(timers.next_timeout(start), Some(Duration::from_millis(10)));
        let later = start + Duration::from_millis(25);
        assert_eq!(fire_all(&mut timers, &mut states, later), vec![1, 2]);
        let end = start + Duration::from_millis(30);
        assert_eq!(fire_all(&mut timers, &mut states, end), vec![0]);
        assert_eq!(timers.next_timeout(end), None);
    }

    #[test]
    fn moving_a_deadline_later_pushes_nothing() {
        let start = Instant::now();
        let mut timers = Timers::default();
        let mut state = [TimerState::default()];
        for ms in 1..=1000 {
            timers.set(&mut state[0], Token(0), start + Duration::from_millis(ms));
        }
        assert_eq!(timers.len(), 1);
        // The first entry surfaces early, re-arms at the real deadline and fires there.
        assert!(fire_all(&mut timers, &mut state, start + Duration::from_millis(1)).is_empty());
        let end = start + Duration::from_millis(1000);
        assert_eq!(fire_all(&mut timers, &mut state, end), vec![0]);
    }

    #[test]
    fn a_cleared_or_earlier_deadline_leaves_no_stale_call() {
        let start = Instant::now();
        let mut timers = Timers::default();
        let mut states = [TimerState::default(); 2];
        timers.set(&mut states[0], Token(0), start + Duration::from_millis(50));
        timers.set(&mut states[0], Token(0), start + Duration::from_millis(5));
        timers.set(&mut states[1], Token(1), start + Duration::from_millis(5));
        Timers::clear(&mut states[1]);
        let end = start + Duration::from_millis(100);
        assert_eq!(fire_all(&mut timers, &mut states, end), vec![0]);
    }

    #[test]
    fn retain_keeps_only_live_entries_and_they_still_fire() {
        let start = Instant::now();
        let mut timers = Timers::default();
        let mut states = [TimerState::default(); 100];
        for (slot, state) in states.iter_mut().enumerate() {
            timers.set(
                state,
                Token(slot),
                start + Duration::from_millis(slot as u64),
            );
        }
        // Every slot but 7 is gone.
        timers.retain(|token, _| token.0 == 7);
        assert_eq!(timers.len(), 1);
        let end = start + Duration::from_millis(100);
        assert_eq!(fire_all(&mut timers, &mut states, end), vec![7]);
    }
}
