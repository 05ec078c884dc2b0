//! Entry points for the fuzz targets in `fuzz/` and the property tests in
//! `tests/properties.rs`: thin wrappers that drive the real head parser (`parse.rs`) and
//! body decoders (`body.rs`) on byte slices, without sockets. Not part of the API.
//!
//! [`Reader`] reads a byte stream request by request with the rules `conn.rs` applies
//! (blank lines skipped between requests, the head limit with its 414/431 choice, the
//! inline body limit, trailers checked at the end of a chunked body), so a fuzz target can
//! predict what a real connection should answer to the same bytes.

use std::net::{Ipv4Addr, SocketAddr};

use http::Version;

use crate::body::Decoder;
use crate::error::Reject;
use crate::parse::{self, Framing, Head};

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

/// How a request's body is delimited (the parser's decision).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body.
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// Chunked.
    Chunked,
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
    /// Looking for a head; `scanned` bytes of the input were searched already.
    Head { scanned: usize },
    /// Collecting the body of `message` for an inline handler.
    Body {
        message: Box<Message>,
        decoder: Decoder,
    },
    /// After a refusal or a client's `Connection: close`: nothing more is read.
    Ended,
}

/// Reads requests from a byte stream fed in arbitrary pieces, as `conn.rs` does.
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
            state: State::Head { scanned: 0 },
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
        let State::Head { scanned } = &mut self.state else {
            return false;
        };
        let blank = self
            .input
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        self.input.drain(..blank);
        if self.input.is_empty() {
            return false;
        }
        let limit = self.limits.max_header_bytes;
        let buf = &self.input;
        let end = match parse::find_end(buf, *scanned) {
            Some(end) if end <= limit => end,
            Some(_) => return self.refuse(parse::oversize(&buf[..limit])),
            None if buf.len() >= limit => return self.refuse(parse::oversize(&buf[..limit])),
            None => {
                *scanned = buf.len();
                return false;
            }
        };
        let head = match parse::parse(&buf[..end], peer()) {
            Ok(head) => head,
            Err(reject) => return self.refuse(reject),
        };
        self.input.drain(..end);
        let mut message = Box::new(message(&head));
        message.streamed = self
            .streams
            .is_some_and(|prefix| message.target.starts_with(prefix));
        match head.framing {
            Framing::Empty => self.answer(*message),
            Framing::Length(n) if n > self.limits.max_body_bytes as u64 && !message.streamed => {
                self.refuse(Reject::BodyTooLarge)
            }
            framing => {
                self.state = State::Body {
                    message,
                    decoder: Decoder::new(framing),
                };
                true
            }
        }
    }

    fn read_body(&mut self) -> bool {
        let State::Body { message, decoder } = &mut self.state else {
            return false;
        };
        if self.input.is_empty() {
            return false;
        }
        let outcome = decoder.decode(&self.input, &mut message.body);
        let too_large = message.body.len() > self.limits.max_body_bytes && !message.streamed;
        self.refused_over_limit = too_large;
        let progress = match outcome {
            Err(_) if message.streamed => return self.abandon(),
            Err(reject) => return self.refuse(reject),
            Ok(_) if too_large => return self.refuse(Reject::BodyTooLarge),
            Ok(progress) => progress,
        };
        self.input.drain(..progress.consumed);
        if !progress.done {
            return false;
        }
        // Trailers are checked like the body: refused inline, abandoned when streamed.
        match decoder.trailers() {
            Ok(trailers) => message.trailers = fields_of(&trailers),
            Err(_) if message.streamed => return self.abandon(),
            Err(reject) => return self.refuse(reject),
        }
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
            false => State::Head { scanned: 0 },
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
        framing: match head.framing {
            Framing::Empty => BodyFraming::Empty,
            Framing::Length(n) => BodyFraming::Length(n),
            Framing::Chunked => BodyFraming::Chunked,
        },
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

/// How far one call to [`ChunkedDecoder::decode`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of the input that belonged to the body, framing included.
    pub consumed: usize,
    /// The body (with its trailer section) is complete.
    pub done: bool,
}

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
            .map(|p| Progress {
                consumed: p.consumed,
                done: p.done,
            })
            .map_err(|reject| reject.status().as_u16())
    }

    /// The trailer fields of a finished body, or the status they are refused with.
    pub fn trailers(&self) -> Result<Vec<(String, Vec<u8>)>, u16> {
        self.0
            .trailers()
            .map(|map| fields_of(&map))
            .map_err(|reject| reject.status().as_u16())
    }
}
