//! What the fuzz targets share: how an input is laid out, and a strict parser of the
//! responses a connection sends back.
//!
//! # Input layout
//!
//! Every target reads its input the same way, so one seed corpus format serves them all:
//!
//! ```text
//! [flags] [cut 1: u16 LE] [cut 2: u16 LE] [cut 3: u16 LE] payload...
//! ```
//!
//! The payload is fed in up to four pieces: `cut 1` bytes, `cut 2` bytes, `cut 3` bytes,
//! then the rest (a zero cut is an empty piece). Inputs shorter than the 7-byte prefix are
//! a payload fed whole. `flags` bits 0–1 pick the limits ([`limits`]); the other bits mean
//! what each target says.

pub mod tls;

use nethttp::fuzzing::Limits;

/// Bytes before the payload.
pub const PREFIX: usize = 7;

/// One fuzz input, taken apart.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub flags: u8,
    pub cuts: [usize; 3],
    pub payload: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Input<'a> {
        if data.len() < PREFIX {
            return Input {
                flags: 0,
                cuts: [0; 3],
                payload: data,
            };
        }
        let cut = |i: usize| usize::from(u16::from_le_bytes([data[i], data[i + 1]]));
        Input {
            flags: data[0],
            cuts: [cut(1), cut(3), cut(5)],
            payload: &data[PREFIX..],
        }
    }

    /// The payload in its (up to four) pieces, in order; together they are the payload.
    pub fn pieces(&self) -> Vec<&'a [u8]> {
        let mut rest = self.payload;
        let mut pieces = Vec::with_capacity(4);
        for cut in self.cuts {
            let (piece, tail) = rest.split_at(cut.min(rest.len()));
            pieces.push(piece);
            rest = tail;
        }
        pieces.push(rest);
        pieces
    }

    /// The limits flags bits 0–1 pick.
    pub fn limits(&self) -> Limits {
        limits(self.flags)
    }
}

/// Header limits small enough for short inputs to reach the 414 and 431 paths, and the
/// server's default; body limits likewise.
pub fn limits(flags: u8) -> Limits {
    let (max_header_bytes, max_body_bytes) = match flags & 3 {
        0 => (1024, 4096),
        1 => (64, 16),
        2 => (256, 1024),
        _ => (64 * 1024, 8 * 1024 * 1024),
    };
    Limits {
        max_header_bytes,
        max_body_bytes,
    }
}

/// One response as sent on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub version: String,
    pub status: u16,
    /// Header fields in order.
    pub fields: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    /// The body ran to the end of the stream (no length, no chunking).
    pub until_close: bool,
}

impl Response {
    /// Values of the field `name` (case-insensitive), in order.
    pub fn values<'r>(&'r self, name: &'r str) -> impl Iterator<Item = &'r [u8]> + 'r {
        self.fields
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    pub fn header<'r>(&'r self, name: &'r str) -> Option<&'r [u8]> {
        self.values(name).next()
    }

    /// No response may follow this one on its connection: `Connection: close`, an HTTP/1.0
    /// response without `Connection: keep-alive`, or a body delimited by the close.
    pub fn closes(&self) -> bool {
        let has = |token: &str| {
            self.values("connection").any(|v| {
                v.split(|&b| b == b',')
                    .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
            })
        };
        self.until_close || has("close") || (self.version == "HTTP/1.0" && !has("keep-alive"))
    }
}

/// Why a response stream is not well-formed (or ends early).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Malformed {
    /// The stream ended inside a response.
    Truncated,
    /// Anything else, described.
    Bad(String),
}

fn bad<T>(what: impl Into<String>) -> Result<T, Malformed> {
    Err(Malformed::Bad(what.into()))
}

/// Reads responses off a byte stream strictly: CRLF line endings, `HTTP/1.x DDD reason`,
/// token field names, at most one `Content-Length` and never next to `Transfer-Encoding`,
/// chunked bodies framed exactly.
pub struct Responses<'b> {
    bytes: &'b [u8],
    pos: usize,
}

impl<'b> Responses<'b> {
    pub fn new(bytes: &'b [u8]) -> Responses<'b> {
        Responses { bytes, pos: 0 }
    }

    /// Bytes not yet read.
    pub fn rest(&self) -> &'b [u8] {
        &self.bytes[self.pos..]
    }

