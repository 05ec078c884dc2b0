//! A WebSocket session (RFC 6455) with a handler that echoes every message, fed the payload
//! as client frames in the input's pieces. Flags bits 0–1 pick its message limit (16 B,
//! 1 KiB, 64 KiB, 16 MiB).
//!
//! Checks:
//! - the pieces do not matter: fed whole, the session writes the same bytes and makes the
//!   same decision to close;
//! - what it writes is well-formed server frames: FIN set, never masked, opcodes text,
//!   binary, close or pong, control frames at most 125 bytes, text valid UTF-8;
//! - a close frame is the last thing written, and only a closing session writes one, with a
//!   code a server may send.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nethttp_fuzz::Input;

fuzz_target!(|data: &[u8]| {
    let input = Input::new(data);
    let limit = [16, 1024, 64 * 1024, 16 << 20][usize::from(input.flags & 3)];
    let pieces = input.pieces();
    let (out, closed) = nethttp::fuzzing::websocket_echo(&pieces, limit);
    let whole = nethttp::fuzzing::websocket_echo(&[input.payload], limit);
    assert_eq!(
        (&out, closed),
        (&whole.0, whole.1),
        "pieces changed the outcome"
    );
    check_frames(&out, closed);
});

/// The session's output, frame by frame.
fn check_frames(mut out: &[u8], closed: bool) {
    let mut saw_close = false;
    while !out.is_empty() {
        assert!(!saw_close, "a frame after the close frame");
        assert!(out.len() >= 2, "a cut frame header");
        let (first, second) = (out[0], out[1]);
        assert_eq!(first & 0xF0, 0x80, "FIN set, RSV clear: {first:#x}");
        assert_eq!(second & 0x80, 0, "a server frame is never masked");
        let (len, at) = match second & 0x7F {
            126 => (usize::from(u16::from_be_bytes([out[2], out[3]])), 4),
            127 => (
                usize::try_from(u64::from_be_bytes(out[2..10].try_into().unwrap())).unwrap(),
                10,
            ),
            n => (usize::from(n), 2),
        };
        let payload = &out[at..at + len];
        match first & 0x0F {
            0x1 => assert!(
                std::str::from_utf8(payload).is_ok(),
                "text that is not UTF-8"
            ),
            0x2 => {}
            0x8 => {
                saw_close = true;
                assert!(len <= 125);
                if len > 0 {
                    assert!(len >= 2, "a close frame of one byte");
                    let code = u16::from_be_bytes([payload[0], payload[1]]);
                    let valid = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
                    assert!(valid, "close code {code}");
                }
            }
            0xA => assert!(len <= 125),
            op => panic!("opcode {op:#x} from the server"),
        }
        out = &out[at + len..];
    }
    assert_eq!(
        saw_close, closed,
        "a close frame if and only if the session closed"
    );
}
