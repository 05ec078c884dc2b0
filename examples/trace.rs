//! One keep-alive request followed through the event loop at `log`'s trace level: every
//! readiness event, timer and message the poller handles, and after each call the
//! connection's phase and deadline, one line each with its token.
//!
//! ```text
//! cargo run --example trace
//! ```
//!
//! A real service installs a logger crate (`env_logger`, say) and sets `RUST_LOG=trace`;
//! the examples share a ten-line one (`examples/common/logger.rs`), at trace level here
//! unless `RUST_LOG` says otherwise.

#[path = "common/logger.rs"]
mod logger;

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use log::LevelFilter;
use nethttp::{Request, ResponseWriter, Server};

fn hello(w: &mut ResponseWriter, _r: &mut Request) {
    let _ = w.write_all(b"Hello, World!");
}

fn main() -> io::Result<()> {
    if let Some(arg) = std::env::args().nth(1) {
        let usage = "usage: trace   (no arguments: serves one request at trace level, on stderr)";
        match arg.as_str() {
            "-h" | "--help" => println!("{usage}"),
            _ => {
                eprintln!("{usage}");
                std::process::exit(2);
            }
        }
        return Ok(());
    }
    logger::init(LevelFilter::Trace);
    let running = Server::new(hello)
        .threads(1)
        .start(nethttp::listen("127.0.0.1:0")?)?;
    std::thread::sleep(Duration::from_millis(50)); // let the loop settle into its sleep
    eprintln!("----- client: connects and sends one request");
    let mut client = TcpStream::connect(running.local_addr())?;
    client.write_all(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n")?;
    let mut answer = Vec::new();
    let mut buf = [0; 1024];
    while !answer.ends_with(b"Hello, World!") {
        let n = client.read(&mut buf)?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    std::thread::sleep(Duration::from_millis(50));
    eprintln!(
        "----- client: has its answer ({} bytes); closes",
        answer.len()
    );
    drop(client);
    std::thread::sleep(Duration::from_millis(50));
    eprintln!("----- the server shuts down");
    running.shutdown(Duration::from_secs(1))
}
