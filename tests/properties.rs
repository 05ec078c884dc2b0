//! Property tests: generated valid requests, split at generated points, read the same as
//! whole; and the response chunk encoder feeds the request chunked decoder without loss.
//!
//! The reading goes through `nethttp::fuzzing`, which drives the real head parser and body
//! decoders the way a connection does (`src/fuzzing.rs`); one property also goes over a real
//! socket. The fuzz targets in `fuzz/` explore the same ground with hostile bytes.

mod util;

use std::io::{BufReader, Read, Write};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use nethttp::bench::Responder;
use nethttp::fuzzing::{BodyFraming, ChunkedDecoder, Event, Limits, Message, Reader, Trickle};
use nethttp::http::Version;
use nethttp::{Request, ResponseWriter, Server};
use proptest::prelude::*;

/// A valid request, and the bytes that carry it.
#[derive(Debug, Clone)]
struct Valid {
    method: String,
    target: String,
    version: Version,
    /// Header fields as written, `Host` and framing fields included.
    fields: Vec<(String, String)>,
    framing: BodyFraming,
    body: Vec<u8>,
    trailers: Vec<(String, String)>,
    wire: Vec<u8>,
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}"
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("GET".to_string()),
        Just("POST".to_string()),
        Just("PUT".to_string()),
        Just("DELETE".to_string()),
        Just("PATCH".to_string()),
        "[A-Z]{1,10}",
    ]
}

/// Origin-form targets: a path of segments, maybe a query.
fn target() -> impl Strategy<Value = String> {
    (
        prop::collection::vec("[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,8}", 0..4),
        prop::option::of("[A-Za-z0-9=&%._~-]{0,16}"),
    )
        .prop_map(|(segments, query)| {
            let mut target = format!("/{}", segments.join("/"));
            if let Some(query) = query {
                target.push('?');
                target.push_str(&query);
            }
            target
        })
}

/// Field values: visible ASCII with inner spaces and tabs, no leading or trailing blank.
fn value() -> impl Strategy<Value = String> {
    "([!-~]([ \t!-~]{0,20}[!-~])?)?"
}

/// Extra fields, none of which changes framing, routing or the connection.
fn extra_fields() -> impl Strategy<Value = Vec<(String, String)>> {
    let reserved = [
        "host",
        "content-length",
        "transfer-encoding",
        "expect",
        "connection",
        "trailer",
    ];
    prop::collection::vec((token(), value()), 0..8).prop_map(move |fields| {
        fields
            .into_iter()
            .filter(|(name, _)| !reserved.contains(&name.to_ascii_lowercase().as_str()))
            .collect()
    })
}

/// A body framing, a body, chunk sizes for it, extensions and trailers.
#[derive(Debug, Clone)]
enum Framed {
    None,
    Length(Vec<u8>),
    Chunked {
        body: Vec<u8>,
        sizes: Vec<usize>,
        extension: Option<String>,
        trailers: Vec<(String, String)>,
    },
}

fn framed() -> impl Strategy<Value = Framed> {
    let body = prop::collection::vec(any::<u8>(), 0..300);
    prop_oneof![
        Just(Framed::None),
        body.clone().prop_map(Framed::Length),
        (
            body,
            prop::collection::vec(1usize..64, 1..8),
            // At most 12 bytes with its `;`: even a one-byte chunk's framing then stays
            // within the per-chunk overhead allowance (`src/body.rs`), so no valid body
            // generated here is refused for overhead.
            prop::option::of("[a-z]{1,5}(=[a-z0-9]{1,5})?"),
            extra_fields(),
        )
            .prop_map(|(body, sizes, extension, trailers)| Framed::Chunked {
                body,
                sizes,
                extension,
                trailers
            }),
    ]
}

fn valid() -> impl Strategy<Value = Valid> {
    (
        method(),
        target(),
        any::<bool>(),
        "[a-z0-9.-]{1,20}(:[0-9]{1,5})?",
        extra_fields(),
        framed(),
    )
        .prop_map(|(method, target, http10, host, extra, framed)| {
            let framed = match framed {
                Framed::Chunked { .. } if http10 => Framed::None, // chunked needs HTTP/1.1
                other => other,
            };
            build(method, target, http10, host, extra, framed)
        })
}

