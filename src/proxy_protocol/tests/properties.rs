//! Properties: any header an encoder writes reads back exactly, whatever follows it and
//! however much of it has arrived; any bytes at all read without a panic, the same way
//! whether they arrive whole or in part.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use proptest::prelude::*;

use super::{addr, block, v1, v2, LOCAL, PROXY, V2_SIGNATURE};
use crate::proxy_protocol::{parse, Proxied};

/// A header an encoder can write, and what it says.
#[derive(Debug, Clone)]
enum Header {
    /// A TCP line; `expanded` writes IPv6 as eight upper-case four-digit groups.
    V1 {
        source: SocketAddr,
        destination: SocketAddr,
        expanded: bool,
    },
    /// `PROXY UNKNOWN`, then a space and `rest` if any.
    V1Unknown(Option<Vec<u8>>),
    /// A version 2 header (its TLVs never a CRC32c: `crc` adds a right one).
    V2 {
        ver_cmd: u8,
        family: u8,
        block: Vec<u8>,
        tlvs: Vec<(u8, Vec<u8>)>,
        crc: bool,
    },
}

impl Header {
    /// The bytes on the wire.
    fn encode(&self) -> Vec<u8> {
        match self {
            Header::V1 {
                source,
                destination,
                expanded: true,
            } if source.is_ipv6() => {
                let hex = |a: &SocketAddr| match a.ip() {
                    IpAddr::V6(ip) => ip.segments().map(|s| format!("{s:04X}")).join(":"),
                    IpAddr::V4(ip) => ip.to_string(),
                };
                let (sp, dp) = (source.port(), destination.port());
                format!(
                    "PROXY TCP6 {} {} {sp} {dp}\r\n",
                    hex(source),
                    hex(destination)
                )
                .into_bytes()
            }
            Header::V1 {
                source,
                destination,
                ..
            } => v1(*source, *destination),
            Header::V1Unknown(None) => b"PROXY UNKNOWN\r\n".to_vec(),
            Header::V1Unknown(Some(rest)) => [b"PROXY UNKNOWN ", &rest[..], b"\r\n"].concat(),
            Header::V2 {
                ver_cmd,
                family,
                block,
                tlvs,
                crc,
            } => v2(*ver_cmd, *family, block, tlvs, *crc),
        }
    }

    /// What the parser is to make of it.
    fn says(&self) -> Proxied {
        match self {
            Header::V1 {
                source,
                destination,
                ..
            } => Proxied::Tcp {
                source: *source,
                destination: *destination,
            },
            Header::V2 {
                ver_cmd: PROXY,
                family: 0x11 | 0x21,
                block,
                ..
            } => {
                let (ip, ports) = if block.len() == 12 { (4, 8) } else { (16, 32) };
                let ip_at = |at: usize| -> IpAddr {
                    if ip == 4 {
                        Ipv4Addr::from(<[u8; 4]>::try_from(&block[at..at + 4]).unwrap()).into()
                    } else {
                        Ipv6Addr::from(<[u8; 16]>::try_from(&block[at..at + 16]).unwrap()).into()
                    }
                };
                let port = |at: usize| u16::from_be_bytes([block[at], block[at + 1]]);
                Proxied::Tcp {
                    source: SocketAddr::new(ip_at(0), port(ports)),
                    destination: SocketAddr::new(ip_at(ip), port(ports + 2)),
                }
            }
            _ => Proxied::Local,
        }
    }
}

/// A client and the address it reached, both IPv4 or both IPv6.
fn socket_pair() -> impl Strategy<Value = (SocketAddr, SocketAddr)> {
    prop_oneof![
        (
            any::<[u8; 4]>(),
            any::<[u8; 4]>(),
            any::<u16>(),
            any::<u16>()
        )
            .prop_map(|(s, d, sp, dp)| (
                SocketAddr::new(Ipv4Addr::from(s).into(), sp),
                SocketAddr::new(Ipv4Addr::from(d).into(), dp)
            )),
        (
            any::<[u8; 16]>(),
            any::<[u8; 16]>(),
            any::<u16>(),
            any::<u16>(),
            any::<bool>()
        )
            .prop_map(|(s, d, sp, dp, mapped)| {
                // Some IPv4-mapped addresses, which print with a dotted tail.
                let s = if mapped {
                    Ipv4Addr::from([s[0], s[1], s[2], s[3]]).to_ipv6_mapped()
                } else {
                    s.into()
                };
                (
                    SocketAddr::new(s.into(), sp),
                    SocketAddr::new(Ipv6Addr::from(d).into(), dp),
                )
            }),
    ]
}

