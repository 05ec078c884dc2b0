//! Request heads: bytes in, a [`Head`] (request, framing, expectations) or a [`Reject`] out.
//!
//! Previous step: `conn.rs` has read bytes (`reader.rs` finds where a head ends: parsing
//! finds it, or, for a head that arrives in pieces, [`find_end`]). Next: `body.rs` collects
//! the body the [`Framing`] announces. No I/O here.
//!
//! Framing is decided strictly (RFC 9112 §6), because a request whose length two parties
//! read differently is how requests are smuggled past proxies:
//! `Transfer-Encoding` together with `Content-Length`, differing or malformed
//! `Content-Length`s, and `Transfer-Encoding` on HTTP/1.0 are refused with 400; a transfer
//! coding other than `chunked` with 501. Obsolete line folding and invalid field names or
//! values are refused with 400 (the parser accepts neither).

use std::cell::OnceCell;
use std::net::SocketAddr;

use std::mem::MaybeUninit;

use bytes::{Bytes, BytesMut};
use http::{Method, Uri, Version};

use crate::error::Reject;
use crate::request::{RawField, Request};

/// Most header fields one request may carry; more is answered with 431. Browsers send
/// about 20; the array lives on the stack while a head is parsed.
pub(crate) const MAX_HEADERS: usize = 100;

/// How the body of a request is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    Empty,
    /// Exactly this many bytes follow the head.
    Length(u64),
    /// A chunked body follows.
    Chunked,
}

/// What the response needs to know about its request.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Facts {
    /// The method is HEAD: the response has no body.
    pub(crate) head: bool,
    /// The version of the request, which decides keep-alive and chunking.
    pub(crate) version: Version,
    /// The client asked to close after this response (`Connection: close` on 1.1, the
    /// absence of `Connection: keep-alive` on 1.0).
    pub(crate) close: bool,
}

/// A parsed request head.
#[derive(Debug)]
pub(crate) struct Head {
    /// The request, with an empty body.
    pub(crate) request: Request,
    pub(crate) framing: Framing,
    /// The client waits for `100 Continue` before it sends the body.
    pub(crate) expect_continue: bool,
    pub(crate) facts: Facts,
}

impl Head {
    /// The head of `request`, which [`parse_into`] filled and described as `framed`.
    pub(crate) fn new(request: Request, framed: Framed) -> Head {
        Head {
            request,
            framing: framed.framing,
            expect_continue: framed.expect_continue,
            facts: framed.facts,
        }
    }
}

/// What a head says besides the request itself: how its body is framed, and what its
/// response needs to know.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Framed {
    pub(crate) framing: Framing,
    /// The client waits for `100 Continue` before it sends the body.
    pub(crate) expect_continue: bool,
    pub(crate) facts: Facts,
}

/// Finds the end of a head in `buf`: the index just past the blank line (`\r\n\r\n`, or a
/// bare `\n\n`). The search resumes near `from`, where the previous search stopped, so a
/// head that arrives a few bytes at a time is scanned once in all, not once per read.
pub(crate) fn find_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from.saturating_sub(3);
    while let Some(lf) = next_lf(buf, i) {
        match buf.get(lf + 1..lf + 3) {
            Some([b'\n', _]) => return Some(lf + 2),
            Some(b"\r\n") => return Some(lf + 3),
            None if buf.get(lf + 1) == Some(&b'\n') => return Some(lf + 2),
            _ => i = lf + 1,
        }
    }
    None
}

