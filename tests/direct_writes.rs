//! A blocking handler's thread writes its response to the socket itself while the loop
//! lends it (`offload/turn.rs`), and hands the rest to the loop once the socket is full.
//! Whatever the mix, the client gets every byte in order; what the handler's thread
//! wrote is counted in the metrics; and a response cut off while its handler still runs
//! closes the connection at once, although the handler's thread held a descriptor of it
//! (whether the loop closes with a lingering close or at once).

mod util;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use nethttp::{blocking, Request, ResponseWriter, ServeMux, Server};

/// Body bytes: byte `i` of every body, whatever the writes that carry it.
fn byte(i: usize) -> u8 {
    (i * 31 + i / 4099) as u8
}

/// Bytes `from..from + len` of the body.
fn run(from: usize, len: usize) -> Vec<u8> {
    (from..from + len).map(byte).collect()
}

/// Writes of sizes that take every path: whole 64 KiB pieces (straight from the handler's
/// bytes), pieces that cross them, small ones that are staged first.
const WRITES: [usize; 6] = [65_536, 1_000, 200_000, 65_536, 7, 131_072];

/// `GET /big/{n}`: `n` body bytes in writes of the sizes in `WRITES`, in turn (of 64 KiB
/// only if the query says `whole`); with a `Content-Length` unless it says `chunked`.
fn big(w: &mut ResponseWriter, r: &mut Request) {
    let n: usize = r.path_value("n").and_then(|n| n.parse().ok()).unwrap_or(0);
    let query = r.uri().query().unwrap_or_default();
    if !query.contains("chunked") {
        w.headers_mut().insert("content-length", n.into());
    }
    let sizes: &[usize] = if query.contains("whole") {
        &WRITES[..1]
    } else {
        &WRITES
    };
    let mut sent = 0;
    for &size in sizes.iter().cycle() {
        if sent == n {
            break;
        }
        let len = size.min(n - sent);
        if w.write_all(&run(sent, len)).is_err() {
            return;
        }
        sent += len;
    }
}

/// `POST /cut`: writes 1 MiB, then reads the (chunked) body, which the client makes
/// malformed, then goes on for another second and a half before it returns.
fn cut(w: &mut ResponseWriter, r: &mut Request) {
    let _ = w.write_all(&run(0, 1 << 20));
    let mut body = Vec::new();
    let read = r.body().read_to_end(&mut body);
    assert!(read.is_err(), "the body is malformed");
    thread::sleep(Duration::from_millis(1500));
}

/// `GET /stuck`: writes up to 64 MiB, more than the sockets hold, to a client that reads
/// none of it (a write fails once the stall limit cuts it off), then goes on for another
/// second and a half.
fn stuck(w: &mut ResponseWriter, _r: &mut Request) {
    let piece = run(0, 1 << 16);
    for _ in 0..1024 {
        if w.write_all(&piece).is_err() {
            break;
        }
    }
    thread::sleep(Duration::from_millis(1500));
}

fn server() -> nethttp::Running {
    let mut mux = ServeMux::new();
    mux.handle("GET /big/{n}", blocking(big));
    mux.handle("POST /cut", blocking(cut));
    mux.handle("GET /stuck", blocking(stuck));
    mux.handle("GET /metrics", nethttp::metrics);
    let server = Server::new(mux).threads(1);
    util::start(server.stall_timeout(Duration::from_millis(300)))
}

/// Reads a response head; returns its `Content-Length`, if any.
fn read_head(reader: &mut impl BufRead) -> Option<usize> {
    let head = util::read_head(reader).unwrap();
    assert_eq!(head.status, 200);
    head.header("content-length").map(|n| n.parse().unwrap())
}

/// Reads `len` body bytes, pausing now and then so that the socket fills and the loop
/// takes over, and checks each against the body's bytes.
fn read_body_slowly(reader: &mut impl Read, len: usize) {
    let mut got = 0;
    let mut buf = vec![0u8; 50_000];
    while got < len {
        if got % 7 == 0 || got < 100_000 {
            thread::sleep(Duration::from_millis(3));
        }
        let want = buf.len().min(len - got);
        let n = reader.read(&mut buf[..want]).unwrap();
        assert!(n > 0, "the connection closed after {got} of {len} bytes");
        assert!(
            buf[..n] == run(got, n)[..],
            "the bytes from {got} differ from the body's"
        );
        got += n;
    }
}

/// Reads a chunked response (its framing checked on the way) and checks its body; returns
/// the body's length.
fn read_chunked(reader: &mut impl BufRead) -> usize {
    let response = util::read_response(reader, false).unwrap();
    assert_eq!((response.status, response.framing), (200, "chunked"));
    assert!(
        response.body == run(0, response.body.len()),
        "the chunked body differs"
    );
    response.body.len()
}

/// Reads until the server closes `stream`, which must come within `limit` of `since`
/// (well before the handler returns); the bytes read.
fn closes_within(stream: &mut TcpStream, since: Instant, limit: Duration) -> Vec<u8> {
    let (bytes, closed) = util::read_until_closed(stream);
    assert!(
        closed - since < limit,
        "closed {:?} after: it waited for the handler",
        closed - since
    );
    bytes
}

fn get(stream: &mut TcpStream, target: &str) {
    let raw = format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
    stream.write_all(raw.as_bytes()).unwrap();
}

