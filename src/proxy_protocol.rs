//! The PROXY protocol header (HAProxy's `proxy-protocol.txt`, versions 1 and 2): the line
//! or binary block a load balancer (HAProxy `send-proxy` / `send-proxy-v2`, nginx
//! `proxy_protocol on`) sends first on a connection to name the client it relays.
//!
//! A listener that opted in reads one from the start of each accepted connection, before any
//! HTTP; [`parse`] is that reading, without I/O. It follows the specification strictly and
//! refuses whatever it does not allow: the header names the client every log line and access
//! rule will trust, so a header read two ways is worse than a connection closed.
//!
//! Version 1 is one US-ASCII line:
//!
//! ```text
//! PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n
//! ```
//!
//! Version 2 is a 16-byte block (signature, version and command, family and protocol, the
//! length of what follows), then the addresses, then type-length-value fields.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// What a PROXY header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proxied {
    /// The connection was proxied from `source` to `destination` (TCP over IPv4 or IPv6).
    Tcp {
        /// The client, as the proxy saw it.
        source: SocketAddr,
        /// The address the client connected to on the proxy.
        destination: SocketAddr,
    },
    /// The balancer's own connection (v2 LOCAL command, e.g. health checks) or an
    /// unknown/unsupported protocol (v1 `UNKNOWN`, v2 AF_UNSPEC / AF_UNIX / UDP): use the
    /// real peer address.
    Local,
}

/// Why a header is refused: the connection is to be closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProxyError {
    /// The bytes start with neither signature (`PROXY` nor the 12-byte binary one).
    NotProxy,
    /// A version 1 line that breaks the grammar; says what.
    BadV1(&'static str),
    /// A version 2 block that breaks the format; says what.
    BadV2(&'static str),
    /// A version 1 line with no CRLF within [`V1_MAX`] bytes, or a version 2 header longer
    /// than [`V2_MAX`].
    TooLong,
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyError::NotProxy => f.write_str("not a PROXY protocol header"),
            ProxyError::BadV1(what) => write!(f, "bad PROXY v1 header: {what}"),
            ProxyError::BadV2(what) => write!(f, "bad PROXY v2 header: {what}"),
            ProxyError::TooLong => f.write_str("PROXY header too long"),
        }
    }
}

/// What [`parse`] returns: the header and its length once complete, `None` while more
/// bytes are needed.
type Parsed = Result<Option<(Proxied, usize)>, ProxyError>;

/// The version 1 signature.
const V1_SIGNATURE: &[u8] = b"PROXY";

/// Longest version 1 line, CRLF included: the specification's worst case,
/// `PROXY UNKNOWN` with two full IPv6 addresses and two five-digit ports.
pub(crate) const V1_MAX: usize = 107;

/// The version 2 signature.
const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";

/// Signature, version and command, family and protocol, length.
const V2_FIXED: usize = 16;

/// Longest version 2 header accepted, fixed part included. The format allows 16 + 65535
/// bytes, but the specification designs the header to fit one minimal TCP segment (536
/// bytes) and senders stay near that: HAProxy's addresses plus its TLVs (ALPN, authority,
/// a unique ID of at most 128 bytes, TLS facts) come to a few hundred bytes, a cloud
/// balancer's endpoint ID less. A cap keeps a client that claims 64 KiB from holding a
/// connection's buffer for a header no balancer sends.
pub(crate) const V2_MAX: usize = 4096;

/// The TLV type of a CRC32c of the whole header.
const PP2_TYPE_CRC32C: u8 = 0x03;

/// Reads a PROXY header from the start of `buf`: `Ok(Some((header, length_in_bytes)))` when
/// complete, `Ok(None)` when more bytes are needed (a prefix of a valid header), `Err` when
/// it cannot be a valid header.
///
/// The bytes after the header (the HTTP request) are not looked at. The outcome depends
/// only on the bytes, not on how they arrived: once a buffer gives `Some` or `Err`, every
/// longer buffer starting with it gives the same.
pub(crate) fn parse(buf: &[u8]) -> Result<Option<(Proxied, usize)>, ProxyError> {
    if buf.starts_with(V1_SIGNATURE) {
        v1(buf)
    } else if buf.starts_with(V2_SIGNATURE) {
        v2(buf)
    } else if V1_SIGNATURE.starts_with(buf) || V2_SIGNATURE.starts_with(buf) {
        Ok(None)
    } else {
        Err(ProxyError::NotProxy)
    }
}

