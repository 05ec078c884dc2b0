//! The one place that sorts errors: which go on the wire (and with what status), which are
//! logged, and which are ordinary disconnects dropped quietly.
//!
//! Requests the server refuses before any handler runs become a [`Reject`]; `conn.rs` writes
//! its response (see `encode::reject`) and closes the connection. Socket errors pass
//! through [`log_io`], which decides how loudly to speak of them.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use http::StatusCode;

/// Why the server answers a request itself, without calling a handler.
///
/// Every variant ends the connection: the bytes after a refused request cannot be trusted to
/// start a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reject {
    /// 400: the request is malformed; the text says how.
    BadRequest(&'static str),
    /// 413: the body is larger than the inline body limit.
    BodyTooLarge,
    /// 414: the request line alone is longer than the header limit.
    UriTooLong,
    /// 417: an `Expect` other than `100-continue`.
    ExpectationFailed,
    /// 408: the request was not received in time.
    RequestTimeout,
    /// 503: every blocking-handler thread is busy and the queue is full.
    Overloaded,
    /// 431: the request head is larger than the header limit, or has too many fields.
    HeaderTooLarge,
    /// 501: a transfer coding other than `chunked`.
    UnsupportedTransferCoding,
    /// 505: an HTTP major version other than 1.
    VersionNotSupported,
}

impl Reject {
    /// The status this refusal is answered with.
    pub(crate) fn status(self) -> StatusCode {
        match self {
            Reject::BadRequest(_) => StatusCode::BAD_REQUEST,
            Reject::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Reject::UriTooLong => StatusCode::URI_TOO_LONG,
            Reject::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Reject::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            Reject::ExpectationFailed => StatusCode::EXPECTATION_FAILED,
            Reject::HeaderTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Reject::UnsupportedTransferCoding => StatusCode::NOT_IMPLEMENTED,
            Reject::VersionNotSupported => StatusCode::HTTP_VERSION_NOT_SUPPORTED,
        }
    }

    /// The detail after the status in the response body (`400 Bad Request: <detail>`).
    pub(crate) fn detail(self) -> &'static str {
        match self {
            Reject::BadRequest(detail) => detail,
            Reject::UnsupportedTransferCoding => "unsupported transfer encoding",
            Reject::VersionNotSupported => "unsupported protocol version",
            _ => "",
        }
    }
}

/// True for the error that means "try again when the kernel says so".
pub(crate) fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

/// True for a call interrupted by a signal: repeat it.
pub(crate) fn interrupted(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::Interrupted
}

/// True for errors that only mean the peer went away.
pub(crate) fn is_disconnect(e: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof | NotConnected
    )
}

/// Logs a socket error of the connection from `peer` at the level it deserves: a peer that
/// went away is routine (trace), anything else is worth a debug line.
pub(crate) fn log_io(e: &io::Error, peer: SocketAddr, during: &str) {
    if is_disconnect(e) {
        log::trace!("{peer}: disconnected during {during}: {e}");
    } else {
        log::debug!("{peer}: {during} failed: {e}");
    }
}

/// True for `accept` errors that mean the process or system is out of descriptors or
/// buffers: the listener must pause rather than spin.
pub(crate) fn is_resource_exhaustion(e: &io::Error) -> bool {
    const EMFILE: i32 = 24;
    const ENFILE: i32 = 23;
    const ENOBUFS: i32 = 105;
    const ENOMEM: i32 = 12;
    matches!(e.raw_os_error(), Some(EMFILE | ENFILE | ENOBUFS | ENOMEM))
}

/// The error a body read returns once a [`max_bytes`](crate::max_bytes) limit is passed (Go's
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
