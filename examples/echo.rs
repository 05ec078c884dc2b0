//! The echo showcase: every feature of the server behind a few routes.
//!
//! `cargo run --release --example echo -- [ADDR] [--dir DIR] [--header-timeout SECS] [--idle-timeout SECS] [--tls-cert FILE --tls-key FILE] [--access-log] [--drain-delay SECS]`
//!
//! `--access-log` prints one line per response on stdout (Combined Log Format, then the
//! microseconds it took). `--drain-delay SECS`: on SIGINT or SIGTERM the server first keeps
//! serving for SECS while `GET /readyz` answers 503, then shuts down. `--proxy-protocol`
//! (beyond ECHO.md, for `benches/fleet.sh` behind HAProxy's `send-proxy-v2`): every
//! connection begins with a PROXY header. A listening socket passed as descriptor 3 with
//! `LISTEN_FDS` (systemd's socket activation) is served instead of binding ADDR.
//!
//! With `--tls-cert` and `--tls-key` (PEM; build with `--features tls`) every route is served
//! over TLS 1.2 and 1.3, ALPN `http/1.1`, and the first line says `https://`.
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /` (and `HEAD /`) | `Hello, World!` as text/plain |
//! | `/echo`, any method | inline: the request body back, with its `Content-Type`, `X-Method`, `X-Target` |
//! | `GET /headers` | one `name: value` line per request header field, in arrival order |
//! | `GET /stream?chunks=N&size=S&delay_ms=D` | N chunks of S bytes of `x`, flushed D ms apart |
//! | `GET /sleep?ms=N` | sleeps N ms on the blocking pool, then `slept N` |
//! | `GET /panic` | the handler panics: 500, and everyone else is served on |
//! | `GET /status/{code}` | that status, empty body |
//! | `GET /bytes/{n}` | n bytes `a..z` repeated, generated as they are sent |
//! | `POST /upload` | counts a streamed body of any size: `received <n> bytes` |
//! | `GET /files/...` | DIR (default `.`) through the file server (other methods: 405) |
//! | `GET /query?...` | one `name=value` line per query parameter, decoded; 400 if malformed |
//! | `POST /form` | one `name=value` line per form value, body first, then query, then `file name=F filename=N size=S sha256=H` per uploaded file (multipart, streamed); 400 if malformed |
//! | `GET /cookies` | one `name=value` line per cookie of the request |
//! | `GET /set-cookie?name=N&value=V[&path=P][&domain=D][&max_age=S][&secure=1][&http_only=1][&same_site=lax\|strict\|none]` | sets that cookie |
//! | `GET /auth` | `user NAME` for valid Basic credentials, else 401 with `WWW-Authenticate` |
//! | `GET /wait?ms=N` | waits N ms on the pool (`waited N`), or stops at once, without a body, when its request is cancelled or a shutdown begins |
//! | `GET /cancelled` | `cancelled C`: how many `/wait` handlers stopped early |
//! | `GET /metrics` | 200 in the Prometheus text format (0.0.4): open connections, responses by status class, bytes read and written, the memory budget and what it holds, the blocking pool's threads, busy and queued |
//! | `GET /readyz` | 200 `ready`; 503 `draining` once a shutdown (or its drain delay) has begun |
//! | `GET /ws` | a WebSocket endpoint (RFC 6455; build with `--features websocket`): every text or binary message is sent back as it came; ping gets pong; a close is answered with a close |
//!
//! SIGINT or SIGTERM shut the server down gracefully (up to 10 s) and exit with status 0.

#[path = "common/logger.rs"]
mod logger;
#[path = "common/run.rs"]
mod run;

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::StatusCode;
use nethttp::{
    blocking, file_server, set_cookie, strip_prefix, Cookie, MultipartError, Request,
    ResponseWriter, SameSite, ServeMux, Server, Values,
};
use sha2::{Digest, Sha256};

const TEXT: &str = "text/plain; charset=utf-8";

fn hello(w: &mut ResponseWriter, _r: &mut Request) {
    w.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(TEXT));
    let _ = w.write_all(b"Hello, World!");
}

/// Sends the request body back (inline: the loop has received it whole before the handler
/// runs, up to the body limit), written straight from the bytes received.
fn echo(w: &mut ResponseWriter, r: &mut Request) {
    let content_type = r
        .headers()
        .get(CONTENT_TYPE)
        .cloned()
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let method = HeaderValue::from_str(r.method().as_str());
    let target = HeaderValue::from_str(r.request_uri());
    let body = r.body().remaining();
    let headers = w.headers_mut();
    headers.insert(CONTENT_TYPE, content_type);
    headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    if let (Ok(method), Ok(target)) = (method, target) {
        headers.insert("x-method", method);
        headers.insert("x-target", target);
    }
    let _ = w.write_all(body);
}

fn headers(w: &mut ResponseWriter, r: &mut Request) {
    w.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(TEXT));
    let mut text = Vec::new();
    for (name, value) in r.header_fields() {
        text.extend_from_slice(name.to_ascii_lowercase().as_bytes());
        text.extend_from_slice(b": ");
        text.extend_from_slice(value);
        text.push(b'\n');
    }
    let _ = w.write_all(&text);
}

/// The value of `name` in the query, as a number.
fn query(r: &Request, name: &str) -> Option<u64> {
    r.query_value(name)?.parse().ok()
}

/// `name=value` lines, in order.
fn lines<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    pairs
        .map(|(name, value)| format!("{name}={value}\n"))
        .collect()
}

fn text(w: &mut ResponseWriter, body: &str) {
    w.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(TEXT));
    let _ = w.write_all(body.as_bytes());
}

/// The query, decoded as Go's `url.ParseQuery` decodes it.
fn query_lines(w: &mut ResponseWriter, r: &mut Request) {
    match nethttp::parse_query(r.uri().query().unwrap_or("")) {
        Ok(values) => text(w, &lines(values.iter())),
        Err(e) => nethttp::error(w, &e.to_string(), StatusCode::BAD_REQUEST),
    }
}

/// The form, body values first, then the query's (Go's `r.Form` order); for a multipart
/// body, then one line per uploaded file, its bytes hashed as they arrive (never held).
fn form(w: &mut ResponseWriter, r: &mut Request) {
    let answer = match r.multipart_reader().err() {
        None => multipart_lines(r),
        Some(MultipartError::NotMultipart) => r
            .parse_form()
            .map(|()| lines(r.form().iter()))
            .map_err(|e| e.to_string()),
        Some(e) => Err(e.to_string()), // multipart without a boundary
    };
    match answer {
        Ok(body) => text(w, &body),
        Err(e) => nethttp::error(w, &e, StatusCode::BAD_REQUEST),
    }
}

/// Most bytes of one multipart field value this route keeps (Go's 10 MB for values).
const MAX_FIELD: u64 = 10 << 20;

/// A multipart body read as a stream: field lines, the query's lines, then file lines.
fn multipart_lines(r: &mut Request) -> Result<String, String> {
    let query = r.query();
    let mut fields = String::new();
    let mut files = String::new();
    let mut reader = r.multipart_reader().map_err(|e| e.to_string())?;
    while let Some(mut part) = reader.next_part().map_err(|e| e.to_string())? {
        let Some(name) = part.form_name() else {
            io::copy(&mut part, &mut io::sink()).map_err(|e| e.to_string())?;
            continue;
        };
        match part.file_name() {
            Some(filename) => {
                let mut hasher = Hashing(Sha256::new(), 0);
                io::copy(&mut part, &mut hasher).map_err(|e| e.to_string())?;
                let Hashing(hash, size) = hasher;
                let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
                files +=
                    &format!("file name={name} filename={filename} size={size} sha256={hex}\n");
            }
            None => {
                let mut value = Vec::new();
                (&mut part)
                    .take(MAX_FIELD + 1)
                    .read_to_end(&mut value)
                    .map_err(|e| e.to_string())?;
                if value.len() as u64 > MAX_FIELD {
                    return Err("multipart: message too large".into());
                }
                fields += &format!("{name}={}\n", String::from_utf8_lossy(&value));
            }
        }
    }
    Ok(fields + &lines(query.iter()) + &files)
}

/// A writer that hashes what it is given and counts it.
struct Hashing(Sha256, u64);

impl Write for Hashing {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.update(bytes);
        self.1 += bytes.len() as u64;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn cookies(w: &mut ResponseWriter, r: &mut Request) {
    let cookies = r.cookies();
    text(
        w,
        &lines(cookies.iter().map(|c| (c.name.as_str(), c.value.as_str()))),
    );
}

/// Sets the cookie the query describes, as Go's `http.SetCookie` writes it.
fn set_cookie_route(w: &mut ResponseWriter, r: &mut Request) {
    let q: Values = r.query();
    let mut cookie = Cookie::new(q.get("name").unwrap_or(""), q.get("value").unwrap_or(""));
    cookie.path = q.get("path").map(str::to_owned);
    cookie.domain = q.get("domain").map(str::to_owned);
    // Go's `MaxAge: 0` writes nothing; below zero, `Max-Age=0`.
    cookie.max_age = q
        .get("max_age")
        .and_then(|s| s.parse().ok())
        .filter(|&s: &i64| s != 0);
    cookie.secure = q.get("secure") == Some("1");
    cookie.http_only = q.get("http_only") == Some("1");
    cookie.same_site = match q.get("same_site") {
        Some("lax") => Some(SameSite::Lax),
        Some("strict") => Some(SameSite::Strict),
        Some("none") => Some(SameSite::None),
        _ => None,
    };
    set_cookie(w, &cookie);
    text(w, "");
}

fn auth(w: &mut ResponseWriter, r: &mut Request) {
    match r.basic_auth() {
        Some((user, _password)) => text(w, &format!("user {user}")),
        None => {
            let challenge = HeaderValue::from_static("Basic realm=\"echo\"");
            w.headers_mut().insert(WWW_AUTHENTICATE, challenge);
            nethttp::error(w, "Unauthorized", StatusCode::UNAUTHORIZED);
        }
    }
}

fn stream(w: &mut ResponseWriter, r: &mut Request) {
    let chunks = query(r, "chunks").unwrap_or(1);
    let size = query(r, "size").unwrap_or(1) as usize;
    let delay = Duration::from_millis(query(r, "delay_ms").unwrap_or(0));
    w.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(TEXT));
    let piece = vec![b'x'; size];
    for i in 0..chunks {
        if i > 0 {
            std::thread::sleep(delay);
        }
        if w.write_all(&piece).and_then(|_| w.flush()).is_err() {
            return; // the client left
        }
    }
}

fn sleep(w: &mut ResponseWriter, r: &mut Request) {
    let ms = query(r, "ms").unwrap_or(0);
    std::thread::sleep(Duration::from_millis(ms));
    let _ = write!(w, "slept {ms}");
}

/// How many `/wait` handlers have stopped early.
static CANCELLED: AtomicU64 = AtomicU64::new(0);

/// Waits `ms` milliseconds on the pool, unless the request is cancelled (its client went
/// away) or a graceful shutdown begins: then it returns at once, without a body.
fn wait(w: &mut ResponseWriter, r: &mut Request) {
    let ms = query(r, "ms").unwrap_or(0);
    let (done, shutdown) = (r.done(), r.shutdown_notice());
    crossbeam_channel::select! {
        recv(done) -> _ => {
            CANCELLED.fetch_add(1, Ordering::SeqCst);
            return;
        }
        recv(shutdown) -> _ => {
            CANCELLED.fetch_add(1, Ordering::SeqCst);
            return;
        }
        default(Duration::from_millis(ms)) => {}
    }
    text(w, &format!("waited {ms}"));
}

fn cancelled(w: &mut ResponseWriter, _r: &mut Request) {
    text(
        w,
        &format!("cancelled {}", CANCELLED.load(Ordering::SeqCst)),
    );
}

fn panic(_w: &mut ResponseWriter, _r: &mut Request) {
    panic!("the /panic route panics on purpose");
}

fn status(w: &mut ResponseWriter, r: &mut Request) {
    let code = r.path_value("code").and_then(|c| c.parse::<u16>().ok());
    match code.and_then(|c| StatusCode::from_u16(c).ok()) {
        Some(code) if !code.is_informational() => w.write_header(code),
        _ => nethttp::error(
            w,
            "status must be a number from 200 to 999",
            StatusCode::BAD_REQUEST,
        ),
    }
}

/// Bytes of `/bytes/{n}` written at a time.
const BYTES_PIECE: usize = 64 * 1024;

/// `n` bytes of `a..z`, written 64 KiB at a time with the length declared up front. Byte i
/// is `b'a' + i % 26`, so the piece that starts at byte `sent` is the run of `a..z` from
/// `sent % 26` on: one such run of 64 KiB + 26 bytes, built by doubling (copies, not a
/// division per byte), holds every piece.
fn bytes(w: &mut ResponseWriter, r: &mut Request) {
    let Some(n) = r.path_value("n").and_then(|n| n.parse::<u64>().ok()) else {
        return nethttp::error(w, "n must be a number", StatusCode::BAD_REQUEST);
    };
    let headers = w.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(CONTENT_LENGTH, HeaderValue::from(n));
    let mut run = [0u8; BYTES_PIECE + 26];
    run[..26].copy_from_slice(b"abcdefghijklmnopqrstuvwxyz");
    let mut built = 26;
    while built < run.len() {
        let more = built.min(run.len() - built);
        run.copy_within(..more, built);
        built += more;
    }
    let mut sent = 0u64;
    while sent < n {
        let len = (n - sent).min(BYTES_PIECE as u64) as usize;
        let start = (sent % 26) as usize;
        if w.write_all(&run[start..start + len]).is_err() {
            return;
        }
        sent += len as u64;
    }
}

fn upload(w: &mut ResponseWriter, r: &mut Request) {
    match io::copy(r.body(), &mut io::sink()) {
        Ok(n) => {
            w.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(TEXT));
            let _ = write!(w, "received {n} bytes");
        }
        Err(e) => nethttp::error(
            w,
            &format!("reading the body: {e}"),
            StatusCode::BAD_REQUEST,
        ),
    }
}

/// What `--help` prints, and a bad argument is answered with (exit status 2).
const USAGE: &str = "usage: echo [ADDR] [--dir DIR] [--header-timeout SECS] [--idle-timeout SECS]
            [--tls-cert FILE --tls-key FILE] [--access-log] [--drain-delay SECS] [--proxy-protocol]
  ADDR defaults to 127.0.0.1:8080 (:PORT: every interface); DIR (default .) is served under /files/
  --tls-cert, --tls-key: serve HTTPS with this certificate chain and key (PEM; needs --features tls)
  --access-log: a line per response on stdout; --drain-delay: serve SECS more, /readyz 503, on SIGTERM
  --proxy-protocol: every connection begins with a PROXY protocol header (v1 or v2)
  A listening socket passed as descriptor 3 (LISTEN_FDS, LISTEN_PID) is served instead of ADDR";

/// The command line: `[ADDR] [--dir DIR] [--header-timeout SECS] [--idle-timeout SECS]
/// [--tls-cert FILE --tls-key FILE]`.
struct Options {
    addr: String,
    dir: String,
    header_timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    tls_cert: Option<String>,
    tls_key: Option<String>,
    access_log: bool,
    drain_delay: Option<Duration>,
    proxy_protocol: bool,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        addr: "127.0.0.1:8080".to_string(),
        dir: ".".to_string(),
        header_timeout: None,
        idle_timeout: None,
        tls_cert: None,
        tls_key: None,
        access_log: false,
        drain_delay: None,
        proxy_protocol: false,
    };
    let mut args = std::env::args().skip(1);
    let secs = |value: Option<String>, flag: &str| {
        let value = value.ok_or(format!("{flag} needs a value"))?;
        let secs: f64 = value
            .parse()
            .map_err(|_| format!("{flag}: not a number: {value}"))?;
        Duration::try_from_secs_f64(secs).map_err(|_| format!("{flag}: out of range: {value}"))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dir" => options.dir = args.next().ok_or("--dir needs a value")?,
            "--header-timeout" => options.header_timeout = Some(secs(args.next(), &arg)?),
            "--idle-timeout" => options.idle_timeout = Some(secs(args.next(), &arg)?),
            "--tls-cert" => options.tls_cert = Some(args.next().ok_or("--tls-cert needs a value")?),
            "--tls-key" => options.tls_key = Some(args.next().ok_or("--tls-key needs a value")?),
            "--access-log" => options.access_log = true,
            "--proxy-protocol" => options.proxy_protocol = true,
            "--drain-delay" => options.drain_delay = Some(secs(args.next(), &arg)?),
            "-h" | "--help" => return Err(String::new()), // the usage, not an error
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            addr => options.addr = addr.to_string(),
        }
    }
    if options.tls_cert.is_some() != options.tls_key.is_some() {
        return Err("--tls-cert and --tls-key go together".to_string());
    }
    if options.tls_cert.is_some() && !cfg!(feature = "tls") {
        return Err("built without TLS: cargo run --features tls --example echo".to_string());
    }
    Ok(options)
}

