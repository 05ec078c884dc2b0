//! [`ServeMux`]: Go's request router with Go 1.22 patterns, and the answers it gives
//! itself (404, 405, redirects).
//!
//! A `ServeMux` is a [`Handler`] that sits between the server and your handlers
//! (`handler.rs` calls it; it calls one of yours). Its parts, in the order a pattern
//! travels from registration to a request:
//!
//! 1. `mux/pattern.rs`: the pattern string is parsed.
//! 2. `mux/conflict.rs`: it is compared with every registered pattern; a conflict is
//!    refused.
//! 3. `mux/tree.rs`: it is filed in the routing tree, where requests find it.
//! 4. This file: a request's host and path are cleaned, the tree is searched, and the
//!    handler runs with the pattern and wildcard values set on the [`Request`].
//!
//! `mux/path.rs` holds the string helpers (cleaning, unescaping).

mod conflict;
pub(crate) mod path;
mod pattern;
mod tree;

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use std::panic::Location;

use http::header::{ALLOW, CONNECTION, CONTENT_TYPE, LOCATION};
use http::{HeaderValue, Method, StatusCode, Version};

use crate::request::Route;
use crate::{error, Handler, Request, ResponseWriter};

use self::path::{clean_path, html_escape, strip_port};
use self::pattern::Pattern;
use self::tree::Tree;

pub use self::pattern::PatternError;

/// A request router (Go's `http.ServeMux`, with Go 1.22 patterns).
///
/// A pattern is `[METHOD ][HOST]/PATH`:
///
/// - `METHOD` limits it to one method; `GET` also serves HEAD. No method: any method.
/// - `HOST` limits it to one host (the `Host` header, port stripped). A pattern with a
///   host wins over one without.
/// - `PATH` segments are literal (percent-decoded: `/%61` is `/a`), `{name}` (any one
///   segment), `{name...}` (all the rest, last only) or `{$}` (the end, after a slash).
///   A trailing `/` matches the whole subtree: `/static/` serves `/static/css/a.css`.
///
/// The most specific pattern wins: one that matches a strict subset of another's
/// requests (`/users/new` beats `/users/{id}`). Two patterns that match some request in
/// common with neither more specific (`/a/{x}` and `/{y}/b`) conflict, and the second is
/// refused when registered.
///
/// Requests are matched on their cleaned path: `/a/./b` or `//a` is answered with a 301
/// to the clean path (not for CONNECT). A request for `/dir` when only the subtree
/// `/dir/` is registered is answered with a 301 to `/dir/`. A path no pattern matches
/// gets 404; a path that only another method's pattern matches gets 405 with `Allow`.
///
/// ```
/// use std::io::Write;
/// use nethttp::{Request, ResponseWriter, ServeMux};
///
/// let mut mux = ServeMux::new();
/// mux.handle("GET /{$}", |w: &mut ResponseWriter, _r: &mut Request| {
///     let _ = w.write_all(b"home");
/// });
/// mux.handle("GET /users/{id}", |w: &mut ResponseWriter, r: &mut Request| {
///     let _ = write!(w, "user {}", r.path_value("id").unwrap_or_default());
/// });
/// mux.handle("POST /users/", |w: &mut ResponseWriter, r: &mut Request| {
///     let _ = write!(w, "matched {}", r.pattern().unwrap_or_default());
/// });
/// assert!(mux.try_handle("/users/{name}", |_: &mut ResponseWriter, _: &mut Request| {}).is_err());
///
/// # let serve = |_: ServeMux| -> std::io::Result<()> { Ok(()) };
/// serve(mux)?; // e.g. nethttp::listen_and_serve(":8080", mux)
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// Routing cost does not grow with the number of patterns: the tree is searched one
/// segment at a time through a map of literal segments, as Go's is.
#[derive(Default)]
pub struct ServeMux {
    tree: Tree,
    /// Registered routes, numbered by position; the tree's leaves hold these numbers.
    routes: Vec<Registered>,
    /// Bit `n` is set if some pattern ending in a slash (`/dir/`, `{x...}` or `{$}`) has
    /// `n` segments (bit 63: 63 or more). Only such a pattern can answer the redirect from
    /// `/dir` to `/dir/`, so most paths skip that second search (and its allocation).
    subtree_lengths: u64,
    /// Some route's handler may block; without one, `is_blocking` needs no lookup.
    any_blocking: bool,
}

