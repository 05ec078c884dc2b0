use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::*;
use crate::request::Limit;

#[test]
fn relative_targets_resolve_against_the_request_directory() {
    for (url, path, expected) in [
        ("d", "/a/b/c", "/a/b/d"),
        ("../d?x=1", "/a/b/c", "/a/d?x=1"),
        ("e/", "/a/b/c", "/a/b/e/"),
        ("./", "/a/b/c", "/a/b/"),
        ("..", "/a/b/c", "/a"),
        ("../..", "/a/b/", "/"),
        ("../../../..", "/a/b", "/"),
        ("", "/a/b", "/a/"),
        ("?q=1", "/a/b", "/a/?q=1"),
        ("d", "/", "/d"),
        ("d", "/a/b/", "/a/b/d"),
        ("x/./y//z/../", "/a/", "/a/x/y/"),
        ("///x", "/a/", "/x"),
        ("d?next=/a/../b", "/a/c", "/a/d?next=/a/../b"),
    ] {
        assert_eq!(resolve(url, path), expected, "{url:?} from {path:?}");
    }
}

#[test]
fn absolute_paths_are_cleaned_with_their_trailing_slash() {
    assert_eq!(resolve("/new", "/a/b"), "/new");
    assert!(matches!(resolve("/new", "/a/b"), Cow::Borrowed(_)));
    assert_eq!(resolve("/x/../y/", "/a/b"), "/y/");
    assert_eq!(resolve("//", "/a/b"), "/");
    assert_eq!(resolve("/a/./b/.", "/"), "/a/b");
}

#[test]
fn targets_with_scheme_or_host_are_sent_as_given() {
    for url in [
        "http://example.com/../x",
        "https://example.com",
        "mailto:someone@example.com",
        "//example.com/a/../b",
        "//user@example.com",
    ] {
        assert_eq!(resolve(url, "/a/b"), url);
    }
}

#[test]
fn targets_go_cannot_parse_are_sent_as_given() {
    for url in ["1a:b/../c", ":x", "a/%zz/../b", "a/%2", "a\nb"] {
        assert_eq!(resolve(url, "/a/b"), url, "{url:?}");
    }
    assert_eq!(resolve("c/%41/../d", "/a/b"), "/a/c/d", "valid escapes");
    assert_eq!(
        resolve("c?q=%zz", "/a/b"),
        "/a/c?q=%zz",
        "the query is not checked"
    );
}

#[test]
fn location_escapes_non_ascii_and_control_bytes() {
    assert_eq!(header_escape("/caf\u{e9}?q=1"), "/caf%c3%a9?q=1");
    assert_eq!(header_escape("/a\tb\x7f"), "/a%09b%7f");
    assert!(matches!(header_escape("/plain path"), Cow::Borrowed(_)));
}

/// A body holding `bytes`, with a limit of `n`.
fn limited(bytes: &[u8], n: u64) -> (crate::Body, Arc<AtomicBool>) {
    let hit = Arc::new(AtomicBool::new(false));
    let body = crate::Body {
        bytes: bytes.to_vec().into(),
        limit: Some(Limit {
            left: n,
            limit: n,
            hit: Arc::clone(&hit),
        }),
        ..crate::Body::default()
    };
    (body, hit)
}

#[test]
fn a_body_reads_up_to_its_limit_then_fails() {
    let (mut body, hit) = limited(b"0123456789", 4);
    let mut got = Vec::new();
    let e = io::Read::read_to_end(&mut body, &mut got).unwrap_err();
    assert_eq!(got, b"0123");
    assert_eq!(
        MaxBytesError::from_io(&e),
        Some(&MaxBytesError { limit: 4 })
    );
    assert_eq!(e.to_string(), "http: request body too large");
    assert!(hit.load(Ordering::Acquire));
    assert!(
        io::Read::read(&mut body, &mut [0; 8]).is_err(),
        "and stays failed"
    );
}

#[test]
fn a_body_of_exactly_the_limit_reads_whole() {
    let (mut body, hit) = limited(b"0123", 4);
    let mut got = Vec::new();
    assert_eq!(io::Read::read_to_end(&mut body, &mut got).unwrap(), 4);
    assert!(!hit.load(Ordering::Acquire));
}

#[test]
fn buffered_reads_see_only_what_the_limit_allows() {
    use std::io::BufRead;
    let (mut body, hit) = limited(b"line one\nline two\n", 5);
    assert_eq!(body.fill_buf().unwrap(), b"line ");
    body.consume(3);
    assert_eq!(body.fill_buf().unwrap(), b"e ");
    body.consume(2);
    assert!(body.fill_buf().is_err());
    assert!(hit.load(Ordering::Acquire));
}

fn stripped(target: &str, prefix: &str) -> Option<String> {
    let uri: Uri = target.parse().unwrap();
    strip(&uri, prefix).map(|u| u.to_string())
}

#[test]
fn strip_keeps_a_leading_slash_and_the_query() {
    assert_eq!(
        stripped("/api/users?x=1", "/api").as_deref(),
        Some("/users?x=1")
    );
    assert_eq!(stripped("/api/users", "/api/").as_deref(), Some("/users"));
    assert_eq!(stripped("/api", "/api").as_deref(), Some("/"));
    assert_eq!(stripped("/api?q", "/api").as_deref(), Some("/?q"));
    assert_eq!(stripped("/apix", "/api").as_deref(), Some("/x"));
    assert_eq!(
        stripped("http://h/api/x", "/api").as_deref(),
        Some("http://h/x")
    );
}

#[test]
fn strip_needs_the_prefix_as_sent_and_decoded() {
    assert_eq!(stripped("/other", "/api"), None);
    assert_eq!(stripped("/api%2Fx", "/api/"), None, "the raw path lacks it");
    assert_eq!(
        stripped("/%61pi/x", "/api"),
        None,
        "only the decoded path has it"
    );
    assert_eq!(
        stripped("/a%20b/x", "/a%20b"),
        None,
        "only the raw path has it"
    );
    assert_eq!(stripped("/a%2520b/x", "/a%20b"), None);
}
