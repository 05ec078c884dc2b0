//! Keep-alive: HTTP/1.1 persistence, HTTP/1.0 rules, `Connection: close` both ways.

mod util;

use std::io::{BufReader, Write};

use util::{connect, exchange_all, hello, read_response, serve};

#[test]
fn ten_thousand_sequential_requests_on_one_connection() {
    let server = serve(hello);
    let stream = connect(server.local_addr());
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    for i in 0..10_000 {
        writer
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let response = read_response(&mut reader, false).unwrap();
        assert_eq!(
            (response.status, response.text().as_str()),
            (200, "Hello, World!"),
            "request {i}"
        );
    }
    server.close().unwrap();
}

#[test]
fn http11_close_is_honoured_and_echoed() {
    let server = serve(hello);
    let responses = exchange_all(
        server.local_addr(),
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert_eq!(responses.len(), 1, "nothing after the close");
    assert!(responses[0].closes());
}

#[test]
fn http10_closes_unless_keep_alive_is_asked() {
    let server = serve(hello);
    let responses = exchange_all(
        server.local_addr(),
        b"GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n",
    );
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].version, "HTTP/1.0");
    assert_eq!(responses[0].header("connection"), None);

    let responses = exchange_all(
        server.local_addr(),
        b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n",
    );
    assert_eq!(responses.len(), 2, "the first kept the connection open");
    assert_eq!(responses[0].header("connection"), Some("keep-alive"));
    assert_eq!(responses[1].header("connection"), None);
}

#[test]
fn handler_can_close_the_connection() {
    let server = serve(
        |w: &mut nethttp::ResponseWriter, _r: &mut nethttp::Request| {
            w.headers_mut()
                .insert("connection", "close".parse().unwrap());
            w.write_all(b"bye").unwrap();
        },
    );
    let responses = exchange_all(
        server.local_addr(),
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert_eq!(responses.len(), 1);
    assert!(responses[0].closes());
}