/// A version 1 header: the line up to the first CR, which must come with its LF within
/// [`V1_MAX`] bytes. A lone LF, or a CR followed by anything else, ends it wrongly (the
/// specification forbids either alone as a line end).
fn v1(buf: &[u8]) -> Parsed {
    // The CR is at most the 106th byte, so its LF is at most the 107th.
    let window = &buf[..buf.len().min(V1_MAX - 1)];
    let Some(end) = window.iter().position(|&b| b == b'\r' || b == b'\n') else {
        return if buf.len() >= V1_MAX - 1 {
            Err(ProxyError::TooLong)
        } else {
            Ok(None)
        };
    };
    if window[end] == b'\n' {
        return Err(ProxyError::BadV1("LF without CR"));
    }
    match buf.get(end + 1) {
        None => Ok(None),
        Some(b'\n') => v1_line(&buf[..end]).map(|header| Some((header, end + 2))),
        Some(_) => Err(ProxyError::BadV1("CR without LF")),
    }
}

/// A version 1 line without its CRLF: `PROXY TCP4|TCP6 src dst srcport dstport`, single
/// spaces, or `PROXY UNKNOWN` followed by nothing or by a space and anything.
fn v1_line(line: &[u8]) -> Result<Proxied, ProxyError> {
    let Some(rest) = line.strip_prefix(b"PROXY ") else {
        return Err(ProxyError::BadV1("no space after PROXY"));
    };
    if rest == b"UNKNOWN" || rest.starts_with(b"UNKNOWN ") {
        return Ok(Proxied::Local);
    }
    let mut fields = rest.split(|&b| b == b' ');
    let (Some(protocol), Some(src), Some(dst), Some(src_port), Some(dst_port), None) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return Err(ProxyError::BadV1("not five fields after PROXY"));
    };
    let (source, destination) = match protocol {
        b"TCP4" => (ipv4(src)?.into(), ipv4(dst)?.into()),
        b"TCP6" => (ipv6(src)?.into(), ipv6(dst)?.into()),
        _ => return Err(ProxyError::BadV1("protocol not TCP4, TCP6 or UNKNOWN")),
    };
    Ok(Proxied::Tcp {
        source: SocketAddr::new(source, port(src_port)?),
        destination: SocketAddr::new(destination, port(dst_port)?),
    })
}

/// A dotted quad: four decimal numbers 0–255 without leading zeros (the standard library's
/// parser refuses those, as the specification does).
fn ipv4(text: &[u8]) -> Result<Ipv4Addr, ProxyError> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(ProxyError::BadV1("bad IPv4 address"))
}

/// An IPv6 address as RFC 4291 §2.2 writes it (one `::` at most, hex digits in either case,
/// the IPv4-mapped form `::ffff:192.0.2.1` that `inet_ntop` prints included), no zone.
fn ipv6(text: &[u8]) -> Result<Ipv6Addr, ProxyError> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(ProxyError::BadV1("bad IPv6 address"))
}

/// A port: decimal digits only, no leading zero (`0` itself is fine), at most 65535.
fn port(text: &[u8]) -> Result<u16, ProxyError> {
    let digits = !text.is_empty() && text.len() <= 5 && text.iter().all(u8::is_ascii_digit);
    if !digits || (text.len() > 1 && text[0] == b'0') {
        return Err(ProxyError::BadV1("bad port"));
    }
    let value = text.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
    u16::try_from(value).map_err(|_| ProxyError::BadV1("bad port"))
}

/// A version 2 header. Each fixed byte is checked as soon as it has arrived, so a refused
/// block is refused without waiting for the rest; the address block is read once whole.
fn v2(buf: &[u8]) -> Parsed {
    let local = match buf.get(12) {
        None => return Ok(None),
        Some(&ver_cmd) if ver_cmd >> 4 != 2 => return Err(ProxyError::BadV2("version not 2")),
        Some(0x20) => true,
        Some(0x21) => false,
        Some(_) => return Err(ProxyError::BadV2("command not LOCAL or PROXY")),
    };
    // LOCAL ignores the family (the specification says so); PROXY names a known one.
    let Some(&family) = buf.get(13) else {
        return Ok(None);
    };
    let addresses = match address_len(family) {
        Some(len) => len,
        None if local => 0,
        None => return Err(ProxyError::BadV2("unknown family or protocol")),
    };
    let (Some(&hi), Some(&lo)) = (buf.get(14), buf.get(15)) else {
        return Ok(None);
    };
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    let total = V2_FIXED + len;
    if total > V2_MAX {
        return Err(ProxyError::TooLong);
    }
    if !local && len < addresses {
        return Err(ProxyError::BadV2("length too small for the address family"));
    }
    let Some(header) = buf.get(..total) else {
        return Ok(None);
    };
    if local {
        return Ok(Some((Proxied::Local, total)));
    }
    proxy_block(header, family, addresses).map(|proxied| Some((proxied, total)))
}

