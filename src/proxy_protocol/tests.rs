//! The PROXY header parser against the specification's examples and every rule broken;
//! `properties.rs` adds generated headers and bytes.

use std::net::{IpAddr, SocketAddr};

use super::{crc32c, parse, Proxied, ProxyError, V1_MAX, V2_MAX};

const V2_SIGNATURE: &[u8] = b"\r\n\r\n\0\r\nQUIT\n";
const LOCAL: u8 = 0x20;
const PROXY: u8 = 0x21;

/// A TCP header's meaning, from two socket addresses written out.
fn tcp(source: &str, destination: &str) -> Proxied {
    Proxied::Tcp {
        source: source.parse().unwrap(),
        destination: destination.parse().unwrap(),
    }
}

/// A version 1 line for a TCP connection, as HAProxy writes it.
fn v1(source: SocketAddr, destination: SocketAddr) -> Vec<u8> {
    let family = if source.is_ipv4() { "TCP4" } else { "TCP6" };
    let (s, d) = (source.ip(), destination.ip());
    let (sp, dp) = (source.port(), destination.port());
    format!("PROXY {family} {s} {d} {sp} {dp}\r\n").into_bytes()
}

/// A version 2 header: `ver_cmd`, `family`, the address block, the TLVs, and when `crc` a
/// CRC32c TLV last, computed over the rest.
fn v2(ver_cmd: u8, family: u8, block: &[u8], tlvs: &[(u8, Vec<u8>)], crc: bool) -> Vec<u8> {
    let mut out = V2_SIGNATURE.to_vec();
    out.extend_from_slice(&[ver_cmd, family, 0, 0]);
    out.extend_from_slice(block);
    for (kind, value) in tlvs {
        out.push(*kind);
        out.extend_from_slice(&(value.len() as u16).to_be_bytes());
        out.extend_from_slice(value);
    }
    if crc {
        out.extend_from_slice(&[0x03, 0, 4, 0, 0, 0, 0]);
    }
    let len = (out.len() - 16) as u16;
    out[14..16].copy_from_slice(&len.to_be_bytes());
    if crc {
        let sum = crc32c(&[&out]);
        let at = out.len() - 4;
        out[at..].copy_from_slice(&sum.to_be_bytes());
    }
    out
}

/// The address block of a TCP or UDP connection.
fn block(source: SocketAddr, destination: SocketAddr) -> Vec<u8> {
    let mut out = Vec::new();
    for addr in [source, destination] {
        match addr.ip() {
            IpAddr::V4(ip) => out.extend_from_slice(&ip.octets()),
            IpAddr::V6(ip) => out.extend_from_slice(&ip.octets()),
        }
    }
    out.extend_from_slice(&source.port().to_be_bytes());
    out.extend_from_slice(&destination.port().to_be_bytes());
    out
}

/// A socket address written out.
fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// `bytes` is a whole header saying `expected`: every strict prefix waits for more, and the
/// header followed by a request reads the same with the header's length.
fn assert_header(bytes: &[u8], expected: Proxied) {
    for n in 0..bytes.len() {
        assert_eq!(parse(&bytes[..n]), Ok(None), "prefix {:?}", &bytes[..n]);
    }
    assert_eq!(parse(bytes), Ok(Some((expected, bytes.len()))));
    let mut with_request = bytes.to_vec();
    with_request.extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(parse(&with_request), Ok(Some((expected, bytes.len()))));
}

#[test]
fn the_specifications_v1_example_before_a_request() {
    let bytes = b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n";
    let expected = tcp("192.168.0.1:56324", "192.168.0.11:443");
    assert_eq!(parse(bytes), Ok(Some((expected, 47))));
    assert_header(&bytes[..47], expected);
}

#[test]
fn v1_lines_up_to_the_longest_the_specification_allows() {
    let longest4 = b"PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n";
    assert_eq!(longest4.len(), 56);
    assert_header(
        longest4,
        tcp("255.255.255.255:65535", "255.255.255.255:65535"),
    );
    let ffff = ["ffff"; 8].join(":");
    let longest6 = format!("PROXY TCP6 {ffff} {ffff} 65535 65535\r\n");
    assert_eq!(longest6.len(), 104);
    let all = "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535";
    assert_header(longest6.as_bytes(), tcp(all, all));
    let unknown = format!("PROXY UNKNOWN {ffff} {ffff} 65535 65535\r\n");
    assert_eq!(unknown.len(), V1_MAX);
    assert_header(unknown.as_bytes(), Proxied::Local);
    assert_header(b"PROXY UNKNOWN\r\n", Proxied::Local);
    assert_header(b"PROXY UNKNOWN \x00\x7f\xff anything\r\n", Proxied::Local);
    assert_header(
        b"PROXY TCP4 0.0.0.0 10.0.0.1 0 80\r\n",
        tcp("0.0.0.0:0", "10.0.0.1:80"),
    );
    let mixed = b"PROXY TCP6 ::ffff:192.0.2.1 2001:DB8::1 1 2\r\n";
    assert_header(mixed, tcp("[::ffff:192.0.2.1]:1", "[2001:db8::1]:2"));
}

