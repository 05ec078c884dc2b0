//! [`Server`]: configuration, `listen_and_serve`, and the loop threads.
//!
//! The first step of a request's journey. `start` builds one event loop per thread; loop 0
//! also holds the listener (`accept.rs`), which hands connections out round-robin. Next:
//! `conn.rs` reads them. Stopping is `lifecycle.rs`.

use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use http::HeaderMap;
use poller::{Cx, EventLoop, Machine, Next, Readiness, Remote};

use crate::accept::Acceptor;
use crate::budget::{Budget, Meter};
use crate::buf::Pool;
use crate::conn::Conn;
use crate::encode::DateCache;
use crate::lifecycle::{Control, Running};
use crate::listener::{Listener, Listening};
use crate::mem::Buffer;
use crate::poke::Wake;
use crate::pool::Workers;
use crate::Handler;

/// Default for [`Server::max_header_bytes`]: 64 KiB, enough for large cookies; Go allows
/// 1 MiB, which lets every slow client pin a megabyte.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 64 * 1024;

/// Default for [`Server::max_body_bytes`]: 8 MiB, received whole before an inline handler runs.
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Default for [`Server::read_header_timeout`]: 10 s to send a request head, which ends
/// slowloris attacks (a head dribbled a byte at a time) without troubling real clients.
pub const DEFAULT_READ_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Default for [`Server::idle_timeout`]: 60 s of keep-alive silence, then the connection
/// closes, so a flood of idle sockets drains by itself.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Default for [`Server::max_memory`]: 64 MiB for everything the server holds for clients.
/// A small service often runs in a container of 256-512 MiB; 64 MiB lets eight bodies of
/// the default [`DEFAULT_MAX_BODY_BYTES`] be collected at once, or tens of thousands of
/// small requests be read, while leaving the rest of the container to the service itself.
pub const DEFAULT_MAX_MEMORY: usize = 64 * 1024 * 1024;

/// Default for [`Server::stall_timeout`]: 30 s without a byte of a request body arriving, or
/// of a response being taken by the client, ends the exchange. Long enough for TCP to
/// retransmit through a few losses on a bad link (its back-off reaches 16 s by the fifth
/// try); short enough that a client that stops mid-transfer frees what it holds. nginx's
/// `client_body_timeout` and `send_timeout`, the same idea, are 60 s.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Default for [`Server::blocking_threads`]: threads for blocking handlers. Go runs each
/// request on a goroutine of its own, without limit; a thread costs more, but only what it
/// touches (its 2 MiB stack is address space until used), threads start only as requests
/// need them, and exit after 10 s idle. So 1,000 requests that sleep or wait on I/O at
/// once (long polls, slow queries) all run, and the queue and `503` begin past that; see
/// the README for the measured cost.
pub const DEFAULT_BLOCKING_THREADS: usize = 1024;

/// Starting size of a loop's arena for request heads: room for a pipelined batch.
const HEAD_ARENA: usize = 16 * 1024;

/// A connection's state, reported to the [`Server::conn_state`] hook (Go's `ConnState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    /// Just accepted; no request byte yet.
    New,
    /// Bytes of a request have arrived; it is being read, handled or answered.
    Active,
    /// Between requests on a keep-alive connection.
    Idle,
    /// Closed; the last report for this connection.
    Closed,
}

/// A hook called on a connection's loop thread at each state change.
pub(crate) type ConnStateHook = Box<dyn Fn(SocketAddr, ConnState) + Send + Sync>;

/// An HTTP/1.1 server (Go's `http.Server`), configured builder-style.
///
/// ```no_run
/// use std::io::Write;
/// use std::time::Duration;
/// use nethttp::{Request, ResponseWriter, Server};
///
/// Server::new(|w: &mut ResponseWriter, _r: &mut Request| {
///     let _ = w.write_all(b"Hello, World!");
/// })
/// .addr(":8080")
/// .read_header_timeout(Duration::from_secs(5))
/// .idle_timeout(Duration::from_secs(30))
/// .listen_and_serve()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Server {
    addr: String,
    threads: usize,
    config: Config,
    control: Arc<Control>,
}

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

