//! Request bodies (Content-Length, chunked, split, pipelined, `Expect`, limits) and response
//! bodies (Content-Length, chunked after a flush, close-delimited on HTTP/1.0), plus the
//! request-target forms that bypass the usual path: absolute form and `OPTIONS *`.

mod util;

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use nethttp::{Request, ResponseWriter, Running, Server};
use util::{connect, exchange, exchange_all, read_response, start, Response};

/// Routes of the test application:
/// - `/echo`: answers with the request body; `X-Trailers` lists the trailer fields;
/// - `/flush`: writes `hello`, flushes, writes ` world`;
/// - `/where`: answers `<host> <path>`;
/// - anything else: answers with the path.
fn app(w: &mut ResponseWriter, r: &mut Request) {
    match r.path() {
        "/echo" => {
            let mut body = Vec::new();
            r.body().read_to_end(&mut body).unwrap();
            let trailers: Vec<String> = r
                .trailers()
                .iter()
                .map(|(name, value)| format!("{name}={}", value.to_str().unwrap()))
                .collect();
            w.headers_mut()
                .insert("x-trailers", trailers.join(";").parse().unwrap());
            w.write_all(&body).unwrap();
        }
        "/flush" => {
            w.write_all(b"hello").unwrap();
            w.flush().unwrap();
            w.write_all(b" world").unwrap();
        }
        "/where" => {
            let answer = format!("{} {}", r.host(), r.path());
            w.write_all(answer.as_bytes()).unwrap();
        }
        path => {
            let path = path.to_string();
            w.write_all(path.as_bytes()).unwrap();
        }
    }
}

/// Starts `app` (two loops, then `configure`) and counts the handler's calls.
fn start_counting(configure: impl FnOnce(Server) -> Server) -> (Running, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let handler = move |w: &mut ResponseWriter, r: &mut Request| {
        counter.fetch_add(1, Ordering::SeqCst);
        app(w, r);
    };
    (start(configure(Server::new(handler).threads(2))), calls)
}

fn serve_app() -> Running {
    start_counting(|s| s).0
}

fn post(path: &str, body: &[u8]) -> Vec<u8> {
    let mut raw = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(body);
    raw
}

const GET_CLOSE: &[u8] = b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

fn one(stream: &mut BufReader<TcpStream>) -> Response {
    read_response(stream, false).expect("a response")
}

#[test]
fn content_length_bodies_are_received_whole() {
    let server = serve_app();
    let large: Vec<u8> = (0..100_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut raw = post("/echo", b"hello world");
    raw.extend(post("/echo", &large));
    raw.extend_from_slice(GET_CLOSE);
    let responses = exchange_all(server.local_addr(), &raw);
    assert_eq!(responses.len(), 3);
    assert_eq!(responses[0].text(), "hello world");
    assert_eq!(responses[0].header("content-length"), Some("11"));
    assert_eq!(
        responses[1].body, large,
        "a body larger than the read buffer"
    );
    assert_eq!(responses[2].text(), "/last");
    server.close().unwrap();
}

#[test]
fn chunked_body_with_extensions_and_trailers() {
    let server = serve_app();
    let raw =
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n\
        5;name=value\r\nhello\r\n6;flag\r\n world\r\nA\r\n, chunked!\r\n0;last=1\r\n\
        X-Sum: 42\r\nX-Other: a b\r\n\r\n";
    let mut all = raw.to_vec();
    all.extend_from_slice(GET_CLOSE);
    let responses = exchange_all(server.local_addr(), &all);
    assert_eq!(responses.len(), 2, "{responses:?}");
    assert_eq!(responses[0].status, 200);
    assert_eq!(responses[0].text(), "hello world, chunked!");
    assert_eq!(
        responses[0].header("x-trailers"),
        Some("x-sum=42;x-other=a b")
    );
    assert_eq!(
        responses[1].text(),
        "/last",
        "the next request follows the trailers"
    );
    server.close().unwrap();
}

#[test]
fn bodies_split_across_many_writes() {
    let server = serve_app();
    let stream = connect(server.local_addr());
    stream.set_nodelay(true).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);

    let body: Vec<u8> = (0..300u32).map(|i| b'0' + (i % 10) as u8).collect();
    for piece in post("/echo", &body).chunks(7) {
        writer.write_all(piece).unwrap();
    }
    assert_eq!(one(&mut reader).body, body);

    let chunked = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
        3;x=y\r\nabc\r\n4\r\ndefg\r\n0\r\nX-T: v\r\n\r\n";
    for byte in chunked.iter() {
        writer.write_all(std::slice::from_ref(byte)).unwrap();
    }
    let response = one(&mut reader);
    assert_eq!(response.text(), "abcdefg");
    assert_eq!(response.header("x-trailers"), Some("x-t=v"));
    server.close().unwrap();
}

