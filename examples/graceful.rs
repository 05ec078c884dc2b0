//! Graceful shutdown: `cargo run --release --example graceful [ADDR]`.
//!
//! Serves `/` (inline) and `/slow` (a blocking handler that takes 3 s). Press Ctrl-C while a
//! `curl http://127.0.0.1:8080/slow` is running: the server stops accepting, closes idle
//! connections, lets the slow request finish (its response says `Connection: close`), and
//! exits with status 0.

#[path = "common/args.rs"]
mod args;
#[path = "common/logger.rs"]
mod logger;

use std::io::Write;
use std::time::Duration;

use nethttp::{blocking, Request, ResponseWriter, Server};

fn route(w: &mut ResponseWriter, r: &mut Request) {
    if r.path() == "/slow" {
        std::thread::sleep(Duration::from_secs(3));
        let _ = w.write_all(b"finally done\n");
    } else {
        let _ = w.write_all(b"Hello, World!\n");
    }
}

const USAGE: &str =
    "usage: graceful [ADDR]   (default 127.0.0.1:8080; SIGINT or SIGTERM shuts down gracefully)";

fn main() -> std::io::Result<()> {
    logger::init(log::LevelFilter::Warn);
    let addr = args::addr_arg(USAGE, "127.0.0.1:8080");
    let listener = nethttp::listen(&addr)?;
    println!("listening on http://{}", listener.local_addr()?);
    // Every route may block here; a ServeMux can mark single routes instead.
    let server = Server::new(blocking(route));
    nethttp::shutdown_on_signals(server.handle(), Duration::from_secs(10))?;
    match server.serve(listener) {
        Err(e) if nethttp::is_server_closed(&e) => {
            println!("shut down cleanly");
            Ok(())
        }
        other => other,
    }
}
