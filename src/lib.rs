//! nethttp is Go's `net/http` server rebuilt in Rust. You write handlers the way you would in
//! Go ([`ServeMux`] with Go 1.22 patterns, forms, cookies, middleware, [`httptest`]), and the
//! server speaks strict HTTP/1.1 from a hand-rolled readiness event loop over mio: no async
//! runtime, a handful of dependencies.
//!
//! # Quick start
//!
//! ```sh
//! cargo run --release --example hello     # serves Hello, World! on http://127.0.0.1:8080
//! cargo test --workspace                  # the whole test suite
//! ```
//!
//! Not on crates.io yet: depend on a clone by path (or on its git repository). The `http`
//! crate's types are re-exported as [`http`](mod@http).
//!
//! ```toml
//! [dependencies]
//! nethttp = { path = "../nethttp" }
//! ```
//!
//! Hello, in Go and in Rust:
//!
//! ```go
//! http.HandleFunc("/", hello)
//! log.Fatal(http.ListenAndServe(":8080", nil))
//! ```
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
//! Handlers run **inline**, on the event loop, and must not block; a handler that waits (a
//! database, a file, a timer, a slow client) is wrapped in [`blocking`] and runs on a pool
//! of threads ([`Server::blocking_threads`], 1024 by default). The README walks through
//! routing, forms and cookies, middleware, testing, logging, shutdown and production
//! settings.
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
//! | middleware, `func(next http.Handler) http.Handler` | [`wrap`]`(next, \|w, r, next\| ..)`, which keeps `next`'s blocking routes on the pool |
//! | a middleware's wrapped `ResponseWriter` | [`ResponseWriter::add_filter`] with a [`Filter`] (status, fields, body bytes, end) |
//! | `http.ResponseWriter`: `Header()`, `WriteHeader`, `Write` | [`ResponseWriter`]: `headers_mut()`, `write_header`, `std::io::Write` |
//! | `http.Flusher` | `std::io::Write::flush` |
//! | `*http.Request`: `Method`, `URL`, `Proto`, `Header`, `Host`, `RemoteAddr`, `Body`, `Trailer` | [`Request`]: `method()`, `uri()`, `version()`, `headers()`, `host()`, `remote_addr()`, `body()`, `trailers()` |
//! | `r.URL.Query()`, `url.ParseQuery(s)`, `url.Values` | [`Request::query`], [`Request::query_value`], [`parse_query`] → [`Values`] (in order; [`QueryError`] keeps the good pairs) |
//! | `r.ParseForm()`, `r.Form`, `r.PostForm`, `r.FormValue(k)`, `r.PostFormValue(k)` | [`Request::parse_form`] ([`FormError`]), [`Request::form`], [`Request::post_form`], [`Request::form_value`], [`Request::post_form_value`] |
//! | `r.Cookies()`, `r.Cookie(name)`, `http.Cookie`, `http.SetCookie(w, c)` | [`Request::cookies`], [`Request::cookie`], [`Cookie`] ([`SameSite`]), [`set_cookie`]`(w, &c)` |
//! | `r.BasicAuth()` | [`Request::basic_auth`] |
//! | `r.MultipartReader()`, `r.ParseMultipartForm(n)`, `r.MultipartForm`, `r.FormFile(k)` | [`Request::multipart_reader`] → [`Multipart`] of [`Part`]s, [`Request::parse_multipart_form`] ([`MultipartError`]), [`Request::multipart_form`] → [`MultipartForm`], [`Request::form_file`] → [`FileHeader`] |
//! | `r.Context().Done()`, `r.Context().Err()` | [`Request::done`], [`Request::is_cancelled`]; beside them [`Request::shutdown_notice`] |
//! | `ResponseController.SetReadDeadline`, `.SetWriteDeadline`, `.EnableFullDuplex` | [`ResponseWriter::set_read_deadline`], [`ResponseWriter::set_write_deadline`] (blocking handlers); full duplex is how blocking handlers always work |
//! | `srv.RegisterOnShutdown(f)`, `srv.SetKeepAlivesEnabled(b)` | [`Server::on_shutdown`]`(f)`, [`Handle::set_keep_alives_enabled`]`(b)` |
//! | `httptest.NewRequest`, `httptest.NewRecorder` | [`httptest::new_request`], [`httptest::record`] |
//! | `http.Error` | [`error`] |
//! | `http.NotFound`, `http.NotFoundHandler()` | [`not_found`], [`not_found_handler`]`()` |
//! | `http.Redirect(w, r, url, code)`, `http.RedirectHandler` | [`redirect`]`(w, r, url, code)`, [`redirect_handler`] |
//! | `http.StripPrefix(prefix, h)` | [`strip_prefix`]`(prefix, h)` (the rest keeps a leading `/`) |
//! | `http.MaxBytesReader(w, r.Body, n)`, `http.MaxBytesHandler(h, n)`, `*http.MaxBytesError` | [`max_bytes_reader`]`(w, r, n)`, [`max_bytes`]`(h, n)` (413 if `h` writes nothing), [`MaxBytesError`] |
//! | `http.TimeoutHandler(h, dt, msg)` | [`timeout_handler`]`(h, dt, msg)` (runs `h` on a thread of its own) |
//! | `http.DetectContentType(b)` | [`detect_content_type`]`(b)` |
//! | `http.NewServeMux()` | [`ServeMux::new`]`()` |
//! | `mux.Handle(pattern, h)`, `mux.HandleFunc(pattern, f)` | [`ServeMux::handle`]`(pattern, h)` (panics like Go), [`ServeMux::try_handle`] |
//! | `r.PathValue(name)`, `r.SetPathValue`, `r.Pattern` | [`Request::path_value`]`(name)` (an `Option`), [`Request::set_path_value`], [`Request::pattern`] |
//! | `http.FileServer(http.Dir(root))` | [`file_server`]`(root)` → [`FileServer`] (decides on the blocking pool; the loop sends the bytes) |
//! | `http.Dir(root)` | the `root` path given to [`file_server`] (links leading outside it are refused) |
//! | `http.ServeFile(w, r, name)` | [`serve_file`]`(w, r, path)` |
//! | `http.ServeContent(w, r, name, modtime, content)` | [`serve_content`]`(w, r, name, Option<SystemTime>, impl Read + Seek)` |
//!
//! # The reading path of one request
//!
//! Each file knows only the files below it; one request passes through them in this order
//! (`docs/DESIGN.md` draws the layers).
//!
//! 1. `accept.rs`: loop 0 accepts the connection (a `listener.rs` socket, wrapped in a
//!    `transport.rs` stream: the socket itself, or a TLS session, `tls/session.rs`) and
//!    hands it to a loop. (`server.rs` built the loops at start-up from the options in `config.rs`,
//!    each with the state its connections share, `local.rs`.)
//! 2. `conn.rs`: the connection's readable edge; `conn/wire.rs` reads the bytes into its
//!    read buffer (`buf.rs`).
//! 3. `reader.rs`: the request reader finds the end of the head within its limit;
//!    `parse.rs` parses it and decides how the body is framed. A request refused on the
//!    way (an `error.rs` `Reject`) gets its status from `encode.rs` and the connection
//!    closes (step 8).
//! 4. Routing: the handler says whether the request blocks (`handler.rs`). A
//!    [`ServeMux`] (`mux.rs`) looks the route up once and keeps it for step 5.
//! 5. The handler runs, on one of two branches:
//!    * **inline** (the default): `conn/collect.rs` collects the body through the reader
//!      and `body.rs`'s decoders, once the memory budget (`budget.rs`) has room (large
//!      buffers live outside `malloc`, `mem.rs`); then `conn/inline.rs` runs the handler
//!      on the loop with a [`Request`] (`request.rs`) and a [`ResponseWriter`];
//!    * **[blocking]**: `offload/stream.rs` hands the request to the pool
//!      (`offload/exchange.rs`, `offload/workers.rs`), then feeds it the body and takes
//!      its response back through `offload/channel.rs`, woken through `offload/poke.rs`;
//!      the writer's side is `response/sink.rs`. `offload.rs` tells this branch whole.
//! 6. `response.rs`: the head is decided: status, `Date`, `Content-Length` or chunked,
//!    and a `Content-Type` sniffed from the body if the handler set none (`sniff.rs`).
//! 7. `encode.rs`: head and body are serialised into the connection's output buffer.
//! 8. `conn/wire.rs` writes the output at the writable edge; `conn/phase.rs` names the
//!    next step, keep-alive (back to 2) or close, and `conn/timing.rs` arms its deadline.
//!    Or, after a `101` or a hijack, another protocol (`upgrade.rs`; `hijack.rs`,
//!    `websocket.rs`) has the connection, and `conn/upgraded.rs` gives it each event.
//!
//! The event loop itself is the `poller` crate in this workspace.
#![deny(missing_docs)]

