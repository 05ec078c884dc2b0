//! Malformed body framing over real sockets (Content-Length and Transfer-Encoding
//! conflicts, bad chunk sizes, bodies over the limit, unknown expectations), garbage bytes,
//! and clients that leave in the middle of a request: each refusal gets its status, a short
//! plain-text body and `Connection: close`, then the connection ends, and the server keeps
//! serving new connections.

mod util;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use nethttp::Server;
use util::refusal::{echo, post, refused, send, still_serves};
use util::{connect, exchange_all, parse_all, serve, start};

// ---- body framing ----

#[test]
fn content_length_with_transfer_encoding_is_400() {
    let server = serve(echo);
    let addr = server.local_addr();
    let r = refused(
        addr,
        &post(
            "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
            "0\r\n\r\n",
        ),
        400,
    );
    assert_eq!(
        r.text(),
        "400 Bad Request: both Transfer-Encoding and Content-Length\n"
    );
    refused(
        addr,
        &post(
            "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
            "hello",
        ),
        400,
    );
}

#[test]
fn differing_content_lengths_are_400() {
    let server = serve(echo);
    let r = refused(
        server.local_addr(),
        &post("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"),
        400,
    );
    assert_eq!(
        r.text(),
        "400 Bad Request: conflicting Content-Length headers\n"
    );
}

#[test]
fn identical_content_lengths_are_one_length() {
    let server = serve(echo);
    let responses = exchange_all(
        server.local_addr(),
        &post(
            "Content-Length: 5\r\nContent-Length: 5\r\nConnection: close\r\n",
            "hello",
        ),
    );
    assert_eq!(responses.len(), 1);
    assert_eq!(
        (responses[0].status, responses[0].text().as_str()),
        (200, "got:hello")
    );
}

#[test]
fn malformed_content_lengths_are_400() {
    let server = serve(echo);
    for value in ["+5", "-1", "5, 5", "abc", "", "0x5"] {
        let r = refused(
            server.local_addr(),
            &post(&format!("Content-Length: {value}\r\n"), "hello"),
            400,
        );
        assert_eq!(
            r.text(),
            "400 Bad Request: invalid Content-Length\n",
            "{value:?}"
        );
    }
}

#[test]
fn unknown_transfer_codings_are_501() {
    let server = serve(echo);
    for lines in [
        "Transfer-Encoding: gzip\r\n",
        "Transfer-Encoding: gzip, chunked\r\n",
        "Transfer-Encoding: identity\r\n",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
    ] {
        let r = refused(server.local_addr(), &post(lines, "0\r\n\r\n"), 501);
        assert_eq!(
            r.text(),
            "501 Not Implemented: unsupported transfer encoding\n"
        );
    }
}

#[test]
fn transfer_encoding_on_http10_is_400() {
    let server = serve(echo);
    let r = refused(
        server.local_addr(),
        b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        400,
    );
    assert_eq!(r.version, "HTTP/1.1", "refusals always answer as 1.1");
}

#[test]
fn bad_chunk_sizes_are_400() {
    let server = serve(echo);
    for body in [
        "zz\r\nhello\r\n0\r\n\r\n",
        "\r\n",
        "-5\r\nhello\r\n0\r\n\r\n",
        "5\nhello\r\n0\r\n\r\n",
        "11111111111111111\r\n",
        "5\r\nhelloXX0\r\n\r\n",
    ] {
        refused(
            server.local_addr(),
            &post("Transfer-Encoding: chunked\r\n", body),
            400,
        );
    }
}

#[test]
fn body_over_the_limit_is_413() {
    let server = start(Server::new(echo).max_body_bytes(10));
    refused(
        server.local_addr(),
        &post("Content-Length: 11\r\n", "hello world"),
        413,
    );
    refused(
        server.local_addr(),
        &post(
            "Transfer-Encoding: chunked\r\n",
            "b\r\nhello world\r\n0\r\n\r\n",
        ),
        413,
    );
}

#[test]
fn unknown_expectation_is_417() {
    let server = serve(echo);
    refused(
        server.local_addr(),
        &post("Expect: 200-ok\r\nContent-Length: 5\r\n", "hello"),
        417,
    );
}

// ---- garbage and clients that go away ----