impl Server {
    /// A server that answers every request with `handler`, on `:http` until told otherwise.
    pub fn new(handler: impl Handler) -> Server {
        Server {
            addr: String::new(),
            threads: thread::available_parallelism().map_or(1, |n| n.get()),
            config: Config {
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
            },
            control: Arc::default(),
        }
    }

    /// The address [`listen_and_serve`](Server::listen_and_serve) binds, in Go's form:
    /// `host:port`, `:port` for every interface, `""` for `:80`.
    pub fn addr(mut self, addr: &str) -> Server {
        self.addr = addr.to_string();
        self
    }

    /// How many event loops (threads) serve connections. Default: the number of cores.
    pub fn threads(mut self, n: usize) -> Server {
        self.threads = n.max(1);
        self
    }

    /// Largest request head (request line and header fields) accepted; a larger one is
    /// answered with 431 (or 414 if the request line alone is too long).
    pub fn max_header_bytes(mut self, n: usize) -> Server {
        self.config.max_header_bytes = n.max(64);
        self
    }

    /// Largest request body an inline handler receives; a larger one is answered with 413.
    /// Inline handlers receive the whole body before they run, so this bounds a request's
    /// memory. It cannot exceed [`max_memory`](Server::max_memory) (it is lowered to it when
    /// the server starts). [Blocking](crate::blocking) handlers stream their bodies and are
    /// not limited.
    pub fn max_body_bytes(mut self, n: usize) -> Server {
        self.config.max_body_bytes = n;
        self
    }

    /// The memory budget: the most the server holds for its clients at once, counting
    /// read buffers and request heads, inline request bodies (the room reserved for them
    /// as they arrive), responses waiting for their sockets, and what sits in blocking
    /// handlers' channels. Default: [`DEFAULT_MAX_MEMORY`].
    ///
    /// When a request body would take the server past its budget, the server stops reading
    /// that connection (TCP's flow control holds the client back) and resumes it, oldest
    /// first, when memory is freed: nothing is refused, it waits. A request whose head and
    /// body fit a read buffer always goes ahead, so a flood of large uploads does not hold
    /// up `GET /`. Responses are never held back, so what is held can pass the budget by
    /// what handlers are writing at that moment. [`Running::memory`](crate::Running::memory)
    /// gives the figures.
    pub fn max_memory(mut self, n: usize) -> Server {
        self.config.max_memory = n.max(64 * 1024);
        self
    }

    /// How long a request body may go without a byte arriving (while the server is reading
    /// it), and a response without the client taking a byte of it, before the exchange
    /// ends: `408 Request Timeout` and a close for a body (if nothing of the answer has gone
    /// out), a close for a response. For inline and [blocking](crate::blocking) handlers
    /// alike; time the server spends not reading (a blocking handler busy between reads, a
    /// body waiting for [memory](Server::max_memory)) does not count. `None` disables it.
    /// Default: [`DEFAULT_STALL_TIMEOUT`].
    pub fn stall_timeout(mut self, t: impl Into<Option<Duration>>) -> Server {
        self.config.stall_timeout = t.into();
        self
    }

    /// Time allowed from the first byte of a request (or from accepting the connection) to
    /// the end of its head. `None` disables it. Default: [`DEFAULT_READ_HEADER_TIMEOUT`].
    /// On expiry the client gets `408 Request Timeout` and the connection closes.
    pub fn read_header_timeout(mut self, t: impl Into<Option<Duration>>) -> Server {
        self.config.read_header_timeout = t.into();
        self
    }

    /// Time allowed to read a request body, from the end of its head until its last byte;
    /// for a [blocking](crate::blocking) handler, until its streamed body has all arrived.
    /// (The head is bounded by [`read_header_timeout`](Server::read_header_timeout).) On
    /// expiry the client gets `408 Request Timeout` if nothing of the answer has gone out,
    /// and the connection closes; a blocking handler's read of the body then fails.
    /// Default: none; a body that stops arriving is still ended by the
    /// [`stall_timeout`](Server::stall_timeout).
    pub fn read_timeout(mut self, t: impl Into<Option<Duration>>) -> Server {
        self.config.read_timeout = t.into();
        self
    }