mod accept;
mod access_log;
mod body;
mod budget;
mod buf;
mod cancel;
mod config;
mod conn;
mod cookie;
mod encode;
mod error;
mod filter;
mod form;
mod forwarded;
mod fs;
mod handler;
mod helpers;
mod hijack;
mod lifecycle;
mod listener;
mod local;
mod mem;
mod metrics;
mod multipart;
mod mux;
mod offload;
mod parse;
mod proxy_protocol;
mod query;
mod reader;
mod request;
mod response;
mod server;
mod sniff;
mod stats;
mod systemd;
mod token;
mod transport;
pub mod upgrade;

// Its documentation is its own (an outer line here would resolve its links from the root).
#[cfg(feature = "websocket")]
pub mod websocket;

/// HTTPS (cargo feature `tls`).
#[cfg(feature = "tls")]
pub mod tls;

pub use access_log::{access_log, ACCESS_LOG_TARGET};
pub use budget::MemoryStats;
pub use config::{
    ConnState, DEFAULT_BLOCKING_THREADS, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_MEMORY, DEFAULT_READ_HEADER_TIMEOUT,
    DEFAULT_STALL_TIMEOUT,
};
pub use cookie::{set_cookie, Cookie, SameSite};
pub use filter::Filter;
pub use form::{FormError, DEFAULT_MULTIPART_MEMORY, MAX_FORM_BYTES};
pub use forwarded::{IpNet, IpNetError};
pub use fs::{file_server, serve_content, serve_file, FileServer};
pub use handler::{blocking, wrap, Blocking, Handler, Wrap};
pub use helpers::{
    max_bytes, max_bytes_reader, not_found, not_found_handler, readiness, redirect,
    redirect_handler, strip_prefix, timeout_handler, MaxBytes, MaxBytesError, RedirectHandler,
    StripPrefix, TimeoutHandler,
};
pub use hijack::{Hijacked, HijackedReader, HijackedWriter};
pub use lifecycle::{is_server_closed, shutdown_on_signals, Handle, Running, ServerClosed};
pub use listener::{systemd_listener, Listener};
pub use metrics::metrics;
pub use multipart::{FileHeader, FileReader, Multipart, MultipartError, MultipartForm, Part};
pub use mux::{PatternError, ServeMux};
pub use query::{parse_query, QueryError, Values};
pub use request::{Body, Request};
pub use response::{error, ResponseWriter};
#[cfg(feature = "tls")]
pub use server::listen_and_serve_tls;
pub use server::{listen, listen_and_serve, listen_reuse_port, Server};
pub use sniff::detect_content_type;
pub use systemd::sd_notify;

