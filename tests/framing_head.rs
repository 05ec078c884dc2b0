//! Malformed request heads over real sockets (Host rules, header syntax, size limits, the
//! request line and its version): each gets its status, a short plain-text body and
//! `Connection: close`, then the connection ends, and the server keeps serving new
//! connections.

mod util;

use nethttp::Server;
use util::refusal::{echo, get, refused};
use util::{exchange_all, serve, start};

// ---- Host ----

#[test]
fn host_rules() {
    let server = serve(echo);
    let addr = server.local_addr();
    let r = refused(addr, b"GET / HTTP/1.1\r\n\r\n", 400);
    assert_eq!(r.text(), "400 Bad Request: missing required Host header\n");
    refused(addr, &get("Host: y\r\n"), 400);
    let r = refused(addr, b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
    assert_eq!(r.text(), "400 Bad Request: malformed Host header\n");
    refused(addr, b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400);
    refused(addr, b"GET / HTTP/1.1\r\nHost: x\x7f\r\n\r\n", 400);

    let responses = exchange_all(addr, b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].status, 200, "HTTP/1.0 needs no Host");
}

// ---- header syntax ----

#[test]
fn invalid_header_names_are_400() {
    let server = serve(echo);
    for line in ["Foo Bar: x", "Foo : x", "X(Y): x", "NoColon"] {
        let r = refused(server.local_addr(), &get(&format!("{line}\r\n")), 400);
        assert_eq!(
            r.text(),
            "400 Bad Request: invalid header name\n",
            "{line:?}"
        );
    }
}

#[test]
fn control_bytes_in_values_are_400() {
    let server = serve(echo);
    for value in ["a\x01b", "a\x00b", "a\x1bb", "a\x7fb"] {
        let r = refused(server.local_addr(), &get(&format!("X-V: {value}\r\n")), 400);
        assert_eq!(
            r.text(),
            "400 Bad Request: invalid header value\n",
            "{value:?}"
        );
    }
}

#[test]
fn obs_fold_is_400() {
    let server = serve(echo);
    refused(server.local_addr(), &get("X-Fold: a\r\n  b\r\n"), 400);
    refused(server.local_addr(), &get("X-Fold: a\r\n\tb\r\n"), 400);
}

// ---- size limits ----

#[test]
fn header_section_past_the_limit_is_431() {
    let server = start(Server::new(echo).max_header_bytes(1024));
    let addr = server.local_addr();
    let big = "a".repeat(2000);
    let r = refused(addr, &get(&format!("X-Big: {big}\r\n")), 431);
    assert_eq!(r.text(), "431 Request Header Fields Too Large\n");
    // Many small fields adding up past the limit.
    let many: String = (0..60).map(|i| format!("X-Field-{i}: value\r\n")).collect();
    refused(addr, &get(&many), 431);
}

#[test]
fn header_section_at_the_limit_is_served() {
    let limit = 1024;
    let server = start(Server::new(echo).max_header_bytes(limit));
    let addr = server.local_addr();
    let head = |len: usize| {
        let base = get("Connection: close\r\nX-Pad: \r\n").len();
        get(&format!(
            "Connection: close\r\nX-Pad: {}\r\n",
            "p".repeat(len - base)
        ))
    };
    assert_eq!(head(limit).len(), limit);
    let responses = exchange_all(addr, &head(limit));
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].status, 200);
    refused(addr, &head(limit + 1), 431);
}

#[test]
fn request_line_past_the_limit_is_414() {
    let server = start(Server::new(echo).max_header_bytes(1024));
    let addr = server.local_addr();
    let target = "/".to_string() + &"a".repeat(2000);
    // The whole request in one write, and the request line alone.
    let raw = format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
    let r = refused(addr, raw.as_bytes(), 414);
    assert_eq!(r.text(), "414 URI Too Long\n");
    refused(addr, format!("GET {target}").as_bytes(), 414);
}

#[test]
fn request_line_past_the_default_limit_is_414() {
    let server = serve(echo);
    let target = "/".to_string() + &"a".repeat(nethttp::DEFAULT_MAX_HEADER_BYTES + 10);
    let raw = format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
    refused(server.local_addr(), raw.as_bytes(), 414);
}

#[test]
fn more_than_one_hundred_fields_is_431() {
    let server = serve(echo);
    let fields = |n: usize| -> String { (0..n).map(|i| format!("X-{i}: v\r\n")).collect() };
    refused(server.local_addr(), &get(&fields(100)), 431);
    let responses = exchange_all(
        server.local_addr(),
        &get(&(fields(98) + "Connection: close\r\n")),
    );
    assert_eq!(responses[0].status, 200, "100 fields in all are fine");
}

// ---- request line ----

#[test]
fn other_major_versions_are_505() {
    let server = serve(echo);
    for version in ["HTTP/2.0", "HTTP/3.1"] {
        let raw = format!("GET / {version}\r\nHost: x\r\n\r\n");
        let r = refused(server.local_addr(), raw.as_bytes(), 505);
        assert_eq!(
            r.text(),
            "505 HTTP Version Not Supported: unsupported protocol version\n"
        );
    }
    // The HTTP/2 connection preface.
    refused(
        server.local_addr(),
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        505,
    );
}

#[test]
fn later_minor_version_is_served_as_http11() {
    let server = serve(echo);
    let responses = exchange_all(
        server.local_addr(),
        b"GET / HTTP/1.2\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(responses.len(), 1);
    assert_eq!(
        (responses[0].status, responses[0].version.as_str()),
        (200, "HTTP/1.1")
    );
}

#[test]
fn malformed_versions_are_400() {
    let server = serve(echo);
    for version in ["HTTP/1.1x", "http/1.1", "HTTP/1", "HTTPS/1.1"] {
        let raw = format!("GET / {version}\r\nHost: x\r\n\r\n");
        refused(server.local_addr(), raw.as_bytes(), 400);
    }
}

#[test]
fn bad_request_targets_are_400() {
    let server = serve(echo);
    for line in [
        "GET hello HTTP/1.1",
        "GET * HTTP/1.1",
        "GET  / HTTP/1.1",
        "GET /hello",
        "G(T / HTTP/1.1",
    ] {
        let raw = format!("{line}\r\nHost: x\r\n\r\n");
        refused(server.local_addr(), raw.as_bytes(), 400);
    }
}
