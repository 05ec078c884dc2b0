//! Connections that change protocol on the loop: a `101` hands the connection, with the
//! bytes already read past the request, to a `Protocol`; shutdown, broadcasts and the
//! client leaving reach it.

mod util;

use std::any::Any;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nethttp::http::{HeaderValue, StatusCode};
use nethttp::upgrade::{Io, Protocol};
use nethttp::{blocking, ConnState, Request, ResponseWriter, Server};

/// Upper-cases every line back; `quit` closes; a shutdown says `bye`; a broadcast
/// string is written as a line.
struct Shout {
    closed: Arc<AtomicUsize>,
}

impl Protocol for Shout {
    fn read(&mut self, io: &mut Io<'_>) {
        while let Some(end) = io.input().iter().position(|&b| b == b'\n') {
            let line = io.input()[..=end].to_ascii_uppercase();
            io.consume(end + 1);
            if line == b"QUIT\n" {
                io.write(b"BYE\n");
                io.close();
                return;
            }
            io.write(&line);
        }
    }

    fn shutdown(&mut self, io: &mut Io<'_>) {
        io.write(b"shutting down\n");
        io.close();
    }

    fn notify(&mut self, io: &mut Io<'_>, value: &(dyn Any + Send + Sync)) {
        if let Some(text) = value.downcast_ref::<String>() {
            io.write(format!("{text}\n").as_bytes());
        }
    }

    fn closed(&mut self) {
        self.closed.fetch_add(1, Ordering::SeqCst);
    }
}

fn shout_server(closed: Arc<AtomicUsize>) -> Server {
    Server::new(move |w: &mut ResponseWriter, r: &mut Request| {
        if r.headers().get("upgrade").is_none() {
            return nethttp::error(w, "upgrade required", StatusCode::UPGRADE_REQUIRED);
        }
        w.headers_mut()
            .insert("upgrade", HeaderValue::from_static("shout"));
        w.headers_mut()
            .insert("connection", HeaderValue::from_static("Upgrade"));
        let closed = Arc::clone(&closed);
        w.upgrade(Shout { closed }).unwrap();
    })
    .threads(2)
}

const UPGRADE: &[u8] =
    b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: shout\r\nConnection: Upgrade\r\n\r\n";

/// Reads until `want` has arrived (5 s at most).
fn read_until(stream: &mut std::net::TcpStream, want: &str) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains(want) {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("{e} after {:?}", String::from_utf8_lossy(&got)),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn a_101_hands_the_connection_and_its_leftover_bytes_to_the_protocol() {
    let closed = Arc::new(AtomicUsize::new(0));
    let server = util::start(shout_server(Arc::clone(&closed)));
    let mut c = util::connect(server.local_addr());
    // The request and the first line in one write: the line was read with the request.
    let mut first = UPGRADE.to_vec();
    first.extend_from_slice(b"hello\n");
    c.write_all(&first).unwrap();
    let head = read_until(&mut c, "HELLO\n");
    assert!(
        head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{head}"
    );
    let lower = head.to_ascii_lowercase();
    assert!(
        lower.contains("\r\nupgrade: shout\r\n") && lower.contains("\r\nconnection: upgrade\r\n"),
        "{head}"
    );
    assert!(!lower.contains("content-length") && !lower.contains("transfer-encoding"));
    c.write_all(b"again\nquit\n").unwrap();
    let rest = read_until(&mut c, "BYE\n");
    assert_eq!(rest, "AGAIN\nBYE\n");
    let (after, _) = util::read_until_closed(&mut c);
    assert!(after.is_empty());
    let deadline = Instant::now() + Duration::from_secs(5);
    while closed.load(Ordering::SeqCst) != 1 {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    }
    server.close().unwrap();
}

#[test]
fn the_conn_state_hook_hears_upgraded_and_closed() {
    let states = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&states);
    let server = util::start(
        shout_server(Arc::new(AtomicUsize::new(0)))
            .conn_state(move |_, s| seen.lock().unwrap().push(s)),
    );
    let mut c = util::connect(server.local_addr());
    c.write_all(UPGRADE).unwrap();
    read_until(&mut c, "\r\n\r\n");
    drop(c); // the client leaves: the connection closes
    let deadline = Instant::now() + Duration::from_secs(5);
    while !states.lock().unwrap().contains(&ConnState::Closed) {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        *states.lock().unwrap(),
        [
            ConnState::New,
            ConnState::Active,
            ConnState::Upgraded,
            ConnState::Closed
        ]
    );
    server.close().unwrap();
}

