//! The multipart reader (`nethttp::Multipart`, behind `Request::multipart_reader` and
//! `parse_multipart_form`) on arbitrary bodies, with the boundary `b0undary`. The first
//! byte sets how many bytes each read of the body returns (1 to 32); the rest is the body.
//!
//! Checks, beyond "no crash" and "no hang":
//! - read a byte at a time, read whole, and read in the input's steps, the body gives the
//!   same parts (headers and content) and the same outcome;
//! - no part's content holds a delimiter (`CRLF--b0undary`, then a space, tab, CR, LF or
//!   `--`, as Go's `matchAfterPrefix` decides);
//! - the parts read, written out again as a multipart body, read back the same.
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use nethttp::fuzzing::Trickle;
use nethttp::Multipart;

const BOUNDARY: &str = "b0undary";

type Parts = Vec<(Vec<(String, String)>, Vec<u8>)>;

/// The parts of `body` read `step` bytes at a time, and whether it ended well.
fn read(body: &[u8], step: usize) -> (Parts, bool) {
    let mut reader = Multipart::new(Trickle::new(body, step), BOUNDARY);
    let mut parts = Vec::new();
    loop {
        match reader.next_part() {
            Ok(None) => return (parts, true),
            Err(_) => return (parts, false),
            Ok(Some(mut part)) => {
                let headers = part.headers().to_vec();
                let mut content = Vec::new();
                let ok = part.read_to_end(&mut content).is_ok();
                parts.push((headers, content));
                if !ok {
                    return (parts, false);
                }
            }
        }
    }
}

fn write(parts: &Parts) -> Vec<u8> {
    let mut body = Vec::new();
    for (headers, content) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        for (name, value) in headers {
            body.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let step = usize::from(first % 32) + 1;
    let whole = read(body, body.len().max(1));
    assert_eq!(read(body, 1), whole, "a byte at a time");
    assert_eq!(read(body, step), whole, "{step} bytes at a time");
    let (parts, ok) = whole;
    let delimiter = format!("\r\n--{BOUNDARY}");
    for (_, content) in &parts {
        let mut from = 0;
        while let Some(at) = find(&content[from..], delimiter.as_bytes()) {
            // Go's `matchAfterPrefix`: these bytes after it make a delimiter.
            let after = &content[from + at + delimiter.len()..];
            let ends = matches!(after, [b' ' | b'\t' | b'\r' | b'\n', ..] | [b'-', b'-', ..]);
            assert!(!ends, "a delimiter in content");
            from += at + 1;
        }
    }
    // A body with bare LFs may hold `CRLF--b0undary CRLF` as content, which a body written
    // with CRLFs cannot: only those parts are written out again.
    let crlf_safe = parts
        .iter()
        .all(|(_, content)| find(content, delimiter.as_bytes()).is_none());
    if ok && crlf_safe {
        let again = read(&write(&parts), 64);
        assert_eq!(
            again,
            (parts, true),
            "written out again, the parts read back the same"
        );
    }
});

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
