//! A static file server, like `python3 -m http.server`:
//! `cargo run --release --example fileserver -- [DIR] [ADDR]` (defaults `.` and
//! `127.0.0.1:8000`).
//!
//! Directories without an `index.html` are listed; ranges, `If-Modified-Since` and HEAD
//! work, so a browser can seek in a video. Each request is logged to stderr. Ctrl-C (or
//! SIGTERM) stops it gracefully: requests in flight get up to 10 seconds to finish.

use std::time::Duration;

use nethttp::{blocking, file_server, Handler, Request, ResponseWriter, Server};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| ".".to_string());
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8000".to_string());

    let files = file_server(&dir);
    // The file server already runs on the blocking pool; so does this wrapper around it.
    let logged = blocking(move |w: &mut ResponseWriter, r: &mut Request| {
        files.serve_http(w, r);
        eprintln!(
            "{} \"{} {}\" {}",
            r.remote_addr(),
            r.method(),
            r.uri(),
            w.status().as_u16()
        );
    });

    let listener = nethttp::listen(&addr)?;
    println!("listening on http://{}", listener.local_addr()?);
    let server = Server::new(logged);
    nethttp::shutdown_on_signals(server.handle(), Duration::from_secs(10))?;
    match server.serve(listener) {
        Err(e) if nethttp::is_server_closed(&e) => Ok(()),
        other => other,
    }
}