/// One registered pattern with its handler.
struct Registered {
    pattern: Pattern,
    handler: Box<dyn Handler>,
    /// Where `handle` was called, for conflict messages.
    at: &'static Location<'static>,
}

/// What the mux decided for a request.
#[derive(Debug)]
pub(crate) enum Lookup<'r> {
    /// Route number `route` matched, with these wildcard values (in pattern order).
    Found {
        route: usize,
        values: Vec<Cow<'r, str>>,
    },
    /// Redirect (301) to this path and query.
    Redirect(String),
    /// Only patterns for other methods match; the value for `Allow`.
    MethodNotAllowed(String),
    /// No pattern matches.
    NotFound,
    /// The target is `*` (not `OPTIONS *`, which the server answers itself).
    BadRequest,
}

impl ServeMux {
    /// An empty mux (Go's `http.NewServeMux`): every request gets 404 until patterns are
    /// registered.
    pub fn new() -> ServeMux {
        ServeMux::default()
    }

    /// Registers `handler` for `pattern` (Go's `mux.Handle` and `mux.HandleFunc`; a
    /// closure is a handler).
    ///
    /// # Panics
    ///
    /// If the pattern is invalid or conflicts with one already registered, with the
    /// message of the [`PatternError`], like Go. Use [`try_handle`](ServeMux::try_handle)
    /// to get the error instead.
    #[track_caller]
    pub fn handle(&mut self, pattern: &str, handler: impl Handler) {
        if let Err(e) = self.try_handle(pattern, handler) {
            panic!("{e}");
        }
    }

    /// Registers `handler` for `pattern`, or says why it cannot: the pattern is invalid,
    /// or it conflicts with a registered one (the error names both).
    #[track_caller]
    pub fn try_handle(&mut self, pattern: &str, handler: impl Handler) -> Result<(), PatternError> {
        let pattern = Pattern::parse(pattern)?;
        if let Some(existing) = self
            .routes
            .iter()
            .find(|r| conflict::conflicts(&pattern, &r.pattern))
        {
            return Err(PatternError::Conflict {
                pattern: pattern.text.to_string(),
                existing: existing.pattern.text.to_string(),
                existing_at: existing.at.to_string(),
                explanation: conflict::describe(&pattern, &existing.pattern),
            });
        }
        self.tree.insert(&pattern, self.routes.len());
        if pattern.ends_in_slash() {
            self.subtree_lengths |= length_bit(pattern.segments.len());
        }
        self.any_blocking |= handler.may_block();
        self.routes.push(Registered {
            pattern,
            handler: Box::new(handler),
            at: Location::caller(),
        });
        Ok(())
    }

