//! WebSocket on the loop (feature `websocket`): a tungstenite client for well-formed
//! traffic, and a raw client (`util/ws.rs`) for what no library sends.
#![cfg(feature = "websocket")]

mod util;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nethttp::websocket::{self, Message, MessageHandler, Sender, Upgrader};
use nethttp::{Request, ResponseWriter, ServeMux, Server};
use tungstenite::Message as Tm;
use util::ws::Raw;

/// Echoes every message; counts closes.
struct Echo {
    closes: Arc<AtomicUsize>,
}

impl MessageHandler for Echo {
    fn message(&mut self, ws: &mut Sender<'_, '_>, message: Message) {
        ws.send(&message);
    }

    fn close(&mut self, _code: Option<u16>, _reason: &str) {
        self.closes.fetch_add(1, Ordering::SeqCst);
    }
}

/// `/ws` echoes (limits 16 MiB), `/small` has a 1 KiB message limit.
fn server(closes: Arc<AtomicUsize>) -> Server {
    let mut mux = ServeMux::new();
    let c = Arc::clone(&closes);
    mux.handle("GET /ws", move |w: &mut ResponseWriter, r: &mut Request| {
        let closes = Arc::clone(&c);
        let _ = websocket::upgrade(w, r, Echo { closes });
    });
    mux.handle(
        "GET /small",
        move |w: &mut ResponseWriter, r: &mut Request| {
            let closes = Arc::clone(&closes);
            let _ = Upgrader::new()
                .max_message(1024)
                .upgrade(w, r, Echo { closes });
        },
    );
    Server::new(mux).threads(2)
}

fn client(addr: std::net::SocketAddr) -> tungstenite::WebSocket<std::net::TcpStream> {
    let stream = util::connect(addr);
    let url = format!("ws://{addr}/ws");
    let (ws, response) = tungstenite::client(url.as_str(), stream).expect("handshake");
    assert_eq!(response.status(), 101);
    ws
}

#[test]
fn text_and_binary_messages_of_0_bytes_to_16_mib_come_back() {
    let server = util::start(server(Arc::default()));
    let mut ws = client(server.local_addr());
    for len in [0usize, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20] {
        let text: String = (0..len)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        ws.send(Tm::text(text.clone())).unwrap();
        assert_eq!(ws.read().unwrap(), Tm::text(text), "text of {len}");
        let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        ws.send(Tm::binary(bytes.clone())).unwrap();
        assert_eq!(ws.read().unwrap(), Tm::binary(bytes), "binary of {len}");
    }
    ws.close(None).unwrap();
    server.close().unwrap();
}

#[test]
fn fragments_are_joined_and_pings_answered_between_them() {
    let server = util::start(server(Arc::default()));
    let mut raw = Raw::connect(server.local_addr(), "/ws");
    raw.send(0x01, b"frag", true).unwrap(); // text, not final
    raw.send(0x89, b"are you there", true).unwrap(); // a ping in the middle
    raw.send(0x00, b"ment", true).unwrap(); // continuation
    raw.send(0x80, b"ed", true).unwrap(); // final continuation
    let pong = raw.frame().unwrap();
    assert_eq!(
        (pong.opcode, pong.payload.as_slice()),
        (0xA, &b"are you there"[..])
    );
    let echoed = raw.frame().unwrap();
    assert_eq!((echoed.fin, echoed.opcode), (true, 1));
    assert_eq!(echoed.payload, b"fragmented");
    server.close().unwrap();
}

#[test]
fn a_close_is_answered_with_its_code_and_the_connection_ends() {
    let closes = Arc::new(AtomicUsize::new(0));
    let server = util::start(server(Arc::clone(&closes)));
    let mut raw = Raw::connect(server.local_addr(), "/ws");
    let mut close = 4000u16.to_be_bytes().to_vec();
    close.extend_from_slice(b"done here");
    raw.send(0x88, &close, true).unwrap();
    assert_eq!(raw.frame().unwrap().close_code(), Some(4000));
    assert!(raw.closed_by_server());
    assert_eq!(closes.load(Ordering::SeqCst), 1);
    server.close().unwrap();
}

