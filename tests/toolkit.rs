//! The request toolkit over real sockets: the query, URL-encoded forms (inline and
//! blocking), cookies both ways and Basic credentials, through a server of the library's
//! own and through the echo showcase's routes (`/query`, `/form`, `/cookies`,
//! `/set-cookie`, `/auth`), with the edge cases Go's tests cover.

mod util;

use std::io::Write;

use nethttp::http::StatusCode;
use nethttp::{blocking, set_cookie, Cookie, Request, ResponseWriter, SameSite, ServeMux};
use util::echo_child::{get, request, Echo};
use util::{exchange_all, serve};

/// Lines of `name=value`, for comparing.
fn lines(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(n, v)| format!("{n}={v}\n")).collect()
}

fn get_with(addr: std::net::SocketAddr, target: &str, field: &str) -> util::Response {
    let raw = format!("GET {target} HTTP/1.1\r\nHost: x\r\n{field}\r\n\r\n");
    request(addr, raw.as_bytes())
}

fn post_form(addr: std::net::SocketAddr, target: &str, body: &str) -> util::Response {
    let raw = format!(
        "POST {target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    request(addr, raw.as_bytes())
}

#[test]
fn the_query_is_decoded_as_go_decodes_it() {
    let echo = Echo::start(&[]);
    let r = get(
        echo.addr,
        "/query?a=1&b=x+y&a=%20two%2B&c&=e&&name=%E2%82%AC",
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text(),
        lines(&[
            ("a", "1"),
            ("b", "x y"),
            ("a", " two+"),
            ("c", ""),
            ("", "e"),
            ("name", "€")
        ])
    );
    assert_eq!(get(echo.addr, "/query").text(), "");
    for bad in [
        "/query?a=%zz",
        "/query?a=1%",
        "/query?a=%4",
        "/query?a=1;b=2",
    ] {
        let r = get(echo.addr, bad);
        assert_eq!(r.status, 400, "{bad}");
    }
    assert_eq!(
        get(echo.addr, "/query?a=%zz").text(),
        "invalid URL escape \"%zz\"\n"
    );
}

#[test]
fn a_form_body_comes_before_the_query() {
    let echo = Echo::start(&[]);
    let r = post_form(
        echo.addr,
        "/form?q=1&a=from-query",
        "a=1&b=x+y%21&a=2&empty=",
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text(),
        lines(&[
            ("a", "1"),
            ("b", "x y!"),
            ("a", "2"),
            ("empty", ""),
            ("q", "1"),
            ("a", "from-query")
        ])
    );
    let r = post_form(echo.addr, "/form", "a=%GG");
    assert_eq!(r.status, 400);
    // Another type of body is not a form: only the query counts.
    let raw = "POST /form?q=1 HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\na=1";
    assert_eq!(request(echo.addr, raw.as_bytes()).text(), "q=1\n");
    // GET has no body form, and /form takes only POST.
    assert_eq!(get(echo.addr, "/form").status, 405);
}

#[test]
fn cookies_are_read_as_go_reads_them() {
    let echo = Echo::start(&[]);
    let field = r#"Cookie: a=1; b="two"; bad name=x; c=d"e; ; e=; f=g h"#;
    let r = get_with(echo.addr, "/cookies", field);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text(),
        lines(&[("a", "1"), ("b", "two"), ("e", ""), ("f", "g h")])
    );
    // Several Cookie fields are read in order.
    let raw = "GET /cookies HTTP/1.1\r\nHost: x\r\nCookie: x=1\r\nCookie: y=2; z=3\r\n\r\n";
    assert_eq!(
        request(echo.addr, raw.as_bytes()).text(),
        lines(&[("x", "1"), ("y", "2"), ("z", "3")])
    );
    assert_eq!(get(echo.addr, "/cookies").text(), "");
}

