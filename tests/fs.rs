//! Serving files: `file_server` and `serve_content` over real sockets — types and
//! validators, HEAD, conditional requests (`If-Modified-Since`, ETags in RFC order), and
//! range requests (single, multipart, unsatisfiable, `If-Range`).

mod util;

use std::fs;
use std::io::{self, BufReader, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use nethttp::{blocking, Request, ResponseWriter};
use util::memory::shared;
use util::site::{get, get_with, request, start_site, HELLO};
use util::{connect, read_response, serve};

/// An IMF-fixdate for `t` (the format `Last-Modified` uses), without a date crate.
fn http_date(t: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn modified(path: &Path) -> SystemTime {
    fs::metadata(path).unwrap().modified().unwrap()
}

// ---- files ----

#[test]
fn a_file_is_served_with_type_length_and_date() {
    let _g = shared();
    let (site, server) = start_site("file");
    let r = get(server.local_addr(), "/hello.txt");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), HELLO);
    assert_eq!(r.framing, "length");
    assert_eq!(r.header("content-length"), Some("14"));
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    let last_modified = http_date(modified(&site.root.join("hello.txt")));
    assert_eq!(r.header("last-modified"), Some(last_modified.as_str()));
}

#[test]
fn types_come_from_the_extension_or_are_sniffed() {
    let _g = shared();
    let (_site, server) = start_site("types");
    let addr = server.local_addr();
    for (path, expected) in [
        ("/page.html", "text/html; charset=utf-8"),
        ("/style.css", "text/css; charset=utf-8"),
        ("/notes", "text/plain; charset=utf-8"),
        ("/blob.unknownext", "application/octet-stream"),
        ("/inside", "text/plain; charset=utf-8"),
    ] {
        let r = get(addr, path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type"), Some(expected), "{path}");
    }
    assert_eq!(
        get(addr, "/inside").text(),
        HELLO,
        "a link inside the root works"
    );
}

#[test]
fn head_has_the_head_of_get_and_no_body() {
    let _g = shared();
    let (_site, server) = start_site("head");
    let mut stream = connect(server.local_addr());
    stream
        .write_all(b"HEAD /hello.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /digits.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(stream);
    let head = read_response(&mut reader, true).unwrap();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("14"));
    assert_eq!(
        head.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    // Had a body been sent after the HEAD response, this would read it as a response.
    let next = read_response(&mut reader, false).unwrap();
    assert_eq!(next.text(), "0123456789");

    let r = request(server.local_addr(), "HEAD", "/", &[]);
    assert_eq!(r.status, 200, "a listing answers HEAD too");
    assert!(r.body.is_empty());
}

#[test]
fn if_modified_since_gives_304() {
    let _g = shared();
    let (site, server) = start_site("ims");
    let addr = server.local_addr();
    let mtime = modified(&site.root.join("hello.txt"));
    let same = http_date(mtime);
    let r = get_with(addr, "/hello.txt", &[("If-Modified-Since", &same)]);
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    assert_eq!(r.header("content-type"), None);
    assert_eq!(r.header("content-length"), None);
    assert_eq!(r.header("last-modified"), Some(same.as_str()));

    let older = http_date(mtime - Duration::from_secs(3600));
    let r = get_with(addr, "/hello.txt", &[("If-Modified-Since", &older)]);
    assert_eq!((r.status, r.text().as_str()), (200, HELLO));

    let r = get_with(addr, "/hello.txt", &[("If-Unmodified-Since", &older)]);
    assert_eq!(r.status, 412);
    let r = get_with(addr, "/hello.txt", &[("If-Unmodified-Since", &same)]);
    assert_eq!(r.status, 200);

    let dir = http_date(modified(&site.root.join("list")));
    let r = get_with(addr, "/list/", &[("If-Modified-Since", &dir)]);
    assert_eq!(r.status, 304, "listings have a Last-Modified too");
}

/// A handler that tags its content `"v1"` and serves it with `serve_content`.
fn tagged(w: &mut ResponseWriter, r: &mut Request) {
    w.headers_mut().insert("etag", "\"v1\"".parse().unwrap());
    let modtime = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let content = io::Cursor::new(b"0123456789".to_vec());
    nethttp::serve_content(w, r, "digits.txt", Some(modtime), content);
}

#[test]
fn etags_are_checked_in_rfc_order() {
    let _g = shared();
    let server = serve(blocking(tagged));
    let addr = server.local_addr();
    let date = "Tue, 14 Nov 2023 22:13:20 GMT";

    let r = get(addr, "/");
    assert_eq!((r.status, r.text().as_str()), (200, "0123456789"));
    assert_eq!(r.header("etag"), Some("\"v1\""));
    assert_eq!(r.header("last-modified"), Some(date));

    let status =
        |method: &str, headers: &[(&str, &str)]| request(addr, method, "/", headers).status;
    // If-None-Match: weak comparison; 304 for GET and HEAD, 412 for others.
    assert_eq!(status("GET", &[("If-None-Match", "\"v1\"")]), 304);
    assert_eq!(status("GET", &[("If-None-Match", "\"x\", W/\"v1\"")]), 304);
    assert_eq!(status("GET", &[("If-None-Match", "*")]), 304);
    assert_eq!(status("GET", &[("If-None-Match", "\"v2\"")]), 200);
    assert_eq!(status("POST", &[("If-None-Match", "\"v1\"")]), 412);
    // If-None-Match wins over If-Modified-Since.
    let newer = [("If-None-Match", "\"v2\""), ("If-Modified-Since", date)];
    assert_eq!(status("GET", &newer), 200);
    // If-Match: strong comparison, 412 when nothing matches; it wins over the date.
    assert_eq!(status("GET", &[("If-Match", "\"v1\"")]), 200);
    assert_eq!(status("GET", &[("If-Match", "*")]), 200);
    assert_eq!(status("GET", &[("If-Match", "W/\"v1\"")]), 412);
    assert_eq!(status("PUT", &[("If-Match", "\"v0\", \"v2\"")]), 412);
    let old = "Mon, 01 Jan 2001 00:00:00 GMT";
    assert_eq!(
        status(
            "GET",
            &[("If-Match", "\"v1\""), ("If-Unmodified-Since", old)]
        ),
        200
    );
    assert_eq!(status("GET", &[("If-Unmodified-Since", old)]), 412);

    // A 304 with an ETag drops Last-Modified.
    let r = get_with(addr, "/", &[("If-None-Match", "\"v1\"")]);
    assert_eq!(r.header("etag"), Some("\"v1\""));
    assert_eq!(r.header("last-modified"), None);
}

// ---- ranges ----

#[test]
fn a_single_range_gets_206() {
    let _g = shared();
    let (_site, server) = start_site("range1");
    let addr = server.local_addr();
    for (range, content_range, body) in [
        ("bytes=2-4", "bytes 2-4/10", "234"),
        ("bytes=-3", "bytes 7-9/10", "789"),
        ("bytes=8-", "bytes 8-9/10", "89"),
        ("bytes=5-100", "bytes 5-9/10", "56789"),
    ] {
        let r = get_with(addr, "/digits.txt", &[("Range", range)]);
        assert_eq!(r.status, 206, "{range}");
        assert_eq!(r.header("content-range"), Some(content_range), "{range}");
        assert_eq!(r.header("content-length"), Some(&*body.len().to_string()));
        assert_eq!(r.text(), body, "{range}");
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    }
}

#[test]
fn several_ranges_get_a_multipart_body() {
    let _g = shared();
    let (_site, server) = start_site("range2");
    let r = get_with(
        server.local_addr(),
        "/digits.txt",
        &[("Range", "bytes=0-1,5-6,-1")],
    );
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-range"), None);
    let content_type = r.header("content-type").unwrap();
    let boundary = content_type
        .strip_prefix("multipart/byteranges; boundary=")
        .expect("a multipart type");
    assert!(!boundary.is_empty());
    assert_eq!(r.header("content-length"), Some(&*r.body.len().to_string()));

    let delimiter = format!("--{boundary}");
    let text = r.text();
    let body = text
        .strip_suffix(&format!("\r\n{delimiter}--\r\n"))
        .expect("a closing delimiter");
    let parts: Vec<&str> = body.split(&format!("{delimiter}\r\n")).skip(1).collect();
    assert_eq!(parts.len(), 3, "{text}");
    let expected = [
        ("bytes 0-1/10", "01"),
        ("bytes 5-6/10", "56"),
        ("bytes 9-9/10", "9"),
    ];
    for (part, (range, bytes)) in parts.iter().zip(expected) {
        let (head, data) = part.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Range: {range}")), "{head}");
        assert!(
            head.contains("Content-Type: text/plain; charset=utf-8"),
            "{head}"
        );
        assert_eq!(data.trim_end_matches("\r\n"), bytes);
    }
}

#[test]
fn unsatisfiable_ranges_get_416() {
    let _g = shared();
    let (_site, server) = start_site("range416");
    let addr = server.local_addr();
    let r = get_with(addr, "/digits.txt", &[("Range", "bytes=10-20")]);
    assert_eq!(r.status, 416);
    assert_eq!(r.header("content-range"), Some("bytes */10"));
    assert_eq!(r.text(), "invalid range: failed to overlap\n");
    assert_eq!(
        r.header("last-modified"),
        None,
        "errors drop the validators"
    );

    let r = get_with(addr, "/digits.txt", &[("Range", "bytes=5-2")]);
    assert_eq!((r.status, r.text().as_str()), (416, "invalid range\n"));
    assert_eq!(r.header("content-range"), None);

    // Ranges adding up to more than the file are ignored: the whole file, 200.
    let r = get_with(addr, "/digits.txt", &[("Range", "bytes=0-9,0-9")]);
    assert_eq!((r.status, r.text().as_str()), (200, "0123456789"));
    // Units other than bytes are an error, as in Go.
    let r = get_with(addr, "/digits.txt", &[("Range", "items=0-1")]);
    assert_eq!(r.status, 416);
}

#[test]
fn if_range_sends_the_range_only_for_the_same_version() {
    let _g = shared();
    let server = serve(blocking(tagged));
    let addr = server.local_addr();
    let range = ("Range", "bytes=0-1");
    let date = "Tue, 14 Nov 2023 22:13:20 GMT";
    let check = |if_range: &str, status: u16, body: &str| {
        let r = get_with(addr, "/", &[range, ("If-Range", if_range)]);
        assert_eq!(
            (r.status, r.text().as_str()),
            (status, body),
            "If-Range: {if_range}"
        );
    };
    check("\"v1\"", 206, "01");
    check("\"v2\"", 200, "0123456789");
    check("W/\"v1\"", 200, "0123456789");
    check(date, 206, "01");
    check("Tue, 14 Nov 2023 22:13:21 GMT", 200, "0123456789");
}
