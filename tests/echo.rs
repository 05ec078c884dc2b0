//! The echo showcase (`examples/echo.rs`) end to end: the real example binary runs as a
//! child process and every route, option and signal of its contract is checked over
//! loopback sockets with raw bytes.

mod util;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use util::{connect, read_response, read_until_closed, Response};

/// The example binary: `target/<profile>/examples/echo`, next to this test's `deps/`
/// directory. Built (once per test process) if missing or older than the sources, as after
/// `cargo test --test echo`, which does not build examples.
fn binary() -> PathBuf {
    static CHECKED: Mutex<bool> = Mutex::new(false);
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let path = dir.join("examples").join("echo");
    let mut checked = CHECKED.lock().unwrap_or_else(|e| e.into_inner());
    if !*checked {
        let built = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let sources = ["examples/echo.rs", "Cargo.toml", "src", "poller/src"];
        let stale = match built {
            None => true,
            Some(built) => sources
                .iter()
                .any(|source| newer_than(&root.join(source), built)),
        };
        if stale {
            let status = Command::new(env!("CARGO"))
                .args(["build", "--example", "echo"])
                .current_dir(&root)
                .status()
                .expect("run cargo build");
            assert!(status.success(), "cargo build --example echo: {status}");
        }
        *checked = true;
    }
    assert!(path.exists(), "no example binary at {}", path.display());
    path
}

/// `path`, or a file under it, was modified after `time`.
fn newer_than(path: &std::path::Path, time: std::time::SystemTime) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if meta.is_dir() {
        std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .any(|entry| newer_than(&entry.path(), time))
    } else {
        meta.modified().is_ok_and(|m| m > time)
    }
}

/// A running echo child, killed when dropped (also when a test fails).
struct Echo {
    child: Option<Child>,
    /// The `listening on http://...` line, without its newline.
    line: String,
    addr: SocketAddr,
    /// The rest of the child's stdout, kept open.
    _stdout: Option<BufReader<ChildStdout>>,
}

impl Echo {
    /// Starts the example on `127.0.0.1:0` with `args` after the address.
    fn start(args: &[&str]) -> Echo {
        let mut all = vec!["127.0.0.1:0"];
        all.extend_from_slice(args);
        Echo::start_raw(&all)
    }

