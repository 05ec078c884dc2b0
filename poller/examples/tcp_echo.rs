//! A TCP echo server on one thread, built on the poller.
//!
//! Try it:
//!
//! ```text
//! cargo run -p nethttp-poller --example tcp_echo        # or: ... --example tcp_echo -- 0.0.0.0:9000
//! nc 127.0.0.1 7007                             # in another terminal; type, and read it back
//! ```
//!
//! Everything the loop drives is one enum, [`Echo`]: the listening socket is one variant and
//! every accepted connection is the other. The loop calls a machine when its socket is ready
//! and when its deadline passes; each call does as much work as the kernel allows without
//! waiting, and returns.
//!
//! Three rules of edge-triggered readiness show up below:
//!
//! 1. **Drain until `WouldBlock`.** The kernel reports a socket once when it *becomes*
//!    readable. Bytes we leave unread produce no second report.
//! 2. **Keep what could not be written.** A write may take only part of the buffer. The rest
//!    waits in `pending` until the kernel reports the socket writable again.
//! 3. **Resume by yourself.** A connection stops reading while it has bytes pending (so a
//!    client that never reads cannot make us buffer without bound). When the writes catch up,
//!    it goes back to reading straight away: any "readable" report arrived while it was not
//!    listening, and will not be repeated.

use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use mio::net::{TcpListener, TcpStream};
use poller::{Cx, EventLoop, Interest, Machine, Next, Readiness};

/// Where to listen when no address is given on the command line.
const DEFAULT_ADDR: &str = "127.0.0.1:7007";

/// A connection that sends nothing for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// If `accept` fails for a reason other than "no more connections" (out of file descriptors,
/// say), the listener tries again after this pause.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// Bytes read per `read` call.
const READ_CHUNK: usize = 16 * 1024;

/// Every machine of this program.
enum Echo {
    /// The listening socket: accepts connections and spawns a `Conn` for each.
    Listener(TcpListener),
    /// One client connection.
    Conn(Conn),
}

/// The state of one connection.
struct Conn {
    stream: TcpStream,
    peer: SocketAddr,
    /// Bytes read but not yet written back, because the socket's send buffer was full.
    pending: Vec<u8>,
    /// The client closed its sending side (a read returned 0). We close once `pending` is out.
    eof: bool,
}

impl Machine for Echo {
    /// No other thread talks to this loop, so there are no messages.
    type Msg = ();
    /// Nothing is shared between machines either.
    type Local = ();

    fn start(&mut self, cx: &mut Cx<'_, Self>) -> Next {
        match self {
            Echo::Listener(listener) => {
                // New connections make a listener readable.
                if let Err(e) = cx.register(listener, Interest::READABLE) {
                    eprintln!("cannot register the listener: {e}");
                    return Next::Close;
                }
                Next::Continue
            }
            Echo::Conn(conn) => {
                // Register for both directions once. Edge-triggered, "writable" is reported
                // only when room *appears* in the send buffer, so there is no stream of
                // writable events while we have nothing to write.
                let interest = Interest::READABLE | Interest::WRITABLE;
                if let Err(e) = cx.register(&mut conn.stream, interest) {
                    eprintln!("{}: cannot register: {e}", conn.peer);
                    return Next::Close;
                }
                println!("{}: connected", conn.peer);
                // The idle clock starts now; every read pushes it back.
                cx.set_timer(cx.now() + IDLE_TIMEOUT);
                Next::Continue
            }
        }
    }

    fn ready(&mut self, cx: &mut Cx<'_, Self>, _readiness: Readiness) -> Next {
        // We do not need to look at `readiness`: a connection always tries to write what is
        // pending and then to read, and the kernel's `WouldBlock` tells it when to stop.
        // Events can be spurious anyway, so the flags are a hint, not a promise.
        match self {
            Echo::Listener(listener) => accept_all(listener, cx),
            Echo::Conn(conn) => conn.pump(cx),
        }
    }

