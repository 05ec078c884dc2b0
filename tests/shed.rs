//! Making room: at the connection cap (or out of descriptors), connections that have sat
//! idle for a while are closed so that a client with a request is served promptly.

mod util;

use std::io::{BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use nethttp::Server;
use util::{connect, hello, read_response, read_until_closed, start};

/// Long timeouts, so only shedding can free a slot within a test's few seconds.
fn capped(n: usize) -> Server {
    Server::new(hello)
        .threads(2)
        .max_connections(n)
        .read_header_timeout(Some(Duration::from_secs(30)))
        .idle_timeout(Some(Duration::from_secs(30)))
}

/// Idle for longer than the shed age (half a second).
const LONG_IDLE: Duration = Duration::from_millis(900);

fn get_ok(addr: SocketAddr) -> TcpStream {
    let mut client = connect(addr);
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let response = read_response(&mut BufReader::new(&mut client), false)
        .expect("answered while the server is at its cap");
    assert_eq!(response.status, 200);
    client
}

#[test]
fn silent_connections_make_room_at_the_cap() {
    let server = start(capped(4));
    let addr = server.local_addr();
    let mut silent: Vec<TcpStream> = (0..4).map(|_| connect(addr)).collect();
    thread::sleep(LONG_IDLE);

    // Without shedding this waits for the 30 s header timeout; connect()'s 5 s read
    // timeout would fail the test first.
    get_ok(addr);
    let mut closed = 0;
    for s in &mut silent {
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut b = [0u8; 1];
        match s.read(&mut b) {
            Ok(0) => closed += 1,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => closed += 1,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            other => panic!("a silent connection got {other:?}"),
        }
    }
    assert!(closed >= 1, "a silent connection was closed to make room");
    server.close().unwrap();
}

#[test]
fn idle_keep_alive_connections_make_room_but_a_request_under_way_is_kept() {
    let server = start(capped(2));
    let addr = server.local_addr();
    let mut kept_alive = get_ok(addr);
    let mut half = connect(addr);
    half.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n").unwrap();
    thread::sleep(LONG_IDLE);

    let _newcomer = get_ok(addr);
    let (rest, _) = read_until_closed(&mut kept_alive);
    assert!(rest.is_empty(), "closed without a word: {rest:?}");
    // The half-sent request still completes.
    half.write_all(b"\r\n").unwrap();
    let response = read_response(&mut BufReader::new(&mut half), false).unwrap();
    assert_eq!(response.status, 200);
    server.close().unwrap();
}

#[test]
fn a_connection_is_shed_only_once_idle_for_half_a_second() {
    let server = start(capped(1));
    let addr = server.local_addr();
    let mut recent = get_ok(addr);
    let idle_from = Instant::now();
    // The cap is reached and the only connection went idle just now: the newcomer waits
    // until that one has been idle for the shed age, then gets its slot.
    let waiting = get_ok(addr);
    let waited = idle_from.elapsed();
    assert!(
        waited >= Duration::from_millis(450),
        "served {waited:?} after the only connection went idle"
    );
    let (rest, _) = read_until_closed(&mut recent);
    assert!(rest.is_empty(), "closed without a word: {rest:?}");
    drop(waiting);
    server.close().unwrap();
}
