//! The [`Request`] a handler receives: the parsed head and the body as `std::io::Read`.
//!
//! Previous step: `parse.rs` builds the head and `body.rs` collects the body. Next: the
//! handler (`handler.rs`).

use std::any::Any;
use std::cell::OnceCell;
use std::io::{self, BufRead, Read};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri, Version};

use crate::error::MaxBytesError;
use crate::forwarded::{self, IpNet};
use crate::mem::Buffer;
use crate::offload::channel::{ClientGone, Feed, Incoming, MAX_DRAIN};
use crate::query::Forms;

/// An HTTP request as the server received it (Go's `*http.Request`, server side).
///
/// The head uses the `http` crate's types. The body has been received whole before the
/// handler runs (up to [`Server::max_body_bytes`](crate::Server::max_body_bytes)), and reads
/// like any `std::io::Read`:
///
/// ```
/// use std::io::Read;
/// use nethttp::{Request, ResponseWriter};
///
/// fn upload(w: &mut ResponseWriter, r: &mut Request) {
///     let mut text = String::new();
///     if r.body().read_to_string(&mut text).is_err() {
///         return nethttp::error(w, "body is not UTF-8", http::StatusCode::BAD_REQUEST);
///     }
///     let _ = write!(w, "{} got {} bytes", r.method(), text.len());
/// }
/// # use std::io::Write;
/// ```
#[derive(Debug)]
pub struct Request {
    pub(crate) method: Method,
    /// The target as a `Uri`. Empty while the target is a plain path (`parse::is_plain_path`)
    /// that no one has asked for as a `Uri`: [`uri`](Request::uri) makes it from the head.
    pub(crate) uri: OnceCell<Uri>,
    /// Where the target lies in `head` (offset, length).
    pub(crate) target: (u32, u32),
    pub(crate) version: Version,
    /// The request head as received; `fields` point into it.
    pub(crate) head: Bytes,
    /// Where each header field's name and value lie in `head`, in arrival order.
    pub(crate) fields: Vec<RawField>,
    /// The fields as a `HeaderMap`, built the first time a handler asks: a handler that
    /// never looks at headers never pays for hashing them.
    pub(crate) headers: OnceCell<Box<HeaderMap>>,
    /// Trailer fields of a chunked body; `None` when there were none (the common case,
    /// which keeps the request small).
    pub(crate) trailers: Option<Box<HeaderMap>>,
    pub(crate) remote_addr: SocketAddr,
    pub(crate) body: Body,
    /// What a [`ServeMux`](crate::ServeMux) matched; `None` until one routes the request
    /// (or [`set_path_value`](Request::set_path_value) is called).
    pub(crate) route: Option<Route>,
    /// What a router decided for this request when the server asked whether it blocks,
    /// kept for the router's `serve_http`, so the route is looked up once: the router's
    /// own type, which says which router it is from (see `mux.rs`).
    pub(crate) routing: OnceCell<Box<dyn Any + Send>>,
    /// The parsed form, once `parse_form` has run (`form.rs`).
    pub(crate) forms: Option<Box<Forms>>,
    /// A blocking request's cancellation: its client is gone (`cancel.rs`).
    pub(crate) gone: Option<ClientGone>,
    /// The proxies the server trusts (`Server::trusted_proxies`), for `client_addr`;
    /// `None` when it trusts none.
    pub(crate) trusted: Option<Arc<Vec<IpNet>>>,
}

/// Where one header field lies in a request head (byte offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawField {
    name: (u32, u32),
    value: (u32, u32),
}

impl RawField {
    /// Records `name` and `value`, which must be slices of `head`.
    pub(crate) fn new(head: &[u8], name: &[u8], value: &[u8]) -> RawField {
        let offset = |part: &[u8]| (part.as_ptr() as usize - head.as_ptr() as usize) as u32;
        RawField {
            name: (offset(name), name.len() as u32),
            value: (offset(value), value.len() as u32),
        }
    }

    fn name<'h>(&self, head: &'h [u8]) -> &'h [u8] {
        &head[self.name.0 as usize..(self.name.0 + self.name.1) as usize]
    }

    fn value_range(&self) -> std::ops::Range<usize> {
        self.value.0 as usize..(self.value.0 + self.value.1) as usize
    }
}

