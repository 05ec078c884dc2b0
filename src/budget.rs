//! The memory budget: every byte the server holds for clients, counted against one limit,
//! and the queue of connections waiting for room.
//!
//! Each connection reports its footprint (buffers, a body being collected or the room
//! reserved for it, a blocking handler's channels) to its loop's [`Meter`], which keeps an
//! exact count of the loop's bytes. The meters take room from the server's [`Budget`] in
//! [`FLOAT`]-sized steps and give back what they no longer need, so a request whose
//! buffers come and go within a loop's float (every small request) touches no lock and no
//! shared counter.
//!
//! What is counted but never waits: the buffers a request needs to be seen at all (its
//! read buffer and head), and responses, which are written by handlers that have already
//! run. What waits: a body larger than a read buffer. Before a connection reads such a body
//! it reserves room for the whole of it (a `Content-Length` body) or up to the body limit (a
//! chunked one; see `conn/collect.rs`). If the budget has no room, the connection stops reading (TCP's window
//! closes and the client waits) and takes a [`Ticket`] in the budget's queue. Memory given
//! back is handed to the queue oldest first: the first ticket that fits is granted and its
//! connection woken. Nothing is refused for want of memory; it waits.
//!
//! The limit is a threshold for admission, not a hard cap on the process: responses and the
//! buffers of small requests go ahead past it, so what the server holds can exceed the limit
//! by what is in flight at one moment (measurements: `docs/memory.md`).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// How much room a loop takes from the budget at a time, and keeps while it has
/// connections and no one waits: enough for the buffers of a few dozen small requests, so
/// the hello path never touches the shared ledger. Smaller for a small budget (see
/// [`Budget::new`]).
const FLOAT: usize = 256 * 1024;

/// A server's memory budget, shared by its loops.
#[derive(Debug)]
pub(crate) struct Budget {
    limit: usize,
    /// Each loop's float: [`FLOAT`], or an eighth of a loop's share of a small budget.
    float: usize,
    ledger: Mutex<Ledger>,
    /// Each loop's exact count of bytes held, published for [`Budget::stats`].
    held: Box<[AtomicUsize]>,
    /// Tickets in the queue (read without the lock, to decide whether to give room back).
    waiting: AtomicUsize,
}

/// What the lock protects: room taken by the loops, and who waits for more.
#[derive(Debug, Default)]
struct Ledger {
    /// Bytes the loops' meters have taken, plus grants not yet adopted.
    taken: usize,
    queue: VecDeque<Waiter>,
    next_id: u64,
}

/// A connection waiting for room.
struct Waiter {
    id: u64,
    need: usize,
    /// Set when the budget grants the room.
    granted: Arc<AtomicBool>,
    /// Tells the connection (through its loop) that its ticket is granted.
    wake: Box<dyn FnOnce() + Send>,
}

impl std::fmt::Debug for Waiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiter")
            .field("id", &self.id)
            .field("need", &self.need)
            .finish()
    }
}

/// A connection's place in the queue. Dropped before [`Meter::adopt`] takes its room (the
/// connection closed or gave up the request), it leaves the queue, or gives its room back
/// if it was granted meanwhile: a ticket never leaks room.
#[derive(Debug)]
pub(crate) struct Ticket {
    budget: Arc<Budget>,
    id: u64,
    need: usize,
    /// Set once the room is granted.
    granted: Arc<AtomicBool>,
    /// Its room has been adopted by a meter: dropping it changes nothing.
    adopted: bool,
}

impl Ticket {
    /// The budget has granted the room this ticket waits for.
    pub(crate) fn is_granted(&self) -> bool {
        self.granted.load(Ordering::Acquire)
    }

    /// The room it waits for.
    pub(crate) fn need(&self) -> usize {
        self.need
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.adopted {
            return;
        }
        let mut ledger = self.budget.lock();
        if let Some(i) = ledger.queue.iter().position(|w| w.id == self.id) {
            ledger.queue.remove(i);
            self.budget
                .waiting
                .store(ledger.queue.len(), Ordering::Relaxed);
            drop(ledger);
            if i == 0 {
                self.budget.give_back(0); // whoever was behind it may fit now
            }
        } else if self.is_granted() {
            drop(ledger);
            self.budget.give_back(self.need);
        }
    }
}