/// HTTPS with the certificate and key of the command line, if they are given.
#[cfg(feature = "tls")]
fn with_tls(server: Server, options: &Options) -> io::Result<(Server, &'static str)> {
    let (Some(cert), Some(key)) = (&options.tls_cert, &options.tls_key) else {
        return Ok((server, "http"));
    };
    let certs = nethttp::tls::Certificates::from_pem_files(cert, key)?;
    Ok((server.tls(nethttp::tls::server_config(certs)), "https"))
}

/// Plain HTTP: `options()` refuses the TLS flags in a build without TLS.
#[cfg(not(feature = "tls"))]
fn with_tls(server: Server, _options: &Options) -> io::Result<(Server, &'static str)> {
    Ok((server, "http"))
}

fn main() -> io::Result<()> {
    let options = match options() {
        Ok(options) => options,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return Ok(());
        }
        Err(e) => {
            eprintln!("echo: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    logger::init_with_access(log::LevelFilter::Warn, options.access_log);
    let mut server = match options.access_log {
        true => Server::new(nethttp::access_log(routes(&options.dir))),
        false => Server::new(routes(&options.dir)),
    };
    if let Some(delay) = options.drain_delay {
        server = server.drain_delay(delay);
    }
    server = server.proxy_protocol(options.proxy_protocol);
    if let Some(t) = options.header_timeout {
        server = server.read_header_timeout(t);
    }
    if let Some(t) = options.idle_timeout {
        server = server.idle_timeout(t);
    }
    let (server, scheme) = with_tls(server, &options)?;
    // Under systemd's socket activation, or a supervisor that hands the listening socket
    // on (benches/fleet.sh), the listener comes as descriptor 3 and ADDR is not bound.
    let listener = match nethttp::systemd_listener()? {
        Some(inherited) => inherited,
        None => nethttp::listen(&options.addr)?.into(),
    };
    run::until_signalled(server.start(listener)?, scheme)
}

/// The showcase's routes, with `dir` under `/files/`.
fn routes(dir: &str) -> ServeMux {
    let mut mux = ServeMux::new();
    mux.handle("GET /{$}", hello);
    mux.handle("/echo", echo);
    mux.handle("GET /headers", headers);
    mux.handle("GET /stream", blocking(stream));
    mux.handle("GET /sleep", blocking(sleep));
    mux.handle("GET /panic", panic);
    mux.handle("GET /status/{code}", status);
    mux.handle("GET /bytes/{n}", blocking(bytes));
    mux.handle("POST /upload", blocking(upload));
    mux.handle("GET /files/", strip_prefix("/files", file_server(dir)));
    mux.handle("GET /query", query_lines);
    mux.handle("POST /form", blocking(form));
    mux.handle("GET /cookies", cookies);
    mux.handle("GET /set-cookie", set_cookie_route);
    mux.handle("GET /auth", auth);
    mux.handle("GET /wait", blocking(wait));
    mux.handle("GET /cancelled", cancelled);
    mux.handle("GET /ws", ws);
    mux.handle("GET /readyz", nethttp::readiness);
    mux.handle("GET /metrics", nethttp::metrics);
    mux
}

/// `GET /ws`: a WebSocket that sends every message back (pings and closes are answered by
/// the session itself).
#[cfg(feature = "websocket")]
fn ws(w: &mut ResponseWriter, r: &mut Request) {
    use nethttp::websocket::{self, Message, Sender};
    let echo = |ws: &mut Sender<'_, '_>, message: Message| ws.send(&message);
    let _ = websocket::upgrade(w, r, echo); // a bad handshake is answered already
}

/// `GET /ws` in a build without WebSocket support.
#[cfg(not(feature = "websocket"))]
fn ws(w: &mut ResponseWriter, _r: &mut Request) {
    let msg = "WebSocket support is not built in: cargo run --features websocket --example echo";
    nethttp::error(w, msg, StatusCode::NOT_IMPLEMENTED);
}
