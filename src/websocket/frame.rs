//! WebSocket frames (RFC 6455 §5): reading a client frame's header, unmasking its payload,
//! and writing the server's unmasked frames. Pure functions over bytes, tested below and
//! by the `websocket` fuzz target.

/// What a frame carries (§5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opcode {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

impl Opcode {
    fn from_bits(bits: u8) -> Option<Opcode> {
        Some(match bits {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return None,
        })
    }

    fn bits(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }

    /// Close, ping and pong: at most 125 bytes, never fragmented.
    pub(crate) fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// A client frame's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) fin: bool,
    pub(crate) opcode: Opcode,
    pub(crate) mask: [u8; 4],
    pub(crate) len: u64,
}

/// A frame no server may accept: the connection fails with close code 1002.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Violation {
    /// RSV1–3 set, with no extension negotiated.
    Reserved,
    /// An opcode RFC 6455 does not define.
    UnknownOpcode,
    /// A control frame that is fragmented or longer than 125 bytes.
    BadControl,
    /// A client frame without a mask (§5.1).
    Unmasked,
    /// A 64-bit length with its most significant bit set.
    Length,
}

/// The largest payload a control frame may carry.
pub(crate) const MAX_CONTROL: u64 = 125;

/// Reads a client frame's header from the start of `buf`: the header and its length in
/// bytes, `None` if more bytes are needed, or the rule it breaks.
pub(crate) fn parse_header(buf: &[u8]) -> Result<Option<(Header, usize)>, Violation> {
    let [first, second, ..] = *buf else {
        return Ok(None);
    };
    if first & 0x70 != 0 {
        return Err(Violation::Reserved);
    }
    let opcode = Opcode::from_bits(first & 0x0F).ok_or(Violation::UnknownOpcode)?;
    let fin = first & 0x80 != 0;
    if second & 0x80 == 0 {
        return Err(Violation::Unmasked);
    }
    let (len, at) = match second & 0x7F {
        126 => match buf.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10) {
            Some(b) => (u64::from_be_bytes(b.try_into().expect("8 bytes")), 10),
            None => return Ok(None),
        },
        short => (u64::from(short), 2),
    };
    if len >> 63 != 0 {
        return Err(Violation::Length);
    }
    if opcode.is_control() && (!fin || len > MAX_CONTROL) {
        return Err(Violation::BadControl);
    }
    let Some(mask) = buf.get(at..at + 4) else {
        return Ok(None);
    };
    let mask = mask.try_into().expect("4 bytes");
    Ok(Some((
        Header {
            fin,
            opcode,
            mask,
            len,
        },
        at + 4,
    )))
}

/// Unmasks `bytes`, which start `offset` bytes into their frame's payload.
pub(crate) fn unmask(bytes: &mut [u8], mask: [u8; 4], offset: u64) {
    let start = (offset % 4) as usize;
    for (i, b) in bytes.iter_mut().enumerate() {
        *b ^= mask[(start + i) % 4];
    }
}

/// Appends one whole, unmasked server frame (FIN set) to `out`.
pub(crate) fn write(out: &mut Vec<u8>, opcode: Opcode, payload: &[u8]) {
    out.push(0x80 | opcode.bits());
    let len = payload.len();
    if len < 126 {
        out.push(len as u8);
    } else if let Ok(short) = u16::try_from(len) {
        out.push(126);
        out.extend_from_slice(&short.to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(payload);
}

/// The bytes a frame of `len` payload bytes takes, header included.
pub(crate) fn framed_len(len: usize) -> usize {
    len + match len {
        0..=125 => 2,
        126..=65535 => 4,
        _ => 10,
    }
}

/// Whether `code` may travel in a close frame (§7.4: 1000–1003, 1007–1014 are defined
/// for the protocol; 3000–4999 for applications; 1004–1006 and 1015 never go on the wire).
pub(crate) fn valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame, as a browser would send it.
    fn client_frame(first: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
        let mut out = Vec::new();
        write(&mut out, Opcode::Binary, payload);
        out[0] = first;
        out[1] |= 0x80;
        let at = out.len() - payload.len();
        out.splice(at..at, mask);
        unmask(&mut out[at + 4..], mask, 0);
        out
    }

    #[test]
    fn headers_of_each_length_encoding_are_read() {
        for len in [0usize, 1, 125, 126, 65535, 65536, 70000] {
            let payload = vec![7u8; len];
            let frame = client_frame(0x82, &payload, [1, 2, 3, 4]);
            let (header, at) = parse_header(&frame).unwrap().unwrap();
            assert_eq!(header.len, len as u64);
            assert_eq!(header.opcode, Opcode::Binary);
            assert!(header.fin);
            let mut body = frame[at..].to_vec();
            unmask(&mut body, header.mask, 0);
            assert_eq!(body, payload);
            for cut in 0..at {
                assert_eq!(parse_header(&frame[..cut]), Ok(None), "len {len} cut {cut}");
            }
        }
    }

    #[test]
    fn rule_breakers_are_named() {
        let mask = [9, 9, 9, 9];
        assert_eq!(
            parse_header(&client_frame(0xC2, b"x", mask)),
            Err(Violation::Reserved)
        );
        assert_eq!(
            parse_header(&client_frame(0x83, b"x", mask)),
            Err(Violation::UnknownOpcode)
        );
        assert_eq!(
            parse_header(&client_frame(0x09, b"x", mask)),
            Err(Violation::BadControl)
        );
        let long_ping = client_frame(0x89, &[0; 126], mask);
        assert_eq!(parse_header(&long_ping), Err(Violation::BadControl));
        assert_eq!(parse_header(b"\x81\x05hello"), Err(Violation::Unmasked));
        let huge = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
        assert_eq!(parse_header(&huge), Err(Violation::Length));
    }

    #[test]
    fn unmasking_continues_across_pieces() {
        let mask = [0xA, 0xB, 0xC, 0xD];
        let mut whole = *b"split across pieces";
        unmask(&mut whole, mask, 0);
        let mut pieces = whole;
        let (a, b) = pieces.split_at_mut(7);
        unmask(a, mask, 0);
        unmask(b, mask, 7);
        assert_eq!(&pieces, b"split across pieces");
    }

    #[test]
    fn server_frames_are_unmasked_with_the_shortest_length() {
        let mut out = Vec::new();
        write(&mut out, Opcode::Text, b"hi");
        assert_eq!(out, b"\x81\x02hi");
        for len in [125, 126, 65535, 65536] {
            let mut out = Vec::new();
            write(&mut out, Opcode::Binary, &vec![0; len]);
            assert_eq!(out.len(), framed_len(len));
        }
    }

    #[test]
    fn close_codes() {
        assert!(valid_close_code(1000) && valid_close_code(1011) && valid_close_code(4999));
        assert!(!valid_close_code(1005) && !valid_close_code(1006) && !valid_close_code(999));
        assert!(!valid_close_code(1015) && !valid_close_code(2000) && !valid_close_code(5000));
    }
}
