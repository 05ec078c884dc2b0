//! Unit tests of `ResponseWriter` on its own: build one, play a handler, then inspect the
//! bytes `finish` or `abort` leave in the output buffer.

use super::*;

const DATE: &[u8; 29] = b"Sun, 06 Nov 1994 08:49:37 GMT";

fn facts(version: Version, head: bool, close: bool) -> Facts {
    Facts {
        head,
        version,
        close,
    }
}

/// A writer for a GET on a kept-alive HTTP/1.1 connection.
fn get11() -> ResponseWriter {
    writer(facts(Version::HTTP_11, false, false))
}

fn writer(facts: Facts) -> ResponseWriter {
    ResponseWriter::new(Parts::default(), facts, DATE)
}

/// The response as text, and whether the connection closes after it.
fn finish(w: ResponseWriter) -> (String, bool) {
    let (parts, close) = w.finish();
    assert!(
        parts.headers.is_empty() && parts.body.is_empty(),
        "buffers handed back clean"
    );
    (String::from_utf8_lossy(&parts.out).into_owned(), close)
}

fn abort(w: ResponseWriter) -> (String, bool) {
    let (parts, close) = w.abort();
    assert!(
        parts.headers.is_empty() && parts.body.is_empty(),
        "buffers handed back clean"
    );
    (String::from_utf8_lossy(&parts.out).into_owned(), close)
}

fn set(w: &mut ResponseWriter, name: &'static str, value: &'static str) {
    w.headers_mut()
        .append(name, HeaderValue::from_static(value));
}

// ---- complete responses: Content-Length ----

#[test]
fn complete_body_gets_content_length() {
    let mut w = get11();
    w.write_all(b"Hello, ").unwrap();
    w.write_all(b"World!").unwrap();
    assert_eq!(
        finish(w),
        (
            "HTTP/1.1 200 OK\r\n\
             Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
             Content-Length: 13\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             \r\n\
             Hello, World!"
                .to_string(),
            false
        )
    );
}

#[test]
fn empty_response_has_zero_length_and_no_type() {
    assert_eq!(
        finish(get11()),
        (
            "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 0\r\n\r\n"
                .to_string(),
            false
        )
    );
}

#[test]
fn status_without_body() {
    let mut w = get11();
    w.write_header(StatusCode::NOT_FOUND);
    assert_eq!(w.status(), StatusCode::NOT_FOUND);
    let (text, _) = finish(w);
    assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"), "{text}");
    assert!(text.ends_with("Content-Length: 0\r\n\r\n"), "{text}");
}

#[test]
fn only_the_first_write_header_counts() {
    let mut w = get11();
    w.write_header(StatusCode::CREATED);
    w.write_header(StatusCode::NOT_FOUND);
    assert_eq!(w.status(), StatusCode::CREATED);
    let mut w = get11();
    w.write_all(b"x").unwrap();
    w.write_header(StatusCode::NOT_FOUND);
    assert_eq!(w.status(), StatusCode::OK, "a write implies 200");
}

#[test]
fn handler_content_length_is_replaced_by_the_real_one() {
    for declared in ["5", "3", "100", "junk"] {
        let mut w = get11();
        set(&mut w, "content-length", declared);
        w.write_all(b"hello").unwrap();
        let (text, _) = finish(w);
        assert_eq!(
            text.matches("Content-Length").count(),
            1,
            "{declared}: {text}"
        );
        assert!(text.contains("Content-Length: 5\r\n"), "{declared}: {text}");
        assert!(text.ends_with("\r\n\r\nhello"));
    }
}

#[test]
fn framing_headers_from_the_handler_are_not_sent() {
    let mut w = get11();
    set(&mut w, "transfer-encoding", "chunked");
    set(&mut w, "connection", "keep-alive");
    w.write_all(b"abc").unwrap();
    let (text, close) = finish(w);
    assert!(!text.contains("Transfer-Encoding"), "{text}");
    assert!(!text.contains("Connection"), "{text}");
    assert!(text.contains("Content-Length: 3\r\n"));
    assert!(!close);
}

#[test]
fn handler_date_replaces_the_server_date() {
    let mut w = get11();
    set(&mut w, "date", "Mon, 01 Jan 2024 00:00:00 GMT");
    let (text, _) = finish(w);
    assert_eq!(text.matches("Date:").count(), 1);
    assert!(text.contains("Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"));
}

