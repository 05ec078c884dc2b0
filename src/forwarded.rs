//! The client behind a proxy: [`IpNet`] (the proxies a server trusts) and the rightmost
//! untrusted hop of a request's `Forwarded` (RFC 7239) or `X-Forwarded-For` field, which
//! [`Request::client_addr`](crate::Request::client_addr) reports.
//!
//! A proxy appends the address it received the request from, so the list reads from the
//! client on the left to the last proxy on the right. Only the trusted proxies' entries
//! can be believed: walking from the right, each trusted hop vouches for the one before
//! it, and the first untrusted one is the client. Anything a client writes itself (to the
//! left of it) is ignored, and a request from a peer that is not trusted is taken at its
//! socket's word.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A network, `address/prefix` (`10.0.0.0/8`, `fd00::/8`), or one address (`127.0.0.1`,
/// `::1`).
///
/// ```
/// use nethttp::IpNet;
///
/// let net: IpNet = "10.0.0.0/8".parse().unwrap();
/// assert!(net.contains("10.1.2.3".parse().unwrap()));
/// assert!(!net.contains("11.0.0.1".parse().unwrap()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

/// Why a string is not an [`IpNet`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpNetError(String);

impl fmt::Display for IpNetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a network (address/prefix): {}", self.0)
    }
}

impl std::error::Error for IpNetError {}

impl FromStr for IpNet {
    type Err = IpNetError;

    fn from_str(s: &str) -> Result<IpNet, IpNetError> {
        let bad = || IpNetError(s.to_string());
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty() => {
                p.parse::<u8>().ok().filter(|&p| p <= max).ok_or_else(bad)?
            }
            Some(_) => return Err(bad()),
            None => max,
        };
        Ok(IpNet { addr, prefix })
    }
}

impl IpNet {
    /// Whether `ip` is in this network (an IPv4 address written as IPv6, `::ffff:a.b.c.d`,
    /// counts as the IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Whether any of `trusted` contains `ip`.
fn is_trusted(trusted: &[IpNet], ip: IpAddr) -> bool {
    trusted.iter().any(|net| net.contains(ip))
}

/// The client of a request that came from `peer`: the rightmost hop of `hops` (left to
/// right, as the fields list them) that is not a trusted proxy, if `peer` is one; else
/// `peer`. A hop that is not an address (`unknown`, an obfuscated name) ends the walk: the
/// last trusted proxy before it is as far as anyone vouches.
pub(crate) fn client<'a>(
    peer: IpAddr,
    trusted: &[IpNet],
    hops: impl DoubleEndedIterator<Item = &'a str>,
) -> IpAddr {
    let mut client = peer.to_canonical();
    if !is_trusted(trusted, client) {
        return client;
    }
    for hop in hops.rev() {
        let Some(ip) = parse_hop(hop) else {
            return client;
        };
        client = ip;
        if !is_trusted(trusted, ip) {
            return ip;
        }
    }
    client
}

/// The hops of `X-Forwarded-For` values: comma-separated addresses.
pub(crate) fn xff_hops<'a>(values: &'a [&'a str]) -> impl DoubleEndedIterator<Item = &'a str> {
    values.iter().flat_map(|v| v.split(',')).map(str::trim)
}

/// The `for=` hops of `Forwarded` values (RFC 7239): one per comma-separated element.
/// An element without `for=` yields an empty hop, which ends the walk.
pub(crate) fn forwarded_hops<'a>(
    values: &'a [&'a str],
) -> impl DoubleEndedIterator<Item = &'a str> {
    values.iter().flat_map(|v| v.split(',')).map(|element| {
        element
            .split(';')
            .filter_map(|pair| pair.split_once('='))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
            .map_or("", |(_, value)| value.trim())
    })
}

/// An address from a hop: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]`,
/// `"[2001:db8::1]:4711"` (quoted, as `Forwarded` writes IPv6).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = hop.strip_prefix('[') {
        let (ip, _) = rest.split_once(']')?;
        return ip.parse::<IpAddr>().ok().map(|ip| ip.to_canonical());
    }
    let (ip, port) = hop.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    ip.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_parse_and_contain() {
        let v4: IpNet = "192.168.0.0/16".parse().unwrap();
        assert!(v4.contains(ip("192.168.3.4")) && !v4.contains(ip("192.169.0.1")));
        assert!(
            v4.contains(ip("::ffff:192.168.1.1")),
            "IPv4 written as IPv6"
        );
        let v6: IpNet = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")) && !all.contains(ip("::1")));
        let one: IpNet = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0/8",
            "10.0.0.0/+8",
            "x",
        ] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        let xff = ["203.0.113.7, 10.0.0.5", "10.0.0.6"];
        assert_eq!(
            client(ip("10.0.0.1"), &trusted, xff_hops(&xff)),
            ip("203.0.113.7")
        );
        // A client that writes its own X-Forwarded-For cannot move the answer.
        let spoofed = ["1.1.1.1, 203.0.113.7"];
        assert_eq!(
            client(ip("10.0.0.1"), &trusted, xff_hops(&spoofed)),
            ip("203.0.113.7")
        );
        // Every hop trusted: the leftmost.
        let inside = ["10.0.0.9, 10.0.0.8"];
        assert_eq!(
            client(ip("10.0.0.1"), &trusted, xff_hops(&inside)),
            ip("10.0.0.9")
        );
    }

    #[test]
    fn an_untrusted_peer_is_taken_at_its_word() {
        let trusted = nets(&["10.0.0.0/8"]);
        let spoofed = ["10.0.0.1, 1.2.3.4"];
        assert_eq!(
            client(ip("198.51.100.1"), &trusted, xff_hops(&spoofed)),
            ip("198.51.100.1")
        );
        assert_eq!(
            client(ip("198.51.100.1"), &[], xff_hops(&spoofed)),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn forwarded_elements_are_read() {
        let trusted = nets(&["127.0.0.1", "::1"]);
        let fwd = [r#"for=192.0.2.43;proto=https, for="[2001:db8:cafe::17]:4711";by=127.0.0.1"#];
        assert_eq!(
            client(ip("::1"), &trusted, forwarded_hops(&fwd)),
            ip("2001:db8:cafe::17")
        );
        let hidden = ["for=192.0.2.43, for=_hidden"];
        assert_eq!(
            client(ip("127.0.0.1"), &trusted, forwarded_hops(&hidden)),
            ip("127.0.0.1")
        );
        let unknown = ["for=unknown"];
        assert_eq!(
            client(ip("127.0.0.1"), &trusted, forwarded_hops(&unknown)),
            ip("127.0.0.1")
        );
        let with_port = ["for=192.0.2.60:8080"];
        assert_eq!(
            client(ip("127.0.0.1"), &trusted, forwarded_hops(&with_port)),
            ip("192.0.2.60")
        );
    }
}
