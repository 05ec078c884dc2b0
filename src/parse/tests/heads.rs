//! Parsing good heads: methods, target forms, versions, header fields, Host, body framing,
//! `Expect: 100-continue` and whether the connection closes after the response.

use super::*;

// ---- good heads ----

#[test]
fn simple_get() {
    let head = ok(b"GET /path?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
    let r = &head.request;
    assert_eq!(r.method, Method::GET);
    assert_eq!(r.uri().path(), "/path");
    assert_eq!(r.uri().query(), Some("q=1"));
    assert_eq!(r.version, Version::HTTP_11);
    assert_eq!(r.remote_addr, peer());
    assert_eq!(r.headers()["host"], "example.com");
    assert!(r.trailers().is_empty());
    assert_eq!(head.framing, Framing::Empty);
    assert!(!head.expect_continue);
    assert_eq!(
        head.facts,
        Facts {
            head: false,
            version: Version::HTTP_11,
            close: false
        }
    );
}

#[test]
fn bare_lf_head_is_accepted() {
    let head = ok(b"GET /x HTTP/1.1\nHost: y\n\n");
    assert_eq!(head.request.uri().path(), "/x");
    assert_eq!(head.request.headers()["host"], "y");
}

#[test]
fn methods_are_kept_as_sent() {
    assert_eq!(ok(b"get / HTTP/1.0\r\n\r\n").request.method.as_str(), "get");
    assert_eq!(
        ok(b"PURGE / HTTP/1.0\r\n\r\n").request.method.as_str(),
        "PURGE"
    );
    let head = ok(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(head.request.method, Method::HEAD);
    assert!(head.facts.head);
}

#[test]
fn absolute_form_target() {
    let head = ok(b"GET http://example.com:8080/inspect?q=1 HTTP/1.1\r\nHost: other\r\n\r\n");
    let uri = head.request.uri();
    assert_eq!(uri.scheme_str(), Some("http"));
    assert_eq!(uri.host(), Some("example.com"));
    assert_eq!(uri.port_u16(), Some(8080));
    assert_eq!(uri.path(), "/inspect");
    assert_eq!(uri.query(), Some("q=1"));
    assert_eq!(head.request.host(), "example.com:8080");
}

#[test]
fn authority_form_for_connect() {
    let head = ok(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    assert_eq!(head.request.method, Method::CONNECT);
    let authority = head.request.uri().authority().unwrap();
    assert_eq!(authority.as_str(), "example.com:443");
    assert_eq!(head.request.uri().scheme(), None);
}

#[test]
fn asterisk_form_for_options() {
    let head = ok(b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(head.request.method, Method::OPTIONS);
    assert_eq!(head.request.uri(), "*");
}

#[test]
fn versions() {
    let head = ok(b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(
        (head.request.version, head.facts.version),
        (Version::HTTP_10, Version::HTTP_10)
    );
    let head = ok(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(
        (head.request.version, head.facts.version),
        (Version::HTTP_11, Version::HTTP_11)
    );
    // Later minors are served as 1.1, and then need a Host like 1.1.
    for minor in 2..=9 {
        let raw = format!("GET /m HTTP/1.{minor}\r\nHost: x\r\nX-A: 1\r\n\r\n");
        let head = ok(raw.as_bytes());
        assert_eq!(head.request.version, Version::HTTP_11, "1.{minor}");
        assert_eq!(head.facts.version, Version::HTTP_11);
        assert_eq!(head.request.uri().path(), "/m");
        assert_eq!(head.request.headers()["x-a"], "1");
    }
    let head = ok(b"GET / HTTP/1.2\nHost: x\n\n");
    assert_eq!(head.request.version, Version::HTTP_11);
    assert_eq!(
        refused(b"GET / HTTP/1.2\r\n\r\n"),
        Reject::BadRequest("missing required Host header")
    );
}

#[test]
fn headers_in_order_with_repeats() {
    let head = ok(&get_with(
        "X-A: 1\r\nx-b: two\r\nX-A: 3\r\nX-Empty:\r\nX-Pad:   padded  \r\n",
    ));
    let headers = head.request.headers();
    let a: Vec<_> = headers.get_all("x-a").iter().collect();
    assert_eq!(a, ["1", "3"]);
    assert_eq!(headers["x-b"], "two");
    assert_eq!(headers["x-empty"], "");
    assert_eq!(headers["x-pad"], "padded");
    assert_eq!(headers.len(), 6, "host, x-a twice, x-b, x-empty, x-pad");
}

#[test]
fn non_ascii_header_values_are_kept() {
    let head = ok(&get_with("X-Name: caf\u{e9}\r\n"));
    assert_eq!(
        head.request.headers()["x-name"].as_bytes(),
        "caf\u{e9}".as_bytes()
    );
}

#[test]
fn host_rules() {
    assert_eq!(
        ok(b"GET / HTTP/1.1\r\nHost: my_host:80\r\n\r\n")
            .request
            .host(),
        "my_host:80"
    );
    assert_eq!(ok(b"GET / HTTP/1.1\r\nHost:\r\n\r\n").request.host(), "");
    assert_eq!(
        ok(b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n")
            .request
            .host(),
        "[::1]:8080"
    );
    assert_eq!(ok(b"GET / HTTP/1.0\r\n\r\n").request.host(), "");
    assert_eq!(
        refused(b"GET / HTTP/1.1\r\n\r\n"),
        Reject::BadRequest("missing required Host header")
    );
    assert_eq!(
        refused(b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"),
        Reject::BadRequest("too many Host headers")
    );
    assert_eq!(
        refused(b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"),
        Reject::BadRequest("too many Host headers"),
        "two Hosts are refused on 1.0 too"
    );
    for host in [
        "a b",
        "a/b",
        "a\"b",
        "a<b>",
        "a{b}",
        "a@b",
        "a\\b",
        "a\tb",
        "caf\u{e9}",
    ] {
        let raw = format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");
        assert_eq!(
            refused(raw.as_bytes()),
            Reject::BadRequest("malformed Host header"),
            "{host:?}"
        );
    }
}

#[test]
fn framing() {
    assert_eq!(ok(&post_with("")).framing, Framing::Empty);
    assert_eq!(
        ok(&post_with("Content-Length: 5\r\n")).framing,
        Framing::Length(5)
    );
    assert_eq!(
        ok(&post_with("Content-Length: 0\r\n")).framing,
        Framing::Empty
    );
    assert_eq!(
        ok(&post_with("Content-Length:  7 \r\n")).framing,
        Framing::Length(7)
    );
    assert_eq!(
        ok(&post_with("Content-Length: 5\r\nContent-Length: 5\r\n")).framing,
        Framing::Length(5),
        "identical duplicates are one length"
    );
    assert_eq!(
        ok(&post_with("Content-Length: 9999999999999999999\r\n")).framing,
        Framing::Length(9_999_999_999_999_999_999),
        "19 digits, the most accepted"
    );
    assert_eq!(
        ok(&post_with("Transfer-Encoding: chunked\r\n")).framing,
        Framing::Chunked
    );
    assert_eq!(
        ok(&post_with("transfer-encoding: Chunked\r\n")).framing,
        Framing::Chunked
    );
    assert_eq!(
        ok(&get_with("Content-Length: 3\r\n")).framing,
        Framing::Length(3)
    );
    // HTTP/1.0 with a length.
    let head = ok(b"POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\n");
    assert_eq!(head.framing, Framing::Length(2));
}

#[test]
fn expect_continue() {
    assert!(ok(&post_with("Expect: 100-continue\r\nContent-Length: 5\r\n")).expect_continue);
    assert!(
        ok(&post_with(
            "Expect: 100-Continue\r\nTransfer-Encoding: chunked\r\n"
        ))
        .expect_continue
    );
    // Nothing to wait for without a body, nor on HTTP/1.0.
    assert!(!ok(&post_with("Expect: 100-continue\r\n")).expect_continue);
    assert!(!ok(&post_with("Expect: 100-continue\r\nContent-Length: 0\r\n")).expect_continue);
    let head = ok(b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    assert!(!head.expect_continue);
    assert!(!ok(&post_with("Content-Length: 5\r\n")).expect_continue);
}

#[test]
fn other_expectations_are_417() {
    assert_eq!(
        refused(&post_with("Expect: something\r\n")),
        Reject::ExpectationFailed
    );
    assert_eq!(
        refused(&post_with(
            "Expect: something\r\nExpect: 100-continue\r\nContent-Length: 1\r\n"
        )),
        Reject::ExpectationFailed,
        "a later 100-continue does not undo an unknown expectation"
    );
}

#[test]
fn connection_close_on_http11() {
    assert!(!ok(&get_with("")).facts.close);
    assert!(ok(&get_with("Connection: close\r\n")).facts.close);
    assert!(ok(&get_with("Connection: CLOSE\r\n")).facts.close);
    assert!(
        ok(&get_with("Connection: keep-alive, close\r\n"))
            .facts
            .close
    );
    assert!(
        ok(&get_with("Connection: upgrade\r\nConnection: close\r\n"))
            .facts
            .close
    );
    assert!(!ok(&get_with("Connection: keep-alive\r\n")).facts.close);
    assert!(!ok(&get_with("Connection: closed, upgrade\r\n")).facts.close);
}

#[test]
fn connection_keep_alive_on_http10() {
    assert!(ok(b"GET / HTTP/1.0\r\n\r\n").facts.close);
    assert!(
        !ok(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .facts
            .close
    );
    assert!(
        !ok(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
            .facts
            .close
    );
    assert!(
        !ok(b"GET / HTTP/1.0\r\nConnection: foo, keep-alive\r\n\r\n")
            .facts
            .close
    );
    assert!(
        ok(b"GET / HTTP/1.0\r\nConnection: close\r\n\r\n")
            .facts
            .close
    );
    assert!(
        ok(b"GET / HTTP/1.0\r\nConnection: keep-alives\r\n\r\n")
            .facts
            .close
    );
}

#[test]
fn one_hundred_fields_are_fine() {
    let mut lines = String::new();
    for i in 0..MAX_HEADERS - 1 {
        lines.push_str(&format!("X-{i}: v\r\n"));
    }
    assert_eq!(ok(&get_with(&lines)).request.headers().len(), MAX_HEADERS);
}

#[test]
fn the_names_and_values_the_server_reads_match_in_any_case_and_nothing_else_does() {
    let known: [&[u8]; 11] = [
        b"te",
        b"x-a-name-over-three-words",
        b"host",
        b"content-length",
        b"transfer-encoding",
        b"expect",
        b"connection",
        b"chunked",
        b"100-continue",
        b"close",
        b"keep-alive",
    ];
    // What httparse admits in a value (a superset of the token bytes of a name).
    let admitted = |b: u8| b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80;
    for name in known {
        assert!(is_folded(&name.to_ascii_uppercase(), name));
        // Every admitted byte at every place: a match exactly where a case-blind one does.
        for at in 0..name.len() {
            for b in (0..=255u8).filter(|&b| admitted(b)) {
                let mut other = name.to_vec();
                other[at] = b;
                assert_eq!(
                    is_folded(&other, name),
                    other.eq_ignore_ascii_case(name),
                    "{:?} against {:?}",
                    String::from_utf8_lossy(&other),
                    String::from_utf8_lossy(name)
                );
            }
        }
        assert!(!is_folded(&name[1..], name), "a shorter name");
    }
}

/// A plain path is exactly a target the `Uri` parser takes whole as its path: every byte
/// after `/`, and the length limit. Its request says the same as the `Uri` would.
#[test]
fn a_plain_path_is_what_the_uri_parser_takes_as_a_path_and_reads_the_same() {
    for b in 0..=255u8 {
        let target = [b'/', b'a', b];
        let eager = Uri::try_from(&target[..]);
        let whole = eager
            .as_ref()
            .is_ok_and(|uri| uri.path().as_bytes() == target && uri.query().is_none());
        assert_eq!(is_plain_path(&target), whole, "byte {b:#04x}");
        let mut raw = b"GET ".to_vec();
        raw.extend_from_slice(&target);
        raw.extend_from_slice(b" HTTP/1.1\r\nHost: a\r\n\r\n");
        if let (Ok(head), Ok(uri)) = (parse(&raw, peer()), &eager) {
            assert_eq!(head.request.path(), uri.path(), "byte {b:#04x}");
            assert_eq!(head.request.uri(), uri, "byte {b:#04x}");
            assert_eq!(head.request.uri().query(), uri.query(), "byte {b:#04x}");
        }
    }
    for len in [1, 2, 65_534, 65_535] {
        let target = format!("/{}", "a".repeat(len - 1));
        let eager = Uri::try_from(target.as_str());
        assert_eq!(
            is_plain_path(target.as_bytes()),
            eager.is_ok(),
            "{len} bytes"
        );
        let raw = format!("GET {target} HTTP/1.1\r\nHost: a\r\n\r\n");
        match parse(raw.as_bytes(), peer()) {
            Ok(head) => assert_eq!(head.request.uri(), &eager.expect("parsed as eagerly")),
            Err(refused) => {
                assert!(eager.is_err(), "{len} bytes");
                assert_eq!(refused, Reject::BadRequest("invalid request target"));
            }
        }
    }
}

/// A recycled request has let go of its head: its target reads as `/`, as a blank
/// request's does, whether or not its `Uri` was ever made.
#[test]
fn a_recycled_request_reads_as_slash() {
    for ask_first in [false, true] {
        let mut request = parse(b"GET /abc HTTP/1.1\r\nHost: a\r\n\r\n", peer())
            .expect("a valid head")
            .request;
        if ask_first {
            assert_eq!(request.uri(), "/abc");
        }
        assert_eq!(request.path(), "/abc");
        request.recycle();
        assert_eq!(request.path(), "/");
        assert_eq!(request.uri(), "/");
    }
    assert_eq!(Request::blank().path(), "/");
}
