//! Pipelining: requests sent back to back on one connection are answered in order, the
//! answers to one batch leave together, a bad request ends the pipeline cleanly, and a
//! client that writes faster than it reads is slowed down rather than buffered for.

mod util;

use std::io::{BufReader, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use nethttp::{Request, ResponseWriter};
use util::{connect, exchange_all, parse_all, read_response, serve};

/// Answers with the request's path, so the order of the responses can be checked.
fn echo_path(w: &mut ResponseWriter, r: &mut Request) {
    w.headers_mut()
        .insert("content-type", "text/plain".parse().unwrap());
    w.write_all(r.path().as_bytes()).unwrap();
}

/// Answers with the path and the `X-Pad` header, so answers are as large as requests.
fn echo_path_and_pad(w: &mut ResponseWriter, r: &mut Request) {
    let pad = r.headers().get("x-pad").map_or(&b""[..], |v| v.as_bytes());
    w.write_all(r.path().as_bytes()).unwrap();
    w.write_all(b" ").unwrap();
    w.write_all(pad).unwrap();
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n")
}

#[test]
fn sixteen_pipelined_requests_are_answered_in_order_in_one_batch() {
    let server = serve(echo_path);
    let mut stream = connect(server.local_addr());
    let batch: String = (0..16).map(|i| get(&format!("/p{i}"))).collect();
    stream.write_all(batch.as_bytes()).unwrap();

    // The server reads the 16 requests in one read and writes the 16 answers in one write,
    // so the first read on this side already holds all of them.
    let mut buf = vec![0; 64 * 1024];
    let n = stream.read(&mut buf).unwrap();
    let responses = parse_all(&buf[..n]);
    assert_eq!(
        responses.len(),
        16,
        "the first read should hold every response of the batch"
    );
    for (i, response) in responses.iter().enumerate() {
        assert_eq!(response.status, 200);
        assert_eq!(
            response.text(),
            format!("/p{i}"),
            "response {i} out of order"
        );
        assert!(!response.closes());
    }

    // The connection is still usable afterwards.
    stream.write_all(get("/after").as_bytes()).unwrap();
    let mut reader = BufReader::new(stream);
    assert_eq!(read_response(&mut reader, false).unwrap().text(), "/after");
    server.close().unwrap();
}

#[test]
fn requests_written_one_byte_at_a_time_are_answered() {
    let server = serve(echo_path);
    let stream = connect(server.local_addr());
    stream.set_nodelay(true).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let two = format!("{}{}", get("/first"), get("/second/byte-by-byte"));
    for byte in two.as_bytes() {
        writer.write_all(std::slice::from_ref(byte)).unwrap();
    }
    let mut reader = BufReader::new(stream);
    let first = read_response(&mut reader, false).unwrap();
    let second = read_response(&mut reader, false).unwrap();
    assert_eq!((first.status, first.text().as_str()), (200, "/first"));
    assert_eq!(
        (second.status, second.text().as_str()),
        (200, "/second/byte-by-byte")
    );
    server.close().unwrap();
}

#[test]
fn bad_request_in_a_pipeline_ends_it_after_the_earlier_answers() {
    let server = serve(echo_path);
    let raw = format!(
        "{}{}GET /bad HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n{}",
        get("/one"),
        get("/two"),
        get("/never")
    );
    // exchange_all reads until EOF: the server must close after the 400.
    let responses = exchange_all(server.local_addr(), raw.as_bytes());
    assert_eq!(responses.len(), 3, "{responses:?}");
    assert_eq!(
        (responses[0].status, responses[0].text().as_str()),
        (200, "/one")
    );
    assert_eq!(
        (responses[1].status, responses[1].text().as_str()),
        (200, "/two")
    );
    assert_eq!(responses[2].status, 400);
    assert!(responses[2].closes(), "the 400 announces the close");
    assert!(!responses[0].closes() && !responses[1].closes());
    server.close().unwrap();
}

#[test]
fn a_half_closed_pipeline_is_answered_then_closed() {
    // The client sends its requests and its FIN together, then reads until the server
    // closes: the FIN must not be lost behind the requests.
    let server = serve(echo_path);
    for _ in 0..20 {
        let mut stream = connect(server.local_addr());
        let batch: String = (0..16).map(|i| get(&format!("/h{i}"))).collect();
        stream.write_all(batch.as_bytes()).unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let mut raw = Vec::new();
        stream
            .read_to_end(&mut raw)
            .expect("the server closes once the last answer is out");
        let texts: Vec<String> = parse_all(&raw).iter().map(|r| r.text()).collect();
        let expected: Vec<String> = (0..16).map(|i| format!("/h{i}")).collect();
        assert_eq!(texts, expected);
    }
    server.close().unwrap();
}

#[test]
fn large_answers_to_a_half_closed_pipeline_all_arrive() {
    // 16 answers of 256 KiB each: far past the output high-water mark, so the server
    // must resume handling the buffered requests as the client drains the answers, and
    // must not take the client's half-close for the end of the conversation.
    let server = serve(|w: &mut ResponseWriter, r: &mut Request| {
        let i: u8 = r.path()[1..].parse().unwrap();
        w.write_all(&vec![b'a' + i; 256 * 1024]).unwrap();
    });
    let mut stream = connect(server.local_addr());
    let batch: String = (0..16).map(|i| get(&format!("/{i}"))).collect();
    stream.write_all(batch.as_bytes()).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let responses = parse_all(&raw);
    assert_eq!(responses.len(), 16);
    for (i, response) in responses.iter().enumerate() {
        assert_eq!(response.body.len(), 256 * 1024, "response {i}");
        assert!(
            response.body.iter().all(|&b| b == b'a' + i as u8),
            "response {i}"
        );
    }
    server.close().unwrap();
}

#[test]
fn flood_of_pipelined_requests_is_answered_in_order_under_back_pressure() {
    const N: usize = 20_000;
    const BATCH: usize = 100;
    let server = serve(echo_path_and_pad);
    let stream = connect(server.local_addr());
    let mut writer = stream.try_clone().unwrap();
    let written = Arc::new(AtomicUsize::new(0));
    let progress = Arc::clone(&written);
    // About 1 KiB each way per request, 20 MiB in all: more than the kernel's socket buffers
    // hold (4 MiB for sending at most, by default), so the writer can only finish if the
    // server keeps reading requests whose answers have nowhere to go.
    let pad = "p".repeat(1000);
    let writer_thread = thread::spawn(move || {
        let mut batch = Vec::new();
        for start in (0..N).step_by(BATCH) {
            batch.clear();
            for i in start..start + BATCH {
                write!(
                    batch,
                    "GET /{i} HTTP/1.1\r\nHost: x\r\nX-Pad: {pad}\r\n\r\n"
                )
                .unwrap();
            }
            writer.write_all(&batch).unwrap();
            progress.store(start + BATCH, Ordering::Release);
        }
    });

    // Read nothing until the writer stops making progress: the server must stop reading
    // requests when its answers cannot leave, and so block the writer.
    let stalled_at = wait_for_stall(&written, N);
    assert!(
        stalled_at < N,
        "all {N} requests were taken while no response was read: no back-pressure"
    );

    let mut reader = BufReader::new(stream);
    for i in 0..N {
        let response =
            read_response(&mut reader, false).unwrap_or_else(|e| panic!("response {i}: {e}"));
        assert_eq!(response.status, 200, "response {i}");
        let text = response.text();
        let (path, pad) = text.split_once(' ').unwrap_or((&text, ""));
        assert_eq!(path, format!("/{i}"), "response {i} out of order");
        assert_eq!(pad.len(), 1000, "response {i}");
    }
    writer_thread.join().unwrap();
    server.close().unwrap();
}

/// Waits until `counter` has not moved for a while (or reached `end`); returns its value.
fn wait_for_stall(counter: &AtomicUsize, end: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut last = counter.load(Ordering::Acquire);
    let mut still_since = Instant::now();
    loop {
        thread::sleep(Duration::from_millis(5));
        let now = counter.load(Ordering::Acquire);
        if now == end {
            return now;
        }
        if now != last {
            last = now;
            still_since = Instant::now();
        } else if still_since.elapsed() >= Duration::from_millis(150) {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "writer neither finished nor stalled"
        );
    }
}
