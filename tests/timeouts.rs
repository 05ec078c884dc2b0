//! Each timeout firing: the request head's, an idle keep-alive connection's, an inline
//! body's, a response's; and the documented defaults.

mod util;

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use nethttp::{Request, ResponseWriter, Server};
use util::{connect, hello, read_response, read_until_closed, start};

/// Sends `bytes` one at a time, `gap` apart, on a thread, until done or the server is gone.
fn dribble(stream: &TcpStream, bytes: &'static [u8], gap: Duration) -> thread::JoinHandle<()> {
    let mut writer = stream.try_clone().unwrap();
    thread::spawn(move || {
        for b in bytes {
            if writer.write_all(&[*b]).is_err() {
                return;
            }
            thread::sleep(gap);
        }
    })
}

fn within(elapsed: Duration, low: u64, high: u64) -> bool {
    elapsed >= Duration::from_millis(low) && elapsed <= Duration::from_millis(high)
}

#[test]
fn a_head_dribbled_too_slowly_gets_408_then_close() {
    let server = start(
        Server::new(hello)
            .threads(2)
            .read_header_timeout(Duration::from_millis(300)),
    );
    let mut stream = connect(server.local_addr());
    let started = Instant::now();
    // 40 bytes at 50 ms each: 2 s, far past the deadline, and never a whole head.
    let writer = dribble(
        &stream,
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: yes\r\n",
        Duration::from_millis(50),
    );
    let (bytes, closed) = read_until_closed(&mut stream);
    let elapsed = closed - started;
    let answer = String::from_utf8_lossy(&bytes);
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer:?}");
    let response = read_response(&mut BufReader::new(&bytes[..]), false).unwrap();
    assert_eq!(response.status, 408);
    assert!(within(elapsed, 280, 1000), "closed after {elapsed:?}");
    writer.join().unwrap();
    server.close().unwrap();
}

#[test]
fn a_connection_that_sends_nothing_is_closed_without_a_word() {
    let server = start(
        Server::new(hello)
            .threads(2)
            .read_header_timeout(Duration::from_millis(300)),
    );
    let mut stream = connect(server.local_addr());
    let started = Instant::now();
    let (bytes, closed) = read_until_closed(&mut stream);
    let elapsed = closed - started;
    assert!(bytes.is_empty(), "{:?}", String::from_utf8_lossy(&bytes));
    assert!(within(elapsed, 280, 1000), "closed after {elapsed:?}");
    server.close().unwrap();
}

#[test]
fn idle_timeout_closes_a_quiet_keep_alive_connection_silently() {
    let server = start(
        Server::new(hello)
            .threads(2)
            .read_header_timeout(Duration::from_secs(5))
            .idle_timeout(Duration::from_millis(300)),
    );
    let mut stream = connect(server.local_addr());
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let response = read_response(&mut reader, false).unwrap();
    let answered = Instant::now();
    assert_eq!(response.status, 200);
    assert!(!response.closes());
    assert!(reader.buffer().is_empty());
    let (bytes, closed) = read_until_closed(&mut stream);
    let elapsed = closed - answered;
    assert!(bytes.is_empty(), "{:?}", String::from_utf8_lossy(&bytes));
    // Well before the 5 s header timeout: the idle timeout closed it.
    assert!(within(elapsed, 250, 1000), "closed after {elapsed:?} idle");
    server.close().unwrap();
}

#[test]
fn a_busy_keep_alive_connection_outlives_the_idle_timeout() {
    let server = start(
        Server::new(hello)
            .threads(2)
            .idle_timeout(Duration::from_millis(300)),
    );
    let stream = connect(server.local_addr());
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let started = Instant::now();
    let mut i = 0;
    // A request every 100 ms for 1.2 s: four times the idle timeout in all.
    while started.elapsed() < Duration::from_millis(1200) {
        writer
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let response = read_response(&mut reader, false).unwrap_or_else(|e| {
            panic!("request {i}, {:?} in: {e}", started.elapsed());
        });
        assert_eq!(response.status, 200, "request {i}");
        i += 1;
        thread::sleep(Duration::from_millis(100));
    }
    assert!(i >= 8, "only {i} requests");
    server.close().unwrap();
}

