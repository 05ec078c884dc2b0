//! The [`Handler`] trait, closures as handlers, and where a handler runs.
//!
//! Previous step: the request is complete (`parse.rs`, `body.rs`). Next: the handler's
//! writes become a response (`response.rs`). Handlers run on the event loop that owns the
//! connection, between reading the request and writing the response, so a handler should
//! not block: while it runs, that loop serves no one else.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};

use crate::{Request, ResponseWriter};

/// Responds to an HTTP request (Go's `http.Handler`).
///
/// Any `Fn(&mut ResponseWriter, &mut Request)` that is `Send + Sync` is a handler:
///
/// ```
/// use std::io::Write;
/// use nethttp::{Handler, Request, ResponseWriter};
///
/// let hello = |w: &mut ResponseWriter, _r: &mut Request| {
///     let _ = w.write_all(b"Hello, World!");
/// };
/// fn assert_handler(_: impl Handler) {}
/// assert_handler(hello);
/// ```
///
/// A handler that panics costs its request a `500 Internal Server Error` (or its
/// connection, if part of the response was already flushed); the panic is logged and the
/// server goes on.
pub trait Handler: Send + Sync + 'static {
    /// Writes the response to `r` through `w`.
    fn serve_http(&self, w: &mut ResponseWriter, r: &mut Request);
}

impl<F> Handler for F
where
    F: Fn(&mut ResponseWriter, &mut Request) + Send + Sync + 'static,
{
    fn serve_http(&self, w: &mut ResponseWriter, r: &mut Request) {
        self(w, r)
    }
}

impl Handler for Box<dyn Handler> {
    fn serve_http(&self, w: &mut ResponseWriter, r: &mut Request) {
        (**self).serve_http(w, r)
    }
}

/// Calls `handler`, catching a panic. `Err` carries the panic's message.
pub(crate) fn call(handler: &dyn Handler, w: &mut ResponseWriter, r: &mut Request) -> Result<(), String> {
    panic::catch_unwind(AssertUnwindSafe(|| handler.serve_http(w, r))).map_err(panic_message)
}

fn panic_message(payload: Box<dyn Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}
