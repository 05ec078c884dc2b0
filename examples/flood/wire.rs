//! Talking to the server: connecting, and a strict reader of its answers.

use std::io::{self, BufRead, BufReader, ErrorKind, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Where a response body goes as it arrives, piece by piece.
pub(crate) type Sink<'a> = &'a mut dyn FnMut(&[u8]) -> io::Result<()>;

/// A connection with Nagle off, whose reads and writes each give up after `timeout`.
pub(crate) fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

pub(crate) fn other(message: impl Into<String>) -> io::Error {
    io::Error::other(message.into())
}

pub(crate) fn closed() -> io::Error {
    io::Error::new(ErrorKind::UnexpectedEof, "connection closed")
}

/// `e` as a failure reason: a socket timeout shows as `WouldBlock` on Unix.
pub(crate) fn describe(e: &io::Error) -> String {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => "timed out (--timeout-secs)".into(),
        _ => e.to_string(),
    }
}

/// `e` as a failure reason, after what was being done.
pub(crate) fn context(what: &str, e: &io::Error) -> io::Error {
    other(format!("{what}: {}", describe(e)))
}

/// What the clients need from a response head.
pub(crate) struct Head {
    pub(crate) status: u16,
    /// The body's Content-Length, unless it is chunked.
    pub(crate) length: Option<u64>,
    pub(crate) chunked: bool,
    /// The response said `Connection: close`.
    pub(crate) closes: bool,
}

/// Reads one final response head, skipping interim (1xx) ones.
pub(crate) fn read_head(r: &mut impl BufRead) -> io::Result<Head> {
    loop {
        let status_line = read_line(r)?;
        let status: u16 = (status_line.split(' ').nth(1))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| other(format!("bad status line {status_line:?}")))?;
        let (mut length, mut chunked, mut closes) = (None, false, false);
        loop {
            let line = read_line(r)?;
            if line.is_empty() {
                break;
            }
            let bad = || other(format!("bad header field {line:?}"));
            let (name, value) = line.split_once(':').ok_or_else(bad)?;
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = Some(value.parse().map_err(|_| bad())?),
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "connection" => closes = value.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        if !(100..200).contains(&status) {
            let length = length.filter(|_| !chunked);
            return Ok(Head {
                status,
                length,
                chunked,
                closes,
            });
        }
    }
}

/// One line without its line end; the connection closing first is an error.
pub(crate) fn read_line(r: &mut impl BufRead) -> io::Result<String> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(closed());
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Passes the body that `head` frames to `sink`, piece by piece as it arrives.
pub(crate) fn read_body(r: &mut impl BufRead, head: &Head, sink: Sink) -> io::Result<()> {
    match (head.length, head.chunked) {
        (Some(n), _) => return read_exactly(r, n, sink),
        (None, false) => return Err(other("neither Content-Length nor chunked")),
        (None, true) => {}
    }
    loop {
        let line = read_line(r)?;
        let size = (line.split(';').next())
            .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
            .ok_or_else(|| other(format!("bad chunk size line {line:?}")))?;
        if size == 0 {
            break;
        }
        read_exactly(r, size, sink)?;
        if !read_line(r)?.is_empty() {
            return Err(other("chunk data not followed by CRLF"));
        }
    }
    while !read_line(r)?.is_empty() {} // the trailer section
    Ok(())
}

pub(crate) fn read_exactly(r: &mut impl BufRead, mut n: u64, sink: Sink) -> io::Result<()> {
    while n > 0 {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Err(closed());
        }
        let len = n.min(buf.len() as u64) as usize;
        sink(&buf[..len])?;
        r.consume(len);
        n -= len as u64;
    }
    Ok(())
}

/// Sends `request` and reads the whole answer; its head.
pub(crate) fn exchange(conn: &mut BufReader<TcpStream>, request: &[u8]) -> io::Result<Head> {
    conn.get_mut().write_all(request)?;
    let head = read_head(conn)?;
    read_body(conn, &head, &mut |_| Ok(()))?;
    Ok(head)
}

/// One `GET /` and one small `POST {route}`, each on its own connection and answered 200,
/// so the server has run both paths once before its start RSS is read.
pub(crate) fn warm_up(addr: SocketAddr, route: &str, timeout: Duration) -> io::Result<()> {
    let requests = [
        "GET / HTTP/1.1\r\nHost: flood\r\nConnection: close\r\n\r\n".to_string(),
        format!("POST {route} HTTP/1.1\r\nHost: flood\r\nContent-Length: 4\r\nConnection: close\r\n\r\nwarm"),
    ];
    for request in &requests {
        let head = exchange(
            &mut BufReader::new(connect(addr, timeout)?),
            request.as_bytes(),
        )?;
        if head.status != 200 {
            let first_line = request.lines().next().unwrap_or_default();
            return Err(other(format!(
                "warm-up {first_line}: status {}",
                head.status
            )));
        }
    }
    Ok(())
}
