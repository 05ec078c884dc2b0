//! Connections that change protocol: after a `101 Switching Protocols`, a [`Protocol`]
//! takes the connection over, on the loop that owned it.
//!
//! A handler calls [`ResponseWriter::upgrade`](crate::ResponseWriter::upgrade) with the
//! protocol's machine; once the handler returns, the `101` head goes out and every byte the
//! client sends from then on (those already read past the request first) goes to the
//! machine, which answers through the same connection. An upgraded connection costs what a
//! keep-alive one does: no thread, its read buffer given back whenever it is empty. Its
//! state, timers, memory budget and shutdown stay the server's: a graceful shutdown tells
//! each upgraded connection ([`Protocol::shutdown`]) and waits for it up to its deadline;
//! `close` ends it. [`websocket`](crate::websocket) (feature `websocket`) is one such
//! protocol.

use std::any::Any;

use crate::mem::Buffer;
use crate::offload::poke::Poke;

/// A protocol that has taken a connection over (Go's hijacked connection, kept on the
/// loop). Its methods run on the connection's loop, like an inline handler: they must not
/// block.
///
/// ```
/// use nethttp::upgrade::{Io, Protocol};
///
/// /// Sends every byte back, upper-cased, until the client sends `.`.
/// struct Shout;
///
/// impl Protocol for Shout {
///     fn read(&mut self, io: &mut Io<'_>) {
///         let input = io.input().to_ascii_uppercase();
///         io.consume(input.len());
///         io.write(&input);
///         if input.contains(&b'.') {
///             io.close();
///         }
///     }
/// }
/// ```
pub trait Protocol: Send + 'static {
    /// The connection is now this protocol's: the `101` head is queued, and what is
    /// written here follows it. Called once, before any [`read`](Protocol::read).
    fn start(&mut self, io: &mut Io<'_>) {
        let _ = io;
    }

    /// Bytes arrived: [`Io::input`] holds every byte not yet consumed. Take what forms a
    /// whole unit with [`Io::consume`]; the rest stays for the next call.
    fn read(&mut self, io: &mut Io<'_>);

    /// A graceful shutdown began. Say goodbye and [`close`](Io::close) when done; the
    /// server closes the connection at the shutdown's deadline in any case. By default,
    /// closes at once.
    fn shutdown(&mut self, io: &mut Io<'_>) {
        io.close();
    }

    /// Something the protocol waits for has moved: another thread called
    /// [`Waker::wake`] (say, it queued bytes for the client). By default, nothing.
    fn wake(&mut self, io: &mut Io<'_>) {
        let _ = io;
    }

    /// A value sent to every upgraded connection with
    /// [`Handle::notify_upgraded`](crate::Handle::notify_upgraded) (a broadcast). By
    /// default, ignored.
    fn notify(&mut self, io: &mut Io<'_>, value: &(dyn Any + Send + Sync)) {
        let _ = (io, value);
    }

    /// Bytes the protocol holds for this client (a message being assembled, say), counted
    /// against the server's memory budget.
    fn footprint(&self) -> usize {
        0
    }

    /// The connection has closed: the protocol's own close, the client leaving, an error,
    /// a deadline. When the server's `close` (or a shutdown's deadline) stops the loops,
    /// the protocol is dropped instead, without this call.
    fn closed(&mut self) {}
}

/// A protocol's view of its connection during one call: the bytes read, and the output.
#[derive(Debug)]
pub struct Io<'a> {
    input: &'a [u8],
    consumed: usize,
    output: &'a mut Buffer,
    /// Bytes at the start of `output` the socket has already taken.
    written: usize,
    closing: bool,
    waker: Option<&'a Poke>,
}

impl<'a> Io<'a> {
    pub(crate) fn new(input: &'a [u8], output: &'a mut Buffer, written: usize) -> Io<'a> {
        Io {
            input,
            consumed: 0,
            output,
            written,
            closing: false,
            waker: None,
        }
    }

    /// The same, with the connection's waker.
    pub(crate) fn with_waker(mut self, waker: Option<&'a Poke>) -> Io<'a> {
        self.waker = waker;
        self
    }

    /// A handle another thread can use to have [`Protocol::wake`] called on this
    /// connection's loop (`None` outside a server, as in tests).
    pub fn waker(&self) -> Option<Waker> {
        self.waker.map(|poke| Waker(poke.clone()))
    }

    /// The bytes read and not yet consumed.
    pub fn input(&self) -> &[u8] {
        &self.input[self.consumed..]
    }

    /// Marks the first `n` bytes of [`input`](Io::input) as used.
    pub fn consume(&mut self, n: usize) {
        self.consumed = (self.consumed + n).min(self.input.len());
    }

    /// Queues bytes for the client; they go out after the call, in order.
    pub fn write(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }

    /// Bytes queued for the client and not yet taken by the socket (after this call's
    /// writes): a protocol may stop producing while a slow client lets them pile up.
    pub fn queued(&self) -> usize {
        self.output.len() - self.written
    }

    /// Ends the connection once the queued output is written.
    pub fn close(&mut self) {
        self.closing = true;
    }

    /// How many input bytes were consumed, and whether the protocol closed.
    pub(crate) fn outcome(&self) -> (usize, bool) {
        (self.consumed, self.closing)
    }
}

/// Has [`Protocol::wake`] called on an upgraded connection's loop, from any thread.
#[derive(Clone, Debug)]
pub struct Waker(Poke);

impl Waker {
    /// Asks the loop to call the protocol's [`wake`](Protocol::wake) soon. Calls made
    /// before the loop gets to it may be answered by one call.
    pub fn wake(&self) {
        self.0.poke();
    }
}

/// A protocol on its way to its connection: from the handler's writer to the loop, which
/// gives it the connection's waker once it runs there.
pub(crate) struct Takeover(pub(crate) Box<dyn Protocol>, pub(crate) Option<Poke>);

impl std::fmt::Debug for Takeover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Takeover")
    }
}

/// What a protocol on the loop and a handler's thread share when they talk through
/// channels (a hijacked connection, a blocking WebSocket): the loop's waker, known once
/// the connection has switched, and the bytes waiting in the channels, for the budget.
#[derive(Debug, Default)]
pub(crate) struct Handoff {
    waker: std::sync::OnceLock<Waker>,
    /// Bytes waiting in the channels between the two sides.
    pub(crate) queued: std::sync::atomic::AtomicUsize,
}

impl Handoff {
    /// The connection has switched: the loop can be woken from now on.
    pub(crate) fn switched(&self, io: &Io<'_>) {
        if let Some(waker) = io.waker() {
            self.set_waker(waker);
        }
    }

    /// The loop's waker, from a protocol that has it (a WebSocket's `Sender`).
    pub(crate) fn set_waker(&self, waker: Waker) {
        let _ = self.waker.set(waker);
    }

    /// Has the protocol's `wake` called, once the connection has switched; before that,
    /// its `start` looks at the channels anyway.
    pub(crate) fn wake(&self) {
        if let Some(waker) = self.waker.get() {
            waker.wake();
        }
    }
}
