//! Responses without a body (HEAD, 204, 304) keep the connection's framing intact, and every
//! response carries a `Date` in IMF-fixdate form.

mod util;

use std::io::{BufReader, Read, Write};
use std::time::{Duration, SystemTime};

use http::{Method, StatusCode};
use nethttp::{Request, ResponseWriter};
use util::{connect, exchange_all, read_response, serve, Response};

/// Routes:
/// - `/hello`: `Hello, World!` (13 bytes, content type sniffed);
/// - `/empty`: writes nothing;
/// - `/flush`: writes `abc` and flushes (length unknown);
/// - `/declared`: declares `Content-Length: 1234`, writes the bytes except for HEAD;
/// - `/204`, `/304`: sets `Content-Type`, `Content-Length` and `ETag`, then the status,
///   then tries to write a body; `X-Write-Failed` says whether the write failed;
/// - `/204-flush`: status 204, then a flush;
/// - `/200-write`: the same write after `write_header(200)`, which must succeed;
/// - `/404`: `nethttp::error`;
/// - `/own-date`: sets its own `Date`;
/// - `/panic`: panics.
fn app(w: &mut ResponseWriter, r: &mut Request) {
    match r.path() {
        "/hello" => w.write_all(b"Hello, World!").unwrap(),
        "/empty" => {}
        "/flush" => {
            w.write_all(b"abc").unwrap();
            w.flush().unwrap();
        }
        "/declared" => {
            w.headers_mut()
                .insert("content-length", "1234".parse().unwrap());
            if r.method() != Method::HEAD {
                w.write_all(&[b'd'; 1234]).unwrap();
            }
        }
        "/204" | "/304" | "/200-write" => {
            let status = match r.path() {
                "/204" => StatusCode::NO_CONTENT,
                "/304" => StatusCode::NOT_MODIFIED,
                _ => StatusCode::OK,
            };
            let headers = w.headers_mut();
            headers.insert("content-type", "text/html".parse().unwrap());
            headers.insert("content-length", "10".parse().unwrap());
            headers.insert("etag", "\"v1\"".parse().unwrap());
            w.write_header(status);
            let failed = w.write(b"0123456789").is_err();
            w.headers_mut()
                .insert("x-write-failed", failed.to_string().parse().unwrap());
        }
        "/204-flush" => {
            w.write_header(StatusCode::NO_CONTENT);
            w.flush().unwrap();
        }
        "/404" => nethttp::error(w, "no such thing", StatusCode::NOT_FOUND),
        "/own-date" => {
            w.headers_mut()
                .insert("date", "Sun, 06 Nov 1994 08:49:37 GMT".parse().unwrap());
            w.write_all(b"dated").unwrap();
        }
        "/panic" => panic!("deliberate panic for the Date test"),
        other => panic!("unexpected path {other}"),
    }
}

/// Reads the responses to `requests` (method, path) sent in one write, then checks that
/// nothing follows the last (which closes the connection).
fn pipeline(requests: &[(&str, &str)]) -> Vec<Response> {
    let server = serve(app);
    let mut raw = String::new();
    for (i, (method, path)) in requests.iter().enumerate() {
        let close = if i + 1 == requests.len() {
            "Connection: close\r\n"
        } else {
            ""
        };
        raw.push_str(&format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\n{close}\r\n"
        ));
    }
    let mut stream = connect(server.local_addr());
    stream.write_all(raw.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream);
    let responses = requests
        .iter()
        .map(|(method, path)| {
            read_response(&mut reader, *method == "HEAD")
                .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
        })
        .collect();
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&rest),
        "",
        "bytes after the last response"
    );
    server.close().unwrap();
    responses
}

#[test]
fn head_has_the_get_headers_and_no_body() {
    let r = pipeline(&[
        ("HEAD", "/hello"),
        ("GET", "/hello"),
        ("HEAD", "/declared"),
        ("HEAD", "/empty"),
        ("HEAD", "/flush"),
        ("GET", "/hello"),
    ]);
    let (head, get) = (&r[0], &r[1]);
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("13"));
    assert_eq!(head.header("content-length"), get.header("content-length"));
    assert_eq!(head.header("content-type"), get.header("content-type"));
    assert_eq!(head.header("transfer-encoding"), None);
    assert_eq!(get.text(), "Hello, World!");

    assert_eq!(
        r[2].header("content-length"),
        Some("1234"),
        "the declared length"
    );
    for bodiless in &r[3..5] {
        assert_eq!(bodiless.status, 200);
        assert_eq!(
            bodiless.header("transfer-encoding"),
            None,
            "HEAD is never chunked"
        );
    }
    assert_eq!(
        r[4].header("content-length"),
        None,
        "length unknown after a flush"
    );
    assert_eq!(
        r[5].text(),
        "Hello, World!",
        "framing intact after the HEADs"
    );
}

