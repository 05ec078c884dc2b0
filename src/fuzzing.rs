//! Entry points for the fuzz targets in `fuzz/` and the property tests in
//! `tests/properties.rs`, without sockets. Not part of the API.
//!
//! [`Reader`] feeds a byte stream to the server's own request reader (`reader.rs`, which
//! `conn.rs` drives the same way) and records what it makes of it, request by request, so
//! a fuzz target can predict what a real connection answers to the same bytes. It adds no
//! rule of its own: the order, the limits and the refusals are the reader's.
//! [`ChunkedDecoder`] is the body decoder of `body.rs` as it is; [`Trickle`] hands bytes to
//! a reader in pieces; [`read_cookies`] and
//! [`basic_auth`] are the request toolkit's parsers of a `Cookie` line and an
//! `Authorization` value (the query's, `nethttp::parse_query`, is public);
//! [`proxy_header`] is the PROXY protocol header parser of `proxy_protocol.rs`.

use std::net::{Ipv4Addr, SocketAddr};

use http::Version;

use crate::body::Decoder;
use crate::error::Reject;
use crate::parse::{self, Framing, Head};
use crate::reader::{self, Begin, BodyReader, BodyStep, HeadReader, HeadStep};

pub use crate::body::Progress;
pub use crate::parse::Framing as BodyFraming;

/// The limits a connection reads under (the [`Server`](crate::Server) options of the same
/// names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request head; see [`Server::max_header_bytes`](crate::Server::max_header_bytes).
    pub max_header_bytes: usize,
    /// Largest body an inline handler receives; see
    /// [`Server::max_body_bytes`](crate::Server::max_body_bytes).
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_header_bytes: crate::DEFAULT_MAX_HEADER_BYTES,
            max_body_bytes: crate::DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// One request as a connection received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The method as sent.
    pub method: String,
    /// The request target as sent.
    pub target: String,
    /// HTTP/1.0 or HTTP/1.1 (later 1.x minors are read as 1.1).
    pub version: Version,
    /// Header fields in arrival order, values trimmed as the parser trims them.
    pub fields: Vec<(String, Vec<u8>)>,
    /// How the body was delimited.
    pub framing: BodyFraming,
    /// The client waits for `100 Continue`.
    pub expect_continue: bool,
    /// The client asked to close after this request.
    pub close: bool,
    /// The method is HEAD.
    pub head: bool,
    /// The request went to a blocking handler: its body streamed, without the inline limit.
    pub streamed: bool,
    /// The decoded body (complete only in [`Event::Request`]).
    pub body: Vec<u8>,
    /// Trailer fields of a chunked body.
    pub trailers: Vec<(String, Vec<u8>)>,
}

/// What a connection makes of the bytes it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A complete request, head and body.
    Request(Message),
    /// The request was refused with this status; the connection reads nothing more.
    Refused(u16),
    /// The body (or trailer section) of a request streaming to a blocking handler was
    /// malformed: the connection closes, after a 400 if the handler had not begun its
    /// answer, else with part of one or none.
    Abandoned,
}

/// Where the reader is between events.
#[derive(Debug)]
enum State {
    /// Looking for a head.
    Head(HeadReader),
    /// Collecting the body of `message`.
    Body {
        message: Box<Message>,
        body: BodyReader,
    },
    /// After a refusal or a client's `Connection: close`: nothing more is read.
    Ended,
}

/// Reads requests from a byte stream fed in arbitrary pieces, with the reader `conn.rs`
/// uses.
#[derive(Debug)]
pub struct Reader {
    limits: Limits,
    /// Requests whose target starts with this go to a blocking handler: their body streams
    /// without the inline limit.
    streams: Option<&'static str>,
    /// Bytes received and not yet consumed.
    input: Vec<u8>,
    state: State,
    events: Vec<Event>,
    /// The refusal came while collecting a body already past the inline limit.
    refused_over_limit: bool,
}

impl Reader {
    /// A reader for a connection with these limits, whose handlers all run inline.
    pub fn new(limits: Limits) -> Reader {
        Reader {
            limits: Limits {
                max_header_bytes: limits.max_header_bytes.max(64),
                ..limits
            },
            streams: None,
            input: Vec::new(),
            state: State::Head(HeadReader::default()),
            events: Vec::new(),
            refused_over_limit: false,
        }
    }

    /// Requests whose target starts with `prefix` go to a blocking handler.
    pub fn streaming(mut self, prefix: &'static str) -> Reader {
        self.streams = Some(prefix);
        self
    }

