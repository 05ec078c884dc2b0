//! WebSocket (RFC 6455), server side (cargo feature `websocket`): the handshake, then
//! messages in and out on the connection's loop.
//!
//! # Life of a WebSocket
//!
//! 1. **Handshake.** An inline handler calls [`upgrade`] (or an [`Upgrader`] with its own
//!    limits and origin check). It checks the request (a `GET` over HTTP/1.1 asking to
//!    upgrade to `websocket`, version 13, a 16-byte key, an allowed `Origin`), answers
//!    `101 Switching Protocols` with the key's `Sec-WebSocket-Accept`, and hands the
//!    connection to a session on the same loop (`upgrade.rs`). A bad request gets `400`,
//!    `403`, `405` or `426` instead.
//! 2. **Messages.** The session reads client frames as they come (`websocket/frame.rs`):
//!    every frame must be masked, control frames short and whole; fragments are joined
//!    into one message, text is checked for UTF-8, and the [`MessageHandler`] gets each
//!    whole message. A ping is answered with a pong. The handler answers through a
//!    [`Sender`]; [`broadcast`] sends one message to every WebSocket of a server, encoded
//!    once.
//! 3. **Limits.** A message or frame over its limit ([`Limits`], 16 MiB by default)
//!    closes the connection with code 1009; the message being assembled counts against
//!    the server's memory budget. An idle WebSocket holds no buffer.
//! 4. **Close.** A client's close frame is answered with the same code and the connection
//!    ends. A protocol error closes with 1002, invalid UTF-8 with 1007. A graceful shutdown
//!    sends 1001 to every WebSocket and waits for the clients' answers up to its deadline.
//!
//! No extension is negotiated (no `permessage-deflate`): messages travel as they are.
//!
//! ```no_run
//! use nethttp::websocket::{self, Message, Sender};
//! use nethttp::{Request, ResponseWriter, ServeMux};
//!
//! /// Sends every message back.
//! fn echo(ws: &mut Sender<'_, '_>, message: Message) {
//!     ws.send(&message);
//! }
//!
//! let mut mux = ServeMux::new();
//! mux.handle("GET /ws", |w: &mut ResponseWriter, r: &mut Request| {
//!     let _ = websocket::upgrade(w, r, echo); // a refusal is answered already
//! });
//! nethttp::listen_and_serve(":8080", mux)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fmt;
use std::sync::Arc;

use base64::Engine;
use http::header::{CONNECTION, HOST, ORIGIN, UPGRADE};
use http::{HeaderValue, Method, StatusCode, Version};

use crate::lifecycle::Handle;
use crate::request::Request;
use crate::response::ResponseWriter;

mod frame;
mod message;
mod relay;
mod session;

pub use message::{Broadcast, Limits, Message, MessageHandler, Sender, DEFAULT_MAX_MESSAGE};
pub use relay::WebSocket;
use session::Session;

/// The GUID a server appends to the client's key (§1.3).
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Sends `message` to every open WebSocket of the server `handle` belongs to: one
/// message per event loop, then each connection writes the same bytes. Returns false if
/// the server is not serving.
pub fn broadcast(handle: &Handle, message: &Message) -> bool {
    handle.notify_upgraded(Broadcast::new(message))
}

/// Why a request could not become a WebSocket; [`upgrade`] has answered it already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeError {
    /// Not a `GET` (405).
    Method,
    /// Not HTTP/1.1, or no `Upgrade: websocket` with `Connection: upgrade` (400).
    NotWebSocket,
    /// `Sec-WebSocket-Version` is not 13 (426, naming 13).
    Version,
    /// `Sec-WebSocket-Key` is not 16 bytes in base64 (400).
    Key,
    /// The origin check refused the request's `Origin` (403).
    Origin,
    /// The response could not switch protocols (a blocking handler, or a head already
    /// sent): 500.
    Upgrade,
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HandshakeError::Method => "websocket: the request method is not GET",
            HandshakeError::NotWebSocket => "websocket: not a WebSocket handshake",
            HandshakeError::Version => "websocket: unsupported version (13 is)",
            HandshakeError::Key => "websocket: missing or bad Sec-WebSocket-Key",
            HandshakeError::Origin => "websocket: request origin not allowed",
            HandshakeError::Upgrade => "websocket: the response cannot switch protocols",
        })
    }
}

