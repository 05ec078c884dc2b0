//! Go's handler helpers: [`not_found`], [`redirect`], [`strip_prefix`], [`max_bytes`] and
//! [`timeout_handler`], each with its handler form.
//!
//! They stand where a handler stands (step 5 of the reading path in the crate docs): each
//! is a [`Handler`] that wraps yours, or a function yours calls, and answers through the
//! [`ResponseWriter`] like any handler. What they need of a request or a response beyond
//! the public API is in `request.rs` (`copy_head`, the body's `Limit`) and `response.rs`
//! (the wrappers' section).

use std::borrow::Cow;
use std::cell::OnceCell;
use std::fmt::Write as _;
use std::io::Write;

use http::header::{CONTENT_TYPE, LOCATION};
use http::uri::PathAndQuery;
use http::{HeaderValue, Method, StatusCode, Uri};

use crate::mux::path::{clean_path, html_escape, unescape};
use crate::{error, Handler, Request, ResponseWriter};

/// Replies `404 page not found` (Go's `http.NotFound`): plain text, `nosniff`.
///
/// ```
/// use nethttp::{not_found, ServeMux};
///
/// let mut mux = ServeMux::new();
/// mux.handle("/old/", not_found);
/// ```
pub fn not_found(w: &mut ResponseWriter, _r: &mut Request) {
    error(w, "404 page not found", StatusCode::NOT_FOUND);
}

/// A readiness endpoint for load balancers and orchestrators: `200 ready` while the server
/// serves, `503 draining` once a graceful shutdown has begun (during its
/// [`drain_delay`](crate::Server::drain_delay) the server still serves everything else),
/// so the balancer stops sending requests before the listener closes.
///
/// ```
/// use nethttp::ServeMux;
///
/// let mut mux = ServeMux::new();
/// mux.handle("GET /readyz", nethttp::readiness);
/// ```
pub fn readiness(w: &mut ResponseWriter, r: &mut Request) {
    if r.is_draining() {
        w.write_header(StatusCode::SERVICE_UNAVAILABLE);
        let _ = w.write_all(b"draining\n");
    } else {
        let _ = w.write_all(b"ready\n");
    }
}

/// A handler that answers every request with [`not_found`] (Go's `http.NotFoundHandler`).
pub fn not_found_handler() -> fn(&mut ResponseWriter, &mut Request) {
    not_found
}

/// Replies with a redirect to `url` (Go's `http.Redirect`); `code` should be a 3xx status.
///
/// A `url` without scheme or host is made absolute first, as the client would: a relative
/// one is joined to the directory of the request path, then `.` and `..` segments and
/// doubled slashes are resolved (a trailing slash is kept) and the query is carried over.
/// On `/a/b/c`, `../d?x=1` becomes `/a/d?x=1` and `e/` becomes `/a/b/e/`. A `url` with a
/// scheme or host, or one Go would not parse (a control byte, a bad `%` escape in the
/// path, a colon in the first segment of a relative one), is sent as given.
///
/// `Location` carries the target with non-ASCII bytes (and control bytes, which a header
/// cannot hold) percent-encoded. Unless the handler already set `Content-Type`, a GET or
/// HEAD gets `text/html; charset=utf-8`, and a GET gets the short note older clients show:
/// `<a href="/a/d?x=1">Found</a>.`
///
/// ```
/// use nethttp::{redirect, Request, ResponseWriter};
/// use http::StatusCode;
///
/// fn moved(w: &mut ResponseWriter, r: &mut Request) {
///     redirect(w, r, "../new-home", StatusCode::MOVED_PERMANENTLY);
/// }
/// ```
pub fn redirect(w: &mut ResponseWriter, r: &Request, url: &str, code: StatusCode) {
    let target = resolve(url, r.path());
    let had_type = w.headers().contains_key(CONTENT_TYPE);
    match HeaderValue::try_from(header_escape(&target).as_ref()) {
        Ok(location) => {
            w.headers_mut().insert(LOCATION, location);
        }
        Err(_) => log::warn!("redirect target {target:?} is not a valid Location"),
    }
    let get = r.method() == Method::GET;
    if !had_type && (get || r.method() == Method::HEAD) {
        let html = HeaderValue::from_static("text/html; charset=utf-8");
        w.headers_mut().insert(CONTENT_TYPE, html);
    }
    w.write_header(code);
    if !had_type && get {
        let text = code.canonical_reason().unwrap_or("");
        let note = format!("<a href=\"{}\">{text}</a>.\n\n", html_escape(&target));
        let _ = w.write_all(note.as_bytes());
    }
}

/// A handler that redirects every request to `url` with `code` (Go's
/// `http.RedirectHandler`); see [`redirect`] for how `url` is resolved.
///
/// ```
/// use nethttp::{redirect_handler, ServeMux};
/// use http::StatusCode;
///
/// let mut mux = ServeMux::new();
/// mux.handle("/docs", redirect_handler("/docs/", StatusCode::MOVED_PERMANENTLY));
/// ```
pub fn redirect_handler(url: impl Into<String>, code: StatusCode) -> RedirectHandler {
    RedirectHandler {
        url: url.into(),
        code,
    }
}

/// A handler that redirects every request to one URL; made by [`redirect_handler`].
#[derive(Debug, Clone)]
pub struct RedirectHandler {
    url: String,
    code: StatusCode,
}

impl Handler for RedirectHandler {
    fn serve_http(&self, w: &mut ResponseWriter, r: &mut Request) {
        redirect(w, r, &self.url, self.code);
    }

    fn may_block(&self) -> bool {
        false
    }
}

