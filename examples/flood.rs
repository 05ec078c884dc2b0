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

use std::fs;
use std::io::{self, BufRead, BufReader, ErrorKind, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpStream};
use std::process::{Child, ChildStdout, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{PoisonError, RwLock};
use std::thread;
use std::time::{Duration, Instant};

/// Stack size of each client's two threads: they keep little on the stack, and thousands of
/// them must fit.
const STACK: usize = 128 * 1024;
/// Bytes per body write and per comparison, and the capacity of each client's read buffer.
const PIECE: usize = 64 * 1024;
/// The body pattern repeats every `PERIOD` bytes (a prime, so the pattern does not line up
/// with power-of-two buffer sizes).
const PERIOD: usize = 251;
/// How often the sampler reads the server's RSS.
const SAMPLE_EVERY: Duration = Duration::from_millis(20);
/// How often the probe sends `GET /`; ticks missed while a probe was slow are skipped.
const PROBE_EVERY: Duration = Duration::from_millis(10);
/// Distinct failure reasons printed, for the clients and for the probe.
const REASONS_SHOWN: usize = 5;

const USAGE: &str = "usage: flood [--clients N] [--bytes S] [--route /echo] \
    [--server-cmd \"target/release/examples/echo 127.0.0.1:0\"] [--after-secs 5] \
    [--timeout-secs 300]";

/// The probe's request, on a connection kept alive.
const GET_ROOT: &[u8] = b"GET / HTTP/1.1\r\nHost: flood\r\n\r\n";

/// Where a response body goes as it arrives, piece by piece.
type Sink<'a> = &'a mut dyn FnMut(&[u8]) -> io::Result<()>;

/// The command line.
struct Options {
    clients: usize,
    bytes: u64,
    route: String,
    server_cmd: String,
    after: Duration,
    timeout: Duration,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        clients: 200,
        bytes: 8_000_000,
        route: "/echo".to_string(),
        server_cmd: "target/release/examples/echo 127.0.0.1:0".to_string(),
        after: Duration::from_secs(5),
        timeout: Duration::from_secs(300),
    };
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

fn main() -> ExitCode {
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
fn run(options: &Options) -> io::Result<bool> {
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
fn raise_descriptor_limit() {
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

// ---- the server under test ----

/// The server, a child process; dropping it sends SIGTERM and waits for the exit.
struct ServerProcess {
    child: Child,
    /// Where it listens, from the line it prints.
    addr: SocketAddr,
}

impl ServerProcess {
    fn start(command: &str) -> io::Result<ServerProcess> {
        let mut words = command.split_whitespace();
        let program = words.next().ok_or_else(|| other("--server-cmd is empty"))?;
        let mut child = Command::new(program)
            .args(words)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| other(format!("starting {program}: {e}")))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let mut server = ServerProcess { child, addr };
        server.addr = listening_address(stdout)?; // on an error, `server` drops: SIGTERM
        Ok(server)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // SAFETY: kill only sends a signal, to our own child, which has not been waited for
        // yet, so its pid cannot have been reused.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

/// Reads the server's output up to its `listening on http://IP:PORT` line, and the address
/// in it (an unspecified IP means loopback). The server's other output goes on to stderr,
/// on a thread that lives as long as the pipe, so the server never blocks on a full pipe.
fn listening_address(stdout: ChildStdout) -> io::Result<SocketAddr> {
    let mut out = BufReader::new(stdout);
    let mut line = String::new();
    let mut addr: SocketAddr = loop {
        line.clear();
        if out.read_line(&mut line)? == 0 {
            return Err(other("the server ended before saying where it listens"));
        }
        if let Some(addr) = line.trim().strip_prefix("listening on http://") {
            break addr
                .parse()
                .map_err(|_| other(format!("bad line {line:?}")))?;
        }
        eprint!("{line}");
    };
    if addr.ip().is_unspecified() {
        addr.set_ip(Ipv4Addr::LOCALHOST.into());
    }
    thread::spawn(move || io::copy(&mut out, &mut io::stderr()));
    Ok(addr)
}

/// A size field of `/proc/PID/status` (VmRSS, VmHWM), in KiB.
fn status_kib(pid: u32, field: &str) -> io::Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    (status.lines())
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().strip_suffix("kB")?.trim().parse().ok())
        .ok_or_else(|| other(format!("no {field} for the server (has it exited?)")))
}

/// Reads a process's RSS every `SAMPLE_EVERY` until `stop` (or the process is gone); the
/// peak seen, in KiB.
fn sample_peak(pid: u32, stop: &AtomicBool) -> u64 {
    let mut peak = 0;
    while !stop.load(Relaxed) {
        match status_kib(pid, "VmRSS") {
            Ok(kib) => peak = peak.max(kib),
            Err(_) => break,
        }
        thread::sleep(SAMPLE_EVERY);
    }
    peak
}

// ---- talking to it ----

/// A connection with Nagle off, whose reads and writes each give up after `timeout`.
fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

fn other(message: impl Into<String>) -> io::Error {
    io::Error::other(message.into())
}

fn closed() -> io::Error {
    io::Error::new(ErrorKind::UnexpectedEof, "connection closed")
}

/// `e` as a failure reason: a socket timeout shows as `WouldBlock` on Unix.
fn describe(e: &io::Error) -> String {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => "timed out (--timeout-secs)".into(),
        _ => e.to_string(),
    }
}

/// `e` as a failure reason, after what was being done.
fn context(what: &str, e: &io::Error) -> io::Error {
    other(format!("{what}: {}", describe(e)))
}

/// What the clients need from a response head.
struct Head {
    status: u16,
    /// The body's Content-Length, unless it is chunked.
    length: Option<u64>,
    chunked: bool,
    /// The response said `Connection: close`.
    closes: bool,
}

/// Reads one final response head, skipping interim (1xx) ones.
fn read_head(r: &mut impl BufRead) -> io::Result<Head> {
    loop {
        let status_line = read_line(r)?;
        let status: u16 = (status_line.split(' ').nth(1))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| other(format!("bad status line {status_line:?}")))?;
        let (mut length, mut chunked, mut closes) = (None, false, false);
        loop {
            let line = read_line(r)?;
            if line.is_empty() {
                break;
            }
            let bad = || other(format!("bad header field {line:?}"));
            let (name, value) = line.split_once(':').ok_or_else(bad)?;
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = Some(value.parse().map_err(|_| bad())?),
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "connection" => closes = value.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        if !(100..200).contains(&status) {
            let length = length.filter(|_| !chunked);
            return Ok(Head {
                status,
                length,
                chunked,
                closes,
            });
        }
    }
}

/// One line without its line end; the connection closing first is an error.
fn read_line(r: &mut impl BufRead) -> io::Result<String> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(closed());
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Passes the body that `head` frames to `sink`, piece by piece as it arrives.
fn read_body(r: &mut impl BufRead, head: &Head, sink: Sink) -> io::Result<()> {
    match (head.length, head.chunked) {
        (Some(n), _) => return read_exactly(r, n, sink),
        (None, false) => return Err(other("neither Content-Length nor chunked")),
        (None, true) => {}
    }
    loop {
        let line = read_line(r)?;
        let size = (line.split(';').next())
            .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
            .ok_or_else(|| other(format!("bad chunk size line {line:?}")))?;
        if size == 0 {
            break;
        }
        read_exactly(r, size, sink)?;
        if !read_line(r)?.is_empty() {
            return Err(other("chunk data not followed by CRLF"));
        }
    }
    while !read_line(r)?.is_empty() {} // the trailer section
    Ok(())
}

fn read_exactly(r: &mut impl BufRead, mut n: u64, sink: Sink) -> io::Result<()> {
    while n > 0 {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Err(closed());
        }
        let len = n.min(buf.len() as u64) as usize;
        sink(&buf[..len])?;
        r.consume(len);
        n -= len as u64;
    }
    Ok(())
}

/// Sends `request` and reads the whole answer; its head.
fn exchange(conn: &mut BufReader<TcpStream>, request: &[u8]) -> io::Result<Head> {
    conn.get_mut().write_all(request)?;
    let head = read_head(conn)?;
    read_body(conn, &head, &mut |_| Ok(()))?;
    Ok(head)
}

/// One `GET /` and one small `POST {route}`, each on its own connection and answered 200,
/// so the server has run both paths once before its start RSS is read.
fn warm_up(addr: SocketAddr, route: &str, timeout: Duration) -> io::Result<()> {
    let requests = [
        "GET / HTTP/1.1\r\nHost: flood\r\nConnection: close\r\n\r\n".to_string(),
        format!("POST {route} HTTP/1.1\r\nHost: flood\r\nContent-Length: 4\r\nConnection: close\r\n\r\nwarm"),
    ];
    for request in &requests {
        let head = exchange(
            &mut BufReader::new(connect(addr, timeout)?),
            request.as_bytes(),
        )?;
        if head.status != 200 {
            let first_line = request.lines().next().unwrap_or_default();
            return Err(other(format!(
                "warm-up {first_line}: status {}",
                head.status
            )));
        }
    }
    Ok(())
}

// ---- the flood ----

/// What client `c` sends: byte `j` of its body is `(j * 31 + c * 7) % 251`. Each client's
/// sequence is client 0's from some offset on, so one shared block of client 0's sequence,
/// `PIECE + PERIOD` bytes long, holds every piece any client sends or expects.
#[derive(Clone, Copy)]
struct Body<'a> {
    /// Client 0's sequence, shared by every client.
    block: &'a [u8],
    /// Where this client's sequence starts in client 0's: the `k` with
    /// `k * 31 ≡ c * 7 (mod 251)`.
    shift: usize,
}

