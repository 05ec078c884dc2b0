//! Middleware on `nethttp::Filter`, over real sockets: a filter sees the final status and
//! every body byte, inline and blocking, whole and streamed; the access log and gzip
//! middlewares of `examples/middleware/` (the same code, included here) do what they say.

mod util;

#[path = "../examples/middleware/filters.rs"]
#[allow(dead_code)]
mod filters;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use flate2::read::GzDecoder;
use nethttp::http::{HeaderMap, StatusCode};
use nethttp::{blocking, wrap, Filter, Handler, Request, ResponseWriter, ServeMux};
use util::echo_child::request;
use util::serve;

/// What a filter saw of one response: status, body bytes, whether it ended.
#[derive(Default, Debug, Clone, PartialEq)]
struct Seen {
    status: u16,
    body: Vec<u8>,
    ended: bool,
}

struct Watch(Arc<Mutex<Seen>>);

impl Filter for Watch {
    fn head(&mut self, status: &mut StatusCode, _: &mut HeaderMap, _: Option<u64>) {
        self.0.lock().unwrap().status = status.as_u16();
    }
    fn body(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        self.0.lock().unwrap().body.extend_from_slice(bytes);
        out.extend_from_slice(bytes);
    }
    fn end(&mut self, _: &mut Vec<u8>) {
        self.0.lock().unwrap().ended = true;
    }
}

fn routes() -> ServeMux {
    let mut mux = ServeMux::new();
    mux.handle("GET /small", |w: &mut ResponseWriter, _: &mut Request| {
        let _ = w.write_all(b"small body");
    });
    mux.handle(
        "GET /stream",
        blocking(|w: &mut ResponseWriter, _: &mut Request| {
            for i in 0..100 {
                let _ = writeln!(w, "piece {i}").and_then(|()| w.flush());
            }
        }),
    );
    mux.handle("GET /teapot", |w: &mut ResponseWriter, _: &mut Request| {
        w.write_header(StatusCode::IM_A_TEAPOT);
        let _ = w.write_all(b"short and stout");
    });
    mux
}

#[test]
fn a_filter_sees_every_byte_and_the_final_status() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let watched = Arc::clone(&seen);
    let handler = wrap(
        routes(),
        move |w: &mut ResponseWriter, r: &mut Request, next: &ServeMux| {
            *watched.lock().unwrap() = Seen::default();
            w.add_filter(Watch(Arc::clone(&watched)));
            next.serve_http(w, r);
        },
    );
    let running = serve(handler);
    let addr = running.local_addr();
    for (path, status) in [
        ("/small", 200),
        ("/stream", 200),
        ("/teapot", 418),
        ("/missing", 404),
    ] {
        let response = request(
            addr,
            format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
        );
        let seen = seen.lock().unwrap().clone();
        assert_eq!(response.status, status, "{path}");
        assert_eq!((seen.status, seen.ended), (status, true), "{path}");
        assert_eq!(seen.body, response.body, "{path}");
    }
    running.close().unwrap();
}

/// A filter that changes the body's length: the server frames what comes out.
#[test]
fn a_filter_may_change_the_body() {
    struct Doubler;
    impl Filter for Doubler {
        fn head(&mut self, _: &mut StatusCode, headers: &mut HeaderMap, _: Option<u64>) {
            headers.remove("content-length");
        }
        fn body(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
            for &b in bytes {
                out.extend_from_slice(&[b, b]);
            }
        }
        fn end(&mut self, out: &mut Vec<u8>) {
            out.extend_from_slice(b"!");
        }
    }
    let handler = wrap(
        routes(),
        |w: &mut ResponseWriter, r: &mut Request, next: &ServeMux| {
            w.add_filter(Doubler);
            next.serve_http(w, r);
        },
    );
    let running = serve(handler);
    let response = request(
        running.local_addr(),
        b"GET /small HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert_eq!(response.text(), "ssmmaallll  bbooddyy!");
    assert_eq!(response.header("content-length"), Some("21"));
    let response = request(
        running.local_addr(),
        b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert_eq!(response.framing, "chunked");
    assert!(response.text().starts_with("ppiieeccee  00\n\n"));
    assert!(response.text().ends_with("99\n\n!"));
    running.close().unwrap();
}

#[test]
fn gzip_compresses_what_it_should_and_the_log_counts_what_went_out() {
    let running = serve(nethttp::access_log(filters::gzip(routes())));
    let addr = running.local_addr();
    let raw = b"GET /stream HTTP/1.1\r\nHost: x\r\nAccept-Encoding: br, gzip;q=0.8\r\n\r\n";
    let response = request(addr, raw);
    assert_eq!(response.header("content-encoding"), Some("gzip"));
    assert_eq!(response.header("vary"), Some("Accept-Encoding"));
    let mut text = String::new();
    GzDecoder::new(&response.body[..])
        .read_to_string(&mut text)
        .unwrap();
    assert!(text.starts_with("piece 0\npiece 1\n") && text.ends_with("piece 99\n"));
    // Small, refused or not asked for: sent as it is.
    for accept in ["gzip", "gzip;q=0", "identity"] {
        let raw = format!("GET /small HTTP/1.1\r\nHost: x\r\nAccept-Encoding: {accept}\r\n\r\n");
        let response = request(addr, raw.as_bytes());
        assert_eq!(
            (
                response.header("content-encoding"),
                response.text().as_str()
            ),
            (None, "small body")
        );
    }
    let plain = request(addr, b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(plain.header("content-encoding"), None);
    assert!(plain.text().ends_with("piece 99\n"));
    running.close().unwrap();
}
