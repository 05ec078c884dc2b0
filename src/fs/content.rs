//! Sending a file's bytes (Go's `serveContent`): preconditions (`conditional.rs`), the
//! type (`mime.rs`), ranges (`range.rs`), then the head and the bytes themselves, read in
//! pieces so that a file of any size costs one buffer.
//!
//! Called by the file server for a file it opened, and by
//! [`serve_content`](crate::serve_content) for any `Read + Seek`.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::time::SystemTime;

use http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE,
    ETAG, LAST_MODIFIED,
};
use http::{HeaderValue, Method, StatusCode};

use super::conditional::{self, Verdict};
use super::mime;
use super::range::{self, ByteRange, Multipart};
use crate::{Request, ResponseWriter};

/// How much of the content is read at a time. With the writer's own piece size and the
/// connection's bounded channel, this bounds the memory one download holds, whatever
/// the file's size.
const PIECE: usize = 64 * 1024;

/// What a response is sent from: anything that reads and seeks; a file can also be handed
/// to the connection's loop, which then sends it by itself.
pub(super) trait Content: Read + Seek {
    /// A handle on the same file for the loop, if this is a file.
    fn file(&self) -> Option<File> {
        None
    }
}

impl Content for File {
    fn file(&self) -> Option<File> {
        self.try_clone().ok()
    }
}

/// Content only this thread can read (what [`serve_content`](crate::serve_content) is given).
pub(super) struct Reader<C>(pub(super) C);

impl<C: Read> Read for Reader<C> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<C: Seek> Seek for Reader<C> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.0.seek(pos)
    }
}

impl<C: Read + Seek> Content for Reader<C> {}

/// What the body of the response will be.
enum Body {
    /// The whole content.
    Whole,
    /// One range, answered with 206 and `Content-Range`.
    Single(ByteRange),
    /// Several ranges, as a `multipart/byteranges` body.
    Multi(Multipart),
}

/// Serves `size` bytes of `content` (positioned at its start) to `r`. `name` gives the
/// type by its extension; `modtime`, if known, gives `Last-Modified`.
pub(super) fn serve<C: Content>(
    w: &mut ResponseWriter,
    r: &Request,
    name: &str,
    modtime: Option<SystemTime>,
    size: u64,
    content: &mut C,
) {
    let modtime = modtime.filter(|t| conditional::unix_seconds(*t).is_some());
    if let Some(secs) = modtime.and_then(conditional::unix_seconds) {
        w.headers_mut()
            .insert(LAST_MODIFIED, conditional::http_date(secs));
    }
    let range = match conditional::check(w, r, modtime) {
        Verdict::Answered => return,
        Verdict::Send { range } => range,
    };
    let Some(content_type) = content_type(w, name, content) else {
        return fail(w, "seeker can't seek", StatusCode::INTERNAL_SERVER_ERROR);
    };
    let body = match choose_body(range, size, &content_type) {
        Ok(body) => body,
        Err(bad) => {
            if bad == range::BadRange::NoOverlap {
                let unsatisfied = HeaderValue::from_str(&format!("bytes */{size}"));
                w.headers_mut().insert(
                    CONTENT_RANGE,
                    unsatisfied.expect("digits are a valid value"),
                );
            }
            return fail(w, bad.message(), StatusCode::RANGE_NOT_SATISFIABLE);
        }
    };
    write_head(w, &body, size);
    if r.method() == Method::HEAD {
        return;
    }
    if let Err(e) = send_body(w, content, &body, size) {
        log::debug!("file response ended early: {e}");
    }
}

/// Sets the fields that describe `body` (of content `size` bytes long) and sends the head:
/// 200 for the whole, 206 for ranges.
fn write_head(w: &mut ResponseWriter, body: &Body, size: u64) {
    let length = match body {
        Body::Whole => size,
        Body::Single(range) => range.length,
        Body::Multi(multipart) => multipart.len(),
    };
    let headers = w.headers_mut();
    match body {
        Body::Whole => {}
        Body::Single(range) => {
            let value = HeaderValue::from_str(&range.content_range(size));
            headers.insert(CONTENT_RANGE, value.expect("digits are a valid value"));
        }
        Body::Multi(multipart) => {
            let value = HeaderValue::from_str(&multipart.content_type);
            headers.insert(CONTENT_TYPE, value.expect("hex digits are a valid value"));
        }
    }
    headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if headers.contains_key(CONTENT_ENCODING) {
        headers.remove(CONTENT_LENGTH); // the length of the encoded bytes is not ours to know
    } else {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
    }
    w.write_header(match body {
        Body::Whole => StatusCode::OK,
        _ => StatusCode::PARTIAL_CONTENT,
    });
}

