//! [`metrics`]: the server's figures in the Prometheus text exposition format (0.0.4), for
//! a scraper to read every few seconds: connections, responses by status class, bytes in
//! and out, the memory budget and what it holds, the blocking pool, accept errors and
//! sheds.
//!
//! Reading them costs a few loads per loop: each loop counts on its own (`stats.rs`), and
//! the handler adds the loops up when it is asked.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::Ordering::Relaxed;

use http::{HeaderValue, StatusCode};

use crate::config::{self, Config};
use crate::request::Request;
use crate::response::ResponseWriter;

/// The content type of the text exposition format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Serves the figures of the server it runs in, in the Prometheus text format; mount it
/// where the scraper looks (`/metrics`). Outside a running server (in
/// [`httptest`](crate::httptest)) it answers `503`.
///
/// ```
/// use nethttp::ServeMux;
///
/// let mut mux = ServeMux::new();
/// mux.handle("GET /metrics", nethttp::metrics);
/// ```
///
/// | metric | type | what |
/// | --- | --- | --- |
/// | `nethttp_connections_open` | gauge | connections open now (upgraded ones too) |
/// | `nethttp_connections_waiting_for_memory` | gauge | connections waiting for room in the budget before reading a body |
/// | `nethttp_responses_total{handler, class}` | counter | responses by handler kind (`inline` — the server's own refusals included — or `blocking`) and status class (`1xx`…`5xx`) |
/// | `nethttp_read_bytes_total`, `nethttp_written_bytes_total` | counter | bytes read from and written to connections (plaintext; file bodies the loop sends from a file are not counted in `written`) |
/// | `nethttp_memory_budget_bytes`, `nethttp_memory_held_bytes` | gauge | the budget, and what is held for clients now |
/// | `nethttp_pool_threads`, `nethttp_pool_busy`, `nethttp_pool_queued` | gauge | the blocking pool's threads, those running a handler, requests waiting for one |
/// | `nethttp_accept_errors_total`, `nethttp_sheds_total` | counter | failed `accept` calls; times idle connections were closed to make room |
pub fn metrics(w: &mut ResponseWriter, _r: &mut Request) {
    let Some(config) = config::current() else {
        let msg = "metrics are served by a running server";
        return crate::error(w, msg, StatusCode::SERVICE_UNAVAILABLE);
    };
    let text = render(&config);
    w.headers_mut()
        .insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
    let _ = w.write_all(text.as_bytes());
}

/// The exposition text for a server.
fn render(config: &Config) -> String {
    let mut out = String::with_capacity(2048);
    connections(&mut out, config);
    responses(&mut out, config);
    traffic(&mut out, config);
    memory_and_pool(&mut out, config);
    listener(&mut out, config);
    out
}

/// Connections open, and those waiting for memory.
fn connections(out: &mut String, config: &Config) {
    let spawned: u64 = config.loop_counters.get().map_or(0, |loops| {
        let open = |c: &std::sync::Arc<poller::Counters>| {
            let s = c.snapshot();
            s.spawns - s.closes
        };
        loops.iter().map(open).sum()
    });
    // Loop 0's listener is one of its machines, not a connection.
    let open = spawned.saturating_sub(1);
    gauge(
        out,
        "nethttp_connections_open",
        "Connections open now.",
        open,
    );
    let waiting = config.budget.stats().waiting as u64;
    let help = "Connections waiting for room in the memory budget.";
    gauge(out, "nethttp_connections_waiting_for_memory", help, waiting);
}

/// Bytes read and written, summed over the loops.
fn traffic(out: &mut String, config: &Config) {
    let (read, written) = config.loop_stats.iter().fold((0, 0), |(r, w), s| {
        (r + s.bytes_read.get(), w + s.bytes_written.get())
    });
    counter(
        out,
        "nethttp_read_bytes_total",
        "Bytes read from connections.",
        read,
    );
    let help = "Bytes written to connections.";
    counter(out, "nethttp_written_bytes_total", help, written);
}

/// The memory budget and the blocking pool.
fn memory_and_pool(out: &mut String, config: &Config) {
    let memory = config.budget.stats();
    gauge(
        out,
        "nethttp_memory_budget_bytes",
        "The memory budget.",
        memory.budget as u64,
    );
    let held = memory.held as u64;
    gauge(
        out,
        "nethttp_memory_held_bytes",
        "Bytes held for clients now.",
        held,
    );
    let (threads, pending) = config.workers.load();
    let busy = pending.min(threads);
    gauge(
        out,
        "nethttp_pool_threads",
        "Blocking pool threads.",
        threads as u64,
    );
    gauge(
        out,
        "nethttp_pool_busy",
        "Pool threads running a handler.",
        busy as u64,
    );
    let queued = (pending - busy) as u64;
    gauge(
        out,
        "nethttp_pool_queued",
        "Requests waiting for a pool thread.",
        queued,
    );
}

/// The listener's failures and sheds.
fn listener(out: &mut String, config: &Config) {
    let errors = config.stats.accept_errors.load(Relaxed);
    counter(
        out,
        "nethttp_accept_errors_total",
        "Failed accept calls.",
        errors,
    );
    let sheds = config.stats.sheds.load(Relaxed);
    counter(
        out,
        "nethttp_sheds_total",
        "Times idle connections were shed.",
        sheds,
    );
}

/// `nethttp_responses_total`, by handler kind and status class.
fn responses(out: &mut String, config: &Config) {
    let name = "nethttp_responses_total";
    let _ = writeln!(
        out,
        "# HELP {name} Responses sent, by handler kind and status class."
    );
    let _ = writeln!(out, "# TYPE {name} counter");
    for (i, class) in ["1xx", "2xx", "3xx", "4xx", "5xx"].iter().enumerate() {
        let inline: u64 = config
            .loop_stats
            .iter()
            .map(|s| s.responses.0[i].get())
            .sum();
        let blocking = config.stats.blocking_responses.0[i].load(Relaxed);
        let _ = writeln!(
            out,
            "{name}{{handler=\"inline\",class=\"{class}\"}} {inline}"
        );
        let _ = writeln!(
            out,
            "{name}{{handler=\"blocking\",class=\"{class}\"}} {blocking}"
        );
    }
}

fn gauge(out: &mut String, name: &str, help: &str, value: u64) {
    metric(out, name, "gauge", help, value);
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    metric(out, name, "counter", help, value);
}

fn metric(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
    );
}