    fn line(&mut self) -> Result<&'b [u8], Malformed> {
        let rest = self.rest();
        let Some(lf) = rest.iter().position(|&b| b == b'\n') else {
            return Err(Malformed::Truncated);
        };
        if lf == 0 || rest[lf - 1] != b'\r' {
            return bad("line not ended by CRLF");
        }
        self.pos += lf + 1;
        Ok(&rest[..lf - 1])
    }

    fn take(&mut self, n: usize) -> Result<&'b [u8], Malformed> {
        let rest = self.rest();
        if rest.len() < n {
            return Err(Malformed::Truncated);
        }
        self.pos += n;
        Ok(&rest[..n])
    }

    /// Reads the next response; `head_request` says it answers a HEAD (no body).
    pub fn next_response(&mut self, head_request: bool) -> Result<Response, Malformed> {
        let start = self.pos;
        let result = self.read(head_request);
        if result.is_err() {
            self.pos = start;
        }
        result
    }

    fn read(&mut self, head_request: bool) -> Result<Response, Malformed> {
        let line = self.line()?;
        let (version, status) = match line {
            [b'H', b'T', b'T', b'P', b'/', b'1', b'.', minor @ (b'0' | b'1'), b' ', d1, d2, d3, b' ', reason @ ..]
                if [d1, d2, d3].iter().all(|d| d.is_ascii_digit())
                    && reason
                        .iter()
                        .all(|&b| b == b'\t' || (b' '..0x7f).contains(&b)) =>
            {
                let status = [d1, d2, d3]
                    .iter()
                    .fold(0u16, |n, &&d| n * 10 + u16::from(d - b'0'));
                (format!("HTTP/1.{}", *minor as char), status)
            }
            _ => {
                return bad(format!(
                    "bad status line {:?}",
                    String::from_utf8_lossy(line)
                ))
            }
        };
        if !(100..=999).contains(&status) {
            return bad(format!("status {status}"));
        }
        let mut fields = Vec::new();
        loop {
            let line = self.line()?;
            if line.is_empty() {
                break;
            }
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                return bad(format!(
                    "field without colon {:?}",
                    String::from_utf8_lossy(line)
                ));
            };
            let (name, value) = (&line[..colon], &line[colon + 1..]);
            if name.is_empty() || !name.iter().all(|&b| is_token(b)) {
                return bad(format!(
                    "bad field name {:?}",
                    String::from_utf8_lossy(name)
                ));
            }
            if value.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0) {
                return bad("bad field value");
            }
            let name = String::from_utf8_lossy(name).into_owned();
            fields.push((name, value.trim_ascii().to_vec()));
        }
        let mut response = Response {
            version,
            status,
            fields,
            body: Vec::new(),
            until_close: false,
        };
        if response.header("date").is_none() && status >= 200 {
            return bad("no Date");
        }
        let lengths: Vec<&[u8]> = response.values("content-length").collect();
        let codings: Vec<&[u8]> = response.values("transfer-encoding").collect();
        if lengths.len() > 1 || codings.len() > 1 {
            return bad("repeated framing field");
        }
        if !lengths.is_empty() && !codings.is_empty() {
            return bad("both Content-Length and Transfer-Encoding");
        }
        let length = match lengths.first() {
            Some(v) if !v.is_empty() && v.len() < 19 && v.iter().all(u8::is_ascii_digit) => {
                Some(std::str::from_utf8(v).unwrap().parse::<usize>().unwrap())
            }
            Some(_) => return bad("bad Content-Length"),
            None => None,
        };
        let chunked = match codings.first() {
            Some(v) if v.eq_ignore_ascii_case(b"chunked") => true,
            Some(_) => return bad("bad Transfer-Encoding"),
            None => false,
        };
        let bodiless = head_request || status < 200 || status == 204 || status == 304;
        if status < 200 && !response.fields.is_empty() && status == 100 {
            return bad("100 Continue with fields");
        }
        if bodiless {
            if chunked || (status == 204 && length.is_some()) || (status < 200 && length.is_some())
            {
                return bad("framing field on a bodiless response");
            }
            return Ok(response);
        }
        if chunked {
            if response.version != "HTTP/1.1" {
                return bad("chunked HTTP/1.0 response");
            }
            response.body = self.chunked()?;
        } else if let Some(n) = length {
            response.body = self.take(n)?.to_vec();
        } else {
            response.body = self.rest().to_vec();
            self.pos = self.bytes.len();
            response.until_close = true;
        }
        Ok(response)
    }

    fn chunked(&mut self) -> Result<Vec<u8>, Malformed> {
        let mut body = Vec::new();
        loop {
            let line = self.line()?;
            if line.is_empty()
                || line.len() > 16
                || !line.iter().all(u8::is_ascii_hexdigit)
                || (line.len() > 1 && line[0] == b'0')
            {
                return bad(format!(
                    "bad chunk size {:?}",
                    String::from_utf8_lossy(line)
                ));
            }
            let size = usize::from_str_radix(std::str::from_utf8(line).unwrap(), 16)
                .map_err(|_| Malformed::Bad("chunk size".into()))?;
            if size == 0 {
                return match self.line()? {
                    [] => Ok(body),
                    _ => bad("trailers in a response"),
                };
            }
            body.extend_from_slice(self.take(size)?);
            if !self.line()?.is_empty() {
                return bad("chunk data not followed by CRLF");
            }
        }
    }
}