    /// Time allowed for a response of an inline handler to reach the client once it is
    /// queued; a client that reads too slowly is disconnected. Default: none.
    pub fn write_timeout(mut self, t: impl Into<Option<Duration>>) -> Server {
        self.config.write_timeout = t.into();
        self
    }

    /// How long a keep-alive connection may sit idle between requests before it is closed
    /// (silently, as Go does). Default: [`DEFAULT_IDLE_TIMEOUT`].
    pub fn idle_timeout(mut self, t: impl Into<Option<Duration>>) -> Server {
        self.config.idle_timeout = t.into();
        self
    }

    /// Most connections open at once. At the cap the listener pauses (the kernel's backlog
    /// holds newcomers) until a connection closes. Default: no cap.
    ///
    /// At the cap, and whenever the process runs out of descriptors, each loop closes up to
    /// 64 connections that have sat idle for at least half a second (ones that have
    /// sent nothing yet, and keep-alive ones between requests), so sockets that send nothing
    /// cannot keep a client with a request waiting. nginx does the same with its idle
    /// keep-alive connections; Go's server only waits. A request under way is never cut
    /// short.
    pub fn max_connections(mut self, n: usize) -> Server {
        self.config.max_connections = Some(n.max(1));
        self
    }

    /// Threads for [blocking](crate::blocking) handlers (default
    /// [`DEFAULT_BLOCKING_THREADS`]), started as needed; a thread with no request for 10 s
    /// exits. When every thread is busy, up to as many requests again wait in a queue; past
    /// that, requests get `503 Service Unavailable`.
    pub fn blocking_threads(mut self, n: usize) -> Server {
        self.config.workers = Workers::new(n.max(1));
        self
    }

    /// Calls `hook` at each state change of every connection (Go's `ConnState`), on the
    /// connection's event-loop thread: keep it quick.
    pub fn conn_state(
        mut self,
        hook: impl Fn(SocketAddr, ConnState) + Send + Sync + 'static,
    ) -> Server {
        self.config.conn_state = Some(Box::new(hook));
        self
    }

    /// A handle to shut this server down from any thread, once it is serving.
    pub fn handle(&self) -> crate::Handle {
        crate::Handle::new(Arc::clone(&self.control))
    }

    /// Binds the configured address and serves until the server is closed or fails.
    /// After a [`shutdown`](crate::Handle::shutdown) or `close` it returns an error for which
    /// [`is_server_closed`](crate::is_server_closed) is true (Go's `ErrServerClosed`).
    pub fn listen_and_serve(self) -> io::Result<()> {
        let listener = listen(&self.addr)?;
        self.serve(listener)
    }

    /// Serves connections from an already bound listener until the server is closed or
    /// fails; see [`listen_and_serve`](Server::listen_and_serve) for the result.
    pub fn serve(self, listener: impl Into<Listener>) -> io::Result<()> {
        self.start(listener)?.wait()
    }

