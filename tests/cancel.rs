//! A blocking handler learns that its request is cancelled (the client closed its side, or
//! reset the connection) and that a graceful shutdown began, while it waits, over real
//! sockets; through the library and through the echo showcase's `/wait` and `/cancelled`.

mod util;

use std::io::{BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, select, Receiver, Sender};
use nethttp::{blocking, Request, ResponseWriter, Running, Server};
use util::echo_child::{get, Echo};
use util::{connect, read_response, start};

/// A server whose one handler waits up to a minute for its request to be cancelled and
/// reports on `told` when it was.
fn waiting_server() -> (Running, Receiver<Instant>) {
    let (told, seen): (Sender<Instant>, Receiver<Instant>) = bounded(16);
    let wait = move |w: &mut ResponseWriter, r: &mut Request| {
        let done = r.done();
        select! {
            recv(done) -> _ => {
                assert!(r.is_cancelled());
                let _ = told.send(Instant::now());
            }
            default(Duration::from_secs(60)) => {
                let _ = w.write_all(b"nobody cancelled");
            }
        }
    };
    (start(Server::new(blocking(wait)).threads(2)), seen)
}

/// Sends a request and waits until its handler runs.
fn send_wait(addr: SocketAddr) -> TcpStream {
    let mut client = connect(addr);
    client
        .write_all(b"GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    thread::sleep(Duration::from_millis(300));
    client
}

#[test]
fn a_client_that_closes_its_side_cancels_its_request() {
    let (running, seen) = waiting_server();
    let client = send_wait(running.local_addr());
    let closed = Instant::now();
    client.shutdown(Shutdown::Write).unwrap();
    let at = seen
        .recv_timeout(Duration::from_secs(5))
        .expect("cancelled");
    let took = at - closed;
    assert!(
        took < Duration::from_millis(100),
        "cancelled {took:?} after the FIN"
    );
    running.close().unwrap();
}

#[test]
fn a_reset_cancels_the_request() {
    let (running, seen) = waiting_server();
    let client = send_wait(running.local_addr());
    let socket = socket2::SockRef::from(&client);
    socket.set_linger(Some(Duration::ZERO)).unwrap();
    let reset = Instant::now();
    drop(client); // closed with linger 0: a reset
    let at = seen
        .recv_timeout(Duration::from_secs(5))
        .expect("cancelled");
    let took = at - reset;
    assert!(
        took < Duration::from_millis(100),
        "cancelled {took:?} after the reset"
    );
    running.close().unwrap();
}

/// Ten `/wait?ms=60000` in flight: a graceful shutdown returns in under a second, each
/// handler having stopped at the shutdown notice; `/cancelled` counted them.
#[test]
fn a_graceful_shutdown_ends_long_waits_at_once() {
    let echo = Echo::start(&[]);
    let clients: Vec<TcpStream> = (0..10)
        .map(|_| {
            let mut client = connect(echo.addr);
            client
                .write_all(b"GET /wait?ms=60000 HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            client
        })
        .collect();
    thread::sleep(Duration::from_millis(300));
    assert_eq!(get(echo.addr, "/cancelled").text(), "cancelled 0");
    let mut echo = echo;
    let began = Instant::now();
    echo.signal("TERM");
    for client in clients {
        let response = read_response(&mut BufReader::new(client), false).unwrap();
        assert_eq!((response.status, response.body.len()), (200, 0));
        assert!(response.closes());
    }
    let status = echo.wait_exit(Duration::from_secs(5));
    assert!(status.success());
    let took = began.elapsed();
    assert!(took < Duration::from_secs(1), "the shutdown took {took:?}");
}

#[test]
fn a_wait_that_is_not_cancelled_answers() {
    let echo = Echo::start(&[]);
    assert_eq!(get(echo.addr, "/wait?ms=10").text(), "waited 10");
    assert_eq!(get(echo.addr, "/cancelled").text(), "cancelled 0");
    // Its client gone, a waiting handler counts itself.
    let mut client = connect(echo.addr);
    client
        .write_all(b"GET /wait?ms=60000 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    thread::sleep(Duration::from_millis(300));
    client.shutdown(Shutdown::Write).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while get(echo.addr, "/cancelled").text() != "cancelled 1" {
        assert!(Instant::now() < deadline, "the wait was not cancelled");
        thread::sleep(Duration::from_millis(10));
    }
}

/// Inline and test requests are never cancelled, and outside a server no shutdown comes.
#[test]
fn inline_and_test_requests_are_never_cancelled() {
    let check = |w: &mut ResponseWriter, r: &mut Request| {
        let quiet = r.done().try_recv().is_err_and(|e| e.is_empty())
            && r.shutdown_notice().try_recv().is_err_and(|e| e.is_empty());
        let _ = write!(w, "{} {quiet}", r.is_cancelled());
    };
    let recorded = nethttp::httptest::record(
        &check,
        &mut nethttp::httptest::new_request("GET", "/").build(),
    );
    assert_eq!(recorded.text(), "false true");
    let running = util::serve(check);
    let response = util::echo_child::get(running.local_addr(), "/");
    assert_eq!(response.text(), "false true");
    running.close().unwrap();
}