/// The pattern a [`ServeMux`](crate::ServeMux) matched for a request, and the values of
/// its wildcards.
#[derive(Debug, Clone, Default)]
pub(crate) struct Route {
    /// The pattern as registered; `None` if only `set_path_value` made this route.
    pub(crate) pattern: Option<Arc<str>>,
    /// Wildcard names and their percent-decoded values, in pattern order, then any added
    /// by `set_path_value`. Names are unique.
    pub(crate) values: Vec<(Arc<str>, String)>,
}

impl Request {
    /// The method, as sent (`get` stays `get`).
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The request target: a path and query (origin form), a full URI (absolute form),
    /// an authority (`CONNECT`) or `*` (`OPTIONS *`).
    pub fn uri(&self) -> &Uri {
        self.uri.get_or_init(|| match self.target_bytes() {
            // A plain path parses, as the parser checked.
            Some(_) => {
                Uri::from_maybe_shared(self.head.slice(self.target_range())).unwrap_or_default()
            }
            None => Uri::default(),
        })
    }

    /// The path of the target (`*` for `OPTIONS *`, empty for a `CONNECT` authority).
    pub fn path(&self) -> &str {
        match self.uri.get() {
            Some(uri) => uri.path(),
            // A plain path is the whole target, and ASCII.
            None => self
                .target_bytes()
                .map_or("/", |t| std::str::from_utf8(t).unwrap_or("/")),
        }
    }

    /// The target as the request line had it (where `uri` holds no `Uri` yet, a plain
    /// path). `None` once the request is recycled (its head let go): it then reads as `/`,
    /// as a blank request does.
    fn target_bytes(&self) -> Option<&[u8]> {
        self.head.get(self.target_range())
    }

    fn target_range(&self) -> std::ops::Range<usize> {
        let (at, len) = (self.target.0 as usize, self.target.1 as usize);
        at..at + len
    }

    /// HTTP/1.0 or HTTP/1.1.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The header fields, in arrival order per name. `Host` stays in the map.
    pub fn headers(&self) -> &HeaderMap {
        self.headers.get_or_init(|| {
            let mut map = Box::new(HeaderMap::with_capacity(self.fields.len()));
            for field in &self.fields {
                let name = HeaderName::from_bytes(field.name(&self.head));
                let value = HeaderValue::from_maybe_shared(self.head.slice(field.value_range()));
                if let (Ok(name), Ok(value)) = (name, value) {
                    map.append(name, value); // always: the parser checked both
                }
            }
            map
        })
    }

    /// The header fields exactly as they arrived: in order, repeats kept, names as the
    /// client spelled them. [`headers`](Request::headers) groups them by name instead.
    ///
    /// ```
    /// # fn show(r: &nethttp::Request) {
    /// for (name, value) in r.header_fields() {
    ///     println!("{}: {}", name.to_ascii_lowercase(), String::from_utf8_lossy(value));
    /// }
    /// # }
    /// ```
    pub fn header_fields(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        self.fields.iter().map(|f| {
            // Names are token bytes (checked by the parser), so always ASCII.
            let name = std::str::from_utf8(f.name(&self.head)).unwrap_or("");
            (name, &self.head[f.value_range()])
        })
    }

    /// The request target exactly as it appeared in the request line (Go's
    /// `r.RequestURI`): `/a%20b?q=1`, `http://host/x`, `host:443` or `*`.
    pub fn request_uri(&self) -> &str {
        let target = self.target_bytes().unwrap_or_default();
        std::str::from_utf8(target).unwrap_or("")
    }