/// A valid version 2 header: LOCAL or PROXY, each listed family with a block of its size
/// (AF_UNSPEC's of any size), TLVs, sometimes a CRC32c; an unlisted family under LOCAL.
fn v2_header() -> impl Strategy<Value = Header> {
    let tlv = (
        any::<u8>().prop_filter("not a CRC32c", |&k| k != 0x03),
        prop::collection::vec(any::<u8>(), 0..60),
    );
    (
        prop::sample::select(vec![LOCAL, PROXY]),
        prop::sample::select(vec![0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32, 0x45]),
        socket_pair(),
        prop::collection::vec(tlv, 0..5),
        any::<bool>(),
        prop::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(ver_cmd, family, (s, d), tlvs, crc, opaque)| {
            let (s, d) = match (family >> 4, s.ip(), d.ip()) {
                (1, IpAddr::V4(_), IpAddr::V4(_)) | (2, IpAddr::V6(_), IpAddr::V6(_)) => (s, d),
                (1, ..) => (addr("10.0.0.1:1"), addr("10.0.0.2:2")),
                _ => (addr("[::1]:1"), addr("[::2]:2")),
            };
            let block = match family {
                0x11 | 0x12 | 0x21 | 0x22 => block(s, d),
                0x31 | 0x32 => opaque
                    .iter()
                    .copied()
                    .cycle()
                    .chain([0; 216])
                    .take(216)
                    .collect(),
                _ => opaque, // UNSPEC, or a LOCAL family: anything
            };
            // An unknown family only goes with LOCAL, which ignores it.
            let ver_cmd = if family == 0x45 { LOCAL } else { ver_cmd };
            Header::V2 {
                ver_cmd,
                family,
                block,
                tlvs,
                crc,
            }
        })
}

/// A valid header of either version.
fn header() -> impl Strategy<Value = Header> {
    prop_oneof![
        (socket_pair(), any::<bool>()).prop_map(|((source, destination), expanded)| Header::V1 {
            source,
            destination,
            expanded
        }),
        prop::option::of(prop::collection::vec(
            any::<u8>().prop_filter("no CR or LF", |b| *b != b'\r' && *b != b'\n'),
            0..=91
        ))
        .prop_map(Header::V1Unknown),
        v2_header(),
    ]
}

/// Bytes near headers: a header with a byte changed, a cut, or bytes spliced in; or a
/// signature followed by anything; or anything.
fn near_header() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (
            header(),
            any::<prop::sample::Index>(),
            any::<u8>(),
            0usize..3
        )
            .prop_map(|(h, at, byte, how)| {
                let mut bytes = h.encode();
                let at = at.index(bytes.len());
                match how {
                    0 => bytes[at] = byte,
                    1 => bytes.truncate(at),
                    _ => bytes.insert(at, byte),
                }
                bytes
            }),
        prop::collection::vec(any::<u8>(), 0..200).prop_map(|tail| [b"PROXY ", &tail[..]].concat()),
        prop::collection::vec(any::<u8>(), 0..200)
            .prop_map(|tail| [V2_SIGNATURE, &tail[..]].concat()),
        prop::collection::vec(any::<u8>(), 0..200),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any header reads back as what it says, with its exact length, whatever follows it;
    /// every strict prefix of it waits for more.
    #[test]
    fn encoded_headers_read_back(h in header(), tail in prop::collection::vec(any::<u8>(), 0..64)) {
        let bytes = h.encode();
        let expected = Ok(Some((h.says(), bytes.len())));
        prop_assert_eq!(parse(&bytes), expected);
        prop_assert_eq!(parse(&[&bytes[..], &tail[..]].concat()), expected);
        for n in 0..bytes.len() {
            prop_assert_eq!(parse(&bytes[..n]), Ok(None));
        }
    }

    /// Any bytes read without a panic; a complete header's length is within the bytes and
    /// reads the same alone; every prefix either waits or reads as the whole does (the
    /// outcome does not depend on how the bytes arrive).
    #[test]
    fn any_bytes_read_the_same_whole_or_in_part(bytes in near_header()) {
        let whole = parse(&bytes);
        if let Ok(Some((_, n))) = whole {
            prop_assert!(n <= bytes.len());
            prop_assert_eq!(parse(&bytes[..n]), whole);
        }
        for n in 0..bytes.len() {
            let part = parse(&bytes[..n]);
            prop_assert!(part == Ok(None) || part == whole, "{:?} then {:?}", part, whole);
        }
    }
}
