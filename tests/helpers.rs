//! Go's handler helpers: `not_found`, `redirect`, `strip_prefix`, `max_bytes`,
//! `timeout_handler`, and the sniffed `Content-Type`. Answers that a client reads the same
//! whatever the connection does are checked with `nethttp::httptest` (no socket); what
//! concerns the connection (what follows a HEAD answer, keeping or closing it, streamed
//! uploads, timeouts) over real sockets.

mod util;

use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::mpsc;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use http::StatusCode;
use nethttp::httptest::{new_request, record, Recorded};
use nethttp::{
    blocking, max_bytes, max_bytes_reader, not_found_handler, redirect, redirect_handler,
    strip_prefix, timeout_handler, MaxBytesError, Request, ResponseWriter, ServeMux, Server,
};
use util::{connect, exchange_all, hello, read_response, serve, start, Response};

/// Runs `handler` on `method target`, without a socket.
fn rec(handler: &dyn nethttp::Handler, method: &str, target: &str) -> Recorded {
    record(handler, &mut new_request(method, target).build())
}

/// Sends one request that closes the connection; returns the only response.
fn one(addr: SocketAddr, raw: &str) -> Response {
    let mut responses = exchange_all(addr, raw.as_bytes());
    assert_eq!(responses.len(), 1, "{responses:?}");
    responses.remove(0)
}

fn get(addr: SocketAddr, target: &str) -> Response {
    one(
        addr,
        &format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    )
}

/// Writes back the request target.
fn echo_target(w: &mut ResponseWriter, r: &mut Request) {
    w.write_all(r.uri().to_string().as_bytes()).unwrap();
}

// ---- not_found ----

#[test]
fn not_found_is_a_plain_404() {
    let response = rec(&not_found_handler(), "GET", "/anything");
    assert_eq!(response.status, 404);
    assert_eq!(response.text(), "404 page not found\n");
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(response.header("content-length"), Some("19"));
}

// ---- redirect ----

fn redirect_to(url: &'static str, code: StatusCode) -> impl nethttp::Handler {
    move |w: &mut ResponseWriter, r: &mut Request| redirect(w, r, url, code)
}

