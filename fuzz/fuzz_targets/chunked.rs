//! The chunked request-body decoder, and the response chunk encoder feeding it.
//!
//! Flags bit 2 clear: the payload is a chunked body (or garbage). Checks: the input's
//! pieces, fed as a connection feeds them (unconsumed bytes kept for the next call), give
//! the same body, end, error and trailers as the whole, and so do they where, as a
//! connection does, a piece's chunk data is taken straight into the body (`raw_left`,
//! `took`) whenever nothing waits to be decoded; the decoder never consumes more
//! than it was given nor yields more body than it consumed; when it reports the end, a
//! plain independent reading of the consumed bytes finds the same body and the same end
//! (where the body ends is what request smuggling disputes), and framing within Go's
//! overhead bound.
//!
//! Flags bit 2 set: the payload is a response body, written and flushed in the input's
//! pieces through the server's response encoder; decoding its chunked body gives the
//! payload back, exactly.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use nethttp::bench::Responder;
use nethttp::fuzzing::ChunkedDecoder;
use nethttp_fuzz::Input;

fuzz_target!(|data: &[u8]| {
    let input = Input::new(data);
    if input.flags & 4 == 0 {
        decode(&input);
    } else {
        encode_decode(&input);
    }
});

/// What decoding a whole input came to.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    body: Vec<u8>,
    consumed: usize,
    done: bool,
    error: Option<u16>,
    trailers: Option<Result<Vec<(String, Vec<u8>)>, u16>>,
}

/// Feeds `pieces` the way a connection does: what the decoder leaves unconsumed is
/// offered again with the next piece. `raw`: as a connection reading straight into the
/// body does, where nothing waits to be decoded and only chunk data comes next, that much
/// of the piece is taken as it is (`raw_left`, `took`), and the rest decoded.
fn feed(pieces: &[&[u8]], raw: bool) -> Outcome {
    let mut decoder = ChunkedDecoder::default();
    let (mut body, mut pending) = (Vec::new(), Vec::new());
    let (mut consumed, mut done, mut error) = (0, false, None);
    for piece in pieces {
        let mut piece: &[u8] = piece;
        if raw && pending.is_empty() {
            let left = decoder.raw_left();
            let n = usize::try_from(left).map_or(piece.len(), |n| n.min(piece.len()));
            body.extend_from_slice(&piece[..n]);
            let progress = decoder.took(n as u64);
            assert_eq!((progress.consumed, progress.done), (n, false));
            consumed += n;
            piece = &piece[n..];
        }
        pending.extend_from_slice(piece);
        match decoder.decode(&pending, &mut body) {
            Ok(progress) => {
                assert!(progress.consumed <= pending.len());
                pending.drain(..progress.consumed);
                consumed += progress.consumed;
                if progress.done {
                    done = true;
                    break;
                }
            }
            Err(status) => {
                assert!([400, 431].contains(&status), "status {status}");
                error = Some(status);
                consumed = 0; // a refused body consumes nothing: the connection ends
                break;
            }
        }
    }
    let trailers = done.then(|| decoder.trailers());
    Outcome {
        body,
        consumed,
        done,
        error,
        trailers,
    }
}

fn decode(input: &Input) {
    let whole = feed(&[input.payload], false);
    let split = feed(&input.pieces(), false);
    assert_eq!(whole, split, "split changed the outcome");
    let raw = feed(&input.pieces(), true);
    assert_eq!(raw, split, "data taken raw changed the outcome");
    assert!(whole.consumed <= input.payload.len());
    if whole.error.is_none() {
        assert!(whole.body.len() <= whole.consumed);
    }
    if whole.done {
        let Some((body, end)) = plain_reading(&input.payload[..whole.consumed]) else {
            panic!("accepted a body with more framing overhead than Go allows");
        };
        assert_eq!(body, whole.body, "body differs from a plain reading");
        assert_eq!(end, whole.consumed, "end differs from a plain reading");
    }
}

/// Go's bound on chunk framing (`chunkedReader.excess`, CVE-2023-39326): each size line
/// with its CRLF, plus two bytes for the CRLF after the data, is overhead; each chunk pays
/// off 16 bytes of it, and two more per data byte, never going below zero; past 16 KiB the
/// body is refused.
const OVERHEAD_PER_CHUNK: usize = 16;
const OVERHEAD_PER_DATA_BYTE: usize = 2;
const MAX_OVERHEAD: usize = 16 * 1024;

/// A plain reading of a complete, valid chunked body: size lines (hex digits, then
/// anything up to CRLF), data, CRLF; after the zero chunk, trailer lines up to an empty
/// one. Returns the body and where it ends, or `None` if Go would refuse the body for its
/// framing overhead.
fn plain_reading(bytes: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut pos = 0;
    let mut body = Vec::new();
    let mut overhead = 0usize;
    let line = |pos: &mut usize| -> &[u8] {
        let len = bytes[*pos..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a CRLF-terminated line");
        let line = &bytes[*pos..*pos + len];
        *pos += len + 2;
        line
    };
    loop {
        let size_line = line(&mut pos);
        let digits = size_line
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        let hex = std::str::from_utf8(&size_line[..digits]).unwrap();
        let size = usize::from_str_radix(hex, 16).expect("a chunk size");
        let allowance =
            OVERHEAD_PER_CHUNK.saturating_add(size.saturating_mul(OVERHEAD_PER_DATA_BYTE));
        // The line came without its CRLF: two bytes for that, two for the CRLF after the data.
        overhead = (overhead + size_line.len() + 4).saturating_sub(allowance);
        if overhead > MAX_OVERHEAD {
            return None;
        }
        if size == 0 {
            while !line(&mut pos).is_empty() {}
            return Some((body, pos));
        }
        body.extend_from_slice(&bytes[pos..pos + size]);
        pos += size;
        assert_eq!(&bytes[pos..pos + 2], b"\r\n");
        pos += 2;
    }
}

fn encode_decode(input: &Input) {
    let mut out = Vec::new();
    Responder::default().respond(&mut out, |w| {
        for piece in input.pieces() {
            w.write_all(piece).unwrap();
            w.flush().unwrap();
        }
    });
    let start = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head")
        + 4;
    let head = String::from_utf8_lossy(&out[..start]);
    assert!(head.contains("Transfer-Encoding: chunked\r\n"), "{head}");
    let wire = &out[start..];
    let outcome = feed(&[wire], false);
    assert_eq!(outcome.error, None);
    assert!(outcome.done);
    assert_eq!(outcome.consumed, wire.len());
    assert_eq!(outcome.body, input.payload);
    assert_eq!(outcome.trailers, Some(Ok(Vec::new())));
}
