//! Error responses: the `error()` helper, and `abort()` before and after a flush.

use super::*;

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