#[test]
fn redirect_get_resolves_the_target_and_adds_a_note() {
    let response = rec(
        &redirect_to("../c?x=1", StatusCode::FOUND),
        "GET",
        "/a/b/here",
    );
    assert!(response.wire.starts_with(b"HTTP/1.1 302 Found\r\n"));
    assert_eq!(response.header("location"), Some("/a/c?x=1"));
    assert_eq!(
        response.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(response.text(), "<a href=\"/a/c?x=1\">Found</a>.\n\n");
}

#[test]
fn redirect_head_gets_the_type_but_no_body() {
    let server = serve(redirect_to("/new", StatusCode::MOVED_PERMANENTLY));
    let mut stream = connect(server.local_addr());
    stream
        .write_all(b"HEAD /old HTTP/1.1\r\nHost: x\r\n\r\nGET /old HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(stream);
    let head = read_response(&mut reader, true).unwrap();
    assert_eq!(head.status, 301);
    assert_eq!(head.header("location"), Some("/new"));
    assert_eq!(
        head.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let after = read_response(&mut reader, false).unwrap();
    assert_eq!(
        after.text(),
        "<a href=\"/new\">Moved Permanently</a>.\n\n",
        "the HEAD response had no body: the GET's follows at once"
    );
}

#[test]
fn redirect_post_gets_neither_type_nor_body() {
    let mut request = new_request("POST", "/form/submit").body("a=1").build();
    let response = record(&redirect_to("done", StatusCode::SEE_OTHER), &mut request);
    assert_eq!(response.status, 303);
    assert_eq!(response.header("location"), Some("/form/done"));
    assert_eq!(response.header("content-type"), None);
    assert_eq!(response.header("content-length"), Some("0"));
}

#[test]
fn redirect_keeps_a_content_type_the_handler_set_and_sends_no_note() {
    let handler = |w: &mut ResponseWriter, r: &mut Request| {
        w.headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
        redirect(w, r, "/elsewhere", StatusCode::TEMPORARY_REDIRECT);
    };
    let response = rec(&handler, "GET", "/");
    assert_eq!(response.status, 307);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.body, b"");
}

#[test]
fn redirect_handler_sends_absolute_urls_as_given_and_escapes_non_ascii() {
    let mut mux = ServeMux::new();
    mux.handle(
        "/away",
        redirect_handler("https://example.com/a/../b", StatusCode::FOUND),
    );
    mux.handle(
        "/cafe",
        redirect_handler("/caf\u{e9}", StatusCode::MOVED_PERMANENTLY),
    );
    let away = rec(&mux, "GET", "/away");
    assert_eq!(away.header("location"), Some("https://example.com/a/../b"));
    let cafe = rec(&mux, "GET", "/cafe");
    assert_eq!(cafe.header("location"), Some("/caf%c3%a9"));
    assert_eq!(
        cafe.text(),
        "<a href=\"/caf\u{e9}\">Moved Permanently</a>.\n\n"
    );
}

// ---- strip_prefix ----

#[test]
fn strip_prefix_passes_the_rest_of_the_path_and_the_query() {
    let server = serve(strip_prefix("/api", echo_target));
    let addr = server.local_addr();
    assert_eq!(get(addr, "/api/users?x=1").text(), "/users?x=1");
    assert_eq!(get(addr, "/api").text(), "/");

    let server = serve(strip_prefix("/static/", echo_target));
    assert_eq!(
        get(server.local_addr(), "/static/css/a.css").text(),
        "/css/a.css"
    );
}

#[test]
fn strip_prefix_answers_404_without_the_prefix_and_keeps_the_connection() {
    let server = serve(strip_prefix("/api/", echo_target));
    let responses = exchange_all(
        server.local_addr(),
        b"GET /other HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /api%2Fx HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /api/ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(responses.len(), 3);
    assert_eq!(responses[0].status, 404);
    assert_eq!(responses[0].text(), "404 page not found\n");
    assert!(!responses[0].closes());
    assert_eq!(
        responses[1].status, 404,
        "the encoded slash is not the prefix's"
    );
    assert_eq!(responses[2].text(), "/ok");
}

#[test]
fn strip_prefix_asks_about_blocking_for_the_stripped_path() {
    // One loop: if the sleeping route ran on it, the other connection would wait.
    let mut inner = ServeMux::new();
    inner.handle(
        "GET /slow",
        blocking(|w: &mut ResponseWriter, _r: &mut Request| {
            thread::sleep(Duration::from_millis(500));
            w.write_all(b"slow").unwrap();
        }),
    );
    let mut mux = ServeMux::new();
    mux.handle("/api/", strip_prefix("/api", inner));
    mux.handle("/fast", hello);
    let server = start(Server::new(mux).threads(1));
    let addr = server.local_addr();

    let slow = thread::spawn(move || get(addr, "/api/slow"));
    thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    assert_eq!(get(addr, "/fast").text(), "Hello, World!");
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "the fast request waited {:?}",
        started.elapsed()
    );
    assert_eq!(slow.join().unwrap().text(), "slow");
}

// ---- max_bytes ----

/// Reads the whole body and reports how much it got and how it ended.
fn read_and_report(w: &mut ResponseWriter, r: &mut Request) {
    let mut body = Vec::new();
    let outcome = match r.body().read_to_end(&mut body) {
        Ok(_) => "ok".to_string(),
        Err(e) => {
            let limit = MaxBytesError::from_io(&e).map(|m| m.limit);
            format!("{e} (limit {limit:?})")
        }
    };
    write!(w, "n={} err={outcome}", body.len()).unwrap();
}

#[test]
fn max_bytes_fails_the_read_and_closes_the_connection() {
    let server = serve(max_bytes(read_and_report, 4));
    let responses = exchange_all(
        server.local_addr(),
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789\
          GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert_eq!(responses.len(), 1, "the connection closed after the first");
    assert_eq!(responses[0].status, 200);
    assert_eq!(
        responses[0].text(),
        "n=4 err=http: request body too large (limit Some(4))"
    );
    assert!(responses[0].closes());
}

#[test]
fn max_bytes_within_the_limit_changes_nothing() {
    let server = serve(max_bytes(read_and_report, 4));
    let responses = exchange_all(
        server.local_addr(),
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n0123\
          GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(responses.len(), 2);
    assert_eq!(responses[0].text(), "n=4 err=ok");
    assert!(!responses[0].closes());
    assert_eq!(responses[1].text(), "n=0 err=ok");
}

#[test]
fn max_bytes_answers_413_for_a_handler_that_writes_nothing() {
    let quiet = |_w: &mut ResponseWriter, r: &mut Request| {
        let _ = r.body().read_to_end(&mut Vec::new());
    };
    let server = serve(max_bytes(quiet, 4));
    let response = one(
        server.local_addr(),
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n01234",
    );
    assert_eq!(response.status, 413);
    assert_eq!(response.text(), "http: request body too large\n");
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(response.closes());
}

#[test]
fn max_bytes_reader_inside_a_handler() {
    let server = serve(|w: &mut ResponseWriter, r: &mut Request| {
        max_bytes_reader(w, r, 3);
        read_and_report(w, r);
    });
    let response = one(
        server.local_addr(),
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n",
    );
    assert_eq!(
        response.text(),
        "n=3 err=http: request body too large (limit Some(3))"
    );
    assert!(response.closes());
}

#[test]
fn max_bytes_stops_a_streamed_upload_without_reading_the_rest() {
    let upload = blocking(|_w: &mut ResponseWriter, r: &mut Request| {
        let _ = r.body().read_to_end(&mut Vec::new());
    });
    let server = serve(max_bytes(upload, 1000));
    let stream = connect(server.local_addr());
    let mut writer = stream.try_clone().unwrap();
    let body_len = 8 << 20;
    let sender = thread::spawn(move || {
        let head = format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {body_len}\r\n\r\n");
        writer.write_all(head.as_bytes())?;
        let piece = vec![b'x'; 64 * 1024];
        for _ in 0..body_len / piece.len() {
            writer.write_all(&piece)?;
        }
        writer.shutdown(Shutdown::Write)
    });
    let mut reader = BufReader::new(stream);
    let response = read_response(&mut reader, false).unwrap();
    assert_eq!(response.status, 413);
    assert!(response.closes());
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest); // the server closes
    assert!(rest.is_empty(), "nothing after the 413");
    let _ = sender.join().unwrap(); // the server drained or reset what it did not read
}

// ---- timeout_handler ----

#[test]
fn timeout_handler_copies_a_response_finished_in_time() {
    let inner = |w: &mut ResponseWriter, r: &mut Request| {
        let mut body = String::new();
        r.body().read_to_string(&mut body).unwrap();
        w.headers_mut().insert("x-inner", "yes".parse().unwrap());
        w.write_header(StatusCode::CREATED);
        write!(w, "made {body}").unwrap();
        w.flush().unwrap(); // held: sends nothing early
    };
    let server = serve(timeout_handler(inner, Duration::from_secs(5), "late"));
    let response = one(
        server.local_addr(),
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
    );
    assert_eq!(response.status, 201);
    assert_eq!(response.header("x-inner"), Some("yes"));
    assert_eq!(response.framing, "length");
    assert_eq!(response.text(), "made abc");
}

#[test]
fn timeout_handler_answers_503_while_the_handler_sleeps_and_serves_others() {
    let (late_tx, late_rx) = mpsc::channel();
    let late_tx = Mutex::new(late_tx);
    let sleepy = move |w: &mut ResponseWriter, _r: &mut Request| {
        w.write_all(b"early words").unwrap();
        thread::sleep(Duration::from_millis(1500));
        let late = w.write_all(b"too late").map_err(|e| e.kind());
        let _ = late_tx.lock().unwrap().send(late);
    };
    let limit = Duration::from_millis(300);
    let mut mux = ServeMux::new();
    mux.handle(
        "/slow",
        timeout_handler(sleepy, limit, "the handler timed out"),
    );
    mux.handle("/fast", hello);
    let server = start(Server::new(mux).threads(1));
    let addr = server.local_addr();

    let started = Instant::now();
    let slow = thread::spawn(move || get(addr, "/slow"));
    thread::sleep(Duration::from_millis(50));
    let fast = get(addr, "/fast");
    assert_eq!(fast.text(), "Hello, World!");
    assert!(
        started.elapsed() < limit,
        "another connection was served meanwhile"
    );

    let timed_out = slow.join().unwrap();
    let waited = started.elapsed();
    assert!(waited >= limit, "503 after {waited:?}");
    assert!(waited < Duration::from_millis(1200), "503 after {waited:?}");
    assert_eq!(timed_out.status, 503);
    assert_eq!(timed_out.text(), "the handler timed out");
    assert_eq!(
        timed_out.header("content-type"),
        Some("text/plain; charset=utf-8")
    );

    let late = late_rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(late, Err(std::io::ErrorKind::TimedOut));
}

#[test]
fn timeout_handler_without_a_message_sends_go_s_page() {
    let sleepy = |_w: &mut ResponseWriter, _r: &mut Request| {
        thread::sleep(Duration::from_millis(500));
    };
    let server = serve(timeout_handler(sleepy, Duration::from_millis(50), ""));
    let response = get(server.local_addr(), "/");
    assert_eq!(response.status, 503);
    assert_eq!(
        response.text(),
        "<html><head><title>Timeout</title></head><body><h1>Timeout</h1></body></html>"
    );
    assert_eq!(
        response.header("content-type"),
        Some("text/html; charset=utf-8")
    );
}

#[test]
fn timeout_handler_passes_a_panic_on() {
    let panicky = |_w: &mut ResponseWriter, _r: &mut Request| panic!("inner trouble");
    let server = serve(timeout_handler(panicky, Duration::from_secs(5), "late"));
    let response = get(server.local_addr(), "/");
    assert_eq!(response.status, 500);
}

// ---- sniffing ----

#[test]
fn an_unlabelled_body_gets_a_sniffed_type() {
    let mut mux = ServeMux::new();
    mux.handle("/png", |w: &mut ResponseWriter, _r: &mut Request| {
        w.write_all(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR").unwrap();
    });
    mux.handle("/xml", |w: &mut ResponseWriter, _r: &mut Request| {
        w.write_all(b"\n<?xml version=\"1.0\"?><a/>").unwrap();
    });
    mux.handle("/bin", |w: &mut ResponseWriter, _r: &mut Request| {
        w.write_all(b"\x00\x01\x02\x03").unwrap();
    });
    let server = serve(mux);
    let addr = server.local_addr();
    for (path, expected) in [
        ("/png", "image/png"),
        ("/xml", "text/xml; charset=utf-8"),
        ("/bin", "application/octet-stream"),
    ] {
        assert_eq!(
            get(addr, path).header("content-type"),
            Some(expected),
            "{path}"
        );
    }
}
