//! An inline handler that holds its loop past 100 ms is logged, once per request, naming
//! its route; a quick one is not.

mod util;

use std::time::Duration;

use nethttp::{Request, ResponseWriter, ServeMux, Server};
use util::{exchange_all, start};

#[test]
fn a_slow_inline_handler_is_logged_with_its_route() {
    util::logs::record(log::LevelFilter::Warn);
    let mut mux = ServeMux::new();
    mux.handle(
        "GET /slow/{x}",
        |_: &mut ResponseWriter, _: &mut Request| {
            std::thread::sleep(Duration::from_millis(150));
        },
    );
    mux.handle("GET /quick", |_: &mut ResponseWriter, _: &mut Request| {
        std::thread::sleep(Duration::from_millis(5));
    });
    let server = start(Server::new(mux));
    let responses = exchange_all(
        server.local_addr(),
        b"GET /quick HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /slow/1 HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /quick HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(responses.len(), 3);
    server.close().unwrap();
    let warnings = util::logs::messages(log::Level::Warn);
    let slow: Vec<&String> = warnings
        .iter()
        .filter(|m| m.contains("on the event loop"))
        .collect();
    assert_eq!(slow.len(), 1, "{warnings:?}");
    assert!(
        slow[0].starts_with("handler for GET /slow/{x} ran "),
        "{slow:?}"
    );
    assert!(slow[0].contains("nethttp::blocking"), "{slow:?}");
}
