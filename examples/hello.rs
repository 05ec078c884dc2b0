//! The hello server: `cargo run --release --example hello [ADDR]`.
//!
//! Listens on ADDR (default `127.0.0.1:8080`; `:8080` means every interface), prints
//! `listening on http://ADDR`, and answers every request with `Hello, World!`.

#[path = "common/args.rs"]
mod args;
#[path = "common/logger.rs"]
mod logger;

use std::io::Write;

use http::header::{HeaderValue, CONTENT_TYPE};
use nethttp::{Request, ResponseWriter, Server};

fn hello(w: &mut ResponseWriter, _r: &mut Request) {
    w.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    let _ = w.write_all(b"Hello, World!");
}

const USAGE: &str =
    "usage: hello [ADDR]   (default 127.0.0.1:8080; :PORT listens on every interface)";

fn main() -> std::io::Result<()> {
    logger::init(log::LevelFilter::Warn);
    let addr = args::addr_arg(USAGE, "127.0.0.1:8080");
    let listener = nethttp::listen(&addr)?;
    println!("listening on http://{}", listener.local_addr()?);
    Server::new(hello).serve(listener)
}
