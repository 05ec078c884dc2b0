//! The session as a whole, without a socket: messages framed as a client would frame them
//! (any fragmentation, any mask, pings between fragments), delivered in any pieces, come
//! back exactly, in order, with a pong for every ping.

use proptest::prelude::*;

use super::frame::{self, Opcode};
use crate::fuzzing::websocket_echo;

/// A client frame: `first` byte (FIN and opcode), masked with `mask`.
fn client_frame(out: &mut Vec<u8>, first: u8, payload: &[u8], mask: [u8; 4]) {
    let mut server = Vec::new();
    frame::write(&mut server, Opcode::Binary, payload);
    let header = server.len() - payload.len();
    out.push(first);
    out.push(server[1] | 0x80);
    out.extend_from_slice(&server[2..header]);
    out.extend_from_slice(&mask);
    let start = out.len();
    out.extend_from_slice(payload);
    frame::unmask(&mut out[start..], mask, 0);
}

/// A message the client sends: text or binary, its bytes, where it is cut into
/// fragments, and whether a ping goes between its first two fragments (or after it, if it
/// is one frame).
#[derive(Debug, Clone)]
struct Sent {
    text: bool,
    bytes: Vec<u8>,
    cuts: Vec<usize>,
    ping: Option<Vec<u8>>,
    mask: [u8; 4],
}

fn sent() -> impl Strategy<Value = Sent> {
    (
        any::<bool>(),
        prop::collection::vec(any::<u8>(), 0..400),
        prop::collection::vec(0usize..400, 0..4),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..125)),
        any::<[u8; 4]>(),
    )
        .prop_map(|(text, bytes, cuts, ping, mask)| {
            // Text must be UTF-8: keep ASCII only.
            let bytes = if text {
                bytes.iter().map(|b| b % 95 + 32).collect()
            } else {
                bytes
            };
            Sent {
                text,
                bytes,
                cuts,
                ping,
                mask,
            }
        })
}

/// The client's bytes for `messages`, and the server's expected answer.
fn exchange(messages: &[Sent]) -> (Vec<u8>, Vec<u8>) {
    let (mut wire, mut answer) = (Vec::new(), Vec::new());
    for m in messages {
        let mut cuts: Vec<usize> = m.cuts.iter().map(|&c| c.min(m.bytes.len())).collect();
        cuts.sort_unstable();
        cuts.dedup();
        let mut pieces = Vec::new();
        let mut at = 0;
        for cut in cuts {
            pieces.push(&m.bytes[at..cut]);
            at = cut;
        }
        pieces.push(&m.bytes[at..]);
        for (i, piece) in pieces.iter().enumerate() {
            let opcode = match (i, m.text) {
                (0, true) => 0x1,
                (0, false) => 0x2,
                _ => 0x0,
            };
            let fin = if i == pieces.len() - 1 { 0x80 } else { 0 };
            client_frame(&mut wire, fin | opcode, piece, m.mask);
            if i == 0 && pieces.len() > 1 {
                if let Some(ping) = &m.ping {
                    client_frame(&mut wire, 0x89, ping, m.mask);
                    frame::write(&mut answer, Opcode::Pong, ping);
                }
            }
        }
        let opcode = if m.text { Opcode::Text } else { Opcode::Binary };
        frame::write(&mut answer, opcode, &m.bytes);
        if let (Some(ping), 1) = (&m.ping, pieces.len()) {
            client_frame(&mut wire, 0x89, ping, m.mask); // after a one-frame message
            frame::write(&mut answer, Opcode::Pong, ping);
        }
    }
    (wire, answer)
}

proptest! {
    #[test]
    fn messages_come_back_whatever_their_framing_and_pieces(
        messages in prop::collection::vec(sent(), 1..6),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let (wire, answer) = exchange(&messages);
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
        cuts.sort_unstable();
        let mut pieces = Vec::new();
        let mut at = 0;
        for cut in cuts {
            pieces.push(&wire[at..cut]);
            at = cut;
        }
        pieces.push(&wire[at..]);
        let (out, closed) = websocket_echo(&pieces, 1 << 20);
        prop_assert!(!closed);
        prop_assert_eq!(out, answer);
    }
}

#[test]
fn a_byte_at_a_time_is_the_same_as_all_at_once() {
    let messages = [Sent {
        text: true,
        bytes: b"hello, websocket".to_vec(),
        cuts: vec![3, 9],
        ping: Some(b"p".to_vec()),
        mask: [1, 2, 3, 4],
    }];
    let (wire, answer) = exchange(&messages);
    let bytes: Vec<&[u8]> = wire.chunks(1).collect();
    assert_eq!(websocket_echo(&bytes, 1024), (answer.clone(), false));
    assert_eq!(websocket_echo(&[&wire], 1024), (answer, false));
}

#[test]
fn a_message_over_the_limit_closes_with_1009_before_its_payload() {
    let mut wire = Vec::new();
    client_frame(&mut wire, 0x82, &[0; 100], [0; 4]);
    let (out, closed) = websocket_echo(&[&wire[..8]], 99); // the header alone
    assert!(closed);
    assert_eq!(
        (out[0], &out[2..4]),
        (0x88, &1009u16.to_be_bytes()[..]),
        "{out:?}"
    );
}
