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
//! - **malformed** requests and smuggling vectors, each of which must get its refusal.
//!
//! Then the clients stop, and with requests still in flight the server is sent SIGTERM: the
//! in-flight requests must be answered and the process must exit 0.
//!
//! The report counts requests sent, answered, answered correctly and lost (the well-formed
//! kinds must lose none), the server's RSS and descriptors at start, peak and end, and its
//! CPU while the abuse ran.

use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use http::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use http::StatusCode;
use nethttp::{blocking, Request, ResponseWriter, ServeMux, Server};

/// The descriptor limit the server process sets itself: the connection cap of the run.
const SERVER_FDS: u64 = 4096;

/// Clients of each kind.
const KEEP_ALIVE_CLIENTS: usize = 8;
const PIPELINE_CLIENTS: usize = 2;
const BLOCKING_CLIENTS: usize = 16;
const SLOWLORIS_CONNS: usize = 200;

/// An idle wave starts this often and holds its sockets this long.
const IDLE_EVERY: Duration = Duration::from_secs(120);
const IDLE_HOLD: Duration = Duration::from_secs(25);

/// A well-formed request not answered within this is lost.
const ANSWER_WITHIN: Duration = Duration::from_secs(60);

// ---- the server (child process) ----

fn serve() -> io::Result<()> {
    limit_descriptors(SERVER_FDS);
    let server = Server::new(routes());
    let listener = nethttp::listen("127.0.0.1:0")?;
    let mut stdout = io::stdout();
    writeln!(stdout, "listening on {}", listener.local_addr()?)?;
    stdout.flush()?;
    nethttp::shutdown_on_signals(server.handle(), Duration::from_secs(10))?;
    match server.serve(listener) {
        Err(e) if nethttp::is_server_closed(&e) => Ok(()),
        other => other,
    }
}

fn routes() -> ServeMux {
    let mut mux = ServeMux::new();
    mux.handle("GET /{$}", hello);
    mux.handle("/echo", echo);
    mux.handle("/pool/echo", blocking(echo));
    mux.handle("GET /sleep", blocking(sleep));
    mux.handle("GET /bytes/{n}", blocking(bytes));
    mux
}

fn hello(w: &mut ResponseWriter, _r: &mut Request) {
    let _ = w.write_all(b"Hello, World!");
}

fn echo(w: &mut ResponseWriter, r: &mut Request) {
    let mut body = Vec::new();
    if r.body().read_to_end(&mut body).is_err() {
        return nethttp::error(w, "bad body", StatusCode::BAD_REQUEST);
    }
    w.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    let _ = w.write_all(&body);
}

