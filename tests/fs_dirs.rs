//! Serving directories and guarding the root: listings sorted and escaped, `index.html`,
//! redirects to canonical URLs, 404s, refusals of every way out of the root (also for
//! `serve_file`), and a 1 GiB download to a slow client with flat memory.

mod util;

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use nethttp::{blocking, file_server, Request, ResponseWriter};
use util::memory::{alone, rss, shared};
use util::site::{get, site, start_site, HELLO};
use util::{connect, serve, TempDir};

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
