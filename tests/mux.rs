//! ServeMux: routing, path values, 404, 405 with `Allow`, redirects, HEAD via GET, host
//! patterns, `{$}` and `{name...}`. Routing decisions are checked with `nethttp::httptest`
//! (no socket; the answer is the server's own bytes, parsed as a client parses them); what
//! concerns the connection (HEAD answers followed by the next one, keep-alive after the
//! mux's own answers, blocking routes on the pool) over real sockets.

mod util;

use std::io::{BufReader, Write};

use nethttp::httptest::{new_request, record};
use nethttp::{blocking, Request, ResponseWriter, ServeMux};
use util::{connect, exchange_all, read_response, serve, Response};

/// Writes back the matched pattern and the values of the wildcards `names`.
fn echo(names: &'static [&'static str]) -> impl Fn(&mut ResponseWriter, &mut Request) {
    move |w: &mut ResponseWriter, r: &mut Request| {
        let mut text = r.pattern().unwrap_or("-").to_string();
        for name in names {
            let value = r.path_value(name).unwrap_or("<none>");
            text.push_str(&format!(" {name}={value}"));
        }
        w.write_all(text.as_bytes()).unwrap();
    }
}

/// The mux most tests use.
fn app() -> ServeMux {
    let mut mux = ServeMux::new();
    mux.handle("GET /{$}", echo(&[]));
    mux.handle("GET /users/{id}", echo(&["id"]));
    mux.handle("GET /users/new", echo(&[]));
    mux.handle("POST /users/", echo(&[]));
    mux.handle("/files/{path...}", echo(&["path"]));
    mux.handle("/docs/", echo(&[]));
    mux.handle("GET /a/{x}/b", echo(&["x"]));
    mux.handle("PUT /items/{id}", echo(&["id"]));
    mux.handle("DELETE /items/{id}", echo(&["id"]));
    mux.handle("api.example.com/", echo(&[]));
    mux.handle("api.example.com/v1/{thing}", echo(&["thing"]));
    mux
}

/// Runs `mux` on one request, without a socket, and parses its answer as a client does.
fn get(mux: &ServeMux, method: &str, target: &str, host: &str) -> Response {
    let mut request = new_request(method, target).header("Host", host).build();
    let recorded = record(mux, &mut request);
    let mut responses = util::parse_all(&recorded.wire);
    assert_eq!(responses.len(), 1, "{method} {target}");
    responses.remove(0)
}

