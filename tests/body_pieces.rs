//! A blocking handler's body is read from the socket straight into the pieces its reader
//! takes (`offload/feed.rs`): no more than the body, so a request sent right behind a large
//! body is served next, whole; chunked bodies' data goes the same way, their framing
//! through the read buffer.

mod util;

use std::io::{BufReader, Read, Write};
use std::thread;
use std::time::Duration;

use nethttp::{blocking, Request, ResponseWriter};
use util::{connect, read_response, serve};

/// FNV-1a's starting value.
const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a's `hash` carried on over `bytes`.
fn fnv(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Answers with the body's length and an FNV-1a hash of its bytes, read as they come.
fn digest(w: &mut ResponseWriter, r: &mut Request) {
    let mut hash = FNV_START;
    let (mut len, mut buf) = (0usize, vec![0u8; 10_000]); // an odd size: reads cross pieces
    loop {
        match r.body().read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hash = fnv(hash, &buf[..n]);
                len += n;
            }
            Err(e) => return drop(write!(w, "error {e}")),
        }
    }
    write!(w, "{} {} {len} {hash:x}", r.method(), r.uri().path()).unwrap();
}

fn expected(method: &str, path: &str, body: &[u8]) -> String {
    let hash = fnv(FNV_START, body);
    format!("{method} {path} {} {hash:x}", body.len())
}

/// Bytes no run of which looks like a request line.
fn body(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// Sends `head`, waits for the handler to take the request, then `pieces` with pauses
/// (each read then finds the input buffer empty: the read goes straight into a piece),
/// the last one with a `GET` right behind it. Returns both answers' bodies.
fn send_then_get(head: &str, pieces: &[Vec<u8>]) -> (String, String) {
    let server = serve(blocking(digest));
    let mut stream = connect(server.local_addr());
    stream.write_all(head.as_bytes()).unwrap();
    for (i, piece) in pieces.iter().enumerate() {
        thread::sleep(Duration::from_millis(20));
        let mut bytes = piece.clone();
        if i + 1 == pieces.len() {
            bytes.extend_from_slice(b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
        }
        stream.write_all(&bytes).unwrap();
    }
    let mut reader = BufReader::new(stream);
    let first = read_response(&mut reader, false).unwrap();
    let second = read_response(&mut reader, false).unwrap();
    assert_eq!((first.status, second.status), (200, 200));
    (first.text(), second.text())
}

#[test]
fn the_request_behind_a_large_body_is_not_read_into_it() {
    let data = body(1_000_003);
    let pieces: Vec<Vec<u8>> = data.chunks(150_001).map(<[u8]>::to_vec).collect();
    let head = format!(
        "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        data.len()
    );
    let (first, second) = send_then_get(&head, &pieces);
    assert_eq!(first, expected("POST", "/upload", &data));
    assert_eq!(second, expected("GET", "/next", b""));
}

#[test]
fn a_chunked_body_with_large_chunks_arrives_whole() {
    let data = body(700_000);
    let mut wire = Vec::new();
    for chunk in data.chunks(200_000) {
        write!(wire, "{:x}\r\n", chunk.len()).unwrap();
        wire.extend_from_slice(chunk);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\nX-Trailer: yes\r\n\r\n");
    // Split off the framing: some pieces end inside a chunk's data, some in its size line.
    let pieces: Vec<Vec<u8>> = wire.chunks(65_537).map(<[u8]>::to_vec).collect();
    let head = "POST /chunks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    let (first, second) = send_then_get(head, &pieces);
    assert_eq!(first, expected("POST", "/chunks", &data));
    assert_eq!(second, expected("GET", "/next", b""));
}
