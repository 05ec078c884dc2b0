//! `nethttp::httptest`: handlers run without a socket, inline and blocking, through a
//! mux, with bodies, forms and cookies, and what a client would read comes back.

use std::io::{Read, Write};

use nethttp::http::StatusCode;
use nethttp::httptest::{new_request, record};
use nethttp::{blocking, set_cookie, Cookie, Request, ResponseWriter, ServeMux};

fn upload(w: &mut ResponseWriter, r: &mut Request) {
    let mut body = Vec::new();
    r.body().read_to_end(&mut body).unwrap();
    let _ = write!(
        w,
        "{} {} bytes from {}",
        r.method(),
        body.len(),
        r.remote_addr()
    );
}

fn routes() -> ServeMux {
    let mut mux = ServeMux::new();
    mux.handle("POST /upload", blocking(upload));
    mux.handle(
        "GET /items/{id}",
        |w: &mut ResponseWriter, r: &mut Request| {
            let _ = write!(
                w,
                "item {} for {}",
                r.path_value("id").unwrap_or(""),
                r.host()
            );
        },
    );
    mux.handle("POST /login", |w: &mut ResponseWriter, r: &mut Request| {
        let user = r.form_value("user").unwrap_or("").to_string();
        set_cookie(w, &Cookie::new("session", format!("s-{user}")));
        let _ = write!(w, "welcome {user}");
    });
    mux.handle("GET /stream", |w: &mut ResponseWriter, _r: &mut Request| {
        for piece in ["one ", "two"] {
            let _ = w.write_all(piece.as_bytes()).and_then(|()| w.flush());
        }
    });
    // A panic that skips the panic hook, so the test's output shows no "panicked at".
    mux.handle("GET /panic", |_: &mut ResponseWriter, _: &mut Request| {
        std::panic::resume_unwind(Box::new("on purpose"))
    });
    mux
}

#[test]
fn a_routed_request_is_answered_as_a_client_reads_it() {
    let mux = routes();
    let got = record(&mux, &mut new_request("GET", "/items/7").build());
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.text(), "item 7 for example.com");
    assert_eq!(got.header("content-length"), Some("22"));
    assert!(got.header("date").is_some());
    let got = record(
        &mux,
        &mut new_request("GET", "http://shop.test/items/8").build(),
    );
    assert_eq!(got.text(), "item 8 for shop.test");
    let got = record(&mux, &mut new_request("DELETE", "/items/7").build());
    assert_eq!(
        (got.status.as_u16(), got.header("allow")),
        (405, Some("GET, HEAD"))
    );
    assert_eq!(
        record(&mux, &mut new_request("GET", "/nope").build()).status,
        404
    );
}

#[test]
fn blocking_handlers_read_their_body_here() {
    let mux = routes();
    let mut r = new_request("POST", "/upload")
        .body(vec![b'x'; 100_000])
        .build();
    let got = record(&mux, &mut r);
    assert_eq!(got.text(), "POST 100000 bytes from 192.0.2.1:1234");
}

#[test]
fn forms_and_cookies_work_as_on_a_server() {
    let mux = routes();
    let mut r = new_request("POST", "/login")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("user=ada")
        .build();
    let got = record(&mux, &mut r);
    assert_eq!(got.text(), "welcome ada");
    assert_eq!(got.header("set-cookie"), Some("session=s-ada"));
}

#[test]
fn streamed_panicking_and_head_responses() {
    let mux = routes();
    let got = record(&mux, &mut new_request("GET", "/stream").build());
    assert_eq!(got.header("transfer-encoding"), Some("chunked"));
    assert_eq!(got.text(), "one two");
    let got = record(&mux, &mut new_request("GET", "/stream").http10().build());
    assert_eq!(
        (got.header("transfer-encoding"), got.text().as_str()),
        (None, "one two")
    );
    let got = record(&mux, &mut new_request("GET", "/panic").build());
    assert_eq!(got.status, StatusCode::INTERNAL_SERVER_ERROR);
    let got = record(&mux, &mut new_request("HEAD", "/items/1").build());
    assert_eq!(
        (got.header("content-length"), got.body.len()),
        (Some("22"), 0)
    );
}

#[test]
#[should_panic(expected = "new_request: refused")]
fn a_malformed_test_request_panics() {
    let _ = new_request("GET", "no-slash").build();
}
