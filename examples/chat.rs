//! A chat room over WebSocket: `cargo run --release --features websocket --example chat [ADDR]`.
//!
//! * `GET /` is a page that joins the room and shows what is said (open it in two browser
//!   tabs).
//! * `GET /ws` is the room: every text message a member sends goes to every member,
//!   itself included, as one [`websocket::broadcast`]: one message to each event loop,
//!   then each connection writes the same encoded bytes. Members talk on the loop; no
//!   thread per member.
//! * `GET /stats` says how many members are in the room.
//!
//! SIGINT or SIGTERM close every member's WebSocket with code 1001, then the server exits.

#[path = "common/args.rs"]
mod args;
#[path = "common/logger.rs"]
mod logger;
#[path = "common/run.rs"]
mod run;

use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use nethttp::websocket::{self, Message, MessageHandler, Sender};
use nethttp::{Handle, Request, ResponseWriter, ServeMux, Server};

const USAGE: &str = "usage: chat [ADDR]   (default 127.0.0.1:8080; :PORT: every interface)
  GET / is the room's page, GET /ws the room, GET /stats its head count";

/// The page: joins the room, shows what is said, sends what is typed. Once its own first
/// line comes back it sets the title to `joined` (the browser test waits for that).
const PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<title>chat</title>
<h1>nethttp chat</h1>
<form id="say"><input id="line" autocomplete="off" placeholder="say something"><button>send</button></form>
<ul id="log"></ul>
<script>
const log = document.getElementById("log");
const show = (text) => { const li = document.createElement("li"); li.textContent = text; log.append(li); };
const ws = new WebSocket(`ws://${location.host}/ws`);
const hello = `hello from ${navigator.userAgent.includes("Headless") ? "headless " : ""}a browser`;
ws.onopen = () => { show("joined the room"); ws.send(hello); };
ws.onmessage = (event) => { show(event.data); if (event.data === hello) document.title = "joined"; };
ws.onclose = (event) => show(`closed: ${event.code} ${event.reason}`);
document.getElementById("say").onsubmit = (event) => {
  event.preventDefault();
  const line = document.getElementById("line");
  ws.send(line.value);
  line.value = "";
};
</script>
"#;

/// The members in the room now.
static MEMBERS: AtomicUsize = AtomicUsize::new(0);

/// The server's handle, for broadcasts (set once it has started).
static SERVER: OnceLock<Handle> = OnceLock::new();

/// One member: what it says goes to everyone.
struct Member;

impl MessageHandler for Member {
    fn open(&mut self, _ws: &mut Sender<'_, '_>) {
        MEMBERS.fetch_add(1, Ordering::Relaxed);
    }

    fn message(&mut self, _ws: &mut Sender<'_, '_>, message: Message) {
        if let (Message::Text(_), Some(server)) = (&message, SERVER.get()) {
            websocket::broadcast(server, &message);
        }
    }

    fn close(&mut self, _code: Option<u16>, _reason: &str) {
        MEMBERS.fetch_sub(1, Ordering::Relaxed);
    }
}

fn page(w: &mut ResponseWriter, _r: &mut Request) {
    w.headers_mut()
        .insert("content-type", "text/html; charset=utf-8".parse().unwrap());
    let _ = w.write_all(PAGE.as_bytes());
}

fn room(w: &mut ResponseWriter, r: &mut Request) {
    let _ = websocket::Upgrader::new()
        .max_message(64 * 1024)
        .upgrade(w, r, Member);
}

fn stats(w: &mut ResponseWriter, _r: &mut Request) {
    let _ = writeln!(w, "members {}", MEMBERS.load(Ordering::Relaxed));
}

fn main() -> io::Result<()> {
    logger::init(log::LevelFilter::Warn);
    let addr = args::addr_arg(USAGE, "127.0.0.1:8080");
    let mut mux = ServeMux::new();
    mux.handle("GET /{$}", page);
    mux.handle("GET /ws", room);
    mux.handle("GET /stats", stats);
    let running = Server::new(mux).start(nethttp::listen(&addr)?)?;
    let _ = SERVER.set(running.handle());
    run::until_signalled(running, "http")
}