/// `handler` behind a 300 ms `read_timeout` (and a 5 s header timeout).
fn with_read_timeout(handler: impl nethttp::Handler) -> nethttp::Running {
    start(
        Server::new(handler)
            .threads(2)
            .read_header_timeout(Duration::from_secs(5))
            .read_timeout(Duration::from_millis(300)),
    )
}

/// Dribbles a 40-byte body (2 s at 50 ms a byte) and checks it is cut off with 408 and a
/// close within the 300 ms limit (and well before the body could have finished).
fn assert_slow_body_cut_off(server: &nethttp::Running) {
    let mut stream = connect(server.local_addr());
    stream
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n")
        .unwrap();
    let started = Instant::now();
    let writer = dribble(&stream, &[b'a'; 40], Duration::from_millis(50));
    let (bytes, closed) = read_until_closed(&mut stream);
    let elapsed = closed - started;
    let response = read_response(&mut BufReader::new(&bytes[..]), false).unwrap();
    assert_eq!(
        response.status,
        408,
        "{:?}",
        String::from_utf8_lossy(&bytes)
    );
    assert!(within(elapsed, 280, 1000), "closed after {elapsed:?}");
    writer.join().unwrap();
}

#[test]
fn read_timeout_cuts_off_a_slow_inline_body_with_408() {
    let server = with_read_timeout(|w: &mut ResponseWriter, r: &mut Request| {
        let _ = write!(w, "{} bytes", r.body().len());
    });
    assert_slow_body_cut_off(&server);
    server.close().unwrap();
}

/// A blocking handler's body streams to it, and the same `read_timeout` holds: a client
/// dribbling the body cannot hold a pool thread past it.
#[test]
fn read_timeout_cuts_off_a_slow_body_to_a_blocking_handler_with_408() {
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let server = with_read_timeout(nethttp::blocking(
        move |w: &mut ResponseWriter, r: &mut Request| {
            let mut body = Vec::new();
            let read = std::io::Read::read_to_end(r.body(), &mut body);
            let _ = tx.lock().unwrap().send(read.map_err(|e| e.kind()));
            let _ = write!(w, "{} bytes", body.len());
        },
    ));
    assert_slow_body_cut_off(&server);
    let read = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("the handler returned");
    assert!(read.is_err(), "the handler's read was cut short: {read:?}");
    server.close().unwrap();
}

#[test]
fn write_timeout_drops_a_client_that_never_reads() {
    const SIZE: usize = 32 << 20;
    let server = start(
        Server::new(|w: &mut ResponseWriter, _r: &mut Request| {
            let _ = w.write_all(&vec![b'x'; SIZE]);
        })
        .threads(2)
        .write_timeout(Duration::from_millis(300)),
    );
    let mut stream = connect(server.local_addr());
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // Read nothing for a second: far more than the socket buffers hold is queued.
    thread::sleep(Duration::from_secs(1));
    let reading = Instant::now();
    let (bytes, closed) = read_until_closed(&mut stream);
    println!(
        "received {} of {} bytes after the write timeout, close seen in {:?}",
        bytes.len(),
        SIZE,
        closed - reading
    );
    assert!(
        bytes.len() < SIZE,
        "the whole response arrived: the connection was not cut off"
    );
    assert!(closed - reading < Duration::from_secs(2));
    server.close().unwrap();
}

#[test]
fn default_timeouts_are_the_documented_ones() {
    assert_eq!(
        nethttp::DEFAULT_READ_HEADER_TIMEOUT,
        Duration::from_secs(10)
    );
    assert_eq!(nethttp::DEFAULT_IDLE_TIMEOUT, Duration::from_secs(60));
    assert_eq!(nethttp::DEFAULT_MAX_HEADER_BYTES, 64 * 1024);
    assert_eq!(nethttp::DEFAULT_MAX_BODY_BYTES, 8 * 1024 * 1024);
    assert_eq!(nethttp::DEFAULT_BLOCKING_THREADS, 1024);
}

#[test]
fn without_options_a_silent_connection_is_kept_past_short_timeouts() {
    // The defaults are seconds, not milliseconds: a client that connects and thinks for
    // half a second is still served.
    let server = start(Server::new(hello).threads(2));
    let mut stream = connect(server.local_addr());
    thread::sleep(Duration::from_millis(500));
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let response = read_response(&mut BufReader::new(&mut stream), false).unwrap();
    assert_eq!(response.status, 200);
    server.close().unwrap();
}
