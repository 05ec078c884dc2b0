//! The mux's decisions, on requests parsed from bytes (no sockets; `tests/mux.rs` has the
//! wire behaviour).

use std::net::{Ipv4Addr, SocketAddr};

use super::*;
use crate::parse;

fn noop(_: &mut ResponseWriter, _: &mut Request) {}

fn mux(patterns: &[&str]) -> ServeMux {
    let mut mux = ServeMux::new();
    for p in patterns {
        mux.handle(p, noop);
    }
    mux
}

fn request(method: &str, target: &str, host: &str) -> Request {
    let head = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n\r\n");
    let peer = SocketAddr::from((Ipv4Addr::LOCALHOST, 1));
    parse::parse(head.as_bytes(), peer)
        .expect("valid head")
        .request
}

/// What the mux decides, as text: the pattern and values, or the answer.
fn decide(mux: &ServeMux, method: &str, target: &str) -> String {
    decide_for_host(mux, method, target, "example.com")
}

fn decide_for_host(mux: &ServeMux, method: &str, target: &str, host: &str) -> String {
    let r = request(method, target, host);
    match mux.lookup(&r) {
        Lookup::Found { route, values } if values.is_empty() => {
            mux.routes[route].pattern.text.to_string()
        }
        Lookup::Found { route, values } => {
            format!("{} {values:?}", mux.routes[route].pattern.text)
        }
        Lookup::Redirect(to) => format!("301 {to}"),
        Lookup::MethodNotAllowed(allow) => format!("405 {allow}"),
        Lookup::NotFound => "404".into(),
        Lookup::BadRequest => "400".into(),
    }
}

