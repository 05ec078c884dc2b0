//! Serialising responses: the status line, header fields, the `Date` cache and body framing.
//!
//! Previous step: `response.rs` decides the framing and headers. Next: `conn.rs` writes the
//! bytes. Everything here appends to a [`Buffer`] and never fails.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::{HeaderName, HeaderValue, StatusCode, Version};

use crate::error::Reject;
use crate::mem::Buffer;

/// The `Date` header value, formatted at most once per second per loop.
pub(crate) struct DateCache {
    /// Unix second that `value` shows.
    second: u64,
    /// An IMF-fixdate, always 29 bytes: `Sun, 06 Nov 1994 08:49:37 GMT`.
    value: [u8; 29],
    /// When the second that `value` shows is over, by the monotonic clock.
    expires: Instant,
}

impl DateCache {
    pub(crate) fn new() -> DateCache {
        let mut cache = DateCache {
            second: u64::MAX,
            value: [b' '; 29],
            expires: Instant::now(),
        };
        cache.refresh();
        cache
    }

    /// Refreshes the date only if `now` (the loop turn's time, already read) is past the
    /// end of the second it shows: most responses read no clock at all for their `Date`.
    pub(crate) fn refresh_at(&mut self, now: Instant) {
        if now >= self.expires {
            self.refresh();
        }
    }

    /// Re-formats the date if the clock has moved to another second; cheap otherwise
    /// (the clock is read through the vDSO, without a system call).
    pub(crate) fn refresh(&mut self) {
        let now = SystemTime::now();
        let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let second = since_epoch.as_secs();
        let left = Duration::from_secs(1)
            .saturating_sub(Duration::from_nanos(u64::from(since_epoch.subsec_nanos())));
        self.expires = Instant::now() + left;
        if second != self.second {
            self.second = second;
            let text = httpdate::fmt_http_date(now);
            if text.len() == self.value.len() {
                self.value.copy_from_slice(text.as_bytes());
            }
        }
    }

    /// The current value, as last refreshed.
    pub(crate) fn get(&self) -> &[u8; 29] {
        &self.value
    }
}

