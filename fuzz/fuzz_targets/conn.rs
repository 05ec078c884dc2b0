//! A whole connection through its state machine: a real server, started once per fuzz
//! process on a Unix-domain socket (one per set of limits, plain and TLS), gets the payload
//! on a new connection in the input's pieces (flags bit 2: with a pause after each of the
//! first three, so they tend to arrive as separate reads), then the client's end of file.
//! The client reads until the server's end of file. Flags bit 3: the connection is TLS (a
//! rustls client; the pieces go as records, the end of file is its `close_notify`), and the
//! same checks hold for what it decrypts.
//!
//! What the server answers is checked against `nethttp::fuzzing::Reader`, which reads the
//! same bytes with the same parser and limits:
//! - every response is well-formed (status line, fields, `Date`, `Content-Length` or
//!   chunked body parsed exactly), and answers the request it lines up with: same version,
//!   its target echoed in `X-Target`, the route's status and body (the echoed request body);
//! - a refused request gets its status, `Connection: close`, and nothing after it;
//! - nothing follows a response that closes the connection;
//! - every complete request is answered (at most one final response each), unless an
//!   earlier response closed the connection; when the payload ends between requests, a probe
//!   request is sent too, so the connection must still be usable;
//! - the server ends the connection within a few seconds of the client's end of file;
//! - every 256 inputs: no connection or descriptor left open, and the process's memory
//!   stays under 1 GiB more than at the start.
#![no_main]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use nethttp::fuzzing::{Event, Limits, Message, Reader};
use nethttp::http::{HeaderValue, StatusCode};
use nethttp::{Handler, Request, ResponseWriter, Running, Server};
use nethttp_fuzz::tls::Client;
use nethttp_fuzz::{limits, Input, Malformed, Resources, Response, Responses};

/// Targets under this prefix are served by a blocking handler (the same routes after it).
const POOL: &str = "/p/";

/// Flags bit 3: the connection is TLS.
const TLS: u8 = 8;

/// What `/big` sends: more than the connection's output high-water mark.
const BIG: usize = 100_000;

/// The request sent after a payload that ends between requests.
const PROBE: &[u8] = b"GET /probe HTTP/1.1\r\nHost: probe\r\n\r\n";

/// How long the server may take to close after the client's end of file.
const EOF_WITHIN: Duration = Duration::from_secs(5);

/// Connections accepted and closed, from the `conn_state` hook of every server.
static RESOURCES: Resources = Resources::new();
static RUNS: AtomicUsize = AtomicUsize::new(0);

/// The fuzz server's routes, by target (after `/p` for the blocking ones).
struct Routes;

impl Handler for Routes {
    fn serve_http(&self, w: &mut ResponseWriter, r: &mut Request) {
        let target = r.request_uri().to_string();
        if let Ok(value) = HeaderValue::from_str(&target) {
            w.headers_mut().insert("x-target", value);
        }
        let route = target
            .strip_prefix("/p")
            .filter(|_| target.starts_with(POOL));
        match route.unwrap_or(&target) {
            "/chunked" => {
                for piece in [&b"ab"[..], b"cd"] {
                    let _ = w.write_all(piece).and_then(|_| w.flush());
                }
            }
            "/204" => w.write_header(StatusCode::NO_CONTENT),
            "/304" => w.write_header(StatusCode::NOT_MODIFIED),
            "/close" => {
                w.headers_mut()
                    .insert("connection", HeaderValue::from_static("close"));
                let _ = w.write_all(b"bye");
            }
            "/big" => {
                let _ = w.write_all(&vec![b'z'; BIG]);
            }
            _ => {
                let mut body = Vec::new();
                if r.body().read_to_end(&mut body).is_ok() {
                    let _ = w.write_all(&body);
                }
            }
        }
    }

    fn is_blocking(&self, r: &Request) -> bool {
        r.request_uri().starts_with(POOL)
    }
}