/// Sends `raw`, half-closes, and reads to EOF: the answer must be a lone 400 or nothing.
fn garbage(addr: SocketAddr, raw: &[u8]) {
    let mut stream = connect(addr);
    stream.write_all(raw).expect("write");
    stream.shutdown(Shutdown::Write).unwrap();
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .unwrap_or_else(|e| panic!("no clean EOF for {raw:?}: {e}"));
    if !answer.is_empty() {
        let responses = parse_all(&answer);
        assert_eq!(responses.len(), 1, "{raw:?}");
        assert!(
            [400, 414, 431, 505].contains(&responses[0].status),
            "{raw:?}: {:?}",
            responses[0]
        );
        assert!(responses[0].closes());
    }
}

#[test]
fn garbage_is_refused_or_closed_never_hung() {
    let server = serve(echo);
    let addr = server.local_addr();
    for raw in [
        &b"\x00\x01\x02\x03\r\n\r\n"[..],
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", // a TLS ClientHello's start
        b"\xff\xfe\xfd\n\n",
        b"\r\n\r\n\r\n",
        b"hello",
        b"GET",
        b"GET / HTTP/1.1\r\nHost: x\r\n\xff\xff\r\n\r\n",
        b":::: ::::\r\n\r\n",
    ] {
        garbage(addr, raw);
    }
    // Pseudo-random bytes of many lengths.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for n in 0..64 {
        let len = 1 + (n * 97) % 3000;
        let raw: Vec<u8> = (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 56) as u8
            })
            .collect();
        garbage(addr, &raw);
    }
    still_serves(addr);
}

#[test]
fn garbage_with_a_blank_line_gets_400() {
    let server = serve(echo);
    refused(server.local_addr(), b"\x00\x01\x02\x03\r\n\r\n", 400);
}

#[test]
fn client_leaving_in_the_middle_of_a_head() {
    let server = serve(echo);
    let addr = server.local_addr();
    // Half a head, then a half-close: nothing is answered, the connection just ends.
    let mut stream = connect(addr);
    stream.write_all(b"GET / HTTP/1.1\r\nHo").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("clean EOF");
    assert!(answer.is_empty(), "{:?}", String::from_utf8_lossy(&answer));
    // Half a head, then the socket is dropped outright.
    let mut stream = connect(addr);
    stream
        .write_all(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Le")
        .unwrap();
    drop(stream);
    std::thread::sleep(Duration::from_millis(20));
    still_serves(addr);
}

#[test]
fn client_leaving_in_the_middle_of_a_body() {
    let server = serve(echo);
    let addr = server.local_addr();
    for raw in [
        &post("Content-Length: 100\r\n", "abc")[..],
        &post("Transfer-Encoding: chunked\r\n", "5\r\nhel")[..],
        &post("Transfer-Encoding: chunked\r\n", "5\r\nhello\r\n")[..],
        &post("Expect: 100-continue\r\nContent-Length: 10\r\n", "")[..],
    ] {
        let mut stream = connect(addr);
        stream.write_all(raw).unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).expect("clean EOF");
        // At most a `100 Continue`; never a response to a request that did not finish.
        let text = String::from_utf8_lossy(&answer);
        assert!(
            answer.is_empty() || text == "HTTP/1.1 100 Continue\r\n\r\n",
            "{text:?}"
        );
        // And the same with the socket dropped outright.
        let mut stream = connect(addr);
        stream.write_all(raw).unwrap();
        drop(stream);
    }
    std::thread::sleep(Duration::from_millis(20));
    still_serves(addr);
}

#[test]
fn many_refusals_in_parallel_leave_the_server_up() {
    let server = serve(echo);
    let addr = server.local_addr();
    let threads: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                for _ in 0..20 {
                    let raw: &[u8] = match i % 4 {
                        0 => b"GET / HTTP/1.1\r\n\r\n",
                        1 => b"GET / HTTP/2.0\r\nHost: x\r\n\r\n",
                        2 => b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
                        _ => b"GET / HTTP/1.1\r\nHost: x\r\nX: \x01\r\n\r\n",
                    };
                    let answer = send(addr, raw);
                    assert_eq!(parse_all(&answer).len(), 1);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    still_serves(addr);
}