// ---- flush: chunked or until close ----

#[test]
fn flush_on_http11_chunks_the_body() {
    let mut w = get11();
    w.write_all(b"ab").unwrap();
    w.flush().unwrap();
    w.flush().unwrap(); // nothing staged: no empty chunk, which would end the body
    w.write_all(b"cde").unwrap();
    assert_eq!(
        finish(w),
        (
            "HTTP/1.1 200 OK\r\n\
             Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
             Transfer-Encoding: chunked\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             \r\n\
             2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n"
                .to_string(),
            false
        )
    );
}

#[test]
fn flush_before_any_write_sends_the_head_without_a_type() {
    let mut w = get11();
    w.write_header(StatusCode::ACCEPTED);
    w.flush().unwrap();
    w.write_all(b"later").unwrap();
    let (text, close) = finish(w);
    assert_eq!(
        text,
        "HTTP/1.1 202 Accepted\r\n\
         Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
         Transfer-Encoding: chunked\r\n\
         \r\n\
         5\r\nlater\r\n0\r\n\r\n"
    );
    assert!(!close);
}

#[test]
fn headers_changed_after_flush_have_no_effect() {
    let mut w = get11();
    w.write_all(b"x").unwrap();
    w.flush().unwrap();
    set(&mut w, "x-late", "1");
    let (text, _) = finish(w);
    assert!(!text.contains("X-Late"), "{text}");
}

#[test]
fn flush_on_http10_delimits_by_close() {
    for keep_alive in [false, true] {
        let mut w = writer(facts(Version::HTTP_10, false, !keep_alive));
        w.write_all(b"ab").unwrap();
        w.flush().unwrap();
        w.write_all(b"cd").unwrap();
        assert_eq!(
            finish(w),
            (
                "HTTP/1.0 200 OK\r\n\
                 Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
                 Content-Type: text/plain; charset=utf-8\r\n\
                 \r\n\
                 abcd"
                    .to_string(),
                true
            ),
            "keep-alive asked: {keep_alive}"
        );
    }
}

#[test]
fn http10_keep_alive_with_known_length() {
    let mut w = writer(facts(Version::HTTP_10, false, false));
    w.write_all(b"hi").unwrap();
    assert_eq!(
        finish(w),
        (
            "HTTP/1.0 200 OK\r\n\
             Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
             Content-Length: 2\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             Connection: keep-alive\r\n\
             \r\n\
             hi"
            .to_string(),
            false
        )
    );
}

#[test]
fn http10_without_keep_alive_closes_silently() {
    let mut w = writer(facts(Version::HTTP_10, false, true));
    w.write_all(b"hi").unwrap();
    let (text, close) = finish(w);
    assert!(close);
    assert!(!text.contains("Connection"), "{text}");
    assert!(text.contains("Content-Length: 2\r\n"));
}

// ---- HEAD ----

#[test]
fn head_keeps_the_length_but_sends_no_body() {
    let mut w = writer(facts(Version::HTTP_11, true, false));
    w.write_all(b"Hello, World!").unwrap();
    assert_eq!(
        finish(w),
        (
            "HTTP/1.1 200 OK\r\n\
             Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
             Content-Length: 13\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             \r\n"
                .to_string(),
            false
        )
    );
}

#[test]
fn head_with_declared_length_and_no_body_keeps_the_declared_length() {
    let mut w = writer(facts(Version::HTTP_11, true, false));
    set(&mut w, "content-length", "1234");
    let (text, _) = finish(w);
    assert!(text.contains("Content-Length: 1234\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\n"));
}

#[test]
fn head_with_nothing_written_has_no_length() {
    let (text, close) = finish(writer(facts(Version::HTTP_11, true, false)));
    assert_eq!(
        text,
        "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n"
    );
    assert!(!close);
}

