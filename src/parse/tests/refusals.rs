//! Every refusal of a bad head with its exact [`Reject`]: framing conflicts, header syntax,
//! too many fields, versions, request lines and targets.

use super::*;

const BAD_CL: Reject = Reject::BadRequest("invalid Content-Length");
const BAD_NAME: Reject = Reject::BadRequest("invalid header name");
const BAD_VALUE: Reject = Reject::BadRequest("invalid header value");
const BAD_VERSION: Reject = Reject::BadRequest("malformed HTTP version");
const BAD_TARGET: Reject = Reject::BadRequest("invalid request target");
const BAD_LINE: Reject = Reject::BadRequest("malformed request line");
const BAD_TOKEN: Reject = Reject::BadRequest("invalid method");

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