impl Body<'_> {
    fn block() -> Vec<u8> {
        (0..PIECE + PERIOD)
            .map(|k| (k * 31 % PERIOD) as u8)
            .collect()
    }

    fn of_client(block: &[u8], c: usize) -> Body<'_> {
        let shift = (0..PERIOD).find(|k| k * 31 % PERIOD == c * 7 % PERIOD);
        let shift = shift.expect("31 has an inverse mod 251, a prime");
        Body { block, shift }
    }

    /// The `len` bytes (at most `PIECE`) from `offset` on.
    fn piece(&self, offset: u64, len: usize) -> &[u8] {
        let start = ((offset % PERIOD as u64) as usize + self.shift) % PERIOD;
        &self.block[start..start + len]
    }

    /// Checks `received`, found at `offset` of the answer's body, against the body sent.
    fn check(&self, offset: u64, received: &[u8]) -> io::Result<()> {
        for (i, part) in received.chunks(PIECE).enumerate() {
            let at = offset + (i * PIECE) as u64;
            let sent = self.piece(at, part.len());
            if let Some(k) = part.iter().zip(sent).position(|(a, b)| a != b) {
                let at = at + k as u64;
                return Err(other(format!("differs from the bytes sent at byte {at}")));
            }
        }
        Ok(())
    }
}