#[test]
fn a_broadcast_reaches_every_upgraded_connection_and_no_other() {
    let server = util::start(shout_server(Arc::new(AtomicUsize::new(0))));
    let mut upgraded: Vec<_> = (0..10)
        .map(|_| {
            let mut c = util::connect(server.local_addr());
            c.write_all(UPGRADE).unwrap();
            read_until(&mut c, "\r\n\r\n");
            c
        })
        .collect();
    let mut plain = util::connect(server.local_addr());
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    read_until(&mut plain, "upgrade required");
    assert!(server.handle().notify_upgraded("news".to_string()));
    for c in &mut upgraded {
        assert_eq!(read_until(c, "news\n"), "news\n");
    }
    plain
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 64];
    assert!(
        plain.read(&mut buf).is_err(),
        "a plain connection got the broadcast"
    );
    server.close().unwrap();
}

#[test]
fn a_graceful_shutdown_tells_upgraded_connections_and_waits_for_them() {
    let closed = Arc::new(AtomicUsize::new(0));
    let server = util::start(shout_server(Arc::clone(&closed)));
    let mut clients: Vec<_> = (0..5)
        .map(|_| {
            let mut c = util::connect(server.local_addr());
            c.write_all(UPGRADE).unwrap();
            read_until(&mut c, "\r\n\r\n");
            c
        })
        .collect();
    let began = Instant::now();
    server.shutdown(Duration::from_secs(5)).unwrap();
    assert!(began.elapsed() < Duration::from_secs(2));
    for c in &mut clients {
        let (rest, _) = util::read_until_closed(c);
        assert_eq!(String::from_utf8_lossy(&rest), "shutting down\n");
    }
    assert_eq!(closed.load(Ordering::SeqCst), 5);
}

#[test]
fn upgrades_are_refused_where_they_cannot_work() {
    let server = util::serve(nethttp::ServeMux::new().with_routes());
    let ask = |target: &str, version: &str| {
        let raw = format!("GET {target} {version}\r\nHost: x\r\nConnection: close\r\n\r\n");
        String::from_utf8_lossy(&util::exchange(server.local_addr(), raw.as_bytes())).into_owned()
    };
    let refused = "refused: only an HTTP/1.1 request can be upgraded";
    assert!(ask("/blocking", "HTTP/1.0").contains(refused));
    assert!(
        ask("/inline", "HTTP/1.0").contains("refused: only an HTTP/1.1 request can be upgraded")
    );
    server.close().unwrap();
}

/// Routes whose handlers try to upgrade and report the refusal.
trait WithRoutes {
    fn with_routes(self) -> Self;
}

impl WithRoutes for nethttp::ServeMux {
    fn with_routes(mut self) -> Self {
        fn attempt(w: &mut ResponseWriter, _r: &mut Request) {
            let closed = Arc::new(AtomicUsize::new(0));
            if let Err(e) = w.upgrade(Shout { closed }) {
                let _ = write!(w, "refused: {e}");
            }
        }
        self.handle("/inline", attempt);
        self.handle("/blocking", blocking(attempt));
        self
    }
}

/// A blocking handler that hijacks: a 200 written by hand, then every line back
/// reversed until `quit`.
fn reverser(w: &mut ResponseWriter, _r: &mut Request) {
    let mut conn = w.hijack().expect("hijack");
    conn.write_all(b"HTTP/1.1 200 OK\r\n\r\n").unwrap();
    let mut pending = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        let n = conn.read(&mut buf).unwrap();
        if n == 0 {
            return;
        }
        pending.extend_from_slice(&buf[..n]);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            if line == b"quit\n" {
                return; // dropping the stream closes the connection
            }
            let mut back: Vec<u8> = line[..line.len() - 1].iter().rev().copied().collect();
            back.push(b'\n');
            conn.write_all(&back).unwrap();
        }
    }
}

#[test]
fn a_blocking_handler_hijacks_the_connection_and_its_leftover_bytes() {
    let server = util::serve(blocking(reverser));
    let mut c = util::connect(server.local_addr());
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nabc\n")
        .unwrap();
    assert_eq!(read_until(&mut c, "cba\n"), "HTTP/1.1 200 OK\r\n\r\ncba\n");
    c.write_all(b"hello\nquit\n").unwrap();
    let (rest, _) = util::read_until_closed(&mut c);
    assert_eq!(String::from_utf8_lossy(&rest), "olleh\n");
    server.close().unwrap();
}

