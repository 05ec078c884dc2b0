//! [`timeout_handler`]: a time limit on a handler (Go's `http.TimeoutHandler`).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crossbeam_channel::RecvTimeoutError;
use http::StatusCode;

use crate::handler;
use crate::{Handler, Request, ResponseWriter};

/// Runs `handler` with a time limit (Go's `http.TimeoutHandler`): if it has not returned
/// after `limit`, the client gets `503 Service Unavailable` with the body `msg` (an empty
/// `msg` sends a small "Timeout" HTML page), and `handler`'s later writes fail with an
/// error of kind [`TimedOut`](std::io::ErrorKind::TimedOut).
///
/// A running handler cannot be interrupted, so, as Go runs it in a goroutine of its own,
/// `handler` runs on a thread of its own, started for each request, and the wrapper waits
/// for it at most `limit`. The wrapper therefore [blocks](crate::blocking): its
/// [`is_blocking`](Handler::is_blocking) is always true, and it occupies a thread of the
/// blocking pool while it waits. A handler that times out keeps running on its thread until
/// it returns; its request body, if it still reads it, stays readable until the connection
/// moves on.
///
/// `handler` writes to a writer that holds the whole response in memory: nothing reaches
/// the client until it returns, when its status, headers and body are copied to the real
/// response. So [`flush`](std::io::Write::flush) sends nothing, and informational (1xx)
/// statuses are dropped. A panic in `handler` before the limit is passed on (the client
/// gets 500); one after the limit is logged.
///
/// ```
/// use std::io::Write;
/// use std::time::Duration;
/// use nethttp::{timeout_handler, Request, ResponseWriter};
///
/// let report = timeout_handler(
///     |w: &mut ResponseWriter, _r: &mut Request| {
///         std::thread::sleep(Duration::from_millis(10)); // a slow query
///         let _ = w.write_all(b"report");
///     },
///     Duration::from_secs(2),
///     "the report took too long",
/// );
/// ```
pub fn timeout_handler<H: Handler>(
    handler: H,
    limit: Duration,
    msg: impl Into<String>,
) -> TimeoutHandler<H> {
    TimeoutHandler {
        handler: Arc::new(handler),
        limit,
        msg: msg.into(),
    }
}

/// A handler run with a time limit; made by [`timeout_handler`].
#[derive(Debug)]
pub struct TimeoutHandler<H> {
    /// Shared with the thread each request's handler runs on, which may outlive the wait.
    handler: Arc<H>,
    limit: Duration,
    /// The body of the 503; empty for `DEFAULT_TIMEOUT_BODY`.
    msg: String,
}

/// The 503 body when `timeout_handler` was given no message (Go's).
const DEFAULT_TIMEOUT_BODY: &str =
    "<html><head><title>Timeout</title></head><body><h1>Timeout</h1></body></html>";

/// What the handler's thread sends back when the handler returns.
struct Finished {
    /// Ok, or the message of the handler's panic.
    outcome: Result<(), String>,
    /// The held response.
    w: ResponseWriter,
    /// The request, given back to the connection's side.
    r: Request,
}

impl<H: Handler> Handler for TimeoutHandler<H> {
    fn serve_http(&self, w: &mut ResponseWriter, r: &mut Request) {
        let timed_out = Arc::new(AtomicBool::new(false));
        let mut held = w.held(Arc::clone(&timed_out));
        let stand_in = r.copy_head();
        let mut request = std::mem::replace(r, stand_in);
        let (tx, rx) = crossbeam_channel::bounded(1);
        let handler = Arc::clone(&self.handler);
        let spawned = thread::Builder::new()
            .name("nethttp-timeout".into())
            .spawn(move || {
                let outcome = handler::call(&*handler, &mut held, &mut request);
                let finished = Finished {
                    outcome,
                    w: held,
                    r: request,
                };
                if let Err(late) = tx.send(finished) {
                    if let Err(message) = late.into_inner().outcome {
                        log::error!("panic in a handler that had timed out: {message}");
                    }
                }
            });
        if let Err(e) = spawned {
            log::error!("timeout_handler: starting the handler's thread failed: {e}");
            return self.reply_timeout(w);
        }
        match rx.recv_timeout(self.limit) {
            Ok(Finished {
                outcome: Ok(()),
                w: held,
                r: request,
            }) => {
                *r = request;
                copy_held(held, w);
            }
            Ok(Finished {
                outcome: Err(message),
                r: request,
                ..
            }) => {
                *r = request;
                std::panic::resume_unwind(Box::new(message));
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                timed_out.store(true, Ordering::Release);
                self.reply_timeout(w);
            }
        }
    }

    /// Always: the wrapper waits for the handler's thread.
    fn may_block(&self) -> bool {
        true
    }

    fn is_blocking(&self, _r: &Request) -> bool {
        true
    }
}

impl<H> TimeoutHandler<H> {
    /// The 503 sent when the handler is late.
    fn reply_timeout(&self, w: &mut ResponseWriter) {
        let body = match self.msg.as_str() {
            "" => DEFAULT_TIMEOUT_BODY,
            msg => msg,
        };
        w.write_header(StatusCode::SERVICE_UNAVAILABLE);
        let _ = w.write_all(body.as_bytes());
    }
}

/// Copies a held response to the real one: its header fields replace those of the same
/// name, then its status (200 if it chose none) and body.
fn copy_held(held: ResponseWriter, w: &mut ResponseWriter) {
    let (status, headers, body) = held.into_held();
    w.headers_mut().extend(headers);
    w.write_header(status.unwrap_or(StatusCode::OK));
    if !body.is_empty() {
        let _ = w.write_all(&body);
    }
}
