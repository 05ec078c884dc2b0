//! One TLS connection on the loop: rustls's sans-I/O `ServerConnection` over a
//! non-blocking socket, read and written as plaintext by the connection above it
//! (`transport.rs`, then `conn.rs`).
//!
//! # Life of a TLS connection
//!
//! 1. **Handshake.** Reads feed the socket's records to rustls; its answers (ServerHello,
//!    certificate, finished) wait in rustls's outgoing buffer (the *backlog*) until the
//!    connection's flush writes them. No plaintext comes out yet, so the connection's
//!    header timeout runs: a client that opens TLS and stalls is closed like a slowloris.
//! 2. **Traffic.** A read returns decrypted bytes, reading and decrypting more records
//!    only when rustls holds none; a write encrypts at most [`RECORD`] bytes at a time
//!    and sends the records at once, so at most one record's worth waits in the backlog
//!    whenever the socket is full.
//! 3. **Close.** A `close_notify` alert goes out before the socket closes, whenever the
//!    handshake finished.
//!
//! Errors: a record rustls refuses (a bad ClientHello, a wrong version, garbage) gets the
//! alert rustls queued for it and an `InvalidData` error that closes the connection. A
//! client that speaks plain HTTP to this port gets Go's answer first (`400`, "Client sent
//! an HTTP request to an HTTPS server.").

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::sync::Arc;

use rustls::{ServerConfig, ServerConnection};

use crate::error::{interrupted, would_block};
use crate::listener::Socket;

/// Plaintext bytes encrypted per write: one full TLS record (the protocol's maximum).
pub(crate) const RECORD: usize = 16 * 1024;

/// What a TLS session holds, counted against the memory budget: rustls's connection state
/// and its 4 KiB read buffer, which rustls keeps between reads. `benches/tls.sh` measured
/// an idle TLS connection's RSS at 8.1 KB (2026-12-05); the test
/// `idle_tls_sessions_count_against_the_memory_budget` checks that it is counted.
pub(crate) const FOOTPRINT: usize = 8 * 1024;

/// Go's answer to plain HTTP on a TLS port, written unencrypted before the close.
const PLAIN_HTTP_ANSWER: &[u8] =
    b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

/// At most this much of a plain HTTP request is read and dropped before its answer.
const PLAIN_HTTP_DRAIN: usize = 16 * 1024;

/// A TLS session over a connected socket.
pub(crate) struct TlsStream {
    socket: Socket,
    session: ServerConnection,
    /// The client's first bytes, read here before rustls sees them, so that plain HTTP
    /// is told from a TLS record header (rustls refuses a bad first byte at once).
    greeting: Greeting,
    /// The last read found the socket empty: its socket read, in the same call, was
    /// shorter than rustls asked for.
    socket_drained: bool,
    /// Decrypted bytes rustls holds that the connection has not read yet.
    plaintext: usize,
    /// Reads pass the socket's bytes as they are: a PROXY protocol header comes before
    /// the handshake (`Server::proxy_protocol`), and the connection reads it.
    raw: bool,
}

/// What the server knows of the client's first bytes.
enum Greeting {
    /// Fewer than five bytes read so far.
    Unseen { first: [u8; 5], len: u8 },
    /// Five bytes read that do not start plain HTTP: rustls reads everything now.
    Accepted,
}

impl TlsStream {
    /// A server session for `socket` under `config`.
    pub(crate) fn new(socket: Socket, config: &Arc<ServerConfig>) -> io::Result<TlsStream> {
        let session = ServerConnection::new(Arc::clone(config)).map_err(io::Error::other)?;
        Ok(TlsStream {
            socket,
            session,
            greeting: Greeting::Unseen {
                first: [0; 5],
                len: 0,
            },
            socket_drained: false,
            plaintext: 0,
            raw: false,
        })
    }

    /// Reads pass the socket's bytes until [`end_raw`](TlsStream::end_raw): a PROXY
    /// header comes first.
    pub(crate) fn begin_raw(&mut self) {
        self.raw = true;
    }

