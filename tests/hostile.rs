//! Regression tests for what the fuzz targets (`fuzz/`) and the soak run turned up: each
//! test names the input that showed the problem.

mod util;

use std::io::{BufReader, Read, Write};
use std::time::Duration;

use nethttp::{blocking, Request, ResponseWriter, Server};
use util::{connect, read_response, start};

/// A blocking handler that answers without reading the body.
fn ignore_body(w: &mut ResponseWriter, _r: &mut Request) {
    let _ = w.write_all(b"ignored");
}

/// `POST` with `Expect: 100-continue` to a blocking handler that never reads the body: the
/// server never asks for the body, so it cannot keep the connection (the client would send
/// the body next, or give up on it), and its answer must say so. It used to close the
/// connection after an answer without `Connection: close`, and a client that took the
/// connection as reusable lost its next request.
#[test]
fn an_unasked_continue_is_answered_with_connection_close() {
    let server = start(Server::new(blocking(ignore_body)).threads(1));
    let stream = connect(server.local_addr());
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    writer
        .write_all(
            b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
        )
        .unwrap();
    let response = read_response(&mut reader, false).unwrap();
    assert_eq!(
        (response.status, response.text().as_str()),
        (200, "ignored")
    );
    assert!(response.closes(), "{response:?}");
    let mut rest = Vec::new();
    let _ = reader
        .get_mut()
        .set_read_timeout(Some(Duration::from_secs(5)));
    let _ = reader.read_to_end(&mut rest);
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
    server.close().unwrap();
}