fn sleep(w: &mut ResponseWriter, r: &mut Request) {
    let ms: u64 = r
        .uri()
        .query()
        .and_then(|q| q.strip_prefix("ms="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    thread::sleep(Duration::from_millis(ms));
    let _ = write!(w, "slept {ms}");
}

/// `n` bytes of `a..z` repeated, streamed in 64 KiB pieces with the length up front.
fn bytes(w: &mut ResponseWriter, r: &mut Request) {
    let Some(n) = r.path_value("n").and_then(|n| n.parse::<u64>().ok()) else {
        return nethttp::error(w, "n must be a number", StatusCode::BAD_REQUEST);
    };
    w.headers_mut().insert(CONTENT_LENGTH, HeaderValue::from(n));
    let mut sent = 0u64;
    let mut piece = vec![0u8; 64 * 1024];
    while sent < n {
        let len = (n - sent).min(piece.len() as u64) as usize;
        for (i, b) in piece[..len].iter_mut().enumerate() {
            *b = pattern(sent + i as u64);
        }
        if w.write_all(&piece[..len]).is_err() {
            return;
        }
        sent += len as u64;
    }
}

fn pattern(i: u64) -> u8 {
    b'a' + (i % 26) as u8
}

/// Lowers this process's soft limit on open descriptors.
fn limit_descriptors(n: u64) {
    let limit = libc::rlimit {
        rlim_cur: n,
        rlim_max: n,
    };
    // SAFETY: setrlimit reads the struct we pass; RLIMIT_NOFILE is a valid resource.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        eprintln!("soak: setrlimit: {}", io::Error::last_os_error());
    }
}

// ---- what the clients count ----

/// Counts of one kind of well-formed request.
#[derive(Default)]
struct Tally {
    sent: AtomicU64,
    answered: AtomicU64,
    correct: AtomicU64,
    lost: AtomicU64,
    /// The first few wrong answers, for the report.
    wrong: Mutex<Vec<String>>,
}

impl Tally {
    fn sent(&self, n: u64) {
        self.sent.fetch_add(n, Ordering::Relaxed);
    }

    fn answer(&self, ok: Result<(), String>) {
        self.answered.fetch_add(1, Ordering::Relaxed);
        match ok {
            Ok(()) => {
                self.correct.fetch_add(1, Ordering::Relaxed);
            }
            Err(why) => {
                let mut wrong = self.wrong.lock().unwrap();
                if wrong.len() < 5 {
                    wrong.push(why);
                }
            }
        }
    }

    fn lost(&self, n: u64, why: &str) {
        if n > 0 {
            self.lost.fetch_add(n, Ordering::Relaxed);
            let mut wrong = self.wrong.lock().unwrap();
            if wrong.len() < 5 {
                wrong.push(format!("lost {n}: {why}"));
            }
        }
    }

    fn line(&self, name: &str) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        format!(
            "  {name:<22}{:>10}{:>10}{:>10}{:>8}\n",
            get(&self.sent),
            get(&self.answered),
            get(&self.correct),
            get(&self.lost)
        )
    }
}

/// Everything the clients count.
#[derive(Default)]
struct Counts {
    keep_alive: Tally,
    pipelined: Tally,
    blocking: Tally,
    slowloris_opened: AtomicU64,
    slowloris_408: AtomicU64,
    slowloris_closed: AtomicU64,
    idle_opened: AtomicU64,
    idle_peak: AtomicUsize,
    idle_connect_failures: AtomicU64,
    resets: [AtomicU64; 4],
    malformed_sent: AtomicU64,
    malformed_as_expected: AtomicU64,
    malformed_unexpected: Mutex<Vec<String>>,
}

fn add(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

// ---- a small strict response reader ----

struct Response {
    status: u16,
    closes: bool,
    body: Vec<u8>,
}

fn read_line(r: &mut impl BufRead) -> io::Result<String> {
    let mut line = Vec::new();
    if r.read_until(b'\n', &mut line)? == 0 {
        return Err(ErrorKind::UnexpectedEof.into());
    }
    if !line.ends_with(b"\r\n") {
        return Err(io::Error::new(
            ErrorKind::InvalidData,
            "line not ended by CRLF",
        ));
    }
    line.truncate(line.len() - 2);
    String::from_utf8(line).map_err(|_| io::Error::new(ErrorKind::InvalidData, "not UTF-8"))
}

fn bad(what: String) -> io::Error {
    io::Error::new(ErrorKind::InvalidData, what)
}

/// Reads one final response (skipping `100 Continue`).
fn read_response(r: &mut impl BufRead, head: bool) -> io::Result<Response> {
    loop {
        let status_line = read_line(r)?;
        let status: u16 = status_line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| bad(format!("status line {status_line:?}")))?;
        let (mut length, mut chunked, mut closes) = (None, false, false);
        loop {
            let line = read_line(r)?;
            if line.is_empty() {
                break;
            }
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| bad(format!("field {line:?}")))?;
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = Some(value.parse::<usize>().map_err(|_| bad(line))?),
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "connection" => closes = value.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        if status == 100 {
            continue;
        }
        let mut body = Vec::new();
        if head || status == 204 || status == 304 {
        } else if chunked {
            loop {
                let size = read_line(r)?;
                let size = usize::from_str_radix(&size, 16).map_err(|_| bad(size))?;
                if size == 0 {
                    read_line(r)?;
                    break;
                }
                let start = body.len();
                body.resize(start + size, 0);
                r.read_exact(&mut body[start..])?;
                read_line(r)?;
            }
        } else if let Some(n) = length {
            body.resize(n, 0);
            r.read_exact(&mut body)?;
        } else {
            r.read_to_end(&mut body)?;
        }
        return Ok(Response {
            status,
            closes,
            body,
        });
    }
}

