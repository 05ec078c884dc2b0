//! Soak test: a server with default settings, in a child process, under a bounded mix of
//! honest and hostile traffic on loopback, then a graceful shutdown.
//!
//! `cargo run --release --example soak -- [--secs N] [--out FILE]` (default 60 s)
//!
//! The program runs itself again as the server (`--serve`), so the server's memory,
//! descriptors and CPU time can be read from `/proc/<pid>` apart from the clients'. The
//! child lowers its own descriptor limit to `SERVER_FDS`, so the idle flood reaches the
//! connection cap that limit makes; the `Server` options are all defaults.
//!
//! While the clock runs, at once:
//! - **keep-alive** clients send well-formed requests on persistent connections and check
//!   every answer: hello, inline echo (by length and chunked), blocking echo, streamed
//!   downloads, HEAD;
//! - **pipelined** bursts of 16–64 requests in one write on a fresh connection;
//! - **blocking** clients whose requests sleep on the server's pool;
//! - **slowloris** connections that drip a head a byte a second (the server answers 408);
//! - **idle** waves: sockets that never send, opened until the server's descriptors run
//!   out, then released;
//! - **resets**: clients that abort (RST) mid-head, mid-body (inline and blocking) and
//!   mid-response;
//! - **malformed** requests and smuggling vectors, each of which must get its refusal;
//! - a **latency probe**: every 100 ms, one timed `GET /` on a kept-alive connection and
//!   one on a fresh connection, to show the server answers promptly throughout.
//!
//! Then the clients stop, and the server is watched once a second for 40 s, since it gives
//! memory back lazily (idle pool threads exit after 10 s; buffers go as connections drain).
//! Last, with requests still in flight, the server is sent SIGTERM: the in-flight requests
//! must be answered and the process must exit 0.
//!
//! The report counts requests sent, answered, answered correctly and lost (the well-formed
//! kinds must lose none); gives the probe's p50, p99 and maximum, the maximum of each
//! minute and every probe slower than a second; the server's RSS and descriptors at start,
//! peak, 4 s after the clients left, and settled at the end of the 40 s (with the least
//! RSS seen); and its CPU while the abuse ran.
//!
//! The modules, in the order of a run:
//! - `server`: the child's routes, and how the parent starts it and shuts it down;
//! - `wire`: connecting, and a small strict response reader every client uses;
//! - `honest`: well-formed traffic, every answer checked (with `rng` for variety);
//! - `abuse`: the hostile clients;
//! - `probe`: the latency probe;
//! - `counts`: what the clients count;
//! - `watch`: the server's memory, descriptors and CPU, from /proc;
//! - `heap`: the allocator that counts live bytes (the server says them at `GET /heap`);
//! - `report`: the report.

mod abuse;
mod counts;
mod heap;
mod honest;
mod probe;
mod report;
mod rng;
mod server;
mod watch;
mod wire;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use counts::Counts;
use probe::Connection;

#[global_allocator]
static ALLOCATOR: heap::Counting = heap::Counting;

/// The descriptor limit the server process sets itself: the connection cap of the run.
const SERVER_FDS: u64 = 4096;

/// Clients of each kind.
const KEEP_ALIVE_CLIENTS: usize = 8;
const PIPELINE_CLIENTS: usize = 2;
const BLOCKING_CLIENTS: usize = 16;
const RESET_CLIENTS: usize = 2;

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut secs, mut out) = (60, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--serve" => return server::serve(),
            "--secs" => secs = args.next().and_then(|s| s.parse().ok()).unwrap_or(secs),
            "--out" => out = args.next(),
            "-h" | "--help" => {
                println!("usage: soak [--secs N] [--out FILE]   (default 60 s; the report on stdout or in FILE)");
                return Ok(());
            }
            other => {
                eprintln!("soak: unknown argument {other}\nusage: soak [--secs N] [--out FILE]");
                std::process::exit(2);
            }
        }
    }
    let report = run(secs)?;
    print!("{report}");
    if let Some(path) = out {
        std::fs::write(path, &report)?;
    }
    Ok(())
}

