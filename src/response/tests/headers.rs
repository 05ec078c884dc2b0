//! Status codes and header fields: 1xx, 204 and 304, the `Connection` field, Content-Type
//! sniffing, and header names in canonical case.

use super::*;

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