// ---- well-formed traffic ----

/// A cheap deterministic random source (xorshift), one per client.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// One request and how to check its answer.
struct Exchange {
    wire: Vec<u8>,
    head: bool,
    status: u16,
    body: Vec<u8>,
}

fn request(rng: &mut Rng) -> Exchange {
    let get = |target: &str| format!("GET {target} HTTP/1.1\r\nHost: soak\r\n\r\n").into_bytes();
    match rng.below(7) {
        0 => Exchange {
            wire: get("/"),
            head: false,
            status: 200,
            body: b"Hello, World!".to_vec(),
        },
        1 => Exchange {
            wire: b"HEAD / HTTP/1.1\r\nHost: soak\r\n\r\n".to_vec(),
            head: true,
            status: 200,
            body: Vec::new(),
        },
        2 | 3 => {
            let len = rng.below(64 * 1024) as usize;
            let body = rng.bytes(len);
            let target = if rng.below(2) == 0 {
                "/echo"
            } else {
                "/pool/echo"
            };
            let mut wire = format!(
                "POST {target} HTTP/1.1\r\nHost: soak\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            wire.extend_from_slice(&body);
            Exchange {
                wire,
                head: false,
                status: 200,
                body,
            }
        }
        4 => {
            let len = rng.below(16 * 1024) as usize;
            let body = rng.bytes(len);
            let target = if rng.below(2) == 0 {
                "/echo"
            } else {
                "/pool/echo"
            };
            let mut wire = format!(
                "POST {target} HTTP/1.1\r\nHost: soak\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            .into_bytes();
            for chunk in body.chunks(1 + rng.below(4096) as usize) {
                wire.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                wire.extend_from_slice(chunk);
                wire.extend_from_slice(b"\r\n");
            }
            wire.extend_from_slice(b"0\r\n\r\n");
            Exchange {
                wire,
                head: false,
                status: 200,
                body,
            }
        }
        5 => {
            let n = rng.below(1 << 20);
            Exchange {
                wire: get(&format!("/bytes/{n}")),
                head: false,
                status: 200,
                body: (0..n).map(pattern).collect(),
            }
        }
        _ => Exchange {
            wire: get("/sleep?ms=5"),
            head: false,
            status: 200,
            body: b"slept 5".to_vec(),
        },
    }
}

fn check(x: &Exchange, r: &Response) -> Result<(), String> {
    if r.status != x.status {
        return Err(format!("status {} for {:?}", r.status, first_line(&x.wire)));
    }
    if r.body != x.body {
        return Err(format!(
            "body of {} bytes, {} expected, for {:?}",
            r.body.len(),
            x.body.len(),
            first_line(&x.wire)
        ));
    }
    Ok(())
}

fn first_line(wire: &[u8]) -> String {
    let end = wire.iter().position(|&b| b == b'\r').unwrap_or(wire.len());
    String::from_utf8_lossy(&wire[..end]).into_owned()
}

fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, ANSWER_WITHIN)?;
    stream.set_read_timeout(Some(ANSWER_WITHIN))?;
    stream.set_write_timeout(Some(ANSWER_WITHIN))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Requests one at a time on a persistent connection, reconnecting when it closes.
fn keep_alive(addr: SocketAddr, seed: u64, sleepy: bool, tally: &Tally, stop: &AtomicBool) {
    let mut rng = Rng(seed);
    let mut conn: Option<BufReader<TcpStream>> = None;
    while !stop.load(Ordering::Relaxed) {
        let x = if sleepy {
            Exchange {
                wire: b"GET /sleep?ms=200 HTTP/1.1\r\nHost: soak\r\n\r\n".to_vec(),
                head: false,
                status: 200,
                body: b"slept 200".to_vec(),
            }
        } else {
            request(&mut rng)
        };
        let reader = match conn.as_mut() {
            Some(reader) => reader,
            None => match connect(addr) {
                Ok(stream) => conn.insert(BufReader::new(stream)),
                Err(e) => {
                    tally.sent(1);
                    tally.lost(1, &format!("connect: {e}"));
                    thread::sleep(Duration::from_millis(100));
                    continue;
                }
            },
        };
        tally.sent(1);
        let outcome = reader
            .get_mut()
            .write_all(&x.wire)
            .and_then(|_| read_response(reader, x.head));
        match outcome {
            Ok(r) => {
                tally.answer(check(&x, &r));
                if r.closes {
                    conn = None;
                }
            }
            Err(e) => {
                tally.lost(1, &format!("{}: {e}", first_line(&x.wire)));
                conn = None;
            }
        }
    }
}

/// Bursts of pipelined requests in one write, each burst on a new connection.
fn pipelined(addr: SocketAddr, seed: u64, tally: &Tally, stop: &AtomicBool) {
    let mut rng = Rng(seed);
    while !stop.load(Ordering::Relaxed) {
        let n = 16 + rng.below(49) as usize;
        let burst: Vec<Exchange> = (0..n)
            .map(|_| loop {
                let x = request(&mut rng);
                if x.body.len() <= 4096 {
                    break x; // small answers: the whole burst fits the socket buffers
                }
            })
            .collect();
        let wire: Vec<u8> = burst.iter().flat_map(|x| x.wire.clone()).collect();
        tally.sent(n as u64);
        let mut stream = match connect(addr) {
            Ok(stream) => stream,
            Err(e) => {
                tally.lost(n as u64, &format!("connect: {e}"));
                continue;
            }
        };
        // The burst goes from another thread while this one reads, as a real client's
        // would: neither side waits on the other's buffers.
        let writer = stream
            .try_clone()
            .map(|mut s| thread::spawn(move || s.write_all(&wire)));
        let mut reader = BufReader::new(&mut stream);
        let mut answered = 0;
        for x in &burst {
            match read_response(&mut reader, x.head) {
                Ok(r) => {
                    tally.answer(check(x, &r));
                    answered += 1;
                }
                Err(e) => {
                    tally.lost((n - answered) as u64, &format!("pipelined: {e}"));
                    break;
                }
            }
        }
        if let Ok(writer) = writer {
            let _ = writer.join();
        }
    }
}

// ---- abuse ----

/// Connections that send a head one byte a second; the server must answer 408 and close.
fn slowloris(addr: SocketAddr, counts: &Counts, stop: &AtomicBool) {
    let head = b"GET /slow HTTP/1.1\r\nHost: soak\r\nX-Drip: ".to_vec();
    let mut conns: Vec<(TcpStream, usize)> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        while conns.len() < SLOWLORIS_CONNS {
            match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
                Ok(s) => {
                    let _ = s.set_nonblocking(true);
                    add(&counts.slowloris_opened);
                    conns.push((s, 0));
                }
                Err(_) => break,
            }
        }
        let mut keep = Vec::with_capacity(conns.len());
        for (mut s, sent) in conns.drain(..) {
            let mut buf = [0u8; 512];
            match s.read(&mut buf) {
                Ok(0) => add(&counts.slowloris_closed),
                Ok(n) => {
                    if buf[..n].starts_with(b"HTTP/1.1 408") {
                        add(&counts.slowloris_408);
                    }
                    add(&counts.slowloris_closed);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    let byte = head.get(sent).copied().unwrap_or(b'a');
                    if s.write(&[byte]).is_ok() {
                        keep.push((s, sent + 1));
                    } else {
                        add(&counts.slowloris_closed);
                    }
                }
                Err(_) => add(&counts.slowloris_closed),
            }
        }
        conns = keep;
        thread::sleep(Duration::from_secs(1));
    }
}

