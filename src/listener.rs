//! Where connections come from: a TCP or Unix-domain listener, possibly inherited from
//! systemd, and the matching connected socket type.
//!
//! Services behind nginx often listen on a Unix-domain socket, and services started by
//! systemd's socket activation receive their listener already bound, as descriptor 3.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr};
use std::os::fd::{FromRawFd, OwnedFd};
use std::time::Duration;

use mio::event::Source;
use mio::{Interest, Registry, Token};
use socket2::{Domain, Protocol, SockRef, Socket as RawSocket, TcpKeepalive, Type};

/// Queue length for connections not yet accepted when the system's cap cannot be read.
const DEFAULT_BACKLOG: i32 = 4096;

/// Binds and listens on the first of `addrs` that works (see [`crate::listen`]), with
/// `SO_REUSEPORT` if `reuse_port` (see [`crate::listen_reuse_port`]).
pub(crate) fn bind(addrs: &[SocketAddr], reuse_port: bool) -> io::Result<std::net::TcpListener> {
    let mut last = io::Error::new(io::ErrorKind::InvalidInput, "no address to listen on");
    for &addr in addrs {
        match bind_one(addr, reuse_port) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// A listening socket at `addr`: address reuse as `std` and Go set it, both IP versions
/// on an unspecified IPv6 address, and the system's longest accept queue.
fn bind_one(addr: SocketAddr, reuse_port: bool) -> io::Result<std::net::TcpListener> {
    let socket = RawSocket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(reuse_port)?;
    if addr.is_ipv6() && addr.ip().is_unspecified() {
        socket.set_only_v6(false)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(backlog())?;
    Ok(socket.into())
}

/// The system's cap on a listener's accept queue (Linux: `net.core.somaxconn`), as Go reads
/// it.
fn backlog() -> i32 {
    std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
        .filter(|&n| n > 0)
        .map_or(DEFAULT_BACKLOG, |n| n.min(65535))
}

/// A bound listener to [`serve`](crate::Server::serve): TCP or Unix-domain.
///
/// ```no_run
/// use std::os::unix::net::UnixListener;
/// # use nethttp::{Request, ResponseWriter, Server};
/// # let hello = |_: &mut ResponseWriter, _: &mut Request| {};
/// let listener = UnixListener::bind("/run/myapp.sock")?;
/// Server::new(hello).serve(listener)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub enum Listener {
    /// A TCP listener.
    Tcp(std::net::TcpListener),
    /// A Unix-domain stream listener. Requests from it report `0.0.0.0:0` as their
    /// remote address.
    Unix(std::os::unix::net::UnixListener),
}

impl From<std::net::TcpListener> for Listener {
    fn from(l: std::net::TcpListener) -> Listener {
        Listener::Tcp(l)
    }
}

impl From<std::os::unix::net::UnixListener> for Listener {
    fn from(l: std::os::unix::net::UnixListener) -> Listener {
        Listener::Unix(l)
    }
}

/// The first descriptor systemd passes (`SD_LISTEN_FDS_START`).
const SD_LISTEN_FDS_START: i32 = 3;

/// The listener systemd's socket activation passed to this process, if any
/// (`LISTEN_PID` is this process and `LISTEN_FDS` ≥ 1): descriptor 3, TCP or Unix-domain.
/// The variables are removed so that child processes do not take the socket too.
///
/// ```no_run
/// # use nethttp::{Request, ResponseWriter, Server};
/// # let hello = |_: &mut ResponseWriter, _: &mut Request| {};
/// let listener = match nethttp::systemd_listener()? {
///     Some(inherited) => inherited,
///     None => nethttp::listen(":8080")?.into(),
/// };
/// Server::new(hello).serve(listener)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn systemd_listener() -> io::Result<Option<Listener>> {
    let ours = std::env::var("LISTEN_PID").is_ok_and(|pid| pid == std::process::id().to_string());
    let count: u32 = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    if !ours || count == 0 {
        return Ok(None);
    }
    std::env::remove_var("LISTEN_PID");
    std::env::remove_var("LISTEN_FDS");
    std::env::remove_var("LISTEN_FDNAMES");
    // SAFETY: systemd hands this process descriptor 3 as an open, listening socket
    // (LISTEN_PID names us and LISTEN_FDS >= 1), and the variables are removed above, so
    // nothing else in the process takes ownership of it.
    let fd = unsafe { OwnedFd::from_raw_fd(SD_LISTEN_FDS_START) };
    let tcp = std::net::TcpListener::from(fd);
    if tcp.local_addr().is_ok() {
        return Ok(Some(Listener::Tcp(tcp)));
    }
    let unix = std::os::unix::net::UnixListener::from(OwnedFd::from(tcp));
    unix.local_addr()?; // neither TCP nor Unix-domain: refuse it
    Ok(Some(Listener::Unix(unix)))
}

/// The loop's listener, non-blocking.
#[derive(Debug)]
pub(crate) enum Listening {
    Tcp(mio::net::TcpListener),
    Unix(mio::net::UnixListener),
}

impl Listening {
    pub(crate) fn new(listener: Listener) -> io::Result<(Listening, SocketAddr)> {
        match listener {
            Listener::Tcp(l) => {
                l.set_nonblocking(true)?;
                let addr = l.local_addr()?;
                Ok((Listening::Tcp(mio::net::TcpListener::from_std(l)), addr))
            }
            Listener::Unix(l) => {
                l.set_nonblocking(true)?;
                let addr = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0));
                Ok((Listening::Unix(mio::net::UnixListener::from_std(l)), addr))
            }
        }
    }

    /// Accepts one connection, with TCP_NODELAY set on TCP ones, and keep-alive probes
    /// every `keep_alive` if given.
    pub(crate) fn accept(&self, keep_alive: Option<Duration>) -> io::Result<(Socket, SocketAddr)> {
        match self {
            Listening::Tcp(l) => {
                let (stream, peer) = l.accept()?;
                if let Err(e) = stream.set_nodelay(true) {
                    log::debug!("{peer}: TCP_NODELAY: {e}");
                }
                if let Some(every) = keep_alive {
                    let probes = TcpKeepalive::new().with_time(every).with_interval(every);
                    if let Err(e) = SockRef::from(&stream).set_tcp_keepalive(&probes) {
                        log::debug!("{peer}: SO_KEEPALIVE: {e}");
                    }
                }
                Ok((Socket::Tcp(stream), peer))
            }
            Listening::Unix(l) => {
                let (stream, _) = l.accept()?;
                Ok((
                    Socket::Unix(stream),
                    SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
                ))
            }
        }
    }

    pub(crate) fn source(&mut self) -> &mut dyn Source {
        match self {
            Listening::Tcp(l) => l,
            Listening::Unix(l) => l,
        }
    }
}

/// A connected socket: TCP or Unix-domain.
#[derive(Debug)]
pub(crate) enum Socket {
    Tcp(mio::net::TcpStream),
    Unix(mio::net::UnixStream),
}

impl Socket {
    /// The descriptor, for system calls `std` and mio do not offer (`sendfile`).
    pub(crate) fn raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        match self {
            Socket::Tcp(s) => s.as_raw_fd(),
            Socket::Unix(s) => s.as_raw_fd(),
        }
    }

    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => s.shutdown(how),
            Socket::Unix(s) => s.shutdown(how),
        }
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => s.read(buf),
            Socket::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => s.write(buf),
            Socket::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Source for Socket {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => s.register(registry, token, interest),
            Socket::Unix(s) => s.register(registry, token, interest),
        }
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => s.reregister(registry, token, interest),
            Socket::Unix(s) => s.reregister(registry, token, interest),
        }
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => s.deregister(registry),
            Socket::Unix(s) => s.deregister(registry),
        }
    }
}
