//! Blocking handlers' bodies: a 1 GiB upload and a 200 MB download stream with flat memory,
//! flushed pieces arrive one by one, `100 Continue` is sent only once the handler reads, and
//! an unread body is drained (small) or ends keep-alive (large).

mod util;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use nethttp::{blocking, Request, ResponseWriter, Server};
use util::memory::{alone, rss, shared};
use util::{connect, read_response, start};

/// Samples the RSS every few milliseconds on a thread until stopped; reports the peak.
struct RssSampler {
    stop: Arc<AtomicBool>,
    thread: thread::JoinHandle<u64>,
}

impl RssSampler {
    fn start() -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let mut peak = rss();
            while !flag.load(Ordering::Relaxed) {
                peak = peak.max(rss());
                thread::sleep(Duration::from_millis(5));
            }
            peak.max(rss())
        });
        RssSampler { stop, thread }
    }

    fn peak(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

const MIB: u64 = 1024 * 1024;

/// Reads a response head; returns the status code and the header fields (names lowercased).
fn read_head(r: &mut impl BufRead) -> io::Result<(u16, Vec<(String, String)>)> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, format!("status line {line:?}"))
        })?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let field = line.trim_end();
        if field.is_empty() {
            return Ok((status, headers));
        }
        let (name, value) = field.split_once(':').expect("header field");
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
}

/// Decodes a chunked body as it arrives, handing each piece of chunk data (at most
/// `piece` bytes) to `each`, without holding the body. Returns the body's length.
fn read_chunked(
    r: &mut impl BufRead,
    piece: usize,
    mut each: impl FnMut(&[u8]),
) -> io::Result<u64> {
    let mut total = 0;
    let mut buf = vec![0; piece];
    let mut line = String::new();
    loop {
        line.clear();
        r.read_line(&mut line)?;
        let size =
            u64::from_str_radix(line.trim_end().split(';').next().unwrap(), 16).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidData, format!("chunk size {line:?}"))
            })?;
        if size == 0 {
            loop {
                line.clear();
                r.read_line(&mut line)?;
                if line == "\r\n" {
                    return Ok(total);
                }
            }
        }
        let mut left = size;
        while left > 0 {
            let n = left.min(piece as u64) as usize;
            r.read_exact(&mut buf[..n])?;
            each(&buf[..n]);
            left -= n as u64;
        }
        total += size;
        line.clear();
        r.read_line(&mut line)?;
        assert_eq!(line, "\r\n", "chunk data not followed by CRLF");
    }
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes()
}

#[test]
fn a_one_gib_upload_streams_with_flat_memory() {
    const SIZE: u64 = 1 << 30;
    let _alone = alone();
    let counter = blocking(|w: &mut ResponseWriter, r: &mut Request| {
        let mut buf = vec![0u8; 64 * 1024];
        let mut n = 0u64;
        loop {
            match r.body().read(&mut buf) {
                Ok(0) => break,
                Ok(k) => n += k as u64,
                Err(e) => {
                    let _ = write!(w, "error after {n}: {e}");
                    return;
                }
            }
        }
        let _ = write!(w, "{n}");
    });
    let server = start(Server::new(counter).threads(2));
    let stream = connect(server.local_addr());
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();

    let before = rss();
    let sampler = RssSampler::start();
    let started = Instant::now();
    let mut writer = stream.try_clone().unwrap();
    let upload = thread::spawn(move || -> io::Result<()> {
        writer.write_all(
            format!("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: {SIZE}\r\n\r\n")
                .as_bytes(),
        )?;
        let zeros = vec![0u8; 64 * 1024];
        for _ in 0..SIZE / zeros.len() as u64 {
            writer.write_all(&zeros)?;
        }
        Ok(())
    });
    let response = read_response(&mut BufReader::new(stream), false).unwrap();
    let elapsed = started.elapsed();
    let peak = sampler.peak();
    upload.join().unwrap().unwrap();
    let growth = peak.saturating_sub(before);
    println!(
        "1 GiB upload: {elapsed:?} ({:.0} MB/s); RSS {} MiB before, peak growth {:.1} MiB",
        SIZE as f64 / 1e6 / elapsed.as_secs_f64(),
        before / MIB,
        growth as f64 / MIB as f64
    );
    assert_eq!((response.status, response.text()), (200, SIZE.to_string()));
    assert!(
        growth < 64 * MIB,
        "RSS grew by {} MiB during the upload",
        growth / MIB
    );
    server.close().unwrap();
}

