//! A forward proxy for HTTPS (CONNECT tunnels) through [`ResponseWriter::hijack`]:
//! `cargo run --release --example connect_proxy [ADDR]`, then
//! `curl -p -x http://127.0.0.1:8080 https://example.com/` (`-p`: tunnel through CONNECT).
//!
//! Each `CONNECT host:port` dials the target, answers `200 Connection Established`, and
//! copies bytes both ways on two pool threads until either side closes. Any other method
//! gets `405`. The tunnels stay the server's: a graceful shutdown waits for them (up to 10 s),
//! then closes them.

#[path = "common/args.rs"]
mod args;
#[path = "common/logger.rs"]
mod logger;
#[path = "common/run.rs"]
mod run;

use std::io::{self, Write};
use std::net::{Shutdown, TcpStream};

use nethttp::http::{Method, StatusCode};
use nethttp::{blocking, Request, ResponseWriter, Server};

const USAGE: &str = "usage: connect_proxy [ADDR]   (default 127.0.0.1:8080; :PORT: every interface)
  a forward proxy for CONNECT tunnels: curl -p -x http://ADDR https://example.com/";

/// Dials the target, says 200, and copies both ways until either side is done.
fn tunnel(w: &mut ResponseWriter, r: &mut Request) {
    if r.method() != Method::CONNECT {
        return nethttp::error(
            w,
            "this proxy only tunnels (CONNECT)",
            StatusCode::METHOD_NOT_ALLOWED,
        );
    }
    let target = r.uri().to_string();
    let upstream = match TcpStream::connect(&target) {
        Ok(upstream) => upstream,
        Err(e) => {
            log::info!("CONNECT {target}: {e}");
            return nethttp::error(w, "cannot reach the target", StatusCode::BAD_GATEWAY);
        }
    };
    let Ok(conn) = w.hijack() else { return };
    let (mut from_client, mut to_client) = conn.split();
    if to_client
        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let Ok(mut up_read) = upstream.try_clone() else {
        return;
    };
    let mut up_write = upstream;
    // The target's bytes to the client on a thread of their own; the client's here.
    let back = std::thread::spawn(move || {
        let _ = io::copy(&mut up_read, &mut to_client);
    });
    let _ = io::copy(&mut from_client, &mut up_write);
    let _ = up_write.shutdown(Shutdown::Write);
    let _ = back.join();
}

fn main() -> io::Result<()> {
    logger::init(log::LevelFilter::Warn);
    let addr = args::addr_arg(USAGE, "127.0.0.1:8080");
    let running = Server::new(blocking(tunnel)).start(nethttp::listen(&addr)?)?;
    run::until_signalled(running, "http")
}