#[test]
fn head_with_flush_is_never_chunked() {
    let mut w = writer(facts(Version::HTTP_11, true, false));
    w.write_all(b"abc").unwrap();
    w.flush().unwrap();
    w.write_all(b"def").unwrap();
    let (text, close) = finish(w);
    assert!(!text.contains("Transfer-Encoding"), "{text}");
    assert!(!text.contains("Content-Length"), "{text}");
    assert!(text.ends_with("\r\n\r\n"), "no body, no last chunk: {text}");
    assert!(!close);
    // The same on HTTP/1.0 with keep-alive: the connection can stay open.
    let mut w = writer(facts(Version::HTTP_10, true, false));
    w.write_all(b"abc").unwrap();
    w.flush().unwrap();
    let (text, close) = finish(w);
    assert!(text.contains("Connection: keep-alive\r\n"), "{text}");
    assert!(!close);
}

// ---- 1xx, 204, 304 ----

#[test]
fn no_content_has_no_length_and_refuses_a_body() {
    let mut w = get11();
    set(&mut w, "content-length", "5");
    set(&mut w, "content-type", "text/plain");
    w.write_header(StatusCode::NO_CONTENT);
    assert!(w.write_all(b"hello").is_err());
    assert_eq!(
        finish(w),
        (
            "HTTP/1.1 204 No Content\r\n\
             Content-Type: text/plain\r\n\
             Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
             \r\n"
                .to_string(),
            false
        )
    );
}

#[test]
fn not_modified_drops_length_and_type() {
    let mut w = get11();
    set(&mut w, "content-type", "text/html");
    set(&mut w, "content-length", "10");
    set(&mut w, "etag", "\"v1\"");
    w.write_header(StatusCode::NOT_MODIFIED);
    assert!(w.write_all(b"x").is_err());
    assert_eq!(
        finish(w).0,
        "HTTP/1.1 304 Not Modified\r\nEtag: \"v1\"\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n"
    );
}

#[test]
fn no_content_with_flush_is_not_chunked() {
    let mut w = get11();
    w.write_header(StatusCode::NO_CONTENT);
    w.flush().unwrap();
    let (text, close) = finish(w);
    assert_eq!(
        text,
        "HTTP/1.1 204 No Content\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n"
    );
    assert!(!close);
}

#[test]
fn informational_goes_ahead_of_the_final_response() {
    let mut w = get11();
    set(&mut w, "link", "</style.css>; rel=preload");
    w.write_header(StatusCode::from_u16(103).unwrap());
    w.write_all(b"ok").unwrap();
    let (text, _) = finish(w);
    assert!(
        text.starts_with(
            "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\n"
        ),
        "{text}"
    );
    assert!(text.ends_with("\r\n\r\nok"));
}

#[test]
fn switching_protocols_and_1xx_on_http10_are_ignored() {
    let mut w = get11();
    w.write_header(StatusCode::SWITCHING_PROTOCOLS);
    let (text, _) = finish(w);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    let mut w = writer(facts(Version::HTTP_10, false, true));
    w.write_header(StatusCode::from_u16(103).unwrap());
    let (text, _) = finish(w);
    assert!(text.starts_with("HTTP/1.0 200 OK\r\n"), "{text}");
    assert_eq!(text.matches("HTTP/1").count(), 1);
}

// ---- Connection ----

#[test]
fn client_close_is_echoed() {
    let mut w = writer(facts(Version::HTTP_11, false, true));
    w.write_all(b"x").unwrap();
    let (text, close) = finish(w);
    assert!(close);
    assert!(text.contains("Connection: close\r\n"), "{text}");
}

#[test]
fn handler_connection_close_closes_and_is_sent_once() {
    for value in ["close", "Close", "upgrade, close"] {
        let mut w = get11();
        w.headers_mut()
            .insert("connection", HeaderValue::from_static(value));
        w.write_all(b"bye").unwrap();
        let (text, close) = finish(w);
        assert!(close, "{value}");
        assert_eq!(text.matches("Connection").count(), 1, "{value}: {text}");
        assert!(text.contains("Connection: close\r\n"), "{value}: {text}");
    }
    // Also once the response is streaming.
    let mut w = get11();
    set(&mut w, "connection", "close");
    w.flush().unwrap();
    let (text, close) = finish(w);
    assert!(close);
    assert!(text.contains("Connection: close\r\n") && text.ends_with("0\r\n\r\n"));
}