/// The index of the first `\n` in `buf` at or after `from`, looked for eight bytes at a
/// time: a request's lines are tens of bytes long, and a byte-by-byte search cost about a
/// tenth of a small request's handling.
#[inline]
fn next_lf(buf: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const LFS: u64 = u64::from_ne_bytes([b'\n'; 8]);
    let mut i = from;
    while let Some(chunk) = buf.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes")) ^ LFS;
        // A zero byte of `word` is a `\n`; the lowest set bit below marks the first one
        // (bits above it may be set by the subtraction's borrow, never below).
        let zeros = word.wrapping_sub(ONES) & !word & HIGHS;
        if zeros != 0 {
            return Some(i + (zeros.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    buf[i..].iter().position(|&b| b == b'\n').map(|p| i + p)
}

/// The refusal for a head that outgrew the header limit: 414 if even the request line has
/// not ended, else 431.
pub(crate) fn oversize(buf: &[u8]) -> Reject {
    if buf.contains(&b'\n') {
        Reject::HeaderTooLarge
    } else {
        Reject::UriTooLong
    }
}

/// How much of the input a parse is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Span {
    /// Exactly one head: [`find_end`] found its blank line.
    Head,
    /// The front of the input, before any search for the head's end: it may hold less
    /// than a head, or run on past one. Most heads arrive whole in one read, and parsing
    /// first finds their end without a search of its own.
    Front,
}

/// The refusal of a head that ends (its blank line came) before httparse saw it whole.
pub(crate) const MALFORMED_HEAD: Reject = Reject::BadRequest("malformed request head");

/// Parses one complete head (`buf` ends at the blank line) from the client at `peer`.
pub(crate) fn parse(buf: &[u8], peer: SocketAddr) -> Result<Head, Reject> {
    let parsed = parse_span(buf, Span::Head, peer)?;
    parsed.map(|(head, _)| head).ok_or(MALFORMED_HEAD)
}

/// [`parse`] of a head or of the front of the input (`span`): the head and its length,
/// or `None` where the front does not hold a head that parses (the caller then looks
/// for its end, and parses exactly that, to give the refusal its exact cause).
pub(crate) fn parse_span(
    buf: &[u8],
    span: Span,
    peer: SocketAddr,
) -> Result<Option<(Head, usize)>, Reject> {
    let mut request = Request::blank();
    let parsed = parse_into(buf, span, peer, &mut request, &mut BytesMut::new())?;
    Ok(parsed.map(|(framed, len)| (Head::new(request, framed), len)))
}

/// [`parse_span`] into a loop's reused `request` (blank or recycled: `Request::recycle`),
/// whose field list keeps its capacity. On an error the request is left half-filled, to
/// be overwritten by the next head.
///
/// The head is copied once into a shared buffer; the target is a view into it, and the
/// fields are offsets into it, turned into a `HeaderMap` only if the handler asks
/// (`Request::headers`). The fields that matter to the server are checked here, on the raw
/// bytes.
// Inlined into the connection's head reader, which parses into its loop's request in
// place: a request is a few hundred bytes, and moving one cost about 100 instructions.
#[inline(always)]
pub(crate) fn parse_into(
    buf: &[u8],
    span: Span,
    peer: SocketAddr,
    request: &mut Request,
    arena: &mut BytesMut,
) -> Result<Option<(Framed, usize)>, Reject> {
    // Uninitialised slots: zeroing 100 of them would cost more than parsing a small head.
    let mut fields = [const { MaybeUninit::uninit() }; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    let status = req.parse_with_uninit_headers(buf, &mut fields);
    match (status, span) {
        (Ok(httparse::Status::Complete(len)), _) => {
            // The copy goes into the loop's arena, whose memory is reused once the heads
            // cut from it are dropped (when their requests are answered): no allocation
            // per request.
            arena.reserve(len);
            arena.extend_from_slice(&buf[..len]);
            let head = arena.split().freeze();
            let framed = build(&req, buf, &head, peer, request)?;
            request.head = head; // moved, not cloned: one reference count less to move
            Ok(Some((framed, len)))
        }
        (_, Span::Front) => Ok(None),
        (Ok(httparse::Status::Partial), Span::Head) => Err(MALFORMED_HEAD),
        (Err(httparse::Error::Version), Span::Head) => later_minor_version(buf, peer, request),
        (Err(e), Span::Head) => Err(sort_parse_error(e)),
    }
}

fn sort_parse_error(e: httparse::Error) -> Reject {
    match e {
        httparse::Error::TooManyHeaders => Reject::HeaderTooLarge,
        httparse::Error::HeaderName => Reject::BadRequest("invalid header name"),
        httparse::Error::HeaderValue => Reject::BadRequest("invalid header value"),
        httparse::Error::Token => Reject::BadRequest("invalid method"),
        httparse::Error::Version => Reject::BadRequest("malformed HTTP version"),
        _ => Reject::BadRequest("malformed request line"),
    }
}

/// `HTTP/1.2` and later minors are served as 1.1 (RFC 9110 §2.5); other majors get 505,
/// anything that is not `HTTP/d.d` gets 400.
fn later_minor_version(
    buf: &[u8],
    peer: SocketAddr,
    request: &mut Request,
) -> Result<Option<(Framed, usize)>, Reject> {
    let line_end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
    let line = buf[..line_end]
        .strip_suffix(b"\r")
        .unwrap_or(&buf[..line_end]);
    let start = line.len().saturating_sub(8);
    match &line[start..] {
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', minor] if minor.is_ascii_digit() => {
            let mut patched = buf.to_vec();
            patched[start..start + 8].copy_from_slice(b"HTTP/1.1");
            let patched = Bytes::from(patched);
            let mut fields = [const { MaybeUninit::uninit() }; MAX_HEADERS];
            let mut req = httparse::Request::new(&mut []);
            match req.parse_with_uninit_headers(&patched, &mut fields) {
                Ok(httparse::Status::Complete(len)) => {
                    let framed = build(&req, &patched, &patched, peer, request)?;
                    request.head = patched;
                    Ok(Some((framed, len)))
                }
                Ok(httparse::Status::Partial) => Err(Reject::BadRequest("malformed request")),
                Err(e) => Err(sort_parse_error(e)),
            }
        }
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            Err(Reject::VersionNotSupported)
        }
        _ => Err(Reject::BadRequest("malformed HTTP version")),
    }
}

/// Fills `request` from httparse's view of a complete head in `parsed` (all but the head's
/// bytes, which the caller moves in once httparse's view of them is gone), checking what
/// httparse leaves to us: the target's form, `Host`, and the framing fields. `head` is the
/// copy of the head the request keeps: its offsets are `parsed`'s.
fn build(
    req: &httparse::Request<'_, '_>,
    parsed: &[u8],
    head: &Bytes,
    peer: SocketAddr,
    request: &mut Request,
) -> Result<Framed, Reject> {
    let (Some(method), Some(target), Some(minor)) = (req.method, req.path, req.version) else {
        return Err(Reject::BadRequest("malformed request line"));
    };
    let method =
        Method::from_bytes(method.as_bytes()).map_err(|_| Reject::BadRequest("invalid method"))?;
    let version = if minor == 0 {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    let target = target.as_bytes();
    let at = target.as_ptr() as usize - parsed.as_ptr() as usize;
    let uri = parse_target(&method, target, || head.slice(at..at + target.len()))?;

    let raw = &mut request.fields;
    raw.clear();
    let mut fields = Fields::default();
    for field in req.headers.iter() {
        // httparse admits exactly what `HeaderName` and `HeaderValue` do (token bytes;
        // HTAB, visible ASCII and obs-text), so the lazy map never drops a field.
        fields.note(field.name.as_bytes(), field.value)?;
        raw.push(RawField::new(parsed, field.name.as_bytes(), field.value));
    }

    let (framing, expect_continue, close) = fields.decide(version)?;
    let facts = Facts {
        head: method == Method::HEAD,
        version,
        close,
    };
    request.method = method;
    request.uri = uri;
    request.target = (at as u32, target.len() as u32);
    request.version = version;
    request.remote_addr = peer;
    Ok(Framed {
        framing,
        expect_continue,
        facts,
    })
}

/// Checks the form of the request target (RFC 9112 §3.2): origin form (`/path`), absolute
/// form (`http://host/path`), authority form for CONNECT, asterisk form for OPTIONS. A
/// plain path ([`is_plain_path`]) is left for `Request::uri` to make a `Uri` of if asked
/// (an empty cell); any other target is parsed now (`shared` gives its bytes).
fn parse_target(
    method: &Method,
    target: &[u8],
    shared: impl FnOnce() -> Bytes,
) -> Result<OnceCell<Uri>, Reject> {
    if is_plain_path(target) {
        return Ok(OnceCell::new());
    }
    let form_ok = match target {
        [b'/', ..] => true,
        b"*" => method == Method::OPTIONS,
        _ if method == Method::CONNECT => true,
        _ => target.windows(3).any(|w| w == b"://"),
    };
    if !form_ok {
        return Err(Reject::BadRequest("invalid request target"));
    }
    let uri = Uri::from_maybe_shared(shared());
    uri.map(OnceCell::from)
        .map_err(|_| Reject::BadRequest("invalid request target"))
}

/// Whether `target` is a path that the `http` crate's `Uri` takes exactly as it is: `/`,
/// then only bytes its path admits as they are (visible ASCII but `#<>?` and backquote:
/// no query, no fragment), within its length limit. Its `Uri` would have the target as
/// its path and no query, so it is made only if a handler asks.
pub(crate) fn is_plain_path(target: &[u8]) -> bool {
    let all_plain = target
        .iter()
        .fold(true, |ok, &b| ok & PLAIN_PATH[usize::from(b)]);
    target.first() == Some(&b'/') && target.len() < usize::from(u16::MAX) && all_plain
}

/// The bytes of a plain path ([`is_plain_path`]).
static PLAIN_PATH: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0x21;
    while b <= 0x7e {
        table[b] = !matches!(b as u8, b'#' | b'<' | b'>' | b'?' | b'`');
        b += 1;
    }
    table
};

/// The header fields that decide framing and connection handling, as seen so far.
#[derive(Default)]
struct Fields {
    hosts: usize,
    content_length: Option<u64>,
    transfer_encodings: usize,
    chunked: bool,
    /// `Some(true)` for `Expect: 100-continue`, `Some(false)` for any other expectation.
    expect: Option<bool>,
    close: bool,
    keep_alive: bool,
}

impl Fields {
    /// What the fields decide for a request of `version`, once all are noted: its
    /// framing, whether the client waits for `100 Continue`, whether it asked to close.
    /// Refused: a missing (1.1) or repeated `Host` (RFC 9112 §3.2), inconsistent framing,
    /// an `Expect` other than `100-continue`.
    #[inline]
    fn decide(&self, version: Version) -> Result<(Framing, bool, bool), Reject> {
        match self.hosts {
            0 if version == Version::HTTP_11 => {
                return Err(Reject::BadRequest("missing required Host header"))
            }
            0 | 1 => {}
            _ => return Err(Reject::BadRequest("too many Host headers")),
        }
        let framing = match self.framing(version)? {
            Framing::Length(0) => Framing::Empty,
            other => other,
        };
        let expect_continue = match self.expect {
            None => false,
            Some(true) => version == Version::HTTP_11 && framing != Framing::Empty,
            Some(false) => return Err(Reject::ExpectationFailed),
        };
        let close = match version {
            Version::HTTP_10 => !self.keep_alive,
            _ => self.close,
        };
        Ok((framing, expect_continue, close))
    }

    fn note(&mut self, name: &[u8], bytes: &[u8]) -> Result<(), Reject> {
        let is = |known: &[u8]| is_folded(name, known);
        if is(b"host") {
            self.hosts += 1;
            // Every byte looked up, without a branch per byte: a host name is valid.
            if !bytes
                .iter()
                .fold(true, |ok, &b| ok & HOST_BYTES[usize::from(b)])
            {
                return Err(Reject::BadRequest("malformed Host header"));
            }
        } else if is(b"content-length") {
            let n = parse_content_length(bytes)?;
            if self.content_length.is_some_and(|prev| prev != n) {
                return Err(Reject::BadRequest("conflicting Content-Length headers"));
            }
            self.content_length = Some(n);
        } else if is(b"transfer-encoding") {
            self.transfer_encodings += 1;
            self.chunked = is_folded(bytes.trim_ascii(), b"chunked");
        } else if is(b"expect") {
            let continue_100 = is_folded(bytes.trim_ascii(), b"100-continue");
            self.expect = Some(continue_100 && self.expect != Some(false));
        } else if is(b"connection") {
            // A value that is one of the two tokens alone (a browser's `keep-alive`) is
            // compared whole: splitting it as a list cost more than the comparisons.
            let (close, keep_alive) = (is_folded(bytes, b"close"), is_folded(bytes, b"keep-alive"));
            if close || keep_alive {
                self.close |= close;
                self.keep_alive |= keep_alive;
                return Ok(());
            }
            for token in bytes.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                self.close |= is_folded(token, b"close");
                self.keep_alive |= is_folded(token, b"keep-alive");
            }
        }
        Ok(())
    }

    fn framing(&self, version: Version) -> Result<Framing, Reject> {
        if self.transfer_encodings == 0 {
            return Ok(self.content_length.map_or(Framing::Empty, Framing::Length));
        }
        if version == Version::HTTP_10 {
            return Err(Reject::BadRequest(
                "Transfer-Encoding in an HTTP/1.0 request",
            ));
        }
        if self.content_length.is_some() {
            return Err(Reject::BadRequest(
                "both Transfer-Encoding and Content-Length",
            ));
        }
        if self.transfer_encodings > 1 || !self.chunked {
            return Err(Reject::UnsupportedTransferCoding);
        }
        Ok(Framing::Chunked)
    }
}

