//! Request bodies: the decoders that move body bytes out of the read buffer.
//!
//! Previous step: `parse.rs` decided the [`Framing`]. Next: the handler reads the collected
//! body through [`Request::body`](crate::Request::body). A decoder is fed whatever bytes have
//! arrived, consumes what belongs to the body and says when the body is complete, so a body
//! split across any number of reads decodes the same.

use http::header::{CONTENT_LENGTH, HOST, TRAILER, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::error::Reject;
use crate::mem::Append;
use crate::parse::Framing;

/// Longest chunk-size line (size, extensions and CRLF), as in Go.
const MAX_CHUNK_LINE: usize = 4096;

/// Most bytes of trailer fields after a chunked body.
const MAX_TRAILER_BYTES: usize = 8 * 1024;

/// Most chunk framing a body may carry beyond its chunks' allowances before it is refused,
/// as in Go (CVE-2023-39326). Without it a client could send endless one-byte chunks, each
/// with kilobytes of extensions, and keep the server reading framing that yields almost no
/// body; with it, such a body is refused after about this much plus one size line.
const MAX_CHUNK_OVERHEAD: u64 = 16 * 1024;

/// Framing each chunk carries free, whatever its size: it covers a short size line and the
/// CRLF after the data, so even a body sent a byte per chunk (`1\r\nx\r\n`, five bytes of
/// framing for one of data) never builds up overhead. Go's figure.
const FRAMING_ALLOWANCE_PER_CHUNK: u64 = 16;

/// Further framing each byte of chunk data pays for, so a chunk with real data may carry
/// long extensions and a long line can be paid off by the data after it. Go's figure.
const FRAMING_ALLOWANCE_PER_DATA_BYTE: u64 = 2;

const MALFORMED: Reject = Reject::BadRequest("malformed chunked encoding");

/// How far one call to a body decoder got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of the input that belonged to the body (framing included).
    pub consumed: usize,
    /// The body is complete.
    pub done: bool,
}

/// A body decoder for one request.
#[derive(Debug)]
pub(crate) enum Decoder {
    /// A `Content-Length` body with this many bytes still to come.
    Length(u64),
    /// A chunked body.
    Chunked(Chunked),
}

impl Decoder {
    pub(crate) fn new(framing: Framing) -> Decoder {
        match framing {
            Framing::Empty => Decoder::Length(0),
            Framing::Length(n) => Decoder::Length(n),
            Framing::Chunked => Decoder::Chunked(Chunked::default()),
        }
    }

    /// Appends the body bytes found in `input` to `body`.
    pub(crate) fn decode(
        &mut self,
        input: &[u8],
        body: &mut impl Append,
    ) -> Result<Progress, Reject> {
        match self {
            Decoder::Length(remaining) => {
                let n = input
                    .len()
                    .min(usize::try_from(*remaining).unwrap_or(usize::MAX));
                body.append(&input[..n]);
                *remaining -= n as u64;
                Ok(Progress {
                    consumed: n,
                    done: *remaining == 0,
                })
            }
            Decoder::Chunked(chunked) => chunked.decode(input, body),
        }
    }

    /// The whole body has been decoded.
    pub(crate) fn is_done(&self) -> bool {
        match self {
            Decoder::Length(remaining) => *remaining == 0,
            Decoder::Chunked(chunked) => chunked.state == State::Done,
        }
    }

    /// Body bytes that come next with no framing between them: what is left of a
    /// `Content-Length` body, or of the chunk being read (0 where framing comes next).
    /// They may be read straight into the body, and counted with [`took`](Decoder::took).
    pub(crate) fn raw_left(&self) -> u64 {
        match self {
            Decoder::Length(remaining) => *remaining,
            Decoder::Chunked(chunked) => match chunked.state {
                State::Data(left) => left,
                _ => 0,
            },
        }
    }

    /// Counts `n` body bytes (at most [`raw_left`](Decoder::raw_left)) that were read
    /// straight into the body.
    pub(crate) fn took(&mut self, n: u64) -> Progress {
        let n = n.min(self.raw_left());
        match self {
            Decoder::Length(remaining) => *remaining -= n,
            Decoder::Chunked(chunked) => {
                if let State::Data(left) = chunked.state {
                    chunked.state = match left - n {
                        0 => State::DataCr,
                        rest => State::Data(rest),
                    };
                }
            }
        }
        Progress {
            consumed: usize::try_from(n).unwrap_or(usize::MAX),
            done: self.is_done(),
        }
    }

