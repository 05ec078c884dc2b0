//! Refusals of malformed requests: send one with a valid request pipelined after it, check
//! the single answer (status, short plain-text body, `Connection: close`, then EOF), and
//! check that the server still serves a new connection.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Instant;

use nethttp::{Request, ResponseWriter};

use super::{connect, exchange_all, parse_all, Response};

/// Answers with the request body, so the tests can see what the server took as the body.
pub fn echo(w: &mut ResponseWriter, r: &mut Request) {
    let mut body = Vec::new();
    r.body().read_to_end(&mut body).unwrap();
    w.write_all(b"got:").unwrap();
    w.write_all(&body).unwrap();
}

/// A valid request pipelined after every malformed one: it must never be answered.
pub const NEXT: &[u8] = b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n";

/// Sends `raw` on a new connection and reads until EOF, which must come (no read timeout,
/// no reset) within a few seconds.
pub fn send(addr: SocketAddr, raw: &[u8]) -> Vec<u8> {
    let mut stream = connect(addr);
    stream.write_all(raw).expect("write");
    let started = Instant::now();
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .unwrap_or_else(|e| panic!("no clean EOF after {:?}: {e}", started.elapsed()));
    answer
}

/// Sends `raw` followed by a valid request and checks the refusal: one response with
/// `status`, a short body naming the status, `Connection: close`, then EOF. Then checks
/// that the server still serves a new connection.
pub fn refused(addr: SocketAddr, raw: &[u8], status: u16) -> Response {
    let mut bytes = raw.to_vec();
    bytes.extend_from_slice(NEXT);
    let answer = send(addr, &bytes);
    let mut responses = parse_all(&answer);
    assert_eq!(
        responses.len(),
        1,
        "{:?} got {:?}",
        String::from_utf8_lossy(raw),
        String::from_utf8_lossy(&answer)
    );
    let response = responses.remove(0);
    assert_eq!(
        response.status,
        status,
        "{:?}: {response:?}",
        String::from_utf8_lossy(raw)
    );
    assert!(response.closes(), "{response:?}");
    assert_eq!(response.framing, "length");
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    let text = response.text();
    assert!(text.starts_with(&format!("{status} ")), "{text:?}");
    assert!(text.ends_with('\n') && text.len() < 128, "{text:?}");
    still_serves(addr);
    response
}

/// A normal GET on a new connection is answered.
pub fn still_serves(addr: SocketAddr) {
    let responses = exchange_all(
        addr,
        b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(responses.len(), 1);
    assert_eq!(
        (responses[0].status, responses[0].text().as_str()),
        (200, "got:")
    );
}

/// A POST on HTTP/1.1 with `Host: x`, the header lines `lines` and the body `body`.
pub fn post(lines: &str, body: &str) -> Vec<u8> {
    format!("POST / HTTP/1.1\r\nHost: x\r\n{lines}\r\n{body}").into_bytes()
}

/// A GET on HTTP/1.1 with `Host: x` and the header lines `lines`.
pub fn get(lines: &str) -> Vec<u8> {
    format!("GET / HTTP/1.1\r\nHost: x\r\n{lines}\r\n").into_bytes()
}
