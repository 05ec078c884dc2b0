//! How the body is delimited: Content-Length for a complete body, chunked or until close
//! once flushed, HEAD, a declared length that survives a flush, and output appended after
//! earlier pipelined responses.

use super::*;

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

// ---- pipelining: earlier responses stay first ----

#[test]
fn output_appends_after_earlier_responses() {
    let parts = Parts {
        out: b"EARLIER".to_vec().into(),
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
