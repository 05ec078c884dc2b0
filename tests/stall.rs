//! The stall limit: a body that stops arriving gets 408 and a close, for inline and blocking
//! handlers; time the server spends not reading does not count; a response the client stops
//! taking is ended; and the default.

mod util;

use std::io::{BufReader, Read, Write};
use std::thread;
use std::time::{Duration, Instant};

use nethttp::{blocking, Request, ResponseWriter, Server};
use util::{connect, read_response, read_until_closed, start};

const STALL: Duration = Duration::from_millis(300);

/// `/inline` and `/blocking` count the body; `/slow` waits a second before it reads;
/// `/big` answers 8 MiB inline.
fn routes() -> nethttp::ServeMux {
    fn count(w: &mut ResponseWriter, r: &mut Request) {
        let mut n = 0;
        let mut buf = [0u8; 4096];
        loop {
            match r.body().read(&mut buf) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(_) => return,
            }
        }
        let _ = write!(w, "{n}");
    }
    let mut mux = nethttp::ServeMux::new();
    mux.handle("POST /inline", count);
    mux.handle("POST /blocking", blocking(count));
    mux.handle(
        "POST /slow",
        blocking(|w: &mut ResponseWriter, r: &mut Request| {
            thread::sleep(Duration::from_secs(1));
            count(w, r);
        }),
    );
    mux.handle("GET /big", |w: &mut ResponseWriter, _r: &mut Request| {
        let _ = w.write_all(&vec![b'x'; 8 << 20]);
    });
    mux
}

fn server() -> nethttp::Running {
    start(Server::new(routes()).threads(2).stall_timeout(STALL))
}

/// Sends a head announcing 100 bytes and 10 of them, then nothing: 408 and a close, after
/// the stall limit (and well before the read timeout, which is off).
fn stalled_body_gets_408(path: &str) {
    let server = server();
    let mut stream = connect(server.local_addr());
    let started = Instant::now();
    let head = format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&[b'a'; 10]).unwrap();
    let (answer, closed) = read_until_closed(&mut stream);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408 "), "{path}: {answer}");
    let waited = closed - started;
    assert!(waited >= STALL && waited < STALL * 8, "{path}: {waited:?}");
    server.close().unwrap();
}

#[test]
fn an_inline_body_that_stops_arriving_gets_408_then_close() {
    stalled_body_gets_408("/inline");
}

#[test]
fn a_blocking_body_that_stops_arriving_gets_408_then_close() {
    stalled_body_gets_408("/blocking");
}

#[test]
fn a_body_that_keeps_arriving_is_not_stalled() {
    let server = server();
    let mut stream = connect(server.local_addr());
    stream
        .write_all(b"POST /blocking HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
        .unwrap();
    for _ in 0..10 {
        thread::sleep(STALL / 2); // in all, far longer than the stall limit
        stream.write_all(b"a").unwrap();
    }
    let answer = read_response(&mut BufReader::new(&stream), false).unwrap();
    assert_eq!((answer.status, answer.text()), (200, "10".to_string()));
    server.close().unwrap();
}

#[test]
fn time_the_server_spends_not_reading_does_not_count() {
    let server = server();
    let stream = connect(server.local_addr());
    // The whole body at once, more than the channel and the socket buffers hold, to a
    // handler that waits a second before it reads: the server stops reading meanwhile.
    let len = 8 << 20;
    let head = format!("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: {len}\r\n\r\n");
    let mut writer = stream.try_clone().unwrap();
    let sender = thread::spawn(move || {
        writer.write_all(head.as_bytes())?;
        writer.write_all(&vec![b'a'; len])
    });
    let answer = read_response(&mut BufReader::new(&stream), false).unwrap();
    sender.join().unwrap().unwrap();
    assert_eq!((answer.status, answer.text()), (200, len.to_string()));
    server.close().unwrap();
}

#[test]
fn a_response_the_client_stops_taking_is_ended() {
    let server = server();
    let mut stream = connect(server.local_addr());
    stream
        .write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    thread::sleep(STALL * 6); // reads nothing meanwhile: the server gives up
    let (answer, _) = read_until_closed(&mut stream);
    assert!(answer.starts_with(b"HTTP/1.1 200 "));
    assert!(answer.len() < 8 << 20, "the whole response arrived");
    server.close().unwrap();
}

#[test]
fn the_stall_limit_is_on_by_default() {
    assert_eq!(nethttp::DEFAULT_STALL_TIMEOUT, Duration::from_secs(30));
    assert_eq!(nethttp::DEFAULT_MAX_MEMORY, 64 << 20);
}