/// The address block's length for a family-and-protocol byte the specification lists, or
/// `None` for any other value (which receivers must refuse).
fn address_len(family: u8) -> Option<usize> {
    match family {
        0x00 => Some(0),
        0x11 | 0x12 => Some(12),
        0x21 | 0x22 => Some(36),
        0x31 | 0x32 => Some(216),
        _ => None,
    }
}

/// The addresses of a whole PROXY-command header whose family byte and length were checked
/// (`addresses` is the family's address block length). AF_UNSPEC's block is opaque (the
/// specification lets it carry addresses of an unknown form) and is skipped; after any
/// other family's addresses come TLVs, which must tile the rest exactly and pass a CRC32c
/// if they carry one.
fn proxy_block(header: &[u8], family: u8, addresses: usize) -> Result<Proxied, ProxyError> {
    if family == 0x00 {
        return Ok(Proxied::Local);
    }
    check_tlvs(header, V2_FIXED + addresses)?;
    let at = V2_FIXED;
    let (source, destination, ports): (IpAddr, IpAddr, usize) = match family {
        0x11 => (
            Ipv4Addr::from(take::<4>(header, at)?).into(),
            Ipv4Addr::from(take::<4>(header, at + 4)?).into(),
            at + 8,
        ),
        0x21 => (
            Ipv6Addr::from(take::<16>(header, at)?).into(),
            Ipv6Addr::from(take::<16>(header, at + 16)?).into(),
            at + 32,
        ),
        // UDP, and AF_UNIX (whose 108-byte paths name nothing a peer address can hold).
        _ => return Ok(Proxied::Local),
    };
    Ok(Proxied::Tcp {
        source: SocketAddr::new(source, port_at(header, ports)?),
        destination: SocketAddr::new(destination, port_at(header, ports + 2)?),
    })
}

/// `N` bytes of `header` from `at`.
fn take<const N: usize>(header: &[u8], at: usize) -> Result<[u8; N], ProxyError> {
    header
        .get(at..at + N)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(ProxyError::BadV2("address block cut short"))
}

/// A big-endian port at `at`.
fn port_at(header: &[u8], at: usize) -> Result<u16, ProxyError> {
    take::<2>(header, at).map(u16::from_be_bytes)
}

/// The TLVs from `start` to the end of `header`: each a type byte, a big-endian length and
/// that many bytes, none running past the end. Their contents are skipped, except a CRC32c,
/// which must match (the specification makes a receiver that checks it refuse a mismatch).
fn check_tlvs(header: &[u8], start: usize) -> Result<(), ProxyError> {
    let mut at = start;
    while at < header.len() {
        let (Some(&kind), Some(&hi), Some(&lo)) =
            (header.get(at), header.get(at + 1), header.get(at + 2))
        else {
            return Err(ProxyError::BadV2("TLV header cut short"));
        };
        let value = at + 3;
        let end = value + usize::from(u16::from_be_bytes([hi, lo]));
        if end > header.len() {
            return Err(ProxyError::BadV2("TLV longer than the header"));
        }
        if kind == PP2_TYPE_CRC32C {
            check_crc(header, value, end)?;
        }
        at = end;
    }
    Ok(())
}

/// The CRC32c TLV whose value is `header[value..end]`: four bytes, equal to the CRC32c of
/// the whole header with those four bytes taken as zeros.
fn check_crc(header: &[u8], value: usize, end: usize) -> Result<(), ProxyError> {
    if end - value != 4 {
        return Err(ProxyError::BadV2("CRC32c TLV not 4 bytes"));
    }
    let sent = take::<4>(header, value).map(u32::from_be_bytes)?;
    let computed = crc32c(&[&header[..value], &[0; 4], &header[end..]]);
    if sent != computed {
        return Err(ProxyError::BadV2("CRC32c mismatch"));
    }
    Ok(())
}

/// CRC32c (Castagnoli, RFC 4960 Appendix B) of `parts` one after another, bit by bit: the
/// header is short and rarely carries one.
fn crc32c(parts: &[&[u8]]) -> u32 {
    let mut crc = !0u32;
    for &byte in parts.iter().flat_map(|part| part.iter()) {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests;
