//! The [`Request`] a handler receives: the parsed head and the body as `std::io::Read`.
//!
//! Previous step: `parse.rs` builds the head and `body.rs` collects the body. Next: the
//! handler (`handler.rs`).

use std::io::{self, BufRead, Read};
use std::net::SocketAddr;

use http::{HeaderMap, Method, Uri, Version};

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
    pub(crate) uri: Uri,
    pub(crate) version: Version,
    pub(crate) headers: HeaderMap,
    pub(crate) trailers: HeaderMap,
    pub(crate) remote_addr: SocketAddr,
    pub(crate) body: Body,
}

impl Request {
    /// The method, as sent (`get` stays `get`).
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The request target: a path and query (origin form), a full URI (absolute form),
    /// an authority (`CONNECT`) or `*` (`OPTIONS *`).
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The path of the target (`/` for `*` and authority targets).
    pub fn path(&self) -> &str {
        self.uri.path()
    }

    /// HTTP/1.0 or HTTP/1.1.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The header fields, in arrival order per name. `Host` stays in the map.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The host the request is for: the authority of an absolute-form target, else the
    /// `Host` header, else `""` (Go's `r.Host`).
    pub fn host(&self) -> &str {
        if let Some(authority) = self.uri.authority() {
            return authority.as_str();
        }
        self.headers
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The address of the client.
    pub fn remote_addr(&self) -> SocketAddr {
        self.remote_addr
    }

    /// Trailer fields sent after a chunked body (empty otherwise).
    pub fn trailers(&self) -> &HeaderMap {
        &self.trailers
    }

    /// The body, to read from.
    pub fn body(&mut self) -> &mut Body {
        &mut self.body
    }
}

/// A request body: a reader over the bytes received.
#[derive(Debug, Default)]
pub struct Body {
    pub(crate) bytes: Vec<u8>,
    pub(crate) pos: usize,
}

impl Body {
    /// The bytes not yet read.
    pub fn remaining(&self) -> &[u8] {
        &self.bytes[self.pos..]
    }

    /// The body's whole length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True if the request had no body.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.remaining().len().min(buf.len());
        buf[..n].copy_from_slice(&self.bytes[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl BufRead for Body {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        Ok(self.remaining())
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.bytes.len());
    }
}