/// What one client did: body bytes sent and received, and why it failed if it did.
#[derive(Default)]
struct Outcome {
    sent: u64,
    received: u64,
    failure: Option<String>,
}

/// The flood's findings: each client's outcome, the time from the start until the last
/// client finished, and how long each answered probe took and why the others failed.
struct Flood {
    outcomes: Vec<Outcome>,
    took: Duration,
    latencies: Vec<Duration>,
    probe_failures: Vec<String>,
}

/// Step 3: the clients and the probe, started together, until the last client finishes.
/// They wait at a starting gate (a lock held while they are spawned) rather than at a
/// `Barrier`: a thread that cannot be spawned would leave a `Barrier` waiting forever.
fn flood(options: &Options, addr: SocketAddr) -> Flood {
    let block = Body::block();
    let (gate, done) = (RwLock::new(()), AtomicBool::new(false));
    let wait_at = |gate: &RwLock<()>| drop(gate.read().unwrap_or_else(PoisonError::into_inner));
    thread::scope(|s| {
        let closed = gate.write().unwrap_or_else(PoisonError::into_inner);
        let clients: Vec<_> = (0..options.clients)
            .map(|c| {
                let (body, gate) = (Body::of_client(&block, c), &gate);
                small_thread().spawn_scoped(s, move || {
                    wait_at(gate);
                    client(addr, options, body)
                })
            })
            .collect();
        let probe = thread::Builder::new().spawn_scoped(s, || {
            wait_at(&gate);
            probe(addr, &done, options.timeout)
        });
        let started = Instant::now();
        drop(closed);
        let outcomes = (clients.into_iter())
            .map(|client| match client.map(|thread| thread.join()) {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(_)) => failed_with("its thread panicked".into()),
                Err(e) => failed_with(format!("starting its thread: {e}")),
            })
            .collect();
        let took = started.elapsed();
        done.store(true, Relaxed);
        let (latencies, probe_failures) = match probe.map(|thread| thread.join()) {
            Ok(Ok(probes)) => probes,
            _ => (
                vec![],
                vec!["the probe thread did not start, or panicked".into()],
            ),
        };
        Flood {
            outcomes,
            took,
            latencies,
            probe_failures,
        }
    })
}

