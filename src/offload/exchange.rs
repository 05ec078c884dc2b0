//! A blocking request's trip to the pool and back.
//!
//! The loop packs what a blocking handler needs (the request, and what its response writer
//! is made of) into one [`Exchange`] and hands it to the pool. The pool thread makes the
//! writer, runs the handler, and sends the exchange back to the loop with the response's end
//! mark, where it is dropped: what the loop allocated for the request, the loop frees.
//!
//! Why the trip back: glibc keeps small blocks (up to 1 KiB, seven of each size) freed by a
//! thread in that thread's cache, whichever thread allocated them, and only that thread
//! reuses them. Freed on the pool, a request's blocks stayed in the caches of the pool
//! threads, the loop allocated new ones for the next requests, and its heap grew: in the
//! soak, with thirty pool threads, each loop's heap reached 3 MiB, which glibc could not
//! give back once the load had gone (the loop's own cache keeps a few blocks near its
//! heap's top, and glibc trims a heap only from the top). For the same reason a large
//! body piece is a mapping of its own (see `BodyFeed::make_piece`), and the writer is made
//! on the pool thread, which frees it.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::config::Config;
use crate::handler;
use crate::local::Local;
use crate::offload::channel::CloseAfter;
use crate::offload::channel::Outgoing;
use crate::parse::Facts;
use crate::request::Request;
use crate::response::ResponseWriter;

/// A blocking request on its way through the pool.
pub(super) struct Exchange {
    pub(super) request: Request,
    pub(super) config: Arc<Config>,
    pub(super) peer: SocketAddr,
    /// The response's facts (from the request head) and the `Date` when it was dispatched.
    pub(super) facts: Facts,
    pub(super) date: [u8; 29],
    pub(super) close_after: CloseAfter,
}

impl Exchange {
    /// The exchange of `request`, with what its writer is made of from the loop's `local`
    /// state (the configuration, the `Date` now).
    pub(super) fn new(
        request: Request,
        facts: Facts,
        local: &mut Local,
        close_after: CloseAfter,
    ) -> Box<Exchange> {
        local.date.refresh();
        Box::new(Exchange {
            peer: request.remote_addr(),
            request,
            config: Arc::clone(&local.config),
            facts,
            date: *local.date.get(),
            close_after,
        })
    }

    /// Serves the request on a pool thread (unless its client has left), then sends the end
    /// mark through `sink`, the way back to the connection, and this exchange with it.
    ///
    /// The sink stays out of the exchange: a message that holds its own channel's sender,
    /// left unread when the connection closes, would keep the channel, and itself, alive
    /// for ever.
    pub(super) fn run(mut self: Box<Self>, sink: Outgoing) {
        self.config.serve_on_this_thread();
        let close = if sink.gone.is_set() {
            log::debug!(
                "{}: the client left while its request waited; not run",
                self.peer
            );
            true
        } else {
            self.serve(sink.clone())
        };
        sink.end(close, self);
    }

    /// Runs the handler, its writer sending through `sink`, and completes its response.
    /// Returns whether the connection must close after it.
    fn serve(&mut self, sink: Outgoing) -> bool {
        let close_after = self.close_after.clone();
        let mut w = ResponseWriter::streaming(self.facts, &self.date, sink, close_after);
        let outcome = handler::call(&*self.config.handler, &mut w, &mut self.request);
        // Before the head is fixed: an unread body may cost the connection. The loop
        // drains or closes what is left once the end mark arrives.
        self.request.body.judge_unread();
        let status = match outcome {
            Ok(()) => w.status(),
            Err(_) => http::StatusCode::INTERNAL_SERVER_ERROR,
        };
        self.config.stats.blocking_response(status);
        let (_, close) = match outcome {
            Ok(()) => w.finish(),
            Err(message) => {
                log::error!("panic serving {} (blocking handler): {message}", self.peer);
                w.abort()
            }
        };
        close
    }
}
