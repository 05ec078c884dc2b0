//! Flood benchmark: what a flood of large uploads does to a server's memory, and to the
//! latency other clients see meanwhile.
//!
//! `benches/flood.sh --clients 200 --bytes 8000000` builds the echo and flood examples in
//! release mode and runs this with those arguments. Its options, with their defaults:
//!
//! ```text
//! flood [--clients 200] [--bytes 8000000] [--route /echo]
//!       [--server-cmd "target/release/examples/echo 127.0.0.1:0"]
//!       [--after-secs 5] [--timeout-secs 300]
//! ```
//!
//! A run, in order:
//! 1. the soft descriptor limit is raised to the hard one (the server inherits it), and the
//!    server command (split on whitespace) starts as a child process; its address is the one
//!    in the `listening on http://IP:PORT` line it prints;
//! 2. warm-up: one `GET /` and one small `POST {route}`, each answered 200; then the server's
//!    resident set (VmRSS in `/proc/PID/status`) is the "start" figure;
//! 3. the flood: N clients start together, each on a connection of its own, sending
//!    `POST {route}` with an S-byte body and `Connection: close`, while a second thread of the
//!    client reads the answer at the same time (the server may answer before the body ends,
//!    or stop reading for a while: neither side waits on the other). The answer must be 200
//!    and carry the S bytes back, compared as they arrive. Meanwhile a sampler reads the RSS
//!    every 20 ms and keeps the peak, and a probe sends `GET /` every 10 ms on one kept-alive
//!    connection, timing each whole answer, until the last client finishes;
//! 4. `--after-secs` later, the RSS again ("after");
//! 5. the report, one line per figure; then SIGTERM for the server, and a wait for its exit.
//!
//! The sampler can miss a short peak when the clients crowd it off the CPU, so the report
//! also gives the kernel's own high-water mark (VmHWM). The exit status is 1 if any client
//! or probe failed, 2 if the run could not be made. A client or probe fails when one read or
//! write waits `--timeout-secs`, and a client also when it runs past that from its start.
//!
//! The modules, in the order of a run: `server` (the server under test), `wire` (talking
//! to it), `load` (the clients and the probe), `report`.

use std::io::{self, ErrorKind};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::thread;
use std::time::Duration;

mod load;
mod report;
mod server;
mod wire;

use load::flood;
use report::{report, Rss};
use server::{sample_peak, status_kib, ServerProcess};
use wire::warm_up;

pub(crate) const USAGE: &str = "usage: flood [--clients N] [--bytes S] [--route /echo] \
    [--server-cmd \"target/release/examples/echo 127.0.0.1:0\"] [--after-secs 5] \
    [--timeout-secs 300]";

/// The command line.
pub(crate) struct Options {
    pub(crate) clients: usize,
    pub(crate) bytes: u64,
    pub(crate) route: String,
    pub(crate) server_cmd: String,
    pub(crate) after: Duration,
    pub(crate) timeout: Duration,
}

pub(crate) fn options() -> Result<Options, String> {
    let mut o = Options {
        clients: 200,
        bytes: 8_000_000,
        route: "/echo".to_string(),
        server_cmd: "target/release/examples/echo 127.0.0.1:0".to_string(),
        after: Duration::from_secs(5),
        timeout: Duration::from_secs(300),
    };
    if std::env::args().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        std::process::exit(0);
    }
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or(format!("{flag} needs a value\n{USAGE}"))?;
        let bad = || format!("{flag}: not a number, or out of range: {value}");
        let secs = || {
            value
                .parse()
                .ok()
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
        };
        match flag.as_str() {
            "--clients" => o.clients = value.parse().map_err(|_| bad())?,
            "--bytes" => o.bytes = value.parse().map_err(|_| bad())?,
            "--after-secs" => o.after = secs().ok_or_else(bad)?,
            "--timeout-secs" => o.timeout = secs().ok_or_else(bad)?,
            "--route" => o.route = value,
            "--server-cmd" => o.server_cmd = value,
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    if o.clients == 0 || !o.route.starts_with('/') {
        return Err(format!(
            "needs a client or more, and a route starting with /\n{USAGE}"
        ));
    }
    Ok(o)
}

pub(crate) fn main() -> ExitCode {
    let result = options()
        .map_err(|e| io::Error::new(ErrorKind::InvalidInput, e))
        .and_then(|options| run(&options));
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("flood: {e}");
            ExitCode::from(2)
        }
    }
}

/// The whole run (steps 1 to 5); whether every client and probe succeeded.
pub(crate) fn run(options: &Options) -> io::Result<bool> {
    raise_descriptor_limit();
    let server = ServerProcess::start(&options.server_cmd)?;
    warm_up(server.addr, &options.route, options.timeout)?;
    let pid = server.child.id();
    let start = status_kib(pid, "VmRSS")?;
    let stop = AtomicBool::new(false);
    let (flood, peak, after) = thread::scope(|s| {
        let sampler = s.spawn(|| sample_peak(pid, &stop));
        let flood = flood(options, server.addr);
        thread::sleep(options.after);
        let after = status_kib(pid, "VmRSS");
        stop.store(true, Relaxed);
        (flood, sampler.join().unwrap_or(0), after)
    });
    let rss = Rss {
        start,
        peak: peak.max(start).max(*after.as_ref().unwrap_or(&0)),
        high_water: status_kib(pid, "VmHWM").unwrap_or(0),
        after,
    };
    Ok(report(options, &flood, &rss))
}

/// Raises the soft limit on open descriptors to the hard one: each client holds a socket
/// and its clone, and the server (which inherits the limit) one socket per client.
pub(crate) fn raise_descriptor_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass; RLIMIT_NOFILE is a valid resource.
    let mut failed = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0;
    if !failed {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: setrlimit reads the struct we pass.
        failed = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0;
    }
    if failed {
        let e = io::Error::last_os_error();
        eprintln!("flood: the descriptor limit stays as it is: {e}");
    }
}