#[test]
fn a_slow_reader_of_a_200_mb_response_costs_no_memory() {
    const BLOCKS: u64 = 200;
    let _alone = alone();
    let big = blocking(|w: &mut ResponseWriter, _r: &mut Request| {
        let mut block = vec![0u8; MIB as usize];
        for i in 0..BLOCKS {
            block.fill(i as u8);
            if w.write_all(&block).is_err() {
                return;
            }
        }
    });
    let server = start(Server::new(big).threads(2));
    let mut stream = connect(server.local_addr());
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();

    let before = rss();
    let sampler = RssSampler::start();
    let started = Instant::now();
    stream.write_all(&get("/big")).unwrap();
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let (status, headers) = read_head(&mut reader).unwrap();
    assert_eq!(status, 200);
    assert!(
        headers.contains(&("transfer-encoding".to_string(), "chunked".to_string())),
        "{headers:?}"
    );
    let (mut offset, mut wrong) = (0u64, 0u64);
    let mut expected = vec![0u8; 64 * 1024];
    let total = read_chunked(&mut reader, 64 * 1024, |piece| {
        // Slow for the first two seconds (64 KiB every 4 ms, some 30 MB), then as fast as it goes.
        if started.elapsed() < Duration::from_secs(2) {
            thread::sleep(Duration::from_millis(4));
        }
        let block = (offset / MIB) as u8;
        let end = offset + piece.len() as u64;
        if block == ((end - 1) / MIB) as u8 {
            if expected[0] != block {
                expected.fill(block);
            }
            wrong += u64::from(piece != &expected[..piece.len()]);
        } else {
            for (k, &b) in piece.iter().enumerate() {
                wrong += u64::from(b != ((offset + k as u64) / MIB) as u8);
            }
        }
        offset = end;
    })
    .unwrap();
    let elapsed = started.elapsed();
    let peak = sampler.peak();
    let growth = peak.saturating_sub(before);
    println!(
        "200 MB slow read: {elapsed:?}; RSS {} MiB before, peak growth {:.1} MiB",
        before / MIB,
        growth as f64 / MIB as f64
    );
    assert_eq!(total, BLOCKS * MIB);
    assert_eq!(wrong, 0, "body bytes out of place");
    assert!(
        growth < 32 * MIB,
        "RSS grew by {} MiB during the slow read",
        growth / MIB
    );
    server.close().unwrap();
}

#[test]
fn flushed_events_arrive_one_by_one() {
    let _shared = shared();
    let events = blocking(|w: &mut ResponseWriter, _r: &mut Request| {
        w.headers_mut()
            .insert("content-type", "text/event-stream".parse().unwrap());
        for i in 1..=4 {
            if write!(w, "data: event {i}\n\n")
                .and_then(|_| w.flush())
                .is_err()
            {
                return;
            }
            thread::sleep(Duration::from_millis(200));
        }
    });
    let server = start(Server::new(events).threads(2));
    let mut stream = connect(server.local_addr());
    let sent = Instant::now();
    stream.write_all(&get("/events")).unwrap();
    let mut reader = BufReader::new(stream);
    let (status, headers) = read_head(&mut reader).unwrap();
    assert_eq!(status, 200);
    assert!(
        headers.contains(&("transfer-encoding".to_string(), "chunked".to_string())),
        "{headers:?}"
    );
    let mut arrivals = Vec::new();
    let mut texts = Vec::new();
    read_chunked(&mut reader, 1024, |piece| {
        arrivals.push(sent.elapsed());
        texts.push(String::from_utf8_lossy(piece).into_owned());
    })
    .unwrap();
    println!("events arrived at {arrivals:?}");
    let expected: Vec<String> = (1..=4).map(|i| format!("data: event {i}\n\n")).collect();
    assert_eq!(texts, expected, "one chunk per flush");
    assert!(
        arrivals[0] < Duration::from_millis(150),
        "first event at {:?}",
        arrivals[0]
    );
    for pair in arrivals.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap > Duration::from_millis(150) && gap < Duration::from_millis(400),
            "events {arrivals:?} were not ~200 ms apart"
        );
    }
    server.close().unwrap();
}