/// Every `IDLE_EVERY`, opens silent sockets until the server's descriptors run out (its
/// backlog then holds the rest), holds them for `IDLE_HOLD`, then lets them go.
fn idle_waves(addr: SocketAddr, counts: &Counts, stop: &AtomicBool, started: Instant) {
    let mut next = started + Duration::from_secs(20);
    while !stop.load(Ordering::Relaxed) {
        if Instant::now() < next {
            thread::sleep(Duration::from_millis(200));
            continue;
        }
        next += IDLE_EVERY;
        let mut held = Vec::new();
        let until = Instant::now() + IDLE_HOLD;
        while Instant::now() < until && !stop.load(Ordering::Relaxed) {
            while held.len() < SERVER_FDS as usize + 256 {
                match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
                    Ok(s) => {
                        add(&counts.idle_opened);
                        held.push(s);
                    }
                    Err(_) => {
                        add(&counts.idle_connect_failures);
                        break;
                    }
                }
            }
            counts.idle_peak.fetch_max(held.len(), Ordering::Relaxed);
            // The server closes silent sockets at its header timeout: drop those, reopen.
            held.retain(|s| {
                let _ = s.set_nonblocking(true);
                let mut buf = [0u8; 64];
                matches!((&*s).read(&mut buf), Err(e) if e.kind() == ErrorKind::WouldBlock)
            });
            thread::sleep(Duration::from_millis(500));
        }
    }
}

