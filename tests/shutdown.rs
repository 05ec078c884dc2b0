//! Stopping a server: graceful shutdown drains in-flight requests, a deadline cuts it short,
//! close is immediate; the `conn_state` hook; the connection cap.

mod util;

use std::io::{self, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use nethttp::{ConnState, Handler, Request, ResponseWriter, Server};
use util::{connect, hello, read_response, read_until_closed, start};

/// `/slow` sleeps for `delay` on the pool (counting starts); the rest is answered inline.
struct SlowOrHello {
    delay: Duration,
    started: Arc<AtomicUsize>,
}

impl Handler for SlowOrHello {
    fn serve_http(&self, w: &mut ResponseWriter, r: &mut Request) {
        if r.path() == "/slow" {
            self.started.fetch_add(1, Ordering::SeqCst);
            thread::sleep(self.delay);
            let _ = w.write_all(b"finally done");
        } else {
            let _ = w.write_all(b"Hello, World!");
        }
    }

    fn is_blocking(&self, r: &Request) -> bool {
        r.path() == "/slow"
    }
}

/// A server whose `/slow` takes `delay`, and the count of `/slow` requests begun.
fn slow_server(delay: Duration) -> (nethttp::Running, Arc<AtomicUsize>) {
    let started = Arc::new(AtomicUsize::new(0));
    let handler = SlowOrHello {
        delay,
        started: Arc::clone(&started),
    };
    (start(Server::new(handler).threads(2)), started)
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes()
}

/// Sends `GET /slow` and waits until its handler has begun.
fn begin_slow(addr: SocketAddr, started: &AtomicUsize) -> TcpStream {
    let before = started.load(Ordering::SeqCst);
    let mut stream = connect(addr);
    stream.write_all(&get("/slow")).unwrap();
    let waiting = Instant::now();
    while started.load(Ordering::SeqCst) == before {
        assert!(
            waiting.elapsed() < Duration::from_secs(2),
            "/slow never began"
        );
        thread::sleep(Duration::from_millis(1));
    }
    stream
}

/// A keep-alive connection that has been answered once and is now idle.
fn idle_connection(addr: SocketAddr) -> TcpStream {
    let mut stream = connect(addr);
    stream.write_all(&get("/")).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let response = read_response(&mut reader, false).unwrap();
    assert_eq!(response.status, 200);
    assert!(!response.closes());
    stream
}

/// Tries to connect until refused, for up to `limit`. True if refused.
fn refused_within(addr: SocketAddr, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        match TcpStream::connect(addr) {
            Err(e) => {
                assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
                return true;
            }
            Ok(_) => thread::sleep(Duration::from_millis(10)),
        }
    }
    false
}

#[test]
fn shutdown_drains_an_in_flight_request_and_closes_the_rest() {
    let (server, started) = slow_server(Duration::from_millis(800));
    let addr = server.local_addr();
    let mut busy = begin_slow(addr, &started);
    let mut idle = idle_connection(addr);

    let handle = server.handle();
    let shutdown_began = Instant::now();
    let shutdown = thread::spawn(move || {
        let result = handle.shutdown(Duration::from_secs(5));
        (result, Instant::now())
    });

    // The idle connection closes at once, without a word.
    let (bytes, closed) = read_until_closed(&mut idle);
    assert!(bytes.is_empty(), "{:?}", String::from_utf8_lossy(&bytes));
    assert!(
        closed - shutdown_began < Duration::from_millis(300),
        "idle closed after {:?}",
        closed - shutdown_began
    );
    // New connections are refused.
    assert!(
        refused_within(addr, Duration::from_millis(500)),
        "still accepting during shutdown"
    );

    // The in-flight request completes, saying the connection closes, and then it does.
    let (bytes, _) = read_until_closed(&mut busy);
    // Close our end, as a client does at end of file: the server stops waiting for it
    // (it lingers after a last response, so the client reads it rather than a reset).
    drop(busy);
    let response = read_response(&mut BufReader::new(&bytes[..]), false).unwrap();
    assert_eq!(
        (response.status, response.text().as_str()),
        (200, "finally done")
    );
    assert!(
        response.closes(),
        "no Connection: close on {:?}",
        response.headers
    );

    let (result, returned) = shutdown.join().unwrap();
    result.expect("shutdown drained in time");
    let took = returned - shutdown_began;
    assert!(
        took >= Duration::from_millis(500),
        "shutdown returned after {took:?}, before the request was done"
    );
    assert!(
        took < Duration::from_secs(2),
        "shutdown returned after {took:?}"
    );
    let err = server.wait().expect_err("wait reports the shutdown");
    assert!(nethttp::is_server_closed(&err), "{err}");
}