/// Writes a request out.
fn build(
    method: String,
    target: String,
    http10: bool,
    host: String,
    extra: Vec<(String, String)>,
    framed: Framed,
) -> Valid {
    let version = if http10 {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    let mut fields = vec![("Host".to_string(), host)];
    fields.extend(extra);
    let (framing, body, trailers, tail) = match framed {
        Framed::None => (BodyFraming::Empty, Vec::new(), Vec::new(), Vec::new()),
        Framed::Length(body) => {
            fields.push(("Content-Length".into(), body.len().to_string()));
            let framing = match body.len() {
                0 => BodyFraming::Empty,
                n => BodyFraming::Length(n as u64),
            };
            (framing, body.clone(), Vec::new(), body)
        }
        Framed::Chunked {
            body,
            sizes,
            extension,
            trailers,
        } => {
            fields.push(("Transfer-Encoding".into(), "chunked".into()));
            let mut wire = Vec::new();
            let mut rest = &body[..];
            for size in sizes.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (chunk, tail) = rest.split_at((*size).min(rest.len()));
                wire.extend_from_slice(format!("{:X}", chunk.len()).as_bytes());
                if let Some(ext) = &extension {
                    wire.extend_from_slice(format!(";{ext}").as_bytes());
                }
                wire.extend_from_slice(b"\r\n");
                wire.extend_from_slice(chunk);
                wire.extend_from_slice(b"\r\n");
                rest = tail;
            }
            wire.extend_from_slice(b"0\r\n");
            for (name, value) in &trailers {
                wire.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
            }
            wire.extend_from_slice(b"\r\n");
            (BodyFraming::Chunked, body, trailers, wire)
        }
    };
    let minor = if http10 { 0 } else { 1 };
    let mut wire = format!("{method} {target} HTTP/1.{minor}\r\n").into_bytes();
    for (name, value) in &fields {
        wire.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    wire.extend_from_slice(b"\r\n");
    wire.extend_from_slice(&tail);
    Valid {
        method,
        target,
        version,
        fields,
        framing,
        body,
        trailers,
        wire,
    }
}

/// Checks that `m` is the request `v` describes.
fn same(m: &Message, v: &Valid) -> Result<(), TestCaseError> {
    prop_assert_eq!(&m.method, &v.method);
    prop_assert_eq!(&m.target, &v.target);
    prop_assert_eq!(m.version, v.version);
    let fields: Vec<(String, Vec<u8>)> = v
        .fields
        .iter()
        .map(|(n, val)| (n.clone(), val.clone().into_bytes()))
        .collect();
    prop_assert_eq!(&m.fields, &fields);
    prop_assert_eq!(m.framing, v.framing);
    prop_assert_eq!(&m.body, &v.body);
    let mut trailers: Vec<(String, Vec<u8>)> = v
        .trailers
        .iter()
        .map(|(n, val)| (n.to_ascii_lowercase(), val.clone().into_bytes()))
        .collect();
    let mut got = m.trailers.clone();
    // The trailer map groups repeated names; compare as multisets.
    trailers.sort();
    got.sort();
    prop_assert_eq!(got, trailers);
    prop_assert_eq!(m.close, v.version == Version::HTTP_10);
    Ok(())
}

/// Feeds `wire` cut at `cuts` (positions, any order, any repeats).
fn read_split(wire: &[u8], cuts: &[usize]) -> Reader {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
    cuts.sort_unstable();
    let mut reader = Reader::new(Limits::default());
    let mut from = 0;
    for cut in cuts.into_iter().chain([wire.len()]) {
        reader.push(&wire[from..cut]);
        from = cut;
    }
    reader
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any valid request, cut anywhere, reads as the one request it is.
    #[test]
    fn a_valid_request_split_anywhere_reads_the_same(
        v in valid(),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut whole = Reader::new(Limits::default());
        whole.push(&v.wire);
        let [Event::Request(m)] = whole.events() else {
            return Err(TestCaseError::fail(format!("{:?}", whole.events())));
        };
        same(m, &v)?;
        let split = read_split(&v.wire, &cuts);
        prop_assert_eq!(split.events(), whole.events());
        prop_assert!(split.unconsumed().is_empty());
    }

    /// Pipelined valid HTTP/1.1 requests, cut anywhere, read as the same sequence.
    #[test]
    fn pipelined_requests_split_anywhere_read_the_same(
        requests in prop::collection::vec(valid(), 1..5),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let requests: Vec<Valid> = requests.into_iter().filter(|v| v.version == Version::HTTP_11).collect();
        let wire: Vec<u8> = requests.iter().flat_map(|v| v.wire.clone()).collect();
        let split = read_split(&wire, &cuts);
        prop_assert_eq!(split.events().len(), requests.len());
        for (event, v) in split.events().iter().zip(&requests) {
            let Event::Request(m) = event else {
                return Err(TestCaseError::fail(format!("{event:?}")));
            };
            same(m, v)?;
        }
    }

    /// Whatever a handler writes and flushes, in whatever pieces, comes out of the request
    /// chunked decoder as it went in, read in whatever pieces.
    #[test]
    fn chunked_encode_then_decode_is_identity(
        pieces in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..10),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut out = Vec::new();
        Responder::default().respond(&mut out, |w| {
            for piece in &pieces {
                w.write_all(piece).unwrap();
                w.flush().unwrap();
            }
        });
        let start = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let wire = &out[start..];
        let expected: Vec<u8> = pieces.concat();
        if !pieces.is_empty() {
            let head = String::from_utf8_lossy(&out[..start]).into_owned();
            prop_assert!(head.contains("Transfer-Encoding: chunked\r\n"), "{}", head);
        }
        if !String::from_utf8_lossy(&out[..start]).contains("chunked") {
            prop_assert_eq!(wire, &expected[..]); // nothing flushed: a plain length
            return Ok(());
        }
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
        cuts.sort_unstable();
        let mut decoder = ChunkedDecoder::default();
        let (mut body, mut pending, mut consumed, mut done) = (Vec::new(), Vec::new(), 0, false);
        let mut from = 0;
        for cut in cuts.into_iter().chain([wire.len()]) {
            pending.extend_from_slice(&wire[from..cut]);
            from = cut;
            let progress = decoder.decode(&pending, &mut body).unwrap();
            pending.drain(..progress.consumed);
            consumed += progress.consumed;
            done = progress.done;
        }
        prop_assert!(done);
        prop_assert_eq!(consumed, wire.len());
        prop_assert_eq!(body, expected);
        prop_assert_eq!(decoder.trailers().unwrap(), Vec::new());
    }
}

