//! Unit tests of `parse.rs`: finding the end of a head, parsing good heads, and every
//! refusal with its exact [`Reject`].

use super::*;

fn peer() -> SocketAddr {
    "127.0.0.1:40000".parse().unwrap()
}

/// Parses `raw`, which must be a complete head.
fn ok(raw: &[u8]) -> Head {
    match parse(raw, peer()) {
        Ok(head) => head,
        Err(reject) => panic!("{:?} refused: {reject:?}", String::from_utf8_lossy(raw)),
    }
}

/// The refusal of `raw`, which must be refused.
fn refused(raw: &[u8]) -> Reject {
    match parse(raw, peer()) {
        Ok(head) => panic!("{:?} accepted: {head:?}", String::from_utf8_lossy(raw)),
        Err(reject) => reject,
    }
}

/// A GET head on HTTP/1.1 with `Host: x` and the extra header lines `lines`.
fn get_with(lines: &str) -> Vec<u8> {
    format!("GET / HTTP/1.1\r\nHost: x\r\n{lines}\r\n").into_bytes()
}

/// A POST head on HTTP/1.1 with `Host: x` and the extra header lines `lines`.
fn post_with(lines: &str) -> Vec<u8> {
    format!("POST / HTTP/1.1\r\nHost: x\r\n{lines}\r\n").into_bytes()
}

const BAD_CL: Reject = Reject::BadRequest("invalid Content-Length");
const BAD_NAME: Reject = Reject::BadRequest("invalid header name");
const BAD_VALUE: Reject = Reject::BadRequest("invalid header value");
const BAD_VERSION: Reject = Reject::BadRequest("malformed HTTP version");
const BAD_TARGET: Reject = Reject::BadRequest("invalid request target");
const BAD_LINE: Reject = Reject::BadRequest("malformed request line");
const BAD_TOKEN: Reject = Reject::BadRequest("invalid method");

// ---- find_end ----

#[test]
fn find_end_crlf() {
    let head = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_eq!(find_end(head, 0), Some(head.len()));
}

#[test]
fn find_end_bare_lf() {
    let head = b"GET / HTTP/1.1\nHost: x\n\n";
    assert_eq!(find_end(head, 0), Some(head.len()));
    // Mixed endings: CRLF then a bare LF, and a bare LF then CRLF.
    assert_eq!(find_end(b"GET / HTTP/1.0\r\n\n", 0), Some(17));
    assert_eq!(find_end(b"GET / HTTP/1.0\n\r\n", 0), Some(17));
}

#[test]
fn find_end_stops_at_the_first_blank_line() {
    let two = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_eq!(find_end(two, 0), Some(28));
    let with_body = b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n\r\n\r\n";
    assert_eq!(find_end(with_body, 0), Some(with_body.len() - 4));
}

#[test]
fn find_end_partial_heads() {
    for partial in [
        &b""[..],
        b"GET",
        b"GET / HTTP/1.1",
        b"GET / HTTP/1.1\r",
        b"GET / HTTP/1.1\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\n\r",
        b"GET / HTTP/1.1\nHost: x\n",
        b"\r\r\r",
    ] {
        assert_eq!(
            find_end(partial, 0),
            None,
            "{:?}",
            String::from_utf8_lossy(partial)
        );
    }
}

#[test]
fn find_end_resumes_from_every_earlier_scan_position() {
    for head in [
        &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        b"GET / HTTP/1.1\nHost: x\n\n",
        b"GET / HTTP/1.1\r\nHost: x\r\n\nEXTRA",
    ] {
        let end = find_end(head, 0).unwrap();
        for cut in 0..end {
            // A first read of `cut` bytes finds nothing; the scan resumes where it stopped.
            assert_eq!(find_end(&head[..cut], 0), None, "cut {cut}");
            assert_eq!(find_end(head, cut), Some(end), "resumed at {cut}");
        }
    }
}

#[test]
fn find_end_one_byte_at_a_time() {
    let head = b"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\n";
    let mut scanned = 0;
    for len in 1..=head.len() {
        match find_end(&head[..len], scanned) {
            Some(end) => {
                assert_eq!((len, end), (head.len(), head.len()));
                return;
            }
            None => scanned = len,
        }
    }
    panic!("end never found");
}

#[test]
fn oversize_is_414_before_the_request_line_ends_else_431() {
    assert_eq!(oversize(b"GET /aaaaaaaaaaaaaaaa"), Reject::UriTooLong);
    assert_eq!(
        oversize(b"GET / HTTP/1.1\r\nX-Big: aaaaaaaa"),
        Reject::HeaderTooLarge
    );
}