#[test]
fn continue_is_sent_only_once_the_handler_reads() {
    let _shared = shared();
    let reading_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    let at = Arc::clone(&reading_at);
    let echo = blocking(move |w: &mut ResponseWriter, r: &mut Request| {
        thread::sleep(Duration::from_millis(300));
        *at.lock().unwrap() = Some(Instant::now());
        let mut body = String::new();
        let _ = r.body().read_to_string(&mut body);
        let _ = write!(w, "got {body}");
    });
    let server = start(Server::new(echo).threads(2));
    let mut stream = connect(server.local_addr());
    let sent = Instant::now();
    stream
        .write_all(
            b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
        )
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let interim = read_response(&mut reader, false).unwrap();
    let arrived = Instant::now();
    assert_eq!(interim.status, 100);
    let reading = reading_at
        .lock()
        .unwrap()
        .expect("100 Continue came before the handler read");
    assert!(
        arrived >= reading,
        "100 Continue came before the handler read"
    );
    assert!(
        arrived - sent >= Duration::from_millis(300),
        "100 Continue after {:?}",
        arrived - sent
    );
    stream.write_all(b"hello").unwrap();
    let response = read_response(&mut reader, false).unwrap();
    assert_eq!(
        (response.status, response.text().as_str()),
        (200, "got hello")
    );
    server.close().unwrap();
}

/// A blocking handler that never reads the body.
fn ignore_body(w: &mut ResponseWriter, _r: &mut Request) {
    let _ = w.write_all(b"ignored");
}

#[test]
fn a_small_unread_body_is_drained_and_the_connection_kept() {
    let _shared = shared();
    let server = start(Server::new(blocking(ignore_body)).threads(2));
    let stream = connect(server.local_addr());
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let body = vec![b'a'; 100 * 1024];
    for i in 0..3 {
        writer
            .write_all(
                format!(
                    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            )
            .unwrap();
        writer.write_all(&body).unwrap();
        let response = read_response(&mut reader, false).unwrap();
        assert_eq!(
            (response.status, response.text().as_str()),
            (200, "ignored"),
            "request {i}"
        );
        assert!(!response.closes(), "request {i}");
    }
    writer.write_all(&get("/after")).unwrap();
    let response = read_response(&mut reader, false).unwrap();
    assert_eq!(
        (response.status, response.text().as_str()),
        (200, "ignored")
    );
    server.close().unwrap();
}

#[test]
fn a_large_unread_body_ends_keep_alive() {
    let _shared = shared();
    let server = start(Server::new(blocking(ignore_body)).threads(2));
    let stream = connect(server.local_addr());
    let mut writer = stream.try_clone().unwrap();
    // The body is announced at 100 MiB; only its first 64 KiB is sent.
    writer
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n")
        .unwrap();
    writer.write_all(&[b'a'; 64 * 1024]).unwrap();
    let mut reader = BufReader::new(stream);
    let response = read_response(&mut reader, false).unwrap();
    assert_eq!(
        (response.status, response.text().as_str()),
        (200, "ignored")
    );
    // The connection then closes: end of file (or a reset), not another response.
    let _ = writer.write_all(&get("/after"));
    let mut rest = Vec::new();
    match reader.read_to_end(&mut rest) {
        Ok(_) => assert!(
            rest.is_empty(),
            "more after the response: {:?}",
            String::from_utf8_lossy(&rest)
        ),
        Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}"),
    }
    server.close().unwrap();
}

/// Body bytes are gathered into bigger pieces only while more are already on their way:
/// a client that sends part of a body and waits for the handler's answer to it is not
/// kept waiting (an interactive stream over one request).
#[test]
fn a_body_reaches_its_handler_as_it_comes() {
    let echo = blocking(|w: &mut ResponseWriter, r: &mut Request| {
        let mut piece = [0u8; 64];
        loop {
            match r.body().read(&mut piece) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if w.write_all(&piece[..n]).and_then(|_| w.flush()).is_err() {
                        return;
                    }
                }
            }
        }
    });
    let server = start(Server::new(echo).threads(1));
    let mut stream = connect(server.local_addr());
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello")
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let (status, _) = read_head(&mut reader).unwrap();
    assert_eq!(status, 200);
    let mut echoed = Vec::new();
    let mut first = true;
    read_chunked(&mut reader, 1024, |piece| {
        echoed.extend_from_slice(piece);
        if first {
            first = false;
            assert_eq!(
                piece, b"hello",
                "the first part comes back before the rest is sent"
            );
            stream.write_all(b"world").unwrap();
        }
    })
    .unwrap();
    assert_eq!(echoed, b"helloworld");
    server.close().unwrap();
}