#[test]
fn running_shutdown_returns_once_drained() {
    let (server, started) = slow_server(Duration::from_millis(300));
    let mut busy = begin_slow(server.local_addr(), &started);
    let began = Instant::now();
    server.shutdown(Duration::from_secs(5)).expect("drained");
    assert!(
        began.elapsed() >= Duration::from_millis(200),
        "{:?}",
        began.elapsed()
    );
    let (bytes, _) = read_until_closed(&mut busy);
    let response = read_response(&mut BufReader::new(&bytes[..]), false).unwrap();
    assert_eq!(response.status, 200);
    assert!(response.closes());
}

#[test]
fn a_shutdown_deadline_shorter_than_a_handler_times_out_and_closes() {
    let (server, started) = slow_server(Duration::from_secs(3));
    let addr = server.local_addr();
    let mut busy = begin_slow(addr, &started);
    let handle = server.handle();
    let began = Instant::now();
    let err = handle
        .shutdown(Duration::from_millis(300))
        .expect_err("the handler outlives the deadline");
    let took = began.elapsed();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_secs(1),
        "took {took:?}"
    );
    let (bytes, closed) = read_until_closed(&mut busy);
    assert!(bytes.is_empty(), "{:?}", String::from_utf8_lossy(&bytes));
    assert!(
        closed - began < Duration::from_secs(1),
        "closed after {:?}",
        closed - began
    );
    let err = server.wait().expect_err("wait reports the shutdown");
    assert!(nethttp::is_server_closed(&err), "{err}");
}

#[test]
fn close_ends_everything_now() {
    let (server, started) = slow_server(Duration::from_secs(3));
    let addr = server.local_addr();
    let mut busy = begin_slow(addr, &started);
    let mut idle = idle_connection(addr);
    let began = Instant::now();
    server.handle().close();
    for stream in [&mut busy, &mut idle] {
        let (bytes, closed) = read_until_closed(stream);
        assert!(bytes.is_empty(), "{:?}", String::from_utf8_lossy(&bytes));
        assert!(
            closed - began < Duration::from_millis(500),
            "closed after {:?}",
            closed - began
        );
    }
    assert!(
        refused_within(addr, Duration::from_millis(500)),
        "still accepting after close"
    );
    let err = server.wait().expect_err("wait reports the close");
    assert!(nethttp::is_server_closed(&err), "{err}");
}

#[test]
fn conn_state_reports_a_keep_alive_connections_life() {
    let states: Arc<Mutex<Vec<(SocketAddr, ConnState)>>> = Arc::default();
    let seen = Arc::clone(&states);
    let server = start(
        Server::new(hello)
            .threads(2)
            .conn_state(move |peer, state| seen.lock().unwrap().push((peer, state))),
    );
    let stream = connect(server.local_addr());
    let me = stream.local_addr().unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    for _ in 0..2 {
        writer.write_all(&get("/")).unwrap();
        assert_eq!(read_response(&mut reader, false).unwrap().status, 200);
    }
    drop(reader);
    drop(writer);
    let mine = || -> Vec<ConnState> {
        let states = states.lock().unwrap();
        states
            .iter()
            .filter(|(peer, _)| *peer == me)
            .map(|(_, s)| *s)
            .collect()
    };
    let waiting = Instant::now();
    while mine().last() != Some(&ConnState::Closed) {
        assert!(
            waiting.elapsed() < Duration::from_secs(2),
            "no Closed: {:?}",
            mine()
        );
        thread::sleep(Duration::from_millis(5));
    }
    use ConnState::*;
    assert_eq!(mine(), [New, Active, Idle, Active, Idle, Closed]);
    server.close().unwrap();
}

#[test]
fn max_connections_holds_a_third_until_one_closes() {
    let server = start(Server::new(hello).threads(2).max_connections(2));
    let addr = server.local_addr();
    let first = idle_connection(addr);
    let _second = idle_connection(addr);

    // The kernel completes the third handshake, but the server does not take it. (Not for
    // long: past half a second idle, the two would be closed to make room for it.)
    let mut third = connect(addr);
    third.write_all(&get("/")).unwrap();
    third
        .set_read_timeout(Some(Duration::from_millis(250)))
        .unwrap();
    let mut byte = [0u8; 1];
    match third.peek(&mut byte) {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        other => panic!("the third connection was served at the cap: {other:?}"),
    }

    drop(first);
    let freed = Instant::now();
    third
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let response = read_response(&mut BufReader::new(&mut third), false).unwrap();
    assert_eq!(response.status, 200);
    assert!(
        freed.elapsed() < Duration::from_millis(500),
        "served {:?} after a slot freed",
        freed.elapsed()
    );
    server.close().unwrap();
}

#[test]
fn a_shutdown_before_the_server_starts_stops_it_as_it_starts() {
    // A signal can arrive between installing the handler and starting to serve.
    let server = Server::new(hello).threads(2);
    let handle = server.handle();
    handle.shutdown(Duration::from_secs(1)).unwrap();
    let listener = nethttp::listen("127.0.0.1:0").unwrap();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || done_tx.send(server.serve(listener)).unwrap());
    let result = done_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("serve returned instead of serving forever");
    assert!(nethttp::is_server_closed(&result.unwrap_err()));
}
