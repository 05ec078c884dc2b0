//! nethttp: Go's `net/http` server, rebuilt in Rust on a readiness event loop you can read.
//!
//! ```no_run
//! use std::io::Write;
//! use nethttp::{Request, ResponseWriter};
//!
//! fn hello(w: &mut ResponseWriter, _r: &mut Request) {
//!     let _ = w.write_all(b"Hello, World!");
//! }
//!
//! fn main() -> std::io::Result<()> {
//!     nethttp::listen_and_serve(":8080", hello)
//! }
//! ```
//!
//! # Go → nethttp
//!
//! | Go | nethttp |
//! | --- | --- |
//! | `http.ListenAndServe(addr, h)` | [`listen_and_serve`]`(addr, h)` |
//! | `http.Server{Addr, Handler, MaxHeaderBytes}` | [`Server::new`]`(h).addr(..).max_header_bytes(..)` |
//! | `srv.Serve(l)` | [`Server::serve`]`(listener)`, or [`Server::start`] for a background server |
//! | `net.Listen("tcp", ":8080")` | [`listen`]`(":8080")` |
//! | `http.Handler`, `http.HandlerFunc` | [`Handler`], any `Fn(&mut ResponseWriter, &mut Request)` |
//! | `http.ResponseWriter`: `Header()`, `WriteHeader`, `Write` | [`ResponseWriter`]: `headers_mut()`, `write_header`, `std::io::Write` |
//! | `http.Flusher` | `std::io::Write::flush` |
//! | `*http.Request`: `Method`, `URL`, `Proto`, `Header`, `Host`, `RemoteAddr`, `Body`, `Trailer` | [`Request`]: `method()`, `uri()`, `version()`, `headers()`, `host()`, `remote_addr()`, `body()`, `trailers()` |
//! | `http.Error` | [`error`] |
//!
//! # The reading path of one request
//!
//! 1. `server.rs`: loop 0 accepts the connection and hands it to a loop.
//! 2. `conn.rs`: the connection's readable edge; bytes go into its read buffer.
//! 3. `parse.rs`: the request head, and how its body is framed.
//! 4. `body.rs`: the body, by `Content-Length` or chunked.
//! 5. `handler.rs`: the handler runs (on the loop) with a [`Request`] and a [`ResponseWriter`].
//! 6. `response.rs`: the head is decided: status, `Date`, `Content-Length` or chunked.
//! 7. `encode.rs`: head and body are serialised into the connection's output buffer.
//! 8. `conn.rs`: the writable edge flushes the output, then keep-alive (back to 2) or close.
//!
//! The event loop itself is the `poller` crate in this workspace.
#![deny(missing_docs)]

mod body;
mod buf;
mod conn;
mod encode;
mod error;
mod handler;
mod parse;
mod request;
mod response;
mod server;

pub use handler::Handler;
pub use request::{Body, Request};
pub use response::{error, ResponseWriter};
pub use server::{
    listen, listen_and_serve, Running, Server, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_HEADER_BYTES,
};

pub use http;