    /// Raw reads are over: `leftover`, what came after the PROXY header, is the start of
    /// the handshake. An error (plain HTTP, a record rustls refuses) closes the connection.
    pub(crate) fn end_raw(&mut self, leftover: &[u8]) -> io::Result<()> {
        self.raw = false;
        let Greeting::Unseen { first, len } = &mut self.greeting else {
            return Ok(());
        };
        let head = leftover.len().min(first.len());
        first[..head].copy_from_slice(&leftover[..head]);
        *len = head as u8;
        if head < first.len() {
            return Ok(()); // the rest of the first five bytes comes from the socket
        }
        let header = *first;
        if looks_like_http(&header) {
            let _ = self.socket.write(PLAIN_HTTP_ANSWER);
            let why = "client sent an HTTP request to an HTTPS server";
            return Err(io::Error::new(io::ErrorKind::InvalidData, why));
        }
        self.greeting = Greeting::Accepted;
        let mut rest = leftover;
        while !rest.is_empty() {
            if self.session.read_tls(&mut rest)? == 0 {
                break;
            }
            self.decrypt()?;
        }
        Ok(())
    }

    /// Whether reads pass the socket's bytes as they are (see `begin_raw`).
    pub(crate) fn is_raw(&self) -> bool {
        self.raw
    }

    /// The socket, to register with the loop.
    pub(crate) fn socket(&mut self) -> &mut Socket {
        &mut self.socket
    }

    /// Encrypted bytes wait to be written: the connection is not done writing.
    pub(crate) fn has_backlog(&self) -> bool {
        self.session.wants_write()
    }

    /// Writes the backlog until done or the socket is full (`WouldBlock`).
    pub(crate) fn send_backlog(&mut self) -> io::Result<bool> {
        let mut wrote = false;
        while self.session.wants_write() {
            match self.session.write_tls(&mut self.socket) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => wrote = true,
                Err(e) if interrupted(&e) => continue,
                Err(e) if would_block(&e) && wrote => return Ok(true),
                Err(e) => return Err(e),
            }
        }
        Ok(wrote)
    }

    /// Queues `close_notify` (once the handshake is done) and writes what the socket
    /// takes at once; the connection is closing, so nothing waits for the rest.
    pub(crate) fn close(&mut self) {
        if !self.session.is_handshaking() {
            self.session.send_close_notify();
            let _ = self.send_backlog();
        }
    }

    /// Sends `close_notify`, then shuts the socket down (`how`).
    pub(crate) fn shutdown(&mut self, how: Shutdown) -> io::Result<()> {
        self.close();
        self.socket.shutdown(how)
    }

    /// Reads records from the socket and decrypts them. `WouldBlock` once the socket is
    /// drained; an `InvalidData` error for a record rustls refuses.
    fn receive(&mut self) -> io::Result<()> {
        if let Greeting::Unseen { .. } = self.greeting {
            return self.greet();
        }
        let mut socket = Measured {
            socket: &mut self.socket,
            short: &mut self.socket_drained,
        };
        match self.session.read_tls(&mut socket) {
            Ok(_) => self.decrypt(),
            Err(e) if interrupted(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every byte that has come is read: the last socket read was short and rustls holds
    /// no plaintext. A read shorter than its buffer says nothing over TLS, so the
    /// connection asks this instead (`conn/wire.rs`).
    pub(crate) fn drained(&self) -> bool {
        self.socket_drained && self.plaintext == 0
    }

    /// Reads the client's first five bytes, the header of its first record, and judges
    /// them as Go does: plain HTTP gets its `400`, anything else goes to rustls.
    fn greet(&mut self) -> io::Result<()> {
        let Greeting::Unseen { first, len } = &mut self.greeting else {
            return Ok(());
        };
        let have = usize::from(*len);
        let n = match self.socket.read(&mut first[have..]) {
            Ok(n) => n,
            Err(e) if interrupted(&e) => return Ok(()),
            Err(e) => return Err(e),
        };
        *len += n as u8;
        let header = *first;
        if n == 0 {
            // The client left before its first record: rustls learns of the end of file.
            self.session.read_tls(&mut io::empty())?;
            return Ok(());
        }
        if usize::from(*len) < header.len() {
            return Ok(());
        }
        if looks_like_http(&header) {
            self.discard_waiting_input();
            let _ = self.socket.write(PLAIN_HTTP_ANSWER);
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "client sent an HTTP request to an HTTPS server",
            ));
        }
        self.greeting = Greeting::Accepted;
        self.session.read_tls(&mut &header[..])?;
        self.decrypt()
    }

    /// Reads and drops what the socket holds now (up to [`PLAIN_HTTP_DRAIN`] bytes): the
    /// rest of a plain HTTP request. Closed unread, it would make the kernel answer with a
    /// reset, which can reach the client before the `400` does.
    fn discard_waiting_input(&mut self) {
        let mut scratch = [0u8; 1024];
        let mut dropped = 0;
        while dropped < PLAIN_HTTP_DRAIN {
            match self.socket.read(&mut scratch) {
                Ok(0) => return,
                Ok(n) => dropped += n,
                Err(e) if interrupted(&e) => continue,
                Err(_) => return,
            }
        }
    }

    /// Decrypts what rustls has read. A record it refuses gets the alert it queued, and
    /// an error that closes the connection.
    fn decrypt(&mut self) -> io::Result<()> {
        match self.session.process_new_packets() {
            Ok(state) => {
                self.plaintext = state.plaintext_bytes_to_read();
                Ok(())
            }
            Err(refused) => {
                let _ = self.send_backlog();
                Err(io::Error::new(io::ErrorKind::InvalidData, refused))
            }
        }
    }
}