/// The socket of the server for limits `flags & 3`. All four start on first use, and the
/// process's memory and descriptors are measured then.
fn server(flags: u8) -> &'static PathBuf {
    static SERVERS: OnceLock<Vec<(PathBuf, Running)>> = OnceLock::new();
    let flags = flags & (3 | TLS);
    let servers = SERVERS.get_or_init(|| {
        // The fuzzer's `main` is libFuzzer's, not Rust's, so SIGPIPE is not ignored as in a
        // Rust program: a write to a closed socket would kill the process.
        // SAFETY: setting a signal's disposition to SIG_IGN has no preconditions.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
        let servers = (0..8).map(|i| start(i & 3 | (i & 4) << 1)).collect();
        RESOURCES.mark_baseline();
        servers
    });
    &servers[usize::from(flags & 3 | (flags & TLS) >> 1)].0
}

/// Starts the server for limits `flags` on a new socket, to serve until the process exits.
fn start(flags: u8) -> (PathBuf, Running) {
    {
        let path = std::env::temp_dir().join(format!(
            "nethttp-fuzz-{}-{}.sock",
            std::process::id(),
            flags
        ));
        let _ = std::fs::remove_file(&path);
        let listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");
        let Limits {
            max_header_bytes,
            max_body_bytes,
        } = limits(flags);
        let mut server = Server::new(Routes);
        if flags & TLS != 0 {
            server = server.tls(nethttp_fuzz::tls::server_config());
        }
        let running = server
            .threads(1)
            .blocking_threads(4)
            .max_header_bytes(max_header_bytes)
            .max_body_bytes(max_body_bytes)
            .conn_state(|_, state| RESOURCES.count(state))
            .start(listener)
            .expect("start");
        (path, running)
    }
}

fuzz_target!(|data: &[u8]| {
    let input = Input::new(data);
    let path = server(input.flags);

    let mut reader = Reader::new(input.limits()).streaming(POOL);
    let pieces = input.pieces();
    for piece in &pieces {
        reader.push(piece);
    }
    let probe =
        !reader.ended() && reader.partial_body().is_none() && reader.unconsumed().is_empty();
    if probe {
        reader.push(PROBE);
    }

    let socket = UnixStream::connect(path).expect("connect");
    socket.set_read_timeout(Some(EOF_WITHIN)).unwrap();
    socket.set_write_timeout(Some(EOF_WITHIN)).unwrap();
    let mut client = Client::new(socket, input.flags & TLS != 0);
    let probe_piece: &[u8] = if probe { PROBE } else { b"" };
    for (i, piece) in pieces.iter().chain([&probe_piece]).enumerate() {
        if client.write_all(piece).is_err() {
            break; // the server closed early (after a refusal or a closing response)
        }
        if input.flags & 4 != 0 && i < 3 {
            std::thread::sleep(Duration::from_micros(50));
        }
    }
    client.end();
    let answer = nethttp_fuzz::read_until_eof(&mut client);
    drop(client);

    check(&reader, &answer);
    if RUNS.fetch_add(1, Ordering::Relaxed) % 256 == 255 {
        RESOURCES.check();
    }
});

