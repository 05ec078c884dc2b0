//! The request reader: bytes in; request heads, body bytes and refusals out. No I/O.
//!
//! This is the order and the limits in which every request is read, in one place.
//! `conn.rs` drives it with what its socket delivers; the fuzz targets and property tests
//! drive it with their inputs (through `fuzzing.rs`), so what they check is the server's own
//! reading, not a model of it.
//!
//! 1. Blank lines before a head are skipped (RFC 9112 §2.2).
//! 2. [`HeadReader`] looks for the blank line that ends a head, resuming where its last
//!    search stopped. A head that outgrows `max_header_bytes` is refused: 414 if even its
//!    request line has not ended within the limit, else 431. A complete head is parsed
//!    (`parse.rs`).
//! 3. [`begin`]: the head's framing decides what follows. No body: the request is
//!    complete. A `Content-Length` past the inline body limit: 413 at once. Otherwise a
//!    [`BodyReader`].
//! 4. [`BodyReader`] decodes the body (`body.rs`) as its bytes arrive, refuses it (413) as
//!    soon as more than the limit has arrived, and at its end checks a chunked body's
//!    trailer section. What comes first in the stream decides: a malformed chunk after
//!    the limit was passed gets 413, one before it 400, whatever the reads were.
//!
//! Where the body goes (a buffer for an inline handler, pieces for a blocking one), when
//! its bytes may be read (the memory budget, a full channel), and what a refusal does to
//! the connection are the caller's business.

use http::HeaderMap;

use crate::body::Decoder;
use crate::error::Reject;
use crate::mem::Append;
use crate::parse::{self, Framing, Head, Span};

/// How many bytes at the front of `input` are blank lines (CR and LF) before a head.
pub(crate) fn blank_lines(input: &[u8]) -> usize {
    input
        .iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count()
}

/// Looks for one request head, across reads.
#[derive(Debug, Default)]
pub(crate) struct HeadReader {
    /// How far the search for the end of the current head got, so a head that arrives in
    /// pieces is scanned once in all. (Four bytes: it sits in every connection.)
    scanned: u32,
}

/// What [`HeadReader::read`] found. The head moves once, by value: boxing it would cost
/// an allocation per request.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum HeadStep<H = Head> {
    /// No complete head yet: wait for more bytes.
    Incomplete,
    /// A head, parsed from the first `len` bytes of the input: a [`Head`], or what a
    /// parse into the loop's own request says of it (`parse::Framed`).
    Parsed { head: H, len: usize },
    /// The head is refused; nothing more is read from the connection.
    Refused(Reject),
}

impl HeadReader {
    /// Looks for a complete head at the front of `input` (blank lines already skipped) and
    /// hands it to `parse`.
    ///
    /// A new head is parsed at once from the front of the input ([`Span::Front`]): most
    /// arrive whole, and the parse finds where they end. Where that finds none (the head is
    /// incomplete, over the limit, or malformed), the search for its end takes over and
    /// resumes across reads, so a head that arrives in pieces is parsed once, whole
    /// ([`Span::Head`]), and a malformed one is refused for its exact cause.
    #[inline(always)]
    pub(crate) fn read<H>(
        &mut self,
        input: &[u8],
        max_header_bytes: usize,
        mut parse: impl FnMut(&[u8], Span) -> Result<Option<(H, usize)>, Reject>,
    ) -> HeadStep<H> {
        let limit = max_header_bytes;
        if self.scanned == 0 {
            // No more than the limit: a head that parses is within it.
            match parse(&input[..input.len().min(limit)], Span::Front) {
                Ok(Some((head, len))) => return HeadStep::Parsed { head, len },
                Ok(None) => {}
                Err(reject) => return HeadStep::Refused(reject),
            }
        }
        let scanned = (self.scanned as usize).min(input.len());
        let end = match parse::find_end(input, scanned) {
            Some(end) if end <= limit => end,
            // Over the limit: only the first `limit` bytes decide between 414 and 431 (the
            // input may hold more, as reads fill at least a read buffer).
            Some(_) => return HeadStep::Refused(parse::oversize(&input[..limit])),
            None if input.len() >= limit => {
                return HeadStep::Refused(parse::oversize(&input[..limit]))
            }
            None => {
                self.scanned = u32::try_from(input.len()).unwrap_or(u32::MAX);
                return HeadStep::Incomplete;
            }
        };
        self.scanned = 0;
        match parse(&input[..end], Span::Head) {
            Ok(Some((head, len))) => HeadStep::Parsed { head, len },
            Ok(None) => HeadStep::Refused(parse::MALFORMED_HEAD),
            Err(reject) => HeadStep::Refused(reject),
        }
    }
}

/// What follows a head, by its framing.
#[derive(Debug)]
pub(crate) enum Begin {
    /// No body: the request is complete.
    Complete,
    /// A body follows.
    Body(BodyReader),
    /// The announced body is over the limit.
    Refused(Reject),
}

