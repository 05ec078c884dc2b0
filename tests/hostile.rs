//! Regression tests for what the fuzz targets (`fuzz/`), the soak run and review turned up:
//! each test names the input that showed the problem.

mod util;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use nethttp::{blocking, Handler, Request, ResponseWriter, Server};
use util::{connect, exchange_all, read_response, read_until_closed, start};

/// A blocking handler that answers without reading the body.
fn ignore_body(w: &mut ResponseWriter, _r: &mut Request) {
    let _ = w.write_all(b"ignored");
}

/// `POST` with `Expect: 100-continue` to a blocking handler that never reads the body: the
/// server never asks for the body, so it cannot keep the connection (the client would send
/// the body next, or give up on it), and its answer must say so. It used to close the
/// connection after an answer without `Connection: close`, and a client that took the
/// connection as reusable lost its next request.
#[test]
fn an_unasked_continue_is_answered_with_connection_close() {
    let server = start(Server::new(blocking(ignore_body)).threads(1));
    let stream = connect(server.local_addr());
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    writer
        .write_all(
            b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
        )
        .unwrap();
    let response = read_response(&mut reader, false).unwrap();
    assert_eq!(
        (response.status, response.text().as_str()),
        (200, "ignored")
    );
    assert!(response.closes(), "{response:?}");
    let mut rest = Vec::new();
    let _ = reader
        .get_mut()
        .set_read_timeout(Some(Duration::from_secs(5)));
    let _ = reader.read_to_end(&mut rest);
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
    server.close().unwrap();
}

/// Writes `bytes` on a thread of its own, so a test can read responses while a large body
/// is still on its way. The write may fail once the server closes; that is expected.
fn write_behind(stream: &TcpStream, bytes: Vec<u8>) -> thread::JoinHandle<()> {
    let mut writer = stream.try_clone().unwrap();
    thread::spawn(move || {
        let _ = writer.write_all(&bytes);
    })
}

/// `body` framed as one chunk, then the last chunk and `trailers` (each line ending CRLF).
fn chunked(body: &[u8], trailers: &str) -> Vec<u8> {
    let mut framed = format!("{:x}\r\n", body.len()).into_bytes();
    framed.extend_from_slice(body);
    framed.extend_from_slice(format!("\r\n0\r\n{trailers}\r\n").as_bytes());
    framed
}

/// A chunked `POST /` head.
const CHUNKED_POST: &[u8] = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";

/// A blocking handler that leaves more than 256 KiB of the body unread costs the
/// connection (Go's rule), and its response must say so, whether the body's length is
/// announced or only found by draining it. It used to close after a response without
/// `Connection: close`. A small unread body is still drained and the connection kept.
#[test]
fn a_large_unread_body_is_answered_with_connection_close() {
    let server = start(Server::new(blocking(ignore_body)).threads(1));
    let addr = server.local_addr();

    // Announced: 100 MiB, of which 64 KiB is sent.
    let stream = connect(addr);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n".to_vec();
    head.extend_from_slice(&[b'a'; 64 * 1024]);
    let writer = write_behind(&stream, head);
    answered_then_closed(&mut reader, "announced length");
    writer.join().unwrap();

    // Chunked: 100 KiB unread is drained (kept), 300 KiB unread is not (closed).
    let stream = connect(addr);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut small = CHUNKED_POST.to_vec();
    small.extend_from_slice(&chunked(&[b'a'; 100 * 1024], ""));
    let writer = write_behind(&stream, small);
    let response = read_response(&mut reader, false).unwrap();
    assert!(
        !response.closes(),
        "small chunked body: {:?}",
        response.headers
    );
    writer.join().unwrap();
    let mut large = CHUNKED_POST.to_vec();
    large.extend_from_slice(&chunked(&[b'a'; 300 * 1024], ""));
    let writer = write_behind(&stream, large);
    answered_then_closed(&mut reader, "large chunked body");
    writer.join().unwrap();
    server.close().unwrap();
}

/// Reads `ignore_body`'s answer, which must say `Connection: close` and be the last thing
/// before the close.
fn answered_then_closed(reader: &mut BufReader<TcpStream>, what: &str) {
    let response = read_response(reader, false).unwrap();
    assert_eq!(
        (response.status, response.text().as_str()),
        (200, "ignored")
    );
    assert!(response.closes(), "{what}: {:?}", response.headers);
    assert!(reader.buffer().is_empty(), "more after the response");
    let (rest, _) = read_until_closed(reader.get_mut());
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
}

