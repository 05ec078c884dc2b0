//! A blocking handler's own read and write deadlines (Go's `ResponseController`), over
//! real sockets: a write deadline cuts off a client that stops reading, a read deadline ends
//! a body that stops arriving, and lifting the write deadline lets a slow reader finish.

mod util;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Sender};
use nethttp::{blocking, Request, ResponseWriter, Server};
use util::{connect, start};

/// Writes `total` bytes in 64 KiB pieces and reports how long it took, and whether every
/// write succeeded.
fn write_all_of(w: &mut ResponseWriter, total: usize, report: &Sender<(Duration, bool)>) {
    let began = Instant::now();
    let piece = vec![b'x'; 64 * 1024];
    let mut ok = true;
    for _ in 0..total / piece.len() {
        if w.write_all(&piece).is_err() {
            ok = false;
            break;
        }
    }
    let _ = report.send((began.elapsed(), ok));
}

#[test]
fn a_write_deadline_cuts_off_a_client_that_stops_reading() {
    let (tx, rx) = bounded(1);
    let handler = move |w: &mut ResponseWriter, _r: &mut Request| {
        w.set_write_deadline(Some(Instant::now() + Duration::from_millis(300)))
            .unwrap();
        write_all_of(w, 64 << 20, &tx);
    };
    let running = start(Server::new(blocking(handler)).threads(1));
    let mut client = connect(running.local_addr());
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // The client reads nothing: the handler's writes fail once the deadline has passed.
    let (took, ok) = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the handler ended");
    assert!(!ok, "every write succeeded");
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(3),
        "{took:?}"
    );
    running.close().unwrap();
}

#[test]
fn a_read_deadline_ends_a_body_that_stops_arriving() {
    let (tx, rx) = bounded(1);
    let handler = move |w: &mut ResponseWriter, r: &mut Request| {
        w.set_read_deadline(Some(Instant::now() + Duration::from_millis(300)))
            .unwrap();
        let began = Instant::now();
        let outcome = std::io::copy(r.body(), &mut std::io::sink());
        let _ = tx.send((began.elapsed(), outcome.is_ok()));
    };
    let running = start(Server::new(blocking(handler)).threads(1));
    let mut client = connect(running.local_addr());
    client
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nhalf of it")
        .unwrap();
    let (took, ok) = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the handler ended");
    assert!(!ok, "the read succeeded");
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(3),
        "{took:?}"
    );
    running.close().unwrap();
}

/// With a server `write_timeout` of 200 ms, a client that stops reading is cut off, unless
/// the handler lifts its write deadline (as a Server-Sent Events stream would); what is
/// left to write once the handler is done gets the server's limit afresh.
#[test]
fn lifting_the_write_deadline_lets_a_slow_reader_finish() {
    let total = 16 << 20;
    let (tx, rx) = bounded(2);
    let handler = move |w: &mut ResponseWriter, r: &mut Request| {
        if r.path() == "/lifted" {
            w.set_write_deadline(None).unwrap();
        }
        write_all_of(w, total, &tx);
    };
    let server = Server::new(blocking(handler))
        .threads(1)
        .write_timeout(Duration::from_millis(200));
    let running = start(server);
    for (path, finishes) in [("/lifted", true), ("/default", false)] {
        let mut client = connect(running.local_addr());
        let raw = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        client.write_all(raw.as_bytes()).unwrap();
        // Not reading for a while: more than the kernel's buffers hold is waiting.
        std::thread::sleep(Duration::from_millis(600));
        let mut got = Vec::new();
        let _ = client.read_to_end(&mut got);
        let (_, ok) = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the handler ended");
        let complete = got.ends_with(b"\r\n0\r\n\r\n") && got.len() > total;
        assert_eq!(complete, finishes, "{path}: {} bytes", got.len());
        if finishes {
            assert!(ok, "{path}: a write failed");
        }
    }
    running.close().unwrap();
}

/// An inline handler has its whole body already: its deadlines are not supported.
#[test]
fn an_inline_handler_cannot_set_deadlines() {
    let handler = |w: &mut ResponseWriter, _r: &mut Request| {
        let read = w.set_read_deadline(None).unwrap_err().kind();
        let write = w.set_write_deadline(None).unwrap_err().kind();
        let _ = write!(w, "{read:?} {write:?}");
    };
    let recorded = nethttp::httptest::record(
        &handler,
        &mut nethttp::httptest::new_request("GET", "/").build(),
    );
    assert_eq!(recorded.text(), "Unsupported Unsupported");
}