/// Decides what follows a head framed by `framing`. `limit` is the most body an inline
/// handler receives; `None` for a body that streams to a blocking handler.
pub(crate) fn begin(framing: Framing, limit: Option<usize>) -> Begin {
    match (framing, limit) {
        (Framing::Empty, _) => Begin::Complete,
        (Framing::Length(n), Some(limit)) if n > limit as u64 => {
            Begin::Refused(Reject::BodyTooLarge)
        }
        (framing, limit) => Begin::Body(BodyReader {
            decoder: Decoder::new(framing),
            limit,
            received: 0,
        }),
    }
}

/// Decodes one request body, across reads.
#[derive(Debug)]
pub(crate) struct BodyReader {
    decoder: Decoder,
    /// The most body bytes allowed, if limited.
    limit: Option<usize>,
    /// Body bytes decoded so far.
    received: usize,
}

/// What [`BodyReader::read`] did.
#[derive(Debug)]
pub(crate) enum BodyStep {
    /// The first `consumed` bytes of the input were body (and framing); more is to come.
    More { consumed: usize },
    /// The first `consumed` bytes ended the body; a chunked body's trailer fields.
    Done {
        consumed: usize,
        trailers: HeaderMap,
    },
    /// The body is malformed or over the limit; nothing more is read from the connection.
    Refused(Reject),
}

impl BodyReader {
    /// Appends the body bytes at the front of `input` to `body`.
    pub(crate) fn read(&mut self, input: &[u8], body: &mut impl Append) -> BodyStep {
        let mut consumed = 0;
        loop {
            let rest = &input[consumed..];
            // A limited body is decoded at most one byte past its allowance at a time, so
            // that whichever comes first in the stream, the excess or a malformation, is
            // what refuses it, however the bytes were split into reads.
            let cap = self.limit.map_or(rest.len(), |limit| {
                (limit.saturating_sub(self.received) + 1).min(rest.len())
            });
            let before = body.len();
            let outcome = self.decoder.decode(&rest[..cap], body);
            self.received += body.len() - before;
            let progress = match outcome {
                Err(reject) => return BodyStep::Refused(reject),
                Ok(_) if self.over_limit() => return BodyStep::Refused(Reject::BodyTooLarge),
                Ok(progress) => progress,
            };
            consumed += progress.consumed;
            if progress.done {
                return self.finished(consumed);
            }
            if consumed == input.len() || progress.consumed < cap {
                return BodyStep::More { consumed };
            }
        }
    }

    /// Body bytes that may be read straight into the body next, with no framing between
    /// them (see `Decoder::raw_left`).
    pub(crate) fn raw_left(&self) -> u64 {
        self.decoder.raw_left()
    }

    /// Counts `n` body bytes (at most [`raw_left`](Self::raw_left)) read straight into the
    /// body, as [`read`](Self::read) would have appended them.
    pub(crate) fn took(&mut self, n: usize) -> BodyStep {
        let progress = self.decoder.took(n as u64);
        self.received += progress.consumed;
        if self.over_limit() {
            return BodyStep::Refused(Reject::BodyTooLarge);
        }
        let consumed = progress.consumed;
        if !progress.done {
            return BodyStep::More { consumed };
        }
        self.finished(consumed)
    }

    /// The body ended after `consumed` more bytes: done, with its trailers if they are
    /// sound.
    fn finished(&self, consumed: usize) -> BodyStep {
        match self.decoder.trailers() {
            Ok(trailers) => BodyStep::Done { consumed, trailers },
            Err(reject) => BodyStep::Refused(reject),
        }
    }

    /// More body has arrived than the limit allows.
    pub(crate) fn over_limit(&self) -> bool {
        self.limit.is_some_and(|limit| self.received > limit)
    }

    /// The whole body has been decoded.
    pub(crate) fn is_done(&self) -> bool {
        self.decoder.is_done()
    }

