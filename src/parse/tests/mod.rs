//! Unit tests of `parse.rs`: finding the end of a head, parsing good heads, and every
//! refusal with its exact [`Reject`]. This module holds the helpers the three share.

mod find_end;
mod heads;
mod refusals;

use super::*;

fn peer() -> SocketAddr {
    "127.0.0.1:40000".parse().unwrap()
}

/// Parses `raw`, which must be a complete head.
fn ok(raw: &[u8]) -> Head {
    match parse(raw, peer()) {
        Ok(head) => head,
        Err(reject) => panic!("{:?} refused: {reject:?}", String::from_utf8_lossy(raw)),
    }
}

/// The refusal of `raw`, which must be refused.
fn refused(raw: &[u8]) -> Reject {
    match parse(raw, peer()) {
        Ok(head) => panic!("{:?} accepted: {head:?}", String::from_utf8_lossy(raw)),
        Err(reject) => reject,
    }
}

/// A GET head on HTTP/1.1 with `Host: x` and the extra header lines `lines`.
fn get_with(lines: &str) -> Vec<u8> {
    format!("GET / HTTP/1.1\r\nHost: x\r\n{lines}\r\n").into_bytes()
}

/// A POST head on HTTP/1.1 with `Host: x` and the extra header lines `lines`.
fn post_with(lines: &str) -> Vec<u8> {
    format!("POST / HTTP/1.1\r\nHost: x\r\n{lines}\r\n").into_bytes()
}
