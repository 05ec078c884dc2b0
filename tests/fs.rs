//! Serving files: `file_server`, `serve_file` and `serve_content` over real sockets —
//! types and validators, conditional and range requests, listings, redirects, refusals
//! of every way out of the root, HEAD, and a 1 GiB download to a slow client with flat
//! memory.

mod util;

use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use nethttp::{blocking, file_server, Request, ResponseWriter, Running};
use util::{connect, read_response, serve, Response};

// ---- fixtures ----

/// A directory under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("nethttp-fs-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

const HELLO: &str = "Hello, files!\n";
const SECRET: &str = "TOP SECRET: outside the root";

/// A parent directory holding `secret.txt` and the served `root/`:
///
/// ```text
/// secret.txt              outside the root
/// root/hello.txt          root/page.html     root/style.css    root/digits.txt
/// root/notes              (text, no extension)
/// root/blob.unknownext    (binary)
/// root/sub/index.html     root/empty/
/// root/list/…             names that need escaping, and a directory
/// root/inside -> hello.txt          a link within the root
/// root/escape -> ../secret.txt      a link out of it
/// root/escape-dir -> ..             a link to the parent directory
/// ```
struct Site {
    dir: TempDir,
    root: PathBuf,
}

fn site(name: &str) -> Site {
    let dir = TempDir::new(name);
    let root = dir.0.join("root");
    let write = |rel: &str, bytes: &[u8]| {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    };
    fs::write(dir.0.join("secret.txt"), SECRET).unwrap();
    write("hello.txt", HELLO.as_bytes());
    write("page.html", b"<!doctype html><title>t</title><p>page");
    write("style.css", b"body { color: red }");
    write("digits.txt", b"0123456789");
    write("notes", b"plain words, no extension");
    write("blob.unknownext", &[0, 1, 2, 3, 0xff, 0xfe]);
    write("sub/index.html", b"<h1>sub index</h1>");
    fs::create_dir_all(root.join("empty")).unwrap();
    for name in [
        "b.txt",
        "a.txt",
        "<x>&'\".txt",
        "q?#%.txt",
        "sp ace.txt",
        "é.txt",
    ] {
        write(&format!("list/{name}"), b"x");
    }
    fs::create_dir_all(root.join("list/zdir")).unwrap();
    fs::create_dir_all(root.join("list/Adir")).unwrap();
    std::os::unix::fs::symlink("hello.txt", root.join("inside")).unwrap();
    std::os::unix::fs::symlink("../secret.txt", root.join("escape")).unwrap();
    std::os::unix::fs::symlink("..", root.join("escape-dir")).unwrap();
    Site { dir, root }
}

fn start_site(name: &str) -> (Site, Running) {
    let site = site(name);
    let server = serve(file_server(&site.root));
    (site, server)
}

/// The resident-memory test runs alone (it takes this lock to write); the others share it.
static MEMORY: RwLock<()> = RwLock::new(());

fn shared() -> RwLockReadGuard<'static, ()> {
    MEMORY.read().unwrap_or_else(|e| e.into_inner())
}

fn alone() -> RwLockWriteGuard<'static, ()> {
    MEMORY.write().unwrap_or_else(|e| e.into_inner())
}

// ---- requests ----

/// Sends `method target` with extra header lines and reads the one response.
fn request(addr: SocketAddr, method: &str, target: &str, headers: &[(&str, &str)]) -> Response {
    let mut raw = format!("{method} {target} HTTP/1.1\r\nHost: x\r\n");
    for (name, value) in headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str("Connection: close\r\n\r\n");
    let mut stream = connect(addr);
    stream.write_all(raw.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream);
    read_response(&mut reader, method == "HEAD").expect("a response")
}

fn get(addr: SocketAddr, target: &str) -> Response {
    request(addr, "GET", target, &[])
}

fn get_with(addr: SocketAddr, target: &str, headers: &[(&str, &str)]) -> Response {
    request(addr, "GET", target, headers)
}

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

// ---- directories ----

#[test]
fn a_listing_is_sorted_and_escaped() {
    let _g = shared();
    let (_site, server) = start_site("listing");
    let r = get(server.local_addr(), "/list/");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let text = r.text();
    let links: Vec<&str> = text.lines().filter(|l| l.starts_with("<a ")).collect();
    assert_eq!(
        links,
        [
            "<a href=\"%3Cx%3E&amp;%27%22.txt\">&lt;x&gt;&amp;&#39;&#34;.txt</a>",
            "<a href=\"Adir/\">Adir/</a>",
            "<a href=\"a.txt\">a.txt</a>",
            "<a href=\"b.txt\">b.txt</a>",
            "<a href=\"q%3F%23%25.txt\">q?#%.txt</a>",
            "<a href=\"sp%20ace.txt\">sp ace.txt</a>",
            "<a href=\"zdir/\">zdir/</a>",
            "<a href=\"%C3%A9.txt\">é.txt</a>",
        ],
        "{text}"
    );
    // Every link leads back to its file.
    for (target, body) in [("/list/q%3F%23%25.txt", "x"), ("/list/%C3%A9.txt", "x")] {
        assert_eq!(get(server.local_addr(), target).text(), body, "{target}");
    }
    let empty = get(server.local_addr(), "/empty/");
    assert!(empty.text().contains("<pre>\n</pre>"), "{}", empty.text());
}