    /// Decides what to do with `r`: the route, a redirect, or a refusal (Go's
    /// `findHandler`). Allocates only to hold wildcard values (and to decode escaped
    /// ones), or for a redirect or a refusal.
    pub(crate) fn lookup<'r>(&self, r: &'r Request) -> Lookup<'r> {
        if r.uri() == "*" {
            return Lookup::BadRequest;
        }
        let method = r.method().as_str();
        let query = r.uri().query().filter(|q| !q.is_empty());
        let escaped = r.uri().path();
        if r.method() == Method::CONNECT {
            // CONNECT targets are authorities: neither path nor host is cleaned.
            return self.route(r.host(), method, escaped, query);
        }
        let host = strip_port(r.host());
        match clean_path(escaped) {
            Cow::Borrowed(path) if path == escaped => self.route(host, method, escaped, query),
            clean => {
                let found = self.tree.find(host, method, &clean, &mut Vec::new());
                let to = self.slash_redirect(host, method, &clean, found);
                Lookup::Redirect(with_query(to.unwrap_or_else(|| clean.into_owned()), query))
            }
        }
    }

    /// Matches a clean `path` (Go's `matchOrRedirect` with what follows it).
    fn route<'r>(
        &self,
        host: &str,
        method: &str,
        path: &'r str,
        query: Option<&str>,
    ) -> Lookup<'r> {
        let mut values = Vec::new();
        let found = self.tree.find(host, method, path, &mut values);
        if let Some(to) = self.slash_redirect(host, method, path, found) {
            return Lookup::Redirect(with_query(to, query));
        }
        if let Some(route) = found {
            return Lookup::Found { route, values };
        }
        match self.allowed_methods(host, path) {
            Some(allow) => Lookup::MethodNotAllowed(allow),
            None => Lookup::NotFound,
        }
    }

    /// `path + "/"` if `path` has no exact match but `path + "/"` has one: a request for
    /// the root of a subtree pattern (`/dir` for `/dir/`) without its trailing slash.
    fn slash_redirect(
        &self,
        host: &str,
        method: &str,
        path: &str,
        found: Option<usize>,
    ) -> Option<String> {
        if path.is_empty() || path.ends_with('/') || self.is_exact(found, path) {
            return None;
        }
        // `path + "/"` has one segment per slash in `path`, plus one.
        let slashes = path.bytes().filter(|&b| b == b'/').count();
        if self.subtree_lengths & length_bit(slashes + 1) == 0 {
            return None;
        }
        let with_slash = format!("{path}/");
        let again = self.tree.find(host, method, &with_slash, &mut Vec::new());
        self.is_exact(again, &with_slash).then_some(with_slash)
    }

    fn is_exact(&self, route: Option<usize>, path: &str) -> bool {
        route.is_some_and(|i| self.routes[i].pattern.matches_exactly(path))
    }

    /// The `Allow` value for a path that patterns of other methods match: sorted, HEAD
    /// added when GET is there. `None` if no pattern with a method matches.
    fn allowed_methods(&self, host: &str, path: &str) -> Option<String> {
        let mut allowed = BTreeSet::new();
        self.tree.methods_for(host, path, &mut allowed);
        let with_slash = format!("{path}/"); // the redirect would try it too
        self.tree.methods_for(host, &with_slash, &mut allowed);
        if allowed.contains("GET") {
            allowed.insert("HEAD");
        }
        (!allowed.is_empty()).then(|| allowed.into_iter().collect::<Vec<_>>().join(", "))
    }
}

/// A [`Lookup`] kept on the request between `is_blocking` and `serve_http` (see
/// `Request::routing`), with the address of the mux that made it.
struct Kept {
    mux: usize,
    lookup: Lookup<'static>,
}

impl Lookup<'_> {
    /// The same decision, holding its wildcard values itself.
    fn into_owned(self) -> Lookup<'static> {
        match self {
            Lookup::Found { route, values } => Lookup::Found {
                route,
                values: values
                    .into_iter()
                    .map(|v| Cow::Owned(v.into_owned()))
                    .collect(),
            },
            Lookup::Redirect(to) => Lookup::Redirect(to),
            Lookup::MethodNotAllowed(allow) => Lookup::MethodNotAllowed(allow),
            Lookup::NotFound => Lookup::NotFound,
            Lookup::BadRequest => Lookup::BadRequest,
        }
    }
}

impl ServeMux {
    /// This mux's identity, to know its own kept lookup from another's.
    fn id(&self) -> usize {
        self as *const ServeMux as usize
    }

    /// The route for `r`: kept from `is_blocking` if this mux asked then, else looked up.
    fn decide<'r>(&self, r: &'r mut Request) -> Lookup<'r> {
        let kept = r.routing.take().and_then(|any| any.downcast::<Kept>().ok());
        match kept {
            Some(kept) if kept.mux == self.id() => kept.lookup,
            _ => self.lookup(r),
        }
    }
}

