//! The request reader (head parser, its limits, and the body decoders behind it) on
//! arbitrary bytes, fed whole and fed in the input's pieces.
//!
//! Checks, beyond "no crash":
//! - the pieces give exactly the events the whole gives (a head or body split anywhere
//!   parses the same);
//! - an accepted request is unambiguous: one `Host` on 1.1, framing fields consistent with
//!   the framing chosen, field names tokens, values free of CR, LF and NUL, the body within
//!   the inline limit;
//! - a refusal has one of the statuses the server refuses with;
//! - an accepted request, written out again canonically, reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nethttp::fuzzing::{BodyFraming, Event, Message, Reader};
use nethttp::http::Version;
use nethttp_fuzz::{is_token, Input};

fuzz_target!(|data: &[u8]| {
    let input = Input::new(data);
    let limits = input.limits();

    let mut whole = Reader::new(limits);
    whole.push(input.payload);
    let mut split = Reader::new(limits);
    for piece in input.pieces() {
        split.push(piece);
    }
    assert_eq!(whole.events(), split.events(), "split changed the events");
    assert_eq!(whole.ended(), split.ended());
    assert_eq!(whole.partial_body(), split.partial_body());

    for event in whole.events() {
        match event {
            Event::Request(m) => {
                check_message(m, limits.max_body_bytes);
                round_trip(m, limits);
            }
            Event::Refused(status) => assert!(
                [400, 413, 414, 417, 431, 501, 505].contains(status),
                "refused with {status}"
            ),
            Event::Abandoned => unreachable!("no request streams here"),
        }
    }
});

/// The invariants of an accepted request.
fn check_message(m: &Message, max_body: usize) {
    assert!(!m.method.is_empty() && m.method.bytes().all(is_token));
    assert!(!m.target.is_empty());
    assert!(
        m.target.bytes().all(|b| b > b' ' && b != 0x7f),
        "target {:?}",
        m.target
    );
    let count = |name: &str| {
        m.fields
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    };
    let values = |name: &'static str| {
        m.fields
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    };
    for (name, value) in &m.fields {
        assert!(
            !name.is_empty() && name.bytes().all(is_token),
            "name {name:?}"
        );
        assert!(
            !value.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0),
            "value {value:?}"
        );
    }
    match m.version {
        Version::HTTP_11 => assert_eq!(count("host"), 1, "Host on 1.1"),
        Version::HTTP_10 => assert!(count("host") <= 1),
        v => panic!("version {v:?}"),
    }
    let lengths: Vec<u64> = values("content-length")
        .map(|v| {
            assert!(
                !v.is_empty() && v.iter().all(u8::is_ascii_digit),
                "CL {v:?}"
            );
            std::str::from_utf8(v).unwrap().parse().unwrap()
        })
        .collect();
    match m.framing {
        BodyFraming::Empty => {
            assert_eq!(count("transfer-encoding"), 0);
            assert!(lengths.iter().all(|&n| n == 0));
            assert!(m.body.is_empty());
        }
        BodyFraming::Length(n) => {
            assert_eq!(count("transfer-encoding"), 0);
            assert!(!lengths.is_empty() && lengths.iter().all(|&l| l == n));
            assert_eq!(m.body.len() as u64, n);
        }
        BodyFraming::Chunked => {
            assert_eq!(m.version, Version::HTTP_11);
            assert!(lengths.is_empty());
            assert_eq!(count("transfer-encoding"), 1);
            let te = values("transfer-encoding").next().unwrap();
            assert!(
                te.trim_ascii().eq_ignore_ascii_case(b"chunked"),
                "TE {te:?}"
            );
        }
    }
    assert!(m.body.len() <= max_body);
    for (name, _) in &m.trailers {
        let forbidden = ["content-length", "transfer-encoding", "trailer", "host"];
        assert!(!forbidden.contains(&name.as_str()), "trailer {name}");
    }
    if m.expect_continue {
        assert!(m.framing != BodyFraming::Empty && m.version == Version::HTTP_11);
    }
}

/// Writes `m` out canonically (one chunk for a chunked body) and reads it back.
fn round_trip(m: &Message, limits: nethttp::fuzzing::Limits) {
    let minor = if m.version == Version::HTTP_10 { 0 } else { 1 };
    let mut raw = format!("{} {} HTTP/1.{minor}\r\n", m.method, m.target).into_bytes();
    for (name, value) in &m.fields {
        raw.extend_from_slice(name.as_bytes());
        raw.extend_from_slice(b": ");
        raw.extend_from_slice(value);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"\r\n");
    if m.framing == BodyFraming::Chunked {
        if !m.body.is_empty() {
            raw.extend_from_slice(format!("{:x}\r\n", m.body.len()).as_bytes());
            raw.extend_from_slice(&m.body);
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(b"0\r\n");
        for (name, value) in &m.trailers {
            raw.extend_from_slice(name.as_bytes());
            raw.extend_from_slice(b": ");
            raw.extend_from_slice(value);
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(b"\r\n");
    } else {
        raw.extend_from_slice(&m.body);
    }
    let mut again = Reader::new(limits);
    again.push(&raw);
    match again.events() {
        [Event::Request(back)] => assert_eq!(back, m, "round trip of {raw:?}"),
        // A head (or trailer section) that fitted with bare LFs and tight separators may
        // outgrow its limit when written with CRLF and `: `.
        [Event::Refused(431 | 414)] => {}
        other => panic!("round trip of {raw:?} gave {other:?}"),
    }
}
