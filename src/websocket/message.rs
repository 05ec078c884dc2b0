//! What an application sees of a WebSocket: whole [`Message`]s, its [`MessageHandler`],
//! the [`Sender`] it answers with, a [`Broadcast`], and the [`Limits`] on what a client
//! may send. The session (`session.rs`) drives them; `websocket.rs` tells the whole story.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use super::frame::{self, Opcode};
use crate::upgrade::Io;

/// The default limit on a message's size, and on a frame's.
pub const DEFAULT_MAX_MESSAGE: usize = 16 << 20;

/// A whole WebSocket message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message (valid UTF-8).
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
}

/// What an application does with a WebSocket's messages. Its methods run on the
/// connection's loop, like an inline handler: they must not block. Any
/// `FnMut(&mut Sender, Message)` is one.
pub trait MessageHandler: Send + 'static {
    /// The connection is open; the `101` is on its way. By default, nothing.
    fn open(&mut self, ws: &mut Sender<'_, '_>) {
        let _ = ws;
    }

    /// A whole message arrived.
    fn message(&mut self, ws: &mut Sender<'_, '_>, message: Message);

    /// The connection ended: with the close code and reason the client or the server sent,
    /// or `None` if it ended without a close frame. By default, nothing.
    fn close(&mut self, code: Option<u16>, reason: &str) {
        let _ = (code, reason);
    }

    /// A value sent with [`Handle::notify_upgraded`](crate::Handle::notify_upgraded) that is not a [`Broadcast`] (those
    /// are sent as they are). By default, ignored.
    fn notify(&mut self, ws: &mut Sender<'_, '_>, value: &(dyn Any + Send + Sync)) {
        let _ = (ws, value);
    }

    /// Another thread called the connection's [`Waker`](crate::upgrade::Waker) (see
    /// [`Sender::waker`]). By default, nothing.
    fn wake(&mut self, ws: &mut Sender<'_, '_>) {
        let _ = ws;
    }

    /// Bytes the handler holds for this connection (messages queued for another thread,
    /// say), counted against the server's memory budget. By default 0.
    fn footprint(&self) -> usize {
        0
    }
}

impl<F> MessageHandler for F
where
    F: FnMut(&mut Sender<'_, '_>, Message) + Send + 'static,
{
    fn message(&mut self, ws: &mut Sender<'_, '_>, message: Message) {
        self(ws, message)
    }
}

/// How a handler answers on its WebSocket: messages, pings and the close. What it sends
/// after the close is dropped.
pub struct Sender<'a, 'b> {
    io: &'a mut Io<'b>,
    closing: &'a mut Closing,
}

impl<'a, 'b> Sender<'a, 'b> {
    pub(crate) fn new(io: &'a mut Io<'b>, closing: &'a mut Closing) -> Sender<'a, 'b> {
        Sender { io, closing }
    }

    /// Sends a message.
    pub fn send(&mut self, message: &Message) {
        match message {
            Message::Text(text) => self.text(text),
            Message::Binary(bytes) => self.binary(bytes),
        }
    }

    /// Sends a text message.
    pub fn text(&mut self, text: &str) {
        self.frame(Opcode::Text, text.as_bytes());
    }

    /// Sends a binary message.
    pub fn binary(&mut self, bytes: &[u8]) {
        self.frame(Opcode::Binary, bytes);
    }

    /// Sends a ping (at most 125 bytes of `payload` are sent).
    pub fn ping(&mut self, payload: &[u8]) {
        self.frame(Opcode::Ping, &payload[..payload.len().min(125)]);
    }

    /// Starts the closing handshake with `code` (1000 for a normal close; 3000–4999 for the
    /// application's own) and `reason`; the connection ends when the client answers.
    pub fn close(&mut self, code: u16, reason: &str) {
        if *self.closing == Closing::Open {
            send_close(self.io, code, reason);
            *self.closing = Closing::Sent;
        }
    }

    /// Bytes queued for this client that its socket has not taken: a slow client makes it
    /// grow, and a handler may skip messages for it.
    pub fn queued(&self) -> usize {
        self.io.queued()
    }

    /// A handle another thread can use to have [`MessageHandler::wake`] called on this
    /// connection's loop (`None` outside a server).
    pub fn waker(&self) -> Option<crate::upgrade::Waker> {
        self.io.waker()
    }

    /// Messages may still be sent: no close has been sent or received.
    pub fn is_open(&self) -> bool {
        *self.closing == Closing::Open
    }

    fn frame(&mut self, opcode: Opcode, payload: &[u8]) {
        if self.is_open() {
            let mut frame = Vec::with_capacity(frame::framed_len(payload.len()));
            frame::write(&mut frame, opcode, payload);
            self.io.write(&frame);
        }
    }
}

impl fmt::Debug for Sender<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("closing", &self.closing)
            .finish()
    }
}

/// One message for every WebSocket of a server, encoded once: pass it to
/// [`Handle::notify_upgraded`](crate::Handle::notify_upgraded), or call [`broadcast`](super::broadcast).
#[derive(Debug, Clone)]
pub struct Broadcast {
    pub(crate) frame: Arc<[u8]>,
}

impl Broadcast {
    /// The message, framed.
    pub fn new(message: &Message) -> Broadcast {
        let (opcode, payload) = match message {
            Message::Text(text) => (Opcode::Text, text.as_bytes()),
            Message::Binary(bytes) => (Opcode::Binary, bytes.as_slice()),
        };
        let mut frame = Vec::with_capacity(frame::framed_len(payload.len()));
        frame::write(&mut frame, opcode, payload);
        Broadcast {
            frame: frame.into(),
        }
    }
}

/// Limits on what a client may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest message, fragments joined (default [`DEFAULT_MAX_MESSAGE`]).
    pub max_message: usize,
    /// The largest single frame (default [`DEFAULT_MAX_MESSAGE`]).
    pub max_frame: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_message: DEFAULT_MAX_MESSAGE,
            max_frame: DEFAULT_MAX_MESSAGE,
        }
    }
}

/// Where the closing handshake stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Closing {
    /// Messages flow both ways.
    Open,
    /// This side sent its close frame and waits for the client's.
    Sent,
    /// Done: whatever else arrives is dropped.
    Done,
}

/// Queues one server frame.
pub(crate) fn send(io: &mut Io<'_>, opcode: Opcode, payload: &[u8]) {
    let mut frame = Vec::with_capacity(frame::framed_len(payload.len()));
    frame::write(&mut frame, opcode, payload);
    io.write(&frame);
}

/// Queues a close frame with `code` and `reason`.
pub(crate) fn send_close(io: &mut Io<'_>, code: u16, reason: &str) {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(&reason.as_bytes()[..reason.len().min(123)]);
    send(io, Opcode::Close, &payload);
}
