//! The PROXY protocol header parser (versions 1 and 2), fed the payload as the start of a
//! connection, in the input's pieces.
//!
//! Checks:
//! - no panic;
//! - the pieces do not matter: the first answer that is not "more bytes needed", as the
//!   pieces arrive one after another, is the answer for the whole payload;
//! - a complete header's length is within the payload, and the header alone reads the same;
//! - the addresses of a TCP header, written again as a version 1 line and as a version 2
//!   block, read back the same.
#![no_main]

use std::net::SocketAddr;

use libfuzzer_sys::fuzz_target;
use nethttp::fuzzing::proxy_header;
use nethttp_fuzz::Input;

fuzz_target!(|data: &[u8]| {
    let input = Input::new(data);
    let whole = proxy_header(input.payload);
    let mut arrived = Vec::new();
    for piece in input.pieces() {
        arrived.extend_from_slice(piece);
        let answer = proxy_header(&arrived);
        if answer != Ok(None) {
            assert_eq!(answer, whole, "pieces changed the outcome");
            break;
        }
    }
    let Ok(Some((addresses, n))) = whole else {
        return;
    };
    assert!(n <= input.payload.len(), "a header longer than the input");
    assert_eq!(proxy_header(&input.payload[..n]), whole);
    if let Some((source, destination)) = addresses {
        for again in [v1(source, destination), v2(source, destination)] {
            let read = proxy_header(&again);
            assert_eq!(read, Ok(Some((addresses, again.len()))), "{again:?}");
        }
    }
});

/// A version 1 line for a TCP connection (both addresses of one family).
fn v1(source: SocketAddr, destination: SocketAddr) -> Vec<u8> {
    let family = if source.is_ipv4() { "TCP4" } else { "TCP6" };
    let (s, d) = (source.ip(), destination.ip());
    let (sp, dp) = (source.port(), destination.port());
    format!("PROXY {family} {s} {d} {sp} {dp}\r\n").into_bytes()
}

/// A version 2 PROXY block for a TCP connection, without TLVs.
fn v2(source: SocketAddr, destination: SocketAddr) -> Vec<u8> {
    let mut out = b"\r\n\r\n\0\r\nQUIT\n\x21".to_vec();
    let (family, len) = if source.is_ipv4() {
        (0x11, 12u16)
    } else {
        (0x21, 36)
    };
    out.push(family);
    out.extend_from_slice(&len.to_be_bytes());
    for addr in [source, destination] {
        match addr {
            SocketAddr::V4(a) => out.extend_from_slice(&a.ip().octets()),
            SocketAddr::V6(a) => out.extend_from_slice(&a.ip().octets()),
        }
    }
    out.extend_from_slice(&source.port().to_be_bytes());
    out.extend_from_slice(&destination.port().to_be_bytes());
    out
}
