//! The PROXY protocol (`Server::proxy_protocol`): a balancer's v1 or v2 header before the
//! first request gives the requests the client's address; a bad or missing header closes
//! the connection without an answer, and other connections are served on.

mod util;

use std::io::Write;
use std::time::Duration;

use nethttp::{Request, ResponseWriter, Server};

fn whoami(w: &mut ResponseWriter, r: &mut Request) {
    let _ = write!(w, "{}", r.remote_addr());
}

fn server() -> nethttp::Running {
    util::start(
        Server::new(whoami)
            .proxy_protocol(true)
            .read_header_timeout(Duration::from_millis(500)),
    )
}

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

/// A v2 header: PROXY, TCP over IPv4, from `src:sport` to `dst:dport`.
fn v2_tcp4(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> Vec<u8> {
    let mut h = b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c".to_vec();
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(&sport.to_be_bytes());
    h.extend_from_slice(&dport.to_be_bytes());
    h
}

fn answer(server: &nethttp::Running, bytes: &[u8]) -> Vec<u8> {
    util::exchange(server.local_addr(), bytes)
}

#[test]
fn v1_and_v2_headers_give_the_clients_address() {
    let server = server();
    let v1 = [&b"PROXY TCP4 203.0.113.7 192.0.2.1 51000 80\r\n"[..], GET].concat();
    let body = util::parse_all(&answer(&server, &v1)).remove(0).text();
    assert_eq!(body, "203.0.113.7:51000");
    let v6 = [&b"PROXY TCP6 2001:db8::7 2001:db8::1 4711 443\r\n"[..], GET].concat();
    assert_eq!(
        util::parse_all(&answer(&server, &v6)).remove(0).text(),
        "[2001:db8::7]:4711"
    );
    let v2 = [
        v2_tcp4([198, 51, 100, 9], 40000, [10, 0, 0, 1], 8080),
        GET.to_vec(),
    ]
    .concat();
    assert_eq!(
        util::parse_all(&answer(&server, &v2)).remove(0).text(),
        "198.51.100.9:40000"
    );
    // The balancer's own health check: LOCAL keeps the socket's address.
    let local = [&b"\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00"[..], GET].concat();
    assert!(util::parse_all(&answer(&server, &local))
        .remove(0)
        .text()
        .starts_with("127.0.0.1:"));
    // The header may come a byte at a time.
    let mut c = util::connect(server.local_addr());
    for b in &v1 {
        c.write_all(&[*b]).unwrap();
    }
    let (bytes, _) = util::read_until_closed(&mut c);
    assert_eq!(
        util::parse_all(&bytes).remove(0).text(),
        "203.0.113.7:51000"
    );
    server.close().unwrap();
}

#[test]
fn bad_or_missing_headers_close_the_connection_without_an_answer() {
    let server = server();
    let bad: [&[u8]; 6] = [
        GET, // no header: never guess
        b"PROXY TCP4 203.0.113.7 192.0.2.1 51000\r\nGET / HTTP/1.1\r\n\r\n",
        b"PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n",
        b"proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
        b"\r\n\r\n\0\r\nQUIT\n\x31\x11\x00\x0c012345678901",
        b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x04abcd",
    ];
    for raw in bad {
        assert!(
            answer(&server, raw).is_empty(),
            "answered {:?}",
            String::from_utf8_lossy(raw)
        );
    }
    // A header that never ends is closed at the header timeout.
    let mut slow = util::connect(server.local_addr());
    slow.write_all(b"PROXY TCP4 1.2.3.4").unwrap();
    let (bytes, _) = util::read_until_closed(&mut slow);
    assert!(bytes.is_empty());
    let good = [&b"PROXY TCP4 203.0.113.7 192.0.2.1 51000 80\r\n"[..], GET].concat();
    assert_eq!(
        util::parse_all(&answer(&server, &good)).remove(0).status,
        200
    );
    server.close().unwrap();
}