impl std::error::Error for HandshakeError {}

/// The origin check: whether a request may open a WebSocket.
type OriginCheck = Arc<dyn Fn(&Request) -> bool + Send + Sync>;

/// The handshake's settings: limits and the origin check (Go's `websocket.Upgrader`).
///
/// ```
/// use nethttp::websocket::Upgrader;
///
/// let upgrader = Upgrader::new()
///     .max_message(64 * 1024)
///     .check_origin(|r| r.headers().get("origin").is_some_and(|o| o == "https://example.com"));
/// ```
#[derive(Clone, Default)]
pub struct Upgrader {
    limits: Limits,
    origin: Option<OriginCheck>,
}

impl fmt::Debug for Upgrader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upgrader")
            .field("limits", &self.limits)
            .field("custom_origin_check", &self.origin.is_some())
            .finish()
    }
}

impl Upgrader {
    /// Default limits; a request with an `Origin` is allowed only from its own host.
    pub fn new() -> Upgrader {
        Upgrader::default()
    }

    /// The largest message a client may send (fragments joined); past it, close 1009.
    pub fn max_message(mut self, n: usize) -> Upgrader {
        self.limits.max_message = n;
        self
    }

    /// The largest frame a client may send; past it, close 1009.
    pub fn max_frame(mut self, n: usize) -> Upgrader {
        self.limits.max_frame = n;
        self
    }

    /// Decides which requests may open a WebSocket, in place of the same-origin check
    /// (cross-site WebSocket hijacking is what the check prevents: a page elsewhere using
    /// the visitor's cookies).
    pub fn check_origin(
        mut self,
        allow: impl Fn(&Request) -> bool + Send + Sync + 'static,
    ) -> Upgrader {
        self.origin = Some(Arc::new(allow));
        self
    }

    /// Checks the handshake and, if it is good, answers `101` and hands the connection to
    /// `handler` once the calling (inline) handler returns. If not, answers the request
    /// with the error's status and returns the error.
    pub fn upgrade(
        &self,
        w: &mut ResponseWriter,
        r: &Request,
        handler: impl MessageHandler,
    ) -> Result<(), HandshakeError> {
        let outcome = self.check(r).and_then(|accept| {
            let headers = w.headers_mut();
            headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
            headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
            let accept = HeaderValue::from_str(&accept).expect("base64 is a valid value");
            headers.insert("sec-websocket-accept", accept);
            let session = Session::new(handler, self.limits);
            w.upgrade(session).map_err(|_| HandshakeError::Upgrade)
        });
        if let Err(e) = outcome {
            refuse(w, e);
        }
        outcome
    }

    /// The same from a [blocking](crate::blocking) handler, which then has the
    /// connection as a [`WebSocket`] to `recv` and `send` on its own thread, while the
    /// session runs on the loop. From an inline handler it fails (`Upgrade`): waiting
    /// there would stall the loop.
    pub fn upgrade_blocking(
        &self,
        w: &mut ResponseWriter,
        r: &Request,
    ) -> Result<WebSocket, HandshakeError> {
        if !w.is_blocking() {
            refuse(w, HandshakeError::Upgrade);
            return Err(HandshakeError::Upgrade);
        }
        let (relay, ws) = relay::pair();
        self.upgrade(w, r, relay)?;
        Ok(ws)
    }