    /// Feeds the next bytes of the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        if matches!(self.state, State::Ended) {
            return;
        }
        self.input.extend_from_slice(bytes);
        while self.step() {}
    }

    /// The events so far, in order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The reader stopped: after a refusal or a `Connection: close` request.
    pub fn ended(&self) -> bool {
        matches!(self.state, State::Ended)
    }

    /// The head of a request whose body is incomplete, if any.
    pub fn partial_body(&self) -> Option<&Message> {
        match &self.state {
            State::Body { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The refusal came while collecting a body that had already passed the inline limit.
    /// A connection that read the same bytes in other pieces may then refuse with 413
    /// where this reader found a malformed body (400, 431), or the other way round: the
    /// body limit is checked after each read, and each read is decoded whole.
    pub fn refused_over_limit(&self) -> bool {
        self.refused_over_limit
    }

    /// Bytes received and not consumed by any event: a partial head, for instance.
    pub fn unconsumed(&self) -> &[u8] {
        &self.input
    }

    /// One step: a head or a body piece. Returns whether to go on.
    fn step(&mut self) -> bool {
        match &mut self.state {
            State::Head { .. } => self.read_head(),
            State::Body { .. } => self.read_body(),
            State::Ended => false,
        }
    }

    fn read_head(&mut self) -> bool {
        let State::Head(head_reader) = &mut self.state else {
            return false;
        };
        self.input.drain(..reader::blank_lines(&self.input));
        if self.input.is_empty() {
            return false;
        }
        let limit = self.limits.max_header_bytes;
        let (head, len) = match head_reader.read(&self.input, limit, |h, span| {
            parse::parse_span(h, span, peer())
        }) {
            HeadStep::Incomplete => return false,
            HeadStep::Refused(reject) => return self.refuse(reject),
            HeadStep::Parsed { head, len } => (head, len),
        };
        self.input.drain(..len);
        let mut message = Box::new(message(&head));
        message.streamed = self
            .streams
            .is_some_and(|prefix| message.target.starts_with(prefix));
        let limit = (!message.streamed).then_some(self.limits.max_body_bytes);
        match reader::begin(head.framing, limit) {
            Begin::Complete => self.answer(*message),
            Begin::Refused(reject) => self.refuse(reject),
            Begin::Body(body) => {
                self.state = State::Body { message, body };
                true
            }
        }
    }

    fn read_body(&mut self) -> bool {
        let State::Body { message, body } = &mut self.state else {
            return false;
        };
        if self.input.is_empty() {
            return false;
        }
        let step = body.read(&self.input, &mut message.body);
        self.refused_over_limit = body.over_limit();
        let trailers = match step {
            // A blocking handler's connection does not answer a malformed body: it ends.
            BodyStep::Refused(_) if message.streamed => return self.abandon(),
            BodyStep::Refused(reject) => return self.refuse(reject),
            BodyStep::More { consumed } => {
                self.input.drain(..consumed);
                return false;
            }
            BodyStep::Done { consumed, trailers } => {
                self.input.drain(..consumed);
                trailers
            }
        };
        message.trailers = fields_of(&trailers);
        let State::Body { message, .. } = std::mem::replace(&mut self.state, State::Ended) else {
            unreachable!("matched above");
        };
        self.answer(*message)
    }

    /// A complete request: reported, then the next head, unless the client asked to close.
    fn answer(&mut self, message: Message) -> bool {
        let close = message.close;
        self.events.push(Event::Request(message));
        self.state = match close {
            true => State::Ended,
            false => State::Head(HeadReader::default()),
        };
        !close
    }

    fn abandon(&mut self) -> bool {
        self.events.push(Event::Abandoned);
        self.state = State::Ended;
        false
    }

    fn refuse(&mut self, reject: Reject) -> bool {
        self.events.push(Event::Refused(reject.status().as_u16()));
        self.state = State::Ended;
        false
    }
}

fn peer() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 1))
}

fn message(head: &Head) -> Message {
    let r = &head.request;
    Message {
        method: r.method().as_str().to_string(),
        target: r.request_uri().to_string(),
        version: r.version(),
        fields: r
            .header_fields()
            .map(|(name, value)| (name.to_string(), value.to_vec()))
            .collect(),
        framing: head.framing,
        expect_continue: head.expect_continue,
        close: head.facts.close,
        head: head.facts.head,
        streamed: false,
        body: Vec::new(),
        trailers: Vec::new(),
    }
}

fn fields_of(map: &http::HeaderMap) -> Vec<(String, Vec<u8>)> {
    map.iter()
        .map(|(name, value)| (name.as_str().to_string(), value.as_bytes().to_vec()))
        .collect()
}

/// The request-body decoder for a chunked body, fed in pieces as a connection feeds it.
#[derive(Debug)]
pub struct ChunkedDecoder(Decoder);

impl Default for ChunkedDecoder {
    fn default() -> ChunkedDecoder {
        ChunkedDecoder(Decoder::new(Framing::Chunked))
    }
}

