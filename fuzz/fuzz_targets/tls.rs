//! The TLS record layer and handshake as the server reads them: a TLS server, started once
//! per fuzz process on a Unix-domain socket, gets the payload raw on a new connection in
//! the input's pieces (flags bit 2: with a pause after each of the first three), then the
//! client's end of file. The client reads until the server's end of file.
//!
//! Checks:
//! - a payload that begins like a plain HTTP request gets exactly Go's `400` answer;
//! - anything else gets only whole TLS records (content type 20–23, version 3.x, a length
//!   within the protocol's limit): a refusal is an alert, never plaintext;
//! - the server ends the connection within a few seconds of the client's end of file;
//! - every 256 inputs: no connection left open, and memory stays bounded.
#![no_main]

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use nethttp::{Request, ResponseWriter, Running, Server};
use nethttp_fuzz::{Input, Resources};

/// Go's answer to plain HTTP on a TLS port.
const PLAIN_HTTP_ANSWER: &[u8] =
    b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

/// How long the server may take to close after the client's end of file.
const EOF_WITHIN: Duration = Duration::from_secs(5);

/// The largest TLS record a server sends: 2^14 bytes of plaintext plus expansion.
const MAX_RECORD: usize = (1 << 14) + 2048;

static RESOURCES: Resources = Resources::new();
static RUNS: AtomicUsize = AtomicUsize::new(0);

/// The server's socket, started on first use.
fn server() -> &'static PathBuf {
    static SERVER: OnceLock<(PathBuf, Running)> = OnceLock::new();
    let (path, _) = SERVER.get_or_init(|| {
        // SAFETY: setting a signal's disposition to SIG_IGN has no preconditions.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
        let path =
            std::env::temp_dir().join(format!("nethttp-fuzz-tls-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");
        let running = Server::new(|w: &mut ResponseWriter, _r: &mut Request| {
            let _ = w.write_all(b"hello");
        })
        .threads(1)
        .tls(nethttp_fuzz::tls::server_config())
        .conn_state(|_, state| RESOURCES.count(state))
        .start(listener)
        .expect("start");
        RESOURCES.mark_baseline();
        (path, running)
    });
    path
}

fuzz_target!(|data: &[u8]| {
    let input = Input::new(data);
    let mut client = UnixStream::connect(server()).expect("connect");
    client.set_read_timeout(Some(EOF_WITHIN)).unwrap();
    client.set_write_timeout(Some(EOF_WITHIN)).unwrap();
    for (i, piece) in input.pieces().iter().enumerate() {
        if client.write_all(piece).is_err() {
            break; // the server closed early, after a refusal
        }
        if input.flags & 4 != 0 && i < 3 {
            std::thread::sleep(Duration::from_micros(50));
        }
    }
    let _ = client.shutdown(std::net::Shutdown::Write);
    let answer = nethttp_fuzz::read_until_eof(&mut client);
    check(input.payload, &answer);
    if RUNS.fetch_add(1, Ordering::Relaxed) % 256 == 255 {
        RESOURCES.check();
    }
});

/// Go's answer to plain HTTP, or whole TLS records.
fn check(payload: &[u8], answer: &[u8]) {
    let plain = payload.len() >= 5
        && matches!(
            &payload[..5],
            b"GET /" | b"HEAD " | b"POST " | b"PUT /" | b"OPTIO"
        );
    if plain {
        assert_eq!(answer, PLAIN_HTTP_ANSWER, "answer to plain HTTP");
        return;
    }
    let mut rest = answer;
    while !rest.is_empty() {
        assert!(rest.len() >= 5, "a cut record header: {rest:?}");
        let (kind, major, len) = (
            rest[0],
            rest[1],
            usize::from(u16::from_be_bytes([rest[3], rest[4]])),
        );
        assert!(
            (20..=23).contains(&kind),
            "content type {kind} in {answer:?}"
        );
        assert_eq!(major, 3, "record version in {answer:?}");
        assert!(len <= MAX_RECORD, "a record of {len} bytes");
        assert!(
            rest.len() >= 5 + len,
            "a cut record: {len} bytes announced, {} left",
            rest.len() - 5
        );
        rest = &rest[5 + len..];
    }
}