    /// The handshake's checks; the `Sec-WebSocket-Accept` value if they pass.
    fn check(&self, r: &Request) -> Result<String, HandshakeError> {
        if r.method() != Method::GET {
            return Err(HandshakeError::Method);
        }
        let headers = r.headers();
        let upgrade = has_token(headers.get_all(UPGRADE), "websocket");
        let connection = has_token(headers.get_all(CONNECTION), "upgrade");
        if r.version() != Version::HTTP_11 || !upgrade || !connection {
            return Err(HandshakeError::NotWebSocket);
        }
        if !matches!(headers.get("sec-websocket-version"), Some(v) if v == "13") {
            return Err(HandshakeError::Version);
        }
        let key = headers
            .get("sec-websocket-key")
            .ok_or(HandshakeError::Key)?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(key.as_bytes())
            .map_err(|_| HandshakeError::Key)?;
        if decoded.len() != 16 {
            return Err(HandshakeError::Key);
        }
        let allowed = match &self.origin {
            Some(allow) => allow(r),
            None => same_origin(r),
        };
        if !allowed {
            return Err(HandshakeError::Origin);
        }
        Ok(accept_key(key.as_bytes()))
    }
}

/// [`Upgrader::upgrade_blocking`] with the default [`Upgrader`]: for a
/// [blocking](crate::blocking) handler, the connection as a [`WebSocket`].
pub fn upgrade_blocking(w: &mut ResponseWriter, r: &Request) -> Result<WebSocket, HandshakeError> {
    Upgrader::new().upgrade_blocking(w, r)
}

/// A session for `handler` under `limits`, as [`upgrade`] makes it: for the fuzz targets
/// and the tests, which drive it without a socket.
pub(crate) fn session(
    handler: impl MessageHandler,
    limits: Limits,
) -> impl crate::upgrade::Protocol {
    Session::new(handler, limits)
}

/// Checks the handshake with the default [`Upgrader`] and answers it: `101` and `handler`
/// for the connection, or the refusal's status.
pub fn upgrade(
    w: &mut ResponseWriter,
    r: &Request,
    handler: impl MessageHandler,
) -> Result<(), HandshakeError> {
    Upgrader::new().upgrade(w, r, handler)
}

/// Answers a refused handshake.
fn refuse(w: &mut ResponseWriter, e: HandshakeError) {
    let status = match e {
        HandshakeError::Method => StatusCode::METHOD_NOT_ALLOWED,
        HandshakeError::NotWebSocket | HandshakeError::Key => StatusCode::BAD_REQUEST,
        HandshakeError::Version => {
            let version = HeaderValue::from_static("13");
            w.headers_mut().insert("sec-websocket-version", version);
            StatusCode::UPGRADE_REQUIRED
        }
        HandshakeError::Origin => StatusCode::FORBIDDEN,
        HandshakeError::Upgrade => StatusCode::INTERNAL_SERVER_ERROR,
    };
    w.headers_mut().remove(UPGRADE);
    w.headers_mut().remove(CONNECTION);
    w.headers_mut().remove("sec-websocket-accept");
    crate::error(w, &e.to_string(), status);
}

/// Whether a comma-separated header holds `token` (case-insensitive).
fn has_token<'a>(values: impl IntoIterator<Item = &'a HeaderValue>, token: &str) -> bool {
    values.into_iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

/// No `Origin` (not a browser), or one whose host is the request's `Host`.
fn same_origin(r: &Request) -> bool {
    let Some(origin) = r.headers().get(ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    let host = r.headers().get(HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    host.is_some_and(|host| origin_host.eq_ignore_ascii_case(host))
}

/// `Sec-WebSocket-Accept` for a client's key: base64 of SHA-1(key + GUID).
fn accept_key(key: &[u8]) -> String {
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key);
    sha.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.digest().bytes())
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod handshake_tests {
    use super::*;

    #[test]
    fn the_accept_key_of_the_rfc_example() {
        // RFC 6455 §1.3.
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn tokens_are_found_in_lists() {
        let v = HeaderValue::from_static("keep-alive, Upgrade");
        assert!(has_token([&v], "upgrade"));
        assert!(!has_token([&v], "websocket"));
    }
}