/// Serves requests whose path starts with `prefix` by removing it and calling `handler`
/// (Go's `http.StripPrefix`); other requests get [`not_found`]. An empty prefix passes
/// every request on unchanged.
///
/// The prefix is matched against the path as sent (percent-encoded), and, if it holds a
/// `%`, against the decoded path too, as Go requires of both. The query is kept. A path
/// always starts with `/` here (`http::Uri` holds no other), so one is put back when the
/// prefix took it: with prefix `/static`, `/static/app.css` reaches `handler` as
/// `/app.css`, and `/static` as `/` (Go: `/app.css` and `""`); with prefix `/static/`,
/// `/static/app.css` also arrives as `/app.css` (Go: `app.css`).
///
/// [`is_blocking`](Handler::is_blocking) asks `handler` about the stripped request.
///
/// ```
/// use std::io::Write;
/// use nethttp::{strip_prefix, Request, ResponseWriter, ServeMux};
///
/// let api = |w: &mut ResponseWriter, r: &mut Request| {
///     let _ = write!(w, "api sees {}", r.path()); // `/users` for `/api/users`
/// };
/// let mut mux = ServeMux::new();
/// mux.handle("/api/", strip_prefix("/api", api));
/// ```
pub fn strip_prefix<H: Handler>(prefix: impl Into<String>, handler: H) -> StripPrefix<H> {
    StripPrefix {
        prefix: prefix.into(),
        handler,
    }
}

/// A handler that removes a path prefix before calling another; made by [`strip_prefix`].
#[derive(Debug, Clone)]
pub struct StripPrefix<H> {
    prefix: String,
    handler: H,
}

impl<H: Handler> Handler for StripPrefix<H> {
    fn serve_http(&self, w: &mut ResponseWriter, r: &mut Request) {
        if self.prefix.is_empty() {
            return self.handler.serve_http(w, r);
        }
        let Some(stripped) = strip(r.uri(), &self.prefix) else {
            return not_found(w, r);
        };
        // Go hands the handler a copy; the request keeps its own target afterwards.
        let original = std::mem::replace(&mut r.uri, OnceCell::from(stripped));
        self.handler.serve_http(w, r);
        r.uri = original;
    }

    fn may_block(&self) -> bool {
        self.handler.may_block()
    }

    fn is_blocking(&self, r: &Request) -> bool {
        if self.prefix.is_empty() {
            return self.handler.is_blocking(r);
        }
        match strip(r.uri(), &self.prefix) {
            Some(stripped) => {
                let mut head = r.copy_head();
                head.uri = OnceCell::from(stripped);
                self.handler.is_blocking(&head)
            }
            None => false, // answered with 404, on the loop
        }
    }
}

/// `uri` with `prefix` removed from its path (a leading `/` kept), or `None` if the path,
/// as sent or (for a prefix with a `%`) decoded, does not start with it.
fn strip(uri: &Uri, prefix: &str) -> Option<Uri> {
    let path = uri.path();
    let rest = path.strip_prefix(prefix)?;
    if prefix.contains('%') && !unescape(path).starts_with(prefix) {
        return None;
    }
    let query = uri.query();
    let mut target = String::with_capacity(rest.len() + query.map_or(0, str::len) + 2);
    if !rest.starts_with('/') {
        target.push('/');
    }
    target.push_str(rest);
    if let Some(query) = query {
        target.push('?');
        target.push_str(query);
    }
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(target).ok()?);
    Uri::from_parts(parts).ok()
}

/// The redirect target as Go's `Redirect` sends it (see [`redirect`]).
fn resolve<'a>(url: &'a str, request_path: &str) -> Cow<'a, str> {
    if !is_local(url) {
        return Cow::Borrowed(url);
    }
    let joined: Cow<'_, str> = if url.starts_with('/') {
        Cow::Borrowed(url)
    } else {
        let dir = &request_path[..request_path.rfind('/').map_or(0, |i| i + 1)];
        Cow::Owned(format!("{dir}{url}"))
    };
    let (path, query) = joined.split_at(joined.find('?').unwrap_or(joined.len()));
    let clean = clean_path(path);
    if clean == path && matches!(joined, Cow::Borrowed(_)) {
        return Cow::Borrowed(url);
    }
    Cow::Owned(format!("{clean}{query}"))
}

/// True if Go's `url.Parse` reads `url` as a reference with neither scheme nor host, so
/// `Redirect` resolves it against the request path. False too for what Go fails to
/// parse, which it sends as given.
fn is_local(url: &str) -> bool {
    if url.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return false;
    }
    let path_end = url.find(['?', '#']).unwrap_or(url.len());
    if !escapes_are_valid(&url[..path_end]) {
        return false;
    }
    if let Some(rest) = url.strip_prefix("//") {
        let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        let host = authority.rsplit('@').next().unwrap_or("");
        return host.is_empty();
    }
    // A colon in the first segment is a scheme's, or a parse error in Go.
    let first = &url[..url.find(['/', '?', '#']).unwrap_or(url.len())];
    !first.contains(':')
}

/// Every `%` in `text` starts a two-digit hex escape.
fn escapes_are_valid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || matches!(
                (bytes.get(i + 1), bytes.get(i + 2)),
                (Some(h), Some(l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit()
            )
    })
}

/// `text` with bytes a header value should not carry raw (non-ASCII, as Go's
/// `hexEscapeNonASCII`, and control bytes) percent-encoded.
fn header_escape(text: &str) -> Cow<'_, str> {
    let plain = |b: u8| (0x20..0x7f).contains(&b);
    if text.bytes().all(plain) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for b in text.bytes() {
        if plain(b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02x}");
        }
    }
    Cow::Owned(out)
}

mod max_bytes;
mod timeout;

pub use crate::error::MaxBytesError;
pub use max_bytes::{max_bytes, max_bytes_reader, MaxBytes};
pub use timeout::{timeout_handler, TimeoutHandler};

#[cfg(test)]
mod tests;
