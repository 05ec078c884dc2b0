//! What one loop's machines share ([`Local`]), the messages they receive ([`Msg`]), and
//! [`Loop`], the event loop as a connection sees it.
//!
//! Below the machines (`conn.rs`, `accept.rs`), above the parts they use (buffers, the
//! `Date` cache, the memory meter): a connection is written against [`Loop`], not against
//! the slab's enum of machines, which `accept.rs` defines above it.

use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, Instant};

use poller::Machine;

use crate::budget::Meter;
use crate::buf::BufferPool;
use crate::config::Config;
use crate::encode::DateCache;
use crate::offload::poke::Wake;
use crate::parse::Facts;
use crate::request::Request;
use crate::response::{Parts, ResponseWriter};
use crate::stats::LoopStats;

/// Starting size of a loop's arena for request heads: room for a pipelined batch.
const HEAD_ARENA: usize = 16 * 1024;

/// The event loop a connection runs in: any poller loop whose machines share [`Local`] and
/// receive [`Msg`].
pub(crate) trait Loop: Machine<Msg = Msg, Local = Local> {}

impl<M: Machine<Msg = Msg, Local = Local>> Loop for M {}

/// What one loop's machines share: configuration, the `Date` cache, buffers.
pub(crate) struct Local {
    /// This loop's counters (`stats.rs`), written by its thread only.
    pub(crate) stats: Arc<LoopStats>,
    pub(crate) config: Arc<Config>,
    pub(crate) date: DateCache,
    /// Spare read and write buffers, for this loop's connections.
    pub(crate) buffers: BufferPool,
    /// What this loop's connections hold, counted against the server's budget.
    pub(crate) meter: Meter,
    /// The writer of every inline response on this loop, kept in place: its header map
    /// and body staging buffer are reused from response to response (cleared, capacity
    /// kept).
    pub(crate) writer: ResponseWriter,
    /// The request every head on this loop is parsed into, in place (`parse::parse_into`),
    /// answered there by an inline handler and then recycled (its field list keeps its
    /// capacity). A request that waits for its body or goes to the blocking pool is taken
    /// out and leaves a blank one.
    pub(crate) request: Request,
    /// When the last inline handler on this loop returned (for the slow-handler warning).
    pub(crate) clock: Instant,
    /// Where request heads are copied (see `parse::parse_into`).
    pub(crate) heads: bytes::BytesMut,
    /// This loop's inbox as other threads wake a connection through it (`Msg::Poke`): its
    /// blocking handler, or the memory budget. Set right after the loop is created.
    pub(crate) waker: Option<Arc<dyn Wake>>,
    /// Idle connections closed for the latest `Msg::Shed`.
    pub(crate) shedding: Shedding,
    /// Where file bodies pass between file and socket (see `offload/stream.rs`); empty until
    /// this loop sends one.
    pub(crate) scratch: Vec<u8>,
}

impl Local {
    /// Takes the request just parsed, for a phase that keeps it (body collection, the
    /// blocking pool), leaving a blank one to parse the next head into.
    pub(crate) fn take_request(&mut self) -> Request {
        std::mem::replace(&mut self.request, Request::blank())
    }

    /// The loop's last connection closed: frees what its requests grew (the staging
    /// buffers are made again by the next request that needs them).
    pub(crate) fn release(&mut self) {
        self.writer.release_staging(None);
        self.request = Request::blank();
        self.scratch = Vec::new();
    }

    pub(crate) fn new(config: Arc<Config>, index: usize) -> Local {
        Local {
            meter: Meter::new(Arc::clone(&config.budget), index),
            stats: Arc::clone(&config.loop_stats[index]),
            config,
            date: DateCache::new(),
            buffers: BufferPool::default(),
            writer: ResponseWriter::new(Parts::default(), Facts::default(), &[b' '; 29]),
            request: Request::blank(),
            heads: bytes::BytesMut::with_capacity(HEAD_ARENA),
            clock: Instant::now(),
            waker: None,
            shedding: Shedding::default(),
            scratch: Vec::new(),
        }
    }
}

/// Messages a loop's machines receive from other threads.
#[derive(Debug, Clone)]
pub(crate) enum Msg {
    /// Something the connection waits for has moved: a blocking handler took or sent a
    /// piece through its channels, or the memory budget granted the room a body waits for.
    /// Look again.
    Poke,
    /// A graceful shutdown began (broadcast to every machine).
    Shutdown,
    /// Keep-alives were disabled: connections between requests close (broadcast).
    CloseIdle,
    /// The listener is out of descriptors or at the connection cap: each loop closes up to
    /// [`SHED_PER_LOOP`] connections that have sat idle for [`SHED_IDLE`], to make room for
    /// new ones. The number tells one broadcast from the next (see [`Shedding`]).
    Shed(u32),
    /// A value for every upgraded connection's protocol (`Handle::notify_upgraded`).
    Notify(Arc<dyn Any + Send + Sync>),
}

/// Most idle connections one loop closes for one [`Msg::Shed`].
pub(crate) const SHED_PER_LOOP: u32 = 64;

/// How long a connection must have sat idle (no request under way, nothing buffered) to be
/// closed for room. A client sends its request as soon as it has connected, and the next
/// one as soon as it has read an answer, so a connection silent this long is the cheapest
/// to give up; short, so that a newcomer waits little behind a flood of silent sockets.
pub(crate) const SHED_IDLE: Duration = Duration::from_millis(500);

/// A loop's count of connections closed for the latest [`Msg::Shed`]. The broadcast reaches
/// the loop's connections one after another; the first to see a new number resets the
/// budget.
#[derive(Debug, Default)]
pub(crate) struct Shedding {
    episode: u32,
    left: u32,
}

impl Shedding {
    /// Takes one close from the budget of broadcast `episode`; false once it is spent.
    pub(crate) fn take(&mut self, episode: u32) -> bool {
        if self.episode != episode {
            *self = Shedding {
                episode,
                left: SHED_PER_LOOP,
            };
        }
        let granted = self.left > 0;
        self.left = self.left.saturating_sub(1);
        granted
    }
}