#[test]
fn a_body_then_the_next_pipelined_request() {
    let server = serve_app();
    let mut raw = post("/echo", b"first body");
    raw.extend_from_slice(b"GET /second HTTP/1.1\r\nHost: x\r\n\r\n");
    raw.extend_from_slice(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nGET \r\n0\r\n\r\n",
    );
    raw.extend_from_slice(GET_CLOSE);
    let responses = exchange_all(server.local_addr(), &raw);
    let texts: Vec<String> = responses.iter().map(Response::text).collect();
    assert_eq!(texts, ["first body", "/second", "GET ", "/last"]);
    server.close().unwrap();
}

#[test]
fn expect_100_continue_is_answered_before_the_body_is_sent() {
    let (server, calls) = start_counting(|s| s);
    let stream = connect(server.local_addr());
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    writer
        .write_all(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
        )
        .unwrap();
    let interim = one(&mut reader);
    assert_eq!(
        (interim.version.as_str(), interim.status),
        ("HTTP/1.1", 100)
    );
    assert_eq!(interim.reason, "Continue");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "the handler waits for the body"
    );
    writer.write_all(b"hello").unwrap();
    let last = one(&mut reader);
    assert_eq!((last.status, last.text().as_str()), (200, "hello"));
    assert!(!last.closes());

    // No body announced: no 100, straight to the final response.
    writer
        .write_all(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap();
    assert_eq!(one(&mut reader).status, 200);
    // HTTP/1.0 clients do not know 100 Continue.
    writer
        .write_all(b"POST /echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi")
        .unwrap();
    let old = one(&mut reader);
    assert_eq!((old.status, old.text().as_str()), (200, "hi"));
    server.close().unwrap();
}

#[test]
fn unknown_expectation_is_refused_with_417() {
    let (server, calls) = start_counting(|s| s);
    let raw = b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\nContent-Length: 5\r\n\r\nhello";
    let responses = exchange_all(server.local_addr(), raw);
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].status, 417);
    assert!(responses[0].closes());
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    server.close().unwrap();
}

#[test]
fn content_length_above_the_limit_is_refused_with_413() {
    let (server, calls) = start_counting(|s| s.max_body_bytes(16));
    let at_limit = [b'x'; 16];
    let mut raw = post("/echo", &at_limit);
    raw.extend(post("/echo", &[b'y'; 17]));
    raw.extend_from_slice(b"GET /never HTTP/1.1\r\nHost: x\r\n\r\n");
    let responses = exchange_all(server.local_addr(), &raw);
    assert_eq!(responses.len(), 2, "{responses:?}");
    assert_eq!(
        (responses[0].status, &responses[0].body[..]),
        (200, &at_limit[..])
    );
    assert_eq!(responses[1].status, 413);
    assert!(responses[1].closes());
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the handler never saw the large body"
    );

    // Refused from the head alone: the body need not even be sent.
    let huge = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n";
    let responses = exchange_all(server.local_addr(), huge);
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].status, 413);
    assert!(responses[0].closes());
    server.close().unwrap();
}