#[test]
fn responses_written_by_either_thread_arrive_whole_and_in_order() {
    let server = server();
    let mut stream = util::connect(server.local_addr());
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    // Three requests pipelined: the next answers follow the written ones. A slow start
    // fills the socket: the loop takes over, then lends it again.
    let n = 8 << 20;
    let raw = format!(
        "GET /big/{n} HTTP/1.1\r\nHost: x\r\n\r\n\
         GET /big/3000000?chunked HTTP/1.1\r\nHost: x\r\n\r\n\
         GET /big/5 HTTP/1.1\r\nHost: x\r\n\r\n"
    );
    stream.write_all(raw.as_bytes()).unwrap();
    thread::sleep(Duration::from_millis(300));
    assert_eq!(read_head(&mut reader), Some(n));
    read_body_slowly(&mut reader, n);
    assert_eq!(read_chunked(&mut reader), 3_000_000);
    assert_eq!(read_head(&mut reader), Some(5));
    read_body_slowly(&mut reader, 5);
    // And one more on the same connection, once all is quiet.
    get(&mut stream, "/big/300000");
    assert_eq!(read_head(&mut reader), Some(300_000));
    read_body_slowly(&mut reader, 300_000);
    server.close().unwrap();
}

#[test]
fn a_chunked_response_that_fills_the_socket_arrives_whole() {
    // Each whole piece goes out with its chunk's framing around it in one write; where the
    // socket is full, the rest of a chunk (framing and all) goes through the loop. A
    // client that keeps pausing fills the socket again and again.
    let server = server();
    let mut stream = util::connect(server.local_addr());
    let mut reader = BufReader::new(Pausing(stream.try_clone().unwrap(), 0));
    get(&mut stream, "/big/16000000?chunked&whole"); // every piece written through
    thread::sleep(Duration::from_millis(300));
    assert_eq!(read_chunked(&mut reader), 16_000_000);
    server.close().unwrap();
}

/// A reader that reads as fast as it can, but pauses for 10 ms before every 64th read:
/// the socket fills in each pause, and the writer's next piece finds it full.
struct Pausing<R>(R, usize);

impl<R: Read> Read for Pausing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.1 += 1;
        if self.1 % 64 == 0 {
            thread::sleep(Duration::from_millis(10));
        }
        self.0.read(buf)
    }
}

/// The written-bytes counter of the server at `addr`.
fn written(addr: SocketAddr) -> f64 {
    let raw = b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let response = util::parse_all(&util::exchange(addr, raw)).remove(0);
    let samples: HashMap<String, f64> = response
        .text()
        .lines()
        .filter_map(|l| l.rsplit_once(' '))
        .filter_map(|(name, value)| Some((name.to_string(), value.parse().ok()?)))
        .collect();
    samples["nethttp_written_bytes_total"]
}

#[test]
fn what_the_handlers_thread_writes_is_counted() {
    let server = server();
    let addr = server.local_addr();
    let before = written(addr);
    let n = 4 << 20;
    let mut stream = util::connect(addr);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    get(&mut stream, &format!("/big/{n}"));
    assert_eq!(read_head(&mut reader), Some(n));
    read_body_slowly(&mut reader, n);
    let after = written(addr);
    assert!(
        after - before >= n as f64,
        "{} bytes counted for a body of {n}",
        after - before
    );
    server.close().unwrap();
}

#[test]
fn what_the_handlers_thread_wrote_to_a_client_that_left_is_counted() {
    let server = server();
    let addr = server.local_addr();
    let before = written(addr);
    let mut stream = util::connect(addr);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    get(&mut stream, "/big/1073741824");
    assert_eq!(read_head(&mut reader), Some(1 << 30));
    read_body_slowly(&mut reader, 2 << 20);
    drop((reader, stream)); // gone mid-response: the connection closes, not the request's end
    let deadline = Instant::now() + Duration::from_secs(3);
    while written(addr) - before < f64::from(2 << 20) {
        assert!(
            Instant::now() < deadline,
            "the bytes written before the close are lost"
        );
        thread::sleep(Duration::from_millis(50));
    }
    server.close().unwrap();
}

#[test]
fn a_response_cut_off_while_its_handler_runs_closes_at_once() {
    let server = server();
    let mut stream = util::connect(server.local_addr());
    let head = "POST /cut HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    stream.write_all(head.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    assert_eq!(read_head(&mut reader), None);
    // Most of the megabyte, which the handler's thread wrote itself.
    let mut got = 0;
    let mut buf = vec![0u8; 64 * 1024];
    while got < 900_000 {
        got += reader.read(&mut buf).unwrap();
    }
    stream.write_all(b"5\r\nhello\r\nzz\r\n").unwrap(); // not a chunk size
    let malformed = Instant::now();
    closes_within(&mut stream, malformed, Duration::from_millis(1000));
    server.close().unwrap();
}

#[test]
fn a_response_to_a_client_that_stopped_reading_is_cut_off_at_its_stall_limit() {
    let server = server();
    let mut stream = util::connect(server.local_addr());
    let asked = Instant::now();
    get(&mut stream, "/stuck");
    thread::sleep(Duration::from_millis(700)); // the socket fills; the stall limit passes
    let bytes = closes_within(&mut stream, asked, Duration::from_millis(1400));
    assert!(bytes.len() < 64 << 20, "cut off, not sent whole");
    server.close().unwrap();
}

#[test]
fn a_shutdown_deadline_closes_a_response_its_handler_writes_itself() {
    let server = server();
    let mut stream = util::connect(server.local_addr());
    get(&mut stream, "/big/1073741824"); // far more than goes out before the deadline
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    assert_eq!(read_head(&mut reader), Some(1 << 30));
    read_body_slowly(&mut reader, 1 << 20);
    let began = Instant::now();
    let shutdown = server.handle().shutdown(Duration::from_millis(300));
    assert!(shutdown.is_err(), "the response outlives the deadline");
    closes_within(&mut stream, began, Duration::from_secs(1));
}
