//! The server under test, in a child process of its own: what it serves (`serve`, run when
//! the program is started with `--serve`), how the parent starts it, and how the parent
//! stops it gracefully at the end of the run. The clients that load it in between are in
//! `honest`, `abuse` and `probe`.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use http::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use http::StatusCode;
use nethttp::{blocking, Request, ResponseWriter, ServeMux, Server};

use crate::wire::{bad, connect, read_response, Response};
use crate::SERVER_FDS;

/// Requests in flight when SIGTERM is sent; each sleeps `IN_FLIGHT_MS` on the pool.
pub const IN_FLIGHT: usize = 8;
const IN_FLIGHT_MS: u64 = 1500;

// ---- the child ----

/// The child's whole life: lower the descriptor limit, serve with default settings on a
/// loopback port (said on stdout), until SIGINT or SIGTERM ends it gracefully.
pub fn serve() -> io::Result<()> {
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
    mux.handle("/pool/echo", blocking(pool_echo));
    mux.handle("GET /sleep", blocking(sleep));
    mux.handle("GET /bytes/{n}", blocking(bytes));
    mux.handle("GET /heap", heap_counts);
    mux
}

/// The live and peak heap byte counts, as `live peak`.
fn heap_counts(w: &mut ResponseWriter, _r: &mut Request) {
    let (live, peak) = crate::heap::counts();
    let _ = write!(w, "{live} {peak}");
}

/// One well-formed request of each kind, each on its own connection, all answered 200:
/// the server has then run every code path the honest clients use once (its code is paged
/// in, its loops and one pool thread exist), which is what "warm" means in the report.
pub fn warm_up(addr: SocketAddr) -> io::Result<()> {
    let requests: [&[u8]; 6] = [
        b"GET / HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
        b"POST /pool/echo HTTP/1.1\r\nHost: soak\r\nTransfer-Encoding: chunked\r\n\
          Connection: close\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
        b"GET /sleep?ms=1 HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n",
        b"GET /bytes/100000 HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n",
        b"HEAD / HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n",
    ];
    for (i, request) in requests.iter().enumerate() {
        let mut s = connect(addr)?;
        s.write_all(request)?;
        let r = read_response(&mut BufReader::new(s), i == 5)?;
        if r.status != 200 {
            return Err(bad(format!("warm-up request {i} got {}", r.status)));
        }
    }
    Ok(())
}

/// The server's live heap bytes, now and at most so far (see `heap.rs`).
pub fn heap(addr: SocketAddr) -> io::Result<(usize, usize)> {
    let mut s = connect(addr)?;
    s.write_all(b"GET /heap HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n")?;
    let r = read_response(&mut BufReader::new(s), false)?;
    let text = String::from_utf8_lossy(&r.body).into_owned();
    let mut numbers = text.split(' ').filter_map(|n| n.parse().ok());
    match (r.status, numbers.next(), numbers.next()) {
        (200, Some(live), Some(peak)) => Ok((live, peak)),
        _ => Err(bad(format!("GET /heap said {} {text:?}", r.status))),
    }
}

/// The body of `GET /`.
pub const HELLO: &[u8] = b"Hello, World!";

fn hello(w: &mut ResponseWriter, _r: &mut Request) {
    let _ = w.write_all(HELLO);
}

/// The body back, as an inline handler has it: collected whole before the handler runs.
fn echo(w: &mut ResponseWriter, r: &mut Request) {
    w.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    let _ = w.write_all(r.body().remaining());
}

/// The body back, as a blocking handler has it: streamed in pieces as it arrives.
fn pool_echo(w: &mut ResponseWriter, r: &mut Request) {
    w.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Err(e) = io::copy(r.body(), w) {
        if e.kind() == io::ErrorKind::InvalidData {
            nethttp::error(w, "bad body", StatusCode::BAD_REQUEST);
        }
    }
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

/// Byte `i` of every `/bytes/{n}` body.
pub fn pattern(i: u64) -> u8 {
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

// ---- the parent's side ----

/// Runs this program again as the server, and reads the address it listens on.
pub fn start() -> io::Result<(Child, SocketAddr)> {
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

/// What the graceful shutdown showed.
pub struct Shutdown {
    /// In-flight requests answered `200 slept 1500`; all `IN_FLIGHT` must be.
    pub answered: usize,
    /// Of the answers, those that said `Connection: close`.
    pub closing: usize,
    /// A connection attempt after the answers was refused.
    pub refused_after: bool,
    pub status: ExitStatus,
    /// From SIGTERM to the server's exit.
    pub took: Duration,
}

/// Sends `IN_FLIGHT` blocking requests, then SIGTERM; they must be answered, and the
/// server must exit 0.
pub fn shut_down(mut child: Child, addr: SocketAddr) -> io::Result<Shutdown> {
    let in_flight: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            thread::spawn(move || -> io::Result<Response> {
                let mut s = connect(addr)?;
                let request =
                    format!("GET /sleep?ms={IN_FLIGHT_MS} HTTP/1.1\r\nHost: soak\r\n\r\n");
                s.write_all(request.as_bytes())?;
                read_response(&mut BufReader::new(s), false)
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    // SAFETY: kill sends a signal to the child we started; it has no memory effects here.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let expected = format!("slept {IN_FLIGHT_MS}");
    let (mut answered, mut closing) = (0, 0);
    for request in in_flight {
        if let Ok(Ok(r)) = request.join() {
            if r.status == 200 && r.body == expected.as_bytes() {
                answered += 1;
            }
            closing += usize::from(r.closes);
        }
    }
    let refused_after = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err();
    let status = child.wait()?;
    Ok(Shutdown {
        answered,
        closing,
        refused_after,
        status,
        took: signalled.elapsed(),
    })
}
