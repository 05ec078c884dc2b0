//! Unit tests of `ResponseWriter` on its own: build one, play a handler, then inspect the
//! bytes `finish` or `abort` leave in the output buffer. This module holds the helpers the
//! three share.

mod errors;
mod framing;
mod headers;

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