    /// The first value of the field `name` (lower-case), without building the map.
    pub(crate) fn raw_header(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|f| f.name(&self.head).eq_ignore_ascii_case(name.as_bytes()))
            .map(|f| &self.head[f.value_range()])
    }

    /// The host the request is for: the authority of an absolute-form target, else the
    /// `Host` header, else `""` (Go's `r.Host`).
    pub fn host(&self) -> &str {
        if let Some(authority) = self.uri().authority() {
            return authority.as_str();
        }
        self.raw_header("host")
            .and_then(|v| std::str::from_utf8(v).ok())
            .unwrap_or("")
    }

    /// The address of the connection's peer: the client, or the proxy in front of it
    /// (with a PROXY protocol header, the address the proxy reported).
    pub fn remote_addr(&self) -> SocketAddr {
        self.remote_addr
    }

    /// The client's address. If the peer is one of the server's
    /// [`trusted_proxies`](crate::Server::trusted_proxies), the rightmost hop of the
    /// request's `Forwarded` field (RFC 7239), else of its `X-Forwarded-For`, that is not
    /// itself a trusted proxy; otherwise the peer's. What a client writes in those fields
    /// itself, and anything an untrusted peer sends, is ignored (see `forwarded.rs`).
    pub fn client_addr(&self) -> IpAddr {
        let peer = self.remote_addr.ip();
        let Some(trusted) = &self.trusted else {
            return peer.to_canonical();
        };
        let values = |name: &str| -> Vec<&str> {
            let fields = self.headers().get_all(name).iter();
            fields.filter_map(|v| v.to_str().ok()).collect()
        };
        let standard = values("forwarded");
        if !standard.is_empty() {
            return forwarded::client(peer, trusted, forwarded::forwarded_hops(&standard));
        }
        let xff = values("x-forwarded-for");
        forwarded::client(peer, trusted, forwarded::xff_hops(&xff))
    }

    /// Trailer fields sent after a chunked body (empty otherwise). An inline handler's
    /// body has arrived whole, trailers included; a [blocking](crate::blocking) handler's
    /// are here once a read of the body has returned its end (Go's `r.Trailer`).
    pub fn trailers(&self) -> &HeaderMap {
        static NONE: LazyLock<HeaderMap> = LazyLock::new(HeaderMap::new);
        let streamed = self.body.trailers.as_deref();
        self.trailers.as_deref().or(streamed).unwrap_or(&NONE)
    }

    /// The body, to read from.
    pub fn body(&mut self) -> &mut Body {
        &mut self.body
    }

    /// The value of the wildcard `name` in the [`ServeMux`](crate::ServeMux) pattern that
    /// matched, percent-decoded (Go's `r.PathValue`). `None` if the pattern has no such
    /// wildcard, or no mux routed the request.
    ///
    /// ```
    /// use std::io::Write;
    /// use nethttp::{Request, ResponseWriter, ServeMux};
    ///
    /// let mut mux = ServeMux::new();
    /// mux.handle("GET /users/{id}/files/{path...}", |w: &mut ResponseWriter, r: &mut Request| {
    ///     let id = r.path_value("id").unwrap_or_default();
    ///     let path = r.path_value("path").unwrap_or_default();
    ///     let _ = write!(w, "user {id}, file {path}");
    /// });
    /// ```
    pub fn path_value(&self, name: &str) -> Option<&str> {
        let route = self.route.as_ref()?;
        let (_, value) = route.values.iter().find(|(n, _)| &**n == name)?;
        Some(value)
    }

    /// Sets the path value `name` (Go's `r.SetPathValue`), replacing the wildcard's value
    /// if the pattern has one by that name: for middleware, and for testing handlers
    /// without a mux.
    pub fn set_path_value(&mut self, name: &str, value: impl Into<String>) {
        let route = self.route.get_or_insert_with(Route::default);
        let value = value.into();
        match route.values.iter_mut().find(|(n, _)| &**n == name) {
            Some((_, old)) => *old = value,
            None => route.values.push((Arc::from(name), value)),
        }
    }

    /// The [`ServeMux`](crate::ServeMux) pattern that matched, as registered (Go's
    /// `r.Pattern`), e.g. `GET /users/{id}`. `None` if no mux routed the request.
    pub fn pattern(&self) -> Option<&str> {
        self.route.as_ref()?.pattern.as_deref()
    }

    /// A request with nothing in it yet: what a loop parses each head into
    /// (`parse::parse_into`), and what it leaves in its place when a request moves on.
    pub(crate) fn blank() -> Request {
        Request {
            method: Method::GET,
            uri: OnceCell::from(Uri::default()),
            target: (0, 0),
            version: Version::HTTP_11,
            head: Bytes::new(),
            fields: Vec::new(),
            headers: OnceCell::new(),
            trailers: None,
            remote_addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            body: Body::default(),
            route: None,
            routing: OnceCell::new(),
            forms: None,
            gone: None,
            trusted: None,
        }
    }

    /// Empties an answered request for the loop's next head, in place: lets go of its head
    /// (so the loop's arena can reuse that memory) and of whatever its handler made, and
    /// keeps the capacity of its field list. The next parse sets the rest.
    pub(crate) fn recycle(&mut self) {
        self.uri = OnceCell::new();
        self.head = Bytes::new();
        self.fields.clear();
        self.headers = OnceCell::new();
        self.trailers = None;
        // Reset only if set: most requests leave both blank, and dropping them is a call
        // each (together about 60 instructions a request, callgrind).
        if !self.body.is_blank() {
            self.body = Body::default();
        }
        if self.route.is_some() {
            self.route = None;
        }
        self.routing = OnceCell::new();
        self.forms = None;
        self.gone = None;
    }

    /// A copy of the head (method, target, version, header fields, peer, route) with no
    /// body or trailers: what a wrapper leaves in place of a request it lends to another
    /// thread, or shows a handler it asks about a rewritten target.
    pub(crate) fn copy_head(&self) -> Request {
        Request {
            method: self.method.clone(),
            uri: self.uri.clone(),
            target: self.target,
            version: self.version,
            head: self.head.clone(),
            fields: self.fields.clone(),
            headers: self.headers.clone(),
            trailers: None,
            remote_addr: self.remote_addr,
            body: Body::default(),
            route: self.route.clone(),
            routing: OnceCell::new(),
            forms: None,
            gone: self.gone.clone(),
            trusted: self.trusted.clone(),
        }
    }
}