/// Reads the whole body and answers with its length and the trailer fields (as
/// `name=value;...`), or, if the read fails, writes nothing. Records each read's outcome.
fn body_and_trailers(reads: Reads) -> impl Handler {
    blocking(move |w: &mut ResponseWriter, r: &mut Request| {
        let mut body = Vec::new();
        let read = r.body().read_to_end(&mut body).map_err(|e| e.kind());
        reads.lock().unwrap().push(read);
        if read.is_err() {
            return;
        }
        let trailers: Vec<String> = r
            .trailers()
            .iter()
            .map(|(name, value)| format!("{name}={}", value.to_str().unwrap_or("?")))
            .collect();
        let _ = write!(w, "{} {}", body.len(), trailers.join(";"));
    })
}

/// The outcomes of a handler's body reads: the bytes read, or the error's kind.
type Reads = Arc<Mutex<Vec<Result<usize, io::ErrorKind>>>>;

/// Checks what the handler's read of a malformed body did: failed with `InvalidData`, or
/// never happened, because the loop refused the body before a pool thread took the request
/// and a request whose connection has closed is not run. Waits a moment for a handler that
/// is still reading.
fn no_malformed_body_read(reads: &Reads) {
    thread::sleep(Duration::from_millis(200));
    let reads = reads.lock().unwrap();
    assert!(
        reads
            .iter()
            .all(|read| *read == Err(io::ErrorKind::InvalidData)),
        "{reads:?}"
    );
}

/// A blocking handler sees a chunked body's trailers once it has read the body to its
/// end, as an inline handler does. They used to be dropped.
#[test]
fn a_blocking_handler_sees_the_trailers() {
    let reads = Reads::default();
    let server = start(Server::new(body_and_trailers(Arc::clone(&reads))).threads(1));
    let mut raw = CHUNKED_POST.to_vec();
    raw.extend_from_slice(&chunked(b"hello", "X-Sum: 42\r\nX-Other: a b\r\n"));
    raw.extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let responses = exchange_all(server.local_addr(), &raw);
    let texts: Vec<String> = responses.iter().map(|r| r.text()).collect();
    assert_eq!(texts, ["5 x-sum=42;x-other=a b", "0 "]);
    assert_eq!(reads.lock().unwrap()[..], [Ok(5), Ok(0)]);
    server.close().unwrap();
}

/// Malformed trailers (here a forbidden field) are refused as an inline handler's are:
/// `400` and `Connection: close`, and the blocking handler's read fails with
/// `InvalidData`. They used to go unchecked, and the connection went on.
#[test]
fn malformed_trailers_to_a_blocking_handler_are_400() {
    let reads = Reads::default();
    let server = start(Server::new(body_and_trailers(Arc::clone(&reads))).threads(1));
    let mut raw = CHUNKED_POST.to_vec();
    raw.extend_from_slice(&chunked(b"hello", "Content-Length: 5\r\n"));
    raw.extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let responses = exchange_all(server.local_addr(), &raw);
    assert_eq!(responses.len(), 1, "{responses:?}");
    assert_eq!(responses[0].status, 400, "{responses:?}");
    assert!(responses[0].closes());
    no_malformed_body_read(&reads);
    server.close().unwrap();
}

/// A malformed body (a chunk size that is not hex) sent to a blocking handler that has
/// not begun its response is answered `400` with `Connection: close`, as for an inline
/// handler, and the handler's read fails with `InvalidData`. The server used to close
/// without a word.
#[test]
fn a_malformed_body_to_a_blocking_handler_is_400() {
    let reads = Reads::default();
    let server = start(Server::new(body_and_trailers(Arc::clone(&reads))).threads(1));
    let mut raw = CHUNKED_POST.to_vec();
    raw.extend_from_slice(b"5\r\nhello\r\nzz\r\nmore\r\n0\r\n\r\n");
    raw.extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let responses = exchange_all(server.local_addr(), &raw);
    assert_eq!(responses.len(), 1, "{responses:?}");
    let response = &responses[0];
    assert_eq!(
        (response.status, response.text().as_str()),
        (400, "400 Bad Request: malformed chunked encoding\n")
    );
    assert!(response.closes());
    no_malformed_body_read(&reads);
    server.close().unwrap();
}