#[test]
fn a_v1_line_without_crlf_within_107_bytes_is_too_long() {
    let ffff = ["ffff"; 8].join(":");
    let over = format!("PROXY UNKNOWN {ffff} {ffff} 65535 655350\r\n");
    assert_eq!(over.len(), V1_MAX + 1);
    assert_eq!(parse(over.as_bytes()), Err(ProxyError::TooLong));
    let mut long = b"PROXY TCP4 ".to_vec();
    long.resize(V1_MAX - 2, b'1');
    assert_eq!(parse(&long), Ok(None));
    long.push(b'1');
    assert_eq!(parse(&long), Err(ProxyError::TooLong));
}

/// Each of `lines` is refused with `expected`.
fn refused(expected: ProxyError, lines: &[&str]) {
    for line in lines {
        assert_eq!(parse(line.as_bytes()), Err(expected), "{line:?}");
    }
}

#[test]
fn v1_lines_with_bad_ends_or_fields_are_refused() {
    use ProxyError::BadV1;
    refused(
        ProxyError::NotProxy,
        &["proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"],
    );
    refused(
        BadV1("LF without CR"),
        &[
            "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
            "PROXY TCP4 1.2.3.4\n5.6.7.8 1 2\r\n",
        ],
    );
    refused(
        BadV1("CR without LF"),
        &["PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", "PROXY UNKNOWN\r\r\n"],
    );
    refused(
        BadV1("no space after PROXY"),
        &["PROXY\r\n", "PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n"],
    );
    refused(
        BadV1("not five fields after PROXY"),
        &[
            "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
            "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",
            "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",
            "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
            "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
            "PROXY TCP4\t1.2.3.4 5.6.7.8 1 2\r\n",
            "PROXY \r\n",
            "PROXY UNKNOWNX\r\n",
            "PROXY unknown\r\n",
        ],
    );
    refused(
        BadV1("protocol not TCP4, TCP6 or UNKNOWN"),
        &[
            "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n",
            "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
            "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
        ],
    );
}

#[test]
fn v1_addresses_of_the_wrong_family_or_form_are_refused() {
    use ProxyError::BadV1;
    refused(
        BadV1("bad IPv4 address"),
        &[
            "PROXY TCP4 ::1 5.6.7.8 1 2\r\n",
            "PROXY TCP4 ::ffff:1.2.3.4 5.6.7.8 1 2\r\n",
            "PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n",
            "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",
            "PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n",
            "PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n",
            "PROXY TCP4 1.2.3.4 5.6.7.0x8 1 2\r\n",
            "PROXY TCP4 1.2.3.4 5.6.7.8. 1 2\r\n",
        ],
    );
    let not_utf8 = b"PROXY TCP4 1.2.3.\xb4 5.6.7.8 1 2\r\n";
    assert_eq!(parse(not_utf8), Err(BadV1("bad IPv4 address")));
    refused(
        BadV1("bad IPv6 address"),
        &[
            "PROXY TCP6 1.2.3.4 ::1 1 2\r\n",
            "PROXY TCP6 ::1 fe80::1%eth0 1 2\r\n",
            "PROXY TCP6 ::1 [::1] 1 2\r\n",
            "PROXY TCP6 1::2::3 ::1 1 2\r\n",
            "PROXY TCP6 ::12345 ::1 1 2\r\n",
            "PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n",
        ],
    );
}