impl Handler for ServeMux {
    fn serve_http(&self, w: &mut ResponseWriter, r: &mut Request) {
        match self.decide(r) {
            Lookup::Found { route, values } => {
                let registered = &self.routes[route];
                let names = registered.pattern.wildcard_names();
                let values = names
                    .cloned()
                    .zip(values.into_iter().map(Cow::into_owned))
                    .collect();
                r.route = Some(Route {
                    pattern: Some(registered.pattern.text.clone()),
                    values,
                });
                registered.handler.serve_http(w, r);
            }
            Lookup::Redirect(to) => redirect(w, r, &to),
            Lookup::MethodNotAllowed(allow) => {
                if let Ok(value) = HeaderValue::try_from(allow) {
                    w.headers_mut().insert(ALLOW, value);
                }
                error(w, "Method Not Allowed", StatusCode::METHOD_NOT_ALLOWED);
            }
            Lookup::NotFound => error(w, "404 page not found", StatusCode::NOT_FOUND),
            Lookup::BadRequest => {
                if r.version() == Version::HTTP_11 {
                    w.headers_mut()
                        .insert(CONNECTION, HeaderValue::from_static("close"));
                }
                w.write_header(StatusCode::BAD_REQUEST);
            }
        }
    }

    fn may_block(&self) -> bool {
        self.any_blocking
    }

    /// The route's handler decides; the mux's own answers never block. The lookup is
    /// kept on the request for `serve_http`, which then does not look the route up again.
    /// (Behind [`strip_prefix`](crate::strip_prefix), which asks about a copy of the
    /// request with the prefix cut, an inner mux looks its route up again.)
    fn is_blocking(&self, r: &Request) -> bool {
        if !self.may_block() {
            return false;
        }
        let lookup = self.lookup(r).into_owned();
        let route = match lookup {
            Lookup::Found { route, .. } => Some(route),
            _ => None,
        };
        let kept = Kept {
            mux: self.id(),
            lookup,
        };
        let _ = r.routing.set(Box::new(kept)); // a mux asked first keeps its own
        route.is_some_and(|route| self.routes[route].handler.is_blocking(r))
    }
}

impl fmt::Debug for ServeMux {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let patterns = self.routes.iter().map(|r| &*r.pattern.text);
        f.debug_struct("ServeMux")
            .field("patterns", &patterns.collect::<Vec<_>>())
            .finish()
    }
}

/// The bit for patterns of `segments` segments in `ServeMux::subtree_lengths`.
fn length_bit(segments: usize) -> u64 {
    1 << segments.min(63)
}

fn with_query(mut path: String, query: Option<&str>) -> String {
    if let Some(query) = query {
        path.push('?');
        path.push_str(query);
    }
    path
}

/// A 301 to `to`, as Go's `http.Redirect` writes it: an HTML note for GET, no body for
/// other methods.
fn redirect(w: &mut ResponseWriter, r: &Request, to: &str) {
    let Ok(location) = HeaderValue::try_from(to) else {
        return error(w, "Bad Request", StatusCode::BAD_REQUEST); // unreachable: `to` came from the URI
    };
    let had_type = w.headers().contains_key(CONTENT_TYPE);
    w.headers_mut().insert(LOCATION, location);
    let get = r.method() == Method::GET;
    if !had_type && (get || r.method() == Method::HEAD) {
        let html = HeaderValue::from_static("text/html; charset=utf-8");
        w.headers_mut().insert(CONTENT_TYPE, html);
    }
    w.write_header(StatusCode::MOVED_PERMANENTLY);
    if !had_type && get {
        let note = format!("<a href=\"{}\">Moved Permanently</a>.\n\n", html_escape(to));
        let _ = std::io::Write::write_all(w, note.as_bytes());
    }
}

#[cfg(test)]
mod tests;
