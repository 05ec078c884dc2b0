//! The streaming reader of a multipart body: delimiters, part headers, part content.

use std::fmt;
use std::io::{self, Read};

use super::disposition;
use crate::token::is_token_byte;

/// Bytes read from the body at a time; a header line or a delimiter line must fit.
const BUF: usize = 64 * 1024;

/// Most header lines in all the parts of one body (Go's 10,000).
const MAX_HEADERS: usize = 10_000;

/// Why a multipart body could not be read.
#[derive(Debug)]
pub enum MultipartError {
    /// The request is not `multipart/form-data` (Go's `ErrNotMultipart`).
    NotMultipart,
    /// The request is `multipart/form-data` without a `boundary` (Go's
    /// `ErrMissingBoundary`).
    MissingBoundary,
    /// The body is malformed: the text says how.
    Malformed(&'static str),
    /// The body ended inside a part, or before its last delimiter.
    Truncated,
    /// The form holds more than the memory allowed for it, or too many parts.
    TooLarge,
    /// Reading the body, or spilling a file to disk, failed.
    Io(io::Error),
}

impl fmt::Display for MultipartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MultipartError::NotMultipart => {
                f.write_str("request Content-Type isn't multipart/form-data")
            }
            MultipartError::MissingBoundary => {
                f.write_str("no multipart boundary param in Content-Type")
            }
            MultipartError::Malformed(what) => write!(f, "multipart: {what}"),
            MultipartError::Truncated => f.write_str("multipart: unexpected end of body"),
            MultipartError::TooLarge => f.write_str("multipart: message too large"),
            MultipartError::Io(e) => write!(f, "multipart: {e}"),
        }
    }
}

impl std::error::Error for MultipartError {}

impl From<MultipartError> for io::Error {
    fn from(e: MultipartError) -> io::Error {
        match e {
            MultipartError::Io(e) => e,
            MultipartError::Truncated => io::Error::new(io::ErrorKind::UnexpectedEof, e),
            e => io::Error::new(io::ErrorKind::InvalidData, e),
        }
    }
}

/// A `multipart/form-data` body, read part by part (Go's `multipart.Reader`).
///
/// ```no_run
/// use std::io::Read;
/// use nethttp::{Request, ResponseWriter};
///
/// fn upload(w: &mut ResponseWriter, r: &mut Request) {
///     let Ok(mut form) = r.multipart_reader() else {
///         return nethttp::error(w, "not a form", nethttp::http::StatusCode::BAD_REQUEST);
///     };
///     while let Ok(Some(mut part)) = form.next_part() {
///         let name = part.form_name().unwrap_or_default().to_string();
///         let size = std::io::copy(&mut part, &mut std::io::sink()).unwrap_or(0);
///         println!("{name}: {size} bytes");
///     }
/// }
/// ```
pub struct Multipart<R> {
    source: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    eof: bool,
    /// `--boundary`.
    dash_boundary: Vec<u8>,
    /// The line break the body uses: CRLF, or LF if its first delimiter line ends in LF.
    newline: &'static [u8],
    state: State,
    /// Some of the current part's content has been returned (or judged to be there).
    content_started: bool,
    headers_seen: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first delimiter line.
    Preamble,
    /// Inside a part's content.
    Content,
    /// Just after a delimiter line: a part's headers come next.
    Headers,
    /// After the last delimiter, or after an error.
    Done,
}

impl<R: Read> Multipart<R> {
    /// Reads the parts of `source`, delimited by `boundary` (the `boundary` parameter of
    /// the `Content-Type`).
    pub fn new(source: R, boundary: &str) -> Multipart<R> {
        Multipart {
            source,
            buf: Box::default(), // allocated at the first read
            start: 0,
            end: 0,
            eof: false,
            dash_boundary: [b"--", boundary.as_bytes()].concat(),
            newline: b"\r\n",
            state: State::Preamble,
            content_started: false,
            headers_seen: 0,
        }
    }

