//! The echo showcase (`examples/echo.rs`) end to end, its routes: the real example binary
//! runs as a child process and each route of its contract (`/`, `/echo`, `/headers`,
//! `/stream`, `/sleep`, `/panic`, `/status`, `/bytes`, `/upload`, `/files`, 404 and 405) is
//! checked over loopback sockets with raw bytes.

mod util;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::thread;
use std::time::{Duration, Instant};

use util::echo_child::{get, read, request, Echo};
use util::{connect, TempDir};

#[test]
fn get_and_head_root_say_hello() {
    let echo = Echo::start(&[]);
    let stream = connect(echo.addr);
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    writer
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let got = read(&mut reader, false);
    assert_eq!(got.status, 200);
    assert_eq!(
        got.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(got.header("content-length"), Some("13"));
    assert_eq!(got.text(), "Hello, World!");
    let head = read(&mut reader, true);
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(head.header("content-length"), Some("13"));
    // Nothing follows the HEAD response: the next bytes are the next response.
    writer
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read(&mut reader, false).text(), "Hello, World!");
}

#[test]
fn echo_returns_the_body_type_method_and_raw_target() {
    let echo = Echo::start(&[]);
    let body: Vec<u8> = (0..=255u8).cycle().take(1000).collect();

    // Content-Length in, a custom Content-Type, a raw target with escapes.
    let mut raw = format!(
        "PUT /echo?a=1&b=%20x HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-custom; v=1\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(&body);
    let r = request(echo.addr, &raw);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, body);
    assert_eq!(r.header("content-length"), Some("1000"));
    assert_eq!(r.header("content-type"), Some("application/x-custom; v=1"));
    assert_eq!(r.header("x-method"), Some("PUT"));
    assert_eq!(r.header("x-target"), Some("/echo?a=1&b=%20x"));

    // Chunked in, no Content-Type: application/octet-stream.
    let r = request(
        echo.addr,
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n0\r\n\r\n",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "hello, world");
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(r.header("x-method"), Some("POST"));
    assert_eq!(r.header("x-target"), Some("/echo"));

    // Any method, no body at all.
    let r = request(echo.addr, b"DELETE /echo?x=%2F HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(r.header("x-method"), Some("DELETE"));
    assert_eq!(r.header("x-target"), Some("/echo?x=%2F"));
}

#[test]
fn headers_lists_fields_lowercased_in_order_with_repeats() {
    let echo = Echo::start(&[]);
    let r = request(
        echo.addr,
        b"GET /headers HTTP/1.1\r\nHost: x\r\nX-Foo: 1\r\nAccept: */*\r\nx-FOO: two words\r\nUser-AGENT: test\r\n\r\n",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(
        r.text(),
        "host: x\nx-foo: 1\naccept: */*\nx-foo: two words\nuser-agent: test\n"
    );
}

#[test]
fn stream_sends_chunks_separately_with_the_delay() {
    let echo = Echo::start(&[]);
    let mut stream = connect(echo.addr);
    stream
        .write_all(b"GET /stream?chunks=3&size=5&delay_ms=200 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let mut head = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        head.push(line.trim_end().to_string());
    }
    assert!(head[0].starts_with("HTTP/1.1 200 "), "{head:?}");
    let has = |name: &str| {
        head.iter()
            .find(|l| l.to_ascii_lowercase().starts_with(&format!("{name}:")))
            .map(|l| l.split_once(':').unwrap().1.trim().to_string())
    };
    assert_eq!(has("transfer-encoding").as_deref(), Some("chunked"));
    assert_eq!(has("content-length"), None);
    assert!(has("date").is_some());

    let mut arrivals = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let size = usize::from_str_radix(line.trim_end(), 16).unwrap();
        if size == 0 {
            line.clear();
            reader.read_line(&mut line).unwrap();
            assert_eq!(line, "\r\n");
            break;
        }
        arrivals.push(Instant::now());
        let mut data = vec![0; size + 2];
        reader.read_exact(&mut data).unwrap();
        assert_eq!(data, b"xxxxx\r\n", "each chunk on its own");
    }
    assert_eq!(arrivals.len(), 3);
    for pair in arrivals.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(150), "chunks {gap:?} apart");
    }
}