/// The request side's signal is read when the head is fixed, and a head that said close
/// is not taken back when the signal clears later (a `100 Continue` sent after a flush).
#[test]
fn the_request_sides_close_signal_is_sent_and_kept() {
    let signalled = |set_before_head: bool| {
        let signal = CloseAfter::default();
        let mut w = get11();
        w.close_after = Some(signal.clone());
        if set_before_head {
            signal.set();
        }
        (w, signal)
    };
    let (mut w, _) = signalled(true);
    w.write_all(b"x").unwrap();
    let (text, close) = finish(w);
    assert!(close && text.contains("Connection: close\r\n"), "{text}");

    let (mut w, signal) = signalled(true);
    w.flush().unwrap();
    signal.clear();
    let (text, close) = finish(w);
    assert!(close && text.contains("Connection: close\r\n"), "{text}");

    let (mut w, signal) = signalled(false);
    w.flush().unwrap();
    signal.set(); // after the head: the connection still closes, unannounced
    let (text, close) = finish(w);
    assert!(close && !text.contains("Connection"), "{text}");
}

#[test]
fn handler_close_on_http10_keep_alive() {
    let mut w = writer(facts(Version::HTTP_10, false, false));
    set(&mut w, "connection", "close");
    w.write_all(b"x").unwrap();
    let (text, close) = finish(w);
    assert!(close);
    assert!(
        !text.contains("Connection"),
        "1.0 closes without saying so: {text}"
    );
}

// ---- Content-Type sniffing ----

