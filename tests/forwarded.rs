//! The client's address behind a proxy: `Request::client_addr` believes `Forwarded` and
//! `X-Forwarded-For` only from trusted peers, and only their rightmost untrusted hop.

mod util;

use std::io::Write;

use nethttp::{Request, ResponseWriter, Server};

fn whoami(w: &mut ResponseWriter, r: &mut Request) {
    let _ = write!(w, "{} via {}", r.client_addr(), r.remote_addr().ip());
}

fn ask(server: &nethttp::Running, fields: &str) -> String {
    let raw = format!("GET / HTTP/1.1\r\nHost: x\r\n{fields}Connection: close\r\n\r\n");
    util::parse_all(&util::exchange(server.local_addr(), raw.as_bytes()))
        .remove(0)
        .text()
}

#[test]
fn a_trusted_proxy_reports_the_client() {
    let server = util::start(Server::new(whoami).trusted_proxies(["127.0.0.1".parse().unwrap()]));
    assert_eq!(
        ask(&server, "X-Forwarded-For: 203.0.113.7\r\n"),
        "203.0.113.7 via 127.0.0.1"
    );
    // The client's own claim, left of what the proxy appended, is ignored.
    assert_eq!(
        ask(&server, "X-Forwarded-For: 1.1.1.1, 203.0.113.7\r\n"),
        "203.0.113.7 via 127.0.0.1"
    );
    let standard = "Forwarded: for=192.0.2.43;proto=http\r\nX-Forwarded-For: 1.1.1.1\r\n";
    assert_eq!(
        ask(&server, standard),
        "192.0.2.43 via 127.0.0.1",
        "Forwarded wins"
    );
    assert_eq!(
        ask(&server, ""),
        "127.0.0.1 via 127.0.0.1",
        "no field: the peer"
    );
    server.close().unwrap();
}

#[test]
fn a_spoofed_x_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let server = util::start(Server::new(whoami).trusted_proxies(["10.0.0.0/8".parse().unwrap()]));
    assert_eq!(
        ask(&server, "X-Forwarded-For: 203.0.113.7\r\n"),
        "127.0.0.1 via 127.0.0.1"
    );
    assert_eq!(
        ask(&server, "Forwarded: for=10.0.0.1\r\n"),
        "127.0.0.1 via 127.0.0.1"
    );
    server.close().unwrap();
    let trusting_none = util::start(Server::new(whoami));
    assert_eq!(
        ask(&trusting_none, "X-Forwarded-For: 203.0.113.7\r\n"),
        "127.0.0.1 via 127.0.0.1"
    );
    trusting_none.close().unwrap();
}
