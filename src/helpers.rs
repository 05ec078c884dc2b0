//! Go's handler helpers: [`not_found`], [`redirect`], [`strip_prefix`], [`max_bytes`] and
//! [`timeout_handler`], each with its handler form.
//!
//! They stand where a handler stands (step 5 of the reading path in the crate docs): each
//! is a [`Handler`] that wraps yours, or a function yours calls, and answers through the
//! [`ResponseWriter`] like any handler. What they need of a request or a response beyond
//! the public API is in `request.rs` (`copy_head`, the body's `Limit`) and `response.rs`
//! (the wrappers' section).

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crossbeam_channel::RecvTimeoutError;
use http::header::{CONTENT_TYPE, LOCATION};
use http::uri::PathAndQuery;
use http::{HeaderValue, Method, StatusCode, Uri};

use crate::handler;
use crate::mux::path::{clean_path, html_escape, unescape};
use crate::request::Limit;
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
        let Some(stripped) = strip(&r.uri, &self.prefix) else {
            return not_found(w, r);
        };
        // Go hands the handler a copy; the request keeps its own target afterwards.
        let original = std::mem::replace(&mut r.uri, stripped);
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
        match strip(&r.uri, &self.prefix) {
            Some(stripped) => {
                let mut head = r.copy_head();
                head.uri = stripped;
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

/// The error a body read returns once a [`max_bytes`] limit is passed (Go's
/// `*http.MaxBytesError`), inside an [`io::Error`] of kind `Other`.
///
/// ```
/// use std::io::Read;
/// use nethttp::{MaxBytesError, Request, ResponseWriter};
///
/// fn upload(w: &mut ResponseWriter, r: &mut Request) {
///     let mut body = Vec::new();
///     if let Err(e) = r.body().read_to_end(&mut body) {
///         if let Some(too_large) = MaxBytesError::from_io(&e) {
///             let msg = format!("at most {} bytes, please", too_large.limit);
///             return nethttp::error(w, &msg, http::StatusCode::PAYLOAD_TOO_LARGE);
///         }
///     }
///     // ...
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxBytesError {
    /// The limit that was passed, in bytes.
    pub limit: u64,
}

impl MaxBytesError {
    /// The `MaxBytesError` inside `e`, if that is what `e` is.
    pub fn from_io(e: &io::Error) -> Option<&MaxBytesError> {
        e.get_ref()?.downcast_ref()
    }
}

impl fmt::Display for MaxBytesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("http: request body too large")
    }
}

impl std::error::Error for MaxBytesError {}

/// Limits what `r`'s body reads may return to `n` more bytes (Go's `http.MaxBytesReader`).
///
/// A read past the limit fails with a [`MaxBytesError`], and from then on the response to
/// `r` (sent through `w`) carries `Connection: close` and the connection closes after it:
/// the rest of the body is not read. If the head has already gone out (after a
/// [`flush`](std::io::Write::flush)), the connection still closes after the response. A
/// tighter limit set earlier stays.
///
/// ```
/// use std::io::Read;
/// use nethttp::{max_bytes_reader, Request, ResponseWriter};
///
/// fn upload(w: &mut ResponseWriter, r: &mut Request) {
///     max_bytes_reader(w, r, 1024);
///     let mut body = Vec::new();
///     if let Err(e) = r.body().read_to_end(&mut body) {
///         return nethttp::error(w, &e.to_string(), http::StatusCode::PAYLOAD_TOO_LARGE);
///     }
///     // ...
/// }
/// ```
pub fn max_bytes_reader(w: &mut ResponseWriter, r: &mut Request, n: u64) {
    limit_body(w, r, n);
}

/// Sets the limit and returns the flag its first overrun sets.
fn limit_body(w: &mut ResponseWriter, r: &mut Request, n: u64) -> Arc<AtomicBool> {
    if let Some(limit) = &mut r.body.limit {
        if n < limit.left {
            limit.left = n;
            limit.limit = n;
        }
        return Arc::clone(&limit.hit);
    }
    let hit = Arc::new(AtomicBool::new(false));
    r.body.limit = Some(Limit {
        left: n,
        limit: n,
        hit: Arc::clone(&hit),
    });
    w.watch_body_limit(Arc::clone(&hit));
    hit
}

