//! Middleware: an access log (`nethttp::access_log`) and gzip (written here on
//! `nethttp::Filter`) around a mux.
//!
//! ```text
//! cargo run --release --example middleware [ADDR]
//! curl -s --compressed -v http://127.0.0.1:8080/text    # gzip, with Vary: Accept-Encoding
//! curl -s http://127.0.0.1:8080/                         # small: sent as it is
//! ```
//!
//! Each response logs one line to stderr when it ends, in the Combined Log Format: address,
//! time, request line, status, body bytes sent (after compression), then microseconds.

#[path = "../common/args.rs"]
mod args;
mod filters;
#[path = "../common/logger.rs"]
mod logger;

use std::io::{self, Write};
use std::time::Duration;

use log::LevelFilter;
use nethttp::{blocking, Request, ResponseWriter, ServeMux, Server};

const USAGE: &str =
    "usage: middleware [ADDR]   (default 127.0.0.1:8080; an access log on stderr, gzip for /text)";

fn main() -> io::Result<()> {
    logger::init(LevelFilter::Info);
    let mut mux = ServeMux::new();
    mux.handle("GET /{$}", |w: &mut ResponseWriter, _: &mut Request| {
        let _ = w.write_all(b"Hello, World!");
    });
    mux.handle(
        "GET /text",
        blocking(|w: &mut ResponseWriter, _: &mut Request| {
            for i in 0..2000 {
                let _ = writeln!(w, "line {i}: the quick brown fox jumps over the lazy dog");
            }
        }),
    );
    let addr = args::addr_arg(USAGE, "127.0.0.1:8080");
    let server = Server::new(nethttp::access_log(filters::gzip(mux)));
    nethttp::shutdown_on_signals(server.handle(), Duration::from_secs(10))?;
    let listener = nethttp::listen(&addr)?;
    println!("listening on http://{}", listener.local_addr()?);
    match server.serve(listener) {
        Err(e) if nethttp::is_server_closed(&e) => Ok(()),
        other => other,
    }
}