    /// Starts the example with exactly `args`; waits for the `listening on` line.
    fn start_raw(args: &[&str]) -> Echo {
        let mut child = Command::new(binary())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .env("RUST_BACKTRACE", "0")
            .spawn()
            .expect("spawn the echo example");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let read = reader.read_line(&mut line).map(|_| line);
            let _ = tx.send((read, reader));
        });
        let mut echo = Echo {
            child: Some(child),
            line: String::new(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            _stdout: None,
        };
        // `echo` is built first so that a failure below still kills the child.
        let (line, reader) = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("no `listening on` line within 10 s");
        let line = line.expect("read the child's stdout");
        echo._stdout = Some(reader);
        let line = line.trim_end_matches('\n').to_string();
        let port: u16 = line
            .strip_prefix("listening on http://")
            .and_then(|rest| rest.rsplit_once(':'))
            .and_then(|(_, port)| port.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        echo.addr = SocketAddr::from(([127, 0, 0, 1], port));
        echo.line = line;
        echo
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Sends `signal` (`TERM`, `INT`) with `kill`.
    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal}: {status}");
    }

    /// Waits up to `limit` for the child to exit on its own.
    fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let started = Instant::now();
        let child = self.child.as_mut().unwrap();
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "the child did not exit within {limit:?}"
            );
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Echo {
    /// A memory figure of the child from `/proc/PID/status` (`VmRSS`, `VmHWM`), in bytes.
    fn memory(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let line = status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .unwrap_or_else(|| panic!("no {field} in /proc/PID/status"));
        let kib: u64 = line.trim().trim_end_matches("kB").trim().parse().unwrap();
        kib * 1024
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("nethttp-echo-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Reads one response and checks it carries a valid `Date`.
fn read(reader: &mut impl BufRead, head_request: bool) -> Response {
    let response = read_response(reader, head_request).expect("a well-formed response");
    let date = response
        .header("date")
        .unwrap_or_else(|| panic!("no Date in {response:?}"));
    assert!(httpdate::parse_http_date(date).is_ok(), "bad Date {date:?}");
    response
}

/// Sends `raw` on a fresh connection and reads one response.
fn request(addr: SocketAddr, raw: &[u8]) -> Response {
    let head_request = raw.starts_with(b"HEAD ");
    let mut stream = connect(addr);
    stream.write_all(raw).expect("write");
    read(&mut BufReader::new(stream), head_request)
}

fn get(addr: SocketAddr, target: &str) -> Response {
    request(
        addr,
        format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
    )
}

#[test]
fn get_and_head_root_say_hello() {
    let echo = Echo::start(&[]);
    let stream = connect(echo.addr);
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    writer
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let got = read(&mut reader, false);
    assert_eq!(got.status, 200);
    assert_eq!(
        got.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(got.header("content-length"), Some("13"));
    assert_eq!(got.text(), "Hello, World!");
    let head = read(&mut reader, true);
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(head.header("content-length"), Some("13"));
    // Nothing follows the HEAD response: the next bytes are the next response.
    writer
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read(&mut reader, false).text(), "Hello, World!");
}

#[test]
fn echo_returns_the_body_type_method_and_raw_target() {
    let echo = Echo::start(&[]);
    let body: Vec<u8> = (0..=255u8).cycle().take(1000).collect();

    // Content-Length in, a custom Content-Type, a raw target with escapes.
    let mut raw = format!(
        "PUT /echo?a=1&b=%20x HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-custom; v=1\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(&body);
    let r = request(echo.addr, &raw);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, body);
    assert_eq!(r.header("content-length"), Some("1000"));
    assert_eq!(r.header("content-type"), Some("application/x-custom; v=1"));
    assert_eq!(r.header("x-method"), Some("PUT"));
    assert_eq!(r.header("x-target"), Some("/echo?a=1&b=%20x"));

    // Chunked in, no Content-Type: application/octet-stream.
    let r = request(
        echo.addr,
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n0\r\n\r\n",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "hello, world");
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(r.header("x-method"), Some("POST"));
    assert_eq!(r.header("x-target"), Some("/echo"));

    // Any method, no body at all.
    let r = request(echo.addr, b"DELETE /echo?x=%2F HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(r.header("x-method"), Some("DELETE"));
    assert_eq!(r.header("x-target"), Some("/echo?x=%2F"));
}

#[test]
fn headers_lists_fields_lowercased_in_order_with_repeats() {
    let echo = Echo::start(&[]);
    let r = request(
        echo.addr,
        b"GET /headers HTTP/1.1\r\nHost: x\r\nX-Foo: 1\r\nAccept: */*\r\nx-FOO: two words\r\nUser-AGENT: test\r\n\r\n",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(
        r.text(),
        "host: x\nx-foo: 1\naccept: */*\nx-foo: two words\nuser-agent: test\n"
    );
}

#[test]
fn stream_sends_chunks_separately_with_the_delay() {
    let echo = Echo::start(&[]);
    let mut stream = connect(echo.addr);
    stream
        .write_all(b"GET /stream?chunks=3&size=5&delay_ms=200 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let mut head = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        head.push(line.trim_end().to_string());
    }
    assert!(head[0].starts_with("HTTP/1.1 200 "), "{head:?}");
    let has = |name: &str| {
        head.iter()
            .find(|l| l.to_ascii_lowercase().starts_with(&format!("{name}:")))
            .map(|l| l.split_once(':').unwrap().1.trim().to_string())
    };
    assert_eq!(has("transfer-encoding").as_deref(), Some("chunked"));
    assert_eq!(has("content-length"), None);
    assert!(has("date").is_some());

    let mut arrivals = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let size = usize::from_str_radix(line.trim_end(), 16).unwrap();
        if size == 0 {
            line.clear();
            reader.read_line(&mut line).unwrap();
            assert_eq!(line, "\r\n");
            break;
        }
        arrivals.push(Instant::now());
        let mut data = vec![0; size + 2];
        reader.read_exact(&mut data).unwrap();
        assert_eq!(data, b"xxxxx\r\n", "each chunk on its own");
    }
    assert_eq!(arrivals.len(), 3);
    for pair in arrivals.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(150), "chunks {gap:?} apart");
    }
}

#[test]
fn sleep_runs_off_the_event_loop() {
    let echo = Echo::start(&[]);
    let started = Instant::now();
    let mut sleeper = connect(echo.addr);
    sleeper
        .write_all(b"GET /sleep?ms=1000 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    thread::sleep(Duration::from_millis(100));
    let asked = Instant::now();
    let hello = get(echo.addr, "/");
    let took = asked.elapsed();
    assert_eq!(hello.text(), "Hello, World!");
    assert!(took < Duration::from_millis(100), "GET / took {took:?}");
    let slept = read(&mut BufReader::new(sleeper), false);
    assert_eq!(slept.status, 200);
    assert_eq!(slept.text(), "slept 1000");
    assert!(started.elapsed() >= Duration::from_millis(1000));
}

#[test]
fn panic_gives_500_and_the_server_goes_on() {
    let echo = Echo::start(&[]);
    let r = get(echo.addr, "/panic");
    assert_eq!(r.status, 500);
    let stream = connect(echo.addr);
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    for _ in 0..2 {
        writer
            .write_all(b"GET /panic HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        assert_eq!(read(&mut reader, false).status, 500);
        let next = read(&mut reader, false);
        assert_eq!((next.status, next.text().as_str()), (200, "Hello, World!"));
    }
    assert_eq!(get(echo.addr, "/").text(), "Hello, World!");
}

#[test]
fn status_answers_that_status_with_an_empty_body() {
    let echo = Echo::start(&[]);
    for code in [200u16, 201, 404, 418, 503, 599] {
        let r = get(echo.addr, &format!("/status/{code}"));
        assert_eq!(r.status, code);
        assert!(r.body.is_empty(), "{code}: {:?}", r.text());
    }
}

#[test]
fn bytes_generates_the_alphabet() {
    let echo = Echo::start(&[]);
    for n in [0usize, 1, 100_000] {
        let r = get(echo.addr, &format!("/bytes/{n}"));
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("application/octet-stream"));
        assert_eq!(r.header("content-length"), Some(n.to_string().as_str()));
        assert_eq!(r.framing, "length");
        let want: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
        assert!(r.body == want, "{n} bytes differ");
    }
}

#[test]
fn bytes_are_generated_as_they_are_sent() {
    // 1 GiB announced; the first 8 MiB read while the server holds no such buffer.
    const N: u64 = 1 << 30;
    let echo = Echo::start(&[]);
    let mut stream = connect(echo.addr);
    write!(stream, "GET /bytes/{N} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let mut length = None;
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = Some(v.trim().to_string());
        }
    }
    assert_eq!(length, Some(N.to_string()));
    let mut data = vec![0; 8 << 20];
    reader.read_exact(&mut data).unwrap();
    assert!(data
        .iter()
        .enumerate()
        .all(|(i, &b)| b == b'a' + (i % 26) as u8));
    let peak = echo.memory("VmHWM");
    assert!(
        peak < 48 << 20,
        "peak RSS {peak} bytes while sending {N} bytes"
    );
}

#[test]
fn upload_counts_a_streamed_body() {
    const TOTAL: u64 = 100 * 1024 * 1024;
    let echo = Echo::start(&[]);
    let stream = connect(echo.addr);
    let mut writer = stream.try_clone().unwrap();
    let sender = thread::spawn(move || {
        write!(
            writer,
            "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: {TOTAL}\r\n\r\n"
        )?;
        let piece: Vec<u8> = (0..64 * 1024).map(|i| i as u8).collect();
        let mut sent = 0;
        while sent < TOTAL {
            writer.write_all(&piece)?;
            sent += piece.len() as u64;
        }
        io::Result::Ok(())
    });
    let mut reader = BufReader::new(stream);
    let r = read(&mut reader, false);
    sender.join().unwrap().expect("send the body");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), format!("received {TOTAL} bytes"));
    // Streamed: the server never held the body.
    let peak = echo.memory("VmHWM");
    assert!(
        peak < 48 << 20,
        "peak RSS {peak} bytes for a {TOTAL}-byte upload"
    );

    // Chunked as well, on the same connection.
    let mut writer = reader.get_ref().try_clone().unwrap();
    writer
        .write_all(b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        .unwrap();
    for _ in 0..100 {
        writer.write_all(b"2800\r\n").unwrap();
        writer.write_all(&[b'u'; 0x2800]).unwrap();
        writer.write_all(b"\r\n").unwrap();
    }
    writer.write_all(b"0\r\n\r\n").unwrap();
    let r = read(&mut reader, false);
    assert_eq!(r.text(), format!("received {} bytes", 100 * 0x2800));
}

#[test]
fn files_are_served_from_dir() {
    let dir = TempDir::new("files");
    std::fs::write(dir.0.join("note.txt"), "a note\n").unwrap();
    let echo = Echo::start(&["--dir", dir.0.to_str().unwrap()]);
    let r = get(echo.addr, "/files/note.txt");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "a note\n");
    assert_eq!(r.header("content-length"), Some("7"));
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    assert_eq!(get(echo.addr, "/files/missing.txt").status, 404);
}

#[test]
fn unknown_paths_404_and_wrong_methods_405_with_allow() {
    let echo = Echo::start(&[]);
    for target in ["/nope", "/headers/x", "/stat", "/index.html"] {
        assert_eq!(get(echo.addr, target).status, 404, "{target}");
    }
    for (method, target) in [("POST", "/headers"), ("DELETE", "/"), ("GET", "/upload")] {
        let r = request(
            echo.addr,
            format!("{method} {target} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
                .as_bytes(),
        );
        assert_eq!(r.status, 405, "{method} {target}");
        let allow = r
            .header("allow")
            .unwrap_or_else(|| panic!("no Allow for {method} {target}"));
        let want = if target == "/upload" { "POST" } else { "GET" };
        assert!(
            allow.split(',').any(|m| m.trim() == want),
            "{method} {target}: Allow: {allow}"
        );
    }
}

#[test]
fn header_timeout_closes_a_dribbled_head() {
    let echo = Echo::start(&["--header-timeout", "0.3"]);
    let mut stream = connect(echo.addr);
    let started = Instant::now();
    let mut writer = stream.try_clone().unwrap();
    let dribbler = thread::spawn(move || {
        for b in b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: yes\r\n" {
            if writer.write_all(&[*b]).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
    });
    let (bytes, closed) = read_until_closed(&mut stream);
    let elapsed = closed - started;
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_millis(1500),
        "closed after {elapsed:?}"
    );
    if !bytes.is_empty() {
        let r = read(&mut BufReader::new(&bytes[..]), false);
        assert_eq!(r.status, 408);
    }
    dribbler.join().unwrap();
}

#[test]
fn idle_timeout_closes_an_idle_keep_alive_connection() {
    let echo = Echo::start(&["--idle-timeout", "0.3"]);
    let mut stream = connect(echo.addr);
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let r = read(&mut reader, false);
    assert!(!r.closes());
    let answered = Instant::now();
    assert!(reader.buffer().is_empty());
    let (bytes, closed) = read_until_closed(&mut stream);
    assert!(bytes.is_empty(), "{:?}", String::from_utf8_lossy(&bytes));
    let idle = closed - answered;
    assert!(
        idle >= Duration::from_millis(250) && idle < Duration::from_millis(1500),
        "closed after {idle:?} idle"
    );
}

#[test]
fn sigterm_finishes_the_in_flight_request_and_exits_0() {
    let mut echo = Echo::start(&[]);
    // An idle keep-alive connection, to be closed by the shutdown.
    let mut idle = connect(echo.addr);
    idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut idle_reader = BufReader::new(idle.try_clone().unwrap());
    assert_eq!(read(&mut idle_reader, false).status, 200);

    let mut busy = connect(echo.addr);
    busy.write_all(b"GET /sleep?ms=800 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    thread::sleep(Duration::from_millis(200));
    let signalled = Instant::now();
    echo.signal("TERM");

    // The idle connection is closed at once, not after the sleep.
    let (bytes, closed) = read_until_closed(&mut idle);
    assert!(bytes.is_empty());
    assert!(
        closed - signalled < Duration::from_millis(400),
        "idle closed after {:?}",
        closed - signalled
    );
    // No new connections are served.
    thread::sleep(Duration::from_millis(50));
    if let Ok(mut late) = TcpStream::connect(echo.addr) {
        late.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let _ = late.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut answer = Vec::new();
        let _ = late.read_to_end(&mut answer);
        assert!(answer.is_empty(), "served after the signal: {answer:?}");
    }

    let r = read(&mut BufReader::new(busy), false);
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "slept 800");
    let status = echo.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "{status}");
}