    fn timeout(&mut self, cx: &mut Cx<'_, Self>) -> Next {
        match self {
            // The listener's only timer is the retry after a failed `accept`.
            Echo::Listener(listener) => accept_all(listener, cx),
            Echo::Conn(conn) => {
                println!("{}: idle for {IDLE_TIMEOUT:?}, closing", conn.peer);
                Next::Close
            }
        }
    }

    fn message(&mut self, _cx: &mut Cx<'_, Self>, _msg: ()) -> Next {
        Next::Continue
    }
}

/// Accepts every connection waiting in the listener's queue.
fn accept_all(listener: &mut TcpListener, cx: &mut Cx<'_, Echo>) -> Next {
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                // The new machine joins the loop as soon as this call returns; its `start`
                // registers the socket.
                cx.spawn(Echo::Conn(Conn {
                    stream,
                    peer,
                    pending: Vec::new(),
                    eof: false,
                }));
            }
            // The queue is empty: the next connection will make the listener readable again.
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Next::Continue,
            // A client that gave up before we accepted it, or a signal: try the next one.
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::ConnectionAborted | ErrorKind::Interrupted
                ) => {}
            Err(e) => {
                // Connections may still be queued, but we stopped before `WouldBlock`, so
                // the kernel will not report them again. Come back on a timer.
                eprintln!("accept failed: {e}; retrying in {ACCEPT_RETRY:?}");
                cx.set_timer(cx.now() + ACCEPT_RETRY);
                return Next::Continue;
            }
        }
    }
}

impl Conn {
    /// Moves bytes: writes out what is pending, then reads and echoes until the kernel says
    /// `WouldBlock` in one direction or the other.
    fn pump(&mut self, cx: &mut Cx<'_, Echo>) -> Next {
        let mut buf = [0u8; READ_CHUNK];
        loop {
            // Write first. While bytes are pending we do not read more (see rule 3 above).
            match self.flush() {
                Ok(true) => {}
                // The send buffer is full: wait for the writable event, which calls us again.
                Ok(false) => return Next::Continue,
                Err(e) => return self.fail("write", e),
            }
            // Everything has been echoed. If the client is done sending, so are we.
            if self.eof {
                println!("{}: closed by peer", self.peer);
                return Next::Close;
            }
            match self.stream.read(&mut buf) {
                // 0 bytes means end of file: the client shut down its side. Loop once more
                // to flush, then close.
                Ok(0) => self.eof = true,
                Ok(n) => {
                    self.pending.extend_from_slice(&buf[..n]);
                    // The client is alive: move the idle deadline later. That costs O(1).
                    cx.set_timer(cx.now() + IDLE_TIMEOUT);
                }
                // Drained: the next bytes will raise a new readable event.
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Next::Continue,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return self.fail("read", e),
            }
        }
    }

    /// Writes as much of `pending` as the socket takes. Returns `true` when nothing is left,
    /// `false` when the socket is full and the rest must wait for a writable event.
    fn flush(&mut self) -> io::Result<bool> {
        let mut written = 0;
        let result = loop {
            if written == self.pending.len() {
                break Ok(true);
            }
            match self.stream.write(&self.pending[written..]) {
                Ok(0) => break Err(ErrorKind::WriteZero.into()),
                // A partial write is normal: count it and offer the rest.
                Ok(n) => written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break Ok(false),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        // Keep only the bytes the kernel did not take.
        self.pending.drain(..written);
        result
    }

    /// Reports an I/O error and closes. Dropping the machine closes the socket.
    fn fail(&self, what: &str, e: io::Error) -> Next {
        println!("{}: {what} failed: {e}; closing", self.peer);
        Next::Close
    }
}

fn main() -> io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .as_deref()
        .unwrap_or(DEFAULT_ADDR)
        .parse()
        .map_err(|e| io::Error::new(ErrorKind::InvalidInput, e))?;
    let listener = TcpListener::bind(addr)?;
    // Print the address actually bound, so that port 0 shows the port the kernel chose.
    println!("listening on {}", listener.local_addr()?);

    let mut event_loop = EventLoop::new(())?;
    event_loop.insert(Echo::Listener(listener));
    // Nothing sends `stop`, so this serves until the process is killed.
    event_loop.run()
}