    /// Starts serving `listener` on background threads and returns at once.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use nethttp::{Request, ResponseWriter, Server};
    ///
    /// let hello = |w: &mut ResponseWriter, _r: &mut Request| {
    ///     let _ = w.write_all(b"hi");
    /// };
    /// let running = Server::new(hello).threads(1).start(nethttp::listen("127.0.0.1:0")?)?;
    /// let mut client = std::net::TcpStream::connect(running.local_addr())?;
    /// client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
    /// let mut answer = String::new();
    /// client.read_to_string(&mut answer)?;
    /// assert!(answer.starts_with("HTTP/1.1 200 OK\r\n") && answer.ends_with("\r\n\r\nhi"));
    /// running.close()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start(self, listener: impl Into<Listener>) -> io::Result<Running> {
        let (listener, local_addr) = Listening::new(listener.into())?;
        let mut config = self.config;
        config.budget = Arc::new(Budget::new(config.max_memory, self.threads));
        config.max_body_bytes = config.max_body_bytes.min(config.max_memory);
        let config = Arc::new(config);
        let mut loops = Vec::with_capacity(self.threads);
        for i in 0..self.threads {
            let local = Local::new(Arc::clone(&config), i);
            let mut event_loop: EventLoop<Slot> = EventLoop::new(local)?;
            let remote = event_loop.remote();
            event_loop.local().waker = Some(Arc::new(remote.clone()));
            event_loop.local().remote = Some(remote);
            loops.push(event_loop);
        }
        let remotes: Vec<Remote<Slot>> = loops.iter().map(EventLoop::remote).collect();
        let counters: Vec<_> = loops.iter().map(EventLoop::counters).collect();
        let acceptor = Acceptor::new(listener, remotes[1..].to_vec(), counters.clone());
        loops[0].insert(Slot::Acceptor(acceptor));
        let mut threads = Vec::with_capacity(loops.len());
        for (i, mut event_loop) in loops.into_iter().enumerate() {
            let thread = thread::Builder::new()
                .name(format!("nethttp-loop-{i}"))
                .spawn(move || {
                    crate::handler::on_loop_thread();
                    event_loop.run()
                })?;
            threads.push(thread);
        }
        self.control
            .started(config, remotes.clone(), counters.clone());
        Ok(Running::new(local_addr, self.control, threads))
    }
}

/// Serves HTTP on `addr` with `handler` (Go's `http.ListenAndServe`). Returns only on error.
///
/// ```no_run
/// use std::io::Write;
/// use nethttp::{Request, ResponseWriter};
///
/// fn hello(w: &mut ResponseWriter, _r: &mut Request) {
///     let _ = w.write_all(b"Hello, World!");
/// }
///
/// nethttp::listen_and_serve(":8080", hello)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn listen_and_serve(addr: &str, handler: impl Handler) -> io::Result<()> {
    Server::new(handler).addr(addr).listen_and_serve()
}

/// Binds a TCP listener at a Go-style address: `host:port`, `:port` (every interface,
/// IPv6 and IPv4 where the system allows), or `""` (`:80`). Port 0 picks a free port.
///
/// As Go does, the kernel may queue as many connections not yet accepted as the system
/// allows (`net.core.somaxconn`) rather than the 128 of `std`'s `TcpListener::bind`: when
/// the server is at its connection cap or out of descriptors, newcomers wait in that queue
/// instead of having their handshakes dropped and retried a second or more later.
pub fn listen(addr: &str) -> io::Result<TcpListener> {
    let addr = if addr.is_empty() { ":80" } else { addr };
    match addr.strip_prefix(':') {
        Some(port) => {
            let port: u16 = port
                .parse()
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "invalid port"))?;
            crate::listener::bind(&[
                (std::net::Ipv6Addr::UNSPECIFIED, port).into(),
                (std::net::Ipv4Addr::UNSPECIFIED, port).into(),
            ])
        }
        None => crate::listener::bind(&addr.to_socket_addrs()?.collect::<Vec<_>>()),
    }
}

/// What one loop's machines share: configuration, the `Date` cache, buffers.
pub(crate) struct Local {
    pub(crate) config: Arc<Config>,
    pub(crate) date: DateCache,
    pub(crate) pool: Pool,
    /// What this loop's connections hold, counted against the server's budget.
    pub(crate) meter: Meter,
    /// Response header map reused from response to response (cleared, capacity kept).
    pub(crate) headers: HeaderMap,
    /// Response body staging buffer, reused likewise.
    pub(crate) body: Buffer,
    /// Request field offsets, handed to each parsed request and taken back after its
    /// inline handler returns (capacity kept).
    pub(crate) request_fields: Vec<crate::request::RawField>,
    /// When the last inline handler on this loop returned (for the slow-handler warning).
    pub(crate) clock: std::time::Instant,
    /// Where request heads are copied (see `parse::parse_into`).
    pub(crate) heads: bytes::BytesMut,
    /// This loop's own inbox. Set right after the loop is created.
    pub(crate) remote: Option<Remote<Slot>>,
    /// The same inbox as blocking handlers see it, to wake their connection (`Poke`).
    pub(crate) waker: Option<Arc<dyn Wake>>,
    /// Idle connections closed for the latest `Msg::Shed`.
    pub(crate) shedding: Shedding,
    /// Where file bodies pass between file and socket (see `conn/stream.rs`); empty until
    /// this loop sends one.
    pub(crate) scratch: Vec<u8>,
}