    /// The trailer fields of a finished chunked body (empty for other bodies).
    pub(crate) fn trailers(&self) -> Result<HeaderMap, Reject> {
        match self {
            Decoder::Chunked(chunked) => chunked.trailers(),
            Decoder::Length(_) => Ok(HeaderMap::new()),
        }
    }
}

/// Where the chunked decoder is in `size [ext] CRLF data CRLF ... 0 CRLF trailers CRLF`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading hex digits of a chunk size.
    Size { size: u64, digits: u8 },
    /// Whitespace after the size.
    SizeSpace { size: u64 },
    /// A chunk extension (`;name=value`), ignored.
    Extension { size: u64 },
    /// Saw the CR ending a size line.
    SizeLf { size: u64 },
    /// Inside a chunk's data, with this many bytes left.
    Data(u64),
    /// Expecting the CR after a chunk's data.
    DataCr,
    /// Expecting the LF after a chunk's data.
    DataLf,
    /// At the start of a trailer line (or the final CRLF).
    TrailerStart,
    /// Inside a trailer line.
    TrailerLine,
    /// Saw the CR ending a trailer line.
    TrailerLf,
    /// Saw the CR of the final empty line.
    FinalLf,
    /// The body is complete.
    Done,
}

/// The chunked decoder: a state per position in the grammar, one byte at a time except for
/// chunk data, which is copied in bulk. Sizes, extensions and lines must end in CRLF.
#[derive(Debug)]
pub(crate) struct Chunked {
    state: State,
    /// Bytes of the current size line so far (its CR included, its LF not), bounded by
    /// `MAX_CHUNK_LINE`; reset when the line ends.
    line_len: usize,
    /// Framing read beyond the allowances of the chunks so far: each size line with its
    /// CRLF and the CRLF due after its data, less `FRAMING_ALLOWANCE_PER_CHUNK` and
    /// `FRAMING_ALLOWANCE_PER_DATA_BYTE` per data byte, never below zero. Charged when a
    /// size line ends (see `charge_overhead`); never above `MAX_CHUNK_OVERHEAD`.
    overhead: u64,
    /// Raw trailer lines, each ending in CRLF.
    trailer: Vec<u8>,
}

impl Default for Chunked {
    fn default() -> Self {
        Chunked {
            state: State::Size { size: 0, digits: 0 },
            line_len: 0,
            overhead: 0,
            trailer: Vec::new(),
        }
    }
}

impl Chunked {
    fn decode(&mut self, input: &[u8], body: &mut impl Append) -> Result<Progress, Reject> {
        let mut i = 0;
        while i < input.len() && self.state != State::Done {
            if let State::Data(left) = self.state {
                let n = (input.len() - i).min(usize::try_from(left).unwrap_or(usize::MAX));
                body.append(&input[i..i + n]);
                i += n;
                self.state = match left - n as u64 {
                    0 => State::DataCr,
                    rest => State::Data(rest),
                };
                continue;
            }
            self.state = self.step(input[i])?;
            i += 1;
        }
        Ok(Progress {
            consumed: i,
            done: self.state == State::Done,
        })
    }