#[test]
fn a_directory_with_index_html_serves_it() {
    let _g = shared();
    let (_site, server) = start_site("index");
    let r = get(server.local_addr(), "/sub/");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "<h1>sub index</h1>");
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
}

#[test]
fn urls_are_redirected_to_their_canonical_form() {
    let _g = shared();
    let (_site, server) = start_site("redirects");
    let addr = server.local_addr();
    for (target, location) in [
        ("/sub", "sub/"),
        ("/sub?x=1", "sub/?x=1"),
        ("/list/zdir", "zdir/"),
        ("/sub/index.html", "./"),
        ("/index.html", "./"),
        ("/hello.txt/", "../hello.txt"),
    ] {
        let r = get(addr, target);
        assert_eq!(r.status, 301, "{target}");
        assert_eq!(r.header("location"), Some(location), "{target}");
    }
}

#[test]
fn missing_files_get_404() {
    let _g = shared();
    let (_site, server) = start_site("missing");
    for target in ["/nope.txt", "/nope/", "/hello.txt/more"] {
        let r = get(server.local_addr(), target);
        assert_eq!(
            (r.status, r.text().as_str()),
            (404, "404 page not found\n"),
            "{target}"
        );
    }
}

// ---- the root is a wall ----

#[test]
fn no_request_reaches_a_file_outside_the_root() {
    let _g = shared();
    let (_site, server) = start_site("escape");
    let addr = server.local_addr();
    for target in [
        "/../secret.txt",
        "/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/sub/..%2f..%2fsecret.txt",
        "/sub/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/..%5csecret.txt",
        "/escape",
        "/escape-dir/secret.txt",
        "/escape-dir/",
        "/secret.txt%00.txt",
        "/bad%zz",
    ] {
        let raw = format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let answer = String::from_utf8_lossy(&util::exchange(addr, raw.as_bytes())).into_owned();
        assert!(!answer.contains("TOP SECRET"), "{target} leaked: {answer}");
        let status = answer.get(9..12).unwrap_or_default();
        assert!(
            status == "404" || status == "400",
            "{target}: refused with 404 or 400, got {answer}"
        );
    }
}

#[test]
fn serve_file_refuses_dot_dot_in_the_url_and_serves_only_its_file() {
    let _g = shared();
    let site = site("servefile");
    let file = site.root.join("hello.txt");
    let server = serve(blocking(move |w: &mut ResponseWriter, r: &mut Request| {
        nethttp::serve_file(w, r, &file);
    }));
    let addr = server.local_addr();
    let r = get(addr, "/any/name/at/all");
    assert_eq!((r.status, r.text().as_str()), (200, HELLO));
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    let r = get(addr, "/a/%2e%2e/b");
    assert_eq!((r.status, r.text().as_str()), (400, "invalid URL path\n"));
    let r = get(addr, "/x/index.html");
    assert_eq!((r.status, r.header("location")), (301, Some("./")));
    drop(site.dir);
}

// ---- memory ----

/// The resident set size of this process (server and client both), in bytes.
fn rss() -> u64 {
    let status = fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .expect("a VmRSS line");
    kib * 1024
}

/// Samples the RSS every few milliseconds on a thread until stopped; reports the peak.
fn sample_rss(stop: Arc<AtomicBool>) -> thread::JoinHandle<u64> {
    thread::spawn(move || {
        let mut peak = rss();
        while !stop.load(Ordering::Relaxed) {
            peak = peak.max(rss());
            thread::sleep(Duration::from_millis(5));
        }
        peak.max(rss())
    })
}

#[test]
fn a_one_gib_file_to_a_slow_client_costs_no_memory() {
    const SIZE: u64 = 1 << 30;
    const SLOW_FOR: Duration = Duration::from_secs(2);
    let _g = alone();
    let dir = TempDir::new("big");
    fs::File::create(dir.0.join("big.bin"))
        .and_then(|f| f.set_len(SIZE))
        .expect("a sparse file");
    let server = serve(file_server(&dir.0));

    let baseline = rss();
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = sample_rss(Arc::clone(&stop));

    let mut stream = connect(server.local_addr());
    stream
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        head.push_str(&line);
    }
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains(&format!("Content-Length: {SIZE}\r\n")),
        "{head}"
    );
    assert!(!head.contains("Transfer-Encoding"), "{head}");

    let mut buf = vec![0u8; 64 * 1024];
    let mut received = 0u64;
    let started = Instant::now();
    loop {
        let n = reader.read(&mut buf).expect("read the body");
        if n == 0 {
            break;
        }
        received += n as u64;
        if started.elapsed() < SLOW_FOR {
            thread::sleep(Duration::from_millis(2));
        }
    }
    stop.store(true, Ordering::Relaxed);
    let peak = sampler.join().unwrap();
    assert_eq!(received, SIZE, "every byte, and nothing after");
    let growth = peak.saturating_sub(baseline);
    eprintln!(
        "1 GiB in {:.1} s; RSS {} MiB at the start, peak growth {} KiB",
        started.elapsed().as_secs_f64(),
        baseline >> 20,
        growth >> 10
    );
    assert!(
        growth < 32 << 20,
        "RSS grew by {} MiB while serving 1 GiB",
        growth >> 20
    );
}