#[test]
fn routes_to_the_most_specific_pattern() {
    let m = mux(&[
        "/",
        "/users/",
        "GET /users/{id}",
        "GET /users/new",
        "/files/{path...}",
    ]);
    assert_eq!(decide(&m, "GET", "/users/7"), r#"GET /users/{id} ["7"]"#);
    assert_eq!(decide(&m, "GET", "/users/new"), "GET /users/new");
    assert_eq!(decide(&m, "HEAD", "/users/new"), "GET /users/new");
    assert_eq!(decide(&m, "DELETE", "/users/7"), "/users/");
    assert_eq!(decide(&m, "GET", "/users/7/x"), "/users/");
    assert_eq!(
        decide(&m, "GET", "/files/a/b%20c"),
        r#"/files/{path...} ["a/b c"]"#
    );
    assert_eq!(decide(&m, "GET", "/elsewhere?q=1"), "/");
}

#[test]
fn redirects_unclean_paths_keeping_the_query() {
    let m = mux(&["/a/b", "/dir/"]);
    assert_eq!(decide(&m, "GET", "/a/./b?x=1"), "301 /a/b?x=1");
    assert_eq!(decide(&m, "GET", "//a/b"), "301 /a/b");
    assert_eq!(decide(&m, "GET", "/x/../a/b"), "301 /a/b");
    assert_eq!(
        decide(&m, "GET", "/x/../dir?y"),
        "301 /dir/?y",
        "both redirects at once"
    );
    assert_eq!(decide(&m, "GET", "/nothing//here"), "301 /nothing/here");
}

#[test]
fn redirects_to_the_subtree_root() {
    let m = mux(&["/dir/", "/exact", "/both/", "/both", "/w/{x}/"]);
    assert_eq!(decide(&m, "GET", "/dir?q=1"), "301 /dir/?q=1");
    assert_eq!(decide(&m, "GET", "/dir/"), "/dir/");
    assert_eq!(decide(&m, "GET", "/exact"), "/exact");
    assert_eq!(decide(&m, "GET", "/exact/"), "404");
    assert_eq!(
        decide(&m, "GET", "/both"),
        "/both",
        "a registered path wins"
    );
    assert_eq!(decide(&m, "GET", "/w/1"), "301 /w/1/");
}

#[test]
fn connect_is_not_cleaned() {
    let m = mux(&["CONNECT /a//b", "/"]);
    assert_eq!(decide(&m, "CONNECT", "/a//b"), "CONNECT /a//b");
    assert_eq!(decide(&m, "GET", "/a//b"), "301 /a/b");
}

#[test]
fn method_not_allowed_lists_the_methods() {
    let m = mux(&["GET /r", "POST /r", "PUT /r/", "DELETE /other"]);
    assert_eq!(decide(&m, "PATCH", "/r"), "405 GET, HEAD, POST, PUT");
    assert_eq!(decide(&m, "GET", "/nope"), "404");
    assert_eq!(decide(&m, "PATCH", "/r/x"), "405 PUT");
}

#[test]
fn host_patterns_come_first() {
    let m = mux(&["example.com/", "/", "api.example.com/v1/{x}"]);
    assert_eq!(
        decide_for_host(&m, "GET", "/a", "example.com:8080"),
        "example.com/"
    );
    assert_eq!(decide_for_host(&m, "GET", "/a", "other.com"), "/");
    assert_eq!(
        decide_for_host(&m, "GET", "/v1/q", "api.example.com"),
        r#"api.example.com/v1/{x} ["q"]"#
    );
    assert_eq!(decide_for_host(&m, "GET", "/v2", "api.example.com"), "/");
    assert_eq!(
        decide(&m, "GET", "http://api.example.com/v1/z"),
        r#"api.example.com/v1/{x} ["z"]"#
    );
}

#[test]
fn percent_escapes_are_decoded_per_segment() {
    let m = mux(&["/a/{x}", "/%62"]);
    assert_eq!(decide(&m, "GET", "/a/1%2F2"), r#"/a/{x} ["1/2"]"#);
    assert_eq!(decide(&m, "GET", "/a/1/2"), "404");
    assert_eq!(decide(&m, "GET", "/b"), "/%62");
    assert_eq!(decide(&m, "GET", "/%62"), "/%62");
}

#[test]
fn conflicts_are_refused_with_both_patterns_named() {
    let mut m = mux(&["/a/{x}"]);
    let err = m.try_handle("/{y}/b", noop).unwrap_err();
    let PatternError::Conflict {
        pattern, existing, ..
    } = &err
    else {
        panic!("expected a conflict, got {err:?}");
    };
    assert_eq!((pattern.as_str(), existing.as_str()), ("/{y}/b", "/a/{x}"));
    let message = err.to_string();
    assert!(
        message.starts_with(
            "pattern \"/{y}/b\" conflicts with pattern \"/a/{x}\" (registered at src/mux/tests.rs:"
        ),
        "{message}"
    );
    assert!(
        message.contains("both match some paths, like \"/a/b\""),
        "{message}"
    );
    assert!(m.try_handle("/a/{z}", noop).is_err(), "the same requests");
    assert!(
        m.try_handle("example.com/a/{z}", noop).is_ok(),
        "a host wins"
    );
    assert!(m.try_handle("GET /a/b", noop).is_ok(), "more specific");
    assert_eq!(decide_for_host(&m, "GET", "/a/b", "other.com"), "GET /a/b");
    assert_eq!(decide(&m, "GET", "/a/b"), r#"example.com/a/{z} ["b"]"#);
}

#[test]
#[should_panic(
    expected = "parsing \"/a/{x\": at offset 3: bad wildcard segment (must end with '}')"
)]
fn handle_panics_on_an_invalid_pattern() {
    mux(&["/a/{x"]);
}

#[test]
#[should_panic(expected = "pattern \"/x\" conflicts with pattern \"/x\"")]
fn handle_panics_on_a_conflict() {
    mux(&["/x", "/x"]);
}

#[test]
fn path_values_and_pattern_on_the_request() {
    let mut r = request("GET", "/", "x");
    assert_eq!((r.path_value("id"), r.pattern()), (None, None));
    r.set_path_value("id", "7");
    r.set_path_value("id", "8");
    assert_eq!((r.path_value("id"), r.pattern()), (Some("8"), None));
}

/// The route found when the server asks whether a request blocks is the one it is served
/// by: the mux does not look it up a second time (here, a second lookup would find
/// another route, as the target was changed in between).
#[test]
fn a_blocking_question_routes_the_request_once() {
    let mut m = ServeMux::new();
    m.handle("/slow/{id}", crate::blocking(noop));
    m.handle("/fast", |w: &mut ResponseWriter, _: &mut Request| {
        w.write_header(StatusCode::IM_A_TEAPOT);
    });
    let mut r = request("GET", "/slow/7", "example.com");
    assert!(m.is_blocking(&r));
    r.uri = std::cell::OnceCell::from("/fast".parse::<http::Uri>().expect("a target"));
    let facts = parse::Facts {
        head: false,
        version: http::Version::HTTP_11,
        close: false,
    };
    let parts = crate::response::Parts::default();
    let mut w = ResponseWriter::new(parts, facts, b"Thu, 01 Jan 1970 00:00:00 GMT");
    m.serve_http(&mut w, &mut r);
    assert_eq!(r.pattern(), Some("/slow/{id}"));
    assert_eq!(r.path_value("id"), Some("7"));
    // Without the question, the request is looked up as it stands.
    let mut r = request("GET", "/fast", "example.com");
    m.serve_http(&mut w, &mut r);
    assert_eq!(r.pattern(), Some("/fast"));
}