impl ChunkedDecoder {
    /// Appends the body bytes found at the front of `input` to `body`. An error is the
    /// status the connection would refuse the request with.
    pub fn decode(&mut self, input: &[u8], body: &mut Vec<u8>) -> Result<Progress, u16> {
        self.0
            .decode(input, body)
            .map_err(|reject| reject.status().as_u16())
    }

    /// Body bytes that come next with no framing between them (the rest of the chunk's
    /// data), which a connection may read straight into the body.
    pub fn raw_left(&self) -> u64 {
        self.0.raw_left()
    }

    /// Counts `n` bytes (at most [`raw_left`](Self::raw_left)) taken straight into the body.
    pub fn took(&mut self, n: u64) -> Progress {
        self.0.took(n)
    }

    /// The trailer fields of a finished body, or the status they are refused with.
    pub fn trailers(&self) -> Result<Vec<(String, Vec<u8>)>, u16> {
        self.0
            .trailers()
            .map(|map| fields_of(&map))
            .map_err(|reject| reject.status().as_u16())
    }
}

/// The cookies of one `Cookie` field's value, as `Request::cookies` reads them.
pub fn read_cookies(line: &str) -> Vec<crate::Cookie> {
    let mut cookies = Vec::new();
    crate::cookie::read_cookies(line, &mut cookies);
    cookies
}

/// The credentials of one `Authorization` field's value, as `Request::basic_auth` reads
/// them.
pub fn basic_auth(value: &[u8]) -> Option<(String, String)> {
    crate::form::parse_basic_auth(value)
}

/// A reader that hands out its bytes in pieces: first the given sizes, in order, then
/// `step` at a time, so what reads it (the multipart reader, say) meets every split.
#[derive(Debug)]
pub struct Trickle<'a> {
    bytes: &'a [u8],
    sizes: Vec<usize>,
    step: usize,
}

impl<'a> Trickle<'a> {
    /// `bytes`, `step` (at least 1) at a time.
    pub fn new(bytes: &'a [u8], step: usize) -> Trickle<'a> {
        Trickle::with_sizes(bytes, Vec::new(), step)
    }

    /// `bytes` in pieces of `sizes` (each at least 1), then `step` at a time.
    pub fn with_sizes(bytes: &'a [u8], mut sizes: Vec<usize>, step: usize) -> Trickle<'a> {
        sizes.reverse();
        Trickle { bytes, sizes, step }
    }
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let size = self.sizes.pop().unwrap_or(self.step).max(1);
        let n = size.min(buf.len()).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

/// What a WebSocket session (feature `websocket`) with a handler that echoes every message
/// writes when `pieces` arrive one after another, and whether it closed the connection
/// (then the pieces after it are not read). `max_message` is its limit on a message and
/// a frame.
#[cfg(feature = "websocket")]
pub fn websocket_echo(pieces: &[&[u8]], max_message: usize) -> (Vec<u8>, bool) {
    use crate::upgrade::{Io, Protocol};
    use crate::websocket::{Limits, Message, Sender};
    let echo = |ws: &mut Sender<'_, '_>, message: Message| ws.send(&message);
    let limits = Limits {
        max_message,
        max_frame: max_message,
    };
    let mut session = crate::websocket::session(echo, limits);
    let mut out = crate::mem::Buffer::default();
    session.start(&mut Io::new(&[], &mut out, 0));
    let mut input = Vec::new();
    for piece in pieces {
        input.extend_from_slice(piece);
        let mut io = Io::new(&input, &mut out, 0);
        session.read(&mut io);
        let (consumed, closing) = io.outcome();
        input.drain(..consumed);
        if closing {
            session.closed();
            return (out.to_vec(), true);
        }
    }
    (out.to_vec(), false)
}

/// The addresses a PROXY header relays, `(source, destination)`, or `None` when the real
/// peer address stands (LOCAL, `UNKNOWN`, families other than TCP over IPv4 or IPv6).
pub type ProxyAddresses = Option<(SocketAddr, SocketAddr)>;

/// What the PROXY protocol header parser (`proxy_protocol.rs`) makes of the start of a
/// connection: `Ok(Some((addresses, length)))` for a complete header, `Ok(None)` while more
/// bytes are needed, the refusal described otherwise.
pub fn proxy_header(buf: &[u8]) -> Result<Option<(ProxyAddresses, usize)>, String> {
    use crate::proxy_protocol::{parse, Proxied};
    match parse(buf) {
        Ok(Some((
            Proxied::Tcp {
                source,
                destination,
            },
            n,
        ))) => Ok(Some((Some((source, destination)), n))),
        Ok(Some((Proxied::Local, n))) => Ok(Some((None, n))),
        Ok(None) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}
