//! Stopping a server: graceful [`Handle::shutdown`], immediate [`Handle::close`], signals,
//! and Go's `ErrServerClosed`.
//!
//! A graceful shutdown marks the server as shutting down (every response from then on carries
//! `Connection: close`), broadcasts `Msg::Shutdown` to every machine of every loop (the
//! listener closes; idle connections close at once; busy ones finish their current request),
//! then waits until no connection is left, or the deadline passes, and stops the loops.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use poller::{Counters, Remote};

use crate::accept::Slot;
use crate::config::Config;
use crate::local::Msg;

/// How often a graceful shutdown checks whether the last connection has closed.
const DRAIN_POLL: Duration = Duration::from_millis(5);

/// The error `serve` returns after a shutdown or close (Go's `http.ErrServerClosed`).
/// Test for it with [`is_server_closed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerClosed;

impl fmt::Display for ServerClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("http: Server closed")
    }
}

impl std::error::Error for ServerClosed {}

/// True if `e` says the server was shut down or closed on purpose, not that it failed.
pub fn is_server_closed(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<ServerClosed>())
}

/// What a handle needs of a server: where it stands in its life.
#[derive(Default)]
pub(crate) struct Control {
    stage: Mutex<Stage>,
    /// Keep-alives disabled (`Handle::set_keep_alives_enabled`), kept here too so that a
    /// call before the server starts holds.
    keep_alives_off: AtomicBool,
    /// A graceful shutdown has begun: readiness reports draining from now on.
    draining: AtomicBool,
}

/// A server's stage, as its handles see it.
#[derive(Default)]
enum Stage {
    /// Not serving yet.
    #[default]
    Waiting,
    /// Not serving yet, and a shutdown or close came first (a signal during start-up, say):
    /// the server stops as soon as it starts, and `serve` says it was closed.
    StopRequested,
    Serving(Started),
}

struct Started {
    config: Arc<Config>,
    remotes: Vec<Remote<Slot>>,
    counters: Vec<Arc<Counters>>,
    /// Set by `shutdown` or `close`, so `serve` reports `ServerClosed`.
    closed: bool,
}

