//! Helpers shared by the behaviour tests: start a server on a free loopback port, talk to it
//! with raw bytes, and read responses back with a small independent HTTP/1.1 parser. The
//! submodules serve families of test files: the echo example as a child process, log
//! records, resident memory, refusals of malformed requests, and a directory tree to serve
//! files from.
#![allow(dead_code)]

pub mod echo_child;
pub mod logs;
pub mod memory;
pub mod refusal;
pub mod site;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(feature = "websocket")]
pub mod ws;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nethttp::{Handler, Request, ResponseWriter, Running, Server};

/// Starts `handler` on 127.0.0.1 with two loops (so the hand-off between loops is exercised).
pub fn serve(handler: impl Handler) -> Running {
    start(Server::new(handler).threads(2))
}

/// Starts a configured server on a free loopback port.
pub fn start(server: Server) -> Running {
    let listener = nethttp::listen("127.0.0.1:0").expect("bind");
    server.start(listener).expect("start")
}

/// The handler of the hello example.
pub fn hello(w: &mut ResponseWriter, _r: &mut Request) {
    w.headers_mut()
        .insert("content-type", "text/plain; charset=utf-8".parse().unwrap());
    w.write_all(b"Hello, World!").unwrap();
}

/// A connected client socket with a 5 s read timeout, so a missing answer fails the test
/// instead of hanging it.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
}

/// Sends `raw`, then reads everything until the server closes (or 5 s pass).
pub fn exchange(addr: SocketAddr, raw: &[u8]) -> Vec<u8> {
    let mut stream = connect(addr);
    stream.write_all(raw).expect("write");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    answer
}

/// Reads until the server closes the connection: the bytes, and when the close came. A
/// reset counts as a close; a read timeout (5 s, from [`connect`]) means the connection
/// stayed open, and fails the test.
pub fn read_until_closed(stream: &mut TcpStream) -> (Vec<u8>, Instant) {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (bytes, Instant::now()),
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return (bytes, Instant::now()),
            Err(e) => panic!(
                "the server did not close the connection: {e} after {} bytes",
                bytes.len()
            ),
        }
    }
}

/// A directory under the system's temporary directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh, empty directory named after `name` and this process.
    pub fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("nethttp-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One parsed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub version: String,
    pub status: u16,
    pub reason: String,
    /// Header fields in order, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// How the body was delimited: "length", "chunked", "close" or "none".
    pub framing: &'static str,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The response says the connection closes after it.
    pub fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

/// Reads one response. `head_request` says the request was HEAD (no body follows).
/// 1xx responses are returned like any other; call again for the final one.
pub fn read_response(r: &mut impl BufRead, head_request: bool) -> io::Result<Response> {
    let mut response = read_head(r)?;
    let bodiless = head_request || response.status < 200 || matches!(response.status, 204 | 304);
    if bodiless {
        return Ok(response);
    }
    read_body(r, &mut response)?;
    Ok(response)
}

/// Reads a response's head only (its body, if any, is next in `r`): the body is empty and
/// the framing "none".
pub fn read_head(r: &mut impl BufRead) -> io::Result<Response> {
    let status_line = read_line(r)?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default().to_string();
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("bad status line {status_line:?}")))?;
    let reason = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let line = read_line(r)?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad(format!("bad header line {line:?}")))?;
        headers.push((name.to_string(), value.trim().to_string()));
    }
    Ok(Response {
        version,
        status,
        reason,
        headers,
        body: Vec::new(),
        framing: "none",
    })
}

/// Reads the body that follows `response`'s head into it, as its framing says.
fn read_body(r: &mut impl BufRead, response: &mut Response) -> io::Result<()> {
    if response
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        response.framing = "chunked";
        loop {
            let size_line = read_line(r)?;
            let size = usize::from_str_radix(size_line.split(';').next().unwrap().trim(), 16)
                .map_err(|_| bad(format!("bad chunk size {size_line:?}")))?;
            if size == 0 {
                while !read_line(r)?.is_empty() {}
                break;
            }
            let start = response.body.len();
            response.body.resize(start + size, 0);
            r.read_exact(&mut response.body[start..])?;
            if !read_line(r)?.is_empty() {
                return Err(bad("chunk data not followed by CRLF".into()));
            }
        }
    } else if let Some(length) = response.header("content-length") {
        let n: usize = length
            .parse()
            .map_err(|_| bad("bad Content-Length".into()))?;
        response.framing = "length";
        response.body.resize(n, 0);
        r.read_exact(&mut response.body)?;
    } else {
        response.framing = "close";
        r.read_to_end(&mut response.body)?;
    }
    Ok(())
}

/// Parses every response in `bytes` (GET requests assumed).
pub fn parse_all(bytes: &[u8]) -> Vec<Response> {
    let mut reader = BufReader::new(bytes);
    let mut all = Vec::new();
    while !reader.fill_buf().unwrap().is_empty() {
        all.push(read_response(&mut reader, false).expect("well-formed response"));
    }
    all
}

/// Sends `raw` and parses every response until the server closes.
pub fn exchange_all(addr: SocketAddr, raw: &[u8]) -> Vec<Response> {
    parse_all(&exchange(addr, raw))
}

/// A line without its CRLF; an error at EOF.
fn read_line(r: &mut impl BufRead) -> io::Result<String> {
    let mut line = Vec::new();
    if r.read_until(b'\n', &mut line)? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    if line.pop() != Some(b'\n') || line.pop() != Some(b'\r') {
        return Err(bad(format!(
            "line not ended by CRLF: {:?}",
            String::from_utf8_lossy(&line)
        )));
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}

fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Downloads `/big.bin`, the `len` bytes of `file`, over `client`; once the download is
/// under way (the first 64 KiB read, the socket full), truncates the file to 1 MiB; and
/// checks that the response is cut off: the connection ends (a close, a reset, a TLS
/// session ending without `close_notify`) short of the length, instead of hanging until
/// the read timeout.
pub fn download_truncated_midway(
    client: &mut (impl Read + Write),
    file: &std::path::Path,
    len: usize,
) {
    client
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut first = vec![0u8; 64 * 1024];
    client.read_exact(&mut first).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    std::fs::OpenOptions::new()
        .write(true)
        .open(file)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    let mut rest = Vec::new();
    if let Err(e) = client.read_to_end(&mut rest) {
        let ends = [io::ErrorKind::ConnectionReset, io::ErrorKind::UnexpectedEof];
        assert!(
            ends.contains(&e.kind()),
            "the download neither ended nor was cut off: {e}"
        );
    }
    let got = first.len() + rest.len();
    assert!(got < len, "{got} bytes: the response was not cut off");
}

/// Waits until `done` holds, checking every 5 ms, for at most `limit`; returns whether it
/// held (a test then asserts what it waited for).
pub fn wait_until(limit: std::time::Duration, done: impl Fn() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while !done() {
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    true
}