#[test]
fn a_hijack_is_refused_inline_and_after_the_head() {
    let server = util::serve(|w: &mut ResponseWriter, r: &mut Request| {
        if r.uri().path() == "/late" {
            let _ = w.write_all(b"x");
            let _ = w.flush();
        }
        if let Err(e) = w.hijack() {
            let _ = write!(w, "refused: {e}");
        }
    });
    let answer = util::exchange(
        server.local_addr(),
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(String::from_utf8_lossy(&answer).contains("refused: a hijack is for blocking handlers"));
    server.close().unwrap();
    let server = util::serve(blocking(|w: &mut ResponseWriter, _r: &mut Request| {
        let _ = w.write_all(b"x");
        let _ = w.flush();
        assert!(w.hijack().is_err());
    }));
    let answer = util::exchange(
        server.local_addr(),
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200 OK"));
    server.close().unwrap();
}

#[test]
fn a_blocking_handler_upgrades_at_once_and_goes_on() {
    let went_on = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&went_on);
    let server = util::serve(blocking(move |w: &mut ResponseWriter, _r: &mut Request| {
        w.headers_mut()
            .insert("upgrade", HeaderValue::from_static("shout"));
        let closed = Arc::new(AtomicUsize::new(0));
        w.upgrade(Shout { closed }).unwrap();
        assert!(w.write_all(b"too late").is_err());
        seen.fetch_add(1, Ordering::SeqCst);
    }));
    let mut c = util::connect(server.local_addr());
    c.write_all(UPGRADE).unwrap();
    assert!(read_until(&mut c, "\r\n\r\n").starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    c.write_all(b"loud\n").unwrap();
    assert_eq!(read_until(&mut c, "LOUD\n"), "LOUD\n");
    // The handler goes on in its own thread after the switch, so the protocol may answer
    // before it gets this far: wait for it (bounded).
    util::wait_until(Duration::from_secs(5), || {
        went_on.load(Ordering::SeqCst) > 0
    });
    assert_eq!(went_on.load(Ordering::SeqCst), 1);
    server.close().unwrap();
}

#[test]
fn the_servers_close_ends_a_hijacked_connection_for_its_handler_too() {
    let ended = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&ended);
    let server = util::serve(blocking(move |w: &mut ResponseWriter, _r: &mut Request| {
        let mut conn = w.hijack().unwrap();
        let mut buf = [0u8; 16];
        while conn.read(&mut buf).unwrap_or(0) > 0 {}
        seen.fetch_add(1, Ordering::SeqCst);
    }));
    let mut c = util::connect(server.local_addr());
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    server.close().unwrap();
    let (_, _) = util::read_until_closed(&mut c);
    let deadline = Instant::now() + Duration::from_secs(5);
    while ended.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the handler's read never ended");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A CONNECT tunnel (as `examples/connect_proxy.rs`): dial the target, say 200, copy both
/// ways.
fn tunnel(w: &mut ResponseWriter, r: &mut Request) {
    if r.method() != nethttp::http::Method::CONNECT {
        return nethttp::error(w, "CONNECT only", StatusCode::METHOD_NOT_ALLOWED);
    }
    let Ok(upstream) = std::net::TcpStream::connect(r.uri().to_string()) else {
        return nethttp::error(w, "cannot reach the target", StatusCode::BAD_GATEWAY);
    };
    let Ok(conn) = w.hijack() else { return };
    let (mut from_client, mut to_client) = conn.split();
    let _ = to_client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n");
    let mut up_read = upstream.try_clone().unwrap();
    let mut up_write = upstream;
    let back = std::thread::spawn(move || {
        let _ = std::io::copy(&mut up_read, &mut to_client);
    });
    let _ = std::io::copy(&mut from_client, &mut up_write);
    let _ = up_write.shutdown(std::net::Shutdown::Write);
    let _ = back.join();
}

#[test]
fn a_connect_tunnel_carries_http_to_another_server() {
    let target = util::serve(util::hello);
    let proxy = util::serve(blocking(tunnel));
    let mut c = util::connect(proxy.local_addr());
    let connect = format!(
        "CONNECT {0} HTTP/1.1\r\nHost: {0}\r\n\r\n",
        target.local_addr()
    );
    c.write_all(connect.as_bytes()).unwrap();
    assert_eq!(
        read_until(&mut c, "\r\n\r\n"),
        "HTTP/1.1 200 Connection Established\r\n\r\n"
    );
    for _ in 0..3 {
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert!(read_until(&mut c, "Hello, World!").starts_with("HTTP/1.1 200 OK\r\n"));
    }
    proxy.close().unwrap();
    target.close().unwrap();
}
