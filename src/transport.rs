//! What a connection reads and writes through: the socket itself, or a TLS session over
//! it (feature `tls`, `tls/session.rs`). The connection above (`conn/wire.rs`) sees
//! plaintext either way; this file says the few things in which the two differ.

use std::io::{self, Read, Write};
use std::net::Shutdown;

use crate::listener::Socket;
#[cfg(feature = "tls")]
use crate::tls::session::TlsStream;

/// A connection's byte stream.
#[derive(Debug)]
pub(crate) enum Transport {
    /// Plain HTTP: the socket.
    Plain(Socket),
    /// HTTPS: a TLS session over the socket.
    #[cfg(feature = "tls")]
    Tls(Box<TlsStream>),
}

impl Transport {
    /// The stream for an accepted socket: a TLS session if the server has a TLS
    /// configuration, else the socket itself.
    pub(crate) fn new(socket: Socket, config: &crate::config::Config) -> io::Result<Transport> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &config.tls {
            return Ok(Transport::Tls(Box::new(TlsStream::new(socket, tls)?)));
        }
        let _ = config;
        Ok(Transport::Plain(socket))
    }

    /// The socket, to register with the loop.
    pub(crate) fn source(&mut self) -> &mut Socket {
        match self {
            Transport::Plain(socket) => socket,
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.socket(),
        }
    }

    /// The TCP socket of a plain connection, which a blocking handler's thread may write
    /// to itself (`offload/turn.rs`); `None` over TLS (the session writes) or a Unix socket.
    pub(crate) fn plain_tcp(&self) -> Option<&mio::net::TcpStream> {
        match self {
            Transport::Plain(Socket::Tcp(socket)) => Some(socket),
            _ => None,
        }
    }

    /// A PROXY protocol header comes before anything else: over TLS, reads pass the
    /// socket's bytes as they are until [`end_proxy_header`](Transport::end_proxy_header).
    pub(crate) fn expect_proxy_header(&mut self) {
        #[cfg(feature = "tls")]
        if let Transport::Tls(tls) = self {
            tls.begin_raw();
        }
    }

    /// The PROXY header has been read; `leftover` came after it. Over TLS those bytes
    /// begin the handshake and go to the session (returns true: the caller drops them
    /// from its input); on a plain connection they are the first request (false).
    pub(crate) fn end_proxy_header(&mut self, leftover: &[u8]) -> io::Result<bool> {
        match self {
            Transport::Plain(_) => {
                let _ = leftover;
                Ok(false)
            }
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.end_raw(leftover).map(|()| true),
        }
    }

    /// After a read of `n` bytes into `room`: whether more may wait. A read shorter than
    /// its buffer drains a socket; over TLS, the session knows (a record's plaintext
    /// comes a piece at a time).
    pub(crate) fn may_hold_more(&self, n: usize, room: usize) -> bool {
        match self {
            Transport::Plain(_) => n == room,
            #[cfg(feature = "tls")]
            Transport::Tls(tls) if tls.is_raw() => n == room,
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => !tls.drained(),
        }
    }

    /// Bytes wait below the connection's output buffer (encrypted records the socket has
    /// not taken yet): the connection still has writing to do.
    pub(crate) fn has_backlog(&self) -> bool {
        match self {
            Transport::Plain(_) => false,
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.has_backlog(),
        }
    }

    /// Writes the backlog until done or the socket is full. Returns whether anything went.
    pub(crate) fn send_backlog(&mut self) -> io::Result<bool> {
        match self {
            Transport::Plain(_) => Ok(false),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.send_backlog(),
        }
    }

    /// The socket's descriptor on a plain connection, for `sendfile(2)`; `None` over TLS,
    /// where bytes must pass through the session.
    pub(crate) fn plain_fd(&self) -> Option<std::os::fd::RawFd> {
        match self {
            Transport::Plain(socket) => Some(socket.raw_fd()),
            #[cfg(feature = "tls")]
            Transport::Tls(_) => None,
        }
    }

    /// Bytes held below the connection for this stream, for the memory budget.
    pub(crate) fn footprint(&self) -> usize {
        match self {
            Transport::Plain(_) => 0,
            #[cfg(feature = "tls")]
            Transport::Tls(_) => crate::tls::session::FOOTPRINT,
        }
    }

    /// The connection is closing: a TLS session says `close_notify`.
    pub(crate) fn close(&mut self) {
        match self {
            Transport::Plain(_) => {}
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.close(),
        }
    }

    /// Shuts one or both directions down (after `close_notify` over TLS).
    pub(crate) fn shutdown(&mut self, how: Shutdown) -> io::Result<()> {
        match self {
            Transport::Plain(socket) => socket.shutdown(how),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.shutdown(how),
        }
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(socket) => socket.read(buf),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(socket) => socket.write(buf),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
