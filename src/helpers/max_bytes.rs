//! [`max_bytes`]: a limit on how much of a request body a handler may read (Go's
//! `http.MaxBytesReader`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use http::StatusCode;

use crate::error::MaxBytesError;
use crate::request::Limit;
use crate::{error, Handler, Request, ResponseWriter};

/// Limits what `r`'s body reads may return to `n` more bytes (Go's `http.MaxBytesReader`).
///
/// A read past the limit fails with a [`MaxBytesError`], and from then on the response to
/// `r` (sent through `w`) carries `Connection: close` and the connection closes after it:
/// the rest of the body is not read. If the head has already gone out (after a
/// [`flush`](std::io::Write::flush)), the connection still closes after the response. A
/// tighter limit set earlier stays.
///
/// ```
/// use std::io::Read;
/// use nethttp::{max_bytes_reader, Request, ResponseWriter};
///
/// fn upload(w: &mut ResponseWriter, r: &mut Request) {
///     max_bytes_reader(w, r, 1024);
///     let mut body = Vec::new();
///     if let Err(e) = r.body().read_to_end(&mut body) {
///         return nethttp::error(w, &e.to_string(), http::StatusCode::PAYLOAD_TOO_LARGE);
///     }
///     // ...
/// }
/// ```
pub fn max_bytes_reader(w: &mut ResponseWriter, r: &mut Request, n: u64) {
    limit_body(w, r, n);
}

/// Sets the limit and returns the flag its first overrun sets.
fn limit_body(w: &mut ResponseWriter, r: &mut Request, n: u64) -> Arc<AtomicBool> {
    if let Some(limit) = &mut r.body.limit {
        if n < limit.left {
            limit.left = n;
            limit.limit = n;
        }
        return Arc::clone(&limit.hit);
    }
    let hit = Arc::new(AtomicBool::new(false));
    r.body.limit = Some(Limit {
        left: n,
        limit: n,
        hit: Arc::clone(&hit),
    });
    w.watch_body_limit(Arc::clone(&hit));
    hit
}

/// Limits the request body `handler` may read to `n` bytes (Go's `http.MaxBytesHandler`):
/// [`max_bytes_reader`] for every request.
///
/// If `handler` read past the limit and then wrote nothing (no status, no body), it is
/// answered for: `413 Payload Too Large` with the text `http: request body too large`
/// (what Go's handlers commonly write with `http.Error`), and `Connection: close`.
///
/// An inline handler's body is also bounded by
/// [`Server::max_body_bytes`](crate::Server::max_body_bytes) before it runs; this limit is
/// most useful on a [`blocking`](crate::blocking) handler, whose body streams.
///
/// ```
/// use std::io::Read;
/// use nethttp::{blocking, max_bytes, Request, ResponseWriter};
///
/// let upload = max_bytes(
///     blocking(|w: &mut ResponseWriter, r: &mut Request| {
///         let mut body = Vec::new();
///         if r.body().read_to_end(&mut body).is_err() {
///             return; // past 1 MiB: the client gets 413
///         }
///         // ...
///     }),
///     1 << 20,
/// );
/// ```
pub fn max_bytes<H: Handler>(handler: H, n: u64) -> MaxBytes<H> {
    MaxBytes { handler, limit: n }
}

/// A handler whose request bodies are limited; made by [`max_bytes`].
#[derive(Debug, Clone)]
pub struct MaxBytes<H> {
    handler: H,
    limit: u64,
}

impl<H: Handler> Handler for MaxBytes<H> {
    fn serve_http(&self, w: &mut ResponseWriter, r: &mut Request) {
        let hit = limit_body(w, r, self.limit);
        self.handler.serve_http(w, r);
        if hit.load(Ordering::Acquire) && w.is_untouched() {
            let too_large = MaxBytesError { limit: self.limit };
            error(w, &too_large.to_string(), StatusCode::PAYLOAD_TOO_LARGE);
        }
    }

    fn is_blocking(&self, r: &Request) -> bool {
        self.handler.is_blocking(r)
    }

    fn may_block(&self) -> bool {
        self.handler.may_block()
    }
}
