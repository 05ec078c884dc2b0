//! [`Filter`]: what middleware uses to see and change a response as it is written (the
//! status and header fields before they go out, every body byte, the end), where Go's
//! middleware wraps the `ResponseWriter`. A filter is added to a response with
//! [`ResponseWriter::add_filter`](crate::ResponseWriter::add_filter); a response without
//! one pays a few branches.

use http::{HeaderMap, StatusCode};

/// Sees, and may change, a response as the server writes it.
///
/// The server calls [`head`](Filter::head) once, just before the head is encoded (on the
/// handler's first flush, or when it returns), then [`body`](Filter::body) with the body
/// bytes in order, then [`end`](Filter::end) once the handler has returned. A filter that
/// changes the body's length removes `Content-Length` in `head`; the server then frames the
/// body itself (chunked, or a length it counts).
///
/// ```
/// use http::{HeaderMap, StatusCode};
/// use nethttp::Filter;
///
/// /// Counts the body bytes a response sends and logs them with its status at the end.
/// struct AccessLog { path: String, status: u16, bytes: u64 }
///
/// impl Filter for AccessLog {
///     fn head(&mut self, status: &mut StatusCode, _: &mut HeaderMap, _: Option<u64>) {
///         self.status = status.as_u16();
///     }
///     fn body(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
///         self.bytes += bytes.len() as u64;
///         out.extend_from_slice(bytes);
///     }
///     fn end(&mut self, _out: &mut Vec<u8>) {
///         log::info!("{} {} {}", self.path, self.status, self.bytes);
///     }
/// }
/// ```
pub trait Filter: Send {
    /// The head is about to go out: the status and the header fields may still change.
    /// `length` is the body's length if the whole body is known at this point.
    fn head(&mut self, status: &mut StatusCode, headers: &mut HeaderMap, length: Option<u64>) {
        let _ = (status, headers, length);
    }

    /// Body bytes the handler wrote, in order: what is appended to `out` is sent instead.
    fn body(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(bytes);
    }

    /// The handler has returned: last bytes to send, if any (a compressor's trailer).
    fn end(&mut self, out: &mut Vec<u8>) {
        let _ = out;
    }
}

/// Two filters in a row: bytes pass through `inner` (added later, nearer the handler)
/// before `outer`; the head goes the same way, with the length as the handler's body has
/// it (a filter that changes the length goes first, outermost).
pub(crate) struct Chain {
    pub(crate) inner: Box<dyn Filter>,
    pub(crate) outer: Box<dyn Filter>,
}

impl Filter for Chain {
    fn head(&mut self, status: &mut StatusCode, headers: &mut HeaderMap, length: Option<u64>) {
        self.inner.head(status, headers, length);
        self.outer.head(status, headers, length);
    }

    fn body(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        let mut middle = Vec::new();
        self.inner.body(bytes, &mut middle);
        self.outer.body(&middle, out);
    }

    fn end(&mut self, out: &mut Vec<u8>) {
        let mut middle = Vec::new();
        self.inner.end(&mut middle);
        self.outer.body(&middle, out);
        self.outer.end(out);
    }
}

impl std::fmt::Debug for dyn Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Filter")
    }
}