/// The `Content-Type`: the handler's, else by the name's extension, else sniffed from
/// the first bytes (then the content is rewound). `None` if it cannot be rewound.
fn content_type<C: Read + Seek>(
    w: &mut ResponseWriter,
    name: &str,
    content: &mut C,
) -> Option<String> {
    if let Some(set) = w.headers().get(CONTENT_TYPE) {
        return Some(String::from_utf8_lossy(set.as_bytes()).into_owned());
    }
    let found = match mime::by_extension(name) {
        Some(found) => found,
        None => {
            let mut head = Vec::with_capacity(mime::SNIFF_LEN);
            let _ = content
                .by_ref()
                .take(mime::SNIFF_LEN as u64)
                .read_to_end(&mut head);
            content.seek(SeekFrom::Start(0)).ok()?;
            mime::sniff(&head)
        }
    };
    w.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(found));
    Some(found.to_string())
}

/// Decides between the whole content, one range and several, as Go does: ranges that
/// add up to more than the content are ignored.
fn choose_body(
    range: Option<&str>,
    size: u64,
    content_type: &str,
) -> Result<Body, range::BadRange> {
    let Some(header) = range else {
        return Ok(Body::Whole);
    };
    let ranges = range::parse(header, size)?;
    Ok(match ranges.as_slice() {
        _ if range::total(&ranges) > size => Body::Whole,
        [] => Body::Whole,
        [one] => Body::Single(*one),
        several => Body::Multi(Multipart::new(several, content_type, size)),
    })
}

/// Writes the body `body` of `content`. An error means the response is cut short: the
/// client left, or the content could not be read (or ended early).
fn send_body<C: Content>(
    w: &mut ResponseWriter,
    content: &mut C,
    body: &Body,
    size: u64,
) -> io::Result<()> {
    let span = match body {
        Body::Whole => Some((0, size)),
        Body::Single(range) => Some((range.start, range.length)),
        Body::Multi(_) => None,
    };
    if let Some((start, length)) = span.filter(|s| s.1 > 0) {
        if let Some(file) = content.file() {
            if w.send_file(file, start, length)? {
                return Ok(()); // the loop sends it; this thread is free
            }
        }
    }
    let mut buf = vec![0; PIECE.min(size as usize).max(1)];
    match body {
        Body::Whole => copy(w, content, size, &mut buf),
        Body::Single(range) => {
            content.seek(SeekFrom::Start(range.start))?;
            copy(w, content, range.length, &mut buf)
        }
        Body::Multi(multipart) => {
            for (head, range) in &multipart.parts {
                w.write_all(head.as_bytes())?;
                content.seek(SeekFrom::Start(range.start))?;
                copy(w, content, range.length, &mut buf)?;
            }
            w.write_all(multipart.closing.as_bytes())
        }
    }
}

/// Copies exactly `n` bytes of `content` to `w` through `buf`.
fn copy<C: Read>(
    w: &mut ResponseWriter,
    content: &mut C,
    mut n: u64,
    buf: &mut [u8],
) -> io::Result<()> {
    while n > 0 {
        let want = buf.len().min(usize::try_from(n).unwrap_or(usize::MAX));
        let got = match content.read(&mut buf[..want]) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(got) => got,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                log::warn!("reading a served file: {e}");
                return Err(e);
            }
        };
        w.write_all(&buf[..got])?;
        n -= got as u64;
    }
    Ok(())
}

/// An error reply that drops what described the content (Go 1.23's `serveError`): its
/// validators and caching rules do not apply to the error.
pub(super) fn fail(w: &mut ResponseWriter, msg: &str, code: StatusCode) {
    let headers = w.headers_mut();
    for name in [CACHE_CONTROL, CONTENT_ENCODING, ETAG, LAST_MODIFIED] {
        headers.remove(name);
    }
    crate::error(w, msg, code);
}
