//! [`Server`]: configuration, `listen_and_serve`, the loop threads and the accepting loop.
//!
//! The first step of a request's journey: loop 0 owns the listener, accepts until the
//! kernel has no more connections (bounded per turn), and hands each socket round-robin to
//! a loop. Next: `conn.rs` reads it.

use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use http::HeaderMap;
use poller::{Cx, EventLoop, Interest, Machine, Next, Readiness, Remote, Stats};

use crate::buf::Pool;
use crate::conn::Conn;
use crate::encode::DateCache;
use crate::error::{interrupted, is_resource_exhaustion, would_block};
use crate::Handler;

/// Default for [`Server::max_header_bytes`]: 64 KiB, enough for large cookies; Go allows
/// 1 MiB, which lets every slow client pin a megabyte.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 64 * 1024;

/// Default for [`Server::max_body_bytes`]: 8 MiB, received whole before the handler runs.
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Connections accepted per readiness call, so a connection storm cannot starve the
/// requests of connections already open on loop 0.
const ACCEPTS_PER_TURN: usize = 128;

/// First and last pause of the listener when the process is out of descriptors (Go's).
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(5);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// An HTTP/1.1 server (Go's `http.Server`), configured builder-style.
///
/// ```no_run
/// use std::io::Write;
/// use nethttp::{Request, ResponseWriter, Server};
///
/// Server::new(|w: &mut ResponseWriter, _r: &mut Request| {
///     let _ = w.write_all(b"Hello, World!");
/// })
/// .addr(":8080")
/// .threads(2)
/// .listen_and_serve()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Server {
    addr: String,
    threads: usize,
    config: Config,
}

/// What every loop of a server shares, read-only.
pub(crate) struct Config {
    pub(crate) handler: Box<dyn Handler>,
    pub(crate) max_header_bytes: usize,
    pub(crate) max_body_bytes: usize,
}

impl Server {
    /// A server that answers every request with `handler`, on `:http` until told otherwise.
    pub fn new(handler: impl Handler) -> Server {
        Server {
            addr: String::new(),
            threads: thread::available_parallelism().map_or(1, |n| n.get()),
            config: Config {
                handler: Box::new(handler),
                max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
                max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            },
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

    /// Largest request body accepted; a larger one is answered with 413. Handlers receive
    /// the whole body before they run, so this bounds a request's memory.
    pub fn max_body_bytes(mut self, n: usize) -> Server {
        self.config.max_body_bytes = n;
        self
    }

    /// Binds the configured address and serves until the server is closed or fails.
    pub fn listen_and_serve(self) -> io::Result<()> {
        let listener = listen(&self.addr)?;
        self.serve(listener)
    }

    /// Serves connections from an already bound listener, on this thread and `threads - 1`
    /// more, until the server is closed or fails.
    pub fn serve(self, listener: TcpListener) -> io::Result<()> {
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
    pub fn start(self, listener: TcpListener) -> io::Result<Running> {
        listener.set_nonblocking(true)?;
        let local_addr = listener.local_addr()?;
        let config = Arc::new(self.config);
        let mut loops = Vec::with_capacity(self.threads);
        for _ in 0..self.threads {
            loops.push(EventLoop::new(Local::new(Arc::clone(&config)))?);
        }
        let remotes: Vec<Remote<Slot>> = loops.iter().map(EventLoop::remote).collect();
        let acceptor = Acceptor {
            listener: mio::net::TcpListener::from_std(listener),
            loops: remotes[1..].to_vec(),
            next: 0,
            backoff: None,
        };
        loops[0].insert(Slot::Acceptor(acceptor));
        let counters = loops.iter().map(EventLoop::counters).collect();
        let mut threads = Vec::with_capacity(loops.len());
        for (i, mut event_loop) in loops.into_iter().enumerate() {
            let thread = thread::Builder::new()
                .name(format!("nethttp-loop-{i}"))
                .spawn(move || event_loop.run())?;
            threads.push(thread);
        }
        Ok(Running {
            local_addr,
            remotes,
            threads,
            counters,
        })
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
pub fn listen(addr: &str) -> io::Result<TcpListener> {
    let addr = if addr.is_empty() { ":80" } else { addr };
    match addr.strip_prefix(':') {
        Some(port) => {
            let port: u16 = port
                .parse()
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "invalid port"))?;
            TcpListener::bind((std::net::Ipv6Addr::UNSPECIFIED, port))
                .or_else(|_| TcpListener::bind((std::net::Ipv4Addr::UNSPECIFIED, port)))
        }
        None => TcpListener::bind(addr.to_socket_addrs()?.collect::<Vec<_>>().as_slice()),
    }
}

/// A server started with [`Server::start`].
#[derive(Debug)]
pub struct Running {
    local_addr: SocketAddr,
    remotes: Vec<Remote<Slot>>,
    threads: Vec<JoinHandle<io::Result<()>>>,
    counters: Vec<Arc<poller::Counters>>,
}

impl Running {
    /// The address the listener is bound to (the port the system chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Counters of each event loop's work (turns, events, wake-ups, accepted and closed
    /// connections), loop 0 first.
    pub fn stats(&self) -> Vec<Stats> {
        self.counters.iter().map(|c| c.snapshot()).collect()
    }

    /// Stops every loop now, closing the listener and every connection, and waits for the
    /// threads to end.
    pub fn close(self) -> io::Result<()> {
        for remote in &self.remotes {
            remote.stop();
        }
        self.wait()
    }

    /// Waits until every loop has stopped; returns the first loop error.
    pub fn wait(self) -> io::Result<()> {
        let mut result = Ok(());
        for thread in self.threads {
            let outcome = thread
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("event loop thread panicked")));
            if result.is_ok() {
                result = outcome;
            }
        }
        result
    }
}

/// What one loop's machines share: configuration, the `Date` cache, buffers.
pub(crate) struct Local {
    pub(crate) config: Arc<Config>,
    pub(crate) date: DateCache,
    pub(crate) pool: Pool,
    /// Response header map reused from response to response (cleared, capacity kept).
    pub(crate) headers: HeaderMap,
    /// Response body staging buffer, reused likewise.
    pub(crate) body: Vec<u8>,
}

impl Local {
    fn new(config: Arc<Config>) -> Local {
        Local {
            config,
            date: DateCache::new(),
            pool: Pool::default(),
            headers: HeaderMap::new(),
            body: Vec::new(),
        }
    }
}

/// What a loop's slab holds: the listener (loop 0 only) or a connection.
#[derive(Debug)]
pub(crate) enum Slot {
    Acceptor(Acceptor),
    Conn(Conn),
}

impl Machine for Slot {
    type Msg = ();
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

