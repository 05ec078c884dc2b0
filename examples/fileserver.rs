//! A static file server, like `python3 -m http.server`:
//! `cargo run --release --example fileserver -- [DIR] [ADDR]` (defaults `.` and
//! `127.0.0.1:8000`).
//!
//! Directories without an `index.html` are listed; ranges, `If-Modified-Since` and HEAD
//! work, so a browser can seek in a video. Each request is logged to stderr. Ctrl-C (or
//! SIGTERM) stops it gracefully: requests in flight get up to 10 seconds to finish.

#[path = "common/logger.rs"]
mod logger;

use std::time::Duration;

use nethttp::{blocking, file_server, Handler, Request, ResponseWriter, Server};

const USAGE: &str = "usage: fileserver [DIR] [ADDR]   (defaults . and 127.0.0.1:8000)";

fn main() -> std::io::Result<()> {
    logger::init(log::LevelFilter::Warn);
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return Ok(());
    }
    let (dir, addr) = match args.as_slice() {
        [] => (".", "127.0.0.1:8000"),
        [dir] if !dir.starts_with('-') => (dir.as_str(), "127.0.0.1:8000"),
        [dir, addr] if !dir.starts_with('-') && !addr.starts_with('-') => {
            (dir.as_str(), addr.as_str())
        }
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    let (dir, addr) = (dir.to_string(), addr.to_string());

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