fn small_thread() -> thread::Builder {
    thread::Builder::new().stack_size(STACK)
}

fn failed_with(reason: String) -> Outcome {
    let failure = Some(reason);
    Outcome {
        failure,
        ..Outcome::default()
    }
}

/// One client: opens its connection, then sends its upload on this thread while a reader
/// thread of its own reads and checks the answer, so neither side waits on the other.
fn client(addr: SocketAddr, options: &Options, body: Body) -> Outcome {
    let deadline = Instant::now() + options.timeout;
    let conn = connect(addr, options.timeout).and_then(|out| Ok((out.try_clone()?, out)));
    let (input, out) = match conn {
        Ok(pair) => pair,
        Err(e) => return failed_with(format!("connect: {}", describe(&e))),
    };
    thread::scope(|s| {
        let reader =
            small_thread().spawn_scoped(s, || read_echo(input, options.bytes, body, deadline));
        let Ok(reader) = reader else {
            return failed_with("could not start its reader thread".into());
        };
        let (sent, sending) = send_upload(out, options, body, deadline);
        let (received, answer) = reader.join().unwrap_or((0, Err(other("reader panicked"))));
        let failure = match (answer, sending) {
            (Err(e), _) => Some(e.to_string()),
            (Ok(()), Err(e)) => Some(format!("sending: {}", describe(&e))),
            (Ok(()), Ok(())) => None,
        };
        Outcome {
            sent,
            received,
            failure,
        }
    })
}

/// Sends the request head, then the body piece by piece: the body bytes sent, and the error
/// that stopped it, if one did.
fn send_upload(
    mut out: TcpStream,
    options: &Options,
    body: Body,
    deadline: Instant,
) -> (u64, io::Result<()>) {
    let (route, bytes) = (&options.route, options.bytes);
    let head = format!(
        "POST {route} HTTP/1.1\r\nHost: flood\r\nContent-Length: {bytes}\r\nConnection: close\r\n\r\n"
    );
    let mut sent = 0;
    let mut send = || {
        out.write_all(head.as_bytes())?;
        while sent < bytes {
            if Instant::now() > deadline {
                return Err(io::Error::from(ErrorKind::TimedOut));
            }
            let len = (bytes - sent).min(PIECE as u64) as usize;
            out.write_all(body.piece(sent, len))?;
            sent += len as u64;
        }
        Ok(())
    };
    let result = send();
    (sent, result)
}

/// Reads the answer to an upload and checks it (see `check_echo`): the body bytes received,
/// and why the answer is wrong if it is; then the connection is shut down, which wakes a
/// sender blocked on it.
fn read_echo(input: TcpStream, bytes: u64, body: Body, deadline: Instant) -> (u64, io::Result<()>) {
    let mut r = BufReader::with_capacity(PIECE, input);
    let mut received = 0;
    let result = check_echo(&mut r, bytes, body, deadline, &mut received);
    if result.is_err() {
        let _ = r.get_ref().shutdown(Shutdown::Both);
    }
    (received, result)
}

/// Status 200, then a body of exactly the `bytes` bytes sent, compared as they arrive and
/// counted into `received`, all before `deadline`.
fn check_echo(
    r: &mut BufReader<TcpStream>,
    bytes: u64,
    body: Body,
    deadline: Instant,
    received: &mut u64,
) -> io::Result<()> {
    let head = read_head(r).map_err(|e| context("answer head", &e))?;
    if head.status != 200 {
        return Err(other(format!("status {}", head.status)));
    }
    if let Some(n) = head.length.filter(|&n| n != bytes) {
        return Err(other(format!("Content-Length {n}, not {bytes}")));
    }
    let mut check = |piece: &[u8]| {
        if Instant::now() > deadline {
            return Err(io::Error::from(ErrorKind::TimedOut));
        }
        if *received + piece.len() as u64 > bytes {
            return Err(other(format!("longer than the {bytes} bytes sent")));
        }
        body.check(*received, piece)?;
        *received += piece.len() as u64;
        Ok(())
    };
    read_body(r, &head, &mut check).map_err(|e| context("answer body", &e))?;
    match *received == bytes {
        true => Ok(()),
        false => Err(other(format!("answer body: {received} bytes, not {bytes}"))),
    }
}