/// Lines the responses in `answer` up with the requests the reader found.
fn check(reader: &Reader, answer: &[u8]) {
    let events = reader.events();
    let mut responses = Responses::new(answer);
    let mut answered = 0;
    let mut closed = false;
    while !responses.rest().is_empty() {
        let event = events.get(answered);
        let head_request = matches!(event, Some(Event::Request(m)) if m.head);
        let response = match responses.next_response(head_request) {
            Ok(response) => response,
            // A streamed request whose body turned out malformed, or never came whole
            // before the client's end of file, may be cut off mid-answer.
            Err(Malformed::Truncated) if event == Some(&Event::Abandoned) => return,
            Err(Malformed::Truncated)
                if event.is_none() && reader.partial_body().is_some_and(|m| m.streamed) =>
            {
                return
            }
            Err(e) => panic!(
                "response {answered} to {event:?} is malformed: {e:?}\nafter: {:?}",
                String::from_utf8_lossy(&answer[..answer.len() - responses.rest().len()])
            ),
        };
        if response.status == 100 {
            let waits = match event {
                Some(Event::Request(m)) => m.expect_continue,
                Some(Event::Abandoned) => true,
                None => reader.partial_body().is_some_and(|m| m.expect_continue),
                Some(Event::Refused(_)) => false,
            };
            assert!(waits, "100 Continue for {event:?}");
            continue;
        }
        // A blocking handler may answer before its body has all arrived.
        let partial = reader.partial_body().filter(|m| m.streamed);
        match event {
            // Handlers of earlier inputs may still hold the pool's threads a moment after
            // their connections closed: a blocking request may meet a full pool.
            Some(Event::Request(m)) if m.streamed && response.status == 503 => {
                assert!(response.closes(), "503 must close: {response:?}");
            }
            None if partial.is_some() && response.status == 503 => {
                assert!(response.closes(), "503 must close: {response:?}");
            }
            None => match partial {
                Some(m) => check_answer(m, &response),
                None => panic!("response {answered} answers no request: {response:?}"),
            },
            Some(Event::Refused(status)) => {
                let either = [400, 413, 431];
                let by_reads = reader.refused_over_limit()
                    && either.contains(status)
                    && either.contains(&response.status);
                assert!(
                    response.status == *status || by_reads,
                    "refused with {} where {status} was due",
                    response.status
                );
                assert!(response.closes(), "a refusal must close: {response:?}");
                assert_eq!(response.version, "HTTP/1.1");
            }
            Some(Event::Abandoned) => {}
            Some(Event::Request(m)) => check_answer(m, &response),
        }
        answered += 1;
        if response.closes() {
            assert!(
                responses.rest().is_empty(),
                "bytes after a closing response: {:?}",
                String::from_utf8_lossy(responses.rest())
            );
            closed = true;
        }
    }
    let unanswered = &events[answered.min(events.len())..];
    let excused = closed || matches!(unanswered, [] | [Event::Abandoned]);
    assert!(
        excused,
        "{} of {} requests unanswered, first {:?}",
        unanswered.len(),
        events.len(),
        unanswered.first()
    );
}

/// Checks one response against the request it answers.
fn check_answer(m: &Message, r: &Response) {
    let version = if m.version == nethttp::http::Version::HTTP_10 {
        "HTTP/1.0"
    } else {
        "HTTP/1.1"
    };
    assert_eq!(r.version, version, "version of the answer to {m:?}");
    if m.close {
        assert!(r.closes(), "the client asked to close: {r:?}");
    }
    if m.method == "OPTIONS" && m.target == "*" {
        assert_eq!((r.status, r.body.as_slice()), (200, &b""[..]));
        return;
    }
    if m.target.is_ascii() && !m.target.is_empty() {
        assert_eq!(
            r.header("x-target"),
            Some(m.target.as_bytes()),
            "answer to {m:?} lines up with another request: {r:?}"
        );
    }
    let route = match m.target.strip_prefix("/p") {
        Some(route) if m.streamed => route,
        _ => m.target.as_str(),
    };
    let (status, body): (u16, Vec<u8>) = match route {
        "/chunked" => (200, b"abcd".to_vec()),
        "/204" => (204, Vec::new()),
        "/304" => (304, Vec::new()),
        "/close" => (200, b"bye".to_vec()),
        "/big" => (200, vec![b'z'; BIG]),
        _ => (200, m.body.clone()),
    };
    assert_eq!(r.status, status, "status of the answer to {m:?}");
    if !m.head {
        assert!(r.body == body, "body of the answer to {m:?}: {r:?}");
    }
    if route == "/close" {
        assert!(r.closes());
    }
}
