//! A blocking handler's client that leaves does not keep a pool thread: the loop sees the
//! end of file (or the reset) while the handler is at work, closes the connection, and the
//! handler's next write fails, even for a `HEAD` response whose body never reaches the
//! socket; a request whose client leaves while it waits in the pool's queue never runs.

mod util;

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use nethttp::{blocking, ConnState, Request, ResponseWriter, Running, Server};
use util::{connect, read_response, start};

/// A handler that streams one byte every 10 ms until a write fails, then says so.
fn endless(ended: mpsc::Sender<()>) -> impl nethttp::Handler {
    let ended = Mutex::new(ended);
    blocking(move |w: &mut ResponseWriter, _r: &mut Request| {
        while w.write_all(b"x").and_then(|()| w.flush()).is_ok() {
            thread::sleep(Duration::from_millis(10));
        }
        ended.lock().unwrap().send(()).unwrap();
    })
}

/// A server whose handler streams endlessly, and word of each time it stops.
fn endless_server() -> (Running, mpsc::Receiver<()>) {
    let (ended_tx, ended) = mpsc::channel();
    (start(Server::new(endless(ended_tx))), ended)
}

/// Sends `HEAD /` (then closes the sending side, if `half_close`) and reads the `200`.
fn head_answered(server: &Running, half_close: bool) -> TcpStream {
    let client = connect(server.local_addr());
    (&client)
        .write_all(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    if half_close {
        client.shutdown(std::net::Shutdown::Write).unwrap();
    }
    let head = read_response(&mut BufReader::new(&client), true).unwrap();
    assert_eq!(head.status, 200);
    client
}

#[test]
fn a_head_request_to_an_endless_stream_ends_when_its_client_leaves() {
    let (server, ended) = endless_server();
    let client = head_answered(&server, false);
    assert!(
        ended.recv_timeout(Duration::from_millis(300)).is_err(),
        "the handler streams while its client stays"
    );
    drop(client);
    ended
        .recv_timeout(Duration::from_secs(2))
        .expect("the handler's writes fail once its client has left");
    server.close().unwrap();
}

/// A client that half-closes right after its `HEAD` (as `nc -N` does) counts as waiting
/// for its answer; once the head is out, it has it all, and the handler is stopped.
#[test]
fn a_head_request_half_closed_at_once_ends_once_its_head_is_out() {
    let (server, ended) = endless_server();
    let _client = head_answered(&server, true);
    ended
        .recv_timeout(Duration::from_secs(2))
        .expect("the handler's writes fail once the head is out");
    server.close().unwrap();
}

#[test]
fn a_get_to_an_endless_stream_ends_when_its_client_leaves() {
    let (server, ended) = endless_server();
    let mut client = connect(server.local_addr());
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    thread::sleep(Duration::from_millis(300)); // an end of file sooner is a half-close
    client.shutdown(std::net::Shutdown::Write).unwrap(); // gives up, still readable
    ended
        .recv_timeout(Duration::from_secs(2))
        .expect("the handler's writes fail once its client has stopped waiting");
    server.close().unwrap();
}

/// Counts the closes the `conn_state` hook reports.
fn counting_closes(server: Server) -> (Server, Arc<AtomicUsize>) {
    let closed = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&closed);
    let server = server.conn_state(move |_: SocketAddr, state: ConnState| {
        if state == ConnState::Closed {
            count.fetch_add(1, Ordering::SeqCst);
        }
    });
    (server, closed)
}

fn wait_until(what: &str, within: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_request_whose_client_left_while_queued_never_runs() {
    let runs = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&runs);
    let handler = blocking(move |w: &mut ResponseWriter, r: &mut Request| {
        let path = r.uri().path().to_owned();
        seen.lock().unwrap().push(path.clone());
        if path == "/busy" {
            thread::sleep(Duration::from_millis(1000));
        }
        let _ = w.write_all(path.as_bytes());
    });
    let (server, closed) = counting_closes(Server::new(handler).blocking_threads(1));
    let server = start(server);
    let addr = server.local_addr();

    let busy = thread::spawn(move || {
        let client = connect(addr);
        (&client)
            .write_all(b"GET /busy HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        read_response(&mut BufReader::new(&client), false).unwrap()
    });
    wait_until("the busy request runs", Duration::from_secs(2), || {
        !runs.lock().unwrap().is_empty()
    });
    let mut quitter = connect(addr);
    quitter
        .write_all(b"GET /quitter HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    thread::sleep(Duration::from_millis(300)); // queued behind /busy
    drop(quitter);
    wait_until(
        "the quitter's connection is closed while /busy still runs",
        Duration::from_millis(400),
        || closed.load(Ordering::SeqCst) == 1,
    );

    assert_eq!(busy.join().unwrap().body, b"/busy");
    let started = Instant::now();
    let after = util::exchange_all(
        addr,
        b"GET /after HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(after[0].body, b"/after");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "a new request does not wait behind one for nobody"
    );
    assert_eq!(runs.lock().unwrap()[..], ["/busy", "/after"]);
    server.close().unwrap();
}
