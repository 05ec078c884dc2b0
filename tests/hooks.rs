//! `Server::on_shutdown` (Go's `RegisterOnShutdown`) and `Handle::set_keep_alives_enabled`
//! (Go's `SetKeepAlivesEnabled`), over real sockets.

mod util;

use std::io::{BufReader, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver};
use nethttp::{blocking, Request, ResponseWriter, Server};
use util::{connect, read_response, read_until_closed, start};

/// A long poll that ends when the shutdown hook tells it to: the graceful shutdown then
/// returns at once instead of waiting out its timeout for it.
#[test]
fn a_shutdown_hook_ends_a_long_poll() {
    let (tx, rx) = bounded::<()>(1);
    let rx: Arc<Mutex<Receiver<()>>> = Arc::new(Mutex::new(rx));
    let poll = move |w: &mut ResponseWriter, _r: &mut Request| {
        let woken = rx
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(30))
            .is_ok();
        let _ = write!(w, "woken by the hook: {woken}");
    };
    let server = Server::new(blocking(poll)).threads(1).on_shutdown(move || {
        let _ = tx.send(());
    });
    let running = start(server);
    let mut client = connect(running.local_addr());
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(100)); // the poll is waiting
    let began = Instant::now();
    running.handle().shutdown(Duration::from_secs(10)).unwrap();
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );
    let response = read_response(&mut BufReader::new(client), false).unwrap();
    assert_eq!(response.text(), "woken by the hook: true");
    assert!(response.closes());
}

fn get(stream: &mut std::net::TcpStream) -> util::Response {
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    read_response(&mut BufReader::new(stream.try_clone().unwrap()), false).unwrap()
}

#[test]
fn keep_alives_can_be_disabled_and_enabled_again() {
    let running = start(Server::new(util::hello).threads(2));
    let handle = running.handle();
    let addr = running.local_addr();
    // An idle keep-alive connection is closed when keep-alives are disabled.
    let mut idle = connect(addr);
    assert!(!get(&mut idle).closes());
    handle.set_keep_alives_enabled(false);
    let (rest, _) = read_until_closed(&mut idle);
    assert!(rest.is_empty());
    // While disabled, every response closes its connection.
    let mut fresh = connect(addr);
    assert!(get(&mut fresh).closes());
    let (rest, _) = read_until_closed(&mut fresh);
    assert!(rest.is_empty());
    // Enabled again: connections are kept.
    handle.set_keep_alives_enabled(true);
    let mut kept = connect(addr);
    assert!(!get(&mut kept).closes());
    assert!(!get(&mut kept).closes());
    running.close().unwrap();
}

/// Disabled before the server starts, keep-alives stay off once it serves.
#[test]
fn keep_alives_disabled_before_the_start() {
    let server = Server::new(util::hello).threads(1);
    server.handle().set_keep_alives_enabled(false);
    let running = start(server);
    let mut stream = connect(running.local_addr());
    assert!(get(&mut stream).closes());
    running.close().unwrap();
}