#[test]
fn chunked_body_above_the_limit_is_refused_with_413() {
    let (server, calls) = start_counting(|s| s.max_body_bytes(16));
    let chunked = |chunks: &[&[u8]]| {
        let mut raw =
            b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for chunk in chunks {
            raw.extend(format!("{:x}\r\n", chunk.len()).into_bytes());
            raw.extend_from_slice(chunk);
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(b"0\r\n\r\n");
        raw
    };
    let mut raw = chunked(&[b"12345678", b"abcdefgh"]); // exactly 16
    raw.extend(chunked(&[b"12345678", b"abcdefgh", b"!"])); // 17
    raw.extend_from_slice(b"GET /never HTTP/1.1\r\nHost: x\r\n\r\n");
    let responses = exchange_all(server.local_addr(), &raw);
    assert_eq!(responses.len(), 2, "{responses:?}");
    assert_eq!(
        (responses[0].status, responses[0].text().as_str()),
        (200, "12345678abcdefgh")
    );
    assert_eq!(responses[1].status, 413);
    assert!(responses[1].closes());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    server.close().unwrap();
}

#[test]
fn a_complete_body_is_sent_with_content_length() {
    let server = serve_app();
    let responses = exchange_all(
        server.local_addr(),
        b"GET /some/path HTTP/1.1\r\nHost: x\r\n\r\nGET /e HTTP/1.0\r\n\r\n",
    );
    assert_eq!(responses.len(), 2);
    for (response, body) in responses.iter().zip(["/some/path", "/e"]) {
        assert_eq!(response.framing, "length");
        assert_eq!(
            response.header("content-length"),
            Some(&*body.len().to_string())
        );
        assert_eq!(response.header("transfer-encoding"), None);
        assert_eq!(response.text(), body);
    }
    server.close().unwrap();
}

#[test]
fn a_flushed_response_is_chunked_on_http11() {
    let server = serve_app();
    let raw = exchange(
        server.local_addr(),
        b"GET /flush HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("\r\nTransfer-Encoding: chunked"), "{head}");
    assert!(
        !head.to_ascii_lowercase().contains("content-length"),
        "{head}"
    );
    assert!(!head.to_ascii_lowercase().contains("connection"), "{head}");
    assert!(
        rest.starts_with("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n"),
        "one chunk per flush, the last chunk, then the next response: {rest:?}"
    );
    assert!(rest.ends_with("\r\n\r\n/after"));
    server.close().unwrap();
}

#[test]
fn a_flushed_response_is_close_delimited_on_http10() {
    let server = serve_app();
    for request in [
        &b"GET /flush HTTP/1.0\r\n\r\n"[..],
        b"GET /flush HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /never HTTP/1.0\r\n\r\n",
    ] {
        let responses = exchange_all(server.local_addr(), request);
        assert_eq!(responses.len(), 1, "{responses:?}");
        let response = &responses[0];
        assert_eq!(response.version, "HTTP/1.0");
        assert_eq!(response.framing, "close");
        assert_eq!(response.text(), "hello world");
        assert_eq!(response.header("content-length"), None);
        assert_eq!(response.header("transfer-encoding"), None);
        assert_eq!(
            response.header("connection"),
            None,
            "no keep-alive promised"
        );
    }
    server.close().unwrap();
}

#[test]
fn absolute_form_targets_give_host_and_path() {
    let server = serve_app();
    let responses = exchange_all(
        server.local_addr(),
        b"GET http://example.com/where HTTP/1.1\r\nHost: other\r\n\r\n\
          GET http://example.com:8080/where?q=1 HTTP/1.1\r\nHost: other\r\n\r\n\
          GET http://example.com HTTP/1.1\r\nHost: other\r\n\r\n\
          GET http://example.com/x HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n",
    );
    let texts: Vec<String> = responses.iter().map(Response::text).collect();
    assert_eq!(
        texts,
        ["example.com /where", "example.com:8080 /where", "/", "/x"]
    );
    server.close().unwrap();
}

#[test]
fn options_asterisk_is_answered_by_the_server() {
    let (server, calls) = start_counting(|s| s);
    let responses = exchange_all(
        server.local_addr(),
        b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\nGET /then HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(responses.len(), 2, "{responses:?}");
    assert_eq!(responses[0].status, 200);
    assert_eq!(responses[0].header("content-length"), Some("0"));
    assert!(responses[0].body.is_empty());
    assert!(!responses[0].closes());
    assert_eq!(responses[1].text(), "/then");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "only GET /then reached the handler"
    );
    server.close().unwrap();
}
