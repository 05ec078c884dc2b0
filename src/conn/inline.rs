//! An inline handler's turn on the loop: the request in, its response appended to the
//! connection's output.
//!
//! The loop's one response writer (its header map and body staging buffer keep their
//! capacity from request to request) takes the connection's output buffer; the handler
//! runs; the writer hands the buffer back with the response in it.

use std::time::{Duration, Instant};

use http::{HeaderValue, Method};

use crate::buf::OutBuf;
use crate::encode;
use crate::error::Reject;
use crate::handler;
use crate::local::Local;
use crate::mem::Buffer;
use crate::parse::Facts;
use crate::upgrade::Takeover;

/// Response bodies larger than this do not keep their staging buffer for the next request.
const MAX_KEPT_BODY: usize = 64 * 1024;

/// An inline handler that runs longer than this holds up its whole loop: it is logged with
/// a hint to make it blocking.
const SLOW_INLINE_HANDLER: Duration = Duration::from_millis(100);

/// Runs the handler (or the server's own `OPTIONS *` answer) and appends the response to
/// `out`, the connection's output. Returns `out`, whether the connection closes after this
/// response, and the protocol that takes it over after a `101`. The request is borrowed,
/// not moved: it is a few hundred bytes, and this runs for every request.
pub(super) fn respond(
    local: &mut Local,
    out: Buffer,
    facts: Facts,
    turn_began: Instant,
) -> Answered {
    local.date.refresh_at(turn_began);
    local.writer.reset(out, facts, local.date.get());
    let outcome = run(local, turn_began);
    let (w, request) = (&mut local.writer, &mut local.request);
    let mut upgrade = None;
    let close = match outcome {
        Ok(()) if w.upgrading() => {
            upgrade = w.complete_upgrade();
            false
        }
        Ok(()) => w.complete(),
        Err(message) => {
            let peer = request.remote_addr();
            log::error!("panic serving {peer} {}: {message}", request.uri());
            w.complete_aborted()
        }
    };
    w.release_staging(Some(MAX_KEPT_BODY));
    request.recycle();
    Answered {
        out: w.take_out(),
        close,
        upgrade,
    }
}

/// Runs the handler, timing it (one that holds the loop too long is logged), and counts
/// its response's status class.
#[inline(always)]
fn run(local: &mut Local, turn_began: Instant) -> Result<(), String> {
    let (w, request) = (&mut local.writer, &mut local.request);
    // One clock read per request: the handler started when the previous one ended, or
    // when this turn began, whichever is later.
    let started = local.clock.max(turn_began);
    let outcome = if request.method == Method::OPTIONS && request.uri() == "*" {
        let zero = HeaderValue::from_static("0");
        w.headers_mut().insert(http::header::CONTENT_LENGTH, zero);
        Ok(())
    } else {
        handler::call(&*local.config.handler, w, request)
    };
    local.clock = Instant::now();
    // Compared with a deadline: adding is cheaper than the subtraction `elapsed` makes,
    // which only the rare slow handler pays for.
    if local.clock > started + SLOW_INLINE_HANDLER {
        let elapsed = local.clock - started;
        let route = request.pattern().unwrap_or(request.path());
        log::warn!(
            "handler for {route} ran {elapsed:?} on the event loop, stalling its other \
             connections; wrap it in nethttp::blocking(..)"
        );
    }
    let status = match outcome {
        Ok(()) => w.status(),
        Err(_) => http::StatusCode::INTERNAL_SERVER_ERROR,
    };
    local.stats.responses.0[crate::stats::class(status)].add(1);
    outcome
}

/// An inline handler's answer.
pub(super) struct Answered {
    /// The connection's output, with the response appended.
    pub(super) out: Buffer,
    /// The connection closes after this response.
    pub(super) close: bool,
    /// The protocol that takes the connection over after a `101` response.
    pub(super) upgrade: Option<Box<Takeover>>,
}

/// Queues the server's own answer to a refused request (`encode::reject`), counted with
/// the inline responses.
pub(super) fn refuse(local: &mut Local, output: &mut OutBuf, reject: Reject) {
    local.stats.responses.0[crate::stats::class(reject.status())].add(1);
    local.date.refresh();
    let mut out = output.take(&mut local.buffers);
    encode::reject(&mut out, reject, local.date.get());
    output.put(out);
}