    /// The state after one framing byte.
    fn step(&mut self, b: u8) -> Result<State, Reject> {
        use State::*;
        if matches!(
            self.state,
            Size { .. } | SizeSpace { .. } | Extension { .. }
        ) {
            self.line_len += 1;
            if self.line_len > MAX_CHUNK_LINE {
                return Err(MALFORMED);
            }
        }
        Ok(match (self.state, b) {
            (Size { size, digits }, _) if b.is_ascii_hexdigit() => {
                if digits == 16 {
                    return Err(Reject::BadRequest("chunk size too large"));
                }
                let digit = (b as char).to_digit(16).unwrap_or(0);
                Size {
                    size: size << 4 | u64::from(digit),
                    digits: digits + 1,
                }
            }
            (Size { digits: 0, .. }, _) => return Err(MALFORMED),
            (Size { size, .. } | SizeSpace { size }, b' ' | b'\t') => SizeSpace { size },
            (Size { size, .. } | SizeSpace { size } | Extension { size }, b';') => {
                Extension { size }
            }
            (Size { size, .. } | SizeSpace { size } | Extension { size }, b'\r') => SizeLf { size },
            (Extension { size }, _) if b == b'\t' || (b' '..0x7f).contains(&b) || b >= 0x80 => {
                Extension { size }
            }
            (SizeLf { size }, b'\n') => {
                self.charge_overhead(size)?;
                self.line_len = 0;
                if size == 0 {
                    TrailerStart
                } else {
                    Data(size)
                }
            }
            (DataCr, b'\r') => DataLf,
            (DataLf, b'\n') => Size { size: 0, digits: 0 },
            (TrailerStart, b'\r') => FinalLf,
            (TrailerStart | TrailerLine, b'\n') => return Err(MALFORMED),
            (TrailerLine, b'\r') => TrailerLf,
            (TrailerStart | TrailerLine, _) => {
                self.push_trailer(b)?;
                TrailerLine
            }
            (TrailerLf, b'\n') => {
                self.push_trailer(b'\r')?;
                self.push_trailer(b'\n')?;
                TrailerStart
            }
            (FinalLf, b'\n') => Done,
            _ => return Err(MALFORMED),
        })
    }

    /// Charges the size line that has just ended, and the CRLF due after its `size` bytes of
    /// data, to the overhead, less the chunk's allowance; refuses the body once the overhead
    /// passes `MAX_CHUNK_OVERHEAD`. The last chunk is charged the same two bytes after its
    /// line, which stand for the CRLF that ends the body, as in Go.
    fn charge_overhead(&mut self, size: u64) -> Result<(), Reject> {
        let framing = self.line_len as u64 + 1 + 2; // the line, its LF, the CRLF after the data
        let allowance = size
            .saturating_mul(FRAMING_ALLOWANCE_PER_DATA_BYTE)
            .saturating_add(FRAMING_ALLOWANCE_PER_CHUNK);
        let overhead = (self.overhead + framing).saturating_sub(allowance);
        if overhead > MAX_CHUNK_OVERHEAD {
            return Err(MALFORMED);
        }
        self.overhead = overhead;
        Ok(())
    }

    fn push_trailer(&mut self, b: u8) -> Result<(), Reject> {
        if self.trailer.len() >= MAX_TRAILER_BYTES {
            return Err(Reject::HeaderTooLarge);
        }
        self.trailer.push(b);
        Ok(())
    }