    fn message(&mut self, _cx: &mut Cx<'_, Self>, _msg: ()) -> Next {
        Next::Continue
    }
}

/// The listening socket and where its connections go.
#[derive(Debug)]
pub(crate) struct Acceptor {
    listener: mio::net::TcpListener,
    /// The other loops; connections go round-robin to this loop and these.
    loops: Vec<Remote<Slot>>,
    /// Which loop gets the next connection (0 is this one).
    next: usize,
    /// The current pause after running out of descriptors; `None` while accepting.
    backoff: Option<Duration>,
}

impl Acceptor {
    fn start(&mut self, cx: &mut Cx<'_, Slot>) -> Next {
        match cx.register(&mut self.listener, Interest::READABLE) {
            Ok(()) => Next::Continue,
            Err(e) => {
                log::error!("registering the listener failed: {e}");
                Next::Close
            }
        }
    }

    /// Accepts until the kernel has no more connections, or the per-turn bound.
    fn accept(&mut self, cx: &mut Cx<'_, Slot>) -> Next {
        if self.backoff.is_some() {
            return Next::Continue; // paused: the timer resumes accepting
        }
        for _ in 0..ACCEPTS_PER_TURN {
            match self.listener.accept() {
                Ok((stream, peer)) => self.hand_out(cx, stream, peer),
                Err(e) if would_block(&e) => return Next::Continue,
                Err(e) if interrupted(&e) => continue,
                Err(e) if is_resource_exhaustion(&e) => {
                    log::error!("accept: {e}; pausing the listener");
                    self.pause(cx, ACCEPT_BACKOFF_MIN);
                    return Next::Continue;
                }
                Err(e) => log::debug!("accept: {e}"), // the connection failed; go on
            }
        }
        cx.again();
        Next::Continue
    }

    fn hand_out(&mut self, cx: &mut Cx<'_, Slot>, stream: mio::net::TcpStream, peer: SocketAddr) {
        if let Err(e) = stream.set_nodelay(true) {
            log::debug!("{peer}: TCP_NODELAY: {e}");
        }
        let conn = Slot::Conn(Conn::new(stream, peer));
        let target = self.next;
        self.next = (self.next + 1) % (self.loops.len() + 1);
        match target {
            0 => cx.spawn(conn),
            n => {
                if let Err(Slot::Conn(_)) = self.loops[n - 1].spawn(conn) {
                    log::warn!("{peer}: loop {n} has stopped; connection dropped");
                }
            }
        }
    }

    /// Pauses accepting for `delay` (5 ms doubling to 1 s, as Go does).
    fn pause(&mut self, cx: &mut Cx<'_, Slot>, delay: Duration) {
        self.backoff = Some(delay);
        cx.set_timer(cx.now() + delay);
    }

    /// Tries accepting again after a pause; pauses longer if still out of descriptors.
    fn resume(&mut self, cx: &mut Cx<'_, Slot>) -> Next {
        let Some(delay) = self.backoff.take() else {
            return Next::Continue;
        };
        match self.listener.accept() {
            Ok((stream, peer)) => {
                log::info!("accept: recovered after running out of resources");
                self.hand_out(cx, stream, peer);
                self.accept(cx)
            }
            Err(e) if would_block(&e) => Next::Continue,
            Err(e) if is_resource_exhaustion(&e) => {
                self.pause(cx, (delay * 2).min(ACCEPT_BACKOFF_MAX));
                Next::Continue
            }
            Err(e) => {
                log::debug!("accept: {e}");
                self.accept(cx)
            }
        }
    }
}