#[test]
fn sniffed_content_types() {
    for (body, expected) in [
        (
            &b"<!DOCTYPE html><html></html>"[..],
            "text/html; charset=utf-8",
        ),
        (b"  \n<HTML><body>", "text/html; charset=utf-8"),
        (b"<html>", "text/html; charset=utf-8"),
        (b"plain words\n", "text/plain; charset=utf-8"),
        ("caf\u{e9}".as_bytes(), "text/plain; charset=utf-8"),
        (b"{\"json\": true}", "text/plain; charset=utf-8"),
        (b"\x00\x01\x02binary", "application/octet-stream"),
        (b"\xff\xfe\xfd", "text/plain; charset=utf-8"), // not a BOM: too short
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"<htm", "text/plain; charset=utf-8"),
    ] {
        let mut w = get11();
        w.write_all(body).unwrap();
        let (text, _) = finish(w);
        let line = format!("Content-Type: {expected}\r\n");
        assert!(
            text.contains(&line),
            "{:?}: {text:?}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn sniffing_tolerates_a_character_cut_at_512_bytes() {
    let mut body = vec![b'a'; 511];
    body.extend_from_slice("\u{e9}".as_bytes()); // bytes 511 and 512
    assert_eq!(
        crate::sniff::detect_content_type(&body),
        "text/plain; charset=utf-8"
    );
}

#[test]
fn handler_content_type_is_not_sniffed() {
    let mut w = get11();
    set(&mut w, "content-type", "application/json");
    w.write_all(b"<html>").unwrap();
    let (text, _) = finish(w);
    assert_eq!(text.matches("Content-Type").count(), 1);
    assert!(text.contains("Content-Type: application/json\r\n"));
}

// ---- header names ----

#[test]
fn header_names_are_sent_in_canonical_case() {
    let mut w = get11();
    set(&mut w, "x-my-header", "a");
    set(&mut w, "x-my-header", "b");
    set(&mut w, "cache-control", "no-store");
    set(&mut w, "www-authenticate", "Basic");
    let (text, _) = finish(w);
    assert!(
        text.contains("X-My-Header: a\r\nX-My-Header: b\r\n"),
        "repeats in order: {text}"
    );
    assert!(text.contains("Cache-Control: no-store\r\n"));
    assert!(text.contains("Www-Authenticate: Basic\r\n"));
    assert!(!text.contains("x-my-header"));
}

// ---- error() ----

#[test]
fn error_helper_output() {
    let mut w = get11();
    set(&mut w, "content-length", "999");
    error(&mut w, "no entry", StatusCode::FORBIDDEN);
    assert_eq!(
        finish(w),
        (
            "HTTP/1.1 403 Forbidden\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             X-Content-Type-Options: nosniff\r\n\
             Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
             Content-Length: 9\r\n\
             \r\n\
             no entry\n"
                .to_string(),
            false
        )
    );
}

#[test]
fn error_replaces_a_handler_content_type() {
    let mut w = get11();
    set(&mut w, "content-type", "text/html");
    error(&mut w, "nope", StatusCode::BAD_REQUEST);
    let (text, _) = finish(w);
    assert_eq!(text.matches("\r\nContent-Type:").count(), 1, "{text}");
    assert!(text.contains("Content-Type: text/plain; charset=utf-8\r\n"));
    assert!(text.ends_with("\r\n\r\nnope\n"));
}

// ---- abort() ----

#[test]
fn abort_before_flush_answers_500() {
    let mut w = get11();
    set(&mut w, "x-secret", "1");
    w.write_header(StatusCode::CREATED);
    w.write_all(b"half a response").unwrap();
    let (text, close) = abort(w);
    assert_eq!(
        text,
        "HTTP/1.1 500 Internal Server Error\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         X-Content-Type-Options: nosniff\r\n\
         Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
         Content-Length: 22\r\n\
         \r\n\
         Internal Server Error\n"
    );
    assert!(
        !close,
        "the 500 is complete, so the connection can be reused"
    );
}

#[test]
fn abort_before_flush_keeps_the_clients_close() {
    let (text, close) = abort(writer(facts(Version::HTTP_11, false, true)));
    assert!(text.starts_with("HTTP/1.1 500 "));
    assert!(text.contains("Connection: close\r\n"));
    assert!(close);
}

#[test]
fn abort_of_head_sends_no_body() {
    let (text, _) = abort(writer(facts(Version::HTTP_11, true, false)));
    assert!(text.starts_with("HTTP/1.1 500 "));
    assert!(text.contains("Content-Length: 22\r\n"));
    assert!(text.ends_with("\r\n\r\n"), "{text}");
}

#[test]
fn abort_after_flush_truncates_and_closes() {
    let mut w = get11();
    w.write_all(b"partial").unwrap();
    w.flush().unwrap();
    w.write_all(b"never sent").unwrap();
    let (text, close) = abort(w);
    assert!(close);
    assert!(
        text.ends_with("\r\n\r\n7\r\npartial\r\n"),
        "no last chunk: {text:?}"
    );
    assert!(!text.contains("never sent"));
    assert!(!text.contains(" 500 "));
}

#[test]
fn abort_after_flush_on_http10_closes() {
    let mut w = writer(facts(Version::HTTP_10, false, false));
    w.write_all(b"partial").unwrap();
    w.flush().unwrap();
    let (text, close) = abort(w);
    assert!(close);
    assert!(text.ends_with("\r\n\r\npartial"), "{text:?}");
}

// ---- pipelining: earlier responses stay first ----

#[test]
fn output_appends_after_earlier_responses() {
    let parts = Parts {
        out: b"EARLIER".to_vec(),
        ..Parts::default()
    };
    let mut w = ResponseWriter::new(parts, facts(Version::HTTP_11, false, false), DATE);
    w.write_all(b"x").unwrap();
    let (parts, _) = w.finish();
    assert!(parts.out.starts_with(b"EARLIERHTTP/1.1 200 OK\r\n"));
}

// ---- a declared Content-Length survives a flush ----

#[test]
fn flush_with_a_declared_length_keeps_it() {
    for version in [Version::HTTP_11, Version::HTTP_10] {
        let mut w = writer(facts(version, false, false));
        set(&mut w, "content-length", "5");
        w.write_all(b"ab").unwrap();
        w.flush().unwrap();
        w.write_all(b"cde").unwrap();
        let (text, close) = finish(w);
        assert!(text.contains("Content-Length: 5\r\n"), "{text}");
        assert!(!text.contains("Transfer-Encoding"), "{text}");
        assert!(text.ends_with("\r\n\r\nabcde"), "{text}");
        assert!(!close, "{version:?}: the length delimits the body");
    }
}

#[test]
fn a_declared_length_is_enforced_once_streaming() {
    let mut w = get11();
    set(&mut w, "content-length", "4");
    w.write_all(b"ab").unwrap();
    w.flush().unwrap();
    assert!(w.write_all(b"cde").is_err(), "past the declared length");
    let (text, close) = finish(w);
    assert!(text.ends_with("\r\n\r\nab"), "{text}");
    assert!(close, "a short body must end the connection");
}
