//! [`Config`]: what every loop of a server shares, read-only once it serves; the
//! defaults of the [`Server`](crate::Server) options; and [`ConnState`], the value the
//! `conn_state` hook hears.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::budget::Budget;
use crate::cancel::ShutdownNotice;
use crate::forwarded::IpNet;
use crate::handler::Handler;
use crate::offload::workers::Workers;
use crate::stats::{LoopStats, SharedStats};

/// Default for [`Server::max_header_bytes`](crate::Server::max_header_bytes): 64 KiB, enough for large cookies; Go allows
/// 1 MiB, which lets every slow client pin a megabyte.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 64 * 1024;

/// Default for [`Server::max_body_bytes`](crate::Server::max_body_bytes): 8 MiB, received whole before an inline handler runs.
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Default for [`Server::read_header_timeout`](crate::Server::read_header_timeout): 10 s to send a request head, which ends
/// slowloris attacks (a head dribbled a byte at a time) without troubling real clients.
pub const DEFAULT_READ_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Default for [`Server::idle_timeout`](crate::Server::idle_timeout): 60 s of keep-alive silence, then the connection
/// closes, so a flood of idle sockets drains by itself.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Default for [`Server::max_memory`](crate::Server::max_memory): 64 MiB for everything the server holds for clients.
/// A small service often runs in a container of 256-512 MiB; 64 MiB lets eight bodies of
/// the default [`DEFAULT_MAX_BODY_BYTES`] be collected at once, or tens of thousands of
/// small requests be read, while leaving the rest of the container to the service itself.
pub const DEFAULT_MAX_MEMORY: usize = 64 * 1024 * 1024;

/// Default for [`Server::stall_timeout`](crate::Server::stall_timeout): 30 s without a byte of a request body arriving, or
/// of a response being taken by the client, ends the exchange. Long enough for TCP to
/// retransmit through a few losses on a bad link (its back-off reaches 16 s by the fifth
/// try); short enough that a client that stops mid-transfer frees what it holds. nginx's
/// `client_body_timeout` and `send_timeout`, the same idea, are 60 s.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Default for [`Server::blocking_threads`](crate::Server::blocking_threads): threads for blocking handlers. Go runs each
/// request on a goroutine of its own, without limit; a thread costs more, but only what it
/// touches (its 2 MiB stack is address space until used), threads start only as requests
/// need them, and exit after 10 s idle. So 1,000 requests that sleep or wait on I/O at
/// once (long polls, slow queries) all run, and the queue and `503` begin past that; see
/// `docs/handlers.md` for the measured cost.
pub const DEFAULT_BLOCKING_THREADS: usize = 1024;

/// A connection's state, reported to the [`Server::conn_state`](crate::Server::conn_state) hook (Go's `ConnState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    /// Just accepted; no request byte yet.
    New,
    /// Bytes of a request have arrived; it is being read, handled or answered.
    Active,
    /// Between requests on a keep-alive connection.
    Idle,
    /// Handed to another protocol after a `101 Switching Protocols` (Go's `StateHijacked`,
    /// except that the server still owns it: see [`upgrade`](crate::upgrade)).
    Upgraded,
    /// Closed; the last report for this connection.
    Closed,
}

/// A hook called on a connection's loop thread at each state change.
pub(crate) type ConnStateHook = Box<dyn Fn(SocketAddr, ConnState) + Send + Sync>;