/// Appends `HTTP/1.x CODE Reason\r\n`. 1.0 requests get a 1.0 status line, as Go does.
pub(crate) fn status_line(out: &mut Buffer, version: Version, status: StatusCode) {
    if status == StatusCode::OK && version == Version::HTTP_11 {
        out.extend_from_slice(b"HTTP/1.1 200 OK\r\n"); // most responses: one copy
        return;
    }
    out.extend_from_slice(if version == Version::HTTP_10 {
        b"HTTP/1.0 "
    } else {
        b"HTTP/1.1 "
    });
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    match status.canonical_reason() {
        Some(reason) => out.extend_from_slice(reason.as_bytes()),
        None => {
            out.extend_from_slice(b"status code ");
            out.extend_from_slice(status.as_str().as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends `Name: value\r\n`, with the name in the canonical case Go writes
/// (`content-type` becomes `Content-Type`); the `http` crate stores names lower-cased.
#[inline]
pub(crate) fn header(out: &mut Buffer, name: &HeaderName, value: &HeaderValue) {
    match canonical(name) {
        Some(known) => out.extend_from_slice(known),
        None => {
            let mut upper = true;
            for &b in name.as_str().as_bytes() {
                out.push(if upper { b.to_ascii_uppercase() } else { b });
                upper = b == b'-';
            }
            out.extend_from_slice(b": ");
        }
    }
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// The canonical spelling of the response fields handlers set most, with the `: ` that
/// follows, copied whole instead of re-cased byte by byte. A standard name compares as a
/// small number, so the most common come first and cost a comparison each.
fn canonical(name: &HeaderName) -> Option<&'static [u8]> {
    use http::header::*;
    static KNOWN: [(HeaderName, &[u8]); 14] = [
        (CONTENT_TYPE, b"Content-Type: "),
        (CONTENT_LENGTH, b"Content-Length: "),
        (CACHE_CONTROL, b"Cache-Control: "),
        (LOCATION, b"Location: "),
        (SET_COOKIE, b"Set-Cookie: "),
        (ETAG, b"Etag: "),
        (LAST_MODIFIED, b"Last-Modified: "),
        (CONTENT_ENCODING, b"Content-Encoding: "),
        (VARY, b"Vary: "),
        (SERVER, b"Server: "),
        (ALLOW, b"Allow: "),
        (ACCEPT_RANGES, b"Accept-Ranges: "),
        (CONTENT_RANGE, b"Content-Range: "),
        (X_CONTENT_TYPE_OPTIONS, b"X-Content-Type-Options: "),
    ];
    KNOWN
        .iter()
        .find(|(known, _)| known == name)
        .map(|&(_, spelled)| spelled)
}

/// Appends a header whose name is already in canonical case.
pub(crate) fn raw_header(out: &mut Buffer, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Appends `Content-Length: n\r\n`.
pub(crate) fn content_length(out: &mut Buffer, n: u64) {
    server_fields(out, None, BodyField::Length(n));
}

/// How a response's body is framed on the wire, in the field the server writes for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyField {
    /// No framing field (no body allowed, or one that runs until the connection closes).
    None,
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// `Content-Length: n`.
    Length(u64),
}

/// Appends the fields the server adds to most responses: `Date` (if `date` is given) and
/// the body's framing field. Assembled on the stack from the end backwards (the digits of
/// a length are known last to first) and copied once: every small response writes them,
/// and a copy per field cost more than the fields.
pub(crate) fn server_fields(out: &mut Buffer, date: Option<&[u8; 29]>, body: BodyField) {
    const LENGTH: &[u8; 16] = b"Content-Length: ";
    const CHUNKED: &[u8; 28] = b"Transfer-Encoding: chunked\r\n";
    let mut line = [0u8; 6 + 29 + 2 + LENGTH.len() + 20 + 2];
    let mut start = line.len();
    match body {
        BodyField::None => {}
        BodyField::Chunked => {
            start -= CHUNKED.len();
            line[start..].copy_from_slice(CHUNKED);
        }
        BodyField::Length(mut n) => {
            start -= 2;
            line[start..].copy_from_slice(b"\r\n");
            loop {
                start -= 1;
                line[start] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            start -= LENGTH.len();
            line[start..start + LENGTH.len()].copy_from_slice(LENGTH);
        }
    }
    if let Some(date) = date {
        start -= 6 + 29 + 2;
        line[start..start + 6].copy_from_slice(b"Date: ");
        line[start + 6..start + 35].copy_from_slice(date);
        line[start + 35..start + 37].copy_from_slice(b"\r\n");
    }
    out.extend_from_slice(&line[start..]);
}

/// Appends one chunk of a chunked body. An empty `data` appends nothing: an empty chunk
/// would end the body.
pub(crate) fn chunk(out: &mut Buffer, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    out.extend_from_slice(chunk_size_line(&mut [0; CHUNK_SIZE_LINE], data.len()));
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Room for the longest chunk-size line: sixteen hex digits and CRLF.
pub(crate) const CHUNK_SIZE_LINE: usize = 18;

/// The line that opens a chunk of `len` bytes (`len` in hex, then CRLF), written into
/// `line`; the chunk's data and CRLF follow it.
pub(crate) fn chunk_size_line(line: &mut [u8; CHUNK_SIZE_LINE], len: usize) -> &[u8] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut i = CHUNK_SIZE_LINE - 2;
    line[i..].copy_from_slice(b"\r\n");
    let mut n = len;
    loop {
        i -= 1;
        line[i] = HEX[n & 15];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    &line[i..]
}

/// Appends the last chunk and the empty trailer section.
pub(crate) fn last_chunk(out: &mut Buffer) {
    out.extend_from_slice(b"0\r\n\r\n");
}

/// Appends the server's own answer to a refused request: status, `Date`, a short
/// plain-text body with its length, and `Connection: close`.
pub(crate) fn reject(out: &mut Buffer, reject: Reject, date: &[u8]) {
    let status = reject.status();
    status_line(out, Version::HTTP_11, status);
    raw_header(out, b"Date", date);
    raw_header(out, b"Content-Type", b"text/plain; charset=utf-8");
    raw_header(out, b"Connection", b"close");
    let reason = status.canonical_reason().unwrap_or("");
    let detail = reject.detail();
    let sep = if detail.is_empty() { "" } else { ": " };
    let len = 4 + reason.len() + sep.len() + detail.len() + 1;
    content_length(out, len as u64);
    out.extend_from_slice(b"\r\n");
    for part in [status.as_str(), " ", reason, sep, detail, "\n"] {
        out.extend_from_slice(part.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        let mut out = Buffer::default();
        status_line(&mut out, Version::HTTP_11, StatusCode::OK);
        status_line(&mut out, Version::HTTP_10, StatusCode::NOT_FOUND);
        status_line(
            &mut out,
            Version::HTTP_11,
            StatusCode::from_u16(299).unwrap(),
        );
        assert_eq!(
            &out[..],
            b"HTTP/1.1 200 OK\r\nHTTP/1.0 404 Not Found\r\nHTTP/1.1 299 status code 299\r\n"
        );
    }

    #[test]
    fn header_names_are_canonicalised() {
        let mut out = Buffer::default();
        let name = HeaderName::from_static("x-my-header");
        header(&mut out, &name, &HeaderValue::from_static("v"));
        assert_eq!(&out[..], b"X-My-Header: v\r\n");
    }

    #[test]
    fn chunks_are_hex_framed() {
        let mut out = Buffer::default();
        chunk(&mut out, &[b'x'; 2049]);
        assert!(out.starts_with(b"801\r\nxx"));
        assert!(out.ends_with(b"x\r\n"));
        out.clear();
        chunk(&mut out, b"");
        last_chunk(&mut out);
        assert_eq!(&out[..], b"0\r\n\r\n");
    }

    #[test]
    fn chunk_size_lines_are_hex_then_crlf() {
        for n in [1usize, 15, 16, 65_536, usize::MAX] {
            let mut line = [0; CHUNK_SIZE_LINE];
            assert_eq!(
                chunk_size_line(&mut line, n),
                format!("{n:x}\r\n").as_bytes()
            );
        }
    }

    #[test]
    fn content_lengths() {
        let mut lengths = vec![0u64, u64::MAX];
        lengths.extend((1..20).flat_map(|p| [10u64.pow(p) - 1, 10u64.pow(p)]));
        for n in lengths {
            let mut out = Buffer::default();
            content_length(&mut out, n);
            assert_eq!(&out[..], format!("Content-Length: {n}\r\n").as_bytes());
        }
    }

    #[test]
    fn server_fields_are_date_then_framing() {
        let date = b"Sat, 05 Dec 2026 19:30:00 GMT";
        let dated = format!("Date: {}\r\n", std::str::from_utf8(date).unwrap());
        let framings = [
            (BodyField::None, String::new()),
            (
                BodyField::Chunked,
                "Transfer-Encoding: chunked\r\n".to_string(),
            ),
            (BodyField::Length(13), "Content-Length: 13\r\n".to_string()),
            (
                BodyField::Length(u64::MAX),
                format!("Content-Length: {}\r\n", u64::MAX),
            ),
        ];
        for (body, framing) in framings {
            for with_date in [false, true] {
                let mut out = Buffer::default();
                server_fields(&mut out, with_date.then_some(date), body);
                let expected = if with_date {
                    dated.clone()
                } else {
                    String::new()
                } + &framing;
                assert_eq!(&out[..], expected.as_bytes(), "{body:?}, date {with_date}");
            }
        }
    }

    #[test]
    fn reject_body_length_matches() {
        let mut out = Buffer::default();
        reject(
            &mut out,
            Reject::BadRequest("missing required Host header"),
            b"D",
        );
        let text = String::from_utf8(out.to_vec()).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
        assert_eq!(body, "400 Bad Request: missing required Host header\n");
    }

    #[test]
    fn date_is_29_bytes_and_gmt() {
        let cache = DateCache::new();
        assert_eq!(cache.get().len(), 29);
        assert!(cache.get().ends_with(b" GMT"));
    }
}