impl Control {
    pub(crate) fn started(
        &self,
        config: Arc<Config>,
        remotes: Vec<Remote<Slot>>,
        counters: Vec<Arc<Counters>>,
    ) {
        let mut stage = self.lock();
        let keep_alives_off = self.keep_alives_off.load(Ordering::SeqCst);
        config
            .keep_alives_off
            .store(keep_alives_off, Ordering::SeqCst);
        let stop_now = matches!(*stage, Stage::StopRequested);
        if stop_now {
            for remote in &remotes {
                remote.stop(); // nothing is connected yet: stopping is all a shutdown does
            }
        }
        *stage = Stage::Serving(Started {
            config,
            remotes,
            counters,
            closed: stop_now,
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Stage> {
        self.stage.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the serving server; before it serves, records that it must stop.
    fn serving<R>(&self, f: impl FnOnce(&mut Started) -> R) -> Option<R> {
        let mut stage = self.lock();
        match &mut *stage {
            Stage::Serving(started) => Some(f(started)),
            _ => {
                *stage = Stage::StopRequested;
                None
            }
        }
    }

    /// Serving, and neither shut down nor closed.
    fn is_serving(&self) -> bool {
        matches!(&*self.lock(), Stage::Serving(s) if !s.closed)
    }

    fn was_closed(&self) -> bool {
        matches!(&*self.lock(), Stage::Serving(s) if s.closed)
    }
}

/// A cloneable handle that stops a server from any thread (from [`Server::handle`] or
/// [`Running::handle`]).
///
/// [`Server::handle`]: crate::Server::handle
#[derive(Clone)]
pub struct Handle {
    control: Arc<Control>,
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

impl Handle {
    pub(crate) fn new(control: Arc<Control>) -> Handle {
        Handle { control }
    }

    /// The memory budget's figures now (all zero before the server starts); see
    /// [`Running::memory`].
    pub fn memory(&self) -> crate::MemoryStats {
        match &*self.control.lock() {
            Stage::Serving(started) => started.config.budget.stats(),
            _ => crate::MemoryStats::default(),
        }
    }

    /// Shuts down gracefully (Go's `Shutdown`): stops accepting, closes idle connections
    /// at once, lets in-flight requests finish (their responses carry `Connection: close`),
    /// and returns when no connection is left. Connections still busy after `timeout` are
    /// closed, and the result is a `TimedOut` error. Called before the server starts (a
    /// signal during start-up), it returns at once and the server stops as it starts.
    pub fn shutdown(&self, timeout: Duration) -> io::Result<()> {
        if !self.drain() {
            return Ok(()); // not serving: it stops as soon as it starts
        }
        let deadline = Instant::now() + timeout;
        let counters = self.control.serving(|started| {
            started.closed = true;
            started.config.shutting_down.store(true, Ordering::SeqCst);
            for remote in &started.remotes {
                remote.broadcast(Msg::Shutdown);
            }
            started.config.notice.fire();
            run_shutdown_hooks(&started.config);
            started.counters.clone()
        });
        let Some(counters) = counters else {
            return Ok(()); // not serving yet: it stops as soon as it starts
        };
        let mut drained = false;
        while Instant::now() < deadline {
            let live: u64 = counters
                .iter()
                .map(|c| {
                    let s = c.snapshot();
                    s.spawns - s.closes
                })
                .sum();
            if live == 0 {
                drained = true;
                break;
            }
            thread::sleep(DRAIN_POLL);
        }
        self.close();
        match drained {
            true => Ok(()),
            false => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "shutdown: connections still busy at the deadline were closed",
            )),
        }
    }

    /// Enables or disables HTTP keep-alives (Go's `SetKeepAlivesEnabled`; enabled by
    /// default). While disabled, every response closes its connection, and disabling closes
    /// the connections that sit idle between requests. May be called before the server
    /// starts.
    pub fn set_keep_alives_enabled(&self, enabled: bool) {
        let stage = self.control.lock();
        self.control
            .keep_alives_off
            .store(!enabled, Ordering::SeqCst);
        if let Stage::Serving(started) = &*stage {
            started
                .config
                .keep_alives_off
                .store(!enabled, Ordering::SeqCst);
            if !enabled {
                for remote in &started.remotes {
                    remote.broadcast(Msg::CloseIdle);
                }
            }
        }
    }

    /// Gives `value` to the protocol of every upgraded connection
    /// ([`Protocol::notify`](crate::upgrade::Protocol::notify)), on its loop: one message
    /// per loop, however many connections (a WebSocket broadcast is built on it). Returns
    /// false if the server is not serving.
    pub fn notify_upgraded(&self, value: impl std::any::Any + Send + Sync) -> bool {
        let value: Arc<dyn std::any::Any + Send + Sync> = Arc::new(value);
        let stage = self.control.lock();
        let Stage::Serving(started) = &*stage else {
            return false;
        };
        let mut sent = false;
        for remote in &started.remotes {
            sent |= remote.broadcast(Msg::Notify(Arc::clone(&value)));
        }
        sent
    }

    /// Reports draining, then keeps serving for the server's
    /// [`drain_delay`](crate::Server::drain_delay), unless it is closed meanwhile. Returns
    /// false if the server is not serving.
    fn drain(&self) -> bool {
        let delay = self.control.serving(|started| {
            started.config.notice.fire(); // readiness reports draining from now on
            started.config.draining.store(true, Ordering::SeqCst);
            started.config.drain_delay
        });
        let Some(delay) = delay else {
            return false;
        };
        if !self.control.draining.swap(true, Ordering::SeqCst) {
            crate::systemd::notify("STOPPING=1");
            log::info!("draining for {delay:?} before shutting down");
        }
        let until = Instant::now() + delay;
        while Instant::now() < until && !self.control.was_closed() {
            thread::sleep(DRAIN_POLL.max((until - Instant::now()).min(Duration::from_millis(50))));
        }
        true
    }

    /// A graceful shutdown has begun: the server is draining, or stopping.
    pub fn is_draining(&self) -> bool {
        self.control.draining.load(Ordering::SeqCst)
    }

    /// Closes the listener and every connection now (Go's `Close`).
    pub fn close(&self) {
        if !self.control.draining.swap(true, Ordering::SeqCst) {
            crate::systemd::notify("STOPPING=1");
        }
        self.control.serving(|started| {
            started.closed = true;
            for remote in &started.remotes {
                remote.stop();
            }
        });
    }
}

/// Runs each `on_shutdown` hook on a thread of its own, as Go runs each in a goroutine.
fn run_shutdown_hooks(config: &Arc<Config>) {
    for index in 0..config.on_shutdown.len() {
        let config = Arc::clone(config);
        let spawned = thread::Builder::new()
            .name("nethttp-on-shutdown".to_string())
            .spawn(move || (config.on_shutdown[index])());
        if let Err(e) = spawned {
            log::error!("starting an on_shutdown hook failed: {e}");
        }
    }
}

/// Shuts `handle`'s server down gracefully, allowing `timeout`, when the process receives
/// SIGINT or SIGTERM. Spawns one thread that waits for the signal.
///
/// ```no_run
/// use std::time::Duration;
/// # use nethttp::{Request, ResponseWriter};
/// # let hello = |_: &mut ResponseWriter, _: &mut Request| {};
/// let server = nethttp::Server::new(hello).addr(":8080");
/// nethttp::shutdown_on_signals(server.handle(), Duration::from_secs(10))?;
/// match server.listen_and_serve() {
///     Err(e) if nethttp::is_server_closed(&e) => println!("bye"),
///     other => other?,
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn shutdown_on_signals(handle: Handle, timeout: Duration) -> io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    thread::Builder::new()
        .name("nethttp-signals".to_string())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                log::info!("signal {signal}: shutting down");
                if let Err(e) = handle.shutdown(timeout) {
                    log::warn!("{e}");
                }
            }
        })?;
    Ok(())
}

