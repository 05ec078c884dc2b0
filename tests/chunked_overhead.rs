//! Chunked request bodies whose framing outweighs their data (Go's limit for
//! CVE-2023-39326): a client sending endless one-byte chunks, each size line padded with
//! 4000 bytes of extension, is refused with `400` and the connection closes, after the
//! server has read a few tens of KiB, whether the handler runs inline or on the pool.

mod util;

use std::io::{self, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use nethttp::{blocking, Handler, Request, ResponseWriter, Server};
use util::refusal::{echo, still_serves};
use util::{connect, exchange_all, read_response, read_until_closed, start};

/// A chunked `POST /` head.
const CHUNKED_POST: &[u8] = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";

/// Most bytes the client may have sent when the refusal arrives: the server refuses after
/// 16 KiB of overhead and one more size line (some 20 KiB), and the client sends one chunk
/// at a time, waiting for an answer in between, so a slow server costs it a few more.
const MAX_SENT: usize = 64 * 1024;

/// How long the client waits for an answer after each chunk before sending the next.
const PAUSE: Duration = Duration::from_millis(200);

/// One byte of data behind a size line padded with 4000 bytes of extension.
fn padded_chunk() -> Vec<u8> {
    format!("1;{}\r\nx\r\n", "e".repeat(4000)).into_bytes()
}

/// Sends the head, then padded chunks one at a time with a pause for an answer after each,
/// until the server answers or closes; fails if that takes more than `MAX_SENT` bytes.
/// Returns the bytes sent and everything received up to the close.
fn send_until_refused(stream: &mut TcpStream) -> (usize, Vec<u8>) {
    stream.set_nodelay(true).unwrap();
    stream.write_all(CHUNKED_POST).unwrap();
    let chunk = padded_chunk();
    let mut sent = CHUNKED_POST.len();
    let mut answer = vec![0; 4096];
    stream.set_read_timeout(Some(PAUSE)).unwrap();
    let received = loop {
        assert!(
            sent + chunk.len() <= MAX_SENT,
            "no answer after {sent} bytes"
        );
        if stream.write_all(&chunk).is_err() {
            break 0; // closed; the answer, if any, is waiting to be read
        }
        sent += chunk.len();
        match stream.read(&mut answer) {
            Ok(n) => break n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break 0,
            Err(e) => panic!("reading the answer: {e}"),
        }
    };
    answer.truncate(received);
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let (rest, _) = read_until_closed(stream);
    answer.extend_from_slice(&rest);
    (sent, answer)
}

/// Checks the answer: one `400` naming the malformed body, `Connection: close`, then the
/// close.
fn refused(answer: &[u8]) {
    let mut reader = BufReader::new(answer);
    let response = read_response(&mut reader, false).expect("a response");
    assert_eq!(
        (response.status, response.text().as_str()),
        (400, "400 Bad Request: malformed chunked encoding\n")
    );
    assert!(response.closes(), "{:?}", response.headers);
    assert!(reader.buffer().is_empty(), "more after the refusal");
}

#[test]
fn padded_one_byte_chunks_to_an_inline_handler_are_400() {
    let server = start(Server::new(echo).threads(1));
    let mut stream = connect(server.local_addr());
    let (sent, answer) = send_until_refused(&mut stream);
    println!("inline: refused after {sent} bytes sent");
    refused(&answer);
    still_serves(server.local_addr());
    server.close().unwrap();
}

/// Reads the whole body; if the read fails, records the error's kind and writes nothing.
fn read_body(failures: Arc<Mutex<Vec<io::ErrorKind>>>) -> impl Handler {
    blocking(move |w: &mut ResponseWriter, r: &mut Request| {
        let mut body = Vec::new();
        match r.body().read_to_end(&mut body) {
            Ok(n) => {
                let _ = write!(w, "{n}");
            }
            Err(e) => failures.lock().unwrap().push(e.kind()),
        }
    })
}

#[test]
fn padded_one_byte_chunks_to_a_blocking_handler_are_400() {
    let failures = Arc::default();
    let server = start(Server::new(read_body(Arc::clone(&failures))).threads(1));
    let mut stream = connect(server.local_addr());
    let (sent, answer) = send_until_refused(&mut stream);
    println!("blocking: refused after {sent} bytes sent");
    refused(&answer);
    let deadline = Instant::now() + Duration::from_secs(5);
    while failures.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the handler's read never failed");
        thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        failures.lock().unwrap()[..],
        [io::ErrorKind::InvalidData],
        "the handler's read fails"
    );
    server.close().unwrap();
}

/// The same client with the padding left out: a byte per chunk is legitimate streaming,
/// and the whole body arrives, however many chunks it takes.
#[test]
fn one_byte_chunks_without_extensions_are_received_whole() {
    let mut raw = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\
        Connection: close\r\n\r\n"
        .to_vec();
    raw.extend_from_slice(&b"1\r\nx\r\n".repeat(50_000));
    raw.extend_from_slice(b"0\r\n\r\n");

    let inline = start(Server::new(echo).threads(1));
    let responses = exchange_all(inline.local_addr(), &raw);
    assert_eq!(responses.len(), 1, "{responses:?}");
    assert_eq!(responses[0].status, 200);
    assert_eq!(responses[0].body.len(), "got:".len() + 50_000);
    inline.close().unwrap();

    let failures = Arc::default();
    let pool = start(Server::new(read_body(Arc::clone(&failures))).threads(1));
    let responses = exchange_all(pool.local_addr(), &raw);
    assert_eq!(responses.len(), 1, "{responses:?}");
    assert_eq!(
        (responses[0].status, responses[0].text().as_str()),
        (200, "50000")
    );
    assert!(failures.lock().unwrap().is_empty());
    pool.close().unwrap();
}
