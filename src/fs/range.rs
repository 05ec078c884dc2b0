//! The `Range` header (RFC 9110 §14): parsing `bytes=` ranges against a size, and the
//! layout of a `multipart/byteranges` body for several ranges. `content.rs` decides
//! whether to honour the header (after `conditional.rs` has looked at `If-Range`) and
//! sends the bytes.

use std::hash::{BuildHasher, Hasher};

/// One satisfiable byte range: `length` bytes from `start`; both lie within the size the
/// range was parsed against, and `length` is at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ByteRange {
    pub(super) start: u64,
    pub(super) length: u64,
}

/// Why a `Range` header cannot be honoured; both are answered with 416.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BadRange {
    /// Not `bytes=` followed by well-formed ranges.
    Syntax,
    /// Well formed, but every range starts at or after the end.
    NoOverlap,
}

impl BadRange {
    /// The 416 body, as Go words it.
    pub(super) fn message(self) -> &'static str {
        match self {
            BadRange::Syntax => "invalid range",
            BadRange::NoOverlap => "invalid range: failed to overlap",
        }
    }
}

impl ByteRange {
    /// The `Content-Range` value for this range of a representation of `size` bytes.
    pub(super) fn content_range(&self, size: u64) -> String {
        format!(
            "bytes {}-{}/{size}",
            self.start,
            self.start + self.length - 1
        )
    }
}

/// Parses a `Range` value against content of `size` bytes, as Go's `parseRange`: ranges
/// that start past the end are dropped (all dropped: [`BadRange::NoOverlap`]), ends past
/// the end are clipped, `-N` is the last `N` bytes. Empty list elements are skipped.
pub(super) fn parse(header: &str, size: u64) -> Result<Vec<ByteRange>, BadRange> {
    let specs = header.strip_prefix("bytes=").ok_or(BadRange::Syntax)?;
    let mut ranges = Vec::new();
    let mut dropped = false;
    for spec in specs.split(',') {
        let spec = spec.trim_matches([' ', '\t']);
        if spec.is_empty() {
            continue;
        }
        let (first, last) = spec.split_once('-').ok_or(BadRange::Syntax)?;
        let (first, last) = (
            first.trim_matches([' ', '\t']),
            last.trim_matches([' ', '\t']),
        );
        if first.is_empty() {
            // A suffix: the last `last` bytes.
            let n = number(last)?.min(size);
            if n == 0 {
                // `-0` asks for no bytes at all: unsatisfiable (RFC 9110 §14.1.1).
                dropped = true;
                continue;
            }
            ranges.push(ByteRange {
                start: size - n,
                length: n,
            });
            continue;
        }
        let start = number(first)?;
        if start >= size {
            dropped = true;
            continue;
        }
        let end = match last {
            "" => size - 1,
            last => {
                let end = number(last)?;
                if end < start {
                    return Err(BadRange::Syntax);
                }
                end.min(size - 1)
            }
        };
        ranges.push(ByteRange {
            start,
            length: end - start + 1,
        });
    }
    if dropped && ranges.is_empty() {
        return Err(BadRange::NoOverlap);
    }
    Ok(ranges)
}

/// A decimal of digits only (no sign, no spaces), as RFC 9110's `1*DIGIT`.
fn number(text: &str) -> Result<u64, BadRange> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(BadRange::Syntax);
    }
    text.parse().map_err(|_| BadRange::Syntax)
}

/// The sum of the ranges' lengths. Go ignores a `Range` whose ranges add up to more than
/// the content (a client asking for the same bytes over and over).
pub(super) fn total(ranges: &[ByteRange]) -> u64 {
    ranges.iter().map(|r| r.length).sum()
}

/// A `multipart/byteranges` body laid out ahead of time, so its `Content-Length` is known
/// before the first byte is sent: each range's part head, then its bytes, then the close.
#[derive(Debug)]
pub(super) struct Multipart {
    /// The response's `Content-Type`, naming the boundary.
    pub(super) content_type: String,
    /// Each range with the text that goes before its bytes (delimiter and part headers).
    pub(super) parts: Vec<(String, ByteRange)>,
    /// The closing delimiter, after the last part.
    pub(super) closing: String,
}