    /// The next part, its header read; `None` after the last one. The rest of the part
    /// before, if unread, is skipped.
    pub fn next_part(&mut self) -> Result<Option<Part<'_, R>>, MultipartError> {
        let result = self.advance();
        if result.is_err() {
            self.state = State::Done;
        }
        match result? {
            None => Ok(None),
            Some(headers) => Ok(Some(Part {
                multipart: self,
                headers,
            })),
        }
    }

    /// Skips to the next part's headers and reads them.
    fn advance(&mut self) -> Result<Option<Vec<(String, String)>>, MultipartError> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::Content => {
                    let mut sink = [0; 4096];
                    while self.read_content(&mut sink)? > 0 {}
                }
                State::Preamble => self.skip_preamble()?,
                State::Headers => return self.read_headers().map(Some),
            }
        }
    }

    /// Skips lines until the first delimiter line.
    fn skip_preamble(&mut self) -> Result<(), MultipartError> {
        loop {
            let line = self.line()?.ok_or(MultipartError::Truncated)?;
            if let Some(rest) = line.strip_prefix(&self.dash_boundary[..]) {
                if let Some(after) = rest.strip_prefix(b"--") {
                    if lwsp(after).is_empty() || lwsp(after) == b"\r\n" || lwsp(after) == b"\n" {
                        self.state = State::Done; // no parts at all
                        return Ok(());
                    }
                }
                match lwsp(rest) {
                    b"\r\n" => self.newline = b"\r\n",
                    b"\n" => self.newline = b"\n",
                    _ => continue, // a preamble line that merely starts like one
                }
                self.state = State::Headers;
                return Ok(());
            }
        }
    }

    /// Reads a part's header lines up to the blank line that ends them.
    fn read_headers(&mut self) -> Result<Vec<(String, String)>, MultipartError> {
        let mut headers: Vec<(String, String)> = Vec::new();
        loop {
            let line = self.line()?.ok_or(MultipartError::Truncated)?;
            let line = line
                .strip_suffix(b"\n")
                .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
                .ok_or(MultipartError::Truncated)?;
            if line.is_empty() {
                self.state = State::Content;
                self.content_started = false;
                return Ok(headers);
            }
            self.headers_seen += 1;
            if self.headers_seen > MAX_HEADERS {
                return Err(MultipartError::TooLarge);
            }
            let text = String::from_utf8_lossy(line);
            if text.starts_with([' ', '\t']) {
                // An obsolete folded line continues the previous field.
                let (_, value) = headers.last_mut().ok_or(MultipartError::Malformed(
                    "malformed MIME header initial line",
                ))?;
                // Joined with one space, as Go joins a logical line before trimming it.
                let joined = format!("{value} {}", text.trim());
                *value = joined.trim().to_string();
                continue;
            }
            let (name, value) = text
                .split_once(':')
                .ok_or(MultipartError::Malformed("malformed MIME header line"))?;
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return Err(MultipartError::Malformed("malformed MIME header line"));
            }
            headers.push((name.to_string(), value.trim().to_string()));
        }
    }

    /// Reads content of the current part into `out`; 0 at its end. At the end, the
    /// delimiter line is consumed and says what follows.
    fn read_content(&mut self, out: &mut [u8]) -> Result<usize, MultipartError> {
        if self.state != State::Content || out.is_empty() {
            return Ok(0);
        }
        let delimiter = [self.newline, &self.dash_boundary[..]].concat();
        loop {
            if !self.content_started {
                match self.empty_content()? {
                    Some(true) => return Ok(0),
                    Some(false) => self.content_started = true,
                    None => {
                        self.fill()?; // at the end of the body, the next look decides
                        continue;
                    }
                }
            }
            let avail = &self.buf[self.start..self.end];
            let (data, found) = scan(avail, &delimiter, self.eof);
            if data > 0 {
                let n = data.min(out.len());
                out[..n].copy_from_slice(&avail[..n]);
                self.start += n;
                return Ok(n);
            }
            if found {
                self.start += delimiter.len();
                self.after_delimiter()?;
                return Ok(0);
            }
            if !self.fill()? {
                return Err(MultipartError::Truncated);
            }
        }
    }

    /// At the start of a part's content: whether it is empty, its delimiter following the
    /// headers' blank line without a line break of its own (as Go allows). `None` if more
    /// bytes are needed to tell.
    fn empty_content(&mut self) -> Result<Option<bool>, MultipartError> {
        let avail = &self.buf[self.start..self.end];
        let boundary = &self.dash_boundary[..];
        if !avail.starts_with(boundary) {
            let undecided = boundary.starts_with(avail) && !self.eof;
            return Ok((!undecided).then_some(false));
        }
        let Some(is_delimiter) = ends_delimiter(&avail[boundary.len()..], self.eof) else {
            return Ok(None);
        };
        if is_delimiter {
            self.start += boundary.len();
            self.after_delimiter()?;
        }
        Ok(Some(is_delimiter))
    }

    /// After `--boundary`: `--` (the last part), or a line end (another part follows),
    /// either after optional spaces and tabs.
    fn after_delimiter(&mut self) -> Result<(), MultipartError> {
        let line = self.line()?.ok_or(MultipartError::Truncated)?;
        if let Some(after) = line.strip_prefix(b"--") {
            let rest = lwsp(after);
            if rest.is_empty() || rest == self.newline || rest == b"\r\n" {
                self.state = State::Done;
                return Ok(());
            }
        }
        if lwsp(&line) == self.newline {
            self.state = State::Headers;
            return Ok(());
        }
        Err(MultipartError::Malformed("expecting a new Part"))
    }

    /// The next line, its line end included (or the rest of the body, if it ends without
    /// one); `None` at the end of the body. A line longer than the buffer is malformed.
    fn line(&mut self) -> Result<Option<Vec<u8>>, MultipartError> {
        loop {
            let avail = &self.buf[self.start..self.end];
            if let Some(lf) = avail.iter().position(|&b| b == b'\n') {
                let line = avail[..=lf].to_vec();
                self.start += lf + 1;
                return Ok(Some(line));
            }
            if !self.buf.is_empty() && self.end - self.start == self.buf.len() {
                return Err(MultipartError::Malformed("line too long"));
            }
            if !self.fill()? {
                let rest = self.buf[self.start..self.end].to_vec();
                self.start = self.end;
                return Ok((!rest.is_empty()).then_some(rest));
            }
        }
    }

    /// Reads more of the body into the buffer, moving what is left to its front first.
    /// False at the end of the body.
    fn fill(&mut self) -> Result<bool, MultipartError> {
        if self.eof {
            return Ok(false);
        }
        if self.buf.is_empty() {
            self.buf = vec![0; BUF].into_boxed_slice();
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        loop {
            match self.source.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(MultipartError::Io(e)),
            }
        }
    }
}