/// A request body: a reader over the bytes received.
///
/// For an inline handler the whole body has arrived before the handler runs. For a
/// [blocking](crate::blocking) handler it streams: a read waits for the client's next bytes,
/// and the server reads from the socket only as fast as the handler reads from the body.
///
/// A [`max_bytes`](crate::max_bytes) limit caps what reads return (`remaining` still shows
/// the bytes held). A streamed body found malformed fails the read with
/// [`InvalidData`](io::ErrorKind::InvalidData); after a failed read, reads keep failing.
#[derive(Debug, Default)]
pub struct Body {
    /// The received bytes: the whole body, or the current piece of a streamed one.
    pub(crate) bytes: Buffer,
    pub(crate) pos: usize,
    /// Where the rest of a streamed body comes from; `None` once it has all arrived.
    pub(crate) stream: Option<Box<Incoming>>,
    /// The cap on what reads may still return, if a `max_bytes` limit is set.
    pub(crate) limit: Option<Limit>,
    /// The trailer fields of a streamed chunked body, set when its end is read; an inline
    /// request's are in [`Request::trailers`](Request::trailers) from the start.
    pub(crate) trailers: Option<Box<HeaderMap>>,
}

/// A [`max_bytes`](crate::max_bytes) limit on a body.
#[derive(Debug)]
pub(crate) struct Limit {
    /// Bytes reads may still return; reads count it down.
    pub(crate) left: u64,
    /// The limit as set, for the error.
    pub(crate) limit: u64,
    /// Set by the first read past the limit (so `max_bytes` answers 413 for a handler that
    /// then writes nothing); an inline request's writer closes the connection once it is.
    pub(crate) hit: Arc<AtomicBool>,
}

impl Body {
    /// Whether this body is as [`Body::default`] makes it. Every field is named, so a new
    /// field must be considered here.
    fn is_blank(&self) -> bool {
        let Body {
            bytes,
            pos,
            stream,
            limit,
            trailers,
        } = self;
        bytes.capacity() == 0
            && *pos == 0
            && stream.is_none()
            && limit.is_none()
            && trailers.is_none()
    }

    /// The bytes received and not yet read (for a streamed body, of the current piece).
    pub fn remaining(&self) -> &[u8] {
        &self.bytes[self.pos..]
    }