/// A server started with [`Server::start`](crate::Server::start).
#[derive(Debug)]
pub struct Running {
    local_addr: SocketAddr,
    handle: Handle,
    threads: Vec<JoinHandle<io::Result<()>>>,
}

impl Running {
    pub(crate) fn new(
        local_addr: SocketAddr,
        control: Arc<Control>,
        threads: Vec<JoinHandle<io::Result<()>>>,
    ) -> Running {
        Running {
            local_addr,
            handle: Handle::new(control),
            threads,
        }
    }

    /// The address the listener is bound to (the port the system chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A handle to stop the server from another thread.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Counters of each event loop's work (turns, events, wake-ups, connections adopted and
    /// closed), loop 0 first.
    pub fn stats(&self) -> Vec<poller::Stats> {
        match &*self.handle.control.lock() {
            Stage::Serving(started) => started.counters.iter().map(|c| c.snapshot()).collect(),
            _ => Vec::new(),
        }
    }

    /// The memory budget's figures now: the budget, bytes held for clients, connections
    /// waiting for room (see [`Server::max_memory`](crate::Server::max_memory)).
    pub fn memory(&self) -> crate::MemoryStats {
        self.handle.memory()
    }

    /// Shuts down gracefully (see [`Handle::shutdown`]) and waits for the threads.
    pub fn shutdown(self, timeout: Duration) -> io::Result<()> {
        let drained = self.handle.shutdown(timeout);
        let _ = self.wait();
        drained
    }

    /// Stops every loop now, closing the listener and every connection, and waits for the
    /// threads to end.
    pub fn close(self) -> io::Result<()> {
        self.handle.close();
        match self.wait() {
            Err(e) if is_server_closed(&e) => Ok(()),
            other => other,
        }
    }

    /// Waits until every loop has stopped. Returns the first loop error, or
    /// [`ServerClosed`] after a shutdown or close.
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
        result?;
        match self.handle.control.was_closed() {
            true => Err(io::Error::other(ServerClosed)),
            false => Ok(()),
        }
    }
}

/// Pings systemd's watchdog every `every` while the server serves (see `systemd.rs`).
pub(crate) fn watchdog(control: Arc<Control>, every: Duration) {
    let spawned = thread::Builder::new()
        .name("nethttp-watchdog".into())
        .spawn(move || {
            while control.is_serving() {
                crate::systemd::notify("WATCHDOG=1");
                thread::sleep(every);
            }
        });
    if let Err(e) = spawned {
        log::error!("cannot start the watchdog thread: {e}");
    }
}