/// One part of a multipart body: its header fields, and its content through `Read`.
pub struct Part<'a, R> {
    multipart: &'a mut Multipart<R>,
    headers: Vec<(String, String)>,
}

impl<R> Part<'_, R> {
    /// The part's header fields, in order, names as sent.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The first value of header field `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let (_, value) = self
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))?;
        Some(value)
    }

    /// The form field's name: the `name` parameter of a `Content-Disposition: form-data`
    /// (Go's `FormName`).
    pub fn form_name(&self) -> Option<String> {
        disposition::form_name(self.header("content-disposition")?)
    }

    /// The uploaded file's name, without any directory part (Go's `FileName`); `None` if
    /// the part is not a file.
    pub fn file_name(&self) -> Option<String> {
        disposition::file_name(self.header("content-disposition")?)
    }

    /// The part's `Content-Type`, if it has one.
    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }
}

impl<R: Read> Read for Part<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let result = self.multipart.read_content(out);
        if result.is_err() {
            self.multipart.state = State::Done;
        }
        Ok(result?)
    }
}

/// Where the content in `avail` ends: how many bytes are surely content, and whether a
/// delimiter follows them (see [`ends_delimiter`]). Bytes that may begin a delimiter whose
/// end has not arrived are held back, unless the body has ended (`eof`).
fn scan(avail: &[u8], delimiter: &[u8], eof: bool) -> (usize, bool) {
    let mut from = 0;
    while let Some(offset) = find(&avail[from..], delimiter) {
        let at = from + offset;
        match ends_delimiter(&avail[at + delimiter.len()..], eof) {
            Some(true) => return (at, true),
            Some(false) => from = at + 1,
            None => return (at, false), // wait for the bytes that decide
        }
    }
    (
        avail.len() - partial_suffix(&avail[from..], delimiter),
        false,
    )
}

/// Whether the bytes after a possible delimiter make it one, as Go's `matchAfterPrefix`
/// decides: a space, tab, CR or LF, or `--`, do (the line is checked once the part has
/// ended); anything else does not. `None` if more bytes are needed to tell.
fn ends_delimiter(rest: &[u8], eof: bool) -> Option<bool> {
    match rest {
        [] => eof.then_some(true),
        [b' ' | b'\t' | b'\r' | b'\n', ..] => Some(true),
        [b'-'] => eof.then_some(false),
        [b'-', b'-', ..] => Some(true),
        _ => Some(false),
    }
}

/// `s` without leading spaces and tabs.
fn lwsp(s: &[u8]) -> &[u8] {
    let skip = s.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    &s[skip..]
}

/// Where `needle` first occurs in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut from = 0;
    while let Some(offset) = hay[from..].iter().position(|&b| b == first) {
        let at = from + offset;
        if hay[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The length of the longest end of `hay` that `needle` begins with (bytes that may be the
/// start of a delimiter whose rest has not arrived).
fn partial_suffix(hay: &[u8], needle: &[u8]) -> usize {
    let longest = needle.len().saturating_sub(1).min(hay.len());
    (1..=longest)
        .rev()
        .find(|&n| needle.starts_with(&hay[hay.len() - n..]))
        .unwrap_or(0)
}