#[test]
fn sleep_runs_off_the_event_loop() {
    let echo = Echo::start(&[]);
    let started = Instant::now();
    let mut sleeper = connect(echo.addr);
    sleeper
        .write_all(b"GET /sleep?ms=1000 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    thread::sleep(Duration::from_millis(100));
    let asked = Instant::now();
    let hello = get(echo.addr, "/");
    let took = asked.elapsed();
    assert_eq!(hello.text(), "Hello, World!");
    assert!(took < Duration::from_millis(100), "GET / took {took:?}");
    let slept = read(&mut BufReader::new(sleeper), false);
    assert_eq!(slept.status, 200);
    assert_eq!(slept.text(), "slept 1000");
    assert!(started.elapsed() >= Duration::from_millis(1000));
}

#[test]
fn panic_gives_500_and_the_server_goes_on() {
    let echo = Echo::start(&[]);
    let r = get(echo.addr, "/panic");
    assert_eq!(r.status, 500);
    let stream = connect(echo.addr);
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    for _ in 0..2 {
        writer
            .write_all(b"GET /panic HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        assert_eq!(read(&mut reader, false).status, 500);
        let next = read(&mut reader, false);
        assert_eq!((next.status, next.text().as_str()), (200, "Hello, World!"));
    }
    assert_eq!(get(echo.addr, "/").text(), "Hello, World!");
}

#[test]
fn status_answers_that_status_with_an_empty_body() {
    let echo = Echo::start(&[]);
    for code in [200u16, 201, 404, 418, 503, 599] {
        let r = get(echo.addr, &format!("/status/{code}"));
        assert_eq!(r.status, code);
        assert!(r.body.is_empty(), "{code}: {:?}", r.text());
    }
}

#[test]
fn bytes_generates_the_alphabet() {
    let echo = Echo::start(&[]);
    for n in [0usize, 1, 100_000] {
        let r = get(echo.addr, &format!("/bytes/{n}"));
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("application/octet-stream"));
        assert_eq!(r.header("content-length"), Some(n.to_string().as_str()));
        assert_eq!(r.framing, "length");
        let want: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
        assert!(r.body == want, "{n} bytes differ");
    }
}

#[test]
fn bytes_are_generated_as_they_are_sent() {
    // 1 GiB announced; the first 8 MiB read while the server holds no such buffer.
    const N: u64 = 1 << 30;
    let echo = Echo::start(&[]);
    let mut stream = connect(echo.addr);
    write!(stream, "GET /bytes/{N} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let mut length = None;
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = Some(v.trim().to_string());
        }
    }
    assert_eq!(length, Some(N.to_string()));
    let mut data = vec![0; 8 << 20];
    reader.read_exact(&mut data).unwrap();
    assert!(data
        .iter()
        .enumerate()
        .all(|(i, &b)| b == b'a' + (i % 26) as u8));
    let peak = echo.memory("VmHWM");
    assert!(
        peak < 48 << 20,
        "peak RSS {peak} bytes while sending {N} bytes"
    );
}

#[test]
fn upload_counts_a_streamed_body() {
    const TOTAL: u64 = 100 * 1024 * 1024;
    let echo = Echo::start(&[]);
    let stream = connect(echo.addr);
    let mut writer = stream.try_clone().unwrap();
    let sender = thread::spawn(move || {
        write!(
            writer,
            "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: {TOTAL}\r\n\r\n"
        )?;
        let piece: Vec<u8> = (0..64 * 1024).map(|i| i as u8).collect();
        let mut sent = 0;
        while sent < TOTAL {
            writer.write_all(&piece)?;
            sent += piece.len() as u64;
        }
        io::Result::Ok(())
    });
    let mut reader = BufReader::new(stream);
    let r = read(&mut reader, false);
    sender.join().unwrap().expect("send the body");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), format!("received {TOTAL} bytes"));
    // Streamed: the server never held the body.
    let peak = echo.memory("VmHWM");
    assert!(
        peak < 48 << 20,
        "peak RSS {peak} bytes for a {TOTAL}-byte upload"
    );

    // Chunked as well, on the same connection.
    let mut writer = reader.get_ref().try_clone().unwrap();
    writer
        .write_all(b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        .unwrap();
    for _ in 0..100 {
        writer.write_all(b"2800\r\n").unwrap();
        writer.write_all(&[b'u'; 0x2800]).unwrap();
        writer.write_all(b"\r\n").unwrap();
    }
    writer.write_all(b"0\r\n\r\n").unwrap();
    let r = read(&mut reader, false);
    assert_eq!(r.text(), format!("received {} bytes", 100 * 0x2800));
}

#[test]
fn files_are_served_from_dir() {
    let dir = TempDir::new("files");
    std::fs::write(dir.0.join("note.txt"), "a note\n").unwrap();
    let echo = Echo::start(&["--dir", dir.0.to_str().unwrap()]);
    let r = get(echo.addr, "/files/note.txt");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "a note\n");
    assert_eq!(r.header("content-length"), Some("7"));
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    assert_eq!(get(echo.addr, "/files/missing.txt").status, 404);
}

#[test]
fn unknown_paths_404_and_wrong_methods_405_with_allow() {
    let echo = Echo::start(&[]);
    for target in ["/nope", "/headers/x", "/stat", "/index.html"] {
        assert_eq!(get(echo.addr, target).status, 404, "{target}");
    }
    for (method, target) in [("POST", "/headers"), ("DELETE", "/"), ("GET", "/upload")] {
        let r = request(
            echo.addr,
            format!("{method} {target} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
                .as_bytes(),
        );
        assert_eq!(r.status, 405, "{method} {target}");
        let allow = r
            .header("allow")
            .unwrap_or_else(|| panic!("no Allow for {method} {target}"));
        let want = if target == "/upload" { "POST" } else { "GET" };
        assert!(
            allow.split(',').any(|m| m.trim() == want),
            "{method} {target}: Allow: {allow}"
        );
    }
}
