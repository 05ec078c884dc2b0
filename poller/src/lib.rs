//! A small readiness event loop over [mio], written to be read.
//!
//! # What readiness is
//!
//! A socket is a queue in the kernel. Reading an empty one, or writing a full one, would make
//! a thread wait. A *readiness* loop never lets that happen: it asks the kernel (with
//! `epoll_wait`, through mio) which sockets can make progress now, does exactly that work, and
//! goes back to sleep. One thread can then serve ten thousand connections, and a thread with
//! nothing to do costs nothing: it sleeps in the kernel until there is work, making no system
//! calls at all.
//!
//! mio is **edge-triggered**: it reports a socket when it *becomes* readable or writable, not
//! while it *stays* so. A machine that is told "readable" must therefore read until the
//! kernel answers `WouldBlock` (or remember that it stopped early and ask to run
//! [`again`](Cx::again)), or it will never hear about the remaining bytes. Events may also be
//! spurious: a read after "readable" may still say `WouldBlock`, and that is fine.
//!
//! # The pieces
//!
//! * A [`Machine`] is one state machine: a listener, a connection. The loop owns them in a
//!   slab; each has a [`mio::Token`] that carries its slot and a generation, so an event for a
//!   slot that has since been reused is recognised and dropped.
//! * [`Cx`] is what a machine may do while it is being called: register sources, set its one
//!   deadline, spawn new machines, ask to run again.
//! * A [`Remote`] lets other threads post a new machine or a message to a loop: a channel
//!   send, then at most one wake-up per batch.
//!
//! # One turn of the loop
//!
//! [`EventLoop::turn`] runs these phases, in this order:
//!
//! 1. **Compute the timeout.** Zero if work was left over, else until the earliest deadline,
//!    else *forever*: an idle loop with no timers blocks in the kernel indefinitely.
//! 2. **Poll.** Sleep in `epoll_wait` until a source is ready, the waker fires or the
//!    timeout ends.
//! 3. **Dispatch readiness.** Call [`Machine::ready`] for each event, then for each machine
//!    that asked to run again.
//! 4. **Drain the inbox.** Clear the wake-up flag, then adopt spawned machines and deliver
//!    messages posted by other threads (a bounded number per turn).
//! 5. **Fire due timers.** Call [`Machine::timeout`] for each passed deadline, earliest first.
//! 6. **Reap closed machines.** Drop the machines that returned [`Next::Close`]; dropping a
//!    socket closes it, and the kernel forgets its registration. When that leaves the slab
//!    at most a quarter full, shrink it, and drop the timer entries of machines that are
//!    gone, so a loop gives back what a burst of connections made it grow.
//!
//! # Example
//!
//! `examples/tcp_echo.rs` is a whole TCP echo server in one file. Run it with
//! `cargo run -p nethttp-poller --example tcp_echo` and type into `nc 127.0.0.1 7007`.
//!
//! # Watching it work
//!
//! At `log`'s trace level the loop reports each sleep, readiness event, timer, message,
//! spawn and close, one line each with its token (shown as slot.generation, see
//! [`Label`]); its machines may add their own lines. Here is one keep-alive HTTP request
//! through nethttp's server, which runs on this loop (`cargo run --example trace` in the
//! workspace's root package; token 0.1 is the listener, 1.2 the connection):
//!
//! ```text
//! TRACE [main] token 0.1: spawned
//! TRACE [nethttp-loop-0] poll: sleeping for forever
//! ----- client: connects and sends one request
//! TRACE [nethttp-loop-0] token 0.1: readable
//! TRACE [nethttp-loop-0] token 1.2: spawned
//! TRACE [nethttp-loop-0] token 1.2: connection New
//! TRACE [nethttp-loop-0] token 1.2: timer set, due in 10.94956465s
//! TRACE [nethttp-loop-0] token 1.2: 127.0.0.1:53476 reading a head, 0 bytes to write, timer Header
//! TRACE [nethttp-loop-0] poll: sleeping for 10.949191505s
//! TRACE [nethttp-loop-0] token 1.2: readable | writable
//! TRACE [nethttp-loop-0] token 1.2: connection Active
//! TRACE [nethttp-loop-0] token 1.2: GET / HTTP/1.1, body Empty, for an inline handler
//! TRACE [nethttp-loop-0] token 1.2: answered, 130 bytes queued
//! TRACE [nethttp-loop-0] token 1.2: connection Idle
//! TRACE [nethttp-loop-0] token 1.2: timer set, due in 60.949184094s
//! TRACE [nethttp-loop-0] token 1.2: 127.0.0.1:53476 reading a head, 0 bytes to write, timer Idle
//! TRACE [nethttp-loop-0] poll: sleeping for 10.948961914s
//! ----- client: has its answer (130 bytes); closes
//! TRACE [nethttp-loop-0] token 1.2: readable | read-closed | writable
//! TRACE [nethttp-loop-0] token 1.2: connection Closed
//! TRACE [nethttp-loop-0] token 1.2: closed
//! TRACE [nethttp-loop-0] poll: sleeping for 10.898361579s
//! ```
//!
//! Read it against the six phases: the loop sleeps (phase 2) until the listener is
//! readable (phase 3); the listener accepts and spawns the connection, which starts at
//! once, registering its socket and arming its header deadline. The request's bytes
//! arrive (phase 3 again), and within that one call the connection reads, parses, answers
//! and writes, then arms its idle deadline. The next sleep is still bounded by the header
//! deadline: moving a deadline later leaves its old heap entry in place, found stale when
//! it comes due (see `timers.rs`). The client's end of file closes the connection, and
//! phase 6 drops it.
//!
//! A machine that only counts its timer calls, driven by hand:
//!
//! ```
//! use std::time::Duration;
//! use poller::{Cx, EventLoop, Machine, Next, Readiness};
//!
//! struct Ticker(u32);
//!
//! impl Machine for Ticker {
//!     type Msg = ();
//!     type Local = ();
//!     fn start(&mut self, cx: &mut Cx<'_, Self>) -> Next {
//!         let at = cx.now() + Duration::from_millis(1);
//!         cx.set_timer(at);
//!         Next::Continue
//!     }
//!     fn ready(&mut self, _: &mut Cx<'_, Self>, _: Readiness) -> Next { Next::Continue }
//!     fn message(&mut self, _: &mut Cx<'_, Self>, _: ()) -> Next { Next::Continue }
//!     fn timeout(&mut self, cx: &mut Cx<'_, Self>) -> Next {
//!         self.0 += 1;
//!         if self.0 == 3 {
//!             return Next::Close;
//!         }
//!         let at = cx.now() + Duration::from_millis(1);
//!         cx.set_timer(at);
//!         Next::Continue
//!     }
//! }
//!
//! let mut lp = EventLoop::new(())?;
//! lp.insert(Ticker(0));
//! while !lp.is_empty() {
//!     lp.turn()?;
//! }
//! assert_eq!(lp.counters().snapshot().timers, 3);
//! # Ok::<(), std::io::Error>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod context;
mod event_loop;
mod inbox;
mod machine;
mod slots;
mod timers;

pub use context::Cx;
pub use event_loop::{Counters, EventLoop, Stats};
pub use inbox::Remote;
pub use machine::{Machine, Next, Readiness};
pub use mio::{Interest, Token};
pub use slots::Label;
