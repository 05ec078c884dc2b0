//! The [`Handler`] trait, closures as handlers, and where a handler runs.
//!
//! Previous step: the request is complete (`parse.rs`, `body.rs`). Next: the handler's
//! writes become a response (`response.rs`). Handlers run on the event loop that owns the
//! connection, between reading the request and writing the response, so a handler should
//! not block: while it runs, that loop serves no one else.

use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

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

    /// True if this handler may block on `r` and must run on the blocking pool rather
    /// than on the event loop (see [`blocking`]). Asked once the head has arrived, before
    /// the body. Routers answer for the route `r` takes.
    fn is_blocking(&self, _r: &Request) -> bool {
        false
    }

    /// False if [`is_blocking`](Handler::is_blocking) is false for every request. Asked
    /// once, when the server starts: a server whose handler never blocks skips the question
    /// (and a router's second lookup) on every request. The default, true, always asks;
    /// closures answer false, and wrappers pass the question on.
    fn may_block(&self) -> bool {
        true
    }
}

/// Marks `handler` as one that may block (Go's ordinary handler): it runs on a pool thread,
/// so it may sleep, wait on a database, read a huge body as a stream or send a response
/// piece by piece, while the event loop serves everyone else.
///
/// Its request body is read from the socket only as fast as the handler reads it, and its
/// writes wait while the client is slow to read: memory stays flat either way. Each
/// [`flush`](std::io::Write::flush) sends what is buffered at once (chunked to HTTP/1.1
/// clients), which is how Server-Sent Events work.
///
/// ```
/// use std::io::{Read, Write};
/// use nethttp::{blocking, Request, ResponseWriter};
///
/// let count = blocking(|w: &mut ResponseWriter, r: &mut Request| {
///     let n = std::io::copy(r.body(), &mut std::io::sink()).unwrap_or(0);
///     let _ = write!(w, "{n} bytes");
/// });
/// # fn is_handler(_: impl nethttp::Handler) {}
/// # is_handler(count);
/// ```
pub fn blocking<H: Handler>(handler: H) -> Blocking<H> {
    Blocking(handler)
}

/// A handler that runs on the blocking pool; made by [`blocking`].
#[derive(Debug, Clone)]
pub struct Blocking<H>(H);

impl<H: Handler> Handler for Blocking<H> {
    fn serve_http(&self, w: &mut ResponseWriter, r: &mut Request) {
        if ON_LOOP.with(Cell::get) && !WARNED.swap(true, Ordering::Relaxed) {
            log::error!(
                "the blocking handler for {} {} runs on an event loop, stalling every \
                 connection of that loop: a handler between the server and it does not pass \
                 on `is_blocking` (a closure that calls a ServeMux?). Wrap with \
                 `nethttp::wrap`, or implement `Handler::is_blocking` (logged once)",
                r.method(),
                r.uri().path()
            );
        }
        self.0.serve_http(w, r)
    }

    fn may_block(&self) -> bool {
        true
    }

    fn is_blocking(&self, _r: &Request) -> bool {
        true
    }
}

thread_local! {
    /// Set on the event loops' threads: a blocking handler reached there has lost its way.
    static ON_LOOP: Cell<bool> = const { Cell::new(false) };
}

/// A blocking handler has been found running on a loop, and said so.
static WARNED: AtomicBool = AtomicBool::new(false);

/// Marks the calling thread as an event loop's (the server, as it starts its loops).
pub(crate) fn on_loop_thread() {
    ON_LOOP.with(|on| on.set(true));
}

/// Wraps `next` in `layer`, a function that gets each request along with `next` to call
/// when it sees fit: middleware, Go's `func(next http.Handler) http.Handler`, that keeps
/// `next`'s nature. A request for which `next` is [blocking](blocking) (a `ServeMux`
/// route wrapped in [`blocking`], say) runs on the pool, `layer` and all; the others run on
/// the loop. A plain closure that calls `next` would run every request on the loop,
/// blocking routes too.
///
/// ```
/// use std::time::Instant;
/// use nethttp::{blocking, wrap, Handler, Request, ResponseWriter, ServeMux};
///
/// let mut mux = ServeMux::new();
/// mux.handle("/slow", blocking(|_w: &mut ResponseWriter, _r: &mut Request| {
///     std::thread::sleep(std::time::Duration::from_millis(10));
/// }));
/// let logged = wrap(mux, |w: &mut ResponseWriter, r: &mut Request, next: &ServeMux| {
///     let started = Instant::now();
///     next.serve_http(w, r);
///     log::info!("{} {} took {:?}", r.method(), r.uri().path(), started.elapsed());
/// });
/// # fn is_handler(_: impl Handler) {}
/// # is_handler(logged);
/// ```
pub fn wrap<H, F>(next: H, layer: F) -> Wrap<H, F>
where
    H: Handler,
    F: Fn(&mut ResponseWriter, &mut Request, &H) + Send + Sync + 'static,
{
    Wrap { next, layer }
}

/// A handler wrapped in a layer of middleware; made by [`wrap`].
#[derive(Debug, Clone)]
pub struct Wrap<H, F> {
    next: H,
    layer: F,
}

impl<H, F> Handler for Wrap<H, F>
where
    H: Handler,
    F: Fn(&mut ResponseWriter, &mut Request, &H) + Send + Sync + 'static,
{
    fn serve_http(&self, w: &mut ResponseWriter, r: &mut Request) {
        (self.layer)(w, r, &self.next)
    }

    fn is_blocking(&self, r: &Request) -> bool {
        self.next.is_blocking(r)
    }

    fn may_block(&self) -> bool {
        self.next.may_block()
    }
}

impl<F> Handler for F
where
    F: Fn(&mut ResponseWriter, &mut Request) + Send + Sync + 'static,
{
    fn serve_http(&self, w: &mut ResponseWriter, r: &mut Request) {
        self(w, r)
    }

    fn may_block(&self) -> bool {
        false // a plain closure runs on the loop
    }
}

impl Handler for Box<dyn Handler> {
    fn serve_http(&self, w: &mut ResponseWriter, r: &mut Request) {
        (**self).serve_http(w, r)
    }

    fn is_blocking(&self, r: &Request) -> bool {
        (**self).is_blocking(r)
    }

    fn may_block(&self) -> bool {
        (**self).may_block()
    }
}

/// Calls `handler`, catching a panic. `Err` carries the panic's message.
pub(crate) fn call(
    handler: &dyn Handler,
    w: &mut ResponseWriter,
    r: &mut Request,
) -> Result<(), String> {
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