// ---- good heads ----

#[test]
fn simple_get() {
    let head = ok(b"GET /path?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
    let r = &head.request;
    assert_eq!(r.method, Method::GET);
    assert_eq!(r.uri.path(), "/path");
    assert_eq!(r.uri.query(), Some("q=1"));
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
    assert_eq!(head.request.uri.path(), "/x");
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
    let uri = &head.request.uri;
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
    let authority = head.request.uri.authority().unwrap();
    assert_eq!(authority.as_str(), "example.com:443");
    assert_eq!(head.request.uri.scheme(), None);
}

#[test]
fn asterisk_form_for_options() {
    let head = ok(b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(head.request.method, Method::OPTIONS);
    assert_eq!(head.request.uri, "*");
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
        assert_eq!(head.request.uri.path(), "/m");
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

// ---- refusals ----

#[test]
fn content_length_with_transfer_encoding_is_400() {
    let both = Reject::BadRequest("both Transfer-Encoding and Content-Length");
    assert_eq!(
        refused(&post_with(
            "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"
        )),
        both
    );
    assert_eq!(
        refused(&post_with(
            "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"
        )),
        both
    );
    assert_eq!(
        refused(&post_with(
            "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n"
        )),
        both
    );
}

#[test]
fn differing_content_lengths_are_400() {
    assert_eq!(
        refused(&post_with("Content-Length: 5\r\nContent-Length: 6\r\n")),
        Reject::BadRequest("conflicting Content-Length headers")
    );
    // Lengths are compared as numbers: `05` is the same length as `5`.
    assert_eq!(
        ok(&post_with("Content-Length: 5\r\nContent-Length: 05\r\n")).framing,
        Framing::Length(5)
    );
}

#[test]
fn malformed_content_lengths_are_400() {
    for value in [
        "+5",
        "-1",
        "5, 5",
        "5,5",
        "abc",
        "",
        "5 5",
        "0x5",
        "5.0",
        "18446744073709551616",  // u64::MAX + 1
        "99999999999999999999",  // 20 digits
        "000000000000000000005", // 21 digits
    ] {
        let raw = post_with(&format!("Content-Length: {value}\r\n"));
        assert_eq!(refused(&raw), BAD_CL, "{value:?}");
    }
}

#[test]
fn unknown_transfer_codings_are_501() {
    for lines in [
        "Transfer-Encoding: gzip\r\n",
        "Transfer-Encoding: gzip, chunked\r\n",
        "Transfer-Encoding: chunked, gzip\r\n",
        "Transfer-Encoding: identity\r\n",
        "Transfer-Encoding: chunked, chunked\r\n",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding:\r\n",
    ] {
        assert_eq!(
            refused(&post_with(lines)),
            Reject::UnsupportedTransferCoding,
            "{lines:?}"
        );
    }
}

#[test]
fn transfer_encoding_on_http10_is_400() {
    let expected = Reject::BadRequest("Transfer-Encoding in an HTTP/1.0 request");
    assert_eq!(
        refused(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
        expected
    );
    assert_eq!(
        refused(b"POST / HTTP/1.0\r\nTransfer-Encoding: gzip\r\n\r\n"),
        expected
    );
    assert_eq!(
        refused(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"),
        expected
    );
}

#[test]
fn invalid_header_names_are_400() {
    for line in [
        "Foo Bar: x",
        "Foo : x",
        "X(Y): x",
        "X/Y: x",
        "X\"Y: x",
        ": x",
        "X{Y}: x",
    ] {
        let raw = get_with(&format!("{line}\r\n"));
        assert_eq!(refused(&raw), BAD_NAME, "{line:?}");
    }
}

#[test]
fn lines_without_a_colon_are_400() {
    assert_eq!(refused(&get_with("NoColonHere\r\n")), BAD_NAME);
}

#[test]
fn control_bytes_in_values_are_400() {
    for value in ["a\x00b", "a\x01b", "a\x1bb", "a\x7fb", "a\rb"] {
        let raw = get_with(&format!("X-V: {value}\r\n"));
        assert_eq!(refused(&raw), BAD_VALUE, "{value:?}");
    }
    // A tab inside a value is allowed.
    assert_eq!(
        ok(&get_with("X-V: a\tb\r\n")).request.headers()["x-v"],
        "a\tb"
    );
}

#[test]
fn obs_fold_is_400() {
    for lines in [
        "X-Fold: a\r\n  b\r\n",
        "X-Fold: a\r\n\tb\r\n",
        " X-Lead: a\r\n",
    ] {
        let reject = refused(&get_with(lines));
        assert_eq!(reject, BAD_NAME, "{lines:?}");
    }
    // Folding the first header line, right after the request line.
    assert_eq!(refused(b"GET / HTTP/1.1\r\n Host: x\r\n\r\n"), BAD_NAME);
}

#[test]
fn more_than_one_hundred_fields_is_431() {
    let mut lines = String::new();
    for i in 0..MAX_HEADERS {
        lines.push_str(&format!("X-{i}: v\r\n"));
    }
    assert_eq!(refused(&get_with(&lines)), Reject::HeaderTooLarge);
}

#[test]
fn other_major_versions_are_505() {
    for version in ["HTTP/2.0", "HTTP/3.1", "HTTP/0.9", "HTTP/9.9"] {
        let raw = format!("GET / {version}\r\nHost: x\r\n\r\n");
        assert_eq!(
            refused(raw.as_bytes()),
            Reject::VersionNotSupported,
            "{version}"
        );
    }
}

#[test]
fn malformed_versions_are_400() {
    for version in [
        "http/1.1",
        "HTTP/1",
        "HTTP/1.",
        "HTTP/11.1",
        "HTTP/a.b",
        "HTTPS/1.1",
        "XHTTP/1.1",
        "HTTP/1.x",
    ] {
        let raw = format!("GET / {version}\r\nHost: x\r\n\r\n");
        assert_eq!(refused(raw.as_bytes()), BAD_VERSION, "{version}");
    }
    // A well-formed version followed by more bytes: the line does not end where it must.
    for version in ["HTTP/1.1x", "HTTP/1.10", "HTTP/1.1 "] {
        let raw = format!("GET / {version}\r\nHost: x\r\n\r\n");
        assert_eq!(refused(raw.as_bytes()), BAD_LINE, "{version}");
    }
}

#[test]
fn malformed_request_lines_are_400() {
    // httparse reports a bad byte in the method or the target, or a missing part, as a
    // token error; we answer all of them with the same detail.
    for raw in [
        &b"GET /hello\r\nHost: x\r\n\r\n"[..], // no version (HTTP/0.9)
        b"GET  /hello HTTP/1.1\r\nHost: x\r\n\r\n", // two spaces
        b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n",  // not a token
        b" GET / HTTP/1.1\r\nHost: x\r\n\r\n", // leading space
        b"GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n", // control byte in the target
        b"GET\r\n\r\n",
        b"\x00\x01\x02\r\n\r\n",
    ] {
        assert_eq!(
            refused(raw),
            BAD_TOKEN,
            "{:?}",
            String::from_utf8_lossy(raw)
        );
    }
    assert_eq!(
        refused(b"GET /hello HTTP/1.1 extra\r\nHost: x\r\n\r\n"),
        BAD_LINE
    );
}

#[test]
fn bad_targets_are_400() {
    assert_eq!(
        refused(b"GET hello HTTP/1.1\r\nHost: x\r\n\r\n"),
        BAD_TARGET
    );
    assert_eq!(refused(b"GET * HTTP/1.1\r\nHost: x\r\n\r\n"), BAD_TARGET);
    assert_eq!(refused(b"POST * HTTP/1.1\r\nHost: x\r\n\r\n"), BAD_TARGET);
    assert_eq!(
        refused(b"GET example.com:80 HTTP/1.1\r\nHost: x\r\n\r\n"),
        BAD_TARGET
    );
    assert_eq!(
        refused(b"OPTIONS *x HTTP/1.1\r\nHost: x\r\n\r\n"),
        BAD_TARGET
    );
    assert_eq!(
        refused(b"GET http://[bad HTTP/1.1\r\nHost: x\r\n\r\n"),
        BAD_TARGET
    );
}

#[test]
fn a_partial_head_is_400() {
    assert_eq!(
        refused(b"GET / HTTP/1.1\r\nHost: x\r\n"),
        Reject::BadRequest("malformed request head")
    );
}

#[test]
fn del_and_controls_in_values_are_refused_by_the_parser() {
    for value in ["a\x7fb", "a\x01b", "a\x1fb"] {
        for filler in ["", &"x".repeat(40)] {
            let head = format!("GET / HTTP/1.1\r\nHost: x\r\nX-V: {filler}{value}{filler}\r\n\r\n");
            assert_eq!(
                parse(head.as_bytes(), peer()).unwrap_err(),
                Reject::BadRequest("invalid header value"),
                "{value:?} with {} bytes around",
                filler.len()
            );
        }
    }
}