/// Go's test (`tlsRecordHeaderLooksLikeHTTP`): the first five bytes start a request line.
fn looks_like_http(first: &[u8]) -> bool {
    matches!(first, b"GET /" | b"HEAD " | b"POST " | b"PUT /" | b"OPTIO")
}

impl Read for TlsStream {
    /// Decrypted bytes: rustls's plaintext first, then more records from the socket.
    /// `Ok(0)` at the client's end (a `close_notify`, or its socket's end of file).
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.raw {
            return self.socket.read(buf);
        }
        // Only a socket read in this call can say the socket is drained: bytes may have
        // come since an earlier one (their readable edge is already spent).
        self.socket_drained = false;
        loop {
            match self.session.reader().read(buf) {
                Ok(n) => {
                    self.plaintext = self.plaintext.saturating_sub(n);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) if would_block(&e) => self.receive()?,
                Err(e) => return Err(e),
            }
        }
    }
}

impl Write for TlsStream {
    /// Encrypts and sends `buf` a record at a time while the socket takes the records. A
    /// short count (or `WouldBlock`, with nothing taken) means the socket is full and a
    /// record waits in the backlog.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.session.wants_write() && !self.send_backlog_all()? {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let mut taken = 0;
        while taken < buf.len() {
            let end = buf.len().min(taken + RECORD);
            let n = self.session.writer().write(&buf[taken..end])?;
            if n == 0 {
                break; // still handshaking: rustls buffers no plaintext for us
            }
            taken += n;
            if !self.send_backlog_all()? {
                break;
            }
        }
        if taken == 0 && !buf.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(taken)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl TlsStream {
    /// Writes the whole backlog; false if the socket filled first.
    fn send_backlog_all(&mut self) -> io::Result<bool> {
        match self.send_backlog() {
            Ok(_) => Ok(!self.session.wants_write()),
            Err(e) if would_block(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

impl std::fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsStream")
            .field("socket", &self.socket)
            .field("handshaking", &self.session.is_handshaking())
            .finish_non_exhaustive()
    }
}

/// The socket, noting whether a read was short.
struct Measured<'a> {
    socket: &'a mut Socket,
    short: &'a mut bool,
}

impl Read for Measured<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.socket.read(buf)?;
        *self.short = n < buf.len();
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::looks_like_http;

    #[test]
    fn plain_http_is_told_from_tls_records() {
        assert!(looks_like_http(b"GET /"));
        assert!(looks_like_http(b"OPTIO"));
        assert!(!looks_like_http(b"\x16\x03\x01\x02\x00"));
        assert!(!looks_like_http(b"GET"));
        assert!(!looks_like_http(b"DELET"));
    }
}