/// Sends `frames` on a fresh connection and returns the close code the server answers.
fn failure_code(path: &str, frames: &[(u8, Vec<u8>, bool)]) -> Option<u16> {
    let server = util::start(server(Arc::default()));
    let mut raw = Raw::connect(server.local_addr(), path);
    for (first, payload, masked) in frames {
        if raw.send(*first, payload, *masked).is_err() {
            break;
        }
    }
    let code = loop {
        match raw.frame() {
            Ok(f) if f.opcode == 8 => break f.close_code(),
            Ok(_) => continue,
            Err(_) => break None,
        }
    };
    assert!(
        raw.closed_by_server(),
        "the server must close after failing"
    );
    server.close().unwrap();
    code
}

#[test]
fn broken_rules_close_with_their_codes() {
    assert_eq!(
        failure_code("/ws", &[(0x81, b"bare".to_vec(), false)]),
        Some(1002),
        "unmasked"
    );
    let bad_utf8 = vec![0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xed, 0xa0, 0x80];
    assert_eq!(
        failure_code("/ws", &[(0x81, bad_utf8.clone(), true)]),
        Some(1007)
    );
    // Invalid UTF-8 split over fragments.
    let split = [
        (0x01, bad_utf8[..5].to_vec(), true),
        (0x80, bad_utf8[5..].to_vec(), true),
    ];
    assert_eq!(failure_code("/ws", &split), Some(1007));
    assert_eq!(
        failure_code("/small", &[(0x82, vec![0; 1025], true)]),
        Some(1009),
        "too big"
    );
    let over = [(0x02, vec![0; 600], true), (0x80, vec![0; 600], true)];
    assert_eq!(
        failure_code("/small", &over),
        Some(1009),
        "too big once joined"
    );
    assert_eq!(
        failure_code("/ws", &[(0xC1, b"rsv".to_vec(), true)]),
        Some(1002),
        "rsv1"
    );
    assert_eq!(
        failure_code("/ws", &[(0x83, b"op".to_vec(), true)]),
        Some(1002),
        "opcode 3"
    );
    assert_eq!(
        failure_code("/ws", &[(0x80, b"cont".to_vec(), true)]),
        Some(1002),
        "lone continuation"
    );
    let twice = [(0x01, b"a".to_vec(), true), (0x81, b"b".to_vec(), true)];
    assert_eq!(
        failure_code("/ws", &twice),
        Some(1002),
        "a new message inside one"
    );
    assert_eq!(
        failure_code("/ws", &[(0x09, b"p".to_vec(), true)]),
        Some(1002),
        "fragmented ping"
    );
    assert_eq!(
        failure_code("/ws", &[(0x89, vec![0; 126], true)]),
        Some(1002),
        "long ping"
    );
    assert_eq!(
        failure_code("/ws", &[(0x88, vec![3], true)]),
        Some(1002),
        "1-byte close"
    );
    assert_eq!(
        failure_code("/ws", &[(0x88, 1005u16.to_be_bytes().to_vec(), true)]),
        Some(1002)
    );
    let mut bad_reason = 1000u16.to_be_bytes().to_vec();
    bad_reason.extend_from_slice(&[0xff, 0xfe]);
    assert_eq!(
        failure_code("/ws", &[(0x88, bad_reason, true)]),
        Some(1007),
        "close reason"
    );
}

#[test]
fn handshakes_that_are_not_websocket_are_refused() {
    let server = util::start(server(Arc::default()));
    let addr = server.local_addr();
    let ask = |raw: String| {
        let answer = util::exchange(addr, raw.as_bytes());
        util::parse_all(&answer).remove(0)
    };
    let with =
        |extra: &str| util::ws::handshake_request("/ws", &format!("Connection: close\r\n{extra}"));
    let old = ask(with("").replace("Version: 13", "Version: 8"));
    assert_eq!(old.status, 426);
    assert_eq!(old.header("sec-websocket-version"), Some("13"));
    assert_eq!(
        ask(with("").replace(
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Key: short"
        ))
        .status,
        400
    );
    assert_eq!(
        ask(with("").replace("Upgrade: websocket\r\n", "")).status,
        400
    );
    assert_eq!(ask(with("Origin: https://evil.example\r\n")).status, 403);
    assert_eq!(ask(with("Origin: http://localhost\r\n")).status, 101);
    server.close().unwrap();
}