#[test]
fn v1_ports_are_decimal_without_leading_zeros_up_to_65535() {
    for bad in [
        "65536", "99999", "123456", "00", "080", "-1", "+80", "8a", "0x50", "１",
    ] {
        let line = format!("PROXY TCP4 1.2.3.4 5.6.7.8 {bad} 80\r\n");
        assert_eq!(
            parse(line.as_bytes()),
            Err(ProxyError::BadV1("bad port")),
            "{bad}"
        );
        let line = format!("PROXY TCP4 1.2.3.4 5.6.7.8 80 {bad}\r\n");
        assert_eq!(
            parse(line.as_bytes()),
            Err(ProxyError::BadV1("bad port")),
            "{bad}"
        );
    }
    for good in [0u16, 1, 9, 10, 80, 65535] {
        let line = format!("PROXY TCP4 1.2.3.4 5.6.7.8 {good} 443\r\n");
        let expected = tcp(&format!("1.2.3.4:{good}"), "5.6.7.8:443");
        assert_eq!(parse(line.as_bytes()), Ok(Some((expected, line.len()))));
    }
}

#[test]
fn only_prefixes_of_a_signature_wait() {
    for wait in [
        &b""[..],
        b"P",
        b"PROX",
        b"PROXY",
        b"\r",
        b"\r\n\r\n\0\r\nQUI",
        V2_SIGNATURE,
    ] {
        assert_eq!(parse(wait), Ok(None), "{wait:?}");
    }
    for not in [
        &b"GET / HTTP/1.1\r\n"[..],
        b"PROXZ",
        b"\r\n\r\n\r\n",
        b"\x16\x03\x01",
        b"\0",
    ] {
        assert_eq!(parse(not), Err(ProxyError::NotProxy), "{not:?}");
    }
}

#[test]
fn v2_proxy_headers_give_the_client_and_skip_the_tlvs() {
    let (s4, d4) = (addr("192.0.2.1:56324"), addr("198.51.100.7:443"));
    let tcp4 = Proxied::Tcp {
        source: s4,
        destination: d4,
    };
    assert_header(&v2(PROXY, 0x11, &block(s4, d4), &[], false), tcp4);
    let (s6, d6) = (addr("[2001:db8::1]:1"), addr("[::ffff:192.0.2.1]:65535"));
    let tcp6 = Proxied::Tcp {
        source: s6,
        destination: d6,
    };
    assert_header(&v2(PROXY, 0x21, &block(s6, d6), &[], false), tcp6);
    let tlvs = [
        (0x01, b"h2".to_vec()),
        (0x02, b"example.com".to_vec()),
        (0x04, Vec::new()),
        (
            0x20,
            vec![
                1, 0, 0, 0, 0, 0x21, 0, 7, b'T', b'L', b'S', b'v', b'1', b'.', b'3',
            ],
        ),
        (0xEA, vec![0x01; 24]),
    ];
    let with_tlvs = v2(PROXY, 0x11, &block(s4, d4), &tlvs, true);
    assert_eq!(with_tlvs.len(), 16 + 12 + 5 * 3 + 2 + 11 + 15 + 24 + 7);
    assert_header(&with_tlvs, tcp4);
    assert_header(&v2(PROXY, 0x21, &block(s6, d6), &tlvs, false), tcp6);
}

#[test]
fn v2_other_families_and_local_use_the_real_peer() {
    let (s4, d4) = (addr("192.0.2.1:5"), addr("198.51.100.7:6"));
    let (s6, d6) = (addr("[::1]:5"), addr("[::2]:6"));
    let tlv = [(0x05, b"unique".to_vec())];
    assert_header(&v2(LOCAL, 0x00, &[], &[], false), Proxied::Local);
    assert_header(
        &v2(PROXY, 0x12, &block(s4, d4), &tlv, false),
        Proxied::Local,
    );
    assert_header(&v2(PROXY, 0x22, &block(s6, d6), &[], true), Proxied::Local);
    assert_header(&v2(PROXY, 0x31, &[b'/'; 216], &tlv, false), Proxied::Local);
    assert_header(&v2(PROXY, 0x32, &[0; 216], &[], false), Proxied::Local);
    // AF_UNSPEC's block is opaque: no TLVs are looked for in it.
    assert_header(&v2(PROXY, 0x00, b"\xff\xff", &[], false), Proxied::Local);
    // LOCAL ignores the family and the block, whatever they hold.
    assert_header(
        &v2(LOCAL, 0x11, &block(s4, d4), &tlv, false),
        Proxied::Local,
    );
    assert_header(&v2(LOCAL, 0x11, b"junk", &[], false), Proxied::Local);
    assert_header(
        &v2(LOCAL, 0xFF, b"\x03\x00\x09", &[], false),
        Proxied::Local,
    );
}

/// `bytes` is refused as a bad version 2 header, for `what`.
fn bad_v2(bytes: &[u8], what: &'static str) {
    assert_eq!(parse(bytes), Err(ProxyError::BadV2(what)), "{bytes:?}");
}

