//! HTTPS on the loop (feature `tls`): what works over plain HTTP works over TLS, with a
//! rustls client over real sockets. `tests/tls_clients.sh` adds curl, Python's `ssl` and
//! `openssl s_client`.
#![cfg(feature = "tls")]

mod util;

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use nethttp::tls::rustls;
use nethttp::{blocking, Request, ResponseWriter, Server};
use util::tls::{self as client, Client};
use util::{read_response, read_until_closed};

/// A server of `handler` over TLS with the test certificate.
fn serve_tls(handler: impl nethttp::Handler) -> nethttp::Running {
    util::start(Server::new(handler).threads(2).tls(client::config()))
}

/// Reads one response from a TLS client.
fn response(client: &mut Client) -> util::Response {
    let mut reader = BufReader::with_capacity(1, client);
    read_response(&mut reader, false).expect("response")
}

/// Echoes the request body back (inline: the server collects it first).
fn echo(w: &mut ResponseWriter, r: &mut Request) {
    let mut body = Vec::new();
    r.body().read_to_end(&mut body).unwrap();
    w.write_all(&body).unwrap();
}

#[test]
fn keep_alive_requests_share_one_session_with_alpn_http11() {
    let server = serve_tls(util::hello);
    let mut c = client::connect(server.local_addr());
    assert_eq!(c.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
    for _ in 0..3 {
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let r = response(&mut c);
        assert_eq!((r.status, r.text().as_str()), (200, "Hello, World!"));
    }
    server.close().unwrap();
}

#[test]
fn tls12_clients_are_served() {
    let server = serve_tls(util::hello);
    let config = client::client_config(&[&rustls::version::TLS12]);
    let mut c = client::connect_with(server.local_addr(), config);
    assert_eq!(
        c.conn.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(response(&mut c).status, 200);
    server.close().unwrap();
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = serve_tls(|w: &mut ResponseWriter, r: &mut Request| {
        let _ = w.write_all(r.uri().path().as_bytes());
    });
    let mut c = client::connect(server.local_addr());
    let mut batch = Vec::new();
    for i in 0..20 {
        batch.extend_from_slice(format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    }
    c.write_all(&batch).unwrap();
    for i in 0..20 {
        assert_eq!(response(&mut c).text(), format!("/{i}"));
    }
    server.close().unwrap();
}

#[test]
fn bodies_go_both_ways_inline_and_blocking() {
    let mut mux = nethttp::ServeMux::new();
    mux.handle("/inline", echo);
    mux.handle("/blocking", blocking(echo));
    let server = serve_tls(mux);
    let body: Vec<u8> = (0..3 << 20).map(|i: u32| (i % 251) as u8).collect();
    for path in ["/inline", "/blocking"] {
        let mut c = client::connect(server.local_addr());
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        c.write_all(head.as_bytes()).unwrap();
        c.write_all(&body).unwrap();
        let r = response(&mut c);
        assert_eq!(r.status, 200, "{path}");
        assert!(r.body == body, "{path}: {} bytes back", r.body.len());
    }
    server.close().unwrap();
}

#[test]
fn a_large_blocking_response_streams_to_a_slow_reader() {
    let server = serve_tls(blocking(|w: &mut ResponseWriter, _r: &mut Request| {
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..128 {
            w.write_all(&chunk).unwrap();
        }
    }));
    let mut c = client::connect(server.local_addr());
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300)); // the server fills the socket and waits
    let all = client::read_to_close_notify(&mut c).expect("close_notify at the end");
    let r = util::parse_all(&all).remove(0);
    assert_eq!(r.body.len(), 8 << 20);
    server.close().unwrap();
}

#[test]
fn expect_100_continue_is_answered_before_the_body() {
    let server = serve_tls(echo);
    let mut c = client::connect(server.local_addr());
    c.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        .unwrap();
    assert_eq!(response(&mut c).status, 100);
    c.write_all(b"hello").unwrap();
    assert_eq!(response(&mut c).text(), "hello");
    server.close().unwrap();
}

#[test]
fn plain_http_gets_gos_answer_and_a_close() {
    let server = serve_tls(util::hello);
    let answer = util::exchange(server.local_addr(), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(
        String::from_utf8_lossy(&answer),
        "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"
    );
    // The server goes on serving TLS.
    let mut c = client::connect(server.local_addr());
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(response(&mut c).status, 200);
    server.close().unwrap();
}

#[test]
fn garbage_and_bad_hellos_get_an_alert_and_a_close() {
    let server = serve_tls(util::hello);
    let addr = server.local_addr();
    let bad: [&[u8]; 4] = [
        b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09",
        // A handshake record holding a truncated ClientHello.
        b"\x16\x03\x01\x00\x08\x01\x00\x00\x04\x03\x03\x00\x00",
        // A ClientHello from SSL 3.0 (record version 3.0, client version 3.0).
        b"\x16\x03\x00\x00\x2f\x01\x00\x00\x2b\x03\x00\
          \x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\
          \x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\
          \x00\x00\x04\x00\x2f\x00\x35\x01\x00",
        // Application data before any handshake.
        b"\x17\x03\x03\x00\x05hello",
    ];
    for raw in bad {
        let mut socket = util::connect(addr);
        socket.write_all(raw).unwrap();
        let (answer, _) = read_until_closed(&mut socket);
        assert_eq!(
            answer.first(),
            Some(&0x15),
            "an alert record, not {answer:?}"
        );
    }
    let mut c = client::connect(addr);
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(response(&mut c).status, 200);
    server.close().unwrap();
}

#[test]
fn a_stalled_handshake_is_closed_at_the_header_timeout() {
    let server = util::start(
        Server::new(util::hello)
            .threads(1)
            .read_header_timeout(Duration::from_millis(300))
            .tls(client::config()),
    );
    let began = Instant::now();
    let mut silent = util::connect(server.local_addr());
    let mut half = util::connect(server.local_addr());
    half.write_all(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        .unwrap(); // the start of a ClientHello, then nothing
    for socket in [&mut silent, &mut half] {
        let (_, closed) = read_until_closed(socket);
        let waited = closed - began;
        assert!(waited >= Duration::from_millis(250), "{waited:?}");
        assert!(waited < Duration::from_secs(3), "{waited:?}");
    }
    server.close().unwrap();
}

#[test]
fn graceful_shutdown_sends_close_notify_to_idle_connections() {
    let server = serve_tls(util::hello);
    let mut c = client::connect(server.local_addr());
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(response(&mut c).status, 200);
    let handle = server.handle();
    let waiter = std::thread::spawn(move || server.shutdown(Duration::from_secs(5)));
    let rest = client::read_to_close_notify(&mut c).expect("close_notify, not a bare close");
    assert!(rest.is_empty());
    waiter.join().unwrap().unwrap();
    drop(handle);
}

#[test]
fn a_replaced_certificate_is_served_to_new_connections() {
    let certs = client::certificates();
    let server = util::start(
        Server::new(util::hello)
            .threads(1)
            .tls(nethttp::tls::server_config(certs.clone())),
    );
    let subject = |c: &Client| {
        let leaf = &c.conn.peer_certificates().unwrap()[0];
        String::from_utf8_lossy(leaf.as_ref()).contains("(renewed)")
    };
    let mut before = client::connect(server.local_addr());
    assert!(!subject(&before));
    certs
        .reload(client::file("renewed.pem"), client::file("renewed-key.pem"))
        .unwrap();
    let after = client::connect(server.local_addr());
    assert!(subject(&after));
    // A bad file leaves the certificate in place.
    assert!(certs
        .reload(client::file("ca.pem"), client::file("missing.pem"))
        .is_err());
    assert!(subject(&client::connect(server.local_addr())));
    // The connection from before goes on with its session.
    before
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(response(&mut before).status, 200);
    server.close().unwrap();
}

#[test]
fn files_are_served_whole_and_in_ranges() {
    let dir = util::TempDir::new("tls-files");
    let data: Vec<u8> = (0..5 << 20).map(|i: u32| (i * 7 % 256) as u8).collect();
    std::fs::write(dir.0.join("big.bin"), &data).unwrap();
    let server = serve_tls(nethttp::file_server(&dir.0));
    let mut c = client::connect(server.local_addr());
    c.write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let r = response(&mut c);
    assert_eq!(r.status, 200);
    assert!(r.body == data, "{} bytes", r.body.len());
    c.write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=1000-1999\r\n\r\n")
        .unwrap();
    let r = response(&mut c);
    assert_eq!(r.status, 206);
    assert!(r.body == data[1000..2000]);
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert!(response(&mut c).text().contains("big.bin"));
    server.close().unwrap();
}

#[test]
fn a_client_reset_mid_handshake_disturbs_no_one() {
    let server = serve_tls(util::hello);
    let addr = server.local_addr();
    for _ in 0..20 {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"\x16\x03\x01\x02\x00\x01\x00").unwrap();
        drop(s);
    }
    let mut c = client::connect(addr);
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(response(&mut c).status, 200);
    server.close().unwrap();
}

#[test]
fn idle_tls_sessions_count_against_the_memory_budget() {
    let server = util::start(Server::new(util::hello).threads(1).tls(client::config()));
    let before = server.memory().held;
    let mut clients = Vec::new();
    for _ in 0..8 {
        let mut c = client::connect(server.local_addr());
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(response(&mut c).status, 200);
        clients.push(c);
    }
    // Each idle session is counted (its own buffers are given back, rustls's state is not).
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.memory().held < before + 8 * 4096 {
        assert!(Instant::now() < deadline, "held {}", server.memory().held);
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(clients);
    while server.memory().held > before {
        assert!(
            Instant::now() < deadline,
            "held {} after the close",
            server.memory().held
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    server.close().unwrap();
}

#[test]
fn a_proxy_protocol_header_may_come_before_the_handshake() {
    let server = util::start(
        Server::new(|w: &mut ResponseWriter, r: &mut Request| {
            let _ = write!(w, "{}", r.remote_addr());
        })
        .proxy_protocol(true)
        .tls(client::config()),
    );
    for pause in [false, true] {
        let mut tcp = TcpStream::connect(server.local_addr()).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        tcp.write_all(b"PROXY TCP4 203.0.113.7 192.0.2.1 51000 443\r\n")
            .unwrap();
        if pause {
            std::thread::sleep(Duration::from_millis(50)); // the header alone in a read
        }
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let session =
            rustls::ClientConnection::new(client::client_config(rustls::ALL_VERSIONS), name)
                .unwrap();
        let mut c = rustls::StreamOwned::new(session, tcp);
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(
            response(&mut c).text(),
            "203.0.113.7:51000",
            "pause {pause}"
        );
    }
    // Without the header, the handshake is not guessed at: the connection closes.
    let mut bare = util::connect(server.local_addr());
    bare.write_all(b"\x16\x03\x01\x00\x05hello").unwrap();
    let (answer, _) = read_until_closed(&mut bare);
    assert!(answer.is_empty());
    server.close().unwrap();
}

#[test]
fn a_file_truncated_while_sent_over_tls_is_cut_off() {
    const LEN: usize = 16 << 20;
    let dir = util::TempDir::new("tls-truncated");
    std::fs::write(dir.0.join("big.bin"), vec![7u8; LEN]).unwrap();
    let server = serve_tls(nethttp::file_server(&dir.0));
    let mut c = client::connect(server.local_addr());
    util::download_truncated_midway(&mut c, &dir.0.join("big.bin"), LEN);
    server.close().unwrap();
}