/// Whether `bytes`, a field name or value as httparse admits them, is `known` (lower-case
/// letters, digits and `-`) in any case, compared without a branch per byte. Setting bit
/// 0x20 lower-cases a letter and leaves digits and `-` as they are; of the bytes httparse
/// admits (tokens in names; HTAB, SP, visible ASCII and obs-text in values), only a
/// letter's two cases become that letter, and each digit or `-` only itself (the other
/// bytes that would, CR and controls, are never admitted). Eight bytes (or four) are
/// folded and compared at once, the last word ending at the last byte (it may overlap the
/// one before): the same per-byte test, a few instructions for a whole name.
#[inline(always)]
fn is_folded(bytes: &[u8], known: &[u8]) -> bool {
    let n = known.len();
    if bytes.len() != n {
        return false;
    }
    if n >= 8 {
        let differ = |at| folded_word::<8>(bytes, known, at);
        let mut diff = differ(n - 8);
        for at in (0..n - 8).step_by(8) {
            diff |= differ(at);
        }
        diff == 0
    } else if n >= 4 {
        folded_word::<4>(bytes, known, 0) | folded_word::<4>(bytes, known, n - 4) == 0
    } else {
        let differ = |diff, (&a, &b): (&u8, &u8)| diff | ((a | 0x20) ^ b);
        bytes.iter().zip(known).fold(0, differ) == 0
    }
}