impl Multipart {
    /// Lays out `ranges` of content of `size` bytes whose own type is `part_type` (which
    /// each part names; empty: none named).
    pub(super) fn new(ranges: &[ByteRange], part_type: &str, size: u64) -> Multipart {
        let boundary = boundary();
        let parts = ranges
            .iter()
            .enumerate()
            .map(|(i, range)| {
                let mut head = String::new();
                if i > 0 {
                    head.push_str("\r\n"); // the CRLF before a delimiter belongs to it
                }
                head.push_str(&format!("--{boundary}\r\n"));
                head.push_str(&format!("Content-Range: {}\r\n", range.content_range(size)));
                if !part_type.is_empty() {
                    head.push_str(&format!("Content-Type: {part_type}\r\n"));
                }
                head.push_str("\r\n");
                (head, *range)
            })
            .collect();
        Multipart {
            content_type: format!("multipart/byteranges; boundary={boundary}"),
            parts,
            closing: format!("\r\n--{boundary}--\r\n"),
        }
    }

    /// The length of the whole body.
    pub(super) fn len(&self) -> u64 {
        let parts: u64 = self
            .parts
            .iter()
            .map(|(head, range)| head.len() as u64 + range.length)
            .sum();
        parts + self.closing.len() as u64
    }
}

/// A fresh boundary of 32 hex digits. It only has to be unlikely to occur in the content:
/// the standard library's randomly keyed hasher supplies the randomness.
fn boundary() -> String {
    let state = std::collections::hash_map::RandomState::new();
    let mut text = String::with_capacity(32);
    for half in 0..2u8 {
        let mut hasher = state.build_hasher();
        hasher.write_u8(half);
        text.push_str(&format!("{:016x}", hasher.finish()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: u64, length: u64) -> ByteRange {
        ByteRange { start, length }
    }

    #[test]
    fn parses_like_go() {
        assert_eq!(parse("bytes=2-4", 10), Ok(vec![r(2, 3)]));
        assert_eq!(parse("bytes=-3", 10), Ok(vec![r(7, 3)]));
        assert_eq!(parse("bytes=-30", 10), Ok(vec![r(0, 10)]));
        assert_eq!(parse("bytes=7-", 10), Ok(vec![r(7, 3)]));
        assert_eq!(parse("bytes=5-100", 10), Ok(vec![r(5, 5)]));
        assert_eq!(parse("bytes=0-0, 2-3,", 10), Ok(vec![r(0, 1), r(2, 2)]));
        assert_eq!(parse("bytes= 1 - 2 ", 10), Ok(vec![r(1, 2)]));
        assert_eq!(parse("bytes=10-, 4-5", 10), Ok(vec![r(4, 2)]));
    }

    #[test]
    fn refuses_bad_syntax() {
        for bad in [
            "bits=1-2",
            "bytes=5-2",
            "bytes=x-2",
            "bytes=1",
            "bytes=--3",
            "bytes=-",
            "bytes=+1-2",
            "bytes=1-2-3",
        ] {
            assert_eq!(parse(bad, 10), Err(BadRange::Syntax), "{bad}");
        }
    }

    #[test]
    fn ranges_past_the_end_do_not_overlap() {
        assert_eq!(parse("bytes=10-", 10), Err(BadRange::NoOverlap));
        assert_eq!(parse("bytes=20-30, 10-11", 10), Err(BadRange::NoOverlap));
        assert_eq!(parse("bytes=0-", 0), Err(BadRange::NoOverlap));
        assert_eq!(parse("bytes=", 10), Ok(vec![]));
    }

    #[test]
    fn content_range_names_the_last_byte() {
        assert_eq!(r(2, 3).content_range(10), "bytes 2-4/10");
    }

    #[test]
    fn multipart_length_matches_its_text() {
        let m = Multipart::new(&[r(0, 2), r(5, 3)], "text/plain; charset=utf-8", 10);
        let boundary = m.content_type.rsplit('=').next().unwrap().to_string();
        assert_eq!(boundary.len(), 32);
        let mut text = String::new();
        for (head, range) in &m.parts {
            text.push_str(head);
            text.push_str(&"x".repeat(range.length as usize));
        }
        text.push_str(&m.closing);
        assert_eq!(m.len(), text.len() as u64);
        assert!(text.starts_with(&format!(
            "--{boundary}\r\nContent-Range: bytes 0-1/10\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nxx\r\n--{boundary}\r\n"
        )));
        assert!(text.ends_with(&format!("xxx\r\n--{boundary}--\r\n")));
    }
}