/// Limits the request body `handler` may read to `n` bytes (Go's `http.MaxBytesHandler`):
/// [`max_bytes_reader`] for every request.
///
/// If `handler` read past the limit and then wrote nothing (no status, no body), it is
/// answered for: `413 Payload Too Large` with the text `http: request body too large`
/// (what Go's handlers commonly write with `http.Error`), and `Connection: close`.
///
/// An inline handler's body is also bounded by
/// [`Server::max_body_bytes`](crate::Server::max_body_bytes) before it runs; this limit is
/// most useful on a [`blocking`](crate::blocking) handler, whose body streams.
///
/// ```
/// use std::io::Read;
/// use nethttp::{blocking, max_bytes, Request, ResponseWriter};
///
/// let upload = max_bytes(
///     blocking(|w: &mut ResponseWriter, r: &mut Request| {
///         let mut body = Vec::new();
///         if r.body().read_to_end(&mut body).is_err() {
///             return; // past 1 MiB: the client gets 413
///         }
///         // ...
///     }),
///     1 << 20,
/// );
/// ```
pub fn max_bytes<H: Handler>(handler: H, n: u64) -> MaxBytes<H> {
    MaxBytes { handler, limit: n }
}

/// A handler whose request bodies are limited; made by [`max_bytes`].
#[derive(Debug, Clone)]
pub struct MaxBytes<H> {
    handler: H,
    limit: u64,
}

impl<H: Handler> Handler for MaxBytes<H> {
    fn serve_http(&self, w: &mut ResponseWriter, r: &mut Request) {
        let hit = limit_body(w, r, self.limit);
        self.handler.serve_http(w, r);
        if hit.load(Ordering::Acquire) && w.is_untouched() {
            let too_large = MaxBytesError { limit: self.limit };
            error(w, &too_large.to_string(), StatusCode::PAYLOAD_TOO_LARGE);
        }
    }

    fn is_blocking(&self, r: &Request) -> bool {
        self.handler.is_blocking(r)
    }

    fn may_block(&self) -> bool {
        self.handler.may_block()
    }
}

/// Runs `handler` with a time limit (Go's `http.TimeoutHandler`): if it has not returned
/// after `limit`, the client gets `503 Service Unavailable` with the body `msg` (an empty
/// `msg` sends a small "Timeout" HTML page), and `handler`'s later writes fail with an
/// error of kind [`TimedOut`](std::io::ErrorKind::TimedOut).
///
/// A running handler cannot be interrupted, so, as Go runs it in a goroutine of its own,
/// `handler` runs on a thread of its own, started for each request, and the wrapper waits
/// for it at most `limit`. The wrapper therefore [blocks](crate::blocking): its
/// [`is_blocking`](Handler::is_blocking) is always true, and it occupies a thread of the
/// blocking pool while it waits. A handler that times out keeps running on its thread until
/// it returns; its request body, if it still reads it, stays readable until the connection
/// moves on.
///
/// `handler` writes to a writer that holds the whole response in memory: nothing reaches
/// the client until it returns, when its status, headers and body are copied to the real
/// response. So [`flush`](std::io::Write::flush) sends nothing, and informational (1xx)
/// statuses are dropped. A panic in `handler` before the limit is passed on (the client
/// gets 500); one after the limit is logged.
///
/// ```
/// use std::io::Write;
/// use std::time::Duration;
/// use nethttp::{timeout_handler, Request, ResponseWriter};
///
/// let report = timeout_handler(
///     |w: &mut ResponseWriter, _r: &mut Request| {
///         std::thread::sleep(Duration::from_millis(10)); // a slow query
///         let _ = w.write_all(b"report");
///     },
///     Duration::from_secs(2),
///     "the report took too long",
/// );
/// ```
pub fn timeout_handler<H: Handler>(
    handler: H,
    limit: Duration,
    msg: impl Into<String>,
) -> TimeoutHandler<H> {
    TimeoutHandler {
        handler: Arc::new(handler),
        limit,
        msg: msg.into(),
    }
}

/// A handler run with a time limit; made by [`timeout_handler`].
#[derive(Debug)]
pub struct TimeoutHandler<H> {
    /// Shared with the thread each request's handler runs on, which may outlive the wait.
    handler: Arc<H>,
    limit: Duration,
    /// The body of the 503; empty for `DEFAULT_TIMEOUT_BODY`.
    msg: String,
}

/// The 503 body when `timeout_handler` was given no message (Go's).
const DEFAULT_TIMEOUT_BODY: &str =
    "<html><head><title>Timeout</title></head><body><h1>Timeout</h1></body></html>";