/// What the socket property's server answers: the request as it saw it.
fn describe(w: &mut ResponseWriter, r: &mut Request) {
    let mut body = Vec::new();
    let _ = r.body().read_to_end(&mut body);
    let mut text = format!("{} {} {:?}\n", r.method(), r.request_uri(), r.version()).into_bytes();
    for (name, value) in r.header_fields() {
        text.extend_from_slice(name.as_bytes());
        text.extend_from_slice(b": ");
        text.extend_from_slice(value);
        text.push(b'\n');
    }
    text.extend_from_slice(format!("trailers {}\n", r.trailers().len()).as_bytes());
    text.extend_from_slice(&body);
    let _ = w.write_all(&text);
}

fn describe_expected(v: &Valid) -> Vec<u8> {
    let mut text = format!("{} {} {:?}\n", v.method, v.target, v.version).into_bytes();
    for (name, value) in &v.fields {
        text.extend_from_slice(format!("{name}: {value}\n").as_bytes());
    }
    text.extend_from_slice(format!("trailers {}\n", v.trailers.len()).as_bytes());
    text.extend_from_slice(&v.body);
    text
}

fn server() -> SocketAddr {
    static SERVER: OnceLock<SocketAddr> = OnceLock::new();
    *SERVER.get_or_init(|| {
        let running = util::start(Server::new(describe).threads(1));
        let addr = running.local_addr();
        std::mem::forget(running); // serves the whole test binary
        addr
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Over a real socket: pipelined valid requests written in pieces, a pause after each,
    /// are each answered with what the handler saw, which is what was sent.
    #[test]
    fn a_server_reads_split_requests_as_sent(
        requests in prop::collection::vec(valid(), 1..4),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let requests: Vec<Valid> = requests.into_iter().filter(|v| v.version == Version::HTTP_11).collect();
        let wire: Vec<u8> = requests.iter().flat_map(|v| v.wire.clone()).collect();
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
        cuts.sort_unstable();
        let mut client = util::connect(server());
        client.set_nodelay(true).unwrap();
        let mut from = 0;
        for cut in cuts.into_iter().chain([wire.len()]) {
            client.write_all(&wire[from..cut]).unwrap();
            from = cut;
            std::thread::sleep(Duration::from_millis(1));
        }
        let mut reader = BufReader::new(client);
        for v in &requests {
            let response = util::read_response(&mut reader, false).unwrap();
            prop_assert_eq!(response.status, 200);
            prop_assert_eq!(response.body, describe_expected(v));
        }
    }
}

/// A cookie value a `Cookie` field may carry (visible ASCII and space, but not `"`, `;`, `\`).
fn cookie_value() -> impl Strategy<Value = String> {
    "[ !#-+\\--:<-\\[\\]-~]{0,16}"
}

proptest! {
    /// Any name/value pairs (any text, `&`, `=`, `+`, `%` and non-ASCII included), encoded
    /// as a form, decode to the same pairs in the same order.
    #[test]
    fn an_encoded_form_decodes_to_its_pairs(
        pairs in prop::collection::vec((".{0,8}", ".{0,8}"), 0..8),
    ) {
        let mut values = nethttp::Values::new();
        for (name, value) in &pairs {
            values.add(name.clone(), value.clone());
        }
        let decoded = nethttp::parse_query(&values.encode()).unwrap();
        prop_assert_eq!(decoded, values);
    }

    /// A cookie written by `set_cookie`, as a client sends it back, is read as it was set:
    /// same name and value, quoted where it was or had to be.
    #[test]
    fn a_cookie_written_reads_back(
        cookies in prop::collection::vec((token(), cookie_value(), any::<bool>()), 1..5),
    ) {
        let line: Vec<String> = cookies.iter().map(|(name, value, quoted)| {
            let mut cookie = nethttp::Cookie::new(name.clone(), value.clone());
            cookie.quoted = *quoted;
            cookie.to_string()
        }).collect();
        let read = nethttp::fuzzing::read_cookies(&line.join("; "));
        prop_assert_eq!(read.len(), cookies.len());
        for (got, (name, value, quoted)) in read.iter().zip(&cookies) {
            prop_assert_eq!(&got.name, name);
            prop_assert_eq!(&got.value, value);
            let must_quote = value.contains([' ', ',']);
            prop_assert_eq!(got.quoted, !value.is_empty() && (*quoted || must_quote));
        }
    }
}

/// One generated form part: its field name, file name if a file, and content (bytes that
/// like to look like line breaks and delimiters).
fn form_part() -> impl Strategy<Value = (String, Option<String>, Vec<u8>)> {
    let content = prop::collection::vec(
        prop_oneof![any::<u8>(), Just(b'\r'), Just(b'\n'), Just(b'-')],
        0..200,
    );
    (token(), prop::option::of("[a-z0-9._]{1,12}"), content)
}

proptest! {
    /// Any form written as `multipart/form-data` (preamble and epilogue included), read in
    /// any pieces, gives back its parts as written.
    #[test]
    fn a_multipart_form_split_anywhere_reads_back(
        parts in prop::collection::vec(form_part(), 0..5),
        boundary in "[A-Za-z0-9]{6,20}",
        sizes in prop::collection::vec(1usize..40, 0..40),
    ) {
        let delimiter = format!("\r\n--{boundary}");
        for (_, _, content) in &parts {
            let text = [b"\r\n".as_slice(), content].concat();
            prop_assume!(!text.windows(delimiter.len()).any(|w| w == delimiter.as_bytes()));
        }
        let mut body = b"preamble\r\n".to_vec();
        for (name, file, content) in &parts {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes());
            if let Some(file) = file {
                body.extend_from_slice(format!("; filename=\"{file}\"").as_bytes());
            }
            body.extend_from_slice(b"\r\n\r\n");
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\nepilogue").as_bytes());
        let mut reader = nethttp::Multipart::new(Trickle::with_sizes(&body, sizes, usize::MAX), &boundary);
        let mut read = Vec::new();
        while let Some(mut part) = reader.next_part().unwrap() {
            let name = part.form_name().unwrap();
            let file = part.file_name();
            let mut content = Vec::new();
            part.read_to_end(&mut content).unwrap();
            read.push((name, file, content));
        }
        prop_assert_eq!(read, parts);
    }
}