/// Sends one request (closing the connection) to a server and returns the response.
fn get_over_socket(addr: std::net::SocketAddr, method: &str, target: &str) -> Response {
    let raw = format!("{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut responses = exchange_all(addr, raw.as_bytes());
    assert_eq!(responses.len(), 1, "{method} {target}");
    responses.remove(0)
}

#[test]
fn routes_to_the_most_specific_pattern_with_path_values() {
    let mux = app();
    let addr = &mux;
    let cases = [
        ("GET", "/", "GET /{$}"),
        ("GET", "/users/42", "GET /users/{id} id=42"),
        ("GET", "/users/new", "GET /users/new"),
        ("POST", "/users/42", "POST /users/"),
        ("POST", "/users/", "POST /users/"),
        ("GET", "/docs/a/b.html", "/docs/"),
        ("GET", "/a/x%2Fy/b", "GET /a/{x}/b x=x/y"),
        ("GET", "/a/%7Ecat/b?q=1", "GET /a/{x}/b x=~cat"),
        ("PUT", "/items/9", "PUT /items/{id} id=9"),
        ("DELETE", "/items/9", "DELETE /items/{id} id=9"),
    ];
    for (method, target, want) in cases {
        let response = get(addr, method, target, "example.com");
        assert_eq!(
            (response.status, response.text().as_str()),
            (200, want),
            "{method} {target}"
        );
    }
}

#[test]
fn rest_wildcard_takes_the_rest_of_the_path() {
    let mux = app();
    let addr = &mux;
    let cases = [
        ("/files/", "/files/{path...} path="),
        ("/files/a", "/files/{path...} path=a"),
        ("/files/a/b/c.txt", "/files/{path...} path=a/b/c.txt"),
        ("/files/a%20b/c%2Fd", "/files/{path...} path=a b/c/d"),
    ];
    for (target, want) in cases {
        let response = get(addr, "GET", target, "example.com");
        assert_eq!(
            (response.status, response.text().as_str()),
            (200, want),
            "{target}"
        );
    }
}

#[test]
fn dollar_matches_only_the_exact_path() {
    let mux = app();
    let response = get(&mux, "GET", "/nothing-here", "example.com");
    assert_eq!(response.status, 404, "GET /{{$}} is not a catch-all");
}

#[test]
fn not_found_is_gos_plain_text() {
    let mux = app();
    let response = get(&mux, "GET", "/missing", "example.com");
    assert_eq!(response.status, 404);
    assert_eq!(response.text(), "404 page not found\n");
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
}

#[test]
fn wrong_method_gets_405_with_sorted_allow() {
    let mux = app();
    let addr = &mux;
    let response = get(addr, "POST", "/items/3", "example.com");
    assert_eq!(response.status, 405);
    assert_eq!(response.header("allow"), Some("DELETE, PUT"));
    assert_eq!(response.text(), "Method Not Allowed\n");

    let response = get(addr, "DELETE", "/users/7", "example.com");
    assert_eq!(response.status, 405);
    assert_eq!(
        response.header("allow"),
        Some("GET, HEAD, POST"),
        "GET brings HEAD"
    );
}

#[test]
fn subtree_root_without_slash_redirects_keeping_the_query() {
    let mux = app();
    let addr = &mux;
    let response = get(addr, "GET", "/docs?page=2", "example.com");
    assert_eq!(response.status, 301);
    assert_eq!(response.reason, "Moved Permanently");
    assert_eq!(response.header("location"), Some("/docs/?page=2"));
    assert_eq!(
        response.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        response.text(),
        "<a href=\"/docs/?page=2\">Moved Permanently</a>.\n\n"
    );

    let response = get(addr, "POST", "/docs", "example.com");
    assert_eq!(
        (response.status, response.header("location")),
        (301, Some("/docs/"))
    );
    assert_eq!(response.header("content-type"), None);
    assert!(response.body.is_empty(), "no note for POST");
}

#[test]
fn unclean_paths_redirect_to_the_clean_path() {
    let mux = app();
    let addr = &mux;
    let cases = [
        ("/users/./42", "/users/42"),
        ("//users/42?x=1&y=2", "/users/42?x=1&y=2"),
        ("/users/x/../42", "/users/42"),
        ("/files/a//b/", "/files/a/b/"),
        ("/../users/new", "/users/new"),
    ];
    for (target, location) in cases {
        let response = get(addr, "GET", target, "example.com");
        assert_eq!(
            (response.status, response.header("location")),
            (301, Some(location)),
            "{target}"
        );
    }
    let response = get(addr, "GET", "/users/x/../42", "example.com");
    assert_eq!(
        response.text(),
        "<a href=\"/users/42\">Moved Permanently</a>.\n\n"
    );
}

#[test]
fn head_is_served_by_get_patterns() {
    let server = serve(app());
    let mut stream = connect(server.local_addr());
    stream
        .write_all(
            b"HEAD /users/42 HTTP/1.1\r\nHost: x\r\n\r\nHEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .unwrap();
    let mut reader = BufReader::new(stream);
    let response = read_response(&mut reader, true).unwrap();
    assert_eq!(response.status, 200);
    let full = "GET /users/{id} id=42".len().to_string();
    assert_eq!(response.header("content-length"), Some(full.as_str()));
    let response = read_response(&mut reader, true).unwrap();
    assert_eq!(
        response.status, 404,
        "the 404 kept the connection and had no body"
    );
}

#[test]
fn host_patterns_win_over_hostless_ones() {
    let mux = app();
    let addr = &mux;
    let response = get(addr, "GET", "/v1/widgets", "api.example.com:8080");
    assert_eq!(response.text(), "api.example.com/v1/{thing} thing=widgets");
    let response = get(addr, "GET", "/users/5", "api.example.com");
    assert_eq!(
        response.text(),
        "api.example.com/",
        "the host's catch-all beats /users/{{id}}"
    );
    let response = get(addr, "GET", "/users/5", "www.example.com");
    assert_eq!(response.text(), "GET /users/{id} id=5");
}

#[test]
fn mux_answers_keep_the_connection_alive() {
    let server = serve(app());
    let responses = exchange_all(
        server.local_addr(),
        b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n\
          POST /items/1 HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /docs HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /users/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [404, 405, 301, 200]);
}

#[test]
fn blocking_routes_run_with_their_path_values() {
    let mut mux = ServeMux::new();
    mux.handle("GET /inline/{x}", echo(&["x"]));
    mux.handle("GET /pool/{x}", blocking(echo(&["x"])));
    let server = serve(mux);
    let addr = server.local_addr();
    assert_eq!(
        get_over_socket(addr, "GET", "/pool/7").text(),
        "GET /pool/{x} x=7"
    );
    assert_eq!(
        get_over_socket(addr, "GET", "/inline/8").text(),
        "GET /inline/{x} x=8"
    );
}

#[test]
fn a_refused_request_leaves_no_route_behind_for_the_next() {
    // One loop, so every head is parsed into the same reused request: the refused one is
    // routed first (the server asks the mux whether it blocks), then answered 413. The
    // other connection stays open throughout, so the loop never lets its request go.
    let mut mux = ServeMux::new();
    mux.handle("/inline/{x}", echo(&["x"]));
    mux.handle("GET /pool/{x}", blocking(echo(&["x"])));
    let server = util::start(nethttp::Server::new(mux).threads(1).max_body_bytes(10));
    let addr = server.local_addr();
    let mut kept = connect(addr);
    let refused = exchange_all(
        addr,
        b"POST /inline/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n",
    );
    assert_eq!(refused[0].status, 413);
    let mut reader = BufReader::new(kept.try_clone().unwrap());
    for (target, answer) in [
        ("/inline/2", "/inline/{x} x=2"),
        ("/pool/3", "GET /pool/{x} x=3"),
    ] {
        let raw = format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
        kept.write_all(raw.as_bytes()).unwrap();
        assert_eq!(read_response(&mut reader, false).unwrap().text(), answer);
    }
}
