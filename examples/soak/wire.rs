//! Talking to the server: connecting with the run's timeouts, and a small strict reader for
//! one HTTP/1.1 response. Every client (`honest`, `abuse`, `probe`) and the shutdown check
//! in `server` read their answers with it.

use std::io::{self, BufRead, ErrorKind};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A well-formed request not answered within this is lost.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(60);

/// A loopback connection with `ANSWER_WITHIN` on connect, reads and writes, and Nagle off
/// (every client writes whole requests).
pub fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, ANSWER_WITHIN)?;
    stream.set_read_timeout(Some(ANSWER_WITHIN))?;
    stream.set_write_timeout(Some(ANSWER_WITHIN))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// One final response, as far as the clients check it.
pub struct Response {
    pub status: u16,
    /// The response said `Connection: close`.
    pub closes: bool,
    /// The body, de-chunked; empty for HEAD, 204 and 304.
    pub body: Vec<u8>,
}

/// Reads one final response (skipping `100 Continue`). `head` says the request was HEAD, so
/// no body follows whatever the framing fields say.
pub fn read_response(r: &mut impl BufRead, head: bool) -> io::Result<Response> {
    loop {
        let status_line = read_line(r)?;
        let status: u16 = status_line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| bad(format!("status line {status_line:?}")))?;
        let (mut length, mut chunked, mut closes) = (None, false, false);
        loop {
            let line = read_line(r)?;
            if line.is_empty() {
                break;
            }
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| bad(format!("field {line:?}")))?;
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = Some(value.parse::<usize>().map_err(|_| bad(line))?),
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "connection" => closes = value.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        if status == 100 {
            continue;
        }
        let mut body = Vec::new();
        if head || status == 204 || status == 304 {
        } else if chunked {
            read_chunked(r, &mut body)?;
        } else if let Some(n) = length {
            body.resize(n, 0);
            r.read_exact(&mut body)?;
        } else {
            r.read_to_end(&mut body)?;
        }
        return Ok(Response {
            status,
            closes,
            body,
        });
    }
}

/// Reads a chunked body onto `body`, through the last chunk and the empty trailer line.
fn read_chunked(r: &mut impl BufRead, body: &mut Vec<u8>) -> io::Result<()> {
    loop {
        let size = read_line(r)?;
        let size = usize::from_str_radix(&size, 16).map_err(|_| bad(size))?;
        if size == 0 {
            read_line(r)?;
            return Ok(());
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..])?;
        read_line(r)?;
    }
}

/// One line ended by CRLF (a bare LF is an error), without the CRLF.
fn read_line(r: &mut impl BufRead) -> io::Result<String> {
    let mut line = Vec::new();
    if r.read_until(b'\n', &mut line)? == 0 {
        return Err(ErrorKind::UnexpectedEof.into());
    }
    if !line.ends_with(b"\r\n") {
        return Err(io::Error::new(
            ErrorKind::InvalidData,
            "line not ended by CRLF",
        ));
    }
    line.truncate(line.len() - 2);
    String::from_utf8(line).map_err(|_| io::Error::new(ErrorKind::InvalidData, "not UTF-8"))
}

/// An `InvalidData` error saying what was wrong.
pub fn bad(what: String) -> io::Error {
    io::Error::new(ErrorKind::InvalidData, what)
}