/// What every loop of a server shares.
pub(crate) struct Config {
    pub(crate) handler: Box<dyn Handler>,
    /// `handler.may_block()`, asked once: if false, no request asks `is_blocking`.
    pub(crate) may_block: bool,
    pub(crate) max_header_bytes: usize,
    pub(crate) max_body_bytes: usize,
    /// The budget's limit as configured; `budget` is built from it when the server starts.
    pub(crate) max_memory: usize,
    pub(crate) budget: Arc<Budget>,
    pub(crate) stall_timeout: Option<Duration>,
    pub(crate) read_header_timeout: Option<Duration>,
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) write_timeout: Option<Duration>,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) max_connections: Option<usize>,
    pub(crate) conn_state: Option<ConnStateHook>,
    /// The pool blocking handlers run on.
    pub(crate) workers: Workers,
    /// Set once by a graceful shutdown: every response from then on closes its connection.
    pub(crate) shutting_down: AtomicBool,
    /// Set while a graceful shutdown drains (`Server::drain_delay`): responses close their
    /// connections, so that a balancer's pooled connections end one by one, each after
    /// an answer, rather than all at once when the listener closes.
    pub(crate) draining: AtomicBool,
    /// Set while keep-alives are disabled (`Handle::set_keep_alives_enabled`): every
    /// response closes its connection.
    pub(crate) keep_alives_off: AtomicBool,
    /// Called, each on a thread of its own, when a graceful shutdown begins.
    pub(crate) on_shutdown: Vec<ShutdownHook>,
    /// Fired when a graceful shutdown begins (`Request::shutdown_notice`).
    pub(crate) notice: ShutdownNotice,
    /// Counters with more than one writer (`stats.rs`).
    pub(crate) stats: SharedStats,
    /// Each loop's own counters, by loop index (filled when the server starts).
    pub(crate) loop_stats: Vec<Arc<LoopStats>>,
    /// Each loop's poller counters (connections opened and closed), once the loops exist.
    pub(crate) loop_counters: OnceLock<Vec<Arc<poller::Counters>>>,
    /// Every connection begins with a PROXY protocol header (`Server::proxy_protocol`).
    pub(crate) proxy_protocol: bool,
    /// Keep-alive probes on accepted TCP connections, this often (`Server::tcp_keep_alive`).
    pub(crate) tcp_keep_alive: Option<Duration>,
    /// How long a graceful shutdown keeps serving while readiness reports draining.
    pub(crate) drain_delay: Duration,
    /// The proxies whose `Forwarded` / `X-Forwarded-For` hops are believed.
    pub(crate) trusted_proxies: Option<Arc<Vec<IpNet>>>,
    /// Serve HTTPS with this configuration (`Server::tls`).
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<Arc<rustls::ServerConfig>>,
}

/// A function called when a graceful shutdown begins (`Server::on_shutdown`).
pub(crate) type ShutdownHook = Box<dyn Fn() + Send + Sync>;

impl Config {
    /// Every response closes its connection: a graceful shutdown (or its drain) has begun,
    /// or keep-alives are disabled.
    pub(crate) fn closes_every_response(&self) -> bool {
        self.shutting_down.load(Ordering::Relaxed)
            || self.keep_alives_off.load(Ordering::Relaxed)
            || self.draining.load(Ordering::Relaxed)
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("max_header_bytes", &self.max_header_bytes)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("workers", &self.workers)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// The configuration of a server that answers with `handler`, every option at its
    /// default.
    pub(crate) fn new(handler: impl Handler) -> Config {
        Config {
            may_block: handler.may_block(),
            handler: Box::new(handler),
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_memory: DEFAULT_MAX_MEMORY,
            budget: Arc::new(Budget::new(DEFAULT_MAX_MEMORY, 1)),
            stall_timeout: Some(DEFAULT_STALL_TIMEOUT),
            read_header_timeout: Some(DEFAULT_READ_HEADER_TIMEOUT),
            read_timeout: None,
            write_timeout: None,
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            max_connections: None,
            conn_state: None,
            workers: Workers::new(DEFAULT_BLOCKING_THREADS),
            shutting_down: AtomicBool::new(false),
            keep_alives_off: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            on_shutdown: Vec::new(),
            notice: ShutdownNotice::new(),
            trusted_proxies: None,
            drain_delay: Duration::ZERO,
            tcp_keep_alive: None,
            proxy_protocol: false,
            stats: SharedStats::default(),
            loop_stats: Vec::new(),
            loop_counters: OnceLock::new(),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

thread_local! {
    /// The server whose loop or pool thread this is, for handlers that report on it
    /// ([`metrics`](crate::metrics)). Weak: a thread outliving its server keeps nothing.
    static CURRENT: std::cell::RefCell<std::sync::Weak<Config>> = const {
        std::cell::RefCell::new(std::sync::Weak::new())
    };
}

impl Config {
    /// Makes this the server of the calling thread (a loop thread as it starts, a pool
    /// thread at each request): its shutdown notice and its figures.
    pub(crate) fn serve_on_this_thread(self: &Arc<Config>) {
        self.notice.serve_on_this_thread();
        CURRENT.with(|current| {
            let mut current = current.borrow_mut();
            if !std::ptr::eq(current.as_ptr(), Arc::as_ptr(self)) {
                *current = Arc::downgrade(self);
            }
        });
    }
}

/// The server of the calling thread, if it is one of a running server's threads.
pub(crate) fn current() -> Option<Arc<Config>> {
    CURRENT.with(|current| current.borrow().upgrade())
}