pub use http;

#[doc(hidden)]
pub mod fuzzing;

pub mod httptest;

/// Entry points for the criterion benches in `benches/`: thin wrappers over the real
/// parsing and encoding code. Not part of the API.
#[doc(hidden)]
pub mod bench {
    use std::net::{Ipv4Addr, SocketAddr};

    use http::{HeaderMap, Version};

    use crate::encode::DateCache;
    use crate::mem::Buffer;
    use crate::parse::{self, Facts};
    use crate::response::{Parts, ResponseWriter};

    /// Parses `METHOD target HTTP/1.1` with `Host: host` into a request, as a connection
    /// does.
    pub fn request(method: &str, target: &str, host: &str) -> crate::Request {
        let head = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n\r\n");
        let peer = SocketAddr::from((Ipv4Addr::LOCALHOST, 1));
        parse::parse(head.as_bytes(), peer)
            .expect("a valid head")
            .request
    }

    /// Runs the lookup `ServeMux` runs for each request (without calling the handler).
    /// True if a pattern matched.
    pub fn route(mux: &crate::ServeMux, r: &crate::Request) -> bool {
        matches!(mux.lookup(r), crate::mux::Lookup::Found { .. })
    }

    /// Finds the end of `head` and parses it, as a connection does. True if it parsed.
    pub fn parse_head(head: &[u8]) -> bool {
        let peer = SocketAddr::from((Ipv4Addr::LOCALHOST, 1));
        match parse::find_end(head, 0) {
            Some(end) => parse::parse(&head[..end], peer).is_ok(),
            None => false,
        }
    }

    /// The reused per-loop state a response is encoded with.
    #[derive(Default)]
    pub struct Responder {
        headers: HeaderMap,
        body: Buffer,
        out: Buffer,
        date: Option<DateCache>,
    }

    impl Responder {
        /// Runs `f` as the handler of an HTTP/1.1 GET and appends its response to `out`
        /// (encoded into the responder's own buffer, as a connection's, then copied).
        pub fn respond(&mut self, out: &mut Vec<u8>, f: impl FnOnce(&mut ResponseWriter)) {
            let date = self.date.get_or_insert_with(DateCache::new);
            date.refresh();
            let facts = Facts {
                head: false,
                version: Version::HTTP_11,
                close: false,
            };
            self.out.clear();
            let parts = Parts {
                headers: std::mem::take(&mut self.headers),
                body: std::mem::take(&mut self.body),
                out: std::mem::take(&mut self.out),
            };
            let mut w = ResponseWriter::new(parts, facts, date.get());
            f(&mut w);
            let (parts, _) = w.finish();
            self.headers = parts.headers;
            self.body = parts.body;
            self.out = parts.out;
            out.extend_from_slice(&self.out);
        }
    }
}

/// The README's Rust snippets, compiled and run as doctests (`cargo test --doc`), so
/// that every snippet a newcomer copies works. Its TLS and WebSocket sections need the
/// `tls` and `websocket` features, which the README's test command (`--all-features`)
/// turns on.
#[cfg(all(doctest, feature = "tls", feature = "websocket"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