#[test]
fn a_client_that_vanishes_is_freed() {
    let closes = Arc::new(AtomicUsize::new(0));
    let server = util::start(server(Arc::clone(&closes)));
    for _ in 0..20 {
        let mut raw = Raw::connect(server.local_addr(), "/ws");
        raw.send(0x02, &[1; 1000], true).unwrap(); // half a message
        drop(raw);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while closes.load(Ordering::SeqCst) < 20 || server.memory().held > 0 {
        assert!(
            Instant::now() < deadline,
            "closes {}, held {}",
            closes.load(Ordering::SeqCst),
            server.memory().held
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    server.close().unwrap();
}

#[test]
fn a_broadcast_reaches_every_websocket() {
    let server = util::start(server(Arc::default()));
    let mut clients: Vec<_> = (0..50).map(|_| client(server.local_addr())).collect();
    assert!(websocket::broadcast(
        &server.handle(),
        &Message::Text("to all".into())
    ));
    for ws in &mut clients {
        assert_eq!(ws.read().unwrap(), Tm::text("to all"));
    }
    server.close().unwrap();
}

#[test]
fn a_graceful_shutdown_sends_1001_to_100_websockets_and_ends() {
    let server = util::start(server(Arc::default()));
    let addr = server.local_addr();
    let mut clients: Vec<_> = (0..100).map(|_| client(addr)).collect();
    let waiter = std::thread::spawn(move || server.shutdown(Duration::from_secs(10)));
    for ws in &mut clients {
        match ws.read().unwrap() {
            Tm::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 1001),
            other => panic!("{other:?}"),
        }
    }
    // tungstenite answers the close; the server then ends each connection.
    for ws in &mut clients {
        let _ = ws.flush();
        while ws.read().is_ok() {}
    }
    let began = Instant::now();
    waiter.join().unwrap().unwrap();
    assert!(began.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_blocking_handler_has_a_websocket_to_recv_and_send_on_its_thread() {
    let ended = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&ended);
    let mut mux = ServeMux::new();
    mux.handle(
        "GET /ws",
        nethttp::blocking(move |w: &mut ResponseWriter, r: &mut Request| {
            let ws = websocket::upgrade_blocking(w, r).expect("handshake");
            ws.send(&Message::Text("hello from a pool thread".into()))
                .unwrap();
            while let Some(message) = ws.recv() {
                std::thread::sleep(Duration::from_millis(5)); // work that waits
                if let Message::Text(text) = message {
                    ws.send(&Message::Text(text.to_uppercase())).unwrap();
                }
            }
            seen.fetch_add(1, Ordering::SeqCst);
        }),
    );
    mux.handle("GET /inline", |w: &mut ResponseWriter, r: &mut Request| {
        assert!(websocket::upgrade_blocking(w, r).is_err());
    });
    let server = util::start(Server::new(mux).threads(2));
    let mut ws = client(server.local_addr());
    assert_eq!(ws.read().unwrap(), Tm::text("hello from a pool thread"));
    for word in ["one", "two", "three"] {
        ws.send(Tm::text(word)).unwrap();
    }
    for word in ["ONE", "TWO", "THREE"] {
        assert_eq!(ws.read().unwrap(), Tm::text(word));
    }
    ws.close(None).unwrap();
    while ws.read().is_ok() {}
    let deadline = Instant::now() + Duration::from_secs(5);
    while ended.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "recv never returned None");
        std::thread::sleep(Duration::from_millis(5));
    }
    let raw = util::ws::handshake_request("/inline", "Connection: close\r\n");
    let answer = util::exchange(server.local_addr(), raw.as_bytes());
    assert_eq!(util::parse_all(&answer)[0].status, 500);
    server.close().unwrap();
}