#[test]
fn set_cookie_writes_as_go_writes() {
    let echo = Echo::start(&[]);
    let cases = [
        ("name=a&value=1", Some("a=1")),
        (
            "name=s&value=v&path=/p&domain=.example.com&max_age=60&secure=1&http_only=1&same_site=strict",
            Some("s=v; Path=/p; Domain=example.com; Max-Age=60; HttpOnly; Secure; SameSite=Strict"),
        ),
        ("name=q&value=a+b", Some("q=\"a b\"")),
        ("name=q&value=a%2Cb", Some("q=\"a,b\"")),
        ("name=q&value=a%22b%3Bc%5Cd", Some("q=abcd")),
        ("name=d&value=1&max_age=-1", Some("d=1; Max-Age=0")),
        ("name=d&value=1&max_age=0", Some("d=1")),
        ("name=d&value=1&domain=bad..domain", Some("d=1")),
        ("name=n&value=1&same_site=none&secure=1", Some("n=1; Secure; SameSite=None")),
        ("name=bad+name&value=1", None),
        ("name=&value=1", None),
    ];
    for (query, expected) in cases {
        let r = get(echo.addr, &format!("/set-cookie?{query}"));
        assert_eq!(r.status, 200, "{query}");
        assert_eq!(r.header("set-cookie"), expected, "{query}");
    }
}

#[test]
fn basic_auth_as_go_reads_it() {
    let echo = Echo::start(&[]);
    // "Aladdin:open sesame", as RFC 7617 has it; the scheme is case-insensitive.
    for scheme in ["Basic", "basic", "BASIC"] {
        let field = format!("Authorization: {scheme} QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        let r = get_with(echo.addr, "/auth", &field);
        assert_eq!(r.status, 200, "{scheme}");
        assert_eq!(r.text(), "user Aladdin");
    }
    let refused = [
        "Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ", // no padding
        "Authorization: Basic !!!!",                       // not base64
        "Authorization: Basic bm9jb2xvbg==",               // "nocolon"
        "Authorization: Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        "Authorization: Basic",
        "X-Other: 1",
    ];
    for field in refused {
        let r = get_with(echo.addr, "/auth", field);
        assert_eq!(r.status, 401, "{field}");
        assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"echo\""));
    }
    // An empty user and password are credentials too (":").
    let r = get_with(echo.addr, "/auth", "Authorization: Basic Og==");
    assert_eq!((r.status, r.text()), (200, "user ".to_string()));
}

#[test]
fn only_get_and_head_serve_files() {
    let echo = Echo::start(&[]);
    let raw = "POST /files/Cargo.toml HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
    let r = request(echo.addr, raw.as_bytes());
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
}

/// The library's own API from a handler: `form_value` parses on demand, body first;
/// `post_form_value` sees the body only; values are the same inline and blocking.
#[test]
fn form_values_inline_and_blocking() {
    fn show(w: &mut ResponseWriter, r: &mut Request) {
        let a = r.form_value("a").map(str::to_owned);
        let q = r.post_form_value("q").map(str::to_owned);
        let missing = r.query_value("missing");
        let _ = write!(
            w,
            "a={a:?} q={q:?} missing={missing:?} query={:?}",
            r.query_value("q")
        );
    }
    let mut mux = ServeMux::new();
    mux.handle("/inline", show);
    mux.handle("/blocking", blocking(show));
    let running = serve(mux);
    for path in ["/inline", "/blocking"] {
        let r = post_form(
            running.local_addr(),
            &format!("{path}?a=query&q=1"),
            "a=body",
        );
        assert_eq!(
            r.text(),
            r#"a=Some("body") q=None missing=None query=Some("1")"#,
            "{path}"
        );
    }
    running.close().unwrap();
}

/// A URL-encoded body over Go's 10 MB is refused; a `max_bytes` limit replaces that one.
#[test]
fn a_form_body_over_the_limit_is_refused() {
    fn parse(w: &mut ResponseWriter, r: &mut Request) {
        match r.parse_form() {
            Ok(()) => {
                let _ = write!(w, "{} values", r.form().len());
            }
            Err(e) => nethttp::error(w, &e.to_string(), StatusCode::BAD_REQUEST),
        }
    }
    let mut mux = ServeMux::new();
    mux.handle("/form", blocking(parse));
    mux.handle("/small", nethttp::max_bytes(blocking(parse), 10));
    let running = serve(mux);
    let addr = running.local_addr();
    let big = "a=".to_string() + &"x".repeat(nethttp::MAX_FORM_BYTES as usize);
    let r = post_form(addr, "/form", &big);
    assert_eq!(
        (r.status, r.text()),
        (400, "http: POST too large\n".to_string())
    );
    let r = post_form(addr, "/form", &big[..big.len() - 3]);
    assert_eq!((r.status, r.text()), (200, "1 values".to_string()));
    let r = post_form(addr, "/small", "a=1&b=2");
    assert_eq!((r.status, r.text()), (200, "2 values".to_string()));
    let r = post_form(addr, "/small", "a=1&b=2&c=3");
    assert_eq!(r.status, 400, "{}", r.text());
    running.close().unwrap();
}