/// The bits in which the `N` bytes of `bytes` from `at`, with bit 0x20 set in each, differ
/// from those of `known` (`N` is 4 or 8; both hold `at + N` bytes).
#[inline(always)]
fn folded_word<const N: usize>(bytes: &[u8], known: &[u8], at: usize) -> u64 {
    let word = |s: &[u8]| {
        let mut w = [0u8; 8];
        w[..N].copy_from_slice(&s[..N]);
        u64::from_ne_bytes(w)
    };
    (word(&bytes[at..]) | word(&[0x20; 8])) ^ word(&known[at..])
}

/// `Content-Length` is one run of digits: no sign, no list, no spaces inside.
fn parse_content_length(value: &[u8]) -> Result<u64, Reject> {
    const BAD: Reject = Reject::BadRequest("invalid Content-Length");
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return Err(BAD);
    }
    Ok(value
        .iter()
        .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0')))
}

/// [`is_host_byte`] as a table: one load per byte of every request's `Host`, where the
/// comparisons cost a dozen instructions a byte (callgrind, hello: 110 a request).
static HOST_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = is_host_byte(b as u8);
        b += 1;
    }
    table
};

/// The bytes Go accepts in a `Host` value: letters, digits and `!$%&'()*+,-.:;=[]_~`.
const fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b'-'
                | b'.'
                | b':'
                | b';'
                | b'='
                | b'['
                | b']'
                | b'_'
                | b'~'
        )
}

#[cfg(test)]
mod tests;
