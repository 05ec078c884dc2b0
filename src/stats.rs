//! The server's counters for [`metrics`](crate::metrics): what each loop counts on its own
//! ([`LoopStats`]: responses by status class, bytes read and written), and what is counted
//! elsewhere ([`SharedStats`]: blocking handlers' responses, accept errors, sheds).
//!
//! A loop's counters have one writer, its thread, so a count is a load and a store, not a
//! locked read-modify-write: the request path touches no shared cache line. Readers
//! (the metrics handler, on any thread) load them.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use http::StatusCode;

/// A counter with one writer.
#[derive(Debug, Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    /// Adds `n`; only the counter's one writer thread calls this.
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// Responses by status class: `1xx` to `5xx`.
#[derive(Debug, Default)]
pub(crate) struct ByClass<C>(pub(crate) [C; 5]);

/// The class of `status`, 0 for `1xx` to 4 for `5xx`.
pub(crate) fn class(status: StatusCode) -> usize {
    usize::from(status.as_u16() / 100).clamp(1, 5) - 1
}

/// What one loop counts, written by its thread only.
#[derive(Debug, Default)]
pub(crate) struct LoopStats {
    /// Inline handlers' responses by status class (and the server's own refusals).
    pub(crate) responses: ByClass<Counter>,
    /// Bytes read from sockets (after TLS: plaintext).
    pub(crate) bytes_read: Counter,
    /// Bytes written to sockets (before TLS: plaintext).
    pub(crate) bytes_written: Counter,
}

/// Counters with more than one writer, off the request path.
#[derive(Debug, Default)]
pub(crate) struct SharedStats {
    /// Blocking handlers' responses by status class (counted on pool threads).
    pub(crate) blocking_responses: ByClass<AtomicU64>,
    /// `accept` calls that failed (out of descriptors, say).
    pub(crate) accept_errors: AtomicU64,
    /// Times the listener asked loops to close idle connections for room.
    pub(crate) sheds: AtomicU64,
}

impl SharedStats {
    /// Counts a blocking handler's response.
    pub(crate) fn blocking_response(&self, status: StatusCode) {
        self.blocking_responses.0[class(status)].fetch_add(1, Relaxed);
    }
}