    /// How many bytes are held: the whole body for an inline handler.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True if no body bytes are held (and, for an inline handler, the request had none).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty() && self.stream.is_none()
    }

    /// Takes the next piece of a streamed body, waiting for it. Returns false at the end.
    fn next_piece(&mut self) -> io::Result<bool> {
        let Some(incoming) = &mut self.stream else {
            return Ok(false);
        };
        if !incoming.asked.swap(true, Ordering::AcqRel) {
            incoming.poke.poke(); // the first read: the connection may send 100 Continue
        }
        match incoming.recv() {
            Some(Feed::Data(piece)) => {
                incoming.poke.poke(); // room in the channel: read the socket again
                if let Some(left) = &mut incoming.left {
                    *left = left.saturating_sub(piece.len() as u64);
                }
                self.bytes = piece;
                self.pos = 0;
                Ok(true)
            }
            Some(Feed::End(trailers)) => {
                self.trailers = trailers;
                self.stream = None;
                Ok(false)
            }
            Some(Feed::Malformed(reject)) => {
                incoming.close_after.set();
                let detail = match reject.detail() {
                    "" => reject.status().canonical_reason().unwrap_or("malformed"),
                    detail => detail,
                };
                let message = format!("malformed request body: {detail}");
                Err(io::Error::new(io::ErrorKind::InvalidData, message))
            }
            None => {
                // The stream stays: later reads fail too, rather than read as the end.
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the connection ended before the request body was complete",
                ))
            }
        }
    }

    /// The handler is done with a streamed body: decides, before its response's head is
    /// fixed, whether what it left unread costs the connection (Go's rule, kept with
    /// [`MAX_DRAIN`]). A body of known length with more than that unread closes the
    /// connection; with less, the loop drains it after the response. A chunked body's
    /// length is found only by reading it, so the rest is read here, up to the limit.
    pub(crate) fn judge_unread(&mut self) {
        let Some(incoming) = &self.stream else {
            return; // read to its end, or never streamed
        };
        let close_after = incoming.close_after.clone();
        if close_after.is_set() {
            return; // closing anyway; and an unsent `100 Continue` must stay unsent
        }
        let held = self.remaining().len() as u64;
        if let Some(left) = incoming.left {
            if left + held > MAX_DRAIN {
                close_after.set();
            }
            return;
        }
        let mut drained = held;
        while drained <= MAX_DRAIN {
            self.pos = self.bytes.len();
            match self.next_piece() {
                Ok(true) => drained += self.remaining().len() as u64,
                Ok(false) => return, // the end: the connection may carry the next request
                Err(_) => break,
            }
        }
        close_after.set();
    }
}

impl Body {
    /// How many of the bytes held reads may return: all, unless a limit is set. Past the
    /// limit with bytes still held, the read fails with a `MaxBytesError` (called only when
    /// `remaining` is not empty: the body has more than the limit).
    fn allowed(&self) -> io::Result<usize> {
        let Some(limit) = &self.limit else {
            return Ok(usize::MAX);
        };
        if limit.left == 0 {
            limit.hit.store(true, Ordering::Release);
            if let Some(incoming) = &self.stream {
                incoming.close_after.set();
            }
            let error = MaxBytesError { limit: limit.limit };
            return Err(io::Error::other(error));
        }
        Ok(usize::try_from(limit.left).unwrap_or(usize::MAX))
    }
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining().is_empty() && !self.next_piece()? {
            return Ok(0);
        }
        let n = self.remaining().len().min(buf.len()).min(self.allowed()?);
        buf[..n].copy_from_slice(&self.bytes[self.pos..self.pos + n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Body {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.remaining().is_empty() {
            self.next_piece()?;
        }
        if self.remaining().is_empty() {
            return Ok(&[]);
        }
        let allowed = self.allowed()?;
        let rest = self.remaining();
        Ok(&rest[..rest.len().min(allowed)])
    }

    fn consume(&mut self, amt: usize) {
        let amt = amt.min(self.remaining().len());
        self.pos += amt;
        if let Some(limit) = &mut self.limit {
            limit.left = limit.left.saturating_sub(amt as u64);
        }
    }
}