/// The token bytes of RFC 9110 §5.6.2.
pub fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The resident set size of this process, in bytes (Linux).
pub fn rss_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Open file descriptors of this process (Linux).
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// What a fuzz target's server holds, checked every few hundred inputs: connections it
/// opened and closed (from its `conn_state` hook), and the process's memory and
/// descriptors when the server started.
pub struct Resources {
    opened: std::sync::atomic::AtomicUsize,
    closed: std::sync::atomic::AtomicUsize,
    baseline: std::sync::OnceLock<(usize, usize)>,
}

impl Resources {
    pub const fn new() -> Resources {
        Resources {
            opened: std::sync::atomic::AtomicUsize::new(0),
            closed: std::sync::atomic::AtomicUsize::new(0),
            baseline: std::sync::OnceLock::new(),
        }
    }

    /// The server's `conn_state` hook calls this.
    pub fn count(&self, state: nethttp::ConnState) {
        use std::sync::atomic::Ordering::SeqCst;
        match state {
            nethttp::ConnState::New => self.opened.fetch_add(1, SeqCst),
            nethttp::ConnState::Closed => self.closed.fetch_add(1, SeqCst),
            _ => 0,
        };
    }

    /// Takes the baseline, once the servers run.
    pub fn mark_baseline(&self) {
        self.baseline.get_or_init(|| (rss_bytes(), open_fds()));
    }

    /// No connection or descriptor outlives its input, and memory stays bounded.
    pub fn check(&self) {
        use std::sync::atomic::Ordering::SeqCst;
        use std::time::{Duration, Instant};
        let (rss0, fds0) = *self.baseline.get().expect("mark_baseline first");
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let open = self.opened.load(SeqCst) - self.closed.load(SeqCst);
            let fds = open_fds();
            if open == 0 && fds <= fds0 + 8 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{open} connections and {fds} descriptors (from {fds0}) still open"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        // The fuzzer's corpus and AddressSanitizer's quarantine (256 MiB) share the
        // process and grow with the run (the `head` target, with no server, reaches
        // ~540 MiB), so the bound is loose; libFuzzer's own -rss_limit_mb (2 GiB) stands
        // behind it.
        let rss = rss_bytes();
        assert!(
            rss < rss0 + 1024 * 1024 * 1024,
            "RSS grew from {} to {} MiB",
            rss0 >> 20,
            rss >> 20
        );
    }
}

impl Default for Resources {
    fn default() -> Resources {
        Resources::new()
    }
}

/// Everything the server sends until it ends the connection (a plain or TLS client), or a
/// panic if it has not ended by the client's read timeout.
pub fn read_until_eof(client: &mut impl std::io::Read) -> Vec<u8> {
    use std::io::ErrorKind;
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match client.read(&mut buf) {
            Ok(0) => return answer,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            // A Unix socket closed with unread input reports a reset after the data.
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return answer,
            // A TLS session the server closed without `close_notify` (after a socket error).
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return answer,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => panic!(
                "no end of file {:?} after the client's ({e}); got {:?}",
                started.elapsed(),
                String::from_utf8_lossy(&answer)
            ),
        }
    }
}
