//! The file server's downloads are sent by the loop, not by a pool thread: slow readers do
//! not take the blocking pool, and every byte still arrives, whole or by range, on a
//! connection that stays usable.

mod util;

use std::fs;
use std::io::{BufReader, Read, Write};
use std::thread;
use std::time::{Duration, Instant};

use nethttp::{file_server, Server};
use util::{connect, read_response, start, TempDir};

/// Byte `i` of the big file: varied, so a misplaced piece shows.
fn byte(i: usize) -> u8 {
    (i % 251) as u8
}

fn big_file(dir: &TempDir, len: usize) {
    let bytes: Vec<u8> = (0..len).map(byte).collect();
    fs::write(dir.0.join("big.bin"), bytes).unwrap();
    fs::write(dir.0.join("small.txt"), b"small").unwrap();
}

#[test]
fn slow_downloads_do_not_hold_pool_threads() {
    const LEN: usize = 8 << 20;
    let dir = TempDir::new("slow-downloads");
    big_file(&dir, LEN);
    // Two threads: were each download a thread's, the third would wait or get 503.
    let server = start(Server::new(file_server(&dir.0)).blocking_threads(2));
    let addr = server.local_addr();
    let slow: Vec<_> = (0..8)
        .map(|_| {
            let mut client = connect(addr);
            client
                .write_all(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
                .unwrap();
            let mut first = [0; 1];
            client.read_exact(&mut first).unwrap(); // the answer has begun; then it stalls
            client
        })
        .collect();
    let started = Instant::now();
    let small = util::exchange_all(
        addr,
        b"GET /small.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert_eq!((small[0].status, small[0].text().as_str()), (200, "small"));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    // The stalled downloads resume and arrive whole.
    let readers: Vec<_> = slow
        .into_iter()
        .map(|client| {
            thread::spawn(move || {
                let response = read_response(&mut BufReader::new(&client), false).unwrap();
                assert_eq!(response.status, 200);
                assert_eq!(response.body.len(), LEN);
                assert!(response.body.iter().enumerate().all(|(i, &b)| b == byte(i)));
            })
        })
        .collect();
    for reader in readers {
        reader.join().unwrap();
    }
    server.close().unwrap();
}

#[test]
fn ranges_and_keep_alive_after_a_file_sent_by_the_loop() {
    const LEN: usize = 300_000;
    let dir = TempDir::new("file-ranges");
    big_file(&dir, LEN);
    let server = start(Server::new(file_server(&dir.0)));
    let client = connect(server.local_addr());
    let mut reader = BufReader::new(&client);
    let requests: [(&str, usize, usize); 3] = [
        ("", 0, LEN),
        ("Range: bytes=1000-200999\r\n", 1000, 201_000),
        ("Range: bytes=-10\r\n", LEN - 10, LEN),
    ];
    for (range, from, to) in requests {
        write!(&client, "GET /big.bin HTTP/1.1\r\nHost: t\r\n{range}\r\n").unwrap();
        let response = read_response(&mut reader, false).unwrap();
        assert_eq!(response.status, if range.is_empty() { 200 } else { 206 });
        let expected: Vec<u8> = (from..to).map(byte).collect();
        assert!(
            response.body == expected,
            "{range:?}: {} bytes",
            response.body.len()
        );
    }
    write!(&client, "HEAD /big.bin HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    let head = read_response(&mut reader, true).unwrap();
    assert_eq!(head.status, 200);
    write!(&client, "GET /small.txt HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut reader, false).unwrap().text(), "small");
    server.close().unwrap();
}

/// A file truncated while a client downloads it (sent with `sendfile`): the response is
/// cut off rather than padded or hung, and the server goes on.
#[test]
fn a_file_truncated_while_sent_is_cut_off_with_sendfile() {
    const LEN: usize = 16 << 20;
    let dir = TempDir::new("truncated");
    big_file(&dir, LEN);
    let running = start(Server::new(file_server(&dir.0)).threads(1));
    let mut c = connect(running.local_addr());
    util::download_truncated_midway(&mut c, &dir.0.join("big.bin"), LEN);
    let small = util::exchange(
        running.local_addr(),
        b"GET /small.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(small.ends_with(b"small"), "the server goes on");
    running.close().unwrap();
}
