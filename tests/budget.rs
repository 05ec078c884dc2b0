//! The memory budget over real sockets: large bodies wait for room while small requests go
//! ahead, nothing waiting is lost, the figures are exposed, the body limit cannot pass the
//! budget; and the memory of large buffers leaves the process when they are freed.

mod util;

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use http::header::CONTENT_LENGTH;
use http::HeaderValue;
use nethttp::{Request, ResponseWriter, Running, Server};
use util::memory::{alone, rss, shared};
use util::{connect, hello, read_response, start};

/// `/` says hello; anything else echoes its body (inline), written from the bytes received.
fn routes(w: &mut ResponseWriter, r: &mut Request) {
    if r.path() == "/" {
        return hello(w, r);
    }
    let body = r.body().remaining();
    w.headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    w.write_all(body).unwrap();
}

/// Byte `i` of client `c`'s body.
fn pattern(c: usize, len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 31 + c * 7) % 251) as u8).collect()
}

fn post_head(len: usize) -> Vec<u8> {
    format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {len}\r\n\r\n").into_bytes()
}

/// Polls `f` every 10 ms for up to 5 s until it holds.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !f() {
        assert!(Instant::now() < deadline, "never: {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

/// Sends `wire` on `stream` from another thread while reading the answer here: true if it
/// is a 200 whose body is `expected`.
fn sends_and_gets_back(mut stream: TcpStream, wire: Vec<u8>, expected: &[u8]) -> bool {
    let mut writer = stream.try_clone().unwrap();
    let sender = thread::spawn(move || writer.write_all(&wire));
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let answer = read_response(&mut BufReader::new(&mut stream), false).unwrap();
    sender.join().unwrap().unwrap();
    answer.status == 200 && answer.body == expected
}

#[test]
fn large_bodies_wait_for_room_small_requests_go_ahead_and_nothing_is_lost() {
    let _shared = shared();
    const BUDGET: usize = 1 << 20;
    const BODY: usize = 300 * 1024;
    const CLIENTS: usize = 8;
    let server = start(Server::new(routes).threads(2).max_memory(BUDGET));
    let addr = server.local_addr();
    assert_eq!(server.memory().budget, BUDGET);

    // Each client sends its head and the first 10 KB, then stops until told to go on.
    let mut clients: Vec<(TcpStream, Vec<u8>)> = (0..CLIENTS)
        .map(|c| {
            let mut stream = connect(addr);
            let body = pattern(c, BODY);
            stream.write_all(&post_head(BODY)).unwrap();
            stream.write_all(&body[..10_000]).unwrap();
            (stream, body)
        })
        .collect();
    // Three bodies fit in the budget at most: the others wait, and say so.
    eventually("clients wait for memory", || {
        server.memory().waiting >= CLIENTS - 3
    });
    let stats = server.memory();
    assert!(stats.held <= BUDGET + 64 * 1024, "{stats:?}");

    // A small request on another connection is answered meanwhile.
    let mut probe = connect(addr);
    probe
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let answer = read_response(&mut BufReader::new(&probe), false).unwrap();
    assert_eq!(
        (answer.status, &answer.body[..]),
        (200, &b"Hello, World!"[..])
    );
    assert!(server.memory().waiting >= CLIENTS - 3, "they still wait");

    // Every client sends the rest and gets its whole body back, byte for byte.
    let readers: Vec<_> = clients
        .drain(..)
        .map(|(stream, body)| {
            thread::spawn(move || sends_and_gets_back(stream, body[10_000..].to_vec(), &body))
        })
        .collect();
    for reader in readers {
        assert!(reader.join().unwrap(), "an echo came back wrong");
    }
    drop(probe);
    eventually("memory given back", || {
        let stats = server.memory();
        stats.held == 0 && stats.waiting == 0
    });
    server.close().unwrap();
}

#[test]
fn the_body_limit_cannot_pass_the_budget() {
    let _shared = shared();
    let server = start(Server::new(routes).threads(1).max_memory(1 << 20));
    let mut stream = connect(server.local_addr());
    stream.write_all(&post_head(2 << 20)).unwrap();
    let answer = read_response(&mut BufReader::new(&stream), false).unwrap();
    assert_eq!(answer.status, 413);
    server.close().unwrap();
}

/// Sends `CLIENTS` bodies of `BODY` bytes at once and reads the echoes, comparing them as
/// they stream, with no client holding a whole body.
fn echo_flood(server: &Running, clients: usize, len: usize) {
    let addr = server.local_addr();
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            thread::spawn(move || {
                let body = pattern(c, 64 * 1024);
                let mut stream = connect(addr);
                let mut writer = stream.try_clone().unwrap();
                let sender = thread::spawn(move || {
                    writer.write_all(&post_head(len))?;
                    for i in (0..len).step_by(body.len()) {
                        writer.write_all(&body[..body.len().min(len - i)])?;
                    }
                    Ok::<_, std::io::Error>(())
                });
                let mut reader = BufReader::new(&mut stream);
                let mut line = String::new();
                while {
                    line.clear();
                    std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
                    line != "\r\n"
                } {}
                let mut echoed = vec![0u8; 64 * 1024];
                let expected = pattern(c, 64 * 1024);
                for i in (0..len).step_by(echoed.len()) {
                    let n = echoed.len().min(len - i);
                    reader.read_exact(&mut echoed[..n]).unwrap();
                    assert_eq!(echoed[..n], expected[..n], "client {c} at {i}");
                }
                sender.join().unwrap().unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn the_memory_of_large_bodies_leaves_the_process_when_they_are_done() {
    let _alone = alone();
    let server = start(Server::new(routes).threads(2));
    echo_flood(&server, 2, 1 << 20); // warm: threads, pools, code
    thread::sleep(Duration::from_millis(200));
    let before = rss();
    for _ in 0..3 {
        echo_flood(&server, 8, 8 << 20);
    }
    let stats = server.memory();
    eventually("memory given back", || server.memory().held == 0);
    thread::sleep(Duration::from_millis(200));
    let after = rss();
    let grown = after.saturating_sub(before);
    assert!(
        grown < 8 << 20,
        "RSS {before} -> {after} after 24 echoes of 8 MiB ({stats:?})"
    );
    server.close().unwrap();
}

#[test]
fn chunked_bodies_reserve_up_to_the_body_limit_and_wait_their_turn() {
    let _shared = shared();
    let server = start(
        Server::new(routes)
            .threads(2)
            .max_memory(2 << 20)
            .max_body_bytes(1 << 20),
    );
    let addr = server.local_addr();
    let clients: Vec<_> = (0..4)
        .map(|c| {
            thread::spawn(move || {
                let body = pattern(c, 300 * 1024);
                let mut wire =
                    b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                        .to_vec();
                for piece in body.chunks(10_000) {
                    wire.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                    wire.extend_from_slice(piece);
                    wire.extend_from_slice(b"\r\n");
                }
                wire.extend_from_slice(b"0\r\n\r\n");
                sends_and_gets_back(connect(addr), wire, &body)
            })
        })
        .collect();
    for client in clients {
        assert!(client.join().unwrap(), "a chunked echo came back wrong");
    }
    eventually("memory given back", || server.memory().held == 0);
    server.close().unwrap();
}

/// Blocking handlers that sleep hold nothing in the budget: a large inline body does not
/// wait for them. (They used to count their channels' whole capacity, some 170 KiB each,
/// from the start: twenty sleepers filled a 1 MiB budget.)
#[test]
fn sleeping_blocking_handlers_do_not_hold_up_large_bodies() {
    let _shared = shared();
    let mut mux = nethttp::ServeMux::new();
    mux.handle(
        "/sleep",
        nethttp::blocking(|w: &mut ResponseWriter, _r: &mut Request| {
            thread::sleep(Duration::from_millis(2000));
            let _ = w.write_all(b"slept");
        }),
    );
    mux.handle("/echo", routes);
    let server = start(Server::new(mux).max_memory(1 << 20));
    let addr = server.local_addr();
    let sleepers: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut s = connect(addr);
            s.write_all(b"GET /sleep HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            s
        })
        .collect();
    thread::sleep(Duration::from_millis(300)); // all twenty are on the pool
    let len = 200_000;
    let body = pattern(0, len);
    let mut wire = post_head(len);
    wire.extend_from_slice(&body);
    let started = Instant::now();
    assert!(sends_and_gets_back(connect(addr), wire, &body));
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "the body waited {:?} for the sleepers",
        started.elapsed()
    );
    drop(sleepers);
    server.close().unwrap();
}