#[test]
fn sigterm_gives_in_flight_requests_10_s_then_exits_0() {
    let mut echo = Echo::start(&[]);
    let mut busy = connect(echo.addr);
    busy.set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    busy.write_all(b"GET /sleep?ms=30000 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    thread::sleep(Duration::from_millis(100));
    let signalled = Instant::now();
    echo.signal("TERM");
    let status = echo.wait_exit(Duration::from_secs(13));
    let took = signalled.elapsed();
    assert_eq!(status.code(), Some(0), "{status}");
    assert!(
        took >= Duration::from_millis(9500) && took < Duration::from_secs(12),
        "exited {took:?} after the signal"
    );
    let (bytes, _) = read_until_closed(&mut busy);
    assert!(bytes.is_empty(), "{:?}", String::from_utf8_lossy(&bytes));
}

#[test]
fn sigint_exits_0() {
    let mut echo = Echo::start(&[]);
    assert_eq!(get(echo.addr, "/").status, 200);
    echo.signal("INT");
    let status = echo.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "{status}");
}

#[test]
fn colon_port_listens_on_all_interfaces() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let echo = Echo::start_raw(&[&format!(":{port}")]);
    assert!(
        echo.line.starts_with("listening on http://") && echo.line.ends_with(&format!(":{port}")),
        "{:?}",
        echo.line
    );
    assert_eq!(echo.addr.port(), port);
    assert_eq!(get(echo.addr, "/").text(), "Hello, World!");
}

#[test]
fn sigterm_right_after_the_listening_line_exits_0() {
    for _ in 0..40 {
        let mut echo = Echo::start(&[]);
        echo.signal("TERM");
        let status = echo.wait_exit(Duration::from_secs(5));
        assert_eq!(status.code(), Some(0), "{status}");
    }
}