/// Sets SO_LINGER to zero, so that closing the socket sends a reset.
fn reset_on_close(s: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the descriptor is open for the life of `s`, and the option value is a
    // `linger` of the size passed.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

/// Clients that abort with a reset: mid-head, mid-body (inline, blocking), mid-response.
fn resetters(addr: SocketAddr, seed: u64, counts: &Counts, stop: &AtomicBool) {
    let mut rng = Rng(seed);
    while !stop.load(Ordering::Relaxed) {
        let kind = rng.below(4) as usize;
        let Ok(mut s) = connect(addr) else {
            thread::sleep(Duration::from_millis(50));
            continue;
        };
        let _ = match kind {
            0 => s.write_all(b"GET / HTTP/1.1\r\nHost: soak\r\nX-Partial: abc"),
            1 | 2 => {
                let target = if kind == 1 { "/echo" } else { "/pool/echo" };
                let head = format!(
                    "POST {target} HTTP/1.1\r\nHost: soak\r\nContent-Length: 1000000\r\n\r\n"
                );
                s.write_all(head.as_bytes())
                    .and_then(|_| s.write_all(&rng.bytes(20_000)))
            }
            _ => s
                .write_all(b"GET /bytes/50000000 HTTP/1.1\r\nHost: soak\r\n\r\n")
                .and_then(|_| s.read_exact(&mut [0u8; 100_000])),
        };
        thread::sleep(Duration::from_millis(rng.below(20)));
        reset_on_close(&s);
        drop(s);
        add(&counts.resets[kind]);
        thread::sleep(Duration::from_millis(20));
    }
}

/// Hostile requests and the status each must be refused with (or, for the few that are
/// valid but odd, answered with: 200).
const HOSTILE: &[(&str, &[u8], u16)] = &[
    ("CL.TE", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED", 400),
    ("TE.CL", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n", 400),
    ("TE xchunked", b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 501),
    ("TE space before colon", b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400),
    ("TE twice", b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-encoding: x\r\n\r\n0\r\n\r\n", 501),
    ("TE list", b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
    ("TE on 1.0", b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("TE folded", b"POST /echo HTTP/1.1\r\nHost: x\r\nX: y\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("CL twice, differing", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400),
    ("CL plus", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello", 400),
    ("CL list", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello", 400),
    ("CL inner space", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5 5\r\n\r\nhello", 400),
    ("CL leading zeros", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 005\r\nConnection: close\r\n\r\nhello", 200),
    ("obs-fold", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400),
    ("bare LF", b"GET / HTTP/1.1\nHost: x\nConnection: close\n\n", 200),
    ("NUL in a value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400),
    ("no Host", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("two Hosts", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("HTTP/2.0", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    ("Expect: other", b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx", 417),
    ("bad chunk size", b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", 400),
    ("forbidden trailer", b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 5\r\n\r\nhello", 400),
    ("body over the limit", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 9000000\r\n\r\n", 413),
];

/// Oversized heads, built once.
fn oversized() -> Vec<(&'static str, Vec<u8>, u16)> {
    let mut long_target = b"GET /".to_vec();
    long_target.extend(std::iter::repeat(b'a').take(70_000));
    long_target.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut long_head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    long_head.extend(std::iter::repeat(b'b').take(70_000));
    long_head.extend_from_slice(b"\r\n\r\n");
    vec![
        ("long target", long_target, 414),
        ("long head", long_head, 431),
    ]
}

/// Sends each hostile request on its own connection and checks the one answer it gets.
fn malformed(addr: SocketAddr, counts: &Counts, stop: &AtomicBool) {
    let big = oversized();
    let all: Vec<(&str, &[u8], u16)> = HOSTILE
        .iter()
        .copied()
        .chain(big.iter().map(|(n, w, s)| (*n, w.as_slice(), *s)))
        .collect();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        let (name, wire, status) = all[i % all.len()];
        i += 1;
        let Ok(mut s) = connect(addr) else {
            thread::sleep(Duration::from_millis(50));
            continue;
        };
        add(&counts.malformed_sent);
        let _ = s.write_all(wire);
        let _ = s.shutdown(std::net::Shutdown::Write);
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        let mut reader = BufReader::new(&answer[..]);
        let verdict = match read_response(&mut reader, false) {
            Ok(r) if r.status != status => Err(format!("{name}: {} instead of {status}", r.status)),
            Ok(r) if status >= 400 && !r.closes => {
                Err(format!("{name}: refusal kept the connection"))
            }
            Ok(_) if !reader.fill_buf().map_or(true, |rest| rest.is_empty()) => {
                Err(format!("{name}: more than one answer"))
            }
            Ok(_) => Ok(()),
            Err(e) => Err(format!("{name}: {e}")),
        };
        match verdict {
            Ok(()) => add(&counts.malformed_as_expected),
            Err(why) => {
                let mut unexpected = counts.malformed_unexpected.lock().unwrap();
                if unexpected.len() < 10 {
                    unexpected.push(why);
                }
            }
        }
        thread::sleep(Duration::from_millis(5));
    }
}

// ---- watching the server ----

/// The server's resident memory (KiB), open descriptors and CPU ticks, from /proc.
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    rss_kib: u64,
    fds: usize,
    cpu_ticks: u64,
}

fn sample(pid: u32) -> Sample {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Sample {
        rss_kib,
        fds,
        cpu_ticks: tick(11) + tick(12),
    }
}

fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as u64
    } else {
        100
    }
}

/// Peaks seen by the watcher.
#[derive(Default)]
struct Peaks {
    rss_kib: AtomicU64,
    fds: AtomicUsize,
}

fn watch(pid: u32, peaks: &Peaks, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        let s = sample(pid);
        peaks.rss_kib.fetch_max(s.rss_kib, Ordering::Relaxed);
        peaks.fds.fetch_max(s.fds, Ordering::Relaxed);
        thread::sleep(Duration::from_millis(100));
    }
}

// ---- the run ----

fn start_server() -> io::Result<(Child, SocketAddr)> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("--serve")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().expect("piped");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| bad(format!("server said {line:?}")))?;
    Ok((child, addr))
}

/// Sends in-flight blocking requests, then SIGTERM; they must be answered, and the server
/// must exit 0.
fn graceful_shutdown(mut child: Child, addr: SocketAddr) -> io::Result<String> {
    let in_flight: Vec<_> = (0..8)
        .map(|_| {
            thread::spawn(move || -> io::Result<Response> {
                let mut s = connect(addr)?;
                s.write_all(b"GET /sleep?ms=1500 HTTP/1.1\r\nHost: soak\r\n\r\n")?;
                read_response(&mut BufReader::new(s), false)
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    // SAFETY: kill sends a signal to the child we started; it has no memory effects here.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let (mut answered, mut closing) = (0, 0);
    for request in in_flight {
        if let Ok(Ok(r)) = request.join() {
            if r.status == 200 && r.body == b"slept 1500" {
                answered += 1;
            }
            closing += usize::from(r.closes);
        }
    }
    let refused_after = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err();
    let status = child.wait()?;
    Ok(format!(
        "shutdown: 8 requests in flight at SIGTERM, {answered} answered correctly, {closing} \
         with Connection: close; new connections refused: {refused_after}; server exited \
         with {status} {} ms after the signal\n",
        signalled.elapsed().as_millis()
    ))
}

fn run(secs: u64) -> io::Result<String> {
    let (child, addr) = start_server()?;
    let pid = child.id();
    thread::sleep(Duration::from_millis(200));
    let start = sample(pid);
    let counts = Arc::new(Counts::default());
    let peaks = Arc::new(Peaks::default());
    let stop = Arc::new(AtomicBool::new(false));
    let stop_watching = Arc::new(AtomicBool::new(false));
    let started = Instant::now();

    let mut clients = Vec::new();
    let mut spawn = |f: Box<dyn FnOnce() + Send>| clients.push(thread::spawn(f));
    {
        let (peaks, stop) = (Arc::clone(&peaks), Arc::clone(&stop_watching));
        thread::spawn(move || watch(pid, &peaks, &stop));
    }
    for i in 0..KEEP_ALIVE_CLIENTS {
        let (c, stop) = (Arc::clone(&counts), Arc::clone(&stop));
        spawn(Box::new(move || {
            keep_alive(addr, 0x9e37 + i as u64, false, &c.keep_alive, &stop)
        }));
    }
    for i in 0..BLOCKING_CLIENTS {
        let (c, stop) = (Arc::clone(&counts), Arc::clone(&stop));
        spawn(Box::new(move || {
            keep_alive(addr, 7 + i as u64, true, &c.blocking, &stop)
        }));
    }
    for i in 0..PIPELINE_CLIENTS {
        let (c, stop) = (Arc::clone(&counts), Arc::clone(&stop));
        spawn(Box::new(move || {
            pipelined(addr, 0x51 + i as u64, &c.pipelined, &stop)
        }));
    }
    let (c, s) = (Arc::clone(&counts), Arc::clone(&stop));
    spawn(Box::new(move || slowloris(addr, &c, &s)));
    let (c, s) = (Arc::clone(&counts), Arc::clone(&stop));
    spawn(Box::new(move || idle_waves(addr, &c, &s, started)));
    for i in 0..2 {
        let (c, s) = (Arc::clone(&counts), Arc::clone(&stop));
        spawn(Box::new(move || resetters(addr, 0xabc + i, &c, &s)));
    }
    let (c, s) = (Arc::clone(&counts), Arc::clone(&stop));
    spawn(Box::new(move || malformed(addr, &c, &s)));

    let abuse_start = sample(pid);
    let deadline = started + Duration::from_secs(secs);
    while Instant::now() < deadline {
        thread::sleep(Duration::from_millis(500));
    }
    let abuse_end = sample(pid);
    let abuse_secs = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        let _ = client.join();
    }
    // Let the server notice the last closes (and its lingering closes run out).
    thread::sleep(Duration::from_secs(4));
    let end = sample(pid);
    stop_watching.store(true, Ordering::Relaxed);
    let shutdown = graceful_shutdown(child, addr)?;

    let cpu = (abuse_end.cpu_ticks - abuse_start.cpu_ticks) as f64 / clock_ticks() as f64;
    let mut report = String::new();
    let _ = writeln!(
        report,
        "soak: {secs} s on {addr}, server pid {pid}: default Server settings, {} loops, \
         descriptor limit {SERVER_FDS}",
        thread::available_parallelism().map_or(1, |n| n.get())
    );
    let _ = writeln!(
        report,
        "\nwell-formed requests          sent  answered   correct    lost"
    );
    let c = &counts;
    report.push_str(&c.keep_alive.line("keep-alive (mixed)"));
    report.push_str(&c.pipelined.line("pipelined bursts"));
    report.push_str(&c.blocking.line("blocking (200 ms)"));
    let total = |f: fn(&Tally) -> &AtomicU64| {
        [&c.keep_alive, &c.pipelined, &c.blocking]
            .iter()
            .map(|t| f(t).load(Ordering::Relaxed))
            .sum::<u64>()
    };
    let _ = writeln!(
        report,
        "  {:<22}{:>10}{:>10}{:>10}{:>8}",
        "total",
        total(|t| &t.sent),
        total(|t| &t.answered),
        total(|t| &t.correct),
        total(|t| &t.lost)
    );
    for t in [&c.keep_alive, &c.pipelined, &c.blocking] {
        for why in t.wrong.lock().unwrap().iter() {
            let _ = writeln!(report, "    ! {why}");
        }
    }
    let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let _ = writeln!(report, "\nabuse");
    let _ = writeln!(
        report,
        "  slowloris     {} connections dripped; {} answered 408, {} closed by the server",
        get(&c.slowloris_opened),
        get(&c.slowloris_408),
        get(&c.slowloris_closed)
    );
    let _ = writeln!(
        report,
        "  idle waves    {} silent sockets opened, at most {} held at once; {} connects \
         timed out at the cap",
        get(&c.idle_opened),
        c.idle_peak.load(Ordering::Relaxed),
        get(&c.idle_connect_failures)
    );
    let _ = writeln!(
        report,
        "  resets        {} mid-head, {} mid-body (inline), {} mid-body (blocking), {} \
         mid-response",
        get(&c.resets[0]),
        get(&c.resets[1]),
        get(&c.resets[2]),
        get(&c.resets[3])
    );
    let unexpected = c.malformed_unexpected.lock().unwrap();
    let _ = writeln!(
        report,
        "  malformed     {} sent ({} kinds), {} answered as expected",
        get(&c.malformed_sent),
        HOSTILE.len() + 2,
        get(&c.malformed_as_expected)
    );
    for why in unexpected.iter() {
        let _ = writeln!(report, "    ! {why}");
    }
    let _ = writeln!(report, "\nserver          RSS      open fds");
    let _ = writeln!(
        report,
        "  start   {:>8} KiB  {:>8}",
        start.rss_kib, start.fds
    );
    let _ = writeln!(
        report,
        "  peak    {:>8} KiB  {:>8}",
        peaks.rss_kib.load(Ordering::Relaxed),
        peaks.fds.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        report,
        "  end     {:>8} KiB  {:>8}   (clients gone, before shutdown)",
        end.rss_kib, end.fds
    );
    let _ = writeln!(
        report,
        "  CPU while the abuse ran: {cpu:.1} s over {abuse_secs:.0} s = {:.0}% of one core",
        100.0 * cpu / abuse_secs
    );
    report.push('\n');
    report.push_str(&shutdown);
    Ok(report)
}

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut secs, mut out) = (60, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--serve" => return serve(),
            "--secs" => secs = args.next().and_then(|s| s.parse().ok()).unwrap_or(secs),
            "--out" => out = args.next(),
            other => return Err(bad(format!("unknown argument {other}"))),
        }
    }
    let report = run(secs)?;
    print!("{report}");
    if let Some(path) = out {
        std::fs::write(path, &report)?;
    }
    Ok(())
}