/// What `set_cookie` writes, a client sends back, and `cookie(name)` reads: the same
/// cookie, quoted or not.
#[test]
fn a_cookie_set_reads_back() {
    fn set(w: &mut ResponseWriter, _r: &mut Request) {
        let mut session = Cookie::new("session", "a b,c");
        session.same_site = Some(SameSite::Lax);
        set_cookie(w, &session);
        set_cookie(w, &Cookie::new("plain", "1"));
        set_cookie(w, &Cookie::new("bad name", "dropped"));
    }
    fn read(w: &mut ResponseWriter, r: &mut Request) {
        let session = r.cookie("session").map(|c| (c.value, c.quoted));
        let _ = write!(w, "{session:?} {:?}", r.cookie("nope"));
    }
    let mut mux = ServeMux::new();
    mux.handle("/set", set);
    mux.handle("/read", read);
    let running = serve(mux);
    let addr = running.local_addr();
    let raw = b"GET /set HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let responses = exchange_all(addr, raw);
    let set_cookies: Vec<&str> = responses[0]
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(set_cookies, ["session=\"a b,c\"; SameSite=Lax", "plain=1"]);
    let sent_back = set_cookies[0].split(';').next().unwrap();
    let r = get_with(addr, "/read", &format!("Cookie: plain=1; {sent_back}"));
    assert_eq!(r.text(), r#"Some(("a b,c", true)) None"#);
    running.close().unwrap();
}

/// A multipart body with a preamble and an epilogue, a field, a file with CRLFs inside, a
/// part with no file name (a field), and a delimiter look-alike, sent in small pieces so
/// that delimiters and headers split across reads.
#[test]
fn a_multipart_form_is_read_as_a_stream() {
    let echo = Echo::start(&[]);
    let file = b"line one\r\n--boundary-ish\r\nline two\r\n";
    let mut body = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello world\r\n--XyZ\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"C/notes.txt\"\r\nContent-Type: text/plain\r\n\r\n".to_vec();
    body.extend_from_slice(file);
    body.extend_from_slice(b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"plain\"\r\n\r\nno filename\r\n--XyZ--\r\nepilogue\r\n");
    let head = format!(
        "POST /form?q=1 HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut stream = util::connect(echo.addr);
    stream.set_nodelay(true).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    for piece in body.chunks(5) {
        stream.write_all(piece).unwrap();
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    let r = util::echo_child::read(&mut std::io::BufReader::new(stream), false);
    assert_eq!(r.status, 200, "{}", r.text());
    let sha = sha256_hex(file);
    assert_eq!(
        r.text(),
        format!(
            "title=hello world\nplain=no filename\nq=1\nfile name=upload filename=notes.txt size={} sha256={sha}\n",
            file.len()
        )
    );
}

#[test]
fn a_malformed_multipart_body_gets_400() {
    let echo = Echo::start(&[]);
    let cases: [(&str, &[u8]); 5] = [
        (
            "multipart/form-data; boundary=b",
            b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\nv\r\n--b junk\r\n--b--",
        ),
        (
            "multipart/form-data; boundary=b",
            b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\nno end",
        ),
        (
            "multipart/form-data; boundary=b",
            b"--b\r\nbad header line\r\n\r\nv\r\n--b--",
        ),
        (
            "multipart/form-data; boundary=b",
            b"--b\r\n Content-Disposition: form-data\r\n\r\nv\r\n--b--",
        ),
        ("multipart/form-data", b"--b--"),
    ];
    for (content_type, body) in cases {
        let mut raw = format!(
            "POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        raw.extend_from_slice(body);
        let r = request(echo.addr, &raw);
        // A multipart type without a boundary is malformed too (Go's ErrMissingBoundary).
        let body_text = String::from_utf8_lossy(body);
        assert_eq!(r.status, 400, "{body_text}: {}", r.text());
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Bytes of the large upload below: enough that holding it would show in the server's
/// memory many times over. (`benches/upload_form.sh` sends 1 GiB to the release build.)
const LARGE_UPLOAD: u64 = 256 << 20;

/// A large file part streams through `/form` to its hash: the answer names its size and
/// SHA-256, and the server's resident memory grows by far less than the file.
#[test]
fn a_large_multipart_file_is_hashed_without_being_held() {
    use sha2::{Digest, Sha256};
    let _alone = util::memory::alone();
    let echo = Echo::start(&[]);
    let head_part =
        b"--big\r\nContent-Disposition: form-data; name=\"blob\"; filename=\"blob.bin\"\r\n\r\n";
    let tail = b"\r\n--big--\r\n";
    let length = head_part.len() as u64 + LARGE_UPLOAD + tail.len() as u64;
    let head = format!(
        "POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=big\r\nContent-Length: {length}\r\n\r\n"
    );
    let before = echo.memory("VmRSS");
    let mut stream = util::connect(echo.addr);
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(120)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(head_part).unwrap();
    let mut hash = Sha256::new();
    let mut piece = vec![0u8; 1 << 20];
    for i in 0..LARGE_UPLOAD / piece.len() as u64 {
        for (j, b) in piece.iter_mut().enumerate() {
            *b = (i as usize * 31 + j * 7) as u8;
        }
        hash.update(&piece);
        stream.write_all(&piece).unwrap();
    }
    stream.write_all(tail).unwrap();
    let r = util::echo_child::read(&mut std::io::BufReader::new(stream), false);
    let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        r.text(),
        format!("file name=blob filename=blob.bin size={LARGE_UPLOAD} sha256={hex}\n")
    );
    let grew = echo.memory("VmHWM").saturating_sub(before);
    assert!(
        grew < 16 << 20,
        "the server's peak RSS grew by {} KiB",
        grew >> 10
    );
}

/// Go's `ParseMultipartForm` and `FormFile` from a blocking handler: values join the form
/// (after the query's, as in Go), a small file stays in memory, a larger one goes to a
/// temporary file, and both read back whole.
#[test]
fn parse_multipart_form_keeps_values_and_files() {
    fn handler(w: &mut ResponseWriter, r: &mut Request) {
        if let Err(e) = r.parse_multipart_form(64) {
            return nethttp::error(w, &e.to_string(), StatusCode::BAD_REQUEST);
        }
        let values: Vec<String> = r.form().iter().map(|(n, v)| format!("{n}={v}")).collect();
        let mut answer = values.join(",");
        for name in ["small", "large"] {
            let file = r.form_file(name).expect("the file");
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut file.open().unwrap(), &mut bytes).unwrap();
            answer += &format!(
                " {name}:{}:{}:{}:{}",
                file.filename,
                file.size,
                file.in_memory(),
                bytes == vec![name.as_bytes()[0]; file.size as usize]
            );
        }
        let _ = write!(w, "{answer} title={:?}", r.form_value("title"));
    }
    let running = serve(blocking(handler));
    let large = "l".repeat(1000);
    let body = format!(
        "--B\r\nContent-Disposition: form-data; name=title\r\n\r\nhi\r\n--B\r\nContent-Disposition: form-data; name=small; filename=s.txt\r\n\r\nsssss\r\n--B\r\nContent-Disposition: form-data; name=large; filename=l.bin\r\n\r\n{large}\r\n--B--\r\n"
    );
    let raw = format!(
        "POST /?title=query HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let r = request(running.local_addr(), raw.as_bytes());
    assert_eq!(
        r.text(),
        "title=query,title=hi small:s.txt:5:true:true large:l.bin:1000:false:true title=Some(\"query\")"
    );
    running.close().unwrap();
}
