//! Blocking handlers that stream: `cargo run --release --example stream [ADDR]`.
//!
//! * `POST /upload` counts the bytes of a body of any size, read as a stream:
//!   `head -c 1G /dev/zero | curl -T - http://127.0.0.1:8080/upload`
//! * `GET /events` sends a Server-Sent Event a second until the client leaves or the
//!   server shuts down, and stops at once either way, without waiting for a write to fail:
//!   `curl -N http://127.0.0.1:8080/events` (Ctrl-C curl, or the server)
//! * `GET /big?mb=N` streams N MiB: `curl -o /dev/null http://127.0.0.1:8080/big?mb=200`

#[path = "common/args.rs"]
mod args;
#[path = "common/logger.rs"]
mod logger;

use std::io::{self, Write};
use std::time::Duration;

use nethttp::{blocking, Request, ResponseWriter, Server};

/// An event a second, until the request is cancelled (the client left) or a graceful
/// shutdown begins: the handler waits on both signals between events, so it learns of
/// either at once, not at its next write.
fn events(w: &mut ResponseWriter, r: &mut Request) {
    w.headers_mut()
        .insert("content-type", "text/event-stream".parse().unwrap());
    let (done, shutdown) = (r.done(), r.shutdown_notice());
    for i in 1.. {
        if write!(w, "data: event {i}\n\n")
            .and_then(|_| w.flush())
            .is_err()
        {
            return;
        }
        crossbeam_channel::select! {
            recv(done) -> _ => return, // the client left
            recv(shutdown) -> _ => {
                let _ = write!(w, "event: bye\ndata: the server is shutting down\n\n");
                return;
            }
            default(Duration::from_secs(1)) => {}
        }
    }
}

fn route(w: &mut ResponseWriter, r: &mut Request) {
    match r.path() {
        "/upload" => {
            let n = io::copy(r.body(), &mut io::sink());
            let _ = match n {
                Ok(n) => writeln!(w, "{n}"),
                Err(e) => writeln!(w, "error after a partial body: {e}"),
            };
        }
        "/events" => events(w, r),
        "/big" => {
            let mb: usize = r
                .uri()
                .query()
                .and_then(|q| q.strip_prefix("mb="))
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            let block = vec![b'x'; 1 << 20];
            for _ in 0..mb {
                if w.write_all(&block).is_err() {
                    return;
                }
            }
        }
        _ => nethttp::error(w, "404 page not found", http::StatusCode::NOT_FOUND),
    }
}

const USAGE: &str =
    "usage: stream [ADDR]   (default 127.0.0.1:8080; routes /upload, /events, /big?mb=N)";

fn main() -> io::Result<()> {
    logger::init(log::LevelFilter::Warn);
    let addr = args::addr_arg(USAGE, "127.0.0.1:8080");
    let listener = nethttp::listen(&addr)?;
    println!("listening on http://{}", listener.local_addr()?);
    let server = Server::new(blocking(route));
    nethttp::shutdown_on_signals(server.handle(), Duration::from_secs(10))?;
    match server.serve(listener) {
        Err(e) if nethttp::is_server_closed(&e) => Ok(()),
        other => other,
    }
}