    /// Parses the trailer section. Fields that would change framing or routing after the
    /// fact (`Content-Length`, `Transfer-Encoding`, `Trailer`, `Host`) are refused.
    fn trailers(&self) -> Result<HeaderMap, Reject> {
        let mut map = HeaderMap::new();
        if self.trailer.is_empty() {
            return Ok(map);
        }
        let mut section = self.trailer.clone();
        section.extend_from_slice(b"\r\n");
        let mut fields = [httparse::EMPTY_HEADER; 32];
        match httparse::parse_headers(&section, &mut fields) {
            Ok(httparse::Status::Complete((_, fields))) => {
                for field in fields {
                    let name = HeaderName::from_bytes(field.name.as_bytes());
                    let value = HeaderValue::from_bytes(field.value);
                    let (Ok(name), Ok(value)) = (name, value) else {
                        return Err(Reject::BadRequest("invalid trailer field"));
                    };
                    if [CONTENT_LENGTH, TRANSFER_ENCODING, TRAILER, HOST].contains(&name) {
                        return Err(Reject::BadRequest("forbidden trailer field"));
                    }
                    map.append(name, value);
                }
                Ok(map)
            }
            _ => Err(Reject::BadRequest("invalid trailer section")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `input` fed in pieces of `step` bytes.
    fn decode_in_steps(input: &[u8], step: usize) -> Result<(Vec<u8>, usize, bool), Reject> {
        let mut decoder = Decoder::new(Framing::Chunked);
        let (mut body, mut pos) = (Vec::new(), 0);
        let mut pending: Vec<u8> = Vec::new();
        let mut done = false;
        for piece in input.chunks(step) {
            pending.extend_from_slice(piece);
            let progress = decoder.decode(&pending, &mut body)?;
            pending.drain(..progress.consumed);
            pos += progress.consumed;
            if progress.done {
                done = true;
                break;
            }
        }
        Ok((body, pos, done))
    }

    #[test]
    fn raw_data_taken_between_the_framing_decodes_the_same_at_every_split() {
        // As a connection does: where only data comes next (`raw_left`), bytes go straight
        // into the body and are counted with `took`; the framing goes through `decode`.
        let input = b"5;name=v\r\nhello\r\n15\r\n world, in big pieces\r\n0\r\nX: 1\r\n\r\nNEXT";
        for step in 1..input.len() {
            let mut decoder = Decoder::new(Framing::Chunked);
            let (mut body, mut pos) = (Vec::new(), 0);
            while !decoder.is_done() {
                let piece = &input[pos..(pos + step).min(input.len())];
                let raw = usize::try_from(decoder.raw_left()).unwrap();
                let progress = if raw > 0 {
                    let n = raw.min(piece.len());
                    body.extend_from_slice(&piece[..n]);
                    decoder.took(n as u64)
                } else {
                    decoder.decode(piece, &mut body).unwrap()
                };
                pos += progress.consumed;
            }
            assert_eq!(body, b"hello world, in big pieces", "step {step}");
            assert_eq!(
                pos,
                input.len() - 4,
                "step {step}: stops before the next request"
            );
            assert_eq!(decoder.trailers().unwrap()["x"], "1");
        }
        let mut length = Decoder::new(Framing::Length(10));
        assert_eq!(
            (length.raw_left(), length.took(4)),
            (
                10,
                Progress {
                    consumed: 4,
                    done: false
                }
            )
        );
        assert_eq!(
            length.took(100),
            Progress {
                consumed: 6,
                done: true
            },
            "no more than is left"
        );
    }

    #[test]
    fn chunked_with_extensions_and_trailers_at_every_split() {
        let input = b"5;name=v\r\nhello\r\n6 \r\n world\r\n0\r\nX-Sum: 1\r\n\r\nNEXT";
        for step in 1..input.len() {
            let (body, consumed, done) = decode_in_steps(input, step).unwrap();
            assert_eq!(body, b"hello world", "step {step}");
            assert!(done);
            assert_eq!(consumed, input.len() - 4, "stops before the next request");
        }
        let mut decoder = Decoder::new(Framing::Chunked);
        decoder.decode(input, &mut Vec::new()).unwrap();
        assert_eq!(decoder.trailers().unwrap()["x-sum"], "1");
    }

    #[test]
    fn malformed_chunked_is_refused() {
        for bad in [
            &b"x\r\n"[..],                     // not hex
            b"\r\n",                           // empty size
            b"5\nhello\r\n0\r\n\r\n",          // bare LF after size
            b"5\r\nhelloX\r\n",                // no CRLF after data
            b"11111111111111111\r\n",          // 17 hex digits
            b"0\r\nContent-Length: 5\r\n\r\n", // forbidden trailer
        ] {
            let mut decoder = Decoder::new(Framing::Chunked);
            let result = decoder
                .decode(bad, &mut Vec::new())
                .and_then(|_| decoder.trailers());
            assert!(result.is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn long_extension_line_is_refused() {
        let mut line = b"1;".to_vec();
        line.extend(std::iter::repeat(b'a').take(MAX_CHUNK_LINE));
        let mut decoder = Decoder::new(Framing::Chunked);
        assert_eq!(decoder.decode(&line, &mut Vec::new()), Err(MALFORMED));
    }

    /// `count` chunks of one byte each, every size line carrying `extension`, then the
    /// last chunk.
    fn one_byte_chunks(count: usize, extension: &str) -> Vec<u8> {
        let mut input = format!("1{extension}\r\nx\r\n").repeat(count).into_bytes();
        input.extend_from_slice(b"0\r\n\r\n");
        input
    }

    /// Feeds `input` one byte at a time until the decoder refuses it; returns the bytes fed
    /// by then, the refusing one included.
    fn bytes_read_before_refusal(input: &[u8]) -> Option<usize> {
        let mut decoder = Decoder::new(Framing::Chunked);
        let mut body = Vec::new();
        for (i, byte) in input.iter().enumerate() {
            if decoder
                .decode(std::slice::from_ref(byte), &mut body)
                .is_err()
            {
                return Some(i + 1);
            }
        }
        None
    }

    #[test]
    fn one_byte_chunks_with_long_extensions_are_refused_for_overhead() {
        let extension = format!(";{}", "e".repeat(4000));
        let input = one_byte_chunks(100, &extension);
        let mut decoder = Decoder::new(Framing::Chunked);
        assert_eq!(decoder.decode(&input, &mut Vec::new()), Err(MALFORMED));
        let read = bytes_read_before_refusal(&input).expect("refused");
        let bound = (MAX_CHUNK_OVERHEAD as usize) + MAX_CHUNK_LINE;
        assert!(read <= bound, "read {read} bytes, more than {bound}");
        for step in [2, 7, 1000, 4096, 5000] {
            assert_eq!(decode_in_steps(&input, step), Err(MALFORMED), "step {step}");
        }
    }

    #[test]
    fn short_framing_overhead_builds_up_to_the_limit() {
        // Each line "1;eeeeeeeeeeee\r\n" (16 bytes) and the CRLF after its data make 18
        // bytes of framing: exactly the allowance of a one-byte chunk. One more byte of
        // extension leaves one byte of overhead per chunk, refused once past the limit.
        let at_allowance = format!(";{}", "e".repeat(12));
        let (body, _, done) = decode_in_steps(&one_byte_chunks(20_000, &at_allowance), 4096)
            .expect("within the allowance");
        assert_eq!((body.len(), done), (20_000, true));
        let over = format!(";{}", "e".repeat(13));
        let limit = MAX_CHUNK_OVERHEAD as usize;
        let (body, _, done) =
            decode_in_steps(&one_byte_chunks(limit, &over), 4096).expect("at the limit");
        assert_eq!((body.len(), done), (limit, true));
        let refused = decode_in_steps(&one_byte_chunks(limit + 1, &over), 4096);
        assert_eq!(refused, Err(MALFORMED));
    }

    #[test]
    fn data_pays_off_long_extensions() {
        let extension = "e".repeat(4000);
        let chunk = format!("1;{extension}\r\nx\r\n7d0\r\n{}\r\n", "d".repeat(2000));
        let mut input = chunk.repeat(50).into_bytes();
        input.extend_from_slice(b"0\r\n\r\n");
        let (body, consumed, done) = decode_in_steps(&input, 4096).expect("paid off");
        assert_eq!((body.len(), consumed, done), (50 * 2001, input.len(), true));
    }

    #[test]
    fn ordinary_bodies_stay_under_the_overhead_limit() {
        let mut large = String::new();
        for size in [1, 0x10, 0x100, 0x1000, 0x4000, 1, 2, 3] {
            large.push_str(&format!("{size:x};name=value\r\n{}\r\n", "a".repeat(size)));
        }
        large.push_str("0\r\n\r\n");
        let bodies = [
            (one_byte_chunks(100_000, ""), 100_000), // a byte per chunk, no extensions
            (one_byte_chunks(100_000, ";k=v"), 100_000),
            (large.into_bytes(), 0x5117),
        ];
        for (input, length) in bodies {
            for step in [1, 2, 3, 5, 64, 1000, 4096, input.len()] {
                let (body, consumed, done) = decode_in_steps(&input, step).unwrap();
                assert_eq!((body.len(), consumed, done), (length, input.len(), true));
            }
        }
    }

    #[test]
    fn length_body_stops_at_its_length() {
        let mut decoder = Decoder::new(Framing::Length(5));
        let mut body = Vec::new();
        let p = decoder.decode(b"hel", &mut body).unwrap();
        assert_eq!((p.consumed, p.done), (3, false));
        let p = decoder.decode(b"loGET", &mut body).unwrap();
        assert_eq!((p.consumed, p.done), (2, true));
        assert_eq!(body, b"hello");
    }
}
