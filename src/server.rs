//! [`Server`]: the options, `listen_and_serve`, and start-up.
//!
//! The top of the crate. `start` builds one event loop per thread, each with its `Local`
//! state; loop 0 also holds the listener (`accept.rs`), which hands connections out
//! round-robin. Next: `conn.rs` reads them. Stopping is `lifecycle.rs`.

use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use poller::{EventLoop, Remote};

use crate::accept::{Acceptor, Slot};
use crate::budget::Budget;
use crate::config::{Config, ConnState};
use crate::lifecycle::{Control, Running};
use crate::listener::{Listener, Listening};
use crate::local::Local;
use crate::offload::workers::Workers;
use crate::Handler;

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

impl Server {
    /// A server that answers every request with `handler`, on `:http` until told otherwise.
    pub fn new(handler: impl Handler) -> Server {
        Server {
            addr: String::new(),
            threads: thread::available_parallelism().map_or(1, |n| n.get()),
            config: Config::new(handler),
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
    /// handlers' channels. Default: [`DEFAULT_MAX_MEMORY`](crate::DEFAULT_MAX_MEMORY).
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
    /// Default: [`DEFAULT_STALL_TIMEOUT`](crate::DEFAULT_STALL_TIMEOUT).
    pub fn stall_timeout(mut self, t: impl Into<Option<Duration>>) -> Server {
        self.config.stall_timeout = t.into();
        self
    }

    /// Time allowed from the first byte of a request (or from accepting the connection) to
    /// the end of its head. `None` disables it. Default: [`DEFAULT_READ_HEADER_TIMEOUT`](crate::DEFAULT_READ_HEADER_TIMEOUT).
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
    /// (silently, as Go does). Default: [`DEFAULT_IDLE_TIMEOUT`](crate::DEFAULT_IDLE_TIMEOUT).
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
    /// [`DEFAULT_BLOCKING_THREADS`](crate::DEFAULT_BLOCKING_THREADS)), started as needed; a thread with no request for 10 s
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

    /// Calls `hook` on a thread of its own when a graceful shutdown begins (Go's
    /// `RegisterOnShutdown`): the place to tell long polls, event streams and upgraded
    /// connections to finish, which a shutdown otherwise waits for. May be called more than
    /// once; every hook runs.
    pub fn on_shutdown(mut self, hook: impl Fn() + Send + Sync + 'static) -> Server {
        self.config.on_shutdown.push(Box::new(hook));
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

    /// Expects every connection to begin with a PROXY protocol header, v1 or v2 (HAProxy's
    /// `send-proxy` / `send-proxy-v2`, nginx's `proxy_protocol on`): the balancer's report
    /// of the client's address, which becomes each request's
    /// [`remote_addr`](crate::Request::remote_addr). A connection without a valid header
    /// is closed, as the protocol requires (never guess): turn this on only for a listener
    /// that only the balancer reaches. A header from the balancer's own checks (`LOCAL`)
    /// keeps the socket's address. With [`tls`](Server::tls) the header comes first, before
    /// the handshake (HAProxy passing TLS through with `send-proxy-v2`).
    pub fn proxy_protocol(mut self, on: bool) -> Server {
        self.config.proxy_protocol = on;
        self
    }

    /// Sends TCP keep-alive probes on accepted connections after `every` without traffic,
    /// then every `every`, so that peers gone without a word (behind a NAT that forgot
    /// them, a machine that lost power) are found and their connections closed. Go turns
    /// them on at 15 s; here they are off unless asked for (a connection's own timeouts
    /// already close idle HTTP connections; an upgraded one, a WebSocket, has none).
    pub fn tcp_keep_alive(mut self, every: impl Into<Option<Duration>>) -> Server {
        self.config.tcp_keep_alive = every.into();
        self
    }

    /// Keeps serving for `delay` after a graceful shutdown is asked for, while
    /// [`Handle::is_draining`](crate::Handle::is_draining) (and a
    /// [`readiness`](crate::readiness) handler) says the server is draining: the time a
    /// load balancer needs to stop sending it requests (Kubernetes' `preStop` problem).
    /// Meanwhile every response says `Connection: close`, so that the balancer's pooled
    /// connections end one at a time, each after an answer, instead of being closed under
    /// it when the shutdown proper begins. Then the shutdown proceeds as usual, with its
    /// own timeout. Default: none.
    pub fn drain_delay(mut self, delay: Duration) -> Server {
        self.config.drain_delay = delay;
        self
    }

    /// Trusts these proxies (load balancers, nginx) to report the client's address:
    /// [`Request::client_addr`](crate::Request::client_addr) then reads it from the
    /// `Forwarded` or `X-Forwarded-For` field of requests that come through one of them
    /// (the rightmost hop that is not itself trusted). By default none is trusted and
    /// `client_addr` is the peer's address.
    ///
    /// ```
    /// # use nethttp::{Request, ResponseWriter, Server};
    /// # let hello = |_: &mut ResponseWriter, _: &mut Request| {};
    /// let server = Server::new(hello)
    ///     .trusted_proxies(["127.0.0.1".parse().unwrap(), "10.0.0.0/8".parse().unwrap()]);
    /// ```
    pub fn trusted_proxies(mut self, nets: impl IntoIterator<Item = crate::IpNet>) -> Server {
        let nets: Vec<crate::IpNet> = nets.into_iter().collect();
        self.config.trusted_proxies = (!nets.is_empty()).then(|| Arc::new(nets));
        self
    }

    /// Binds the configured address and serves HTTPS with the certificate chain in
    /// `cert_file` and its key in `key_file` (PEM), Go's `Server.ListenAndServeTLS`.
    /// Feature `tls`.
    #[cfg(feature = "tls")]
    pub fn listen_and_serve_tls(self, cert_file: &str, key_file: &str) -> io::Result<()> {
        let certs = crate::tls::Certificates::from_pem_files(cert_file, key_file)?;
        self.tls(crate::tls::server_config(certs))
            .listen_and_serve()
    }

    /// Serves HTTPS with `config` (feature `tls`): every connection begins with a TLS
    /// handshake on its loop. Bring a configuration of your own for SNI, client
    /// certificates or another crypto provider, or use
    /// [`tls::server_config`](crate::tls::server_config). Offer ALPN `http/1.1` in it
    /// (nethttp speaks no HTTP/2).
    ///
    /// ```no_run
    /// # use nethttp::{Request, ResponseWriter, Server};
    /// # let hello = |_: &mut ResponseWriter, _: &mut Request| {};
    /// use nethttp::tls::{server_config, Certificates};
    ///
    /// let certs = Certificates::from_pem_files("cert.pem", "key.pem")?;
    /// Server::new(hello).addr(":8443").tls(server_config(certs)).listen_and_serve()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: Arc<rustls::ServerConfig>) -> Server {
        self.config.tls = Some(config);
        self
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
        config.loop_stats = (0..self.threads).map(|_| Arc::default()).collect();
        let config = Arc::new(config);
        let mut loops = Vec::with_capacity(self.threads);
        for i in 0..self.threads {
            let local = Local::new(Arc::clone(&config), i);
            let mut event_loop: EventLoop<Slot> = EventLoop::new(local)?;
            let remote = event_loop.remote();
            event_loop.local().waker = Some(Arc::new(remote));
            loops.push(event_loop);
        }
        let remotes: Vec<Remote<Slot>> = loops.iter().map(EventLoop::remote).collect();
        let counters: Vec<_> = loops.iter().map(EventLoop::counters).collect();
        let _ = config.loop_counters.set(counters.clone());
        let acceptor = Acceptor::new(listener, remotes.clone(), counters.clone());
        loops[0].insert(Slot::Acceptor(acceptor));
        let mut threads = Vec::with_capacity(loops.len());
        for (i, mut event_loop) in loops.into_iter().enumerate() {
            let config = Arc::clone(&config);
            let thread = thread::Builder::new()
                .name(format!("nethttp-loop-{i}"))
                .spawn(move || {
                    crate::handler::on_loop_thread();
                    config.serve_on_this_thread();
                    drop(config);
                    event_loop.run()
                })?;
            threads.push(thread);
        }
        self.control
            .started(config, remotes.clone(), counters.clone());
        crate::systemd::notify("READY=1");
        if let Some(every) = crate::systemd::watchdog_interval() {
            crate::lifecycle::watchdog(Arc::clone(&self.control), every);
        }
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

/// Serves HTTPS on `addr` with `handler`, with the certificate chain in `cert_file` and
/// its key in `key_file` (PEM), Go's `http.ListenAndServeTLS`. Returns only on error.
/// Feature `tls`; see [`tls`](crate::tls) for certificates that change while serving.
///
/// ```no_run
/// use std::io::Write;
/// use nethttp::{Request, ResponseWriter};
///
/// fn hello(w: &mut ResponseWriter, _r: &mut Request) {
///     let _ = w.write_all(b"Hello, World!");
/// }
///
/// nethttp::listen_and_serve_tls(":8443", "cert.pem", "key.pem", hello)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg(feature = "tls")]
pub fn listen_and_serve_tls(
    addr: &str,
    cert_file: &str,
    key_file: &str,
    handler: impl Handler,
) -> io::Result<()> {
    Server::new(handler)
        .addr(addr)
        .listen_and_serve_tls(cert_file, key_file)
}

/// Binds a TCP listener at a Go-style address: `host:port`, `:port` (every interface,
/// IPv6 and IPv4 where the system allows), or `""` (`:80`). Port 0 picks a free port.
///
/// As Go does, the kernel may queue as many connections not yet accepted as the system
/// allows (`net.core.somaxconn`) rather than the 128 of `std`'s `TcpListener::bind`: when
/// the server is at its connection cap or out of descriptors, newcomers wait in that queue
/// instead of having their handshakes dropped and retried a second or more later.
pub fn listen(addr: &str) -> io::Result<TcpListener> {
    bind_go_style(addr, false)
}

/// Binds a Go-style address, with `SO_REUSEPORT` if `reuse_port`.
fn bind_go_style(addr: &str, reuse_port: bool) -> io::Result<TcpListener> {
    let addr = if addr.is_empty() { ":80" } else { addr };
    match addr.strip_prefix(':') {
        Some(port) => {
            let port: u16 = port
                .parse()
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "invalid port"))?;
            crate::listener::bind(
                &[
                    (std::net::Ipv6Addr::UNSPECIFIED, port).into(),
                    (std::net::Ipv4Addr::UNSPECIFIED, port).into(),
                ],
                reuse_port,
            )
        }
        None => crate::listener::bind(&addr.to_socket_addrs()?.collect::<Vec<_>>(), reuse_port),
    }
}

/// [`listen`] with `SO_REUSEPORT`: several processes (or listeners) can listen on the same
/// port at once, and the kernel spreads new connections over them. A restart without
/// downtime starts the new process on the port, then drains the old one.
///
/// Linux's caveat: when a listener closes, connections still waiting in its accept queue
/// (handshaken, not yet accepted) are reset, not passed to the other listeners. A draining
/// server keeps accepting until its listener closes, so the queue is short, but not empty
/// in a burst. Setting `net.ipv4.tcp_migrate_req = 1` (Linux 5.14 and later) makes the
/// kernel move them to another listener of the port instead; without it, hand the
/// listening socket itself to the new process ([`systemd_listener`](crate::systemd_listener)).
pub fn listen_reuse_port(addr: &str) -> io::Result<TcpListener> {
    bind_go_style(addr, true)
}