/// What the handler's thread sends back when the handler returns.
struct Finished {
    /// Ok, or the message of the handler's panic.
    outcome: Result<(), String>,
    /// The held response.
    w: ResponseWriter,
    /// The request, given back to the connection's side.
    r: Request,
}

impl<H: Handler> Handler for TimeoutHandler<H> {
    fn serve_http(&self, w: &mut ResponseWriter, r: &mut Request) {
        let timed_out = Arc::new(AtomicBool::new(false));
        let mut held = w.held(Arc::clone(&timed_out));
        let stand_in = r.copy_head();
        let mut request = std::mem::replace(r, stand_in);
        let (tx, rx) = crossbeam_channel::bounded(1);
        let handler = Arc::clone(&self.handler);
        let spawned = thread::Builder::new()
            .name("nethttp-timeout".into())
            .spawn(move || {
                let outcome = handler::call(&*handler, &mut held, &mut request);
                let finished = Finished {
                    outcome,
                    w: held,
                    r: request,
                };
                if let Err(late) = tx.send(finished) {
                    if let Err(message) = late.into_inner().outcome {
                        log::error!("panic in a handler that had timed out: {message}");
                    }
                }
            });
        if let Err(e) = spawned {
            log::error!("timeout_handler: starting the handler's thread failed: {e}");
            return self.reply_timeout(w);
        }
        match rx.recv_timeout(self.limit) {
            Ok(Finished {
                outcome: Ok(()),
                w: held,
                r: request,
            }) => {
                *r = request;
                copy_held(held, w);
            }
            Ok(Finished {
                outcome: Err(message),
                r: request,
                ..
            }) => {
                *r = request;
                std::panic::resume_unwind(Box::new(message));
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                timed_out.store(true, Ordering::Release);
                self.reply_timeout(w);
            }
        }
    }

    /// Always: the wrapper waits for the handler's thread.
    fn may_block(&self) -> bool {
        true
    }

    fn is_blocking(&self, _r: &Request) -> bool {
        true
    }
}

impl<H> TimeoutHandler<H> {
    /// The 503 sent when the handler is late.
    fn reply_timeout(&self, w: &mut ResponseWriter) {
        let body = match self.msg.as_str() {
            "" => DEFAULT_TIMEOUT_BODY,
            msg => msg,
        };
        w.write_header(StatusCode::SERVICE_UNAVAILABLE);
        let _ = w.write_all(body.as_bytes());
    }
}