impl Local {
    /// The loop's last connection closed: frees what its requests grew (the staging
    /// buffers are made again by the next request that needs them).
    pub(crate) fn release(&mut self) {
        self.headers = HeaderMap::new();
        self.body = Buffer::default();
        self.request_fields = Vec::new();
        self.scratch = Vec::new();
    }

    fn new(config: Arc<Config>, index: usize) -> Local {
        Local {
            meter: Meter::new(Arc::clone(&config.budget), index),
            config,
            date: DateCache::new(),
            pool: Pool::default(),
            headers: HeaderMap::new(),
            body: Buffer::default(),
            request_fields: Vec::new(),
            heads: bytes::BytesMut::with_capacity(HEAD_ARENA),
            clock: std::time::Instant::now(),
            remote: None,
            waker: None,
            shedding: Shedding::default(),
            scratch: Vec::new(),
        }
    }
}

/// A blocking handler's `Poke` reaches its connection through the loop's inbox.
impl Wake for Remote<Slot> {
    fn wake(&self, token: poller::Token) {
        self.send(token, Msg::Poke);
    }
}

/// Messages a loop's machines receive from other threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Msg {
    /// A blocking handler moved data through its channels: look again.
    Poke,
    /// The memory budget granted the room this connection waits for.
    Memory,
    /// A graceful shutdown began (broadcast to every machine).
    Shutdown,
    /// The listener is out of descriptors or at the connection cap: each loop closes up to
    /// [`SHED_PER_LOOP`] connections that have sat idle for [`SHED_IDLE`], to make room for
    /// new ones. The number tells one broadcast from the next (see [`Shedding`]).
    Shed(u32),
}

/// Most idle connections one loop closes for one [`Msg::Shed`].
pub(crate) const SHED_PER_LOOP: u32 = 64;

/// How long a connection must have sat idle (no request under way, nothing buffered) to be
/// closed for room. A client sends its request as soon as it has connected, and the next
/// one as soon as it has read an answer, so a connection silent this long is the cheapest
/// to give up; short, so that a newcomer waits little behind a flood of silent sockets.
pub(crate) const SHED_IDLE: std::time::Duration = std::time::Duration::from_millis(500);

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

/// What a loop's slab holds: the listener (loop 0 only) or a connection.
#[derive(Debug)]
pub(crate) enum Slot {
    Acceptor(Acceptor),
    Conn(Conn),
}

impl Machine for Slot {
    type Msg = Msg;
    type Local = Local;

    fn start(&mut self, cx: &mut Cx<'_, Self>) -> Next {
        match self {
            Slot::Acceptor(a) => a.start(cx),
            Slot::Conn(c) => c.start(cx),
        }
    }

    fn ready(&mut self, cx: &mut Cx<'_, Self>, readiness: Readiness) -> Next {
        match self {
            Slot::Acceptor(a) => a.accept(cx),
            Slot::Conn(c) => c.ready(cx, readiness),
        }
    }

    fn timeout(&mut self, cx: &mut Cx<'_, Self>) -> Next {
        match self {
            Slot::Acceptor(a) => a.resume(cx),
            Slot::Conn(c) => c.timeout(cx),
        }
    }

    fn message(&mut self, cx: &mut Cx<'_, Self>, msg: Msg) -> Next {
        match self {
            Slot::Acceptor(a) => a.message(cx, msg),
            Slot::Conn(c) => c.message(cx, msg),
        }
    }
}