/// Sends `GET /` on one kept-alive connection every `PROBE_EVERY` until `done`, timing each
/// whole answer; the times of the answered probes, and why the others failed. A failed probe
/// drops the connection; the next one opens a new one (connecting is not timed).
fn probe(addr: SocketAddr, done: &AtomicBool, timeout: Duration) -> (Vec<Duration>, Vec<String>) {
    let (mut latencies, mut failures) = (vec![], vec![]);
    let mut conn: Option<BufReader<TcpStream>> = None;
    let mut next = Instant::now();
    loop {
        thread::sleep(next.saturating_duration_since(Instant::now()));
        if done.load(Relaxed) {
            return (latencies, failures);
        }
        next = (next + PROBE_EVERY).max(Instant::now());
        let kept = conn
            .take()
            .map_or_else(|| connect(addr, timeout).map(BufReader::new), Ok);
        let started = Instant::now();
        match kept.and_then(|mut kept| Ok((exchange(&mut kept, GET_ROOT)?, kept))) {
            Ok((head, kept)) if head.status == 200 => {
                latencies.push(started.elapsed());
                conn = (!head.closes).then_some(kept);
            }
            Ok((head, _)) => failures.push(format!("status {}", head.status)),
            Err(e) => failures.push(describe(&e)),
        }
    }
}

// ---- the report ----

/// The server's resident set in KiB: before the flood, its peak as sampled and as the kernel
/// recorded it (VmHWM, 0 if unread), and `--after-secs` after the flood.
struct Rss {
    start: u64,
    peak: u64,
    high_water: u64,
    after: io::Result<u64>,
}

/// Step 5: prints one line per figure, and the first few distinct failure reasons; whether
/// every client and probe succeeded.
fn report(options: &Options, flood: &Flood, rss: &Rss) -> bool {
    let outcomes = &flood.outcomes;
    let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
    let mb_per_s = |bytes: u64| bytes as f64 / 1e6 / flood.took.as_secs_f64();
    let up = mb_per_s(outcomes.iter().map(|o| o.sent).sum());
    let down = mb_per_s(outcomes.iter().map(|o| o.received).sum());
    println!(
        "clients {} x {} bytes to {}: {} ok, {failed} failed, in {:.2} s \
         ({:.0} MB/s: {up:.0} up + {down:.0} down)",
        options.clients,
        options.bytes,
        options.route,
        outcomes.len() - failed,
        flood.took.as_secs_f64(),
        up + down,
    );
    print_reasons("client", outcomes.iter().filter_map(|o| o.failure.as_ref()));
    let mib = |kib: &u64| format!("{:.1} MiB", *kib as f64 / 1024.0);
    let after = rss
        .after
        .as_ref()
        .map_or_else(|e| format!("unknown: {e}"), mib);
    println!(
        "server RSS: start {}, peak {} (VmHWM {}), {} s after {after}",
        mib(&rss.start),
        mib(&rss.peak),
        mib(&rss.high_water),
        options.after.as_secs_f64(),
    );
    let failures = &flood.probe_failures;
    println!(
        "GET / during the flood: {}",
        latencies(&flood.latencies, failures.len())
    );
    print_reasons("probe", failures.iter());
    failed == 0 && failures.is_empty() && rss.after.is_ok()
}

/// `N probes, p50 .., p99 .., max .., F failed`, with times in ms.
fn latencies(answered: &[Duration], failed: usize) -> String {
    let mut sorted = answered.to_vec();
    sorted.sort();
    let total = sorted.len() + failed;
    if sorted.is_empty() {
        return format!("{total} probes, none answered, {failed} failed");
    }
    // The nearest-rank percentile: the least time within which p% of the answers came.
    let ms = |p: usize| sorted[(sorted.len() * p).div_ceil(100) - 1].as_secs_f64() * 1e3;
    let (p50, p99, max) = (ms(50), ms(99), ms(100));
    format!("{total} probes, p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms, {failed} failed")
}

/// The first `REASONS_SHOWN` distinct reasons, in order of first appearance, with counts.
fn print_reasons<'a>(who: &str, reasons: impl Iterator<Item = &'a String>) {
    let mut distinct: Vec<(&String, usize)> = Vec::new();
    for reason in reasons {
        match distinct.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, count)) => *count += 1,
            None => distinct.push((reason, 1)),
        }
    }
    for (reason, count) in distinct.iter().take(REASONS_SHOWN) {
        println!("  {who} failure (x{count}): {reason}");
    }
    if let Some(more) = distinct.len().checked_sub(REASONS_SHOWN).filter(|&n| n > 0) {
        println!("  ... and {more} more distinct {who} failure reasons");
    }
}