#[test]
fn v2_headers_with_bad_fixed_fields_are_refused_once_those_arrive() {
    let ok4 = block(addr("1.2.3.4:5"), addr("6.7.8.9:10"));
    for ver_cmd in [0x00, 0x01, 0x10, 0x11, 0x31, 0xF1] {
        let header = v2(ver_cmd, 0x11, &ok4, &[], false);
        bad_v2(&header, "version not 2");
        bad_v2(&header[..13], "version not 2");
    }
    for ver_cmd in [0x22, 0x23, 0x2F] {
        bad_v2(
            &v2(ver_cmd, 0x11, &ok4, &[], false),
            "command not LOCAL or PROXY",
        );
    }
    for family in [0x01, 0x02, 0x10, 0x13, 0x20, 0x30, 0x33, 0x41, 0xFF] {
        let header = v2(PROXY, family, &ok4, &[], false);
        bad_v2(&header, "unknown family or protocol");
        bad_v2(&header[..14], "unknown family or protocol");
    }
    let families = [
        (0x11, 12),
        (0x12, 12),
        (0x21, 36),
        (0x22, 36),
        (0x31, 216),
        (0x32, 216),
    ];
    for (family, len) in families {
        let header = v2(PROXY, family, &vec![0; len - 1], &[], false);
        bad_v2(&header[..16], "length too small for the address family");
        bad_v2(&header, "length too small for the address family");
    }
}

#[test]
fn v2_tlvs_must_tile_the_header_and_a_crc32c_must_match() {
    let ok4 = block(addr("1.2.3.4:5"), addr("6.7.8.9:10"));
    // The header with `tail` after its addresses, the length counting it.
    let with = |tail: &[u8]| {
        let mut header = [v2(PROXY, 0x11, &ok4, &[], false), tail.to_vec()].concat();
        let len = (header.len() - 16) as u16;
        header[14..16].copy_from_slice(&len.to_be_bytes());
        header
    };
    bad_v2(&with(b"\x04"), "TLV header cut short");
    bad_v2(&with(b"\x04\x00"), "TLV header cut short");
    bad_v2(&with(b"\x04\x00\x00\x04"), "TLV header cut short");
    bad_v2(&with(b"\x04\x00\x02x"), "TLV longer than the header");
    bad_v2(&with(b"\x04\xff\xff"), "TLV longer than the header");
    bad_v2(&with(b"\x03\x00\x03abc"), "CRC32c TLV not 4 bytes");
    let mut crc = v2(PROXY, 0x11, &ok4, &[(0x01, b"h2".to_vec())], true);
    let last = crc.len() - 1;
    crc[last] ^= 1;
    bad_v2(&crc, "CRC32c mismatch");
    crc[last] ^= 1;
    crc[20] ^= 1; // an address changed on the way
    bad_v2(&crc, "CRC32c mismatch");
}

#[test]
fn v2_headers_over_the_cap_are_refused_as_soon_as_the_length_arrives() {
    let fixed = |len: usize| {
        let mut out = V2_SIGNATURE.to_vec();
        out.extend_from_slice(&[PROXY, 0x11]);
        out.extend_from_slice(&(len as u16).to_be_bytes());
        out
    };
    assert_eq!(parse(&fixed(V2_MAX - 16 + 1)), Err(ProxyError::TooLong));
    assert_eq!(parse(&fixed(0xFFFF)), Err(ProxyError::TooLong));
    assert_eq!(parse(&fixed(V2_MAX - 16)), Ok(None));
    let ok4 = block(addr("1.2.3.4:5"), addr("6.7.8.9:10"));
    let padding = vec![0; V2_MAX - 16 - 12 - 3];
    let largest = v2(PROXY, 0x11, &ok4, &[(0x04, padding)], false);
    assert_eq!(largest.len(), V2_MAX);
    let expected = tcp("1.2.3.4:5", "6.7.8.9:10");
    assert_eq!(parse(&largest), Ok(Some((expected, V2_MAX))));
    let mut local = V2_SIGNATURE.to_vec();
    local.extend_from_slice(&[LOCAL, 0x00, 0xFF, 0xFF]);
    assert_eq!(parse(&local), Err(ProxyError::TooLong));
}

#[test]
fn crc32c_matches_rfc_4960s_check_value() {
    assert_eq!(crc32c(&[b"123456789"]), 0xE306_9283);
    assert_eq!(crc32c(&[b"1234", b"", b"56789"]), 0xE306_9283);
    assert_eq!(crc32c(&[&[0; 32]]), 0x8A91_36AA);
}

mod properties;