#[test]
fn status_204_and_304_have_no_body_and_no_framing_fields() {
    let r = pipeline(&[
        ("GET", "/204"),
        ("GET", "/304"),
        ("GET", "/204-flush"),
        ("HEAD", "/304"),
        ("GET", "/200-write"),
    ]);
    for (i, response) in r[..4].iter().enumerate() {
        assert_eq!(response.status, [204, 304, 204, 304][i]);
        assert_eq!(response.header("content-length"), None, "response {i}");
        assert_eq!(response.header("transfer-encoding"), None, "response {i}");
    }
    assert_eq!(r[0].header("etag"), Some("\"v1\""));
    assert_eq!(
        r[1].header("etag"),
        Some("\"v1\""),
        "304 keeps its validators"
    );
    assert_eq!(r[1].header("content-type"), None, "304 drops Content-Type");
    assert_eq!(r[3].header("content-type"), None);
    assert_eq!(r[4].status, 200);
    assert_eq!(
        r[4].text(),
        "0123456789",
        "the next response is framed right"
    );
}

#[test]
fn writing_a_body_after_204_or_304_is_an_error() {
    let r = pipeline(&[("GET", "/204"), ("GET", "/304"), ("GET", "/200-write")]);
    assert_eq!(r[0].header("x-write-failed"), Some("true"));
    assert_eq!(r[1].header("x-write-failed"), Some("true"));
    assert_eq!(r[2].header("x-write-failed"), Some("false"));
}

/// True if `value` is an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) with the right
/// weekday, within a few seconds of now.
fn check_date(value: &str) {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let b = value.as_bytes();
    let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    assert!(
        b.len() == 29
            && DAYS.contains(&&value[0..3])
            && &value[3..5] == ", "
            && digits(5..7)
            && b[7] == b' '
            && MONTHS.contains(&&value[8..11])
            && b[11] == b' '
            && digits(12..16)
            && b[16] == b' '
            && digits(17..19)
            && b[19] == b':'
            && digits(20..22)
            && b[22] == b':'
            && digits(23..25)
            && &value[25..] == " GMT",
        "not an IMF-fixdate: {value:?}"
    );
    let time = httpdate::parse_http_date(value).unwrap();
    assert_eq!(
        httpdate::fmt_http_date(time),
        value,
        "weekday or fields inconsistent"
    );
    let now = SystemTime::now();
    let skew = now.duration_since(time).unwrap_or_else(|e| e.duration());
    assert!(
        skew < Duration::from_secs(5),
        "Date {value} is {skew:?} off"
    );
}

fn dates(response: &Response) -> Vec<&str> {
    response
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("date"))
        .map(|(_, value)| value.as_str())
        .collect()
}

#[test]
fn every_response_has_a_date() {
    let mut all = pipeline(&[
        ("GET", "/hello"),
        ("HEAD", "/hello"),
        ("GET", "/empty"),
        ("GET", "/flush"),
        ("GET", "/204"),
        ("GET", "/304"),
        ("GET", "/404"),
        ("OPTIONS", "*"),
        ("GET", "/panic"),
        ("GET", "/hello"),
    ]);
    let server = serve(app);
    let addr = server.local_addr();
    all.extend(exchange_all(addr, b"GET /flush HTTP/1.0\r\n\r\n")); // close-delimited
    all.extend(exchange_all(addr, b"GET / HTTP/1.1\r\n\r\n")); // 400, no Host
    all.extend(exchange_all(
        addr,
        b"GET / HTTP/1.1\r\nHost: x\r\nExpect: nothing\r\n\r\n",
    ));
    all.extend(exchange_all(addr, b"GET / HTTP/2.0\r\nHost: x\r\n\r\n")); // 505
    let statuses: Vec<u16> = all.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 204, 304, 404, 200, 500, 200, 200, 400, 417, 505]
    );
    for response in &all {
        let found = dates(response);
        assert_eq!(found.len(), 1, "exactly one Date on {response:?}");
        check_date(found[0]);
    }

    // A handler's own Date is kept, and not doubled.
    let own = exchange_all(
        addr,
        b"GET /own-date HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(dates(&own[0]), ["Sun, 06 Nov 1994 08:49:37 GMT"]);
    server.close().unwrap();
}