    /// Bytes of a `Content-Length` body still to come; `None` for a chunked body, whose
    /// length nobody knows until it ends.
    pub(crate) fn left(&self) -> Option<u64> {
        match self.decoder {
            Decoder::Length(left) => Some(left),
            Decoder::Chunked(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MALFORMED: Reject = Reject::BadRequest("malformed chunked encoding");

    fn head(text: &str) -> HeadStep {
        let peer = std::net::SocketAddr::from(([127, 0, 0, 1], 1));
        HeadReader::default().read(text.as_bytes(), 64, |h, span| {
            parse::parse_span(h, span, peer)
        })
    }

    /// Reads `pieces` one after another as a connection would (the input grows by each),
    /// and returns what each read found and the spans parsed, in order.
    fn read_in(pieces: &[&str], limit: usize) -> (Vec<HeadStep>, Vec<Span>) {
        let peer = std::net::SocketAddr::from(([127, 0, 0, 1], 1));
        let (mut reader, mut input, mut spans, mut steps) =
            (HeadReader::default(), String::new(), Vec::new(), Vec::new());
        for piece in pieces {
            input.push_str(piece);
            steps.push(reader.read(input.as_bytes(), limit, |h, span| {
                spans.push(span);
                parse::parse_span(h, span, peer)
            }));
        }
        (steps, spans)
    }

    #[test]
    fn a_head_is_parsed_once_whether_it_arrives_whole_or_in_pieces() {
        let head = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
        let (steps, spans) = read_in(&[head], 64);
        assert!(matches!(&steps[..], [HeadStep::Parsed { len, .. }] if *len == head.len()));
        assert_eq!(spans, [Span::Front], "found by the parse alone");
        // Pipelined: the first head of several.
        let (steps, _) = read_in(&[&head.repeat(3)], 200);
        assert!(matches!(&steps[..], [HeadStep::Parsed { len, .. }] if *len == head.len()));
        // A byte at a time: the front is tried once, then the search takes over until the
        // head is whole, and it is parsed once more, whole.
        let bytes: Vec<String> = head.chars().map(String::from).collect();
        let pieces: Vec<&str> = bytes.iter().map(String::as_str).collect();
        let (steps, spans) = read_in(&pieces, 64);
        assert!(steps[..head.len() - 1]
            .iter()
            .all(|step| matches!(step, HeadStep::Incomplete)));
        assert!(matches!(steps.last(), Some(HeadStep::Parsed { len, .. }) if *len == head.len()));
        assert_eq!(spans, [Span::Front, Span::Head]);
    }

    #[test]
    fn a_malformed_head_is_refused_for_its_exact_cause_after_the_search() {
        let (steps, spans) = read_in(&["GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"], 64);
        assert!(matches!(
            &steps[..],
            [HeadStep::Refused(Reject::BadRequest("invalid header name"))]
        ));
        assert_eq!(spans, [Span::Front, Span::Head]);
        // A head within the limit that the parse alone refuses (no `Host`) is final.
        let (steps, spans) = read_in(&["GET / HTTP/1.1\r\n\r\n"], 64);
        assert!(matches!(
            &steps[..],
            [HeadStep::Refused(Reject::BadRequest(_))]
        ));
        assert_eq!(spans, [Span::Front]);
        // Past the limit the front holds no head, and the search finds it too long.
        let long = format!("GET / HTTP/1.1\r\nHost: x\r\nX: {}\r\n\r\n", "a".repeat(60));
        let (steps, spans) = read_in(&[&long], 64);
        assert!(matches!(
            &steps[..],
            [HeadStep::Refused(Reject::HeaderTooLarge)]
        ));
        assert_eq!(spans, [Span::Front]);
    }

    #[test]
    fn an_oversized_head_is_414_before_its_request_line_ends_else_431() {
        let long_line = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(80));
        assert!(matches!(
            head(&long_line),
            HeadStep::Refused(Reject::UriTooLong)
        ));
        let long_field = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(80));
        assert!(matches!(
            head(&long_field),
            HeadStep::Refused(Reject::HeaderTooLarge)
        ));
        assert!(matches!(head("GET / HTTP/1.1\r\n"), HeadStep::Incomplete));
    }

    /// The excess and a malformation are found in stream order, in one read or many.
    #[test]
    fn the_first_fault_in_the_stream_refuses_a_body() {
        let body = b"8\r\naaaaaaaa\r\nXYZ";
        for (limit, status) in [(4, Reject::BodyTooLarge), (100, MALFORMED)] {
            let Begin::Body(mut whole) = begin(Framing::Chunked, Some(limit)) else {
                panic!("a chunked body follows");
            };
            let step = whole.read(body, &mut Vec::new());
            assert!(
                matches!(step, BodyStep::Refused(r) if r == status),
                "{step:?}"
            );
            let Begin::Body(mut split) = begin(Framing::Chunked, Some(limit)) else {
                panic!("a chunked body follows");
            };
            let mut held = Vec::new();
            let first = split.read(&body[..6], &mut held);
            let step = match first {
                BodyStep::More { consumed } => split.read(&body[consumed..], &mut held),
                refused => refused,
            };
            assert!(
                matches!(step, BodyStep::Refused(r) if r == status),
                "{step:?}"
            );
        }
    }

    #[test]
    fn a_body_over_the_limit_is_refused_as_it_arrives() {
        let Begin::Body(mut reader) = begin(Framing::Chunked, Some(4)) else {
            panic!("a chunked body follows");
        };
        let mut body = Vec::new();
        assert!(matches!(
            reader.read(b"3\r\nabc\r\n", &mut body),
            BodyStep::More { consumed: 8 }
        ));
        assert!(matches!(
            reader.read(b"3\r\ndef\r\n", &mut body),
            BodyStep::Refused(Reject::BodyTooLarge)
        ));
        assert!(matches!(
            begin(Framing::Length(5), Some(4)),
            Begin::Refused(Reject::BodyTooLarge)
        ));
        assert!(matches!(begin(Framing::Length(5), None), Begin::Body(_)));
    }
}