/// Copies a held response to the real one: its header fields replace those of the same
/// name, then its status (200 if it chose none) and body.
fn copy_held(held: ResponseWriter, w: &mut ResponseWriter) {
    let (status, headers, body) = held.into_held();
    w.headers_mut().extend(headers);
    w.write_header(status.unwrap_or(StatusCode::OK));
    if !body.is_empty() {
        let _ = w.write_all(&body);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_targets_resolve_against_the_request_directory() {
        for (url, path, expected) in [
            ("d", "/a/b/c", "/a/b/d"),
            ("../d?x=1", "/a/b/c", "/a/d?x=1"),
            ("e/", "/a/b/c", "/a/b/e/"),
            ("./", "/a/b/c", "/a/b/"),
            ("..", "/a/b/c", "/a"),
            ("../..", "/a/b/", "/"),
            ("../../../..", "/a/b", "/"),
            ("", "/a/b", "/a/"),
            ("?q=1", "/a/b", "/a/?q=1"),
            ("d", "/", "/d"),
            ("d", "/a/b/", "/a/b/d"),
            ("x/./y//z/../", "/a/", "/a/x/y/"),
            ("///x", "/a/", "/x"),
            ("d?next=/a/../b", "/a/c", "/a/d?next=/a/../b"),
        ] {
            assert_eq!(resolve(url, path), expected, "{url:?} from {path:?}");
        }
    }

    #[test]
    fn absolute_paths_are_cleaned_with_their_trailing_slash() {
        assert_eq!(resolve("/new", "/a/b"), "/new");
        assert!(matches!(resolve("/new", "/a/b"), Cow::Borrowed(_)));
        assert_eq!(resolve("/x/../y/", "/a/b"), "/y/");
        assert_eq!(resolve("//", "/a/b"), "/");
        assert_eq!(resolve("/a/./b/.", "/"), "/a/b");
    }

    #[test]
    fn targets_with_scheme_or_host_are_sent_as_given() {
        for url in [
            "http://example.com/../x",
            "https://example.com",
            "mailto:someone@example.com",
            "//example.com/a/../b",
            "//user@example.com",
        ] {
            assert_eq!(resolve(url, "/a/b"), url);
        }
    }

    #[test]
    fn targets_go_cannot_parse_are_sent_as_given() {
        for url in ["1a:b/../c", ":x", "a/%zz/../b", "a/%2", "a\nb"] {
            assert_eq!(resolve(url, "/a/b"), url, "{url:?}");
        }
        assert_eq!(resolve("c/%41/../d", "/a/b"), "/a/c/d", "valid escapes");
        assert_eq!(
            resolve("c?q=%zz", "/a/b"),
            "/a/c?q=%zz",
            "the query is not checked"
        );
    }

    #[test]
    fn location_escapes_non_ascii_and_control_bytes() {
        assert_eq!(header_escape("/caf\u{e9}?q=1"), "/caf%c3%a9?q=1");
        assert_eq!(header_escape("/a\tb\x7f"), "/a%09b%7f");
        assert!(matches!(header_escape("/plain path"), Cow::Borrowed(_)));
    }

    /// A body holding `bytes`, with a limit of `n`.
    fn limited(bytes: &[u8], n: u64) -> (crate::Body, Arc<AtomicBool>) {
        let hit = Arc::new(AtomicBool::new(false));
        let body = crate::Body {
            bytes: bytes.to_vec(),
            limit: Some(Limit {
                left: n,
                limit: n,
                hit: Arc::clone(&hit),
            }),
            ..crate::Body::default()
        };
        (body, hit)
    }

    #[test]
    fn a_body_reads_up_to_its_limit_then_fails() {
        let (mut body, hit) = limited(b"0123456789", 4);
        let mut got = Vec::new();
        let e = io::Read::read_to_end(&mut body, &mut got).unwrap_err();
        assert_eq!(got, b"0123");
        assert_eq!(
            MaxBytesError::from_io(&e),
            Some(&MaxBytesError { limit: 4 })
        );
        assert_eq!(e.to_string(), "http: request body too large");
        assert!(hit.load(Ordering::Acquire));
        assert!(
            io::Read::read(&mut body, &mut [0; 8]).is_err(),
            "and stays failed"
        );
    }

    #[test]
    fn a_body_of_exactly_the_limit_reads_whole() {
        let (mut body, hit) = limited(b"0123", 4);
        let mut got = Vec::new();
        assert_eq!(io::Read::read_to_end(&mut body, &mut got).unwrap(), 4);
        assert!(!hit.load(Ordering::Acquire));
    }

    #[test]
    fn buffered_reads_see_only_what_the_limit_allows() {
        use std::io::BufRead;
        let (mut body, hit) = limited(b"line one\nline two\n", 5);
        assert_eq!(body.fill_buf().unwrap(), b"line ");
        body.consume(3);
        assert_eq!(body.fill_buf().unwrap(), b"e ");
        body.consume(2);
        assert!(body.fill_buf().is_err());
        assert!(hit.load(Ordering::Acquire));
    }

    fn stripped(target: &str, prefix: &str) -> Option<String> {
        let uri: Uri = target.parse().unwrap();
        strip(&uri, prefix).map(|u| u.to_string())
    }

    #[test]
    fn strip_keeps_a_leading_slash_and_the_query() {
        assert_eq!(
            stripped("/api/users?x=1", "/api").as_deref(),
            Some("/users?x=1")
        );
        assert_eq!(stripped("/api/users", "/api/").as_deref(), Some("/users"));
        assert_eq!(stripped("/api", "/api").as_deref(), Some("/"));
        assert_eq!(stripped("/api?q", "/api").as_deref(), Some("/?q"));
        assert_eq!(stripped("/apix", "/api").as_deref(), Some("/x"));
        assert_eq!(
            stripped("http://h/api/x", "/api").as_deref(),
            Some("http://h/x")
        );
    }

    #[test]
    fn strip_needs_the_prefix_as_sent_and_decoded() {
        assert_eq!(stripped("/other", "/api"), None);
        assert_eq!(stripped("/api%2Fx", "/api/"), None, "the raw path lacks it");
        assert_eq!(
            stripped("/%61pi/x", "/api"),
            None,
            "only the decoded path has it"
        );
        assert_eq!(
            stripped("/a%20b/x", "/a%20b"),
            None,
            "only the raw path has it"
        );
        assert_eq!(stripped("/a%2520b/x", "/a%20b"), None);
    }
}