/// One run: start the server, let the clients loose for `secs`, stop them, watch the
/// server settle, shut it down; the report.
fn run(secs: u64) -> io::Result<String> {
    let (child, addr) = server::start()?;
    let pid = child.id();
    thread::sleep(Duration::from_millis(200));
    let start = watch::sample(pid);
    server::warm_up(addr)?;
    thread::sleep(Duration::from_millis(200));
    let warm = watch::sample(pid);
    let heap_start = server::heap(addr)?;
    let watcher = watch::Watcher::start(pid);

    let started = Instant::now();
    let clients = Clients::start(addr, started);
    let abuse_start = watch::sample(pid);
    let deadline = started + Duration::from_secs(secs);
    while Instant::now() < deadline {
        thread::sleep(Duration::from_millis(500));
    }
    let abuse_end = watch::sample(pid);
    let abuse_secs = started.elapsed().as_secs_f64();
    let counts = clients.stop();

    let after = watch::after_clients(pid);
    let heap_end = server::heap(addr)?;
    let peak = watcher.stop();
    let shutdown = server::shut_down(child, addr)?;

    let cpu_ticks = abuse_end.cpu_ticks - abuse_start.cpu_ticks;
    let report = report::Run {
        secs,
        addr,
        pid,
        counts: &counts,
        start,
        warm,
        heap: (heap_start, heap_end),
        peak: &peak,
        after: &after,
        cpu_secs: cpu_ticks as f64 / watch::clock_ticks() as f64,
        abuse_secs,
        shutdown: &shutdown,
    };
    Ok(report.to_string())
}

/// The client threads, and what they count.
struct Clients {
    counts: Arc<Counts>,
    /// Set when the clock runs out; every client looks at it between requests.
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// A client's body: what it runs with, besides the server's address.
type Client = Box<dyn FnOnce(&Counts, &AtomicBool) + Send>;

impl Clients {
    /// Starts every kind of client; `started` is the run's clock.
    fn start(addr: SocketAddr, started: Instant) -> Clients {
        let counts = Arc::new(Counts::default());
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        let mut spawn = |client: Client| {
            let (c, s) = (Arc::clone(&counts), Arc::clone(&stop));
            threads.push(thread::spawn(move || client(&c, &s)));
        };
        for i in 0..KEEP_ALIVE_CLIENTS as u64 {
            spawn(Box::new(move |c, s| {
                honest::keep_alive(addr, 0x9e37 + i, false, &c.keep_alive, s)
            }));
        }
        for i in 0..BLOCKING_CLIENTS as u64 {
            spawn(Box::new(move |c, s| {
                honest::keep_alive(addr, 7 + i, true, &c.blocking, s)
            }));
        }
        for i in 0..PIPELINE_CLIENTS as u64 {
            spawn(Box::new(move |c, s| {
                honest::pipelined(addr, 0x51 + i, &c.pipelined, s)
            }));
        }
        spawn(Box::new(move |c, s| abuse::slowloris(addr, c, s)));
        spawn(Box::new(move |c, s| abuse::idle_waves(addr, c, s, started)));
        for i in 0..RESET_CLIENTS as u64 {
            spawn(Box::new(move |c, s| {
                abuse::resetters(addr, 0xabc + i, c, s)
            }));
        }
        spawn(Box::new(move |c, s| abuse::malformed(addr, c, s)));
        spawn(Box::new(move |c, s| {
            probe::probe(addr, Connection::Kept, &c.probe_kept, s, started)
        }));
        spawn(Box::new(move |c, s| {
            probe::probe(addr, Connection::Fresh, &c.probe_fresh, s, started)
        }));
        Clients {
            counts,
            stop,
            threads,
        }
    }

    /// Tells every client to stop and waits for them; what they counted.
    fn stop(self) -> Arc<Counts> {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads {
            let _ = thread.join();
        }
        self.counts
    }
}