/// Once a blocking handler has sent its status, a malformed body can only cost the
/// connection: the response is cut off (no last chunk) and the connection closes, with no
/// `400` after it.
#[test]
fn a_malformed_body_after_the_response_began_closes_the_connection() {
    let handler = blocking(|w: &mut ResponseWriter, r: &mut Request| {
        let _ = w.write_all(b"started");
        let _ = w.flush();
        let failed = io::copy(r.body(), &mut io::sink()).is_err();
        let _ = write!(w, " failed={failed}");
    });
    let server = start(Server::new(handler).threads(1));
    let stream = connect(server.local_addr());
    let mut writer = stream.try_clone().unwrap();
    writer.write_all(CHUNKED_POST).unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line, "HTTP/1.1 200 OK\r\n");
    writer.write_all(b"5\r\nhello\r\nzz\r\n").unwrap();
    let mut rest = Vec::new();
    if let Err(e) = reader.read_to_end(&mut rest) {
        assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "not closed: {e}");
    }
    let rest = String::from_utf8_lossy(&rest);
    assert!(rest.contains("\r\n7\r\nstarted\r\n"), "{rest:?}");
    assert!(!rest.contains(" 400 "), "{rest:?}");
    assert!(!rest.ends_with("0\r\n\r\n"), "not cut off: {rest:?}");
    server.close().unwrap();
}

/// Found by the `conn` fuzz target: a client pipelines a request with a large inline answer
/// and one for a blocking handler, then closes its sending side. While the first answer
/// was still being written, the server read the end of file; once that answer was out it
/// took the client for gone and closed, dropping the blocking handler's answer.
#[test]
fn a_half_closed_client_still_gets_a_blocking_handlers_answer() {
    fn routes(w: &mut ResponseWriter, r: &mut Request) {
        match r.uri().path() {
            "/big" => w.write_all(&vec![b'z'; 100_000]).unwrap(),
            _ => w.write_all(b"from the pool").unwrap(),
        }
    }
    struct Routes;
    impl Handler for Routes {
        fn serve_http(&self, w: &mut ResponseWriter, r: &mut Request) {
            routes(w, r)
        }
        fn is_blocking(&self, r: &Request) -> bool {
            r.uri().path() == "/pool"
        }
    }
    let server = start(Server::new(Routes).threads(1));
    let mut client = connect(server.local_addr());
    client
        .write_all(
            b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n\
              GET /pool HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx",
        )
        .unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let (bytes, _) = read_until_closed(&mut client);
    let responses = util::parse_all(&bytes);
    assert_eq!(responses.len(), 2, "both answered before the close");
    assert_eq!(responses[0].body.len(), 100_000);
    assert_eq!(responses[1].body, b"from the pool");
    server.close().unwrap();
}

/// A blocking handler that starts its answer before it reads a body the client holds back
/// for `100 Continue`: the `100 Continue` must not land inside the answer (Go sends none
/// once the answer has begun), and the connection closes after the answer.
#[test]
fn no_100_continue_inside_an_answer_already_begun() {
    fn early(w: &mut ResponseWriter, r: &mut Request) {
        w.write_all(b"early ").unwrap();
        w.flush().unwrap();
        thread::sleep(Duration::from_millis(100)); // the first piece is on the wire
        let mut body = Vec::new();
        let _ = r.body().read_to_end(&mut body);
        let _ = write!(w, "then {} bytes", body.len());
    }
    let server = start(Server::new(blocking(early)).threads(1));
    let mut client = connect(server.local_addr());
    client
        .write_all(
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n",
        )
        .unwrap();
    // The client gives up waiting for 100 Continue and sends the body, as curl does.
    thread::sleep(Duration::from_millis(400));
    client.write_all(b"body").unwrap();
    let (bytes, _) = read_until_closed(&mut client);
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text:?}");
    assert!(!text.contains("100 Continue"), "{text:?}");
    let response = read_response(&mut BufReader::new(&bytes[..]), false).unwrap();
    assert!(response.closes(), "{:?}", response.headers);
    assert_eq!(response.text(), "early then 4 bytes");
    server.close().unwrap();
}
