//! The slab of machines, and the tokens that name them.
//!
//! A [`mio::Token`] carries a slot index in its low half and a generation in its high half.
//! When a slot is freed and reused, the new occupant gets a new generation, so an event or a
//! message still addressed to the old occupant finds a mismatch and is dropped.

use mio::Token;
use slab::Slab;

use crate::timers::TimerState;

/// Bits of a token that hold the slot index; the rest hold the generation.
const INDEX_BITS: u32 = usize::BITS / 2;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;

/// Below this many slots the table is never shrunk: small tables are not worth the work.
const MIN_SHRINK: usize = 64;

/// The token of the loop's own waker. No slot index reaches it (the slab would need
/// `INDEX_MASK` entries first).
pub(crate) const WAKER: Token = Token(usize::MAX);

/// How the trace names a token: its slot, then its generation (`3.1` is the first machine
/// in slot 3); the loop's waker is `waker`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label(pub Token);

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            WAKER => f.write_str("waker"),
            Token(t) => write!(f, "{}.{}", t & INDEX_MASK, t >> INDEX_BITS),
        }
    }
}

/// One occupied slot: a machine and the loop's bookkeeping for it.
pub(crate) struct Entry<M> {
    pub(crate) machine: M,
    /// The generation baked into this occupant's token.
    generation: usize,
    /// Its deadline, if any (phase 5 reads it).
    pub(crate) timer: TimerState,
    /// Set when the machine returned `Next::Close`; phase 6 removes it.
    pub(crate) closed: bool,
}

/// Machines indexed by token.
pub(crate) struct Slots<M> {
    slab: Slab<Entry<M>>,
    /// Generation for the next insertion; wraps, which is harmless at this width.
    next_generation: usize,
    /// Occupancy at the last shrink attempt since the table was last busy; `usize::MAX`
    /// when there has been none. See [`Slots::shrink_if_sparse`].
    tried_at: usize,
}

impl<M> Slots<M> {
    pub(crate) fn new() -> Self {
        Slots {
            slab: Slab::new(),
            next_generation: 1,
            tried_at: usize::MAX,
        }
    }

    /// Puts a machine in a free slot and returns its token.
    pub(crate) fn insert(&mut self, machine: M) -> Token {
        let generation = self.next_generation & (usize::MAX >> INDEX_BITS);
        self.next_generation = self.next_generation.wrapping_add(1);
        let index = self.slab.insert(Entry {
            machine,
            generation,
            timer: TimerState::default(),
            closed: false,
        });
        assert!(index < INDEX_MASK, "poller: slot table full");
        if self.slab.len() * 4 > self.slab.capacity() {
            self.tried_at = usize::MAX; // busy again: the next drain may shrink
        }
        Token(generation << INDEX_BITS | index)
    }

    /// The live (not closed) occupant named by `token`, or `None` if the token is stale.
    pub(crate) fn get_mut(&mut self, token: Token) -> Option<&mut Entry<M>> {
        let (index, generation) = (token.0 & INDEX_MASK, token.0 >> INDEX_BITS);
        match self.slab.get_mut(index) {
            Some(entry) if entry.generation == generation && !entry.closed => Some(entry),
            _ => None,
        }
    }

    /// Frees the slot of `token` and returns its machine, if the token is current.
    pub(crate) fn remove(&mut self, token: Token) -> Option<M> {
        let (index, generation) = (token.0 & INDEX_MASK, token.0 >> INDEX_BITS);
        match self.slab.get(index) {
            Some(entry) if entry.generation == generation => Some(self.slab.remove(index).machine),
            _ => None,
        }
    }

    /// The tokens of every live machine, in slot order.
    pub(crate) fn tokens(&self) -> Vec<Token> {
        self.slab
            .iter()
            .filter(|(_, entry)| !entry.closed)
            .map(|(index, entry)| Token(entry.generation << INDEX_BITS | index))
            .collect()
    }

    /// Gives memory back after a drain: when at most a quarter of the table is occupied,
    /// drops the free slots past the last occupied one and shrinks the allocation to fit.
    /// Returns true if the table shrank.
    ///
    /// Slots cannot move (tokens name them), so one long-lived machine high in the table
    /// stops the shrink. To keep a failing attempt from costing a table walk per close, the
    /// next attempt waits until occupancy has halved again; a table that fills back past a
    /// quarter starts afresh.
    pub(crate) fn shrink_if_sparse(&mut self) -> bool {
        let (len, capacity) = (self.slab.len(), self.slab.capacity());
        if capacity < MIN_SHRINK || len * 4 > capacity || len * 2 > self.tried_at {
            return false;
        }
        self.tried_at = len;
        self.slab.shrink_to_fit();
        self.slab.capacity() < capacity
    }

    /// Whether the live slot named by `token` has a heap entry armed at `at`.
    pub(crate) fn is_armed_at(&self, token: Token, at: std::time::Instant) -> bool {
        let (index, generation) = (token.0 & INDEX_MASK, token.0 >> INDEX_BITS);
        match self.slab.get(index) {
            Some(entry) => entry.generation == generation && entry.timer.armed == Some(at),
            None => false,
        }
    }

    /// How many machines occupy slots (closed ones included until reaped).
    pub(crate) fn len(&self) -> usize {
        self.slab.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_slot_rejects_the_old_token() {
        let mut slots = Slots::new();
        let old = slots.insert("first");
        assert_eq!(slots.remove(old), Some("first"));
        let new = slots.insert("second");
        assert_eq!(old.0 & INDEX_MASK, new.0 & INDEX_MASK, "the slot is reused");
        assert!(slots.get_mut(old).is_none());
        assert_eq!(slots.get_mut(new).map(|e| e.machine), Some("second"));
        assert_eq!(slots.remove(old), None);
    }

    #[test]
    fn a_drained_table_shrinks_and_old_tokens_stay_stale() {
        let mut slots = Slots::new();
        let tokens: Vec<_> = (0..1000).map(|i| slots.insert(i)).collect();
        let capacity = slots.slab.capacity();
        assert!(!slots.shrink_if_sparse(), "a full table does not shrink");
        for &token in &tokens[1..] {
            slots.remove(token);
        }
        assert!(slots.shrink_if_sparse());
        assert!(
            slots.slab.capacity() < capacity / 100,
            "only slot 0 is left"
        );
        let new = slots.insert(1000);
        assert!(
            slots.get_mut(tokens[1]).is_none(),
            "generations outlive the shrink"
        );
        assert_eq!(slots.get_mut(new).map(|e| e.machine), Some(1000));
    }

    #[test]
    fn a_pinned_table_is_not_walked_on_every_close() {
        let mut slots = Slots::new();
        let tokens: Vec<_> = (0..1000).map(|i| slots.insert(i)).collect();
        // The last slot stays occupied, so nothing can be dropped.
        for &token in &tokens[..999] {
            slots.remove(token);
            slots.shrink_if_sparse();
        }
        assert_eq!(
            slots.tried_at, 1,
            "attempts at 256, 128, ... occupants, the last at 1"
        );
        assert!(slots.slab.capacity() >= 1000);
    }

    #[test]
    fn a_closed_entry_is_invisible_until_removed() {
        let mut slots = Slots::new();
        let token = slots.insert(1);
        slots.get_mut(token).unwrap().closed = true;
        assert!(slots.get_mut(token).is_none());
        assert_eq!(slots.len(), 1);
        assert_eq!(slots.remove(token), Some(1));
        assert_eq!(slots.len(), 0);
    }
}
