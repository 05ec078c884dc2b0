//! Testing handlers without a socket (Go's `net/http/httptest`): build a [`Request`] with
//! [`new_request`], run any [`Handler`] on it with [`record`], and read what it answered.
//!
//! The request is made by the server's own head parser, and the response by the server's
//! own writer, decoded back: what a test sees is what a client would (the status, header
//! fields with `Date` and the framing the server chose, the body, trailers), in a few
//! microseconds. A [blocking](crate::blocking) handler runs on the test's thread, reading
//! the body given here; a handler that panics is answered with `500`, as on a server.
//!
//! ```
//! use std::io::Write;
//! use nethttp::httptest::{new_request, record};
//! use nethttp::{Request, ResponseWriter};
//!
//! fn greet(w: &mut ResponseWriter, r: &mut Request) {
//!     let name = r.query_value("name").unwrap_or_else(|| "stranger".into());
//!     let _ = write!(w, "hello, {name}");
//! }
//!
//! let mut request = new_request("GET", "/greet?name=Ada").build();
//! let response = record(&greet, &mut request);
//! assert_eq!(response.status, 200);
//! assert_eq!(response.text(), "hello, Ada");
//! assert_eq!(response.header("content-type"), Some("text/plain; charset=utf-8"));
//! ```

use std::net::{Ipv4Addr, SocketAddr};

use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, StatusCode, Version};

use crate::body::Decoder;
use crate::encode::DateCache;
use crate::handler::{self, Handler};
use crate::mem::Buffer;
use crate::parse::{self, Framing};
use crate::request::Request;
use crate::response::{Parts, ResponseWriter};

/// A request being built for a test (Go's `httptest.NewRequest`); see [`new_request`].
#[derive(Debug, Clone)]
pub struct RequestBuilder {
    method: String,
    target: String,
    version: Version,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    remote_addr: SocketAddr,
}

/// A request for `method` and `target` (a path with its query, or an absolute URL), from
/// `192.0.2.1:1234`, with `Host: example.com` unless the target or a header names another,
/// as Go's `httptest.NewRequest` makes it.
pub fn new_request(method: &str, target: &str) -> RequestBuilder {
    RequestBuilder {
        method: method.to_string(),
        target: target.to_string(),
        version: Version::HTTP_11,
        headers: Vec::new(),
        body: Vec::new(),
        remote_addr: SocketAddr::from((Ipv4Addr::new(192, 0, 2, 1), 1234)),
    }
}

impl RequestBuilder {
    /// Adds a header field.
    pub fn header(mut self, name: &str, value: &str) -> RequestBuilder {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The body (sent with its `Content-Length`).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> RequestBuilder {
        self.body = body.into();
        self
    }

    /// HTTP/1.0 instead of HTTP/1.1.
    pub fn http10(mut self) -> RequestBuilder {
        self.version = Version::HTTP_10;
        self
    }

    /// The client's address.
    pub fn remote_addr(mut self, addr: SocketAddr) -> RequestBuilder {
        self.remote_addr = addr;
        self
    }

    /// The request, parsed by the server's own parser.
    ///
    /// # Panics
    ///
    /// If the server would refuse it (a malformed method, target or field), as Go's
    /// `NewRequest` panics on a bad one: a test's request is the test's to get right.
    pub fn build(self) -> Request {
        let version = if self.version == Version::HTTP_10 {
            "1.0"
        } else {
            "1.1"
        };
        let mut head = format!("{} {} HTTP/{version}\r\n", self.method, self.target);
        let named = |name: &str| {
            self.headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        if !named("host") {
            let host = authority(&self.target).unwrap_or("example.com");
            head += &format!("Host: {host}\r\n");
        }
        for (name, value) in &self.headers {
            head += &format!("{name}: {value}\r\n");
        }
        if !self.body.is_empty() && !named("content-length") {
            head += &format!("Content-Length: {}\r\n", self.body.len());
        }
        head += "\r\n";
        let parsed = parse::parse(head.as_bytes(), self.remote_addr);
        let mut parsed = parsed.unwrap_or_else(|r| panic!("new_request: refused: {}", r.detail()));
        parsed.request.body.bytes = Buffer::from(self.body);
        parsed.request
    }
}

/// The host of an absolute-form target.
fn authority(target: &str) -> Option<&str> {
    let rest = target.split_once("://")?.1;
    Some(rest.split(['/', '?']).next().unwrap_or(rest))
}

/// What a handler answered, as a client reads it (Go's `httptest.ResponseRecorder` and
/// its `Result`).
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The status.
    pub status: StatusCode,
    /// The header fields as sent, `Date` and the framing included.
    pub headers: HeaderMap,
    /// The body, decoded from its framing.
    pub body: Vec<u8>,
    /// Trailer fields after a chunked body.
    pub trailers: HeaderMap,
    /// The response exactly as it would have gone on the wire.
    pub wire: Vec<u8>,
}

impl Recorded {
    /// The first value of header field `name`, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Runs `handler` on `request` and records its answer.
pub fn record(handler: &dyn Handler, request: &mut Request) -> Recorded {
    let mut date = DateCache::new();
    date.refresh();
    let facts = parse::Facts {
        head: request.method() == http::Method::HEAD,
        version: request.version(),
        close: false,
    };
    let mut w = ResponseWriter::new(Parts::default(), facts, date.get());
    let (parts, _) = match handler::call(handler, &mut w, request) {
        Ok(()) => w.finish(),
        Err(message) => {
            log::error!("panic in a recorded handler: {message}");
            w.abort()
        }
    };
    decode(parts.out.to_vec(), facts.head)
}

/// Reads back the response the writer encoded.
fn decode(wire: Vec<u8>, head_request: bool) -> Recorded {
    let mut fields = [httparse::EMPTY_HEADER; 128];
    let mut response = httparse::Response::new(&mut fields);
    let Ok(httparse::Status::Complete(head_len)) = response.parse(&wire) else {
        panic!(
            "the writer produced a malformed head: {:?}",
            String::from_utf8_lossy(&wire)
        );
    };
    let status = StatusCode::from_u16(response.code.unwrap_or(500)).unwrap_or(StatusCode::OK);
    let mut headers = HeaderMap::new();
    for field in response.headers.iter() {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(field.name.as_bytes()),
            HeaderValue::from_bytes(field.value),
        ) {
            headers.append(name, value);
        }
    }
    let rest = &wire[head_len..];
    let bodiless = head_request || status.is_informational() || status == 204 || status == 304;
    let chunked = headers
        .get(TRANSFER_ENCODING)
        .is_some_and(|v| v == "chunked");
    let (body, trailers) = match (bodiless, chunked) {
        (true, _) => (Vec::new(), HeaderMap::new()),
        (false, true) => dechunk(rest),
        (false, false) => {
            let length = headers
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse().ok());
            let end = length.unwrap_or(rest.len()).min(rest.len());
            (rest[..end].to_vec(), HeaderMap::new())
        }
    };
    Recorded {
        status,
        headers,
        body,
        trailers,
        wire,
    }
}

/// A chunked body and its trailers, decoded by the server's own chunked decoder.
fn dechunk(bytes: &[u8]) -> (Vec<u8>, HeaderMap) {
    let mut decoder = Decoder::new(Framing::Chunked);
    let mut body = Vec::new();
    match decoder.decode(bytes, &mut body) {
        Ok(progress) if progress.done => (body, decoder.trailers().unwrap_or_default()),
        _ => panic!("the writer produced a malformed chunked body"),
    }
}