/// The answer to a reservation.
#[derive(Debug)]
pub(crate) enum Reservation {
    /// The room is the caller's: count it in its footprint now.
    Granted,
    /// No room: the caller waits with this ticket, and is woken when it is granted.
    Waiting(Ticket),
}

/// The figures of a server's memory budget at one moment (from
/// [`Running::memory`](crate::Running::memory) or [`Handle::memory`](crate::Handle::memory)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryStats {
    /// The budget ([`Server::max_memory`](crate::Server::max_memory)).
    pub budget: usize,
    /// Bytes held for clients now: buffers, request bodies and the room reserved for them,
    /// responses waiting for their sockets, blocking handlers' channels.
    pub held: usize,
    /// Connections waiting for room before they read their request bodies.
    pub waiting: usize,
}

impl Budget {
    /// A budget of `limit` bytes for a server of `loops` event loops.
    pub(crate) fn new(limit: usize, loops: usize) -> Budget {
        Budget {
            limit,
            float: (limit / (8 * loops.max(1))).min(FLOAT),
            ledger: Mutex::default(),
            held: (0..loops.max(1)).map(|_| AtomicUsize::new(0)).collect(),
            waiting: AtomicUsize::new(0),
        }
    }

    /// The figures now.
    pub(crate) fn stats(&self) -> MemoryStats {
        MemoryStats {
            budget: self.limit,
            held: self.held.iter().map(|h| h.load(Ordering::Relaxed)).sum(),
            waiting: self.waiting.load(Ordering::Relaxed),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Gives `n` bytes back and grants the queue what now fits, oldest first.
    fn give_back(&self, n: usize) {
        let mut woken = Vec::new();
        {
            let mut ledger = self.lock();
            ledger.taken = ledger.taken.saturating_sub(n);
            while let Some(front) = ledger.queue.front() {
                if ledger.taken + front.need > self.limit && ledger.taken > 0 {
                    break; // strict order: no one passes the oldest
                }
                let waiter = ledger.queue.pop_front().expect("front exists");
                ledger.taken += waiter.need;
                waiter.granted.store(true, Ordering::Release);
                woken.push(waiter.wake);
            }
            self.waiting.store(ledger.queue.len(), Ordering::Relaxed);
        }
        for wake in woken {
            wake();
        }
    }
}

/// One loop's count of the bytes its connections hold, and the room it has taken for them.
#[derive(Debug)]
pub(crate) struct Meter {
    budget: Arc<Budget>,
    /// This loop's index into the budget's published counts.
    index: usize,
    /// Bytes the loop's connections hold (the sum of their footprints).
    used: usize,
    /// Room taken from the budget: at least `used`.
    taken: usize,
}

impl Meter {
    pub(crate) fn new(budget: Arc<Budget>, index: usize) -> Meter {
        Meter {
            budget,
            index,
            used: 0,
            taken: 0,
        }
    }

    /// A connection's footprint changed from `old` to `new` bytes. Growth is taken from the
    /// budget whether or not it fits (what is already held cannot wait); room no longer
    /// needed is given back, all of it while connections wait or the loop holds nothing.
    /// Inlined: most calls (every kept-alive request's) find nothing changed.
    #[inline]
    pub(crate) fn charge(&mut self, old: usize, new: usize) {
        if old != new {
            self.change(old, new);
        }
    }

    /// [`charge`](Self::charge) for a footprint that did change.
    fn change(&mut self, old: usize, new: usize) {
        self.used = self.used + new - old;
        if self.used > self.taken {
            let more = self.used - self.taken + self.budget.float;
            self.budget.lock().taken += more;
            self.taken += more;
        } else {
            let float = self.budget.float;
            let keep = match self.used == 0 || self.budget.waiting.load(Ordering::Relaxed) > 0 {
                true => self.used,
                false => self.used + float,
            };
            if self.taken > keep + float || (keep == self.used && self.taken > keep) {
                let surplus = self.taken - keep;
                self.taken = keep;
                self.budget.give_back(surplus);
            }
        }
        self.budget.held[self.index].store(self.used, Ordering::Relaxed);
    }

    /// Asks for `n` more bytes of room, for a body about to be read. Granted at once if the
    /// loop's float or the budget has room and no one waits; else the caller waits, and
    /// `wake` is called (from whichever thread gives room back) once its ticket is granted.
    /// Granted room is the caller's to count in its footprint.
    pub(crate) fn reserve(
        &mut self,
        n: usize,
        wake: impl FnOnce() + Send + 'static,
    ) -> Reservation {
        if self.used + n <= self.taken {
            return Reservation::Granted; // within the float
        }
        let mut ledger = self.budget.lock();
        // A reservation larger than the whole budget goes ahead alone, when nothing else is
        // held, rather than wait forever.
        let fits = ledger.taken + n <= self.budget.limit || ledger.taken == 0;
        if ledger.queue.is_empty() && fits {
            ledger.taken += n;
            self.taken += n;
            return Reservation::Granted;
        }
        let id = ledger.next_id;
        ledger.next_id += 1;
        let granted = Arc::new(AtomicBool::new(false));
        ledger.queue.push_back(Waiter {
            id,
            need: n,
            granted: Arc::clone(&granted),
            wake: Box::new(wake),
        });
        self.budget
            .waiting
            .store(ledger.queue.len(), Ordering::Relaxed);
        Reservation::Waiting(Ticket {
            budget: Arc::clone(&self.budget),
            id,
            need: n,
            granted,
            adopted: false,
        })
    }

    /// Takes the room a granted ticket holds: the caller counts it in its footprint next.
    pub(crate) fn adopt(&mut self, mut ticket: Ticket) {
        debug_assert!(ticket.is_granted());
        self.taken += ticket.need;
        ticket.adopted = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag() -> (Arc<AtomicBool>, impl FnOnce() + Send + 'static) {
        let woken = Arc::new(AtomicBool::new(false));
        let set = Arc::clone(&woken);
        (woken, move || set.store(true, Ordering::SeqCst))
    }

    #[test]
    fn small_footprints_stay_within_the_float() {
        let budget = Arc::new(Budget::new(64 << 20, 2));
        let mut meter = Meter::new(Arc::clone(&budget), 0);
        meter.charge(0, 8192);
        assert_eq!(budget.lock().taken, 8192 + FLOAT);
        for _ in 0..100 {
            meter.charge(8192, 16384);
            meter.charge(16384, 8192);
        }
        assert_eq!(
            budget.lock().taken,
            8192 + FLOAT,
            "no traffic with the ledger"
        );
        assert_eq!(budget.stats().held, 8192);
        meter.charge(8192, 0);
        assert_eq!(
            budget.lock().taken,
            0,
            "a loop holding nothing keeps no float"
        );
    }

    #[test]
    fn a_reservation_waits_and_is_granted_oldest_first() {
        let budget = Arc::new(Budget::new(1000, 1));
        let mut meter = Meter::new(Arc::clone(&budget), 0);
        assert!(matches!(meter.reserve(900, || ()), Reservation::Granted));
        meter.charge(0, 900);
        let (first_woken, wake_first) = flag();
        let Reservation::Waiting(first) = meter.reserve(200, wake_first) else {
            panic!("over the budget")
        };
        let (second_woken, wake_second) = flag();
        let Reservation::Waiting(second) = meter.reserve(10, wake_second) else {
            panic!("no one passes the oldest")
        };
        assert_eq!(budget.stats().waiting, 2);
        meter.charge(900, 0);
        assert!(first_woken.load(Ordering::SeqCst) && first.is_granted());
        assert!(
            second_woken.load(Ordering::SeqCst),
            "both fit once the 900 are back"
        );
        meter.adopt(first);
        meter.charge(0, 200);
        drop(second); // granted, then its connection closed: the room goes back
        assert_eq!(budget.lock().taken, 200);
        meter.charge(200, 0);
        assert_eq!(budget.lock().taken, 0);
        let stats = MemoryStats {
            budget: 1000,
            held: 0,
            waiting: 0,
        };
        assert_eq!(budget.stats(), stats);
    }

    #[test]
    fn a_cancelled_ticket_leaves_the_queue_and_one_too_large_goes_alone() {
        let budget = Arc::new(Budget::new(100, 1));
        let mut meter = Meter::new(Arc::clone(&budget), 0);
        meter.charge(0, 10);
        let Reservation::Waiting(ticket) = meter.reserve(200, || ()) else {
            panic!("larger than the budget, with the budget in use")
        };
        drop(ticket);
        assert_eq!(budget.stats().waiting, 0);
        meter.charge(10, 0);
        assert!(matches!(meter.reserve(200, || ()), Reservation::Granted));
    }
}
